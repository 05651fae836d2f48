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
/* On this CPU: periodic TIMER_TICK_HZ interrupts on VEC_TIMER, counted in this_cpu()->ticks. */
void timer_start_tick(uint64_t lapic_hz);
#endif
