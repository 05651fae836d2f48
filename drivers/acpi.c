// SPDX-License-Identifier: Apache-2.0
// ACPI static table parser: validates the RSDP, the XSDT/RSDT and each table it uses, and
// decodes the MADT, FADT and MCFG into struct acpi_info. Owns no memory and touches no
// hardware: every byte comes through env->map(); every problem goes out through env->warn().
#include "drivers/acpi.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- hardware layouts ----------------------------------------------------------------
 * All ACPI structures are byte-packed and little-endian. They are only ever copied out of
 * map()ped memory with memcpy (never dereferenced in place), so alignment does not matter. */
#define ACPI_PACKED __attribute__((packed))

/* Root System Description Pointer (ACPI 6.5, 5.2.5.3). Revision 0 (ACPI 1.0) defines only
 * the first 20 bytes; revision 2 adds Length, XsdtAddress and the extended checksum. */
struct acpi_rsdp {
    char signature[8]; /* "RSD PTR " */
    uint8_t checksum;  /* the first 20 bytes sum to 0 */
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt_address;
    uint32_t length;   /* whole structure, revision >= 2 only */
    uint64_t xsdt_address;
    uint8_t ext_checksum; /* `length` bytes sum to 0 */
    uint8_t rsvd_0x21[3];
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP size");
_Static_assert(offsetof(struct acpi_rsdp, revision) == 15, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, rsdt_address) == 16, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, length) == 20, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, xsdt_address) == 24, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, ext_checksum) == 32, "RSDP layout");
#define RSDP_V1_LEN 20u /* bytes covered by the ACPI 1.0 checksum */

/* System Description Table Header (ACPI 6.5, 5.2.6): the whole table, checksum included,
 * sums to 0 modulo 256. */
struct acpi_sdt_header {
    char signature[4];
    uint32_t length; /* whole table, header included */
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header size");
_Static_assert(offsetof(struct acpi_sdt_header, length) == 4, "SDT header layout");
_Static_assert(offsetof(struct acpi_sdt_header, checksum) == 9, "SDT header layout");
#define SDT_HDR_LEN ((uint32_t)sizeof(struct acpi_sdt_header))

/* RSDT (5.2.7): 32-bit table addresses after the header; XSDT (5.2.8): 64-bit ones. */
#define RSDT_ENTRY_LEN 4u
#define XSDT_ENTRY_LEN 8u

/* Generic Address Structure (ACPI 6.5, 5.2.3.2). */
struct acpi_gas_raw {
    uint8_t space;
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_gas_raw) == 12, "GAS size");

/* Fixed ACPI Description Table, signature "FACP" (ACPI 6.5, 5.2.9). Tables of older
 * revisions are shorter: ACPI 1.0 ends after `flags` (116 bytes), ACPI 2.0 after x_gpe1_blk
 * (244 bytes). Fields beyond the table's length read as 0 here. */
struct acpi_fadt {
    struct acpi_sdt_header hdr;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t rsvd_0x2c;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
    uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
    uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
    uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
    uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
    uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
    uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
    uint16_t iapc_boot_arch;
    uint8_t rsvd_0x6f;
    uint32_t flags;
    struct acpi_gas_raw reset_reg;
    uint8_t reset_value;
    uint16_t arm_boot_arch;
    uint8_t minor_version;
    uint64_t x_firmware_ctrl, x_dsdt;
    struct acpi_gas_raw x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
    struct acpi_gas_raw x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
    struct acpi_gas_raw sleep_control_reg, sleep_status_reg;
    uint64_t hypervisor_vendor_id;
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT size (ACPI 6.x)");
_Static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_len) == 91, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, reset_value) == 128, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, minor_version) == 131, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT layout");
#define FADT_V1_LEN        116u /* ACPI 1.0: through `flags` */
#define FADT_RESET_END     129u /* RESET_REG and RESET_VALUE present */
#define FADT_MINOR_END     132u /* FADT Minor Version present */
#define FADT_X_PM_TMR_END  220u /* X_PM_TMR_BLK present */
#define FADT_BOOT_ARCH_REV 3u   /* IAPC_BOOT_ARCH is reserved (may hold junk) before FADT rev 3 */
#define FADT_PM_TMR_LEN    4u   /* PM_TMR_LEN of a supported timer (5.2.9) */

/* Multiple APIC Description Table, signature "APIC" (ACPI 6.5, 5.2.12). */
struct acpi_madt {
    struct acpi_sdt_header hdr;
    uint32_t lapic_address;
    uint32_t flags;
} ACPI_PACKED; /* followed by interrupt controller structures */
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT fixed part size");
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_ONLINE_CAPABLE_REV 5u /* Local APIC flag bit 1 is defined from MADT rev 5 (ACPI 6.3) */

/* Interrupt controller structure types (ACPI 6.5, 5.2.12, Interrupt Controller Structure
 * Types). Every structure starts with type and length bytes. */
