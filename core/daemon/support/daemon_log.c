/* The programs' log sink: line formats and rate limit (see daemon_log.h), a genesis_log_fn on
 * the library's logger (base/log.h), which also formats the programs' own messages. */
#define _POSIX_C_SOURCE 200809L

#include "daemon_log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"

#define LINE_MAX_BYTES 4096
#define KIND_SLOTS     256
#define KIND_TEXT      96 /* kept per slot to name the kind in "suppressed" lines */
#define SWEEP_MS       1000

static atomic_int g_level = GENESIS_LOG_INFO;
static atomic_int g_format = DAEMON_LOG_TEXT;
static atomic_uint g_rate = 20;
static atomic_uint_fast64_t g_suppressed_total;
static const char *g_program = "genesisd";

static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};
static const char *const format_names[] = {"text", "logfmt", "json"};

/* One kind of message: a window of one second and what it suppressed. */
typedef struct kind_slot {
    uint64_t hash; /* 0 = free */
    int level;
    int64_t window_start_ms;
    unsigned int in_window;
    uint64_t suppressed;
    char text[KIND_TEXT];
    const char *component;
} kind_slot;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the slots */
static kind_slot g_slots[KIND_SLOTS];
static int64_t g_last_sweep_ms;

int daemon_log_level_parse(const char *name, int *level)
{
    return gn_log_level_parse(name, level);
}

const char *daemon_log_level_name(int level)
{
    return level > GENESIS_LOG_DEBUG ? "?" : gn_log_level_name(level);
}

int daemon_log_format_parse(const char *name, int *format)
{
    for (int i = 0; i < 3; i++) {
        if (name != NULL && strcasecmp(name, format_names[i]) == 0) {
            *format = i;
            return 0;
        }
    }
    return -1;
}

const char *daemon_log_format_name(int format)
{
    return format >= 0 && format < 3 ? format_names[format] : "?";
}

void daemon_log_set_program(const char *name)
{
    g_program = name != NULL ? name : "genesisd";
}

void daemon_log_set_level(int level)
{
    atomic_store(&g_level, level);
}

void daemon_log_set_format(int format)
{
    atomic_store(&g_format, format);
}

void daemon_log_set_rate_limit(unsigned int per_second)
{
    atomic_store(&g_rate, per_second);
}

uint64_t daemon_log_suppressed_total(void)
{
    return atomic_load(&g_suppressed_total);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- formatting ------------------------------------------------------------------------- */

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n >= o->size)
        n = o->len + 1 < o->size ? o->size - o->len - 1 : 0;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A JSON string body (without quotes), or a logfmt value (quoted when needed). */
static void put_escaped(struct out *o, const char *s, bool json)
{
    bool quote = json;
    if (!json) {
        quote = s[0] == '\0';
        for (const char *p = s; *p != '\0' && !quote; p++)
            quote = *p == ' ' || *p == '=' || *p == '"' || (unsigned char)*p < 0x20;
    }
    if (quote)
        put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(o, esc, 2);
        } else if (*p == '\n') {
            put(o, "\\n", 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, json ? "\\u%04x" : "\\x%02x", *p);
            puts_(o, esc);
        } else {
            put(o, (const char *)p, 1);
        }
    }
    if (quote)
        put(o, "\"", 1);
}

/* The value of "name=<word>" inside message, copied into buf; false when absent. */
static bool find_field(const char *message, const char *name, char *buf, size_t size)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(message, name); p != NULL; p = strstr(p + 1, name)) {
        if ((p != message && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) || p[nl] != '=')
            continue;
        const char *v = p + nl + 1;
        size_t len = 0;
        while (v[len] != '\0' &&
               (isalnum((unsigned char)v[len]) || v[len] == '_' || v[len] == '-' || v[len] == '.'))
            len++;
        if (len == 0 || len >= size)
            continue;
        memcpy(buf, v, len);
        buf[len] = '\0';
        return true;
    }
    return false;
}

/* The component a message is about: its "component=ID" field, or the id after a leading
 * "component " or "service " (the library's own wording), or, for the demo components'
 * messages, their first word. */
