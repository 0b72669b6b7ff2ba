/* tests/tg_test.h - a minimal test runner: each test program lists its cases
 * with TG_TEST_MAIN; each case runs inside its own pool with the error
 * record cleared, and must leave no tensor alive. The program prints one line
 * per case and ends with "N passed, N failed" (exit status 1 on failure).
 * Give a substring as the first argument to run only the matching cases. */
#ifndef TG_TEST_H
#define TG_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tapegrad/tapegrad.h>

typedef struct tg_test_case {
    const char *name;
    void (*fn)(void);
} tg_test_case;

static int tg_test_failed_now;
/* Set by a case that loops over data, to name the item in a failure. */
static const char *tg_test_context;
/* The pool each case runs in; a case may pop it to test pool-less code. */
static tg_pool *tg_test_pool;

static void tg_test_fail(const char *file, int line, const char *what) {
    if (!tg_test_failed_now)
        printf("  %s:%d: %s%s%s\n", file, line, what, tg_test_context ? " in case " : "",
               tg_test_context ? tg_test_context : "");
    tg_test_failed_now = 1;
}

#define CHECK(cond)                                               \
    do {                                                          \
        if (!(cond)) {                                            \
            tg_test_fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
            return;                                               \
        }                                                         \
    } while (0)

/* The largest deviations seen by the value checks, per tolerance class:
 * [0] checks at float32 tolerance, [1] tighter ones (float64 and exact);
 * looser checks (statistics, sanity bounds) are not counted. Relative
 * deviations count where |want| >= 1e-6. Printed at the end, to report how
 * close to the reference (PyTorch) the values are. */
static double tg_test_max_abs[2], tg_test_max_rel[2];
static long tg_test_n_values[2];

/* |got - want| <= atol + rtol * |want|, NaN equal to NaN. */
static inline int tg_test_close(double got, double want, double rtol, double atol) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    double err = fabs(got - want);
    if (rtol <= 1e-4 && atol <= 1e-4) {
        int tight = rtol < 1e-7 && atol < 1e-9;
        tg_test_n_values[tight]++;
        if (err > tg_test_max_abs[tight]) tg_test_max_abs[tight] = err;
        if (fabs(want) >= 1e-6 && err / fabs(want) > tg_test_max_rel[tight])
            tg_test_max_rel[tight] = err / fabs(want);
    }
    return err <= atol + rtol * fabs(want);
}

#define CHECK_CLOSE(got, want, rtol, atol)                                   \
    do {                                                                     \
        double g_ = (got), w_ = (want);                                      \
        if (!tg_test_close(g_, w_, (rtol), (atol))) {                        \
            char m_[256];                                                    \
            snprintf(m_, sizeof m_, "%s = %.17g, want %.17g", #got, g_, w_); \
            tg_test_fail(__FILE__, __LINE__, m_);                            \
            return;                                                          \
        }                                                                    \
    } while (0)

#define CHECK_EQ_STR(got, want)                                                    \
    do {                                                                           \
        const char *g_ = (got), *w_ = (want);                                      \
        if (!g_ || strcmp(g_, w_) != 0) {                                          \
            printf("  got:\n%s\n  want:\n%s\n", g_ ? g_ : "(null)", w_);           \
            tg_test_fail(__FILE__, __LINE__, "CHECK_EQ_STR(" #got ", " #want ")"); \
            return;                                                                \
        }                                                                          \
    } while (0)

/* The last call failed with this status and a message containing text. */
#define CHECK_ERROR(status, text)                                                     \
    do {                                                                              \
        if (tg_last_status() != (status) || !strstr(tg_last_error(), (text))) {       \
            char m_[768];                                                             \
            snprintf(m_, sizeof m_, "error was %d \"%s\", want %d containing \"%s\"", \
                     (int)tg_last_status(), tg_last_error(), (int)(status), (text));  \
            tg_test_fail(__FILE__, __LINE__, m_);                                     \
            return;                                                                   \
        }                                                                             \
        tg_clear_error();                                                             \
    } while (0)

/* Every element of t equals want[i] (row-major) within the tolerances. */
#define CHECK_VALUES(t, want, n, rtol, atol)                                                       \
    do {                                                                                           \
        const tg_tensor *t_ = (t);                                                                 \
        CHECK(t_ != NULL);                                                                         \
        CHECK(tg_numel(t_) == (int64_t)(n));                                                       \
        double *v_ = malloc(sizeof(double) * ((size_t)(n) + 1));                                   \
        CHECK(v_ != NULL);                                                                         \
        tg_to_doubles(t_, v_);                                                                     \
        for (int64_t i_ = 0; i_ < (int64_t)(n); i_++)                                              \
            if (!tg_test_close(v_[i_], (want)[i_], (rtol), (atol))) {                              \
                char m_[256];                                                                      \
                snprintf(m_, sizeof m_, "%s[%lld] = %.17g, want %.17g", #t, (long long)i_, v_[i_], \
                         (double)(want)[i_]);                                                      \
                free(v_);                                                                          \
                tg_test_fail(__FILE__, __LINE__, m_);                                              \
                return;                                                                            \
            }                                                                                      \
        free(v_);                                                                                  \
    } while (0)

/* Each parameter of net equals the tensor named prefix + its state-dict
 * name in want (reference values, such as PyTorch's after the same
 * training) within the tolerances; the failing name is the context. */
static inline void tg_test_check_parameters(tg_module *net, tg_safetensors *want,
                                            const char *prefix, double rtol, double atol) {
    int n;
    const tg_named_tensor *named = tg_module_parameters(net, &n);
    CHECK(named != NULL);
    char name[256];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, named[i].name);
        tg_test_context = name;
        tg_tensor *w = tg_safetensors_get(want, name);
        CHECK(w != NULL);
        double *v = malloc(sizeof(double) * (size_t)tg_numel(w));
        CHECK(v != NULL);
        tg_to_doubles(w, v);
        CHECK_VALUES(named[i].tensor, v, tg_numel(w), rtol, atol);
        free(v);
    }
    tg_test_context = NULL;
}

