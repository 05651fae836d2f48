// SPDX-License-Identifier: Apache-2.0
// Host unit tests for kernel/pmm.c: memory maps shaped like OVMF's and like an E820 map,
// hostile maps, alignment and limit constraints, exact error codes, table exhaustion, and a
// randomized run checked against an independent per-page bitmap model.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/pmm.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KIB(x) ((uint64_t)(x) << 10)
#define MIB(x) ((uint64_t)(x) << 20)
#define GIB(x) ((uint64_t)(x) << 30)
#define PG PMM_PAGE_SIZE

/* An entry given by its first and last byte, the way firmware dumps print them. */
#define E(first, last, t) { (first), (uint64_t)(last) - (first) + 1, (t), 0 }
#define U BOOT_MEM_USABLE

static struct pmm pa, pb; /* 32 KiB each: kept off the stack */

struct xr {
    uint64_t base, end;
};

static void check_free_ranges(const struct pmm *p, const struct xr *x, uint32_t n)
{
    uint64_t sum = 0;
    assert_int_equal(pmm_free_range_count(p), n);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t b = 0, e = 0;
        assert_true(pmm_free_range(p, i, &b, &e));
        assert_int_equal(b, x[i].base);
        assert_int_equal(e, x[i].end);
        sum += e - b;
    }
    assert_int_equal(pmm_free_bytes(p), sum);
}
#define CHECK_FREE(p, ...)                                             \
    do {                                                               \
        static const struct xr x_[] = { __VA_ARGS__ };                 \
        check_free_ranges((p), x_, ARRAY_SIZE(x_));                    \
    } while (0)

/* The free list of two allocators is identical (entries beyond nfree are not compared). */
static void assert_same_free(const struct pmm *a, const struct pmm *b)
{
    assert_int_equal(a->nfree, b->nfree);
    assert_int_equal(a->free_pages, b->free_pages);
    assert_memory_equal(a->free, b->free, a->nfree * sizeof(a->free[0]));
}

/* ---- maps ------------------------------------------------------------------------------ */

/* OVMF on QEMU q35 with 512 MiB, as the UEFI loader translates it: boot-services and loader
 * memory are usable, runtime services scattered near the top of RAM, ACPI tables and NVS at
 * the top of low memory and OVMF's early NVS at 8 MiB, the kernel and a module LOADED. */
static const struct boot_mem_range ovmf_map[] = {
    E(0x00000000, 0x0009ffff, U),
    E(0x00100000, 0x007fffff, U),
    E(0x00800000, 0x00807fff, BOOT_MEM_ACPI_NVS),
    E(0x00808000, 0x0080afff, U),
    E(0x0080b000, 0x0080bfff, BOOT_MEM_ACPI_NVS),
    E(0x0080c000, 0x0080ffff, U),
    E(0x00810000, 0x008fffff, BOOT_MEM_ACPI_NVS),
    E(0x00900000, 0x00ffffff, U),
    E(0x01000000, 0x010fffff, BOOT_MEM_LOADED),
    E(0x01100000, 0x1e8fffff, U),
    E(0x1e900000, 0x1e901fff, BOOT_MEM_LOADED),
    E(0x1e902000, 0x1edfffff, U),
    E(0x1ee00000, 0x1ee7ffff, BOOT_MEM_FW_RUNTIME),
    E(0x1ee80000, 0x1f1fffff, U),
    E(0x1f200000, 0x1f27ffff, BOOT_MEM_FW_RUNTIME),
    E(0x1f280000, 0x1f8edfff, U),
    E(0x1f8ee000, 0x1f8fffff, BOOT_MEM_RESERVED),
    E(0x1f900000, 0x1fadffff, BOOT_MEM_FW_RUNTIME),
    E(0x1fae0000, 0x1fb7dfff, U),
    E(0x1fb7e000, 0x1fb7efff, BOOT_MEM_ACPI_RECLAIM),
    E(0x1fb7f000, 0x1fbfefff, BOOT_MEM_ACPI_RECLAIM),
    E(0x1fbff000, 0x1fc7ffff, BOOT_MEM_ACPI_NVS),
    E(0x1fc80000, 0x1fefffff, U),
    E(0x1ff00000, 0x1fffffff, BOOT_MEM_FW_RUNTIME),
    E(0xb0000000, 0xbfffffff, BOOT_MEM_RESERVED),
    E(0xffc00000, 0xffffffff, BOOT_MEM_RESERVED),
};

/* The boot_info that goes with ovmf_map: kernel and moat.cfg are LOADED in the map, but the
 * guest image and boot_info itself are not, so only the reserved regions keep them out. */
static struct boot_info ovmf_bi;
#define OVMF_BI_PHYS 0x1e902000ull

static uint32_t ovmf_regions(struct pmm_region *r)
{
    memset(&ovmf_bi, 0, sizeof(ovmf_bi));
    ovmf_bi.kernel_base = 0x1000000;
    ovmf_bi.kernel_size = 0xf8123;
    ovmf_bi.module_count = 2;
    ovmf_bi.modules[0] = (struct boot_module){ 0x1e900000, 0x1234, "moat.cfg" };
    ovmf_bi.modules[1] = (struct boot_module){ 0x1d000000, 0x200001, "guest.bin" };
    return pmm_regions_from_boot_info(&ovmf_bi, OVMF_BI_PHYS, r, PMM_BOOT_REGIONS_MAX);
}

static void init_ovmf(struct pmm *p)
{
    struct pmm_region r[PMM_BOOT_REGIONS_MAX];
    uint32_t n = ovmf_regions(r);
    assert_int_equal(n, 4);
    assert_int_equal(pmm_init(p, ovmf_map, ARRAY_SIZE(ovmf_map), r, n), 0);
}

/* SeaBIOS E820 as GRUB passes it in the Multiboot2 memory-map tag (Multiboot2 spec 3.6.8),
 * q35 with 5 GiB: 2 GiB below the PCI hole, 3 GiB above 4 GiB, an EBDA at 0x9fc00. */
static const struct boot_mem_range e820_map[] = {
    E(0x000000000, 0x00009fbff, U),
    E(0x00009fc00, 0x00009ffff, BOOT_MEM_RESERVED),
    E(0x0000f0000, 0x0000fffff, BOOT_MEM_RESERVED),
    E(0x000100000, 0x07ffdefff, U),
    E(0x07ffdf000, 0x07fffffff, BOOT_MEM_RESERVED),
    E(0x0b0000000, 0x0bfffffff, BOOT_MEM_RESERVED),
    E(0x0fed1c000, 0x0fed1ffff, BOOT_MEM_RESERVED),
    E(0x0feffc000, 0x0feffffff, BOOT_MEM_RESERVED),
    E(0x0fffc0000, 0x0ffffffff, BOOT_MEM_RESERVED),
    E(0x100000000, 0x1bfffffff, U),
};

static void init_e820(struct pmm *p)
{
    static const struct pmm_region kernel = { 0x1000000, 0x123456 };
    assert_int_equal(pmm_init(p, e820_map, ARRAY_SIZE(e820_map), &kernel, 1), 0);
}

/* ---- init -------------------------------------------------------------------------- */