enum madt_type {
    MADT_LAPIC = 0x0,          /* 5.2.12.2 */
    MADT_IOAPIC = 0x1,         /* 5.2.12.3 */
    MADT_OVERRIDE = 0x2,       /* 5.2.12.5 */
    MADT_NMI_SRC = 0x3,        /* 5.2.12.6 */
    MADT_LAPIC_NMI = 0x4,      /* 5.2.12.7 */
    MADT_LAPIC_ADDR = 0x5,     /* 5.2.12.8 */
    MADT_X2APIC = 0x9,         /* 5.2.12.12 */
    MADT_X2APIC_NMI = 0xa,     /* 5.2.12.13 */
};
#define MADT_ENTRY_HDR_LEN 2u

struct madt_lapic {
    uint8_t type, length;
    uint8_t acpi_uid;
    uint8_t apic_id;
    uint32_t flags;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT type 0 size");

struct madt_ioapic {
    uint8_t type, length;
    uint8_t id;
    uint8_t rsvd_0x03;
    uint32_t address;
    uint32_t gsi_base;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT type 1 size");

struct madt_override {
    uint8_t type, length;
    uint8_t bus;
    uint8_t source;
    uint32_t gsi;
    uint16_t flags;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_override) == 10, "MADT type 2 size");

struct madt_nmi_src {
    uint8_t type, length;
    uint16_t flags;
    uint32_t gsi;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_nmi_src) == 8, "MADT type 3 size");

struct madt_lapic_nmi {
    uint8_t type, length;
    uint8_t acpi_uid; /* 0xff: all processors */
    uint16_t flags;
    uint8_t lint;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT type 4 size");
#define MADT_LAPIC_NMI_ALL 0xffu

struct madt_lapic_addr {
    uint8_t type, length;
    uint16_t rsvd_0x02;
    uint64_t address;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_lapic_addr) == 12, "MADT type 5 size");

struct madt_x2apic {
    uint8_t type, length;
    uint16_t rsvd_0x02;
    uint32_t x2apic_id;
    uint32_t flags;
    uint32_t acpi_uid;
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_x2apic) == 16, "MADT type 9 size");
#define X2APIC_ID_INVALID 0xffffffffu /* the broadcast ID: no processor has it */

struct madt_x2apic_nmi {
    uint8_t type, length;
    uint16_t flags;
    uint32_t acpi_uid; /* 0xffffffff: all processors */
    uint8_t lint;
    uint8_t rsvd_0x09[3];
} ACPI_PACKED;
_Static_assert(sizeof(struct madt_x2apic_nmi) == 12, "MADT type 0xA size");

/* Local APIC / x2APIC flags (ACPI 6.5, 5.2.12.2, Local APIC Flags). */
#define MADT_CPU_ENABLED        (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1)

/* PCI Express memory-mapped configuration table, signature "MCFG" (PCI Firmware
 * Specification 3.x, 4.1.2): 8 reserved bytes after the header, then allocations. */
struct acpi_mcfg_fixed {
    struct acpi_sdt_header hdr;
    uint8_t rsvd_0x24[8];
} ACPI_PACKED;
_Static_assert(sizeof(struct acpi_mcfg_fixed) == 44, "MCFG fixed part size");

struct mcfg_alloc {
    uint64_t base;
    uint16_t segment;
    uint8_t bus_start;
    uint8_t bus_end;
    uint32_t rsvd_0x0c;
} ACPI_PACKED;
_Static_assert(sizeof(struct mcfg_alloc) == 16, "MCFG allocation size");

/* ---- parser state and helpers --------------------------------------------------------- */

struct acpi_parser {
    const struct acpi_env *env;
    struct acpi_info *info;
};

#define WARN_MSG_MAX 192

static void acpi_warn(struct acpi_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void acpi_warn(struct acpi_parser *p, const char *fmt, ...)
{
    char msg[WARN_MSG_MAX];
    va_list ap;

    p->info->warnings++;
    if (!p->env->warn || p->info->warnings > ACPI_WARN_MAX + 1)
        return;
    if (p->info->warnings == ACPI_WARN_MAX + 1) {
        p->env->warn(p->env->ctx, "acpi: too many problems, further warnings suppressed");
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->env->warn(p->env->ctx, msg);
}

/* map() with the one check every caller needs: the range must not wrap around. */
static const uint8_t *acpi_map(struct acpi_parser *p, uint64_t phys, uint64_t len)
{
    if (len == 0 || phys > UINT64_MAX - (len - 1))
        return NULL;
    return p->env->map(p->env->ctx, phys, len);
}

static uint8_t acpi_sum(const uint8_t *b, uint32_t len)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return sum;
}

/* Little-endian load of 1..8 bytes: RSDT/XSDT entries are unaligned on real firmware. */
static uint64_t acpi_load_le(const uint8_t *b, uint32_t n)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* Copy an ACPI identifier into a printable NUL-terminated string: NUL pads become blanks,
 * other unprintable bytes '?', trailing blanks are dropped. `out` holds n + 1 bytes. */
static void acpi_ident(char *out, const char *in, size_t n)
{
    size_t end = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = c == 0 ? ' ' : (c < 0x20 || c > 0x7e) ? '?' : (char)c;
        if (out[i] != ' ')
            end = i + 1;
    }
    out[end] = '\0';
}

