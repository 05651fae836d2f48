// SPDX-License-Identifier: Apache-2.0
// Firmware strings and pixel formats into boot_info form (see convert.h). Nothing here is
// ever truncated silently: a result that does not fit is an error the loader reports.
#include "boot/efi/convert.h"

#include <string.h>

const char *conv_strerror(int status)
{
    switch (status) {
    case CONV_E_TOO_LONG:
        return "too long";
    case CONV_E_NOT_ASCII:
        return "not printable ASCII";
    case CONV_E_NOT_TEXT:
        return "not a text command line";
    case CONV_E_PIXEL:
        return "no linear framebuffer";
    default:
        return status >= 0 ? "ok" : "unknown conversion error";
    }
}

static int conv_printable(unsigned c)
{
    return c >= 0x20 && c <= 0x7e;
}

static char conv_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int conv_name_eq(const char *a, const char *b)
{
    while (*a && conv_lower(*a) == conv_lower(*b)) {
        a++;
        b++;
    }
    return *a == *b;
}

int conv_name_to_ascii(const uint16_t *src, size_t src_max, char *dst, size_t dst_size)
{
    size_t n = 0;
    for (; n < src_max && src[n] != 0; n++) {
        if (!conv_printable(src[n]))
            return CONV_E_NOT_ASCII;
        if (n + 1 >= dst_size)
            return CONV_E_TOO_LONG;
        dst[n] = (char)src[n];
    }
    if (n >= dst_size) /* dst_size == 0 */
        return CONV_E_TOO_LONG;
    dst[n] = '\0';
    return (int)n;
}

/* Copy text[start, end) into dst and NUL-terminate it, or CONV_E_TOO_LONG. */
static int conv_emit(const char *text, size_t start, size_t end, char *dst, size_t dst_size)
{
    size_t n = end - start;
    if (n + 1 > dst_size)
        return CONV_E_TOO_LONG;
    memcpy(dst, text + start, n);
    dst[n] = '\0';
    return (int)n;
}

static int conv_space(char c)
{
    return c == ' ';
}

/* Trim spaces around text[*start, *end). */
static void conv_trim(const char *text, size_t *start, size_t *end)
{
    while (*start < *end && conv_space(text[*start]))
        (*start)++;
    while (*end > *start && conv_space(text[*end - 1]))
        (*end)--;
}

/* LoadOptions are at most a few KiB in practice; anything longer than this cannot be a
 * command line that fits boot_info anyway, so the scratch copy is bounded. */
#define CONV_OPTS_MAX 1024

int conv_load_options(const void *opts, uint32_t size, char *dst, size_t dst_size)
{
    char text[CONV_OPTS_MAX];
    const uint8_t *p = opts;
    size_t len = 0;

    if (dst_size == 0)
        return CONV_E_TOO_LONG;
    dst[0] = '\0';
    if (!opts || size == 0)
        return 0;
    if (size % 2 != 0)
        return CONV_E_NOT_TEXT;
    for (uint32_t i = 0; i < size / 2; i++) {
        uint16_t c = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
        if (c == 0)
            break;
        if (c == '\t' || c == '\r' || c == '\n')
            c = ' ';
        if (!conv_printable(c))
            return CONV_E_NOT_TEXT;
        if (len == sizeof(text))
            return CONV_E_TOO_LONG;
        text[len++] = (char)c;
    }

    size_t start = 0, end = len;
    conv_trim(text, &start, &end);
    /* The UEFI Shell passes its whole command line, image path first (UEFI Shell spec 2.2,
     * sect. 2.4 "Shell Parameters Protocol": Argv[0] is the command). */
    size_t w = start;
    while (w < end && !conv_space(text[w]))
        w++;
    if (w - start >= 4 && conv_lower(text[w - 4]) == '.' && conv_lower(text[w - 3]) == 'e' &&
        conv_lower(text[w - 2]) == 'f' && conv_lower(text[w - 1]) == 'i') {
        start = w;
        conv_trim(text, &start, &end);
    }
    return conv_emit(text, start, end, dst, dst_size);
}

int conv_cmdline_file(const char *buf, size_t len, char *dst, size_t dst_size)
{
    size_t start = 0, end;

    if (dst_size == 0)
        return CONV_E_TOO_LONG;
    dst[0] = '\0';
    if (len >= 3 && (uint8_t)buf[0] == 0xef && (uint8_t)buf[1] == 0xbb &&
        (uint8_t)buf[2] == 0xbf)
        start = 3;
    end = start;
    while (end < len && buf[end] != '\n' && buf[end] != '\r')
        end++;
    for (size_t i = start; i < end; i++)
        if (!conv_printable((uint8_t)buf[i]) && buf[i] != '\t')
            return CONV_E_NOT_TEXT;
    /* Trim, treating tabs as spaces, then copy with tabs replaced. */
    while (start < end && (buf[start] == ' ' || buf[start] == '\t'))
        start++;
    while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t'))
        end--;
    int n = conv_emit(buf, start, end, dst, dst_size);
    for (int i = 0; i < n; i++)
        if (dst[i] == '\t')
            dst[i] = ' ';
    return n;
}

