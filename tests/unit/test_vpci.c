// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/vpci.c: every header offset at every width against byte images, the
// 0xCF8/0xCFC protocol, absent functions, BAR sizing and programming (32/64-bit memory, I/O),
// command and status semantics, the rebuilt capability chain, ECAM extended space, and the
// exact physical accesses a passed-through function receives.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/vpci.h"

#define EMU    VPCI_DEVFN(1, 0)
#define PHYS   VPCI_DEVFN(2, 0)
#define ECAM(devfn, reg) VPCI_ECAM_ADDR(0, (devfn) >> 3, (devfn) & 7, reg)

/* ---- recorded callbacks and a fake physical function ------------------------------------- */

struct access {
    char op;       /* 'r' read_phys, 'w' write_phys, 'c' command_changed, 'b' bar_moved */
    uint16_t reg;  /* register, or BAR index */
    unsigned size;
    uint64_t val;  /* written value, new command, BAR address */
    uint16_t old;  /* command_changed: old value */
};

struct fake {
    uint8_t cfg[VPCI_CFG_SIZE]; /* the "real" device */
    struct access log[64];
    unsigned n;
};

static void rec(struct fake *f, struct access a)
{
    if (f->n < 64) /* later ones are only counted */
        f->log[f->n] = a;
    f->n++;
}

static uint32_t fake_read(void *ctx, uint16_t reg, unsigned size)
{
    struct fake *f = ctx;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)f->cfg[reg + i] << (8 * i);
    rec(f, (struct access){ 'r', reg, size, 0, 0 });
    return v;
}

static void fake_write(void *ctx, uint16_t reg, unsigned size, uint32_t val)
{
    struct fake *f = ctx;
    for (unsigned i = 0; i < size; i++)
        f->cfg[reg + i] = (uint8_t)(val >> (8 * i));
    rec(f, (struct access){ 'w', reg, size, val, 0 });
}

static void fake_command(void *ctx, uint16_t old_cmd, uint16_t new_cmd)
{
    rec(ctx, (struct access){ 'c', 0, 0, new_cmd, old_cmd });
}

static void fake_bar(void *ctx, unsigned bar, uint64_t addr)
{
    rec(ctx, (struct access){ 'b', (uint16_t)bar, 0, addr, 0 });
}

static const struct vpci_ops emu_ops = { .command_changed = fake_command, .bar_moved = fake_bar };
static const struct vpci_ops phys_ops = { fake_read, fake_write, fake_command, fake_bar };

static void expect_log(struct fake *f, unsigned n, const struct access *want)
{
    assert_int_equal(f->n, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(f->log[i].op, want[i].op);
        assert_int_equal(f->log[i].reg, want[i].reg);
        assert_int_equal(f->log[i].size, want[i].size);
        assert_int_equal(f->log[i].val, want[i].val);
        assert_int_equal(f->log[i].old, want[i].old);
    }
    f->n = 0;
}

/* ---- fixture: host bridge, an emulated function and a passed-through one ------------------- */

struct fx {
    struct vpci_bus bus;
    struct fake emu, phys;
    uint8_t emu_cfg[0x110];
};

/* Emulated 00:01.0: BAR0 mem32 4 KiB, BAR1 I/O 32 B, BAR2/3 mem64 prefetchable 1 MiB, BAR4/5
 * unused; capabilities PM at 0x40, MSI at 0x50 (hidden), vendor-specific at 0x70. */
static struct vpci_device_desc emu_desc(struct fx *x)
{
    for (unsigned i = 0x40; i < sizeof(x->emu_cfg); i++)
        x->emu_cfg[i] = (uint8_t)(i ^ 0x5a);
    return (struct vpci_device_desc){
        .vendor = 0x1234, .device = 0x5678, .subsys_vendor = 0xabcd, .subsys_id = 0xef01,
        .revision = 0x02, .class_code = 0x020000, .int_pin = 1, .int_line = 0x0b,
        .status = VPCI_STS_DETECTED_PARITY | VPCI_STS_RCV_MASTER_ABORT | VPCI_STS_MASTER_PARITY |
                  (1u << 9) /* DEVSEL medium */,
        .bars = {
            { VPCI_BAR_MEM32, false, 0x1000, 0 },
            { VPCI_BAR_IO, false, 32, 0 },
            { VPCI_BAR_MEM64, true, 0x100000, 0 },
        },
        .caps = { { 0x40, VPCI_CAP_ID_PM, 8, false }, { 0x50, VPCI_CAP_ID_MSI, 0x18, true },
                  { 0x70, 0x09, 8, false } },
        .ncaps = 3,
        .config = x->emu_cfg,
        .config_len = sizeof(x->emu_cfg),
        .ops = &emu_ops,
        .ctx = &x->emu,
    };
}

/* Passed through 00:02.0: BAR0 mem64 16 KiB; MSI-X at 0x40 hidden, PCIe at 0x60 visible;
 * extended space forwarded; MEMORY and IO mirrored to the real command register. */
