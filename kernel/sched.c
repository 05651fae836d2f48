// SPDX-License-Identifier: Apache-2.0
// Scheduler decisions for one physical CPU: a fixed array of vCPU entities, each with a
// priority, a queue position and an optional budget, plus an optional cyclic window table.
// Everything is computed from the `now` values passed in; nothing here touches hardware.
#include "kernel/sched.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- small arithmetic: every deadline saturates at SCHED_FOREVER rather than wrapping -- */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static int32_t sched_find(const struct sched *s, uint32_t id)
{
    for (int32_t i = 0; i < SCHED_MAX_VCPUS; i++)
        if (s->ent[i].used && s->ent[i].id == id)
            return i;
    return -1;
}

/* Time never goes backwards here: a stale `now` is raised to the largest one seen. */
static uint64_t sched_clock(struct sched *s, uint64_t now)
{
    if (now < s->last_now)
        return s->last_now;
    s->last_now = now;
    return now;
}

static uint32_t sched_prio(const struct sched *s, const struct sched_entity *e)
{
    return s->pol.kind == SCHED_FIXED_PRIORITY ? e->priority : 0;
}

/* ---- budgets (deferrable server) ---------------------------------------------------------
 * Period k of a budgeted entity is [epoch + k * period, epoch + (k + 1) * period). `bused`
 * is what was used in period `bperiod`, debt included. Each boundary crossed forgives one
 * budget: used in period k >= bperiod is max(0, bused - (k - bperiod) * budget), so a vCPU
 * that stayed within its budget starts every period afresh and an overrun is paid back. */

static uint64_t budget_period(const struct sched *s, const struct sched_entity *e, uint64_t t)
{
    return (t - s->epoch) / e->period;
}

static uint64_t budget_period_start(const struct sched *s, const struct sched_entity *e,
                                    uint64_t k)
{
    return sat_add(s->epoch, sat_mul(k, e->period));
}

static uint64_t budget_used_in(const struct sched_entity *e, uint64_t k)
{
    uint64_t n = k - e->bperiod;
    if (n == 0)
        return e->bused;
    if (n > e->bused / e->budget) /* n * budget > bused */
        return 0;
    return e->bused - n * e->budget;
}

static bool budget_exhausted(const struct sched *s, const struct sched_entity *e, uint64_t now)
{
    return e->budget && budget_used_in(e, budget_period(s, e, now)) >= e->budget;
}

/* When an exhausted entity may run again: the first period whose forgiven debt leaves it
 * below its budget, i.e. k - bperiod >= bused / budget. */
static uint64_t budget_refill_time(const struct sched *s, const struct sched_entity *e)
{
    return budget_period_start(s, e, sat_add(e->bperiod, e->bused / e->budget));
}

/* Charge [from, to) of running, splitting it at period boundaries. Whole periods spent
 * running (a badly late run loop) each leave period - budget of debt. */
static void budget_charge(const struct sched *s, struct sched_entity *e, uint64_t from,
                          uint64_t to)
{
    if (!e->budget || to <= from)
        return;
    uint64_t k = budget_period(s, e, from);
    e->bused = budget_used_in(e, k);
    e->bperiod = k;
    uint64_t end_k = budget_period_start(s, e, k + 1);
    if (to <= end_k) {
        e->bused = sat_add(e->bused, to - from);
        return;
    }
    e->bused = sat_add(e->bused, end_k - from);
    uint64_t m = budget_period(s, e, to);
    uint64_t debt = budget_used_in(e, k + 1);
    debt = sat_add(debt, sat_mul(m - k - 1, e->period - e->budget));
    e->bperiod = m;
    e->bused = sat_add(debt, to - budget_period_start(s, e, m));
}

static bool sched_eligible(const struct sched *s, const struct sched_entity *e, uint64_t now)
{
    return e->used && e->runnable && !budget_exhausted(s, e, now);
}

/* ---- accounting ------------------------------------------------------------------------- */

