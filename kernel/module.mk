# SPDX-License-Identifier: Apache-2.0
KERNEL_SRCS += kernel/entry.asm kernel/trampoline.asm kernel/main.c kernel/console.c \
               kernel/gdt.c kernel/trap.c kernel/panic.c kernel/shutdown.c kernel/paging.c \
               kernel/smp.c kernel/cmdline.c kernel/mm.c

UNIT_TESTS += cmdline
UNIT_cmdline_SRCS := tests/unit/test_cmdline.c kernel/cmdline.c

# Generic virtualization core (backends in vmx/ and svm/).
KERNEL_SRCS += kernel/virt.c kernel/vmexit.c kernel/partition.c kernel/guest_entry.c \
               kernel/cpuid_policy.c kernel/msr_policy.c kernel/gwalk.c kernel/run.c \
               kernel/boot_config.c kernel/conmux.c kernel/shell.c

UNIT_TESTS += cpuid_policy
UNIT_cpuid_policy_SRCS := tests/unit/test_cpuid_policy.c kernel/cpuid_policy.c
UNIT_TESTS += msr_policy
UNIT_msr_policy_SRCS := tests/unit/test_msr_policy.c kernel/msr_policy.c
UNIT_TESTS += gwalk
UNIT_gwalk_SRCS := tests/unit/test_gwalk.c kernel/gwalk.c
