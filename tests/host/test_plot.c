/*
 * test_plot.c - the SVG charts of nnf_plot, checked by parsing them:
 *   - nice ticks (1-2-5 steps, log decades) and their labels for known ranges;
 *   - a line chart and a scatter chart parse as well-formed XML (a small
 *     checker below: balanced tags, quoted and unique attributes, valid
 *     entities, one root <svg> with the SVG namespace and a viewBox);
 *   - their content: polyline points and circles equal the finite data
 *     (gaps split lines, non-finite values and log x <= 0 are skipped), the
 *     tick labels are the expected values, title and legend text are there
 *     and escaped (& < > " ', control bytes, invalid UTF-8), and every
 *     coordinate lies inside the viewBox;
 *   - the Pareto front of known point sets (ties, dominated duplicates,
 *     non-finite points), and its chart: the front's points joined in order
 *     of x and labelled, the others apart, log axes leaving out x <= 0;
 *   - empty charts are valid; bad arguments and unwritable paths fail with a
 *     message; writing leaves no temporary file behind.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_plot.h"
#include "nnf_test.h"

static char err[512];

/* ---- a small XML reader ------------------------------------------------------ */

#define MAX_EL 4096
#define MAX_ATTR 16

typedef struct {
  char name[32];
  int nattr;
  char an[MAX_ATTR][32];
  char *av[MAX_ATTR];      /* decoded values */
  char *text;              /* decoded character data directly inside */
  int parent;              /* -1 for the root */
} xel;

typedef struct {
  xel el[MAX_EL];
  int n;
  const char *why;         /* NULL when well-formed */
} xdoc;

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = malloc((size_t)n + 1);
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
  if (p) p[n] = 0;
  fclose(f);
  return p;
}

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == ':' || c == '.';
}

/* Decode s[0..len) into a new string; -1 on an invalid entity or a '<'. */
static char *decode(const char *s, size_t len, int in_attr, const char **why) {
  char *out = malloc(len + 1), *o = out;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '<' || (in_attr && (s[i] == '"'))) {
      *why = "raw '<' or quote in text";
      free(out);
      return NULL;
    }
    if (s[i] != '&') {
      *o++ = s[i];
      continue;
    }
    static const char *ent[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};
    static const char chr[] = "&<>\"'";
    int k;
    for (k = 0; k < 5; k++)
      if (!strncmp(s + i + 1, ent[k], strlen(ent[k]))) break;
    if (k < 5) {
      *o++ = chr[k];
      i += strlen(ent[k]);
      continue;
    }
    if (s[i + 1] == '#') {
      char *end;
      long v = s[i + 2] == 'x' ? strtol(s + i + 3, &end, 16) : strtol(s + i + 2, &end, 10);
      if (*end == ';' && v > 0 && v < 128) {
        *o++ = (char)v;
        i = (size_t)(end - s);
        continue;
      }
    }
    *why = "invalid entity";
    free(out);
    return NULL;
  }
  *o = 0;
  return out;
}

static void append_text(xel *e, const char *t) {
  size_t a = e->text ? strlen(e->text) : 0;
  e->text = realloc(e->text, a + strlen(t) + 1);
  strcpy(e->text + a, t);
}

/* Parse an attribute list up to '>' or '/>'; returns the position after it. */
static const char *parse_attrs(const char *p, xel *e, int *empty, const char **why) {
  for (;;) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    if (*p == '>' || (p[0] == '/' && p[1] == '>')) {
      *empty = *p == '/';
      return p + (*empty ? 2 : 1);
    }
    const char *n0 = p;
    while (name_char(*p)) p++;
    if (p == n0 || *p != '=' || (p[1] != '"' && p[1] != '\'') || e->nattr == MAX_ATTR) {
      *why = "attribute without a quoted value";
      return NULL;
    }
    char q = p[1];
    const char *v0 = p + 2, *v1 = strchr(v0, q);
    if (!v1) {
      *why = "unterminated attribute";
      return NULL;
    }
    snprintf(e->an[e->nattr], sizeof e->an[0], "%.*s", (int)(p - n0), n0);
    for (int k = 0; k < e->nattr; k++)
      if (!strcmp(e->an[k], e->an[e->nattr])) {
        *why = "duplicate attribute";
        return NULL;
      }
    if (!(e->av[e->nattr] = decode(v0, (size_t)(v1 - v0), 1, why))) return NULL;
    e->nattr++;
    p = v1 + 1;
    if (!strchr(" \n\t\r/>", *p)) {
      *why = "no space between attributes";
      return NULL;
    }
  }
}

