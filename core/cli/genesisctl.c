/* genesisctl: the operator's command line for a Genesis coordinator, over its front door and
 * event bus (the client role of libgenesis).
 *
 *   genesisctl [OPTIONS] status [-o wide|json] [--json]
 *   genesisctl [OPTIONS] request TARGET TYPE [DATA]
 *   genesisctl [OPTIONS] emit TYPE [DATA]
 *   genesisctl [OPTIONS] watch [--count N] [--type PREFIX] [--from SOURCE] [TOPIC_PREFIX]
 *   genesisctl [OPTIONS] mode | breaker | policy | fault | checkpoint | supervisor | reload ...
 *
 * Operator commands print a sentence (ctl_render.c); --json prints the coordinator's JSON
 * answer instead, for scripts.
 *
 * Exit codes:
 *   0  success
 *   1  the coordinator answered with an error status
 *   2  usage error (bad option, missing argument, invalid URL)
 *   3  the coordinator could not be reached (transport error or no reply in time)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <genesis/genesis.h>
#include <jansson.h>

#include "config_values.h"
#include "ctl_render.h"

#define DEFAULT_URL        "tcp://127.0.0.1:7400"
#define DEFAULT_EVENTS     "tcp://127.0.0.1:7401"
#define DEFAULT_TIMEOUT_MS 5000u

enum exit_code { EXIT_OK = 0, EXIT_ERROR_STATUS = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

struct ctl_config {
    const char *url;
    const char *events;
    const char *source;
    uint32_t timeout_ms;
    int verbose;
    int json;            /* --json or -o json: the coordinator's JSON */
    int wide;            /* status -o wide: every column */
    unsigned long count; /* watch --count; 0 = until a signal */
    int have_count;
    uint64_t request_id;       /* --request-id; 0 = the coordinator assigns one */
    const char *type_filter;   /* watch --type: event types starting with this */
    const char *source_filter; /* watch --source: events from this source only */
    const char *command;
    char **args; /* the command's positional arguments */
    int nargs;
    char policy_args[64][96]; /* policy FIELD=VALUE with durations in milliseconds */
};

static const char *const command_names[] = {"status",     "request",    "emit",   "watch",
                                            "mode",       "breaker",    "policy", "fault",
                                            "checkpoint", "supervisor", "reload"};

static const char *const policy_fields[] = {
#define F(name) #name,
    GENESIS_POLICY_FIELDS(F)
#undef F
};
#define N_POLICY_FIELDS (sizeof(policy_fields) / sizeof(policy_fields[0]))

