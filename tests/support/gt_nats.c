/* nats-server clusters for tests (gt_nats.h): config files with explicit routes on ports picked
 * free on loopback, readiness checked with a real JetStream client (cnats). */
#include "gt_nats.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nats/nats.h>

#include "gt_tempdir.h"
#include "gt_wait.h"

bool gt_nats_find_server(char *buf, size_t size)
{
    const char *env = getenv("GENESIS_NATS_SERVER");
    if (env != NULL && gt_executable(env)) {
        snprintf(buf, size, "%s", env);
        return true;
    }
    if (gt_find_in_path("nats-server", buf, size))
        return true;
    /* Debian installs it in /usr/sbin, which a non-root PATH may lack. */
    if (gt_executable("/usr/sbin/nats-server")) {
        snprintf(buf, size, "/usr/sbin/nats-server");
        return true;
    }
    return false;
}

/* count free loopback ports, all distinct: every socket stays bound until all are picked. */
static int pick_ports(int *ports, int count)
{
    int fds[2 * GT_NATS_MAX_NODES];
    int rv = 0;
    for (int i = 0; i < count; i++)
        fds[i] = -1;
    for (int i = 0; i < count && rv == 0; i++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(sa);
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0)
            rv = -1;
        else
            ports[i] = ntohs(sa.sin_port);
    }
    for (int i = 0; i < count; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
    }
    return rv;
}

static int write_conf(gt_nats_cluster *c, int i)
{
    gt_nats_node *nd = &c->node[i];
    snprintf(nd->conf, sizeof(nd->conf), "%s/n%d.conf", c->dir, i);
    FILE *f = fopen(nd->conf, "w");
    if (f == NULL)
        return -1;
    fprintf(f,
            "server_name: n%d\n"
            "listen: 127.0.0.1:%d\n"
            "log_file: \"%s/n%d.log\"\n"
            "jetstream { store_dir: \"%s/n%d\" }\n",
            i, nd->client_port, c->dir, i, c->dir, i);
    if (c->n > 1) {
        fprintf(f, "cluster {\n  name: gt\n  listen: 127.0.0.1:%d\n  routes: [\n",
                nd->cluster_port);
        for (int j = 0; j < c->n; j++) {
            if (j != i)
                fprintf(f, "    nats-route://127.0.0.1:%d\n", c->node[j].cluster_port);
        }
        fprintf(f, "  ]\n}\n");
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int spawn_node(gt_nats_cluster *c, int i)
{
    gt_nats_node *nd = &c->node[i];
    const char *argv[] = {c->server, "-c", nd->conf, NULL};
    nd->paused = false;
    return gt_process_spawn(&nd->proc, argv, 0);
}

int gt_nats_start(gt_nats_cluster *c, int n)
{
    memset(c, 0, sizeof(*c));
    if (n < 1 || n > GT_NATS_MAX_NODES) {
        fprintf(stderr, "gt_nats_start: %d nodes (1..%d)\n", n, GT_NATS_MAX_NODES);
        return -1;
    }
    if (!gt_nats_find_server(c->server, sizeof(c->server))) {
        fprintf(stderr, "gt_nats_start: nats-server is not installed (tools/setup)\n");
        return -1;
    }
    if (gt_tempdir_make(c->dir, sizeof(c->dir)) != 0) {
        perror("gt_nats_start: temp dir");
        return -1;
    }
    c->n = n;
    int ports[2 * GT_NATS_MAX_NODES];
    if (pick_ports(ports, 2 * n) != 0) {
        perror("gt_nats_start: free ports");
        gt_nats_stop(c);
        return -1;
    }
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        c->node[i].client_port = ports[2 * i];
        c->node[i].cluster_port = ports[2 * i + 1];
        snprintf(c->node[i].url, sizeof(c->node[i].url), "nats://127.0.0.1:%d",
                 c->node[i].client_port);
        used += (size_t)snprintf(c->urls + used, sizeof(c->urls) - used, "%s%s", i > 0 ? "," : "",
                                 c->node[i].url);
    }
    for (int i = 0; i < n; i++) {
        if (write_conf(c, i) != 0 || spawn_node(c, i) != 0) {
            perror("gt_nats_start: node");
            gt_nats_stop(c);
            return -1;
        }
    }
    if (!gt_nats_wait_ready(c, n >= 3 ? 3 : n, 4 * GT_WAIT_MS)) {
        fprintf(stderr, "gt_nats_start: JetStream not ready (logs in %s)\n", c->dir);
        gt_nats_dump_logs(c, 20);
        gt_nats_stop(c);
        return -1;
    }
    return 0;
}

void gt_nats_dump_logs(const gt_nats_cluster *c, int lines)
{
    for (int i = 0; i < c->n; i++) {
        char cmd[400];
        fprintf(stderr, "--- nats node n%d (%s), last %d log lines:\n", i, c->node[i].url, lines);
        snprintf(cmd, sizeof(cmd), "tail -n %d %s/n%d.log >&2", lines, c->dir, i);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log of n%d)\n", i);
    }
}

