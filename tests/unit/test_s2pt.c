// SPDX-License-Identifier: Apache-2.0
// Host unit tests for kernel/s2pt.c driven by the EPT (vmx/ept.c) and NPT (svm/npt.c) formats:
// entries checked bit for bit against values worked out from the manuals, random range sets
// checked page by page with an independent reference walker, every error path, allocator
// exhaustion at every point, malformed entries, page accounting and teardown.
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/s2pt.h"
#include "vmx/ept.h"
#include "svm/npt.h"

#define KIB(x) ((uint64_t)(x) << 10)
#define MIB(x) ((uint64_t)(x) << 20)
#define GIB(x) ((uint64_t)(x) << 30)
#define PG     KIB(4)
#define RWX    (GPA_R | GPA_W | GPA_X)

/* ---- a pool of table pages with fake host-physical addresses ---------------------------- */

/* Table pages live in a static array but are known to the code under test only by made-up
 * host-physical addresses (below 2^36 so every format in these tests can point to them), so
 * any use of an hpa as a pointer without phys_to_virt would fault or be caught. */
#define POOL_PAGES 4096
#define POOL_BASE  UINT64_C(0xfe0000000)

static uint8_t pool_mem[POOL_PAGES][4096] __attribute__((aligned(4096)));

static struct pool {
    bool used[POOL_PAGES];
    uint32_t free_stack[POOL_PAGES]; /* LIFO of free indexes: freed pages get reused soon */
    uint32_t nfree;
    uint64_t allocs, frees, outstanding;
    int64_t fail_after;   /* allocations still allowed; -1: unlimited */
    uint64_t p2v_fail_after; /* phys_to_virt fails for pages allocated after this many */
    uint64_t serial[POOL_PAGES]; /* allocation number of each page */
    uint64_t bad_p2v;     /* phys_to_virt calls for an hpa not handed out */
    uint64_t bad_free;    /* free_page calls for an hpa not handed out */
} pool;

static void pool_reset(void)
{
    memset(&pool, 0, sizeof(pool));
    pool.fail_after = -1;
    pool.p2v_fail_after = UINT64_MAX;
    for (uint32_t i = 0; i < POOL_PAGES; i++)
        pool.free_stack[i] = POOL_PAGES - 1 - i;
    pool.nfree = POOL_PAGES;
}

static uint64_t pool_alloc(void *ctx)
{
    assert_ptr_equal(ctx, &pool);
    if (pool.fail_after == 0 || pool.nfree == 0)
        return S2PT_NO_PAGE;
    if (pool.fail_after > 0)
        pool.fail_after--;
    uint32_t i = pool.free_stack[--pool.nfree];
    pool.used[i] = true;
    pool.allocs++;
    pool.outstanding++;
    pool.serial[i] = pool.allocs;
    memset(pool_mem[i], 0xa5, sizeof(pool_mem[i])); /* the builder must clear what it uses */
    return POOL_BASE + (uint64_t)i * PG;
}

static bool pool_index(uint64_t hpa, uint32_t *idx)
{
    if (hpa < POOL_BASE || (hpa - POOL_BASE) / PG >= POOL_PAGES || (hpa & (PG - 1)))
        return false;
    *idx = (uint32_t)((hpa - POOL_BASE) / PG);
    return pool.used[*idx];
}

static void pool_free(void *ctx, uint64_t hpa)
{
    uint32_t i;
    assert_ptr_equal(ctx, &pool);
    if (!pool_index(hpa, &i)) {
        pool.bad_free++;
        return;
    }
    pool.used[i] = false;
    pool.free_stack[pool.nfree++] = i;
    pool.frees++;
    pool.outstanding--;
}

static void *pool_p2v(void *ctx, uint64_t hpa)
{
    uint32_t i;
    assert_ptr_equal(ctx, &pool);
    if (!pool_index(hpa, &i)) {
        pool.bad_p2v++;
        return NULL;
    }
    if (pool.serial[i] > pool.p2v_fail_after)
        return NULL;
    return pool_mem[i];
}

/* The test's own view of a table page: only pages that are handed out. */
static uint64_t *tbl(uint64_t hpa)
{
    uint32_t i;
    assert_true(pool_index(hpa, &i));
    return (uint64_t *)pool_mem[i];
}

static const struct s2pt_alloc pool_ops = {
    .alloc_page = pool_alloc, .free_page = pool_free, .phys_to_virt = pool_p2v, .ctx = &pool,
};

/* ---- formats -------------------------------------------------------------------------- */

#define CAP_ALL (EPT_VPID_CAP_EXEC_ONLY | EPT_VPID_CAP_WALK_4 | EPT_VPID_CAP_MT_UC |            \
                 EPT_VPID_CAP_MT_WB | EPT_VPID_CAP_2M | EPT_VPID_CAP_1G | EPT_VPID_CAP_AD)
#define CAP_MIN (EPT_VPID_CAP_WALK_4 | EPT_VPID_CAP_MT_WB)

enum ref_kind { REF_EPT, REF_NPT };

/* One hardware configuration: how the format is built, and what the reference walker needs to
 * know, stated independently of the format's descriptor. */
struct cfg {
    const char *name;
    enum ref_kind kind;
    unsigned maxphy;
    bool has_2m, has_1g;
    bool exec_only;   /* EPT */
    bool nxe;         /* NPT */
    uint64_t pat;     /* NPT: host IA32_PAT */
};

static void make_format(const struct cfg *c, struct s2pt_format *f)
{
    if (c->kind == REF_EPT) {
        uint64_t cap = CAP_MIN | (c->has_2m ? EPT_VPID_CAP_2M : 0) |
                       (c->has_1g ? EPT_VPID_CAP_1G : 0) |
                       (c->exec_only ? EPT_VPID_CAP_EXEC_ONLY : 0);
        assert_int_equal(ept_format_init(f, cap, c->maxphy), S2PT_OK);
    } else {
        assert_true(c->has_2m);
        assert_int_equal(npt_format_init(f, c->maxphy, c->has_1g, c->nxe, c->pat), S2PT_OK);
    }
}

static const struct cfg cfg_ept_full = {
    .name = "EPT 4K/2M/1G x-only", .kind = REF_EPT, .maxphy = 46,
    .has_2m = true, .has_1g = true, .exec_only = true,
};
static const struct cfg cfg_ept_2m = { /* Bochs sandy bridge: no 1 GiB EPT pages */
    .name = "EPT 4K/2M", .kind = REF_EPT, .maxphy = 39, .has_2m = true,
};
static const struct cfg cfg_ept_4k = {
    .name = "EPT 4K only", .kind = REF_EPT, .maxphy = 36,
};
static const struct cfg cfg_npt_full = {
    .name = "NPT 4K/2M/1G", .kind = REF_NPT, .maxphy = 48, .has_2m = true, .has_1g = true,
    .nxe = true, .pat = NPT_PAT_MOAT,
};
static const struct cfg cfg_npt_2m = {
    .name = "NPT 4K/2M", .kind = REF_NPT, .maxphy = 40, .has_2m = true,
    .nxe = true, .pat = NPT_PAT_MOAT,
};
static const struct cfg cfg_npt_nonx = {
    .name = "NPT no NXE", .kind = REF_NPT, .maxphy = 43, .has_2m = true, .has_1g = true,
    .nxe = false, .pat = NPT_PAT_MOAT,
};

/* ---- the reference walker ---------------------------------------------------------------- */

/* Written from the manuals' bit layouts alone, with its own constants, never calling a format's
 * decoder. EPT: SDM vol. 3C 29.3.2 (bits 2:0 R/W/X, 5:3 memory type, 7 page size, address
 * bits (MAXPHYADDR-1):12; the entry is present when any of bits 2:0 is set). NPT: APM vol. 2
 * 5.4.1 (bit 0 P, 1 R/W, 2 U/S, 3 PWT, 4 PCD, 7 PS or, in a PTE, PAT, 12 PAT of a large page,
 * 63 NX) with the memory type taken from the host PAT entry PAT:PCD:PWT. */
struct ref_leaf {
    uint64_t hpa, size;
    uint32_t perms, mtype;
};

enum { REF_MAPPED = 0, REF_UNMAPPED = 1, REF_BAD = 2 };

static uint64_t ref_addr(const struct cfg *c, uint64_t e)
{
    return e & ((UINT64_C(1) << c->maxphy) - 1) & ~UINT64_C(0xfff);
}

/* Walks the four levels (manual numbering: 4 = PML4 .. 1 = PT). */
static int ref_walk(const struct cfg *c, uint64_t root, uint64_t gpa, struct ref_leaf *out)
{
    uint64_t table = root;
    bool r = true, w = true, x = true;
    if (gpa >> 48)
        return REF_UNMAPPED;
    for (int lvl = 4; lvl >= 1; lvl--) {
        unsigned shift = 12 + 9 * (unsigned)(lvl - 1);
        uint64_t e = tbl(table)[(gpa >> shift) & 0x1ff];
        bool leaf = lvl == 1 || ((lvl == 2 || lvl == 3) && ((e >> 7) & 1));
        uint64_t size = UINT64_C(1) << shift;
        if (c->kind == REF_EPT) {
            if ((e & 7) == 0)
                return REF_UNMAPPED;
            if ((e & 2) && !(e & 1))
                return REF_BAD;
            r &= e & 1;
            w &= (e >> 1) & 1;
            x &= (e >> 2) & 1;
            if (leaf) {
                out->hpa = ref_addr(c, e) + (gpa & (size - 1));
                out->size = size;
                out->perms = (r ? GPA_R : 0) | (w ? GPA_W : 0) | (x ? GPA_X : 0);
                out->mtype = (uint32_t)((e >> 3) & 7);
                return (ref_addr(c, e) & (size - 1)) ? REF_BAD : REF_MAPPED;
            }
        } else {
            if (!(e & 1))
                return REF_UNMAPPED;
            if (!(e & 4))
                return REF_BAD; /* U/S = 0: every nested access is a user access */
            w &= (e >> 1) & 1;
            if (c->nxe)
                x &= !(e >> 63);
            else if (e >> 63)
                return REF_BAD;
            if (leaf) {
                unsigned pat_bit = lvl == 1 ? 7 : 12;
                unsigned idx = ((e >> 3) & 1) | (((e >> 4) & 1) << 1) | (((e >> pat_bit) & 1) << 2);
                uint64_t base = ref_addr(c, e) & ~(lvl == 1 ? 0 : UINT64_C(1) << 12);
                out->hpa = base + (gpa & (size - 1));
                out->size = size;
                out->perms = GPA_R | (w ? GPA_W : 0) | (x ? GPA_X : 0);
                out->mtype = (uint32_t)(c->pat >> (8 * idx)) & 0xff;
                return (base & (size - 1)) ? REF_BAD : REF_MAPPED;
            }
        }
        table = ref_addr(c, e);
    }
    return REF_BAD;
}

