/* The thread that feeds the gateway's history (history.h) from the coordinator. */
#ifndef GW_HISTORY_SAMPLER_H
#define GW_HISTORY_SAMPLER_H

#include "history.h"

struct genesis_gateway;

/* Start sampling gw->history every cfg.history_interval_ms (nothing when it has none).
 * 0, or -1 when the thread cannot start. */
int gw_sampler_start(struct genesis_gateway *gw);

/* Stop and join the sampler (before the client it uses is freed). */
void gw_sampler_stop(struct genesis_gateway *gw);

#endif /* GW_HISTORY_SAMPLER_H */
