/*
 * nnf_plot.c - line and scatter charts as standalone SVG 1.1 (see nnf_plot.h).
 *
 * A chart is built in memory (a growing string), then written to a
 * temporary file beside the target, fsynced and renamed over it. Axes map
 * data to pixels through a small `axis` record (linear, log10 or
 * categorical) whose range is the span of its ticks, so every drawn point
 * lies inside its panel.
 */
#include "nnf_plot.h"
#include "nnf_err.h"
#include "nnf_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const PALETTE[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};
#define NPALETTE (int)(sizeof PALETTE / sizeof *PALETTE)
#define MAX_CATS 64

/* ---- a growing string ------------------------------------------------------ */

typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_grow(sbuf *b, size_t need) {
  if (b->oom || b->len + need + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + need + 1) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = 1;
    return;
  }
  b->p = p;
  b->cap = cap;
}

static void sb_printf(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  sb_grow(b, (size_t)n);
  if (b->oom) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static void sb_putc(sbuf *b, char c) {
  sb_grow(b, 1);
  if (b->oom) return;
  b->p[b->len++] = c;
  b->p[b->len] = 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s) {
  int n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
                                               : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 2 && s[0] < 0xC2) return 0;
  for (int i = 1; i < n; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  if (n == 3 && s[0] == 0xE0 && s[1] < 0xA0) return 0;           /* overlong */
  if (n == 3 && s[0] == 0xED && s[1] >= 0xA0) return 0;          /* surrogates */
  if (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || s[0] > 0xF4 || (s[0] == 0xF4 && s[1] >= 0x90)))
    return 0;
  return n;
}

/* Text escaped for XML content and attribute values: the five special
 * characters as entities, control characters XML forbids and invalid UTF-8
 * as '?'. */
static void sb_text(sbuf *b, const char *s) {
  const unsigned char *u = (const unsigned char *)(s ? s : "");
  while (*u) {
    int n = utf8_len(u);
    if (!n || (*u < 0x20 && *u != '\t' && *u != '\n' && *u != '\r')) {
      sb_putc(b, '?');
      u++;
      continue;
    }
    switch (*u) {
      case '&': sb_printf(b, "&amp;"); break;
      case '<': sb_printf(b, "&lt;"); break;
      case '>': sb_printf(b, "&gt;"); break;
      case '"': sb_printf(b, "&quot;"); break;
      case '\'': sb_printf(b, "&apos;"); break;
      default:
        for (int i = 0; i < n; i++) sb_putc(b, (char)u[i]);
    }
    u += n;
  }
}

/* ---- ticks and labels ------------------------------------------------------ */

static double nice_step(double raw) {
  if (!(raw > 0) || !isfinite(raw)) return 1;
  double p = pow(10, floor(log10(raw)));
  double m = raw / p;
  return (m <= 1.000001 ? 1 : m <= 2.000001 ? 2 : m <= 5.000001 ? 5 : 10) * p;
}

static void widen(double *lo, double *hi) {
  if (!isfinite(*lo) || !isfinite(*hi)) *lo = 0, *hi = 1;
  if (*hi < *lo) {
    double t = *lo;
    *lo = *hi;
    *hi = t;
  }
  double mag = fmax(fabs(*lo), fabs(*hi));
  if (*hi - *lo <= 1e-12 * mag || *hi == *lo) {
    double d = mag > 0 ? 0.1 * mag : 1;
    *lo -= d;
    *hi += d;
  }
}

/* Ticks i0*step .. i1*step; the step grows until they fit max. */
static int ticks_step(double lo, double hi, int target, double min_step, double *ticks, int max,
                      double *step_out) {
  widen(&lo, &hi);
  if (target < 1) target = 1;
  if (max < 2) max = 2;
  double step = nice_step((hi - lo) / target);
  if (min_step > 0 && step < min_step) step = nice_step(min_step);
  double i0, i1;
  for (;;) {
    i0 = floor(lo / step + 1e-9);
    i1 = ceil(hi / step - 1e-9);
    if (i1 <= i0) i1 = i0 + 1;
    if (i1 - i0 + 1 <= max) break;
    step = nice_step(step * 1.5);
  }
  int n = (int)(i1 - i0) + 1;
  for (int k = 0; k < n; k++) {
    double t = (i0 + k) * step;
    ticks[k] = fabs(t) < step * 1e-9 ? 0 : t;
  }
  if (step_out) *step_out = step;
  return n;
}

