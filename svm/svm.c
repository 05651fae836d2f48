// SPDX-License-Identifier: Apache-2.0
// The AMD-V (SVM) backend behind kernel/virt.h (AMD APM vol. 2 chapter 15 "Secure Virtual
// Machine"): detection, per-CPU enabling, VMCBs with nested paging and ASIDs, the run loop
// around svm/svm_entry.asm, and the nested paging self-test. The pure parts (VMCB layout,
// checks, exit decoding) are in svm/vmcb.c; the NPT entry format in svm/npt.c.
#include <string.h>
#include <stdio.h>
#include "svm/svm.h"
#include "svm/vmcb.h"
#include "svm/svm_exit.h"
#include "svm/npt.h"
#include "kernel/console.h"
#include "kernel/mm.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/s2pt.h"
#include "kernel/spinlock.h"
#include "kernel/vcpu.h"
#include "kernel/x86.h"

/* CR4 bits (APM vol. 2 3.1.3 "CR4 Register") and the CPUID bits that make each one writable:
 * the MBZ check of VMRUN (15.5.1) refuses the others. */
#define CR4_VME        BIT(0)
#define CR4_PVI        BIT(1)
#define CR4_TSD        BIT(2)
#define CR4_DE         BIT(3)
#define CR4_PSE        BIT(4)
#define CR4_MCE        BIT(6)
#define CR4_PCE        BIT(8)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_UMIP       BIT(11)
#define CR4_LA57       BIT(12)
#define CR4_FSGSBASE   BIT(16)
#define CR4_PCIDE      BIT(17)
#define CR4_OSXSAVE    BIT(18)
#define CR4_SMEP       BIT(20)
#define CR4_SMAP       BIT(21)
#define CR4_PKE        BIT(22)
#define CR4_CET        BIT(23)

enum { REG_EBX, REG_ECX, REG_EDX };
static const struct {
    uint64_t cr4;
    uint32_t leaf;
    uint8_t reg;
    uint8_t bit;
} cr4_features[] = {
    { CR4_VME | CR4_PVI, 1, REG_EDX, 1 },
    { CR4_DE, 1, REG_EDX, 2 },
    { CR4_PSE, 1, REG_EDX, 3 },
    { CR4_PAE, 1, REG_EDX, 6 },
    { CR4_MCE, 1, REG_EDX, 7 },
    { CR4_PGE, 1, REG_EDX, 13 },
    { CR4_OSFXSR, 1, REG_EDX, 24 },
    { CR4_OSXMMEXCPT, 1, REG_EDX, 25 },
    { CR4_PCIDE, 1, REG_ECX, 17 },
    { CR4_OSXSAVE, 1, REG_ECX, 26 },
    { CR4_FSGSBASE, 7, REG_EBX, 0 },
    { CR4_SMEP, 7, REG_EBX, 7 },
    { CR4_SMAP, 7, REG_EBX, 20 },
    { CR4_UMIP, 7, REG_ECX, 2 },
    { CR4_PKE, 7, REG_ECX, 3 },
    { CR4_CET, 7, REG_ECX, 7 },
    { CR4_LA57, 7, REG_ECX, 16 },
};

/* One physical CPU's SVM state. Only that CPU writes it after cpu_enable. */
struct svm_cpu {
    hpa_t hsave;         /* VM_HSAVE_PA: where VMRUN keeps the host state (15.30.4) */
    hpa_t host_vmcb;     /* VMSAVE of the host's FS/GS/TR/LDTR/syscall MSRs, reloaded at exit */
    uint64_t asid_tag;   /* (CPU index + 1) << 32 | generation: names this CPU's ASID space */
    uint32_t next_asid;  /* next ASID to hand out here; 0 is the host's */
    uint32_t generation; /* bumped when the ASIDs run out and the whole TLB is flushed */
};
static struct svm_cpu svm_cpus[MAX_CPUS];

/* A vCPU's backend half, in the last page of its block:
 *   page 0 VMCB | pages 1-3 I/O permission map | pages 4-5 MSR permission map | page 6 this. */
