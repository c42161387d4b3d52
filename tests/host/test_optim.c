/*
 * test_optim.c - libnnf's optimizers (nnf_optim) against PyTorch.
 *
 * Replays the trajectories written by scripts/gen_optim_ref.py with
 * torch.optim (foreach=False): the same float32 start vector, split into the
 * same tensors, the same gradients, the same hyperparameters set through
 * nnf_optim_set by their PyTorch names, the same mid-run learning-rate
 * change; every element is compared after every step, against three
 * references:
 *   - tests/data/optim_ref.json, torch 2.15 (PyPI), with PyTorch's sqrt
 *     replaced by the correctly rounded one (`params_cr_sqrt`): bit for bit;
 *   - tests/data/optim_ref_torch1.13.json, Debian's torch 1.13 (no MKL, so
 *     its sqrt is correctly rounded), with torch1_ema = 1: bit for bit;
 *   - optim_ref.json as torch 2.15 computes it (`params`): its MKL sqrt is
 *     up to an ulp off on 17 % of inputs, and Adam / RMSprop divide by it
 *     every step, so these agree to BUILD_REL_TOL (below), not to the bit.
 * The generator asserts that every non-default setting moves its trajectory
 * by more than 1e-4 relative, so an implementation that ignored or misread
 * an option would fail the first two at once, and the third by ten times
 * its tolerance; torch 1.13's running means (mul_ + add_ instead of lerp_)
 * fail the first (and torch 2.x's the second) in the last bits.
 *
 * Also: PyTorch's documented defaults, name parsing, nnf_optim_set and
 * nnf_optim_validate errors, nnf_optim_add misuse, nnf_optim_set_lr.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "nnf_optim.h"
#include "nnf_test.h"

#define MAXN 64
#define MAXSTEPS 64

/* Against a PyTorch whose sqrt rounds differently from sqrtf (optim_ref.json's
 * `params`): |got - want| <= BUILD_REL_TOL * |want|, with an absolute floor
 * of 1e-7 for elements near zero (a parameter passing through 0 has no
 * meaningful relative error). One ulp of a sqrt (6e-8 relative) in the
 * denominator of a step moves that step by as much; 20 steps of Adam /
 * RMSprop carry and add such differences: measured up to 8.4e-6 with torch
 * 2.15's wheel. 2e-5 covers that and stays five times below the 1e-4 effect
 * of any option. The two correctly rounded references must match exactly. */
#define BUILD_REL_TOL 2e-5
#define ABS_FLOOR 1e-7

static double worst_rel;  /* largest |got - want| / max(|want|, ABS_FLOOR) */
static long n_compared, n_inexact;
static double rel_tol;    /* of the reference being replayed (0: bit for bit) */

/* ---- reading the reference file ----------------------------------------- */

static cJSON *load_ref(const char *path) {
  char *text = nnf_test_read_text(path);
  nnf_test_ctx("reading %s", path);
  CHECK(text != NULL);
  cJSON *root = cJSON_Parse(text);
  free(text);
  CHECK(root != NULL);
  nnf_test_ctx("");
  return root;
}

/* A JSON array of numbers into floats (the file holds float32 values as
 * decimals that round-trip through double). Returns the count. */
static int read_floats(const cJSON *arr, float *out, int max) {
  CHECK(cJSON_IsArray(arr));
  int n = cJSON_GetArraySize(arr);
  CHECK(n > 0 && n <= max);
  int i = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    CHECK(cJSON_IsNumber(v));
    out[i++] = (float)v->valuedouble;
  }
  return n;
}

static const cJSON *get(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  nnf_test_ctx("key \"%s\"", key);
  CHECK(v != NULL);
  nnf_test_ctx("");
  return v;
}

/* ---- trajectories -------------------------------------------------------- */

typedef struct {
  int n, steps, ntensors;
  int sizes[8];
  float init[MAXN];
  float grads[MAXSTEPS][MAXN];
} ref_problem;

