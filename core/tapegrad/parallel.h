/* tapegrad/parallel.h - how many threads tapegrad computes with.
 *
 * One count serves both kinds of parallel work: the matrix products
 * (matmul, linear and their gradients, by BLIS or by tapegrad's own) and
 * tapegrad's own elementwise kernels (activations, losses, gradient
 * accumulation, optimizer updates), which split a tensor among the threads
 * only when it is large enough for that to pay. Results do not depend on
 * the count: no kernel splits a sum.
 *
 * The count starts as the environment variable TG_NUM_THREADS (a positive
 * integer), read on first use, or 1 when it is unset; tapegrad then also
 * sets BLIS's count. With TG_NUM_THREADS unset and tg_set_num_threads never
 * called, BLIS keeps its own setting (BLIS_NUM_THREADS). A build without
 * OpenMP (-Dopenmp=disabled, or a compiler without it) keeps the count but
 * runs tapegrad's own kernels on one thread. */
#ifndef TAPEGRAD_PARALLEL_H
#define TAPEGRAD_PARALLEL_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the thread count for the whole process (1 = no threads). Returns 0,
 * or -1 (an error recorded, the count unchanged) when n < 1. */
TG_API int tg_set_num_threads(int n);
/* The current count. */
TG_API int tg_get_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
