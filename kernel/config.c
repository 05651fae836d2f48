// SPDX-License-Identifier: Apache-2.0
// The configuration file parser and validator (the format and every message: docs/config.md).
// Works line by line on slices of the caller's buffer; only quoted values are copied. Nothing
// here allocates, touches hardware or knows where the file came from.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kernel/config.h"
#include "kernel/guest_layout.h"
#include "common/digits.h"

#define KIB ((uint64_t)1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define US_PER_MS ((uint64_t)1000)
#define US_PER_S  ((uint64_t)1000000)

/* Partition memory is carved in 2 MiB blocks so second-level tables can map it with 2 MiB
 * pages (SDM vol. 3C 29.3.2, EPT PDE bit 7; APM vol. 2 15.25.5, NPT). */
#define PART_MEM_ALIGN (2 * MIB)
#define PART_MEM_MIN   (4 * MIB)
#define PART_MEM_MAX   (1024 * GIB)
#define SHMEM_ALIGN    (4 * KIB)
#define SHMEM_SIZE_MAX (1 * GIB)
/* MAXPHYADDR is at most 52 (SDM vol. 3A 4.1.4). */
#define PHYS_LIMIT ((uint64_t)1 << 52)

/* Guest-physical layout (docs/guest-abi.md): GDT at 0x1000, page tables 0x2000-0x7fff, the
 * argument string at 0x8000. Images go at or above GUEST_LOW_END; stacks take the top of RAM. */
#define GUEST_LOW_END           ((uint64_t)0x10000)
#define GUEST_LOAD_DEFAULT      ((uint64_t)0x100000)
#define GUEST_REAL_LOAD_DEFAULT ((uint64_t)0x10000)
#define GUEST_STACK_PER_VCPU    ((uint64_t)0x4000)
/* Real mode reaches the first MiB; CS:IP covers 64 KiB from a paragraph-aligned segment base
 * (SDM vol. 3A 20.1.1). Protected mode without paging, and Moat's long-mode identity map,
 * reach 4 GiB. */
#define REAL_MODE_LIMIT   ((uint64_t)0x100000)
#define REAL_SEGMENT_SIZE ((uint64_t)0x10000)
#define REAL_PARAGRAPH    ((uint64_t)16)
#define FOUR_GIB          (4 * GIB)

/* A 16550 decodes eight consecutive I/O ports, registers 0-7 (PC16550D datasheet, table II). */
#define UART_PORTS    8u
#define UART_PORT_MAX (0x10000u - UART_PORTS)
#define COM1_PORT     0x3f8u

#define DURATION_MAX  (3600 * US_PER_S)
#define TIMESLICE_MIN ((uint64_t)100)
#define TIMESLICE_MAX US_PER_S
#define FRAME_MIN     US_PER_MS
#define FRAME_MAX     (10 * US_PER_S)
#define BUDGET_MIN    ((uint64_t)100)
#define RESTART_DELAY_MAX (60 * US_PER_S)
#define RESTART_DELAY_MAX_MAX (3600 * US_PER_S)
#define MAX_RESTARTS_MAX 1000u

#define PRIORITY_DEFAULT      128u
#define TIMESLICE_DEFAULT     (10 * US_PER_MS)
#define PERIOD_DEFAULT        (100 * US_PER_MS)
#define RESTART_DELAY_DEFAULT (100 * US_PER_MS)
#define RESTART_DELAY_MAX_DEFAULT (10 * US_PER_S)
#define MAX_RESTARTS_DEFAULT  5u

#define VALUE_MAX 256 /* a quoted value is unescaped into this; longer ones are refused */
#define MSG_MAX   320
#define HINT_MAX  160
#define SHOW_MAX  40  /* user text quoted in a message is cut to this many bytes */
#define SHOW_BUF  (SHOW_MAX + 4)
#define DIST_MAX  32  /* words longer than this get no "did you mean" */

enum section { SEC_NONE, SEC_MOAT, SEC_PARTITION, SEC_SHMEM, SEC_SKIP };

static const struct {
    const char *name;
    enum section section;
    const char *example; /* a complete line, for hints */
} key_info[CONFIG_KEY_COUNT] = {
    [CONFIG_KEY_CONSOLE] = { "console", SEC_MOAT, "console = com1" },
    [CONFIG_KEY_SCHEDULER] = { "scheduler", SEC_MOAT, "scheduler = round-robin" },
    [CONFIG_KEY_TIMESLICE] = { "timeslice", SEC_MOAT, "timeslice = 10ms" },
    [CONFIG_KEY_MAJOR_FRAME] = { "major_frame", SEC_MOAT, "major_frame = 100ms" },
    [CONFIG_KEY_CPUS] = { "cpus", SEC_PARTITION, "cpus = 0-1,3" },
    [CONFIG_KEY_MEMORY] = { "memory", SEC_PARTITION, "memory = 256M" },
    [CONFIG_KEY_BASE] = { "base", SEC_PARTITION, "base = 0x40000000" },
    [CONFIG_KEY_IMAGE] = { "image", SEC_PARTITION, "image = web.bin" },
    [CONFIG_KEY_KIND] = { "kind", SEC_PARTITION, "kind = flat" },
    [CONFIG_KEY_MODE] = { "mode", SEC_PARTITION, "mode = long64" },
    [CONFIG_KEY_LOAD] = { "load", SEC_PARTITION, "load = 0x100000" },
    [CONFIG_KEY_ENTRY] = { "entry", SEC_PARTITION, "entry = 0x100000" },
    [CONFIG_KEY_CMDLINE] = { "cmdline", SEC_PARTITION, "cmdline = \"quiet\"" },
    [CONFIG_KEY_PRIORITY] = { "priority", SEC_PARTITION, "priority = 10" },
    [CONFIG_KEY_BUDGET] = { "budget", SEC_PARTITION, "budget = 5ms" },
    [CONFIG_KEY_PERIOD] = { "period", SEC_PARTITION, "period = 100ms" },
    [CONFIG_KEY_WINDOW] = { "window", SEC_PARTITION, "window = 0ms+20ms" },
    [CONFIG_KEY_ON_CRASH] = { "on_crash", SEC_PARTITION, "on_crash = stop" },
    [CONFIG_KEY_RESTART_DELAY] = { "restart_delay", SEC_PARTITION, "restart_delay = 100ms" },
    [CONFIG_KEY_RESTART_DELAY_MAX] = { "restart_delay_max", SEC_PARTITION, "restart_delay_max = 10s" },
    [CONFIG_KEY_MAX_RESTARTS] = { "max_restarts", SEC_PARTITION, "max_restarts = 5" },
    [CONFIG_KEY_AUTOSTART] = { "autostart", SEC_PARTITION, "autostart = yes" },
    [CONFIG_KEY_SERIAL] = { "serial", SEC_PARTITION, "serial = virtual" },
    [CONFIG_KEY_SERIAL_PORT] = { "serial_port", SEC_PARTITION, "serial_port = com2" },
    [CONFIG_KEY_PCI] = { "pci", SEC_PARTITION, "pci = 00:1f.2" },
    [CONFIG_KEY_SHMEM] = { "shmem", SEC_PARTITION, "shmem = ring0" },
    [CONFIG_KEY_SIZE] = { "size", SEC_SHMEM, "size = 1M" },
};

static const char *const section_title[] = {
    [SEC_MOAT] = "[moat]", [SEC_PARTITION] = "[partition NAME]", [SEC_SHMEM] = "[shmem NAME]",
};

static const char *const sched_names[] = { "round-robin", "priority", "cyclic" };
static const char *const kind_names[] = { "flat", "elf" };
static const char *const mode_names[] = { "long64", "prot32", "real" };
static const char *const crash_names[] = { "stop", "restart" };
static const char *const yes_no_names[] = { "no", "yes" };
static const char *const serial_names[] = { "virtual", "passthrough", "none" };
static const char *const com_names[] = { "com1", "com2", "com3", "com4" };
/* PC/AT standard COM port bases. */
static const uint16_t com_ports[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small text helpers ------------------------------------------------------------------ */

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_comment(char c)
{
    return c == '#' || c == ';';
}

static bool is_ctrl(char c)
{
    unsigned char u = (unsigned char)c;
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool slice_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* User text for a message: at most SHOW_MAX bytes, anything unprintable shown as '?'. */
static const char *show(char *dst, const char *s, size_t n)
{
    size_t k = n < SHOW_MAX ? n : SHOW_MAX;
    for (size_t i = 0; i < k; i++) {
        unsigned char u = (unsigned char)s[i];
        dst[i] = u < 0x20 || u >= 0x7f ? '?' : (char)u;
    }
    if (n > SHOW_MAX) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
    return dst;
}

struct strbuf {
    char *buf;
    size_t len, used; /* used may exceed len: the length the whole text would have */
};

static void sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->used < b->len ? b->len - b->used : 0;
    int n = vsnprintf(room ? b->buf + b->used : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->used += (size_t)n;
}

/* A size the way people write it: "256 MiB", "1 GiB", "4 KiB", "100 bytes". */
static const char *fmt_size(char *dst, size_t len, uint64_t v)
{
    if (v >= GIB && v % GIB == 0)
        snprintf(dst, len, "%lu GiB", v / GIB);
    else if (v >= MIB && v % MIB == 0)
        snprintf(dst, len, "%lu MiB", v / MIB);
    else if (v >= KIB && v % KIB == 0)
        snprintf(dst, len, "%lu KiB", v / KIB);
    else
        snprintf(dst, len, "%lu bytes", v);
    return dst;
}

/* A duration in the file's own syntax: "20ms", "1s", "150us". */
static const char *fmt_dur(char *dst, size_t len, uint64_t us)
{
    if (us == 0)
        snprintf(dst, len, "0ms");
    else if (us % US_PER_S == 0)
        snprintf(dst, len, "%lus", us / US_PER_S);
    else if (us % US_PER_MS == 0)
        snprintf(dst, len, "%lums", us / US_PER_MS);
    else
        snprintf(dst, len, "%luus", us);
    return dst;
}

static const char *fmt_window(char *dst, size_t len, const struct config_window *w)
{
    char a[24], b[24];
    snprintf(dst, len, "%s+%s", fmt_dur(a, sizeof(a), w->offset_us), fmt_dur(b, sizeof(b), w->length_us));
    return dst;
}

static bool cpu_test(const uint64_t *set, uint32_t c)
{
    return (set[c / 64] >> (c % 64)) & 1;
}

/* "0-1,3": the CPUs of a set as ranges. */
static void sb_cpus(struct strbuf *b, const uint64_t *set)
{
    bool first = true;
    for (uint32_t c = 0; c < CONFIG_CPUS_MAX; c++) {
        if (!cpu_test(set, c))
            continue;
        uint32_t e = c;
        while (e + 1 < CONFIG_CPUS_MAX && cpu_test(set, e + 1))
            e++;
        if (e == c)
            sb_printf(b, "%s%u", first ? "" : ",", c);
        else
            sb_printf(b, "%s%u-%u", first ? "" : ",", c, e);
        first = false;
        c = e;
    }
}

/* Optimal string alignment distance (edits, with adjacent transpositions counted as one), for
 * "did you mean" hints. Words longer than DIST_MAX are never close. */
static unsigned edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > DIST_MAX || bn > DIST_MAX)
        return 255;
    uint8_t rows[3][DIST_MAX + 1]; /* i-2, i-1, i */
    for (size_t j = 0; j <= bn; j++)
        rows[1][j] = (uint8_t)j;
    for (size_t i = 1; i <= an; i++) {
        uint8_t *cur = rows[(i + 1) % 3], *prev = rows[i % 3], *pp = rows[(i + 2) % 3];
        cur[0] = (uint8_t)i;
        for (size_t j = 1; j <= bn; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned d = prev[j] + 1u;
            if (cur[j - 1] + 1u < d)
                d = cur[j - 1] + 1u;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1u < d)
                d = pp[j - 2] + 1u;
            cur[j] = (uint8_t)d;
        }
    }
    return rows[(an + 1) % 3][bn];
}

