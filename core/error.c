/* core/error.c - the per-thread record of the last failure. */
#include <stdio.h>

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

const char *tg__shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < n) snprintf(buf + used, n - used, ndim == 1 ? ",)" : ")");
    return buf;
}

const char *tg__sizes_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
    return buf;
}
