# SPDX-License-Identifier: Apache-2.0
# x86 instruction decoder (kernel/insn.c): lengths for SVM without NRIPS, operands for MMIO
# emulation. Pure, so it also builds as a host unit test.
KERNEL_SRCS += kernel/insn.c
UNIT_TESTS  += insn
UNIT_insn_SRCS := tests/unit/test_insn.c kernel/insn.c
