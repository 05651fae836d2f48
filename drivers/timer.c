// SPDX-License-Identifier: Apache-2.0
// Reference clocks and LAPIC timer calibration.
// Calibration: the LAPIC timer counts down from 0xffffffff (divide by 16, masked) while the
// reference clock measures a fixed 50 ms window; the count consumed over that window gives
// the timer's frequency. The ACPI PM timer (ACPI 6.5 4.8.3.3, 3.579545 MHz, 24 or 32 bits) is
// preferred: servers may lack a PIT. Otherwise the PIT's channel 2 (8254 datasheet, mode 0),
// gated through port 0x61, runs at 1.193182 MHz.
#include "drivers/timer.h"
#include "drivers/lapic.h"
#include "kernel/percpu.h"
#include "kernel/trap.h"
#include "kernel/x86.h"

#define PM_TIMER_HZ 3579545ull
#define PIT_HZ      1193182ull
#define PIT_CH2     0x42
#define PIT_CMD     0x43
#define PIT_GATE    0x61
#define PIT_GATE_ENABLE  0x01
#define PIT_SPEAKER      0x02
#define PIT_OUT2         0x20
#define PIT_CMD_CH2_MODE0_LOHI 0xb0
#define PIT_MAX_CHUNK_US 50000 /* 16-bit count: at most ~54.9 ms per run */
#define CALIBRATION_US   50000

static uint16_t pm_port;
static uint32_t pm_mask;

void timer_init_reference(uint16_t port, bool pm_32bit)
{
    pm_port = port;
    pm_mask = pm_32bit ? 0xffffffffu : 0x00ffffffu;
}

const char *timer_reference_name(void)
{
    return pm_port ? "ACPI PM timer" : "PIT";
}

static void pm_delay(uint64_t us)
{
    uint64_t want = (us * PM_TIMER_HZ + 999999) / 1000000;
    uint64_t seen = 0;
    uint32_t last = inl(pm_port) & pm_mask;
    while (seen < want) {
        uint32_t now = inl(pm_port) & pm_mask;
        seen += (now - last) & pm_mask; /* wraps at 24 or 32 bits */
        last = now;
        cpu_relax();
    }
}

static void pit_delay_chunk(uint64_t us)
{
    uint32_t count = (uint32_t)((us * PIT_HZ + 999999) / 1000000);
    if (count > 0xffff)
        count = 0xffff;
    if (count < 2)
        count = 2;
    uint8_t gate = inb(PIT_GATE) & ~(PIT_GATE_ENABLE | PIT_SPEAKER);
    outb(PIT_GATE, gate);
    outb(PIT_CMD, PIT_CMD_CH2_MODE0_LOHI);
    outb(PIT_CH2, (uint8_t)count);
    outb(PIT_CH2, (uint8_t)(count >> 8));
    outb(PIT_GATE, gate | PIT_GATE_ENABLE);
    while (!(inb(PIT_GATE) & PIT_OUT2))
        cpu_relax();
    outb(PIT_GATE, gate);
}

void timer_udelay(uint64_t us)
{
    if (pm_port) {
        pm_delay(us);
        return;
    }
    while (us) {
        uint64_t chunk = us > PIT_MAX_CHUNK_US ? PIT_MAX_CHUNK_US : us;
        pit_delay_chunk(chunk);
        us -= chunk;
    }
}

/* The TSC is the clock (time in ns since boot, comparable across CPUs: the firmware starts
 * them together and Moat never writes IA32_TIME_STAMP_COUNTER). ns = tsc * tsc_mult >> 32. */
static uint64_t tsc_hz, tsc_mult, lapic_hz_cal;

uint64_t timer_calibrate_lapic(void)
{
    lapic_timer_oneshot_masked(0xffffffffu);
    uint32_t start = lapic_timer_current();
    uint64_t tsc0 = rdtsc();
    timer_udelay(CALIBRATION_US);
    uint64_t tsc1 = rdtsc();
    uint32_t end = lapic_timer_current();
    lapic_timer_oneshot_masked(0);
    tsc_hz = (tsc1 - tsc0) * (1000000 / CALIBRATION_US);
    if (tsc_hz == 0)
        tsc_hz = 1;
    tsc_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / tsc_hz);
    lapic_hz_cal = (uint64_t)(start - end) * (1000000 / CALIBRATION_US);
    return lapic_hz_cal;
}

uint64_t timer_tsc_hz(void)
{
    return tsc_hz;
}

uint64_t timer_ns_to_tsc(uint64_t ns)
{
    unsigned __int128 tsc = ((unsigned __int128)ns * tsc_hz) / 1000000000u;
    return tsc > UINT64_MAX ? UINT64_MAX : (uint64_t)tsc;
}

uint64_t clock_ns(void)
{
    return (uint64_t)(((unsigned __int128)rdtsc() * tsc_mult) >> 32);
}

/* The LAPIC timer runs one-shot, armed for the earlier of the next 100 Hz tick and this CPU's
 * deadline (the scheduler's end of slice or window), so a guest that never exits still loses
 * its CPU on time: external interrupts exit the guest whatever its RFLAGS.IF says. */
#define TICK_NS (1000000000ull / TIMER_TICK_HZ)

static void timer_program(struct percpu *c, uint64_t now)
{
    uint64_t at = c->deadline_ns < c->next_tick_ns ? c->deadline_ns : c->next_tick_ns;
    uint64_t delta = at > now ? at - now : 0;
    uint64_t count = (uint64_t)(((unsigned __int128)delta * lapic_hz_cal) / 1000000000u);
    if (count == 0)
        count = 1;
    if (count > 0xffffffffu)
        count = 0xffffffffu;
    c->armed_ns = at;
    lapic_timer_oneshot(VEC_TIMER, (uint32_t)count);
}

static void timer_tick(struct trap_frame *f)
{
    struct percpu *c = this_cpu();
    uint64_t now = clock_ns();
    if (now >= c->next_tick_ns) {
        c->ticks++;
        c->next_tick_ns += TICK_NS;
        if (c->next_tick_ns <= now)
            c->next_tick_ns = now + TICK_NS; /* fell behind (an emulator paused): no burst */
    }
    if (c->deadline_ns <= now)
        c->deadline_ns = TIMER_NO_DEADLINE;
    timer_program(c, now);
}

void timer_set_deadline(uint64_t ns)
{
    struct percpu *c = this_cpu();
    c->deadline_ns = ns;
    uint64_t at = ns < c->next_tick_ns ? ns : c->next_tick_ns;
    if (at != c->armed_ns)
        timer_program(c, clock_ns());
}

void timer_start_tick(uint64_t lapic_hz)
{
    struct percpu *c = this_cpu();
    trap_set_handler(VEC_TIMER, timer_tick);
    lapic_timer_oneshot_masked(0); /* divide-by-16, stopped */
    c->deadline_ns = TIMER_NO_DEADLINE;
    uint64_t now = clock_ns();
    c->next_tick_ns = now + TICK_NS;
    timer_program(c, now);
}
