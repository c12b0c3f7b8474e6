/* genesisd's configuration keys (see daemon_config_keys.h). Keep docs/operating.md
 * ("Configuration file") in step: tests/integration/test_operate.c checks that every row is
 * documented there. */
#include "daemon_config_keys.h"

#include <string.h>

#define MS_MAX 86400000ull

const conf_key daemon_conf_keys[] = {
    /* listen */
    {"listen.front_door", "front-door", NULL, CONF_TEXT, 0, 0, NULL,
     "front door URL (REP), e.g. tcp://127.0.0.1:7400"},
    {"listen.event_bus", "events", NULL, CONF_TEXT, 0, 0, NULL, "event bus URL (PUB)"},
    {"listen.http", "http", NULL, CONF_TEXT, 0, 0, NULL, "embedded gateway HOST:PORT, or off"},
    {"listen.metrics", "metrics", NULL, CONF_TEXT, 0, 0, NULL,
     "/metrics, /healthz, /readyz on their own HOST:PORT (no auth), or off"},
    {"workers", "workers", NULL, CONF_UINT, 1, 1024, NULL, "worker threads started up front"},
    {"demo", "demo", NULL, CONF_SWITCH, 0, 0, NULL, "register the demo components comp1, comp2"},
    {"allow_faults", "allow-faults", NULL, CONF_SWITCH, 0, 0, NULL,
     "accept the admin 'fault' command (chaos runs only)"},
    /* logs */
    {"log.level", "log-level", NULL, CONF_CHOICE, 0, 0, "error|warn|info|debug",
     "messages above this level are dropped"},
    {"log.format", "log-format", NULL, CONF_CHOICE, 0, 0, "text|logfmt|json",
     "line format on stderr"},
    {"log.rate_limit", "log-rate-limit", NULL, CONF_UINT, 0, 1000000, NULL,
     "lines per second per message kind (0 = unlimited)"},
    /* checkpoints */
    {"checkpoint.db", "checkpoint-db", NULL, CONF_TEXT, 0, 0, NULL, "SQLite checkpoint store"},
    {"checkpoint.interval_ms", "checkpoint-interval", NULL, CONF_UINT, 1, MS_MAX, NULL,
     "snapshot changed in-process components this often"},
    {"checkpoint.generations", "checkpoint-generations", NULL, CONF_UINT, 1, MS_MAX, NULL,
     "generations kept per component"},
    /* cluster mode (docs/cluster.md) */
    {"cluster.nats", "cluster-nats", NULL, CONF_LIST, 0, 0, NULL,
     "NATS server URLs of the cluster (comma-separated or a list)"},
    {"cluster.node_id", "node-id", NULL, CONF_TEXT, 0, 0, NULL,
     "this node's id, unique in the cluster ([A-Za-z0-9_-])"},
    {"cluster.name", "cluster-name", NULL, CONF_TEXT, 0, 0, NULL,
     "prefix of the JetStream buckets"},
    {"cluster.replicas", "cluster-replicas", NULL, CONF_UINT, 1, 5, NULL,
     "copies of every bucket (at most the NATS servers)"},
    {"cluster.lease_ttl_ms", "cluster-lease-ttl", NULL, CONF_UINT, 1000, MS_MAX, NULL,
     "node lease time to live"},
    {"cluster.tls_ca", "cluster-tls-ca", NULL, CONF_TEXT, 0, 0, NULL,
     "PEM CA the NATS servers' certificates chain to"},
    {"cluster.tls_cert", "cluster-tls-cert", NULL, CONF_TEXT, 0, 0, NULL,
     "PEM client certificate towards NATS"},
    {"cluster.tls_key", "cluster-tls-key", NULL, CONF_TEXT, 0, 0, NULL, "its PEM private key"},
    {"cluster.events_max_age_ms", "cluster-events-max-age", NULL, CONF_UINT, 1000, 365 * MS_MAX,
     NULL, "events older than this leave the cluster's event streams"},
    {"cluster.events_max_bytes", "cluster-events-max-bytes", NULL, CONF_UINT, 65536, 1ull << 40,
     NULL, "bytes kept per event stream (the oldest events go first)"},
    /* resilience: the default policy, and per component */
    {"resilience.*", "policy", "%1=%v", CONF_UINT, 0, 4294967295ull, NULL,
     "default policy field (genesis/resilience.h)"},
    {"components.*.resilience.*", "component-policy", "%1:%2=%v", CONF_UINT, 0, 4294967295ull, NULL,
     "policy field of one component"},
    /* supervised components */
    {"components.*.command", "supervise", "%1=%v", CONF_TEXT, 0, 0, NULL,
     "launch and supervise this command as the component"},
    {"components.*.env", "supervise-env", "%1=%v", CONF_LIST, 0, 0, NULL,
     "KEY=VALUE environment entries of that child"},
    {"components.*.cwd", "supervise-cwd", "%1=%v", CONF_TEXT, 0, 0, NULL,
     "working directory of that child"},
    {"supervisor.restart_intensity", "restart-intensity", NULL, CONF_TEXT, 0, 0, NULL,
     "R/T: more than R restarts in T seconds marks a child FAILED"},
    {"supervisor.restart_backoff", "restart-backoff", NULL, CONF_TEXT, 0, 0, NULL,
     "MIN/MAX jittered restart backoff in ms"},
    {"supervisor.startup_ms", "supervise-startup-ms", NULL, CONF_UINT, 1, MS_MAX, NULL,
     "a child must register within this"},
    {"supervisor.hang_ms", "supervise-hang-ms", NULL, CONF_UINT, 1, MS_MAX, NULL,
     "a registered child DOWN this long is restarted"},
    /* the embedded gateway */
    {"gateway.tls_cert", "http-tls-cert", NULL, CONF_TEXT, 0, 0, NULL, "HTTPS/WSS PEM certificate"},
    {"gateway.tls_key", "http-tls-key", NULL, CONF_TEXT, 0, 0, NULL, "its PEM private key"},
    {"gateway.max_body", "max-body", NULL, CONF_UINT, 1, 64ull << 20, NULL,
     "largest request body in bytes"},
    {"gateway.max_header", "max-header", NULL, CONF_UINT, 256, 65535, NULL,
     "largest request header block in bytes"},
    {"gateway.max_ws_message", "max-ws-message", NULL, CONF_UINT, 1, 16ull << 20, NULL,
     "largest WebSocket message in bytes"},
    {"gateway.max_ws_clients", "max-ws-clients", NULL, CONF_UINT, 1, 100000, NULL,
     "WebSocket connections at most"},
    {"gateway.ws_queue", "ws-queue", NULL, CONF_UINT, 1, 1000000, NULL,
     "messages queued per WebSocket client"},
    {"gateway.ws_queue_bytes", "ws-queue-bytes", NULL, CONF_UINT, 1024, 1ull << 30, NULL,
     "bytes queued per WebSocket client"},
    {"gateway.ws_ping_s", "ws-ping", NULL, CONF_UINT, 1, 65535, NULL,
     "ping a quiet WebSocket after this many seconds"},
    {"gateway.ws_idle_s", "ws-idle", NULL, CONF_UINT, 1, 65535, NULL,
     "close a silent WebSocket after this many seconds"},
    {"gateway.keepalive_s", "http-keepalive", NULL, CONF_UINT, 1, 3600, NULL,
     "close idle keep-alive connections after this many seconds"},
    {"gateway.header_timeout_s", "header-timeout", NULL, CONF_UINT, 1, 3600, NULL,
     "headers and body must arrive within this many seconds"},
    {"gateway.request_timeout_ms", "request-timeout", NULL, CONF_UINT, 1, 3600000, NULL,
     "deadline of gateway requests that set none"},
    {"gateway.history_interval_ms", "history-interval", NULL, CONF_UINT, 0, 3600000, NULL,
     "sample the dashboard's history this often (180 samples kept; 0 = off)"},
    {"gateway.allowed_origins", "allowed-origin", NULL, CONF_LIST, 0, 0, NULL,
     "origins (scheme://host[:port], 'null', '*') whose pages may POST and open WebSockets"},
    {"gateway.allowed_hosts", "allowed-host", NULL, CONF_LIST, 0, 0, NULL,
     "names accepted in the Host header besides IP addresses and localhost"},
    /* auth */
    {"auth.file", "auth-file", NULL, CONF_TEXT, 0, 0, NULL,
     "bearer tokens: lines '<token> <scope>[,<scope>]'"},
    /* tls: mutual TLS of the front door, the bus and every core connection (tls+tcp://) */
    {"tls.ca", "tls-ca", NULL, CONF_TEXT, 0, 0, NULL,
     "PEM CA: only peers holding a certificate it signed connect"},
    {"tls.cert", "tls-cert", NULL, CONF_TEXT, 0, 0, NULL, "PEM certificate of this daemon"},
    {"tls.key", "tls-key", NULL, CONF_TEXT, 0, 0, NULL, "its PEM private key"},
};

const size_t daemon_conf_keys_count = sizeof(daemon_conf_keys) / sizeof(daemon_conf_keys[0]);

int daemon_conf_section_is_live(const char *section)
{
    return strcmp(section, "resilience") == 0 || strcmp(section, "components") == 0 ||
           strcmp(section, "log") == 0;
}
