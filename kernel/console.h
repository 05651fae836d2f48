// SPDX-License-Identifier: Apache-2.0
// The hypervisor console: formatted, line-atomic output to the host UART chosen on the
// command line. Every CPU may print; a line is never interleaved with another CPU's.
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H
#include <stdint.h>

/* Select the UART at `port` and program it. Before this, output goes nowhere. */
void console_init(uint16_t port);
/* The I/O port of the console UART (0 before console_init). */
uint16_t console_port(void);
/* printf-style output (see include/libc/stdio.h for the conversions). */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wait until everything printed has left the UART (before ending an emulator run). */
void console_flush(void);
/* The next byte the console UART received, or -1. */
int console_getc(void);
/* After a panic the lock may be held by a halted CPU: print without it from now on. */
void console_force_unlock(void);
#endif
