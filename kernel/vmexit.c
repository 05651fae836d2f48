// SPDX-License-Identifier: Apache-2.0
// The vCPU run loop and the generic exit handlers: one table indexed by exit kind. A handler
// decides what happens next; whatever a guest does, the worst outcome is that its own
// partition stops with a diagnostic.
#include <string.h>
#include <stdio.h>
#include "common/bits.h"
#include "kernel/virt_core.h"
#include "kernel/partition.h"
#include "kernel/console.h"
#include "kernel/conmux.h"
#include "kernel/cpuid_policy.h"
#include "kernel/gwalk.h"
#include "kernel/insn.h"
#include "kernel/mmio.h"
#include "kernel/msr_policy.h"
#include "kernel/vuart.h"
#include "kernel/vpci.h"
#include "kernel/x86.h"

enum exit_action {
    ACT_RESUME, /* re-enter at the same RIP */
    ACT_SKIP,   /* re-enter after the exiting instruction */
    ACT_DONE,   /* this vCPU is finished */
    ACT_STOP,   /* the partition was stopped */
    ACT_HALT,   /* re-enter after the instruction, once the vCPU has work (HLT) */
    ACT_YIELD,  /* re-enter after the instruction, after the others' turn */
};

typedef enum exit_action (*exit_handler)(struct vcpu *v, struct vm_exit *e);

#define EFLAGS_VM (1ull << 17)
#define EXC_GP 13

/* ---- console output from guests ---------------------------------------------- */

static void guest_putc(struct vcpu *v, char c)
{
    if (c == '\r')
        return;
    if (c != '\n' && v->line_len < VCPU_LINE_MAX) {
        v->line[v->line_len++] = c;
        if (v->line_len < VCPU_LINE_MAX)
            return;
    }
    conmux_line(v->part, v->id, v->line, v->line_len);
    v->line_len = 0;
}

void vcpu_flush_line(struct vcpu *v)
{
    if (v->line_len)
        guest_putc(v, '\n');
}

/* ---- reading guest memory by linear address --------------------------------- */

static bool gwalk_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *out)
{
    const void *src = guest_phys_ptr(ctx, gpa, size);
    if (!src)
        return false;
    if (size == 8) {
        __builtin_memcpy(out, src, 8);
    } else {
        uint32_t v32;
        __builtin_memcpy(&v32, src, 4);
        *out = v32;
    }
    return true;
}

/* The usual encodings of the instructions that cause these exits, without prefixes: when the
 * bytes at RIP start with one, its length is known without the full decoder. A prefixed form
 * (legal, rare) goes through insn_decode. */
static uint32_t canonical_length(enum vm_exit_kind kind, const uint8_t *b, size_t got)
{
    if (got >= 1 && kind == EXIT_HLT && b[0] == 0xf4)
        return 1;
    if (got < 2 || b[0] != 0x0f)
        return 0;
    if ((kind == EXIT_CPUID && b[1] == 0xa2) || (kind == EXIT_MSR_READ && b[1] == 0x32) ||
        (kind == EXIT_MSR_WRITE && b[1] == 0x30))
        return 2;
    if (kind == EXIT_HYPERCALL && got >= 3 && b[1] == 0x01 && (b[2] == 0xd9 || b[2] == 0xc1))
        return 3; /* VMMCALL, VMCALL */
    return 0;
}

/* Copy up to `len` bytes of guest-linear memory at `la`; returns how many could be read. */
static size_t guest_linear_read(struct vcpu *v, const struct guest_entry_state *s, uint64_t la,
                                uint8_t *buf, size_t len)
{
    struct gwalk_regs r = { s->cr0, s->cr3, s->cr4, s->efer };
    size_t done = 0;
    while (done < len) {
        uint64_t gpa, page_end;
        if (gwalk_translate(&r, la + done, gwalk_read, v->part, &gpa, &page_end) != GWALK_OK)
            break;
        size_t chunk = len - done;
        if (page_end - (la + done) < chunk)
            chunk = (size_t)(page_end - (la + done));
        if (!guest_phys_read(v->part, gpa, buf + done, chunk))
            break;
        done += chunk;
    }
    return done;
}

/* The bytes of the instruction at the exit's RIP (as many as are readable, up to
 * INSN_MAX_LEN) and the mode to decode them in; *s gets the guest's control state. */
