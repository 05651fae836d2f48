// SPDX-License-Identifier: Apache-2.0
// The virtual PCI bus model: type-0 headers kept per function, BAR sizing and programming,
// command/status virtualization, the capability chain with hidden entries, and the 0xCF8/0xCFC
// latch. It does not touch hardware: real devices are reached only through struct vpci_ops.
#include "common/bits.h"
#include "kernel/vpci.h"

#include <string.h>

_Static_assert(VPCI_MAX_FUNCS >= 2 && VPCI_MAX_FUNCS <= 256, "functions on one bus");
_Static_assert(VPCI_BAR0 + 4 * VPCI_MAX_BARS == VPCI_CARDBUS_CIS, "type-0 BARs end at 0x28");
_Static_assert(VPCI_HEADER_END == 0x40, "type-0 header is 64 bytes (PCI 3.0 section 6.1)");
_Static_assert((VPCI_STS_W1C & VPCI_STS_CAP_LIST) == 0, "capability bit is read-only");

#define ECAM_BUS_SHIFT 20
#define ECAM_FN_SHIFT  12 /* devfn sits in bits 19:12 */
#define ECAM_REG_MASK  0xfffu

/* Where a config byte's value comes from. */
enum vpci_src {
    SRC_VIRT, /* computed by the model (header, capability header, hidden, absent ext space) */
    SRC_BACK, /* read_phys / write_phys, or the kept bytes of an emulated function */
};

static uint32_t ones(unsigned size)
{
    return (uint32_t)width_mask(size);
}

static bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4;
}

static bool pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static struct vpci_func *func_find(struct vpci_bus *bus, uint8_t devfn)
{
    for (unsigned i = 0; i < VPCI_MAX_FUNCS; i++)
        if (bus->funcs[i].present && bus->funcs[i].devfn == devfn)
            return &bus->funcs[i];
    return NULL;
}

const struct vpci_func *vpci_find(const struct vpci_bus *bus, uint8_t devfn)
{
    return func_find((struct vpci_bus *)bus, devfn);
}

/* ---- capabilities -------------------------------------------------------------------------- */

/* Offset of the first visible capability at list index >= from, 0 when none (PCI 3.0 section
 * 6.7: a next pointer of 0 ends the list). */
static uint8_t cap_visible_from(const struct vpci_func *f, unsigned from)
{
    for (unsigned i = from; i < f->desc.ncaps; i++)
        if (!f->desc.caps[i].hidden)
            return f->desc.caps[i].offset;
    return 0;
}

/* Index of the capability whose bytes include off, or -1. */
static int cap_at(const struct vpci_func *f, unsigned off)
{
    for (unsigned i = 0; i < f->desc.ncaps; i++) {
        const struct vpci_cap_desc *c = &f->desc.caps[i];
        if (off >= c->offset && off < (unsigned)c->offset + c->len)
            return (int)i;
    }
    return -1;
}

static enum vpci_src byte_src(const struct vpci_func *f, unsigned off)
{
    if (off < VPCI_HEADER_END)
        return SRC_VIRT;
    if (off >= VPCI_LEGACY_CFG_SIZE)
        return f->desc.ext_config ? SRC_BACK : SRC_VIRT;
    int i = cap_at(f, off);
    if (i < 0)
        return SRC_BACK;
    const struct vpci_cap_desc *c = &f->desc.caps[i];
    return c->hidden || off - c->offset < 2 ? SRC_VIRT : SRC_BACK;
}

/* ---- the type-0 header --------------------------------------------------------------------- */

static bool multifunction(const struct vpci_bus *bus, const struct vpci_func *f)
{
    for (unsigned i = 0; i < VPCI_MAX_FUNCS; i++) {
        const struct vpci_func *o = &bus->funcs[i];
        if (o->present && o != f && (o->devfn >> 3) == (f->devfn >> 3))
            return true;
    }
    return false;
}

