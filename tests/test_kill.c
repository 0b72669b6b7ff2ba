/* tests/test_kill.c - saving survives SIGKILL: a child process trains a
 * model and saves it and its optimizer state at each step, and is killed at
 * a random moment, again and again. Each time, the two files on disk load
 * and are byte for byte the last version the child reported saved or the
 * one after it, never a mix or a torn file. The versions to compare with
 * are written first by a reference run of the same program that is not
 * killed. */
#define _GNU_SOURCE /* prctl */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tg_test.h"

enum {
    TRIALS = 60,
    VERSIONS = 40,        /* a child stops saving after this many steps */
    MAX_DELAY_US = 120000 /* a child is killed this long at most after its first save */
};

static const char *self_path;

typedef struct run {
    tg_module *model;
    tg_optimizer *opt;
    tg_tensor *x, *y; /* the batch, the same every step */
} run;

static bool make(run *r) {
    tg_generator *gen = tg_generator_new(5);
    r->model = tg_sequential_new(2, (tg_module *[]){tg_linear_new(8, 16, TG_BIAS, TG_F32, gen),
                                                    tg_linear_new(16, 4, TG_BIAS, TG_F32, gen)});
    int n = 0;
    tg_tensor *const *params = r->model ? tg_module_parameter_tensors(r->model, &n) : NULL;
    r->opt = params ? tg_adamw_new(params, n, NULL) : NULL;
    tg_pool *pool = tg_pool_push();
    r->x = tg_retain(tg_randn(TG_SHAPE(32, 8), TG_F32, gen));
    r->y = tg_retain(tg_randn(TG_SHAPE(32, 4), TG_F32, gen));
    tg_pool_pop(pool);
    tg_generator_free(gen);
    return r->opt && r->x && r->y;
}

static void unmake(run *r) {
    tg_optim_free(r->opt);
    tg_module_free(r->model);
    tg_release(r->x);
    tg_release(r->y);
}

static bool step(run *r) {
    tg_pool *pool = tg_pool_push();
    tg_tensor *loss = tg_mse_loss(tg_module_forward(r->model, r->x), r->y, TG_REDUCTION_MEAN);
    tg_optim_zero_grad(r->opt, TG_GRAD_TO_NONE);
    bool ok = loss && tg_backward(loss, NULL) == 0 && tg_optim_step(r->opt) == 0;
    tg_pool_pop(pool);
    return ok;
}

static const char *path_in(const char *dir, const char *name, int version) {
    static char buf[2][256];
    static int which;
    which ^= 1;
    int len = version < 0
                  ? snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name)
                  : snprintf(buf[which], sizeof buf[which], "%s/ref-%s-%d", dir, name, version);
    return len < (int)sizeof buf[which] ? buf[which] : ""; /* too long: fails to open */
}

/* ---- The child processes ---------------------------------------------------------- */

/* --reference DIR: versions 0 to VERSIONS into DIR/ref-<file>-<v>. */
static int reference_main(const char *dir) {
    run r;
    bool ok = make(&r);
    for (int v = 0; ok && v <= VERSIONS; v++)
        ok = (v == 0 || step(&r)) && tg_module_save(r.model, path_in(dir, "model", v)) == 0 &&
             tg_optim_save(r.opt, path_in(dir, "optim", v)) == 0;
    unmake(&r);
    return ok ? 0 : 1;
}

/* --saver DIR FD: version after version into DIR/model and DIR/optim,
 * writing each version's number to FD once both files hold it; then
 * waits to be killed. */
static int saver_main(const char *dir, int fd) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
    run r;
    bool ok = make(&r);
    for (int v = 0; ok && v <= VERSIONS; v++) {
        ok = (v == 0 || step(&r)) && tg_module_save(r.model, path_in(dir, "model", -1)) == 0 &&
             tg_optim_save(r.opt, path_in(dir, "optim", -1)) == 0 &&
             write(fd, &v, sizeof v) == (ssize_t)sizeof v;
    }
    while (ok) pause();
    return 1;
}

/* ---- The test ---------------------------------------------------------------------- */

static pid_t spawn(const char *mode, const char *dir, int fd) {
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", fd);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl(self_path, self_path, mode, dir, fd_text, (char *)NULL);
        _exit(127);
    }
    return pid;
}

