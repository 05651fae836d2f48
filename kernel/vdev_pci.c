// SPDX-License-Identifier: Apache-2.0
// A partition's PCI devices beyond the host bridge: its bus 0 through ECAM MMIO (the same
// model and lock as 0xCF8/0xCFC in kernel/vmexit.c), and one ivshmem function per shared-memory
// region it links (registers emulated, shared memory mapped). Layout: kernel/guest_layout.h.
#include <stdio.h>
#include "common/bits.h"
#include "kernel/partition.h"
#include "kernel/guest_layout.h"
#include "kernel/shmem.h"
#include "kernel/virt_core.h"

/* ---- ECAM --------------------------------------------------------------------------------
 * 1, 2 and 4-byte accesses go to the model as they are (it answers misaligned ones with all
 * ones); an aligned 8-byte access is two dword accesses, low then high (PCIe base spec 7.2.2
 * leaves wider accesses to the implementation). */

static void ecam_access(struct vcpu *v, struct mmio_device *d, uint64_t off, unsigned size,
                        bool write, uint64_t *val)
{
    struct partition *p = d->ctx;
    uint32_t addr = (uint32_t)off;
    uint64_t flags = spin_lock_irqsave(&p->pci_lock);
    if (size == 8 && off % 8) {
        if (!write)
            *val = UINT64_MAX;
    } else if (size == 8 && write) {
        vpci_write(&p->pci, addr, 4, (uint32_t)*val);
        vpci_write(&p->pci, addr + 4, 4, (uint32_t)(*val >> 32));
    } else if (size == 8) {
        *val = vpci_read(&p->pci, addr, 4) | (uint64_t)vpci_read(&p->pci, addr + 4, 4) << 32;
    } else if (write) {
        vpci_write(&p->pci, addr, size, (uint32_t)*val);
    } else {
        *val = vpci_read(&p->pci, addr, size);
    }
    spin_unlock_irqrestore(&p->pci_lock, flags);
}

bool vdev_attach_ecam(struct partition *p)
{
    struct mmio_device d = { GUEST_ECAM_GPA, GUEST_ECAM_SIZE, ecam_access, p, "PCI ECAM" };
    return mmio_add(&p->mmio, &d);
}

/* ---- ivshmem --------------------------------------------------------------------------------
 * The device QEMU's ivshmem made common (1af4:1110), without MSI-X or interrupts until Moat has
 * a virtual interrupt controller: BAR0 is four 32-bit registers, BAR2 the shared memory. Both
 * BARs are fixed (kernel/vpci.h): the memory is mapped once, before the vCPUs start. */

#define IVSHMEM_VENDOR   0x1af4 /* Red Hat (virtio range), as QEMU's ivshmem */
#define IVSHMEM_DEVICE   0x1110
#define IVSHMEM_SUBSYS   0x1100
#define IVSHMEM_CLASS    0x050000u /* memory controller / RAM */
#define IVSHMEM_REVISION 1

/* Room on the bus for everything a configuration may give a partition (kernel/config.h). */
_Static_assert(VPCI_MAX_FUNCS >= 1 + CONFIG_LINKS_MAX + CONFIG_PCI_MAX, "bridge, links, devices");

#define IVSHMEM_INTR_MASK   0x00
#define IVSHMEM_INTR_STATUS 0x04
#define IVSHMEM_IV_POSITION 0x08
#define IVSHMEM_DOORBELL    0x0c

