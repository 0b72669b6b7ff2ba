/* nn/nn_internal.h - what nn/module.c shares with nn/describe.c and
 * nn/checkpoint.c (the module tree written into and read from a file's
 * metadata). Users never see it; the modules themselves use the public
 * API only. */
#ifndef TAPEGRAD_NN_INTERNAL_H
#define TAPEGRAD_NN_INTERNAL_H

#include "internal/base.h"
#include "tapegrad/nn.h"

/* The class m was made with (m not NULL). */
const tg_module_class *tg__module_class(const tg_module *m);

/* A growing malloc'ed string (printed strings use malloc, as tg_repr's);
 * after a failed allocation every append is a no-op and s is NULL. */
typedef struct tg__text {
    char *s;
    size_t len, cap;
    bool failed;
} tg__text;
void tg__text_append_n(tg__text *t, const char *s, size_t n);
void tg__text_append(tg__text *t, const char *s);

#endif