static struct vpci_device_desc phys_desc(struct fx *x)
{
    return (struct vpci_device_desc){
        .vendor = 0x8086, .device = 0x10d3, .subsys_vendor = 0x8086, .subsys_id = 0xa01f,
        .revision = 0x00, .class_code = 0x020000, .int_pin = 1,
        .bars = { { VPCI_BAR_MEM64, false, 0x4000, 0xfebf0000 } },
        .caps = { { 0x40, VPCI_CAP_ID_MSIX, 12, true }, { 0x60, VPCI_CAP_ID_PCIE, 0x3c, false } },
        .ncaps = 2,
        .cmd_phys_mask = VPCI_CMD_MEMORY | VPCI_CMD_IO,
        .ext_config = true,
        .ops = &phys_ops,
        .ctx = &x->phys,
    };
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    vpci_init(&x->bus);
    struct vpci_device_desc d = emu_desc(x);
    assert_int_equal(vpci_add_device(&x->bus, EMU, &d), VPCI_OK);
    d = phys_desc(x);
    assert_int_equal(vpci_add_device(&x->bus, PHYS, &d), VPCI_OK);
    for (unsigned i = 0; i < VPCI_CFG_SIZE; i++)
        x->phys.cfg[i] = (uint8_t)(i * 7 + 1);
    x->phys.cfg[4] = 0x00; /* real command: INTX_DISABLE only */
    x->phys.cfg[5] = 0x04;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static uint32_t rd(struct fx *x, uint8_t devfn, unsigned reg, unsigned size)
{
    return vpci_read(&x->bus, ECAM(devfn, reg), size);
}

static void wr(struct fx *x, uint8_t devfn, unsigned reg, unsigned size, uint32_t val)
{
    vpci_write(&x->bus, ECAM(devfn, reg), size, val);
}

/* Every offset 0..0x3F at widths 1, 2, 4 reads the image; misaligned ones read all ones. */
static void check_header(struct fx *x, uint8_t devfn, const uint8_t img[64])
{
    for (unsigned size = 1; size <= 4; size *= 2)
        for (unsigned off = 0; off < 64; off++) {
            uint32_t want = 0;
            if (off % size) {
                want = size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
            } else {
                for (unsigned i = 0; i < size; i++)
                    want |= (uint32_t)img[off + i] << (8 * i);
            }
            if (rd(x, devfn, off, size) != want)
                fail_msg("devfn %#x off %#x size %u: got %#x want %#x", devfn, off, size,
                         rd(x, devfn, off, size), want);
        }
}

static const uint8_t host_img[64] = {
    0x36, 0x1b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x06, 0, 0, 0x00, 0,
    [0x2c] = 0x36, 0x1b, 0x00, 0x11,
};

static void emu_img(uint8_t img[64])
{
    static const uint8_t base[64] = {
        0x34, 0x12, 0x78, 0x56, 0x00, 0x00, 0x10, 0xa3, /* status: 8000|2000|0200|0100|0010 */
        0x02, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        [0x2c] = 0xcd, 0xab, 0x01, 0xef, [0x34] = 0x40, [0x3c] = 0x0b, 0x01,
    };
    memcpy(img, base, 64);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_host_bridge_header(void **state)
{
    struct fx *x = *state;
    check_header(x, 0, host_img);
    assert_int_equal(rd(x, 0, 0x40, 4), 0);
    assert_int_equal(rd(x, 0, 0xffc, 4), 0);
}

static void test_emulated_header_every_offset(void **state)
{
    struct fx *x = *state;
    uint8_t img[64];
    emu_img(img);
    check_header(x, EMU, img);
}

static void test_phys_header_is_virtual(void **state)
{
    struct fx *x = *state;
    static const uint8_t img[64] = {
        0x86, 0x80, 0xd3, 0x10, 0, 0, 0x10, 0, 0x00, 0x00, 0x00, 0x02, 0, 0, 0, 0,
        0x04, 0x00, 0xbf, 0xfe, 0, 0, 0, 0,
        [0x2c] = 0x86, 0x80, 0x1f, 0xa0, [0x34] = 0x60, [0x3d] = 0x01,
    };
    check_header(x, PHYS, img);
    assert_int_equal(x->phys.n, 0); /* the header never reaches the device */
}

/* Writes of all ones and of zeros at every width and offset leave the read-only fields as
 * they were; only command, status (W1C), cache line, BARs and interrupt line move. */
static void test_read_only_fields(void **state)
{
    struct fx *x = *state;
    static const uint32_t pats[] = { 0xffffffff, 0x00000000, 0xa5a5a5a5 };
    for (unsigned p = 0; p < 3; p++)
        for (unsigned size = 1; size <= 4; size *= 2)
            for (unsigned off = 0; off < 64; off += size) {
                wr(x, EMU, off, size, pats[p]);
                wr(x, 0, off, size, pats[p]);
            }
    uint8_t img[64];
    emu_img(img);
    uint16_t cmd = 0xa5a5 & VPCI_CMD_WRITABLE; /* the last pattern written, 0x0505 */
    assert_int_equal(cmd, 0x0505);
    img[4] = (uint8_t)cmd;
    img[5] = (uint8_t)(cmd >> 8);
    img[6] = 0x10; /* every W1C bit cleared by the all-ones pass; CAP_LIST stays */
    img[7] = 0x02; /* DEVSEL is read-only */
    img[0x0c] = 0xa5;
    img[0x3c] = 0xa5;
    /* BARs: a5a5a5a5 aligned down to each size, with the type bits */
    uint32_t b0 = 0xa5a5a000, b1 = 0xa5a5a5a0 | 1, b2 = 0xa5a00000 | 0xc, b3 = 0xa5a5a5a5;
    memcpy(img + 0x10, &b0, 4);
    memcpy(img + 0x14, &b1, 4);
    memcpy(img + 0x18, &b2, 4);
    memcpy(img + 0x1c, &b3, 4);
    check_header(x, EMU, img);

    uint8_t himg[64];
    memcpy(himg, host_img, 64);
    himg[4] = (uint8_t)cmd;
    himg[5] = (uint8_t)(cmd >> 8);
    himg[0x0c] = 0xa5;
    himg[0x3c] = 0xa5;
    check_header(x, 0, himg);
}

static void test_misaligned_and_bad_sizes(void **state)
{
    struct fx *x = *state;
    assert_int_equal(rd(x, EMU, 0x01, 2), 0xffff);
    assert_int_equal(rd(x, EMU, 0x02, 4), 0xffffffff);
    assert_int_equal(rd(x, EMU, 0x3d, 2), 0xffff);
    assert_int_equal(rd(x, EMU, 0x00, 3), 0xffffffff);
    assert_int_equal(rd(x, EMU, 0x00, 8), 0xffffffff);
    assert_int_equal(rd(x, EMU, 0x00, 0), 0xffffffff);
    wr(x, EMU, 0x3b, 2, 0x1234); /* would touch interrupt line: ignored */
    wr(x, EMU, 0x0e, 4, 0xffffffff);
    wr(x, EMU, 0x3c, 3, 0xff);
    assert_int_equal(rd(x, EMU, 0x3c, 4), 0x010b);
    assert_int_equal(rd(x, EMU, 0x0c, 4), 0);
}

static void test_cf8_protocol(void **state)
{
    struct fx *x = *state;
    struct vpci_bus *b = &x->bus;
    assert_int_equal(vpci_port_read(b, 0xcf8, 4), 0);
    /* enable off: data port reads all ones at every size, writes dropped */
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0xffffffff);
    vpci_port_write(b, 0xcf8, 4, 0x0000083c); /* 00:01.0 reg 0x3c, enable clear */
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0xffffffff);
    assert_int_equal(vpci_port_read(b, 0xcfe, 2), 0xffff);
    assert_int_equal(vpci_port_read(b, 0xcfd, 1), 0xff);
    vpci_port_write(b, 0xcfc, 1, 0x22);
    assert_int_equal(rd(x, EMU, 0x3c, 1), 0x0b);

