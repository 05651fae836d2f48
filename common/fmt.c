// SPDX-License-Identifier: Apache-2.0
// vsnprintf for freestanding code: the subset of C99 listed in include/libc/stdio.h.
// Always NUL-terminates when size > 0 and returns the length the full output would have.
#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
                    int width, bool left, bool zero, const char *prefix)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int plen = (neg ? 1 : 0) + (prefix ? (int)__builtin_strlen(prefix) : 0);
    int fill = width - n - plen;
    if (!left && !zero)
        pad(o, ' ', fill);
    if (neg)
        put(o, '-');
    for (const char *p = prefix; p && *p; p++)
        put(o, *p);
    if (!left && zero)
        pad(o, '0', fill);
    while (n)
        put(o, tmp[--n]);
    if (left)
        pad(o, ' ', fill);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        bool left = false, zero = false;
        int width = 0, prec = -1, lng = 0, shrt = 0;
        for (;; fmt++) {
            if (fmt[1] == '-')
                left = true;
            else if (fmt[1] == '0')
                zero = true;
            else
                break;
        }
        fmt++;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        for (;; fmt++) {
            if (*fmt == 'l' || *fmt == 'z')
                lng++;
            else if (*fmt == 'h')
                shrt++;
            else
                break;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (!lng && shrt)
                v = shrt > 1 ? (int64_t)(signed char)v : (int64_t)(short)v;
            uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
            put_num(&o, mag, v < 0, 10, false, width, left, zero, NULL);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
            if (!lng && shrt)
                v = shrt > 1 ? (uint8_t)v : (uint16_t)v;
            put_num(&o, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, left, zero, NULL);
            break;
        }
        case 'p':
            put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, width, left, zero, "0x");
            break;
        case 'c':
            if (!left)
                pad(&o, ' ', width - 1);
            put(&o, (char)va_arg(ap, int));
            if (left)
                pad(&o, ' ', width - 1);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            int n = 0;
            while (s[n] && (prec < 0 || n < prec))
                n++;
            if (!left)
                pad(&o, ' ', width - n);
            for (int i = 0; i < n; i++)
                put(&o, s[i]);
            if (left)
                pad(&o, ' ', width - n);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
