/* test_rt_plot.c — training curves as SVG (runtime/plot.c).  The SVG is
 * read back: the points of each polyline against coordinates computed by
 * hand from the layout documented in plot.c, the tick labels of known
 * ranges, gaps and single points, no "nan"/"inf" in the file.  The last
 * test plots a real iris --log (data/iris_log.csv, the first 5 columns of
 * `train_iris --log`); with NNRT_PLOT_OUT=FILE it also writes that SVG to
 * FILE (docs/iris_curve.svg was made so).  Run with cwd tests/unit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nnrt.h"

#define TMPDIR_NAME "nnrt-plot"
#include "tmpdir.h"

/* ------------------------------------------------------------- reading */

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char *buf;
  free(buf);
  buf = malloc(1 << 20);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* A copy of [a, b) (static: the last 64 stay valid, more than a test
 * holds at once). */
static char *span(const char *a, const char *b) {
  static char *s[64];
  static int k;
  k = (k + 1) % 64;
  free(s[k]);
  s[k] = malloc((size_t)(b - a) + 1);
  assert_non_null(s[k]);
  memcpy(s[k], a, (size_t)(b - a));
  s[k][b - a] = '\0';
  return s[k];
}

/* The panel with this id: from its <g> to the next panel's. */
static char *panel(const char *svg, const char *id) {
  char key[64];
  snprintf(key, sizeof key, "<g class=\"panel\" id=\"%s\">", id);
  const char *a = strstr(svg, key);
  if (!a)
    return NULL;
  const char *b = strstr(a + 1, "<g class=\"panel\"");
  return span(a, b ? b : a + strlen(a));
}

/* The group <g class="CLS" ...> ... </g> inside s (groups do not nest). */
static char *group(const char *s, const char *cls) {
  char key[64];
  snprintf(key, sizeof key, "<g class=\"%s\"", cls);
  const char *a = strstr(s, key);
  if (!a)
    return NULL;
  const char *b = strstr(a, "</g>");
  assert_non_null(b);
  return span(a, b);
}

static int count(const char *s, const char *what) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
    n++;
  return n;
}

/* The points of the k-th polyline of s into x, y (at most max); the count. */
static int points(const char *s, int k, double *x, double *y, int max) {
  const char *p = s;
  for (int i = 0; i <= k; i++) {
    p = strstr(p, "<polyline points=\"");
    assert_non_null(p);
    p += strlen("<polyline points=\"");
  }
  int n = 0, used;
  double a, b;
  while (*p != '"' && sscanf(p, "%lf,%lf%n", &a, &b, &used) == 2) {
    assert_true(n < max);
    x[n] = a;
    y[n++] = b;
    p += used;
    while (*p == ' ')
      p++;
  }
  assert_int_equal(*p, '"');
  return n;
}

/* The texts of group cls (the tick labels), joined by '|'. */
static char *labels(const char *s, const char *cls) {
  const char *g = group(s, cls);
  assert_non_null(g);
  static char out[512];
  out[0] = '\0';
  for (const char *p = g; (p = strstr(p, "<text")) != NULL;) {
    const char *a = strchr(p, '>') + 1, *b = strstr(a, "</text>");
    if (out[0])
      strcat(out, "|");
    strncat(out, a, (size_t)(b - a));
    p = b;
  }
  return out;
}

static void plot_ok(const char *path, const char *title, int n, const double *e,
                    const double *trl, const double *tel, const double *tra, const double *tea) {
  char err[256] = "";
  if (nn_plot_svg(path, title, n, e, trl, tel, tra, tea, err, sizeof err))
    fail_msg("unexpected error: %s", err);
}

static void assert_near(double got, double want) {
  if (fabs(got - want) > 0.006)
    fail_msg("got %.3f, want %.3f", got, want);
}

