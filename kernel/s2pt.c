// SPDX-License-Identifier: Apache-2.0
// The one builder and the one walker of second-level page tables. Every entry bit comes from the
// format descriptor the backend passes in; this file knows only the radix-tree geometry. Changes
// follow validate-then-commit: a map call checks everything it can first, and undoes its own
// writes if the page allocator runs dry part way.
#include <stddef.h>
#include <string.h>
#include "kernel/s2pt.h"

#define PAGE_MASK (S2PT_PAGE_SIZE - 1)

_Static_assert(S2PT_ENTRIES * sizeof(uint64_t) == S2PT_PAGE_SIZE, "a table is one 4 KiB page");
_Static_assert(S2PT_PAGE_SHIFT + S2PT_BITS_PER_LEVEL * S2PT_MAX_LEVELS < 64,
               "level sizes fit in 64 bits");

/* Bits hi..lo set. */
static inline uint64_t bits_between(unsigned hi, unsigned lo)
{
    return (~UINT64_C(0) >> (63 - hi)) & ~((UINT64_C(1) << lo) - 1);
}

static inline unsigned level_index(gpa_t gpa, unsigned level)
{
    return (unsigned)(gpa >> (S2PT_PAGE_SHIFT + S2PT_BITS_PER_LEVEL * level)) & (S2PT_ENTRIES - 1);
}

static inline uint64_t *table_ptr(const struct s2pt *pt, uint64_t hpa)
{
    return pt->alloc.phys_to_virt(pt->alloc.ctx, hpa);
}

/* End of the slot of `level` containing gpa, clipped to end. */
static inline gpa_t slot_end(gpa_t gpa, unsigned level, gpa_t end)
{
    uint64_t size = s2pt_level_size(level);
    gpa_t next = (gpa & ~(size - 1)) + size;
    return next < end ? next : end;
}

int s2pt_format_check(const struct s2pt_format *f)
{
    if (!f || !f->encode_table || !f->encode_leaf || !f->decode)
        return S2PT_E_INVAL;
    if (f->levels < 2 || f->levels > S2PT_MAX_LEVELS || f->bits_per_level != S2PT_BITS_PER_LEVEL)
        return S2PT_E_INVAL;
    if (f->gpa_bits != S2PT_PAGE_SHIFT + f->levels * S2PT_BITS_PER_LEVEL)
        return S2PT_E_INVAL;
    if (f->hpa_bits < S2PT_MIN_PHYS_BITS || f->hpa_bits > S2PT_MAX_PHYS_BITS)
        return S2PT_E_INVAL;
    /* 4 KiB leaves always exist; the top level never holds a leaf. */
    if (!(f->leaf_levels & S2PT_LEAF_4K) || (f->leaf_levels >> (f->levels - 1)) != 0)
        return S2PT_E_INVAL;
    if (f->addr_mask != bits_between(f->hpa_bits - 1, S2PT_PAGE_SHIFT))
        return S2PT_E_INVAL;
    return S2PT_OK;
}

/* A fresh zeroed table page, counted; S2PT_NO_PAGE when none can be had. A page the allocator
 * hands out that the format cannot point to (unaligned, above MAXPHYADDR) goes straight back. */
static uint64_t table_alloc(struct s2pt *pt)
{
    uint64_t hpa = pt->alloc.alloc_page(pt->alloc.ctx);
    if (hpa == S2PT_NO_PAGE)
        return S2PT_NO_PAGE;
    void *va = NULL;
    if ((hpa & PAGE_MASK) == 0 && (hpa >> pt->fmt->hpa_bits) == 0)
        va = table_ptr(pt, hpa);
    if (!va) {
        pt->alloc.free_page(pt->alloc.ctx, hpa);
        return S2PT_NO_PAGE;
    }
    memset(va, 0, S2PT_PAGE_SIZE);
    pt->pages++;
    return hpa;
}

