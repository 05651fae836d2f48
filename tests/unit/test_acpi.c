// SPDX-License-Identifier: Apache-2.0
// Host tests of drivers/acpi.c: tables are built at chosen addresses of a simulated physical
// address space (QEMU q35- and Bochs-like machines), then corrupted one thing at a time.
// map() hands out exact-size heap copies, so ASan catches any read past what was mapped.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/acpi.h"

/* ---- simulated physical memory ------------------------------------------------------- */

#define LOW_BASE  0xe0000ull   /* BIOS area: where a legacy RSDP lives */
#define LOW_SIZE  0x20000ull
#define HIGH_BASE 0x7fe0000ull /* ACPI reclaim memory below 128 MiB, like QEMU's */
#define HIGH_SIZE 0x20000ull
#define UNMAPPED  0x40000000ull

#define RSDP_PHYS 0xf5a40ull
#define RSDT_PHYS 0x7fe0000ull
#define XSDT_PHYS 0x7fe0100ull
#define FADT_PHYS 0x7fe1000ull
#define MCFG_PHYS 0x7fe3000ull
#define HPET_PHYS 0x7fe4000ull
#define MADT2_PHYS 0x7fe6000ull
#define MADT_PHYS 0x7ff0000ull /* 64 KiB of room for big MADTs */

#define MAP_LOG_MAX 4096
#define WARN_MAX    256

struct region {
    uint64_t base, size;
    uint8_t *mem;
};

struct map_rec {
    uint64_t phys, len;
};

struct sim {
    struct region reg[2];
    struct map_rec log[MAP_LOG_MAX];
    unsigned nlog;
    void **copies;
    unsigned ncopies, capcopies;
    char *warns[WARN_MAX];
    unsigned nwarn;
    struct acpi_info info;
    struct acpi_env env;
};

static const void *sim_map(void *ctx, uint64_t phys, uint64_t len)
{
    struct sim *s = ctx;
    if (s->nlog < MAP_LOG_MAX)
        s->log[s->nlog] = (struct map_rec){ phys, len };
    s->nlog++;
    for (int i = 0; i < 2; i++) {
        struct region *r = &s->reg[i];
        if (phys >= r->base && len <= r->size && phys - r->base <= r->size - len) {
            /* An exact-size copy, deliberately misaligned by one byte: ASan sees any read
             * past `len`, UBSan any aligned access the parser should not make. */
            uint8_t *buf = malloc(len + 1);
            assert_non_null(buf);
            memcpy(buf + 1, r->mem + (phys - r->base), len);
            if (s->ncopies == s->capcopies) {
                s->capcopies = s->capcopies ? 2 * s->capcopies : 64;
                s->copies = realloc(s->copies, s->capcopies * sizeof *s->copies);
                assert_non_null(s->copies);
            }
            s->copies[s->ncopies++] = buf;
            return buf + 1;
        }
    }
    return NULL;
}

static void sim_warn(void *ctx, const char *msg)
{
    struct sim *s = ctx;
    assert_true(s->nwarn < WARN_MAX);
    assert_null(strchr(msg, '\n'));
    s->warns[s->nwarn] = strdup(msg);
    s->nwarn++;
}

static void sim_reset_run(struct sim *s)
{
    for (unsigned i = 0; i < s->ncopies; i++)
        free(s->copies[i]);
    s->ncopies = 0;
    for (unsigned i = 0; i < s->nwarn; i++)
        free(s->warns[i]);
    s->nwarn = 0;
    s->nlog = 0;
}

static int setup(void **state)
{
    struct sim *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->reg[0] = (struct region){ LOW_BASE, LOW_SIZE, calloc(1, LOW_SIZE) };
    s->reg[1] = (struct region){ HIGH_BASE, HIGH_SIZE, calloc(1, HIGH_SIZE) };
    assert_non_null(s->reg[0].mem);
    assert_non_null(s->reg[1].mem);
    s->env = (struct acpi_env){ sim_map, sim_warn, s };
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct sim *s = *state;
    sim_reset_run(s);
    free(s->copies);
    free(s->reg[0].mem);
    free(s->reg[1].mem);
    free(s);
    return 0;
}

static int run(struct sim *s, uint64_t rsdp)
{
    sim_reset_run(s);
    return acpi_parse(&s->env, rsdp, &s->info);
}

/* Writable bytes of the simulated memory at phys. */
static uint8_t *at(struct sim *s, uint64_t phys, uint64_t n)
{
    for (int i = 0; i < 2; i++) {
        struct region *r = &s->reg[i];
        if (phys >= r->base && phys + n <= r->base + r->size)
            return r->mem + (phys - r->base);
    }
    fail_msg("test bug: 0x%llx is outside simulated memory", (unsigned long long)phys);
    return NULL;
}

static void w8(struct sim *s, uint64_t a, uint8_t v) { *at(s, a, 1) = v; }
static void w16(struct sim *s, uint64_t a, uint16_t v)
{
    for (int i = 0; i < 2; i++)
        w8(s, a + i, (uint8_t)(v >> (8 * i)));
}
static void w32(struct sim *s, uint64_t a, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        w8(s, a + i, (uint8_t)(v >> (8 * i)));
}
static void w64(struct sim *s, uint64_t a, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        w8(s, a + i, (uint8_t)(v >> (8 * i)));
}
static uint32_t r32(struct sim *s, uint64_t a)
{
    uint8_t *p = at(s, a, 4);
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    while (n--)
        sum = (uint8_t)(sum + *p++);
    return sum;
}

/* ---- table builders (independent of the parser's structs: raw offsets from the spec) -- */

/* RSDP: ACPI 6.5, 5.2.5.3. */
static void rsdp_build(struct sim *s, uint64_t a, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memset(at(s, a, 36), 0, 36);
    memcpy(at(s, a, 8), "RSD PTR ", 8);
    memcpy(at(s, a + 9, 6), "BOCHS ", 6);
    w8(s, a + 15, rev);
    w32(s, a + 16, rsdt);
    if (rev >= 2) {
        w32(s, a + 20, 36);
        w64(s, a + 24, xsdt);
    }
    w8(s, a + 8, (uint8_t)-sum_bytes(at(s, a, 20), 20));
    if (rev >= 2)
        w8(s, a + 32, (uint8_t)-sum_bytes(at(s, a, 36), 36));
}

/* Recompute the RSDP checksums after a change (extended one over `Length` bytes). */
static void rsdp_fix(struct sim *s, uint64_t a)
{
    w8(s, a + 8, 0);
    w8(s, a + 8, (uint8_t)-sum_bytes(at(s, a, 20), 20));
    if (*at(s, a + 15, 1) >= 2) {
        uint32_t len = r32(s, a + 20);
        w8(s, a + 32, 0);
        w8(s, a + 32, (uint8_t)-sum_bytes(at(s, a, len), len));
    }
}

/* SDT header: ACPI 6.5, 5.2.6. The length grows as sdt_add() appends. */
static void sdt_begin(struct sim *s, uint64_t a, const char *sig, uint8_t rev)
{
    memset(at(s, a, 36), 0, 36);
    memcpy(at(s, a, 4), sig, 4);
    w32(s, a + 4, 36);
    w8(s, a + 8, rev);
    memcpy(at(s, a + 10, 6), "BOCHS ", 6);
    memcpy(at(s, a + 16, 8), "BXPC    ", 8);
    w32(s, a + 24, 1);
    memcpy(at(s, a + 28, 4), "BXPC", 4);
    w32(s, a + 32, 1);
}

static void sdt_add(struct sim *s, uint64_t a, const void *bytes, uint32_t n)
{
    uint32_t len = r32(s, a + 4);
    memcpy(at(s, a + len, n), bytes, n);
    w32(s, a + 4, len + n);
}

static void sdt_fix(struct sim *s, uint64_t a)
{
    uint32_t len = r32(s, a + 4);
    w8(s, a + 9, 0);
    w8(s, a + 9, (uint8_t)-sum_bytes(at(s, a, len), len));
}

static void root_build(struct sim *s, uint64_t a, int xsdt, const uint64_t *ent, int n)
{
    sdt_begin(s, a, xsdt ? "XSDT" : "RSDT", 1);
    for (int i = 0; i < n; i++) {
        uint8_t b[8];
        for (int k = 0; k < 8; k++)
            b[k] = (uint8_t)(ent[i] >> (8 * k));
        sdt_add(s, a, b, xsdt ? 8 : 4);
    }
    sdt_fix(s, a);
}

/* MADT: ACPI 6.5, 5.2.12 and its entry sections. */
static void madt_begin(struct sim *s, uint64_t a, uint8_t rev, uint32_t lapic, uint32_t flags)
{
    uint8_t b[8];
    sdt_begin(s, a, "APIC", rev);
    for (int k = 0; k < 4; k++) {
        b[k] = (uint8_t)(lapic >> (8 * k));
        b[4 + k] = (uint8_t)(flags >> (8 * k));
    }
    sdt_add(s, a, b, 8);
}

