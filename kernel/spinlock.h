// SPDX-License-Identifier: Apache-2.0
// Ticket spinlocks: FIFO-fair, so a CPU printing a panic is not starved by chatty neighbours.
// The _irqsave forms keep interrupts off while the lock is held (a tick handler may print).
#ifndef KERNEL_SPINLOCK_H
#define KERNEL_SPINLOCK_H

#include <stdint.h>
#include "kernel/x86.h"

struct spinlock {
    volatile uint32_t next;
    volatile uint32_t owner;
};
#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(struct spinlock *l)
{
    uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t f = irq_save();
    spin_lock(l);
    return f;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    spin_unlock(l);
    irq_restore(flags);
}
#endif