/* Every leaf of the tree, in gpa order, and the number of table pages reachable. */
struct ref_tree {
    struct ref_span {
        uint64_t gpa, size;
    } *spans;
    size_t n, cap;
    uint64_t tables;
};

static void ref_enum(const struct cfg *c, uint64_t table, int lvl, uint64_t base,
                     struct ref_tree *t)
{
    t->tables++;
    for (unsigned i = 0; i < 512; i++) {
        unsigned shift = 12 + 9 * (unsigned)(lvl - 1);
        uint64_t gpa = base + ((uint64_t)i << shift);
        uint64_t e = tbl(table)[i];
        bool present = c->kind == REF_EPT ? (e & 7) != 0 : (e & 1) != 0;
        if (!present)
            continue;
        bool leaf = lvl == 1 || ((lvl == 2 || lvl == 3) && ((e >> 7) & 1));
        if (!leaf) {
            ref_enum(c, ref_addr(c, e), lvl - 1, gpa, t);
            continue;
        }
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 1024;
            t->spans = realloc(t->spans, t->cap * sizeof(*t->spans));
            assert_non_null(t->spans);
        }
        t->spans[t->n++] = (struct ref_span){ .gpa = gpa, .size = UINT64_C(1) << shift };
    }
}

/* ---- random range sets ------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    /* splitmix64: a fixed seed gives the same sets on every run */
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}
static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static const uint32_t all_mtypes[] = { GPA_MT_UC, GPA_MT_WC, GPA_MT_WT, GPA_MT_WP, GPA_MT_WB };

/* Permission sets each configuration can express, from the manuals: EPT forbids W without R
 * and X alone unless execute-only is supported; NPT implies R and needs NXE to withhold X. */
static uint32_t random_perms(const struct cfg *c)
{
    static const uint32_t ept[] = { GPA_R, GPA_R | GPA_W, GPA_R | GPA_X, RWX, GPA_X };
    static const uint32_t npt_nx[] = { GPA_R, GPA_R | GPA_W, GPA_R | GPA_X, RWX };
    static const uint32_t npt_nonx[] = { GPA_R | GPA_X, RWX };
    if (c->kind == REF_EPT)
        return ept[rnd_below(c->exec_only ? 5 : 4)];
    return c->nxe ? npt_nx[rnd_below(4)] : npt_nonx[rnd_below(2)];
}

#define MAX_RANGES 12

/* Up to MAX_RANGES ranges in increasing gpa order, sized and aligned to exercise every page
 * size: runs of 4 KiB pages before and after 2 MiB and 1 GiB boundaries, hpa deltas aligned to
 * 1 GiB, 2 MiB or only 4 KiB (which forces small pages), ranges sharing tables, ranges at the
 * top of the 48-bit space. At most ~3 GiB in all. */
static uint32_t random_set(const struct cfg *c, struct gpa_range *rs)
{
    uint64_t top = UINT64_C(1) << 48;
    uint64_t cursor;
    switch (rnd_below(4)) {
    case 0: cursor = 0; break;
    case 1: cursor = GIB(4) - MIB(rnd_below(64)); break;
    case 2: cursor = rnd_below(top / GIB(1) - 64) * GIB(1); break;
    default: cursor = top - GIB(1 + rnd_below(8)); break;
    }
    uint32_t n = 1 + (uint32_t)rnd_below(MAX_RANGES), k = 0;
    uint64_t budget = c->has_2m ? GIB(3) : GIB(1); /* 4 KiB-only trees: 512 PTs a GiB */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t prev_end = cursor;
        switch (rnd_below(5)) {
        case 0: break;                                          /* adjacent */
        case 1: cursor += PG * (1 + rnd_below(16)); break;
        case 2: cursor += MIB(2) * rnd_below(4) + PG * rnd_below(3); break;
        case 3: cursor = (cursor + MIB(2) - 1) & ~(MIB(2) - 1); break; /* up to 2 MiB */
        default: cursor = ((cursor + GIB(1) - 1) & ~(GIB(1) - 1)) - PG * rnd_below(3); break;
        }
        if (cursor < prev_end) /* ranges never overlap */
            cursor = prev_end;
        uint64_t size;
        unsigned cls = (unsigned)rnd_below(10);
        if (cls < 4)
            size = PG * (1 + rnd_below(40));
        else if (cls < 8)
            size = MIB(2) * rnd_below(6) + PG * (1 + rnd_below(3)) * rnd_below(2);
        else
            size = GIB(1) + MIB(2) * rnd_below(3) + PG * rnd_below(3);
        if (size == 0)
            size = MIB(2);
        if (size > budget)
            size = PG * (1 + rnd_below(8));
        if (size > budget || cursor >= top || size > top - cursor)
            break;
        /* hpa - gpa aligned to 1 GiB, 2 MiB or only 4 KiB; the last is rarer for big ranges
         * (a GiB of 4 KiB pages is 262144 leaves to check) */
        uint64_t align = (uint64_t[]){ GIB(1), GIB(1), MIB(2), PG, GIB(1), MIB(2), MIB(2), PG }
            [rnd_below(size >= GIB(1) ? 7 : 4) + (size >= GIB(1) ? 1 : 0)];
        uint64_t hpa_span = (UINT64_C(1) << c->maxphy) - GIB(4);
        uint64_t hpa = rnd_below(hpa_span / GIB(1)) * GIB(1) + (cursor & (align - 1));
        if (align == PG)
            hpa += PG * (1 + rnd_below(511)) * ((cursor & (MIB(2) - 1)) == 0 ? 1 : rnd_below(2));
        rs[k++] = (struct gpa_range){
            .gpa = cursor, .hpa = hpa, .size = size, .perms = random_perms(c),
            .mtype = all_mtypes[rnd_below(5)],
        };
        budget -= size;
        cursor += size;
    }
    return k;
}

/* The page size the rule promises at gpa inside r: the largest the configuration has whose
 * aligned block around gpa lies wholly in r with hpa - gpa a multiple of it. */
static uint64_t expected_page(const struct cfg *c, const struct gpa_range *r, uint64_t gpa)
{
    uint64_t sizes[3] = { c->has_1g ? GIB(1) : 0, c->has_2m ? MIB(2) : 0, PG };
    for (int i = 0; i < 3; i++) {
        uint64_t s = sizes[i];
        if (!s)
            continue;
        uint64_t block = gpa & ~(s - 1);
        if (block >= r->gpa && block + s <= r->gpa + r->size && ((r->hpa - r->gpa) & (s - 1)) == 0)
            return s;
    }
    return 0;
}

/* Table pages the expected leaves need: the root plus, per level, each distinct table index. */
static uint64_t expected_tables(const struct cfg *c, const struct gpa_range *rs, uint32_t n)
{
    uint64_t count = 1;
    uint64_t last[4] = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
    /* ranges are sorted by gpa, so each level's table ids come in non-decreasing order */
    for (uint32_t i = 0; i < n; i++) {
        for (uint64_t g = rs[i].gpa; g < rs[i].gpa + rs[i].size;) {
            uint64_t s = expected_page(c, &rs[i], g);
            int leaf_lvl = s == PG ? 1 : s == MIB(2) ? 2 : 3;
            for (int lvl = leaf_lvl; lvl <= 3; lvl++) { /* the table holding level-lvl entries */
                uint64_t id = g >> (12 + 9 * lvl);
                if (id != last[lvl]) {
                    last[lvl] = id;
                    count++;
                }
            }
            g += s;
        }
    }
    return count;
}

static const struct gpa_range *range_of(const struct gpa_range *rs, uint32_t n, uint64_t gpa)
{
    for (uint32_t i = 0; i < n; i++)
        if (gpa >= rs[i].gpa && gpa - rs[i].gpa < rs[i].size)
            return &rs[i];
    return NULL;
}

static void check_page(const struct cfg *c, const struct s2pt_format *f, const struct s2pt *pt,
                       const struct gpa_range *r, uint64_t gpa)
{
    struct ref_leaf l;
    struct s2pt_leaf w;
    uint64_t off = rnd_below(PG);
    assert_int_equal(ref_walk(c, s2pt_root(pt), gpa + off, &l), REF_MAPPED);
    assert_int_equal(l.hpa, r->hpa + (gpa - r->gpa) + off);
    assert_int_equal(l.perms, r->perms);
    assert_int_equal(l.mtype, r->mtype);
    assert_int_equal(l.size, expected_page(c, r, gpa));
    assert_int_equal(s2pt_walk(pt, f, gpa + off, &w), S2PT_OK);
    assert_int_equal(w.hpa, l.hpa);
    assert_int_equal(w.perms, l.perms);
    assert_int_equal(w.mtype, l.mtype);
    assert_int_equal(w.page_size, l.size);
}

static void check_unmapped(const struct cfg *c, const struct s2pt_format *f, const struct s2pt *pt,
                           const struct gpa_range *rs, uint32_t n, uint64_t gpa)
{
    struct ref_leaf l;
    struct s2pt_leaf w;
    if (gpa >> 48 || range_of(rs, n, gpa))
        return;
    assert_int_equal(ref_walk(c, s2pt_root(pt), gpa, &l), REF_UNMAPPED);
    assert_int_equal(s2pt_walk(pt, f, gpa, &w), S2PT_E_NOTMAPPED);
}

