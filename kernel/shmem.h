// SPDX-License-Identifier: Apache-2.0
// Shared-memory regions ([shmem NAME] in moat.cfg): allocated and zeroed when the first
// partition that links one starts, scrubbed and freed when the last one ends, and the
// doorbell counters of their peers. The ivshmem device that shows a region to a guest is in
// kernel/vdev_pci.c.
#ifndef KERNEL_SHMEM_H
#define KERNEL_SHMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/config.h"
#include "kernel/mm.h"

struct shmem_region {
    const char *name;
    uint64_t size;       /* bytes, a multiple of 4 KiB (the configuration's) */
    uint64_t bar_size;   /* size rounded up to a power of two: the ivshmem BAR2 */
    hpa_t hpa;           /* the memory, while refs > 0 */
    uint32_t refs;       /* partitions created and not yet destroyed that link it */
    uint32_t peer_count; /* partitions of the configuration that link it */
    uint8_t peers[CONFIG_PARTITIONS_MAX]; /* their slots, in configuration order: the peer
                                             index of a partition is its place here */
    /* Doorbells rung for each peer and not yet read (ivshmem IntrStatus); zeroed when the
     * region is allocated, updated atomically by any vCPU of any peer. */
    uint32_t doorbells[CONFIG_PARTITIONS_MAX];
};

/* One ivshmem function of a partition: which region, and as which peer. */
struct ivshmem_link {
    struct shmem_region *region;
    uint32_t peer;       /* this partition's peer index in region->peers */
    uint8_t devfn;       /* 00:(1+i).0 for the partition's i-th link */
    uint64_t regs_gpa;   /* BAR0 */
    uint64_t shm_gpa;    /* BAR2 */
    uint32_t intr_mask;  /* IntrMask: kept for the guest, no effect yet */
};

/* Learn the regions and who links them from cfg (before any partition is created; cfg
 * stays valid). */
void shmem_setup(const struct moat_config *cfg);
/* Take a reference to region `index` of the configuration, allocating and zeroing its memory
 * for the first one. NULL with a sentence in why when there is no such region or no memory.
 * CPU 0's supervisor only (it creates and destroys every partition). */
struct shmem_region *shmem_get(uint32_t index, char *why, size_t why_len);
/* Drop a reference; the last one scrubs the memory and frees it. */
void shmem_put(struct shmem_region *r);
/* The peer index of partition `slot` in r, or -1 if it does not link r. */
int shmem_peer_index(const struct shmem_region *r, uint32_t slot);
#endif
