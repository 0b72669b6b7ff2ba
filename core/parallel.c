/* core/parallel.c - the thread count (tapegrad/parallel.h), handed to BLIS
 * for gemm (when the build has it) and read by the elementwise kernels of
 * core/kernel.c and by ops/gemm.c. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal/kernel.h"
#include "tapegrad/parallel.h"

/* More threads than this is a typo, not a machine. */
#define TG_MAX_THREADS 4096

static _Atomic int num_threads = 1;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void apply(int n) {
    atomic_store(&num_threads, n);
    tg__blas_set_num_threads(n);
}

/* TG_NUM_THREADS, when it is a positive integer; anything else is ignored
 * (the library never prints, and a bad variable must not fail a call). */
static void read_env(void) {
    const char *s = getenv("TG_NUM_THREADS");
    if (!s || !*s) return;
    char *end;
    long n = strtol(s, &end, 10);
    if (*end == '\0' && n >= 1 && n <= TG_MAX_THREADS) apply((int)n);
}

int tg_set_num_threads(int n) {
    pthread_once(&env_once, read_env); /* so that the variable cannot override n later */
    if (n < 1 || n > TG_MAX_THREADS) {
        tg__error(TG_ERR_VALUE, "set_num_threads: %d threads (want 1 to %d)", n, TG_MAX_THREADS);
        return -1;
    }
    apply(n);
    return 0;
}

int tg__num_threads(void) {
    pthread_once(&env_once, read_env);
    return atomic_load(&num_threads);
}

int tg_get_num_threads(void) { return tg__num_threads(); }
