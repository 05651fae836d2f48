// SPDX-License-Identifier: Apache-2.0
// Host PCI configuration access (drivers/pcihost.h).
#include "drivers/pcihost.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA    0xcfc

static struct spinlock lock = SPINLOCK_INIT;

static uint32_t address(struct pcihost_fn f, uint16_t reg)
{
    return 0x80000000u | (uint32_t)f.bus << 16 | (uint32_t)(f.dev & 0x1f) << 11 |
           (uint32_t)(f.fn & 0x7) << 8 | (reg & 0xfc);
}

uint32_t pcihost_read(struct pcihost_fn f, uint16_t reg, unsigned size)
{
    uint16_t port = (uint16_t)(CONFIG_DATA + (reg & 3));
    uint64_t flags = spin_lock_irqsave(&lock);
    outl(CONFIG_ADDRESS, address(f, reg));
    uint32_t v = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
    spin_unlock_irqrestore(&lock, flags);
    return v;
}

void pcihost_write(struct pcihost_fn f, uint16_t reg, unsigned size, uint32_t val)
{
    uint16_t port = (uint16_t)(CONFIG_DATA + (reg & 3));
    uint64_t flags = spin_lock_irqsave(&lock);
    outl(CONFIG_ADDRESS, address(f, reg));
    if (size == 1)
        outb(port, (uint8_t)val);
    else if (size == 2)
        outw(port, (uint16_t)val);
    else
        outl(port, val);
    spin_unlock_irqrestore(&lock, flags);
}
