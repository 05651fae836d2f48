// SPDX-License-Identifier: Apache-2.0
// Physical frame allocator: turns the loader's memory map into a set of free 4 KiB frames and
// hands out aligned contiguous runs. Pure bookkeeping -- it never reads or writes the memory
// it manages, takes no lock (the caller serialises) and knows no fixed address.
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stdbool.h>
#include <stdint.h>
#include "common/boot_info.h"

#define PMM_PAGE_SHIFT 12
#define PMM_PAGE_SIZE  (1ull << PMM_PAGE_SHIFT)
#define PMM_PAGE_MASK  (PMM_PAGE_SIZE - 1)

/* Physical addresses are at most 52 bits wide (Intel SDM vol. 3A 4.1.4, MAXPHYADDR; AMD APM
 * vol. 2 5.1): anything the map claims above this is clipped off. */
#define PMM_PHYS_LIMIT (1ull << 52)

/* Returned by pmm_alloc when nothing fits. Not page-aligned, so never a valid result
 * (and not 0, which the caller might mistake for physical page 0). */
#define PMM_NONE UINT64_MAX

/* Capacity of each range table (free ranges and managed ranges), in entries. */
#define PMM_MAX_RANGES 1024

/* Useful limits for pmm_alloc's max_end. */
#define PMM_BELOW_1M (1ull << 20)  /* real-mode reachable: the AP startup trampoline */
#define PMM_BELOW_4G (1ull << 32)  /* 32-bit DMA, structures with 32-bit address fields */
#define PMM_NO_LIMIT 0ull

/* Error codes (negative). 0 is success. */
enum pmm_error {
    PMM_OK = 0,
    PMM_E_INVAL = -1,   /* NULL pointer, zero page count, run wraps or passes PMM_PHYS_LIMIT */
    PMM_E_ALIGN = -2,   /* base address not 4 KiB aligned */
    PMM_E_FULL = -3,    /* range table full: the operation needs a slot that is not there */
    PMM_E_DOUBLE = -4,  /* free: some page of the run is already free (double free / overlap) */
    PMM_E_FOREIGN = -5, /* some page of the run was never managed by this allocator */
    PMM_E_BUSY = -6,    /* reserve: some page of the run is allocated */
    PMM_E_NOMEM = -7,   /* init: no usable page left after all exclusions */
};

/* pmm_init's positive return value: a bit set of repairs it made to a map that broke the
 * boot_info contract (sorted by base, non-overlapping). The result is still safe: where a
 * usable entry and any other entry overlap, the page is not managed. */
#define PMM_INIT_UNSORTED  (1u << 0) /* entries not sorted by base */
#define PMM_INIT_OVERLAP   (1u << 1) /* entries overlap (usable/usable merged, else excluded) */
#define PMM_INIT_BAD_ENTRY (1u << 2) /* an entry or region wraps or lies above PMM_PHYS_LIMIT */
#define PMM_INIT_TRUNCATED (1u << 3) /* needed more than PMM_MAX_RANGES: smallest pieces dropped */
#define PMM_INIT_ALL_WARNINGS 0xfu

/* A physical region the caller wants kept out of the allocator, in bytes; need not be
 * page-aligned (it is rounded outwards to whole pages). size 0 is ignored. */
struct pmm_region {
    uint64_t base;
    uint64_t size;
};

/* [base, end) in page frame numbers (physical address >> PMM_PAGE_SHIFT). */
struct pmm_range {
    uint64_t base;
    uint64_t end;
};

/* Both tables are sorted by base, non-overlapping, and never hold two ranges that touch
 * (adjacent ones are merged), so each is the canonical form of its set of pages.
 * 32 KiB: give it static storage, not a stack slot. */
struct pmm {
    struct pmm_range free[PMM_MAX_RANGES];    /* frames available now */
    struct pmm_range managed[PMM_MAX_RANGES]; /* frames usable at init: what free may hold */
    uint32_t nfree;
    uint32_t nmanaged;
    uint64_t free_pages;
    uint64_t managed_pages;
    uint32_t init_flags; /* PMM_INIT_* repairs made by pmm_init */
    uint32_t rsvd;       /* explicit padding: pmm_init zeroes the whole struct */
};