static void test_init_ovmf(void **state)
{
    (void)state;
    init_ovmf(&pa);
    CHECK_FREE(&pa, { 0x1000, 0xa0000 }, { 0x100000, 0x800000 }, { 0x808000, 0x80b000 },
               { 0x80c000, 0x810000 }, { 0x900000, 0x1000000 }, { 0x1100000, 0x1d000000 },
               { 0x1d201000, 0x1e900000 }, { 0x1e906000, 0x1ee00000 },
               { 0x1ee80000, 0x1f200000 }, { 0x1f280000, 0x1f8ee000 },
               { 0x1fae0000, 0x1fb7e000 }, { 0x1fc80000, 0x1ff00000 });
    assert_int_equal(pmm_total_bytes(&pa), 0x1f6ab000);
    assert_int_equal(pmm_free_bytes(&pa), 0x1f6ab000);
    assert_int_equal(pmm_largest_free(&pa), 0x1d000000 - 0x1100000);
    assert_int_equal(pa.init_flags, 0);

    /* No page of any non-usable entry is managed, nor page 0. */
    for (uint32_t i = 0; i < ARRAY_SIZE(ovmf_map); i++) {
        if (ovmf_map[i].type == U)
            continue;
        for (uint64_t a = ovmf_map[i].base; a < ovmf_map[i].base + ovmf_map[i].length; a += PG) {
            assert_false(pmm_is_managed(&pa, a, 1));
            assert_false(pmm_is_free(&pa, a, 1));
        }
    }
    assert_false(pmm_is_managed(&pa, 0, 1));
    assert_true(pmm_is_managed(&pa, 0x1000, 0x9f));
    assert_false(pmm_is_managed(&pa, 0x1000, 0xa0)); /* one page past the range */
}

static void test_init_e820(void **state)
{
    (void)state;
    init_e820(&pa);
    /* Page 0 dropped, the EBDA page 0x9f000 lost (usable ends mid-page), the kernel's
     * 0x123456 bytes rounded out to 0x124000. */
    CHECK_FREE(&pa, { 0x1000, 0x9f000 }, { 0x100000, 0x1000000 }, { 0x1124000, 0x7ffdf000 },
               { 0x100000000, 0x1c0000000 });
    assert_int_equal(pmm_total_bytes(&pa), 0x13fe59000);
    assert_int_equal(pmm_largest_free(&pa), GIB(3));
}

static void test_map_summary(void **state)
{
    uint64_t bytes = 1;
    uint32_t n = 1;
    (void)state;
    pmm_map_summary(ovmf_map, ARRAY_SIZE(ovmf_map), &bytes, &n);
    assert_int_equal(n, 11);
    /* Spelled out: the usable entries of ovmf_map. */
    {
        uint64_t want = 0;
        for (uint32_t i = 0; i < ARRAY_SIZE(ovmf_map); i++)
            if (ovmf_map[i].type == U)
                want += ovmf_map[i].length;
        assert_int_equal(bytes, want);
        assert_int_equal(bytes, 0x1f8b1000); /* = total + page 0 + guest.bin + boot_info */
    }
    pmm_map_summary(e820_map, ARRAY_SIZE(e820_map), &bytes, &n);
    assert_int_equal(n, 3);
    assert_int_equal(bytes, 0x9fc00 + 0x7fedf000 + GIB(3));

    pmm_map_summary(NULL, 5, &bytes, &n);
    assert_int_equal(bytes, 0);
    assert_int_equal(n, 0);
    {
        static const struct boot_mem_range huge[] = {
            { 0, UINT64_MAX / 2 + 1, U, 0 },
            { 0, 0, U, 0 }, /* zero length: not counted */
            { 0, UINT64_MAX / 2 + 1, U, 0 },
            { 0, 4096, BOOT_MEM_RESERVED, 0 },
        };
        pmm_map_summary(huge, ARRAY_SIZE(huge), &bytes, &n);
        assert_int_equal(bytes, UINT64_MAX); /* saturates */
        assert_int_equal(n, 2);
    }
}

static void test_page0_and_unaligned(void **state)
{
    static const struct boot_mem_range m1[] = {
        { 0, 0x3000, U, 0 },
        { 0x11234, 0x5678 - 0x1234, U, 0 }, /* [0x11234, 0x15678) -> [0x12000, 0x15000) */
        /* Two entries meeting mid-page: the shared page is still whole RAM. */
        { 0x20000, 0x800, U, 0 },
        { 0x20800, 0x1800, U, 0 },
    };
    static const struct boot_mem_range m2[] = { { 0x1000, 0x800, U, 0 }, { 0x3800, 0x800, U, 0 } };
    static const struct boot_mem_range m3[] = { { 0, 0x1000, U, 0 } };
    (void)state;

    assert_int_equal(pmm_init(&pa, m1, ARRAY_SIZE(m1), NULL, 0), 0);
    CHECK_FREE(&pa, { 0x1000, 0x3000 }, { 0x12000, 0x15000 }, { 0x20000, 0x22000 });
    assert_int_equal(pmm_alloc(&pa, 1, 0, 0x2000), 0x1000);
    assert_int_equal(pmm_alloc(&pa, 1, 0, 0x2000), PMM_NONE); /* page 0 is never handed out */
    assert_int_equal(pmm_free(&pa, 0, 1), PMM_E_FOREIGN);

    /* Nothing whole left: NOMEM, and the allocator is valid and empty. */
    assert_int_equal(pmm_init(&pa, m2, ARRAY_SIZE(m2), NULL, 0), PMM_E_NOMEM);
    assert_int_equal(pmm_free_bytes(&pa), 0);
    assert_int_equal(pmm_free_range_count(&pa), 0);
    assert_int_equal(pmm_alloc(&pa, 1, 0, 0), PMM_NONE);
    assert_int_equal(pmm_init(&pa, m3, ARRAY_SIZE(m3), NULL, 0), PMM_E_NOMEM);
    assert_int_equal(pmm_init(&pa, m3, 0, NULL, 0), PMM_E_NOMEM);
}

static void test_reserved_regions(void **state)
{
    static const struct boot_mem_range m[] = {
        E(0x100000, 0x1fffff, U),
        E(0x300000, 0x3fffff, U),
        E(0x500000, 0x5fffff, U),
        E(0x700000, 0x7fffff, U),
    };
    static const struct pmm_region r[] = {
        { 0xff000, 0x1001 },      /* over the start of the first range, unaligned */
        { 0x1ff800, 0x101000 },   /* end of the first, the gap, start of the second */
        { 0x150000, 0 },          /* empty: ignored */
        { 0x180000, 0x1 },        /* one byte takes its whole page */
        { 0x4ff000, 0x102000 },   /* swallows the third range whole */
    };
    (void)state;
    assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), r, ARRAY_SIZE(r)), 0);
    CHECK_FREE(&pa, { 0x101000, 0x180000 }, { 0x181000, 0x1ff000 }, { 0x301000, 0x400000 },
               { 0x700000, 0x800000 });
    assert_int_equal(pmm_total_bytes(&pa), 0x7f000 + 0x7e000 + 0xff000 + 0x100000);

    /* A region that wraps past the top: everything from its base up is excluded. */
    {
        static const struct pmm_region w = { 0x380000, UINT64_MAX };
        assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), &w, 1), PMM_INIT_BAD_ENTRY);
        CHECK_FREE(&pa, { 0x100000, 0x200000 }, { 0x300000, 0x380000 });
    }
    /* A NULL region list with a count is rejected. */
    assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), NULL, 1), PMM_E_INVAL);
}

