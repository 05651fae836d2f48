// SPDX-License-Identifier: Apache-2.0
// Partition lifecycle: memory carved from the frame allocator and zeroed, the image loaded,
// second-level tables built from a one-range generic map; vCPUs run on their CPUs; a stop by
// any vCPU (or the hypervisor) kicks the others out of guest mode with an IPI.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kernel/partition.h"
#include "kernel/console.h"
#include "kernel/guest_layout.h"
#include "kernel/panic.h"
#include "kernel/smp.h"
#include "kernel/virt_core.h"
#include "common/elf.h"

#define PART_MEM_ALIGN (2 * MIB) /* lets the stage-2 builder use 2 MiB pages */

static uint64_t s2_alloc_page(void *ctx)
{
    uint64_t pa = frames_alloc(1, PAGE_SIZE, 0);
    if (pa == PMM_NONE)
        return S2PT_NO_PAGE;
    memset(hpa_to_ptr(pa), 0, PAGE_SIZE);
    return pa;
}

static void s2_free_page(void *ctx, uint64_t hpa)
{
    frames_free(hpa, 1);
}

static void *s2_phys_to_virt(void *ctx, uint64_t hpa)
{
    return hpa_to_ptr(hpa);
}

static const struct s2pt_alloc s2_alloc = { s2_alloc_page, s2_free_page, s2_phys_to_virt, NULL };

void *guest_phys_ptr(const struct partition *p, uint64_t gpa, uint64_t len)
{
    if (gpa > p->mem_size || len > p->mem_size - gpa)
        return NULL;
    return hpa_to_ptr(p->mem_hpa + gpa);
}

bool guest_phys_read(struct partition *p, uint64_t gpa, void *buf, uint64_t len)
{
    const void *src = guest_phys_ptr(p, gpa, len);
    if (!src)
        return false;
    memcpy(buf, src, len);
    return true;
}

bool guest_phys_write(struct partition *p, uint64_t gpa, const void *buf, uint64_t len)
{
    void *dst = guest_phys_ptr(p, gpa, len);
    if (!dst)
        return false;
    memcpy(dst, buf, len);
    return true;
}

bool partition_add_io(struct partition *p, const struct io_device *d)
{
    if (p->io_count >= PART_IO_MAX)
        return false;
    p->io[p->io_count++] = *d;
    return true;
}

static void fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* Zeroed pages for one of the partition's structures, or NULL with a sentence in why. */
static void *zalloc(uint64_t pages, const char *what, char *why, size_t why_len)
{
    hpa_t pa = frames_alloc(pages, PAGE_SIZE, 0);
    if (pa == PMM_NONE) {
        fail(why, why_len, "out of memory for %s", what);
        return NULL;
    }
    memset(hpa_to_ptr(pa), 0, pages * PAGE_SIZE);
    return hpa_to_ptr(pa);
}

/* Where an ELF segment goes: guest RAM above the boot structures (docs/guest-abi.md). */
static void *elf_map_guest(uint64_t paddr, uint64_t len, void *ctx)
{
    if (paddr < GUEST_ARGS_GPA + PAGE_SIZE)
        return NULL;
    return guest_phys_ptr(ctx, paddr, len);
}

static const enum guest_mode config_modes[] = {
    [CONFIG_MODE_LONG64] = GUEST_MODE_LONG64,
    [CONFIG_MODE_PROT32] = GUEST_MODE_PROT32,
    [CONFIG_MODE_REAL] = GUEST_MODE_REAL,
};

