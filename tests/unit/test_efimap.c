// SPDX-License-Identifier: Apache-2.0
// Host tests of boot/efi/memmap.c: UEFI memory maps with various descriptor strides, order,
// merge opportunities, overlaps and sizes beyond BOOT_MEM_MAX, converted to boot_mem_range.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "boot/efi/memmap.h"

#define MAX_DESC 2048
#define PG 4096ull

/* A firmware-style map: descriptors `stride` bytes apart (OVMF uses 48). */
struct fwmap {
    uint64_t buf[MAX_DESC * 64 / 8];
    size_t stride, count;
};

static struct fwmap g_map;
static struct boot_mem_range g_out[BOOT_MEM_MAX + 4];

static void map_init(struct fwmap *m, size_t stride)
{
    memset(m, 0xee, sizeof(*m)); /* padding past 40 bytes is garbage, as in firmware */
    m->stride = stride;
    m->count = 0;
}

static void map_add(struct fwmap *m, uint32_t type, uint64_t base, uint64_t pages)
{
    struct efimap_desc d = { .type = type, .phys_start = base, .virt_start = 0,
                             .num_pages = pages, .attribute = 0xf };
    assert_true(m->count < MAX_DESC);
    memcpy((uint8_t *)m->buf + m->count * m->stride, &d, sizeof(d));
    m->count++;
}

static int map_convert(struct fwmap *m, uint32_t max, uint32_t *count)
{
    return efimap_convert(m->buf, m->count * m->stride, m->stride, g_out, max, count);
}

static void expect(uint32_t i, uint64_t base, uint64_t length, uint32_t type)
{
    if (g_out[i].base != base || g_out[i].length != length || g_out[i].type != type)
        fail_msg("range %u: got %#llx+%#llx type %u, want %#llx+%#llx type %u", i,
                 (unsigned long long)g_out[i].base, (unsigned long long)g_out[i].length,
                 g_out[i].type, (unsigned long long)base, (unsigned long long)length, type);
}

static void test_type_translation(void **state)
{
    static const uint32_t want[16] = {
        [EFIMAP_T_RESERVED] = BOOT_MEM_RESERVED,
        [EFIMAP_T_LOADER_CODE] = BOOT_MEM_USABLE,
        [EFIMAP_T_LOADER_DATA] = BOOT_MEM_LOADED,
        [EFIMAP_T_BS_CODE] = BOOT_MEM_USABLE,
        [EFIMAP_T_BS_DATA] = BOOT_MEM_USABLE,
        [EFIMAP_T_RT_CODE] = BOOT_MEM_FW_RUNTIME,
        [EFIMAP_T_RT_DATA] = BOOT_MEM_FW_RUNTIME,
        [EFIMAP_T_CONVENTIONAL] = BOOT_MEM_USABLE,
        [EFIMAP_T_UNUSABLE] = BOOT_MEM_BAD,
        [EFIMAP_T_ACPI_RECLAIM] = BOOT_MEM_ACPI_RECLAIM,
        [EFIMAP_T_ACPI_NVS] = BOOT_MEM_ACPI_NVS,
        [EFIMAP_T_MMIO] = BOOT_MEM_RESERVED,
        [EFIMAP_T_MMIO_PORT] = BOOT_MEM_RESERVED,
        [EFIMAP_T_PAL_CODE] = BOOT_MEM_RESERVED,
        [EFIMAP_T_PERSISTENT] = BOOT_MEM_PERSISTENT,
        [EFIMAP_T_UNACCEPTED] = BOOT_MEM_RESERVED,
    };
    for (uint32_t t = 0; t < 16; t++)
        assert_int_equal(efimap_type_to_boot(t), want[t]);
    assert_int_equal(efimap_type_to_boot(16), BOOT_MEM_RESERVED);
    assert_int_equal(efimap_type_to_boot(0x70000000), BOOT_MEM_RESERVED); /* OEM */
    assert_int_equal(efimap_type_to_boot(0x80000000), BOOT_MEM_RESERVED); /* OS loader */
    assert_int_equal(efimap_type_to_boot(UINT32_MAX), BOOT_MEM_RESERVED);
}

