/* examples/optimizers.c - six optimizers on the worked example's loss, each
 * next to the same update worked by hand from the textbook formulas:
 *
 *     x = ones(2, 2); loss = mean(3 (x + 2)^2); d loss / d x = 1.5 (x + 2)
 *
 * Every element of x follows the same path, so one number per step tells
 * the story. tapegrad computes in float32 through autograd and
 * torch.optim's rules; the hand column is the formula in double precision.
 * They agree to the digits printed. A frequently copied Adam formula without
 * bias correction (docs/ERRATA.md, item 6) is shown at the end with both
 * numbers.
 */
#include <math.h>
#include <stdio.h>

#include <tapegrad/tapegrad.h>

#define STEPS 5
#define LR 0.1

/* The hand computation: x and whatever the formula keeps (v, s), and t. */
typedef struct hand {
    double x, v, s;
    int t;
} hand;

/* SGD: x -= lr g */
static void sgd_by_hand(hand *h, double g) { h->x -= LR * g; }

/* Momentum: v = gamma v + lr g ; x -= v   (gamma 0.9, v0 = 0) */
static void momentum_by_hand(hand *h, double g) {
    h->v = 0.9 * h->v + LR * g;
    h->x -= h->v;
}

/* AdaGrad: s += g g ; x -= lr / sqrt(s + eps) g. Written so, eps is inside
 * the root; PyTorch adds it outside: with eps = 1e-10 it does not show. */
static void adagrad_by_hand(hand *h, double g) {
    h->s += g * g;
    h->x -= LR / sqrt(h->s + 1e-10) * g;
}

/* RMSProp: s = gamma s + (1 - gamma) g g ; x -= lr / sqrt(s + eps) g,
 * with gamma (PyTorch's alpha) = 0.9. */
static void rmsprop_by_hand(hand *h, double g) {
    h->s = 0.9 * h->s + 0.1 * g * g;
    h->x -= LR / sqrt(h->s + 1e-8) * g;
}

/* Adam, bias-corrected: v = b1 v + (1 - b1) g ; s = b2 s + (1 - b2) g g ;
 * x -= lr v_hat / (sqrt(s_hat) + eps). Returns the step taken. */
static double adam_step(hand *h, double g) {
    h->t++;
    h->v = 0.9 * h->v + 0.1 * g;
    h->s = 0.999 * h->s + 0.001 * g * g;
    double v_hat = h->v / (1 - pow(0.9, h->t)), s_hat = h->s / (1 - pow(0.999, h->t));
    return LR * v_hat / (sqrt(s_hat) + 1e-8);
}

static void adam_by_hand(hand *h, double g) { h->x -= adam_step(h, g); }

/* AdamW: x_t = x_{t-1} - g'_t - lr lambda x_{t-1}   (lambda 0.01) */
static void adamw_by_hand(hand *h, double g) {
    double x = h->x;
    h->x = x - adam_step(h, g) - LR * 0.01 * x;
}

static tg_optimizer *make_sgd(tg_tensor *x) {
    tg_sgd_options o = tg_sgd_defaults(LR);
    return tg_sgd_new(&x, 1, &o);
}
static tg_optimizer *make_momentum(tg_tensor *x) {
    tg_sgd_options o = tg_sgd_defaults(LR);
    o.momentum = 0.9;
    return tg_sgd_new(&x, 1, &o);
}
static tg_optimizer *make_adagrad(tg_tensor *x) {
    tg_adagrad_options o = tg_adagrad_defaults();
    o.lr = LR;
    return tg_adagrad_new(&x, 1, &o);
}
static tg_optimizer *make_rmsprop(tg_tensor *x) {
    tg_rmsprop_options o = tg_rmsprop_defaults();
    o.lr = LR, o.alpha = 0.9;
    return tg_rmsprop_new(&x, 1, &o);
}
static tg_optimizer *make_adam(tg_tensor *x) {
    tg_adam_options o = tg_adam_defaults();
    o.lr = LR;
    return tg_adam_new(&x, 1, &o);
}
static tg_optimizer *make_adamw(tg_tensor *x) {
    tg_adam_options o = tg_adamw_defaults(); /* weight_decay 0.01 */
    o.lr = LR;
    return tg_adamw_new(&x, 1, &o);
}

