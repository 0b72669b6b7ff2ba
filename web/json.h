/* web/json.h - the JSON the page's functions return, written into a
 * growing memory stream. */
#ifndef TAPEGRAD_WEB_JSON_H
#define TAPEGRAD_WEB_JSON_H

#include <stdio.h>

#include <tapegrad/tapegrad.h>

/* A number: finite ones as JSON numbers, others as the strings "NaN",
 * "Infinity", "-Infinity" (JSON has no such numbers; JavaScript's Number()
 * reads these strings back). */
void json_number(FILE *out, double v);
/* A quoted, escaped string. */
void json_string(FILE *out, const char *s);
/* The values of t, flattened, as an array of numbers; t is borrowed. */
void json_values(FILE *out, const tg_tensor *t);
/* t's shape as an array of integers. */
void json_shape(FILE *out, const tg_tensor *t);

#endif
