// SPDX-License-Identifier: Apache-2.0
// Partition lifecycle: memory carved from the frame allocator and zeroed, the image loaded,
// second-level tables built from a one-range generic map; vCPUs run on their CPUs; a stop by
// any vCPU (or the hypervisor) kicks the others out of guest mode with an IPI.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "kernel/partition.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/smp.h"
#include "kernel/virt_core.h"
#include "kernel/trap.h"
#include "drivers/lapic.h"

#define PART_MEM_ALIGN (2 * MIB) /* lets the stage-2 builder use 2 MiB pages */

static uint64_t s2_alloc_page(void *ctx)
{
    uint64_t pa = frames_alloc(1, PAGE_SIZE, 0);
    if (pa == PMM_NONE)
        return S2PT_NO_PAGE;
    memset(hpa_to_ptr(pa), 0, PAGE_SIZE);
    return pa;
}

static void s2_free_page(void *ctx, uint64_t hpa)
{
    frames_free(hpa, 1);
}

static void *s2_phys_to_virt(void *ctx, uint64_t hpa)
{
    return hpa_to_ptr(hpa);
}

static const struct s2pt_alloc s2_alloc = { s2_alloc_page, s2_free_page, s2_phys_to_virt, NULL };

void *guest_phys_ptr(const struct partition *p, uint64_t gpa, uint64_t len)
{
    if (gpa > p->mem_size || len > p->mem_size - gpa)
        return NULL;
    return hpa_to_ptr(p->mem_hpa + gpa);
}

bool guest_phys_read(struct partition *p, uint64_t gpa, void *buf, uint64_t len)
{
    const void *src = guest_phys_ptr(p, gpa, len);
    if (!src)
        return false;
    memcpy(buf, src, len);
    return true;
}

bool guest_phys_write(struct partition *p, uint64_t gpa, const void *buf, uint64_t len)
{
    void *dst = guest_phys_ptr(p, gpa, len);
    if (!dst)
        return false;
    memcpy(dst, buf, len);
    return true;
}

bool partition_add_io(struct partition *p, const struct io_device *d)
{
    if (p->io_count >= PART_IO_MAX)
        return false;
    p->io[p->io_count++] = *d;
    return true;
}

static void fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

struct partition *partition_create(const char *name, const void *image, uint64_t image_size,
                                   enum guest_mode mode, uint64_t mem_size, const char *args,
                                   char *why, size_t why_len)
{
    uint64_t load = mode == GUEST_MODE_REAL ? GUEST_REAL_LOAD_GPA : GUEST_LOAD_GPA;
    uint64_t limit = mode == GUEST_MODE_REAL ? 0xf000 - MAX_CPUS * 0x200ull : mem_size;
    if (mem_size % PART_MEM_ALIGN || mem_size < 4 * MIB) {
        fail(why, why_len, "memory size must be a multiple of 2 MiB and at least 4 MiB");
        return NULL;
    }
    if (load + image_size > limit - (mode == GUEST_MODE_REAL ? 0 : (uint64_t)cpu_count * GUEST_STACK_PER_VCPU)) {
        fail(why, why_len, "image of %lu bytes does not fit at 0x%lx in %s", image_size, load,
             mode == GUEST_MODE_REAL ? "real-mode memory" : "the partition's memory");
        return NULL;
    }
    if (strlen(args) >= PART_ARGS_MAX) {
        fail(why, why_len, "arguments longer than %d characters", PART_ARGS_MAX - 1);
        return NULL;
    }
    uint64_t pages = (sizeof(struct partition) + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t pa = frames_alloc(pages, PAGE_SIZE, 0);
    if (pa == PMM_NONE) {
        fail(why, why_len, "out of memory for the partition descriptor");
        return NULL;
    }
    struct partition *p = hpa_to_ptr(pa);
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->args, sizeof(p->args), "%s", args);
    p->mode = mode;
    p->mem_size = mem_size;
    p->state = PART_CREATED;

    p->mem_hpa = frames_alloc(mem_size / PAGE_SIZE, PART_MEM_ALIGN, 0);
    if (p->mem_hpa == PMM_NONE) {
        fail(why, why_len, "needs %lu MiB but the largest free block is %lu MiB", mem_size / MIB,
             frames_largest_free() / MIB);
        frames_free(pa, pages);
        return NULL;
    }
    memset(hpa_to_ptr(p->mem_hpa), 0, mem_size);
    memcpy(hpa_to_ptr(p->mem_hpa + load), image, image_size);
    memcpy(hpa_to_ptr(p->mem_hpa + GUEST_ARGS_GPA), p->args, strlen(p->args) + 1);
    guest_entry_prepare_memory(p);

    struct gpa_range ram = { 0, p->mem_hpa, mem_size, GPA_RWX, GPA_MT_WB };
    int rc = s2pt_init(&p->s2, &virt_s2_format, &s2_alloc);
    if (rc == 0)
        rc = s2pt_map(&p->s2, &virt_s2_format, &ram);
    if (rc != 0) {
        fail(why, why_len, "second-level tables: %s", s2pt_strerror(rc));
        partition_destroy(p);
        return NULL;
    }
    return p;
}

