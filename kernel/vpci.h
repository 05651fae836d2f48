// SPDX-License-Identifier: Apache-2.0
// A partition's virtual PCI bus 0: the configuration space the guest sees through the legacy
// 0xCF8/0xCFC mechanism and through ECAM. Pure: it models registers only; the hypervisor wires
// port and MMIO exits to it, maps BARs and programs real devices through the callbacks below.
// No lock: one bus belongs to one partition and the caller serializes accesses to it.
#ifndef KERNEL_VPCI_H
#define KERNEL_VPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Functions on one bus, the host bridge included: enough for a partition's 8 shared-memory
 * links and 8 assigned functions (kernel/config.h), plus the bridge. */
#define VPCI_MAX_FUNCS 17
#define VPCI_MAX_BARS  6   /* type-0 header: BAR0..BAR5 (PCI 3.0 section 6.2.5.1) */
#define VPCI_MAX_CAPS  16  /* capabilities a descriptor may list */
#define VPCI_CFG_SIZE  4096 /* one function's space under ECAM; 256 through 0xCF8 */
#define VPCI_LEGACY_CFG_SIZE 256

/* Host bridge at 00:00.0. 1b36 is Red Hat's vendor ID, whose 0008 is the generic "PCIe host
 * bridge" of virtual machines: an ID no real chipset uses and no OS binds quirks to. */
#define VPCI_HOST_VENDOR 0x1b36
#define VPCI_HOST_DEVICE 0x0008
#define VPCI_HOST_CLASS  0x060000u /* bridge / host bridge / 00 (PCI Code and ID Assignment) */

/* devfn, as in CONFIG_ADDRESS bits 15:8: device << 3 | function. */
#define VPCI_DEVFN(dev, fn) ((uint8_t)(((dev) & 0x1f) << 3 | ((fn) & 0x7)))

/* vpci_read/vpci_write address: the ECAM offset (PCIe base spec 7.2.2, "Enhanced
 * Configuration Access Mechanism"): bus 27:20, device 19:15, function 14:12, register 11:0. */
#define VPCI_ECAM_ADDR(bus, dev, fn, reg) \
    ((uint32_t)(bus) << 20 | (uint32_t)((dev) & 0x1f) << 15 | (uint32_t)((fn) & 0x7) << 12 | \
     (uint32_t)((reg) & 0xfff))

/* Legacy configuration mechanism #1 (PCI 3.0 section 3.2.2.3.2). */
#define VPCI_PORT_ADDRESS 0xcf8
#define VPCI_PORT_DATA    0xcfc /* 0xCFC..0xCFF */
#define VPCI_CF8_ENABLE   (UINT32_C(1) << 31)
#define VPCI_CF8_MASK     UINT32_C(0x80fffffc) /* bits 30:24 and 1:0 are reserved, read 0 */

/* Type-0 header offsets (PCI 3.0 section 6.1, figure 6-1). */
#define VPCI_VENDOR_ID     0x00
#define VPCI_DEVICE_ID     0x02
#define VPCI_COMMAND       0x04
#define VPCI_STATUS        0x06
#define VPCI_REVISION      0x08
#define VPCI_CLASS_PROG    0x09
#define VPCI_CACHE_LINE    0x0c
#define VPCI_LATENCY       0x0d
#define VPCI_HEADER_TYPE   0x0e
#define VPCI_BIST          0x0f
#define VPCI_BAR0          0x10
#define VPCI_CARDBUS_CIS   0x28
#define VPCI_SUBSYS_VENDOR 0x2c
#define VPCI_SUBSYS_ID     0x2e
#define VPCI_ROM_BAR       0x30
#define VPCI_CAP_PTR       0x34
#define VPCI_INT_LINE      0x3c
#define VPCI_INT_PIN       0x3d
#define VPCI_HEADER_END    0x40

