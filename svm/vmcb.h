// SPDX-License-Identifier: Apache-2.0
// The AMD-V virtual machine control block (APM vol. 2 appendix B "Layout of VMCB"), its bits,
// the SVM MSRs and CPUID bits, and the exit codes (appendix C "SVM Intercept Exit Codes").
// Also the pure half of the backend (state load/store, the checks done before VMRUN; exit
// decoding is in svm/svm_exit.h) for host unit tests; svm/svm.c owns everything privileged.
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "kernel/x86.h"
#include "kernel/virt.h"

/* ---- CPUID and MSRs (APM vol. 2 15.4 "Enabling SVM", 15.30 "SVM-Related MSRs") --------- */
#define CPUID_EXT_SVM_ECX        BIT(2)  /* Fn8000_0001_ECX[SVM] */
#define CPUID_EXT_PAGE1GB_EDX    BIT(26) /* Fn8000_0001_EDX[Page1GB] */
#define CPUID_EXT_NX_EDX         BIT(20) /* Fn8000_0001_EDX[NX] */
#define CPUID_EXT_FFXSR_EDX      BIT(25) /* Fn8000_0001_EDX[FFXSR] */
#define CPUID_EXT_TCE_ECX        BIT(17) /* Fn8000_0001_ECX[TCE] */
#define CPUID_SVM_LEAF           0x8000000a /* Fn8000_000A: SVM revision and features */
#define CPUID_SVM_NP             BIT(0)  /* EDX: nested paging */
#define CPUID_SVM_SVML           BIT(2)  /* EDX: SVM lock (VM_CR.SVMDIS may be unlockable) */
#define CPUID_SVM_NRIPS          BIT(3)  /* EDX: next sequential RIP saved on #VMEXIT */
#define CPUID_SVM_FLUSH_BY_ASID  BIT(6)  /* EDX: TLB_CONTROL 3 and 7 */

#define MSR_VM_CR       0xc0010114
#define VM_CR_LOCK      BIT(3) /* SVMDIS and LOCK are read-only */
#define VM_CR_SVMDIS    BIT(4) /* EFER.SVME cannot be set */
#define MSR_VM_HSAVE_PA 0xc0010117 /* host save area used by VMRUN / #VMEXIT (15.30.4) */
#define EFER_SVME       BIT(12)
#define EFER_LMSLE      BIT(13)
#define EFER_FFXSR      BIT(14)
#define EFER_TCE        BIT(15)

/* ---- VMCB control area (APM vol. 2 table B-1) ------------------------------------------ */
/* Intercept vector 3 (offset 0x0c). */
#define VMCB_I3_INTR        BIT(0)
#define VMCB_I3_NMI         BIT(1)
#define VMCB_I3_SMI         BIT(2)
#define VMCB_I3_INIT        BIT(3)
#define VMCB_I3_CPUID       BIT(18)
#define VMCB_I3_INVD        BIT(22)
#define VMCB_I3_HLT         BIT(24)
#define VMCB_I3_INVLPGA     BIT(26)
#define VMCB_I3_IOIO_PROT   BIT(27)
#define VMCB_I3_MSR_PROT    BIT(28)
#define VMCB_I3_SHUTDOWN    BIT(31)
/* Intercept vector 4 (offset 0x10). */
#define VMCB_I4_VMRUN       BIT(0)
#define VMCB_I4_VMMCALL     BIT(1)
#define VMCB_I4_VMLOAD      BIT(2)
#define VMCB_I4_VMSAVE      BIT(3)
#define VMCB_I4_STGI        BIT(4)
#define VMCB_I4_CLGI        BIT(5)
#define VMCB_I4_SKINIT      BIT(6)
#define VMCB_I4_XSETBV      BIT(13)

/* TLB_CONTROL (offset 0x5c; APM vol. 2 15.16.1 "TLB Flush"). 3 and 7 need FlushByAsid. */
#define VMCB_TLB_NOTHING    0
#define VMCB_TLB_FLUSH_ALL  1 /* every ASID, the host's included */
#define VMCB_TLB_FLUSH_ASID 3 /* this guest's ASID only */

/* Virtual interrupt control (offset 0x60; APM vol. 2 15.21.1 "Virtual Interrupt Masking"). */
#define VMCB_V_INTR_MASKING BIT(24) /* guest RFLAGS.IF governs virtual interrupts only */
/* Offset 0x68. */
#define VMCB_INTERRUPT_SHADOW BIT(0)
/* Offset 0x90 (APM vol. 2 15.25.3 "Enabling Nested Paging"). */
#define VMCB_NP_ENABLE      BIT(0)

