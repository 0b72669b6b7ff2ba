/* tests/fuzz/fuzz_seeds.c - writes the seed corpus of the fuzz targets
 * into the folder given: files the library saves, which each target
 * loads successfully, for the fuzzer to mutate. */
#include <stdio.h>

#include "fuzz_common.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds FOLDER\n");
        return 2;
    }
    int n = fuzz_write_seeds(argv[1]);
    if (n < 0) fprintf(stderr, "fuzz_seeds: %s\n", tg_last_error());
    return n < 0;
}
