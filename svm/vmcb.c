// SPDX-License-Identifier: Apache-2.0
// The pure half of the AMD-V backend: moving a guest_entry_state into and out of a VMCB, the
// VMRUN consistency checks done before VMRUN (so a bad state is reported in words, not as
// VMEXIT_INVALID), and turning an EXITCODE into a struct vm_exit. No privileged instruction.
#include <string.h>
#include "svm/vmcb.h"
#include "svm/npt.h"

/* Architectural bits not in kernel/x86.h (APM vol. 2 3.1 "System-Control Registers"). */
#define CR0_NW      BIT(29)
#define CR0_CD      BIT(30)
#define RFLAGS_VM   BIT(17)
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_L  BIT(9)  /* descriptor bit 53 in the VMCB's 12-bit form */
#define SEG_ATTR_DB BIT(10) /* descriptor bit 54 */
/* DR6 and DR7 reset values (APM vol. 2 13.1 "Software-Debug Resources"). */
#define DR6_RESET 0xffff0ff0u
#define DR7_RESET 0x400u

static void seg_in(struct vmcb_seg *d, const struct seg *s)
{
    d->sel = s->sel;
    d->attrib = s->attr;
    d->limit = s->limit;
    d->base = s->base;
}

static struct seg seg_out(const struct vmcb_seg *s)
{
    return (struct seg){ .sel = s->sel, .attr = s->attrib, .limit = s->limit, .base = s->base };
}

void vmcb_load_state(struct vmcb *vmcb, const struct guest_entry_state *st)
{
    struct vmcb_save *g = &vmcb->save;
    seg_in(&g->es, &st->es);
    seg_in(&g->cs, &st->cs);
    seg_in(&g->ss, &st->ss);
    seg_in(&g->ds, &st->ds);
    seg_in(&g->fs, &st->fs);
    seg_in(&g->gs, &st->gs);
    seg_in(&g->ldtr, &st->ldtr);
    seg_in(&g->tr, &st->tr);
    g->gdtr = (struct vmcb_seg){ .limit = st->gdtr_limit, .base = st->gdtr_base };
    g->idtr = (struct vmcb_seg){ .limit = st->idtr_limit, .base = st->idtr_base };
    g->cr0 = st->cr0;
    g->cr2 = 0;
    g->cr3 = st->cr3;
    g->cr4 = st->cr4;
    /* Every guest runs with EFER.SVME set: VMRUN refuses it clear (15.5.1). The guest never
     * sees it, since all its MSR accesses exit to Moat. */
    g->efer = st->efer | EFER_SVME;
    g->rip = st->rip;
    g->rsp = st->rsp;
    g->rflags = st->rflags;
    g->rax = st->regs.gpr[GPR_RAX];
    g->dr6 = DR6_RESET;
    g->dr7 = DR7_RESET;
    g->g_pat = NPT_PAT_RESET; /* the guest's own PAT under nested paging (15.25.8) */
    /* VMRUN takes the CPL from the VMCB (15.5.1): 0 in real mode, 3 in virtual-8086 mode,
     * else SS.DPL, which protected mode keeps equal to the CPL. */
    if (!(st->cr0 & CR0_PE))
        g->cpl = 0;
    else if (st->rflags & RFLAGS_VM)
        g->cpl = 3;
    else
        g->cpl = (uint8_t)((st->ss.attr >> SEG_ATTR_DPL_SHIFT) & 3);
}

void vmcb_store_state(const struct vmcb *vmcb, struct guest_entry_state *out)
{
    const struct vmcb_save *g = &vmcb->save;
    out->rip = g->rip;
    out->rsp = g->rsp;
    out->rflags = g->rflags;
    out->cr0 = g->cr0;
    out->cr3 = g->cr3;
    out->cr4 = g->cr4;
    out->efer = g->efer & ~EFER_SVME;
    out->cs = seg_out(&g->cs);
    out->ds = seg_out(&g->ds);
    out->es = seg_out(&g->es);
    out->fs = seg_out(&g->fs);
    out->gs = seg_out(&g->gs);
    out->ss = seg_out(&g->ss);
    out->tr = seg_out(&g->tr);
    out->ldtr = seg_out(&g->ldtr);
    out->gdtr_base = g->gdtr.base;
    out->gdtr_limit = g->gdtr.limit;
    out->idtr_base = g->idtr.base;
    out->idtr_limit = g->idtr.limit;
}

/* Memory types a PAT entry may hold (APM vol. 2 7.8.1 "PAT Register"): 2 and 3 are reserved. */
static bool pat_valid(uint64_t pat)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned mt = (unsigned)(pat >> (8 * i)) & 0xff;
        if (mt != 0 && mt != 1 && mt != 4 && mt != 5 && mt != 6 && mt != 7)
            return false;
    }
    return true;
}

