// SPDX-License-Identifier: Apache-2.0
// Host tests of the Multiboot2 -> boot_info converter (boot/mb2/mb2_info.c). Each test builds a
// tag list by hand; the converter reads it from a heap block of exactly max_len bytes, so any
// read past the end is caught by AddressSanitizer.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/mb2/mb2_info.h"

#define INFO_PHYS   0x10000ull
#define KERNEL_BASE 0x1000000ull
#define KERNEL_SIZE 0x300000ull
#define PAGE_UP(x)  (((x) + 0xfffull) & ~0xfffull)

/* ---- building an information structure ---------------------------------------------- */

struct tb {
    uint8_t buf[1 << 17] __attribute__((aligned(8)));
    uint32_t len;
};

static struct tb g_tb;
static struct boot_info g_bi;
static char g_err[256];

static struct tb *tb_new(void)
{
    memset(&g_tb, 0, sizeof(g_tb));
    g_tb.len = sizeof(struct mb2_info_head);
    return &g_tb;
}

/* Appends a tag whose header says `size` (normally 8 + body_len) and returns its offset. */
static uint32_t tb_raw(struct tb *t, uint32_t type, uint32_t size, const void *body,
                       uint32_t body_len)
{
    uint32_t off = t->len;
    struct mb2_tag h = { .type = type, .size = size };

    assert_true(off + 8 + body_len + 8 <= sizeof(t->buf));
    memcpy(t->buf + off, &h, sizeof(h));
    if (body_len)
        memcpy(t->buf + off + 8, body, body_len);
    t->len = (off + 8 + body_len + 7) & ~7u;
    return off;
}

static uint32_t tb_tag(struct tb *t, uint32_t type, const void *body, uint32_t body_len)
{
    return tb_raw(t, type, 8 + body_len, body, body_len);
}

static void tb_cmdline(struct tb *t, const char *s)
{
    tb_tag(t, MB2_TAG_CMDLINE, s, (uint32_t)strlen(s) + 1);
}

static void tb_module(struct tb *t, uint32_t start, uint32_t end, const char *name)
{
    uint8_t body[512];
    uint32_t n = (uint32_t)strlen(name) + 1;

    memcpy(body, &start, 4);
    memcpy(body + 4, &end, 4);
    memcpy(body + 8, name, n);
    tb_tag(t, MB2_TAG_MODULE, body, 8 + n);
}

struct ent {
    uint64_t base, len;
    uint32_t type;
};

static uint32_t tb_mmap_ex(struct tb *t, const struct ent *e, uint32_t n, uint32_t esize,
                           uint32_t version)
{
    static uint8_t body[8 + 3000 * 32];
    uint32_t off = 8;

    assert_true(8 + n * esize <= sizeof(body));
    memset(body, 0, sizeof(body));
    memcpy(body, &esize, 4);
    memcpy(body + 4, &version, 4);
    for (uint32_t i = 0; i < n; i++, off += esize) {
        memcpy(body + off, &e[i].base, 8);
        memcpy(body + off + 8, &e[i].len, 8);
        memcpy(body + off + 16, &e[i].type, 4);
    }
    return tb_tag(t, MB2_TAG_MMAP, body, off);
}

static void tb_mmap(struct tb *t, const struct ent *e, uint32_t n)
{
    tb_mmap_ex(t, e, n, 24, 0);
}

/* A copy of an RSDP whose signature byte 8 says which one it is. */
static uint32_t tb_rsdp(struct tb *t, uint32_t type, uint32_t len)
{
    uint8_t body[64] = "RSD PTR ";

    body[8] = (uint8_t)type;
    return tb_tag(t, type, body, len);
}

static void tb_fb(struct tb *t, uint8_t fb_type, uint32_t body_len)
{
    uint8_t body[40] = { 0 };
    uint64_t addr = 0xfd000000;
    uint32_t pitch = 4096, width = 1024, height = 768;

    memcpy(body, &addr, 8);
    memcpy(body + 8, &pitch, 4);
    memcpy(body + 12, &width, 4);
    memcpy(body + 16, &height, 4);
    body[20] = 32;      /* bpp */
    body[21] = fb_type;
    body[24] = 16;      /* red pos, size */
    body[25] = 8;
    body[26] = 8;       /* green */
    body[27] = 8;
    body[28] = 0;       /* blue */
    body[29] = 8;
    tb_tag(t, MB2_TAG_FRAMEBUFFER, body, body_len);
}

static void tb_end(struct tb *t)
{
    tb_tag(t, MB2_TAG_END, NULL, 0);
    memcpy(t->buf, &t->len, 4);
}

/* Runs the converter on a copy of t in a heap block of exactly max_len bytes. */
static int run_max(struct tb *t, size_t max_len)
{
    uint8_t *copy = malloc(max_len ? max_len : 1);
    struct mb2_input in = {
        .max_len = max_len, .info_phys = INFO_PHYS,
        .kernel_base = KERNEL_BASE, .kernel_size = KERNEL_SIZE,
    };
    int rc;

    assert_non_null(copy);
    memcpy(copy, t->buf, max_len < sizeof(t->buf) ? max_len : sizeof(t->buf));
    in.info = copy;
    memset(g_err, 'x', sizeof(g_err));
    memset(&g_bi, 0xa5, sizeof(g_bi));
    rc = mb2_to_boot_info(&in, &g_bi, g_err, sizeof(g_err));
    free(copy);
    return rc;
}

