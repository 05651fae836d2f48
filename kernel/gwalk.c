// SPDX-License-Identifier: Apache-2.0
// The four x86 paging modes (SDM vol. 3A 4.1.1, table 4-1): none (CR0.PG=0), 32-bit
// (CR4.PAE=0; 4 MiB pages with CR4.PSE), PAE (CR4.PAE=1, EFER.LME=0), 4-level (EFER.LMA=1).
// 5-level paging (CR4.LA57) is refused. Only translation is done, not permission checks: the
// caller reads what the guest itself could fetch or pointed at.
#include "kernel/gwalk.h"

#define CR0_PG    (1ull << 31)
#define CR4_PSE   (1ull << 4)
#define CR4_PAE   (1ull << 5)
#define CR4_LA57  (1ull << 12)
#define EFER_LMA  (1ull << 10)
#define PTE_P     (1ull << 0)
#define PTE_PS    (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
#define PAE_PDPTE_RSVD 0x1e6ull         /* bits 8:5, 2:1 of a PAE PDPTE (SDM 4.4.1) */

static int read_entry(gwalk_read_fn read, void *ctx, uint64_t gpa, unsigned size, uint64_t *e)
{
    if (!read(ctx, gpa, size, e))
        return GWALK_BAD_TABLE;
    return (*e & PTE_P) ? GWALK_OK : GWALK_NOT_PRESENT;
}

static int walk32(const struct gwalk_regs *r, uint32_t la, gwalk_read_fn read, void *ctx,
                  uint64_t *gpa, uint64_t *page_end)
{
    uint64_t pde, pte;
    int rc = read_entry(read, ctx, (r->cr3 & 0xfffff000u) + ((la >> 22) & 0x3ff) * 4, 4, &pde);
    if (rc)
        return rc;
    if ((pde & PTE_PS) && (r->cr4 & CR4_PSE)) {
        /* 4 MiB page: bits 31:22 plus PSE-36 bits 39:32 from PDE bits 20:13. */
        uint64_t base = (pde & 0xffc00000u) | ((pde >> 13) & 0xffull) << 32;
        *gpa = base | (la & 0x3fffff);
        *page_end = (uint64_t)(la & ~0x3fffffu) + 0x400000;
        return GWALK_OK;
    }
    rc = read_entry(read, ctx, (pde & 0xfffff000u) + ((la >> 12) & 0x3ff) * 4, 4, &pte);
    if (rc)
        return rc;
    *gpa = (pte & 0xfffff000u) | (la & 0xfff);
    *page_end = (uint64_t)(la & ~0xfffu) + 0x1000;
    return GWALK_OK;
}

int gwalk_translate(const struct gwalk_regs *r, uint64_t la, gwalk_read_fn read, void *ctx,
                    uint64_t *gpa, uint64_t *page_end)
{
    if (!(r->cr0 & CR0_PG)) {
        *gpa = la;
        *page_end = (la | 0xfff) + 1;
        return GWALK_OK;
    }
    if (!(r->cr4 & CR4_PAE))
        return walk32(r, (uint32_t)la, read, ctx, gpa, page_end);
    if ((r->efer & EFER_LMA) && (r->cr4 & CR4_LA57))
        return GWALK_UNSUPPORTED;

    bool long_mode = r->efer & EFER_LMA;
    unsigned levels = long_mode ? 4 : 3;
    uint64_t table = long_mode ? (r->cr3 & ADDR_MASK) : (r->cr3 & 0xffffffe0u);
    if (!long_mode)
        la &= 0xffffffffu;
    for (unsigned level = levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t idx = (la >> shift) & (level == 3 && !long_mode ? 3 : 511);
        uint64_t e;
        int rc = read_entry(read, ctx, table + idx * 8, 8, &e);
        if (rc)
            return rc;
        if (!long_mode && level == 3) {
            if (e & PAE_PDPTE_RSVD)
                return GWALK_RESERVED;
            table = e & ADDR_MASK;
            continue;
        }
        if (level == 4 && (e & PTE_PS))
            return GWALK_RESERVED; /* PS is reserved in a PML4E */
        if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
            uint64_t size = 1ull << shift;
            /* Large pages: bit 12 is the PAT bit, not an address bit. */
            uint64_t base = (e & ADDR_MASK) & ~(size - 1);
            *gpa = base | (la & (size - 1));
            *page_end = (la & ~(size - 1)) + size;
            return GWALK_OK;
        }
        table = e & ADDR_MASK;
    }
    return GWALK_NOT_PRESENT; /* not reached */
}
