// SPDX-License-Identifier: Apache-2.0
// Pure conversion of a UEFI memory map (array of EFI_MEMORY_DESCRIPTOR, any descriptor
// stride) into Moat's boot_mem_range list: type translation, sort by base, merge of adjacent
// ranges of one type. No EFI calls: it runs after ExitBootServices and in host unit tests.
#ifndef BOOT_EFI_MEMMAP_H
#define BOOT_EFI_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/boot_info.h"

/* UEFI spec 2.10, sect. 7.2.3 (GetMemoryMap): EFI_MEMORY_DESCRIPTOR, version 1. Firmware
 * reports a DescriptorSize that may be larger than this struct; entries are that far apart. */
struct efimap_desc {
    uint32_t type;
    uint32_t rsvd_0x04;
    uint64_t phys_start;
    uint64_t virt_start;
    uint64_t num_pages;
    uint64_t attribute;
};
_Static_assert(sizeof(struct efimap_desc) == 40, "EFI_MEMORY_DESCRIPTOR layout");
_Static_assert(__builtin_offsetof(struct efimap_desc, phys_start) == 8, "EFI_MEMORY_DESCRIPTOR");
_Static_assert(__builtin_offsetof(struct efimap_desc, num_pages) == 24, "EFI_MEMORY_DESCRIPTOR");

#define EFIMAP_PAGE_SIZE 4096ull /* NumberOfPages counts 4 KiB pages (sect. 7.2.3) */

/* EFI_MEMORY_TYPE values, UEFI spec 2.10 sect. 7.2.1 (AllocatePages), table 7-5. */
enum efimap_type {
    EFIMAP_T_RESERVED = 0,
    EFIMAP_T_LOADER_CODE = 1,
    EFIMAP_T_LOADER_DATA = 2,
    EFIMAP_T_BS_CODE = 3,
    EFIMAP_T_BS_DATA = 4,
    EFIMAP_T_RT_CODE = 5,
    EFIMAP_T_RT_DATA = 6,
    EFIMAP_T_CONVENTIONAL = 7,
    EFIMAP_T_UNUSABLE = 8,
    EFIMAP_T_ACPI_RECLAIM = 9,
    EFIMAP_T_ACPI_NVS = 10,
    EFIMAP_T_MMIO = 11,
    EFIMAP_T_MMIO_PORT = 12,
    EFIMAP_T_PAL_CODE = 13,
    EFIMAP_T_PERSISTENT = 14,
    EFIMAP_T_UNACCEPTED = 15,
};

enum efimap_status {
    EFIMAP_OK = 0,
    EFIMAP_E_DESC_SIZE, /* descriptor size below 40 or not a multiple of 8 */
    EFIMAP_E_MAP_SIZE,  /* map size not a multiple of the descriptor size */
    EFIMAP_E_ALIGN,     /* map buffer not 8-byte aligned */
    EFIMAP_E_RANGE,     /* a descriptor's end address overflows 64 bits */
    EFIMAP_E_OVERLAP,   /* two descriptors overlap */
    EFIMAP_E_OVERFLOW,  /* more merged ranges than the output holds */
    EFIMAP_E_TAKEN,     /* part of the range is memory the firmware keeps (or our own) */
    EFIMAP_E_HOLE,      /* part of the range is not RAM the map describes */
    EFIMAP_E_EMPTY,     /* empty or wrapping range argument */
    EFIMAP_STATUS_COUNT
};

/* The boot_mem_type for an EFI_MEMORY_TYPE. Memory the loader leaves behind (its own code,
 * boot-services memory) is USABLE; LoaderData holds what the kernel receives, so LOADED. */
uint32_t efimap_type_to_boot(uint32_t efi_type);

/* Convert map[0, map_size) (descriptors desc_size bytes apart) into out[0, max): zero-page
 * entries dropped, sorted by base, touching ranges of the same boot type merged. Returns
 * EFIMAP_OK with *count set, or an EFIMAP_E_* code; on EFIMAP_E_OVERFLOW *count is the number
 * of ranges that would have been needed (out holds the first max). The map buffer is used
 * as scratch space and destroyed; it must be 8-byte aligned. Calls nothing outside. */
int efimap_convert(void *map, size_t map_size, size_t desc_size,
                   struct boot_mem_range *out, uint32_t max, uint32_t *count);

/* Whether physical [lo, hi) is entirely memory that is free once boot services are gone:
 * ConventionalMemory, BootServicesCode or BootServicesData (UEFI 2.10 sect. 7.4.6). The map
 * is only read (any order). On EFIMAP_E_TAKEN *bad is the first offending descriptor. */
int efimap_range_reclaimable(const void *map, size_t map_size, size_t desc_size, uint64_t lo,
                             uint64_t hi, struct efimap_desc *bad);

/* Give [base, base + len) the boot type `type` in the sorted, non-overlapping list
 * r[0, *count) of capacity max: ranges it covers are trimmed, split or dropped, it is
 * inserted, and merged with touching neighbours of the same type. The list is unchanged
 * on error (EFIMAP_E_OVERFLOW if the worst case, before merging, would exceed max). */
int efimap_mark(struct boot_mem_range *r, uint32_t *count, uint32_t max, uint64_t base,
                uint64_t len, uint32_t type);

const char *efimap_strerror(int status);

#endif