static void test_hostile_maps(void **state)
{
    (void)state;
    assert_int_equal(pmm_init(NULL, ovmf_map, 1, NULL, 0), PMM_E_INVAL);
    assert_int_equal(pmm_init(&pa, NULL, 3, NULL, 0), PMM_E_INVAL);
    assert_int_equal(pmm_free_bytes(&pa), 0);

    /* Unsorted: the same result as sorted, and reported. */
    {
        struct boot_mem_range sh[ARRAY_SIZE(ovmf_map)];
        struct pmm_region r[PMM_BOOT_REGIONS_MAX];
        uint32_t n = ovmf_regions(r), k = ARRAY_SIZE(ovmf_map);
        for (uint32_t i = 0; i < k; i++)
            sh[i] = ovmf_map[(i * 7 + 3) % k]; /* 7 is coprime with 26: a permutation */
        init_ovmf(&pb);
        assert_int_equal(pmm_init(&pa, sh, k, r, n), PMM_INIT_UNSORTED);
        assert_int_equal(pa.init_flags, PMM_INIT_UNSORTED);
        assert_same_free(&pa, &pb);
        assert_int_equal(pmm_total_bytes(&pa), pmm_total_bytes(&pb));
        /* Reversed, too. */
        for (uint32_t i = 0; i < k; i++)
            sh[i] = ovmf_map[k - 1 - i];
        assert_int_equal(pmm_init(&pa, sh, k, r, n), PMM_INIT_UNSORTED);
        assert_same_free(&pa, &pb);
    }
    /* Overlapping usable entries merge; usable overlapping anything else loses. */
    {
        static const struct boot_mem_range m[] = {
            E(0x100000, 0x2fffff, U),
            E(0x200000, 0x3fffff, U),
            E(0x380000, 0x380fff, BOOT_MEM_ACPI_RECLAIM),
            E(0x3ff800, 0x3fffff, BOOT_MEM_BAD),
        };
        assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), NULL, 0), PMM_INIT_OVERLAP);
        CHECK_FREE(&pa, { 0x100000, 0x380000 }, { 0x381000, 0x3ff000 });
    }
    /* Unsorted overlapping usable entries: the overlap is found while merging. */
    {
        static const struct boot_mem_range m[] = {
            E(0x200000, 0x3fffff, U),
            E(0x100000, 0x2fffff, U),
        };
        assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), NULL, 0),
                         PMM_INIT_UNSORTED | PMM_INIT_OVERLAP);
        CHECK_FREE(&pa, { 0x100000, 0x400000 });
    }
    /* A reserved entry listed before (unsorted) and inside a usable one still wins. */
    {
        static const struct boot_mem_range m[] = {
            E(0x280000, 0x281fff, BOOT_MEM_PERSISTENT),
            E(0x200000, 0x200fff, BOOT_MEM_FW_RUNTIME),
            E(0x100000, 0x2fffff, U),
        };
        assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), NULL, 0),
                         PMM_INIT_UNSORTED | PMM_INIT_OVERLAP);
        CHECK_FREE(&pa, { 0x100000, 0x200000 }, { 0x201000, 0x280000 }, { 0x282000, 0x300000 });
    }
    /* Types the kernel does not know are never allocated; zero-length entries ignored. */
    {
        static const struct boot_mem_range m[] = {
            E(0x100000, 0x1fffff, U),
            { 0x140000, 0x1000, 0, 0 },
            { 0x150000, 0x1000, 99, 0 },
            { 0x160000, 0, BOOT_MEM_RESERVED, 0 },
            { 0x170000, 0, U, 0 },
        };
        assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), NULL, 0), PMM_INIT_OVERLAP);
        CHECK_FREE(&pa, { 0x100000, 0x140000 }, { 0x141000, 0x150000 }, { 0x151000, 0x200000 });
    }
    /* Wrapping and beyond-52-bit entries: clipped at PMM_PHYS_LIMIT, flagged. */
    {
        static const struct boot_mem_range m[] = {
            { 0x100000, UINT64_MAX, U, 0 },
            { PMM_PHYS_LIMIT, 0x1000, U, 0 },
        };
        /* The wrapped first entry "ends" below its base: taken as overlapping the next. */
        assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), NULL, 0),
                         PMM_INIT_BAD_ENTRY | PMM_INIT_OVERLAP);
        CHECK_FREE(&pa, { 0x100000, PMM_PHYS_LIMIT });
        assert_int_equal(pmm_alloc(&pa, 1, 0, 0), PMM_PHYS_LIMIT - PG);
    }
    {
        static const struct boot_mem_range m[] = {
            E(0x100000, 0x1fffff, U),
            { 0x180000, UINT64_MAX, BOOT_MEM_RESERVED, 0 },
        };
        assert_int_equal(pmm_init(&pa, m, ARRAY_SIZE(m), NULL, 0),
                         PMM_INIT_BAD_ENTRY | PMM_INIT_OVERLAP);
        CHECK_FREE(&pa, { 0x100000, 0x180000 });
    }
    {
        static const struct boot_mem_range m[] = { { PMM_PHYS_LIMIT + GIB(1), GIB(1), U, 0 } };
        assert_int_equal(pmm_init(&pa, m, 1, NULL, 0), PMM_E_NOMEM);
        assert_int_equal(pa.init_flags, PMM_INIT_BAD_ENTRY);
    }
}

/* More usable ranges than the table holds: the smallest are dropped, and said so. */
static void test_init_truncated(void **state)
{
    enum { N = PMM_MAX_RANGES + 76 };
    static struct boot_mem_range m[N];
    (void)state;
    for (uint32_t i = 0; i < N; i++) {
        m[i].base = MIB(1) * (i + 1);
        m[i].length = i < 76 ? PG : 2 * PG; /* the first 76 are the small ones */
        m[i].type = U;
    }
    assert_int_equal(pmm_init(&pa, m, N, NULL, 0), PMM_INIT_TRUNCATED);
    assert_int_equal(pmm_free_range_count(&pa), PMM_MAX_RANGES);
    assert_int_equal(pmm_total_bytes(&pa), PMM_MAX_RANGES * 2 * PG);
    for (uint32_t i = 0; i < 76; i++)
        assert_false(pmm_is_managed(&pa, m[i].base, 1));
    for (uint32_t i = 76; i < N; i++)
        assert_true(pmm_is_managed(&pa, m[i].base, 2));

    /* Full of 2-page ranges, then 1-page ones arrive: the newcomers are the ones dropped. */
    for (uint32_t i = 0; i < N; i++)
        m[i].length = i < PMM_MAX_RANGES ? 2 * PG : PG;
    assert_int_equal(pmm_init(&pa, m, N, NULL, 0), PMM_INIT_TRUNCATED);
    assert_int_equal(pmm_total_bytes(&pa), PMM_MAX_RANGES * 2 * PG);
    assert_true(pmm_is_managed(&pa, m[0].base, 2));
    assert_false(pmm_is_managed(&pa, m[PMM_MAX_RANGES].base, 1));

    /* A full table and a region in the middle of the biggest range: the larger piece stays. */
    for (uint32_t i = 0; i < PMM_MAX_RANGES; i++) {
        m[i].base = MIB(1) * (i + 1);
        m[i].length = i == 500 ? 100 * PG : PG;
    }
    {
        struct pmm_region r = { m[500].base + 10 * PG, 2 * PG };
        assert_int_equal(pmm_init(&pa, m, PMM_MAX_RANGES, &r, 1), PMM_INIT_TRUNCATED);
        assert_int_equal(pmm_free_range_count(&pa), PMM_MAX_RANGES);
        assert_false(pmm_is_managed(&pa, m[500].base, 1));
        assert_true(pmm_is_managed(&pa, m[500].base + 12 * PG, 88));
        assert_int_equal(pmm_total_bytes(&pa), (PMM_MAX_RANGES - 1 + 88) * PG);
    }
}

/* ---- allocation ---------------------------------------------------------------------- */

