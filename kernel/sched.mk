# SPDX-License-Identifier: Apache-2.0
# Per-CPU scheduler decisions (kernel/sched.c): round-robin, fixed priority with budgets, and
# static cyclic tables. Pure, so it also builds as a host unit test driven by scripted time.
KERNEL_SRCS += kernel/sched.c
UNIT_TESTS  += sched
UNIT_sched_SRCS := tests/unit/test_sched.c kernel/sched.c
