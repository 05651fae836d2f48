// SPDX-License-Identifier: Apache-2.0
// Host tests for kernel/sched.c: a small run-loop simulator drives the scheduler with scripted
// time and events (block, unblock, yield, remove; optional late exits) and records what ran
// when; tests assert exact timelines, counters, deadlines and cyclic-table error messages.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/sched.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define US(x) ((uint64_t)(x) * 1000ull)
#define MS(x) ((uint64_t)(x) * 1000000ull)
#define SEC(x) ((uint64_t)(x) * 1000000000ull)
#define IDLE SCHED_IDLE
#define FOREVER SCHED_FOREVER
#define ANY (-100) /* an event whose return value the test does not check */

/* ---- the simulator ----------------------------------------------------------------------- */

enum ev_kind { EV_BLOCK, EV_UNBLOCK, EV_YIELD, EV_REMOVE };

/* At time t, vCPU id blocks / unblocks / yields / is removed; `expect` is the return value
 * the scheduler must give (SCHED_RESCHED, 0) or ANY. Events are sorted by t. */
struct ev {
    uint64_t t;
    enum ev_kind kind;
    uint32_t id;
    int expect;
};

struct seg {
    uint32_t id; /* IDLE for idle time */
    uint64_t from, to;
};

struct dec {
    uint64_t t;
    uint32_t id;
    uint64_t until;
};

#define SIM_IDS 16
#define SIM_MAX_SEGS 40000
#define SIM_MAX_DECS 40000

struct sim;
typedef void (*sim_hook)(struct sim *m, uint64_t t, struct sched_decision d);

/* The run loop: it asks for a decision, runs it until its deadline (plus `latency`: a real
 * exit comes late) or until the next event, and asks again when the event's return value
 * says so, or when the running vCPU itself blocked, yielded or was removed. */
struct sim {
    struct sched s;
    uint64_t latency;
    bool blocked[SIM_IDS];
    bool present[SIM_IDS];
    struct seg seg[SIM_MAX_SEGS]; /* merged: consecutive pieces of one id join */
    uint32_t nseg;
    struct dec dec[SIM_MAX_DECS];
    uint32_t ndec;
    sim_hook hook;
    void *ctx;
};

static struct sim g_sim;

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static struct sim *sim_new(enum sched_kind kind, uint64_t slice, uint64_t t0)
{
    struct sim *m = &g_sim;
    memset(m, 0, sizeof(*m));
    struct sched_policy p = { .kind = kind, .slice = slice };
    assert_int_equal(sched_init(&m->s, &p, t0), SCHED_OK);
    return m;
}

static struct sim *sim_new_cyclic(uint64_t frame, uint64_t frame_start, uint64_t t0)
{
    struct sim *m = &g_sim;
    memset(m, 0, sizeof(*m));
    struct sched_policy p = { .kind = SCHED_CYCLIC, .major_frame = frame,
                              .frame_start = frame_start };
    assert_int_equal(sched_init(&m->s, &p, t0), SCHED_OK);
    return m;
}

static void sim_add(struct sim *m, uint32_t id, uint32_t prio, uint64_t budget, uint64_t period)
{
    assert_true(id < SIM_IDS);
    assert_int_equal(sched_add(&m->s, id, prio, budget, period), SCHED_OK);
    m->present[id] = true;
}

static void sim_record(struct sim *m, uint32_t id, uint64_t from, uint64_t to)
{
    assert_true(to >= from);
    if (to == from)
        return;
    if (m->nseg && m->seg[m->nseg - 1].id == id && m->seg[m->nseg - 1].to == from) {
        m->seg[m->nseg - 1].to = to;
        return;
    }
    assert_true(m->nseg < SIM_MAX_SEGS);
    m->seg[m->nseg++] = (struct seg){ id, from, to };
}

static struct sched_decision sim_decide(struct sim *m, uint64_t t)
{
    struct sched_decision d = sched_next(&m->s, t);
    assert_true(d.run_until > t);
    if (d.id != IDLE) {
        assert_true(d.id < SIM_IDS);
        assert_true(m->present[d.id]);
        assert_false(m->blocked[d.id]);
    }
    assert_true(m->ndec < SIM_MAX_DECS);
    m->dec[m->ndec++] = (struct dec){ t, d.id, d.run_until };
    if (m->hook)
        m->hook(m, t, d);
    return d;
}

static void sim_run(struct sim *m, uint64_t t0, uint64_t t_end, const struct ev *evs,
                    uint32_t nev)
{
    uint64_t t = t0, from = t0;
    uint32_t ei = 0;
    struct sched_decision d = sim_decide(m, t);

    for (;;) {
        uint64_t deadline = d.run_until == FOREVER ? FOREVER : sat_add(d.run_until, m->latency);
        uint64_t tev = ei < nev ? evs[ei].t : FOREVER;
        if ((tev < deadline ? tev : deadline) >= t_end) {
            sim_record(m, d.id, from, t_end);
            sched_charge(&m->s, t_end);
            return;
        }
        if (tev <= deadline) {
            const struct ev *e = &evs[ei++];
            assert_true(e->t >= t);
            assert_true(e->id < SIM_IDS);
            t = e->t;
            bool mine = e->id == d.id;
            int r;
            switch (e->kind) {
            case EV_BLOCK:
                m->blocked[e->id] = true;
                r = sched_set_runnable(&m->s, e->id, false, t);
                break;
            case EV_UNBLOCK:
                m->blocked[e->id] = false;
                r = sched_set_runnable(&m->s, e->id, true, t);
                break;
            case EV_YIELD:
                r = sched_yield_slice(&m->s, e->id, t);
                break;
            default:
                m->present[e->id] = false;
                r = sched_remove(&m->s, e->id, t);
                break;
            }
            if (e->expect != ANY) {
                if (r != e->expect)
                    print_error("event %u at %llu ns: returned %d, expected %d\n", ei - 1,
                                (unsigned long long)t, r, e->expect);
                assert_int_equal(r, e->expect);
            }
            assert_true(r == 0 || r == SCHED_RESCHED);
            /* The running vCPU blocking or leaving always changes the decision. */
            if (mine && (e->kind == EV_BLOCK || e->kind == EV_REMOVE))
                assert_int_equal(r, SCHED_RESCHED);
            if (r == SCHED_RESCHED || mine) {
                sim_record(m, d.id, from, t);
                from = t;
                d = sim_decide(m, t);
            }
        } else {
            t = deadline;
            sim_record(m, d.id, from, t);
            from = t;
            d = sim_decide(m, t);
        }
    }
}

/* CPU time of `id` in [from, to) according to the recorded timeline. */
static uint64_t sim_time_in(const struct sim *m, uint32_t id, uint64_t from, uint64_t to)
{
    uint64_t sum = 0;
    for (uint32_t i = m->nseg; i-- > 0;) { /* newest first: segments are in time order */
        const struct seg *g = &m->seg[i];
        if (g->to <= from)
            break;
        if (g->id != id)
            continue;
        uint64_t a = g->from > from ? g->from : from;
        uint64_t b = g->to < to ? g->to : to;
        if (a < b)
            sum += b - a;
    }
    return sum;
}

static void expect_segs(const struct sim *m, const struct seg *x, uint32_t n)
{
    for (uint32_t i = 0; i < n && i < m->nseg; i++) {
        const struct seg *g = &m->seg[i];
        if (g->id != x[i].id || g->from != x[i].from || g->to != x[i].to) {
            print_error("segment %u: got id %u [%llu, %llu), expected id %u [%llu, %llu)\n", i,
                        g->id, (unsigned long long)g->from, (unsigned long long)g->to, x[i].id,
                        (unsigned long long)x[i].from, (unsigned long long)x[i].to);
            fail();
        }
    }
    assert_int_equal(m->nseg, n);
}

static struct sched_stats stats_of(const struct sim *m, uint32_t id)
{
    struct sched_stats st;
    assert_int_equal(sched_get_stats(&m->s, id, &st), SCHED_OK);
    return st;
}

/* The scheduler's CPU time of every present vCPU, and its idle time, equal the timeline's. */
static void expect_stats_match_timeline(const struct sim *m)
{
    for (uint32_t id = 0; id < SIM_IDS; id++)
        if (m->present[id])
            assert_int_equal(stats_of(m, id).cpu_time, sim_time_in(m, id, 0, UINT64_MAX));
    assert_int_equal(sched_idle_time(&m->s), sim_time_in(m, IDLE, 0, UINT64_MAX));
}