struct nearest {
    const char *word;
    size_t len;
    const char *best;
    unsigned dist;
};

static void nearest_init(struct nearest *nr, const char *word, size_t len)
{
    nr->word = word;
    nr->len = len;
    nr->best = NULL;
    nr->dist = (len <= 4 ? 1 : 2) + 1; /* accept at most 1 edit for short words, 2 otherwise */
}

static void nearest_consider(struct nearest *nr, const char *cand)
{
    size_t cl = strlen(cand);
    unsigned d = edit_distance(nr->word, nr->len, cand, cl);
    if (d < nr->dist && d < cl) {
        nr->dist = d;
        nr->best = cand;
    }
}

/* ---- diagnostics ------------------------------------------------------------------------- */

int config_diag_format(const struct config_diag *d, char *buf, size_t len)
{
    const char *sev = d->severity == CONFIG_WARNING ? "warning" : "error";
    if (d->hint)
        return snprintf(buf, len, "%s:%u:%u: %s: %s (hint: %s)", d->file ? d->file : "(config)", d->line,
                        d->col, sev, d->message, d->hint);
    return snprintf(buf, len, "%s:%u:%u: %s: %s", d->file ? d->file : "(config)", d->line, d->col, sev,
                    d->message);
}

struct reporter {
    const char *file;
    struct config_sink *sink;
};

