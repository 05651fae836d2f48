// SPDX-License-Identifier: Apache-2.0
// The host frame allocator instance and its lock. kernel/pmm.c is pure and unlocked; every
// CPU allocates (vCPU set-up runs on all CPUs at once), so all use goes through here.
#include <string.h>
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"

struct pmm host_pmm;
static struct spinlock pmm_lock = SPINLOCK_INIT;

hpa_t frames_alloc(uint64_t pages, uint64_t align, uint64_t max_end)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    hpa_t pa = pmm_alloc(&host_pmm, pages, align, max_end);
    spin_unlock_irqrestore(&pmm_lock, flags);
    return pa;
}

hpa_t frames_alloc_zeroed(uint64_t pages, uint64_t max_end)
{
    hpa_t pa = frames_alloc(pages, PAGE_SIZE, max_end);
    if (pa == PMM_NONE)
        panic("out of memory allocating %lu pages below 0x%lx", pages, max_end);
    memset(hpa_to_ptr(pa), 0, pages * PAGE_SIZE);
    return pa;
}

bool frames_reserve(hpa_t pa, uint64_t pages)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    int rc = pmm_reserve(&host_pmm, pa, pages);
    spin_unlock_irqrestore(&pmm_lock, flags);
    return rc == 0;
}

void frames_free(hpa_t pa, uint64_t pages)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    int rc = pmm_free(&host_pmm, pa, pages);
    spin_unlock_irqrestore(&pmm_lock, flags);
    if (rc != 0)
        panic("freeing %lu pages at 0x%lx: %s", pages, pa, pmm_strerror(rc));
}

uint64_t frames_free_bytes(void)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    uint64_t n = pmm_free_bytes(&host_pmm);
    spin_unlock_irqrestore(&pmm_lock, flags);
    return n;
}

uint64_t frames_largest_free(void)
{
    uint64_t flags = spin_lock_irqsave(&pmm_lock);
    uint64_t n = pmm_largest_free(&host_pmm);
    spin_unlock_irqrestore(&pmm_lock, flags);
    return n;
}
