/*
 * nnfpga_tune.c - `nnfpga tune`: hyperparameter search (grid, random or
 * Bayesian optimisation) over learning rate, batch size, hidden widths,
 * optimizer and its parameters, and initialisation, each trial trained with
 * nnf_train and scored by its best validation accuracy.
 *
 * The strategies, the search space's model view and the store's locks live
 * in host/lib/nnf_tune.c (docs/tune.md); this file maps the command line to
 * a space, keeps the files, and runs trials. Every call into the training
 * library is in run_trial (configuration in, record with a score out).
 *
 * Trial k (1-based) of a grid search is the k-th configuration of a seeded
 * shuffle of the grid; of a random search, a draw from a generator seeded by
 * (seed, k); of a Bayesian search, a function of the seed and the trials
 * recorded when it was claimed. DIR/search.json records the space,
 * DIR/trials.json the finished trials (the source of truth; the CSV is
 * rendered from it), DIR/claims.json the trials being run, each with its
 * configuration and its worker. Workers (--jobs N processes, or other
 * nnfpga tune runs on the same DIR, on this machine or another) take the
 * store lock DIR/.lock around every read-modify-write, so no two run the
 * same trial; a claim whose worker died (its DIR/workers/ file no longer
 * locked) is run again. Every file is rewritten atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "nnf_layer.h"
#include "nnf_plot.h"
#include "nnf_train.h"
#include "nnf_tune.h"
#include "nnfpga_cli.h"

#define MAX_VALS 64
#define MAX_GRID 1000000L
#define NAME_LEN 64

/* ---- the search space -------------------------------------------------------- */

typedef enum { T_REAL, T_BATCH, T_HIDDEN, T_OPTIM, T_INIT } dim_type;

/* One hyperparameter: its flag, its name in the files, and its values in
 * this search (a list, or a range for random search). */
typedef struct {
  const char *key;          /* column / JSON name (PyTorch's name for optimizer parameters) */
  const char *flag;
  dim_type type;
  int opt_param;            /* applies only to the optimizers that have it */
  const char *def;          /* the value when not given (NULL: the optimizer's default) */
  const char *spec;         /* as given, or def */
  int given;                /* in the space (a column of the results) */
  int range, log;           /* range lo:hi, drawn log-uniform when log */
  double lo, hi;
  int n;                    /* list length */
  double num[MAX_VALS];
  char str[MAX_VALS][NAME_LEN];
} dim;

enum { D_LR, D_BATCH, D_HIDDEN, D_OPTIM, D_INIT, D_MOMENTUM, D_DAMPENING, D_WD, D_ALPHA, D_BETA1,
       D_BETA2, D_EPS, D_LR_DECAY, NDIMS };

static const dim DIM_DEFS[NDIMS] = {
    {.key = "lr", .flag = "--lr", .type = T_REAL, .opt_param = 0, .def = "0.001"},
    {.key = "batch", .flag = "--batch", .type = T_BATCH, .opt_param = 0, .def = "64"},
    {.key = "hidden", .flag = "--hidden", .type = T_HIDDEN, .opt_param = 0, .def = "128"},
    {.key = "optimizer", .flag = "--optimizer", .type = T_OPTIM, .opt_param = 0, .def = "adam"},
    {.key = "init", .flag = "--init", .type = T_INIT, .opt_param = 0, .def = "default"},
    {.key = "momentum", .flag = "--momentum", .type = T_REAL, .opt_param = 1, .def = NULL},
    {.key = "dampening", .flag = "--dampening", .type = T_REAL, .opt_param = 1, .def = NULL},
    {.key = "weight_decay", .flag = "--weight-decay", .type = T_REAL, .opt_param = 1, .def = NULL},
    {.key = "alpha", .flag = "--alpha", .type = T_REAL, .opt_param = 1, .def = NULL},
    {.key = "beta1", .flag = "--beta1", .type = T_REAL, .opt_param = 1, .def = NULL},
    {.key = "beta2", .flag = "--beta2", .type = T_REAL, .opt_param = 1, .def = NULL},
    {.key = "eps", .flag = "--eps", .type = T_REAL, .opt_param = 1, .def = NULL},
    {.key = "lr_decay", .flag = "--lr-decay", .type = T_REAL, .opt_param = 1, .def = NULL},
};

/* One trial's configuration: a number or a name per dimension. */
typedef struct {
  double num[NDIMS];
  char str[NDIMS][NAME_LEN];
  int na[NDIMS];            /* 1: not used (the optimizer has no such parameter) or not given */
} config;

typedef struct {
  /* options */
  const char *dir, *data, *csv, *uri, *act, *plot;
  const char *arch, *input_shape;   /* --arch: one network for every trial (not searched) */
  const char *task_s, *loss_s, *delta_s;
  long epochs, seed, limit, label_col, trials, init_trials, jobs, targets;
  nnf_task task;            /* --task / --loss: the score is the task's validation figure
                               (regression: minus the MSE, so higher is better everywhere) */
  double val_split;
  nnf_tune_strategy strategy;
  int json, quiet, resume, use_float;
  dim d[NDIMS];
  /* the search */
  nnf_tune_space space;     /* the library's view: the dims in the space, in order */
  int lib_dim[NDIMS];       /* space dim -> our dim */
  long total;               /* trials in the search (the budget, or the whole grid) */
  long ncanon;              /* grid search: distinct configurations (entries of order) */
  uint32_t *order;          /* grid search: the canonical grid indices in trial order */
  /* state (reloaded from the store under its lock) */
  cJSON **done;             /* finished trials by number - 1 (total entries) */
  cJSON *claims;            /* claims.json's array: trials being run */
  nnf_tune_store store;
  nnf_dataset train, val;
  nnf_device *dev;
  struct shared *shared;    /* --jobs: counters the worker processes share */
} tune;

/* What --jobs workers tell their parent. */
struct shared {
  volatile int stop;        /* a worker failed: the others take no new trial */
  long ran[256];
};
#define MAX_JOBS 256

static int usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_err(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "nnfpga tune: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  return EXIT_USAGE;
}

/* Shortest text that reads back as the same double. */
static void fmt_num(double v, char *buf, size_t len) {
  snprintf(buf, len, "%.15g", v);
  if (strtod(buf, NULL) != v) snprintf(buf, len, "%.17g", v);
}

static int parse_real(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end == s || *end || errno || !isfinite(*v) ? -1 : 0;
}

/* "128", "128x64" or "none" -> normalised text and the layer count. */
static int parse_hidden(const char *s, char *out, size_t len) {
  if (!strcmp(s, "none") || !strcmp(s, "0")) {
    snprintf(out, len, "none");
    return 0;
  }
  out[0] = 0;
  int layers = 0;
  const char *p = s;
  for (;;) {
    char *end;
    errno = 0;
    long w = strtol(p, &end, 10);
    if (end == p || errno || w < 1 || w > 65535 || ++layers > NNF_MAX_SIZES - 2) return -1;
    size_t k = strlen(out);
    snprintf(out + k, len - k, "%s%ld", k ? "x" : "", w);
    if (!*end) return 0;
    if (*end != 'x') return -1;
    p = end + 1;
  }
}

/* One list value of a dimension into slot k. */
static int parse_value(dim *d, const char *s, int k) {
  double v;
  switch (d->type) {
    case T_REAL:
      if (parse_real(s, &v)) return usage_err("%s wants numbers, not '%s'", d->flag, s);
      d->num[k] = v;
      fmt_num(v, d->str[k], NAME_LEN);
      return 0;
    case T_BATCH:
      if (!strcmp(s, "full")) v = 0;
      else if (parse_real(s, &v) || v != floor(v) || v < 1 || v > 65535)
        return usage_err("--batch wants sizes in 1..65535 or 'full', not '%s'", s);
      d->num[k] = v;
      if (v) snprintf(d->str[k], NAME_LEN, "%ld", (long)v);
      else snprintf(d->str[k], NAME_LEN, "full");
      return 0;
    case T_HIDDEN:
      if (parse_hidden(s, d->str[k], NAME_LEN))
        return usage_err("--hidden wants widths like 128 or 128x64 (1..65535, at most %d layers) or none, not '%s'",
                         NNF_MAX_SIZES - 2, s);
      return 0;
    case T_OPTIM: {
      int kind = nnf_optim_parse(s);
      if (kind < 0) return usage_err("unknown --optimizer '%s' (sgd, adagrad, rmsprop, adam, adamw)", s);
      snprintf(d->str[k], NAME_LEN, "%s", nnf_optim_name((nnf_opt_kind)kind));
      d->num[k] = kind;
      return 0;
    }
    case T_INIT: {
      int kind = nnf_init_parse(s);
      if (kind < 0)
        return usage_err("unknown --init '%s' (default, zeros, uniform, normal, xavier_uniform, xavier_normal, "
                         "kaiming_uniform, kaiming_normal)", s);
      snprintf(d->str[k], NAME_LEN, "%s", nnf_init_name((nnf_init_kind)kind));
      d->num[k] = kind;
      return 0;
    }
  }
  return EXIT_USAGE;
}

