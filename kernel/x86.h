// SPDX-License-Identifier: Apache-2.0
// Single privileged x86-64 instructions as static inline wrappers, and the architectural
// constants the host side of the kernel uses (Intel SDM vol. 3A, AMD APM vol. 2).
// Nothing here has state; every user of a privileged instruction goes through this file.
#ifndef KERNEL_X86_H
#define KERNEL_X86_H

#include <stdint.h>
#include <stdbool.h>

#define BIT(n)          (UINT64_C(1) << (n))
#define GENMASK(hi, lo) ((~UINT64_C(0) >> (63 - (hi))) & ~((UINT64_C(1) << (lo)) - 1))

/* Control registers (SDM vol. 3A 2.5). */
#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR4_PAE BIT(5)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_PGE BIT(7)
#define CR4_OSFXSR BIT(9)

/* MSRs (SDM vol. 4). */
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_EFER           0xc0000080
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

/* RFLAGS (SDM vol. 1 3.4.3). */
#define RFLAGS_IF BIT(9)

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline void write_cr2(uint64_t v) { __asm__ volatile("mov %0, %%cr2" ::"r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }

/* Debug registers 0-3 and 6 (SDM vol. 3B 18.2), which neither VT-x nor AMD-V switches. */
#define DEFINE_DR(n)                                                                            \
    static inline uint64_t read_dr##n(void) { uint64_t v; __asm__ volatile("mov %%db" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_dr##n(uint64_t v) { __asm__ volatile("mov %0, %%db" #n ::"r"(v)); }
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
#undef DEFINE_DR

/* x87/MMX/SSE state (SDM vol. 1 10.5 "FXSAVE and FXRSTOR"): a 512-byte, 16-byte aligned area.
 * Needs CR4.OSFXSR for the XMM registers to be included. */
static inline void fxsave64(void *area) { __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])area)); }
static inline void fxrstor64(const void *area) { __asm__ volatile("fxrstor64 %0" ::"m"(*(const uint8_t(*)[512])area)); }

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* sti takes effect after the next instruction, so no interrupt slips in between. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
/* Let interrupts that are pending in, then block them again: STI's shadow covers one
 * instruction, so the NOP is where they arrive (SDM vol. 2B STI). */
static inline void irq_window(void) { __asm__ volatile("sti; nop; cli" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

struct __attribute__((packed)) desc_ptr {
    uint16_t limit;
    uint64_t base;
};
static inline void lgdt(const struct desc_ptr *p) { __asm__ volatile("lgdt %0" ::"m"(*p)); }
static inline void lidt(const struct desc_ptr *p) { __asm__ volatile("lidt %0" ::"m"(*p)); }
static inline void ltr(uint16_t sel) { __asm__ volatile("ltr %0" ::"r"(sel)); }

static inline void __attribute__((noreturn)) halt_forever(void)
{
    for (;;) {
        cli();
        hlt();
    }
}

/* Interrupt-state save/restore for short critical sections. */
static inline uint64_t irq_save(void)
{
    uint64_t f = read_rflags();
    cli();
    return f;
}
static inline void irq_restore(uint64_t flags)
{
    if (flags & RFLAGS_IF)
        sti();
}

#endif
