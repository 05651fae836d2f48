# SPDX-License-Identifier: Apache-2.0
# Virtual PCI configuration space (kernel/vpci.c): a partition's bus 0 through 0xCF8/0xCFC and
# ECAM. Pure, so it also builds as a host unit test and a libFuzzer target.
KERNEL_SRCS += kernel/vpci.c
UNIT_TESTS  += vpci
UNIT_vpci_SRCS := tests/unit/test_vpci.c kernel/vpci.c

# ---- fuzzing (the fuzz_target rule is in the top-level Makefile) ------------------------
$(eval $(call fuzz_target,vpci,tests/fuzz/fuzz_vpci.c kernel/vpci.c kernel/vpci.h,2048,))
