/* Rendering of a protobuf StatusReport as the JSON document of genesis_coordinator_status and
 * genesis_client_status. */
#ifndef GN_STATUS_JSON_H
#define GN_STATUS_JSON_H

#include "genesis/message.h"
#include "wire/wire.h"

/* A new OK result whose payload is the JSON text (application/json), or NULL on OOM. */
genesis_result *gn_status_report_json(const Genesis__V1__StatusReport *report);

#endif /* GN_STATUS_JSON_H */
