// SPDX-License-Identifier: Apache-2.0
// Intel VT-x behind kernel/virt.h (Intel SDM vol. 3C chapters 24-29, vol. 3D appendices A-C):
// detecting and enabling VMX on each CPU, building a vCPU's VMCS (controls, host state, guest
// state from struct guest_entry_state), the guest-state and MSR accessors. The run loop and
// exit translation are in vmx_run.c; the EPT entry format in ept.c.
#include <stdio.h>
#include <string.h>
#include "vmx/vmx_internal.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_insn.h"
#include "vmx/ept.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

#define CR0_CD BIT(30)
#define CR0_NW BIT(29)
#define CR4_VMXE BIT(13)
#define CR4_PCIDE BIT(17)
#define PAT_POWER_ON UINT64_C(0x0007040600070406) /* SDM vol. 3A 11.12.4 "Programming the PAT" */
#define DR7_POWER_ON 0x400                        /* SDM vol. 3B 18.2.4: bit 10 reads as 1 */
#define RFLAGS_FIXED1 BIT(1)
/* Bits 63:22, 15, 5 and 3 of RFLAGS are reserved and must be 0 at VM entry (SDM vol. 3C
 * 27.3.1.4 "Checks on Guest RIP, RFLAGS, and SSP"). */
#define RFLAGS_RESERVED (GENMASK(63, 22) | BIT(15) | BIT(5) | BIT(3))
#define EFER_ALLOWED (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE) /* SDM vol. 4 table 2-2 */
#define SEG_ATTR_L  BIT(9)  /* struct seg attr (kernel/virt.h): descriptor L, 64-bit code */
#define SEG_ATTR_DB BIT(10) /* descriptor D/B */

struct vmx_info vmx_info;
struct vmx_cpu vmx_cpus[MAX_CPUS];
static struct spinlock vmx_lock = SPINLOCK_INIT; /* publishing vmx_info */
static uint32_t vpid_next = 1;                   /* VPID 0 is the host's (SDM vol. 3C 29.1) */

static bool refuse(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return false;
}

/* A zeroed page for a VMX structure (VMXON region, VMCS, struct vmx_vcpu), or 0. They must lie
 * below 4 GiB on CPUs with IA32_VMX_BASIC bit 48 (SDM vol. 3D A.1). */
static hpa_t vmx_alloc_page(void)
{
    uint64_t below = (vmx_info.basic & VMX_BASIC_ADDR32) ? (UINT64_C(1) << 32) : 0;
    hpa_t pa = frames_alloc(1, PAGE_SIZE, below);
    if (pa == PMM_NONE)
        return 0;
    memset(hpa_to_ptr(pa), 0, PAGE_SIZE);
    return pa;
}

/* ---- detect ------------------------------------------------------------------------ */

/* Fits one control word, or explains which bit is in the way. */
static bool fit(const char *what, uint64_t cap, uint32_t want, uint32_t forbid, uint32_t *out,
                char *why, size_t len)
{
    uint32_t bad;
    if (vmx_ctl_adjust(cap, want, forbid, out, &bad))
        return true;
    unsigned bit = vmx_lowest_bit(bad);
    if (want & bad)
        return refuse(why, len, "this CPU's VT-x cannot set %s control bit %u (SDM vol. 3C 25.6-25.8), "
                      "which Moat requires", what, bit);
    return refuse(why, len, "this CPU's VT-x forces %s control bit %u on (SDM vol. 3D A.3-A.5); "
                  "Moat does not handle the exits it causes", what, bit);
}

