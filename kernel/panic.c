// SPDX-License-Identifier: Apache-2.0
// Stopping the machine on a Moat bug. The first CPU to panic wins; later panics on other CPUs
// just halt. Other CPUs are stopped with an NMI (it cannot be masked by a CPU spinning with
// interrupts off); their NMI handler sees panic_in_progress() and halts.
#include <stdarg.h>
#include <stdio.h>
#include "kernel/panic.h"
#include "kernel/console.h"
#include "kernel/percpu.h"
#include "kernel/trap.h"
#include "kernel/shutdown.h"
#include "kernel/x86.h"
#include "drivers/lapic.h"

static volatile int panicking;

bool panic_in_progress(void)
{
    return panicking != 0;
}

static void __attribute__((noreturn)) panic_common(const struct trap_frame *f, const char *where,
                                                   const char *fmt, va_list ap)
{
    cli();
    if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST))
        halt_forever();
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* Another CPU may hold the console lock and never release it now. */
    console_force_unlock();
    lapic_nmi_others();
    if (percpu_ready())
        printk("\nPANIC on CPU %u (APIC %u): %s%s\n", this_cpu()->index, this_cpu()->apic_id, msg, where);
    else
        printk("\nPANIC on CPU 0 (early boot): %s%s\n", msg, where);
    if (f)
        trap_dump(f);
    printk("moat: all CPUs halted\n");
    shutdown_emulator(false);
    halt_forever();
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
    char where[96];
    snprintf(where, sizeof(where), " at %s:%d", file, line);
    va_list ap;
    va_start(ap, fmt);
    panic_common(NULL, where, fmt, ap);
}

void panic_frame(const struct trap_frame *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    panic_common(f, "", fmt, ap);
}
