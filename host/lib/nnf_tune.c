/*
 * nnf_tune.c - search strategies and the results store of `nnfpga tune`
 * (see nnf_tune.h). Depends on nnf_gp (the model) and nnf_data's seeded
 * shuffle only: nothing here trains.
 *
 * Bayesian optimisation, per proposal (trial k > init):
 *   1. encode the finished and pending trials into [0,1]^c (nnf_tune_encode);
 *      pending trials get the best finished score (constant liar);
 *   2. fit a Matern 5/2 GP, one length scale per space dimension, by
 *      maximising the marginal likelihood over a fixed grid (nnf_gp_fit_auto);
 *   3. score by expected improvement: every grid entry when the space is a
 *      small set of lists, else `candidates` random points plus local
 *      perturbations of the five best trials, then three rounds of finer
 *      perturbations of the best candidate; points already done or pending
 *      are skipped. All draws come from a generator seeded by (seed, k).
 */
#include "nnf_tune.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnf_data.h"
#include "nnf_gp.h"
#include "nnf_util.h"

#define MAX_COLS NNF_GP_MAX_D

nnf_tune_opts nnf_tune_defaults(void) {
  nnf_tune_opts o = {NNF_TUNE_RANDOM, 1, 5, 2000, 0.01};
  return o;
}

static const char *const STRATEGY[] = {"grid", "random", "bayes"};

const char *nnf_tune_strategy_name(nnf_tune_strategy s) {
  return (unsigned)s < 3 ? STRATEGY[s] : "?";
}

int nnf_tune_strategy_parse(const char *name) {
  for (int i = 0; i < 3; i++)
    if (name && !strcmp(name, STRATEGY[i])) return i;
  return -1;
}

/* ---- draws ----------------------------------------------------------------------- */

/* The library's generator (nnf_util.h), 53 bits for a double in [0, 1). */
static double uniform01(uint64_t *s) { return (double)(nnf_rng_next(s) >> 11) * 0x1.0p-53; }

static double gauss(uint64_t *s) {
  double u = uniform01(s), v = uniform01(s);
  return sqrt(-2 * log(u > 0 ? u : 0x1.0p-53)) * cos(6.283185307179586 * v);
}

/* Range value at unit position u (log or linear), rounded as the dim says. */
static double range_value(const nnf_tune_dim *d, double u) {
  double v = d->log ? exp(log(d->lo) + u * (log(d->hi) - log(d->lo))) : d->lo + u * (d->hi - d->lo);
  if (d->kind == NNF_TDIM_INT) return fmin(fmax(round(v), d->lo), d->hi);
  if (d->digits > 0) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", d->digits, v);
    v = strtod(buf, NULL);
  }
  return v;
}

/* Unit position of range value v. */
static double range_unit(const nnf_tune_dim *d, double v) {
  if (!(d->hi > d->lo)) return 0;
  double u = d->log ? (log(v) - log(d->lo)) / (log(d->hi) - log(d->lo)) : (v - d->lo) / (d->hi - d->lo);
  return fmin(fmax(u, 0), 1);
}

static void draw_point(const nnf_tune_space *s, uint64_t *rng, nnf_tune_point *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < s->ndims; i++) {
    const nnf_tune_dim *d = &s->dim[i];
    if (d->kind == NNF_TDIM_LIST) out->x[i] = (double)(nnf_rng_next(rng) % (uint64_t)(d->n > 0 ? d->n : 1));
    else out->x[i] = range_value(d, uniform01(rng));
  }
}

void nnf_tune_random(const nnf_tune_space *s, uint64_t seed, long k, nnf_tune_point *out) {
  uint64_t rng = seed * 0xD1B54A32D192ED03ull ^ (uint64_t)k * 0x9E3779B97F4A7C15ull;
  draw_point(s, &rng, out);
}

/* ---- grid ------------------------------------------------------------------------ */

static long radix(const nnf_tune_dim *d) { return d->kind == NNF_TDIM_LIST && d->n > 1 ? d->n : 1; }

void nnf_tune_grid_point(const nnf_tune_space *s, long entry, nnf_tune_point *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < s->ndims; i++) {
    long n = radix(&s->dim[i]);
    out->x[i] = (double)(entry % n);
    entry /= n;
  }
}

/* 0 if the point repeats another with the same applying values (a dim
 * that does not apply at other than its first value). */
static int canonical(const nnf_tune_space *s, const nnf_tune_point *p) {
  int na[NNF_TUNE_MAX_DIMS] = {0};
  if (s->inactive) s->inactive(s->ctx, p->x, na);
  for (int i = 0; i < s->ndims; i++)
    if (na[i] && p->x[i] != 0 && s->dim[i].kind == NNF_TDIM_LIST) return 0;
  return 1;
}

