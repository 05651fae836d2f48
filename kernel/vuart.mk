# SPDX-License-Identifier: Apache-2.0
# The virtual 16550A register model (kernel/vuart.c): linked into the kernel, driven by its host
# unit test (register sequences of Linux's 8250 driver) and by a libFuzzer target.
KERNEL_SRCS += kernel/vuart.c
UNIT_TESTS  += vuart
UNIT_vuart_SRCS := tests/unit/test_vuart.c kernel/vuart.c

# ---- fuzzing (the fuzz_target rule is in the top-level Makefile) ------------------------
$(eval $(call fuzz_target,vuart,tests/fuzz/fuzz_vuart.c kernel/vuart.c kernel/vuart.h,4096,))
