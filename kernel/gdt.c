// SPDX-License-Identifier: Apache-2.0
// Per-CPU GDT and TSS. Each CPU has its own TSS (the busy bit and IST stacks are per CPU), so
// each has its own small GDT too. Descriptor formats: Intel SDM vol. 3A 3.4.5 and 8.2.3.
#include <string.h>
#include "kernel/percpu.h"
#include "kernel/x86.h"

struct percpu percpu_bsp;
struct percpu *percpu_of[MAX_CPUS];
uint32_t cpu_count;
static bool percpu_loaded;

bool percpu_ready(void)
{
    return percpu_loaded;
}

/* Code/data descriptors: present, DPL 0, S=1; code adds L (64-bit) and execute/read. */
#define DESC_CODE64 0x00af9a000000ffffull
#define DESC_DATA   0x00cf92000000ffffull
#define DESC_TSS_AVAILABLE 0x9ull /* system type 1001b: available 64-bit TSS */

static void tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
    slot[0] = (limit & 0xffffull) | ((base & 0xffffffull) << 16) | (DESC_TSS_AVAILABLE << 40) |
              BIT(47) /* present */ | ((uint64_t)(limit >> 16) & 0xf) << 48 |
              ((base >> 24) & 0xffull) << 56;
    slot[1] = base >> 32;
}

void percpu_setup(struct percpu *p)
{
    p->self = p;
    p->gdt[0] = 0;
    p->gdt[SEL_KCODE / 8] = DESC_CODE64;
    p->gdt[SEL_KDATA / 8] = DESC_DATA;
    memset(&p->tss, 0, sizeof(p->tss));
    for (int i = 0; i < IST_COUNT; i++)
        p->tss.ist[i] = (uint64_t)&p->ist_stacks[i][IST_STACK_SIZE];
    p->tss.iomap_base = sizeof(p->tss); /* no I/O bitmap: CPL 0 only */
    tss_descriptor(&p->gdt[SEL_TSS / 8], (uint64_t)&p->tss, sizeof(p->tss) - 1);

    struct desc_ptr gdtr = { sizeof(p->gdt) - 1, (uint64_t)p->gdt };
    lgdt(&gdtr);
    /* Reload CS with a far return, then the data segments. */
    __asm__ volatile("pushq %0\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w1, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "xorl %%eax, %%eax\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     :
                     : "i"(SEL_KCODE), "i"(SEL_KDATA)
                     : "rax", "memory");
    ltr(SEL_TSS);
    wrmsr(MSR_GS_BASE, (uint64_t)p);
    /* Moat itself never touches x87/SSE state (built with -mgeneral-regs-only), but it saves
     * and restores the guests' with FXSAVE/FXRSTOR when vCPUs share this CPU; OSFXSR makes
     * those include the XMM registers (SDM vol. 3A 2.5, vol. 1 10.5). */
    write_cr0((read_cr0() | CR0_MP) & ~(CR0_EM | CR0_TS));
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    percpu_loaded = true;
}