static void read_problem(const cJSON *root, ref_problem *pb) {
  pb->steps = (int)get(root, "steps")->valuedouble;
  CHECK(pb->steps > 0 && pb->steps <= MAXSTEPS);
  pb->n = read_floats(get(root, "init"), pb->init, MAXN);
  const cJSON *sizes = get(root, "sizes"), *s;
  int total = 0;
  pb->ntensors = 0;
  cJSON_ArrayForEach(s, sizes) {
    CHECK(pb->ntensors < 8);
    pb->sizes[pb->ntensors++] = (int)s->valuedouble;
    total += (int)s->valuedouble;
  }
  CHECK_EQ(total, pb->n);
  const cJSON *grads = get(root, "grads"), *g;
  CHECK_EQ(cJSON_GetArraySize(grads), pb->steps);
  int t = 0;
  cJSON_ArrayForEach(g, grads) {
    CHECK_EQ(read_floats(g, pb->grads[t], MAXN), pb->n);
    t++;
  }
}

/* The case's configuration, built through nnf_optim_set by PyTorch name. */
static nnf_opt_config case_config(const cJSON *c) {
  const char *opt = get(c, "optimizer")->valuestring;
  int kind = nnf_optim_parse(opt);
  CHECK(kind >= 0);
  nnf_opt_config cfg = nnf_optim_defaults((nnf_opt_kind)kind);
  const cJSON *h;
  char err[256] = "";
  cJSON_ArrayForEach(h, get(c, "hyper")) {
    double v = cJSON_IsBool(h) ? (cJSON_IsTrue(h) ? 1.0 : 0.0) : h->valuedouble;
    CHECK(cJSON_IsBool(h) || cJSON_IsNumber(h));
    int rc = nnf_optim_set(&cfg, h->string, v, err, sizeof err);
    if (rc != 0) fprintf(stderr, "nnf_optim_set(%s, %g): %s\n", h->string, v, err);
    CHECK_OK(rc);
  }
  CHECK_OK(nnf_optim_validate(&cfg, err, sizeof err));
  return cfg;
}

static void compare(const float *got, const float *want, int n) {
  for (int i = 0; i < n; i++) {
    double a = got[i], b = want[i];
    double d = fabs(a - b), scale = fmax(fabs(b), ABS_FLOOR);
    if (d / scale > worst_rel) worst_rel = d / scale;
    if (got[i] != want[i]) n_inexact++;
    n_compared++;
    double tol = rel_tol > 0 ? fmax(rel_tol * fabs(b), ABS_FLOOR) : 0;
    if (!(d <= tol)) {
      fprintf(stderr, "element %d: got %.9g, want %.9g\n", i, a, b);
      CHECK(d <= tol);
    }
  }
}

static void replay_case(const ref_problem *pb, const cJSON *c, const char *key, int torch1) {
  const char *name = get(c, "name")->valuestring;
  nnf_opt_config cfg = case_config(c);
  cfg.torch1_ema = torch1;
  const cJSON *lrc = get(c, "lr_change"), *traj = get(c, key), *row;
  int change_at = -1;
  double change_lr = 0;
  if (cJSON_IsArray(lrc)) {
    change_at = (int)cJSON_GetArrayItem(lrc, 0)->valuedouble;
    change_lr = cJSON_GetArrayItem(lrc, 1)->valuedouble;
  }
  CHECK_EQ(cJSON_GetArraySize(traj), pb->steps);

  float w[MAXN], g[MAXN], want[MAXN];
  char err[256];
  memcpy(w, pb->init, sizeof w);
  nnf_optim *o = nnf_optim_create(&cfg, err, sizeof err);
  CHECK(o != NULL);
  for (int k = 0, off = 0; k < pb->ntensors; off += pb->sizes[k++])
    CHECK_OK(nnf_optim_add(o, w + off, g + off, (size_t)pb->sizes[k]));

  int t = 0;
  cJSON_ArrayForEach(row, traj) {
    nnf_test_ctx("case %s (%s), step %d", name, key, t + 1);
    if (t == change_at) nnf_optim_set_lr(o, change_lr);
    memcpy(g, pb->grads[t], sizeof g);
    nnf_optim_step(o);
    CHECK_EQ(read_floats(row, want, MAXN), pb->n);
    compare(w, want, pb->n);
    t++;
  }
  nnf_test_ctx("");
  nnf_optim_destroy(o);
}

/* Replay every case of one reference file's trajectories `key`, with
 * torch 1.13's running means if torch1, to relative tolerance tol (0: bit
 * for bit). */
