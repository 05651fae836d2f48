// SPDX-License-Identifier: Apache-2.0
// Physical frame allocator: sorted tables of [base, end) page ranges (free and managed),
// built from the boot memory map. Bookkeeping only: no managed page is ever touched, so the
// same code runs in the kernel and in host unit tests.
#include "kernel/pmm.h"

#include <stddef.h>
#include <string.h>

#define PMM_PFN_LIMIT (PMM_PHYS_LIMIT >> PMM_PAGE_SHIFT)

/* ---- range tables -----------------------------------------------------------------------
 * A table is an array of ranges sorted by base, pairwise disjoint and non-touching. All the
 * helpers keep that invariant; `cap` is always PMM_MAX_RANGES. */

/* Index of the first range whose end is > x (n when there is none). */
static uint32_t rt_first_end_above(const struct pmm_range *t, uint32_t n, uint64_t x)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t[mid].end > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Index of the range holding all of [b, e), or -1. */
static int64_t rt_containing(const struct pmm_range *t, uint32_t n, uint64_t b, uint64_t e)
{
    uint32_t i = rt_first_end_above(t, n, b);
    if (i < n && t[i].base <= b && e <= t[i].end)
        return i;
    return -1;
}

static bool rt_intersects(const struct pmm_range *t, uint32_t n, uint64_t b, uint64_t e)
{
    uint32_t i = rt_first_end_above(t, n, b);
    return i < n && t[i].base < e;
}

static void rt_remove(struct pmm_range *t, uint32_t *n, uint32_t i, uint32_t count)
{
    memmove(&t[i], &t[i + count], (size_t)(*n - i - count) * sizeof(*t));
    *n -= count;
}

/* Caller guarantees *n < PMM_MAX_RANGES. */
static void rt_insert(struct pmm_range *t, uint32_t *n, uint32_t i, uint64_t b, uint64_t e)
{
    memmove(&t[i + 1], &t[i], (size_t)(*n - i) * sizeof(*t));
    t[i].base = b;
    t[i].end = e;
    (*n)++;
}

/* Add [b, e) to the set, merging everything it overlaps or touches. Lossy when full: the
 * smallest range (possibly the new one) is dropped and PMM_INIT_TRUNCATED recorded. Sets
 * PMM_INIT_OVERLAP when [b, e) shares a unit with the set. Used only while building. */
static void rt_union(struct pmm_range *t, uint32_t *n, uint64_t b, uint64_t e, uint32_t *flags)
{
    /* First range with end >= b, i.e. that touches or follows b. */
    uint32_t i = b ? rt_first_end_above(t, *n, b - 1) : 0;
    uint32_t j = i;

    while (j < *n && t[j].base <= e) {
        if (t[j].base < e && t[j].end > b)
            *flags |= PMM_INIT_OVERLAP;
        j++;
    }
    if (j > i) {
        uint64_t nb = t[i].base < b ? t[i].base : b;
        uint64_t ne = t[j - 1].end > e ? t[j - 1].end : e;
        t[i].base = nb;
        t[i].end = ne;
        rt_remove(t, n, i + 1, j - i - 1);
        return;
    }
    if (*n == PMM_MAX_RANGES) {
        uint32_t small = 0;
        for (uint32_t k = 1; k < *n; k++)
            if (t[k].end - t[k].base < t[small].end - t[small].base)
                small = k;
        *flags |= PMM_INIT_TRUNCATED;
        if (e - b <= t[small].end - t[small].base)
            return;
        rt_remove(t, n, small, 1);
        if (small < i)
            i--;
    }
    rt_insert(t, n, i, b, e);
}

/* Remove [b, e) from the set. Lossy when a split needs a slot and the table is full: the
 * smaller of the two pieces is dropped too (PMM_INIT_TRUNCATED). Returns whether anything
 * was removed. Used only while building. */
static bool rt_subtract(struct pmm_range *t, uint32_t *n, uint64_t b, uint64_t e,
                        uint32_t *flags)
{
    uint32_t i = rt_first_end_above(t, *n, b);
    bool hit = false;

    while (i < *n && t[i].base < e) {
        struct pmm_range r = t[i];
        hit = true;
        if (r.base < b && r.end > e) {
            if (*n < PMM_MAX_RANGES) {
                t[i].end = b;
                rt_insert(t, n, i + 1, e, r.end);
            } else if (b - r.base >= r.end - e) {
                t[i].end = b;
                *flags |= PMM_INIT_TRUNCATED;
            } else {
                t[i].base = e;
                *flags |= PMM_INIT_TRUNCATED;
            }
            break;
        } else if (r.base < b) {
            t[i].end = b;
            i++;
        } else if (r.end > e) {
            t[i].base = e;
            break;
        } else {
            rt_remove(t, n, i, 1);
        }
    }
    return hit;
}

