// SPDX-License-Identifier: Apache-2.0
// PCI device assignment. A host function named by `pci =` appears on the partition's bus from
// 00:10.0 on, described by kernel/passthru.c: its IDs, class and capabilities as on the host
// (MSI and MSI-X hidden: no virtual interrupt controller yet), its configuration registers
// beyond the header reaching the device, and its BARs fixed at their host addresses, so the
// guest sizes them with the usual protocol and finds them where the firmware put them. Memory
// BARs are mapped once, uncached, at the same guest-physical addresses before any vCPU runs;
// I/O BARs are opened in the vCPUs' I/O bitmaps at the same ports. The command register's
// I/O, memory and INTx-disable bits reach the device; bus mastering never does: without an
// IOMMU the device's DMA could reach any memory.
#include <stdio.h>
#include "kernel/partition.h"
#include "kernel/console.h"
#include "kernel/guest_layout.h"
#include "kernel/passthru.h"
#include "kernel/virt_core.h"
#include "drivers/pcihost.h"

#define ASSIGNED_SLOT0 0x10 /* the first assigned device's slot on the partition's bus */
#define COM_PORTS 8

static struct pcihost_fn host_fn(const struct assigned_fn *a)
{
    return (struct pcihost_fn){ a->bus, a->dev, a->fn };
}

static uint32_t phys_read(void *ctx, uint16_t reg, unsigned size)
{
    return pcihost_read(host_fn(ctx), reg, size);
}

static void phys_write(void *ctx, uint16_t reg, unsigned size, uint32_t val)
{
    pcihost_write(host_fn(ctx), reg, size, val);
}

static const struct vpci_ops assigned_ops = { phys_read, phys_write, NULL, NULL };

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Is [gpa, gpa + size) free in p's guest-physical space: not its RAM, not the ECAM window or
 * the ivshmem registers, not a shared region, and below MAXPHYADDR of the stage-2 format? */
static const char *gpa_taken(const struct partition *p, uint64_t gpa, uint64_t size)
{
    if (overlaps(gpa, size, 0, p->mem_size))
        return "the partition's RAM";
    if (overlaps(gpa, size, GUEST_ECAM_GPA, GUEST_SHMEM_GPA - GUEST_ECAM_GPA))
        return "the PCI ECAM window and the ivshmem registers";
    for (uint32_t i = 0; i < p->ivshmem_count; i++)
        if (overlaps(gpa, size, p->ivshmem[i].shm_gpa, p->ivshmem[i].region->bar_size))
            return "a shared-memory region";
    return NULL;
}

static bool refuse(char *why, size_t len, const struct assigned_fn *a, const char *what)
{
    snprintf(why, len, "pci %02x:%02x.%x: %s", a->bus, a->dev, a->fn, what);
    return false;
}

/* Make BAR i reachable: memory mapped 1:1 (uncached), I/O opened in the bitmaps. */
static bool expose_bar(struct partition *p, const struct assigned_fn *a,
                       const struct vpci_bar_desc *b, char *why, size_t len)
{
    char what[160];
    if (b->kind == VPCI_BAR_IO) {
        uint16_t con = console_port();
        if (con && overlaps(b->addr, b->size, con, COM_PORTS))
            return refuse(why, len, a, "its I/O ports include the hypervisor console's UART");
        if (p->pass_io_n == PART_PASS_IO_MAX)
            return refuse(why, len, a, "too many I/O ranges");
        p->pass_io[p->pass_io_n].base = (uint16_t)b->addr;
        p->pass_io[p->pass_io_n++].count = (uint16_t)b->size;
        return true;
    }
    const char *taken = gpa_taken(p, b->addr, b->size);
    if (taken) {
        snprintf(what, sizeof(what), "its memory BAR at 0x%lx (%lu KiB) would cover %s",
                 b->addr, b->size / 1024, taken);
        return refuse(why, len, a, what);
    }
    struct gpa_range r = { b->addr, b->addr, b->size, GPA_R | GPA_W, GPA_MT_UC };
    int rc = s2pt_map(&p->s2, &virt_s2_format, &r);
    if (rc != 0) {
        snprintf(what, sizeof(what), "mapping its BAR at 0x%lx: %s", b->addr, s2pt_strerror(rc));
        return refuse(why, len, a, what);
    }
    return true;
}

static bool assign_one(struct partition *p, struct assigned_fn *a, char *why, size_t len)
{
    if (a->bus == 0 && a->dev == 0 && a->fn == 0)
        return refuse(why, len, a, "the host bridge stays with the hypervisor");
    const struct passthru_cfg cfg = { phys_read, phys_write, a };
    struct vpci_device_desc d;
    uint64_t host[VPCI_MAX_BARS];
    const char *bad = passthru_describe(&cfg, &d, host);
    if (bad)
        return refuse(why, len, a, bad);
    /* Decoding and bus mastering off until the guest turns decoding on (its view starts at
     * 0). */
    a->host_command = (uint16_t)pcihost_read(host_fn(a), 0x04, 2);
    pcihost_write(host_fn(a), 0x04, 2, a->host_command & ~(VPCI_CMD_IO | VPCI_CMD_MEMORY |
                                                             VPCI_CMD_MASTER));
    for (unsigned i = 0; i < VPCI_MAX_BARS; i++) {
        if (d.bars[i].kind == VPCI_BAR_UNUSED)
            continue;
        d.fixed_bars |= (uint8_t)(1u << i);
        if (!expose_bar(p, a, &d.bars[i], why, len))
            return false;
    }
    d.ops = &assigned_ops;
    d.ctx = a;
    int rc = vpci_add_device(&p->pci, a->devfn, &d);
    if (rc != VPCI_OK) {
        char what[64];
        snprintf(what, sizeof(what), "the virtual bus refused it (error %d)", rc);
        return refuse(why, len, a, what);
    }
    return true;
}

bool vdev_assign(struct partition *p, const struct config_partition *c, char *why, size_t len)
{
    for (uint32_t i = 0; i < c->pci_count; i++) {
        struct assigned_fn *a = &p->assigned[p->assigned_n++];
        *a = (struct assigned_fn){ c->pci[i].bus, c->pci[i].dev, c->pci[i].fn,
                                   VPCI_DEVFN(ASSIGNED_SLOT0 + i, 0), 0 };
        if (!assign_one(p, a, why, len))
            return false;
    }
    return true;
}

void vdev_unassign(struct partition *p)
{
    /* Quiet again: no decoding, no bus mastering, whatever the guest left. (The device is not
     * reset: Moat has no function-level reset yet.) */
    for (uint32_t i = 0; i < p->assigned_n; i++) {
        struct assigned_fn *a = &p->assigned[i];
        uint16_t cmd = (uint16_t)pcihost_read(host_fn(a), 0x04, 2);
        pcihost_write(host_fn(a), 0x04, 2, cmd & ~(VPCI_CMD_IO | VPCI_CMD_MEMORY | VPCI_CMD_MASTER));
    }
    p->assigned_n = 0;
}
