// SPDX-License-Identifier: Apache-2.0
// The few <string.h> functions Moat's freestanding code uses; implemented in common/string.c.
// Host builds use the C library's header instead (this folder is not on their path).
#ifndef MOAT_LIBC_STRING_H
#define MOAT_LIBC_STRING_H
#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
void *memchr(const void *s, int c, size_t n);
#endif