/* Put the image in guest memory and set p->load and p->entry. */
static bool load_image(struct partition *p, const struct config_partition *c, const void *image,
                       uint64_t size, char *why, size_t why_len)
{
    if (c->kind == CONFIG_KIND_ELF) {
        struct elf_info info;
        int rc = elf_load(image, size, elf_map_guest, p, &info);
        if (rc != 0) {
            fail(why, why_len, "ELF image %s: %s (segments must lie in its memory above 0x%llx)",
                 c->image, elf_strerror(rc), GUEST_ARGS_GPA + PAGE_SIZE);
            return false;
        }
        p->load = info.load_lo;
        p->entry = info.entry_phys;
        return true;
    }
    /* Flat: [load, load + size) must miss the boot structures and the vCPU stacks; in real
     * mode it must lie in the first MiB, above the stacks, with the entry in its segment. */
    bool real = p->mode == GUEST_MODE_REAL;
    uint64_t low = real ? GUEST_REAL_STACK_TOP : GUEST_ARGS_GPA + PAGE_SIZE;
    uint64_t top = real ? GUEST_REAL_LIMIT : p->mem_size - (uint64_t)p->vcpu_count * GUEST_STACK_PER_VCPU;
    if (top > p->mem_size)
        top = p->mem_size;
    if (c->load < low || c->load > top || size > top - c->load) {
        fail(why, why_len, "image of %lu bytes does not fit at 0x%lx: it must lie in "
             "[0x%lx, 0x%lx) of the partition's memory", size, c->load, low, top);
        return false;
    }
    if (real && (c->load % 16 || c->entry < c->load || c->entry - c->load > 0xffff)) {
        fail(why, why_len, "real mode: load 0x%lx must be a multiple of 16 and entry 0x%lx within "
             "64 KiB above it", c->load, c->entry);
        return false;
    }
    memcpy(hpa_to_ptr(p->mem_hpa + c->load), image, size);
    p->load = c->load;
    p->entry = c->entry;
    return true;
}