typedef struct bytes {
    unsigned char *data;
    long size;
} bytes;

static bytes read_all(const char *path) {
    bytes b = {NULL, -1};
    FILE *f = fopen(path, "rb");
    if (!f) return b;
    if (fseek(f, 0, SEEK_END) == 0 && (b.size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b.data = malloc((size_t)b.size + 1)) &&
        fread(b.data, 1, (size_t)b.size, f) != (size_t)b.size) {
        free(b.data);
        b.data = NULL;
    }
    fclose(f);
    return b;
}

static bool same_bytes(bytes a, bytes b) {
    return a.data && b.data && a.size == b.size && memcmp(a.data, b.data, (size_t)a.size) == 0;
}

static void remove_all(const char *dir) {
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') unlink(path_in(dir, e->d_name, -1));
    if (d) closedir(d);
    rmdir(dir);
}

/* Which version the file at path is: reported (0), the next one (1), or
 * neither (-1), also when it does not load into a fresh run. */
static int which_version(const char *path, bytes *refs, int reported, bool optim) {
    bytes got = read_all(path);
    int which = same_bytes(got, refs[reported])                              ? 0
                : reported < VERSIONS && same_bytes(got, refs[reported + 1]) ? 1
                                                                             : -1;
    free(got.data);
    run fresh;
    bool loads = make(&fresh) &&
                 (optim ? tg_optim_load(fresh.opt, path) : tg_module_load(fresh.model, path)) == 0;
    unmake(&fresh);
    return loads ? which : -1;
}

static void killed_saves_leave_the_old_or_the_new_file(void) {
    char dir[] = "/tmp/tg-kill-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    pid_t ref = spawn("--reference", dir, -1);
    int status = -1;
    CHECK(ref > 0 && waitpid(ref, &status, 0) == ref && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    bytes refs[2][VERSIONS + 1];
    for (int v = 0; v <= VERSIONS; v++) {
        refs[0][v] = read_all(path_in(dir, "model", v));
        refs[1][v] = read_all(path_in(dir, "optim", v));
    }
    unsigned seed = (unsigned)time(NULL);
    int counts[2][3] = {{0}}; /* per file: torn or mixed, old, new */
    int trials = 0, versions_saved = 0;
    for (; trials < TRIALS; trials++) {
        int fds[2];
        if (pipe(fds) != 0) break;
        pid_t pid = spawn("--saver", dir, fds[1]);
        close(fds[1]);
        int v, reported = -1;
        if (pid > 0 && read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) {
            reported = v;
            struct timespec delay = {0, (long)(rand_r(&seed) % MAX_DELAY_US) * 1000};
            nanosleep(&delay, NULL);
        }
        if (pid > 0) kill(pid, SIGKILL), waitpid(pid, NULL, 0);
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) reported = v;
        close(fds[0]);
        if (reported < 0) break;
        versions_saved += reported;
        for (int f = 0; f < 2; f++)
            counts[f][1 + which_version(path_in(dir, f ? "optim" : "model", -1), refs[f], reported,
                                        f == 1)]++;
    }
    printf("  %d kills (seed %u), %d versions saved in all; model file: %d old, %d new, %d "
           "torn; optimizer file: %d old, %d new, %d torn\n",
           trials, seed, versions_saved, counts[0][1], counts[0][2], counts[0][0], counts[1][1],
           counts[1][2], counts[1][0]);
    for (int v = 0; v <= VERSIONS; v++) free(refs[0][v].data), free(refs[1][v].data);
    remove_all(dir);
    CHECK(trials == TRIALS);
    CHECK(counts[0][0] == 0 && counts[1][0] == 0);
    /* Kills landed both between and during saves. */
    CHECK(counts[0][1] + counts[1][1] > 0 && counts[0][2] + counts[1][2] > 0);
}

int main(int argc, char **argv) {
    self_path = strchr(argv[0], '/') ? argv[0] : "/proc/self/exe";
    tg_set_num_threads(1);
    if (argc == 4 && strcmp(argv[1], "--reference") == 0) return reference_main(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--saver") == 0) return saver_main(argv[2], atoi(argv[3]));
    static const tg_test_case cases[] = {TG_CASE(killed_saves_leave_the_old_or_the_new_file)};
    return tg_test_run(cases, 1, argc, argv);
}
