# SPDX-License-Identifier: Apache-2.0
# The AMD-V backend (svm/): the ops and run loop (svm.c), the world switch (svm_entry.asm), the
# pure VMCB half (vmcb.c) and its host unit test. svm/npt.c is listed in kernel/s2pt.mk.
KERNEL_SRCS += svm/svm.c svm/vmcb.c svm/svm_entry.asm
UNIT_TESTS  += vmcb
UNIT_vmcb_SRCS := tests/unit/test_vmcb.c svm/vmcb.c