static bool vmx_probe(struct vmx_info *in, char *why, size_t len)
{
    memset(in, 0, sizeof(*in));
    if (!(cpuid(1, 0).ecx & BIT(5)))
        return refuse(why, len, "this CPU has no Intel VT-x (CPUID.1:ECX.VMX = 0); under another "
                      "hypervisor, enable nested virtualization for this VM");
    /* SDM vol. 3C 24.7 "Enabling and Entering VMX Operation". */
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMXON_OUTSIDE))
        return refuse(why, len, "Intel VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked): "
                      "enable Intel Virtualization Technology in the firmware setup");

    in->basic = rdmsr(MSR_IA32_VMX_BASIC);
    in->revision = (uint32_t)(in->basic & VMX_BASIC_REVISION_MASK);
    uint64_t size = (in->basic & VMX_BASIC_SIZE_MASK) >> VMX_BASIC_SIZE_SHIFT;
    uint64_t memtype = (in->basic & VMX_BASIC_MEMTYPE_MASK) >> VMX_BASIC_MEMTYPE_SHIFT;
    if (size == 0 || size > PAGE_SIZE)
        return refuse(why, len, "IA32_VMX_BASIC reports a %lu-byte VMCS; Moat supports at most 4096",
                      size);
    if (memtype != VMX_BASIC_MEMTYPE_WB)
        return refuse(why, len, "IA32_VMX_BASIC reports VMCS memory type %lu; Moat needs write-back (6)",
                      memtype);

    /* With bit 55 the TRUE MSRs report which default-1 controls may be 0 (A.2). */
    bool true_ctls = in->basic & VMX_BASIC_TRUE_CTLS;
    in->pin_cap = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
    in->proc_cap = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
    in->exit_cap = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
    in->entry_cap = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
    in->misc = rdmsr(MSR_IA32_VMX_MISC);
    in->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    in->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    in->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    in->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);

    /* The secondary controls and the EPT capability MSR exist only when the CPU says so
     * (A.3.3, A.10). */
    if (vmx_ctl_allowed(in->proc_cap, PROC_SECONDARY))
        in->proc2_cap = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
    if (!vmx_ctl_allowed(in->proc2_cap, PROC2_EPT))
        return refuse(why, len, "this CPU has VT-x but no EPT (extended page tables), which Moat requires");
    in->ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
    if (!(in->ept_vpid_cap & EPT_VPID_CAP_WALK_4) || !(in->ept_vpid_cap & EPT_VPID_CAP_MT_WB))
        return refuse(why, len, "this CPU's EPT has no 4-level walk with write-back tables "
                      "(IA32_VMX_EPT_VPID_CAP = 0x%lx), which Moat requires", in->ept_vpid_cap);
    if (!(in->ept_vpid_cap & EPT_VPID_CAP_INVEPT) ||
        !(in->ept_vpid_cap & (EPT_VPID_CAP_INVEPT_SINGLE | EPT_VPID_CAP_INVEPT_ALL)))
        return refuse(why, len, "this CPU's EPT has no INVEPT (IA32_VMX_EPT_VPID_CAP = 0x%lx), "
                      "which Moat requires", in->ept_vpid_cap);
    in->invept_single = in->ept_vpid_cap & EPT_VPID_CAP_INVEPT_SINGLE;

    in->maxphyaddr = 36; /* SDM vol. 3A 4.1.4: when CPUID leaf 0x80000008 is absent */
    if (cpuid(0x80000000, 0).eax >= 0x80000008)
        in->maxphyaddr = cpuid(0x80000008, 0).eax & 0xff;
    int rc = ept_format_init(&in->ept, in->ept_vpid_cap, in->maxphyaddr);
    if (rc != S2PT_OK)
        return refuse(why, len, "this CPU's EPT cannot be used (%s; IA32_VMX_EPT_VPID_CAP = 0x%lx, "
                      "MAXPHYADDR %u)", s2pt_strerror(rc), in->ept_vpid_cap, in->maxphyaddr);

    /* Every exit Moat does not translate is left off (and refused if the CPU forces it);
     * the exits it needs are required. Chapter 26 lists what each control does. */
    if (!fit("pin-based VM-execution", in->pin_cap, PIN_EXT_INTR_EXITING | PIN_NMI_EXITING,
             PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER, &in->pin, why, len))
        return false;
    if (!fit("primary processor-based VM-execution", in->proc_cap,
             PROC_HLT_EXITING | PROC_IO_BITMAPS | PROC_CR8_LOAD_EXITING |
                 PROC_CR8_STORE_EXITING | PROC_SECONDARY,
             PROC_INTR_WINDOW | PROC_INVLPG_EXITING | PROC_MWAIT_EXITING | PROC_RDPMC_EXITING |
                 PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING |
                 PROC_TPR_SHADOW | PROC_NMI_WINDOW | PROC_MOV_DR_EXITING | PROC_UNCOND_IO_EXITING |
                 PROC_MTF | PROC_MSR_BITMAPS | PROC_MONITOR_EXITING | PROC_PAUSE_EXITING,
             &in->proc, why, len))
        return false;
    /* Without RDTSCP/INVPCID enabled the guest gets #UD for them even where CPUID shows them. */
    uint32_t proc2 = PROC2_EPT;
    proc2 |= vmx_ctl_allowed(in->proc2_cap, PROC2_RDTSCP) ? PROC2_RDTSCP : 0;
    proc2 |= vmx_ctl_allowed(in->proc2_cap, PROC2_INVPCID) ? PROC2_INVPCID : 0;
    if (!fit("secondary processor-based VM-execution", in->proc2_cap, proc2, 0, &in->proc2, why, len))
        return false;
    if (!fit("VM-exit", in->exit_cap,
             EXIT_HOST_ADDR64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT,
             EXIT_ACK_INTR | EXIT_LOAD_PERF_GLOBAL, &in->exit, why, len))
        return false;
    if (!fit("VM-entry", in->entry_cap, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT,
             ENTRY_SMM | ENTRY_LOAD_PERF_GLOBAL | ENTRY_IA32E_GUEST, &in->entry, why, len))
        return false;
    if (!vmx_ctl_allowed(in->entry_cap, ENTRY_IA32E_GUEST))
        return refuse(why, len, "this CPU's VT-x cannot enter 64-bit guests (VM-entry control "
                      "\"IA-32e mode guest\"), which Moat requires");

    in->unrestricted = vmx_ctl_allowed(in->proc2_cap, PROC2_UNRESTRICTED);
    /* VPIDs are used only with an INVVPID that can flush one of them or all. */
    in->vpid = vmx_ctl_allowed(in->proc2_cap, PROC2_VPID) &&
               (in->ept_vpid_cap & EPT_VPID_CAP_INVVPID) &&
               (in->ept_vpid_cap & (EPT_VPID_CAP_INVVPID_SINGLE | EPT_VPID_CAP_INVVPID_ALL));
    in->invvpid_single = in->ept_vpid_cap & EPT_VPID_CAP_INVVPID_SINGLE;
    /* The VMX-preemption timer bounds every entry by the scheduler's deadline, whatever the
     * guest does with interrupts (26.5.1 "VMX-Preemption Timer"); the host timer remains the
     * fallback where the CPU has none. */
    bool preempt = vmx_ctl_allowed(in->pin_cap, PIN_PREEMPTION_TIMER);
    if (preempt)
        in->pin |= PIN_PREEMPTION_TIMER;
    /* With "save VMX-preemption-timer value" the timer goes on counting from where an exit
     * left it, so it is rewritten only when the deadline changes (25.7.1). */
    in->preempt_saved = preempt && vmx_ctl_allowed(in->exit_cap, EXIT_SAVE_PREEMPT);
    if (in->preempt_saved)
        in->exit |= EXIT_SAVE_PREEMPT;
    in->caps = (struct virt_caps){
        .unrestricted_guest = in->unrestricted,
        .nrips = true, /* VMX reports the length of every instruction exit */
        .tagged_tlb = in->vpid,
        .flush_by_asid = false,
        .preemption_timer = preempt,
        .preemption_timer_shift = preempt ? (uint32_t)(in->misc & VMX_MISC_PREEMPT_SHIFT_MASK) : 0,
        .asid_count = 0,
    };
    return true;
}