/* "log:LO:HI" / "lin:LO:HI": a range for random search. */
static int parse_range(dim *d, const char *s) {
  d->log = !strncmp(s, "log:", 4);
  const char *p = s + 4, *colon = strchr(p, ':');
  char lo[64];
  if (d->type == T_OPTIM || d->type == T_INIT)
    return usage_err("%s takes a list of names, not a range ('%s')", d->flag, s);
  if (!colon || (size_t)(colon - p) >= sizeof lo)
    return usage_err("%s range '%s' is not log:LO:HI or lin:LO:HI", d->flag, s);
  snprintf(lo, sizeof lo, "%.*s", (int)(colon - p), p);
  if (parse_real(lo, &d->lo) || parse_real(colon + 1, &d->hi) || d->hi < d->lo)
    return usage_err("%s range '%s' wants two numbers LO <= HI", d->flag, s);
  if (d->log && !(d->lo > 0)) return usage_err("%s log range '%s' needs LO > 0", d->flag, s);
  if (d->type != T_REAL && (d->lo < 1 || d->hi > 65535))
    return usage_err("%s range '%s' wants sizes in 1..65535", d->flag, s);
  d->range = 1;
  return 0;
}

static int parse_dim(dim *d) {
  const char *s = d->spec;
  if (!strncmp(s, "log:", 4) || !strncmp(s, "lin:", 4)) return parse_range(d, s);
  char buf[2048];
  if (strlen(s) >= sizeof buf) return usage_err("%s: list too long", d->flag);
  snprintf(buf, sizeof buf, "%s", s);
  d->n = 0;
  for (char *p = buf, *next; p; p = next) {
    next = strchr(p, ',');
    if (next) *next++ = 0;
    if (!*p) return usage_err("%s '%s' has an empty value", d->flag, s);
    if (d->n == MAX_VALS) return usage_err("%s lists more than %d values", d->flag, MAX_VALS);
    int rc = parse_value(d, p, d->n);
    if (rc) return rc;
    for (int k = 0; k < d->n; k++)
      if (!strcmp(d->str[k], d->str[d->n])) return usage_err("%s lists %s twice", d->flag, d->str[k]);
    d->n++;
  }
  return 0;
}

/* The space's text for search.json: lists and ranges in a normal form. */
static void dim_text(const dim *d, char *buf, size_t len) {
  if (d->range) {
    char a[32], b[32];
    fmt_num(d->lo, a, sizeof a);
    fmt_num(d->hi, b, sizeof b);
    snprintf(buf, len, "%s:%s:%s", d->log ? "log" : "lin", a, b);
    return;
  }
  buf[0] = 0;
  for (int k = 0; k < d->n; k++) {
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, "%s%s", k ? "," : "", d->str[k]);
  }
}

static int opt_has(nnf_opt_kind kind, const char *key) {
  nnf_opt_config c = nnf_optim_defaults(kind);
  char e[128];
  return nnf_optim_set(&c, key, 0, e, sizeof e) == 0;
}

/* Every value of every optimizer parameter must suit each optimizer of the
 * space that has it, and at least one must have it. */
static int check_opt_params(const tune *t) {
  const dim *od = &t->d[D_OPTIM];
  for (int i = 0; i < NDIMS; i++) {
    const dim *d = &t->d[i];
    if (!d->given || (!d->opt_param && i != D_LR)) continue;
    int users = 0;
    for (int o = 0; o < od->n; o++) {
      nnf_opt_kind kind = (nnf_opt_kind)od->num[o];
      if (!opt_has(kind, d->key)) continue;
      users++;
      double vals[MAX_VALS + 2];
      int nv = d->range ? 2 : d->n;
      for (int k = 0; k < nv; k++) vals[k] = d->range ? (k ? d->hi : d->lo) : d->num[k];
      for (int k = 0; k < nv; k++) {
        nnf_opt_config c = nnf_optim_defaults(kind);
        char e[256];
        if (nnf_optim_set(&c, d->key, vals[k], e, sizeof e))
          return usage_err("%s %g: %s", d->flag, vals[k], e);
      }
    }
    if (!users) {
      char names[256];
      dim_text(od, names, sizeof names);
      return usage_err("%s: no optimizer of the search (%s) has %s", d->flag, names, d->key);
    }
  }
  return 0;
}

/* ---- trial configurations ----------------------------------------------------- */

/* Set value k of list dimension i in c. */
static void pick(const tune *t, config *c, int i, int k) {
  const dim *d = &t->d[i];
  c->num[i] = d->num[k];
  snprintf(c->str[i], NAME_LEN, "%s", d->str[k]);
}

/* Mark the parameters this configuration's optimizer lacks (and those not given). */
static void mark_na(const tune *t, config *c) {
  for (int i = 0; i < NDIMS; i++) {
    const dim *d = &t->d[i];
    c->na[i] = d->opt_param && (!d->given || !opt_has((nnf_opt_kind)c->num[D_OPTIM], d->key));
  }
}

/* The library's conditional dims: an optimizer parameter applies only to
 * the optimizers that have it. */
static void space_inactive(void *ctx, const double *x, int *na) {
  const tune *t = ctx;
  nnf_opt_kind kind = (nnf_opt_kind)t->d[D_OPTIM].num[0];
  for (int j = 0; j < t->space.ndims; j++)
    if (t->lib_dim[j] == D_OPTIM) kind = (nnf_opt_kind)t->d[D_OPTIM].num[(int)x[j]];
  for (int j = 0; j < t->space.ndims; j++) {
    const dim *d = &t->d[t->lib_dim[j]];
    na[j] = d->opt_param && !opt_has(kind, d->key);
  }
}

/* The space as the library sees it: every dim with a list or a range, in
 * order (the order random draws are taken in). Numeric lists are ordered
 * (log scale when positive and spanning a factor of 4 or more); names, and
 * hidden layouts with several layers, are categories. */
static void build_space(tune *t) {
  nnf_tune_space *s = &t->space;
  memset(s, 0, sizeof *s);
  for (int i = 0; i < NDIMS; i++) {
    const dim *d = &t->d[i];
    if (!d->range && !d->n) continue;
    nnf_tune_dim *ld = &s->dim[s->ndims];
    t->lib_dim[s->ndims++] = i;
    if (d->range) {
      ld->kind = d->type == T_REAL ? NNF_TDIM_REAL : NNF_TDIM_INT;
      ld->log = d->log, ld->lo = d->lo, ld->hi = d->hi;
      ld->digits = 4;   /* 4 digits: exact in JSON */
      continue;
    }
    ld->kind = NNF_TDIM_LIST;
    ld->n = d->n;
    ld->categorical = d->type == T_OPTIM || d->type == T_INIT;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < d->n && !ld->categorical; k++) {
      double v = d->num[k];
      if (d->type == T_HIDDEN) {
        char *end;
        v = strtod(d->str[k], &end);
        if (*end || v < 1) ld->categorical = 1;   /* none, or several layers */
      }
      if (d->type == T_BATCH && v == 0) ld->categorical = 1;   /* full */
      ld->num[k] = v;
      lo = fmin(lo, v), hi = fmax(hi, v);
    }
    ld->log = !ld->categorical && lo > 0 && hi >= 4 * lo;
  }
  s->inactive = space_inactive;
  s->ctx = t;
}

/* A library point as a configuration. */
static void point_config(const tune *t, const nnf_tune_point *p, config *c) {
  memset(c, 0, sizeof *c);
  for (int j = 0; j < t->space.ndims; j++) {
    int i = t->lib_dim[j];
    double v = p->x[j];
    if (!t->d[i].range) pick(t, c, i, (int)v);
    else if (t->d[i].type == T_REAL) c->num[i] = v, fmt_num(v, c->str[i], NAME_LEN);
    else c->num[i] = v, snprintf(c->str[i], NAME_LEN, "%ld", (long)v);
  }
  mark_na(t, c);
}

/* Trial k of a grid or random search (a function of space, seed and k). */
static void trial_config(const tune *t, long k, config *c) {
  nnf_tune_point p;
  if (t->strategy == NNF_TUNE_GRID) nnf_tune_grid_point(&t->space, (long)t->order[k - 1], &p);
  else nnf_tune_random(&t->space, (uint64_t)t->seed, k, &p);
  point_config(t, &p, c);
}

/* The grid in seeded shuffled order, duplicates left out. */
static int build_grid(tune *t) {
  int rc = nnf_tune_grid_order(&t->space, (uint64_t)t->seed, MAX_GRID, &t->order, &t->ncanon);
  if (rc == -2)
    return usage_err("the grid has more than %ld configurations; list fewer values or use --search random or bayes",
                     MAX_GRID);
  if (rc) return usage_err("out of memory");
  t->total = t->trials > 0 && t->trials < t->ncanon ? t->trials : t->ncanon;
  return 0;
}

