// SPDX-License-Identifier: Apache-2.0
// ACPI static tables, read once on the BSP: RSDP -> XSDT/RSDT -> MADT, FADT, MCFG, decoded
// into one fixed-size struct acpi_info. Pure: physical memory is reached only through the
// caller's map() callback, so host tests feed crafted tables. No AML, no DSDT, no runtime ACPI.
#ifndef DRIVERS_ACPI_H
#define DRIVERS_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capacities of the arrays in struct acpi_info. Entries beyond them are counted in the
 * matching *_dropped field and reported through warn(), never silently lost. */
#define ACPI_MAX_CPUS       256
#define ACPI_MAX_IOAPICS    16
#define ACPI_MAX_OVERRIDES  32
#define ACPI_MAX_NMI_SRCS   16
#define ACPI_MAX_LAPIC_NMIS ACPI_MAX_CPUS /* firmware often lists one per processor */
#define ACPI_MAX_MCFG       16

/* Longest table we accept, and longest RSDP: guards against a corrupt length field. */
#define ACPI_TABLE_MAX_LEN  (1u << 20)
#define ACPI_RSDP_MAX_LEN   4096u

/* warn() is called at most this many times per acpi_parse(), then once more to say the
 * rest is suppressed: a corrupt table must not flood the console. All are counted. */
#define ACPI_WARN_MAX       32u

/* acpi_parse() results. Only these are errors; everything else (a table with a bad
 * checksum, a malformed MADT entry, a missing FADT) is a warning and parsing goes on. */
enum acpi_error {
    ACPI_OK = 0,
    ACPI_ERR_ARGS = -1,           /* env, env->map or out is NULL */
    ACPI_ERR_NO_RSDP = -2,        /* rsdp_phys is 0 */
    ACPI_ERR_RSDP_MAP = -3,       /* map() refused the RSDP */
    ACPI_ERR_RSDP_SIGNATURE = -4, /* not "RSD PTR " */
    ACPI_ERR_RSDP_CHECKSUM = -5,  /* the first 20 bytes do not sum to 0 */
    ACPI_ERR_RSDP_LENGTH = -6,    /* revision >= 2 and Length < 36 or absurd */
    ACPI_ERR_RSDP_XCHECKSUM = -7, /* revision >= 2 and Length bytes do not sum to 0 */
    ACPI_ERR_NO_ROOT = -8,        /* neither the XSDT nor the RSDT is usable */
    ACPI_ERR_NO_MADT = -9,        /* no valid MADT ("APIC") in the root table */
};

/* struct acpi_cpu.flags */
#define ACPI_CPU_ENABLED        (1u << 0) /* usable now (MADT Local APIC flag bit 0) */
#define ACPI_CPU_ONLINE_CAPABLE (1u << 1) /* not enabled, may be hot-added (MADT rev >= 5) */
#define ACPI_CPU_X2APIC_ENTRY   (1u << 2) /* listed by a Processor Local x2APIC entry (type 9) */

/* A processor whose Local APIC (type 0) or x2APIC (type 9) entry is enabled or online-
 * capable. Which one is the BSP is not in ACPI: the kernel compares its own APIC ID. */
struct acpi_cpu {
    uint32_t apic_id;  /* xAPIC ID (type 0, < 256) or x2APIC ID (type 9) */
    uint32_t acpi_uid; /* ACPI Processor UID: links to the DSDT processor objects and NMIs */
    uint32_t flags;    /* ACPI_CPU_* */
};

struct acpi_ioapic {
    uint32_t id;       /* I/O APIC ID */
    uint32_t gsi_base; /* first global system interrupt of its inputs */
    uint64_t phys;     /* MMIO register window (IOREGSEL at +0, IOWIN at +0x10) */
};

