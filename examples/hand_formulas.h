/* examples/hand_formulas.h - the optimizers' update rules and two GELU
 * formulas as textbooks write them, worked by hand in double precision, one
 * coordinate at a time, with none of tapegrad's code: the column the
 * library's results are set against.
 *
 * examples/optimizers.c and examples/activations.c print them next to
 * autograd and torch.optim's rules; the teaching page's glue (web/tg_web.c)
 * draws them next to the same. The header lives here, with the programs a
 * learner reads, because the formulas are what those programs teach: the
 * page is one more program built on them, so web/ includes examples/ and
 * never the other way round (the examples build and read without web/).
 *
 * Two of the formulas in circulation are wrong and are kept so on purpose,
 * to be shown wrong (docs/ERRATA.md): Adam with the squared-gradient
 * average uncorrected and eps inside the square root (item 6), and a GELU
 * derivative (item 4). AdaGrad and RMSProp put eps inside the square root
 * too, as written; PyTorch adds it outside, which with eps = 1e-10 or 1e-8
 * does not show. */
#ifndef TAPEGRAD_EXAMPLES_HAND_FORMULAS_H
#define TAPEGRAD_EXAMPLES_HAND_FORMULAS_H

#include <math.h>

/* The rules, in the order the page's menu numbers them. */
typedef enum hand_rule {
    HAND_SGD,      /* x -= lr g */
    HAND_MOMENTUM, /* v = momentum v + lr g ; x -= v   (v0 = 0) */
    HAND_ADAGRAD,  /* s += g g ; x -= lr / sqrt(s + eps) g */
    HAND_RMSPROP,  /* s = alpha s + (1 - alpha) g g ; x -= lr / sqrt(s + eps) g */
    HAND_ADAM,     /* v = b1 v + (1 - b1) g ; s = b2 s + (1 - b2) g g ; x -= step */
    HAND_ADAMW,    /* x_t = x_{t-1} - step - lr weight_decay x_{t-1} */
    HAND_RULES
} hand_rule;

/* Adam's step from v_hat = v / (1 - b1^t) and s: */
typedef enum hand_adam_form {
    HAND_ADAM_CORRECTED, /* lr v_hat / (sqrt(s_hat) + eps), s_hat = s / (1 - b2^t): torch.optim's */
    HAND_ADAM_AS_WRITTEN, /* lr / sqrt(s + eps) v_hat: s uncorrected, often copied so */
} hand_adam_form;

typedef struct hand_hyper {
    double lr;
    double beta1; /* SGD's momentum, RMSProp's alpha, Adam's b1 */
    double beta2; /* Adam's b2 */
    double eps;
    double weight_decay; /* AdamW's */
    hand_adam_form adam;
} hand_hyper;

/* One coordinate: its value, what the rule keeps (v, s) and the step count t. */
typedef struct hand_state {
    double x, v, s;
    int t;
} hand_state;

/* Adam's step for gradient g, counting t. */
static inline double hand_adam_step(const hand_hyper *h, hand_state *st, double g) {
    st->t++;
    st->v = h->beta1 * st->v + (1 - h->beta1) * g;
    st->s = h->beta2 * st->s + (1 - h->beta2) * g * g;
    double v_hat = st->v / (1 - pow(h->beta1, st->t));
    if (h->adam == HAND_ADAM_AS_WRITTEN) return h->lr / sqrt(st->s + h->eps) * v_hat;
    double s_hat = st->s / (1 - pow(h->beta2, st->t));
    return h->lr * v_hat / (sqrt(s_hat) + h->eps);
}

/* Moves st->x by one step of rule with gradient g. */
static inline void hand_update(hand_rule rule, const hand_hyper *h, hand_state *st, double g) {
    switch (rule) {
    case HAND_SGD: st->x -= h->lr * g; break;
    case HAND_MOMENTUM:
        st->v = h->beta1 * st->v + h->lr * g;
        st->x -= st->v;
        break;
    case HAND_ADAGRAD:
        st->s += g * g;
        st->x -= h->lr / sqrt(st->s + h->eps) * g;
        break;
    case HAND_RMSPROP:
        st->s = h->beta1 * st->s + (1 - h->beta1) * g * g;
        st->x -= h->lr / sqrt(st->s + h->eps) * g;
        break;
    case HAND_ADAM: st->x -= hand_adam_step(h, st, g); break;
    default: {
        double x = st->x;
        st->x = x - hand_adam_step(h, st, g) - h->lr * h->weight_decay * x;
    }
    }
}

/* A GELU derivative in circulation, 0.5 [tanh(u) + x (1 - GELU(x)^2)] with
 * u = sqrt(2 / pi) (x + 0.044715 x^3), which is wrong (docs/ERRATA.md,
 * item 4): the right one is Phi(x) + x phi(x). */
static inline double hand_gelu_derivative_wrong(double x) {
    const double pi = 3.14159265358979323846;
    double u = sqrt(2 / pi) * (x + 0.044715 * x * x * x);
    double gelu = 0.5 * x * (1 + tanh(u));
    return 0.5 * (tanh(u) + x * (1 - gelu * gelu));
}

/* A coarse GELU, 0.5 x (1 + tanh(0.797885 x)), without the cubic term
 * (docs/ERRATA.md, item 5). */
static inline double hand_gelu_coarse(double x) { return 0.5 * x * (1 + tanh(0.797885 * x)); }

#endif
