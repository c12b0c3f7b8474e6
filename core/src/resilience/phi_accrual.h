/* The phi accrual failure detector (Hayashibara et al. 2004, as in Akka and Cassandra), on
 * the observed heartbeat inter-arrival times of one remote instance.
 *
 * phi is the suspicion that the instance is gone, given how long it has been silent and how
 * regularly it heartbeated so far: phi = -log10(P(a heartbeat arrives later than now)), with
 * the inter-arrival times taken as normally distributed (Akka's logistic approximation of
 * the normal CDF). phi 1 means a 10 % chance of a false verdict, 8 about one in 10^8.
 *
 * The mean and deviation are exponentially weighted (like TCP's round-trip estimator): no
 * window of samples to store per instance. acceptable_pause_ms is added to the mean: a
 * silence that long (a garbage collection, CPU throttling, a SIGSTOP) is absorbed whatever
 * the history. min_std_ms keeps perfectly regular heartbeats from making phi jump at the
 * first late one.
 *
 * Pure functions: every time is an argument (the coordinator passes its injectable clock),
 * so the tests drive it with exact timestamps. Not thread-safe: the caller locks. */
#ifndef GN_PHI_ACCRUAL_H
#define GN_PHI_ACCRUAL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct gn_phi_params {
    double threshold;           /* suspect above this phi */
    double min_std_ms;          /* floor of the standard deviation */
    double acceptable_pause_ms; /* silence added to the mean inter-arrival time */
} gn_phi_params;

typedef struct gn_phi {
    int64_t last_ms;  /* arrival of the last heartbeat (or the start) */
    double mean_ms;   /* weighted mean inter-arrival time */
    double dev_ms;    /* weighted mean absolute deviation from it */
    uint32_t samples; /* heartbeats seen (saturating) */
} gn_phi;

#define GN_PHI_THRESHOLD        8.0 /* Akka's and Cassandra's default */
#define GN_PHI_MIN_PAUSE_MS     500 /* a pause this long is never a verdict */
#define GN_PHI_MIN_STD_FLOOR_MS 50

/* Parameters for heartbeats every interval_ms, where the coordinator was configured to
 * tolerate `misses` missed ones: acceptable pause max(GN_PHI_MIN_PAUSE_MS, interval * misses),
 * minimum deviation max(interval / 2, GN_PHI_MIN_STD_FLOOR_MS): the scheduling noise of a
 * loaded machine, whatever the interval. */
void gn_phi_params_for(gn_phi_params *p, uint32_t interval_ms, unsigned int misses);

/* Start watching at now_ms, expecting a heartbeat every expected_interval_ms. */
void gn_phi_start(gn_phi *d, int64_t now_ms, uint32_t expected_interval_ms);

/* A heartbeat arrived at now_ms. */
void gn_phi_heartbeat(gn_phi *d, int64_t now_ms);

/* The suspicion at now_ms (0 .. a large number; never NaN). */
double gn_phi_value(const gn_phi *d, const gn_phi_params *p, int64_t now_ms);

/* gn_phi_value(...) > p->threshold. */
bool gn_phi_suspect(const gn_phi *d, const gn_phi_params *p, int64_t now_ms);

#endif /* GN_PHI_ACCRUAL_H */
