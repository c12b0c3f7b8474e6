/* Load generator for bench/footprint: puts a known number of components or WebSocket sessions
 * on a Genesis process so that its memory can be measured with and without them.
 *
 *   bench_footprint_load --inproc N
 *       a coordinator in this process (listening on tcp port 0, no gateway); prints
 *       "inproc rss_kib_before=A rss_kib_after=B components=N" around registering N in-process
 *       components, then exits.
 *   bench_footprint_load --remote FRONT_DOOR_URL DIR N
 *       N remote components (genesis_service, one ipc:// listener each in DIR, heartbeat every
 *       second) register with the coordinator at FRONT_DOOR_URL; prints "registered N", then
 *       holds them until stdin closes.
 *   bench_footprint_load --ws PORT N
 *       N idle WebSocket sessions on 127.0.0.1:PORT/ws?id=comp1; prints "connected N", then holds
 *       them until stdin closes.
 *
 * Nothing is asserted: the figures are printed by bench/footprint. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <genesis/genesis.h>

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

static void on_request(const genesis_request *req, genesis_reply *reply, void *arg)
{
    (void)req;
    (void)arg;
    genesis_reply_set(reply, "ok", 2, "text/plain");
}

static void wait_for_stdin_eof(void)
{
    char buf[64];
    while (fread(buf, 1, sizeof(buf), stdin) > 0) {
    }
}

static int run_inproc(int n)
{
    genesis_coordinator *co = NULL;
    if (genesis_coordinator_new(&co, NULL) != GENESIS_OK ||
        genesis_coordinator_listen(co, "tcp://127.0.0.1:0", "tcp://127.0.0.1:0") != GENESIS_OK) {
        fprintf(stderr, "footprint_load: coordinator: %s\n", genesis_last_error());
        return 1;
    }
    usleep(200 * 1000); /* let its threads settle */
    long before = rss_kib();
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "c%d", i);
        if (genesis_coordinator_register(co, id, &comp) != GENESIS_OK) {
            fprintf(stderr, "footprint_load: register %s: %s\n", id, genesis_last_error());
            return 1;
        }
    }
    usleep(500 * 1000);
    long after = rss_kib();
    printf("inproc rss_kib_before=%ld rss_kib_after=%ld components=%d\n", before, after, n);
    genesis_coordinator_free(co);
    return 0;
}

static int run_remote(const char *front_door, const char *dir, int n)
{
    genesis_service **svcs = calloc((size_t)n, sizeof(*svcs));
    genesis_service_options opts;
    genesis_service_options_init(&opts, GENESIS_SERVICE_OPTIONS_VERSION);
    opts.heartbeat_interval_ms = 1000;
    opts.max_concurrency = 1;
    opts.log_level = GENESIS_LOG_ERROR; /* listener re-creation warnings under load: noise here */
    genesis_component comp = {.version = GENESIS_COMPONENT_VERSION, .on_request = on_request};
    for (int i = 0; i < n; i++) {
        char id[32], url[512];
        snprintf(id, sizeof(id), "r%d", i);
        snprintf(url, sizeof(url), "ipc://%s/s%d", dir, i);
        if (genesis_service_new(&svcs[i], id, &comp, &opts) != GENESIS_OK ||
            genesis_service_listen(svcs[i], url) != GENESIS_OK ||
            genesis_service_connect(svcs[i], front_door, NULL, 10000) != GENESIS_OK) {
            fprintf(stderr, "footprint_load: service %s: %s\n", id, genesis_last_error());
            return 1;
        }
    }
    printf("registered %d\n", n);
    fflush(stdout);
    wait_for_stdin_eof();
    for (int i = 0; i < n; i++)
        genesis_service_free(svcs[i]);
    free(svcs);
    return 0;
}

/* Connect and upgrade; returns the socket or -1. */
static int ws_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto fail;
    char req[512];
    int len = snprintf(req, sizeof(req),
                       "GET /ws?id=comp1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n",
                       port);
    if (write(fd, req, (size_t)len) != len)
        goto fail;
    char resp[1024];
    size_t got = 0;
    while (got < sizeof(resp) - 1) { /* byte by byte, up to the end of the headers */
        if (read(fd, resp + got, 1) != 1)
            goto fail;
        got++;
        if (got >= 4 && memcmp(resp + got - 4, "\r\n\r\n", 4) == 0)
            return strncmp(resp, "HTTP/1.1 101", 12) == 0 ? fd : (close(fd), -1);
    }
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

static int run_ws(int port, int n)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int *fds = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        fds[i] = ws_connect(port);
        if (fds[i] < 0) {
            fprintf(stderr, "footprint_load: WebSocket %d was refused\n", i);
            return 1;
        }
    }
    printf("connected %d\n", n);
    fflush(stdout);
    wait_for_stdin_eof();
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--inproc") == 0)
        return run_inproc(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "--remote") == 0)
        return run_remote(argv[2], argv[3], atoi(argv[4]));
    if (argc == 4 && strcmp(argv[1], "--ws") == 0)
        return run_ws(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: bench_footprint_load --inproc N | --remote URL DIR N | --ws PORT N\n");
    return 2;
}