/* EVENTINJ (offset 0xa8) and EXITINTINFO (0x88) share one format (APM vol. 2 15.20 "Event
 * Injection", 15.7.2 "Intercepts During IDT Interrupt Delivery"). */
#define VMCB_EVT_VECTOR     GENMASK(7, 0)
#define VMCB_EVT_TYPE_SHIFT 8
#define VMCB_EVT_TYPE       GENMASK(10, 8)
#define VMCB_EVT_TYPE_INTR  (UINT64_C(0) << 8) /* external or virtual interrupt */
#define VMCB_EVT_TYPE_NMI   (UINT64_C(2) << 8)
#define VMCB_EVT_TYPE_EXC   (UINT64_C(3) << 8) /* exception (fault or trap) */
#define VMCB_EVT_TYPE_SWINT (UINT64_C(4) << 8) /* software interrupt (INTn) */
#define VMCB_EVT_EV         BIT(11) /* push the error code in bits 63:32 */
#define VMCB_EVT_V          BIT(31) /* valid */
#define VMCB_EVT_ERR_SHIFT  32
#define VMCB_EVT_RSVD       GENMASK(30, 12)

/* EXITINFO1 of IOIO (APM vol. 2 15.10.2 "IN and OUT Behavior", figure 15-2). */
#define IOIO_TYPE_IN     BIT(0)
#define IOIO_STR         BIT(2)
#define IOIO_REP         BIT(3)
#define IOIO_SZ8         BIT(4)
#define IOIO_SZ16        BIT(5)
#define IOIO_SZ32        BIT(6)
#define IOIO_PORT_SHIFT  16
/* EXITINFO1 of #NPF: a page-fault error code (APM vol. 2 8.4.2 "Page-Fault Error Code",
 * 15.25.6 "Nested versus Guest Page Faults, Fault Ordering"). */
#define NPF_P        BIT(0)
#define NPF_RW       BIT(1)
#define NPF_US       BIT(2)
#define NPF_RSVD     BIT(3)
#define NPF_ID       BIT(4)
#define NPF_FINAL    BIT(32) /* the fault was on the final guest-physical address */
#define NPF_TABLES   BIT(33) /* the fault was on a guest page-table access */

/* EXITCODE values (APM vol. 2 appendix C, table C-1). */
#define SVM_EXIT_EXCP_BASE  0x40 /* + vector */
#define SVM_EXIT_INTR       0x60
#define SVM_EXIT_NMI        0x61
#define SVM_EXIT_SMI        0x62
#define SVM_EXIT_INIT       0x63
#define SVM_EXIT_CPUID      0x72
#define SVM_EXIT_INVD       0x76
#define SVM_EXIT_HLT        0x78
#define SVM_EXIT_INVLPGA    0x7a
#define SVM_EXIT_IOIO       0x7b
#define SVM_EXIT_MSR        0x7c
#define SVM_EXIT_SHUTDOWN   0x7f
#define SVM_EXIT_VMRUN      0x80
#define SVM_EXIT_VMMCALL    0x81
#define SVM_EXIT_VMLOAD     0x82
#define SVM_EXIT_VMSAVE     0x83
#define SVM_EXIT_STGI       0x84
#define SVM_EXIT_CLGI       0x85
#define SVM_EXIT_SKINIT     0x86
#define SVM_EXIT_NPF        0x400
#define SVM_EXIT_INVALID    UINT64_C(0xffffffffffffffff) /* -1: VMRUN refused the VMCB */