static void madt_lapic(struct sim *s, uint64_t a, uint8_t uid, uint8_t id, uint32_t flags)
{
    uint8_t b[8] = { 0, 8, uid, id, (uint8_t)flags, (uint8_t)(flags >> 8),
                     (uint8_t)(flags >> 16), (uint8_t)(flags >> 24) };
    sdt_add(s, a, b, sizeof b);
}

static void madt_ioapic(struct sim *s, uint64_t a, uint8_t id, uint32_t addr, uint32_t gsi)
{
    uint8_t b[12] = { 1, 12, id, 0 };
    for (int k = 0; k < 4; k++) {
        b[4 + k] = (uint8_t)(addr >> (8 * k));
        b[8 + k] = (uint8_t)(gsi >> (8 * k));
    }
    sdt_add(s, a, b, sizeof b);
}

static void madt_iso(struct sim *s, uint64_t a, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    uint8_t b[10] = { 2, 10, 0, irq, (uint8_t)gsi, (uint8_t)(gsi >> 8), (uint8_t)(gsi >> 16),
                      (uint8_t)(gsi >> 24), (uint8_t)flags, (uint8_t)(flags >> 8) };
    sdt_add(s, a, b, sizeof b);
}

static void madt_nmi_src(struct sim *s, uint64_t a, uint16_t flags, uint32_t gsi)
{
    uint8_t b[8] = { 3, 8, (uint8_t)flags, (uint8_t)(flags >> 8), (uint8_t)gsi,
                     (uint8_t)(gsi >> 8), (uint8_t)(gsi >> 16), (uint8_t)(gsi >> 24) };
    sdt_add(s, a, b, sizeof b);
}

static void madt_lapic_nmi(struct sim *s, uint64_t a, uint8_t uid, uint16_t flags, uint8_t lint)
{
    uint8_t b[6] = { 4, 6, uid, (uint8_t)flags, (uint8_t)(flags >> 8), lint };
    sdt_add(s, a, b, sizeof b);
}

static void madt_lapic_addr(struct sim *s, uint64_t a, uint64_t addr)
{
    uint8_t b[12] = { 5, 12, 0, 0 };
    for (int k = 0; k < 8; k++)
        b[4 + k] = (uint8_t)(addr >> (8 * k));
    sdt_add(s, a, b, sizeof b);
}

static void madt_x2apic(struct sim *s, uint64_t a, uint32_t id, uint32_t flags, uint32_t uid)
{
    uint8_t b[16] = { 9, 16, 0, 0 };
    for (int k = 0; k < 4; k++) {
        b[4 + k] = (uint8_t)(id >> (8 * k));
        b[8 + k] = (uint8_t)(flags >> (8 * k));
        b[12 + k] = (uint8_t)(uid >> (8 * k));
    }
    sdt_add(s, a, b, sizeof b);
}

static void madt_x2apic_nmi(struct sim *s, uint64_t a, uint16_t flags, uint32_t uid,
                            uint8_t lint)
{
    uint8_t b[12] = { 0xa, 12, (uint8_t)flags, (uint8_t)(flags >> 8), (uint8_t)uid,
                      (uint8_t)(uid >> 8), (uint8_t)(uid >> 16), (uint8_t)(uid >> 24), lint };
    sdt_add(s, a, b, sizeof b);
}

/* FADT: ACPI 6.5, 5.2.9, field offsets from its table. */
#define FADT_SCI_INT        46
#define FADT_PM_TMR_BLK     76
#define FADT_PM_TMR_LEN     91
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS          112
#define FADT_RESET_REG      116
#define FADT_RESET_VALUE    128
#define FADT_MINOR          131
#define FADT_X_PM_TMR_BLK   208

#define F_TMR_VAL_EXT   (1u << 8)
#define F_RESET_REG_SUP (1u << 10)
#define F_HW_REDUCED    (1u << 20)

static void gas(struct sim *s, uint64_t a, uint8_t space, uint8_t width, uint8_t acc,
                uint64_t addr)
{
    w8(s, a, space);
    w8(s, a + 1, width);
    w8(s, a + 2, 0);
    w8(s, a + 3, acc);
    w64(s, a + 4, addr);
}

/* A FADT of `len` bytes and revision `rev` with a legacy PM timer; callers add the rest
 * and then call sdt_fix(). */
static void fadt_begin(struct sim *s, uint64_t a, uint32_t len, uint8_t rev, uint32_t pm_blk,
                       uint32_t flags)
{
    sdt_begin(s, a, "FACP", rev);
    memset(at(s, a + 36, len - 36), 0, len - 36);
    w32(s, a + 4, len);
    w16(s, a + FADT_SCI_INT, 9);
    w32(s, a + FADT_PM_TMR_BLK, pm_blk);
    w8(s, a + FADT_PM_TMR_LEN, pm_blk ? 4 : 0);
    w32(s, a + FADT_FLAGS, flags);
}

/* MCFG: PCI Firmware Specification 3.x, 4.1.2. */
static void mcfg_begin(struct sim *s, uint64_t a)
{
    uint8_t rsvd[8] = { 0 };
    sdt_begin(s, a, "MCFG", 1);
    sdt_add(s, a, rsvd, 8);
}

static void mcfg_add(struct sim *s, uint64_t a, uint64_t base, uint16_t seg, uint8_t b0,
                     uint8_t b1)
{
    uint8_t b[16] = { 0 };
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(base >> (8 * k));
    b[8] = (uint8_t)seg;
    b[9] = (uint8_t)(seg >> 8);
    b[10] = b0;
    b[11] = b1;
    sdt_add(s, a, b, sizeof b);
}

/* The MADT QEMU gives a q35 machine with n CPUs: one LAPIC per CPU, one I/O APIC at
 * 0xfec00000, IRQ0 -> GSI2 and the level-triggered SCI, LINT1 NMI on every CPU. */
static void madt_q35(struct sim *s, uint64_t a, int ncpus)
{
    madt_begin(s, a, 1, 0xfee00000u, 1);
    for (int i = 0; i < ncpus; i++)
        madt_lapic(s, a, (uint8_t)i, (uint8_t)i, 1);
    madt_ioapic(s, a, 0, 0xfec00000u, 0);
    madt_iso(s, a, 0, 2, 0);
    madt_iso(s, a, 9, 9, ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL);
    madt_lapic_nmi(s, a, 0xff, 0, 1);
    sdt_fix(s, a);
}

static void fadt_q35(struct sim *s, uint64_t a)
{
    fadt_begin(s, a, 244, 3, 0x608, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | F_RESET_REG_SUP);
    w16(s, a + FADT_IAPC_BOOT_ARCH, ACPI_BOOT_8042);
    gas(s, a + FADT_RESET_REG, 1, 8, 0, 0xcf9);
    w8(s, a + FADT_RESET_VALUE, 0x0f);
    w8(s, a + FADT_MINOR, 1);
    gas(s, a + FADT_X_PM_TMR_BLK, 1, 32, 0, 0x608);
    sdt_fix(s, a);
}

/* QEMU q35 under OVMF: RSDP revision 2, an XSDT (and an RSDT) listing FADT, MADT, an HPET
 * table the parser must skip, and an MCFG at 0xb0000000. */
static void build_q35(struct sim *s, int ncpus)
{
    const uint64_t ent[] = { FADT_PHYS, MADT_PHYS, HPET_PHYS, MCFG_PHYS };
    rsdp_build(s, RSDP_PHYS, 2, RSDT_PHYS, XSDT_PHYS);
    root_build(s, XSDT_PHYS, 1, ent, 4);
    root_build(s, RSDT_PHYS, 0, ent, 4);
    fadt_q35(s, FADT_PHYS);
    madt_q35(s, MADT_PHYS, ncpus);
    sdt_begin(s, HPET_PHYS, "HPET", 1);
    sdt_fix(s, HPET_PHYS);
    mcfg_begin(s, MCFG_PHYS);
    mcfg_add(s, MCFG_PHYS, 0xb0000000u, 0, 0, 255);
    sdt_fix(s, MCFG_PHYS);
}

/* Bochs BIOS on PIIX4: ACPI 1.0 RSDP + RSDT, a 116-byte revision 1 FADT with the PM timer
 * at 0xb008, I/O APIC ID after the CPUs, IRQ0 override plus level-triggered PCI IRQs. */
static void build_bochs(struct sim *s)
{
    const uint64_t ent[] = { FADT_PHYS, MADT_PHYS };
    rsdp_build(s, RSDP_PHYS, 0, RSDT_PHYS, 0);
    root_build(s, RSDT_PHYS, 0, ent, 2);
    fadt_begin(s, FADT_PHYS, 116, 1, 0xb008, (1u << 0) | (1u << 4));
    w16(s, FADT_PHYS + FADT_IAPC_BOOT_ARCH, 0xbeef); /* reserved in ACPI 1.0: junk ignored */
    sdt_fix(s, FADT_PHYS);
    madt_begin(s, MADT_PHYS, 1, 0xfee00000u, 1);
    madt_lapic(s, MADT_PHYS, 0, 0, 1);
    madt_ioapic(s, MADT_PHYS, 1, 0xfec00000u, 0);
    madt_iso(s, MADT_PHYS, 0, 2, 0);
    const uint8_t level[] = { 5, 9, 10, 11 };
    for (int i = 0; i < 4; i++)
        madt_iso(s, MADT_PHYS, level[i], level[i],
                 ACPI_INTI_POLARITY_HIGH | ACPI_INTI_TRIGGER_LEVEL);
    sdt_fix(s, MADT_PHYS);
}

