// SPDX-License-Identifier: Apache-2.0
// Host tests for common/string.c (the kernel's and loader's <string.h>), included under other
// names so the C library's functions stay in charge of this test program.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define memcpy moat_memcpy
#define memmove moat_memmove
#define memset moat_memset
#define memcmp moat_memcmp
#define strlen moat_strlen
#define strnlen moat_strnlen
#define strcmp moat_strcmp
#define strncmp moat_strncmp
#define strchr moat_strchr
#define memchr moat_memchr
#include "common/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef memchr

static uint8_t src[256], dst[256], ref[256];

static void fill(void)
{
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 3);
    memset(dst, 0xee, sizeof(dst));
    memset(ref, 0xee, sizeof(ref));
}

/* Every alignment of source and destination and every length up to 40 bytes: the word loop
 * and the byte tail must together copy exactly n bytes and touch nothing else. */
static void test_memcpy_alignments(void **state)
{
    for (unsigned so = 0; so < 8; so++)
        for (unsigned d_o = 0; d_o < 8; d_o++)
            for (unsigned n = 0; n <= 40; n++) {
                fill();
                assert_ptr_equal(moat_memcpy(dst + 16 + d_o, src + so, n), dst + 16 + d_o);
                memcpy(ref + 16 + d_o, src + so, n);
                assert_memory_equal(dst, ref, sizeof(dst));
            }
}

static void test_memset_alignments(void **state)
{
    for (unsigned o = 0; o < 8; o++)
        for (unsigned n = 0; n <= 40; n++) {
            fill();
            moat_memset(dst + 16 + o, 0x5a, n);
            memset(ref + 16 + o, 0x5a, n);
            assert_memory_equal(dst, ref, sizeof(dst));
        }
    moat_memset(dst, 0x1ff, 8); /* only the low byte counts */
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(dst[i], 0xff);
}

static void test_memmove_overlap(void **state)
{
    for (int shift = -9; shift <= 9; shift++)
        for (unsigned n = 0; n <= 40; n++) {
            for (unsigned i = 0; i < sizeof(dst); i++)
                dst[i] = ref[i] = (uint8_t)i;
            moat_memmove(dst + 64 + shift, dst + 64, n);
            memmove(ref + 64 + shift, ref + 64, n);
            assert_memory_equal(dst, ref, sizeof(dst));
        }
}

static void test_compare_and_search(void **state)
{
    assert_int_equal(moat_memcmp("abc", "abd", 3) < 0, 1);
    assert_int_equal(moat_memcmp("abc", "abc", 3), 0);
    assert_int_equal(moat_memcmp("\xff", "\x01", 1) > 0, 1);
    assert_int_equal(moat_strlen(""), 0);
    assert_int_equal(moat_strlen("moat"), 4);
    assert_int_equal(moat_strnlen("moat", 2), 2);
    assert_int_equal(moat_strcmp("a", "b") < 0, 1);
    assert_int_equal(moat_strcmp("moat", "moat"), 0);
    assert_int_equal(moat_strncmp("moat.cfg", "moat.elf", 5), 0);
    assert_int_equal(moat_strncmp("moat.cfg", "moat.elf", 6) < 0, 1);
    const char *s = "a=b";
    assert_ptr_equal(moat_strchr(s, '='), s + 1);
    assert_ptr_equal(moat_strchr(s, '\0'), s + 3);
    assert_null(moat_strchr(s, 'x'));
    assert_ptr_equal(moat_memchr(s, 'b', 3), s + 2);
    assert_null(moat_memchr(s, 'b', 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memcpy_alignments),
        cmocka_unit_test(test_memset_alignments),
        cmocka_unit_test(test_memmove_overlap),
        cmocka_unit_test(test_compare_and_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