    /* the latch keeps bits 31, 23:2 only */
    vpci_port_write(b, 0xcf8, 4, 0xffffffff);
    assert_int_equal(vpci_port_read(b, 0xcf8, 4), 0x80fffffc);
    /* byte and word accesses at 0xCF8..0xCFB are not CONFIG_ADDRESS */
    vpci_port_write(b, 0xcf8, 2, 0);
    vpci_port_write(b, 0xcf9, 1, 0);
    assert_int_equal(vpci_port_read(b, 0xcf8, 4), 0x80fffffc);
    assert_int_equal(vpci_port_read(b, 0xcf8, 2), 0xffff);
    assert_int_equal(vpci_port_read(b, 0xcf9, 1), 0xff);
    assert_int_equal(vpci_port_read(b, 0xcfb, 1), 0xff);
    assert_int_equal(vpci_port_read(b, 0xcf7, 1), 0xff);
    assert_int_equal(vpci_port_read(b, 0xd00, 4), 0xffffffff);
    /* bus 0xff: nothing there */
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0xffffffff);

    /* 00:01.0 register 0x00 */
    vpci_port_write(b, 0xcf8, 4, 0x80000800);
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0x56781234);
    assert_int_equal(vpci_port_read(b, 0xcfc, 2), 0x1234);
    assert_int_equal(vpci_port_read(b, 0xcfe, 2), 0x5678);
    assert_int_equal(vpci_port_read(b, 0xcfc, 1), 0x34);
    assert_int_equal(vpci_port_read(b, 0xcfd, 1), 0x12);
    assert_int_equal(vpci_port_read(b, 0xcfe, 1), 0x78);
    assert_int_equal(vpci_port_read(b, 0xcff, 1), 0x56);
    assert_int_equal(vpci_port_read(b, 0xcfd, 2), 0xffff); /* misaligned in the data port */
    assert_int_equal(vpci_port_read(b, 0xcfe, 4), 0xffffffff);
    /* register 0x08 through the latch: class 02/00/00, revision 2 */
    vpci_port_write(b, 0xcf8, 4, 0x80000808);
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0x02000002);
    assert_int_equal(vpci_port_read(b, 0xcff, 1), 0x02);
    /* byte writes through 0xCFC+k: interrupt line at 0x3c, pin read-only at 0x3d */
    vpci_port_write(b, 0xcf8, 4, 0x8000083c);
    vpci_port_write(b, 0xcfc, 1, 0x05);
    vpci_port_write(b, 0xcfd, 1, 0x04);
    assert_int_equal(vpci_port_read(b, 0xcfc, 2), 0x0105);
    /* word write at 0xCFE to the status register (reg 0x04 + 2): W1C */
    vpci_port_write(b, 0xcf8, 4, 0x80000804);
    vpci_port_write(b, 0xcfe, 2, VPCI_STS_DETECTED_PARITY);
    assert_int_equal(vpci_port_read(b, 0xcfe, 2), 0x2310);
    vpci_port_write(b, 0xcfc, 2, VPCI_CMD_MEMORY);
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0x23100002);
    /* the latch's low bits are ignored: 0x80000807 reaches register 0x04 */
    vpci_port_write(b, 0xcf8, 4, 0x80000807);
    assert_int_equal(vpci_port_read(b, 0xcf8, 4), 0x80000804);
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0x23100002);
    /* absent function 00:03.0 and bus 1 read all ones through the ports too */
    vpci_port_write(b, 0xcf8, 4, 0x80001800);
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0xffffffff);
    vpci_port_write(b, 0xcf8, 4, 0x80010800);
    assert_int_equal(vpci_port_read(b, 0xcfc, 4), 0xffffffff);
    assert_int_equal(vpci_port_read(b, 0xcfc, 3), 0xffffffff);
}

