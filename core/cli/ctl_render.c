/* genesisctl's output for people (see ctl_render.h). */
#define _POSIX_C_SOURCE 200809L
#include "ctl_render.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Render any JSON value as a short cell: strings bare, booleans yes/no, null "-", arrays
 * comma-joined, objects compact. Returns a malloc'd string or NULL. */
static char *json_cell(const json_t *v)
{
    char buf[64];
    if (v == NULL || json_is_null(v))
        return strdup("-");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return strdup(buf);
    }
    if (json_is_real(v)) {
        snprintf(buf, sizeof buf, "%g", json_real_value(v));
        return strdup(buf);
    }
    if (json_is_boolean(v))
        return strdup(json_is_true(v) ? "yes" : "no");
    if (json_is_array(v)) {
        size_t total = 2, i; /* room for "-" when empty, or the terminator */
        const json_t *item;
        char **parts = calloc(json_array_size(v) + 1, sizeof *parts);
        if (parts == NULL)
            return NULL;
        json_array_foreach(v, i, item)
        {
            parts[i] = json_cell(item);
            total += (parts[i] ? strlen(parts[i]) : 0) + 1;
        }
        char *out = malloc(total);
        if (out != NULL) {
            out[0] = '\0';
            for (i = 0; i < json_array_size(v); i++) {
                if (i > 0)
                    strcat(out, ",");
                if (parts[i] != NULL)
                    strcat(out, parts[i]);
            }
            if (out[0] == '\0')
                strcpy(out, "-");
        }
        for (i = 0; i < json_array_size(v); i++)
            free(parts[i]);
        free(parts);
        return out;
    }
    return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

static void print_field(const char *label, const json_t *obj, const char *key)
{
    char *cell = json_cell(json_object_get(obj, key));
    printf("%-12s %s\n", label, cell ? cell : "?");
    free(cell);
}

static long long json_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return 0;
}

static void print_uptime(const json_t *root)
{
    const json_t *v = json_object_get(root, "uptime_ms");
    if (!json_is_number(v)) {
        printf("%-12s -\n", "uptime:");
        return;
    }
    long long ms = json_int(root, "uptime_ms");
    long long s = ms / 1000;
    if (s >= 86400)
        printf("%-12s %lldd %02lldh %02lldm %02llds\n", "uptime:", s / 86400, s / 3600 % 24,
               s / 60 % 60, s % 60);
    else if (s >= 3600)
        printf("%-12s %lldh %02lldm %02llds\n", "uptime:", s / 3600, s / 60 % 60, s % 60);
    else
        printf("%-12s %lldm %02lld.%03llds\n", "uptime:", s / 60, s % 60, ms % 1000);
}

/* The wide components table (-o wide): one column per key, widths fitted to the content. */
static const struct column {
    const char *key;
    const char *title;
} columns[] = {
    {"id", "ID"},
    {"remote", "REMOTE"},
    {"health", "HEALTH"},
    {"breaker", "BREAKER"},
    {"in_flight", "IN_FLIGHT"},
    {"queued", "QUEUED"},
    {"requests", "REQUESTS"},
    {"failures", "FAILURES"},
    {"retries", "RETRIES"},
    {"latency_us.p99", "P99_US"},
    {"events_delivered", "EV_DELIVERED"},
    {"events_dropped", "EV_DROPPED"},
    {"instances", "INSTANCES"},
    {"checkpoint.generation", "CKPT_GEN"},
    {"checkpoint.age_ms", "CKPT_AGE_MS"},
    {"checkpoint.size", "CKPT_BYTES"},
    {"urls", "URLS"},
};

/* obj[key], where "a.b" reads obj["a"]["b"]. */
static const json_t *json_path(const json_t *obj, const char *key)
{
    const char *dot = strchr(key, '.');
    if (dot == NULL)
        return json_object_get(obj, key);
    char head[64];
    size_t len = (size_t)(dot - key);
    if (len >= sizeof head)
        return NULL;
    memcpy(head, key, len);
    head[len] = '\0';
    return json_path(json_object_get(obj, head), dot + 1);
}
#define NCOLUMNS (sizeof columns / sizeof columns[0])