/* EVENTINJ legality (APM vol. 2 15.20 "Event Injection"): a known TYPE, no exception with
 * vector 2 or above 31, reserved bits clear. */
static const char *event_check(uint64_t e)
{
    uint64_t type = e & VMCB_EVT_TYPE;
    uint8_t vector = (uint8_t)(e & VMCB_EVT_VECTOR);
    if (e & VMCB_EVT_RSVD)
        return "EVENTINJ has reserved bits set";
    if (type != VMCB_EVT_TYPE_INTR && type != VMCB_EVT_TYPE_NMI && type != VMCB_EVT_TYPE_EXC &&
        type != VMCB_EVT_TYPE_SWINT)
        return "EVENTINJ has a reserved event type";
    if (type == VMCB_EVT_TYPE_EXC && (vector == 2 || vector > 31))
        return "EVENTINJ injects an exception with vector 2 or above 31";
    return NULL;
}

/* Does a table of `bytes` at pa lie below 2^maxphyaddr? */
static bool below_maxphyaddr(uint64_t pa, uint64_t bytes, unsigned maxphyaddr)
{
    uint64_t limit = UINT64_C(1) << maxphyaddr;
    return pa < limit && bytes <= limit - pa;
}

const char *vmcb_check(const struct vmcb *vmcb, const struct svm_limits *lim)
{
    const struct vmcb_control *c = &vmcb->ctl;
    const struct vmcb_save *g = &vmcb->save;
    uint64_t efer = g->efer, cr0 = g->cr0, cr4 = g->cr4;
    bool long_mode = (efer & EFER_LME) && (cr0 & CR0_PG);

    /* Control area (15.5.1). */
    if (!(c->intercept4 & VMCB_I4_VMRUN))
        return "the VMRUN intercept is clear";
    if (c->guest_asid == 0)
        return "the guest ASID is 0 (the host's)";
    if (c->tlb_control != VMCB_TLB_NOTHING && c->tlb_control != VMCB_TLB_FLUSH_ALL &&
        !(lim->flush_by_asid && c->tlb_control == VMCB_TLB_FLUSH_ASID))
        return "TLB_CONTROL holds a value this CPU does not implement";
    if ((c->intercept3 & VMCB_I3_IOIO_PROT) &&
        !below_maxphyaddr(c->iopm_base_pa, SVM_IOPM_PAGES * 4096, lim->maxphyaddr))
        return "the I/O permission map extends past MAXPHYADDR";
    if ((c->intercept3 & VMCB_I3_MSR_PROT) &&
        !below_maxphyaddr(c->msrpm_base_pa, SVM_MSRPM_PAGES * 4096, lim->maxphyaddr))
        return "the MSR permission map extends past MAXPHYADDR";
    if (c->np_control & VMCB_NP_ENABLE) {
        if (!below_maxphyaddr(c->n_cr3 & GENMASK(51, 12), 4096, lim->maxphyaddr) ||
            (c->n_cr3 & GENMASK(63, 52)))
            return "nCR3 has bits set at or above MAXPHYADDR";
        if (!pat_valid(g->g_pat))
            return "G_PAT holds a reserved memory type";
    }
    if ((c->eventinj & VMCB_EVT_V) && event_check(c->eventinj))
        return event_check(c->eventinj);

    /* Guest state (15.5.1). */
    if (!(efer & EFER_SVME))
        return "guest EFER.SVME is clear";
    if (efer & ~lim->efer_ok)
        return "guest EFER has a reserved (MBZ) bit set";
    if (cr0 >> 32)
        return "guest CR0[63:32] is not zero";
    if ((cr0 & CR0_NW) && !(cr0 & CR0_CD))
        return "guest CR0.NW is set with CR0.CD clear";
    if (cr4 & ~lim->cr4_ok)
        return "guest CR4 has a reserved (MBZ) bit set";
    if (long_mode ? (g->cr3 >> lim->maxphyaddr) != 0 : (g->cr3 >> 32) != 0)
        return "guest CR3 has reserved (MBZ) bits set";
    if (g->dr6 >> 32)
        return "guest DR6[63:32] is not zero";
    if (g->dr7 >> 32)
        return "guest DR7[63:32] is not zero";
    /* Moat's rule: LMA is what LME and PG make it (APM vol. 2 14.6 "Enabling and Activating
     * Long Mode"). */
    if ((efer & EFER_LMA) && !(cr0 & CR0_PG))
        return "guest EFER.LMA is set with CR0.PG clear (long mode without paging)";
    if (!!(efer & EFER_LMA) != long_mode)
        return "guest EFER.LMA differs from EFER.LME && CR0.PG";
    if (long_mode && !(cr4 & CR4_PAE))
        return "guest EFER.LME and CR0.PG are set with CR4.PAE clear";
    if (long_mode && !(cr0 & CR0_PE))
        return "guest EFER.LME and CR0.PG are set with CR0.PE clear";
    if (long_mode && (g->cs.attrib & SEG_ATTR_L) && (g->cs.attrib & SEG_ATTR_DB))
        return "guest CS.L and CS.D are both set in long mode";
    return NULL;
}

