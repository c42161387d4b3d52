/*
 * bench_tune.c - trials-to-optimum of the search strategies of nnf_tune on
 * synthetic objectives with known optima (bench/tune_objectives.h): for
 * each objective and each seed 1..S, a sequential random search and a
 * sequential Bayesian search (GP + EI, 5 random initial trials) with the
 * same budget; the number of trials until one scores within eps of the
 * optimum (budget + 1 when none does). Prints the per-seed figures, mean,
 * median and how many seeds reached it; --json FILE merges them into the
 * bench report under "tune". Deterministic: the same figures every run.
 *
 *   bench_tune [--seeds S] [--budget B] [--json FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_json.h"
#include "tune_objectives.h"

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

typedef struct {
  double mean, median;
  int reached;
} stats;

static stats summarise(long *v, int n, long budget) {
  stats s = {0, 0, 0};
  for (int i = 0; i < n; i++) {
    s.mean += (double)v[i] / n;
    s.reached += v[i] <= budget;
  }
  long *c = malloc((size_t)n * sizeof *c);
  memcpy(c, v, (size_t)n * sizeof *c);
  qsort(c, (size_t)n, sizeof *c, cmp_long);
  s.median = n % 2 ? (double)c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2.0;
  free(c);
  return s;
}

int main(int argc, char **argv) {
  int seeds = 20;
  long budget = 100;
  const char *json_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--budget") && i + 1 < argc) budget = atol(argv[++i]);
    else if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
    else {
      fprintf(stderr, "usage: bench_tune [--seeds S] [--budget B] [--json FILE]\n");
      return 2;
    }
  }
  if (seeds < 1 || seeds > 1000 || budget < 1 || budget > 100000) {
    fprintf(stderr, "bench_tune: --seeds 1..1000, --budget 1..100000\n");
    return 2;
  }
  cJSON *report = cJSON_CreateObject();
  cJSON_AddNumberToObject(report, "seeds", seeds);
  cJSON_AddNumberToObject(report, "budget", (double)budget);
  long *r = malloc((size_t)seeds * sizeof *r), *b = malloc((size_t)seeds * sizeof *b);
  for (int w = 0; w < 2; w++) {
    tune_objective ob = tune_objective_get(w);
    for (int s = 0; s < seeds; s++) {
      r[s] = tune_trials_to_reach(&ob, NNF_TUNE_RANDOM, (uint64_t)s + 1, budget);
      b[s] = tune_trials_to_reach(&ob, NNF_TUNE_BAYES, (uint64_t)s + 1, budget);
    }
    stats rs = summarise(r, seeds, budget), bs = summarise(b, seeds, budget);
    int wins = 0;
    for (int s = 0; s < seeds; s++) wins += b[s] < r[s];
    printf("%s: trials to within %g of the optimum %g, seeds 1..%d, budget %ld (%ld = not reached)\n", ob.name,
           ob.eps, ob.optimum, seeds, budget, budget + 1);
    printf("  random: mean %.1f, median %.1f, reached %d/%d\n", rs.mean, rs.median, rs.reached, seeds);
    printf("  bayes:  mean %.1f, median %.1f, reached %d/%d; fewer trials than random on %d/%d seeds\n", bs.mean,
           bs.median, bs.reached, seeds, wins, seeds);
    cJSON *o = cJSON_AddObjectToObject(report, ob.name);
    cJSON_AddNumberToObject(o, "eps", ob.eps);
    const char *names[2] = {"random", "bayes"};
    long *vals[2] = {r, b};
    stats st[2] = {rs, bs};
    for (int k = 0; k < 2; k++) {
      cJSON *x = cJSON_AddObjectToObject(o, names[k]);
      cJSON_AddNumberToObject(x, "mean", st[k].mean);
      cJSON_AddNumberToObject(x, "median", st[k].median);
      cJSON_AddNumberToObject(x, "reached", st[k].reached);
      cJSON *a = cJSON_AddArrayToObject(x, "trials");
      for (int s = 0; s < seeds; s++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)vals[k][s]));
    }
    cJSON_AddNumberToObject(o, "bayes_fewer_seeds", wins);
  }
  free(r);
  free(b);
  if (json_path) {
    cJSON *root = bench_json_load(json_path);
    bench_json_set(root, "tune", report);
    if (bench_json_save(json_path, root) != 0) {
      fprintf(stderr, "bench_tune: cannot write %s\n", json_path);
      return 1;
    }
  } else {
    cJSON_Delete(report);
  }
  return 0;
}
