/* The supervisor's children as configured (--supervise, --supervise-env, --supervise-cwd or
 * the configuration file), before it starts (see supervisor.h). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell_words.h"
#include "supervisor_internal.h"

/* Split "ID=REST" into the id (validated) and REST. */
static int split_id(const char *spec, char *id, const char **rest, char *why, size_t size)
{
    *rest = ""; /* defined on every return, so no caller can read an unset pointer */
    const char *eq = strchr(spec, '=');
    size_t len = eq != NULL ? (size_t)(eq - spec) : 0;
    if (eq == NULL || len == 0 || len > SV_MAX_ID_LEN)
        return sv_fail(why, size, "'%s': expected ID=VALUE", spec);
    for (size_t i = 0; i < len; i++) {
        char c = spec[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return sv_fail(why, size, "'%s': the id allows [A-Za-z0-9._-] only", spec);
    }
    memcpy(id, spec, len);
    id[len] = '\0';
    *rest = eq + 1;
    return 0;
}

int supervisor_add(supervisor *s, const char *spec, char *why, size_t size)
{
    char id[SV_MAX_ID_LEN + 1];
    const char *command;
    if (split_id(spec, id, &command, why, size) != 0)
        return -1;
    if (sv_find_child(s, id) != NULL)
        return sv_fail(why, size, "'%s' is supervised twice", id);
    if (s->n == SV_MAX_CHILDREN)
        return sv_fail(why, size, "%s", "too many supervised children (64 at most)");
    child *c = &s->children[s->n];
    memset(c, 0, sizeof(*c));
    if (restart_window_init(&c->window, s->o.max_restarts) != 0)
        return sv_fail(why, size, "%s", "out of memory");
    if (shell_words_split(command, c->argv, SV_MAX_ARGS, why, size) != 0) {
        restart_window_free(&c->window);
        return -1;
    }
    snprintf(c->id, sizeof(c->id), "%s", id);
    s->n++;
    return 0;
}

int supervisor_add_env(supervisor *s, const char *spec, char *why, size_t size)
{
    char id[SV_MAX_ID_LEN + 1];
    const char *kv;
    if (split_id(spec, id, &kv, why, size) != 0)
        return -1;
    child *c = sv_find_child(s, id);
    if (c == NULL)
        return sv_fail(why, size, "'%s': no --supervise for this id (give --supervise first)",
                       spec);
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv)
        return sv_fail(why, size, "'%s': expected ID=KEY=VALUE", spec);
    if (c->n_env == SV_MAX_ENV)
        return sv_fail(why, size, "'%s': too many variables (64 at most)", spec);
    c->env[c->n_env] = strdup(kv);
    if (c->env[c->n_env] == NULL)
        return sv_fail(why, size, "%s", "out of memory");
    c->n_env++;
    return 0;
}

int supervisor_set_cwd(supervisor *s, const char *spec, char *why, size_t size)
{
    char id[SV_MAX_ID_LEN + 1];
    const char *dir;
    if (split_id(spec, id, &dir, why, size) != 0)
        return -1;
    child *c = sv_find_child(s, id);
    if (c == NULL)
        return sv_fail(why, size, "'%s': no --supervise for this id (give --supervise first)",
                       spec);
    if (dir[0] == '\0')
        return sv_fail(why, size, "'%s': empty directory", spec);
    free(c->cwd);
    c->cwd = strdup(dir);
    return c->cwd != NULL ? 0 : sv_fail(why, size, "%s", "out of memory");
}
