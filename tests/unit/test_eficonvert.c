// SPDX-License-Identifier: Apache-2.0
// Host tests of boot/efi/convert.c: file names and LoadOptions in UCS-2, cmdline.txt lines,
// and GOP pixel formats, including binary boot-option data and over-long input.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "boot/efi/convert.h"

/* UCS-2 little-endian bytes of an ASCII string, with its NUL; returns the byte count. */
static uint32_t ucs2(const char *s, uint8_t *out)
{
    uint32_t n = 0;
    do {
        out[n++] = (uint8_t)*s;
        out[n++] = 0;
    } while (*s++);
    return n;
}

static void test_name_to_ascii(void **state)
{
    uint16_t name[80];
    char out[BOOT_MODULE_NAME_MAX];
    const char *s = "moat.cfg";
    for (size_t i = 0; i <= strlen(s); i++)
        name[i] = (uint16_t)s[i];
    assert_int_equal(conv_name_to_ascii(name, 80, out, sizeof(out)), 8);
    assert_string_equal(out, "moat.cfg");

    /* 63 characters fit a 64-byte name, 64 do not. */
    for (int i = 0; i < 63; i++)
        name[i] = 'a';
    name[63] = 0;
    assert_int_equal(conv_name_to_ascii(name, 80, out, sizeof(out)), 63);
    assert_int_equal(strlen(out), 63);
    name[63] = 'b';
    name[64] = 0;
    assert_int_equal(conv_name_to_ascii(name, 80, out, sizeof(out)), CONV_E_TOO_LONG);

    /* Non-ASCII and control characters. */
    name[0] = 0x00e9; /* e acute */
    name[1] = 0;
    assert_int_equal(conv_name_to_ascii(name, 80, out, sizeof(out)), CONV_E_NOT_ASCII);
    name[0] = 0x7f;
    assert_int_equal(conv_name_to_ascii(name, 80, out, sizeof(out)), CONV_E_NOT_ASCII);
    name[0] = '\n';
    assert_int_equal(conv_name_to_ascii(name, 80, out, sizeof(out)), CONV_E_NOT_ASCII);

    /* Missing NUL within src_max stops there; empty name; zero-size destination. */
    name[0] = 'x';
    name[1] = 'y';
    name[2] = 'z';
    assert_int_equal(conv_name_to_ascii(name, 2, out, sizeof(out)), 2);
    assert_string_equal(out, "xy");
    name[0] = 0;
    assert_int_equal(conv_name_to_ascii(name, 80, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(conv_name_to_ascii(name, 80, out, 0), CONV_E_TOO_LONG);
}

static void test_load_options_text(void **state)
{
    uint8_t opts[4096];
    char out[BOOT_CMDLINE_MAX];
    uint32_t n;

    n = ucs2("console=com1 loglevel=3", opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 23);
    assert_string_equal(out, "console=com1 loglevel=3");

    /* Without the NUL (size counts only the characters). */
    assert_int_equal(conv_load_options(opts, n - 2, out, sizeof(out)), 23);
    assert_string_equal(out, "console=com1 loglevel=3");

    /* Shell style: the image path first, in any case; tabs and extra spaces. */
    n = ucs2("  FS0:\\EFI\\BOOT\\BOOTX64.EFI \t console=com1  ", opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 12);
    assert_string_equal(out, "console=com1");
    n = ucs2("bootx64.efi", opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* A first word that merely contains .efi is kept. */
    n = ucs2("x.efi.bak y", opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 11);
    assert_string_equal(out, "x.efi.bak y");
    n = ucs2(".efi", opts); /* a bare ".efi" word is dropped too */
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 0);

    /* Empty / absent / only spaces / only NUL. */
    assert_int_equal(conv_load_options(NULL, 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(conv_load_options(opts, 0, out, sizeof(out)), 0);
    n = ucs2("   ", opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 0);
    n = ucs2("", opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 0);

    /* Text after the first NUL is ignored. */
    n = ucs2("a=1", opts);
    ucs2("junk", opts + n);
    assert_int_equal(conv_load_options(opts, n + 10, out, sizeof(out)), 3);
    assert_string_equal(out, "a=1");

    /* Unaligned buffer. */
    n = ucs2("odd=1", opts + 1);
    assert_int_equal(conv_load_options(opts + 1, n, out, sizeof(out)), 5);
    assert_string_equal(out, "odd=1");
}

static void test_load_options_binary_and_long(void **state)
{
    /* EDK2's auto-created boot options carry this GUID as OptionalData. */
    static const uint8_t edk2_guid[16] = { 0x4e, 0xac, 0x08, 0x81, 0x11, 0x9f, 0x59, 0x4d,
                                           0x85, 0x0e, 0xe2, 0x1a, 0x52, 0x2c, 0x59, 0xb2 };
    uint8_t opts[4096];
    char out[BOOT_CMDLINE_MAX];
    uint32_t n;

    memset(out, 'x', sizeof(out));
    assert_int_equal(conv_load_options(edk2_guid, 16, out, sizeof(out)), CONV_E_NOT_TEXT);
    assert_string_equal(out, "");
    assert_int_equal(conv_load_options(edk2_guid, 15, out, sizeof(out)), CONV_E_NOT_TEXT);
    n = ucs2("a\x01", opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), CONV_E_NOT_TEXT);

    /* 255 characters fit BOOT_CMDLINE_MAX, 256 do not. */
    char s[2000];
    memset(s, 'k', 255);
    s[255] = 0;
    n = ucs2(s, opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 255);
    s[255] = 'k';
    s[256] = 0;
    n = ucs2(s, opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), CONV_E_TOO_LONG);
    /* The image path does not count against the limit. */
    memcpy(s, "\\EFI\\BOOT\\BOOTX64.EFI ", 22);
    memset(s + 22, 'k', 255);
    s[22 + 255] = 0;
    n = ucs2(s, opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), 255);
    /* Far beyond the scratch buffer. */
    memset(s, 'k', 1999);
    s[1999] = 0;
    n = ucs2(s, opts);
    assert_int_equal(conv_load_options(opts, n, out, sizeof(out)), CONV_E_TOO_LONG);
    assert_int_equal(conv_load_options(opts, n, out, 0), CONV_E_TOO_LONG);
}

static void test_cmdline_file(void **state)
{
    char out[BOOT_CMDLINE_MAX];
    const char *f;

    f = "console=com1 smp=2\nsecond line\n";
    assert_int_equal(conv_cmdline_file(f, strlen(f), out, sizeof(out)), 18);
    assert_string_equal(out, "console=com1 smp=2");
    f = "\xef\xbb\xbf  a=1\tb=2 \r\n";
    assert_int_equal(conv_cmdline_file(f, strlen(f), out, sizeof(out)), 7);
    assert_string_equal(out, "a=1 b=2");
    f = "no newline";
    assert_int_equal(conv_cmdline_file(f, strlen(f), out, sizeof(out)), 10);
    assert_string_equal(out, "no newline");
    f = "\n\nlater";
    assert_int_equal(conv_cmdline_file(f, strlen(f), out, sizeof(out)), 0);
    assert_int_equal(conv_cmdline_file("", 0, out, sizeof(out)), 0);
    /* Only the first line is checked for junk. */
    f = "ok\n\x01\x02\xff";
    assert_int_equal(conv_cmdline_file(f, 6, out, sizeof(out)), 2);
    /* Binary or UTF-16 files. */
    assert_int_equal(conv_cmdline_file("a\0b", 3, out, sizeof(out)), CONV_E_NOT_TEXT);
    assert_int_equal(conv_cmdline_file("\xff\xfe" "a\0", 4, out, sizeof(out)), CONV_E_NOT_TEXT);
    assert_int_equal(conv_cmdline_file("caf\xc3\xa9", 5, out, sizeof(out)), CONV_E_NOT_TEXT);

    char big[400];
    memset(big, 'z', sizeof(big));
    assert_int_equal(conv_cmdline_file(big, 255, out, sizeof(out)), 255);
    assert_int_equal(conv_cmdline_file(big, 256, out, sizeof(out)), CONV_E_TOO_LONG);
    big[256] = '\n';
    assert_int_equal(conv_cmdline_file(big, sizeof(big), out, sizeof(out)), CONV_E_TOO_LONG);
    big[255] = '\n'; /* the long part is on line 2 */
    assert_int_equal(conv_cmdline_file(big, sizeof(big), out, sizeof(out)), 255);
}

static void test_gop_formats(void **state)
{
    struct boot_framebuffer fb;
    struct conv_gop_mode m = { .base = 0x80000000, .width = 1280, .height = 800,
                               .pixels_per_scan_line = 1280, .format = CONV_PIXEL_BGRX8 };
    assert_int_equal(conv_gop(&m, &fb), 0);
    assert_int_equal(fb.base, 0x80000000);
    assert_int_equal(fb.width, 1280);
    assert_int_equal(fb.height, 800);
    assert_int_equal(fb.pitch, 5120);
    assert_int_equal(fb.bpp, 32);
    assert_int_equal(fb.blue_pos, 0);
    assert_int_equal(fb.green_pos, 8);
    assert_int_equal(fb.red_pos, 16);
    assert_int_equal(fb.red_size, 8);
    assert_int_equal(fb.green_size, 8);
    assert_int_equal(fb.blue_size, 8);

    m.format = CONV_PIXEL_RGBX8;
    m.pixels_per_scan_line = 1344; /* padded scan lines */
    assert_int_equal(conv_gop(&m, &fb), 0);
    assert_int_equal(fb.red_pos, 0);
    assert_int_equal(fb.blue_pos, 16);
    assert_int_equal(fb.pitch, 1344 * 4);

    /* RGB565 */
    m.format = CONV_PIXEL_BITMASK;
    m.pixels_per_scan_line = 1280;
    m.red_mask = 0xf800, m.green_mask = 0x07e0, m.blue_mask = 0x001f, m.reserved_mask = 0;
    assert_int_equal(conv_gop(&m, &fb), 0);
    assert_int_equal(fb.bpp, 16);
    assert_int_equal(fb.pitch, 2560);
    assert_int_equal(fb.red_pos, 11);
    assert_int_equal(fb.red_size, 5);
    assert_int_equal(fb.green_pos, 5);
    assert_int_equal(fb.green_size, 6);
    assert_int_equal(fb.blue_pos, 0);
    assert_int_equal(fb.blue_size, 5);

    /* 24-bit packed, and 10-bit channels with 2 reserved bits. */
    m.red_mask = 0xff0000, m.green_mask = 0xff00, m.blue_mask = 0xff;
    assert_int_equal(conv_gop(&m, &fb), 0);
    assert_int_equal(fb.bpp, 24);
    assert_int_equal(fb.pitch, 3840);
    m.red_mask = 0x3ff00000, m.green_mask = 0xffc00, m.blue_mask = 0x3ff;
    m.reserved_mask = 0xc0000000;
    assert_int_equal(conv_gop(&m, &fb), 0);
    assert_int_equal(fb.bpp, 32);
    assert_int_equal(fb.red_pos, 20);
    assert_int_equal(fb.red_size, 10);

    /* Broken masks: empty, split, overlapping. */
    m.reserved_mask = 0;
    m.red_mask = 0;
    assert_int_equal(conv_gop(&m, &fb), CONV_E_PIXEL);
    assert_int_equal(fb.base, 0);
    m.red_mask = 0xf0f00000;
    assert_int_equal(conv_gop(&m, &fb), CONV_E_PIXEL);
    m.red_mask = 0x3ff00000, m.green_mask = 0x3ff00000;
    assert_int_equal(conv_gop(&m, &fb), CONV_E_PIXEL);

    /* BltOnly, unknown formats, nonsense geometry. */
    m.format = CONV_PIXEL_BLT_ONLY;
    assert_int_equal(conv_gop(&m, &fb), CONV_E_PIXEL);
    assert_int_equal(fb.base, 0);
    assert_int_equal(fb.bpp, 0);
    m.format = 9;
    assert_int_equal(conv_gop(&m, &fb), CONV_E_PIXEL);
    m.format = CONV_PIXEL_BGRX8;
    m.pixels_per_scan_line = 1000; /* narrower than the width */
    assert_int_equal(conv_gop(&m, &fb), CONV_E_PIXEL);
    m.pixels_per_scan_line = 0x40000000; /* pitch would overflow */
    assert_int_equal(conv_gop(&m, &fb), CONV_E_PIXEL);
    m.pixels_per_scan_line = 1280;
    m.base = 0;
    assert_int_equal(conv_gop(&m, &fb), CONV_E_PIXEL);
}

/* An RSDP of the given revision at p, checksums right. */
static void make_rsdp(uint8_t *p, uint8_t rev)
{
    memset(p, 0, rev >= 2 ? 36 : 20);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "MOATOS", 6);
    p[15] = rev;
    p[16] = 0x14; /* RsdtAddress */
    uint8_t s = 0;
    if (rev >= 2) {
        p[20] = 36;
        p[24] = 0x34; /* XsdtAddress */
    }
    for (int i = 0; i < 20; i++)
        s = (uint8_t)(s + p[i]);
    p[8] = (uint8_t)-s;
    if (rev >= 2) {
        s = 0;
        for (int i = 0; i < 36; i++)
            s = (uint8_t)(s + p[i]);
        p[32] = (uint8_t)-s;
    }
}