/* Take [b, e) out of range i, which holds all of it. Splitting needs a free slot: callers
 * check rt_carve_needs_slot() first. */
static bool rt_carve_needs_slot(const struct pmm_range *r, uint64_t b, uint64_t e)
{
    return b > r->base && e < r->end;
}

static void rt_carve(struct pmm_range *t, uint32_t *n, uint32_t i, uint64_t b, uint64_t e)
{
    struct pmm_range r = t[i];
    if (b == r.base && e == r.end) {
        rt_remove(t, n, i, 1);
    } else if (b == r.base) {
        t[i].base = e;
    } else if (e == r.end) {
        t[i].end = b;
    } else {
        t[i].end = b;
        rt_insert(t, n, i + 1, e, r.end);
    }
}

static uint64_t rt_pages(const struct pmm_range *t, uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += t[i].end - t[i].base;
    return sum;
}

/* ---- building ----------------------------------------------------------------------- */

/* [base, base + length) in bytes, clipped to PMM_PHYS_LIMIT. False when nothing is left.
 * A wrapping length or a range above the limit is flagged as PMM_INIT_BAD_ENTRY. */
static bool pmm_clip(uint64_t base, uint64_t length, uint64_t *b, uint64_t *e, uint32_t *flags)
{
    uint64_t end = base + length;
    if (length == 0)
        return false;
    if (end < base || end > PMM_PHYS_LIMIT) {
        *flags |= PMM_INIT_BAD_ENTRY;
        end = PMM_PHYS_LIMIT;
    }
    if (base >= end)
        return false;
    *b = base;
    *e = end;
    return true;
}

static void pmm_exclude(struct pmm *p, uint64_t base, uint64_t length, uint32_t *flags,
                        bool is_map_entry)
{
    uint64_t b, e;
    if (!pmm_clip(base, length, &b, &e, flags))
        return;
    /* Outwards: any page holding a byte of the region is excluded. */
    b >>= PMM_PAGE_SHIFT;
    e = (e + PMM_PAGE_MASK) >> PMM_PAGE_SHIFT;
    /* A hit means a usable entry and another map entry share a page: with inward/outward
     * rounding that only happens when their byte ranges overlap. */
    if (rt_subtract(p->managed, &p->nmanaged, b, e, flags) && is_map_entry)
        *flags |= PMM_INIT_OVERLAP;
}

static uint32_t pmm_check_order(const struct boot_mem_range *map, uint32_t count)
{
    uint32_t flags = 0;
    for (uint32_t i = 1; i < count; i++) {
        const struct boot_mem_range *a = &map[i - 1], *c = &map[i];
        uint64_t a_end = a->base + a->length;
        if (c->base < a->base)
            flags |= PMM_INIT_UNSORTED;
        else if (a->length && c->length && (a_end < a->base || a_end > c->base))
            flags |= PMM_INIT_OVERLAP;
    }
    return flags;
}

int pmm_init(struct pmm *p, const struct boot_mem_range *map, uint32_t count,
             const struct pmm_region *reserved, uint32_t nreserved)
{
    uint32_t flags;

    if (!p)
        return PMM_E_INVAL;
    memset(p, 0, sizeof(*p));
    if ((count && !map) || (nreserved && !reserved))
        return PMM_E_INVAL;

    flags = pmm_check_order(map, count);

    /* Union of the usable entries in bytes first, so that two adjacent entries meeting
     * mid-page still yield that page; then round each merged range inwards. */
    for (uint32_t i = 0; i < count; i++) {
        uint64_t b, e;
        if (map[i].type != BOOT_MEM_USABLE)
            continue;
        if (pmm_clip(map[i].base, map[i].length, &b, &e, &flags))
            rt_union(p->managed, &p->nmanaged, b, e, &flags);
    }
    {
        uint32_t out = 0;
        for (uint32_t i = 0; i < p->nmanaged; i++) {
            uint64_t b = (p->managed[i].base + PMM_PAGE_MASK) >> PMM_PAGE_SHIFT;
            uint64_t e = p->managed[i].end >> PMM_PAGE_SHIFT;
            /* Disjoint non-touching byte ranges stay disjoint and non-touching. */
            if (b < e) {
                p->managed[out].base = b;
                p->managed[out].end = e;
                out++;
            }
        }
        memset(&p->managed[out], 0, (size_t)(p->nmanaged - out) * sizeof(p->managed[0]));
        p->nmanaged = out;
    }

    /* Every other type wins over usable: firmware runtime, ACPI, reserved, bad, persistent,
     * loaded images, and types this kernel does not know. */
    for (uint32_t i = 0; i < count; i++)
        if (map[i].type != BOOT_MEM_USABLE)
            pmm_exclude(p, map[i].base, map[i].length, &flags, true);
    for (uint32_t i = 0; i < nreserved; i++)
        pmm_exclude(p, reserved[i].base, reserved[i].size, &flags, false);
    /* Page 0: a NULL physical address must never be a valid allocation; it also holds the
     * real-mode IVT and BIOS data area on legacy-booted machines. */
    pmm_exclude(p, 0, PMM_PAGE_SIZE, &flags, false);

    p->managed_pages = rt_pages(p->managed, p->nmanaged);
    memcpy(p->free, p->managed, (size_t)p->nmanaged * sizeof(p->managed[0]));
    p->nfree = p->nmanaged;
    p->free_pages = p->managed_pages;
    p->init_flags = flags;
    if (p->managed_pages == 0)
        return PMM_E_NOMEM;
    return (int)flags;
}