static void test_alloc_policy_e820(void **state)
{
    (void)state;
    init_e820(&pa);
    /* Highest fit: the top page of RAM. */
    assert_int_equal(pmm_alloc(&pa, 1, 0, PMM_NO_LIMIT), 0x1bffff000);
    /* Below 1 MiB: the trampoline page, the highest one under the EBDA. */
    assert_int_equal(pmm_alloc(&pa, 1, PG, PMM_BELOW_1M), 0x9e000);
    /* Below 4 GiB. */
    assert_int_equal(pmm_alloc(&pa, 1, PG, PMM_BELOW_4G), 0x7ffde000);
    /* max_end need not be aligned: the run must end at or below it. */
    assert_int_equal(pmm_alloc(&pa, 1, 0, 0x9e800), 0x9d000);
    assert_int_equal(pmm_alloc(&pa, 2, 0, 0x9d000 + 1), 0x9b000);
    /* 2 MiB aligned 2 MiB below the top page. */
    assert_int_equal(pmm_alloc(&pa, 512, MIB(2), UINT64_MAX), 0x1bfc00000);
    /* 1 GiB aligned GiBs: two fit above 4 GiB, none below. */
    assert_int_equal(pmm_alloc(&pa, GIB(1) / PG, GIB(1), 0), 0x140000000);
    assert_int_equal(pmm_alloc(&pa, GIB(1) / PG, GIB(1), 0), 0x100000000);
    assert_int_equal(pmm_alloc(&pa, GIB(1) / PG, GIB(1), 0), PMM_NONE);
    /* ... but unaligned a GiB still fits below 4 GiB. */
    assert_int_equal(pmm_alloc(&pa, GIB(1) / PG, 0, 0), 0x7ffde000 - GIB(1));
    /* Nothing 2 MiB aligned below 1 MiB. */
    assert_int_equal(pmm_alloc(&pa, 1, MIB(2), PMM_BELOW_1M), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, 1, 0, PG), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, 1, 0, 1), PMM_NONE);
    CHECK_FREE(&pa, { 0x1000, 0x9b000 }, { 0x100000, 0x1000000 }, { 0x1124000, 0x3ffde000 },
               { 0x180000000, 0x1bfc00000 }, { 0x1bfe00000, 0x1bffff000 });
}

static void test_alloc_invalid(void **state)
{
    (void)state;
    init_e820(&pa);
    memcpy(&pb, &pa, sizeof(pa));
    assert_int_equal(pmm_alloc(&pa, 0, 0, 0), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, 1, 3, 0), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, 1, 2048, 0), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, 1, 0x3000, 0), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, 1, (1ull << 63) + PG, 0), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, UINT64_MAX, 0, 0), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, (PMM_PHYS_LIMIT >> 12) + 1, 0, 0), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, pmm_free_bytes(&pa) / PG + 1, 0, 0), PMM_NONE);
    assert_int_equal(pmm_alloc(&pa, GIB(3) / PG + 1, 0, 0), PMM_NONE); /* > largest run */
    assert_int_equal(pmm_alloc(&pa, 1, 1ull << 63, 0), PMM_NONE);      /* only 0 is aligned */
    assert_int_equal(pmm_alloc(NULL, 1, 0, 0), PMM_NONE);
    assert_memory_equal(&pa, &pb, sizeof(pa));
    /* The largest run exactly fits. */
    assert_int_equal(pmm_alloc(&pa, GIB(3) / PG, 0, 0), GIB(4));
}

/* Big allocations go high and leave the low megabyte and 4 GiB zone for those who need it. */
static void test_alloc_keeps_low_memory(void **state)
{
    uint64_t a;
    uint32_t n = 0;
    (void)state;
    init_e820(&pa);
    while ((a = pmm_alloc(&pa, 512, MIB(2), 0)) != PMM_NONE) {
        if (n < GIB(3) / MIB(2))
            assert_true(a >= GIB(4)); /* the zone above 4 GiB is used up first */
        assert_true(a >= MIB(1));
        assert_int_equal(a & (MIB(2) - 1), 0);
        n++;
    }
    assert_int_equal(n, GIB(3) / MIB(2) + (0x7fe00000 - 0x1200000) / MIB(2) + 7);
    assert_true(pmm_is_free(&pa, 0x1000, 0x9e));
    assert_int_equal(pmm_alloc(&pa, 1, 0, PMM_BELOW_1M), 0x9e000);
}

static void test_exhaustion_ovmf(void **state)
{
    uint64_t a, got = 0;
    (void)state;
    init_ovmf(&pa);
    /* Everything, in big then small pieces; no piece touches a forbidden byte. */
    for (uint64_t sz = 4096; sz; sz /= 4) {
        while ((a = pmm_alloc(&pa, sz, 0, 0)) != PMM_NONE) {
            uint64_t end = a + sz * PG;
            for (uint32_t i = 0; i < ARRAY_SIZE(ovmf_map); i++) {
                const struct boot_mem_range *m = &ovmf_map[i];
                if (m->type != U)
                    assert_false(a < m->base + m->length && m->base < end);
            }
            for (uint32_t i = 0; i < ovmf_bi.module_count; i++) {
                const struct boot_module *m = &ovmf_bi.modules[i];
                assert_false(a < m->base + m->size && m->base < end);
            }
            assert_false(a < OVMF_BI_PHYS + sizeof(struct boot_info) && OVMF_BI_PHYS < end);
            assert_false(a < 0x1000000 + 0xf8123 && 0x1000000 < end);
            assert_true(a >= PG);
            got += sz * PG;
        }
    }
    assert_int_equal(got, 0x1f6ab000);
    assert_int_equal(pmm_free_bytes(&pa), 0);
    assert_int_equal(pmm_free_range_count(&pa), 0);
    assert_int_equal(pmm_largest_free(&pa), 0);
    assert_int_equal(pmm_alloc(&pa, 1, 0, 0), PMM_NONE);
    assert_int_equal(pmm_total_bytes(&pa), 0x1f6ab000);
}

static void test_round_trip(void **state)
{
    struct {
        uint64_t a, n;
    } rec[64];
    uint32_t k = 0;
    (void)state;
    init_ovmf(&pa);
    memcpy(&pb, &pa, sizeof(pa));

    rec[k].n = 1, rec[k].a = pmm_alloc(&pa, 1, 0, PMM_BELOW_1M), k++;
    rec[k].n = 16, rec[k].a = pmm_alloc(&pa, 16, 0, 0), k++;
    rec[k].n = 512, rec[k].a = pmm_alloc(&pa, 512, MIB(2), 0), k++;
    rec[k].n = 3, rec[k].a = pmm_alloc(&pa, 3, MIB(2), PMM_BELOW_4G), k++;
    rec[k].n = 7, rec[k].a = pmm_alloc(&pa, 7, KIB(64), MIB(9)), k++;
    rec[k].n = 65536, rec[k].a = pmm_alloc(&pa, 65536, MIB(4), 0), k++;
    for (uint32_t i = 0; i < k; i++)
        assert_int_not_equal(rec[i].a, PMM_NONE);
    assert_int_equal(rec[0].a, 0x9f000);
    assert_int_equal(rec[1].a, 0x1fef0000);
    /* The top range [0x1fc80000, 0x1fef0000) holds no aligned 2 MiB, [0x1fae0000, ..) is too
     * small: the next one down. */
    assert_int_equal(rec[2].a, 0x1f600000);
    assert_int_equal(rec[3].a, 0x1fe00000);
    assert_int_equal(rec[4].a, 0x7f0000);
    assert_int_equal(pmm_free_bytes(&pa), pmm_total_bytes(&pa) - (1 + 16 + 512 + 3 + 7 + 65536) * PG);

    /* Free in an order different from allocation; a run may be freed in pieces. */
    assert_int_equal(pmm_free(&pa, rec[2].a, 100), 0);
    assert_int_equal(pmm_free(&pa, rec[2].a + 100 * PG, 412), 0);
    assert_int_equal(pmm_free(&pa, rec[5].a, 65536), 0);
    assert_int_equal(pmm_free(&pa, rec[0].a, 1), 0);
    assert_int_equal(pmm_free(&pa, rec[4].a + 3 * PG, 4), 0);
    assert_int_equal(pmm_free(&pa, rec[4].a, 3), 0);
    assert_int_equal(pmm_free(&pa, rec[3].a, 3), 0);
    assert_int_equal(pmm_free(&pa, rec[1].a, 16), 0);
    assert_same_free(&pa, &pb);
    assert_int_equal(pmm_free_bytes(&pa), pmm_total_bytes(&pa));

    /* Two neighbouring allocations freed as one run. */
    {
        uint64_t x = pmm_alloc(&pa, 4, 0, 0), y = pmm_alloc(&pa, 4, 0, 0);
        assert_int_equal(x, y + 4 * PG);
        assert_int_equal(pmm_free(&pa, y, 8), 0);
        assert_same_free(&pa, &pb);
    }
}