/* "lr 0.01, batch 32, hidden 128, optimizer adam, init default" */
static void config_text(const tune *t, const config *c, char *buf, size_t len) {
  buf[0] = 0;
  for (int i = 0; i < NDIMS; i++) {
    if (c->na[i] || (t->d[i].opt_param && !t->d[i].given) || (i == D_HIDDEN && t->arch)) continue;
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, "%s%s %s", l ? ", " : "", t->d[i].key, c->str[i]);
  }
}

/* ---- files ---------------------------------------------------------------------- */

static void join(char *buf, size_t len, const char *dir, const char *name) {
  snprintf(buf, len, "%s/%s", dir, name);
}

static int store_write(const tune *t, const char *name, const char *text) {
  char err[4600];
  if (!nnf_tune_store_write(&t->store, name, text, err, sizeof err)) return 0;
  fprintf(stderr, "nnfpga tune: %s\n", err);
  return -1;
}

/* A validation figure as a score (higher is better): the figure, or minus
 * regression's MSE. */
static double score_of(const tune *t, double figure) {
  return nnf_task_lower_better(t->task.kind) ? -figure : figure;
}

/* The score as people read it: "91.20%" or "MSE 0.0123". */
static void score_text(const tune *t, double score, char *buf, size_t len) {
  if (nnf_task_lower_better(t->task.kind)) snprintf(buf, len, "MSE %.5g", -score);
  else snprintf(buf, len, "%.2f%%", 100 * score);
}

/* What the score is. */
static const char *metric_name(const tune *t) {
  switch (t->task.kind) {
    case NNF_TASK_MULTILABEL: return "best validation per-label accuracy";
    case NNF_TASK_REGRESSION: return "minus the best validation MSE";
    default: return "best validation accuracy";
  }
}

/* What identifies a search: its space, kind, seed and the settings that
 * change scores. The trial budget is not part of it. */
static cJSON *search_json(const tune *t) {
  cJSON *o = cJSON_CreateObject(), *sp = cJSON_CreateObject(), *st = cJSON_CreateObject();
  char buf[4096];
  cJSON_AddStringToObject(o, "format", "nnfpga-tune");
  cJSON_AddNumberToObject(o, "version", 1);
  cJSON_AddStringToObject(o, "search", nnf_tune_strategy_name(t->strategy));
  cJSON_AddNumberToObject(o, "seed", (double)t->seed);
  if (t->strategy == NNF_TUNE_BAYES) cJSON_AddNumberToObject(o, "init_trials", (double)t->init_trials);
  for (int i = 0; i < NDIMS; i++) {
    if (!t->d[i].given && t->d[i].opt_param) continue;
    dim_text(&t->d[i], buf, sizeof buf);
    cJSON_AddStringToObject(sp, t->d[i].key, buf);
  }
  cJSON_AddItemToObject(o, "space", sp);
  cJSON_AddNumberToObject(st, "epochs", (double)t->epochs);
  cJSON_AddStringToObject(st, "act", t->act);
  if (t->arch) {
    cJSON_AddStringToObject(st, "arch", t->arch);
    cJSON_AddStringToObject(st, "input_shape", t->input_shape);
  }
  fmt_num(t->val_split, buf, sizeof buf);
  cJSON_AddStringToObject(st, "val_split", buf);
  cJSON_AddStringToObject(st, "data", t->csv ? t->csv : t->data ? t->data : NNF_FASHION_DEFAULT);
  cJSON_AddNumberToObject(st, "label_col", (double)t->label_col);
  cJSON_AddNumberToObject(st, "limit", (double)t->limit);
  cJSON_AddStringToObject(st, "device", t->use_float ? "float" : t->uri);
  if (t->task.kind != NNF_TASK_MULTICLASS) {
    cJSON_AddStringToObject(st, "task", nnf_task_name(t->task.kind));
    cJSON_AddStringToObject(st, "loss", nnf_loss_name(t->task.loss));
    fmt_num(t->task.huber_delta, buf, sizeof buf);
    if (t->task.loss == NNF_LOSS_HUBER) cJSON_AddStringToObject(st, "huber_delta", buf);
  }
  cJSON_AddItemToObject(o, "settings", st);
  return o;
}

/* The first difference between two search descriptions, for the message. */
static void first_diff(const cJSON *old, const cJSON *cur, const char *where, char *buf, size_t len) {
  const cJSON *c;
  cJSON_ArrayForEach(c, cur) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(old, c->string);
    char path[128];
    snprintf(path, sizeof path, "%s%s", where, c->string);
    if (cJSON_IsObject(c) && cJSON_IsObject(o)) {
      first_diff(o, c, "", buf, len);
      if (buf[0]) return;
      continue;
    }
    if (!o || !cJSON_Compare(o, c, 1)) {
      char *a = o ? cJSON_PrintUnformatted(o) : NULL, *b = cJSON_PrintUnformatted(c);
      snprintf(buf, len, "%s was %s, now %s", path, a ? a : "not set", b ? b : "?");
      free(a);
      free(b);
      return;
    }
  }
  cJSON_ArrayForEach(c, old) {
    if (!cJSON_GetObjectItemCaseSensitive(cur, c->string)) {
      snprintf(buf, len, "%s%s was set, now not", where, c->string);
      return;
    }
  }
}

/* New search: write search.json. Existing one: the same search resumes, a
 * different one is refused. */
static int check_search(tune *t, int *resuming) {
  char path[4096], diff[512] = "";
  join(path, sizeof path, t->dir, "search.json");
  cJSON *cur = search_json(t);
  char *text = nnf_tune_store_read(&t->store, "search.json");
  *resuming = 0;
  int rc = 0;
  if (!text) {
    char *out = cJSON_Print(cur);
    if (!rc && store_write(t, "search.json", out)) rc = EXIT_INPUT;
    free(out);
  } else {
    cJSON *old = cJSON_Parse(text);
    if (!old) {
      fprintf(stderr, "nnfpga tune: %s is not valid JSON; remove it to start a new search\n", path);
      rc = EXIT_INPUT;
    } else if (!cJSON_Compare(old, cur, 1)) {
      first_diff(old, cur, "", diff, sizeof diff);
      rc = usage_err("%s holds a different search (%s); use another --dir, or remove it to start over",
                     t->dir, diff[0] ? diff : "the description differs");
    } else {
      *resuming = 1;
    }
    cJSON_Delete(old);
  }
  free(text);
  cJSON_Delete(cur);
  return rc;
}

/* A trial's configuration as JSON fields (names; numbers; null when unused). */
static void add_config(const tune *t, cJSON *o, const config *c, const int *sizes, int ns) {
  for (int i = 0; i < NDIMS; i++) {
    const dim *d = &t->d[i];
    if (d->opt_param && !d->given) continue;
    if (c->na[i]) cJSON_AddNullToObject(o, d->key);
    else if (d->type == T_REAL || d->type == T_BATCH) cJSON_AddNumberToObject(o, d->key, c->num[i]);
    else cJSON_AddStringToObject(o, d->key, c->str[i]);
  }
  if (t->arch) {
    cJSON_AddStringToObject(o, "arch", t->arch);
    return;
  }
  char layers[128] = "";
  for (int l = 0; l < ns; l++) {
    size_t k = strlen(layers);
    snprintf(layers + k, sizeof layers - k, "%s%d", l ? "," : "", sizes[l]);
  }
  cJSON_AddStringToObject(o, "layers", layers);
}

/* cJSON prints 15 digits when they read back within an ulp or so. */
static int same_number(double a, double b) { return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b)); }

/* Does a stored trial hold the configuration this search gives it? */
static int same_config(const tune *t, const cJSON *o, const config *c) {
  for (int i = 0; i < NDIMS; i++) {
    const dim *d = &t->d[i];
    if (d->opt_param && !d->given) continue;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, d->key);
    if (c->na[i] ? !cJSON_IsNull(v)
        : d->type == T_REAL || d->type == T_BATCH ? !cJSON_IsNumber(v) || !same_number(v->valuedouble, c->num[i])
                                                  : !cJSON_IsString(v) || strcmp(v->valuestring, c->str[i]))
      return 0;
  }
  return 1;
}

static const char *const RESULT_COLS[] = {"score", "best_epoch", "epochs", "train_loss", "train_accuracy",
                                          "seconds"};
static const char *const RESULT_FMT[] = {"%.6f", "%.0f", "%.0f", "%.6f", "%.6f", "%.3f"};

/* The number of a stored trial, 0 if it has none this search could give
 * (or its results are not numbers: they become CSV fields). */
