/*
 * fuzz_tune.c - libFuzzer target for the store of `nnfpga tune` (host/cli/
 * nnfpga_tune.c): DIR/search.json, read by check_search, DIR/trials.json,
 * read by load_trials, then everything a resumed search makes of the stored
 * trials (trials.csv, best.json, the plot: write_results), and
 * DIR/claims.json, read by load_claims (then written back by save_claims).
 *
 * The reader's functions are static, so this file includes nnfpga_tune.c
 * and calls them on searches set up once from fixed command lines: a grid
 * (lr x batch x optimizer x momentum x hidden) and a random search with
 * ranges, a grid with every dimension given (the widest CSV rows), and a
 * Bayesian search with lists and ranges.
 * Input: byte 0 picks the search (bit 3: bayes, else bits 0 and 2: grid,
 * random, wide) and the file (bit 1: search.json, else bit 4: claims.json,
 * else trials.json); the rest is the file's text.
 *
 * Invariants: no crash, leak, UB or hang; a search.json is taken (resuming)
 * only when it describes this very search; a trials.json is either refused
 * with a message or gives trials each stored at its own number with the
 * configuration the search gives that number (bayes: a configuration of its
 * space); the CSV has a header and one row per stored trial, all with the
 * header's number of fields, and the row of trial k starts with k; a
 * claims.json is refused or gives claims that are configurations of the
 * space, and saving them and loading them back gives the same claims.
 */
#include "../../host/cli/nnfpga_tune.c"

#include <stdint.h>

static tune searches[4];
static long totals[4];
static char dir[64];

static void put_file(const char *name, const uint8_t *data, size_t size) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f)) abort();
}

static void setup_search(int k, int argc, char **argv) {
  tune *t = &searches[k];
  memset(t, 0, sizeof *t);
  t->dir = dir;
  t->uri = "model";
  t->act = "relu";
  t->epochs = 5;
  t->seed = 1;
  t->jobs = 1;
  char err[4600];
  if (nnf_tune_store_open(&t->store, dir, err, sizeof err)) abort();
  memcpy(t->d, DIM_DEFS, sizeof t->d);
  for (int i = 0; i < NDIMS; i++) t->d[i].spec = t->d[i].def;
  if (parse_args(t, argc, argv)) abort();
  build_space(t);
  if (t->strategy != NNF_TUNE_GRID) t->total = t->trials ? t->trials : 20;
  else if (build_grid(t)) abort();
  totals[k] = t->total;
}

static void cleanup(void) {
  static const char *const files[] = {"search.json", "trials.json", "trials.csv", "best.json", "plot.svg",
                                      "claims.json", ".lock"};
  char path[128];
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    remove(path);
  }
  rmdir(dir);
}

static void setup(void) {
  if (dir[0]) return;
  snprintf(dir, sizeof dir, "/tmp/fuzz_tune.%ld", (long)getpid());
  if (mkdir(dir, 0777) && errno != EEXIST) abort();
  atexit(cleanup);
  static char *grid[] = {"--lr", "0.01,0.1", "--batch", "16,full", "--optimizer", "sgd,adam", "--momentum",
                         "0,0.9", "--hidden", "8,4x4,none", "--init", "default,xavier_uniform", "--plot", NULL};
  static char *rnd[] = {"--search", "random", "--lr", "log:1e-4:1e-1", "--batch", "8,64", "--weight-decay",
                        "0,0.01", "--trials", "6", "--seed", "7", "--plot", NULL};
  static char plot[80];
  snprintf(plot, sizeof plot, "%s/plot.svg", dir);
  grid[13] = rnd[13] = plot;
  /* every dimension given, long values: the widest CSV rows */
  static char *wide[] = {"--lr", "0.0123456781,0.0123456782,0.0123456783,0.0123456784,0.0123456785,0.0123456786,"
                         "0.0123456787,0.0123456788,0.0123456789,0.0223456781,0.0223456782,0.0223456783,"
                         "0.0223456784,0.0223456785,0.0223456786,0.0223456787,0.0223456788,0.0223456789,"
                         "0.0323456781,0.0323456782", "--batch", "65535", "--hidden",
                         "65535x65535x65535x65535x65535x65535x65535", "--optimizer", "sgd,adagrad,rmsprop,adam",
                         "--init", "xavier_uniform", "--momentum", "0.123456789", "--dampening", "0.123456789",
                         "--weight-decay", "0.123456789", "--alpha", "0.123456789", "--beta1", "0.123456789",
                         "--beta2", "0.123456789", "--eps", "0.000123456789", "--lr-decay", "0.123456789", NULL};
  setup_search(0, 14, grid);
  setup_search(1, 14, rnd);
  setup_search(2, 26, wide);
  static char *bayes[] = {"--search", "bayes", "--lr", "log:1e-4:1e-1", "--hidden", "lin:4:64", "--optimizer",
                          "sgd,adam", "--momentum", "0,0.9", "--trials", "8", "--init-trials", "3", NULL};
  setup_search(3, 14, bayes);
}