int nnf_plot_ticks(double lo, double hi, int target, double min_step, double *ticks, int max) {
  return ticks_step(lo, hi, target, min_step, ticks, max, NULL);
}

/* Decade exponents a < b covering [lo, hi] (lo, hi > 0). */
static void log_decades(double lo, double hi, int *a, int *b) {
  if (!(lo > 0) || !isfinite(lo)) lo = 1;
  if (!(hi > 0) || !isfinite(hi)) hi = lo;
  if (hi < lo) {
    double t = lo;
    lo = hi;
    hi = t;
  }
  *a = (int)floor(log10(lo) + 1e-9);
  *b = (int)ceil(log10(hi) - 1e-9);
  if (*b <= *a) {   /* one power of ten: a decade either side */
    (*a)--;
    *b = *a + 2;
  }
}

int nnf_plot_log_ticks(double lo, double hi, double *ticks, int max) {
  int a, b, n = 0;
  log_decades(lo, hi, &a, &b);
  if (max < 2) max = 2;
  if (b - a <= 2 && 3 * (b - a) + 1 <= max) {
    static const int mult[] = {1, 2, 5};
    for (int e = a; e < b; e++)
      for (int m = 0; m < 3; m++) ticks[n++] = mult[m] * pow(10, e);
    ticks[n++] = pow(10, b);
    return n;
  }
  int stride = (b - a + max - 2) / (max - 1);
  if (stride < 1) stride = 1;
  for (int e = a; e <= b && n < max; e += stride) ticks[n++] = pow(10, e);
  return n;
}

void nnf_plot_format(double v, double step, char *buf, size_t len) {
  if (!isfinite(v)) {
    snprintf(buf, len, "%g", v);
    return;
  }
  if (step > 0) {
    int d = (int)-floor(log10(step) + 1e-9);
    if (d < 0) d = 0;
    if (d > 6 || fabs(v) >= 1e7) snprintf(buf, len, "%.3g", v);
    else snprintf(buf, len, "%.*f", d, v);
    return;
  }
  if (v == 0) {
    snprintf(buf, len, "0");
    return;
  }
  int e = (int)floor(log10(fabs(v)) + 1e-9);
  double m = v / pow(10, e);
  int plain = step == 0 ? e >= -3 && e <= 4 : e == 0 || e == 1;
  if (plain) snprintf(buf, len, "%g", v);
  else if (fabs(m - round(m)) < 1e-6) snprintf(buf, len, "%de%d", (int)round(m), e);
  else snprintf(buf, len, "%.3g", v);
}

/* ---- axes ------------------------------------------------------------------ */

enum { AX_LINEAR, AX_LOG, AX_CAT };

typedef struct {
  int kind;
  double lo, hi;        /* the mapped range (log10 of the ends on a log axis) */
  double ticks[NNF_PLOT_MAX_TICKS];
  int nt;
  double step;          /* label style: the step (linear); log: 0 plain, -1 exponents */
  const char *cats[MAX_CATS];
  int ncat;
} axis;

static void axis_linear(axis *ax, double lo, double hi, int target, double min_step) {
  memset(ax, 0, sizeof *ax);
  ax->kind = AX_LINEAR;
  if (!(lo <= hi)) lo = 0, hi = 1;   /* no data */
  ax->nt = ticks_step(lo, hi, target, min_step, ax->ticks, NNF_PLOT_MAX_TICKS, &ax->step);
  ax->lo = ax->ticks[0];
  ax->hi = ax->ticks[ax->nt - 1];
}