/* Operator commands travel as Admin envelopes (genesis_client_admin). */
static int is_admin_command(const char *command)
{
    return strcmp(command, "mode") == 0 || strcmp(command, "breaker") == 0 ||
           strcmp(command, "policy") == 0 || strcmp(command, "fault") == 0 ||
           strcmp(command, "checkpoint") == 0 || strcmp(command, "supervisor") == 0 ||
           strcmp(command, "reload") == 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: genesisctl [OPTIONS] COMMAND [ARGS]\n"
            "Operate a Genesis coordinator.\n"
            "\n"
            "Commands:\n"
            "  status [-o wide|json]       mode, counters and components in 100 columns\n"
            "                              (-o wide: every column; -o json or --json: the\n"
            "                              raw report)\n"
            "  request TARGET TYPE [DATA]  send a request; print the reply payload\n"
            "  emit TYPE [DATA]            emit a local event\n"
            "  watch [--count N] [--type T] [--from S] [PREFIX]\n"
            "                              print bus events whose topic starts with PREFIX\n"
            "                              (topics are local:<type> and external:<type>),\n"
            "                              whose type starts with T, from source S,\n"
            "                              until SIGINT/SIGTERM, or N events with --count;\n"
            "                              it keeps reconnecting while the bus is away, and\n"
            "                              reports lost events on stderr at exit\n"
            "  mode [NORMAL|SAFE|EMERGENCY|AUTO]\n"
            "                              show the degradation mode, or force one (AUTO\n"
            "                              ends the override)\n"
            "  breaker ID open [DURATION]|close|reset|disable|metrics-only\n"
            "                              force a component's breaker open (for DURATION,\n"
            "                              e.g. 30s, then half-open), reset it to automatic\n"
            "                              (close/reset),\n"
            "                              disable it, or let it only measure (metrics-only)\n"
            "  policy ID|'*' [FIELD=VALUE ...]\n"
            "                              show or change a resilience policy ('*' = the\n"
            "                              default); fields as in genesis/resilience.h,\n"
            "                              *_ms fields take durations (250ms, 2s, 1m)\n"
            "  fault ID clear|error_rate=R latency_ms=N hang=0|1 crash=0|1\n"
            "                              inject a fault (coordinators started with\n"
            "                              --allow-faults only)\n"
            "  checkpoint list [ID]        stored checkpoint generations (of one component)\n"
            "  checkpoint show ID [GEN]    one generation (default: the newest good one)\n"
            "  checkpoint restore ID [GEN] hand that generation back to an in-process\n"
            "                              component through its restore callback\n"
            "  supervisor restart ID       restart a supervised component (also a FAILED one)\n"
            "  reload                      make genesisd re-read its --config file; prints what\n"
            "                              was applied and what needs a restart\n"
            "\n"
            "Operator commands (mode ... reload) print what happened in a sentence; with\n"
            "--json they print the coordinator's JSON answer instead.\n"
            "DATA is sent as application/json if it parses as JSON, else as text/plain.\n"
            "Use -- before a DATA that starts with '-'.\n"
            "\n"
            "Options:\n"
            "  --url URL       front door (default $GENESIS_URL or " DEFAULT_URL "); a\n"
            "                  comma-separated list of cluster nodes uses the first that answers\n"
            "  --events URL    event bus (default $GENESIS_EVENTS or " DEFAULT_EVENTS "); a list\n"
            "                  receives from every node\n"
            "  --timeout MS    deadline of each call in milliseconds (default 5000)\n"
            "  --source NAME   caller identity sent with requests and emits (default client)\n"
            "  --request-id N  correlation id of the request (default: the coordinator picks\n"
            "                  one); handlers and logs see it\n"
            "  --json          print JSON (status and the operator commands)\n"
            "  -o, --output FORMAT  status: text (default, 100 columns), wide or json\n"
            "  -v, --verbose   say more (emit prints \"emitted\")\n"
            "  --version       print the version and exit\n"
            "  -h, --help      print this help and exit\n"
            "\n"
            "Exit status:\n"
            "  0  success\n"
            "  1  the coordinator answered with an error status\n"
            "  2  usage error\n"
            "  3  could not reach the coordinator (transport error or no reply in time)\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("genesisctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'genesisctl --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

static int parse_ulong(const char *text, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* policy ID FIELD=VALUE...: known fields (or the closest one named), *_ms values as durations
 * converted to milliseconds. Returns -1 to go on, or an exit code. */
static int check_policy_args(struct ctl_config *cfg)
{
    if (cfg->nargs - 1 > 64)
        return usage_error("%s", "policy: at most 64 FIELD=VALUE settings");
    for (int i = 1; i < cfg->nargs; i++) {
        const char *kv = cfg->args[i];
        const char *eq = strchr(kv, '=');
        size_t len = eq != NULL ? (size_t)(eq - kv) : strlen(kv);
        char field[64];
        snprintf(field, sizeof(field), "%.*s", (int)(len < 63 ? len : 63), kv);
        size_t f = 0;
        while (f < N_POLICY_FIELDS && strcmp(policy_fields[f], field) != 0)
            f++;
        if (f == N_POLICY_FIELDS) {
            const char *best = conf_closest(field, policy_fields, N_POLICY_FIELDS);
            char list[1024] = "";
            for (size_t k = 0; k < N_POLICY_FIELDS; k++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "", policy_fields[k]);
            }
            if (best != NULL)
                return usage_error("policy: unknown field '%s' (did you mean '%s'?); the fields "
                                   "are %s",
                                   field, best, list);
            return usage_error("policy: unknown field '%s'; the fields are %s", field, list);
        }
        if (eq == NULL)
            return usage_error("policy: '%s' needs a value: %s=VALUE", kv, field);
        if (conf_unit_of_name(field) != 0) {
            unsigned long long ms = 0;
            if (conf_parse_duration(eq + 1, CONF_UNIT_MS, 0, UINT32_MAX, &ms) != 0)
                return usage_error("policy: %s needs a duration (250ms, 2s, 1m; a bare number "
                                   "is milliseconds), not '%s'",
                                   field, eq + 1);
            snprintf(cfg->policy_args[i - 1], sizeof(cfg->policy_args[i - 1]), "%s=%llu", field,
                     ms);
            cfg->args[i] = cfg->policy_args[i - 1];
        }
    }
    return -1;
}

/* Options are accepted anywhere on the line (GNU permutation); "--" ends them. Returns -1 to
 * go on, or an exit code. */
static int parse_args(int argc, char **argv, struct ctl_config *cfg)
{
    enum {
        OPT_URL = 256,
        OPT_EVENTS,
        OPT_TIMEOUT,
        OPT_SOURCE,
        OPT_JSON,
        OPT_COUNT,
        OPT_VERSION,
        OPT_TYPE,
        OPT_FROM,
        OPT_REQUEST_ID
    };
    static const struct option long_opts[] = {
        {"url", required_argument, NULL, OPT_URL},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"source", required_argument, NULL, OPT_SOURCE},
        {"json", no_argument, NULL, OPT_JSON},
        {"count", required_argument, NULL, OPT_COUNT},
        {"type", required_argument, NULL, OPT_TYPE},
        {"from", required_argument, NULL, OPT_FROM},
        {"request-id", required_argument, NULL, OPT_REQUEST_ID},
        {"output", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    memset(cfg, 0, sizeof *cfg);
    const char *env = getenv("GENESIS_URL");
    cfg->url = (env != NULL && env[0] != '\0') ? env : DEFAULT_URL;
    env = getenv("GENESIS_EVENTS");
    cfg->events = (env != NULL && env[0] != '\0') ? env : DEFAULT_EVENTS;
    cfg->timeout_ms = DEFAULT_TIMEOUT_MS;

    unsigned long v;
    int opt;
    while ((opt = getopt_long(argc, argv, "vho:", long_opts, NULL)) != -1) {
        switch (opt) {
        case OPT_URL:
            cfg->url = optarg;
            break;
        case OPT_EVENTS:
            cfg->events = optarg;
            break;
        case OPT_TIMEOUT: {
            unsigned long long ms = 0;
            if (conf_parse_duration(optarg, CONF_UNIT_MS, 1, UINT32_MAX, &ms) != 0)
                return usage_error("invalid --timeout '%s' (a duration: 500ms, 5s, 1m; a bare "
                                   "number is milliseconds)",
                                   optarg);
            cfg->timeout_ms = (uint32_t)ms;
            break;
        }
        case OPT_SOURCE:
            cfg->source = optarg;
            break;
        case OPT_JSON:
            cfg->json = 1;
            break;
        case 'o':
            if (strcmp(optarg, "json") == 0)
                cfg->json = 1;
            else if (strcmp(optarg, "wide") == 0)
                cfg->wide = 1;
            else if (strcmp(optarg, "text") != 0)
                return usage_error("invalid -o '%s' (text, wide or json)", optarg);
            break;
        case OPT_COUNT:
            if (parse_ulong(optarg, ULONG_MAX, &v) != 0 || v == 0)
                return usage_error("invalid --count '%s' (a positive integer)", optarg);
            cfg->count = v;
            cfg->have_count = 1;
            break;
        case OPT_TYPE:
            cfg->type_filter = optarg;
            break;
        case OPT_FROM:
            cfg->source_filter = optarg;
            break;
        case OPT_REQUEST_ID:
            if (parse_ulong(optarg, ULONG_MAX, &v) != 0 || v == 0)
                return usage_error("invalid --request-id '%s' (a positive integer)", optarg);
            cfg->request_id = (uint64_t)v;
            break;
        case 'v':
            cfg->verbose = 1;
            break;
        case OPT_VERSION:
            printf("genesisctl %s (libgenesis %s, protocol %d)\n", GENESIS_VERSION_STRING,
                   genesis_version_string(), GENESIS_PROTOCOL_VERSION);
            return EXIT_OK;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default: /* getopt_long already named the bad option */
            if (optopt == 0 && optind > 0 && optind <= argc &&
                strncmp(argv[optind - 1], "--", 2) == 0) {
                const char *names[sizeof(long_opts) / sizeof(long_opts[0])];
                size_t n = 0;
                for (; long_opts[n].name != NULL; n++)
                    names[n] = long_opts[n].name;
                char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)strcspn(argv[optind - 1] + 2, "="),
                         argv[optind - 1] + 2);
                const char *best = conf_closest(name, names, n);
                if (best != NULL)
                    fprintf(stderr, "genesisctl: did you mean '--%s'?\n", best);
            }
            fputs("Try 'genesisctl --help' for more information.\n", stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return usage_error("%s", "missing COMMAND (status, request, emit, watch, mode, breaker, "
                                 "policy, fault, checkpoint, supervisor or reload)");
    cfg->command = argv[optind];
    cfg->args = argv + optind + 1;
    cfg->nargs = argc - optind - 1;
    if (cfg->url[0] == '\0' || cfg->events[0] == '\0')
        return usage_error("%s", "--url and --events need a non-empty URL");

    int is_status = strcmp(cfg->command, "status") == 0;
    int is_watch = strcmp(cfg->command, "watch") == 0;
    int is_admin = is_admin_command(cfg->command);
    if (!is_status && strcmp(cfg->command, "request") != 0 && strcmp(cfg->command, "emit") != 0 &&
        !is_watch && !is_admin) {
        const char *best = conf_closest(cfg->command, command_names,
                                        sizeof(command_names) / sizeof(command_names[0]));
        if (best != NULL)
            return usage_error("unknown command '%s' (did you mean '%s'?)", cfg->command, best);
        return usage_error("unknown command '%s' (status, request, emit, watch, mode, breaker, "
                           "policy, fault, checkpoint, supervisor or reload)",
                           cfg->command);
    }
    if (is_admin && strcmp(cfg->command, "mode") == 0 && cfg->nargs > 1)
        return usage_error("mode takes at most one MODE; unexpected '%s'", cfg->args[1]);
    if (is_admin && strcmp(cfg->command, "breaker") == 0 && (cfg->nargs < 2 || cfg->nargs > 3))
        return usage_error("%s", "breaker needs ID and one of open [DURATION], close, reset, "
                                 "disable, metrics-only");
    if (is_admin && strcmp(cfg->command, "breaker") == 0) {
        static const char *const verbs[] = {"open", "close", "reset", "disable", "metrics-only"};
        const char *verb = cfg->args[1];
        int known = 0;
        for (size_t i = 0; i < 5; i++)
            known |= strcasecmp(verb, verbs[i]) == 0;
        known |= strcasecmp(verb, "metrics_only") == 0;
        const char *best = known ? NULL : conf_closest(verb, verbs, 5);
        if (!known && best != NULL)
            return usage_error("breaker: unknown action '%s' (did you mean '%s'?)", verb, best);
        if (!known)
            return usage_error("breaker: unknown action '%s' (open, close, reset, disable or "
                               "metrics-only)",
                               verb);
        if (cfg->nargs == 3) { /* open DURATION: 30s, 1m, or milliseconds */
            unsigned long long ms = 0;
            if (strcasecmp(verb, "open") != 0)
                return usage_error("breaker: only open takes a duration, not %s", verb);
            if (conf_parse_duration(cfg->args[2], CONF_UNIT_MS, 1, UINT32_MAX, &ms) != 0)
                return usage_error("breaker open: '%s' is not a duration (30s, 1m, 500ms; a "
                                   "bare number is milliseconds)",
                                   cfg->args[2]);
            snprintf(cfg->policy_args[0], sizeof(cfg->policy_args[0]), "%llu", ms);
            cfg->args[2] = cfg->policy_args[0];
        }
    }
    if (is_admin && strcmp(cfg->command, "policy") == 0) {
        int code = check_policy_args(cfg);
        if (code >= 0)
            return code;
    }
    if (is_admin && strcmp(cfg->command, "policy") == 0 && cfg->nargs < 1)
        return usage_error("%s", "policy needs ID (or '*')");
    if (is_admin && strcmp(cfg->command, "fault") == 0 && cfg->nargs < 2)
        return usage_error("%s", "fault needs ID and clear or KEY=VALUE settings");
    if (cfg->json && !is_status && !is_admin)
        return usage_error("%s", "--json applies to status and the operator commands only");
    if (cfg->wide && !is_status)
        return usage_error("%s", "-o wide applies to the status command only");
    if (cfg->have_count && !is_watch)
        return usage_error("%s", "--count applies to the watch command only");
    if ((cfg->type_filter != NULL || cfg->source_filter != NULL) && !is_watch)
        return usage_error("%s", "--type and --from apply to the watch command only");
    if (strcmp(cfg->command, "reload") == 0 && cfg->nargs != 0)
        return usage_error("reload takes no argument, got '%s'", cfg->args[0]);
    if (strcmp(cfg->command, "supervisor") == 0 &&
        (cfg->nargs != 2 || strcmp(cfg->args[0], "restart") != 0))
        return usage_error("%s", "supervisor needs: restart ID");
    if (strcmp(cfg->command, "checkpoint") == 0) {
        const char *sub = cfg->nargs > 0 ? cfg->args[0] : "";
        int list = strcmp(sub, "list") == 0;
        int one = strcmp(sub, "show") == 0 || strcmp(sub, "restore") == 0;
        if ((!list && !one) || (list && cfg->nargs > 2) ||
            (one && (cfg->nargs < 2 || cfg->nargs > 3)))
            return usage_error("%s",
                               "checkpoint needs: list [ID] | show ID [GEN] | restore ID [GEN]");
    }

    /* Every argument is checked before anything dials the coordinator: a usage error never
     * opens (and at once drops) a connection. */
    if (is_status && cfg->nargs > 0)
        return usage_error("status takes no argument, got '%s'", cfg->args[0]);
    if (is_watch && cfg->nargs > 1)
        return usage_error("watch takes at most one TOPIC_PREFIX; unexpected '%s'", cfg->args[1]);
    if (strcmp(cfg->command, "request") == 0) {
        if (cfg->nargs < 2)
            return usage_error("%s", "request needs TARGET and TYPE");
        if (cfg->nargs > 3)
            return usage_error("request takes at most TARGET TYPE DATA; unexpected '%s'",
                               cfg->args[3]);
    }
    if (strcmp(cfg->command, "emit") == 0) {
        if (cfg->nargs < 1)
            return usage_error("%s", "emit needs TYPE");
        if (cfg->nargs > 2)
            return usage_error("emit takes at most TYPE DATA; unexpected '%s'", cfg->args[2]);
    }
    return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* Failures and exit codes.                                                                  */

/* Map a failed call onto an exit code: the library marks "the coordinator itself did not
 * answer" with GENESIS_REASON_UNREACHABLE; anything else is the coordinator's answer. */
static int classify_failure(const genesis_result *res)
{
    return genesis_result_reason(res) == GENESIS_REASON_UNREACHABLE ? EXIT_UNREACHABLE
                                                                    : EXIT_ERROR_STATUS;
}

static void print_result_error(const genesis_result *res)
{
    int status = genesis_result_status(res);
    fprintf(stderr, "error: %s (%s): %s\n", genesis_status_name(status),
            genesis_reason_name(genesis_result_reason(res)), genesis_result_message(res));
}

/* Report a failed call: print it and what to do about it, then pick the exit code. */
static int fail_with_result(struct ctl_config *cfg, const genesis_result *res)
{
    print_result_error(res);
    int code = classify_failure(res);
    char hint[512];
    if (ctl_error_hint(cfg->command, cfg->args, (size_t)cfg->nargs, res, cfg->url, cfg->timeout_ms,
                       hint, sizeof(hint)) != NULL)
        fprintf(stderr, "genesisctl: %s\n", hint);
    else if (code == EXIT_UNREACHABLE)
        fprintf(stderr, "genesisctl: could not reach the coordinator at %s\n", cfg->url);
    return code;
}

/* Report a failed call that returned rc and (unless memory ran out) a result, which this
 * frees; returns the exit code. */
static int report_failure(struct ctl_config *cfg, int rc, genesis_result *res)
{
    if (res == NULL) {
        fprintf(stderr, "error: %s: %s\n", genesis_status_name(rc), genesis_last_error());
        return rc == GENESIS_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_ERROR_STATUS;
    }
    int code = fail_with_result(cfg, res);
    genesis_result_free(res);
    return code;
}

/* ---------------------------------------------------------------------------------------- */
/* status                                                                                    */

static int cmd_status(struct ctl_config *cfg, genesis_client *cl)
{
    genesis_result *res = NULL;
    int rc = genesis_client_status(cl, cfg->timeout_ms, &res);
    if (rc != GENESIS_OK)
        return report_failure(cfg, rc, res);

    size_t len = 0;
    const char *data = genesis_result_data(res, &len);
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (root == NULL || !json_is_object(root)) {
        fprintf(stderr, "error: the status report is not a JSON object: %s\n",
                root == NULL ? jerr.text : "wrong type");
        if (cfg->json)
            fwrite(data, 1, len, stdout);
        json_decref(root);
        genesis_result_free(res);
        return EXIT_ERROR_STATUS;
    }
    genesis_result_free(res);

    int code = EXIT_OK;
    if (cfg->json) {
        if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
            fprintf(stderr, "genesisctl: cannot write the status report\n");
            code = EXIT_ERROR_STATUS;
        }
        printf("\n");
    } else if (ctl_print_status(root, cfg->wide) != 0) {
        fprintf(stderr, "genesisctl: out of memory\n");
        code = EXIT_ERROR_STATUS;
    }
    json_decref(root);
    return code;
}

/* ---------------------------------------------------------------------------------------- */
/* request, emit                                                                             */

/* DATA is JSON when jansson parses it (any value, e.g. 42 or "x"), else plain text. */
static const char *content_type_of(const char *data)
{
    json_error_t jerr;
    json_t *v = json_loads(data, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        return "text/plain";
    json_decref(v);
    return "application/json";
}

static void init_call_options(const struct ctl_config *cfg, genesis_call_options *opts,
                              const char *data)
{
    /* The library we link is the one we were built against; init cannot fail here, and
     * genesis_client_request would reject a bad version anyway. */
    if (genesis_call_options_init(opts, GENESIS_CALL_OPTIONS_VERSION) != GENESIS_OK) {
        memset(opts, 0, sizeof *opts);
        opts->version = GENESIS_CALL_OPTIONS_VERSION;
    }
    opts->timeout_ms = cfg->timeout_ms;
    opts->source = cfg->source;
    opts->content_type = data != NULL ? content_type_of(data) : NULL;
    opts->request_id = cfg->request_id;
}

/* Print a call's reply payload, or report its failure; frees res. Returns the exit code. */
static int print_outcome(struct ctl_config *cfg, int rc, genesis_result *res)
{
    if (res == NULL) {
        /* Only bad parameters leave no result. */
        fprintf(stderr, "error: %s: %s\n", genesis_status_name(rc), genesis_last_error());
        return rc == GENESIS_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_ERROR_STATUS;
    }
    int code = EXIT_OK;
    if (rc != GENESIS_OK) {
        code = fail_with_result(cfg, res);
    } else {
        size_t len = 0;
        const void *payload = genesis_result_data(res, &len);
        fwrite(payload, 1, len, stdout);
        fputc('\n', stdout);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "genesisctl: cannot write the reply: %s\n", strerror(errno));
            code = EXIT_ERROR_STATUS;
        }
    }
    genesis_result_free(res);
    return code;
}

static int cmd_request(struct ctl_config *cfg, genesis_client *cl)
{
    const char *target = cfg->args[0];
    const char *type = cfg->args[1];
    const char *data = cfg->nargs == 3 ? cfg->args[2] : NULL;

    genesis_call_options opts;
    init_call_options(cfg, &opts, data);
    genesis_result *res = NULL;
    int rc = genesis_client_request(cl, target, type, data, data ? strlen(data) : 0, &opts, &res);
    return print_outcome(cfg, rc, res);
}

/* mode / breaker / policy / fault: an Admin envelope; the coordinator answers with JSON. */
static int cmd_admin(struct ctl_config *cfg, genesis_client *cl)
{
    genesis_result *res = NULL;
    /* "supervisor restart ID" is genesisd's admin command "supervisor.restart ID". */
    int supervisor = strcmp(cfg->command, "supervisor") == 0;
    const char *command = supervisor ? "supervisor.restart" : cfg->command;
    char **args = supervisor ? cfg->args + 1 : cfg->args;
    size_t nargs = (size_t)cfg->nargs - (supervisor ? 1 : 0);
    int rc =
        genesis_client_admin(cl, command, (const char *const *)args, nargs, cfg->timeout_ms, &res);
    if (cfg->json || rc != GENESIS_OK || res == NULL)
        return print_outcome(cfg, rc, res);
    size_t len = 0;
    const char *text = genesis_result_data(res, &len);
    json_t *doc = json_loadb(text, len, 0, NULL);
    ctl_print_admin(cfg->command, cfg->args, (size_t)cfg->nargs, doc, text, len);
    json_decref(doc);
    genesis_result_free(res);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "genesisctl: cannot write the answer: %s\n", strerror(errno));
        return EXIT_ERROR_STATUS;
    }
    return EXIT_OK;
}