static void print_cell(const char *text, size_t width, int last)
{
    if (last)
        printf("%s\n", text);
    else
        printf("%-*s  ", (int)width, text);
}

static int print_wide_table(const json_t *components)
{
    size_t rows = json_array_size(components);
    if (rows == 0) {
        printf("components:  none\n");
        return 0;
    }
    char **cells = calloc(rows * NCOLUMNS, sizeof *cells);
    if (cells == NULL)
        return -1;
    size_t width[NCOLUMNS];
    for (size_t c = 0; c < NCOLUMNS; c++)
        width[c] = strlen(columns[c].title);
    for (size_t r = 0; r < rows; r++) {
        const json_t *comp = json_array_get(components, r);
        for (size_t c = 0; c < NCOLUMNS; c++) {
            char *cell = json_cell(json_path(comp, columns[c].key));
            cells[r * NCOLUMNS + c] = cell;
            if (cell != NULL && strlen(cell) > width[c])
                width[c] = strlen(cell);
        }
    }
    printf("\n");
    for (size_t c = 0; c < NCOLUMNS; c++)
        print_cell(columns[c].title, width[c], c + 1 == NCOLUMNS);
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < NCOLUMNS; c++) {
            const char *cell = cells[r * NCOLUMNS + c];
            print_cell(cell ? cell : "?", width[c], c + 1 == NCOLUMNS);
        }
    }
    for (size_t i = 0; i < rows * NCOLUMNS; i++)
        free(cells[i]);
    free(cells);
    return 0;
}

/* A latency in microseconds as "850us", "2.1ms" or "1.20s". */
static void fmt_us(long long us, char *buf, size_t size)
{
    if (us <= 0)
        snprintf(buf, size, "-");
    else if (us < 1000)
        snprintf(buf, size, "%lldus", us);
    else if (us < 1000000)
        snprintf(buf, size, "%.*fms", us < 10000 ? 2 : 1, (double)us / 1000.0);
    else
        snprintf(buf, size, "%.2fs", (double)us / 1e6);
}

/* A duration in milliseconds as "850ms", "12s", "3m04s", "2h05m". */
static void fmt_ms(long long ms, char *buf, size_t size)
{
    long long s = ms / 1000;
    if (ms < 0)
        snprintf(buf, size, "-");
    else if (ms < 1000)
        snprintf(buf, size, "%lldms", ms);
    else if (s < 60)
        snprintf(buf, size, "%llds", s);
    else if (s < 3600)
        snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
    else
        snprintf(buf, size, "%lldh%02lldm", s / 3600, s / 60 % 60);
}

/* text cut to width characters, the last one '~' when something was cut. */
static void cut(const char *text, size_t width, char *buf, size_t size)
{
    size_t n = strlen(text);
    if (n <= width || width < 2) {
        snprintf(buf, size, "%s", text);
        return;
    }
    snprintf(buf, size, "%.*s~", (int)(width - 1), text);
}

enum { N_NARROW = 10 };

/* The narrow table: what an operator scans for, in at most CTL_COLUMNS columns. The id column
 * gives way first (cut with '~'); -o wide shows everything. */