/* Two CPUs of one machine must agree on everything vmx_info holds. */
static bool same_vmx(const struct vmx_info *a, const struct vmx_info *b)
{
    return a->basic == b->basic && a->pin_cap == b->pin_cap && a->proc_cap == b->proc_cap &&
           a->proc2_cap == b->proc2_cap && a->exit_cap == b->exit_cap &&
           a->entry_cap == b->entry_cap && a->ept_vpid_cap == b->ept_vpid_cap &&
           a->cr0_fixed0 == b->cr0_fixed0 && a->cr0_fixed1 == b->cr0_fixed1 &&
           a->cr4_fixed0 == b->cr4_fixed0 && a->cr4_fixed1 == b->cr4_fixed1 &&
           a->misc == b->misc && a->maxphyaddr == b->maxphyaddr;
}

static bool vmx_detect(struct virt_caps *caps, char *why, size_t len)
{
    struct vmx_info probed;
    struct vmx_info *in = &probed;
    if (!vmx_probe(in, why, len))
        return false;
    uint64_t f = spin_lock_irqsave(&vmx_lock);
    bool ok = true;
    if (!vmx_info.ready) {
        vmx_info = *in;
        __atomic_store_n(&vmx_info.ready, true, __ATOMIC_RELEASE);
    } else {
        ok = same_vmx(&vmx_info, in);
    }
    spin_unlock_irqrestore(&vmx_lock, f);
    if (!ok)
        return refuse(why, len, "this CPU's VT-x capabilities differ from the first CPU's; Moat "
                      "needs identical CPUs");
    *caps = vmx_info.caps;
    return true;
}

/* ---- cpu_enable ---------------------------------------------------------------------- */

static bool vmx_cpu_enable(struct percpu *cpu, char *why, size_t len)
{
    if (cpu != this_cpu())
        panic("vmx: cpu_enable for CPU %u called on CPU %u", cpu->index, this_cpu()->index);
    if (!__atomic_load_n(&vmx_info.ready, __ATOMIC_ACQUIRE))
        panic("vmx: cpu_enable before detect");
    struct vmx_cpu *c = &vmx_cpus[cpu->index];
    if (c->vmxon)
        return true;

    /* Firmware that leaves IA32_FEATURE_CONTROL unlocked (OVMF under Bochs) lets the OS
     * choose: allow VMXON outside SMX and lock it (SDM vol. 3C 24.7). */
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK)) {
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_VMXON_OUTSIDE | FEATURE_CONTROL_LOCK);
        fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    }
    if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE))
        return refuse(why, len, "Intel VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked): "
                      "enable Intel Virtualization Technology in the firmware setup");

    /* CR0 and CR4 in VMX operation: 1 where FIXED0 is 1, 0 where FIXED1 is 0 (A.7, A.8). */
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    if ((cr0 & ~vmx_info.cr0_fixed1) || (cr4 & ~(vmx_info.cr4_fixed1)))
        return refuse(why, len, "the host uses a CR0/CR4 bit VMX operation forbids (CR0 0x%lx, CR4 0x%lx)",
                      cr0, cr4);
    uint64_t new_cr0 = cr0 | vmx_info.cr0_fixed0;
    uint64_t new_cr4 = cr4 | vmx_info.cr4_fixed0 | CR4_VMXE;
    if (new_cr0 != cr0)
        write_cr0(new_cr0);
    write_cr4(new_cr4);

    hpa_t region = vmx_alloc_page();
    if (!region) {
        write_cr4(cr4);
        write_cr0(cr0);
        return refuse(why, len, "no memory left for the VMXON region of CPU %u", cpu->index);
    }
    *(volatile uint32_t *)hpa_to_ptr(region) = vmx_info.revision; /* 25.11.5 "VMXON Region" */
    if (!vmx_on(region)) {
        write_cr4(cr4);
        write_cr0(cr0);
        frames_free(region, 1);
        return refuse(why, len, "VMXON failed on CPU %u (another hypervisor may already use VT-x)",
                      cpu->index);
    }
    c->vmxon = region;
    c->current = NULL;
    cpu->virt_cpu = c;
    /* Nothing cached from before VMXON may survive (29.4.3.1). */
    if (vmx_info.ept_vpid_cap & EPT_VPID_CAP_INVEPT_ALL)
        vmx_invept(INVEPT_ALL_CONTEXT, 0);
    if (vmx_info.vpid && (vmx_info.ept_vpid_cap & EPT_VPID_CAP_INVVPID_ALL))
        vmx_invvpid(INVVPID_ALL_CONTEXT, 0);
    return true;
}

static int vmx_s2pt_format(struct s2pt_format *f)
{
    if (!__atomic_load_n(&vmx_info.ready, __ATOMIC_ACQUIRE))
        return S2PT_E_INVAL;
    *f = vmx_info.ept;
    return S2PT_OK;
}

/* ---- the current VMCS --------------------------------------------------------------- */

void vmx_load_vmcs(struct vmx_vcpu *vx)
{
    struct percpu *cpu = this_cpu();
    struct vmx_cpu *c = &vmx_cpus[cpu->index];
    if (c->current == vx)
        return;
    if (vx->cpu != cpu->index)
        panic("vmx: vCPU with the VMCS at 0x%lx belongs to CPU %u, used on CPU %u", vx->vmcs,
              vx->cpu, cpu->index);
    struct vmx_vcpu *old = c->current;
    if (old)
        old->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE); /* SWAPGS changes it without an exit */
    if (!vmx_ptrld(vx->vmcs))
        panic("vmx: VMPTRLD of 0x%lx failed on CPU %u", vx->vmcs, cpu->index);
    c->current = vx;
    wrmsr(MSR_STAR, vx->star);
    wrmsr(MSR_LSTAR, vx->lstar);
    wrmsr(MSR_CSTAR, vx->cstar);
    wrmsr(MSR_SFMASK, vx->sfmask);
    wrmsr(MSR_KERNEL_GS_BASE, vx->kernel_gs_base);
}

