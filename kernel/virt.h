// SPDX-License-Identifier: Apache-2.0
// The one interface between Moat's generic core and a virtualization backend (vmx/ for Intel
// VT-x, svm/ for AMD-V). A backend turns hardware exits into struct vm_exit; the generic
// dispatcher (kernel/vmexit.c) acts on them. Nothing outside a backend asks which vendor runs.
#ifndef KERNEL_VIRT_H
#define KERNEL_VIRT_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "kernel/gpa_map.h"
#include "kernel/s2pt.h"

struct vcpu;
struct percpu;

/* Guest GPRs in x86 register-number order (SDM vol. 2 table 2-2: 0 RAX, 1 RCX, 2 RDX, 3 RBX,
 * 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15), so a decoded ModRM/REX register number indexes
 * it directly. The backend's world switch saves and loads all of them except RSP, which lives
 * in the VMCS/VMCB: the backend copies it into gpr[GPR_RSP] after each exit and back before
 * each entry (and SVM likewise RAX, kept in the VMCB). */
enum { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
       GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15, GPR_COUNT };
struct guest_gprs {
    uint64_t gpr[GPR_COUNT];
};
_Static_assert(sizeof(struct guest_gprs) == 128, "world-switch assembly uses 8 * index");

/* A segment register in the packed 12-bit attribute form of the AMD VMCB (APM vol. 2 15.5.1):
 * bits 7:0 = descriptor byte 5 (type, S, DPL, P), bits 11:8 = AVL, L, D/B, G. attr == 0 means
 * unusable (VMX's "unusable" bit, SDM vol. 3C 25.4.1); VMX converts (bits 11:8 -> 15:12). */
struct seg {
    uint16_t sel;
    uint16_t attr;
    uint32_t limit; /* byte granular, as loaded in the hidden part */
    uint64_t base;
};
#define SEG_ATTR_CODE64 0xa9b /* P, DPL0, S, code exec/read accessed, L=1, G=1 */
#define SEG_ATTR_CODE32 0xc9b /* P, DPL0, S, code exec/read accessed, D=1, G=1 */
#define SEG_ATTR_DATA32 0xc93 /* P, DPL0, S, data read/write accessed, D/B=1, G=1 */
#define SEG_ATTR_CODE16 0x09b /* P, DPL0, S, code exec/read accessed, 16-bit */
#define SEG_ATTR_DATA16 0x093 /* P, DPL0, S, data read/write accessed, 16-bit */
#define SEG_ATTR_TSS64  0x08b /* P, system type 1011b: busy 64-bit TSS */
#define SEG_ATTR_LDT    0x082 /* P, system type 0010b: LDT */

/* The complete architectural state a vCPU starts with (kernel/guest_entry.c builds it for the
 * entry modes; docs/guest-abi.md documents it). Control registers are the guest's view. */
struct guest_entry_state {
    uint64_t rip, rsp, rflags;
    uint64_t cr0, cr3, cr4, efer;
    struct seg cs, ds, es, fs, gs, ss, tr, ldtr;
    uint64_t gdtr_base, idtr_base;
    uint32_t gdtr_limit, idtr_limit;
    struct guest_gprs regs; /* initial GPRs (RSP ignored: rsp above wins) */
};

/* Generic exit kinds. The dispatcher has one handler per kind. */
enum vm_exit_kind {
    EXIT_NONE = 0,
    EXIT_CPUID,      /* leaf/subleaf in RAX/RCX */
    EXIT_IO,         /* u.io */
    EXIT_MSR_READ,   /* u.msr.index (= RCX) */
    EXIT_MSR_WRITE,  /* u.msr.index, value in EDX:EAX */
    EXIT_HLT,
    EXIT_NPF,        /* EPT violation / nested page fault: u.npf */
    EXIT_HYPERCALL,  /* VMCALL (Intel) or VMMCALL (AMD): ABI in docs/guest-abi.md */
    EXIT_SHUTDOWN,   /* triple fault: the guest is dead */
    EXIT_INTR,       /* a host interrupt arrived; the host has taken (or will take) it */
    EXIT_PREEMPT,    /* the backend's preemption timer fired */
    EXIT_INIT,       /* INIT signal (other CPUs of the same partition, later) */
    EXIT_SIPI,       /* u.sipi_vector */
    EXIT_ENTRY_FAIL, /* the CPU refused the guest state: a Moat bug or a state the guest made */
    EXIT_UNKNOWN,    /* any other reason: raw_reason says which; the partition is stopped */
    EXIT_KIND_COUNT
};