/* MPS INTI flags of overrides and NMI entries (ACPI 6.5, 5.2.12.5). */
#define ACPI_INTI_POLARITY_MASK    0x3u
#define ACPI_INTI_POLARITY_BUS     0x0u /* conforms to the bus (ISA: active high) */
#define ACPI_INTI_POLARITY_HIGH    0x1u
#define ACPI_INTI_POLARITY_LOW     0x3u
#define ACPI_INTI_TRIGGER_MASK     0xcu
#define ACPI_INTI_TRIGGER_BUS      0x0u /* conforms to the bus (ISA: edge) */
#define ACPI_INTI_TRIGGER_EDGE     0x4u
#define ACPI_INTI_TRIGGER_LEVEL    0xcu

/* Interrupt Source Override (type 2): ISA IRQ `source` is wired to GSI `gsi`. */
struct acpi_override {
    uint8_t bus;    /* 0: ISA, the only value the spec defines */
    uint8_t source; /* bus-relative IRQ */
    uint16_t flags; /* ACPI_INTI_* */
    uint32_t gsi;
};

/* NMI Source (type 3): a GSI that must be programmed as NMI. */
struct acpi_nmi_src {
    uint32_t gsi;
    uint16_t flags; /* ACPI_INTI_* */
};

#define ACPI_UID_ALL 0xffffffffu /* an NMI entry that applies to every processor */
/* Local APIC NMI (type 4) or Local x2APIC NMI (type 0xA): LINT0/1 of a processor is NMI. */
struct acpi_lapic_nmi {
    uint32_t acpi_uid; /* processor UID, or ACPI_UID_ALL (type 4's 0xff is widened) */
    uint16_t flags;    /* ACPI_INTI_* */
    uint8_t lint;      /* 0 or 1 */
};

/* PCI Express ECAM window of one segment group (PCI Firmware Spec 3.x, 4.1.2). */
struct acpi_mcfg {
    uint64_t base;   /* physical address of bus 0's configuration space (even if bus_start > 0) */
    uint16_t segment;
    uint8_t bus_start, bus_end;
};

/* A decoded Generic Address Structure (ACPI 6.5, 5.2.3.2). */
#define ACPI_GAS_MEMORY  0 /* system memory space */
#define ACPI_GAS_IO      1 /* system I/O space */
#define ACPI_GAS_PCI_CFG 2 /* PCI configuration space */
struct acpi_gas {
    uint8_t space;       /* ACPI_GAS_* */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size; /* 0 undefined, 1 byte, 2 word, 3 dword, 4 qword */
    uint64_t address;
};

/* FADT Fixed Feature Flags we name (ACPI 6.5, 5.2.9, Fixed ACPI Description Table Fixed
 * Feature Flags); fadt_flags holds all 32. */
#define ACPI_FADT_TMR_VAL_EXT   (1u << 8)  /* PM timer counts 32 bits, not 24 */
#define ACPI_FADT_RESET_REG_SUP (1u << 10) /* RESET_REG/RESET_VALUE are valid */
#define ACPI_FADT_HW_REDUCED    (1u << 20) /* no fixed hardware: no PM timer, no PM1 blocks */

/* IA-PC Boot Architecture Flags (ACPI 6.5, 5.2.9.3). */
#define ACPI_BOOT_LEGACY_DEVICES (1u << 0) /* LPC/ISA devices the OS must know about exist */
#define ACPI_BOOT_8042           (1u << 1) /* an 8042 keyboard controller exists */
#define ACPI_BOOT_VGA_ABSENT     (1u << 2)
#define ACPI_BOOT_MSI_ABSENT     (1u << 3)
#define ACPI_BOOT_ASPM_CONTROLS  (1u << 4)
#define ACPI_BOOT_CMOS_RTC_ABSENT (1u << 5)

/* What acpi_parse() learned. Zeroed first; a field whose table is absent stays 0/false. */
struct acpi_info {
    /* RSDP (ACPI 6.5, 5.2.5.3) */
    uint8_t rsdp_revision; /* 0: ACPI 1.0 (RSDT only), 2: ACPI 2.0+ */
    char oem_id[7];        /* RSDP OEMID, NUL-terminated, trailing blanks trimmed */
    uint64_t rsdp_phys;
    uint64_t root_phys;    /* the XSDT or RSDT actually used */
    bool root_is_xsdt;