uint64_t vmx_guest_cr0(const struct vmx_vcpu *vx)
{
    return (vmcs_readnat(GUEST_CR0) & ~vx->cr0_mask) | (vx->cr0_shadow & vx->cr0_mask);
}

uint64_t vmx_guest_cr4(const struct vmx_vcpu *vx)
{
    return (vmcs_readnat(GUEST_CR4) & ~vx->cr4_mask) | (vx->cr4_shadow & vx->cr4_mask);
}

/* ---- guest memory through the EPT --------------------------------------------------- */

bool vmx_read_gpa(const struct vmx_vcpu *vx, uint64_t gpa, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        /* One 4-level walk per page (SDM vol. 3C 29.3.2); the tables are the host's memory. */
        uint64_t table = vx->eptp & vmx_info.ept.addr_mask;
        uint64_t page = 0, size = 0;
        for (int level = 3; level >= 0; level--) {
            unsigned shift = S2PT_PAGE_SHIFT + S2PT_BITS_PER_LEVEL * (unsigned)level;
            uint64_t e = ((const uint64_t *)hpa_to_ptr(table))[(gpa >> shift) & (S2PT_ENTRIES - 1)];
            if (!(e & EPT_R))
                return false;
            if (level == 0 || (e & EPT_PAGE_SIZE)) {
                size = UINT64_C(1) << shift;
                page = (e & vmx_info.ept.addr_mask & ~(size - 1)) | (gpa & (size - 1));
                break;
            }
            table = e & vmx_info.ept.addr_mask;
        }
        size_t chunk = (size_t)(size - (gpa & (size - 1)));
        if (chunk > len)
            chunk = len;
        memcpy(out, hpa_to_ptr(page), chunk);
        out += chunk;
        gpa += chunk;
        len -= chunk;
    }
    return true;
}

bool vmx_load_pdptes(const struct vmx_vcpu *vx, uint64_t cr3)
{
    /* PAE paging: CR3 bits 31:5 locate four 8-byte PDPTEs; in a present one, bits 2:1, 8:5
     * and those from MAXPHYADDR up are reserved (SDM vol. 3A 4.4.1, table 4-8). */
    uint64_t pdpte[4];
    if (!vmx_read_gpa(vx, cr3 & GENMASK(31, 5), pdpte, sizeof(pdpte)))
        return false;
    uint64_t rsvd = GENMASK(2, 1) | GENMASK(8, 5) | GENMASK(63, vmx_info.maxphyaddr);
    for (int i = 0; i < 4; i++)
        if ((pdpte[i] & 1) && (pdpte[i] & rsvd))
            return false;
    vmcs_write64(GUEST_PDPTE0, pdpte[0]);
    vmcs_write64(GUEST_PDPTE1, pdpte[1]);
    vmcs_write64(GUEST_PDPTE2, pdpte[2]);
    vmcs_write64(GUEST_PDPTE3, pdpte[3]);
    return true;
}

/* ---- vcpu_init ----------------------------------------------------------------------- */

/* The guest segment registers in VMCS order, with their four fields each (B.1.2, B.3.3,
 * B.4.3); widths are checked by the accessors through these names. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

static bool write_seg(unsigned i, const struct seg *s, uint32_t ar)
{
    bool ok = true;
#define SEG_CASE(N)                                                                            \
    case SEG_##N:                                                                              \
        ok &= vmcs_write16(GUEST_##N##_SEL, s->sel);                                           \
        ok &= vmcs_writenat(GUEST_##N##_BASE, s->base);                                        \
        ok &= vmcs_write32(GUEST_##N##_LIMIT, s->limit);                                       \
        ok &= vmcs_write32(GUEST_##N##_AR, ar);                                                \
        break;
    switch (i) {
    SEG_CASE(ES) SEG_CASE(CS) SEG_CASE(SS) SEG_CASE(DS) SEG_CASE(FS) SEG_CASE(GS)
    SEG_CASE(LDTR) SEG_CASE(TR)
    }
#undef SEG_CASE
    return ok;
}

static void read_seg(unsigned i, struct seg *s)
{
    uint32_t ar = 0;
#define SEG_CASE(N)                                                                            \
    case SEG_##N:                                                                              \
        s->sel = vmcs_read16(GUEST_##N##_SEL);                                                 \
        s->base = vmcs_readnat(GUEST_##N##_BASE);                                              \
        s->limit = vmcs_read32(GUEST_##N##_LIMIT);                                             \
        ar = vmcs_read32(GUEST_##N##_AR);                                                      \
        break;
    switch (i) {
    SEG_CASE(ES) SEG_CASE(CS) SEG_CASE(SS) SEG_CASE(DS) SEG_CASE(FS) SEG_CASE(GS)
    SEG_CASE(LDTR) SEG_CASE(TR)
    }
#undef SEG_CASE
    s->attr = vmx_attr_from_ar(ar);
}

/* Access rights for a segment of the entry state, completed where the architecture leaves no
 * choice (SDM vol. 3C 27.3.1.2 "Checks on Guest Segment Registers"): a usable code or data
 * segment has been accessed (type bit 0; loading it sets that bit anyway), and a loaded TR is
 * busy. A TR the entry state leaves unusable (real mode has none) becomes a busy 32-bit TSS at
 * 0 with limit 0xffff: TR must be usable at VM entry and the guest cannot tell. */
static uint32_t entry_ar(unsigned i, struct seg *s)
{
    uint32_t ar = vmx_ar_from_attr(s->attr);
    if (i == SEG_TR) {
        if (ar & AR_UNUSABLE) {
            *s = (struct seg){ .sel = 0, .attr = 0, .limit = 0xffff, .base = 0 };
            return AR_P | AR_TYPE_TSS_BUSY32;
        }
        return ar | BIT(1); /* type 1 -> 3, 9 -> 11 */
    }
    if (!(ar & AR_UNUSABLE) && (ar & AR_S))
        ar |= AR_TYPE_ACCESSED;
    return ar;
}

