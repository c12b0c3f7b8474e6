/* genesisd's resilience settings: the default policy and per-component overrides, as given by
 * --policy FIELD=VALUE and --component-policy ID:FIELD=VALUE (or the configuration file's
 * `resilience` and `components.<id>.resilience` sections, which become those flags).
 * A component's policy is the default with its own fields laid over it, so a reload that
 * changes the default also changes the fields a component did not set itself. */
#ifndef GENESISD_DAEMON_POLICY_H
#define GENESISD_DAEMON_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <genesis/genesis.h>

#define DAEMON_POLICY_ID_MAX 128

typedef struct daemon_component_policy {
    char id[DAEMON_POLICY_ID_MAX + 1];
    uint32_t mask; /* bit i: field i was set for this component */
    genesis_policy values;
} daemon_component_policy;

typedef struct daemon_policies {
    genesis_policy def; /* genesis_policy_init's defaults with the --policy fields applied */
    uint32_t def_mask;  /* fields set by --policy */
    daemon_component_policy *comps;
    size_t n, cap;
} daemon_policies;

void daemon_policies_init(daemon_policies *p);
void daemon_policies_free(daemon_policies *p);

/* "FIELD=VALUE" (default) and "ID:FIELD=VALUE" (component). 0, or -1 with why filled. */
int daemon_policy_set_default(daemon_policies *p, const char *spec, char *why, size_t why_size);
int daemon_policy_set_component(daemon_policies *p, const char *spec, char *why, size_t why_size);

/* The policy in force for p->comps[i] (the default overlaid with its own fields). */
void daemon_policy_effective(const daemon_policies *p, size_t i, genesis_policy *out);

/* Every policy validated as the library would (genesis_policy_validate). 0, or -1 with why
 * naming the component and the field. */
int daemon_policies_validate(const daemon_policies *p, char *why, size_t why_size);

/* The component's entry, or NULL. */
const daemon_component_policy *daemon_policy_find(const daemon_policies *p, const char *id);

/* Apply to a coordinator: the default, every component's policy, and (old may be NULL) the
 * removal of own policies that old had and p has not. Breaker state, windows, budgets and
 * in-flight work are kept (genesis_coordinator_set_policy). Writes what changed to changes
 * (may be NULL) as a comma-separated list. Returns a genesis_status. */
int daemon_policies_apply(const daemon_policies *p, const daemon_policies *old,
                          genesis_coordinator *co, char *changes, size_t changes_size);

/* Write the policies as configuration-file YAML (indent spaces before each line). */
void daemon_policy_print_yaml(FILE *out, const genesis_policy *policy, uint32_t mask, int indent,
                              int all);

/* Number of policy fields and their names, in genesis_policy order (for help texts). */
size_t daemon_policy_field_count(void);
const char *daemon_policy_field_name(size_t i);

#endif /* GENESISD_DAEMON_POLICY_H */
