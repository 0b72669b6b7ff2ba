/* examples/plot.h - pictures through tools a Debian machine may have:
 * Graphviz's `dot` and `gnuplot`. Data files (DOT, CSV) are always written;
 * when a tool is missing, a one-line note says so and the example goes on. */
#ifndef TAPEGRAD_EXAMPLES_PLOT_H
#define TAPEGRAD_EXAMPLES_PLOT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static inline bool have_program(const char *name) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* dot_path rendered to png_path; true when the PNG was written. */
static inline bool render_dot(const char *dot_path, const char *png_path) {
    if (!have_program("dot")) {
        printf("note: Graphviz (dot) is not installed; %s is written, no picture\n", dot_path);
        return false;
    }
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "dot -Tpng '%s' -o '%s'", dot_path, png_path);
    return system(cmd) == 0;
}

/* Runs a gnuplot script; true when gnuplot ran it without error. */
static inline bool run_gnuplot(const char *script, const char *what) {
    if (!have_program("gnuplot")) {
        printf("note: gnuplot is not installed; %s is written, no picture\n", what);
        return false;
    }
    FILE *gp = popen("gnuplot", "w");
    if (!gp) return false;
    fputs(script, gp);
    return pclose(gp) == 0;
}

#endif
