// SPDX-License-Identifier: Apache-2.0
// Multiboot2 boot information -> struct boot_info, as a pure function (host unit tested).
// First a pass that validates every tag against total_size and the caller's bound, then a
// pass that trusts the layout and fills boot_info; it fails only if the result is empty or
// does not fit. On failure boot_info is left all zero.
#include "boot/mb2/mb2_info.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MB2_PAGE_SIZE 4096ull
#define MB2_MODULE_NAME_OFF ((uint32_t)sizeof(struct mb2_tag_module))
#define MB2_FB_TYPE_OFF ((uint32_t)offsetof(struct mb2_tag_framebuffer, fb_type))
#define MB2_TAG_ALIGN 8u /* spec 3.6.1: every tag starts 8-byte aligned */

/* Raw memory map entries are compared pairwise while normalizing (quadratic): bound them. */
#define MB2_MMAP_ENTRIES_MAX (4 * BOOT_MEM_MAX)

/* Where the validation pass found each tag: offsets from the start of the structure.
 * 0 means absent (offset 0 is the fixed head, never a tag). */
struct mb2_scan {
    uint32_t total;
    uint32_t cmdline, mmap, fb, acpi_old, acpi_new;
    uint32_t module_count;
    uint32_t module[BOOT_MODULES_MAX];
};

/* [start, end) in physical address space; end is clamped to UINT64_MAX on overflow. */
struct mb2_range {
    uint64_t start, end;
};

__attribute__((format(printf, 4, 5)))
static int mb2_fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* The structure is only 8-byte aligned as a whole and may be hostile: read through memcpy. */
static uint32_t mb2_rd32(const uint8_t *p, uint32_t off)
{
    uint32_t v;

    memcpy(&v, p + off, sizeof(v));
    return v;
}

static uint64_t mb2_rd64(const uint8_t *p, uint32_t off)
{
    uint64_t v;

    memcpy(&v, p + off, sizeof(v));
    return v;
}

/* Copies a string whose length pass 1 has already bounded by the destination's size. */
static void mb2_copy_string(char *dst, const uint8_t *src)
{
    memcpy(dst, src, strlen((const char *)src) + 1);
}

static uint64_t mb2_end_of(uint64_t start, uint64_t len)
{
    return len > UINT64_MAX - start ? UINT64_MAX : start + len;
}

/* The string filling a tag from offset hdr to its end: NUL-terminated, shorter than max. */
static int mb2_check_string(const uint8_t *p, uint32_t off, uint32_t hdr, uint32_t size,
                            const char *what, size_t max, char *err, size_t errlen)
{
    size_t n = strnlen((const char *)p + off + hdr, size - hdr);

    if (n == size - hdr)
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "%s in the tag at offset %u is not NUL-terminated", what, off);
    if (n >= max)
        return mb2_fail(err, errlen, MB2_E_LIMIT,
                        "%s is %zu bytes long, more than the %zu Moat accepts", what, n, max - 1);
    return MB2_OK;
}

static int mb2_check_module(const uint8_t *p, uint32_t off, uint32_t size,
                            struct mb2_scan *s, char *err, size_t errlen)
{
    uint32_t start, end;
    const char *name;
    int rc;