static void vreport(struct reporter *r, enum config_severity sev, struct config_loc at, const char *hint,
                    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void vreport(struct reporter *r, enum config_severity sev, struct config_loc at, const char *hint,
                    const char *fmt, va_list ap)
{
    char msg[MSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (sev == CONFIG_ERROR)
        r->sink->errors++;
    else
        r->sink->warnings++;
    if (!r->sink->report)
        return;
    struct config_diag d = { r->file, at.line ? at.line : 1, at.line ? at.col : 1, sev, msg, hint };
    r->sink->report(r->sink->ctx, &d);
}

static void error_at(struct reporter *r, struct config_loc at, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void error_at(struct reporter *r, struct config_loc at, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(r, CONFIG_ERROR, at, hint, fmt, ap);
    va_end(ap);
}

static void warning_at(struct reporter *r, struct config_loc at, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void warning_at(struct reporter *r, struct config_loc at, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(r, CONFIG_WARNING, at, hint, fmt, ap);
    va_end(ap);
}

/* ---- numbers, sizes, durations ----------------------------------------------------------- */

enum num_rc { NUM_OK, NUM_BAD, NUM_BIG };

/* The longest prefix of s that is a decimal or 0x-hexadecimal number; returns its length (0:
 * none). *big is set when the number does not fit in 64 bits. */
static size_t scan_uint(const char *s, size_t n, uint64_t *out, bool *big)
{
    unsigned base = 10;
    size_t i = 0;
    uint64_t v = 0;
    *big = false;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    size_t start = i;
    for (; i < n; i++) {
        int dv = digit_value(s[i], base);
        if (dv < 0)
            break;
        unsigned d = (unsigned)dv;
        if (v > (UINT64_MAX - d) / base)
            *big = true;
        else
            v = v * base + d;
    }
    if (i == start)
        return 0;
    *out = v;
    return i;
}

static enum num_rc parse_uint(const char *s, size_t n, uint64_t *out)
{
    bool big;
    size_t k = scan_uint(s, n, out, &big);
    if (k == 0 || k != n)
        return NUM_BAD;
    return big ? NUM_BIG : NUM_OK;
}

enum unit_rc { UNIT_OK, UNIT_BAD, UNIT_NONE, UNIT_BIG };

/* NUMBER followed by K, M or G (binary multiples). */
static enum unit_rc parse_size(const char *s, size_t n, uint64_t *out)
{
    uint64_t v;
    bool big;
    size_t k = scan_uint(s, n, &v, &big);
    if (k == 0)
        return UNIT_BAD;
    if (k == n)
        return UNIT_NONE;
    if (k + 1 != n)
        return UNIT_BAD;
    unsigned shift;
    switch (s[k]) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    default: return UNIT_BAD;
    }
    if (big || v > (UINT64_MAX >> shift))
        return UNIT_BIG;
    *out = v << shift;
    return UNIT_OK;
}

/* NUMBER followed by us, ms or s; a bare 0 needs no unit. Result in microseconds. */
static enum unit_rc parse_duration(const char *s, size_t n, uint64_t *out)
{
    uint64_t v;
    bool big;
    size_t k = scan_uint(s, n, &v, &big);
    if (k == 0)
        return UNIT_BAD;
    if (k == n) {
        if (!big && v == 0) {
            *out = 0;
            return UNIT_OK;
        }
        return UNIT_NONE;
    }
    uint64_t mul;
    if (slice_is(s + k, n - k, "us"))
        mul = 1;
    else if (slice_is(s + k, n - k, "ms"))
        mul = US_PER_MS;
    else if (slice_is(s + k, n - k, "s"))
        mul = US_PER_S;
    else
        return UNIT_BAD;
    if (big || v > DURATION_MAX / mul)
        return UNIT_BIG;
    *out = v * mul;
    return UNIT_OK;
}

/* ---- the parser -------------------------------------------------------------------------- */

struct value {
    const char *s; /* the text: into the input (bare) or into buf (quoted, unescaped) */
    size_t len;
    size_t full_len; /* the unescaped length, also when it did not fit in buf */
    bool quoted;
    struct config_loc at;
    const char *line; /* the line, for the columns of list items in bare values */
    char buf[VALUE_MAX];
};

struct parser {
    struct reporter r;
    struct moat_config *cfg;
    uint32_t lineno;
    enum section sec;
    struct config_keys *keys; /* of the current section */
    struct config_partition *part;
    struct config_shmem *shm;
};

static struct config_loc loc(const struct parser *p, size_t col0)
{
    return (struct config_loc){ p->lineno, (uint32_t)col0 + 1 };
}

/* Where in the line an item of a list value starts (the value's start if it was quoted). */
static struct config_loc item_loc(const struct value *v, const char *item)
{
    if (v->quoted)
        return v->at;
    return (struct config_loc){ v->at.line, (uint32_t)(item - v->line) + 1 };
}

static const char *example_hint(enum config_key k, char *buf, size_t len)
{
    snprintf(buf, len, "e.g. %s", key_info[k].example);
    return buf;
}

static void value_error(struct parser *p, enum config_key k, struct config_loc at, const char *hint,
                        const char *what, const char *s, size_t n)
{
    char sh[SHOW_BUF];
    error_at(&p->r, at, hint, "%s: '%s' %s", key_info[k].name, show(sh, s, n), what);
}

static bool get_enum(struct parser *p, enum config_key k, const struct value *v, const char *const *names,
                     size_t count, unsigned *out)
{
    for (size_t i = 0; i < count; i++) {
        if (slice_is(v->s, v->len, names[i])) {
            *out = (unsigned)i;
            return true;
        }
    }
    char list[HINT_MAX], hint[HINT_MAX];
    struct strbuf b = { list, sizeof(list), 0 };
    struct nearest nr;
    nearest_init(&nr, v->s, v->len);
    for (size_t i = 0; i < count; i++) {
        sb_printf(&b, "%s%s", i == 0 ? "" : i + 1 == count ? " or " : ", ", names[i]);
        nearest_consider(&nr, names[i]);
    }
    if (nr.best)
        snprintf(hint, sizeof(hint), "did you mean '%s'?", nr.best);
    else
        example_hint(k, hint, sizeof(hint));
    char sh[SHOW_BUF];
    error_at(&p->r, v->at, hint, "%s: '%s' is not %s", key_info[k].name, show(sh, v->s, v->len), list);
    return false;
}

static bool get_number(struct parser *p, enum config_key k, const struct value *v, uint64_t min, uint64_t max,
                       uint64_t *out)
{
    char hint[HINT_MAX];
    enum num_rc rc = parse_uint(v->s, v->len, out);
    if (rc == NUM_BAD) {
        value_error(p, k, v->at, example_hint(k, hint, sizeof(hint)), "is not a number", v->s, v->len);
        return false;
    }
    if (rc == NUM_BIG || *out < min || *out > max) {
        char sh[SHOW_BUF];
        snprintf(hint, sizeof(hint), "use %lu to %lu", min, max);
        error_at(&p->r, v->at, hint, "%s: %s is out of range", key_info[k].name, show(sh, v->s, v->len));
        return false;
    }
    return true;
}

static bool get_address(struct parser *p, enum config_key k, const struct value *v, uint64_t *out)
{
    char hint[HINT_MAX];
    enum num_rc rc = parse_uint(v->s, v->len, out);
    if (rc == NUM_BAD) {
        value_error(p, k, v->at, example_hint(k, hint, sizeof(hint)), "is not an address", v->s, v->len);
        return false;
    }
    if (rc == NUM_BIG || *out >= PHYS_LIMIT) {
        value_error(p, k, v->at, "physical addresses have at most 52 bits", "is out of range", v->s, v->len);
        return false;
    }
    return true;
}

static bool get_size(struct parser *p, enum config_key k, const char *s, size_t n, struct config_loc at,
                     uint64_t *out)
{
    switch (parse_size(s, n, out)) {
    case UNIT_OK:
        return true;
    case UNIT_NONE:
        value_error(p, k, at, "use K, M or G, e.g. 256M", "has no unit", s, n);
        return false;
    case UNIT_BIG:
        value_error(p, k, at, "use K, M or G, e.g. 256M", "is too large", s, n);
        return false;
    default:
        value_error(p, k, at, "use K, M or G, e.g. 256M", "is not a size", s, n);
        return false;
    }
}

static bool get_duration(struct parser *p, enum config_key k, const char *s, size_t n, struct config_loc at,
                         uint64_t *out)
{
    switch (parse_duration(s, n, out)) {
    case UNIT_OK:
        return true;
    case UNIT_NONE:
        value_error(p, k, at, "use us, ms or s, e.g. 10ms", "has no unit", s, n);
        return false;
    case UNIT_BIG:
        value_error(p, k, at, "durations are at most 3600s", "is too long", s, n);
        return false;
    default:
        value_error(p, k, at, "use us, ms or s, e.g. 10ms", "is not a duration", s, n);
        return false;
    }
}

static bool get_duration_in(struct parser *p, enum config_key k, const struct value *v, uint64_t min,
                            uint64_t max, uint64_t *out)
{
    if (!get_duration(p, k, v->s, v->len, v->at, out))
        return false;
    if (*out < min || *out > max) {
        char a[24], b[24], sh[SHOW_BUF], hint[HINT_MAX];
        snprintf(hint, sizeof(hint), "use %s to %s", fmt_dur(a, sizeof(a), min), fmt_dur(b, sizeof(b), max));
        error_at(&p->r, v->at, hint, "%s: %s is out of range", key_info[k].name, show(sh, v->s, v->len));
        return false;
    }
    return true;
}

static bool get_port(struct parser *p, enum config_key k, const struct value *v, uint16_t *out)
{
    for (size_t i = 0; i < ARRAY_SIZE(com_names); i++) {
        if (slice_is(v->s, v->len, com_names[i])) {
            *out = com_ports[i];
            return true;
        }
    }
    uint64_t port;
    enum num_rc rc = parse_uint(v->s, v->len, &port);
    if (rc == NUM_BAD) {
        value_error(p, k, v->at, "use com1..com4 or an I/O port such as 0x3f8", "is not a serial port", v->s,
                    v->len);
        return false;
    }
    if (rc == NUM_BIG || port == 0 || port > UART_PORT_MAX) {
        value_error(p, k, v->at, "a UART's 8 ports lie in 0x1..0xffff: use 0x1 to 0xfff8", "is out of range",
                    v->s, v->len);
        return false;
    }
    *out = (uint16_t)port;
    return true;
}

/* Splits a list value at commas: each call yields the next item, trimmed. */
struct list_iter {
    const char *s, *end;
};

static bool list_next(struct list_iter *it, const char **item, size_t *n)
{
    if (!it->s)
        return false;
    const char *comma = memchr(it->s, ',', (size_t)(it->end - it->s));
    const char *e = comma ? comma : it->end;
    const char *b = it->s;
    while (b < e && is_space(*b))
        b++;
    const char *t = e;
    while (t > b && is_space(t[-1]))
        t--;
    *item = b;
    *n = (size_t)(t - b);
    it->s = comma ? comma + 1 : NULL;
    return true;
}

static bool empty_item(struct parser *p, enum config_key k, const struct value *v, const char *item, size_t n)
{
    if (n)
        return false;
    error_at(&p->r, item_loc(v, item), "remove the extra ','", "%s: empty item in the list", key_info[k].name);
    return true;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n >= CONFIG_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char(s[i]))
            return false;
    return true;
}

static bool set_cpus(struct parser *p, const struct value *v)
{
    struct config_partition *pt = p->part;
    struct list_iter it = { v->s, v->s + v->len };
    const char *item;
    size_t n;
    bool ok = true;
    memset(pt->cpus, 0, sizeof(pt->cpus));
    while (list_next(&it, &item, &n)) {
        struct config_loc at = item_loc(v, item);
        if (empty_item(p, CONFIG_KEY_CPUS, v, item, n)) {
            ok = false;
            continue;
        }
        uint64_t a, b;
        bool big_a, big_b = false;
        size_t k = scan_uint(item, n, &a, &big_a);
        b = a;
        if (k && k < n && item[k] == '-') {
            size_t k2 = scan_uint(item + k + 1, n - k - 1, &b, &big_b);
            k = k2 ? k + 1 + k2 : 0;
        }
        if (k == 0 || k != n) {
            value_error(p, CONFIG_KEY_CPUS, at, "e.g. cpus = 0-1,3", "is not a CPU number or range", item, n);
            ok = false;
            continue;
        }
        if (big_a || big_b || a >= CONFIG_CPUS_MAX || b >= CONFIG_CPUS_MAX) {
            char sh[SHOW_BUF];
            error_at(&p->r, at, "CPUs are numbered 0 to 255", "cpus: '%s' is beyond the last CPU Moat supports (255)",
                     show(sh, item, n));
            ok = false;
            continue;
        }
        if (b < a) {
            char hint[HINT_MAX], sh[SHOW_BUF];
            snprintf(hint, sizeof(hint), "write %lu-%lu", b, a);
            error_at(&p->r, at, hint, "cpus: range '%s' goes backwards", show(sh, item, n));
            ok = false;
            continue;
        }
        bool dup_reported = false;
        for (uint64_t c = a; c <= b; c++) {
            if (cpu_test(pt->cpus, (uint32_t)c) && !dup_reported) {
                warning_at(&p->r, at, "list each CPU once", "cpus: CPU %lu is listed twice", c);
                dup_reported = true;
            }
            pt->cpus[c / 64] |= 1ull << (c % 64);
        }
    }
    pt->cpu_count = 0;
    for (uint32_t c = 0; c < CONFIG_CPUS_MAX; c++)
        pt->cpu_count += cpu_test(pt->cpus, c);
    return ok;
}

static bool set_windows(struct parser *p, const struct value *v)
{
    struct config_partition *pt = p->part;
    struct list_iter it = { v->s, v->s + v->len };
    const char *item;
    size_t n;
    bool ok = true;
    pt->window_count = 0;
    while (list_next(&it, &item, &n)) {
        struct config_loc at = item_loc(v, item);
        if (empty_item(p, CONFIG_KEY_WINDOW, v, item, n)) {
            ok = false;
            continue;
        }
        const char *plus = memchr(item, '+', n);
        if (!plus) {
            value_error(p, CONFIG_KEY_WINDOW, at, "e.g. window = 0ms+20ms", "is not OFFSET+LENGTH", item, n);
            ok = false;
            continue;
        }
        struct config_window w;
        size_t on = (size_t)(plus - item);
        while (on && is_space(item[on - 1]))
            on--;
        const char *ls = plus + 1;
        while (ls < item + n && is_space(*ls))
            ls++;
        size_t ln = (size_t)(item + n - ls);
        if (!get_duration(p, CONFIG_KEY_WINDOW, item, on, at, &w.offset_us) ||
            !get_duration(p, CONFIG_KEY_WINDOW, ls, ln, item_loc(v, ls), &w.length_us)) {
            ok = false;
            continue;
        }
        if (w.length_us == 0) {
            value_error(p, CONFIG_KEY_WINDOW, at, "a window lasts at least 1us", "has length 0", item, n);
            ok = false;
            continue;
        }
        if (pt->window_count == CONFIG_WINDOWS_MAX) {
            error_at(&p->r, at, "merge adjacent windows", "window: more than %d windows", CONFIG_WINDOWS_MAX);
            return false;
        }
        pt->windows[pt->window_count++] = w;
    }
    return ok;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* BUS:DEVICE.FUNCTION in hex, one or two digits each for bus and device, one for function. */
static bool parse_bdf(const char *s, size_t n, unsigned *bus, unsigned *dev, unsigned *fn)
{
    size_t i = 0;
    unsigned v[3] = { 0, 0, 0 };
    const char seps[3] = { ':', '.', '\0' };
    const size_t maxd[3] = { 2, 2, 1 };
    for (int f = 0; f < 3; f++) {
        size_t d = 0;
        while (i < n && d < maxd[f] && hex_digit(s[i]) >= 0) {
            v[f] = v[f] * 16 + (unsigned)hex_digit(s[i]);
            i++;
            d++;
        }
        if (d == 0)
            return false;
        if (f < 2) {
            if (i >= n || s[i] != seps[f])
                return false;
            i++;
        }
    }
    if (i != n)
        return false;
    *bus = v[0];
    *dev = v[1];
    *fn = v[2];
    return true;
}

static bool set_pci(struct parser *p, const struct value *v)
{
    struct config_partition *pt = p->part;
    struct list_iter it = { v->s, v->s + v->len };
    const char *item;
    size_t n;
    bool ok = true;
    pt->pci_count = 0;
    while (list_next(&it, &item, &n)) {
        struct config_loc at = item_loc(v, item);
        if (empty_item(p, CONFIG_KEY_PCI, v, item, n)) {
            ok = false;
            continue;
        }
        unsigned bus, dev, fn;
        if (!parse_bdf(item, n, &bus, &dev, &fn)) {
            value_error(p, CONFIG_KEY_PCI, at, "write BUS:DEVICE.FUNCTION in hex, e.g. 00:1f.2",
                        "is not a PCI address", item, n);
            ok = false;
            continue;
        }
        /* PCI Local Bus 3.0, 3.2.2.3.2: 32 devices per bus, 8 functions per device. */
        if (dev > 0x1f || fn > 7) {
            value_error(p, CONFIG_KEY_PCI, at, "devices are 00 to 1f, functions 0 to 7", "is out of range", item,
                        n);
            ok = false;
            continue;
        }
        if (bus == 0 && dev == 0 && fn == 0) {
            error_at(&p->r, at, "assign an endpoint device", "pci: 00:00.0 is the host bridge, "
                     "which the hypervisor keeps");
            ok = false;
            continue;
        }
        bool dup = false;
        for (uint32_t i = 0; i < pt->pci_count; i++)
            dup |= pt->pci[i].bus == bus && pt->pci[i].dev == dev && pt->pci[i].fn == fn;
        if (dup) {
            error_at(&p->r, at, "list each device once", "pci: %02x:%02x.%x is listed twice", bus, dev, fn);
            ok = false;
            continue;
        }
        if (pt->pci_count == CONFIG_PCI_MAX) {
            error_at(&p->r, at, NULL, "pci: more than %d devices", CONFIG_PCI_MAX);
            return false;
        }
        pt->pci[pt->pci_count++] = (struct config_pci){ (uint8_t)bus, (uint8_t)dev, (uint8_t)fn };
    }
    return ok;
}

static bool set_links(struct parser *p, const struct value *v)
{
    struct config_partition *pt = p->part;
    struct list_iter it = { v->s, v->s + v->len };
    const char *item;
    size_t n;
    bool ok = true;
    pt->shmem_count = 0;
    while (list_next(&it, &item, &n)) {
        struct config_loc at = item_loc(v, item);
        if (empty_item(p, CONFIG_KEY_SHMEM, v, item, n)) {
            ok = false;
            continue;
        }
        if (!valid_name(item, n)) {
            value_error(p, CONFIG_KEY_SHMEM, at, "names are 1 to 31 letters, digits, '_' or '-'",
                        "is not a shmem name", item, n);
            ok = false;
            continue;
        }
        bool dup = false;
        for (uint32_t i = 0; i < pt->shmem_count; i++)
            dup |= slice_is(item, n, pt->shmem[i]);
        if (dup) {
            value_error(p, CONFIG_KEY_SHMEM, at, "list each region once", "is listed twice", item, n);
            ok = false;
            continue;
        }
        if (pt->shmem_count == CONFIG_LINKS_MAX) {
            error_at(&p->r, at, NULL, "shmem: more than %d regions", CONFIG_LINKS_MAX);
            return false;
        }
        memcpy(pt->shmem[pt->shmem_count], item, n);
        pt->shmem[pt->shmem_count][n] = '\0';
        pt->shmem_count++;
    }
    return ok;
}

static bool valid_module_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!is_name_char(c) && c != '.' && c != '+')
            return false;
    }
    return n > 0;
}

