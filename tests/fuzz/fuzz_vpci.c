// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for kernel/vpci.c: random sequences of 0xCF8/0xCFC port and ECAM accesses
// on a bus with the host bridge, an emulated function and a passed-through one. Besides the
// sanitizers, it aborts when read-only fields change, absent functions stop reading all ones,
// or a physical access reaches a register the model owns.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/vpci.h"

#define EMU  VPCI_DEVFN(1, 0)
#define PHYS VPCI_DEVFN(2, 0)
#define FN2  VPCI_DEVFN(1, 2)

static void check(int cond)
{
    if (!cond)
        abort();
}

static uint32_t ones(unsigned size)
{
    return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
}

static const struct vpci_cap_desc phys_caps[] = {
    { 0x40, VPCI_CAP_ID_MSIX, 12, true }, { 0x50, VPCI_CAP_ID_PM, 8, false },
    { 0x60, VPCI_CAP_ID_MSI, 0x18, true }, { 0x80, VPCI_CAP_ID_PCIE, 0x3c, false },
};

/* The "real" device behind PHYS: checks that the model only forwards what it should. */
static uint8_t phys_cfg[VPCI_CFG_SIZE];

static void check_phys_access(uint16_t reg, unsigned size, int is_write)
{
    check(size == 1 || size == 2 || size == 4);
    check(reg % size == 0 && reg + size <= VPCI_CFG_SIZE);
    if (reg < VPCI_HEADER_END) {
        check(reg == VPCI_COMMAND && size == 2); /* the mirrored command bits only */
        return;
    }
    for (unsigned i = 0; i < sizeof(phys_caps) / sizeof(phys_caps[0]); i++) {
        const struct vpci_cap_desc *c = &phys_caps[i];
        for (unsigned b = reg; b < reg + size; b++) {
            if (b < c->offset || b >= (unsigned)c->offset + c->len)
                continue;
            check(!c->hidden);                           /* hidden: never touched */
            check(!is_write || b - c->offset >= 2);      /* headers: never written */
        }
    }
}

static uint32_t phys_read(void *ctx, uint16_t reg, unsigned size)
{
    (void)ctx;
    check_phys_access(reg, size, 0);
    uint32_t v = 0;
    memcpy(&v, phys_cfg + reg, size);
    return size < 4 ? v | ~ones(size) : v; /* junk above the access must be masked off */
}

static void phys_write(void *ctx, uint16_t reg, unsigned size, uint32_t val)
{
    (void)ctx;
    check_phys_access(reg, size, 1);
    if (reg == VPCI_COMMAND) { /* only the mirrored bits move in the real register */
        uint16_t prev = (uint16_t)(phys_cfg[4] | phys_cfg[5] << 8);
        check(((val ^ prev) & ~(uint32_t)(VPCI_CMD_MEMORY | VPCI_CMD_IO)) == 0);
    }
    memcpy(phys_cfg + reg, &val, size);
}

static void cmd_changed(void *ctx, uint16_t old_cmd, uint16_t new_cmd)
{
    (void)ctx;
    check(old_cmd != new_cmd);
    check(!((old_cmd | new_cmd) & ~VPCI_CMD_WRITABLE));
}

static void bar_moved(void *ctx, unsigned bar, uint64_t addr)
{
    const struct vpci_bar_desc *b = ctx;
    check(bar < VPCI_MAX_BARS && b[bar].kind != VPCI_BAR_UNUSED);
    check((addr & (b[bar].size - 1)) == 0);
}

static const struct vpci_ops ops_phys = { phys_read, phys_write, cmd_changed, bar_moved };
static const struct vpci_ops ops_emu = { NULL, NULL, cmd_changed, bar_moved };

static struct vpci_device_desc emu_desc, phys_desc, fn2_desc;
static struct vpci_bus bus;
static uint8_t emu_bytes[0x100];

