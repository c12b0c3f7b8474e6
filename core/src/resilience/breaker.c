/* The circuit breaker (see breaker.h). */
#include <string.h>

#include "base/assert.h"
#include "resilience/breaker.h"
#include "genesis/status.h"

int gn_outcome_classify(const genesis_policy *p, int status, int reason)
{
    uint32_t rbit = reason >= 0 && reason < 32 ? 1u << reason : 0;
    uint32_t sbit = status >= 0 && status < 32 ? 1u << status : 0;
    if (p->breaker_ignored_reasons & rbit)
        return GN_OUTCOME_IGNORED;
    if (p->breaker_failure_reasons & rbit)
        return GN_OUTCOME_FAILURE;
    if (p->breaker_ignored_statuses & sbit)
        return GN_OUTCOME_IGNORED;
    if (p->breaker_failure_statuses & sbit)
        return GN_OUTCOME_FAILURE;
    return GN_OUTCOME_SUCCESS;
}

int64_t gn_time_after(int64_t now, uint64_t ms)
{
    if (ms > (uint64_t)INT64_MAX || now > INT64_MAX - (int64_t)ms)
        return INT64_MAX;
    return now + (int64_t)ms;
}

/* until - now in ms, clamped to 0..UINT32_MAX (no overflow for any pair). */
static uint32_t ms_left(int64_t until, int64_t now)
{
    if (until <= now)
        return 0;
    uint64_t left = (uint64_t)until - (uint64_t)now;
    return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

static void note(gn_breaker_transition *t, int from, int to, const char *cause, uint32_t open_ms)
{
    memset(t, 0, sizeof(*t));
    t->from = from;
    t->to = to;
    t->cause = cause;
    t->open_ms = open_ms;
}

static unsigned int probes_of(const genesis_policy *p)
{
    unsigned int probes = p->breaker_half_open_probes;
    if (probes > GN_BREAKER_MAX_PROBES)
        probes = GN_BREAKER_MAX_PROBES;
    return probes > 0 ? probes : 1;
}

/* ---- windows ---------------------------------------------------------------------------- */

static void window_clear(gn_breaker *b)
{
    memset(b->ring, 0, sizeof(b->ring));
    memset(b->slow_ring, 0, sizeof(b->slow_ring));
    memset(b->buckets, 0, sizeof(b->buckets));
    b->window_pos = b->window_n = b->window_failures = b->window_slow = 0;
    b->failure_above = b->slow_above = false;
}

static bool ring_bit(const uint64_t *ring, unsigned int i)
{
    return (ring[i / 64] >> (i % 64)) & 1u;
}

static void ring_put(uint64_t *ring, unsigned int i, bool v)
{
    uint64_t bit = 1ull << (i % 64);
    if (v)
        ring[i / 64] |= bit;
    else
        ring[i / 64] &= ~bit;
}

/* The window size changed (a policy change): keep the newest min(n, size) outcomes, oldest
 * first, with their failures counted, so neither growing nor shrinking loses or double
 * counts what was recorded. */
static void window_resize(gn_breaker *b, unsigned int size)
{
    unsigned int old = b->window_size, n = b->window_n;
    uint64_t out[GN_BREAKER_MAX_WINDOW / 64] = {0}, out_slow[GN_BREAKER_MAX_WINDOW / 64] = {0};
    unsigned int keep = n < size ? n : size, failures = 0, slow = 0;
    for (unsigned int k = 0; k < keep; k++) {
        unsigned int from = (b->window_pos + old - keep + k) % old;
        bool failed = ring_bit(b->ring, from), was_slow = ring_bit(b->slow_ring, from);
        ring_put(out, k, failed);
        ring_put(out_slow, k, was_slow);
        failures += failed;
        slow += was_slow;
    }
    memcpy(b->ring, out, sizeof(out));
    memcpy(b->slow_ring, out_slow, sizeof(out_slow));
    b->window_n = keep;
    b->window_failures = failures;
    b->window_slow = slow;
    b->window_pos = keep % size;
    b->window_size = size;
}

static void count_window_add(gn_breaker *b, const genesis_policy *p, bool failed, bool slow)
{
    unsigned int window = p->breaker_window;
    if (window > GN_BREAKER_MAX_WINDOW)
        window = GN_BREAKER_MAX_WINDOW;
    if (window == 0)
        window = 1;
    if (b->window_size != window)
        window_resize(b, window);
    unsigned int pos = b->window_pos;
    if (b->window_n == window) {
        b->window_failures -= ring_bit(b->ring, pos);
        b->window_slow -= ring_bit(b->slow_ring, pos);
    } else {
        b->window_n++;
    }
    ring_put(b->ring, pos, failed);
    ring_put(b->slow_ring, pos, slow);
    b->window_failures += failed;
    b->window_slow += slow;
    b->window_pos = (pos + 1) % window;
}

static int64_t bucket_width(const genesis_policy *p)
{
    int64_t w = (int64_t)p->breaker_window_ms / GN_BREAKER_TIME_BUCKETS;
    return w > 0 ? w : 1;
}

/* Floor division: an injected clock may be negative. */
static int64_t epoch_of(int64_t now, int64_t width)
{
    return now >= 0 ? now / width : -((-now + width - 1) / width);
}

static void time_window_add(gn_breaker *b, const genesis_policy *p, int64_t now, bool failed,
                            bool slow)
{
    int64_t width = bucket_width(p);
    if (b->bucket_ms != width) { /* a new layout: what was counted cannot be re-bucketed */
        memset(b->buckets, 0, sizeof(b->buckets));
        b->bucket_ms = width;
    }
    int64_t epoch = epoch_of(now, width);
    gn_breaker_bucket *k = &b->buckets[(uint64_t)epoch % GN_BREAKER_TIME_BUCKETS];
    if (k->epoch != epoch || k->calls == 0)
        *k = (gn_breaker_bucket){.epoch = epoch};
    k->calls++;
    k->failures += failed;
    k->slow += slow;
}

/* Under the lock: the window's totals at now. */
static void window_totals(gn_breaker *b, const genesis_policy *p, int64_t now, unsigned int *calls,
                          unsigned int *failures, unsigned int *slow)
{
    if (p->breaker_window_ms == 0) {
        unsigned int window = p->breaker_window > 0 ? p->breaker_window : 1;
        if (window > GN_BREAKER_MAX_WINDOW)
            window = GN_BREAKER_MAX_WINDOW;
        if (b->window_size != window && b->window_size != 0)
            window_resize(b, window);
        *calls = b->window_n;
        *failures = b->window_failures;
        *slow = b->window_slow;
        return;
    }
    *calls = *failures = *slow = 0;
    int64_t width = bucket_width(p);
    if (b->bucket_ms != width)
        return;
    int64_t epoch = epoch_of(now, width);
    for (unsigned int i = 0; i < GN_BREAKER_TIME_BUCKETS; i++) {
        const gn_breaker_bucket *k = &b->buckets[i];
        if (k->calls > 0 && k->epoch <= epoch && k->epoch > epoch - GN_BREAKER_TIME_BUCKETS) {
            *calls += k->calls;
            *failures += k->failures;
            *slow += k->slow;
        }
    }
}

/* ---- transitions ------------------------------------------------------------------------ */

static void set_state(gn_breaker *b, int to, gn_breaker_transition *t, const char *cause,
                      uint32_t open_ms)
{
    GN_ASSERT(to >= GENESIS_BREAKER_CLOSED && to <= GENESIS_BREAKER_METRICS_ONLY);
    int from = atomic_load(&b->state);
    unsigned int events = t->rate_events;
    gn_breaker_transition keep = *t;
    note(t, from, to, cause, open_ms);
    if (events != 0) { /* a rate event of the same outcome stays reported */
        t->rate_events = events;
        t->failure_above = keep.failure_above;
        t->slow_above = keep.slow_above;
        t->failure_pct = keep.failure_pct;
        t->slow_pct = keep.slow_pct;
        t->failure_threshold = keep.failure_threshold;
        t->slow_threshold = keep.slow_threshold;
    }
    if (from == to)
        return;
    atomic_store(&b->state, to);
    atomic_fetch_add(&b->n_transitions, 1);
    if (to == GENESIS_BREAKER_OPEN)
        atomic_fetch_add(&b->n_opens, 1);
}

/* The open time after level re-trips: breaker_open_ms grown by the multiplier, capped. */
static uint32_t open_time(const genesis_policy *p, unsigned int level)
{
    uint64_t ms = p->breaker_open_ms;
    uint64_t mult = p->breaker_open_multiplier_pct >= 100 ? p->breaker_open_multiplier_pct : 100;
    for (unsigned int i = 0; i < level && ms < p->breaker_open_max_ms; i++)
        ms = ms * mult / 100;
    return ms < p->breaker_open_max_ms ? (uint32_t)ms : p->breaker_open_max_ms;
}

static void half_open_reset(gn_breaker *b, int64_t now)
{
    b->n_leases = b->probes_done = b->probe_failures = b->probe_slow = 0;
    b->half_open_since_ms = now;
}

/* Under the lock. from_closed: a trip after a closed period (the growth resets if it stayed
 * closed for breaker_open_reset_ms); otherwise a re-trip from half-open (the time grows). */
static void trip(gn_breaker *b, const genesis_policy *p, int64_t now, bool from_closed,
                 const char *cause, gn_breaker_transition *t)
{
    int64_t reset =
        p->breaker_open_reset_ms > 0 ? p->breaker_open_reset_ms : p->breaker_open_max_ms;
    if (from_closed && now - b->closed_since_ms >= reset)
        b->level = 0;
    else if (!from_closed || b->level > 0)
        b->level += b->level < 32 ? 1 : 0;
    uint32_t ms = open_time(p, b->level);
    atomic_store(&b->open_until_ms, gn_time_after(now, ms));
    half_open_reset(b, now);
    b->consecutive = 0;
    window_clear(b);
    set_state(b, GENESIS_BREAKER_OPEN, t, cause, ms);
}

static void close_breaker(gn_breaker *b, int64_t now, const char *cause, gn_breaker_transition *t)
{
    window_clear(b);
    half_open_reset(b, now);
    b->consecutive = 0;
    b->closed_since_ms = now;
    set_state(b, GENESIS_BREAKER_CLOSED, t, cause, 0);
}

static void to_half_open(gn_breaker *b, int64_t now, const char *cause, gn_breaker_transition *t)
{
    half_open_reset(b, now);
    atomic_store(&b->forced_until_ms, 0);
    set_state(b, GENESIS_BREAKER_HALF_OPEN, t, cause, 0);
}

/* Under the lock: the timed transitions due at now. */
static void timed_transitions(gn_breaker *b, const genesis_policy *p, int64_t now,
                              gn_breaker_transition *t)
{
    int state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_OPEN && now >= atomic_load(&b->open_until_ms)) {
        to_half_open(b, now, "open time elapsed", t);
    } else if (state == GENESIS_BREAKER_FORCED_OPEN) {
        int64_t until = atomic_load(&b->forced_until_ms);
        if (until != 0 && now >= until)
            to_half_open(b, now, "forced open time elapsed", t);
    } else if (state == GENESIS_BREAKER_HALF_OPEN && p->breaker_half_open_max_wait_ms > 0 &&
               now - b->half_open_since_ms >= (int64_t)p->breaker_half_open_max_wait_ms) {
        trip(b, p, now, false, "half-open probes did not decide within the maximum wait", t);
    }
}