static void replay_file(const char *file, const char *key, int torch1, double tol) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", NNF_TEST_DATA, file);
  cJSON *root = load_ref(path);
  static ref_problem pb;
  read_problem(root, &pb);
  worst_rel = 0;
  n_compared = n_inexact = 0;
  rel_tol = tol;
  const cJSON *cases = get(root, "cases"), *c;
  int ncases = 0;
  cJSON_ArrayForEach(c, cases) {
    replay_case(&pb, c, key, torch1);
    ncases++;
  }
  CHECK(ncases >= 20);
  printf("optim: %s %s (torch %s): %d trajectories x %d steps x %d values; largest relative "
         "error %.3g, %ld of %ld values not bit-exact\n",
         file, key, get(root, "torch")->valuestring, ncases, pb.steps, pb.n, worst_rel, n_inexact,
         n_compared);
  cJSON_Delete(root);
}

static void test_trajectories(void) {
  replay_file("optim_ref.json", "params_cr_sqrt", 0, 0);
  replay_file("optim_ref_torch1.13.json", "params", 1, 0);
  replay_file("optim_ref.json", "params", 0, BUILD_REL_TOL);
}

/* ---- defaults, names, set / validate errors ------------------------------- */

/* The defaults documented for torch.optim in torch 1.13 (SGD's lr: 1e-3,
 * torch 2.x's default, since 1.13 has none). */
static void test_defaults(void) {
  nnf_opt_config c = nnf_optim_defaults(NNF_OPT_SGD);
  CHECK(c.kind == NNF_OPT_SGD && c.lr == 1e-3 && c.momentum == 0 && c.dampening == 0);
  CHECK(c.weight_decay == 0 && c.nesterov == 0);

  c = nnf_optim_defaults(NNF_OPT_ADAGRAD);
  CHECK(c.kind == NNF_OPT_ADAGRAD && c.lr == 1e-2 && c.lr_decay == 0 && c.weight_decay == 0);
  CHECK(c.initial_accumulator_value == 0 && c.eps == 1e-10);

  c = nnf_optim_defaults(NNF_OPT_RMSPROP);
  CHECK(c.kind == NNF_OPT_RMSPROP && c.lr == 1e-2 && c.alpha == 0.99 && c.eps == 1e-8);
  CHECK(c.weight_decay == 0 && c.momentum == 0 && c.centered == 0);

  c = nnf_optim_defaults(NNF_OPT_ADAM);
  CHECK(c.kind == NNF_OPT_ADAM && c.lr == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999);
  CHECK(c.eps == 1e-8 && c.weight_decay == 0 && c.amsgrad == 0);

  c = nnf_optim_defaults(NNF_OPT_ADAMW);
  CHECK(c.kind == NNF_OPT_ADAMW && c.lr == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999);
  CHECK(c.eps == 1e-8 && c.weight_decay == 1e-2 && c.amsgrad == 0);

  char err[256];
  for (int k = NNF_OPT_SGD; k <= NNF_OPT_ADAMW; k++) {
    c = nnf_optim_defaults((nnf_opt_kind)k);
    CHECK_OK(nnf_optim_validate(&c, err, sizeof err));
  }
}

static void test_names(void) {
  const char *names[] = {"sgd", "adagrad", "rmsprop", "adam", "adamw"};
  for (int k = NNF_OPT_SGD; k <= NNF_OPT_ADAMW; k++) {
    CHECK(strcmp(nnf_optim_name((nnf_opt_kind)k), names[k]) == 0);
    CHECK_EQ(nnf_optim_parse(names[k]), k);
    CHECK_EQ(nnf_optim_parse(nnf_optim_name((nnf_opt_kind)k)), k);
  }
  CHECK_EQ(nnf_optim_parse("lbfgs"), -1);
  CHECK_EQ(nnf_optim_parse("adam "), -1);
  CHECK_EQ(nnf_optim_parse(""), -1);
  CHECK_EQ(nnf_optim_parse(NULL), -1);
}

/* nnf_optim_set on kind fails, leaves cfg alone and says `expect`. */
static void set_fails(nnf_opt_kind kind, const char *name, double v, const char *expect) {
  nnf_opt_config c = nnf_optim_defaults(kind), before = c;
  char err[256] = "";
  nnf_test_ctx("%s: set %s = %g", nnf_optim_name(kind), name, v);
  CHECK_EQ(nnf_optim_set(&c, name, v, err, sizeof err), -1);
  CHECK(memcmp(&c, &before, sizeof c) == 0);
  if (!strstr(err, expect)) fprintf(stderr, "message: %s\n", err);
  CHECK(strstr(err, expect) != NULL);
  nnf_test_ctx("");
}