static uint64_t pages_checked, sets_built;

static void run_random_sets(const struct cfg *c, uint64_t seed0, unsigned sets)
{
    struct s2pt_format f;
    make_format(c, &f);
    for (unsigned s = 0; s < sets; s++) {
        rng_state = seed0 * 1000003 + s;
        struct gpa_range rs[MAX_RANGES];
        uint32_t n = random_set(c, rs);
        pool_reset();
        struct s2pt pt;
        assert_int_equal(s2pt_init(&pt, &f, &pool_ops), S2PT_OK);

        /* map in a shuffled order, so later ranges fill in around tables earlier ones made */
        uint32_t order[MAX_RANGES];
        for (uint32_t i = 0; i < n; i++)
            order[i] = i;
        for (uint32_t i = n; i > 1; i--) {
            uint32_t j = (uint32_t)rnd_below(i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (uint32_t i = 0; i < n; i++) {
            int rc = s2pt_map(&pt, &f, &rs[order[i]]);
            if (rc != S2PT_OK)
                fail_msg("%s seed %u range %u gpa %#llx: %s", c->name, s, order[i],
                         (unsigned long long)rs[order[i]].gpa, s2pt_strerror(rc));
        }
        sets_built++;

        /* Both walkers at every page of every range: each leaf at its first and last 4 KiB
         * and at a random one in between (always at a random byte offset). In every 16th set,
         * every 4 KiB page of every range, whatever page size covers it; in the others, runs
         * of 4 KiB leaves in ranges over 64 MiB only at every 61st page (the enumeration
         * below still reads every leaf with the reference walker). */
        for (uint32_t i = 0; i < n; i++) {
            const struct gpa_range *r = &rs[i];
            for (uint64_t g = r->gpa, step; g < r->gpa + r->size; g += step) {
                step = (s % 16 == 0) ? PG : expected_page(c, r, g);
                if (step == PG && s % 16 && r->size > MIB(64) && g + 61 * PG < r->gpa + r->size &&
                    expected_page(c, r, g + 60 * PG) == PG)
                    step = 61 * PG;
                check_page(c, &f, &pt, r, g);
                if (step > PG) {
                    check_page(c, &f, &pt, r, g + step - PG);
                    check_page(c, &f, &pt, r, g + (rnd_below(step) & ~(PG - 1)));
                }
                pages_checked++;
            }
        }

        /* around and between the ranges, and anywhere at random */
        for (uint32_t i = 0; i < n; i++) {
            check_unmapped(c, &f, &pt, rs, n, rs[i].gpa - PG);
            check_unmapped(c, &f, &pt, rs, n, rs[i].gpa - 1);
            check_unmapped(c, &f, &pt, rs, n, rs[i].gpa + rs[i].size);
            check_unmapped(c, &f, &pt, rs, n, rs[i].gpa + rs[i].size + MIB(2));
            check_unmapped(c, &f, &pt, rs, n, (rs[i].gpa & ~(GIB(1) - 1)) + GIB(1));
        }
        for (int i = 0; i < 64; i++)
            check_unmapped(c, &f, &pt, rs, n, rnd() & ((UINT64_C(1) << 48) - 1));
        for (int i = 0; i < 64; i++) /* near the ranges */
            check_unmapped(c, &f, &pt, rs, n,
                           rs[rnd_below(n)].gpa + (rnd_below(GIB(2)) & ~(PG - 1)) - GIB(1));

        /* the whole tree holds exactly these leaves and exactly the expected tables */
        static struct ref_tree t; /* the span buffer is kept from set to set */
        t.n = 0;
        t.tables = 0;
        ref_enum(c, s2pt_root(&pt), 4, 0, &t);
        uint64_t mapped = 0, want = 0;
        for (size_t i = 0; i < t.n; i++) {
            const struct gpa_range *r = range_of(rs, n, t.spans[i].gpa);
            assert_non_null(r);
            assert_true(t.spans[i].gpa + t.spans[i].size <= r->gpa + r->size);
            assert_int_equal(t.spans[i].size, expected_page(c, r, t.spans[i].gpa));
            struct ref_leaf l;
            assert_int_equal(ref_walk(c, s2pt_root(&pt), t.spans[i].gpa, &l), REF_MAPPED);
            assert_int_equal(l.hpa, r->hpa + (t.spans[i].gpa - r->gpa));
            assert_int_equal(l.perms, r->perms);
            assert_int_equal(l.mtype, r->mtype);
            mapped += t.spans[i].size;
        }
        for (uint32_t i = 0; i < n; i++)
            want += rs[i].size;
        assert_int_equal(mapped, want);
        assert_int_equal(t.tables, expected_tables(c, rs, n));
        assert_int_equal(s2pt_table_pages(&pt), t.tables);
        assert_int_equal(pool.outstanding, t.tables);

        s2pt_destroy(&pt);
        assert_int_equal(pool.outstanding, 0);
        assert_int_equal(pool.frees, pool.allocs);
        assert_int_equal(pool.bad_free, 0);
        assert_int_equal(pool.bad_p2v, 0);
    }
}

static void test_random_ept_full(void **state) { run_random_sets(&cfg_ept_full, 1, 120); }
static void test_random_ept_2m(void **state) { run_random_sets(&cfg_ept_2m, 2, 120); }
static void test_random_ept_4k(void **state) { run_random_sets(&cfg_ept_4k, 3, 40); }
static void test_random_npt_full(void **state) { run_random_sets(&cfg_npt_full, 4, 120); }
static void test_random_npt_2m(void **state) { run_random_sets(&cfg_npt_2m, 5, 120); }
static void test_random_npt_nonx(void **state) { run_random_sets(&cfg_npt_nonx, 6, 60); }

/* ---- entries checked literally against the manuals --------------------------------------- */

struct tree {
    struct s2pt_format f;
    struct s2pt pt;
};

static void tree_init(struct tree *t, const struct cfg *c)
{
    pool_reset();
    make_format(c, &t->f);
    assert_int_equal(s2pt_init(&t->pt, &t->f, &pool_ops), S2PT_OK);
}

static void tree_done(struct tree *t)
{
    uint64_t pages = s2pt_table_pages(&t->pt);
    assert_int_equal(pool.outstanding, pages);
    uint64_t frees = pool.frees;
    s2pt_destroy(&t->pt);
    assert_int_equal(pool.frees - frees, pages);
    assert_int_equal(pool.outstanding, 0);
    assert_int_equal(pool.bad_free, 0);
    assert_int_equal(pool.bad_p2v, 0);
    s2pt_destroy(&t->pt); /* twice is harmless */
    assert_int_equal(pool.frees - frees, pages);
}

static int map(struct tree *t, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t perms,
               uint32_t mt)
{
    struct gpa_range r = { gpa, hpa, size, perms, mt };
    return s2pt_map(&t->pt, &t->f, &r);
}

/* The entry at manual level lvl (4 = PML4 .. 1 = PT) on gpa's path; tables above must exist. */
static uint64_t entry_at(struct tree *t, uint64_t gpa, int lvl, unsigned maxphy)
{
    uint64_t table = s2pt_root(&t->pt);
    for (int l = 4;; l--) {
        uint64_t e = tbl(table)[(gpa >> (12 + 9 * (l - 1))) & 0x1ff];
        if (l == lvl)
            return e;
        table = e & ((UINT64_C(1) << maxphy) - 1) & ~UINT64_C(0xfff);
    }
}
static uint64_t *entry_ptr(struct tree *t, uint64_t gpa, int lvl, unsigned maxphy)
{
    uint64_t table = s2pt_root(&t->pt);
    for (int l = 4;; l--) {
        uint64_t *e = &tbl(table)[(gpa >> (12 + 9 * (l - 1))) & 0x1ff];
        if (l == lvl)
            return e;
        table = *e & ((UINT64_C(1) << maxphy) - 1) & ~UINT64_C(0xfff);
    }
}

/* EPT leaves: bits 2:0 = R,W,X; 5:3 = memory type; 7 = page size (PDE/PDPTE); address above.
 * Non-leaf entries: address | RWX (0x7), bits 7:3 zero. */
static void test_ept_literal(void **state)
{
    struct tree t;
    tree_init(&t, &cfg_ept_full);
    /* the brief's example: 2 MiB WB RWX leaf, gpa 0x200000 -> hpa 0x40200000 */
    assert_int_equal(map(&t, 0x200000, 0x40200000, MIB(2), RWX, GPA_MT_WB), S2PT_OK);
    assert_int_equal(entry_at(&t, 0x200000, 2, 46), UINT64_C(0x40200000) | 0x80 | (6 << 3) | 7);
    assert_int_equal(entry_at(&t, 0x200000, 2, 46), UINT64_C(0x402000b7));
    uint64_t pml4e = entry_at(&t, 0x200000, 4, 46), pdpte = entry_at(&t, 0x200000, 3, 46);
    assert_int_equal(pml4e & 0xfff, 0x7);
    assert_int_equal(pdpte & 0xfff, 0x7);
    assert_int_equal(pml4e >> 46, 0);
    /* 4 KiB read-only UC: 0x5000 | type 0 | R */
    assert_int_equal(map(&t, 0x1000, 0x5000, PG, GPA_R, GPA_MT_UC), S2PT_OK);
    assert_int_equal(entry_at(&t, 0x1000, 1, 46), UINT64_C(0x5001));
    assert_int_equal(entry_at(&t, 0x1000, 2, 46) & 0xff, 0x7); /* PDE -> PT, bit 7 clear */
    /* 1 GiB WT R+X: 0x80000000 | PS | 4 << 3 | R|X */
    assert_int_equal(map(&t, GIB(1), GIB(2), GIB(1), GPA_R | GPA_X, GPA_MT_WT), S2PT_OK);
    assert_int_equal(entry_at(&t, GIB(1), 3, 46), UINT64_C(0x800000a5));
    /* execute-only (the CPU says it may), WB */
    assert_int_equal(map(&t, 0x3000, 0x9000, PG, GPA_X, GPA_MT_WB), S2PT_OK);
    assert_int_equal(entry_at(&t, 0x3000, 1, 46), UINT64_C(0x9034));
    /* 2 MiB WC RW, 4 KiB WP RW */
    assert_int_equal(map(&t, MIB(4), MIB(6), MIB(2), GPA_R | GPA_W, GPA_MT_WC), S2PT_OK);
    assert_int_equal(entry_at(&t, MIB(4), 2, 46), UINT64_C(0x60008b));
    assert_int_equal(map(&t, 0x4000, 0x7ffffff000, PG, GPA_R | GPA_W, GPA_MT_WP), S2PT_OK);
    assert_int_equal(entry_at(&t, 0x4000, 1, 46), UINT64_C(0x7ffffff02b));
    /* 1 + PDPT + PD + PT */
    assert_int_equal(s2pt_table_pages(&t.pt), 4);

    struct s2pt_leaf w;
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x2abcde, &w), S2PT_OK);
    assert_int_equal(w.hpa, 0x402abcde);
    assert_int_equal(w.page_size, MIB(2));
    assert_int_equal(w.perms, RWX);
    assert_int_equal(w.mtype, GPA_MT_WB);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, GIB(1) + 0x12345678, &w), S2PT_OK);
    assert_int_equal(w.hpa, GIB(2) + 0x12345678);
    assert_int_equal(w.page_size, GIB(1));
    assert_int_equal(w.perms, GPA_R | GPA_X);
    assert_int_equal(w.mtype, GPA_MT_WT);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x3fff, &w), S2PT_OK);
    assert_int_equal(w.hpa, 0x9fff);
    assert_int_equal(w.perms, GPA_X);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x2000, &w), S2PT_E_NOTMAPPED);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, UINT64_C(1) << 48, &w), S2PT_E_NOTMAPPED);
    tree_done(&t);
}