    if (size < sizeof(struct mb2_tag_module) + 1)
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "module tag at offset %u is too short (%u bytes)", off, size);
    rc = mb2_check_string(p, off, MB2_MODULE_NAME_OFF, size, "module name",
                          BOOT_MODULE_NAME_MAX, err, errlen);
    if (rc)
        return rc;
    name = (const char *)p + off + MB2_MODULE_NAME_OFF;
    start = mb2_rd32(p, off + offsetof(struct mb2_tag_module, mod_start));
    end = mb2_rd32(p, off + offsetof(struct mb2_tag_module, mod_end));
    if (name[0] == '\0')
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "module at 0x%x has no name (module2 FILE NAME)", start);
    if (end < start)
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "module '%s' ends (0x%x) before it starts (0x%x)", name, end, start);
    /* We ask for page-aligned modules with the module alignment tag (spec 3.1.11). */
    if (start & (MB2_PAGE_SIZE - 1))
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "module '%s' at 0x%x is not page-aligned", name, start);
    for (uint32_t i = 0; i < s->module_count; i++)
        if (strcmp((const char *)p + s->module[i] + MB2_MODULE_NAME_OFF, name) == 0)
            return mb2_fail(err, errlen, MB2_E_MALFORMED, "two modules are named '%s'", name);
    if (s->module_count == BOOT_MODULES_MAX)
        return mb2_fail(err, errlen, MB2_E_LIMIT,
                        "more than %d modules (Moat accepts %d)", BOOT_MODULES_MAX,
                        BOOT_MODULES_MAX);
    s->module[s->module_count++] = off;
    return MB2_OK;
}

static int mb2_check_mmap(const uint8_t *p, uint32_t off, uint32_t size, char *err, size_t errlen)
{
    uint32_t esize, version, count;

    if (size < sizeof(struct mb2_tag_mmap))
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "memory map tag at offset %u is too short (%u bytes)", off, size);
    esize = mb2_rd32(p, off + offsetof(struct mb2_tag_mmap, entry_size));
    version = mb2_rd32(p, off + offsetof(struct mb2_tag_mmap, entry_version));
    /* Spec 3.6.8: entry_size is a multiple of 8; version 0 entries are 24 bytes, a later
     * version may only append fields. */
    if (esize < sizeof(struct mb2_mmap_entry) || esize % 8)
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "memory map entry_size %u is invalid (want a multiple of 8, >= 24)",
                        esize);
    if (version != 0)
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "memory map entry_version %u is not 0", version);
    if ((size - sizeof(struct mb2_tag_mmap)) % esize)
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "memory map tag size %u is not 16 + a multiple of entry_size %u",
                        size, esize);
    count = (size - (uint32_t)sizeof(struct mb2_tag_mmap)) / esize;
    if (count > MB2_MMAP_ENTRIES_MAX)
        return mb2_fail(err, errlen, MB2_E_LIMIT,
                        "memory map has %u entries, more than %d", count, MB2_MMAP_ENTRIES_MAX);
    return MB2_OK;
}

/* Notes one tag that may appear at most once. */
static int mb2_once(uint32_t *slot, uint32_t off, uint32_t type, char *err, size_t errlen)
{
    if (*slot)
        return mb2_fail(err, errlen, MB2_E_MALFORMED, "duplicate tag of type %u at offset %u",
                        type, off);
    *slot = off;
    return MB2_OK;
}