static size_t fetch_insn(struct vcpu *v, const struct vm_exit *e, struct guest_entry_state *s,
                         enum insn_mode *mode, uint8_t bytes[INSN_MAX_LEN])
{
    virt->get_sregs(v, s);
    *mode = insn_mode_of(s->cr0 & 1, s->rflags & EFLAGS_VM, s->efer & (1ull << 10),
                         s->cs.attr & 0x200, s->cs.attr & 0x400);
    uint64_t la = e->rip + (*mode == INSN_MODE_LONG64 ? 0 : s->cs.base);
    return guest_linear_read(v, s, la, bytes, INSN_MAX_LEN);
}

/* Length of the instruction at the exit's RIP, for hardware that did not report it. */
static int decode_length(struct vcpu *v, const struct vm_exit *e, uint32_t *len)
{
    struct guest_entry_state s;
    enum insn_mode mode;
    uint8_t bytes[INSN_MAX_LEN];
    size_t got = fetch_insn(v, e, &s, &mode, bytes);
    *len = canonical_length(e->kind, bytes, got);
    if (*len)
        return 0;
    struct insn in;
    int rc = insn_decode(bytes, got, mode, &in);
    if (rc != INSN_OK)
        return rc;
    *len = in.length;
    return 0;
}

static void skip_instruction(struct vcpu *v, struct vm_exit *e)
{
    uint32_t len = e->insn_len;
    if (len == 0) {
        int rc = decode_length(v, e, &len);
        if (rc != 0) {
            partition_stop(v->part, "vCPU %u: cannot decode the instruction at rip 0x%lx (%s)",
                           v->id, e->rip, insn_strerror(rc));
            return;
        }
    }
    virt->set_rip(v, e->rip + len);
}

/* ---- handlers ------------------------------------------------------------------ */

static enum exit_action on_cpuid(struct vcpu *v, struct vm_exit *e)
{
    uint32_t leaf = (uint32_t)v->regs.gpr[GPR_RAX], sub = (uint32_t)v->regs.gpr[GPR_RCX];
    struct cpuid_regs h = cpuid(leaf, sub);
    struct cpuid_regs4 g = cpuid_policy(leaf, sub, (struct cpuid_regs4){ h.eax, h.ebx, h.ecx, h.edx },
                                        v->id, v->part->vcpu_count);
    v->regs.gpr[GPR_RAX] = g.eax;
    v->regs.gpr[GPR_RBX] = g.ebx;
    v->regs.gpr[GPR_RCX] = g.ecx;
    v->regs.gpr[GPR_RDX] = g.edx;
    return ACT_SKIP;
}

static enum exit_action on_io(struct vcpu *v, struct vm_exit *e)
{
    struct partition *p = v->part;
    if (e->u.io.string) {
        partition_stop(p, "vCPU %u: string port I/O (INS/OUTS) to port 0x%x is not supported yet",
                       v->id, e->u.io.port);
        return ACT_STOP;
    }
    uint8_t size = e->u.io.size;
    uint32_t mask = (uint32_t)width_mask(size);
    uint32_t val = e->u.io.in ? mask : (uint32_t)v->regs.gpr[GPR_RAX] & mask;
    bool claimed = false;
    for (uint32_t i = 0; i < p->io_count; i++) {
        struct io_device *d = &p->io[i];
        if (e->u.io.port >= d->base && e->u.io.port < d->base + d->count) {
            d->io(v, d, e->u.io.port, size, e->u.io.in, &val);
            claimed = true;
            break;
        }
    }
    if (!claimed)
        v->io_unclaimed++; /* reads see all ones, writes vanish */
    if (e->u.io.in) {
        uint64_t *rax = &v->regs.gpr[GPR_RAX];
        if (size == 4)
            *rax = val & mask; /* a 32-bit destination zero-extends */
        else
            *rax = (*rax & ~(uint64_t)mask) | (val & mask);
    }
    return ACT_SKIP;
}

static enum exit_action refuse_msr(struct vcpu *v)
{
    v->msr_refused++;
    virt->inject_exception(v, EXC_GP, true, 0);
    return ACT_RESUME; /* #GP: the faulting RDMSR/WRMSR is not retired */
}