/* Apply one key's value to the current section. Returns false when the value is invalid. */
static bool set_key(struct parser *p, enum config_key k, const struct value *v)
{
    struct moat_config *c = p->cfg;
    struct config_partition *pt = p->part;
    uint64_t n;
    unsigned e = 0;
    char hint[HINT_MAX], sh[SHOW_BUF];

    switch (k) {
    case CONFIG_KEY_CONSOLE:
        return get_port(p, k, v, &c->console_port);
    case CONFIG_KEY_SCHEDULER:
        if (!get_enum(p, k, v, sched_names, ARRAY_SIZE(sched_names), &e))
            return false;
        c->scheduler = (enum config_sched)e;
        return true;
    case CONFIG_KEY_TIMESLICE:
        return get_duration_in(p, k, v, TIMESLICE_MIN, TIMESLICE_MAX, &c->timeslice_us);
    case CONFIG_KEY_MAJOR_FRAME:
        return get_duration_in(p, k, v, FRAME_MIN, FRAME_MAX, &c->major_frame_us);
    case CONFIG_KEY_CPUS:
        return set_cpus(p, v);
    case CONFIG_KEY_MEMORY:
        if (!get_size(p, k, v->s, v->len, v->at, &n))
            return false;
        if (n < PART_MEM_MIN || n > PART_MEM_MAX) {
            error_at(&p->r, v->at, "use 4M to 1024G", "memory: %s is out of range", show(sh, v->s, v->len));
            return false;
        }
        if (n % PART_MEM_ALIGN) {
            snprintf(hint, sizeof(hint), "round it up to %luM", (n + PART_MEM_ALIGN - 1) / PART_MEM_ALIGN * 2);
            error_at(&p->r, v->at, hint, "memory: %s is not a multiple of 2 MiB", show(sh, v->s, v->len));
            return false;
        }
        pt->memory = n;
        return true;
    case CONFIG_KEY_BASE:
        if (!get_address(p, k, v, &n))
            return false;
        if (n % PART_MEM_ALIGN) {
            snprintf(hint, sizeof(hint), "use a multiple of 0x200000, e.g. 0x%lx", n / PART_MEM_ALIGN * PART_MEM_ALIGN);
            error_at(&p->r, v->at, hint, "base: 0x%lx is not 2 MiB aligned", n);
            return false;
        }
        pt->base = n;
        pt->has_base = true;
        return true;
    case CONFIG_KEY_IMAGE:
        if (v->len >= CONFIG_IMAGE_MAX) {
            error_at(&p->r, v->at, "rename the file", "image: the name is %zu characters long; at most %d",
                     v->len, CONFIG_IMAGE_MAX - 1);
            return false;
        }
        if (!valid_module_name(v->s, v->len)) {
            value_error(p, k, v->at, "a file beside the config file: letters, digits, '.', '_', '-', '+'",
                        "is not a module name", v->s, v->len);
            return false;
        }
        memcpy(pt->image, v->s, v->len);
        pt->image[v->len] = '\0';
        return true;
    case CONFIG_KEY_KIND:
        if (!get_enum(p, k, v, kind_names, ARRAY_SIZE(kind_names), &e))
            return false;
        pt->kind = (enum config_kind)e;
        return true;
    case CONFIG_KEY_MODE:
        if (!get_enum(p, k, v, mode_names, ARRAY_SIZE(mode_names), &e))
            return false;
        pt->mode = (enum config_mode)e;
        return true;
    case CONFIG_KEY_LOAD:
        return get_address(p, k, v, &pt->load);
    case CONFIG_KEY_ENTRY:
        return get_address(p, k, v, &pt->entry);
    case CONFIG_KEY_CMDLINE:
        if (v->full_len >= CONFIG_CMDLINE_MAX) {
            error_at(&p->r, v->at, "shorten it", "cmdline: %zu characters; at most %d", v->full_len,
                     CONFIG_CMDLINE_MAX - 1);
            return false;
        }
        memcpy(pt->cmdline, v->s, v->len);
        pt->cmdline[v->len] = '\0';
        return true;
    case CONFIG_KEY_PRIORITY:
        if (!get_number(p, k, v, 0, 255, &n))
            return false;
        pt->priority = (uint8_t)n;
        return true;
    case CONFIG_KEY_BUDGET:
        return get_duration_in(p, k, v, BUDGET_MIN, FRAME_MAX, &pt->budget_us);
    case CONFIG_KEY_PERIOD:
        return get_duration_in(p, k, v, FRAME_MIN, FRAME_MAX, &pt->period_us);
    case CONFIG_KEY_WINDOW:
        return set_windows(p, v);
    case CONFIG_KEY_ON_CRASH:
        if (!get_enum(p, k, v, crash_names, ARRAY_SIZE(crash_names), &e))
            return false;
        pt->on_crash = (enum config_crash)e;
        return true;
    case CONFIG_KEY_RESTART_DELAY:
        return get_duration_in(p, k, v, 0, RESTART_DELAY_MAX, &pt->restart_delay_us);
    case CONFIG_KEY_RESTART_DELAY_MAX:
        return get_duration_in(p, k, v, US_PER_MS, RESTART_DELAY_MAX_MAX, &pt->restart_delay_max_us);
    case CONFIG_KEY_MAX_RESTARTS:
        if (!get_number(p, k, v, 0, MAX_RESTARTS_MAX, &n))
            return false;
        pt->max_restarts = (uint32_t)n;
        return true;
    case CONFIG_KEY_AUTOSTART:
        if (!get_enum(p, k, v, yes_no_names, ARRAY_SIZE(yes_no_names), &e))
            return false;
        pt->autostart = e == 1;
        return true;
    case CONFIG_KEY_SERIAL:
        if (!get_enum(p, k, v, serial_names, ARRAY_SIZE(serial_names), &e))
            return false;
        pt->serial = (enum config_serial)e;
        return true;
    case CONFIG_KEY_SERIAL_PORT:
        return get_port(p, k, v, &pt->serial_port);
    case CONFIG_KEY_PCI:
        return set_pci(p, v);
    case CONFIG_KEY_SHMEM:
        return set_links(p, v);
    case CONFIG_KEY_SIZE:
        if (!get_size(p, k, v->s, v->len, v->at, &n))
            return false;
        if (n < SHMEM_ALIGN || n > SHMEM_SIZE_MAX) {
            error_at(&p->r, v->at, "use 4K to 1G", "size: %s is out of range", show(sh, v->s, v->len));
            return false;
        }
        if (n % SHMEM_ALIGN) {
            error_at(&p->r, v->at, "shared memory is mapped in 4 KiB pages", "size: %s is not a multiple of 4 KiB",
                     show(sh, v->s, v->len));
            return false;
        }
        p->shm->size = n;
        return true;
    case CONFIG_KEY_COUNT:
        break;
    }
    return false;
}

/* Reads the value that starts at s[i] (after '='). Returns false after reporting a syntax
 * error. */
static bool read_value(struct parser *p, const char *key, size_t kn, const char *s, size_t n, size_t i,
                       struct value *v)
{
    char k[SHOW_BUF];
    show(k, key, kn);
    while (i < n && is_space(s[i]))
        i++;
    v->at = loc(p, i);
    v->line = s;
    v->quoted = i < n && s[i] == '"';
    if (!v->quoted) {
        size_t e = i;
        while (e < n && !is_comment(s[e]))
            e++;
        while (e > i && is_space(s[e - 1]))
            e--;
        for (size_t j = i; j < e; j++) {
            if (s[j] == '"') {
                error_at(&p->r, loc(p, j), "quote the whole value: key = \"...\"", "%s: stray '\"' in a value", k);
                return false;
            }
            if (is_ctrl(s[j])) {
                error_at(&p->r, loc(p, j), "the file must be plain text", "%s: control character 0x%02x in a value",
                         k, (unsigned char)s[j]);
                return false;
            }
        }
        v->s = s + i;
        v->len = v->full_len = e - i;
        return true;
    }
    size_t len = 0;
    for (i++;; i++) {
        if (i >= n) {
            error_at(&p->r, v->at, "close the string on the same line, e.g. cmdline = \"quiet\"",
                     "%s: missing closing '\"'", k);
            return false;
        }
        char c = s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            if (i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) {
                c = s[++i];
            } else if (i + 1 < n) {
                char sh[SHOW_BUF];
                error_at(&p->r, loc(p, i), "inside quotes only \\\" and \\\\ are escapes",
                         "%s: unknown escape '\\%s' in a string", k, show(sh, s + i + 1, 1));
                return false;
            } else {
                continue; /* a backslash ending the line: the loop then reports the missing quote */
            }
        } else if (is_ctrl(c)) {
            error_at(&p->r, loc(p, i), "the file must be plain text", "%s: control character 0x%02x in a string",
                     k, (unsigned char)c);
            return false;
        }
        if (len < VALUE_MAX - 1)
            v->buf[len] = c;
        len++;
    }
    v->full_len = len;
    v->len = len < VALUE_MAX - 1 ? len : VALUE_MAX - 1;
    v->buf[v->len] = '\0';
    v->s = v->buf;
    for (i++; i < n && is_space(s[i]); i++)
        ;
    if (i < n && !is_comment(s[i])) {
        error_at(&p->r, loc(p, i), "put comments after '#'", "%s: unexpected text after the closing quote", k);
        return false;
    }
    return true;
}