/* Pass 1: walk the tags (spec 3.6.1), check every size, remember where the useful ones are. */
static int mb2_scan(const struct mb2_input *in, struct mb2_scan *s, char *err, size_t errlen)
{
    const uint8_t *p = in->info;
    uint32_t off = sizeof(struct mb2_info_head);
    int rc;

    memset(s, 0, sizeof(*s));
    if (in->max_len < sizeof(struct mb2_info_head) + sizeof(struct mb2_tag))
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "boot information area is only %zu bytes", in->max_len);
    s->total = mb2_rd32(p, 0);
    if (s->total < sizeof(struct mb2_info_head) + sizeof(struct mb2_tag) ||
        s->total > in->max_len)
        return mb2_fail(err, errlen, MB2_E_MALFORMED,
                        "bad total_size %u in the boot information (limit %zu)", s->total,
                        in->max_len);

    for (;;) {
        uint32_t type, size;

        if (s->total - off < sizeof(struct mb2_tag))
            return mb2_fail(err, errlen, MB2_E_MALFORMED,
                            "no end tag within total_size %u", s->total);
        type = mb2_rd32(p, off + offsetof(struct mb2_tag, type));
        size = mb2_rd32(p, off + offsetof(struct mb2_tag, size));
        if (size < sizeof(struct mb2_tag))
            return mb2_fail(err, errlen, MB2_E_MALFORMED,
                            "tag of type %u at offset %u has size %u", type, off, size);
        if (size > s->total - off)
            return mb2_fail(err, errlen, MB2_E_MALFORMED,
                            "tag of type %u at offset %u (size %u) runs past total_size %u",
                            type, off, size, s->total);

        switch (type) {
        case MB2_TAG_END:
            return MB2_OK;
        case MB2_TAG_CMDLINE:
            rc = mb2_once(&s->cmdline, off, type, err, errlen);
            if (!rc)
                rc = mb2_check_string(p, off, sizeof(struct mb2_tag), size, "command line",
                                      BOOT_CMDLINE_MAX, err, errlen);
            break;
        case MB2_TAG_MODULE:
            rc = mb2_check_module(p, off, size, s, err, errlen);
            break;
        case MB2_TAG_MMAP:
            rc = mb2_once(&s->mmap, off, type, err, errlen);
            if (!rc)
                rc = mb2_check_mmap(p, off, size, err, errlen);
            break;
        case MB2_TAG_FRAMEBUFFER:
            rc = mb2_once(&s->fb, off, type, err, errlen);
            if (!rc && (size < MB2_FB_COMMON_SIZE ||
                        (p[off + MB2_FB_TYPE_OFF] == MB2_FB_TYPE_RGB && size < MB2_FB_RGB_SIZE)))
                rc = mb2_fail(err, errlen, MB2_E_MALFORMED,
                              "framebuffer tag at offset %u is too short (%u bytes)", off, size);
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW: {
            uint32_t need = sizeof(struct mb2_tag) +
                            (type == MB2_TAG_ACPI_OLD ? MB2_RSDP_V1_SIZE : MB2_RSDP_V2_SIZE);

            rc = mb2_once(type == MB2_TAG_ACPI_OLD ? &s->acpi_old : &s->acpi_new, off, type,
                          err, errlen);
            if (!rc && size < need)
                rc = mb2_fail(err, errlen, MB2_E_MALFORMED,
                              "ACPI RSDP tag (type %u) at offset %u is too short (%u bytes)",
                              type, off, size);
            break;
        }
        default: /* boot loader name, basic meminfo, ELF sections, ...: not needed */
            rc = MB2_OK;
            break;
        }
        if (rc)
            return rc;
        /* Next tag: 8-byte aligned. size <= total - off, so this cannot wrap in 64 bits. */
        uint64_t next = (uint64_t)off + ((size + (uint64_t)MB2_TAG_ALIGN - 1) &
                                         ~(uint64_t)(MB2_TAG_ALIGN - 1));
        if (next >= s->total)
            return mb2_fail(err, errlen, MB2_E_MALFORMED,
                            "no end tag within total_size %u", s->total);
        off = (uint32_t)next;
    }
}

/* Firmware (E820-style) type -> boot_info type (spec 3.6.8). */
static uint32_t mb2_mem_type(uint32_t mb2_type)
{
    switch (mb2_type) {
    case MB2_MEM_AVAILABLE:    return BOOT_MEM_USABLE;
    case MB2_MEM_ACPI_RECLAIM: return BOOT_MEM_ACPI_RECLAIM;
    case MB2_MEM_NVS:          return BOOT_MEM_ACPI_NVS;
    case MB2_MEM_BAD:          return BOOT_MEM_BAD;
    default:                   return BOOT_MEM_RESERVED;
    }
}

/* Where two map entries overlap, the higher rank wins: the range is used as little as either
 * entry allows. LOADED never comes from the loader's map; it only replaces USABLE. */
static int mb2_mem_rank(uint32_t boot_type)
{
    switch (boot_type) {
    case BOOT_MEM_USABLE:       return 1;
    case BOOT_MEM_LOADED:       return 2;
    case BOOT_MEM_ACPI_RECLAIM: return 3;
    case BOOT_MEM_ACPI_NVS:     return 4;
    case BOOT_MEM_RESERVED:     return 5;
    default:                    return 6; /* BOOT_MEM_BAD */
    }
}

