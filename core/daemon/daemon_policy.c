/* genesisd's resilience settings (see daemon_policy.h). */
#define _POSIX_C_SOURCE 200809L

#include "daemon_policy.h"

#include "config_values.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    size_t offset;
} fields[] = {
#define F(name) {#name, offsetof(genesis_policy, name)},
    GENESIS_POLICY_FIELDS(F)
#undef F
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
_Static_assert(N_FIELDS <= 32, "a policy mask is 32 bits");
_Static_assert(sizeof(unsigned int) == sizeof(uint32_t), "policy fields are 32-bit");

static uint32_t *field_ptr(genesis_policy *p, size_t i)
{
    return (uint32_t *)((char *)p + fields[i].offset);
}

static uint32_t field_get(const genesis_policy *p, size_t i)
{
    return *(const uint32_t *)((const char *)p + fields[i].offset);
}

size_t daemon_policy_field_count(void)
{
    return N_FIELDS;
}

const char *daemon_policy_field_name(size_t i)
{
    return i < N_FIELDS ? fields[i].name : NULL;
}

void daemon_policies_init(daemon_policies *p)
{
    memset(p, 0, sizeof(*p));
    genesis_policy_init(&p->def, GENESIS_POLICY_VERSION);
}

void daemon_policies_free(daemon_policies *p)
{
    if (p == NULL)
        return;
    free(p->comps);
    p->comps = NULL;
    p->n = p->cap = 0;
}

/* "FIELD=VALUE" into (field index, value). */
static int parse_assignment(const char *text, size_t *index, uint32_t *value, char *why,
                            size_t why_size)
{
    const char *eq = strchr(text, '=');
    size_t len = eq != NULL ? (size_t)(eq - text) : 0;
    size_t i = N_FIELDS;
    if (eq != NULL)
        for (i = 0; i < N_FIELDS; i++)
            if (strlen(fields[i].name) == len && strncmp(fields[i].name, text, len) == 0)
                break;
    if (eq == NULL || i == N_FIELDS) {
        const char *names[N_FIELDS];
        char list[1024] = "";
        for (size_t k = 0; k < N_FIELDS; k++) {
            names[k] = fields[k].name;
            size_t used = strlen(list);
            snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "", names[k]);
        }
        char field[64];
        snprintf(field, sizeof(field), "%.*s", (int)(eq != NULL ? len : strlen(text)), text);
        const char *best = conf_closest(field, names, N_FIELDS);
        if (eq == NULL)
            snprintf(why, why_size, "'%s': expected FIELD=VALUE; the fields are %s", text, list);
        else if (best != NULL)
            snprintf(why, why_size,
                     "unknown policy field '%s' (did you mean '%s'?); the fields are %s", field,
                     best, list);
        else
            snprintf(why, why_size, "unknown policy field '%s'; the fields are %s", field, list);
        return -1;
    }
    unsigned long long v = 0;
    if (conf_unit_of_name(fields[i].name) != 0) { /* a duration: 2s, 150ms, or milliseconds */
        if (conf_parse_duration(eq + 1, CONF_UNIT_MS, 0, UINT32_MAX, &v) != 0) {
            snprintf(why, why_size,
                     "'%s': %s needs a duration (e.g. 150ms, 10s, 2m; a bare number is "
                     "milliseconds)",
                     text, fields[i].name);
            return -1;
        }
    } else {
        char *end = NULL;
        errno = 0;
        v = strtoull(eq + 1, &end, 10);
        if (eq[1] == '\0' || eq[1] == '-' || *end != '\0' || errno != 0 || v > UINT32_MAX) {
            snprintf(why, why_size, "'%s': %s needs an unsigned integer", text, fields[i].name);
            return -1;
        }
    }
    *index = i;
    *value = (uint32_t)v;
    return 0;
}

int daemon_policy_set_default(daemon_policies *p, const char *spec, char *why, size_t why_size)
{
    size_t i;
    uint32_t v;
    if (parse_assignment(spec, &i, &v, why, why_size) != 0)
        return -1;
    *field_ptr(&p->def, i) = v;
    p->def_mask |= 1u << i;
    return 0;
}