/* Command register bits (PCI 3.0 section 6.2.2). */
#define VPCI_CMD_IO          (1u << 0)
#define VPCI_CMD_MEMORY      (1u << 1)
#define VPCI_CMD_MASTER      (1u << 2)
#define VPCI_CMD_PARITY      (1u << 6)
#define VPCI_CMD_SERR        (1u << 8)
#define VPCI_CMD_INTX_DISABLE (1u << 10)
/* What a guest may set; the rest (special cycles, MWI, VGA snoop, fast back-to-back) read 0. */
#define VPCI_CMD_WRITABLE \
    (VPCI_CMD_IO | VPCI_CMD_MEMORY | VPCI_CMD_MASTER | VPCI_CMD_PARITY | VPCI_CMD_SERR | \
     VPCI_CMD_INTX_DISABLE)

/* Status register bits (PCI 3.0 section 6.2.3). */
#define VPCI_STS_INTX            (1u << 3)
#define VPCI_STS_CAP_LIST        (1u << 4)
#define VPCI_STS_66MHZ           (1u << 5)
#define VPCI_STS_FAST_B2B        (1u << 7)
#define VPCI_STS_MASTER_PARITY   (1u << 8)
#define VPCI_STS_DEVSEL_MASK     (3u << 9)
#define VPCI_STS_SIG_TARGET_ABORT (1u << 11)
#define VPCI_STS_RCV_TARGET_ABORT (1u << 12)
#define VPCI_STS_RCV_MASTER_ABORT (1u << 13)
#define VPCI_STS_SIG_SYSTEM_ERROR (1u << 14)
#define VPCI_STS_DETECTED_PARITY (1u << 15)
/* Error bits a guest clears by writing 1 (RW1C); the others are read-only. */
#define VPCI_STS_W1C \
    (VPCI_STS_MASTER_PARITY | VPCI_STS_SIG_TARGET_ABORT | VPCI_STS_RCV_TARGET_ABORT | \
     VPCI_STS_RCV_MASTER_ABORT | VPCI_STS_SIG_SYSTEM_ERROR | VPCI_STS_DETECTED_PARITY)
/* Bits a descriptor may preset (CAP_LIST is computed from the visible capabilities). */
#define VPCI_STS_PRESET \
    (VPCI_STS_INTX | VPCI_STS_66MHZ | VPCI_STS_FAST_B2B | VPCI_STS_DEVSEL_MASK | VPCI_STS_W1C)

#define VPCI_HEADER_MULTIFUNCTION 0x80 /* header type bit 7 (PCI 3.0 section 6.2.1) */

/* BAR low bits (PCI 3.0 section 6.2.5.1). */
#define VPCI_BAR_SPACE_IO     0x1u
#define VPCI_BAR_MEM_TYPE_64  0x4u /* bits 2:1 = 10b */
#define VPCI_BAR_MEM_PREFETCH 0x8u

/* Capability IDs the hypervisor typically owns (PCI 3.0 appendix H). */
#define VPCI_CAP_ID_PM    0x01
#define VPCI_CAP_ID_MSI   0x05
#define VPCI_CAP_ID_PCIE  0x10
#define VPCI_CAP_ID_MSIX  0x11

enum vpci_bar_kind {
    VPCI_BAR_UNUSED = 0, /* reads 0, writes ignored; also the upper half of a 64-bit BAR */
    VPCI_BAR_IO = 1,     /* size 4..64 KiB */
    VPCI_BAR_MEM32 = 2,  /* size 16 B..2 GiB */
    VPCI_BAR_MEM64 = 3,  /* size 16 B..2^63; takes this register and the next */
};

struct vpci_bar_desc {
    uint8_t kind;      /* enum vpci_bar_kind */
    bool prefetchable; /* memory BARs only */
    uint64_t size;     /* bytes, a power of two */
    uint64_t addr;     /* initial guest address (aligned down to size); usually 0 */
};

/* One capability structure in 0x40..0xFF (PCI 3.0 section 6.7). The model rebuilds the chain
 * from this list, in list order, skipping the hidden ones: the guest never finds them, reads
 * their bytes as 0 and its writes to them go nowhere. */