/* Well-formedness: one root, balanced tags, valid attributes and entities. */
static void xml_parse(const char *s, xdoc *d) {
  memset(d, 0, sizeof *d);
  int stack[64], depth = 0, roots = 0;
  const char *p = s;
  if (!strncmp(p, "<?xml", 5)) {
    p = strstr(p, "?>");
    if (!p) { d->why = "bad declaration"; return; }
    p += 2;
  }
  while (*p) {
    if (*p != '<') {
      const char *t = strchr(p, '<');
      size_t len = t ? (size_t)(t - p) : strlen(p);
      char *txt = decode(p, len, 0, &d->why);
      if (!txt) return;
      int blank = strspn(txt, " \n\t\r") == strlen(txt);
      if (!blank && !depth) { d->why = "text outside the root"; free(txt); return; }
      if (!blank) append_text(&d->el[stack[depth - 1]], txt);
      free(txt);
      p += len;
      continue;
    }
    if (p[1] == '/') {
      const char *n0 = p + 2, *n1 = n0;
      while (name_char(*n1)) n1++;
      if (!depth || *n1 != '>' || strncmp(d->el[stack[depth - 1]].name, n0, (size_t)(n1 - n0)) ||
          strlen(d->el[stack[depth - 1]].name) != (size_t)(n1 - n0)) {
        d->why = "unbalanced closing tag";
        return;
      }
      depth--;
      p = n1 + 1;
      continue;
    }
    if (d->n == MAX_EL || depth == 64) { d->why = "too many elements"; return; }
    xel *e = &d->el[d->n];
    const char *n0 = p + 1, *n1 = n0;
    while (name_char(*n1)) n1++;
    if (n1 == n0 || (size_t)(n1 - n0) >= sizeof e->name) { d->why = "bad tag name"; return; }
    snprintf(e->name, sizeof e->name, "%.*s", (int)(n1 - n0), n0);
    e->parent = depth ? stack[depth - 1] : -1;
    if (!depth && roots++) { d->why = "two roots"; return; }
    int empty = 0;
    p = parse_attrs(n1, e, &empty, &d->why);
    if (!p) return;
    if (!empty) stack[depth++] = d->n;
    d->n++;
  }
  if (depth) d->why = "unclosed element";
  if (!roots) d->why = "no root";
}

static void xml_free(xdoc *d) {
  for (int i = 0; i < d->n; i++) {
    for (int k = 0; k < d->el[i].nattr; k++) free(d->el[i].av[k]);
    free(d->el[i].text);
  }
}

static const char *attr(const xel *e, const char *name) {
  for (int k = 0; k < e->nattr; k++)
    if (!strcmp(e->an[k], name)) return e->av[k];
  return NULL;
}

/* Is e inside an element with class cls? */
static int within(const xdoc *d, int i, const char *cls) {
  for (int p = d->el[i].parent; p >= 0; p = d->el[p].parent) {
    const char *c = attr(&d->el[p], "class");
    if (c && !strcmp(c, cls)) return 1;
  }
  return 0;
}

static int count(const xdoc *d, const char *name) {
  int n = 0;
  for (int i = 0; i < d->n; i++) n += !strcmp(d->el[i].name, name);
  return n;
}

static int points_in(const char *pts) {
  int n = 0;
  for (const char *p = pts; *p; p++) n += *p == ',';
  return n;
}

/* Text of the <text> elements inside groups of class cls, joined by '|'. */
static void texts(const xdoc *d, const char *cls, char *out, size_t len) {
  out[0] = 0;
  for (int i = 0; i < d->n; i++)
    if (!strcmp(d->el[i].name, "text") && within(d, i, cls) && d->el[i].text) {
      strncat(out, d->el[i].text, len - strlen(out) - 2);
      strcat(out, "|");
    }
}

