/* Admin command handlers by prefix and supervised-child reports (see recovery_hooks.h and
 * genesis/recovery.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/coordinator_impl.h"
#include "genesis/recovery.h"
#include "coordinator/recovery_hooks.h"

#define MAX_ADMIN_HANDLERS 8u
#define MAX_PREFIX_LEN     64u

typedef struct admin_handler {
    char prefix[MAX_PREFIX_LEN + 1];
    genesis_admin_fn fn;
    void *arg;
} admin_handler;

typedef struct child {
    char *id;
    char *state;
    char *last_exit;
    int pid;
    uint64_t restarts;
    int64_t started_ms;
} child;

struct gn_recovery_hooks {
    pthread_mutex_t lock;
    admin_handler handlers[MAX_ADMIN_HANDLERS];
    unsigned int n_handlers;
    child *children;
    size_t n_children, cap_children;
};

gn_recovery_hooks *gn_recovery_hooks_new(void)
{
    gn_recovery_hooks *h = calloc(1, sizeof(*h));
    if (h != NULL)
        pthread_mutex_init(&h->lock, NULL);
    return h;
}

static void child_clear(child *c)
{
    free(c->id);
    free(c->state);
    free(c->last_exit);
}

void gn_recovery_hooks_free(gn_recovery_hooks *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n_children; i++)
        child_clear(&h->children[i]);
    free(h->children);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

int genesis_coordinator_set_admin_handler(genesis_coordinator *co, const char *prefix,
                                          genesis_admin_fn fn, void *arg)
{
    gn_clear_error();
    if (co == NULL || prefix == NULL || prefix[0] == '\0' || strlen(prefix) > MAX_PREFIX_LEN)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "set_admin_handler: NULL coordinator, or prefix not 1..%u bytes",
                       MAX_PREFIX_LEN);
    gn_recovery_hooks *h = co->hooks;
    pthread_mutex_lock(&h->lock);
    unsigned int i;
    for (i = 0; i < h->n_handlers; i++) {
        if (strcmp(h->handlers[i].prefix, prefix) == 0)
            break;
    }
    int rv = GENESIS_OK;
    if (fn == NULL) {
        if (i < h->n_handlers)
            h->handlers[i] = h->handlers[--h->n_handlers];
    } else if (i == h->n_handlers && h->n_handlers == MAX_ADMIN_HANDLERS) {
        rv = GENESIS_RESOURCE_EXHAUSTED;
    } else {
        if (i == h->n_handlers)
            h->n_handlers++;
        strcpy(h->handlers[i].prefix, prefix);
        h->handlers[i].fn = fn;
        h->handlers[i].arg = arg;
    }
    pthread_mutex_unlock(&h->lock);
    if (rv != GENESIS_OK)
        return gn_fail(rv, "set_admin_handler: %u prefixes are registered (max)",
                       MAX_ADMIN_HANDLERS);
    return GENESIS_OK;
}

genesis_result *gn_admin_hook_result(genesis_coordinator *co, const char *command,
                                     const char *const *args, size_t nargs)
{
    gn_recovery_hooks *h = co->hooks;
    if (h == NULL || command == NULL)
        return NULL;
    pthread_mutex_lock(&h->lock);
    admin_handler *found = NULL;
    for (unsigned int i = 0; i < h->n_handlers; i++) {
        if (strncmp(command, h->handlers[i].prefix, strlen(h->handlers[i].prefix)) == 0)
            found = &h->handlers[i];
    }
    if (found == NULL) {
        pthread_mutex_unlock(&h->lock);
        return NULL;
    }
    genesis_reply reply;
    gn_reply_init(&reply, co->opts.max_message_size);
    found->fn(command, args, nargs, &reply, found->arg);
    pthread_mutex_unlock(&h->lock);
    genesis_result *res = gn_result_new(reply.status, reply.reason, reply.message, reply.data,
                                        reply.len, reply.content_type);
    gn_reply_clear(&reply);
    return res != NULL ? res
                       : gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                                          "admin: out of memory");
}

bool gn_admin_hook_dispatch(genesis_coordinator *co, const Genesis__V1__Admin *admin,
                            size_t max_message_size, nng_msg **out)
{
    gn_recovery_hooks *h = co->hooks;
    *out = NULL;
    if (h == NULL || admin->command == NULL)
        return false;
    /* The handler is called with the lock held: removing it cannot race with a call, and
     * handlers must not block anyway. */
    pthread_mutex_lock(&h->lock);
    admin_handler *found = NULL;
    for (unsigned int i = 0; i < h->n_handlers; i++) {
        if (strncmp(admin->command, h->handlers[i].prefix, strlen(h->handlers[i].prefix)) == 0)
            found = &h->handlers[i];
    }
    if (found == NULL) {
        pthread_mutex_unlock(&h->lock);
        return false;
    }
    genesis_reply reply;
    gn_reply_init(&reply, max_message_size);
    found->fn(admin->command, (const char *const *)admin->args, admin->n_args, &reply, found->arg);
    pthread_mutex_unlock(&h->lock);
    gn_reply_msg(out, reply.status, reply.reason, reply.message, reply.data, reply.len,
                 reply.content_type);
    gn_reply_clear(&reply);
    return true;
}