static int cmd_emit(struct ctl_config *cfg, genesis_client *cl)
{
    const char *type = cfg->args[0];
    const char *data = cfg->nargs == 2 ? cfg->args[1] : NULL;

    genesis_call_options opts;
    init_call_options(cfg, &opts, data);
    genesis_result *res = NULL;
    int rc = genesis_client_emit(cl, type, data, data ? strlen(data) : 0, &opts, &res);
    if (rc != GENESIS_OK)
        return report_failure(cfg, rc, res);
    genesis_result_free(res);
    if (cfg->verbose)
        printf("emitted\n");
    return EXIT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* watch                                                                                     */

struct watch_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;            /* set by the signal thread or when count events were printed */
    int signal_received; /* which signal stopped us, 0 if none */
    unsigned long printed;
    unsigned long count;       /* 0 = unlimited */
    const char *type_filter;   /* NULL = every type */
    const char *source_filter; /* NULL = every source */
};

/* Print bytes so that an event stays one line: printable ASCII as is, the rest escaped. */
static void print_escaped(const unsigned char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = data[i];
        if (ch == '\\')
            fputs("\\\\", stdout);
        else if (ch == '\n')
            fputs("\\n", stdout);
        else if (ch == '\r')
            fputs("\\r", stdout);
        else if (ch == '\t')
            fputs("\\t", stdout);
        else if (ch < 0x20 || ch >= 0x7f)
            printf("\\x%02x", ch);
        else
            fputc(ch, stdout);
    }
}