struct vpci_cap_desc {
    uint8_t offset; /* dword aligned, 0x40..0xFC */
    uint8_t id;     /* capability ID, reported at offset+0 */
    uint8_t len;    /* bytes, 2..0x100-offset; ranges may not overlap */
    bool hidden;    /* the hypervisor owns it (e.g. MSI/MSI-X until they are virtualized) */
};

/* How the model reaches the rest of a function. All may be NULL; ctx is passed back. */
struct vpci_ops {
    /* Physical config access for the registers the model does not virtualize (0x40..0xFF
     * outside capability headers and hidden capabilities; 0x100.. when ext_config), exactly
     * as sized by the guest (1, 2 or 4, naturally aligned), plus the command register as
     * below. NULL read_phys: an emulated function whose bytes the model keeps itself. */
    uint32_t (*read_phys)(void *ctx, uint16_t reg, unsigned size);
    void (*write_phys)(void *ctx, uint16_t reg, unsigned size, uint32_t val);
    /* The guest changed the command register (both values masked to VPCI_CMD_WRITABLE). */
    void (*command_changed)(void *ctx, uint16_t old_cmd, uint16_t new_cmd);
    /* BAR `bar` (the low register of a 64-bit BAR) now holds guest address `addr`. Called on
     * every change, sizing probes included; honour a mapping only while the command
     * register's decode bit (IO or MEMORY) is set, as hardware does. */
    void (*bar_moved)(void *ctx, unsigned bar, uint64_t addr);
};

struct vpci_device_desc {
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_id;
    uint8_t revision;
    uint32_t class_code;  /* base << 16 | sub << 8 | prog-if */
    uint8_t int_pin;      /* 0 none, 1..4 INTA..INTD */
    uint8_t int_line;     /* initial interrupt line value (the guest may rewrite it) */
    uint16_t status;      /* initial status, VPCI_STS_PRESET bits only */
    struct vpci_bar_desc bars[VPCI_MAX_BARS];
    /* Bit i: BAR i (the low register of a 64-bit one) is fixed: the guest cannot move it,
     * because the hypervisor maps it once, at its addr, which must be aligned to its size.
     * Sizing still works: a write that sets every address bit of one of its registers makes
     * that register read the size mask until the next write to it; any other write leaves
     * the register showing addr. bar_moved is never called for it. */
    uint8_t fixed_bars;
    struct vpci_cap_desc caps[VPCI_MAX_CAPS];
    unsigned ncaps;
    /* Command bits mirrored into the real command register with read-modify-write through
     * read_phys/write_phys at offset 4, size 2, whenever one of them changes (a subset of
     * VPCI_CMD_WRITABLE; bits outside it are refused). The policy is the hypervisor's: e.g.
     * MEMORY|IO|INTX_DISABLE, and MASTER only once an IOMMU confines the device's DMA. The
     * real register's other bits are left as they are. */
    uint16_t cmd_phys_mask;
    /* Extended space 0x100..0xFFF (ECAM only): false reads 0 and drops writes (no extended
     * capabilities); true reaches read_phys/write_phys, or the kept bytes. */
    bool ext_config;
    /* Emulated functions (no read_phys): the initial bytes of 0x40..config_len-1, which the
     * guest may then rewrite, except capability IDs and next pointers. NULL: all zero. */
    const uint8_t *config;
    size_t config_len; /* <= VPCI_CFG_SIZE; bytes below 0x40 are ignored */
    const struct vpci_ops *ops;
    void *ctx;
};