/* ---- assertion helpers --------------------------------------------------------------- */

static void expect_warns(struct sim *s, unsigned n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (unsigned i = 0; i < n && i < s->nwarn; i++)
        assert_string_equal(s->warns[i], va_arg(ap, const char *));
    va_end(ap);
    if (s->nwarn != n) {
        for (unsigned i = 0; i < s->nwarn; i++)
            print_message("warning %u: %s\n", i, s->warns[i]);
    }
    assert_int_equal(s->nwarn, n);
    assert_int_equal(s->info.warnings, n);
}

static void expect_cpu(const struct acpi_info *info, unsigned i, uint32_t id, uint32_t uid,
                       uint32_t flags)
{
    assert_true(i < info->cpu_count);
    assert_int_equal(info->cpus[i].apic_id, id);
    assert_int_equal(info->cpus[i].acpi_uid, uid);
    assert_int_equal(info->cpus[i].flags, flags);
}

static void expect_summary(const struct acpi_info *info, const char *want)
{
    char buf[256];
    acpi_summary(info, buf, sizeof buf);
    assert_string_equal(buf, want);
}

/* ---- whole machines -------------------------------------------------------------------- */

static void test_q35_xsdt(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 4);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(in->rsdp_revision, 2);
    assert_string_equal(in->oem_id, "BOCHS");
    assert_int_equal(in->rsdp_phys, RSDP_PHYS);
    assert_int_equal(in->root_phys, XSDT_PHYS);
    assert_true(in->root_is_xsdt);

    assert_int_equal(in->madt_phys, MADT_PHYS);
    assert_int_equal(in->madt_revision, 1);
    assert_int_equal(in->lapic_phys, 0xfee00000u);
    assert_false(in->lapic_overridden);
    assert_true(in->pcat_compat);
    assert_int_equal(in->cpu_count, 4);
    assert_int_equal(in->cpu_enabled, 4);
    assert_int_equal(in->cpu_ignored, 0);
    assert_int_equal(in->cpu_dropped, 0);
    for (unsigned i = 0; i < 4; i++)
        expect_cpu(in, i, i, i, ACPI_CPU_ENABLED);
    assert_int_equal(in->ioapic_count, 1);
    assert_int_equal(in->ioapics[0].id, 0);
    assert_int_equal(in->ioapics[0].phys, 0xfec00000u);
    assert_int_equal(in->ioapics[0].gsi_base, 0);
    assert_int_equal(in->override_count, 2);
    assert_int_equal(in->overrides[0].bus, 0);
    assert_int_equal(in->overrides[0].source, 0);
    assert_int_equal(in->overrides[0].gsi, 2);
    assert_int_equal(in->overrides[0].flags, 0);
    assert_int_equal(in->overrides[1].source, 9);
    assert_int_equal(in->overrides[1].gsi, 9);
    assert_int_equal(in->overrides[1].flags & ACPI_INTI_TRIGGER_MASK, ACPI_INTI_TRIGGER_LEVEL);
    assert_int_equal(in->overrides[1].flags & ACPI_INTI_POLARITY_MASK, ACPI_INTI_POLARITY_HIGH);
    assert_int_equal(in->lapic_nmi_count, 1);
    assert_int_equal(in->lapic_nmis[0].acpi_uid, ACPI_UID_ALL);
    assert_int_equal(in->lapic_nmis[0].lint, 1);
    assert_int_equal(in->nmi_src_count, 0);

    assert_true(in->has_fadt);
    assert_int_equal(in->fadt_phys, FADT_PHYS);
    assert_int_equal(in->fadt_revision, 3);
    assert_int_equal(in->fadt_minor, 1);
    assert_int_equal(in->sci_irq, 9);
    assert_int_equal(in->pm_timer_port, 0x608);
    assert_int_equal(in->pm_timer_bits, 24);
    assert_true(in->boot_arch_valid);
    assert_int_equal(in->iapc_boot_arch, ACPI_BOOT_8042);
    assert_true(in->has_reset);
    assert_int_equal(in->reset_reg.space, ACPI_GAS_IO);
    assert_int_equal(in->reset_reg.bit_width, 8);
    assert_int_equal(in->reset_reg.address, 0xcf9);
    assert_int_equal(in->reset_value, 0x0f);

    assert_int_equal(in->mcfg_phys, MCFG_PHYS);
    assert_int_equal(in->mcfg_count, 1);
    assert_int_equal(in->mcfg[0].base, 0xb0000000u);
    assert_int_equal(in->mcfg[0].segment, 0);
    assert_int_equal(in->mcfg[0].bus_start, 0);
    assert_int_equal(in->mcfg[0].bus_end, 255);

    expect_summary(in, "acpi: rev 2 OEM BOCHS, 4 CPUs (4 enabled), 1 IOAPIC, 2 overrides, "
                       "MCFG 1 segment, PM timer 0x608/24-bit");
}

/* The RSDP is mapped 20, 36, then Length bytes; every table header (36 bytes) before the
 * table itself; nothing at all of the RSDT when the XSDT is good. */
static void test_q35_map_order(void **state)
{
    struct sim *s = *state;
    build_q35(s, 4);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);

    assert_true(s->nlog >= 5);
    assert_int_equal(s->log[0].phys, RSDP_PHYS);
    assert_int_equal(s->log[0].len, 20);
    assert_int_equal(s->log[1].phys, RSDP_PHYS);
    assert_int_equal(s->log[1].len, 36);
    assert_int_equal(s->log[2].phys, RSDP_PHYS);
    assert_int_equal(s->log[2].len, 36);
    assert_int_equal(s->log[3].phys, XSDT_PHYS);
    assert_int_equal(s->log[3].len, 36);
    assert_int_equal(s->log[4].phys, XSDT_PHYS);
    assert_int_equal(s->log[4].len, 36 + 4 * 8);

    const uint64_t tabs[] = { FADT_PHYS, MADT_PHYS, MCFG_PHYS, HPET_PHYS };
    for (int t = 0; t < 4; t++) {
        uint32_t full = r32(s, tabs[t] + 4);
        int seen_hdr = 0, seen_full = 0;
        for (unsigned i = 0; i < s->nlog; i++) {
            if (s->log[i].phys != tabs[t])
                continue;
            if (s->log[i].len == 36) {
                seen_hdr++;
            } else {
                assert_int_equal(s->log[i].len, full);
                assert_true(seen_hdr > 0);
                seen_full++;
            }
        }
        assert_true(seen_hdr > 0);
        assert_int_equal(seen_full, tabs[t] == HPET_PHYS ? 0 : 1); /* HPET: header only */
    }
    for (unsigned i = 0; i < s->nlog; i++)
        assert_true(s->log[i].phys != RSDT_PHYS);
}

static void test_bochs_rsdt(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_bochs(s);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(in->rsdp_revision, 0);
    assert_string_equal(in->oem_id, "BOCHS");
    assert_int_equal(in->root_phys, RSDT_PHYS);
    assert_false(in->root_is_xsdt);
    /* ACPI 1.0: only the 20-byte RSDP is ever mapped. */
    assert_int_equal(s->log[0].phys, RSDP_PHYS);
    assert_int_equal(s->log[0].len, 20);
    assert_int_equal(s->log[1].phys, RSDT_PHYS);

    assert_int_equal(in->cpu_count, 1);
    expect_cpu(in, 0, 0, 0, ACPI_CPU_ENABLED);
    assert_int_equal(in->ioapic_count, 1);
    assert_int_equal(in->ioapics[0].id, 1);
    assert_int_equal(in->override_count, 5);
    assert_int_equal(in->overrides[4].source, 11);
    assert_int_equal(in->overrides[4].gsi, 11);
    assert_int_equal(in->overrides[4].flags, 0xd);

    assert_true(in->has_fadt);
    assert_int_equal(in->fadt_revision, 1);
    assert_int_equal(in->fadt_minor, 0);
    assert_int_equal(in->pm_timer_port, 0xb008);
    assert_int_equal(in->pm_timer_bits, 24);
    assert_false(in->boot_arch_valid);
    assert_int_equal(in->iapc_boot_arch, 0);
    assert_false(in->has_reset);
    assert_int_equal(in->mcfg_phys, 0);
    assert_int_equal(in->mcfg_count, 0);

    expect_summary(in, "acpi: rev 0 OEM BOCHS, 1 CPU (1 enabled), 1 IOAPIC, 5 overrides, "
                       "no MCFG, PM timer 0xb008/24-bit");
}

static void test_rev2_without_xsdt_uses_rsdt(void **state)
{
    struct sim *s = *state;
    build_q35(s, 2);
    rsdp_build(s, RSDP_PHYS, 2, RSDT_PHYS, 0);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(s->info.root_phys, RSDT_PHYS);
    assert_false(s->info.root_is_xsdt);
    assert_int_equal(s->info.cpu_count, 2);
    assert_int_equal(s->info.mcfg_count, 1);
}

