/* The circuit breaker (see breaker.h). */
#include <string.h>

#include "base/assert.h"
#include "resilience/breaker.h"
#include "genesis/status.h"

static void note(gn_breaker_transition *t, int from, int to, const char *cause, uint32_t open_ms)
{
    t->from = from;
    t->to = to;
    t->cause = cause;
    t->open_ms = open_ms;
}

static void window_clear(gn_breaker *b)
{
    memset(b->ring, 0, sizeof(b->ring));
    b->window_pos = b->window_n = b->window_failures = 0;
}

static void set_state(gn_breaker *b, int to, gn_breaker_transition *t, const char *cause,
                      uint32_t open_ms)
{
    GN_ASSERT(to >= GENESIS_BREAKER_CLOSED && to <= GENESIS_BREAKER_DISABLED);
    int from = atomic_load(&b->state);
    note(t, from, to, cause, open_ms);
    if (from == to)
        return;
    atomic_store(&b->state, to);
    atomic_fetch_add(&b->n_transitions, 1);
    if (to == GENESIS_BREAKER_OPEN)
        atomic_fetch_add(&b->n_opens, 1);
}

static uint32_t open_time(const genesis_policy *p, unsigned int level)
{
    uint64_t ms = p->breaker_open_ms;
    for (unsigned int i = 0; i < level && ms < p->breaker_open_max_ms; i++)
        ms *= 2;
    return ms < p->breaker_open_max_ms ? (uint32_t)ms : p->breaker_open_max_ms;
}

/* Under the lock. from_closed: a trip after a closed period (level decays if it stayed closed
 * for the cap); otherwise a re-trip from half-open (level grows). */
static void trip(gn_breaker *b, const genesis_policy *p, int64_t now, bool from_closed,
                 const char *cause, gn_breaker_transition *t)
{
    if (from_closed && now - b->closed_since_ms >= (int64_t)p->breaker_open_max_ms)
        b->level = 0;
    else if (!from_closed || b->level > 0)
        b->level += b->level < 16 ? 1 : 0;
    uint32_t ms = open_time(p, b->level);
    atomic_store(&b->open_until_ms, now + ms);
    b->n_leases = b->probe_successes = 0;
    b->consecutive = 0;
    window_clear(b);
    set_state(b, GENESIS_BREAKER_OPEN, t, cause, ms);
}

static void close_breaker(gn_breaker *b, int64_t now, const char *cause, gn_breaker_transition *t)
{
    window_clear(b);
    b->n_leases = b->probe_successes = 0;
    b->consecutive = 0;
    b->closed_since_ms = now;
    set_state(b, GENESIS_BREAKER_CLOSED, t, cause, 0);
}

void gn_breaker_init(gn_breaker *b, int64_t now_ms)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    atomic_init(&b->state, GENESIS_BREAKER_CLOSED);
    atomic_init(&b->open_until_ms, 0);
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
    bool free_slot = b->n_leases + b->probe_successes < p->breaker_half_open_probes;
    pthread_mutex_unlock(&b->lock);
    return free_slot;
}

bool gn_breaker_rejects(gn_breaker *b, int64_t now, uint32_t *retry_in_ms)
{
    *retry_in_ms = 0;
    int state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_FORCED_OPEN) {
        atomic_fetch_add(&b->n_fail_fast, 1);
        return true;
    }
    if (state != GENESIS_BREAKER_OPEN)
        return false;
    int64_t until = atomic_load(&b->open_until_ms);
    if (now >= until)
        return false; /* a probe is due: admission decides */
    atomic_fetch_add(&b->n_fail_fast, 1);
    *retry_in_ms = (uint32_t)(until - now);
    return true;
}

