// SPDX-License-Identifier: Apache-2.0
// Running a VT-x vCPU: entering through vmx_entry.asm, translating VMX exits into struct vm_exit
// (SDM vol. 3C appendix C, 28.2 "Recording VM-Exit Information"), and completing the exits that
// exist only because of the backend's own CR0/CR4/CR8 ownership. A CPUID exit costs four
// VMREADs here; everything else is read only for the kinds that need it.
#include "vmx/vmx_internal.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_insn.h"
#include "kernel/panic.h"
#include "kernel/x86.h"

#define CR0_TS BIT(3)
#define CR0_CD BIT(30)
#define CR0_NW BIT(29)
#define CR4_PSE BIT(4)
#define CR4_VMXE BIT(13)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define EXC_UD 6
#define EXC_GP 13
#define LMSW_BITS 0xfull /* PE, MP, EM, TS (SDM vol. 2 "LMSW") */

/* raw_reason of a VMLAUNCH/VMRESUME that failed as an instruction (no exit happened). */
#define VMX_RAW_VMFAIL 0xffffffffull

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static void __attribute__((noinline)) set_rip_slow(struct vcpu *v, uint64_t rip)
{
    vmx_load_vmcs(v->arch);
    vmx_set_rip(v, rip);
}

/* Moving RIP past an instruction ends the one-instruction shadow of a preceding STI or MOV SS,
 * as retiring it would have (SDM vol. 3C 25.4.2, table "Format of Interruptibility State"). */
void vmx_set_rip(struct vcpu *v, uint64_t rip)
{
    struct vmx_vcpu *vx = v->arch;
    if (unlikely(!vmx_is_current(vx))) {
        set_rip_slow(v, rip);
        return;
    }
    vmcs_writenat(GUEST_RIP, rip);
    uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY);
    if (unlikely(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)))
        vmcs_write32(GUEST_INTERRUPTIBILITY, intr & ~(uint32_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* Exceptions that push an error code (SDM vol. 3A 6.15, table 6-1): #DF, #TS, #NP, #SS, #GP,
 * #PF, #AC; #CP too on CPUs whose VMX allows it (IA32_VMX_BASIC bit 56). */
#define ERRCODE_VECTORS (BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) | BIT(17))
#define VEC_CP 21

/* The entry checks of 27.2.1.3 decide the error-code bit, not the caller: a hardware exception
 * delivers one exactly when its vector has one and the guest is in protected mode. */
void vmx_inject(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    struct vmx_vcpu *vx = v->arch;
    vmx_make_current(vx);
    if (vector >= 32)
        panic("vmx: inject_exception of vector %u: exceptions are 0-31", vector);
    uint32_t type = vector == 2 ? INTR_TYPE_NMI : INTR_TYPE_HW_EXCEPTION;
    uint64_t with_code = ERRCODE_VECTORS | ((vmx_info.basic & VMX_BASIC_NO_ERRCODE_CHECK) ? BIT(VEC_CP) : 0);
    bool pe = !vx->unrestricted || (vmcs_readnat(GUEST_CR0) & CR0_PE);
    bool code = type == INTR_TYPE_HW_EXCEPTION && pe && (with_code & BIT(vector));
    uint32_t info = vector | (type << INTR_INFO_TYPE_SHIFT) | (code ? INTR_INFO_DELIVER_CODE : 0) |
                    INTR_INFO_VALID;
    if (code) /* bits 31:16 must be 0 (27.2.1.3) */
        vmcs_write32(ENTRY_EXCEPTION_ERROR_CODE, has_error ? error & 0xffff : 0);
    vmcs_write32(ENTRY_INTR_INFO, info);
}

/* An exit that interrupted the delivery of an event (IDT-vectoring information valid, SDM
 * vol. 3C 28.2.4) must deliver it again at the next entry, or the guest loses it (28.2.4,
 * "Information for VM Exits During Event Delivery"; 27.6 "Event Injection"). */
static void reinject_vectoring(void)
{
    uint32_t vect = vmcs_read32(IDT_VECTORING_INFO);
    if (likely(!(vect & INTR_INFO_VALID)))
        return;
    uint32_t type = (vect & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    if (vect & INTR_INFO_DELIVER_CODE)
        vmcs_write32(ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(IDT_VECTORING_ERROR_CODE));
    if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXC || type == INTR_TYPE_SW_EXCEPTION)
        vmcs_write32(ENTRY_INSTRUCTION_LEN, vmcs_read32(EXIT_INSTRUCTION_LEN));
    vmcs_write32(ENTRY_INTR_INFO, vect & INTR_INFO_REINJECT_MASK);
}

/* ---- control registers the host owns ---------------------------------------------------
 * With a bit set in a guest/host mask, a MOV to CR0/CR4 that would make it differ from the read
 * shadow exits (SDM vol. 3C 26.1.3 "Instructions That Cause VM Exits Conditionally"). The
 * backend completes such a write itself with the instruction's architectural effects (SDM vol.
 * 2 "MOV--Move to/from Control Registers", vol. 3A 4.1 and 9.8.5), keeping the host-owned bits
 * as VMX needs them. CR8 exits keep the guest off the host's task-priority register. */

enum cr_result { CR_DONE, CR_GP, CR_STOP };

static bool in_64bit_code(void)
{
    return (vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) && (vmcs_read32(GUEST_CS_AR) & AR_L);
}

/* A change to paging controls reloads the PDPTE registers when the result is PAE paging
 * outside IA-32e mode (SDM vol. 3A 4.4.1); failing that, the instruction raises #GP and
 * changes nothing, so this runs before anything is written. */
static bool reload_pdptes(struct vmx_vcpu *vx, uint64_t cr0, uint64_t cr4, uint64_t efer)
{
    if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA))
        return vmx_load_pdptes(vx, vmcs_readnat(GUEST_CR3));
    return true;
}

