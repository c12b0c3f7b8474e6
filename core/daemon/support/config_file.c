/* YAML configuration files turned into flags (see config_file.h). */
#define _POSIX_C_SOURCE 200809L

#include "config_file.h"
#include "config_values.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#define MAX_PATH_LEN 512
#define MAX_DEPTH    8

struct loader {
    const conf_key *table;
    size_t n_table;
    yaml_document_t *doc;
    conf_file *out;
    char *why;
    size_t why_size;
};

static int failf(struct loader *l, unsigned int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failf(struct loader *l, unsigned int line, const char *fmt, ...)
{
    int used = snprintf(l->why, l->why_size, "%s:%u: ", l->out->path, line);
    if (used < 0 || (size_t)used >= l->why_size)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->why + used, l->why_size - (size_t)used, fmt, ap);
    va_end(ap);
    return -1;
}

/* Does the dotted path match pattern exactly (captures: up to 2 "*" segments)? With prefix
 * set, it is enough that path matches the pattern's first segments. */
static bool match(const char *pattern, const char *path, bool prefix, char caps[2][MAX_PATH_LEN])
{
    int ncap = 0;
    const char *p = pattern, *s = path;
    for (;;) {
        const char *pe = strchr(p, '.'), *se = strchr(s, '.');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p), sl = se ? (size_t)(se - s) : strlen(s);
        if (pl == 1 && p[0] == '*') {
            if (caps != NULL && ncap < 2) {
                memcpy(caps[ncap], s, sl);
                caps[ncap][sl] = '\0';
            }
            ncap++;
        } else if (pl != sl || strncmp(p, s, pl) != 0) {
            return false;
        }
        if (se == NULL)
            return pe == NULL || prefix;
        if (pe == NULL)
            return false;
        p = pe + 1;
        s = se + 1;
    }
}

const conf_key *conf_find(const conf_key *table, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (match(table[i].key, path, false, NULL))
            return &table[i];
    return NULL;
}

static bool known_prefix(const struct loader *l, const char *path)
{
    for (size_t i = 0; i < l->n_table; i++)
        if (match(l->table[i].key, path, true, NULL))
            return true;
    return false;
}

static int add_setting(struct loader *l, const conf_key *k, const char *path, const char *value,
                       unsigned int line)
{
    char caps[2][MAX_PATH_LEN] = {"", ""};
    match(k->key, path, false, caps);
    char arg[4096];
    size_t used = 0;
    const char *tmpl = k->value != NULL ? k->value : "%v";
    for (const char *t = tmpl; *t != '\0' && used + 1 < sizeof(arg); t++) {
        const char *piece = NULL;
        if (t[0] == '%' && (t[1] == 'v' || t[1] == '1' || t[1] == '2')) {
            piece = t[1] == 'v' ? value : caps[t[1] - '1'];
            t++;
        }
        if (piece == NULL) {
            arg[used++] = *t;
            continue;
        }
        size_t len = strlen(piece);
        if (used + len >= sizeof(arg))
            return failf(l, line, "%s: value too long", path);
        memcpy(arg + used, piece, len);
        used += len;
    }
    arg[used] = '\0';
    conf_file *f = l->out;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 32;
        conf_setting *grown = realloc(f->settings, cap * sizeof(*grown));
        if (grown == NULL)
            return failf(l, line, "out of memory");
        f->settings = grown;
        f->cap = cap;
    }
    conf_setting *s = &f->settings[f->n];
    s->key = strdup(path);
    s->flag = k->flag;
    s->arg = k->type == CONF_SWITCH ? NULL : strdup(arg);
    s->line = line;
    if (s->key == NULL || (k->type != CONF_SWITCH && s->arg == NULL)) {
        free(s->key);
        free(s->arg);
        return failf(l, line, "out of memory");
    }
    f->n++;
    return 0;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool in_choices(const char *choices, const char *v)
{
    size_t len = strlen(v);
    for (const char *c = choices; *c != '\0';) {
        const char *bar = strchr(c, '|');
        size_t cl = bar ? (size_t)(bar - c) : strlen(c);
        if (cl == len && strncmp(c, v, len) == 0)
            return true;
        c += cl + (bar ? 1 : 0);
    }
    return false;
}

/* One scalar value for row k at path: ${VAR} expanded, a duration with a unit ("10s") turned
 * into the bare integer the flag takes (keys ending in _ms or _s). */