/* MSR indices (APM vol. 2 appendix A "MSR Cross-Reference"). */
#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT          0x277
#define MSR_STAR         0xc0000081
#define MSR_LSTAR        0xc0000082
#define MSR_CSTAR        0xc0000083
#define MSR_SFMASK       0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Where the VMCB keeps an MSR's guest value: its offset in the state save area (table B-2),
 * or -1. Accessed with memcpy: the members of the packed struct are not to be pointed at. */
static int msr_offset(uint32_t index)
{
    switch (index) {
    case MSR_EFER: return offsetof(struct vmcb_save, efer);
    case MSR_PAT: return offsetof(struct vmcb_save, g_pat);
    case MSR_FS_BASE: return offsetof(struct vmcb_save, fs.base);
    case MSR_GS_BASE: return offsetof(struct vmcb_save, gs.base);
    case MSR_KERNEL_GS_BASE: return offsetof(struct vmcb_save, kernel_gs_base);
    case MSR_STAR: return offsetof(struct vmcb_save, star);
    case MSR_LSTAR: return offsetof(struct vmcb_save, lstar);
    case MSR_CSTAR: return offsetof(struct vmcb_save, cstar);
    case MSR_SFMASK: return offsetof(struct vmcb_save, sfmask);
    case MSR_SYSENTER_CS: return offsetof(struct vmcb_save, sysenter_cs);
    case MSR_SYSENTER_ESP: return offsetof(struct vmcb_save, sysenter_esp);
    case MSR_SYSENTER_EIP: return offsetof(struct vmcb_save, sysenter_eip);
    default: return -1;
    }
}

bool vmcb_msr_get(const struct vmcb *vmcb, uint32_t index, uint64_t *value)
{
    int off = msr_offset(index);
    if (off < 0)
        return false;
    memcpy(value, (const uint8_t *)&vmcb->save + off, sizeof(*value));
    if (index == MSR_EFER)
        *value &= ~EFER_SVME;
    return true;
}

/* Bits 63 down to the linear-address width all equal (APM vol. 2 5.3.1 "Canonical Address
 * Form"). */
static bool canonical(uint64_t va, unsigned bits)
{
    int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);
    return (uint64_t)s == va;
}

bool vmcb_msr_set(struct vmcb *vmcb, const struct svm_limits *lim, uint32_t index, uint64_t value)
{
    int off = msr_offset(index);
    if (off < 0)
        return false;
    switch (index) {
    case MSR_EFER: {
        /* APM vol. 2 3.1.7 "Extended Feature Enable Register (EFER)": reserved bits #GP; LMA
         * is read-only; LME cannot change while paging is on (14.6 "Enabling and Activating
         * Long Mode"). */
        uint64_t old = vmcb->save.efer;
        uint64_t writable = lim->efer_ok & ~(EFER_SVME | EFER_LMA);
        if (value & ~(writable | EFER_LMA))
            return false;
        if ((vmcb->save.cr0 & CR0_PG) && ((value ^ old) & EFER_LME))
            return false;
        vmcb->save.efer = (value & writable) | (old & EFER_LMA) | EFER_SVME;
        return true;
    }
    case MSR_PAT:
        if (!pat_valid(value))
            return false;
        break;
    case MSR_SFMASK:
        if (value >> 32)
            return false;
        break;
    case MSR_STAR:
    case MSR_SYSENTER_CS:
        break;
    default: /* the address MSRs */
        if (!canonical(value, lim->vaddr_bits))
            return false;
        break;
    }
    memcpy((uint8_t *)&vmcb->save + off, &value, sizeof(value));
    return true;
}

uint64_t vmcb_exception_event(uint8_t vector, bool has_error, uint32_t error, uint64_t guest_cr0)
{
    if (vector == 2)
        return 2 | VMCB_EVT_TYPE_NMI | VMCB_EVT_V;
    uint64_t e = vector | VMCB_EVT_TYPE_EXC | VMCB_EVT_V;
    if (has_error && (guest_cr0 & CR0_PE))
        e |= VMCB_EVT_EV | ((uint64_t)error << VMCB_EVT_ERR_SHIFT);
    return e;
}

bool vmcb_reinject(uint64_t info)
{
    if (!(info & VMCB_EVT_V))
        return false;
    uint64_t type = info & VMCB_EVT_TYPE;
    uint8_t vector = (uint8_t)(info & VMCB_EVT_VECTOR);
    if (type == VMCB_EVT_TYPE_EXC)
        return vector != 3 && vector != 4 && vector < 32;
    return type == VMCB_EVT_TYPE_INTR || type == VMCB_EVT_TYPE_NMI;
}
