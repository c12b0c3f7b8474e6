/* Shell-like word splitting for supervised commands (see shell_words.h). Hand-written because
 * the grammar is three rules and no library offers exactly that without the rest of a shell
 * (wordexp would expand variables and globs); tests/fuzz/fuzz_shell_words.c covers it. */
#define _POSIX_C_SOURCE 200809L

#include "shell_words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char **argv, size_t n, char *word, char *why, size_t size, const char *what,
                const char *line)
{
    free(word);
    for (size_t i = 0; i < n; i++)
        free(argv[i]);
    argv[0] = NULL;
    if (line != NULL)
        snprintf(why, size, "'%s': %s", line, what);
    else
        snprintf(why, size, "%s", what);
    return -1;
}

int shell_words_split(const char *line, char **argv, size_t max, char *why, size_t size)
{
    size_t n = 0, len = strlen(line);
    char *word = malloc(len + 1);
    if (word == NULL)
        return fail(argv, 0, NULL, why, size, "out of memory", NULL);
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        size_t w = 0;
        char quote = 0;
        for (; *p != '\0'; p++) {
            if (quote != 0) {
                if (*p == quote)
                    quote = 0;
                else if (*p == '\\' && quote == '"' && p[1] != '\0')
                    word[w++] = *++p;
                else
                    word[w++] = *p;
            } else if (*p == '\'' || *p == '"') {
                quote = *p;
            } else if (*p == '\\' && p[1] != '\0') {
                word[w++] = *++p;
            } else if (*p == ' ' || *p == '\t') {
                break;
            } else {
                word[w++] = *p;
            }
        }
        if (quote != 0)
            return fail(argv, n, word, why, size, "unterminated quote", line);
        if (n == max)
            return fail(argv, n, word, why, size, "too many arguments", line);
        word[w] = '\0';
        argv[n] = strdup(word);
        if (argv[n] == NULL)
            return fail(argv, n, word, why, size, "out of memory", NULL);
        n++;
    }
    free(word);
    argv[n] = NULL;
    if (n == 0)
        return fail(argv, 0, NULL, why, size, "empty command", line);
    return 0;
}

void shell_words_free(char **argv)
{
    for (size_t k = 0; argv != NULL && argv[k] != NULL; k++)
        free(argv[k]);
}
