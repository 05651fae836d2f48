# SPDX-License-Identifier: Apache-2.0
# Shared by the kernel and the loader; host builds use the C library instead.
KERNEL_SRCS += common/string.c common/fmt.c common/elf.c
EFI_SRCS    += common/fmt.c

UNIT_TESTS += fmt
UNIT_fmt_SRCS := tests/unit/test_fmt.c
UNIT_TESTS += string
UNIT_string_SRCS := tests/unit/test_string.c
