// SPDX-License-Identifier: Apache-2.0
// Freestanding snprintf for the kernel and the loader (common/fmt.c). Supports the
// conversions d i u x X p c s %, the flags '-' '0', a width, a precision on s (also .*),
// and the length modifiers hh h l ll z. Host builds use the C library instead.
#ifndef MOAT_LIBC_STDIO_H
#define MOAT_LIBC_STDIO_H
#include <stdarg.h>
#include <stddef.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif
