/*
 * nnf_tune.h - hyperparameter search without the training: search spaces,
 * the three strategies of `nnfpga tune` (grid, random, Bayesian optimisation
 * with a Gaussian process and expected improvement) and the results store's
 * concurrency primitives (a directory shared by processes, or by machines
 * through a file system with working locks). The caller runs the trials;
 * this file never trains anything (tests drive it with C objectives).
 *
 * A point gives each dimension of a space a value: the index of a list
 * value (0..n-1, as a double) or a number of a range. Scores are maximised.
 *
 * Determinism (what makes resuming exact):
 *   grid    trial k is entry k of a seeded shuffle of the grid;
 *   random  trial k is a draw from a generator seeded by (seed, k);
 *   bayes   trials 1..init are the random search's trials 1..init; trial k
 *           after that is a function of the seed, k, and the trials the
 *           caller passes: the finished ones with their scores and the
 *           pending ones (claimed by other workers, running). A sequential
 *           search passes exactly trials 1..k-1, all finished, so its trial
 *           k is a function of the seed and the recorded trials 1..k-1.
 * Pending trials enter the model as "constant liars": each is taken to have
 * scored the best score seen so far, with the posterior variance there then
 * near zero, so expected improvement at and near a running trial is small
 * and concurrent workers propose different points (Ginsbourger et al. 2010,
 * "Kriging is well-suited to parallelize optimization").
 */
#ifndef NNF_TUNE_H
#define NNF_TUNE_H

#include <stddef.h>
#include <stdint.h>

#define NNF_TUNE_MAX_DIMS 32
#define NNF_TUNE_MAX_VALS 64

typedef enum { NNF_TUNE_GRID, NNF_TUNE_RANDOM, NNF_TUNE_BAYES } nnf_tune_strategy;

typedef enum {
  NNF_TDIM_LIST,   /* n values: numbers (num[], ordered) or names (categorical) */
  NNF_TDIM_REAL,   /* a real range lo..hi */
  NNF_TDIM_INT,    /* an integer range lo..hi (draws rounded) */
} nnf_tdim_kind;

typedef struct {
  nnf_tdim_kind kind;
  int log;                 /* ranges: log-uniform draws; numeric lists: the model sees log(value) */
  double lo, hi;           /* ranges */
  int digits;              /* REAL: draws rounded to this many significant digits (0: not rounded) */
  int n;                   /* lists: the number of values */
  int categorical;         /* lists: unordered names (one-hot in the model) */
  double num[NNF_TUNE_MAX_VALS];   /* numeric lists: the values */
} nnf_tune_dim;

typedef struct {
  int ndims;
  nnf_tune_dim dim[NNF_TUNE_MAX_DIMS];
  /* Optional, for conditional dimensions: set na[i] = 1 for each dimension
   * that does not apply to point x (e.g. momentum for Adam). na[] comes in
   * zeroed. A grid keeps one configuration per set of applying values, and
   * the model sees a dimension that does not apply as its lowest value. */
  void (*inactive)(void *ctx, const double *x, int *na);
  void *ctx;
} nnf_tune_space;

typedef struct {
  double x[NNF_TUNE_MAX_DIMS];
} nnf_tune_point;

typedef struct {
  nnf_tune_strategy strategy;
  uint64_t seed;
  int init;                /* bayes: random trials before the model (default 5, at least 1) */
  int candidates;          /* bayes: random candidates scored by EI per proposal (default 2000) */
  double xi;               /* bayes: EI margin, in standard deviations of the scores (default 0.01) */
} nnf_tune_opts;

nnf_tune_opts nnf_tune_defaults(void);

const char *nnf_tune_strategy_name(nnf_tune_strategy s);
int nnf_tune_strategy_parse(const char *name);   /* -1 if unknown */

/* Random search: trial k (1-based) as a function of (seed, k). */
void nnf_tune_random(const nnf_tune_space *s, uint64_t seed, long k, nnf_tune_point *out);

/* Grid search over a space of lists. nnf_tune_grid_order allocates *order
 * (free() it) with the grid's entries in trial order (a shuffle seeded by
 * seed, entries that differ only in a dimension that does not apply left
 * out) and sets *n. Returns 0, -1 out of memory, -2 more than max entries. */
int nnf_tune_grid_order(const nnf_tune_space *s, uint64_t seed, long max, uint32_t **order, long *n);
void nnf_tune_grid_point(const nnf_tune_space *s, long entry, nnf_tune_point *out);

/* Trial k of a search. done[0..ndone) are finished trials (scores in
 * score[]), pending[0..npending) running ones. Grid and random ignore them
 * (grid needs `order` from nnf_tune_grid_order, NULL otherwise). Bayes: a
 * random draw for k <= init (or while fewer than two trials are done),
 * then the candidate with the largest expected improvement under a GP fitted
 * to done + pending (constant liar), never a point already done or
 * pending while any other is left. Returns 0, or -1 (out of memory). */
int nnf_tune_propose(const nnf_tune_space *s, const nnf_tune_opts *o, const uint32_t *order, long k,
                     const nnf_tune_point *done, const double *score, int ndone, const nnf_tune_point *pending,
                     int npending, nnf_tune_point *out);

/* The model's view of a point: columns in [0,1] (ranges and numeric lists
 * scaled, log dims in log space, names one-hot, dims that do not apply 0).
 * Returns the number of columns written to v (at most vlen). */
int nnf_tune_encode(const nnf_tune_space *s, const nnf_tune_point *p, double *v, int vlen);

/* ---- the results store: a directory several processes share ----------------- */

typedef struct {
  char dir[4096];
  int lock_fd;             /* DIR/.lock, flock()ed around every read-modify-write */
  int worker_fd;           /* DIR/workers/ID, flock()ed while this worker lives */
  char worker[256];        /* ID: host.pid */
} nnf_tune_store;

/* Create DIR if needed and open its lock file (no lock taken). flock()
 * belongs to the open file, not the process: a forked worker must close the
 * store it inherited and open its own, or it would share its parent's lock. */
int nnf_tune_store_open(nnf_tune_store *st, const char *dir, char *err, size_t errlen);
/* Take / release the store lock (blocking; flock, which Linux maps to POSIX
 * record locks on NFS, so machines sharing the directory exclude each other). */
int nnf_tune_store_lock(nnf_tune_store *st);
void nnf_tune_store_unlock(nnf_tune_store *st);
/* Register this process as a worker (call with the store lock held): its
 * file DIR/workers/ID stays flock()ed until nnf_tune_worker_end or death. */
int nnf_tune_worker_start(nnf_tune_store *st, char *err, size_t errlen);
void nnf_tune_worker_end(nnf_tune_store *st);
/* Is worker ID alive (its file locked by someone)? With the store lock held;
 * a dead worker's file is removed. */
int nnf_tune_worker_alive(const nnf_tune_store *st, const char *id);
void nnf_tune_store_close(nnf_tune_store *st);

/* DIR/name: the whole file (NULL if absent; free() it), or written
 * atomically (temp file, fsync, rename). */
char *nnf_tune_store_read(const nnf_tune_store *st, const char *name);
int nnf_tune_store_write(const nnf_tune_store *st, const char *name, const char *text, char *err, size_t errlen);

#endif
