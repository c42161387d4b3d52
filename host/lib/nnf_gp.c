/*
 * nnf_gp.c - the Gaussian process behind `nnfpga tune --search bayes`
 * (see nnf_gp.h for the model). Plain C: the matrices are tens to a few
 * hundred rows, where a hand-written Cholesky is as fast as LAPACK's call
 * overhead and keeps the fit bit-for-bit deterministic.
 */
#include "nnf_gp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JITTER 1e-10
#define PI 3.14159265358979323846
#define SQRT2 1.41421356237309504880

int nnf_gp_cholesky(double *A, int n) {
  for (int j = 0; j < n; j++) {
    double *rj = A + (size_t)j * n;
    double s = rj[j];
    for (int k = 0; k < j; k++) s -= rj[k] * rj[k];
    if (!(s > 0)) return -1;
    double ljj = sqrt(s);
    rj[j] = ljj;
    for (int i = j + 1; i < n; i++) {
      double *ri = A + (size_t)i * n;
      double t = ri[j];
      for (int k = 0; k < j; k++) t -= ri[k] * rj[k];
      ri[j] = t / ljj;
    }
    for (int k = j + 1; k < n; k++) rj[k] = 0;
  }
  return 0;
}

/* L z = b (forward), in place. */
static void forward(const double *L, int n, double *b) {
  for (int i = 0; i < n; i++) {
    const double *ri = L + (size_t)i * n;
    double s = b[i];
    for (int k = 0; k < i; k++) s -= ri[k] * b[k];
    b[i] = s / ri[i];
  }
}

void nnf_gp_cho_solve(const double *L, int n, double *b) {
  forward(L, n, b);
  for (int i = n - 1; i >= 0; i--) {   /* L^T x = z */
    double s = b[i];
    for (int k = i + 1; k < n; k++) s -= L[(size_t)k * n + i] * b[k];
    b[i] = s / L[(size_t)i * n + i];
  }
}

double nnf_gp_kernel(const nnf_gp *gp, const double *a, const double *b) {
  double r2 = 0;
  for (int j = 0; j < gp->d; j++) {
    double t = (a[j] - b[j]) / gp->ls[gp->group[j]];
    r2 += t * t;
  }
  double r = sqrt(5 * r2);
  return (1 + r + r * r / 3) * exp(-r);
}

/* Factor K + (g + jitter) I for standardised ys into L, alpha; set s2 and
 * lml. Returns 0 or -1 (not positive definite). */
static int factor(nnf_gp *gp, const double *X, const double *ys, int n, double *L, double *alpha) {
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < i; j++) L[(size_t)i * n + j] = nnf_gp_kernel(gp, X + (size_t)i * gp->d, X + (size_t)j * gp->d);
    L[(size_t)i * n + i] = 1 + gp->g + JITTER;
  }
  if (nnf_gp_cholesky(L, n)) return -1;
  memcpy(alpha, ys, (size_t)n * sizeof *alpha);
  nnf_gp_cho_solve(L, n, alpha);
  double q = 0, logdet = 0;
  for (int i = 0; i < n; i++) q += ys[i] * alpha[i], logdet += log(L[(size_t)i * n + i]);
  gp->s2 = q / n > 1e-12 ? q / n : 1e-12;
  gp->lml = -0.5 * n * log(gp->s2) - logdet - 0.5 * n * (1 + log(2 * PI));
  return 0;
}

/* ys = (y - mean) / std; sets ymean, ystd, best. */
static void standardise(nnf_gp *gp, const double *y, int n, double *ys) {
  double m = 0, v = 0;
  for (int i = 0; i < n; i++) m += y[i];
  m /= n;
  for (int i = 0; i < n; i++) v += (y[i] - m) * (y[i] - m);
  double sd = n > 1 ? sqrt(v / n) : 0;
  gp->ymean = m;
  gp->ystd = sd > 1e-12 ? sd : 1;
  gp->best = -INFINITY;
  for (int i = 0; i < n; i++) {
    ys[i] = (y[i] - m) / gp->ystd;
    if (y[i] > gp->best) gp->best = y[i];
  }
}

