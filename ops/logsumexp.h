/* ops/logsumexp.h - the statistics of a softmax over one strided slice,
 * shared by softmax and log_softmax (ops/reduce.c) and cross_entropy
 * (ops/loss.c). */
#ifndef TAPEGRAD_LOGSUMEXP_H
#define TAPEGRAD_LOGSUMEXP_H

#include <math.h>
#include <stdint.h>

/* log(sum(exp(x))) = max + log(sum). The largest element is subtracted
 * before exp so that nothing overflows (each term is at most 1) and the sum
 * is at least 1; it accumulates in double. */
typedef struct tg__softmax_stats {
    double max, sum;
} tg__softmax_stats;

#define TG_SOFTMAX_STATS(name, T)                                                      \
    static inline tg__softmax_stats name(const T *x, int64_t stride, int64_t n) {      \
        tg__softmax_stats st = {-INFINITY, 0};                                         \
        for (int64_t i = 0; i < n; i++)                                                \
            if (x[i * stride] > st.max) st.max = x[i * stride];                        \
        for (int64_t i = 0; i < n; i++) st.sum += exp((double)x[i * stride] - st.max); \
        return st;                                                                     \
    }
TG_SOFTMAX_STATS(tg__softmax_stats_f32, float)
TG_SOFTMAX_STATS(tg__softmax_stats_f64, double)

#endif
