/* tests/bench/bench_common.h - what the benchmark programs share: how a
 * run is timed (warm-up, then a fixed budget of wall-clock time, reporting
 * the median and the fastest run) and their common options. */
#ifndef TAPEGRAD_BENCH_COMMON_H
#define TAPEGRAD_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tapegrad/tapegrad.h>

/* The wall clock; with BENCH_CLOCK=cpu in the environment, the process's
 * CPU time instead, so that on a machine shared with other jobs a run does
 * not count the time it waited for a core. Meant for one thread: with
 * more, their times add up (and an idle thread's spinning counts). */
static inline double now_s(void) {
    static int cpu = -1;
    if (cpu < 0) cpu = getenv("BENCH_CLOCK") && strcmp(getenv("BENCH_CLOCK"), "cpu") == 0;
    struct timespec ts;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct timing {
    double median_s, min_s;
    long runs; /* 0: a run failed */
} timing;

static inline int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs fn until a quarter of budget_s (and at least 3 runs) has passed,
 * then times every run until budget_s (and at least 5 runs) has; or, with
 * fixed_runs > 0, 3 runs and then fixed_runs timed ones. fn returns 0, or
 * -1 to stop with a failure (then runs is 0). */
static inline timing time_runs(int (*fn)(void *), void *ctx, double budget_s, long fixed_runs) {
    timing t = {0};
    double start = now_s();
    for (int i = 0; i < 3 || (!fixed_runs && now_s() - start < budget_s / 4); i++)
        if (fn(ctx) != 0) return t;
    size_t cap = 64, n = 0;
    double *samples = malloc(cap * sizeof *samples);
    start = now_s();
    while (samples && (fixed_runs ? (long)n < fixed_runs : n < 5 || now_s() - start < budget_s)) {
        double t0 = now_s();
        if (fn(ctx) != 0) {
            free(samples);
            return t;
        }
        if (n == cap) {
            double *grown = realloc(samples, 2 * cap * sizeof *samples);
            if (!grown) break;
            samples = grown, cap *= 2;
        }
        samples[n++] = now_s() - t0;
    }
    if (!samples) return t;
    qsort(samples, n, sizeof *samples, by_value);
    t.median_s = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    t.min_s = samples[0];
    t.runs = (long)n;
    free(samples);
    return t;
}

/* Runs fn(ctx, out) in a child process and copies the `bytes` it wrote at
 * out back into the parent's out: 0, or -1 when the fork, the child (fn
 * returning nonzero) or the pipe failed. For what must happen in a
 * process of its own: a peak memory of its own, a product code chosen
 * once per process, BLIS or OpenMP threads the parent never starts (a
 * fork would not carry them over). */
static inline int in_child(int (*fn)(void *ctx, void *out), void *ctx, void *out, size_t bytes) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        _exit(fn(ctx, out) == 0 && write(fds[1], out, bytes) == (ssize_t)bytes ? 0 : 1);
    }
    close(fds[1]);
    int status = -1;
    bool read_all = pid > 0 && read(fds[0], out, bytes) == (ssize_t)bytes;
    if (pid > 0) waitpid(pid, &status, 0);
    close(fds[0]);
    return read_all && status == 0 ? 0 : -1;
}

/* --threads N, --budget SECONDS and --n ELEMENTS, at argv[*i] (its value
 * consumed too): 1 when it was one of them, 0 when not, -1 for a bad value. */
static inline int common_option(int argc, char **argv, int *i, double *budget_s, int64_t *n) {
    if (*i + 1 >= argc) return 0;
    const char *name = argv[*i], *value = argv[*i + 1];
    if (strcmp(name, "--threads") == 0) {
        if (tg_set_num_threads(atoi(value)) != 0) return -1;
    } else if (strcmp(name, "--budget") == 0) {
        if (!((*budget_s = atof(value)) > 0)) return -1;
    } else if (strcmp(name, "--n") == 0) {
        if ((*n = atoll(value)) < 1) return -1;
    } else {
        return 0;
    }
    ++*i;
    return 1;
}

/* The options of a benchmark that takes the common ones only: 0, or 2
 * (what main returns) after a usage line on stderr for any other. */
static inline int common_options_only(int argc, char **argv, double *budget_s, int64_t *n) {
    for (int i = 1; i < argc; i++) {
        int known = common_option(argc, argv, &i, budget_s, n);
        if (known < 0) return 2;
        if (!known) {
            fprintf(stderr, "usage: %s [--threads N] [--budget SECONDS] [--n ELEMENTS]\n", argv[0]);
            return 2;
        }
    }
    return 0;
}

#endif