static void test_rsdp(void **state)
{
    static uint8_t area[0x20000];
    uint8_t r[64];

    make_rsdp(r, 0);
    assert_true(conv_rsdp_valid(r, 20));
    assert_false(conv_rsdp_valid(r, 19));
    r[16] ^= 1; /* checksum broken */
    assert_false(conv_rsdp_valid(r, 20));

    make_rsdp(r, 2);
    assert_true(conv_rsdp_valid(r, 36));
    assert_false(conv_rsdp_valid(r, 35)); /* Length does not fit */
    r[24] ^= 1; /* only the extended checksum covers byte 24 */
    assert_false(conv_rsdp_valid(r, 36));
    make_rsdp(r, 2);
    r[20] = 20; /* Length too small for revision 2 */
    r[8] = (uint8_t)(r[8] + 16);
    assert_false(conv_rsdp_valid(r, 36));
    make_rsdp(r, 2);
    r[0] = 'r';
    assert_false(conv_rsdp_valid(r, 36));

    /* Scan: a misaligned copy and a broken one are skipped; the aligned valid one is found. */
    memset(area, 0, sizeof(area));
    make_rsdp(area + 0x1008, 2);
    make_rsdp(area + 0x2000, 2);
    area[0x2000 + 8] ^= 0xff;
    make_rsdp(area + 0x9a10, 2);
    make_rsdp(area + 0xb000, 0);
    assert_int_equal(conv_rsdp_scan(area, sizeof(area)), 0x9a10);
    assert_int_equal(conv_rsdp_scan(area, 0x9a10 + 20), -1); /* cut short */
    memset(area, 0, sizeof(area));
    assert_int_equal(conv_rsdp_scan(area, sizeof(area)), -1);
    make_rsdp(area + sizeof(area) - 32, 0); /* revision 0 ending exactly at the limit */
    assert_int_equal(conv_rsdp_scan(area, sizeof(area) - 12), (long)sizeof(area) - 32);
    assert_int_equal(conv_rsdp_scan(area, sizeof(area) - 13), -1);
}