static unsigned long long ull(uint64_t v)
{
    return (unsigned long long)v;
}

/* The name people use for a table with this signature. */
static const char *acpi_table_name(const char sig[4])
{
    if (memcmp(sig, "APIC", 4) == 0)
        return "MADT";
    if (memcmp(sig, "FACP", 4) == 0)
        return "FADT";
    if (memcmp(sig, "MCFG", 4) == 0)
        return "MCFG";
    if (memcmp(sig, "XSDT", 4) == 0)
        return "XSDT";
    if (memcmp(sig, "RSDT", 4) == 0)
        return "RSDT";
    return "table";
}

/* Map and validate one system description table (ACPI 6.5, 5.2.6): exactly its header
 * first, then, once signature and length are sane, the whole table for the checksum.
 * Returns the mapped table and its length, or NULL after one warning. */
static const uint8_t *acpi_sdt_map(struct acpi_parser *p, uint64_t phys, const char sig[4],
                                   uint32_t *len_out)
{
    const char *name = acpi_table_name(sig);
    struct acpi_sdt_header hdr;
    const uint8_t *t = acpi_map(p, phys, SDT_HDR_LEN);

    if (!t) {
        acpi_warn(p, "acpi: %s at 0x%llx: header cannot be mapped, table ignored", name,
                  ull(phys));
        return NULL;
    }
    memcpy(&hdr, t, sizeof hdr);
    if (memcmp(hdr.signature, sig, 4) != 0) {
        char got[5];
        acpi_ident(got, hdr.signature, 4);
        acpi_warn(p, "acpi: %s at 0x%llx: signature \"%s\" is not \"%.4s\", table ignored",
                  name, ull(phys), got, sig);
        return NULL;
    }
    if (hdr.length < SDT_HDR_LEN) {
        acpi_warn(p, "acpi: %s at 0x%llx: length %u is shorter than its 36-byte header, "
                  "table ignored", name, ull(phys), hdr.length);
        return NULL;
    }
    if (hdr.length > ACPI_TABLE_MAX_LEN) {
        acpi_warn(p, "acpi: %s at 0x%llx: length %u exceeds the %u-byte limit, table ignored",
                  name, ull(phys), hdr.length, ACPI_TABLE_MAX_LEN);
        return NULL;
    }
    t = acpi_map(p, phys, hdr.length);
    if (!t) {
        acpi_warn(p, "acpi: %s at 0x%llx: its %u bytes cannot be mapped, table ignored", name,
                  ull(phys), hdr.length);
        return NULL;
    }
    uint8_t sum = acpi_sum(t, hdr.length);
    if (sum != 0) {
        acpi_warn(p, "acpi: %s at 0x%llx: checksum mismatch (sum 0x%02x), table ignored", name,
                  ull(phys), sum);
        return NULL;
    }
    *len_out = hdr.length;
    return t;
}

/* ---- MADT ----------------------------------------------------------------------------- */

/* Smallest length each interrupt controller structure we decode may have; longer entries
 * (a later revision's additions) are accepted. Other types are skipped by their length. */
static uint8_t madt_min_len(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC:      return sizeof(struct madt_lapic);
    case MADT_IOAPIC:     return sizeof(struct madt_ioapic);
    case MADT_OVERRIDE:   return sizeof(struct madt_override);
    case MADT_NMI_SRC:    return sizeof(struct madt_nmi_src);
    case MADT_LAPIC_NMI:  return sizeof(struct madt_lapic_nmi);
    case MADT_LAPIC_ADDR: return sizeof(struct madt_lapic_addr);
    case MADT_X2APIC:     return sizeof(struct madt_x2apic);
    case MADT_X2APIC_NMI: return sizeof(struct madt_x2apic_nmi);
    default:              return MADT_ENTRY_HDR_LEN;
    }
}

struct madt_state {
    uint64_t phys;
    uint8_t revision;
    bool lapic_addr_seen;
};

static void madt_add_cpu(struct acpi_parser *p, const struct madt_state *m, uint32_t apic_id,
                         uint32_t uid, uint32_t madt_flags, uint32_t extra)
{
    struct acpi_info *info = p->info;
    uint32_t flags = extra;

    /* 5.2.12.2, Local APIC Flags: Online Capable is defined from MADT revision 5 and is
     * reserved when Enabled is set. Neither bit: the processor is unusable. */
    if (madt_flags & MADT_CPU_ENABLED)
        flags |= ACPI_CPU_ENABLED;
    else if ((madt_flags & MADT_CPU_ONLINE_CAPABLE) && m->revision >= MADT_ONLINE_CAPABLE_REV)
        flags |= ACPI_CPU_ONLINE_CAPABLE;
    if (!(flags & (ACPI_CPU_ENABLED | ACPI_CPU_ONLINE_CAPABLE))) {
        info->cpu_ignored++;
        return;
    }
    for (uint32_t i = 0; i < info->cpu_count; i++) {
        if (info->cpus[i].apic_id == apic_id) {
            acpi_warn(p, "acpi: MADT at 0x%llx: APIC ID %u listed twice (ACPI UIDs %u and %u), "
                      "second entry ignored", ull(m->phys), apic_id, info->cpus[i].acpi_uid, uid);
            return;
        }
    }
    if (info->cpu_count == ACPI_MAX_CPUS) {
        info->cpu_dropped++;
        return;
    }
    info->cpus[info->cpu_count++] = (struct acpi_cpu){ apic_id, uid, flags };
    if (flags & ACPI_CPU_ENABLED)
        info->cpu_enabled++;
}