/* ---- allocation --------------------------------------------------------------------- */

/* Validate a caller's run and convert it to pages. */
static int pmm_run(uint64_t base, uint64_t pages, uint64_t *b, uint64_t *e)
{
    if (base & PMM_PAGE_MASK)
        return PMM_E_ALIGN;
    if (pages == 0 || pages > PMM_PFN_LIMIT || (base >> PMM_PAGE_SHIFT) > PMM_PFN_LIMIT - pages)
        return PMM_E_INVAL;
    *b = base >> PMM_PAGE_SHIFT;
    *e = *b + pages;
    return PMM_OK;
}

uint64_t pmm_alloc(struct pmm *p, uint64_t pages, uint64_t align_bytes, uint64_t max_end)
{
    uint64_t ap, limit;

    if (!p || pages == 0 || pages > PMM_PFN_LIMIT)
        return PMM_NONE;
    if (align_bytes == 0)
        align_bytes = PMM_PAGE_SIZE;
    if (align_bytes < PMM_PAGE_SIZE || (align_bytes & (align_bytes - 1)))
        return PMM_NONE;
    ap = align_bytes >> PMM_PAGE_SHIFT;
    limit = (max_end == 0 || max_end == UINT64_MAX) ? PMM_PFN_LIMIT
                                                    : max_end >> PMM_PAGE_SHIFT;

    /* Highest fit first: walk the ranges from the top down. */
    for (uint32_t i = p->nfree; i-- > 0;) {
        struct pmm_range *r = &p->free[i];
        uint64_t top = r->end < limit ? r->end : limit;
        uint64_t b;

        if (top <= r->base || top - r->base < pages)
            continue;
        b = (top - pages) & ~(ap - 1);
        if (b < r->base)
            continue;
        if (rt_carve_needs_slot(r, b, b + pages) && p->nfree == PMM_MAX_RANGES) {
            /* No slot for a split: only the range's low edge can be taken whole. */
            b = r->base;
            if ((b & (ap - 1)) || b + pages > top)
                continue;
        }
        rt_carve(p->free, &p->nfree, i, b, b + pages);
        p->free_pages -= pages;
        return b << PMM_PAGE_SHIFT;
    }
    return PMM_NONE;
}

int pmm_free(struct pmm *p, uint64_t base, uint64_t pages)
{
    uint64_t b, e;
    uint32_t i;
    bool left, right;
    int rc;

    if (!p)
        return PMM_E_INVAL;
    rc = pmm_run(base, pages, &b, &e);
    if (rc)
        return rc;
    if (rt_containing(p->managed, p->nmanaged, b, e) < 0)
        return PMM_E_FOREIGN;
    if (rt_intersects(p->free, p->nfree, b, e))
        return PMM_E_DOUBLE;

    /* No free range intersects [b, e): free[i] (if any) starts at or after e. */
    i = rt_first_end_above(p->free, p->nfree, b);
    left = i > 0 && p->free[i - 1].end == b;
    right = i < p->nfree && p->free[i].base == e;
    if (left && right) {
        p->free[i - 1].end = p->free[i].end;
        rt_remove(p->free, &p->nfree, i, 1);
    } else if (left) {
        p->free[i - 1].end = e;
    } else if (right) {
        p->free[i].base = b;
    } else {
        if (p->nfree == PMM_MAX_RANGES)
            return PMM_E_FULL;
        rt_insert(p->free, &p->nfree, i, b, e);
    }
    p->free_pages += pages;
    return PMM_OK;
}