/* ---- RSDP ----------------------------------------------------------------------------- */

static void test_bad_arguments(void **state)
{
    struct sim *s = *state;
    struct acpi_env no_map = { NULL, sim_warn, s };
    build_q35(s, 1);

    assert_int_equal(acpi_parse(NULL, RSDP_PHYS, &s->info), ACPI_ERR_ARGS);
    assert_int_equal(acpi_parse(&no_map, RSDP_PHYS, &s->info), ACPI_ERR_ARGS);
    assert_int_equal(acpi_parse(&s->env, RSDP_PHYS, NULL), ACPI_ERR_ARGS);
    s->info.cpu_count = 77;
    assert_int_equal(run(s, 0), ACPI_ERR_NO_RSDP);
    assert_int_equal(s->info.cpu_count, 0); /* zeroed even on error */
    expect_warns(s, 0);
    assert_int_equal(s->nlog, 0);
}

static void test_rsdp_unmappable(void **state)
{
    struct sim *s = *state;
    assert_int_equal(run(s, UNMAPPED), ACPI_ERR_RSDP_MAP);
    expect_warns(s, 1, "acpi: RSDP at 0x40000000: cannot be mapped");
    /* An address whose 20 bytes would wrap past 2^64 is never handed to map(). */
    assert_int_equal(run(s, UINT64_MAX - 4), ACPI_ERR_RSDP_MAP);
    assert_int_equal(s->nlog, 0);
}

static void test_rsdp_bad_signature(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    w8(s, RSDP_PHYS + 6, 'X');
    rsdp_fix(s, RSDP_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_RSDP_SIGNATURE);
    expect_warns(s, 1, "acpi: RSDP at 0xf5a40: signature \"RSD PTX\" is not \"RSD PTR \"");

    w8(s, RSDP_PHYS + 0, 0x01); /* unprintable bytes are shown as '?' */
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_RSDP_SIGNATURE);
    expect_warns(s, 1, "acpi: RSDP at 0xf5a40: signature \"?SD PTX\" is not \"RSD PTR \"");
}

static void test_rsdp_bad_checksum(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    w8(s, RSDP_PHYS + 8, (uint8_t)(*at(s, RSDP_PHYS + 8, 1) + 0x3c));
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_RSDP_CHECKSUM);
    expect_warns(s, 1, "acpi: RSDP at 0xf5a40: checksum mismatch (sum 0x3c)");

    /* ACPI 1.0 RSDP: bytes after the first 20 are not ours to check (or read). */
    build_bochs(s);
    memset(at(s, RSDP_PHYS + 20, 16), 0xa5, 16);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
}

static void test_rsdp_bad_extended_checksum(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    w8(s, RSDP_PHYS + 33, 1); /* reserved byte: only the extended checksum covers it */
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_RSDP_XCHECKSUM);
    expect_warns(s, 1, "acpi: RSDP at 0xf5a40: extended checksum mismatch (sum 0x01)");

    /* A longer RSDP is checksummed over its whole Length. */
    rsdp_build(s, RSDP_PHYS, 2, RSDT_PHYS, XSDT_PHYS);
    w32(s, RSDP_PHYS + 20, 40);
    rsdp_fix(s, RSDP_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    assert_int_equal(s->log[2].len, 40);
    w8(s, RSDP_PHYS + 38, 2);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_RSDP_XCHECKSUM);
}

static void test_rsdp_bad_length(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    w32(s, RSDP_PHYS + 20, 35);
    rsdp_fix(s, RSDP_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_RSDP_LENGTH);
    expect_warns(s, 1, "acpi: RSDP at 0xf5a40: revision 2 length 35 is not between 36 and 4096");

    w32(s, RSDP_PHYS + 20, 0x80000000u);
    w8(s, RSDP_PHYS + 8, 0);
    w8(s, RSDP_PHYS + 8, (uint8_t)-sum_bytes(at(s, RSDP_PHYS, 20), 20));
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_RSDP_LENGTH);
    for (unsigned i = 0; i < s->nlog; i++)
        assert_true(s->log[i].len <= 36); /* the absurd length was never mapped */

    /* RSDP at the very end of RAM: 20 bytes readable, 36 not. */
    uint64_t end = LOW_BASE + LOW_SIZE - 20;
    memcpy(at(s, end, 20), at(s, RSDP_PHYS, 20), 20);
    assert_int_equal(run(s, end), ACPI_ERR_RSDP_MAP);
    expect_warns(s, 1, "acpi: RSDP at 0xfffec: revision 2 structure cannot be mapped");
}

static void test_strerror(void **state)
{
    (void)state;
    const char *seen[10];
    for (int code = 0; code >= ACPI_ERR_NO_MADT; code--) {
        const char *m = acpi_strerror(code);
        assert_non_null(m);
        assert_true(strlen(m) > 10);
        assert_int_equal(m[strlen(m) - 1], '.');
        for (int k = 0; k < -code; k++)
            assert_string_not_equal(m, seen[k]);
        seen[-code] = m;
    }
    assert_string_equal(acpi_strerror(ACPI_ERR_RSDP_CHECKSUM),
                        "The RSDP checksum over its first 20 bytes is wrong.");
    assert_string_equal(acpi_strerror(-1000), "Unknown ACPI parser error.");
    assert_string_equal(acpi_strerror(5), "Unknown ACPI parser error.");
}

/* ---- root tables ---------------------------------------------------------------------- */

static void test_xsdt_unmappable_falls_back(void **state)
{
    struct sim *s = *state;
    build_q35(s, 2);
    rsdp_build(s, RSDP_PHYS, 2, RSDT_PHYS, UNMAPPED);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 2, "acpi: XSDT at 0x40000000: header cannot be mapped, table ignored",
                 "acpi: XSDT at 0x40000000 is unusable, falling back to the RSDT at 0x7fe0000");
    assert_int_equal(s->info.root_phys, RSDT_PHYS);
    assert_false(s->info.root_is_xsdt);
    assert_int_equal(s->info.cpu_count, 2);
    assert_int_equal(s->info.pm_timer_port, 0x608);

    /* No RSDT to fall back to: nothing can be found. */
    rsdp_build(s, RSDP_PHYS, 2, 0, UNMAPPED);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_ROOT);
    expect_warns(s, 1, "acpi: XSDT at 0x40000000: header cannot be mapped, table ignored");
}

static void test_xsdt_bad_checksum_and_signature(void **state)
{
    struct sim *s = *state;
    build_q35(s, 2);
    w8(s, XSDT_PHYS + 20, (uint8_t)(*at(s, XSDT_PHYS + 20, 1) ^ 0x01)); /* OEM table ID */
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    assert_int_equal(s->nwarn, 2);
    assert_non_null(strstr(s->warns[0], "acpi: XSDT at 0x7fe0100: checksum mismatch (sum 0x"));
    assert_non_null(strstr(s->warns[0], "), table ignored"));
    assert_false(s->info.root_is_xsdt);

    /* The RSDP pointing at something that is not an XSDT. */
    build_q35(s, 2);
    rsdp_build(s, RSDP_PHYS, 2, RSDT_PHYS, MADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 2, "acpi: XSDT at 0x7ff0000: signature \"APIC\" is not \"XSDT\", table ignored",
                 "acpi: XSDT at 0x7ff0000 is unusable, falling back to the RSDT at 0x7fe0000");

    /* Both roots bad. */
    w8(s, RSDT_PHYS + 20, 0);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_ROOT);
    assert_int_equal(s->nwarn, 3);
    assert_non_null(strstr(s->warns[2], "acpi: RSDT at 0x7fe0000: checksum mismatch"));
}

static void test_root_lengths(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    /* Length not a multiple of the entry size: whole entries used, the rest reported. */
    const uint8_t junk[4] = { 0x11, 0x22, 0x33, 0x44 };
    sdt_add(s, XSDT_PHYS, junk, 4);
    sdt_fix(s, XSDT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: XSDT at 0x7fe0100: 4 stray bytes after 4 entries, ignored");
    assert_int_equal(s->info.mcfg_count, 1);

    /* A length beyond the cap is refused before anything that long is mapped. */
    w32(s, XSDT_PHYS + 4, 0x200000);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 2,
                 "acpi: XSDT at 0x7fe0100: length 2097152 exceeds the 1048576-byte limit, "
                 "table ignored",
                 "acpi: XSDT at 0x7fe0100 is unusable, falling back to the RSDT at 0x7fe0000");
    for (unsigned i = 0; i < s->nlog; i++)
        assert_true(s->log[i].len <= ACPI_TABLE_MAX_LEN);

    /* An empty XSDT (header only) is valid and lists nothing: no MADT. */
    root_build(s, XSDT_PHYS, 1, NULL, 0);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_MADT);
    expect_warns(s, 1, "acpi: no usable FADT: no PM timer, reset register or boot flags");
    assert_true(s->info.root_is_xsdt);
}