/* No "nan" or "inf" anywhere, tags balanced, the SVG closed. */
static void assert_clean(const char *svg) {
  for (const char *p = svg; *p; p++)
    if (!strncasecmp(p, "nan", 3) || !strncasecmp(p, "inf", 3))
      fail_msg("'%.12s' in the SVG", p);
  assert_int_equal(count(svg, "<g"), count(svg, "</g>"));
  assert_int_equal(count(svg, "<text"), count(svg, "</text>"));
  assert_non_null(strstr(svg, "</svg>\n"));
}

/* ---------------------------------------------------------------- tests */

/* Epochs 1..3, loss 1, 0.5, 0.25: x axis [1, 3] (step 1), y axis [0.2,
 * 1.0] (step 0.2: 0.75 / 6 rounds up to 0.2), so by the layout x = 80 +
 * (e - 1) / 2 * 540 and y = 240 - (v - 0.2) / 0.8 * 200. */
static void test_hand_example(void **state) {
  const double e[] = {1, 2, 3}, l[] = {1, 0.5, 0.25};
  plot_ok(tmp("a.svg"), NULL, 3, e, l, NULL, NULL, NULL);
  char *svg = slurp(tmp("a.svg"));
  assert_non_null(strstr(svg, "width=\"640\" height=\"280\""));
  assert_null(panel(svg, "accuracy"));
  char *p = panel(svg, "loss");
  assert_non_null(p);
  assert_int_equal(count(p, "<polyline"), 1);
  assert_int_equal(count(p, "<circle"), 0);
  double x[8], y[8];
  assert_int_equal(points(group(p, "train"), 0, x, y, 8), 3);
  const double wx[] = {80, 350, 620}, wy[] = {40, 165, 227.5};
  for (int i = 0; i < 3; i++) {
    assert_near(x[i], wx[i]);
    assert_near(y[i], wy[i]);
  }
  assert_non_null(strstr(p, "points=\"80.00,40.00 350.00,165.00 620.00,227.50\""));
  assert_string_equal(labels(p, "yticks"), "0.2|0.4|0.6|0.8|1.0");
  assert_string_equal(labels(p, "xticks"), "1|2|3");
  assert_null(group(p, "test"));
  assert_int_equal(count(p, "class=\"legend\""), 1);
  assert_clean(svg);
}

/* Accuracies 0.5 .. 0.97 are drawn as percent: 47 / 6 rounds up to a step
 * of 10, so the axis is [50, 100]; a loss of 0.0123 .. 0.0876 gets a step
 * of 0.02 and [0, 0.1]. */
static void test_accuracy_ticks(void **state) {
  const double e[] = {1, 2, 3, 4}, trl[] = {0.0876, 0.05, 0.02, 0.0123},
               tel[] = {0.08, 0.06, 0.04, 0.03}, tra[] = {0.5, 0.7, 0.9, 0.97},
               tea[] = {0.55, 0.65, 0.8, 0.9};
  plot_ok(tmp("b.svg"), "t", 4, e, trl, tel, tra, tea);
  char *svg = slurp(tmp("b.svg"));
  assert_non_null(strstr(svg, "width=\"640\" height=\"540\""));
  char *a = panel(svg, "accuracy");
  assert_non_null(a);
  assert_string_equal(labels(a, "yticks"), "50|60|70|80|90|100");
  assert_string_equal(labels(a, "xticks"), "1|2|3|4");
  double x[8], y[8];
  /* the accuracy panel's area is y in [300, 500]: 97% is 500 - 47/50 * 200 */
  assert_int_equal(points(group(a, "train"), 0, x, y, 8), 4);
  assert_near(y[0], 500);
  assert_near(y[3], 500 - 0.94 * 200);
  assert_near(x[3], 620);
  assert_int_equal(points(group(a, "test"), 0, x, y, 8), 4);
  assert_near(y[2], 500 - 0.6 * 200);
  char *l = panel(svg, "loss");
  assert_string_equal(labels(l, "yticks"), "0.00|0.02|0.04|0.06|0.08|0.10");
  assert_int_equal(count(l, "class=\"legend\""), 2);
  assert_non_null(strstr(group(l, "test"), "stroke-dasharray=\"6 3\""));
  assert_clean(svg);
}