static void test_absent_functions(void **state)
{
    struct fx *x = *state;
    struct vpci_bus before = x->bus;
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        if (devfn == 0 || devfn == EMU || devfn == PHYS)
            continue;
        for (unsigned reg = 0; reg < VPCI_CFG_SIZE; reg += 0x3c) {
            assert_int_equal(rd(x, (uint8_t)devfn, reg & ~3u, 4), 0xffffffff);
            assert_int_equal(rd(x, (uint8_t)devfn, reg & ~1u, 2), 0xffff);
            assert_int_equal(rd(x, (uint8_t)devfn, reg, 1), 0xff);
            wr(x, (uint8_t)devfn, reg & ~3u, 4, 0);
        }
    }
    /* other buses, and beyond the 256 MiB ECAM window */
    assert_int_equal(vpci_read(&x->bus, VPCI_ECAM_ADDR(1, 1, 0, 0), 4), 0xffffffff);
    assert_int_equal(vpci_read(&x->bus, VPCI_ECAM_ADDR(255, 0, 0, 0), 2), 0xffff);
    assert_int_equal(vpci_read(&x->bus, 0x10000000u | ECAM(EMU, 0), 4), 0xffffffff);
    vpci_write(&x->bus, VPCI_ECAM_ADDR(1, 1, 0, 0x3c), 1, 0x77);
    vpci_write(&x->bus, 0x10000000u | ECAM(EMU, 0x3c), 1, 0x77);
    assert_memory_equal(&before, &x->bus, sizeof(before));
    assert_int_equal(x->emu.n + x->phys.n, 0);
}

static void test_bar_mem32_sizing(void **state)
{
    struct fx *x = *state;
    assert_int_equal(rd(x, EMU, 0x10, 4), 0x00000000);
    wr(x, EMU, 0x10, 4, 0xffffffff);
    assert_int_equal(rd(x, EMU, 0x10, 4), 0xfffff000); /* ~(4K - 1), type 0 */
    wr(x, EMU, 0x10, 4, 0xfebf1234);
    assert_int_equal(rd(x, EMU, 0x10, 4), 0xfebf1000);
    assert_int_equal(rd(x, EMU, 0x12, 2), 0xfebf);
    assert_int_equal(rd(x, EMU, 0x11, 1), 0x10);
    /* a byte write changes one lane only */
    wr(x, EMU, 0x13, 1, 0xc0);
    assert_int_equal(rd(x, EMU, 0x10, 4), 0xc0bf1000);
    wr(x, EMU, 0x13, 1, 0xc0); /* no change: no callback */
    const struct access want[] = {
        { 'b', 0, 0, 0xfffff000, 0 }, { 'b', 0, 0, 0xfebf1000, 0 }, { 'b', 0, 0, 0xc0bf1000, 0 },
    };
    expect_log(&x->emu, 3, want);
    uint64_t a = 0;
    assert_true(vpci_bar_addr(&x->bus, EMU, 0, &a));
    assert_int_equal(a, 0xc0bf1000);
}

static void test_bar_mem64_sizing(void **state)
{
    struct fx *x = *state;
    assert_int_equal(rd(x, EMU, 0x18, 4), 0x0000000c); /* 64-bit, prefetchable */
    assert_int_equal(rd(x, EMU, 0x1c, 4), 0);
    wr(x, EMU, 0x18, 4, 0xffffffff);
    wr(x, EMU, 0x1c, 4, 0xffffffff);
    assert_int_equal(rd(x, EMU, 0x18, 4), 0xfff0000c); /* ~(1 MiB - 1) */
    assert_int_equal(rd(x, EMU, 0x1c, 4), 0xffffffff);
    wr(x, EMU, 0x18, 4, 0x9abcdef0);
    wr(x, EMU, 0x1c, 4, 0x00000012);
    assert_int_equal(rd(x, EMU, 0x18, 4), 0x9ab0000c);
    assert_int_equal(rd(x, EMU, 0x1c, 4), 0x00000012);
    const struct access want[] = {
        { 'b', 2, 0, 0xfff00000, 0 },
        { 'b', 2, 0, 0xfffffffffff00000ull, 0 },
        { 'b', 2, 0, 0xffffffff9ab00000ull, 0 },
        { 'b', 2, 0, 0x129ab00000ull, 0 },
    };
    expect_log(&x->emu, 4, want);
    uint64_t a = 0;
    assert_true(vpci_bar_addr(&x->bus, EMU, 2, &a));
    assert_int_equal(a, 0x129ab00000ull);
    assert_false(vpci_bar_addr(&x->bus, EMU, 3, &a)); /* the upper half is not a BAR */

    /* passed-through 64-bit BAR of 16 KiB at 0xfebf0000 from the descriptor */
    assert_int_equal(rd(x, PHYS, 0x10, 4), 0xfebf0004);
    wr(x, PHYS, 0x10, 4, 0xffffffff);
    wr(x, PHYS, 0x14, 4, 0xffffffff);
    assert_int_equal(rd(x, PHYS, 0x10, 4), 0xffffc004);
    assert_int_equal(rd(x, PHYS, 0x14, 4), 0xffffffff);
    wr(x, PHYS, 0x10, 4, 0xfebf0000);
    wr(x, PHYS, 0x14, 4, 0);
    assert_int_equal(rd(x, PHYS, 0x10, 4), 0xfebf0004);
    assert_int_equal(rd(x, PHYS, 0x14, 4), 0);
    assert_int_equal(x->phys.n, 4); /* bar_moved only: no config access reached the device */
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(x->phys.log[i].op, 'b');
    assert_int_equal(x->phys.log[3].val, 0xfebf0000);
}

