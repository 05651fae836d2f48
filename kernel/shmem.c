// SPDX-License-Identifier: Apache-2.0
// Shared-memory regions: a reference count per region, taken by partition_create and dropped
// by partition_destroy. Only CPU 0's supervisor creates and destroys partitions, so the counts
// change on one CPU and need no lock; vCPUs touch only the doorbell counters, atomically, and
// only of regions their own partition holds a reference to.
#include <stdio.h>
#include <string.h>
#include "kernel/shmem.h"
#include "kernel/console.h"

static struct shmem_region regions[CONFIG_SHMEM_MAX];
static uint32_t region_count;

/* 2 MiB alignment lets the stage-2 tables use 2 MiB pages for regions that large. */
#define SHMEM_ALIGN_LARGE (2 * MIB)

static uint64_t pow2_at_least(uint64_t n)
{
    uint64_t p = PAGE_SIZE;
    while (p < n)
        p <<= 1;
    return p;
}

void shmem_setup(const struct moat_config *cfg)
{
    memset(regions, 0, sizeof(regions));
    region_count = cfg->shmem_count;
    for (uint32_t s = 0; s < cfg->shmem_count; s++) {
        struct shmem_region *r = &regions[s];
        r->name = cfg->shmem[s].name;
        r->size = cfg->shmem[s].size;
        r->bar_size = pow2_at_least(r->size);
        for (uint32_t i = 0; i < cfg->partition_count; i++) {
            const struct config_partition *c = &cfg->partitions[i];
            for (uint32_t l = 0; l < c->shmem_count; l++) {
                if (c->shmem_index[l] == s) {
                    r->peers[r->peer_count++] = (uint8_t)i;
                    break;
                }
            }
        }
    }
}

struct shmem_region *shmem_get(uint32_t index, char *why, size_t why_len)
{
    if (index >= region_count) {
        snprintf(why, why_len, "shared-memory region %u is not in the configuration", index);
        return NULL;
    }
    struct shmem_region *r = &regions[index];
    if (r->refs == 0) {
        uint64_t align = r->size >= SHMEM_ALIGN_LARGE ? SHMEM_ALIGN_LARGE : PAGE_SIZE;
        hpa_t pa = frames_alloc(r->size / PAGE_SIZE, align, 0);
        if (pa == PMM_NONE) {
            snprintf(why, why_len, "shmem %s needs %lu KiB but the largest free block is %lu KiB",
                     r->name, r->size / 1024, frames_largest_free() / 1024);
            return NULL;
        }
        memset(hpa_to_ptr(pa), 0, r->size);
        memset(r->doorbells, 0, sizeof(r->doorbells));
        r->hpa = pa;
        printk("shmem %s: %lu KiB at host 0x%lx for %u partition%s\n", r->name, r->size / 1024,
               pa, r->peer_count, r->peer_count == 1 ? "" : "s");
    }
    r->refs++;
    return r;
}

void shmem_put(struct shmem_region *r)
{
    if (r->refs && --r->refs == 0) {
        /* Scrub before the memory goes back: its next owner must not see the peers' data. */
        memset(hpa_to_ptr(r->hpa), 0, r->size);
        frames_free(r->hpa, r->size / PAGE_SIZE);
        r->hpa = 0;
        printk("shmem %s: no partition links it any more: scrubbed and freed\n", r->name);
    }
}

int shmem_peer_index(const struct shmem_region *r, uint32_t slot)
{
    for (uint32_t i = 0; i < r->peer_count; i++)
        if (r->peers[i] == slot)
            return (int)i;
    return -1;
}
