# SPDX-License-Identifier: Apache-2.0
# The pure ELF64 loader (common/elf.c): linked into the UEFI loader (boot/efi/efi.mk) and
# tested on the host here. The kernel adds it to KERNEL_SRCS when it loads guest images.
UNIT_TESTS     += elf
UNIT_elf_SRCS  := tests/unit/test_elf.c common/elf.c