/* The guest's cached translations of its VPID go, as the instruction would flush them (SDM
 * vol. 3A 4.10.4.1); without a VPID every VM entry and exit flushes them anyway. */
static void flush_guest_tlb(const struct vmx_vcpu *vx)
{
    if (vx->vpid)
        vmx_invvpid(vmx_info.invvpid_single ? INVVPID_SINGLE_CONTEXT : INVVPID_ALL_CONTEXT, vx->vpid);
}

#define CR0_PAGING_BITS (CR0_PG | CR0_PE | CR0_WP | CR0_CD | CR0_NW)
#define CR4_PAGING_BITS (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP)

static enum cr_result guest_write_cr0(struct vmx_vcpu *vx, uint64_t val)
{
    uint64_t old = vmx_guest_cr0(vx);
    if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
        return CR_GP;
    uint64_t efer = vmcs_read64(GUEST_IA32_EFER);
    uint64_t cr4 = vmx_guest_cr4(vx);
    uint32_t entry = vmcs_read32(ENTRY_CONTROLS); /* exits store EFER.LMA in it (28.2) */
    if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
        /* Activating IA-32e mode (SDM vol. 3A 9.8.5). */
        if (!(cr4 & CR4_PAE) || (vmcs_read32(GUEST_CS_AR) & AR_L))
            return CR_GP;
        efer |= EFER_LMA;
        entry |= ENTRY_IA32E_GUEST;
    } else if (!(val & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
        /* Leaving it: only from compatibility mode (9.8.5.4). */
        if (vmcs_read32(GUEST_CS_AR) & AR_L)
            return CR_GP;
        efer &= ~EFER_LMA;
        entry &= ~(uint32_t)ENTRY_IA32E_GUEST;
    }
    /* Without unrestricted guest, VMX cannot run a guest with paging or protection off. */
    if (!vx->unrestricted && (~val & (CR0_PE | CR0_PG)))
        return CR_STOP;
    bool paging = (old ^ val) & CR0_PAGING_BITS;
    if (paging && !reload_pdptes(vx, val, cr4, efer))
        return CR_GP;
    vmcs_writenat(GUEST_CR0, (val | vx->cr0_must1) & ~vx->cr0_must0);
    vmcs_writenat(CR0_READ_SHADOW, val);
    vx->cr0_shadow = val;
    vmcs_write64(GUEST_IA32_EFER, efer);
    vmcs_write32(ENTRY_CONTROLS, entry);
    if (paging)
        flush_guest_tlb(vx);
    return CR_DONE;
}

static enum cr_result guest_write_cr4(struct vmx_vcpu *vx, uint64_t val)
{
    uint64_t old = vmx_guest_cr4(vx);
    uint64_t efer = vmcs_read64(GUEST_IA32_EFER);
    /* VMXE stays hidden: the guest is told (by CPUID) there is no VMX, so setting it faults. */
    if (val & (CR4_VMXE | ~vmx_info.cr4_fixed1))
        return CR_GP;
    if ((efer & EFER_LMA) && !(val & CR4_PAE))
        return CR_GP;
    bool paging = (old ^ val) & CR4_PAGING_BITS;
    if (paging && !reload_pdptes(vx, vmx_guest_cr0(vx), val, efer))
        return CR_GP;
    vmcs_writenat(GUEST_CR4, val | vmx_info.cr4_fixed0 | CR4_VMXE);
    vmcs_writenat(CR4_READ_SHADOW, val);
    vx->cr4_shadow = val;
    if (paging)
        flush_guest_tlb(vx);
    return CR_DONE;
}

