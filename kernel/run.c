// SPDX-License-Identifier: Apache-2.0
// The run time. Every CPU with virtualization runs one loop: ask its scheduler (kernel/sched.c)
// which vCPU runs and until when, arm the timer for that, enter the guest, handle exits, and
// go back to the scheduler when the slice ends, the vCPU halts, yields or finishes, or its
// partition stops. CPU 0 also runs the supervisor, the only code that creates and destroys
// partitions: it starts them, and when the last vCPU of one has been retired by its CPU it
// reports the end, scrubs and frees everything and, for a crash with on_crash = restart,
// schedules a new start after a back-off. Other CPUs never wait for CPU 0, nor CPU 0 for them:
// they talk through posted vCPUs, flags and kick IPIs.
#include <stdio.h>
#include <string.h>
#include "kernel/run.h"
#include "kernel/conmux.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/partition.h"
#include "kernel/percpu.h"
#include "kernel/sched.h"
#include "kernel/shutdown.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/virt_core.h"
#include "kernel/x86.h"
#include "drivers/timer.h"

#define NS_PER_US UINT64_C(1000)
#define NS_PER_MS UINT64_C(1000000)

/* ---- per-CPU state ------------------------------------------------------------------------ */

struct cpu_run {
    struct sched s;
    struct vcpu *vcpus[CONFIG_PARTITIONS_MAX];             /* scheduled here, by slot */
    struct vcpu *volatile posted[CONFIG_PARTITIONS_MAX];   /* handed over by the supervisor */
    volatile uint32_t posted_any;
    struct vcpu *state_owner; /* whose FPU, CR2 and debug registers the CPU holds */
};

static struct cpu_run *runs[MAX_CPUS];

/* ---- the supervisor's view of each configured partition ---------------------------------- */

enum slot_state {
    SLOT_OFF,          /* never started (autostart = no) */
    SLOT_RUNNING,
    SLOT_RESTART_WAIT, /* crashed; starts again at restart_at */
    SLOT_ENDED,        /* exited, stopped, or crashed for good */
};

struct slot {
    const struct config_partition *c;
    struct run_image image;
    enum slot_state state;
    struct partition *p;
    uint32_t restarts;
    uint64_t restart_at, delay_ns;
    bool ok;             /* its last incarnation exited with status 0 */
    volatile bool stop_requested;
    volatile bool start_requested;
    volatile bool restart_requested;
    enum { END_NONE, END_EXITED, END_STOPPED, END_CRASHED } how;
    char last_crash[PART_REASON_MAX + 64];
};

static const struct moat_config *cfg;
static struct slot slots[CONFIG_PARTITIONS_MAX];
static bool exit_when_done, all_done_reported;
static uint64_t free_at_start, started_at;
static volatile uint32_t supervisor_pending; /* a partition ended or a request came */

static void wake_supervisor(void)
{
    __atomic_store_n(&supervisor_pending, 1, __ATOMIC_RELEASE);
    smp_kick(percpu_of[0]);
}

/* ---- guest state the hardware does not switch ------------------------------------------- */

/* Give the CPU's FPU/SSE registers, CR2 and DR0-3/DR6 to v, saving the previous owner's.
 * Done only when the vCPU on this CPU changes: one vCPU per CPU never pays for it. */
static void switch_guest_state(struct cpu_run *r, struct vcpu *v)
{
    struct vcpu *old = r->state_owner;
    if (old == v)
        return;
    if (old) {
        fxsave64(old->fpu);
        old->cr2 = read_cr2();
        old->dr[0] = read_dr0(), old->dr[1] = read_dr1();
        old->dr[2] = read_dr2(), old->dr[3] = read_dr3();
        old->dr6 = read_dr6();
    }
    fxrstor64(v->fpu);
    write_cr2(v->cr2);
    write_dr0(v->dr[0]), write_dr1(v->dr[1]), write_dr2(v->dr[2]), write_dr3(v->dr[3]);
    write_dr6(v->dr6);
    r->state_owner = v;
}

/* ---- the per-CPU loop ---------------------------------------------------------------------- */

