/* The gateway's internal entry points behind the public genesis/gateway.h (gateway_api.c
 * wraps them): the same operations with the reason of a failure written into a caller's
 * buffer. genesis_gateway_options is gw_config inside the library. */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include <genesis/gateway.h>
#include <genesis/genesis.h>

typedef struct genesis_gateway gw_gateway;
typedef genesis_gateway_options gw_config;

/* Defaults (see genesis_gateway_options). */
void gw_config_init(gw_config *cfg);

/* Create the gateway: load the tokens, dial the coordinator, bind the port. Returns a
 * genesis status; on failure why holds the reason and *out is NULL. */
int gw_new(gw_gateway **out, const gw_config *cfg, char *why, size_t why_size);

/* Start serving on the libwebsockets service thread. */
int gw_start(gw_gateway *gw, char *why, size_t why_size);

/* The bound port. */
int gw_port(const gw_gateway *gw);

/* "http://host:port" or "https://host:port" into buf. */
void gw_url(const gw_gateway *gw, char *buf, size_t size);

/* Stop serving, close every connection, join the threads and free. Accepts NULL. */
void gw_free(gw_gateway *gw);

#endif /* GW_GATEWAY_H */
