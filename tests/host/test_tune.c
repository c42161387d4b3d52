/*
 * test_tune.c - nnf_gp and nnf_tune without any training:
 *   - Cholesky against a known factor, a solve, a matrix that is not
 *     positive definite;
 *   - the GP's posterior mean interpolates noise-free points (and its
 *     deviation vanishes there); expected improvement is zero at an observed
 *     optimum with zero noise, positive between points, and matches the
 *     closed form at z = 0;
 *   - the encoding (log ranges, one-hot names, dims that do not apply);
 *   - random and grid search are functions of (space, seed); the grid drops
 *     entries that differ only in a dim that does not apply;
 *   - a pending trial (constant liar) steers the next proposal elsewhere;
 *   - behaviour: on two synthetic objectives with known optima (Branin and a
 *     tuning-like mixed space), over seeds 1..5, Bayesian optimisation needs
 *     fewer trials than random search to come within eps of the optimum, in
 *     total and at the median. Deterministic: the same numbers every run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/tune_objectives.h"
#include "nnf_gp.h"
#include "nnf_test.h"
#include "nnf_tune.h"

static void test_cholesky(void) {
  double A[9] = {4, 12, -16, 12, 37, -43, -16, -43, 98};
  const double L[9] = {2, 0, 0, 6, 1, 0, -8, 5, 3};
  CHECK_OK(nnf_gp_cholesky(A, 3));
  for (int i = 0; i < 9; i++) CHECK(fabs(A[i] - L[i]) < 1e-12);
  double b[3] = {1, 2, 3}, x[3];
  memcpy(x, b, sizeof x);
  nnf_gp_cho_solve(A, 3, x);
  const double M[9] = {4, 12, -16, 12, 37, -43, -16, -43, 98};
  for (int i = 0; i < 3; i++) {
    double r = 0;
    for (int j = 0; j < 3; j++) r += M[i * 3 + j] * x[j];
    CHECK(fabs(r - b[i]) < 1e-9);
  }
  double N[4] = {1, 2, 2, 1};   /* eigenvalues 3 and -1 */
  CHECK(nnf_gp_cholesky(N, 2) == -1);
}

static void test_gp(void) {
  nnf_gp gp;
  memset(&gp, 0, sizeof gp);
  gp.d = 1, gp.ngroups = 1, gp.ls[0] = 0.3, gp.g = 0;
  double X[6], y[6];
  int ibest = 0;
  for (int i = 0; i < 6; i++) {
    X[i] = i / 5.0;
    y[i] = sin(6 * X[i]) + 0.5 * X[i];
    if (y[i] > y[ibest]) ibest = i;
  }
  CHECK_OK(nnf_gp_fit(&gp, X, y, 6));
  CHECK(gp.best == y[ibest]);
  for (int i = 0; i < 6; i++) {
    double mu, sd;
    nnf_gp_predict(&gp, &X[i], &mu, &sd);
    nnf_test_ctx("point %d: mu %.12g y %.12g sd %g", i, mu, y[i], sd);
    CHECK(fabs(mu - y[i]) < 1e-6);
    CHECK(sd < 1e-4);
  }
  /* EI: nothing to gain at the observed optimum, something between points */
  double mu, sd, xm = (X[ibest] + X[ibest + 1]) / 2;
  nnf_gp_predict(&gp, &X[ibest], &mu, &sd);
  nnf_test_ctx("EI at the optimum: mu %g sd %g", mu, sd);
  CHECK(nnf_gp_ei(mu, sd, gp.best, 0) < 1e-5);
  nnf_gp_predict(&gp, &xm, &mu, &sd);
  nnf_test_ctx("between: mu %g sd %g", mu, sd);
  CHECK(sd > 1e-3);
  CHECK(nnf_gp_ei(mu, sd, gp.best, 0) > 1e-4);
  nnf_test_ctx("");
  CHECK(nnf_gp_ei(1, 0, 1, 0) == 0);
  CHECK(nnf_gp_ei(2, 0, 1, 0) == 1);
  CHECK(fabs(nnf_gp_ei(0, 1, 0, 0) - 0.3989422804014327) < 1e-12);   /* sd * phi(0) */
  /* the automatic fit keeps interpolating noise-free data */
  CHECK_OK(nnf_gp_fit_auto(&gp, X, y, 6));
  nnf_gp_predict(&gp, &X[2], &mu, &sd);
  CHECK(fabs(mu - y[2]) < 1e-3);
  nnf_gp_free(&gp);
}

/* dim 1 applies only when dim 0 is index 0 (momentum only for SGD) */
static void only_first(void *ctx, const double *x, int *na) {
  (void)ctx;
  na[1] = x[0] != 0;
}

