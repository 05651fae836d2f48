// SPDX-License-Identifier: Apache-2.0
// AMD nested page tables as a second-level table format for kernel/s2pt.c (APM vol. 2 15.25
// "Nested Paging"): the standard long-mode 4-level entries (APM vol. 2 5.3 "Long-Mode Page
// Translation", 5.4 "Page-Translation-Table Entry Fields") and the nCR3. Pure: the host's
// EFER.NXE, IA32_PAT and 1 GiB page support come in as values.
#ifndef SVM_NPT_H
#define SVM_NPT_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/s2pt.h"

/* s2pt_format.caps bits of an NPT format. */
#define NPT_CAPS_NX (1u << 0) /* host EFER.NXE = 1: bit 63 means no-execute (else reserved) */

/* Long-mode paging entry bits (APM vol. 2 5.4.1 "Field Definitions"). */
#define NPT_P       (UINT64_C(1) << 0)
#define NPT_RW      (UINT64_C(1) << 1)
#define NPT_US      (UINT64_C(1) << 2)
#define NPT_PWT     (UINT64_C(1) << 3)
#define NPT_PCD     (UINT64_C(1) << 4)
#define NPT_A       (UINT64_C(1) << 5)
#define NPT_D       (UINT64_C(1) << 6)
#define NPT_PS      (UINT64_C(1) << 7)  /* PDPE/PDE: maps a page; PML4E: must be zero */
#define NPT_PAT_4K  (UINT64_C(1) << 7)  /* PTE: PAT index bit 2 */
#define NPT_PAT_BIG (UINT64_C(1) << 12) /* 2 MiB / 1 GiB leaves: PAT index bit 2 */
#define NPT_NX      (UINT64_C(1) << 63)

/* IA32_PAT (MSR 0x277) values (APM vol. 2 7.8 "Page-Attribute Table Mechanism"). Each byte i
 * is the memory type of PAT index i = PAT:PCD:PWT. Nested tables index the host's PAT
 * (APM vol. 2 15.25.8 "Combining Memory Types, MTRRs"), so the format needs its value. */
#define MSR_IA32_PAT   0x277
#define NPT_PAT_RESET  UINT64_C(0x0007040600070406) /* WB WT UC- UC  WB WT UC- UC (reset) */
/* The reset value's low half (what CR3 and PAT-unaware code select) with WC at 4 and WP at 5,
 * so every generic memory type has an index. */
#define NPT_PAT_MOAT   UINT64_C(0x0007050100070406) /* WB WT UC- UC  WC WP UC- UC */

/* Fills *f for nested paging with the host's MAXPHYADDR, 1 GiB page support (CPUID
 * 0x80000001 EDX[26]), EFER.NXE and IA32_PAT as they will be at VMRUN. Returns 0, or
 * S2PT_E_INVAL for maxphyaddr outside 32..52 or a PAT byte that is no memory type. */
int npt_format_init(struct s2pt_format *f, unsigned maxphyaddr, bool gib_pages, bool host_nxe,
                    uint64_t host_pat);

/* The VMCB nCR3 value for the tree whose PML4 is at pml4_hpa: PWT/PCD pick a write-back host
 * PAT index among 0..3 for the walk's own reads (APM vol. 2 5.3.2 "CR3"). Returns 0, or
 * S2PT_E_INVAL for an unaligned or too-high root, or a host PAT with no WB in entries 0..3. */
int npt_ncr3(const struct s2pt_format *f, uint64_t pml4_hpa, uint64_t *ncr3);

#endif