static int print_narrow_table(const json_t *components)
{
    static const char *const titles[N_NARROW] = {"COMPONENT", "HEALTH", "BREAKER", "INFL", "QUEUE",
                                                 "REQUESTS",  "FAILED", "P99",     "INST", "CKPT"};
    static const int right[N_NARROW] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 1};
    size_t rows = json_array_size(components);
    char(*cells)[N_NARROW][160] = calloc(rows, sizeof(*cells));
    if (cells == NULL)
        return -1;
    size_t width[N_NARROW];
    for (size_t c = 0; c < N_NARROW; c++)
        width[c] = strlen(titles[c]);
    for (size_t r = 0; r < rows; r++) {
        const json_t *comp = json_array_get(components, r);
        const char *id = json_string_value(json_object_get(comp, "id"));
        const char *health = json_string_value(json_object_get(comp, "health"));
        const char *breaker = json_string_value(json_object_get(comp, "breaker"));
        const json_t *ck = json_object_get(comp, "checkpoint");
        snprintf(cells[r][0], 160, "%s", id ? id : "?");
        snprintf(cells[r][1], 160, "%s", health ? health : "?");
        snprintf(cells[r][2], 160, "%s", breaker ? breaker : "?");
        snprintf(cells[r][3], 160, "%lld", json_int(comp, "in_flight"));
        snprintf(cells[r][4], 160, "%lld", json_int(comp, "queued"));
        snprintf(cells[r][5], 160, "%lld", json_int(comp, "requests"));
        snprintf(cells[r][6], 160, "%lld", json_int(comp, "failures"));
        fmt_us(json_int(json_object_get(comp, "latency_us"), "p99"), cells[r][7], 160);
        if (json_is_true(json_object_get(comp, "remote")))
            snprintf(cells[r][8], 160, "%lld", json_int(comp, "instances"));
        else
            snprintf(cells[r][8], 160, "local");
        if (json_int(ck, "generation") > 0)
            snprintf(cells[r][9], 160, "%lld", json_int(ck, "generation"));
        else
            snprintf(cells[r][9], 160, "-");
        for (size_t c = 0; c < N_NARROW; c++)
            if (strlen(cells[r][c]) > width[c])
                width[c] = strlen(cells[r][c]);
    }
    size_t total = 2 * (N_NARROW - 1);
    for (size_t c = 0; c < N_NARROW; c++)
        total += width[c];
    if (total > CTL_COLUMNS) {
        size_t over = total - CTL_COLUMNS;
        size_t min_id = strlen(titles[0]);
        width[0] = width[0] - over > min_id && width[0] > over ? width[0] - over : min_id;
    }
    printf("\n");
    for (size_t c = 0; c < N_NARROW; c++)
        printf("%*s%s", right[c] ? (int)width[c] : -(int)width[c], titles[c],
               c + 1 < N_NARROW ? "  " : "\n");
    for (size_t r = 0; r < rows; r++) {
        char shown[160];
        for (size_t c = 0; c < N_NARROW; c++) {
            cut(cells[r][c], width[c], shown, sizeof(shown));
            int w = (int)width[c];
            if (c + 1 == N_NARROW)
                printf("%*s\n", right[c] ? w : 0, shown);
            else if (right[c])
                printf("%*s  ", w, shown);
            else
                printf("%-*s  ", w, shown);
        }
    }
    free(cells);
    return 0;
}

/* Checkpoint totals, and the children genesisd supervises with their restarts and why. */
static void print_recovery(const json_t *root, int wide)
{
    const json_t *ck = json_object_get(root, "checkpoints");
    if (json_is_object(ck)) {
        const char *store = json_string_value(json_object_get(ck, "store"));
        char line[512], shown[CTL_COLUMNS + 1];
        snprintf(line, sizeof(line), "%-12s %s (written %lld, failures %lld, corrupt skipped %lld)",
                 "checkpoints:", store != NULL && store[0] != '\0' ? store : "none (not durable)",
                 json_int(ck, "written"), json_int(ck, "failures"), json_int(ck, "corrupt"));
        cut(line, wide ? sizeof(line) : CTL_COLUMNS, shown, sizeof(shown));
        printf("%s\n", wide ? line : shown);
    }
    const json_t *sup = json_object_get(root, "supervised");
    size_t i;
    const json_t *child;
    json_array_foreach(sup, i, child)
    {
        const char *id = json_string_value(json_object_get(child, "id"));
        const char *state = json_string_value(json_object_get(child, "state"));
        const char *last = json_string_value(json_object_get(child, "last_exit"));
        char up[32], line[1024], shown[CTL_COLUMNS + 1];
        fmt_ms(json_int(child, "uptime_ms"), up, sizeof(up));
        snprintf(line, sizeof(line), "%-12s %s %s, pid %lld, %lld restarts, up %s%s%s",
                 i == 0 ? "supervised:" : "", id ? id : "?", state ? state : "?",
                 json_int(child, "pid"), json_int(child, "restarts"), up,
                 last != NULL && last[0] != '\0' ? "; last exit: " : "", last ? last : "");
        cut(line, wide ? sizeof(line) : CTL_COLUMNS, shown, sizeof(shown));
        printf("%s\n", wide ? line : shown);
    }
}

