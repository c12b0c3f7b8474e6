/* Resilience policies: defaults, validation, the table of per-component policies (kept for
 * ids that are not registered yet), and applying a change to live components without
 * resetting their breaker, budget or in-flight work. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/coordinator_impl.h"

typedef struct gn_policy_entry {
    char *id;
    genesis_policy policy;
} gn_policy_entry;

/* Bytes of genesis_policy as a caller built for that version knows it; 0 = unknown. */
static size_t policy_size(unsigned int version)
{
    if (version == 1)
        return offsetof(genesis_policy, breaker_slow_call_rate_pct);
    return version == GENESIS_POLICY_VERSION ? sizeof(genesis_policy) : 0;
}

/* The statuses counted as failures unless a policy says otherwise. */
#define DEFAULT_FAILURE_STATUSES                                                                   \
    ((1u << GENESIS_UNKNOWN) | (1u << GENESIS_DEADLINE_EXCEEDED) | (1u << GENESIS_INTERNAL) |      \
     (1u << GENESIS_UNAVAILABLE) | (1u << GENESIS_DATA_LOSS))

static void policy_defaults(genesis_policy *p)
{
    *p = (genesis_policy){
        .version = GENESIS_POLICY_VERSION,
        .per_try_timeout_ms = 2000,
        .max_attempts = 5,
        .backoff_initial_ms = 100,
        .backoff_multiplier_pct = 200,
        .backoff_max_ms = 2000,
        .budget_max_tokens = 60,
        .budget_token_ratio_pct = 100,
        .breaker_failure_rate_pct = 60,
        .breaker_window = 100,
        .breaker_min_calls = 50,
        .breaker_consecutive_failures = 3,
        .breaker_slow_call_ms = 0,
        .breaker_open_ms = 10000,
        .breaker_open_max_ms = 60000,
        .breaker_half_open_probes = 1,
        .max_concurrency = 16,
        .max_queued = 50,
        .queue_warn = 40,
        .breaker_active_probe = 1,
        .breaker_failure_statuses = DEFAULT_FAILURE_STATUSES,
        .breaker_open_multiplier_pct = 200,
    };
}

int genesis_policy_init(genesis_policy *p, unsigned int version)
{
    gn_clear_error();
    size_t size = policy_size(version);
    if (p == NULL || size == 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "policy: NULL or unknown version %u (knows 1..%u)",
                       version, GENESIS_POLICY_VERSION);
    genesis_policy full;
    policy_defaults(&full);
    full.version = version;
    memcpy(p, &full, size); /* a version 1 caller's struct is shorter */
    return GENESIS_OK;
}

int gn_policy_upgrade(const genesis_policy *in, genesis_policy *out)
{
    size_t size = policy_size(in->version);
    if (size == 0)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "policy: unknown version %u (knows 1..%u)",
                       in->version, GENESIS_POLICY_VERSION);
    policy_defaults(out);
    memcpy(out, in, size);
    out->version = GENESIS_POLICY_VERSION;
    return GENESIS_OK;
}

