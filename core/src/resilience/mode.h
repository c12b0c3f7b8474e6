/* Degradation modes (NORMAL / SAFE / EMERGENCY) from the fraction of unhealthy components,
 * with hysteresis, an operator override, and what each mode admits. Deterministic: the time
 * is an argument. Not thread-safe by itself: the coordinator serialises evaluations. */
#ifndef GN_MODE_H
#define GN_MODE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct gn_mode_config {
    unsigned int safe_pct;      /* unhealthy % above which SAFE */
    unsigned int emergency_pct; /* unhealthy % above which EMERGENCY */
    uint32_t hold_ms;           /* a lower mode must be warranted this long before stepping down */
} gn_mode_config;

typedef struct gn_mode_state {
    int current;            /* genesis_mode in force */
    int computed;           /* what the health alone says (differs under an override) */
    int forced;             /* GENESIS_MODE_AUTO, or the operator's mode */
    int64_t lower_since_ms; /* since when a lower mode has been warranted; -1: not */
} gn_mode_state;

void gn_mode_init(gn_mode_state *m);

/* The mode the fraction unhealthy/total warrants, ignoring hysteresis. */
int gn_mode_target(const gn_mode_config *cfg, unsigned int unhealthy, unsigned int total);

/* Evaluate at now; returns true when the mode in force changed (*from receives the old one). */
bool gn_mode_update(gn_mode_state *m, const gn_mode_config *cfg, unsigned int unhealthy,
                    unsigned int total, int64_t now_ms, int *from);

/* Force a mode or (GENESIS_MODE_AUTO) go back to the computed one; true when it changed. */
bool gn_mode_force(gn_mode_state *m, int mode, int *from);

/* Admission by criticality: SAFE sheds SHEDDABLE, EMERGENCY admits only CRITICAL. */
bool gn_mode_admits(int mode, int criticality);

/* Retries: SAFE and EMERGENCY retry only CRITICAL work. */
bool gn_mode_allows_retry(int mode, int criticality);

#endif /* GN_MODE_H */