/* Roughly what OVMF reports for a 512 MiB q35 guest, in firmware order. */
static void test_ovmf_like_map(void **state)
{
    uint32_t n;
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_BS_CODE, 0x0, 1);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x1000, 0x9f);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x100000, 0x700);
    map_add(&g_map, EFIMAP_T_ACPI_NVS, 0x800000, 0x8);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x808000, 0x3);
    map_add(&g_map, EFIMAP_T_ACPI_NVS, 0x80b000, 0x1);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x80c000, 0x7f4);
    map_add(&g_map, EFIMAP_T_LOADER_DATA, 0x1000000, 0x20);
    map_add(&g_map, EFIMAP_T_BS_DATA, 0x1020000, 0x100);
    map_add(&g_map, EFIMAP_T_LOADER_CODE, 0x1120000, 0x10);
    map_add(&g_map, EFIMAP_T_RT_DATA, 0x1130000, 0x4);
    map_add(&g_map, EFIMAP_T_RT_CODE, 0x1134000, 0x4);
    map_add(&g_map, EFIMAP_T_ACPI_RECLAIM, 0x1138000, 0x8);
    map_add(&g_map, EFIMAP_T_MMIO, 0xffc00000, 0x400);
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_OK);
    assert_int_equal(n, 11);
    expect(0, 0x0, 0xa0000, BOOT_MEM_USABLE);
    expect(1, 0x100000, 0x700000, BOOT_MEM_USABLE);
    expect(2, 0x800000, 0x8000, BOOT_MEM_ACPI_NVS);
    expect(3, 0x808000, 0x3000, BOOT_MEM_USABLE);
    expect(4, 0x80b000, 0x1000, BOOT_MEM_ACPI_NVS);
    expect(5, 0x80c000, 0x7f4000, BOOT_MEM_USABLE);
    expect(6, 0x1000000, 0x20000, BOOT_MEM_LOADED);
    expect(7, 0x1020000, 0x110000, BOOT_MEM_USABLE); /* BS data + loader code */
    expect(8, 0x1130000, 0x8000, BOOT_MEM_FW_RUNTIME); /* RT data + RT code */
    expect(9, 0x1138000, 0x8000, BOOT_MEM_ACPI_RECLAIM);
    expect(10, 0xffc00000, 0x400000, BOOT_MEM_RESERVED);
}

static void test_unsorted_and_strides(void **state)
{
    static const size_t strides[] = { 40, 48, 56, 64 };
    for (size_t s = 0; s < 4; s++) {
        uint32_t n;
        map_init(&g_map, strides[s]);
        map_add(&g_map, EFIMAP_T_RESERVED, 0x9000, 1);
        map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x3000, 2);
        map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x0, 2);
        map_add(&g_map, EFIMAP_T_ACPI_RECLAIM, 0x5000, 1);
        map_add(&g_map, EFIMAP_T_BS_DATA, 0x2000, 1);
        assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_OK);
        assert_int_equal(n, 3);
        expect(0, 0x0, 0x5000, BOOT_MEM_USABLE); /* 0-2000, 2000-3000, 3000-5000 merged */
        expect(1, 0x5000, 0x1000, BOOT_MEM_ACPI_RECLAIM);
        expect(2, 0x9000, 0x1000, BOOT_MEM_RESERVED);
    }
}