static void axis_log(axis *ax, double lo, double hi) {
  memset(ax, 0, sizeof *ax);
  ax->kind = AX_LOG;
  if (!(lo <= hi)) lo = hi = 1;
  int a, b;
  log_decades(lo, hi, &a, &b);
  ax->nt = nnf_plot_log_ticks(lo, hi, ax->ticks, NNF_PLOT_MAX_TICKS);
  ax->lo = a;
  ax->hi = b;
  ax->step = a < -3 || b > 4 ? -1 : 0;   /* one style for every label of the axis */
}

/* Categories in order of first appearance; returns the index of s (-1 if full). */
static int axis_cat_index(axis *ax, const char *s, int add) {
  for (int i = 0; i < ax->ncat; i++)
    if (!strcmp(ax->cats[i], s)) return i;
  if (!add || ax->ncat == MAX_CATS) return -1;
  ax->cats[ax->ncat] = s;
  return ax->ncat++;
}

/* 0..1 along the axis; NAN if the value cannot be placed. */
static double axis_frac(const axis *ax, double v) {
  if (ax->kind == AX_LOG) {
    if (!(v > 0)) return NAN;
    v = log10(v);
  }
  double f = (v - ax->lo) / (ax->hi - ax->lo);
  if (!isfinite(f)) return NAN;
  return f < 0 ? 0 : f > 1 ? 1 : f;
}

static void tick_label(const axis *ax, int k, char *buf, size_t len) {
  if (ax->kind == AX_CAT) snprintf(buf, len, "%s", ax->cats[k]);
  else nnf_plot_format(ax->ticks[k], ax->step, buf, len);
}

static int axis_count(const axis *ax) { return ax->kind == AX_CAT ? ax->ncat : ax->nt; }

static double axis_tick_frac(const axis *ax, int k) {
  return ax->kind == AX_CAT ? axis_frac(ax, k) : axis_frac(ax, ax->ticks[k]);
}

/* A plot area in pixels. */
typedef struct {
  double x0, y0, x1, y1;   /* left, top, right, bottom */
} rect;

static double px(const rect *r, const axis *ax, double v) {
  return r->x0 + axis_frac(ax, v) * (r->x1 - r->x0);
}
static double py(const rect *r, const axis *ay, double v) {
  return r->y1 - axis_frac(ay, v) * (r->y1 - r->y0);
}

/* Frame, grid lines, tick marks and labels of both axes, and the axis labels. */
static void draw_axes(sbuf *b, const rect *r, const axis *ax, const axis *ay, const char *xlabel,
                      const char *ylabel) {
  char lab[128];
  sb_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#ffffff\" stroke=\"#999999\"/>\n",
            r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0);
  sb_printf(b, "<g class=\"xticks\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333333\">\n");
  for (int k = 0; k < axis_count(ax); k++) {
    double x = r->x0 + axis_tick_frac(ax, k) * (r->x1 - r->x0);
    tick_label(ax, k, lab, sizeof lab);
    sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e6e6e6\"/>", x, r->y0, x, r->y1);
    sb_printf(b, "<text x=\"%.2f\" y=\"%.2f\">", x, r->y1 + 15);
    sb_text(b, lab);
    sb_printf(b, "</text>\n");
  }
  sb_printf(b, "</g>\n<g class=\"yticks\" font-size=\"11\" text-anchor=\"end\" fill=\"#333333\">\n");
  for (int k = 0; k < axis_count(ay); k++) {
    double y = r->y1 - axis_tick_frac(ay, k) * (r->y1 - r->y0);
    tick_label(ay, k, lab, sizeof lab);
    sb_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e6e6e6\"/>", r->x0, y, r->x1, y);
    sb_printf(b, "<text x=\"%.2f\" y=\"%.2f\">", r->x0 - 6, y + 4);
    sb_text(b, lab);
    sb_printf(b, "</text>\n");
  }
  sb_printf(b, "</g>\n");
  if (xlabel && *xlabel) {
    sb_printf(b, "<text class=\"xlabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", (r->x0 + r->x1) / 2,
              r->y1 + 33);
    sb_text(b, xlabel);
    sb_printf(b, "</text>\n");
  }
  if (ylabel && *ylabel) {
    double x = r->x0 - 46, y = (r->y0 + r->y1) / 2;
    sb_printf(b, "<text class=\"ylabel\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 %.2f %.2f)\">",
              x, y, x, y);
    sb_text(b, ylabel);
    sb_printf(b, "</text>\n");
  }
}