static int scalar(struct loader *l, const conf_key *k, const char *path, yaml_node_t *node)
{
    unsigned int line = (unsigned int)node->start_mark.line + 1;
    const char *raw = (const char *)node->data.scalar.value;
    if (node->data.scalar.length != strlen(raw))
        return failf(l, line, "%s: the value contains a NUL byte", path);
    char v[4096], why[256];
    if (conf_expand_env(raw, v, sizeof(v), why, sizeof(why)) != 0)
        return failf(l, line, "%s: %s", path, why);
    if (v[0] == '\0' && k->type != CONF_SWITCH)
        return failf(l, line, "%s: needs a value", path);
    const char *last = strrchr(path, '.');
    conf_unit unit = conf_unit_of_name(last != NULL ? last + 1 : path);
    switch (k->type) {
    case CONF_UINT: {
        if (unit != 0) {
            unsigned long long x = 0;
            if (conf_parse_duration(v, unit, k->lo, k->hi, &x) != 0) {
                char range[160];
                conf_duration_range(unit, k->lo, k->hi, range, sizeof(range));
                return failf(l, line, "%s: '%s' is not %s", path, v, range);
            }
            snprintf(v, sizeof(v), "%llu", x);
            break;
        }
        char *end = NULL;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (v[0] == '-' || v[0] == '+' || *end != '\0' || errno != 0 || x < k->lo || x > k->hi)
            return failf(l, line, "%s: '%s' is not an integer from %llu to %llu", path, v, k->lo,
                         k->hi);
        break;
    }
    case CONF_SWITCH: {
        bool on = false;
        if (!parse_bool(v, &on))
            return failf(l, line, "%s: '%s' is not true or false", path, v);
        if (!on)
            return 0;
        break;
    }
    case CONF_CHOICE:
        if (!in_choices(k->choices, v))
            return failf(l, line, "%s: '%s' is not one of %s", path, v, k->choices);
        break;
    default:
        break;
    }
    return add_setting(l, k, path, v, line);
}

/* "unknown key 'listen.htp' (did you mean 'listen.http'?)", or the keys valid there. */
static int unknown_key(struct loader *l, unsigned int line, const char *parent, const char *child)
{
    const char *name = child + strlen(parent) + (parent[0] != '\0');
    const char *names[128];
    size_t n = 0;
    char list[512] = "";
    for (size_t i = 0; i < l->n_table && n < sizeof(names) / sizeof(names[0]); i++) {
        /* the table key's segment below parent, when its first segments match parent */
        const char *seg = l->table[i].key;
        if (parent[0] != '\0') {
            char head[MAX_PATH_LEN];
            snprintf(head, sizeof(head), "%s", seg);
            size_t depth = 1;
            for (const char *p = parent; *p != '\0'; p++)
                depth += *p == '.';
            char *cut = head;
            for (size_t d = 0; d < depth && cut != NULL; d++) {
                cut = strchr(cut, '.');
                if (cut != NULL && d + 1 < depth)
                    cut++;
            }
            if (cut == NULL)
                continue;
            *cut = '\0';
            if (!match(head, parent, false, NULL))
                continue;
            seg = l->table[i].key + (cut - head) + 1;
        }
        size_t len = strcspn(seg, ".");
        if (len == 1 && seg[0] == '*')
            continue;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = strlen(names[k]) == len && strncmp(names[k], seg, len) == 0;
        if (dup)
            continue;
        names[n++] = seg;
        size_t used = strlen(list);
        snprintf(list + used, sizeof(list) - used, "%s%.*s", used ? ", " : "", (int)len, seg);
    }
    /* names point into dotted keys: compare their first segment only */
    char words[128][64];
    const char *cands[128];
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(names[i], ".");
        snprintf(words[i], sizeof(words[i]), "%.*s", (int)(len < 63 ? len : 63), names[i]);
        cands[i] = words[i];
    }
    const char *best = conf_closest(name, cands, n);
    if (best != NULL)
        return failf(l, line, "unknown key '%s' (did you mean '%s%s%s'?)", child, parent,
                     parent[0] ? "." : "", best);
    return failf(l, line, "unknown key '%s' (valid here: %s)", child, list);
}

