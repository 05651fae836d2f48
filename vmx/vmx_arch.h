// SPDX-License-Identifier: Apache-2.0
// Architectural constants of Intel VT-x (SDM vol. 3C chapters 24-29, vol. 3D appendices A-C):
// capability MSRs, VM-execution/exit/entry controls, exit reasons and qualifications, event
// information, segment access rights; and the rule fitting a wanted control value to its
// capability MSR. Pure: no instruction, so host unit tests include it.
#ifndef VMX_VMX_ARCH_H
#define VMX_VMX_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#ifndef BIT
#define BIT(n)          (UINT64_C(1) << (n))
#define GENMASK(hi, lo) ((~UINT64_C(0) >> (63 - (hi))) & ~((UINT64_C(1) << (lo)) - 1))
#endif

/* ---- MSRs (SDM vol. 4; vol. 3D appendix A "VMX Capability Reporting Facility") ---------- */
#define MSR_IA32_FEATURE_CONTROL       0x03a
#define FEATURE_CONTROL_LOCK           BIT(0)
#define FEATURE_CONTROL_VMXON_IN_SMX   BIT(1)
#define FEATURE_CONTROL_VMXON_OUTSIDE  BIT(2)
#define MSR_IA32_SYSENTER_CS           0x174
#define MSR_IA32_SYSENTER_ESP          0x175
#define MSR_IA32_SYSENTER_EIP          0x176
#define MSR_IA32_PAT                   0x277
#define MSR_IA32_VMX_BASIC             0x480
#define MSR_IA32_VMX_PINBASED_CTLS     0x481
#define MSR_IA32_VMX_PROCBASED_CTLS    0x482
#define MSR_IA32_VMX_EXIT_CTLS         0x483
#define MSR_IA32_VMX_ENTRY_CTLS        0x484
#define MSR_IA32_VMX_MISC              0x485
#define MSR_IA32_VMX_CR0_FIXED0        0x486
#define MSR_IA32_VMX_CR0_FIXED1        0x487
#define MSR_IA32_VMX_CR4_FIXED0        0x488
#define MSR_IA32_VMX_CR4_FIXED1        0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2   0x48b
/* 0x48c IA32_VMX_EPT_VPID_CAP: vmx/ept.h */
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x490
#define MSR_STAR                       0xc0000081
#define MSR_LSTAR                      0xc0000082
#define MSR_CSTAR                      0xc0000083
#define MSR_SFMASK                     0xc0000084
#define MSR_KERNEL_GS_BASE             0xc0000102

/* IA32_VMX_BASIC (A.1 "Basic VMX Information"). */
#define VMX_BASIC_REVISION_MASK   GENMASK(30, 0)
#define VMX_BASIC_SIZE_SHIFT      32 /* bits 44:32: bytes of VMXON region and VMCS */
#define VMX_BASIC_SIZE_MASK       GENMASK(44, 32)
#define VMX_BASIC_ADDR32          BIT(48) /* VMXON/VMCS/... addresses limited to 32 bits */
#define VMX_BASIC_MEMTYPE_SHIFT   50 /* bits 53:50: memory type of VMCS accesses; 6 = WB */
#define VMX_BASIC_MEMTYPE_MASK    GENMASK(53, 50)
#define VMX_BASIC_MEMTYPE_WB      6
#define VMX_BASIC_INSOUTS_INFO    BIT(54) /* INS/OUTS exits report instruction information */
#define VMX_BASIC_TRUE_CTLS       BIT(55) /* the IA32_VMX_TRUE_*_CTLS MSRs exist */
#define VMX_BASIC_NO_ERRCODE_CHECK BIT(56) /* hardware exceptions may be injected with or without
                                              an error code, whatever the vector */

/* IA32_VMX_MISC (A.6 "Miscellaneous Data"). */
#define VMX_MISC_PREEMPT_SHIFT_MASK GENMASK(4, 0) /* timer ticks every 2^n TSC cycles */
#define VMX_MISC_ACTIVITY_HLT       BIT(6)

/* IA32_VMX_EPT_VPID_CAP bits beyond those vmx/ept.h names (A.10). */
#define EPT_VPID_CAP_INVEPT          BIT(20)
#define EPT_VPID_CAP_INVEPT_SINGLE   BIT(25)
#define EPT_VPID_CAP_INVEPT_ALL      BIT(26)
#define EPT_VPID_CAP_INVVPID         BIT(32)
#define EPT_VPID_CAP_INVVPID_SINGLE  BIT(41)
#define EPT_VPID_CAP_INVVPID_ALL     BIT(42)