static void svg_begin(sbuf *b, double w, double h, const char *title) {
  sb_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
            w, h, w, h);
  if (title && *title) {
    sb_printf(b, "<title>");
    sb_text(b, title);
    sb_printf(b, "</title>\n");
  }
  sb_printf(b, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", w, h);
  if (title && *title) {
    sb_printf(b, "<text class=\"title\" x=\"%.2f\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">",
              w / 2);
    sb_text(b, title);
    sb_printf(b, "</text>\n");
  }
}

/* ---- writing --------------------------------------------------------------- */

static int sbuf_write_cb(FILE *fp, void *ctx) {
  const sbuf *b = ctx;
  return fwrite(b->p, 1, b->len, fp) == b->len ? 0 : -1;
}

static int write_atomic(const char *path, const sbuf *b, char *err, size_t errlen) {
  if (b->oom) return nnf_fail(err, errlen, "%s: out of memory building the chart", path);
  return nnf_write_atomic(path, sbuf_write_cb, (void *)b, err, errlen);
}

/* ---- line charts ----------------------------------------------------------- */

static double xval(const double *x, int i) { return x ? x[i] : (double)(i + 1); }

/* Finite range of the series of one panel (lo > hi when empty). */
static void panel_range(const double *x, int n, const nnf_plot_series *s, int ns, int p, double *lo,
                        double *hi) {
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int k = 0; k < ns; k++) {
    if (s[k].panel != p || !s[k].y) continue;
    for (int i = 0; i < n; i++)
      if (isfinite(s[k].y[i]) && isfinite(xval(x, i))) {
        *lo = fmin(*lo, s[k].y[i]);
        *hi = fmax(*hi, s[k].y[i]);
      }
  }
}

/* One series: a polyline per run of finite points, markers on the points. */
static void draw_series(sbuf *b, const rect *r, const axis *ax, const axis *ay, const double *x, int n,
                        const nnf_plot_series *s, const char *color, int markers) {
  sb_printf(b, "<g class=\"series\" stroke=\"%s\" fill=\"none\"><title>", color);
  sb_text(b, s->name);
  sb_printf(b, "</title>\n");
  for (int i = 0; i < n;) {
    if (!s->y || !isfinite(s->y[i]) || !isfinite(xval(x, i))) {
      i++;
      continue;
    }
    int j = i;
    sb_printf(b, "<polyline stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
    for (; j < n && isfinite(s->y[j]) && isfinite(xval(x, j)); j++)
      sb_printf(b, "%s%.2f,%.2f", j > i ? " " : "", px(r, ax, xval(x, j)), py(r, ay, s->y[j]));
    sb_printf(b, "\"/>\n");
    for (int k = i; k < j; k++)
      if (markers || j - i == 1)
        sb_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\"/>", px(r, ax, xval(x, k)),
                  py(r, ay, s->y[k]), color);
    sb_printf(b, "\n");
    i = j;
  }
  sb_printf(b, "</g>\n");
}

