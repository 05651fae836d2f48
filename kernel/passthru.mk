# SPDX-License-Identifier: Apache-2.0
# Describing a physical PCI function for a partition's virtual bus (kernel/passthru.c): pure,
# unit-tested on a fake device.
KERNEL_SRCS += kernel/passthru.c
UNIT_TESTS  += passthru
UNIT_passthru_SRCS := tests/unit/test_passthru.c kernel/passthru.c kernel/vpci.c
