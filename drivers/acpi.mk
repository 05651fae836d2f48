# SPDX-License-Identifier: Apache-2.0
# ACPI static table parser (drivers/acpi.c): part of the kernel, and a pure module with
# its own host unit test.
KERNEL_SRCS += drivers/acpi.c
UNIT_TESTS  += acpi
UNIT_acpi_SRCS := tests/unit/test_acpi.c drivers/acpi.c