/* Decode one entry whose length is already known to be >= madt_min_len(type) and to lie
 * within the table; `e` points at its first byte. */
static void madt_entry(struct acpi_parser *p, struct madt_state *m, const uint8_t *e)
{
    struct acpi_info *info = p->info;

    switch (e[0]) {
    case MADT_LAPIC: {
        struct madt_lapic x;
        memcpy(&x, e, sizeof x);
        madt_add_cpu(p, m, x.apic_id, x.acpi_uid, x.flags, 0);
        break;
    }
    case MADT_X2APIC: {
        struct madt_x2apic x;
        memcpy(&x, e, sizeof x);
        if (x.x2apic_id == X2APIC_ID_INVALID) {
            acpi_warn(p, "acpi: MADT at 0x%llx: x2APIC entry for ACPI UID %u has the broadcast "
                      "ID 0xffffffff, entry skipped", ull(m->phys), x.acpi_uid);
            break;
        }
        madt_add_cpu(p, m, x.x2apic_id, x.acpi_uid, x.flags, ACPI_CPU_X2APIC_ENTRY);
        break;
    }
    case MADT_IOAPIC: {
        struct madt_ioapic x;
        memcpy(&x, e, sizeof x);
        for (uint32_t i = 0; i < info->ioapic_count; i++) {
            if (info->ioapics[i].id == x.id) {
                acpi_warn(p, "acpi: MADT at 0x%llx: I/O APIC ID %u listed twice, second entry "
                          "ignored", ull(m->phys), x.id);
                return;
            }
        }
        if (info->ioapic_count == ACPI_MAX_IOAPICS) {
            info->ioapic_dropped++;
            break;
        }
        info->ioapics[info->ioapic_count++] =
            (struct acpi_ioapic){ .id = x.id, .gsi_base = x.gsi_base, .phys = x.address };
        break;
    }
    case MADT_OVERRIDE: {
        struct madt_override x;
        memcpy(&x, e, sizeof x);
        if (info->override_count == ACPI_MAX_OVERRIDES) {
            info->override_dropped++;
            break;
        }
        info->overrides[info->override_count++] = (struct acpi_override){
            .bus = x.bus, .source = x.source, .flags = x.flags, .gsi = x.gsi };
        break;
    }
    case MADT_NMI_SRC: {
        struct madt_nmi_src x;
        memcpy(&x, e, sizeof x);
        if (info->nmi_src_count == ACPI_MAX_NMI_SRCS) {
            info->nmi_src_dropped++;
            break;
        }
        info->nmi_srcs[info->nmi_src_count++] = (struct acpi_nmi_src){ x.gsi, x.flags };
        break;
    }
    case MADT_LAPIC_NMI:
    case MADT_X2APIC_NMI: {
        struct acpi_lapic_nmi n;
        if (e[0] == MADT_LAPIC_NMI) {
            struct madt_lapic_nmi x;
            memcpy(&x, e, sizeof x);
            n = (struct acpi_lapic_nmi){
                .acpi_uid = x.acpi_uid == MADT_LAPIC_NMI_ALL ? ACPI_UID_ALL : x.acpi_uid,
                .flags = x.flags, .lint = x.lint };
        } else {
            struct madt_x2apic_nmi x;
            memcpy(&x, e, sizeof x);
            n = (struct acpi_lapic_nmi){ .acpi_uid = x.acpi_uid, .flags = x.flags,
                                         .lint = x.lint };
        }
        if (info->lapic_nmi_count == ACPI_MAX_LAPIC_NMIS) {
            info->lapic_nmi_dropped++;
            break;
        }
        info->lapic_nmis[info->lapic_nmi_count++] = n;
        break;
    }
    case MADT_LAPIC_ADDR: {
        struct madt_lapic_addr x;
        memcpy(&x, e, sizeof x);
        /* 5.2.12.8: only one may be defined; it replaces the header's 32-bit address. */
        if (m->lapic_addr_seen) {
            acpi_warn(p, "acpi: MADT at 0x%llx: second Local APIC Address Override "
                      "(0x%llx) ignored", ull(m->phys), ull(x.address));
            break;
        }
        m->lapic_addr_seen = true;
        info->lapic_phys = x.address;
        info->lapic_overridden = true;
        break;
    }
    default:
        break; /* SAPIC, GIC, wakeup mailbox, OEM: nothing Moat uses */
    }
}

