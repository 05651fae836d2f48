// SPDX-License-Identifier: Apache-2.0
// Host unit tests for svm/vmcb.c and svm/svm_exit.h: guest state in and out of a VMCB (EFER.SVME
// hidden, CPL derived), every VMRUN consistency rule Moat checks before VMRUN (APM vol. 2 15.5.1)
// one at a time against a valid base, event injection encodings, and the decoding of every exit.
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "svm/vmcb.h"
#include "svm/svm_exit.h"

#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR4_MBZ_TEST BIT(31)

static const struct svm_limits lim = {
    .efer_ok = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME,
    .cr4_ok = 0x3f07ff, /* VME..OSXMMEXCPT, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP */
    .maxphyaddr = 40,
    .vaddr_bits = 48,
    .flush_by_asid = false,
};

static struct vmcb vmcb;

static struct guest_entry_state state64(void)
{
    struct seg d = { 0x10, SEG_ATTR_DATA32, 0xffffffff, 0 };
    return (struct guest_entry_state){
        .rip = 0x100000, .rsp = 0x8000, .rflags = 2,
        .cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
        .cr3 = 0x1000, .cr4 = CR4_PAE | CR4_OSFXSR, .efer = EFER_LME | EFER_LMA,
        .cs = { 0x08, SEG_ATTR_CODE64, 0xffffffff, 0 },
        .ds = d, .es = d, .fs = { 0, SEG_ATTR_DATA32, 0xffffffff, 0x1234000 }, .gs = d, .ss = d,
        .tr = { 0x20, SEG_ATTR_TSS64, 0x67, 0x5000 }, .ldtr = { 0, 0, 0, 0 },
        .gdtr_base = 0x3000, .gdtr_limit = 0x1f, .idtr_base = 0x4000, .idtr_limit = 0xfff,
        .regs = { .gpr = { [GPR_RAX] = 0xaaaa, [GPR_RBX] = 0xbbbb } },
    };
}

static struct guest_entry_state state_real(void)
{
    struct seg d = { 0, SEG_ATTR_DATA16, 0xffff, 0 };
    return (struct guest_entry_state){
        .rip = 0, .rsp = 0xf000, .rflags = 2, .cr0 = CR0_ET | CR0_NE,
        .cs = { 0x1000, SEG_ATTR_CODE16, 0xffff, 0x10000 },
        .ds = d, .es = d, .fs = d, .gs = d, .ss = d,
        .tr = { 0, SEG_ATTR_TSS64, 0xffff, 0 }, .idtr_limit = 0x3ff,
    };
}

static struct guest_entry_state state_prot32(void)
{
    struct seg d = { 0x10, SEG_ATTR_DATA32, 0xffffffff, 0 };
    return (struct guest_entry_state){
        .rip = 0x100000, .rsp = 0x8000, .rflags = 2, .cr0 = CR0_PE | CR0_ET | CR0_NE,
        .cs = { 0x18, SEG_ATTR_CODE32, 0xffffffff, 0 },
        .ds = d, .es = d, .fs = d, .gs = d, .ss = d, .tr = { 0, SEG_ATTR_TSS64, 0x67, 0 },
    };
}

/* A VMCB as svm/svm.c builds it, for state st. */
static void build(const struct guest_entry_state *st)
{
    memset(&vmcb, 0, sizeof(vmcb));
    vmcb.ctl.intercept3 = VMCB_I3_INTR | VMCB_I3_NMI | VMCB_I3_CPUID | VMCB_I3_HLT |
                          VMCB_I3_IOIO_PROT | VMCB_I3_MSR_PROT | VMCB_I3_SHUTDOWN;
    vmcb.ctl.intercept4 = VMCB_I4_VMRUN | VMCB_I4_VMMCALL;
    vmcb.ctl.iopm_base_pa = 0x200000;
    vmcb.ctl.msrpm_base_pa = 0x203000;
    vmcb.ctl.guest_asid = 1;
    vmcb.ctl.tlb_control = VMCB_TLB_FLUSH_ALL;
    vmcb.ctl.vintr = VMCB_V_INTR_MASKING;
    vmcb.ctl.np_control = VMCB_NP_ENABLE;
    vmcb.ctl.n_cr3 = 0x300000;
    vmcb_load_state(&vmcb, st);
}