struct __attribute__((packed)) vmcb_control {
    uint16_t intercept_cr_read;   /* 0x000 */
    uint16_t intercept_cr_write;  /* 0x002 */
    uint16_t intercept_dr_read;   /* 0x004 */
    uint16_t intercept_dr_write;  /* 0x006 */
    uint32_t intercept_exceptions; /* 0x008: bit n = vector n */
    uint32_t intercept3;          /* 0x00c: VMCB_I3_* */
    uint32_t intercept4;          /* 0x010: VMCB_I4_* */
    uint32_t intercept5;          /* 0x014: INVLPGB, ... (unused: 0) */
    uint8_t rsvd_0x018[0x24];
    uint16_t pause_filter_threshold; /* 0x03c */
    uint16_t pause_filter_count;  /* 0x03e */
    uint64_t iopm_base_pa;        /* 0x040 */
    uint64_t msrpm_base_pa;       /* 0x048 */
    uint64_t tsc_offset;          /* 0x050 */
    uint32_t guest_asid;          /* 0x058 */
    uint8_t tlb_control;          /* 0x05c */
    uint8_t rsvd_0x05d[3];
    uint64_t vintr;               /* 0x060: V_TPR, V_IRQ, ..., V_INTR_MASKING */
    uint64_t interrupt_shadow;    /* 0x068 */
    uint64_t exitcode;            /* 0x070 */
    uint64_t exitinfo1;           /* 0x078 */
    uint64_t exitinfo2;           /* 0x080 */
    uint64_t exitintinfo;         /* 0x088 */
    uint64_t np_control;          /* 0x090: NP_ENABLE, SEV, ... */
    uint64_t avic_apic_bar;       /* 0x098 */
    uint64_t ghcb_pa;             /* 0x0a0 */
    uint64_t eventinj;            /* 0x0a8 */
    uint64_t n_cr3;               /* 0x0b0 */
    uint64_t virt_ext;            /* 0x0b8: LBR virtualization, virtual VMSAVE/VMLOAD */
    uint32_t clean_bits;          /* 0x0c0: 0 = the CPU reloads every field */
    uint32_t rsvd_0x0c4;
    uint64_t next_rip;            /* 0x0c8: with NRIPS */
    uint8_t insn_fetched;         /* 0x0d0: with decode assists */
    uint8_t insn_bytes[15];       /* 0x0d1 */
    uint8_t rsvd_0x0e0[0x320];    /* AVIC and SEV pointers, reserved */
};

/* A segment as the VMCB holds it: attrib is struct seg's attr (kernel/virt.h). */
struct __attribute__((packed)) vmcb_seg {
    uint16_t sel;
    uint16_t attrib;
    uint32_t limit;
    uint64_t base;
};

/* State save area (APM vol. 2 table B-2), at VMCB offset 0x400; offsets below are from 0x400. */
struct __attribute__((packed)) vmcb_save {
    struct vmcb_seg es;           /* 0x000 */
    struct vmcb_seg cs;           /* 0x010 */
    struct vmcb_seg ss;           /* 0x020 */
    struct vmcb_seg ds;           /* 0x030 */
    struct vmcb_seg fs;           /* 0x040: VMLOAD/VMSAVE */
    struct vmcb_seg gs;           /* 0x050: VMLOAD/VMSAVE */
    struct vmcb_seg gdtr;         /* 0x060: limit and base only */
    struct vmcb_seg ldtr;         /* 0x070: VMLOAD/VMSAVE */
    struct vmcb_seg idtr;         /* 0x080: limit and base only */
    struct vmcb_seg tr;           /* 0x090: VMLOAD/VMSAVE */
    uint8_t rsvd_0x0a0[0x2b];
    uint8_t cpl;                  /* 0x0cb */
    uint32_t rsvd_0x0cc;
    uint64_t efer;                /* 0x0d0 */
    uint8_t rsvd_0x0d8[0x70];
    uint64_t cr4;                 /* 0x148 */
    uint64_t cr3;                 /* 0x150 */
    uint64_t cr0;                 /* 0x158 */
    uint64_t dr7;                 /* 0x160 */
    uint64_t dr6;                 /* 0x168 */
    uint64_t rflags;              /* 0x170 */
    uint64_t rip;                 /* 0x178 */
    uint8_t rsvd_0x180[0x58];
    uint64_t rsp;                 /* 0x1d8 */
    uint64_t s_cet;               /* 0x1e0 */
    uint64_t ssp;                 /* 0x1e8 */
    uint64_t isst_addr;           /* 0x1f0 */
    uint64_t rax;                 /* 0x1f8 */
    uint64_t star;                /* 0x200: VMLOAD/VMSAVE from here to sysenter_eip */
    uint64_t lstar;               /* 0x208 */
    uint64_t cstar;               /* 0x210 */
    uint64_t sfmask;              /* 0x218 */
    uint64_t kernel_gs_base;      /* 0x220 */
    uint64_t sysenter_cs;         /* 0x228 */
    uint64_t sysenter_esp;        /* 0x230 */
    uint64_t sysenter_eip;        /* 0x238 */
    uint64_t cr2;                 /* 0x240 */
    uint8_t rsvd_0x248[0x20];
    uint64_t g_pat;               /* 0x268: the guest's PAT with nested paging */
    uint64_t dbgctl;              /* 0x270 */
    uint64_t br_from;             /* 0x278 */
    uint64_t br_to;               /* 0x280 */
    uint64_t last_excp_from;      /* 0x288 */
    uint64_t last_excp_to;        /* 0x290 */
    uint8_t rsvd_0x298[0x968];    /* to the end of the page */
};

