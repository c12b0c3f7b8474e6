/* See bench_report.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <valgrind/callgrind.h>

#include "bench_report.h"

void bench_parse_args(int argc, char **argv, const char *usage, int default_repeats,
                      bench_args *out)
{
    *out = (bench_args){.quick = false, .json = NULL, .repeats = 0, .only = NULL};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            out->quick = true;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            out->json = argv[++i];
        } else if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
            out->only = argv[++i];
        } else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            out->repeats = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s\n", usage);
            exit(2);
        }
    }
    if (out->repeats == 0)
        out->repeats = out->quick ? 3 : default_repeats;
}

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_percentile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)ceil(q * (double)n);
    return v[i == 0 ? 0 : i - 1];
}

void bench_machine(char *buf, size_t size)
{
    char model[128] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[256];
        while (fgets(line, sizeof(line), f) != NULL) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
                snprintf(model, sizeof(model), "%s", colon + 2);
                model[strcspn(model, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof(u.release), "?");
    snprintf(buf, size, "%ld CPUs (%s), Linux %s, NNG %s", sysconf(_SC_NPROCESSORS_ONLN), model,
             u.release, nng_version());
}

void bench_add(bench_report *r, const char *name, double value, const char *unit,
               const char *baseline, double baseline_value, const char *target, int met)
{
    if (r->n == BENCH_MAX_ROWS)
        return;
    bench_row *row = &r->rows[r->n++];
    snprintf(row->name, sizeof(row->name), "%s", name);
    row->value = value;
    snprintf(row->unit, sizeof(row->unit), "%s", unit);
    snprintf(row->baseline, sizeof(row->baseline), "%s", baseline != NULL ? baseline : "");
    row->baseline_value = baseline != NULL ? baseline_value : 0;
    row->ratio = baseline != NULL && baseline_value != 0 ? value / baseline_value : 0;
    snprintf(row->target, sizeof(row->target), "%s", target != NULL ? target : "");
    row->met = met;
    printf("%-58s %12.3f %-8s", row->name, row->value, row->unit);
    if (baseline != NULL)
        printf("  | %s: %.3f (ratio %.2f)", row->baseline, row->baseline_value, row->ratio);
    if (row->target[0] != '\0')
        printf("  | target %s: %s", row->target,
               met == BENCH_MET_YES  ? "met"
               : met == BENCH_MET_NO ? "NOT met"
                                     : "-");
    printf("\n");
    fflush(stdout);
}

/* Strings here are our own literals: escaping quotes and backslashes is enough. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

int bench_write(const bench_report *r, const char *path)
{
    if (path == NULL)
        return 0;
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    char machine[512];
    bench_machine(machine, sizeof(machine));
    fputs("{\"bench\": ", f);
    json_string(f, r->bench);
    fputs(", \"machine\": ", f);
    json_string(f, machine);
    fputs(", \"rows\": [", f);
    for (int i = 0; i < r->n; i++) {
        const bench_row *row = &r->rows[i];
        fputs(i == 0 ? "\n  {\"name\": " : ",\n  {\"name\": ", f);
        json_string(f, row->name);
        fputs(", \"value\": ", f);
        json_number(f, row->value);
        fputs(", \"unit\": ", f);
        json_string(f, row->unit);
        fputs(", \"baseline\": ", f);
        json_string(f, row->baseline);
        fputs(", \"baseline_value\": ", f);
        if (row->baseline[0] != '\0')
            json_number(f, row->baseline_value);
        else
            fputs("null", f);
        fputs(", \"ratio\": ", f);
        if (row->baseline[0] != '\0')
            json_number(f, row->ratio);
        else
            fputs("null", f);
        fputs(", \"target\": ", f);
        json_string(f, row->target);
        fprintf(f, ", \"met\": %s}",
                row->met == BENCH_MET_YES  ? "true"
                : row->met == BENCH_MET_NO ? "false"
                                           : "null");
    }
    fputs("\n]}\n", f);
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

void bench_measure_begin(void)
{
    CALLGRIND_ZERO_STATS;
}

void bench_measure_end(long requests)
{
    char label[48];
    snprintf(label, sizeof(label), "measured %ld", requests);
    CALLGRIND_DUMP_STATS_AT(label);
}
