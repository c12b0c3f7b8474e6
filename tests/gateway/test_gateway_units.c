/* The gateway's pure pieces: the gRPC -> HTTP mapping, the route table, request JSON parsing,
 * token files, and the Prometheus rendering of a status report (mode and breaker gauges when
 * present, absent when not), and gzip for the RPC protocols (the accept lists, the size bound
 * of decompression, several gzip members, data that is not gzip). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "auth.h"
#include "cross_site.h"
#include "dashboard.h"
#include "gzip_codec.h"
#include "gt_assert.h"
#include "gt_tempdir.h"
#include "json_map.h"
#include "listen_addr.h"
#include "metrics.h"
#include "routes.h"
#include "tls_hello.h"

#include <openssl/ssl.h>

static void test_http_status_mapping(void **state)
{
    static const int want[][2] = {
        {GENESIS_OK, 200},
        {GENESIS_CANCELLED, 499},
        {GENESIS_UNKNOWN, 500},
        {GENESIS_INVALID_ARGUMENT, 400},
        {GENESIS_DEADLINE_EXCEEDED, 504},
        {GENESIS_NOT_FOUND, 404},
        {GENESIS_ALREADY_EXISTS, 409},
        {GENESIS_PERMISSION_DENIED, 403},
        {GENESIS_RESOURCE_EXHAUSTED, 429},
        {GENESIS_FAILED_PRECONDITION, 400},
        {GENESIS_ABORTED, 409},
        {GENESIS_OUT_OF_RANGE, 400},
        {GENESIS_UNIMPLEMENTED, 501},
        {GENESIS_INTERNAL, 500},
        {GENESIS_UNAVAILABLE, 503},
        {GENESIS_DATA_LOSS, 500},
        {GENESIS_UNAUTHENTICATED, 401},
        {99, 500},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(gw_http_status(want[i][0], GENESIS_REASON_NONE), want[i][1]);
    assert_int_equal(gw_http_status(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_MESSAGE_TOO_LARGE),
                     413);
    assert_int_equal(gw_http_status(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_BULKHEAD_FULL), 429);
    assert_string_equal(gw_connect_code(GENESIS_NOT_FOUND), "not_found");
    assert_string_equal(gw_connect_code(GENESIS_CANCELLED), "canceled");
    assert_string_equal(gw_connect_code(-1), "unknown");
}

static void test_routes(void **state)
{
    char id[129];
    int allowed = 0;
    assert_int_equal(gw_route_match("/v1/components/comp1/request", id, &allowed),
                     GW_ROUTE_COMPONENT_REQUEST);
    assert_string_equal(id, "comp1");
    assert_int_equal(allowed, GW_METHOD_POST);
    assert_int_equal(gw_route_match("/request/comp2", id, &allowed), GW_ROUTE_LEGACY_REQUEST);
    assert_string_equal(id, "comp2");
    assert_int_equal(gw_route_match("/metrics", id, &allowed), GW_ROUTE_METRICS);
    assert_int_equal(allowed, GW_METHOD_GET);
    assert_int_equal(gw_route_match("/v1/admin/mode", id, &allowed), GW_ROUTE_ADMIN);
    assert_int_equal(gw_route_match("/v1/admin/components/comp1/breaker", id, &allowed),
                     GW_ROUTE_ADMIN_BREAKER);
    assert_string_equal(id, "comp1");
    assert_int_equal(gw_route_match("/v1/admin/components/c/policy", id, &allowed),
                     GW_ROUTE_ADMIN_POLICY);
    assert_int_equal(gw_route_match("/v1/admin/components/c/fault", id, &allowed),
                     GW_ROUTE_ADMIN_FAULT);
    assert_int_equal(gw_route_match("/v1/admin/components//fault", id, &allowed), GW_ROUTE_UNKNOWN);
    assert_int_equal(gw_route_match("/v1/admin/breaker", id, &allowed), GW_ROUTE_UNKNOWN);
    assert_true(gw_route_is_admin(GW_ROUTE_ADMIN_FAULT));
    assert_false(gw_route_is_admin(GW_ROUTE_STATUS));
    assert_int_equal(gw_route_match("/v1/components//request", id, &allowed), GW_ROUTE_UNKNOWN);
    assert_int_equal(gw_route_match("/v1/components/a/b/request", id, &allowed), GW_ROUTE_UNKNOWN);
    assert_int_equal(gw_route_match("/request/", id, &allowed), GW_ROUTE_UNKNOWN);
    assert_int_equal(gw_route_match("/", id, &allowed), GW_ROUTE_DASHBOARD);
    assert_string_equal(id, "");
    assert_int_equal(allowed, GW_METHOD_GET);
    assert_int_equal(gw_route_match("/ui/app.js", id, &allowed), GW_ROUTE_DASHBOARD);
    assert_string_equal(id, "app.js");
    assert_int_equal(gw_route_match("/ui/", id, &allowed), GW_ROUTE_UNKNOWN);
    assert_int_equal(gw_route_match("/ui/a/b.js", id, &allowed), GW_ROUTE_UNKNOWN);
    assert_int_equal(gw_route_match("/index.html", id, &allowed), GW_ROUTE_UNKNOWN);
    char longpath[400];
    snprintf(longpath, sizeof(longpath), "/request/%0200d", 7);
    assert_int_equal(gw_route_match(longpath, id, &allowed), GW_ROUTE_UNKNOWN);
}

/* The dashboard's files are embedded with their ETags and served with their content types. */
static void test_dashboard_assets(void **state)
{
    (void)state;
    const gw_asset *page = gw_dashboard_find("");
    assert_non_null(page);
    assert_string_equal(page->name, "index.html");
    assert_ptr_equal(gw_dashboard_find("index.html"), page);
    assert_true(page->len > 100);
    assert_non_null(strstr((const char *)page->data, "/ui/app.js"));
    assert_int_equal(page->data[page->len], '\0'); /* one terminating byte past the file */
    assert_int_equal(strlen(page->etag), 18);      /* "<16 hex digits>" */
    static const char *const names[] = {"app.js", "style.css", "favicon.svg"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const gw_asset *a = gw_dashboard_find(names[i]);
        assert_non_null(a);
        assert_true(a->len > 0);
        assert_string_not_equal(a->etag, page->etag);
    }
    assert_null(gw_dashboard_find("missing.js"));
    assert_null(gw_dashboard_find("../index.html"));
    assert_string_equal(gw_dashboard_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(gw_dashboard_content_type("app.js"), "text/javascript; charset=utf-8");
    assert_string_equal(gw_dashboard_content_type("style.css"), "text/css; charset=utf-8");
    assert_string_equal(gw_dashboard_content_type("favicon.svg"), "image/svg+xml");
    assert_string_equal(gw_dashboard_content_type("README"), "application/octet-stream");
}

static void test_request_json(void **state)
{
    gw_parsed_request r;
    char why[256];
    const char *ok = "{\"type\":\"ping\",\"data\":{\"a\":1},\"source\":\"me\","
                     "\"criticality\":\"sheddable\",\"timeout_ms\":250}";
    assert_int_equal(gw_parse_request_json(ok, strlen(ok), 0, &r, why, sizeof(why)), 0);
    assert_string_equal(r.type, "ping");
    assert_string_equal(r.source, "me");
    assert_int_equal(r.criticality, GENESIS_CRITICALITY_SHEDDABLE);
    assert_int_equal(r.timeout_ms, 250);
    assert_int_equal(r.len, strlen("{\"a\":1}"));
    assert_memory_equal(r.data, "{\"a\":1}", r.len);
    assert_string_equal(r.content_type, "application/json");
    gw_parsed_request_clear(&r);

    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "{\"type\":1}",
        "{\"type\":\"\"}",
        "{\"type\":\"x\",\"timeout_ms\":0}",
        "{\"type\":\"x\",\"timeout_ms\":1.5}",
        "{\"type\":\"x\",\"criticality\":7}",
        "{\"type\":\"x\",\"type\":\"y\"}",
        "{\"type\":\"x\",\"source\":[]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        assert_int_equal(gw_parse_request_json(bad[i], strlen(bad[i]), 0, &r, why, sizeof(why)),
                         -1);
        assert_true(why[0] != '\0');
        assert_null(r.type);
    }
    const char *no_target = "{\"type\":\"ping\"}";
    assert_int_equal(gw_parse_request_json(no_target, strlen(no_target), 1, &r, why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "target"));
}

