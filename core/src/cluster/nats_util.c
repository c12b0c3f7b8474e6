/* natsStatus -> Genesis status, and KV key encoding (nats_util.h). */
#include "cluster/nats_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genesis/status.h"

bool gn_nats_unreachable(natsStatus s, natsConnection *nc)
{
    switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_IO_ERROR:
    case NATS_STALE_CONNECTION:
        return true;
    default:
        break;
    }
    return nc != NULL && natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED;
}

int gn_nats_fail(natsStatus s, natsConnection *nc, const char *what, char *msg, size_t size)
{
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last);
    if (text == NULL || text[0] == '\0')
        text = natsStatus_GetText(s);
    /* "JetStream system temporarily unavailable": no leader yet (an election under way). */
    bool down = gn_nats_unreachable(s, nc) || strstr(text, "temporarily unavailable") != NULL;
    snprintf(msg, size, "%s: %s%s", what, text,
             down ? " (NATS unavailable: not acknowledged by the cluster)" : "");
    return down ? GENESIS_UNAVAILABLE : GENESIS_INTERNAL;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

kvWatchOptions gn_kv_watch_bounded(int64_t timeout_ms)
{
    kvWatchOptions o;
    kvWatchOptions_Init(&o);
    o.Timeout = timeout_ms > 0 ? timeout_ms : 1;
    return o;
}

void gn_kv_keys_unique(kvKeysList *keys)
{
    if (keys->Count < 2)
        return;
    qsort(keys->Keys, (size_t)keys->Count, sizeof(*keys->Keys), by_key);
    int n = 1;
    for (int i = 1; i < keys->Count; i++) {
        if (strcmp(keys->Keys[i], keys->Keys[n - 1]) == 0)
            free(keys->Keys[i]);
        else
            keys->Keys[n++] = keys->Keys[i];
    }
    keys->Count = n;
}

bool gn_kv_key(char *buf, size_t size, const char *prefix, const char *id)
{
    size_t n = strlen(prefix);
    if (n + strlen(id) + 1 > size)
        return false;
    memcpy(buf, prefix, n);
    for (const char *p = id; *p != '\0'; p++)
        buf[n++] = *p == '.' ? '=' : *p;
    buf[n] = '\0';
    return true;
}

bool gn_kv_key_id(char *buf, size_t size, const char *prefix, const char *key)
{
    size_t n = strlen(prefix);
    if (strncmp(key, prefix, n) != 0 || strlen(key + n) + 1 > size || key[n] == '\0')
        return false;
    size_t i = 0;
    for (const char *p = key + n; *p != '\0'; p++)
        buf[i++] = *p == '=' ? '.' : *p;
    buf[i] = '\0';
    return true;
}