int nnf_plot_lines(const char *path, const nnf_plot_line_opts *o, const double *x, int n,
                   const nnf_plot_series *s, int nseries, char *err, size_t errlen) {
  nnf_plot_line_opts def;
  memset(&def, 0, sizeof def);
  if (!o) o = &def;
  if (n < 0 || nseries < 0 || (nseries && !s)) return nnf_fail(err, errlen, "%s: invalid chart arguments", path);
  int np = 1;
  for (int k = 0; k < nseries; k++) {
    if (s[k].panel < 0 || s[k].panel >= NNF_PLOT_MAX_PANELS)
      return nnf_fail(err, errlen, "%s: series %d has panel %d (0..%d)", path, k, s[k].panel, NNF_PLOT_MAX_PANELS - 1);
    if (s[k].panel + 1 > np) np = s[k].panel + 1;
  }
  double W = o->width > 0 ? o->width : 720, ph = o->panel_height > 0 ? o->panel_height : 240;
  double top = o->title && *o->title ? 44 : 16, gap = 44, bottom = o->xlabel && *o->xlabel ? 46 : 28;
  double H = top + np * ph + (np - 1) * gap + bottom;
  double xlo = INFINITY, xhi = -INFINITY;
  for (int i = 0; i < n; i++)
    if (isfinite(xval(x, i))) xlo = fmin(xlo, xval(x, i)), xhi = fmax(xhi, xval(x, i));
  axis ax;
  axis_linear(&ax, xlo, xhi, 8, o->x_integer ? 1 : 0);
  sbuf b = {0};
  svg_begin(&b, W, H, o->title);
  for (int p = 0; p < np; p++) {
    rect r = {72, top + p * (ph + gap), W - 180, top + p * (ph + gap) + ph};
    double ylo, yhi;
    panel_range(x, n, s, nseries, p, &ylo, &yhi);
    axis ay;
    axis_linear(&ay, ylo, yhi, 5, 0);
    sb_printf(&b, "<g class=\"panel\">\n");
    draw_axes(&b, &r, &ax, &ay, p == np - 1 ? o->xlabel : NULL, o->ylabel[p]);
    int row = 0;
    for (int k = 0; k < nseries; k++) {
      if (s[k].panel != p) continue;
      const char *color = PALETTE[k % NPALETTE];
      draw_series(&b, &r, &ax, &ay, x, n, &s[k], color, n <= 40);
      double ly = r.y0 + 10 + 18 * row++;
      sb_printf(&b, "<g class=\"legend\"><line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                    "stroke-width=\"3\"/><text x=\"%.2f\" y=\"%.2f\">", r.x1 + 12, ly, r.x1 + 32, ly, color,
                r.x1 + 38, ly + 4);
      sb_text(&b, s[k].name);
      sb_printf(&b, "</text></g>\n");
    }
    sb_printf(&b, "</g>\n");
  }
  sb_printf(&b, "</svg>\n");
  int rc = write_atomic(path, &b, err, errlen);
  free(b.p);
  return rc;
}

/* ---- scatter charts -------------------------------------------------------- */

/* The x axis of one variable (its categories or the finite range of its
 * placeable values). */
static void var_axis(axis *ax, const nnf_plot_var *v, const double *y, int n) {
  if (v->cat) {
    memset(ax, 0, sizeof *ax);
    ax->kind = AX_CAT;
    for (int i = 0; v->order && i < v->norder; i++)
      if (v->order[i]) axis_cat_index(ax, v->order[i], 1);
    for (int i = 0; i < n; i++)
      if (v->cat[i] && isfinite(y[i])) axis_cat_index(ax, v->cat[i], 1);
    ax->lo = -0.5;
    ax->hi = ax->ncat > 0 ? ax->ncat - 0.5 : 0.5;
    return;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; v->x && i < n; i++) {
    double xv = v->x[i];
    if (!isfinite(xv) || !isfinite(y[i]) || (v->log_x && !(xv > 0))) continue;
    lo = fmin(lo, xv);
    hi = fmax(hi, xv);
  }
  if (v->log_x) axis_log(ax, lo, hi);
  else axis_linear(ax, lo, hi, 5, 0);
}

/* x position of point i in the variable's panel, NAN when it has none. */
static double var_x(const rect *r, axis *ax, const nnf_plot_var *v, int i) {
  if (v->cat) {
    if (!v->cat[i]) return NAN;
    int c = axis_cat_index(ax, v->cat[i], 0);
    return c < 0 ? NAN : px(r, ax, c);
  }
  if (!v->x || !isfinite(v->x[i]) || (v->log_x && !(v->x[i] > 0))) return NAN;
  return px(r, ax, v->x[i]);
}

