// SPDX-License-Identifier: Apache-2.0
// The kernel's C entry, shared by both loaders (UEFI and Multiboot2).
#ifndef KERNEL_MAIN_H
#define KERNEL_MAIN_H
#include "common/boot_info.h"

#define MOAT_VERSION "0.1.0"

/* Entered on the BSP in long mode, interrupts off, identity-mapped, with a valid stack. */
void kernel_main(const struct boot_info *bi) __attribute__((noreturn));
#endif
