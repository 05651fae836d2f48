// SPDX-License-Identifier: Apache-2.0
// State shared by the files of the VT-x backend (vmx.c: capabilities, enabling, VMCS setup;
// vmx_run.c: the run loop and exit translation; vmx_entry.asm: the world switch). Nothing
// outside vmx/ includes it: the generic core sees only vmx_ops (kernel/virt.h).
#ifndef VMX_VMX_INTERNAL_H
#define VMX_VMX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/percpu.h"
#include "kernel/s2pt.h"
#include "kernel/vcpu.h"
#include "kernel/virt.h"

/* What detect() found, published once by the first CPU to detect and read-only afterwards
 * (every later CPU must report the same, or it is refused). */
struct vmx_info {
    bool ready;
    uint64_t basic;
    uint32_t revision;
    uint64_t pin_cap, proc_cap, proc2_cap, exit_cap, entry_cap; /* TRUE_* where they exist */
    uint64_t misc, ept_vpid_cap;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    unsigned maxphyaddr;
    /* Control values every vCPU starts from, already fitted to the capability MSRs. */
    uint32_t pin, proc, proc2, exit, entry;
    bool unrestricted, vpid, invept_single, invvpid_single;
    bool preempt_saved;    /* the exit control "save VMX-preemption timer value" is on */
    struct s2pt_format ept;
    struct virt_caps caps;
};
extern struct vmx_info vmx_info;

/* Per physical CPU, written only by that CPU; percpu->virt_cpu points to it once VMX is on. */
struct vmx_cpu {
    struct vmx_vcpu *current;    /* whose VMCS is current here (VMPTRLD), NULL if none */
    uint64_t vmxon;              /* hpa of the VMXON region; 0: VMX is off on this CPU */
};
_Static_assert(offsetof(struct vmx_cpu, current) == 0, "vmx_is_current() compares at offset 0");
extern struct vmx_cpu vmx_cpus[MAX_CPUS];

/* The backend half of a vCPU (vcpu->arch): one zeroed page. Only its CPU touches it (a
 * vcpu_destroy on another CPU has the owner VMCLEAR it). */
struct vmx_vcpu {
    uint64_t host_rsp;     /* 0x00: HOST_RSP as last written into this VMCS (vmx_entry.asm) */
    uint8_t launched;      /* 0x08: VMRESUME from now on (vmx_entry.asm) */
    bool unrestricted;     /* "unrestricted guest" is on for this vCPU */
    uint16_t vpid;         /* 0: VPID off */
    uint32_t cpu;          /* index of the CPU this VMCS belongs to */
    uint64_t vmcs;         /* hpa of the VMCS */
    uint64_t io_bitmap[2]; /* hpa of I/O bitmaps A and B */
    uint64_t preempt_armed; /* the deadline (TSC) the VMCS's preemption timer counts to */
    uint64_t eptp;
    uint64_t rsp;          /* GUEST_RSP as the VMCS holds it (v->regs.gpr[GPR_RSP] is the truth) */
    struct vm_exit *exit;  /* where vcpu_run is to describe the exit it is waiting for */
    /* CR0/CR4: bits in the mask are the host's; the guest reads them from the shadow. */
    uint64_t cr0_mask, cr0_shadow, cr0_must1, cr0_must0;
    uint64_t cr4_mask, cr4_shadow;
    uint64_t cr8;          /* the guest's TPR (CR8 exits), not connected to any APIC */
    /* MSRs the VMCS does not hold and the host never uses: live in the CPU while this vCPU's
     * VMCS is current, saved here when another vCPU takes the CPU. */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
};
/* The world switch uses these offsets (vmx/vmx_entry.asm VX_HOST_RSP, VX_LAUNCHED). */
_Static_assert(offsetof(struct vmx_vcpu, host_rsp) == 0x00, "vmx_entry.asm VX_HOST_RSP");
_Static_assert(offsetof(struct vmx_vcpu, launched) == 0x08, "vmx_entry.asm VX_LAUNCHED");
_Static_assert(sizeof(struct vmx_vcpu) <= 4096, "struct vmx_vcpu lives in one page");

/* vmx_entry.asm: load the guest GPRs from regs (all but RSP), VMLAUNCH (vx->launched == 0) or
 * VMRESUME, and at the exit save them back. Returns 0 after a VM exit (or a VM-entry failure
 * reported as an exit), 1 for VMfailInvalid, 2 for VMfailValid (read VM_INSTRUCTION_ERROR).
 * Call it with interrupts disabled; it returns with them disabled (a VM exit clears RFLAGS). */
enum { VMX_SWITCH_EXIT = 0, VMX_SWITCH_FAIL_INVALID = 1, VMX_SWITCH_FAIL_VALID = 2 };
struct vmx_switch_result {
    uint64_t status;          /* rax */
    struct guest_gprs *regs;  /* rdx: the regs it was given, so the caller keeps nothing live */
};
struct vmx_switch_result vmx_world_switch(struct guest_gprs *regs, struct vmx_vcpu *vx);
/* HOST_RIP: where every VM exit lands (inside vmx_world_switch). */
void vmx_exit_landing(void);

/* Makes vx's VMCS current on this CPU (VMPTRLD) and swaps the live MSRs. Panics if vx belongs
 * to another CPU: a VMCS is never migrated. */
void vmx_load_vmcs(struct vmx_vcpu *vx);

/* Every accessor goes through this: the VMCS instructions act on whichever VMCS is current on
 * the CPU, so touching vx's fields needs vx's VMCS current here. Fast path: four instructions. */
static inline bool vmx_is_current(const struct vmx_vcpu *vx)
{
    const struct vmx_cpu *c;
    __asm__("movq %%gs:%c1, %0" : "=r"(c) : "i"(offsetof(struct percpu, virt_cpu)));
    return c->current == vx;
}
static inline void vmx_make_current(struct vmx_vcpu *vx)
{
    if (__builtin_expect(!vmx_is_current(vx), 0))
        vmx_load_vmcs(vx);
}

/* The guest's view of CR0 and CR4 (host-owned bits from the read shadows). */
uint64_t vmx_guest_cr0(const struct vmx_vcpu *vx);
uint64_t vmx_guest_cr4(const struct vmx_vcpu *vx);

/* Reads len bytes of guest-physical memory through the vCPU's EPT (host-physical memory is
 * identity-mapped). False if some byte is not readable in the EPT. */
bool vmx_read_gpa(const struct vmx_vcpu *vx, uint64_t gpa, void *buf, size_t len);

/* Loads the four PDPTEs of a PAE-paging guest (not IA-32e mode) from guest CR3 into the VMCS,
 * as MOV to CR0/CR3/CR4 would (SDM vol. 3A 4.4.1 "PDPTE Registers"). False if they cannot be
 * read or one that is present sets a reserved bit (the instruction then raises #GP). */
bool vmx_load_pdptes(const struct vmx_vcpu *vx, uint64_t cr3);

/* Sets up the injection of vector at the next entry (SDM vol. 3C 27.6 "Event Injection"). */
void vmx_inject(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);

/* The ops vmx_run.c provides. */
void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit);
void vmx_set_rip(struct vcpu *v, uint64_t rip);

#endif
