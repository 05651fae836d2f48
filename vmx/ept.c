// SPDX-License-Identifier: Apache-2.0
// Intel EPT entry format for the generic builder (kernel/s2pt.c): encoding leaves and table
// pointers, decoding them back with the hardware's misconfiguration rules, and the EPTP.
// It does not read MSRs: the VMX backend passes IA32_VMX_EPT_VPID_CAP and MAXPHYADDR in.
#include <stddef.h>
#include "vmx/ept.h"

#define EPT_LEVELS 4
#define EPT_ADDR_ALL (((UINT64_C(1) << 52) - 1) & ~(S2PT_PAGE_SIZE - 1)) /* bits 51:12 */

static uint32_t ept_perms(uint64_t e)
{
    return ((e & EPT_R) ? GPA_R : 0) | ((e & EPT_W) ? GPA_W : 0) | ((e & EPT_X) ? GPA_X : 0);
}

/* The EPT memory types a leaf may hold (SDM vol. 3C 29.3 "EPT and Memory Typing"; 2, 3 and 7
 * are reserved and cause an EPT misconfiguration, 29.3.3.1 "EPT Misconfigurations"). */
static bool ept_mtype_ok(uint64_t mt)
{
    return mt == GPA_MT_UC || mt == GPA_MT_WC || mt == GPA_MT_WT || mt == GPA_MT_WP ||
           mt == GPA_MT_WB;
}

/* Read without write is fine; write without read is a misconfiguration, and so is execute
 * alone unless the CPU reports execute-only support (SDM vol. 3C 29.3.3.1). */
static bool ept_perms_ok(const struct s2pt_format *f, uint64_t rwx)
{
    if ((rwx & EPT_W) && !(rwx & EPT_R))
        return false;
    if (rwx == EPT_X && !(f->caps & EPT_CAPS_EXEC_ONLY))
        return false;
    return true;
}

static uint64_t ept_encode_table(const struct s2pt_format *f, unsigned level, uint64_t table_hpa)
{
    /* Access rights are ANDed down the walk: table entries allow all, the leaf decides. */
    return (table_hpa & f->addr_mask) | EPT_RWX;
}

static int ept_encode_leaf(const struct s2pt_format *f, unsigned level, uint64_t hpa,
                           uint32_t perms, uint32_t mtype, uint64_t *entry)
{
    uint64_t rwx = ((perms & GPA_R) ? EPT_R : 0) | ((perms & GPA_W) ? EPT_W : 0) |
                   ((perms & GPA_X) ? EPT_X : 0);
    if (perms == 0 || (perms & ~GPA_RWX) || !ept_perms_ok(f, rwx))
        return S2PT_E_PERM;
    if (!ept_mtype_ok(mtype))
        return S2PT_E_MTYPE;
    if (level >= f->levels || !(f->leaf_levels & S2PT_LEAF(level)))
        return S2PT_E_INVAL;
    if ((hpa & ~f->addr_mask) || (hpa & (s2pt_level_size(level) - 1)))
        return S2PT_E_INVAL;
    /* Ignore-PAT stays clear: the guest's PAT combines with this type ("EPT and Memory Typing"). */
    *entry = hpa | rwx | ((uint64_t)mtype << EPT_MT_SHIFT) | (level > 0 ? EPT_PAGE_SIZE : 0);
    return S2PT_OK;
}

static int ept_decode(const struct s2pt_format *f, unsigned level, uint64_t e,
                      struct s2pt_entry_info *out)
{
    *out = (struct s2pt_entry_info){ 0 };
    uint64_t rwx = e & EPT_RWX;
    if (rwx == 0)
        return S2PT_OK; /* not present: every other bit is ignored */
    if (!ept_perms_ok(f, rwx) || (e & EPT_ADDR_ALL & ~f->addr_mask))
        return S2PT_E_CORRUPT;
    bool leaf = level == 0 || (e & EPT_PAGE_SIZE);
    if (leaf) {
        /* Bit 7 where the CPU has no page of that size is a reserved bit; so is bit 7 of a
         * PML4E (s2pt_format_check keeps the top level out of leaf_levels). */
        if (!(f->leaf_levels & S2PT_LEAF(level)))
            return S2PT_E_CORRUPT;
        uint64_t mt = (e & EPT_MT_MASK) >> EPT_MT_SHIFT;
        uint64_t addr = e & f->addr_mask;
        if (!ept_mtype_ok(mt) || (addr & (s2pt_level_size(level) - 1)))
            return S2PT_E_CORRUPT; /* bits 20:12 / 29:12 of a large leaf are reserved */
        *out = (struct s2pt_entry_info){
            .present = true, .leaf = true, .addr = addr, .perms = ept_perms(e),
            .mtype = (uint32_t)mt,
        };
        return S2PT_OK;
    }
    if (e & EPT_TABLE_RSVD)
        return S2PT_E_CORRUPT;
    *out = (struct s2pt_entry_info){
        .present = true, .leaf = false, .addr = e & f->addr_mask, .perms = ept_perms(e),
    };
    return S2PT_OK;
}

int ept_format_init(struct s2pt_format *f, uint64_t ept_vpid_cap, unsigned maxphyaddr)
{
    if (!f || maxphyaddr < S2PT_MIN_PHYS_BITS || maxphyaddr > S2PT_MAX_PHYS_BITS)
        return S2PT_E_INVAL;
    if (!(ept_vpid_cap & EPT_VPID_CAP_WALK_4) || !(ept_vpid_cap & EPT_VPID_CAP_MT_WB))
        return S2PT_E_INVAL;
    *f = (struct s2pt_format){
        .name = "EPT",
        .levels = EPT_LEVELS,
        .bits_per_level = S2PT_BITS_PER_LEVEL,
        .gpa_bits = S2PT_PAGE_SHIFT + EPT_LEVELS * S2PT_BITS_PER_LEVEL,
        .hpa_bits = (uint8_t)maxphyaddr,
        .leaf_levels = S2PT_LEAF_4K | ((ept_vpid_cap & EPT_VPID_CAP_2M) ? S2PT_LEAF_2M : 0) |
                       ((ept_vpid_cap & EPT_VPID_CAP_1G) ? S2PT_LEAF_1G : 0),
        .addr_mask = ((UINT64_C(1) << maxphyaddr) - 1) & ~(S2PT_PAGE_SIZE - 1),
        .caps = ((ept_vpid_cap & EPT_VPID_CAP_EXEC_ONLY) ? EPT_CAPS_EXEC_ONLY : 0) |
                ((ept_vpid_cap & EPT_VPID_CAP_AD) ? EPT_CAPS_AD : 0),
        .mt_cfg = 0,
        .encode_table = ept_encode_table,
        .encode_leaf = ept_encode_leaf,
        .decode = ept_decode,
    };
    return s2pt_format_check(f);
}

int ept_eptp(const struct s2pt_format *f, uint64_t pml4_hpa, bool enable_ad, uint64_t *eptp)
{
    if (!f || !eptp || (pml4_hpa & ~f->addr_mask) || (enable_ad && !(f->caps & EPT_CAPS_AD)))
        return S2PT_E_INVAL;
    *eptp = pml4_hpa | EPTP_MT_WB | ((uint64_t)(f->levels - 1) << EPTP_WALK_SHIFT) |
            (enable_ad ? EPTP_AD_ENABLE : 0);
    return S2PT_OK;
}