/* Parse the file, check the root and that every coordinate is in the viewBox. */
static void load_svg(const char *path, xdoc *d) {
  char *s = slurp(path);
  CHECK(s != NULL);
  xml_parse(s, d);
  nnf_test_ctx("%s: %s", path, d->why ? d->why : "");
  CHECK(d->why == NULL);
  free(s);
  const xel *root = &d->el[0];
  CHECK(!strcmp(root->name, "svg"));
  CHECK(attr(root, "xmlns") && !strcmp(attr(root, "xmlns"), "http://www.w3.org/2000/svg"));
  double x0, y0, w, h;
  CHECK(attr(root, "viewBox") && sscanf(attr(root, "viewBox"), "%lf %lf %lf %lf", &x0, &y0, &w, &h) == 4);
  CHECK(x0 == 0 && y0 == 0 && w > 0 && h > 0);
  static const char *xs[] = {"x", "x1", "x2", "cx"}, *ys[] = {"y", "y1", "y2", "cy"};
  for (int i = 1; i < d->n; i++) {
    const xel *e = &d->el[i];
    nnf_test_ctx("%s: <%s> #%d", path, e->name, i);
    for (int k = 0; k < 4; k++) {
      const char *v = attr(e, xs[k]);
      if (v) CHECK(atof(v) >= 0 && atof(v) <= w);
      v = attr(e, ys[k]);
      if (v) CHECK(atof(v) >= 0 && atof(v) <= h);
    }
    const char *pts = attr(e, "points");
    for (const char *p = pts; p && *p;) {
      double px, py;
      int used;
      CHECK(sscanf(p, "%lf,%lf%n", &px, &py, &used) == 2);
      CHECK(px >= 0 && px <= w && py >= 0 && py <= h);
      p += used;
      while (*p == ' ') p++;
    }
  }
  nnf_test_ctx("");
}

/* ---- ticks ------------------------------------------------------------------- */

static void check_ticks(double lo, double hi, int target, double min_step, const double *want, int nwant) {
  double t[NNF_PLOT_MAX_TICKS];
  int n = nnf_plot_ticks(lo, hi, target, min_step, t, NNF_PLOT_MAX_TICKS);
  nnf_test_ctx("ticks of [%g, %g]", lo, hi);
  CHECK_EQ(n, nwant);
  for (int k = 0; k < n; k++) CHECK(fabs(t[k] - want[k]) <= 1e-12 * (fabs(want[k]) + 1));
  nnf_test_ctx("");
}

static void test_ticks(void) {
  check_ticks(0.12, 0.93, 5, 0, (double[]){0, 0.2, 0.4, 0.6, 0.8, 1.0}, 6);
  check_ticks(0.35, 2.3, 5, 0, (double[]){0, 0.5, 1, 1.5, 2, 2.5}, 6);
  check_ticks(-3.7, 12.1, 5, 0, (double[]){-5, 0, 5, 10, 15}, 5);
  check_ticks(1, 3, 8, 1, (double[]){1, 2, 3}, 3);            /* integers only (epochs) */
  check_ticks(1, 3, 8, 0, (double[]){1, 1.5, 2, 2.5, 3}, 5);
  check_ticks(0, 0, 5, 0, (double[]){-1, -0.5, 0, 0.5, 1}, 5); /* degenerate: widened */
  check_ticks(NAN, 1, 5, 0, (double[]){0, 0.2, 0.4, 0.6, 0.8, 1.0}, 6);
  double t[NNF_PLOT_MAX_TICKS];
  int n = nnf_plot_ticks(1e-9, 1e3, 1000, 0, t, NNF_PLOT_MAX_TICKS);  /* too many: the step grows */
  CHECK_EQ(n, 21);
  CHECK(t[0] == 0 && t[1] == 50 && t[20] == 1000);
  n = nnf_plot_log_ticks(1e-5, 1e-2, t, NNF_PLOT_MAX_TICKS);
  CHECK_EQ(n, 4);
  CHECK(fabs(t[0] / 1e-5 - 1) < 1e-12 && fabs(t[3] / 1e-2 - 1) < 1e-12);
  n = nnf_plot_log_ticks(2e-3, 3e-2, t, NNF_PLOT_MAX_TICKS);   /* two decades: 1-2-5 */
  CHECK_EQ(n, 7);
  CHECK(fabs(t[1] / 2e-3 - 1) < 1e-12 && fabs(t[5] / 5e-2 - 1) < 1e-12 && fabs(t[6] / 0.1 - 1) < 1e-12);
  n = nnf_plot_log_ticks(1e-3, 1e-3, t, NNF_PLOT_MAX_TICKS);   /* one value: a decade each side */
  CHECK_EQ(n, 7);
  CHECK(fabs(t[0] / 1e-4 - 1) < 1e-12 && fabs(t[6] / 1e-2 - 1) < 1e-12);
  n = nnf_plot_log_ticks(1e-30, 1e30, t, 8);                   /* many decades: strided */
  CHECK(n <= 8 && n >= 5);
  char b[32];
  nnf_plot_format(0.4, 0.2, b, sizeof b);
  CHECK(!strcmp(b, "0.4"));
  nnf_plot_format(0, 0.2, b, sizeof b);
  CHECK(!strcmp(b, "0.0"));
  nnf_plot_format(2.5, 0.5, b, sizeof b);
  CHECK(!strcmp(b, "2.5"));
  nnf_plot_format(0.05, 0.05, b, sizeof b);
  CHECK(!strcmp(b, "0.05"));
  nnf_plot_format(150, 50, b, sizeof b);
  CHECK(!strcmp(b, "150"));
  nnf_plot_format(1e-4, 0, b, sizeof b);
  CHECK(!strcmp(b, "1e-4"));
  nnf_plot_format(0.01, 0, b, sizeof b);
  CHECK(!strcmp(b, "0.01"));
  nnf_plot_format(0.01, -1, b, sizeof b);
  CHECK(!strcmp(b, "1e-2"));
  nnf_plot_format(5e-5, -1, b, sizeof b);
  CHECK(!strcmp(b, "5e-5"));
  nnf_plot_format(10, -1, b, sizeof b);
  CHECK(!strcmp(b, "10"));
}