/* The address register `reg` of BAR `lo` shows: its own, or for a fixed BAR being sized the
 * size mask, i.e. the highest address aligned to the size. */
static uint64_t bar_shown(const struct vpci_func *f, unsigned lo, unsigned reg)
{
    const struct vpci_bar_desc *b = &f->desc.bars[lo];
    if ((f->desc.fixed_bars >> lo & 1) && (f->sizing >> reg & 1))
        return ~(b->size - 1);
    return f->bar_addr[lo];
}

/* BAR register i as the guest reads it (PCI 3.0 section 6.2.5.1): address bits above the
 * size, type bits below. Sizing needs no state: writing all ones stores the highest aligned
 * address, which reads back as the size mask (a fixed BAR keeps that state in f->sizing). */
static uint32_t bar_read(const struct vpci_func *f, unsigned i)
{
    const struct vpci_bar_desc *b = &f->desc.bars[i];
    uint32_t pf = b->prefetchable ? VPCI_BAR_MEM_PREFETCH : 0;
    switch (b->kind) {
    case VPCI_BAR_IO:
        return ((uint32_t)bar_shown(f, i, i) & ~3u) | VPCI_BAR_SPACE_IO;
    case VPCI_BAR_MEM32:
        return ((uint32_t)bar_shown(f, i, i) & ~0xfu) | pf;
    case VPCI_BAR_MEM64:
        return ((uint32_t)bar_shown(f, i, i) & ~0xfu) | VPCI_BAR_MEM_TYPE_64 | pf;
    default:
        if (i > 0 && f->desc.bars[i - 1].kind == VPCI_BAR_MEM64)
            return (uint32_t)(bar_shown(f, i - 1, i) >> 32);
        return 0;
    }
}

static uint32_t header_dword(const struct vpci_bus *bus, const struct vpci_func *f, unsigned dw)
{
    const struct vpci_device_desc *d = &f->desc;
    switch (dw) {
    case VPCI_VENDOR_ID:
        return d->vendor | (uint32_t)d->device << 16;
    case VPCI_COMMAND: {
        uint32_t sts = f->status | (cap_visible_from(f, 0) ? VPCI_STS_CAP_LIST : 0);
        return f->command | sts << 16;
    }
    case VPCI_REVISION:
        return d->revision | d->class_code << 8;
    case VPCI_CACHE_LINE:
        return f->cache_line | (uint32_t)(multifunction(bus, f) ? VPCI_HEADER_MULTIFUNCTION : 0) << 16;
    case VPCI_SUBSYS_VENDOR:
        return d->subsys_vendor | (uint32_t)d->subsys_id << 16;
    case VPCI_CAP_PTR:
        return cap_visible_from(f, 0);
    case VPCI_INT_LINE:
        return f->int_line | (uint32_t)d->int_pin << 8;
    default:
        if (dw >= VPCI_BAR0 && dw < VPCI_CARDBUS_CIS)
            return bar_read(f, (dw - VPCI_BAR0) / 4);
        return 0; /* CardBus CIS, expansion ROM (not offered), reserved */
    }
}

static uint8_t virt_byte(const struct vpci_bus *bus, const struct vpci_func *f, unsigned off)
{
    if (off < VPCI_HEADER_END)
        return (uint8_t)(header_dword(bus, f, off & ~3u) >> (8 * (off & 3)));
    int i = off < VPCI_LEGACY_CFG_SIZE ? cap_at(f, off) : -1;
    if (i < 0 || f->desc.caps[i].hidden)
        return 0;
    const struct vpci_cap_desc *c = &f->desc.caps[i];
    return off == c->offset ? c->id : cap_visible_from(f, (unsigned)i + 1);
}