/* Negative values, and a range that needs -0 written as 0: -3 .. 7 gets a
 * step of 2 (10 / 6) and the axis [-4, 8]. */
static void test_negative_ticks(void **state) {
  const double e[] = {10, 20}, l[] = {-3, 7};
  plot_ok(tmp("c.svg"), NULL, 2, e, l, NULL, NULL, NULL);
  char *p = panel(slurp(tmp("c.svg")), "loss");
  assert_string_equal(labels(p, "yticks"), "-4|-2|0|2|4|6|8");
  assert_string_equal(labels(p, "xticks"), "10|12|14|16|18|20");
}

/* Non-finite values are skipped: a run of one finite point is a dot, the
 * others polylines, and an epoch that is NaN drops its points. */
static void test_gaps(void **state) {
  const double e[] = {1, 2, 3, 4, 5, 6, NAN, 8};
  const double trl[] = {1, 0.9, NAN, 0.7, 0.6, INFINITY, 0.4, 0.3};
  const double tel[] = {NAN, 1, NAN, NAN, NAN, NAN, NAN, NAN};
  const double tra[] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
  plot_ok(tmp("d.svg"), NULL, 8, e, trl, tel, tra, NULL);
  char *svg = slurp(tmp("d.svg"));
  assert_clean(svg);
  assert_null(panel(svg, "accuracy")); /* no finite accuracy: no panel */
  char *p = panel(svg, "loss");
  char *tr = group(p, "train");
  assert_int_equal(count(tr, "<polyline"), 2); /* 1-2 and 4-5 */
  assert_int_equal(count(tr, "<circle"), 1);   /* 8 alone: 7's epoch is NaN */
  double x[8], y[8];
  assert_int_equal(points(tr, 0, x, y, 8), 2);
  assert_int_equal(points(tr, 1, x, y, 8), 2);
  char *te = group(p, "test");
  assert_int_equal(count(te, "<polyline"), 0);
  assert_int_equal(count(te, "<circle"), 1);
  /* the y axis ignores inf and the point at the NaN epoch: [0.3, 1] */
  assert_string_equal(labels(p, "yticks"), "0.2|0.4|0.6|0.8|1.0");
  /* huge values are skipped as well, so no axis arithmetic overflows */
  const double big[] = {1e300, -1e308, 0.5, 0.25, DBL_MAX, -DBL_MAX, 1e100, 1e99};
  plot_ok(tmp("d2.svg"), NULL, 8, e, big, big, big, big);
  svg = slurp(tmp("d2.svg"));
  assert_clean(svg);
  assert_int_equal(count(group(panel(svg, "loss"), "train"), "<polyline"), 1); /* 3-4 */
  assert_int_equal(count(group(panel(svg, "loss"), "train"), "<circle"), 1);   /* 8 */
}

/* One epoch: dots, the epoch axis widened to [e - 1, e + 1]. */
static void test_single_epoch(void **state) {
  const double e[] = {1}, trl[] = {0.5}, tel[] = {0.7}, tra[] = {0.25}, tea[] = {0.2};
  plot_ok(tmp("e.svg"), NULL, 1, e, trl, tel, tra, tea);
  char *svg = slurp(tmp("e.svg"));
  assert_clean(svg);
  assert_int_equal(count(svg, "<polyline"), 0);
  assert_int_equal(count(svg, "<circle"), 4);
  char *p = panel(svg, "loss");
  assert_string_equal(labels(p, "xticks"), "0|1|2");
  assert_non_null(strstr(group(p, "train"), "cx=\"350.00\""));
}

/* No epochs: a valid file saying so. */
static void test_empty(void **state) {
  plot_ok(tmp("f.svg"), NULL, 0, NULL, NULL, NULL, NULL, NULL);
  char *svg = slurp(tmp("f.svg"));
  assert_clean(svg);
  assert_non_null(strstr(svg, ">no data</text>"));
  assert_int_equal(count(svg, "<polyline"), 0);
}