static void test_bar_io_and_unused(void **state)
{
    struct fx *x = *state;
    assert_int_equal(rd(x, EMU, 0x14, 4), 0x00000001);
    wr(x, EMU, 0x14, 4, 0xffffffff);
    assert_int_equal(rd(x, EMU, 0x14, 4), 0xffffffe1); /* ~(32 - 1) | I/O */
    wr(x, EMU, 0x14, 4, 0xc043);
    assert_int_equal(rd(x, EMU, 0x14, 4), 0x0000c041);
    assert_int_equal(rd(x, EMU, 0x14, 2), 0xc041);
    wr(x, EMU, 0x14, 2, 0xd000);
    assert_int_equal(rd(x, EMU, 0x14, 4), 0x0000d001);
    uint64_t a = 0;
    assert_true(vpci_bar_addr(&x->bus, EMU, 1, &a));
    assert_int_equal(a, 0xd000);
    /* BAR4, BAR5, the CardBus pointer and the expansion ROM read 0 whatever is written */
    for (unsigned reg = 0x20; reg <= 0x30; reg += 4) {
        if (reg == 0x2c)
            continue;
        wr(x, EMU, reg, 4, 0xffffffff);
        assert_int_equal(rd(x, EMU, reg, 4), 0);
        wr(x, EMU, reg, 4, 0x12345678);
        assert_int_equal(rd(x, EMU, reg, 4), 0);
    }
    assert_false(vpci_bar_addr(&x->bus, EMU, 4, &a));
    assert_false(vpci_bar_addr(&x->bus, EMU, 6, &a));
    assert_false(vpci_bar_addr(&x->bus, VPCI_DEVFN(5, 0), 0, &a));
    assert_int_equal(x->emu.n, 3);
}

static void test_command_register(void **state)
{
    struct fx *x = *state;
    wr(x, EMU, 0x04, 2, 0xffff);
    assert_int_equal(rd(x, EMU, 0x04, 2), 0x0547);
    assert_int_equal(vpci_command(&x->bus, EMU), 0x0547);
    wr(x, EMU, 0x05, 1, 0x00); /* high byte: SERR and INTX_DISABLE off */
    assert_int_equal(rd(x, EMU, 0x04, 2), 0x0047);
    wr(x, EMU, 0x04, 1, 0x47); /* unchanged: no callback */
    const struct access want[] = { { 'c', 0, 0, 0x0547, 0 }, { 'c', 0, 0, 0x0047, 0x0547 } };
    expect_log(&x->emu, 2, want);
    assert_int_equal(vpci_command(&x->bus, VPCI_DEVFN(9, 0)), 0);

    /* passed through: MEMORY and IO mirrored by read-modify-write, MASTER kept virtual */
    wr(x, PHYS, 0x04, 2, VPCI_CMD_MEMORY | VPCI_CMD_MASTER);
    assert_int_equal(rd(x, PHYS, 0x04, 2), 0x0006);
    assert_int_equal(x->phys.cfg[4] | x->phys.cfg[5] << 8, 0x0402);
    wr(x, PHYS, 0x04, 2, VPCI_CMD_MEMORY); /* MASTER off: not mirrored, no device access */
    wr(x, PHYS, 0x04, 4, VPCI_CMD_IO | 0xffff0000u); /* status W1C in the same write */
    assert_int_equal(x->phys.cfg[4] | x->phys.cfg[5] << 8, 0x0401);
    const struct access pwant[] = {
        { 'r', 4, 2, 0, 0 }, { 'w', 4, 2, 0x0402, 0 }, { 'c', 0, 0, 0x0006, 0 },
        { 'c', 0, 0, 0x0002, 0x0006 },
        { 'r', 4, 2, 0, 0 }, { 'w', 4, 2, 0x0401, 0 }, { 'c', 0, 0, 0x0001, 0x0002 },
    };
    expect_log(&x->phys, 7, pwant);
}

static void test_status_w1c(void **state)
{
    struct fx *x = *state;
    assert_int_equal(rd(x, EMU, 0x06, 2), 0xa310);
    wr(x, EMU, 0x06, 2, 0x0000);
    assert_int_equal(rd(x, EMU, 0x06, 2), 0xa310);
    wr(x, EMU, 0x06, 2, VPCI_STS_MASTER_PARITY | VPCI_STS_CAP_LIST | VPCI_STS_DEVSEL_MASK);
    assert_int_equal(rd(x, EMU, 0x06, 2), 0xa210); /* only bit 8 cleared */
    wr(x, EMU, 0x07, 1, 0x20); /* byte lane 7: bit 13 */
    assert_int_equal(rd(x, EMU, 0x06, 2), 0x8210);
    wr(x, EMU, 0x04, 4, 0x80000000u); /* dword write: command 0, bit 15 */
    assert_int_equal(rd(x, EMU, 0x04, 4), 0x02100000);
    vpci_status_set(&x->bus, EMU, VPCI_STS_SIG_TARGET_ABORT | VPCI_STS_CAP_LIST | VPCI_STS_INTX);
    assert_int_equal(rd(x, EMU, 0x06, 2), 0x0a18);
    wr(x, EMU, 0x06, 2, 0xffff);
    assert_int_equal(rd(x, EMU, 0x06, 2), 0x0218); /* INTX, DEVSEL, CAP_LIST are read-only */
    /* the host bridge has no capabilities: CAP_LIST clear */
    assert_int_equal(rd(x, 0, 0x06, 2), 0x0000);
}