static void unknown_key(struct parser *p, const char *key, size_t kn, struct config_loc at)
{
    char hint[HINT_MAX], sh[SHOW_BUF];
    struct nearest nr;
    nearest_init(&nr, key, kn);
    int elsewhere = -1;
    for (int k = 0; k < CONFIG_KEY_COUNT; k++) {
        if (key_info[k].section == p->sec)
            nearest_consider(&nr, key_info[k].name);
        else if (slice_is(key, kn, key_info[k].name))
            elsewhere = k;
    }
    if (elsewhere >= 0)
        snprintf(hint, sizeof(hint), "'%s' belongs in %s", key_info[elsewhere].name,
                 section_title[key_info[elsewhere].section]);
    else if (nr.best)
        snprintf(hint, sizeof(hint), "did you mean '%s'?", nr.best);
    else
        snprintf(hint, sizeof(hint), "docs/config.md lists the keys of %s", section_title[p->sec]);
    error_at(&p->r, at, hint, "unknown key '%s'", show(sh, key, kn));
}

static void key_line(struct parser *p, const char *s, size_t n, size_t i)
{
    size_t eq = i;
    while (eq < n && s[eq] != '=' && s[eq] != '"' && !is_comment(s[eq]))
        eq++;
    if (eq == n || s[eq] != '=') {
        char sh[SHOW_BUF];
        size_t e = eq;
        while (e > i && is_space(s[e - 1]))
            e--;
        error_at(&p->r, loc(p, i), "a line is a [section], a key = value, or a comment",
                 "expected 'key = value', found '%s'", show(sh, s + i, e - i));
        return;
    }
    size_t ke = eq;
    while (ke > i && is_space(s[ke - 1]))
        ke--;
    const char *key = s + i;
    size_t kn = ke - i;
    struct config_loc kat = loc(p, i);
    if (kn == 0) {
        error_at(&p->r, kat, "write key = value", "missing key before '='");
        return;
    }
    if (p->sec == SEC_NONE) {
        char sh[SHOW_BUF];
        error_at(&p->r, kat, "put keys under [moat], [partition NAME] or [shmem NAME]",
                 "key '%s' is outside any section", show(sh, key, kn));
        return;
    }
    struct value v;
    if (p->sec == SEC_SKIP) {
        read_value(p, key, kn, s, n, eq + 1, &v); /* the header was refused: only the syntax is checked */
        return;
    }
    int k = -1;
    for (int j = 0; j < CONFIG_KEY_COUNT; j++)
        if (key_info[j].section == p->sec && slice_is(key, kn, key_info[j].name))
            k = j;
    if (k < 0) {
        unknown_key(p, key, kn, kat);
        return;
    }
    if (p->keys->at[k].line) {
        error_at(&p->r, kat, "remove one of them", "duplicate key '%s' (first set on line %u)", key_info[k].name,
                 p->keys->at[k].line);
        return;
    }
    bool ok = read_value(p, key, kn, s, n, eq + 1, &v);
    p->keys->at[k] = v.at; /* later checks point at the value */
    if (ok && v.len == 0 && !(v.quoted && k == CONFIG_KEY_CMDLINE)) {
        char hint[HINT_MAX];
        error_at(&p->r, v.at, example_hint((enum config_key)k, hint, sizeof(hint)), "%s: missing value",
                 key_info[k].name);
        ok = false;
    } else if (ok && v.full_len > v.len && k != CONFIG_KEY_CMDLINE) {
        error_at(&p->r, v.at, NULL, "%s: the value is longer than %d characters", key_info[k].name,
                 VALUE_MAX - 1);
        ok = false;
    }
    if (ok)
        ok = set_key(p, (enum config_key)k, &v);
    if (!ok)
        p->keys->bad |= 1ull << k;
}

static void partition_defaults(struct config_partition *pt)
{
    pt->priority = PRIORITY_DEFAULT;
    pt->period_us = PERIOD_DEFAULT;
    pt->restart_delay_us = RESTART_DELAY_DEFAULT;
    pt->restart_delay_max_us = RESTART_DELAY_MAX_DEFAULT;
    pt->max_restarts = MAX_RESTARTS_DEFAULT;
    pt->autostart = true;
    pt->serial = CONFIG_SERIAL_VIRTUAL;
    pt->serial_port = COM1_PORT;
    for (uint32_t i = 0; i < CONFIG_LINKS_MAX; i++)
        pt->shmem_index[i] = CONFIG_NO_SHMEM;
}

/* Splits the inside of [ ... ] into words; returns how many (at most 3 are stored). */
static unsigned split_words(const char *s, size_t n, const char *w[3], size_t wl[3])
{
    unsigned count = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            break;
        size_t b = i;
        while (i < n && !is_space(s[i]))
            i++;
        if (count < 3) {
            w[count] = s + b;
            wl[count] = i - b;
        }
        count++;
    }
    return count;
}

static void section_line(struct parser *p, const char *s, size_t n, size_t i)
{
    struct moat_config *c = p->cfg;
    struct config_loc at = loc(p, i);
    char sh[SHOW_BUF], hint[HINT_MAX];
    const char *kinds_hint = "sections are [moat], [partition NAME] and [shmem NAME]";
    p->sec = SEC_SKIP;
    p->keys = NULL;
    const char *close = memchr(s + i, ']', n - i);
    if (!close) {
        error_at(&p->r, loc(p, n), kinds_hint, "missing ']' at the end of the section header");
        return;
    }
    size_t after = (size_t)(close - s) + 1;
    while (after < n && is_space(s[after]))
        after++;
    if (after < n && !is_comment(s[after]))
        error_at(&p->r, loc(p, after), "put comments after '#'", "unexpected text after ']'");

    const char *w[3] = { NULL, NULL, NULL };
    size_t wl[3] = { 0, 0, 0 };
    unsigned words = split_words(s + i + 1, (size_t)(close - s) - i - 1, w, wl);
    if (words == 0) {
        error_at(&p->r, at, kinds_hint, "empty section header");
        return;
    }
    enum section kind;
    if (slice_is(w[0], wl[0], "moat"))
        kind = SEC_MOAT;
    else if (slice_is(w[0], wl[0], "partition"))
        kind = SEC_PARTITION;
    else if (slice_is(w[0], wl[0], "shmem"))
        kind = SEC_SHMEM;
    else {
        struct nearest nr;
        nearest_init(&nr, w[0], wl[0]);
        nearest_consider(&nr, "moat");
        nearest_consider(&nr, "partition");
        nearest_consider(&nr, "shmem");
        if (nr.best)
            snprintf(hint, sizeof(hint), "did you mean '%s'?", nr.best);
        error_at(&p->r, at, nr.best ? hint : kinds_hint, "unknown section kind '%s'", show(sh, w[0], wl[0]));
        return;
    }
    if (kind == SEC_MOAT) {
        if (words > 1) {
            error_at(&p->r, at, "write [moat]", "[moat] takes no name");
            return;
        }
        if (c->moat_at.line) {
            error_at(&p->r, at, "merge the two sections", "duplicate [moat] section (first on line %u)",
                     c->moat_at.line);
            return;
        }
        c->moat_at = at;
        p->sec = SEC_MOAT;
        p->keys = &c->moat_keys;
        return;
    }
    const char *what = kind == SEC_PARTITION ? "partition" : "shmem";
    if (words == 1) {
        snprintf(hint, sizeof(hint), "e.g. [%s %s]", what, kind == SEC_PARTITION ? "web" : "ring0");
        error_at(&p->r, at, hint, "[%s] needs a name", what);
        return;
    }
    if (words > 2) {
        error_at(&p->r, at, "a name is one word of letters, digits, '_' and '-'",
                 "unexpected '%s' after the %s name", show(sh, w[2], wl[2]), what);
        return;
    }
    if (!valid_name(w[1], wl[1])) {
        error_at(&p->r, at, "a name is 1 to 31 letters, digits, '_' or '-'", "'%s' is not a valid %s name",
                 show(sh, w[1], wl[1]), what);
        return;
    }
    char name[CONFIG_NAME_MAX];
    memcpy(name, w[1], wl[1]);
    name[wl[1]] = '\0';
    if (kind == SEC_PARTITION) {
        for (uint32_t j = 0; j < c->partition_count; j++) {
            if (strcmp(c->partitions[j].name, name) == 0) {
                error_at(&p->r, at, "partition names must be unique",
                         "duplicate partition '%s' (first defined on line %u)", name, c->partitions[j].at.line);
                return;
            }
        }
        if (c->partition_count == CONFIG_PARTITIONS_MAX) {
            error_at(&p->r, at, NULL, "too many partitions (at most %d)", CONFIG_PARTITIONS_MAX);
            return;
        }
        struct config_partition *pt = &c->partitions[c->partition_count++];
        partition_defaults(pt);
        memcpy(pt->name, name, sizeof(name));
        pt->at = at;
        p->part = pt;
        p->keys = &pt->keys;
    } else {
        for (uint32_t j = 0; j < c->shmem_count; j++) {
            if (strcmp(c->shmem[j].name, name) == 0) {
                error_at(&p->r, at, "shmem names must be unique", "duplicate shmem '%s' (first defined on line %u)",
                         name, c->shmem[j].at.line);
                return;
            }
        }
        if (c->shmem_count == CONFIG_SHMEM_MAX) {
            error_at(&p->r, at, NULL, "too many shmem sections (at most %d)", CONFIG_SHMEM_MAX);
            return;
        }
        struct config_shmem *sm = &c->shmem[c->shmem_count++];
        memcpy(sm->name, name, sizeof(name));
        sm->at = at;
        p->shm = sm;
        p->keys = &sm->keys;
    }
    p->sec = kind;
}

static void parse_line(struct parser *p, const char *s, size_t n)
{
    const char *nul = memchr(s, '\0', n);
    if (nul) {
        error_at(&p->r, loc(p, (size_t)(nul - s)), "the file must be plain text", "NUL byte in the file");
        return;
    }
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    if (i == n || is_comment(s[i]))
        return;
    if (s[i] == '[')
        section_line(p, s, n, i);
    else
        key_line(p, s, n, i);
}

/* ---- checks that need the whole file ----------------------------------------------------- */

static bool given(const struct config_keys *k, enum config_key key)
{
    return k->at[key].line != 0;
}

/* Given with a value that parsed. */
static bool valid(const struct config_keys *k, enum config_key key)
{
    return given(k, key) && !(k->bad & (1ull << key));
}

/* Usable: a valid value or a default (not given at all). */
static bool usable(const struct config_keys *k, enum config_key key)
{
    return !(k->bad & (1ull << key));
}