static enum exit_action on_msr_read(struct vcpu *v, struct vm_exit *e)
{
    uint64_t val;
    uint32_t idx = e->u.msr.index;
    switch (msr_policy(idx, false)) {
    case MSR_BACKEND:
        if (!virt->msr_get(v, idx, &val))
            return refuse_msr(v);
        break;
    case MSR_HOST_TSC:
        val = rdtsc();
        break;
    case MSR_READS_ZERO:
        val = 0;
        break;
    default:
        return refuse_msr(v);
    }
    v->regs.gpr[GPR_RAX] = (uint32_t)val;
    v->regs.gpr[GPR_RDX] = val >> 32;
    return ACT_SKIP;
}

static enum exit_action on_msr_write(struct vcpu *v, struct vm_exit *e)
{
    uint32_t idx = e->u.msr.index;
    uint64_t val = (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];
    switch (msr_policy(idx, true)) {
    case MSR_BACKEND:
        if (!virt->msr_set(v, idx, val))
            return refuse_msr(v);
        return ACT_SKIP;
    case MSR_WRITE_IGNORED:
        return ACT_SKIP;
    default:
        return refuse_msr(v);
    }
}

static enum exit_action on_hlt(struct vcpu *v, struct vm_exit *e)
{
    /* The run loop gives the CPU away; without a virtual interrupt controller yet the next
     * host tick wakes the vCPU, as a periodic timer interrupt would (docs/guest-abi.md). */
    return ACT_HALT;
}

static const char *access_kind(const struct vm_exit *e)
{
    return e->u.npf.fetch ? "instruction fetch" : e->u.npf.write ? "write" : "read";
}

/* ---- MMIO: a fault on a virtual device's range (kernel/mmio.c) ----------------------------
 * The instruction at RIP is fetched and decoded again (hardware reports no operands for
 * these exits; VT-x's instruction length is undefined for them), checked against the fault,
 * carried out on the device and skipped. */

static enum exit_action mmio_refuse(struct vcpu *v, struct vm_exit *e, struct mmio_device *d,
                                    const char *what)
{
    partition_stop(v->part, "vCPU %u: %s at guest-physical 0x%lx (%s, rip 0x%lx): %s is not "
                   "supported", v->id, access_kind(e), e->u.npf.gpa, d->name, e->rip, what);
    return ACT_STOP;
}

static enum exit_action on_mmio(struct vcpu *v, struct vm_exit *e, struct mmio_device *d)
{
    struct guest_entry_state s;
    enum insn_mode mode;
    uint8_t bytes[INSN_MAX_LEN];
    size_t got = fetch_insn(v, e, &s, &mode, bytes);
    struct insn in;
    int rc = insn_decode(bytes, got, mode, &in);
    if (rc != INSN_OK) {
        char what[96];
        snprintf(what, sizeof(what), "an instruction that cannot be read and decoded (%s)",
                 insn_strerror(rc));
        return mmio_refuse(v, e, d, what);
    }
    const uint64_t seg_base[6] = { s.es.base, s.cs.base, s.ss.base, s.ds.base, s.fs.base, s.gs.base };
    uint64_t next_rip = e->rip + in.length, op_la = 0;
    bool has_la = mmio_linear_address(&in, v->regs.gpr, next_rip, seg_base, &op_la);
    struct mmio_access a;
    enum mmio_refusal r = mmio_plan(&in, d, e->u.npf.gpa, e->u.npf.write, has_la, op_la,
                                    v->regs.gpr, &a);
    if (r != MMIO_OK)
        return mmio_refuse(v, e, d, mmio_refusal_text(r));
    uint64_t val = a.value;
    d->access(v, d, a.offset, a.size, a.write, &val);
    if (!a.write) {
        uint64_t *reg = &v->regs.gpr[in.mmio.reg & 15];
        *reg = insn_mmio_load_value(&in, *reg, val);
    }
    virt->set_rip(v, next_rip);
    return ACT_RESUME;
}

static enum exit_action on_npf(struct vcpu *v, struct vm_exit *e)
{
    struct mmio_device *d = mmio_find(&v->part->mmio, e->u.npf.gpa);
    if (d && e->u.npf.fetch)
        return mmio_refuse(v, e, d, "executing from a device's registers");
    if (d)
        return on_mmio(v, e, d);
    partition_stop(v->part, "vCPU %u: %s at guest-physical 0x%lx outside its memory (rip 0x%lx)",
                   v->id, access_kind(e), e->u.npf.gpa, e->rip);
    return ACT_STOP;
}

