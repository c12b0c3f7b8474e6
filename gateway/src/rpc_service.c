/* The services of genesis.proto, whatever protocol carries them (see rpc_service.h). */
#define _POSIX_C_SOURCE 200809L
#include "rpc_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "genesis/proto/genesis.pb-c.h"
#include "gw_internal.h"
#include "json_map.h"
#include "proto_json.h"

#define WORKER_BACKLOG 1024 /* blocking calls waiting at most; more get RESOURCE_EXHAUSTED */

static const gw_rpc_method methods[] = {
    {"/genesis.v1.Genesis/Request", GW_RPC_REQUEST, 0, 0, &genesis__v1__request__descriptor,
     &genesis__v1__reply__descriptor, 0},
    {"/genesis.v1.Genesis/Emit", GW_RPC_EMIT, 0, 0, &genesis__v1__emit__descriptor,
     &genesis__v1__emit_ack__descriptor, 0},
    {"/genesis.v1.Genesis/Watch", GW_RPC_WATCH, 1, 0, &genesis__v1__watch_request__descriptor,
     &genesis__v1__event__descriptor, 0},
    {"/genesis.v1.Genesis/Status", GW_RPC_STATUS, 0, 0, &genesis__v1__status_query__descriptor,
     &genesis__v1__status_report__descriptor, 1},
    {"/genesis.v1.GenesisAdmin/Mode", GW_RPC_ADMIN_MODE, 0, 1,
     &genesis__v1__mode_request__descriptor, &genesis__v1__admin_result__descriptor, 0},
    {"/genesis.v1.GenesisAdmin/Breaker", GW_RPC_ADMIN_BREAKER, 0, 1,
     &genesis__v1__breaker_request__descriptor, &genesis__v1__admin_result__descriptor, 0},
    {"/genesis.v1.GenesisAdmin/Policy", GW_RPC_ADMIN_POLICY, 0, 1,
     &genesis__v1__policy_request__descriptor, &genesis__v1__admin_result__descriptor, 0},
    {"/genesis.v1.GenesisAdmin/Checkpoints", GW_RPC_ADMIN_CHECKPOINTS, 0, 1,
     &genesis__v1__checkpoints_request__descriptor, &genesis__v1__admin_result__descriptor, 0},
    {"/genesis.v1.GenesisAdmin/Reload", GW_RPC_ADMIN_RELOAD, 0, 1,
     &genesis__v1__reload_request__descriptor, &genesis__v1__admin_result__descriptor, 0},
    {"/genesis.v1.GenesisAdmin/Supervisor", GW_RPC_ADMIN_SUPERVISOR, 0, 1,
     &genesis__v1__supervisor_request__descriptor, &genesis__v1__admin_result__descriptor, 0},
};

const gw_rpc_method *gw_rpc_find(const char *path)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(path, methods[i].path) == 0)
            return &methods[i];
    return NULL;
}

void gw_rpc_out_free(gw_rpc_out *o)
{
    if (o == NULL)
        return;
    free(o->details);
    free(o->msg);
    free(o);
}

/* ---- outcomes ------------------------------------------------------------------------------ */

static gw_rpc_out *new_out(const gw_rpc_call *call, int end)
{
    gw_rpc_out *o = calloc(1, sizeof(*o));
    if (o != NULL) {
        o->conn_id = call->conn_id;
        o->stream_id = call->stream_id;
        o->end = end;
    }
    return o;
}

gw_rpc_out *gw_rpc_error(const gw_rpc_call *call, int code, const char *reason,
                         const char *component, const char *message)
{
    return gw_rpc_error_advised(call, code, reason, component, message, 0);
}