static long grid_size(const nnf_tune_space *s, long max) {
  long g = 1;
  for (int i = 0; i < s->ndims; i++) {
    long n = radix(&s->dim[i]);
    if (g > max / n) return -1;
    g *= n;
  }
  return g;
}

int nnf_tune_grid_order(const nnf_tune_space *s, uint64_t seed, long max, uint32_t **order, long *n) {
  *order = NULL;
  *n = 0;
  long g = grid_size(s, max);
  if (g < 0) return -2;
  uint32_t *o = malloc((size_t)g * sizeof *o);
  if (!o) return -1;
  nnf_shuffle(o, (size_t)g, seed ^ 0x67726964ull);
  long m = 0;
  nnf_tune_point p;
  for (long k = 0; k < g; k++) {
    nnf_tune_grid_point(s, (long)o[k], &p);
    if (canonical(s, &p)) o[m++] = o[k];
  }
  *order = o;
  *n = m;
  return 0;
}

/* ---- the model's view -------------------------------------------------------------- */

/* Columns of dim i (0 for a constant one) and its group. */
static int dim_cols(const nnf_tune_dim *d) {
  if (d->kind != NNF_TDIM_LIST) return d->hi > d->lo ? 1 : 0;
  if (d->n < 2) return 0;
  return d->categorical ? d->n : 1;
}

static double list_unit(const nnf_tune_dim *d, int idx) {
  double lo = INFINITY, hi = -INFINITY;
  for (int j = 0; j < d->n; j++) {
    double v = d->log ? log(d->num[j]) : d->num[j];
    lo = fmin(lo, v), hi = fmax(hi, v);
  }
  double v = d->log ? log(d->num[idx]) : d->num[idx];
  return hi > lo ? (v - lo) / (hi - lo) : 0;
}

int nnf_tune_encode(const nnf_tune_space *s, const nnf_tune_point *p, double *v, int vlen) {
  int na[NNF_TUNE_MAX_DIMS] = {0}, c = 0;
  if (s->inactive) s->inactive(s->ctx, p->x, na);
  for (int i = 0; i < s->ndims; i++) {
    const nnf_tune_dim *d = &s->dim[i];
    int nc = dim_cols(d);
    if (c + nc > vlen) return c;
    for (int j = 0; j < nc; j++) v[c + j] = 0;
    if (nc && !na[i]) {
      int idx = (int)p->x[i];
      if (d->kind != NNF_TDIM_LIST) v[c] = range_unit(d, p->x[i]);
      else if (d->categorical) v[c + idx] = 1;
      else v[c] = list_unit(d, idx);
    }
    c += nc;
  }
  return c;
}

/* ---- Bayesian optimisation ------------------------------------------------------------ */

/* A neighbour of p: each dim moved with probability 1/2 (at least one):
 * ranges by a Gaussian step of sd in unit space, ordered lists one step,
 * names to another name. */
static void perturb(const nnf_tune_space *s, const nnf_tune_point *p, double sd, uint64_t *rng, nnf_tune_point *out) {
  *out = *p;
  int moved = 0, forced = (int)(nnf_rng_next(rng) % (uint64_t)s->ndims);
  for (int i = 0; i < s->ndims; i++) {
    const nnf_tune_dim *d = &s->dim[i];
    if (!dim_cols(d) || (!(nnf_rng_next(rng) & 1) && !(i == forced && !moved))) continue;
    if (d->kind != NNF_TDIM_LIST) {
      out->x[i] = range_value(d, fmin(fmax(range_unit(d, p->x[i]) + sd * gauss(rng), 0), 1));
    } else if (d->categorical) {
      out->x[i] = (double)(((long)p->x[i] + 1 + (long)(nnf_rng_next(rng) % (uint64_t)(d->n - 1))) % d->n);
    } else {
      long j = (long)p->x[i] + ((nnf_rng_next(rng) & 1) ? 1 : -1);
      out->x[i] = (double)(j < 0 ? 1 : j >= d->n ? d->n - 2 : j);
    }
    moved = 1;
  }
}

typedef struct {
  const nnf_tune_space *s;
  nnf_gp *gp;
  const double *seen;      /* encoded done + pending rows */
  int nseen, ncols;
  double best, xi;
  /* the best candidate so far */
  nnf_tune_point arg;
  double ei, ucb;
  int found;
  nnf_tune_point arg_ucb;
} acq;

