/* tests/test_optim.c - optimizers: the worked example's numbers,
 * trajectories against PyTorch 1.13 for every option, parameter groups,
 * skipped parameters, learning-rate changes, saving and resuming, and bad
 * input. */
#include <sys/stat.h>
#include <unistd.h>

#include "golden/golden_optim.h"
#include "tg_test.h"

/* ---- The worked example's numbers ------------------------------------------------- */

/* loss = mean(3 (x + 2)^2), in the pool of the running case. */
static tg_tensor *document_loss(tg_tensor *x) {
    tg_tensor *y = tg_add_scalar(x, 2);
    return tg_mean(tg_mul_scalar(tg_mul(y, y), 3));
}

static void document_sgd_step_gives_0_55(void) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    tg_optimizer *opt = tg_sgd_new(&x, 1, &o);
    CHECK(opt != NULL);
    CHECK(tg_backward(document_loss(x), NULL) == 0);
    double grad[4] = {4.5, 4.5, 4.5, 4.5};
    CHECK_VALUES(tg_grad(x), grad, 4, 0, 0);
    CHECK(tg_optim_step(opt) == 0);
    float f055 = 0.55f; /* the float32 PyTorch prints as 0.5500 */
    double want[4] = {f055, f055, f055, f055};
    CHECK_VALUES(x, want, 4, 0, 0);
    CHECK(tg_optim_step_count(opt, x) == 1);
    tg_optim_free(opt);
}

/* SGD(lr=0.1, momentum=0.9) for 5 epochs on the worked example, PyTorch's table. */
static void document_momentum_table(void) {
    static const double table[5][3] = {{27, 4.5, 0.55},
                                       {19.5075, 3.825, -0.2375},
                                       {9.31922, 2.64375, -1.210625},
                                       {1.869339, 1.184063, -2.204844},
                                       {0.1258829, -0.3072656, -3.068914}};
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    o.momentum = 0.9;
    tg_optimizer *opt = tg_sgd_new(&x, 1, &o);
    CHECK(opt != NULL);
    for (int epoch = 0; epoch < 5; epoch++) {
        tg_optim_zero_grad(opt, TG_GRAD_TO_ZERO);
        tg_tensor *loss = document_loss(x);
        CHECK(tg_backward(loss, NULL) == 0);
        CHECK_CLOSE(tg_item(loss), table[epoch][0], 5e-6, 0);
        double grad[4] = {table[epoch][1], table[epoch][1], table[epoch][1], table[epoch][1]};
        CHECK_VALUES(tg_grad(x), grad, 4, 5e-6, 0);
        CHECK(tg_optim_step(opt) == 0);
        double want[4] = {table[epoch][2], table[epoch][2], table[epoch][2], table[epoch][2]};
        CHECK_VALUES(x, want, 4, 5e-6, 0);
    }
    tg_optim_free(opt);
}

/* ---- PyTorch parity ---------------------------------------------------------------- */

static tg_optimizer *golden_optimizer(const golden_optim_case *c, tg_tensor **params) {
    /* With bias_lr, the biases form a second group without weight decay. */
    bool split = c->bias_lr > 0;
    tg_tensor *weights[2] = {params[0], params[2]}, *biases[2] = {params[1], params[3]};
    tg_tensor *const *first = split ? weights : params;
    int n = split ? 2 : 4;
    tg_optimizer *opt = NULL;
    int group = 0;
    if (strcmp(c->optimizer, "SGD") == 0) {
        tg_sgd_options o = {c->lr,           c->momentum, c->dampening,
                            c->weight_decay, c->nesterov, c->maximize};
        opt = tg_sgd_new(first, n, &o);
        o.lr = c->bias_lr, o.weight_decay = 0;
        if (opt && split) group = tg_sgd_add_group(opt, biases, 2, &o);
    } else if (strcmp(c->optimizer, "Adagrad") == 0) {
        tg_adagrad_options o = {c->lr,  c->lr_decay, c->weight_decay, c->initial_accumulator_value,
                                c->eps, c->maximize};
        opt = tg_adagrad_new(first, n, &o);
        o.lr = c->bias_lr, o.weight_decay = 0;
        if (opt && split) group = tg_adagrad_add_group(opt, biases, 2, &o);
    } else if (strcmp(c->optimizer, "RMSprop") == 0) {
        tg_rmsprop_options o = {c->lr,       c->alpha,    c->eps,     c->weight_decay,
                                c->momentum, c->centered, c->maximize};
        opt = tg_rmsprop_new(first, n, &o);
        o.lr = c->bias_lr, o.weight_decay = 0;
        if (opt && split) group = tg_rmsprop_add_group(opt, biases, 2, &o);
    } else {
        tg_adam_options o = {c->lr,           c->beta1,   c->beta2,   c->eps,
                             c->weight_decay, c->amsgrad, c->maximize};
        bool adamw = strcmp(c->optimizer, "AdamW") == 0;
        opt = adamw ? tg_adamw_new(first, n, &o) : tg_adam_new(first, n, &o);
        o.lr = c->bias_lr, o.weight_decay = 0;
        if (opt && split) group = tg_adam_add_group(opt, biases, 2, &o);
    }
    if (group < 0) {
        tg_optim_free(opt);
        return NULL;
    }
    return opt;
}

static const char *optimizer_names[5] = {"SGD", "Adagrad", "RMSprop", "Adam", "AdamW"};

static int optimizer_index(const char *name) {
    for (int i = 0; i < 5; i++)
        if (strcmp(optimizer_names[i], name) == 0) return i;
    return 0;
}

/* Compares the NUMEL values of the MLP's tensors with PyTorch's: each within
 * tol relative, or within tol of the set's largest magnitude for an element
 * near zero (a momentum changing sign). Returns the largest elementwise
 * relative error, which the summary reports (0 when bit-identical), or -1
 * on a mismatch. float32 goldens carry 9 digits, so they are compared once
 * rounded to float32. */
static double compare(const double *got, const double *golden, bool f64, double tol) {
    double want[GOLDEN_OPTIM_NUMEL], scale = 0, worst = 0;
    for (int i = 0; i < GOLDEN_OPTIM_NUMEL; i++) {
        want[i] = f64 ? golden[i] : (double)(float)golden[i];
        scale = fmax(scale, fabs(want[i]));
    }
    for (int i = 0; i < GOLDEN_OPTIM_NUMEL; i++) {
        double err = fabs(got[i] - want[i]);
        if (!tg_test_close(got[i], want[i], tol, tol * scale)) return -1;
        if (err > 0) worst = fmax(worst, want[i] != 0 ? err / fabs(want[i]) : INFINITY);
    }
    return worst;
}

/* The MLP's tensor i (W1, b1, W2, b2) from its slice of the flat values. */
static tg_tensor *mlp_tensor(const double *flat, int i, tg_dtype dtype) {
    for (int j = 0; j < i; j++) {
        const int64_t *shape = golden_optim_shapes[j];
        flat += shape[0] * (golden_optim_ndims[j] == 2 ? shape[1] : 1);
    }
    return tg_test_tensor(flat, golden_optim_ndims[i], golden_optim_shapes[i], dtype);
}

/* Flattens the MLP's four tensors (NUMEL values). */
static void flatten(tg_tensor *const *ts, double *out) {
    for (int i = 0; i < 4; i++) {
        tg_to_doubles(ts[i], out);
        out += tg_numel(ts[i]);
    }
}

/* Sets each parameter's .grad to PyTorch's gradient of this step (none for
 * the skipped one): backward from a leaf with a seed makes the seed its
 * grad. */
static bool feed_grads(const golden_optim_case *c, int step, tg_tensor **params,
                       tg_optimizer *opt) {
    tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
    for (int i = 0; i < 4; i++) {
        bool skip = i == GOLDEN_OPTIM_SKIP_PARAM && c->skip_every && step % c->skip_every == 0;
        const double *grads = c->grads + (step - 1) * GOLDEN_OPTIM_NUMEL;
        if (!skip && tg_backward(params[i], mlp_tensor(grads, i, tg_dtype_of(params[i]))) != 0)
            return false;
    }
    return true;
}

/* Compares the parameters and every state after a step; returns the
 * largest relative error or -1, naming what differs in where. */
