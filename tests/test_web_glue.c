/* tests/test_web_glue.c - the page's functions (web/tg_web.c), built
 * natively: the JSON they return for the worked example, the library's
 * messages for bad programs, finite differences, the optimizers' first
 * steps and the activations. The browser test (tests/web/) checks the same
 * functions compiled to WebAssembly, as the page shows them. */
#include "tg_test.h"
#include "tg_web.h"

#define CHECK_HAS(json, part)                                 \
    do {                                                      \
        if (!strstr((json), (part))) {                        \
            printf("  no %s in\n  %.600s\n", (part), (json)); \
            tg_test_fail(__FILE__, __LINE__, "CHECK_HAS");    \
            return;                                           \
        }                                                     \
    } while (0)

static const char *WORKED = "x = ones(2, 2)\ny = x + 2\nz = y * y * 3\nout = mean(z)";

static void worked_example_steps_back_to_4_5_and_steps_to_0_55(void) {
    const char *j = tg_web_run(WORKED, 0.1);
    CHECK_HAS(j, "\"ok\":true,\"output\":\"out\"");
    CHECK_HAS(j, "{\"name\":\"out\",\"shape\":[],\"values\":[27],\"op\":\"MeanBackward0\"");
    CHECK_HAS(j, "{\"name\":\"x\",\"shape\":[2,2],\"values\":[1,1,1,1],\"op\":\"\",\"input\":true,"
                 "\"grad\":[4.5,4.5,4.5,4.5]}");
    CHECK_HAS(j, "{\"name\":\"y * y\",");
    /* The four nodes of the tape, in the order backward runs them. */
    CHECK_HAS(j, "\"steps\":[{\"op\":\"MeanBackward0\",\"makes\":\"out\",\"grad_in\":\"[1]\"");
    CHECK_HAS(j, "\"to\":[{\"name\":\"z\",\"grad\":\"[0.25, 0.25, 0.25, 0.25]\"}]},"
                 "{\"op\":\"MulBackward0\",\"makes\":\"z\"");
    CHECK_HAS(j, "\"to\":[{\"name\":\"y * y\",\"grad\":\"[0.75, 0.75, 0.75, 0.75]\"}]},"
                 "{\"op\":\"MulBackward0\",\"makes\":\"y * y\"");
    CHECK_HAS(j, "\"to\":[{\"name\":\"y\",\"grad\":\"[2.25, 2.25, 2.25, 2.25]\"},"
                 "{\"name\":\"y\",\"grad\":\"[2.25, 2.25, 2.25, 2.25]\"}]},"
                 "{\"op\":\"AddBackward0\",\"makes\":\"y\",\"grad_in\":\"[4.5, 4.5, 4.5, 4.5]\"");
    CHECK_HAS(j, "\"to\":[{\"name\":\"x\",\"grad\":\"[4.5, 4.5, 4.5, 4.5]\"}]}]");
    /* 0.55 in float32, as PyTorch has it. */
    CHECK_HAS(j, "\"sgd\":[{\"name\":\"x\",\"values\":[0.550000012,0.550000012,0.550000012,"
                 "0.550000012]}]");
}

static void errors_are_the_librarys_or_name_the_column(void) {
    CHECK_EQ_STR(
        tg_web_run("x = ones(2, 3); w = ones(2, 3); out = sum(x @ w)", 0.1),
        "{\"ok\":false,\"error\":\"matmul: shapes (2, 3) and (2, 3) cannot be multiplied\"}");
    CHECK_HAS(tg_web_run("x = ones(2, 2); x + [1, 2, 3]", 0.1), "cannot be broadcast");
    CHECK_EQ_STR(tg_web_run("mean(3 * (x + 2)^2)", 0.1),
                 "{\"ok\":false,\"error\":\"column 11: unknown name 'x'\"}");
    CHECK_EQ_STR(tg_web_run("x = ones(2); mean(x", 0.1),
                 "{\"ok\":false,\"error\":\"column 20: expected ')' at the end\"}");
    CHECK_HAS(tg_web_run("x = [[1, 2], [3]]", 0.1), "rows of a list must have the same length");
    CHECK_HAS(tg_web_run("x = ones(2); frobnicate(x)", 0.1), "unknown function 'frobnicate'");
    CHECK_HAS(tg_web_run("", 0.1), "the program is empty");
    /* backward of a non-scalar: the library's message */
    CHECK_HAS(tg_web_run("x = ones(2); x * 2", 0.1), "\"ok\":false");
}