static void bar_write(struct vpci_func *f, unsigned i, uint32_t val, uint32_t mask)
{
    unsigned lo = i;
    const struct vpci_bar_desc *b = &f->desc.bars[i];
    if (b->kind == VPCI_BAR_UNUSED) {
        if (i == 0 || f->desc.bars[i - 1].kind != VPCI_BAR_MEM64)
            return; /* unimplemented BAR: hardwired to 0 */
        lo = i - 1;
        b = &f->desc.bars[lo];
    }
    uint32_t reg = (bar_read(f, i) & ~mask) | (val & mask);
    if (f->desc.fixed_bars >> lo & 1) {
        uint64_t size_mask = ~(b->size - 1);
        uint32_t addr_bits = lo != i ? (uint32_t)(size_mask >> 32)
                                     : (uint32_t)size_mask & (b->kind == VPCI_BAR_IO ? ~3u : ~0xfu);
        if ((reg & addr_bits) == addr_bits)
            f->sizing |= (uint8_t)(1u << i);
        else
            f->sizing &= (uint8_t)~(1u << i);
        return;
    }
    uint64_t addr = f->bar_addr[lo];
    if (lo != i)
        addr = (addr & UINT32_MAX) | (uint64_t)reg << 32;
    else if (b->kind == VPCI_BAR_MEM64)
        addr = (addr & ~(uint64_t)UINT32_MAX) | reg;
    else
        addr = reg;
    addr &= ~(b->size - 1);
    addr &= b->kind == VPCI_BAR_IO ? ~UINT64_C(3) : ~UINT64_C(0xf); /* the type bits */
    if (addr == f->bar_addr[lo])
        return;
    f->bar_addr[lo] = addr;
    if (f->desc.ops && f->desc.ops->bar_moved)
        f->desc.ops->bar_moved(f->desc.ctx, lo, addr);
}

static void command_write(struct vpci_func *f, uint16_t val, uint16_t mask)
{
    const struct vpci_ops *ops = f->desc.ops;
    uint16_t old = f->command;
    uint16_t cmd = (uint16_t)(((old & ~mask) | (val & mask)) & VPCI_CMD_WRITABLE);
    if (cmd == old)
        return;
    f->command = cmd;
    uint16_t pm = f->desc.cmd_phys_mask;
    if (ops && ops->read_phys && ops->write_phys && ((old ^ cmd) & pm)) {
        uint16_t real = (uint16_t)ops->read_phys(f->desc.ctx, VPCI_COMMAND, 2);
        ops->write_phys(f->desc.ctx, VPCI_COMMAND, 2, (uint16_t)((real & ~pm) | (cmd & pm)));
    }
    if (ops && ops->command_changed)
        ops->command_changed(f->desc.ctx, old, cmd);
}

/* A write to header dword dw; mask has 0xff in each byte lane the guest wrote. */
static void header_write(struct vpci_func *f, unsigned dw, uint32_t val, uint32_t mask)
{
    switch (dw) {
    case VPCI_COMMAND:
        command_write(f, (uint16_t)val, (uint16_t)mask);
        f->status &= (uint16_t)~((val & mask) >> 16 & VPCI_STS_W1C); /* PCI 3.0 section 6.2.3 */
        return;
    case VPCI_CACHE_LINE:
        if (mask & 0xff)
            f->cache_line = (uint8_t)val;
        return;
    case VPCI_INT_LINE:
        if (mask & 0xff)
            f->int_line = (uint8_t)val;
        return;
    default:
        if (dw >= VPCI_BAR0 && dw < VPCI_CARDBUS_CIS)
            bar_write(f, (dw - VPCI_BAR0) / 4, val, mask);
        return; /* identity, class, header type, subsystem, ROM, capability pointer: RO */
    }
}

/* ---- accesses ------------------------------------------------------------------------------ */