/* Without 1 GiB support an aligned 1 GiB range becomes 512 2 MiB leaves under one PD. */
static void test_ept_no_1g(void **state)
{
    struct tree t;
    tree_init(&t, &cfg_ept_2m);
    assert_int_equal(map(&t, GIB(1), GIB(2), GIB(1), GPA_R | GPA_X, GPA_MT_WT), S2PT_OK);
    assert_int_equal(entry_at(&t, GIB(1), 3, 39) & 0xff, 0x7);
    assert_int_equal(entry_at(&t, GIB(1), 2, 39), UINT64_C(0x800000a5));
    assert_int_equal(entry_at(&t, GIB(2) - MIB(2), 2, 39), UINT64_C(0xbfe000a5));
    assert_int_equal(s2pt_table_pages(&t.pt), 3);
    tree_done(&t);

    /* and with 4 KiB pages only, 2 MiB becomes 512 PTEs */
    tree_init(&t, &cfg_ept_4k);
    assert_int_equal(map(&t, MIB(2), MIB(8), MIB(2), RWX, GPA_MT_WB), S2PT_OK);
    assert_int_equal(entry_at(&t, MIB(2), 1, 36), UINT64_C(0x800037));
    assert_int_equal(entry_at(&t, MIB(4) - PG, 1, 36), UINT64_C(0x9ff037));
    assert_int_equal(s2pt_table_pages(&t.pt), 4);
    tree_done(&t);
}

/* EPTP (SDM vol. 3C 25.6.11): bits 2:0 = 6 (WB), bits 5:3 = 3 (4-level walk), bit 6 = A/D. */
static void test_eptp(void **state)
{
    struct s2pt_format f, fmin;
    uint64_t eptp = 0;
    assert_int_equal(ept_format_init(&f, CAP_ALL, 46), S2PT_OK);
    assert_int_equal(ept_format_init(&fmin, CAP_MIN, 46), S2PT_OK);
    assert_int_equal(ept_eptp(&f, 0x12345000, false, &eptp), S2PT_OK);
    assert_int_equal(eptp, UINT64_C(0x1234501e));
    assert_int_equal(ept_eptp(&f, 0x12345000, true, &eptp), S2PT_OK);
    assert_int_equal(eptp, UINT64_C(0x1234505e));
    eptp = 0;
    assert_int_equal(ept_eptp(&fmin, 0x12345000, true, &eptp), S2PT_E_INVAL); /* no A/D */
    assert_int_equal(ept_eptp(&f, 0x12345800, false, &eptp), S2PT_E_INVAL);
    assert_int_equal(ept_eptp(&f, UINT64_C(1) << 46, false, &eptp), S2PT_E_INVAL);
    assert_int_equal(eptp, 0);
    assert_int_equal(ept_eptp(NULL, 0x1000, false, &eptp), S2PT_E_INVAL);
    assert_int_equal(ept_eptp(&f, 0x1000, false, NULL), S2PT_E_INVAL);
}

static void test_ept_format_init(void **state)
{
    struct s2pt_format f;
    assert_int_equal(ept_format_init(&f, CAP_ALL, 46), S2PT_OK);
    assert_string_equal(f.name, "EPT");
    assert_int_equal(f.levels, 4);
    assert_int_equal(f.bits_per_level, 9);
    assert_int_equal(f.gpa_bits, 48);
    assert_int_equal(f.hpa_bits, 46);
    assert_int_equal(f.leaf_levels, S2PT_LEAF_4K | S2PT_LEAF_2M | S2PT_LEAF_1G);
    assert_int_equal(f.addr_mask, UINT64_C(0x00003ffffffff000));
    assert_int_equal(ept_format_init(&f, CAP_MIN | EPT_VPID_CAP_2M, 39), S2PT_OK);
    assert_int_equal(f.leaf_levels, S2PT_LEAF_4K | S2PT_LEAF_2M);
    assert_int_equal(f.addr_mask, UINT64_C(0x0000007ffffff000));
    assert_int_equal(ept_format_init(&f, CAP_ALL & ~EPT_VPID_CAP_WALK_4, 46), S2PT_E_INVAL);
    assert_int_equal(ept_format_init(&f, CAP_ALL & ~EPT_VPID_CAP_MT_WB, 46), S2PT_E_INVAL);
    assert_int_equal(ept_format_init(&f, CAP_ALL, 31), S2PT_E_INVAL);
    assert_int_equal(ept_format_init(&f, CAP_ALL, 53), S2PT_E_INVAL);
    assert_int_equal(ept_format_init(&f, CAP_ALL, 52), S2PT_OK);
    assert_int_equal(ept_format_init(NULL, CAP_ALL, 46), S2PT_E_INVAL);
}

/* NPT leaves: P(0) R/W(1) U/S(2) PWT(3) PCD(4) PS(7) or PAT(7, PTE) / PAT(12, large) NX(63).
 * Tables: address | P | R/W | U/S = 0x7. Host PAT at reset: 0 WB, 1 WT, 2 UC-, 3 UC. */
static void test_npt_literal(void **state)
{
    struct tree t;
    struct cfg c = cfg_npt_full;
    c.pat = NPT_PAT_RESET;
    tree_init(&t, &c);
    /* 4 KiB RW WB (index 0), no execute: NX | 0x2000 | U | RW | P */
    assert_int_equal(map(&t, 0x1000, 0x2000, PG, GPA_R | GPA_W, GPA_MT_WB), S2PT_OK);
    assert_int_equal(entry_at(&t, 0x1000, 1, 48), UINT64_C(0x8000000000002007));
    assert_int_equal(entry_at(&t, 0x1000, 4, 48) & 0xfff, 0x7);
    assert_int_equal(entry_at(&t, 0x1000, 4, 48) >> 48, 0);
    assert_int_equal(entry_at(&t, 0x1000, 3, 48) & 0xfff, 0x7);
    assert_int_equal(entry_at(&t, 0x1000, 2, 48) & 0xfff, 0x7);
    /* 2 MiB R+X UC (index 3 = PCD|PWT): 0x40200000 | PS | PCD | PWT | U | P */
    assert_int_equal(map(&t, 0x200000, 0x40200000, MIB(2), GPA_R | GPA_X, GPA_MT_UC), S2PT_OK);
    assert_int_equal(entry_at(&t, 0x200000, 2, 48), UINT64_C(0x4020009d));
    /* 1 GiB R WT (index 1 = PWT): NX | 0xc0000000 | PS | PWT | U | P */
    assert_int_equal(map(&t, GIB(1), GIB(3), GIB(1), GPA_R, GPA_MT_WT), S2PT_OK);
    assert_int_equal(entry_at(&t, GIB(1), 3, 48), UINT64_C(0x80000000c000008d));
    /* the reset PAT has no WC or WP: refused, not approximated */
    assert_int_equal(map(&t, MIB(8), MIB(8), PG, GPA_R, GPA_MT_WC), S2PT_E_MTYPE);
    assert_int_equal(map(&t, MIB(8), MIB(8), PG, GPA_R, GPA_MT_WP), S2PT_E_MTYPE);
    struct s2pt_leaf w;
    assert_int_equal(s2pt_walk(&t.pt, &t.f, GIB(1) + 5, &w), S2PT_OK);
    assert_int_equal(w.hpa, GIB(3) + 5);
    assert_int_equal(w.perms, GPA_R);
    assert_int_equal(w.mtype, GPA_MT_WT);
    assert_int_equal(w.page_size, GIB(1));
    tree_done(&t);

    /* Moat's PAT: 4 WC, 5 WP. A 2 MiB leaf puts PAT at bit 12, a PTE at bit 7. */
    tree_init(&t, &cfg_npt_full);
    assert_int_equal(map(&t, MIB(4), MIB(6), MIB(2), RWX, GPA_MT_WC), S2PT_OK);
    assert_int_equal(entry_at(&t, MIB(4), 2, 48), UINT64_C(0x601087));
    assert_int_equal(map(&t, 0x5000, 0x7000, PG, GPA_R | GPA_W, GPA_MT_WP), S2PT_OK);
    assert_int_equal(entry_at(&t, 0x5000, 1, 48), UINT64_C(0x800000000000708f));
    assert_int_equal(s2pt_walk(&t.pt, &t.f, MIB(5), &w), S2PT_OK);
    assert_int_equal(w.hpa, MIB(7)); /* the PAT bit is not part of the address */
    assert_int_equal(w.mtype, GPA_MT_WC);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x5010, &w), S2PT_OK);
    assert_int_equal(w.hpa, 0x7010);
    assert_int_equal(w.mtype, GPA_MT_WP);
    assert_int_equal(w.perms, GPA_R | GPA_W);
    tree_done(&t);

    /* without host EFER.NXE: executable pages have no bit 63, data-only pages are refused */
    tree_init(&t, &cfg_npt_nonx);
    assert_int_equal(map(&t, 0x1000, 0x2000, PG, RWX, GPA_MT_WB), S2PT_OK);
    assert_int_equal(entry_at(&t, 0x1000, 1, 43), UINT64_C(0x2007));
    assert_int_equal(map(&t, 0x2000, 0x2000, PG, GPA_R | GPA_W, GPA_MT_WB), S2PT_E_PERM);
    tree_done(&t);
}