static bool has_decision(const struct sim *m, uint64_t t, uint32_t id, uint64_t until)
{
    for (uint32_t i = 0; i < m->ndec; i++)
        if (m->dec[i].t == t && m->dec[i].id == id && m->dec[i].until == until)
            return true;
    return false;
}

/* ---- round-robin --------------------------------------------------------------------------- */

/* Three always-runnable vCPUs, 10 ms slices, 3 s: strict rotation, 1 s each. */
static void test_rr_three_exact(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, 0, 0); /* 0: the default 10 ms slice */
    for (uint32_t i = 0; i < 3; i++)
        sim_add(m, i, 0, 0, 0);
    sim_run(m, 0, SEC(3), NULL, 0);

    assert_int_equal(m->nseg, 300);
    for (uint32_t k = 0; k < 300; k++) {
        assert_int_equal(m->seg[k].id, k % 3);
        assert_int_equal(m->seg[k].from, MS(10) * k);
        assert_int_equal(m->seg[k].to, MS(10) * (k + 1));
    }
    assert_int_equal(m->ndec, 300);
    const uint64_t preempted[3] = { 100, 100, 99 }; /* vCPU 2's last slice ends the run */
    for (uint32_t i = 0; i < 3; i++) {
        struct sched_stats st = stats_of(m, i);
        assert_int_equal(st.cpu_time, SEC(1));
        assert_int_equal(st.switches, 100);
        assert_int_equal(st.preempted, preempted[i]);
        assert_int_equal(st.throttled, 0);
    }
    assert_int_equal(sched_idle_time(&m->s), 0);
    expect_stats_match_timeline(m);
}

/* Five vCPUs, a run that ends mid-slice and starts at an odd time: 123 whole slices and 4 ms,
 * so 25, 25, 25, 24 (+4 ms), 24 slices -- never more than one slice apart. */
static void test_rr_five_exact(void **state)
{
    const uint64_t t0 = 123456789;
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), t0);
    for (uint32_t i = 0; i < 5; i++)
        sim_add(m, i, 0, 0, 0);
    sim_run(m, t0, t0 + MS(1234), NULL, 0);

    const uint64_t want[5] = { MS(250), MS(250), MS(250), MS(244), MS(240) };
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t i = 0; i < 5; i++) {
        uint64_t c = stats_of(m, i).cpu_time;
        assert_int_equal(c, want[i]);
        lo = c < lo ? c : lo;
        hi = c > hi ? c : hi;
    }
    assert_true(hi - lo <= MS(10));
    assert_int_equal(m->nseg, 124);
    assert_int_equal(m->seg[123].id, 3);
    assert_int_equal(m->seg[123].from, t0 + MS(1230));
    expect_stats_match_timeline(m);
}

/* Five vCPUs over 20 s with 1 ms slices: 20,000 slices, 4 s each, exactly. */
static void test_rr_five_long_run(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(1), 0);
    for (uint32_t i = 0; i < 5; i++)
        sim_add(m, i, 0, 0, 0);
    sim_run(m, 0, SEC(20), NULL, 0);
    for (uint32_t i = 0; i < 5; i++) {
        struct sched_stats st = stats_of(m, i);
        assert_int_equal(st.cpu_time, SEC(4));
        assert_int_equal(st.switches, 4000);
    }
    expect_stats_match_timeline(m);
}

/* Every decision of a busy round-robin CPU is exactly one slice long. */
static void test_rr_slice_honoured(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(7), 1000);
    sim_add(m, 4, 0, 0, 0);
    sim_add(m, 9, 0, 0, 0);
    sim_run(m, 1000, 1000 + MS(700), NULL, 0);
    assert_int_equal(m->ndec, 100);
    for (uint32_t i = 0; i < m->ndec; i++) {
        assert_int_equal(m->dec[i].until - m->dec[i].t, MS(7));
        assert_int_equal(m->dec[i].id, i % 2 ? 9 : 4);
    }
    assert_int_equal(stats_of(m, 4).cpu_time, MS(350));
    assert_int_equal(stats_of(m, 9).cpu_time, MS(350));
}

/* The run loop regains control 50 us after each deadline: every turn lasts 10.05 ms and is
 * charged as such (overruns are accounted, not lost). */
static void test_rr_late_exits_accounted(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), 0);
    m->latency = US(50);
    for (uint32_t i = 0; i < 3; i++)
        sim_add(m, i, 0, 0, 0);
    sim_run(m, 0, MS(1005), NULL, 0);
    assert_int_equal(m->nseg, 100);
    assert_int_equal(stats_of(m, 0).cpu_time, 34 * US(10050));
    assert_int_equal(stats_of(m, 1).cpu_time, 33 * US(10050));
    assert_int_equal(stats_of(m, 2).cpu_time, 33 * US(10050));
    expect_stats_match_timeline(m);
}

/* A vCPU that blocks gives up the rest of its slice; on unblocking it joins the tail with a
 * full slice and does not preempt its peers. */
static void test_rr_block_yields_rest_of_slice(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), 0);
    for (uint32_t i = 0; i < 3; i++)
        sim_add(m, i, 0, 0, 0);
    const struct ev evs[] = {
        { MS(4), EV_BLOCK, 0, SCHED_RESCHED },
        { MS(6), EV_UNBLOCK, 0, 0 },
    };
    sim_run(m, 0, MS(54), evs, ARRAY_SIZE(evs));
    const struct seg want[] = {
        { 0, 0, MS(4) }, { 1, MS(4), MS(14) }, { 2, MS(14), MS(24) }, { 0, MS(24), MS(34) },
        { 1, MS(34), MS(44) }, { 2, MS(44), MS(54) },
    };
    expect_segs(m, want, ARRAY_SIZE(want));
    assert_true(has_decision(m, MS(4), 1, MS(14)));
    assert_true(has_decision(m, MS(24), 0, MS(34)));
    assert_int_equal(stats_of(m, 0).cpu_time, MS(14));
    assert_int_equal(stats_of(m, 0).switches, 2);
    assert_int_equal(stats_of(m, 0).preempted, 1); /* at 34 ms; blocking is not preemption */
    expect_stats_match_timeline(m);
}

/* Nothing runnable: idle forever until an event; the event asks for a decision at once. */
static void test_rr_idle_forever_until_event(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), 0);
    sim_add(m, 3, 0, 0, 0);
    const struct ev evs[] = {
        { MS(5), EV_BLOCK, 3, SCHED_RESCHED },
        { MS(50), EV_UNBLOCK, 3, SCHED_RESCHED },
    };
    sim_run(m, 0, MS(70), evs, ARRAY_SIZE(evs));
    const struct seg want[] = { { 3, 0, MS(5) }, { IDLE, MS(5), MS(50) }, { 3, MS(50), MS(70) } };
    expect_segs(m, want, ARRAY_SIZE(want));
    assert_true(has_decision(m, MS(5), IDLE, FOREVER));
    assert_true(has_decision(m, MS(50), 3, MS(60)));
    assert_true(has_decision(m, MS(60), 3, MS(70))); /* alone: a fresh slice, no switch */
    assert_int_equal(m->ndec, 4);
    assert_int_equal(stats_of(m, 3).switches, 2);
    assert_int_equal(stats_of(m, 3).preempted, 0);
    assert_int_equal(sched_idle_time(&m->s), MS(45));
}

static void test_rr_yield(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), 0);
    sim_add(m, 0, 0, 0, 0);
    sim_add(m, 1, 0, 0, 0);
    const struct ev evs[] = {
        { MS(3), EV_YIELD, 0, SCHED_RESCHED },
        { MS(5), EV_YIELD, 0, 0 }, /* not running: nothing happens */
    };
    sim_run(m, 0, MS(23), evs, ARRAY_SIZE(evs));
    const struct seg want[] = { { 0, 0, MS(3) }, { 1, MS(3), MS(13) }, { 0, MS(13), MS(23) } };
    expect_segs(m, want, ARRAY_SIZE(want));
    assert_int_equal(stats_of(m, 0).preempted, 0); /* a yield is voluntary */
    assert_int_equal(stats_of(m, 1).preempted, 1);
}

