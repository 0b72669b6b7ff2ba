/* tests/test_bad_input.c - every public function that takes a tensor, a
 * shape, a dtype, a count or a path, given bad values: one row per call,
 * with the status code and a substring of the message it must leave. A
 * row passes when the call reports failure (NULL, -1, NAN...), the code
 * and message match, and nothing was written to stdout or stderr. The
 * headers are gone through in order: core (tensor, autograd, graph,
 * parallel, grad_report, safetensors), ops (ops, activation, dropout, linalg, loss,
 * reduce, norm, shape), nn (the modules, then the API that defines them),
 * optim, data. */
#define _GNU_SOURCE /* mkdtemp, symlink */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tg_test.h"

/* ---- Rows -------------------------------------------------------------------------- */

static int rows_tried, rows_clean;
static char report[1 << 16]; /* the rows that failed, printed after the table */
static size_t report_len;
static int capture = -1; /* the file stdout and stderr go to while rows run */
static int saved_out = -1, saved_err = -1;

static long printed(void) {
    fflush(stdout);
    fflush(stderr);
    struct stat st;
    return capture >= 0 && fstat(capture, &st) == 0 ? (long)st.st_size : 0;
}

static void capture_begin(void) {
    char path[] = "/tmp/tg-bad-input-XXXXXX";
    fflush(stdout);
    fflush(stderr);
    capture = mkstemp(path);
    if (capture < 0) return;
    unlink(path);
    saved_out = dup(1), saved_err = dup(2);
    dup2(capture, 1), dup2(capture, 2);
}

static void capture_end(void) {
    fflush(stdout);
    fflush(stderr);
    if (capture < 0) return;
    dup2(saved_out, 1), dup2(saved_err, 2);
    close(saved_out), close(saved_err), close(capture);
    capture = -1;
}

static void note(const char *call, bool failed, tg_status status, const char *text, long before,
                 int line) {
    rows_tried++;
    long now = printed();
    const char *why = !failed                          ? "did not fail"
                      : tg_last_status() != status     ? "wrong status"
                      : !strstr(tg_last_error(), text) ? "wrong message"
                      : now != before                  ? "printed something"
                                                       : NULL;
    if (!why) {
        rows_clean++;
    } else if (report_len < sizeof report - 512) {
        report_len += (size_t)snprintf(report + report_len, sizeof report - report_len,
                                       "  line %d: %s: %s\n    got %d \"%s\", want %d "
                                       "containing \"%s\"\n",
                                       line, call, why, (int)tg_last_status(), tg_last_error(),
                                       (int)status, text);
    }
    tg_clear_error();
}

/* One row: fails is an expression that is true when the call reported a
 * failure, e.g. tg_add(NULL, a) == NULL. */
#define ROW(fails, status, text)                                    \
    do {                                                            \
        long before_ = printed();                                   \
        tg_clear_error();                                           \
        bool failed_ = (fails);                                     \
        note(#fails, failed_, (status), (text), before_, __LINE__); \
    } while (0)

/* Runs a group of rows with the output captured; the case fails when a
 * row did, after its cleanup (tg_test_fail does not return). */
#define TABLE(rows)                                                                              \
    do {                                                                                         \
        int clean_before_ = rows_clean, tried_before_ = rows_tried;                              \
        report_len = 0, report[0] = '\0';                                                        \
        capture_begin();                                                                         \
        rows capture_end();                                                                      \
        printf("  %d rows, %d clean\n", rows_tried - tried_before_, rows_clean - clean_before_); \
        fputs(report, stdout);                                                                   \
        if (rows_clean - clean_before_ != rows_tried - tried_before_)                            \
            tg_test_fail(__FILE__, __LINE__, "a row failed");                                    \
    } while (0)

/* ---- Fixtures ---------------------------------------------------------------------- */

static const tg_dtype BAD_DTYPE = (tg_dtype)7;
static char dir[64]; /* a scratch folder */

/* dir/name, in a buffer of its own for each distinct name (kept until exit). */
static const char *in_dir(const char *name) {
    static char paths[32][128];
    static const char *names[32];
    int i = 0;
    while (i < 31 && names[i] && strcmp(names[i], name) != 0) i++;
    names[i] = name;
    snprintf(paths[i], sizeof paths[i], "%s/%s", dir, name);
    return paths[i];
}

/* An expanded leaf, (2, 3) with stride 0 along dim 0: its elements overlap. */
static tg_tensor *expanded(tg_dtype dtype) {
    return tg_detach(tg_expand(tg_ones(TG_SHAPE(1, 3), dtype), TG_SHAPE(2, 3)));
}

static tg_tensor *leaf(void) { return tg_requires_grad_(tg_ones(TG_SHAPE(2, 3), TG_F32), true); }

/* ---- core: tensor.h ----------------------------------------------------------------- */

static void tensor_h(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32);
    float data[6] = {0};
    double out[6];
    int64_t neg[] = {2, -1}, huge[] = {INT64_C(1) << 40, INT64_C(1) << 40};
    int64_t wrap[] = {INT64_MAX, 2}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    TABLE(
        ROW(tg_empty(-1, NULL, TG_F32) == NULL, TG_ERR_SHAPE, "empty: -1 dimensions");
        ROW(tg_empty(9, nine, TG_F32) == NULL, TG_ERR_SHAPE, "empty: 9 dimensions (at most 8)");
        ROW(tg_empty(2, NULL, TG_F32) == NULL, TG_ERR_NULL, "empty: shape is NULL");
        ROW(tg_empty(2, neg, TG_F32) == NULL, TG_ERR_SHAPE, "empty: negative dimension");
        ROW(tg_empty(2, huge, TG_F32) == NULL, TG_ERR_NOMEM,
            "empty: shape (1099511627776, 1099511627776) is too large");
        ROW(tg_empty(2, wrap, TG_F32) == NULL, TG_ERR_NOMEM, "too large");
        ROW(tg_zeros(TG_SHAPE(0, INT64_C(1) << 40, INT64_C(1) << 40), TG_F32) == NULL, TG_ERR_NOMEM,
            "zeros: shape (0, 1099511627776, 1099511627776) is too large");
        ROW(tg_empty(TG_SHAPE(2), BAD_DTYPE) == NULL, TG_ERR_VALUE, "empty: invalid dtype 7");
        ROW(tg_zeros(2, neg, TG_F32) == NULL, TG_ERR_SHAPE, "zeros: negative dimension");
        ROW(tg_zeros(TG_SHAPE(2), (tg_dtype)-1) == NULL, TG_ERR_VALUE, "zeros: invalid dtype -1");
        ROW(tg_ones(9, nine, TG_F64) == NULL, TG_ERR_SHAPE, "ones: 9 dimensions");
        ROW(tg_ones(TG_SHAPE(2), BAD_DTYPE) == NULL, TG_ERR_VALUE, "ones: invalid dtype 7");
        ROW(tg_full(2, NULL, 1.0, TG_F32) == NULL, TG_ERR_NULL, "full: shape is NULL");
        ROW(tg_full(TG_SHAPE(2), 1.0, BAD_DTYPE) == NULL, TG_ERR_VALUE, "full: invalid dtype 7");
        ROW(tg_scalar(1.0, BAD_DTYPE) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_from_data(NULL, TG_SHAPE(2), TG_F32) == NULL, TG_ERR_NULL,
            "from_data: argument is NULL");
        ROW(tg_from_data(data, 2, neg, TG_F32) == NULL, TG_ERR_SHAPE, "negative dimension");
        ROW(tg_from_data(data, TG_SHAPE(2), BAD_DTYPE) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_from_buffer(NULL, TG_SHAPE(2), TG_F32, NULL, NULL) == NULL, TG_ERR_NULL,
            "from_buffer: argument is NULL");
        ROW(tg_from_buffer(data, 9, nine, TG_F32, NULL, NULL) == NULL, TG_ERR_SHAPE,
            "9 dimensions");
        ROW(tg_from_buffer(data, TG_SHAPE(2), BAD_DTYPE, NULL, NULL) == NULL, TG_ERR_VALUE,
            "from_buffer: invalid dtype 7");
        ROW(tg_arange(0, 3, 1, BAD_DTYPE) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_arange(0, 3, 0, TG_F32) == NULL, TG_ERR_VALUE,
            "arange: cannot go from 0 to 3 in steps of 0");
        ROW(tg_arange(0, 3, -1, TG_F32) == NULL, TG_ERR_VALUE, "arange: cannot go from 0 to 3");
        ROW(tg_arange(0, NAN, 1, TG_F32) == NULL, TG_ERR_VALUE, "arange: cannot go from 0 to nan");
        ROW(tg_arange(0, 1e300, 1e-300, TG_F32) == NULL, TG_ERR_VALUE, "are too many");
        ROW(tg_rand(2, neg, TG_F32, NULL) == NULL, TG_ERR_SHAPE, "negative dimension");
        ROW(tg_rand(TG_SHAPE(2), BAD_DTYPE, NULL) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_randn(2, NULL, TG_F32, NULL) == NULL, TG_ERR_NULL, "shape is NULL");
        ROW(tg_randn(TG_SHAPE(2), BAD_DTYPE, NULL) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_set_name(NULL, "x") == -1, TG_ERR_NULL, "set_name: argument is NULL");
        /* Inspection records nothing (as tg_ndim(NULL)); it names no real dtype. */
        ROW(strcmp(tg_dtype_name(BAD_DTYPE), "invalid") == 0, TG_OK, "");
        ROW(tg_dtype_size(BAD_DTYPE) == 0, TG_OK, "");
        ROW(tg_size(NULL, 0) == -1, TG_ERR_NULL, "size: argument is NULL");
        ROW(tg_size(a, 2) == -1, TG_ERR_VALUE, "size: dim 2 out of range");
        ROW(tg_size(a, -3) == -1, TG_ERR_VALUE, "size: dim -3 out of range");
        ROW(isnan(tg_get(NULL, (int64_t[]){0, 0})), TG_ERR_NULL, "get: argument is NULL");
        ROW(isnan(tg_get(a, NULL)), TG_ERR_NULL, "get: argument is NULL");
        ROW(isnan(tg_get(a, (int64_t[]){0, 3})), TG_ERR_VALUE,
            "get: index 3 out of range for dim 1");
        ROW(isnan(tg_get(a, (int64_t[]){-1, 0})), TG_ERR_VALUE,
            "get: index -1 out of range for dim 0");
        ROW(isnan(tg_item(NULL)), TG_ERR_NULL, "item: argument is NULL");
        ROW(isnan(tg_item(a)), TG_ERR_SHAPE,
            "item: a tensor of shape (2, 3) has 6 elements, not one");
        ROW(tg_to_doubles(NULL, out) == -1, TG_ERR_NULL, "to_doubles: argument is NULL");
        ROW(tg_to_doubles(a, NULL) == -1, TG_ERR_NULL, "to_doubles: argument is NULL");
        ROW(tg_clone(NULL) == NULL, TG_ERR_NULL, "clone: argument is NULL");
        ROW(tg_contiguous(NULL) == NULL, TG_ERR_NULL, "contiguous: argument is NULL");
        ROW(tg_view(NULL, TG_SHAPE(6)) == NULL, TG_ERR_NULL, "view: argument is NULL");
        ROW(tg_view(a, 2, NULL) == NULL, TG_ERR_NULL, "view: shape is NULL");
        ROW(tg_view(a, -1, NULL) == NULL, TG_ERR_SHAPE, "view: -1 dimensions");
        ROW(tg_view(a, 9, nine) == NULL, TG_ERR_SHAPE, "view: 9 dimensions");
        ROW(tg_view(a, TG_SHAPE(4, 2)) == NULL, TG_ERR_SHAPE,
            "view: shape (4, 2) is invalid for input of shape (2, 3)");
        ROW(tg_view(a, TG_SHAPE(-1, -1)) == NULL, TG_ERR_SHAPE, "view: invalid shape (-1, -1)");
        ROW(tg_view(a, TG_SHAPE(-2, 3)) == NULL, TG_ERR_SHAPE, "view: invalid shape (-2, 3)");
        ROW(tg_view(a, 2, huge) == NULL, TG_ERR_SHAPE,
            "view: shape (1099511627776, 1099511627776) is invalid for input of shape (2, 3)");
        ROW(tg_view(a, 2, wrap) == NULL, TG_ERR_SHAPE,
            "view: shape (9223372036854775807, 2) is invalid for input of shape (2, 3)");
        ROW(tg_view(tg_transpose(a, 0, 1), TG_SHAPE(6)) == NULL, TG_ERR_SHAPE, "view:");
        ROW(tg_reshape(NULL, TG_SHAPE(6)) == NULL, TG_ERR_NULL, "reshape: argument is NULL");
        ROW(tg_reshape(a, 2, NULL) == NULL, TG_ERR_NULL, "reshape: shape is NULL");
        ROW(tg_reshape(a, TG_SHAPE(-1, 4)) == NULL, TG_ERR_SHAPE,
            "reshape: shape (-1, 4) is invalid for input of shape (2, 3)");
        ROW(tg_reshape(a, 2, huge) == NULL, TG_ERR_SHAPE,
            "reshape: shape (1099511627776, 1099511627776) is invalid for input of shape (2, 3)");
        ROW(tg_reshape(a, 2, wrap) == NULL, TG_ERR_SHAPE,
            "reshape: shape (9223372036854775807, 2) is invalid for input of shape (2, 3)");
        ROW(tg_transpose(NULL, 0, 1) == NULL, TG_ERR_NULL, "transpose: argument is NULL");
        ROW(tg_transpose(a, 0, 2) == NULL, TG_ERR_VALUE,
            "transpose: dim 2 out of range for a 2-dim tensor");
        ROW(tg_transpose(a, -3, 0) == NULL, TG_ERR_VALUE, "transpose: dim -3 out of range");
        ROW(tg_detach(NULL) == NULL, TG_ERR_NULL, "detach: argument is NULL");
        ROW(tg_to_dtype(NULL, TG_F64) == NULL, TG_ERR_NULL, "to_dtype: argument is NULL");
        ROW(tg_to_dtype(a, BAD_DTYPE) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_repr(NULL) == NULL, TG_ERR_NULL, "repr: argument is NULL");
        ROW(tg_print(NULL, stdout) == -1, TG_ERR_NULL, "print: argument is NULL");
        ROW(tg_print(a, NULL) == -1, TG_ERR_NULL, "print: argument is NULL"););
}

/* ---- core: autograd.h, graph.h, parallel.h -------------------------------------------- */

static tg_tensor *square_sum(tg_tensor *const *in, void *ctx) {
    (void)ctx;
    return tg_sum(tg_mul(in[0], in[0]));
}

static void autograd_graph_parallel_h(void) {
    tg_tensor *p = leaf();
    tg_tensor *y = tg_mul_scalar(p, 2); /* (2, 3), not a leaf */
    tg_tensor *s = tg_sum(y);
    tg_tensor *plain = tg_ones(TG_SHAPE(2), TG_F32);
    tg_tensor *p64 = tg_requires_grad_(tg_ones(TG_SHAPE(2), TG_F64), true);
    FILE *sink = fopen("/dev/null", "w");
    TABLE(
        ROW(tg_requires_grad_(NULL, true) == NULL, TG_ERR_NULL, "requires_grad_: argument is NULL");
        ROW(tg_requires_grad_(y, false) == NULL, TG_ERR_GRAPH, "requires_grad_");
        ROW(tg_backward(NULL, NULL) == -1, TG_ERR_NULL, "backward: argument is NULL");
        ROW(tg_backward(y, NULL) == -1, TG_ERR_SHAPE, "backward");
        ROW(tg_backward(plain, NULL) == -1, TG_ERR_GRAPH, "backward");
        ROW(tg_backward(y, tg_ones(TG_SHAPE(3, 2), TG_F32)) == -1, TG_ERR_SHAPE,
            "backward: gradient of shape (3, 2) given for an output of shape (2, 3)");
        ROW(tg_backward(y, tg_ones(TG_SHAPE(2, 3), TG_F64)) == -1, TG_ERR_DTYPE,
            "backward: gradient of dtype float64 given for an output of dtype float32");
        ROW(tg_backward_ex(NULL, NULL, TG_RETAIN_GRAPH) == -1, TG_ERR_NULL,
            "backward: argument is NULL");
        ROW(tg_backward_ex(s, tg_ones(TG_SHAPE(2), TG_F32), TG_RETAIN_GRAPH) == -1, TG_ERR_SHAPE,
            "backward: gradient of shape (2,) given for an output of shape ()");
        ROW(tg_gradcheck(NULL, NULL, 1, &p64, NULL) == -1, TG_ERR_NULL,
            "gradcheck: argument is NULL");
        ROW(tg_gradcheck(square_sum, NULL, 1, NULL, NULL) == -1, TG_ERR_NULL,
            "gradcheck: argument is NULL");
        ROW(tg_gradcheck(square_sum, NULL, -1, &p64, NULL) == -1, TG_ERR_VALUE,
            "gradcheck: -1 inputs");
        ROW(tg_gradcheck(square_sum, NULL, 0, &p64, NULL) == -1, TG_ERR_VALUE,
            "gradcheck: 0 inputs");
        ROW(tg_gradcheck(square_sum, NULL, 1, (tg_tensor *[]){NULL}, NULL) == -1, TG_ERR_NULL,
            "gradcheck: argument is NULL");
        ROW(tg_gradcheck(square_sum, NULL, 1, &p, NULL) == -1, TG_ERR_DTYPE,
            "gradcheck: input 0 must be float64 and require grad");
        ROW(tg_graph_dot(NULL, sink, NULL) == -1, TG_ERR_NULL, "graph_dot: argument is NULL");
        ROW(tg_graph_dot(s, NULL, NULL) == -1, TG_ERR_NULL, "graph_dot: argument is NULL");
        ROW(tg_graph_dot_file(NULL, in_dir("g.dot"), NULL) == -1, TG_ERR_NULL,
            "graph_dot_file: argument is NULL");
        ROW(tg_graph_dot_file(s, NULL, NULL) == -1, TG_ERR_NULL,
            "graph_dot_file: argument is NULL");
        ROW(tg_graph_dot_file(s, "/nonexistent/g.dot", NULL) == -1, TG_ERR_IO,
            "graph_dot_file: cannot write /nonexistent/g.dot");
        ROW(tg_graph_dot_file(s, dir, NULL) == -1, TG_ERR_IO, "graph_dot_file: cannot write");
        ROW(tg_set_num_threads(0) == -1, TG_ERR_VALUE,
            "set_num_threads: 0 threads (want 1 to 4096)");
        ROW(tg_set_num_threads(-1) == -1, TG_ERR_VALUE, "set_num_threads: -1 threads");
        ROW(tg_set_num_threads(100000) == -1, TG_ERR_VALUE, "set_num_threads: 100000 threads"););
    fclose(sink);
}

/* ---- core: grad_report.h ------------------------------------------------------------ */

static void grad_report_h(void) {
    tg_tensor *p = tg_requires_grad_(tg_ones(TG_SHAPE(2), TG_F64), true);
    CHECK(tg_backward(tg_sum(p), NULL) == 0);
    tg_grad_report *r = tg_grad_report_new();
    CHECK(r != NULL);
    FILE *full = fopen("/dev/full", "w"); /* every write fails: no space left */
    CHECK(full != NULL);
    TABLE(ROW(tg_grad_report_set_tolerance(NULL, 0, 0) == -1, TG_ERR_NULL,
              "grad_report_set_tolerance: argument is NULL");
          ROW(tg_grad_report_set_tolerance(r, -1e-7, 0) == -1, TG_ERR_VALUE,
              "grad_report_set_tolerance: rtol -1e-07 and atol 0 must be finite and >= 0");
          ROW(tg_grad_report_set_tolerance(r, 0, -1) == -1, TG_ERR_VALUE, "atol -1 must be");
          ROW(tg_grad_report_set_tolerance(r, NAN, 0) == -1, TG_ERR_VALUE, "rtol nan");
          ROW(tg_grad_report_set_tolerance(r, 0, INFINITY) == -1, TG_ERR_VALUE, "atol inf");
          ROW(tg_grad_report_check(NULL, "dp", tg_grad(p), p) == -1, TG_ERR_NULL,
              "grad_report_check: argument is NULL");
          ROW(tg_grad_report_check(r, NULL, tg_grad(p), p) == -1, TG_ERR_NULL,
              "grad_report_check: argument is NULL");
          ROW(tg_grad_report_check(r, "dp", tg_grad(p), NULL) == -1, TG_ERR_NULL,
              "grad_report_check: argument is NULL");
          ROW(tg_grad_report_print(NULL, stdout) == -1, TG_ERR_NULL,
              "grad_report_print: argument is NULL");
          ROW(tg_grad_report_print(r, NULL) == -1, TG_ERR_NULL,
              "grad_report_print: argument is NULL");
          ROW(tg_grad_report_print(r, full) == -1, TG_ERR_IO,
              "grad_report_print: cannot write the report");
          ROW(!tg_grad_report_all_ok(NULL), TG_ERR_NULL, "grad_report_all_ok: argument is NULL"););
    fclose(full);
    tg_grad_report_free(r);
}

/* ---- core: safetensors.h -------------------------------------------------------------- */

/* How many entries of dir start with prefix. */
static int count_files(const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return n;
}