static double check_step(const golden_optim_case *c, int step, tg_tensor **params,
                         const tg_optimizer *opt, char *where, size_t where_size) {
    double tol = c->f64 ? 1e-12 : 1e-5, got[GOLDEN_OPTIM_NUMEL];
    flatten(params, got);
    double worst = compare(got, c->params + (step - 1) * GOLDEN_OPTIM_NUMEL, c->f64, tol);
    snprintf(where, where_size, "step %d: parameters differ", step);
    for (int s = 0; s < c->n_states && worst >= 0; s++) {
        tg_tensor *states[4];
        for (int i = 0; i < 4; i++) states[i] = tg_optim_state(opt, params[i], c->state_names[s]);
        flatten(states, got);
        const double *want = c->states + ((step - 1) * c->n_states + s) * GOLDEN_OPTIM_NUMEL;
        double dev = compare(got, want, c->f64, tol);
        snprintf(where, where_size, "step %d: state %s differs", step, c->state_names[s]);
        worst = dev < 0 ? dev : fmax(worst, dev);
    }
    return worst;
}

/* Runs one golden case; returns the largest relative error, or -1 with
 * the failure described in where. */
static double run_golden_case(const golden_optim_case *c, char *where, size_t where_size) {
    tg_tensor *params[4];
    for (int i = 0; i < 4; i++)
        params[i] = tg_requires_grad_(mlp_tensor(c->init, i, c->f64 ? TG_F64 : TG_F32), true);
    tg_optimizer *opt = golden_optimizer(c, params);
    if (!opt) {
        snprintf(where, where_size, "creating the optimizer: %s", tg_last_error());
        return -1;
    }
    double worst = 0;
    for (int step = 1; step <= GOLDEN_OPTIM_STEPS && worst >= 0; step++) {
        if (step == c->lr_halved_at)
            for (int g = 0; g < tg_optim_n_groups(opt); g++)
                tg_optim_set_lr(opt, g, tg_optim_lr(opt, g) * 0.5);
        if (!feed_grads(c, step, params, opt) || tg_optim_step(opt) != 0) {
            snprintf(where, where_size, "step %d: %s", step, tg_last_error());
            worst = -1;
        } else {
            double dev = check_step(c, step, params, opt, where, where_size);
            worst = dev < 0 ? dev : fmax(worst, dev);
        }
    }
    tg_optim_free(opt);
    return worst;
}

static void matches_pytorch_trajectories(void) {
    double worst[5][2] = {{0}};
    int n_cases = (int)(sizeof golden_optim_cases / sizeof golden_optim_cases[0]);
    for (int k = 0; k < n_cases; k++) {
        const golden_optim_case *c = &golden_optim_cases[k];
        tg_pool *pool = tg_pool_push();
        char where[600];
        double dev = run_golden_case(c, where, sizeof where);
        tg_pool_pop(pool);
        tg_test_context = c->name;
        if (dev < 0) {
            tg_test_fail(__FILE__, __LINE__, where);
            return;
        }
        double *w = &worst[optimizer_index(c->optimizer)][c->f64];
        *w = fmax(*w, dev);
    }
    tg_test_context = NULL;
    for (int i = 0; i < 5; i++)
        printf("  %-8s largest relative deviation from PyTorch: float32 %.1e, float64 %.1e\n",
               optimizer_names[i], worst[i][0], worst[i][1]);
}

/* ---- The common interface ----------------------------------------------------------- */

/* A leaf that requires grad, holding values (pooled). */
static tg_tensor *leaf(const double *values, int n, tg_dtype dtype) {
    return tg_requires_grad_(tg_test_tensor(values, TG_SHAPE(n), dtype), true);
}

/* Gives p the grad g (a seeded backward from a leaf sets it to the seed). */
static int set_grad(tg_tensor *p, const double *g) {
    tg_clear_grad(p);
    return tg_backward(p, tg_test_tensor(g, tg_ndim(p), tg_shape(p), tg_dtype_of(p)));
}

static void groups_have_their_own_hyper_parameters(void) {
    double w0[2] = {1, -2}, b0[2] = {0.5, 3}, ones[2] = {1, 1};
    tg_tensor *w = leaf(w0, 2, TG_F64), *b = leaf(b0, 2, TG_F64);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    o.weight_decay = 0.5;
    tg_optimizer *opt = tg_sgd_new(&w, 1, &o);
    CHECK(opt != NULL);
    o.lr = 0.2, o.weight_decay = 0; /* biases: no weight decay */
    CHECK(tg_sgd_add_group(opt, &b, 1, &o) == 1);
    CHECK(tg_optim_n_groups(opt) == 2);
    CHECK(tg_optim_lr(opt, 0) == 0.1 && tg_optim_lr(opt, 1) == 0.2);
    CHECK(set_grad(w, ones) == 0 && set_grad(b, ones) == 0);
    CHECK(tg_optim_step(opt) == 0);
    double want_w[2] = {1 - 0.1 * (1 + 0.5 * 1), -2 - 0.1 * (1 + 0.5 * -2)};
    double want_b[2] = {0.5 - 0.2, 3 - 0.2};
    CHECK_VALUES(w, want_w, 2, 1e-15, 0);
    CHECK_VALUES(b, want_b, 2, 1e-15, 0);

    /* lr changes between steps, for one group or all. */
    CHECK(tg_optim_set_lr(opt, -1, 0.05) == 0);
    CHECK(tg_optim_lr(opt, 0) == 0.05 && tg_optim_lr(opt, 1) == 0.05);
    CHECK(tg_optim_set_lr(opt, 1, 1.0) == 0 && tg_optim_lr(opt, 1) == 1.0);
    CHECK(tg_optim_step(opt) == 0);
    double want_b2[2] = {want_b[0] - 1, want_b[1] - 1};
    CHECK_VALUES(b, want_b2, 2, 1e-15, 0);

    CHECK(tg_optim_set_lr(opt, 0, -1) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "SGD: invalid lr -1 (must be >= 0)");
    CHECK(tg_optim_set_lr(opt, 2, 0.1) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "SGD: no parameter group 2 (it has 2)");
    CHECK(isnan(tg_optim_lr(opt, -1)));
    CHECK_ERROR(TG_ERR_VALUE, "SGD: no parameter group -1");

    /* A group of another optimizer's options, or a parameter already in. */
    tg_adam_options a = tg_adam_defaults();
    tg_tensor *c = leaf(w0, 2, TG_F64);
    CHECK(tg_adam_add_group(opt, &c, 1, &a) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "SGD: add_group was given tg_adam_options, not tg_sgd_options");
    CHECK(tg_sgd_add_group(opt, &b, 1, &o) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "SGD: parameter 0 (2,) appears twice");
    CHECK(tg_sgd_add_group(opt, &c, 1, NULL) == -1);
    CHECK_ERROR(TG_ERR_NULL, "SGD: options are NULL");
    CHECK(tg_optim_n_groups(opt) == 2);
    tg_optim_free(opt);
}

/* A parameter whose grad is NULL keeps its value and its step count, as
 * PyTorch skips p.grad is None; zero_grad keeps grads allocated unless
 * asked to drop them. */
static void parameter_without_grad_is_skipped(void) {
    double v[3] = {1, 2, 3}, g[3] = {0.5, -1, 2};
    tg_tensor *params[2] = {leaf(v, 3, TG_F32), leaf(v, 3, TG_F32)};
    tg_optimizer *opt = tg_adam_new(params, 2, NULL);
    CHECK(opt != NULL);
    CHECK(set_grad(params[0], g) == 0);
    CHECK(tg_optim_step(opt) == 0);
    CHECK(tg_optim_step_count(opt, params[0]) == 1 && tg_optim_step_count(opt, params[1]) == 0);
    CHECK_VALUES(params[1], v, 3, 0, 0);
    double zeros[3] = {0, 0, 0};
    CHECK_VALUES(tg_optim_state(opt, params[1], "exp_avg"), zeros, 3, 0, 0);
    double moved[3];
    tg_to_doubles(params[0], moved);
    for (int i = 0; i < 3; i++) CHECK_CLOSE(moved[i], v[i] - 1e-3 * (g[i] > 0 ? 1 : -1), 1e-6, 0);

    tg_optim_zero_grad(opt, TG_GRAD_TO_ZERO);
    CHECK_VALUES(tg_grad(params[0]), zeros, 3, 0, 0);
    CHECK(tg_optim_step(opt) == 0); /* a zero grad is a step, unlike a NULL one */
    CHECK(tg_optim_step_count(opt, params[0]) == 2);
    tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
    CHECK(tg_grad(params[0]) == NULL);
    CHECK(tg_optim_step(opt) == 0);
    CHECK(tg_optim_step_count(opt, params[0]) == 2);
    tg_optim_free(opt);
}