struct vm_exit {
    enum vm_exit_kind kind;
    /* Length of the exiting instruction when the hardware reports it (VMX exit instruction
     * length, SVM next_rip - rip with NRIPS), else 0: the generic code then decodes it. */
    uint32_t insn_len;
    uint64_t raw_reason; /* VMX basic exit reason / SVM EXITCODE, for diagnostics */
    uint64_t raw_qual;   /* VMX exit qualification / SVM EXITINFO1 */
    uint64_t rip;        /* guest RIP of the exiting instruction */
    union {
        struct {
            uint16_t port;
            uint8_t size;  /* 1, 2 or 4 bytes */
            bool in;       /* IN/INS: the guest reads */
            bool string;   /* INS/OUTS */
            bool rep;      /* with a REP prefix */
        } io;
        struct {
            uint32_t index;
        } msr;
        struct {
            gpa_t gpa;
            uint64_t gla;   /* guest-linear address, when gla_valid */
            bool gla_valid;
            bool read, write, fetch;
            bool present;   /* the translation existed but did not allow the access */
        } npf;
        uint8_t sipi_vector;
    } u;
};

/* What the CPU can do, found by detect(). Optional features are used when present. */
struct virt_caps {
    bool unrestricted_guest; /* VMX: real mode and paging-off guests; SVM: always true */
    bool nrips;              /* SVM next_rip; VMX always reports lengths (true) */
    bool tagged_tlb;         /* VPID / ASIDs */
    bool flush_by_asid;      /* SVM */
    bool preemption_timer;   /* VMX preemption timer */
    uint32_t preemption_timer_shift; /* the timer counts down every 2^shift TSC cycles */
    uint32_t asid_count;     /* SVM: number of ASIDs */
};

struct virt_ops {
    const char *name; /* "Intel VT-x" or "AMD-V" */
    /* Detect support on this CPU without changing anything. On failure returns false and
     * writes into why a sentence for the user: what is missing and how to fix it. */
    bool (*detect)(struct virt_caps *caps, char *why, size_t len);
    /* Turn virtualization on for this CPU (IA32_FEATURE_CONTROL/VMXON, or EFER.SVME and the
     * host save area). Returns false with a sentence in why. */
    bool (*cpu_enable)(struct percpu *cpu, char *why, size_t len);
    /* The second-level page-table format of this CPU, for kernel/s2pt.c. */
    int (*s2pt_format)(struct s2pt_format *f);
    /* Make the control structures of v (VMCS or VMCB, bitmaps) for the partition's stage-2
     * root and the given start state. Called on the CPU that will run v. */
    bool (*vcpu_init)(struct vcpu *v, uint64_t s2pt_root, const struct guest_entry_state *st,
                      char *why, size_t len);
    /* Enter v and return at its next exit, described in *exit. v->regs are live around it. */
    void (*vcpu_run)(struct vcpu *v, struct vm_exit *exit);
    /* Move the guest's RIP (skipping an instruction); the exit's RIP is in struct vm_exit. */
    void (*set_rip)(struct vcpu *v, uint64_t rip);
    /* Raise an exception in the guest at the next entry (e.g. #GP(0) for a refused MSR). */
    void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
    /* Guest control state needed to read its memory and decode at RIP. */
    void (*get_sregs)(struct vcpu *v, struct guest_entry_state *out);
    /* MSRs whose guest value lives in the VMCS/VMCB (EFER, PAT, FS/GS base, KERNEL_GS_BASE,
     * SYSENTER_CS/ESP/EIP; on SVM also STAR, LSTAR, CSTAR, SFMASK). The generic MSR policy
     * decides what a guest may touch and calls these for the values; they return false for an
     * index the backend does not hold (the generic code then injects #GP). msr_set validates
     * the value (e.g. reserved EFER bits, PAT types) and returns false to refuse it; guest
     * EFER as seen by the guest never shows SVME. */
    bool (*msr_get)(struct vcpu *v, uint32_t index, uint64_t *value);
    bool (*msr_set)(struct vcpu *v, uint32_t index, uint64_t value);
    /* Release what vcpu_init allocated (the vCPU is not running anywhere). */
    void (*vcpu_destroy)(struct vcpu *v);
    /* Let v's guest access ports [port, port + count) without exits (a passed-through
     * device). After vcpu_init, on v's CPU, before it runs. */
    void (*allow_io)(struct vcpu *v, uint16_t port, uint16_t count);
};

/* Chosen once at boot by virt_select(); NULL until then. */
extern const struct virt_ops *virt;
extern struct virt_caps virt_caps;

/* The backends' descriptors. */
extern const struct virt_ops vmx_ops;
extern const struct virt_ops svm_ops;
#endif