static void madt_report_dropped(struct acpi_parser *p, uint64_t phys, uint32_t kept,
                                uint32_t dropped, const char *what)
{
    if (dropped)
        acpi_warn(p, "acpi: MADT at 0x%llx: %u %s listed, only the first %u are kept",
                  ull(phys), kept + dropped, what, kept);
}

/* Returns false (table ignored, *info untouched) only when the fixed part is missing.
 * A malformed entry stops the walk with a warning; the entries before it are kept. */
static bool madt_parse(struct acpi_parser *p, uint64_t phys, const uint8_t *t, uint32_t len)
{
    struct acpi_info *info = p->info;
    struct acpi_madt madt;

    if (len < sizeof madt) {
        acpi_warn(p, "acpi: MADT at 0x%llx: length %u is shorter than its 44-byte fixed part, "
                  "table ignored", ull(phys), len);
        return false;
    }
    memcpy(&madt, t, sizeof madt);
    struct madt_state m = { .phys = phys, .revision = madt.hdr.revision };
    info->madt_phys = phys;
    info->madt_revision = madt.hdr.revision;
    info->lapic_phys = madt.lapic_address;
    info->pcat_compat = madt.flags & MADT_PCAT_COMPAT;

    /* 5.2.12: each structure starts with type and length; the list fills the table. */
    uint32_t off = sizeof madt;
    while (off < len) {
        uint32_t left = len - off;
        if (left < MADT_ENTRY_HDR_LEN) {
            acpi_warn(p, "acpi: MADT at 0x%llx: stray byte at offset %u after the last entry, "
                      "ignored", ull(phys), off);
            break;
        }
        uint8_t type = t[off], elen = t[off + 1], min = madt_min_len(type);
        if (elen < MADT_ENTRY_HDR_LEN) {
            acpi_warn(p, "acpi: MADT at 0x%llx: entry at offset %u (type %u) has length %u, "
                      "rest of table ignored", ull(phys), off, type, elen);
            break;
        }
        if (elen > left) {
            acpi_warn(p, "acpi: MADT at 0x%llx: entry at offset %u (type %u, length %u) runs "
                      "past the table end (%u), rest of table ignored", ull(phys), off, type,
                      elen, len);
            break;
        }
        if (elen < min)
            acpi_warn(p, "acpi: MADT at 0x%llx: entry at offset %u (type %u) has length %u, "
                      "less than the %u its type needs, entry skipped", ull(phys), off, type,
                      elen, min);
        else
            madt_entry(p, &m, t + off);
        off += elen;
    }

    madt_report_dropped(p, phys, info->cpu_count, info->cpu_dropped, "usable CPUs");
    madt_report_dropped(p, phys, info->ioapic_count, info->ioapic_dropped, "I/O APICs");
    madt_report_dropped(p, phys, info->override_count, info->override_dropped,
                        "interrupt source overrides");
    madt_report_dropped(p, phys, info->nmi_src_count, info->nmi_src_dropped, "NMI sources");
    madt_report_dropped(p, phys, info->lapic_nmi_count, info->lapic_nmi_dropped,
                        "local APIC NMIs");
    return true;
}

/* ---- FADT ----------------------------------------------------------------------------- */

