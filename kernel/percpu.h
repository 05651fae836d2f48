// SPDX-License-Identifier: Apache-2.0
// Per-CPU data: one page-aligned struct per physical CPU, found through GS base, holding the
// CPU's own GDT and TSS. Written by its own CPU except where a field says otherwise.
#ifndef KERNEL_PERCPU_H
#define KERNEL_PERCPU_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define MAX_CPUS 256
#define KERNEL_STACK_SIZE (16 * 1024)
#define IST_STACK_SIZE (8 * 1024)

/* GDT selectors (identical on every CPU; SDM vol. 3A 3.4.5). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS   0x18
#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */

/* IST slots (SDM vol. 3A 6.14.5): exceptions that must not run on a possibly broken stack. */
enum { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3, IST_COUNT = 3 };

/* 64-bit TSS (SDM vol. 3A 8.7, figure 8-11). */
struct __attribute__((packed)) tss64 {
    uint32_t rsvd_0x00;
    uint64_t rsp[3];
    uint64_t rsvd_0x1c;
    uint64_t ist[7];
    uint64_t rsvd_0x5c;
    uint16_t rsvd_0x64;
    uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "TSS size");
_Static_assert(offsetof(struct tss64, ist) == 0x24, "TSS IST offset");

struct percpu {
    struct percpu *self;  /* at offset 0: this_cpu() loads it from gs:0 */
    uint32_t index;       /* 0 = BSP, dense */
    uint32_t apic_id;
    uint64_t stack_top;   /* kernel stack, set before the CPU starts */
    volatile uint64_t ticks;   /* timer ticks (TIMER_TICK_HZ) taken; read by other CPUs */
    uint64_t next_tick_ns;     /* drivers/timer.c: when the next tick is due */
    uint64_t deadline_ns;      /* an extra timer interrupt wanted then */
    uint64_t armed_ns;         /* what the LAPIC timer is armed for */
    uint64_t nmis;             /* NMIs taken outside a panic */
    volatile uint32_t online;  /* set by the CPU itself once fully initialized */
    volatile uint32_t virt_ready; /* VMX/SVM enabled on this CPU */
    /* Work posted by another CPU (smp_run_on): the CPU runs it from its idle loop. */
    void (*volatile work)(void *arg);
    void *volatile work_arg;
    void *virt_cpu;            /* the backend's per-CPU state (VMXON region, host save area) */
    uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
    struct tss64 tss __attribute__((aligned(16)));
    uint8_t ist_stacks[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));
} __attribute__((aligned(4096)));
_Static_assert(offsetof(struct percpu, self) == 0, "this_cpu() reads gs:0");

/* The BSP's is static (needed before the frame allocator exists); APs' come from the frame
 * allocator as they are started. percpu_of[i] is CPU i's, NULL past cpu_count. */
extern struct percpu percpu_bsp;
extern struct percpu *percpu_of[MAX_CPUS];
extern uint32_t cpu_count;

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

/* True once the BSP's percpu_setup() ran: this_cpu() is valid on every CPU from then on. */
bool percpu_ready(void);
/* Load this CPU's GDT, TSS and GS base; `p` must have index, apic_id set. */
void percpu_setup(struct percpu *p);
/* Load the shared IDT on this CPU. */
void idt_load(void);
/* Fill the shared IDT (once, on the BSP). */
void idt_init(void);
#endif