static void test_capability_chain(void **state)
{
    struct fx *x = *state;
    /* emulated: 0x40 (PM) -> 0x70 (vendor), MSI at 0x50 skipped */
    assert_int_equal(rd(x, EMU, 0x34, 1), 0x40);
    assert_int_equal(rd(x, EMU, 0x40, 2), 0x7001);
    assert_int_equal(rd(x, EMU, 0x70, 2), 0x0009);
    /* bodies come from the descriptor's bytes (i ^ 0x5a) */
    assert_int_equal(rd(x, EMU, 0x40, 4), 0x7001u | (0x42u ^ 0x5a) << 16 | (0x43u ^ 0x5a) << 24);
    assert_int_equal(rd(x, EMU, 0x44, 4), 0x1d1c1f1e);
    assert_int_equal(rd(x, EMU, 0x44, 1), 0x44 ^ 0x5a);
    /* the hidden MSI capability reads 0 throughout and ignores writes */
    for (unsigned off = 0x50; off < 0x68; off += 4)
        assert_int_equal(rd(x, EMU, off, 4), 0);
    wr(x, EMU, 0x50, 4, 0xffffffff);
    wr(x, EMU, 0x52, 2, 0xffff);
    assert_int_equal(x->bus.funcs[1].cfg[0x52], 0x52 ^ 0x5a);
    /* just past it, the kept bytes again */
    assert_int_equal(rd(x, EMU, 0x68, 1), 0x68 ^ 0x5a);
    /* capability headers are read-only; bodies of an emulated function are writable */
    wr(x, EMU, 0x40, 4, 0xdeadbeef);
    assert_int_equal(rd(x, EMU, 0x40, 4), 0xdead7001);
    wr(x, EMU, 0x71, 1, 0x50);
    assert_int_equal(rd(x, EMU, 0x70, 4), 0x0009u | (0x72u ^ 0x5a) << 16 | (0x73u ^ 0x5a) << 24);
    wr(x, EMU, 0xfc, 4, 0x01020304);
    assert_int_equal(rd(x, EMU, 0xfc, 4), 0x01020304);

    /* passed through: MSI-X at 0x40 hidden, so the chain starts at 0x60 (PCIe) and ends */
    assert_int_equal(rd(x, PHYS, 0x34, 1), 0x60);
    assert_int_equal(rd(x, PHYS, 0x06, 2) & VPCI_STS_CAP_LIST, VPCI_STS_CAP_LIST);
    x->phys.n = 0;
    assert_int_equal(rd(x, PHYS, 0x60, 2), 0x0010); /* no device access for the header */
    assert_int_equal(x->phys.n, 0);
    assert_int_equal(rd(x, PHYS, 0x40, 4), 0); /* hidden: never read from the device */
    wr(x, PHYS, 0x40, 4, 0xffffffff);
    wr(x, PHYS, 0x4a, 2, 0xffff);
    assert_int_equal(x->phys.n, 0);
    /* a dword at the visible header: the device is read whole, the header overlaid */
    uint32_t dev = x->phys.cfg[0x62] | x->phys.cfg[0x63] << 8;
    assert_int_equal(rd(x, PHYS, 0x60, 4), 0x0010u | dev << 16);
    /* a dword write there forwards only the upper word */
    wr(x, PHYS, 0x60, 4, 0xabcd1234);
    /* byte lanes around a header: 0x60 write at size 2 is all header: nothing forwarded */
    wr(x, PHYS, 0x60, 2, 0xffff);
    /* outside any capability: forwarded exactly */
    wr(x, PHYS, 0xa1, 1, 0x5e);
    assert_int_equal(rd(x, PHYS, 0xa0, 2), (uint32_t)(x->phys.cfg[0xa0] | 0x5e << 8));
    const struct access want[] = {
        { 'r', 0x60, 4, 0, 0 }, { 'w', 0x62, 2, 0xabcd, 0 }, { 'w', 0xa1, 1, 0x5e, 0 },
        { 'r', 0xa0, 2, 0, 0 },
    };
    expect_log(&x->phys, 4, want);
}

static void test_ecam_extended(void **state)
{
    struct fx *x = *state;
    /* emulated without ext_config: 0x100..0xFFF reads 0, writes dropped */
    assert_int_equal(rd(x, EMU, 0x100, 4), 0);
    wr(x, EMU, 0x100, 4, 0xffffffff);
    assert_int_equal(rd(x, EMU, 0x100, 4), 0);
    assert_int_equal(rd(x, EMU, 0xffc, 4), 0);
    assert_int_equal(rd(x, EMU, 0xfff, 1), 0);
    assert_int_equal(rd(x, EMU, 0xffe, 2), 0);
    assert_int_equal(rd(x, EMU, 0xffd, 2), 0xffff); /* misaligned */
    /* passed through with ext_config: forwarded exactly */
    x->phys.n = 0;
    uint32_t v = x->phys.cfg[0x100] | x->phys.cfg[0x101] << 8 | x->phys.cfg[0x102] << 16 |
                 (uint32_t)x->phys.cfg[0x103] << 24;
    assert_int_equal(rd(x, PHYS, 0x100, 4), v);
    assert_int_equal(rd(x, PHYS, 0xfff, 1), x->phys.cfg[0xfff]);
    wr(x, PHYS, 0x800, 2, 0xbeef);
    assert_int_equal(rd(x, PHYS, 0x800, 2), 0xbeef);
    const struct access want[] = {
        { 'r', 0x100, 4, 0, 0 }, { 'r', 0xfff, 1, 0, 0 }, { 'w', 0x800, 2, 0xbeef, 0 },
        { 'r', 0x800, 2, 0, 0 },
    };
    expect_log(&x->phys, 4, want);
    /* an emulated function with ext_config keeps those bytes too */
    struct vpci_device_desc d = { .vendor = 0x1af4, .device = 0x1000, .ext_config = true };
    assert_int_equal(vpci_add_device(&x->bus, VPCI_DEVFN(3, 0), &d), VPCI_OK);
    wr(x, VPCI_DEVFN(3, 0), 0x104, 4, 0x00010001);
    assert_int_equal(rd(x, VPCI_DEVFN(3, 0), 0x104, 4), 0x00010001);
    assert_int_equal(rd(x, VPCI_DEVFN(3, 0), 0x106, 2), 0x0001);
    /* 0xCF8 reaches registers up to 0xFF only: 0x104 is not 0x04 of the extended space */
    vpci_port_write(&x->bus, 0xcf8, 4, 0x80001804);
    assert_int_equal(vpci_port_read(&x->bus, 0xcfc, 4), 0x00000000); /* command/status */
}