static struct config_loc key_or(const struct config_partition *pt, enum config_key key)
{
    return given(&pt->keys, key) ? pt->keys.at[key] : pt->at;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static bool windows_overlap(const struct config_window *a, const struct config_window *b)
{
    return ranges_overlap(a->offset_us, a->length_us, b->offset_us, b->length_us);
}

static void check_image_placement(struct parser *p, struct config_partition *pt)
{
    struct config_keys *k = &pt->keys;
    if (pt->kind == CONFIG_KIND_ELF) {
        if (pt->mode == CONFIG_MODE_REAL && valid(k, CONFIG_KEY_MODE))
            error_at(&p->r, k->at[CONFIG_KEY_MODE], "use mode = long64 or prot32, or kind = flat",
                     "mode: an ELF image cannot start in real mode");
        for (enum config_key key = CONFIG_KEY_LOAD; key <= CONFIG_KEY_ENTRY; key++)
            if (given(k, key))
                error_at(&p->r, k->at[key], "remove it, or set kind = flat",
                         "%s: only for flat images (an ELF image has its own addresses)", key_info[key].name);
        return;
    }
    if (!usable(k, CONFIG_KEY_MODE))
        return;
    if (!given(k, CONFIG_KEY_LOAD))
        pt->load = pt->mode == CONFIG_MODE_REAL ? GUEST_REAL_LOAD_DEFAULT : GUEST_LOAD_DEFAULT;
    if (!given(k, CONFIG_KEY_ENTRY))
        pt->entry = pt->load;
    bool load_ok = usable(k, CONFIG_KEY_LOAD), entry_ok = usable(k, CONFIG_KEY_ENTRY) && load_ok;
    struct config_loc load_at = key_or(pt, CONFIG_KEY_LOAD), entry_at = key_or(pt, CONFIG_KEY_ENTRY);
    const char *mode = mode_names[pt->mode];
    if (load_ok && pt->load < GUEST_LOW_END) {
        error_at(&p->r, load_at, "load at 0x10000 or above",
                 "load: 0x%lx is below 0x10000, where Moat puts the guest's GDT, page tables and arguments",
                 pt->load);
        load_ok = entry_ok = false;
    }
    if (pt->mode == CONFIG_MODE_REAL) {
        if (load_ok && pt->load % REAL_PARAGRAPH) {
            error_at(&p->r, load_at, "the code segment starts at load / 16: use a multiple of 16",
                     "load: 0x%lx is not 16-byte aligned, which real mode needs", pt->load);
            load_ok = entry_ok = false;
        }
        if (load_ok && pt->load >= REAL_MODE_LIMIT) {
            error_at(&p->r, load_at, "real mode reaches only the first MiB (below 0x100000)",
                     "load: 0x%lx is out of reach in real mode", pt->load);
            load_ok = entry_ok = false;
        }
        if (entry_ok && (pt->entry < pt->load || pt->entry - pt->load >= REAL_SEGMENT_SIZE)) {
            error_at(&p->r, entry_at, "in real mode IP = entry - load, so entry lies in the 64 KiB from load",
                     "entry: 0x%lx is not within 64 KiB above load (0x%lx)", pt->entry, pt->load);
            entry_ok = false;
        }
    } else {
        if (load_ok && pt->load >= FOUR_GIB) {
            error_at(&p->r, load_at, "load below 4 GiB",
                     "load: 0x%lx is above 4 GiB, out of reach of a %s entry", pt->load, mode);
            load_ok = entry_ok = false;
        }
        if (entry_ok && pt->entry >= FOUR_GIB) {
            error_at(&p->r, entry_at, "the entry point lies in the image, below 4 GiB",
                     "entry: 0x%lx is above 4 GiB, out of reach of a %s entry", pt->entry, mode);
            entry_ok = false;
        }
    }
    if (!valid(k, CONFIG_KEY_MEMORY))
        return;
    char ms[24];
    if (load_ok && pt->load >= pt->memory)
        error_at(&p->r, load_at, "load inside the partition's memory, or give it more memory",
                 "load: 0x%lx is beyond the partition's memory (%s)", pt->load, fmt_size(ms, sizeof(ms), pt->memory));
    else if (entry_ok && pt->entry >= pt->memory)
        error_at(&p->r, entry_at, "the entry point lies in the image",
                 "entry: 0x%lx is beyond the partition's memory (%s)", pt->entry, fmt_size(ms, sizeof(ms), pt->memory));
}

static void check_scheduler_keys(struct parser *p, struct config_partition *pt)
{
    struct moat_config *c = p->cfg;
    struct config_keys *k = &pt->keys;
    char hint[HINT_MAX], a[24], b[24];
    const char *sched = sched_names[c->scheduler];
    static const enum config_key prio_keys[] = { CONFIG_KEY_PRIORITY, CONFIG_KEY_BUDGET, CONFIG_KEY_PERIOD };
    if (!usable(&c->moat_keys, CONFIG_KEY_SCHEDULER))
        return; /* which keys apply is unknown; the scheduler's error is enough */
    if (c->scheduler != CONFIG_SCHED_PRIORITY) {
        for (size_t i = 0; i < ARRAY_SIZE(prio_keys); i++)
            if (given(k, prio_keys[i]))
                warning_at(&p->r, k->at[prio_keys[i]], "set scheduler = priority in [moat], or remove it",
                           "%s: ignored, the scheduler is %s", key_info[prio_keys[i]].name, sched);
    } else if (valid(k, CONFIG_KEY_BUDGET) && usable(k, CONFIG_KEY_PERIOD) && pt->budget_us > pt->period_us) {
        snprintf(hint, sizeof(hint), "the budget is CPU time per period: at most %s",
                 fmt_dur(a, sizeof(a), pt->period_us));
        error_at(&p->r, k->at[CONFIG_KEY_BUDGET], hint, "budget: %s is longer than the period (%s)",
                 fmt_dur(b, sizeof(b), pt->budget_us), fmt_dur(a, sizeof(a), pt->period_us));
    }
    if (c->scheduler != CONFIG_SCHED_CYCLIC) {
        if (given(k, CONFIG_KEY_WINDOW))
            warning_at(&p->r, k->at[CONFIG_KEY_WINDOW], "set scheduler = cyclic in [moat], or remove it",
                       "window: ignored, the scheduler is %s", sched);
        return;
    }
    if (!given(k, CONFIG_KEY_WINDOW)) {
        error_at(&p->r, pt->at, "add e.g. window = 0ms+20ms",
                 "partition '%s' has no window, so the cyclic scheduler would never run it", pt->name);
        return;
    }
    if (!valid(k, CONFIG_KEY_WINDOW))
        return;
    struct config_loc wat = k->at[CONFIG_KEY_WINDOW];
    for (uint32_t i = 0; i < pt->window_count; i++) {
        const struct config_window *w = &pt->windows[i];
        if (c->major_frame_us && w->offset_us + w->length_us > c->major_frame_us) {
            error_at(&p->r, wat, "shorten it, or raise major_frame in [moat]",
                     "window: %s ends at %s, after the major frame (%s)", fmt_window(hint, sizeof(hint), w),
                     fmt_dur(a, sizeof(a), w->offset_us + w->length_us), fmt_dur(b, sizeof(b), c->major_frame_us));
        }
        for (uint32_t j = 0; j < i; j++) {
            if (windows_overlap(w, &pt->windows[j])) {
                char o[48];
                error_at(&p->r, wat, "merge them into one window", "window: %s overlaps %s",
                         fmt_window(hint, sizeof(hint), w), fmt_window(o, sizeof(o), &pt->windows[j]));
            }
        }
    }
}

static void check_partition(struct parser *p, struct config_partition *pt)
{
    struct config_keys *k = &pt->keys;
    char hint[HINT_MAX], a[24], b[24];
    static const enum config_key required[] = { CONFIG_KEY_CPUS, CONFIG_KEY_MEMORY, CONFIG_KEY_IMAGE };
    for (size_t i = 0; i < ARRAY_SIZE(required); i++)
        if (!given(k, required[i]))
            error_at(&p->r, pt->at, example_hint(required[i], hint, sizeof(hint)),
                     "partition '%s': missing required key '%s'", pt->name, key_info[required[i]].name);

    if (pt->has_base && valid(k, CONFIG_KEY_MEMORY) && pt->base + pt->memory > PHYS_LIMIT)
        error_at(&p->r, k->at[CONFIG_KEY_BASE], "physical addresses have at most 52 bits",
                 "base: 0x%lx plus %s goes beyond the physical address space", pt->base,
                 fmt_size(a, sizeof(a), pt->memory));

    check_image_placement(p, pt);
    check_scheduler_keys(p, pt);

    if (!usable(k, CONFIG_KEY_ON_CRASH)) {
        /* unknown intent: neither "ignored" warnings nor delay checks */
    } else if (pt->on_crash == CONFIG_CRASH_STOP) {
        for (enum config_key key = CONFIG_KEY_RESTART_DELAY; key <= CONFIG_KEY_MAX_RESTARTS; key++)
            if (given(k, key))
                warning_at(&p->r, k->at[key], "set on_crash = restart, or remove it",
                           "%s: ignored, on_crash is stop", key_info[key].name);
    } else if (usable(k, CONFIG_KEY_RESTART_DELAY) && usable(k, CONFIG_KEY_RESTART_DELAY_MAX) &&
               pt->restart_delay_max_us < pt->restart_delay_us) {
        bool max_given = given(k, CONFIG_KEY_RESTART_DELAY_MAX);
        error_at(&p->r, key_or(pt, max_given ? CONFIG_KEY_RESTART_DELAY_MAX : CONFIG_KEY_RESTART_DELAY),
                 "the delay doubles from restart_delay up to restart_delay_max",
                 "restart_delay_max (%s) is shorter than restart_delay (%s)",
                 fmt_dur(a, sizeof(a), pt->restart_delay_max_us), fmt_dur(b, sizeof(b), pt->restart_delay_us));
    }

    if (pt->serial == CONFIG_SERIAL_PASSTHROUGH && !given(k, CONFIG_KEY_SERIAL_PORT))
        error_at(&p->r, k->at[CONFIG_KEY_SERIAL], "e.g. serial_port = com2",
                 "serial: passthrough needs serial_port, the host UART to give the partition");
    if (pt->serial == CONFIG_SERIAL_NONE) {
        if (given(k, CONFIG_KEY_SERIAL_PORT))
            warning_at(&p->r, k->at[CONFIG_KEY_SERIAL_PORT], "remove it, or set serial = virtual",
                       "serial_port: ignored, serial is none");
        pt->serial_port = 0;
    }

    struct moat_config *c = p->cfg;
    for (uint32_t i = 0; i < pt->shmem_count; i++) {
        for (uint32_t j = 0; j < c->shmem_count; j++)
            if (strcmp(pt->shmem[i], c->shmem[j].name) == 0)
                pt->shmem_index[i] = (uint8_t)j;
        if (pt->shmem_index[i] != CONFIG_NO_SHMEM)
            continue;
        struct nearest nr;
        nearest_init(&nr, pt->shmem[i], strlen(pt->shmem[i]));
        for (uint32_t j = 0; j < c->shmem_count; j++)
            nearest_consider(&nr, c->shmem[j].name);
        if (nr.best)
            snprintf(hint, sizeof(hint), "did you mean '%s'?", nr.best);
        else
            snprintf(hint, sizeof(hint), "add a [shmem %s] section with a size", pt->shmem[i]);
        error_at(&p->r, k->at[CONFIG_KEY_SHMEM], hint, "shmem: no [shmem %s] section", pt->shmem[i]);
    }
}

static uint32_t first_shared_cpu(const struct config_partition *a, const struct config_partition *b)
{
    for (uint32_t w = 0; w < CONFIG_CPUS_MAX / 64; w++) {
        uint64_t both = a->cpus[w] & b->cpus[w];
        if (both)
            return w * 64 + (uint32_t)__builtin_ctzll(both);
    }
    return CONFIG_CPUS_MAX;
}

/* Partition j against an earlier partition i: things two partitions cannot share. */
static void check_pair(struct parser *p, const struct config_partition *pi, const struct config_partition *pj)
{
    const struct config_keys *ki = &pi->keys, *kj = &pj->keys;
    if (pi->has_base && pj->has_base && valid(ki, CONFIG_KEY_MEMORY) && valid(kj, CONFIG_KEY_MEMORY) &&
        ranges_overlap(pi->base, pi->memory, pj->base, pj->memory))
        error_at(&p->r, kj->at[CONFIG_KEY_BASE], "fixed bases must leave the partitions apart",
                 "base: 0x%lx-0x%lx overlaps partition '%s' (0x%lx-0x%lx, line %u)", pj->base,
                 pj->base + pj->memory - 1, pi->name, pi->base, pi->base + pi->memory - 1, ki->at[CONFIG_KEY_BASE].line);

    if (pi->serial == CONFIG_SERIAL_PASSTHROUGH && pj->serial == CONFIG_SERIAL_PASSTHROUGH &&
        valid(ki, CONFIG_KEY_SERIAL_PORT) && valid(kj, CONFIG_KEY_SERIAL_PORT) &&
        ranges_overlap(pi->serial_port, UART_PORTS, pj->serial_port, UART_PORTS))
        error_at(&p->r, kj->at[CONFIG_KEY_SERIAL_PORT], "a host UART can belong to one partition only",
                 "serial_port: the UART at 0x%x is already passed through to partition '%s' (line %u)",
                 pj->serial_port, pi->name, ki->at[CONFIG_KEY_SERIAL_PORT].line);

    for (uint32_t a = 0; a < pj->pci_count; a++)
        for (uint32_t b = 0; b < pi->pci_count; b++)
            if (memcmp(&pj->pci[a], &pi->pci[b], sizeof(struct config_pci)) == 0)
                error_at(&p->r, kj->at[CONFIG_KEY_PCI], "a PCI function can belong to one partition only",
                         "pci: %02x:%02x.%x is already assigned to partition '%s' (line %u)", pj->pci[a].bus,
                         pj->pci[a].dev, pj->pci[a].fn, pi->name, ki->at[CONFIG_KEY_PCI].line);

    if (p->cfg->scheduler != CONFIG_SCHED_CYCLIC || !valid(ki, CONFIG_KEY_WINDOW) || !valid(kj, CONFIG_KEY_WINDOW))
        return;
    uint32_t cpu = first_shared_cpu(pi, pj);
    if (cpu == CONFIG_CPUS_MAX)
        return;
    for (uint32_t a = 0; a < pj->window_count; a++) {
        for (uint32_t b = 0; b < pi->window_count; b++) {
            if (!windows_overlap(&pj->windows[a], &pi->windows[b]))
                continue;
            char wa[48], wb[48];
            error_at(&p->r, kj->at[CONFIG_KEY_WINDOW], "partitions sharing a CPU need windows that do not overlap",
                     "window: %s overlaps partition '%s' (%s, line %u) on CPU %u",
                     fmt_window(wa, sizeof(wa), &pj->windows[a]), pi->name,
                     fmt_window(wb, sizeof(wb), &pi->windows[b]), ki->at[CONFIG_KEY_WINDOW].line, cpu);
        }
    }
}

static void finish(struct parser *p)
{
    struct moat_config *c = p->cfg;
    struct config_keys *mk = &c->moat_keys;
    const char *sched = sched_names[c->scheduler];
    bool sched_known = usable(mk, CONFIG_KEY_SCHEDULER);
    if (sched_known && c->scheduler != CONFIG_SCHED_ROUND_ROBIN && given(mk, CONFIG_KEY_TIMESLICE))
        warning_at(&p->r, mk->at[CONFIG_KEY_TIMESLICE], "remove it, or set scheduler = round-robin",
                   "timeslice: ignored, the scheduler is %s", sched);
    if (sched_known && c->scheduler != CONFIG_SCHED_CYCLIC && given(mk, CONFIG_KEY_MAJOR_FRAME))
        warning_at(&p->r, mk->at[CONFIG_KEY_MAJOR_FRAME], "remove it, or set scheduler = cyclic",
                   "major_frame: ignored, the scheduler is %s", sched);
    if (c->scheduler == CONFIG_SCHED_CYCLIC && !given(mk, CONFIG_KEY_MAJOR_FRAME))
        error_at(&p->r, mk->at[CONFIG_KEY_SCHEDULER], "add e.g. major_frame = 100ms to [moat]",
                 "scheduler: cyclic needs major_frame, the length of the repeating schedule");

    bool any_autostart = false;
    for (uint32_t i = 0; i < c->partition_count; i++) {
        check_partition(p, &c->partitions[i]);
        any_autostart |= c->partitions[i].autostart;
        for (uint32_t j = 0; j < i; j++)
            check_pair(p, &c->partitions[j], &c->partitions[i]);
    }
    for (uint32_t s = 0; s < c->shmem_count; s++) {
        struct config_shmem *sm = &c->shmem[s];
        char hint[HINT_MAX];
        if (!given(&sm->keys, CONFIG_KEY_SIZE))
            error_at(&p->r, sm->at, example_hint(CONFIG_KEY_SIZE, hint, sizeof(hint)),
                     "shmem '%s': missing required key 'size'", sm->name);
        bool used = false;
        for (uint32_t i = 0; i < c->partition_count; i++)
            for (uint32_t l = 0; l < c->partitions[i].shmem_count; l++)
                used |= c->partitions[i].shmem_index[l] == s;
        if (!used)
            warning_at(&p->r, sm->at, "list it in a partition's shmem key, or remove it",
                       "shmem '%s' is not used by any partition", sm->name);
    }
    if (c->partition_count == 0)
        error_at(&p->r, (struct config_loc){ 1, 1 }, "add e.g. [partition web] with cpus, memory and image",
                 "no partitions: the file has no [partition NAME] section");
    else if (!any_autostart)
        warning_at(&p->r, key_or(&c->partitions[0], CONFIG_KEY_AUTOSTART), "set autostart = yes on one",
                   "no partition starts automatically");
}

uint32_t config_parse(struct moat_config *cfg, const char *file, const char *buf, size_t len,
                      struct config_sink *sink)
{
    struct config_sink quiet = { NULL, NULL, 0, 0 };
    if (!sink)
        sink = &quiet;
    uint32_t before = sink->errors;
    memset(cfg, 0, sizeof(*cfg));
    cfg->file = file;
    cfg->scheduler = CONFIG_SCHED_ROUND_ROBIN;
    cfg->timeslice_us = TIMESLICE_DEFAULT;
    struct parser p = { .r = { file, sink }, .cfg = cfg, .sec = SEC_NONE };
    if (len > CONFIG_INPUT_MAX) {
        error_at(&p.r, (struct config_loc){ 1, 1 }, "a configuration is a short text file",
                 "the file is %zu bytes; at most %u", len, CONFIG_INPUT_MAX);
        return sink->errors - before;
    }
    size_t pos = 0;
    /* A UTF-8 byte order mark, as some Windows editors write, is skipped. */
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n && s[n - 1] == '\r')
            n--;
        p.lineno++;
        parse_line(&p, s, n);
    }
    finish(&p);
    return sink->errors - before;
}

