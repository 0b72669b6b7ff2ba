/* examples/worked_gradient.c - the classic first example of autograd, as
 * PyTorch's tutorials write it, line for line:
 *
 *     x = torch.ones(2, 2, requires_grad=True)
 *     y = x + 2
 *     z = y * y * 3
 *     out = z.mean()
 *     out.backward()
 *     print(x.grad)            # 4.5 everywhere
 *     x -= 0.1 * x.grad        # one SGD step, under no_grad: 0.55 everywhere
 *
 * By hand: d out/d z_i = 1/4, d z_i/d y_i = 6 y_i = 18, d y_i/d x_i = 1,
 * so d out/d x_i = 0.25 * 18 = 4.5, and 1 - 0.1 * 4.5 = 0.55.
 *
 * It also prints backward step by step (the chain rule as applied) and
 * draws the graph: worked_gradient [OUTDIR] writes OUTDIR/worked_gradient.dot
 * (default OUTDIR: out) and, when Graphviz is installed, a PNG of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <tapegrad/tapegrad.h>

#include "plot.h"

static void show(const char *label, const tg_tensor *t) {
    printf("%s\n", label);
    tg_print(t, stdout);
}

int main(int argc, char **argv) {
    const char *out_dir = argc > 1 ? argv[1] : "out";

    /* x lives outside any pool: we own it and release it at the end. */
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true);

    /* Everything computed from x goes into this pool, freed by one pop. */
    tg_pool *pool = tg_pool_push();
    tg_tensor *y = tg_add_scalar(x, 2);
    tg_tensor *yy = tg_mul(y, y);
    tg_tensor *z = tg_mul_scalar(yy, 3);
    tg_tensor *out = tg_mean(z);
    if (!out) { /* one check covers the whole chain */
        fprintf(stderr, "forward failed: %s\n", tg_last_error());
        return 1;
    }
    /* Names show up in the trace and the picture. */
    tg_set_name(x, "x");
    tg_set_name(y, "y");
    tg_set_name(yy, "y*y");
    tg_set_name(z, "z");
    tg_set_name(out, "out");
    show("y = x + 2:", y);
    show("z = y * y * 3:", z);
    show("out = z.mean():", out);

    printf("\nbackward, node by node (the chain rule; TG_TRACE=1 shows this for any program):\n");
    tg_set_trace(stdout);
    int rc = tg_backward_ex(out, NULL, TG_RETAIN_GRAPH); /* keep the graph to draw it */
    tg_set_trace(NULL);
    if (rc != 0) {
        fprintf(stderr, "backward failed: %s\n", tg_last_error());
        return 1;
    }
    show("\nx.grad (d out / d x = 0.25 * 6 * (x + 2) = 4.5):", tg_grad(x));

    char dot_path[512], png_path[512];
    mkdir(out_dir, 0755);
    snprintf(dot_path, sizeof dot_path, "%s/worked_gradient.dot", out_dir);
    snprintf(png_path, sizeof png_path, "%s/worked_gradient.png", out_dir);
    if (tg_graph_dot_file(out, dot_path, NULL) != 0) {
        fprintf(stderr, "cannot draw the graph: %s\n", tg_last_error());
        return 1;
    }
    if (render_dot(dot_path, png_path)) printf("graph: %s\n", png_path);

    /* x -= 0.1 * x.grad, outside the graph, as torch.no_grad() does. */
    bool previous = tg_set_grad_enabled(false);
    tg_add_(x, tg_grad(x), -0.1);
    tg_set_grad_enabled(previous);
    show("\nx after one SGD step, x -= 0.1 * x.grad:", x);

    tg_pool_pop(pool);
    tg_release(x);
    return 0;
}