/* A lone vCPU that yields keeps running with a fresh slice: no switch. */
static void test_rr_yield_alone(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), 0);
    sim_add(m, 0, 0, 0, 0);
    const struct ev evs[] = { { MS(3), EV_YIELD, 0, SCHED_RESCHED } };
    sim_run(m, 0, MS(20), evs, ARRAY_SIZE(evs));
    assert_true(has_decision(m, MS(3), 0, MS(13)));
    assert_true(has_decision(m, MS(13), 0, MS(23)));
    assert_int_equal(stats_of(m, 0).switches, 1);
    assert_int_equal(stats_of(m, 0).cpu_time, MS(20));
}

/* Removing the running vCPU mid-slice hands the CPU on at once; removing a waiting one just
 * drops it from the rotation. */
static void test_rr_remove_mid_slice(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), 0);
    for (uint32_t i = 0; i < 3; i++)
        sim_add(m, i, 0, 0, 0);
    const struct ev evs[] = {
        { MS(13), EV_REMOVE, 1, SCHED_RESCHED },
        { MS(25), EV_REMOVE, 2, 0 },
    };
    sim_run(m, 0, MS(60), evs, ARRAY_SIZE(evs));
    const struct seg want[] = {
        { 0, 0, MS(10) }, { 1, MS(10), MS(13) }, { 2, MS(13), MS(23) }, { 0, MS(23), MS(60) },
    };
    expect_segs(m, want, ARRAY_SIZE(want));
    assert_true(has_decision(m, MS(13), 2, MS(23)));
    struct sched_stats st;
    assert_int_equal(sched_get_stats(&m->s, 1, &st), SCHED_E_NOENT);
    assert_int_equal(sched_get_stats(&m->s, 2, &st), SCHED_E_NOENT);
    assert_int_equal(stats_of(m, 0).cpu_time, MS(47));
    assert_int_equal(sched_idle_time(&m->s), 0);
    /* The slot is free again and the id may come back. */
    assert_int_equal(sched_add(&m->s, 1, 0, 0, 0), SCHED_OK);
    assert_int_equal(stats_of(m, 1).cpu_time, 0);
    assert_int_equal(sched_remove(&m->s, 0, MS(61)), SCHED_RESCHED);
    struct sched_decision d = sched_next(&m->s, MS(61));
    assert_int_equal(d.id, 1);
    assert_int_equal(d.run_until, MS(71));
    /* From the removal on the time is idle, whenever the next decision comes. */
    uint64_t idle = sched_idle_time(&m->s);
    assert_int_equal(sched_remove(&m->s, 1, MS(62)), SCHED_RESCHED);
    d = sched_next(&m->s, MS(70));
    assert_int_equal(d.id, IDLE);
    assert_int_equal(d.run_until, FOREVER);
    assert_int_equal(sched_idle_time(&m->s), idle + MS(8));
}

/* ---- fixed priority ------------------------------------------------------------------------ */

/* A high-priority vCPU unblocking preempts at exactly its unblock time; the preempted one
 * later finishes the rest of its slice. Lower priorities unblocking change nothing. */
static void test_fp_preempt_at_unblock_time(void **state)
{
    struct sim *m = sim_new(SCHED_FIXED_PRIORITY, MS(10), 0);
    sim_add(m, 1, 1, 0, 0);
    sim_add(m, 2, 5, 0, 0);
    sim_add(m, 3, 0, 0, 0);
    /* Nothing decided yet: any runnable vCPU means a decision is due. */
    assert_int_equal(sched_set_runnable(&m->s, 2, false, 0), SCHED_RESCHED);
    assert_int_equal(sched_set_runnable(&m->s, 3, false, 0), SCHED_RESCHED);
    m->blocked[2] = m->blocked[3] = true;
    const struct ev evs[] = {
        { 12345678, EV_UNBLOCK, 2, SCHED_RESCHED },
        { MS(15), EV_UNBLOCK, 3, 0 },
        { MS(20), EV_BLOCK, 2, SCHED_RESCHED },
        { MS(33), EV_BLOCK, 3, 0 },
    };
    sim_run(m, 0, MS(40), evs, ARRAY_SIZE(evs));
    const struct seg want[] = { { 1, 0, 12345678 }, { 2, 12345678, MS(20) }, { 1, MS(20), MS(40) } };
    expect_segs(m, want, ARRAY_SIZE(want));
    assert_true(has_decision(m, MS(10), 1, MS(20)));
    assert_true(has_decision(m, 12345678, 2, 12345678 + MS(10)));
    assert_true(has_decision(m, MS(20), 1, MS(20) + (MS(20) - 12345678)));
    struct sched_stats lo = stats_of(m, 1), hi = stats_of(m, 2);
    assert_int_equal(lo.preempted, 1);
    assert_int_equal(lo.switches, 2);
    assert_int_equal(hi.switches, 1);
    assert_int_equal(hi.preempted, 0);
    assert_int_equal(hi.cpu_time, MS(20) - 12345678);
    assert_int_equal(stats_of(m, 3).cpu_time, 0);
    expect_stats_match_timeline(m);
}

/* Equal priorities share by slices; a lower priority runs only when both block, and is
 * preempted the moment one of them returns. */
static void test_fp_equal_priorities_round_robin(void **state)
{
    struct sim *m = sim_new(SCHED_FIXED_PRIORITY, MS(10), 0);
    sim_add(m, 0, 3, 0, 0);
    sim_add(m, 1, 3, 0, 0);
    sim_add(m, 2, 1, 0, 0);
    const struct ev evs[] = {
        { MS(103), EV_BLOCK, 0, SCHED_RESCHED },
        { MS(108), EV_BLOCK, 1, SCHED_RESCHED },
        { MS(125), EV_UNBLOCK, 0, SCHED_RESCHED },
    };
    sim_run(m, 0, MS(140), evs, ARRAY_SIZE(evs));
    assert_int_equal(m->nseg, 14);
    for (uint32_t k = 0; k < 10; k++) {
        assert_int_equal(m->seg[k].id, k % 2);
        assert_int_equal(m->seg[k].from, MS(10) * k);
        assert_int_equal(m->seg[k].to, MS(10) * (k + 1));
    }
    const struct seg tail[] = {
        { 0, MS(100), MS(103) }, { 1, MS(103), MS(108) }, { 2, MS(108), MS(125) },
        { 0, MS(125), MS(140) },
    };
    for (uint32_t k = 0; k < 4; k++) {
        assert_int_equal(m->seg[10 + k].id, tail[k].id);
        assert_int_equal(m->seg[10 + k].from, tail[k].from);
        assert_int_equal(m->seg[10 + k].to, tail[k].to);
    }
    assert_true(has_decision(m, MS(118), 2, MS(128)));
    assert_int_equal(stats_of(m, 2).preempted, 1);
    assert_int_equal(stats_of(m, 0).cpu_time, MS(50 + 3 + 15));
    assert_int_equal(stats_of(m, 1).cpu_time, MS(50 + 5));
    expect_stats_match_timeline(m);
}

/* Without a budget a spinning high priority starves the rest. */
static void test_fp_no_budget_starves(void **state)
{
    struct sim *m = sim_new(SCHED_FIXED_PRIORITY, MS(10), 0);
    sim_add(m, 0, 9, 0, 0);
    sim_add(m, 1, 1, 0, 0);
    sim_run(m, 0, SEC(1), NULL, 0);
    assert_int_equal(stats_of(m, 0).cpu_time, SEC(1));
    assert_int_equal(stats_of(m, 1).cpu_time, 0);
    assert_int_equal(stats_of(m, 1).switches, 0);
}

/* Budget 3 ms per 10 ms: the spinning high priority gets exactly 3 ms of every period, at
 * its start, and the low priority the other 7 ms. */