typedef struct run {
    const char *title;
    tg_optimizer *(*make)(tg_tensor *x);
    void (*by_hand)(hand *h, double g);
} run;

static const run runs[] = {
    {"SGD(lr=0.1):  x -= lr g", make_sgd, sgd_by_hand},
    {"SGD(lr=0.1, momentum=0.9):  v = 0.9 v + lr g ; x -= v", make_momentum, momentum_by_hand},
    {"Adagrad(lr=0.1):  s += g^2 ; x -= lr / sqrt(s + eps) g", make_adagrad, adagrad_by_hand},
    {"RMSprop(lr=0.1, alpha=0.9):  s = 0.9 s + 0.1 g^2 ; x -= lr / sqrt(s + eps) g", make_rmsprop,
     rmsprop_by_hand},
    {"Adam(lr=0.1):  x -= lr v_hat / (sqrt(s_hat) + eps)", make_adam, adam_by_hand},
    {"AdamW(lr=0.1, weight_decay=0.01):  x -= g' + lr wd x", make_adamw, adamw_by_hand},
};

static double first(const tg_tensor *t) { return tg_get(t, (const int64_t[]){0, 0}); }

/* Runs one optimizer for STEPS steps next to its hand computation. */
static int show(const run *r) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true);
    tg_optimizer *opt = x ? r->make(x) : NULL;
    if (!opt) {
        fprintf(stderr, "%s: %s\n", r->title, tg_last_error());
        tg_release(x);
        return -1;
    }
    printf("\n%s\n", r->title);
    printf("step      loss      grad  x tapegrad  x by hand\n");
    hand h = {.x = 1};
    int rc = 0;
    for (int step = 1; step <= STEPS && rc == 0; step++) {
        tg_pool *pool = tg_pool_push();
        tg_optim_zero_grad(opt, TG_GRAD_TO_ZERO);
        tg_tensor *y = tg_add_scalar(x, 2);
        tg_tensor *loss = tg_mean(tg_mul_scalar(tg_mul(y, y), 3));
        if (!loss || tg_backward(loss, NULL) != 0 || tg_optim_step(opt) != 0) {
            fprintf(stderr, "%s: %s\n", r->title, tg_last_error());
            rc = -1;
        } else {
            double g = first(tg_grad(x));
            r->by_hand(&h, 1.5 * (h.x + 2)); /* the hand derivative */
            printf("%4d %9.6g %9.6g %11.6f %10.6f\n", step, tg_item(loss), g, first(x), h.x);
        }
        tg_pool_pop(pool);
    }
    tg_optim_free(opt);
    tg_release(x);
    return rc;
}

/* docs/ERRATA.md, item 6: Adam's step written as lr / sqrt(s_t + eps) *
 * v_hat, with the uncorrected s_t. */
static void adam_errata(void) {
    double g = 4.5, lr = LR, eps = 1e-8;
    double v = 0.1 * g, s = 0.001 * g * g; /* step 1 from v = s = 0 */
    double v_hat = v / (1 - 0.9), s_hat = s / (1 - 0.999);
    double corrected = 1 - lr * v_hat / (sqrt(s_hat) + eps);
    double uncorrected = 1 - lr / sqrt(s + eps) * v_hat;
    printf("\nAdam's first step from x = 1 with g = 4.5, lr = 0.1 (docs/ERRATA.md, item 6):\n");
    printf("  bias-corrected, x -= lr v_hat / (sqrt(s_hat) + eps)   (torch.optim.Adam): x = %.4g\n",
           corrected);
    printf("  as often copied, x -= lr / sqrt(s_t + eps) v_hat, uncorrected s_t:       x = %.4g\n",
           uncorrected);
    printf("  Without correcting s_t, the first step is sqrt(1 / (1 - 0.999)) = %.1f times "
           "too long.\n",
           sqrt(1 / (1 - 0.999)));
}

int main(void) {
    printf("loss = mean(3 (x + 2)^2) from x = ones(2, 2); by hand, d loss/dx = 1.5 (x + 2)\n");
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        if (show(&runs[i]) != 0) return 1;
    adam_errata();
    return 0;
}
