# SPDX-License-Identifier: Apache-2.0
# Moat's UEFI loader (BOOTX64.EFI, GNU-EFI): reads \EFI\MOAT from its own volume, loads the
# kernel ELF and the modules, fills struct boot_info, exits boot services and jumps.
# memmap.c and convert.c are pure and also run as host unit tests.
EFI_SRCS += boot/efi/main.c boot/efi/memmap.c boot/efi/convert.c common/elf.c common/string.c

UNIT_TESTS          += efimap eficonvert
UNIT_efimap_SRCS    := tests/unit/test_efimap.c boot/efi/memmap.c
UNIT_eficonvert_SRCS := tests/unit/test_eficonvert.c boot/efi/convert.c