static long trial_number(const tune *t, const cJSON *o) {
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "trial");
  double n = cJSON_IsNumber(k) ? k->valuedouble : 0;
  long max = t->strategy == NNF_TUNE_GRID ? t->ncanon : 1000000;
  for (size_t r = 0; r < sizeof RESULT_COLS / sizeof *RESULT_COLS; r++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, RESULT_COLS[r]);
    if (v && !cJSON_IsNumber(v) && !cJSON_IsNull(v)) return 0;
  }
  return n >= 1 && n <= (double)max && n == floor(n) ? (long)n : 0;
}

/* A stored trial (or claim) as a point of this search's space, checked:
 * 0, or -1 when it holds values the space does not have. */
static int record_point(const tune *t, const cJSON *o, nnf_tune_point *p) {
  memset(p, 0, sizeof *p);
  for (int j = 0; j < t->space.ndims; j++) {
    const dim *d = &t->d[t->lib_dim[j]];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, d->key);
    if (d->opt_param && cJSON_IsNull(v)) {   /* does not apply: checked by same_config */
      p->x[j] = d->range ? d->lo : 0;
    } else if (d->range) {
      double x = cJSON_IsNumber(v) ? v->valuedouble : cJSON_IsString(v) ? strtod(v->valuestring, NULL) : NAN;
      double tol = 1e-9 * fmax(fabs(d->lo), fabs(d->hi));
      if (!(x >= d->lo - tol && x <= d->hi + tol)) return -1;
      p->x[j] = x;
    } else {
      int k = 0;
      int numeric = d->type == T_REAL || d->type == T_BATCH;
      while (k < d->n && !(numeric ? cJSON_IsNumber(v) && same_number(v->valuedouble, d->num[k])
                                   : cJSON_IsString(v) && !strcmp(v->valuestring, d->str[k])))
        k++;
      if (k == d->n) return -1;
      p->x[j] = k;
    }
  }
  config c;
  point_config(t, p, &c);
  return same_config(t, o, &c) ? 0 : -1;
}

/* Does a stored trial hold what this search gives trial n? Grid and random:
 * the configuration trial n always has; bayes: a point of the space (its
 * configuration was proposed from the trials recorded before it). */
static int trial_fits(const tune *t, const cJSON *o, long n) {
  nnf_tune_point p;
  if (record_point(t, o, &p)) return 0;
  if (t->strategy == NNF_TUNE_BAYES) return 1;
  config c;
  trial_config(t, n, &c);
  return same_config(t, o, &c);
}

/* (Re)load the finished trials from trials.json (with the store lock held).
 * Trials beyond this run's budget are kept (the budget grows to hold them). */
static int load_trials(tune *t) {
  char path[4096];
  join(path, sizeof path, t->dir, "trials.json");
  for (long k = 0; k < t->total; k++) {
    cJSON_Delete(t->done[k]);
    t->done[k] = NULL;
  }
  char *text = nnf_tune_store_read(&t->store, "trials.json");
  if (!text) return 0;   /* interrupted before the first trial ended */
  cJSON *root = cJSON_Parse(text), *o;
  free(text);
  cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "trials");
  long max = 0;
  cJSON_ArrayForEach(o, arr) {
    long n = trial_number(t, o);
    if (!n) {
      max = -1;
      break;
    }
    if (n > max) max = n;
  }
  if (!cJSON_IsArray(arr) || max < 0) {
    fprintf(stderr, "nnfpga tune: %s is not a trials file of this search; remove %s to start over\n", path, t->dir);
    cJSON_Delete(root);
    return EXIT_INPUT;
  }
  if (max > t->total) {
    cJSON **grown = realloc(t->done, (size_t)max * sizeof *grown);
    if (!grown) {
      cJSON_Delete(root);
      return usage_err("out of memory");
    }
    memset(grown + t->total, 0, (size_t)(max - t->total) * sizeof *grown);
    t->done = grown;
    t->total = max;
  }
  int rc = 0;
  while (!rc && (o = cJSON_DetachItemFromArray(arr, 0))) {
    long n = trial_number(t, o);
    if (!trial_fits(t, o, n) || t->done[n - 1]) {
      fprintf(stderr, "nnfpga tune: %s: trial %ld does not match the search in search.json; remove %s to start over\n",
              path, n, t->dir);
      rc = EXIT_INPUT;
      cJSON_Delete(o);
    } else {
      t->done[n - 1] = o;
    }
  }
  cJSON_Delete(root);
  return rc;
}

/* (Re)load claims.json (with the store lock held): the trials being run,
 * each {"trial": k, "worker": ID, <configuration>}. */
static int load_claims(tune *t) {
  cJSON_Delete(t->claims);
  t->claims = NULL;
  char *text = nnf_tune_store_read(&t->store, "claims.json");
  cJSON *root = text ? cJSON_Parse(text) : cJSON_CreateObject();
  free(text);
  cJSON *arr = cJSON_DetachItemFromObjectCaseSensitive(root, "claims");
  cJSON_Delete(root);
  if (!arr) arr = cJSON_CreateArray();
  const cJSON *o;
  nnf_tune_point p;
  cJSON_ArrayForEach(o, arr) {
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "worker");
    if (!trial_number(t, o) || !cJSON_IsString(w) || record_point(t, o, &p)) {
      fprintf(stderr, "nnfpga tune: %s/claims.json is not a claims file of this search; remove %s to start over\n",
              t->dir, t->dir);
      cJSON_Delete(arr);
      return EXIT_INPUT;
    }
  }
  t->claims = arr;
  return 0;
}

static int save_claims(const tune *t) {
  cJSON *root = cJSON_CreateObject();
  cJSON_AddItemReferenceToObject(root, "claims", t->claims);
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  int rc = text ? store_write(t, "claims.json", text) : -1;
  free(text);
  return rc;
}

static double num_field(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The best finished trial (highest score, then lowest number), or NULL. */
static const cJSON *best_trial(const tune *t) {
  const cJSON *best = NULL;
  for (long k = 0; k < t->total; k++) {
    double s = t->done[k] ? num_field(t->done[k], "score") : NAN;
    if (isfinite(s) && (!best || s > num_field(best, "score"))) best = t->done[k];
  }
  return best;
}

/* One CSV field of a trial (empty for null). */
static void csv_field(char *buf, size_t len, const cJSON *v, const char *fmt) {
  if (cJSON_IsString(v)) snprintf(buf, len, "%s", v->valuestring);
  else if (cJSON_IsNumber(v)) snprintf(buf, len, fmt, v->valuedouble);
  else buf[0] = 0;
}

/* A growing text buffer for render_csv: fields have no length bound (a
 * stored number prints with up to 300 digits), so it grows as it goes. */
typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} text_buf;

