// SPDX-License-Identifier: Apache-2.0
// Host interrupts and exceptions: the frame the entry stubs build, the vectors Moat uses, and
// the registration of handlers for device interrupts. Exceptions in the hypervisor are our bugs:
// they dump state and panic.
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H
#include <stdint.h>
#include <stddef.h>

/* Vectors 0-31 are exceptions (SDM vol. 3A 6.3.1). Ours sit high, above any legacy remap. */
#define VEC_TIMER    0xef
#define VEC_KICK     0xf0 /* IPI: leave guest mode and look at the partition's state */
#define VEC_WORK     0xf1 /* IPI: run the posted work item */
#define VEC_SPURIOUS 0xff

/* Layout pushed by kernel/entry.asm: GPRs by the stub, then vector and error code, then the
 * CPU's own interrupt frame (SDM vol. 3A 6.14.2). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(offsetof(struct trap_frame, vector) == 15 * 8, "entry.asm pushes 15 GPRs");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap frame size");

typedef void (*irq_handler_t)(struct trap_frame *f);
/* Route vector (32..255) to fn; the dispatcher sends the LAPIC EOI afterwards. */
void trap_set_handler(uint8_t vector, irq_handler_t fn);
/* Called by entry.asm for every vector. */
void trap_dispatch(struct trap_frame *f);
/* Print a register dump of f to the console. */
void trap_dump(const struct trap_frame *f);
#endif