static void test_ws_message(void **state)
{
    char *type = NULL, *data = NULL;
    size_t len = 0;
    const char *ct = NULL;
    char why[64];
    const char *js = "{\"type\":\"chat\",\"data\":\"hi\"}";
    assert_int_equal(gw_parse_ws_message(js, strlen(js), &type, &data, &len, &ct, why, 64), 0);
    assert_string_equal(type, "chat");
    assert_int_equal(len, 2);
    assert_memory_equal(data, "hi", 2);
    assert_string_equal(ct, "text/plain");
    free(type);
    free(data);
    assert_int_equal(gw_parse_ws_message("hello", 5, &type, &data, &len, &ct, why, 64), 0);
    assert_string_equal(type, "message");
    assert_memory_equal(data, "hello", 5);
    free(type);
    free(data);
}

static void test_event_json(void **state)
{
    size_t len = 0;
    char *j = gw_event_json("t", "{\"x\":1}", 7, "application/json", "comp1", 42, &len);
    assert_string_equal(j, "{\"type\":\"t\",\"data\":{\"x\":1},\"source\":\"comp1\",\"seq\":42}");
    free(j);
    j = gw_event_json("t", "\xff\x00", 2, "", "s", 1, &len);
    assert_non_null(strstr(j, "\"encoding\":\"base64\""));
    assert_non_null(strstr(j, "\"data\":\"/wA=\""));
    free(j);
}