static void tb_printf(text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(text_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (b->oom || n < 0) {
    b->oom = 1;
    return;
  }
  if (b->len + (size_t)n + 1 > b->cap) {
    size_t cap = (b->len + (size_t)n + 1) * 2;
    char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* One CSV field of a trial (empty for null), appended after a comma. */
static void tb_field(text_buf *b, const cJSON *v, const char *fmt, int batch) {
  tb_printf(b, ",");
  if (cJSON_IsString(v)) tb_printf(b, "%s", v->valuestring);
  else if (batch && cJSON_IsNumber(v) && v->valuedouble == 0) tb_printf(b, "full");
  else if (cJSON_IsNumber(v)) tb_printf(b, fmt, v->valuedouble);
}

static char *render_csv(const tune *t) {
  text_buf b = {NULL, 0, 0, 0};
  tb_printf(&b, "trial");
  for (int i = 0; i < NDIMS; i++)
    if (!t->d[i].opt_param || t->d[i].given) tb_printf(&b, ",%s", t->d[i].key);
  for (size_t r = 0; r < sizeof RESULT_COLS / sizeof *RESULT_COLS; r++) tb_printf(&b, ",%s", RESULT_COLS[r]);
  tb_printf(&b, "\n");
  for (long k = 0; k < t->total; k++) {
    const cJSON *o = t->done[k];
    if (!o) continue;
    tb_printf(&b, "%ld", k + 1);
    for (int i = 0; i < NDIMS; i++) {
      if (t->d[i].opt_param && !t->d[i].given) continue;
      tb_field(&b, cJSON_GetObjectItemCaseSensitive(o, t->d[i].key), "%.9g", i == D_BATCH);
    }
    for (size_t r = 0; r < sizeof RESULT_COLS / sizeof *RESULT_COLS; r++)
      tb_field(&b, cJSON_GetObjectItemCaseSensitive(o, RESULT_COLS[r]), RESULT_FMT[r], 0);
    tb_printf(&b, "\n");
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* The command line that trains the best configuration fully. */
static void train_command(const tune *t, const cJSON *b, char *buf, size_t len) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "layers");
  if (t->arch) snprintf(buf, len, "nnfpga train --arch '%s' --input-shape %s", t->arch, t->input_shape);
  else snprintf(buf, len, "nnfpga train --layers %s --act %s", cJSON_IsString(v) ? v->valuestring : "?", t->act);
  for (int i = 0; i < NDIMS; i++) {
    if (t->d[i].opt_param && !t->d[i].given) continue;
    char f[128];
    v = cJSON_GetObjectItemCaseSensitive(b, t->d[i].key);
    if (i == D_HIDDEN || cJSON_IsNull(v)) continue;
    csv_field(f, sizeof f, v, "%.9g");
    if (i == D_BATCH && !strcmp(f, "0")) snprintf(f, sizeof f, "full");
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, " %s %s", t->d[i].flag, f);
  }
  size_t l = strlen(buf);
  snprintf(buf + l, len - l, " --epochs %ld --seed %ld%s%s", t->epochs, t->seed, t->use_float ? " --float" : " --device ",
           t->use_float ? "" : t->uri);
  if (t->task.kind != NNF_TASK_MULTICLASS) {
    l = strlen(buf);
    snprintf(buf + l, len - l, " --task %s --loss %s", nnf_task_name(t->task.kind), nnf_loss_name(t->task.loss));
    if (t->task.loss == NNF_LOSS_HUBER) l = strlen(buf), snprintf(buf + l, len - l, " --huber-delta %g", (double)t->task.huber_delta);
  }
}

static cJSON *best_json(const tune *t, const cJSON *b) {
  cJSON *o = cJSON_CreateObject();
  char cmd[2048];
  cJSON_AddNumberToObject(o, "trial", num_field(b, "trial"));
  cJSON_AddNumberToObject(o, "score", num_field(b, "score"));
  cJSON_AddStringToObject(o, "metric", metric_name(t));
  cJSON_AddItemToObject(o, "config", cJSON_Duplicate(b, 1));
  train_command(t, b, cmd, sizeof cmd);
  cJSON_AddStringToObject(o, "train_command", cmd);
  return o;
}

/* A scatter panel per hyperparameter that varies in the space. */
static int write_plot(const tune *t) {
  nnf_plot_var vars[NDIMS];
  double *xs[NDIMS] = {0}, *y = calloc((size_t)t->total + 1, sizeof *y);
  const char **cats[NDIMS] = {0}, **orders[NDIMS] = {0};
  int nv = 0, best = -1, rc = 0;
  const cJSON *b = best_trial(t);
  for (long k = 0; y && k < t->total; k++) {
    y[k] = t->done[k] ? num_field(t->done[k], "score") : NAN;
    if (t->done[k] == b) best = (int)k;
  }
  int varying = 0;
  for (int i = 0; i < NDIMS; i++) varying += t->d[i].range || t->d[i].n > 1;
  for (int i = 0; y && i < NDIMS; i++) {
    const dim *d = &t->d[i];
    if (!(d->range || d->n > 1) && (varying || i != D_LR)) continue;   /* nothing varies: lr alone */
    int numeric = d->type == T_REAL || d->type == T_BATCH;
    nnf_plot_var *v = &vars[nv++];
    memset(v, 0, sizeof *v);
    v->name = d->key;
    if (numeric) {
      xs[i] = calloc((size_t)t->total + 1, sizeof(double));
      double lo = INFINITY, hi = -INFINITY;
      for (long k = 0; xs[i] && k < t->total; k++) {
        xs[i][k] = t->done[k] ? num_field(t->done[k], d->key) : NAN;
        if (isfinite(xs[i][k])) lo = fmin(lo, xs[i][k]), hi = fmax(hi, xs[i][k]);
      }
      v->x = xs[i];
      v->log_x = d->log || (lo > 0 && hi / lo >= 10);
    } else {
      cats[i] = calloc((size_t)t->total + 1, sizeof(char *));
      for (long k = 0; cats[i] && k < t->total; k++) {
        const cJSON *s = t->done[k] ? cJSON_GetObjectItemCaseSensitive(t->done[k], d->key) : NULL;
        cats[i][k] = cJSON_IsString(s) ? s->valuestring : NULL;
      }
      v->cat = cats[i];
      if (!d->range) {   /* the space's order, not the trials' */
        orders[i] = calloc((size_t)d->n, sizeof(char *));
        for (int k = 0; orders[i] && k < d->n; k++) orders[i][k] = d->str[k];
        v->order = orders[i];
        v->norder = orders[i] ? d->n : 0;
      }
    }
    if (!v->x && !v->cat) rc = -1;
  }
  if (!y || rc) {
    fprintf(stderr, "nnfpga tune: out of memory drawing %s\n", t->plot);
    rc = -1;
  } else {
    char title[256], err[512];
    snprintf(title, sizeof title, "nnfpga tune: %s search, %s", nnf_tune_strategy_name(t->strategy), t->dir);
    nnf_plot_scatter_opts o = {title, metric_name(t), "trial", best, "best", 0, 0, 0};
    if (nnf_plot_scatter(t->plot, &o, vars, nv, y, (int)t->total, err, sizeof err)) {
      fprintf(stderr, "nnfpga tune: %s\n", err);
      rc = -1;
    }
  }
  for (int i = 0; i < NDIMS; i++) {
    free(xs[i]);
    free((void *)cats[i]);
    free((void *)orders[i]);
  }
  free(y);
  return rc;
}

/* trials.json, trials.csv, best.json (and the plot), each atomically. */
static int write_results(const tune *t) {
  cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "trials");
  for (long k = 0; k < t->total; k++)
    if (t->done[k]) cJSON_AddItemReferenceToArray(arr, t->done[k]);
  char *text = cJSON_Print(root), *csv = render_csv(t);
  cJSON_Delete(root);
  int rc = !text || !csv ? -1 : 0;
  if (rc) fprintf(stderr, "nnfpga tune: out of memory\n");
  if (!rc) rc = store_write(t, "trials.json", text);
  if (!rc) rc = store_write(t, "trials.csv", csv);
  free(text);
  free(csv);
  const cJSON *b = best_trial(t);
  if (!rc && b) {
    cJSON *bj = best_json(t, b);
    char *bt = cJSON_Print(bj);
    rc = bt ? store_write(t, "best.json", bt) : -1;
    free(bt);
    cJSON_Delete(bj);
  }
  if (!rc && t->plot) rc = write_plot(t);
  return rc;
}

/* ---- running trials ------------------------------------------------------------- */

typedef struct {
  cli_progress bar;
} trial_ui;

static void on_progress(void *ctx, long done, long total, const nnf_epoch_stats *e) {
  trial_ui *u = ctx;
  if (!e) cli_progress_update(&u->bar, done, total);
}

/* The network of a configuration: data inputs, hidden widths, data classes
 * (binary: one output; multilabel, regression: --targets). */
static int trial_sizes(const tune *t, const config *c, int *sizes) {
  int ns = 0;
  sizes[ns++] = (int)t->train.features;
  if (strcmp(c->str[D_HIDDEN], "none"))
    for (const char *p = c->str[D_HIDDEN]; p; p = strchr(p, 'x') ? strchr(p, 'x') + 1 : NULL)
      sizes[ns++] = atoi(p);
  int classes = t->train.classes > t->val.classes ? t->train.classes : t->val.classes;
  sizes[ns++] = t->task.kind == NNF_TASK_BINARY ? 1 : t->targets ? (int)t->targets : classes < 2 ? 2 : classes;
  return ns;
}

static int make_optimizer(const tune *t, const config *c, nnf_opt_config *oc, char *err, size_t errlen) {
  *oc = nnf_optim_defaults((nnf_opt_kind)c->num[D_OPTIM]);
  if (nnf_optim_set(oc, "lr", c->num[D_LR], err, errlen)) return -1;
  for (int i = 0; i < NDIMS; i++)
    if (t->d[i].opt_param && !c->na[i] && nnf_optim_set(oc, t->d[i].key, c->num[i], err, errlen)) return -1;
  return nnf_optim_validate(oc, err, errlen);
}

/* Train one configuration; *out gets the trial record. Returns 0, or an
 * exit code for a failure that stops the search (the device). */
static int run_trial(const tune *t, long k, const config *c, cJSON **out) {
  char err[512] = "out of memory", what[32];
  int sizes[NNF_MAX_SIZES], ns = trial_sizes(t, c, sizes);
  nnf_opt_config oc;
  nnf_epoch_stats *hist = calloc((size_t)t->epochs, sizeof *hist);
  nnf_net *net = NULL;
  if (!t->arch) net = nnf_mlp_create(sizes, ns, (nnf_act)nnf_act_parse(t->act), (uint64_t)t->seed, err, sizeof err);
  else if (cli_arch_net("tune", t->arch, t->input_shape, &net)) snprintf(err, sizeof err, "--arch refused");
  nnf_init_spec is = nnf_init_defaults((nnf_init_kind)c->num[D_INIT]);
  nnf_optim *opt = NULL;
  int rc = 0, epochs_run = 0;
  double t0 = cli_now();
  if (net) net->task = t->task;
  if (!hist || !net) rc = -1;
  else if (nnf_net_init(net, &is, (uint64_t)t->seed)) rc = -1, snprintf(err, sizeof err, "invalid --init");
  else if (make_optimizer(t, c, &oc, err, sizeof err) || !(opt = nnf_optim_create(&oc, err, sizeof err)) ||
           nnf_net_register(net, opt))
    rc = -1;
  if (!rc) {
    nnf_train_opts o = nnf_train_defaults();
    o.mode = t->use_float ? NNF_FWD_FLOAT : t->dev ? NNF_FWD_DEVICE : NNF_FWD_FAKEQUANT;
    o.eval_mode = o.mode;
    o.epochs = (int)t->epochs;
    o.batch = (int)c->num[D_BATCH];
    o.seed = (uint64_t)t->seed;
    o.history = hist;
    o.epochs_run = &epochs_run;
    trial_ui ui;
    snprintf(what, sizeof what, "trial %ld/%ld", k, t->total);
    cli_progress_init(&ui.bar, what, !t->quiet && !t->json && t->jobs == 1);
    o.progress = on_progress;
    o.progress_ctx = &ui;
    rc = nnf_train(net, opt, t->dev, &t->train, &t->val, NULL, &o, err, sizeof err);
    cli_progress_end(&ui.bar);
  }
  if (rc) {
    fprintf(stderr, "nnfpga tune: trial %ld: %s\n", k, err);
    rc = t->dev ? EXIT_DEVICE : EXIT_INPUT;
  } else {
    int be = 0;
    for (int e = 0; e < epochs_run; e++)
      if (!be || score_of(t, hist[e].val_acc) > score_of(t, hist[be - 1].val_acc)) be = e + 1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "trial", (double)k);
    add_config(t, o, c, sizes, ns);
    cJSON_AddNumberToObject(o, "score", score_of(t, hist[be - 1].val_acc));
    cJSON_AddNumberToObject(o, "best_epoch", be);
    cJSON_AddNumberToObject(o, "epochs", epochs_run);
    cJSON_AddNumberToObject(o, "train_loss", hist[epochs_run - 1].loss);
    cJSON_AddNumberToObject(o, "train_accuracy", hist[epochs_run - 1].train_acc);
    cJSON_AddNumberToObject(o, "seconds", round((cli_now() - t0) * 1000) / 1000);
    cJSON *va = cJSON_AddArrayToObject(o, "val_accuracy");
    for (int e = 0; e < epochs_run; e++) cJSON_AddItemToArray(va, cJSON_CreateNumber(hist[e].val_acc));
    *out = o;
  }
  nnf_optim_destroy(opt);
  nnf_net_free(net);
  free(hist);
  return rc;
}