static void sched_account(struct sched *s, uint64_t now)
{
    if (now <= s->since)
        return;
    uint64_t dt = now - s->since;
    if (s->cur >= 0) {
        struct sched_entity *e = &s->ent[s->cur];
        e->stats.cpu_time += dt;
        budget_charge(s, e, s->since, now);
    } else {
        s->idle_time += dt;
    }
    s->since = now;
}

/* ---- decisions (pure: they read the state, the caller commits) --------------------------- */

struct sched_pick {
    int32_t slot; /* -1: idle */
    uint64_t until;
};

/* The earliest refill among runnable, exhausted entities above priority `floor` (all of them
 * when any_prio): the next time one of them could take the CPU. */
static uint64_t sched_next_refill(const struct sched *s, uint64_t now, bool any_prio,
                                  uint32_t floor)
{
    uint64_t t = SCHED_FOREVER;
    for (int32_t i = 0; i < SCHED_MAX_VCPUS; i++) {
        const struct sched_entity *e = &s->ent[i];
        if (!e->used || !e->runnable || !budget_exhausted(s, e, now))
            continue;
        if (any_prio || sched_prio(s, e) > floor)
            t = min_u64(t, budget_refill_time(s, e));
    }
    return t;
}

/* Round-robin and fixed priority. The current vCPU keeps the CPU until its slice ends unless
 * a strictly higher priority is eligible; otherwise the eligible entity with the highest
 * priority and the lowest queue position runs, the current one counting as the tail of its
 * priority once its slice has ended. */
static struct sched_pick sched_decide_prio(const struct sched *s, uint64_t now)
{
    int32_t c = s->cur;
    bool c_ok = c >= 0 && sched_eligible(s, &s->ent[c], now) && now < s->ent[c].slice_end;
    int32_t best = -1;
    uint32_t best_prio = 0;
    uint64_t best_seq = 0;

    for (int32_t i = 0; i < SCHED_MAX_VCPUS; i++) {
        const struct sched_entity *e = &s->ent[i];
        if (!sched_eligible(s, e, now))
            continue;
        uint32_t prio = sched_prio(s, e);
        if (c_ok && i != c && prio <= sched_prio(s, &s->ent[c]))
            continue;
        uint64_t seq = (i == c && !c_ok) ? UINT64_MAX : e->seq;
        if (best < 0 || prio > best_prio || (prio == best_prio && seq < best_seq)) {
            best = i;
            best_prio = prio;
            best_seq = seq;
        }
    }

    struct sched_pick p = { best, SCHED_FOREVER };
    if (best < 0) {
        p.until = sched_next_refill(s, now, true, 0);
        return p;
    }
    const struct sched_entity *e = &s->ent[best];
    if (best == c && c_ok)
        p.until = e->slice_end;
    else if (best == c)
        p.until = sat_add(now, s->pol.slice);
    else
        p.until = sat_add(now, e->slice_left);
    if (e->budget) {
        uint64_t k = budget_period(s, e, now);
        p.until = min_u64(p.until, sat_add(now, e->budget - budget_used_in(e, k)));
        /* A refill may extend the run; deciding again there is cheaper than predicting it. */
        p.until = min_u64(p.until, budget_period_start(s, e, k + 1));
    }
    p.until = min_u64(p.until, sched_next_refill(s, now, false, best_prio));
    return p;
}

static bool sched_owner_runnable(const struct sched *s, uint32_t id, int32_t *slot)
{
    int32_t i = sched_find(s, id);
    if (slot)
        *slot = i;
    return i >= 0 && s->ent[i].runnable;
}

/* Cyclic: the window holding `now` decides; no window, or an owner that cannot run, idles
 * until the next window whose owner can run. ARINC 653 part 1 time partitioning: a
 * partition's window is never given to another partition, even when it has nothing to do. */
static struct sched_pick sched_decide_cyclic(const struct sched *s, uint64_t now)
{
    const uint64_t frame = s->pol.major_frame;
    uint64_t base = s->pol.frame_start;
    struct sched_pick p = { -1, SCHED_FOREVER };

