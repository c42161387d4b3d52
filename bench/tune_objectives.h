/*
 * tune_objectives.h - synthetic objectives with known optima for the search
 * strategies of nnf_tune (no training): shared by tests/host/test_tune.c
 * (5 seeds, an assertion) and bench/bench_tune.c (more seeds, a report).
 *
 *   branin  the Branin-Hoo function, negated (maximised): two real ranges
 *           x1 in [-5, 10], x2 in [0, 15]; optimum -0.397887 at three points.
 *   mixed   a tuning-like surface: lr log-range [1e-4, 1e-1], hidden
 *           integer log-range [4, 256], optimizer one of three names;
 *   score = -(log10(lr / 3e-3))^2 / 0.5 - (log2(hidden / 64))^2 / 8 - {0, 0.3, 0.6}[opt]
 *           optimum 0 at lr 3e-3, hidden 64, the first name.
 * A search "reaches" the optimum at the first trial scoring within eps of it.
 */
#ifndef TUNE_OBJECTIVES_H
#define TUNE_OBJECTIVES_H

#include <math.h>
#include <stdlib.h>

#include "nnf_tune.h"

typedef struct {
  const char *name;
  nnf_tune_space space;
  double (*f)(const nnf_tune_point *p);
  double optimum, eps;
} tune_objective;

static inline double tune_branin(const nnf_tune_point *p) {
  const double pi = 3.14159265358979323846;
  double x1 = p->x[0], x2 = p->x[1];
  double a = x2 - 5.1 / (4 * pi * pi) * x1 * x1 + 5 / pi * x1 - 6;
  return -(a * a + 10 * (1 - 1 / (8 * pi)) * cos(x1) + 10);
}

static inline double tune_mixed(const nnf_tune_point *p) {
  static const double pen[3] = {0, 0.3, 0.6};
  double a = log10(p->x[0] / 3e-3), b = log2(p->x[1] / 64);
  return -a * a / 0.5 - b * b / 8 - pen[(int)p->x[2]];
}

static inline tune_objective tune_objective_get(int which) {
  tune_objective o;
  memset(&o, 0, sizeof o);
  if (which == 0) {
    o.name = "branin";
    o.space.ndims = 2;
    o.space.dim[0] = (nnf_tune_dim){.kind = NNF_TDIM_REAL, .lo = -5, .hi = 10};
    o.space.dim[1] = (nnf_tune_dim){.kind = NNF_TDIM_REAL, .lo = 0, .hi = 15};
    o.f = tune_branin;
    o.optimum = -0.397887357729738;
    o.eps = 0.1;
  } else {
    o.name = "mixed";
    o.space.ndims = 3;
    o.space.dim[0] = (nnf_tune_dim){.kind = NNF_TDIM_REAL, .log = 1, .lo = 1e-4, .hi = 1e-1, .digits = 4};
    o.space.dim[1] = (nnf_tune_dim){.kind = NNF_TDIM_INT, .log = 1, .lo = 4, .hi = 256};
    o.space.dim[2] = (nnf_tune_dim){.kind = NNF_TDIM_LIST, .n = 3, .categorical = 1};
    o.f = tune_mixed;
    o.optimum = 0;
    o.eps = 0.1;
  }
  return o;
}

/* A sequential search with the given strategy and seed: the number of the
 * first trial within eps of the optimum, or budget + 1 if none is. */
static inline long tune_trials_to_reach(const tune_objective *ob, nnf_tune_strategy strategy, uint64_t seed,
                                        long budget) {
  nnf_tune_opts o = nnf_tune_defaults();
  o.strategy = strategy;
  o.seed = seed;
  nnf_tune_point *pts = malloc((size_t)budget * sizeof *pts);
  double *score = malloc((size_t)budget * sizeof *score);
  long reached = budget + 1;
  for (long k = 1; pts && score && k <= budget; k++) {
    if (nnf_tune_propose(&ob->space, &o, NULL, k, pts, score, (int)(k - 1), NULL, 0, &pts[k - 1])) break;
    score[k - 1] = ob->f(&pts[k - 1]);
    if (score[k - 1] >= ob->optimum - ob->eps) {
      reached = k;
      break;
    }
  }
  free(pts);
  free(score);
  return reached;
}

#endif