static void dump_regs(struct vcpu *v)
{
    static const char names[GPR_COUNT][4] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                              "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
    struct guest_entry_state s;
    virt->get_sregs(v, &s);
    printk("  rip %016lx rflags %016lx cr0 %lx cr3 %lx cr4 %lx efer %lx\n", s.rip, s.rflags, s.cr0,
           s.cr3, s.cr4, s.efer);
    for (int i = 0; i < GPR_COUNT; i += 4)
        printk("  %-3s %016lx %-3s %016lx %-3s %016lx %-3s %016lx\n", names[i], v->regs.gpr[i],
               names[i + 1], v->regs.gpr[i + 1], names[i + 2], v->regs.gpr[i + 2], names[i + 3],
               v->regs.gpr[i + 3]);
}

static enum exit_action on_shutdown(struct vcpu *v, struct vm_exit *e)
{
    partition_stop(v->part, "vCPU %u: triple fault at rip 0x%lx", v->id, e->rip);
    dump_regs(v);
    return ACT_STOP;
}

static enum exit_action on_hypercall(struct vcpu *v, struct vm_exit *e)
{
    uint64_t *rax = &v->regs.gpr[GPR_RAX];
    uint64_t a0 = v->regs.gpr[GPR_RDI], a1 = v->regs.gpr[GPR_RSI];
    switch (*rax) {
    case HC_WRITE: {
        char buf[256];
        if (a1 > 4096) {
            *rax = (uint64_t)HC_E_INVAL;
            break;
        }
        for (uint64_t off = 0; off < a1; off += sizeof(buf)) {
            uint64_t n = a1 - off < sizeof(buf) ? a1 - off : sizeof(buf);
            if (!guest_phys_read(v->part, a0 + off, buf, n)) {
                *rax = (uint64_t)HC_E_INVAL;
                return ACT_SKIP;
            }
            for (uint64_t i = 0; i < n; i++)
                guest_putc(v, buf[i]);
        }
        *rax = a1;
        break;
    }
    case HC_EXIT:
        if (v->id == 0)
            v->part->exit_status = (int64_t)a0;
        vcpu_flush_line(v);
        return ACT_DONE;
    case HC_YIELD:
        *rax = 0;
        return ACT_YIELD;
    case HC_VERSION:
        *rax = HC_ABI_VERSION;
        break;
    default:
        *rax = (uint64_t)HC_E_NOSYS;
        break;
    }
    return ACT_SKIP;
}

static enum exit_action on_intr(struct vcpu *v, struct vm_exit *e)
{
    irq_window();
    return ACT_RESUME;
}

static enum exit_action on_resume(struct vcpu *v, struct vm_exit *e)
{
    return ACT_RESUME;
}

static enum exit_action on_entry_fail(struct vcpu *v, struct vm_exit *e)
{
    partition_stop(v->part, "vCPU %u: the CPU refused to enter the guest (reason 0x%lx, detail 0x%lx)",
                   v->id, e->raw_reason, e->raw_qual);
    dump_regs(v);
    return ACT_STOP;
}

static enum exit_action on_unknown(struct vcpu *v, struct vm_exit *e)
{
    partition_stop(v->part, "vCPU %u: unhandled exit (reason 0x%lx, qualification 0x%lx) at rip 0x%lx",
                   v->id, e->raw_reason, e->raw_qual, e->rip);
    return ACT_STOP;
}

static const exit_handler handlers[EXIT_KIND_COUNT] = {
    [EXIT_NONE] = on_unknown,
    [EXIT_CPUID] = on_cpuid,
    [EXIT_IO] = on_io,
    [EXIT_MSR_READ] = on_msr_read,
    [EXIT_MSR_WRITE] = on_msr_write,
    [EXIT_HLT] = on_hlt,
    [EXIT_NPF] = on_npf,
    [EXIT_HYPERCALL] = on_hypercall,
    [EXIT_SHUTDOWN] = on_shutdown,
    [EXIT_INTR] = on_intr,
    [EXIT_PREEMPT] = on_resume,
    [EXIT_INIT] = on_resume,
    [EXIT_SIPI] = on_resume,
    [EXIT_ENTRY_FAIL] = on_entry_fail,
    [EXIT_UNKNOWN] = on_unknown,
};

/* Count and handle exit e of v; a guest can at worst stop its partition. Inlined into the
 * loop below: the exit path is the hot path. */
