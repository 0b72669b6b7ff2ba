/* core/error.c - the per-thread record of the last failure. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/base.h"

static _Thread_local tg_status last_status = TG_OK;
static _Thread_local char last_message[512];

const char *tg_last_error(void) { return last_status == TG_OK ? "" : last_message; }
tg_status tg_last_status(void) { return last_status; }

void tg_clear_error(void) {
    last_status = TG_OK;
    last_message[0] = '\0';
}

void tg__error(tg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    last_status = status;
}

void tg__null_arg(const char *op) {
    if (last_status == TG_OK) tg__error(TG_ERR_NULL, "%s: argument is NULL", op);
}

/* The sizes between open and close, comma-separated; close follows the
 * last size directly. */
static const char *sizes_between(char *buf, size_t n, int ndim, const int64_t *shape,
                                 const char *open, const char *close) {
    size_t used = (size_t)snprintf(buf, n, "%s", open);
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < n) snprintf(buf + used, n - used, "%s", close);
    return buf;
}

/* A Python tuple: (2, 3), (2,) and (). */
const char *tg__shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    return sizes_between(buf, n, ndim, shape, "(", ndim == 1 ? ",)" : ")");
}

/* Formatted apart first: the arguments may include tg_last_error() itself,
 * to wrap a message ("MyBlock: %s"). */
void tg_set_error(tg_status status, const char *fmt, ...) {
    if (status == TG_OK) {
        tg_clear_error();
        return;
    }
    char message[sizeof last_message] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
    }
    memcpy(last_message, message, sizeof message);
    last_status = status;
}

/* v as Python's repr(float) writes it: the shortest digits that read back
 * as v, positional from 1e-4 up to 1e16 and with ".0" when whole
 * ("0.1", "1.0", "1e-05"). */
void tg__python_float(char *buf, size_t size, double v) {
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    char digits[40];
    int precision = 1;
    for (; precision < DBL_DECIMAL_DIG; precision++) {
        snprintf(digits, sizeof digits, "%.*e", precision - 1, v);
        if (strtod(digits, NULL) == v) break;
    }
    snprintf(digits, sizeof digits, "%.*e", precision - 1, v);
    int exponent = atoi(strchr(digits, 'e') + 1);
    if (exponent < -4 || exponent >= 16) {
        /* mantissa as %g would: no trailing zeros; exponent of two digits or more */
        char *e = strchr(digits, 'e');
        *e = '\0';
        snprintf(buf, size, "%se%c%02d", digits, exponent < 0 ? '-' : '+', abs(exponent));
    } else {
        int decimals = precision - 1 - exponent;
        snprintf(buf, size, "%.*f%s", decimals > 0 ? decimals : 0, v, decimals > 0 ? "" : ".0");
    }
}

/* As PyTorch's messages print sizes: [2, 3] and [2]. */
const char *tg__sizes_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    return sizes_between(buf, n, ndim, shape, "[", "]");
}
