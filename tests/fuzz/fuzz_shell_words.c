/* Fuzz target: a supervised component's command line (--supervise ID=COMMAND, the
 * configuration file's components.<id>.command) split into words. Invariants: it either
 * fails with a message and leaves nothing allocated, or gives 1..64 words, each no longer
 * than the line; splitting never reads past the line's end. */
#include <string.h>

#include "fuzz_target.h"
#include "shell_words.h"

#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0'; /* the flag is a C string: an embedded NUL ends it */
    char *argv[MAX_WORDS + 1];
    char why[256] = "";
    if (shell_words_split(line, argv, MAX_WORDS, why, sizeof(why)) != 0) {
        FUZZ_CHECK(why[0] != '\0');
    } else {
        size_t n = 0, len = strlen(line);
        while (argv[n] != NULL) {
            FUZZ_CHECK(strlen(argv[n]) <= len);
            n++;
        }
        FUZZ_CHECK(n >= 1 && n <= MAX_WORDS);
        shell_words_free(argv);
    }
    free(line);
    return 0;
}
