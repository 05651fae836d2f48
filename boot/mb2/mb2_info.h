// SPDX-License-Identifier: Apache-2.0
// The Multiboot2 boot information format (Multiboot2 spec 2.0, section 3.6) and the pure
// converter from it to struct boot_info. No privileged instruction and no fixed address:
// the caller passes the structure, where it lives and where the kernel lies.
#ifndef BOOT_MB2_MB2_INFO_H
#define BOOT_MB2_MB2_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "common/boot_info.h"

/* EAX on entry from a Multiboot2 loader (spec 3.3). */
#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Boot information tag types (spec 3.6.2 onwards). */
#define MB2_TAG_END         0
#define MB2_TAG_CMDLINE     1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE      3
#define MB2_TAG_MMAP        6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ACPI_OLD    14
#define MB2_TAG_ACPI_NEW    15

/* Memory map entry types (spec 3.6.8). */
#define MB2_MEM_AVAILABLE    1
#define MB2_MEM_ACPI_RECLAIM 3
#define MB2_MEM_NVS          4
#define MB2_MEM_BAD          5

/* Framebuffer types (spec 3.6.12): only a direct RGB framebuffer is passed on. */
#define MB2_FB_TYPE_RGB 1

/* The fixed head of the information structure (spec 3.6.1). */
struct mb2_info_head {
    uint32_t total_size; /* bytes, including this head and the end tag */
    uint32_t reserved;
};
_Static_assert(sizeof(struct mb2_info_head) == 8, "mb2_info_head layout");

/* Every tag starts with this; tags start on 8-byte boundaries (spec 3.6.1). */
struct mb2_tag {
    uint32_t type;
    uint32_t size; /* bytes, including this header, excluding the padding after the tag */
};
_Static_assert(sizeof(struct mb2_tag) == 8, "mb2_tag layout");

/* Type 3 (spec 3.6.6); a NUL-terminated string follows. mod_end is exclusive. */
struct mb2_tag_module {
    struct mb2_tag tag;
    uint32_t mod_start;
    uint32_t mod_end;
};
_Static_assert(sizeof(struct mb2_tag_module) == 16, "mb2_tag_module layout");

/* Type 6 (spec 3.6.8); entries of entry_size bytes follow. */
struct mb2_tag_mmap {
    struct mb2_tag tag;
    uint32_t entry_size;
    uint32_t entry_version;
};
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "mb2_tag_mmap layout");

struct mb2_mmap_entry {
    uint64_t base_addr;
    uint64_t length;
    uint32_t type;
    uint32_t reserved;
};
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "mb2_mmap_entry layout");

/* Type 8 (spec 3.6.12). The spec's table shows one reserved byte but its reference header
 * (multiboot2.h, spec section 5) and GRUB use a 16-bit field: color_info is at 32. */
struct mb2_tag_framebuffer {
    struct mb2_tag tag;
    uint64_t addr;
    uint32_t pitch;
    uint32_t width;
    uint32_t height;
    uint8_t bpp;
    uint8_t fb_type;
    uint16_t reserved;
    /* fb_type == MB2_FB_TYPE_RGB: */
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};
_Static_assert(__builtin_offsetof(struct mb2_tag_framebuffer, fb_type) == 29,
               "mb2_tag_framebuffer layout");
_Static_assert(__builtin_offsetof(struct mb2_tag_framebuffer, red_pos) == 32,
               "mb2_tag_framebuffer layout");
#define MB2_FB_COMMON_SIZE 32u
#define MB2_FB_RGB_SIZE    38u

/* Types 14 and 15 (spec 3.6.15, 3.6.16): a copy of the ACPI RSDP follows the header. */
#define MB2_RSDP_V1_SIZE 20u /* ACPI 6.5 5.2.5.3: revision 0 RSDP */
#define MB2_RSDP_V2_SIZE 36u /* revision 2 and later: XSDT fields added */

/* What the converter needs besides the structure itself. */
struct mb2_input {
    const void *info;     /* the information structure as this code can read it */
    size_t max_len;       /* bytes readable at info; total_size must not exceed it */
    uint64_t info_phys;   /* its physical address (the RSDP address is computed from it) */
    uint64_t kernel_base; /* physical range of the kernel image, bss included */
    uint64_t kernel_size;
};

enum mb2_status {
    MB2_OK = 0,
    MB2_E_MALFORMED = -1, /* the structure or a tag breaks the spec's layout rules */
    MB2_E_NO_MMAP = -2,   /* no memory map tag */
    MB2_E_LIMIT = -3,     /* valid, but does not fit struct boot_info */
};

/* Converts the Multiboot2 information at in->info into *bi (fully overwritten). Reads no byte
 * outside [info, info + min(total_size, max_len)). On failure returns a negative
 * enum mb2_status and writes a one-line reason into err (always NUL-terminated if errlen > 0). */
int mb2_to_boot_info(const struct mb2_input *in, struct boot_info *bi, char *err, size_t errlen);

#endif