static void add_to_scheduler(struct cpu_run *r, struct vcpu *v)
{
    const struct config_partition *c = slots[v->part->slot].c;
    /* A budget only under the priority scheduler, and a period only with a budget. */
    bool budget = cfg->scheduler == CONFIG_SCHED_PRIORITY && c->budget_us;
    int rc = sched_add(&r->s, v->part->slot, c->priority, budget ? c->budget_us * NS_PER_US : 0,
                       budget ? c->period_us * NS_PER_US : 0);
    if (rc < 0)
        partition_stop(v->part, "vCPU %u cannot be scheduled on CPU %u: %s", v->id,
                       this_cpu()->index, sched_strerror(rc));
}

/* Make the control structures of a vCPU the supervisor posted (on this CPU, as VT-x needs)
 * and schedule it. */
static void take_posted(struct cpu_run *r, uint64_t now)
{
    if (!__atomic_exchange_n(&r->posted_any, 0, __ATOMIC_ACQ_REL))
        return;
    for (uint32_t i = 0; i < CONFIG_PARTITIONS_MAX; i++) {
        struct vcpu *v = __atomic_exchange_n(&r->posted[i], NULL, __ATOMIC_ACQ_REL);
        if (!v)
            continue;
        struct partition *p = v->part;
        struct guest_entry_state st;
        char why[160];
        r->vcpus[i] = v;
        v->running = true;
        guest_entry_build(p, v->id, &st);
        if (!virt->vcpu_init(v, s2pt_root(&p->s2), &st, why, sizeof(why))) {
            partition_stop(p, "vCPU %u cannot start on CPU %u: %s", v->id, this_cpu()->index, why);
            continue;
        }
        __atomic_fetch_add(&p->overhead_bytes, v->arch_bytes, __ATOMIC_RELAXED);
        for (uint32_t k = 0; k < p->pass_io_n; k++)
            virt->allow_io(v, p->pass_io[k].base, p->pass_io[k].count);
        add_to_scheduler(r, v);
        if (__atomic_add_fetch(&p->vcpus_ready, 1, __ATOMIC_ACQ_REL) == p->vcpu_count)
            printk("partition %s: running; Moat holds %lu KiB for it besides its memory\n",
                   p->name, p->overhead_bytes / 1024);
    }
}

static void update_counters(struct cpu_run *r, struct vcpu *v)
{
    struct sched_stats st;
    if (sched_get_stats(&r->s, v->part->slot, &st) == 0) {
        v->cpu_ns = st.cpu_time;
        v->switches = st.switches;
        v->preempted = st.preempted;
    }
}

/* Take v off this CPU for good: its counters are final, its control structures go. */
static void retire(struct cpu_run *r, struct vcpu *v, uint64_t now)
{
    uint32_t slot = v->part->slot;
    sched_charge(&r->s, now);
    update_counters(r, v);
    sched_remove(&r->s, slot, now);
    vcpu_flush_line(v);
    if (r->state_owner == v)
        r->state_owner = NULL;
    virt->vcpu_destroy(v);
    r->vcpus[slot] = NULL;
    v->running = false;
    if (__atomic_sub_fetch(&v->part->vcpus_active, 1, __ATOMIC_ACQ_REL) == 0)
        wake_supervisor();
}

/* Retire what is finished or stopped; wake halted vCPUs whose time has come. Returns the
 * earliest wake-up still pending (TIMER_NO_DEADLINE: none). */
static uint64_t reap(struct cpu_run *r, uint64_t now)
{
    uint64_t next_wake = TIMER_NO_DEADLINE;
    for (uint32_t i = 0; i < CONFIG_PARTITIONS_MAX; i++) {
        struct vcpu *v = r->vcpus[i];
        if (!v)
            continue;
        if (v->done || v->part->state != PART_RUNNING) {
            retire(r, v, now);
        } else if (v->halted) {
            if (v->wake_ns <= now) {
                v->halted = false;
                sched_set_runnable(&r->s, i, true, now);
            } else if (v->wake_ns < next_wake) {
                next_wake = v->wake_ns;
            }
        }
    }
    return next_wake;
}

/* Enter v and handle its exits until something needs the scheduler: the slice's end, a
 * posted vCPU, on CPU 0 the supervisor's flag or the tick. On VT-x the preemption timer is
 * armed for the earlier of the deadline and the next tick. */