/* INVEPT / INVVPID types (SDM vol. 3C 29.4.3.1, vol. 2 "INVEPT", "INVVPID"). */
#define INVEPT_SINGLE_CONTEXT  1
#define INVEPT_ALL_CONTEXT     2
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT    2

/* ---- VM-execution controls (SDM vol. 3C 25.6.1 / 25.6.2) ------------------------------- */
/* Pin-based (table "Definitions of Pin-Based VM-Execution Controls"). */
#define PIN_EXT_INTR_EXITING   BIT(0)
#define PIN_NMI_EXITING        BIT(3)
#define PIN_VIRTUAL_NMIS       BIT(5)
#define PIN_PREEMPTION_TIMER   BIT(6)
/* Primary processor-based ("Definitions of Primary Processor-Based VM-Execution Controls"). */
#define PROC_INTR_WINDOW       BIT(2)
#define PROC_TSC_OFFSETTING    BIT(3)
#define PROC_HLT_EXITING       BIT(7)
#define PROC_INVLPG_EXITING    BIT(9)
#define PROC_MWAIT_EXITING     BIT(10)
#define PROC_RDPMC_EXITING     BIT(11)
#define PROC_RDTSC_EXITING     BIT(12)
#define PROC_CR3_LOAD_EXITING  BIT(15)
#define PROC_CR3_STORE_EXITING BIT(16)
#define PROC_CR8_LOAD_EXITING  BIT(19)
#define PROC_CR8_STORE_EXITING BIT(20)
#define PROC_TPR_SHADOW        BIT(21)
#define PROC_NMI_WINDOW        BIT(22)
#define PROC_MOV_DR_EXITING    BIT(23)
#define PROC_UNCOND_IO_EXITING BIT(24)
#define PROC_IO_BITMAPS        BIT(25)
#define PROC_MTF               BIT(27)
#define PROC_MSR_BITMAPS       BIT(28)
#define PROC_MONITOR_EXITING   BIT(29)
#define PROC_PAUSE_EXITING     BIT(30)
#define PROC_SECONDARY         BIT(31)
/* Secondary processor-based ("Definitions of Secondary Processor-Based VM-Execution Controls"). */
#define PROC2_VIRT_APIC_ACCESS BIT(0)
#define PROC2_EPT              BIT(1)
#define PROC2_DESC_TABLE_EXIT  BIT(2)
#define PROC2_RDTSCP           BIT(3) /* 0: RDTSCP raises #UD */
#define PROC2_VPID             BIT(5)
#define PROC2_WBINVD_EXITING   BIT(6)
#define PROC2_UNRESTRICTED     BIT(7)
#define PROC2_INVPCID          BIT(12) /* 0: INVPCID raises #UD */

/* ---- VM-exit controls (25.7.1, "Definitions of Primary VM-Exit Controls") -------------- */
#define EXIT_SAVE_DEBUG        BIT(2)
#define EXIT_HOST_ADDR64       BIT(9) /* "host address-space size" */
#define EXIT_LOAD_PERF_GLOBAL  BIT(12)
#define EXIT_ACK_INTR          BIT(15) /* "acknowledge interrupt on exit": Moat leaves it 0 */
#define EXIT_SAVE_PAT          BIT(18)
#define EXIT_LOAD_PAT          BIT(19)
#define EXIT_SAVE_EFER         BIT(20)
#define EXIT_LOAD_EFER         BIT(21)
#define EXIT_SAVE_PREEMPT      BIT(22)

/* ---- VM-entry controls (25.8.1, "Definitions of VM-Entry Controls") -------------------- */
#define ENTRY_LOAD_DEBUG       BIT(2)
#define ENTRY_IA32E_GUEST      BIT(9)
#define ENTRY_SMM              BIT(10)
#define ENTRY_LOAD_PERF_GLOBAL BIT(13)
#define ENTRY_LOAD_PAT         BIT(14)
#define ENTRY_LOAD_EFER        BIT(15)

