// SPDX-License-Identifier: Apache-2.0
// Ending an emulator run from inside, for automated tests: only when the command line asked
// for it (exit=...), never on real hardware by accident.
#ifndef KERNEL_SHUTDOWN_H
#define KERNEL_SHUTDOWN_H
#include <stdbool.h>

/* Arm or disarm shutdown_emulator(); off by default. */
void shutdown_arm(bool on);
/* If armed: tell QEMU's isa-debug-exit (port 0xf4; QEMU exits with (v << 1) | 1, so 0 -> 1 for
 * success, 1 -> 3 for failure) and Bochs's shutdown port 0x8900 to end the run. Returns if
 * not armed or no emulator listened. */
void shutdown_emulator(bool success);
#endif