static enum exit_outcome run_vcpu(struct cpu_run *r, struct vcpu *v, uint64_t until)
{
    static const volatile uint32_t never;
    bool supervisor = this_cpu()->index == 0;
    uint64_t tick = this_cpu()->next_tick_ns;
    v->deadline_tsc = timer_ns_to_tsc(until < tick ? until : tick);
    return vcpu_run_until(v, timer_ns_to_tsc(until), &r->posted_any,
                          supervisor ? &supervisor_pending : &never, supervisor);
}

static void supervise(uint64_t now);

static void __attribute__((noreturn)) cpu_loop(void *arg)
{
    struct cpu_run *r = runs[this_cpu()->index];
    bool supervisor = this_cpu()->index == 0;
    uint32_t last = SCHED_IDLE;
    cli();
    for (;;) {
        /* Take the interrupts that came while in the guest (a preemption-timer exit wins
         * over a pending interrupt, SDM vol. 3C 26.2): the tick keeps the clock of halts. */
        irq_window();
        uint64_t now = clock_ns();
        if (supervisor)
            supervise(now);
        take_posted(r, now);
        uint64_t wake = reap(r, now);
        struct sched_decision d = sched_next(&r->s, now);
        if (last != SCHED_IDLE && last != d.id && r->vcpus[last])
            update_counters(r, r->vcpus[last]);
        last = d.id;
        uint64_t until = d.run_until < wake ? d.run_until : wake;
        timer_set_deadline(until);
        if (d.id == SCHED_IDLE) {
            /* Nothing to run: sleep until an interrupt (tick, deadline, kick). */
            sti_hlt();
            cli();
            continue;
        }
        struct vcpu *v = r->vcpus[d.id];
        switch_guest_state(r, v);
        switch (run_vcpu(r, v, until)) {
        case EXIT_HALT:
            /* Until the next tick, which stands for the guest's timer interrupt. */
            v->halted = true;
            v->wake_ns = this_cpu()->next_tick_ns;
            sched_set_runnable(&r->s, d.id, false, clock_ns());
            break;
        case EXIT_YIELD:
            sched_yield_slice(&r->s, d.id, clock_ns());
            break;
        case EXIT_DONE:
            v->done = true;
            break;
        case EXIT_GO:
        case EXIT_STOP:
            break;
        }
    }
}

/* ---- the supervisor (CPU 0) ---------------------------------------------------------------- */

static void cpu_list(const struct config_partition *c, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < CONFIG_CPUS_MAX && n < len; i++) {
        if (!(c->cpus[i / 64] >> (i % 64) & 1))
            continue;
        uint32_t j = i;
        while (j + 1 < CONFIG_CPUS_MAX && (c->cpus[(j + 1) / 64] >> ((j + 1) % 64) & 1))
            j++;
        n += (size_t)snprintf(buf + n, len - n, j > i ? "%s%u-%u" : "%s%u", n ? "," : "", i, j);
        i = j;
    }
}

static const char *const mode_names[] = { "64-bit", "32-bit protected", "real" };

static bool start(struct slot *s, uint32_t slot)
{
    char why[200], cpus[64];
    struct partition *p = partition_create(s->c, slot, s->image.data, s->image.size, why, sizeof(why));
    if (!p) {
        printk("partition %s: not started: %s\n", s->c->name, why);
        s->state = SLOT_ENDED;
        s->ok = false;
        return false;
    }
    cpu_list(s->c, cpus, sizeof(cpus));
    printk("partition %s: %lu MiB at host 0x%lx, %u vCPUs on CPU%s %s, %s mode, entry 0x%lx\n",
           p->name, p->mem_size / MIB, p->mem_hpa, p->vcpu_count, p->vcpu_count > 1 ? "s" : "",
           cpus, mode_names[p->mode], p->entry);
    s->p = p;
    s->state = SLOT_RUNNING;
    s->stop_requested = false;
    p->vcpus_active = p->vcpu_count;
    p->state = PART_RUNNING;
    for (uint32_t i = 0; i < p->vcpu_count; i++) {
        struct vcpu *v = p->vcpus[i];
        struct cpu_run *r = runs[v->cpu->index];
        __atomic_store_n(&r->posted[slot], v, __ATOMIC_RELEASE);
        __atomic_store_n(&r->posted_any, 1, __ATOMIC_RELEASE);
        smp_kick(v->cpu);
    }
    return true;
}