/* A contiguous channel mask: its lowest bit and width. 0 on an empty or split mask. */
static int conv_mask(uint32_t mask, uint8_t *pos, uint8_t *size)
{
    if (mask == 0)
        return 0;
    unsigned lo = (unsigned)__builtin_ctz(mask);
    uint32_t bits = mask >> lo;
    if ((bits & (bits + 1)) != 0) /* not of the form 0...01...1 */
        return 0;
    uint8_t n = 0;
    for (; bits; bits >>= 1) /* no popcount: libgcc is not linked into the loader */
        n++;
    *pos = (uint8_t)lo;
    *size = n;
    return 1;
}

int conv_gop(const struct conv_gop_mode *m, struct boot_framebuffer *fb)
{
    memset(fb, 0, sizeof(*fb));
    switch (m->format) {
    case CONV_PIXEL_RGBX8:
        fb->red_pos = 0, fb->green_pos = 8, fb->blue_pos = 16;
        fb->red_size = fb->green_size = fb->blue_size = 8;
        fb->bpp = 32;
        break;
    case CONV_PIXEL_BGRX8:
        fb->blue_pos = 0, fb->green_pos = 8, fb->red_pos = 16;
        fb->red_size = fb->green_size = fb->blue_size = 8;
        fb->bpp = 32;
        break;
    case CONV_PIXEL_BITMASK: {
        /* UEFI 2.10 sect. 12.9.2 EFI_PIXEL_BITMASK: a pixel is as wide as the highest bit
         * any mask uses, rounded up to whole bytes. */
        uint32_t all = m->red_mask | m->green_mask | m->blue_mask | m->reserved_mask;
        if ((m->red_mask & m->green_mask) || (m->red_mask & m->blue_mask) ||
            (m->green_mask & m->blue_mask) ||
            !conv_mask(m->red_mask, &fb->red_pos, &fb->red_size) ||
            !conv_mask(m->green_mask, &fb->green_pos, &fb->green_size) ||
            !conv_mask(m->blue_mask, &fb->blue_pos, &fb->blue_size)) {
            memset(fb, 0, sizeof(*fb));
            return CONV_E_PIXEL;
        }
        fb->bpp = (uint8_t)((32 - __builtin_clz(all) + 7) / 8 * 8);
        break;
    }
    default: /* PixelBltOnly: no framebuffer the kernel could write to */
        return CONV_E_PIXEL;
    }
    if (m->base == 0 || m->width == 0 || m->height == 0 ||
        m->pixels_per_scan_line < m->width || m->pixels_per_scan_line > UINT32_MAX / 4) {
        memset(fb, 0, sizeof(*fb));
        return CONV_E_PIXEL;
    }
    fb->base = m->base;
    fb->width = m->width;
    fb->height = m->height;
    fb->pitch = m->pixels_per_scan_line * (fb->bpp / 8u);
    return 0;
}

/* ACPI 6.5 sect. 5.2.5.3, table 5.3: Signature 0-7, Checksum over bytes 0-19, Revision at 15,
 * Length at 20 (4 bytes, revision >= 2), extended checksum over Length bytes. */
#define CONV_RSDP_V1_LEN 20
#define CONV_RSDP_V2_LEN 36

static uint8_t conv_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

int conv_rsdp_valid(const uint8_t *p, size_t avail)
{
    if (avail < CONV_RSDP_V1_LEN || memcmp(p, "RSD PTR ", 8) != 0 ||
        conv_sum(p, CONV_RSDP_V1_LEN) != 0)
        return 0;
    if (p[15] < 2)
        return 1;
    if (avail < CONV_RSDP_V2_LEN)
        return 0;
    uint32_t len = (uint32_t)p[20] | (uint32_t)p[21] << 8 | (uint32_t)p[22] << 16 |
                   (uint32_t)p[23] << 24;
    return len >= CONV_RSDP_V2_LEN && len <= avail && conv_sum(p, len) == 0;
}

long conv_rsdp_scan(const uint8_t *p, size_t len)
{
    for (size_t off = 0; off + CONV_RSDP_V1_LEN <= len; off += 16)
        if (conv_rsdp_valid(p + off, len - off))
            return (long)off;
    return -1;
}
