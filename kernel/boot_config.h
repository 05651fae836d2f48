// SPDX-License-Identifier: Apache-2.0
// The partition configuration at boot: moat.cfg, or the command line's guest= words.
#ifndef KERNEL_BOOT_CONFIG_H
#define KERNEL_BOOT_CONFIG_H

#include <stdbool.h>
#include "common/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/config.h"
#include "kernel/run.h"

#define BOOT_CONFIG_NAME "moat.cfg"

/* Parse and check the configuration against this machine, printing every diagnostic as
 * FILE:LINE:COL. Sets *found to false when there is neither moat.cfg nor a guest= word.
 * Returns false when there were errors (nothing may start); else fills cfg and images. */
bool boot_config_load(const struct boot_info *bi, const struct cmdline *cmd,
                      struct moat_config *cfg, struct run_image *images, bool *found);
#endif