static void test_fp_budget_throttles_spinner(void **state)
{
    struct sim *m = sim_new(SCHED_FIXED_PRIORITY, MS(10), 0);
    sim_add(m, 0, 9, MS(3), MS(10));
    sim_add(m, 1, 1, 0, 0);
    sim_add(m, 2, 0, 0, 0);
    sim_run(m, 0, SEC(1), NULL, 0);
    assert_int_equal(m->nseg, 200);
    for (uint32_t k = 0; k < 100; k++) {
        assert_int_equal(m->seg[2 * k].id, 0);
        assert_int_equal(m->seg[2 * k].from, MS(10) * k);
        assert_int_equal(m->seg[2 * k].to, MS(10) * k + MS(3));
        assert_int_equal(m->seg[2 * k + 1].id, 1);
        assert_int_equal(m->seg[2 * k + 1].to, MS(10) * (k + 1));
        assert_int_equal(sim_time_in(m, 0, MS(10) * k, MS(10) * (k + 1)), MS(3));
    }
    struct sched_stats hi = stats_of(m, 0), lo = stats_of(m, 1);
    assert_int_equal(hi.cpu_time, MS(300));
    assert_int_equal(hi.throttled, 100);
    assert_int_equal(hi.switches, 100);
    assert_int_equal(hi.preempted, 0);
    assert_int_equal(lo.cpu_time, MS(700));
    assert_int_equal(lo.preempted, 99);
    assert_int_equal(stats_of(m, 2).cpu_time, 0);
    assert_true(has_decision(m, MS(3), 1, MS(10))); /* wakes for the refill */
    assert_true(has_decision(m, MS(10), 0, MS(13)));
    expect_stats_match_timeline(m);
}

/* The run loop exits 100 us late every time. The first period's overrun (3.1 ms) is paid back
 * in the next, and from then on the spinner gets exactly 3 ms of each 10 ms. */
static void test_fp_budget_overrun_is_debt(void **state)
{
    struct sim *m = sim_new(SCHED_FIXED_PRIORITY, MS(10), 0);
    m->latency = US(100);
    sim_add(m, 0, 9, MS(3), MS(10));
    sim_add(m, 1, 1, 0, 0);
    sim_run(m, 0, SEC(1), NULL, 0);
    assert_int_equal(sim_time_in(m, 0, 0, MS(10)), US(3100));
    for (uint32_t k = 1; k < 100; k++) {
        assert_int_equal(sim_time_in(m, 0, MS(10) * k, MS(10) * (k + 1)), MS(3));
    }
    /* Period 1 starts 0.1 ms in debt: 2.9 ms granted, charged 3.0 with the late exit. */
    assert_true(has_decision(m, MS(10) + US(100), 0, MS(13)));
    assert_int_equal(stats_of(m, 0).cpu_time, US(300100));
    assert_int_equal(stats_of(m, 1).cpu_time, US(699900));
    expect_stats_match_timeline(m);
}

/* Deferrable server: the budget survives blocking within a period; a vCPU that wakes near
 * a period's end may run its leftover and then a full budget back to back (documented). */
static void test_fp_budget_deferrable(void **state)
{
    struct sim *m = sim_new(SCHED_FIXED_PRIORITY, MS(10), 0);
    sim_add(m, 0, 9, MS(3), MS(10));
    sim_add(m, 1, 1, 0, 0);
    assert_int_equal(sched_set_runnable(&m->s, 0, false, 0), SCHED_RESCHED);
    m->blocked[0] = true;
    const struct ev evs[] = {
        { MS(1), EV_UNBLOCK, 0, SCHED_RESCHED },
        { MS(2), EV_BLOCK, 0, SCHED_RESCHED },
        { MS(5), EV_UNBLOCK, 0, SCHED_RESCHED },
        { MS(15), EV_BLOCK, 0, 0 },  /* throttled, not running: nothing to change */
        { MS(28), EV_UNBLOCK, 0, SCHED_RESCHED },
    };
    sim_run(m, 0, MS(40), evs, ARRAY_SIZE(evs));
    const struct seg want[] = {
        { 1, 0, MS(1) }, { 0, MS(1), MS(2) }, { 1, MS(2), MS(5) }, { 0, MS(5), MS(7) },
        { 1, MS(7), MS(10) }, { 0, MS(10), MS(13) }, { 1, MS(13), MS(28) },
        { 0, MS(28), MS(33) }, { 1, MS(33), MS(40) },
    };
    expect_segs(m, want, ARRAY_SIZE(want));
    assert_true(has_decision(m, MS(5), 0, MS(7)));   /* 2 ms of budget left */
    assert_true(has_decision(m, MS(28), 0, MS(30))); /* 3 ms left, but a refill at 30 */
    assert_true(has_decision(m, MS(30), 0, MS(33)));
    assert_int_equal(stats_of(m, 0).throttled, 3);
    assert_int_equal(stats_of(m, 0).switches, 4);
    expect_stats_match_timeline(m);
}

/* Exits that come very late. A run across a period boundary is split at it (what was used
 * before the boundary is forgiven up to the budget, the rest counts in the new period); a run
 * of several periods leaves debt that takes several periods to pay back. */
static void test_fp_budget_late_exit_across_periods(void **state)
{
    struct sched s;
    struct sched_policy p = { .kind = SCHED_FIXED_PRIORITY, .slice = MS(10) };
    struct sched_decision d;
    assert_int_equal(sched_init(&s, &p, 0), SCHED_OK);
    assert_int_equal(sched_add(&s, 0, 9, MS(3), MS(10)), SCHED_OK);
    assert_int_equal(sched_add(&s, 1, 1, 0, 0), SCHED_OK);
    assert_int_equal(sched_set_runnable(&s, 0, false, 0), SCHED_RESCHED);
    d = sched_next(&s, 0);
    assert_int_equal(d.id, 1);
    assert_int_equal(sched_set_runnable(&s, 0, true, MS(8)), SCHED_RESCHED);
    d = sched_next(&s, MS(8));
    assert_int_equal(d.id, 0);
    assert_int_equal(d.run_until, MS(10)); /* 3 ms left, but the period ends */
    d = sched_next(&s, MS(12));            /* 2 ms late: 2 ms in period 0, 2 ms in period 1 */
    assert_int_equal(d.id, 0);
    assert_int_equal(d.run_until, MS(13));

    /* Now 25 ms late: periods 1 and 2 fully used, 7 ms of period 3. Debt after each period:
     * 7, 14, then 14 + 7 = 21 used in period 3: periods 4..9 forgive 3 ms each, and in
     * period 10 (100 ms) it has 3 - (21 - 7 * 3) = 3 ms again. */
    d = sched_next(&s, MS(37));
    assert_int_equal(d.id, 1);
    assert_int_equal(d.run_until, MS(39)); /* the 2 ms left of its slice preempted at 8 ms */
    struct sched_stats st;
    assert_int_equal(sched_get_stats(&s, 0, &st), SCHED_OK);
    assert_int_equal(st.cpu_time, MS(4) + MS(25));
    assert_int_equal(st.throttled, 1);
    for (uint64_t t = MS(39); t < MS(99); t += MS(10)) {
        d = sched_next(&s, t);
        assert_int_equal(d.id, 1);
        assert_int_equal(d.run_until, t + MS(10));
    }
    d = sched_next(&s, MS(99));
    assert_int_equal(d.id, 1);
    assert_int_equal(d.run_until, MS(100)); /* the refill */
    d = sched_next(&s, MS(100));
    assert_int_equal(d.id, 0);
    assert_int_equal(d.run_until, MS(103));
}

/* A lone budgeted vCPU: idle until the refill boundary, not forever. */
static void test_fp_idle_until_refill(void **state)
{
    struct sim *m = sim_new(SCHED_FIXED_PRIORITY, MS(10), MS(1));
    sim_add(m, 0, 0, MS(2), MS(5));
    sim_run(m, MS(1), MS(51), NULL, 0);
    assert_true(has_decision(m, MS(1), 0, MS(3)));
    assert_true(has_decision(m, MS(3), IDLE, MS(6)));
    assert_true(has_decision(m, MS(6), 0, MS(8)));
    assert_int_equal(stats_of(m, 0).cpu_time, MS(20));
    assert_int_equal(stats_of(m, 0).throttled, 10);
    assert_int_equal(sched_idle_time(&m->s), MS(30));
    expect_stats_match_timeline(m);
}

/* Budgets under round-robin too: a refilled vCPU does not preempt, it waits at the tail for
 * the running slice to end. Here 5 ms per 50 ms against 10 ms slices: 0 runs [0,5), 1 has
 * [5,55), 0 runs [55,60), 1 has [60,100), 0 runs [100,105)... once in every period. */