static int run(struct tb *t)
{
    return run_max(t, t->len);
}

static const struct ent qemu_map[] = {
    { 0x0, 0x9fc00, 1 },
    { 0x9fc00, 0x400, 2 },
    { 0xf0000, 0x10000, 2 },
    { 0x100000, 0x1fee0000 - 0x100000, 1 },
    { 0x1fee0000, 0x20000, 2 },
    { 0xfeffc000, 0x4000, 2 },
    { 0xfffc0000, 0x40000, 2 },
};
#define QEMU_MAP_N (sizeof(qemu_map) / sizeof(qemu_map[0]))

static void check_mem(uint32_t i, uint64_t base, uint64_t len, uint32_t type)
{
    assert_true(i < g_bi.mem_count);
    assert_int_equal(g_bi.mem[i].base, base);
    assert_int_equal(g_bi.mem[i].length, len);
    assert_int_equal(g_bi.mem[i].type, type);
}

static void expect_error(struct tb *t, int status, const char *msg)
{
    assert_int_equal(run(t), status);
    assert_string_equal(g_err, msg);
    /* A failed conversion leaves nothing half-filled behind. */
    assert_int_equal(g_bi.magic, 0);
    assert_int_equal(g_bi.mem_count, 0);
}

/* Minimal valid structure: a one-range map the info and kernel do not touch. */
static struct tb *tb_minimal(void)
{
    struct tb *t = tb_new();
    static const struct ent e[] = { { 0x100000, 0x100000, 1 } };

    tb_mmap(t, e, 1);
    return t;
}

/* ---- whole structures ----------------------------------------------------------------- */

static void test_full_realistic(void **state)
{
    struct tb *t = tb_new();
    uint8_t meminfo[8] = { 0x7f, 0x02, 0, 0, 0x00, 0xf8, 0x07, 0 };
    uint32_t old_off, new_off;
    uint64_t info_end;

    (void)state;
    tb_cmdline(t, "console=com1 quiet");
    tb_tag(t, 2, "GRUB 2.06-13+deb12u2", 21); /* boot loader name: ignored */
    tb_module(t, 0x2000000, 0x2000123, "moat.cfg");
    tb_module(t, 0x2001000, 0x2101000, "guest.bin");
    tb_tag(t, 4, meminfo, 8); /* basic meminfo: ignored */
    tb_mmap(t, qemu_map, QEMU_MAP_N);
    tb_fb(t, MB2_FB_TYPE_RGB, 30);
    old_off = tb_rsdp(t, MB2_TAG_ACPI_OLD, 20);
    new_off = tb_rsdp(t, MB2_TAG_ACPI_NEW, 36);
    tb_tag(t, 99, "future", 6); /* unknown: ignored */
    tb_end(t);
    info_end = INFO_PHYS + PAGE_UP(t->len);

    assert_int_equal(run(t), MB2_OK);
    assert_string_equal(g_err, "");
    assert_int_equal(g_bi.magic, BOOT_INFO_MAGIC);
    assert_int_equal(g_bi.version, BOOT_INFO_VERSION);
    assert_int_equal(g_bi.size, sizeof(struct boot_info));
    assert_int_equal(g_bi.source, BOOT_SOURCE_MULTIBOOT2);
    assert_int_equal(g_bi.kernel_base, KERNEL_BASE);
    assert_int_equal(g_bi.kernel_size, KERNEL_SIZE);
    assert_string_equal(g_bi.cmdline, "console=com1 quiet");

    assert_int_equal(g_bi.module_count, 2);
    assert_int_equal(g_bi.modules[0].base, 0x2000000);
    assert_int_equal(g_bi.modules[0].size, 0x123);
    assert_string_equal(g_bi.modules[0].name, "moat.cfg");
    assert_int_equal(g_bi.modules[1].base, 0x2001000);
    assert_int_equal(g_bi.modules[1].size, 0x100000);
    assert_string_equal(g_bi.modules[1].name, "guest.bin");

    assert_int_equal(g_bi.rsdp, INFO_PHYS + new_off + 8);
    assert_true(old_off != new_off);

    assert_int_equal(g_bi.fb.base, 0xfd000000);
    assert_int_equal(g_bi.fb.pitch, 4096);
    assert_int_equal(g_bi.fb.width, 1024);
    assert_int_equal(g_bi.fb.height, 768);
    assert_int_equal(g_bi.fb.bpp, 32);
    assert_int_equal(g_bi.fb.red_pos, 16);
    assert_int_equal(g_bi.fb.red_size, 8);
    assert_int_equal(g_bi.fb.green_pos, 8);
    assert_int_equal(g_bi.fb.green_size, 8);
    assert_int_equal(g_bi.fb.blue_pos, 0);
    assert_int_equal(g_bi.fb.blue_size, 8);

    /* The info structure, the kernel and both modules (one page-rounded run) are carved out. */
    assert_int_equal(g_bi.mem_count, 13);
    check_mem(0, 0, INFO_PHYS, BOOT_MEM_USABLE);
    check_mem(1, INFO_PHYS, info_end - INFO_PHYS, BOOT_MEM_LOADED);
    check_mem(2, info_end, 0x9fc00 - info_end, BOOT_MEM_USABLE);
    check_mem(3, 0x9fc00, 0x400, BOOT_MEM_RESERVED);
    check_mem(4, 0xf0000, 0x10000, BOOT_MEM_RESERVED);
    check_mem(5, 0x100000, KERNEL_BASE - 0x100000, BOOT_MEM_USABLE);
    check_mem(6, KERNEL_BASE, KERNEL_SIZE, BOOT_MEM_LOADED);
    check_mem(7, KERNEL_BASE + KERNEL_SIZE, 0x2000000 - (KERNEL_BASE + KERNEL_SIZE),
              BOOT_MEM_USABLE);
    check_mem(8, 0x2000000, 0x101000, BOOT_MEM_LOADED);
    check_mem(9, 0x2101000, 0x1fee0000 - 0x2101000, BOOT_MEM_USABLE);
    check_mem(10, 0x1fee0000, 0x20000, BOOT_MEM_RESERVED);
    check_mem(11, 0xfeffc000, 0x4000, BOOT_MEM_RESERVED);
    check_mem(12, 0xfffc0000, 0x40000, BOOT_MEM_RESERVED);
}

