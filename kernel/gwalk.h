// SPDX-License-Identifier: Apache-2.0
// Guest-linear to guest-physical translation by walking the guest's own page tables, for the
// hypervisor's reads of guest memory (the instruction at RIP, hypercall buffers). Pure: guest
// memory is read through a callback, so host tests walk tables built in buffers.
#ifndef KERNEL_GWALK_H
#define KERNEL_GWALK_H
#include <stdint.h>
#include <stdbool.h>

struct gwalk_regs {
    uint64_t cr0, cr3, cr4, efer;
};

/* Read an 8-byte (or, for 32-bit paging, 4-byte zero-extended) entry at guest-physical gpa;
 * return false if that gpa is not guest memory. */
typedef bool (*gwalk_read_fn)(void *ctx, uint64_t gpa, unsigned size, uint64_t *out);

enum gwalk_result {
    GWALK_OK = 0,
    GWALK_NOT_PRESENT = -1, /* a level's entry is not present: the guest would #PF */
    GWALK_BAD_TABLE = -2,   /* a table lies outside guest memory */
    GWALK_RESERVED = -3,    /* reserved bits set: the guest would #PF(RSVD) */
    GWALK_UNSUPPORTED = -4, /* 5-level paging */
};

/* Translate linear address `la`. On success *gpa is the guest-physical address and
 * *page_end the first linear address past the page that holds it (so callers know how many
 * bytes are contiguous). */
int gwalk_translate(const struct gwalk_regs *r, uint64_t la, gwalk_read_fn read, void *ctx,
                    uint64_t *gpa, uint64_t *page_end);
#endif