static void test_rr_budget(void **state)
{
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), 0);
    sim_add(m, 0, 0, MS(5), MS(50));
    sim_add(m, 1, 0, 0, 0);
    sim_run(m, 0, SEC(1), NULL, 0);
    for (uint32_t k = 0; k < 20; k++) {
        uint64_t start = MS(100) * (k / 2) + (k % 2 ? MS(55) : 0);
        assert_int_equal(sim_time_in(m, 0, start, start + MS(5)), MS(5));
        assert_int_equal(sim_time_in(m, 0, MS(50) * k, MS(50) * (k + 1)), MS(5));
    }
    assert_int_equal(stats_of(m, 0).cpu_time, MS(100));
    assert_int_equal(stats_of(m, 1).cpu_time, MS(900));
    assert_int_equal(stats_of(m, 0).throttled, 20);
    assert_int_equal(stats_of(m, 0).preempted, 0);
    /* An equal priority's refill is no reason to interrupt the running slice. */
    assert_true(has_decision(m, MS(45), 1, MS(55)));
    expect_stats_match_timeline(m);
}

/* ---- fixed priority, randomized, against the rules --------------------------------------- */

struct fp_ref {
    uint32_t prio[SIM_IDS];
    uint64_t budget[SIM_IDS], period[SIM_IDS];
    uint32_t n;
    uint64_t t0;
    uint64_t checks;
};

/* At every decision (zero latency): the chosen vCPU is eligible, nothing eligible has a higher
 * priority, and the CPU idles only when nothing is eligible. Eligibility is recomputed from
 * the recorded timeline, independently of the scheduler's bookkeeping. */
static void fp_check_hook(struct sim *m, uint64_t t, struct sched_decision d)
{
    struct fp_ref *r = m->ctx;
    int64_t best = -1;
    for (uint32_t i = 0; i < r->n; i++) {
        if (!m->present[i] || m->blocked[i])
            continue;
        if (r->budget[i]) {
            uint64_t pstart = r->t0 + (t - r->t0) / r->period[i] * r->period[i];
            if (sim_time_in(m, i, pstart, t) >= r->budget[i])
                continue;
        }
        if ((int64_t)r->prio[i] > best)
            best = r->prio[i];
    }
    if (d.id == IDLE) {
        assert_int_equal(best, -1);
    } else {
        assert_int_equal((int64_t)r->prio[d.id], best);
        if (r->budget[d.id]) {
            uint64_t pstart = r->t0 + (t - r->t0) / r->period[d.id] * r->period[d.id];
            assert_true(sim_time_in(m, d.id, pstart, t) < r->budget[d.id]);
        }
    }
    r->checks++;
}

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

static void test_fp_randomized_rules(void **state)
{
    static struct ev evs[4000];
    for (uint64_t seed = 1; seed <= 6; seed++) {
        uint64_t x = seed;
        struct fp_ref r = { .n = 6, .t0 = seed * SEC(1000) };
        struct sim *m = sim_new(SCHED_FIXED_PRIORITY, US(1000 + lcg(&x) % 9000), r.t0);
        for (uint32_t i = 0; i < r.n; i++) {
            r.prio[i] = lcg(&x) % 4;
            if (lcg(&x) % 2) {
                r.period[i] = US(2000 + lcg(&x) % 20000);
                r.budget[i] = 1 + lcg(&x) % r.period[i];
            }
            sim_add(m, i, r.prio[i], r.budget[i], r.period[i]);
        }
        m->hook = fp_check_hook;
        m->ctx = &r;
        uint64_t t = r.t0;
        bool blocked[SIM_IDS] = { false };
        uint32_t n = 0;
        while (n < ARRAY_SIZE(evs)) {
            t += lcg(&x) % US(3000);
            uint32_t id = lcg(&x) % r.n;
            blocked[id] = !blocked[id];
            evs[n++] = (struct ev){ t, blocked[id] ? EV_BLOCK : EV_UNBLOCK, id, ANY };
        }
        sim_run(m, r.t0, t + MS(1), evs, n);
        print_message("seed %llu: %llu decisions checked\n", (unsigned long long)seed,
                      (unsigned long long)r.checks);
        assert_true(r.checks > 1000);
        for (uint32_t i = 0; i < r.n; i++) {
            if (!r.budget[i])
                continue;
            for (uint64_t p = r.t0; p < t; p += r.period[i])
                assert_true(sim_time_in(m, i, p, p + r.period[i]) <= r.budget[i]);
        }
        expect_stats_match_timeline(m);
    }
}

/* ---- cyclic -------------------------------------------------------------------------------- */

#define FRAME MS(100)

/* A [0,20) B [20,50) gap C [60,90) gap, added out of order; frames start at an odd time. */
static struct sim *cyclic_abc(uint64_t fs, uint64_t t0)
{
    struct sim *m = sim_new_cyclic(FRAME, fs, t0);
    assert_int_equal(sched_add_window(&m->s, 2, MS(60), MS(30)), SCHED_OK);
    assert_int_equal(sched_add_window(&m->s, 0, 0, MS(20)), SCHED_OK);
    assert_int_equal(sched_add_window(&m->s, 1, MS(20), MS(30)), SCHED_OK);
    for (uint32_t i = 0; i < 3; i++)
        sim_add(m, i, 0, 0, 0);
    return m;
}

static uint32_t cyclic_expect_frame(struct seg *x, uint32_t n, uint64_t b)
{
    x[n++] = (struct seg){ 0, b, b + MS(20) };
    x[n++] = (struct seg){ 1, b + MS(20), b + MS(50) };
    x[n++] = (struct seg){ IDLE, b + MS(50), b + MS(60) };
    x[n++] = (struct seg){ 2, b + MS(60), b + MS(90) };
    x[n++] = (struct seg){ IDLE, b + MS(90), b + MS(100) };
    return n;
}

static struct seg g_want[SIM_MAX_SEGS];

/* Every window start and end over 200 frames is exactly where the table puts it, and every
 * decision's deadline is a window boundary. */
static void test_cyclic_windows_exact(void **state)
{
    const uint64_t fs = MS(7) + 123;
    struct sim *m = cyclic_abc(fs, 0);
    sim_run(m, 0, fs + 200 * FRAME, NULL, 0);

    uint32_t n = 0;
    g_want[n++] = (struct seg){ IDLE, 0, fs };
    for (uint32_t f = 0; f < 200; f++)
        n = cyclic_expect_frame(g_want, n, fs + f * FRAME);
    g_want[n - 1].to = fs + 200 * FRAME;
    expect_segs(m, g_want, n);

    assert_true(has_decision(m, 0, IDLE, fs));
    for (uint32_t i = 0; i < m->ndec; i++) {
        uint64_t pos = (m->dec[i].until - fs) % FRAME;
        assert_true(pos == 0 || pos == MS(20) || pos == MS(50) || pos == MS(60) ||
                    pos == MS(90));
    }
    for (uint32_t i = 0; i < 3; i++) {
        struct sched_stats st = stats_of(m, i);
        assert_int_equal(st.switches, 200);
        assert_int_equal(st.preempted, 200);
    }
    assert_int_equal(stats_of(m, 0).cpu_time, 200 * MS(20));
    assert_int_equal(stats_of(m, 1).cpu_time, 200 * MS(30));
    assert_int_equal(stats_of(m, 2).cpu_time, 200 * MS(30));
    assert_int_equal(sched_idle_time(&m->s), fs + 200 * MS(20));
    expect_stats_match_timeline(m);
}

/* A blocked owner leaves its window idle (never lent); it runs again from the moment it
 * unblocks, inside its own window only. Events in other windows or gaps change nothing. */