static void test_name_eq_and_strerror(void **state)
{
    assert_true(conv_name_eq("cmdline.txt", "CMDLINE.TXT"));
    assert_true(conv_name_eq("Moat.Elf", "moat.elf"));
    assert_false(conv_name_eq("moat.elf", "moat.elf2"));
    assert_false(conv_name_eq("moat.elf2", "moat.elf"));
    assert_false(conv_name_eq("moat.el", "moat.elf"));
    assert_true(conv_name_eq("", ""));
    assert_string_equal(conv_strerror(CONV_E_TOO_LONG), "too long");
    assert_string_equal(conv_strerror(CONV_E_NOT_ASCII), "not printable ASCII");
    assert_string_equal(conv_strerror(CONV_E_NOT_TEXT), "not a text command line");
    assert_string_equal(conv_strerror(CONV_E_PIXEL), "no linear framebuffer");
    assert_string_equal(conv_strerror(-99), "unknown conversion error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_to_ascii),
        cmocka_unit_test(test_load_options_text),
        cmocka_unit_test(test_load_options_binary_and_long),
        cmocka_unit_test(test_cmdline_file),
        cmocka_unit_test(test_gop_formats),
        cmocka_unit_test(test_rsdp),
        cmocka_unit_test(test_name_eq_and_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
