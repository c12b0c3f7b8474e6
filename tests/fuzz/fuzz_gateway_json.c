/* Fuzz target: the gateway's HTTP bodies and what it writes back. The first byte picks:
 *   0  POST /v1/components/{id}/request JSON body (gw_parse_request_json)
 *   1  the Connect JSON body, which also names the target
 *   2  the Connect proto body (an encoded genesis.v1.Request)
 *   3  an admin route's JSON body (mode, breaker, policy or fault: the next byte)
 *   4  a component's reply bytes rendered as {"result": ...} with a content type from the
 *      next byte, and its error message rendered as {"code","message","reason","details"}
 * Invariants: a parse either succeeds with the fields the route needs or fails with a
 * message; every document the gateway writes is valid JSON, whatever bytes it carries. */
#include <jansson.h>
#include <string.h>

#include "fuzz_target.h"
#include "genesis/genesis.h"
#include "json_map.h"

/* Results come from a real in-process component that answers with the bytes it is sent. */
static genesis_coordinator *coordinator;

static void echo_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)arg;
    size_t len = 0;
    const void *data = genesis_request_data(req, &len);
    genesis_reply_set(reply, data, len, genesis_request_content_type(req));
}

static void shut_down(void)
{
    genesis_coordinator_free(coordinator);
}

static genesis_result *echo(const void *data, size_t len, const char *content_type)
{
    if (coordinator == NULL) {
        genesis_coordinator_options o;
        genesis_coordinator_options_init(&o, GENESIS_COORDINATOR_OPTIONS_VERSION);
        o.log_level = GENESIS_LOG_ERROR;
        genesis_component c = {.version = GENESIS_COMPONENT_VERSION, .on_request = echo_request};
        FUZZ_CHECK(genesis_coordinator_new(&coordinator, &o) == GENESIS_OK);
        FUZZ_CHECK(genesis_coordinator_register(coordinator, "echo", &c) == GENESIS_OK);
        atexit(shut_down);
    }
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.content_type = content_type;
    genesis_result *res = NULL;
    FUZZ_CHECK(genesis_coordinator_request(coordinator, "echo", "echo", data, len, &opts, &res) ==
               GENESIS_OK);
    return res;
}

static void check_json(const char *text, size_t len)
{
    FUZZ_CHECK(text != NULL);
    json_error_t err;
    json_t *doc = json_loadb(text, len, JSON_ALLOW_NUL, &err);
    FUZZ_CHECK(doc != NULL && json_is_object(doc));
    json_decref(doc);
}

static void parse_request(const uint8_t *data, size_t size, int mode)
{
    gw_parsed_request r;
    char why[256] = "";
    int rc = mode == 2 ? gw_parse_request_proto(data, size, &r, why, sizeof(why))
                       : gw_parse_request_json(data, size, mode == 1, &r, why, sizeof(why));
    if (rc != 0) {
        FUZZ_CHECK(why[0] != '\0');
        return;
    }
    FUZZ_CHECK(r.type != NULL && r.type[0] != '\0');
    FUZZ_CHECK(mode == 0 || (r.target != NULL && r.target[0] != '\0'));
    FUZZ_CHECK(r.len == 0 || r.data != NULL);
    FUZZ_CHECK(r.content_type != NULL);
    FUZZ_CHECK(r.timeout_ms <= GW_MAX_TIMEOUT_MS || mode == 2);
    FUZZ_CHECK(mode == 2 || (r.criticality >= 0 && r.criticality <= 2));
    gw_parsed_request_clear(&r);
}

static void parse_admin(const uint8_t *data, size_t size)
{
    static const char *const commands[] = {"mode", "breaker", "policy", "fault"};
    if (size == 0)
        return;
    const char *command = commands[data[0] % 4];
    const char *component = data[0] % 4 == 0 ? "" : "comp1";
    char *args[8] = {0};
    size_t nargs = 0;
    char why[256] = "";
    int rc = gw_parse_admin_args(command, component, data + 1, size - 1, args, 8, &nargs, why,
                                 sizeof(why));
    FUZZ_CHECK(nargs <= 8);
    if (rc != 0)
        FUZZ_CHECK(why[0] != '\0');
    for (size_t i = 0; i < nargs; i++) {
        FUZZ_CHECK(rc != 0 || args[i] != NULL);
        free(args[i]);
    }
}

static void render(const uint8_t *data, size_t size)
{
    static const char *const ctypes[] = {"application/json", "text/plain",
                                         "application/octet-stream", "application/json; x=1",
                                         "text/plain; charset=utf-8"};
    if (size == 0)
        return;
    const char *ctype = ctypes[data[0] % 5];
    genesis_result *res = echo(data + 1, size - 1, ctype);
    size_t len = 0;
    char *text = gw_result_json(res, &len);
    check_json(text, len);
    free(text);
    genesis_result_free(res);

    /* The bytes as a component's error message (a C string: up to the first NUL). */
    char *message = malloc(size);
    FUZZ_CHECK(message != NULL);
    memcpy(message, data + 1, size - 1);
    message[size - 1] = '\0';
    text = gw_error_json(data[0] % 17, genesis_reason_name(data[0] % 30), message, &len);
    check_json(text, len);
    free(text);
    text = gw_connect_error_json(data[0] % 17, message, &len);
    check_json(text, len);
    free(text);
    free(message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int mode = data[0] % 5;
    data++;
    size--;
    if (mode <= 2)
        parse_request(data, size, mode);
    else if (mode == 3)
        parse_admin(data, size);
    else
        render(data, size);
    return 0;
}