static const char *entry_mode_name(uint64_t cr0)
{
    return !(cr0 & CR0_PE) ? "real" : "protected without paging";
}

/* Refuses an entry state that no VMCS can express, with a sentence for the config author or
 * for the developer of kernel/guest_entry.c; the rest of 27.3.1 is met by construction. */
static bool check_entry_state(const struct guest_entry_state *st, bool *unrestricted, char *why,
                              size_t len)
{
    bool pe = st->cr0 & CR0_PE, pg = st->cr0 & CR0_PG, lma = st->efer & EFER_LMA;
    *unrestricted = !pe || !pg;
    if (*unrestricted && !vmx_info.unrestricted)
        return refuse(why, len, "guest entry mode %s needs unrestricted guest, which this CPU lacks; "
                      "use a 64-bit image", entry_mode_name(st->cr0));
    if (pg && !pe)
        return refuse(why, len, "guest entry state has CR0.PG without CR0.PE");
    if (st->cr0 & ~vmx_info.cr0_fixed1)
        return refuse(why, len, "guest entry CR0 0x%lx sets a bit VMX forbids", st->cr0);
    if ((st->cr0 & CR0_NW) && !(st->cr0 & CR0_CD))
        return refuse(why, len, "guest entry CR0 0x%lx has NW without CD", st->cr0);
    if (st->cr4 & (CR4_VMXE | ~vmx_info.cr4_fixed1))
        return refuse(why, len, "guest entry CR4 0x%lx sets VMXE or a bit this CPU cannot give a guest",
                      st->cr4);
    if (st->efer & ~EFER_ALLOWED)
        return refuse(why, len, "guest entry EFER 0x%lx sets a reserved bit", st->efer);
    if (lma && (!pg || !(st->cr4 & CR4_PAE) || !(st->efer & EFER_LME)))
        return refuse(why, len, "guest entry EFER.LMA needs CR0.PG, CR4.PAE and EFER.LME");
    if (!lma && pg && (st->efer & EFER_LME))
        return refuse(why, len, "guest entry state has paging and EFER.LME but not EFER.LMA");
    if (!lma && (st->cr4 & CR4_PCIDE))
        return refuse(why, len, "guest entry CR4.PCIDE outside long mode");
    if ((st->rflags & RFLAGS_RESERVED) || !(st->rflags & RFLAGS_FIXED1))
        return refuse(why, len, "guest entry RFLAGS 0x%lx has a reserved bit wrong", st->rflags);
    if (lma && (st->cs.attr & SEG_ATTR_L) && (st->cs.attr & SEG_ATTR_DB))
        return refuse(why, len, "guest entry CS has both L and D set");
    if ((!lma || !(st->cs.attr & SEG_ATTR_L)) && (st->rip >> 32))
        return refuse(why, len, "guest entry RIP 0x%lx is above 4 GiB outside 64-bit mode", st->rip);
    if (st->cs.attr == 0)
        return refuse(why, len, "guest entry CS is unusable");
    if (st->gdtr_limit > 0xffff || st->idtr_limit > 0xffff)
        return refuse(why, len, "guest entry GDTR/IDTR limit above 0xffff");
    return true;
}

static void vmx_vcpu_destroy(struct vcpu *v);

static uint16_t vpid_alloc(void)
{
    /* VPIDs are 16 bits and never 0 (SDM vol. 3C 27.2.1.1). When they run out, a vCPU goes
     * without: every entry and exit then flushes its TLB entries (29.1). */
    uint32_t id = __atomic_fetch_add(&vpid_next, 1, __ATOMIC_RELAXED);
    return id <= 0xffff ? (uint16_t)id : 0;
}