static void point(sbuf *b, const nnf_plot_scatter_opts *o, const nnf_plot_var *v, int i, double cx,
                  double cy, double score, int best) {
  char xs[64];
  if (v->cat) snprintf(xs, sizeof xs, "%s", v->cat[i]);
  else snprintf(xs, sizeof xs, "%.6g", v->x[i]);
  if (best)
    sb_printf(b, "<circle class=\"best\" cx=\"%.2f\" cy=\"%.2f\" r=\"5.5\" fill=\"#d62728\" stroke=\"#000000\"><title>", cx, cy);
  else
    sb_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"#1f77b4\" fill-opacity=\"0.65\"><title>", cx, cy);
  sb_text(b, o->point_label ? o->point_label : "trial");
  sb_printf(b, " %d: ", i + 1);
  sb_text(b, v->name);
  sb_printf(b, " = ");
  sb_text(b, xs);
  sb_printf(b, ", score %.6g</title></circle>\n", score);
}

static void scatter_panel(sbuf *b, const nnf_plot_scatter_opts *o, const rect *r, const nnf_plot_var *v,
                          const axis *ay, const double *y, int n) {
  axis ax;
  var_axis(&ax, v, y, n);
  char xl[160];
  snprintf(xl, sizeof xl, "%s%s", v->name ? v->name : "", v->log_x && !v->cat ? " (log scale)" : "");
  sb_printf(b, "<g class=\"panel\">\n");
  draw_axes(b, r, &ax, ay, xl, o->ylabel);
  for (int pass = 0; pass < 2; pass++)   /* the highlighted point last, on top */
    for (int i = 0; i < n; i++) {
      int best = i == o->highlight;
      if (best != pass || !isfinite(y[i])) continue;
      double cx = var_x(r, &ax, v, i);
      if (isfinite(cx)) point(b, o, v, i, cx, py(r, ay, y[i]), y[i], best);
    }
  sb_printf(b, "</g>\n");
}

static void scatter_legend(sbuf *b, const nnf_plot_scatter_opts *o, double y0, const double *y, int n) {
  const char *label = o->point_label ? o->point_label : "trial";
  double x2 = 34 + 7.0 * (double)strlen(label) + 28;   /* about 7 px a character at 12 px */
  if (x2 < 140) x2 = 140;
  sb_printf(b, "<g class=\"legend\">\n<rect x=\"20\" y=\"%.2f\" width=\"9\" height=\"9\" rx=\"4.5\" "
               "fill=\"#1f77b4\" fill-opacity=\"0.65\"/><text x=\"34\" y=\"%.2f\">", y0 - 8, y0);
  sb_text(b, label);
  sb_printf(b, "</text>\n");
  if (o->highlight >= 0 && o->highlight < n) {
    sb_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"11\" height=\"11\" rx=\"5.5\" fill=\"#d62728\" "
                 "stroke=\"#000000\"/><text x=\"%.2f\" y=\"%.2f\">", x2, y0 - 9, x2 + 17, y0);
    sb_text(b, o->highlight_label ? o->highlight_label : "best");
    sb_printf(b, " (%.4g)</text>\n", y[o->highlight]);
  }
  sb_printf(b, "</g>\n");
}

int nnf_plot_scatter(const char *path, const nnf_plot_scatter_opts *o, const nnf_plot_var *vars,
                     int nvars, const double *y, int n, char *err, size_t errlen) {
  nnf_plot_scatter_opts def;
  memset(&def, 0, sizeof def);
  def.highlight = -1;
  if (!o) o = &def;
  if (n < 0 || nvars < 0 || (nvars && !vars) || (n && !y))
    return nnf_fail(err, errlen, "%s: invalid chart arguments", path);
  for (int k = 0; k < nvars; k++)
    if (!vars[k].x && !vars[k].cat && n)
      return nnf_fail(err, errlen, "%s: variable %d has neither values nor categories", path, k);
  int cols = o->columns > 0 ? o->columns : nvars < 3 ? (nvars ? nvars : 1) : 3;
  int rows = nvars ? (nvars + cols - 1) / cols : 1;
  double pw = o->panel_width > 0 ? o->panel_width : 300, ph = o->panel_height > 0 ? o->panel_height : 220;
  double cw = 66 + pw + 20, ch = 16 + ph + 46, top = (o->title && *o->title ? 44 : 10) + 22;
  double W = cols * cw + 10, H = top + rows * ch + 6;
  if (W < 320) W = 320;
  double ylo = INFINITY, yhi = -INFINITY;
  for (int i = 0; i < n; i++)
    if (isfinite(y[i])) ylo = fmin(ylo, y[i]), yhi = fmax(yhi, y[i]);
  axis ay;
  axis_linear(&ay, ylo, yhi, 5, 0);
  sbuf b = {0};
  svg_begin(&b, W, H, o->title);
  scatter_legend(&b, o, top - 8, y, n);
  for (int k = 0; k < nvars; k++) {
    double cx = (k % cols) * cw, cy = top + (k / cols) * ch;
    rect r = {cx + 66, cy + 16, cx + 66 + pw, cy + 16 + ph};
    scatter_panel(&b, o, &r, &vars[k], &ay, y, n);
  }
  sb_printf(&b, "</svg>\n");
  int rc = write_atomic(path, &b, err, errlen);
  free(b.p);
  return rc;
}