void gn_breaker_init(gn_breaker *b, int64_t now_ms)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    atomic_init(&b->state, GENESIS_BREAKER_CLOSED);
    atomic_init(&b->open_until_ms, 0);
    atomic_init(&b->forced_until_ms, 0);
    b->closed_since_ms = now_ms;
    b->next_lease = 1;
}

void gn_breaker_destroy(gn_breaker *b)
{
    pthread_mutex_destroy(&b->lock);
}

int gn_breaker_state(gn_breaker *b)
{
    return atomic_load(&b->state);
}

bool gn_breaker_wants_probe(gn_breaker *b, const genesis_policy *p, int64_t now)
{
    int state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_OPEN)
        return now >= atomic_load(&b->open_until_ms);
    if (state != GENESIS_BREAKER_HALF_OPEN)
        return false;
    pthread_mutex_lock(&b->lock);
    bool free_slot = b->n_leases + b->probes_done < probes_of(p);
    pthread_mutex_unlock(&b->lock);
    return free_slot;
}

bool gn_breaker_rejects(gn_breaker *b, int64_t now, uint32_t *retry_in_ms)
{
    *retry_in_ms = 0;
    int state = atomic_load(&b->state);
    int64_t until;
    if (state == GENESIS_BREAKER_FORCED_OPEN) {
        until = atomic_load(&b->forced_until_ms);
        if (until != 0 && now >= until)
            return false; /* its time is up: admission decides */
        atomic_fetch_add(&b->n_fail_fast, 1);
        *retry_in_ms = until != 0 ? ms_left(until, now) : 0;
        return true;
    }
    if (state != GENESIS_BREAKER_OPEN)
        return false;
    until = atomic_load(&b->open_until_ms);
    if (now >= until)
        return false; /* a probe is due: admission decides */
    atomic_fetch_add(&b->n_fail_fast, 1);
    *retry_in_ms = ms_left(until, now);
    return true;
}