static void safetensors_h(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32);
    tg_named_tensor one[] = {{"a", a}};
    const char *good = in_dir("good.safetensors");
    CHECK(tg_save_safetensors(good, 1, one) == 0);
    tg_safetensors *f = tg_safetensors_open(good);
    CHECK(f != NULL);
    CHECK(mkdir(in_dir("sub"), 0755) == 0);
    tg_tensor *ex = expanded(TG_F32);
    TABLE(
        ROW(tg_save_safetensors(NULL, 1, one) == -1, TG_ERR_NULL,
            "save_safetensors: argument is NULL");
        ROW(tg_save_safetensors(in_dir("x"), 1, NULL) == -1, TG_ERR_NULL,
            "save_safetensors: argument is NULL");
        ROW(tg_save_safetensors(in_dir("x"), -1, one) == -1, TG_ERR_VALUE, "save_safetensors");
        ROW(tg_save_safetensors(in_dir("x"), 1, (tg_named_tensor[]){{NULL, a}}) == -1, TG_ERR_NULL,
            "save_safetensors: argument is NULL");
        ROW(tg_save_safetensors(in_dir("x"), 1, (tg_named_tensor[]){{"a", NULL}}) == -1,
            TG_ERR_NULL, "save_safetensors: argument is NULL");
        ROW(tg_save_safetensors(in_dir("x"), 2, (tg_named_tensor[]){{"a", a}, {"a", a}}) == -1,
            TG_ERR_VALUE, "save_safetensors: the name 'a' is given twice");
        ROW(tg_save_safetensors(in_dir("x"), 1, (tg_named_tensor[]){{"__metadata__", a}}) == -1,
            TG_ERR_VALUE, "save_safetensors: '__metadata__' is reserved");
        ROW(tg_save_safetensors(in_dir("x"), 1, (tg_named_tensor[]){{"bad\xff\xfe", a}}) == -1,
            TG_ERR_VALUE, "save_safetensors: the name of tensor 0 is not valid UTF-8");
        ROW(tg_save_safetensors("/nonexistent/x.safetensors", 1, one) == -1, TG_ERR_IO,
            "save_safetensors: cannot write /nonexistent/x.safetensors");
        ROW(tg_save_safetensors(in_dir("sub"), 1, one) == -1, TG_ERR_IO,
            "save_safetensors: cannot write");
        ROW(tg_save_safetensors("", 1, one) == -1, TG_ERR_IO, "save_safetensors: cannot write");
        ROW(tg_load_safetensors(NULL, 1, one) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_load_safetensors(good, 1, NULL) == -1, TG_ERR_NULL,
            "load_safetensors: argument is NULL");
        ROW(tg_load_safetensors(good, -1, one) == -1, TG_ERR_VALUE, "load_safetensors");
        ROW(tg_load_safetensors(good, 1, (tg_named_tensor[]){{NULL, a}}) == -1, TG_ERR_NULL,
            "load_safetensors: argument is NULL");
        ROW(tg_load_safetensors(good, 1, (tg_named_tensor[]){{"a", NULL}}) == -1, TG_ERR_NULL,
            "load_safetensors: argument is NULL");
        ROW(tg_load_safetensors(in_dir("missing"), 1, one) == -1, TG_ERR_IO,
            "safetensors: cannot open");
        ROW(tg_load_safetensors(in_dir("sub"), 1, one) == -1, TG_ERR_IO, "sub: not a regular file");
        ROW(tg_load_safetensors("", 1, one) == -1, TG_ERR_IO, "safetensors: cannot open");
        ROW(tg_load_safetensors(good, 1, (tg_named_tensor[]){{"b", a}}) == -1, TG_ERR_VALUE,
            "has no tensor 'b'");
        ROW(tg_load_safetensors(good, 0, NULL) == -1, TG_ERR_VALUE,
            "holds an unexpected tensor 'a'");
        ROW(tg_load_safetensors(good, 1,
                                (tg_named_tensor[]){{"a", tg_ones(TG_SHAPE(3, 2), TG_F32)}}) == -1,
            TG_ERR_SHAPE, "tensor 'a' is float32 (2, 3) in the file, float32 (3, 2) here");
        ROW(tg_load_safetensors(good, 1,
                                (tg_named_tensor[]){{"a", tg_ones(TG_SHAPE(2, 3), TG_F64)}}) == -1,
            TG_ERR_SHAPE, "float64 (2, 3) here");
        ROW(tg_load_safetensors(good, 1, (tg_named_tensor[]){{"a", ex}}) == -1, TG_ERR_VALUE,
            "load_safetensors: unsupported operation: more than one element of the written-to "
            "tensor refers to a single memory location");
        ROW(tg_safetensors_open(NULL) == NULL, TG_ERR_NULL, "safetensors_open: argument is NULL");
        ROW(tg_safetensors_open(in_dir("missing")) == NULL, TG_ERR_IO, "safetensors: cannot open");
        ROW(tg_safetensors_open(in_dir("sub")) == NULL, TG_ERR_IO, "sub: not a regular file");
        ROW(tg_safetensors_get(NULL, "a") == NULL, TG_ERR_NULL,
            "safetensors_get: argument is NULL");
        ROW(tg_safetensors_get(f, NULL) == NULL, TG_ERR_NULL, "safetensors_get: argument is NULL");
        ROW(tg_safetensors_get(f, "b") == NULL, TG_ERR_VALUE, "has no tensor 'b'");
        ROW(tg_safetensors_metadata(NULL, "a") == NULL, TG_ERR_NULL,
            "safetensors_metadata: argument is NULL");
        ROW(tg_safetensors_metadata(f, NULL) == NULL, TG_ERR_NULL,
            "safetensors_metadata: argument is NULL");
        ROW(tg_safetensors_metadata(f, "a") == NULL, TG_ERR_VALUE, "has no metadata 'a'");
        ROW(tg_save_safetensors_with_metadata(NULL, 1, one, 0, NULL) == -1, TG_ERR_NULL,
            "save_safetensors: argument is NULL");
        ROW(tg_save_safetensors_with_metadata(in_dir("x"), 1, one, 1, NULL) == -1, TG_ERR_NULL,
            "save_safetensors: argument is NULL");
        ROW(tg_save_safetensors_with_metadata(in_dir("x"), 1, one, -2, NULL) == -1, TG_ERR_VALUE,
            "save_safetensors: -2 metadata entries");
        ROW(tg_save_safetensors_with_metadata(in_dir("x"), 1, one, 1,
                                              (tg_metadata_entry[]){{NULL, "v"}}) == -1,
            TG_ERR_NULL, "save_safetensors: argument is NULL");
        ROW(tg_save_safetensors_with_metadata(in_dir("x"), 1, one, 2,
                                              (tg_metadata_entry[]){{"k", "v"}, {"k", "w"}}) == -1,
            TG_ERR_VALUE, "save_safetensors: the metadata key 'k' is given twice");
        ROW(tg_save_safetensors_with_metadata(in_dir("x"), 1, one, 1,
                                              (tg_metadata_entry[]){{"k", "\xff"}}) == -1,
            TG_ERR_VALUE, "save_safetensors: the value of metadata entry 0 is not valid UTF-8");
        ROW(tg_save_safetensors_with_metadata("/nonexistent/x.safetensors", 1, one, 1,
                                              (tg_metadata_entry[]){{"k", "v"}}) == -1,
            TG_ERR_IO, "save_safetensors: cannot write /nonexistent/x.safetensors"););
    tg_safetensors_close(f);
    /* The failed saves left no file and no temporary file behind. */
    CHECK(count_files("x") == 0 && count_files("sub.tmp") == 0);
    rmdir(in_dir("sub"));
    unlink(good);
}

/* ---- ops: ops.h --------------------------------------------------------------------------- */

typedef tg_tensor *(*binary_fn)(tg_tensor *, tg_tensor *);
typedef tg_tensor *(*unary_fn)(tg_tensor *);
typedef tg_tensor *(*scalar_fn)(tg_tensor *, double);

static void ops_h(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32), *b = tg_ones(TG_SHAPE(2, 3), TG_F64);
    tg_tensor *c = tg_ones(TG_SHAPE(4), TG_F32), *ex = expanded(TG_F32), *p = leaf();
    tg_tensor *idx = tg_zeros(TG_SHAPE(2), TG_I64), *idx2 = tg_zeros(TG_SHAPE(2, 2), TG_I64);
    struct {
        const char *name;
        binary_fn fn;
    } binary[] = {{"add", tg_add}, {"sub", tg_sub},         {"mul", tg_mul},
                  {"div", tg_div}, {"maximum", tg_maximum}, {"minimum", tg_minimum},
                  {"pow", tg_pow}, {"xlogy", tg_xlogy}};
    struct {
        const char *name;
        unary_fn fn;
    } unary[] = {{"neg", tg_neg},       {"exp", tg_exp},     {"log", tg_log},
                 {"sqrt", tg_sqrt},     {"abs", tg_abs},     {"sum", tg_sum},
                 {"mean", tg_mean},     {"rsqrt", tg_rsqrt}, {"reciprocal", tg_reciprocal},
                 {"square", tg_square}, {"sign", tg_sign},   {"sin", tg_sin},
                 {"cos", tg_cos},       {"log1p", tg_log1p}, {"expm1", tg_expm1}};
    tg_tensor *ints = tg_zeros(TG_SHAPE(2), TG_I64);
    scalar_fn scalar[] = {tg_add_scalar, tg_sub_scalar, tg_rsub_scalar,
                          tg_mul_scalar, tg_div_scalar, tg_pow_scalar};
    char want[128];
    TABLE(
        for (size_t i = 0; i < sizeof binary / sizeof *binary; i++) {
            snprintf(want, sizeof want, "%s: argument is NULL", binary[i].name);
            ROW(binary[i].fn(NULL, a) == NULL, TG_ERR_NULL, want);
            ROW(binary[i].fn(a, NULL) == NULL, TG_ERR_NULL, want);
            snprintf(want, sizeof want, "%s: dtypes float32 and float64 differ", binary[i].name);
            ROW(binary[i].fn(a, b) == NULL, TG_ERR_DTYPE, want);
            snprintf(want, sizeof want, "%s: shapes (2, 3) and (4,) cannot be broadcast",
                     binary[i].name);
            ROW(binary[i].fn(a, c) == NULL, TG_ERR_SHAPE, want);
        } for (size_t i = 0; i < sizeof unary / sizeof *unary; i++) {
            snprintf(want, sizeof want, "%s: argument is NULL", unary[i].name);
            ROW(unary[i].fn(NULL) == NULL, TG_ERR_NULL, want);
        } for (size_t i = 0; i < sizeof scalar / sizeof *scalar; i++)
            ROW(scalar[i](NULL, 2) == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_clamp(NULL, 0, 1) == NULL, TG_ERR_NULL, "clamp: argument is NULL");
        ROW(tg_clamp_min(NULL, 0) == NULL, TG_ERR_NULL, "clamp_min: argument is NULL");
        ROW(tg_clamp_max(NULL, 0) == NULL, TG_ERR_NULL, "clamp_max: argument is NULL");
        ROW(tg_sin(ints) == NULL, TG_ERR_DTYPE,
            "sin: expected a floating-point tensor, got int64 (convert with tg_to_dtype)");
        ROW(tg_square(ints) == NULL, TG_ERR_DTYPE,
            "square: expected a floating-point tensor, got int64");
        ROW(tg_clamp_min(ints, 0) == NULL, TG_ERR_DTYPE,
            "clamp_min: expected a floating-point tensor, got int64");
        ROW(tg_pow(ints, ints) == NULL, TG_ERR_DTYPE,
            "pow: expected a floating-point tensor, got int64");
        ROW(tg_xlogy(idx, idx) == NULL, TG_ERR_DTYPE,
            "xlogy: expected a floating-point tensor, got int64");
        ROW(tg_where(NULL, a, a) == NULL, TG_ERR_NULL, "where: argument is NULL");
        ROW(tg_where(tg_ne(a, a), a, b) == NULL, TG_ERR_DTYPE,
            "where: dtypes float32 and float64 differ");
        ROW(tg_where(tg_ne(c, c), a, a) == NULL, TG_ERR_SHAPE, "where: shapes");
        ROW(tg_where(a, a, a) == NULL, TG_ERR_DTYPE,
            "where: expected the condition to be a bool tensor, got float32");
        ROW(tg_eq(NULL, a) == NULL, TG_ERR_NULL, "eq: argument is NULL");
        ROW(tg_lt(a, b) == NULL, TG_ERR_DTYPE, "lt: dtypes float32 and float64 differ");
        ROW(tg_ge(a, c) == NULL, TG_ERR_SHAPE, "ge: shapes (2, 3) and (4,) cannot be broadcast");
        ROW(tg_ne_scalar(NULL, 0) == NULL, TG_ERR_NULL, "ne: argument is NULL");
        ROW(tg_add_(NULL, a, 1) == -1, TG_ERR_NULL, "add_: argument is NULL");
        ROW(tg_add_(a, NULL, 1) == -1, TG_ERR_NULL, "add_: argument is NULL");
        ROW(tg_add_(a, b, 1) == -1, TG_ERR_DTYPE, "add_: dtypes float32 and float64 differ");
        ROW(tg_add_(c, a, 1) == -1, TG_ERR_SHAPE,
            "add_: shapes (4,) and (2, 3) cannot be broadcast");
        ROW(tg_add_(tg_ones(TG_SHAPE(3), TG_F32), a, 1) == -1, TG_ERR_SHAPE,
            "add_: shape (2, 3) cannot be broadcast to the output shape (3,)");
        ROW(tg_add_(ex, a, 1) == -1, TG_ERR_VALUE,
            "add_: unsupported operation: more than one element of the written-to tensor refers to "
            "a single memory location");
        ROW(tg_add_(p, a, 1) == -1, TG_ERR_GRAPH,
            "add_: a leaf tensor that requires grad cannot be changed in place");
        ROW(tg_mul_(NULL, a) == -1, TG_ERR_NULL, "mul_: argument is NULL");
        ROW(tg_mul_(a, b) == -1, TG_ERR_DTYPE, "mul_: dtypes float32 and float64 differ");
        ROW(tg_mul_(ex, a) == -1, TG_ERR_VALUE,
            "mul_: unsupported operation: more than one element of the written-to tensor refers to "
            "a single memory location");
        ROW(tg_mul_(p, a) == -1, TG_ERR_GRAPH, "mul_: a leaf tensor that requires grad");
        ROW(tg_mul_scalar_(NULL, 2) == -1, TG_ERR_NULL, "mul_scalar_: argument is NULL");
        ROW(tg_mul_scalar_(ex, 2) == -1, TG_ERR_VALUE,
            "mul_scalar_: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location");
        ROW(tg_mul_scalar_(p, 2) == -1, TG_ERR_GRAPH,
            "mul_scalar_: a leaf tensor that requires grad");
        ROW(tg_div_(NULL, a) == -1, TG_ERR_NULL, "div_: argument is NULL");
        ROW(tg_div_(a, b) == -1, TG_ERR_DTYPE, "div_: dtypes float32 and float64 differ");
        ROW(tg_div_(p, a) == -1, TG_ERR_GRAPH, "div_: a leaf tensor that requires grad");
        ROW(tg_div_scalar_(NULL, 2) == -1, TG_ERR_NULL, "div_scalar_: argument is NULL");
        ROW(tg_div_scalar_(ex, 2) == -1, TG_ERR_VALUE,
            "div_scalar_: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location");
        ROW(tg_fill_(NULL, 1) == -1, TG_ERR_NULL, "fill_: argument is NULL");
        ROW(tg_fill_(ex, 1) == -1, TG_ERR_VALUE,
            "fill_: unsupported operation: more than one element of the written-to tensor refers "
            "to a single memory location");
        ROW(tg_fill_(p, 1) == -1, TG_ERR_GRAPH, "fill_: a leaf tensor that requires grad");
        ROW(tg_zero_(NULL) == -1, TG_ERR_NULL, "zero_: argument is NULL");
        ROW(tg_zero_(ex) == -1, TG_ERR_VALUE,
            "zero_: unsupported operation: more than one element of the written-to tensor refers "
            "to a single memory location");
        ROW(tg_zero_(p) == -1, TG_ERR_GRAPH, "zero_: a leaf tensor that requires grad");
        ROW(tg_copy_(NULL, a) == -1, TG_ERR_NULL, "copy_: argument is NULL");
        ROW(tg_copy_(a, NULL) == -1, TG_ERR_NULL, "copy_: argument is NULL");
        ROW(tg_copy_(a, c) == -1, TG_ERR_SHAPE,
            "copy_: shapes (2, 3) and (4,) cannot be broadcast");
        ROW(tg_copy_(ex, a) == -1, TG_ERR_VALUE,
            "copy_: unsupported operation: more than one element of the written-to tensor refers "
            "to a single memory location");
        ROW(tg_copy_(p, a) == -1, TG_ERR_GRAPH, "copy_: a leaf tensor that requires grad");
        ROW(tg_index_select(NULL, 0, idx) == NULL, TG_ERR_NULL, "index_select: argument is NULL");
        ROW(tg_index_select(a, 0, NULL) == NULL, TG_ERR_NULL, "index_select: argument is NULL");
        ROW(tg_index_select(a, 0, c) == NULL, TG_ERR_DTYPE,
            "index_select: expected dtype int64 for index, got float32");
        ROW(tg_gather(NULL, 0, idx2) == NULL, TG_ERR_NULL, "gather: argument is NULL");
        ROW(tg_gather(a, 0, NULL) == NULL, TG_ERR_NULL, "gather: argument is NULL");
        ROW(tg_gather(a, 1, a) == NULL, TG_ERR_DTYPE,
            "gather: expected dtype int64 for index, got float32");
        ROW(tg_gather(a, 1, tg_full(TG_SHAPE(1, 1), 3, TG_I64)) == NULL, TG_ERR_VALUE,
            "gather: index 3 is out of bounds for dimension 1 with size 3");
        ROW(tg_scatter_add(NULL, 0, idx2, a) == NULL, TG_ERR_NULL, "scatter_add: argument is NULL");
        ROW(tg_scatter_add(a, 0, NULL, a) == NULL, TG_ERR_NULL, "scatter_add: argument is NULL");
        ROW(tg_scatter_add(a, 0, idx2, NULL) == NULL, TG_ERR_NULL, "scatter_add: argument is NULL");
        ROW(tg_scatter_add(a, 0, idx2, b) == NULL, TG_ERR_DTYPE,
            "scatter_add: dtypes float32 and float64 differ");
        ROW(tg_scatter_add_(NULL, 0, idx2, a) == -1, TG_ERR_NULL, "scatter_add_: argument is NULL");
        ROW(tg_scatter_add_(a, 0, NULL, a) == -1, TG_ERR_NULL, "scatter_add_: argument is NULL");
        ROW(tg_scatter_add_(a, 0, idx2, NULL) == -1, TG_ERR_NULL, "scatter_add_: argument is NULL");
        ROW(tg_scatter_add_(ex, 0, idx2, a) == -1, TG_ERR_VALUE,
            "scatter_add_: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location");
        ROW(tg_scatter_add_(p, 0, idx2, a) == -1, TG_ERR_GRAPH,
            "scatter_add_: a leaf tensor that requires grad");
        ROW(tg_one_hot(NULL, -1) == NULL, TG_ERR_NULL, "one_hot: argument is NULL");
        ROW(tg_one_hot(a, -1) == NULL, TG_ERR_DTYPE,
            "one_hot: expected dtype int64 for labels, got float32");
        ROW(tg_embedding(NULL, idx, TG_EMBEDDING_NO_PADDING) == NULL, TG_ERR_NULL,
            "embedding: argument is NULL");
        ROW(tg_embedding(a, NULL, TG_EMBEDDING_NO_PADDING) == NULL, TG_ERR_NULL,
            "embedding: argument is NULL");
        ROW(tg_embedding(a, a, TG_EMBEDDING_NO_PADDING) == NULL, TG_ERR_DTYPE,
            "embedding: expected dtype int64 for indices, got float32");
        ROW(tg_embedding(c, idx, TG_EMBEDDING_NO_PADDING) == NULL, TG_ERR_SHAPE,
            "embedding: 'weight' must be 2-D, got shape (4,)"););
}

/* ---- ops: activation.h, dropout.h, linalg.h ------------------------------------------------ */

