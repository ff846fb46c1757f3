/* plot.c — training curves as a self-contained SVG (nn_plot_svg).
 *
 * Layout (user units = pixels): a 640-wide canvas; the title on the
 * baseline y = 24; panel k (0: loss, 1: accuracy) has its plot area at
 * x in [80, 620] and y in [40 + 260k, 240 + 260k]; the canvas is 280
 * high with one panel and 540 with two.  A value maps linearly from the
 * axis range [lo, hi] to the plot area: px = 80 + (x - lo) / (hi - lo) *
 * 540, py = bottom - (y - lo) / (hi - lo) * 200.  Coordinates are written
 * with two decimals, so the bytes depend only on the arguments.
 *
 * Axis ranges: the finite values' [min, max] widened to multiples of a
 * step of 1, 2 or 5 times a power of ten, the smallest such step giving at
 * most NN_PLOT_TICKS intervals (the epoch axis: a step of at least 1); a
 * range of one value v is first widened to v -+ max(|v| / 2, 1) (epochs:
 * v -+ 1).  A tick and its label sit at every step.  Values that are not
 * finite, or of magnitude 1e100 or more, are not drawn (nn_plot_ok).
 */
#include "nnrt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NN_PLOT_W 640
#define NN_PLOT_X0 80.0
#define NN_PLOT_X1 620.0
#define NN_PLOT_TOP 40.0
#define NN_PLOT_H 200.0
#define NN_PLOT_PANEL 260.0 /* from one panel's top to the next's */
#define NN_PLOT_TICKS 6     /* at most this many intervals on an axis */

/* An axis: lo + k * step for k = 0 .. n are the ticks (hi = lo + n * step). */
typedef struct nn_axis {
  double lo, hi, step;
  int n;
} nn_axis;

/* The smallest 1, 2 or 5 times 10^k that is >= x > 0. */
static double nn_plot_nice(double x) {
  double p = pow(10, floor(log10(x)));
  static const double m[] = {1, 2, 5, 10};
  for (int i = 0; i < 4; i++)
    if (m[i] * p >= x * (1 - 1e-12))
      return m[i] * p;
  return 10 * p;
}

/* The axis over [lo, hi] (finite, lo <= hi); min_step: 1 for epochs, else 0. */
static nn_axis nn_plot_axis(double lo, double hi, double min_step) {
  if (hi == lo) {
    double w = min_step > 0 ? 1 : fmax(fabs(lo) / 2, 1);
    lo -= w;
    hi += w;
  }
  nn_axis a;
  a.step = fmax(nn_plot_nice((hi - lo) / NN_PLOT_TICKS), min_step);
  for (;;) {
    /* lo and hi to multiples of the step (a hair of slack for rounding) */
    double k0 = floor(lo / a.step + 1e-9), k1 = ceil(hi / a.step - 1e-9);
    if (k1 - k0 <= NN_PLOT_TICKS || a.step > 1e300) {
      a.lo = k0 * a.step;
      a.hi = k1 * a.step;
      a.n = (int)(k1 - k0);
      return a;
    }
    a.step = nn_plot_nice(a.step * 1.5);
  }
}

/* A value that is drawn: finite and of a size whose axis arithmetic
 * cannot overflow. */
static int nn_plot_ok(double v) { return isfinite(v) && fabs(v) < 1e100; }

/* Points of series s (times scale) that are drawn: finite, at a finite
 * epoch; their y range widens [*lo, *hi] (*any: the range holds a value). */
static int nn_plot_scan(int n, const double *epoch, const double *s, double scale, double *lo,
                        double *hi, int *any) {
  int count = 0;
  for (int i = 0; s && i < n; i++) {
    double v = s[i] * scale;
    if (!nn_plot_ok(epoch[i]) || !nn_plot_ok(v))
      continue;
    *lo = *any && *lo < v ? *lo : v;
    *hi = *any && *hi > v ? *hi : v;
    *any = 1;
    count++;
  }
  return count;
}

/* A tick label: as many decimals as the step needs, never "-0". */
static void nn_plot_label(double v, double step, char *buf, size_t len) {
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  if (fabs(v) < step * 1e-6)
    v = 0;
  snprintf(buf, len, "%.*f", dec, v);
}