static void trial_line(const tune *t, long k, const config *c, const cJSON *o) {
  if (t->quiet || t->json || !isatty(2)) return;
  char desc[512];
  config_text(t, c, desc, sizeof desc);
  const cJSON *b = best_trial(t);
  char sc[64], sb[64];
  score_text(t, num_field(o, "score"), sc, sizeof sc);
  score_text(t, num_field(b, "score"), sb, sizeof sb);
  fprintf(stderr, "trial %ld/%ld  %s  -> val %s  (best %s, trial %.0f)  %.1f s\n", k, t->total, desc, sc, sb,
          num_field(b, "trial"), num_field(o, "seconds"));
}

/* The finished trials and pending claims before trial k as points, for a
 * Bayesian proposal; claims of dead workers are not pending. */
static int propose(tune *t, long k, config *c) {
  long n = 0, np = 0, cap = (long)cJSON_GetArraySize(t->claims) + 1;
  for (long i = 0; i < t->total && i < k - 1; i++) n += t->done[i] != NULL;
  nnf_tune_point *pts = calloc((size_t)(n + 1), sizeof *pts), *pend = calloc((size_t)cap, sizeof *pend), p;
  double *score = calloc((size_t)(n + 1), sizeof *score);
  int rc = !pts || !pend || !score ? -1 : 0;
  n = 0;
  for (long i = 0; !rc && i < t->total && i < k - 1; i++)
    if (t->done[i] && !record_point(t, t->done[i], &pts[n])) score[n++] = num_field(t->done[i], "score");
  const cJSON *o;
  cJSON_ArrayForEach(o, t->claims) {
    if (rc || trial_number(t, o) >= k) continue;
    if (nnf_tune_worker_alive(&t->store, cJSON_GetObjectItemCaseSensitive(o, "worker")->valuestring) &&
        !record_point(t, o, &pend[np]))
      np++;
  }
  nnf_tune_opts opts = nnf_tune_defaults();
  opts.strategy = t->strategy;
  opts.seed = (uint64_t)t->seed;
  opts.init = (int)t->init_trials;
  if (!rc) rc = nnf_tune_propose(&t->space, &opts, t->order, k, pts, score, (int)n, pend, (int)np, &p);
  if (!rc) point_config(t, &p, c);
  free(pts), free(pend), free(score);
  return rc ? usage_err("out of memory") : 0;
}

/* With the store lock held: the next trial for this worker, claimed in
 * claims.json; *k = 0 when none is left. A claim of a dead worker (its
 * DIR/workers/ file unlocked) is taken over with its configuration; else
 * the lowest trial number neither finished nor claimed. */
static int claim_next(tune *t, long *k, config *c) {
  *k = 0;
  cJSON *o, *next;
  /* claims of finished trials (a worker that died between the two writes) go */
  for (o = t->claims ? t->claims->child : NULL; o; o = next) {
    next = o->next;
    long n = trial_number(t, o);
    if (n <= t->total && t->done[n - 1]) cJSON_Delete(cJSON_DetachItemViaPointer(t->claims, o));
  }
  for (long n = 1; n <= t->total && !*k; n++) {
    if (t->done[n - 1]) continue;
    cJSON *claim = NULL;
    cJSON_ArrayForEach(o, t->claims)
      if (trial_number(t, o) == n) claim = o;
    if (!claim) {
      *k = n;
      int rc = t->strategy == NNF_TUNE_BAYES ? propose(t, n, c) : (trial_config(t, n, c), 0);
      if (rc) return rc;
      claim = cJSON_CreateObject();
      cJSON_AddNumberToObject(claim, "trial", (double)n);
      cJSON_AddStringToObject(claim, "worker", t->store.worker);
      int sizes[NNF_MAX_LAYERS + 1], ns = trial_sizes(t, c, sizes);
      add_config(t, claim, c, sizes, ns);
      cJSON_AddItemToArray(t->claims, claim);
    } else if (!nnf_tune_worker_alive(&t->store, cJSON_GetObjectItemCaseSensitive(claim, "worker")->valuestring)) {
      nnf_tune_point p;
      *k = n;
      record_point(t, claim, &p);   /* checked by load_claims */
      point_config(t, &p, c);
      cJSON_ReplaceItemInObjectCaseSensitive(claim, "worker", cJSON_CreateString(t->store.worker));
    }
  }
  return *k && save_claims(t) ? EXIT_INPUT : 0;
}

static int lock_and_load(tune *t) {
  if (nnf_tune_store_lock(&t->store)) {
    fprintf(stderr, "nnfpga tune: cannot lock %s/.lock: %s\n", t->dir, strerror(errno));
    return EXIT_INPUT;
  }
  int rc = load_trials(t);
  if (!rc) rc = load_claims(t);
  if (rc) nnf_tune_store_unlock(&t->store);
  return rc;
}

/* One worker: claim a trial, run it, record it, until none is left. */
static int run_search(tune *t, long *ran) {
  char err[4600];
  *ran = 0;
  int rc = lock_and_load(t);
  if (rc) return rc;
  if (nnf_tune_worker_start(&t->store, err, sizeof err)) {
    fprintf(stderr, "nnfpga tune: %s\n", err);
    nnf_tune_store_unlock(&t->store);
    return EXIT_INPUT;
  }
  nnf_tune_store_unlock(&t->store);
  while (!rc && !(t->shared && t->shared->stop)) {
    long k;
    config c;
    if ((rc = lock_and_load(t))) break;
    rc = claim_next(t, &k, &c);
    nnf_tune_store_unlock(&t->store);
    if (rc || !k) break;
    cJSON *o = NULL;
    if ((rc = run_trial(t, k, &c, &o))) break;   /* the claim stays: run again on resume */
    if ((rc = lock_and_load(t))) {
      cJSON_Delete(o);
      break;
    }
    if (k > t->total || t->done[k - 1]) {
      cJSON_Delete(o);   /* cannot happen while claims hold; keep the first record */
    } else {
      t->done[k - 1] = o;
      (*ran)++;
    }
    cJSON *next;
    for (cJSON *q = t->claims->child; q; q = next) {
      next = q->next;
      if (trial_number(t, q) == k) cJSON_Delete(cJSON_DetachItemViaPointer(t->claims, q));
    }
    if (write_results(t) || save_claims(t)) rc = EXIT_INPUT;
    else trial_line(t, k, &c, t->done[k - 1]);
    nnf_tune_store_unlock(&t->store);
  }
  nnf_tune_worker_end(&t->store);
  return rc;
}