static void test_minimal_defaults(void **state)
{
    struct tb *t = tb_minimal();

    (void)state;
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_string_equal(g_bi.cmdline, "");
    assert_int_equal(g_bi.module_count, 0);
    assert_int_equal(g_bi.rsdp, 0);
    assert_int_equal(g_bi.fb.base, 0);
    assert_int_equal(g_bi.mem_count, 1);
    check_mem(0, 0x100000, 0x100000, BOOT_MEM_USABLE);
    /* Fields the converter does not own are zeroed, not left as they were. */
    assert_int_equal(g_bi.rsvd_0x1c, 0);
    assert_int_equal(g_bi.mem[1].base, 0);
    assert_int_equal(g_bi.modules[0].name[0], '\0');
}

/* ---- one tag type at a time --------------------------------------------------------- */

static void test_cmdline(void **state)
{
    struct tb *t = tb_minimal();

    (void)state;
    tb_cmdline(t, "");
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_string_equal(g_bi.cmdline, "");

    t = tb_minimal();
    tb_cmdline(t, "a=1 b=two");
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_string_equal(g_bi.cmdline, "a=1 b=two");
}

static void test_cmdline_lengths(void **state)
{
    char s[300];
    struct tb *t;

    (void)state;
    memset(s, 'c', sizeof(s));
    s[BOOT_CMDLINE_MAX - 1] = '\0'; /* 255 characters: the most that fits */
    t = tb_minimal();
    tb_cmdline(t, s);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(strlen(g_bi.cmdline), BOOT_CMDLINE_MAX - 1);

    s[BOOT_CMDLINE_MAX - 1] = 'c';
    s[BOOT_CMDLINE_MAX] = '\0';
    t = tb_minimal();
    tb_cmdline(t, s);
    tb_end(t);
    expect_error(t, MB2_E_LIMIT, "command line is 256 bytes long, more than the 255 Moat accepts");
}

static void test_cmdline_unterminated(void **state)
{
    struct tb *t = tb_minimal();

    (void)state;
    tb_tag(t, MB2_TAG_CMDLINE, "abcd", 4);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "command line in the tag at offset 48 is not NUL-terminated");
}

static void test_module(void **state)
{
    struct tb *t = tb_minimal();

    (void)state;
    tb_module(t, 0x180000, 0x180000, "empty.bin"); /* zero-length modules are allowed */
    tb_module(t, 0x181000, 0x181001, "one.bin");
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.module_count, 2);
    assert_int_equal(g_bi.modules[0].base, 0x180000);
    assert_int_equal(g_bi.modules[0].size, 0);
    assert_string_equal(g_bi.modules[0].name, "empty.bin");
    assert_int_equal(g_bi.modules[1].size, 1);
    /* The empty module takes no page; the one-byte one takes a whole page. */
    assert_int_equal(g_bi.mem_count, 3);
    check_mem(0, 0x100000, 0x81000, BOOT_MEM_USABLE);
    check_mem(1, 0x181000, 0x1000, BOOT_MEM_LOADED);
    check_mem(2, 0x182000, 0x7e000, BOOT_MEM_USABLE);
}