static bool valid_id(const char *id, size_t len)
{
    if (len == 0 || len > DAEMON_POLICY_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int daemon_policy_set_component(daemon_policies *p, const char *spec, char *why, size_t why_size)
{
    const char *colon = strchr(spec, ':');
    size_t len = colon != NULL ? (size_t)(colon - spec) : 0;
    if (colon == NULL || !valid_id(spec, len)) {
        snprintf(why, why_size, "'%s': expected ID:FIELD=VALUE with an id of [A-Za-z0-9._-]", spec);
        return -1;
    }
    size_t i;
    uint32_t v;
    if (parse_assignment(colon + 1, &i, &v, why, why_size) != 0)
        return -1;
    daemon_component_policy *c = NULL;
    for (size_t k = 0; k < p->n; k++)
        if (strlen(p->comps[k].id) == len && strncmp(p->comps[k].id, spec, len) == 0)
            c = &p->comps[k];
    if (c == NULL) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 8;
            daemon_component_policy *grown = realloc(p->comps, cap * sizeof(*grown));
            if (grown == NULL) {
                snprintf(why, why_size, "out of memory");
                return -1;
            }
            p->comps = grown;
            p->cap = cap;
        }
        c = &p->comps[p->n++];
        memset(c, 0, sizeof(*c));
        memcpy(c->id, spec, len);
        c->id[len] = '\0';
        c->values.version = GENESIS_POLICY_VERSION;
    }
    *field_ptr(&c->values, i) = v;
    c->mask |= 1u << i;
    return 0;
}

void daemon_policy_effective(const daemon_policies *p, size_t k, genesis_policy *out)
{
    *out = p->def;
    for (size_t i = 0; i < N_FIELDS; i++)
        if (p->comps[k].mask & (1u << i))
            *field_ptr(out, i) = field_get(&p->comps[k].values, i);
}

const daemon_component_policy *daemon_policy_find(const daemon_policies *p, const char *id)
{
    for (size_t k = 0; k < p->n; k++)
        if (strcmp(p->comps[k].id, id) == 0)
            return &p->comps[k];
    return NULL;
}

int daemon_policies_validate(const daemon_policies *p, char *why, size_t why_size)
{
    if (genesis_policy_validate(&p->def) != GENESIS_OK) {
        snprintf(why, why_size, "resilience (the default policy): %s", genesis_last_error());
        return -1;
    }
    for (size_t k = 0; k < p->n; k++) {
        genesis_policy eff;
        daemon_policy_effective(p, k, &eff);
        if (genesis_policy_validate(&eff) != GENESIS_OK) {
            snprintf(why, why_size, "components.%s.resilience: %s", p->comps[k].id,
                     genesis_last_error());
            return -1;
        }
    }
    return 0;
}

static void note(char *buf, size_t size, const char *what, const char *id)
{
    if (buf == NULL || size == 0)
        return;
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, "%s%s%s", used > 0 ? ", " : "", what, id);
}

int daemon_policies_apply(const daemon_policies *p, const daemon_policies *old,
                          genesis_coordinator *co, char *changes, size_t changes_size)
{
    if (changes != NULL && changes_size > 0)
        changes[0] = '\0';
    int rv = genesis_coordinator_set_policy(co, NULL, &p->def);
    if (rv != GENESIS_OK)
        return rv;
    if (old != NULL && memcmp(&old->def, &p->def, sizeof(p->def)) != 0)
        note(changes, changes_size, "resilience", "");
    for (size_t k = 0; k < p->n; k++) {
        genesis_policy eff;
        daemon_policy_effective(p, k, &eff);
        rv = genesis_coordinator_set_policy(co, p->comps[k].id, &eff);
        if (rv != GENESIS_OK)
            return rv;
        if (old == NULL)
            continue;
        const daemon_component_policy *before = daemon_policy_find(old, p->comps[k].id);
        genesis_policy was;
        memset(&was, 0, sizeof(was));
        if (before != NULL)
            daemon_policy_effective(old, (size_t)(before - old->comps), &was);
        if (before == NULL || memcmp(&was, &eff, sizeof(eff)) != 0)
            note(changes, changes_size, "components.", p->comps[k].id);
    }
    for (size_t k = 0; old != NULL && k < old->n; k++) {
        if (daemon_policy_find(p, old->comps[k].id) != NULL)
            continue;
        rv = genesis_coordinator_set_policy(co, old->comps[k].id, NULL);
        if (rv != GENESIS_OK)
            return rv;
        note(changes, changes_size, "components.", old->comps[k].id);
    }
    return GENESIS_OK;
}

void daemon_policy_print_yaml(FILE *out, const genesis_policy *policy, uint32_t mask, int indent,
                              int all)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (all || (mask & (1u << i)))
            fprintf(out, "%*s%s: %u\n", indent, "", fields[i].name,
                    (unsigned int)field_get(policy, i));
}