static void test_layout(void **unused)
{
    assert_int_equal(offsetof(struct vmcb, save), 0x400);
    assert_int_equal(offsetof(struct vmcb, save.rax), VMCB_RAX_OFF);
    assert_int_equal(offsetof(struct vmcb, save.rsp), VMCB_RSP_OFF);
    assert_int_equal(offsetof(struct vmcb, save.g_pat), 0x668);
    assert_int_equal(offsetof(struct vmcb, save.efer), 0x4d0);
    assert_int_equal(sizeof(struct vmcb), 4096);
}

static void test_load_and_store(void **unused)
{
    struct guest_entry_state st = state64(), out;
    build(&st);
    assert_true(vmcb.save.efer & EFER_SVME);
    assert_int_equal(vmcb.save.rax, 0xaaaa);
    assert_int_equal(vmcb.save.cs.attrib, SEG_ATTR_CODE64);
    assert_int_equal(vmcb.save.fs.base, 0x1234000);
    assert_int_equal(vmcb.save.gdtr.limit, 0x1f);
    assert_int_equal(vmcb.save.idtr.base, 0x4000);
    assert_int_equal(vmcb.save.dr6, 0xffff0ff0);
    assert_int_equal(vmcb.save.dr7, 0x400);
    assert_int_equal(vmcb.save.cpl, 0);
    assert_int_equal(vmcb.save.g_pat, UINT64_C(0x0007040600070406));
    /* The control area is left alone. */
    assert_int_equal(vmcb.ctl.guest_asid, 1);

    memset(&out, 0x5a, sizeof(out));
    vmcb_store_state(&vmcb, &out);
    assert_int_equal(out.efer, EFER_LME | EFER_LMA); /* SVME hidden */
    assert_int_equal(out.rip, st.rip);
    assert_int_equal(out.rsp, st.rsp);
    assert_int_equal(out.cr0, st.cr0);
    assert_int_equal(out.cr3, st.cr3);
    assert_int_equal(out.cr4, st.cr4);
    assert_memory_equal(&out.cs, &st.cs, sizeof(st.cs));
    assert_memory_equal(&out.fs, &st.fs, sizeof(st.fs));
    assert_memory_equal(&out.tr, &st.tr, sizeof(st.tr));
    assert_memory_equal(&out.ldtr, &st.ldtr, sizeof(st.ldtr));
    assert_int_equal(out.gdtr_base, st.gdtr_base);
    assert_int_equal(out.idtr_limit, st.idtr_limit);
    assert_int_equal(out.regs.gpr[GPR_RBX], 0x5a5a5a5a5a5a5a5a); /* regs untouched */
}

static void test_cpl(void **unused)
{
    struct guest_entry_state st = state64();
    st.ss.attr = SEG_ATTR_DATA32 | (3 << 5);
    build(&st);
    assert_int_equal(vmcb.save.cpl, 3);
    st = state_real();
    st.ss.attr = SEG_ATTR_DATA16 | (3 << 5);
    build(&st);
    assert_int_equal(vmcb.save.cpl, 0); /* real mode: always 0 */
    st = state_prot32();
    st.rflags |= BIT(17); /* virtual-8086 */
    build(&st);
    assert_int_equal(vmcb.save.cpl, 3);
}

static void test_valid_states_pass(void **unused)
{
    struct guest_entry_state st = state64();
    build(&st);
    assert_null(vmcb_check(&vmcb, &lim));
    st = state_prot32();
    build(&st);
    assert_null(vmcb_check(&vmcb, &lim));
    st = state_real();
    build(&st);
    assert_null(vmcb_check(&vmcb, &lim));
    /* Paged real mode (15.19) is legal for VMRUN. */
    st.cr0 |= CR0_PG;
    build(&st);
    assert_null(vmcb_check(&vmcb, &lim));
    /* A legal injected event. */
    st = state64();
    build(&st);
    vmcb.ctl.eventinj = vmcb_exception_event(13, true, 0, st.cr0);
    assert_null(vmcb_check(&vmcb, &lim));
}