static void test_module_name_lengths(void **state)
{
    char name[80];
    struct tb *t;

    (void)state;
    memset(name, 'n', sizeof(name));
    name[BOOT_MODULE_NAME_MAX - 1] = '\0';
    t = tb_minimal();
    tb_module(t, 0x180000, 0x181000, name);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(strlen(g_bi.modules[0].name), BOOT_MODULE_NAME_MAX - 1);

    name[BOOT_MODULE_NAME_MAX - 1] = 'n';
    name[BOOT_MODULE_NAME_MAX] = '\0';
    t = tb_minimal();
    tb_module(t, 0x180000, 0x181000, name);
    tb_end(t);
    expect_error(t, MB2_E_LIMIT, "module name is 64 bytes long, more than the 63 Moat accepts");
}

static void test_module_errors(void **state)
{
    struct tb *t;
    uint8_t body[8] = { 0 };

    (void)state;
    t = tb_minimal();
    tb_module(t, 0x180000, 0x181000, "");
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "module at 0x180000 has no name (module2 FILE NAME)");

    t = tb_minimal();
    tb_module(t, 0x181000, 0x180000, "back.bin");
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "module 'back.bin' ends (0x180000) before it starts (0x181000)");

    t = tb_minimal();
    tb_module(t, 0x180010, 0x181000, "odd.bin");
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "module 'odd.bin' at 0x180010 is not page-aligned");

    t = tb_minimal();
    tb_module(t, 0x180000, 0x181000, "same");
    tb_module(t, 0x181000, 0x182000, "same");
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "two modules are named 'same'");

    t = tb_minimal();
    tb_tag(t, MB2_TAG_MODULE, body, 8); /* no room for even an empty string */
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "module tag at offset 48 is too short (16 bytes)");

    t = tb_minimal();
    tb_tag(t, MB2_TAG_MODULE, "\0\0\x18\0\0\0\x18\0abc", 11);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "module name in the tag at offset 48 is not NUL-terminated");
}

static void test_too_many_modules(void **state)
{
    struct tb *t;
    char name[16];

    (void)state;
    t = tb_minimal();
    for (uint32_t i = 0; i < BOOT_MODULES_MAX; i++) {
        snprintf(name, sizeof(name), "m%u", i);
        tb_module(t, 0x200000 + i * 0x1000, 0x200000 + i * 0x1000 + 1, name);
    }
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.module_count, BOOT_MODULES_MAX);
    assert_string_equal(g_bi.modules[31].name, "m31");

    t = tb_minimal();
    for (uint32_t i = 0; i <= BOOT_MODULES_MAX; i++) {
        snprintf(name, sizeof(name), "m%u", i);
        tb_module(t, 0x200000 + i * 0x1000, 0x200000 + i * 0x1000 + 1, name);
    }
    tb_end(t);
    expect_error(t, MB2_E_LIMIT, "more than 32 modules (Moat accepts 32)");
}

static void test_framebuffer(void **state)
{
    struct tb *t;

    (void)state;
    t = tb_minimal();
    tb_fb(t, 2, 24); /* EGA text: no linear framebuffer for the kernel */
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.fb.base, 0);
    assert_int_equal(g_bi.fb.width, 0);

    t = tb_minimal();
    tb_fb(t, 0, 24); /* indexed colour: not passed on either */
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.fb.base, 0);

    t = tb_minimal();
    tb_fb(t, MB2_FB_TYPE_RGB, 29); /* RGB, but the colour fields are cut off */
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "framebuffer tag at offset 48 is too short (37 bytes)");

    t = tb_minimal();
    tb_fb(t, 2, 23);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "framebuffer tag at offset 48 is too short (31 bytes)");
}

static void test_rsdp_preference(void **state)
{
    struct tb *t;
    uint32_t old_off, new_off;

    (void)state;
    t = tb_minimal();
    old_off = tb_rsdp(t, MB2_TAG_ACPI_OLD, 20);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.rsdp, INFO_PHYS + old_off + 8);

    t = tb_minimal();
    new_off = tb_rsdp(t, MB2_TAG_ACPI_NEW, 36);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.rsdp, INFO_PHYS + new_off + 8);

    /* Both present: the 2.0+ copy wins whichever comes first. */
    t = tb_minimal();
    new_off = tb_rsdp(t, MB2_TAG_ACPI_NEW, 36);
    old_off = tb_rsdp(t, MB2_TAG_ACPI_OLD, 20);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.rsdp, INFO_PHYS + new_off + 8);
    assert_true(new_off < old_off);

    t = tb_minimal();
    old_off = tb_rsdp(t, MB2_TAG_ACPI_OLD, 20);
    new_off = tb_rsdp(t, MB2_TAG_ACPI_NEW, 36);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.rsdp, INFO_PHYS + new_off + 8);
    assert_true(old_off < new_off);

    t = tb_minimal();
    tb_rsdp(t, MB2_TAG_ACPI_NEW, 20); /* a v1-sized copy in a v2 tag */
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "ACPI RSDP tag (type 15) at offset 48 is too short (28 bytes)");

    t = tb_minimal();
    tb_rsdp(t, MB2_TAG_ACPI_OLD, 19);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "ACPI RSDP tag (type 14) at offset 48 is too short (27 bytes)");

    t = tb_minimal();
    tb_rsdp(t, MB2_TAG_ACPI_OLD, 20);
    tb_rsdp(t, MB2_TAG_ACPI_OLD, 20);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "duplicate tag of type 14 at offset 80");
}