gw_rpc_out *gw_rpc_error_advised(const gw_rpc_call *call, int code, const char *reason,
                                 const char *component, const char *message,
                                 uint32_t retry_delay_ms)
{
    gw_rpc_out *o = new_out(call, 1);
    if (o == NULL)
        return NULL;
    o->code = code;
    snprintf(o->message, sizeof(o->message), "%s", message);
    Genesis__V1__ErrorInfo info = GENESIS__V1__ERROR_INFO__INIT;
    info.reason = (char *)reason;
    info.domain = "genesis";
    info.component = (char *)component;
    info.request_id = call->request_id;
    info.protocol = (char *)call->protocol;
    info.retry_delay_ms = retry_delay_ms;
    size_t info_len = genesis__v1__error_info__get_packed_size(&info);
    uint8_t *packed = malloc(info_len + 1);
    if (packed == NULL)
        return o; /* the status without details */
    genesis__v1__error_info__pack(&info, packed);
    Genesis__V1__Any any = GENESIS__V1__ANY__INIT;
    any.type_url = "type.googleapis.com/genesis.v1.ErrorInfo";
    any.value.data = packed;
    any.value.len = info_len;
    Genesis__V1__Any *details[1] = {&any};
    Genesis__V1__RpcStatus st = GENESIS__V1__RPC_STATUS__INIT;
    st.code = code;
    st.message = o->message;
    st.n_details = 1;
    st.details = details;
    o->details_len = genesis__v1__rpc_status__get_packed_size(&st);
    o->details = malloc(o->details_len + 1);
    if (o->details != NULL)
        genesis__v1__rpc_status__pack(&st, o->details);
    else
        o->details_len = 0;
    free(packed);
    return o;
}

static void post_error(const gw_rpc_call *call, int code, const char *reason, const char *component,
                       const char *message)
{
    gw_rpc_out *o = gw_rpc_error(call, code, reason, component, message);
    if (o != NULL)
        call->post(call->post_arg, o);
}

