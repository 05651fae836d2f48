// SPDX-License-Identifier: Apache-2.0
// A partition: an isolated guest with its own memory, second-level tables, vCPUs (one per
// physical CPU it runs on), port-I/O devices and lifecycle. Stopping one never affects others.
#ifndef KERNEL_PARTITION_H
#define KERNEL_PARTITION_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/mm.h"
#include "kernel/percpu.h"
#include "kernel/s2pt.h"
#include "kernel/spinlock.h"
#include "kernel/vcpu.h"
#include "kernel/vuart.h"
#include "kernel/vpci.h"
#include "kernel/config.h"
#include "kernel/mmio.h"
#include "kernel/shmem.h"

#define PART_NAME_MAX  32
#define PART_ARGS_MAX  128
#define PART_IO_MAX    8
#define PART_REASON_MAX 192
#define PART_PASS_IO_MAX (1 + CONFIG_PCI_MAX * 6) /* a UART and every BAR of every device */

enum guest_mode { GUEST_MODE_LONG64, GUEST_MODE_PROT32, GUEST_MODE_REAL };
enum part_state { PART_CREATED, PART_RUNNING, PART_STOPPED };

struct partition;

/* A host PCI function assigned to the partition (kernel/vdev_assign.c). */
struct assigned_fn {
    uint8_t bus, dev, fn;  /* on the host */
    uint8_t devfn;         /* on the partition's bus */
    uint16_t host_command; /* as Moat found it */
};

/* A port-I/O device: `io` handles one access of `size` bytes at `port` (inside its range);
 * for reads it stores the value in *val. */
struct io_device {
    uint16_t base, count;
    void (*io)(struct vcpu *v, struct io_device *d, uint16_t port, uint8_t size, bool in,
               uint32_t *val);
    void *ctx;
};

struct partition {
    char name[PART_NAME_MAX];
    char args[PART_ARGS_MAX];
    uint32_t slot;                 /* index in the configuration, also its scheduler id */
    enum guest_mode mode;
    uint64_t load, entry;          /* guest-physical: where the image went, where it starts */
    volatile enum part_state state;
    struct spinlock lock;          /* guards state changes and the stop record */
    hpa_t mem_hpa;                 /* RAM: [0, mem_size) guest-physical at mem_hpa */
    uint64_t mem_size;
    struct s2pt s2;
    uint32_t vcpu_count;
    struct vcpu *vcpus[MAX_CPUS];
    volatile uint32_t vcpus_active; /* vCPUs not yet retired by their CPUs */
    volatile uint32_t vcpus_ready;  /* vCPUs whose control structures exist */
    uint64_t overhead_bytes;        /* what Moat holds for it besides its memory */
    struct io_device io[PART_IO_MAX];
    uint32_t io_count;
    bool has_com1;                  /* a virtual UART (serial = virtual) */
    struct { uint16_t base, count; } pass_io[PART_PASS_IO_MAX]; /* ports the guest owns: a
                                      passed-through UART, assigned devices' I/O BARs */
    uint32_t pass_io_n;
    struct assigned_fn assigned[CONFIG_PCI_MAX]; /* assigned PCI functions (kernel/vdev_assign.c) */
    uint32_t assigned_n;
    struct spinlock com_lock;       /* serialises the vCPUs' accesses to com1 */
    struct vuart com1;              /* the partition's COM1 (kernel/vmexit.c) */
    struct spinlock pci_lock;       /* serialises config cycles on pci */
    struct vpci_bus pci;            /* the partition's PCI bus 0 (kernel/vpci.c) */
    struct mmio_bus mmio;           /* devices at guest-physical addresses (kernel/mmio.h) */
    struct ivshmem_link ivshmem[CONFIG_LINKS_MAX]; /* one per linked region (kernel/vdev_pci.c) */
    uint32_t ivshmem_count;
    bool exited;                    /* every vCPU left through the exit hypercall */
    int64_t exit_status;            /* the status vCPU 0 passed (0 = success) */
    char stop_reason[PART_REASON_MAX];
};