/* Each mutation of a valid long-mode VMCB must be refused with a phrase containing `what`. */
static void expect_refused(void (*mutate)(void), const char *what)
{
    struct guest_entry_state st = state64();
    build(&st);
    assert_null(vmcb_check(&vmcb, &lim));
    mutate();
    const char *why = vmcb_check(&vmcb, &lim);
    if (!why || !strstr(why, what))
        fail_msg("expected a refusal naming \"%s\", got \"%s\"", what, why ? why : "(accepted)");
}

static void m_svme(void) { vmcb.save.efer &= ~EFER_SVME; }
static void m_efer_rsvd(void) { vmcb.save.efer |= BIT(20); }
static void m_efer_high(void) { vmcb.save.efer |= BIT(40); }
static void m_cr0_high(void) { vmcb.save.cr0 |= BIT(32); }
static void m_nw(void) { vmcb.save.cr0 |= CR0_NW; }
static void m_cr4(void) { vmcb.save.cr4 |= CR4_MBZ_TEST; }
static void m_cr3_long(void) { vmcb.save.cr3 |= BIT(40); }
static void m_dr6(void) { vmcb.save.dr6 |= BIT(32); }
static void m_dr7(void) { vmcb.save.dr7 |= BIT(33); }
static void m_lma_no_pg(void) { vmcb.save.cr0 &= ~CR0_PG; }
static void m_no_lma(void) { vmcb.save.efer &= ~EFER_LMA; }
static void m_no_pae(void) { vmcb.save.cr4 &= ~CR4_PAE; }
static void m_no_pe(void) { vmcb.save.cr0 &= ~CR0_PE; }
static void m_cs_ld(void) { vmcb.save.cs.attrib |= BIT(10); }
static void m_vmrun(void) { vmcb.ctl.intercept4 &= ~(uint32_t)VMCB_I4_VMRUN; }
static void m_asid(void) { vmcb.ctl.guest_asid = 0; }
static void m_tlb(void) { vmcb.ctl.tlb_control = VMCB_TLB_FLUSH_ASID; }
static void m_iopm(void) { vmcb.ctl.iopm_base_pa = (UINT64_C(1) << 40) - 0x2000; }
static void m_msrpm(void) { vmcb.ctl.msrpm_base_pa = (UINT64_C(1) << 40) - 0x1000; }
static void m_ncr3(void) { vmcb.ctl.n_cr3 = UINT64_C(1) << 40; }
static void m_gpat(void) { vmcb.save.g_pat = UINT64_C(0x0007040600070402); }
static void m_evt_type(void) { vmcb.ctl.eventinj = VMCB_EVT_V | (UINT64_C(1) << 8) | 32; }
static void m_evt_nmi_exc(void) { vmcb.ctl.eventinj = VMCB_EVT_V | VMCB_EVT_TYPE_EXC | 2; }
static void m_evt_vector(void) { vmcb.ctl.eventinj = VMCB_EVT_V | VMCB_EVT_TYPE_EXC | 32; }
static void m_evt_rsvd(void) { vmcb.ctl.eventinj = VMCB_EVT_V | VMCB_EVT_TYPE_EXC | 13 | BIT(20); }

