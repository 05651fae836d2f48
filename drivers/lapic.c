// SPDX-License-Identifier: Apache-2.0
// Local APIC access. Register offsets are the xAPIC MMIO ones (SDM vol. 3A 11.4.1, table 11-1);
// in x2APIC mode the MSR is 0x800 + offset/16 (SDM vol. 3A 11.12.1.2) and the ICR is one
// 64-bit MSR with the destination in bits 63:32.
#include "drivers/lapic.h"
#include "kernel/x86.h"

enum {
    LAPIC_ID = 0x020, LAPIC_TPR = 0x080, LAPIC_EOI = 0x0b0, LAPIC_SVR = 0x0f0,
    LAPIC_ICR_LO = 0x300, LAPIC_ICR_HI = 0x310, LAPIC_LVT_TIMER = 0x320, LAPIC_LVT_ERROR = 0x370,
    LAPIC_TIMER_INIT = 0x380, LAPIC_TIMER_CUR = 0x390, LAPIC_TIMER_DIV = 0x3e0,
};
#define APIC_BASE_ENABLE BIT(11)
#define APIC_BASE_EXTD   BIT(10)
#define APIC_BASE_ADDR   GENMASK(51, 12)
#define SVR_ENABLE       BIT(8)
#define LVT_MASKED       BIT(16)
#define LVT_PERIODIC     BIT(17)
#define TIMER_DIV_16     0x3
#define ICR_DELIVERY_PENDING BIT(12) /* xAPIC only */
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_MODE_NMI     (4u << 8)
#define ICR_MODE_INIT    (5u << 8)
#define ICR_MODE_STARTUP (6u << 8)
#define ICR_ALL_BUT_SELF (3u << 18)
#define SPURIOUS_VECTOR  0xff
#define ERROR_VECTOR     0xfe

static volatile uint32_t *mmio;
static bool x2apic;
static bool ready;

static uint32_t lapic_read(uint32_t reg)
{
    return x2apic ? (uint32_t)rdmsr(0x800 + (reg >> 4)) : mmio[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
    if (x2apic)
        wrmsr(0x800 + (reg >> 4), v);
    else
        mmio[reg / 4] = v;
}

void lapic_init_bsp(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE)) {
        base |= APIC_BASE_ENABLE;
        wrmsr(MSR_IA32_APIC_BASE, base);
    }
    x2apic = base & APIC_BASE_EXTD;
    mmio = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR);
    ready = true;
}

void lapic_init_cpu(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, ERROR_VECTOR);
    lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
}

bool lapic_x2apic_mode(void)
{
    return x2apic;
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_ID);
    return x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
    if (ready)
        lapic_write(LAPIC_EOI, 0);
}

static void send_ipi(uint32_t dest, uint32_t low)
{
    if (x2apic) {
        wrmsr(0x800 + (LAPIC_ICR_LO >> 4), ((uint64_t)dest << 32) | low);
        return;
    }
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, low);
    /* Bounded wait: a wedged APIC must not hang a panic. */
    for (int i = 0; i < 1000000 && (lapic_read(LAPIC_ICR_LO) & ICR_DELIVERY_PENDING); i++)
        cpu_relax();
}

void lapic_send_init(uint32_t apic_id)
{
    send_ipi(apic_id, ICR_MODE_INIT | ICR_LEVEL_ASSERT);
}

void lapic_send_startup(uint32_t apic_id, uint8_t page)
{
    send_ipi(apic_id, ICR_MODE_STARTUP | ICR_LEVEL_ASSERT | page);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
    send_ipi(apic_id, ICR_LEVEL_ASSERT | vector);
}

void lapic_nmi_others(void)
{
    if (ready)
        send_ipi(0, ICR_MODE_NMI | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF);
}

void lapic_timer_oneshot_masked(uint32_t initial)
{
    lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TIMER_INIT, initial);
}

uint32_t lapic_timer_current(void)
{
    return lapic_read(LAPIC_TIMER_CUR);
}

void lapic_timer_oneshot(uint8_t vector, uint32_t initial)
{
    lapic_write(LAPIC_LVT_TIMER, vector);
    lapic_write(LAPIC_TIMER_INIT, initial);
}

void lapic_timer_periodic(uint8_t vector, uint32_t initial)
{
    lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | vector);
    lapic_write(LAPIC_TIMER_INIT, initial);
}