#define BLOCK_VMCB  0
#define BLOCK_IOPM  1
#define BLOCK_MSRPM (BLOCK_IOPM + SVM_IOPM_PAGES)
#define BLOCK_SELF  (BLOCK_MSRPM + SVM_MSRPM_PAGES)
#define BLOCK_PAGES (BLOCK_SELF + 1)
struct svm_vcpu {
    struct vmcb *vmcb;
    hpa_t vmcb_pa;
    hpa_t block;
    uint64_t asid_tag;    /* svm_cpu.asid_tag of the CPU and generation `asid` belongs to */
    uint32_t asid;
};
_Static_assert(sizeof(struct svm_vcpu) <= PAGE_SIZE, "svm_vcpu fits its page");

/* Found by svm_detect (the same on every CPU). */
static struct virt_caps svm_caps;
static struct svm_limits svm_lim;
static bool svm_gib_pages, svm_nx;
static bool selftest_ok;
static hpa_t svm_alloc(uint64_t pages, uint64_t max_end)
{
    hpa_t pa = frames_alloc(pages, PAGE_SIZE, max_end);
    if (pa != PMM_NONE)
        memset(hpa_to_ptr(pa), 0, pages * PAGE_SIZE);
    return pa;
}

static void svm_free(hpa_t pa, uint64_t pages)
{
    frames_free(pa, pages);
}

static uint32_t cpuid_reg(struct cpuid_regs r, uint8_t reg)
{
    return reg == REG_EBX ? r.ebx : reg == REG_ECX ? r.ecx : r.edx;
}

static bool svm_detect(struct virt_caps *caps, char *why, size_t len)
{
    uint32_t max_ext = cpuid(0x80000000, 0).eax;
    struct cpuid_regs ext = max_ext >= 0x80000001 ? cpuid(0x80000001, 0) : (struct cpuid_regs){ 0 };
    if (!(ext.ecx & CPUID_EXT_SVM_ECX) || max_ext < CPUID_SVM_LEAF) {
        snprintf(why, len, "this CPU has no AMD-V (SVM): CPUID 0x80000001 ECX[2] is clear");
        return false;
    }
    struct cpuid_regs svm = cpuid(CPUID_SVM_LEAF, 0);
    /* APM vol. 2 15.4 "Enabling SVM": SVMDIS set means the firmware turned SVM off; with
     * VM_CR.LOCK clear the bit is still writable, and with SVM Lock (SVML) a key may unlock
     * it (15.30.1 "VM_CR MSR"). */
    uint64_t vm_cr = rdmsr(MSR_VM_CR);
    if (vm_cr & VM_CR_SVMDIS) {
        const char *unlock = !(vm_cr & VM_CR_LOCK)
            ? " (VM_CR.LOCK is clear, so the setting is not locked and may be unlockable)"
            : (svm.edx & CPUID_SVM_SVML)
            ? " (the CPU has SVM Lock: it may be unlockable with a key from the firmware or TPM)"
            : "";
        snprintf(why, len, "AMD-V (SVM) is disabled by the firmware (VM_CR.SVMDIS): enable SVM "
                 "Mode in the firmware setup%s", unlock);
        return false;
    }
    if (!(svm.edx & CPUID_SVM_NP)) {
        snprintf(why, len, "this CPU has AMD-V but no nested paging (NPT), which Moat requires "
                 "(CPUID 0x8000000A EDX[0] is clear)");
        return false;
    }
    if (svm.ebx < 2) {
        snprintf(why, len, "this CPU has AMD-V but no ASID for guests (CPUID 0x8000000A EBX = %u)",
                 svm.ebx);
        return false;
    }
    struct cpuid_regs sizes = max_ext >= 0x80000008 ? cpuid(0x80000008, 0)
                                                    : (struct cpuid_regs){ .eax = 0x3024 };
    unsigned maxphyaddr = sizes.eax & 0xff, vaddr_bits = (sizes.eax >> 8) & 0xff;
    if (maxphyaddr < S2PT_MIN_PHYS_BITS || maxphyaddr > S2PT_MAX_PHYS_BITS) {
        snprintf(why, len, "this CPU reports MAXPHYADDR %u, outside what nested paging supports",
                 maxphyaddr);
        return false;
    }

    *caps = (struct virt_caps){
        .unrestricted_guest = true, /* SVM runs real-mode and paging-off guests as they are */
        .nrips = svm.edx & CPUID_SVM_NRIPS,
        .tagged_tlb = true,
        .flush_by_asid = svm.edx & CPUID_SVM_FLUSH_BY_ASID,
        .asid_count = svm.ebx,
    };

    struct cpuid_regs leaf1 = cpuid(1, 0);
    struct cpuid_regs leaf7 = cpuid(0, 0).eax >= 7 ? cpuid(7, 0) : (struct cpuid_regs){ 0 };
    uint64_t cr4_ok = CR4_TSD | CR4_PCE;
    for (size_t i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
        struct cpuid_regs r = cr4_features[i].leaf == 1 ? leaf1 : leaf7;
        if (cpuid_reg(r, cr4_features[i].reg) & (1u << cr4_features[i].bit))
            cr4_ok |= cr4_features[i].cr4;
    }
    /* EFER (APM vol. 2 3.1.7 "Extended Feature Enable Register"). */
    uint64_t efer_ok = EFER_SCE | EFER_LME | EFER_LMA | EFER_SVME;
    if (ext.edx & CPUID_EXT_NX_EDX)
        efer_ok |= EFER_NXE;
    if (ext.edx & CPUID_EXT_FFXSR_EDX)
        efer_ok |= EFER_FFXSR;
    if (ext.ecx & CPUID_EXT_TCE_ECX)
        efer_ok |= EFER_TCE;

    svm_caps = *caps;
    svm_lim = (struct svm_limits){
        .efer_ok = efer_ok, .cr4_ok = cr4_ok, .maxphyaddr = maxphyaddr,
        .vaddr_bits = vaddr_bits >= 48 && vaddr_bits <= 57 ? vaddr_bits : 48,
        .flush_by_asid = caps->flush_by_asid,
    };
    svm_gib_pages = ext.edx & CPUID_EXT_PAGE1GB_EDX;
    svm_nx = ext.edx & CPUID_EXT_NX_EDX;
    return true;
}