static void test_each_rule(void **unused)
{
    expect_refused(m_svme, "SVME");
    expect_refused(m_efer_rsvd, "EFER has a reserved");
    expect_refused(m_efer_high, "EFER has a reserved");
    expect_refused(m_cr0_high, "CR0[63:32]");
    expect_refused(m_nw, "CR0.NW");
    expect_refused(m_cr4, "CR4");
    expect_refused(m_cr3_long, "CR3");
    expect_refused(m_dr6, "DR6");
    expect_refused(m_dr7, "DR7");
    expect_refused(m_lma_no_pg, "LMA is set with CR0.PG clear");
    expect_refused(m_no_lma, "LMA differs");
    expect_refused(m_no_pae, "CR4.PAE");
    expect_refused(m_no_pe, "CR0.PE");
    expect_refused(m_cs_ld, "CS.L and CS.D");
    expect_refused(m_vmrun, "VMRUN intercept");
    expect_refused(m_asid, "ASID");
    expect_refused(m_tlb, "TLB_CONTROL");
    expect_refused(m_iopm, "I/O permission map");
    expect_refused(m_msrpm, "MSR permission map");
    expect_refused(m_ncr3, "nCR3");
    expect_refused(m_gpat, "G_PAT");
    expect_refused(m_evt_type, "event type");
    expect_refused(m_evt_nmi_exc, "vector 2");
    expect_refused(m_evt_vector, "above 31");
    expect_refused(m_evt_rsvd, "reserved bits");
}

static void test_legacy_cr3(void **unused)
{
    struct guest_entry_state st = state_prot32();
    st.cr3 = UINT64_C(1) << 33;
    build(&st);
    assert_non_null(vmcb_check(&vmcb, &lim));
    /* Flush-by-ASID makes TLB_CONTROL 3 legal. */
    st = state64();
    build(&st);
    vmcb.ctl.tlb_control = VMCB_TLB_FLUSH_ASID;
    struct svm_limits l2 = lim;
    l2.flush_by_asid = true;
    assert_null(vmcb_check(&vmcb, &l2));
    /* The permission maps are only checked when their intercept is on. */
    vmcb.ctl.intercept3 &= ~(uint32_t)VMCB_I3_IOIO_PROT;
    vmcb.ctl.iopm_base_pa = UINT64_C(1) << 45;
    assert_null(vmcb_check(&vmcb, &l2));
}

static void test_events(void **unused)
{
    uint64_t pe = CR0_PE, real = 0;
    assert_int_equal(vmcb_exception_event(13, true, 0, pe), 0x80000b0d);
    assert_int_equal(vmcb_exception_event(14, true, 0x1234, pe), UINT64_C(0x0000123480000b0e));
    assert_int_equal(vmcb_exception_event(6, false, 99, pe), 0x80000306);
    assert_int_equal(vmcb_exception_event(13, true, 0, real), 0x8000030d); /* no error code */
    assert_int_equal(vmcb_exception_event(2, false, 0, pe), 0x80000202);  /* NMI type */

    assert_false(vmcb_reinject(0x0b0d));                    /* V clear */
    assert_true(vmcb_reinject(0x80000b0e));                 /* #PF */
    assert_true(vmcb_reinject(0x80000020));                 /* external interrupt 0x20 */
    assert_true(vmcb_reinject(0x80000202));                 /* NMI */
    assert_false(vmcb_reinject(0x80000303));                /* INT3: re-executed */
    assert_false(vmcb_reinject(0x80000304));                /* INTO */
    assert_false(vmcb_reinject(0x80000480));                /* INT 0x80 */
}