static void test_bad_free(void **state)
{
    uint64_t a;
    (void)state;
    init_ovmf(&pa);
    a = pmm_alloc(&pa, 8, 0, 0);
    assert_int_equal(a, 0x1fef8000);
    assert_int_equal(pmm_free(&pa, a, 2), 0); /* [a, a+2) free, [a+2, a+8) allocated */
    memcpy(&pb, &pa, sizeof(pa));

    assert_int_equal(pmm_free(&pa, a, 2), PMM_E_DOUBLE);
    assert_int_equal(pmm_free(&pa, a + PG, 2), PMM_E_DOUBLE);           /* straddles */
    assert_int_equal(pmm_free(&pa, 0x100000, 1), PMM_E_DOUBLE);         /* never allocated */
    assert_int_equal(pmm_free(&pa, 0, 1), PMM_E_FOREIGN);                /* page 0 */
    assert_int_equal(pmm_free(&pa, 0x800000, 1), PMM_E_FOREIGN);         /* ACPI NVS */
    assert_int_equal(pmm_free(&pa, 0x1000000, 1), PMM_E_FOREIGN);        /* kernel */
    assert_int_equal(pmm_free(&pa, 0x1d000000, 1), PMM_E_FOREIGN);       /* module */
    assert_int_equal(pmm_free(&pa, OVMF_BI_PHYS, 1), PMM_E_FOREIGN);     /* boot_info */
    assert_int_equal(pmm_free(&pa, 0x1ff00000, 1), PMM_E_FOREIGN);       /* runtime data */
    assert_int_equal(pmm_free(&pa, 0x1fefe000, 3), PMM_E_FOREIGN);       /* runs off the end */
    assert_int_equal(pmm_free(&pa, 0xfffff000, 1), PMM_E_FOREIGN);
    assert_int_equal(pmm_free(&pa, GIB(64), 1), PMM_E_FOREIGN);          /* no RAM there */
    assert_int_equal(pmm_free(&pa, a + 0x800, 1), PMM_E_ALIGN);
    assert_int_equal(pmm_free(&pa, 1, 1), PMM_E_ALIGN);
    assert_int_equal(pmm_free(&pa, a + 2 * PG, 0), PMM_E_INVAL);
    assert_int_equal(pmm_free(&pa, PMM_PHYS_LIMIT, 1), PMM_E_INVAL);
    assert_int_equal(pmm_free(&pa, 0xfffff000, UINT64_MAX), PMM_E_INVAL);
    assert_int_equal(pmm_free(&pa, UINT64_MAX & ~PMM_PAGE_MASK, 1), PMM_E_INVAL);
    assert_int_equal(pmm_free(NULL, a, 1), PMM_E_INVAL);
    assert_memory_equal(&pa, &pb, sizeof(pa)); /* nothing changed */

    assert_int_equal(pmm_free(&pa, a + 2 * PG, 6), 0);
    assert_int_equal(pmm_free_bytes(&pa), pmm_total_bytes(&pa));
}

static void test_reserve(void **state)
{
    (void)state;
    init_e820(&pa);
    memcpy(&pb, &pa, sizeof(pa));

    /* A fixed 512 MiB partition at 1 GiB, in the middle of low RAM: the range splits. */
    assert_int_equal(pmm_reserve(&pa, GIB(1), MIB(512) / PG), 0);
    CHECK_FREE(&pa, { 0x1000, 0x9f000 }, { 0x100000, 0x1000000 }, { 0x1124000, GIB(1) },
               { 0x60000000, 0x7ffdf000 }, { 0x100000000, 0x1c0000000 });
    assert_false(pmm_is_free(&pa, GIB(1), 1));
    assert_true(pmm_is_managed(&pa, GIB(1), 1));
    memcpy(&pb, &pa, sizeof(pa));
    assert_int_equal(pmm_reserve(&pa, GIB(1), 1), PMM_E_BUSY);
    assert_int_equal(pmm_reserve(&pa, GIB(1) - PG, 2), PMM_E_BUSY);      /* half free */
    assert_int_equal(pmm_reserve(&pa, 0x7ffde000, 2), PMM_E_FOREIGN);    /* into reserved */
    assert_int_equal(pmm_reserve(&pa, 0x1000000, 1), PMM_E_FOREIGN);     /* kernel */
    assert_int_equal(pmm_reserve(&pa, 0, 1), PMM_E_FOREIGN);
    assert_int_equal(pmm_reserve(&pa, 0x9f000, 1), PMM_E_FOREIGN);       /* EBDA page */
    assert_int_equal(pmm_reserve(&pa, 0x60000000 + 0x10, 1), PMM_E_ALIGN);
    assert_int_equal(pmm_reserve(&pa, 0x60000000, 0), PMM_E_INVAL);
    assert_int_equal(pmm_reserve(&pa, 0x60000000, UINT64_MAX), PMM_E_INVAL);
    assert_int_equal(pmm_reserve(&pa, GIB(64), 1), PMM_E_FOREIGN);
    assert_int_equal(pmm_reserve(NULL, 0x60000000, 1), PMM_E_INVAL);
    assert_memory_equal(&pa, &pb, sizeof(pa));

    /* Edges of ranges: no split. */
    assert_int_equal(pmm_reserve(&pa, 0x1000, 1), 0);
    assert_int_equal(pmm_reserve(&pa, 0x1bffff000, 1), 0);
    assert_int_equal(pmm_reserve(&pa, 0x100000, 0xf00), 0); /* a whole range */
    CHECK_FREE(&pa, { 0x2000, 0x9f000 }, { 0x1124000, GIB(1) }, { 0x60000000, 0x7ffdf000 },
               { 0x100000000, 0x1bffff000 });
    assert_int_equal(pmm_free(&pa, 0x100000, 0xf00), 0);
    assert_int_equal(pmm_free(&pa, 0x1000, 1), 0);
    assert_int_equal(pmm_free(&pa, 0x1bffff000, 1), 0);
    assert_int_equal(pmm_free(&pa, GIB(1), MIB(512) / PG), 0);
    init_e820(&pb);
    assert_same_free(&pa, &pb);
}

