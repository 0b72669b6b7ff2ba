/* tests/web/first_step.c - the page's optimizer trajectory computed natively
 * (web/tg_web.c on the library built for this machine), for the browser test
 * to compare with what the WebAssembly page shows:
 *     first_step SURFACE OPTIMIZER LR P1 P2 EPS WEIGHT_DECAY X0 Y0 STEPS
 * prints tg_web_optimize's JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "tg_web.h"

int main(int argc, char **argv) {
    if (argc != 11) {
        fprintf(stderr,
                "usage: first_step SURFACE OPTIMIZER LR P1 P2 EPS WEIGHT_DECAY X0 Y0 STEPS\n");
        return 2;
    }
    double a[10];
    for (int i = 0; i < 10; i++) a[i] = strtod(argv[i + 1], NULL);
    puts(
        tg_web_optimize((int)a[0], (int)a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], (int)a[9]));
    return 0;
}