static void test_msrs(void **unused)
{
    struct guest_entry_state st = state64();
    uint64_t v;
    build(&st);
    /* EFER: SVME hidden on read, refused on write; LMA kept; LME frozen while paging. */
    assert_true(vmcb_msr_get(&vmcb, 0xc0000080, &v));
    assert_int_equal(v, EFER_LME | EFER_LMA);
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000080, EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE));
    assert_int_equal(vmcb.save.efer, EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE | EFER_SVME);
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000080, EFER_LME | EFER_NXE)); /* LMA ignored */
    assert_int_equal(vmcb.save.efer, EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
    assert_false(vmcb_msr_set(&vmcb, &lim, 0xc0000080, EFER_LME | EFER_LMA | EFER_SVME));
    assert_false(vmcb_msr_set(&vmcb, &lim, 0xc0000080, EFER_LMA | BIT(9)));
    assert_false(vmcb_msr_set(&vmcb, &lim, 0xc0000080, 0)); /* LME off with paging on */
    assert_int_equal(vmcb.save.efer, EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
    assert_null(vmcb_check(&vmcb, &lim));
    st = state_prot32();
    build(&st);
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000080, EFER_LME)); /* paging off: allowed */
    assert_int_equal(vmcb.save.efer, EFER_LME | EFER_SVME);
    assert_null(vmcb_check(&vmcb, &lim));
    assert_false(vmcb_msr_set(&vmcb, &lim, 0xc0000080, EFER_LME | EFER_LMA | EFER_TCE));

    /* PAT, SFMASK, addresses. */
    assert_true(vmcb_msr_set(&vmcb, &lim, 0x277, UINT64_C(0x0007050100070406)));
    assert_int_equal(vmcb.save.g_pat, UINT64_C(0x0007050100070406));
    assert_false(vmcb_msr_set(&vmcb, &lim, 0x277, UINT64_C(0x0007040600070403)));
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000084, 0x47700));
    assert_false(vmcb_msr_set(&vmcb, &lim, 0xc0000084, UINT64_C(1) << 32));
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000081, UINT64_C(0x0023001000000000)));
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000082, UINT64_C(0xffffffff81000000)));
    assert_int_equal(vmcb.save.lstar, UINT64_C(0xffffffff81000000));
    assert_false(vmcb_msr_set(&vmcb, &lim, 0xc0000082, UINT64_C(0x0000800000000000)));
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000100, UINT64_C(0x00007fffffffe000)));
    assert_int_equal(vmcb.save.fs.base, UINT64_C(0x00007fffffffe000));
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000101, 0x1000));
    assert_int_equal(vmcb.save.gs.base, 0x1000);
    assert_true(vmcb_msr_set(&vmcb, &lim, 0xc0000102, 0x2000));
    assert_int_equal(vmcb.save.kernel_gs_base, 0x2000);
    struct svm_limits la57 = lim;
    la57.vaddr_bits = 57;
    assert_true(vmcb_msr_set(&vmcb, &la57, 0xc0000100, UINT64_C(0x00ff000000000000)));
    assert_true(vmcb_msr_set(&vmcb, &lim, 0x174, 0x10));
    assert_true(vmcb_msr_set(&vmcb, &lim, 0x175, 0x8000));
    assert_true(vmcb_msr_set(&vmcb, &lim, 0x176, 0x9000));
    assert_int_equal(vmcb.save.sysenter_cs, 0x10);
    assert_int_equal(vmcb.save.sysenter_esp, 0x8000);
    assert_int_equal(vmcb.save.sysenter_eip, 0x9000);
    assert_true(vmcb_msr_get(&vmcb, 0x176, &v));
    assert_int_equal(v, 0x9000);

    /* Not held in the VMCB. */
    assert_false(vmcb_msr_get(&vmcb, 0x1b, &v));
    assert_false(vmcb_msr_set(&vmcb, &lim, 0xc0010114, 0));
}

/* ---- exit decoding --------------------------------------------------------------------- */

static struct guest_gprs gprs;
static struct vm_exit ex;

static bool decode(uint64_t code, uint64_t info1, uint64_t info2, uint64_t rip, uint64_t nrip,
                   bool nrips)
{
    memset(&vmcb, 0, sizeof(vmcb));
    memset(&ex, 0x77, sizeof(ex));
    vmcb.ctl.exitcode = code;
    vmcb.ctl.exitinfo1 = info1;
    vmcb.ctl.exitinfo2 = info2;
    vmcb.ctl.next_rip = nrip;
    vmcb.save.rip = rip;
    return svm_exit_decode(&vmcb, &gprs, nrips, &ex);
}

