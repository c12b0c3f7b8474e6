/* genesisd's configuration as a whole (see daemon_settings.h). */
#define _POSIX_C_SOURCE 200809L

#include "daemon_settings.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <genesis/genesis.h>

#include "daemon_config_keys.h"
#include "daemon_log.h"

int daemon_settings_supervise(supervisor *sup, const daemon_supervise_flags *flags,
                              const char **bad_flag, char *why, size_t size)
{
    static const char *const flag_names[] = {"--supervise", "--supervise-env", "--supervise-cwd"};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < flags->n; i++) {
            int kind = flags->kind[i];
            if ((pass == 0) != (kind == DAEMON_SUPERVISE_COMMAND))
                continue;
            const char *spec = flags->spec[i];
            int bad = kind == DAEMON_SUPERVISE_COMMAND ? supervisor_add(sup, spec, why, size)
                      : kind == DAEMON_SUPERVISE_ENV   ? supervisor_add_env(sup, spec, why, size)
                                                       : supervisor_set_cwd(sup, spec, why, size);
            if (bad != 0) {
                if (bad_flag != NULL)
                    *bad_flag = flag_names[kind];
                return -1;
            }
        }
    }
    return 0;
}

int daemon_settings_validate(daemon_config *cfg, supervisor **staged, char *why, size_t size)
{
    if (staged != NULL)
        *staged = NULL;
    if (daemon_policies_validate(&cfg->policies, why, size) != 0)
        return -1;
    supervisor *sup = supervisor_new(NULL, &cfg->supervise.options);
    if (sup == NULL) {
        snprintf(why, size, "out of memory");
        return -1;
    }
    char reason[512];
    if (daemon_settings_supervise(sup, &cfg->supervise, NULL, reason, sizeof reason) != 0) {
        snprintf(why, size, "supervised component: %s", reason);
        supervisor_free(sup);
        return -1;
    }
    if (staged != NULL)
        *staged = sup;
    else
        supervisor_free(sup);
    return 0;
}

/* Each setting of the file parsed on its own: the first bad one is reported with its file
 * and line. Returns -1 when all are valid, else an exit code with why. */
static int check_each_setting(const char *path, const daemon_cli_args *args, char *why, size_t size)
{
    for (size_t i = 0; i < args->n_file; i++) {
        const conf_setting *s = &args->file.settings[i];
        daemon_config one;
        char msg[512];
        char *single[3] = {args->argv[0], args->argv[1 + i], NULL};
        int rc = daemon_options_parse_quietly(2, single, &one, msg, sizeof msg);
        daemon_policies_free(&one.policies);
        if (rc >= 0) {
            const char *text = strncmp(msg, "genesisd: ", 10) == 0 ? msg + 10 : msg;
            snprintf(why, size, "%s:%u: %s: %s", path, s->line, s->key, text);
            return rc == EXIT_SUCCESS ? DAEMON_EXIT_USAGE : rc;
        }
    }
    return -1;
}

int daemon_settings_load(const char *path, int argc, char **argv, daemon_cli_args *args,
                         daemon_config *out, char *why, size_t size)
{
    if (daemon_cli_args_load(args, path, daemon_conf_keys, daemon_conf_keys_count, argc, argv, NULL,
                             NULL, why, size) != 0)
        /* A file that does not load is the operator's mistake; out of memory is not. */
        return args->file.path == NULL ? DAEMON_EXIT_USAGE : EXIT_FAILURE;
    int rc = check_each_setting(path, args, why, size);
    if (rc >= 0)
        return rc;
    char msg[512];
    rc = daemon_options_parse_quietly(args->argc, args->argv, out, msg, sizeof msg);
    if (rc >= 0) {
        snprintf(why, size, "%s", msg);
        return rc;
    }
    if (daemon_settings_validate(out, NULL, msg, sizeof msg) != 0) {
        /* The message starts with the section it is about ("components.c1.resilience: ...");
         * point at the first line of that section the file has. */
        const char *colon = strchr(msg, ':');
        size_t plen = colon != NULL ? (size_t)(colon - msg) : 0;
        if (strncmp(msg, "resilience (", 12) == 0)
            plen = 10;
        unsigned int line = 0;
        for (size_t i = 0; i < args->file.n && line == 0 && plen > 0; i++)
            if (strncmp(args->file.settings[i].key, msg, plen) == 0)
                line = args->file.settings[i].line;
        if (line > 0)
            snprintf(why, size, "%s:%u: %s", path, line, msg);
        else
            snprintf(why, size, "%s: %s", path, msg);
        return DAEMON_EXIT_USAGE;
    }
    return -1;
}