static bool make_vcpus(struct partition *p, const struct config_partition *c, char *why,
                       size_t why_len)
{
    uint64_t pages = (sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE;
    for (uint32_t cpu = 0; cpu < CONFIG_CPUS_MAX; cpu++) {
        if (!(c->cpus[cpu / 64] >> (cpu % 64) & 1))
            continue;
        if (cpu >= cpu_count || !percpu_of[cpu]->online || !percpu_of[cpu]->virt_ready) {
            fail(why, why_len, "CPU %u is not online with virtualization enabled", cpu);
            return false;
        }
        struct vcpu *v = zalloc(pages, "its vCPUs", why, why_len);
        if (!v)
            return false;
        v->part = p;
        v->id = p->vcpu_count;
        v->cpu = percpu_of[cpu];
        /* The FPU state after FNINIT with SSE exceptions masked (SDM vol. 1 8.1.5, 10.2.3). */
        v->fpu[0] = 0x7f, v->fpu[1] = 0x03;                      /* FCW 0x037f */
        v->fpu[24] = 0x80, v->fpu[25] = 0x1f;                    /* MXCSR 0x1f80 */
        v->dr6 = 0xffff0ff0;                                     /* DR6 at reset (18.2.3) */
        p->vcpus[p->vcpu_count++] = v;
        p->overhead_bytes += pages * PAGE_SIZE;
    }
    return true;
}

struct partition *partition_create(const struct config_partition *c, uint32_t slot,
                                   const void *image, uint64_t image_size, char *why,
                                   size_t why_len)
{
    uint64_t mem_size = c->memory;
    if (mem_size % PART_MEM_ALIGN || mem_size < 4 * MIB) {
        fail(why, why_len, "memory size must be a multiple of 2 MiB and at least 4 MiB");
        return NULL;
    }
    if (mem_size > GUEST_RAM_LIMIT) {
        fail(why, why_len, "%lu MiB of memory would overlap the PCI ECAM window at guest-physical "
             "0x%llx: a partition has at most %llu MiB", mem_size / MIB, GUEST_ECAM_GPA,
             GUEST_RAM_LIMIT / MIB);
        return NULL;
    }
    uint64_t pages = (sizeof(struct partition) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct partition *p = zalloc(pages, "the partition descriptor", why, why_len);
    if (!p)
        return NULL;
    uint64_t pa = ptr_to_hpa(p);
    snprintf(p->name, sizeof(p->name), "%s", c->name);
    snprintf(p->args, sizeof(p->args), "%s", c->cmdline);
    p->slot = slot;
    p->mode = config_modes[c->mode];
    p->state = PART_CREATED;
    p->overhead_bytes = pages * PAGE_SIZE;

    if (c->has_base) {
        if (c->base % PART_MEM_ALIGN || !frames_reserve(c->base, mem_size / PAGE_SIZE)) {
            fail(why, why_len, "host-physical 0x%lx-0x%lx is not free RAM aligned to 2 MiB",
                 c->base, c->base + mem_size - 1);
            frames_free(pa, pages);
            return NULL;
        }
        p->mem_hpa = c->base;
    } else {
        p->mem_hpa = frames_alloc(mem_size / PAGE_SIZE, PART_MEM_ALIGN, 0);
        if (p->mem_hpa == PMM_NONE) {
            fail(why, why_len, "needs %lu MiB but the largest free block is %lu MiB",
                 mem_size / MIB, frames_largest_free() / MIB);
            frames_free(pa, pages);
            return NULL;
        }
    }
    p->mem_size = mem_size;
    memset(hpa_to_ptr(p->mem_hpa), 0, mem_size);
    if (!make_vcpus(p, c, why, why_len) || !load_image(p, c, image, image_size, why, why_len)) {
        partition_destroy(p);
        return NULL;
    }
    if (c->serial == CONFIG_SERIAL_PASSTHROUGH) {
        /* The host UART's 8 ports go to the guest unfiltered; Moat never touches that UART
         * (config_validate keeps the console off it). */
        p->pass_io[p->pass_io_n].base = c->serial_port;
        p->pass_io[p->pass_io_n++].count = 8;
    }
    p->has_com1 = c->serial == CONFIG_SERIAL_VIRTUAL;
    if ((p->has_com1 && !vdev_attach_console(p, c->serial_port)) || !vdev_attach_pci(p)) {
        fail(why, why_len, "no room for its devices");
        partition_destroy(p);
        return NULL;
    }
    memcpy(hpa_to_ptr(p->mem_hpa + GUEST_ARGS_GPA), p->args, strlen(p->args) + 1);
    guest_entry_prepare_memory(p);

    struct gpa_range ram = { 0, p->mem_hpa, mem_size, GPA_RWX, GPA_MT_WB };
    int rc = s2pt_init(&p->s2, &virt_s2_format, &s2_alloc);
    if (rc == 0)
        rc = s2pt_map(&p->s2, &virt_s2_format, &ram);
    if (rc != 0) {
        fail(why, why_len, "second-level tables: %s", s2pt_strerror(rc));
        partition_destroy(p);
        return NULL;
    }
    bool ecam = vdev_attach_ecam(p);
    if (!ecam)
        fail(why, why_len, "no room for its devices");
    if (!ecam || !vdev_attach_ivshmem(p, c, why, why_len) || !vdev_assign(p, c, why, why_len)) {
        partition_destroy(p);
        return NULL;
    }
    p->overhead_bytes += s2pt_table_pages(&p->s2) * PAGE_SIZE;
    return p;
}

void partition_destroy(struct partition *p)
{
    for (uint32_t i = 0; i < p->vcpu_count; i++) {
        if (p->vcpus[i]) {
            virt->vcpu_destroy(p->vcpus[i]);
            frames_free(ptr_to_hpa(p->vcpus[i]), (sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE);
        }
    }
    if (p->s2.root)
        s2pt_destroy(&p->s2);
    vdev_detach_ivshmem(p); /* after the tables: nothing maps a region it may free */
    vdev_unassign(p);
    /* Scrub before the memory goes back: the next owner must not see this guest's data. */
    memset(hpa_to_ptr(p->mem_hpa), 0, p->mem_size);
    frames_free(p->mem_hpa, p->mem_size / PAGE_SIZE);
    frames_free(ptr_to_hpa(p), (sizeof(struct partition) + PAGE_SIZE - 1) / PAGE_SIZE);
}

void partition_stop(struct partition *p, const char *fmt, ...)
{
    uint64_t flags = spin_lock_irqsave(&p->lock);
    bool first = p->state != PART_STOPPED;
    if (first) {
        p->state = PART_STOPPED;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->stop_reason, sizeof(p->stop_reason), fmt, ap);
        va_end(ap);
    }
    spin_unlock_irqrestore(&p->lock, flags);
    if (!first)
        return;
    printk("partition %s: stopped: %s\n", p->name, p->stop_reason);
    /* The CPUs of its vCPUs, in guest mode or halted, wake on the kick IPI and retire them. */
    for (uint32_t i = 0; i < p->vcpu_count; i++)
        if (p->vcpus[i])
            smp_kick(p->vcpus[i]->cpu);
}

void partition_wake(struct partition *p)
{
    for (uint32_t i = 0; i < p->vcpu_count; i++) {
        struct vcpu *v = p->vcpus[i];
        __atomic_store_n(&v->wake_ns, 0, __ATOMIC_RELEASE); /* the run loop's reap sees it */
        smp_kick(v->cpu);
    }
}
