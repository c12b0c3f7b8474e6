/* genesisd's configuration reload (see daemon_reload.h). */
#define _POSIX_C_SOURCE 200809L

#include "daemon_reload.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon_config_keys.h"
#include "daemon_log.h"
#include "daemon_notify.h"
#include "daemon_settings.h"
#include "demo_components.h"

#define SECTION_BUF_SIZE 65536

/* Split daemon_settings_print's text into top-level sections; returns the section text that starts
 * with name ("" when absent) into buf. */
static void section_text(const char *doc, const char *name, char *buf, size_t size)
{
    size_t used = 0, nl = strlen(name);
    bool in = false;
    buf[0] = '\0';
    for (const char *line = doc; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line + 1) : strlen(line);
        if (line[0] != ' ') {
            const char *key = line[0] == '#' ? line + 2 : line;
            in = (size_t)(line + len - key) > nl && strncmp(key, name, nl) == 0 && key[nl] == ':';
        }
        if (in && used + len < size) {
            memcpy(buf + used, line, len);
            used += len;
            buf[used] = '\0';
        }
        line += len;
    }
}

static void json_add(json_t *array, const char *fmt, const char *arg)
{
    char text[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(text, sizeof text, fmt, arg); /* fmt: a literal with one %s (see callers) */
#pragma GCC diagnostic pop
    json_array_append_new(array, json_string(text));
}

/* Sections that changed but apply only at a restart, into not_applied. */
static void list_restart_only_changes(const daemon_config *was, const daemon_config *now,
                                      json_t *not_applied)
{
    static const char *const sections[] = {"listen",     "workers",    "demo",       "allow_faults",
                                           "log",        "checkpoint", "resilience", "components",
                                           "supervisor", "gateway",    "auth"};
    char *before = daemon_settings_text(was), *after = daemon_settings_text(now);
    char *a = malloc(SECTION_BUF_SIZE), *b = malloc(SECTION_BUF_SIZE);
    for (size_t i = 0; a != NULL && b != NULL && before != NULL && after != NULL &&
                       i < sizeof sections / sizeof sections[0];
         i++) {
        section_text(before, sections[i], a, SECTION_BUF_SIZE);
        section_text(after, sections[i], b, SECTION_BUF_SIZE);
        if (strcmp(a, b) != 0 && !daemon_conf_section_is_live(sections[i]))
            json_add(not_applied, "%s (restart genesisd to apply)", sections[i]);
    }
    free(a);
    free(b);
    free(before);
    free(after);
}

/* The new policies, listed in applied. Validated already, so a failure is exceptional: then
 * the old policies are put back and why says what failed. */
static int apply_policies(daemon_state *st, const daemon_config *next, json_t *applied, char *why,
                          size_t size)
{
    char changes[2048];
    int rc = daemon_policies_apply(&next->policies, &st->cfg.policies, st->coord, changes,
                                   sizeof changes);
    if (rc != GENESIS_OK) {
        snprintf(why, size, "applying the policies failed: %s", genesis_last_error());
        daemon_policies_apply(&st->cfg.policies, &next->policies, st->coord, NULL, 0);
        return rc;
    }
    for (const char *c = changes; *c != '\0';) {
        const char *comma = strstr(c, ", ");
        size_t len = comma != NULL ? (size_t)(comma - c) : strlen(c);
        char item[256];
        snprintf(item, sizeof item, "%.*s", (int)len, c);
        json_add(applied, "%s policy", item);
        c += len + (comma != NULL ? 2 : 0);
    }
    return GENESIS_OK;
}

/* Supervised components: the changed ones are replaced (from staged), the others keep
 * running. */
static void apply_supervised(daemon_state *st, const daemon_config *next, supervisor *staged,
                             json_t *applied, json_t *not_applied)
{
    char(*ids)[DAEMON_POLICY_ID_MAX + 1] = calloc(2 * DAEMON_SETTINGS_MAX_IDS, sizeof(*ids));
    size_t n = 0;
    if (ids != NULL) {
        n = daemon_settings_component_ids(&st->cfg, ids, DAEMON_SETTINGS_MAX_IDS);
        n += daemon_settings_component_ids(next, ids + n, DAEMON_SETTINGS_MAX_IDS);
    }
    char was[4096], now[4096];
    for (size_t k = 0; k < n; k++) {
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(ids[j], ids[k]) == 0;
        if (dup)
            continue;
        daemon_settings_supervised_text(&st->cfg, ids[k], was, sizeof was);
        daemon_settings_supervised_text(next, ids[k], now, sizeof now);
        if (strcmp(was, now) == 0)
            continue;
        if (was[0] != '\0' && st->sup != NULL)
            supervisor_retire(st->sup, ids[k]);
        char reason[256];
        if (now[0] != '\0' && (st->sup == NULL || supervisor_adopt(st->sup, staged, ids[k], reason,
                                                                   sizeof reason) != 0)) {
            json_add(not_applied, "supervised %s (restart genesisd to apply)", ids[k]);
            continue;
        }
        json_add(applied,
                 was[0] == '\0'   ? "supervised %s added"
                 : now[0] == '\0' ? "supervised %s removed"
                                  : "supervised %s replaced",
                 ids[k]);
    }
    free(ids);
}

static void apply_log_settings(const daemon_config *was, const daemon_config *next, json_t *applied)
{
    if (next->log_level == was->log_level && next->log_format == was->log_format &&
        next->log_rate == was->log_rate)
        return;
    daemon_log_set_level(next->log_level);
    demo_components_set_debug(next->log_level >= GENESIS_LOG_DEBUG);
    daemon_log_set_format(next->log_format);
    daemon_log_set_rate_limit(next->log_rate);
    json_add(applied, "%s", "log");
}

/* Read and check the file again into *next and *args (staged: its supervised components).
 * Returns GENESIS_OK, or a status with why. */
static int load_next(daemon_state *st, daemon_config *next, daemon_cli_args *args,
                     supervisor **staged, char *why, size_t size)
{
    *staged = NULL;
    memset(next, 0, sizeof(*next)); /* freed below even when the file does not parse */
    int rc = daemon_settings_load(st->cfg.config_path, st->argc, st->argv, args, next, why, size);
    if (rc < 0 && daemon_settings_validate(next, staged, why, size) != 0)
        rc = DAEMON_EXIT_USAGE;
    if (rc < 0)
        return GENESIS_OK;
    daemon_policies_free(&next->policies);
    daemon_cli_args_free(args);
    supervisor_free(*staged);
    *staged = NULL;
    return GENESIS_INVALID_ARGUMENT;
}

/* Keep the new configuration; the strings of the one before stay alive one more reload
 * (settings not applied live may still point into them). */
static void commit(daemon_state *st, daemon_config *next, daemon_cli_args *args)
{
    daemon_policies_free(&st->cfg.policies);
    daemon_cli_args_free(&st->previous);
    st->previous = st->args;
    st->args = *args;
    st->cfg = *next;
    st->reloads++;
}

/* Under st->lock. */
static int reload_locked(daemon_state *st, char **report)
{
    char why[1024];
    const char *path = st->cfg.config_path;
    if (path == NULL) {
        *report = strdup("genesisd runs without --config: there is no file to reload");
        return GENESIS_FAILED_PRECONDITION;
    }
    daemon_config next;
    daemon_cli_args args;
    supervisor *staged = NULL;
    if (load_next(st, &next, &args, &staged, why, sizeof why) != GENESIS_OK) {
        st->failures++;
        daemon_logf(GENESIS_LOG_ERROR, "reload rejected, the configuration in force is kept: %s",
                    why);
        *report = strdup(why);
        return GENESIS_INVALID_ARGUMENT;
    }
    json_t *applied = json_array(), *not_applied = json_array();
    list_restart_only_changes(&st->cfg, &next, not_applied);
    if (apply_policies(st, &next, applied, why, sizeof why) != GENESIS_OK) {
        daemon_policies_free(&next.policies);
        daemon_cli_args_free(&args);
        supervisor_free(staged);
        json_decref(applied);
        json_decref(not_applied);
        st->failures++;
        daemon_logf(GENESIS_LOG_ERROR, "reload: %s", why);
        *report = strdup(why);
        return GENESIS_INTERNAL;
    }
    apply_supervised(st, &next, staged, applied, not_applied);
    supervisor_free(staged);
    apply_log_settings(&st->cfg, &next, applied);
    commit(st, &next, &args);
    json_t *doc =
        json_pack("{s:b, s:s, s:I, s:o, s:o}", "reloaded", 1, "file", path, "reloads",
                  (json_int_t)st->reloads, "applied", applied, "not_applied", not_applied);
    *report = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    daemon_logf(GENESIS_LOG_INFO, "configuration reloaded from %s: %s", path,
                *report != NULL ? *report : "");
    return GENESIS_OK;
}

int daemon_reload(daemon_state *st, char **report)
{
    *report = NULL;
    pthread_mutex_lock(&st->lock);
    daemon_notify_reloading();
    int rc = reload_locked(st, report);
    daemon_notify_ready(rc == GENESIS_OK ? "serving (configuration reloaded)"
                                         : "serving (reload rejected: the configuration in force "
                                           "is kept)");
    pthread_mutex_unlock(&st->lock);
    return rc;
}

/* The admin command "reload" (genesisctl reload, the gateway's POST /v1/admin/reload). */
void daemon_reload_on_admin(const char *command, const char *const *args, size_t nargs,
                            genesis_reply *reply, void *arg)
{
    (void)args;
    if (strcmp(command, "reload") != 0 || nargs != 0) {
        genesis_reply_error(reply, GENESIS_INVALID_ARGUMENT, "usage: reload (no arguments)");
        return;
    }
    char *report = NULL;
    int rc = daemon_reload(arg, &report);
    if (rc == GENESIS_OK)
        genesis_reply_set(reply, report != NULL ? report : "{}",
                          report != NULL ? strlen(report) : 2, "application/json");
    else
        genesis_reply_error(reply, rc, report != NULL ? report : "reload failed");
    free(report);
}