static void test_npt_format_and_ncr3(void **state)
{
    struct s2pt_format f;
    uint64_t ncr3 = 0;
    assert_int_equal(npt_format_init(&f, 48, true, true, NPT_PAT_RESET), S2PT_OK);
    assert_string_equal(f.name, "NPT");
    assert_int_equal(f.levels, 4);
    assert_int_equal(f.gpa_bits, 48);
    assert_int_equal(f.leaf_levels, S2PT_LEAF_4K | S2PT_LEAF_2M | S2PT_LEAF_1G);
    assert_int_equal(f.addr_mask, UINT64_C(0x0000fffffffff000));
    assert_int_equal(npt_ncr3(&f, 0x12345000, &ncr3), S2PT_OK);
    assert_int_equal(ncr3, 0x12345000); /* PAT entry 0 is WB: PWT = PCD = 0 */
    assert_int_equal(npt_ncr3(&f, 0x12345008, &ncr3), S2PT_E_INVAL);
    assert_int_equal(npt_ncr3(&f, UINT64_C(1) << 48, &ncr3), S2PT_E_INVAL);
    /* WB only at index 1: PWT */
    assert_int_equal(npt_format_init(&f, 40, false, true, UINT64_C(0x0000000000000600)), S2PT_OK);
    assert_int_equal(f.leaf_levels, S2PT_LEAF_4K | S2PT_LEAF_2M);
    assert_int_equal(npt_ncr3(&f, 0x5000, &ncr3), S2PT_OK);
    assert_int_equal(ncr3, 0x5008);
    /* WB only at index 2: PCD */
    assert_int_equal(npt_format_init(&f, 40, false, true, UINT64_C(0x0000000000060000)), S2PT_OK);
    assert_int_equal(npt_ncr3(&f, 0x5000, &ncr3), S2PT_OK);
    assert_int_equal(ncr3, 0x5010);
    /* WB only at index 4: no CR3 encoding reaches it */
    assert_int_equal(npt_format_init(&f, 40, false, true, UINT64_C(0x0000000600000000)), S2PT_OK);
    ncr3 = 0;
    assert_int_equal(npt_ncr3(&f, 0x5000, &ncr3), S2PT_E_INVAL);
    assert_int_equal(ncr3, 0);
    /* PAT bytes 2, 3, 8 and 0xff are no memory type */
    static const uint64_t bad_pats[] = { 0x0000000000000002, 0x0300000000000000,
                                         0x0000080000000000, 0xff07040600070406 };
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(npt_format_init(&f, 40, false, true, bad_pats[i]), S2PT_E_INVAL);
    assert_int_equal(npt_format_init(&f, 31, false, true, NPT_PAT_RESET), S2PT_E_INVAL);
    assert_int_equal(npt_format_init(&f, 53, false, true, NPT_PAT_RESET), S2PT_E_INVAL);
    assert_int_equal(npt_format_init(NULL, 48, false, true, NPT_PAT_RESET), S2PT_E_INVAL);
}

/* ---- refusals ---------------------------------------------------------------------------- */

/* Every permission set on every format: accepted or S2PT_E_PERM, nothing mapped if refused. */
static void check_perm_matrix(const struct cfg *c, const int want[9])
{
    struct tree t;
    tree_init(&t, c);
    for (uint32_t p = 0; p <= 8; p++) {
        uint64_t gpa = GIB(1) + p * PG;
        int rc = map(&t, gpa, MIB(16) + p * PG, PG, p, GPA_MT_WB);
        assert_int_equal(rc, want[p]);
        struct s2pt_leaf w;
        if (rc == S2PT_OK) {
            assert_int_equal(s2pt_walk(&t.pt, &t.f, gpa, &w), S2PT_OK);
            assert_int_equal(w.perms, p); /* never widened */
        } else {
            assert_int_equal(s2pt_error_gpa(&t.pt), gpa);
            assert_int_equal(s2pt_walk(&t.pt, &t.f, gpa, &w), S2PT_E_NOTMAPPED);
        }
    }
    tree_done(&t);
}

#define OK_ S2PT_OK
#define NO_ S2PT_E_PERM
static void test_perm_matrix(void **state)
{
    /*                               0    R    W    RW   X    RX   WX   RWX  bit 3 */
    static const int ept[9]      = { NO_, OK_, NO_, OK_, NO_, OK_, NO_, OK_, NO_ };
    static const int ept_xo[9]   = { NO_, OK_, NO_, OK_, OK_, OK_, NO_, OK_, NO_ };
    static const int npt[9]      = { NO_, OK_, NO_, OK_, NO_, OK_, NO_, OK_, NO_ };
    static const int npt_nonx[9] = { NO_, NO_, NO_, NO_, NO_, OK_, NO_, OK_, NO_ };
    check_perm_matrix(&cfg_ept_2m, ept);
    check_perm_matrix(&cfg_ept_full, ept_xo);
    check_perm_matrix(&cfg_npt_full, npt);
    check_perm_matrix(&cfg_npt_nonx, npt_nonx);
}

static void test_mtype_refused(void **state)
{
    static const uint32_t bad[] = { 2, 3, 7, 8, 255, 0x106 };
    const struct cfg *cs[] = { &cfg_ept_full, &cfg_npt_full };
    for (unsigned k = 0; k < 2; k++) {
        struct tree t;
        tree_init(&t, cs[k]);
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_int_equal(map(&t, MIB(2), MIB(2), MIB(2), RWX, bad[i]), S2PT_E_MTYPE);
            assert_int_equal(s2pt_error_gpa(&t.pt), MIB(2));
        }
        for (unsigned i = 0; i < 5; i++)
            assert_int_equal(map(&t, MIB(2) * (i + 1), 0, MIB(2), RWX, all_mtypes[i]), S2PT_OK);
        /* a bad permission is reported before a bad type */
        assert_int_equal(map(&t, GIB(2), 0, PG, GPA_W, 3), S2PT_E_PERM);
        tree_done(&t);
    }
}

static void test_shape_errors(void **state)
{
    struct tree t;
    struct s2pt_leaf w;
    tree_init(&t, &cfg_ept_full); /* MAXPHYADDR 46 */
    const uint64_t top = UINT64_C(1) << 48, hmax = UINT64_C(1) << 46;

    assert_int_equal(map(&t, 0x5000, 0x5000, 0, RWX, GPA_MT_WB), S2PT_E_SIZE);
    assert_int_equal(s2pt_error_gpa(&t.pt), 0x5000);
    assert_int_equal(map(&t, 0x5001, 0x5000, PG, RWX, GPA_MT_WB), S2PT_E_ALIGN);
    assert_int_equal(s2pt_error_gpa(&t.pt), 0x5001);
    assert_int_equal(map(&t, 0x5000, 0x5800, PG, RWX, GPA_MT_WB), S2PT_E_ALIGN);
    assert_int_equal(map(&t, 0x5000, 0x5000, 0x1800, RWX, GPA_MT_WB), S2PT_E_ALIGN);
    assert_int_equal(map(&t, 0x5000, 0x5000, 0xfff, RWX, GPA_MT_WB), S2PT_E_ALIGN);

    /* guest-physical width 48: start beyond, end beyond, wrap-around */
    assert_int_equal(map(&t, top, 0, PG, RWX, GPA_MT_WB), S2PT_E_GPA_RANGE);
    assert_int_equal(s2pt_error_gpa(&t.pt), top);
    assert_int_equal(map(&t, top - KIB(8), 0, KIB(16), RWX, GPA_MT_WB), S2PT_E_GPA_RANGE);
    assert_int_equal(s2pt_error_gpa(&t.pt), top);
    assert_int_equal(map(&t, UINT64_MAX - 0xfff, 0, KIB(8), RWX, GPA_MT_WB), S2PT_E_GPA_RANGE);
    assert_int_equal(map(&t, PG, 0, UINT64_MAX - 0xfff, RWX, GPA_MT_WB), S2PT_E_GPA_RANGE);
    assert_int_equal(s2pt_error_gpa(&t.pt), top);

    /* host-physical width: MAXPHYADDR 46 */
    assert_int_equal(map(&t, MIB(16), hmax, PG, RWX, GPA_MT_WB), S2PT_E_HPA_RANGE);
    assert_int_equal(s2pt_error_gpa(&t.pt), MIB(16));
    assert_int_equal(map(&t, MIB(16), hmax - MIB(2), MIB(4), RWX, GPA_MT_WB), S2PT_E_HPA_RANGE);
    assert_int_equal(s2pt_error_gpa(&t.pt), MIB(18));
    assert_int_equal(map(&t, MIB(16), UINT64_MAX - 0xfff, MIB(4), RWX, GPA_MT_WB),
                     S2PT_E_HPA_RANGE);
    assert_int_equal(map(&t, MIB(16), hmax - PG, KIB(8), RWX, GPA_MT_WB), S2PT_E_HPA_RANGE);
    assert_int_equal(s2pt_error_gpa(&t.pt), MIB(16) + PG);
    assert_int_equal(s2pt_table_pages(&t.pt), 1); /* nothing was built for any of these */

    /* the last page of each space is fine */
    assert_int_equal(map(&t, top - PG, hmax - PG, PG, GPA_R, GPA_MT_UC), S2PT_OK);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, top - 1, &w), S2PT_OK);
    assert_int_equal(w.hpa, hmax - 1);
    assert_int_equal(w.perms, GPA_R);
    assert_int_equal(w.mtype, GPA_MT_UC);
    assert_int_equal(s2pt_table_pages(&t.pt), 4);
    /* the top 1 GiB of the guest-physical space as one page */
    assert_int_equal(map(&t, top - GIB(2), hmax - GIB(2), GIB(1), RWX, GPA_MT_WB), S2PT_OK);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, top - GIB(1) - 1, &w), S2PT_OK);
    assert_int_equal(w.page_size, GIB(1));
    assert_int_equal(s2pt_table_pages(&t.pt), 4);
    tree_done(&t);
}