/* Cluster mode: this node, the cluster's state, every node with its front door and when its
 * lease was last renewed, the owner of each supervised component, and the event
 * streams. */
static void print_cluster(const json_t *root)
{
    const json_t *c = json_object_get(root, "cluster");
    if (!json_is_object(c))
        return;
    const char *state = json_string_value(json_object_get(c, "state"));
    const char *reason = json_string_value(json_object_get(c, "reason"));
    const char *node = json_string_value(json_object_get(c, "node_id"));
    const char *nats = json_string_value(json_object_get(c, "nats_urls"));
    printf("%-12s node %s, %s%s%s, NATS %s (%lld replicas)\n", "cluster:", node ? node : "?",
           state ? state : "?", reason != NULL && reason[0] != '\0' ? ": " : "",
           reason ? reason : "", nats ? nats : "?", json_int(c, "replicas"));
    size_t i;
    const json_t *n;
    json_array_foreach(json_object_get(c, "nodes"), i, n)
    {
        const char *id = json_string_value(json_object_get(n, "id"));
        const char *fd = json_string_value(json_object_get(n, "front_door"));
        const char *host = json_string_value(json_object_get(n, "host"));
        printf("%-12s %s%s front door %s, pid %lld on %s, last seen %lld ms ago\n",
               i == 0 ? "nodes:" : "", id ? id : "?",
               json_is_true(json_object_get(n, "self")) ? " (this node)" : "", fd ? fd : "?",
               json_int(n, "pid"), host ? host : "?", json_int(n, "last_seen_ms"));
    }
    /* Supervised components: which node owns each (runs it) and its fencing token. */
    json_array_foreach(json_object_get(c, "owners"), i, n)
    {
        const char *comp = json_string_value(json_object_get(n, "component"));
        const char *owner = json_string_value(json_object_get(n, "owner"));
        bool self = json_is_true(json_object_get(n, "self"));
        if (owner == NULL || owner[0] == '\0')
            printf("%-12s %s: no owner\n", i == 0 ? "owners:" : "", comp ? comp : "?");
        else if (self)
            printf("%-12s %s: %s (this node), token %lld, valid %lld ms more\n",
                   i == 0 ? "owners:" : "", comp ? comp : "?", owner, json_int(n, "token"),
                   json_int(n, "valid_ms"));
        else
            printf("%-12s %s: %s, token %lld\n", i == 0 ? "owners:" : "", comp ? comp : "?", owner,
                   json_int(n, "token"));
    }
    /* The cluster's event streams: where they are and how far behind this node is. */
    const char *scopes[2] = {"local", "external"};
    for (int k = 0; k < 2; k++) {
        const json_t *e = json_object_get(json_object_get(c, "events"), scopes[k]);
        if (!json_is_object(e))
            continue;
        const char *stream = json_string_value(json_object_get(e, "stream"));
        printf("%-12s %s %s: sequence %lld, delivered %lld (lag %lld), missed %lld\n",
               k == 0 ? "events:" : "", scopes[k], stream ? stream : "?",
               json_int(e, "last_sequence"), json_int(e, "delivered_sequence"), json_int(e, "lag"),
               json_int(e, "missed"));
    }
}