/* ---- Pareto fronts ---------------------------------------------------------- */

int nnf_plot_pareto(const double *x, const double *y, int n, int *front) {
  int count = 0;
  for (int i = 0; i < n; i++) {
    front[i] = isfinite(x[i]) && isfinite(y[i]);
    for (int j = 0; j < n && front[i]; j++) {
      if (j == i || !isfinite(x[j]) || !isfinite(y[j])) continue;
      if (x[j] <= x[i] && y[j] >= y[i] && (x[j] < x[i] || y[j] > y[i])) front[i] = 0;   /* j dominates i */
    }
    count += front[i];
  }
  return count;
}

/* Can value v be placed on an axis (log: only v > 0)? */
static int placeable(double v, int log_axis) { return isfinite(v) && (!log_axis || v > 0); }

static void value_axis(axis *ax, double lo, double hi, int log_axis) {
  if (log_axis) axis_log(ax, lo, hi);
  else axis_linear(ax, lo, hi, 6, 0);
}

/* Front points in order of x, then y (insertion sort: a front is short). */
static void front_order(const double *x, const double *y, int *idx, int m) {
  for (int a = 1; a < m; a++) {
    int v = idx[a], b = a;
    while (b > 0 && (x[idx[b - 1]] > x[v] || (x[idx[b - 1]] == x[v] && y[idx[b - 1]] > y[v]))) {
      idx[b] = idx[b - 1];
      b--;
    }
    idx[b] = v;
  }
}

static void front_tooltip(sbuf *b, const char *name, double xv, double yv) {
  sb_printf(b, "<title>");
  sb_text(b, name ? name : "");
  sb_printf(b, "%s%.6g, %.6g</title>", name && *name ? ": " : "", xv, yv);
}