/* ---- a line chart ------------------------------------------------------------ */

static int finite_count(const double *v, int n) {
  int c = 0;
  for (int i = 0; i < n; i++) c += isfinite(v[i]) != 0;
  return c;
}

static void test_lines(void) {
  const char *path = NNF_TEST_TMP "/plot_lines.svg";
  double loss[10] = {2.3, 1.6, 1.2, 0.9, NAN, 0.7, 0.6, 0.5, 0.4, 0.35};
  double tr[10] = {0.12, 0.4, 0.55, 0.66, 0.72, 0.78, 0.82, 0.86, 0.89, 0.93};
  double va[10] = {0.2, 0.45, INFINITY, 0.6, 0.7, 0.75, NAN, 0.8, 0.81, 0.83};
  double none[10];
  for (int i = 0; i < 10; i++) none[i] = NAN;
  nnf_plot_series s[4] = {{"loss", loss, 0}, {"train <acc> & \"more\"", tr, 1}, {"val 'acc'", va, 1},
                          {"empty", none, 1}};
  nnf_plot_line_opts o = {"Training: loss & <accuracy>", "epoch", {"loss", "accuracy"}, 1, 0, 0};
  CHECK_OK(nnf_plot_lines(path, &o, NULL, 10, s, 4, err, sizeof err));
  char *raw = slurp(path);
  CHECK(strstr(raw, "Training: loss &amp; &lt;accuracy&gt;") != NULL);
  CHECK(strstr(raw, "<accuracy>") == NULL);
  free(raw);
  xdoc *d = calloc(1, sizeof *d);
  load_svg(path, d);
  CHECK_EQ(count(d, "title") >= 1, 1);
  CHECK(d->el[1].text && !strcmp(d->el[1].text, o.title));   /* <title> first: the document's name */
  /* each series: its polylines' points are its finite values; a gap splits it */
  int gi = 0;
  const double *ys[4] = {loss, tr, va, none};
  int want_lines[4] = {2, 1, 3, 0};
  for (int i = 0; i < d->n; i++) {
    const char *c = attr(&d->el[i], "class");
    if (!c || strcmp(c, "series")) continue;
    int pts = 0, lines = 0, circles = 0;
    for (int j = i + 1; j < d->n; j++) {
      if (d->el[j].parent != i) continue;
      if (!strcmp(d->el[j].name, "polyline")) lines++, pts += points_in(attr(&d->el[j], "points"));
      if (!strcmp(d->el[j].name, "circle")) circles++;
    }
    nnf_test_ctx("series %d", gi);
    CHECK(gi < 4);
    CHECK_EQ(pts, finite_count(ys[gi], 10));
    CHECK_EQ(circles, finite_count(ys[gi], 10));   /* markers on every point of a short series */
    CHECK_EQ(lines, want_lines[gi]);
    gi++;
  }
  nnf_test_ctx("");
  CHECK_EQ(gi, 4);
  /* legend: every name, decoded back exactly */
  char leg[1024], xt[1024], yt[1024];
  texts(d, "legend", leg, sizeof leg);
  CHECK(!strcmp(leg, "loss|train <acc> & \"more\"|val 'acc'|empty|"));
  /* ticks: x on integers 0..10 by 2 in both panels; loss 0..2.5 by 0.5, accuracy 0..1 by 0.2 */
  texts(d, "xticks", xt, sizeof xt);
  CHECK(!strcmp(xt, "0|2|4|6|8|10|0|2|4|6|8|10|"));
  texts(d, "yticks", yt, sizeof yt);
  CHECK(!strcmp(yt, "0.0|0.5|1.0|1.5|2.0|2.5|0.0|0.2|0.4|0.6|0.8|1.0|"));
  int labels = 0;
  for (int i = 0; i < d->n; i++) {
    const char *c = attr(&d->el[i], "class");
    if (c && (!strcmp(c, "xlabel") || !strcmp(c, "ylabel"))) labels++;
  }
  CHECK_EQ(labels, 3);   /* epoch (under the last panel), loss, accuracy */
  xml_free(d);
  /* long series: no markers, lines only */
  double xs[200], ys2[200];
  for (int i = 0; i < 200; i++) xs[i] = i * 0.5, ys2[i] = sin(i * 0.1);
  nnf_plot_series s2 = {"sine", ys2, 0};
  CHECK_OK(nnf_plot_lines(path, NULL, xs, 200, &s2, 1, err, sizeof err));
  load_svg(path, d);
  CHECK_EQ(count(d, "circle"), 0);
  CHECK_EQ(count(d, "polyline"), 1);
  for (int i = 0; i < d->n; i++)
    if (!strcmp(d->el[i].name, "polyline")) CHECK_EQ(points_in(attr(&d->el[i], "points")), 200);
  xml_free(d);
  free(d);
}