int nnf_gp_fit(nnf_gp *gp, const double *X, const double *y, int n) {
  if (n < 1 || gp->d < 1 || gp->d > NNF_GP_MAX_D) return -1;
  free(gp->X), free(gp->L), free(gp->alpha);
  gp->n = n;
  gp->X = malloc((size_t)n * gp->d * sizeof *gp->X);
  gp->L = malloc((size_t)n * n * sizeof *gp->L);
  gp->alpha = malloc((size_t)n * sizeof *gp->alpha);
  double *ys = malloc((size_t)n * sizeof *ys);
  int rc = -1;
  if (gp->X && gp->L && gp->alpha && ys) {
    memcpy(gp->X, X, (size_t)n * gp->d * sizeof *gp->X);
    standardise(gp, y, n, ys);
    rc = factor(gp, gp->X, ys, n, gp->L, gp->alpha);
  }
  free(ys);
  return rc;
}

int nnf_gp_fit_auto(nnf_gp *gp, const double *X, const double *y, int n) {
  static const double LS[] = {0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 1.7, 3.0};
  static const double G[] = {1e-8, 1e-4, 1e-2, 1e-1};
  static const double STEP[] = {0.25, 0.5, 2, 4};
  if (n < 1 || gp->d < 1 || gp->d > NNF_GP_MAX_D || gp->ngroups < 1 || gp->ngroups > NNF_GP_MAX_GROUPS) return -1;
  double *L = malloc((size_t)n * n * sizeof *L), *alpha = malloc((size_t)n * sizeof *alpha);
  double *ys = malloc((size_t)n * sizeof *ys);
  if (!L || !alpha || !ys) {
    free(L), free(alpha), free(ys);
    return -1;
  }
  standardise(gp, y, n, ys);
  double best = -INFINITY, best_ls[NNF_GP_MAX_GROUPS], best_g = G[0];
  for (size_t a = 0; a < sizeof LS / sizeof *LS; a++)
    for (size_t b = 0; b < sizeof G / sizeof *G; b++) {
      for (int k = 0; k < gp->ngroups; k++) gp->ls[k] = LS[a];
      gp->g = G[b];
      if (!factor(gp, X, ys, n, L, alpha) && gp->lml > best) {
        best = gp->lml;
        memcpy(best_ls, gp->ls, sizeof best_ls);
        best_g = gp->g;
      }
    }
  if (best == -INFINITY) {   /* nothing factored: fall back to a noisy, smooth model */
    for (int k = 0; k < gp->ngroups; k++) best_ls[k] = 1;
    best_g = 1;
  }
  gp->g = best_g;
  for (int sweep = 0; sweep < 2 && gp->ngroups > 1 && best > -INFINITY; sweep++)
    for (int k = 0; k < gp->ngroups; k++)
      for (size_t s = 0; s < sizeof STEP / sizeof *STEP; s++) {
        memcpy(gp->ls, best_ls, sizeof best_ls);
        gp->ls[k] = fmin(fmax(best_ls[k] * STEP[s], 0.02), 20);
        if (!factor(gp, X, ys, n, L, alpha) && gp->lml > best) {
          best = gp->lml;
          memcpy(best_ls, gp->ls, sizeof best_ls);
        }
      }
  memcpy(gp->ls, best_ls, sizeof best_ls);
  free(L), free(alpha), free(ys);
  return nnf_gp_fit(gp, X, y, n);
}

void nnf_gp_predict(const nnf_gp *gp, const double *x, double *mu, double *sd) {
  double kbuf[512], *k = gp->n <= 512 ? kbuf : malloc((size_t)gp->n * sizeof *k);
  if (!k) {
    *mu = gp->ymean, *sd = gp->ystd;
    return;
  }
  double m = 0;
  for (int i = 0; i < gp->n; i++) {
    k[i] = nnf_gp_kernel(gp, x, gp->X + (size_t)i * gp->d);
    m += k[i] * gp->alpha[i];
  }
  forward(gp->L, gp->n, k);
  double vv = 0;
  for (int i = 0; i < gp->n; i++) vv += k[i] * k[i];
  double var = gp->s2 * (1 - vv);
  *mu = gp->ymean + gp->ystd * m;
  *sd = var > 0 ? gp->ystd * sqrt(var) : 0;
  if (k != kbuf) free(k);
}

double nnf_gp_ei(double mu, double sd, double best, double xi) {
  double imp = mu - best - xi;
  if (!(sd > 0)) return imp > 0 ? imp : 0;
  double z = imp / sd;
  double ei = imp * 0.5 * erfc(-z / SQRT2) + sd * exp(-0.5 * z * z) / sqrt(2 * PI);
  return ei > 0 ? ei : 0;
}

void nnf_gp_free(nnf_gp *gp) {
  free(gp->X), free(gp->L), free(gp->alpha);
  gp->X = gp->L = gp->alpha = NULL;
  gp->n = 0;
}
