/* tests/fuzz/replay.c - runs one fuzz target, without libFuzzer, on the
 * seed corpus (written afresh) and on every file of the folders given (the
 * kept crash reproducers), so that the ordinary suite checks the same
 * promises in every build, valgrind included. A broken promise aborts. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"


/* Replays every regular file of dir; returns how many, or -1. */
static int replay_folder(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("FAIL cannot open %s\n", dir);
        return -1;
    }
    int n = 0;
    char path[4096];
    for (struct dirent *e; (e = readdir(d));) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size;
        uint8_t *bytes = e->d_name[0] == '.' ? NULL : fuzz_read(path, &size);
        if (!bytes) continue;
        LLVMFuzzerTestOneInput(bytes, size);
        free(bytes);
        printf("ok   %s\n", path);
        n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    char seeds[] = "/tmp/tg-seeds-XXXXXX";
    if (!mkdtemp(seeds) || fuzz_write_seeds(seeds) < 0) {
        printf("FAIL writing the seeds: %s\n", tg_last_error());
        failed++;
    }
    int n = replay_folder(seeds);
    n < 0 ? failed++ : (passed += n);
    for (int i = 1; i < argc; i++) {
        n = replay_folder(argv[i]);
        n < 0 ? failed++ : (passed += n);
    }
    DIR *d = opendir(seeds);
    char path[4096];
    for (struct dirent *e; d && (e = readdir(d));) {
        snprintf(path, sizeof path, "%s/%s", seeds, e->d_name);
        if (e->d_name[0] != '.') unlink(path);
    }
    if (d) closedir(d);
    rmdir(seeds);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