/* Negative error codes of vpci_add_device; 0 is success. */
enum vpci_error {
    VPCI_OK = 0,
    VPCI_E_INVAL = -1,    /* NULL pointer, class > 24 bits, int_pin > 4, status or command mask
                             bits outside the allowed sets, config_len too long */
    VPCI_E_EXIST = -2,    /* devfn already present (00.0 is the host bridge) */
    VPCI_E_FULL = -3,     /* VPCI_MAX_FUNCS functions already present */
    VPCI_E_NOFN0 = -4,    /* function > 0 of a device whose function 0 is absent (guests scan
                             function 0 first: PCI 3.0 section 6.2.1) */
    VPCI_E_BAR = -5,      /* bad kind, size not a power of two or out of range, 64-bit BAR in
                             BAR5 or with a used upper register, prefetchable I/O, fixed_bars
                             naming an unused BAR, a fixed BAR not aligned to its size or beyond its kind's reach (4 GiB,
                             64 KiB of ports) */
    VPCI_E_CAP = -6,      /* too many, misaligned, outside 0x40..0xFF, length < 2, overlap */
    VPCI_E_VENDOR = -7,   /* vendor 0xFFFF: what an absent function reads */
};

struct vpci_func {
    bool present;
    uint8_t devfn;
    uint16_t command;    /* guest view, VPCI_CMD_WRITABLE bits only */
    uint16_t status;     /* without CAP_LIST, which is computed */
    uint8_t cache_line;
    uint8_t int_line;
    uint64_t bar_addr[VPCI_MAX_BARS]; /* a 64-bit BAR's address lives in its low slot */
    uint8_t sizing;                   /* fixed BARs: bit i while register i shows its size mask */
    struct vpci_device_desc desc;     /* config == NULL after the bytes are copied */
    uint8_t cfg[VPCI_CFG_SIZE];       /* kept bytes of an emulated function */
};

struct vpci_bus {
    uint32_t cf8; /* CONFIG_ADDRESS latch, VPCI_CF8_MASK bits */
    struct vpci_func funcs[VPCI_MAX_FUNCS];
};

/* Empties the bus and puts the host bridge at 00:00.0 (no BARs, no capabilities). */
void vpci_init(struct vpci_bus *bus);

/* Adds a type-0 function at devfn as described (the descriptor is copied; desc->config is
 * copied too). Returns VPCI_OK or an enum vpci_error; nothing changes on error. */
int vpci_add_device(struct vpci_bus *bus, uint8_t devfn, const struct vpci_device_desc *desc);

/* Config read/write at an ECAM offset (VPCI_ECAM_ADDR) of size 1, 2 or 4. A bad size, a
 * misaligned register, a bus other than 0, an address beyond the 256 MiB window or an absent
 * function reads all ones (of the access size: 0xff, 0xffff, 0xffffffff); such writes are
 * ignored. The value is in the low `size` bytes. */
uint32_t vpci_read(struct vpci_bus *bus, uint32_t addr, unsigned size);
void vpci_write(struct vpci_bus *bus, uint32_t addr, unsigned size, uint32_t val);

/* Port I/O on 0xCF8..0xCFF. CONFIG_ADDRESS is a dword register at 0xCF8 (a byte or word
 * access there is not config mechanism #1: writes ignored, reads all ones; the hypervisor
 * routes 0xCF9 reset control elsewhere first). The data port 0xCFC+k with size s (k % s == 0)
 * reaches register (CONFIG_ADDRESS & 0xFC) + k when the enable bit is set; otherwise reads
 * all ones and drops writes. Ports outside 0xCF8..0xCFF read all ones. */
uint32_t vpci_port_read(struct vpci_bus *bus, uint16_t port, unsigned size);
void vpci_port_write(struct vpci_bus *bus, uint16_t port, unsigned size, uint32_t val);

/* Readable state for the hypervisor. NULL / false when devfn is absent (or bar unused). */
const struct vpci_func *vpci_find(const struct vpci_bus *bus, uint8_t devfn);
uint16_t vpci_command(const struct vpci_bus *bus, uint8_t devfn); /* 0 when absent */
bool vpci_bar_addr(const struct vpci_bus *bus, uint8_t devfn, unsigned bar, uint64_t *addr);

/* The hypervisor latches status error bits (VPCI_STS_W1C) or INTX for the guest to see. */
void vpci_status_set(struct vpci_bus *bus, uint8_t devfn, uint16_t bits);

#endif