static void table_free(struct s2pt *pt, uint64_t hpa)
{
    pt->alloc.free_page(pt->alloc.ctx, hpa);
    pt->pages--;
}

int s2pt_init(struct s2pt *pt, const struct s2pt_format *fmt, const struct s2pt_alloc *alloc)
{
    if (!pt || !alloc || !alloc->alloc_page || !alloc->free_page || !alloc->phys_to_virt)
        return S2PT_E_INVAL;
    if (s2pt_format_check(fmt) != S2PT_OK)
        return S2PT_E_INVAL;
    *pt = (struct s2pt){ .fmt = fmt, .alloc = *alloc };
    uint64_t root = table_alloc(pt);
    if (root == S2PT_NO_PAGE) {
        pt->fmt = NULL;
        return S2PT_E_NOMEM;
    }
    pt->root = root;
    return S2PT_OK;
}

/* Looks for a mapped page in [gpa, end) below `table` (at `level`). Returns 0 when there is
 * none, else S2PT_E_OVERLAP (or S2PT_E_CORRUPT for an entry that cannot be read) with the first
 * such gpa in *found. */
static int find_mapped(const struct s2pt *pt, uint64_t table, unsigned level, gpa_t gpa, gpa_t end,
                       gpa_t *found)
{
    const struct s2pt_format *f = pt->fmt;
    const uint64_t *t = table_ptr(pt, table);
    if (!t) {
        *found = gpa;
        return S2PT_E_CORRUPT;
    }
    for (gpa_t g = gpa, next; g < end; g = next) {
        next = slot_end(g, level, end);
        struct s2pt_entry_info e;
        if (f->decode(f, level, t[level_index(g, level)], &e) != S2PT_OK) {
            *found = g;
            return S2PT_E_CORRUPT;
        }
        if (!e.present)
            continue;
        if (e.leaf || level == 0) {
            *found = g;
            return S2PT_E_OVERLAP;
        }
        int rc = find_mapped(pt, e.addr, level - 1, g, next, found);
        if (rc != S2PT_OK)
            return rc;
    }
    return S2PT_OK;
}

static bool table_empty(const uint64_t *t)
{
    for (unsigned i = 0; i < S2PT_ENTRIES; i++)
        if (t[i])
            return false;
    return true;
}

/* Removes every leaf lying wholly inside [gpa, end) below `table` and frees each table that is
 * left empty (never the one passed in at the top). Returns whether `table` itself is now empty.
 * Used to undo a map: tables the tree had before still hold their other mappings, so only
 * tables created for the undone range become empty. */
static bool clear_range(struct s2pt *pt, uint64_t table, unsigned level, gpa_t gpa, gpa_t end)
{
    const struct s2pt_format *f = pt->fmt;
    uint64_t *t = table_ptr(pt, table);
    if (!t)
        return false;
    uint64_t size = s2pt_level_size(level);
    for (gpa_t g = gpa, next; g < end; g = next) {
        next = slot_end(g, level, end);
        unsigned idx = level_index(g, level);
        struct s2pt_entry_info e;
        if (f->decode(f, level, t[idx], &e) != S2PT_OK || !e.present)
            continue;
        if (e.leaf || level == 0) {
            if (next - g == size)
                t[idx] = 0;
        } else if (clear_range(pt, e.addr, level - 1, g, next)) {
            t[idx] = 0;
            table_free(pt, e.addr);
        }
    }
    return table_empty(t);
}

/* One map call's fixed inputs, and where it stopped. */
struct map_job {
    struct s2pt *pt;
    const struct gpa_range *r;
    gpa_t stop;
};

/* Fills [gpa, end) below `table` (at `level`), which holds no mapping there (checked before).
 * A slot becomes a leaf when the format has leaves at this level and the slot is wholly covered
 * with an hpa aligned to its size; otherwise it gets a table (new or existing) and the job goes
 * one level down. */