static int svm_s2pt_format(struct s2pt_format *f)
{
    /* cpu_enable sets EFER.NXE (when the CPU has NX) and IA32_PAT = NPT_PAT_MOAT on every CPU,
     * so the nested tables may use both. */
    return npt_format_init(f, svm_lim.maxphyaddr, svm_gib_pages, svm_nx, NPT_PAT_MOAT);
}

static bool svm_cpu_enable(struct percpu *cpu, char *why, size_t len)
{
    struct svm_cpu *c = &svm_cpus[cpu->index];
    if (!c->hsave) {
        hpa_t hsave = svm_alloc(1, 0), host = svm_alloc(1, 0);
        if (hsave == PMM_NONE || host == PMM_NONE) {
            snprintf(why, len, "out of memory for the SVM host save area of CPU %u", cpu->index);
            return false;
        }
        c->hsave = hsave;
        c->host_vmcb = host;
    }
    /* 15.4: EFER.SVME on; VM_HSAVE_PA names a 4 KiB-aligned page (15.30.4). NXE lets the
     * nested tables say "not executable" (APM vol. 2 5.6.2 "No Execute (NX) Bit"); the PAT
     * gets WC and WP entries the nested tables can select (15.25.8), keeping entries 0-3
     * (all the host's own mappings use) as they were. */
    uint64_t efer = rdmsr(MSR_EFER) | EFER_SVME;
    if (svm_nx)
        efer |= EFER_NXE;
    wrmsr(MSR_EFER, efer);
    wrmsr(MSR_VM_HSAVE_PA, c->hsave);
    wrmsr(MSR_IA32_PAT, NPT_PAT_MOAT);
    /* The host's VMLOAD state is fixed once percpu_setup ran: save it once. */
    svm_vmsave(c->host_vmcb);
    if (!c->asid_tag) { /* first time: a second call must not hand out live ASIDs again */
        c->next_asid = 1;
        c->generation = 1;
        c->asid_tag = ((uint64_t)cpu->index + 1) << 32 | c->generation;
    }

    if (cpu->index == 0 && !selftest_ok)
        return svm_selftest(why, len);
    return true;
}

/* Give s an ASID of CPU c (15.16 "TLB Control"). ASIDs are handed out once per generation;
 * when they run out, the next generation starts with a flush of every ASID's entries. */