struct __attribute__((packed, aligned(4096))) vmcb {
    struct vmcb_control ctl; /* 0x000 */
    struct vmcb_save save;   /* 0x400 */
};

#define VMCB_SAVE 0x400
_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area size (table B-1)");
_Static_assert(sizeof(struct vmcb_save) == 0xc00, "VMCB state save area size (table B-2)");
_Static_assert(sizeof(struct vmcb) == 4096, "the VMCB is one 4 KiB page (15.5.1)");
_Static_assert(offsetof(struct vmcb_control, intercept3) == 0x00c, "B-1");
_Static_assert(offsetof(struct vmcb_control, intercept4) == 0x010, "B-1");
_Static_assert(offsetof(struct vmcb_control, pause_filter_count) == 0x03e, "B-1");
_Static_assert(offsetof(struct vmcb_control, iopm_base_pa) == 0x040, "B-1");
_Static_assert(offsetof(struct vmcb_control, msrpm_base_pa) == 0x048, "B-1");
_Static_assert(offsetof(struct vmcb_control, guest_asid) == 0x058, "B-1");
_Static_assert(offsetof(struct vmcb_control, tlb_control) == 0x05c, "B-1");
_Static_assert(offsetof(struct vmcb_control, vintr) == 0x060, "B-1");
_Static_assert(offsetof(struct vmcb_control, interrupt_shadow) == 0x068, "B-1");
_Static_assert(offsetof(struct vmcb_control, exitcode) == 0x070, "B-1");
_Static_assert(offsetof(struct vmcb_control, exitinfo1) == 0x078, "B-1");
_Static_assert(offsetof(struct vmcb_control, exitinfo2) == 0x080, "B-1");
_Static_assert(offsetof(struct vmcb_control, exitintinfo) == 0x088, "B-1");
_Static_assert(offsetof(struct vmcb_control, np_control) == 0x090, "B-1");
_Static_assert(offsetof(struct vmcb_control, eventinj) == 0x0a8, "B-1");
_Static_assert(offsetof(struct vmcb_control, n_cr3) == 0x0b0, "B-1");
_Static_assert(offsetof(struct vmcb_control, clean_bits) == 0x0c0, "B-1");
_Static_assert(offsetof(struct vmcb_control, next_rip) == 0x0c8, "B-1");
_Static_assert(offsetof(struct vmcb_control, insn_fetched) == 0x0d0, "B-1");
_Static_assert(sizeof(struct vmcb_seg) == 16, "B-2 segment");
_Static_assert(offsetof(struct vmcb_save, cs) == 0x010, "B-2");
_Static_assert(offsetof(struct vmcb_save, ss) == 0x020, "B-2");
_Static_assert(offsetof(struct vmcb_save, fs) == 0x040, "B-2");
_Static_assert(offsetof(struct vmcb_save, gdtr) == 0x060, "B-2");
_Static_assert(offsetof(struct vmcb_save, ldtr) == 0x070, "B-2");
_Static_assert(offsetof(struct vmcb_save, idtr) == 0x080, "B-2");
_Static_assert(offsetof(struct vmcb_save, tr) == 0x090, "B-2");
_Static_assert(offsetof(struct vmcb_save, cpl) == 0x0cb, "B-2");
_Static_assert(offsetof(struct vmcb_save, efer) == 0x0d0, "B-2");
_Static_assert(offsetof(struct vmcb_save, cr4) == 0x148, "B-2");
_Static_assert(offsetof(struct vmcb_save, cr3) == 0x150, "B-2");
_Static_assert(offsetof(struct vmcb_save, cr0) == 0x158, "B-2");
_Static_assert(offsetof(struct vmcb_save, dr7) == 0x160, "B-2");
_Static_assert(offsetof(struct vmcb_save, dr6) == 0x168, "B-2");
_Static_assert(offsetof(struct vmcb_save, rflags) == 0x170, "B-2");
_Static_assert(offsetof(struct vmcb_save, rip) == 0x178, "B-2");
_Static_assert(offsetof(struct vmcb_save, rsp) == 0x1d8, "B-2");
_Static_assert(offsetof(struct vmcb_save, rax) == 0x1f8, "B-2");
_Static_assert(offsetof(struct vmcb_save, star) == 0x200, "B-2");
_Static_assert(offsetof(struct vmcb_save, kernel_gs_base) == 0x220, "B-2");
_Static_assert(offsetof(struct vmcb_save, sysenter_eip) == 0x238, "B-2");
_Static_assert(offsetof(struct vmcb_save, cr2) == 0x240, "B-2");
_Static_assert(offsetof(struct vmcb_save, g_pat) == 0x268, "B-2");
_Static_assert(offsetof(struct vmcb_save, last_excp_to) == 0x290, "B-2");
/* Used by svm/svm_entry.asm. */
#define VMCB_RAX_OFF (VMCB_SAVE + 0x1f8)
#define VMCB_RSP_OFF (VMCB_SAVE + 0x1d8)
_Static_assert(offsetof(struct vmcb, save.rax) == VMCB_RAX_OFF, "svm_entry.asm VMCB_RAX");
_Static_assert(offsetof(struct vmcb, save.rsp) == VMCB_RSP_OFF, "svm_entry.asm VMCB_RSP");