static bool find_component(const char *subsystem, const char *message, char *buf, size_t size)
{
    if (find_field(message, "component", buf, size))
        return true;
    const char *id = NULL;
    if (strncmp(message, "component ", 10) == 0)
        id = message + 10;
    else if (strncmp(message, "service ", 8) == 0)
        id = message + 8;
    else if (strcmp(subsystem, "demo") == 0)
        id = message;
    if (id == NULL)
        return false;
    size_t len = 0;
    while (id[len] != '\0' &&
           (isalnum((unsigned char)id[len]) || id[len] == '_' || id[len] == '-' || id[len] == '.'))
        len++;
    if (len > 0 && id[len - 1] == '.') /* the end of a sentence */
        len--;
    if (len == 0 || len >= size)
        return false;
    memcpy(buf, id, len);
    buf[len] = '\0';
    return true;
}

static void timestamp(char *stamp, size_t size)
{
    struct timespec now;
    struct tm tm;
    stamp[0] = '\0';
    if (clock_gettime(CLOCK_REALTIME, &now) == 0 && gmtime_r(&now.tv_sec, &tm) != NULL) {
        char base[24];
        if (strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) > 0)
            snprintf(stamp, size, "%s.%03dZ", base, (int)(now.tv_nsec / 1000000L));
    }
}

static void write_line(int level, const char *component, const char *message)
{
    char line[LINE_MAX_BYTES];
    struct out o = {line, sizeof line - 1, 0}; /* room for the newline */
    line[0] = '\0';
    char stamp[64];
    timestamp(stamp, sizeof stamp);
    const char *lname = daemon_log_level_name(level);
    int format = atomic_load(&g_format);
    if (format == DAEMON_LOG_TEXT) {
        puts_(&o, stamp);
        put(&o, " ", 1);
        puts_(&o, (level >= 0 && level <= 3) ? level_tags[level] : "?    ");
        put(&o, " ", 1);
        if (strcmp(component, "coordinator") != 0 && strcmp(component, g_program) != 0) {
            put(&o, "[", 1);
            puts_(&o, component);
            put(&o, "] ", 2);
        }
        puts_(&o, message);
    } else {
        bool json = format == DAEMON_LOG_JSON;
        /* subsystem: the part of the program that logs (coordinator, gateway, supervisor,
         * demo); component: the component id the message is about, when it names one. */
        char request_id[32], reason[64], comp_id[130];
        const char *keys[7] = {"ts", "level", "subsystem", NULL, NULL, NULL, "msg"};
        const char *vals[7] = {stamp, lname, component, NULL, NULL, NULL, message};
        if (find_component(component, message, comp_id, sizeof comp_id)) {
            keys[3] = "component";
            vals[3] = comp_id;
        }
        if (find_field(message, "request_id", request_id, sizeof request_id)) {
            keys[4] = "request_id";
            vals[4] = request_id;
        }
        if (find_field(message, "reason", reason, sizeof reason)) {
            keys[5] = "reason";
            vals[5] = reason;
        }
        if (json)
            put(&o, "{", 1);
        bool first = true;
        for (int i = 0; i < 7; i++) {
            if (keys[i] == NULL)
                continue;
            if (!first)
                puts_(&o, json ? "," : " ");
            first = false;
            if (json) {
                put(&o, "\"", 1);
                puts_(&o, keys[i]);
                puts_(&o, "\":");
            } else {
                puts_(&o, keys[i]);
                put(&o, "=", 1);
            }
            if (json && i == 4) /* request ids are numbers */
                puts_(&o, vals[i]);
            else
                put_escaped(&o, vals[i], json);
        }
        if (json) {
            if (o.len + 1 >= o.size) /* truncated: keep the line valid JSON */
                o.len = o.size > 3 ? o.size - 3 : 0, puts_(&o, "\"}");
            else
                put(&o, "}", 1);
        }
    }
    line[o.len++] = '\n';
    flockfile(stderr);
    fwrite(line, 1, o.len, stderr);
    fflush(stderr);
    funlockfile(stderr);
}

