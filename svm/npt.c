// SPDX-License-Identifier: Apache-2.0
// AMD nested page table entry format for the generic builder (kernel/s2pt.c): encoding leaves
// and table pointers, decoding them back, and nCR3. Read permission comes with presence, there
// is no write-only or execute-only, and every guest access counts as a user access.
#include <stddef.h>
#include "svm/npt.h"

#define NPT_LEVELS 4
#define NPT_ADDR_ALL (((UINT64_C(1) << 52) - 1) & ~(S2PT_PAGE_SIZE - 1)) /* bits 51:12 */
#define NPT_PAT_INDEXES 8

static bool npt_nx(const struct s2pt_format *f)
{
    return f->caps & NPT_CAPS_NX;
}

static unsigned pat_entry(const struct s2pt_format *f, unsigned index)
{
    return (unsigned)(f->mt_cfg >> (8 * index)) & 0xff;
}

/* Memory types a PAT entry may hold (APM vol. 2 7.8.1 "PAT Register"): 2 and 3 are reserved;
 * 7 is UC- (no generic counterpart, so never chosen and never decoded). */
static bool npt_generic_mtype(unsigned mt)
{
    return mt == GPA_MT_UC || mt == GPA_MT_WC || mt == GPA_MT_WT || mt == GPA_MT_WP ||
           mt == GPA_MT_WB;
}

/* The lowest PAT index whose host entry is mtype, or -1. */
static int npt_pat_index(const struct s2pt_format *f, uint32_t mtype, unsigned limit)
{
    if (!npt_generic_mtype(mtype))
        return -1;
    for (unsigned i = 0; i < limit; i++)
        if (pat_entry(f, i) == mtype)
            return (int)i;
    return -1;
}

static uint64_t npt_encode_table(const struct s2pt_format *f, unsigned level, uint64_t table_hpa)
{
    /* R/W and U/S are ANDed and NX ORed down the walk (APM vol. 2 5.6 "Page-Protection
     * Checks"): table entries allow everything and the leaf decides. U/S must be 1 at every
     * level since nested walks treat all guest accesses as user accesses (15.25.5). */
    return (table_hpa & f->addr_mask) | NPT_P | NPT_RW | NPT_US;
}

static int npt_encode_leaf(const struct s2pt_format *f, unsigned level, uint64_t hpa,
                           uint32_t perms, uint32_t mtype, uint64_t *entry)
{
    /* Present means readable: no write-only, execute-only or write+execute-only mapping.
     * Without host EFER.NXE every present page is executable, so R and RW cannot be said. */
    if (perms == 0 || (perms & ~GPA_RWX) || !(perms & GPA_R))
        return S2PT_E_PERM;
    if (!(perms & GPA_X) && !npt_nx(f))
        return S2PT_E_PERM;
    int index = npt_pat_index(f, mtype, NPT_PAT_INDEXES);
    if (index < 0)
        return S2PT_E_MTYPE;
    if (level >= f->levels || !(f->leaf_levels & S2PT_LEAF(level)))
        return S2PT_E_INVAL;
    if ((hpa & ~f->addr_mask) || (hpa & (s2pt_level_size(level) - 1)))
        return S2PT_E_INVAL;
    uint64_t e = hpa | NPT_P | NPT_US;
    if (perms & GPA_W)
        e |= NPT_RW;
    if (!(perms & GPA_X))
        e |= NPT_NX;
    if (index & 1)
        e |= NPT_PWT;
    if (index & 2)
        e |= NPT_PCD;
    if (index & 4)
        e |= level > 0 ? NPT_PAT_BIG : NPT_PAT_4K;
    if (level > 0)
        e |= NPT_PS;
    *entry = e;
    return S2PT_OK;
}