/* YAML double-quoted string. */
static void yaml_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if ((unsigned char)*s < 0x20)
            fprintf(out, "\\x%02x", (unsigned char)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

/* The value after "ID=" of a --supervise* spec whose id is id, or NULL. */
static const char *spec_for(const char *spec, const char *id)
{
    size_t len = strlen(id);
    return strncmp(spec, id, len) == 0 && spec[len] == '=' ? spec + len + 1 : NULL;
}

size_t daemon_settings_component_ids(const daemon_config *cfg, char ids[][DAEMON_POLICY_ID_MAX + 1],
                                     size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->supervise.n + cfg->policies.n && n < cap; i++) {
        char id[DAEMON_POLICY_ID_MAX + 1];
        if (i < cfg->supervise.n) {
            if (cfg->supervise.kind[i] != 0)
                continue;
            const char *eq = strchr(cfg->supervise.spec[i], '=');
            size_t len = eq != NULL ? (size_t)(eq - cfg->supervise.spec[i]) : 0;
            if (len == 0 || len > DAEMON_POLICY_ID_MAX)
                continue;
            memcpy(id, cfg->supervise.spec[i], len);
            id[len] = '\0';
        } else {
            snprintf(id, sizeof id, "%s", cfg->policies.comps[i - cfg->supervise.n].id);
        }
        size_t k;
        for (k = 0; k < n && strcmp(ids[k], id) != 0; k++) {
        }
        if (k == n)
            snprintf(ids[n++], DAEMON_POLICY_ID_MAX + 1, "%s", id);
    }
    return n;
}

void daemon_settings_supervised_text(const daemon_config *cfg, const char *id, char *buf,
                                     size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->supervise.n; i++) {
        const char *v = spec_for(cfg->supervise.spec[i], id);
        if (v != NULL && used < size)
            used += (size_t)snprintf(buf + used, size - used, "%d:%s\n", cfg->supervise.kind[i], v);
    }
}

