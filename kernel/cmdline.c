// SPDX-License-Identifier: Apache-2.0
// Command line parsing. Ports of COM1-COM4 are the PC/AT standard ones (0x3f8, 0x2f8, 0x3e8,
// 0x2e8); any other port may be given in decimal or 0x-prefixed hex.
#include <string.h>
#include <stdio.h>
#include "kernel/cmdline.h"

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
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        v = v * base + d;
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
        else if (v && value_is(v, vlen, "never"))
            out->exit = CMDLINE_EXIT_NEVER;
        else
            report(e, w, len, "exit takes 'boot' or 'never'");
    } else {
        report(e, w, len, "unknown option (known: console=, exit=)");
    }
}

int cmdline_parse(const char *s, struct cmdline *out, char *err, size_t errlen)
{
    struct errbuf e = { err, errlen, 0, 0 };
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
