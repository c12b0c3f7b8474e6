/* A command line split into words the way a shell would for the simplest commands: blanks
 * separate words, '...' and "..." quote, a backslash escapes the next character (inside "..."
 * too). No other shell syntax (no variables, globs, pipes or redirections): the supervisor
 * executes the words directly. */
#ifndef GENESIS_SHELL_WORDS_H
#define GENESIS_SHELL_WORDS_H

#include <stddef.h>

/* Split line into at most max words: argv[0..n-1] are malloc'd, argv[n] = NULL (argv has
 * room for max + 1 entries). Returns 0, or -1 with a message in why (unterminated quote, too
 * many words, empty command, out of memory) and nothing allocated. */
int shell_words_split(const char *line, char **argv, size_t max, char *why, size_t why_size);

/* Free the words of a NULL-terminated argv made by shell_words_split. */
void shell_words_free(char **argv);

#endif /* GENESIS_SHELL_WORDS_H */