/* ---- checks against the machine ---------------------------------------------------------- */

uint16_t config_console_port(const struct moat_config *cfg, const struct config_machine *m)
{
    if (cfg->console_port)
        return cfg->console_port;
    return m && m->console_port_default ? m->console_port_default : COM1_PORT;
}

static int module_find(const struct config_machine *m, const char *name)
{
    for (uint32_t i = 0; i < m->module_count; i++)
        if (m->modules[i] && strncmp(m->modules[i], name, CONFIG_IMAGE_MAX) == 0)
            return (int)i;
    return -1;
}

static void check_image(struct reporter *r, const struct config_partition *pt, const struct config_machine *m)
{
    const struct config_keys *k = &pt->keys;
    struct config_loc at = k->at[CONFIG_KEY_IMAGE];
    char hint[HINT_MAX], a[24], b[24];
    int i = module_find(m, pt->image);
    if (i < 0) {
        struct nearest nr;
        nearest_init(&nr, pt->image, strlen(pt->image));
        for (uint32_t j = 0; j < m->module_count; j++)
            if (m->modules[j])
                nearest_consider(&nr, m->modules[j]);
        if (nr.best)
            snprintf(hint, sizeof(hint), "did you mean '%s'?", nr.best);
        else
            snprintf(hint, sizeof(hint), "put %s beside the config file (ESP \\EFI\\MOAT\\ or a GRUB module2)",
                     pt->image);
        error_at(r, at, hint, "image: no module named '%s'", pt->image);
        return;
    }
    if (!m->module_sizes || m->module_sizes[i] == CONFIG_SIZE_UNKNOWN)
        return;
    uint64_t size = m->module_sizes[i];
    if (size == 0) {
        error_at(r, at, "build the image, or check the file copied", "image: '%s' is empty", pt->image);
        return;
    }
    if (pt->kind != CONFIG_KIND_FLAT || !usable(k, CONFIG_KEY_MODE) || !usable(k, CONFIG_KEY_LOAD) ||
        !valid(k, CONFIG_KEY_MEMORY) || pt->load < GUEST_LOW_END)
        return;
    uint64_t limit;
    const char *why;
    if (pt->mode == CONFIG_MODE_REAL) {
        limit = REAL_MODE_LIMIT;
        why = "the first MiB, all a real-mode guest reaches";
    } else {
        uint64_t stacks = (uint64_t)pt->cpu_count * GUEST_STACK_PER_VCPU;
        limit = pt->memory > stacks ? pt->memory - stacks : 0;
        if (limit > FOUR_GIB)
            limit = FOUR_GIB;
        why = "the partition's memory less 16 KiB of stack per vCPU, and 4 GiB at most";
    }
    if (pt->load >= limit || size > limit - pt->load) {
        snprintf(hint, sizeof(hint), "images must end by 0x%lx: %s", limit, why);
        error_at(r, at, hint, "image: '%s' (%s) loaded at 0x%lx does not fit", pt->image,
                 fmt_size(a, sizeof(a), size), pt->load);
        return;
    }
    if (usable(k, CONFIG_KEY_ENTRY) && (pt->entry < pt->load || pt->entry - pt->load >= size))
        error_at(r, key_or(pt, CONFIG_KEY_ENTRY), "the entry point lies in the image",
                 "entry: 0x%lx is outside the image (0x%lx-0x%lx, %s)", pt->entry, pt->load, pt->load + size - 1,
                 fmt_size(b, sizeof(b), size));
}

