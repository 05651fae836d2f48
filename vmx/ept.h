// SPDX-License-Identifier: Apache-2.0
// Intel EPT as a second-level table format for kernel/s2pt.c: the entry bits (SDM vol. 3C 29.3.2
// "EPT Translation Mechanism", the tables "Format of an EPT PML4 Entry" .. "Format of an EPT
// Page-Table Entry that Maps a 4-KByte Page") and the EPTP. Pure: capabilities come in as values.
#ifndef VMX_EPT_H
#define VMX_EPT_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/s2pt.h"

/* IA32_VMX_EPT_VPID_CAP (MSR 0x48c), SDM vol. 3D A.10 "VPID and EPT Capabilities". */
#define MSR_IA32_VMX_EPT_VPID_CAP     0x48c
#define EPT_VPID_CAP_EXEC_ONLY        (UINT64_C(1) << 0)  /* execute-only translations */
#define EPT_VPID_CAP_WALK_4           (UINT64_C(1) << 6)  /* page-walk length 4 */
#define EPT_VPID_CAP_MT_UC            (UINT64_C(1) << 8)  /* EPTP memory type UC allowed */
#define EPT_VPID_CAP_MT_WB            (UINT64_C(1) << 14) /* EPTP memory type WB allowed */
#define EPT_VPID_CAP_2M               (UINT64_C(1) << 16) /* PDE may map a 2 MiB page */
#define EPT_VPID_CAP_1G               (UINT64_C(1) << 17) /* PDPTE may map a 1 GiB page */
#define EPT_VPID_CAP_AD               (UINT64_C(1) << 21) /* accessed and dirty flags */

/* s2pt_format.caps bits of an EPT format. */
#define EPT_CAPS_EXEC_ONLY (1u << 0) /* execute-only leaves are valid (else misconfiguration) */
#define EPT_CAPS_AD        (1u << 1) /* the EPTP may enable accessed/dirty flags */

/* EPT entry bits (SDM vol. 3C 29.3.2, tables of EPT paging-structure entry formats). */
#define EPT_R          (UINT64_C(1) << 0)
#define EPT_W          (UINT64_C(1) << 1)
#define EPT_X          (UINT64_C(1) << 2)
#define EPT_RWX        (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT   3 /* leaves: bits 5:3 memory type */
#define EPT_MT_MASK    (UINT64_C(7) << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT (UINT64_C(1) << 6) /* leaves: the EPT type alone decides */
#define EPT_PAGE_SIZE  (UINT64_C(1) << 7) /* PDPTE/PDE: maps a page; PML4E: reserved */
#define EPT_ACCESSED   (UINT64_C(1) << 8)
#define EPT_DIRTY      (UINT64_C(1) << 9)
#define EPT_TABLE_RSVD (UINT64_C(0x1f) << 3) /* non-leaf entries: bits 7:3 reserved */

/* EPTP (SDM vol. 3C 25.6.11 "Extended-Page-Table Pointer (EPTP)"; 24.6.11 in older editions). */
#define EPTP_MT_WB         UINT64_C(6)        /* bits 2:0: type used to read the tables */
#define EPTP_WALK_SHIFT    3                  /* bits 5:3: page-walk length minus 1 */
#define EPTP_AD_ENABLE     (UINT64_C(1) << 6)

/* Fills *f for EPT on a CPU with IA32_VMX_EPT_VPID_CAP = ept_vpid_cap and MAXPHYADDR =
 * maxphyaddr (CPUID 0x80000008 EAX[7:0]). Returns 0, or S2PT_E_INVAL when the CPU lacks a
 * 4-level walk or write-back tables, or maxphyaddr is outside 32..52. */
int ept_format_init(struct s2pt_format *f, uint64_t ept_vpid_cap, unsigned maxphyaddr);

/* EPTP for the tree whose PML4 is at pml4_hpa: write-back table walks, 4 levels, accessed/dirty
 * flags only if enable_ad. Returns 0, or S2PT_E_INVAL for a root that is unaligned or beyond
 * MAXPHYADDR, or A/D asked of a CPU without it. */
int ept_eptp(const struct s2pt_format *f, uint64_t pml4_hpa, bool enable_ad, uint64_t *eptp);

#endif
