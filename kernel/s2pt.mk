# SPDX-License-Identifier: Apache-2.0
# Second-level page tables: the generic builder/walker (kernel/s2pt.c), the EPT and NPT entry
# formats it is driven with (vmx/ept.c, svm/npt.c), and their host unit test.
KERNEL_SRCS += kernel/s2pt.c vmx/ept.c svm/npt.c
UNIT_TESTS  += s2pt
UNIT_s2pt_SRCS := tests/unit/test_s2pt.c kernel/s2pt.c vmx/ept.c svm/npt.c