static uint64_t exits_of(const struct vcpu *v)
{
    uint64_t n = 0;
    for (unsigned k = 0; k < EXIT_KIND_COUNT; k++)
        n += v->exits[k];
    return n;
}

/* A partition's counters summed over its vCPUs. */
struct totals {
    uint64_t cpu_ns, switches, exits, unclaimed, refused;
};

static struct totals totals_of(const struct partition *p)
{
    struct totals t = { 0 };
    for (uint32_t i = 0; i < p->vcpu_count; i++) {
        const struct vcpu *v = p->vcpus[i];
        t.cpu_ns += v->cpu_ns;
        t.switches += v->switches;
        t.exits += exits_of(v);
        t.unclaimed += v->io_unclaimed;
        t.refused += v->msr_refused;
    }
    return t;
}

static void report_end(struct partition *p, bool crashed)
{
    for (uint32_t i = 0; i < p->vcpu_count; i++) {
        struct vcpu *v = p->vcpus[i];
        printk("partition %s: vCPU %u: %lu exits (cpuid %lu, io %lu, msr %lu, hlt %lu, hypercall %lu, "
               "host interrupts %lu, mmio/npf %lu, preemption %lu), cpu time %lu us, %lu switches\n",
               p->name, v->id, exits_of(v), v->exits[EXIT_CPUID], v->exits[EXIT_IO],
               v->exits[EXIT_MSR_READ] + v->exits[EXIT_MSR_WRITE], v->exits[EXIT_HLT],
               v->exits[EXIT_HYPERCALL], v->exits[EXIT_INTR], v->exits[EXIT_NPF],
               v->exits[EXIT_PREEMPT], v->cpu_ns / NS_PER_US, v->switches);
    }
    struct totals t = totals_of(p);
    printk("partition %s: cpu time %lu us, %lu switches, %lu exits, %lu unclaimed port accesses, "
           "%lu refused MSR accesses, %lu console bytes dropped\n", p->name, t.cpu_ns / NS_PER_US,
           t.switches, t.exits, t.unclaimed, t.refused, conmux_dropped(p->slot));
    if (!crashed && p->exited)
        printk("partition %s: ended (all vCPUs exited), exit status %ld, %lu exits\n", p->name,
               p->exit_status, t.exits);
    else
        printk("partition %s: ended (stopped: %s), %lu exits\n", p->name, p->stop_reason, t.exits);
}

/* The last vCPU of s's partition is retired: report, free, and restart or not. */
static void end(struct slot *s, uint64_t now)
{
    struct partition *p = s->p;
    uint64_t flags = spin_lock_irqsave(&p->lock);
    if (p->state != PART_STOPPED) {
        /* Nobody stopped it: every vCPU left through the exit hypercall. */
        p->state = PART_STOPPED;
        p->exited = true;
        snprintf(p->stop_reason, sizeof(p->stop_reason), "all vCPUs exited");
    }
    spin_unlock_irqrestore(&p->lock, flags);
    bool crashed = !p->exited && !s->stop_requested;
    conmux_drain_all(); /* its last lines before its end */
    report_end(p, crashed);
    s->how = p->exited ? END_EXITED : crashed ? END_CRASHED : END_STOPPED;
    if (crashed)
        snprintf(s->last_crash, sizeof(s->last_crash), "%s (%lu ms after the partitions started, "
                 "after %lu us of CPU time)", p->stop_reason, (now - started_at) / NS_PER_MS, totals_of(p).cpu_ns / NS_PER_US);
    s->ok = p->exited && p->exit_status == 0;
    uint64_t before = frames_free_bytes();
    partition_destroy(p);
    s->p = NULL;
    uint64_t after = frames_free_bytes();
    printk("memory: partition %s returned %lu KiB; %lu KiB free\n", s->c->name,
           (after - before) / 1024, after / 1024);

    const struct config_partition *c = s->c;
    if (s->restart_requested) {
        s->restart_requested = false;
        s->state = SLOT_ENDED;
        start(s, (uint32_t)(s - slots));
        return;
    }
    if (crashed && c->on_crash == CONFIG_CRASH_RESTART) {
        if (s->restarts < c->max_restarts) {
            s->delay_ns = s->restarts == 0 ? c->restart_delay_us * NS_PER_US : s->delay_ns * 2;
            if (s->delay_ns > c->restart_delay_max_us * NS_PER_US)
                s->delay_ns = c->restart_delay_max_us * NS_PER_US;
            s->restarts++;
            s->restart_at = now + s->delay_ns;
            s->state = SLOT_RESTART_WAIT;
            printk("partition %s: restart %u of %u in %lu ms\n", c->name, s->restarts,
                   c->max_restarts, s->delay_ns / NS_PER_MS);
            return;
        }
        printk("partition %s: not restarted: it crashed %u times (max_restarts = %u)\n", c->name,
               s->restarts + 1, c->max_restarts);
    }
    s->state = SLOT_ENDED;
}