/* ---- rate limit ------------------------------------------------------------------------- */

/* FNV-1a over the level and the message without digits: "restart 3 in 120 ms" and
 * "restart 4 in 80 ms" are one kind. */
static uint64_t kind_hash(int level, const char *component, const char *message)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(level + 1);
    for (const char *p = component; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (const char *p = message; *p != '\0'; p++) {
        if (isdigit((unsigned char)*p))
            continue;
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    }
    return h != 0 ? h : 1;
}

static void report_suppressed(const kind_slot *s)
{
    char text[KIND_TEXT + 128];
    snprintf(text, sizeof text, "suppressed %llu similar %s lines (rate limit) like: %s",
             (unsigned long long)s->suppressed, daemon_log_level_name(s->level), s->text);
    write_line(GENESIS_LOG_WARN, s->component, text);
}

/* Under g_lock: report kinds whose storm is over (no line for a whole window). */
static void sweep(int64_t now)
{
    g_last_sweep_ms = now;
    for (size_t i = 0; i < KIND_SLOTS; i++) {
        kind_slot *s = &g_slots[i];
        if (s->hash != 0 && s->suppressed > 0 && now - s->window_start_ms >= 2 * SWEEP_MS) {
            report_suppressed(s);
            s->suppressed = 0;
        }
    }
}

/* Whether this line may be written now (under g_lock). */
static bool admit(int level, const char *component, const char *message, unsigned int rate)
{
    int64_t now = mono_ms();
    uint64_t h = kind_hash(level, component, message);
    kind_slot *s = &g_slots[h % KIND_SLOTS];
    if (s->hash != h) {
        /* A different kind takes the slot; what the old one suppressed is reported first. */
        if (s->hash != 0 && s->suppressed > 0)
            report_suppressed(s);
        memset(s, 0, sizeof(*s));
        s->hash = h;
        s->level = level;
        s->component = component;
        snprintf(s->text, sizeof s->text, "%s", message);
        s->window_start_ms = now;
    }
    if (now - s->window_start_ms >= SWEEP_MS) {
        if (s->suppressed > 0) {
            report_suppressed(s);
            s->suppressed = 0;
        }
        s->window_start_ms = now;
        s->in_window = 0;
    }
    bool ok = s->in_window < rate;
    if (ok)
        s->in_window++;
    else {
        s->suppressed++;
        atomic_fetch_add(&g_suppressed_total, 1);
    }
    if (now - g_last_sweep_ms >= SWEEP_MS)
        sweep(now);
    return ok;
}

void daemon_log_flush(void)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < KIND_SLOTS; i++) {
        if (g_slots[i].hash != 0 && g_slots[i].suppressed > 0) {
            report_suppressed(&g_slots[i]);
            g_slots[i].suppressed = 0;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

void daemon_log_sink(int level, const char *message, void *arg)
{
    if (level > atomic_load(&g_level))
        return;
    const char *component = arg != NULL ? (const char *)arg : g_program;
    if (message == NULL)
        message = "";
    unsigned int rate = atomic_load(&g_rate);
    if (rate == 0) {
        write_line(level, component, message);
        return;
    }
    /* The lock also keeps a "suppressed" line ahead of the line that follows it. */
    pthread_mutex_lock(&g_lock);
    if (admit(level, component, message, rate))
        write_line(level, component, message);
    pthread_mutex_unlock(&g_lock);
}

/* The sink of the program's own messages: a "supervisor: " prefix becomes the component. */
static void program_sink(int level, const char *message, void *arg)
{
    static const char sup[] = "supervisor: ";
    (void)arg;
    if (strncmp(message, sup, sizeof sup - 1) == 0)
        daemon_log_sink(level, message + sizeof sup - 1, (void *)"supervisor");
    else
        daemon_log_sink(level, message, NULL);
}

void daemon_logf(int level, const char *fmt, ...)
{
    gn_logger lg = {atomic_load(&g_level), program_sink, NULL};
    va_list ap;
    va_start(ap, fmt);
    gn_logv(&lg, level, fmt, ap);
    va_end(ap);
}
