// SPDX-License-Identifier: Apache-2.0
// The per-CPU scheduler's decisions: which vCPU runs next and until when, under round-robin,
// fixed-priority (with deferrable-server budgets) or a static cyclic (ARINC 653) table. Pure:
// time is a nanosecond count passed in, no lock (one instance per CPU, used by that CPU only),
// no allocation. It does not arm timers or switch contexts: the run loop does that.
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_MAX_VCPUS   16 /* vCPUs on one physical CPU: at most one per partition */
#define SCHED_MAX_WINDOWS 32 /* cyclic windows in one CPU's major frame */

#define SCHED_IDLE    UINT32_MAX /* decision id: run nothing; also never a valid vCPU id */
#define SCHED_FOREVER UINT64_MAX /* run_until: no deadline, only an event ends this decision */

#define SCHED_NS_PER_MS     1000000ull
#define SCHED_DEFAULT_SLICE (10 * SCHED_NS_PER_MS)

enum sched_kind {
    SCHED_ROUND_ROBIN = 0,
    SCHED_FIXED_PRIORITY = 1,
    SCHED_CYCLIC = 2,
};

/* Error codes (negative); 0 is success. */
enum sched_error {
    SCHED_OK = 0,
    SCHED_E_INVAL = -1,        /* NULL pointer, bad policy, id SCHED_IDLE, bad budget/period */
    SCHED_E_EXIST = -2,        /* add: the id is already scheduled here */
    SCHED_E_FULL = -3,         /* add: SCHED_MAX_VCPUS (or SCHED_MAX_WINDOWS) already in use */
    SCHED_E_NOENT = -4,        /* no vCPU with that id */
    SCHED_E_POLICY = -5,       /* the operation does not exist under this policy */
    SCHED_E_FRAME = -6,        /* cyclic: major frame of 0 ns */
    SCHED_E_WIN_EMPTY = -7,    /* cyclic: a window of length 0 */
    SCHED_E_WIN_BEYOND = -8,   /* cyclic: a window ends after the major frame */
    SCHED_E_WIN_OVERLAP = -9,  /* cyclic: two windows share some time */
    SCHED_E_WIN_COUNT = -10,   /* cyclic: more than SCHED_MAX_WINDOWS windows */
};

/* Returned (1) by the calls that change state at a time `now` when the caller must call
 * sched_next(now) at once: the vCPU to run changed or its deadline moved earlier (before the
 * first sched_next, any runnable vCPU counts as a change). */
#define SCHED_RESCHED 1

/* How a CPU's scheduler is configured.
 * - SCHED_ROUND_ROBIN: runnable vCPUs take turns of `slice` ns (0: SCHED_DEFAULT_SLICE);
 *   priorities are ignored; budgets work as below.
 * - SCHED_FIXED_PRIORITY: the highest-priority eligible vCPU runs (a larger number is a
 *   higher priority); equal priorities take turns of `slice` ns; a vCPU becoming eligible
 *   preempts a lower-priority one at once. A preempted vCPU stays at the head of its priority
 *   and later finishes the rest of its slice.
 * - SCHED_CYCLIC: frames of `major_frame` ns repeat from `frame_start` (an absolute time, so
 *   CPUs given the same value keep their frames aligned); only windows (sched_add_window)
 *   run anything. `slice` is ignored. */
struct sched_policy {
    enum sched_kind kind;
    uint64_t slice;
    uint64_t major_frame;
    uint64_t frame_start;
};

/* One window of a cyclic table: vCPU `id` owns [offset, offset + length) of every frame. */
struct sched_window {
    uint32_t id;
    uint64_t offset;
    uint64_t length;
};

/* Per-vCPU counters, as of the last call that passed a time (see sched_charge). */
struct sched_stats {
    uint64_t cpu_time;  /* ns it was the decision's vCPU */
    uint64_t switches;  /* times it was switched in (continuing the same vCPU is not one) */
    uint64_t preempted; /* times switched out while it could still run: slice or window end,
                           a higher priority arriving */
    uint64_t throttled; /* times switched out because its budget for the period ran out */
};

/* What to run: vCPU `id` (or SCHED_IDLE) until `run_until` (absolute ns, SCHED_FOREVER for
 * none), unless an event comes first. run_until > now except at the end of time
 * (a deadline that would pass 2^64 - 1 is clamped to SCHED_FOREVER). */
struct sched_decision {
    uint32_t id;
    uint64_t run_until;
};

/* One scheduled vCPU. Private to sched.c; here only so callers can embed struct sched. */
struct sched_entity {
    uint32_t id;
    bool used;
    bool runnable;
    bool yielded;        /* gave up its slice: leaving the CPU now is not a preemption */
    uint32_t priority;
    uint64_t budget;     /* ns per period; 0: no budget */
    uint64_t period;
    uint64_t bperiod;    /* index of the period `bused` was counted in */
    uint64_t bused;      /* ns used in that period, plus overrun debt carried into it */
    uint64_t seq;        /* queue position within its priority: lower runs first */
    uint64_t slice_left; /* slice it gets when next switched in */
    uint64_t slice_end;  /* while it is the current vCPU */
    struct sched_stats stats;
};

struct sched {
    struct sched_policy pol;
    uint64_t epoch;      /* sched_init's now: budget periods are counted from it */
    uint64_t last_now;   /* largest time seen; smaller ones are raised to it */
    uint64_t since;      /* time accounted up to */
    int32_t cur;         /* entity slot of the last decision, -1 for idle */
    struct sched_decision last;
    uint64_t next_seq;
    uint64_t idle_time;
    uint32_t nwin;
    struct sched_window win[SCHED_MAX_WINDOWS]; /* sorted by offset, disjoint */
    struct sched_entity ent[SCHED_MAX_VCPUS];
};

