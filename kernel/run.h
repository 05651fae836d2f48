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

/* ---- for the shell and the console (CPU 0) ---- */
struct partition;
struct run_info {
    const char *name;
    const char *state;       /* "off", "running", "restarting", "exited", "stopped", "crashed" */
    char cpus[48];           /* "0-1,3" */
    uint64_t memory;         /* bytes of RAM */
    uint64_t held;           /* bytes Moat holds for it besides its RAM (0: not running) */
    uint64_t cpu_ns, exits;  /* its current run; CPU time as of each vCPU's last switch */
    uint32_t restarts;
    uint64_t dropped;        /* console output bytes dropped (kernel/conmux.c) */
    const char *last_crash;  /* "" when none */
};
uint32_t run_slot_count(void);
const char *run_slot_name(uint32_t slot);
int run_find(const char *name); /* slot, or -1 */
void run_info(uint32_t slot, struct run_info *out);
/* The running partition of slot (NULL if none). Valid until CPU 0's next supervisor pass. */
struct partition *run_partition(uint32_t slot);
/* Lifecycle requests, carried out by CPU 0's supervisor at its next pass. start: false if it
 * runs already; stop: false if it does not run; restart: stop if running, then start. */
bool run_request_stop(uint32_t slot);
bool run_request_start(uint32_t slot);
void run_request_restart(uint32_t slot);
#endif
