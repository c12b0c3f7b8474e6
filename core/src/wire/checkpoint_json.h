/* The checkpoint and supervision fields of the status JSON document. */
#ifndef GN_CHECKPOINT_JSON_H
#define GN_CHECKPOINT_JSON_H

#include <jansson.h>

#include "genesis/proto/genesis.pb-c.h"

/* Add checkpoint: {generation, size, age_ms, written, failures, error} to a component. */
void gn_checkpoint_json_component(const Genesis__V1__ComponentStatus *cs, json_t *component);

/* Add checkpoints: {store, written, failures, corrupt} and supervised: [{id, state, pid,
 * restarts, last_exit, uptime_ms}] to the document. */
void gn_checkpoint_json_report(const Genesis__V1__StatusReport *r, json_t *doc);

#endif /* GN_CHECKPOINT_JSON_H */
