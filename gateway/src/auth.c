/* Bearer tokens (see auth.h). */
#define _POSIX_C_SOURCE 200809L
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS    1024
#define MAX_TOKEN_LEN 512
#define MAX_SCOPES    64

struct gw_token {
    char *secret;
    size_t len;
    bool all_components;
    bool admin;
    unsigned int n_scopes;
    char *scopes[MAX_SCOPES];
};

struct gw_auth {
    unsigned int n;
    gw_token tokens[];
};

static void token_clear(gw_token *t)
{
    if (t->secret != NULL) /* wipe the secret before giving the memory back */
        memset(t->secret, 0, t->len);
    free(t->secret);
    for (unsigned int i = 0; i < t->n_scopes; i++)
        free(t->scopes[i]);
    memset(t, 0, sizeof(*t));
}

void gw_auth_free(gw_auth *a)
{
    if (a == NULL)
        return;
    for (unsigned int i = 0; i < a->n; i++)
        token_clear(&a->tokens[i]);
    free(a);
}

static int parse_scopes(gw_token *t, char *list)
{
    for (char *save = NULL, *s = strtok_r(list, ",", &save); s != NULL;
         s = strtok_r(NULL, ",", &save)) {
        if (strcmp(s, "*") == 0) {
            t->all_components = true;
        } else if (strcmp(s, "admin") == 0) {
            t->admin = true;
        } else {
            if (t->n_scopes == MAX_SCOPES)
                return -1;
            t->scopes[t->n_scopes] = strdup(s);
            if (t->scopes[t->n_scopes] == NULL)
                return -1;
            t->n_scopes++;
        }
    }
    return 0;
}

int gw_auth_load(gw_auth **out, const char *path, char *why, size_t why_size)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(why, why_size, "cannot open token file %s: %s", path, strerror(errno));
        return -1;
    }
    gw_auth *a = calloc(1, sizeof(*a) + MAX_TOKENS * sizeof(gw_token));
    if (a == NULL) {
        fclose(f);
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    char line[MAX_TOKEN_LEN + 4096];
    unsigned int lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *save = NULL;
        char *secret = strtok_r(line, " \t\r\n", &save);
        if (secret == NULL)
            continue;
        char *scopes = strtok_r(NULL, " \t\r\n", &save);
        char *extra = strtok_r(NULL, " \t\r\n", &save);
        if (scopes == NULL || extra != NULL || strlen(secret) > MAX_TOKEN_LEN ||
            a->n == MAX_TOKENS) {
            /* The line itself may hold a secret: name the line, never its content. */
            snprintf(why, why_size,
                     "%s line %u: expected '<token> <scope>[,<scope>...]' (token at most %d "
                     "bytes, at most %d tokens)",
                     path, lineno, MAX_TOKEN_LEN, MAX_TOKENS);
            rc = -1;
            break;
        }
        gw_token *t = &a->tokens[a->n];
        t->secret = strdup(secret);
        t->len = strlen(secret);
        a->n++;
        if (t->secret == NULL || parse_scopes(t, scopes) != 0) {
            snprintf(why, why_size, "%s line %u: too many scopes or out of memory", path, lineno);
            rc = -1;
            break;
        }
    }
    memset(line, 0, sizeof(line));
    fclose(f);
    if (rc == 0 && a->n == 0) {
        snprintf(why, why_size, "%s holds no token", path);
        rc = -1;
    }
    if (rc != 0) {
        gw_auth_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

/* Constant time in the secret's content: every token is compared over its full length. */
static bool same_secret(const gw_token *t, const char *given, size_t len)
{
    unsigned char diff = (unsigned char)(t->len != len);
    for (size_t i = 0; i < t->len; i++)
        diff |= (unsigned char)(t->secret[i] ^ (i < len ? given[i] : 0));
    return diff == 0;
}

const gw_token *gw_auth_check(const gw_auth *a, const char *credential)
{
    if (a == NULL || credential == NULL)
        return NULL;
    while (isspace((unsigned char)*credential))
        credential++;
    if (strncasecmp(credential, "Bearer ", 7) == 0)
        credential += 7;
    while (*credential == ' ')
        credential++;
    size_t len = strlen(credential);
    while (len > 0 && isspace((unsigned char)credential[len - 1]))
        len--;
    if (len == 0)
        return NULL;
    const gw_token *found = NULL;
    for (unsigned int i = 0; i < a->n; i++)
        if (same_secret(&a->tokens[i], credential, len) && found == NULL)
            found = &a->tokens[i];
    return found;
}

bool gw_token_allows(const gw_token *t, const char *component)
{
    if (t == NULL)
        return false;
    if (t->all_components)
        return true;
    for (unsigned int i = 0; i < t->n_scopes; i++)
        if (strcmp(t->scopes[i], component) == 0)
            return true;
    return false;
}

bool gw_token_is_admin(const gw_token *t)
{
    return t != NULL && t->admin;
}