static void test_bad_arguments(void **state)
{
    struct tree t, u;
    struct s2pt_leaf w;
    struct gpa_range r = { 0, 0, PG, RWX, GPA_MT_WB };
    tree_init(&t, &cfg_ept_full);
    make_format(&cfg_ept_full, &u.f); /* the same geometry, another descriptor */
    assert_int_equal(s2pt_map(&t.pt, &u.f, &r), S2PT_E_INVAL);
    assert_int_equal(s2pt_map(&t.pt, NULL, &r), S2PT_E_INVAL);
    assert_int_equal(s2pt_map(NULL, &t.f, &r), S2PT_E_INVAL);
    assert_int_equal(s2pt_map(&t.pt, &t.f, NULL), S2PT_E_INVAL);
    assert_int_equal(s2pt_walk(&t.pt, &u.f, 0, &w), S2PT_E_INVAL);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0, NULL), S2PT_E_INVAL);
    assert_int_equal(s2pt_map_all(&t.pt, &t.f, NULL, NULL), S2PT_E_INVAL);
    struct gpa_map m = { NULL, 1 };
    assert_int_equal(s2pt_map_all(&t.pt, &t.f, &m, NULL), S2PT_E_INVAL);
    m.count = 0;
    assert_int_equal(s2pt_map_all(&t.pt, &t.f, &m, NULL), S2PT_OK);
    assert_int_equal(s2pt_table_pages(&t.pt), 1);
    tree_done(&t);
    /* a destroyed tree refuses everything */
    assert_int_equal(s2pt_map(&t.pt, &t.f, &r), S2PT_E_INVAL);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0, &w), S2PT_E_INVAL);

    /* descriptors the builder cannot drive */
    struct s2pt_format good, f;
    make_format(&cfg_npt_full, &good);
    assert_int_equal(s2pt_format_check(&good), S2PT_OK);
    assert_int_equal(s2pt_format_check(NULL), S2PT_E_INVAL);
    f = good; f.levels = 6; f.gpa_bits = 12 + 6 * 9;
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    f = good; f.levels = 1; f.gpa_bits = 21;
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    f = good; f.bits_per_level = 10;
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    f = good; f.gpa_bits = 47;
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    f = good; f.leaf_levels = S2PT_LEAF_2M;
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    f = good; f.leaf_levels |= S2PT_LEAF(3); /* a leaf in the PML4 */
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    f = good; f.hpa_bits = 53;
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    f = good; f.addr_mask |= UINT64_C(1) << 11;
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    f = good; f.decode = NULL;
    assert_int_equal(s2pt_format_check(&f), S2PT_E_INVAL);
    pool_reset();
    assert_int_equal(s2pt_init(&t.pt, &f, &pool_ops), S2PT_E_INVAL);
    struct s2pt_alloc a = pool_ops;
    a.free_page = NULL;
    assert_int_equal(s2pt_init(&t.pt, &good, &a), S2PT_E_INVAL);
    assert_int_equal(s2pt_init(&t.pt, &good, NULL), S2PT_E_INVAL);
    assert_int_equal(s2pt_init(NULL, &good, &pool_ops), S2PT_E_INVAL);
    assert_int_equal(pool.allocs, 0);
}

static void test_strerror(void **state)
{
    assert_string_equal(s2pt_strerror(S2PT_OK), "ok");
    assert_string_equal(s2pt_strerror(S2PT_E_INVAL), "invalid argument");
    assert_string_equal(s2pt_strerror(S2PT_E_SIZE), "range has size 0");
    assert_string_equal(s2pt_strerror(S2PT_E_ALIGN), "gpa, hpa or size not 4 KiB aligned");
    assert_string_equal(s2pt_strerror(S2PT_E_GPA_RANGE),
                        "guest-physical address beyond the format's width");
    assert_string_equal(s2pt_strerror(S2PT_E_HPA_RANGE), "host-physical address beyond MAXPHYADDR");
    assert_string_equal(s2pt_strerror(S2PT_E_PERM), "permissions not expressible in this format");
    assert_string_equal(s2pt_strerror(S2PT_E_MTYPE), "memory type not expressible in this format");
    assert_string_equal(s2pt_strerror(S2PT_E_OVERLAP), "overlaps an existing mapping");
    assert_string_equal(s2pt_strerror(S2PT_E_NOMEM), "out of table pages");
    assert_string_equal(s2pt_strerror(S2PT_E_NOTMAPPED), "not mapped");
    assert_string_equal(s2pt_strerror(S2PT_E_CORRUPT), "malformed table entry");
    assert_string_equal(s2pt_strerror(-12), "unknown error");
    assert_string_equal(s2pt_strerror(1), "unknown error");
}

/* ---- overlaps ---------------------------------------------------------------------------- */

/* Every walkable page in [gpa, gpa+size) maps as first mapped, checked at 2 MiB steps. */
static void assert_mapped_as(struct tree *t, uint64_t gpa, uint64_t hpa, uint64_t size, uint32_t p)
{
    for (uint64_t o = 0; o < size; o += (size > MIB(4) ? MIB(2) : PG)) {
        struct s2pt_leaf w;
        assert_int_equal(s2pt_walk(&t->pt, &t->f, gpa + o, &w), S2PT_OK);
        assert_int_equal(w.hpa, hpa + o);
        assert_int_equal(w.perms, p);
    }
}

static void test_overlap(void **state)
{
    struct tree t;
    struct s2pt_leaf w;
    tree_init(&t, &cfg_ept_full);
    assert_int_equal(map(&t, GIB(1), GIB(5), GIB(1), RWX, GPA_MT_WB), S2PT_OK);   /* 1 GiB leaf */
    assert_int_equal(map(&t, 0x5000, 0x105000, KIB(12), GPA_R, GPA_MT_WB), S2PT_OK); /* 4 KiB */
    assert_int_equal(map(&t, MIB(4), MIB(8), MIB(2), GPA_R, GPA_MT_UC), S2PT_OK);  /* 2 MiB */
    uint64_t pages = s2pt_table_pages(&t.pt);
    assert_int_equal(pages, 4);

    static const struct {
        uint64_t gpa, size, stop;
    } cases[] = {
        { GIB(1), GIB(1), GIB(1) },                     /* the same range */
        { GIB(1) + MIB(2), PG, GIB(1) + MIB(2) },       /* inside a 1 GiB leaf */
        { GIB(1) - KIB(8), KIB(12), GIB(1) },           /* runs into the start */
        { GIB(2) - PG, KIB(8), GIB(2) - PG },           /* hangs off the end */
        { 0, GIB(4), 0x5000 },                          /* covers everything */
        { MIB(2), GIB(1), MIB(4) },                     /* first mapped is the 2 MiB leaf */
        { 0x7000, KIB(8), 0x7000 },                     /* shares the last 4 KiB page */
        { 0x1000, KIB(20), 0x5000 },                    /* free pages first, then mapped */
        { 0x6000, PG, 0x6000 },                         /* the middle page */
        { MIB(4) + MIB(1), MIB(2), MIB(4) + MIB(1) },   /* inside a 2 MiB leaf */
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(map(&t, cases[i].gpa, GIB(32), cases[i].size, RWX, GPA_MT_WB),
                         S2PT_E_OVERLAP);
        assert_int_equal(s2pt_error_gpa(&t.pt), cases[i].stop);
        assert_int_equal(s2pt_table_pages(&t.pt), pages);
        assert_int_equal(pool.outstanding, pages);
    }
    /* nothing of the refused ranges got in, and the old mappings are intact */
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x1000, &w), S2PT_E_NOTMAPPED);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x4000, &w), S2PT_E_NOTMAPPED);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x8000, &w), S2PT_E_NOTMAPPED);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, GIB(2), &w), S2PT_E_NOTMAPPED);
    assert_mapped_as(&t, GIB(1), GIB(5), GIB(1), RWX);
    assert_mapped_as(&t, 0x5000, 0x105000, KIB(12), GPA_R);
    assert_mapped_as(&t, MIB(4), MIB(8), MIB(2), GPA_R);

    /* neighbours that only touch are fine */
    assert_int_equal(map(&t, GIB(1) - PG, 0, PG, RWX, GPA_MT_WB), S2PT_OK);
    assert_int_equal(map(&t, GIB(2), 0, PG, RWX, GPA_MT_WB), S2PT_OK);
    assert_int_equal(map(&t, 0x4000, 0, PG, RWX, GPA_MT_WB), S2PT_OK);
    assert_int_equal(map(&t, 0x8000, 0, PG, RWX, GPA_MT_WB), S2PT_OK);
    assert_int_equal(map(&t, MIB(6), 0, PG, RWX, GPA_MT_WB), S2PT_OK);
    tree_done(&t);
}

