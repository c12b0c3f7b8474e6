/* The "supervisor." Admin commands: "supervisor.restart ID" restarts a child, also a FAILED
 * one (genesisctl, the gateway's admin route). Runs on a coordinator thread; the supervisor
 * thread does the restart. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "supervisor_internal.h"

void sv_on_admin(const char *command, const char *const *args, size_t nargs, genesis_reply *reply,
                 void *arg)
{
    supervisor *s = arg;
    if (strcmp(command, SV_ADMIN_PREFIX "restart") != 0) {
        genesis_reply_error(reply, GENESIS_UNIMPLEMENTED,
                            "unknown supervisor command (known: supervisor.restart <id>)");
        return;
    }
    if (nargs != 1) {
        genesis_reply_error(reply, GENESIS_INVALID_ARGUMENT,
                            "supervisor.restart takes one argument: the component id");
        return;
    }
    pthread_mutex_lock(&s->lock); /* a reload may add or drop children meanwhile */
    child *c = NULL;              /* a child a reload removed (still stopping) no longer counts */
    for (size_t i = 0; i < s->n && c == NULL; i++)
        if (strcmp(s->children[i].id, args[0]) == 0 && !s->children[i].retire)
            c = &s->children[i];
    if (c != NULL)
        c->operator_restart = true;
    char text[256];
    snprintf(text, sizeof(text), "restarting %.128s", args[0]);
    pthread_mutex_unlock(&s->lock);
    if (c == NULL) {
        snprintf(text, sizeof(text), "no supervised component '%.128s'", args[0]);
        genesis_reply_error(reply, GENESIS_NOT_FOUND, text);
        return;
    }
    sv_wake(s);
    genesis_reply_set(reply, text, strlen(text), "text/plain");
}