static bool in_ram(const struct config_machine *m, uint64_t base, uint64_t len)
{
    for (uint32_t i = 0; i < m->ram_count; i++)
        if (base >= m->ram[i].base && len <= m->ram[i].length && base - m->ram[i].base <= m->ram[i].length - len)
            return true;
    return false;
}

uint32_t config_validate(const struct moat_config *cfg, const struct config_machine *m, struct config_sink *sink)
{
    struct config_sink quiet = { NULL, NULL, 0, 0 };
    if (!sink)
        sink = &quiet;
    struct reporter r = { cfg->file, sink };
    uint32_t before = sink->errors;
    uint16_t console = config_console_port(cfg, m);
    char a[24], b[24], hint[HINT_MAX];

    /* The total first, reported at the key where the running sum crosses the machine's. */
    uint64_t total = 0;
    for (uint32_t i = 0; i < cfg->partition_count; i++)
        if (valid(&cfg->partitions[i].keys, CONFIG_KEY_MEMORY))
            total += cfg->partitions[i].memory;
    for (uint32_t s = 0; s < cfg->shmem_count; s++)
        if (valid(&cfg->shmem[s].keys, CONFIG_KEY_SIZE))
            total += cfg->shmem[s].size;
    if (m->usable_memory && total > m->usable_memory) {
        uint64_t run = 0;
        struct config_loc at = { 1, 1 };
        const char *key = "memory";
        for (uint32_t i = 0; i < cfg->partition_count && run <= m->usable_memory; i++) {
            const struct config_partition *pt = &cfg->partitions[i];
            if (valid(&pt->keys, CONFIG_KEY_MEMORY)) {
                run += pt->memory;
                at = pt->keys.at[CONFIG_KEY_MEMORY];
            }
        }
        for (uint32_t s = 0; s < cfg->shmem_count && run <= m->usable_memory; s++) {
            if (valid(&cfg->shmem[s].keys, CONFIG_KEY_SIZE)) {
                run += cfg->shmem[s].size;
                at = cfg->shmem[s].keys.at[CONFIG_KEY_SIZE];
                key = "size";
            }
        }
        error_at(&r, at, "shrink or remove partitions",
                 "%s: partitions and shared memory need %s in total; this machine has %s usable", key,
                 fmt_size(a, sizeof(a), total), fmt_size(b, sizeof(b), m->usable_memory));
    }

    for (uint32_t i = 0; i < cfg->partition_count; i++) {
        const struct config_partition *pt = &cfg->partitions[i];
        const struct config_keys *k = &pt->keys;
        if (m->cpu_count && valid(k, CONFIG_KEY_CPUS)) {
            uint32_t missing = 0, first = 0;
            for (uint32_t c = m->cpu_count; c < CONFIG_CPUS_MAX; c++) {
                if (cpu_test(pt->cpus, c)) {
                    if (!missing)
                        first = c;
                    missing++;
                }
            }
            if (missing) {
                char more[32] = "";
                char have[24];
                if (missing > 1)
                    snprintf(more, sizeof(more), " (nor %u more listed)", missing - 1);
                if (m->cpu_count == 1)
                    snprintf(have, sizeof(have), "0");
                else
                    snprintf(have, sizeof(have), "0-%u", m->cpu_count - 1);
                snprintf(hint, sizeof(hint), "use CPUs %s", have);
                error_at(&r, k->at[CONFIG_KEY_CPUS], hint, "cpus: CPU %u does not exist%s; this machine has %u (%s)",
                         first, more, m->cpu_count, have);
            }
        }
        /* Not the machine's limit but the guest's layout: the PCI window follows the RAM. */
        if (valid(k, CONFIG_KEY_MEMORY) && pt->memory > GUEST_RAM_LIMIT) {
            snprintf(hint, sizeof(hint), "use at most %luM", (uint64_t)GUEST_RAM_LIMIT / MIB);
            error_at(&r, k->at[CONFIG_KEY_MEMORY], hint,
                     "memory: %s is more than a partition can have: its RAM must end below the PCI "
                     "ECAM window at 0x%lx", fmt_size(a, sizeof(a), pt->memory), (uint64_t)GUEST_ECAM_GPA);
        }
        if (m->ram && pt->has_base && valid(k, CONFIG_KEY_BASE) && valid(k, CONFIG_KEY_MEMORY) &&
            !in_ram(m, pt->base, pt->memory))
            error_at(&r, k->at[CONFIG_KEY_BASE], "pick a base inside usable RAM, or remove base to let Moat choose",
                     "base: 0x%lx-0x%lx is not inside usable RAM", pt->base, pt->base + pt->memory - 1);
        if (m->modules && valid(k, CONFIG_KEY_IMAGE))
            check_image(&r, pt, m);
        if (pt->serial == CONFIG_SERIAL_PASSTHROUGH && valid(k, CONFIG_KEY_SERIAL_PORT) &&
            ranges_overlap(pt->serial_port, UART_PORTS, console, UART_PORTS)) {
            snprintf(hint, sizeof(hint), "move the console (console = %s in [moat]) or use serial = virtual",
                     console == com_ports[1] ? "com1" : "com2");
            error_at(&r, k->at[CONFIG_KEY_SERIAL_PORT], hint,
                     "serial_port: 0x%x is the hypervisor console's UART (0x%x)", pt->serial_port, console);
        }
        if (m->long64_only && pt->mode != CONFIG_MODE_LONG64 && valid(k, CONFIG_KEY_MODE))
            error_at(&r, k->at[CONFIG_KEY_MODE], "use mode = long64",
                     "mode: %s needs VT-x \"unrestricted guest\", which this CPU lacks", mode_names[pt->mode]);
    }
    return sink->errors - before;
}

/* ---- summaries and names ----------------------------------------------------------------- */

int config_partition_summary(const struct moat_config *cfg, uint32_t i, char *buf, size_t len)
{
    if (i >= cfg->partition_count) {
        if (len)
            buf[0] = '\0';
        return 0;
    }
    const struct config_partition *pt = &cfg->partitions[i];
    struct strbuf b = { buf, len, 0 };
    char s1[24], s2[48];
    if (len)
        buf[0] = '\0';
    sb_printf(&b, "%s: %u vCPU%s (CPU%s ", pt->name, pt->cpu_count, pt->cpu_count == 1 ? "" : "s",
              pt->cpu_count == 1 ? "" : "s");
    sb_cpus(&b, pt->cpus);
    sb_printf(&b, "), %s", fmt_size(s1, sizeof(s1), pt->memory));
    if (pt->has_base)
        sb_printf(&b, " at 0x%lx", pt->base);
    sb_printf(&b, ", %s %s image %s", kind_names[pt->kind], mode_names[pt->mode], pt->image);
    uint64_t load_default = pt->mode == CONFIG_MODE_REAL ? GUEST_REAL_LOAD_DEFAULT : GUEST_LOAD_DEFAULT;
    if (pt->kind == CONFIG_KIND_FLAT && (pt->load != load_default || pt->entry != pt->load))
        sb_printf(&b, " at 0x%lx entry 0x%lx", pt->load, pt->entry);
    sb_printf(&b, ", %s", sched_names[cfg->scheduler]);
    switch (cfg->scheduler) {
    case CONFIG_SCHED_ROUND_ROBIN:
        sb_printf(&b, " %s", fmt_dur(s1, sizeof(s1), cfg->timeslice_us));
        break;
    case CONFIG_SCHED_PRIORITY:
        sb_printf(&b, " %u", pt->priority);
        if (pt->budget_us)
            sb_printf(&b, ", budget %s per %s", fmt_dur(s1, sizeof(s1), pt->budget_us),
                      fmt_dur(s2, sizeof(s2), pt->period_us));
        break;
    case CONFIG_SCHED_CYCLIC:
        for (uint32_t w = 0; w < pt->window_count; w++)
            sb_printf(&b, "%s%s", w ? "," : " ", fmt_window(s2, sizeof(s2), &pt->windows[w]));
        break;
    }
    if (pt->on_crash == CONFIG_CRASH_RESTART)
        sb_printf(&b, ", restarts up to %u times (%s", pt->max_restarts,
                  fmt_dur(s1, sizeof(s1), pt->restart_delay_us));
    if (pt->on_crash == CONFIG_CRASH_RESTART)
        sb_printf(&b, "..%s apart)", fmt_dur(s1, sizeof(s1), pt->restart_delay_max_us));
    if (!pt->autostart)
        sb_printf(&b, ", not autostarted");
    if (pt->serial == CONFIG_SERIAL_NONE)
        sb_printf(&b, ", no serial");
    else
        sb_printf(&b, ", serial %s 0x%x", serial_names[pt->serial], pt->serial_port);
    for (uint32_t d = 0; d < pt->pci_count; d++)
        sb_printf(&b, "%s%02x:%02x.%x", d ? "," : ", pci ", pt->pci[d].bus, pt->pci[d].dev, pt->pci[d].fn);
    for (uint32_t l = 0; l < pt->shmem_count; l++)
        sb_printf(&b, "%s%s", l ? "," : ", shmem ", pt->shmem[l]);
    return (int)b.used;
}

const char *config_sched_name(enum config_sched s)
{
    return (unsigned)s < ARRAY_SIZE(sched_names) ? sched_names[s] : "?";
}

const char *config_mode_name(enum config_mode m)
{
    return (unsigned)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

const char *config_key_name(enum config_key k)
{
    return (unsigned)k < CONFIG_KEY_COUNT ? key_info[k].name : "?";
}
