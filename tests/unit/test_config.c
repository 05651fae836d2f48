// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/config.c: every error class with its exact text and location, good
// files parsed into the expected struct, line-ending and hostile-input cases, the machine
// checks, and every file in configs/examples (read from disk; run from the repository root).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/config.h"

#define DIAG_MAX 64
#define DIAG_LEN 512
#define MIB (1024ull * 1024)

static char diags[DIAG_MAX][DIAG_LEN];
static unsigned ndiags;
static struct config_sink sink;
static struct moat_config cfg;

static void collect(void *ctx, const struct config_diag *d)
{
    if (ndiags < DIAG_MAX)
        config_diag_format(d, diags[ndiags], DIAG_LEN);
    ndiags++;
}

static void reset(void)
{
    ndiags = 0;
    sink = (struct config_sink){ collect, NULL, 0, 0 };
}

/* Parses len bytes from an exact-size heap copy, so ASan sees any read past the end. */
static void dump(void);

/* CONFIG_TEST_VERBOSE=1 prints every diagnostic as it is collected. */
static uint32_t parse_n(const char *text, size_t len)
{
    reset();
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    uint32_t n = config_parse(&cfg, "t.cfg", copy, len, &sink);
    free(copy);
    if (getenv("CONFIG_TEST_VERBOSE"))
        dump();
    assert_int_equal(n, sink.errors);
    return n;
}

static uint32_t parse(const char *text)
{
    return parse_n(text, strlen(text));
}

static void dump(void)
{
    for (unsigned i = 0; i < ndiags && i < DIAG_MAX; i++)
        fprintf(stderr, "  diag %u: %s\n", i, diags[i]);
}

/* Exactly these diagnostics, in order. */
static void expect(unsigned n, ...)
{
    va_list ap;
    va_start(ap, n);
    if (ndiags != n)
        dump();
    assert_int_equal(ndiags, n);
    for (unsigned i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        if (strcmp(diags[i], want) != 0)
            dump();
        assert_string_equal(diags[i], want);
    }
    va_end(ap);
}

/* One diagnostic with this exact text among the ones reported. */
static void expect_has(const char *want)
{
    for (unsigned i = 0; i < ndiags && i < DIAG_MAX; i++)
        if (strcmp(diags[i], want) == 0)
            return;
    dump();
    fail_msg("missing diagnostic: %s", want);
}

#define PART_A "[partition a]\ncpus = 0\nmemory = 16M\nimage = a.bin\n"

/* ---- good files ---------------------------------------------------------------------- */

static void test_minimal_defaults(void **state)
{
    assert_int_equal(parse(PART_A), 0);
    expect(0);
    assert_string_equal(cfg.file, "t.cfg");
    assert_int_equal(cfg.moat_at.line, 0);
    assert_int_equal(cfg.console_port, 0);
    assert_int_equal(cfg.scheduler, CONFIG_SCHED_ROUND_ROBIN);
    assert_int_equal(cfg.timeslice_us, 10000);
    assert_int_equal(cfg.major_frame_us, 0);
    assert_int_equal(cfg.partition_count, 1);
    assert_int_equal(cfg.shmem_count, 0);
    const struct config_partition *p = &cfg.partitions[0];
    assert_string_equal(p->name, "a");
    assert_int_equal(p->at.line, 1);
    assert_int_equal(p->at.col, 1);
    assert_int_equal(p->cpus[0], 1);
    assert_int_equal(p->cpu_count, 1);
    assert_int_equal(p->memory, 16 * MIB);
    assert_false(p->has_base);
    assert_string_equal(p->image, "a.bin");
    assert_int_equal(p->kind, CONFIG_KIND_FLAT);
    assert_int_equal(p->mode, CONFIG_MODE_LONG64);
    assert_int_equal(p->load, 0x100000);
    assert_int_equal(p->entry, 0x100000);
    assert_string_equal(p->cmdline, "");
    assert_int_equal(p->priority, 128);
    assert_int_equal(p->budget_us, 0);
    assert_int_equal(p->period_us, 100000);
    assert_int_equal(p->window_count, 0);
    assert_int_equal(p->on_crash, CONFIG_CRASH_STOP);
    assert_int_equal(p->restart_delay_us, 100000);
    assert_int_equal(p->restart_delay_max_us, 10000000);
    assert_int_equal(p->max_restarts, 5);
    assert_true(p->autostart);
    assert_int_equal(p->serial, CONFIG_SERIAL_VIRTUAL);
    assert_int_equal(p->serial_port, 0x3f8);
    assert_int_equal(p->pci_count, 0);
    assert_int_equal(p->shmem_count, 0);
    /* Where each value starts; keys not given have line 0. */
    assert_int_equal(p->keys.at[CONFIG_KEY_CPUS].line, 2);
    assert_int_equal(p->keys.at[CONFIG_KEY_CPUS].col, 8);
    assert_int_equal(p->keys.at[CONFIG_KEY_MEMORY].line, 3);
    assert_int_equal(p->keys.at[CONFIG_KEY_IMAGE].col, 9);
    assert_int_equal(p->keys.at[CONFIG_KEY_BASE].line, 0);
    assert_int_equal(p->keys.bad, 0);
}

static const char full_text[] =
    "# every key, with comments and odd spacing\n"
    "; a semicolon comment\n"
    "\n"
    "[ moat ]   # header comment\n"
    "console=0x2e8\n"
    "scheduler = priority\n"
    "\n"
    "[partition web-1_X]\n"
    "  cpus = 0-2, 5 ,7   \n"
    "\tmemory\t=\t1G\n"
    "base = 0x40000000\n"
    "image = web.bin\n"
    "kind = flat\n"
    "mode = prot32\n"
    "load = 0x200000\n"
    "entry = 2097168\n"
    "cmdline = \"say \\\"hi\\\" # not a comment; C:\\\\dir\"   # a comment\n"
    "priority = 255\n"
    "budget = 1500us\n"
    "period = 1s\n"
    "on_crash = restart\n"
    "restart_delay = 0\n"
    "restart_delay_max = 2s\n"
    "max_restarts = 1000\n"
    "autostart = no\n"
    "serial = passthrough\n"
    "serial_port = com3\n"
    "pci = 00:1f.2, ff:1f.7,3:0.1\n"
    "shmem = r0,r1\n"
    "\n"
    "[partition second]\n"
    "cpus = 3\n"
    "memory = 4096K\n"
    "image = \"second.elf\"\n"
    "kind = elf\n"
    "autostart = yes\n"
    "shmem = r1\n"
    "[shmem r0]\n"
    "size = 2M\n"
    "[shmem r1]\n"
    "size = 0x10K\n";

static void check_full(void)
{
    assert_int_equal(cfg.console_port, 0x2e8);
    assert_int_equal(cfg.moat_at.line, 4);
    assert_int_equal(cfg.scheduler, CONFIG_SCHED_PRIORITY);
    assert_int_equal(cfg.partition_count, 2);
    const struct config_partition *p = &cfg.partitions[0];
    assert_string_equal(p->name, "web-1_X");
    assert_int_equal(p->cpus[0], 0xa7); /* 0,1,2,5,7 */
    assert_int_equal(p->cpus[1] | p->cpus[2] | p->cpus[3], 0);
    assert_int_equal(p->cpu_count, 5);
    assert_int_equal(p->memory, 1024 * MIB);
    assert_true(p->has_base);
    assert_int_equal(p->base, 0x40000000);
    assert_string_equal(p->image, "web.bin");
    assert_int_equal(p->kind, CONFIG_KIND_FLAT);
    assert_int_equal(p->mode, CONFIG_MODE_PROT32);
    assert_int_equal(p->load, 0x200000);
    assert_int_equal(p->entry, 0x200010);
    assert_string_equal(p->cmdline, "say \"hi\" # not a comment; C:\\dir");
    assert_int_equal(p->priority, 255);
    assert_int_equal(p->budget_us, 1500);
    assert_int_equal(p->period_us, 1000000);
    assert_int_equal(p->on_crash, CONFIG_CRASH_RESTART);
    assert_int_equal(p->restart_delay_us, 0);
    assert_int_equal(p->restart_delay_max_us, 2000000);
    assert_int_equal(p->max_restarts, 1000);
    assert_false(p->autostart);
    assert_int_equal(p->serial, CONFIG_SERIAL_PASSTHROUGH);
    assert_int_equal(p->serial_port, 0x3e8);
    assert_int_equal(p->pci_count, 3);
    assert_int_equal(p->pci[0].bus, 0);
    assert_int_equal(p->pci[0].dev, 0x1f);
    assert_int_equal(p->pci[0].fn, 2);
    assert_int_equal(p->pci[1].bus, 0xff);
    assert_int_equal(p->pci[1].dev, 0x1f);
    assert_int_equal(p->pci[1].fn, 7);
    assert_int_equal(p->pci[2].bus, 3);
    assert_int_equal(p->pci[2].dev, 0);
    assert_int_equal(p->pci[2].fn, 1);
    assert_int_equal(p->shmem_count, 2);
    assert_string_equal(p->shmem[0], "r0");
    assert_string_equal(p->shmem[1], "r1");
    assert_int_equal(p->shmem_index[0], 0);
    assert_int_equal(p->shmem_index[1], 1);
    assert_int_equal(p->shmem_index[2], CONFIG_NO_SHMEM);
    assert_int_equal(p->keys.at[CONFIG_KEY_CPUS].line, 9);
    assert_int_equal(p->keys.at[CONFIG_KEY_CPUS].col, 10);
    assert_int_equal(p->keys.at[CONFIG_KEY_MEMORY].col, 11);

    const struct config_partition *q = &cfg.partitions[1];
    assert_string_equal(q->name, "second");
    assert_int_equal(q->cpus[0], 8);
    assert_int_equal(q->memory, 4 * MIB);
    assert_string_equal(q->image, "second.elf");
    assert_int_equal(q->kind, CONFIG_KIND_ELF);
    assert_true(q->autostart);
    assert_int_equal(q->shmem_index[0], 1);
    assert_int_equal(cfg.shmem_count, 2);
    assert_string_equal(cfg.shmem[0].name, "r0");
    assert_int_equal(cfg.shmem[0].size, 2 * MIB);
    assert_string_equal(cfg.shmem[1].name, "r1");
    assert_int_equal(cfg.shmem[1].size, 16 * 1024);
}