/* GENESIS_OK, or GENESIS_INVALID_ARGUMENT with the offending field in genesis_last_error. */
static int policy_validate(const genesis_policy *p)
{
#define REQUIRE(cond, what)                                                                        \
    if (!(cond))                                                                                   \
    return gn_fail(GENESIS_INVALID_ARGUMENT, "policy: %s", what)
    /* version is set by genesis_policy_init or copied with the whole struct. */
    // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
    REQUIRE(p->version == GENESIS_POLICY_VERSION, "unknown version");
    REQUIRE(p->per_try_timeout_ms > 0, "per_try_timeout_ms must be > 0");
    REQUIRE(p->max_attempts >= 1 && p->max_attempts <= 100, "max_attempts must be 1..100");
    REQUIRE(p->backoff_multiplier_pct >= 100 && p->backoff_multiplier_pct <= 1000,
            "backoff_multiplier_pct must be 100..1000");
    REQUIRE(p->backoff_initial_ms <= p->backoff_max_ms,
            "backoff_initial_ms must not exceed backoff_max_ms");
    REQUIRE(p->budget_token_ratio_pct <= 10000, "budget_token_ratio_pct must be <= 10000");
    REQUIRE(p->budget_max_tokens <= 1000000, "budget_max_tokens must be <= 1000000");
    REQUIRE(p->breaker_failure_rate_pct <= 100, "breaker_failure_rate_pct must be 0..100");
    REQUIRE(p->breaker_window >= 1 && p->breaker_window <= GN_BREAKER_MAX_WINDOW,
            "breaker_window must be 1..1024");
    REQUIRE(p->breaker_window_ms > 0 || p->breaker_min_calls <= p->breaker_window,
            "breaker_min_calls must not exceed breaker_window (with a count window)");
    REQUIRE(p->breaker_slow_call_rate_pct <= 100, "breaker_slow_call_rate_pct must be 0..100");
    REQUIRE(p->breaker_window_ms == 0 || p->breaker_window_ms >= 10,
            "breaker_window_ms must be 0 (count window) or >= 10");
    REQUIRE(p->breaker_half_open_rate_pct <= 100, "breaker_half_open_rate_pct must be 0..100");
    REQUIRE(p->breaker_active_probe <= 1, "breaker_active_probe must be 0 or 1");
    REQUIRE((p->breaker_failure_statuses & 1u) == 0,
            "breaker_failure_statuses must not contain OK (bit 0)");
    REQUIRE(p->breaker_open_multiplier_pct >= 100 && p->breaker_open_multiplier_pct <= 1000,
            "breaker_open_multiplier_pct must be 100..1000");
    REQUIRE(p->adaptive_concurrency <= 2, "adaptive_concurrency must be 0 (off), 1 or 2");
    REQUIRE(p->hedge_percentile == 0 || (p->hedge_percentile >= 50 && p->hedge_percentile <= 99),
            "hedge_percentile must be 0 (off) or 50..99");
    REQUIRE(p->breaker_open_ms > 0 && p->breaker_open_ms <= p->breaker_open_max_ms,
            "breaker_open_ms must be > 0 and <= breaker_open_max_ms");
    REQUIRE(p->breaker_half_open_probes >= 1 &&
                p->breaker_half_open_probes <= GN_BREAKER_MAX_PROBES,
            "breaker_half_open_probes must be 1..16");
    REQUIRE(p->max_concurrency >= 1 && p->max_concurrency <= 65536,
            "max_concurrency must be 1..65536");
    REQUIRE(p->max_queued <= 1000000, "max_queued must be <= 1000000");
#undef REQUIRE
    return GENESIS_OK;
}

int genesis_policy_validate(const genesis_policy *p)
{
    gn_clear_error();
    if (p == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "policy: NULL");
    genesis_policy full;
    if (gn_policy_upgrade(p, &full) != GENESIS_OK)
        return GENESIS_INVALID_ARGUMENT;
    return policy_validate(&full);
}

/* Under co->policy_lock. */
static gn_policy_entry *find_entry(genesis_coordinator *co, const char *id)
{
    for (size_t i = 0; i < co->n_policies; i++)
        if (strcmp(co->policies[i].id, id) == 0)
            return &co->policies[i];
    return NULL;
}

static void apply_to_component(gn_component *comp, const genesis_policy *p, bool own)
{
    pthread_mutex_lock(&comp->policy_lock);
    comp->policy = *p;
    comp->own_policy = own;
    pthread_mutex_unlock(&comp->policy_lock);
    if (comp->kind == GN_INPROC)
        gn_lane_set_limits(&comp->requests, p->max_concurrency, p->max_queued);
}

void gn_component_policy(gn_component *comp, genesis_policy *out)
{
    pthread_mutex_lock(&comp->policy_lock);
    *out = comp->policy;
    pthread_mutex_unlock(&comp->policy_lock);
}

void gn_component_resilience_init(gn_component *comp)
{
    genesis_coordinator *co = comp->co;
    pthread_mutex_init(&comp->policy_lock, NULL);
    gn_fault_state_init(&comp->fault);
    atomic_init(&comp->stuck, 0);
    atomic_init(&comp->probing, false);
    atomic_init(&comp->n_active_probes, 0);
    pthread_mutex_lock(&co->policy_lock);
    gn_policy_entry *e = find_entry(co, comp->id);
    comp->policy = e != NULL ? e->policy : co->default_policy;
    comp->own_policy = e != NULL;
    pthread_mutex_unlock(&co->policy_lock);
    gn_breaker_init(&comp->breaker, gn_clock(co));
    gn_climit_init(&comp->climit, comp->policy.max_concurrency);
    gn_budget_init(&comp->budget, &comp->policy);
    gn_latency_init(&comp->latency);
}