/* ---- a scatter chart --------------------------------------------------------- */

static void test_scatter(void) {
  const char *path = NNF_TEST_TMP "/plot_scatter.svg";
  enum { N = 8 };
  double lr[N] = {1e-5, 1e-2, 1e-3, 1e-4, 1e-2, 1e-5, 0, 3e-3};   /* 0: not on a log axis */
  double batch[N] = {32, 64, 32, 64, 128, 32, 64, 32};
  const char *opt[N] = {"sgd", "adam", "adam", "sgd", "rms<prop>", "adam", NULL, "sgd"};
  double score[N] = {0.1, 0.95, 0.8, 0.3, NAN, 0.2, 0.5, 0.9};
  nnf_plot_var v[3] = {{"lr", lr, NULL, 1, NULL, 0}, {"batch", batch, NULL, 0, NULL, 0},
                       {"optimizer", NULL, opt, 0, NULL, 0}};
  nnf_plot_scatter_opts o = {"Search \"s1\"", "validation accuracy", "trial", 1, "best", 0, 0, 0};
  CHECK_OK(nnf_plot_scatter(path, &o, v, 3, score, N, err, sizeof err));
  xdoc *d = calloc(1, sizeof *d);
  load_svg(path, d);
  /* circles per panel: finite scores with a placeable x */
  int want[3] = {6, 7, 6}, panel = -1, circles[3] = {0}, best = 0;
  for (int i = 0; i < d->n; i++) {
    const char *c = attr(&d->el[i], "class");
    if (c && !strcmp(c, "panel")) panel++;
    if (!strcmp(d->el[i].name, "circle")) {
      CHECK(panel >= 0 && panel < 3);
      circles[panel]++;
      if (c && !strcmp(c, "best")) best++;
    }
  }
  for (int k = 0; k < 3; k++) CHECK_EQ(circles[k], want[k]);
  CHECK_EQ(best, 3);   /* the best point in every panel */
  char xt[1024], yt[1024], leg[256];
  texts(d, "xticks", xt, sizeof xt);
  /* lr: decades 1e-5..1e-2 (exponent labels); batch 30..70 by 10 (128 has no score);
   * optimizer: categories in order of appearance */
  CHECK(!strcmp(xt, "1e-5|1e-4|1e-3|1e-2|30|40|50|60|70|sgd|adam|"));
  texts(d, "yticks", yt, sizeof yt);
  CHECK(!strncmp(yt, "0.0|0.2|0.4|0.6|0.8|1.0|", 24));
  texts(d, "legend", leg, sizeof leg);
  CHECK(!strcmp(leg, "trial|best (0.95)|"));
  int found = 0;
  for (int i = 0; i < d->n; i++)
    if (!strcmp(d->el[i].name, "title") && d->el[i].text && strstr(d->el[i].text, "optimizer = adam, score 0.95"))
      found++;
  CHECK_EQ(found, 1);   /* the tooltip of the best point */
  xml_free(d);
  /* the category with a special character is escaped; it has no finite score so it is not an axis tick */
  opt[4] = "x&y";
  score[4] = 0.4;
  CHECK_OK(nnf_plot_scatter(path, &o, v + 2, 1, score, N, err, sizeof err));
  char *raw = slurp(path);
  CHECK(strstr(raw, ">x&amp;y<") != NULL);
  free(raw);
  load_svg(path, d);
  texts(d, "xticks", xt, sizeof xt);
  CHECK(!strcmp(xt, "sgd|adam|x&y|"));
  xml_free(d);
  /* a given category order comes first, listed even without points */
  const char *order[3] = {"adagrad", "adam", "sgd"};
  v[2].order = order;
  v[2].norder = 3;
  CHECK_OK(nnf_plot_scatter(path, &o, v + 2, 1, score, N, err, sizeof err));
  load_svg(path, d);
  texts(d, "xticks", xt, sizeof xt);
  CHECK(!strcmp(xt, "adagrad|adam|sgd|x&y|"));
  CHECK_EQ(count(d, "circle"), 7);
  xml_free(d);
  free(d);
}

