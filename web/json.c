/* web/json.c - writing JSON values (json.h). */
#include "json.h"

#include <math.h>
#include <stdlib.h>

void json_number(FILE *out, double v) {
    if (isfinite(v))
        fprintf(out, "%.9g", v);
    else
        fprintf(out, "\"%s\"", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
}

void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void json_values(FILE *out, const tg_tensor *t) {
    int64_t n = tg_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    fputc('[', out);
    if (v && tg_to_doubles(t, v) == 0)
        for (int64_t i = 0; i < n; i++) {
            if (i) fputc(',', out);
            json_number(out, v[i]);
        }
    fputc(']', out);
    free(v);
}

void json_shape(FILE *out, const tg_tensor *t) {
    fputc('[', out);
    for (int d = 0; d < tg_ndim(t); d++)
        fprintf(out, "%s%lld", d ? "," : "", (long long)tg_shape(t)[d]);
    fputc(']', out);
}
