// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/lineq.c: order across sources, the per-source quota (a flooding source
// loses only its own lines, counted in bytes with their newlines), the total size, cut long
// lines, and wrap-around of the ring.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/lineq.h"

static uint8_t buf[256];
static struct lineq q;

static int setup(void **state)
{
    lineq_init(&q, buf, sizeof(buf), 64);
    return 0;
}

static void expect_line(uint32_t source, uint32_t vcpu, const char *text)
{
    char got[LINEQ_LINE_MAX];
    uint32_t s, v, len;
    assert_true(lineq_get(&q, &s, &v, got, &len));
    assert_int_equal(s, source);
    assert_int_equal(v, vcpu);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(got, text, len);
}

static void put(uint32_t source, uint32_t vcpu, const char *text)
{
    assert_true(lineq_put(&q, source, vcpu, text, (uint32_t)strlen(text)));
}

static void test_order_across_sources(void **state)
{
    put(0, 0, "a0");
    put(3, 1, "b1");
    put(0, 1, "a1");
    put(3, 0, "");
    expect_line(0, 0, "a0");
    expect_line(3, 1, "b1");
    expect_line(0, 1, "a1");
    expect_line(3, 0, "");
    uint32_t s, v, len;
    char t[LINEQ_LINE_MAX];
    assert_false(lineq_get(&q, &s, &v, t, &len));
    assert_int_equal(q.used, 0);
    assert_int_equal(q.held[0] + q.held[3], 0);
}

static void test_flooding_source_loses_only_its_own_lines(void **state)
{
    /* 64-byte quota: four 13-byte records (3 + 10) fit, the fifth does not. */
    for (int i = 0; i < 4; i++)
        put(1, 0, "0123456789");
    assert_false(lineq_put(&q, 1, 0, "0123456789", 10));
    assert_int_equal(q.dropped[1], 11);
    put(1, 0, "xyz"); /* 52 + 6 = 58: a shorter line still fits its share */
    /* Another source is unaffected. */
    put(2, 0, "neighbour");
    assert_int_equal(q.dropped[2], 0);
    /* Draining gives room back to the flooder. */
    expect_line(1, 0, "0123456789");
    put(1, 0, "012345");
    expect_line(1, 0, "0123456789");
}

static void test_total_size_bounds_everyone(void **state)
{
    /* Four sources with 64-byte quotas share 256 bytes: 4 x 4 records of 13 bytes = 208. */
    for (uint32_t s = 0; s < 4; s++)
        for (int i = 0; i < 4; i++)
            put(s, 0, "0123456789");
    /* 48 bytes left in the ring: source 4 gets three records, then the ring is full. */
    for (int i = 0; i < 3; i++)
        put(4, 0, "0123456789");
    assert_false(lineq_put(&q, 5, 0, "0123456789", 10));
    assert_int_equal(q.dropped[5], 11);
    assert_int_equal(q.used, 247);
}

static void test_long_lines_are_cut_and_bad_sources_refused(void **state)
{
    static uint8_t big[1024];
    char line[300];
    memset(line, 'x', sizeof(line));
    lineq_init(&q, big, sizeof(big), sizeof(big));
    assert_true(lineq_put(&q, 0, 7, line, sizeof(line)));
    char got[LINEQ_LINE_MAX];
    uint32_t s, v, len;
    assert_true(lineq_get(&q, &s, &v, got, &len));
    assert_int_equal(len, LINEQ_LINE_MAX);
    assert_int_equal(v, 7);
    assert_false(lineq_put(&q, LINEQ_SOURCES, 0, "x", 1));
}

static void test_wraps_around(void **state)
{
    /* 1000 lines through a 256-byte ring, each read back intact. */
    char text[16];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(text, sizeof(text), "line %d", i);
        assert_true(lineq_put(&q, (uint32_t)i % 3, (uint32_t)i % 2, text, (uint32_t)n));
        expect_line((uint32_t)i % 3, (uint32_t)i % 2, text);
    }
    assert_int_equal(q.used, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_order_across_sources, setup),
        cmocka_unit_test_setup(test_flooding_source_loses_only_its_own_lines, setup),
        cmocka_unit_test_setup(test_total_size_bounds_everyone, setup),
        cmocka_unit_test_setup(test_long_lines_are_cut_and_bad_sources_refused, setup),
        cmocka_unit_test_setup(test_wraps_around, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
