// SPDX-License-Identifier: Apache-2.0
// The generic side of virtualization: choosing and enabling the backend on every CPU, the
// vCPU run loop and exit dispatch, and the guest ABI constants (docs/guest-abi.md).
#ifndef KERNEL_VIRT_CORE_H
#define KERNEL_VIRT_CORE_H
#include <stdbool.h>
#include "kernel/virt.h"
#include "kernel/vcpu.h"

/* Hypercalls: VMCALL (Intel) or VMMCALL (AMD) with the number in RAX, arguments in RDI, RSI,
 * RDX; the result comes back in RAX (negative = error). Addresses are guest-physical. */
enum hypercall {
    HC_WRITE = 1,   /* RDI = buffer gpa, RSI = length (<= 4096): console output, whole lines */
    HC_EXIT = 2,    /* RDI = status: this vCPU is done; the partition ends when all are */
    HC_YIELD = 3,   /* give the CPU away; returns 0 */
    HC_VERSION = 4, /* returns the ABI version (1) */
};
#define HC_ABI_VERSION 1
#define HC_E_INVAL (-22)
#define HC_E_NOSYS (-38)

extern struct s2pt_format virt_s2_format;

/* On the BSP once: choose the backend from the CPU vendor, then detect and enable it on every
 * online CPU. Prints what is missing and returns false when no partition can run. */
bool virt_init(void);
/* What the run loop (kernel/run.c) does after an exit has been handled. */
enum exit_outcome {
    EXIT_GO,    /* enter the guest again */
    EXIT_HALT,  /* HLT: the vCPU waits (the instruction is already skipped) */
    EXIT_YIELD, /* the yield hypercall: give the rest of the slice away */
    EXIT_DONE,  /* the exit hypercall: this vCPU is finished */
    EXIT_STOP,  /* its partition was stopped */
};
/* Enter v and handle its exits (kernel/vmexit.c; a guest can at worst stop its partition)
 * until one needs the run loop: a HLT, a yield, the exit hypercall, a stop, or EXIT_GO when
 * the TSC reaches until_tsc, *stop1 or *stop2 is set, the preemption timer fired, or (with
 * stop_on_intr) a host interrupt came. */
enum exit_outcome vcpu_run_until(struct vcpu *v, uint64_t until_tsc, const volatile uint32_t *stop1,
                                 const volatile uint32_t *stop2, bool stop_on_intr);
/* Print what v wrote since its last newline as a line of its own. */
void vcpu_flush_line(struct vcpu *v);
#endif