static bool admits_all(int state)
{
    return state == GENESIS_BREAKER_CLOSED || state == GENESIS_BREAKER_DISABLED ||
           state == GENESIS_BREAKER_METRICS_ONLY;
}

bool gn_breaker_admit(gn_breaker *b, const genesis_policy *p, int64_t now, uint32_t lease_ms,
                      uint64_t *lease, uint32_t *retry_in_ms, gn_breaker_transition *t)
{
    *lease = 0;
    *retry_in_ms = 0;
    note(t, 0, 0, NULL, 0);
    int state = atomic_load(&b->state);
    if (admits_all(state))
        return true;
    if (gn_breaker_rejects(b, now, retry_in_ms))
        return false;
    pthread_mutex_lock(&b->lock);
    timed_transitions(b, p, now, t);
    state = atomic_load(&b->state);
    bool admitted = admits_all(state);
    if (state == GENESIS_BREAKER_HALF_OPEN) {
        /* Lapsed leases are probes whose outcome never came back: free their slots. */
        for (unsigned int i = 0; i < b->n_leases;) {
            if (b->leases[i].expires_ms <= now)
                b->leases[i] = b->leases[--b->n_leases];
            else
                i++;
        }
        if (b->n_leases + b->probes_done < probes_of(p)) {
            *lease = b->next_lease++;
            b->leases[b->n_leases].id = *lease;
            b->leases[b->n_leases].expires_ms = gn_time_after(now, lease_ms);
            b->n_leases++;
            admitted = true;
        }
    }
    pthread_mutex_unlock(&b->lock);
    if (!admitted) {
        atomic_fetch_add(&b->n_fail_fast, 1);
        if (state == GENESIS_BREAKER_OPEN)
            *retry_in_ms = ms_left(atomic_load(&b->open_until_ms), now);
    }
    return admitted;
}