/* ---- structure-level corruption ----------------------------------------------------- */

static void test_bad_total_size(void **state)
{
    struct tb *t;
    uint32_t v;

    (void)state;
    t = tb_minimal();
    tb_end(t);
    v = 8;
    memcpy(t->buf, &v, 4);
    expect_error(t, MB2_E_MALFORMED, "bad total_size 8 in the boot information (limit 56)");

    t = tb_minimal();
    tb_end(t);
    v = t->len + 8; /* claims more than the caller can read */
    memcpy(t->buf, &v, 4);
    expect_error(t, MB2_E_MALFORMED, "bad total_size 64 in the boot information (limit 56)");

    t = tb_minimal();
    tb_end(t);
    v = 0xffffffff;
    memcpy(t->buf, &v, 4);
    expect_error(t, MB2_E_MALFORMED,
                 "bad total_size 4294967295 in the boot information (limit 56)");

    /* The caller can read fewer bytes than a head and an end tag. */
    t = tb_minimal();
    tb_end(t);
    assert_int_equal(run_max(t, 12), MB2_E_MALFORMED);
    assert_string_equal(g_err, "boot information area is only 12 bytes");
    assert_int_equal(run_max(t, 0), MB2_E_MALFORMED);
    assert_string_equal(g_err, "boot information area is only 0 bytes");

    /* A larger readable area than total_size is fine. */
    assert_int_equal(run_max(t, t->len + 100), MB2_OK);
}

static void test_tag_overruns_end(void **state)
{
    struct tb *t = tb_minimal();
    uint32_t v;

    (void)state;
    tb_raw(t, 77, 64, "0123456789abcdef", 16); /* says 64, 24 bytes before the end tag */
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "tag of type 77 at offset 48 (size 64) runs past total_size 80");

    /* The last tag (the end tag itself) claims more than is left. */
    t = tb_minimal();
    tb_end(t);
    v = 16;
    memcpy(t->buf + t->len - 4, &v, 4);
    expect_error(t, MB2_E_MALFORMED,
                 "tag of type 0 at offset 48 (size 16) runs past total_size 56");

    /* A huge size must not wrap the bound check. */
    t = tb_minimal();
    tb_raw(t, 77, 0xfffffff8, NULL, 0);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "tag of type 77 at offset 48 (size 4294967288) runs past total_size 64");

    /* The memory map tag claims more entries than fit. */
    t = tb_new();
    static const struct ent e[] = { { 0x100000, 0x100000, 1 } };
    uint32_t off = tb_mmap_ex(t, e, 1, 24, 0);
    tb_end(t);
    v = 40 + 24;
    memcpy(t->buf + off + 4, &v, 4);
    expect_error(t, MB2_E_MALFORMED, "tag of type 6 at offset 8 (size 64) runs past total_size 56");
}

static void test_zero_size_tag(void **state)
{
    struct tb *t = tb_minimal();

    (void)state;
    tb_raw(t, 5, 0, NULL, 0);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "tag of type 5 at offset 48 has size 0");

    t = tb_minimal();
    tb_raw(t, 5, 7, NULL, 0);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "tag of type 5 at offset 48 has size 7");

    /* A zero-size end tag is no end tag either. */
    t = tb_minimal();
    tb_raw(t, MB2_TAG_END, 0, NULL, 0);
    memcpy(t->buf, &t->len, 4);
    expect_error(t, MB2_E_MALFORMED, "tag of type 0 at offset 48 has size 0");
}

static void test_missing_end_tag(void **state)
{
    struct tb *t = tb_minimal();

    (void)state;
    tb_cmdline(t, "x");
    memcpy(t->buf, &t->len, 4); /* total_size covers the tags, but no end tag */
    expect_error(t, MB2_E_MALFORMED, "no end tag within total_size 64");

    /* A last tag whose padding reaches total_size leaves no room for an end tag. */
    t = tb_minimal();
    tb_cmdline(t, "abc");
    t->len -= 4; /* total_size ends inside the padding */
    memcpy(t->buf, &t->len, 4);
    expect_error(t, MB2_E_MALFORMED, "no end tag within total_size 60");

    /* Only the head: total_size 16 with zeros after it is an end tag of size 0. */
    t = tb_new();
    t->len = 16;
    memcpy(t->buf, &t->len, 4);
    expect_error(t, MB2_E_MALFORMED, "tag of type 0 at offset 8 has size 0");
}

static void test_missing_mmap(void **state)
{
    struct tb *t = tb_new();

    (void)state;
    tb_cmdline(t, "x");
    tb_end(t);
    expect_error(t, MB2_E_NO_MMAP, "no memory map from the boot loader");
}

