// SPDX-License-Identifier: Apache-2.0
// Small bit helpers shared by the kernel's pure modules and their host tests.
#ifndef COMMON_BITS_H
#define COMMON_BITS_H

#include <stdint.h>

/* The low `bytes` bytes all ones: an access of that width with every bit set (8 or more: all). */
static inline uint64_t width_mask(unsigned bytes)
{
    return bytes >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * bytes)) - 1;
}
#endif