/* Score candidate p; keep it if it is new and better. */
static void consider(acq *a, const nnf_tune_point *p) {
  double v[MAX_COLS];
  int c = nnf_tune_encode(a->s, p, v, MAX_COLS);
  for (int r = 0; r < a->nseen; r++) {
    const double *row = a->seen + (size_t)r * a->ncols;
    int same = 1;
    for (int j = 0; j < c && same; j++) same = fabs(row[j] - v[j]) < 1e-12;
    if (same) return;
  }
  double mu, sd;
  nnf_gp_predict(a->gp, v, &mu, &sd);
  double ei = nnf_gp_ei(mu, sd, a->best, a->xi), ucb = mu + 2 * sd;
  if (!a->found || ei > a->ei) a->ei = ei, a->arg = *p;
  if (!a->found || ucb > a->ucb) a->ucb = ucb, a->arg_ucb = *p;
  a->found = 1;
}

int nnf_tune_propose(const nnf_tune_space *s, const nnf_tune_opts *o, const uint32_t *order, long k,
                     const nnf_tune_point *done, const double *score, int ndone, const nnf_tune_point *pending,
                     int npending, nnf_tune_point *out) {
  if (o->strategy == NNF_TUNE_GRID) {
    nnf_tune_grid_point(s, (long)order[k - 1], out);
    return 0;
  }
  if (o->strategy == NNF_TUNE_RANDOM || k <= (o->init > 0 ? o->init : 1) || ndone < 2 || !s->ndims) {
    nnf_tune_random(s, o->seed, k, out);
    return 0;
  }
  int n = ndone + npending, ncols = 0;
  nnf_gp gp;
  memset(&gp, 0, sizeof gp);
  for (int i = 0; i < s->ndims; i++) {
    int nc = dim_cols(&s->dim[i]);
    if (ncols + nc > MAX_COLS) return -1;
    for (int j = 0; j < nc; j++) gp.group[ncols + j] = gp.ngroups;
    if (nc) gp.ngroups++;
    ncols += nc;
  }
  if (!ncols) {   /* nothing varies */
    nnf_tune_random(s, o->seed, k, out);
    return 0;
  }
  gp.d = ncols;
  double *X = malloc((size_t)n * ncols * sizeof *X), *y = malloc((size_t)n * sizeof *y);
  if (!X || !y) {
    free(X), free(y);
    return -1;
  }
  double best = -INFINITY;
  for (int r = 0; r < ndone; r++) best = fmax(best, score[r]);
  for (int r = 0; r < n; r++) {
    nnf_tune_encode(s, r < ndone ? &done[r] : &pending[r - ndone], X + (size_t)r * ncols, ncols);
    y[r] = r < ndone ? score[r] : best;   /* the constant liar */
  }
  int rc = nnf_gp_fit_auto(&gp, X, y, n);
  if (rc) {
    free(X), free(y);
    nnf_gp_free(&gp);
    return -1;
  }
  acq a = {s, &gp, X, n, ncols, best, o->xi * gp.ystd, {{0}}, 0, 0, 0, {{0}}};
  uint64_t rng = o->seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)k * 0xD1B54A32D192ED03ull ^ 0x6261796573ull;
  nnf_tune_point p, q;
  int ncand = o->candidates > 0 ? o->candidates : 2000;
  int all_lists = 1;
  for (int i = 0; i < s->ndims; i++) all_lists &= s->dim[i].kind == NNF_TDIM_LIST;
  long g = all_lists ? grid_size(s, ncand) : -1;
  if (g > 0) {   /* a small discrete space: score every entry */
    for (long e = 0; e < g; e++) {
      nnf_tune_grid_point(s, e, &p);
      if (canonical(s, &p)) consider(&a, &p);
    }
  } else {
    for (int c = 0; c < ncand; c++) {
      draw_point(s, &rng, &p);
      consider(&a, &p);
    }
    /* around the five best finished trials */
    int top[5], ntop = 0;
    for (int r = 0; r < ndone; r++) {
      int at = ntop;
      while (at > 0 && score[top[at - 1]] < score[r]) at--;
      if (at >= 5) continue;
      int last = ntop < 5 ? ntop++ : 4;
      for (int m = last; m > at; m--) top[m] = top[m - 1];
      top[at] = r;
    }
    for (int t = 0; t < ntop; t++)
      for (int c = 0; c < 100; c++) {
        perturb(s, &done[top[t]], c % 2 ? 0.05 : 0.15, &rng, &q);
        consider(&a, &q);
      }
    /* finer steps around the best candidate */
    static const double SD[] = {0.05, 0.02, 0.01};
    for (int round_ = 0; round_ < 3 && a.found; round_++) {
      nnf_tune_point centre = a.arg;
      for (int c = 0; c < 60; c++) {
        perturb(s, &centre, SD[round_], &rng, &q);
        consider(&a, &q);
      }
    }
  }
  if (!a.found) nnf_tune_random(s, o->seed, k, out);   /* every candidate was tried already */
  else *out = a.ei > 0 ? a.arg : a.arg_ucb;
  free(X), free(y);
  nnf_gp_free(&gp);
  return 0;
}