static int walk(struct loader *l, yaml_node_t *node, const char *path, int depth)
{
    unsigned int line = (unsigned int)node->start_mark.line + 1;
    if (depth > MAX_DEPTH)
        return failf(l, line, "%s: nested too deeply", path);
    const conf_key *k = path[0] != '\0' ? conf_find(l->table, l->n_table, path) : NULL;
    if (node->type == YAML_MAPPING_NODE && k == NULL) {
        for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
             pair < node->data.mapping.pairs.top; pair++) {
            yaml_node_t *key = yaml_document_get_node(l->doc, pair->key);
            yaml_node_t *value = yaml_document_get_node(l->doc, pair->value);
            unsigned int kline = (unsigned int)key->start_mark.line + 1;
            if (key->type != YAML_SCALAR_NODE || key->data.scalar.length == 0 ||
                strchr((const char *)key->data.scalar.value, '.') != NULL)
                return failf(l, kline, "%s%sa key must be a plain name (no dots)", path,
                             path[0] ? ": " : "");
            for (yaml_node_pair_t *prev = node->data.mapping.pairs.start; prev < pair; prev++) {
                yaml_node_t *pk = yaml_document_get_node(l->doc, prev->key);
                if (pk->type == YAML_SCALAR_NODE &&
                    strcmp((const char *)pk->data.scalar.value,
                           (const char *)key->data.scalar.value) == 0)
                    return failf(l, kline, "duplicate key '%s' (first at line %u)",
                                 (const char *)key->data.scalar.value,
                                 (unsigned int)pk->start_mark.line + 1);
            }
            char child[MAX_PATH_LEN];
            int len = snprintf(child, sizeof(child), "%s%s%s", path, path[0] ? "." : "",
                               (const char *)key->data.scalar.value);
            if (len < 0 || (size_t)len >= sizeof(child))
                return failf(l, kline, "key path too long");
            if (!known_prefix(l, child))
                return unknown_key(l, kline, path, child);
            if (walk(l, value, child, depth + 1) != 0)
                return -1;
        }
        return 0;
    }
    if (k == NULL) {
        if (path[0] == '\0')
            return failf(l, line, "the file must be a mapping of keys to values");
        return failf(l, line, "'%s' is a section: it takes keys, not a value", path);
    }
    if (node->type == YAML_MAPPING_NODE)
        return failf(l, line, "%s: expected a value, not a section", path);
    if (node->type == YAML_SEQUENCE_NODE) {
        if (k->type != CONF_LIST)
            return failf(l, line, "%s: expected one value, not a list", path);
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++) {
            yaml_node_t *item = yaml_document_get_node(l->doc, *it);
            if (item->type != YAML_SCALAR_NODE)
                return failf(l, (unsigned int)item->start_mark.line + 1,
                             "%s: list items must be values", path);
            if (scalar(l, k, path, item) != 0)
                return -1;
        }
        return 0;
    }
    return scalar(l, k, path, node);
}

int conf_load(const char *path, const conf_key *table, size_t n, conf_file *out, char *why,
              size_t why_size)
{
    memset(out, 0, sizeof(*out));
    out->path = strdup(path);
    if (out->path == NULL) {
        snprintf(why, why_size, "%s: out of memory", path);
        return -1;
    }
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        snprintf(why, why_size, "%s: cannot open: %s", path, strerror(errno));
        conf_free(out);
        return -1;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    struct loader l = {table, n, &doc, out, why, why_size};
    int rc = 0;
    if (!yaml_parser_initialize(&parser)) {
        fclose(in);
        conf_free(out);
        snprintf(why, why_size, "%s: out of memory", path);
        return -1;
    }
    yaml_parser_set_input_file(&parser, in);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = failf(&l, (unsigned int)parser.problem_mark.line + 1, "YAML syntax: %s%s%s",
                   parser.problem ? parser.problem : "error", parser.context ? " " : "",
                   parser.context ? parser.context : "");
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root != NULL && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
            rc = walk(&l, root, "", 0);
        /* A second document would be silently ignored: refuse it. */
        yaml_document_t next;
        if (rc == 0 && yaml_parser_load(&parser, &next)) {
            if (yaml_document_get_root_node(&next) != NULL)
                rc = failf(&l, (unsigned int)next.start_mark.line + 1,
                           "only one YAML document is read; remove the '---' and what follows");
            yaml_document_delete(&next);
        }
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(in);
    if (rc != 0)
        conf_free(out);
    return rc;
}

void conf_free(conf_file *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->settings[i].key);
        free(f->settings[i].arg);
    }
    free(f->settings);
    free(f->path);
    memset(f, 0, sizeof(*f));
}

char *conf_setting_flag(const conf_setting *s)
{
    size_t len = strlen(s->flag) + (s->arg != NULL ? strlen(s->arg) : 0) + 4;
    char *text = malloc(len);
    if (text != NULL)
        snprintf(text, len, "--%s%s%s", s->flag, s->arg != NULL ? "=" : "",
                 s->arg != NULL ? s->arg : "");
    return text;
}