static void watch_on_event(const genesis_event *ev, void *arg)
{
    struct watch_state *ws = arg;
    pthread_mutex_lock(&ws->lock);
    if (ws->stop ||
        (ws->type_filter != NULL &&
         strncmp(genesis_event_type(ev), ws->type_filter, strlen(ws->type_filter)) != 0) ||
        (ws->source_filter != NULL && strcmp(genesis_event_source(ev), ws->source_filter) != 0)) {
        pthread_mutex_unlock(&ws->lock);
        return;
    }
    size_t len = 0;
    const unsigned char *data = genesis_event_data(ev, &len);
    printf("seq=%" PRIu64 " topic=%s:%s source=%s data=", genesis_event_sequence(ev),
           genesis_event_is_external(ev) ? "external" : "local", genesis_event_type(ev),
           genesis_event_source(ev));
    print_escaped(data, len);
    fputc('\n', stdout);
    fflush(stdout);
    ws->printed++;
    if (ws->count != 0 && ws->printed >= ws->count) {
        ws->stop = 1;
        pthread_cond_broadcast(&ws->cond);
    }
    pthread_mutex_unlock(&ws->lock);
}

struct signal_waiter {
    sigset_t set;
    struct watch_state *ws;
};

/* Collects SIGINT/SIGTERM synchronously (they are blocked in every thread), so nothing runs
 * in signal-handler context. */
