# SPDX-License-Identifier: Apache-2.0
# The console's bounded line queue (kernel/lineq.c): pure, so it also builds as a unit test.
KERNEL_SRCS += kernel/lineq.c
UNIT_TESTS  += lineq
UNIT_lineq_SRCS := tests/unit/test_lineq.c kernel/lineq.c