    if (now >= s->pol.frame_start) {
        uint64_t pos = (now - s->pol.frame_start) % frame;
        base = now - pos;
        for (uint32_t i = 0; i < s->nwin; i++) {
            const struct sched_window *w = &s->win[i];
            if (pos < w->offset)
                break;
            if (pos >= w->offset + w->length)
                continue;
            int32_t slot;
            if (sched_owner_runnable(s, w->id, &slot)) {
                p.slot = slot;
                p.until = sat_add(base, w->offset + w->length);
                return p;
            }
            break;
        }
    }
    /* Two frames from `base` cover every window start after `now`. */
    for (uint32_t f = 0; f < 2; f++) {
        uint64_t fbase = sat_add(base, sat_mul(f, frame));
        for (uint32_t i = 0; i < s->nwin; i++) {
            uint64_t start = sat_add(fbase, s->win[i].offset);
            if (start > now && sched_owner_runnable(s, s->win[i].id, NULL)) {
                p.until = start;
                return p;
            }
        }
    }
    return p;
}

static struct sched_pick sched_decide(const struct sched *s, uint64_t now)
{
    if (s->pol.kind == SCHED_CYCLIC)
        return sched_decide_cyclic(s, now);
    return sched_decide_prio(s, now);
}

/* Would sched_next(now) switch vCPU or need an earlier deadline than the one last given? */
static int sched_need_resched(const struct sched *s, uint64_t now)
{
    struct sched_pick p = sched_decide(s, now);
    return (p.slot != s->cur || p.until < s->last.run_until) ? SCHED_RESCHED : 0;
}

/* ---- interface -------------------------------------------------------------------------- */

int sched_init(struct sched *s, const struct sched_policy *p, uint64_t now)
{
    if (!s || !p)
        return SCHED_E_INVAL;
    if (p->kind != SCHED_ROUND_ROBIN && p->kind != SCHED_FIXED_PRIORITY &&
        p->kind != SCHED_CYCLIC)
        return SCHED_E_INVAL;
    if (p->kind == SCHED_CYCLIC && p->major_frame == 0)
        return SCHED_E_FRAME;
    memset(s, 0, sizeof(*s));
    s->pol = *p;
    if (s->pol.slice == 0)
        s->pol.slice = SCHED_DEFAULT_SLICE;
    s->epoch = now;
    s->last_now = now;
    s->since = now;
    s->cur = -1;
    s->last.id = SCHED_IDLE;
    s->last.run_until = SCHED_FOREVER;
    s->next_seq = 1;
    return SCHED_OK;
}

int sched_add(struct sched *s, uint32_t id, uint32_t priority, uint64_t budget,
              uint64_t period)
{
    if (!s || id == SCHED_IDLE)
        return SCHED_E_INVAL;
    if ((budget == 0) != (period == 0) || budget > period)
        return SCHED_E_INVAL;
    if (s->pol.kind == SCHED_CYCLIC && budget)
        return SCHED_E_INVAL;
    if (sched_find(s, id) >= 0)
        return SCHED_E_EXIST;
    for (int32_t i = 0; i < SCHED_MAX_VCPUS; i++) {
        struct sched_entity *e = &s->ent[i];
        if (e->used)
            continue;
        memset(e, 0, sizeof(*e));
        e->used = true;
        e->runnable = true;
        e->id = id;
        e->priority = priority;
        e->budget = budget;
        e->period = period;
        e->seq = s->next_seq++;
        e->slice_left = s->pol.slice;
        return SCHED_OK;
    }
    return SCHED_E_FULL;
}

static bool win_overlap(const struct sched_window *a, const struct sched_window *b)
{
    return a->offset < b->offset + b->length && b->offset < a->offset + a->length;
}

/* Checks of one window on its own; offset + length is only formed once it is known not to
 * pass the frame (so it cannot wrap). */
static int win_check_alone(const struct sched_window *w, uint64_t frame)
{
    if (w->id == SCHED_IDLE)
        return SCHED_E_INVAL;
    if (w->length == 0)
        return SCHED_E_WIN_EMPTY;
    if (w->offset >= frame || w->length > frame - w->offset)
        return SCHED_E_WIN_BEYOND;
    return SCHED_OK;
}

