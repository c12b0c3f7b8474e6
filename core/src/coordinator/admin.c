/* Operator commands (the Admin envelope, genesis_coordinator_admin): mode, breaker, policy
 * and fault. Each answers with a JSON document of the resulting state, or an error that names
 * what was wrong with the command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "checkpoint/checkpoint.h"
#include "coordinator/recovery_hooks.h"
#include "coordinator/coordinator_impl.h"

static genesis_result *json_result(json_t *doc)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL)
        return gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                                "admin: out of memory");
    genesis_result *res = gn_result_new(GENESIS_OK, GENESIS_REASON_NONE, NULL, text, strlen(text),
                                        "application/json");
    free(text);
    return res;
}

/* An invalid command: what (a sentence) about the offending argument (may be ""). */
static genesis_result *bad(const char *what, const char *arg)
{
    return gn_result_errorf(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT, "%s%s%s%s",
                            what, arg[0] != '\0' ? " ('" : "", arg, arg[0] != '\0' ? "')" : "");
}

/* The last error of a failed genesis_* call on this thread, as a result. */
static genesis_result *failed(int rv)
{
    int reason = rv == GENESIS_NOT_FOUND            ? GENESIS_REASON_NOT_FOUND
                 : rv == GENESIS_INVALID_ARGUMENT   ? GENESIS_REASON_INVALID_ARGUMENT
                 : rv == GENESIS_RESOURCE_EXHAUSTED ? GENESIS_REASON_NO_MEMORY
                                                    : GENESIS_REASON_NONE;
    return gn_result_errorf(rv, reason, "%s", genesis_last_error());
}

static genesis_result *cmd_mode(genesis_coordinator *co, char **args, size_t n)
{
    if (n > 1)
        return bad("admin mode: expected at most one argument (NORMAL, SAFE, EMERGENCY, AUTO)", "");
    if (n == 1) {
        int mode = strcasecmp(args[0], "NORMAL") == 0      ? GENESIS_MODE_NORMAL
                   : strcasecmp(args[0], "SAFE") == 0      ? GENESIS_MODE_SAFE
                   : strcasecmp(args[0], "EMERGENCY") == 0 ? GENESIS_MODE_EMERGENCY
                   : strcasecmp(args[0], "AUTO") == 0      ? GENESIS_MODE_AUTO
                                                           : -2;
        if (mode == -2)
            return bad("admin mode: not NORMAL, SAFE, EMERGENCY or AUTO", args[0]);
        int rv = genesis_coordinator_set_mode(co, mode);
        if (rv != GENESIS_OK)
            return failed(rv);
    }
    pthread_mutex_lock(&co->mode_lock);
    int current = co->mode.current, computed = co->mode.computed;
    bool forced = co->mode.forced != GENESIS_MODE_AUTO;
    pthread_mutex_unlock(&co->mode_lock);
    return json_result(json_pack("{s:s, s:s, s:b}", "mode", genesis_mode_name(current), "computed",
                                 genesis_mode_name(computed), "forced", forced));
}

/* key=value with an unsigned value; false (and *res set) on a bad value. */
static bool parse_uint(const char *kv, const char *value, unsigned long max, unsigned long *out,
                       genesis_result **res)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v > max || value[0] == '-') {
        *res = bad("admin: needs an unsigned integer value in range", kv);
        return false;
    }
    *out = v;
    return true;
}

/* Every field, by its name, from the one list in resilience.h. */
static json_t *policy_json(const genesis_policy *p)
{
    json_t *o = json_object();
#define F(name) json_object_set_new(o, #name, json_integer((json_int_t)p->name));
    GENESIS_POLICY_FIELDS(F)
#undef F
    return o;
}