/* ---- Exit reasons (appendix C "VMX Basic Exit Reasons"; 25.9.1 "Basic VM-Exit Information") */
#define EXIT_REASON_BASIC_MASK  GENMASK(15, 0)
#define EXIT_REASON_ENTRY_FAIL  BIT(31) /* bits 31: VM-entry failure */
enum vmx_exit_reason {
    VMX_EXIT_EXCEPTION_NMI = 0,
    VMX_EXIT_EXTERNAL_INTR = 1,
    VMX_EXIT_TRIPLE_FAULT = 2,
    VMX_EXIT_INIT = 3,
    VMX_EXIT_SIPI = 4,
    VMX_EXIT_IO_SMI = 5,
    VMX_EXIT_OTHER_SMI = 6,
    VMX_EXIT_INTR_WINDOW = 7,
    VMX_EXIT_NMI_WINDOW = 8,
    VMX_EXIT_TASK_SWITCH = 9,
    VMX_EXIT_CPUID = 10,
    VMX_EXIT_GETSEC = 11,
    VMX_EXIT_HLT = 12,
    VMX_EXIT_INVD = 13,
    VMX_EXIT_INVLPG = 14,
    VMX_EXIT_RDPMC = 15,
    VMX_EXIT_RDTSC = 16,
    VMX_EXIT_RSM = 17,
    VMX_EXIT_VMCALL = 18,
    VMX_EXIT_VMCLEAR = 19,
    VMX_EXIT_VMLAUNCH = 20,
    VMX_EXIT_VMPTRLD = 21,
    VMX_EXIT_VMPTRST = 22,
    VMX_EXIT_VMREAD = 23,
    VMX_EXIT_VMRESUME = 24,
    VMX_EXIT_VMWRITE = 25,
    VMX_EXIT_VMXOFF = 26,
    VMX_EXIT_VMXON = 27,
    VMX_EXIT_CR_ACCESS = 28,
    VMX_EXIT_MOV_DR = 29,
    VMX_EXIT_IO = 30,
    VMX_EXIT_RDMSR = 31,
    VMX_EXIT_WRMSR = 32,
    VMX_EXIT_ENTRY_GUEST_STATE = 33,
    VMX_EXIT_ENTRY_MSR_LOAD = 34,
    VMX_EXIT_MWAIT = 36,
    VMX_EXIT_MTF = 37,
    VMX_EXIT_MONITOR = 39,
    VMX_EXIT_PAUSE = 40,
    VMX_EXIT_ENTRY_MACHINE_CHECK = 41,
    VMX_EXIT_EPT_VIOLATION = 48,
    VMX_EXIT_EPT_MISCONFIG = 49,
    VMX_EXIT_INVEPT = 50,
    VMX_EXIT_PREEMPTION_TIMER = 52,
    VMX_EXIT_INVVPID = 53,
    VMX_EXIT_XSETBV = 55,
    VMX_EXIT_VMFUNC = 59,
};

/* I/O instruction qualification (table "Exit Qualification for I/O Instructions"). */
#define IO_QUAL_SIZE_MASK   GENMASK(2, 0) /* size - 1: 0, 1 or 3 */
#define IO_QUAL_IN          BIT(3)
#define IO_QUAL_STRING      BIT(4)
#define IO_QUAL_REP         BIT(5)
#define IO_QUAL_PORT_SHIFT  16

/* EPT violation qualification (table "Exit Qualification for EPT Violations"). */
#define EPT_QUAL_READ       BIT(0)
#define EPT_QUAL_WRITE      BIT(1)
#define EPT_QUAL_FETCH      BIT(2)
#define EPT_QUAL_READABLE   BIT(3) /* bits 5:3: the access rights of the translation, ANDed */
#define EPT_QUAL_WRITABLE   BIT(4)
#define EPT_QUAL_EXECUTABLE BIT(5)
#define EPT_QUAL_GLA_VALID  BIT(7)

/* Control-register access qualification (table "Exit Qualification for Control-Register
 * Accesses"). */
#define CR_QUAL_NUM_MASK    GENMASK(3, 0)
#define CR_QUAL_TYPE_SHIFT  4 /* bits 5:4 */
#define CR_QUAL_TYPE_MASK   GENMASK(5, 4)
#define CR_TYPE_MOV_TO      0
#define CR_TYPE_MOV_FROM    1
#define CR_TYPE_CLTS        2
#define CR_TYPE_LMSW        3
#define CR_QUAL_GPR_SHIFT   8 /* bits 11:8 */
#define CR_QUAL_GPR_MASK    GENMASK(11, 8)
#define CR_QUAL_LMSW_SHIFT  16 /* bits 31:16: LMSW source data */

/* VM-entry failure qualification for reason 33 (27.8 "VM-Entry Failures During or After
 * Loading Guest State"). */
#define ENTRY_FAIL_QUAL_PDPTE 2
#define ENTRY_FAIL_QUAL_LINK  4

/* VM-instruction error numbers (31.4 "VM Instruction Error Numbers"). */
#define VMXERR_ENTRY_INVALID_CONTROL 7
#define VMXERR_ENTRY_INVALID_HOST    8