static void test_no_merge_across_gap_or_type(void **state)
{
    uint32_t n;
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x0, 1);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x2000, 1);   /* gap of one page */
    map_add(&g_map, EFIMAP_T_LOADER_DATA, 0x3000, 1);    /* other type, touching */
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x4000, 1);
    map_add(&g_map, EFIMAP_T_RESERVED, 0x5000, 1);
    map_add(&g_map, EFIMAP_T_MMIO, 0x6000, 1);           /* both RESERVED: merged */
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_OK);
    assert_int_equal(n, 5);
    expect(0, 0x0, 0x1000, BOOT_MEM_USABLE);
    expect(1, 0x2000, 0x1000, BOOT_MEM_USABLE);
    expect(2, 0x3000, 0x1000, BOOT_MEM_LOADED);
    expect(3, 0x4000, 0x1000, BOOT_MEM_USABLE);
    expect(4, 0x5000, 0x2000, BOOT_MEM_RESERVED);
}

static void test_empty_and_zero_pages(void **state)
{
    uint32_t n = 99;
    map_init(&g_map, 48);
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_OK);
    assert_int_equal(n, 0);

    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x0, 1);
    map_add(&g_map, EFIMAP_T_RESERVED, 0x1000, 0); /* empty: dropped, does not split */
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x1000, 1);
    map_add(&g_map, EFIMAP_T_RESERVED, 0x0, 0);    /* empty at an occupied address */
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_OK);
    assert_int_equal(n, 1);
    expect(0, 0x0, 0x2000, BOOT_MEM_USABLE);
}

/* A big server: 1250 descriptors that merge down to 500 ranges fit. */
static void test_many_descriptors_merge_to_fit(void **state)
{
    uint32_t n;
    map_init(&g_map, 48);
    /* 250 groups, each 4 usable pieces (conventional/BS code/BS data/loader code) and one
     * reserved page, listed in reverse order. */
    for (int g = 249; g >= 0; g--) {
        uint64_t base = (uint64_t)g * 0x100000;
        map_add(&g_map, EFIMAP_T_RESERVED, base + 4 * PG, 1);
        map_add(&g_map, EFIMAP_T_LOADER_CODE, base + 3 * PG, 1);
        map_add(&g_map, EFIMAP_T_BS_DATA, base + 2 * PG, 1);
        map_add(&g_map, EFIMAP_T_BS_CODE, base + 1 * PG, 1);
        map_add(&g_map, EFIMAP_T_CONVENTIONAL, base, 1);
    }
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_OK);
    assert_int_equal(n, 500);
    for (uint32_t g = 0; g < 250; g++) {
        expect(2 * g, g * 0x100000ull, 4 * PG, BOOT_MEM_USABLE);
        expect(2 * g + 1, g * 0x100000ull + 4 * PG, PG, BOOT_MEM_RESERVED);
    }
}

static void test_overflow_of_boot_mem_max(void **state)
{
    uint32_t n;
    /* Exactly BOOT_MEM_MAX unmergeable ranges fit. */
    map_init(&g_map, 48);
    for (uint32_t i = 0; i < BOOT_MEM_MAX; i++)
        map_add(&g_map, i % 2 ? EFIMAP_T_RESERVED : EFIMAP_T_CONVENTIONAL, i * PG, 1);
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_OK);
    assert_int_equal(n, BOOT_MEM_MAX);
    expect(BOOT_MEM_MAX - 1, (BOOT_MEM_MAX - 1) * PG, PG, BOOT_MEM_RESERVED);

    /* One more does not; the count says how many were needed, merges included. */
    map_init(&g_map, 48);
    memset(g_out, 0x55, sizeof(g_out));
    for (uint32_t i = 0; i < BOOT_MEM_MAX + 1; i++)
        map_add(&g_map, i % 2 ? EFIMAP_T_RESERVED : EFIMAP_T_CONVENTIONAL, i * PG, 1);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, (BOOT_MEM_MAX + 1) * PG, 3); /* merges with last */
    map_add(&g_map, EFIMAP_T_ACPI_NVS, 0x10000000, 1);
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_E_OVERFLOW);
    assert_int_equal(n, BOOT_MEM_MAX + 2);
    expect(0, 0, PG, BOOT_MEM_USABLE);
    expect(BOOT_MEM_MAX - 1, (BOOT_MEM_MAX - 1) * PG, PG, BOOT_MEM_RESERVED);
    /* Nothing written past max. */
    assert_int_equal(g_out[BOOT_MEM_MAX].base, 0x5555555555555555ull);

    /* Small max: merging into the last kept entry still works. */
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0, 1);
    map_add(&g_map, EFIMAP_T_RESERVED, PG, 1);
    map_add(&g_map, EFIMAP_T_MMIO, 2 * PG, 1);
    assert_int_equal(map_convert(&g_map, 2, &n), EFIMAP_OK);
    assert_int_equal(n, 2);
    expect(1, PG, 2 * PG, BOOT_MEM_RESERVED);
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0, 1);
    assert_int_equal(map_convert(&g_map, 0, &n), EFIMAP_E_OVERFLOW);
    assert_int_equal(n, 1);
}