/* ---- the store ------------------------------------------------------------------------- */

static void store_path(const nnf_tune_store *st, const char *name, char *buf, size_t len) {
  snprintf(buf, len, "%s/%s", st->dir, name);
}

int nnf_tune_store_open(nnf_tune_store *st, const char *dir, char *err, size_t errlen) {
  char path[4200];
  memset(st, 0, sizeof *st);
  st->lock_fd = st->worker_fd = -1;
  if (strlen(dir) >= sizeof st->dir - 64) {
    snprintf(err, errlen, "--dir %s: path too long", dir);
    return -1;
  }
  snprintf(st->dir, sizeof st->dir, "%s", dir);
  if (mkdir(dir, 0777) && errno != EEXIST) {
    snprintf(err, errlen, "cannot create --dir %s: %s", dir, strerror(errno));
    return -1;
  }
  store_path(st, ".lock", path, sizeof path);
  st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (st->lock_fd < 0) {
    snprintf(err, errlen, "cannot use --dir %s: %s", dir, strerror(errno));
    return -1;
  }
  return 0;
}

int nnf_tune_store_lock(nnf_tune_store *st) {
  while (flock(st->lock_fd, LOCK_EX))
    if (errno != EINTR) return -1;
  return 0;
}

void nnf_tune_store_unlock(nnf_tune_store *st) { flock(st->lock_fd, LOCK_UN); }

int nnf_tune_worker_start(nnf_tune_store *st, char *err, size_t errlen) {
  char host[128] = "host", path[4400];
  if (gethostname(host, sizeof host - 1)) snprintf(host, sizeof host, "host");
  host[sizeof host - 1] = 0;
  for (char *c = host; *c; c++)
    if (*c == '/' || *c == ' ') *c = '_';
  snprintf(st->worker, sizeof st->worker, "%s.%ld", host, (long)getpid());
  store_path(st, "workers", path, sizeof path);
  if (mkdir(path, 0777) && errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    return -1;
  }
  snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", st->worker);
  st->worker_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (st->worker_fd < 0 || flock(st->worker_fd, LOCK_EX | LOCK_NB)) {
    snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
    if (st->worker_fd >= 0) close(st->worker_fd);
    st->worker_fd = -1;
    return -1;
  }
  return 0;
}

void nnf_tune_worker_end(nnf_tune_store *st) {
  if (st->worker_fd < 0) return;
  char path[4400];
  snprintf(path, sizeof path, "%s/workers/%s", st->dir, st->worker);
  unlink(path);
  close(st->worker_fd);
  st->worker_fd = -1;
}

int nnf_tune_worker_alive(const nnf_tune_store *st, const char *id) {
  char path[4400];
  if (!id || !*id || strchr(id, '/')) return 0;
  snprintf(path, sizeof path, "%s/workers/%s", st->dir, id);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return 0;
  int alive = flock(fd, LOCK_EX | LOCK_NB) != 0;
  if (!alive) unlink(path);   /* its owner is gone (we hold the store lock) */
  close(fd);
  return alive;
}

void nnf_tune_store_close(nnf_tune_store *st) {
  nnf_tune_worker_end(st);
  if (st->lock_fd >= 0) close(st->lock_fd);
  st->lock_fd = -1;
}

char *nnf_tune_store_read(const nnf_tune_store *st, const char *name) {
  char path[4200];
  store_path(st, name, path, sizeof path);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *p = NULL, chunk[8192];
  size_t n = 0, cap = 0, r;
  while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (n + r + 1 > cap) {
      cap = (n + r + 1) * 2;
      char *q = realloc(p, cap);
      if (!q) {
        free(p);
        fclose(f);
        return NULL;
      }
      p = q;
    }
    memcpy(p + n, chunk, r);
    n += r;
  }
  fclose(f);
  if (!p) p = calloc(1, 1);
  else p[n] = 0;
  return p;
}

static int put_text(FILE *fp, void *ctx) { return fputs((const char *)ctx, fp) < 0 ? -1 : 0; }

int nnf_tune_store_write(const nnf_tune_store *st, const char *name, const char *text, char *err, size_t errlen) {
  char path[4200];
  store_path(st, name, path, sizeof path);
  return nnf_write_atomic(path, put_text, (void *)text, err, errlen);
}
