// SPDX-License-Identifier: Apache-2.0
// The generic guest-physical map of a partition: ranges of guest-physical memory, each backed by
// host-physical memory with read/write/execute permissions and a memory type. It knows nothing
// of EPT or NPT: kernel/s2pt.c turns it into whichever second-level tables the backend describes.
#ifndef KERNEL_GPA_MAP_H
#define KERNEL_GPA_MAP_H

#include <stdint.h>

typedef uint64_t gpa_t; /* guest-physical address */

/* Access rights a guest has to a range. Any non-empty combination may be asked for; a
 * format refuses (S2PT_E_PERM) what its hardware cannot express rather than widen it. */
#define GPA_R 0x1u
#define GPA_W 0x2u
#define GPA_X 0x4u
#define GPA_RWX (GPA_R | GPA_W | GPA_X)

/* Memory types, numbered with the architectural encoding shared by the MTRRs, the PAT and
 * the EPT memory-type field (Intel SDM vol. 3A 11.11 "Memory Type Range Registers" and
 * 11.12 "Page Attribute Table"; AMD APM vol. 2 7.7 "Memory-Type Range Registers").
 * The type is the host's side: the guest's own PAT still combines with it (SDM vol. 3C
 * "EPT and Memory Typing" with the ignore-PAT bit clear; APM vol. 2 15.25.8). */
enum gpa_mtype {
    GPA_MT_UC = 0, /* uncacheable */
    GPA_MT_WC = 1, /* write-combining */
    GPA_MT_WT = 4, /* write-through */
    GPA_MT_WP = 5, /* write-protected */
    GPA_MT_WB = 6, /* write-back */
};

/* [gpa, gpa + size) maps to [hpa, hpa + size). gpa, hpa and size are multiples of 4 KiB. */
struct gpa_range {
    gpa_t gpa;
    uint64_t hpa;
    uint64_t size;
    uint32_t perms; /* GPA_R | GPA_W | GPA_X */
    uint32_t mtype; /* enum gpa_mtype */
};

/* A partition's whole map: `count` ranges, in any order, that must not overlap in gpa
 * (they may alias in hpa). */
struct gpa_map {
    const struct gpa_range *ranges;
    uint32_t count;
};

#endif
