# SPDX-License-Identifier: Apache-2.0
# The Intel VT-x backend (vmx/; vmx/ept.c is built by kernel/s2pt.mk) and the unit test of its
# VMCS field table and control fitting.
KERNEL_SRCS += vmx/vmx.c vmx/vmx_run.c vmx/vmx_entry.asm
UNIT_TESTS  += vmcs
UNIT_vmcs_SRCS := tests/unit/test_vmcs.c