int nnf_plot_front(const char *path, const nnf_plot_front_opts *o, const double *x, const double *y,
                   const char *const *label, const int *front, int n, char *err, size_t errlen) {
  nnf_plot_front_opts def;
  memset(&def, 0, sizeof def);
  if (!o) o = &def;
  if (n < 0 || (n && (!x || !y))) return nnf_fail(err, errlen, "%s: invalid chart arguments", path);
  double W = o->width > 0 ? o->width : 760, H = o->height > 0 ? o->height : 480;
  double top = (o->title && *o->title ? 44 : 16) + 24;
  rect r = {80, top, W - 40, H - (o->xlabel && *o->xlabel ? 50 : 32)};
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  int *on = calloc((size_t)(n ? n : 1), sizeof *on), *idx = calloc((size_t)(n ? n : 1), sizeof *idx), m = 0;
  if (!on || !idx) {
    free(on);
    free(idx);
    return nnf_fail(err, errlen, "%s: out of memory", path);
  }
  for (int i = 0; i < n; i++) {
    if (!placeable(x[i], o->log_x) || !placeable(y[i], o->log_y)) continue;
    on[i] = 1;
    xlo = fmin(xlo, x[i]), xhi = fmax(xhi, x[i]);
    ylo = fmin(ylo, y[i]), yhi = fmax(yhi, y[i]);
    if (front && front[i]) idx[m++] = i;
  }
  axis ax, ay;
  value_axis(&ax, xlo, xhi, o->log_x);
  value_axis(&ay, ylo, yhi, o->log_y);
  sbuf b = {0};
  svg_begin(&b, W, H, o->title);
  /* legend, above the plot area */
  const char *pl = o->point_label ? o->point_label : "point", *fl = o->front_label ? o->front_label : "Pareto front";
  double lx = r.x0 + 24 + 7.0 * (double)strlen(pl) + 24;
  sb_printf(&b, "<g class=\"legend\">\n<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"#7f7f7f\" fill-opacity=\"0.6\"/>"
                "<text x=\"%.2f\" y=\"%.2f\">", r.x0 + 6, top - 14, r.x0 + 16, top - 10);
  sb_text(&b, pl);
  sb_printf(&b, "</text>\n<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#d62728\" stroke-width=\"2\"/>"
                "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"#d62728\" stroke=\"#000000\"/><text x=\"%.2f\" y=\"%.2f\">",
            lx, top - 14, lx + 24, top - 14, lx + 12, top - 14, lx + 32, top - 10);
  sb_text(&b, fl);
  sb_printf(&b, "</text>\n</g>\n");
  char xl[256], yl[256];
  snprintf(xl, sizeof xl, "%s%s", o->xlabel ? o->xlabel : "", o->log_x && o->xlabel ? " (log scale)" : "");
  snprintf(yl, sizeof yl, "%s%s", o->ylabel ? o->ylabel : "", o->log_y && o->ylabel ? " (log scale)" : "");
  sb_printf(&b, "<g class=\"panel\">\n");
  draw_axes(&b, &r, &ax, &ay, xl, yl);
  /* the points off the front, then the front's line, points and names on top */
  sb_printf(&b, "<g class=\"points\" fill=\"#7f7f7f\" fill-opacity=\"0.6\">\n");
  for (int i = 0; i < n; i++) {
    if (!on[i] || (front && front[i])) continue;
    sb_printf(&b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\">", px(&r, &ax, x[i]), py(&r, &ay, y[i]));
    front_tooltip(&b, label ? label[i] : NULL, x[i], y[i]);
    sb_printf(&b, "</circle>\n");
  }
  sb_printf(&b, "</g>\n<g class=\"front\" stroke=\"#d62728\" fill=\"#d62728\">\n");
  front_order(x, y, idx, m);
  if (m > 1) {
    sb_printf(&b, "<polyline fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
    for (int k = 0; k < m; k++)
      sb_printf(&b, "%s%.2f,%.2f", k ? " " : "", px(&r, &ax, x[idx[k]]), py(&r, &ay, y[idx[k]]));
    sb_printf(&b, "\"/>\n");
  }
  for (int k = 0; k < m; k++) {
    int i = idx[k];
    sb_printf(&b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"5.5\" stroke=\"#000000\">", px(&r, &ax, x[i]),
              py(&r, &ay, y[i]));
    front_tooltip(&b, label ? label[i] : NULL, x[i], y[i]);
    sb_printf(&b, "</circle>\n");
  }
  sb_printf(&b, "</g>\n<g class=\"labels\" font-size=\"11\" fill=\"#000000\">\n");
  for (int k = 0; label && k < m; k++) {
    int i = idx[k];
    if (!label[i] || !*label[i]) continue;
    double cx = px(&r, &ax, x[i]), cy = py(&r, &ay, y[i]);
    int left = cx > (r.x0 + r.x1) / 2;   /* names point into the plot area */
    double ty = cy < r.y0 + 14 ? cy + 16 : cy - 8;
    sb_printf(&b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\">", left ? cx - 8 : cx + 8, ty, left ? "end" : "start");
    sb_text(&b, label[i]);
    sb_printf(&b, "</text>\n");
  }
  sb_printf(&b, "</g>\n</g>\n</svg>\n");
  int rc = write_atomic(path, &b, err, errlen);
  free(b.p);
  free(on);
  free(idx);
  return rc;
}