static int npt_decode(const struct s2pt_format *f, unsigned level, uint64_t e,
                      struct s2pt_entry_info *out)
{
    *out = (struct s2pt_entry_info){ 0 };
    if (!(e & NPT_P))
        return S2PT_OK; /* not present: every other bit is ignored */
    if ((e & NPT_ADDR_ALL & ~f->addr_mask) || ((e & NPT_NX) && !npt_nx(f)))
        return S2PT_E_CORRUPT; /* reserved bits (APM vol. 2 5.3.1 and 5.4.1) */
    if (!(e & NPT_US))
        return S2PT_E_CORRUPT; /* grants a guest nothing (15.25.5); never written by Moat */
    uint32_t perms = GPA_R | ((e & NPT_RW) ? GPA_W : 0) | ((e & NPT_NX) ? 0 : GPA_X);
    bool leaf = level == 0 || (e & NPT_PS);
    if (!leaf) {
        *out = (struct s2pt_entry_info){
            .present = true, .leaf = false, .addr = e & f->addr_mask, .perms = perms,
        };
        return S2PT_OK;
    }
    /* PS in a PML4E, or in a PDPE without 1 GiB page support, is a reserved bit. */
    if (!(f->leaf_levels & S2PT_LEAF(level)))
        return S2PT_E_CORRUPT;
    uint64_t pat_bit = level > 0 ? NPT_PAT_BIG : NPT_PAT_4K;
    uint64_t addr = e & f->addr_mask & ~(level > 0 ? NPT_PAT_BIG : 0);
    if (addr & (s2pt_level_size(level) - 1))
        return S2PT_E_CORRUPT; /* bits 20:13 / 29:13 of a large page are reserved */
    unsigned index = ((e & NPT_PWT) ? 1u : 0) | ((e & NPT_PCD) ? 2u : 0) | ((e & pat_bit) ? 4u : 0);
    unsigned mt = pat_entry(f, index);
    if (!npt_generic_mtype(mt))
        return S2PT_E_CORRUPT;
    *out = (struct s2pt_entry_info){
        .present = true, .leaf = true, .addr = addr, .perms = perms, .mtype = mt,
    };
    return S2PT_OK;
}

static bool pat_value_ok(uint64_t pat)
{
    for (unsigned i = 0; i < NPT_PAT_INDEXES; i++) {
        unsigned mt = (unsigned)(pat >> (8 * i)) & 0xff;
        if (!npt_generic_mtype(mt) && mt != 7) /* 7: UC- */
            return false;
    }
    return true;
}

int npt_format_init(struct s2pt_format *f, unsigned maxphyaddr, bool gib_pages, bool host_nxe,
                    uint64_t host_pat)
{
    if (!f || maxphyaddr < S2PT_MIN_PHYS_BITS || maxphyaddr > S2PT_MAX_PHYS_BITS ||
        !pat_value_ok(host_pat))
        return S2PT_E_INVAL;
    *f = (struct s2pt_format){
        .name = "NPT",
        .levels = NPT_LEVELS,
        .bits_per_level = S2PT_BITS_PER_LEVEL,
        .gpa_bits = S2PT_PAGE_SHIFT + NPT_LEVELS * S2PT_BITS_PER_LEVEL,
        .hpa_bits = (uint8_t)maxphyaddr,
        /* Long mode always has 2 MiB pages (PDE.PS); 1 GiB pages only with Page1GB. */
        .leaf_levels = S2PT_LEAF_4K | S2PT_LEAF_2M | (gib_pages ? S2PT_LEAF_1G : 0),
        .addr_mask = ((UINT64_C(1) << maxphyaddr) - 1) & ~(S2PT_PAGE_SIZE - 1),
        .caps = host_nxe ? NPT_CAPS_NX : 0,
        .mt_cfg = host_pat,
        .encode_table = npt_encode_table,
        .encode_leaf = npt_encode_leaf,
        .decode = npt_decode,
    };
    return s2pt_format_check(f);
}

int npt_ncr3(const struct s2pt_format *f, uint64_t pml4_hpa, uint64_t *ncr3)
{
    if (!f || !ncr3 || (pml4_hpa & ~f->addr_mask))
        return S2PT_E_INVAL;
    int index = npt_pat_index(f, GPA_MT_WB, 4); /* CR3 has PWT and PCD, no PAT bit */
    if (index < 0)
        return S2PT_E_INVAL;
    *ncr3 = pml4_hpa | ((index & 1) ? NPT_PWT : 0) | ((index & 2) ? NPT_PCD : 0);
    return S2PT_OK;
}