static void a_classifier_expression_runs(void) {
    const char *j = tg_web_run("x = [[1, 2], [0, 1], [3, -1]]\nw = [[0.5, -0.5, 1], [1, 2, -1]]\n"
                               "y = long([2, 0, 1])\nout = cross_entropy(x @ w, y)",
                               0.1);
    CHECK_HAS(j, "\"ok\":true");
    CHECK_HAS(j, "{\"name\":\"y\",\"shape\":[3],\"values\":[2,0,1],\"op\":\"\",\"input\":false");
    CHECK_HAS(j, "\"op\":\"MmBackward0\"");
}

static void finite_differences_match_autograd(void) {
    const char *j = tg_web_gradcheck("w = [[0.5, -1, 2], [1, 0.25, -0.5]]\nx = [1, 2, 3]\n"
                                     "out = sum(silu(w @ x))");
    CHECK_HAS(j, "\"ok\":true");
    int rows = 0;
    for (const char *p = strstr(j, "\"relative_error\":"); p;
         p = strstr(p + 1, "\"relative_error\":"), rows++)
        CHECK(strtod(p + 17, NULL) < 1e-6);
    CHECK(rows == 9);
}

/* From (1, 1) on the documents' loss, gradient 9 per coordinate: Adam's
 * first step is lr; the documents' uncorrected one lr / sqrt(0.001 * 81 +
 * eps) * 9 = 31.6 lr (docs/ERRATA.md, item 6). */
static void optimizers_first_steps(void) {
    const char *j = tg_web_optimize(0, 4, 0.1, 0.9, 0.999, 1e-8, 0, 1, 1, 1);
    CHECK_HAS(j, "\"library\":[[1,1,27],[0.9,0.9,");
    CHECK_HAS(j, "\"documents\":[[1,1,27],[-2.16227746,-2.16227746,");
    j = tg_web_optimize(2, 0, 0.001, 0, 0, 0, 0, -1.5, 2, 1); /* Rosenbrock, SGD */
    CHECK_HAS(j, "\"library\":[[-1.5,2,12.5],[-1.345,2.05,");
    CHECK_HAS(tg_web_optimize(0, 9, 0.1, 0, 0, 0, 0, 1, 1, 1), "no such surface or optimizer");
    CHECK_HAS(tg_web_optimize(0, 0, -1, 0, 0, 0, 0, 1, 1, 1), "\"ok\":false");
    CHECK_HAS(tg_web_surface(2, -2, 2, -1, 3, 3),
              "\"values\":[109,901,101,909,101,901,2509,101,2501]");
}

static void activations_and_the_documents_gelu(void) {
    CHECK_HAS(tg_web_activations(), "{\"name\":\"swish\",\"param\":\"beta\",\"default\":1.5");
    const char *j = tg_web_activation(8, 0); /* gelu: f'(1) = Phi(1) + phi(1) = 1.0833 */
    CHECK_HAS(j, "1.08331547");
    CHECK_HAS(j, "\"documents_df\":[");
    CHECK_HAS(tg_web_activation(99, 0), "no such activation");
}

TG_TEST_MAIN(TG_CASE(worked_example_steps_back_to_4_5_and_steps_to_0_55),
             TG_CASE(errors_are_the_librarys_or_name_the_column),
             TG_CASE(a_classifier_expression_runs), TG_CASE(finite_differences_match_autograd),
             TG_CASE(optimizers_first_steps), TG_CASE(activations_and_the_documents_gelu))