static void test_mmap_format(void **state)
{
    struct tb *t;
    static const struct ent e[] = {
        { 0x100000, 0x100000, 1 },
        { 0x300000, 0x1000, 2 },
    };

    (void)state;
    t = tb_new();
    tb_mmap_ex(t, e, 2, 20, 0);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "memory map entry_size 20 is invalid (want a multiple of 8, >= 24)");

    t = tb_new();
    tb_mmap_ex(t, e, 2, 28, 0);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "memory map entry_size 28 is invalid (want a multiple of 8, >= 24)");

    t = tb_new();
    tb_mmap_ex(t, e, 2, 0, 0);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "memory map entry_size 0 is invalid (want a multiple of 8, >= 24)");

    t = tb_new();
    tb_mmap_ex(t, e, 2, 24, 1);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "memory map entry_version 1 is not 0");

    /* Larger entries (a later version appending fields) are read with their stride. */
    t = tb_new();
    tb_mmap_ex(t, e, 2, 32, 0);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.mem_count, 2);
    check_mem(0, 0x100000, 0x100000, BOOT_MEM_USABLE);
    check_mem(1, 0x300000, 0x1000, BOOT_MEM_RESERVED);

    /* A tag body that is not a whole number of entries. */
    t = tb_new();
    uint8_t body[8 + 30] = { 24, 0, 0, 0, 0, 0, 0, 0 };
    tb_tag(t, MB2_TAG_MMAP, body, sizeof(body));
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED,
                 "memory map tag size 46 is not 16 + a multiple of entry_size 24");

    t = tb_new();
    tb_tag(t, MB2_TAG_MMAP, body, 4);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "memory map tag at offset 8 is too short (12 bytes)");

    t = tb_new();
    tb_mmap(t, e, 0);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "memory map from the boot loader is empty");

    t = tb_new();
    tb_mmap(t, e, 1);
    tb_mmap(t, e, 1);
    tb_end(t);
    expect_error(t, MB2_E_MALFORMED, "duplicate tag of type 6 at offset 48");
}

/* ---- memory map normalization -------------------------------------------------------- */

static void test_mmap_unsorted_overlapping(void **state)
{
    struct tb *t = tb_new();
    static const struct ent e[] = {
        { 0x800000, 0x100000, 1 },  /* available, listed last-first */
        { 0x400000, 0x200000, 1 },
        { 0x500000, 0x200000, 2 },  /* reserved over the tail of the one above */
        { 0x100000, 0x300000, 1 },  /* adjacent to 0x400000: merges */
        { 0x200000, 0x1000, 3 },    /* ACPI reclaim inside available */
        { 0x201000, 0x1000, 4 },    /* NVS right after it */
        { 0x680000, 0x10000, 5 },   /* bad inside reserved: bad wins */
        { 0x900000, 0x0, 2 },       /* zero length: ignored */
        { 0x900000, 0x1000, 12 },   /* unknown type: reserved */
        { 0x901000, 0x1000, 2 },    /* reserved after unknown: merges with it */
        { 0x880000, 0x1000, 1 },    /* duplicate inside available */
    };

    (void)state;
    tb_mmap(t, e, sizeof(e) / sizeof(e[0]));
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.mem_count, 9);
    check_mem(0, 0x100000, 0x100000, BOOT_MEM_USABLE);
    check_mem(1, 0x200000, 0x1000, BOOT_MEM_ACPI_RECLAIM);
    check_mem(2, 0x201000, 0x1000, BOOT_MEM_ACPI_NVS);
    check_mem(3, 0x202000, 0x500000 - 0x202000, BOOT_MEM_USABLE);
    check_mem(4, 0x500000, 0x180000, BOOT_MEM_RESERVED);
    check_mem(5, 0x680000, 0x10000, BOOT_MEM_BAD);
    check_mem(6, 0x690000, 0x700000 - 0x690000, BOOT_MEM_RESERVED);
    check_mem(7, 0x800000, 0x100000, BOOT_MEM_USABLE);
    check_mem(8, 0x900000, 0x2000, BOOT_MEM_RESERVED);
}

static void test_mmap_restrictive_wins(void **state)
{
    /* The same range under every pair of types: the more restrictive one stays. */
    static const uint32_t mb2_types[] = { 1, 3, 4, 2, 5 };
    static const uint32_t boot_types[] = {
        BOOT_MEM_USABLE, BOOT_MEM_ACPI_RECLAIM, BOOT_MEM_ACPI_NVS, BOOT_MEM_RESERVED, BOOT_MEM_BAD,
    };

    (void)state;
    for (uint32_t a = 0; a < 5; a++) {
        for (uint32_t b = 0; b < 5; b++) {
            struct ent e[2] = {
                { 0x100000, 0x10000, mb2_types[a] },
                { 0x100000, 0x10000, mb2_types[b] },
            };
            struct tb *t = tb_new();

            tb_mmap(t, e, 2);
            tb_end(t);
            assert_int_equal(run(t), MB2_OK);
            assert_int_equal(g_bi.mem_count, 1);
            check_mem(0, 0x100000, 0x10000, boot_types[a > b ? a : b]);
        }
    }
}

