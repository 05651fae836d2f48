// SPDX-License-Identifier: Apache-2.0
// The state a vCPU starts in, per entry mode (docs/guest-abi.md is the user-facing copy):
// 64-bit long mode with hypervisor-built identity page tables, 32-bit protected mode with
// paging off, or real mode. Long mode always starts with paging on: a guest must never be
// entered with EFER.LMA=1 and CR0.PG=0 (SDM vol. 3A 9.8.5; QEMU's SVM then drops NPT).
#include <string.h>
#include "kernel/partition.h"
#include "kernel/x86.h"

#define GUEST_CR0_PE 0x1ull
#define GUEST_CR0_MP 0x2ull
#define GUEST_CR0_ET 0x10ull
#define GUEST_CR0_NE 0x20ull
#define GUEST_CR0_WP 0x10000ull
#define GUEST_CR0_PG 0x80000000ull
#define GUEST_CR4_PAE 0x20ull
#define GUEST_CR4_OSFXSR 0x200ull
#define GUEST_CR4_OSXMMEXCPT 0x400ull
#define GUEST_EFER_LME 0x100ull
#define GUEST_EFER_LMA 0x400ull
#define GUEST_RFLAGS_FIXED 0x2ull

#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_CODE32 0x18
/* The guest GDT (descriptor layout: SDM vol. 3A 3.4.5). */
static const uint64_t guest_gdt[] = {
    0,
    0x00af9b000000ffffull, /* 0x08: 64-bit code */
    0x00cf93000000ffffull, /* 0x10: flat data */
    0x00cf9b000000ffffull, /* 0x18: flat 32-bit code */
};

#define PTE_P  0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define GUEST_MAPPED_GIB 4 /* identity map of the first 4 GiB, RAM or not */

static void *gpa_ptr(struct partition *p, uint64_t gpa)
{
    return hpa_to_ptr(p->mem_hpa + gpa);
}

void guest_entry_prepare_memory(struct partition *p)
{
    memcpy(gpa_ptr(p, GUEST_GDT_GPA), guest_gdt, sizeof(guest_gdt));
    if (p->mode != GUEST_MODE_LONG64)
        return;
    uint64_t *pml4 = gpa_ptr(p, GUEST_PML4_GPA);
    uint64_t *pdpt = gpa_ptr(p, GUEST_PDPT_GPA);
    pml4[0] = GUEST_PDPT_GPA | PTE_P | PTE_RW;
    for (uint64_t g = 0; g < GUEST_MAPPED_GIB; g++) {
        uint64_t pd_gpa = GUEST_PD_GPA + g * PAGE_SIZE;
        uint64_t *pd = gpa_ptr(p, pd_gpa);
        pdpt[g] = pd_gpa | PTE_P | PTE_RW;
        for (uint64_t i = 0; i < 512; i++)
            pd[i] = (g * GIB + i * 2 * MIB) | PTE_P | PTE_RW | PTE_PS;
    }
}

static struct seg seg_make(uint16_t sel, uint64_t base, uint32_t limit, uint16_t attr)
{
    return (struct seg){ .sel = sel, .attr = attr, .limit = limit, .base = base };
}

void guest_entry_build(struct partition *p, uint32_t id, struct guest_entry_state *st)
{
    memset(st, 0, sizeof(*st));
    st->rflags = GUEST_RFLAGS_FIXED;
    st->gdtr_base = GUEST_GDT_GPA;
    st->gdtr_limit = sizeof(guest_gdt) - 1;
    st->idtr_limit = 0xffff;
    st->ldtr = seg_make(0, 0, 0, 0);
    st->regs.gpr[GPR_RDI] = id;
    st->regs.gpr[GPR_RSI] = p->vcpu_count;
    st->regs.gpr[GPR_RDX] = GUEST_ARGS_GPA;
    st->regs.gpr[GPR_RCX] = p->mem_size;

    switch (p->mode) {
    case GUEST_MODE_LONG64: {
        struct seg data = seg_make(SEL_DATA, 0, 0xffffffff, SEG_ATTR_DATA32);
        st->cr0 = GUEST_CR0_PE | GUEST_CR0_MP | GUEST_CR0_ET | GUEST_CR0_NE | GUEST_CR0_WP | GUEST_CR0_PG;
        st->cr3 = GUEST_PML4_GPA;
        st->cr4 = GUEST_CR4_PAE | GUEST_CR4_OSFXSR | GUEST_CR4_OSXMMEXCPT;
        st->efer = GUEST_EFER_LME | GUEST_EFER_LMA;
        st->cs = seg_make(SEL_CODE64, 0, 0xffffffff, SEG_ATTR_CODE64);
        st->ds = st->es = st->fs = st->gs = st->ss = data;
        st->tr = seg_make(0, 0, 0x67, SEG_ATTR_TSS64);
        st->rip = p->entry;
        st->rsp = p->mem_size - (uint64_t)id * GUEST_STACK_PER_VCPU;
        break;
    }
    case GUEST_MODE_PROT32: {
        struct seg data = seg_make(SEL_DATA, 0, 0xffffffff, SEG_ATTR_DATA32);
        st->cr0 = GUEST_CR0_PE | GUEST_CR0_ET | GUEST_CR0_NE;
        st->cs = seg_make(SEL_CODE32, 0, 0xffffffff, SEG_ATTR_CODE32);
        st->ds = st->es = st->fs = st->gs = st->ss = data;
        st->tr = seg_make(0, 0, 0x67, SEG_ATTR_TSS64); /* type 11: busy 32-bit TSS */
        st->rip = p->entry;
        uint64_t top = p->mem_size < 4 * GIB ? p->mem_size : 4 * GIB;
        st->rsp = top - (uint64_t)id * GUEST_STACK_PER_VCPU;
        break;
    }
    case GUEST_MODE_REAL: {
        struct seg data = seg_make(0, 0, 0xffff, SEG_ATTR_DATA16);
        st->cr0 = GUEST_CR0_ET | GUEST_CR0_NE;
        st->cs = seg_make((uint16_t)(p->load >> 4), p->load, 0xffff, SEG_ATTR_CODE16);
        st->ds = st->es = st->fs = st->gs = st->ss = data;
        st->tr = seg_make(0, 0, 0xffff, SEG_ATTR_TSS64);
        st->idtr_limit = 0x3ff; /* the real-mode IVT at 0 */
        st->rip = p->entry - p->load;
        st->rsp = GUEST_REAL_STACK_TOP - (uint64_t)id * GUEST_REAL_STACK_PER_VCPU;
        break;
    }
    }
}