/* ---- Event information (25.8.3 "VM-Entry Controls for Event Injection", 25.9.2
 * "Information for VM Exits Due to Vectored Events", 25.9.3 "... During Event Delivery") ---- */
#define INTR_INFO_VECTOR_MASK  GENMASK(7, 0)
#define INTR_INFO_TYPE_SHIFT   8 /* bits 10:8 */
#define INTR_INFO_TYPE_MASK    GENMASK(10, 8)
#define INTR_TYPE_EXT_INTR     0
#define INTR_TYPE_NMI          2
#define INTR_TYPE_HW_EXCEPTION 3
#define INTR_TYPE_SW_INTR      4
#define INTR_TYPE_PRIV_SW_EXC  5
#define INTR_TYPE_SW_EXCEPTION 6
#define INTR_INFO_DELIVER_CODE BIT(11)
#define INTR_INFO_VALID        BIT(31)
/* The IDT-vectoring information has the injection format in bits 11:0 and 31 (bit 12 is
 * undefined there; bits 30:12 of the entry field are reserved). */
#define INTR_INFO_REINJECT_MASK (GENMASK(11, 0) | INTR_INFO_VALID)

/* Guest interruptibility state (25.4.2 "Guest Non-Register State"). */
#define INTERRUPTIBILITY_STI    BIT(0)
#define INTERRUPTIBILITY_MOV_SS BIT(1)
#define INTERRUPTIBILITY_SMI    BIT(2)
#define INTERRUPTIBILITY_NMI    BIT(3)
#define ACTIVITY_ACTIVE 0

/* ---- Segment access rights (25.4.1 "Guest Register State", table "Format of Access Rights")
 * Bits 7:0 as descriptor byte 5, 15:12 as AVL, L, D/B, G, bit 16 "unusable". */
#define AR_TYPE_MASK    GENMASK(3, 0)
#define AR_TYPE_ACCESSED BIT(0)
#define AR_S            BIT(4)
#define AR_DPL_SHIFT    5
#define AR_DPL_MASK     GENMASK(6, 5)
#define AR_P            BIT(7)
#define AR_L            BIT(13)
#define AR_DB           BIT(14)
#define AR_G            BIT(15)
#define AR_UNUSABLE     BIT(16)
#define AR_TYPE_TSS_BUSY16 3
#define AR_TYPE_TSS_BUSY32 11 /* also the busy 64-bit TSS */
#define AR_TYPE_LDT     2

/* struct seg's packed form (kernel/virt.h) <-> VMX access rights: bits 11:8 move to 15:12;
 * attr 0 is an unusable segment. */
static inline uint32_t vmx_ar_from_attr(uint16_t attr)
{
    return attr ? ((uint32_t)attr & 0xffu) | (((uint32_t)attr & 0xf00u) << 4) : (uint32_t)AR_UNUSABLE;
}
static inline uint16_t vmx_attr_from_ar(uint32_t ar)
{
    return (ar & AR_UNUSABLE) ? 0 : (uint16_t)((ar & 0xffu) | ((ar >> 4) & 0xf00u));
}

/* ---- Fitting controls to the CPU (SDM vol. 3D A.3-A.5) --------------------------------
 * A capability MSR holds the allowed 0-settings in bits 31:0 (a 1 there: the control must be 1)
 * and the allowed 1-settings in bits 63:32 (a 0 there: the control must be 0). */
static inline uint32_t vmx_ctl_must1(uint64_t cap) { return (uint32_t)cap; }
static inline uint32_t vmx_ctl_may1(uint64_t cap) { return (uint32_t)(cap >> 32); }
static inline bool vmx_ctl_allowed(uint64_t cap, uint32_t bits)
{
    return (vmx_ctl_may1(cap) & bits) == bits;
}

/* Fits `want` to `cap`: adds every bit the CPU forces to 1. Fails when a bit of `want` may not
 * be 1, or a bit of `forbid` (controls whose exits Moat does not handle) is forced to 1; then
 * *bad holds the offending bits and *out is untouched. */
static inline bool vmx_ctl_adjust(uint64_t cap, uint32_t want, uint32_t forbid, uint32_t *out,
                                  uint32_t *bad)
{
    uint32_t b = (want & ~vmx_ctl_may1(cap)) | (forbid & vmx_ctl_must1(cap));
    *bad = b;
    if (b)
        return false;
    *out = (want | vmx_ctl_must1(cap)) & vmx_ctl_may1(cap);
    return true;
}

/* Lowest set bit's number (for naming one offending control bit in a message). */
static inline unsigned vmx_lowest_bit(uint32_t v)
{
    return v ? (unsigned)__builtin_ctz(v) : 32;
}

#endif