static void test_xsdt_bad_entries(void **state)
{
    struct sim *s = *state;
    build_q35(s, 2);
    const uint64_t ent[] = { 0, UNMAPPED, HIGH_BASE + HIGH_SIZE - 8, FADT_PHYS, MADT_PHYS,
                             MCFG_PHYS };
    root_build(s, XSDT_PHYS, 1, ent, 6);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 3, "acpi: XSDT entry 0 is a null pointer, skipped",
                 "acpi: XSDT entry 1: table at 0x40000000 cannot be mapped, skipped",
                 "acpi: XSDT entry 2: table at 0x7fffff8 cannot be mapped, skipped");
    assert_true(s->info.root_is_xsdt);
    assert_int_equal(s->info.cpu_count, 2);
    assert_true(s->info.has_fadt);
    assert_int_equal(s->info.mcfg_count, 1);
}

/* A root table full of null entries: the warnings stop after ACPI_WARN_MAX. */
static void test_warning_flood_capped(void **state)
{
    struct sim *s = *state;
    build_q35(s, 2);
    uint64_t ent[100] = { FADT_PHYS, MADT_PHYS };
    root_build(s, XSDT_PHYS, 1, ent, 100);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    assert_int_equal(s->info.warnings, 98);
    assert_int_equal(s->nwarn, ACPI_WARN_MAX + 1);
    assert_string_equal(s->warns[0], "acpi: XSDT entry 2 is a null pointer, skipped");
    assert_string_equal(s->warns[ACPI_WARN_MAX - 1], "acpi: XSDT entry 33 is a null pointer, skipped");
    assert_string_equal(s->warns[ACPI_WARN_MAX],
                        "acpi: too many problems, further warnings suppressed");
    assert_int_equal(s->info.cpu_count, 2);
    expect_summary(&s->info, "acpi: rev 2 OEM BOCHS, 2 CPUs (2 enabled), 1 IOAPIC, 2 overrides, "
                             "no MCFG, PM timer 0x608/24-bit, 98 warnings");
}

static void test_missing_madt(void **state)
{
    struct sim *s = *state;
    build_q35(s, 2);
    const uint64_t ent[] = { FADT_PHYS, MCFG_PHYS };
    root_build(s, XSDT_PHYS, 1, ent, 2);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_MADT);
    expect_warns(s, 0);
    /* The rest is still reported. */
    assert_int_equal(s->info.pm_timer_port, 0x608);
    assert_int_equal(s->info.mcfg_count, 1);
    assert_int_equal(s->info.madt_phys, 0);
    assert_int_equal(s->info.cpu_count, 0);
}

/* ---- MADT framing ---------------------------------------------------------------------- */

static void test_madt_bad_checksum(void **state)
{
    struct sim *s = *state;
    build_q35(s, 4);
    w8(s, MADT_PHYS + 9, (uint8_t)(*at(s, MADT_PHYS + 9, 1) + 0x3c));

    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_MADT);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: checksum mismatch (sum 0x3c), table ignored");
    assert_int_equal(s->info.cpu_count, 0);
    assert_int_equal(s->info.madt_phys, 0);
    assert_true(s->info.has_fadt);
    expect_summary(&s->info, "acpi: rev 2 OEM BOCHS, 0 CPUs (0 enabled), 0 IOAPICs, "
                             "0 overrides, MCFG 1 segment, PM timer 0x608/24-bit, 1 warning");

    /* A later valid MADT is used instead. */
    madt_q35(s, MADT2_PHYS, 3);
    const uint64_t ent[] = { FADT_PHYS, MADT_PHYS, MADT2_PHYS, MCFG_PHYS };
    root_build(s, XSDT_PHYS, 1, ent, 4);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    assert_int_equal(s->nwarn, 1);
    assert_int_equal(s->info.madt_phys, MADT2_PHYS);
    assert_int_equal(s->info.cpu_count, 3);
}

static void test_madt_duplicate_table(void **state)
{
    struct sim *s = *state;
    build_q35(s, 4);
    madt_q35(s, MADT2_PHYS, 3);
    const uint64_t ent[] = { FADT_PHYS, MADT_PHYS, MADT2_PHYS, MCFG_PHYS };
    root_build(s, XSDT_PHYS, 1, ent, 4);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: MADT at 0x7fe6000: another MADT (at 0x7ff0000) is already in use, "
                       "table ignored");
    assert_int_equal(s->info.cpu_count, 4);
}

static void test_madt_bad_lengths(void **state)
{
    struct sim *s = *state;
    build_q35(s, 4);
    w32(s, MADT_PHYS + 4, 20);
    sdt_fix(s, MADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_MADT);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: length 20 is shorter than its 36-byte header, "
                       "table ignored");

    w32(s, MADT_PHYS + 4, 0x200000);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_MADT);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: length 2097152 exceeds the 1048576-byte limit, "
                       "table ignored");

    /* Plausible length, but past the end of what the caller lets us read. */
    w32(s, MADT_PHYS + 4, 0x10001);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_MADT);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: its 65537 bytes cannot be mapped, table ignored");

    /* A checksummed header with no room for the local APIC address and flags. */
    madt_begin(s, MADT_PHYS, 1, 0xfee00000u, 1);
    w32(s, MADT_PHYS + 4, 40);
    sdt_fix(s, MADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_ERR_NO_MADT);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: length 40 is shorter than its 44-byte fixed "
                       "part, table ignored");
    assert_int_equal(s->info.lapic_phys, 0);

    /* A MADT with no entries at all is valid. */
    madt_begin(s, MADT_PHYS, 1, 0xfee00000u, 0);
    sdt_fix(s, MADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(s->info.lapic_phys, 0xfee00000u);
    assert_false(s->info.pcat_compat);
    assert_int_equal(s->info.cpu_count, 0);
}

static void test_madt_zero_length_entry(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    madt_begin(s, MADT_PHYS, 1, 0xfee00000u, 1);
    madt_lapic(s, MADT_PHYS, 0, 0, 1);
    const uint8_t zero[8] = { 0, 0, 1, 1, 1, 0, 0, 0 };
    sdt_add(s, MADT_PHYS, zero, sizeof zero);
    madt_lapic(s, MADT_PHYS, 2, 2, 1);
    sdt_fix(s, MADT_PHYS);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK); /* terminates, keeps what came before */
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: entry at offset 52 (type 0) has length 0, "
                       "rest of table ignored");
    assert_int_equal(s->info.cpu_count, 1);
    expect_cpu(&s->info, 0, 0, 0, ACPI_CPU_ENABLED);

    /* Length 1 cannot advance either. */
    w8(s, MADT_PHYS + 53, 1);
    sdt_fix(s, MADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: entry at offset 52 (type 0) has length 1, "
                       "rest of table ignored");
}

static void test_madt_truncated_entry(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    madt_begin(s, MADT_PHYS, 1, 0xfee00000u, 1);
    const uint8_t short_lapic[6] = { 0, 6, 0, 0, 1, 0 };
    sdt_add(s, MADT_PHYS, short_lapic, sizeof short_lapic);
    const uint8_t short_ioapic[10] = { 1, 10, 3, 0, 0, 0, 0xc0, 0xfe, 0, 0 };
    sdt_add(s, MADT_PHYS, short_ioapic, sizeof short_ioapic);
    madt_lapic(s, MADT_PHYS, 1, 1, 1);
    const uint8_t unknown[3] = { 0x7f, 3, 0xaa }; /* an OEM type: skipped silently */
    sdt_add(s, MADT_PHYS, unknown, sizeof unknown);
    madt_ioapic(s, MADT_PHYS, 0, 0xfec00000u, 0);
    sdt_fix(s, MADT_PHYS);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 2,
                 "acpi: MADT at 0x7ff0000: entry at offset 44 (type 0) has length 6, less than "
                 "the 8 its type needs, entry skipped",
                 "acpi: MADT at 0x7ff0000: entry at offset 50 (type 1) has length 10, less than "
                 "the 12 its type needs, entry skipped");
    assert_int_equal(s->info.cpu_count, 1);
    expect_cpu(&s->info, 0, 1, 1, ACPI_CPU_ENABLED);
    assert_int_equal(s->info.ioapic_count, 1);
    assert_int_equal(s->info.ioapics[0].id, 0);
}