void partition_destroy(struct partition *p)
{
    for (uint32_t i = 0; i < p->vcpu_count; i++) {
        if (p->vcpus[i]) {
            virt->vcpu_destroy(p->vcpus[i]);
            frames_free(ptr_to_hpa(p->vcpus[i]), (sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE);
        }
    }
    s2pt_destroy(&p->s2);
    /* Scrub before the memory goes back: the next owner must not see this guest's data. */
    memset(hpa_to_ptr(p->mem_hpa), 0, p->mem_size);
    frames_free(p->mem_hpa, p->mem_size / PAGE_SIZE);
    frames_free(ptr_to_hpa(p), (sizeof(struct partition) + PAGE_SIZE - 1) / PAGE_SIZE);
}

void partition_stop(struct partition *p, const char *fmt, ...)
{
    uint64_t flags = spin_lock_irqsave(&p->lock);
    bool first = p->state != PART_STOPPED;
    if (first) {
        p->state = PART_STOPPED;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->stop_reason, sizeof(p->stop_reason), fmt, ap);
        va_end(ap);
    }
    spin_unlock_irqrestore(&p->lock, flags);
    if (!first)
        return;
    printk("partition %s: stopped: %s\n", p->name, p->stop_reason);
    /* vCPUs still in guest mode elsewhere leave it on the kick IPI and see the state. */
    for (uint32_t i = 0; i < p->vcpu_count; i++) {
        struct vcpu *v = p->vcpus[i];
        if (v && v->running && v->cpu != this_cpu())
            lapic_send_ipi(v->cpu->apic_id, VEC_KICK);
    }
}

static void vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct partition *p = v->part;
    char why[160];
    struct guest_entry_state st;
    guest_entry_build(p, v->id, &st);
    if (!virt->vcpu_init(v, s2pt_root(&p->s2), &st, why, sizeof(why))) {
        partition_stop(p, "vCPU %u cannot start: %s", v->id, why);
    } else {
        v->running = true;
        vcpu_loop(v);
        v->running = false;
    }
    __atomic_fetch_sub(&p->vcpus_active, 1, __ATOMIC_RELEASE);
}

void partition_run(struct partition *p)
{
    uint32_t n = cpu_count;
    p->vcpu_count = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!percpu_of[i]->online || !percpu_of[i]->virt_ready)
            continue;
        uint64_t pages = (sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE;
        struct vcpu *v = hpa_to_ptr(frames_alloc_zeroed(pages, 0));
        v->part = p;
        v->id = p->vcpu_count;
        v->cpu = percpu_of[i];
        p->vcpus[p->vcpu_count++] = v;
    }
    if (p->vcpu_count == 0) {
        partition_stop(p, "no CPU with virtualization enabled");
        return;
    }
    p->state = PART_RUNNING;
    p->vcpus_active = p->vcpu_count;
    printk("partition %s: %lu MiB at host 0x%lx, %u vCPUs, %s mode, stage-2 tables %lu KiB\n",
           p->name, p->mem_size / MIB, p->mem_hpa, p->vcpu_count,
           p->mode == GUEST_MODE_LONG64 ? "64-bit" : p->mode == GUEST_MODE_PROT32 ? "32-bit protected" : "real",
           s2pt_table_pages(&p->s2) * 4);
    for (uint32_t i = 1; i < p->vcpu_count; i++)
        smp_run_on(p->vcpus[i]->cpu, vcpu_thread, p->vcpus[i]);
    vcpu_thread(p->vcpus[0]);
    while (__atomic_load_n(&p->vcpus_active, __ATOMIC_ACQUIRE) != 0)
        sti_hlt();
    cli();
    uint64_t flags = spin_lock_irqsave(&p->lock);
    if (p->state != PART_STOPPED) {
        /* A clean end: every vCPU left through the exit hypercall. */
        p->state = PART_STOPPED;
        p->exited = true;
        snprintf(p->stop_reason, sizeof(p->stop_reason), "all vCPUs exited");
    }
    spin_unlock_irqrestore(&p->lock, flags);
}
