// SPDX-License-Identifier: Apache-2.0
// Every VMCS field Moat knows, described once: name, encoding and width, grouped as in Intel
// SDM vol. 3D appendix B "Field Encoding in VMCS". The list generates the field enum and the
// width of each field (vmx/vmx_insn.h turns that into width-checked accessors). Pure: no asm.
#ifndef VMX_VMCS_FIELDS_H
#define VMX_VMCS_FIELDS_H

/* Width, as encoded in bits 14:13 of a field's encoding (SDM vol. 3C 25.11.2 "VMREAD, VMWRITE,
 * and Encodings of VMCS Fields", table "Structure of VMCS Component Encoding"). */
#define VMCS_W16  0 /* 16-bit */
#define VMCS_W64  1 /* 64-bit: full access (bit 0 = 0) reads and writes all 64 bits */
#define VMCS_W32  2 /* 32-bit */
#define VMCS_WNAT 3 /* natural width: 64 bits on a 64-bit host */

/* The other parts of an encoding: bit 0 access type (0 full, 1 the high half of a 64-bit
 * field, never used here), bits 9:1 index, bits 11:10 type, bit 12 and 31:15 reserved. */
#define VMCS_ENC_WIDTH_SHIFT 13
#define VMCS_ENC_TYPE_SHIFT  10
#define VMCS_TYPE_CONTROL    0
#define VMCS_TYPE_EXIT_INFO  1 /* read-only data */
#define VMCS_TYPE_GUEST      2
#define VMCS_TYPE_HOST       3

/* X(name, encoding, width). Names starting GUEST_ are guest-state fields and HOST_ host-state
 * fields (tests/unit/test_vmcs.c checks the type bits against that). */