static void test_cyclic_blocked_owner_idles(void **state)
{
    const uint64_t fs = MS(3);
    const uint64_t b3 = fs + 3 * FRAME, b4 = fs + 4 * FRAME;
    struct sim *m = cyclic_abc(fs, fs);
    const struct ev evs[] = {
        { b3 + MS(5), EV_UNBLOCK, 1, 0 },          /* already runnable */
        { b3 + MS(25), EV_BLOCK, 1, SCHED_RESCHED },
        { b3 + MS(40), EV_UNBLOCK, 1, SCHED_RESCHED },
        { b3 + MS(55), EV_BLOCK, 2, 0 },           /* in a gap: the deadline only gets later */
        { b3 + MS(70), EV_UNBLOCK, 2, SCHED_RESCHED },
        { b3 + MS(95), EV_BLOCK, 0, 0 },
        { b4 + MS(5), EV_UNBLOCK, 0, SCHED_RESCHED },
        { b4 + MS(10), EV_BLOCK, 1, 0 },           /* B's window is still to come */
        { b4 + MS(60) + 1, EV_UNBLOCK, 1, 0 },     /* C runs now */
    };
    sim_run(m, fs, fs + 6 * FRAME, evs, ARRAY_SIZE(evs));

    uint32_t n = 0;
    for (uint32_t f = 0; f < 3; f++)
        n = cyclic_expect_frame(g_want, n, fs + f * FRAME);
    g_want[n++] = (struct seg){ 0, b3, b3 + MS(20) };
    g_want[n++] = (struct seg){ 1, b3 + MS(20), b3 + MS(25) };
    g_want[n++] = (struct seg){ IDLE, b3 + MS(25), b3 + MS(40) };
    g_want[n++] = (struct seg){ 1, b3 + MS(40), b3 + MS(50) };
    g_want[n++] = (struct seg){ IDLE, b3 + MS(50), b3 + MS(70) };
    g_want[n++] = (struct seg){ 2, b3 + MS(70), b3 + MS(90) };
    g_want[n++] = (struct seg){ IDLE, b3 + MS(90), b4 + MS(5) };
    g_want[n++] = (struct seg){ 0, b4 + MS(5), b4 + MS(20) };
    g_want[n++] = (struct seg){ IDLE, b4 + MS(20), b4 + MS(60) };
    g_want[n++] = (struct seg){ 2, b4 + MS(60), b4 + MS(90) };
    g_want[n++] = (struct seg){ IDLE, b4 + MS(90), b4 + MS(100) };
    n = cyclic_expect_frame(g_want, n, fs + 5 * FRAME);
    expect_segs(m, g_want, n);

    /* C blocked in the gap after the CPU went to sleep until C's window: the deadline only
     * got later, so no new decision was asked for; at C's window the CPU idles on to A's. */
    assert_true(has_decision(m, b3 + MS(50), IDLE, b3 + MS(60)));
    assert_true(has_decision(m, b3 + MS(60), IDLE, b4));
    assert_true(has_decision(m, b3 + MS(25), IDLE, b3 + MS(60)));
    assert_true(has_decision(m, b4 + MS(20), IDLE, b4 + MS(60)));
    expect_stats_match_timeline(m);
}

/* Nothing can run: idle forever; an owner unblocking yields an idle decision until its
 * window (or its window at once). */
static void test_cyclic_all_blocked(void **state)
{
    struct sim *m = cyclic_abc(0, 0);
    struct sched_decision d = sched_next(&m->s, MS(1));
    assert_int_equal(d.id, 0);
    assert_int_equal(d.run_until, MS(20));
    /* A running owner blocks: idle until B's window; then B and C block: later deadlines. */
    const uint64_t until[3] = { MS(20), MS(60), FOREVER };
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(sched_set_runnable(&m->s, i, false, MS(1)), i == 0 ? SCHED_RESCHED : 0);
        d = sched_next(&m->s, MS(1));
        assert_int_equal(d.id, IDLE);
        assert_int_equal(d.run_until, until[i]);
    }
    assert_int_equal(sched_set_runnable(&m->s, 2, true, FRAME + MS(10)), SCHED_RESCHED);
    d = sched_next(&m->s, FRAME + MS(10));
    assert_int_equal(d.id, IDLE);
    assert_int_equal(d.run_until, FRAME + MS(60));
    /* Past C's window: its next one is in the following frame. */
    d = sched_next(&m->s, FRAME + MS(95));
    assert_int_equal(d.id, IDLE);
    assert_int_equal(d.run_until, 2 * FRAME + MS(60));
    assert_int_equal(sched_set_runnable(&m->s, 1, true, 2 * FRAME + MS(30)), SCHED_RESCHED);
    d = sched_next(&m->s, 2 * FRAME + MS(30));
    assert_int_equal(d.id, 1);
    assert_int_equal(d.run_until, 2 * FRAME + MS(50));
}

/* Before frame_start nothing runs; the first window starts exactly there. */
static void test_cyclic_before_start(void **state)
{
    struct sim *m = sim_new_cyclic(FRAME, SEC(1), 0);
    assert_int_equal(sched_add_window(&m->s, 5, MS(5), MS(10)), SCHED_OK);
    sim_add(m, 5, 0, 0, 0);
    struct sched_decision d = sched_next(&m->s, 0);
    assert_int_equal(d.id, IDLE);
    assert_int_equal(d.run_until, SEC(1) + MS(5));
    d = sched_next(&m->s, SEC(1) + MS(5));
    assert_int_equal(d.id, 5);
    assert_int_equal(d.run_until, SEC(1) + MS(15));
    d = sched_next(&m->s, SEC(1) + MS(15));
    assert_int_equal(d.id, IDLE);
    assert_int_equal(d.run_until, SEC(1) + FRAME + MS(5));
}

/* One partition with two windows, the second ending the frame and so touching the first of
 * the next: it runs 30 ms straight across the frame boundary, without a switch. */
static void test_cyclic_two_windows_one_owner(void **state)
{
    struct sim *m = sim_new_cyclic(FRAME, 0, 0);
    assert_int_equal(sched_add_window(&m->s, 0, MS(90), MS(10)), SCHED_OK);
    assert_int_equal(sched_add_window(&m->s, 0, 0, MS(20)), SCHED_OK);
    assert_int_equal(sched_add_window(&m->s, 1, MS(20), MS(70)), SCHED_OK);
    sim_add(m, 0, 0, 0, 0);
    sim_add(m, 1, 0, 0, 0);
    sim_run(m, 0, 3 * FRAME, NULL, 0);
    const struct seg want[] = {
        { 0, 0, MS(20) }, { 1, MS(20), MS(90) }, { 0, MS(90), MS(120) },
        { 1, MS(120), MS(190) }, { 0, MS(190), MS(220) }, { 1, MS(220), MS(290) },
        { 0, MS(290), MS(300) },
    };
    expect_segs(m, want, ARRAY_SIZE(want));
    assert_true(has_decision(m, MS(100), 0, MS(120)));
    assert_int_equal(stats_of(m, 0).switches, 4);
    assert_int_equal(stats_of(m, 0).cpu_time, MS(90));
}

/* The owner is removed in its window: the rest of the window idles, later windows too; the
 * partition re-added under the same id gets its windows back. Yield changes nothing. */
static void test_cyclic_remove_and_readd(void **state)
{
    struct sim *m = cyclic_abc(0, 0);
    struct sched_decision d = sched_next(&m->s, MS(30));
    assert_int_equal(d.id, 1);
    assert_int_equal(sched_yield_slice(&m->s, 1, MS(31)), 0);
    d = sched_next(&m->s, MS(31));
    assert_int_equal(d.id, 1);
    assert_int_equal(d.run_until, MS(50));
    assert_int_equal(sched_remove(&m->s, 1, MS(35)), SCHED_RESCHED);
    d = sched_next(&m->s, MS(35));
    assert_int_equal(d.id, IDLE);
    assert_int_equal(d.run_until, MS(60));
    d = sched_next(&m->s, FRAME + MS(20));
    assert_int_equal(d.id, IDLE);
    assert_int_equal(d.run_until, FRAME + MS(60));
    assert_int_equal(sched_add(&m->s, 1, 0, 0, 0), SCHED_OK);
    d = sched_next(&m->s, FRAME + MS(25));
    assert_int_equal(d.id, 1);
    assert_int_equal(d.run_until, FRAME + MS(50));
    assert_int_equal(stats_of(m, 1).cpu_time, 0);
    sched_charge(&m->s, FRAME + MS(50));
    assert_int_equal(stats_of(m, 1).cpu_time, MS(25));
    /* Idle: [0, 30 ms) before the first decision, then from the removal to the re-add. */
    assert_int_equal(sched_idle_time(&m->s), MS(30) + FRAME + MS(25) - MS(35));
}

/* ---- large times ---------------------------------------------------------------------------- */

