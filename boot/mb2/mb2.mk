# SPDX-License-Identifier: Apache-2.0
# The Multiboot2 entry: header and 32-bit start-up (NASM), the C glue that hands over to the
# kernel, and the pure tag converter (also built for the host unit test).
KERNEL_SRCS += boot/mb2/header.asm boot/mb2/entry.asm boot/mb2/mb2_main.c boot/mb2/mb2_info.c
UNIT_TESTS  += mb2
UNIT_mb2_SRCS := tests/unit/test_mb2.c boot/mb2/mb2_info.c
