// SPDX-License-Identifier: Apache-2.0
// The hypervisor's own 4-level page tables (SDM vol. 3A 4.5): an identity map. [0, 4 GiB) uses
// 2 MiB pages so MMIO holes can be mapped uncached at that granularity; RAM above 4 GiB uses
// 1 GiB pages where the CPU has them (CPUID 0x80000001 EDX[26]), else 2 MiB pages. All table
// pages live below 4 GiB: APs load CR3 from 32-bit code in the trampoline.
#include <string.h>
#include <stdbool.h>
#include "kernel/mm.h"
#include "kernel/x86.h"
#include "kernel/panic.h"

#define PTE_P   BIT(0)
#define PTE_RW  BIT(1)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_PS  BIT(7)
#define PTE_G   BIT(8)
#define PTE_ADDR GENMASK(51, 12)
#define LOW_LIMIT (4 * GIB)

static bool is_ram_type(uint32_t type)
{
    return type != BOOT_MEM_RESERVED;
}

/* Does [base, base+len) touch any RAM range of the map? */
static bool overlaps_ram(const struct boot_mem_range *map, uint32_t count, uint64_t base, uint64_t len)
{
    for (uint32_t i = 0; i < count; i++) {
        const struct boot_mem_range *r = &map[i];
        if (is_ram_type(r->type) && r->base < base + len && base < r->base + r->length)
            return true;
    }
    return false;
}

static uint64_t *table_at(uint64_t *parent, unsigned idx)
{
    if (!(parent[idx] & PTE_P))
        parent[idx] = frames_alloc_zeroed(1, LOW_LIMIT) | PTE_P | PTE_RW;
    return hpa_to_ptr(parent[idx] & PTE_ADDR);
}

static void map_2m_range(uint64_t *pml4, const struct boot_mem_range *map, uint32_t count,
                         uint64_t gib, bool all)
{
    uint64_t *pdpt = table_at(pml4, (gib >> 9) & 511);
    uint64_t *pd = table_at(pdpt, gib & 511);
    for (unsigned i = 0; i < 512; i++) {
        uint64_t pa = gib * GIB + (uint64_t)i * 2 * MIB;
        bool ram = overlaps_ram(map, count, pa, 2 * MIB);
        if (!ram && !all)
            continue;
        pd[i] = pa | PTE_P | PTE_RW | PTE_PS | PTE_G | (ram ? 0 : PTE_PCD | PTE_PWT);
    }
}

hpa_t paging_init(const struct boot_mem_range *map, uint32_t count)
{
    bool gib_pages = cpuid(0x80000001, 0).edx & BIT(26);
    uint64_t top = LOW_LIMIT;
    for (uint32_t i = 0; i < count; i++)
        if (is_ram_type(map[i].type) && map[i].base + map[i].length > top)
            top = map[i].base + map[i].length;

    hpa_t cr3 = frames_alloc_zeroed(1, LOW_LIMIT);
    uint64_t *pml4 = hpa_to_ptr(cr3);
    for (uint64_t gib = 0; gib < (top + GIB - 1) / GIB; gib++) {
        if (gib * GIB < LOW_LIMIT) {
            map_2m_range(pml4, map, count, gib, true);
        } else if (!overlaps_ram(map, count, gib * GIB, GIB)) {
            continue;
        } else if (gib_pages) {
            uint64_t *pdpt = table_at(pml4, (gib >> 9) & 511);
            pdpt[gib & 511] = gib * GIB | PTE_P | PTE_RW | PTE_PS | PTE_G;
        } else {
            map_2m_range(pml4, map, count, gib, false);
        }
    }
    write_cr4(read_cr4() | CR4_PGE);
    write_cr3(cr3);
    return cr3;
}