static void test_large_times(void **state)
{
    /* Round-robin 2^64 - 2^40 ns in: the same exact rotation as near 0. */
    const uint64_t t0 = 0xffffff0000000000ull;
    struct sim *m = sim_new(SCHED_ROUND_ROBIN, MS(10), t0);
    for (uint32_t i = 0; i < 3; i++)
        sim_add(m, i, 0, 0, 0);
    sim_run(m, t0, t0 + SEC(3), NULL, 0);
    assert_int_equal(m->nseg, 300);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(stats_of(m, i).cpu_time, SEC(1));

    /* Budgets with periods counted from a huge epoch. */
    m = sim_new(SCHED_FIXED_PRIORITY, MS(10), t0 + 17);
    sim_add(m, 0, 9, MS(3), MS(10));
    sim_add(m, 1, 1, 0, 0);
    sim_run(m, t0 + 17, t0 + 17 + SEC(1), NULL, 0);
    for (uint32_t k = 0; k < 100; k++)
        assert_int_equal(sim_time_in(m, 0, t0 + 17 + MS(10) * k, t0 + 17 + MS(10) * (k + 1)),
                         MS(3));

    /* Cyclic frames anchored at 2^63 + 5, 50 frames. */
    const uint64_t fs = (1ull << 63) + 5;
    m = cyclic_abc(fs, fs);
    sim_run(m, fs, fs + 50 * FRAME, NULL, 0);
    uint32_t n = 0;
    for (uint32_t f = 0; f < 50; f++)
        n = cyclic_expect_frame(g_want, n, fs + f * FRAME);
    expect_segs(m, g_want, n);

    /* The end of time: deadlines saturate instead of wrapping. */
    struct sched s;
    struct sched_policy p = { .kind = SCHED_ROUND_ROBIN, .slice = MS(10) };
    assert_int_equal(sched_init(&s, &p, UINT64_MAX - MS(25)), SCHED_OK);
    assert_int_equal(sched_add(&s, 0, 0, 0, 0), SCHED_OK);
    assert_int_equal(sched_add(&s, 1, 0, 0, 0), SCHED_OK);
    struct sched_decision d = sched_next(&s, UINT64_MAX - MS(25));
    assert_int_equal(d.id, 0);
    assert_int_equal(d.run_until, UINT64_MAX - MS(15));
    d = sched_next(&s, UINT64_MAX - MS(15));
    assert_int_equal(d.run_until, UINT64_MAX - MS(5));
    d = sched_next(&s, UINT64_MAX - MS(5));
    assert_int_equal(d.id, 0);
    assert_int_equal(d.run_until, FOREVER);
}

/* Time passed backwards is taken as the latest time seen: nothing is charged twice. */
static void test_time_never_goes_back(void **state)
{
    struct sched s;
    struct sched_policy p = { .kind = SCHED_ROUND_ROBIN, .slice = MS(10) };
    assert_int_equal(sched_init(&s, &p, MS(100)), SCHED_OK);
    assert_int_equal(sched_add(&s, 0, 0, 0, 0), SCHED_OK);
    assert_int_equal(sched_add(&s, 1, 0, 0, 0), SCHED_OK);
    struct sched_decision d = sched_next(&s, MS(100));
    assert_int_equal(d.run_until, MS(110));
    d = sched_next(&s, MS(105));
    assert_int_equal(d.id, 0);
    d = sched_next(&s, MS(90)); /* stale: treated as 105 ms */
    assert_int_equal(d.id, 0);
    assert_int_equal(d.run_until, MS(110));
    struct sched_stats st;
    assert_int_equal(sched_get_stats(&s, 0, &st), SCHED_OK);
    assert_int_equal(st.cpu_time, MS(5));
    assert_int_equal(st.switches, 1);
    /* Earlier than sched_init's time: no underflow, nothing charged. */
    assert_int_equal(sched_init(&s, &p, MS(100)), SCHED_OK);
    assert_int_equal(sched_add(&s, 0, 0, MS(1), MS(2)), SCHED_OK);
    d = sched_next(&s, 0);
    assert_int_equal(d.id, 0);
    assert_int_equal(d.run_until, MS(101));
    assert_int_equal(sched_idle_time(&s), 0);
}

/* ---- interface errors ----------------------------------------------------------------------- */

static void test_api_errors(void **state)
{
    struct sched s;
    struct sched_policy rr = { .kind = SCHED_ROUND_ROBIN };
    struct sched_policy bad = { .kind = (enum sched_kind)7 };
    struct sched_policy cyc0 = { .kind = SCHED_CYCLIC, .major_frame = 0 };
    struct sched_policy cyc = { .kind = SCHED_CYCLIC, .major_frame = FRAME };

    assert_int_equal(sched_init(NULL, &rr, 0), SCHED_E_INVAL);
    assert_int_equal(sched_init(&s, NULL, 0), SCHED_E_INVAL);
    assert_int_equal(sched_init(&s, &bad, 0), SCHED_E_INVAL);
    assert_int_equal(sched_init(&s, &cyc0, 0), SCHED_E_FRAME);

    assert_int_equal(sched_init(&s, &rr, 0), SCHED_OK);
    assert_int_equal(sched_add(&s, IDLE, 0, 0, 0), SCHED_E_INVAL);
    assert_int_equal(sched_add(&s, 1, 0, MS(3), 0), SCHED_E_INVAL);      /* no period */
    assert_int_equal(sched_add(&s, 1, 0, 0, MS(3)), SCHED_E_INVAL);      /* no budget */
    assert_int_equal(sched_add(&s, 1, 0, MS(4), MS(3)), SCHED_E_INVAL);  /* budget > period */
    assert_int_equal(sched_add(&s, 1, 0, MS(3), MS(3)), SCHED_OK);       /* budget = period */
    assert_int_equal(sched_add(&s, 1, 0, 0, 0), SCHED_E_EXIST);
    for (uint32_t i = 2; i <= SCHED_MAX_VCPUS; i++)
        assert_int_equal(sched_add(&s, i, 0, 0, 0), SCHED_OK);
    assert_int_equal(sched_add(&s, 100, 0, 0, 0), SCHED_E_FULL);
    assert_int_equal(sched_add_window(&s, 1, 0, MS(1)), SCHED_E_POLICY);
    assert_int_equal(sched_set_runnable(&s, 100, true, 0), SCHED_E_NOENT);
    assert_int_equal(sched_yield_slice(&s, 100, 0), SCHED_E_NOENT);
    assert_int_equal(sched_remove(&s, 100, 0), SCHED_E_NOENT);
    struct sched_stats st;
    assert_int_equal(sched_get_stats(&s, 100, &st), SCHED_E_NOENT);
    assert_int_equal(sched_get_stats(&s, 1, NULL), SCHED_E_INVAL);
    assert_int_equal(sched_remove(&s, 5, 0), SCHED_RESCHED); /* nothing decided yet */
    assert_int_equal(sched_add(&s, 100, 0, 0, 0), SCHED_OK); /* the freed slot */
    /* Setting the state it already has is not an error and changes nothing. */
    assert_int_equal(sched_set_runnable(&s, 100, true, 0), SCHED_RESCHED); /* never decided */
    struct sched_decision d = sched_next(&s, 0);
    assert_int_equal(d.id, 1);
    assert_int_equal(sched_set_runnable(&s, 100, true, 0), 0);

    assert_int_equal(sched_init(&s, &cyc, 0), SCHED_OK);
    assert_int_equal(sched_add(&s, 1, 0, MS(3), MS(10)), SCHED_E_INVAL);
    assert_int_equal(sched_add(&s, 1, 7, 0, 0), SCHED_OK);

    for (int c = SCHED_E_WIN_COUNT; c <= SCHED_OK; c++) {
        assert_non_null(sched_strerror(c));
        assert_string_not_equal(sched_strerror(c), "unknown scheduler error");
        for (int c2 = SCHED_E_WIN_COUNT; c2 < c; c2++)
            assert_string_not_equal(sched_strerror(c), sched_strerror(c2));
    }
    assert_string_equal(sched_strerror(-99), "unknown scheduler error");
    assert_string_equal(sched_strerror(SCHED_E_WIN_OVERLAP), "cyclic windows overlap");
}

/* ---- cyclic table validation -------------------------------------------------------------- */

static void check_table(const struct sched_window *w, uint32_t n, uint64_t frame, int code,
                         const char *msg)
{
    char err[256];
    memset(err, 'x', sizeof(err));
    assert_int_equal(sched_cyclic_check(w, n, frame, err, sizeof(err)), code);
    assert_string_equal(err, msg);
}