/* An allocator that fails on purpose: with countdown k >= 0 the k-th
 * allocation from now fails (and every later one while countdown stays 0);
 * with countdown < 0 none does. `made` counts the allocations that
 * succeeded, so a test can first count a step's allocations, then fail each
 * in turn. */
typedef struct tg_test_failing {
    long countdown;
    long made;
} tg_test_failing;

static inline void *tg_test_failing_alloc(size_t size, void *ctx) {
    tg_test_failing *f = ctx;
    if (f->countdown == 0) return NULL;
    if (f->countdown > 0) f->countdown--;
    f->made++;
    return aligned_alloc(64, (size + 63) / 64 * 64 + 64);
}

static inline void tg_test_failing_free(void *ptr, void *ctx) {
    (void)ctx;
    free(ptr);
}

/* Use f for every allocation until tg_set_allocator(NULL). */
static inline void tg_test_use_failing(tg_test_failing *f) {
    tg_set_allocator(&(tg_allocator){tg_test_failing_alloc, tg_test_failing_free, f});
}

/* What failing each allocation of a scenario in turn gave. */
typedef struct tg_test_sweep {
    long allocations; /* the scenario's, when none fails; -1 if it failed then */
    int failures;     /* runs that returned an error */
    int wrong;        /* of those: not TG_ERR_NOMEM, tensors left alive, or what check found */
} tg_test_sweep;

/* Runs scenario(ctx) once counting its allocations, then once with each of
 * them failing in turn. scenario returns 0, or -1 with the error set; after
 * each failed run, check(ctx) (if not NULL) returns how many things it
 * finds wrong. Allocations of a pool the caller keeps would count too: pop
 * it first. Restores the default allocator and clears the error. */
static inline tg_test_sweep tg_test_fail_each_allocation(int (*scenario)(void *), void *ctx,
                                                         int (*check)(void *)) {
    tg_test_failing f = {.countdown = -1};
    tg_test_use_failing(&f);
    tg_test_sweep r = {.allocations = scenario(ctx) == 0 ? f.made : -1};
    int64_t live = tg_live_tensors();
    for (long k = 0; k < r.allocations; k++) {
        f = (tg_test_failing){.countdown = k};
        tg_test_use_failing(&f); /* empties the caches of freed blocks: each run starts alike */
        tg_clear_error();
        if (scenario(ctx) == 0) continue; /* that allocation was not on the path */
        r.failures++;
        if (tg_last_status() != TG_ERR_NOMEM) r.wrong++;
        if (check) r.wrong += check(ctx);
        if (tg_live_tensors() != live) r.wrong++;
    }
    tg_set_allocator(NULL);
    tg_clear_error();
    return r;
}

/* A tensor of dtype from row-major doubles (pooled, like any new tensor). */
static inline tg_tensor *tg_test_tensor(const double *data, int ndim, const int64_t *shape,
                                        tg_dtype dtype) {
    return tg_to_dtype(tg_from_data(data, ndim, shape, TG_F64), dtype);
}

/* For a program run as several processes (tests/test_dist.c, under
 * mpirun): tg_test_combine gives a case's verdict over all of them from
 * this one's, and only the process with tg_test_prints set prints the case
 * lines and the summary (any prints its own failures). */
static int (*tg_test_combine)(int failed);
static int tg_test_prints = 1;

static int tg_test_run(const tg_test_case *cases, int n, int argc, char **argv) {
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(cases[i].name, argv[1])) continue;
        tg_clear_error();
        tg_set_grad_enabled(true);
        tg_test_failed_now = 0;
        tg_test_context = NULL;
        int64_t live_before = tg_live_tensors();
        tg_test_pool = tg_pool_push();
        cases[i].fn();
        tg_pool_pop(tg_test_pool);
        if (!tg_test_failed_now && tg_live_tensors() != live_before) {
            char m[96];
            snprintf(m, sizeof m, "%lld tensors leaked",
                     (long long)(tg_live_tensors() - live_before));
            tg_test_fail(cases[i].name, 0, m);
        }
        if (tg_test_combine) tg_test_failed_now = tg_test_combine(tg_test_failed_now);
        if (tg_test_prints) printf("%s %s\n", tg_test_failed_now ? "FAIL" : "ok  ", cases[i].name);
        if (tg_test_failed_now)
            failed++;
        else
            passed++;
    }
    const char *classes[2] = {"float32 tolerance", "float64 tolerance or exact"};
    for (int c = 0; c < 2 && tg_test_prints; c++)
        if (tg_test_n_values[c])
            printf("deviation from reference, %ld values at %s: max abs %.2g, max rel %.2g\n",
                   tg_test_n_values[c], classes[c], tg_test_max_abs[c], tg_test_max_rel[c]);
    if (tg_test_prints) printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TG_CASE(fn) \
    { #fn, fn }
#define TG_TEST_MAIN(...)                                                             \
    int main(int argc, char **argv) {                                                 \
        static const tg_test_case cases[] = {__VA_ARGS__};                            \
        return tg_test_run(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv); \
    }

#endif