static void test_overlap(void **state)
{
    uint32_t n;
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x0, 4);
    map_add(&g_map, EFIMAP_T_RESERVED, 0x3000, 1);
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_E_OVERLAP);

    /* Same base, and overlap of same-type ranges (no silent merge). */
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x10000, 1);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x10000, 1);
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_E_OVERLAP);
}

static void test_range_wrap(void **state)
{
    uint32_t n;
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x0, UINT64_MAX / 2); /* pages * 4096 wraps */
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_E_RANGE);

    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_RESERVED, 0xfffffffffffff000ull, 2); /* base + len wraps */
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_E_RANGE);

    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_RESERVED, 0xffffffffffffe000ull, 1); /* ends below 2^64 */
    assert_int_equal(map_convert(&g_map, BOOT_MEM_MAX, &n), EFIMAP_OK);
    expect(0, 0xffffffffffffe000ull, PG, BOOT_MEM_RESERVED);
}

static void test_bad_geometry(void **state)
{
    uint32_t n = 7;
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0, 1);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, PG, 1);
    assert_int_equal(efimap_convert(g_map.buf, 96, 32, g_out, BOOT_MEM_MAX, &n),
                     EFIMAP_E_DESC_SIZE);
    assert_int_equal(n, 0);
    assert_int_equal(efimap_convert(g_map.buf, 96, 44, g_out, BOOT_MEM_MAX, &n),
                     EFIMAP_E_DESC_SIZE);
    assert_int_equal(efimap_convert(g_map.buf, 95, 48, g_out, BOOT_MEM_MAX, &n),
                     EFIMAP_E_MAP_SIZE);
    assert_int_equal(efimap_convert((uint8_t *)g_map.buf + 4, 96, 48, g_out, BOOT_MEM_MAX, &n),
                     EFIMAP_E_ALIGN);
    assert_int_equal(efimap_convert(g_map.buf, 96, 48, g_out, BOOT_MEM_MAX, &n), EFIMAP_OK);
    assert_int_equal(n, 1);
}