/* The guest-physical layout of a partition's boot structures (docs/guest-abi.md). */
#define GUEST_GDT_GPA    0x1000ull
#define GUEST_PML4_GPA   0x2000ull
#define GUEST_PDPT_GPA   0x3000ull
#define GUEST_PD_GPA     0x4000ull /* 4 pages: 4 GiB of 2 MiB pages */
#define GUEST_ARGS_GPA   0x8000ull
#define GUEST_LOAD_GPA   0x100000ull
#define GUEST_REAL_LOAD_GPA 0x10000ull
#define GUEST_STACK_PER_VCPU 0x4000ull
#define GUEST_REAL_STACK_TOP 0xf000ull /* real mode: vCPU i's stack ends at top - i * 0x200 */
#define GUEST_REAL_STACK_PER_VCPU 0x200ull
#define GUEST_REAL_LIMIT     0x100000ull /* what real-mode code can address */

/* Build partition `slot` of the configuration from c: carve its memory (at c->base when
 * given) and zero it, load the image (flat at c->load, or ELF segments), write the argument
 * string, build the second-level tables and one vCPU per CPU in c->cpus (their control
 * structures are made later, by the CPU that runs each). Returns NULL with a sentence in why;
 * then nothing is left allocated. */
struct partition *partition_create(const struct config_partition *c, uint32_t slot,
                                   const void *image, uint64_t image_size, char *why,
                                   size_t why_len);
/* Stop p (first reason wins, printed once); CPUs running its vCPUs are kicked out. */
void partition_stop(struct partition *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* p has work (console input, ...): its halted vCPUs run again at their CPUs' next pass. */
void partition_wake(struct partition *p);
/* Release p's memory (scrubbed first), tables and vCPUs. No vCPU of p may be running. */
void partition_destroy(struct partition *p);
/* Give p a virtual 16550A at `port` whose output goes to the console, prefixed with p's name. */
bool vdev_attach_console(struct partition *p, uint16_t port);
/* Give p its own PCI bus 0 at 0xCF8/0xCFC: a host bridge at 00:00.0 and nothing else yet. */
bool vdev_attach_pci(struct partition *p);
/* Register a port-I/O device. */
bool partition_add_io(struct partition *p, const struct io_device *d);
/* kernel/vdev_pci.c: p's PCI bus also through ECAM MMIO at GUEST_ECAM_GPA; and one ivshmem
 * function per shared-memory region c links, its memory mapped into p's stage-2 tables (which
 * must exist). vdev_attach_ivshmem returns false with a sentence in why; either way
 * vdev_detach_ivshmem (from partition_destroy) drops the regions it took. */
bool vdev_attach_ecam(struct partition *p);
bool vdev_attach_ivshmem(struct partition *p, const struct config_partition *c, char *why,
                         size_t why_len);
void vdev_detach_ivshmem(struct partition *p);
/* kernel/vdev_assign.c: the host PCI functions c assigns, on p's bus from 00:10.0 with their
 * BARs fixed at their host addresses, memory BARs mapped (uncached) into p's stage-2 tables
 * and I/O BARs opened in its I/O bitmaps. Returns false with a sentence in why; either way
 * vdev_unassign (from partition_destroy) turns the devices' decoding and DMA off. */
bool vdev_assign(struct partition *p, const struct config_partition *c, char *why, size_t why_len);
void vdev_unassign(struct partition *p);

/* Guest memory access by guest-physical address, bounds-checked against the RAM range:
 * guest_phys_ptr gives the host pointer to [gpa, gpa + len), or NULL if that is not all RAM. */
void *guest_phys_ptr(const struct partition *p, uint64_t gpa, uint64_t len);
bool guest_phys_read(struct partition *p, uint64_t gpa, void *buf, uint64_t len);
bool guest_phys_write(struct partition *p, uint64_t gpa, const void *buf, uint64_t len);

/* The architectural start state of vCPU `id` for p's entry mode (kernel/guest_entry.c), and
 * the guest-memory structures that mode needs (page tables, GDT). */
void guest_entry_build(struct partition *p, uint32_t id, struct guest_entry_state *st);
void guest_entry_prepare_memory(struct partition *p);
#endif