static void test_map_all(void **state)
{
    struct tree t;
    struct s2pt_leaf w;
    uint32_t failed = 99;
    tree_init(&t, &cfg_npt_full);
    assert_int_equal(map(&t, GIB(8), GIB(8), PG, RWX, GPA_MT_WB), S2PT_OK); /* already there */
    uint64_t pages = s2pt_table_pages(&t.pt);

    const struct gpa_range bad[] = {
        { 0, MIB(64), MIB(640), RWX, GPA_MT_WB },
        { GIB(3), GIB(3), GIB(1), GPA_R | GPA_W, GPA_MT_WB },
        { GIB(4) + PG, 0, PG, GPA_R, GPA_MT_UC },
        { MIB(639), 0, MIB(2), RWX, GPA_MT_WB }, /* overlaps the first one */
    };
    struct gpa_map m = { bad, 4 };
    assert_int_equal(s2pt_map_all(&t.pt, &t.f, &m, &failed), S2PT_E_OVERLAP);
    assert_int_equal(failed, 3);
    assert_int_equal(s2pt_error_gpa(&t.pt), MIB(639));
    assert_int_equal(s2pt_table_pages(&t.pt), pages);
    assert_int_equal(pool.outstanding, pages);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(s2pt_walk(&t.pt, &t.f, bad[i].gpa, &w), S2PT_E_NOTMAPPED);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, GIB(8), &w), S2PT_OK);

    m.count = 3;
    assert_int_equal(s2pt_map_all(&t.pt, &t.f, &m, &failed), S2PT_OK);
    assert_mapped_as(&t, 0, MIB(64), MIB(640), RWX);
    assert_mapped_as(&t, GIB(3), GIB(3), GIB(1), GPA_R | GPA_W);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, GIB(4) + PG, &w), S2PT_OK);
    assert_int_equal(w.mtype, GPA_MT_UC);
    tree_done(&t);
}

/* ---- the allocator running dry ----------------------------------------------------------- */

/* Maps r into a tree that already holds other mappings, with the allocator failing after each
 * possible number of pages: the error comes back, the tree is as before, nothing of r is
 * mapped, every page is accounted for; then with enough pages it succeeds. */
static void exhaust(const struct cfg *c, const struct gpa_range *pre, unsigned npre,
                    const struct gpa_range *r, uint64_t expect_new, const uint64_t *stops)
{
    /* every count when few pages are needed; else the edges and a spread between them */
    for (uint64_t allow = 0;; allow = (expect_new <= 32 || allow + 1 < 4 ||
                                        allow + 4 >= expect_new) ? allow + 1
                                       : allow + 4 >= expect_new - 61 ? expect_new - 4
                                                                        : allow + 61) {
        struct tree t;
        struct s2pt_leaf w;
        tree_init(&t, c);
        for (unsigned i = 0; i < npre; i++)
            assert_int_equal(s2pt_map(&t.pt, &t.f, &pre[i]), S2PT_OK);
        uint64_t pages = s2pt_table_pages(&t.pt), allocs = pool.allocs;
        pool.fail_after = (int64_t)allow;
        int rc = s2pt_map(&t.pt, &t.f, r);
        pool.fail_after = -1;
        if (allow == expect_new) {
            assert_int_equal(rc, S2PT_OK);
            assert_int_equal(pool.allocs - allocs, expect_new);
            assert_int_equal(s2pt_table_pages(&t.pt), pages + expect_new);
            assert_mapped_as(&t, r->gpa, r->hpa, r->size, r->perms);
            tree_done(&t);
            return;
        }
        assert_int_equal(rc, S2PT_E_NOMEM);
        if (stops)
            assert_int_equal(s2pt_error_gpa(&t.pt), stops[allow]);
        assert_int_equal(pool.allocs - allocs, allow);
        assert_int_equal(s2pt_table_pages(&t.pt), pages);
        assert_int_equal(pool.outstanding, pages);
        for (uint64_t g = r->gpa; g < r->gpa + r->size; g += (r->size > MIB(4) ? MIB(1) : PG))
            assert_int_equal(s2pt_walk(&t.pt, &t.f, g, &w), S2PT_E_NOTMAPPED);
        for (unsigned i = 0; i < npre; i++)
            assert_mapped_as(&t, pre[i].gpa, pre[i].hpa, pre[i].size, pre[i].perms);
        tree_done(&t); /* destroy still returns every page, the failed call's included */
    }
}

static void test_exhaustion(void **state)
{
    /* fresh tree, 4 KiB pages across a 2 MiB boundary: PDPT, PD, PT, PT */
    const struct gpa_range r1 = { 0x1ff000, 0x3ff000, KIB(8), RWX, GPA_MT_WB };
    const uint64_t stops1[] = { 0x1ff000, 0x1ff000, 0x1ff000, 0x200000 };
    exhaust(&cfg_ept_full, NULL, 0, &r1, 4, stops1);
    exhaust(&cfg_npt_full, NULL, 0, &r1, 4, stops1);

    /* a big misaligned range (4 KiB pages only) that shares tables with existing mappings:
     * 3 GiB - 2 MiB .. 4 GiB + 4 MiB with hpa off by 4 KiB */
    const struct gpa_range pre[] = {
        { GIB(3) - MIB(4), GIB(9), PG, GPA_R, GPA_MT_WB },   /* shares the PD of GiB 2 */
        { GIB(4) + MIB(8), GIB(10), MIB(2), GPA_R, GPA_MT_WB }, /* shares the PD of GiB 4 */
        { GIB(600), GIB(11), PG, GPA_R, GPA_MT_WB },         /* another PML4 slot */
    };
    const struct gpa_range r2 = { GIB(3) - MIB(2), GIB(20) + PG, GIB(1) + MIB(6), RWX, GPA_MT_WB };
    exhaust(&cfg_ept_full, pre, 3, &r2, 1 + 512 + 3, NULL);
    exhaust(&cfg_npt_2m, pre, 3, &r2, 1 + 512 + 3, NULL);

    /* the root itself */
    struct s2pt pt;
    struct s2pt_format f;
    make_format(&cfg_ept_full, &f);
    pool_reset();
    pool.fail_after = 0;
    assert_int_equal(s2pt_init(&pt, &f, &pool_ops), S2PT_E_NOMEM);
    s2pt_destroy(&pt);
    assert_int_equal(pool.frees, 0);
    struct s2pt_leaf w;
    assert_int_equal(s2pt_walk(&pt, &f, 0, &w), S2PT_E_INVAL);
}

/* An allocator whose pages the format cannot point to, or that cannot be reached. */
static void test_unusable_pages(void **state)
{
    struct s2pt pt;
    struct s2pt_format f;
    /* MAXPHYADDR 32: the pool's pages at 0xfe0000000 are out of reach and go straight back */
    assert_int_equal(ept_format_init(&f, CAP_ALL, 32), S2PT_OK);
    pool_reset();
    assert_int_equal(s2pt_init(&pt, &f, &pool_ops), S2PT_E_NOMEM);
    assert_int_equal(pool.allocs, 1);
    assert_int_equal(pool.outstanding, 0);

    /* phys_to_virt fails on a fresh page: given back, NOMEM */
    make_format(&cfg_npt_full, &f);
    pool_reset();
    pool.p2v_fail_after = 0;
    assert_int_equal(s2pt_init(&pt, &f, &pool_ops), S2PT_E_NOMEM);
    assert_int_equal(pool.allocs, 1);
    assert_int_equal(pool.outstanding, 0);

    /* mid-build: the root and a PDPT are fine, the next table cannot be reached */
    struct tree t;
    struct s2pt_leaf w;
    tree_init(&t, &cfg_npt_full);
    assert_int_equal(map(&t, 0, 0, GIB(1), RWX, GPA_MT_WB), S2PT_OK);
    pool.p2v_fail_after = pool.allocs;
    assert_int_equal(map(&t, GIB(1) + MIB(2), 0, PG, RWX, GPA_MT_WB), S2PT_E_NOMEM);
    assert_int_equal(s2pt_error_gpa(&t.pt), GIB(1) + MIB(2));
    assert_int_equal(s2pt_table_pages(&t.pt), 2);
    assert_int_equal(pool.outstanding, 2);
    assert_int_equal(pool.allocs, 3);
    pool.p2v_fail_after = UINT64_MAX;
    assert_int_equal(s2pt_walk(&t.pt, &t.f, GIB(1) + MIB(2), &w), S2PT_E_NOTMAPPED);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, GIB(1) - 1, &w), S2PT_OK);
    /* a root the callbacks no longer reach: reported, nothing changes */
    pool.p2v_fail_after = 0;
    assert_int_equal(map(&t, GIB(2), 0, PG, RWX, GPA_MT_WB), S2PT_E_CORRUPT);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0, &w), S2PT_E_CORRUPT);
    pool.p2v_fail_after = UINT64_MAX;
    assert_int_equal(s2pt_table_pages(&t.pt), 2);
    tree_done(&t);
}

/* ---- malformed entries ------------------------------------------------------------------- */

struct poke {
    uint64_t gpa;
    int lvl;      /* manual level of the entry changed */
    uint64_t set, clear;
};

static void check_pokes(const struct cfg *c, const struct gpa_range *rs, unsigned n,
                        const struct poke *p, unsigned np)
{
    struct tree t;
    tree_init(&t, c);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(s2pt_map(&t.pt, &t.f, &rs[i]), S2PT_OK);
    for (unsigned i = 0; i < np; i++) {
        uint64_t *e = entry_ptr(&t, p[i].gpa, p[i].lvl, c->maxphy);
        uint64_t saved = *e;
        struct s2pt_leaf w;
        *e = (saved & ~p[i].clear) | p[i].set;
        if (s2pt_walk(&t.pt, &t.f, p[i].gpa, &w) != S2PT_E_CORRUPT)
            fail_msg("%s poke %u: entry %#llx not refused", c->name, i, (unsigned long long)*e);
        /* mapping over it stops there too, leaving the tree as it was */
        uint64_t pages = s2pt_table_pages(&t.pt);
        assert_int_equal(map(&t, p[i].gpa, 0, PG, RWX, GPA_MT_WB), S2PT_E_CORRUPT);
        assert_int_equal(s2pt_error_gpa(&t.pt), p[i].gpa);
        assert_int_equal(s2pt_table_pages(&t.pt), pages);
        *e = saved;
        assert_int_equal(s2pt_walk(&t.pt, &t.f, p[i].gpa, &w), S2PT_OK);
    }
    tree_done(&t);
}