int pmm_reserve(struct pmm *p, uint64_t base, uint64_t pages)
{
    uint64_t b, e;
    int64_t i;
    int rc;

    if (!p)
        return PMM_E_INVAL;
    rc = pmm_run(base, pages, &b, &e);
    if (rc)
        return rc;
    if (rt_containing(p->managed, p->nmanaged, b, e) < 0)
        return PMM_E_FOREIGN;
    i = rt_containing(p->free, p->nfree, b, e);
    if (i < 0)
        return PMM_E_BUSY;
    if (rt_carve_needs_slot(&p->free[i], b, e) && p->nfree == PMM_MAX_RANGES)
        return PMM_E_FULL;
    rt_carve(p->free, &p->nfree, (uint32_t)i, b, e);
    p->free_pages -= pages;
    return PMM_OK;
}

/* ---- queries ------------------------------------------------------------------------ */

bool pmm_is_free(const struct pmm *p, uint64_t base, uint64_t pages)
{
    uint64_t b, e;
    return p && pmm_run(base, pages, &b, &e) == PMM_OK &&
           rt_containing(p->free, p->nfree, b, e) >= 0;
}

bool pmm_is_managed(const struct pmm *p, uint64_t base, uint64_t pages)
{
    uint64_t b, e;
    return p && pmm_run(base, pages, &b, &e) == PMM_OK &&
           rt_containing(p->managed, p->nmanaged, b, e) >= 0;
}

uint64_t pmm_free_bytes(const struct pmm *p)
{
    return p->free_pages << PMM_PAGE_SHIFT;
}

uint64_t pmm_total_bytes(const struct pmm *p)
{
    return p->managed_pages << PMM_PAGE_SHIFT;
}

uint64_t pmm_largest_free(const struct pmm *p)
{
    uint64_t best = 0;
    for (uint32_t i = 0; i < p->nfree; i++)
        if (p->free[i].end - p->free[i].base > best)
            best = p->free[i].end - p->free[i].base;
    return best << PMM_PAGE_SHIFT;
}

uint32_t pmm_free_range_count(const struct pmm *p)
{
    return p->nfree;
}

bool pmm_free_range(const struct pmm *p, uint32_t i, uint64_t *base, uint64_t *end)
{
    if (i >= p->nfree)
        return false;
    *base = p->free[i].base << PMM_PAGE_SHIFT;
    *end = p->free[i].end << PMM_PAGE_SHIFT;
    return true;
}

const char *pmm_strerror(int code)
{
    switch (code) {
    case PMM_OK:             return "success";
    case PMM_E_INVAL:        return "invalid argument";
    case PMM_E_ALIGN:        return "address not page-aligned";
    case PMM_E_FULL:         return "range table full";
    case PMM_E_DOUBLE:       return "page already free (double free)";
    case PMM_E_FOREIGN:      return "page not managed by the allocator";
    case PMM_E_BUSY:         return "page not free";
    case PMM_E_NOMEM:        return "no usable memory";
    case PMM_INIT_UNSORTED:  return "memory map repaired: entries not sorted";
    case PMM_INIT_OVERLAP:   return "memory map repaired: overlapping entries";
    case PMM_INIT_BAD_ENTRY: return "memory map repaired: entry wraps or exceeds 52 bits";
    case PMM_INIT_TRUNCATED: return "memory map repaired: too many ranges, smallest dropped";
    default:
        if (code > 0 && !((uint32_t)code & ~PMM_INIT_ALL_WARNINGS))
            return "memory map repaired: several problems";
        return "unknown error";
    }
}

void pmm_map_summary(const struct boot_mem_range *map, uint32_t count,
                     uint64_t *usable_bytes, uint32_t *usable_ranges)
{
    uint64_t bytes = 0;
    uint32_t ranges = 0;
    for (uint32_t i = 0; map && i < count; i++) {
        if (map[i].type != BOOT_MEM_USABLE || map[i].length == 0)
            continue;
        bytes = bytes + map[i].length < bytes ? UINT64_MAX : bytes + map[i].length;
        ranges++;
    }
    if (usable_bytes)
        *usable_bytes = bytes;
    if (usable_ranges)
        *usable_ranges = ranges;
}

uint32_t pmm_regions_from_boot_info(const struct boot_info *bi, uint64_t bi_phys,
                                    struct pmm_region *out, uint32_t max)
{
    uint32_t n = 0;
    uint32_t mods;

    if (!bi || !out)
        return 0;
    if (n < max && bi->kernel_size)
        out[n++] = (struct pmm_region){ bi->kernel_base, bi->kernel_size };
    mods = bi->module_count < BOOT_MODULES_MAX ? bi->module_count : BOOT_MODULES_MAX;
    for (uint32_t i = 0; i < mods && n < max; i++)
        if (bi->modules[i].size)
            out[n++] = (struct pmm_region){ bi->modules[i].base, bi->modules[i].size };
    if (n < max)
        out[n++] = (struct pmm_region){ bi_phys, sizeof(*bi) };
    return n;
}