static void nn_plot_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '&')
      fputs("&amp;", f);
    else if (*s == '<')
      fputs("&lt;", f);
    else if (*s == '>')
      fputs("&gt;", f);
    else if (*s == '"')
      fputs("&quot;", f);
    else if ((unsigned char)*s >= 0x20 || *s == '\t')
      fputc(*s, f);
  }
}

typedef struct nn_panel {
  double top; /* y of the plot area's top edge */
  nn_axis x, y;
} nn_panel;

static double nn_plot_px(const nn_panel *p, double x) {
  return NN_PLOT_X0 + (x - p->x.lo) / (p->x.hi - p->x.lo) * (NN_PLOT_X1 - NN_PLOT_X0);
}

static double nn_plot_py(const nn_panel *p, double y) {
  return p->top + NN_PLOT_H - (y - p->y.lo) / (p->y.hi - p->y.lo) * NN_PLOT_H;
}

/* Frame, grid, ticks and their labels, the axis names. */
static void nn_plot_axes(FILE *f, const nn_panel *p, const char *name) {
  double bottom = p->top + NN_PLOT_H;
  char b[64];
  fprintf(f, "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
  for (int k = 0; k <= p->y.n; k++) {
    double y = nn_plot_py(p, p->y.lo + k * p->y.step);
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", NN_PLOT_X0, y,
            NN_PLOT_X1, y);
  }
  for (int k = 0; k <= p->x.n; k++) {
    double x = nn_plot_px(p, p->x.lo + k * p->x.step);
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", x, p->top, x, bottom);
  }
  fprintf(f, "</g>\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
          "stroke=\"#444\" stroke-width=\"1\"/>\n", NN_PLOT_X0, p->top, NN_PLOT_X1 - NN_PLOT_X0,
          NN_PLOT_H);
  fprintf(f, "<g class=\"yticks\" text-anchor=\"end\">\n");
  for (int k = 0; k <= p->y.n; k++) {
    nn_plot_label(p->y.lo + k * p->y.step, p->y.step, b, sizeof b);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", NN_PLOT_X0 - 6,
            nn_plot_py(p, p->y.lo + k * p->y.step) + 4, b);
  }
  fprintf(f, "</g>\n<g class=\"xticks\" text-anchor=\"middle\">\n");
  for (int k = 0; k <= p->x.n; k++) {
    nn_plot_label(p->x.lo + k * p->x.step, p->x.step, b, sizeof b);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", nn_plot_px(p, p->x.lo + k * p->x.step),
            bottom + 16, b);
  }
  fprintf(f, "</g>\n<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">epoch</text>\n",
          (NN_PLOT_X0 + NN_PLOT_X1) / 2, bottom + 34);
  fprintf(f, "<text x=\"20\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 20 %.2f)\">"
          "%s</text>\n", p->top + NN_PLOT_H / 2, p->top + NN_PLOT_H / 2, name);
}

/* One series: a polyline through each run of consecutive finite points,
 * a dot for a run of one. */
static void nn_plot_series(FILE *f, const nn_panel *p, int n, const double *x, const double *y,
                           double scale, const char *cls, const char *color, const char *dash) {
  fprintf(f, "<g class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s%s%s>\n", cls,
          color, dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
  for (int i = 0; i < n;) {
    if (!nn_plot_ok(x[i]) || !nn_plot_ok(y[i] * scale)) {
      i++;
      continue;
    }
    int j = i;
    while (j < n && nn_plot_ok(x[j]) && nn_plot_ok(y[j] * scale))
      j++;
    if (j - i == 1) {
      fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\" stroke=\"none\"/>\n",
              nn_plot_px(p, x[i]), nn_plot_py(p, y[i] * scale), color);
    } else {
      fprintf(f, "<polyline points=\"");
      for (int k = i; k < j; k++)
        fprintf(f, "%s%.2f,%.2f", k > i ? " " : "", nn_plot_px(p, x[k]),
                nn_plot_py(p, y[k] * scale));
      fprintf(f, "\"/>\n");
    }
    i = j;
  }
  fprintf(f, "</g>\n");
}

/* The legend, inside the plot area at the top right (loss, which falls)
 * or the bottom right (accuracy, which rises), on a white box: one line
 * per series drawn. */
