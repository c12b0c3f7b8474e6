/* The operator command "checkpoint list [ID] | show ID [GEN] | restore ID [GEN]": reads the
 * store on the calling thread (an operator command, rare) and answers in JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/objects.h"
#include "checkpoint/checkpointer_impl.h"

static genesis_result *admin_json(json_t *doc)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL)
        return gn_result_errorf(GENESIS_RESOURCE_EXHAUSTED, GENESIS_REASON_NO_MEMORY,
                                "admin checkpoint: out of memory");
    genesis_result *res = gn_result_new(GENESIS_OK, GENESIS_REASON_NONE, NULL, text, strlen(text),
                                        "application/json");
    free(text);
    return res;
}

struct list_ctx {
    const char *only; /* NULL = every component */
    json_t *rows;
};

static void list_row(const char *component, uint64_t generation, int64_t created_ms, size_t len,
                     void *arg)
{
    struct list_ctx *ctx = arg;
    if (ctx->only != NULL && strcmp(ctx->only, component) != 0)
        return;
    json_array_append_new(ctx->rows, json_pack("{s:s, s:I, s:I, s:I}", "component", component,
                                               "generation", (json_int_t)generation, "created_ms",
                                               (json_int_t)created_ms, "size", (json_int_t)len));
}

/* The newest good generation of id at or below gen (0 = the newest), under store_lock. */
static int read_generation(gn_checkpointer *cp, const char *id, uint64_t gen, gn_ckpt_record *rec,
                           gn_ckpt_error *err)
{
    pthread_mutex_lock(&cp->store_lock);
    int rv = gn_ckpt_read_latest(cp, id, gen > 0 ? gen + 1 : 0, rec, err);
    pthread_mutex_unlock(&cp->store_lock);
    if (rv == GENESIS_OK && gen > 0 && rec->generation != gen) {
        gn_ckpt_record_clear(rec);
        rv = GENESIS_NOT_FOUND;
    }
    if (rv == GENESIS_NOT_FOUND)
        snprintf(err->message, sizeof(err->message), "%s", "no such (good) generation stored");
    return rv;
}

/* Payload as a JSON string when it is printable text, else as hex. */
static void put_data(json_t *doc, const uint8_t *data, size_t len)
{
    bool text = true;
    for (size_t i = 0; i < len && text; i++)
        text = (data[i] >= 0x20 && data[i] < 0x7f) || data[i] == '\n' || data[i] == '\t';
    if (text) {
        json_object_set_new(doc, "data", json_stringn(len > 0 ? (const char *)data : "", len));
        return;
    }
    char *hex = malloc(len * 2 + 1);
    if (hex == NULL)
        return;
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", data[i]);
    hex[len * 2] = '\0';
    json_object_set_new(doc, "data_hex", json_string(hex));
    free(hex);
}