static void test_madt_overlong_entry(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    madt_begin(s, MADT_PHYS, 1, 0xfee00000u, 1);
    /* Longer than its type's minimum but inside the table: accepted (a future revision). */
    const uint8_t long_lapic[12] = { 0, 12, 4, 5, 1, 0, 0, 0, 0xee, 0xee, 0xee, 0xee };
    sdt_add(s, MADT_PHYS, long_lapic, sizeof long_lapic);
    madt_lapic(s, MADT_PHYS, 6, 7, 1);
    sdt_fix(s, MADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(s->info.cpu_count, 2);
    expect_cpu(&s->info, 0, 5, 4, ACPI_CPU_ENABLED);
    expect_cpu(&s->info, 1, 7, 6, ACPI_CPU_ENABLED);

    /* The last entry claims more bytes than the table has left. */
    const uint8_t overlong[12] = { 1, 40, 9, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0 };
    sdt_add(s, MADT_PHYS, overlong, sizeof overlong);
    sdt_fix(s, MADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: entry at offset 64 (type 1, length 40) runs "
                       "past the table end (76), rest of table ignored");
    assert_int_equal(s->info.cpu_count, 2);
    assert_int_equal(s->info.ioapic_count, 0);

    /* A single stray byte after the last entry. */
    madt_begin(s, MADT_PHYS, 1, 0xfee00000u, 1);
    madt_lapic(s, MADT_PHYS, 0, 0, 1);
    const uint8_t stray = 0;
    sdt_add(s, MADT_PHYS, &stray, 1);
    sdt_fix(s, MADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: stray byte at offset 52 after the last entry, "
                       "ignored");
    assert_int_equal(s->info.cpu_count, 1);
}

/* ---- MADT contents --------------------------------------------------------------------- */

static void test_madt_x2apic(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 1);
    madt_begin(s, MADT_PHYS, 4, 0xfee00000u, 0);
    madt_lapic(s, MADT_PHYS, 0, 0, 1);
    madt_lapic(s, MADT_PHYS, 1, 1, 1);
    madt_x2apic(s, MADT_PHYS, 256, 1, 1000);
    madt_x2apic(s, MADT_PHYS, 300, 1, 1001);
    madt_x2apic(s, MADT_PHYS, 0xffffffffu, 1, 1002);
    madt_x2apic_nmi(s, MADT_PHYS, 0x5, 0xffffffffu, 1);
    madt_x2apic_nmi(s, MADT_PHYS, 0, 1000, 0);
    madt_lapic_nmi(s, MADT_PHYS, 1, 0, 1);
    madt_nmi_src(s, MADT_PHYS, 0xf, 23);
    sdt_fix(s, MADT_PHYS);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: x2APIC entry for ACPI UID 1002 has the "
                       "broadcast ID 0xffffffff, entry skipped");
    assert_int_equal(in->madt_revision, 4);
    assert_int_equal(in->cpu_count, 4);
    assert_int_equal(in->cpu_enabled, 4);
    expect_cpu(in, 0, 0, 0, ACPI_CPU_ENABLED);
    expect_cpu(in, 1, 1, 1, ACPI_CPU_ENABLED);
    expect_cpu(in, 2, 256, 1000, ACPI_CPU_ENABLED | ACPI_CPU_X2APIC_ENTRY);
    expect_cpu(in, 3, 300, 1001, ACPI_CPU_ENABLED | ACPI_CPU_X2APIC_ENTRY);
    assert_int_equal(in->lapic_nmi_count, 3);
    assert_int_equal(in->lapic_nmis[0].acpi_uid, ACPI_UID_ALL);
    assert_int_equal(in->lapic_nmis[0].flags, 0x5);
    assert_int_equal(in->lapic_nmis[0].lint, 1);
    assert_int_equal(in->lapic_nmis[1].acpi_uid, 1000);
    assert_int_equal(in->lapic_nmis[1].lint, 0);
    assert_int_equal(in->lapic_nmis[2].acpi_uid, 1); /* type 4 UID other than 0xff kept */
    assert_int_equal(in->nmi_src_count, 1);
    assert_int_equal(in->nmi_srcs[0].gsi, 23);
    assert_int_equal(in->nmi_srcs[0].flags, 0xf);
}

static void test_madt_disabled_and_online_capable(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 1);
    for (int rev = 5; rev >= 4; rev--) {
        madt_begin(s, MADT_PHYS, (uint8_t)rev, 0xfee00000u, 1);
        madt_lapic(s, MADT_PHYS, 0, 0, 1);          /* enabled */
        madt_lapic(s, MADT_PHYS, 1, 1, 0);          /* absent */
        madt_lapic(s, MADT_PHYS, 2, 2, 2);          /* online-capable (hot-plug) */
        madt_lapic(s, MADT_PHYS, 3, 3, 3);          /* both */
        madt_x2apic(s, MADT_PHYS, 400, 0, 400);     /* absent */
        madt_x2apic(s, MADT_PHYS, 401, 2, 401);     /* online-capable */
        sdt_fix(s, MADT_PHYS);
        assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
        expect_warns(s, 0);
        if (rev == 5) {
            assert_int_equal(in->cpu_count, 4);
            assert_int_equal(in->cpu_enabled, 2);
            assert_int_equal(in->cpu_ignored, 2);
            expect_cpu(in, 0, 0, 0, ACPI_CPU_ENABLED);
            expect_cpu(in, 1, 2, 2, ACPI_CPU_ONLINE_CAPABLE);
            expect_cpu(in, 2, 3, 3, ACPI_CPU_ENABLED); /* bit 1 reserved when enabled */
            expect_cpu(in, 3, 401, 401, ACPI_CPU_ONLINE_CAPABLE | ACPI_CPU_X2APIC_ENTRY);
            expect_summary(in, "acpi: rev 2 OEM BOCHS, 4 CPUs (2 enabled), 0 IOAPICs, "
                               "0 overrides, MCFG 1 segment, PM timer 0x608/24-bit");
        } else {
            /* Before MADT revision 5 (ACPI 6.3) bit 1 is reserved: not online-capable. */
            assert_int_equal(in->cpu_count, 2);
            assert_int_equal(in->cpu_enabled, 2);
            assert_int_equal(in->cpu_ignored, 4);
            expect_cpu(in, 0, 0, 0, ACPI_CPU_ENABLED);
            expect_cpu(in, 1, 3, 3, ACPI_CPU_ENABLED);
        }
    }
}

static void test_madt_lapic_override(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    madt_begin(s, MADT_PHYS, 3, 0xfee00000u, 1);
    madt_lapic(s, MADT_PHYS, 0, 0, 1);
    madt_lapic_addr(s, MADT_PHYS, 0x100fee00000ull);
    madt_lapic_addr(s, MADT_PHYS, 0x200fee00000ull);
    sdt_fix(s, MADT_PHYS);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: MADT at 0x7ff0000: second Local APIC Address Override "
                       "(0x200fee00000) ignored");
    assert_int_equal(s->info.lapic_phys, 0x100fee00000ull);
    assert_true(s->info.lapic_overridden);
}

static void test_madt_too_many(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 1);
    madt_begin(s, MADT_PHYS, 5, 0xfee00000u, 1);
    for (uint32_t i = 0; i < 300; i++)
        madt_x2apic(s, MADT_PHYS, i, 1, i);
    madt_x2apic(s, MADT_PHYS, 1000, 0, 1000); /* disabled: counted, not dropped */
    for (uint32_t i = 0; i < ACPI_MAX_IOAPICS + 1; i++)
        madt_ioapic(s, MADT_PHYS, (uint8_t)i, 0xfec00000u + 0x1000 * i, 24 * i);
    for (uint32_t i = 0; i < ACPI_MAX_OVERRIDES + 2; i++)
        madt_iso(s, MADT_PHYS, (uint8_t)i, i, 0);
    for (uint32_t i = 0; i < ACPI_MAX_NMI_SRCS + 3; i++)
        madt_nmi_src(s, MADT_PHYS, 0, 100 + i);
    for (uint32_t i = 0; i < ACPI_MAX_LAPIC_NMIS + 4; i++)
        madt_x2apic_nmi(s, MADT_PHYS, 0, i, 1);
    sdt_fix(s, MADT_PHYS);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 5, "acpi: MADT at 0x7ff0000: 300 usable CPUs listed, only the first 256 are kept",
                 "acpi: MADT at 0x7ff0000: 17 I/O APICs listed, only the first 16 are kept",
                 "acpi: MADT at 0x7ff0000: 34 interrupt source overrides listed, only the first "
                 "32 are kept",
                 "acpi: MADT at 0x7ff0000: 19 NMI sources listed, only the first 16 are kept",
                 "acpi: MADT at 0x7ff0000: 260 local APIC NMIs listed, only the first 256 are kept");
    assert_int_equal(in->nmi_src_dropped, 3);
    assert_int_equal(in->nmi_srcs[15].gsi, 115);
    assert_int_equal(in->lapic_nmi_dropped, 4);
    assert_int_equal(in->lapic_nmis[255].acpi_uid, 255);
    assert_int_equal(in->cpu_count, ACPI_MAX_CPUS);
    assert_int_equal(in->cpu_enabled, ACPI_MAX_CPUS);
    assert_int_equal(in->cpu_dropped, 44);
    assert_int_equal(in->cpu_ignored, 1);
    expect_cpu(in, 255, 255, 255, ACPI_CPU_ENABLED | ACPI_CPU_X2APIC_ENTRY);
    assert_int_equal(in->ioapic_count, ACPI_MAX_IOAPICS);
    assert_int_equal(in->ioapic_dropped, 1);
    assert_int_equal(in->ioapics[15].phys, 0xfec0f000u);
    assert_int_equal(in->ioapics[15].gsi_base, 360);
    assert_int_equal(in->override_count, ACPI_MAX_OVERRIDES);
    assert_int_equal(in->override_dropped, 2);
    expect_summary(in, "acpi: rev 2 OEM BOCHS, 256 CPUs (256 enabled), 16 IOAPICs, "
                       "32 overrides, MCFG 1 segment, PM timer 0x608/24-bit, 5 warnings");
}

