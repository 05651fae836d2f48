// SPDX-License-Identifier: Apache-2.0
// Turning an SVM #VMEXIT (EXITCODE, EXITINFO1/2, next_rip: APM vol. 2 appendix C "SVM Intercept
// Exit Codes") into the generic struct vm_exit. Pure and inline: it runs on every exit, so the
// run loop in svm/svm.c compiles it in place; tests/unit/test_vmcb.c drives it directly.
#ifndef SVM_SVM_EXIT_H
#define SVM_SVM_EXIT_H

#include "svm/vmcb.h"

/* Length of an instruction that ran from rip to next, or 0 (not known) if implausible
 * (an x86 instruction is 1 to 15 bytes, APM vol. 3 1.1 "Instruction Encoding Overview"). */
static inline uint32_t svm_insn_len(uint64_t rip, uint64_t next)
{
    uint64_t n = next - rip;
    return n >= 1 && n <= 15 ? (uint32_t)n : 0;
}

/* Turns the exit recorded in vmcb into *exit. gprs supplies RCX for MSR exits; nrips says
 * whether next_rip is valid. Returns true for the SVM instructions (VMRUN, VMLOAD, VMSAVE,
 * STGI, CLGI, SKINIT, INVLPGA) that a guest without SVM must see #UD for: the caller injects
 * it and resumes instead of reporting the exit. */
static inline bool svm_exit_decode(const struct vmcb *vmcb, const struct guest_gprs *gprs,
                                   bool nrips, struct vm_exit *exit)
{
    const struct vmcb_control *c = &vmcb->ctl;
    uint64_t code = c->exitcode;
    uint64_t info1 = c->exitinfo1;
    uint64_t rip = vmcb->save.rip;
    exit->raw_reason = code;
    exit->raw_qual = info1;
    exit->rip = rip;
    exit->insn_len = 0;

    switch (code) {
    case SVM_EXIT_CPUID:
        exit->kind = EXIT_CPUID;
        break;
    case SVM_EXIT_HLT:
        exit->kind = EXIT_HLT;
        break;
    case SVM_EXIT_VMMCALL:
        exit->kind = EXIT_HYPERCALL;
        break;
    case SVM_EXIT_MSR: /* EXITINFO1: 0 RDMSR, 1 WRMSR (15.11) */
        if (info1 > 1) {
            exit->kind = EXIT_UNKNOWN;
            return false;
        }
        exit->kind = info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
        exit->u.msr.index = (uint32_t)gprs->gpr[GPR_RCX];
        break;
    case SVM_EXIT_IOIO: {
        uint8_t size = (info1 & IOIO_SZ32) ? 4 : (info1 & IOIO_SZ16) ? 2
                     : (info1 & IOIO_SZ8) ? 1 : 0;
        if (!size) {
            exit->kind = EXIT_UNKNOWN;
            return false;
        }
        exit->kind = EXIT_IO;
        exit->u.io.port = (uint16_t)(info1 >> IOIO_PORT_SHIFT);
        exit->u.io.size = size;
        exit->u.io.in = info1 & IOIO_TYPE_IN;
        exit->u.io.string = info1 & IOIO_STR;
        exit->u.io.rep = info1 & IOIO_REP;
        /* EXITINFO2 is the RIP of the next instruction, with or without NRIPS (15.10.2). */
        exit->insn_len = svm_insn_len(rip, c->exitinfo2);
        return false;
    }
    case SVM_EXIT_NPF:
        /* A reserved bit in the nested tables is Moat's bug (like an EPT misconfiguration),
         * not an access to emulate: report it raw. */
        if (info1 & NPF_RSVD) {
            exit->kind = EXIT_UNKNOWN;
            return false;
        }
        exit->kind = EXIT_NPF;
        exit->u.npf.gpa = c->exitinfo2;
        exit->u.npf.gla = 0;
        exit->u.npf.gla_valid = false; /* SVM reports no guest-linear address */
        exit->u.npf.fetch = info1 & NPF_ID;
        exit->u.npf.write = (info1 & NPF_RW) && !(info1 & NPF_ID);
        exit->u.npf.read = !(info1 & (NPF_RW | NPF_ID));
        exit->u.npf.present = info1 & NPF_P;
        return false;
    case SVM_EXIT_INTR:
    case SVM_EXIT_NMI: /* still pending: taken through the host IDT once GIF is set */
        exit->kind = EXIT_INTR;
        return false;
    case SVM_EXIT_INIT:
        exit->kind = EXIT_INIT;
        return false;
    case SVM_EXIT_SHUTDOWN:
        exit->kind = EXIT_SHUTDOWN;
        return false;
    case SVM_EXIT_VMRUN:
    case SVM_EXIT_VMLOAD:
    case SVM_EXIT_VMSAVE:
    case SVM_EXIT_STGI:
    case SVM_EXIT_CLGI:
    case SVM_EXIT_SKINIT:
    case SVM_EXIT_INVLPGA:
        exit->kind = EXIT_UNKNOWN;
        return true;
    default:
        /* VMEXIT_INVALID (-1) and the other negative codes: VMRUN did not enter. QEMU
         * writes them as 32-bit values (0xffffffff): the sign of the low half decides. */
        exit->kind = (int32_t)(uint32_t)code < 0 ? EXIT_ENTRY_FAIL : EXIT_UNKNOWN;
        return false;
    }
    /* Instruction intercepts: with NRIPS the CPU saved the next RIP (15.7.1). */
    if (nrips)
        exit->insn_len = svm_insn_len(rip, c->next_rip);
    return false;
}

#endif
