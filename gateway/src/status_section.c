/* The gateway's section of GET /v1/status (see status_section.h), with jansson. */
#include "status_section.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

char *gw_status_with_section(const char *doc, size_t n, const gw_status_section *s, size_t *out_len)
{
    json_t *root = json_loadb(doc, n, 0, NULL);
    json_t *gw = json_object();
    if (!json_is_object(root) || gw == NULL) {
        json_decref(root);
        json_decref(gw);
        return NULL;
    }
    json_object_set_new(gw, "connections", json_integer((json_int_t)s->connections));
    json_object_set_new(gw, "connection_cap", json_integer((json_int_t)s->connection_cap));
    json_object_set_new(gw, "connections_refused",
                        json_integer((json_int_t)s->connections_refused));
    json_object_set_new(gw, "websocket_sessions", json_integer((json_int_t)s->websocket_sessions));
    json_object_set_new(gw, "websocket_cap", json_integer((json_int_t)s->websocket_cap));
    json_object_set_new(root, "gateway", gw);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (text != NULL)
        *out_len = strlen(text);
    return text;
}
