// SPDX-License-Identifier: Apache-2.0
// The console multiplexer: guests' output lines go into one bounded queue, in the order they
// were written, with a quota per partition so that one that floods its UART loses its own
// lines (counted) and never delays the others; CPU 0 prints the queue as "[name:vcpu] text".
// Input read from the console goes to the hypervisor shell or to the partition that has the
// input focus; Ctrl-] gives it back to the shell.
#ifndef KERNEL_CONMUX_H
#define KERNEL_CONMUX_H

#include <stdbool.h>
#include <stdint.h>

#define CONMUX_ESCAPE 0x1d /* Ctrl-] */

struct partition;

/* Queue one line (without its newline) that vCPU `vcpu` of p wrote. Any CPU. */
void conmux_line(struct partition *p, uint32_t vcpu, const char *text, uint32_t len);
/* CPU 0: print what is queued (at most a bounded amount per call). */
void conmux_drain(void);
/* CPU 0: everything queued (before reporting a partition's end). */
void conmux_drain_all(void);
/* Bytes of partition slot's output dropped because its share of the queue was full. */
uint64_t conmux_dropped(uint32_t slot);
/* CPU 0: read what the console received and route it. */
void conmux_poll_input(void);
/* Give the input focus to partition `slot` (-1: the shell). */
void conmux_focus(int slot);
/* The slot with the input focus, -1 for the shell. */
int conmux_focused(void);
#endif