static bool fadt_parse(struct acpi_parser *p, uint64_t phys, const uint8_t *t, uint32_t len)
{
    struct acpi_info *info = p->info;
    struct acpi_fadt f;

    if (len < FADT_V1_LEN) {
        acpi_warn(p, "acpi: FADT at 0x%llx: length %u is shorter than the %u bytes of an "
                  "ACPI 1.0 FADT, table ignored", ull(phys), len, FADT_V1_LEN);
        return false;
    }
    memset(&f, 0, sizeof f);
    memcpy(&f, t, len < sizeof f ? len : sizeof f);

    info->has_fadt = true;
    info->fadt_phys = phys;
    info->fadt_revision = f.hdr.revision;
    info->fadt_minor = len >= FADT_MINOR_END ? f.minor_version : 0;
    info->fadt_flags = f.flags;
    info->sci_irq = f.sci_int;
    /* 5.2.9.3: IAPC_BOOT_ARCH arrived with ACPI 2.0 (FADT revision 3); before that the
     * bytes were reserved and some firmware left junk in them. */
    if (f.hdr.revision >= FADT_BOOT_ARCH_REV) {
        info->boot_arch_valid = true;
        info->iapc_boot_arch = f.iapc_boot_arch;
    }

    /* 5.2.9: on hardware-reduced platforms the PM timer fields must be ignored. Otherwise a
     * nonzero X_PM_TMR_BLK supersedes PM_TMR_BLK; we take it when it is a port in system
     * I/O space and fall back to PM_TMR_BLK (valid when PM_TMR_LEN is 4) if it is not. */
    uint16_t port = 0;
    if (!(f.flags & ACPI_FADT_HW_REDUCED)) {
        const struct acpi_gas_raw *x = &f.x_pm_tmr_blk;
        if (len >= FADT_X_PM_TMR_END && x->address != 0) {
            if (x->space == ACPI_GAS_IO && x->address <= UINT16_MAX)
                port = (uint16_t)x->address;
            else
                acpi_warn(p, "acpi: FADT at 0x%llx: X_PM_TMR_BLK (space %u, address 0x%llx) is "
                          "not an I/O port, using PM_TMR_BLK", ull(phys), x->space,
                          ull(x->address));
        }
        if (port && f.pm_tmr_blk && f.pm_tmr_blk != port)
            acpi_warn(p, "acpi: FADT at 0x%llx: X_PM_TMR_BLK 0x%x and PM_TMR_BLK 0x%x disagree, "
                      "using X_PM_TMR_BLK", ull(phys), port, f.pm_tmr_blk);
        if (!port && f.pm_tmr_blk) {
            if (f.pm_tmr_len != FADT_PM_TMR_LEN || f.pm_tmr_blk > UINT16_MAX)
                acpi_warn(p, "acpi: FADT at 0x%llx: PM_TMR_BLK 0x%x with PM_TMR_LEN %u is not "
                          "a usable timer, PM timer ignored", ull(phys), f.pm_tmr_blk,
                          f.pm_tmr_len);
            else
                port = (uint16_t)f.pm_tmr_blk;
        }
    }
    if (port) {
        info->pm_timer_port = port;
        info->pm_timer_bits = (f.flags & ACPI_FADT_TMR_VAL_EXT) ? 32 : 24;
    }

    /* 5.2.9: RESET_REG is valid only with RESET_REG_SUP, and may live only in system I/O,
     * system memory or PCI configuration space. */
    if ((f.flags & ACPI_FADT_RESET_REG_SUP) && len >= FADT_RESET_END) {
        const struct acpi_gas_raw *r = &f.reset_reg;
        if (r->address != 0 && r->space <= ACPI_GAS_PCI_CFG) {
            info->has_reset = true;
            info->reset_reg = (struct acpi_gas){ r->space, r->bit_width, r->bit_offset,
                                                 r->access_size, r->address };
            info->reset_value = f.reset_value;
        } else {
            acpi_warn(p, "acpi: FADT at 0x%llx: RESET_REG (space %u, address 0x%llx) is not "
                      "usable, reset register ignored", ull(phys), r->space, ull(r->address));
        }
    }
    return true;
}

/* ---- MCFG ----------------------------------------------------------------------------- */

static bool mcfg_parse(struct acpi_parser *p, uint64_t phys, const uint8_t *t, uint32_t len)
{
    struct acpi_info *info = p->info;
    const uint32_t fixed = sizeof(struct acpi_mcfg_fixed);
    const uint32_t esz = sizeof(struct mcfg_alloc);

    if (len < fixed) {
        acpi_warn(p, "acpi: MCFG at 0x%llx: length %u is shorter than its 44-byte fixed part, "
                  "table ignored", ull(phys), len);
        return false;
    }
    uint32_t n = (len - fixed) / esz;
    if ((len - fixed) % esz)
        acpi_warn(p, "acpi: MCFG at 0x%llx: %u stray bytes after %u allocations, ignored",
                  ull(phys), (len - fixed) % esz, n);
    info->mcfg_phys = phys;
    for (uint32_t i = 0; i < n; i++) {
        struct mcfg_alloc a;
        memcpy(&a, t + fixed + i * esz, sizeof a);
        if (a.base == 0 || a.bus_start > a.bus_end) {
            acpi_warn(p, "acpi: MCFG at 0x%llx: allocation %u (base 0x%llx, segment %u, "
                      "buses %u-%u) is invalid, skipped", ull(phys), i, ull(a.base), a.segment,
                      a.bus_start, a.bus_end);
            continue;
        }
        if (info->mcfg_count == ACPI_MAX_MCFG) {
            info->mcfg_dropped++;
            continue;
        }
        info->mcfg[info->mcfg_count++] = (struct acpi_mcfg){ a.base, a.segment, a.bus_start,
                                                             a.bus_end };
    }
    if (info->mcfg_dropped)
        acpi_warn(p, "acpi: MCFG at 0x%llx: %u allocations listed, only the first %u are kept",
                  ull(phys), info->mcfg_count + info->mcfg_dropped, info->mcfg_count);
    return true;
}

/* ---- root tables ---------------------------------------------------------------------- */

/* One RSDT/XSDT entry: peek at the header's signature, then validate and decode the
 * tables Moat uses. The first valid table of each kind wins. */
