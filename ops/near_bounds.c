/* ops/near_bounds.c - measures the bounds that activation_internal.h states
 * for the float32 fast path of sigmoid and SiLU: over every float32 x with
 * |x| <= ACT_NEAR_MAX, the largest difference between the fast path's and
 * the formula's sigmoid (relative), silu (relative), silu' (absolute,
 * over act_sigmoid_near(x) (1 + |x|)) and sigmoid' (relative), and how
 * often a float32 silu is left to the formula. Not a test (it takes a
 * minute): run it after changing act_exp_near: the stated bounds must be
 * at least four times the measured ones.
 * `meson compile -C build near_bounds && build/ops/near_bounds` */
#include <stdio.h>

#include "activation_internal.h"

int main(void) {
    float top = (float)ACT_NEAR_MAX;
    uint32_t top_bits;
    memcpy(&top_bits, &top, sizeof top_bits);
    double sigmoid = 0, silu = 0, silu_d = 0, sigmoid_d = 0;
    int64_t doubted = 0, doubted_normal = 0, n = 0;
    for (uint32_t sign = 0; sign <= 1; sign++) {
        TG_SIMD
        for (uint32_t bits = 0; bits <= top_bits; bits++) {
            uint32_t b = bits | sign << 31;
            float xf;
            memcpy(&xf, &b, sizeof xf);
            double x = xf, s = act_sigmoid(x), s_near = act_sigmoid_near(x);
            tg__pair d = act_silu_d_of(x, s), d_near = act_silu_d_of(x, s_near);
            double e_sigmoid = fabs(s_near - s) / s;
            double e_silu = x == 0 ? 0 : fabs(d_near.first - d.first) / fabs(d.first);
            double e_silu_d = fabs(d_near.second - d.second) / (s_near * (1 + fabs(x)));
            double sd = act_sigmoid_d(x).second;
            double e_sigmoid_d = fabs(act_sigmoid_d_near(x).second - sd) / sd;
            sigmoid = sigmoid > e_sigmoid ? sigmoid : e_sigmoid;
            sigmoid_d = sigmoid_d > e_sigmoid_d ? sigmoid_d : e_sigmoid_d;
            silu = silu > e_silu ? silu : e_silu;
            silu_d = silu_d > e_silu_d ? silu_d : e_silu_d;
            bool doubt = !tg__near_rel(d_near.first, ACT_SIGMOID_NEAR).sure;
            doubted += doubt;
            doubted_normal += doubt & (fabs(x) >= 0x1p-126);
        }
        n += (int64_t)top_bits + 1;
    }
    printf("over %lld float32 x with |x| <= %g, fast path against formula:\n", (long long)n,
           ACT_NEAR_MAX);
    printf("  sigmoid  %.3g relative (2^%.2f), stated %.3g\n", sigmoid, log2(sigmoid),
           ACT_SIGMOID_NEAR);
    printf("  silu     %.3g relative (2^%.2f), stated %.3g\n", silu, log2(silu), ACT_SIGMOID_NEAR);
    printf("  silu'    %.3g of s (1 + |x|) (2^%.2f), stated %.3g\n", silu_d, log2(silu_d),
           ACT_SILU_D_NEAR);
    printf("  sigmoid' %.3g relative (2^%.2f), stated %.3g\n", sigmoid_d, log2(sigmoid_d),
           ACT_SIGMOID_D_NEAR);
    printf("  silu rounding left to the formula: %lld (%.3g), %lld of them at normal x\n",
           (long long)doubted, (double)doubted / (double)n, (long long)doubted_normal);
    return sigmoid <= ACT_SIGMOID_NEAR / 4 && silu <= ACT_SIGMOID_NEAR / 4 &&
                   silu_d <= ACT_SILU_D_NEAR / 4 && sigmoid_d <= ACT_SIGMOID_D_NEAR / 4
               ? 0
               : 1;
}
