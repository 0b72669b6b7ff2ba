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

#include "hand_formulas.h"

#define STEPS 5
#define LR 0.1

/* The hand computations (hand_formulas.h) with this file's settings:
 * momentum and RMSProp's decay 0.9, Adam's betas 0.9 and 0.999, AdamW's
 * weight decay 0.01; eps 1e-10 for AdaGrad, 1e-8 elsewhere. Adam's hand
 * column is torch.optim's bias-corrected step. */
static hand_hyper hyper_for(hand_rule rule) {
    return (hand_hyper){.lr = LR,
                        .beta1 = 0.9,
                        .beta2 = 0.999,
                        .eps = rule == HAND_ADAGRAD ? 1e-10 : 1e-8,
                        .weight_decay = 0.01,
                        .adam = HAND_ADAM_CORRECTED};
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
    hand_rule by_hand;
} run;

static const run runs[] = {
    {"SGD(lr=0.1):  x -= lr g", make_sgd, HAND_SGD},
    {"SGD(lr=0.1, momentum=0.9):  v = 0.9 v + lr g ; x -= v", make_momentum, HAND_MOMENTUM},
    {"Adagrad(lr=0.1):  s += g^2 ; x -= lr / sqrt(s + eps) g", make_adagrad, HAND_ADAGRAD},
    {"RMSprop(lr=0.1, alpha=0.9):  s = 0.9 s + 0.1 g^2 ; x -= lr / sqrt(s + eps) g", make_rmsprop,
     HAND_RMSPROP},
    {"Adam(lr=0.1):  x -= lr v_hat / (sqrt(s_hat) + eps)", make_adam, HAND_ADAM},
    {"AdamW(lr=0.1, weight_decay=0.01):  x -= g' + lr wd x", make_adamw, HAND_ADAMW},
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
    hand_hyper hyper = hyper_for(r->by_hand);
    hand_state h = {.x = 1};
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
            hand_update(r->by_hand, &hyper, &h, 1.5 * (h.x + 2)); /* the hand derivative */
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
    hand_hyper hyper = hyper_for(HAND_ADAM);
    hand_state corrected = {.x = 1}, uncorrected = {.x = 1};
    hand_update(HAND_ADAM, &hyper, &corrected, 4.5);
    hyper.adam = HAND_ADAM_AS_WRITTEN;
    hand_update(HAND_ADAM, &hyper, &uncorrected, 4.5);
    printf("\nAdam's first step from x = 1 with g = 4.5, lr = 0.1 (docs/ERRATA.md, item 6):\n");
    printf("  bias-corrected, x -= lr v_hat / (sqrt(s_hat) + eps)   (torch.optim.Adam): x = %.4g\n",
           corrected.x);
    printf("  as often copied, x -= lr / sqrt(s_t + eps) v_hat, uncorrected s_t:       x = %.4g\n",
           uncorrected.x);
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