/* ---- Pareto fronts ------------------------------------------------------------- */

static void test_front(void) {
  /* cost x (smaller is better), benefit y (larger is better) */
  enum { N = 9 };
  double x[N] = {100, 200, 150, 400, 200, 50, NAN, 400, 120};
  double y[N] = {10, 40, 10, 80, 40, 5, 100, 70, 30};
  const char *name[N] = {"a", "b", "c", "d", "b2", "e", "nan", "d-", "f <&>"};
  int front[N], want[N] = {1, 1, 0, 1, 1, 1, 0, 0, 1};
  /* c is dominated by a (cheaper, same y); d- by d; b and b2 equal: both kept */
  CHECK_EQ(nnf_plot_pareto(x, y, N, front), 6);
  for (int i = 0; i < N; i++) {
    nnf_test_ctx("point %s", name[i]);
    CHECK_EQ(front[i], want[i]);
  }
  nnf_test_ctx("");
  int none[1];
  CHECK_EQ(nnf_plot_pareto(x, y, 0, none), 0);
  const char *path = NNF_TEST_TMP "/plot_front.svg";
  nnf_plot_front_opts o = {"Pareto: model \"m\"", "logic (LUT4s)", "images/s", 0, 0, "configuration", NULL, 0, 0};
  CHECK_OK(nnf_plot_front(path, &o, x, y, name, front, N, err, sizeof err));
  xdoc *d = calloc(1, sizeof *d);
  load_svg(path, d);
  int off = 0, on = 0, lines = 0;
  double lastx = -1;
  for (int i = 0; i < d->n; i++) {
    if (!strcmp(d->el[i].name, "circle") && within(d, i, "points")) off++;
    if (!strcmp(d->el[i].name, "circle") && within(d, i, "front")) on++;
    if (!strcmp(d->el[i].name, "polyline") && within(d, i, "front")) {
      lines++;
      const char *pts = attr(&d->el[i], "points");
      CHECK_EQ(points_in(pts), 6);
      /* joined in order of x */
      for (const char *p = pts; *p;) {
        double px, py;
        int used;
        CHECK(sscanf(p, "%lf,%lf%n", &px, &py, &used) == 2);
        CHECK(px >= lastx);
        lastx = px;
        p += used;
        while (*p == ' ') p++;
      }
    }
  }
  CHECK_EQ(off, 2);    /* c and d-; the NaN point is left out */
  CHECK_EQ(on, 6);
  CHECK_EQ(lines, 1);
  char lab[512], leg[256];
  texts(d, "labels", lab, sizeof lab);
  /* names in order of x (then y): e, a, f, b, b2, d */
  CHECK(!strcmp(lab, "e|a|f <&>|b|b2|d|"));
  texts(d, "legend", leg, sizeof leg);
  CHECK(!strcmp(leg, "configuration|Pareto front|"));
  int tip = 0;
  for (int i = 0; i < d->n; i++)
    if (!strcmp(d->el[i].name, "title") && d->el[i].text && !strcmp(d->el[i].text, "d-: 400, 70")) tip++;
  CHECK_EQ(tip, 1);    /* a point off the front names itself in its tooltip */
  xml_free(d);
  /* log x: x <= 0 is left out; no front and no names: points only */
  double lx[3] = {0, 10, 1000}, ly[3] = {1, 2, 3};
  o.log_x = 1;
  CHECK_OK(nnf_plot_front(path, &o, lx, ly, NULL, NULL, 3, err, sizeof err));
  load_svg(path, d);
  CHECK_EQ(count(d, "circle"), 2 + 2);   /* two points and the legend's two markers */
  CHECK_EQ(count(d, "polyline"), 0);
  char xt[256];
  texts(d, "xticks", xt, sizeof xt);
  CHECK(!strcmp(xt, "10|20|50|100|200|500|1000|"));   /* two decades: 1-2-5 */
  xml_free(d);
  /* empty: a valid chart */
  CHECK_OK(nnf_plot_front(path, NULL, NULL, NULL, NULL, NULL, 0, err, sizeof err));
  load_svg(path, d);
  CHECK_EQ(count(d, "polyline"), 0);
  xml_free(d);
  free(d);
  CHECK_EQ(nnf_plot_front(path, NULL, NULL, y, NULL, NULL, 3, err, sizeof err), -1);
  CHECK(strstr(err, "invalid") != NULL);
}

