# SPDX-License-Identifier: Apache-2.0
KERNEL_SRCS += kernel/entry.asm kernel/trampoline.asm kernel/main.c kernel/console.c \
               kernel/gdt.c kernel/trap.c kernel/panic.c kernel/shutdown.c kernel/paging.c \
               kernel/smp.c kernel/cmdline.c

UNIT_TESTS += cmdline
UNIT_cmdline_SRCS := tests/unit/test_cmdline.c kernel/cmdline.c