static void test_multifunction_and_errors(void **state)
{
    struct fx *x = *state;
    struct vpci_bus *b = &x->bus;
    struct vpci_device_desc d = { .vendor = 0x1af4, .device = 0x1001, .class_code = 0x010000 };
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(4, 1), &d), VPCI_E_NOFN0);
    assert_int_equal(vpci_add_device(b, EMU, &d), VPCI_E_EXIST);
    assert_int_equal(vpci_add_device(b, 0, &d), VPCI_E_EXIST);
    assert_int_equal(rd(x, EMU, 0x0e, 1), 0x00);
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(1, 3), &d), VPCI_OK);
    assert_int_equal(rd(x, EMU, 0x0e, 1), 0x80);
    assert_int_equal(rd(x, VPCI_DEVFN(1, 3), 0x0e, 1), 0x80);
    assert_int_equal(rd(x, VPCI_DEVFN(1, 3), 0x00, 4), 0x10011af4);
    assert_int_equal(rd(x, PHYS, 0x0e, 1), 0x00);

    struct vpci_device_desc e = d;
    e.vendor = 0xffff;
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_VENDOR);
    e = d, e.class_code = 0x1000000;
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_INVAL);
    e = d, e.int_pin = 5;
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_INVAL);
    e = d, e.status = VPCI_STS_CAP_LIST;
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_INVAL);
    e = d, e.cmd_phys_mask = 0x0008;
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_INVAL);
    e = d, e.config_len = 4;
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_INVAL);
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), NULL), VPCI_E_INVAL);
    assert_int_equal(vpci_add_device(NULL, VPCI_DEVFN(5, 0), &d), VPCI_E_INVAL);

    static const struct vpci_bar_desc bad_bars[][2] = {
        { { VPCI_BAR_MEM32, false, 0x1800, 0 } },           /* not a power of two */
        { { VPCI_BAR_MEM32, false, 8, 0 } },                /* below 16 */
        { { VPCI_BAR_MEM32, false, 1ull << 32, 0 } },       /* beyond 32 bits */
        { { VPCI_BAR_IO, false, 2, 0 } },                   /* below 4 */
        { { VPCI_BAR_IO, false, 0x20000, 0 } },             /* beyond the port space */
        { { VPCI_BAR_IO, true, 16, 0 } },                   /* prefetchable I/O */
        { { VPCI_BAR_MEM64, false, 0x1000, 0 }, { VPCI_BAR_IO, false, 4, 0 } }, /* upper used */
        { { 7, false, 16, 0 } },                            /* no such kind */
        { { VPCI_BAR_UNUSED, false, 16, 0 } },              /* unused with a size */
        { { VPCI_BAR_MEM32, false, 0, 0 } },                /* size 0 */
    };
    for (unsigned i = 0; i < sizeof(bad_bars) / sizeof(bad_bars[0]); i++) {
        e = d;
        e.bars[0] = bad_bars[i][0];
        e.bars[1] = bad_bars[i][1];
        assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_BAR);
    }
    e = d, e.bars[5] = (struct vpci_bar_desc){ VPCI_BAR_MEM64, false, 0x1000, 0 };
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_BAR);

    static const struct vpci_cap_desc bad_caps[][2] = {
        { { 0x3c, 1, 4, false } },                          /* inside the header */
        { { 0x42, 1, 4, false } },                          /* misaligned */
        { { 0x40, 1, 1, false } },                          /* too short for id + next */
        { { 0xfc, 1, 8, false } },                          /* past 0xFF */
        { { 0x40, 1, 16, false }, { 0x48, 5, 8, false } },  /* overlap */
    };
    for (unsigned i = 0; i < sizeof(bad_caps) / sizeof(bad_caps[0]); i++) {
        e = d;
        e.caps[0] = bad_caps[i][0];
        e.caps[1] = bad_caps[i][1];
        e.ncaps = bad_caps[i][1].len ? 2 : 1;
        assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_CAP);
    }
    e = d, e.ncaps = VPCI_MAX_CAPS + 1;
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(5, 0), &e), VPCI_E_CAP);
    assert_null(vpci_find(b, VPCI_DEVFN(5, 0))); /* nothing half-added */

    /* fill the bus: 4 present, VPCI_MAX_FUNCS - 4 more fit, the next does not */
    unsigned last = 5 + VPCI_MAX_FUNCS - 4;
    for (unsigned dev = 5; dev < last; dev++)
        assert_int_equal(vpci_add_device(b, VPCI_DEVFN(dev, 0), &d), VPCI_OK);
    assert_int_equal(vpci_add_device(b, VPCI_DEVFN(last, 0), &d), VPCI_E_FULL);
    assert_int_equal(rd(x, VPCI_DEVFN(last, 0), 0, 4), 0xffffffff);
    assert_int_equal(rd(x, VPCI_DEVFN(last - 1, 0), 0, 4), 0x10011af4);
}

/* A 64-bit BAR at the descriptor's initial address, aligned down; huge sizes. */
static void test_bar_initial_and_large(void **state)
{
    struct fx *x = *state;
    struct vpci_device_desc d = {
        .vendor = 0x1af4, .device = 0x1002,
        .bars = { { VPCI_BAR_MEM64, true, 1ull << 36, 0x1234567890ull },
                  { VPCI_BAR_UNUSED, false, 0, 0 },
                  { VPCI_BAR_MEM32, false, 1ull << 31, 0x9000abcd } },
    };
    assert_int_equal(vpci_add_device(&x->bus, VPCI_DEVFN(6, 0), &d), VPCI_OK);
    uint8_t fn = VPCI_DEVFN(6, 0);
    assert_int_equal(rd(x, fn, 0x10, 4), 0x0000000c);
    assert_int_equal(rd(x, fn, 0x14, 4), 0x00000010);
    assert_int_equal(rd(x, fn, 0x18, 4), 0x80000000);
    wr(x, fn, 0x10, 4, 0xffffffff);
    wr(x, fn, 0x14, 4, 0xffffffff);
    assert_int_equal(rd(x, fn, 0x10, 4), 0x0000000c);
    assert_int_equal(rd(x, fn, 0x14, 4), 0xfffffff0);
    wr(x, fn, 0x18, 4, 0xffffffff);
    assert_int_equal(rd(x, fn, 0x18, 4), 0x80000000);
}