static void test_mmap_top_of_address_space(void **state)
{
    struct tb *t = tb_new();
    static const struct ent e[] = {
        { 0xfffffffffff00000ull, 0x200000, 2 }, /* wraps: clamped to the top */
        { 0xffffffffffe00000ull, 0x100000, 1 },
    };

    (void)state;
    tb_mmap(t, e, 2);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.mem_count, 2);
    check_mem(0, 0xffffffffffe00000ull, 0x100000, BOOT_MEM_USABLE);
    check_mem(1, 0xfffffffffff00000ull, 0xfffff, BOOT_MEM_RESERVED);
}

static void test_mmap_too_many(void **state)
{
    static struct ent e[2100];
    struct tb *t;
    uint32_t n;

    (void)state;
    /* 512 separate ranges fit exactly; the info and kernel lie outside all of them. */
    for (n = 0; n < BOOT_MEM_MAX; n++)
        e[n] = (struct ent){ 0x100000000ull + n * 0x2000ull, 0x1000, 1 };
    t = tb_new();
    tb_mmap(t, e, n);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.mem_count, BOOT_MEM_MAX);
    check_mem(BOOT_MEM_MAX - 1, 0x100000000ull + (BOOT_MEM_MAX - 1) * 0x2000ull, 0x1000,
              BOOT_MEM_USABLE);

    e[n] = (struct ent){ 0x100000000ull + n * 0x2000ull, 0x1000, 1 };
    n++;
    t = tb_new();
    tb_mmap(t, e, n);
    tb_end(t);
    expect_error(t, MB2_E_LIMIT, "memory map needs more than 512 ranges");

    /* Many entries that merge into one are fine... */
    for (n = 0; n < 2048; n++)
        e[n] = (struct ent){ 0x100000000ull + n * 0x1000ull, 0x1000, 1 };
    t = tb_new();
    tb_mmap(t, e, n);
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.mem_count, 1);
    check_mem(0, 0x100000000ull, 2048 * 0x1000ull, BOOT_MEM_USABLE);

    /* ...up to the bound on raw entries. */
    e[n] = (struct ent){ 0x100000000ull + n * 0x1000ull, 0x1000, 1 };
    n++;
    t = tb_new();
    tb_mmap(t, e, n);
    tb_end(t);
    expect_error(t, MB2_E_LIMIT, "memory map has 2049 entries, more than 2048");
}

static void test_carve_out(void **state)
{
    struct tb *t = tb_new();
    static const struct ent e[] = {
        { 0x0, 0x9f000, 1 },
        { 0x100000, 0x3f00000, 1 },
        { 0x4000000, 0x100000, 2 },
        { 0x4100000, 0x100000, 1 },
    };

    (void)state;
    tb_mmap(t, e, sizeof(e) / sizeof(e[0]));
    tb_module(t, 0x3fff000, 0x4001000, "straddle.bin"); /* half usable, half reserved */
    tb_module(t, 0x9f000, 0xa0000, "hole.bin");        /* in a hole of the map */
    tb_module(t, 0x4100000, 0x4100800, "edge.bin");    /* at the start of a usable range */
    tb_end(t);
    assert_int_equal(run(t), MB2_OK);
    assert_int_equal(g_bi.module_count, 3);
    assert_int_equal(g_bi.mem_count, 10);
    check_mem(0, 0x0, INFO_PHYS, BOOT_MEM_USABLE);
    check_mem(1, INFO_PHYS, 0x1000, BOOT_MEM_LOADED);
    check_mem(2, INFO_PHYS + 0x1000, 0x9f000 - INFO_PHYS - 0x1000, BOOT_MEM_USABLE);
    /* nothing at the hole module */
    check_mem(3, 0x100000, KERNEL_BASE - 0x100000, BOOT_MEM_USABLE);
    check_mem(4, KERNEL_BASE, KERNEL_SIZE, BOOT_MEM_LOADED);
    check_mem(5, KERNEL_BASE + KERNEL_SIZE, 0x3fff000 - KERNEL_BASE - KERNEL_SIZE,
              BOOT_MEM_USABLE);
    check_mem(6, 0x3fff000, 0x1000, BOOT_MEM_LOADED);
    check_mem(7, 0x4000000, 0x100000, BOOT_MEM_RESERVED);
    check_mem(8, 0x4100000, 0x1000, BOOT_MEM_LOADED);
    check_mem(9, 0x4101000, 0xff000, BOOT_MEM_USABLE);
}

static void test_kernel_and_info_unaligned(void **state)
{
    struct tb *t = tb_new();
    static const struct ent e[] = { { 0x0, 0x10000000, 1 } };
    uint8_t *copy;
    struct mb2_input in;
    int rc;

    (void)state;
    tb_mmap(t, e, 1);
    tb_end(t);
    copy = malloc(t->len);
    assert_non_null(copy);
    memcpy(copy, t->buf, t->len);
    in = (struct mb2_input){ .info = copy, .max_len = t->len, .info_phys = 0x20ff8,
                             .kernel_base = 0x1000000, .kernel_size = 0x123456 };
    rc = mb2_to_boot_info(&in, &g_bi, g_err, sizeof(g_err));
    free(copy);
    assert_int_equal(rc, MB2_OK);
    /* Widened to whole pages: the 48-byte structure at 0x20ff8 touches two pages. */
    assert_int_equal(g_bi.mem_count, 5);
    check_mem(0, 0x0, 0x20000, BOOT_MEM_USABLE);
    check_mem(1, 0x20000, 0x2000, BOOT_MEM_LOADED);
    check_mem(2, 0x22000, 0x1000000 - 0x22000, BOOT_MEM_USABLE);
    check_mem(3, 0x1000000, 0x124000, BOOT_MEM_LOADED);
    check_mem(4, 0x1124000, 0x10000000 - 0x1124000, BOOT_MEM_USABLE);
    assert_int_equal(g_bi.kernel_size, 0x123456);
}

