// SPDX-License-Identifier: Apache-2.0
// Time on the host: a fixed-frequency reference clock (ACPI PM timer, else the 8254 PIT) for
// busy-wait delays and for calibrating the LAPIC timer, which then ticks on every CPU.
#ifndef DRIVERS_TIMER_H
#define DRIVERS_TIMER_H
#include <stdint.h>
#include <stdbool.h>

#define TIMER_TICK_HZ 100

/* Choose the reference: the PM timer at pm_port (0 = none; pm_32bit from FADT TMR_VAL_EXT),
 * else the PIT. */
void timer_init_reference(uint16_t pm_port, bool pm_32bit);
const char *timer_reference_name(void);
/* Busy-wait at least `us` microseconds. */
void timer_udelay(uint64_t us);
/* Measure the LAPIC timer's input (after divide-by-16) in Hz against the reference. */
uint64_t timer_calibrate_lapic(void);
/* On this CPU: TIMER_TICK_HZ interrupts on VEC_TIMER, counted in this_cpu()->ticks, plus one
 * at the deadline set by timer_set_deadline. Needs timer_calibrate_lapic first (on the BSP). */
void timer_start_tick(uint64_t lapic_hz);
/* Nanoseconds since an arbitrary start, from the TSC calibrated by timer_calibrate_lapic. */
uint64_t clock_ns(void);
uint64_t timer_tsc_hz(void);
/* The TSC value at clock_ns() == ns (UINT64_MAX maps beyond any TSC). */
uint64_t timer_ns_to_tsc(uint64_t ns);
/* An interrupt on this CPU at clock_ns() == ns at the latest (as well as the ticks);
 * TIMER_NO_DEADLINE: ticks only. Call with interrupts disabled. */
#define TIMER_NO_DEADLINE UINT64_MAX
void timer_set_deadline(uint64_t ns);
#endif
