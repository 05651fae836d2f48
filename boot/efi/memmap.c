// SPDX-License-Identifier: Apache-2.0
// UEFI memory map -> boot_mem_range[] (see memmap.h). Pure: runs after ExitBootServices,
// when nothing may be allocated, so it works in place inside the firmware's map buffer.
#include "boot/efi/memmap.h"

#include <string.h>

static const char *const efimap_messages[EFIMAP_STATUS_COUNT] = {
    [EFIMAP_OK] = "ok",
    [EFIMAP_E_DESC_SIZE] = "bad memory descriptor size",
    [EFIMAP_E_MAP_SIZE] = "memory map size not a multiple of the descriptor size",
    [EFIMAP_E_ALIGN] = "memory map buffer misaligned",
    [EFIMAP_E_RANGE] = "memory descriptor wraps past 2^64",
    [EFIMAP_E_OVERLAP] = "memory descriptors overlap",
    [EFIMAP_E_OVERFLOW] = "too many memory ranges for boot_info",
    [EFIMAP_E_TAKEN] = "range holds memory the firmware keeps",
    [EFIMAP_E_HOLE] = "range is not all RAM",
    [EFIMAP_E_EMPTY] = "empty range",
};

const char *efimap_strerror(int status)
{
    if (status < 0 || status >= EFIMAP_STATUS_COUNT)
        return "unknown memory map error";
    return efimap_messages[status];
}

uint32_t efimap_type_to_boot(uint32_t efi_type)
{
    switch (efi_type) {
    case EFIMAP_T_CONVENTIONAL:
    case EFIMAP_T_BS_CODE:
    case EFIMAP_T_BS_DATA:
    case EFIMAP_T_LOADER_CODE:
        return BOOT_MEM_USABLE;
    case EFIMAP_T_LOADER_DATA:
        return BOOT_MEM_LOADED;
    case EFIMAP_T_RT_CODE:
    case EFIMAP_T_RT_DATA:
        return BOOT_MEM_FW_RUNTIME;
    case EFIMAP_T_ACPI_RECLAIM:
        return BOOT_MEM_ACPI_RECLAIM;
    case EFIMAP_T_ACPI_NVS:
        return BOOT_MEM_ACPI_NVS;
    case EFIMAP_T_UNUSABLE:
        return BOOT_MEM_BAD;
    case EFIMAP_T_PERSISTENT:
        return BOOT_MEM_PERSISTENT;
    default:
        /* Reserved, MMIO, port space, PAL code, unaccepted (needs a TDX/SNP accept
         * protocol we do not speak) and OEM/OS-defined types. */
        return BOOT_MEM_RESERVED;
    }
}

int efimap_convert(void *map, size_t map_size, size_t desc_size,
                   struct boot_mem_range *out, uint32_t max, uint32_t *count)
{
    uint8_t *raw = map;
    struct boot_mem_range *r = map; /* compacted entries, written over the descriptors */
    struct efimap_desc d;
    size_t n = 0;

    *count = 0;
    if (desc_size < sizeof(struct efimap_desc) || desc_size % 8 != 0)
        return EFIMAP_E_DESC_SIZE;
    if (map_size % desc_size != 0)
        return EFIMAP_E_MAP_SIZE;
    if ((uintptr_t)map % 8 != 0)
        return EFIMAP_E_ALIGN;

    /* Compact: entry n (24 bytes) lands at or before descriptor n (>= 40 bytes), which has
     * already been read, so nothing unread is overwritten. */
    for (size_t i = 0; i < map_size / desc_size; i++) {
        memcpy(&d, raw + i * desc_size, sizeof(d));
        if (d.num_pages == 0)
            continue;
        uint64_t len, end;
        if (__builtin_mul_overflow(d.num_pages, EFIMAP_PAGE_SIZE, &len) ||
            __builtin_add_overflow(d.phys_start, len, &end))
            return EFIMAP_E_RANGE;
        r[n] = (struct boot_mem_range){ .base = d.phys_start, .length = len,
                                        .type = efimap_type_to_boot(d.type) };
        n++;
    }

    /* Insertion sort by base: firmware maps are nearly sorted already, and this must not
     * allocate. */
    for (size_t i = 1; i < n; i++) {
        struct boot_mem_range cur = r[i];
        size_t j = i;
        while (j > 0 && r[j - 1].base > cur.base) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = cur;
    }