    /* MADT (ACPI 6.5, 5.2.12) */
    uint64_t madt_phys;    /* 0: none found (acpi_parse returned ACPI_ERR_NO_MADT) */
    uint8_t madt_revision;
    uint64_t lapic_phys;   /* Local APIC MMIO base, after any type 5 override */
    bool lapic_overridden; /* a Local APIC Address Override entry supplied lapic_phys */
    bool pcat_compat;      /* dual 8259s present: mask them before using the I/O APICs */
    uint32_t cpu_count;    /* valid entries in cpus[] (enabled or online-capable) */
    uint32_t cpu_enabled;  /* how many of them have ACPI_CPU_ENABLED */
    uint32_t cpu_ignored;  /* entries neither enabled nor online-capable, not stored */
    uint32_t cpu_dropped;  /* usable entries that did not fit in cpus[] */
    struct acpi_cpu cpus[ACPI_MAX_CPUS]; /* in MADT order (firmware lists the BSP first) */
    uint32_t ioapic_count, ioapic_dropped;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    uint32_t override_count, override_dropped;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
    uint32_t nmi_src_count, nmi_src_dropped;
    struct acpi_nmi_src nmi_srcs[ACPI_MAX_NMI_SRCS];
    uint32_t lapic_nmi_count, lapic_nmi_dropped;
    struct acpi_lapic_nmi lapic_nmis[ACPI_MAX_LAPIC_NMIS];

    /* FADT (ACPI 6.5, 5.2.9) */
    bool has_fadt;
    uint64_t fadt_phys;
    uint8_t fadt_revision;      /* header revision: 1 = ACPI 1.0, 3+ = ACPI 2.0+ */
    uint8_t fadt_minor;         /* FADT Minor Version (0 when the table is too short) */
    uint32_t fadt_flags;        /* Fixed Feature Flags, ACPI_FADT_* */
    uint16_t sci_irq;           /* SCI_INT */
    uint16_t pm_timer_port;     /* ACPI PM timer I/O port, 0: none */
    uint8_t pm_timer_bits;      /* 24 or 32 (TMR_VAL_EXT); 0 when there is no timer */
    bool boot_arch_valid;       /* FADT revision >= 3: iapc_boot_arch is meaningful */
    uint16_t iapc_boot_arch;    /* ACPI_BOOT_* */
    bool has_reset;             /* RESET_REG_SUP and a usable reset register */
    struct acpi_gas reset_reg;
    uint8_t reset_value;

    /* MCFG (PCI Firmware Spec 3.x, 4.1.2) */
    uint64_t mcfg_phys;         /* 0: none (PCI then needs the legacy 0xcf8 mechanism) */
    uint32_t mcfg_count, mcfg_dropped;
    struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

    uint32_t warnings;          /* problems found (warn() saw at most ACPI_WARN_MAX of them) */
};

/* The outside world. map() must return a pointer to `len` readable bytes at physical
 * address `phys` (any alignment), or NULL if the caller does not let us read that range;
 * the pointer must stay valid until acpi_parse() returns. We never read outside what map()
 * returned: a table is mapped as its 36-byte header first, then as its full length.
 * warn() gets one complete sentence per problem, without a newline; it may be NULL. */
struct acpi_env {
    const void *(*map)(void *ctx, uint64_t phys, uint64_t len);
    void (*warn)(void *ctx, const char *msg);
    void *ctx;
};

/* Walk the tables from the RSDP at rsdp_phys and fill *out. Returns ACPI_OK or a negative
 * enum acpi_error; on ACPI_ERR_NO_MADT the FADT and MCFG fields are still filled in. */
int acpi_parse(const struct acpi_env *env, uint64_t rsdp_phys, struct acpi_info *out);

/* A sentence describing an acpi_parse() result (never NULL). */
const char *acpi_strerror(int code);

/* One line without newline, e.g. "acpi: rev 2 OEM BOCHS, 4 CPUs (4 enabled), 1 IOAPIC,
 * 2 overrides, MCFG 1 segment, PM timer 0x608/24-bit". Truncated to fit len, NUL-terminated. */
void acpi_summary(const struct acpi_info *info, char *buf, size_t len);

#endif
