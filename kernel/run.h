// SPDX-License-Identifier: Apache-2.0
// The run time: the configured partitions, one scheduler and run loop per CPU, and the
// lifecycle (start, crash, restart with back-off, stop) kept by CPU 0's supervisor.
#ifndef KERNEL_RUN_H
#define KERNEL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/config.h"

/* The image of each configured partition, indexed like cfg->partitions. */
struct run_image {
    const void *data;
    uint64_t size;
};

/* Start cfg's autostart partitions and turn every CPU with virtualization into a scheduler
 * run loop; the calling CPU (the BSP) becomes CPU 0's. cfg and images must stay valid. With
 * exit_when_done, once no partition runs or waits for a restart the summary is printed and the
 * emulator exits (success when every partition exited with status 0). Never returns. */
void __attribute__((noreturn)) run_partitions(const struct moat_config *cfg,
                                              const struct run_image *images,
                                              bool exit_when_done);

/* Lifecycle requests (CPU 0 carries them out at its next pass, within a tick). */
bool run_request_stop(uint32_t slot);
bool run_request_start(uint32_t slot);
#endif