static void test_cyclic_check_messages(void **state)
{
    const struct sched_window ok[] = {
        { 2, MS(60), MS(40) }, { 0, 0, MS(20) }, { 1, MS(20), MS(30) }, /* touching is fine */
    };
    check_table(ok, ARRAY_SIZE(ok), FRAME, SCHED_OK, "");
    check_table(NULL, 0, FRAME, SCHED_OK, "");
    check_table(ok, ARRAY_SIZE(ok), 0, SCHED_E_FRAME,
                 "the major frame is 0 ns: give it a positive length");
    check_table(NULL, 3, FRAME, SCHED_E_INVAL, "3 windows claimed but no window table given");

    static struct sched_window many[SCHED_MAX_WINDOWS + 1];
    for (uint32_t i = 0; i < ARRAY_SIZE(many); i++)
        many[i] = (struct sched_window){ i, MS(1) * i, MS(1) };
    check_table(many, SCHED_MAX_WINDOWS, FRAME, SCHED_OK, "");
    check_table(many, SCHED_MAX_WINDOWS + 1, FRAME, SCHED_E_WIN_COUNT,
                 "33 windows: at most 32 fit in one CPU's major frame");

    const struct sched_window idle_owner[] = { { 0, 0, MS(10) }, { IDLE, MS(10), MS(10) } };
    check_table(idle_owner, 2, FRAME, SCHED_E_INVAL,
                 "window 1: vCPU id 4294967295 is reserved (SCHED_IDLE)");

    const struct sched_window empty[] = { { 0, 0, MS(10) }, { 3, MS(20), 0 } };
    check_table(empty, 2, FRAME, SCHED_E_WIN_EMPTY,
                 "window 1 (vCPU 3) at offset 20000000 ns has length 0");

    const struct sched_window beyond[] = { { 0, 0, MS(10) }, { 2, MS(90), MS(20) } };
    check_table(beyond, 2, FRAME, SCHED_E_WIN_BEYOND,
                 "window 1 (vCPU 2): offset 90000000 ns + length 20000000 ns ends after the "
                 "major frame of 100000000 ns");
    const struct sched_window start_beyond[] = { { 4, FRAME, 1 } };
    check_table(start_beyond, 1, FRAME, SCHED_E_WIN_BEYOND,
                 "window 0 (vCPU 4): offset 100000000 ns + length 1 ns ends after the major "
                 "frame of 100000000 ns");
    /* offset + length wraps 2^64: still caught, and printed without the wrap. */
    const struct sched_window wrap[] = { { 1, UINT64_MAX - 1, 5 } };
    check_table(wrap, 1, UINT64_MAX, SCHED_E_WIN_BEYOND,
                 "window 0 (vCPU 1): offset 18446744073709551614 ns + length 5 ns ends after "
                 "the major frame of 18446744073709551615 ns");

    const struct sched_window overlap[] = {
        { 0, MS(20), MS(15) }, { 1, MS(60), MS(10) }, { 2, MS(30), MS(20) },
    };
    check_table(overlap, 3, FRAME, SCHED_E_WIN_OVERLAP,
                 "window 2 (vCPU 2) [30000000, 50000000) ns overlaps window 0 (vCPU 0) "
                 "[20000000, 35000000) ns");
    const struct sched_window inside[] = { { 0, 0, FRAME }, { 0, MS(40), 1 } };
    check_table(inside, 2, FRAME, SCHED_E_WIN_OVERLAP,
                 "window 1 (vCPU 0) [40000000, 40000001) ns overlaps window 0 (vCPU 0) "
                 "[0, 100000000) ns");
    const struct sched_window same[] = { { 0, MS(5), MS(5) }, { 1, MS(5), MS(5) } };
    check_table(same, 2, FRAME, SCHED_E_WIN_OVERLAP,
                 "window 1 (vCPU 1) [5000000, 10000000) ns overlaps window 0 (vCPU 0) "
                 "[5000000, 10000000) ns");

    /* A short buffer truncates; a NULL one is allowed. */
    char small[8];
    assert_int_equal(sched_cyclic_check(overlap, 3, FRAME, small, sizeof(small)),
                     SCHED_E_WIN_OVERLAP);
    assert_string_equal(small, "window ");
    assert_int_equal(sched_cyclic_check(overlap, 3, FRAME, NULL, 0), SCHED_E_WIN_OVERLAP);
}

/* sched_add_window applies the same rules incrementally; a rejected window changes nothing. */
static void test_add_window_errors(void **state)
{
    struct sim *m = sim_new_cyclic(FRAME, 0, 0);
    struct sched *s = &m->s;
    assert_int_equal(sched_add_window(s, 0, MS(10), MS(20)), SCHED_OK);
    assert_int_equal(sched_add_window(s, 1, MS(29), MS(5)), SCHED_E_WIN_OVERLAP);
    assert_int_equal(sched_add_window(s, 1, 0, MS(11)), SCHED_E_WIN_OVERLAP);
    assert_int_equal(sched_add_window(s, 1, MS(5), MS(50)), SCHED_E_WIN_OVERLAP);
    assert_int_equal(sched_add_window(s, 1, MS(90), MS(11)), SCHED_E_WIN_BEYOND);
    assert_int_equal(sched_add_window(s, 1, UINT64_MAX, 2), SCHED_E_WIN_BEYOND);
    assert_int_equal(sched_add_window(s, 1, MS(50), 0), SCHED_E_WIN_EMPTY);
    assert_int_equal(sched_add_window(s, IDLE, MS(50), 1), SCHED_E_INVAL);
    assert_int_equal(sched_add_window(NULL, 1, MS(50), 1), SCHED_E_INVAL);
    assert_int_equal(s->nwin, 1);
    assert_int_equal(sched_add_window(s, 1, 0, MS(10)), SCHED_OK);  /* touching */
    assert_int_equal(sched_add_window(s, 1, MS(30), MS(70)), SCHED_OK);
    assert_int_equal(s->nwin, 3);

    /* Table full. */
    m = sim_new_cyclic(FRAME, 0, 0);
    s = &m->s;
    for (uint32_t i = 0; i < SCHED_MAX_WINDOWS; i++)
        assert_int_equal(sched_add_window(s, i % 4, MS(2) * i, MS(1)), SCHED_OK);
    assert_int_equal(sched_add_window(s, 0, MS(99), MS(1)), SCHED_E_FULL);
    assert_int_equal(s->nwin, SCHED_MAX_WINDOWS);
    /* ...and they are kept sorted: the run follows the table. */
    sim_add(m, 0, 0, 0, 0);
    sim_add(m, 1, 0, 0, 0);
    sim_run(m, 0, FRAME, NULL, 0);
    assert_int_equal(stats_of(m, 0).cpu_time, MS(8));
    assert_int_equal(stats_of(m, 1).cpu_time, MS(8));
    assert_int_equal(sched_idle_time(&m->s), MS(84));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rr_three_exact),
        cmocka_unit_test(test_rr_five_exact),
        cmocka_unit_test(test_rr_five_long_run),
        cmocka_unit_test(test_rr_slice_honoured),
        cmocka_unit_test(test_rr_late_exits_accounted),
        cmocka_unit_test(test_rr_block_yields_rest_of_slice),
        cmocka_unit_test(test_rr_idle_forever_until_event),
        cmocka_unit_test(test_rr_yield),
        cmocka_unit_test(test_rr_yield_alone),
        cmocka_unit_test(test_rr_remove_mid_slice),
        cmocka_unit_test(test_rr_budget),
        cmocka_unit_test(test_fp_preempt_at_unblock_time),
        cmocka_unit_test(test_fp_equal_priorities_round_robin),
        cmocka_unit_test(test_fp_no_budget_starves),
        cmocka_unit_test(test_fp_budget_throttles_spinner),
        cmocka_unit_test(test_fp_budget_overrun_is_debt),
        cmocka_unit_test(test_fp_budget_deferrable),
        cmocka_unit_test(test_fp_budget_late_exit_across_periods),
        cmocka_unit_test(test_fp_idle_until_refill),
        cmocka_unit_test(test_fp_randomized_rules),
        cmocka_unit_test(test_cyclic_windows_exact),
        cmocka_unit_test(test_cyclic_blocked_owner_idles),
        cmocka_unit_test(test_cyclic_all_blocked),
        cmocka_unit_test(test_cyclic_before_start),
        cmocka_unit_test(test_cyclic_two_windows_one_owner),
        cmocka_unit_test(test_cyclic_remove_and_readd),
        cmocka_unit_test(test_large_times),
        cmocka_unit_test(test_time_never_goes_back),
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_cyclic_check_messages),
        cmocka_unit_test(test_add_window_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