void gn_component_resilience_destroy(gn_component *comp)
{
    gn_breaker_destroy(&comp->breaker);
    gn_climit_destroy(&comp->climit);
    gn_fault_state_destroy(&comp->fault);
    pthread_mutex_destroy(&comp->policy_lock);
}

int genesis_coordinator_set_policy(genesis_coordinator *co, const char *id,
                                   const genesis_policy *policy)
{
    gn_clear_error();
    if (co == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "set_policy: NULL coordinator");
    if (id == NULL && policy == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "set_policy: the default cannot be removed");
    if (id != NULL && !gn_valid_id(id))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "set_policy: invalid component id");
    genesis_policy full;
    if (policy != NULL) {
        if (gn_policy_upgrade(policy, &full) != GENESIS_OK)
            return GENESIS_INVALID_ARGUMENT;
        int rv = policy_validate(&full);
        if (rv != GENESIS_OK)
            return rv;
        policy = &full;
    }
    pthread_mutex_lock(&co->policy_lock);
    int rv = GENESIS_OK;
    if (id == NULL) {
        co->default_policy = *policy;
    } else {
        gn_policy_entry *e = find_entry(co, id);
        if (policy == NULL && e != NULL) {
            free(e->id);
            *e = co->policies[--co->n_policies];
        } else if (policy != NULL && e != NULL) {
            e->policy = *policy;
        } else if (policy != NULL) {
            if (co->n_policies >= co->opts.max_components) {
                rv = gn_fail(GENESIS_RESOURCE_EXHAUSTED,
                             "set_policy: %u own policies (max_components) already",
                             co->opts.max_components);
            } else if (co->n_policies == co->cap_policies) {
                size_t cap = co->cap_policies ? co->cap_policies * 2 : 16;
                gn_policy_entry *grown = realloc(co->policies, cap * sizeof(*grown));
                if (grown == NULL)
                    rv = gn_fail(GENESIS_RESOURCE_EXHAUSTED, "set_policy: out of memory");
                else {
                    co->policies = grown;
                    co->cap_policies = cap;
                }
            }
            char *copy = rv == GENESIS_OK ? gn_strdup(id) : NULL;
            if (rv == GENESIS_OK && copy == NULL)
                rv = gn_fail(GENESIS_RESOURCE_EXHAUSTED, "set_policy: out of memory");
            if (rv == GENESIS_OK)
                co->policies[co->n_policies++] = (gn_policy_entry){copy, *policy};
        }
    }
    genesis_policy def = co->default_policy;
    pthread_mutex_unlock(&co->policy_lock);
    if (rv != GENESIS_OK)
        return rv;

    /* Live components: the named one, or (default changed) every one without its own. */
    if (id != NULL) {
        gn_component *comp = gn_registry_lookup(co->registry, id);
        if (comp != NULL) {
            apply_to_component(comp, policy != NULL ? policy : &def, policy != NULL);
            gn_component_release(comp);
        }
        return GENESIS_OK;
    }
    size_t cap = gn_registry_count(co->registry) + 16;
    void **all = malloc(cap * sizeof(*all));
    if (all == NULL)
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "set_policy: out of memory");
    size_t n = gn_registry_snapshot(co->registry, all, cap);
    for (size_t i = 0; i < n; i++) {
        gn_component *comp = all[i];
        pthread_mutex_lock(&comp->policy_lock);
        bool own = comp->own_policy;
        pthread_mutex_unlock(&comp->policy_lock);
        if (!own)
            apply_to_component(comp, &def, false);
        gn_component_release(comp);
    }
    free(all);
    return GENESIS_OK;
}

int genesis_coordinator_get_policy(genesis_coordinator *co, const char *id, genesis_policy *out)
{
    gn_clear_error();
    if (co == NULL || out == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "get_policy: NULL argument");
    pthread_mutex_lock(&co->policy_lock);
    gn_policy_entry *e = id != NULL ? find_entry(co, id) : NULL;
    genesis_policy full = e != NULL ? e->policy : co->default_policy;
    pthread_mutex_unlock(&co->policy_lock);
    /* A caller built for version 1 has the shorter struct (and may not set the version). */
    size_t size = out->version == GENESIS_POLICY_VERSION ? sizeof(full) : policy_size(1);
    full.version = out->version == GENESIS_POLICY_VERSION ? GENESIS_POLICY_VERSION : 1;
    memcpy(out, &full, size);
    return GENESIS_OK;
}