static void supervise(uint64_t now)
{
    conmux_drain();
    conmux_poll_input();
    if (__atomic_exchange_n(&supervisor_pending, 0, __ATOMIC_ACQ_REL) == 0) {
        /* Nothing ended and nothing was asked: only restarts can be due. */
        bool due = false;
        for (uint32_t i = 0; i < cfg->partition_count; i++)
            due |= slots[i].state == SLOT_RESTART_WAIT && now >= slots[i].restart_at;
        if (!due)
            return;
    }
    bool live = false, ok = true;
    for (uint32_t i = 0; i < cfg->partition_count; i++) {
        struct slot *s = &slots[i];
        if (s->state == SLOT_RUNNING && (s->stop_requested || s->restart_requested)) {
            s->stop_requested = true;
            partition_stop(s->p, "stopped on request");
        }
        if (s->state != SLOT_RUNNING && s->restart_requested) {
            s->restart_requested = false;
            s->start_requested = true;
        }
        if (s->state == SLOT_RUNNING && __atomic_load_n(&s->p->vcpus_active, __ATOMIC_ACQUIRE) == 0)
            end(s, now);
        if ((s->state == SLOT_RESTART_WAIT && now >= s->restart_at) ||
            (s->start_requested && s->state != SLOT_RUNNING)) {
            s->start_requested = false;
            start(s, i);
        }
        live |= s->state == SLOT_RUNNING || s->state == SLOT_RESTART_WAIT;
        ok &= s->state == SLOT_OFF || s->ok;
    }
    if (live || all_done_reported)
        return;
    all_done_reported = true;
    uint64_t free_now = frames_free_bytes();
    printk("moat: all partitions stopped%s; %lu KiB free, %ld KiB not returned\n",
           ok ? "" : " (some failed)", free_now / 1024, (int64_t)(free_at_start - free_now) / 1024);
    if (exit_when_done) {
        printk("moat: test exit\n");
        shutdown_emulator(ok);
    }
}

bool run_request_stop(uint32_t slot)
{
    if (!cfg || slot >= cfg->partition_count || slots[slot].state != SLOT_RUNNING)
        return false;
    slots[slot].stop_requested = true;
    wake_supervisor();
    return true;
}

bool run_request_start(uint32_t slot)
{
    if (!cfg || slot >= cfg->partition_count || slots[slot].state == SLOT_RUNNING)
        return false;
    slots[slot].start_requested = true;
    wake_supervisor();
    return true;
}

void run_request_restart(uint32_t slot)
{
    if (!cfg || slot >= cfg->partition_count)
        return;
    slots[slot].restart_requested = true;
    wake_supervisor();
}

uint32_t run_slot_count(void)
{
    return cfg ? cfg->partition_count : 0;
}

const char *run_slot_name(uint32_t slot)
{
    return cfg && slot < cfg->partition_count ? cfg->partitions[slot].name : "?";
}

int run_find(const char *name)
{
    for (uint32_t i = 0; i < run_slot_count(); i++)
        if (strcmp(cfg->partitions[i].name, name) == 0)
            return (int)i;
    return -1;
}

struct partition *run_partition(uint32_t slot)
{
    return slot < run_slot_count() && slots[slot].state == SLOT_RUNNING ? slots[slot].p : NULL;
}