static void ivshmem_regs(struct vcpu *v, struct mmio_device *d, uint64_t off, unsigned size,
                         bool write, uint64_t *val)
{
    struct partition *p = v->part;
    struct ivshmem_link *l = d->ctx;
    struct shmem_region *r = l->region;
    uint64_t flags = spin_lock_irqsave(&p->pci_lock);
    bool decode = vpci_command(&p->pci, l->devfn) & VPCI_CMD_MEMORY;
    spin_unlock_irqrestore(&p->pci_lock, flags);
    if (!write)
        *val = 0;
    if (!decode) { /* memory space disabled: nobody answers (a master abort reads all ones) */
        if (!write)
            *val = width_mask(size);
        return;
    }
    if (size != 4 || off % 4)
        return; /* the registers are dwords: other accesses read 0 and are ignored */
    switch (off) {
    case IVSHMEM_INTR_MASK:
        if (write)
            l->intr_mask = (uint32_t)*val;
        else
            *val = l->intr_mask;
        break;
    case IVSHMEM_INTR_STATUS: /* doorbells received since the last read; reading clears */
        if (!write)
            *val = __atomic_exchange_n(&r->doorbells[l->peer], 0, __ATOMIC_SEQ_CST);
        break;
    case IVSHMEM_IV_POSITION:
        if (!write)
            *val = l->peer;
        break;
    case IVSHMEM_DOORBELL: { /* bits 31:16 the peer, 15:0 the vector (ignored for now) */
        uint32_t dest = (uint32_t)*val >> 16;
        if (write && dest < r->peer_count)
            __atomic_fetch_add(&r->doorbells[dest], 1, __ATOMIC_SEQ_CST);
        break;
    }
    default:
        break;
    }
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

bool vdev_attach_ivshmem(struct partition *p, const struct config_partition *c, char *why,
                         size_t why_len)
{
    uint64_t next = GUEST_SHMEM_GPA;
    for (uint32_t i = 0; i < c->shmem_count; i++) {
        struct shmem_region *r = shmem_get(c->shmem_index[i], why, why_len);
        if (!r)
            return false;
        struct ivshmem_link *l = &p->ivshmem[p->ivshmem_count++];
        int peer = shmem_peer_index(r, p->slot);
        l->region = r;
        l->peer = peer < 0 ? 0 : (uint32_t)peer;
        l->devfn = VPCI_DEVFN(1 + i, 0);
        l->regs_gpa = GUEST_IVSHMEM_REGS_GPA + i * GUEST_IVSHMEM_REGS_STRIDE;
        l->shm_gpa = align_up(next, r->bar_size);
        next = l->shm_gpa + r->bar_size;

        struct vpci_device_desc desc = {
            .vendor = IVSHMEM_VENDOR, .device = IVSHMEM_DEVICE,
            .subsys_vendor = IVSHMEM_VENDOR, .subsys_id = IVSHMEM_SUBSYS,
            .revision = IVSHMEM_REVISION, .class_code = IVSHMEM_CLASS,
            .bars = {
                [0] = { VPCI_BAR_MEM32, false, GUEST_IVSHMEM_REGS_SIZE, l->regs_gpa },
                [2] = { VPCI_BAR_MEM64, true, r->bar_size, l->shm_gpa },
            },
            .fixed_bars = 1u << 0 | 1u << 2,
        };
        struct mmio_device regs = { l->regs_gpa, GUEST_IVSHMEM_REGS_SIZE, ivshmem_regs, l,
                                    "ivshmem registers" };
        struct gpa_range shm = { l->shm_gpa, r->hpa, r->size, GPA_RWX, GPA_MT_WB };
        int rc = vpci_add_device(&p->pci, l->devfn, &desc);
        if (rc != VPCI_OK || !mmio_add(&p->mmio, &regs)) {
            snprintf(why, why_len, "shmem %s: no room for its ivshmem device at 00:%02x.0 (%d)",
                     r->name, 1 + i, rc);
            return false;
        }
        rc = s2pt_map(&p->s2, &virt_s2_format, &shm);
        if (rc != 0) {
            snprintf(why, why_len, "shmem %s at guest-physical 0x%lx: second-level tables: %s",
                     r->name, l->shm_gpa, s2pt_strerror(rc));
            return false;
        }
    }
    return true;
}

void vdev_detach_ivshmem(struct partition *p)
{
    for (uint32_t i = 0; i < p->ivshmem_count; i++)
        shmem_put(p->ivshmem[i].region);
    p->ivshmem_count = 0;
}