/* Every policy field by name, for "policy <id> key=value ...". */
static unsigned int *policy_field(genesis_policy *p, const char *key, size_t key_len)
{
    static const struct {
        const char *name;
        size_t offset;
    } fields[] = {
#define F(name) {#name, offsetof(genesis_policy, name)},
        GENESIS_POLICY_FIELDS(F)
#undef F
    };
    _Static_assert(sizeof(unsigned int) == sizeof(uint32_t), "policy fields are 32-bit");
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strlen(fields[i].name) == key_len && strncmp(fields[i].name, key, key_len) == 0)
            return (unsigned int *)((char *)p + fields[i].offset);
    return NULL;
}

static genesis_result *cmd_breaker(genesis_coordinator *co, char **args, size_t n)
{
    if (n < 2 || n > 3)
        return bad("admin breaker: expected <component> <open [ms]|close|reset|disable|"
                   "metrics-only>",
                   "");
    const char *a = args[1];
    bool open = strcasecmp(a, "open") == 0 || strcasecmp(a, "forced_open") == 0;
    int state =
        open ? GENESIS_BREAKER_FORCED_OPEN
        : strcasecmp(a, "close") == 0 || strcasecmp(a, "reset") == 0 || strcasecmp(a, "closed") == 0
            ? GENESIS_BREAKER_CLOSED
        : strcasecmp(a, "disable") == 0 || strcasecmp(a, "disabled") == 0 ? GENESIS_BREAKER_DISABLED
        : strcasecmp(a, "metrics-only") == 0 || strcasecmp(a, "metrics_only") == 0
            ? GENESIS_BREAKER_METRICS_ONLY
            : -1;
    if (state < 0)
        return bad("admin breaker: not open, close, reset, disable or metrics-only", a);
    if (n == 3 && !open)
        return bad("admin breaker: only open takes a duration (ms)", args[2]);
    unsigned long ms = 0;
    genesis_result *res = NULL;
    if (n == 3 && !parse_uint(args[2], args[2], UINT32_MAX, &ms, &res))
        return res;
    int rv = n == 3 ? genesis_coordinator_force_breaker_open(co, args[0], (uint32_t)ms)
                    : genesis_coordinator_set_breaker(co, args[0], state);
    if (rv != GENESIS_OK)
        return failed(rv);
    return json_result(json_pack("{s:s, s:s, s:I}", "component", args[0], "breaker",
                                 genesis_breaker_state_name(state), "for_ms", (json_int_t)ms));
}

static genesis_result *cmd_policy(genesis_coordinator *co, char **args, size_t n)
{
    if (n < 1)
        return bad("admin policy: expected <component|*> [key=value ...]", "");
    const char *id = strcmp(args[0], "*") == 0 ? NULL : args[0];
    genesis_policy p = {.version = GENESIS_POLICY_VERSION};
    genesis_coordinator_get_policy(co, id, &p);
    for (size_t i = 1; i < n; i++) {
        const char *eq = strchr(args[i], '=');
        unsigned int *field = eq != NULL ? policy_field(&p, args[i], (size_t)(eq - args[i])) : NULL;
        if (field == NULL)
            return bad("admin policy: not <policy field>=<value>", args[i]);
        unsigned long v;
        genesis_result *res = NULL;
        if (!parse_uint(args[i], eq + 1, UINT32_MAX, &v, &res))
            return res;
        *field = (unsigned int)v;
    }
    if (n > 1) {
        int rv = genesis_coordinator_set_policy(co, id, &p);
        if (rv != GENESIS_OK)
            return failed(rv);
    }
    return json_result(
        json_pack("{s:s, s:o}", "component", id != NULL ? id : "*", "policy", policy_json(&p)));
}