static void test_madt_duplicate_ids(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 1);
    madt_begin(s, MADT_PHYS, 5, 0xfee00000u, 1);
    madt_lapic(s, MADT_PHYS, 0, 0, 1);
    madt_lapic(s, MADT_PHYS, 1, 1, 1);
    madt_lapic(s, MADT_PHYS, 2, 1, 1);         /* same APIC ID again */
    madt_x2apic(s, MADT_PHYS, 0, 1, 7);        /* the same CPU again as x2APIC */
    madt_lapic(s, MADT_PHYS, 3, 1, 0);         /* disabled duplicate: just ignored */
    madt_ioapic(s, MADT_PHYS, 0, 0xfec00000u, 0);
    madt_ioapic(s, MADT_PHYS, 0, 0xfec01000u, 24);
    sdt_fix(s, MADT_PHYS);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 3,
                 "acpi: MADT at 0x7ff0000: APIC ID 1 listed twice (ACPI UIDs 1 and 2), second "
                 "entry ignored",
                 "acpi: MADT at 0x7ff0000: APIC ID 0 listed twice (ACPI UIDs 0 and 7), second "
                 "entry ignored",
                 "acpi: MADT at 0x7ff0000: I/O APIC ID 0 listed twice, second entry ignored");
    assert_int_equal(in->cpu_count, 2);
    assert_int_equal(in->cpu_ignored, 1);
    expect_cpu(in, 0, 0, 0, ACPI_CPU_ENABLED);
    expect_cpu(in, 1, 1, 1, ACPI_CPU_ENABLED);
    assert_int_equal(in->ioapic_count, 1);
    assert_int_equal(in->ioapics[0].phys, 0xfec00000u);
}

/* ---- MCFG ------------------------------------------------------------------------------ */

static void test_mcfg_two_segments(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 4);
    mcfg_begin(s, MCFG_PHYS);
    mcfg_add(s, MCFG_PHYS, 0xb0000000u, 0, 0, 255);
    mcfg_add(s, MCFG_PHYS, 0x38000000000ull, 1, 0x80, 0xbf);
    sdt_fix(s, MCFG_PHYS);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(in->mcfg_count, 2);
    assert_int_equal(in->mcfg[0].base, 0xb0000000u);
    assert_int_equal(in->mcfg[1].base, 0x38000000000ull);
    assert_int_equal(in->mcfg[1].segment, 1);
    assert_int_equal(in->mcfg[1].bus_start, 0x80);
    assert_int_equal(in->mcfg[1].bus_end, 0xbf);
    expect_summary(in, "acpi: rev 2 OEM BOCHS, 4 CPUs (4 enabled), 1 IOAPIC, 2 overrides, "
                       "MCFG 2 segments, PM timer 0x608/24-bit");

    /* An inverted bus range and a zero base are skipped; stray bytes are reported. */
    mcfg_add(s, MCFG_PHYS, 0xc0000000u, 2, 9, 8);
    mcfg_add(s, MCFG_PHYS, 0, 3, 0, 1);
    const uint8_t junk[5] = { 1, 2, 3, 4, 5 };
    sdt_add(s, MCFG_PHYS, junk, sizeof junk);
    sdt_fix(s, MCFG_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 3, "acpi: MCFG at 0x7fe3000: 5 stray bytes after 4 allocations, ignored",
                 "acpi: MCFG at 0x7fe3000: allocation 2 (base 0xc0000000, segment 2, buses 9-8) "
                 "is invalid, skipped",
                 "acpi: MCFG at 0x7fe3000: allocation 3 (base 0x0, segment 3, buses 0-1) is "
                 "invalid, skipped");
    assert_int_equal(in->mcfg_count, 2);

    /* More allocations than the array holds. */
    mcfg_begin(s, MCFG_PHYS);
    for (int i = 0; i < ACPI_MAX_MCFG + 1; i++)
        mcfg_add(s, MCFG_PHYS, 0xb0000000u + 0x10000000ull * i, (uint16_t)i, 0, 255);
    sdt_fix(s, MCFG_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: MCFG at 0x7fe3000: 17 allocations listed, only the first 16 are kept");
    assert_int_equal(in->mcfg_count, ACPI_MAX_MCFG);
    assert_int_equal(in->mcfg_dropped, 1);
}

/* ---- FADT ------------------------------------------------------------------------------ */

static void test_fadt_extended_32bit_timer(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 1);
    fadt_begin(s, FADT_PHYS, 276, 6, 0x608, F_TMR_VAL_EXT);
    w8(s, FADT_PHYS + FADT_MINOR, 5);
    gas(s, FADT_PHYS + FADT_X_PM_TMR_BLK, 1, 32, 3, 0x608);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(in->fadt_revision, 6);
    assert_int_equal(in->fadt_minor, 5);
    assert_int_equal(in->pm_timer_port, 0x608);
    assert_int_equal(in->pm_timer_bits, 32);
    assert_int_equal(in->fadt_flags, F_TMR_VAL_EXT);
    assert_false(in->has_reset);
    expect_summary(in, "acpi: rev 2 OEM BOCHS, 1 CPU (1 enabled), 1 IOAPIC, 2 overrides, "
                       "MCFG 1 segment, PM timer 0x608/32-bit");

    /* Only the extended block is set: it is used. */
    w32(s, FADT_PHYS + FADT_PM_TMR_BLK, 0);
    w8(s, FADT_PHYS + FADT_PM_TMR_LEN, 0);
    gas(s, FADT_PHYS + FADT_X_PM_TMR_BLK, 1, 32, 3, 0x1008);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(in->pm_timer_port, 0x1008);

    /* They disagree: the extended one wins (5.2.9), with a warning. */
    w32(s, FADT_PHYS + FADT_PM_TMR_BLK, 0x408);
    w8(s, FADT_PHYS + FADT_PM_TMR_LEN, 4);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: FADT at 0x7fe1000: X_PM_TMR_BLK 0x1008 and PM_TMR_BLK 0x408 "
                       "disagree, using X_PM_TMR_BLK");
    assert_int_equal(in->pm_timer_port, 0x1008);

    /* Extended block in memory space: not an I/O port, fall back to PM_TMR_BLK. */
    gas(s, FADT_PHYS + FADT_X_PM_TMR_BLK, 0, 32, 3, 0xfed00000u);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: FADT at 0x7fe1000: X_PM_TMR_BLK (space 0, address 0xfed00000) is "
                       "not an I/O port, using PM_TMR_BLK");
    assert_int_equal(in->pm_timer_port, 0x408);
    assert_int_equal(in->pm_timer_bits, 32);

    /* Hardware-reduced ACPI: no PM timer at all. */
    w32(s, FADT_PHYS + FADT_FLAGS, F_TMR_VAL_EXT | F_HW_REDUCED);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(in->pm_timer_port, 0);
    assert_int_equal(in->pm_timer_bits, 0);
    expect_summary(in, "acpi: rev 2 OEM BOCHS, 1 CPU (1 enabled), 1 IOAPIC, 2 overrides, "
                       "MCFG 1 segment, no PM timer");

    /* PM_TMR_LEN other than 4 means no usable legacy timer. */
    fadt_begin(s, FADT_PHYS, 116, 1, 0x408, 0);
    w8(s, FADT_PHYS + FADT_PM_TMR_LEN, 2);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: FADT at 0x7fe1000: PM_TMR_BLK 0x408 with PM_TMR_LEN 2 is not a "
                       "usable timer, PM timer ignored");
    assert_int_equal(in->pm_timer_port, 0);
}

/* X_PM_TMR_BLK bytes beyond a short FADT's length are not part of it. */
static void test_fadt_short_tables(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 1);
    fadt_begin(s, FADT_PHYS, 116, 1, 0xb008, F_RESET_REG_SUP);
    gas(s, FADT_PHYS + FADT_X_PM_TMR_BLK, 1, 32, 3, 0x608); /* beyond the table */
    gas(s, FADT_PHYS + FADT_RESET_REG, 1, 8, 0, 0xcf9);      /* beyond the table */
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_int_equal(in->pm_timer_port, 0xb008);
    assert_false(in->has_reset);
    assert_int_equal(in->fadt_minor, 0);

    fadt_begin(s, FADT_PHYS, 100, 1, 0xb008, 0);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 2, "acpi: FADT at 0x7fe1000: length 100 is shorter than the 116 bytes of an "
                       "ACPI 1.0 FADT, table ignored",
                 "acpi: no usable FADT: no PM timer, reset register or boot flags");
    assert_false(in->has_fadt);
    assert_int_equal(in->fadt_phys, 0);
}

