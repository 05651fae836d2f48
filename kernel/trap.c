// SPDX-License-Identifier: Apache-2.0
// The shared IDT and the dispatcher behind kernel/entry.asm's stubs. An exception taken in
// the hypervisor is a Moat bug: dump the frame and panic. Device vectors go to registered
// handlers; an unexpected vector is reported once per vector and acknowledged.
#include <stdbool.h>
#include "kernel/trap.h"
#include "kernel/percpu.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/x86.h"
#include "drivers/lapic.h"

/* 64-bit interrupt gate (SDM vol. 3A 6.14.1, figure 6-8). */
struct __attribute__((packed)) idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr; /* P=1, DPL=0, type 1110b: 64-bit interrupt gate */
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t rsvd_0x0c;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate size");
#define GATE_INTERRUPT 0x8e

extern const uint64_t isr_stub_table[256];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_t handlers[256];
static volatile bool unexpected_seen[256];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
    "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t a = isr_stub_table[v];
        idt[v] = (struct idt_gate){
            .offset_lo = (uint16_t)a,
            .selector = SEL_KCODE,
            .ist = 0,
            .type_attr = GATE_INTERRUPT,
            .offset_mid = (uint16_t)(a >> 16),
            .offset_hi = (uint32_t)(a >> 32),
        };
    }
    idt[8].ist = IST_DOUBLE_FAULT;
    idt[2].ist = IST_NMI;
    idt[18].ist = IST_MACHINE_CHECK;
}

void idt_load(void)
{
    struct desc_ptr idtr = { sizeof(idt) - 1, (uint64_t)idt };
    lidt(&idtr);
}

void trap_set_handler(uint8_t vector, irq_handler_t fn)
{
    handlers[vector] = fn;
}

void trap_dump(const struct trap_frame *f)
{
    printk("  RIP %016lx CS %04lx RFLAGS %016lx\n", f->rip, f->cs, f->rflags);
    printk("  RSP %016lx SS %04lx CR2 %016lx CR3 %016lx\n", f->rsp, f->ss, read_cr2(), read_cr3());
    printk("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    printk("  RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    printk("  R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
    printk("  R13 %016lx R14 %016lx R15 %016lx CR0 %016lx CR4 %016lx\n", f->r13, f->r14, f->r15,
           read_cr0(), read_cr4());
}

void trap_dispatch(struct trap_frame *f)
{
    uint64_t v = f->vector;
    if (v == 2) {
        if (panic_in_progress())
            halt_forever(); /* the panicking CPU stops the others with an NMI */
        /* Any other NMI (a watchdog, one that arrived while a guest ran): count it and go on.
         * No printing: the interrupted code may hold the console lock. */
        if (percpu_ready())
            this_cpu()->nmis++;
        return;
    }
    if (v < 32) {
        panic_frame(f, "exception %lu (%s), error code 0x%lx", v, exception_names[v], f->error_code);
    }
    if (v == VEC_SPURIOUS)
        return; /* no EOI for the spurious vector (SDM vol. 3A 11.9) */
    if (handlers[v]) {
        handlers[v](f);
    } else if (!unexpected_seen[v]) {
        unexpected_seen[v] = true;
        printk("trap: unexpected interrupt vector %lu on CPU %u, ignored\n", v, this_cpu()->index);
    }
    lapic_eoi();
}