/* How the run loop uses it (one struct sched per physical CPU, touched only by that CPU):
 *   sched_init once; sched_add each vCPU placed on this CPU, under an id the caller chooses
 *   (unique on this CPU, e.g. the partition index), plus sched_add_window for a cyclic table;
 *   loop: d = sched_next(now); arm the timer for d.run_until (none for SCHED_FOREVER); run
 *   d.id (or halt until an interrupt) until an exit or the timer; then report what happened
 *   -- sched_set_runnable (HLT / event), sched_yield_slice (PAUSE loop), sched_remove (exit,
 *   partition stopped) -- and call sched_next again; an event for a vCPU that is not running
 *   needs sched_next only when the call returns SCHED_RESCHED.
 *
 * Time accounting (the same for every call that takes `now`): the vCPU returned by the last
 * sched_next is taken to have run from that call's `now` until the `now` of the next call that
 * passes one, and is charged for it (CPU time, budget); with no vCPU the time counts as idle.
 * So the run loop passes the real time of each event and of each exit, overruns included.
 * `now` must not go backwards: a smaller value is treated as the largest seen so far. */

/* Configure `s` (all state cleared) with policy `p` at time `now`. Errors: SCHED_E_INVAL
 * (NULL, unknown kind), SCHED_E_FRAME (cyclic with major_frame 0). */
int sched_init(struct sched *s, const struct sched_policy *p, uint64_t now);

/* Schedule vCPU `id` here, runnable, at the tail of its priority. budget/period: at most
 * `budget` ns of CPU time in each `period` ns (both 0: no limit; 0 < budget <= period).
 * Budget periods are counted from sched_init's now. A deferrable server: the budget is
 * refilled to `budget` at each period boundary and kept while the vCPU is blocked within a
 * period; any overrun (the run loop preempting late) is carried as debt into the next period,
 * so over a long run the vCPU gets at most budget per period. Deferrable servers allow a
 * burst of up to 2 x budget across a period boundary (end of one period, start of the next);
 * a sporadic server would not, at the cost of a list of replenishments. Under SCHED_CYCLIC
 * priority is ignored and budget/period must be 0 (the windows are the budget). Call
 * sched_next afterwards: the new vCPU may preempt. Errors: SCHED_E_INVAL, SCHED_E_EXIST,
 * SCHED_E_FULL. */
int sched_add(struct sched *s, uint32_t id, uint32_t priority, uint64_t budget,
              uint64_t period);

/* Cyclic: give vCPU `id` the window [offset, offset + length) of each frame. The id need not
 * be added yet (a window with no runnable owner idles). Checked against the policy's major
 * frame and the windows already there; on error nothing changes. Errors: SCHED_E_POLICY (not
 * cyclic), SCHED_E_INVAL (id SCHED_IDLE), SCHED_E_WIN_EMPTY, SCHED_E_WIN_BEYOND,
 * SCHED_E_WIN_OVERLAP, SCHED_E_FULL. */
int sched_add_window(struct sched *s, uint32_t id, uint64_t offset, uint64_t length);

/* Validate a whole cyclic table (any order) for a major frame, before anything is built.
 * Returns 0 with err = "" or the first problem's code with one sentence in err (windows are
 * named by their index in w): see SCHED_E_FRAME .. SCHED_E_WIN_COUNT, SCHED_E_INVAL for a
 * window owned by SCHED_IDLE or w NULL with n > 0. err may be NULL. */
int sched_cyclic_check(const struct sched_window *w, uint32_t n, uint64_t major_frame,
                       char *err, size_t errlen);

/* vCPU `id` blocked (false: HLT with nothing pending, partition paused) or became runnable
 * (true: an event arrived). A vCPU that blocks loses the rest of its slice; one that becomes
 * runnable joins the tail of its priority with a full slice. Returns SCHED_RESCHED, 0, or
 * SCHED_E_NOENT. */
int sched_set_runnable(struct sched *s, uint32_t id, bool runnable, uint64_t now);

/* The running vCPU `id` gives up the rest of its slice (it goes to the tail of its priority;
 * if nothing else is eligible it continues with a fresh slice); not counted as preempted.
 * Under SCHED_CYCLIC the window is not lent, so nothing changes. A vCPU other than the
 * current one: no effect. Returns SCHED_RESCHED, 0, or SCHED_E_NOENT. (Not `sched_yield`:
 * that is POSIX's, and hosted builds -- the sanitizers' runtime -- call it.) */
int sched_yield_slice(struct sched *s, uint32_t id, uint64_t now);

/* vCPU `id` exited or its partition stopped: forget it (its counters too; read them first).
 * Its cyclic windows stay and idle (a restarted partition re-added under the same id gets
 * them back). Returns SCHED_RESCHED when it was the current vCPU (or the decision changed),
 * 0, or SCHED_E_NOENT. */
int sched_remove(struct sched *s, uint32_t id, uint64_t now);

/* The decision at `now`: charge the time since the previous call, then choose. Calling it
 * again at the same `now` returns the same decision and changes nothing. */
struct sched_decision sched_next(struct sched *s, uint64_t now);

/* Charge the time up to `now` without deciding (e.g. before reading counters). */
void sched_charge(struct sched *s, uint64_t now);

/* Counters of vCPU `id`. Errors: SCHED_E_NOENT, SCHED_E_INVAL. */
int sched_get_stats(const struct sched *s, uint32_t id, struct sched_stats *out);

/* ns charged to no vCPU since sched_init, as of the last call that passed a time. */
uint64_t sched_idle_time(const struct sched *s);

/* Text for an error code. */
const char *sched_strerror(int code);

#endif