/* Under the lock: remove the lease; false if it is unknown (lapsed, or from an old epoch). */
static bool take_lease(gn_breaker *b, uint64_t lease)
{
    for (unsigned int i = 0; i < b->n_leases; i++) {
        if (b->leases[i].id == lease) {
            b->leases[i] = b->leases[--b->n_leases];
            return true;
        }
    }
    return false;
}

void gn_breaker_cancel(gn_breaker *b, uint64_t lease)
{
    if (lease == 0)
        return;
    pthread_mutex_lock(&b->lock);
    take_lease(b, lease);
    pthread_mutex_unlock(&b->lock);
}

/* Under the lock: a probe answered (not ignored). */
static void record_probe(gn_breaker *b, const genesis_policy *p, bool failed, bool slow,
                         int64_t now, gn_breaker_transition *t)
{
    unsigned int probes = probes_of(p);
    /* With a slow-call rate, a slow probe says the component is not well yet either. */
    bool bad = failed || (slow && p->breaker_slow_call_rate_pct > 0);
    if (p->breaker_half_open_rate_pct == 0) {
        if (bad)
            trip(b, p, now, false, "a half-open probe failed", t);
        else if (++b->probes_done >= probes)
            close_breaker(b, now, "half-open probes succeeded", t);
        return;
    }
    b->probes_done++;
    b->probe_failures += failed;
    b->probe_slow += slow;
    if (b->probes_done < probes)
        return;
    uint64_t done = b->probes_done;
    bool fail_rate = (uint64_t)b->probe_failures * 100 >= p->breaker_half_open_rate_pct * done;
    bool slow_rate = p->breaker_slow_call_rate_pct > 0 &&
                     (uint64_t)b->probe_slow * 100 >= p->breaker_slow_call_rate_pct * done;
    if (fail_rate || slow_rate)
        trip(b, p, now, false,
             fail_rate ? "half-open probes' failure rate reached the threshold"
                       : "half-open probes' slow-call rate reached the threshold",
             t);
    else
        close_breaker(b, now, "half-open probes' failure rate stayed under the threshold", t);
}