static void test_full_file(void **state)
{
    assert_int_equal(parse(full_text), 0);
    expect(0);
    check_full();
}

/* The same file with CRLF line endings, then without its final newline, parses the same. */
static void test_crlf_and_no_trailing_newline(void **state)
{
    char crlf[sizeof(full_text) * 2];
    size_t n = 0;
    for (const char *s = full_text; *s; s++) {
        if (*s == '\n')
            crlf[n++] = '\r';
        crlf[n++] = *s;
    }
    assert_int_equal(parse_n(crlf, n), 0);
    expect(0);
    check_full();
    assert_int_equal(parse_n(crlf, n - 2), 0); /* no final CRLF */
    expect(0);
    check_full();
    assert_int_equal(parse_n(full_text, strlen(full_text) - 1), 0); /* no final LF */
    expect(0);
    check_full();
    assert_int_equal(parse_n(crlf, n - 1), 0); /* a final lone CR ends the line too */
    expect(0);
    /* The last line, unterminated, still counts: its key is there. */
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a.bin\nmemory = 16M"), 0);
    assert_int_equal(cfg.partitions[0].memory, 16 * MIB);
    /* A CR inside a line is a control character. */
    assert_int_equal(parse(PART_A "cmdline = a\rb\n"), 1);
    expect(1, "t.cfg:5:12: error: cmdline: control character 0x0d in a value (hint: the file must be plain text)");
}

static void test_byte_order_mark_is_skipped(void **state)
{
    assert_int_equal(parse("\xef\xbb\xbf" PART_A), 0);
    expect(0);
    assert_int_equal(cfg.partitions[0].at.col, 1);
}

static void test_nul_bytes(void **state)
{
    static const char text[] = "[partition a]\ncpus = 0\x00 1\nmemory = 16M\nimage = a.bin\n# \x00 in a comment\n";
    assert_int_equal(parse_n(text, sizeof(text) - 1), 3);
    expect(3, "t.cfg:2:9: error: NUL byte in the file (hint: the file must be plain text)",
           "t.cfg:5:3: error: NUL byte in the file (hint: the file must be plain text)",
           "t.cfg:1:1: error: partition 'a': missing required key 'cpus' (hint: e.g. cpus = 0-1,3)");
    /* Only NULs. */
    static const char zeros[16] = { 0 };
    assert_int_equal(parse_n(zeros, sizeof(zeros)), 2);
    expect(2, "t.cfg:1:1: error: NUL byte in the file (hint: the file must be plain text)",
           "t.cfg:1:1: error: no partitions: the file has no [partition NAME] section "
           "(hint: add e.g. [partition web] with cpus, memory and image)");
}

static void test_long_lines(void **state)
{
    size_t big = 200000;
    char *text = malloc(big + 100000 + 500);
    /* A comment line of 200000 bytes, then a key whose bare value is 100000 bytes. */
    size_t n = 0;
    n += (size_t)sprintf(text + n, PART_A "#");
    memset(text + n, 'x', big);
    n += big;
    n += (size_t)sprintf(text + n, "\ncmdline = ");
    memset(text + n, 'y', 100000);
    n += 100000;
    text[n++] = '\n';
    assert_int_equal(parse_n(text, n), 1);
    expect(1, "t.cfg:6:11: error: cmdline: 100000 characters; at most 127 (hint: shorten it)");
    /* A 300-character quoted image name: the generic length limit of a value. */
    n = (size_t)sprintf(text, "[partition a]\ncpus = 0\nmemory = 16M\nimage = \"");
    memset(text + n, 'z', 300);
    n += 300;
    n += (size_t)sprintf(text + n, "\"\n");
    assert_int_equal(parse_n(text, n), 1);
    expect(1, "t.cfg:4:9: error: image: the value is longer than 255 characters");
    /* A long unknown key is shown cut short. */
    n = (size_t)sprintf(text, PART_A);
    memset(text + n, 'k', 5000);
    n += 5000;
    n += (size_t)sprintf(text + n, " = 1\n");
    assert_int_equal(parse_n(text, n), 1);
    expect(1, "t.cfg:5:1: error: unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...' "
              "(hint: docs/config.md lists the keys of [partition NAME])");
    /* 127 characters of cmdline are fine; 128 are not. */
    n = (size_t)sprintf(text, PART_A "cmdline = \"");
    memset(text + n, 'c', 127);
    n += 127;
    n += (size_t)sprintf(text + n, "\"\n");
    assert_int_equal(parse_n(text, n), 0);
    assert_int_equal(strlen(cfg.partitions[0].cmdline), 127);
    n = (size_t)sprintf(text, PART_A "cmdline = ");
    memset(text + n, 'c', 128);
    n += 128;
    assert_int_equal(parse_n(text, n), 1);
    expect(1, "t.cfg:5:11: error: cmdline: 128 characters; at most 127 (hint: shorten it)");
    free(text);
}

static void test_too_large_input(void **state)
{
    size_t n = CONFIG_INPUT_MAX + 1;
    char *text = malloc(n);
    memset(text, '#', n);
    assert_int_equal(parse_n(text, n), 1);
    expect(1, "t.cfg:1:1: error: the file is 1048577 bytes; at most 1048576 "
              "(hint: a configuration is a short text file)");
    assert_int_equal(cfg.partition_count, 0);
    free(text);
}

static void test_empty_input(void **state)
{
    assert_int_equal(parse(""), 1);
    expect(1, "t.cfg:1:1: error: no partitions: the file has no [partition NAME] section "
              "(hint: add e.g. [partition web] with cpus, memory and image)");
    assert_int_equal(parse("\n\n# only comments\n[moat]\n"), 1);
}

/* ---- syntax ---------------------------------------------------------------------------- */