static void test_range_reclaimable(void **state)
{
    struct efimap_desc bad;
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x100000, 0x700);
    map_add(&g_map, EFIMAP_T_BS_DATA, 0x900000, 0xc00);   /* OVMF's DXE volume */
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x1500000, 0x100);
    map_add(&g_map, EFIMAP_T_BS_CODE, 0x1600000, 0x10);
    map_add(&g_map, EFIMAP_T_LOADER_CODE, 0x1610000, 0x10); /* the loader itself */
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x1700000, 0x100);
    size_t size = g_map.count * 48;

    /* Kernel at 16 MiB inside boot-services data; spanning into conventional and BS code. */
    assert_int_equal(efimap_range_reclaimable(g_map.buf, size, 48, 0x1000000, 0x1031000, &bad),
                     EFIMAP_OK);
    assert_int_equal(efimap_range_reclaimable(g_map.buf, size, 48, 0x1400000, 0x1610000, &bad),
                     EFIMAP_OK);
    /* Touching the loader's own image. */
    memset(&bad, 0, sizeof(bad));
    assert_int_equal(efimap_range_reclaimable(g_map.buf, size, 48, 0x1600000, 0x1611000, &bad),
                     EFIMAP_E_TAKEN);
    assert_int_equal(bad.type, EFIMAP_T_LOADER_CODE);
    assert_int_equal(bad.phys_start, 0x1610000);
    /* A hole (0x800000-0x900000 is not described) and memory past the end. */
    assert_int_equal(efimap_range_reclaimable(g_map.buf, size, 48, 0x7ff000, 0x901000, NULL),
                     EFIMAP_E_HOLE);
    assert_int_equal(efimap_range_reclaimable(g_map.buf, size, 48, 0x1700000, 0x1801000, NULL),
                     EFIMAP_E_HOLE);
    /* Ends exactly where a taken range starts: fine. */
    assert_int_equal(efimap_range_reclaimable(g_map.buf, size, 48, 0x1600000, 0x1610000, NULL),
                     EFIMAP_OK);
    assert_int_equal(efimap_range_reclaimable(g_map.buf, size, 48, 0x2000, 0x2000, NULL),
                     EFIMAP_E_EMPTY);
    assert_int_equal(efimap_range_reclaimable(g_map.buf, size, 40, 0x0, 0x2000, NULL),
                     EFIMAP_E_MAP_SIZE);

    /* Overlapping descriptors would count twice. */
    map_init(&g_map, 48);
    map_add(&g_map, EFIMAP_T_CONVENTIONAL, 0x0, 4);
    map_add(&g_map, EFIMAP_T_BS_DATA, 0x1000, 2);
    assert_int_equal(efimap_range_reclaimable(g_map.buf, 96, 48, 0x0, 0x4000, NULL),
                     EFIMAP_E_OVERLAP);
}

static void set_ranges(const struct boot_mem_range *src, uint32_t n)
{
    memcpy(g_out, src, n * sizeof(*src));
}