/* Under the lock: CLOSED or METRICS_ONLY: the window, the rates and their crossings. */
static void record_closed(gn_breaker *b, const genesis_policy *p, bool failed, bool slow,
                          int64_t now, gn_breaker_transition *t)
{
    if (p->breaker_window_ms > 0)
        time_window_add(b, p, now, failed, slow);
    else
        count_window_add(b, p, failed, slow);
    unsigned int calls, failures, slows;
    window_totals(b, p, now, &calls, &failures, &slows);
    if (calls == 0 || calls < p->breaker_min_calls)
        return;
    unsigned int frate = p->breaker_failure_rate_pct, srate = p->breaker_slow_call_rate_pct;
    bool f_above = frate > 0 && (uint64_t)failures * 100 >= (uint64_t)frate * calls;
    bool s_above = srate > 0 && (uint64_t)slows * 100 >= (uint64_t)srate * calls;
    if (f_above != b->failure_above)
        t->rate_events |= GN_RATE_FAILURE;
    if (s_above != b->slow_above)
        t->rate_events |= GN_RATE_SLOW;
    b->failure_above = f_above;
    b->slow_above = s_above;
    t->failure_above = f_above;
    t->slow_above = s_above;
    t->failure_pct = 100.0 * failures / calls;
    t->slow_pct = 100.0 * slows / calls;
    t->failure_threshold = frate;
    t->slow_threshold = srate;
    if (atomic_load(&b->state) != GENESIS_BREAKER_CLOSED)
        return; /* METRICS_ONLY never opens */
    if (f_above)
        trip(b, p, now, true, "failure rate over the window reached the threshold", t);
    else if (s_above)
        trip(b, p, now, true, "slow-call rate over the window reached the threshold", t);
}

void gn_breaker_record_outcome(gn_breaker *b, const genesis_policy *p, uint64_t lease, int outcome,
                               bool slow, int64_t now, gn_breaker_transition *t)
{
    note(t, 0, 0, NULL, 0);
    int state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_DISABLED || state == GENESIS_BREAKER_FORCED_OPEN) {
        if (lease != 0)
            gn_breaker_cancel(b, lease);
        return;
    }
    if (slow)
        atomic_fetch_add(&b->n_slow, 1);
    if (outcome == GN_OUTCOME_IGNORED) {
        atomic_fetch_add(&b->n_ignored, 1);
        gn_breaker_cancel(b, lease); /* a half-open permit goes back */
        return;
    }
    bool failed = outcome == GN_OUTCOME_FAILURE;
    /* Without a slow-call rate, slow successes are failures (version 1's rule). */
    if (slow && !failed && p->breaker_slow_call_rate_pct == 0)
        failed = true;
    pthread_mutex_lock(&b->lock);
    state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_HALF_OPEN && lease != 0 && take_lease(b, lease))
        record_probe(b, p, failed, slow, now, t);
    else if ((state == GENESIS_BREAKER_CLOSED && lease == 0) ||
             state == GENESIS_BREAKER_METRICS_ONLY)
        record_closed(b, p, failed, slow, now, t);
    /* OPEN, or a late outcome from an earlier epoch: nothing to learn. */
    pthread_mutex_unlock(&b->lock);
}

void gn_breaker_record(gn_breaker *b, const genesis_policy *p, uint64_t lease, bool failed,
                       int64_t now, gn_breaker_transition *t)
{
    gn_breaker_record_outcome(b, p, lease, failed ? GN_OUTCOME_FAILURE : GN_OUTCOME_SUCCESS, false,
                              now, t);
}