/* Fixed BARs (an ivshmem-style device whose memory the hypervisor maps once): sizing reads
 * the size mask register by register; restoring, or any other value, leaves the address. */
static void test_bar_fixed(void **state)
{
    struct fx *x = *state;
    struct fake log = { 0 };
    struct vpci_device_desc d = {
        .vendor = 0x1af4, .device = 0x1110, .class_code = 0x050000, .revision = 1,
        .bars = { { VPCI_BAR_MEM32, false, 0x100, 0xb0100000 },
                  { VPCI_BAR_IO, false, 32, 0xc000 },
                  { VPCI_BAR_MEM64, true, 0x10000, 0xc0000000 } },
        .fixed_bars = 0x07, .ops = &emu_ops, .ctx = &log,
    };
    uint8_t fn = VPCI_DEVFN(3, 0);
    assert_int_equal(vpci_add_device(&x->bus, fn, &d), VPCI_OK);
    assert_int_equal(rd(x, fn, 0x10, 4), 0xb0100000);
    assert_int_equal(rd(x, fn, 0x14, 4), 0x0000c001);
    assert_int_equal(rd(x, fn, 0x18, 4), 0xc000000c);
    assert_int_equal(rd(x, fn, 0x1c, 4), 0);

    /* the classic probe: all ones, read, restore; the low and high halves one at a time */
    wr(x, fn, 0x10, 4, 0xffffffff);
    assert_int_equal(rd(x, fn, 0x10, 4), 0xffffff00);
    assert_int_equal(rd(x, fn, 0x12, 2), 0xffff);
    wr(x, fn, 0x10, 4, 0xb0100000);
    assert_int_equal(rd(x, fn, 0x10, 4), 0xb0100000);
    wr(x, fn, 0x14, 4, 0xffffffff);
    assert_int_equal(rd(x, fn, 0x14, 4), 0xffffffe1);
    wr(x, fn, 0x14, 4, 0xc000);
    assert_int_equal(rd(x, fn, 0x14, 4), 0x0000c001);
    wr(x, fn, 0x18, 4, 0xffffffff);
    assert_int_equal(rd(x, fn, 0x18, 4), 0xffff000c);
    assert_int_equal(rd(x, fn, 0x1c, 4), 0);             /* the high half is not being sized */
    wr(x, fn, 0x1c, 4, 0xffffffff);
    assert_int_equal(rd(x, fn, 0x1c, 4), 0xffffffff);
    wr(x, fn, 0x18, 4, 0xc000000c);
    wr(x, fn, 0x1c, 4, 0);
    assert_int_equal(rd(x, fn, 0x18, 4), 0xc000000c);
    assert_int_equal(rd(x, fn, 0x1c, 4), 0);

    /* a move is refused: the BAR keeps its address, and nobody is told it moved */
    wr(x, fn, 0x10, 4, 0xfe000000);
    assert_int_equal(rd(x, fn, 0x10, 4), 0xb0100000);
    wr(x, fn, 0x1c, 4, 0x12);
    assert_int_equal(rd(x, fn, 0x1c, 4), 0);
    /* byte writes: only a register with every address bit set is being sized */
    wr(x, fn, 0x13, 1, 0xff);
    assert_int_equal(rd(x, fn, 0x10, 4), 0xb0100000);
    uint64_t a = 0;
    assert_true(vpci_bar_addr(&x->bus, fn, 2, &a));
    assert_int_equal(a, 0xc0000000);
    assert_int_equal(log.n, 0);

    /* a fixed BAR must be aligned to its size and within its kind's reach; unused is never fixed */
    static const struct vpci_bar_desc bad[] = {
        { VPCI_BAR_MEM32, false, 0x1000, 0xb0100800 },
        { VPCI_BAR_MEM32, false, 0x1000, 0x100000000ull },
        { VPCI_BAR_IO, false, 32, 0x10000 },
        { VPCI_BAR_MEM64, true, 0x10000, 0xc0008000 },
        { VPCI_BAR_UNUSED, false, 0, 0 },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vpci_device_desc e = d;
        e.bars[0] = bad[i];
        e.bars[1] = (struct vpci_bar_desc){ VPCI_BAR_UNUSED, false, 0, 0 };
        e.fixed_bars = 0x01;
        assert_int_equal(vpci_add_device(&x->bus, VPCI_DEVFN(4, 0), &e), VPCI_E_BAR);
    }
    struct vpci_device_desc e = d;
    e.fixed_bars = 0x0f; /* the upper register of the 64-bit BAR */
    assert_int_equal(vpci_add_device(&x->bus, VPCI_DEVFN(4, 0), &e), VPCI_E_BAR);
    e = d, e.fixed_bars = 0x17; /* BAR4 is unused */
    assert_int_equal(vpci_add_device(&x->bus, VPCI_DEVFN(4, 0), &e), VPCI_E_BAR);
    e = d, e.bars[2].addr = 0x100000000ull; /* a 64-bit BAR may sit above 4 GiB */
    assert_int_equal(vpci_add_device(&x->bus, VPCI_DEVFN(4, 0), &e), VPCI_OK);
    assert_int_equal(rd(x, VPCI_DEVFN(4, 0), 0x1c, 4), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_host_bridge_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emulated_header_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phys_header_is_virtual, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misaligned_and_bad_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cf8_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_mem32_sizing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_mem64_sizing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_io_and_unused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_w1c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capability_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ecam_extended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multifunction_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_initial_and_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_fixed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