static void test_mark(void **state)
{
    static const struct boot_mem_range base[] = {
        { 0x0, 0xa0000, BOOT_MEM_USABLE, 0 },
        { 0x100000, 0x700000, BOOT_MEM_USABLE, 0 },
        { 0x800000, 0x100000, BOOT_MEM_ACPI_NVS, 0 },
        { 0x900000, 0x2000000, BOOT_MEM_USABLE, 0 },
        { 0x2900000, 0x10000, BOOT_MEM_LOADED, 0 },
        { 0x2910000, 0x100000, BOOT_MEM_USABLE, 0 },
    };
    uint32_t n;

    /* Split a usable range in three. */
    set_ranges(base, 6);
    n = 6;
    assert_int_equal(efimap_mark(g_out, &n, BOOT_MEM_MAX, 0x1000000, 0x31000, BOOT_MEM_LOADED),
                     EFIMAP_OK);
    assert_int_equal(n, 8);
    expect(2, 0x800000, 0x100000, BOOT_MEM_ACPI_NVS);
    expect(3, 0x900000, 0x700000, BOOT_MEM_USABLE);
    expect(4, 0x1000000, 0x31000, BOOT_MEM_LOADED);
    expect(5, 0x1031000, 0x18cf000, BOOT_MEM_USABLE);
    expect(6, 0x2900000, 0x10000, BOOT_MEM_LOADED);

    /* Mark the end of a range: merges with the LOADED range that follows. */
    set_ranges(base, 6);
    n = 6;
    assert_int_equal(efimap_mark(g_out, &n, BOOT_MEM_MAX, 0x2800000, 0x100000, BOOT_MEM_LOADED),
                     EFIMAP_OK);
    assert_int_equal(n, 6);
    expect(3, 0x900000, 0x1f00000, BOOT_MEM_USABLE);
    expect(4, 0x2800000, 0x110000, BOOT_MEM_LOADED);
    expect(5, 0x2910000, 0x100000, BOOT_MEM_USABLE);

    /* Cover several ranges and a hole entirely. */
    set_ranges(base, 6);
    n = 6;
    assert_int_equal(efimap_mark(g_out, &n, BOOT_MEM_MAX, 0x50000, 0x8f0000, BOOT_MEM_RESERVED),
                     EFIMAP_OK);
    assert_int_equal(n, 5);
    expect(0, 0x0, 0x50000, BOOT_MEM_USABLE);
    expect(1, 0x50000, 0x8f0000, BOOT_MEM_RESERVED);
    expect(2, 0x940000, 0x1fc0000, BOOT_MEM_USABLE);

    /* Same type already: everything merges back into one range. */
    set_ranges(base, 6);
    n = 6;
    assert_int_equal(efimap_mark(g_out, &n, BOOT_MEM_MAX, 0x200000, 0x1000, BOOT_MEM_USABLE),
                     EFIMAP_OK);
    assert_int_equal(n, 6);
    expect(1, 0x100000, 0x700000, BOOT_MEM_USABLE);

    /* Into an empty list, and past the last range. */
    n = 0;
    assert_int_equal(efimap_mark(g_out, &n, BOOT_MEM_MAX, 0x1000, 0x1000, BOOT_MEM_LOADED),
                     EFIMAP_OK);
    assert_int_equal(n, 1);
    expect(0, 0x1000, 0x1000, BOOT_MEM_LOADED);
    set_ranges(base, 6);
    n = 6;
    assert_int_equal(efimap_mark(g_out, &n, BOOT_MEM_MAX, 0x2a10000, 0x1000, BOOT_MEM_USABLE),
                     EFIMAP_OK);
    assert_int_equal(n, 6);
    expect(5, 0x2910000, 0x101000, BOOT_MEM_USABLE);

    /* Capacity: a split needs two more entries; refused without touching the list. */
    set_ranges(base, 6);
    n = 6;
    assert_int_equal(efimap_mark(g_out, &n, 7, 0x1000000, 0x1000, BOOT_MEM_LOADED),
                     EFIMAP_E_OVERFLOW);
    assert_int_equal(n, 6);
    assert_memory_equal(g_out, base, sizeof(base));
    assert_int_equal(efimap_mark(g_out, &n, 8, 0x1000000, 0x1000, BOOT_MEM_LOADED), EFIMAP_OK);
    assert_int_equal(n, 8);

    /* Bad arguments. */
    assert_int_equal(efimap_mark(g_out, &n, 8, 0x1000, 0, BOOT_MEM_LOADED), EFIMAP_E_EMPTY);
    assert_int_equal(efimap_mark(g_out, &n, 8, UINT64_MAX, 2, BOOT_MEM_LOADED), EFIMAP_E_EMPTY);
}

static void test_strerror(void **state)
{
    for (int a = 0; a < EFIMAP_STATUS_COUNT; a++)
        for (int b = 0; b < a; b++)
            assert_string_not_equal(efimap_strerror(a), efimap_strerror(b));
    assert_string_equal(efimap_strerror(EFIMAP_E_OVERFLOW), "too many memory ranges for boot_info");
    assert_string_equal(efimap_strerror(EFIMAP_STATUS_COUNT), "unknown memory map error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_translation),
        cmocka_unit_test(test_ovmf_like_map),
        cmocka_unit_test(test_unsorted_and_strides),
        cmocka_unit_test(test_no_merge_across_gap_or_type),
        cmocka_unit_test(test_empty_and_zero_pages),
        cmocka_unit_test(test_many_descriptors_merge_to_fit),
        cmocka_unit_test(test_overflow_of_boot_mem_max),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_range_wrap),
        cmocka_unit_test(test_bad_geometry),
        cmocka_unit_test(test_range_reclaimable),
        cmocka_unit_test(test_mark),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
