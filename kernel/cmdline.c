// SPDX-License-Identifier: Apache-2.0
// Command line parsing. Ports of COM1-COM4 are the PC/AT standard ones (0x3f8, 0x2f8, 0x3e8,
// 0x2e8); any other port may be given in decimal or 0x-prefixed hex.
#include <string.h>
#include <stdio.h>
#include "kernel/cmdline.h"
#include "common/digits.h"

#define COM1 0x3f8

static const struct {
    const char *name;
    uint16_t port;
} com_ports[] = { { "com1", 0x3f8 }, { "com2", 0x2f8 }, { "com3", 0x3e8 }, { "com4", 0x2e8 } };

struct errbuf {
    char *buf;
    size_t len, used;
    int count;
};

static void report(struct errbuf *e, const char *word, size_t wlen, const char *why)
{
    e->count++;
    if (!e->buf || e->used >= e->len)
        return;
    int n = snprintf(e->buf + e->used, e->len - e->used, "%scmdline: '%.*s': %s",
                     e->used ? "\n" : "", (int)wlen, word, why);
    if (n > 0)
        e->used += (size_t)n < e->len - e->used ? (size_t)n : e->len - e->used - 1;
}

static bool parse_u16(const char *s, size_t len, uint16_t *out)
{
    unsigned base = 10;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = digit_value(s[i], base);
        if (d < 0)
            return false;
        v = v * base + (unsigned)d;
        if (v > 0xffff)
            return false;
    }
    *out = (uint16_t)v;
    return true;
}

static bool value_is(const char *v, size_t vlen, const char *lit)
{
    return strlen(lit) == vlen && memcmp(v, lit, vlen) == 0;
}

static bool parse_mib(const char *s, size_t len, uint32_t *out)
{
    uint32_t v = 0;
    if (len == 0 || len > 7)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool copy_field(char *dst, const char *src, size_t len)
{
    if (len == 0 || len >= CMDLINE_NAME_MAX)
        return false;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

/* guest=IMAGE[,key=value...] */
static void parse_guest(const char *w, size_t len, const char *v, size_t vlen, struct cmdline *out,
                        struct errbuf *e)
{
    if (out->guest_count >= CMDLINE_GUESTS_MAX) {
        report(e, w, len, "too many guest= options (at most 4)");
        return;
    }
    struct cmdline_guest g = { .mode = CMDLINE_MODE_LONG64, .mem_mib = 16 };
    const char *end = v + vlen;
    const char *comma = memchr(v, ',', vlen);
    const char *f_end = comma ? comma : end;
    if (!copy_field(g.image, v, (size_t)(f_end - v))) {
        report(e, w, len, "guest= needs an image name of 1 to 63 characters");
        return;
    }
    for (const char *f = comma ? comma + 1 : end; f < end; f = f_end + 1) {
        f_end = memchr(f, ',', (size_t)(end - f));
        if (!f_end)
            f_end = end;
        size_t flen = (size_t)(f_end - f);
        const char *eq = memchr(f, '=', flen);
        size_t klen = eq ? (size_t)(eq - f) : flen;
        const char *fv = eq ? eq + 1 : f_end;
        size_t fvlen = (size_t)(f_end - fv);
        if (klen == 4 && memcmp(f, "mode", 4) == 0 && eq) {
            if (value_is(fv, fvlen, "long64"))
                g.mode = CMDLINE_MODE_LONG64;
            else if (value_is(fv, fvlen, "prot32"))
                g.mode = CMDLINE_MODE_PROT32;
            else if (value_is(fv, fvlen, "real"))
                g.mode = CMDLINE_MODE_REAL;
            else {
                report(e, w, len, "mode must be long64, prot32 or real");
                return;
            }
        } else if (klen == 3 && memcmp(f, "mem", 3) == 0 && eq) {
            if (!parse_mib(fv, fvlen, &g.mem_mib) || g.mem_mib < 4 || g.mem_mib % 2) {
                report(e, w, len, "mem is in MiB: an even number of at least 4");
                return;
            }
        } else if (klen == 4 && memcmp(f, "args", 4) == 0 && eq) {
            if (!copy_field(g.args, fv, fvlen)) {
                report(e, w, len, "args must be 1 to 63 characters");
                return;
            }
        } else {
            report(e, w, len, "unknown guest= field (known: mode=, mem=, args=)");
            return;
        }
    }
    out->guests[out->guest_count++] = g;
}

static void parse_word(const char *w, size_t len, struct cmdline *out, struct errbuf *e)
{
    const char *eq = memchr(w, '=', len);
    size_t klen = eq ? (size_t)(eq - w) : len;
    const char *v = eq ? eq + 1 : NULL;
    size_t vlen = eq ? len - klen - 1 : 0;

    if (klen == 7 && memcmp(w, "console", 7) == 0) {
        if (!v) {
            report(e, w, len, "needs a value: console=com1..com4 or an I/O port such as 0x3f8");
            return;
        }
        for (size_t i = 0; i < sizeof(com_ports) / sizeof(com_ports[0]); i++) {
            if (value_is(v, vlen, com_ports[i].name)) {
                out->console_port = com_ports[i].port;
                return;
            }
        }
        uint16_t port;
        if (parse_u16(v, vlen, &port) && port != 0 && port <= 0xfff8) {
            out->console_port = port;
            return;
        }
        report(e, w, len, "not a serial port: use com1..com4 or an I/O port such as 0x3f8");
    } else if (klen == 4 && memcmp(w, "exit", 4) == 0) {
        if (v && value_is(v, vlen, "boot"))
            out->exit = CMDLINE_EXIT_BOOT;
        else if (v && value_is(v, vlen, "idle"))
            out->exit = CMDLINE_EXIT_IDLE;
        else if (v && value_is(v, vlen, "never"))
            out->exit = CMDLINE_EXIT_NEVER;
        else
            report(e, w, len, "exit takes 'boot', 'idle' or 'never'");
    } else if (klen == 5 && memcmp(w, "debug", 5) == 0) {
        if (v && value_is(v, vlen, "fault"))
            out->debug_fault = true;
        else
            report(e, w, len, "debug takes 'fault'");
    } else if (klen == 5 && memcmp(w, "guest", 5) == 0) {
        if (!v)
            report(e, w, len, "guest= needs an image name");
        else
            parse_guest(w, len, v, vlen, out, e);
    } else {
        report(e, w, len, "unknown option (known: console=, exit=, guest=, debug=)");
    }
}

int cmdline_parse(const char *s, struct cmdline *out, char *err, size_t errlen)
{
    struct errbuf e = { err, errlen, 0, 0 };
    memset(out, 0, sizeof(*out));
    out->console_port = COM1;
    out->exit = CMDLINE_EXIT_NEVER;
    if (err && errlen)
        err[0] = '\0';
    while (s && *s) {
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
            s++;
        const char *w = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            s++;
        if (s > w)
            parse_word(w, (size_t)(s - w), out, &e);
    }
    return e.count;
}