static void test_syntax_errors(void **state)
{
    assert_int_equal(parse("[partition a\n" PART_A), 1);
    expect(1, "t.cfg:1:13: error: missing ']' at the end of the section header "
              "(hint: sections are [moat], [partition NAME] and [shmem NAME])");

    assert_int_equal(parse(PART_A "autostart\n"), 1);
    expect(1, "t.cfg:5:1: error: expected 'key = value', found 'autostart' "
              "(hint: a line is a [section], a key = value, or a comment)");
    assert_int_equal(parse(PART_A "autostart # = no\n"), 1);
    expect(1, "t.cfg:5:1: error: expected 'key = value', found 'autostart' "
              "(hint: a line is a [section], a key = value, or a comment)");
    assert_int_equal(parse(PART_A "= yes\n"), 1);
    expect(1, "t.cfg:5:1: error: missing key before '=' (hint: write key = value)");
    assert_int_equal(parse("cpus = 0\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: key 'cpus' is outside any section "
              "(hint: put keys under [moat], [partition NAME] or [shmem NAME])");

    assert_int_equal(parse(PART_A "cmdline = \"quiet\n"), 1);
    expect(1, "t.cfg:5:11: error: cmdline: missing closing '\"' "
              "(hint: close the string on the same line, e.g. cmdline = \"quiet\")");
    assert_int_equal(parse(PART_A "cmdline = \"quiet\\\"\n"), 1); /* the quote is escaped */
    expect(1, "t.cfg:5:11: error: cmdline: missing closing '\"' "
              "(hint: close the string on the same line, e.g. cmdline = \"quiet\")");
    assert_int_equal(parse(PART_A "cmdline = \"a\\\n"), 1); /* backslash at the end */
    expect(1, "t.cfg:5:11: error: cmdline: missing closing '\"' "
              "(hint: close the string on the same line, e.g. cmdline = \"quiet\")");
    assert_int_equal(parse(PART_A "cmdline = \"a\\tb\"\n"), 1);
    expect(1, "t.cfg:5:13: error: cmdline: unknown escape '\\t' in a string "
              "(hint: inside quotes only \\\" and \\\\ are escapes)");
    assert_int_equal(parse(PART_A "cmdline = \"a\" b\n"), 1);
    expect(1, "t.cfg:5:15: error: cmdline: unexpected text after the closing quote (hint: put comments after '#')");
    assert_int_equal(parse(PART_A "cmdline = a \"b\"\n"), 1);
    expect(1, "t.cfg:5:13: error: cmdline: stray '\"' in a value (hint: quote the whole value: key = \"...\")");
    assert_int_equal(parse(PART_A "cmdline = \"a\x01\"\n"), 1);
    expect(1, "t.cfg:5:13: error: cmdline: control character 0x01 in a string (hint: the file must be plain text)");
    assert_int_equal(parse(PART_A "memory = \n"), 1);
    expect(1, "t.cfg:5:1: error: duplicate key 'memory' (first set on line 3) (hint: remove one of them)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a.bin\nmemory =   # nothing\n"), 1);
    expect(1, "t.cfg:4:12: error: memory: missing value (hint: e.g. memory = 256M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = \"\"\nmemory = 4M\n"), 1);
    expect(1, "t.cfg:3:9: error: image: missing value (hint: e.g. image = web.bin)");
    /* An empty quoted cmdline is allowed; a quoted number is a number. */
    assert_int_equal(parse(PART_A "cmdline = \"\"\npriority = \"7\"\n"), 0);
    assert_int_equal(cfg.partitions[0].priority, 7);
    /* Trailing text after the header's ']' is reported, and the section still counts. */
    assert_int_equal(parse("[partition a] extra\ncpus = 0\nmemory = 16M\nimage = a.bin\n"), 1);
    expect(1, "t.cfg:1:15: error: unexpected text after ']' (hint: put comments after '#')");
    assert_int_equal(cfg.partition_count, 1);
}