static void test_fadt_reset_register(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 1);
    /* A reset register without RESET_REG_SUP is not valid. */
    w32(s, FADT_PHYS + FADT_FLAGS, 0);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_false(in->has_reset);

    /* PCI configuration space: device 0x1f function 0 offset 0xac, as some chipsets do. */
    w32(s, FADT_PHYS + FADT_FLAGS, F_RESET_REG_SUP);
    gas(s, FADT_PHYS + FADT_RESET_REG, 2, 8, 1, 0x1f000000ac);
    w8(s, FADT_PHYS + FADT_RESET_VALUE, 6);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 0);
    assert_true(in->has_reset);
    assert_int_equal(in->reset_reg.space, ACPI_GAS_PCI_CFG);
    assert_int_equal(in->reset_reg.access_size, 1);
    assert_int_equal(in->reset_reg.address, 0x1f000000ac);
    assert_int_equal(in->reset_value, 6);

    /* RESET_REG_SUP with an empty or foreign-space register. */
    gas(s, FADT_PHYS + FADT_RESET_REG, 1, 8, 0, 0);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: FADT at 0x7fe1000: RESET_REG (space 1, address 0x0) is not usable, "
                       "reset register ignored");
    assert_false(in->has_reset);
    gas(s, FADT_PHYS + FADT_RESET_REG, 0x7f, 8, 0, 0x1234);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: FADT at 0x7fe1000: RESET_REG (space 127, address 0x1234) is not "
                       "usable, reset register ignored");
}

static void test_fadt_boot_flags(void **state)
{
    struct sim *s = *state;
    build_q35(s, 1);
    w16(s, FADT_PHYS + FADT_IAPC_BOOT_ARCH, ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_8042);
    sdt_fix(s, FADT_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    assert_true(s->info.boot_arch_valid);
    assert_int_equal(s->info.iapc_boot_arch, ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_8042);
}

static void test_missing_fadt(void **state)
{
    struct sim *s = *state;
    struct acpi_info *in = &s->info;
    build_q35(s, 4);
    const uint64_t ent[] = { MADT_PHYS, MCFG_PHYS };
    root_build(s, XSDT_PHYS, 1, ent, 2);

    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    expect_warns(s, 1, "acpi: no usable FADT: no PM timer, reset register or boot flags");
    assert_false(in->has_fadt);
    assert_int_equal(in->pm_timer_port, 0);
    assert_false(in->has_reset);
    assert_false(in->boot_arch_valid);
    assert_int_equal(in->cpu_count, 4);
    expect_summary(in, "acpi: rev 2 OEM BOCHS, 4 CPUs (4 enabled), 1 IOAPIC, 2 overrides, "
                       "MCFG 1 segment, no FADT, 1 warning");
}

/* ---- summary, silent callers, hostile input ----------------------------------------- */

static void test_summary_truncation(void **state)
{
    struct sim *s = *state;
    build_q35(s, 4);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);

    char full[256], buf[64];
    acpi_summary(&s->info, full, sizeof full);
    for (size_t n = 1; n < sizeof buf; n++) {
        memset(buf, 'Z', sizeof buf);
        acpi_summary(&s->info, buf, n);
        assert_int_equal(strlen(buf), n - 1);
        assert_memory_equal(buf, full, n - 1);
        assert_int_equal(buf[n - 1], '\0');
        if (n < sizeof buf)
            assert_int_equal(buf[n], 'Z'); /* nothing written past len */
    }
    buf[0] = 'Z';
    acpi_summary(&s->info, buf, 0);
    assert_int_equal(buf[0], 'Z');

    /* A blank OEM ID. */
    memset(at(s, RSDP_PHYS + 9, 6), ' ', 6);
    rsdp_fix(s, RSDP_PHYS);
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    assert_string_equal(s->info.oem_id, "");
    acpi_summary(&s->info, full, sizeof full);
    assert_memory_equal(full, "acpi: rev 2 OEM (none), 4 CPUs", 30);
}

static void test_warn_callback_optional(void **state)
{
    struct sim *s = *state;
    build_q35(s, 2);
    w8(s, MCFG_PHYS + 9, (uint8_t)(*at(s, MCFG_PHYS + 9, 1) + 1));
    s->env.warn = NULL;
    assert_int_equal(run(s, RSDP_PHYS), ACPI_OK);
    assert_int_equal(s->nwarn, 0);
    assert_int_equal(s->info.warnings, 1);
    assert_int_equal(s->info.mcfg_phys, 0);
    assert_int_equal(s->info.cpu_count, 2);
}

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1103515245u + 12345u;
    return *x >> 8;
}

/* Random corruption of every table (fixing checksums half of the time so the parser gets
 * past them): no crash, no read outside a mapping (ASan), no impossible counts. */
static void test_fuzz(void **state)
{
    struct sim *s = *state;
    build_q35(s, 8);
    madt_x2apic(s, MADT_PHYS, 500, 3, 500);
    madt_lapic_addr(s, MADT_PHYS, 0xfee00000u);
    madt_nmi_src(s, MADT_PHYS, 0, 2);
    madt_x2apic_nmi(s, MADT_PHYS, 0, 500, 1);
    sdt_fix(s, MADT_PHYS);
    uint8_t *pristine_lo = malloc(LOW_SIZE), *pristine_hi = malloc(HIGH_SIZE);
    assert_non_null(pristine_lo);
    assert_non_null(pristine_hi);
    memcpy(pristine_lo, s->reg[0].mem, LOW_SIZE);
    memcpy(pristine_hi, s->reg[1].mem, HIGH_SIZE);

    const uint64_t tabs[] = { RSDP_PHYS, XSDT_PHYS, RSDT_PHYS, FADT_PHYS, MADT_PHYS, MCFG_PHYS };
    uint32_t seed = 12345;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(s->reg[0].mem, pristine_lo, LOW_SIZE);
        memcpy(s->reg[1].mem, pristine_hi, HIGH_SIZE);
        uint64_t t = tabs[lcg(&seed) % 6];
        uint32_t span = t == RSDP_PHYS ? 36 : r32(s, t + 4);
        int flips = 1 + (int)(lcg(&seed) % 4);
        for (int k = 0; k < flips; k++) {
            uint32_t off = lcg(&seed) % span;
            uint8_t v = (uint8_t)lcg(&seed);
            if (lcg(&seed) % 4 == 0)
                v = (uint8_t)(lcg(&seed) % 3); /* small lengths, types, flags */
            w8(s, t + off, v);
        }
        if (lcg(&seed) % 2) {
            if (t == RSDP_PHYS) {
                uint32_t len = r32(s, t + 20);
                if (len >= 36 && len <= 64)
                    rsdp_fix(s, t);
            } else {
                uint32_t len = r32(s, t + 4);
                if (len >= 36 && len <= 0x10000)
                    sdt_fix(s, t);
            }
        }
        int rc = run(s, RSDP_PHYS);
        struct acpi_info *in = &s->info;
        assert_true(rc <= 0 && rc >= ACPI_ERR_NO_MADT);
        assert_true(in->cpu_count <= ACPI_MAX_CPUS);
        assert_true(in->cpu_enabled <= in->cpu_count);
        assert_true(in->ioapic_count <= ACPI_MAX_IOAPICS);
        assert_true(in->override_count <= ACPI_MAX_OVERRIDES);
        assert_true(in->nmi_src_count <= ACPI_MAX_NMI_SRCS);
        assert_true(in->lapic_nmi_count <= ACPI_MAX_LAPIC_NMIS);
        assert_true(in->mcfg_count <= ACPI_MAX_MCFG);
        if (in->warnings <= ACPI_WARN_MAX)
            assert_int_equal(s->nwarn, in->warnings);
        else
            assert_int_equal(s->nwarn, ACPI_WARN_MAX + 1);
        for (unsigned i = 0; i < s->nlog && i < MAP_LOG_MAX; i++)
            assert_true(s->log[i].len <= ACPI_TABLE_MAX_LEN);
        char line[160];
        acpi_summary(in, line, sizeof line);
        assert_memory_equal(line, "acpi: rev ", 10);
    }
    free(pristine_lo);
    free(pristine_hi);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_q35_xsdt),
        T(test_q35_map_order),
        T(test_bochs_rsdt),
        T(test_rev2_without_xsdt_uses_rsdt),
        T(test_bad_arguments),
        T(test_rsdp_unmappable),
        T(test_rsdp_bad_signature),
        T(test_rsdp_bad_checksum),
        T(test_rsdp_bad_extended_checksum),
        T(test_rsdp_bad_length),
        T(test_strerror),
        T(test_xsdt_unmappable_falls_back),
        T(test_xsdt_bad_checksum_and_signature),
        T(test_root_lengths),
        T(test_xsdt_bad_entries),
        T(test_warning_flood_capped),
        T(test_missing_madt),
        T(test_madt_bad_checksum),
        T(test_madt_duplicate_table),
        T(test_madt_bad_lengths),
        T(test_madt_zero_length_entry),
        T(test_madt_truncated_entry),
        T(test_madt_overlong_entry),
        T(test_madt_x2apic),
        T(test_madt_disabled_and_online_capable),
        T(test_madt_lapic_override),
        T(test_madt_too_many),
        T(test_madt_duplicate_ids),
        T(test_mcfg_two_segments),
        T(test_fadt_extended_32bit_timer),
        T(test_fadt_short_tables),
        T(test_fadt_reset_register),
        T(test_fadt_boot_flags),
        T(test_missing_fadt),
        T(test_summary_truncation),
        T(test_warn_callback_optional),
        T(test_fuzz),
    };
#undef T
    return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