static void test_space(void) {
  nnf_tune_space s;
  memset(&s, 0, sizeof s);
  s.ndims = 3;
  s.dim[0] = (nnf_tune_dim){.kind = NNF_TDIM_LIST, .n = 3, .categorical = 1};
  s.dim[1] = (nnf_tune_dim){.kind = NNF_TDIM_LIST, .n = 2, .num = {0, 0.9}};
  s.dim[2] = (nnf_tune_dim){.kind = NNF_TDIM_REAL, .log = 1, .lo = 1e-4, .hi = 1e-2};
  s.inactive = only_first;
  nnf_tune_point p = {{1, 1, 1e-3}};
  double v[8];
  CHECK_EQ(nnf_tune_encode(&s, &p, v, 8), 5);
  CHECK(v[0] == 0 && v[1] == 1 && v[2] == 0);   /* one-hot */
  CHECK(v[3] == 0);                             /* does not apply */
  CHECK(fabs(v[4] - 0.5) < 1e-12);              /* log middle */
  p.x[0] = 0;
  nnf_tune_encode(&s, &p, v, 8);
  CHECK(v[3] == 1);
  /* random: in range, a function of (seed, k) */
  nnf_tune_point a, b;
  for (long k = 1; k <= 50; k++) {
    nnf_tune_random(&s, 7, k, &a);
    nnf_tune_random(&s, 7, k, &b);
    CHECK(!memcmp(&a, &b, sizeof a));
    CHECK(a.x[2] >= 1e-4 && a.x[2] <= 1e-2 && a.x[0] >= 0 && a.x[0] < 3);
  }
  nnf_tune_random(&s, 8, 1, &b);
  nnf_tune_random(&s, 7, 1, &a);
  CHECK(memcmp(&a, &b, sizeof a));
  /* grid: 3 x 2 entries, of which (1|2, 0.9) repeat (1|2, 0): 4 left */
  s.ndims = 2;
  uint32_t *order;
  long n;
  CHECK_OK(nnf_tune_grid_order(&s, 3, 1000, &order, &n));
  CHECK_EQ(n, 4);
  int seen[6] = {0};
  for (long k = 0; k < n; k++) {
    nnf_tune_grid_point(&s, (long)order[k], &a);
    CHECK(a.x[0] == 0 || a.x[1] == 0);
    seen[order[k]]++;
  }
  for (int e = 0; e < 6; e++) CHECK(seen[e] <= 1);
  free(order);
  CHECK_EQ(nnf_tune_grid_order(&s, 3, 5, &order, &n), -2);
}

/* A proposal with the would-be point pending goes elsewhere. */
static void test_liar(void) {
  tune_objective ob = tune_objective_get(0);
  nnf_tune_opts o = nnf_tune_defaults();
  o.strategy = NNF_TUNE_BAYES;
  o.seed = 3;
  nnf_tune_point pts[12], next, again, other;
  double score[12];
  for (int k = 1; k <= 10; k++) {
    CHECK_OK(nnf_tune_propose(&ob.space, &o, NULL, k, pts, score, k - 1, NULL, 0, &pts[k - 1]));
    score[k - 1] = ob.f(&pts[k - 1]);
  }
  CHECK_OK(nnf_tune_propose(&ob.space, &o, NULL, 11, pts, score, 10, NULL, 0, &next));
  CHECK_OK(nnf_tune_propose(&ob.space, &o, NULL, 11, pts, score, 10, NULL, 0, &again));
  CHECK(!memcmp(&next, &again, sizeof next));   /* deterministic */
  CHECK_OK(nnf_tune_propose(&ob.space, &o, NULL, 12, pts, score, 10, &next, 1, &other));
  double dx = (other.x[0] - next.x[0]) / 15, dy = (other.x[1] - next.x[1]) / 15;
  nnf_test_ctx("next (%g, %g), with it pending (%g, %g)", next.x[0], next.x[1], other.x[0], other.x[1]);
  CHECK(sqrt(dx * dx + dy * dy) > 0.01);
  nnf_test_ctx("");
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

static void test_beats_random(void) {
  enum { SEEDS = 5, BUDGET = 60 };
  for (int w = 0; w < 2; w++) {
    tune_objective ob = tune_objective_get(w);
    long r[SEEDS], b[SEEDS], rs = 0, bs = 0;
    for (int s = 0; s < SEEDS; s++) {
      r[s] = tune_trials_to_reach(&ob, NNF_TUNE_RANDOM, (uint64_t)s + 1, BUDGET);
      b[s] = tune_trials_to_reach(&ob, NNF_TUNE_BAYES, (uint64_t)s + 1, BUDGET);
      rs += r[s], bs += b[s];
    }
    printf("%s: trials to within %g of the optimum (budget %d, %d = not reached), seeds 1..%d\n", ob.name,
           ob.eps, BUDGET, BUDGET + 1, SEEDS);
    printf("  random:");
    for (int s = 0; s < SEEDS; s++) printf(" %ld", r[s]);
    printf("  (total %ld)\n  bayes: ", rs);
    for (int s = 0; s < SEEDS; s++) printf(" %ld", b[s]);
    printf("  (total %ld)\n", bs);
    qsort(r, SEEDS, sizeof *r, cmp_long);
    qsort(b, SEEDS, sizeof *b, cmp_long);
    nnf_test_ctx("%s: total bayes %ld random %ld, median bayes %ld random %ld", ob.name, bs, rs, b[SEEDS / 2],
                 r[SEEDS / 2]);
    CHECK(bs < rs);
    CHECK(b[SEEDS / 2] < r[SEEDS / 2]);
    CHECK(b[SEEDS - 1] <= BUDGET);   /* bayes reaches it on every seed */
  }
  nnf_test_ctx("");
}

int main(int argc, char **argv) {
  (void)argc;
  test_cholesky();
  test_gp();
  test_space();
  test_liar();
  test_beats_random();
  return nnf_test_done(argv[0]);
}