/* Build the allocator from a memory map: the pages wholly inside BOOT_MEM_USABLE entries
 * (rounded inwards), minus every page touched by a non-usable entry or by one of `reserved`
 * (rounded outwards), minus physical page 0. The map need not be sorted or disjoint.
 * Returns PMM_E_INVAL, PMM_E_NOMEM (p is then valid and empty), 0, or a positive set of
 * PMM_INIT_* flags when the map had to be repaired (p is valid). */
int pmm_init(struct pmm *p, const struct boot_mem_range *map, uint32_t count,
             const struct pmm_region *reserved, uint32_t nreserved);

/* Allocate `pages` contiguous pages whose base is a multiple of align_bytes (a power of two
 * >= 4096; 0 means 4096) and whose end is <= max_end (0 or UINT64_MAX: no limit; an
 * unaligned max_end is rounded down). Never returns memory outside the managed set.
 * Policy: the highest fitting address (top-down first fit). Memory below 4 GiB, and below
 * 1 MiB last of all, is only used when nothing higher fits or when max_end asks for it, so
 * the AP trampoline and 32-bit structures still find room after partitions are carved.
 * Table full: when the highest fit would split a free range and no slot is left, that range's
 * low edge is taken instead if aligned and below max_end, else lower ranges are tried.
 * Returns the physical address, or PMM_NONE (nothing changed). */
uint64_t pmm_alloc(struct pmm *p, uint64_t pages, uint64_t align_bytes, uint64_t max_end);

/* Return a run to the free set, merging with neighbours. The run may span several earlier
 * allocations. Checks first, then changes: on error nothing is changed.
 * Errors: PMM_E_INVAL, PMM_E_ALIGN, PMM_E_FOREIGN (not all managed), PMM_E_DOUBLE (some page
 * already free), PMM_E_FULL (the run touches no free range and the table is full). */
int pmm_free(struct pmm *p, uint64_t base, uint64_t pages);

/* Take a specific run out of the free set (e.g. a fixed host-physical partition base).
 * Errors: PMM_E_INVAL, PMM_E_ALIGN, PMM_E_FOREIGN, PMM_E_BUSY (some page not free),
 * PMM_E_FULL (the run lies strictly inside a free range and the table is full). */
int pmm_reserve(struct pmm *p, uint64_t base, uint64_t pages);

/* True when every page of [base, base + pages * 4096) is free (resp. managed); false for a
 * run pmm_free would reject as PMM_E_INVAL or PMM_E_ALIGN. */
bool pmm_is_free(const struct pmm *p, uint64_t base, uint64_t pages);
bool pmm_is_managed(const struct pmm *p, uint64_t base, uint64_t pages);

uint64_t pmm_free_bytes(const struct pmm *p);    /* free now */
uint64_t pmm_total_bytes(const struct pmm *p);   /* managed at init */
uint64_t pmm_largest_free(const struct pmm *p);  /* longest free run, bytes */
uint32_t pmm_free_range_count(const struct pmm *p);
/* The i-th free range in bytes, ascending; false when i is out of range. */
bool pmm_free_range(const struct pmm *p, uint32_t i, uint64_t *base, uint64_t *end);

/* Text for an error code or for a single PMM_INIT_* flag (several flags: a generic text). */
const char *pmm_strerror(int code);

/* For the boot log: the firmware's view, before exclusions. Sums the BOOT_MEM_USABLE entries
 * (bytes as given, saturating) and counts them. */
void pmm_map_summary(const struct boot_mem_range *map, uint32_t count,
                     uint64_t *usable_bytes, uint32_t *usable_ranges);

/* Collect what the kernel must keep out of the allocator from boot_info: the kernel image,
 * every module, and the boot_info struct itself (at bi_phys; sizeof(struct boot_info)
 * bytes). Zero-sized entries are skipped; the module count bi claims is clamped to
 * BOOT_MODULES_MAX. Writes at most max entries to out (PMM_BOOT_REGIONS_MAX always
 * suffices) and returns how many it wrote. */
#define PMM_BOOT_REGIONS_MAX (BOOT_MODULES_MAX + 2)
uint32_t pmm_regions_from_boot_info(const struct boot_info *bi, uint64_t bi_phys,
                                    struct pmm_region *out, uint32_t max);

#endif