int sched_add_window(struct sched *s, uint32_t id, uint64_t offset, uint64_t length)
{
    if (!s)
        return SCHED_E_INVAL;
    if (s->pol.kind != SCHED_CYCLIC)
        return SCHED_E_POLICY;
    struct sched_window w = { id, offset, length };
    int rc = win_check_alone(&w, s->pol.major_frame);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < s->nwin; i++)
        if (win_overlap(&w, &s->win[i]))
            return SCHED_E_WIN_OVERLAP;
    if (s->nwin == SCHED_MAX_WINDOWS)
        return SCHED_E_FULL;
    uint32_t at = 0;
    while (at < s->nwin && s->win[at].offset < offset)
        at++;
    memmove(&s->win[at + 1], &s->win[at], (size_t)(s->nwin - at) * sizeof(s->win[0]));
    s->win[at] = w;
    s->nwin++;
    return SCHED_OK;
}

#define ULL(x) ((unsigned long long)(x))

static int check_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int check_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int sched_cyclic_check(const struct sched_window *w, uint32_t n, uint64_t major_frame,
                       char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (major_frame == 0)
        return check_fail(err, errlen, SCHED_E_FRAME,
                          "the major frame is 0 ns: give it a positive length");
    if (!w && n)
        return check_fail(err, errlen, SCHED_E_INVAL,
                          "%u windows claimed but no window table given", n);
    if (n > SCHED_MAX_WINDOWS)
        return check_fail(err, errlen, SCHED_E_WIN_COUNT,
                          "%u windows: at most %u fit in one CPU's major frame", n,
                          SCHED_MAX_WINDOWS);
    for (uint32_t i = 0; i < n; i++) {
        const struct sched_window *a = &w[i];
        switch (win_check_alone(a, major_frame)) {
        case SCHED_E_INVAL:
            return check_fail(err, errlen, SCHED_E_INVAL,
                              "window %u: vCPU id %u is reserved (SCHED_IDLE)", i, a->id);
        case SCHED_E_WIN_EMPTY:
            return check_fail(err, errlen, SCHED_E_WIN_EMPTY,
                              "window %u (vCPU %u) at offset %llu ns has length 0", i, a->id,
                              ULL(a->offset));
        case SCHED_E_WIN_BEYOND:
            return check_fail(err, errlen, SCHED_E_WIN_BEYOND,
                              "window %u (vCPU %u): offset %llu ns + length %llu ns ends after "
                              "the major frame of %llu ns", i, a->id, ULL(a->offset),
                              ULL(a->length), ULL(major_frame));
        default:
            break;
        }
        for (uint32_t j = 0; j < i; j++) {
            const struct sched_window *b = &w[j];
            if (win_overlap(a, b))
                return check_fail(err, errlen, SCHED_E_WIN_OVERLAP,
                                  "window %u (vCPU %u) [%llu, %llu) ns overlaps window %u "
                                  "(vCPU %u) [%llu, %llu) ns", i, a->id, ULL(a->offset),
                                  ULL(a->offset + a->length), j, b->id, ULL(b->offset),
                                  ULL(b->offset + b->length));
        }
    }
    return SCHED_OK;
}

int sched_set_runnable(struct sched *s, uint32_t id, bool runnable, uint64_t now)
{
    now = sched_clock(s, now);
    sched_account(s, now);
    int32_t i = sched_find(s, id);
    if (i < 0)
        return SCHED_E_NOENT;
    struct sched_entity *e = &s->ent[i];
    if (runnable && !e->runnable) {
        e->runnable = true;
        e->seq = s->next_seq++;
        e->slice_left = s->pol.slice;
    } else if (!runnable && e->runnable) {
        e->runnable = false;
        e->slice_left = s->pol.slice;
    }
    return sched_need_resched(s, now);
}

int sched_yield_slice(struct sched *s, uint32_t id, uint64_t now)
{
    now = sched_clock(s, now);
    sched_account(s, now);
    int32_t i = sched_find(s, id);
    if (i < 0)
        return SCHED_E_NOENT;
    if (i != s->cur || s->pol.kind == SCHED_CYCLIC)
        return 0;
    s->ent[i].slice_end = now; /* the slice is over: sched_next moves it to the tail */
    s->ent[i].yielded = true;
    return SCHED_RESCHED;
}

