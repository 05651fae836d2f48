// SPDX-License-Identifier: Apache-2.0
// One rule for reading a digit in base 10 or 16, shared by the command-line and configuration
// parsers.
#ifndef COMMON_DIGITS_H
#define COMMON_DIGITS_H

/* The value of c as a digit of `base` (10 or 16, either case), or -1. */
static inline int digit_value(char c, unsigned base)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (base == 16 && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (base == 16 && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
#endif