genesis_result *gn_checkpoint_admin(gn_checkpointer *cp, char **args, size_t n)
{
    const char *sub = n > 0 ? args[0] : "";
    bool list = strcmp(sub, "list") == 0, show = strcmp(sub, "show") == 0,
         restore = strcmp(sub, "restore") == 0;
    if ((!list && !show && !restore) || (list && n > 2) || (!list && (n < 2 || n > 3)))
        return gn_result_errorf(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT,
                                "admin checkpoint: expected list [<component>] | show "
                                "<component> [<generation>] | restore <component> "
                                "[<generation>]");
    if (cp == NULL || cp->store == NULL)
        return gn_result_errorf(GENESIS_FAILED_PRECONDITION, GENESIS_REASON_STORAGE_ERROR,
                                "admin checkpoint: no checkpoint store is configured "
                                "(checkpoint_store / --checkpoint-db)");
    gn_ckpt_error err = {0};
    if (list) {
        struct list_ctx ctx = {n == 2 ? args[1] : NULL, json_array()};
        pthread_mutex_lock(&cp->store_lock);
        int rv = gn_ckpt_list(cp->store, list_row, &ctx, &err);
        pthread_mutex_unlock(&cp->store_lock);
        if (rv != GENESIS_OK) {
            json_decref(ctx.rows);
            return gn_result_errorf(rv, err.reason, "admin checkpoint list: %s", err.message);
        }
        return admin_json(json_pack("{s:o}", "checkpoints", ctx.rows));
    }
    const char *id = args[1];
    uint64_t gen = 0;
    if (n == 3) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(args[2], &end, 10);
        if (args[2][0] == '-' || *end != '\0' || end == args[2] || errno != 0 || v == 0)
            return gn_result_errorf(GENESIS_INVALID_ARGUMENT, GENESIS_REASON_INVALID_ARGUMENT,
                                    "admin checkpoint: generation '%.32s' is not a positive "
                                    "integer",
                                    args[2]);
        gen = v;
    }
    gn_ckpt_subject *subject = NULL;
    gn_ckpt_subject_info in = {0};
    if (restore) {
        subject = cp->host.lookup(cp->host.ctx, id);
        if (subject != NULL)
            in = gn_ckpt_describe(cp, subject);
        if (subject == NULL || !gn_ckpt_can_restore(&in)) {
            bool found = subject != NULL, remote = found && in.remote;
            cp->host.release(subject);
            if (remote)
                return gn_result_errorf(
                    GENESIS_FAILED_PRECONDITION, GENESIS_REASON_INVALID_ARGUMENT,
                    "admin checkpoint restore: '%.128s' is remote; it gets its newest "
                    "checkpoint when it registers again (genesisctl supervisor restart)",
                    id);
            return gn_result_errorf(!found ? GENESIS_NOT_FOUND : GENESIS_FAILED_PRECONDITION,
                                    !found ? GENESIS_REASON_NOT_FOUND
                                           : GENESIS_REASON_INVALID_ARGUMENT,
                                    !found ? "admin checkpoint restore: no in-process "
                                             "component '%.128s'"
                                           : "admin checkpoint restore: '%.128s' has no "
                                             "restore callback",
                                    id);
        }
    }
    gn_ckpt_record rec = {0};
    int rv = read_generation(cp, id, gen, &rec, &err);
    if (rv != GENESIS_OK) {
        cp->host.release(subject);
        return gn_result_errorf(rv, rv == GENESIS_NOT_FOUND ? GENESIS_REASON_NOT_FOUND : err.reason,
                                "admin checkpoint %s '%.128s'%s: %s", sub, id,
                                gen > 0 ? " (that generation)" : "", err.message);
    }
    json_t *doc =
        json_pack("{s:s, s:I, s:I, s:I}", "component", id, "generation", (json_int_t)rec.generation,
                  "created_ms", (json_int_t)rec.created_ms, "size", (json_int_t)rec.len);
    if (show) {
        if (doc != NULL)
            put_data(doc, rec.data, rec.len);
        gn_ckpt_record_clear(&rec);
        return admin_json(doc);
    }
    /* Restore: no snapshot of this component runs meanwhile; the restored state is marked
     * changed so the next interval stores it as the newest generation. */
    pthread_mutex_lock(&cp->snap_lock);
    int accepted = in.callbacks->restore(rec.data != NULL ? rec.data : (const uint8_t *)"", rec.len,
                                         rec.generation, in.callbacks->arg);
    pthread_mutex_unlock(&cp->snap_lock);
    uint64_t restored = rec.generation;
    gn_ckpt_record_clear(&rec);
    cp->host.release(subject);
    if (accepted != GENESIS_OK) {
        json_decref(doc);
        return gn_result_errorf(accepted, GENESIS_REASON_HANDLER_ERROR,
                                "admin checkpoint restore: '%.128s' rejected generation %llu", id,
                                (unsigned long long)restored);
    }
    gn_log(cp->host.log, GENESIS_LOG_WARN,
           "component %s restored from generation %llu by an operator", id,
           (unsigned long long)restored);
    pthread_mutex_lock(&cp->lock);
    gn_ckpt_info *info = gn_ckpt_info_find(cp, id, true);
    if (info != NULL)
        info->dirty = true;
    pthread_mutex_unlock(&cp->lock);
    if (doc != NULL)
        json_object_set_new(doc, "restored", json_true());
    return admin_json(doc);
}
