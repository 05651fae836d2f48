// SPDX-License-Identifier: Apache-2.0
// A virtual CPU: the generic half (registers, owner, counters, console line) and a pointer to
// the backend's half (VMCS or VMCB). One vCPU runs on exactly one physical CPU at a time; only
// that CPU touches it while it runs.
#ifndef KERNEL_VCPU_H
#define KERNEL_VCPU_H

#include <stdint.h>
#include <stdbool.h>
#include "kernel/virt.h"

struct partition;
struct percpu;

#define VCPU_LINE_MAX 160 /* console output is forwarded a whole line at a time */

struct vcpu {
    struct guest_gprs regs; /* offset 0: the backends' world-switch assembly relies on it */
    void *arch;             /* backend-owned: VMCS/VMCB and bitmaps (NULL until initialised) */
    uint64_t arch_bytes;    /* memory the backend holds for it */
    struct partition *part;
    struct percpu *cpu;     /* the physical CPU it runs on, for its whole life */
    uint32_t id;            /* index within the partition, also its virtual APIC ID */
    volatile bool running;  /* in guest mode or between an exit and the next entry */
    bool done;              /* left through the exit hypercall (or cannot run): retire it */
    bool halted;            /* HLT: not runnable until wake_ns */
    uint64_t deadline_tsc;  /* the backend's preemption timer (if any) exits by then */
    uint64_t wake_ns;
    /* Guest state neither VT-x nor AMD-V switches: saved and loaded by the run loop
     * (kernel/run.c) only when another vCPU takes the CPU. */
    uint8_t fpu[512] __attribute__((aligned(16))); /* FXSAVE image: x87, MMX, SSE */
    uint64_t cr2, dr[4], dr6;
    /* Counters: CPU time and switches come from the CPU's scheduler. */
    uint64_t cpu_ns, switches, preempted;
    uint64_t exits[EXIT_KIND_COUNT];
    uint64_t io_unclaimed;  /* port accesses nobody claimed (reads gave all ones) */
    uint64_t msr_refused;   /* MSR accesses answered with #GP */
    uint32_t line_len;
    char line[VCPU_LINE_MAX];
};
_Static_assert(__builtin_offsetof(struct vcpu, regs) == 0, "world switch: regs at offset 0");

#endif
