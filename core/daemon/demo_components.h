/* The demo components, comp1 and comp2, registered in-process by genesisd --demo.
 *
 * Requests: "ping" replies "Pong from <id>" (text/plain); "echo" replies with the request's
 * payload and content type; "count" replies how many ping/echo requests it answered (its
 * state, checkpointed as "served=N" when genesisd has a --checkpoint-db and restored from
 * it); any other type fails with UNIMPLEMENTED. Events: each component
 * logs "<id> received event TYPE from SOURCE: DATA" at info level. */
#ifndef GENESISD_DEMO_COMPONENTS_H
#define GENESISD_DEMO_COMPONENTS_H

#include <genesis/genesis.h>

/* Register comp1 and comp2 on c. Event lines go to log(level, message, log_arg). The
 * components' state is static, so call this at most once per process. Returns a
 * genesis_status (the first failure; genesis_last_error() explains it). */
int demo_components_register(genesis_coordinator *c, genesis_log_fn log, void *log_arg);

/* On: log every request at debug level with its request id ("comp1 serves ping from client
 * request_id=42"). Any thread, any time. */
void demo_components_set_debug(int on);

#endif /* GENESISD_DEMO_COMPONENTS_H */