/* ---- edges ------------------------------------------------------------------- */

static void test_edges(void) {
  const char *path = NNF_TEST_TMP "/plot_edge.svg";
  xdoc *d = calloc(1, sizeof *d);
  /* empty charts */
  CHECK_OK(nnf_plot_lines(path, NULL, NULL, 0, NULL, 0, err, sizeof err));
  load_svg(path, d);
  CHECK_EQ(count(d, "polyline"), 0);
  xml_free(d);
  CHECK_OK(nnf_plot_scatter(path, NULL, NULL, 0, NULL, 0, err, sizeof err));
  load_svg(path, d);
  CHECK_EQ(count(d, "circle"), 0);
  xml_free(d);
  /* one point: a marker */
  double one = 0.5;
  nnf_plot_series s = {"one", &one, 0};
  CHECK_OK(nnf_plot_lines(path, NULL, NULL, 1, &s, 1, err, sizeof err));
  load_svg(path, d);
  CHECK_EQ(count(d, "circle"), 1);
  xml_free(d);
  /* control characters and invalid UTF-8 become '?', valid UTF-8 stays */
  nnf_plot_line_opts o = {"a\x01" "b\xff" "c \xc2\xb5s \xe2\x80\x94", NULL, {NULL}, 0, 0, 0};
  CHECK_OK(nnf_plot_lines(path, &o, NULL, 1, &s, 1, err, sizeof err));
  load_svg(path, d);
  CHECK(!strcmp(d->el[1].text, "a?b?c \xc2\xb5s \xe2\x80\x94"));
  xml_free(d);
  free(d);
  /* bad arguments, unwritable path */
  s.panel = NNF_PLOT_MAX_PANELS;
  CHECK_EQ(nnf_plot_lines(path, NULL, NULL, 1, &s, 1, err, sizeof err), -1);
  CHECK(strstr(err, "panel") != NULL);
  nnf_plot_var v = {"v", NULL, NULL, 0, NULL, 0};
  CHECK_EQ(nnf_plot_scatter(path, NULL, &v, 1, &one, 1, err, sizeof err), -1);
  s.panel = 0;
  CHECK_EQ(nnf_plot_lines(NNF_TEST_TMP "/no/such/dir/x.svg", NULL, NULL, 1, &s, 1, err, sizeof err), -1);
  CHECK(strstr(err, "no/such/dir/x.svg") != NULL);
  /* atomic writes leave no temporary file */
  DIR *dir = opendir(NNF_TEST_TMP);
  CHECK(dir != NULL);
  struct dirent *de;
  while ((de = readdir(dir)))
    if (!strncmp(de->d_name, "plot_", 5)) CHECK(strstr(de->d_name, ".tmp") == NULL);
  closedir(dir);
}

int main(int argc, char **argv) {
  (void)argc;
  test_ticks();
  test_lines();
  test_scatter();
  test_front();
  test_edges();
  return nnf_test_done(argv[0]);
}