int ctl_print_status(const json_t *root, int wide)
{
    const json_t *stats = json_object_get(root, "stats");
    const char *mode = json_string_value(json_object_get(root, "mode"));
    printf("%-12s %s%s\n", "mode:", mode ? mode : "?",
           json_is_true(json_object_get(root, "mode_forced")) ? " (forced by an operator)" : "");
    print_field("version:", root, "version");
    print_uptime(root);
    print_field("front door:", root, "front_door_url");
    print_field("event bus:", root, "event_bus_url");
    printf("%-12s %lld (succeeded %lld, failed %lld: timed out %lld, rejected %lld)\n",
           "requests:", json_int(stats, "requests"), json_int(stats, "succeeded"),
           json_int(stats, "failed"), json_int(stats, "timed_out"), json_int(stats, "rejected"));
    printf("%-12s emitted %lld, delivered %lld, dropped %lld, published %lld\n",
           "events:", json_int(stats, "events_emitted"), json_int(stats, "events_delivered"),
           json_int(stats, "events_dropped"), json_int(stats, "events_published"));
    printf("%-12s %lld\n", "malformed:", json_int(stats, "malformed"));
    printf("%-12s front door %lld open, cap %lld\n",
           "connections:", json_int(stats, "front_door_connections"),
           json_int(stats, "front_door_connection_cap"));
    /* The section a gateway adds to the report it serves (GET /v1/status). */
    const json_t *gw = json_object_get(root, "gateway");
    if (json_is_object(gw))
        printf("%-12s %lld connections open, cap %lld (%lld refused at the cap); %lld WebSocket "
               "sessions, cap %lld\n",
               "gateway:", json_int(gw, "connections"), json_int(gw, "connection_cap"),
               json_int(gw, "connections_refused"), json_int(gw, "websocket_sessions"),
               json_int(gw, "websocket_cap"));
    print_recovery(root, wide);
    print_cluster(root);
    const json_t *components = json_object_get(root, "components");
    if (json_array_size(components) == 0) {
        printf("components:  none\n");
        return 0;
    }
    return wide ? print_wide_table(components) : print_narrow_table(components);
}

/* ---- operator commands ------------------------------------------------------------------ */

static const char *str_of(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : "?";
}

static void print_policy(const json_t *policy)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)policy, key, v)
    {
        char unit[48] = "";
        size_t n = strlen(key);
        if (n > 3 && strcmp(key + n - 3, "_ms") == 0 && json_integer_value(v) >= 1000) {
            char d[32];
            fmt_ms(json_integer_value(v), d, sizeof(d));
            snprintf(unit, sizeof(unit), "  (%s)", d);
        }
        char *cell = json_cell(v);
        printf("  %-30s %s%s\n", key, cell ? cell : "?", unit);
        free(cell);
    }
}

static void print_checkpoints(const json_t *list)
{
    if (json_array_size(list) == 0) {
        printf("no checkpoint stored\n");
        return;
    }
    printf("%-24s %10s %10s  %s\n", "COMPONENT", "GENERATION", "BYTES", "WRITTEN (UTC)");
    size_t i;
    const json_t *c;
    json_array_foreach(list, i, c)
    {
        time_t t = (time_t)(json_int(c, "created_ms") / 1000);
        struct tm tm;
        char when[32] = "?";
        if (gmtime_r(&t, &tm) != NULL)
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        char id[32];
        cut(str_of(c, "component"), 24, id, sizeof(id));
        printf("%-24s %10lld %10lld  %s\n", id, json_int(c, "generation"), json_int(c, "size"),
               when);
    }
}

static void print_list(const char *label, const json_t *items)
{
    printf("%s", label);
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
        printf("%s%s", i ? "; " : " ", json_string_value(it) ? json_string_value(it) : "?");
    printf("\n");
}

