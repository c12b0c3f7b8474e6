/* Shared by the C benchmarks: timing, medians and percentiles, the command line every
 * benchmark takes (--quick, --json FILE, --repeats N), and the result file bench/run renders:
 *
 *   {"bench": "<name>", "machine": "...", "rows": [{"name", "value", "unit", "baseline",
 *    "baseline_value", "ratio", "target", "met"}]}
 *
 * Nothing here asserts on timing: figures are printed and written, never checked. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#define BENCH_MAX_ROWS 64

/* met: whether a row meets its target. */
enum bench_met { BENCH_MET_NONE = -1, BENCH_MET_NO = 0, BENCH_MET_YES = 1 };

typedef struct bench_row {
    char name[160];
    double value;
    char unit[24];
    char baseline[160]; /* "" when the row has none */
    double baseline_value;
    double ratio; /* value / baseline_value; meaningful only with a baseline */
    char target[96];
    int met; /* enum bench_met */
} bench_row;

typedef struct bench_args {
    bool quick;
    const char *json; /* NULL: print only */
    int repeats;      /* rounds whose median is reported */
    const char *only; /* --profile PART: run only that part once (for callgrind), no report */
} bench_args;

typedef struct bench_report {
    const char *bench;
    bench_row rows[BENCH_MAX_ROWS];
    int n;
} bench_report;

/* Parse --quick, --json FILE, --repeats N, --profile PART (default_repeats, or 3 with --quick);
 * exits with a usage line on anything else. */
void bench_parse_args(int argc, char **argv, const char *usage, int default_repeats,
                      bench_args *out);

double bench_now_s(void);
/* Sorts v. */
double bench_median(double *v, int n);
/* q in [0, 1] of n values; sorts v. */
double bench_percentile(double *v, size_t n, double q);

/* "2 CPUs (Intel Xeon ...), Linux 6.1.0, NNG 1.5.2" */
void bench_machine(char *buf, size_t size);

/* Append a row; baseline NULL = none. Prints it as a line on stdout too. */
void bench_add(bench_report *r, const char *name, double value, const char *unit,
               const char *baseline, double baseline_value, const char *target, int met);

/* Marks the measured part of a --profile run for callgrind (bench/instructions): the counters
 * are zeroed at begin and dumped, labelled "measured <requests>", at end. Outside valgrind
 * both cost a few instructions and do nothing. */
void bench_measure_begin(void);
void bench_measure_end(long requests);

/* Write the report as JSON to path (when not NULL). Returns 0, or -1 with a message. */
int bench_write(const bench_report *r, const char *path);

#endif /* BENCH_REPORT_H */
