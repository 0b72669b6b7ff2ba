/* tests/test_graph.c - graph pictures (DOT) and backward traces. */
#include "tg_test.h"

/* Everything written to f, as a string the caller frees. */
static char *slurp(FILE *f) {
    long n = ftell(f);
    rewind(f);
    char *s = calloc((size_t)n + 1, 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = '\0';
    fclose(f);
    return s;
}

static int count(const char *s, const char *what) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

/* x = ones(2, 2); y = x + 2; z = y * y * 3; out = z.mean(), all named. */
static tg_tensor *worked_example(tg_tensor **x_out) {
    tg_tensor *x = tg_requires_grad_(tg_ones(TG_SHAPE(2, 2), TG_F32), true);
    tg_set_name(x, "x");
    tg_tensor *y = tg_add_scalar(x, 2);
    tg_set_name(y, "y");
    tg_tensor *yy = tg_mul(y, y);
    tg_set_name(yy, "y*y");
    tg_tensor *z = tg_mul_scalar(yy, 3);
    tg_set_name(z, "z");
    tg_tensor *out = tg_mean(z);
    tg_set_name(out, "out");
    *x_out = x;
    return out;
}

static void dot_of_the_worked_example(void) {
    tg_tensor *x;
    tg_tensor *out = worked_example(&x);
    CHECK(tg_backward_ex(out, NULL, TG_RETAIN_GRAPH) == 0);
    FILE *f = tmpfile();
    CHECK(tg_graph_dot(out, f, NULL) == 0);
    char *dot = slurp(f);
    CHECK(dot != NULL);
    CHECK(strncmp(dot, "digraph tapegrad {", 18) == 0);
    CHECK(count(dot, "label=\"MeanBackward0\"") == 1);
    CHECK(count(dot, "label=\"MulBackward0\"") == 2);
    CHECK(count(dot, "label=\"AddBackward0\"") == 1);
    CHECK(strstr(dot,
                 "label=\"x\\n(2, 2) float32\\ndata [1, 1, 1, 1]\\ngrad [4.5, 4.5, 4.5, 4.5]\"") !=
          NULL);
    CHECK(strstr(dot, "label=\"out\\n() float32\\ndata [27]\"") != NULL);
    CHECK(count(dot, " -> ") == 4 + 5); /* op -> output, and input -> op (y twice) */
    free(dot);
}

static void dot_of_a_leaf_and_of_a_freed_graph(void) {
    tg_tensor *leaf = tg_ones(TG_SHAPE(3), TG_F64);
    tg_set_name(leaf, "w \"quoted\"");
    FILE *f = tmpfile();
    CHECK(tg_graph_dot(leaf, f, NULL) == 0);
    char *dot = slurp(f);
    CHECK(strstr(dot, "label=\"w \\\"quoted\\\"\\n(3,) float64\\ndata [1, 1, 1]\"") != NULL);
    free(dot);

    tg_tensor *x;
    tg_tensor *out = worked_example(&x);
    CHECK(tg_backward(out, NULL) == 0);
    f = tmpfile();
    CHECK(tg_graph_dot(out, f, NULL) == 0);
    dot = slurp(f);
    CHECK(count(dot, "(saved tensors freed)") ==
          2); /* the two products; add and mean save nothing */
    free(dot);
}

static void dot_options(void) {
    tg_tensor *x;
    tg_tensor *out = worked_example(&x);
    CHECK(tg_backward_ex(out, NULL, TG_RETAIN_GRAPH) == 0);
    FILE *f = tmpfile();
    CHECK(tg_graph_dot(out, f, &(tg_graph_options){.max_values = -1}) == 0);
    char *dot = slurp(f);
    CHECK(strstr(dot, "data") == NULL && strstr(dot, "label=\"x\\n(2, 2) float32\"") != NULL);
    free(dot);
    f = tmpfile();
    CHECK(tg_graph_dot(out, f, &(tg_graph_options){.hide_grad = true}) == 0);
    dot = slurp(f);
    CHECK(strstr(dot, "grad [") == NULL && strstr(dot, "data [1, 1, 1, 1]") != NULL);
    free(dot);
}

static void dot_bad_input(void) {
    CHECK(tg_graph_dot(NULL, stdout, NULL) == -1);
    CHECK_ERROR(TG_ERR_NULL, "graph_dot: argument is NULL");
    tg_tensor *t = tg_ones(TG_SHAPE(1), TG_F32);
    CHECK(tg_graph_dot(t, NULL, NULL) == -1);
    CHECK_ERROR(TG_ERR_NULL, "graph_dot");
    CHECK(tg_graph_dot_file(t, "/nonexistent-dir/g.dot", NULL) == -1);
    CHECK_ERROR(TG_ERR_IO, "graph_dot_file: cannot write /nonexistent-dir/g.dot");
}

static void trace_reads_as_the_chain_rule(void) {
    tg_tensor *x;
    tg_tensor *out = worked_example(&x);
    FILE *f = tmpfile();
    tg_set_trace(f);
    int rc = tg_backward(out, NULL);
    tg_set_trace(NULL);
    char *trace = slurp(f);
    CHECK(rc == 0);
    CHECK_EQ_STR(trace,
                 "[1] MeanBackward0 (makes out)\n"
                 "    gradient in:  [1]\n"
                 "    local:        d mean(x)/dx_i = 1/n\n"
                 "    to z: [0.25, 0.25, 0.25, 0.25]\n"
                 "[2] MulBackward0 (makes z)\n"
                 "    gradient in:  [0.25, 0.25, 0.25, 0.25]\n"
                 "    local:        d(a*b)/da = b, d(a*b)/db = a (summed over broadcast dims)\n"
                 "    to y*y: [0.75, 0.75, 0.75, 0.75]\n"
                 "[3] MulBackward0 (makes y*y)\n"
                 "    gradient in:  [0.75, 0.75, 0.75, 0.75]\n"
                 "    local:        d(a*b)/da = b, d(a*b)/db = a (summed over broadcast dims)\n"
                 "    to y: [2.25, 2.25, 2.25, 2.25]\n"
                 "    to y: [2.25, 2.25, 2.25, 2.25]\n"
                 "[4] AddBackward0 (makes y)\n"
                 "    gradient in:  [4.5, 4.5, 4.5, 4.5]\n"
                 "    local:        d(a+b)/da = 1, d(a+b)/db = 1 (summed over broadcast dims)\n"
                 "    to x: [4.5, 4.5, 4.5, 4.5]\n");
    free(trace);
}

TG_TEST_MAIN(TG_CASE(dot_of_the_worked_example), TG_CASE(dot_of_a_leaf_and_of_a_freed_graph),
             TG_CASE(dot_options), TG_CASE(dot_bad_input), TG_CASE(trace_reads_as_the_chain_rule))