struct mb2_mmap_view {
    const uint8_t *p;
    uint32_t first; /* offset of entry 0 */
    uint32_t esize, count;
};

static void mb2_mmap_entry(const struct mb2_mmap_view *v, uint32_t i, struct mb2_range *r,
                           uint32_t *type)
{
    uint32_t off = v->first + i * v->esize;
    uint64_t base = mb2_rd64(v->p, off + offsetof(struct mb2_mmap_entry, base_addr));

    r->start = base;
    r->end = mb2_end_of(base, mb2_rd64(v->p, off + offsetof(struct mb2_mmap_entry, length)));
    *type = mb2_mem_type(mb2_rd32(v->p, off + offsetof(struct mb2_mmap_entry, type)));
}

/* Keeps in *next the smallest boundary of a non-empty range strictly above cur. */
static void mb2_consider(uint64_t b, uint64_t cur, uint64_t *next, bool *found)
{
    if (b > cur && (!*found || b < *next)) {
        *next = b;
        *found = true;
    }
}

static void mb2_next_boundary(const struct mb2_range *r, uint64_t cur, uint64_t *next, bool *found)
{
    if (r->start == r->end)
        return;
    mb2_consider(r->start, cur, next, found);
    mb2_consider(r->end, cur, next, found);
}

/*
 * Pass 2 for the memory map: a sweep over every boundary of every range. Between two
 * consecutive boundaries the set of covering entries is constant, so the type of the piece
 * is the type at its first byte. Output comes out sorted, disjoint and merged by construction.
 */
static int mb2_build_mem(const struct mb2_mmap_view *v, const struct mb2_range *loaded,
                         uint32_t nloaded, struct boot_info *bi, char *err, size_t errlen)
{
    struct mb2_range r;
    uint64_t cur = UINT64_MAX;
    uint32_t type;
    bool any = false;

    for (uint32_t i = 0; i < v->count; i++) {
        mb2_mmap_entry(v, i, &r, &type);
        if (r.start < r.end && r.start < cur) {
            cur = r.start;
            any = true;
        }
    }
    if (!any)
        return mb2_fail(err, errlen, MB2_E_MALFORMED, "memory map from the boot loader is empty");

    for (;;) {
        uint64_t next = UINT64_MAX;
        bool found = false;
        int best = 0;
        uint32_t best_type = 0;

        for (uint32_t i = 0; i < v->count; i++) {
            mb2_mmap_entry(v, i, &r, &type);
            mb2_next_boundary(&r, cur, &next, &found);
            if (r.start <= cur && cur < r.end && mb2_mem_rank(type) > best) {
                best = mb2_mem_rank(type);
                best_type = type;
            }
        }
        for (uint32_t i = 0; i < nloaded; i++) {
            mb2_next_boundary(&loaded[i], cur, &next, &found);
            if (best_type == BOOT_MEM_USABLE && loaded[i].start <= cur && cur < loaded[i].end)
                best_type = BOOT_MEM_LOADED;
        }
        if (!found)
            return MB2_OK;

        if (best_type) {
            struct boot_mem_range *last = bi->mem_count ? &bi->mem[bi->mem_count - 1] : NULL;

            if (last && last->type == best_type && last->base + last->length == cur) {
                last->length += next - cur;
            } else if (bi->mem_count == BOOT_MEM_MAX) {
                return mb2_fail(err, errlen, MB2_E_LIMIT,
                                "memory map needs more than %d ranges", BOOT_MEM_MAX);
            } else {
                bi->mem[bi->mem_count].base = cur;
                bi->mem[bi->mem_count].length = next - cur;
                bi->mem[bi->mem_count].type = best_type;
                bi->mem_count++;
            }
        }
        cur = next;
    }
}

/* [start, start + len) widened to whole pages, so no allocator hands out a page it shares. */
static struct mb2_range mb2_page_range(uint64_t start, uint64_t len)
{
    struct mb2_range r;
    uint64_t end = mb2_end_of(start, len);