static void nn_plot_legend(FILE *f, const nn_panel *p, int has_train, int has_test, int bottom) {
  const char *names[2] = {"train", "test"}, *colors[2] = {"#1f77b4", "#d62728"};
  const char *dash[2] = {"", " stroke-dasharray=\"6 3\""};
  int has[2] = {has_train, has_test}, rows = has_train + has_test;
  if (rows == 0) {
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">no data</text>\n",
            (NN_PLOT_X0 + NN_PLOT_X1) / 2, p->top + NN_PLOT_H / 2);
    return;
  }
  double h = 8 + 16 * rows, top = bottom ? p->top + NN_PLOT_H - 8 - h : p->top + 8;
  fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"76\" height=\"%.2f\" fill=\"white\" "
          "fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n", NN_PLOT_X1 - 84, top, h);
  for (int k = 0, row = 0; k < 2; k++) {
    if (!has[k])
      continue;
    double y = top + 16 + 16 * row++;
    fprintf(f, "<g class=\"legend\"><line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
            "stroke=\"%s\" stroke-width=\"1.5\"%s/><text x=\"%.2f\" y=\"%.2f\">%s</text></g>\n",
            NN_PLOT_X1 - 78, y - 4, NN_PLOT_X1 - 54, y - 4, colors[k], dash[k], NN_PLOT_X1 - 48, y,
            names[k]);
  }
}

/* One panel: the y axis from the drawn values of train and test (times
 * scale); [0, 1] when there are none.  rising: the accuracy panel (its
 * legend goes to the bottom). */
static void nn_plot_panel(FILE *f, double top, const nn_axis *xa, int n, const double *epoch,
                          const double *train, const double *test, double scale, int rising,
                          const char *id, const char *name) {
  nn_panel p = {.top = top, .x = *xa};
  double lo = 0, hi = 1;
  int any = 0;
  int has_tr = nn_plot_scan(n, epoch, train, scale, &lo, &hi, &any) > 0;
  int has_te = nn_plot_scan(n, epoch, test, scale, &lo, &hi, &any) > 0;
  p.y = nn_plot_axis(lo, hi, 0);
  fprintf(f, "<g class=\"panel\" id=\"%s\">\n", id);
  nn_plot_axes(f, &p, name);
  if (has_tr)
    nn_plot_series(f, &p, n, epoch, train, scale, "train", "#1f77b4", NULL);
  if (has_te)
    nn_plot_series(f, &p, n, epoch, test, scale, "test", "#d62728", "6 3");
  nn_plot_legend(f, &p, has_tr, has_te, rising);
  fprintf(f, "</g>\n");
}

int nn_plot_svg(const char *path, const char *title, int n, const double *epoch,
                const double *train_loss, const double *test_loss, const double *train_acc,
                const double *test_acc, char *err, size_t errlen) {
  if (n < 0 || (n > 0 && (!epoch || !train_loss))) {
    snprintf(err, errlen, "%s: error: no epochs or no training loss to plot", path);
    return -1;
  }
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "%s: error: cannot write: %s", path, strerror(errno));
    return -1;
  }
  double lo = 0, hi = 1, alo = 0, ahi = 1;
  int any = 0, aany = 0;
  for (int i = 0; i < n; i++) /* the epoch axis: every drawable epoch */
    if (nn_plot_ok(epoch[i])) {
      lo = any && lo < epoch[i] ? lo : epoch[i];
      hi = any && hi > epoch[i] ? hi : epoch[i];
      any = 1;
    }
  nn_axis xa = nn_plot_axis(lo, hi, 1);
  int acc = nn_plot_scan(n, epoch, train_acc, 100, &alo, &ahi, &aany) +
            nn_plot_scan(n, epoch, test_acc, 100, &alo, &ahi, &aany) > 0;
  int height = acc ? 540 : 280;
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
          "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
          "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
          NN_PLOT_W, height, NN_PLOT_W, height, NN_PLOT_W, height);
  if (title) {
    fprintf(f, "<text x=\"%.2f\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">",
            NN_PLOT_W / 2.0);
    nn_plot_text(f, title);
    fprintf(f, "</text>\n");
  }
  nn_plot_panel(f, NN_PLOT_TOP, &xa, n, epoch, train_loss, test_loss, 1, 0, "loss", "loss");
  if (acc)
    nn_plot_panel(f, NN_PLOT_TOP + NN_PLOT_PANEL, &xa, n, epoch, train_acc, test_acc, 100, 1,
                  "accuracy", "accuracy (%)");
  fprintf(f, "</svg>\n");
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) {
    snprintf(err, errlen, "%s: error: cannot write: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}