void ctl_print_admin(const char *command, char *const *args, size_t nargs, const json_t *doc,
                     const char *text, size_t text_len)
{
    if (!json_is_object(doc)) { /* a text answer (supervisor restart): already a sentence */
        fwrite(text, 1, text_len, stdout);
        printf("\n");
        return;
    }
    if (strcmp(command, "mode") == 0) {
        const char *mode = str_of(doc, "mode"), *computed = str_of(doc, "computed");
        int forced = json_is_true(json_object_get(doc, "forced"));
        if (forced)
            printf("mode %s, forced by an operator (automatic: %s); 'genesisctl mode AUTO' ends "
                   "the override\n",
                   mode, computed);
        else if (nargs > 0)
            printf("mode back to automatic: %s\n", mode);
        else
            printf("mode %s (automatic)\n", mode);
    } else if (strcmp(command, "breaker") == 0) {
        const char *id = str_of(doc, "component"), *state = str_of(doc, "breaker");
        long long for_ms = json_int(doc, "for_ms");
        if (strcmp(state, "FORCED_OPEN") == 0 && for_ms > 0) {
            char d[32];
            fmt_ms(for_ms, d, sizeof(d));
            printf("%s: breaker forced open for %s, then half-open (probes decide); "
                   "'genesisctl breaker %s reset' closes it now\n",
                   id, d, id);
        } else if (strcmp(state, "METRICS_ONLY") == 0)
            printf("%s: breaker measuring only: every request is admitted, outcomes and rates are "
                   "recorded, it never opens; 'genesisctl breaker %s reset' makes it automatic "
                   "again\n",
                   id, id);
        else if (strcmp(state, "FORCED_OPEN") == 0)
            printf("%s: breaker forced open: every request is rejected until "
                   "'genesisctl breaker %s reset'\n",
                   id, id);
        else if (strcmp(state, "CLOSED") == 0)
            printf("%s: breaker reset: CLOSED and automatic again (empty window, base open "
                   "time)\n",
                   id);
        else if (strcmp(state, "DISABLED") == 0)
            printf("%s: breaker disabled: every request is admitted and none is recorded, until "
                   "'genesisctl breaker %s reset'\n",
                   id, id);
        else
            printf("%s: breaker %s\n", id, state);
    } else if (strcmp(command, "policy") == 0) {
        const char *id = str_of(doc, "component");
        if (nargs > 1) {
            printf("%s: policy changed (", strcmp(id, "*") == 0 ? "default" : id);
            for (size_t i = 1; i < nargs; i++)
                printf("%s%s", i > 1 ? ", " : "", args[i]);
            printf("); now:\n");
        } else {
            printf("%s:\n", strcmp(id, "*") == 0 ? "default policy"
                                                 : "policy of this component (default + its own)");
        }
        print_policy(json_object_get(doc, "policy"));
    } else if (strcmp(command, "fault") == 0) {
        const char *id = str_of(doc, "component");
        double rate = json_number_value(json_object_get(doc, "error_rate"));
        long long latency = json_int(doc, "latency_ms");
        int hang = json_is_true(json_object_get(doc, "hang"));
        int crash = json_is_true(json_object_get(doc, "crash"));
        if (rate == 0 && latency == 0 && !hang && !crash)
            printf("%s: no fault injected\n", id);
        else
            printf("%s: fault injected: %.0f%% of attempts fail, %lld ms added latency%s%s; clear "
                   "it with 'genesisctl fault %s clear'\n",
                   id, rate * 100, latency, hang ? ", handlers hang" : "", crash ? ", crashed" : "",
                   id);
    } else if (strcmp(command, "checkpoint") == 0) {
        const char *sub = nargs > 0 ? args[0] : "";
        if (strcmp(sub, "list") == 0) {
            print_checkpoints(json_object_get(doc, "checkpoints"));
        } else if (strcmp(sub, "restore") == 0) {
            printf("%s restored from generation %lld (%lld bytes)\n", str_of(doc, "component"),
                   json_int(doc, "generation"), json_int(doc, "size"));
        } else {
            printf("%s generation %lld, %lld bytes:\n", str_of(doc, "component"),
                   json_int(doc, "generation"), json_int(doc, "size"));
            const json_t *data = json_object_get(doc, "data");
            char *cell = json_is_string(data) ? strdup(json_string_value(data)) : json_cell(data);
            printf("%s\n", cell ? cell : "");
            free(cell);
        }
    } else if (strcmp(command, "reload") == 0) {
        const json_t *applied = json_object_get(doc, "applied");
        const json_t *not_applied = json_object_get(doc, "not_applied");
        printf("reloaded %s (reload %lld)", str_of(doc, "file"), json_int(doc, "reloads"));
        if (json_array_size(applied) == 0 && json_array_size(not_applied) == 0) {
            printf(": nothing changed\n");
            return;
        }
        printf("\n");
        if (json_array_size(applied) > 0)
            print_list("applied:", applied);
        if (json_array_size(not_applied) > 0)
            print_list("needs a restart:", not_applied);
    } else {
        char *cell = json_cell(doc);
        printf("%s\n", cell ? cell : "");
        free(cell);
    }
}

