// SPDX-License-Identifier: Apache-2.0
// The host's PCI configuration space through configuration mechanism #1 (0xCF8/0xCFC, PCI
// 3.0 section 3.2.2.3.2): registers 0..0xFF of any function. One lock for all CPUs: the
// CONFIG_ADDRESS latch is shared.
#ifndef DRIVERS_PCIHOST_H
#define DRIVERS_PCIHOST_H

#include <stdint.h>

struct pcihost_fn {
    uint8_t bus, dev, fn;
};

/* size 1, 2 or 4, reg naturally aligned and below 0x100. */
uint32_t pcihost_read(struct pcihost_fn f, uint16_t reg, unsigned size);
void pcihost_write(struct pcihost_fn f, uint16_t reg, unsigned size, uint32_t val);
#endif