static void test_tokens(void **state)
{
    char dir[256], path[300], why[256];
    assert_int_equal(gt_tempdir_make(dir, sizeof(dir)), 0);
    snprintf(path, sizeof(path), "%s/tokens", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# comment\n\nsecret-a comp1,comp2\nsecret-b *  # all\nsecret-c admin\n", f);
    fclose(f);
    gw_auth *a = NULL;
    assert_int_equal(gw_auth_load(&a, path, why, sizeof(why)), 0);
    const gw_token *t = gw_auth_check(a, "Bearer secret-a");
    assert_non_null(t);
    assert_true(gw_token_allows(t, "comp2"));
    assert_false(gw_token_allows(t, "comp3"));
    assert_false(gw_token_is_admin(t));
    assert_true(gw_token_allows(gw_auth_check(a, "secret-b"), "anything"));
    assert_true(gw_token_is_admin(gw_auth_check(a, "bearer  secret-c ")));
    assert_null(gw_auth_check(a, "Bearer secret"));
    assert_null(gw_auth_check(a, "Bearer secret-aa"));
    assert_null(gw_auth_check(a, ""));
    assert_null(gw_auth_check(a, NULL));
    gw_auth_free(a);

    f = fopen(path, "w");
    fputs("only-a-token\n", f);
    fclose(f);
    assert_int_equal(gw_auth_load(&a, path, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "line 1"));
    assert_null(strstr(why, "only-a-token")); /* never echo a secret */
    gt_tempdir_remove(dir);
}

static char *render(const char *status)
{
    gw_metrics m;
    assert_int_equal(gw_metrics_init(&m), 0);
    gw_metrics_count_http(&m, GW_ROUTE_COMPONENT_REQUEST, 200);
    gw_metrics_observe(&m, "comp1", 0.0003);
    gw_metrics_observe(&m, "comp1", 20.0);
    gw_metrics_extra x = {
        .ws_sessions = 2, .status_json = status, .status_len = status != NULL ? strlen(status) : 0};
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(gw_metrics_render(&m, &x, &text, &len), 0);
    gw_metrics_destroy(&m);
    return text;
}

static void test_metrics(void **state)
{
    const char *with_breakers =
        "{\"mode\":\"SAFE\",\"uptime_ms\":1500,\"stats\":{\"requests\":7},\"components\":["
        "{\"id\":\"comp1\",\"health\":\"UP\",\"in_flight\":1,\"queued\":0,\"requests\":5,"
        "\"failures\":1,\"breaker\":\"OPEN\",\"failure_rate_pct\":62.5,"
        "\"slow_call_rate_pct\":-1},"
        "{\"id\":\"comp2\",\"health\":\"DOWN\",\"breaker\":\"HALF_OPEN\"}]}";
    char *t = render(with_breakers);
    static const char *const lines[] = {
        "genesis_up 1\n",
        "genesis_mode{mode=\"SAFE\"} 1\n",
        "genesis_mode{mode=\"NORMAL\"} 0\n",
        "genesis_uptime_seconds 1.500\n",
        "genesis_coordinator_requests_total 7\n",
        "genesis_component_up{component=\"comp1\"} 1\n",
        "genesis_component_up{component=\"comp2\"} 0\n",
        "genesis_component_breaker_state{component=\"comp1\",state=\"OPEN\"} 1\n",
        "genesis_component_breaker_state{component=\"comp1\",state=\"CLOSED\"} 0\n",
        "genesis_component_breaker_state{component=\"comp2\",state=\"HALF_OPEN\"} 1\n",
        "genesis_component_failures_total{component=\"comp1\"} 1\n",
        "genesis_component_failure_rate_percent{component=\"comp1\"} 62.5\n",
        "genesis_gateway_request_duration_seconds_bucket{component=\"comp1\",le=\"0.0005\"} 1\n",
        "genesis_gateway_request_duration_seconds_bucket{component=\"comp1\",le=\"10\"} 1\n",
        "genesis_gateway_request_duration_seconds_bucket{component=\"comp1\",le=\"+Inf\"} 2\n",
        "genesis_gateway_request_duration_seconds_count{component=\"comp1\"} 2\n",
        "genesis_gateway_http_responses_total{route=\"component_request\",code=\"200\"} 1\n",
        "genesis_gateway_websocket_connections 2\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (strstr(t, lines[i]) == NULL)
            fail_msg("missing line %s in:\n%s", lines[i], t);
    assert_null(strstr(t, "genesis_component_slow_call_rate_percent{")); /* -1: not measured */
    free(t);

    /* Today's status report: no breaker field, so no breaker series. */
    t = render("{\"mode\":\"NORMAL\",\"components\":[{\"id\":\"comp1\",\"health\":\"UP\"}]}");
    assert_null(strstr(t, "breaker"));
    assert_non_null(strstr(t, "genesis_mode{mode=\"NORMAL\"} 1\n"));
    free(t);
    /* The coordinator did not answer. */
    t = render(NULL);
    assert_non_null(strstr(t, "genesis_up 0\n"));
    assert_null(strstr(t, "genesis_mode"));
    free(t);
    t = render("not json");
    assert_non_null(strstr(t, "genesis_up 0\n"));
    free(t);
}

/* The listen address: names resolve to numeric addresses, and a listening socket bound
 * anywhere but the asked address (the dual-stack wildcard libwebsockets 4.1 made of an IPv4
 * address) is found and refused. */
static void test_listen_address(void **state)
{
    (void)state;
    char why[256];
    gw_listen_addr a;
    assert_int_equal(gw_listen_resolve("localhost", 0, &a, why, sizeof(why)), 0);
    assert_true(a.loopback);
    assert_false(a.wildcard);
    assert_true(strcmp(a.numeric, "127.0.0.1") == 0 || strcmp(a.numeric, "::1") == 0);
    assert_int_equal(gw_listen_resolve("127.0.0.1", 0, &a, why, sizeof(why)), 0);
    assert_string_equal(a.numeric, "127.0.0.1");
    assert_false(a.ipv6);
    assert_int_equal(gw_listen_resolve("no-such-host.invalid", 0, &a, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "no-such-host.invalid"));

    int before[256];
    size_t n_before = gw_listen_sockets(before, 256);
    /* A wildcard listener where 127.0.0.1 was asked: refused, naming what it found. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    assert_int_equal(bind(fd, (struct sockaddr *)&any, sizeof(any)), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t len = sizeof(any);
    getsockname(fd, (struct sockaddr *)&any, &len);
    int port = ntohs(any.sin_port);
    assert_int_equal(gw_listen_resolve("127.0.0.1", 0, &a, why, sizeof(why)), 0);
    assert_int_equal(gw_listen_verify(&a, port, before, n_before, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "bound to 0.0.0.0"));
    /* No listener at all on the port: refused too. */
    assert_int_equal(
        gw_listen_verify(&a, port + 1 > 65535 ? 1 : port + 1, before, n_before, why, sizeof(why)),
        -1);
    assert_non_null(strstr(why, "no socket listens"));
    close(fd);
    /* The asked address: accepted. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&lo, sizeof(lo)), 0);
    assert_int_equal(listen(fd, 1), 0);
    len = sizeof(lo);
    getsockname(fd, (struct sockaddr *)&lo, &len);
    assert_int_equal(gw_listen_verify(&a, ntohs(lo.sin_port), before, n_before, why, sizeof(why)),
                     0);
    close(fd);
    assert_true(gw_is_ip_literal("10.1.2.3"));
    assert_true(gw_is_ip_literal("::1"));
    assert_false(gw_is_ip_literal("attacker.example"));
    assert_false(gw_is_ip_literal("localhost"));
}

/* Cross-site checks: JSON-only bodies, Host names, same-origin and allowed origins. */
static void test_cross_site(void **state)
{
    (void)state;
    assert_true(gw_is_json_type("application/json"));
    assert_true(gw_is_json_type("Application/JSON; charset=utf-8"));
    assert_false(gw_is_json_type("application/jsonp"));
    assert_false(gw_is_json_type("text/plain"));
    assert_false(gw_is_json_type("application/x-www-form-urlencoded"));
    assert_false(gw_is_json_type(""));

    assert_true(gw_host_allowed(NULL, "127.0.0.1", ""));
    assert_true(gw_host_allowed("127.0.0.1:8080", "127.0.0.1", ""));
    assert_true(gw_host_allowed("[::1]:8080", "127.0.0.1", ""));
    assert_true(gw_host_allowed("LOCALHOST.:8080", "127.0.0.1", ""));
    assert_true(gw_host_allowed("gw.internal:8080", "gw.internal", ""));
    assert_true(gw_host_allowed("ops.example", "0.0.0.0", "a.example,ops.example"));
    assert_true(gw_host_allowed("anything.example", "0.0.0.0", "*"));
    assert_false(gw_host_allowed("attacker.example:8080", "127.0.0.1", ""));
    assert_false(gw_host_allowed("127.0.0.1.nip.io", "127.0.0.1", ""));
    assert_false(gw_host_allowed("ops.example.evil", "0.0.0.0", "ops.example"));
    assert_false(gw_host_allowed("[::1", "127.0.0.1", ""));
    assert_false(gw_host_allowed("a b", "127.0.0.1", ""));
    assert_false(gw_host_allowed("localhost:99999", "127.0.0.1", ""));

    assert_true(gw_origin_allowed(NULL, "127.0.0.1:8080", ""));
    assert_true(gw_origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", ""));
    assert_true(gw_origin_allowed("http://LocalHost:8080", "localhost:8080", ""));
    assert_true(gw_origin_allowed("https://gw.example", "gw.example:443", ""));
    assert_true(gw_origin_allowed("http://[::1]:80", "[::1]", ""));
    assert_false(gw_origin_allowed("http://127.0.0.1:8081", "127.0.0.1:8080", ""));
    assert_false(gw_origin_allowed("http://localhost:8080", "127.0.0.1:8080", ""));
    assert_false(gw_origin_allowed("http://evil.example", "127.0.0.1:8080", ""));
    assert_false(gw_origin_allowed("null", "127.0.0.1:8080", ""));
    assert_false(gw_origin_allowed("file://", "127.0.0.1:8080", ""));
    assert_true(gw_origin_allowed("null", "127.0.0.1:8080", "https://ops.example,null"));
    assert_true(gw_origin_allowed("https://ops.example/", "x", "https://ops.example,null"));
    assert_false(gw_origin_allowed("https://ops.example.evil", "x", "https://ops.example"));
    assert_true(gw_origin_allowed("http://evil.example", "x", "*"));

    char list[24] = "";
    assert_int_equal(gw_list_append(list, sizeof(list), "a.example"), 0);
    assert_int_equal(gw_list_append(list, sizeof(list), "b.example"), 0);
    assert_string_equal(list, "a.example,b.example");
    assert_int_equal(gw_list_append(list, sizeof(list), "c.example"), -1); /* full */
    assert_int_equal(gw_list_append(list, sizeof(list), ""), -1);
    assert_int_equal(gw_list_append(list, sizeof(list), "a b"), -1);
    assert_string_equal(list, "a.example,b.example");
}

static void test_gzip_codec(void **state)
{
    (void)state;
    assert_int_equal(gw_encoding_of(NULL), GW_ENC_IDENTITY);
    assert_int_equal(gw_encoding_of("identity"), GW_ENC_IDENTITY);
    assert_int_equal(gw_encoding_of("GZIP"), GW_ENC_GZIP);
    assert_int_equal(gw_encoding_of("deflate"), GW_ENC_UNKNOWN);
    assert_int_equal(gw_encoding_accepted("identity,deflate,gzip"), GW_ENC_GZIP);
    assert_int_equal(gw_encoding_accepted("br;q=1.0, gzip;q=0.5"), GW_ENC_GZIP);
    assert_int_equal(gw_encoding_accepted("gzipx, xgzip"), GW_ENC_IDENTITY);
    assert_int_equal(gw_encoding_accepted(""), GW_ENC_IDENTITY);

    uint8_t plain[4096];
    memset(plain, 'a', sizeof(plain));
    uint8_t *z = NULL, *out = NULL;
    size_t zlen = 0, n = 0;
    assert_int_equal(gw_gzip(plain, sizeof(plain), &z, &zlen), GW_GZ_OK);
    assert_true(zlen < sizeof(plain) / 10);
    /* exactly at the bound, then one byte under it */
    assert_int_equal(gw_gunzip(z, zlen, sizeof(plain), &out, &n), GW_GZ_OK);
    assert_int_equal(n, sizeof(plain));
    assert_memory_equal(out, plain, sizeof(plain));
    free(out);
    assert_int_equal(gw_gunzip(z, zlen, sizeof(plain) - 1, &out, &n), GW_GZ_TOO_LARGE);
    assert_null(out);
    /* two members one after the other are one message */
    uint8_t *two = malloc(2 * zlen);
    assert_non_null(two);
    memcpy(two, z, zlen);
    memcpy(two + zlen, z, zlen);
    assert_int_equal(gw_gunzip(two, 2 * zlen, 2 * sizeof(plain), &out, &n), GW_GZ_OK);
    assert_int_equal(n, 2 * sizeof(plain));
    free(out);
    /* truncated, trailing garbage, not gzip at all */
    assert_int_equal(gw_gunzip(z, zlen - 4, sizeof(plain), &out, &n), GW_GZ_BAD);
    two[zlen] = 'x';
    assert_int_equal(gw_gunzip(two, zlen + 1, sizeof(plain), &out, &n), GW_GZ_BAD);
    assert_int_equal(gw_gunzip((const uint8_t *)"plain", 5, sizeof(plain), &out, &n), GW_GZ_BAD);
    /* an empty compressed message is an empty message */
    assert_int_equal(gw_gunzip(z, 0, sizeof(plain), &out, &n), GW_GZ_OK);
    assert_int_equal(n, 0);
    free(out);
    free(two);
    free(z);
    const char *reason = NULL;
    assert_int_equal(gw_gunzip_status(GW_GZ_TOO_LARGE, &reason), GENESIS_RESOURCE_EXHAUSTED);
    assert_string_equal(reason, "MESSAGE_TOO_LARGE");
    assert_int_equal(gw_gunzip_status(GW_GZ_BAD, &reason), GENESIS_INVALID_ARGUMENT);
    assert_string_equal(reason, "MALFORMED_MESSAGE");
}

/* A real ClientHello offering alpn (wire form; "" = no ALPN extension), from OpenSSL. */
static size_t hello(const char *alpn, unsigned int alpn_len, uint8_t *out, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    SSL *ssl = SSL_new(ctx);
    BIO *in = BIO_new(BIO_s_mem()), *wire = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, wire);
    if (alpn_len > 0)
        assert_int_equal(SSL_set_alpn_protos(ssl, (const unsigned char *)alpn, alpn_len), 0);
    SSL_set_connect_state(ssl);
    assert_true(SSL_do_handshake(ssl) <= 0);
    int n = BIO_read(wire, out, (int)cap);
    assert_true(n > 0);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return (size_t)n;
}

static void test_tls_hello(void **state)
{
    (void)state;
    gw_hello_sniffer *sn = gw_hello_sniffer_new();
    assert_non_null(sn);
    static uint8_t buf[GW_HELLO_MAX + 64];
    char why[256];
    static const struct {
        const char *alpn;
        unsigned int len;
        gw_hello_route want;
    } cases[] = {
        {"\x02h2", 3, GW_HELLO_GRPC},              /* grpc-go, grpc-js */
        {"\x08grpc-exp\x02h2", 12, GW_HELLO_GRPC}, /* grpcio, grpc-java */
        {"\x02h2\x08http/1.1", 12, GW_HELLO_HTTP}, /* browsers, curl */
        {"\x08http/1.1", 9, GW_HELLO_HTTP},        /* curl --http1.1 */
        {"", 0, GW_HELLO_HTTP},                    /* no ALPN */
        {"\x05"
         "foo/1\x03"
         "bar",
         10, GW_HELLO_UNKNOWN_ALPN}, /* nothing served here */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = hello(cases[i].alpn, cases[i].len, buf, sizeof(buf));
        assert_int_equal(gw_hello_classify(sn, buf, n, why, sizeof(why)), cases[i].want);
        /* any prefix: wait for more */
        assert_int_equal(gw_hello_classify(sn, buf, n - 1, why, sizeof(why)), GW_HELLO_MORE);
        assert_int_equal(gw_hello_classify(sn, buf, 1, why, sizeof(why)), GW_HELLO_MORE);
    }
    assert_string_equal(why, "");
    size_t n = hello("\x05"
                     "foo/1\x03"
                     "bar",
                     10, buf, sizeof(buf));
    assert_int_equal(gw_hello_classify(sn, buf, n, why, sizeof(why)), GW_HELLO_UNKNOWN_ALPN);
    assert_non_null(strstr(why, "(foo/1,bar)"));

    const char *get = "GET / HTTP/1.1\r\n";
    assert_int_equal(gw_hello_classify(sn, (const uint8_t *)get, strlen(get), why, sizeof(why)),
                     GW_HELLO_NOT_TLS);
    assert_non_null(strstr(why, "first bytes \"GET / HTTP/1.1\\x0d\\x0a\""));
    const char *preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    assert_int_equal(gw_hello_classify(sn, (const uint8_t *)preface, 24, NULL, 0),
                     GW_HELLO_NOT_TLS);
    /* a handshake record that is no ClientHello */
    assert_int_equal(gw_hello_classify(sn, (const uint8_t *)"\x16\x03\x03\x00\x04\x02\x00\x00\x00",
                                       9, why, sizeof(why)),
                     GW_HELLO_BAD);
    /* a ClientHello announcing 64 KiB: more bytes until the limit, then too large */
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "\x16\x03\x01\x40\x00\x01\x00\xff\xff", 9);
    assert_int_equal(gw_hello_classify(sn, buf, 4096, why, sizeof(why)), GW_HELLO_MORE);
    assert_int_equal(gw_hello_classify(sn, buf, sizeof(buf), why, sizeof(why)), GW_HELLO_TOO_LARGE);
    assert_non_null(strstr(why, "larger than 16384"));
    gw_hello_sniffer_free(sn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_status_mapping),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_dashboard_assets),
        cmocka_unit_test(test_request_json),
        cmocka_unit_test(test_ws_message),
        cmocka_unit_test(test_event_json),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_listen_address),
        cmocka_unit_test(test_cross_site),
        cmocka_unit_test(test_tls_hello),
        cmocka_unit_test(test_gzip_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
