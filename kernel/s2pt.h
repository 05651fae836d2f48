// SPDX-License-Identifier: Apache-2.0
// Second-level page tables (Intel EPT, AMD NPT) built from the generic guest-physical map by one
// builder and read back by one walker. The geometry and the entry bits are data: a backend hands
// in a struct s2pt_format (vmx/ept.c, svm/npt.c); nothing here depends on the vendor. Pure: pages
// come from caller callbacks; no lock is taken (the caller serialises changes to one tree).
#ifndef KERNEL_S2PT_H
#define KERNEL_S2PT_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/gpa_map.h"

/* Tables are 4 KiB pages of 512 8-byte entries, so each level translates 9 bits of the
 * guest-physical address above the 12-bit page offset (SDM vol. 3C 29.3.2 "EPT Translation
 * Mechanism"; APM vol. 2 5.3 "Long-Mode Page Translation"). */
#define S2PT_PAGE_SHIFT     12
#define S2PT_PAGE_SIZE      (UINT64_C(1) << S2PT_PAGE_SHIFT)
#define S2PT_BITS_PER_LEVEL 9
#define S2PT_ENTRIES        (1u << S2PT_BITS_PER_LEVEL)
#define S2PT_MAX_LEVELS     5 /* 5-level walks exist; both formats here use 4 */
#define S2PT_MAX_PHYS_BITS  52 /* widest MAXPHYADDR the entry formats can hold */
#define S2PT_MIN_PHYS_BITS  32

/* Levels are numbered from the leaf: 0 holds 4 KiB entries (PT), 1 holds 2 MiB entries (PD),
 * 2 holds 1 GiB entries (PDPT), 3 is the PML4. S2PT_LEAF(level) is the bit of
 * s2pt_format.leaf_levels saying the hardware accepts a leaf (a page) at that level. */
#define S2PT_LEAF(level) (1u << (level))
#define S2PT_LEAF_4K     S2PT_LEAF(0)
#define S2PT_LEAF_2M     S2PT_LEAF(1)
#define S2PT_LEAF_1G     S2PT_LEAF(2)

/* Bytes mapped by one entry at `level`. */
static inline uint64_t s2pt_level_size(unsigned level)
{
    return UINT64_C(1) << (S2PT_PAGE_SHIFT + S2PT_BITS_PER_LEVEL * level);
}

/* Error codes (negative). 0 is success. */
enum s2pt_error {
    S2PT_OK = 0,
    S2PT_E_INVAL = -1,     /* NULL argument, bad format descriptor, tree of another format */
    S2PT_E_SIZE = -2,      /* range of size 0 */
    S2PT_E_ALIGN = -3,     /* gpa, hpa or size not a multiple of 4 KiB */
    S2PT_E_GPA_RANGE = -4, /* gpa + size wraps or lies above the format's guest-physical width */
    S2PT_E_HPA_RANGE = -5, /* hpa + size wraps or lies above MAXPHYADDR */
    S2PT_E_PERM = -6,      /* the format cannot express these permissions */
    S2PT_E_MTYPE = -7,     /* the format cannot express this memory type */
    S2PT_E_OVERLAP = -8,   /* some page of the range is already mapped */
    S2PT_E_NOMEM = -9,     /* the page allocator ran out */
    S2PT_E_NOTMAPPED = -10, /* walk: nothing is mapped at that gpa */
    S2PT_E_CORRUPT = -11,  /* walk: an entry the format rejects (reserved bits, misconfiguration) */
};

/* What a format's decoder reads out of one entry. */
struct s2pt_entry_info {
    bool present;   /* false: the other fields are 0 */
    bool leaf;      /* maps a page of s2pt_level_size(level) bytes; else points to a table */
    uint64_t addr;  /* host-physical address of the page or of the next table */
    uint32_t perms; /* GPA_R/W/X this entry allows (tables limit the leaves below them) */
    uint32_t mtype; /* leaves only: enum gpa_mtype */
};

/* One hardware format of second-level tables. The backend fills it from the CPU's capabilities
 * (ept_format_init, npt_format_init) and passes it to every s2pt call on trees of that format. */
struct s2pt_format {
    const char *name;        /* "EPT", "NPT": for diagnostics */
    uint8_t levels;          /* table levels walked: 4 */
    uint8_t bits_per_level;  /* S2PT_BITS_PER_LEVEL */
    uint8_t gpa_bits;        /* guest-physical width: 12 + levels * bits_per_level */
    uint8_t hpa_bits;        /* host MAXPHYADDR: no table or page lies at or above 2^hpa_bits */
    uint32_t leaf_levels;    /* S2PT_LEAF_*: 4K always, 2M and 1G as the CPU allows */
    uint64_t addr_mask;      /* entry bits holding an address: (hpa_bits - 1):12 */
    uint32_t caps;           /* backend-private capability bits (EPT_CAPS_*, NPT_CAPS_*) */
    uint64_t mt_cfg;         /* backend-private memory-type setup (NPT: the host's IA32_PAT) */
    /* Entry pointing to the table at table_hpa (4 KiB aligned, below 2^hpa_bits) from `level`:
     * it allows every access so that the leaf alone decides. */
    uint64_t (*encode_table)(const struct s2pt_format *f, unsigned level, uint64_t table_hpa);
    /* Leaf at `level` mapping hpa (aligned to the level's size) with perms and mtype.
     * Returns 0, or S2PT_E_PERM / S2PT_E_MTYPE / S2PT_E_INVAL without writing *entry. */
    int (*encode_leaf)(const struct s2pt_format *f, unsigned level, uint64_t hpa, uint32_t perms,
                       uint32_t mtype, uint64_t *entry);
    /* Reads an entry found at `level`. Returns 0, or S2PT_E_CORRUPT for an entry the hardware
     * would reject (EPT misconfiguration, reserved bit set). */
    int (*decode)(const struct s2pt_format *f, unsigned level, uint64_t entry,
                  struct s2pt_entry_info *out);
};

