// SPDX-License-Identifier: Apache-2.0
// Test-run shutdown through the emulators' debug ports. Both writes are harmless on the other
// emulator (nothing decodes those ports there).
#include "kernel/shutdown.h"
#include "kernel/console.h"
#include "kernel/x86.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT  0x8900

static bool armed;

void shutdown_arm(bool on)
{
    armed = on;
}

void shutdown_emulator(bool success)
{
    if (!armed)
        return;
    console_flush(); /* the emulator ends at once: let the last line out first */
    outl(QEMU_DEBUG_EXIT_PORT, success ? 0 : 1);
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
}