/* ---- what to do after an error ---------------------------------------------------------- */

const char *ctl_error_hint(const char *command, char *const *args, size_t nargs,
                           const genesis_result *res, const char *url, unsigned int timeout_ms,
                           char *buf, size_t size)
{
    int status = genesis_result_status(res);
    int reason = genesis_result_reason(res);
    const char *msg = genesis_result_message(res);
    const char *id = nargs > 0 ? args[0] : "";
    if (strcmp(command, "checkpoint") == 0 || strcmp(command, "supervisor") == 0)
        id = nargs > 1 ? args[1] : "";
    if (reason == GENESIS_REASON_UNREACHABLE)
        snprintf(buf, size,
                 "could not reach the coordinator at %s: is genesisd running and listening "
                 "there? (set it with --url or $GENESIS_URL)",
                 url);
    else if (strcmp(command, "supervisor") == 0 && status == GENESIS_UNIMPLEMENTED)
        snprintf(buf, size,
                 "this genesisd has no supervised children: start it with --supervise "
                 "ID=COMMAND (or components.<id>.command in its --config file)");
    else if (strcmp(command, "supervisor") == 0 && status == GENESIS_NOT_FOUND)
        snprintf(buf, size,
                 "'%s' is not supervised here: 'genesisctl status' lists the "
                 "supervised children",
                 id);
    else if (strcmp(command, "reload") == 0 && status == GENESIS_FAILED_PRECONDITION)
        snprintf(buf, size, "start genesisd with --config FILE to be able to reload it");
    else if (strcmp(command, "fault") == 0 && status == GENESIS_PERMISSION_DENIED)
        snprintf(buf, size, "restart genesisd with --allow-faults (test and chaos runs only)");
    else if (strcmp(command, "checkpoint") == 0 && reason == GENESIS_REASON_STORAGE_ERROR)
        snprintf(buf, size, "start genesisd with --checkpoint-db PATH to keep checkpoints");
    else if (strcmp(command, "checkpoint") == 0 && status == GENESIS_NOT_FOUND)
        snprintf(buf, size, "'genesisctl checkpoint list %s' shows the stored generations", id);
    else if (reason == GENESIS_REASON_BREAKER_OPEN)
        snprintf(buf, size,
                 "%s's breaker is open: requests fail fast until it half-opens; 'genesisctl "
                 "breaker %s reset' closes it now",
                 id, id);
    else if (reason == GENESIS_REASON_COMPONENT_DOWN)
        snprintf(buf, size, "%s is registered but not healthy: see 'genesisctl status'", id);
    else if (reason == GENESIS_REASON_SHED_BY_MODE)
        snprintf(buf, size,
                 "the degradation mode sheds this request: 'genesisctl mode' shows "
                 "the mode and why");
    else if (status == GENESIS_DEADLINE_EXCEEDED)
        snprintf(buf, size,
                 "no answer within %u ms: raise --timeout, or see the component's latency "
                 "in 'genesisctl status'",
                 timeout_ms);
    else if (status == GENESIS_NOT_FOUND && msg != NULL && strstr(msg, "no component") != NULL)
        snprintf(buf, size, "no component '%s' is registered: 'genesisctl status' lists them", id);
    else
        return NULL;
    return buf;
}