static inline __attribute__((always_inline)) enum exit_outcome handle_exit(struct vcpu *v,
                                                                          struct vm_exit *e)
{
    unsigned kind = e->kind < EXIT_KIND_COUNT ? e->kind : EXIT_UNKNOWN;
    v->exits[kind]++;
    switch (handlers[kind](v, e)) {
    case ACT_SKIP:
        skip_instruction(v, e);
        return EXIT_GO;
    case ACT_RESUME:
        return EXIT_GO;
    case ACT_HALT:
        skip_instruction(v, e);
        return EXIT_HALT;
    case ACT_YIELD:
        skip_instruction(v, e);
        return EXIT_YIELD;
    case ACT_DONE:
        return EXIT_DONE;
    case ACT_STOP:
        return EXIT_STOP;
    }
    return EXIT_STOP;
}

enum exit_outcome vcpu_run_until(struct vcpu *v, uint64_t until_tsc, const volatile uint32_t *stop1,
                                 const volatile uint32_t *stop2, bool stop_on_intr)
{
    struct vm_exit e;
    struct partition *p = v->part;
    for (;;) {
        virt->vcpu_run(v, &e);
        enum exit_outcome out = handle_exit(v, &e);
        if (out != EXIT_GO || p->state != PART_RUNNING)
            return out;
        if (*stop1 || *stop2 || rdtsc() >= until_tsc)
            return EXIT_GO;
        /* The preemption timer fired (the deadline or the tick), or (stop_on_intr) an
         * interrupt came, which may be the tick the caller waits for. */
        if (e.kind == EXIT_PREEMPT || (e.kind == EXIT_INTR && stop_on_intr))
            return EXIT_GO;
    }
}

/* ---- the partition's COM1: a virtual 16550A (kernel/vuart.c) -------------------------
 * All vCPUs of a partition share one UART, so accesses are serialised by com_lock. What the
 * guest transmits is drained at once into the writing vCPU's console line, so lines from
 * different vCPUs never mix. Receive (console input) comes with the console multiplexer. */

static void com_io(struct vcpu *v, struct io_device *d, uint16_t port, uint8_t size, bool in,
                   uint32_t *val)
{
    struct partition *p = d->ctx;
    uint8_t out[VUART_TX_BUF];
    size_t n = 0;
    uint64_t flags = spin_lock_irqsave(&p->com_lock);
    /* The UART's registers are bytes: a wider access touches consecutive registers. */
    for (unsigned i = 0; i < size; i++) {
        unsigned reg = (unsigned)(port - d->base) + i;
        if (in)
            *val = (*val & ~(0xffu << (8 * i))) | (uint32_t)vuart_read(&p->com1, reg) << (8 * i);
        else
            vuart_write(&p->com1, reg, (uint8_t)(*val >> (8 * i)));
    }
    if (!in)
        n = vuart_tx_take(&p->com1, out, sizeof(out));
    spin_unlock_irqrestore(&p->com_lock, flags);
    for (size_t i = 0; i < n; i++)
        guest_putc(v, (char)out[i]);
}

/* ---- the partition's PCI bus through 0xCF8-0xCFF (kernel/vpci.c) ------------------------
 * One CONFIG_ADDRESS latch per partition, shared by its vCPUs as on hardware (guests
 * serialise their own config cycles), so accesses are serialised by pci_lock. */

#define PCI_CONFIG_PORT 0xcf8

static void pci_io(struct vcpu *v, struct io_device *d, uint16_t port, uint8_t size, bool in,
                   uint32_t *val)
{
    struct partition *p = d->ctx;
    uint64_t flags = spin_lock_irqsave(&p->pci_lock);
    if (in)
        *val = vpci_port_read(&p->pci, port, size);
    else
        vpci_port_write(&p->pci, port, size, *val);
    spin_unlock_irqrestore(&p->pci_lock, flags);
}

bool vdev_attach_pci(struct partition *p)
{
    vpci_init(&p->pci);
    struct io_device d = { PCI_CONFIG_PORT, 8, pci_io, p };
    return partition_add_io(p, &d);
}

bool vdev_attach_console(struct partition *p, uint16_t port)
{
    vuart_init(&p->com1);
    struct io_device d = { port, 8, com_io, p };
    return partition_add_io(p, &d);
}