    r.start = start & ~(MB2_PAGE_SIZE - 1);
    if (end > UINT64_MAX - (MB2_PAGE_SIZE - 1))
        r.end = UINT64_MAX;
    else
        r.end = (end + MB2_PAGE_SIZE - 1) & ~(MB2_PAGE_SIZE - 1);
    if (len == 0)
        r.end = r.start;
    return r;
}

int mb2_to_boot_info(const struct mb2_input *in, struct boot_info *bi, char *err, size_t errlen)
{
    struct mb2_range loaded[2 + BOOT_MODULES_MAX];
    struct mb2_mmap_view view;
    struct mb2_scan s;
    const uint8_t *p = in->info;
    uint32_t nloaded = 0;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    memset(bi, 0, sizeof(*bi));
    rc = mb2_scan(in, &s, err, errlen);
    if (rc)
        return rc;
    if (!s.mmap)
        return mb2_fail(err, errlen, MB2_E_NO_MMAP, "no memory map from the boot loader");

    bi->magic = BOOT_INFO_MAGIC;
    bi->version = BOOT_INFO_VERSION;
    bi->size = sizeof(*bi);
    bi->source = BOOT_SOURCE_MULTIBOOT2;
    bi->kernel_base = in->kernel_base;
    bi->kernel_size = in->kernel_size;

    if (s.cmdline)
        mb2_copy_string(bi->cmdline, p + s.cmdline + sizeof(struct mb2_tag));

    for (uint32_t i = 0; i < s.module_count; i++) {
        struct boot_module *m = &bi->modules[i];
        uint32_t off = s.module[i];

        m->base = mb2_rd32(p, off + offsetof(struct mb2_tag_module, mod_start));
        m->size = mb2_rd32(p, off + offsetof(struct mb2_tag_module, mod_end)) - m->base;
        mb2_copy_string(m->name, p + off + MB2_MODULE_NAME_OFF);
        loaded[nloaded++] = mb2_page_range(m->base, m->size);
    }
    bi->module_count = s.module_count;
    loaded[nloaded++] = mb2_page_range(in->kernel_base, in->kernel_size);
    loaded[nloaded++] = mb2_page_range(in->info_phys, s.total);

    /* The tags hold copies of the RSDP; the kernel gets the copy's physical address.
     * Prefer the ACPI 2.0+ one: it carries the XSDT address (spec 3.6.16). */
    if (s.acpi_new)
        bi->rsdp = in->info_phys + s.acpi_new + sizeof(struct mb2_tag);
    else if (s.acpi_old)
        bi->rsdp = in->info_phys + s.acpi_old + sizeof(struct mb2_tag);

    if (s.fb && p[s.fb + MB2_FB_TYPE_OFF] == MB2_FB_TYPE_RGB) {
        struct mb2_tag_framebuffer fb = { 0 };

        memcpy(&fb, p + s.fb, MB2_FB_RGB_SIZE); /* the tag's size was checked in pass 1 */
        bi->fb.base = fb.addr;
        bi->fb.pitch = fb.pitch;
        bi->fb.width = fb.width;
        bi->fb.height = fb.height;
        bi->fb.bpp = fb.bpp;
        bi->fb.red_pos = fb.red_pos;
        bi->fb.red_size = fb.red_size;
        bi->fb.green_pos = fb.green_pos;
        bi->fb.green_size = fb.green_size;
        bi->fb.blue_pos = fb.blue_pos;
        bi->fb.blue_size = fb.blue_size;
    }

    view.p = p;
    view.first = s.mmap + (uint32_t)sizeof(struct mb2_tag_mmap);
    view.esize = mb2_rd32(p, s.mmap + offsetof(struct mb2_tag_mmap, entry_size));
    view.count = (mb2_rd32(p, s.mmap + offsetof(struct mb2_tag, size)) -
                  (uint32_t)sizeof(struct mb2_tag_mmap)) / view.esize;
    rc = mb2_build_mem(&view, loaded, nloaded, bi, err, errlen);
    if (rc)
        memset(bi, 0, sizeof(*bi));
    return rc;
}
