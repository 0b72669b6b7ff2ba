/* tapegrad/grad_report.h - gradients worked out by hand, checked against
 * autograd's, as a teaching report.
 *
 * A student computes d loss / d W by hand (with tapegrad's ops, grad mode
 * off, or any other way), runs tg_backward, and hands both to a report,
 * tensor by tensor:
 *
 *     tg_grad_report *r = tg_grad_report_new();
 *     tg_grad_report_check(r, "dW", hand_dW, W);   // W's .grad is autograd's
 *     tg_grad_report_print(r, stdout);
 *     bool ok = tg_grad_report_all_ok(r);
 *     tg_grad_report_free(r);
 *
 * Each check is one line of the report, one of three verdicts:
 *
 *     dx  exact  (2, 2): all 4 elements bit-identical
 *     dx  close  (3, 4): max |hand - autograd| 1.1e-16, max relative 8.6e-16 (rtol 1e-07, ...
 *     db  wrong  (2,): 2 of 2 elements off; worst at [1]: hand 8.93, autograd 2.23, ...
 *
 * "close" means every element is within atol + rtol * |autograd| of
 * autograd's, as torch.testing.assert_close decides, with its tolerances
 * by dtype unless tg_grad_report_set_tolerance says otherwise: float64
 * rtol 1e-7, atol 1e-7; float32 rtol 1.3e-6, atol 1e-5. As there, NaN is
 * never close to anything, NaN included, and an infinity only to itself.
 * A hand gradient of another shape or dtype than autograd's, a NULL one
 * (not written yet, or an op in it failed: the line then quotes the
 * pending error), or a tensor that autograd left no .grad in, is "wrong"
 * with the reason. */
#ifndef TAPEGRAD_GRAD_REPORT_H
#define TAPEGRAD_GRAD_REPORT_H

#include <stdio.h>

#include "tapegrad/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_grad_report tg_grad_report;

typedef enum tg_grad_verdict {
    TG_GRAD_EXACT, /* every element bit-identical to autograd's */
    TG_GRAD_CLOSE, /* every element within the tolerances */
    TG_GRAD_WRONG, /* an element off, or the shape, dtype or gradient missing */
} tg_grad_verdict;

/* An empty report, freed with tg_grad_report_free; NULL when out of memory. */
TG_API tg_grad_report *tg_grad_report_new(void);
/* NULL-safe. */
TG_API void tg_grad_report_free(tg_grad_report *r);

/* The tolerances of the checks that follow, for every dtype (each finite
 * and >= 0). Returns 0 or -1. */
TG_API int tg_grad_report_set_tolerance(tg_grad_report *r, double rtol, double atol);

/* Compares hand, the student's gradient, with tg_grad(param), autograd's,
 * and adds a line to the report under name (copied). hand and param are
 * borrowed and only read: the report keeps nothing of them but its line.
 * hand may be NULL (reported wrong). Returns the verdict, or -1 when
 * nothing could be added (r, name or param NULL; out of memory). */
TG_API int tg_grad_report_check(tg_grad_report *r, const char *name, const tg_tensor *hand,
                                const tg_tensor *param);

/* Writes the lines, in the order checked, and a count of each verdict.
 * Returns 0, or -1 (NULL argument; TG_ERR_IO when out cannot be written). */
TG_API int tg_grad_report_print(const tg_grad_report *r, FILE *out);

/* True when at least one tensor was checked and none was wrong; false for
 * NULL (recording TG_ERR_NULL). */
TG_API bool tg_grad_report_all_ok(const tg_grad_report *r);

#ifdef __cplusplus
}
#endif
#endif