/* Returned by alloc_page when it has nothing left. Not page-aligned, so never a page. */
#define S2PT_NO_PAGE UINT64_MAX

/* Where table pages come from. alloc_page returns the host-physical address of a 4 KiB-aligned
 * page (the builder zeroes it anyway) or S2PT_NO_PAGE; free_page takes back one it handed out;
 * phys_to_virt gives a pointer through which the builder reads and writes that page. */
struct s2pt_alloc {
    uint64_t (*alloc_page)(void *ctx);
    void (*free_page)(void *ctx, uint64_t hpa);
    void *(*phys_to_virt)(void *ctx, uint64_t hpa);
    void *ctx;
};

/* One tree. Opaque to callers: use the functions below. */
struct s2pt {
    const struct s2pt_format *fmt;
    struct s2pt_alloc alloc;
    uint64_t root;     /* hpa of the top-level table; 0 before init and after destroy */
    uint64_t pages;    /* table pages held, root included */
    gpa_t error_gpa;   /* the gpa the last failed map call stopped at */
};

/* What s2pt_walk found at one gpa. */
struct s2pt_leaf {
    uint64_t hpa;       /* the host-physical address of gpa itself (page base + offset) */
    uint64_t page_size; /* 4 KiB, 2 MiB or 1 GiB */
    uint32_t perms;     /* GPA_R/W/X, as every level of the walk allows */
    uint32_t mtype;     /* enum gpa_mtype */
};

/* Checks that fmt is a geometry the builder handles (levels, widths, leaf levels, callbacks).
 * Returns 0 or S2PT_E_INVAL. s2pt_init calls it; backends may call it on their own result. */
int s2pt_format_check(const struct s2pt_format *fmt);

/* Makes an empty tree of format fmt: allocates and zeroes the root table. fmt must stay valid
 * and unchanged for the tree's life. Returns 0, S2PT_E_INVAL, or S2PT_E_NOMEM. */
int s2pt_init(struct s2pt *pt, const struct s2pt_format *fmt, const struct s2pt_alloc *alloc);

/* Maps one range with the largest pages the format has where gpa, hpa and the remaining size
 * allow (1 GiB, then 2 MiB, else 4 KiB). All or nothing: on error the tree and its page count
 * are as before the call and s2pt_error_gpa() names the first gpa that could not be mapped.
 * Checks, in order: S2PT_E_INVAL, _SIZE, _ALIGN, _GPA_RANGE, _HPA_RANGE, _PERM, _MTYPE,
 * _OVERLAP (or _CORRUPT: a malformed entry in the way), then _NOMEM while building. */
int s2pt_map(struct s2pt *pt, const struct s2pt_format *fmt, const struct gpa_range *r);

/* Maps every range of a partition's map, all or nothing: on error the ranges this call already
 * mapped are removed again. *failed (may be NULL) gets the index of the offending range. */
int s2pt_map_all(struct s2pt *pt, const struct s2pt_format *fmt, const struct gpa_map *map,
                 uint32_t *failed);

/* Translates gpa (any byte address). Returns 0 and fills *out, or S2PT_E_NOTMAPPED,
 * S2PT_E_CORRUPT (an entry on the way is malformed), S2PT_E_INVAL. Never changes the tree. */
int s2pt_walk(const struct s2pt *pt, const struct s2pt_format *fmt, gpa_t gpa,
              struct s2pt_leaf *out);

/* The host-physical address of the top-level table: what goes in the EPTP or nCR3. */
uint64_t s2pt_root(const struct s2pt *pt);

/* Table pages the tree holds, root included: the memory overhead is this times 4 KiB. */
uint64_t s2pt_table_pages(const struct s2pt *pt);

/* The gpa at which the last failed s2pt_map stopped (overlap: the first mapped page found;
 * alignment, width, permission, type errors: the range's start, or its first page past the
 * width; allocator failure: the start of the chunk that needed the page). */
gpa_t s2pt_error_gpa(const struct s2pt *pt);

/* Frees every table page through alloc.free_page (leaves first, the root last) and leaves the
 * tree empty with root 0. Safe to call twice. The hardware must no longer use the tree. */
void s2pt_destroy(struct s2pt *pt);

/* A fixed English phrase for an error code ("overlaps an existing mapping", ...). */
const char *s2pt_strerror(int err);

#endif
