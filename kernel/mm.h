// SPDX-License-Identifier: Apache-2.0
// The hypervisor's view of host memory: the frame allocator instance, and the one mapping
// rule (host-physical memory is identity-mapped, so a host-virtual pointer is the same number).
#ifndef KERNEL_MM_H
#define KERNEL_MM_H
#include <stdint.h>
#include <stdbool.h>
#include "kernel/pmm.h"

#define PAGE_SIZE ((uint64_t)4096)
#define GIB ((uint64_t)1 << 30)
#define MIB ((uint64_t)1 << 20)

typedef uint64_t hpa_t; /* host-physical address */

extern struct pmm host_pmm;

static inline void *hpa_to_ptr(hpa_t pa)
{
    return (void *)(uintptr_t)pa;
}
static inline hpa_t ptr_to_hpa(const void *p)
{
    return (hpa_t)(uintptr_t)p;
}

/* The locked interface to host_pmm; use these, never pmm_* on host_pmm directly (every CPU
 * allocates). frames_alloc returns PMM_NONE when nothing fits; align is in bytes. */
hpa_t frames_alloc(uint64_t pages, uint64_t align, uint64_t max_end);
/* `pages` zeroed frames below max_end (0: anywhere), or panic: used only where running out
 * at boot leaves nothing sensible to do. */
hpa_t frames_alloc_zeroed(uint64_t pages, uint64_t max_end);
/* Return frames; freeing what was not allocated is a Moat bug and panics. */
void frames_free(hpa_t pa, uint64_t pages);
/* Take exactly [pa, pa + pages * 4 KiB) if all of it is free; false otherwise. */
bool frames_reserve(hpa_t pa, uint64_t pages);
uint64_t frames_free_bytes(void);
uint64_t frames_largest_free(void);

/* Build the hypervisor's identity map of [0, 4 GiB) and of all RAM above, RAM write-back and
 * holes uncached (MTRRs still apply on top), and switch this CPU to it. Returns CR3. */
hpa_t paging_init(const struct boot_mem_range *map, uint32_t count);
#endif
