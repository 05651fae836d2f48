// SPDX-License-Identifier: Apache-2.0
// Bringing up the application processors listed by ACPI, one at a time.
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H
#include <stdint.h>
#include "drivers/acpi.h"
#include "kernel/mm.h"

/* Start every enabled CPU in `acpi` other than the BSP; each runs ap_entry(percpu) on its own
 * stack with `cr3`, then smp_ap_main. Returns the number of CPUs online, BSP included. */
uint32_t smp_start_aps(const struct acpi_info *acpi, hpa_t cr3, uint64_t lapic_hz);
/* Post fn(arg) to CPU `cpu` (not this one), which runs it from its idle loop; the CPU must
 * be idle (no work pending). */
struct percpu;
void smp_run_on(struct percpu *cpu, void (*fn)(void *), void *arg);
/* Make CPU `cpu` leave guest mode or its idle halt and look at its run loop's state again
 * (VEC_KICK); nothing for this CPU, which is looking already. */
void smp_kick(struct percpu *cpu);
/* Wait (bounded) until every online CPU has taken `ticks` timer interrupts; returns how many did. */
uint32_t smp_wait_ticks(uint64_t ticks);
#endif