static void test_decode_instructions(void **unused)
{
    assert_false(decode(SVM_EXIT_CPUID, 0, 0, 0x1000, 0x1002, true));
    assert_int_equal(ex.kind, EXIT_CPUID);
    assert_int_equal(ex.insn_len, 2);
    assert_int_equal(ex.rip, 0x1000);
    assert_int_equal(ex.raw_reason, 0x72);
    decode(SVM_EXIT_CPUID, 0, 0, 0x1000, 0, false); /* no NRIPS: the generic code decodes */
    assert_int_equal(ex.insn_len, 0);
    decode(SVM_EXIT_CPUID, 0, 0, 0x1000, 0, true);  /* implausible next_rip */
    assert_int_equal(ex.insn_len, 0);
    decode(SVM_EXIT_CPUID, 0, 0, 0x1000, 0x1010, true); /* 16 bytes: no instruction */
    assert_int_equal(ex.insn_len, 0);
    decode(SVM_EXIT_HLT, 0, 0, 0x50, 0x51, true);
    assert_int_equal(ex.kind, EXIT_HLT);
    assert_int_equal(ex.insn_len, 1);
    decode(SVM_EXIT_VMMCALL, 0, 0, 0x50, 0x53, true);
    assert_int_equal(ex.kind, EXIT_HYPERCALL);
    assert_int_equal(ex.insn_len, 3);

    gprs.gpr[GPR_RCX] = UINT64_C(0xffffffffc0000080);
    decode(SVM_EXIT_MSR, 0, 0, 0x50, 0x52, true);
    assert_int_equal(ex.kind, EXIT_MSR_READ);
    assert_int_equal(ex.u.msr.index, 0xc0000080);
    assert_int_equal(ex.insn_len, 2);
    decode(SVM_EXIT_MSR, 1, 0, 0x50, 0x52, false);
    assert_int_equal(ex.kind, EXIT_MSR_WRITE);
    assert_int_equal(ex.insn_len, 0);
    decode(SVM_EXIT_MSR, 2, 0, 0x50, 0x52, true);
    assert_int_equal(ex.kind, EXIT_UNKNOWN);
    assert_int_equal(ex.raw_qual, 2);
}

static void test_decode_io(void **unused)
{
    /* OUT DX, AL to 0x3f8: EXITINFO2 is the next RIP even without NRIPS. */
    decode(SVM_EXIT_IOIO, (0x3f8u << 16) | IOIO_SZ8, 0x2001, 0x2000, 0, false);
    assert_int_equal(ex.kind, EXIT_IO);
    assert_int_equal(ex.u.io.port, 0x3f8);
    assert_int_equal(ex.u.io.size, 1);
    assert_false(ex.u.io.in);
    assert_false(ex.u.io.string);
    assert_false(ex.u.io.rep);
    assert_int_equal(ex.insn_len, 1);
    /* REP INSD from port 0x1f0, with an operand-size prefix in 16-bit code: 3 bytes. */
    decode(SVM_EXIT_IOIO, (0x1f0u << 16) | IOIO_SZ32 | IOIO_TYPE_IN | IOIO_STR | IOIO_REP,
           0x2003, 0x2000, 0, false);
    assert_int_equal(ex.u.io.port, 0x1f0);
    assert_int_equal(ex.u.io.size, 4);
    assert_true(ex.u.io.in);
    assert_true(ex.u.io.string);
    assert_true(ex.u.io.rep);
    assert_int_equal(ex.insn_len, 3);
    decode(SVM_EXIT_IOIO, (0x60u << 16) | IOIO_SZ16 | IOIO_TYPE_IN, 0x2002, 0x2000, 0, false);
    assert_int_equal(ex.u.io.size, 2);
    decode(SVM_EXIT_IOIO, 0x60u << 16, 0x2002, 0x2000, 0, false); /* no size bit */
    assert_int_equal(ex.kind, EXIT_UNKNOWN);
}