/* --jobs N: N worker processes, each with its own device. */
static int run_jobs(tune *t, long *ran) {
  pid_t pids[MAX_JOBS];
  *ran = 0;
  t->shared = mmap(NULL, sizeof *t->shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (t->shared == MAP_FAILED) {
    t->shared = NULL;
    return usage_err("cannot share memory with --jobs workers: %s", strerror(errno));
  }
  memset((void *)t->shared, 0, sizeof *t->shared);
  nnf_device_close(t->dev);   /* each worker opens its own */
  t->dev = NULL;
  fflush(NULL);
  int rc = 0;
  long started = 0;
  for (; started < t->jobs; started++) {
    pid_t pid = fork();
    if (pid < 0) {
      rc = usage_err("cannot start worker %ld: %s", started + 1, strerror(errno));
      t->shared->stop = 1;
      break;
    }
    if (pid == 0) {
      /* flock belongs to the open file: a worker needs its own, not the parent's */
      char err[4600];
      long n = 0;
      nnf_tune_store_close(&t->store);
      int wrc = nnf_tune_store_open(&t->store, t->dir, err, sizeof err) ? EXIT_INPUT : 0;
      if (wrc) fprintf(stderr, "nnfpga tune: %s\n", err);
      if (!wrc && !t->use_float) wrc = cli_open_device("tune", t->uri, &t->dev);
      if (!wrc) wrc = run_search(t, &n);
      t->shared->ran[started] = n;
      if (wrc) t->shared->stop = 1;
      fflush(NULL);
      _exit(wrc);
    }
    pids[started] = pid;
  }
  for (long j = 0; j < started; j++) {
    int st;
    while (waitpid(pids[j], &st, 0) < 0 && errno == EINTR) {
    }
    int wrc = WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_DEVICE;
    if (!rc) rc = wrc;
    *ran += t->shared->ran[j];
  }
  munmap((void *)t->shared, sizeof *t->shared);
  t->shared = NULL;
  return rc;
}

/* ---- the command ---------------------------------------------------------------- */

static void usage_tune(FILE *f) {
  fprintf(f,
          "usage: nnfpga tune --dir DIR [SPACE] [OPTIONS]\n"
          "\n"
          "Hyperparameter search: trains one network per trial on the training set minus a\n"
          "validation split (the same split for every trial) and scores each by its best\n"
          "validation accuracy. Writes DIR/trials.csv, DIR/trials.json and DIR/best.json\n"
          "after every trial; a search interrupted or extended (--trials) resumes in DIR\n"
          "without repeating finished trials. Several runs (--jobs, or other machines\n"
          "sharing DIR) work one search together; see docs/tune.md.\n"
          "\n"
          "space (a list a,b,c is searched by grid or sampled; a range by random or bayes):\n"
          "  --lr L             learning rates, e.g. 1e-3,3e-3,1e-2 or log:1e-4:1e-1 (default 0.001)\n"
          "  --batch L          batch sizes, e.g. 32,64 ('full': the whole set; default 64)\n"
          "  --hidden L         hidden widths: 64,128 (one hidden layer), 128x64 (two), none;\n"
          "                     a range such as log:16:256 (default 128)\n"
          "  --arch A           instead of --hidden: one network for every trial, as nnfpga train\n"
          "                     --arch takes it (conv(8,5,pad=2),relu,maxpool(2),flatten,dense(10));\n"
          "                     --input-shape C,H,W (default 1,28,28)\n"
          "  --optimizer L      sgd, adagrad, rmsprop, adam, adamw (default adam)\n"
          "  --momentum L, --dampening L, --weight-decay L, --alpha L, --beta1 L, --beta2 L,\n"
          "  --eps L, --lr-decay L\n"
          "                     optimizer parameters (used by the optimizers that have them)\n"
          "  --init L           default, zeros, uniform, normal, xavier_uniform, xavier_normal,\n"
          "                     kaiming_uniform, kaiming_normal (default: default)\n"
          "  ranges: log:LO:HI (log-uniform) or lin:LO:HI (uniform); integer sizes are rounded\n"
          "\n"
          "search:\n"
          "  --search S         grid (every combination; the default for lists), random\n"
          "                     (the default when a range is given) or bayes (Bayesian\n"
          "                     optimisation: a Gaussian process and expected improvement)\n"
          "  --trials N         budget; grid: the first N of a seeded shuffle of the grid\n"
          "                     (default: the whole grid); random, bayes: N trials (default 20)\n"
          "  --init-trials N    bayes: random trials before the model takes over (default 5)\n"
          "  --jobs N           run N trials at a time in worker processes (default 1; each\n"
          "                     opens its own device, so not with a board)\n"
          "  --seed N           the search's order and draws, initialisation, shuffling and\n"
          "                     the validation split (default 1)\n"
          "  --dir DIR          where the results go (default tune); a search already there\n"
          "                     with the same space resumes, a different one is refused\n"
          "  --resume           insist on resuming a search in DIR\n"
          "  --plot FILE.svg    each trial's score against each hyperparameter\n"
          "\n"
          "training (the same for every trial):\n"
          "  --epochs N         (default 5)\n"
          "  --act A            hidden activation: relu (default), relu6, sigmoid, tanh, none\n"
          "  --val-split F      validation fraction of the training set (default 0.1)\n"
          "  --data DIR         IDX files in MNIST layout (default " NNF_FASHION_DEFAULT ")\n"
          "  --train-csv F      CSV data instead (--label-col N, default 0; -1 = last)\n"
          "  --task T, --loss L the task and loss as for train (default multiclass, ce); the score\n"
          "                     is the task's best validation figure (regression: minus the MSE)\n"
          "  --targets N        multilabel / regression: N target columns from --label-col on\n"
          "  --huber-delta X    with --loss huber\n"
          "  --limit N          the first N training samples only\n"
          "  --device URI       model (default), sim, host, serial:..., usb...\n"
          "  --float            train in float without quantization\n"
          "\n"
          "  --json             a JSON summary on stdout\n"
          "  --quiet            no progress on the terminal\n"
          "\n"
          "exit codes: 0 success, 1 the device failed, 2 bad usage (or a different search in\n"
          "DIR), 3 bad input (data or result files that cannot be used)\n");
}

static int parse_args(tune *t, int argc, char **argv) {
  const char *search = NULL, *val_split = "0.1";
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int g, matched = 0;
#define TSTR(flag, var) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; var = v; continue; }
#define TINT(flag, var, lo, hi) if ((g = cli_opt(argc, argv, &i, flag, &v)) != 0) { if (g < 0) goto missing; if (cli_int("tune", flag, v, lo, hi, &var)) return EXIT_USAGE; continue; }
    TSTR("--dir", t->dir) TSTR("--data", t->data) TSTR("--train-csv", t->csv) TSTR("--device", t->uri)
    TSTR("--act", t->act) TSTR("--arch", t->arch) TSTR("--input-shape", t->input_shape) TSTR("--plot", t->plot) TSTR("--search", search) TSTR("--val-split", val_split)
    TINT("--epochs", t->epochs, 1, 100000) TINT("--seed", t->seed, 0, 0x7fffffffL)
    TINT("--limit", t->limit, 0, 0x7fffffffL) TINT("--label-col", t->label_col, -1, 100000)
    TINT("--trials", t->trials, 1, 1000000) TINT("--init-trials", t->init_trials, 1, 100000)
    TINT("--jobs", t->jobs, 1, MAX_JOBS) TINT("--targets", t->targets, 1, 65535)
    TSTR("--task", t->task_s) TSTR("--loss", t->loss_s) TSTR("--huber-delta", t->delta_s)
    for (int d = 0; d < NDIMS && !matched; d++) {
      if ((g = cli_opt(argc, argv, &i, t->d[d].flag, &v)) == 0) continue;
      if (g < 0) goto missing;
      if (t->d[d].given) return usage_err("%s given twice", t->d[d].flag);
      t->d[d].spec = v;
      t->d[d].given = 1;
      matched = 1;
    }
    if (matched) continue;
    if (!strcmp(argv[i], "--json")) { t->json = 1; continue; }
    if (!strcmp(argv[i], "--quiet")) { t->quiet = 1; continue; }
    if (!strcmp(argv[i], "--resume")) { t->resume = 1; continue; }
    if (!strcmp(argv[i], "--float")) { t->use_float = 1; continue; }
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage_tune(stdout); return -1; }
    fprintf(stderr, "nnfpga tune: unknown option '%s' (see nnfpga tune --help)\n", argv[i]);
    return EXIT_USAGE;
  missing:
    return usage_err("%s needs a value", argv[i]);
  }
  if (parse_real(val_split, &t->val_split) || !(t->val_split > 0 && t->val_split < 1))
    return usage_err("--val-split wants a fraction between 0 and 1, not '%s'", val_split);
  if (nnf_act_parse(t->act) < 0)
    return usage_err("unknown activation '%s' (relu, relu6, sigmoid, tanh, none)", t->act);
  if (t->data && t->csv) return usage_err("--data and --train-csv are exclusive");
  if (t->arch) {
    nnf_net *probe = NULL;
    int rc_arch;
    if (t->d[D_HIDDEN].given) return usage_err("--arch gives the whole network: not with --hidden");
    if ((rc_arch = cli_arch_net("tune", t->arch, t->input_shape, &probe))) return rc_arch;
    nnf_net_free(probe);
  }
  int task_k = t->task_s ? nnf_task_parse(t->task_s) : NNF_TASK_MULTICLASS, rc_task;
  int outs = task_k == NNF_TASK_BINARY ? 1 : task_k >= 0 && nnf_task_uses_targets((nnf_task_kind)task_k) ? (int)t->targets : 2;
  if (task_k >= 0 && nnf_task_uses_targets((nnf_task_kind)task_k) && !t->targets)
    return usage_err("--task %s needs --targets N (the target columns, one per output)", t->task_s);
  if (t->targets && (task_k < 0 || !nnf_task_uses_targets((nnf_task_kind)task_k)))
    return usage_err("--targets is for --task multilabel or regression");
  if ((rc_task = cli_task("tune", t->task_s, t->loss_s, t->delta_s, outs, &t->task))) return rc_task;
  int any_range = 0;
  for (int d = 0; d < NDIMS; d++) {
    if (!t->d[d].spec) continue;
    int rc = parse_dim(&t->d[d]);
    if (rc) return rc;
    any_range |= t->d[d].range;
  }
  if (search && nnf_tune_strategy_parse(search) < 0)
    return usage_err("--search is grid, random or bayes, not '%s'", search);
  t->strategy = search ? (nnf_tune_strategy)nnf_tune_strategy_parse(search) : any_range ? NNF_TUNE_RANDOM : NNF_TUNE_GRID;
  if (t->init_trials && t->strategy != NNF_TUNE_BAYES) return usage_err("--init-trials goes with --search bayes");
  if (!t->init_trials) t->init_trials = 5;
  if (t->jobs > 1 && !t->use_float && (!strncmp(t->uri, "serial", 6) || !strncmp(t->uri, "usb", 3)))
    return usage_err("--jobs %ld: each worker opens its own device, and %s is one board; use --jobs 1", t->jobs,
                     t->uri);
  if (t->strategy == NNF_TUNE_GRID && any_range)
    for (int d = 0; d < NDIMS; d++)
      if (t->d[d].range)
        return usage_err("%s %s is a range: grid search needs lists (or use --search random)", t->d[d].flag,
                         t->d[d].spec);
  return check_opt_params(t);
}