static int build(struct map_job *j, uint64_t table, unsigned level, gpa_t gpa, gpa_t end)
{
    struct s2pt *pt = j->pt;
    const struct s2pt_format *f = pt->fmt;
    uint64_t *t = table_ptr(pt, table);
    uint64_t size = s2pt_level_size(level);
    for (gpa_t g = gpa, next; g < end; g = next) {
        next = slot_end(g, level, end);
        unsigned idx = level_index(g, level);
        uint64_t hpa = j->r->hpa + (g - j->r->gpa);
        if ((f->leaf_levels & S2PT_LEAF(level)) && next - g == size && (hpa & (size - 1)) == 0) {
            int rc = f->encode_leaf(f, level, hpa, j->r->perms, j->r->mtype, &t[idx]);
            if (rc != S2PT_OK) {
                j->stop = g;
                return rc;
            }
            continue;
        }
        struct s2pt_entry_info e;
        if (level == 0 || f->decode(f, level, t[idx], &e) != S2PT_OK || (e.present && e.leaf)) {
            j->stop = g; /* cannot happen after find_mapped and the level-0 leaf rule */
            return S2PT_E_CORRUPT;
        }
        uint64_t child = e.addr;
        if (!e.present) {
            child = table_alloc(pt);
            if (child == S2PT_NO_PAGE) {
                j->stop = g;
                return S2PT_E_NOMEM;
            }
            t[idx] = f->encode_table(f, level, child);
        }
        int rc = build(j, child, level - 1, g, next);
        if (rc != S2PT_OK)
            return rc;
    }
    return S2PT_OK;
}

static bool tree_usable(const struct s2pt *pt, const struct s2pt_format *fmt)
{
    return pt && pt->fmt && fmt == pt->fmt;
}

int s2pt_map(struct s2pt *pt, const struct s2pt_format *fmt, const struct gpa_range *r)
{
    if (!tree_usable(pt, fmt) || !r)
        return S2PT_E_INVAL;
    pt->error_gpa = r->gpa;
    if (r->size == 0)
        return S2PT_E_SIZE;
    if ((r->gpa | r->hpa | r->size) & PAGE_MASK)
        return S2PT_E_ALIGN;

    uint64_t gpa_limit = UINT64_C(1) << fmt->gpa_bits;
    if (r->gpa >= gpa_limit)
        return S2PT_E_GPA_RANGE;
    if (r->size > gpa_limit - r->gpa) {
        pt->error_gpa = gpa_limit;
        return S2PT_E_GPA_RANGE;
    }
    uint64_t hpa_limit = UINT64_C(1) << fmt->hpa_bits;
    if (r->hpa >= hpa_limit)
        return S2PT_E_HPA_RANGE;
    if (r->size > hpa_limit - r->hpa) {
        pt->error_gpa = r->gpa + (hpa_limit - r->hpa);
        return S2PT_E_HPA_RANGE;
    }
    /* Whether the format can express perms and mtype does not depend on the level. */
    uint64_t probe;
    int rc = fmt->encode_leaf(fmt, 0, r->hpa, r->perms, r->mtype, &probe);
    if (rc != S2PT_OK)
        return rc;

    gpa_t end = r->gpa + r->size;
    gpa_t found = r->gpa;
    rc = find_mapped(pt, pt->root, fmt->levels - 1, r->gpa, end, &found);
    if (rc != S2PT_OK) {
        pt->error_gpa = found;
        return rc;
    }

    struct map_job j = { .pt = pt, .r = r, .stop = r->gpa };
    rc = build(&j, pt->root, fmt->levels - 1, r->gpa, end);
    if (rc != S2PT_OK) {
        clear_range(pt, pt->root, fmt->levels - 1, r->gpa, end);
        pt->error_gpa = j.stop;
    }
    return rc;
}

