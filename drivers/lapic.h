// SPDX-License-Identifier: Apache-2.0
// The host local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode, whichever firmware left enabled.
// Owns IPIs, EOI and the LAPIC timer registers; timer policy lives in drivers/timer.c.
#ifndef DRIVERS_LAPIC_H
#define DRIVERS_LAPIC_H
#include <stdint.h>
#include <stdbool.h>

/* On the BSP, once: find the mode and base from IA32_APIC_BASE (SDM vol. 3A 11.4.4). */
void lapic_init_bsp(void);
/* On each CPU: software-enable with the spurious vector, accept all priorities, mask the timer. */
void lapic_init_cpu(void);
bool lapic_x2apic_mode(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Start an AP (SDM vol. 3A 8.4.4.1): INIT, then STARTUP with the trampoline's page number. */
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint8_t page);
/* A fixed-delivery IPI with `vector` to one CPU. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
/* NMI to every CPU but this one; a no-op before lapic_init_bsp(). */
void lapic_nmi_others(void);
/* Timer (SDM vol. 3A 11.5.4), divide-by-16 input clock. */
void lapic_timer_oneshot_masked(uint32_t initial);
uint32_t lapic_timer_current(void);
void lapic_timer_periodic(uint8_t vector, uint32_t initial);
/* One interrupt on `vector` after `initial` input clocks (divide-by-16 already selected). */
void lapic_timer_oneshot(uint8_t vector, uint32_t initial);
#endif