static bool vmx_vcpu_init(struct vcpu *v, uint64_t s2pt_root, const struct guest_entry_state *st,
                          char *why, size_t len)
{
    struct percpu *cpu = this_cpu();
    struct vmx_cpu *c = &vmx_cpus[cpu->index];
    if (!c->vmxon)
        return refuse(why, len, "VT-x is not enabled on CPU %u", cpu->index);
    bool unrestricted;
    if (!check_entry_state(st, &unrestricted, why, len))
        return false;
    uint64_t eptp;
    int rc = ept_eptp(&vmx_info.ept, s2pt_root, false, &eptp);
    if (rc != S2PT_OK)
        return refuse(why, len, "EPT root 0x%lx unusable (%s)", s2pt_root, s2pt_strerror(rc));

    /* I/O bitmaps A (ports 0-0x7fff) and B (0x8000-0xffff), all ones: every port access
     * exits until vmx_allow_io opens some (25.6.4 "I/O-Bitmap Addresses"). */
    hpa_t vx_page = vmx_alloc_page(), vmcs = vmx_alloc_page();
    hpa_t io_a = vmx_alloc_page(), io_b = vmx_alloc_page();
    if (!vx_page || !vmcs || !io_a || !io_b) {
        hpa_t pages[] = { vx_page, vmcs, io_a, io_b };
        for (unsigned i = 0; i < 4; i++)
            if (pages[i])
                frames_free(pages[i], 1);
        return refuse(why, len, "no memory left for a VMCS");
    }
    memset(hpa_to_ptr(io_a), 0xff, PAGE_SIZE);
    memset(hpa_to_ptr(io_b), 0xff, PAGE_SIZE);
    struct vmx_vcpu *vx = hpa_to_ptr(vx_page);
    v->arch_bytes = 4 * PAGE_SIZE;
    vx->vmcs = vmcs;
    vx->io_bitmap[0] = io_a;
    vx->io_bitmap[1] = io_b;
    vx->cpu = cpu->index;
    vx->eptp = eptp;
    vx->unrestricted = unrestricted;
    vx->vpid = vmx_info.vpid ? vpid_alloc() : 0;
    *(volatile uint32_t *)hpa_to_ptr(vx->vmcs) = vmx_info.revision; /* 25.2 "Format of the VMCS
                                                                      Region" */
    /* VMCLEAR initialises the launch state to "clear" (25.11.3). */
    if (!vmx_clear(vx->vmcs))
        panic("vmx: VMCLEAR of a fresh VMCS at 0x%lx failed", vx->vmcs);
    vmx_make_current(vx);
    v->arch = vx;

    /* CR0/CR4 ownership (25.6.6 "Guest/Host Masks and Read Shadows for CR0 and CR4"): the
     * host owns every bit VMX fixes (A.7, A.8; PE and PG are free with unrestricted guest,
     * 27.3.1.1) and CR4.VMXE, which the guest must never see set. */
    vx->cr0_must1 = vmx_info.cr0_fixed0 & ~(unrestricted ? CR0_PE | CR0_PG : 0);
    vx->cr0_must0 = ~vmx_info.cr0_fixed1;
    vx->cr0_mask = vx->cr0_must1 | vx->cr0_must0;
    vx->cr0_shadow = st->cr0;
    vx->cr4_mask = vmx_info.cr4_fixed0 | CR4_VMXE | ~vmx_info.cr4_fixed1;
    vx->cr4_shadow = st->cr4;

    bool lma = st->efer & EFER_LMA;
    uint32_t proc2 = vmx_info.proc2 | (unrestricted ? PROC2_UNRESTRICTED : 0) |
                     (vx->vpid ? PROC2_VPID : 0);
    bool ok = true;
    /* Controls (25.6-25.8). No MSR bitmap: every MSR access exits; the I/O bitmaps make
     * every port access exit but the ones a partition owns (serial passthrough). */
    ok &= vmcs_write32(PIN_CONTROLS, vmx_info.pin);
    ok &= vmcs_write64(IO_BITMAP_A, io_a);
    ok &= vmcs_write64(IO_BITMAP_B, io_b);
    ok &= vmcs_write32(PROC_CONTROLS, vmx_info.proc);
    ok &= vmcs_write32(PROC_CONTROLS2, proc2);
    ok &= vmcs_write32(EXIT_CONTROLS, vmx_info.exit);
    ok &= vmcs_write32(ENTRY_CONTROLS, vmx_info.entry | (lma ? ENTRY_IA32E_GUEST : 0));
    ok &= vmcs_write32(EXCEPTION_BITMAP, 0);
    ok &= vmcs_write32(PF_ERROR_CODE_MASK, 0);
    ok &= vmcs_write32(PF_ERROR_CODE_MATCH, 0);
    ok &= vmcs_write32(CR3_TARGET_COUNT, 0);
    ok &= vmcs_write32(EXIT_MSR_STORE_COUNT, 0);
    ok &= vmcs_write32(EXIT_MSR_LOAD_COUNT, 0);
    ok &= vmcs_write32(ENTRY_MSR_LOAD_COUNT, 0);
    ok &= vmcs_write32(ENTRY_INTR_INFO, 0);
    ok &= vmcs_write64(TSC_OFFSET, 0);
    ok &= vmcs_writenat(CR0_GUEST_HOST_MASK, vx->cr0_mask);
    ok &= vmcs_writenat(CR0_READ_SHADOW, vx->cr0_shadow);
    ok &= vmcs_writenat(CR4_GUEST_HOST_MASK, vx->cr4_mask);
    ok &= vmcs_writenat(CR4_READ_SHADOW, vx->cr4_shadow);
    ok &= vmcs_write64(EPT_POINTER, eptp);
    if (vx->vpid)
        ok &= vmcs_write16(VPID, vx->vpid);

    /* Host state (25.5 "Host-State Area", checked by 27.2.2-27.2.4): this CPU's own GDT, TSS
     * and per-CPU GS base; the exit lands in vmx_entry.asm with interrupts off. */
    struct desc_ptr idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    ok &= vmcs_writenat(HOST_CR0, read_cr0());
    ok &= vmcs_writenat(HOST_CR3, read_cr3());
    ok &= vmcs_writenat(HOST_CR4, read_cr4());
    ok &= vmcs_write16(HOST_CS_SEL, SEL_KCODE);
    ok &= vmcs_write16(HOST_SS_SEL, SEL_KDATA);
    ok &= vmcs_write16(HOST_DS_SEL, SEL_KDATA);
    ok &= vmcs_write16(HOST_ES_SEL, SEL_KDATA);
    ok &= vmcs_write16(HOST_FS_SEL, 0);
    ok &= vmcs_write16(HOST_GS_SEL, 0);
    ok &= vmcs_write16(HOST_TR_SEL, SEL_TSS);
    ok &= vmcs_writenat(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
    ok &= vmcs_writenat(HOST_GS_BASE, (uint64_t)cpu);
    ok &= vmcs_writenat(HOST_TR_BASE, (uint64_t)&cpu->tss);
    ok &= vmcs_writenat(HOST_GDTR_BASE, (uint64_t)cpu->gdt);
    ok &= vmcs_writenat(HOST_IDTR_BASE, idtr.base);
    ok &= vmcs_write32(HOST_IA32_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
    ok &= vmcs_writenat(HOST_IA32_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
    ok &= vmcs_writenat(HOST_IA32_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
    ok &= vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
    ok &= vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_EFER));
    ok &= vmcs_writenat(HOST_RIP, (uint64_t)vmx_exit_landing);
    vx->host_rsp = 0; /* vmx_entry.asm writes HOST_RSP at the first entry */

    /* Guest state (25.4 "Guest-State Area", checked by 27.3.1). */
    ok &= vmcs_writenat(GUEST_CR0, (st->cr0 | vx->cr0_must1) & ~vx->cr0_must0);
    ok &= vmcs_writenat(GUEST_CR3, st->cr3);
    ok &= vmcs_writenat(GUEST_CR4, st->cr4 | vmx_info.cr4_fixed0 | CR4_VMXE);
    ok &= vmcs_writenat(GUEST_DR7, DR7_POWER_ON);
    ok &= vmcs_writenat(GUEST_RSP, st->rsp);
    ok &= vmcs_writenat(GUEST_RIP, st->rip);
    ok &= vmcs_writenat(GUEST_RFLAGS, st->rflags);
    const struct seg *segs[SEG_COUNT] = { &st->es, &st->cs, &st->ss, &st->ds,
                                          &st->fs, &st->gs, &st->ldtr, &st->tr };
    for (unsigned i = 0; i < SEG_COUNT; i++) {
        struct seg s = *segs[i];
        uint32_t ar = entry_ar(i, &s);
        ok &= write_seg(i, &s, ar);
    }
    ok &= vmcs_writenat(GUEST_GDTR_BASE, st->gdtr_base);
    ok &= vmcs_write32(GUEST_GDTR_LIMIT, st->gdtr_limit);
    ok &= vmcs_writenat(GUEST_IDTR_BASE, st->idtr_base);
    ok &= vmcs_write32(GUEST_IDTR_LIMIT, st->idtr_limit);
    ok &= vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
    ok &= vmcs_write64(GUEST_IA32_PAT, PAT_POWER_ON);
    ok &= vmcs_write64(GUEST_IA32_EFER, st->efer);
    ok &= vmcs_write32(GUEST_IA32_SYSENTER_CS, 0);
    ok &= vmcs_writenat(GUEST_IA32_SYSENTER_ESP, 0);
    ok &= vmcs_writenat(GUEST_IA32_SYSENTER_EIP, 0);
    ok &= vmcs_write64(GUEST_VMCS_LINK_PTR, ~UINT64_C(0)); /* 27.3.1.5: no shadow VMCS */
    ok &= vmcs_write32(GUEST_INTERRUPTIBILITY, 0);
    ok &= vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    ok &= vmcs_writenat(GUEST_PENDING_DBG, 0);
    if (!ok) {
        uint32_t err = vmcs_read32(VM_INSTRUCTION_ERROR);
        panic("vmx: a VMWRITE while building the VMCS failed (VM-instruction error %u)", err);
    }
    /* PAE paging outside long mode: VM entry loads the PDPTEs from the VMCS (27.3.2.4). */
    if ((st->cr0 & CR0_PG) && (st->cr4 & CR4_PAE) && !lma && !vmx_load_pdptes(vx, st->cr3)) {
        vmx_vcpu_destroy(v);
        return refuse(why, len, "guest entry CR3 0x%lx: the PAE page-directory pointers are not "
                      "readable or set reserved bits", st->cr3);
    }

    /* The EPT root may be a page that held another tree before; the VPID may have been used
     * (29.4.3.1 "Operations that Invalidate Cached Mappings"). */
    vmx_invept(vmx_info.invept_single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT, eptp);
    if (vx->vpid)
        vmx_invvpid(vmx_info.invvpid_single ? INVVPID_SINGLE_CONTEXT : INVVPID_ALL_CONTEXT, vx->vpid);

    vx->rsp = st->rsp;
    v->regs = st->regs;
    v->regs.gpr[GPR_RSP] = st->rsp;
    v->cpu = cpu;
    return true;
}

/* VMCLEAR on the CPU that used the VMCS: it writes back what that CPU cached and leaves it
 * inactive, so its memory may be reused (SDM vol. 3C 25.11.1 "Software Use of the VMCS and
 * Related Structures"); and the CPU forgets it as its current VMCS. */
static void vmx_forget_here(struct vmx_vcpu *vx)
{
    struct vmx_cpu *c = &vmx_cpus[this_cpu()->index];
    if (!vmx_clear(vx->vmcs))
        panic("vmx: VMCLEAR of 0x%lx failed", vx->vmcs);
    if (c->current == vx)
        c->current = NULL;
}

struct forget_request {
    struct vmx_vcpu *vx;
    volatile bool done;
};

static void vmx_forget_work(void *arg)
{
    struct forget_request *r = arg;
    vmx_forget_here(r->vx);
    __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
    struct vmx_vcpu *vx = v->arch;
    if (!vx)
        return;
    if (vx->cpu == this_cpu()->index) {
        vmx_forget_here(vx);
    } else {
        /* The owner is idle (the vCPU runs nowhere): it takes the work from its idle loop. */
        struct forget_request r = { vx, false };
        smp_run_on(percpu_of[vx->cpu], vmx_forget_work, &r);
        while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
            cpu_relax();
    }
    frames_free(vx->vmcs, 1);
    frames_free(vx->io_bitmap[0], 1);
    frames_free(vx->io_bitmap[1], 1);
    frames_free(ptr_to_hpa(vx), 1);
    v->arch = NULL;
}

/* ---- guest state accessors ------------------------------------------------------------ */

static void vmx_get_sregs(struct vcpu *v, struct guest_entry_state *out)
{
    struct vmx_vcpu *vx = v->arch;
    vmx_make_current(vx);
    memset(out, 0, sizeof(*out));
    out->rip = vmcs_readnat(GUEST_RIP);
    out->rsp = v->regs.gpr[GPR_RSP];
    out->rflags = vmcs_readnat(GUEST_RFLAGS);
    out->cr0 = vmx_guest_cr0(vx);
    out->cr3 = vmcs_readnat(GUEST_CR3);
    out->cr4 = vmx_guest_cr4(vx);
    out->efer = vmcs_read64(GUEST_IA32_EFER);
    struct seg *segs[SEG_COUNT] = { &out->es, &out->cs, &out->ss, &out->ds,
                                    &out->fs, &out->gs, &out->ldtr, &out->tr };
    for (unsigned i = 0; i < SEG_COUNT; i++)
        read_seg(i, segs[i]);
    out->gdtr_base = vmcs_readnat(GUEST_GDTR_BASE);
    out->gdtr_limit = vmcs_read32(GUEST_GDTR_LIMIT);
    out->idtr_base = vmcs_readnat(GUEST_IDTR_BASE);
    out->idtr_limit = vmcs_read32(GUEST_IDTR_LIMIT);
    out->regs = v->regs;
}

/* Each byte of a PAT is a memory type: 0, 1, 4, 5, 6 or 7 (SDM vol. 3A 11.12.2). */
static bool pat_valid(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        uint8_t t = (uint8_t)(pat >> (8 * i));
        if (t > 7 || t == 2 || t == 3)
            return false;
    }
    return true;
}

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a; /* 48-bit linear addresses */
}

