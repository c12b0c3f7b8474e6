/* The configuration file of genesisd (and of anything else that wants one): YAML, read with
 * libyaml, turned into command-line flags through one table of keys.
 *
 * Every key of the file names the long flag it sets, so the file and the flags cannot drift:
 * the program parses the flags the file produced, followed by its own command line (later
 * flags override earlier ones). Unknown keys, values of the wrong type or range, duplicate
 * keys and YAML syntax errors are reported with the file name and line. */
#ifndef GENESIS_DAEMON_CONFIG_FILE_H
#define GENESIS_DAEMON_CONFIG_FILE_H

#include <stddef.h>

typedef enum conf_type {
    CONF_TEXT,   /* a non-empty scalar, checked by the flag's own parser */
    CONF_UINT,   /* an unsigned integer in [lo, hi] */
    CONF_SWITCH, /* true/false (yes/no, on/off): true gives the flag without a value */
    CONF_CHOICE, /* one of the '|'-separated words in choices */
    CONF_LIST    /* a sequence of scalars (or one scalar): one flag per item */
} conf_type;

/* One row of a program's key table. */
typedef struct conf_key {
    /* Dotted path; "*" matches one segment of any name and is captured (%1, %2). */
    const char *key;
    const char *flag;  /* long option it sets, without "--" */
    const char *value; /* the flag's argument: %v = the value, %1/%2 = captures; NULL = "%v" */
    conf_type type;
    unsigned long long lo, hi; /* CONF_UINT */
    const char *choices;       /* CONF_CHOICE */
    const char *help;          /* one line for the reference */
} conf_key;

/* A flag produced by the file. */
typedef struct conf_setting {
    char *key; /* the dotted path as written */
    const char *flag;
    char *arg; /* the flag's argument; NULL for a switch */
    unsigned int line;
} conf_setting;

typedef struct conf_file {
    char *path;
    conf_setting *settings;
    size_t n, cap;
} conf_file;

/* Read path against table (n rows). 0 on success (*out filled; conf_free it), -1 with a
 * "PATH:LINE: ..." message in why. */
int conf_load(const char *path, const conf_key *table, size_t n, conf_file *out, char *why,
              size_t why_size);

void conf_free(conf_file *f);

/* The setting as one command-line argument, "--flag=arg" (or "--flag" for a switch):
 * malloc'd (the caller frees it), NULL when out of memory. */
char *conf_setting_flag(const conf_setting *s);

/* The row whose key matches the dotted path, or NULL. */
const conf_key *conf_find(const conf_key *table, size_t n, const char *path);

#endif /* GENESIS_DAEMON_CONFIG_FILE_H */
