// SPDX-License-Identifier: Apache-2.0
// MMIO emulation, the pure part: a partition's virtual devices at guest-physical ranges, and
// the checks between a stage-2 fault and the decoded instruction that made it (what it does,
// how wide, where it really starts). The exit handler (kernel/vmexit.c) fetches the bytes,
// decodes them (kernel/insn.c), calls the device and writes the register back.
#ifndef KERNEL_MMIO_H
#define KERNEL_MMIO_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/insn.h"

#define MMIO_DEVICES_MAX 12 /* per partition: ECAM and one register block per ivshmem link */

struct vcpu;
struct mmio_device;

/* One access of `size` bytes (1, 2, 4 or 8) at `offset` into the device's range, wholly
 * inside it. A read stores the value in the low `size` bytes of *value; a write finds it
 * there (the bytes above are zero). Runs on the faulting vCPU's CPU; locking is the
 * device's business. */
typedef void (*mmio_handler)(struct vcpu *v, struct mmio_device *d, uint64_t offset,
                             unsigned size, bool is_write, uint64_t *value);

struct mmio_device {
    uint64_t base, size; /* guest-physical [base, base + size), nothing mapped there */
    mmio_handler access;
    void *ctx;
    const char *name;    /* for diagnostics ("PCI ECAM", "ivshmem registers") */
};

/* The devices of one partition, registered before its vCPUs start and never changed while
 * they run, so lookups take no lock. */
struct mmio_bus {
    struct mmio_device devs[MMIO_DEVICES_MAX];
    uint32_t count;
};

/* Add a copy of d. False if the bus is full, d has no handler, its range is empty or wraps,
 * or it overlaps a device already there. */
bool mmio_add(struct mmio_bus *bus, const struct mmio_device *d);

/* The device whose range holds gpa, or NULL. */
struct mmio_device *mmio_find(struct mmio_bus *bus, uint64_t gpa);

/* The guest-linear address an instruction's memory operand refers to (SDM vol. 1 3.7.5,
 * vol. 2 2.1.5): base + index * scale + displacement (RIP-relative: from next_rip; a moffs:
 * the offset itself), truncated to the address size, plus the segment's base (in 64-bit mode
 * only FS and GS have one). gpr is in x86 register order; seg_base is indexed by enum
 * insn_seg (ES..GS). The default segment is SS for rSP/rBP-based forms, else DS. False for
 * an instruction without a ModRM or moffs memory operand. */
bool mmio_linear_address(const struct insn *in, const uint64_t gpr[16], uint64_t next_rip,
                         const uint64_t seg_base[6], uint64_t *la);

/* What a supported access does to the device. */
struct mmio_access {
    uint64_t offset; /* into the device's range */
    unsigned size;   /* 1, 2, 4 or 8 */
    bool write;
    uint64_t value;  /* writes: the bytes written (zero-extended) */
};

enum mmio_refusal {
    MMIO_OK = 0,
    MMIO_R_STRING,   /* MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS */
    MMIO_R_ATOMIC,   /* LOCK prefix, XCHG, CMPXCHG, XADD */
    MMIO_R_ALU,      /* read-modify-write or compare: ADD, OR, TEST, BT, CMOVcc, ... */
    MMIO_R_SIMD,     /* MMX/SSE/AVX */
    MMIO_R_OTHER,    /* any other instruction with a memory operand (PUSH m, x87, MOVBE...) */
    MMIO_R_NO_MEM,   /* the instruction has no memory operand: it changed under us */
    MMIO_R_DIRECTION, /* it reads where the fault says write, or the other way round */
    MMIO_R_PAST_END, /* it runs past the device's end */
    MMIO_R_BELOW,    /* it starts below the faulting address (on the page before) */
};

/* Check the decoded instruction against the fault (gpa in d, write or read, at linear
 * address la when has_la) and describe the access in *acc. gpr gives a STORE's source
 * register. Returns MMIO_OK, or why it cannot be emulated (*acc then unspecified). */
enum mmio_refusal mmio_plan(const struct insn *in, const struct mmio_device *d, uint64_t gpa,
                            bool write, bool has_la, uint64_t la, const uint64_t gpr[16],
                            struct mmio_access *acc);

/* A phrase for a refusal: "string instructions (MOVS, STOS, ...)". */
const char *mmio_refusal_text(enum mmio_refusal r);

#endif