/* zero_grad leaves a grad whose pointer tg_grad never gave out to be
 * zeroed lazily: the next backward writes over it (a product with beta 0)
 * instead of adding to it. Two copies of one model, one whose grads were
 * handed out (zeroed at once) and one lazy, train to the same bits with
 * AdamW over steps where u is used every other step (its grad stays
 * pending through a backward and a step), and the lazy grads read as
 * zeros (to tg_grad and to clip_grad_norm_) after zero_grad. */
static void lazy_zero_grad_trains_as_eager(void) {
    double x0[6] = {0.5, -1, 2, 1.5, -0.25, 3}, w0[6] = {1, -2, 0.5, 3, -1, 0.25},
           b0[2] = {0.1, -0.2}, u0[2] = {2, -3}, zeros[6] = {0};
    tg_tensor *x = tg_test_tensor(x0, TG_SHAPE(3, 2), TG_F64);
    tg_tensor *params[2][3];
    tg_optimizer *opt[2];
    for (int m = 0; m < 2; m++) {
        params[m][0] = tg_requires_grad_(tg_test_tensor(w0, TG_SHAPE(2, 3), TG_F64), true);
        params[m][1] = leaf(b0, 2, TG_F64);
        params[m][2] = leaf(u0, 2, TG_F64);
        opt[m] = tg_adamw_new(params[m], 3, NULL);
        CHECK(opt[m] != NULL);
    }
    for (int i = 0; i < 3; i++) (void)tg_grad(params[0][i]); /* model 0: handed out, eager */
    for (int step = 0; step < 5; step++) {
        for (int m = 0; m < 2; m++) {
            tg_pool *pool = tg_pool_push();
            tg_tensor *w = params[m][0], *u = params[m][2];
            tg_tensor *y = tg_matmul(x, w); /* (3, 3): dW through grad_into */
            tg_tensor *loss = tg_sum(tg_mul(y, y));
            tg_tensor *bias = tg_sum(tg_mul(params[m][1], tg_sum(y)));
            loss = tg_add(loss, bias);
            if (step % 2 == 0) loss = tg_add(loss, tg_sum(tg_mul(u, u)));
            CHECK(tg_backward(loss, NULL) == 0);
            CHECK(tg_optim_step(opt[m]) == 0);
            tg_optim_zero_grad(opt[m], TG_GRAD_TO_ZERO);
            tg_pool_pop(pool);
        }
        for (int i = 0; i < 3; i++) {
            double eager[6];
            tg_to_doubles(params[0][i], eager);
            CHECK_VALUES(params[1][i], eager, tg_numel(params[0][i]), 0, 0);
        }
    }
    CHECK(tg_clip_grad_norm_(params[1], 3, 1.0) == 0);
    for (int i = 0; i < 3; i++)
        CHECK_VALUES(tg_grad(params[1][i]), zeros, tg_numel(params[1][i]), 0, 0);
    for (int m = 0; m < 2; m++) tg_optim_free(opt[m]);
}

/* A lazily zeroed grad is written over, not multiplied by zero: NaN left
 * in it by an earlier backward does not reach the next one, through a
 * product (dW) or through an addition (the bias). */
static void lazy_zero_grad_forgets_nan(void) {
    double x0[6] = {0.5, -1, 2, 1.5, -0.25, 3}, w0[6] = {1, -2, 0.5, 3, -1, 0.25},
           b0[3] = {1, 2, 3};
    tg_tensor *x = tg_test_tensor(x0, TG_SHAPE(3, 2), TG_F64);
    tg_tensor *w[2], *b[2];
    for (int m = 0; m < 2; m++) {
        w[m] = tg_requires_grad_(tg_test_tensor(w0, TG_SHAPE(2, 3), TG_F64), true);
        b[m] = leaf(b0, 3, TG_F64);
    }
    /* model 1 first learns NaN, then has it zeroed lazily */
    CHECK(tg_backward(tg_sum(tg_add(tg_matmul(tg_mul_scalar(x, NAN), w[1]), b[1])), NULL) == 0);
    tg_zero_grad(w[1]);
    tg_zero_grad(b[1]);
    for (int m = 0; m < 2; m++) {
        tg_tensor *y = tg_add(tg_matmul(x, w[m]), tg_mul(b[m], b[m]));
        CHECK(tg_backward(tg_sum(tg_mul(y, y)), NULL) == 0);
    }
    double want_w[6], want_b[3];
    tg_to_doubles(tg_grad(w[0]), want_w);
    tg_to_doubles(tg_grad(b[0]), want_b);
    for (int i = 0; i < 6; i++) CHECK(isfinite(want_w[i]));
    CHECK_VALUES(tg_grad(w[1]), want_w, 6, 0, 0);
    CHECK_VALUES(tg_grad(b[1]), want_b, 3, 0, 0);
}

/* The update is an in-place write: a graph that saved the parameter
 * before the step refuses to run backward after it. */
static void step_bumps_the_version_counter(void) {
    double v[2] = {1, 2}, g[2] = {1, 1};
    tg_tensor *x = leaf(v, 2, TG_F32);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    tg_optimizer *opt = tg_sgd_new(&x, 1, &o);
    CHECK(opt != NULL);
    tg_tensor *y = tg_sum(tg_mul(x, x)); /* MulBackward0 saves x */
    CHECK(set_grad(x, g) == 0);
    CHECK(tg_optim_step(opt) == 0);
    CHECK(tg_backward(y, NULL) == -1);
    CHECK_ERROR(TG_ERR_GRAPH, "modified by an in-place operation");
    tg_optim_free(opt);
}

/* A strided leaf (a transposed view of another tensor) is updated in
 * place through its strides, exactly as a contiguous copy of it is. */