static void svm_new_asid(struct svm_vcpu *s, struct svm_cpu *c)
{
    if (!c->asid_tag)
        panic("svm: a vCPU is set up or run on CPU %ld, where cpu_enable never ran",
              (long)(c - svm_cpus));
    uint8_t flush = svm_caps.flush_by_asid ? VMCB_TLB_FLUSH_ASID : VMCB_TLB_FLUSH_ALL;
    if (c->next_asid >= svm_caps.asid_count) {
        c->generation++;
        c->asid_tag = (c->asid_tag & GENMASK(63, 32)) | c->generation;
        c->next_asid = 1;
        flush = VMCB_TLB_FLUSH_ALL;
    }
    s->asid = c->next_asid++;
    s->asid_tag = c->asid_tag;
    s->vmcb->ctl.guest_asid = s->asid;
    s->vmcb->ctl.tlb_control = flush;
}

/* vcpu_init without the self-test gate (the self-test itself uses it). */
static bool svm_vcpu_setup(struct vcpu *v, uint64_t s2pt_root, const struct guest_entry_state *st,
                           char *why, size_t len)
{
    struct s2pt_format fmt;
    uint64_t ncr3;
    if (svm_s2pt_format(&fmt) != 0 || npt_ncr3(&fmt, s2pt_root, &ncr3) != 0) {
        snprintf(why, len, "nested page table root 0x%lx is unusable as nCR3", s2pt_root);
        return false;
    }
    hpa_t block = svm_alloc(BLOCK_PAGES, 0);
    if (block == PMM_NONE) {
        snprintf(why, len, "out of memory for the VMCB and permission maps (%u pages)",
                 BLOCK_PAGES);
        return false;
    }
    struct svm_vcpu *s = hpa_to_ptr(block + BLOCK_SELF * PAGE_SIZE);
    s->block = block;
    s->vmcb_pa = block + BLOCK_VMCB * PAGE_SIZE;
    s->vmcb = hpa_to_ptr(s->vmcb_pa);
    /* All ones: every port and every MSR exits to Moat (15.10.1, 15.11). */
    memset(hpa_to_ptr(block + BLOCK_IOPM * PAGE_SIZE), 0xff, SVM_IOPM_PAGES * PAGE_SIZE);
    memset(hpa_to_ptr(block + BLOCK_MSRPM * PAGE_SIZE), 0xff, SVM_MSRPM_PAGES * PAGE_SIZE);

    struct vmcb_control *ctl = &s->vmcb->ctl;
    /* Intercepts (15.9 "Instruction Intercepts", 15.12-15.14): CPUID, HLT, I/O and MSRs for
     * the generic policy; SHUTDOWN so a triple fault stops the partition rather than the CPU;
     * INTR/NMI/INIT so the host keeps its CPU; VMRUN (VMRUN refuses a VMCB without it) and
     * the other SVM instructions so a guest cannot use SVM; VMMCALL is the hypercall;
     * XSETBV because XCR0 is not switched between partitions (VT-x exits on it always). */
    ctl->intercept3 = VMCB_I3_INTR | VMCB_I3_NMI | VMCB_I3_INIT | VMCB_I3_CPUID | VMCB_I3_HLT |
                      VMCB_I3_INVLPGA | VMCB_I3_IOIO_PROT | VMCB_I3_MSR_PROT | VMCB_I3_SHUTDOWN;
    ctl->intercept4 = VMCB_I4_VMRUN | VMCB_I4_VMMCALL | VMCB_I4_VMLOAD | VMCB_I4_VMSAVE |
                      VMCB_I4_STGI | VMCB_I4_CLGI | VMCB_I4_SKINIT | VMCB_I4_XSETBV;
    ctl->iopm_base_pa = block + BLOCK_IOPM * PAGE_SIZE;
    ctl->msrpm_base_pa = block + BLOCK_MSRPM * PAGE_SIZE;
    /* The guest's RFLAGS.IF masks only virtual interrupts; physical ones exit (15.21.1). */
    ctl->vintr = VMCB_V_INTR_MASKING;
    ctl->np_control = VMCB_NP_ENABLE;
    ctl->n_cr3 = ncr3;
    vmcb_load_state(s->vmcb, st);
    struct percpu *me = this_cpu();
    svm_new_asid(s, &svm_cpus[me->index]);

    const char *bad = vmcb_check(s->vmcb, &svm_lim);
    if (bad) {
        snprintf(why, len, "the guest's start state cannot be run: %s (APM vol. 2 15.5.1)", bad);
        svm_free(block, BLOCK_PAGES);
        return false;
    }
    v->regs = st->regs;
    v->regs.gpr[GPR_RSP] = st->rsp;
    v->arch = s;
    v->arch_bytes = BLOCK_PAGES * PAGE_SIZE;
    return true;
}

