/* optim/tmpl.h - compiles an optimizer's kernel template once per dtype.
 * A rule's .c file defines TMPL, the name of its template file, and
 * includes this file, which includes the template twice: first with T
 * float and SFX(name) naming name_f32, then with T double and SFX(name)
 * naming name_f64. The template is plain C written in T (with <tgmath.h>,
 * fma and sqrt are fmaf and sqrtf in float), so each kernel is an ordinary
 * function per dtype that a debugger steps through line by line. Before
 * the template, each instantiation gets SFX(optim_grad) from
 * optim_grad_tmpl.c. Template files are named *_tmpl.c and are not
 * compiled on their own. Deliberately no include guard: every inclusion
 * instantiates TMPL. */
#ifndef TMPL
#error "define TMPL, the template file to instantiate, before including tmpl.h"
#endif

#include <tgmath.h>

#define T float
#define SFX(name) name##_f32
#include "optim_grad_tmpl.c"
#include TMPL
#undef T
#undef SFX

#define T double
#define SFX(name) name##_f64
#include "optim_grad_tmpl.c"
#include TMPL
#undef T
#undef SFX

#undef TMPL
