/* The phi accrual failure detector (see phi_accrual.h). */
#include "resilience/phi_accrual.h"

#include <math.h>

#define MEAN_GAIN 0.125 /* weight of a new sample in the mean (TCP's alpha) */
#define DEV_GAIN  0.25  /* ... and in the deviation (TCP's beta) */
#define PHI_MAX   1e9   /* "certainly gone": instead of infinity */

void gn_phi_params_for(gn_phi_params *p, uint32_t interval_ms, unsigned int misses)
{
    double pause = (double)interval_ms * (double)(misses > 0 ? misses : 1);
    p->threshold = GN_PHI_THRESHOLD;
    p->acceptable_pause_ms = pause > GN_PHI_MIN_PAUSE_MS ? pause : GN_PHI_MIN_PAUSE_MS;
    p->min_std_ms =
        interval_ms / 2.0 > GN_PHI_MIN_STD_FLOOR_MS ? interval_ms / 2.0 : GN_PHI_MIN_STD_FLOOR_MS;
}

void gn_phi_start(gn_phi *d, int64_t now_ms, uint32_t expected_interval_ms)
{
    d->last_ms = now_ms;
    d->mean_ms = expected_interval_ms > 0 ? expected_interval_ms : 1;
    d->dev_ms = d->mean_ms / 4.0;
    d->samples = 0;
}

void gn_phi_heartbeat(gn_phi *d, int64_t now_ms)
{
    double sample = now_ms > d->last_ms ? (double)(now_ms - d->last_ms) : 0.0;
    d->last_ms = now_ms > d->last_ms ? now_ms : d->last_ms;
    double err = sample - d->mean_ms;
    d->mean_ms += MEAN_GAIN * err;
    d->dev_ms += DEV_GAIN * (fabs(err) - d->dev_ms);
    if (d->samples < UINT32_MAX)
        d->samples++;
}

double gn_phi_value(const gn_phi *d, const gn_phi_params *p, int64_t now_ms)
{
    double silent = now_ms > d->last_ms ? (double)(now_ms - d->last_ms) : 0.0;
    double mean = d->mean_ms + p->acceptable_pause_ms;
    /* The mean absolute deviation of a normal distribution is 0.8 of its standard one. */
    double std = d->dev_ms * 1.25;
    if (std < p->min_std_ms)
        std = p->min_std_ms;
    double y = (silent - mean) / std;
    double e = exp(-y * (1.5976 + 0.070566 * y * y)); /* Akka's approximation of 1 - CDF */
    double phi;
    if (silent > mean)
        phi = -log10(e / (1.0 + e));
    else
        phi = -log10(1.0 - 1.0 / (1.0 + e));
    if (!(phi >= 0.0)) /* NaN or a rounding below zero */
        phi = silent > mean ? PHI_MAX : 0.0;
    return phi < PHI_MAX ? phi : PHI_MAX;
}

bool gn_phi_suspect(const gn_phi *d, const gn_phi_params *p, int64_t now_ms)
{
    return gn_phi_value(d, p, now_ms) > p->threshold;
}