static void acpi_visit(struct acpi_parser *p, const char *root, uint32_t index, uint64_t phys)
{
    struct acpi_info *info = p->info;
    char sig[4];

    if (phys == 0) {
        acpi_warn(p, "acpi: %s entry %u is a null pointer, skipped", root, index);
        return;
    }
    const uint8_t *h = acpi_map(p, phys, SDT_HDR_LEN);
    if (!h) {
        acpi_warn(p, "acpi: %s entry %u: table at 0x%llx cannot be mapped, skipped", root, index,
                  ull(phys));
        return;
    }
    memcpy(sig, h, sizeof sig);

    uint64_t *have;
    bool (*parse)(struct acpi_parser *, uint64_t, const uint8_t *, uint32_t);
    if (memcmp(sig, "APIC", 4) == 0) {
        have = &info->madt_phys;
        parse = madt_parse;
    } else if (memcmp(sig, "FACP", 4) == 0) {
        have = &info->fadt_phys;
        parse = fadt_parse;
    } else if (memcmp(sig, "MCFG", 4) == 0) {
        have = &info->mcfg_phys;
        parse = mcfg_parse;
    } else {
        return; /* DSDT, SSDT, HPET, ...: not ours */
    }
    if (*have) {
        acpi_warn(p, "acpi: %s at 0x%llx: another %s (at 0x%llx) is already in use, table "
                  "ignored", acpi_table_name(sig), ull(phys), acpi_table_name(sig), ull(*have));
        return;
    }
    uint32_t len;
    const uint8_t *t = acpi_sdt_map(p, phys, sig, &len);
    if (t)
        parse(p, phys, t, len);
}

/* Walk an XSDT (ACPI 6.5, 5.2.8) or RSDT (5.2.7). False if the root table itself is bad. */
static bool acpi_root_walk(struct acpi_parser *p, uint64_t phys, bool xsdt)
{
    const char *name = xsdt ? "XSDT" : "RSDT";
    const uint32_t esz = xsdt ? XSDT_ENTRY_LEN : RSDT_ENTRY_LEN;
    uint32_t len;
    const uint8_t *t = acpi_sdt_map(p, phys, name, &len);

    if (!t)
        return false;
    uint32_t n = (len - SDT_HDR_LEN) / esz;
    if ((len - SDT_HDR_LEN) % esz)
        acpi_warn(p, "acpi: %s at 0x%llx: %u stray bytes after %u entries, ignored", name,
                  ull(phys), (len - SDT_HDR_LEN) % esz, n);
    p->info->root_phys = phys;
    p->info->root_is_xsdt = xsdt;
    for (uint32_t i = 0; i < n; i++)
        acpi_visit(p, name, i, acpi_load_le(t + SDT_HDR_LEN + i * esz, esz));
    return true;
}

/* Validate the RSDP (ACPI 6.5, 5.2.5.3): signature, checksum over the ACPI 1.0 part, and
 * for revision >= 2 a sane Length and the extended checksum over Length bytes. */
static int acpi_rsdp_check(struct acpi_parser *p, uint64_t phys, struct acpi_rsdp *rsdp)
{
    const uint8_t *r = acpi_map(p, phys, RSDP_V1_LEN);

    if (!r) {
        acpi_warn(p, "acpi: RSDP at 0x%llx: cannot be mapped", ull(phys));
        return ACPI_ERR_RSDP_MAP;
    }
    memset(rsdp, 0, sizeof *rsdp);
    memcpy(rsdp, r, RSDP_V1_LEN);
    if (memcmp(rsdp->signature, "RSD PTR ", sizeof rsdp->signature) != 0) {
        char got[9];
        acpi_ident(got, rsdp->signature, sizeof rsdp->signature);
        acpi_warn(p, "acpi: RSDP at 0x%llx: signature \"%s\" is not \"RSD PTR \"", ull(phys),
                  got);
        return ACPI_ERR_RSDP_SIGNATURE;
    }
    uint8_t sum = acpi_sum(r, RSDP_V1_LEN);
    if (sum != 0) {
        acpi_warn(p, "acpi: RSDP at 0x%llx: checksum mismatch (sum 0x%02x)", ull(phys), sum);
        return ACPI_ERR_RSDP_CHECKSUM;
    }
    if (rsdp->revision < 2)
        return ACPI_OK;

    r = acpi_map(p, phys, sizeof *rsdp);
    if (!r) {
        acpi_warn(p, "acpi: RSDP at 0x%llx: revision %u structure cannot be mapped", ull(phys),
                  rsdp->revision);
        return ACPI_ERR_RSDP_MAP;
    }
    memcpy(rsdp, r, sizeof *rsdp);
    if (rsdp->length < sizeof *rsdp || rsdp->length > ACPI_RSDP_MAX_LEN) {
        acpi_warn(p, "acpi: RSDP at 0x%llx: revision %u length %u is not between 36 and %u",
                  ull(phys), rsdp->revision, rsdp->length, ACPI_RSDP_MAX_LEN);
        return ACPI_ERR_RSDP_LENGTH;
    }
    r = acpi_map(p, phys, rsdp->length);
    if (!r) {
        acpi_warn(p, "acpi: RSDP at 0x%llx: its %u bytes cannot be mapped", ull(phys),
                  rsdp->length);
        return ACPI_ERR_RSDP_MAP;
    }
    sum = acpi_sum(r, rsdp->length);
    if (sum != 0) {
        acpi_warn(p, "acpi: RSDP at 0x%llx: extended checksum mismatch (sum 0x%02x)", ull(phys),
                  sum);
        return ACPI_ERR_RSDP_XCHECKSUM;
    }
    return ACPI_OK;
}

