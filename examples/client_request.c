/* client_request: the client role in a few lines. Dials a coordinator's front door, sends one
 * request and prints the outcome.
 *
 *   client_request [--url FRONT_DOOR] TARGET TYPE [DATA]
 *
 * The front door defaults to $GENESIS_URL or tcp://127.0.0.1:7400. Exits 0 on success, 1 when
 * the request failed, 2 on a usage error. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/genesis.h>

int main(int argc, char **argv)
{
    const char *url = getenv("GENESIS_URL");
    if (url == NULL || url[0] == '\0')
        url = "tcp://127.0.0.1:7400";
    int argi = 1;
    if (argi + 1 < argc && strcmp(argv[argi], "--url") == 0) {
        url = argv[argi + 1];
        argi += 2;
    }
    if (argc - argi < 2 || argc - argi > 3) {
        fprintf(stderr, "usage: %s [--url FRONT_DOOR] TARGET TYPE [DATA]\n", argv[0]);
        return 2;
    }
    const char *target = argv[argi];
    const char *type = argv[argi + 1];
    const char *data = argc - argi == 3 ? argv[argi + 2] : "";

    /* A client with default options (NULL), named "client" on the wire. */
    genesis_client *cl = NULL;
    int rc = genesis_client_new(&cl, NULL);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesis_client_new: %s\n", genesis_last_error());
        return 1;
    }
    /* Dialing connects in the background: it succeeds even if nobody listens yet. A missing
     * coordinator shows up below as DEADLINE_EXCEEDED. No event bus: we do not subscribe. */
    rc = genesis_client_dial(cl, url, NULL);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "cannot dial %s: %s\n", url, genesis_last_error());
        genesis_client_free(cl);
        return rc == GENESIS_INVALID_ARGUMENT ? 2 : 1;
    }

    genesis_call_options opts;
    rc = genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesis_call_options_init: %s\n", genesis_last_error());
        genesis_client_free(cl);
        return 1;
    }
    opts.timeout_ms = 5000; /* the whole call, retries included */
    opts.content_type = "text/plain";

    /* The result is filled in for failures too: status, reason and message explain them. */
    genesis_result *res = NULL;
    rc = genesis_client_request(cl, target, type, data, strlen(data), &opts, &res);
    if (rc == GENESIS_OK) {
        size_t len = 0;
        const char *payload = genesis_result_data(res, &len);
        printf("%s replied (%s): %.*s\n", target, genesis_result_content_type(res), (int)len,
               payload);
    } else if (res != NULL) {
        fprintf(stderr, "request failed: %s (%s): %s\n", genesis_status_name(rc),
                genesis_reason_name(genesis_result_reason(res)), genesis_result_message(res));
    } else {
        fprintf(stderr, "request failed: %s: %s\n", genesis_status_name(rc), genesis_last_error());
    }
    genesis_result_free(res);
    genesis_client_free(cl);
    return rc == GENESIS_OK ? 0 : 1;
}