static void activation_dropout_linalg_h(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32), *b = tg_ones(TG_SHAPE(2, 3), TG_F64);
    tg_tensor *odd = tg_ones(TG_SHAPE(2, 3), TG_F32), *c = tg_ones(TG_SHAPE(4), TG_F32);
    tg_tensor *zero_dim = tg_scalar(1, TG_F32);
    struct {
        const char *name;
        unary_fn fn;
    } unary[] = {{"relu", tg_relu},
                 {"sigmoid", tg_sigmoid},
                 {"tanh", tg_tanh},
                 {"silu", tg_silu},
                 {"selu", tg_selu},
                 {"relu6", tg_relu6},
                 {"hardsigmoid", tg_hardsigmoid},
                 {"hardswish", tg_hardswish},
                 {"mish", tg_mish},
                 {"logsigmoid", tg_logsigmoid},
                 {"softsign", tg_softsign},
                 {"tanhshrink", tg_tanhshrink}};
    tg_tensor *ints = tg_zeros(TG_SHAPE(2), TG_I64);
    char want[128];
    TABLE(for (size_t i = 0; i < sizeof unary / sizeof *unary; i++) {
        snprintf(want, sizeof want, "%s: argument is NULL", unary[i].name);
        ROW(unary[i].fn(NULL) == NULL, TG_ERR_NULL, want);
        snprintf(want, sizeof want, "%s: expected a floating-point tensor, got int64",
                 unary[i].name);
        ROW(unary[i].fn(ints) == NULL, TG_ERR_DTYPE, want);
    } ROW(tg_leaky_relu(NULL, 0.01) == NULL, TG_ERR_NULL, "leaky_relu: argument is NULL");
          ROW(tg_elu(NULL, 1) == NULL, TG_ERR_NULL, "elu: argument is NULL");
          ROW(tg_celu(NULL, 1) == NULL, TG_ERR_NULL, "celu: argument is NULL");
          ROW(tg_celu(a, 0) == NULL, TG_ERR_VALUE,
              "celu: ZeroDivisionError: alpha cannot be 0 for CELU");
          ROW(tg_celu(ints, 1) == NULL, TG_ERR_DTYPE,
              "celu: expected a floating-point tensor, got int64");
          ROW(tg_hardtanh(NULL, -1, 1) == NULL, TG_ERR_NULL, "hardtanh: argument is NULL");
          ROW(tg_hardtanh(ints, -1, 1) == NULL, TG_ERR_DTYPE,
              "hardtanh: expected a floating-point tensor, got int64");
          ROW(tg_softplus(NULL, 1, 20) == NULL, TG_ERR_NULL, "softplus: argument is NULL");
          ROW(tg_prelu(NULL, tg_ones(TG_SHAPE(1), TG_F32)) == NULL, TG_ERR_NULL,
              "prelu: argument is NULL");
          ROW(tg_prelu(a, NULL) == NULL, TG_ERR_NULL, "prelu: argument is NULL");
          ROW(tg_prelu(a, tg_ones(TG_SHAPE(1), TG_F64)) == NULL, TG_ERR_DTYPE,
              "prelu: dtypes float32 and float64 differ");
          ROW(tg_prelu(a, tg_ones(TG_SHAPE(2), TG_F32)) == NULL, TG_ERR_SHAPE, "prelu");
          ROW(tg_prelu(a, tg_ones(TG_SHAPE(1, 1), TG_F32)) == NULL, TG_ERR_SHAPE,
              "prelu: weight must be one value or 1-D, got shape (1, 1)");
          ROW(tg_rrelu(NULL, 0.1, 0.3, TG_TRAIN, NULL) == NULL, TG_ERR_NULL,
              "rrelu: argument is NULL");
          ROW(tg_rrelu(a, 0.5, 0.1, TG_TRAIN, NULL) == NULL, TG_ERR_VALUE,
              "rrelu: lower bound 0.5 is greater than upper bound 0.1");
          ROW(tg_rrelu(a, NAN, 0.1, TG_TRAIN, NULL) == NULL, TG_ERR_VALUE, "rrelu");
          ROW(tg_gelu(NULL, TG_GELU_NONE) == NULL, TG_ERR_NULL, "gelu: argument is NULL");
          ROW(tg_gelu(a, (tg_gelu_approx)7) == NULL, TG_ERR_VALUE, "gelu");
          ROW(tg_gelu(a, (tg_gelu_approx)-1) == NULL, TG_ERR_VALUE, "gelu");
          ROW(tg_swish(NULL, tg_ones(TG_SHAPE(1), TG_F32)) == NULL, TG_ERR_NULL,
              "swish: argument is NULL");
          ROW(tg_swish(a, NULL) == NULL, TG_ERR_NULL, "swish: argument is NULL");
          ROW(tg_swish(a, tg_ones(TG_SHAPE(2), TG_F32)) == NULL, TG_ERR_SHAPE,
              "swish: beta must have one element, got shape (2,)");
          ROW(tg_swish(a, tg_ones(TG_SHAPE(1), TG_F64)) == NULL, TG_ERR_DTYPE,
              "swish: dtypes float32 and float64 differ");
          ROW(tg_glu(NULL, -1) == NULL, TG_ERR_NULL, "glu: argument is NULL");
          ROW(tg_glu(odd, -1) == NULL, TG_ERR_SHAPE, "glu");
          ROW(tg_glu(a, 2) == NULL, TG_ERR_VALUE, "glu: dim 2 out of range for a 2-dim tensor");
          ROW(tg_glu(zero_dim, 0) == NULL, TG_ERR_SHAPE,
              "glu: a 0-dim tensor cannot be split into halves");
          ROW(tg_swiglu(NULL, a) == NULL, TG_ERR_NULL, "argument is NULL");
          ROW(tg_swiglu(a, b) == NULL, TG_ERR_DTYPE, "dtypes float32 and float64 differ");
          ROW(tg_swiglu(a, c) == NULL, TG_ERR_SHAPE,
              "gate of shape (2, 3) and up of shape (4,) must have one shape");
          ROW(tg_reglu(a, NULL) == NULL, TG_ERR_NULL, "argument is NULL");
          ROW(tg_reglu(a, c) == NULL, TG_ERR_SHAPE, "must have one shape");
          ROW(tg_geglu(a, c, TG_GELU_NONE) == NULL, TG_ERR_SHAPE, "must have one shape");
          ROW(tg_geglu(a, a, (tg_gelu_approx)7) == NULL, TG_ERR_VALUE, "geglu");
          ROW(tg_dropout(NULL, 0.5, TG_TRAIN, NULL) == NULL, TG_ERR_NULL,
              "dropout: argument is NULL");
          ROW(tg_dropout(a, 1.5, TG_TRAIN, NULL) == NULL, TG_ERR_VALUE,
              "dropout: probability p must be in [0, 1], got 1.5");
          ROW(tg_dropout(a, -0.1, TG_TRAIN, NULL) == NULL, TG_ERR_VALUE,
              "dropout: probability p must be in [0, 1], got -0.1");
          ROW(tg_dropout(a, NAN, TG_EVAL, NULL) == NULL, TG_ERR_VALUE,
              "dropout: probability p must be in [0, 1], got nan");
          ROW(tg_matmul(NULL, a) == NULL, TG_ERR_NULL, "matmul: argument is NULL");
          ROW(tg_matmul(a, NULL) == NULL, TG_ERR_NULL, "matmul: argument is NULL");
          ROW(tg_matmul(a, a) == NULL, TG_ERR_SHAPE,
              "matmul: shapes (2, 3) and (2, 3) cannot be multiplied");
          ROW(tg_matmul(a, tg_ones(TG_SHAPE(3, 2), TG_F64)) == NULL, TG_ERR_DTYPE,
              "matmul: dtypes float32 and float64 differ");
          ROW(tg_matmul(zero_dim, a) == NULL, TG_ERR_SHAPE, "matmul");
          ROW(tg_matmul(tg_ones(TG_SHAPE(2, 2, 3), TG_F32), tg_ones(TG_SHAPE(3, 3, 2), TG_F32)) ==
                  NULL,
              TG_ERR_SHAPE, "matmul");
          ROW(tg_linear(NULL, a, NULL) == NULL, TG_ERR_NULL, "linear: argument is NULL");
          ROW(tg_linear(a, NULL, NULL) == NULL, TG_ERR_NULL, "linear: argument is NULL");
          ROW(tg_linear(a, tg_ones(TG_SHAPE(4, 2), TG_F32), NULL) == NULL, TG_ERR_SHAPE,
              "linear: input of shape (2, 3) does not fit weight of shape (4, 2)");
          ROW(tg_linear(a, tg_ones(TG_SHAPE(4, 3), TG_F32), tg_ones(TG_SHAPE(3), TG_F32)) == NULL,
              TG_ERR_SHAPE, "linear");
          ROW(tg_linear(a, tg_ones(TG_SHAPE(4, 3), TG_F64), NULL) == NULL, TG_ERR_DTYPE,
              "linear: dtypes float32 and float64 differ");
          ROW(tg_linear(a, tg_ones(TG_SHAPE(4, 3), TG_F32), tg_ones(TG_SHAPE(4), TG_F64)) == NULL,
              TG_ERR_DTYPE, "linear: dtypes"););
}

/* ---- ops: loss.h, reduce.h ---------------------------------------------------------------- */