int acpi_parse(const struct acpi_env *env, uint64_t rsdp_phys, struct acpi_info *out)
{
    struct acpi_rsdp rsdp;

    if (!env || !env->map || !out)
        return ACPI_ERR_ARGS;
    memset(out, 0, sizeof *out);
    if (rsdp_phys == 0)
        return ACPI_ERR_NO_RSDP;

    struct acpi_parser p = { .env = env, .info = out };
    int rc = acpi_rsdp_check(&p, rsdp_phys, &rsdp);
    if (rc != ACPI_OK)
        return rc;
    out->rsdp_phys = rsdp_phys;
    out->rsdp_revision = rsdp.revision;
    acpi_ident(out->oem_id, rsdp.oem_id, sizeof rsdp.oem_id);

    /* 5.2.5.3: with revision >= 2 the XSDT is the one to use when present; we fall back to
     * the RSDT only if the XSDT turns out to be unusable. */
    bool ok = false;
    if (rsdp.revision >= 2 && rsdp.xsdt_address != 0) {
        ok = acpi_root_walk(&p, rsdp.xsdt_address, true);
        if (!ok && rsdp.rsdt_address != 0)
            acpi_warn(&p, "acpi: XSDT at 0x%llx is unusable, falling back to the RSDT at 0x%x",
                      ull(rsdp.xsdt_address), rsdp.rsdt_address);
    }
    if (!ok && rsdp.rsdt_address != 0)
        ok = acpi_root_walk(&p, rsdp.rsdt_address, false);
    if (!ok)
        return ACPI_ERR_NO_ROOT;

    if (!out->has_fadt)
        acpi_warn(&p, "acpi: no usable FADT: no PM timer, reset register or boot flags");
    if (!out->madt_phys)
        return ACPI_ERR_NO_MADT;
    return ACPI_OK;
}

const char *acpi_strerror(int code)
{
    switch (code) {
    case ACPI_OK:
        return "ACPI tables parsed.";
    case ACPI_ERR_ARGS:
        return "acpi_parse was called without an environment, a map callback or an output.";
    case ACPI_ERR_NO_RSDP:
        return "The loader found no ACPI RSDP, so the machine cannot be described.";
    case ACPI_ERR_RSDP_MAP:
        return "The RSDP lies in memory the memory map does not let us read.";
    case ACPI_ERR_RSDP_SIGNATURE:
        return "The RSDP address does not hold the \"RSD PTR \" signature.";
    case ACPI_ERR_RSDP_CHECKSUM:
        return "The RSDP checksum over its first 20 bytes is wrong.";
    case ACPI_ERR_RSDP_LENGTH:
        return "The ACPI 2.0+ RSDP has an impossible length.";
    case ACPI_ERR_RSDP_XCHECKSUM:
        return "The ACPI 2.0+ RSDP extended checksum is wrong.";
    case ACPI_ERR_NO_ROOT:
        return "Neither the XSDT nor the RSDT is a valid table, so no ACPI table can be found.";
    case ACPI_ERR_NO_MADT:
        return "The firmware provides no valid MADT, so the CPUs and I/O APICs are unknown.";
    default:
        return "Unknown ACPI parser error.";
    }
}

/* ---- summary -------------------------------------------------------------------------- */

struct acpi_sbuf {
    char *buf;
    size_t len, pos;
};

static void sbuf_add(struct acpi_sbuf *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sbuf_add(struct acpi_sbuf *s, const char *fmt, ...)
{
    va_list ap;

    if (s->pos + 1 >= s->len)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->pos, s->len - s->pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->pos += (size_t)n;
    if (s->pos >= s->len)
        s->pos = s->len - 1;
}

static const char *plural(uint32_t n)
{
    return n == 1 ? "" : "s";
}

void acpi_summary(const struct acpi_info *info, char *buf, size_t len)
{
    struct acpi_sbuf s = { buf, len, 0 };

    if (len == 0)
        return;
    buf[0] = '\0';
    sbuf_add(&s, "acpi: rev %u OEM %s, %u CPU%s (%u enabled), %u IOAPIC%s, %u override%s",
             info->rsdp_revision, info->oem_id[0] ? info->oem_id : "(none)", info->cpu_count,
             plural(info->cpu_count), info->cpu_enabled, info->ioapic_count,
             plural(info->ioapic_count), info->override_count, plural(info->override_count));
    if (info->mcfg_phys)
        sbuf_add(&s, ", MCFG %u segment%s", info->mcfg_count, plural(info->mcfg_count));
    else
        sbuf_add(&s, ", no MCFG");
    if (!info->has_fadt)
        sbuf_add(&s, ", no FADT");
    else if (info->pm_timer_port)
        sbuf_add(&s, ", PM timer 0x%x/%u-bit", info->pm_timer_port, info->pm_timer_bits);
    else
        sbuf_add(&s, ", no PM timer");
    if (info->warnings)
        sbuf_add(&s, ", %u warning%s", info->warnings, plural(info->warnings));
}