/* A finished call: OK with its one message, or the result's error. */
static void post_result(const gw_rpc_call *call, const genesis_result *res, const char *component,
                        const ProtobufCMessage *msg)
{
    int code = res != NULL ? genesis_result_status(res) : GENESIS_RESOURCE_EXHAUSTED;
    if (code != GENESIS_OK) {
        int reason = res != NULL ? genesis_result_reason(res) : GENESIS_REASON_NO_MEMORY;
        gw_rpc_out *o = gw_rpc_error_advised(
            call, code,
            reason != GENESIS_REASON_NONE ? genesis_reason_name(reason) : genesis_status_name(code),
            component, res != NULL ? genesis_result_message(res) : "out of memory",
            genesis_result_retry_delay_ms(res));
        if (o != NULL)
            call->post(call->post_arg, o);
        return;
    }
    gw_rpc_out *o = new_out(call, 1);
    if (o == NULL)
        return;
    o->msg_len = protobuf_c_message_get_packed_size(msg);
    o->msg = malloc(o->msg_len + 1);
    if (o->msg == NULL) {
        gw_rpc_out_free(o);
        post_error(call, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", component, "out of memory");
        return;
    }
    protobuf_c_message_pack(msg, o->msg);
    call->post(call->post_arg, o);
}

/* ---- calls in flight: gw_free waits for them (see gw_internal.h calls_pending) ------------ */

static void call_started(gw_gateway *gw)
{
    atomic_fetch_add(&gw->calls_pending, 1);
}

static void call_finished(gw_gateway *gw)
{
    unsigned long n = atomic_load(&gw->calls_pending);
    while (n > 1)
        if (atomic_compare_exchange_weak(&gw->calls_pending, &n, n - 1))
            return;
    pthread_mutex_lock(&gw->calls_lock);
    if (atomic_fetch_sub(&gw->calls_pending, 1) == 1)
        pthread_cond_broadcast(&gw->calls_cv);
    pthread_mutex_unlock(&gw->calls_lock);
}

/* ---- the engine and its worker for blocking calls ------------------------------------------ */

typedef struct job {
    struct job *next;
    gw_rpc_call call;
    ProtobufCMessage *in; /* owned */
} job;

struct gw_rpc_engine {
    gw_gateway *gw;
    atomic_uint watches; /* Watch streams open (each holds a bus subscription and a thread) */
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    job *head, *tail;
    size_t queued;
    int stopping;
};

static void run_job(gw_rpc_engine *e, job *j);

static void *worker_main(void *arg)
{
    gw_rpc_engine *e = arg;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (e->head == NULL && !e->stopping)
            pthread_cond_wait(&e->cv, &e->lock);
        job *j = e->head;
        if (j == NULL)
            break;
        e->head = j->next;
        if (e->head == NULL)
            e->tail = NULL;
        e->queued--;
        pthread_mutex_unlock(&e->lock);
        run_job(e, j);
        protobuf_c_message_free_unpacked(j->in, NULL);
        free(j);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

int gw_rpc_engine_new(gw_rpc_engine **out, gw_gateway *gw)
{
    gw_rpc_engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return GENESIS_RESOURCE_EXHAUSTED;
    e->gw = gw;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cv, NULL);
    if (gw_thread_start(&e->thread, worker_main, e, "gw:rpc") != 0) {
        gw_rpc_engine_free(e);
        return GENESIS_RESOURCE_EXHAUSTED;
    }
    e->started = 1;
    *out = e;
    return GENESIS_OK;
}

void gw_rpc_engine_stop(gw_rpc_engine *e)
{
    if (e == NULL || !e->started)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    e->started = 0;
}

void gw_rpc_engine_free(gw_rpc_engine *e)
{
    if (e == NULL)
        return;
    gw_rpc_engine_stop(e);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

unsigned int gw_rpc_engine_watches(gw_rpc_engine *e)
{
    return e != NULL ? atomic_load(&e->watches) : 0;
}

static void submit_job(gw_rpc_engine *e, const gw_rpc_call *call, ProtobufCMessage *in)
{
    job *j = calloc(1, sizeof(*j));
    pthread_mutex_lock(&e->lock);
    int full = e->queued >= WORKER_BACKLOG || e->stopping;
    if (j != NULL && !full) {
        j->call = *call;
        j->in = in;
        if (e->tail != NULL)
            e->tail->next = j;
        else
            e->head = j;
        e->tail = j;
        e->queued++;
        pthread_cond_signal(&e->cv);
    }
    pthread_mutex_unlock(&e->lock);
    if (j == NULL || full) {
        free(j);
        protobuf_c_message_free_unpacked(in, NULL);
        post_error(call, GENESIS_RESOURCE_EXHAUSTED, "OVERLOADED", "",
                   "the gateway has too many coordinator calls in flight");
    }
}

/* ---- Genesis.Request --------------------------------------------------------------------- */

typedef struct pending_request {
    gw_rpc_call call;
    gw_gateway *gw;
    char component[GENESIS_ID_MAX + 1];
} pending_request;

static void request_done(genesis_result *res, void *arg)
{
    pending_request *p = arg;
    gw_gateway *gw = p->gw;
    Genesis__V1__Reply reply = GENESIS__V1__REPLY__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    if (res != NULL && genesis_result_status(res) == GENESIS_OK) {
        size_t len = 0;
        const void *data = genesis_result_data(res, &len);
        payload.data.data = (uint8_t *)data;
        payload.data.len = len;
        const char *ct = genesis_result_content_type(res);
        payload.content_type = (char *)(ct != NULL ? ct : "");
        reply.payload = &payload;
    }
    post_result(&p->call, res, p->component, &reply.base);
    genesis_result_free(res);
    free(p);
    call_finished(gw);
}

static uint32_t effective_timeout(const gw_gateway *gw, uint32_t in_message, uint32_t deadline)
{
    uint32_t t = in_message;
    if (deadline > 0 && (t == 0 || deadline < t))
        t = deadline;
    if (t == 0)
        t = gw->cfg.default_timeout_ms;
    return t > GW_MAX_TIMEOUT_MS ? GW_MAX_TIMEOUT_MS : t;
}

static int component_allowed(const gw_rpc_call *call, const char *id)
{
    if (call->token == NULL || gw_token_allows(call->token, id))
        return 1;
    char msg[256];
    snprintf(msg, sizeof(msg), "this token may not call component '%.128s'", id);
    post_error(call, GENESIS_PERMISSION_DENIED, "PERMISSION_DENIED", id, msg);
    return 0;
}

static void start_request(gw_rpc_engine *e, const gw_rpc_call *call, Genesis__V1__Request *r)
{
    gw_gateway *gw = e->gw;
    if (r->target[0] == '\0' || r->type[0] == '\0') {
        post_error(call, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT", r->target,
                   "Request needs a target (component id) and a type");
        return;
    }
    if (!component_allowed(call, r->target))
        return;
    pending_request *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        post_error(call, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", r->target, "out of memory");
        return;
    }
    p->call = *call;
    p->gw = gw;
    snprintf(p->component, sizeof(p->component), "%s", r->target);
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.timeout_ms = effective_timeout(gw, r->timeout_ms, call->timeout_ms);
    opts.criticality = (int)r->criticality;
    opts.source = r->source[0] != '\0' ? r->source : "gateway";
    opts.request_id = r->request_id != 0 ? r->request_id : call->request_id;
    opts.idempotent = r->idempotent;
    const void *data = NULL;
    size_t len = 0;
    if (r->payload != NULL) {
        data = r->payload->data.data;
        len = r->payload->data.len;
        if (r->payload->content_type[0] != '\0')
            opts.content_type = r->payload->content_type;
    }
    call_started(gw);
    int rv = gw->cfg.coordinator != NULL
                 ? genesis_coordinator_request_async(gw->cfg.coordinator, r->target, r->type, data,
                                                     len, &opts, request_done, p)
                 : genesis_client_request_async(gw->client, r->target, r->type, data, len, &opts,
                                                request_done, p);
    if (rv != GENESIS_OK) { /* the callback will never run */
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", genesis_last_error());
        free(p);
        call_finished(gw);
        post_error(call, rv, genesis_status_name(rv), r->target, msg);
    }
}

/* ---- blocking calls (worker thread) -------------------------------------------------------- */

static void run_emit(gw_rpc_engine *e, const gw_rpc_call *call, const Genesis__V1__Emit *m)
{
    gw_gateway *gw = e->gw;
    genesis_call_options opts;
    genesis_call_options_init(&opts, GENESIS_CALL_OPTIONS_VERSION);
    opts.timeout_ms = effective_timeout(gw, 0, call->timeout_ms);
    opts.criticality = (int)m->criticality;
    opts.source = m->source[0] != '\0' ? m->source : "gateway";
    const void *data = m->payload != NULL ? m->payload->data.data : NULL;
    size_t len = m->payload != NULL ? m->payload->data.len : 0;
    if (m->payload != NULL && m->payload->content_type[0] != '\0')
        opts.content_type = m->payload->content_type;
    genesis_result *res = NULL;
    int rv = m->target[0] != '\0'
                 ? genesis_client_emit_to(gw->client, m->target, m->type, data, len, &opts, &res)
                 : genesis_client_emit(gw->client, m->type, data, len, &opts, &res);
    Genesis__V1__EmitAck ack = GENESIS__V1__EMIT_ACK__INIT;
    if (res == NULL && rv != GENESIS_OK)
        post_error(call, rv, genesis_status_name(rv), m->target, genesis_last_error());
    else
        post_result(call, res, m->target, &ack.base);
    genesis_result_free(res);
}

/* Move the members of obj[from] to obj as prefix + name + suffix. */
static void hoist(json_t *obj, const char *from, const char *prefix, const char *suffix)
{
    json_t *sub = json_object_get(obj, from);
    if (!json_is_object(sub))
        return;
    const char *key;
    json_t *v;
    char name[128];
    json_object_foreach(sub, key, v)
    {
        snprintf(name, sizeof(name), "%s%s%s", prefix, key, suffix);
        json_object_set(obj, name, v);
    }
    json_object_del(obj, from);
}

/* The status document's shape back into StatusReport's (status_json.c and checkpoint_json.c
 * nest what the proto keeps flat). */
static void status_doc_as_report(json_t *root)
{
    hoist(root, "stats", "", "");
    json_t *ck = json_object_get(root, "checkpoints");
    if (json_is_object(ck)) {
        json_object_set(root, "checkpoint_store", json_object_get(ck, "store"));
        json_object_set(root, "checkpoints_written", json_object_get(ck, "written"));
        json_object_set(root, "checkpoint_failures", json_object_get(ck, "failures"));
        json_object_set(root, "checkpoints_corrupt", json_object_get(ck, "corrupt"));
        json_object_del(root, "checkpoints");
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(root, "components"), i, c)
    {
        json_t *lat = json_object_get(c, "latency_us");
        if (json_is_object(lat)) {
            json_object_set(c, "latency_count", json_object_get(lat, "count"));
            hoist(c, "latency_us", "latency_", "_us");
            json_object_del(c, "latency_count_us");
        }
        json_t *reasons = json_object_get(c, "failures_by_reason"), *arr = json_array();
        const char *key;
        json_t *v;
        json_object_foreach(reasons, key, v)
        {
            json_array_append_new(arr, json_pack("{s:s, s:O}", "reason", key, "count", v));
        }
        json_object_set_new(c, "failures_by_reason", arr);
        json_t *cp = json_object_get(c, "checkpoint");
        if (json_is_object(cp)) {
            json_object_set(c, "checkpoint_generation", json_object_get(cp, "generation"));
            json_object_set(c, "checkpoint_size", json_object_get(cp, "size"));
            json_object_set(c, "checkpoint_age_ms", json_object_get(cp, "age_ms"));
            json_object_set(c, "checkpoints_written", json_object_get(cp, "written"));
            json_object_set(c, "checkpoint_failures", json_object_get(cp, "failures"));
            json_object_set(c, "checkpoint_error", json_object_get(cp, "error"));
            json_object_del(c, "checkpoint");
        }
    }
}

/* genesis_client_status's JSON document as a StatusReport (proto_json after reshaping). */
static void run_status(gw_rpc_engine *e, const gw_rpc_call *call)
{
    genesis_result *res = NULL;
    int rv =
        genesis_client_status(e->gw->client, effective_timeout(e->gw, 0, call->timeout_ms), &res);
    if (res == NULL || rv != GENESIS_OK) {
        if (res != NULL)
            post_result(call, res, "", NULL);
        else
            post_error(call, rv, genesis_status_name(rv), "", genesis_last_error());
        genesis_result_free(res);
        return;
    }
    size_t len = 0;
    const char *doc = genesis_result_data(res, &len);
    json_t *root = json_loadb(doc, len, 0, NULL);
    if (json_is_object(root))
        status_doc_as_report(root);
    char why[256] = "the status document is not JSON";
    ProtobufCMessage *report =
        root != NULL
            ? gw_proto_from_json(&genesis__v1__status_report__descriptor, root, 1, why, sizeof(why))
            : NULL;
    if (report != NULL)
        post_result(call, res, "", report);
    else
        post_error(call, GENESIS_INTERNAL, "INTERNAL", "", why);
    if (report != NULL)
        protobuf_c_message_free_unpacked(report, NULL);
    json_decref(root);
    genesis_result_free(res);
}

/* Admin RPCs become the operator commands of genesis_coordinator_admin. */
static void run_admin(gw_rpc_engine *e, const gw_rpc_call *call, const ProtobufCMessage *in)
{
    const char *command = NULL;
    char *args[32];
    size_t n = 0;
    char gen[24];
    char *owned[32];
    size_t n_owned = 0;
    const char *component = "";
    switch (call->method->kind) {
    case GW_RPC_ADMIN_MODE: {
        const Genesis__V1__ModeRequest *m = (const void *)in;
        command = "mode";
        if (m->mode[0] != '\0')
            args[n++] = m->mode;
        break;
    }
    case GW_RPC_ADMIN_BREAKER: {
        const Genesis__V1__BreakerRequest *m = (const void *)in;
        command = "breaker";
        component = m->component;
        args[n++] = m->component;
        args[n++] = m->state;
        if (m->for_ms > 0) { /* "open" for a time (the coordinator refuses it for the others) */
            snprintf(gen, sizeof(gen), "%u", (unsigned)m->for_ms);
            args[n++] = gen;
        }
        break;
    }
    case GW_RPC_ADMIN_POLICY: {
        const Genesis__V1__PolicyRequest *m = (const void *)in;
        command = "policy";
        component = m->component;
        args[n++] = m->component;
        for (size_t i = 0; i < m->n_fields && n < 31; i++) {
            size_t l = strlen(m->fields[i]->key) + strlen(m->fields[i]->value) + 2;
            char *kv = malloc(l);
            if (kv == NULL)
                break;
            snprintf(kv, l, "%s=%s", m->fields[i]->key, m->fields[i]->value);
            owned[n_owned++] = kv;
            args[n++] = kv;
        }
        break;
    }
    case GW_RPC_ADMIN_CHECKPOINTS: {
        const Genesis__V1__CheckpointsRequest *m = (const void *)in;
        command = "checkpoint";
        component = m->component;
        args[n++] = m->action[0] != '\0' ? m->action : "list";
        if (m->component[0] != '\0')
            args[n++] = m->component;
        if (m->generation != 0) {
            snprintf(gen, sizeof(gen), "%llu", (unsigned long long)m->generation);
            args[n++] = gen;
        }
        break;
    }
    case GW_RPC_ADMIN_RELOAD:
        command = "reload";
        break;
    case GW_RPC_ADMIN_SUPERVISOR: {
        const Genesis__V1__SupervisorRequest *m = (const void *)in;
        static char restart[] = "supervisor.restart";
        command = m->action[0] == '\0' || strcmp(m->action, "restart") == 0 ? restart : "";
        args[n++] = m->child;
        break;
    }
    default:
        break;
    }
    gw_gateway *gw = e->gw;
    genesis_result *res = NULL;
    const char *const *a = (const char *const *)args;
    int rv = gw->cfg.coordinator != NULL
                 ? genesis_coordinator_admin(gw->cfg.coordinator, command, a, n, &res)
                 : genesis_client_admin(gw->client, command, a, n,
                                        effective_timeout(gw, 0, call->timeout_ms), &res);
    if (res == NULL) {
        post_error(call, rv, genesis_status_name(rv), component, genesis_last_error());
    } else {
        size_t len = 0;
        const char *doc = genesis_result_data(res, &len);
        Genesis__V1__AdminResult out = GENESIS__V1__ADMIN_RESULT__INIT;
        out.json = strndup(doc != NULL ? doc : "", len);
        if (out.json == NULL)
            post_error(call, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", component, "out of memory");
        else
            post_result(call, res, component, &out.base);
        free(out.json);
    }
    genesis_result_free(res);
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
}

static void run_job(gw_rpc_engine *e, job *j)
{
    switch (j->call.method->kind) {
    case GW_RPC_EMIT:
        run_emit(e, &j->call, (const Genesis__V1__Emit *)j->in);
        break;
    case GW_RPC_STATUS:
        run_status(e, &j->call);
        break;
    default:
        run_admin(e, &j->call, j->in);
        break;
    }
}

/* ---- Genesis.Watch: a bus subscription of its own per stream -------------------------------- */

struct gw_rpc_watch {
    gw_rpc_engine *engine;
    gw_rpc_call call;
    genesis_client *client;
    char source[GENESIS_ID_MAX + 1];
    char **types;
    size_t n_types;
};

static void on_watch_event(const genesis_event *ev, void *arg)
{
    gw_rpc_watch *w = arg;
    const char *type = genesis_event_type(ev);
    if (w->source[0] != '\0' && strcmp(w->source, genesis_event_source(ev)) != 0)
        return;
    if (w->n_types > 0) {
        size_t i = 0;
        while (i < w->n_types && strcmp(w->types[i], type) != 0)
            i++;
        if (i == w->n_types)
            return;
    }
    Genesis__V1__Event out = GENESIS__V1__EVENT__INIT;
    Genesis__V1__Payload payload = GENESIS__V1__PAYLOAD__INIT;
    size_t len = 0;
    const void *data = genesis_event_data(ev, &len);
    const char *ct = genesis_event_content_type(ev);
    payload.data.data = (uint8_t *)data;
    payload.data.len = len;
    payload.content_type = (char *)(ct != NULL ? ct : "");
    out.sequence = genesis_event_sequence(ev);
    out.type = (char *)type;
    out.source = (char *)genesis_event_source(ev);
    out.payload = &payload;
    out.scope = genesis_event_is_external(ev) ? GENESIS__V1__SCOPE__SCOPE_EXTERNAL
                                              : GENESIS__V1__SCOPE__SCOPE_LOCAL;
    gw_rpc_out *o = new_out(&w->call, 0);
    if (o == NULL)
        return;
    o->msg_len = genesis__v1__event__get_packed_size(&out);
    o->msg = malloc(o->msg_len + 1);
    if (o->msg == NULL) {
        gw_rpc_out_free(o);
        return;
    }
    genesis__v1__event__pack(&out, o->msg);
    w->call.post(w->call.post_arg, o);
}

static void watch_free(gw_rpc_watch *w)
{
    genesis_client_free(w->client);
    atomic_fetch_sub(&w->engine->watches, 1);
    for (size_t i = 0; w->types != NULL && i < w->n_types; i++)
        free(w->types[i]);
    free(w->types);
    free(w);
}

void gw_rpc_watch_cancel(gw_rpc_watch *w)
{
    if (w != NULL)
        watch_free(w);
}

static gw_rpc_watch *start_watch(gw_rpc_engine *e, const gw_rpc_call *call,
                                 const Genesis__V1__WatchRequest *m)
{
    gw_gateway *gw = e->gw;
    if (gw->cfg.event_bus == NULL) {
        post_error(call, GENESIS_UNAVAILABLE, "UNAVAILABLE", "",
                   "the gateway has no event bus to watch (start it with --events)");
        return NULL;
    }
    /* Bounded like WebSocket sessions: each stream holds a bus subscription of its own. */
    if (atomic_fetch_add(&e->watches, 1) >= gw->cfg.max_ws_clients) {
        atomic_fetch_sub(&e->watches, 1);
        char msg[200];
        snprintf(msg, sizeof(msg), "too many Watch streams open (at most %u, --max-ws-clients)",
                 gw->cfg.max_ws_clients);
        post_error(call, GENESIS_RESOURCE_EXHAUSTED, "LIMIT_REACHED", "", msg);
        return NULL;
    }
    gw_rpc_watch *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        atomic_fetch_sub(&e->watches, 1);
        post_error(call, GENESIS_RESOURCE_EXHAUSTED, "NO_MEMORY", "", "out of memory");
        return NULL;
    }
    w->engine = e;
    w->call = *call;
    snprintf(w->source, sizeof(w->source), "%s", m->source);
    w->types = calloc(m->n_types + 1, sizeof(char *));
    for (size_t i = 0; w->types != NULL && i < m->n_types; i++)
        if ((w->types[w->n_types] = strdup(m->types[i])) != NULL)
            w->n_types++;
    genesis_client_options copts;
    genesis_client_options_init(&copts, GENESIS_CLIENT_OPTIONS_VERSION);
    copts.name = "gateway-watch";
    copts.worker_threads = 1; /* one subscriber: events in order */
    copts.tls_ca_file = gw->cfg.core_tls_ca;
    copts.tls_cert_file = gw->cfg.core_tls_cert;
    copts.tls_key_file = gw->cfg.core_tls_key;
    int rv = w->types == NULL ? GENESIS_RESOURCE_EXHAUSTED : genesis_client_new(&w->client, &copts);
    if (rv == GENESIS_OK)
        rv = genesis_client_dial(w->client, gw->cfg.front_door, gw->cfg.event_bus);
    if (rv == GENESIS_OK)
        rv = genesis_client_subscribe(w->client, m->topic, on_watch_event, w);
    if (rv != GENESIS_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "cannot subscribe to the event bus: %s", genesis_last_error());
        watch_free(w);
        post_error(call, rv, genesis_status_name(rv), "", msg);
        return NULL;
    }
    return w;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

void gw_rpc_start(gw_rpc_engine *e, const gw_rpc_call *call, const uint8_t *in, size_t len,
                  gw_rpc_watch **watch)
{
    if (watch != NULL)
        *watch = NULL;
    ProtobufCMessage *msg = protobuf_c_message_unpack(call->method->input, NULL, len, in);
    if (msg == NULL) {
        char why[160];
        snprintf(why, sizeof(why), "the request is not a valid %s message",
                 call->method->input->name);
        post_error(call, GENESIS_INVALID_ARGUMENT, "MALFORMED_MESSAGE", "", why);
        return;
    }
    switch (call->method->kind) {
    case GW_RPC_REQUEST:
        start_request(e, call, (Genesis__V1__Request *)msg);
        break;
    case GW_RPC_WATCH:
        if (watch != NULL)
            *watch = start_watch(e, call, (Genesis__V1__WatchRequest *)msg);
        break;
    case GW_RPC_EMIT: {
        const Genesis__V1__Emit *m = (const void *)msg;
        if (m->type[0] == '\0') {
            post_error(call, GENESIS_INVALID_ARGUMENT, "INVALID_ARGUMENT", "", "Emit needs a type");
            break;
        }
        if (m->target[0] != '\0' && !component_allowed(call, m->target))
            break;
        submit_job(e, call, msg);
        return; /* the job owns msg */
    }
    default:
        submit_job(e, call, msg);
        return;
    }
    protobuf_c_message_free_unpacked(msg, NULL);
}