void daemon_settings_print(FILE *out, const daemon_config *cfg)
{
    const genesis_gateway_options *g = &cfg->gateway;
    fprintf(out, "# genesisd %s: effective configuration\nlisten:\n  front_door: ",
            GENESIS_VERSION_STRING);
    yaml_string(out, cfg->front_door);
    fputs("\n  event_bus: ", out);
    yaml_string(out, cfg->event_bus);
    fputs("\n  http: ", out);
    if (cfg->http)
        fprintf(out, "\"%s:%d\"\n", g->host, g->port);
    else
        fputs("\"off\"\n", out);
    fprintf(out, "workers: %u\ndemo: %s\nallow_faults: %s\n", cfg->workers ? cfg->workers : 4,
            cfg->demo ? "true" : "false", cfg->allow_faults ? "true" : "false");
    fprintf(out, "log:\n  level: %s\n  format: %s\n  rate_limit: %u\n",
            daemon_log_level_name(cfg->log_level), daemon_log_format_name(cfg->log_format),
            cfg->log_rate);
    fputs("checkpoint:\n", out);
    if (cfg->checkpoint_db != NULL) {
        fputs("  db: ", out);
        yaml_string(out, cfg->checkpoint_db);
        fputc('\n', out);
    } else {
        fputs("  # db: none (checkpoints are refused)\n", out);
    }
    genesis_coordinator_options defaults; /* the library's defaults, not a copy of them */
    genesis_coordinator_options_init(&defaults, GENESIS_COORDINATOR_OPTIONS_VERSION);
    fprintf(out, "  interval_ms: %u\n  generations: %u\n",
            cfg->checkpoint_interval_ms ? cfg->checkpoint_interval_ms
                                        : defaults.checkpoint_interval_ms,
            cfg->checkpoint_generations ? cfg->checkpoint_generations
                                        : defaults.checkpoint_generations);
    if (cfg->cluster_nats[0] != '\0') {
        fputs("cluster:\n  nats: ", out);
        yaml_string(out, cfg->cluster_nats);
        fputs("\n  node_id: ", out);
        yaml_string(out, cfg->cluster.node_id);
        fprintf(out, "\n  replicas: %u\n  lease_ttl_ms: %u\n",
                cfg->cluster.replicas ? cfg->cluster.replicas : 3,
                cfg->cluster.lease_ttl_ms ? cfg->cluster.lease_ttl_ms : 5000);
        fprintf(out, "  events_max_age_ms: %llu\n  events_max_bytes: %llu\n",
                (unsigned long long)(cfg->cluster.events_max_age_ms ? cfg->cluster.events_max_age_ms
                                                                    : 86400000ull),
                (unsigned long long)(cfg->cluster.events_max_bytes ? cfg->cluster.events_max_bytes
                                                                   : 1ull << 30));
    } else {
        fputs("# cluster: none (a single node)\n", out);
    }
    fputs("resilience:\n", out);
    daemon_policy_print_yaml(out, &cfg->policies.def, 0, 2, 1);
    char(*ids)[DAEMON_POLICY_ID_MAX + 1] = calloc(DAEMON_SETTINGS_MAX_IDS, sizeof(*ids));
    size_t n = ids != NULL ? daemon_settings_component_ids(cfg, ids, DAEMON_SETTINGS_MAX_IDS) : 0;
    fputs(n > 0 ? "components:\n" : "# components: none\n", out);
    for (size_t k = 0; k < n; k++) {
        fprintf(out, "  %s:\n", ids[k]);
        int envs = 0;
        for (int kind = 0; kind < 3; kind++) {
            for (size_t i = 0; i < cfg->supervise.n; i++) {
                const char *v = spec_for(cfg->supervise.spec[i], ids[k]);
                if (v == NULL || cfg->supervise.kind[i] != kind)
                    continue;
                if (kind == 1 && envs++ == 0)
                    fputs("    env:\n", out);
                fputs(kind == 0 ? "    command: " : kind == 1 ? "      - " : "    cwd: ", out);
                yaml_string(out, v);
                fputc('\n', out);
            }
        }
        const daemon_component_policy *cp = daemon_policy_find(&cfg->policies, ids[k]);
        if (cp != NULL) {
            fputs("    resilience:\n", out);
            daemon_policy_print_yaml(out, &cp->values, cp->mask, 6, 0);
        }
    }
    free(ids);
    const supervisor_options *so = &cfg->supervise.options;
    fprintf(out,
            "supervisor:\n  restart_intensity: \"%u/%g\"\n  restart_backoff: \"%u/%u\"\n"
            "  startup_ms: %u\n  hang_ms: %u\n",
            so->max_restarts, so->window_ms / 1000.0, so->backoff_initial_ms, so->backoff_max_ms,
            so->startup_ms, so->hang_ms);
    fputs("gateway:\n", out);
    if (g->tls_cert != NULL) {
        fputs("  tls_cert: ", out);
        yaml_string(out, g->tls_cert);
        fputc('\n', out);
    }
    if (g->tls_key != NULL) {
        fputs("  tls_key: ", out);
        yaml_string(out, g->tls_key);
        fputc('\n', out);
    }
    fprintf(out,
            "  max_body: %zu\n  max_header: %u\n  max_ws_message: %zu\n  max_ws_clients: %u\n"
            "  ws_queue: %u\n  ws_queue_bytes: %zu\n  ws_ping_s: %u\n  ws_idle_s: %u\n"
            "  keepalive_s: %u\n  header_timeout_s: %u\n  request_timeout_ms: %u\n",
            g->max_body, g->max_header, g->max_ws_message, g->max_ws_clients, g->ws_queue,
            g->ws_queue_bytes, g->ws_ping_s, g->ws_idle_s, g->http_keepalive_s, g->header_timeout_s,
            (unsigned int)g->default_timeout_ms);
    for (int k = 0; k < 2; k++) { /* cross-site allowances, as YAML sequences */
        const char *list = k == 0 ? g->allowed_origins : g->allowed_hosts;
        if (list[0] != '\0')
            fprintf(out, "  %s:\n", k == 0 ? "allowed_origins" : "allowed_hosts");
        for (const char *p = list; *p != '\0';) {
            size_t len = strcspn(p, ",");
            char item[512];
            snprintf(item, sizeof(item), "%.*s", (int)len, p);
            fputs("    - ", out);
            yaml_string(out, item);
            fputc('\n', out);
            p += len + (p[len] == ',');
        }
    }
    if (g->auth_file != NULL) {
        fputs("auth:\n  file: ", out);
        yaml_string(out, g->auth_file);
        fputc('\n', out);
    } else {
        fputs("# auth: none (the gateway does not authenticate)\n", out);
    }
}

char *daemon_settings_text(const daemon_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL)
        return NULL;
    daemon_settings_print(mem, cfg);
    fclose(mem);
    return buf;
}

int daemon_settings_finish(int argc, char **argv, daemon_config *cfg, daemon_cli_args *args)
{
    char why[1024];
    memset(args, 0, sizeof(*args));
    if (cfg->config_path != NULL) {
        const char *path = cfg->config_path; /* points into argv */
        daemon_policies_free(&cfg->policies);
        int rc = daemon_settings_load(path, argc, argv, args, cfg, why, sizeof why);
        if (rc >= 0) {
            fprintf(stderr, "genesisd: %s\n", why);
            daemon_policies_free(&cfg->policies);
            daemon_cli_args_free(args);
            return rc;
        }
    } else if (daemon_settings_validate(cfg, NULL, why, sizeof why) != 0) {
        fprintf(stderr, "genesisd: %s\n", why);
        daemon_policies_free(&cfg->policies);
        return DAEMON_EXIT_USAGE;
    }
    if (cfg->check_config) {
        daemon_settings_print(stdout, cfg);
        printf("# configuration is valid\n");
        daemon_policies_free(&cfg->policies);
        daemon_cli_args_free(args);
        return EXIT_SUCCESS;
    }
    return -1;
}