int sched_remove(struct sched *s, uint32_t id, uint64_t now)
{
    now = sched_clock(s, now);
    sched_account(s, now);
    int32_t i = sched_find(s, id);
    if (i < 0)
        return SCHED_E_NOENT;
    memset(&s->ent[i], 0, sizeof(s->ent[i]));
    if (i == s->cur) {
        s->cur = -1;
        s->last.id = SCHED_IDLE;
        s->last.run_until = SCHED_FOREVER;
        return SCHED_RESCHED;
    }
    return sched_need_resched(s, now);
}

struct sched_decision sched_next(struct sched *s, uint64_t now)
{
    now = sched_clock(s, now);
    sched_account(s, now);
    struct sched_pick p = sched_decide(s, now);
    int32_t c = s->cur;

    if (c >= 0 && p.slot != c) {
        struct sched_entity *e = &s->ent[c];
        if (s->pol.kind == SCHED_CYCLIC) {
            if (e->runnable)
                e->stats.preempted++;
        } else if (e->runnable) {
            /* Budget gone or slice over: tail of its priority, full slice next time.
             * Preempted mid-slice by a higher priority: keep the place and the rest. */
            if (budget_exhausted(s, e, now)) {
                e->stats.throttled++;
                e->seq = s->next_seq++;
                e->slice_left = s->pol.slice;
            } else if (now >= e->slice_end) {
                if (!e->yielded)
                    e->stats.preempted++;
                e->seq = s->next_seq++;
                e->slice_left = s->pol.slice;
            } else {
                e->stats.preempted++;
                e->slice_left = e->slice_end - now;
            }
        }
    } else if (c >= 0 && s->pol.kind != SCHED_CYCLIC && now >= s->ent[c].slice_end) {
        /* Its slice ended and nothing else was eligible: a fresh slice, still at the tail. */
        s->ent[c].seq = s->next_seq++;
        s->ent[c].slice_end = sat_add(now, s->pol.slice);
    }

    if (c >= 0)
        s->ent[c].yielded = false;
    if (p.slot >= 0 && p.slot != c) {
        struct sched_entity *n = &s->ent[p.slot];
        n->stats.switches++;
        n->slice_end = sat_add(now, n->slice_left);
    }
    s->cur = p.slot;
    s->last.id = p.slot >= 0 ? s->ent[p.slot].id : SCHED_IDLE;
    s->last.run_until = p.until;
    return s->last;
}

void sched_charge(struct sched *s, uint64_t now)
{
    sched_account(s, sched_clock(s, now));
}

int sched_get_stats(const struct sched *s, uint32_t id, struct sched_stats *out)
{
    if (!s || !out)
        return SCHED_E_INVAL;
    int32_t i = sched_find(s, id);
    if (i < 0)
        return SCHED_E_NOENT;
    *out = s->ent[i].stats;
    return SCHED_OK;
}

uint64_t sched_idle_time(const struct sched *s)
{
    return s->idle_time;
}

const char *sched_strerror(int code)
{
    switch (code) {
    case SCHED_OK: return "success";
    case SCHED_E_INVAL: return "invalid argument";
    case SCHED_E_EXIST: return "vCPU already scheduled on this CPU";
    case SCHED_E_FULL: return "no free scheduler slot on this CPU";
    case SCHED_E_NOENT: return "no such vCPU on this CPU";
    case SCHED_E_POLICY: return "not available under this scheduling policy";
    case SCHED_E_FRAME: return "major frame of 0 ns";
    case SCHED_E_WIN_EMPTY: return "cyclic window of length 0";
    case SCHED_E_WIN_BEYOND: return "cyclic window ends after the major frame";
    case SCHED_E_WIN_OVERLAP: return "cyclic windows overlap";
    case SCHED_E_WIN_COUNT: return "too many cyclic windows";
    default: return "unknown scheduler error";
    }
}
