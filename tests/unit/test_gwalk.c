// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/gwalk.c: guest page tables for every paging mode are built in a
// simulated guest-physical memory, then translated.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "kernel/gwalk.h"

#define MEM_SIZE (1u << 20)
static uint8_t mem[MEM_SIZE];

static bool rd(void *ctx, uint64_t gpa, unsigned size, uint64_t *out)
{
    if (gpa + size > MEM_SIZE)
        return false;
    uint64_t v = 0;
    memcpy(&v, mem + gpa, size);
    *out = v;
    return true;
}

static void put64(uint64_t gpa, uint64_t v) { memcpy(mem + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(mem + gpa, &v, 4); }

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)

static void test_paging_off(void **state)
{
    struct gwalk_regs r = { 0x11, 0, 0, 0 };
    uint64_t gpa, end;
    assert_int_equal(gwalk_translate(&r, 0x12345, rd, NULL, &gpa, &end), GWALK_OK);
    assert_int_equal(gpa, 0x12345);
    assert_int_equal(end, 0x13000);
}

static void test_four_level(void **state)
{
    memset(mem, 0, sizeof(mem));
    /* la 0x0000_7f80_4020_3abc: PML4 idx 255, PDPT idx 1, PD idx 1, PT idx 3. */
    uint64_t la = (255ull << 39) | (1ull << 30) | (1ull << 21) | (3ull << 12) | 0xabc;
    put64(0x1000 + 255 * 8, 0x2000 | 3);
    put64(0x2000 + 1 * 8, 0x3000 | 3);
    put64(0x3000 + 1 * 8, 0x4000 | 3);
    put64(0x4000 + 3 * 8, 0x8000000000abc000ull | 1); /* NX set: not an address bit */
    struct gwalk_regs r = { CR0_PG | 1, 0x1000, CR4_PAE, EFER_LMA | (1ull << 8) };
    uint64_t gpa, end;
    assert_int_equal(gwalk_translate(&r, la, rd, NULL, &gpa, &end), GWALK_OK);
    assert_int_equal(gpa, 0xabcabc);
    assert_int_equal(end, (la & ~0xfffull) + 0x1000);
    /* A 2 MiB page at PD idx 2, with the PAT bit (12) set in the entry. */
    put64(0x3000 + 2 * 8, 0x40000000ull | (1ull << 12) | 0x80 | 1);
    uint64_t la2 = (255ull << 39) | (1ull << 30) | (2ull << 21) | 0x12345;
    assert_int_equal(gwalk_translate(&r, la2, rd, NULL, &gpa, &end), GWALK_OK);
    assert_int_equal(gpa, 0x40012345);
    assert_int_equal(end, (la2 & ~0x1fffffull) + 0x200000);
    /* A 1 GiB page at PDPT idx 2. */
    put64(0x2000 + 2 * 8, 0x80000000ull | 0x80 | 1);
    uint64_t la3 = (255ull << 39) | (2ull << 30) | 0x3456789;
    assert_int_equal(gwalk_translate(&r, la3, rd, NULL, &gpa, &end), GWALK_OK);
    assert_int_equal(gpa, 0x83456789);
    /* Not present at the PT level, and at the PML4 level. */
    assert_int_equal(gwalk_translate(&r, la + 0x1000, rd, NULL, &gpa, &end), GWALK_NOT_PRESENT);
    assert_int_equal(gwalk_translate(&r, 0x1000, rd, NULL, &gpa, &end), GWALK_NOT_PRESENT);
    /* PS in a PML4E is reserved. */
    put64(0x1000 + 0 * 8, 0x2000 | 0x80 | 1);
    assert_int_equal(gwalk_translate(&r, 0x1000, rd, NULL, &gpa, &end), GWALK_RESERVED);
    /* A table outside guest memory. */
    put64(0x1000 + 1 * 8, 0x7000000000ull | 1);
    assert_int_equal(gwalk_translate(&r, 1ull << 39, rd, NULL, &gpa, &end), GWALK_BAD_TABLE);
    /* 5-level paging is refused. */
    r.cr4 |= CR4_LA57;
    assert_int_equal(gwalk_translate(&r, la, rd, NULL, &gpa, &end), GWALK_UNSUPPORTED);
}

static void test_pae(void **state)
{
    memset(mem, 0, sizeof(mem));
    /* CR3 32-byte aligned at 0x1020: PDPTE 3 -> PD 0x2000; PDE 5 -> PT 0x3000; PTE 7. */
    put64(0x1020 + 3 * 8, 0x2000 | 1);
    put64(0x2000 + 5 * 8, 0x3000 | 3);
    put64(0x3000 + 7 * 8, 0x55000 | 3);
    struct gwalk_regs r = { CR0_PG | 1, 0x1020, CR4_PAE, 0 };
    uint32_t la = (3u << 30) | (5u << 21) | (7u << 12) | 0x10;
    uint64_t gpa, end;
    assert_int_equal(gwalk_translate(&r, la, rd, NULL, &gpa, &end), GWALK_OK);
    assert_int_equal(gpa, 0x55010);
    /* Reserved bits in a PDPTE. */
    put64(0x1020 + 3 * 8, 0x2000 | 1 | 2);
    assert_int_equal(gwalk_translate(&r, la, rd, NULL, &gpa, &end), GWALK_RESERVED);
    /* Upper 32 bits of the linear address are ignored outside long mode. */
    put64(0x1020 + 3 * 8, 0x2000 | 1);
    assert_int_equal(gwalk_translate(&r, (1ull << 40) | la, rd, NULL, &gpa, &end), GWALK_OK);
    assert_int_equal(gpa, 0x55010);
}

static void test_32bit(void **state)
{
    memset(mem, 0, sizeof(mem));
    put32(0x1000 + 0x300 * 4, 0x2000 | 3);
    put32(0x2000 + 0x12 * 4, 0x77000 | 3);
    struct gwalk_regs r = { CR0_PG | 1, 0x1000, 0, 0 };
    uint32_t la = (0x300u << 22) | (0x12u << 12) | 0x345;
    uint64_t gpa, end;
    assert_int_equal(gwalk_translate(&r, la, rd, NULL, &gpa, &end), GWALK_OK);
    assert_int_equal(gpa, 0x77345);
    /* A 4 MiB page with PSE-36 high bits (PDE bits 20:13 -> address bits 39:32). */
    put32(0x1000 + 0x301 * 4, 0x00c00000u | (0x5u << 13) | 0x80 | 1);
    uint32_t la2 = (0x301u << 22) | 0x123456;
    assert_int_equal(gwalk_translate(&r, la2, rd, NULL, &gpa, &end), GWALK_BAD_TABLE); /* without PSE, PS is ignored: a page table at 0xc0a000 */
    r.cr4 = CR4_PSE;
    assert_int_equal(gwalk_translate(&r, la2, rd, NULL, &gpa, &end), GWALK_OK);
    assert_int_equal(gpa, 0x500c00000ull | 0x123456);
    assert_int_equal(end, (uint64_t)(la2 & ~0x3fffffu) + 0x400000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paging_off),
        cmocka_unit_test(test_four_level),
        cmocka_unit_test(test_pae),
        cmocka_unit_test(test_32bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