static void setup(void)
{
    for (unsigned i = 0; i < sizeof(emu_bytes); i++)
        emu_bytes[i] = (uint8_t)(i * 13);
    emu_desc = (struct vpci_device_desc){
        .vendor = 0x1af4, .device = 0x1041, .subsys_vendor = 0x1af4, .subsys_id = 0x0001,
        .revision = 1, .class_code = 0x020000, .int_pin = 1, .status = VPCI_STS_W1C,
        .bars = { { VPCI_BAR_IO, false, 64, 0 }, { VPCI_BAR_MEM32, false, 0x1000, 0 },
                  { VPCI_BAR_MEM64, true, 0x4000, 0 } },
        .caps = { { 0x40, 0x09, 0x10, false }, { 0x50, VPCI_CAP_ID_MSIX, 0x0c, true },
                  { 0x60, 0x09, 0x10, false } },
        .ncaps = 3, .config = emu_bytes, .config_len = sizeof(emu_bytes), .ops = &ops_emu,
    };
    phys_desc = (struct vpci_device_desc){
        .vendor = 0x8086, .device = 0x10d3, .subsys_vendor = 0x8086, .subsys_id = 0xa01f,
        .class_code = 0x020000, .int_pin = 2,
        .bars = { { VPCI_BAR_MEM32, false, 0x20000, 0xfeb00000 }, { VPCI_BAR_UNUSED, false, 0, 0 },
                  { VPCI_BAR_IO, false, 32, 0xe000 }, { VPCI_BAR_MEM64, false, 0x4000, 0xfebf0000 } },
        .ncaps = 4, .cmd_phys_mask = VPCI_CMD_MEMORY | VPCI_CMD_IO, .ext_config = true,
        .ops = &ops_phys,
    };
    memcpy(phys_desc.caps, phys_caps, sizeof(phys_caps));
    fn2_desc = (struct vpci_device_desc){
        .vendor = 0x1af4, .device = 0x1110, .class_code = 0x050000,
        .bars = { { VPCI_BAR_MEM32, false, 0x100, 0xb0100000 }, { VPCI_BAR_UNUSED, false, 0, 0 },
                  { VPCI_BAR_MEM64, true, 0x10000, 0xc0000000 } },
        .fixed_bars = 0x05,
    };
}

static void build(void)
{
    vpci_init(&bus);
    check(vpci_add_device(&bus, EMU, &emu_desc) == VPCI_OK);
    check(vpci_add_device(&bus, PHYS, &phys_desc) == VPCI_OK);
    check(vpci_add_device(&bus, FN2, &fn2_desc) == VPCI_OK);
    /* each function's bar_moved checks against its own descriptor's BARs */
    for (unsigned i = 0; i < VPCI_MAX_FUNCS; i++)
        if (bus.funcs[i].present)
            bus.funcs[i].desc.ctx = bus.funcs[i].desc.bars;
    for (unsigned i = 0; i < VPCI_CFG_SIZE; i++)
        phys_cfg[i] = (uint8_t)(i * 7 + 3);
}

static uint32_t rd(uint8_t devfn, unsigned reg, unsigned size)
{
    return vpci_read(&bus, VPCI_ECAM_ADDR(0, devfn >> 3, devfn & 7, reg), size);
}

static void check_identity(uint8_t devfn, const struct vpci_device_desc *d, uint8_t hdr)
{
    check(rd(devfn, 0x00, 4) == (d->vendor | (uint32_t)d->device << 16));
    check(rd(devfn, 0x08, 4) == (d->revision | d->class_code << 8));
    check(rd(devfn, 0x0e, 1) == hdr);
    check(rd(devfn, 0x0f, 1) == 0 && rd(devfn, 0x0d, 1) == 0);
    check(rd(devfn, 0x2c, 4) == (d->subsys_vendor | (uint32_t)d->subsys_id << 16));
    check(rd(devfn, 0x3d, 1) == d->int_pin);
    check(rd(devfn, 0x30, 4) == 0 && rd(devfn, 0x28, 4) == 0);
    uint32_t cs = rd(devfn, 0x04, 4);
    check(!(cs & ~VPCI_CMD_WRITABLE & 0xffff));
    check(!((cs >> 16) & ~(VPCI_STS_PRESET | VPCI_STS_CAP_LIST)));
    /* BAR type bits never change; unused BARs stay 0 */
    for (unsigned i = 0; i < VPCI_MAX_BARS; i++) {
        uint32_t v = rd(devfn, 0x10 + 4 * i, 4);
        const struct vpci_bar_desc *b = &d->bars[i];
        uint32_t pf = b->prefetchable ? VPCI_BAR_MEM_PREFETCH : 0;
        if (b->kind == VPCI_BAR_IO)
            check((v & 3) == 1 && !(v & (b->size - 1) & ~3u));
        else if (b->kind == VPCI_BAR_MEM32)
            check((v & 0xf) == pf && !(v & (b->size - 1) & ~0xfu));
        else if (b->kind == VPCI_BAR_MEM64)
            check((v & 0xf) == (VPCI_BAR_MEM_TYPE_64 | pf));
        else if (!(i > 0 && d->bars[i - 1].kind == VPCI_BAR_MEM64))
            check(v == 0);
        /* a fixed BAR shows its address or, while being sized, its size mask; it never moves */
        unsigned lo = b->kind == VPCI_BAR_UNUSED && i > 0 ? i - 1 : i;
        const struct vpci_bar_desc *fb = &d->bars[lo];
        if (d->fixed_bars >> lo & 1) {
            uint64_t mask = ~(fb->size - 1), addr = 0;
            if (lo == i)
                check((v & ~0xfu) == (uint32_t)fb->addr || (v & ~0xfu) == ((uint32_t)mask & ~0xfu));
            else
                check(v == (uint32_t)(fb->addr >> 32) || v == (uint32_t)(mask >> 32));
            check(vpci_bar_addr(&bus, devfn, lo, &addr) && addr == fb->addr);
        }
    }
    /* the capability chain lists exactly the visible capabilities, in order */
    uint8_t p = (uint8_t)rd(devfn, 0x34, 1);
    for (unsigned i = 0; i < d->ncaps; i++) {
        if (d->caps[i].hidden)
            continue;
        check(p == d->caps[i].offset);
        check(rd(devfn, p, 1) == d->caps[i].id);
        p = (uint8_t)rd(devfn, p + 1u, 1);
    }
    check(p == 0);
}