static uint32_t func_read(const struct vpci_bus *bus, const struct vpci_func *f, unsigned reg,
                          unsigned size)
{
    bool back = false;
    for (unsigned i = 0; i < size; i++)
        back |= byte_src(f, reg + i) == SRC_BACK;
    uint32_t v = 0;
    const struct vpci_ops *ops = f->desc.ops;
    if (back && ops && ops->read_phys)
        v = ops->read_phys(f->desc.ctx, (uint16_t)reg, size) & ones(size);
    else if (back)
        for (unsigned i = 0; i < size; i++)
            v |= (uint32_t)f->cfg[reg + i] << (8 * i);
    for (unsigned i = 0; i < size; i++)
        if (byte_src(f, reg + i) == SRC_VIRT)
            v = (v & ~(UINT32_C(0xff) << (8 * i))) | (uint32_t)virt_byte(bus, f, reg + i) << (8 * i);
    return v;
}

/* Forwards the bytes of a write that belong to the device, in naturally aligned pieces of the
 * largest size that holds only such bytes: a write never reaches a virtualized byte. */
static void phys_write(struct vpci_func *f, unsigned reg, unsigned size, uint32_t val, unsigned lanes)
{
    const struct vpci_ops *ops = f->desc.ops;
    unsigned all = (1u << size) - 1;
    if (lanes == all) {
        ops->write_phys(f->desc.ctx, (uint16_t)reg, size, val & ones(size));
        return;
    }
    if (size == 4) {
        phys_write(f, reg, 2, val & 0xffff, lanes & 3);
        phys_write(f, reg + 2, 2, val >> 16, lanes >> 2 & 3);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        if (lanes & (1u << i))
            ops->write_phys(f->desc.ctx, (uint16_t)(reg + i), 1, val >> (8 * i) & 0xff);
}

static void func_write(struct vpci_func *f, unsigned reg, unsigned size, uint32_t val)
{
    if (reg < VPCI_HEADER_END) {
        unsigned sh = 8 * (reg & 3);
        header_write(f, reg & ~3u, val << sh, ones(size) << sh);
        return;
    }
    unsigned lanes = 0;
    for (unsigned i = 0; i < size; i++)
        if (byte_src(f, reg + i) == SRC_BACK)
            lanes |= 1u << i;
    if (!lanes)
        return; /* capability headers, hidden capabilities, absent extended space */
    const struct vpci_ops *ops = f->desc.ops;
    if (ops && ops->read_phys) {
        if (ops->write_phys)
            phys_write(f, reg, size, val, lanes);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        if (lanes & (1u << i))
            f->cfg[reg + i] = (uint8_t)(val >> (8 * i));
}

/* Decodes an ECAM offset; NULL for anything that reads all ones. */
static struct vpci_func *decode(struct vpci_bus *bus, uint32_t addr, unsigned size, unsigned *reg)
{
    if (!bus || !size_ok(size) || addr >> ECAM_BUS_SHIFT) /* bus 0 only, inside 256 MiB */
        return NULL;
    *reg = addr & ECAM_REG_MASK;
    if (*reg & (size - 1)) /* naturally aligned only */
        return NULL;
    return func_find(bus, (uint8_t)(addr >> ECAM_FN_SHIFT));
}

uint32_t vpci_read(struct vpci_bus *bus, uint32_t addr, unsigned size)
{
    unsigned reg;
    struct vpci_func *f = decode(bus, addr, size, &reg);
    if (!f)
        return size_ok(size) ? ones(size) : UINT32_MAX;
    return func_read(bus, f, reg, size);
}

void vpci_write(struct vpci_bus *bus, uint32_t addr, unsigned size, uint32_t val)
{
    unsigned reg;
    struct vpci_func *f = decode(bus, addr, size, &reg);
    if (f)
        func_write(f, reg, size, val);
}

/* The data port's access as an ECAM offset, or false for all ones / dropped. */
static bool port_decode(const struct vpci_bus *bus, uint16_t port, unsigned size, uint32_t *addr)
{
    unsigned k = (unsigned)port - VPCI_PORT_DATA;
    if (port < VPCI_PORT_DATA || k > 3 || !size_ok(size) || k % size)
        return false;
    if (!(bus->cf8 & VPCI_CF8_ENABLE))
        return false;
    uint32_t busno = bus->cf8 >> 16 & 0xff, devfn = bus->cf8 >> 8 & 0xff;
    *addr = busno << ECAM_BUS_SHIFT | devfn << ECAM_FN_SHIFT | ((bus->cf8 & 0xfc) + k);
    return true;
}

uint32_t vpci_port_read(struct vpci_bus *bus, uint16_t port, unsigned size)
{
    uint32_t addr;
    if (!size_ok(size))
        return UINT32_MAX;
    if (port == VPCI_PORT_ADDRESS && size == 4)
        return bus->cf8;
    if (!port_decode(bus, port, size, &addr))
        return ones(size);
    return vpci_read(bus, addr, size);
}

void vpci_port_write(struct vpci_bus *bus, uint16_t port, unsigned size, uint32_t val)
{
    uint32_t addr;
    if (port == VPCI_PORT_ADDRESS && size == 4)
        bus->cf8 = val & VPCI_CF8_MASK;
    else if (port_decode(bus, port, size, &addr))
        vpci_write(bus, addr, size, val);
}

/* ---- building the bus ---------------------------------------------------------------------- */

void vpci_init(struct vpci_bus *bus)
{
    memset(bus, 0, sizeof(*bus));
    struct vpci_func *f = &bus->funcs[0];
    f->present = true;
    f->devfn = VPCI_DEVFN(0, 0);
    f->desc.vendor = VPCI_HOST_VENDOR;
    f->desc.device = VPCI_HOST_DEVICE;
    f->desc.subsys_vendor = VPCI_HOST_VENDOR;
    f->desc.subsys_id = 0x1100; /* Red Hat's subsystem ID for "QEMU virtual machine" */
    f->desc.class_code = VPCI_HOST_CLASS;
}

static int check_bars(const struct vpci_bar_desc *bars, uint8_t fixed_bars)
{
    for (unsigned i = 0; i < VPCI_MAX_BARS; i++) {
        const struct vpci_bar_desc *b = &bars[i];
        switch (b->kind) {
        case VPCI_BAR_UNUSED:
            if (b->size || b->addr || b->prefetchable || (fixed_bars >> i & 1))
                return VPCI_E_BAR;
            continue;
        case VPCI_BAR_IO: /* x86 port space is 64 KiB; bits 1:0 are type bits */
            if (!pow2(b->size) || b->size < 4 || b->size > 0x10000 || b->prefetchable)
                return VPCI_E_BAR;
            break;
        case VPCI_BAR_MEM32: /* bits 3:0 are type bits, so 16 bytes at least */
            if (!pow2(b->size) || b->size < 16 || b->size > (UINT64_C(1) << 31))
                return VPCI_E_BAR;
            break;
        case VPCI_BAR_MEM64:
            if (!pow2(b->size) || b->size < 16 || b->size > (UINT64_C(1) << 63) ||
                i + 1 >= VPCI_MAX_BARS || bars[i + 1].kind != VPCI_BAR_UNUSED)
                return VPCI_E_BAR;
            if (bars[i + 1].size || bars[i + 1].addr || bars[i + 1].prefetchable ||
                (fixed_bars >> (i + 1) & 1))
                return VPCI_E_BAR; /* the upper register */
            break;
        default:
            return VPCI_E_BAR;
        }
        if ((fixed_bars >> i & 1) && ((b->addr & (b->size - 1)) ||
                         (b->kind == VPCI_BAR_MEM32 && b->addr > UINT32_MAX) ||
                         (b->kind == VPCI_BAR_IO && b->addr > 0xffff)))
            return VPCI_E_BAR;
        if (b->kind == VPCI_BAR_MEM64)
            i++;
    }
    return VPCI_OK;
}

static int check_caps(const struct vpci_device_desc *d)
{
    if (d->ncaps > VPCI_MAX_CAPS)
        return VPCI_E_CAP;
    for (unsigned i = 0; i < d->ncaps; i++) {
        const struct vpci_cap_desc *c = &d->caps[i];
        /* PCI 3.0 section 6.7: capabilities sit in the device-specific area, dword aligned */
        if (c->offset < VPCI_HEADER_END || (c->offset & 3) || c->len < 2 ||
            (unsigned)c->offset + c->len > VPCI_LEGACY_CFG_SIZE)
            return VPCI_E_CAP;
        for (unsigned j = 0; j < i; j++) {
            const struct vpci_cap_desc *o = &d->caps[j];
            if (c->offset < o->offset + o->len && o->offset < c->offset + c->len)
                return VPCI_E_CAP;
        }
    }
    return VPCI_OK;
}

int vpci_add_device(struct vpci_bus *bus, uint8_t devfn, const struct vpci_device_desc *desc)
{
    if (!bus || !desc)
        return VPCI_E_INVAL;
    if (desc->class_code > 0xffffff || desc->int_pin > 4 || (desc->status & ~VPCI_STS_PRESET) ||
        (desc->cmd_phys_mask & ~VPCI_CMD_WRITABLE) || desc->config_len > VPCI_CFG_SIZE ||
        (!desc->config && desc->config_len))
        return VPCI_E_INVAL;
    if (desc->vendor == 0xffff)
        return VPCI_E_VENDOR;
    if (func_find(bus, devfn))
        return VPCI_E_EXIST;
    if ((devfn & 7) && !func_find(bus, devfn & ~7))
        return VPCI_E_NOFN0;
    int err = check_bars(desc->bars, desc->fixed_bars);
    if (err)
        return err;
    err = check_caps(desc);
    if (err)
        return err;
    struct vpci_func *f = NULL;
    for (unsigned i = 0; i < VPCI_MAX_FUNCS && !f; i++)
        if (!bus->funcs[i].present)
            f = &bus->funcs[i];
    if (!f)
        return VPCI_E_FULL;

    memset(f, 0, sizeof(*f));
    f->desc = *desc;
    f->desc.config = NULL;
    f->desc.config_len = 0;
    if (desc->config_len > VPCI_HEADER_END)
        memcpy(f->cfg + VPCI_HEADER_END, desc->config + VPCI_HEADER_END,
               desc->config_len - VPCI_HEADER_END);
    f->devfn = devfn;
    f->status = desc->status;
    f->int_line = desc->int_line;
    for (unsigned i = 0; i < VPCI_MAX_BARS; i++) {
        const struct vpci_bar_desc *b = &desc->bars[i];
        uint64_t addr = b->addr & ~(b->size - 1);
        if (b->kind == VPCI_BAR_IO || b->kind == VPCI_BAR_MEM32)
            addr &= UINT32_MAX;
        f->bar_addr[i] = b->kind == VPCI_BAR_UNUSED ? 0 : addr;
    }
    f->present = true;
    return VPCI_OK;
}

/* ---- state for the hypervisor -------------------------------------------------------------- */

uint16_t vpci_command(const struct vpci_bus *bus, uint8_t devfn)
{
    const struct vpci_func *f = vpci_find(bus, devfn);
    return f ? f->command : 0;
}

bool vpci_bar_addr(const struct vpci_bus *bus, uint8_t devfn, unsigned bar, uint64_t *addr)
{
    const struct vpci_func *f = vpci_find(bus, devfn);
    if (!f || bar >= VPCI_MAX_BARS || f->desc.bars[bar].kind == VPCI_BAR_UNUSED)
        return false;
    *addr = f->bar_addr[bar];
    return true;
}

void vpci_status_set(struct vpci_bus *bus, uint8_t devfn, uint16_t bits)
{
    struct vpci_func *f = func_find(bus, devfn);
    if (f)
        f->status |= bits & (VPCI_STS_W1C | VPCI_STS_INTX);
}
