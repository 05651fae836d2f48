// SPDX-License-Identifier: Apache-2.0
// Pure conversions from firmware data to boot_info fields: UCS-2 file names and load
// options to ASCII, the first line of cmdline.txt, GOP pixel formats to channel positions.
// No EFI calls (host-tested); the loader in main.c does the I/O around them.
#ifndef BOOT_EFI_CONVERT_H
#define BOOT_EFI_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/boot_info.h"

/* Results: >= 0 is the length written (excluding the NUL), < 0 one of these. */
enum conv_status {
    CONV_E_TOO_LONG = -1,  /* result would not fit the destination (nothing is truncated) */
    CONV_E_NOT_ASCII = -2, /* a file name with a character outside printable ASCII */
    CONV_E_NOT_TEXT = -3,  /* a command line that is not printable ASCII text */
    CONV_E_PIXEL = -4,     /* no linear framebuffer (BltOnly, unknown format, bad masks) */
};

const char *conv_strerror(int status);

/* A NUL-terminated UCS-2 file name (at most src_max units read) into dst[dst_size] as
 * ASCII. Printable ASCII only (0x20-0x7e): anything else is CONV_E_NOT_ASCII. */
int conv_name_to_ascii(const uint16_t *src, size_t src_max, char *dst, size_t dst_size);

/* EFI_LOADED_IMAGE.LoadOptions (size in bytes, any alignment) into dst as a command line.
 * Empty or absent: 0. UCS-2 text up to the first NUL, tabs/CR/LF become spaces, surrounding
 * spaces trimmed; a first word ending in ".efi" (the image path the UEFI Shell passes as
 * argv[0]) is dropped. Binary data (odd size, non-printable units, e.g. the GUID EDK2
 * stores in auto-created boot options) is CONV_E_NOT_TEXT. */
int conv_load_options(const void *opts, uint32_t size, char *dst, size_t dst_size);

/* The first line of a cmdline.txt file (buf[0, len), any bytes) into dst. A UTF-8 BOM is
 * skipped, CR/LF ends the line, tabs become spaces, surrounding spaces are trimmed. Other
 * control or non-ASCII bytes in that line: CONV_E_NOT_TEXT. */
int conv_cmdline_file(const char *buf, size_t len, char *dst, size_t dst_size);

/* EFI_GRAPHICS_PIXEL_FORMAT values, UEFI spec 2.10 sect. 12.9.2. */
enum conv_pixel_format {
    CONV_PIXEL_RGBX8 = 0, /* PixelRedGreenBlueReserved8BitPerColor: byte 0 is red */
    CONV_PIXEL_BGRX8 = 1, /* PixelBlueGreenRedReserved8BitPerColor: byte 0 is blue */
    CONV_PIXEL_BITMASK = 2,
    CONV_PIXEL_BLT_ONLY = 3,
};

/* The GOP mode facts the framebuffer description needs (EFI_GRAPHICS_OUTPUT_MODE_INFORMATION
 * and EFI_GRAPHICS_OUTPUT_PROTOCOL_MODE.FrameBufferBase). */
struct conv_gop_mode {
    uint64_t base;
    uint32_t width, height;
    uint32_t pixels_per_scan_line;
    uint32_t format;                             /* enum conv_pixel_format */
    uint32_t red_mask, green_mask, blue_mask, reserved_mask; /* CONV_PIXEL_BITMASK only */
};

/* Fill *fb from *m and return 0, or zero *fb and return CONV_E_PIXEL. */
int conv_gop(const struct conv_gop_mode *m, struct boot_framebuffer *fb);

/* Whether p[0, avail) starts with a valid ACPI RSDP (ACPI 6.5 sect. 5.2.5.3): signature
 * "RSD PTR ", checksum over the first 20 bytes, and for revision >= 2 a Length of at least
 * 36 that fits avail with a valid extended checksum. */
int conv_rsdp_valid(const uint8_t *p, size_t avail);

/* Offset of the first valid RSDP on a 16-byte boundary in p[0, len) (ACPI 6.5 sect.
 * 5.2.5.1, the legacy BIOS search), or -1. */
long conv_rsdp_scan(const uint8_t *p, size_t len);

/* ASCII case-insensitive equality (FAT names compare that way). */
int conv_name_eq(const char *a, const char *b);

#endif