static void loss_reduce_h(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32), *b = tg_ones(TG_SHAPE(2, 3), TG_F64);
    tg_tensor *c = tg_ones(TG_SHAPE(3), TG_F32), *empty = tg_ones(TG_SHAPE(2, 0), TG_F32);
    tg_tensor *c2 = tg_ones(TG_SHAPE(2), TG_F32);
    tg_tensor *target = tg_from_data((int64_t[]){0, 2}, TG_SHAPE(2), TG_I64);
    tg_tensor *far = tg_from_data((int64_t[]){0, 3}, TG_SHAPE(2), TG_I64);
    tg_tensor *negative = tg_from_data((int64_t[]){-5, 0}, TG_SHAPE(2), TG_I64);
    tg_tensor *float_target = tg_zeros(TG_SHAPE(2), TG_F32);
    tg_tensor *idx;
    tg_cross_entropy_options o = tg_cross_entropy_defaults();
    tg_cross_entropy_options smooth = o, weight_shape = o, weight_dtype = o, ignore = o, red = o;
    smooth.label_smoothing = 1.5;
    weight_shape.weight = tg_ones(TG_SHAPE(2), TG_F32);
    weight_dtype.weight = tg_ones(TG_SHAPE(3), TG_F64);
    ignore.ignore_index = 0;
    red.reduction = (tg_reduction)7;
    tg_nll_loss_options nll_weight = {TG_REDUCTION_MEAN, weight_shape.weight, -100};
    tg_nll_loss_options nll_red = {(tg_reduction)7, NULL, -100};
    tg_tensor *twos = tg_full(TG_SHAPE(2, 3), 2, TG_F32);
    tg_bce_with_logits_options bce_weight = {TG_REDUCTION_MEAN, c2, NULL},
                               bce_pos = {TG_REDUCTION_SUM, NULL, b},
                               bce_batchmean = {TG_REDUCTION_BATCHMEAN, NULL, NULL};
    TABLE(ROW(tg_mse_loss(NULL, a, TG_REDUCTION_MEAN) == NULL, TG_ERR_NULL,
              "mse_loss: argument is NULL");
          ROW(tg_mse_loss(a, b, TG_REDUCTION_MEAN) == NULL, TG_ERR_DTYPE,
              "mse_loss: dtypes float32 and float64 differ");
          ROW(tg_mse_loss(a, c, TG_REDUCTION_MEAN) == NULL, TG_ERR_SHAPE,
              "mse_loss: target shape (3,) does not match input shape (2, 3)");
          ROW(tg_mse_loss(a, a, (tg_reduction)7) == NULL, TG_ERR_VALUE, "mse_loss");
          ROW(tg_cross_entropy(NULL, target, TG_REDUCTION_MEAN) == NULL, TG_ERR_NULL,
              "cross_entropy: argument is NULL");
          ROW(tg_cross_entropy(a, NULL, TG_REDUCTION_MEAN) == NULL, TG_ERR_NULL,
              "cross_entropy: argument is NULL");
          ROW(tg_cross_entropy(a, far, TG_REDUCTION_MEAN) == NULL, TG_ERR_VALUE,
              "cross_entropy: Target 3 is out of bounds: target[1] is not in [0, 3)");
          ROW(tg_cross_entropy(a, negative, TG_REDUCTION_MEAN) == NULL, TG_ERR_VALUE,
              "cross_entropy: Target -5 is out of bounds: target[0]");
          ROW(tg_cross_entropy(a, float_target, TG_REDUCTION_MEAN) == NULL, TG_ERR_DTYPE,
              "cross_entropy: expected scalar type Long but found Float");
          ROW(tg_cross_entropy(a, c, TG_REDUCTION_MEAN) == NULL, TG_ERR_SHAPE,
              "Expected input batch_size (2) to match target batch_size (3).");
          ROW(tg_cross_entropy(a, target, (tg_reduction)7) == NULL, TG_ERR_VALUE, "cross_entropy");
          ROW(tg_cross_entropy(tg_scalar(1, TG_F32), target, TG_REDUCTION_MEAN) == NULL,
              TG_ERR_SHAPE, "cross_entropy: Expected 1 or more dimensions (got 0)");
          ROW(tg_cross_entropy_ex(a, target, &smooth) == NULL, TG_ERR_VALUE,
              "label_smoothing 1.5 is not in [0, 1]");
          ROW(tg_cross_entropy_ex(a, target, &weight_shape) == NULL, TG_ERR_SHAPE,
              "weight of shape (2,) for 3 classes (want (3,))");
          ROW(tg_cross_entropy_ex(a, target, &weight_dtype) == NULL, TG_ERR_DTYPE,
              "weight dtype float64 differs from the logits' float32");
          ROW(tg_cross_entropy_ex(a, target, &red) == NULL, TG_ERR_VALUE, "reduction");
          ROW(tg_cross_entropy_ex(NULL, a, &o) == NULL, TG_ERR_NULL, "argument is NULL");
          ROW(tg_cross_entropy_ex(a, NULL, &o) == NULL, TG_ERR_NULL, "argument is NULL");
          ROW(tg_cross_entropy_ex(a, b, &o) == NULL, TG_ERR_DTYPE,
              "dtypes float32 and float64 differ");
          ROW(tg_cross_entropy_ex(a, a, &ignore) == NULL, TG_ERR_VALUE,
              "ignore_index is not supported for floating point target");
          ROW(tg_nll_loss(NULL, target, NULL) == NULL, TG_ERR_NULL, "nll_loss: argument is NULL");
          ROW(tg_nll_loss(a, NULL, NULL) == NULL, TG_ERR_NULL, "nll_loss: argument is NULL");
          ROW(tg_nll_loss(a, far, NULL) == NULL, TG_ERR_VALUE, "nll_loss: Target 3 is out");
          ROW(tg_nll_loss(a, float_target, NULL) == NULL, TG_ERR_DTYPE,
              "nll_loss: expected scalar type Long but found Float");
          ROW(tg_nll_loss(a, a, NULL) == NULL, TG_ERR_SHAPE,
              "nll_loss: 0D or 1D target tensor expected, multi-target not supported");
          ROW(tg_nll_loss(b, target, &nll_weight) == NULL, TG_ERR_DTYPE,
              "nll_loss: weight dtype float32 differs from the input's float64");
          ROW(tg_nll_loss(a, target, &nll_red) == NULL, TG_ERR_VALUE,
              "nll_loss: unknown reduction 7");
          ROW(tg_binary_cross_entropy_with_logits(NULL, a, TG_REDUCTION_SUM) == NULL, TG_ERR_NULL,
              "argument is NULL");
          ROW(tg_binary_cross_entropy_with_logits(a, c, TG_REDUCTION_SUM) == NULL, TG_ERR_SHAPE,
              "target shape (3,) does not match input shape (2, 3)");
          ROW(tg_binary_cross_entropy_with_logits(a, b, TG_REDUCTION_SUM) == NULL, TG_ERR_DTYPE,
              "dtypes float32 and float64 differ");
          ROW(tg_binary_cross_entropy_with_logits(a, a, (tg_reduction)-1) == NULL, TG_ERR_VALUE,
              "reduction");
          ROW(tg_binary_cross_entropy_with_logits_ex(NULL, a, NULL) == NULL, TG_ERR_NULL,
              "binary_cross_entropy_with_logits: argument is NULL");
          ROW(tg_binary_cross_entropy_with_logits_ex(a, a, &bce_weight) == NULL, TG_ERR_SHAPE,
              "binary_cross_entropy_with_logits: weight of shape (2,) does not broadcast to the "
              "input's shape (2, 3)");
          ROW(tg_binary_cross_entropy_with_logits_ex(a, a, &bce_pos) == NULL, TG_ERR_DTYPE,
              "binary_cross_entropy_with_logits: pos_weight dtype float64 differs from the "
              "input's float32");
          ROW(tg_binary_cross_entropy_with_logits_ex(a, a, &bce_batchmean) == NULL, TG_ERR_VALUE,
              "batchmean is not a valid value for reduction (kl_div's only)");
          ROW(tg_l1_loss(NULL, a, TG_REDUCTION_MEAN) == NULL, TG_ERR_NULL,
              "l1_loss: argument is NULL");
          ROW(tg_l1_loss(a, c, TG_REDUCTION_MEAN) == NULL, TG_ERR_SHAPE,
              "l1_loss: target shape (3,) does not match input shape (2, 3)");
          ROW(tg_l1_loss(a, b, TG_REDUCTION_SUM) == NULL, TG_ERR_DTYPE,
              "l1_loss: dtypes float32 and float64 differ");
          ROW(tg_l1_loss(target, target, TG_REDUCTION_SUM) == NULL, TG_ERR_DTYPE,
              "l1_loss: expected a floating-point tensor, got int64");
          ROW(tg_smooth_l1_loss(a, NULL, TG_REDUCTION_MEAN, 1) == NULL, TG_ERR_NULL,
              "smooth_l1_loss: argument is NULL");
          ROW(tg_smooth_l1_loss(a, a, TG_REDUCTION_MEAN, -1) == NULL, TG_ERR_VALUE,
              "smooth_l1_loss does not support negative values for beta (got -1)");
          ROW(tg_smooth_l1_loss(a, c, TG_REDUCTION_NONE, 1) == NULL, TG_ERR_SHAPE,
              "smooth_l1_loss: target shape (3,) does not match");
          ROW(tg_smooth_l1_loss(a, a, TG_REDUCTION_BATCHMEAN, 1) == NULL, TG_ERR_VALUE,
              "smooth_l1_loss: batchmean is not a valid value for reduction");
          ROW(tg_huber_loss(NULL, a, TG_REDUCTION_MEAN, 1) == NULL, TG_ERR_NULL,
              "huber_loss: argument is NULL");
          ROW(tg_huber_loss(a, a, TG_REDUCTION_MEAN, 0) == NULL, TG_ERR_VALUE,
              "huber_loss does not support non-positive values for delta (got 0)");
          ROW(tg_huber_loss(a, a, TG_REDUCTION_MEAN, NAN) == NULL, TG_ERR_VALUE,
              "huber_loss does not support non-positive values for delta (got nan)");
          ROW(tg_huber_loss(a, b, TG_REDUCTION_MEAN, 1) == NULL, TG_ERR_DTYPE,
              "huber_loss: dtypes float32 and float64 differ");
          ROW(tg_binary_cross_entropy(NULL, a, NULL, TG_REDUCTION_MEAN) == NULL, TG_ERR_NULL,
              "binary_cross_entropy: argument is NULL");
          ROW(tg_binary_cross_entropy(twos, a, NULL, TG_REDUCTION_MEAN) == NULL, TG_ERR_VALUE,
              "binary_cross_entropy: all elements of input should be between 0 and 1 (found 2)");
          ROW(tg_binary_cross_entropy(a, a, weight_dtype.weight, TG_REDUCTION_MEAN) == NULL,
              TG_ERR_DTYPE,
              "binary_cross_entropy: weight dtype float64 differs from the "
              "input's float32");
          ROW(tg_binary_cross_entropy(a, a, c2, TG_REDUCTION_MEAN) == NULL, TG_ERR_SHAPE,
              "binary_cross_entropy: weight of shape (2,) does not broadcast");
          ROW(tg_binary_cross_entropy(a, c, NULL, TG_REDUCTION_MEAN) == NULL, TG_ERR_SHAPE,
              "binary_cross_entropy: target shape (3,) does not match input shape (2, 3)");
          ROW(tg_kl_div(NULL, a, TG_REDUCTION_MEAN, TG_TARGET_PROBS) == NULL, TG_ERR_NULL,
              "kl_div: argument is NULL");
          ROW(tg_kl_div(a, c, TG_REDUCTION_BATCHMEAN, TG_TARGET_PROBS) == NULL, TG_ERR_SHAPE,
              "kl_div: target shape (3,) does not match input shape (2, 3)");
          ROW(tg_kl_div(a, b, TG_REDUCTION_SUM, TG_TARGET_LOG_PROBS) == NULL, TG_ERR_DTYPE,
              "kl_div: dtypes float32 and float64 differ");
          ROW(tg_kl_div(a, a, (tg_reduction)7, TG_TARGET_PROBS) == NULL, TG_ERR_VALUE,
              "kl_div: unknown reduction 7 (use TG_REDUCTION_MEAN, TG_REDUCTION_SUM or "
              "TG_REDUCTION_NONE, or TG_REDUCTION_BATCHMEAN)");
          ROW(tg_mse_loss(a, a, TG_REDUCTION_BATCHMEAN) == NULL, TG_ERR_VALUE,
              "mse_loss: batchmean is not a valid value for reduction");
          ROW(tg_cross_entropy(a, target, TG_REDUCTION_BATCHMEAN) == NULL, TG_ERR_VALUE,
              "cross_entropy: batchmean is not a valid value for reduction");
          ROW(tg_sum_dims(NULL, 1, (int[]){0}, TG_DROP_DIMS) == NULL, TG_ERR_NULL,
              "sum_dims: argument is NULL");
          ROW(tg_sum_dims(a, 1, NULL, TG_DROP_DIMS) == NULL, TG_ERR_NULL,
              "sum_dims: argument is NULL");
          ROW(tg_sum_dims(a, -1, (int[]){0}, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "sum_dims: n_dims is -1, must not be negative");
          ROW(tg_sum_dims(a, 1, (int[]){2}, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "sum_dims: dim 2 out of range for a 2-dim tensor");
          ROW(tg_sum_dims(a, 2, (int[]){1, -1}, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "sum_dims: dim 1 appears more than once");
          ROW(tg_sum_dims(a, 9, (int[]){0, 1, 0, 1, 0, 1, 0, 1, 0}, TG_DROP_DIMS) == NULL,
              TG_ERR_VALUE, "sum_dims");
          ROW(tg_mean_dims(NULL, 1, (int[]){0}, TG_KEEP_DIMS) == NULL, TG_ERR_NULL,
              "mean_dims: argument is NULL");
          ROW(tg_mean_dims(a, 1, (int[]){-3}, TG_KEEP_DIMS) == NULL, TG_ERR_VALUE,
              "mean_dims: dim -3 out of range");
          ROW(tg_mean_dims(a, -2, (int[]){0}, TG_KEEP_DIMS) == NULL, TG_ERR_VALUE,
              "mean_dims: n_dims is -2");
          ROW(tg_max_dim(NULL, 0, TG_DROP_DIMS, &idx) == NULL, TG_ERR_NULL, "argument is NULL");
          ROW(tg_max_dim(a, 2, TG_DROP_DIMS, &idx) == NULL, TG_ERR_VALUE,
              "dim 2 out of range for a 2-dim tensor");
          ROW(tg_max_dim(empty, 1, TG_DROP_DIMS, &idx) == NULL, TG_ERR_SHAPE,
              "expected reduction dim 1 to have non-zero size (shape (2, 0))");
          ROW(tg_softmax(NULL, 0) == NULL, TG_ERR_NULL, "softmax: argument is NULL");
          ROW(tg_softmax(a, 2) == NULL, TG_ERR_VALUE, "softmax: dim 2 out of range");
          ROW(tg_log_softmax(NULL, 0) == NULL, TG_ERR_NULL, "log_softmax: argument is NULL");
          ROW(tg_log_softmax(a, -3) == NULL, TG_ERR_VALUE, "log_softmax: dim -3 out of range");
          ROW(tg_amax(NULL, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_NULL, "amax: argument is NULL");
          ROW(tg_amax(a, 1, NULL, TG_DROP_DIMS) == NULL, TG_ERR_NULL, "amax: argument is NULL");
          ROW(tg_amax(a, 2, (int[]){1, -1}, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "amax: dim 1 appears more than once");
          ROW(tg_amax(empty, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_SHAPE,
              "amax: expected reduction dim 1 to have non-zero size (shape (2, 0))");
          ROW(tg_amin(a, 1, (int[]){-3}, TG_KEEP_DIMS) == NULL, TG_ERR_VALUE,
              "amin: dim -3 out of range");
          ROW(tg_amin(empty, 1, (int[]){1}, TG_KEEP_DIMS) == NULL, TG_ERR_SHAPE,
              "amin: expected reduction dim 1 to have non-zero size");
          ROW(tg_prod(NULL) == NULL, TG_ERR_NULL, "prod: argument is NULL");
          ROW(tg_prod(target) == NULL, TG_ERR_DTYPE,
              "prod: expected a floating-point tensor, got int64");
          ROW(tg_prod_dim(a, 2, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "prod_dim: dim 2 out of range for a 2-dim tensor");
          ROW(tg_var(NULL, 0, NULL, 1, TG_DROP_DIMS) == NULL, TG_ERR_NULL, "var: argument is NULL");
          ROW(tg_var(a, 2, (int[]){0, 0}, 1, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "var: dim 0 appears more than once");
          ROW(tg_var(a, 1, (int[]){1}, 4, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "var: correction 4 exceeds the 3 elements of each slice");
          ROW(tg_var(target, 0, NULL, 1, TG_DROP_DIMS) == NULL, TG_ERR_DTYPE,
              "var: expected a floating-point tensor, got int64");
          ROW(tg_std(a, -1, (int[]){0}, 1, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "std: n_dims is -1, must not be negative");
          ROW(tg_std(a, 0, NULL, 7, TG_KEEP_DIMS) == NULL, TG_ERR_VALUE,
              "std: correction 7 exceeds the 6 elements of each slice");
          ROW(tg_logsumexp(NULL, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_NULL,
              "logsumexp: argument is NULL");
          ROW(tg_logsumexp(a, 2, (int[]){0, -2}, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "logsumexp: dim 0 appears more than once");
          ROW(tg_logsumexp(target, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_DTYPE,
              "logsumexp: expected a floating-point tensor, got int64");
          ROW(tg_vector_norm(NULL, 2, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_NULL,
              "vector_norm: argument is NULL");
          ROW(tg_vector_norm(a, 0.5, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "vector_norm: ord must be at least 1, inf or -inf, got 0.5");
          ROW(tg_vector_norm(a, -1, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "vector_norm: ord must be at least 1, inf or -inf, got -1");
          ROW(tg_vector_norm(a, NAN, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "vector_norm: ord must be at least 1, inf or -inf, got nan");
          ROW(tg_vector_norm(a, 2, 2, (int[]){1, 1}, TG_DROP_DIMS) == NULL, TG_ERR_VALUE,
              "vector_norm: dim 1 appears more than once");
          ROW(tg_vector_norm(empty, INFINITY, 1, (int[]){1}, TG_DROP_DIMS) == NULL, TG_ERR_SHAPE,
              "vector_norm: cannot compute the inf norm on dim 1 because it is empty");
          ROW(tg_vector_norm(target, 2, 0, NULL, TG_DROP_DIMS) == NULL, TG_ERR_DTYPE,
              "vector_norm: expected a floating-point tensor, got int64"););
}

/* ---- ops: norm.h ------------------------------------------------------------------------- */

static void norm_h(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32), *w3 = tg_ones(TG_SHAPE(3), TG_F32);
    tg_tensor *w4 = tg_ones(TG_SHAPE(4), TG_F32), *w3d = tg_ones(TG_SHAPE(3), TG_F64);
    tg_tensor *ints = tg_ones(TG_SHAPE(2, 3), TG_I64), *bools = tg_ones(TG_SHAPE(2, 3), TG_BOOL);
    int64_t three[] = {3}, nine[9] = {0};
    TABLE(
        ROW(tg_layer_norm(NULL, 1, three, NULL, NULL, 1e-5) == NULL, TG_ERR_NULL,
            "layer_norm: argument is NULL");
        ROW(tg_layer_norm(a, 1, NULL, NULL, NULL, 1e-5) == NULL, TG_ERR_NULL,
            "layer_norm: argument is NULL");
        ROW(tg_layer_norm(a, 0, three, NULL, NULL, 1e-5) == NULL, TG_ERR_SHAPE,
            "layer_norm: Expected normalized_shape to be at least 1-dimensional");
        ROW(tg_layer_norm(a, -1, three, NULL, NULL, 1e-5) == NULL, TG_ERR_VALUE,
            "layer_norm: normalized_ndim is -1, must be in 1 .. 8");
        ROW(tg_layer_norm(a, 9, nine, NULL, NULL, 1e-5) == NULL, TG_ERR_VALUE,
            "layer_norm: normalized_ndim is 9");
        ROW(tg_layer_norm(a, TG_SHAPE(4), NULL, NULL, 1e-5) == NULL, TG_ERR_SHAPE,
            "layer_norm: Given normalized_shape=[4], expected input with shape [*, 4], but got "
            "input of size[2, 3]");
        ROW(tg_layer_norm(a, TG_SHAPE(3), w4, NULL, 1e-5) == NULL, TG_ERR_SHAPE,
            "layer_norm: Expected weight to be of same shape as normalized_shape, but got weight "
            "of shape [4] and normalized_shape = [3]");
        ROW(tg_layer_norm(a, TG_SHAPE(3), w3, w4, 1e-5) == NULL, TG_ERR_SHAPE,
            "layer_norm: Expected bias to be of same shape as normalized_shape, but got bias of "
            "shape [4] and normalized_shape = [3]");
        ROW(tg_layer_norm(a, TG_SHAPE(3), w3d, NULL, 1e-5) == NULL, TG_ERR_DTYPE,
            "layer_norm: dtypes float32 and float64 differ");
        ROW(tg_layer_norm(a, TG_SHAPE(3), NULL, w3d, 1e-5) == NULL, TG_ERR_DTYPE,
            "layer_norm: dtypes float32 and float64 differ");
        ROW(tg_layer_norm(ints, TG_SHAPE(3), NULL, NULL, 1e-5) == NULL, TG_ERR_DTYPE,
            "layer_norm: expected a floating-point tensor, got int64");
        ROW(tg_layer_norm(bools, TG_SHAPE(3), NULL, NULL, 1e-5) == NULL, TG_ERR_DTYPE,
            "layer_norm: expected a floating-point tensor, got bool");
        ROW(tg_layer_norm(a, TG_SHAPE(3), NULL, NULL, 0) == NULL, TG_ERR_VALUE,
            "layer_norm: eps must be positive and finite, got 0");
        ROW(tg_layer_norm(a, TG_SHAPE(3), NULL, NULL, -1e-5) == NULL, TG_ERR_VALUE,
            "layer_norm: eps must be positive and finite, got -1e-05");
        ROW(tg_layer_norm(a, TG_SHAPE(3), NULL, NULL, NAN) == NULL, TG_ERR_VALUE,
            "layer_norm: eps must be positive and finite, got nan");
        ROW(tg_layer_norm(a, TG_SHAPE(3), NULL, NULL, INFINITY) == NULL, TG_ERR_VALUE,
            "layer_norm: eps must be positive and finite, got inf");
        ROW(tg_rms_norm(NULL, w3, 1e-6) == NULL, TG_ERR_NULL, "rms_norm: argument is NULL");
        ROW(tg_rms_norm(a, w4, 1e-6) == NULL, TG_ERR_SHAPE,
            "rms_norm: Expected weight to be of same shape as normalized_shape, but got weight of "
            "shape [4] and normalized_shape = [3]");
        ROW(tg_rms_norm(a, w3d, 1e-6) == NULL, TG_ERR_DTYPE,
            "rms_norm: dtypes float32 and float64 differ");
        ROW(tg_rms_norm(ints, NULL, 1e-6) == NULL, TG_ERR_DTYPE,
            "rms_norm: expected a floating-point tensor, got int64");
        ROW(tg_rms_norm(tg_scalar(1, TG_F32), NULL, 1e-6) == NULL, TG_ERR_SHAPE,
            "rms_norm: expected an input of at least 1 dim");
        ROW(tg_rms_norm(a, NULL, 0) == NULL, TG_ERR_VALUE,
            "rms_norm: eps must be positive and finite, got 0");
        ROW(tg_rms_norm(a, NULL, -INFINITY) == NULL, TG_ERR_VALUE,
            "rms_norm: eps must be positive and finite, got -inf"););
}

/* ---- ops: shape.h ------------------------------------------------------------------------ */

static void shape_h(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32), *b = tg_ones(TG_SHAPE(2, 3), TG_F64);
    tg_tensor *zero_dim = tg_scalar(1, TG_F32), *out[4] = {0};
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    TABLE(
        ROW(tg_permute(NULL, 2, (int[]){1, 0}) == NULL, TG_ERR_NULL, "permute: argument is NULL");
        ROW(tg_permute(a, 2, NULL) == NULL, TG_ERR_NULL, "permute: argument is NULL");
        ROW(tg_permute(a, 3, (int[]){0, 1, 2}) == NULL, TG_ERR_VALUE,
            "permute: 3 dims given for a 2-dim tensor");
        ROW(tg_permute(a, -1, (int[]){0}) == NULL, TG_ERR_VALUE,
            "permute: -1 dims given for a 2-dim tensor");
        ROW(tg_permute(a, 2, (int[]){0, 0}) == NULL, TG_ERR_VALUE,
            "permute: dim 0 appears twice in the permutation");
        ROW(tg_permute(a, 2, (int[]){0, 2}) == NULL, TG_ERR_VALUE, "permute: dim 2 out of range");
        ROW(tg_slice(NULL, 0, 0, 1, 1) == NULL, TG_ERR_NULL, "slice: argument is NULL");
        ROW(tg_slice(a, 0, 0, 1, 0) == NULL, TG_ERR_VALUE, "slice: step must be positive, got 0");
        ROW(tg_slice(a, 0, 0, 1, -1) == NULL, TG_ERR_VALUE, "slice: step must be positive, got -1");
        ROW(tg_slice(a, 2, 0, 1, 1) == NULL, TG_ERR_VALUE, "slice: dim 2 out of range");
        ROW(tg_slice(zero_dim, 0, 0, 1, 1) == NULL, TG_ERR_SHAPE,
            "slice: a 0-dim tensor has no dim to cut along");
        ROW(tg_split(NULL, 1, 0, out, 4) == -1, TG_ERR_NULL, "split: argument is NULL");
        ROW(tg_split(a, 0, 0, out, 4) == -1, TG_ERR_VALUE,
            "split: split_size must be positive, got 0");
        ROW(tg_split(a, 1, 1, out, 2) == -1, TG_ERR_VALUE,
            "split: 3 pieces do not fit in max_out = 2");
        ROW(tg_split(a, 1, 1, out, -1) == -1, TG_ERR_VALUE,
            "split: 3 pieces do not fit in max_out = -1");
        ROW(tg_split(a, 1, 5, out, 4) == -1, TG_ERR_VALUE, "split: dim 5 out of range");
        ROW(tg_chunk(NULL, 2, 0, out, 4) == -1, TG_ERR_NULL, "chunk: argument is NULL");
        ROW(tg_chunk(a, 0, 0, out, 4) == -1, TG_ERR_VALUE, "chunk: chunks must be positive, got 0");
        ROW(tg_chunk(a, -2, 0, out, 4) == -1, TG_ERR_VALUE,
            "chunk: chunks must be positive, got -2");
        ROW(tg_chunk(a, 3, 1, out, 1) == -1, TG_ERR_VALUE,
            "chunk: 3 pieces do not fit in max_out = 1");
        ROW(tg_split_with_sizes(NULL, 2, (int64_t[]){1, 1}, 0, out, 4) == -1, TG_ERR_NULL,
            "split_with_sizes: argument is NULL");
        ROW(tg_split_with_sizes(a, 2, NULL, 0, out, 4) == -1, TG_ERR_NULL, "split_with_sizes");
        ROW(tg_split_with_sizes(a, -1, (int64_t[]){2}, 0, out, 4) == -1, TG_ERR_VALUE,
            "split_with_sizes");
        ROW(tg_split_with_sizes(a, 0, (int64_t[]){2}, 0, out, 4) == -1, TG_ERR_VALUE,
            "split_with_sizes");
        ROW(tg_split_with_sizes(a, 2, (int64_t[]){3, -1}, 0, out, 4) == -1, TG_ERR_VALUE,
            "split_with_sizes: sizes[1] = -1 is negative");
        ROW(tg_split_with_sizes(a, 2, (int64_t[]){1, 2}, 0, out, 4) == -1, TG_ERR_VALUE,
            "split_with_sizes: the sizes must add up to 2, the size of dim 0");
        ROW(tg_split_with_sizes(a, 2, (int64_t[]){INT64_MAX, INT64_MAX}, 0, out, 4) == -1,
            TG_ERR_VALUE, "split_with_sizes: the sizes must add up to 2");
        ROW(tg_split_with_sizes(a, 2, (int64_t[]){1, 1}, 0, out, 1) == -1, TG_ERR_VALUE,
            "split_with_sizes: 2 pieces do not fit in max_out = 1");
        ROW(tg_cat(0, (tg_tensor *[]){a}, 0) == NULL, TG_ERR_VALUE,
            "cat: expected a non-empty list of tensors, got 0");
        ROW(tg_cat(-1, (tg_tensor *[]){a}, 0) == NULL, TG_ERR_VALUE,
            "cat: expected a non-empty list of tensors, got -1");
        ROW(tg_cat(1, NULL, 0) == NULL, TG_ERR_NULL, "cat: argument is NULL");
        ROW(tg_cat(2, (tg_tensor *[]){a, NULL}, 0) == NULL, TG_ERR_NULL, "cat: argument is NULL");
        ROW(tg_cat(2, (tg_tensor *[]){a, b}, 0) == NULL, TG_ERR_DTYPE,
            "cat: dtypes float32 and float64 differ");
        ROW(tg_cat(2, (tg_tensor *[]){a, tg_ones(TG_SHAPE(2, 4), TG_F32)}, 0) == NULL, TG_ERR_SHAPE,
            "cat");
        ROW(tg_cat(2, (tg_tensor *[]){a, a}, 2) == NULL, TG_ERR_VALUE, "cat: dim 2 out of range");
        ROW(tg_cat(2, (tg_tensor *[]){zero_dim, zero_dim}, 0) == NULL, TG_ERR_SHAPE,
            "cat: a 0-dim tensor (tensor 0) cannot be concatenated");
        ROW(tg_unsqueeze(NULL, 0) == NULL, TG_ERR_NULL, "unsqueeze: argument is NULL");
        ROW(tg_unsqueeze(a, 3) == NULL, TG_ERR_VALUE,
            "unsqueeze: dim 3 out of range for a 2-dim tensor (-3 to 2)");
        ROW(tg_unsqueeze(a, -4) == NULL, TG_ERR_VALUE, "unsqueeze: dim -4 out of range");
        ROW(tg_unsqueeze(tg_ones(8, nine, TG_F32), 0) == NULL, TG_ERR_SHAPE,
            "unsqueeze: a tensor of 8 dims cannot gain one (at most 8)");
        ROW(tg_squeeze(NULL) == NULL, TG_ERR_NULL, "squeeze: argument is NULL");
        ROW(tg_squeeze_dim(NULL, 0) == NULL, TG_ERR_NULL, "squeeze_dim: argument is NULL");
        ROW(tg_squeeze_dim(a, 2) == NULL, TG_ERR_VALUE, "squeeze_dim: dim 2 out of range");
        ROW(tg_expand(NULL, TG_SHAPE(2, 3)) == NULL, TG_ERR_NULL, "expand: argument is NULL");
        ROW(tg_expand(a, 2, NULL) == NULL, TG_ERR_NULL, "expand");
        ROW(tg_expand(a, TG_SHAPE(3)) == NULL, TG_ERR_SHAPE,
            "expand: 1 sizes given for a 2-dim tensor");
        ROW(tg_expand(a, -1, NULL) == NULL, TG_ERR_SHAPE, "expand: -1 sizes given");
        ROW(tg_expand(a, 9, nine) == NULL, TG_ERR_SHAPE,
            "expand: 9 sizes given for a 2-dim tensor");
        ROW(tg_expand(a, TG_SHAPE(4, 3)) == NULL, TG_ERR_SHAPE,
            "expand: shape (2, 3) cannot be expanded to (4, 3)");
        ROW(tg_expand(a, TG_SHAPE(-1, 2, 3)) == NULL, TG_ERR_SHAPE, "expand");
        ROW(tg_expand(a, TG_SHAPE(-2, 2, 3)) == NULL, TG_ERR_SHAPE, "expand"););
}

/* ---- nn.h ------------------------------------------------------------------------------ */

static void nn_h(void) {
    tg_module *lin = tg_linear_new(3, 2, TG_BIAS, TG_F32, NULL);
    CHECK(lin != NULL);
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32), *ex = expanded(TG_F32);
    tg_tensor *vec = tg_ones(TG_SHAPE(3), TG_F32);
    const char *saved = in_dir("lin.safetensors"), *other = in_dir("other.safetensors");
    CHECK(tg_module_save(lin, saved) == 0);
    CHECK(tg_save_safetensors(other, 1, (tg_named_tensor[]){{"a", a}}) == 0);
    tg_ffn_options ffn = {.kind = TG_FFN_SWIGLU, .dim = 4, .multiple_of = 4, .dtype = TG_F32};
    tg_ffn_options bad_kind = ffn, bad_dim = ffn, bad_multiple = ffn, bad_dropout = ffn,
                   bad_dtype = ffn, bad_hidden = ffn, huge_hidden = ffn;
    bad_kind.kind = (tg_ffn_kind)99;
    bad_dim.dim = 0;
    bad_multiple.multiple_of = 0;
    bad_dropout.dropout = 1;
    bad_dtype.dtype = BAD_DTYPE;
    bad_hidden.hidden_dim = -8;
    huge_hidden.hidden_dim = INT64_MAX;
    TABLE(
        ROW(tg_module_forward(NULL, a) == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_module_forward(lin, NULL) == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_module_forward(lin, tg_ones(TG_SHAPE(2, 4), TG_F32)) == NULL, TG_ERR_SHAPE,
            "linear: input of shape (2, 4) does not fit weight of shape (2, 3)");
        ROW(tg_module_forward(lin, tg_ones(TG_SHAPE(2, 3), TG_F64)) == NULL, TG_ERR_DTYPE,
            "dtypes");
        ROW(tg_module_parameter(NULL, "weight") == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_module_parameter(lin, NULL) == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_module_parameter(lin, "wieght") == NULL, TG_ERR_VALUE, "wieght");
        ROW(tg_module_save(NULL, saved) == -1, TG_ERR_NULL, "module_save: argument is NULL");
        ROW(tg_module_save(lin, NULL) == -1, TG_ERR_NULL, "module_save: argument is NULL");
        ROW(tg_module_save(lin, "/nonexistent/m.safetensors") == -1, TG_ERR_IO,
            "save_safetensors: cannot write /nonexistent/m.safetensors");
        ROW(tg_module_load(NULL, saved) == -1, TG_ERR_NULL, "module_load: argument is NULL");
        ROW(tg_module_load(lin, NULL) == -1, TG_ERR_NULL, "module_load: argument is NULL");
        ROW(tg_module_load(lin, in_dir("missing")) == -1, TG_ERR_IO, "safetensors: cannot open");
        ROW(tg_module_load(lin, other) == -1, TG_ERR_VALUE, "has no tensor 'weight'");
        ROW(tg_init_uniform_(NULL, 0, 1, NULL) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_init_uniform_(a, 1, 0, NULL) == -1, TG_ERR_VALUE,
            "init_uniform_: low 1 is greater than high 0");
        ROW(tg_init_uniform_(ex, 0, 1, NULL) == -1, TG_ERR_VALUE,
            "init_uniform_: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location");
        ROW(tg_init_normal_(NULL, 0, 1, NULL) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_init_normal_(a, 0, -1, NULL) == -1, TG_ERR_VALUE,
            "init_normal_: std -1 is negative");
        ROW(tg_init_normal_(ex, 0, 1, NULL) == -1, TG_ERR_VALUE,
            "init_normal_: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location");
        ROW(tg_init_constant_(NULL, 1) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_init_constant_(ex, 1) == -1, TG_ERR_VALUE,
            "init_constant_: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location");
        ROW(tg_init_zeros_(NULL) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_init_zeros_(ex) == -1, TG_ERR_VALUE,
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location");
        ROW(tg_init_xavier_uniform_(NULL, 1, NULL) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_init_xavier_uniform_(vec, 1, NULL) == -1, TG_ERR_SHAPE,
            "fan in and fan out need at least 2 dims, not 1");
        ROW(tg_init_xavier_uniform_(ex, 1, NULL) == -1, TG_ERR_VALUE,
            "init_xavier_uniform_: unsupported operation: more than one element of the written-to "
            "tensor refers to a single memory location");
        ROW(tg_init_kaiming_uniform_(NULL, 0, NULL) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_init_kaiming_uniform_(vec, 0, NULL) == -1, TG_ERR_SHAPE,
            "fan in and fan out need at least 2 dims, not 1");
        ROW(tg_init_kaiming_uniform_(ex, 0, NULL) == -1, TG_ERR_VALUE,
            "init_kaiming_uniform_: unsupported operation: more than one element of the written-to "
            "tensor refers to a single memory location");
        ROW(tg_linear_new(0, 2, TG_BIAS, TG_F32, NULL) == NULL, TG_ERR_VALUE,
            "Linear: in_features 0 and out_features 2 must be positive");
        ROW(tg_linear_new(3, -1, TG_BIAS, TG_F32, NULL) == NULL, TG_ERR_VALUE,
            "Linear: in_features 3 and out_features -1 must be positive");
        ROW(tg_linear_new(INT64_MAX, INT64_MAX, TG_BIAS, TG_F32, NULL) == NULL, TG_ERR_NOMEM,
            "too large");
        ROW(tg_linear_new(3, 2, TG_BIAS, BAD_DTYPE, NULL) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_embedding_new(-1, 2, TG_EMBEDDING_NO_PADDING, TG_F32, NULL) == NULL, TG_ERR_VALUE,
            "Embedding: num_embeddings -1 and embedding_dim 2 must not be negative");
        ROW(tg_embedding_new(3, 2, 3, TG_F32, NULL) == NULL, TG_ERR_VALUE,
            "Embedding: padding_idx 3 must be within num_embeddings 3");
        ROW(tg_embedding_new(3, 2, TG_EMBEDDING_NO_PADDING, BAD_DTYPE, NULL) == NULL, TG_ERR_VALUE,
            "invalid dtype 7");
        ROW(tg_embedding_new(INT64_MAX, 2, TG_EMBEDDING_NO_PADDING, TG_F32, NULL) == NULL,
            TG_ERR_NOMEM, "too large");
        ROW(tg_dropout_new(1.5, NULL) == NULL, TG_ERR_VALUE,
            "Dropout: p must lie in [0, 1], not 1.5");
        ROW(tg_dropout_new(NAN, NULL) == NULL, TG_ERR_VALUE,
            "Dropout: p must lie in [0, 1], not nan");
        ROW(tg_activation_new((tg_activation_kind)99) == NULL, TG_ERR_VALUE,
            "activation_new: unknown activation 99");
        ROW(tg_activation_new((tg_activation_kind)-1) == NULL, TG_ERR_VALUE,
            "activation_new: unknown activation -1");
        ROW(tg_celu_new(0) == NULL, TG_ERR_VALUE,
            "CELU: ZeroDivisionError: alpha cannot be 0 for CELU");
        ROW(tg_hardtanh_new(2, 1) == NULL, TG_ERR_VALUE,
            "Hardtanh: max_val (1) must be greater than min_val (2)");
        ROW(tg_hardtanh_new(0, 0) == NULL, TG_ERR_VALUE,
            "Hardtanh: max_val (0) must be greater than min_val (0)");
        ROW(tg_hardtanh_new(-1, NAN) == NULL, TG_ERR_VALUE,
            "Hardtanh: max_val (nan) must be greater than min_val (-1)");
        ROW(tg_prelu_new(0, 0.25, TG_F32) == NULL, TG_ERR_VALUE,
            "PReLU: num_parameters must be positive, not 0");
        ROW(tg_prelu_new(INT64_MAX, 0.25, TG_F32) == NULL, TG_ERR_NOMEM, "too large");
        ROW(tg_prelu_new(1, 0.25, BAD_DTYPE) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_swish_new(1, BAD_DTYPE) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_ffn_hidden_dim(-1, 8) == -1, TG_ERR_VALUE, "ffn_hidden_dim");
        ROW(tg_ffn_hidden_dim(256, 0) == -1, TG_ERR_VALUE, "ffn_hidden_dim");
        ROW(tg_ffn_hidden_dim(INT64_MAX, INT64_C(5000000000000000000)) == -1, TG_ERR_VALUE,
            "ffn_hidden_dim: 2/3 of hidden_dim 9223372036854775807 rounded up to a multiple of "
            "5000000000000000000 is more than 9223372036854775807");
        ROW(tg_feedforward_new(NULL, NULL) == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_feedforward_new(&bad_kind, NULL) == NULL, TG_ERR_VALUE,
            "FeedForward: unknown kind 99");
        ROW(tg_feedforward_new(&bad_dim, NULL) == NULL, TG_ERR_VALUE,
            "FeedForward: dim 0 must be positive");
        ROW(tg_feedforward_new(&bad_hidden, NULL) == NULL, TG_ERR_VALUE,
            "FeedForward: dim 4 must be positive and hidden_dim -8 not");
        ROW(tg_feedforward_new(&bad_multiple, NULL) == NULL, TG_ERR_VALUE,
            "FeedForward: multiple_of must be positive, not 0");
        ROW(tg_feedforward_new(&bad_dropout, NULL) == NULL, TG_ERR_VALUE,
            "FeedForward: dropout p must lie in [0, 1), not 1");
        ROW(tg_feedforward_new(&bad_dtype, NULL) == NULL, TG_ERR_VALUE, "invalid dtype 7");
        ROW(tg_feedforward_new(&huge_hidden, NULL) == NULL, TG_ERR_NOMEM,
            "Linear: shape (6148914691236517204, 4) is too large");
        ROW(tg_layer_norm_new(0, (int64_t[]){3}, TG_AFFINE, 1e-5, TG_F32) == NULL, TG_ERR_VALUE,
            "LayerNorm: normalized_ndim is 0, must be in 1 .. 8");
        ROW(tg_layer_norm_new(1, NULL, TG_AFFINE, 1e-5, TG_F32) == NULL, TG_ERR_NULL,
            "LayerNorm: argument is NULL");
        ROW(tg_layer_norm_new(TG_SHAPE(-3), TG_AFFINE, 1e-5, TG_F32) == NULL, TG_ERR_VALUE,
            "LayerNorm: normalized_shape (-3,) has a negative dim");
        ROW(tg_layer_norm_new(TG_SHAPE(3), TG_AFFINE, 0, TG_F32) == NULL, TG_ERR_VALUE,
            "LayerNorm: eps must be positive and finite, got 0");
        ROW(tg_layer_norm_new(TG_SHAPE(3), TG_AFFINE, 1e-5, BAD_DTYPE) == NULL, TG_ERR_VALUE,
            "invalid dtype 7");
        ROW(tg_layer_norm_new(TG_SHAPE(3), TG_NO_AFFINE, 1e-5, TG_I64) == NULL, TG_ERR_DTYPE,
            "LayerNorm: expected a floating-point dtype, got int64");
        ROW(tg_layer_norm_new(TG_SHAPE(INT64_MAX, 4), TG_AFFINE, 1e-5, TG_F32) == NULL,
            TG_ERR_NOMEM, "too large");
        ROW(tg_rms_norm_new(-1, 1e-6, TG_F32) == NULL, TG_ERR_VALUE,
            "RMSNorm: dim must not be negative, got -1");
        ROW(tg_rms_norm_new(4, NAN, TG_F32) == NULL, TG_ERR_VALUE,
            "RMSNorm: eps must be positive and finite, got nan");
        ROW(tg_rms_norm_new(4, 1e-6, TG_BOOL) == NULL, TG_ERR_DTYPE,
            "RMSNorm: expected a floating-point dtype, got bool");
        ROW(tg_rms_norm_new(INT64_MAX, 1e-6, TG_F32) == NULL, TG_ERR_NOMEM, "too large");
        ROW(tg_sequential_new(2, NULL) == NULL, TG_ERR_NULL, "Sequential");
        ROW(tg_sequential_new(-1, NULL) == NULL, TG_ERR_VALUE, "Sequential: -1 modules");
        ROW(tg_sequential_new(2, (tg_module *[]){tg_activation_new(TG_ACT_RELU), NULL}) == NULL,
            TG_ERR_NULL, "Sequential: argument is NULL");
        ROW(tg_residual_new(NULL) == NULL, TG_ERR_NULL, "argument is NULL"););
    tg_module_free(lin);
    unlink(saved);
    unlink(other);
}

/* The API that defines modules (nn.h, "Defining a module"), the lists
 * over a tree, children and printing. Modules handed over in a failing
 * row are freed by the call (ASan and valgrind tell otherwise). */
static const tg_module_class nameless = {.name = ""};
static const tg_module_class holder = {.name = "Holder", .state_size = 8};

static void nn_h_modules(void) {
    tg_module *m = tg_module_new(&holder, NULL);
    tg_module *net = tg_sequential_new(1,
                                       (tg_module *[]){tg_linear_new(3, 2, TG_BIAS, TG_F32, NULL)});
    tg_module *list = tg_module_list_new();
    CHECK(m && net && list && tg_module_new_parameter(m, "w", TG_SHAPE(2), TG_F32) &&
          tg_module_add_child(m, "list", list));
    tg_module *child = tg_module_child_at(net, 0, NULL);
    tg_tensor *a = tg_ones(TG_SHAPE(2), TG_F32), *ints = tg_zeros(TG_SHAPE(2), TG_I64);
    tg_tensor *made = tg_mul_scalar(leaf(), 2), *ex = expanded(TG_F32);
    int n = 5, state = 1;
    TABLE(
        ROW(tg_module_new(NULL, NULL) == NULL, TG_ERR_NULL, "module_new: argument is NULL");
        ROW(tg_module_new(&nameless, NULL) == NULL, TG_ERR_VALUE,
            "module_new: the class has no name");
        ROW(tg_module_new(&(tg_module_class){.name = "Plain"}, &state) == NULL, TG_ERR_VALUE,
            "module_new: Plain: a state was given but state_size is 0");
        ROW(tg_module_new_parameter(NULL, "p", TG_SHAPE(2), TG_F32) == NULL, TG_ERR_NULL,
            "module_new_parameter: argument is NULL");
        ROW(tg_module_new_parameter(m, NULL, TG_SHAPE(2), TG_F32) == NULL, TG_ERR_NULL,
            "module_new_parameter: argument is NULL");
        ROW(tg_module_new_parameter(m, "w", TG_SHAPE(2), TG_F32) == NULL, TG_ERR_VALUE,
            "module_new_parameter: Holder already has a parameter named \"w\"");
        ROW(tg_module_new_parameter(m, "list", TG_SHAPE(2), TG_F32) == NULL, TG_ERR_VALUE,
            "module_new_parameter: Holder already has a child named \"list\"");
        ROW(tg_module_new_parameter(m, "", TG_SHAPE(2), TG_F32) == NULL, TG_ERR_VALUE,
            "module_new_parameter: parameter name can't be empty");
        ROW(tg_module_new_parameter(m, "a.b", TG_SHAPE(2), TG_F32) == NULL, TG_ERR_VALUE,
            "module_new_parameter: parameter name can't contain \".\", got \"a.b\"");
        ROW(tg_module_new_parameter(m, "p", TG_SHAPE(2), BAD_DTYPE) == NULL, TG_ERR_VALUE,
            "Holder: invalid dtype 7");
        ROW(tg_module_new_parameter(m, "p", TG_SHAPE(2), TG_I64) == NULL, TG_ERR_DTYPE,
            "Holder: parameter 'p' must be float32 or float64, not int64");
        ROW(tg_module_new_parameter(m, "p", TG_SHAPE(-2), TG_F32) == NULL, TG_ERR_SHAPE, "Holder");
        ROW(tg_module_new_parameter(m, "p", TG_SHAPE(INT64_MAX, 4), TG_F32) == NULL, TG_ERR_NOMEM,
            "Holder: shape (9223372036854775807, 4) is too large");
        ROW(tg_module_add_parameter(NULL, "p", a) == NULL, TG_ERR_NULL,
            "module_add_parameter: argument is NULL");
        ROW(tg_module_add_parameter(m, NULL, a) == NULL, TG_ERR_NULL,
            "module_add_parameter: argument is NULL");
        ROW(tg_module_add_parameter(m, "p", NULL) == NULL, TG_ERR_NULL,
            "module_add_parameter: argument is NULL");
        ROW(tg_module_add_parameter(m, "w", a) == NULL, TG_ERR_VALUE,
            "module_add_parameter: Holder already has a parameter named \"w\"");
        ROW(tg_module_add_parameter(m, "p", ints) == NULL, TG_ERR_DTYPE,
            "module_add_parameter: expected a floating-point tensor, got int64");
        ROW(tg_module_add_parameter(m, "p", made) == NULL, TG_ERR_GRAPH,
            "module_add_parameter: a parameter is a leaf, and this tensor was made by "
            "MulBackward0");
        ROW(tg_module_add_parameter(m, "p", ex) == NULL, TG_ERR_VALUE,
            "module_add_parameter: unsupported operation: more than one element");
        ROW(tg_module_new_buffer(NULL, "b", TG_SHAPE(2), TG_F32) == NULL, TG_ERR_NULL,
            "module_new_buffer: argument is NULL");
        ROW(tg_module_new_buffer(m, "w", TG_SHAPE(2), TG_I64) == NULL, TG_ERR_VALUE,
            "module_new_buffer: Holder already has a parameter named \"w\"");
        ROW(tg_module_new_buffer(m, "b", TG_SHAPE(2), BAD_DTYPE) == NULL, TG_ERR_VALUE,
            "Holder: invalid dtype 7");
        ROW(tg_module_add_buffer(NULL, "b", a) == NULL, TG_ERR_NULL,
            "module_add_buffer: argument is NULL");
        ROW(tg_module_add_buffer(m, "b", NULL) == NULL, TG_ERR_NULL,
            "module_add_buffer: argument is NULL");
        ROW(tg_module_add_buffer(m, "", a) == NULL, TG_ERR_VALUE,
            "module_add_buffer: buffer name can't be empty");
        ROW(tg_module_add_child(NULL, "c", tg_activation_new(TG_ACT_RELU)) == NULL, TG_ERR_NULL,
            "module_add_child: argument is NULL");
        ROW(tg_module_add_child(m, NULL, tg_activation_new(TG_ACT_RELU)) == NULL, TG_ERR_NULL,
            "module_add_child: argument is NULL");
        ROW(tg_module_add_child(m, "c", NULL) == NULL, TG_ERR_NULL,
            "module_add_child: argument is NULL");
        ROW(tg_module_add_child(m, "w", tg_activation_new(TG_ACT_RELU)) == NULL, TG_ERR_VALUE,
            "module_add_child: Holder already has a parameter named \"w\"");
        ROW(tg_module_add_child(m, "x.y", tg_activation_new(TG_ACT_RELU)) == NULL, TG_ERR_VALUE,
            "module_add_child: module name can't contain \".\", got \"x.y\"");
        ROW(tg_module_add_child(m, "c", child) == NULL, TG_ERR_VALUE,
            "module_add_child: this Linear is already a child of a Sequential");
        ROW(tg_module_add_child(list, "c", m) == NULL, TG_ERR_VALUE,
            "module_add_child: a Holder cannot be a child of itself or of its own child");
        ROW(tg_module_append(NULL, tg_activation_new(TG_ACT_RELU)) == NULL, TG_ERR_NULL,
            "module_append: argument is NULL");
        ROW(tg_module_append(list, NULL) == NULL, TG_ERR_NULL, "module_append: argument is NULL");
        ROW(tg_module_append(list, list) == NULL, TG_ERR_VALUE,
            "module_append: this ModuleList is already a child of a Holder");
        ROW((tg_module_free(child), true), TG_ERR_VALUE,
            "module_free: this Linear is a child of a Sequential, and is freed with it");
        ROW(tg_module_forward(list, a) == NULL, TG_ERR_VALUE,
            "ModuleList: Module [ModuleList] is missing the required \"forward\" function");
        ROW(tg_module_parameters(NULL, &n) == NULL && n == 0, TG_ERR_NULL,
            "module_parameters: argument is NULL");
        ROW(tg_module_parameter_tensors(NULL, &n) == NULL, TG_ERR_NULL,
            "module_parameter_tensors: argument is NULL");
        ROW(tg_module_buffers(NULL, &n) == NULL, TG_ERR_NULL, "module_buffers: argument is NULL");
        ROW(tg_module_state_dict(NULL, &n) == NULL, TG_ERR_NULL,
            "module_state_dict: argument is NULL");
        ROW(tg_module_buffer(NULL, "b") == NULL, TG_ERR_NULL, "module_buffer: argument is NULL");
        ROW(tg_module_buffer(m, NULL) == NULL, TG_ERR_NULL, "module_buffer: argument is NULL");
        ROW(tg_module_buffer(m, "w") == NULL, TG_ERR_VALUE,
            "module_buffer: Holder has no buffer 'w'");
        ROW(tg_module_parameter(net, "0.weight.x") == NULL, TG_ERR_VALUE,
            "module_parameter: Sequential has no parameter '0.weight.x'");
        ROW(tg_module_child(NULL, "0") == NULL, TG_ERR_NULL, "module_child: argument is NULL");
        ROW(tg_module_child(net, NULL) == NULL, TG_ERR_NULL, "module_child: argument is NULL");
        ROW(tg_module_child(net, "1") == NULL, TG_ERR_VALUE,
            "module_child: Sequential has no child \"1\"");
        ROW(tg_module_child(net, "") == NULL, TG_ERR_VALUE,
            "module_child: Sequential has no child \"\"");
        ROW(tg_module_child_at(NULL, 0, NULL) == NULL, TG_ERR_NULL,
            "module_child_at: argument is NULL");
        ROW(tg_module_child_at(net, 1, NULL) == NULL, TG_ERR_VALUE,
            "module_child_at: index 1 is out of range for a Sequential of 1 children");
        ROW(tg_module_child_at(net, -1, NULL) == NULL, TG_ERR_VALUE,
            "module_child_at: index -1 is out of range");
        ROW(tg_module_repr(NULL) == NULL, TG_ERR_NULL, "module_repr: argument is NULL");
        ROW(tg_module_print(NULL, stdout) == -1, TG_ERR_NULL, "module_print: argument is NULL");
        ROW(tg_module_print(net, NULL) == -1, TG_ERR_NULL, "module_print: argument is NULL");
        ROW(tg_module_summary(NULL, stdout) == -1, TG_ERR_NULL, "module_summary: argument is NULL");
        ROW(tg_module_summary(net, NULL) == -1, TG_ERR_NULL, "module_summary: argument is NULL");
        ROW(tg_sequential_named_new(1, NULL, (tg_module *[]){tg_activation_new(TG_ACT_RELU)}) ==
                NULL,
            TG_ERR_NULL, "Sequential: argument is NULL");
        ROW(tg_sequential_named_new(1, (const char *[]){NULL},
                                    (tg_module *[]){tg_activation_new(TG_ACT_RELU)}) == NULL,
            TG_ERR_NULL, "Sequential: argument is NULL");
        ROW(tg_sequential_named_new(1, (const char *[]){"a.b"},
                                    (tg_module *[]){tg_activation_new(TG_ACT_RELU)}) == NULL,
            TG_ERR_VALUE, "module name can't contain \".\", got \"a.b\"");
        ROW(tg_sequential_named_new(-1, NULL, NULL) == NULL, TG_ERR_VALUE,
            "Sequential: -1 modules"););
    /* Nothing was added by a failing row. */
    int count;
    CHECK(tg_module_state_dict(m, &count) && count == 1 && tg_module_num_children(m) == 1 &&
          tg_module_num_children(list) == 0 && tg_module_num_children(net) == 1);
    tg_module_free(m);
    tg_module_free(net);
}

/* Self-describing files: describe hooks that break the rules, and
 * descriptions that are wrong, or do not fit the tensors, one per row. */
static int twice(const tg_module *m, tg_module_args *a) {
    (void)m;
    return tg_module_arg_int(a, "n", 1) || tg_module_arg_bool(a, "n", true) ? -1 : 0;
}
static int empty_name(const tg_module *m, tg_module_args *a) {
    (void)m;
    return tg_module_arg_null(a, "");
}
static int bad_string(const tg_module *m, tg_module_args *a) {
    (void)m;
    return tg_module_arg_string(a, "s", "\xc0\xaf");
}
static int negative_count(const tg_module *m, tg_module_args *a) {
    (void)m;
    return tg_module_arg_ints(a, "shape", -1, NULL);
}
static int silent_failure(const tg_module *m, tg_module_args *a) {
    (void)m, (void)a;
    return -1;
}
static int ignores_failure(const tg_module *m, tg_module_args *a) {
    (void)m;
    tg_module_arg_double(a, "x", INFINITY); /* failed, and the hook says 0 */
    return 0;
}
#define HOOK_CLASS(hook) \
    { .name = #hook, .describe = hook }
static const tg_module_class hook_classes[] = {
    HOOK_CLASS(twice),          HOOK_CLASS(empty_name),     HOOK_CLASS(bad_string),
    HOOK_CLASS(negative_count), HOOK_CLASS(silent_failure), HOOK_CLASS(ignores_failure)};

/* A file in the scratch folder holding the tensors (8, 4) "weight" and
 * (8,) "bias" of float64 or only the first (n 1), with description as its
 * module's; returns its path. */
static tg_tensor *w84, *b8;
static const char *described(const char *description, int n) {
    const char *path = in_dir("described.safetensors");
    tg_named_tensor ts[] = {{"weight", w84}, {"bias", b8}};
    if (tg_save_safetensors_with_metadata(path, n, ts, 1,
                                          (tg_metadata_entry[]){{"tapegrad.module", description}}))
        return NULL;
    return path;
}

#define LINEAR(in, bias, dtype)                                                               \
    "{\"type\":\"Linear\",\"args\":{\"in_features\":" in ",\"out_features\":8,\"bias\":" bias \
    ",\"dtype\":" dtype "}}"
#define IN_SEQUENTIAL(child) "{\"type\":\"Sequential\",\"args\":{},\"children\":[" child "]}"

static void nn_h_checkpoint(void) {
    w84 = tg_zeros(TG_SHAPE(8, 4), TG_F64), b8 = tg_zeros(TG_SHAPE(8), TG_F64);
    tg_module *hooks[6];
    for (int i = 0; i < 6; i++) hooks[i] = tg_module_new(&hook_classes[i], NULL);
    tg_module *prelu = tg_prelu_new(1, NAN, TG_F32), *swish = tg_swish_new(-INFINITY, TG_F64);
    const char *x = in_dir("x"), *plain = in_dir("plain.safetensors");
    CHECK(tg_save_safetensors(plain, 1, (tg_named_tensor[]){{"weight", w84}}) == 0);
    TABLE(
        ROW(tg_module_describe(NULL) == NULL, TG_ERR_NULL, "module_describe: argument is NULL");
        ROW(tg_module_describe(hooks[0]) == NULL, TG_ERR_VALUE,
            "module_arg_bool: twice: the argument is given twice ('n')");
        ROW(tg_module_save(hooks[0], x) == -1, TG_ERR_VALUE,
            "module_arg_bool: twice: the argument is given twice ('n')");
        ROW(tg_module_describe(hooks[1]) == NULL, TG_ERR_VALUE,
            "module_arg_null: empty_name: an argument's name can't be empty");
        ROW(tg_module_describe(hooks[2]) == NULL, TG_ERR_VALUE,
            "module_arg_string: bad_string: the value of 's' is not valid UTF-8");
        ROW(tg_module_describe(hooks[3]) == NULL, TG_ERR_VALUE,
            "module_arg_ints: negative_count: -1 values");
        ROW(tg_module_describe(hooks[4]) == NULL, TG_ERR_VALUE,
            "module_describe: the describe hook of silent_failure failed and recorded no error");
        ROW(tg_module_describe(hooks[5]) == NULL, TG_ERR_VALUE,
            "module_arg_double: ignores_failure: 'x' is inf; a description holds finite numbers "
            "only");
        ROW(tg_module_save(prelu, x) == -1, TG_ERR_VALUE,
            "module_arg_double: PReLU: 'init' is nan; a description holds finite numbers only");
        ROW(tg_module_describe(swish) == NULL, TG_ERR_VALUE,
            "module_arg_double: Swish: 'beta_init' is -inf");
        ROW(tg_module_arg_int(NULL, "n", 1) == -1, TG_ERR_NULL, "module_arg_int: argument is NULL");
        ROW(tg_module_arg_double(NULL, "x", 1) == -1, TG_ERR_NULL,
            "module_arg_double: argument is NULL");
        ROW(tg_module_arg_bool(NULL, "b", true) == -1, TG_ERR_NULL,
            "module_arg_bool: argument is NULL");
        ROW(tg_module_arg_string(NULL, "s", "v") == -1, TG_ERR_NULL,
            "module_arg_string: argument is NULL");
        ROW(tg_module_arg_ints(NULL, "s", 0, NULL) == -1, TG_ERR_NULL,
            "module_arg_ints: argument is NULL");
        ROW(tg_module_arg_null(NULL, "s") == -1, TG_ERR_NULL, "module_arg_null: argument is NULL");
        ROW(tg_module_arg_children(NULL) == -1, TG_ERR_NULL,
            "module_arg_children: argument is NULL");
        ROW(tg_module_load_new(NULL) == NULL, TG_ERR_NULL, "module_load_new: argument is NULL");
        ROW(tg_module_load_new(in_dir("missing")) == NULL, TG_ERR_IO, "safetensors: cannot open");
        ROW(tg_module_load_new(plain) == NULL, TG_ERR_VALUE,
            "plain.safetensors does not describe its module (no 'tapegrad.module' in its "
            "metadata): build the model in code and load the file with tg_module_load");
        ROW(tg_module_load_new(described("{\"type\":", 0)) == NULL, TG_ERR_VALUE,
            "described.safetensors: the description is not JSON: ");
        ROW(tg_module_load_new(described("", 0)) == NULL, TG_ERR_VALUE,
            "the description is not JSON");
        ROW(tg_module_load_new(
                described("{\"type\":\"Dropout\",\"args\":{\"p\":0.1,\"p\":0.2}}", 0)) == NULL,
            TG_ERR_VALUE, "the description is not JSON: duplicate object key");
        ROW(tg_module_load_new(described("[1]", 0)) == NULL, TG_ERR_VALUE,
            "the top module: the description is not a JSON object");
        ROW(tg_module_load_new(described("{\"args\":{}}", 0)) == NULL, TG_ERR_VALUE,
            "the top module: no \"type\" string");
        ROW(tg_module_load_new(described("{\"type\":3,\"args\":{}}", 0)) == NULL, TG_ERR_VALUE,
            "the top module: no \"type\" string");
        ROW(tg_module_load_new(described("{\"type\":\"ReLU\",\"args\":{},\"extra\":1}", 0)) == NULL,
            TG_ERR_VALUE, "the top module: unknown key 'extra'");
        ROW(tg_module_load_new(described("{\"type\":\"Block\"}", 0)) == NULL, TG_ERR_VALUE,
            "the top module: unknown module type 'Block': tg_module_load_new rebuilds the "
            "built-in types and those registered with tg_module_register_loader; build the "
            "model in code and load the file with tg_module_load");
        ROW(tg_module_load_new(described("{\"type\":\"ReLU\"}", 0)) == NULL, TG_ERR_VALUE,
            "the top module (ReLU): saved without its arguments (no \"args\")");
        ROW(tg_module_load_new(described("{\"type\":\"ReLU\",\"args\":[]}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (ReLU): \"args\" is not a JSON object");
        ROW(tg_module_load_new(described(
                "{\"type\":\"Dropout\",\"args\":{\"p\":0.5,\"inplace\":false}}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (Dropout): unknown argument 'inplace'");
        ROW(tg_module_load_new(described("{\"type\":\"Dropout\",\"args\":{}}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (Dropout): the argument 'p' is missing");
        ROW(tg_module_load_new(described("{\"type\":\"ReLU\",\"args\":{},\"children\":[]}", 0)) ==
                NULL,
            TG_ERR_VALUE, "the top module (ReLU): a ReLU has no \"children\" in its description");
        ROW(tg_module_load_new(described("{\"type\":\"Sequential\",\"args\":{}}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (Sequential): no \"children\" array");
        ROW(tg_module_load_new(
                described("{\"type\":\"Sequential\",\"args\":{},\"children\":{}}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (Sequential): no \"children\" array");
        ROW(tg_module_load_new(described(LINEAR("-4", "true", "\"float64\""), 2)) == NULL,
            TG_ERR_VALUE, "(Linear): 'in_features' must be an integer of at least 1, not -4");
        ROW(tg_module_load_new(described(LINEAR("4.0", "true", "\"float64\""), 2)) == NULL,
            TG_ERR_VALUE, "(Linear): 'in_features' must be an integer of at least 1, not 4.0");
        ROW(tg_module_load_new(described(LINEAR("1000000000000", "true", "\"float64\""), 2)) ==
                NULL,
            TG_ERR_SHAPE,
            "(Linear): tensor 'weight' is float64 (8, 4) in the file, the arguments make it "
            "float64 (8, 1000000000000)");
        ROW(tg_module_load_new(described(LINEAR("4", "true", "\"float16\""), 2)) == NULL,
            TG_ERR_VALUE, "(Linear): 'dtype' must be \"float32\" or \"float64\", not \"float16\"");
        ROW(tg_module_load_new(described(LINEAR("4", "\"yes\"", "\"float64\""), 2)) == NULL,
            TG_ERR_VALUE, "(Linear): 'bias' must be true or false, not \"yes\"");
        ROW(tg_module_load_new(described(LINEAR("4", "true", "\"float64\""), 1)) == NULL,
            TG_ERR_VALUE,
            "the top module (Linear): the file has no tensor 'bias' (float64 (8,)), which the "
            "arguments give it");
        ROW(tg_module_load_new(described(LINEAR("4", "false", "\"float64\""), 2)) == NULL,
            TG_ERR_VALUE,
            "described.safetensors holds a tensor 'bias' that the module it describes does not "
            "have");
        ROW(tg_module_load_new(described(LINEAR("4", "true", "\"float32\""), 2)) == NULL,
            TG_ERR_SHAPE,
            "tensor 'weight' is float64 (8, 4) in the file, the arguments make it float32 (8, 4)");
        ROW(tg_module_load_new(described(
                IN_SEQUENTIAL("[\"0\"," LINEAR("4", "true", "\"float64\"") "]"), 2)) == NULL,
            TG_ERR_VALUE,
            "module '0' (Linear): the file has no tensor '0.weight' (float64 (8, 4)), which the "
            "arguments give it");
        ROW(tg_module_load_new(
                described(IN_SEQUENTIAL("[\"a\",{\"type\":\"ReLU\",\"args\":{}}],[\"a\",{\"type\":"
                                        "\"Tanh\",\"args\":{}}]"),
                          0)) == NULL,
            TG_ERR_VALUE, "the top module (Sequential): two children are named \"a\"");
        ROW(tg_module_load_new(
                described(IN_SEQUENTIAL("[\"a.b\",{\"type\":\"ReLU\",\"args\":{}}]"), 0)) == NULL,
            TG_ERR_VALUE, "child 0's name \"a.b\" is empty or has a '.'");
        ROW(tg_module_load_new(
                described(IN_SEQUENTIAL("[\"\",{\"type\":\"ReLU\",\"args\":{}}]"), 0)) == NULL,
            TG_ERR_VALUE, "child 0's name \"\" is empty or has a '.'");
        ROW(tg_module_load_new(described(IN_SEQUENTIAL("[\"0\"]"), 0)) == NULL, TG_ERR_VALUE,
            "(Sequential): child 0 is not a [name, description] pair");
        ROW(tg_module_load_new(described(IN_SEQUENTIAL("{\"type\":\"ReLU\",\"args\":{}}"), 0)) ==
                NULL,
            TG_ERR_VALUE, "(Sequential): child 0 is not a [name, description] pair");
        ROW(tg_module_load_new(described(IN_SEQUENTIAL("[\"0\",[]]"), 0)) == NULL, TG_ERR_VALUE,
            "module '0': the description is not a JSON object");
        ROW(tg_module_load_new(
                described("{\"type\":\"ModuleList\",\"args\":{},\"children\":[[\"1\",{\"type\":"
                          "\"ReLU\",\"args\":{}}]]}",
                          0)) == NULL,
            TG_ERR_VALUE, "(ModuleList): child 0 of a ModuleList is named \"1\", not \"0\"");
        ROW(tg_module_load_new(
                described("{\"type\":\"Residual\",\"args\":{},\"children\":[]}", 0)) == NULL,
            TG_ERR_VALUE, "(Residual): a Residual has one child, \"fn\", not 0");
        ROW(tg_module_load_new(
                described("{\"type\":\"Residual\",\"args\":{},\"children\":[[\"f\",{\"type\":"
                          "\"ReLU\",\"args\":{}}]]}",
                          0)) == NULL,
            TG_ERR_VALUE, "(Residual): the child of a Residual is named \"f\", not \"fn\"");
        ROW(tg_module_load_new(
                described(IN_SEQUENTIAL("[\"0\",{\"type\":\"Residual\",\"args\":{},\"children\":"
                                        "[[\"fn\",{\"type\":\"FeedForward\",\"args\":{\"kind\":"
                                        "\"SwiGLu\",\"dim\":4,\"hidden_dim\":0,\"multiple_of\":4,"
                                        "\"dropout\":0,\"dtype\":\"float64\"}}]]}]"),
                          0)) == NULL,
            TG_ERR_VALUE,
            "module '0.fn' (FeedForward): 'kind' must be one of \"ReLU\", \"GELU\", "
            "\"GELU-tanh\", \"SiLU\", \"GLU\", \"GeGLU\", \"SwiGLU\", \"ReGLU\", not \"SwiGLu\"");
        ROW(tg_module_load_new(described(
                "{\"type\":\"FeedForward\",\"args\":{\"kind\":\"GLU\",\"dim\":4,\"hidden_dim\":1,"
                "\"multiple_of\":1,\"dropout\":0,\"dtype\":\"float64\"}}",
                0)) == NULL,
            TG_ERR_VALUE, "(FeedForward): hidden_dim 1 rounds to nothing");
        ROW(tg_module_load_new(described(
                "{\"type\":\"FeedForward\",\"args\":{\"kind\":\"GLU\",\"dim\":4,\"hidden_dim\":8,"
                "\"multiple_of\":0,\"dropout\":0,\"dtype\":\"float64\"}}",
                0)) == NULL,
            TG_ERR_VALUE, "(FeedForward): 'multiple_of' must be an integer of at least 1, not 0");
        ROW(tg_module_load_new(
                described("{\"type\":\"FeedForward\",\"args\":{\"kind\":\"ReLU\",\"dim\":"
                          "4611686018427387904,\"hidden_dim\":0,\"multiple_of\":0,\"dropout\":0,"
                          "\"dtype\":\"float64\"}}",
                          0)) == NULL,
            TG_ERR_VALUE,
            "(FeedForward): the default hidden_dim, 4 * dim 4611686018427387904, is more than "
            "9223372036854775807");
        ROW(tg_module_load_new(described(
                "{\"type\":\"FeedForward\",\"args\":{\"kind\":\"ReLU\",\"dim\":4,\"hidden_dim\":0,"
                "\"multiple_of\":0,\"dropout\":1,\"dtype\":\"float64\"}}",
                0)) == NULL,
            TG_ERR_VALUE, "(FeedForward): 'dropout' must be a number in [0.0, 1.0), not 1");
        ROW(tg_module_load_new(described(
                "{\"type\":\"FeedForward\",\"args\":{\"kind\":\"SwiGLU\",\"dim\":4,\"hidden_dim\":"
                "9223372036854775807,\"multiple_of\":5000000000000000000,\"dropout\":0,"
                "\"dtype\":\"float64\"}}",
                0)) == NULL,
            TG_ERR_VALUE, "(FeedForward): ffn_hidden_dim: 2/3 of hidden_dim 9223372036854775807");
        ROW(tg_module_load_new(described("{\"type\":\"Dropout\",\"args\":{\"p\":1.5}}", 0)) == NULL,
            TG_ERR_VALUE, "(Dropout): 'p' must be a number in [0.0, 1.0], not 1.5");
        ROW(tg_module_load_new(described("{\"type\":\"Dropout\",\"args\":{\"p\":null}}", 0)) ==
                NULL,
            TG_ERR_VALUE, "(Dropout): 'p' must be a number in [0.0, 1.0], not null");
        ROW(tg_module_load_new(described("{\"type\":\"LayerNorm\",\"args\":{\"normalized_shape\":"
                                         "[8],\"eps\":0,\"elementwise_affine\":false,\"dtype\":"
                                         "\"float64\"}}",
                                         0)) == NULL,
            TG_ERR_VALUE, "(LayerNorm): 'eps' must be a positive finite number, not 0");
        ROW(tg_module_load_new(described("{\"type\":\"LayerNorm\",\"args\":{\"normalized_shape\":"
                                         "[],\"eps\":1e-5,\"elementwise_affine\":false,\"dtype\":"
                                         "\"float64\"}}",
                                         0)) == NULL,
            TG_ERR_VALUE,
            "(LayerNorm): 'normalized_shape' must be an array of 1 to 8 integers of at least 0");
        ROW(tg_module_load_new(described("{\"type\":\"LayerNorm\",\"args\":{\"normalized_shape\":"
                                         "[1,1,1,1,1,1,1,1,1],\"eps\":1e-5,\"elementwise_affine\":"
                                         "false,\"dtype\":\"float64\"}}",
                                         0)) == NULL,
            TG_ERR_VALUE, "(LayerNorm): 'normalized_shape' must be an array of 1 to 8 integers");
        ROW(tg_module_load_new(described("{\"type\":\"LayerNorm\",\"args\":{\"normalized_shape\":"
                                         "[8,-1],\"eps\":1e-5,\"elementwise_affine\":false,"
                                         "\"dtype\":\"float64\"}}",
                                         0)) == NULL,
            TG_ERR_VALUE, "(LayerNorm): 'normalized_shape' must be an array of 1 to 8 integers");
        ROW(tg_module_load_new(described("{\"type\":\"RMSNorm\",\"args\":{\"dim\":-8,\"eps\":1e-6,"
                                         "\"dtype\":\"float64\"}}",
                                         0)) == NULL,
            TG_ERR_VALUE, "(RMSNorm): 'dim' must be an integer of at least 0, not -8");
        ROW(tg_module_load_new(described("{\"type\":\"Embedding\",\"args\":{\"num_embeddings\":3,"
                                         "\"embedding_dim\":4,\"padding_idx\":5,\"dtype\":"
                                         "\"float64\"}}",
                                         0)) == NULL,
            TG_ERR_VALUE,
            "(Embedding): 'padding_idx' must be null or an integer from -3 to 2, not 5");
        ROW(tg_module_load_new(
                described("{\"type\":\"GELU\",\"args\":{\"approximate\":\"fast\"}}", 0)) == NULL,
            TG_ERR_VALUE, "(GELU): 'approximate' must be \"none\" or \"tanh\", not \"fast\"");
        ROW(tg_module_load_new(described("{\"type\":\"PReLU\",\"args\":{\"num_parameters\":1,"
                                         "\"init\":\"x\",\"dtype\":\"float64\"}}",
                                         0)) == NULL,
            TG_ERR_VALUE, "(PReLU): 'init' must be a finite number, not \"x\"");
        ROW(tg_module_load_new(described("{\"type\":\"Swish\",\"args\":{\"beta_init\":1,"
                                         "\"dtype\":\"float64\"}}",
                                         0)) == NULL,
            TG_ERR_VALUE, "(Swish): the file has no tensor 'beta' (float64 (1,))"););
    for (int i = 0; i < 6; i++) tg_module_free(hooks[i]);
    tg_module_free(prelu);
    tg_module_free(swish);
    CHECK(access(x, F_OK) != 0); /* the failed saves wrote nothing */
    unlink(plain);
    unlink(in_dir("described.safetensors"));
}

/* ---- optim.h ------------------------------------------------------------------------------ */

/* Loaders of one's own classes: "Gain" (a parameter "weight" of n
 * elements), "Reader" (an argument of each kind), and loaders that break
 * the rules. */
static const tg_module_class gain_class = {.name = "Gain"}, reader_class = {.name = "Reader"},
                             careless_class = {.name = "Careless"};
static tg_module *gain_load(tg_module_desc *d) {
    int64_t n;
    tg_dtype dtype;
    if (tg_module_desc_int(d, "n", &n) || tg_module_desc_dtype(d, "dtype", &dtype)) return NULL;
    if (n < 1) {
        tg_set_error(TG_ERR_VALUE, "Gain: n must be positive, not %lld", (long long)n);
        return NULL;
    }
    tg_module *m = tg_module_new(&gain_class, NULL);
    if (m && !tg_module_new_parameter(m, "weight", TG_SHAPE(n), dtype)) {
        tg_module_free(m);
        return NULL;
    }
    return m;
}
static tg_module *reader_load(tg_module_desc *d) {
    int64_t i, shape[2];
    double x;
    bool b;
    return tg_module_desc_int(d, "i", &i) || tg_module_desc_double(d, "d", &x) ||
                   tg_module_desc_bool(d, "b", &b) || !tg_module_desc_string(d, "s") ||
                   tg_module_desc_ints(d, "shape", 2, shape) < 0 ||
                   tg_module_desc_is_null(d, "pad") < 0
               ? NULL
               : tg_module_new(&reader_class, NULL);
}
static tg_module *lazy_load(tg_module_desc *d) {
    (void)d;
    return NULL;
}
static tg_module *impostor_load(tg_module_desc *d) {
    (void)d;
    return tg_activation_new(TG_ACT_RELU);
}
static tg_module *careless_load(tg_module_desc *d) {
    int64_t n;
    tg_module_desc_int(d, "missing", &n); /* fails, and the loader goes on */
    return tg_module_new(&careless_class, NULL);
}
static tg_module *null_name_load(tg_module_desc *d) {
    int64_t n;
    return tg_module_desc_int(d, NULL, &n) ? NULL : tg_module_new(&careless_class, NULL);
}

/* A file holding a Gain's (8,) float64 "weight", with description. */
static const char *gain8(const char *description) {
    const char *path = in_dir("gain.safetensors");
    return tg_save_safetensors_with_metadata(
               path, 1, (tg_named_tensor[]){{"weight", b8}}, 1,
               (tg_metadata_entry[]){{"tapegrad.module", description}})
               ? NULL
               : path;
}

#define GAIN(n, dtype) "{\"type\":\"Gain\",\"args\":{\"n\":" n ",\"dtype\":" dtype "}}"
#define READER(i, d, b, s, shape)                                                 \
    "{\"type\":\"Reader\",\"args\":{\"i\":" i ",\"d\":" d ",\"b\":" b ",\"s\":" s \
    ",\"shape\":" shape ",\"pad\":null}}"

static void nn_h_module_loaders(void) {
    w84 = tg_zeros(TG_SHAPE(8, 4), TG_F64), b8 = tg_zeros(TG_SHAPE(8), TG_F64);
    CHECK(tg_module_register_loader("Gain", gain_load) == 0 &&
          tg_module_register_loader("Reader", reader_load) == 0 &&
          tg_module_register_loader("Lazy", lazy_load) == 0 &&
          tg_module_register_loader("Impostor", impostor_load) == 0 &&
          tg_module_register_loader("Careless", careless_load) == 0 &&
          tg_module_register_loader("NullName", null_name_load) == 0);
    int64_t i;
    double x;
    bool b;
    tg_dtype dtype;
    TABLE(
        ROW(tg_module_register_loader(NULL, gain_load) == -1, TG_ERR_NULL,
            "module_register_loader: argument is NULL");
        ROW(tg_module_register_loader("Mine", NULL) == -1, TG_ERR_NULL,
            "module_register_loader: argument is NULL");
        ROW(tg_module_register_loader("", gain_load) == -1, TG_ERR_VALUE,
            "module_register_loader: a type name is not empty and is valid UTF-8");
        ROW(tg_module_register_loader("\xc0\xaf", gain_load) == -1, TG_ERR_VALUE,
            "module_register_loader: a type name is not empty and is valid UTF-8");
        ROW(tg_module_register_loader("Linear", gain_load) == -1, TG_ERR_VALUE,
            "module_register_loader: 'Linear' is a built-in type, which tg_module_load_new "
            "rebuilds itself");
        ROW(tg_module_register_loader("Hardtanh", gain_load) == -1, TG_ERR_VALUE,
            "'Hardtanh' is a built-in type");
        ROW(tg_module_register_loader("Gain", reader_load) == -1, TG_ERR_VALUE,
            "module_register_loader: 'Gain' has a loader already");
        ROW(tg_module_desc_int(NULL, "n", &i) == -1, TG_ERR_NULL,
            "module_desc_int: argument is NULL");
        ROW(tg_module_desc_double(NULL, "x", &x) == -1, TG_ERR_NULL,
            "module_desc_double: argument is NULL");
        ROW(tg_module_desc_bool(NULL, "b", &b) == -1, TG_ERR_NULL,
            "module_desc_bool: argument is NULL");
        ROW(tg_module_desc_dtype(NULL, "dtype", &dtype) == -1, TG_ERR_NULL,
            "module_desc_dtype: argument is NULL");
        ROW(tg_module_desc_string(NULL, "s") == NULL, TG_ERR_NULL,
            "module_desc_string: argument is NULL");
        ROW(tg_module_desc_ints(NULL, "s", 0, NULL) == -1, TG_ERR_NULL,
            "module_desc_ints: argument is NULL");
        ROW(tg_module_desc_ints(NULL, "s", -1, NULL) == -1, TG_ERR_VALUE,
            "module_desc_ints: room for -1 values");
        ROW(tg_module_desc_is_null(NULL, "p") == -1, TG_ERR_NULL,
            "module_desc_is_null: argument is NULL");
        ROW(tg_module_load_new(described(GAIN("3", "\"float64\""), 2)) == NULL, TG_ERR_SHAPE,
            "the top module (Gain): tensor 'weight' is float64 (8, 4) in the file, the "
            "arguments make it float64 (3,)");
        ROW(tg_module_load_new(
                described(IN_SEQUENTIAL("[\"g\"," GAIN("8", "\"float64\"") "]"), 1)) == NULL,
            TG_ERR_VALUE,
            "module 'g' (Gain): the file has no tensor 'g.weight' (float64 (8,)), which the "
            "arguments give it");
        ROW(tg_module_load_new(described(GAIN("0", "\"float64\""), 0)) == NULL, TG_ERR_VALUE,
            "described.safetensors: the top module (Gain): Gain: n must be positive, not 0");
        ROW(tg_module_load_new(
                described("{\"type\":\"Gain\",\"args\":{\"dtype\":\"float64\"}}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (Gain): the argument 'n' is missing");
        ROW(tg_module_load_new(described("{\"type\":\"Gain\"}", 0)) == NULL, TG_ERR_VALUE,
            "the top module (Gain): saved without its arguments (no \"args\")");
        ROW(tg_module_load_new(described(GAIN("\"3\"", "\"float64\""), 0)) == NULL, TG_ERR_VALUE,
            "(Gain): 'n' must be an integer, not \"3\"");
        ROW(tg_module_load_new(described(GAIN("3", "\"float16\""), 0)) == NULL, TG_ERR_VALUE,
            "(Gain): 'dtype' must be the name of a dtype (\"float32\", \"float64\", ...), not "
            "\"float16\"");
        ROW(tg_module_load_new(described(
                "{\"type\":\"Gain\",\"args\":{\"n\":8,\"dtype\":\"float64\",\"gain\":2}}", 0)) ==
                NULL,
            TG_ERR_VALUE, "the top module (Gain): unknown argument 'gain'");
        ROW(tg_module_load_new(described(
                "{\"type\":\"Gain\",\"args\":{\"n\":8,\"dtype\":\"float64\"},\"children\":{}}",
                0)) == NULL,
            TG_ERR_VALUE, "the top module (Gain): \"children\" is not an array");
        ROW(tg_module_load_new(gain8("{\"type\":\"Gain\",\"args\":{\"n\":8,\"dtype\":"
                                     "\"float64\"},\"children\":[[\"a\",{\"type\":\"ReLU\","
                                     "\"args\":{}}],[\"a\",{\"type\":\"ReLU\",\"args\":{}}]]}")) ==
                NULL,
            TG_ERR_VALUE, "the top module (Gain): two children are named \"a\"");
        ROW(tg_module_load_new(gain8("{\"type\":\"Gain\",\"args\":{\"n\":8,\"dtype\":"
                                     "\"float64\"},\"children\":[[\"weight\",{\"type\":"
                                     "\"ReLU\",\"args\":{}}]]}")) == NULL,
            TG_ERR_VALUE, "Gain already has a parameter named \"weight\"");
        ROW(tg_module_load_new(described(READER("1", "\"x\"", "true", "\"s\"", "[]"), 0)) == NULL,
            TG_ERR_VALUE, "the top module (Reader): 'd' must be a finite number, not \"x\"");
        ROW(tg_module_load_new(described(READER("1", "0.5", "1", "\"s\"", "[]"), 0)) == NULL,
            TG_ERR_VALUE, "(Reader): 'b' must be true or false, not 1");
        ROW(tg_module_load_new(described(READER("1", "0.5", "true", "3", "[]"), 0)) == NULL,
            TG_ERR_VALUE, "(Reader): 's' must be a string, not 3");
        ROW(tg_module_load_new(described(READER("1", "0.5", "true", "\"s\"", "[1,2,3]"), 0)) ==
                NULL,
            TG_ERR_VALUE, "(Reader): 'shape' must be an array of at most 2 integers, not an array");
        ROW(tg_module_load_new(described(READER("1", "0.5", "true", "\"s\"", "[1.5]"), 0)) == NULL,
            TG_ERR_VALUE, "(Reader): 'shape' must be an array of at most 2 integers");
        ROW(tg_module_load_new(described("{\"type\":\"Lazy\",\"args\":{}}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (Lazy): its loader returned NULL and recorded no error");
        ROW(tg_module_load_new(described("{\"type\":\"Impostor\",\"args\":{}}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (Impostor): its loader made a ReLU");
        ROW(tg_module_load_new(described("{\"type\":\"Careless\",\"args\":{}}", 0)) == NULL,
            TG_ERR_VALUE, "the top module (Careless): the argument 'missing' is missing");
        ROW(tg_module_load_new(described("{\"type\":\"NullName\",\"args\":{}}", 0)) == NULL,
            TG_ERR_NULL, "the top module (NullName): module_desc_int: argument is NULL"););
}

static void optim_h(void) {
    tg_tensor *p = leaf(), *q = leaf();
    tg_tensor *frozen = tg_ones(TG_SHAPE(2), TG_F32), *nonleaf = tg_mul_scalar(p, 2);
    tg_tensor *ex = tg_requires_grad_(expanded(TG_F32), true);
    tg_tensor *params[] = {p}, *dup[] = {p, p}, *with_null[] = {p, NULL};
    tg_sgd_options sgd = tg_sgd_defaults(0.1), sgd_lr = sgd, sgd_mom = sgd, sgd_nest = sgd,
                   sgd_damp = sgd;
    sgd_lr.lr = -1;
    sgd_mom.momentum = -0.5;
    sgd_nest.nesterov = true;
    sgd_damp.momentum = 0.9, sgd_damp.dampening = 0.5, sgd_damp.nesterov = true;
    tg_adagrad_options ada = tg_adagrad_defaults(), ada_eps = ada, ada_acc = ada;
    ada_eps.eps = -1;
    ada_acc.initial_accumulator_value = -1;
    tg_rmsprop_options rms = tg_rmsprop_defaults(), rms_alpha = rms;
    rms_alpha.alpha = -0.5;
    tg_adam_options adam = tg_adam_defaults(), adam_b1 = adam, adam_b2 = adam, adam_wd = adam;
    adam_b1.beta1 = 1;
    adam_b2.beta2 = -0.1;
    adam_wd.weight_decay = NAN;
    tg_optimizer *opt = tg_sgd_new(params, 1, &sgd);
    tg_optimizer *aopt = tg_adam_new((tg_tensor *[]){q}, 1, NULL);
    CHECK(opt && aopt);
    const char *saved = in_dir("opt.safetensors"), *asaved = in_dir("adam.safetensors");
    CHECK(tg_optim_save(opt, saved) == 0 && tg_optim_save(aopt, asaved) == 0);
    tg_lr_scheduler *sched = tg_step_lr(opt, 2, 0.5);
    CHECK(sched != NULL);
    tg_tensor *inf_grad = leaf(),
              *empty_grad = tg_requires_grad_(tg_zeros(TG_SHAPE(0), TG_F32), true);
    CHECK(tg_backward(inf_grad, tg_full(TG_SHAPE(2, 3), INFINITY, TG_F32)) == 0 &&
          tg_backward(empty_grad, tg_zeros(TG_SHAPE(0), TG_F32)) == 0);
    const char *ssaved = in_dir("sched.safetensors");
    CHECK(tg_lr_scheduler_save(sched, ssaved) == 0);
    TABLE(
        ROW(tg_sgd_new(NULL, 1, &sgd) == NULL, TG_ERR_NULL, "SGD");
        ROW(tg_sgd_new(params, 0, &sgd) == NULL, TG_ERR_VALUE, "SGD: empty parameter list");
        ROW(tg_sgd_new(params, -1, &sgd) == NULL, TG_ERR_VALUE, "SGD");
        ROW(tg_sgd_new(params, 1, NULL) == NULL, TG_ERR_NULL, "SGD: options are NULL");
        ROW(tg_sgd_new(with_null, 2, &sgd) == NULL, TG_ERR_NULL, "SGD: parameter 1 is NULL");
        ROW(tg_sgd_new(dup, 2, &sgd) == NULL, TG_ERR_VALUE,
            "appears twice in the parameter groups");
        ROW(tg_sgd_new(&frozen, 1, &sgd) == NULL, TG_ERR_VALUE,
            "SGD: parameter 0 (2,) does not require grad");
        ROW(tg_sgd_new(&nonleaf, 1, &sgd) == NULL, TG_ERR_VALUE,
            "SGD: parameter 0 (2, 3) is not a leaf (made by MulBackward0)");
        ROW(tg_sgd_new(&ex, 1, &sgd) == NULL, TG_ERR_VALUE,
            "SGD: parameter 0 (2, 3): unsupported operation: more than one element of the "
            "written-to tensor refers to a single memory location");
        ROW(tg_sgd_new(params, 1, &sgd_lr) == NULL, TG_ERR_VALUE,
            "SGD: invalid lr -1 (must be >= 0)");
        ROW(tg_sgd_new(params, 1, &sgd_mom) == NULL, TG_ERR_VALUE, "SGD: invalid momentum -0.5");
        ROW(tg_sgd_new(params, 1, &sgd_nest) == NULL, TG_ERR_VALUE,
            "SGD: nesterov requires momentum > 0 and dampening 0 (momentum 0, dampening 0)");
        ROW(tg_sgd_new(params, 1, &sgd_damp) == NULL, TG_ERR_VALUE,
            "SGD: nesterov requires momentum > 0 and dampening 0 (momentum 0.9, dampening 0.5)");
        ROW(tg_adagrad_new(NULL, 1, NULL) == NULL, TG_ERR_NULL, "Adagrad");
        ROW(tg_adagrad_new(params, 1, &ada_eps) == NULL, TG_ERR_VALUE,
            "Adagrad: invalid eps -1 (must be >= 0)");
        ROW(tg_adagrad_new(params, 1, &ada_acc) == NULL, TG_ERR_VALUE,
            "Adagrad: invalid initial_accumulator_value -1 (must be >= 0)");
        ROW(tg_adagrad_new(&ex, 1, NULL) == NULL, TG_ERR_VALUE,
            "Adagrad: parameter 0 (2, 3): unsupported operation: more than one element of the "
            "written-to tensor refers to a single memory location");
        ROW(tg_rmsprop_new(params, -3, NULL) == NULL, TG_ERR_VALUE, "RMSprop");
        ROW(tg_rmsprop_new(params, 1, &rms_alpha) == NULL, TG_ERR_VALUE,
            "RMSprop: invalid alpha -0.5 (must be >= 0)");
        ROW(tg_rmsprop_new(&ex, 1, NULL) == NULL, TG_ERR_VALUE,
            "RMSprop: parameter 0 (2, 3): unsupported operation: more than one element of the "
            "written-to tensor refers to a single memory location");
        ROW(tg_adam_new(params, 1, &adam_b1) == NULL, TG_ERR_VALUE,
            "Adam: invalid beta1 1 (must be in [0, 1))");
        ROW(tg_adam_new(params, 1, &adam_b2) == NULL, TG_ERR_VALUE,
            "Adam: invalid beta2 -0.1 (must be in [0, 1))");
        ROW(tg_adam_new(params, 1, &adam_wd) == NULL, TG_ERR_VALUE,
            "Adam: invalid weight_decay nan (must be >= 0)");
        ROW(tg_adam_new(&ex, 1, NULL) == NULL, TG_ERR_VALUE,
            "Adam: parameter 0 (2, 3): unsupported operation: more than one element of the "
            "written-to tensor refers to a single memory location");
        ROW(tg_adamw_new(params, 0, NULL) == NULL, TG_ERR_VALUE, "AdamW: empty parameter list");
        ROW(tg_adamw_new(&ex, 1, NULL) == NULL, TG_ERR_VALUE,
            "AdamW: parameter 0 (2, 3): unsupported operation: more than one element of the "
            "written-to tensor refers to a single memory location");
        ROW(tg_sgd_add_group(NULL, params, 1, &sgd) == -1, TG_ERR_NULL,
            "add_group: argument is NULL");
        ROW(tg_sgd_add_group(opt, params, 1, &sgd) == -1, TG_ERR_VALUE,
            "appears twice in the parameter groups");
        ROW(tg_sgd_add_group(opt, (tg_tensor *[]){q}, -1, &sgd) == -1, TG_ERR_VALUE, "SGD");
        ROW(tg_sgd_add_group(opt, (tg_tensor *[]){q}, 1, NULL) == -1, TG_ERR_NULL,
            "SGD: options are NULL");
        ROW(tg_sgd_add_group(aopt, (tg_tensor *[]){p}, 1, &sgd) == -1, TG_ERR_VALUE,
            "Adam: add_group was given tg_sgd_options, not tg_adam_options");
        ROW(tg_adagrad_add_group(opt, (tg_tensor *[]){q}, 1, &ada) == -1, TG_ERR_VALUE,
            "SGD: add_group was given tg_adagrad_options, not tg_sgd_options");
        ROW(tg_rmsprop_add_group(opt, (tg_tensor *[]){q}, 1, &rms) == -1, TG_ERR_VALUE,
            "SGD: add_group was given tg_rmsprop_options, not tg_sgd_options");
        ROW(tg_adam_add_group(opt, (tg_tensor *[]){q}, 1, &adam) == -1, TG_ERR_VALUE,
            "SGD: add_group was given tg_adam_options, not tg_sgd_options");
        ROW(tg_optim_step(NULL) == -1, TG_ERR_NULL, "optim_step: argument is NULL");
        ROW(isnan(tg_optim_lr(NULL, 0)), TG_ERR_NULL, "optim_lr: argument is NULL");
        ROW(isnan(tg_optim_lr(opt, 1)), TG_ERR_VALUE, "SGD: no parameter group 1 (it has 1)");
        ROW(isnan(tg_optim_lr(opt, -1)), TG_ERR_VALUE, "SGD: no parameter group -1");
        ROW(tg_optim_set_lr(NULL, 0, 0.1) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_optim_set_lr(opt, 0, -0.1) == -1, TG_ERR_VALUE,
            "SGD: invalid lr -0.1 (must be >= 0)");
        ROW(tg_optim_set_lr(opt, 0, NAN) == -1, TG_ERR_VALUE, "SGD: invalid lr nan (must be >= 0)");
        ROW(tg_optim_set_lr(opt, 3, 0.1) == -1, TG_ERR_VALUE, "SGD: no parameter group 3");
        ROW(tg_optim_state(NULL, p, "momentum_buffer") == NULL, TG_ERR_NULL,
            "optim_state: argument is NULL");
        ROW(tg_optim_state(opt, NULL, "momentum_buffer") == NULL, TG_ERR_NULL,
            "optim_state: argument is NULL");
        ROW(tg_optim_state(opt, p, NULL) == NULL, TG_ERR_NULL, "optim_state: argument is NULL");
        ROW(tg_optim_state(opt, q, "momentum_buffer") == NULL, TG_ERR_VALUE,
            "SGD: the tensor is not one of its parameters");
        ROW(tg_optim_step_count(NULL, p) == -1, TG_ERR_NULL, "argument is NULL");
        ROW(tg_optim_step_count(opt, q) == -1, TG_ERR_VALUE,
            "SGD: the tensor is not one of its parameters");
        ROW(tg_optim_save(NULL, saved) == -1, TG_ERR_NULL, "optim_save: argument is NULL");
        ROW(tg_optim_save(opt, NULL) == -1, TG_ERR_NULL, "optim_save: argument is NULL");
        ROW(tg_optim_save(opt, "/nonexistent/o.safetensors") == -1, TG_ERR_IO,
            "save_safetensors: cannot write /nonexistent/o.safetensors");
        ROW(tg_optim_load(NULL, saved) == -1, TG_ERR_NULL, "optim_load: argument is NULL");
        ROW(tg_optim_load(opt, NULL) == -1, TG_ERR_NULL, "optim_load: argument is NULL");
        ROW(tg_optim_load(opt, in_dir("missing")) == -1, TG_ERR_IO, "safetensors: cannot open");
        ROW(tg_optim_load(opt, asaved) == -1, TG_ERR_VALUE, "holds Adam state, not SGD");
        ROW(tg_optim_load(opt, ssaved) == -1, TG_ERR_VALUE, "holds no optimizer state");
        ROW(tg_step_lr(NULL, 2, 0.5) == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_step_lr(opt, 0, 0.5) == NULL, TG_ERR_VALUE,
            "StepLR: invalid step_size 0 (must be > 0)");
        ROW(tg_step_lr(opt, -3, 0.5) == NULL, TG_ERR_VALUE, "StepLR: invalid step_size -3");
        ROW(tg_step_lr(opt, 2, -0.5) == NULL, TG_ERR_VALUE, "StepLR");
        ROW(tg_cosine_annealing_lr(NULL, 10, 0) == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_cosine_annealing_lr(opt, 0, 0) == NULL, TG_ERR_VALUE,
            "CosineAnnealingLR: invalid T_max 0 (must be > 0)");
        ROW(tg_cosine_annealing_lr(opt, 10, -1) == NULL, TG_ERR_VALUE, "CosineAnnealingLR");
        ROW(tg_warmup_cosine_lr(NULL, 1, 10, 0.1) == NULL, TG_ERR_NULL, "argument is NULL");
        ROW(tg_warmup_cosine_lr(opt, -1, 10, 0.1) == NULL, TG_ERR_VALUE, "WarmupCosine");
        ROW(tg_warmup_cosine_lr(opt, 10, 5, 0.1) == NULL, TG_ERR_VALUE, "WarmupCosine");
        ROW(tg_warmup_cosine_lr(opt, 1, 10, 1.5) == NULL, TG_ERR_VALUE,
            "WarmupCosine: invalid final_ratio 1.5 (must be in [0, 1])");
        ROW(tg_lr_scheduler_step(NULL) == -1, TG_ERR_NULL, "lr_scheduler_step: argument is NULL");
        ROW(tg_lr_scheduler_save(NULL, ssaved) == -1, TG_ERR_NULL,
            "lr_scheduler_save: argument is NULL");
        ROW(tg_lr_scheduler_save(sched, NULL) == -1, TG_ERR_NULL,
            "lr_scheduler_save: argument is NULL");
        ROW(tg_lr_scheduler_save(sched, "/nonexistent/s") == -1, TG_ERR_IO,
            "save_safetensors: cannot write /nonexistent/s");
        ROW(tg_lr_scheduler_load(NULL, ssaved) == -1, TG_ERR_NULL,
            "lr_scheduler_load: argument is NULL");
        ROW(tg_lr_scheduler_load(sched, NULL) == -1, TG_ERR_NULL,
            "lr_scheduler_load: argument is NULL");
        ROW(tg_lr_scheduler_load(sched, in_dir("missing")) == -1, TG_ERR_IO,
            "safetensors: cannot open");
        ROW(tg_lr_scheduler_load(sched, saved) == -1, TG_ERR_VALUE, "holds no scheduler state");
        ROW(tg_clip_grad_norm_(NULL, 1, 1.0) == -1, TG_ERR_NULL,
            "clip_grad_norm_: no parameter list");
        ROW(tg_clip_grad_norm_(params, -1, 1.0) == -1, TG_ERR_VALUE,
            "clip_grad_norm_: -1 parameters");
        ROW(tg_clip_grad_norm_(with_null, 2, 1.0) == -1, TG_ERR_NULL,
            "clip_grad_norm_: parameter 1 is NULL");
        ROW(tg_clip_grad_norm_(params, 1, -1.0) == -1, TG_ERR_VALUE, "clip_grad_norm");
        ROW(tg_clip_grad_norm_ex_(NULL, 1, 1, 2, TG_SCALE_NONFINITE) == -1, TG_ERR_NULL,
            "clip_grad_norm_: no parameter list");
        ROW(tg_clip_grad_norm_ex_(params, 1, NAN, 2, TG_SCALE_NONFINITE) == -1, TG_ERR_VALUE,
            "clip_grad_norm_: invalid max_norm nan (must be >= 0)");
        ROW(tg_clip_grad_norm_ex_(params, 1, 1, 2, (tg_nonfinite_mode)5) == -1, TG_ERR_VALUE,
            "clip_grad_norm_: invalid nonfinite mode 5 (TG_SCALE_NONFINITE or "
            "TG_ERROR_IF_NONFINITE)");
        ROW(tg_clip_grad_norm_ex_(&inf_grad, 1, 1, 3, TG_ERROR_IF_NONFINITE) == -1, TG_ERR_VALUE,
            "clip_grad_norm_: The total norm of order 3.0 for gradients from `parameters` is "
            "non-finite, so it cannot be clipped.");
        ROW(tg_clip_grad_norm_ex_(&empty_grad, 1, 1, INFINITY, TG_SCALE_NONFINITE) == -1,
            TG_ERR_VALUE,
            "clip_grad_norm_: parameter 0: max(): Expected reduction dim to be specified for "
            "input.numel() == 0.");
        ROW(tg_clip_grad_value_(NULL, 1, 1.0) == -1, TG_ERR_NULL,
            "clip_grad_value_: no parameter list");
        ROW(tg_clip_grad_value_(params, -1, 1.0) == -1, TG_ERR_VALUE,
            "clip_grad_value_: -1 parameters");
        ROW(tg_clip_grad_value_(params, 1, -1.0) == -1, TG_ERR_VALUE, "clip_grad_value"););
    tg_lr_scheduler_free(sched);
    tg_optim_free(opt);
    tg_optim_free(aopt);
    unlink(saved), unlink(asaved), unlink(ssaved);
}

/* optim.h's schedules: every argument PyTorch refuses, with its words, and
 * the ones tapegrad refuses besides (tapegrad/optim.h says why). */
static double minus_one(int64_t epoch, int group, void *ctx) {
    (void)epoch, (void)group, (void)ctx;
    return -1;
}

static void optim_h_schedules(void) {
    tg_tensor *p = leaf(), *q = leaf(), *r = leaf(), *u = leaf(), *v = leaf();
    tg_sgd_options sgd = tg_sgd_defaults(0.1);
    sgd.momentum = 0.9;
    tg_optimizer *opt = tg_sgd_new(&p, 1, &sgd), *other = tg_sgd_new(&q, 1, &sgd);
    tg_optimizer *still = tg_sgd_new(&r, 1, &(tg_sgd_options){.lr = 0.1});
    tg_optimizer *adam = tg_adam_new(&u, 1, NULL), *adagrad = tg_adagrad_new(&v, 1, NULL);
    tg_lr_scheduler *plateau = tg_reduce_lr_on_plateau(opt, NULL), *step = tg_step_lr(opt, 2, 0.5);
    CHECK(opt && other && still && adam && adagrad && plateau && step);
    tg_one_cycle_options cycle = tg_one_cycle_defaults(0.1, 100), total0 = cycle, pct0 = cycle,
                         pct1 = cycle, anneal = cycle, max_lr = cycle, div = cycle, phase = cycle,
                         last_phase = cycle, base_m = cycle, max_m = cycle;
    total0.total_steps = 0, pct0.pct_start = 0, pct1.pct_start = 1, anneal.anneal_strategy = 7;
    max_lr.max_lr = -1, div.final_div_factor = 0, base_m.base_momentum = -0.1;
    max_m.max_momentum = 1;
    phase.total_steps = 10, phase.pct_start = 0.1;
    last_phase.total_steps = 2, last_phase.pct_start = 0.75, last_phase.three_phase = true;
    tg_reduce_lr_on_plateau_options pl = tg_reduce_lr_on_plateau_defaults(), factor1 = pl,
                                    factor_neg = pl, mode = pl, thr_mode = pl, patience = pl,
                                    cooldown = pl, min_lr = pl, eps = pl, threshold = pl;
    factor1.factor = 1, factor_neg.factor = -0.5, mode.mode = 3, thr_mode.threshold_mode = 2;
    patience.patience = -1, cooldown.cooldown = -2, min_lr.min_lrs = (double[]){-1};
    eps.eps = -1, threshold.threshold = NAN;
    TABLE(
        ROW(tg_step_lr(opt, 2, 0) == NULL, TG_ERR_VALUE,
            "StepLR: invalid gamma 0 (must be > 0 and finite)");
        ROW(tg_multi_step_lr(NULL, 2, (int[]){2, 5}, 0.1) == NULL, TG_ERR_NULL,
            "MultiStepLR: argument is NULL");
        ROW(tg_multi_step_lr(opt, 0, NULL, 0.1) == NULL, TG_ERR_VALUE,
            "MultiStepLR: milestones is empty");
        ROW(tg_multi_step_lr(opt, -1, NULL, 0.1) == NULL, TG_ERR_VALUE,
            "MultiStepLR: -1 milestones");
        ROW(tg_multi_step_lr(opt, 2, NULL, 0.1) == NULL, TG_ERR_NULL,
            "MultiStepLR: milestones is NULL");
        ROW(tg_multi_step_lr(opt, 3, (int[]){2, 5, 4}, 0.1) == NULL, TG_ERR_VALUE,
            "MultiStepLR: milestones are not sorted: milestones[2] = 4 after 5");
        ROW(tg_multi_step_lr(opt, 2, (int[]){-1, 5}, 0.1) == NULL, TG_ERR_VALUE,
            "MultiStepLR: milestones[0] is -1 (must be >= 0)");
        ROW(tg_multi_step_lr(opt, 1, (int[]){3}, 0) == NULL, TG_ERR_VALUE,
            "MultiStepLR: invalid gamma 0");
        ROW(tg_multi_step_lr(opt, 1, (int[]){3}, -0.5) == NULL, TG_ERR_VALUE,
            "MultiStepLR: invalid gamma -0.5");
        ROW(tg_exponential_lr(NULL, 0.9) == NULL, TG_ERR_NULL, "ExponentialLR: argument is NULL");
        ROW(tg_exponential_lr(opt, 0) == NULL, TG_ERR_VALUE, "ExponentialLR: invalid gamma 0");
        ROW(tg_exponential_lr(opt, NAN) == NULL, TG_ERR_VALUE, "ExponentialLR: invalid gamma nan");
        ROW(tg_exponential_lr(opt, INFINITY) == NULL, TG_ERR_VALUE,
            "ExponentialLR: invalid gamma inf");
        ROW(tg_constant_lr(NULL, 0.5, 3) == NULL, TG_ERR_NULL, "ConstantLR: argument is NULL");
        ROW(tg_constant_lr(opt, 1.5, 3) == NULL, TG_ERR_VALUE,
            "ConstantLR: Constant multiplicative factor expected to be between 0 and 1.");
        ROW(tg_constant_lr(opt, -0.1, 3) == NULL, TG_ERR_VALUE,
            "ConstantLR: Constant multiplicative factor expected to be between 0 and 1.");
        ROW(tg_constant_lr(opt, 0, 3) == NULL, TG_ERR_VALUE,
            "ConstantLR: Constant multiplicative factor 0 is divided by");
        ROW(tg_constant_lr(opt, 0.5, 0) == NULL, TG_ERR_VALUE,
            "ConstantLR: invalid total_iters 0 (must be > 0)");
        ROW(tg_linear_lr(NULL, 0.5, 1, 3) == NULL, TG_ERR_NULL, "LinearLR: argument is NULL");
        ROW(tg_linear_lr(opt, 1.5, 1, 3) == NULL, TG_ERR_VALUE,
            "LinearLR: Starting multiplicative factor expected to be between 0 and 1.");
        ROW(tg_linear_lr(opt, 0.5, -1, 3) == NULL, TG_ERR_VALUE,
            "LinearLR: Ending multiplicative factor expected to be between 0 and 1.");
        ROW(tg_linear_lr(opt, 0, 1, 3) == NULL, TG_ERR_VALUE,
            "LinearLR: Starting multiplicative factor 0 is divided by");
        ROW(tg_linear_lr(opt, 0.5, 1, -2) == NULL, TG_ERR_VALUE,
            "LinearLR: invalid total_iters -2 (must be > 0)");
        ROW(tg_cosine_annealing_warm_restarts(NULL, 10, 1, 0) == NULL, TG_ERR_NULL,
            "CosineAnnealingWarmRestarts: argument is NULL");
        ROW(tg_cosine_annealing_warm_restarts(opt, 0, 1, 0) == NULL, TG_ERR_VALUE,
            "CosineAnnealingWarmRestarts: Expected positive integer T_0, but got 0");
        ROW(tg_cosine_annealing_warm_restarts(opt, 10, 0, 0) == NULL, TG_ERR_VALUE,
            "CosineAnnealingWarmRestarts: Expected integer T_mult >= 1, but got 0");
        ROW(tg_cosine_annealing_warm_restarts(opt, 10, 2, -1) == NULL, TG_ERR_VALUE,
            "CosineAnnealingWarmRestarts: invalid eta_min -1 (must be >= 0)");
        ROW(tg_lambda_lr(NULL, minus_one, NULL) == NULL, TG_ERR_NULL, "LambdaLR: argument is NULL");
        ROW(tg_lambda_lr(opt, NULL, NULL) == NULL, TG_ERR_NULL, "LambdaLR: lr_lambda is NULL");
        ROW(tg_lambda_lr(opt, minus_one, NULL) == NULL, TG_ERR_VALUE,
            "LambdaLR: the lr of group 0 at epoch 0 would be -0.1");
        ROW(tg_one_cycle_lr(opt, NULL) == NULL, TG_ERR_NULL,
            "OneCycleLR: options are NULL (max_lr and total_steps have no default");
        ROW(tg_one_cycle_lr(NULL, &cycle) == NULL, TG_ERR_NULL, "OneCycleLR: argument is NULL");
        ROW(tg_one_cycle_lr(opt, &total0) == NULL, TG_ERR_VALUE,
            "OneCycleLR: Expected positive integer total_steps, but got 0");
        ROW(tg_one_cycle_lr(opt, &pct0) == NULL, TG_ERR_VALUE,
            "OneCycleLR: Expected float between 0 and 1 pct_start, but got 0");
        ROW(tg_one_cycle_lr(opt, &pct1) == NULL, TG_ERR_VALUE,
            "OneCycleLR: Expected float between 0 and 1 pct_start, but got 1");
        ROW(tg_one_cycle_lr(opt, &anneal) == NULL, TG_ERR_VALUE,
            "OneCycleLR: anneal_strategy must by one of 'cos' or 'linear', instead got 7");
        ROW(tg_one_cycle_lr(opt, &max_lr) == NULL, TG_ERR_VALUE,
            "OneCycleLR: invalid max_lr -1 for group 0");
        ROW(tg_one_cycle_lr(opt, &div) == NULL, TG_ERR_VALUE,
            "OneCycleLR: invalid div_factor 25 or final_div_factor 0");
        ROW(tg_one_cycle_lr(opt, &phase) == NULL, TG_ERR_VALUE,
            "OneCycleLR: pct_start 0.1 of 10 total steps leaves phase 0 with no steps");
        ROW(tg_one_cycle_lr(opt, &last_phase) == NULL, TG_ERR_VALUE,
            "OneCycleLR: pct_start 0.75 of 2 total steps leaves phase 2 with no steps");
        ROW(tg_one_cycle_lr(adagrad, &cycle) == NULL, TG_ERR_VALUE,
            "OneCycleLR: optimizer must support momentum with `cycle_momentum` option enabled");
        ROW(tg_one_cycle_lr(still, &cycle) == NULL, TG_ERR_VALUE,
            "OneCycleLR: group 0 of the SGD has momentum 0");
        ROW(tg_one_cycle_lr(opt, &base_m) == NULL, TG_ERR_VALUE,
            "OneCycleLR: invalid base_momentum -0.1 (SGD's momentum must be in [0, inf))");
        ROW(tg_one_cycle_lr(adam, &max_m) == NULL, TG_ERR_VALUE,
            "OneCycleLR: invalid max_momentum 1 (Adam's beta1 must be in [0, 1))");
        ROW(tg_reduce_lr_on_plateau(NULL, NULL) == NULL, TG_ERR_NULL,
            "ReduceLROnPlateau: argument is NULL");
        ROW(tg_reduce_lr_on_plateau(opt, &factor1) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: Factor should be < 1.0.");
        ROW(tg_reduce_lr_on_plateau(opt, &factor_neg) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: invalid factor -0.5 (must be in [0, 1))");
        ROW(tg_reduce_lr_on_plateau(opt, &mode) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: mode 3 is unknown!");
        ROW(tg_reduce_lr_on_plateau(opt, &thr_mode) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: threshold mode 2 is unknown!");
        ROW(tg_reduce_lr_on_plateau(opt, &patience) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: invalid patience -1 (must be >= 0)");
        ROW(tg_reduce_lr_on_plateau(opt, &cooldown) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: invalid cooldown -2 (must be >= 0)");
        ROW(tg_reduce_lr_on_plateau(opt, &min_lr) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: invalid min_lr -1 (must be >= 0)");
        ROW(tg_reduce_lr_on_plateau(opt, &eps) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: invalid eps -1 (must be >= 0)");
        ROW(tg_reduce_lr_on_plateau(opt, &threshold) == NULL, TG_ERR_VALUE,
            "ReduceLROnPlateau: invalid threshold nan (must be >= 0)");
        ROW(tg_lr_scheduler_step(plateau) == -1, TG_ERR_VALUE,
            "ReduceLROnPlateau: step() missing 1 required positional argument: 'metrics'");
        ROW(tg_lr_scheduler_step_metric(NULL, 0.5) == -1, TG_ERR_NULL,
            "lr_scheduler_step_metric: argument is NULL");
        ROW(tg_lr_scheduler_step_metric(step, 0.5) == -1, TG_ERR_VALUE,
            "StepLR: takes no metric (step it with tg_lr_scheduler_step)");
        ROW(tg_sequential_lr(NULL, 1, (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5)}, 0, NULL) ==
                NULL,
            TG_ERR_NULL, "SequentialLR: argument is NULL");
        ROW(tg_sequential_lr(opt, 0, NULL, 0, NULL) == NULL, TG_ERR_VALUE,
            "SequentialLR: no schedulers");
        ROW(tg_sequential_lr(opt, 2, NULL, 1, (int[]){3}) == NULL, TG_ERR_NULL,
            "SequentialLR: no schedulers");
        ROW(tg_sequential_lr(opt, 1, (tg_lr_scheduler *[]){NULL}, 0, NULL) == NULL, TG_ERR_NULL,
            "SequentialLR: schedulers[0] is NULL");
        ROW(tg_sequential_lr(
                opt, 2, (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5), tg_step_lr(opt, 3, 0.5)}, 0,
                NULL) == NULL,
            TG_ERR_VALUE,
            "SequentialLR: Sequential Schedulers expects number of schedulers provided to be one "
            "more than the number of milestone points, but got number of schedulers 2 and the "
            "number of milestones to be equal to 0");
        ROW(tg_sequential_lr(opt, 3,
                             (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5), tg_step_lr(opt, 3, 0.5),
                                                   tg_exponential_lr(opt, 0.9)},
                             2, (int[]){5, 3}) == NULL,
            TG_ERR_VALUE, "SequentialLR: milestones are not sorted: milestones[1] = 3 after 5");
        ROW(tg_sequential_lr(opt, 2, (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5), NULL}, 1,
                             NULL) == NULL,
            TG_ERR_NULL, "SequentialLR: schedulers[1] is NULL");
        ROW(tg_sequential_lr(opt, 1, (tg_lr_scheduler *[]){tg_step_lr(other, 2, 0.5)}, 0, NULL) ==
                NULL,
            TG_ERR_VALUE,
            "SequentialLR: Sequential Schedulers expects all schedulers to belong to the same "
            "optimizer, but got schedulers at index 0 to be different than the optimizer passed "
            "in.");
        ROW(tg_sequential_lr(opt, 1, (tg_lr_scheduler *[]){tg_reduce_lr_on_plateau(opt, NULL)}, 0,
                             NULL) == NULL,
            TG_ERR_VALUE, "SequentialLR: schedulers[0] is a ReduceLROnPlateau");
        ROW(tg_sequential_lr(opt, 1,
                             (tg_lr_scheduler *[]){tg_chained_scheduler(
                                 1, (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5)})},
                             0, NULL) == NULL,
            TG_ERR_VALUE, "SequentialLR: schedulers[0] is a ChainedScheduler");
        ROW(tg_chained_scheduler(0, NULL) == NULL, TG_ERR_VALUE, "ChainedScheduler: no schedulers");
        ROW(tg_chained_scheduler(1, (tg_lr_scheduler *[]){NULL}) == NULL, TG_ERR_NULL,
            "ChainedScheduler: argument is NULL");
        ROW(tg_chained_scheduler(2, (tg_lr_scheduler *[]){tg_step_lr(opt, 2, 0.5),
                                                          tg_step_lr(other, 2, 0.5)}) == NULL,
            TG_ERR_VALUE,
            "ChainedScheduler: ChainedScheduler expects all schedulers to belong to the same "
            "optimizer, but got schedulers at index 0 and 1 to be different");
        ROW(isnan(tg_optim_momentum(NULL, 0)), TG_ERR_NULL, "optim_momentum: argument is NULL");
        ROW(isnan(tg_optim_momentum(opt, 1)), TG_ERR_VALUE, "SGD: no parameter group 1 (it has 1)");
        ROW(isnan(tg_optim_momentum(adagrad, 0)), TG_ERR_VALUE,
            "Adagrad: has no momentum (nor betas)"););
    tg_lr_scheduler_free(plateau);
    tg_lr_scheduler_free(step);
    tg_optimizer *all[5] = {opt, other, still, adam, adagrad};
    for (int i = 0; i < 5; i++) tg_optim_free(all[i]);
}

/* ---- data: data.h -------------------------------------------------------------------------- */

static void data_h(void) {
    tg_tensor *a = tg_ones(TG_SHAPE(2, 3), TG_F32), *out_x, *out_y;
    const char *good = in_dir("good.idx");
    CHECK(tg_idx_save(good, a, TG_IDX_U8) == 0);
    CHECK(mkdir(in_dir("sub"), 0755) == 0);
    tg_progress_options bad_style = tg_progress_defaults(), negative = tg_progress_defaults();
    bad_style.style = (tg_progress_style)7;
    negative.line_every_steps = -1;
    tg_progress_options nan_seconds = tg_progress_defaults();
    nan_seconds.redraw_seconds = NAN;
    /* For the update rows, which fail and write nothing. */
    tg_progress_options quiet = tg_progress_defaults();
    quiet.style = TG_PROGRESS_LINES;
    FILE *sink = fopen("/dev/null", "w");
    CHECK(sink != NULL);
    tg_progress *p = tg_progress_new(5, sink, &quiet);
    CHECK(p != NULL);
    TABLE(
        ROW(tg_idx_load(NULL, TG_F32) == NULL, TG_ERR_NULL, "idx_load: argument is NULL");
        ROW(tg_idx_load(good, BAD_DTYPE) == NULL, TG_ERR_VALUE,
            "idx_load: invalid dtype 7 (TG_F32, TG_F64, TG_I64 or TG_BOOL)");
        ROW(tg_idx_load(in_dir("missing"), TG_F32) == NULL, TG_ERR_IO, "idx_load: cannot open");
        ROW(tg_idx_load(in_dir("sub"), TG_F32) == NULL, TG_ERR_IO, "sub: not a regular file");
        ROW(tg_idx_load("", TG_F32) == NULL, TG_ERR_IO, "idx_load: cannot open");
        ROW(tg_mnist_load(NULL, TG_MNIST_TRAIN, &out_x, &out_y) == -1, TG_ERR_NULL,
            "mnist_load: argument is NULL");
        ROW(tg_mnist_load(dir, TG_MNIST_TRAIN, NULL, &out_y) == -1, TG_ERR_NULL,
            "mnist_load: argument is NULL");
        ROW(tg_mnist_load(dir, TG_MNIST_TRAIN, &out_x, NULL) == -1, TG_ERR_NULL,
            "mnist_load: argument is NULL");
        ROW(tg_mnist_load(dir, (tg_mnist_split)2, &out_x, &out_y) == -1, TG_ERR_VALUE,
            "mnist_load: split must be TG_MNIST_TRAIN or TG_MNIST_TEST, not 2");
        ROW(tg_mnist_load(in_dir("missing"), TG_MNIST_TEST, &out_x, &out_y) == -1, TG_ERR_IO,
            "missing/t10k-images-idx3-ubyte.gz (nor t10k-images-idx3-ubyte): No such file");
        ROW(tg_idx_save(NULL, a, TG_IDX_U8) == -1, TG_ERR_NULL, "idx_save: argument is NULL");
        ROW(tg_idx_save(in_dir("x"), NULL, TG_IDX_U8) == -1, TG_ERR_NULL,
            "idx_save: argument is NULL");
        ROW(tg_idx_save(in_dir("x"), a, (tg_idx_type)0) == -1, TG_ERR_VALUE,
            "idx_save: unknown element type 0x00");
        ROW(tg_idx_save(in_dir("x"), tg_scalar(1, TG_F32), TG_IDX_U8) == -1, TG_ERR_SHAPE,
            "idx_save: a 0-dim tensor");
        ROW(tg_idx_save(in_dir("x"), tg_full(TG_SHAPE(2), -1, TG_F32), TG_IDX_U8) == -1,
            TG_ERR_VALUE, "idx_save: element 0 is -1, which u8 does not hold");
        ROW(tg_idx_save("/nonexistent/x.idx", a, TG_IDX_U8) == -1, TG_ERR_IO,
            "idx_save: cannot write /nonexistent/x.idx");
        ROW(tg_idx_save(in_dir("sub"), a, TG_IDX_U8) == -1, TG_ERR_IO, "idx_save: cannot write");
        ROW(tg_progress_new(5, NULL, NULL) == NULL, TG_ERR_NULL, "progress_new: argument is NULL");
        ROW(tg_progress_new(0, sink, NULL) == NULL, TG_ERR_VALUE,
            "progress_new: 0 total steps (at least 1)");
        ROW(tg_progress_new(-3, sink, NULL) == NULL, TG_ERR_VALUE, "progress_new: -3 total steps");
        ROW(tg_progress_new(5, sink, &bad_style) == NULL, TG_ERR_VALUE,
            "progress_new: invalid style 7");
        ROW(tg_progress_new(5, sink, &negative) == NULL, TG_ERR_VALUE,
            "line_every_steps -1 and line_every_seconds 10 must not be negative");
        ROW(tg_progress_new(5, sink, &nan_seconds) == NULL, TG_ERR_VALUE,
            "progress_new: redraw_seconds nan");
        ROW(tg_progress_update(NULL, 1, 0, 0) == -1, TG_ERR_NULL,
            "progress_update: argument is NULL");
        ROW(tg_progress_update(p, 6, 0, 0) == -1, TG_ERR_VALUE,
            "progress_update: step 6 outside 0..5");
        ROW(tg_progress_update(p, -1, 0, 0) == -1, TG_ERR_VALUE,
            "progress_update: step -1 outside 0..5"););
    tg_progress_finish(NULL);
    tg_progress_free(NULL);
    tg_progress_free(p);
    fclose(sink);
    /* The failed saves left no file and no temporary file behind. */
    CHECK(count_files("x") == 0 && count_files("sub.tmp") == 0);
    rmdir(in_dir("sub"));
    unlink(good);
}

/* tapegrad/dist.h before tg_dist_init (this program never starts it), or
 * in a build without MPI; and the distributed sampler's arguments. */
static void dist_h(void) {
    bool mpi = tg_dist_available();
    const char *why = mpi ? "tg_dist_init has not been called" : "tapegrad was built without MPI";
    tg_module *m = tg_linear_new(2, 2, TG_BIAS, TG_F32, NULL);
    tg_tensor *w = tg_module_parameter(m, "weight"), *ids = tg_arange(0, 4, 1, TG_I64);
    tg_dist_sampler bad_rank = {.world_size = 2, .rank = -1},
                    bad_order = {.world_size = 1, .order = (tg_order)5};
    TABLE(ROW(tg_dist_rank() == -1, TG_ERR_DIST, why);
          ROW(tg_dist_world_size() == -1, TG_ERR_DIST, why);
          ROW(tg_dist_finalize() == -1, TG_ERR_DIST, why);
          ROW(tg_dist_barrier() == -1, TG_ERR_DIST, why);
          ROW(tg_dist_broadcast_module(m) == -1, TG_ERR_DIST, why);
          ROW(tg_dist_broadcast_module(NULL) == -1, TG_ERR_DIST, why);
          ROW(tg_dist_allreduce_grads(&w, 1) == -1, TG_ERR_DIST, why);
          ROW(tg_dist_allreduce_grads(NULL, 3) == -1, TG_ERR_DIST, why);
          ROW(tg_dist_module_save(m, in_dir("m")) == -1, TG_ERR_DIST, why);
          ROW(tg_dist_module_load(m, in_dir("m")) == -1, TG_ERR_DIST, why);
          ROW(tg_dist_init_from(NULL) == -1, mpi ? TG_ERR_NULL : TG_ERR_DIST,
              mpi ? "dist_init_from: argument is NULL" : why);
          ROW(tg_dist_set_bucket_bytes(0) == -1, mpi ? TG_ERR_VALUE : TG_ERR_DIST,
              mpi ? "dist_set_bucket_bytes: the cap must be at least 1 byte" : why);
          ROW(tg_dist_sampler_indices(NULL, 4, 0) == NULL, TG_ERR_NULL,
              "dist_sampler_indices: argument is NULL");
          ROW(tg_dist_sampler_indices(&bad_rank, 4, 0) == NULL, TG_ERR_VALUE,
              "dist_sampler_indices: invalid rank -1 in a world of 2 ranks");
          ROW(tg_dist_sampler_indices(&bad_order, 4, 0) == NULL, TG_ERR_VALUE,
              "dist_sampler_indices: invalid order 5");
          ROW(tg_dist_sampler_indices(&(tg_dist_sampler){.world_size = 1}, -2, 0) == NULL,
              TG_ERR_VALUE, "dist_sampler_indices: -2 samples");
          ROW(tg_loader_new_dist(1, &ids, 2, TG_KEEP_LAST, NULL) == NULL, TG_ERR_NULL,
              "loader_new_dist: argument is NULL");
          ROW(tg_loader_new_dist(1, &ids, 2, TG_KEEP_LAST, &bad_rank) == NULL, TG_ERR_VALUE,
              "loader_new_dist: invalid rank -1");
          ROW(tg_loader_new_dist(1, &ids, 0, TG_KEEP_LAST, &(tg_dist_sampler){.world_size = 1}) ==
                  NULL,
              TG_ERR_VALUE, "loader_new_dist: batch_size should be a positive integer, got 0");
          ROW(tg_loader_new_dist(1, NULL, 2, TG_KEEP_LAST, &(tg_dist_sampler){.world_size = 1}) ==
                  NULL,
              TG_ERR_NULL, "loader_new_dist: argument is NULL");
          ROW(tg_loader_set_epoch(NULL, 1) == -1, TG_ERR_NULL,
              "loader_set_epoch: argument is NULL"););
    tg_module_free(m);
}

static void totals(void) {
    printf("  %d bad inputs tried, %d clean errors\n", rows_tried, rows_clean);
    CHECK(rows_tried > 300);
}

int main(int argc, char **argv) {
    memcpy(dir, "/tmp/tg-bad-input-XXXXXX", sizeof "/tmp/tg-bad-input-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    static const tg_test_case cases[] = {TG_CASE(tensor_h),
                                         TG_CASE(autograd_graph_parallel_h),
                                         TG_CASE(grad_report_h),
                                         TG_CASE(safetensors_h),
                                         TG_CASE(ops_h),
                                         TG_CASE(activation_dropout_linalg_h),
                                         TG_CASE(loss_reduce_h),
                                         TG_CASE(norm_h),
                                         TG_CASE(shape_h),
                                         TG_CASE(nn_h),
                                         TG_CASE(nn_h_modules),
                                         TG_CASE(nn_h_checkpoint),
                                         TG_CASE(nn_h_module_loaders),
                                         TG_CASE(optim_h),
                                         TG_CASE(optim_h_schedules),
                                         TG_CASE(data_h),
                                         TG_CASE(dist_h),
                                         TG_CASE(totals)};
    int rc = tg_test_run(cases, (int)(sizeof cases / sizeof cases[0]), argc, argv);
    rmdir(dir);
    return rc;
}