static void *signal_thread(void *arg)
{
    struct signal_waiter *sw = arg;
    int sig = 0;
    if (sigwait(&sw->set, &sig) != 0)
        sig = 0; /* only a bad set fails; stop rather than hang */
    pthread_mutex_lock(&sw->ws->lock);
    if (!sw->ws->stop)
        sw->ws->signal_received = sig;
    sw->ws->stop = 1;
    pthread_cond_broadcast(&sw->ws->cond);
    pthread_mutex_unlock(&sw->ws->lock);
    return NULL;
}

static int cmd_watch(struct ctl_config *cfg, genesis_client *cl, struct signal_waiter *sw)
{
    const char *prefix = cfg->nargs == 1 ? cfg->args[0] : "";
    struct watch_state *ws = sw->ws;
    ws->count = cfg->count;
    ws->type_filter = cfg->type_filter;
    ws->source_filter = cfg->source_filter;

    int rc = genesis_client_subscribe(cl, prefix, watch_on_event, ws);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "error: %s: cannot subscribe to %s: %s\n", genesis_status_name(rc),
                cfg->events, genesis_last_error());
        return rc == GENESIS_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_UNREACHABLE;
    }
    if (cfg->verbose)
        fprintf(stderr, "watching %s for topics starting with '%s'\n", cfg->events, prefix);

    pthread_mutex_lock(&ws->lock);
    while (!ws->stop)
        pthread_cond_wait(&ws->cond, &ws->lock);
    pthread_mutex_unlock(&ws->lock);

    uint64_t lost = genesis_client_get_events_lost(cl);
    if (lost != 0)
        fprintf(stderr,
                "genesisctl: %" PRIu64 " event(s) lost (gaps in sequence numbers or a "
                "full delivery queue)\n",
                lost);
    return EXIT_OK;
}