static bool vmx_msr_get(struct vcpu *v, uint32_t index, uint64_t *value)
{
    struct vmx_vcpu *vx = v->arch;
    vmx_make_current(vx);
    switch (index) {
    case MSR_EFER:              *value = vmcs_read64(GUEST_IA32_EFER); return true;
    case MSR_IA32_PAT:          *value = vmcs_read64(GUEST_IA32_PAT); return true;
    case MSR_FS_BASE:          *value = vmcs_readnat(GUEST_FS_BASE); return true;
    case MSR_GS_BASE:           *value = vmcs_readnat(GUEST_GS_BASE); return true;
    case MSR_IA32_SYSENTER_CS:  *value = vmcs_read32(GUEST_IA32_SYSENTER_CS); return true;
    case MSR_IA32_SYSENTER_ESP: *value = vmcs_readnat(GUEST_IA32_SYSENTER_ESP); return true;
    case MSR_IA32_SYSENTER_EIP: *value = vmcs_readnat(GUEST_IA32_SYSENTER_EIP); return true;
    case MSR_STAR:              *value = vx->star; return true;
    case MSR_LSTAR:             *value = vx->lstar; return true;
    case MSR_CSTAR:             *value = vx->cstar; return true;
    case MSR_SFMASK:            *value = vx->sfmask; return true;
    case MSR_KERNEL_GS_BASE:    *value = rdmsr(MSR_KERNEL_GS_BASE); return true; /* live */
    default:                    return false;
    }
}