static genesis_result *cmd_fault(genesis_coordinator *co, char **args, size_t n)
{
    if (!co->opts.admin_faults)
        return gn_result_errorf(GENESIS_PERMISSION_DENIED, GENESIS_REASON_INVALID_ARGUMENT,
                                "admin fault: fault injection is off on this coordinator "
                                "(enable it with the admin_faults option / --allow-faults)");
    if (n < 2)
        return bad("admin fault: expected <component> clear | error_rate=R latency_ms=N hang=0|1 "
                   "crash=0|1",
                   "");
    genesis_fault f;
    genesis_fault_init(&f, GENESIS_FAULT_VERSION);
    bool clear = n == 2 && strcmp(args[1], "clear") == 0;
    for (size_t i = 1; i < n && !clear; i++) {
        const char *kv = args[i], *eq = strchr(kv, '=');
        unsigned long v;
        genesis_result *res = NULL;
        if (eq == NULL)
            return bad("admin fault: not key=value", kv);
        size_t kl = (size_t)(eq - kv);
        if (kl == 10 && strncmp(kv, "error_rate", kl) == 0) {
            char *end;
            f.error_rate = strtod(eq + 1, &end);
            if (end == eq + 1 || *end != '\0' || !(f.error_rate >= 0 && f.error_rate <= 1))
                return bad("admin fault: needs a rate between 0 and 1", kv);
        } else if (kl == 10 && strncmp(kv, "latency_ms", kl) == 0) {
            if (!parse_uint(kv, eq + 1, 3600000, &v, &res))
                return res;
            f.added_latency_ms = (uint32_t)v;
        } else if ((kl == 4 && strncmp(kv, "hang", kl) == 0) ||
                   (kl == 5 && strncmp(kv, "crash", kl) == 0)) {
            if (!parse_uint(kv, eq + 1, 1, &v, &res))
                return res;
            *(kl == 4 ? &f.hang : &f.crash) = (int)v;
        } else {
            return bad("admin fault: unknown key", kv);
        }
    }
    int rv = genesis_coordinator_inject_fault(co, args[0], clear ? NULL : &f);
    if (rv != GENESIS_OK)
        return failed(rv);
    return json_result(json_pack("{s:s, s:f, s:I, s:b, s:b}", "component", args[0], "error_rate",
                                 f.error_rate, "latency_ms", (json_int_t)f.added_latency_ms, "hang",
                                 f.hang != 0, "crash", f.crash != 0));
}

genesis_result *gn_admin_execute(genesis_coordinator *co, const char *command, char **args,
                                 size_t n)
{
    if (command == NULL || command[0] == '\0')
        return bad("admin: empty command", "");
    if (strcmp(command, "mode") == 0)
        return cmd_mode(co, args, n);
    if (strcmp(command, "breaker") == 0)
        return cmd_breaker(co, args, n);
    if (strcmp(command, "policy") == 0)
        return cmd_policy(co, args, n);
    if (strcmp(command, "fault") == 0)
        return cmd_fault(co, args, n);
    if (strcmp(command, "checkpoint") == 0)
        return gn_checkpoint_admin(co->checkpointer, args, n);
    return gn_result_errorf(GENESIS_UNIMPLEMENTED, GENESIS_REASON_UNKNOWN_MESSAGE,
                            "admin: unknown command '%.64s' (mode, breaker, policy, fault, "
                            "checkpoint)",
                            command);
}

int genesis_coordinator_admin(genesis_coordinator *co, const char *command, const char *const *args,
                              size_t nargs, genesis_result **out)
{
    gn_clear_error();
    if (out != NULL)
        *out = NULL;
    if (co == NULL || command == NULL || (args == NULL && nargs > 0))
        return gn_fail(GENESIS_INVALID_ARGUMENT, "admin: NULL coordinator, command or args");
    /* Commands claimed by an embedder's handler (genesisd's "reload", "supervisor.*") first,
     * as on the front door. */
    genesis_result *res = gn_admin_hook_result(co, command, args, nargs);
    if (res == NULL)
        res = gn_admin_execute(co, command, (char **)args, nargs);
    int rv = genesis_result_status(res);
    if (rv != GENESIS_OK)
        gn_fail(rv, "%s", genesis_result_message(res));
    if (out != NULL)
        *out = res;
    else
        genesis_result_free(res);
    return rv;
}