static bool svm_vcpu_init(struct vcpu *v, uint64_t s2pt_root, const struct guest_entry_state *st,
                          char *why, size_t len)
{
    if (!selftest_ok) {
        snprintf(why, len, "the AMD-V nested paging self-test has not passed on this boot, so "
                 "no guest may run");
        return false;
    }
    return svm_vcpu_setup(v, s2pt_root, st, why, len);
}

/* Refuses to enter v (EXIT_ENTRY_FAIL) when its VMCB breaks a rule of vmcb_check. */
static bool __attribute__((noinline)) svm_entry_refused(struct vcpu *v, struct vm_exit *exit)
{
    struct svm_vcpu *s = v->arch;
    const char *bad = vmcb_check(s->vmcb, &svm_lim);
    if (!bad)
        return false;
    printk("svm: vCPU %u not entered: %s (APM vol. 2 15.5.1)\n", v->id, bad);
    *exit = (struct vm_exit){ .kind = EXIT_ENTRY_FAIL, .raw_reason = SVM_EXIT_INVALID,
                              .rip = s->vmcb->save.rip };
    return true;
}

static void svm_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
    /* Only v and exit stay live across the world switch; the rest is reloaded, which keeps
     * this function's own register saving (and so the exit path) short. */
    for (;;) {
        struct svm_vcpu *s = v->arch;
        struct svm_cpu *c = &svm_cpus[this_cpu()->index];
        if (__builtin_expect(s->asid_tag != c->asid_tag, 0))
            svm_new_asid(s, c); /* first run here, or this CPU's ASIDs were recycled */
        /* vcpu_init checked every rule; since then only the guest changed its state (the CPU
         * keeps that consistent) and Moat its RIP and EVENTINJ (built valid). The one state
         * QEMU would take and then run every later guest without nested paging is cheap
         * enough to look for before every VMRUN all the same. */
        const struct vmcb_save *g = &s->vmcb->save;
        if (__builtin_expect((g->efer & EFER_LMA) && !(g->cr0 & CR0_PG), 0) &&
            svm_entry_refused(v, exit))
            return;
        svm_world_switch(v, s->vmcb_pa, c->host_vmcb);
        struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
        vmcb->ctl.tlb_control = VMCB_TLB_NOTHING;
        /* An event cut short by the exit is delivered again at the next VMRUN (15.7.2). */
        if (__builtin_expect(vmcb->ctl.exitintinfo & VMCB_EVT_V, 0) &&
            vmcb_reinject(vmcb->ctl.exitintinfo))
            vmcb->ctl.eventinj = vmcb->ctl.exitintinfo;
        if (__builtin_expect(!svm_exit_decode(vmcb, &v->regs, svm_caps.nrips, exit), 1))
            return;
        /* An SVM instruction: to the guest there is no SVM, so it gets #UD (APM vol. 3, the
         * #UD condition "EFER.SVME = 0" of VMRUN and its siblings). */
        vmcb->ctl.eventinj = vmcb_exception_event(6, false, 0, vmcb->save.cr0);
    }
}

static void svm_set_rip(struct vcpu *v, uint64_t rip)
{
    struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
    vmcb->save.rip = rip;
    /* The instruction that followed STI or MOV SS has been emulated: the shadow is over. */
    vmcb->ctl.interrupt_shadow = 0;
}

static void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    if (vector >= 32)
        panic("svm: inject_exception: vector %u is not an exception", vector);
    struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
    vmcb->ctl.eventinj = vmcb_exception_event(vector, has_error, error, vmcb->save.cr0);
}

static void svm_get_sregs(struct vcpu *v, struct guest_entry_state *out)
{
    vmcb_store_state(((struct svm_vcpu *)v->arch)->vmcb, out);
}

