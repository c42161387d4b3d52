/*
 * nnf_gp.h - a small Gaussian-process regressor for Bayesian optimisation
 * (nnfpga tune --search bayes): Matern 5/2 kernel with one length scale per
 * input group (ARD), Cholesky in plain C, hyperparameters by maximising the
 * log marginal likelihood over a fixed grid (deterministic), and expected
 * improvement.
 *
 * The model, for inputs x in [0,1]^d (the caller maps its space there) and
 * outputs y standardised to mean 0 and unit spread:
 *
 *   y = f(x) + e,   f ~ GP(0, s2 * k(x, x')),   e ~ N(0, s2 * g)
 *   k(x, x') = (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r),
 *   r^2 = sum_j ((x_j - x'_j) / ls[group(j)])^2
 *
 * s2 is profiled out (its maximum-likelihood value y^T (K + g I)^-1 y / n for
 * given ls, g), so the search is over the length scales and the noise ratio
 * g only. Sizes here are tens to a few hundred points: O(n^3) is nothing.
 *
 * Ownership: nnf_gp_fit copies what it needs; nnf_gp_free releases it.
 */
#ifndef NNF_GP_H
#define NNF_GP_H

#define NNF_GP_MAX_D 256      /* input columns */
#define NNF_GP_MAX_GROUPS 64  /* length scales (ARD groups) */

typedef struct {
  int n, d, ngroups;
  int group[NNF_GP_MAX_D];       /* column -> length-scale group */
  double ls[NNF_GP_MAX_GROUPS];  /* length scale per group */
  double g;                      /* noise variance / signal variance */
  double s2;                     /* signal variance (standardised units) */
  double ymean, ystd;            /* the standardisation of y */
  double best;                   /* the largest observation (units of y) */
  double lml;                    /* log marginal likelihood of the fit */
  double *X;                     /* n x d inputs, row-major */
  double *L;                     /* n x n lower Cholesky factor of K + g I (unit s2) */
  double *alpha;                 /* (K + g I)^-1 y (standardised y) */
} nnf_gp;

/* In-place Cholesky of the symmetric positive-definite n x n matrix A
 * (row-major; the lower triangle is read and becomes L, the upper is
 * zeroed). Returns 0, or -1 if A is not positive definite. */
int nnf_gp_cholesky(double *A, int n);

/* Solve L L^T x = b in place (L from nnf_gp_cholesky). */
void nnf_gp_cho_solve(const double *L, int n, double *b);

/* The Matern 5/2 correlation of two inputs. */
double nnf_gp_kernel(const nnf_gp *gp, const double *a, const double *b);

/* Fit with fixed hyperparameters (gp->d, gp->ngroups, gp->group, gp->ls,
 * gp->g set by the caller; g >= 0, a jitter of 1e-10 is always added).
 * Returns 0, or -1 (out of memory, not positive definite, n < 1). */
int nnf_gp_fit(nnf_gp *gp, const double *X, const double *y, int n);

/* Fit choosing the hyperparameters: a grid of one shared length scale x
 * noise ratios, then two coordinate sweeps over each group's length scale,
 * keeping whatever raises the log marginal likelihood. Deterministic.
 * Set d, ngroups and group first. Returns 0 or -1. */
int nnf_gp_fit_auto(nnf_gp *gp, const double *X, const double *y, int n);

/* Posterior mean and standard deviation of f(x), in the units of y. */
void nnf_gp_predict(const nnf_gp *gp, const double *x, double *mu, double *sd);

/* Expected improvement of a maximisation over `best` at a point with
 * posterior mean mu and deviation sd, with margin xi >= 0:
 *   z = (mu - best - xi) / sd,  EI = (mu - best - xi) Phi(z) + sd phi(z)
 * and max(0, mu - best - xi) when sd = 0. */
double nnf_gp_ei(double mu, double sd, double best, double xi);

void nnf_gp_free(nnf_gp *gp);

#endif