bool gn_breaker_admit(gn_breaker *b, const genesis_policy *p, int64_t now, uint32_t lease_ms,
                      uint64_t *lease, uint32_t *retry_in_ms, gn_breaker_transition *t)
{
    *lease = 0;
    *retry_in_ms = 0;
    note(t, 0, 0, NULL, 0);
    int state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_CLOSED || state == GENESIS_BREAKER_DISABLED)
        return true;
    if (state == GENESIS_BREAKER_FORCED_OPEN) {
        atomic_fetch_add(&b->n_fail_fast, 1);
        return false;
    }
    if (state == GENESIS_BREAKER_OPEN) {
        int64_t until = atomic_load(&b->open_until_ms);
        if (now < until) {
            atomic_fetch_add(&b->n_fail_fast, 1);
            *retry_in_ms = (uint32_t)(until - now);
            return false;
        }
    }
    pthread_mutex_lock(&b->lock);
    state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_OPEN && now >= atomic_load(&b->open_until_ms)) {
        b->n_leases = b->probe_successes = 0;
        set_state(b, GENESIS_BREAKER_HALF_OPEN, t, "open time elapsed", 0);
        state = GENESIS_BREAKER_HALF_OPEN;
    }
    bool admitted = state == GENESIS_BREAKER_CLOSED || state == GENESIS_BREAKER_DISABLED;
    if (state == GENESIS_BREAKER_HALF_OPEN) {
        /* Lapsed leases are probes whose outcome never came back: free their slots. */
        for (unsigned int i = 0; i < b->n_leases;) {
            if (b->leases[i].expires_ms <= now)
                b->leases[i] = b->leases[--b->n_leases];
            else
                i++;
        }
        unsigned int probes = p->breaker_half_open_probes;
        if (probes > GN_BREAKER_MAX_PROBES)
            probes = GN_BREAKER_MAX_PROBES;
        if (b->n_leases + b->probe_successes < probes) {
            *lease = b->next_lease++;
            b->leases[b->n_leases].id = *lease;
            b->leases[b->n_leases].expires_ms = now + lease_ms;
            b->n_leases++;
            admitted = true;
        }
    }
    pthread_mutex_unlock(&b->lock);
    if (!admitted) {
        atomic_fetch_add(&b->n_fail_fast, 1);
        if (state == GENESIS_BREAKER_OPEN) {
            int64_t left = atomic_load(&b->open_until_ms) - now;
            *retry_in_ms = left > 0 ? (uint32_t)left : 0;
        }
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

void gn_breaker_record(gn_breaker *b, const genesis_policy *p, uint64_t lease, bool failed,
                       int64_t now, gn_breaker_transition *t)
{
    note(t, 0, 0, NULL, 0);
    int state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_DISABLED || state == GENESIS_BREAKER_FORCED_OPEN)
        return;
    pthread_mutex_lock(&b->lock);
    state = atomic_load(&b->state);
    if (state == GENESIS_BREAKER_HALF_OPEN && lease != 0 && take_lease(b, lease)) {
        if (failed) {
            trip(b, p, now, false, "a half-open probe failed", t);
        } else {
            unsigned int probes = p->breaker_half_open_probes;
            if (probes > GN_BREAKER_MAX_PROBES)
                probes = GN_BREAKER_MAX_PROBES;
            if (++b->probe_successes >= probes)
                close_breaker(b, now, "half-open probes succeeded", t);
        }
    } else if (state == GENESIS_BREAKER_CLOSED && lease == 0) {
        unsigned int window = p->breaker_window;
        if (window > GN_BREAKER_MAX_WINDOW)
            window = GN_BREAKER_MAX_WINDOW;
        if (window == 0)
            window = 1;
        /* A smaller window after a policy change: start the ring over. */
        if (b->window_n > window || b->window_pos >= window)
            window_clear(b);
        unsigned int pos = b->window_pos;
        uint64_t bit = 1ull << (pos % 64);
        if (b->window_n == window) {
            if (b->ring[pos / 64] & bit)
                b->window_failures--;
        } else {
            b->window_n++;
        }
        if (failed) {
            b->ring[pos / 64] |= bit;
            b->window_failures++;
        } else {
            b->ring[pos / 64] &= ~bit;
        }
        b->window_pos = (pos + 1) % window;
        unsigned int rate = p->breaker_failure_rate_pct;
        if (rate > 0 && b->window_n >= p->breaker_min_calls &&
            (uint64_t)b->window_failures * 100 >= (uint64_t)rate * b->window_n)
            trip(b, p, now, true, "failure rate over the window reached the threshold", t);
    }
    /* OPEN, or a late outcome from an earlier epoch: nothing to learn. */
    pthread_mutex_unlock(&b->lock);
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

void gn_breaker_recovered(gn_breaker *b, int64_t now, gn_breaker_transition *t)
{
    note(t, 0, 0, NULL, 0);
    if (atomic_load(&b->state) != GENESIS_BREAKER_OPEN)
        return;
    pthread_mutex_lock(&b->lock);
    if (atomic_load(&b->state) == GENESIS_BREAKER_OPEN) {
        atomic_store(&b->open_until_ms, now);
        b->n_leases = b->probe_successes = 0;
        set_state(b, GENESIS_BREAKER_HALF_OPEN, t, "the component recovered", 0);
    }
    pthread_mutex_unlock(&b->lock);
}

int gn_breaker_force(gn_breaker *b, int state, int64_t now, gn_breaker_transition *t)
{
    note(t, 0, 0, NULL, 0);
    if (state != GENESIS_BREAKER_FORCED_OPEN && state != GENESIS_BREAKER_DISABLED &&
        state != GENESIS_BREAKER_CLOSED)
        return GENESIS_INVALID_ARGUMENT;
    pthread_mutex_lock(&b->lock);
    if (state == GENESIS_BREAKER_CLOSED) {
        b->level = 0;
        close_breaker(b, now, "reset by an operator", t);
    } else {
        window_clear(b);
        b->n_leases = b->probe_successes = 0;
        b->consecutive = 0;
        set_state(b, state, t,
                  state == GENESIS_BREAKER_FORCED_OPEN ? "forced open by an operator"
                                                       : "disabled by an operator",
                  0);
    }
    pthread_mutex_unlock(&b->lock);
    return GENESIS_OK;
}