static void test_error_buffer(void **state)
{
    struct tb *t = tb_new();
    struct mb2_input in;
    char small[8];

    (void)state;
    tb_end(t);
    in = (struct mb2_input){ .info = t->buf, .max_len = t->len, .info_phys = INFO_PHYS };
    memset(small, 'x', sizeof(small));
    assert_int_equal(mb2_to_boot_info(&in, &g_bi, small, sizeof(small)), MB2_E_NO_MMAP);
    assert_string_equal(small, "no memo");
    /* No buffer at all is allowed. */
    assert_int_equal(mb2_to_boot_info(&in, &g_bi, NULL, 0), MB2_E_NO_MMAP);
}

/* ---- hostile input: random corruption of a realistic structure ------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void test_fuzz(void **state)
{
    struct tb base;
    uint32_t ok = 0;

    (void)state;
    tb_new();
    tb_cmdline(&g_tb, "console=com1");
    tb_module(&g_tb, 0x2000000, 0x2000123, "moat.cfg");
    tb_mmap(&g_tb, qemu_map, QEMU_MAP_N);
    tb_fb(&g_tb, MB2_FB_TYPE_RGB, 30);
    tb_rsdp(&g_tb, MB2_TAG_ACPI_NEW, 36);
    tb_end(&g_tb);
    base = g_tb;

    for (uint32_t iter = 0; iter < 20000; iter++) {
        g_tb = base;
        uint32_t flips = 1 + rng() % 4;

        for (uint32_t i = 0; i < flips; i++) {
            uint32_t pos = rng() % base.len;

            switch (rng() % 3) {
            case 0: g_tb.buf[pos] ^= (uint8_t)(1u << (rng() % 8)); break;
            case 1: g_tb.buf[pos] = (uint8_t)rng(); break;
            default: g_tb.buf[pos] = (rng() & 1) ? 0xff : 0; break;
            }
        }
        int rc = run_max(&g_tb, base.len - (rng() % 4 == 0 ? rng() % base.len : 0));

        if (rc != MB2_OK) {
            assert_true(rc == MB2_E_MALFORMED || rc == MB2_E_NO_MMAP || rc == MB2_E_LIMIT);
            assert_true(strlen(g_err) > 0 && strlen(g_err) < sizeof(g_err));
            continue;
        }
        ok++;
        /* Whatever was accepted obeys the boot_info contract. */
        assert_true(g_bi.mem_count >= 1 && g_bi.mem_count <= BOOT_MEM_MAX);
        for (uint32_t i = 0; i < g_bi.mem_count; i++) {
            const struct boot_mem_range *r = &g_bi.mem[i];

            assert_true(r->length > 0);
            assert_true(r->type >= BOOT_MEM_USABLE && r->type <= BOOT_MEM_BAD);
            if (i) {
                const struct boot_mem_range *p = &g_bi.mem[i - 1];

                assert_true(p->base + p->length <= r->base);
                assert_false(p->base + p->length == r->base && p->type == r->type);
            }
        }
        assert_true(strlen(g_bi.cmdline) < BOOT_CMDLINE_MAX);
        for (uint32_t i = 0; i < g_bi.module_count; i++)
            assert_true(strlen(g_bi.modules[i].name) < BOOT_MODULE_NAME_MAX);
    }
    assert_true(ok > 100); /* the corruption did not reject everything */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_realistic),
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_cmdline),
        cmocka_unit_test(test_cmdline_lengths),
        cmocka_unit_test(test_cmdline_unterminated),
        cmocka_unit_test(test_module),
        cmocka_unit_test(test_module_name_lengths),
        cmocka_unit_test(test_module_errors),
        cmocka_unit_test(test_too_many_modules),
        cmocka_unit_test(test_framebuffer),
        cmocka_unit_test(test_rsdp_preference),
        cmocka_unit_test(test_bad_total_size),
        cmocka_unit_test(test_tag_overruns_end),
        cmocka_unit_test(test_zero_size_tag),
        cmocka_unit_test(test_missing_end_tag),
        cmocka_unit_test(test_missing_mmap),
        cmocka_unit_test(test_mmap_format),
        cmocka_unit_test(test_mmap_unsorted_overlapping),
        cmocka_unit_test(test_mmap_restrictive_wins),
        cmocka_unit_test(test_mmap_top_of_address_space),
        cmocka_unit_test(test_mmap_too_many),
        cmocka_unit_test(test_carve_out),
        cmocka_unit_test(test_kernel_and_info_unaligned),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_fuzz),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
