// SPDX-License-Identifier: Apache-2.0
// AP bring-up with the INIT-SIPI-SIPI sequence (SDM vol. 3A 8.4.4.1, "Typical AP
// initialization sequence"). APs start one at a time: the trampoline's parameter block holds
// the stack and per-CPU pointer of the AP being started. An AP that does not come online in
// time is reported and left alone; the others still start.
#include <string.h>
#include "kernel/smp.h"
#include "kernel/percpu.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/x86.h"
#include "drivers/lapic.h"
#include "drivers/timer.h"
#include "kernel/trap.h"

struct trampoline_params {
    uint64_t cr3;
    uint64_t stack_top;
    uint64_t entry;
    uint64_t arg;
};

extern const uint8_t trampoline_start[], trampoline_end[], trampoline_params[];

#define INIT_DELAY_US    10000  /* after INIT, before the first STARTUP */
#define STARTUP_DELAY_US 200    /* between the two STARTUPs */
#define ONLINE_WAIT_US   200000 /* AP must report online within this */
#define LOW_MEMORY_END   0x100000
#define TICK_WAIT_US     2000000

static uint64_t ap_lapic_hz;

static void __attribute__((noreturn)) ap_entry(struct percpu *p)
{
    percpu_setup(p);
    idt_load();
    lapic_init_cpu();
    timer_start_tick(ap_lapic_hz);
    __atomic_store_n(&p->online, 1, __ATOMIC_RELEASE);
    for (;;) {
        void (*fn)(void *) = __atomic_load_n(&p->work, __ATOMIC_ACQUIRE);
        if (!fn) {
            sti_hlt();
            cli();
            continue;
        }
        fn(p->work_arg);
        __atomic_store_n(&p->work, NULL, __ATOMIC_RELEASE);
    }
}

static void work_ipi(struct trap_frame *f)
{
    /* Nothing to do here: the interrupt only wakes the idle loop, which runs the work. */
}

void smp_run_on(struct percpu *cpu, void (*fn)(void *), void *arg)
{
    while (__atomic_load_n(&cpu->work, __ATOMIC_ACQUIRE))
        cpu_relax();
    cpu->work_arg = arg;
    __atomic_store_n(&cpu->work, fn, __ATOMIC_RELEASE);
    lapic_send_ipi(cpu->apic_id, VEC_WORK);
}

void smp_kick(struct percpu *cpu)
{
    if (cpu != this_cpu())
        lapic_send_ipi(cpu->apic_id, VEC_KICK);
}

static struct percpu *percpu_new(uint32_t index, uint32_t apic_id)
{
    uint64_t pages = (sizeof(struct percpu) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct percpu *p = hpa_to_ptr(frames_alloc_zeroed(pages, 0));
    p->index = index;
    p->apic_id = apic_id;
    p->stack_top = frames_alloc_zeroed(KERNEL_STACK_SIZE / PAGE_SIZE, 0) + KERNEL_STACK_SIZE;
    return p;
}

static bool start_one(struct trampoline_params *params, uint8_t page, struct percpu *p)
{
    params->stack_top = p->stack_top;
    params->arg = (uint64_t)p;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    lapic_send_init(p->apic_id);
    timer_udelay(INIT_DELAY_US);
    lapic_send_startup(p->apic_id, page);
    timer_udelay(STARTUP_DELAY_US);
    if (!__atomic_load_n(&p->online, __ATOMIC_ACQUIRE))
        lapic_send_startup(p->apic_id, page);
    for (uint64_t waited = 0; waited < ONLINE_WAIT_US; waited += 100) {
        if (__atomic_load_n(&p->online, __ATOMIC_ACQUIRE))
            return true;
        timer_udelay(100);
    }
    return false;
}

uint32_t smp_start_aps(const struct acpi_info *acpi, hpa_t cr3, uint64_t lapic_hz)
{
    uint32_t bsp_id = this_cpu()->apic_id;
    uint32_t online = 1;
    ap_lapic_hz = lapic_hz;
    trap_set_handler(VEC_WORK, work_ipi);

    hpa_t low = frames_alloc(1, PAGE_SIZE, LOW_MEMORY_END);
    if (low == PMM_NONE) {
        printk("smp: no free page below 1 MiB for the AP trampoline: running on the BSP only\n");
        return online;
    }
    size_t len = (size_t)(trampoline_end - trampoline_start);
    memcpy(hpa_to_ptr(low), trampoline_start, len);
    struct trampoline_params *params = hpa_to_ptr(low + (uint64_t)(trampoline_params - trampoline_start));
    params->cr3 = cr3;
    params->entry = (uint64_t)ap_entry;

    for (uint32_t i = 0; i < acpi->cpu_count; i++) {
        const struct acpi_cpu *c = &acpi->cpus[i];
        if (!(c->flags & ACPI_CPU_ENABLED) || c->apic_id == bsp_id)
            continue;
        if (cpu_count >= MAX_CPUS) {
            printk("smp: more than %u CPUs; APIC %u and later are not started\n", MAX_CPUS, c->apic_id);
            break;
        }
        if (c->apic_id > 0xff && !lapic_x2apic_mode()) {
            printk("smp: CPU with APIC ID %u needs x2APIC mode, which firmware left off: not started\n",
                   c->apic_id);
            continue;
        }
        struct percpu *p = percpu_new(cpu_count, c->apic_id);
        percpu_of[cpu_count] = p;
        cpu_count++;
        if (start_one(params, (uint8_t)(low >> 12), p)) {
            online++;
        } else {
            printk("smp: CPU %u (APIC %u) did not come online\n", p->index, p->apic_id);
        }
    }
    /* The trampoline page stays allocated: a late AP could still be executing it. */
    return online;
}

static uint32_t cpus_online_count(void)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < cpu_count; i++)
        n += __atomic_load_n(&percpu_of[i]->online, __ATOMIC_ACQUIRE) ? 1 : 0;
    return n;
}

uint32_t smp_wait_ticks(uint64_t ticks)
{
    uint32_t ok = 0;
    for (uint64_t waited = 0; waited <= TICK_WAIT_US; waited += 1000) {
        ok = 0;
        for (uint32_t i = 0; i < cpu_count; i++) {
            struct percpu *p = percpu_of[i];
            if (p->online && __atomic_load_n(&p->ticks, __ATOMIC_RELAXED) >= ticks)
                ok++;
        }
        if (ok == cpus_online_count())
            break;
        timer_udelay(1000);
    }
    return ok;
}