#define VMCS_FIELDS(X)                                                                         \
    /* B.1.1 16-bit control fields */                                                          \
    X(VPID,                        0x0000, W16)                                                \
    X(POSTED_INTR_VECTOR,          0x0002, W16)                                                \
    X(EPTP_INDEX,                  0x0004, W16)                                                \
    /* B.1.2 16-bit guest-state fields */                                                      \
    X(GUEST_ES_SEL,                0x0800, W16)                                                \
    X(GUEST_CS_SEL,                0x0802, W16)                                                \
    X(GUEST_SS_SEL,                0x0804, W16)                                                \
    X(GUEST_DS_SEL,                0x0806, W16)                                                \
    X(GUEST_FS_SEL,                0x0808, W16)                                                \
    X(GUEST_GS_SEL,                0x080a, W16)                                                \
    X(GUEST_LDTR_SEL,              0x080c, W16)                                                \
    X(GUEST_TR_SEL,                0x080e, W16)                                                \
    X(GUEST_INTR_STATUS,           0x0810, W16)                                                \
    X(GUEST_PML_INDEX,             0x0812, W16)                                                \
    /* B.1.3 16-bit host-state fields */                                                       \
    X(HOST_ES_SEL,                 0x0c00, W16)                                                \
    X(HOST_CS_SEL,                 0x0c02, W16)                                                \
    X(HOST_SS_SEL,                 0x0c04, W16)                                                \
    X(HOST_DS_SEL,                 0x0c06, W16)                                                \
    X(HOST_FS_SEL,                 0x0c08, W16)                                                \
    X(HOST_GS_SEL,                 0x0c0a, W16)                                                \
    X(HOST_TR_SEL,                 0x0c0c, W16)                                                \
    /* B.2.1 64-bit control fields */                                                          \
    X(IO_BITMAP_A,                 0x2000, W64)                                                \
    X(IO_BITMAP_B,                 0x2002, W64)                                                \
    X(MSR_BITMAP,                  0x2004, W64)                                                \
    X(EXIT_MSR_STORE_ADDR,         0x2006, W64)                                                \
    X(EXIT_MSR_LOAD_ADDR,          0x2008, W64)                                                \
    X(ENTRY_MSR_LOAD_ADDR,         0x200a, W64)                                                \
    X(EXECUTIVE_VMCS_PTR,          0x200c, W64)                                                \
    X(PML_ADDR,                    0x200e, W64)                                                \
    X(TSC_OFFSET,                  0x2010, W64)                                                \
    X(VIRTUAL_APIC_ADDR,           0x2012, W64)                                                \
    X(APIC_ACCESS_ADDR,            0x2014, W64)                                                \
    X(POSTED_INTR_DESC_ADDR,       0x2016, W64)                                                \
    X(VMFUNC_CONTROLS,             0x2018, W64)                                                \
    X(EPT_POINTER,                 0x201a, W64)                                                \
    X(EOI_EXIT_BITMAP0,            0x201c, W64)                                                \
    X(EOI_EXIT_BITMAP1,            0x201e, W64)                                                \
    X(EOI_EXIT_BITMAP2,            0x2020, W64)                                                \
    X(EOI_EXIT_BITMAP3,            0x2022, W64)                                                \
    X(EPTP_LIST_ADDR,              0x2024, W64)                                                \
    X(VMREAD_BITMAP,               0x2026, W64)                                                \
    X(VMWRITE_BITMAP,              0x2028, W64)                                                \
    X(VE_INFO_ADDR,                0x202a, W64)                                                \
    X(XSS_EXIT_BITMAP,             0x202c, W64)                                                \
    X(ENCLS_EXIT_BITMAP,           0x202e, W64)                                                \
    X(TSC_MULTIPLIER,              0x2032, W64)                                                \
    /* B.2.2 64-bit read-only data fields */                                                   \
    X(EXIT_GPA,                    0x2400, W64) /* "guest-physical address" */                 \
    /* B.2.3 64-bit guest-state fields */                                                      \
    X(GUEST_VMCS_LINK_PTR,         0x2800, W64)                                                \
    X(GUEST_IA32_DEBUGCTL,         0x2802, W64)                                                \
    X(GUEST_IA32_PAT,              0x2804, W64)                                                \
    X(GUEST_IA32_EFER,             0x2806, W64)                                                \
    X(GUEST_IA32_PERF_GLOBAL_CTRL, 0x2808, W64)                                                \
    X(GUEST_PDPTE0,                0x280a, W64)                                                \
    X(GUEST_PDPTE1,                0x280c, W64)                                                \
    X(GUEST_PDPTE2,                0x280e, W64)                                                \
    X(GUEST_PDPTE3,                0x2810, W64)                                                \
    X(GUEST_IA32_BNDCFGS,          0x2812, W64)                                                \
    /* B.2.4 64-bit host-state fields */                                                       \
    X(HOST_IA32_PAT,               0x2c00, W64)                                                \
    X(HOST_IA32_EFER,              0x2c02, W64)                                                \
    X(HOST_IA32_PERF_GLOBAL_CTRL,  0x2c04, W64)                                                \
    /* B.3.1 32-bit control fields */                                                          \
    X(PIN_CONTROLS,                0x4000, W32)                                                \
    X(PROC_CONTROLS,               0x4002, W32)                                                \
    X(EXCEPTION_BITMAP,            0x4004, W32)                                                \
    X(PF_ERROR_CODE_MASK,          0x4006, W32)                                                \
    X(PF_ERROR_CODE_MATCH,         0x4008, W32)                                                \
    X(CR3_TARGET_COUNT,            0x400a, W32)                                                \
    X(EXIT_CONTROLS,               0x400c, W32)                                                \
    X(EXIT_MSR_STORE_COUNT,        0x400e, W32)                                                \
    X(EXIT_MSR_LOAD_COUNT,         0x4010, W32)                                                \
    X(ENTRY_CONTROLS,              0x4012, W32)                                                \
    X(ENTRY_MSR_LOAD_COUNT,        0x4014, W32)                                                \
    X(ENTRY_INTR_INFO,             0x4016, W32)                                                \
    X(ENTRY_EXCEPTION_ERROR_CODE,  0x4018, W32)                                                \
    X(ENTRY_INSTRUCTION_LEN,       0x401a, W32)                                                \
    X(TPR_THRESHOLD,               0x401c, W32)                                                \
    X(PROC_CONTROLS2,              0x401e, W32)                                                \
    X(PLE_GAP,                     0x4020, W32)                                                \
    X(PLE_WINDOW,                  0x4022, W32)                                                \
    /* B.3.2 32-bit read-only data fields */                                                   \
    X(VM_INSTRUCTION_ERROR,        0x4400, W32)                                                \
    X(EXIT_REASON,                 0x4402, W32)                                                \
    X(EXIT_INTR_INFO,              0x4404, W32)                                                \
    X(EXIT_INTR_ERROR_CODE,        0x4406, W32)                                                \
    X(IDT_VECTORING_INFO,          0x4408, W32)                                                \
    X(IDT_VECTORING_ERROR_CODE,    0x440a, W32)                                                \
    X(EXIT_INSTRUCTION_LEN,        0x440c, W32)                                                \
    X(EXIT_INSTRUCTION_INFO,       0x440e, W32)                                                \
    /* B.3.3 32-bit guest-state fields */                                                      \
    X(GUEST_ES_LIMIT,              0x4800, W32)                                                \
    X(GUEST_CS_LIMIT,              0x4802, W32)                                                \
    X(GUEST_SS_LIMIT,              0x4804, W32)                                                \
    X(GUEST_DS_LIMIT,              0x4806, W32)                                                \
    X(GUEST_FS_LIMIT,              0x4808, W32)                                                \
    X(GUEST_GS_LIMIT,              0x480a, W32)                                                \
    X(GUEST_LDTR_LIMIT,            0x480c, W32)                                                \
    X(GUEST_TR_LIMIT,              0x480e, W32)                                                \
    X(GUEST_GDTR_LIMIT,            0x4810, W32)                                                \
    X(GUEST_IDTR_LIMIT,            0x4812, W32)                                                \
    X(GUEST_ES_AR,                 0x4814, W32)                                                \
    X(GUEST_CS_AR,                 0x4816, W32)                                                \
    X(GUEST_SS_AR,                 0x4818, W32)                                                \
    X(GUEST_DS_AR,                 0x481a, W32)                                                \
    X(GUEST_FS_AR,                 0x481c, W32)                                                \
    X(GUEST_GS_AR,                 0x481e, W32)                                                \
    X(GUEST_LDTR_AR,               0x4820, W32)                                                \
    X(GUEST_TR_AR,                 0x4822, W32)                                                \
    X(GUEST_INTERRUPTIBILITY,      0x4824, W32)                                                \
    X(GUEST_ACTIVITY_STATE,        0x4826, W32)                                                \
    X(GUEST_SMBASE,                0x4828, W32)                                                \
    X(GUEST_IA32_SYSENTER_CS,      0x482a, W32)                                                \
    X(GUEST_PREEMPTION_TIMER,      0x482e, W32)                                                \
    /* B.3.4 32-bit host-state field */                                                        \
    X(HOST_IA32_SYSENTER_CS,       0x4c00, W32)                                                \
    /* B.4.1 natural-width control fields */                                                   \
    X(CR0_GUEST_HOST_MASK,         0x6000, WNAT)                                               \
    X(CR4_GUEST_HOST_MASK,         0x6002, WNAT)                                               \
    X(CR0_READ_SHADOW,             0x6004, WNAT)                                               \
    X(CR4_READ_SHADOW,             0x6006, WNAT)                                               \
    X(CR3_TARGET0,                 0x6008, WNAT)                                               \
    X(CR3_TARGET1,                 0x600a, WNAT)                                               \
    X(CR3_TARGET2,                 0x600c, WNAT)                                               \
    X(CR3_TARGET3,                 0x600e, WNAT)                                               \
    /* B.4.2 natural-width read-only data fields */                                            \
    X(EXIT_QUALIFICATION,          0x6400, WNAT)                                               \
    X(EXIT_IO_RCX,                 0x6402, WNAT)                                               \
    X(EXIT_IO_RSI,                 0x6404, WNAT)                                               \
    X(EXIT_IO_RDI,                 0x6406, WNAT)                                               \
    X(EXIT_IO_RIP,                 0x6408, WNAT)                                               \
    X(EXIT_GLA,                    0x640a, WNAT) /* "guest-linear address" */                  \
    /* B.4.3 natural-width guest-state fields */                                               \
    X(GUEST_CR0,                   0x6800, WNAT)                                               \
    X(GUEST_CR3,                   0x6802, WNAT)                                               \
    X(GUEST_CR4,                   0x6804, WNAT)                                               \
    X(GUEST_ES_BASE,               0x6806, WNAT)                                               \
    X(GUEST_CS_BASE,               0x6808, WNAT)                                               \
    X(GUEST_SS_BASE,               0x680a, WNAT)                                               \
    X(GUEST_DS_BASE,               0x680c, WNAT)                                               \
    X(GUEST_FS_BASE,               0x680e, WNAT)                                               \
    X(GUEST_GS_BASE,               0x6810, WNAT)                                               \
    X(GUEST_LDTR_BASE,             0x6812, WNAT)                                               \
    X(GUEST_TR_BASE,               0x6814, WNAT)                                               \
    X(GUEST_GDTR_BASE,             0x6816, WNAT)                                               \
    X(GUEST_IDTR_BASE,             0x6818, WNAT)                                               \
    X(GUEST_DR7,                   0x681a, WNAT)                                               \
    X(GUEST_RSP,                   0x681c, WNAT)                                               \
    X(GUEST_RIP,                   0x681e, WNAT)                                               \
    X(GUEST_RFLAGS,                0x6820, WNAT)                                               \
    X(GUEST_PENDING_DBG,           0x6822, WNAT)                                               \
    X(GUEST_IA32_SYSENTER_ESP,     0x6824, WNAT)                                               \
    X(GUEST_IA32_SYSENTER_EIP,     0x6826, WNAT)                                               \
    /* B.4.4 natural-width host-state fields */                                                \
    X(HOST_CR0,                    0x6c00, WNAT)                                               \
    X(HOST_CR3,                    0x6c02, WNAT)                                               \
    X(HOST_CR4,                    0x6c04, WNAT)                                               \
    X(HOST_FS_BASE,                0x6c06, WNAT)                                               \
    X(HOST_GS_BASE,                0x6c08, WNAT)                                               \
    X(HOST_TR_BASE,                0x6c0a, WNAT)                                               \
    X(HOST_GDTR_BASE,              0x6c0c, WNAT)                                               \
    X(HOST_IDTR_BASE,              0x6c0e, WNAT)                                               \
    X(HOST_IA32_SYSENTER_ESP,      0x6c10, WNAT)                                               \
    X(HOST_IA32_SYSENTER_EIP,      0x6c12, WNAT)                                               \
    X(HOST_RSP,                    0x6c14, WNAT)                                               \
    X(HOST_RIP,                    0x6c16, WNAT)

/* VMCS_<name> = encoding. */
enum vmcs_field {
#define VMCS_X_ENUM(name, enc, width) VMCS_##name = enc,
    VMCS_FIELDS(VMCS_X_ENUM)
#undef VMCS_X_ENUM
};

/* VMCS_WIDTH_<name> = its declared width (VMCS_W16 .. VMCS_WNAT). */
enum vmcs_field_width {
#define VMCS_X_WIDTH(name, enc, width) VMCS_WIDTH_##name = VMCS_##width,
    VMCS_FIELDS(VMCS_X_WIDTH)
#undef VMCS_X_WIDTH
};

/* The encodings vmx/vmx_entry.asm uses, pinned here so the assembly cannot drift. */
#define VMCS_ENC_HOST_RSP 0x6c14
_Static_assert(VMCS_HOST_RSP == VMCS_ENC_HOST_RSP, "vmx_entry.asm writes HOST_RSP by number");

#endif
