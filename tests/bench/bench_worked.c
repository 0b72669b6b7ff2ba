/* tests/bench/bench_worked.c - the fixed cost of a dynamic tape: the
 * worked example of autograd (examples/worked_gradient.c) as a whole
 * iteration, the tape built anew each time:
 *
 *     x = ones(2, 2), requires grad    y = x + 2    z = y * y * 3
 *     out = z.mean()    out.backward()    x -= 0.1 x.grad (no grad)
 *     everything released
 *
 * Four elements, so all of its time is the library's own cost per op
 * (headers, nodes, buffers, checks), none arithmetic. Prints the median
 * and fastest time per iteration in ns; each timed run is a batch of
 * iterations, so the clock's own cost is spread over them.
 *
 *     bench_worked [--threads N] [--budget SECONDS] [--n ITERATIONS_PER_RUN]
 */
#include <stdio.h>

#include <tapegrad/tapegrad.h>

#include "bench_common.h"

static int iteration(void) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true);
    tg_pool *pool = tg_pool_push();
    tg_tensor *y = tg_add_scalar(x, 2);
    tg_tensor *out = tg_mean(tg_mul_scalar(tg_mul(y, y), 3));
    int rc = tg_backward(out, NULL);
    bool prev = tg_set_grad_enabled(false);
    if (rc == 0) rc = tg_add_(x, tg_grad(x), -0.1);
    tg_set_grad_enabled(prev);
    tg_pool_pop(pool);
    tg_release(x);
    return rc;
}

static int batch(void *ctx) {
    int64_t n = *(int64_t *)ctx;
    for (int64_t i = 0; i < n; i++)
        if (iteration() != 0) return -1;
    return 0;
}

int main(int argc, char **argv) {
    double budget_s = 2;
    int64_t per_run = 10000;
    int rc = common_options_only(argc, argv, &budget_s, &per_run);
    if (rc) return rc;
    timing t = time_runs(batch, &per_run, budget_s, 0);
    if (!t.runs) {
        fprintf(stderr, "bench_worked: %s\n", tg_last_error());
        return 1;
    }
    printf("worked example (4 ops, backward, SGD step, %d thread%s): median %.0f ns, fastest "
           "%.0f ns per iteration (%ld runs of %lld)\n",
           tg_get_num_threads(), tg_get_num_threads() == 1 ? "" : "s",
           1e9 * t.median_s / (double)per_run, 1e9 * t.min_s / (double)per_run, t.runs,
           (long long)per_run);
    return 0;
}