/* ---- set-up --------------------------------------------------------------------------- */

static int parse_critical_types(genesis_coordinator *co, const char *list)
{
    for (const char *s = list; *s != '\0';) {
        const char *end = strchr(s, ',');
        size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
        if (len > 0) {
            char **grown = realloc(co->critical_types, (co->n_critical_types + 1) * sizeof(*grown));
            char *type = grown != NULL ? malloc(len + 1) : NULL;
            if (grown != NULL)
                co->critical_types = grown;
            if (type == NULL)
                return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "coordinator_new: out of memory");
            memcpy(type, s, len);
            type[len] = '\0';
            if (!gn_valid_type(type)) {
                free(type);
                return gn_fail(GENESIS_INVALID_ARGUMENT,
                               "critical_types: '%.*s' is not a valid request type", (int)len, s);
            }
            co->critical_types[co->n_critical_types++] = type;
        }
        s += len + (end != NULL ? 1 : 0);
    }
    return GENESIS_OK;
}

int gn_effective_criticality(genesis_coordinator *co, const char *type, int criticality)
{
    if (criticality == GENESIS_CRITICALITY_CRITICAL)
        return criticality;
    for (size_t i = 0; i < co->n_critical_types; i++)
        if (strcmp(co->critical_types[i], type) == 0)
            return GENESIS_CRITICALITY_CRITICAL;
    return criticality == GENESIS_CRITICALITY_SHEDDABLE ? criticality : GENESIS_CRITICALITY_DEFAULT;
}

int gn_resilience_init(genesis_coordinator *co, const genesis_coordinator_options *o)
{
    pthread_mutex_init(&co->policy_lock, NULL);
    pthread_mutex_init(&co->mode_lock, NULL);
    gn_mode_init(&co->mode);
    atomic_init(&co->mode_now, GENESIS_MODE_NORMAL);
    co->mode_cfg = (gn_mode_config){
        .safe_pct = o->safe_mode_pct > 0 ? o->safe_mode_pct : 20,
        .emergency_pct = o->emergency_mode_pct > 0 ? o->emergency_mode_pct : 50,
        .hold_ms = o->mode_hold_ms > 0 ? o->mode_hold_ms : 2000,
    };
    atomic_init(&co->rng_state,
                (uint64_t)gn_wall_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)co);
    if (co->mode_cfg.safe_pct > 100 || co->mode_cfg.emergency_pct > 100 ||
        co->mode_cfg.safe_pct > co->mode_cfg.emergency_pct)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "coordinator options: safe_mode_pct %u and emergency_mode_pct %u must be "
                       "<= 100 and in that order",
                       co->mode_cfg.safe_pct, co->mode_cfg.emergency_pct);
    if (o->default_policy != NULL) {
        if (gn_policy_upgrade(o->default_policy, &co->default_policy) != GENESIS_OK)
            return GENESIS_INVALID_ARGUMENT;
        int rv = policy_validate(&co->default_policy);
        if (rv != GENESIS_OK)
            return rv;
    } else {
        policy_defaults(&co->default_policy);
        co->default_policy.max_concurrency = o->max_concurrency;
        co->default_policy.max_queued = o->max_queued_requests;
        if (co->default_policy.queue_warn >= o->max_queued_requests)
            co->default_policy.queue_warn = o->max_queued_requests * 4 / 5;
    }
    return parse_critical_types(co, o->critical_types != NULL ? o->critical_types : "ping,status");
}

void gn_resilience_free(genesis_coordinator *co)
{
    for (size_t i = 0; i < co->n_policies; i++)
        free(co->policies[i].id);
    free(co->policies);
    for (size_t i = 0; i < co->n_critical_types; i++)
        free(co->critical_types[i]);
    free(co->critical_types);
    pthread_mutex_destroy(&co->mode_lock);
    pthread_mutex_destroy(&co->policy_lock);
}
