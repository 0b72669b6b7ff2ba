/* data/progress.c - the progress line of a training loop: step, epoch,
 * loss, rate and ETA, redrawn in place on a terminal and written as lines
 * elsewhere, so that a log file gets a few readable lines instead of
 * thousands of carriage returns. */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "internal/base.h"
#include "tapegrad/data.h"

/* Clears from the cursor to the end of the line (ANSI EL). */
#define CLEAR_TO_END "\033[K"

struct tg_progress {
    FILE *out;
    int64_t total;
    tg_progress_options o;
    bool redraw; /* the style, with TG_PROGRESS_AUTO resolved */
    double start;
    /* The last update's arguments. */
    int64_t step;
    int epoch;
    double loss;
    bool updated;
    /* When the line was last written, and at which step. */
    bool written;
    double written_at;
    int64_t written_step;
    bool finished;
};

static double monotonic_seconds(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

tg_progress_options tg_progress_defaults(void) {
    /* Ten redraws a second look continuous and cost nothing; in a log, a
     * line every ten seconds. */
    return (tg_progress_options){
        .style = TG_PROGRESS_AUTO, .redraw_seconds = 0.1, .line_every_seconds = 10};
}

tg_progress *tg_progress_new(int64_t total_steps, FILE *out, const tg_progress_options *options) {
    if (!out) {
        tg__null_arg("progress_new");
        return NULL;
    }
    tg_progress_options o = options ? *options : tg_progress_defaults();
    if (total_steps < 1) {
        tg__error(TG_ERR_VALUE, "progress_new: %lld total steps (at least 1)",
                  (long long)total_steps);
        return NULL;
    }
    if (o.style != TG_PROGRESS_AUTO && o.style != TG_PROGRESS_LINES &&
        o.style != TG_PROGRESS_REDRAW) {
        tg__error(TG_ERR_VALUE, "progress_new: invalid style %d", (int)o.style);
        return NULL;
    }
    if (!(o.redraw_seconds >= 0) || !(o.line_every_seconds >= 0) || o.line_every_steps < 0) {
        tg__error(TG_ERR_VALUE,
                  "progress_new: redraw_seconds %g, line_every_steps %lld and "
                  "line_every_seconds %g must not be negative",
                  o.redraw_seconds, (long long)o.line_every_steps, o.line_every_seconds);
        return NULL;
    }
    tg_progress *p = tg__alloc(sizeof *p, "progress_new");
    if (!p) return NULL;
    if (!o.clock) o.clock = monotonic_seconds;
    *p = (tg_progress){.out = out,
                       .total = total_steps,
                       .o = o,
                       .redraw = o.style == TG_PROGRESS_REDRAW ||
                                 (o.style == TG_PROGRESS_AUTO && isatty(fileno(out))),
                       .start = o.clock(o.clock_ctx),
                       .epoch = -1};
    return p;
}

void tg_progress_free(tg_progress *p) { tg__free(p); }

/* "1:02:03" or "2:03", whole seconds cut as a clock shows them; "?" for a
 * time not known or beyond reason. */
static const char *duration(char *buf, size_t n, double seconds) {
    if (!(seconds >= 0 && seconds < 1e9)) return "?";
    long long s = (long long)seconds;
    if (s >= 3600)
        snprintf(buf, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, n, "%lld:%02lld", s / 60, s % 60);
    return buf;
}

static void write_line(tg_progress *p, double now) {
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)p->step / elapsed : NAN;
    char line[256], rate_text[32] = "?", time_text[32];
    int len = snprintf(line, sizeof line, "step %lld/%lld (%d%%)", (long long)p->step,
                       (long long)p->total, (int)(100.0 * (double)p->step / (double)p->total));
    if (p->epoch >= 0)
        len += snprintf(line + len, sizeof line - (size_t)len, "  epoch %d", p->epoch);
    if (p->updated) len += snprintf(line + len, sizeof line - (size_t)len, "  loss %.4g", p->loss);
    if (rate > 0) snprintf(rate_text, sizeof rate_text, rate < 1000 ? "%.3g" : "%.0f", rate);
    snprintf(line + len, sizeof line - (size_t)len, "  %s steps/s  %s %s", rate_text,
             p->finished ? "done in" : "ETA",
             duration(time_text, sizeof time_text,
                      p->finished ? elapsed : (double)(p->total - p->step) / rate));
    if (p->redraw)
        fprintf(p->out, "\r%s" CLEAR_TO_END "%s", line, p->finished ? "\n" : "");
    else
        fprintf(p->out, "%s\n", line);
    fflush(p->out);
    p->written = true;
    p->written_at = now;
    p->written_step = p->step;
}

int tg_progress_update(tg_progress *p, int64_t step, int epoch, double loss) {
    if (!p) {
        tg__null_arg("progress_update");
        return -1;
    }
    if (p->finished) {
        tg__error(TG_ERR_VALUE, "progress_update: the progress line is finished");
        return -1;
    }
    if (step < 0 || step > p->total) {
        tg__error(TG_ERR_VALUE, "progress_update: step %lld outside 0..%lld", (long long)step,
                  (long long)p->total);
        return -1;
    }
    p->step = step, p->epoch = epoch, p->loss = loss, p->updated = true;
    double now = p->o.clock(p->o.clock_ctx), since = now - p->written_at;
    bool due = !p->written ||
               (p->redraw ? step == p->total || since >= p->o.redraw_seconds
                          : (p->o.line_every_steps > 0 &&
                             step - p->written_step >= p->o.line_every_steps) ||
                                (p->o.line_every_seconds > 0 && since >= p->o.line_every_seconds));
    if (due) write_line(p, now);
    return 0;
}

void tg_progress_finish(tg_progress *p) {
    if (!p || p->finished) return;
    p->finished = true;
    write_line(p, p->o.clock(p->o.clock_ctx));
}
