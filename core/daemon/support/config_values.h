/* Values an operator types, made forgiving: durations with units ("150ms", "10s", "2m"),
 * ${VAR} and ${VAR:-default} in configuration values, and the "did you mean" of a misspelt
 * name. Shared by the configuration file, the flags and the policy fields. Pure functions
 * (the substitution reads the environment); safe from any thread. */
#ifndef GENESIS_CONFIG_VALUES_H
#define GENESIS_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>

/* The unit a bare integer means for a duration setting. */
typedef enum conf_unit { CONF_UNIT_MS = 1, CONF_UNIT_S = 1000 } conf_unit;

/* The unit of a setting named name: CONF_UNIT_MS for "..._ms" or "...-ms", CONF_UNIT_S for
 * "..._s"; 0 = not a duration. */
conf_unit conf_unit_of_name(const char *name);

/* A duration: a bare unsigned integer in unit, or a decimal number with one of the units
 * ms, s, m (or min), h ("150ms", "1.5s", "2m"), converted to unit; it must come out whole
 * ("1500ms" is refused for a seconds setting). Returns 0 with *out in [lo, hi] (in unit), or
 * -1. */
int conf_parse_duration(const char *text, conf_unit unit, unsigned long long lo,
                        unsigned long long hi, unsigned long long *out);

/* "from 1ms to 1h" style bounds of a duration setting into buf (for messages). */
void conf_duration_range(conf_unit unit, unsigned long long lo, unsigned long long hi, char *buf,
                         size_t size);

/* Expand ${VAR} and ${VAR:-default} in text ($$ is a literal $) into out (out_size bytes).
 * Returns 0, or -1 with the reason in why: a variable that is not set and has no default, an
 * unterminated ${, a bad name, or an expansion that does not fit. */
int conf_expand_env(const char *text, char *out, size_t out_size, char *why, size_t why_size);

/* The candidate closest to word (edit distance, at most about a third of its length), or NULL
 * when none is close: the "did you mean" of an unknown name. */
const char *conf_closest(const char *word, const char *const *candidates, size_t n);

#endif /* GENESIS_CONFIG_VALUES_H */
