/* web/tg_web.h - the functions the page calls (web/tg_web.c). Each returns
 * JSON: a string owned by tg_web.c, valid until the next call. */
#ifndef TAPEGRAD_WEB_TG_WEB_H
#define TAPEGRAD_WEB_TG_WEB_H

const char *tg_web_run(const char *program, double lr);
const char *tg_web_gradcheck(const char *program);
const char *tg_web_optimize(int surface, int optimizer, double lr, double p1, double p2, double eps,
                            double weight_decay, double x0, double y0, int steps);
const char *tg_web_surface(int surface, double xmin, double xmax, double ymin, double ymax, int n);
const char *tg_web_activations(void);
const char *tg_web_activation(int index, double param);

#endif