static void test_decode_npf(void **unused)
{
    decode(SVM_EXIT_NPF, NPF_US | NPF_FINAL, 0xfee00000, 0x1000, 0x1007, true);
    assert_int_equal(ex.kind, EXIT_NPF);
    assert_int_equal(ex.u.npf.gpa, 0xfee00000);
    assert_true(ex.u.npf.read);
    assert_false(ex.u.npf.write);
    assert_false(ex.u.npf.fetch);
    assert_false(ex.u.npf.present);
    assert_false(ex.u.npf.gla_valid);
    assert_int_equal(ex.insn_len, 0); /* never trusted for #NPF */
    decode(SVM_EXIT_NPF, NPF_P | NPF_RW | NPF_US | NPF_FINAL, 0x5000, 0x1000, 0, false);
    assert_true(ex.u.npf.write);
    assert_false(ex.u.npf.read);
    assert_true(ex.u.npf.present);
    decode(SVM_EXIT_NPF, NPF_ID | NPF_US | NPF_FINAL, 0x6000, 0x6000, 0, false);
    assert_true(ex.u.npf.fetch);
    assert_false(ex.u.npf.read);
    assert_false(ex.u.npf.write);
    decode(SVM_EXIT_NPF, NPF_P | NPF_RSVD, 0x6000, 0x6000, 0, false);
    assert_int_equal(ex.kind, EXIT_UNKNOWN);
    assert_int_equal(ex.raw_qual, NPF_P | NPF_RSVD);
}

static void test_decode_events_and_failures(void **unused)
{
    assert_false(decode(SVM_EXIT_INTR, 0, 0, 1, 0, true));
    assert_int_equal(ex.kind, EXIT_INTR);
    assert_int_equal(ex.insn_len, 0);
    decode(SVM_EXIT_NMI, 0, 0, 1, 0, true);
    assert_int_equal(ex.kind, EXIT_INTR);
    decode(SVM_EXIT_INIT, 0, 0, 1, 0, true);
    assert_int_equal(ex.kind, EXIT_INIT);
    decode(SVM_EXIT_SHUTDOWN, 0, 0, 1, 0, true);
    assert_int_equal(ex.kind, EXIT_SHUTDOWN);
    decode(SVM_EXIT_INVALID, 0, 0, 1, 0, true);
    assert_int_equal(ex.kind, EXIT_ENTRY_FAIL);
    decode(UINT64_C(0xfffffffffffffffe), 0, 0, 1, 0, true); /* VMEXIT_BUSY */
    assert_int_equal(ex.kind, EXIT_ENTRY_FAIL);
    decode(UINT64_C(0xffffffff), 0, 0, 1, 0, true); /* -1 as QEMU 7.2 writes it */
    assert_int_equal(ex.kind, EXIT_ENTRY_FAIL);
    assert_int_equal(ex.raw_reason, 0xffffffff);
    decode(0x6e, 0, 0, 1, 0, true); /* RDTSC: not intercepted by Moat */
    assert_int_equal(ex.kind, EXIT_UNKNOWN);
    assert_int_equal(ex.raw_reason, 0x6e);
    decode(SVM_EXIT_EXCP_BASE + 14, 2, 0xdead, 1, 0, true);
    assert_int_equal(ex.kind, EXIT_UNKNOWN);
    assert_int_equal(ex.raw_qual, 2);

    const uint64_t svm_insns[] = { SVM_EXIT_VMRUN, SVM_EXIT_VMLOAD, SVM_EXIT_VMSAVE,
                                   SVM_EXIT_STGI, SVM_EXIT_CLGI, SVM_EXIT_SKINIT,
                                   SVM_EXIT_INVLPGA };
    for (size_t i = 0; i < sizeof(svm_insns) / sizeof(svm_insns[0]); i++)
        assert_true(decode(svm_insns[i], 0, 0, 1, 4, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_load_and_store),
        cmocka_unit_test(test_cpl),
        cmocka_unit_test(test_valid_states_pass),
        cmocka_unit_test(test_each_rule),
        cmocka_unit_test(test_legacy_cr3),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_msrs),
        cmocka_unit_test(test_decode_instructions),
        cmocka_unit_test(test_decode_io),
        cmocka_unit_test(test_decode_npf),
        cmocka_unit_test(test_decode_events_and_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