int genesis_coordinator_report_child(genesis_coordinator *co, const genesis_child_report *r)
{
    gn_clear_error();
    if (co == NULL || r == NULL || r->version != GENESIS_CHILD_REPORT_VERSION ||
        !gn_valid_id(r->id) || r->state == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT,
                       "report_child: NULL argument, unknown version or invalid id");
    gn_recovery_hooks *h = co->hooks;
    char *state = gn_strdup(r->state);
    char *last_exit = gn_strdup(r->last_exit != NULL ? r->last_exit : "");
    if (state == NULL || last_exit == NULL) {
        free(state);
        free(last_exit);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "report_child: out of memory");
    }
    pthread_mutex_lock(&h->lock);
    child *c = NULL;
    for (size_t i = 0; i < h->n_children; i++) {
        if (strcmp(h->children[i].id, r->id) == 0)
            c = &h->children[i];
    }
    if (c == NULL && h->n_children < co->opts.max_components) {
        if (h->n_children == h->cap_children) {
            size_t cap = h->cap_children > 0 ? h->cap_children * 2 : 8;
            child *grown = realloc(h->children, cap * sizeof(*grown));
            if (grown != NULL) {
                h->children = grown;
                h->cap_children = cap;
            }
        }
        if (h->n_children < h->cap_children) {
            c = &h->children[h->n_children];
            memset(c, 0, sizeof(*c));
            c->id = gn_strdup(r->id);
            if (c->id != NULL)
                h->n_children++;
            else
                c = NULL;
        }
    }
    if (c != NULL) {
        free(c->state);
        free(c->last_exit);
        c->state = state;
        c->last_exit = last_exit;
        c->pid = r->pid;
        c->restarts = r->restarts;
        c->started_ms = r->started_ms;
    }
    pthread_mutex_unlock(&h->lock);
    if (c == NULL) {
        free(state);
        free(last_exit);
        return gn_fail(GENESIS_RESOURCE_EXHAUSTED, "report_child: no room for another child");
    }
    return GENESIS_OK;
}

void gn_children_status(genesis_coordinator *co, Genesis__V1__StatusReport *r)
{
    gn_recovery_hooks *h = co->hooks;
    r->n_supervised = 0;
    r->supervised = NULL;
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    size_t n = h->n_children;
    r->supervised = n > 0 ? calloc(n, sizeof(*r->supervised)) : NULL;
    int64_t now = gn_now_ms();
    for (size_t i = 0; r->supervised != NULL && i < n; i++) {
        const child *c = &h->children[i];
        Genesis__V1__SupervisedChild *sc = malloc(sizeof(*sc));
        if (sc == NULL)
            break;
        genesis__v1__supervised_child__init(sc);
        sc->id = gn_strdup(c->id);
        sc->state = gn_strdup(c->state);
        sc->last_exit = gn_strdup(c->last_exit);
        if (sc->id == NULL || sc->state == NULL || sc->last_exit == NULL) {
            free(sc->id);
            free(sc->state);
            free(sc->last_exit);
            free(sc);
            break;
        }
        sc->pid = c->pid;
        sc->restarts = c->restarts;
        sc->uptime_ms = c->pid > 0 && c->started_ms > 0 ? now - c->started_ms : 0;
        r->supervised[r->n_supervised++] = sc;
    }
    pthread_mutex_unlock(&h->lock);
}

void gn_children_status_clear(Genesis__V1__StatusReport *r)
{
    for (size_t i = 0; i < r->n_supervised; i++) {
        free(r->supervised[i]->id);
        free(r->supervised[i]->state);
        free(r->supervised[i]->last_exit);
        free(r->supervised[i]);
    }
    free(r->supervised);
    r->supervised = NULL;
    r->n_supervised = 0;
}

int genesis_coordinator_get_registration_seq(genesis_coordinator *co, const char *id, uint64_t *seq)
{
    gn_clear_error();
    if (co == NULL || seq == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "registration_seq: NULL argument");
    *seq = 0;
    if (id == NULL) {
        *seq = atomic_load(&co->registration_seq);
        return GENESIS_OK;
    }
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "registration_seq: no component '%s'", id);
    if (comp->kind == GN_REMOTE)
        *seq = gn_remote_last_registration(comp);
    gn_component_release(comp);
    return GENESIS_OK;
}

int genesis_coordinator_get_component_health(genesis_coordinator *co, const char *id, int *up)
{
    gn_clear_error();
    if (co == NULL || id == NULL || up == NULL)
        return gn_fail(GENESIS_INVALID_ARGUMENT, "component_health: NULL argument");
    *up = 0;
    gn_component *comp = gn_registry_lookup(co->registry, id);
    if (comp == NULL)
        return gn_fail(GENESIS_NOT_FOUND, "component_health: no component '%s'", id);
    *up = comp->kind == GN_REMOTE ? gn_remote_is_up(comp) : 1;
    gn_component_release(comp);
    return GENESIS_OK;
}