/* Fill the free table to PMM_MAX_RANGES and check every operation that needs a slot. */
static void test_fragmentation_capacity(void **state)
{
    static const struct boot_mem_range m[] = { { MIB(16), MIB(16), U, 0 } };
    const uint64_t base = MIB(16), npages = MIB(16) / PG;
    uint64_t a;
    (void)state;
    assert_int_equal(pmm_init(&pa, m, 1, NULL, 0), 0);
    for (uint64_t i = 0; i < npages; i++)
        assert_int_equal(pmm_alloc(&pa, 1, 0, 0), base + (npages - 1 - i) * PG);
    assert_int_equal(pmm_alloc(&pa, 1, 0, 0), PMM_NONE);
    /* Every third page freed: 1024 isolated ranges. */
    for (uint64_t k = 0; k < PMM_MAX_RANGES; k++)
        assert_int_equal(pmm_free(&pa, base + 3 * k * PG, 1), 0);
    assert_int_equal(pmm_free_range_count(&pa), PMM_MAX_RANGES);

    memcpy(&pb, &pa, sizeof(pa));
    /* Isolated page: needs a slot. Fails loudly, changes nothing. */
    assert_int_equal(pmm_free(&pa, base + 3071 * PG, 1), PMM_E_FULL);
    assert_memory_equal(&pa, &pb, sizeof(pa));
    /* Touching one neighbour: no new slot. Touching two: one slot less. */
    assert_int_equal(pmm_free(&pa, base + 1 * PG, 1), 0);
    assert_int_equal(pmm_free_range_count(&pa), PMM_MAX_RANGES);
    assert_int_equal(pmm_free(&pa, base + 2 * PG, 1), 0);
    assert_int_equal(pmm_free_range_count(&pa), PMM_MAX_RANGES - 1);
    assert_int_equal(pmm_free(&pa, base + 3071 * PG, 1), 0);
    assert_int_equal(pmm_free_range_count(&pa), PMM_MAX_RANGES);
    /* Now free[0] = [base, base + 4 pages). The highest fit below base+2 pages would split
     * it; with a full table the low edge is taken instead. */
    a = pmm_alloc(&pa, 1, 0, base + 2 * PG);
    assert_int_equal(a, base);
    assert_int_equal(pmm_free_range_count(&pa), PMM_MAX_RANGES);
    /* free[0] = [base+1, base+4): an aligned placement needing a split has no fallback. */
    memcpy(&pb, &pa, sizeof(pa));
    assert_int_equal(pmm_alloc(&pa, 1, 2 * PG, base + 3 * PG), PMM_NONE);
    assert_int_equal(pmm_reserve(&pa, base + 2 * PG, 1), PMM_E_FULL);
    assert_memory_equal(&pa, &pb, sizeof(pa));
    assert_int_equal(pmm_reserve(&pa, base + 1 * PG, 1), 0);
    /* Freeing the allocated pages back restores one range. Free now: pages 2-3, 3k for
     * k = 2..1023, and 3071. */
    assert_int_equal(pmm_free(&pa, base, 2), 0);
    for (uint64_t k = 2; k < PMM_MAX_RANGES; k++)
        assert_int_equal(pmm_free(&pa, base + (3 * k - 2) * PG, 2), 0);
    assert_int_equal(pmm_free(&pa, base + 3070 * PG, 1), 0);
    assert_int_equal(pmm_free(&pa, base + 3072 * PG, npages - 3072), 0);
    CHECK_FREE(&pa, { base, base + MIB(16) });
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(pmm_strerror(PMM_OK), "success");
    assert_string_equal(pmm_strerror(PMM_E_INVAL), "invalid argument");
    assert_string_equal(pmm_strerror(PMM_E_ALIGN), "address not page-aligned");
    assert_string_equal(pmm_strerror(PMM_E_FULL), "range table full");
    assert_string_equal(pmm_strerror(PMM_E_DOUBLE), "page already free (double free)");
    assert_string_equal(pmm_strerror(PMM_E_FOREIGN), "page not managed by the allocator");
    assert_string_equal(pmm_strerror(PMM_E_BUSY), "page not free");
    assert_string_equal(pmm_strerror(PMM_E_NOMEM), "no usable memory");
    assert_string_equal(pmm_strerror(PMM_INIT_UNSORTED), "memory map repaired: entries not sorted");
    assert_string_equal(pmm_strerror(PMM_INIT_OVERLAP), "memory map repaired: overlapping entries");
    assert_string_equal(pmm_strerror(PMM_INIT_BAD_ENTRY),
                        "memory map repaired: entry wraps or exceeds 52 bits");
    assert_string_equal(pmm_strerror(PMM_INIT_TRUNCATED),
                        "memory map repaired: too many ranges, smallest dropped");
    assert_string_equal(pmm_strerror(PMM_INIT_UNSORTED | PMM_INIT_OVERLAP),
                        "memory map repaired: several problems");
    assert_string_equal(pmm_strerror(-8), "unknown error");
    assert_string_equal(pmm_strerror(16), "unknown error");
    assert_string_equal(pmm_strerror(INT32_MIN), "unknown error");
}

static void test_regions_from_boot_info(void **state)
{
    struct pmm_region r[PMM_BOOT_REGIONS_MAX + 4];
    (void)state;
    assert_int_equal(ovmf_regions(r), 4);
    assert_int_equal(r[0].base, 0x1000000);
    assert_int_equal(r[0].size, 0xf8123);
    assert_int_equal(r[1].base, 0x1e900000);
    assert_int_equal(r[1].size, 0x1234);
    assert_int_equal(r[2].base, 0x1d000000);
    assert_int_equal(r[2].size, 0x200001);
    assert_int_equal(r[3].base, OVMF_BI_PHYS);
    assert_int_equal(r[3].size, sizeof(struct boot_info));

    /* A hostile module count is clamped; zero-sized modules and kernel are skipped. */
    memset(&ovmf_bi, 0, sizeof(ovmf_bi));
    ovmf_bi.module_count = 0xffffffff;
    for (uint32_t i = 0; i < BOOT_MODULES_MAX; i++)
        ovmf_bi.modules[i] = (struct boot_module){ MIB(100) + i * MIB(1), i % 2 ? PG : 0, "m" };
    assert_int_equal(pmm_regions_from_boot_info(&ovmf_bi, 0x5000, r, ARRAY_SIZE(r)),
                     BOOT_MODULES_MAX / 2 + 1);
    assert_int_equal(r[0].base, MIB(101));
    assert_int_equal(r[BOOT_MODULES_MAX / 2 - 1].base, MIB(100) + (BOOT_MODULES_MAX - 1) * MIB(1));
    assert_int_equal(r[BOOT_MODULES_MAX / 2].base, 0x5000);
    /* The output array bounds the count. */
    assert_int_equal(pmm_regions_from_boot_info(&ovmf_bi, 0x5000, r, 3), 3);
    assert_int_equal(r[2].base, MIB(105));
    assert_int_equal(pmm_regions_from_boot_info(&ovmf_bi, 0x5000, r, 0), 0);
    assert_int_equal(pmm_regions_from_boot_info(NULL, 0x5000, r, 3), 0);
    assert_int_equal(pmm_regions_from_boot_info(&ovmf_bi, 0x5000, NULL, 3), 0);
}

/* ---- randomized, against a per-page bitmap model -------------------------------------- */

#define M_PAGES  16384u                 /* 64 MiB of physical address space */
#define M_UNIT   256u                   /* map edges fall on 256-byte boundaries */
#define M_UNITS  (M_PAGES * (PG / M_UNIT))
#define M_LIVE   40000u

enum { M_NOT_MANAGED = 0, M_FREE = 1, M_USED = 2 };

struct model {
    uint8_t page[M_PAGES];
    uint32_t run[M_PAGES + 1]; /* free pages starting at i */
    uint64_t nfree;
    struct {
        uint32_t base, n;
    } live[M_LIVE];
    uint32_t nlive;
};
static struct model md;
static uint8_t m_usable[M_UNITS], m_other[M_UNITS];