void run_info(uint32_t slot, struct run_info *out)
{
    static const char *const ended[] = { "ended", "exited", "stopped", "crashed" };
    const struct slot *s = &slots[slot];
    memset(out, 0, sizeof(*out));
    out->name = s->c->name;
    out->state = s->state == SLOT_OFF ? "off" : s->state == SLOT_RUNNING ? "running" :
                 s->state == SLOT_RESTART_WAIT ? "restarting" : ended[s->how];
    cpu_list(s->c, out->cpus, sizeof(out->cpus));
    out->memory = s->c->memory;
    out->restarts = s->restarts;
    out->dropped = conmux_dropped(slot);
    out->last_crash = s->last_crash;
    const struct partition *p = run_partition(slot);
    if (!p)
        return;
    out->held = p->overhead_bytes;
    struct totals t = totals_of(p);
    out->cpu_ns = t.cpu_ns;
    out->exits = t.exits;
}

/* ---- start-up ------------------------------------------------------------------------------- */

static struct sched_policy policy_of(const struct moat_config *c, uint64_t frame_start)
{
    static const enum sched_kind kinds[] = {
        [CONFIG_SCHED_ROUND_ROBIN] = SCHED_ROUND_ROBIN,
        [CONFIG_SCHED_PRIORITY] = SCHED_FIXED_PRIORITY,
        [CONFIG_SCHED_CYCLIC] = SCHED_CYCLIC,
    };
    return (struct sched_policy){ .kind = kinds[c->scheduler],
                                  .slice = c->timeslice_us * NS_PER_US,
                                  .major_frame = c->major_frame_us * NS_PER_US,
                                  .frame_start = frame_start };
}

/* CPU i's scheduler with the cyclic windows of every partition placed on it. */
static void make_cpu_run(uint32_t cpu, const struct sched_policy *pol, uint64_t now)
{
    uint64_t pages = (sizeof(struct cpu_run) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct cpu_run *r = hpa_to_ptr(frames_alloc_zeroed(pages, 0));
    int rc = sched_init(&r->s, pol, now);
    if (rc < 0)
        panic("CPU %u scheduler: %s (the configuration check should have refused this)", cpu,
              sched_strerror(rc));
    for (uint32_t i = 0; pol->kind == SCHED_CYCLIC && i < cfg->partition_count; i++) {
        const struct config_partition *c = &cfg->partitions[i];
        if (!(c->cpus[cpu / 64] >> (cpu % 64) & 1))
            continue;
        for (uint32_t w = 0; w < c->window_count; w++) {
            rc = sched_add_window(&r->s, i, c->windows[w].offset_us * NS_PER_US,
                                  c->windows[w].length_us * NS_PER_US);
            if (rc < 0)
                panic("CPU %u: window %u of %s: %s (the configuration check should have refused "
                      "this)", cpu, w, c->name, sched_strerror(rc));
        }
    }
    runs[cpu] = r;
}

void run_partitions(const struct moat_config *config, const struct run_image *images,
                    bool exit_when_done_)
{
    cfg = config;
    shmem_setup(cfg); /* the regions partitions link, before any is created */
    exit_when_done = exit_when_done_;
    uint64_t now = clock_ns();
    started_at = now;
    struct sched_policy pol = policy_of(cfg, now);
    for (uint32_t i = 0; i < cpu_count; i++)
        if (percpu_of[i]->online && percpu_of[i]->virt_ready)
            make_cpu_run(i, &pol, now);
    if (!runs[0])
        panic("the boot CPU cannot run guests, but virt_init said it could");
    printk("sched: %s", cfg->scheduler == CONFIG_SCHED_CYCLIC ? "cyclic" :
                        cfg->scheduler == CONFIG_SCHED_PRIORITY ? "fixed priority" : "round-robin");
    if (cfg->scheduler == CONFIG_SCHED_CYCLIC)
        printk(", major frame %lu us\n", cfg->major_frame_us);
    else
        printk(", time slice %lu us\n", cfg->timeslice_us);
    free_at_start = frames_free_bytes();
    printk("memory: %lu KiB free before the partitions start\n", free_at_start / 1024);
    for (uint32_t i = 0; i < cfg->partition_count; i++) {
        slots[i] = (struct slot){ .c = &cfg->partitions[i], .image = images[i] };
        if (cfg->partitions[i].autostart)
            start(&slots[i], i);
        else
            printk("partition %s: not started (autostart = no)\n", cfg->partitions[i].name);
    }
    wake_supervisor(); /* all may have failed to start: let the supervisor say so */
    for (uint32_t i = 1; i < cpu_count; i++)
        if (runs[i])
            smp_run_on(percpu_of[i], cpu_loop, NULL);
    cpu_loop(NULL);
}