static void test_corrupt_ept(void **state)
{
    const struct gpa_range rs[] = {
        { 0x1000, 0x1000, PG, RWX, GPA_MT_WB },
        { MIB(2), MIB(2), MIB(2), RWX, GPA_MT_WB },
        { GIB(1), GIB(1), GIB(1), RWX, GPA_MT_WB },
    };
    const struct poke p[] = {
        { 0x1000, 1, 0, 5 },                        /* write without read */
        { 0x1000, 1, 0, 3 },                        /* execute-only without the capability */
        { 0x1000, 1, 2 << 3, 6 << 3 },              /* memory type 2 */
        { 0x1000, 1, 3 << 3, 6 << 3 },              /* memory type 3 */
        { 0x1000, 1, 7 << 3, 6 << 3 },              /* memory type 7 */
        { 0x1000, 1, UINT64_C(1) << 45, 0 },        /* address above MAXPHYADDR 39 */
        { 0x1000, 4, 1 << 3, 0 },                   /* PML4E reserved bit 3 */
        { 0x1000, 4, 1 << 7, 0 },                   /* PML4E bit 7 */
        { 0x1000, 3, 1 << 7, 0 },                   /* PDPTE page size: no 1 GiB pages here */
        { 0x1000, 2, 1 << 6, 0 },                   /* PDE -> PT reserved bit 6 */
        { MIB(2), 2, 1 << 12, 0 },                  /* 2 MiB leaf with bit 12 */
        { MIB(2), 2, 1 << 20, 0 },                  /* ... bit 20 */
        { MIB(2), 2, UINT64_C(1) << 51, 0 },        /* ... bit 51 */
    };
    check_pokes(&cfg_ept_2m, rs, 2, p, sizeof(p) / sizeof(p[0]));
    const struct poke p1g[] = {
        { GIB(1), 3, 1 << 12, 0 },                  /* 1 GiB leaf with bit 12 */
        { GIB(1), 3, 1 << 29, 0 },                  /* ... bit 29 */
        { GIB(1), 3, 0, 1 },                        /* write+execute without read */
    };
    check_pokes(&cfg_ept_full, rs, 3, p1g, 3);

    /* execute-only with the capability walks as X */
    struct tree t;
    struct s2pt_leaf w;
    tree_init(&t, &cfg_ept_full);
    assert_int_equal(s2pt_map(&t.pt, &t.f, &rs[0]), S2PT_OK);
    *entry_ptr(&t, 0x1000, 1, 46) &= ~UINT64_C(3);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x1000, &w), S2PT_OK);
    assert_int_equal(w.perms, GPA_X);
    /* a table entry withholding write limits the leaf below it */
    *entry_ptr(&t, 0x1000, 1, 46) |= 3;
    *entry_ptr(&t, 0x1000, 3, 46) &= ~UINT64_C(2);
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x1000, &w), S2PT_OK);
    assert_int_equal(w.perms, GPA_R | GPA_X);
    *entry_ptr(&t, 0x1000, 3, 46) |= 2;
    /* a table pointer to a page that is not a table page of this tree */
    uint64_t *pml4e = entry_ptr(&t, 0x1000, 4, 46), saved = *pml4e;
    *pml4e = UINT64_C(0x123000) | 7;
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x1000, &w), S2PT_E_CORRUPT);
    assert_int_equal(pool.bad_p2v, 1);
    pool.bad_p2v = 0;
    *pml4e = saved;
    tree_done(&t);
}

static void test_corrupt_npt(void **state)
{
    const struct gpa_range rs[] = {
        { 0x1000, 0x1000, PG, GPA_R | GPA_W, GPA_MT_WB },
        { MIB(2), MIB(2), MIB(2), RWX, GPA_MT_WB },
    };
    const struct poke p[] = {
        { 0x1000, 1, 0, 4 },                        /* PTE without U/S */
        { 0x1000, 3, 0, 4 },                        /* PDPE without U/S */
        { 0x1000, 1, 1 << 4, 0 },                   /* PCD: index 2 is UC- in Moat's PAT */
        { 0x1000, 1, UINT64_C(1) << 41, 0 },        /* address above MAXPHYADDR 40 */
        { 0x1000, 4, 1 << 7, 0 },                   /* PML4E PS */
        { 0x1000, 3, 1 << 7, 0 },                   /* PDPE PS without 1 GiB pages */
        { MIB(2), 2, 1 << 13, 0 },                  /* 2 MiB leaf with bit 13 */
        { MIB(2), 2, 1 << 20, 0 },                  /* ... bit 20 */
    };
    check_pokes(&cfg_npt_2m, rs, 2, p, sizeof(p) / sizeof(p[0]));
    /* NX without host EFER.NXE is a reserved bit */
    const struct gpa_range rx[] = { { 0x1000, 0x1000, PG, RWX, GPA_MT_WB } };
    const struct poke pnx[] = { { 0x1000, 1, UINT64_C(1) << 63, 0 },
                                { 0x1000, 2, UINT64_C(1) << 63, 0 } };
    check_pokes(&cfg_npt_nonx, rx, 1, pnx, 2);

    /* with NXE, NX in a table entry removes execute below it */
    struct tree t;
    struct s2pt_leaf w;
    tree_init(&t, &cfg_npt_full);
    assert_int_equal(s2pt_map(&t.pt, &t.f, &rx[0]), S2PT_OK);
    *entry_ptr(&t, 0x1000, 2, 48) |= UINT64_C(1) << 63;
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x1000, &w), S2PT_OK);
    assert_int_equal(w.perms, GPA_R | GPA_W);
    *entry_ptr(&t, 0x1000, 2, 48) &= ~(UINT64_C(1) << 63);
    /* hardware-set accessed/dirty bits change nothing */
    *entry_ptr(&t, 0x1000, 1, 48) |= 0x60;
    *entry_ptr(&t, 0x1000, 2, 48) |= 0x20;
    assert_int_equal(s2pt_walk(&t.pt, &t.f, 0x1000, &w), S2PT_OK);
    assert_int_equal(w.hpa, 0x1000);
    assert_int_equal(w.perms, RWX);
    assert_int_equal(w.mtype, GPA_MT_WB);
    tree_done(&t);
}

/* ---- page accounting --------------------------------------------------------------------- */

static void test_accounting(void **state)
{
    const struct cfg *cs[] = { &cfg_ept_full, &cfg_npt_full };
    for (unsigned k = 0; k < 2; k++) {
        struct tree t;
        tree_init(&t, cs[k]);
        assert_int_equal(s2pt_table_pages(&t.pt), 1);
        assert_int_equal(pool.allocs, 1);
        assert_int_equal(map(&t, 0, 0, PG, RWX, GPA_MT_WB), S2PT_OK);
        assert_int_equal(s2pt_table_pages(&t.pt), 4);              /* + PDPT, PD, PT */
        assert_int_equal(map(&t, PG, PG, PG, RWX, GPA_MT_WB), S2PT_OK);
        assert_int_equal(s2pt_table_pages(&t.pt), 4);              /* same PT */
        assert_int_equal(map(&t, MIB(2), MIB(2), MIB(2), RWX, GPA_MT_WB), S2PT_OK);
        assert_int_equal(s2pt_table_pages(&t.pt), 4);              /* a PDE leaf */
        assert_int_equal(map(&t, GIB(1), GIB(1), GIB(1), RWX, GPA_MT_WB), S2PT_OK);
        assert_int_equal(s2pt_table_pages(&t.pt), 4);              /* a PDPTE leaf */
        assert_int_equal(map(&t, GIB(512), 0, PG, RWX, GPA_MT_WB), S2PT_OK);
        assert_int_equal(s2pt_table_pages(&t.pt), 7);              /* a new PML4 slot */
        assert_int_equal(map(&t, GIB(2) + MIB(2) - PG, 0, KIB(8), RWX, GPA_MT_WB), S2PT_OK);
        assert_int_equal(s2pt_table_pages(&t.pt), 10);             /* PD + 2 PTs */
        assert_int_equal(pool.outstanding, 10);
        assert_int_equal(pool.allocs, 10);
        tree_done(&t);
        assert_int_equal(pool.frees, 10);
        /* the same pages come back for the next tree */
        tree_init(&t, cs[k]);
        assert_int_equal(pool.allocs, 1);
        tree_done(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ept_literal),
        cmocka_unit_test(test_ept_no_1g),
        cmocka_unit_test(test_eptp),
        cmocka_unit_test(test_ept_format_init),
        cmocka_unit_test(test_npt_literal),
        cmocka_unit_test(test_npt_format_and_ncr3),
        cmocka_unit_test(test_perm_matrix),
        cmocka_unit_test(test_mtype_refused),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_map_all),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_unusable_pages),
        cmocka_unit_test(test_corrupt_ept),
        cmocka_unit_test(test_corrupt_npt),
        cmocka_unit_test(test_accounting),
        cmocka_unit_test(test_random_ept_full),
        cmocka_unit_test(test_random_ept_2m),
        cmocka_unit_test(test_random_ept_4k),
        cmocka_unit_test(test_random_npt_full),
        cmocka_unit_test(test_random_npt_2m),
        cmocka_unit_test(test_random_npt_nonx),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("s2pt: %llu random sets built, %llu pages checked\n", (unsigned long long)sets_built,
           (unsigned long long)pages_checked);
    return failed;
}