/* The same arguments give the same bytes; the title is escaped. */
static void test_deterministic_and_title(void **state) {
  const double e[] = {1, 2, 3}, l[] = {0.3, 0.2, 0.1}, a[] = {0.1, 0.2, 0.3};
  plot_ok(tmp("g1.svg"), "fit <x> & \"y\"", 3, e, l, l, a, a);
  plot_ok(tmp("g2.svg"), "fit <x> & \"y\"", 3, e, l, l, a, a);
  char *s1 = strdup(slurp(tmp("g1.svg")));
  char *s2 = slurp(tmp("g2.svg"));
  assert_string_equal(s1, s2);
  assert_non_null(strstr(s1, ">fit &lt;x&gt; &amp; &quot;y&quot;</text>"));
  free(s1);
}

static void test_errors(void **state) {
  char err[256];
  const double e[] = {1}, l[] = {1};
  assert_int_equal(nn_plot_svg("/nonexistent-dir/x.svg", NULL, 1, e, l, NULL, NULL, NULL, err,
                               sizeof err), -1);
  assert_string_equal(err, "/nonexistent-dir/x.svg: error: cannot write: No such file or "
                           "directory");
  assert_int_equal(nn_plot_svg(tmp("h.svg"), NULL, 1, e, NULL, NULL, NULL, NULL, err, sizeof err),
                   -1);
  assert_string_equal(strstr(err, "h.svg"), "h.svg: error: no epochs or no training loss to "
                                            "plot");
}

/* A real log: 500 epochs of iris (epoch,train_loss,train_acc,test_loss,
 * test_acc). */
static void test_iris_log(void **state) {
  enum { N = 500 };
  static double e[N], trl[N], tra[N], tel[N], tea[N];
  FILE *f = fopen("data/iris_log.csv", "r");
  assert_non_null(f);
  char line[256];
  assert_non_null(fgets(line, sizeof line, f));
  assert_string_equal(line, "epoch,train_loss,train_acc,test_loss,test_acc\n");
  int n = 0;
  while (n < N &&
         fscanf(f, "%lf,%lf,%lf,%lf,%lf\n", &e[n], &trl[n], &tra[n], &tel[n], &tea[n]) == 5)
    n++;
  fclose(f);
  assert_int_equal(n, N);
  const char *out = getenv("NNRT_PLOT_OUT") ? getenv("NNRT_PLOT_OUT") : tmp("iris.svg");
  plot_ok(out, "iris: 4-16-3 tanh MLP, SGD lr 0.005 momentum 0.9", n, e, trl, tel, tra, tea);
  char *svg = slurp(out);
  assert_clean(svg);
  static double x[N], y[N];
  const char *ids[2] = {"loss", "accuracy"}, *series[2] = {"train", "test"};
  for (int i = 0; i < 2; i++) {
    char *p = panel(svg, ids[i]);
    assert_non_null(p);
    assert_string_equal(labels(p, "xticks"), "0|100|200|300|400|500");
    for (int k = 0; k < 2; k++) {
      assert_int_equal(points(group(p, series[k]), 0, x, y, N), N);
      assert_near(x[0], 80 + 540.0 / 500);
      assert_near(x[N - 1], 620);
    }
  }
  /* the loss ranges 0.0505 .. 1.0251: 0.975 / 6 rounds up to a step of
   * 0.2, [0, 1.2] */
  assert_string_equal(labels(panel(svg, "loss"), "yticks"), "0.0|0.2|0.4|0.6|0.8|1.0|1.2");
  /* the accuracy 41.7% .. 100%: 58.3 / 6 rounds up to 10, [40, 100] */
  assert_string_equal(labels(panel(svg, "accuracy"), "yticks"), "40|50|60|70|80|90|100");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand_example),
      cmocka_unit_test(test_accuracy_ticks),
      cmocka_unit_test(test_negative_ticks),
      cmocka_unit_test(test_gaps),
      cmocka_unit_test(test_single_epoch),
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_deterministic_and_title),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_iris_log),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