static int load_data(tune *t) {
  nnf_dataset all = {0};
  char err[512];
  if (cli_load_data("tune", t->data, t->csv, (int)t->label_col, -1, (int)t->targets, 1, t->limit, &all)) return EXIT_INPUT;
  int rc = 0;
  if (nnf_dataset_split(&all, t->val_split, (uint64_t)t->seed, &t->train, &t->val, err, sizeof err)) {
    fprintf(stderr, "nnfpga tune: --val-split %g: %s\n", t->val_split, err);
    rc = EXIT_INPUT;
  }
  nnf_dataset_free(&all);
  return rc;
}

/* finished: the trials in the store now (other workers' too); running: the
 * trials other live workers hold. */
static void summary(const tune *t, long finished, long running, long resumed, long ran, double seconds) {
  const cJSON *b = best_trial(t);
  char path[4096];
  if (t->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "dir", t->dir);
    cJSON_AddStringToObject(o, "search", nnf_tune_strategy_name(t->strategy));
    cJSON_AddNumberToObject(o, "trials", (double)finished);
    cJSON_AddNumberToObject(o, "resumed", (double)resumed);
    cJSON_AddNumberToObject(o, "run", (double)ran);
    cJSON_AddNumberToObject(o, "running", (double)running);
    cJSON_AddNumberToObject(o, "jobs", (double)t->jobs);
    cJSON_AddNumberToObject(o, "seconds", seconds);
    if (b) cJSON_AddItemToObject(o, "best", best_json(t, b));
    else cJSON_AddNullToObject(o, "best");
    cli_json_emit(o);
    return;
  }
  printf("%ld trials (%ld from before, %ld run now", finished, resumed, ran);
  if (running) printf("; %ld still running in other workers", running);
  printf(") in %.1f s\n", seconds);
  if (b) {
    config c;
    nnf_tune_point p;
    record_point(t, b, &p);
    point_config(t, &p, &c);
    char desc[512];
    config_text(t, &c, desc, sizeof desc);
    char sb[64];
    score_text(t, num_field(b, "score"), sb, sizeof sb);
    printf("best: trial %.0f, validation %s%s: %s\n", num_field(b, "trial"),
           t->task.kind == NNF_TASK_REGRESSION ? "" : t->task.kind == NNF_TASK_MULTILABEL ? "per-label accuracy " : "accuracy ",
           sb, desc);
  }
  join(path, sizeof path, t->dir, "");
  printf("wrote %strials.csv, %strials.json, %sbest.json%s%s\n", path, path, path, t->plot ? ", " : "",
         t->plot ? t->plot : "");
}

static void tune_free(tune *t) {
  for (long k = 0; t->done && k < t->total; k++) cJSON_Delete(t->done[k]);
  free(t->done);
  free(t->order);
  nnf_dataset_free(&t->train);
  nnf_dataset_free(&t->val);
  nnf_device_close(t->dev);
  cJSON_Delete(t->claims);
  nnf_tune_store_close(&t->store);
}

int cmd_tune(int argc, char **argv) {
  tune t;
  memset(&t, 0, sizeof t);
  t.dir = "tune";
  t.uri = "model";
  t.act = "relu";
  t.input_shape = "1,28,28";
  t.epochs = 5;
  t.seed = 1;
  t.jobs = 1;
  t.store.lock_fd = t.store.worker_fd = -1;
  memcpy(t.d, DIM_DEFS, sizeof t.d);
  for (int i = 0; i < NDIMS; i++) t.d[i].spec = t.d[i].def;
  int rc = parse_args(&t, argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  build_space(&t);
  if (t.strategy != NNF_TUNE_GRID) t.total = t.trials ? t.trials : 20;
  else if ((rc = build_grid(&t))) return rc;
  int resuming = 0;
  long resumed = 0, ran = 0, finished = 0, running = 0;
  double t0 = cli_now();
  char path[4096], err[4600];
  join(path, sizeof path, t.dir, "search.json");
  if (t.resume && access(path, F_OK)) rc = usage_err("--resume: %s holds no search (no %s)", t.dir, path);
  if (!rc && !(t.done = calloc((size_t)t.total, sizeof *t.done))) rc = usage_err("out of memory");
  /* data and device first: nothing is written in DIR for a search that cannot run */
  if (!rc) rc = load_data(&t);
  if (!rc && !t.use_float) rc = cli_open_device("tune", t.uri, &t.dev);
  if (!rc && nnf_tune_store_open(&t.store, t.dir, err, sizeof err)) {
    fprintf(stderr, "nnfpga tune: %s\n", err);
    rc = EXIT_INPUT;
  }
  if (!rc && nnf_tune_store_lock(&t.store)) rc = usage_err("cannot lock %s/.lock: %s", t.dir, strerror(errno));
  if (!rc) {
    rc = check_search(&t, &resuming);
    if (!rc && resuming) rc = load_trials(&t);
    nnf_tune_store_unlock(&t.store);
  }
  for (long k = 0; !rc && k < t.total; k++) resumed += t.done[k] != NULL;
  if (!rc && !t.quiet && !t.json && isatty(2))
    fprintf(stderr, "%s search in %s: %ld trials%s%ld done%s\n", nnf_tune_strategy_name(t.strategy), t.dir, t.total,
            resumed ? ", resuming: " : ", ", resumed, t.jobs > 1 ? ", in parallel workers" : "");
  if (!rc) rc = t.jobs > 1 ? run_jobs(&t, &ran) : run_search(&t, &ran);
  if (!rc) rc = lock_and_load(&t);
  if (!rc) {
    const cJSON *o;
    cJSON_ArrayForEach(o, t.claims)
      running += nnf_tune_worker_alive(&t.store, cJSON_GetObjectItemCaseSensitive(o, "worker")->valuestring);
    if (!ran && write_results(&t)) rc = EXIT_INPUT;   /* e.g. a plot asked for afterwards */
    nnf_tune_store_unlock(&t.store);
  }
  for (long k = 0; !rc && k < t.total; k++) finished += t.done[k] != NULL;
  if (!rc) summary(&t, finished, running, resumed, ran, cli_now() - t0);
  tune_free(&t);
  return rc;
}