/* I/O and MSR permission maps (APM vol. 2 15.10.1 "I/O Permissions Map", 15.11 "MSR
 * Intercepts"): one bit per port (plus a third page for accesses that run past 0xffff), two
 * bits per MSR in three 2 KiB ranges. Both physically contiguous and 4 KiB aligned. */
#define SVM_IOPM_PAGES  3
#define SVM_MSRPM_PAGES 2

/* ---- pure parts (svm/vmcb.c) ----------------------------------------------------------- */

/* What this CPU accepts in the guest's EFER and CR4 and its MAXPHYADDR: the MBZ checks of
 * APM vol. 2 15.5.1 depend on it. Filled by svm_detect from CPUID. */
struct svm_limits {
    uint64_t efer_ok;   /* EFER bits the CPU implements */
    uint64_t cr4_ok;    /* CR4 bits the CPU implements */
    unsigned maxphyaddr;
    unsigned vaddr_bits; /* linear-address width: what "canonical" means (CPUID 0x80000008) */
    bool flush_by_asid;
};

/* Fills the guest part of vmcb from st: segments, descriptor tables, control registers,
 * EFER (with SVME, which the hardware requires of every guest), RIP/RSP/RFLAGS/RAX, CPL,
 * DR6/DR7 and G_PAT at their reset values. Touches no control-area field. */
void vmcb_load_state(struct vmcb *vmcb, const struct guest_entry_state *st);

/* The guest's view of its state (EFER without SVME). out->regs is left alone: v->regs holds
 * the GPRs. */
void vmcb_store_state(const struct vmcb *vmcb, struct guest_entry_state *out);

/* The rules VMRUN enforces (APM vol. 2 15.5.1 "Canonicalization and Consistency Checks") and
 * Moat's own (EFER.LMA must equal EFER.LME && CR0.PG: QEMU accepts LMA=1 with PG=0 and then
 * runs every later guest without nested paging). Returns NULL when vmcb may be run, else a
 * fixed phrase naming the broken rule. */
const char *vmcb_check(const struct vmcb *vmcb, const struct svm_limits *lim);

/* The guest's value of an MSR the VMCB holds (EFER without SVME, PAT, FS/GS base,
 * KernelGSBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_CS/ESP/EIP). False for any other index. */
bool vmcb_msr_get(const struct vmcb *vmcb, uint32_t index, uint64_t *value);

/* Sets one of those MSRs as WRMSR would, or returns false where WRMSR raises #GP: reserved
 * EFER bits (SVME among them: the guest has no SVM), EFER.LME changed with paging on, a PAT
 * byte that is no memory type, a non-canonical address, SFMASK[63:32]. EFER.LMA is the CPU's:
 * a written LMA is ignored. */
bool vmcb_msr_set(struct vmcb *vmcb, const struct svm_limits *lim, uint32_t index, uint64_t value);

/* The EVENTINJ value raising exception `vector` (0..31) in a guest with the given CR0; real
 * mode pushes no error code (APM vol. 2 chapter 8, "Real-Mode Interrupt Control Transfers"). */
uint64_t vmcb_exception_event(uint8_t vector, bool has_error, uint32_t error, uint64_t guest_cr0);

/* Is an EXITINTINFO value an event to deliver again at the next VMRUN? Interrupts, NMIs and
 * hardware exceptions are; software interrupts and INT3/INTO are not, since the guest
 * re-executes the instruction (APM vol. 2 15.7.2). */
bool vmcb_reinject(uint64_t exitintinfo);

#endif