static void test_sections(void **state)
{
    assert_int_equal(parse("[partiton a]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: unknown section kind 'partiton' (hint: did you mean 'partition'?)");
    assert_int_equal(parse("[vm a]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: unknown section kind 'vm' "
              "(hint: sections are [moat], [partition NAME] and [shmem NAME])");
    assert_int_equal(parse("[ ]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: empty section header "
              "(hint: sections are [moat], [partition NAME] and [shmem NAME])");
    assert_int_equal(parse("[moat x]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: [moat] takes no name (hint: write [moat])");
    assert_int_equal(parse("[moat]\n[moat]\n" PART_A), 1);
    expect(1, "t.cfg:2:1: error: duplicate [moat] section (first on line 1) (hint: merge the two sections)");
    assert_int_equal(parse("[partition]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: [partition] needs a name (hint: e.g. [partition web])");
    assert_int_equal(parse("[shmem]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: [shmem] needs a name (hint: e.g. [shmem ring0])");
    assert_int_equal(parse("[partition web server]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: unexpected 'server' after the partition name "
              "(hint: a name is one word of letters, digits, '_' and '-')");
    assert_int_equal(parse("[partition w.b]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: 'w.b' is not a valid partition name (hint: a name is 1 to 31 letters, digits, '_' or '-')");
    assert_int_equal(parse("[partition abcdefghijklmnopqrstuvwxyz012345]\n" PART_A), 1);
    expect(1, "t.cfg:1:1: error: 'abcdefghijklmnopqrstuvwxyz012345' is not a valid partition name "
              "(hint: a name is 1 to 31 letters, digits, '_' or '-')");
    assert_int_equal(parse("[partition abcdefghijklmnopqrstuvwxyz01234]\ncpus = 0\nmemory = 4M\nimage = a\n"), 0);
    assert_int_equal(strlen(cfg.partitions[0].name), 31);
    /* A refused header's keys are not checked, but their syntax is. */
    assert_int_equal(parse(PART_A "[partition a]\nmemroy = 1\ncmdline = \"x\n"), 2);
    expect(2, "t.cfg:5:1: error: duplicate partition 'a' (first defined on line 1) (hint: partition names must be unique)",
           "t.cfg:7:11: error: cmdline: missing closing '\"' "
           "(hint: close the string on the same line, e.g. cmdline = \"quiet\")");
    assert_int_equal(parse(PART_A "[shmem s]\nsize = 4K\n[shmem s]\nsize = 8K\n"), 1);
    expect(2, "t.cfg:7:1: error: duplicate shmem 's' (first defined on line 5) (hint: shmem names must be unique)",
           "t.cfg:5:1: warning: shmem 's' is not used by any partition "
           "(hint: list it in a partition's shmem key, or remove it)");
    assert_int_equal(sink.errors, 1);
    assert_int_equal(sink.warnings, 1);
}

static void test_too_many_sections(void **state)
{
    char text[8192];
    size_t n = 0;
    for (int i = 0; i < 17; i++)
        n += (size_t)sprintf(text + n, "[partition p%d]\ncpus = 0\nmemory = 4M\nimage = a\n", i);
    for (int i = 0; i < 9; i++)
        n += (size_t)sprintf(text + n, "[shmem s%d]\nsize = 4K\n", i);
    assert_int_equal(parse_n(text, n), 2);
    expect_has("t.cfg:65:1: error: too many partitions (at most 16)");
    expect_has("t.cfg:85:1: error: too many shmem sections (at most 8)");
    assert_int_equal(cfg.partition_count, 16);
    assert_int_equal(cfg.shmem_count, 8);
    assert_int_equal(sink.warnings, 8); /* none is used */
}

static void test_unknown_and_duplicate_keys(void **state)
{
    assert_int_equal(parse(PART_A "memroy = 256M\n"), 1);
    expect(1, "t.cfg:5:1: error: unknown key 'memroy' (hint: did you mean 'memory'?)");
    assert_int_equal(parse(PART_A "Memory = 256M\n"), 1);
    expect(1, "t.cfg:5:1: error: unknown key 'Memory' (hint: did you mean 'memory'?)");
    assert_int_equal(parse(PART_A "cpu = 1\n"), 1);
    expect(1, "t.cfg:5:1: error: unknown key 'cpu' (hint: did you mean 'cpus'?)");
    assert_int_equal(parse(PART_A "timeslice = 5ms\n"), 1);
    expect(1, "t.cfg:5:1: error: unknown key 'timeslice' (hint: 'timeslice' belongs in [moat])");
    assert_int_equal(parse("[moat]\nmemory = 4M\n" PART_A), 1);
    expect(1, "t.cfg:2:1: error: unknown key 'memory' (hint: 'memory' belongs in [partition NAME])");
    assert_int_equal(parse(PART_A "[shmem s]\nsize = 4K\nmemory = 4M\n"), 1);
    expect_has("t.cfg:7:1: error: unknown key 'memory' (hint: 'memory' belongs in [partition NAME])");
    assert_int_equal(parse(PART_A "colour = red\n"), 1);
    expect(1, "t.cfg:5:1: error: unknown key 'colour' (hint: docs/config.md lists the keys of [partition NAME])");
    assert_int_equal(parse("[moat]\nschedular = cyclic\n" PART_A), 1);
    expect(1, "t.cfg:2:1: error: unknown key 'schedular' (hint: did you mean 'scheduler'?)");
    assert_int_equal(parse(PART_A "image = b.bin\n"), 1);
    expect(1, "t.cfg:5:1: error: duplicate key 'image' (first set on line 4) (hint: remove one of them)");
    assert_string_equal(cfg.partitions[0].image, "a.bin"); /* the first one stays */
}

/* ---- values ---------------------------------------------------------------------------- */

static void test_sizes(void **state)
{
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 12X\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: '12X' is not a size (hint: use K, M or G, e.g. 256M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 256\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: '256' has no unit (hint: use K, M or G, e.g. 256M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 256MB\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: '256MB' is not a size (hint: use K, M or G, e.g. 256M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = M\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: 'M' is not a size (hint: use K, M or G, e.g. 256M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = -4M\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: '-4M' is not a size (hint: use K, M or G, e.g. 256M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 99999999999999999999G\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: '99999999999999999999G' is too large (hint: use K, M or G, e.g. 256M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 17179869184G\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: '17179869184G' is too large (hint: use K, M or G, e.g. 256M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 2M\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: 2M is out of range (hint: use 4M to 1024G)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 2048G\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: 2048G is out of range (hint: use 4M to 1024G)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 5M\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: 5M is not a multiple of 2 MiB (hint: round it up to 6M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 5000K\n"), 1);
    expect(1, "t.cfg:4:10: error: memory: 5000K is not a multiple of 2 MiB (hint: round it up to 6M)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 0x10M\n"), 0);
    assert_int_equal(cfg.partitions[0].memory, 16 * MIB);
    assert_int_equal(parse("[partition a]\ncpus = 0\nimage = a\nmemory = 1024G\n"), 0);
    assert_int_equal(cfg.partitions[0].memory, 1024 * 1024 * MIB);
    assert_true(cfg.partitions[0].keys.bad == 0);
    /* shmem sizes */
    assert_int_equal(parse(PART_A "shmem = s\n[shmem s]\nsize = 1000\n"), 1);
    expect(1, "t.cfg:7:8: error: size: '1000' has no unit (hint: use K, M or G, e.g. 256M)");
    assert_int_equal(parse(PART_A "shmem = s\n[shmem s]\nsize = 6K\n"), 1);
    expect(1, "t.cfg:7:8: error: size: 6K is not a multiple of 4 KiB (hint: shared memory is mapped in 4 KiB pages)");
    assert_int_equal(parse(PART_A "shmem = s\n[shmem s]\nsize = 2G\n"), 1);
    expect(1, "t.cfg:7:8: error: size: 2G is out of range (hint: use 4K to 1G)");
    assert_int_equal(parse(PART_A "shmem = s\n[shmem s]\n"), 1);
    expect(1, "t.cfg:6:1: error: shmem 's': missing required key 'size' (hint: e.g. size = 1M)");
}

static void test_durations(void **state)
{
    assert_int_equal(parse("[moat]\ntimeslice = 10\n" PART_A), 1);
    expect(1, "t.cfg:2:13: error: timeslice: '10' has no unit (hint: use us, ms or s, e.g. 10ms)");
    assert_int_equal(parse("[moat]\ntimeslice = 10x\n" PART_A), 1);
    expect(1, "t.cfg:2:13: error: timeslice: '10x' is not a duration (hint: use us, ms or s, e.g. 10ms)");
    assert_int_equal(parse("[moat]\ntimeslice = 1.5ms\n" PART_A), 1);
    expect(1, "t.cfg:2:13: error: timeslice: '1.5ms' is not a duration (hint: use us, ms or s, e.g. 10ms)");
    assert_int_equal(parse("[moat]\ntimeslice = 50us\n" PART_A), 1);
    expect(1, "t.cfg:2:13: error: timeslice: 50us is out of range (hint: use 100us to 1s)");
    assert_int_equal(parse("[moat]\ntimeslice = 2s\n" PART_A), 1);
    expect(1, "t.cfg:2:13: error: timeslice: 2s is out of range (hint: use 100us to 1s)");
    assert_int_equal(parse("[moat]\ntimeslice = 3601s\n" PART_A), 1);
    expect(1, "t.cfg:2:13: error: timeslice: '3601s' is too long (hint: durations are at most 3600s)");
    assert_int_equal(parse("[moat]\ntimeslice = 250us\n" PART_A), 0);
    assert_int_equal(cfg.timeslice_us, 250);
    assert_int_equal(parse("[moat]\ntimeslice = 1s\n" PART_A), 0);
    assert_int_equal(cfg.timeslice_us, 1000000);
    assert_int_equal(parse("[moat]\nscheduler = cyclic\nmajor_frame = 0\n" PART_A "window = 0+1ms\n"), 1);
    expect(1, "t.cfg:3:15: error: major_frame: 0 is out of range (hint: use 1ms to 10s)");
}

static void test_numbers_and_enums(void **state)
{
    assert_int_equal(parse("[moat]\nscheduler = priority\n" PART_A "priority = 300\n"), 1);
    expect(1, "t.cfg:7:12: error: priority: 300 is out of range (hint: use 0 to 255)");
    assert_int_equal(parse("[moat]\nscheduler = priority\n" PART_A "priority = -1\n"), 1);
    expect(1, "t.cfg:7:12: error: priority: '-1' is not a number (hint: e.g. priority = 10)");
    assert_int_equal(parse("[moat]\nscheduler = priority\n" PART_A "priority = high\n"), 1);
    expect(1, "t.cfg:7:12: error: priority: 'high' is not a number (hint: e.g. priority = 10)");
    assert_int_equal(parse("[moat]\nscheduler = priority\n" PART_A "priority = 0x0a\n"), 0);
    assert_int_equal(cfg.partitions[0].priority, 10);
    assert_int_equal(parse(PART_A "on_crash = restart\nmax_restarts = 1001\n"), 1);
    expect(1, "t.cfg:6:16: error: max_restarts: 1001 is out of range (hint: use 0 to 1000)");
    assert_int_equal(parse(PART_A "on_crash = restart\nmax_restarts = 99999999999999999999999\n"), 1);
    expect(1, "t.cfg:6:16: error: max_restarts: 99999999999999999999999 is out of range (hint: use 0 to 1000)");

    assert_int_equal(parse("[moat]\nscheduler = fifo\n" PART_A), 1);
    expect(1, "t.cfg:2:13: error: scheduler: 'fifo' is not round-robin, priority or cyclic "
              "(hint: e.g. scheduler = round-robin)");
    assert_int_equal(parse("[moat]\nscheduler = round_robin\n" PART_A), 1);
    expect(1, "t.cfg:2:13: error: scheduler: 'round_robin' is not round-robin, priority or cyclic "
              "(hint: did you mean 'round-robin'?)");
    assert_int_equal(parse(PART_A "mode = long\n"), 1);
    expect(1, "t.cfg:5:8: error: mode: 'long' is not long64, prot32 or real (hint: e.g. mode = long64)");
    assert_int_equal(parse(PART_A "mode = prot64\n"), 1);
    expect(1, "t.cfg:5:8: error: mode: 'prot64' is not long64, prot32 or real (hint: did you mean 'prot32'?)");
    assert_int_equal(parse(PART_A "kind = pe\n"), 1);
    expect(1, "t.cfg:5:8: error: kind: 'pe' is not flat or elf (hint: e.g. kind = flat)");
    assert_int_equal(parse(PART_A "autostart = true\n"), 1);
    expect(1, "t.cfg:5:13: error: autostart: 'true' is not no or yes (hint: e.g. autostart = yes)");
    assert_int_equal(parse(PART_A "on_crash = restrat\n"), 1);
    expect(1, "t.cfg:5:12: error: on_crash: 'restrat' is not stop or restart (hint: did you mean 'restart'?)");
    assert_int_equal(parse(PART_A "on_crash = reboot\n"), 1);
    expect(1, "t.cfg:5:12: error: on_crash: 'reboot' is not stop or restart (hint: e.g. on_crash = stop)");
    assert_int_equal(parse(PART_A "serial = passthru\n"), 1);
    expect(1, "t.cfg:5:10: error: serial: 'passthru' is not virtual, passthrough or none (hint: e.g. serial = virtual)");

    assert_int_equal(parse("[moat]\nconsole = com5\n" PART_A), 1);
    expect(1, "t.cfg:2:11: error: console: 'com5' is not a serial port "
              "(hint: use com1..com4 or an I/O port such as 0x3f8)");
    assert_int_equal(parse("[moat]\nconsole = 0x10000\n" PART_A), 1);
    expect(1, "t.cfg:2:11: error: console: '0x10000' is out of range "
              "(hint: a UART's 8 ports lie in 0x1..0xffff: use 0x1 to 0xfff8)");
    assert_int_equal(parse("[moat]\nconsole = 0\n" PART_A), 1);
    expect(1, "t.cfg:2:11: error: console: '0' is out of range "
              "(hint: a UART's 8 ports lie in 0x1..0xffff: use 0x1 to 0xfff8)");
    assert_int_equal(parse("[moat]\nconsole = com4\n" PART_A), 0);
    assert_int_equal(cfg.console_port, 0x2e8);
    assert_int_equal(parse("[moat]\nconsole = 760\n" PART_A), 0);
    assert_int_equal(cfg.console_port, 0x2f8);

    assert_int_equal(parse(PART_A "base = 0x40100000\n"), 1);
    expect(1, "t.cfg:5:8: error: base: 0x40100000 is not 2 MiB aligned "
              "(hint: use a multiple of 0x200000, e.g. 0x40000000)");
    assert_int_equal(parse(PART_A "base = 0x10000000000000\n"), 1);
    expect(1, "t.cfg:5:8: error: base: '0x10000000000000' is out of range (hint: physical addresses have at most 52 bits)");
    assert_int_equal(parse(PART_A "base = 0xfffffffe00000\n"), 1);
    expect(1, "t.cfg:5:8: error: base: 0xfffffffe00000 plus 16 MiB goes beyond the physical address space "
              "(hint: physical addresses have at most 52 bits)");
    assert_int_equal(parse(PART_A "base = 1G\n"), 1);
    expect(1, "t.cfg:5:8: error: base: '1G' is not an address (hint: e.g. base = 0x40000000)");
    assert_int_equal(parse(PART_A "load = 0x\n"), 1);
    expect(1, "t.cfg:5:8: error: load: '0x' is not an address (hint: e.g. load = 0x100000)");

    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 4M\nimage = ../a.bin\n"), 1);
    expect(1, "t.cfg:4:9: error: image: '../a.bin' is not a module name "
              "(hint: a file beside the config file: letters, digits, '.', '_', '-', '+')");
    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 4M\n"
                           "image = a234567890123456789012345678901234567890123456789012345678901234\n"), 1);
    expect(1, "t.cfg:4:9: error: image: the name is 64 characters long; at most 63 (hint: rename the file)");
}

static void test_cpu_lists(void **state)
{
    assert_int_equal(parse("[partition a]\nmemory = 4M\nimage = a\ncpus = 0-1, x, 3-1, 256, 2-300,\n"), 5);
    expect(5, "t.cfg:4:13: error: cpus: 'x' is not a CPU number or range (hint: e.g. cpus = 0-1,3)",
           "t.cfg:4:16: error: cpus: range '3-1' goes backwards (hint: write 1-3)",
           "t.cfg:4:21: error: cpus: '256' is beyond the last CPU Moat supports (255) (hint: CPUs are numbered 0 to 255)",
           "t.cfg:4:26: error: cpus: '2-300' is beyond the last CPU Moat supports (255) (hint: CPUs are numbered 0 to 255)",
           "t.cfg:4:32: error: cpus: empty item in the list (hint: remove the extra ',')");
    assert_int_equal(parse("[partition a]\nmemory = 4M\nimage = a\ncpus = 1-3, 2\n"), 0);
    expect(1, "t.cfg:4:13: warning: cpus: CPU 2 is listed twice (hint: list each CPU once)");
    assert_int_equal(cfg.partitions[0].cpu_count, 3);
    assert_int_equal(parse("[partition a]\nmemory = 4M\nimage = a\ncpus = 0-255\n"), 0);
    assert_int_equal(cfg.partitions[0].cpu_count, 256);
    assert_int_equal(cfg.partitions[0].cpus[3], UINT64_MAX);
    assert_int_equal(parse("[partition a]\nmemory = 4M\nimage = a\ncpus = 1-\n"), 1);
    expect(1, "t.cfg:4:8: error: cpus: '1-' is not a CPU number or range (hint: e.g. cpus = 0-1,3)");
    /* A quoted list points at the value's start. */
    assert_int_equal(parse("[partition a]\nmemory = 4M\nimage = a\ncpus = \"0, x\"\n"), 1);
    expect(1, "t.cfg:4:8: error: cpus: 'x' is not a CPU number or range (hint: e.g. cpus = 0-1,3)");
}

static void test_pci_and_shmem_lists(void **state)
{
    assert_int_equal(parse(PART_A "pci = 00:1f.2, 0:1f, 00:20.0, 00:00.8, 00:1f.2, 100:00.0\n"), 5);
    expect(5, "t.cfg:5:16: error: pci: '0:1f' is not a PCI address (hint: write BUS:DEVICE.FUNCTION in hex, e.g. 00:1f.2)",
           "t.cfg:5:22: error: pci: '00:20.0' is out of range (hint: devices are 00 to 1f, functions 0 to 7)",
           "t.cfg:5:31: error: pci: '00:00.8' is out of range (hint: devices are 00 to 1f, functions 0 to 7)",
           "t.cfg:5:40: error: pci: 00:1f.2 is listed twice (hint: list each device once)",
           "t.cfg:5:49: error: pci: '100:00.0' is not a PCI address (hint: write BUS:DEVICE.FUNCTION in hex, e.g. 00:1f.2)");
    assert_int_equal(parse(PART_A "pci = 0:9.0,0:1.0,0:2.0,0:3.0,0:4.0,0:5.0,0:6.0,0:7.0,0:8.0\n"), 1);
    expect(1, "t.cfg:5:55: error: pci: more than 8 devices");
    assert_int_equal(parse(PART_A "pci = 00:00.0\n"), 1);
    expect(1, "t.cfg:5:7: error: pci: 00:00.0 is the host bridge, which the hypervisor keeps "
              "(hint: assign an endpoint device)");
    assert_int_equal(parse(PART_A "pci = 0A:1F.7,\n"), 1);
    expect(1, "t.cfg:5:15: error: pci: empty item in the list (hint: remove the extra ',')");
    assert_int_equal(cfg.partitions[0].pci[0].bus, 0x0a);
    assert_int_equal(cfg.partitions[0].pci[0].dev, 0x1f);
    assert_int_equal(parse(PART_A "shmem = ,s\n[shmem s]\nsize = 4K\n"), 1);
    expect(1, "t.cfg:5:9: error: shmem: empty item in the list (hint: remove the extra ',')");
    assert_int_equal(parse(PART_A "shmem = a.b, s, s\n[shmem s]\nsize = 4K\n"), 2);
    expect(2, "t.cfg:5:9: error: shmem: 'a.b' is not a shmem name (hint: names are 1 to 31 letters, digits, '_' or '-')",
           "t.cfg:5:17: error: shmem: 's' is listed twice (hint: list each region once)");
    assert_int_equal(parse(PART_A "shmem = a,b,c,d,e,f,g,h,i\n"), 9); /* and 8 missing sections */
    expect_has("t.cfg:5:25: error: shmem: more than 8 regions");
    assert_int_equal(cfg.partitions[0].shmem_count, 8);
}

static void test_required_keys(void **state)
{
    assert_int_equal(parse("[partition a]\n[partition b]\ncpus = 0\n"), 5);
    expect(5, "t.cfg:1:1: error: partition 'a': missing required key 'cpus' (hint: e.g. cpus = 0-1,3)",
           "t.cfg:1:1: error: partition 'a': missing required key 'memory' (hint: e.g. memory = 256M)",
           "t.cfg:1:1: error: partition 'a': missing required key 'image' (hint: e.g. image = web.bin)",
           "t.cfg:2:1: error: partition 'b': missing required key 'memory' (hint: e.g. memory = 256M)",
           "t.cfg:2:1: error: partition 'b': missing required key 'image' (hint: e.g. image = web.bin)");
}

/* ---- checks across the file ------------------------------------------------------------- */

static void test_kind_mode_and_placement(void **state)
{
    assert_int_equal(parse(PART_A "kind = elf\nmode = real\nload = 0x200000\nentry = 0x200000\n"), 3);
    expect(3, "t.cfg:6:8: error: mode: an ELF image cannot start in real mode "
              "(hint: use mode = long64 or prot32, or kind = flat)",
           "t.cfg:7:8: error: load: only for flat images (an ELF image has its own addresses) "
           "(hint: remove it, or set kind = flat)",
           "t.cfg:8:9: error: entry: only for flat images (an ELF image has its own addresses) "
           "(hint: remove it, or set kind = flat)");
    assert_int_equal(parse(PART_A "kind = elf\nmode = prot32\n"), 0);

    assert_int_equal(parse(PART_A "mode = real\n"), 0);
    assert_int_equal(cfg.partitions[0].load, 0x10000);
    assert_int_equal(cfg.partitions[0].entry, 0x10000);
    assert_int_equal(parse(PART_A "mode = real\nload = 0x20008\n"), 1);
    expect(1, "t.cfg:6:8: error: load: 0x20008 is not 16-byte aligned, which real mode needs "
              "(hint: the code segment starts at load / 16: use a multiple of 16)");
    assert_int_equal(parse(PART_A "mode = real\nload = 0x100000\n"), 1);
    expect(1, "t.cfg:6:8: error: load: 0x100000 is out of reach in real mode "
              "(hint: real mode reaches only the first MiB (below 0x100000))");
    assert_int_equal(parse(PART_A "mode = real\nload = 0x20000\nentry = 0x30000\n"), 1);
    expect(1, "t.cfg:7:9: error: entry: 0x30000 is not within 64 KiB above load (0x20000) "
              "(hint: in real mode IP = entry - load, so entry lies in the 64 KiB from load)");
    assert_int_equal(parse(PART_A "mode = real\nload = 0x20000\nentry = 0x2fff0\n"), 0);
    assert_int_equal(cfg.partitions[0].entry, 0x2fff0);
    assert_int_equal(parse(PART_A "load = 0x8000\n"), 1);
    expect(1, "t.cfg:5:8: error: load: 0x8000 is below 0x10000, where Moat puts the guest's GDT, page tables "
              "and arguments (hint: load at 0x10000 or above)");
    assert_int_equal(parse(PART_A "load = 0x1000000\n"), 1);
    expect(1, "t.cfg:5:8: error: load: 0x1000000 is beyond the partition's memory (16 MiB) "
              "(hint: load inside the partition's memory, or give it more memory)");
    assert_int_equal(parse(PART_A "entry = 0x2000000\n"), 1);
    expect(1, "t.cfg:5:9: error: entry: 0x2000000 is beyond the partition's memory (16 MiB) "
              "(hint: the entry point lies in the image)");
    assert_int_equal(parse(PART_A "mode = prot32\nload = 0x100000000\n"), 1);
    expect(1, "t.cfg:6:8: error: load: 0x100000000 is above 4 GiB, out of reach of a prot32 entry "
              "(hint: load below 4 GiB)");
    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 8G\nimage = a\nentry = 0x100000000\n"), 1);
    expect(1, "t.cfg:5:9: error: entry: 0x100000000 is above 4 GiB, out of reach of a long64 entry "
              "(hint: the entry point lies in the image, below 4 GiB)");
    assert_int_equal(parse(PART_A "entry = 0x200000\n"), 0); /* the load address stays the default */
    assert_int_equal(cfg.partitions[0].load, 0x100000);
    assert_int_equal(cfg.partitions[0].entry, 0x200000);
}

static void test_scheduler_specific_keys(void **state)
{
    /* Keys of another scheduler: warnings, and the file stays valid. */
    assert_int_equal(parse("[moat]\ntimeslice = 5ms\nmajor_frame = 50ms\nscheduler = priority\n" PART_A
                           "window = 0ms+5ms\n"),
                     0);
    expect(3, "t.cfg:2:13: warning: timeslice: ignored, the scheduler is priority (hint: remove it, or set scheduler = round-robin)",
           "t.cfg:3:15: warning: major_frame: ignored, the scheduler is priority (hint: remove it, or set scheduler = cyclic)",
           "t.cfg:9:10: warning: window: ignored, the scheduler is priority (hint: set scheduler = cyclic in [moat], or remove it)");
    /* Order above: [moat]'s own checks come first, timeslice before major_frame. */
    assert_int_equal(parse(PART_A "priority = 3\nbudget = 1ms\nperiod = 10ms\n"), 0);
    expect(3, "t.cfg:5:12: warning: priority: ignored, the scheduler is round-robin (hint: set scheduler = priority in [moat], or remove it)",
           "t.cfg:6:10: warning: budget: ignored, the scheduler is round-robin (hint: set scheduler = priority in [moat], or remove it)",
           "t.cfg:7:10: warning: period: ignored, the scheduler is round-robin (hint: set scheduler = priority in [moat], or remove it)");
    assert_int_equal(sink.warnings, 3);
    /* A misspelt scheduler gives one error, not warnings about every scheduler key. */
    assert_int_equal(parse("[moat]\nscheduler = priorty\ntimeslice = 5ms\n" PART_A "priority = 3\n"), 1);
    expect(1, "t.cfg:2:13: error: scheduler: 'priorty' is not round-robin, priority or cyclic "
              "(hint: did you mean 'priority'?)");
    assert_int_equal(parse(PART_A "on_crash = restat\nmax_restarts = 3\n"), 1);
    expect(1, "t.cfg:5:12: error: on_crash: 'restat' is not stop or restart (hint: did you mean 'restart'?)");
    assert_int_equal(parse("[moat]\nscheduler = priority\n" PART_A "budget = 20ms\nperiod = 10ms\n"), 1);
    expect(1, "t.cfg:7:10: error: budget: 20ms is longer than the period (10ms) "
              "(hint: the budget is CPU time per period: at most 10ms)");
    assert_int_equal(parse("[moat]\nscheduler = priority\n" PART_A "budget = 200ms\n"), 1);
    expect(1, "t.cfg:7:10: error: budget: 200ms is longer than the period (100ms) "
              "(hint: the budget is CPU time per period: at most 100ms)");
}

static void test_cyclic_windows(void **state)
{
    assert_int_equal(parse("[moat]\nscheduler = cyclic\n" PART_A "window = 0ms+10ms\n"), 1);
    expect(1, "t.cfg:2:13: error: scheduler: cyclic needs major_frame, the length of the repeating schedule "
              "(hint: add e.g. major_frame = 100ms to [moat])");
    assert_int_equal(parse("[moat]\nscheduler = cyclic\nmajor_frame = 100ms\n" PART_A), 1);
    expect(1, "t.cfg:4:1: error: partition 'a' has no window, so the cyclic scheduler would never run it "
              "(hint: add e.g. window = 0ms+20ms)");
    assert_int_equal(parse("[moat]\nscheduler = cyclic\nmajor_frame = 100ms\n" PART_A
                           "window = 0ms+10ms, 90ms+20ms, 5ms+10ms\n"),
                     2);
    expect(2, "t.cfg:8:10: error: window: 90ms+20ms ends at 110ms, after the major frame (100ms) "
              "(hint: shorten it, or raise major_frame in [moat])",
           "t.cfg:8:10: error: window: 5ms+10ms overlaps 0ms+10ms (hint: merge them into one window)");
    assert_int_equal(parse("[moat]\nscheduler = cyclic\nmajor_frame = 100ms\n" PART_A
                           "window = 0ms+10ms, 10ms+10ms\n"
                           "[partition b]\ncpus = 1\nmemory = 4M\nimage = b\nwindow = 5ms+10ms\n"
                           "[partition c]\ncpus = 0-1\nmemory = 4M\nimage = c\nwindow = 14ms+1ms\n"),
                     2);
    /* b (CPU 1) and a (CPU 0) do not share a CPU; c shares one with each. */
    expect(2, "t.cfg:18:10: error: window: 14ms+1ms overlaps partition 'a' (10ms+10ms, line 8) on CPU 0 "
              "(hint: partitions sharing a CPU need windows that do not overlap)",
           "t.cfg:18:10: error: window: 14ms+1ms overlaps partition 'b' (5ms+10ms, line 13) on CPU 1 "
           "(hint: partitions sharing a CPU need windows that do not overlap)");
    assert_int_equal(cfg.partitions[0].window_count, 2);
    assert_int_equal(cfg.partitions[0].windows[1].offset_us, 10000);
    assert_int_equal(cfg.partitions[0].windows[1].length_us, 10000);
    assert_int_equal(parse("[moat]\nscheduler = cyclic\nmajor_frame = 100ms\n" PART_A
                           "window = 0ms+0ms, 5ms, x+1ms, 1ms+y\n"),
                     4);
    expect(4, "t.cfg:8:10: error: window: '0ms+0ms' has length 0 (hint: a window lasts at least 1us)",
           "t.cfg:8:19: error: window: '5ms' is not OFFSET+LENGTH (hint: e.g. window = 0ms+20ms)",
           "t.cfg:8:24: error: window: 'x' is not a duration (hint: use us, ms or s, e.g. 10ms)",
           "t.cfg:8:35: error: window: 'y' is not a duration (hint: use us, ms or s, e.g. 10ms)");
    assert_int_equal(parse("[moat]\nscheduler = cyclic\nmajor_frame = 100ms\n" PART_A "window = 0ms+1ms, , 2ms+1ms\n"), 1);
    expect(1, "t.cfg:8:19: error: window: empty item in the list (hint: remove the extra ',')");
    assert_int_equal(cfg.partitions[0].window_count, 2);
    assert_int_equal(parse("[moat]\nscheduler = cyclic\nmajor_frame = 100ms\n" PART_A
                           "window = 0+1ms,1ms+1ms,2ms+1ms,3ms+1ms,4ms+1ms,5ms+1ms,6ms+1ms,7ms+1ms,8ms+1ms\n"),
                     1);
    expect(1, "t.cfg:8:72: error: window: more than 8 windows (hint: merge adjacent windows)");
}

static void test_conflicts_between_partitions(void **state)
{
    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 256M\nimage = a\nbase = 0x40000000\n"
                           "serial = passthrough\nserial_port = com2\npci = 00:1f.2, 01:00.0\n"
                           "[partition b]\ncpus = 1\nmemory = 64M\nimage = b\nbase = 0x4c000000\n"
                           "serial = passthrough\nserial_port = 0x2fc\npci = 01:00.0\n"),
                     3);
    expect(3, "t.cfg:13:8: error: base: 0x4c000000-0x4fffffff overlaps partition 'a' (0x40000000-0x4fffffff, line 5) "
              "(hint: fixed bases must leave the partitions apart)",
           "t.cfg:15:15: error: serial_port: the UART at 0x2fc is already passed through to partition 'a' (line 7) "
           "(hint: a host UART can belong to one partition only)",
           "t.cfg:16:7: error: pci: 01:00.0 is already assigned to partition 'a' (line 8) "
           "(hint: a PCI function can belong to one partition only)");
    /* Adjacent bases, virtual UARTs at the same port and different PCI functions are fine. */
    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 256M\nimage = a\nbase = 0x40000000\n"
                           "serial_port = com2\npci = 00:1f.2\n"
                           "[partition b]\ncpus = 0\nmemory = 64M\nimage = b\nbase = 0x50000000\n"
                           "serial_port = com2\npci = 00:1f.3\n"),
                     0);
    expect(0);
}

static void test_serial_and_crash_keys(void **state)
{
    assert_int_equal(parse(PART_A "serial = passthrough\n"), 1);
    expect(1, "t.cfg:5:10: error: serial: passthrough needs serial_port, the host UART to give the partition "
              "(hint: e.g. serial_port = com2)");
    assert_int_equal(parse(PART_A "serial = none\nserial_port = com2\n"), 0);
    expect(1, "t.cfg:6:15: warning: serial_port: ignored, serial is none (hint: remove it, or set serial = virtual)");
    assert_int_equal(cfg.partitions[0].serial_port, 0);
    assert_int_equal(parse(PART_A "restart_delay = 1s\nmax_restarts = 2\n"), 0);
    expect(2, "t.cfg:5:17: warning: restart_delay: ignored, on_crash is stop (hint: set on_crash = restart, or remove it)",
           "t.cfg:6:16: warning: max_restarts: ignored, on_crash is stop (hint: set on_crash = restart, or remove it)");
    assert_int_equal(parse(PART_A "on_crash = restart\nrestart_delay = 20s\n"), 1);
    expect(1, "t.cfg:6:17: error: restart_delay_max (10s) is shorter than restart_delay (20s) "
              "(hint: the delay doubles from restart_delay up to restart_delay_max)");
    assert_int_equal(parse(PART_A "on_crash = restart\nrestart_delay = 2s\nrestart_delay_max = 1s\n"), 1);
    expect(1, "t.cfg:7:21: error: restart_delay_max (1s) is shorter than restart_delay (2s) "
              "(hint: the delay doubles from restart_delay up to restart_delay_max)");
    assert_int_equal(parse(PART_A "on_crash = restart\nrestart_delay = 61s\n"), 1);
    expect(1, "t.cfg:6:17: error: restart_delay: 61s is out of range (hint: use 0ms to 60s)");
}

static void test_shmem_links_and_autostart(void **state)
{
    assert_int_equal(parse(PART_A "shmem = ring1, other\n[shmem ring0]\nsize = 4K\n"), 2);
    expect(3, "t.cfg:5:9: error: shmem: no [shmem ring1] section (hint: did you mean 'ring0'?)",
           "t.cfg:5:9: error: shmem: no [shmem other] section (hint: add a [shmem other] section with a size)",
           "t.cfg:6:1: warning: shmem 'ring0' is not used by any partition "
           "(hint: list it in a partition's shmem key, or remove it)");
    assert_int_equal(parse(PART_A "autostart = no\n[partition b]\ncpus = 0\nmemory = 4M\nimage = b\nautostart = no\n"), 0);
    expect(1, "t.cfg:5:13: warning: no partition starts automatically (hint: set autostart = yes on one)");
}

/* ---- checks against the machine --------------------------------------------------------- */

static const char *const mods[] = { "a.bin", "big.bin", "empty.bin", "b.bin", "real.bin" };
static const uint64_t mod_sizes[] = { 4096, 15 * MIB, 0, CONFIG_SIZE_UNKNOWN, 0xf0001 };

static uint32_t validate(const struct config_machine *m)
{
    reset();
    uint32_t n = config_validate(&cfg, m, &sink);
    if (getenv("CONFIG_TEST_VERBOSE"))
        dump();
    assert_int_equal(n, sink.errors);
    return n;
}

static void test_machine_cpus_and_memory(void **state)
{
    struct config_machine m = { .cpu_count = 4, .usable_memory = 512 * MIB };
    assert_int_equal(parse("[partition a]\ncpus = 0-1,5\nmemory = 256M\nimage = a\n"
                           "[partition b]\ncpus = 3-7\nmemory = 256M\nimage = b\n"
                           "[partition c]\ncpus = 0\nmemory = 4M\nimage = c\n"
                           "[shmem s]\nsize = 1M\n"),
                     0);
    assert_int_equal(validate(&m), 3);
    expect(3, "t.cfg:11:10: error: memory: partitions and shared memory need 517 MiB in total; this machine has 512 MiB usable "
              "(hint: shrink or remove partitions)",
           "t.cfg:2:8: error: cpus: CPU 5 does not exist; this machine has 4 (0-3) (hint: use CPUs 0-3)",
           "t.cfg:6:8: error: cpus: CPU 4 does not exist (nor 3 more listed); this machine has 4 (0-3) (hint: use CPUs 0-3)");
    m.cpu_count = 1;
    m.usable_memory = 516 * MIB;
    assert_int_equal(validate(&m), 3);
    expect(3, "t.cfg:14:8: error: size: partitions and shared memory need 517 MiB in total; this machine has 516 MiB usable "
              "(hint: shrink or remove partitions)",
           "t.cfg:2:8: error: cpus: CPU 1 does not exist (nor 1 more listed); this machine has 1 (0) (hint: use CPUs 0)",
           "t.cfg:6:8: error: cpus: CPU 3 does not exist (nor 4 more listed); this machine has 1 (0) (hint: use CPUs 0)");
    /* Unknown machine: nothing to check. */
    struct config_machine unknown = { 0 };
    assert_int_equal(validate(&unknown), 0);
    expect(0);
    m = (struct config_machine){ .cpu_count = 8, .usable_memory = 517 * MIB };
    assert_int_equal(validate(&m), 0);
}

/* Guest RAM ends where the PCI ECAM window starts (0xb0000000): 2816 MiB at most, on any
 * machine, known or not. */
static void test_memory_below_pci_window(void **state)
{
    struct config_machine unknown = { 0 };
    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 2816M\nimage = a\n"
                           "[partition b]\ncpus = 0\nmemory = 2818M\nimage = b\n"
                           "[partition c]\ncpus = 0\nmemory = 1024G\nimage = c\n"),
                     0);
    assert_int_equal(validate(&unknown), 2);
    expect(2, "t.cfg:7:10: error: memory: 2818 MiB is more than a partition can have: its RAM must end "
              "below the PCI ECAM window at 0xb0000000 (hint: use at most 2816M)",
           "t.cfg:11:10: error: memory: 1024 GiB is more than a partition can have: its RAM must end "
           "below the PCI ECAM window at 0xb0000000 (hint: use at most 2816M)");
}

static void test_machine_images(void **state)
{
    struct config_machine m = { .modules = mods, .module_sizes = mod_sizes, .module_count = 5 };
    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 16M\nimage = a.bim\n"
                           "[partition b]\ncpus = 0\nmemory = 16M\nimage = zzz\n"
                           "[partition c]\ncpus = 0\nmemory = 16M\nimage = empty.bin\n"
                           "[partition d]\ncpus = 0-1\nmemory = 16M\nimage = big.bin\n"
                           "[partition e]\ncpus = 0\nmemory = 4M\nimage = real.bin\nmode = real\n"
                           "[partition f]\ncpus = 0\nmemory = 16M\nimage = a.bin\nentry = 0x101000\n"
                           "[partition g]\ncpus = 0\nmemory = 16M\nimage = b.bin\nentry = 0x900000\n"
                           "[partition h]\ncpus = 0\nmemory = 16M\nimage = big.bin\nkind = elf\n"),
                     0);
    assert_int_equal(validate(&m), 6);
    expect(6, "t.cfg:4:9: error: image: no module named 'a.bim' (hint: did you mean 'a.bin'?)",
           "t.cfg:8:9: error: image: no module named 'zzz' "
           "(hint: put zzz beside the config file (ESP \\EFI\\MOAT\\ or a GRUB module2))",
           "t.cfg:12:9: error: image: 'empty.bin' is empty (hint: build the image, or check the file copied)",
           "t.cfg:16:9: error: image: 'big.bin' (15 MiB) loaded at 0x100000 does not fit "
           "(hint: images must end by 0xff8000: the partition's memory less 16 KiB of stack per vCPU, and 4 GiB at most)",
           "t.cfg:20:9: error: image: 'real.bin' (983041 bytes) loaded at 0x10000 does not fit "
           "(hint: images must end by 0x100000: the first MiB, all a real-mode guest reaches)",
           "t.cfg:26:9: error: entry: 0x101000 is outside the image (0x100000-0x100fff, 4 KiB) "
           "(hint: the entry point lies in the image)");
    /* Without sizes only presence is checked. */
    m.module_sizes = NULL;
    assert_int_equal(validate(&m), 2);
}

static void test_machine_ram_console_and_modes(void **state)
{
    static const struct config_range ram[] = { { 0x100000, 0x7ff00000 } };
    struct config_machine m = { .ram = ram, .ram_count = 1, .console_port_default = 0x2f8, .long64_only = true };
    /* a ends exactly where RAM ends; b starts below it; c lies above it. */
    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 256M\nimage = a\nbase = 0x70000000\n"
                           "serial = passthrough\nserial_port = com2\nmode = prot32\n"
                           "[partition b]\ncpus = 0\nmemory = 16M\nimage = b\nbase = 0x0\nmode = real\n"
                           "[partition c]\ncpus = 0\nmemory = 16M\nimage = c\nbase = 0x90000000\n"
                           "serial = passthrough\nserial_port = com1\n"),
                     0);
    assert_int_equal(validate(&m), 5);
    expect(5, "t.cfg:7:15: error: serial_port: 0x2f8 is the hypervisor console's UART (0x2f8) "
              "(hint: move the console (console = com1 in [moat]) or use serial = virtual)",
           "t.cfg:8:8: error: mode: prot32 needs VT-x \"unrestricted guest\", which this CPU lacks (hint: use mode = long64)",
           "t.cfg:13:8: error: base: 0x0-0xffffff is not inside usable RAM "
           "(hint: pick a base inside usable RAM, or remove base to let Moat choose)",
           "t.cfg:14:8: error: mode: real needs VT-x \"unrestricted guest\", which this CPU lacks (hint: use mode = long64)",
           "t.cfg:19:8: error: base: 0x90000000-0x90ffffff is not inside usable RAM "
           "(hint: pick a base inside usable RAM, or remove base to let Moat choose)");
    assert_int_equal(config_console_port(&cfg, &m), 0x2f8);
    /* The console moved in [moat]: COM2 may be passed through, COM1 not. */
    assert_int_equal(parse("[moat]\nconsole = com1\n[partition a]\ncpus = 0\nmemory = 16M\nimage = a\n"
                           "serial = passthrough\nserial_port = com2\n"),
                     0);
    assert_int_equal(validate(&m), 0);
    assert_int_equal(config_console_port(&cfg, &m), 0x3f8);
    assert_int_equal(config_console_port(&cfg, NULL), 0x3f8);
    struct config_machine dflt = { 0 };
    assert_int_equal(parse("[partition a]\ncpus = 0\nmemory = 16M\nimage = a\nserial = passthrough\nserial_port = 0x3f9\n"), 0);
    assert_int_equal(validate(&dflt), 1);
    expect(1, "t.cfg:6:15: error: serial_port: 0x3f9 is the hypervisor console's UART (0x3f8) "
              "(hint: move the console (console = com2 in [moat]) or use serial = virtual)");
}

/* Errors are all collected: one file with many independent problems reports every one. */
static void test_all_errors_collected(void **state)
{
    assert_int_equal(parse("[moat]\nscheduler = fifo\n[partition a]\ncpus = x\nmemory = 1X\nimage = /a\n"
                           "memroy = 1M\n[partition b]\ncpus = 0\n[oops]\n[shmem s]\nsize = 3\n"),
                     9);
    assert_int_equal(sink.warnings, 1);
    assert_int_equal(ndiags, 10);
}

/* ---- formatting ------------------------------------------------------------------------- */

static void test_diag_format(void **state)
{
    char buf[128];
    struct config_diag d = { "x.cfg", 3, 7, CONFIG_ERROR, "memory: bad", "use 4M" };
    assert_int_equal(config_diag_format(&d, buf, sizeof(buf)), (int)strlen("x.cfg:3:7: error: memory: bad (hint: use 4M)"));
    assert_string_equal(buf, "x.cfg:3:7: error: memory: bad (hint: use 4M)");
    d.hint = NULL;
    d.severity = CONFIG_WARNING;
    config_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "x.cfg:3:7: warning: memory: bad");
    d.file = NULL;
    config_diag_format(&d, buf, sizeof(buf));
    assert_string_equal(buf, "(config):3:7: warning: memory: bad");
    config_diag_format(&d, buf, 10);
    assert_string_equal(buf, "(config):");
    /* Counting without a report function, and with no sink at all. */
    struct config_sink count = { NULL, NULL, 0, 0 };
    assert_int_equal(config_parse(&cfg, "t.cfg", "[x]\n", 4, &count), 2);
    assert_int_equal(count.errors, 2);
    assert_int_equal(config_parse(&cfg, "t.cfg", "[x]\n", 4, NULL), 2);
    assert_int_equal(config_validate(&cfg, &(struct config_machine){ 0 }, NULL), 0);
}

static void test_summary_and_names(void **state)
{
    char buf[512];
    assert_int_equal(parse(full_text), 0);
    config_partition_summary(&cfg, 0, buf, sizeof(buf));
    assert_string_equal(buf, "web-1_X: 5 vCPUs (CPUs 0-2,5,7), 1 GiB at 0x40000000, flat prot32 image web.bin at 0x200000 "
                             "entry 0x200010, priority 255, budget 1500us per 1s, restarts up to 1000 times "
                             "(0ms..2s apart), not autostarted, serial passthrough 0x3e8, pci 00:1f.2,ff:1f.7,03:00.1, "
                             "shmem r0,r1");
    config_partition_summary(&cfg, 1, buf, sizeof(buf));
    assert_string_equal(buf, "second: 1 vCPU (CPU 3), 4 MiB, elf long64 image second.elf, priority 128, "
                             "serial virtual 0x3f8, shmem r1");
    assert_int_equal(config_partition_summary(&cfg, 2, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    /* A small buffer is filled and terminated; the return value is the whole length. */
    char small[16];
    int n = config_partition_summary(&cfg, 1, small, sizeof(small));
    assert_int_equal(n, (int)strlen("second: 1 vCPU (CPU 3), 4 MiB, elf long64 image second.elf, priority 128, "
                                    "serial virtual 0x3f8, shmem r1"));
    assert_string_equal(small, "second: 1 vCPU ");
    assert_int_equal(parse(PART_A "serial = none\n"), 0);
    config_partition_summary(&cfg, 0, buf, sizeof(buf));
    assert_string_equal(buf, "a: 1 vCPU (CPU 0), 16 MiB, flat long64 image a.bin, round-robin 10ms, no serial");
    assert_int_equal(parse("[moat]\nscheduler = cyclic\nmajor_frame = 1s\n[partition c]\ncpus = 0,2-3\nmemory = 6M\n"
                           "image = c.bin\nmode = real\nwindow = 0ms + 250ms, 500ms+1500us\n"),
                     0);
    config_partition_summary(&cfg, 0, buf, sizeof(buf));
    assert_string_equal(buf, "c: 3 vCPUs (CPUs 0,2-3), 6 MiB, flat real image c.bin, cyclic 0ms+250ms,500ms+1500us, "
                             "serial virtual 0x3f8");
    assert_string_equal(config_sched_name(CONFIG_SCHED_CYCLIC), "cyclic");
    assert_string_equal(config_sched_name((enum config_sched)9), "?");
    assert_string_equal(config_mode_name(CONFIG_MODE_REAL), "real");
    assert_string_equal(config_key_name(CONFIG_KEY_RESTART_DELAY_MAX), "restart_delay_max");
    assert_string_equal(config_key_name(CONFIG_KEY_COUNT), "?");
}

/* ---- the examples ------------------------------------------------------------------------ */

static void test_examples_are_valid(void **state)
{
    static const char *const names[] = { "selftest.bin", "prot32.bin", "real16.bin", "bench.bin", "guest.elf" };
    struct config_machine m = { .cpu_count = 4, .usable_memory = 384 * MIB, .modules = names, .module_count = 5 };
    DIR *d = opendir("configs/examples");
    if (!d)
        fail_msg("configs/examples not found: run the test from the repository root");
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".cfg") != 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "configs/examples/%s", e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char text[65536];
        size_t n = fread(text, 1, sizeof(text), f);
        fclose(f);
        reset();
        uint32_t errs = config_parse(&cfg, path, text, n, &sink);
        errs += config_validate(&cfg, &m, &sink);
        if (errs || sink.warnings)
            dump();
        assert_int_equal(errs, 0);
        assert_int_equal(sink.warnings, 0);
        assert_true(cfg.partition_count >= 1);
        files++;
    }
    closedir(d);
    assert_true(files >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_crlf_and_no_trailing_newline),
        cmocka_unit_test(test_byte_order_mark_is_skipped),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_too_large_input),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_too_many_sections),
        cmocka_unit_test(test_unknown_and_duplicate_keys),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_numbers_and_enums),
        cmocka_unit_test(test_cpu_lists),
        cmocka_unit_test(test_pci_and_shmem_lists),
        cmocka_unit_test(test_required_keys),
        cmocka_unit_test(test_kind_mode_and_placement),
        cmocka_unit_test(test_scheduler_specific_keys),
        cmocka_unit_test(test_cyclic_windows),
        cmocka_unit_test(test_conflicts_between_partitions),
        cmocka_unit_test(test_serial_and_crash_keys),
        cmocka_unit_test(test_shmem_links_and_autostart),
        cmocka_unit_test(test_machine_cpus_and_memory),
        cmocka_unit_test(test_memory_below_pci_window),
        cmocka_unit_test(test_machine_images),
        cmocka_unit_test(test_machine_ram_console_and_modes),
        cmocka_unit_test(test_all_errors_collected),
        cmocka_unit_test(test_diag_format),
        cmocka_unit_test(test_summary_and_names),
        cmocka_unit_test(test_examples_are_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