static enum cr_result cr_access(struct vcpu *v, struct vmx_vcpu *vx)
{
    uint64_t qual = vmcs_readnat(EXIT_QUALIFICATION);
    unsigned cr = qual & CR_QUAL_NUM_MASK;
    unsigned type = (unsigned)((qual & CR_QUAL_TYPE_MASK) >> CR_QUAL_TYPE_SHIFT);
    uint64_t *gpr = &v->regs.gpr[(qual & CR_QUAL_GPR_MASK) >> CR_QUAL_GPR_SHIFT];
    switch (type) {
    case CR_TYPE_MOV_TO: {
        uint64_t val = in_64bit_code() ? *gpr : (uint32_t)*gpr; /* 32-bit operand outside 64-bit mode */
        if (cr == 0)
            return guest_write_cr0(vx, val);
        if (cr == 4)
            return guest_write_cr4(vx, val);
        if (cr == 8) {
            if (val >> 4) /* CR8 bits 63:4 are reserved (SDM vol. 3A 2.5) */
                return CR_GP;
            vx->cr8 = val;
            return CR_DONE;
        }
        return CR_STOP;
    }
    case CR_TYPE_MOV_FROM:
        if (cr != 8)
            return CR_STOP;
        *gpr = vx->cr8;
        return CR_DONE;
    case CR_TYPE_CLTS:
        return guest_write_cr0(vx, vmx_guest_cr0(vx) & ~CR0_TS);
    default: { /* LMSW: loads PE, MP, EM, TS; cannot clear PE */
        uint64_t old = vmx_guest_cr0(vx);
        uint64_t src = (qual >> CR_QUAL_LMSW_SHIFT) & LMSW_BITS;
        return guest_write_cr0(vx, (old & ~LMSW_BITS) | src | (old & CR0_PE));
    }
    }
}

/* ---- exit translation ------------------------------------------------------------------ */

/* The exits that are neither frequent nor simple. Returns false when the backend has completed
 * the exit itself and the guest is to be entered again at once. */