static uint64_t rng_state;
static uint64_t rnd(void)
{
    /* xorshift64*: a fixed seed gives the same run everywhere. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}
static uint64_t rnd_below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static void mark(uint8_t *units, uint64_t base, uint64_t len)
{
    for (uint64_t u = base / M_UNIT; u < (base + len + M_UNIT - 1) / M_UNIT && u < M_UNITS; u++)
        units[u] = 1;
}

/* Count the model's maximal free runs; also fills run[]. */
static uint32_t model_runs(void)
{
    uint32_t runs = 0;
    md.run[M_PAGES] = 0;
    for (uint32_t i = M_PAGES; i-- > 0;)
        md.run[i] = md.page[i] == M_FREE ? md.run[i + 1] + 1 : 0;
    for (uint32_t i = 0; i < M_PAGES; i++)
        if (md.page[i] == M_FREE && (i == 0 || md.page[i - 1] != M_FREE))
            runs++;
    return runs;
}

/* The allocator's free list is exactly the model's maximal runs. */
static void model_compare(const struct pmm *p)
{
    uint32_t k = 0;
    uint64_t largest = 0;
    assert_int_equal(pmm_free_bytes(p), md.nfree * PG);
    for (uint32_t i = 0; i < M_PAGES; i++) {
        uint64_t b, e;
        if (md.page[i] != M_FREE || (i && md.page[i - 1] == M_FREE))
            continue;
        assert_true(pmm_free_range(p, k, &b, &e));
        assert_int_equal(b, (uint64_t)i * PG);
        assert_int_equal(e, ((uint64_t)i + md.run[i]) * PG);
        if (md.run[i] > largest)
            largest = md.run[i];
        k++;
    }
    assert_int_equal(pmm_free_range_count(p), k);
    assert_int_equal(pmm_largest_free(p), largest * PG);
}

static void model_take(uint64_t b, uint64_t n)
{
    for (uint64_t i = b; i < b + n; i++) {
        assert_int_equal(md.page[i], M_FREE);
        md.page[i] = M_USED;
    }
    md.nfree -= n;
    assert_true(md.nlive < M_LIVE);
    md.live[md.nlive].base = (uint32_t)b;
    md.live[md.nlive].n = (uint32_t)n;
    md.nlive++;
}

/* Highest aligned run of n free pages ending at or below limit (pages); -1 if none. */
static int64_t model_best(uint64_t n, uint64_t ap, uint64_t limit)
{
    if (limit > M_PAGES)
        limit = M_PAGES;
    if (n > limit)
        return -1;
    for (int64_t b = (int64_t)((limit - n) & ~(ap - 1)); b >= 0; b -= (int64_t)ap)
        if (md.run[b] >= n)
            return b;
    return -1;
}

/* With a full table, pmm_alloc's documented fallback: top-down over the free runs, the
 * highest aligned fit unless that splits the run, then the run's low edge if it is aligned
 * and fits. */
static int64_t model_full_table(uint64_t n, uint64_t ap, uint64_t limit)
{
    for (int64_t e = M_PAGES; e > 0; e--) {
        uint64_t rb, re = (uint64_t)e, top, b;
        if (md.page[e - 1] != M_FREE || (e < (int64_t)M_PAGES && md.page[e] == M_FREE))
            continue;
        rb = re;
        while (rb > 0 && md.page[rb - 1] == M_FREE)
            rb--;
        top = re < limit ? re : limit;
        if (top <= rb || top - rb < n)
            continue;
        b = (top - n) & ~(ap - 1);
        if (b < rb)
            continue;
        if (b > rb && b + n < re) {
            b = rb;
            if ((b & (ap - 1)) || b + n > top)
                continue;
        }
        return (int64_t)b;
    }
    return -1;
}

/* Random map over M_PAGES pages: segments of random type with 256-byte-granular edges, some
 * extra overlapping entries, reserved regions; optionally shuffled. */
static uint32_t random_map(struct boot_mem_range *m, uint32_t max, struct pmm_region *r,
                           uint32_t *nr, bool messy)
{
    uint32_t n = 0;
    uint64_t at = 0;
    while (at < (uint64_t)M_PAGES * PG && n < max) {
        uint64_t len = rnd_below(4) ? (1 + rnd_below(96)) * PG : (1 + rnd_below(4096)) * M_UNIT;
        uint32_t t = rnd_below(10) < 7 ? U : 2 + (uint32_t)rnd_below(7);
        if (at + len > (uint64_t)M_PAGES * PG)
            len = (uint64_t)M_PAGES * PG - at;
        m[n++] = (struct boot_mem_range){ at, len, t, 0 };
        at += len;
        if (rnd_below(3) == 0)
            at += rnd_below(16) * M_UNIT; /* a hole */
    }
    if (messy) {
        for (uint32_t k = 0; k < 20 && n < max; k++) {
            uint64_t b = rnd_below(M_UNITS) * M_UNIT;
            uint64_t len = (1 + rnd_below(64)) * M_UNIT;
            if (b + len > (uint64_t)M_PAGES * PG)
                len = (uint64_t)M_PAGES * PG - b;
            m[n++] = (struct boot_mem_range){ b, len, rnd_below(2) ? U : BOOT_MEM_ACPI_NVS, 0 };
        }
        for (uint32_t i = n; i > 1; i--) {
            uint32_t j = (uint32_t)rnd_below(i);
            struct boot_mem_range tmp = m[i - 1];
            m[i - 1] = m[j];
            m[j] = tmp;
        }
    }
    *nr = (uint32_t)rnd_below(6);
    for (uint32_t i = 0; i < *nr; i++)
        r[i] = (struct pmm_region){ rnd_below(M_UNITS) * M_UNIT,
                                    (rnd_below(3) ? 1 : 0) * (1 + rnd_below(200)) * M_UNIT };
    return n;
}

static void model_init(const struct boot_mem_range *m, uint32_t n, const struct pmm_region *r,
                       uint32_t nr)
{
    memset(&md, 0, sizeof(md));
    memset(m_usable, 0, sizeof(m_usable));
    memset(m_other, 0, sizeof(m_other));
    for (uint32_t i = 0; i < n; i++)
        mark(m[i].type == U ? m_usable : m_other, m[i].base, m[i].length);
    for (uint32_t i = 0; i < nr; i++)
        mark(m_other, r[i].base, r[i].size);
    for (uint32_t pg = 1; pg < M_PAGES; pg++) {
        bool ok = true;
        for (uint32_t u = pg * (PG / M_UNIT); u < (pg + 1) * (PG / M_UNIT); u++)
            ok = ok && m_usable[u] && !m_other[u];
        if (ok) {
            md.page[pg] = M_FREE;
            md.nfree++;
        }
    }
}

/* Expected result of freeing or reserving [b, b+n) (pages), from the model alone. */
static int model_expect(uint64_t b, uint64_t n, bool is_free, uint32_t runs)
{
    bool any_free = false, any_used = false;
    for (uint64_t i = b; i < b + n; i++) {
        if (i >= M_PAGES || md.page[i] == M_NOT_MANAGED)
            return PMM_E_FOREIGN;
        any_free |= md.page[i] == M_FREE;
        any_used |= md.page[i] == M_USED;
    }
    if (is_free) {
        bool left = b > 0 && md.page[b - 1] == M_FREE;
        bool right = b + n < M_PAGES && md.page[b + n] == M_FREE;
        if (any_free)
            return PMM_E_DOUBLE;
        if (!left && !right && runs == PMM_MAX_RANGES)
            return PMM_E_FULL;
        return 0;
    }
    if (any_used)
        return PMM_E_BUSY;
    if (md.page[b - 1] == M_FREE && b + n < M_PAGES && md.page[b + n] == M_FREE &&
        runs == PMM_MAX_RANGES)
        return PMM_E_FULL;
    return 0;
}

static void random_run(uint64_t seed, uint32_t ops, bool messy, bool scatter)
{
    static struct boot_mem_range m[600];
    static struct pmm_region r[8];
    uint32_t n, nr, runs, max_runs = 0, fallbacks = 0, fulls = 0, nallocs = 0;
    int rc, rc_init;

    rng_state = seed;
    n = random_map(m, ARRAY_SIZE(m), r, &nr, messy);
    model_init(m, n, r, nr);
    rc = rc_init = pmm_init(&pa, m, n, r, nr);
    assert_true(rc >= 0);
    assert_int_equal((uint32_t)rc & ~PMM_INIT_ALL_WARNINGS, 0);
    if (!messy)
        assert_int_equal(rc, 0);
    assert_int_equal(pmm_total_bytes(&pa), md.nfree * PG);
    runs = model_runs();
    model_compare(&pa);
    memcpy(&pb, &pa, sizeof(pa));

    for (uint32_t op = 0; op < ops; op++) {
        uint64_t x = rnd_below(100);
        if (x < (scatter ? 70u : 45u)) {
            /* alloc */
            uint64_t np = scatter ? 1 : rnd_below(2) ? 1 : 1 + rnd_below(rnd_below(8) ? 32 : 2048);
            uint64_t sh = rnd_below(4) ? 0 : rnd_below(12);
            uint64_t align = rnd_below(50) ? PG << sh : GIB(1);
            uint64_t max_end, limit, a;
            int64_t want;
            switch (scatter ? 3 : rnd_below(5)) {
            case 0: max_end = 0; break;
            case 1: max_end = UINT64_MAX; break;
            case 2: max_end = PMM_BELOW_1M; break;
            default: max_end = rnd_below((uint64_t)M_PAGES * PG + MIB(4)); break;
            }
            limit = (max_end == 0 || max_end == UINT64_MAX) ? UINT64_MAX / PG : max_end / PG;
            want = model_best(np, align / PG, limit);
            a = pmm_alloc(&pa, np, align, max_end);
            if (want < 0) {
                assert_int_equal(a, PMM_NONE);
            } else if (runs < PMM_MAX_RANGES) {
                assert_int_equal(a, (uint64_t)want * PG); /* exactly the highest fit */
            } else {
                /* Full table: the low-edge fallback may pick a lower run, or none. */
                int64_t fb = model_full_table(np, align / PG, limit);
                assert_int_equal(a, fb < 0 ? PMM_NONE : (uint64_t)fb * PG);
                if (a != (uint64_t)want * PG)
                    fallbacks++;
            }
            if (a != PMM_NONE) {
                assert_int_equal(a & (align - 1), 0);
                if (max_end && max_end != UINT64_MAX)
                    assert_true(a + np * PG <= max_end);
                model_take(a / PG, np); /* asserts every page was free (hence managed) */
                nallocs++;
            }
        } else if (x < 85 && md.nlive) {
            /* free all or part of a live allocation */
            uint32_t i = (uint32_t)rnd_below(md.nlive);
            uint32_t lb = md.live[i].base, ln = md.live[i].n;
            uint32_t off = rnd_below(3) ? 0 : (uint32_t)rnd_below(ln);
            uint32_t cnt = off ? 1 + (uint32_t)rnd_below(ln - off) : ln;
            int want = model_expect(lb + off, cnt, true, runs);
            if (want)
                memcpy(&pb, &pa, sizeof(pa));
            assert_int_equal(pmm_free(&pa, (uint64_t)(lb + off) * PG, cnt), want);
            if (want) {
                assert_int_equal(want, PMM_E_FULL);
                assert_memory_equal(&pa, &pb, sizeof(pa));
                fulls++;
            } else {
                for (uint32_t k = lb + off; k < lb + off + cnt; k++)
                    md.page[k] = M_FREE;
                md.nfree += cnt;
                md.live[i] = md.live[--md.nlive];
                if (off)
                    md.live[md.nlive].base = lb, md.live[md.nlive].n = off, md.nlive++;
                if (off + cnt < ln)
                    md.live[md.nlive].base = lb + off + cnt,
                    md.live[md.nlive].n = ln - off - cnt, md.nlive++;
            }
        } else if (x < 92) {
            /* hostile free: random run, unless it is a valid free of allocated pages */
            uint64_t b = rnd_below(M_PAGES + 64), cnt = 1 + rnd_below(8);
            uint64_t addr = b * PG + (rnd_below(8) ? 0 : 1 + rnd_below(PG - 1));
            int want = addr & PMM_PAGE_MASK ? PMM_E_ALIGN : model_expect(b, cnt, true, runs);
            if (want == 0 || want == PMM_E_FULL)
                continue;
            memcpy(&pb, &pa, sizeof(pa));
            assert_int_equal(pmm_free(&pa, addr, cnt), want);
            assert_memory_equal(&pa, &pb, sizeof(pa));
        } else {
            /* reserve a specific run */
            uint64_t b = 1 + rnd_below(M_PAGES + 64), cnt = 1 + rnd_below(rnd_below(4) ? 4 : 64);
            int want = model_expect(b, cnt, false, runs);
            if (want)
                memcpy(&pb, &pa, sizeof(pa));
            assert_int_equal(pmm_reserve(&pa, b * PG, cnt), want);
            if (want)
                assert_memory_equal(&pa, &pb, sizeof(pa));
            else
                model_take(b, cnt);
        }
        runs = model_runs();
        if (runs > max_runs)
            max_runs = runs;
        model_compare(&pa);
    }

    /* Free everything that is left, in random order: the initial state comes back. */
    while (md.nlive) {
        uint32_t i = (uint32_t)rnd_below(md.nlive);
        rc = pmm_free(&pa, (uint64_t)md.live[i].base * PG, md.live[i].n);
        if (rc == PMM_E_FULL) {
            /* Free a neighbouring allocation first, then retry. */
            continue;
        }
        assert_int_equal(rc, 0);
        for (uint32_t k = md.live[i].base; k < md.live[i].base + md.live[i].n; k++)
            md.page[k] = M_FREE;
        md.nfree += md.live[i].n;
        md.live[i] = md.live[--md.nlive];
    }
    runs = model_runs();
    model_compare(&pa);
    assert_int_equal(pmm_init(&pb, m, n, r, nr), rc_init);
    assert_same_free(&pa, &pb);
    print_message("  seed %#llx: %u ops, %u allocs, peak %u free ranges, %u full-table "
                  "fallbacks, %u PMM_E_FULL frees\n",
                  (unsigned long long)seed, ops, nallocs, max_runs, fallbacks, fulls);
}

static void test_random_sorted(void **state)
{
    (void)state;
    random_run(0x5eed0001, 6000, false, false);
    random_run(0x5eed0002, 6000, false, false);
}

static void test_random_messy(void **state)
{
    (void)state;
    random_run(0x5eed0003, 6000, true, false);
}

/* Scattered single pages under random limits: drives the table to capacity. */
static void test_random_full_table(void **state)
{
    (void)state;
    random_run(0x5eed0004, 8000, false, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_ovmf),
        cmocka_unit_test(test_init_e820),
        cmocka_unit_test(test_map_summary),
        cmocka_unit_test(test_page0_and_unaligned),
        cmocka_unit_test(test_reserved_regions),
        cmocka_unit_test(test_hostile_maps),
        cmocka_unit_test(test_init_truncated),
        cmocka_unit_test(test_alloc_policy_e820),
        cmocka_unit_test(test_alloc_invalid),
        cmocka_unit_test(test_alloc_keeps_low_memory),
        cmocka_unit_test(test_exhaustion_ovmf),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_free),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_fragmentation_capacity),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_regions_from_boot_info),
        cmocka_unit_test(test_random_sorted),
        cmocka_unit_test(test_random_messy),
        cmocka_unit_test(test_random_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