/* ---------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    struct ctl_config cfg;
    int code = parse_args(argc, argv, &cfg);
    if (code >= 0)
        return code;

    /* Block the stop signals before the library starts threads, so they inherit the mask and
     * only our signal thread (watch) ever sees SIGINT/SIGTERM. Other commands are short and
     * bounded by --timeout; for them the default action (terminate) is restored below. */
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): parse_args set the command */
    int watching = strcmp(cfg.command, "watch") == 0;
    struct watch_state ws = {.stop = 0};
    struct signal_waiter sw;
    pthread_t sig_thread;
    int sig_thread_started = 0;
    signal(SIGPIPE, SIG_IGN);
    if (watching) {
        sigemptyset(&sw.set);
        sigaddset(&sw.set, SIGINT);
        sigaddset(&sw.set, SIGTERM);
        sw.ws = &ws;
        if (pthread_mutex_init(&ws.lock, NULL) != 0 || pthread_cond_init(&ws.cond, NULL) != 0 ||
            pthread_sigmask(SIG_BLOCK, &sw.set, NULL) != 0) {
            fprintf(stderr, "genesisctl: cannot set up signal handling\n");
            return EXIT_ERROR_STATUS;
        }
    }

    genesis_client_options copts;
    if (genesis_client_options_init(&copts, GENESIS_CLIENT_OPTIONS_VERSION) != GENESIS_OK) {
        fprintf(stderr, "genesisctl: library rejected client options version %d: %s\n",
                GENESIS_CLIENT_OPTIONS_VERSION, genesis_last_error());
        return EXIT_ERROR_STATUS;
    }
    copts.name = cfg.source;
    copts.default_timeout_ms = cfg.timeout_ms;
    copts.worker_threads = 1; /* callbacks are printed one at a time anyway */

    genesis_client *cl = NULL;
    int rc = genesis_client_new(&cl, &copts);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisctl: cannot create a client: %s (%s)\n", genesis_last_error(),
                genesis_status_name(rc));
        return EXIT_ERROR_STATUS;
    }
    rc = genesis_client_dial(cl, cfg.url, watching ? cfg.events : NULL);
    if (rc != GENESIS_OK) {
        fprintf(stderr, "genesisctl: cannot dial %s%s%s: %s (%s)\n", cfg.url,
                watching ? " and " : "", watching ? cfg.events : "", genesis_last_error(),
                genesis_status_name(rc));
        genesis_client_free(cl);
        return rc == GENESIS_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_UNREACHABLE;
    }

    if (watching) {
        if (pthread_create(&sig_thread, NULL, signal_thread, &sw) != 0) {
            fprintf(stderr, "genesisctl: cannot start the signal thread\n");
            genesis_client_free(cl);
            return EXIT_ERROR_STATUS;
        }
        sig_thread_started = 1;
        code = cmd_watch(&cfg, cl, &sw);
    } else if (strcmp(cfg.command, "status") == 0) {
        code = cmd_status(&cfg, cl);
    } else if (strcmp(cfg.command, "request") == 0) {
        code = cmd_request(&cfg, cl);
    } else if (is_admin_command(cfg.command)) {
        code = cmd_admin(&cfg, cl);
    } else {
        code = cmd_emit(&cfg, cl);
    }

    /* No callback runs after this returns, so the watch state can be read without races. */
    genesis_client_free(cl);
    if (watching) {
        if (sig_thread_started) {
            pthread_mutex_lock(&ws.lock);
            int by_signal = ws.signal_received != 0;
            pthread_mutex_unlock(&ws.lock);
            if (!by_signal)
                /* SIGTERM is blocked and awaited by that thread's sigwait: this wakes it. */
                pthread_kill(sig_thread, SIGTERM); /* NOLINT(bugprone-bad-signal-to-kill-thread) */
            pthread_join(sig_thread, NULL);
        }
        pthread_cond_destroy(&ws.cond);
        pthread_mutex_destroy(&ws.lock);
    }
    return code;
}