static void test_set(void) {
  char err[256];
  nnf_opt_config c = nnf_optim_defaults(NNF_OPT_SGD);
  CHECK_OK(nnf_optim_set(&c, "lr", 0.25, err, sizeof err));
  CHECK_OK(nnf_optim_set(&c, "momentum", 0.9, err, sizeof err));
  CHECK_OK(nnf_optim_set(&c, "nesterov", 1, err, sizeof err));
  CHECK(c.lr == 0.25 && c.momentum == 0.9 && c.nesterov == 1);
  c = nnf_optim_defaults(NNF_OPT_ADAMW);
  CHECK_OK(nnf_optim_set(&c, "beta1", 0.5, err, sizeof err));
  CHECK_OK(nnf_optim_set(&c, "beta2", 0.0, err, sizeof err));
  CHECK_OK(nnf_optim_set(&c, "amsgrad", 1, err, sizeof err));
  CHECK(c.beta1 == 0.5 && c.beta2 == 0.0 && c.amsgrad == 1);

  /* unknown names */
  set_fails(NNF_OPT_ADAM, "learning_rate", 0.1, "unknown optimizer hyperparameter \"learning_rate\"");
  set_fails(NNF_OPT_ADAM, "betas", 0.9, "beta1");
  set_fails(NNF_OPT_SGD, "", 1, "unknown");
  /* names the optimizer does not have */
  set_fails(NNF_OPT_SGD, "amsgrad", 1, "sgd has no hyperparameter \"amsgrad\"");
  set_fails(NNF_OPT_SGD, "eps", 1e-8, "sgd has no hyperparameter \"eps\"");
  set_fails(NNF_OPT_ADAM, "momentum", 0.9, "adam has no hyperparameter \"momentum\"");
  set_fails(NNF_OPT_ADAMW, "nesterov", 1, "adamw has no");
  set_fails(NNF_OPT_ADAGRAD, "alpha", 0.9, "adagrad has no");
  set_fails(NNF_OPT_RMSPROP, "lr_decay", 0.1, "rmsprop has no");
  set_fails(NNF_OPT_RMSPROP, "dampening", 0.1, "rmsprop has no");
  /* out of PyTorch's ranges (its ValueError wording) */
  set_fails(NNF_OPT_SGD, "lr", -0.1, "Invalid learning rate");
  set_fails(NNF_OPT_ADAM, "lr", NAN, "Invalid learning rate");
  set_fails(NNF_OPT_SGD, "momentum", -0.5, "Invalid momentum value");
  set_fails(NNF_OPT_SGD, "weight_decay", -1e-4, "Invalid weight_decay value");
  set_fails(NNF_OPT_SGD, "nesterov", 2, "Invalid nesterov value");
  set_fails(NNF_OPT_ADAGRAD, "lr_decay", -1, "Invalid lr_decay value");
  set_fails(NNF_OPT_ADAGRAD, "initial_accumulator_value", -0.1,
            "Invalid initial_accumulator_value value");
  set_fails(NNF_OPT_ADAGRAD, "eps", -1e-10, "Invalid epsilon value");
  set_fails(NNF_OPT_RMSPROP, "alpha", -0.01, "Invalid alpha value");
  set_fails(NNF_OPT_ADAM, "beta1", 1.0, "Invalid beta parameter at index 0");
  set_fails(NNF_OPT_ADAMW, "beta2", -0.1, "Invalid beta parameter at index 1");
  set_fails(NNF_OPT_ADAMW, "weight_decay", -0.01, "Invalid weight_decay value");
}

/* nnf_optim_validate (and so nnf_optim_create) on a config: fails with `expect`. */
static void validate_fails(const nnf_opt_config *c, const char *expect) {
  char err[256] = "";
  CHECK_EQ(nnf_optim_validate(c, err, sizeof err), -1);
  if (!strstr(err, expect)) fprintf(stderr, "message: %s\n", err);
  CHECK(strstr(err, expect) != NULL);
  err[0] = '\0';
  CHECK(nnf_optim_create(c, err, sizeof err) == NULL);
  CHECK(strstr(err, expect) != NULL);
}