/* Fields of one CSV line (no quoting in this CSV: a comma separates). */
static int fields(const char *line, size_t len) {
  int n = 1;
  for (size_t i = 0; i < len; i++) n += line[i] == ',';
  return n;
}

static void check_csv(const tune *t, const char *csv) {
  long rows = 0, stored = 0;
  for (long k = 0; k < t->total; k++) stored += t->done[k] != NULL;
  const char *p = csv;
  int want = -1;
  long last = 0;
  while (*p) {
    const char *e = strchr(p, '\n');
    if (!e) abort();                                /* every line ends */
    int f = fields(p, (size_t)(e - p));
    if (want < 0) want = f;
    else {
      if (f != want) abort();
      long k = strtol(p, NULL, 10);
      if (k <= last || k > t->total || !t->done[k - 1]) abort();
      last = k;
      rows++;
    }
    p = e + 1;
  }
  if (rows != stored) abort();
}

static void check_trials(tune *t) {
  for (long k = 0; k < t->total; k++) {
    if (!t->done[k]) continue;
    if (trial_number(t, t->done[k]) != k + 1) abort();
    if (!trial_fits(t, t->done[k], k + 1)) abort();
  }
  char *csv = render_csv(t);
  if (!csv) abort();
  check_csv(t, csv);
  free(csv);
  if (write_results(t)) abort();   /* trials.json, trials.csv, best.json and the plot */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  setup();
  int which = data[0] & 8 ? 3 : data[0] & 4 ? 2 : data[0] & 1;
  tune *t = &searches[which];
  t->total = totals[which];
  t->done = calloc((size_t)t->total, sizeof *t->done);
  if (!t->done) abort();
  if (data[0] & 2) {
    put_file("search.json", data + 1, size - 1);
    int resuming = 0;
    int rc = check_search(t, &resuming);
    char *text = malloc(size);   /* read as check_search reads it: up to the first NUL */
    if (!text) abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    cJSON *cur = search_json(t), *old = cJSON_Parse(text);
    free(text);
    if (resuming != (rc == 0)) abort();
    if (resuming && !cJSON_Compare(old, cur, 1)) abort();
    cJSON_Delete(cur);
    cJSON_Delete(old);
  } else if (data[0] & 16) {
    put_file("claims.json", data + 1, size - 1);
    if (load_claims(t) == 0) {
      const cJSON *o;
      nnf_tune_point p;
      int n = cJSON_GetArraySize(t->claims);
      cJSON_ArrayForEach(o, t->claims)
        if (!trial_number(t, o) || record_point(t, o, &p)) abort();
      /* the same text back (cJSON_Compare would stumble on repeated keys) */
      char *before = cJSON_PrintUnformatted(t->claims), *after = NULL;
      if (!before || save_claims(t) || load_claims(t) || cJSON_GetArraySize(t->claims) != n ||
          !(after = cJSON_PrintUnformatted(t->claims)) || strcmp(before, after))
        abort();
      free(before);
      free(after);
    }
    cJSON_Delete(t->claims);
    t->claims = NULL;
  } else {
    put_file("trials.json", data + 1, size - 1);
    if (load_trials(t) == 0) check_trials(t);
  }
  for (long k = 0; k < t->total; k++) cJSON_Delete(t->done[k]);
  free(t->done);
  t->done = NULL;
  return 0;
}