int s2pt_map_all(struct s2pt *pt, const struct s2pt_format *fmt, const struct gpa_map *map,
                 uint32_t *failed)
{
    if (!tree_usable(pt, fmt) || !map || (map->count && !map->ranges))
        return S2PT_E_INVAL;
    for (uint32_t i = 0; i < map->count; i++) {
        int rc = s2pt_map(pt, fmt, &map->ranges[i]);
        if (rc == S2PT_OK)
            continue;
        for (uint32_t k = 0; k < i; k++) {
            const struct gpa_range *r = &map->ranges[k];
            clear_range(pt, pt->root, fmt->levels - 1, r->gpa, r->gpa + r->size);
        }
        if (failed)
            *failed = i;
        return rc;
    }
    return S2PT_OK;
}

int s2pt_walk(const struct s2pt *pt, const struct s2pt_format *fmt, gpa_t gpa,
              struct s2pt_leaf *out)
{
    if (!tree_usable(pt, fmt) || !out)
        return S2PT_E_INVAL;
    if (gpa >> fmt->gpa_bits)
        return S2PT_E_NOTMAPPED;
    uint64_t table = pt->root;
    uint32_t perms = GPA_RWX;
    for (unsigned level = fmt->levels - 1;; level--) {
        const uint64_t *t = table_ptr(pt, table);
        if (!t)
            return S2PT_E_CORRUPT;
        struct s2pt_entry_info e;
        if (fmt->decode(fmt, level, t[level_index(gpa, level)], &e) != S2PT_OK)
            return S2PT_E_CORRUPT;
        if (!e.present)
            return S2PT_E_NOTMAPPED;
        perms &= e.perms;
        if (e.leaf) {
            uint64_t size = s2pt_level_size(level);
            *out = (struct s2pt_leaf){
                .hpa = e.addr + (gpa & (size - 1)),
                .page_size = size,
                .perms = perms,
                .mtype = e.mtype,
            };
            return S2PT_OK;
        }
        if (level == 0)
            return S2PT_E_CORRUPT; /* a decoder that calls a 4 KiB entry a table */
        table = e.addr;
    }
}

uint64_t s2pt_root(const struct s2pt *pt)
{
    return pt->root;
}

uint64_t s2pt_table_pages(const struct s2pt *pt)
{
    return pt->pages;
}

gpa_t s2pt_error_gpa(const struct s2pt *pt)
{
    return pt->error_gpa;
}

static void free_tree(struct s2pt *pt, uint64_t table, unsigned level)
{
    const struct s2pt_format *f = pt->fmt;
    const uint64_t *t = table_ptr(pt, table);
    for (unsigned i = 0; t && level > 0 && i < S2PT_ENTRIES; i++) {
        struct s2pt_entry_info e;
        if (f->decode(f, level, t[i], &e) == S2PT_OK && e.present && !e.leaf)
            free_tree(pt, e.addr, level - 1);
    }
    table_free(pt, table);
}

void s2pt_destroy(struct s2pt *pt)
{
    if (!pt || !pt->fmt)
        return;
    free_tree(pt, pt->root, pt->fmt->levels - 1);
    pt->fmt = NULL;
    pt->root = 0;
}

const char *s2pt_strerror(int err)
{
    switch (err) {
    case S2PT_OK: return "ok";
    case S2PT_E_INVAL: return "invalid argument";
    case S2PT_E_SIZE: return "range has size 0";
    case S2PT_E_ALIGN: return "gpa, hpa or size not 4 KiB aligned";
    case S2PT_E_GPA_RANGE: return "guest-physical address beyond the format's width";
    case S2PT_E_HPA_RANGE: return "host-physical address beyond MAXPHYADDR";
    case S2PT_E_PERM: return "permissions not expressible in this format";
    case S2PT_E_MTYPE: return "memory type not expressible in this format";
    case S2PT_E_OVERLAP: return "overlaps an existing mapping";
    case S2PT_E_NOMEM: return "out of table pages";
    case S2PT_E_NOTMAPPED: return "not mapped";
    case S2PT_E_CORRUPT: return "malformed table entry";
    default: return "unknown error";
    }
}