    /* Merge: r[i] joins the output range of r[i - 1] when it starts exactly where r[i - 1]
     * ends and has the same type. Past max we keep counting so the caller can say how
     * many ranges the map really needs. */
    uint32_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            uint64_t prev_end = r[i - 1].base + r[i - 1].length;
            if (r[i].base < prev_end)
                return EFIMAP_E_OVERLAP;
            if (r[i].base == prev_end && r[i].type == r[i - 1].type) {
                if (used <= max)
                    out[used - 1].length += r[i].length;
                continue;
            }
        }
        if (used < max)
            out[used] = r[i];
        used++;
    }
    *count = used;
    return used > max ? EFIMAP_E_OVERFLOW : EFIMAP_OK;
}

int efimap_range_reclaimable(const void *map, size_t map_size, size_t desc_size, uint64_t lo,
                             uint64_t hi, struct efimap_desc *bad)
{
    const uint8_t *raw = map;
    struct efimap_desc d;
    uint64_t covered = 0;

    if (lo >= hi)
        return EFIMAP_E_EMPTY;
    if (desc_size < sizeof(struct efimap_desc) || desc_size % 8 != 0)
        return EFIMAP_E_DESC_SIZE;
    if (map_size % desc_size != 0)
        return EFIMAP_E_MAP_SIZE;
    for (size_t off = 0; off < map_size; off += desc_size) {
        memcpy(&d, raw + off, sizeof(d));
        uint64_t len, end;
        if (__builtin_mul_overflow(d.num_pages, EFIMAP_PAGE_SIZE, &len) ||
            __builtin_add_overflow(d.phys_start, len, &end))
            return EFIMAP_E_RANGE;
        if (len == 0 || end <= lo || d.phys_start >= hi)
            continue;
        if (d.type != EFIMAP_T_CONVENTIONAL && d.type != EFIMAP_T_BS_CODE &&
            d.type != EFIMAP_T_BS_DATA) {
            if (bad)
                *bad = d;
            return EFIMAP_E_TAKEN;
        }
        covered += (end < hi ? end : hi) - (d.phys_start > lo ? d.phys_start : lo);
    }
    /* Descriptors do not overlap (checked by efimap_convert before we get here), so the
     * covered bytes add up to the range exactly when there is no hole. */
    if (covered > hi - lo)
        return EFIMAP_E_OVERLAP;
    return covered == hi - lo ? EFIMAP_OK : EFIMAP_E_HOLE;
}

int efimap_mark(struct boot_mem_range *r, uint32_t *count, uint32_t max, uint64_t base,
                uint64_t len, uint32_t type)
{
    uint64_t end;
    uint32_t n = *count, inside = 0, split = 0;

    if (len == 0 || __builtin_add_overflow(base, len, &end))
        return EFIMAP_E_EMPTY;
    /* Validate: how many entries the worst case needs. */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t e = r[i].base + r[i].length;
        if (r[i].base >= base && e <= end)
            inside++;
        else if (r[i].base < base && e > end)
            split = 1;
    }
    if ((uint64_t)n - inside + 1 + split > max)
        return EFIMAP_E_OVERFLOW;

    /* Trim, split or drop what the new range covers. */
    struct boot_mem_range tail = { 0 };
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct boot_mem_range cur = r[i];
        uint64_t e = cur.base + cur.length;
        if (e <= base || cur.base >= end) {
            r[w++] = cur;
            continue;
        }
        if (cur.base < base && e > end) {
            tail = (struct boot_mem_range){ .base = end, .length = e - end, .type = cur.type };
            cur.length = base - cur.base;
            r[w++] = cur;
        } else if (cur.base < base) {
            cur.length = base - cur.base;
            r[w++] = cur;
        } else if (e > end) {
            cur.length = e - end;
            cur.base = end;
            r[w++] = cur;
        }
        /* else: entirely inside, dropped */
    }
    n = w;

    /* Insert the new range (and the split-off tail right after it) in base order. */
    uint32_t at = 0;
    while (at < n && r[at].base < base)
        at++;
    uint32_t add = tail.length ? 2 : 1;
    for (uint32_t i = n; i > at; i--)
        r[i - 1 + add] = r[i - 1];
    r[at] = (struct boot_mem_range){ .base = base, .length = len, .type = type };
    if (tail.length)
        r[at + 1] = tail;
    n += add;

    /* Merge the new range with touching neighbours of its type. */
    if (at + 1 < n && r[at + 1].type == type && r[at + 1].base == end) {
        r[at].length += r[at + 1].length;
        for (uint32_t i = at + 1; i + 1 < n; i++)
            r[i] = r[i + 1];
        n--;
    }
    if (at > 0 && r[at - 1].type == type && r[at - 1].base + r[at - 1].length == base) {
        r[at - 1].length += r[at].length;
        for (uint32_t i = at; i + 1 < n; i++)
            r[i] = r[i + 1];
        n--;
    }
    *count = n;
    return EFIMAP_OK;
}