void gt_nats_stop(gt_nats_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        if (c->node[i].paused)
            gt_process_signal(&c->node[i].proc, SIGCONT);
        gt_process_kill(&c->node[i].proc);
    }
    if (getenv("GENESIS_KEEP_NATS") == NULL)
        gt_tempdir_remove(c->dir);
    c->dir[0] = '\0';
    c->n = 0;
}

void gt_nats_kill(gt_nats_cluster *c, int i)
{
    gt_process_kill(&c->node[i].proc);
    c->node[i].paused = false;
}

void gt_nats_pause(gt_nats_cluster *c, int i)
{
    gt_process_signal(&c->node[i].proc, SIGSTOP);
    c->node[i].paused = true;
}

void gt_nats_resume(gt_nats_cluster *c, int i)
{
    gt_process_signal(&c->node[i].proc, SIGCONT);
    c->node[i].paused = false;
}

int gt_nats_restart(gt_nats_cluster *c, int i)
{
    gt_nats_kill(c, i);
    return spawn_node(c, i);
}

/* A connection to the running, unpaused nodes (an array: cnats 3.4's natsOptions_SetURL
 * fails with a comma-separated list). */
static natsConnection *connect_live(gt_nats_cluster *c)
{
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    const char *urls[GT_NATS_MAX_NODES];
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->node[i].proc.pid != 0 && !c->node[i].paused)
            urls[n++] = c->node[i].url;
    }
    if (n == 0 || natsOptions_Create(&o) != NATS_OK)
        return NULL;
    natsOptions_SetServers(o, urls, n);
    natsOptions_SetTimeout(o, 500);
    natsOptions_SetMaxReconnect(o, 0);
    if (natsConnection_Connect(&nc, o) != NATS_OK)
        nc = NULL;
    natsOptions_Destroy(o);
    return nc;
}

int gt_nats_stream_leader(gt_nats_cluster *c, const char *stream)
{
    natsConnection *nc = connect_live(c);
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    int leader = -1;
    if (nc != NULL && natsConnection_JetStream(&js, nc, NULL) == NATS_OK &&
        js_GetStreamInfo(&si, js, stream, NULL, NULL) == NATS_OK && si->Cluster != NULL &&
        si->Cluster->Leader != NULL && si->Cluster->Leader[0] == 'n')
        leader = atoi(si->Cluster->Leader + 1);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return leader >= 0 && leader < c->n ? leader : -1;
}

/* One probe: make a new small memory stream with the wanted replicas, store into it and delete
 * it. A new stream each time: its placement needs a meta leader and enough current peers, and
 * it carries no state from before a fault (a stream kept across a node's SIGSTOP was seen to
 * stay unwritable after the node resumed, "last sequence mismatch"). */
static bool probe(gt_nats_cluster *c, int replicas)
{
    static unsigned int probes;
    natsConnection *nc = connect_live(c);
    jsCtx *js = NULL;
    bool ok = false;
    if (nc != NULL) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = 1000;
        if (natsConnection_JetStream(&js, nc, &jo) == NATS_OK) {
            char name[32], subject[40];
            unsigned int n = ++probes;
            snprintf(name, sizeof(name), "gt_ready_%u", n);
            snprintf(subject, sizeof(subject), "gt.ready.%u", n);
            const char *subjects[] = {subject};
            jsStreamConfig sc;
            jsStreamConfig_Init(&sc);
            sc.Name = name;
            sc.Subjects = subjects;
            sc.SubjectsLen = 1;
            sc.Storage = js_MemoryStorage;
            sc.Replicas = replicas;
            sc.MaxMsgs = 1;
            jsStreamInfo *si = NULL;
            if (js_AddStream(&si, js, &sc, NULL, NULL) == NATS_OK) {
                jsPubAck *pa = NULL;
                ok = js_Publish(&pa, js, subject, "1", 1, NULL, NULL) == NATS_OK;
                jsPubAck_Destroy(pa);
                js_DeleteStream(js, name, NULL, NULL);
            }
            jsStreamInfo_Destroy(si);
            jsCtx_Destroy(js);
        }
        natsConnection_Destroy(nc);
    }
    return ok;
}

bool gt_nats_wait_ready(gt_nats_cluster *c, int replicas, int timeout_ms)
{
    int64_t until = gt_now_ms() + timeout_ms;
    while (gt_now_ms() < until) {
        if (probe(c, replicas))
            return true;
        gt_sleep_ms(100);
    }
    return false;
}

bool gt_nats_heal(gt_nats_cluster *c, int replicas, int timeout_ms)
{
    for (int i = 0; i < c->n; i++) {
        if (c->node[i].paused)
            gt_nats_resume(c, i);
        if (c->node[i].proc.pid == 0 && spawn_node(c, i) != 0)
            fprintf(stderr, "gt_nats_heal: n%d did not start again\n", i);
    }
    if (gt_nats_wait_ready(c, replicas, timeout_ms))
        return true;
    fprintf(stderr, "gt_nats_heal: JetStream not ready again after %d ms\n", timeout_ms);
    gt_nats_dump_logs(c, 30);
    return false;
}
