/* tapegrad/error.h - how failures are reported.
 *
 * Nothing in tapegrad aborts or prints on bad input. A failing call returns
 * NULL (functions returning a tensor) or -1 (functions returning int) and
 * records a code and a message naming the operation and the shapes involved:
 *
 *     "mul: shapes (2, 3) and (4,) cannot be broadcast"
 *
 * The record is per thread and stays until the next failure or
 * tg_clear_error(). A call given a NULL tensor fails without replacing a
 * pending message, so after a chain of calls the message names the first
 * failure in it.
 *
 * The one exception: memory running out inside BLIS (the matrix products
 * it runs, see tg_matmul_backend) or libgomp (the team of threads an op
 * starts when tg_set_num_threads is above 1). Both libraries end the
 * process with a message on stderr when an allocation of their own fails
 * (libgomp: "Out of memory allocating ..."); tapegrad cannot change them.
 */
#ifndef TAPEGRAD_ERROR_H
#define TAPEGRAD_ERROR_H

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tg_status {
    TG_OK = 0,
    TG_ERR_NULL,  /* a required argument was NULL */
    TG_ERR_SHAPE, /* shapes that do not fit together */
    TG_ERR_DTYPE, /* dtypes that differ, or a dtype the call does not take */
    TG_ERR_VALUE, /* an argument out of its range (dim, p, lr, ...) */
    TG_ERR_NOMEM, /* an allocation failed */
    TG_ERR_GRAPH, /* autograd misuse: no grad_fn, freed graph, in-place */
    TG_ERR_IO,    /* a file could not be read or written */
    TG_ERR_DIST,  /* data-parallel training (tapegrad/dist.h): no MPI, not started, ranks differ */
} tg_status;

/* The message of the pending failure on this thread, or "" when none. */
TG_API const char *tg_last_error(void);
/* Its code, or TG_OK when none. */
TG_API tg_status tg_last_status(void);
TG_API void tg_clear_error(void);
/* Records a failure as tapegrad's own functions do, for code built on
 * tapegrad (a module's constructor or forward, say): the code and a
 * printf-style message, which by custom starts with what failed ("MyBlock:
 * dim 0 must be positive"), which may wrap the pending one (a "%s" given
 * tg_last_error()). Messages are cut at 511 bytes. TG_OK clears
 * the record, as tg_clear_error; a NULL format records no message. */
TG_API void tg_set_error(tg_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