static void strided_parameter_matches_contiguous(void) {
    double base_values[6] = {1, 2, 3, 4, 5, 6};
    double grads[3][6] = {{1, -2, 3, -4, 5, -6}, {0.5, 0.5, -1, 2, 0, 1}, {-3, 1, 1, 2, -2, 4}};
    tg_tensor *base = tg_test_tensor(base_values, TG_SHAPE(3, 2), TG_F32);
    tg_tensor *strided = tg_requires_grad_(tg_detach(tg_transpose(base, 0, 1)), true);
    tg_tensor *contiguous = tg_requires_grad_(tg_contiguous(tg_detach(strided)), true);
    CHECK(strided && contiguous && !tg_is_contiguous(strided) && tg_is_contiguous(contiguous));
    tg_tensor *params[2] = {strided, contiguous};
    tg_adam_options o = tg_adamw_defaults();
    o.lr = 0.1, o.amsgrad = true;
    tg_optimizer *opt = tg_adamw_new(params, 2, &o);
    CHECK(opt != NULL);
    for (int step = 0; step < 3; step++) {
        tg_tensor *g = tg_test_tensor(grads[step], TG_SHAPE(2, 3), TG_F32);
        tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
        CHECK(tg_backward(strided, g) == 0 && tg_backward(contiguous, g) == 0);
        CHECK(tg_optim_step(opt) == 0);
    }
    double a[6], b[6], seen[6];
    tg_to_doubles(strided, a);
    tg_to_doubles(contiguous, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(a[0] != base_values[0]);
    tg_to_doubles(tg_transpose(base, 0, 1), seen); /* the update went through the view */
    CHECK(memcmp(a, seen, sizeof a) == 0);
    tg_optim_free(opt);
}

/* The optimizer holds its own references: the parameters outlive the
 * pool that made them until tg_optim_free. */
static void optimizer_keeps_its_parameters(void) {
    int64_t live = tg_live_tensors();
    double v[2] = {1, 2}, g[2] = {10, 10};
    tg_pool *pool = tg_pool_push();
    tg_tensor *x = leaf(v, 2, TG_F64);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    o.momentum = 0.9;
    tg_optimizer *opt = tg_sgd_new(&x, 1, &o);
    CHECK(opt != NULL && set_grad(x, g) == 0);
    tg_pool_pop(pool);
    CHECK(tg_live_tensors() > live); /* x, its grad and its momentum buffer */
    CHECK(tg_optim_step(opt) == 0);
    double want[2] = {1 - 0.1 * 10, 2 - 0.1 * 10};
    CHECK_VALUES(x, want, 2, 0, 1e-15);
    tg_optim_free(opt);
    CHECK(tg_live_tensors() == live);
}

static void state_lookup(void) {
    double v[2] = {1, 2};
    tg_tensor *x = leaf(v, 2, TG_F32), *other = leaf(v, 2, TG_F32);
    tg_adagrad_options o = tg_adagrad_defaults();
    o.initial_accumulator_value = 0.25;
    tg_optimizer *opt = tg_adagrad_new(&x, 1, &o);
    CHECK(opt != NULL);
    CHECK(strcmp(tg_optim_name(opt), "Adagrad") == 0);
    double init[2] = {0.25, 0.25}; /* there before the first step, as in PyTorch */
    CHECK_VALUES(tg_optim_state(opt, x, "sum"), init, 2, 0, 0);
    CHECK(tg_optim_state(opt, x, "exp_avg") == NULL);
    CHECK(tg_optim_state(opt, other, "sum") == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adagrad: the tensor is not one of its parameters");
    CHECK(tg_optim_step_count(opt, other) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "not one of its parameters");
    tg_optim_free(opt);

    tg_optimizer *adam = tg_adam_new(&x, 1, NULL);
    CHECK(adam != NULL);
    CHECK(tg_optim_state(adam, x, "exp_avg_sq") != NULL);
    CHECK(tg_optim_state(adam, x, "max_exp_avg_sq") == NULL); /* amsgrad off */
    tg_optim_free(adam);
}

static void defaults_are_pytorchs(void) {
    const golden_optim_defaults *d = golden_optim_default_values;
    tg_sgd_options sgd = tg_sgd_defaults(0.5);
    CHECK(sgd.lr == 0.5 && sgd.momentum == d[0].momentum && sgd.dampening == d[0].dampening &&
          sgd.weight_decay == d[0].weight_decay && sgd.nesterov == d[0].nesterov &&
          sgd.maximize == d[0].maximize);
    tg_adagrad_options ada = tg_adagrad_defaults();
    CHECK(ada.lr == d[1].lr && ada.lr_decay == d[1].lr_decay &&
          ada.weight_decay == d[1].weight_decay &&
          ada.initial_accumulator_value == d[1].initial_accumulator_value && ada.eps == d[1].eps &&
          ada.maximize == d[1].maximize);
    tg_rmsprop_options rms = tg_rmsprop_defaults();
    CHECK(rms.lr == d[2].lr && rms.alpha == d[2].alpha && rms.eps == d[2].eps &&
          rms.weight_decay == d[2].weight_decay && rms.momentum == d[2].momentum &&
          rms.centered == d[2].centered && rms.maximize == d[2].maximize);
    tg_adam_options adams[2] = {tg_adam_defaults(), tg_adamw_defaults()};
    for (int i = 0; i < 2; i++) {
        const golden_optim_defaults *e = &d[3 + i];
        CHECK(adams[i].lr == e->lr && adams[i].beta1 == e->beta1 && adams[i].beta2 == e->beta2 &&
              adams[i].eps == e->eps && adams[i].weight_decay == e->weight_decay &&
              adams[i].amsgrad == e->amsgrad && adams[i].maximize == e->maximize);
    }
}

/* ---- Schedules ------------------------------------------------------------ */

static void schedule_errors(void) {
    double v[1] = {0};
    tg_tensor *a = leaf(v, 1, TG_F32), *b = leaf(v, 1, TG_F32);
    tg_sgd_options o = tg_sgd_defaults(0.1);
    tg_optimizer *opt = tg_sgd_new(&a, 1, &o);
    CHECK(opt != NULL);
    CHECK(tg_step_lr(opt, 0, 0.1) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "StepLR: invalid step_size 0 (must be > 0)");
    CHECK(tg_step_lr(opt, 2, -0.5) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "StepLR: invalid gamma -0.5");
    CHECK(tg_cosine_annealing_lr(opt, 0, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "CosineAnnealingLR: invalid T_max 0");
    CHECK(tg_warmup_cosine_lr(opt, 10, 10, 0) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "WarmupCosine: invalid steps (warmup 10, total 10)");
    CHECK(tg_warmup_cosine_lr(opt, 1, 10, 1.5) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "WarmupCosine: invalid final_ratio 1.5");
    CHECK(tg_step_lr(NULL, 1, 0.1) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "argument is NULL");
    /* A group added after the scheduler has no base lr. */
    tg_lr_scheduler *s = tg_step_lr(opt, 1, 0.5);
    CHECK(s && tg_sgd_add_group(opt, &b, 1, &o) == 1);
    CHECK(tg_lr_scheduler_step(s) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "StepLR: the optimizer has 2 parameter groups, it had 1");
    CHECK(tg_lr_scheduler_epoch(s) == 0 && tg_optim_lr(opt, 0) == 0.1);
    tg_lr_scheduler_free(s);
    tg_optim_free(opt);
}

/* ---- Bad input ---------------------------------------------------------------------- */

static void bad_hyper_parameters_are_refused(void) {
    double v[2] = {1, 2};
    tg_tensor *x = leaf(v, 2, TG_F32);
    tg_sgd_options sgd = tg_sgd_defaults(-0.1);
    CHECK(tg_sgd_new(&x, 1, &sgd) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "SGD: invalid lr -0.1 (must be >= 0)");
    sgd = tg_sgd_defaults(0.1);
    sgd.momentum = -0.5;
    CHECK(tg_sgd_new(&x, 1, &sgd) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "SGD: invalid momentum -0.5");
    sgd = tg_sgd_defaults(0.1);
    sgd.nesterov = true;
    CHECK(tg_sgd_new(&x, 1, &sgd) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "SGD: nesterov requires momentum > 0 and dampening 0 (momentum 0, dampening 0)");
    sgd.momentum = 0.9, sgd.dampening = 0.1;
    CHECK(tg_sgd_new(&x, 1, &sgd) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "(momentum 0.9, dampening 0.1)");
    CHECK(tg_sgd_new(&x, 1, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "SGD: options are NULL (SGD has no default lr)");

    tg_adagrad_options ada = tg_adagrad_defaults();
    ada.eps = -1e-10;
    CHECK(tg_adagrad_new(&x, 1, &ada) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adagrad: invalid eps -1e-10 (must be >= 0)");
    ada = tg_adagrad_defaults();
    ada.initial_accumulator_value = -1;
    CHECK(tg_adagrad_new(&x, 1, &ada) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adagrad: invalid initial_accumulator_value -1");

    tg_rmsprop_options rms = tg_rmsprop_defaults();
    rms.alpha = -0.9;
    CHECK(tg_rmsprop_new(&x, 1, &rms) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "RMSprop: invalid alpha -0.9");
    rms = tg_rmsprop_defaults();
    rms.lr = NAN;
    CHECK(tg_rmsprop_new(&x, 1, &rms) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "RMSprop: invalid lr nan");

    tg_adam_options adam = tg_adam_defaults();
    adam.beta1 = 1;
    CHECK(tg_adam_new(&x, 1, &adam) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adam: invalid beta1 1 (must be in [0, 1))");
    adam = tg_adam_defaults();
    adam.beta2 = -0.1;
    CHECK(tg_adamw_new(&x, 1, &adam) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "AdamW: invalid beta2 -0.1 (must be in [0, 1))");
    adam = tg_adam_defaults();
    adam.eps = -1e-8;
    CHECK(tg_adam_new(&x, 1, &adam) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adam: invalid eps -1e-08 (must be >= 0)");
    adam = tg_adamw_defaults();
    adam.weight_decay = -0.01;
    CHECK(tg_adamw_new(&x, 1, &adam) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "AdamW: invalid weight_decay -0.01");
}

static void bad_parameters_are_refused(void) {
    double v[4] = {1, 2, 3, 4};
    tg_tensor *x = leaf(v, 2, TG_F32);
    tg_tensor *frozen = tg_test_tensor(v, TG_SHAPE(2, 2), TG_F32);
    CHECK(tg_adam_new(&frozen, 1, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adam: parameter 0 (2, 2) does not require grad");
    tg_tensor *made = tg_add_scalar(x, 1);
    tg_tensor *pair[2] = {x, made};
    CHECK(tg_adam_new(pair, 2, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adam: parameter 1 (2,) is not a leaf (made by AddBackward0)");
    pair[1] = x;
    CHECK(tg_adam_new(pair, 2, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adam: parameter 1 (2,) appears twice");
    /* An update of an expanded parameter would land on one element. */
    tg_tensor *row = tg_requires_grad_(
        tg_detach(tg_expand(tg_ones(TG_SHAPE(1, 2), TG_F32), TG_SHAPE(3, 2))), true);
    pair[1] = row;
    CHECK(tg_sgd_new(pair, 2, &(tg_sgd_options){.lr = 0.1}) == NULL);
    CHECK_ERROR(TG_ERR_VALUE,
                "SGD: parameter 1 (3, 2): unsupported operation: more than one "
                "element of the written-to tensor refers to a single memory location");
    CHECK(tg_adam_new(NULL, 1, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "Adam: empty parameter list");
    CHECK(tg_adam_new(&x, 0, NULL) == NULL);
    CHECK_ERROR(TG_ERR_VALUE, "Adam: empty parameter list");
    pair[1] = NULL;
    CHECK(tg_rmsprop_new(pair, 2, NULL) == NULL);
    CHECK_ERROR(TG_ERR_NULL, "RMSprop: parameter 1 is NULL");
    /* A NULL from a failed call keeps that call's message. */
    pair[1] = tg_requires_grad_(tg_ones(TG_SHAPE(-1), TG_F32), true);
    CHECK(tg_rmsprop_new(pair, 2, NULL) == NULL);
    CHECK(!strstr(tg_last_error(), "RMSprop"));
    tg_clear_error();

    CHECK(tg_optim_step(NULL) == -1);
    CHECK_ERROR(TG_ERR_NULL, "argument is NULL");
    tg_optim_zero_grad(NULL, TG_GRAD_TO_ZERO);
    tg_optim_free(NULL);
    CHECK(tg_optim_n_groups(NULL) == 0 && tg_optim_name(NULL) == NULL);
}

/* Creating an optimizer fails cleanly at every allocation it makes. */

typedef struct adamw_scenario {
    tg_tensor **params;
    tg_adam_options options;
    int wrong;
} adamw_scenario;

/* An AdamW with two groups, then freed; a failed add must change nothing. */
static int adamw_with_two_groups(void *ctx) {
    adamw_scenario *s = ctx;
    tg_optimizer *opt = tg_adamw_new(s->params, 1, &s->options);
    int group = opt ? tg_adam_add_group(opt, s->params + 1, 1, &s->options) : -1;
    if (opt && group < 0 && tg_optim_n_groups(opt) != 1) s->wrong++;
    tg_optim_free(opt);
    return group == 1 ? 0 : -1;
}

static int adamw_wrongs(void *ctx) {
    adamw_scenario *s = ctx;
    int wrong = s->wrong;
    s->wrong = 0;
    return wrong;
}

static void out_of_memory_at_every_allocation(void) {
    tg_pool_pop(tg_test_pool); /* the harness's pool would allocate too */
    double v[3] = {1, 2, 3};
    tg_tensor *params[2] = {tg_requires_grad_(tg_from_data(v, TG_SHAPE(3), TG_F64), true),
                            tg_requires_grad_(tg_from_data(v, TG_SHAPE(3), TG_F64), true)};
    adamw_scenario s = {params, tg_adamw_defaults(), 0};
    s.options.amsgrad = true;
    tg_test_sweep r = tg_test_fail_each_allocation(adamw_with_two_groups, &s, adamw_wrongs);
    tg_release(params[0]);
    tg_release(params[1]);
    tg_test_pool = tg_pool_push();
    CHECK(r.allocations >= 8);
    CHECK(r.failures == r.allocations); /* every allocation is on the path */
    CHECK(r.wrong == 0);
}

/* ---- Saving and resuming ------------------------------------------------------------- */

/* A fresh folder under /tmp for one case's files. scratch_remove deletes
 * the files the cases write, then the folder, which fails when anything
 * else (a save's temporary file, say) was left in it. */
typedef struct scratch {
    char dir[sizeof "/tmp/tg-optim-XXXXXX"];
    char params[64], state[64], other[64];
} scratch;

static bool scratch_make(scratch *s) {
    memcpy(s->dir, "/tmp/tg-optim-XXXXXX", sizeof s->dir);
    if (!mkdtemp(s->dir)) return false;
    snprintf(s->params, sizeof s->params, "%s/params.safetensors", s->dir);
    snprintf(s->state, sizeof s->state, "%s/state.safetensors", s->dir);
    snprintf(s->other, sizeof s->other, "%s/other.safetensors", s->dir);
    return true;
}

static bool scratch_remove(const scratch *s) {
    unlink(s->params);
    unlink(s->state);
    unlink(s->other);
    return rmdir(s->dir) == 0;
}

/* The problem training resumes on: a linear layer, W (2, 3) and b (2,)
 * fitted by mean squared error, W and b in two groups (b without weight
 * decay). New leaves in the pool, the same values each time. */
static void problem_params(tg_dtype dtype, tg_tensor **p) {
    static const double w[6] = {0.5, -0.25, 0.125, 1, -0.75, 0.3}, b[2] = {0.1, -0.2};
    p[0] = tg_requires_grad_(tg_test_tensor(w, TG_SHAPE(2, 3), dtype), true);
    p[1] = tg_requires_grad_(tg_test_tensor(b, TG_SHAPE(2), dtype), true);
}

/* Training steps from to to - 1, counting from 0. b has no grad every
 * third step, so that its step count falls behind W's, and the lrs are
 * halved before step 7, so that the saved lrs matter. */
static bool train(tg_optimizer *opt, tg_tensor **p, int from, int to) {
    static const double x[12] = {1, 2, -1, 0.5, -1, 3, -2, 0.25, 1, 1.5, -0.5, -1};
    static const double y[8] = {1, -1, 0.5, 2, -1.5, 0, 0.25, 1};
    tg_dtype dtype = tg_dtype_of(p[0]);
    bool ok = true;
    for (int step = from; ok && step < to; step++) {
        tg_pool *pool = tg_pool_push();
        tg_tensor *pred = tg_linear(tg_test_tensor(x, TG_SHAPE(4, 3), dtype), p[0], p[1]);
        tg_tensor *target = tg_test_tensor(y, TG_SHAPE(4, 2), dtype);
        tg_optim_zero_grad(opt, TG_GRAD_TO_NONE);
        ok = tg_backward(tg_mse_loss(pred, target, TG_REDUCTION_MEAN), NULL) == 0;
        if (step % 3 == 2) tg_clear_grad(p[1]);
        for (int g = 0; step == 6 && g < 2; g++)
            ok = ok && tg_optim_set_lr(opt, g, tg_optim_lr(opt, g) / 2) == 0;
        ok = ok && tg_optim_step(opt) == 0;
        tg_pool_pop(pool);
    }
    return ok;
}

/* The optimizers the problem is trained with: W's group from the options,
 * then b's group without weight decay. NULL when either fails. */
static tg_optimizer *with_bias_group(tg_optimizer *opt, int group) {
    if (group == 1) return opt;
    tg_optim_free(opt);
    return NULL;
}

static tg_optimizer *sgd_nesterov(tg_tensor **p) {
    tg_sgd_options o = tg_sgd_defaults(0.05);
    o.momentum = 0.9, o.nesterov = true, o.weight_decay = 0.01;
    tg_optimizer *opt = tg_sgd_new(p, 1, &o);
    o.weight_decay = 0;
    return with_bias_group(opt, tg_sgd_add_group(opt, p + 1, 1, &o));
}

static tg_optimizer *adagrad_decaying(tg_tensor **p) {
    tg_adagrad_options o = tg_adagrad_defaults();
    o.lr = 0.1, o.lr_decay = 0.01, o.initial_accumulator_value = 0.1, o.weight_decay = 0.01;
    tg_optimizer *opt = tg_adagrad_new(p, 1, &o);
    o.weight_decay = 0;
    return with_bias_group(opt, tg_adagrad_add_group(opt, p + 1, 1, &o));
}

static tg_optimizer *rmsprop_centered(tg_tensor **p) {
    tg_rmsprop_options o = tg_rmsprop_defaults();
    o.centered = true, o.momentum = 0.5, o.weight_decay = 0.01;
    tg_optimizer *opt = tg_rmsprop_new(p, 1, &o);
    o.weight_decay = 0;
    return with_bias_group(opt, tg_rmsprop_add_group(opt, p + 1, 1, &o));
}

static tg_optimizer *adam_family(tg_tensor **p, bool decoupled, bool amsgrad) {
    tg_adam_options o = decoupled ? tg_adamw_defaults() : tg_adam_defaults();
    o.lr = 0.01, o.weight_decay = 0.01, o.amsgrad = amsgrad;
    tg_optimizer *opt = decoupled ? tg_adamw_new(p, 1, &o) : tg_adam_new(p, 1, &o);
    o.weight_decay = 0;
    return with_bias_group(opt, tg_adam_add_group(opt, p + 1, 1, &o));
}

static tg_optimizer *adam_amsgrad(tg_tensor **p) { return adam_family(p, false, true); }
static tg_optimizer *adamw_plain(tg_tensor **p) { return adam_family(p, true, false); }
static tg_optimizer *adamw_amsgrad(tg_tensor **p) { return adam_family(p, true, true); }

static int save_params(const char *path, tg_tensor **p) {
    return tg_save_safetensors(path, 2, (tg_named_tensor[]){{"weight", p[0]}, {"bias", p[1]}});
}

static int load_params(const char *path, tg_tensor **p) {
    return tg_load_safetensors(path, 2, (tg_named_tensor[]){{"weight", p[0]}, {"bias", p[1]}});
}

static bool same_bytes(tg_tensor *a, tg_tensor *b) {
    return a && b && tg_dtype_of(a) == tg_dtype_of(b) && tg_numel(a) == tg_numel(b) &&
           memcmp(tg_data(a), tg_data(b), (size_t)tg_numel(a) * tg_dtype_size(tg_dtype_of(a))) == 0;
}

static const char *const state_keys[] = {"momentum_buffer", "sum",     "square_avg",
                                         "grad_avg",        "exp_avg", "exp_avg_sq",
                                         "max_exp_avg_sq"}; /* every optimizer's */
#define N_STATE_KEYS (int)(sizeof state_keys / sizeof state_keys[0])

/* Whether two optimizers over the problem's parameters (pa, pb) hold the
 * same lrs, step counts and state tensors, bit for bit. Returns how many
 * state tensors it compared, or -1. */
static int same_optimizer_state(const tg_optimizer *a, tg_tensor **pa, const tg_optimizer *b,
                                tg_tensor **pb) {
    int compared = 0;
    for (int g = 0; g < 2; g++)
        if (tg_optim_lr(a, g) != tg_optim_lr(b, g)) return -1;
    for (int i = 0; i < 2; i++) {
        if (tg_optim_step_count(a, pa[i]) != tg_optim_step_count(b, pb[i])) return -1;
        for (int k = 0; k < N_STATE_KEYS; k++) {
            tg_tensor *sa = tg_optim_state(a, pa[i], state_keys[k]);
            tg_tensor *sb = tg_optim_state(b, pb[i], state_keys[k]);
            if (!sa != !sb || (sa && !same_bytes(sa, sb))) return -1;
            compared += sa != NULL;
        }
    }
    return compared;
}

/* 20 straight steps; and 10 steps, save the parameters and the optimizer,
 * load both into new ones, 10 steps: the same bits. Resuming with the
 * parameters alone (cold) differs, so the optimizer state is what makes
 * them equal. */
static void resume_one(tg_optimizer *(*make)(tg_tensor **), tg_dtype dtype, const scratch *s) {
    tg_tensor *straight[2], *first[2], *resumed[2], *cold[2];
    problem_params(dtype, straight);
    problem_params(dtype, first);
    tg_optimizer *a = make(straight), *b = make(first);
    CHECK(a && b && train(a, straight, 0, 20) && train(b, first, 0, 10));
    CHECK(save_params(s->params, first) == 0 && tg_optim_save(b, s->state) == 0);
    tg_optim_free(b);

    problem_params(dtype, resumed);
    problem_params(dtype, cold);
    tg_optimizer *r = make(resumed), *c = make(cold);
    CHECK(r && c && load_params(s->params, resumed) == 0 && load_params(s->params, cold) == 0);
    tg_tensor *weight = tg_clone(tg_detach(resumed[0]));
    CHECK(tg_optim_load(r, s->state) == 0);
    CHECK(same_bytes(weight, resumed[0])); /* the parameters are not the optimizer's to load */
    CHECK(train(r, resumed, 10, 20) && train(c, cold, 10, 20));
    CHECK(same_bytes(straight[0], resumed[0]) && same_bytes(straight[1], resumed[1]));
    CHECK(same_optimizer_state(a, straight, r, resumed) >= 2);
    CHECK(tg_optim_step_count(r, resumed[0]) == 20 && tg_optim_step_count(r, resumed[1]) == 14);
    CHECK(!same_bytes(straight[0], cold[0]));
    tg_optim_free(a);
    tg_optim_free(r);
    tg_optim_free(c);
}

static void state_save_and_load_resume_bit_for_bit(void) {
    static const struct {
        const char *name;
        tg_optimizer *(*make)(tg_tensor **);
    } cases[] = {{"SGD nesterov", sgd_nesterov},
                 {"Adagrad", adagrad_decaying},
                 {"RMSprop centered momentum", rmsprop_centered},
                 {"Adam amsgrad", adam_amsgrad},
                 {"AdamW", adamw_plain}};
    static char context[64];
    scratch s;
    CHECK(scratch_make(&s));
    int n = (int)(sizeof cases / sizeof cases[0]);
    for (int k = 0; k < 2 * n && !tg_test_failed_now; k++) {
        tg_dtype dtype = k % 2 ? TG_F64 : TG_F32;
        snprintf(context, sizeof context, "%s %s", cases[k / 2].name, tg_dtype_name(dtype));
        tg_test_context = context;
        tg_pool *pool = tg_pool_push();
        resume_one(cases[k / 2].make, dtype, &s);
        tg_pool_pop(pool);
    }
    tg_test_context = NULL;
    CHECK(scratch_remove(&s));
}

/* A schedule resumes too: 20 straight steps of AdamW under each scheduler;
 * and 10 steps, save the parameters, the optimizer and the scheduler, make
 * new ones, load all three, 10 steps: the same bits, lrs and epoch. A
 * scheduler made anew but not loaded gives other lrs. */
static tg_lr_scheduler *make_schedule(int kind, tg_optimizer *opt) {
    if (kind == 0) return tg_step_lr(opt, 4, 0.5);
    if (kind == 1) return tg_cosine_annealing_lr(opt, 7, 0.001);
    return tg_warmup_cosine_lr(opt, 5, 18, 0.1);
}

static bool train_scheduled(tg_optimizer *opt, tg_lr_scheduler *s, tg_tensor **p, int from,
                            int to) {
    bool ok = true;
    for (int step = from; ok && step < to; step++)
        ok = train(opt, p, step, step + 1) && tg_lr_scheduler_step(s) == 0;
    return ok;
}

static void resume_schedule(int kind, const scratch *sc) {
    tg_tensor *straight[2], *first[2], *resumed[2], *unloaded[2];
    problem_params(TG_F32, straight);
    problem_params(TG_F32, first);
    tg_optimizer *a = adamw_plain(straight), *b = adamw_plain(first);
    tg_lr_scheduler *sa = make_schedule(kind, a), *sb = make_schedule(kind, b);
    CHECK(sa && sb && train_scheduled(a, sa, straight, 0, 20) &&
          train_scheduled(b, sb, first, 0, 10));
    CHECK(save_params(sc->params, first) == 0 && tg_optim_save(b, sc->state) == 0 &&
          tg_lr_scheduler_save(sb, sc->other) == 0);

    problem_params(TG_F32, resumed);
    problem_params(TG_F32, unloaded);
    tg_optimizer *r = adamw_plain(resumed), *u = adamw_plain(unloaded);
    tg_lr_scheduler *sr = make_schedule(kind, r), *su = make_schedule(kind, u);
    CHECK(sr && su && load_params(sc->params, resumed) == 0 &&
          load_params(sc->params, unloaded) == 0);
    CHECK(tg_optim_load(r, sc->state) == 0 && tg_lr_scheduler_load(sr, sc->other) == 0);
    CHECK(tg_optim_load(u, sc->state) == 0);
    CHECK(tg_lr_scheduler_epoch(sr) == 10 && tg_lr_scheduler_epoch(su) == 0);
    CHECK(train_scheduled(r, sr, resumed, 10, 20) && train_scheduled(u, su, unloaded, 10, 20));
    CHECK(tg_lr_scheduler_epoch(sr) == 20);
    CHECK(same_bytes(straight[0], resumed[0]) && same_bytes(straight[1], resumed[1]));
    CHECK(same_optimizer_state(a, straight, r, resumed) >= 2);
    CHECK(tg_optim_lr(u, 0) != tg_optim_lr(a, 0));
    tg_lr_scheduler *schedulers[] = {sa, sb, sr, su};
    tg_optimizer *optimizers[] = {a, b, r, u};
    for (int i = 0; i < 4; i++) tg_lr_scheduler_free(schedulers[i]), tg_optim_free(optimizers[i]);
}

static void schedules_save_and_load_resume_bit_for_bit(void) {
    static const char *const names[] = {"StepLR", "CosineAnnealingLR", "WarmupCosine"};
    scratch sc;
    CHECK(scratch_make(&sc));
    for (int kind = 0; kind < 3 && !tg_test_failed_now; kind++) {
        tg_test_context = names[kind];
        tg_pool *pool = tg_pool_push();
        resume_schedule(kind, &sc);
        tg_pool_pop(pool);
    }
    tg_test_context = NULL;
    CHECK(scratch_remove(&sc));
}

/* Another kind's file, an optimizer's, other groups: refused, nothing changed. */
static void schedule_load_refuses_other_files(void) {
    scratch sc;
    CHECK(scratch_make(&sc));
    tg_tensor *p[2];
    problem_params(TG_F64, p);
    tg_optimizer *opt = adamw_plain(p);
    tg_lr_scheduler *step = tg_step_lr(opt, 2, 0.5), *cosine = tg_cosine_annealing_lr(opt, 5, 0);
    CHECK(step && cosine && tg_lr_scheduler_step(step) == 0 && tg_lr_scheduler_step(step) == 0);
    CHECK(tg_lr_scheduler_save(step, sc.other) == 0 && tg_optim_save(opt, sc.state) == 0);
    CHECK(tg_lr_scheduler_load(cosine, sc.other) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "holds StepLR state, not CosineAnnealingLR");
    CHECK(tg_lr_scheduler_load(step, sc.state) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "holds no scheduler state (no 'scheduler.<name>' tensor)");
    tg_adam_options o = tg_adamw_defaults();
    tg_optimizer *one_group = tg_adamw_new(p, 1, &o);
    tg_lr_scheduler *small = tg_step_lr(one_group, 2, 0.5);
    CHECK(small && tg_lr_scheduler_load(small, sc.other) == -1);
    CHECK_ERROR(TG_ERR_VALUE, "holds state for 2 parameter groups, the scheduler has 1");
    CHECK(tg_lr_scheduler_epoch(cosine) == 0 && tg_lr_scheduler_epoch(small) == 0);
    CHECK(tg_lr_scheduler_save(NULL, sc.other) == -1 && tg_lr_scheduler_load(step, NULL) == -1);
    /* A file of the right names and shapes, with values no scheduler has. */
    static const struct {
        double epoch, base[2];
        const char *error;
    } bad[] = {{1.5, {0.1, 0.1}, "'last_epoch' is 1.5, not an epoch"},
               {-1, {0.1, 0.1}, "'last_epoch' is -1, not an epoch"},
               {3, {-1, 0.1}, "base_lrs[0] is -1, not a learning rate"},
               {3, {0.1, INFINITY}, "base_lrs[1] is inf, not a learning rate"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tg_named_tensor items[3] = {{"scheduler.StepLR", tg_scalar(2, TG_F64)},
                                    {"last_epoch", tg_scalar(bad[i].epoch, TG_F64)},
                                    {"base_lrs", tg_from_data(bad[i].base, TG_SHAPE(2), TG_F64)}};
        CHECK(tg_save_safetensors(sc.other, 3, items) == 0);
        CHECK(tg_lr_scheduler_load(step, sc.other) == -1);
        CHECK_ERROR(TG_ERR_VALUE, bad[i].error);
        CHECK(tg_lr_scheduler_epoch(step) == 2); /* unchanged */
    }
    tg_lr_scheduler_free(small);
    tg_lr_scheduler_free(step);
    tg_lr_scheduler_free(cosine);
    tg_optim_free(one_group);
    tg_optim_free(opt);
    CHECK(scratch_remove(&sc));
}

/* The file holds what tapegrad/optim.h lists, under those names. */
static void check_file_names(const scratch *s) {
    tg_tensor *p[2];
    problem_params(TG_F32, p);
    tg_optimizer *opt = adam_amsgrad(p);
    CHECK(opt && train(opt, p, 0, 4) && tg_optim_save(opt, s->state) == 0);
    tg_safetensors *f = tg_safetensors_open(s->state);
    CHECK(f != NULL);
    static const char *const names[] = {
        "optimizer.Adam",        "param_groups.0.lr",     "param_groups.0.params",
        "param_groups.1.lr",     "param_groups.1.params", "state.0.step",
        "state.0.exp_avg",       "state.0.exp_avg_sq",    "state.0.max_exp_avg_sq",
        "state.1.step",          "state.1.exp_avg",       "state.1.exp_avg_sq",
        "state.1.max_exp_avg_sq"};
    int n = (int)(sizeof names / sizeof names[0]);
    CHECK(tg_safetensors_count(f) == n);
    for (int i = 0; i < n; i++) CHECK(tg_safetensors_get(f, names[i]) != NULL);
    tg_tensor *step = tg_safetensors_get(f, "state.1.step"); /* b skipped step 2 */
    CHECK(tg_ndim(step) == 0 && tg_dtype_of(step) == TG_F64 && tg_item(step) == 3);
    CHECK(tg_item(tg_safetensors_get(f, "state.0.step")) == 4);
    CHECK(tg_item(tg_safetensors_get(f, "optimizer.Adam")) == 2);
    CHECK(tg_item(tg_safetensors_get(f, "param_groups.1.lr")) == 0.01);
    CHECK(tg_item(tg_safetensors_get(f, "param_groups.1.params")) == 1);
    CHECK(same_bytes(tg_safetensors_get(f, "state.1.exp_avg_sq"),
                     tg_optim_state(opt, p[1], "exp_avg_sq")));
    tg_safetensors_close(f);
    tg_optim_free(opt);
}

static void state_file_holds_pytorchs_names(void) {
    scratch s;
    CHECK(scratch_make(&s));
    check_file_names(&s);
    CHECK(scratch_remove(&s));
}

/* What a load may change, flattened: the lrs, step counts and states of an
 * optimizer over the problem's parameters. Returns the count (at most 64). */
static int fingerprint(const tg_optimizer *opt, tg_tensor **p, double *out) {
    int n = 0;
    for (int g = 0; g < 2; g++) out[n++] = tg_optim_lr(opt, g);
    for (int i = 0; i < 2; i++) {
        out[n++] = (double)tg_optim_step_count(opt, p[i]);
        for (int k = 0; k < N_STATE_KEYS; k++) {
            tg_tensor *t = tg_optim_state(opt, p[i], state_keys[k]);
            if (t && tg_to_doubles(t, out + n) == 0) n += (int)tg_numel(t);
        }
    }
    return n;
}

/* Saves opt's state and frees opt; -1 when opt is NULL or the save fails. */
static int save_and_free(tg_optimizer *opt, const char *path) {
    int rc = opt ? tg_optim_save(opt, path) : -1;
    tg_optim_free(opt);
    return rc;
}

/* Copies the safetensors file from into to, with the tensor name replaced
 * by t (or added, when from has no such tensor). */
static int rewrite(const char *from, const char *to, const char *name, tg_tensor *t) {
    tg_safetensors *f = tg_safetensors_open(from);
    tg_named_tensor items[32]; /* the problem's state files have at most 13 */
    int n = tg_safetensors_count(f), rc = -1;
    if (f && n < 32) {
        bool found = false;
        for (int i = 0; i < n; i++) {
            items[i].name = tg_safetensors_name(f, i);
            bool replaced = strcmp(items[i].name, name) == 0;
            items[i].tensor = replaced ? t : tg_safetensors_get(f, items[i].name);
            found = found || replaced;
        }
        if (!found) items[n++] = (tg_named_tensor){name, t};
        rc = tg_save_safetensors(to, n, items);
    }
    tg_safetensors_close(f);
    return rc;
}

/* The load into target fails with this error and changes nothing. */
#define CHECK_LOAD_FAILS(path, status, text)                           \
    do {                                                               \
        CHECK(tg_optim_load(target, (path)) == -1);                    \
        CHECK_ERROR((status), (text));                                 \
        CHECK(fingerprint(target, p, after) == n &&                    \
              memcmp(before, after, sizeof(double) * (size_t)n) == 0); \
    } while (0)

static void check_bad_files(const scratch *s) {
    tg_tensor *p[2], *q[2], *r[2], *r64[2];
    problem_params(TG_F32, p);
    problem_params(TG_F32, q);
    problem_params(TG_F32, r);
    problem_params(TG_F64, r64);
    tg_optimizer *target = adamw_amsgrad(p), *source = adamw_amsgrad(q);
    CHECK(target && source && train(target, p, 0, 2) && train(source, q, 0, 5));
    CHECK(tg_optim_save(source, s->state) == 0);
    double before[64], after[64];
    int n = fingerprint(target, p, before);
    char text[256];

    /* Another optimizer's file, even one with the same state names. */
    CHECK(save_and_free(sgd_nesterov(r), s->other) == 0);
    snprintf(text, sizeof text, "optim_load: %s holds SGD state, not AdamW", s->other);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE, text);
    CHECK(save_and_free(adam_amsgrad(r), s->other) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE, "holds Adam state, not AdamW");
    /* A model's file. */
    CHECK(save_params(s->params, p) == 0);
    snprintf(text, sizeof text, "optim_load: %s holds no optimizer state", s->params);
    CHECK_LOAD_FAILS(s->params, TG_ERR_VALUE, text);

    /* The state of other parameters, of other options, of other groups. */
    tg_tensor *three[3] = {r[0], r[1], tg_requires_grad_(tg_zeros(TG_SHAPE(4), TG_F32), true)};
    CHECK(save_and_free(tg_adamw_new(three, 3, NULL), s->other) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE, "holds state for 3 parameters, the optimizer has 2");
    CHECK(save_and_free(adamw_amsgrad(r64), s->other) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_SHAPE,
                     "tensor 'state.0.exp_avg' is float64 (2, 3) in the file, float32 (2, 3) here");
    tg_tensor *transposed[2] = {tg_requires_grad_(tg_zeros(TG_SHAPE(3, 2), TG_F32), true), r[1]};
    CHECK(save_and_free(adamw_amsgrad(transposed), s->other) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_SHAPE,
                     "tensor 'state.0.exp_avg' is float32 (3, 2) in the file, float32 (2, 3) here");
    CHECK(save_and_free(adamw_plain(r), s->other) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE, "has no tensor 'state.0.max_exp_avg_sq'");
    CHECK(save_and_free(tg_adamw_new(r, 2, NULL), s->other) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_SHAPE,
                     "'param_groups.0.params' is float64 (2,) in the file, float64 (1,) here");

    /* Bad values, an extra tensor, a scalar of the wrong dtype. */
    CHECK(rewrite(s->state, s->other, "state.1.step", tg_scalar(2.5, TG_F64)) == 0);
    snprintf(text, sizeof text, "optim_load: %s: 'state.1.step' is 2.5, not a step count",
             s->other);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE, text);
    CHECK(rewrite(s->state, s->other, "param_groups.0.lr", tg_scalar(-1, TG_F64)) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE, "'param_groups.0.lr' is -1, not a learning rate >= 0");
    tg_tensor *wrong_members = tg_zeros(TG_SHAPE(1), TG_F64);
    CHECK(rewrite(s->state, s->other, "param_groups.1.params", wrong_members) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE,
                     "'param_groups.1.params' lists other parameters than group 1 has");
    tg_tensor *extra = tg_zeros(TG_SHAPE(2, 3), TG_F32);
    CHECK(rewrite(s->state, s->other, "state.0.momentum_buffer", extra) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE,
                     "holds an unexpected tensor 'state.0.momentum_buffer'");
    CHECK(rewrite(s->state, s->other, "state.0.step", tg_scalar(1, TG_F32)) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_SHAPE, "tensor 'state.0.step' is float32 () in the file");

    /* A missing file, a truncated one. */
    snprintf(text, sizeof text, "%s/missing.safetensors", s->dir);
    CHECK_LOAD_FAILS(text, TG_ERR_IO, "No such file or directory");
    struct stat st;
    CHECK(tg_optim_save(source, s->other) == 0);
    CHECK(stat(s->other, &st) == 0 && truncate(s->other, st.st_size - 4) == 0);
    CHECK_LOAD_FAILS(s->other, TG_ERR_VALUE, "has data_offsets outside the");

    /* NULL arguments, and a save that cannot write. */
    CHECK_LOAD_FAILS(NULL, TG_ERR_NULL, "optim_load: argument is NULL");
    CHECK(tg_optim_load(NULL, s->state) == -1);
    CHECK_ERROR(TG_ERR_NULL, "optim_load: argument is NULL");
    CHECK(tg_optim_save(NULL, s->other) == -1);
    CHECK_ERROR(TG_ERR_NULL, "optim_save: argument is NULL");
    CHECK(tg_optim_save(target, NULL) == -1);
    CHECK_ERROR(TG_ERR_NULL, "optim_save: argument is NULL");
    snprintf(text, sizeof text, "%s/no/such/folder", s->dir);
    CHECK(tg_optim_save(target, text) == -1);
    CHECK_ERROR(TG_ERR_IO, "save_safetensors: cannot write");

    /* After all that, the good file loads. */
    CHECK(tg_optim_load(target, s->state) == 0);
    CHECK(same_optimizer_state(source, q, target, p) == 6);
    tg_optim_free(target);
    tg_optim_free(source);
}
#undef CHECK_LOAD_FAILS

static void state_load_refuses_bad_files(void) {
    scratch s;
    CHECK(scratch_make(&s));
    check_bad_files(&s);
    CHECK(scratch_remove(&s));
}

/* A load that runs out of memory at any of its allocations fails with
 * nothing changed and nothing leaked. */
static void check_load_out_of_memory(const scratch *s) {
    tg_tensor *p[2], *q[2];
    problem_params(TG_F32, p);
    problem_params(TG_F32, q);
    tg_optimizer *target = adamw_amsgrad(p), *source = adamw_amsgrad(q);
    CHECK(target && source && train(target, p, 0, 2) && train(source, q, 0, 5));
    CHECK(tg_optim_save(source, s->state) == 0);
    /* Count the allocations of a load into source, after a first load that
     * grows the pool's array, so that every later load makes as many. */
    CHECK(tg_optim_load(source, s->state) == 0);
    double before[64], after[64];
    int n = fingerprint(target, p, before);
    int64_t live = tg_live_tensors();
    tg_test_failing f = {.countdown = -1};
    tg_test_use_failing(&f);
    bool measured = tg_optim_load(source, s->state) == 0;
    long needed = f.made;
    int wrong = 0;
    for (long k = 0; measured && k < needed; k++) {
        f = (tg_test_failing){.countdown = k};
        tg_test_use_failing(&f); /* empties the caches of freed blocks: each load starts alike */
        tg_clear_error();
        if (tg_optim_load(target, s->state) != -1 || tg_last_status() != TG_ERR_NOMEM) wrong++;
        if (fingerprint(target, p, after) != n ||
            memcmp(before, after, sizeof(double) * (size_t)n) != 0)
            wrong++;
        if (tg_live_tensors() != live) wrong++;
    }
    tg_set_allocator(NULL);
    tg_clear_error();
    CHECK(measured && needed >= 4);
    CHECK(wrong == 0);
    tg_optim_free(target);
    tg_optim_free(source);
}

static void state_load_out_of_memory_changes_nothing(void) {
    scratch s;
    CHECK(scratch_make(&s));
    check_load_out_of_memory(&s);
    CHECK(scratch_remove(&s));
}

TG_TEST_MAIN(TG_CASE(document_sgd_step_gives_0_55), TG_CASE(document_momentum_table),
             TG_CASE(matches_pytorch_trajectories), TG_CASE(groups_have_their_own_hyper_parameters),
             TG_CASE(parameter_without_grad_is_skipped), TG_CASE(lazy_zero_grad_trains_as_eager),
             TG_CASE(lazy_zero_grad_forgets_nan), TG_CASE(step_bumps_the_version_counter),
             TG_CASE(strided_parameter_matches_contiguous), TG_CASE(optimizer_keeps_its_parameters),
             TG_CASE(state_lookup), TG_CASE(defaults_are_pytorchs),
             TG_CASE(bad_hyper_parameters_are_refused), TG_CASE(bad_parameters_are_refused),
             TG_CASE(out_of_memory_at_every_allocation), TG_CASE(schedule_errors),
             TG_CASE(state_save_and_load_resume_bit_for_bit),
             TG_CASE(schedules_save_and_load_resume_bit_for_bit),
             TG_CASE(schedule_load_refuses_other_files), TG_CASE(state_file_holds_pytorchs_names),
             TG_CASE(state_load_refuses_bad_files),
             TG_CASE(state_load_out_of_memory_changes_nothing))
