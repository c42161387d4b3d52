/*
 * nnf_plot.h - charts as standalone SVG 1.1 files, written by the project
 * (no plotting library): training curves and hyperparameter searches.
 *
 *   nnf_plot_lines    a line chart: one x array shared by named series, each
 *                     series in one of up to NNF_PLOT_MAX_PANELS panels
 *                     stacked vertically (e.g. panel 0: loss; panel 1: the
 *                     accuracies), each panel with its own y axis and legend
 *   nnf_plot_scatter  a score against each of several variables, one panel
 *                     per variable in a grid: linear, log10 or categorical
 *                     (strings, e.g. optimizer names) x axes; one point may
 *                     be highlighted (the best trial)
 *   nnf_plot_front    points of cost against benefit (logic against
 *                     throughput), the Pareto front's points joined and
 *                     labelled; nnf_plot_pareto finds that front
 *
 * The files have an xmlns and a viewBox (they scale in any browser), axes
 * with "nice" ticks (1-2-5 steps; decades on log axes), axis labels, a
 * legend and a title; every text is escaped for XML (& < > " ') and cleaned
 * of bytes XML does not allow. Non-finite values are skipped (a line breaks
 * at a gap); empty series and empty charts still give a valid file. Files
 * are written atomically: a temporary file next to the target, fsync, rename.
 * Functions return 0, or -1 with a message in err.
 */
#ifndef NNF_PLOT_H
#define NNF_PLOT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NNF_PLOT_MAX_PANELS 4
#define NNF_PLOT_MAX_TICKS 24

/* ---- line charts ----------------------------------------------------------- */

typedef struct {
  const char *name;     /* legend text */
  const double *y;      /* n values (non-finite: a gap in the line) */
  int panel;            /* 0 .. NNF_PLOT_MAX_PANELS - 1 */
} nnf_plot_series;

typedef struct {
  const char *title;                          /* NULL: none */
  const char *xlabel;                         /* NULL: none */
  const char *ylabel[NNF_PLOT_MAX_PANELS];    /* per panel, NULL: none */
  int x_integer;                              /* 1: x ticks on integers only (epochs) */
  int width, panel_height;                    /* pixels; 0: 720 and 240 */
} nnf_plot_line_opts;

/* x: n shared values (NULL: 1, 2, ..., n). The number of panels is the
 * largest series panel + 1. Series with no finite point get a legend entry
 * and no line. */
int nnf_plot_lines(const char *path, const nnf_plot_line_opts *o, const double *x, int n,
                   const nnf_plot_series *s, int nseries, char *err, size_t errlen);

/* ---- scatter charts ------------------------------------------------------- */

typedef struct {
  const char *name;            /* the variable: panel title and x label */
  const double *x;             /* n numbers, or NULL when categorical */
  const char *const *cat;      /* n strings (categorical axis, in order of first
                                  appearance; NULL entries skipped), or NULL */
  int log_x;                   /* numeric: log10 axis (values <= 0 skipped) */
  const char *const *order;    /* categorical: norder names placed first, in this
                                  order, whether or not they occur; may be NULL */
  int norder;
} nnf_plot_var;

typedef struct {
  const char *title;           /* NULL: none */
  const char *ylabel;          /* the score, e.g. "validation accuracy" */
  const char *point_label;     /* legend text of the points (NULL: "trial") */
  int highlight;               /* index of a point drawn apart (the best), -1: none */
  const char *highlight_label; /* its legend text (NULL: "best") */
  int columns;                 /* panels per row; 0: min(nvars, 3) */
  int panel_width, panel_height;  /* pixels; 0: 300 and 220 */
} nnf_plot_scatter_opts;

/* y: n scores; each variable in vars gives the points' x in its panel.
 * Points whose y or x is not finite (or x <= 0 on a log axis, or a NULL
 * category) are left out of that panel. */
int nnf_plot_scatter(const char *path, const nnf_plot_scatter_opts *o, const nnf_plot_var *vars,
                     int nvars, const double *y, int n, char *err, size_t errlen);

/* ---- Pareto fronts --------------------------------------------------------- */

/* The Pareto front of n points (x[i], y[i]) when x is a cost (smaller is
 * better) and y a benefit (larger is better): front[i] = 1 when both are
 * finite and no other such point has x <= x[i] and y >= y[i] with one of
 * them strict, else 0. Equal points are all on the front. Returns how many
 * points are on it. */
int nnf_plot_pareto(const double *x, const double *y, int n, int *front);

typedef struct {
  const char *title;           /* NULL: none */
  const char *xlabel, *ylabel; /* NULL: none */
  int log_x, log_y;            /* log10 axes (values <= 0 left out) */
  const char *point_label;     /* legend text of the points (NULL: "point") */
  const char *front_label;     /* legend text of the front (NULL: "Pareto front") */
  int width, height;           /* pixels; 0: 760 and 480 */
} nnf_plot_front_opts;

/* A chart of n points (x[i], y[i]), each named label[i] (NULL entries or
 * label NULL: unnamed) in its tooltip. Points with front[i] set (front may
 * be NULL: none) are drawn apart, joined by a line in order of x (then y)
 * and labelled with their names beside them. Points whose x or y is not
 * finite, or <= 0 on a log axis, are left out. */
int nnf_plot_front(const char *path, const nnf_plot_front_opts *o, const double *x, const double *y,
                   const char *const *label, const int *front, int n, char *err, size_t errlen);

/* ---- the pieces, for tests and other writers ------------------------------ */

/* Nice ticks covering [lo, hi]: a step of 1, 2 or 5 times a power of ten
 * giving about `target` intervals (at least min_step; 0: any), from
 * floor(lo / step) * step to ceil(hi / step) * step. A degenerate or
 * non-finite range is widened first. Returns the count (<= max). */
int nnf_plot_ticks(double lo, double hi, int target, double min_step, double *ticks, int max);
/* Ticks of a log10 axis covering [lo, hi] (both > 0): the powers of ten
 * from 10^floor(log10 lo) to 10^ceil(log10 hi), with 2 and 5 times them
 * when the range spans two decades or less. Returns the count (<= max). */
int nnf_plot_log_ticks(double lo, double hi, double *ticks, int max);
/* A tick label. step > 0 (linear axis): as many decimals as the step needs
 * ("0.5", "0.25", "100"); step 0: plain from 1e-3 to 1e4, else "1e-5";
 * step < 0: "2e-3" style except for 1..99 (a log axis spanning far). */
void nnf_plot_format(double v, double step, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* NNF_PLOT_H */
