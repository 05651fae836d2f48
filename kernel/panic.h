// SPDX-License-Identifier: Apache-2.0
// panic(): for Moat's own bugs only (never for guest behaviour or bad input). Prints the CPU,
// the message and file:line, stops every CPU, and ends an emulator run when asked to.
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H
#include <stdbool.h>
struct trap_frame;

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
void panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* From an exception: also dumps the interrupted registers. */
void panic_frame(const struct trap_frame *f, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
bool panic_in_progress(void);
#endif