void gn_breaker_request_done(gn_breaker *b, const genesis_policy *p, bool failed, int64_t now,
                             gn_breaker_transition *t)
{
    note(t, 0, 0, NULL, 0);
    if (atomic_load(&b->state) != GENESIS_BREAKER_CLOSED)
        return;
    /* The common case, a success after a success, changes nothing: no lock. */
    if (!failed && atomic_load(&b->consecutive) == 0)
        return;
    pthread_mutex_lock(&b->lock);
    if (atomic_load(&b->state) == GENESIS_BREAKER_CLOSED) {
        b->consecutive = failed ? b->consecutive + 1 : 0;
        unsigned int n = p->breaker_consecutive_failures;
        if (n > 0 && b->consecutive >= n)
            trip(b, p, now, true, "consecutive requests failed after their retries", t);
    }
    pthread_mutex_unlock(&b->lock);
}

void gn_breaker_tick(gn_breaker *b, const genesis_policy *p, int64_t now, gn_breaker_transition *t)
{
    note(t, 0, 0, NULL, 0);
    int state = atomic_load(&b->state);
    if (state != GENESIS_BREAKER_OPEN && state != GENESIS_BREAKER_FORCED_OPEN &&
        state != GENESIS_BREAKER_HALF_OPEN)
        return;
    pthread_mutex_lock(&b->lock);
    timed_transitions(b, p, now, t);
    pthread_mutex_unlock(&b->lock);
}

void gn_breaker_rates(gn_breaker *b, const genesis_policy *p, int64_t now, uint64_t *calls,
                      double *failure_pct, double *slow_pct)
{
    unsigned int n, failures, slows;
    pthread_mutex_lock(&b->lock);
    window_totals(b, p, now, &n, &failures, &slows);
    pthread_mutex_unlock(&b->lock);
    *calls = n;
    bool decided = n > 0 && n >= p->breaker_min_calls;
    *failure_pct = decided ? 100.0 * failures / n : -1;
    *slow_pct = decided ? 100.0 * slows / n : -1;
}

uint64_t gn_breaker_recoveries(gn_breaker *b)
{
    return atomic_load(&b->recoveries);
}

void gn_breaker_recovered(gn_breaker *b, int64_t now, gn_breaker_transition *t)
{
    note(t, 0, 0, NULL, 0);
    atomic_fetch_add(&b->recoveries, 1);
    if (atomic_load(&b->state) != GENESIS_BREAKER_OPEN)
        return;
    pthread_mutex_lock(&b->lock);
    if (atomic_load(&b->state) == GENESIS_BREAKER_OPEN) {
        atomic_store(&b->open_until_ms, now);
        to_half_open(b, now, "the component recovered", t);
    }
    pthread_mutex_unlock(&b->lock);
}

int gn_breaker_force(gn_breaker *b, int state, int64_t now, gn_breaker_transition *t)
{
    note(t, 0, 0, NULL, 0);
    if (state != GENESIS_BREAKER_FORCED_OPEN && state != GENESIS_BREAKER_DISABLED &&
        state != GENESIS_BREAKER_CLOSED && state != GENESIS_BREAKER_METRICS_ONLY)
        return GENESIS_INVALID_ARGUMENT;
    pthread_mutex_lock(&b->lock);
    atomic_store(&b->forced_until_ms, 0);
    if (state == GENESIS_BREAKER_CLOSED) {
        b->level = 0;
        close_breaker(b, now, "reset by an operator", t);
    } else {
        window_clear(b);
        half_open_reset(b, now);
        b->consecutive = 0;
        set_state(b, state, t,
                  state == GENESIS_BREAKER_FORCED_OPEN ? "forced open by an operator"
                  : state == GENESIS_BREAKER_DISABLED  ? "disabled by an operator"
                                                       : "set to metrics only by an operator",
                  0);
    }
    pthread_mutex_unlock(&b->lock);
    return GENESIS_OK;
}

void gn_breaker_force_open(gn_breaker *b, uint32_t duration_ms, int64_t now,
                           gn_breaker_transition *t)
{
    gn_breaker_force(b, GENESIS_BREAKER_FORCED_OPEN, now, t);
    if (duration_ms > 0) {
        atomic_store(&b->forced_until_ms, gn_time_after(now, duration_ms));
        t->open_ms = duration_ms;
        t->cause = "forced open for a duration by an operator";
    }
}