static void test_validate(void) {
  char err[256];
  nnf_opt_config c = nnf_optim_defaults(NNF_OPT_SGD);
  c.nesterov = 1;
  validate_fails(&c, "Nesterov momentum requires a momentum and zero dampening");
  c.momentum = 0.9;
  CHECK_OK(nnf_optim_validate(&c, err, sizeof err));
  c.dampening = 0.1;
  validate_fails(&c, "Nesterov momentum requires a momentum and zero dampening");
  c.nesterov = 0; /* dampening without Nesterov is fine */
  CHECK_OK(nnf_optim_validate(&c, err, sizeof err));

  c = nnf_optim_defaults(NNF_OPT_ADAM);
  c.lr = -1e-3;
  validate_fails(&c, "Invalid learning rate");
  c = nnf_optim_defaults(NNF_OPT_ADAM);
  c.beta2 = 1.0;
  validate_fails(&c, "Invalid beta parameter at index 1");
  c = nnf_optim_defaults(NNF_OPT_RMSPROP);
  c.eps = -1e-8;
  validate_fails(&c, "Invalid epsilon value");
  c = nnf_optim_defaults(NNF_OPT_ADAGRAD);
  c.initial_accumulator_value = -1;
  validate_fails(&c, "Invalid initial_accumulator_value value");
  c = nnf_optim_defaults(NNF_OPT_ADAM);
  c.kind = (nnf_opt_kind)42;
  validate_fails(&c, "unknown optimizer kind");
  CHECK_EQ(nnf_optim_validate(NULL, err, sizeof err), -1);
}

/* set_lr takes effect on the next step: plain SGD, p -= lr * g. */
static void test_set_lr(void) {
  char err[256];
  nnf_opt_config c = nnf_optim_defaults(NNF_OPT_SGD);
  CHECK_OK(nnf_optim_set(&c, "lr", 0.25, err, sizeof err));
  float w[2] = {1.0f, -2.0f}, g[2] = {1.0f, 0.5f};
  nnf_optim *o = nnf_optim_create(&c, err, sizeof err);
  CHECK(o != NULL);
  CHECK_OK(nnf_optim_add(o, w, g, 2));
  nnf_optim_step(o);
  CHECK(w[0] == 0.75f && w[1] == -2.125f);
  nnf_optim_set_lr(o, 0.5);
  CHECK(nnf_optim_config(o)->lr == 0.5);
  nnf_optim_step(o);
  CHECK(w[0] == 0.25f && w[1] == -2.375f);
  nnf_optim_set_lr(o, 0.0);
  nnf_optim_step(o);
  CHECK(w[0] == 0.25f && w[1] == -2.375f);
  nnf_optim_destroy(o);
}

static void test_add(void) {
  char err[256];
  nnf_opt_config c = nnf_optim_defaults(NNF_OPT_ADAM);
  nnf_optim *o = nnf_optim_create(&c, err, sizeof err);
  float w[3] = {1, 2, 3}, g[3] = {0, 0, 0};
  CHECK(o != NULL);
  CHECK_EQ(nnf_optim_add(o, NULL, g, 3), -1);
  CHECK_EQ(nnf_optim_add(o, w, NULL, 3), -1);
  CHECK_OK(nnf_optim_add(o, w, g, 3));
  CHECK_EQ(nnf_optim_add(o, w, g, 3), -1); /* the same array twice */
  CHECK_OK(nnf_optim_add(o, NULL, NULL, 0)); /* an empty tensor */
  nnf_optim_step(o); /* zero gradient: Adam leaves w alone */
  CHECK(w[0] == 1 && w[1] == 2 && w[2] == 3);
  CHECK(nnf_optim_config(o)->kind == NNF_OPT_ADAM);
  nnf_optim_destroy(o);
  nnf_optim_destroy(NULL);
  CHECK_EQ(nnf_optim_add(NULL, w, g, 3), -1);
}

int main(int argc, char **argv) {
  (void)argc;
  test_defaults();
  test_names();
  test_set();
  test_validate();
  test_set_lr();
  test_add();
  test_trajectories();
  return nnf_test_done(argv[0]);
}
