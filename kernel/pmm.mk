# SPDX-License-Identifier: Apache-2.0
# Physical frame allocator (kernel/pmm.c) and its host unit test.
KERNEL_SRCS += kernel/pmm.c
UNIT_TESTS  += pmm
UNIT_pmm_SRCS := tests/unit/test_pmm.c kernel/pmm.c
