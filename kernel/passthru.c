// SPDX-License-Identifier: Apache-2.0
// kernel/passthru.h: reading a physical function's header into a vpci descriptor.
#include <string.h>
#include "kernel/passthru.h"

#define REG_VENDOR    0x00
#define REG_COMMAND   0x04
#define REG_CLASS_REV 0x08
#define REG_HEADER    0x0e
#define REG_BAR0      0x10
#define REG_SUBSYS    0x2c
#define REG_CAP_PTR   0x34
#define REG_INT       0x3c
#define STATUS_CAP_LIST 0x10

/* Size BAR i (PCI 3.0 section 6.2.5.1 "Address Maps"): with decoding off, write all ones and
 * read back which address bits stick; restore the original value. */
static uint64_t size_mask(const struct passthru_cfg *c, uint16_t reg, bool wide, uint32_t lo,
                          uint32_t hi)
{
    c->write(c->ctx, reg, 4, 0xffffffffu);
    uint64_t mask = c->read(c->ctx, reg, 4);
    c->write(c->ctx, reg, 4, lo);
    if (wide) {
        c->write(c->ctx, (uint16_t)(reg + 4), 4, 0xffffffffu);
        mask |= (uint64_t)c->read(c->ctx, (uint16_t)(reg + 4), 4) << 32;
        c->write(c->ctx, (uint16_t)(reg + 4), 4, hi);
    }
    return mask;
}

static const char *describe_bars(const struct passthru_cfg *c, struct vpci_device_desc *d,
                                 uint64_t host_addr[VPCI_MAX_BARS])
{
    for (unsigned i = 0; i < VPCI_MAX_BARS; i++) {
        uint16_t reg = (uint16_t)(REG_BAR0 + 4 * i);
        uint32_t lo = c->read(c->ctx, reg, 4);
        bool io = lo & VPCI_BAR_SPACE_IO;
        bool wide = !io && (lo & 0x6) == VPCI_BAR_MEM_TYPE_64;
        if (!io && (lo & 0x6) == 0x2)
            return "a BAR of the reserved memory type 01b";
        if (wide && i == VPCI_MAX_BARS - 1)
            return "a 64-bit BAR in BAR5";
        uint32_t hi = wide ? c->read(c->ctx, (uint16_t)(reg + 4), 4) : 0;
        uint64_t mask = size_mask(c, reg, wide, lo, hi);
        /* The writable address bits give the size; none: an unimplemented BAR. I/O BARs may
         * leave bits 31:16 zero (x86 ports are 16 bits). */
        uint64_t size;
        if (io)
            size = (mask & 0xfffc) ? (~(mask & 0xfffc) & 0xffff) + 1 : 0;
        else if (wide)
            size = (mask & ~0xfull) ? ~(mask & ~0xfull) + 1 : 0;
        else
            size = (mask & 0xfffffff0u) ? (uint64_t)(uint32_t)~(mask & 0xfffffff0u) + 1 : 0;
        if (size) {
            d->bars[i].kind = io ? VPCI_BAR_IO : wide ? VPCI_BAR_MEM64 : VPCI_BAR_MEM32;
            d->bars[i].prefetchable = !io && (lo & VPCI_BAR_MEM_PREFETCH);
            d->bars[i].size = size;
            host_addr[i] = ((uint64_t)hi << 32 | lo) & (io ? ~0x3ull : ~0xfull);
            d->bars[i].addr = host_addr[i]; /* the guest finds it where the firmware put it */
        }
        if (wide)
            i++; /* the upper half: VPCI_BAR_UNUSED in the descriptor */
    }
    return NULL;
}

static const char *describe_caps(const struct passthru_cfg *c, struct vpci_device_desc *d)
{
    if (!(c->read(c->ctx, REG_COMMAND + 2, 2) & STATUS_CAP_LIST))
        return NULL;
    uint8_t at = (uint8_t)c->read(c->ctx, REG_CAP_PTR, 1) & 0xfc;
    uint8_t offs[VPCI_MAX_CAPS];
    unsigned n = 0;
    while (at >= 0x40 && n < VPCI_MAX_CAPS) {
        for (unsigned k = 0; k < n; k++)
            if (offs[k] == at)
                return "its capability list loops";
        offs[n] = at;
        d->caps[n].offset = at;
        d->caps[n].id = (uint8_t)c->read(c->ctx, at, 1);
        d->caps[n].hidden = d->caps[n].id == VPCI_CAP_ID_MSI || d->caps[n].id == VPCI_CAP_ID_MSIX;
        n++;
        at = (uint8_t)c->read(c->ctx, (uint16_t)(at + 1), 1) & 0xfc;
    }
    if (at >= 0x40)
        return "more capabilities than Moat can list";
    /* Each capability runs to the next one's start (or the end of the header space). */
    for (unsigned k = 0; k < n; k++) {
        unsigned end = 0x100;
        for (unsigned j = 0; j < n; j++)
            if (offs[j] > offs[k] && offs[j] < end)
                end = offs[j];
        d->caps[k].len = (uint8_t)(end - offs[k] > 0xff ? 0xff : end - offs[k]);
    }
    d->ncaps = n;
    return NULL;
}

const char *passthru_describe(const struct passthru_cfg *c, struct vpci_device_desc *d,
                              uint64_t host_addr[VPCI_MAX_BARS])
{
    memset(d, 0, sizeof(*d));
    memset(host_addr, 0, VPCI_MAX_BARS * sizeof(host_addr[0]));
    uint32_t id = c->read(c->ctx, REG_VENDOR, 4);
    if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
        return "no function there";
    if ((c->read(c->ctx, REG_HEADER, 1) & 0x7f) != 0)
        return "it is a bridge (header type 1 or 2), which stays with the hypervisor";
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    uint32_t cr = c->read(c->ctx, REG_CLASS_REV, 4);
    d->revision = (uint8_t)cr;
    d->class_code = cr >> 8;
    uint32_t ss = c->read(c->ctx, REG_SUBSYS, 4);
    d->subsys_vendor = (uint16_t)ss;
    d->subsys_id = (uint16_t)(ss >> 16);
    uint32_t intr = c->read(c->ctx, REG_INT, 4);
    d->int_line = (uint8_t)intr;
    d->int_pin = (uint8_t)(intr >> 8) <= 4 ? (uint8_t)(intr >> 8) : 0;
    /* BARs are sized with decoding off, so the device never answers at all-ones addresses
     * (PCI 3.0 section 6.2.5.1, implementation note "Sizing a 32-bit Base Address Register"). */
    uint16_t cmd = (uint16_t)c->read(c->ctx, REG_COMMAND, 2);
    c->write(c->ctx, REG_COMMAND, 2, cmd & ~(VPCI_CMD_IO | VPCI_CMD_MEMORY));
    const char *why = describe_bars(c, d, host_addr);
    c->write(c->ctx, REG_COMMAND, 2, cmd);
    if (!why)
        why = describe_caps(c, d);
    /* The guest may turn decoding and INTx masking on and off; bus mastering (DMA) stays off:
     * without an IOMMU a device's DMA could reach any memory. */
    d->cmd_phys_mask = VPCI_CMD_IO | VPCI_CMD_MEMORY | VPCI_CMD_INTX_DISABLE;
    return why;
}