static bool __attribute__((noinline)) translate_other(struct vcpu *v, struct vmx_vcpu *vx,
                                                      uint64_t reason, struct vm_exit *e)
{
    if (reason & EXIT_REASON_ENTRY_FAIL) {
        /* 27.8: invalid guest state (33), MSR loading (34), machine check (41). */
        e->kind = EXIT_ENTRY_FAIL; /* the VMCS stays as launched (or not) as it was */
        e->raw_qual = vmcs_readnat(EXIT_QUALIFICATION);
        return true;
    }
    vx->launched = 1;
    switch (reason & EXIT_REASON_BASIC_MASK) {
    case VMX_EXIT_EXTERNAL_INTR:
        /* Not acknowledged on exit: the interrupt is still pending at the local APIC and the
         * host takes it through its own IDT as soon as it enables interrupts. */
        reinject_vectoring();
        e->kind = EXIT_INTR;
        return true;
    case VMX_EXIT_EPT_VIOLATION: {
        /* 28.2.1, table "Exit Qualification for EPT Violations". The instruction length is
         * undefined for this exit: 0 tells the generic code to decode. */
        uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
        reinject_vectoring();
        e->kind = EXIT_NPF;
        e->raw_qual = q;
        e->u.npf.gpa = vmcs_read64(EXIT_GPA);
        e->u.npf.gla_valid = q & EPT_QUAL_GLA_VALID;
        e->u.npf.gla = e->u.npf.gla_valid ? vmcs_readnat(EXIT_GLA) : 0;
        e->u.npf.read = q & EPT_QUAL_READ;
        e->u.npf.write = q & EPT_QUAL_WRITE;
        e->u.npf.fetch = q & EPT_QUAL_FETCH;
        e->u.npf.present = q & (EPT_QUAL_READABLE | EPT_QUAL_WRITABLE | EPT_QUAL_EXECUTABLE);
        return true;
    }
    case VMX_EXIT_EPT_MISCONFIG:
        /* A malformed entry in Moat's own tables: stop the partition, say where. */
        e->kind = EXIT_UNKNOWN;
        e->raw_qual = vmcs_read64(EXIT_GPA);
        e->u.npf = (typeof(e->u.npf)){ .gpa = e->raw_qual };
        return true;
    case VMX_EXIT_TRIPLE_FAULT:
        e->kind = EXIT_SHUTDOWN;
        return true;
    case VMX_EXIT_EXCEPTION_NMI: {
        uint32_t info = vmcs_read32(EXIT_INTR_INFO);
        e->raw_qual = info;
        if (((info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == INTR_TYPE_NMI) {
            /* The NMI was the host's: hand it to the host's NMI handler through its IDT (vector 2,
             * on its IST stack), as if it had arrived in the host. The handler's IRET also lifts
             * any NMI blocking the exit left in place. */
            reinject_vectoring();
            __asm__ volatile("int $2" ::: "memory");
            e->kind = EXIT_INTR;
            return true;
        }
        e->kind = EXIT_UNKNOWN; /* the exception bitmap is 0: not expected */
        return true;
    }
    case VMX_EXIT_PREEMPTION_TIMER:
        vx->preempt_armed = 0; /* it reached 0: the next entry sets it again */
        e->kind = EXIT_PREEMPT;
        return true;
    case VMX_EXIT_INIT:
        e->kind = EXIT_INIT;
        return true;
    case VMX_EXIT_SIPI:
        e->kind = EXIT_SIPI;
        e->raw_qual = vmcs_readnat(EXIT_QUALIFICATION);
        e->u.sipi_vector = (uint8_t)e->raw_qual; /* 28.2.1: the SIPI vector in bits 7:0 */
        return true;
    case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMLAUNCH: case VMX_EXIT_VMPTRLD: case VMX_EXIT_VMPTRST:
    case VMX_EXIT_VMREAD: case VMX_EXIT_VMRESUME: case VMX_EXIT_VMWRITE: case VMX_EXIT_VMXOFF:
    case VMX_EXIT_VMXON: case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID: case VMX_EXIT_VMFUNC:
        /* VMX instructions exit unconditionally (26.1.2). The guest sees CR4.VMXE clear and no
         * VMX in CPUID: on hardware they would raise #UD, so they do here. */
        vmx_inject(v, EXC_UD, false, 0);
        return false;
    case VMX_EXIT_INVD:
        /* INVD exits unconditionally (26.1.2); dropping the guest's cached writes is not
         * something a guest may do to the host's caches: it retires as a no-op. */
        vmx_set_rip(v, e->rip + vmcs_read32(EXIT_INSTRUCTION_LEN));
        return false;
    case VMX_EXIT_CR_ACCESS:
        switch (cr_access(v, vx)) {
        case CR_DONE:
            vmx_set_rip(v, e->rip + vmcs_read32(EXIT_INSTRUCTION_LEN));
            return false;
        case CR_GP:
            vmx_inject(v, EXC_GP, true, 0);
            return false;
        case CR_STOP:
            break;
        }
        e->kind = EXIT_UNKNOWN;
        e->raw_qual = vmcs_readnat(EXIT_QUALIFICATION);
        return true;
    default:
        e->kind = EXIT_UNKNOWN;
        e->raw_qual = vmcs_readnat(EXIT_QUALIFICATION);
        return true;
    }
}

static void __attribute__((noinline)) entry_failed(uint32_t rc, struct vm_exit *e)
{
    /* VMLAUNCH/VMRESUME failed as an instruction (SDM vol. 3C 27.1-27.2): nothing was
     * entered. VMfailValid names the check in the VM-instruction error field. */
    e->kind = EXIT_ENTRY_FAIL;
    e->insn_len = 0;
    e->raw_reason = VMX_RAW_VMFAIL;
    e->raw_qual = rc == VMX_SWITCH_FAIL_VALID ? vmcs_read32(VM_INSTRUCTION_ERROR) : 0;
    e->rip = vmcs_readnat(GUEST_RIP);
}

/* The frequent instruction exits, translated inline (appendix C), by basic reason; EXIT_NONE:
 * translate_other() decides. */
static const uint8_t simple_kind[64] = {
    [VMX_EXIT_CPUID] = EXIT_CPUID,
    [VMX_EXIT_IO] = EXIT_IO,
    [VMX_EXIT_HLT] = EXIT_HLT,
    [VMX_EXIT_VMCALL] = EXIT_HYPERCALL,
    [VMX_EXIT_RDMSR] = EXIT_MSR_READ,
    [VMX_EXIT_WRMSR] = EXIT_MSR_WRITE,
};

/* What every exit needs read: the reason, RSP (into v->regs) and RIP. */
static inline uint64_t exit_common(struct vcpu *v, struct vmx_vcpu *vx, struct vm_exit *e)
{
    uint64_t reason = vmcs_read32(EXIT_REASON);
    vx->rsp = v->regs.gpr[GPR_RSP] = vmcs_readnat(GUEST_RSP);
    e->rip = vmcs_readnat(GUEST_RIP);
    e->raw_reason = reason;
    e->raw_qual = 0;
    return reason;
}

/* The instruction exits that need only their length. False for any other reason (an entry
 * failure, bit 31, is >= 64 too). */
static inline bool exit_simple(struct vcpu *v, struct vmx_vcpu *vx, uint64_t reason,
                               struct vm_exit *e)
{
    enum vm_exit_kind kind = reason < 64 ? simple_kind[reason] : EXIT_NONE;
    if (unlikely(kind == EXIT_NONE))
        return false;
    vx->launched = 1;
    e->kind = kind;
    e->insn_len = vmcs_read32(EXIT_INSTRUCTION_LEN);
    if (kind == EXIT_IO) {
        /* 28.2.1, table "Exit Qualification for I/O Instructions". */
        uint64_t q = vmcs_readnat(EXIT_QUALIFICATION);
        e->raw_qual = q;
        e->u.io.port = (uint16_t)(q >> IO_QUAL_PORT_SHIFT);
        e->u.io.size = (uint8_t)((q & IO_QUAL_SIZE_MASK) + 1);
        e->u.io.in = q & IO_QUAL_IN;
        e->u.io.string = q & IO_QUAL_STRING;
        e->u.io.rep = q & IO_QUAL_REP;
        return true;
    }
    e->u.msr.index = (uint32_t)v->regs.gpr[GPR_RCX]; /* RDMSR/WRMSR; harmless otherwise */
    return true;
}

static inline void sync_rsp(struct vcpu *v, struct vmx_vcpu *vx)
{
    uint64_t rsp = v->regs.gpr[GPR_RSP];
    if (rsp != vx->rsp) {
        vmcs_writenat(GUEST_RSP, rsp);
        vx->rsp = rsp;
    }
}

/* Every exit but the simple ones, entering again (a loop, not recursion) for as long as the
 * backend completes them itself. */
static void __attribute__((noinline)) finish_other(struct vcpu *v, struct vmx_vcpu *vx,
                                                   uint64_t reason, struct vm_exit *e)
{
    for (;;) {
        e->insn_len = 0;
        if (translate_other(v, vx, reason, e))
            return;
        sync_rsp(v, vx);
        vx->exit = e;
        struct vmx_switch_result r = vmx_world_switch(&v->regs, vx);
        if (unlikely(r.status != VMX_SWITCH_EXIT)) {
            entry_failed((uint32_t)r.status, e);
            return;
        }
        reason = exit_common(v, vx, e);
        if (exit_simple(v, vx, reason, e))
            return;
    }
}

/* vx's VMCS made current, GUEST_RSP brought up to date: then the fast path applies. */
static void __attribute__((noinline)) run_prepared(struct vcpu *v, struct vm_exit *e)
{
    struct vmx_vcpu *vx = v->arch;
    vmx_make_current(vx);
    sync_rsp(v, vx);
    vmx_vcpu_run(v, e);
}

/* The hot path keeps nothing live across the world switch (it hands back regs, and vx holds
 * e) and leaves through tail calls, so it needs no callee-saved register of its own. */
void vmx_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
    struct vmx_vcpu *vx = v->arch;
    if (unlikely(!vmx_is_current(vx) || v->regs.gpr[GPR_RSP] != vx->rsp)) {
        run_prepared(v, e);
        return;
    }
    if (vmx_info.caps.preemption_timer &&
        (v->deadline_tsc != vx->preempt_armed || !vmx_info.preempt_saved)) {
        /* Counts down by one every 2^shift TSC cycles while the guest runs (26.5.1). */
        uint64_t now = rdtsc();
        uint64_t left = v->deadline_tsc > now ? (v->deadline_tsc - now) >> vmx_info.caps.preemption_timer_shift : 0;
        vmcs_write32(GUEST_PREEMPTION_TIMER, left > 0xffffffffu ? 0xffffffffu : (uint32_t)left);
        vx->preempt_armed = v->deadline_tsc;
    }
    vx->exit = e;
    struct vmx_switch_result r = vmx_world_switch(&v->regs, vx);
    v = (struct vcpu *)r.regs; /* regs is at offset 0 of struct vcpu */
    vx = v->arch;
    e = vx->exit;
    if (unlikely(r.status != VMX_SWITCH_EXIT)) {
        entry_failed((uint32_t)r.status, e);
        return;
    }
    uint64_t reason = exit_common(v, vx, e);
    if (unlikely(!exit_simple(v, vx, reason, e)))
        finish_other(v, vx, reason, e);
}
