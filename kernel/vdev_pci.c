// SPDX-License-Identifier: Apache-2.0
// A partition's PCI bus 0 through ECAM MMIO: the same model and lock as 0xCF8/0xCFC in
// kernel/vmexit.c. Layout: kernel/guest_layout.h.
#include <stdio.h>
#include "kernel/partition.h"
#include "kernel/guest_layout.h"

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