static void check_invariants(const uint8_t *probe)
{
    check(rd(0, 0x00, 4) == (VPCI_HOST_VENDOR | VPCI_HOST_DEVICE << 16));
    check(rd(0, 0x08, 4) == VPCI_HOST_CLASS << 8);
    check(rd(0, 0x10, 4) == 0 && rd(0, 0x34, 1) == 0);
    check_identity(EMU, &emu_desc, VPCI_HEADER_MULTIFUNCTION);
    check_identity(FN2, &fn2_desc, VPCI_HEADER_MULTIFUNCTION);
    check_identity(PHYS, &phys_desc, 0);
    /* absent functions and other buses: all ones, at a probed register */
    unsigned reg = (probe[0] | probe[1] << 8) & 0xffc;
    static const uint8_t absent[] = { VPCI_DEVFN(1, 1), VPCI_DEVFN(3, 0), VPCI_DEVFN(31, 7) };
    for (unsigned i = 0; i < sizeof(absent); i++) {
        check(rd(absent[i], reg, 4) == 0xffffffff);
        check(rd(absent[i], reg + 2, 2) == 0xffff);
        check(rd(absent[i], reg + 3, 1) == 0xff);
    }
    check(vpci_read(&bus, VPCI_ECAM_ADDR(1 + probe[2] % 255, 1, 0, reg), 4) == 0xffffffff);
}

static const unsigned sizes[8] = { 1, 2, 4, 1, 2, 4, 3, 0 };

/* Each 10-byte record: op, size selector, address (4 bytes), value (4 bytes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static int ready;
    if (!ready) {
        setup();
        ready = 1;
    }
    build();
    uint8_t zero[3] = { 0 };
    check_invariants(zero);
    for (size_t off = 0; off + 10 <= len; off += 10) {
        const uint8_t *r = data + off;
        unsigned size = sizes[r[1] & 7];
        uint32_t addr, val;
        memcpy(&addr, r + 2, 4);
        memcpy(&val, r + 6, 4);
        uint32_t got = 0;
        int is_read = 0;
        switch (r[0] % 6) {
        case 0: /* port write around 0xCF8..0xCFF */
            vpci_port_write(&bus, (uint16_t)(0xcf6 + (addr & 0xf)), size, val);
            break;
        case 1:
            got = vpci_port_read(&bus, (uint16_t)(0xcf6 + (addr & 0xf)), size);
            is_read = 1;
            break;
        case 2: /* any ECAM address */
            vpci_write(&bus, addr, size, val);
            break;
        case 3:
            got = vpci_read(&bus, addr, size);
            is_read = 1;
            break;
        case 4: /* bus 0, one of the interesting functions: most writes land somewhere */
            vpci_write(&bus, VPCI_ECAM_ADDR(0, (addr >> 12) & 3 ? 1 : 2, (addr >> 14) & 2, addr),
                       size, val);
            break;
        default: /* latch an enabled address on bus 0 */
            vpci_port_write(&bus, VPCI_PORT_ADDRESS, 4, VPCI_CF8_ENABLE | (addr & 0x1ffc));
            break;
        }
        if (is_read)
            check(size == 1 || size == 2 || size == 4 ? got <= ones(size) : got == 0xffffffff);
        check_invariants(r + 2);
    }
    return 0;
}
