// SPDX-License-Identifier: Apache-2.0
// The hypervisor shell on the console (CPU 0 only): list partitions, start, stop and restart
// them, show a partition's last crash, memory use, and move the input focus to a partition.
#ifndef KERNEL_SHELL_H
#define KERNEL_SHELL_H

#include <stdint.h>

/* One byte typed while the shell has the input focus. */
void shell_input(uint8_t c);
/* Print the prompt (and the line typed so far). */
void shell_prompt(void);
#endif