/* A WRMSR the hardware would refuse with #GP returns false (SDM vol. 4 for each MSR). */
static bool vmx_msr_set(struct vcpu *v, uint32_t index, uint64_t value)
{
    struct vmx_vcpu *vx = v->arch;
    vmx_make_current(vx);
    switch (index) {
    case MSR_EFER: {
        uint64_t old = vmcs_read64(GUEST_IA32_EFER);
        if (value & ~EFER_ALLOWED)
            return false;
        if ((value & EFER_NXE) && !(cpuid(0x80000001, 0).edx & BIT(20)))
            return false;
        /* LME may not change while paging is on (SDM vol. 3A 9.8.5); LMA is read-only. */
        if (((value ^ old) & EFER_LME) && (vmx_guest_cr0(vx) & CR0_PG))
            return false;
        vmcs_write64(GUEST_IA32_EFER, (value & ~EFER_LMA) | (old & EFER_LMA));
        return true;
    }
    case MSR_IA32_PAT:
        if (!pat_valid(value))
            return false;
        vmcs_write64(GUEST_IA32_PAT, value);
        return true;
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        if (!canonical(value))
            return false;
        if (index == MSR_FS_BASE)
            vmcs_writenat(GUEST_FS_BASE, value);
        else if (index == MSR_GS_BASE)
            vmcs_writenat(GUEST_GS_BASE, value);
        else if (index == MSR_IA32_SYSENTER_ESP)
            vmcs_writenat(GUEST_IA32_SYSENTER_ESP, value);
        else if (index == MSR_IA32_SYSENTER_EIP)
            vmcs_writenat(GUEST_IA32_SYSENTER_EIP, value);
        else if (index == MSR_KERNEL_GS_BASE)
            wrmsr(MSR_KERNEL_GS_BASE, vx->kernel_gs_base = value);
        else if (index == MSR_LSTAR)
            wrmsr(MSR_LSTAR, vx->lstar = value);
        else
            wrmsr(MSR_CSTAR, vx->cstar = value);
        return true;
    case MSR_IA32_SYSENTER_CS:
        vmcs_write32(GUEST_IA32_SYSENTER_CS, value);
        return true;
    case MSR_STAR:
        wrmsr(MSR_STAR, vx->star = value);
        return true;
    case MSR_SFMASK:
        if (value >> 32)
            return false;
        wrmsr(MSR_SFMASK, vx->sfmask = value);
        return true;
    default:
        return false;
    }
}

/* Let the guest reach ports [port, port + count) directly: clear their bits (25.6.4; an
 * access exits if the bit of any byte it touches is set, 26.1.3). */
static void vmx_allow_io(struct vcpu *v, uint16_t port, uint16_t count)
{
    struct vmx_vcpu *vx = v->arch;
    for (uint32_t p = port; p < (uint32_t)port + count && p <= 0xffff; p++) {
        uint8_t *map = hpa_to_ptr(vx->io_bitmap[p >> 15]);
        map[(p & 0x7fff) / 8] &= (uint8_t)~(1u << (p % 8));
    }
}

const struct virt_ops vmx_ops = {
    .name = "Intel VT-x",
    .detect = vmx_detect,
    .cpu_enable = vmx_cpu_enable,
    .s2pt_format = vmx_s2pt_format,
    .vcpu_init = vmx_vcpu_init,
    .vcpu_run = vmx_vcpu_run,
    .set_rip = vmx_set_rip,
    .inject_exception = vmx_inject,
    .get_sregs = vmx_get_sregs,
    .msr_get = vmx_msr_get,
    .msr_set = vmx_msr_set,
    .vcpu_destroy = vmx_vcpu_destroy,
    .allow_io = vmx_allow_io,
};