/* The VMCB holds these MSRs' guest values; after VMSAVE it is current for all of them. */
static bool svm_msr_get(struct vcpu *v, uint32_t index, uint64_t *value)
{
    return vmcb_msr_get(((struct svm_vcpu *)v->arch)->vmcb, index, value);
}

static bool svm_msr_set(struct vcpu *v, uint32_t index, uint64_t value)
{
    return vmcb_msr_set(((struct svm_vcpu *)v->arch)->vmcb, &svm_lim, index, value);
}

static void svm_vcpu_destroy(struct vcpu *v)
{
    struct svm_vcpu *s = v->arch;
    if (!s)
        return;
    v->arch = NULL;
    svm_free(s->block, BLOCK_PAGES);
}

/* Let the guest reach ports [port, port + count) directly: clear their IOPM bits (APM vol. 2
 * 15.10.1 "I/O Permissions Map": one bit per port; an access exits if any byte's bit is set). */
static void svm_allow_io(struct vcpu *v, uint16_t port, uint16_t count)
{
    struct svm_vcpu *s = v->arch;
    uint8_t *iopm = hpa_to_ptr(s->block + BLOCK_IOPM * PAGE_SIZE);
    for (uint32_t p = port; p < (uint32_t)port + count && p <= 0xffff; p++)
        iopm[p / 8] &= (uint8_t)~(1u << (p % 8));
}

const struct virt_ops svm_ops = {
    .name = "AMD-V",
    .detect = svm_detect,
    .cpu_enable = svm_cpu_enable,
    .s2pt_format = svm_s2pt_format,
    .vcpu_init = svm_vcpu_init,
    .vcpu_run = svm_vcpu_run,
    .set_rip = svm_set_rip,
    .inject_exception = svm_inject_exception,
    .get_sregs = svm_get_sregs,
    .msr_get = svm_msr_get,
    .msr_set = svm_msr_set,
    .vcpu_destroy = svm_vcpu_destroy,
    .allow_io = svm_allow_io,
};

/* ---- nested paging self-test ------------------------------------------------------------ */

#define ST_MAGIC   0x5450454eu /* "NEPT": what the remapped page holds */
#define ST_DECOY   0x594f4344u /* "DCOY": what host-physical memory at the same number holds */
#define ST_WRITTEN 0x4e455454u /* "TTEN": what the guest stores through the remapped page */
#define ST_HOLE    0x1000u     /* a guest-physical page left unmapped (or the next ones) */

