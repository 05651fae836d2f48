# SPDX-License-Identifier: Apache-2.0
# MMIO emulation, the pure part (kernel/mmio.c): the device registry and the checks between a
# stage-2 fault and the decoded instruction. Also a host unit test (with the decoder).
KERNEL_SRCS += kernel/mmio.c
UNIT_TESTS  += mmio
UNIT_mmio_SRCS := tests/unit/test_mmio.c kernel/mmio.c kernel/insn.c