static uint64_t st_alloc_page(void *ctx)
{
    hpa_t pa = svm_alloc(1, 0);
    return pa == PMM_NONE ? S2PT_NO_PAGE : pa;
}
static void st_free_page(void *ctx, uint64_t hpa)
{
    svm_free(hpa, 1);
}
static void *st_phys_to_virt(void *ctx, uint64_t hpa)
{
    return hpa_to_ptr(hpa);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Runs v until an exit other than a host interrupt. The host takes each interrupt before
 * the next VMRUN: still pending, it would end every entry at once (guests run with host IF
 * set, svm_entry.asm). */
static void st_run(struct vcpu *v, struct vm_exit *e)
{
    for (;;) {
        svm_vcpu_run(v, e);
        if (e->kind != EXIT_INTR)
            return;
        irq_window();
    }
}

static bool st_fail(char *why, size_t len, const char *what, const struct vm_exit *e)
{
    snprintf(why, len, "AMD-V nested paging self-test failed: %s (exit code 0x%lx, EXITINFO1 "
             "0x%lx); the CPU or emulator does not translate guest memory through the nested "
             "page tables, so no guest may run", what, e->raw_reason, e->raw_qual);
    return false;
}

bool svm_selftest(char *why, size_t len)
{
    /* Guest-physical = host-physical for the code page; the data page gpa X is the host
     * address of the decoy page but maps to the magic page. A 32-bit flat guest with paging
     * off makes linear = guest-physical, so its loads name X directly. */
    hpa_t code = svm_alloc(1, 4 * GIB), decoy = svm_alloc(1, 4 * GIB), magic = svm_alloc(1, 0);
    if (code == PMM_NONE || decoy == PMM_NONE || magic == PMM_NONE) {
        snprintf(why, len, "out of memory for the AMD-V self-test");
        return false;
    }
    uint32_t hole = ST_HOLE;
    while (hole == code || hole == decoy)
        hole += PAGE_SIZE;
    volatile uint32_t *decoy_p = hpa_to_ptr(decoy), *magic_p = hpa_to_ptr(magic);
    *decoy_p = ST_DECOY;
    *magic_p = ST_MAGIC;
    uint8_t *p = hpa_to_ptr(code);
    p[0] = 0xa1; put32(p + 1, (uint32_t)decoy);                  /* mov eax, [X] */
    p[5] = 0xc7; p[6] = 0x05; put32(p + 7, (uint32_t)decoy);     /* mov dword [X], WRITTEN */
    put32(p + 11, ST_WRITTEN);
    p[15] = 0x0f; p[16] = 0x01; p[17] = 0xd9;                    /* vmmcall */
    p[18] = 0xa1; put32(p + 19, hole);                           /* mov eax, [HOLE] */
    p[23] = 0xf4;                                                /* hlt */

    struct s2pt_format fmt;
    struct s2pt pt;
    const struct s2pt_alloc alloc = { st_alloc_page, st_free_page, st_phys_to_virt, NULL };
    const struct gpa_range ranges[] = {
        { .gpa = code, .hpa = code, .size = PAGE_SIZE, .perms = GPA_RWX, .mtype = GPA_MT_WB },
        { .gpa = decoy, .hpa = magic, .size = PAGE_SIZE,
          .perms = svm_nx ? GPA_R | GPA_W : GPA_RWX, .mtype = GPA_MT_WB },
    };
    const struct gpa_map map = { ranges, 2 };
    bool ok = false;
    int rc = svm_s2pt_format(&fmt);
    if (rc == 0)
        rc = s2pt_init(&pt, &fmt, &alloc);
    if (rc == 0 && (rc = s2pt_map_all(&pt, &fmt, &map, NULL)) != 0)
        s2pt_destroy(&pt);
    if (rc != 0) {
        snprintf(why, len, "AMD-V self-test: building nested page tables: %s", s2pt_strerror(rc));
        goto out_pages;
    }

    struct guest_entry_state st = {
        .rip = code, .rflags = 2, .cr0 = CR0_PE | CR0_ET | CR0_NE,
        .cs = { 0x08, SEG_ATTR_CODE32, 0xffffffff, 0 },
        .ds = { 0x10, SEG_ATTR_DATA32, 0xffffffff, 0 },
        .es = { 0x10, SEG_ATTR_DATA32, 0xffffffff, 0 },
        .ss = { 0x10, SEG_ATTR_DATA32, 0xffffffff, 0 },
        .tr = { 0, SEG_ATTR_TSS64, 0x67, 0 },
    };
    struct vcpu v;
    memset(&v, 0, sizeof(v));
    struct vm_exit e = { 0 };
    if (!svm_vcpu_setup(&v, s2pt_root(&pt), &st, why, len))
        goto out_pt;

    st_run(&v, &e);
    if (e.kind != EXIT_HYPERCALL)
        ok = st_fail(why, len, "the guest did not reach VMMCALL", &e);
    else if ((uint32_t)v.regs.gpr[GPR_RAX] == ST_DECOY || *decoy_p != ST_DECOY)
        ok = st_fail(why, len, "the guest reached host-physical memory instead of its own", &e);
    else if ((uint32_t)v.regs.gpr[GPR_RAX] != ST_MAGIC || *magic_p != ST_WRITTEN)
        ok = st_fail(why, len, "the guest's load or store did not reach the remapped page", &e);
    else {
        svm_set_rip(&v, e.rip + 3);
        st_run(&v, &e);
        if (e.kind != EXIT_NPF || e.u.npf.gpa != hole || !e.u.npf.read || e.u.npf.present)
            ok = st_fail(why, len, "a load from an unmapped page gave no nested page fault", &e);
        else
            ok = true;
    }
    svm_vcpu_destroy(&v);
out_pt:
    s2pt_destroy(&pt);
out_pages:
    svm_free(code, 1);
    svm_free(decoy, 1);
    svm_free(magic, 1);
    selftest_ok = ok;
    return ok;
}

bool svm_selftest_passed(void)
{
    return selftest_ok;
}
