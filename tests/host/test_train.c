/*
 * test_train.c - the training features around the loop:
 *   - initialisers against torch.nn.init's definitions: bounds, and sample
 *     moments within 6 standard errors for the sample size; gains as
 *     torch.nn.init.calculate_gain; seeded reproducibility;
 *   - learning-rate schedules against their closed forms and PyTorch 1.13's
 *     values (StepLR, ExponentialLR, CosineAnnealingLR, printed by torch);
 *   - gradient accumulation and full batch give the same step as one big
 *     batch; online (batch 1) runs;
 *   - validation split, early stopping, and keeping the best weights.
 */
#include <math.h>
#include <stdlib.h>

#include "nnf_init.h"
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_test.h"
#include "nnf_train.h"

#define CHECK_NEAR(a, b, tol)                                                      \
  do {                                                                             \
    double x_ = (a), y_ = (b);                                                     \
    if (!(fabs(x_ - y_) <= (tol))) {                                               \
      char m_[256];                                                                \
      snprintf(m_, sizeof m_, "CHECK_NEAR(%s, %s): %.9g vs %.9g (tol %.3g)", #a, #b, x_, y_, \
               (double)(tol));                                                     \
      nnf_test_fail_(__FILE__, __LINE__, m_);                                      \
    }                                                                              \
    nnf_test_checks_++;                                                            \
  } while (0)

static char err[512];

/* Mean, variance, min, max of a layer's weights. */
static void moments(const nnf_dense *L, double *mean, double *var, double *lo, double *hi) {
  size_t n = (size_t)L->in * L->out;
  double s = 0, s2 = 0;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    s += L->w[i];
    *lo = L->w[i] < *lo ? L->w[i] : *lo;
    *hi = L->w[i] > *hi ? L->w[i] : *hi;
  }
  *mean = s / n;
  for (size_t i = 0; i < n; i++) s2 += (L->w[i] - *mean) * (L->w[i] - *mean);
  *var = s2 / (n - 1);
}

/* A uniform(-a, a) sample: variance a^2/3; the sample mean's standard error
 * is sqrt(a^2/3/n), the sample variance's sqrt((m4 - s^4)/n) with
 * m4 = a^4/5. A normal(0, s): var(s^2 estimate) = 2 s^4 / n. */
static void check_uniform(const nnf_dense *L, double a) {
  double n = (double)L->in * L->out, mean, var, lo, hi;
  moments(L, &mean, &var, &lo, &hi);
  double v = a * a / 3, m4 = pow(a, 4) / 5;
  CHECK(lo >= -a && hi <= a);
  CHECK(hi > a * (1 - 20 / n) && lo < -a * (1 - 20 / n)); /* the range is used */
  CHECK_NEAR(mean, 0, 6 * sqrt(v / n));
  CHECK_NEAR(var, v, 6 * sqrt((m4 - v * v) / n));
}

static void check_normal(const nnf_dense *L, double mu, double s) {
  double n = (double)L->in * L->out, mean, var, lo, hi;
  moments(L, &mean, &var, &lo, &hi);
  CHECK_NEAR(mean, mu, 6 * s / sqrt(n));
  CHECK_NEAR(var, s * s, 6 * s * s * sqrt(2 / n));
  CHECK(hi - mu > 3 * s && mu - lo > 3 * s); /* tails reach past 3 sigma at this n */
}

static void initialisers(void) {
  const int IN = 300, OUT = 700; /* 210000 samples */
  nnf_dense L;
  CHECK_OK(nnf_dense_init(&L, IN, OUT));
  uint64_t rng = 42;
  /* torch.nn.init.calculate_gain: relu 1.4142135623730951, tanh 1.6666666666666667, sigmoid 1 */
  CHECK_NEAR(nnf_init_gain(NNF_ACT_RELU), 1.4142135623730951, 1e-15);
  CHECK_NEAR(nnf_init_gain(NNF_ACT_TANH), 1.6666666666666667, 1e-15);
  CHECK_NEAR(nnf_init_gain(NNF_ACT_SIGMOID), 1.0, 0);
  CHECK_NEAR(nnf_init_gain(NNF_ACT_NONE), 1.0, 0);

  nnf_init_spec s = nnf_init_defaults(NNF_INIT_DEFAULT);
  CHECK_OK(nnf_init_layer(&L, &s, NNF_ACT_RELU, &rng));
  check_uniform(&L, 1 / sqrt(IN));
  for (int i = 0; i < OUT; i++) CHECK(fabs(L.b[i]) <= 1 / sqrt(IN));

  s = nnf_init_defaults(NNF_INIT_UNIFORM);
  s.a = -0.25;
  s.b = 0.75;
  CHECK_OK(nnf_init_layer(&L, &s, NNF_ACT_RELU, &rng));
  for (int i = 0; i < IN * OUT; i++) L.w[i] -= 0.25f; /* centre: uniform(-0.5, 0.5) */
  check_uniform(&L, 0.5);
  CHECK_EQ(L.b[3] == 0.0f, 1);

  s = nnf_init_defaults(NNF_INIT_NORMAL);
  s.mean = 0.5;
  s.std = 0.02;
  CHECK_OK(nnf_init_layer(&L, &s, NNF_ACT_RELU, &rng));
  check_normal(&L, 0.5, 0.02);

  static const nnf_act acts[] = {NNF_ACT_RELU, NNF_ACT_TANH, NNF_ACT_SIGMOID};
  for (int k = 0; k < 3; k++) {
    double g = nnf_init_gain(acts[k]);
    nnf_test_ctx("gain of %s", nnf_act_name(acts[k]));
    s = nnf_init_defaults(NNF_INIT_XAVIER_UNIFORM);
    CHECK_OK(nnf_init_layer(&L, &s, acts[k], &rng));
    check_uniform(&L, g * sqrt(6.0 / (IN + OUT)));
    s = nnf_init_defaults(NNF_INIT_XAVIER_NORMAL);
    CHECK_OK(nnf_init_layer(&L, &s, acts[k], &rng));
    check_normal(&L, 0, g * sqrt(2.0 / (IN + OUT)));
    for (int mode = 0; mode < 2; mode++) {
      double fan = mode ? OUT : IN;
      s = nnf_init_defaults(NNF_INIT_KAIMING_UNIFORM);
      s.fan_out = mode;
      CHECK_OK(nnf_init_layer(&L, &s, acts[k], &rng));
      check_uniform(&L, sqrt(3.0) * g / sqrt(fan));
      s = nnf_init_defaults(NNF_INIT_KAIMING_NORMAL);
      s.fan_out = mode;
      CHECK_OK(nnf_init_layer(&L, &s, acts[k], &rng));
      check_normal(&L, 0, g / sqrt(fan));
    }
  }
  nnf_test_ctx("");
  s = nnf_init_defaults(NNF_INIT_ZEROS);
  CHECK_OK(nnf_init_layer(&L, &s, NNF_ACT_RELU, &rng));
  double mean, var, lo, hi;
  moments(&L, &mean, &var, &lo, &hi);
  CHECK(lo == 0 && hi == 0);
  /* bad specs */
  s = nnf_init_defaults(NNF_INIT_UNIFORM);
  s.a = 1;
  s.b = 0;
  CHECK_EQ(nnf_init_layer(&L, &s, NNF_ACT_RELU, &rng), -1);
  s = nnf_init_defaults(NNF_INIT_NORMAL);
  s.std = -1;
  CHECK_EQ(nnf_init_layer(&L, &s, NNF_ACT_RELU, &rng), -1);
  CHECK_EQ(nnf_init_parse("he_normal"), NNF_INIT_KAIMING_NORMAL);
  CHECK_EQ(nnf_init_parse("glorot_uniform"), NNF_INIT_XAVIER_UNIFORM);
  CHECK_EQ(nnf_init_parse("lecun"), -1);
  nnf_dense_free(&L);

  /* a seed reproduces a network exactly; another seed does not */
  const int sizes[3] = {20, 30, 4};
  nnf_net *a = nnf_mlp_create(sizes, 3, NNF_ACT_TANH, 1, err, sizeof err);
  nnf_net *b = nnf_mlp_create(sizes, 3, NNF_ACT_TANH, 2, err, sizeof err);
  s = nnf_init_defaults(NNF_INIT_XAVIER_NORMAL);
  CHECK_OK(nnf_net_init(a, &s, 9));
  CHECK_OK(nnf_net_init(b, &s, 9));
  CHECK_MEM_EQ(nnf_net_dense(a, 1)->w, nnf_net_dense(b, 1)->w, sizeof(float) * 30 * 4);
  CHECK_OK(nnf_net_init(b, &s, 10));
  CHECK(memcmp(nnf_net_dense(a, 0)->w, nnf_net_dense(b, 0)->w, sizeof(float) * 20 * 30) != 0);
  nnf_net_free(a);
  nnf_net_free(b);
}

static void schedules(void) {
  nnf_sched s;
  memset(&s, 0, sizeof s);
  /* torch 1.13, lr 0.1, 12 epochs:
   * StepLR(step_size=3, gamma=0.5), ExponentialLR(gamma=0.9), CosineAnnealingLR(T_max=5, eta_min=0.01) */
  static const double step[12] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125};
  static const double cosv[12] = {0.1, 0.09140576474687263, 0.06890576474687263, 0.04109423525312736,
                                  0.018594235253127367, 0.01, 0.018594235253127367, 0.04109423525312739,
                                  0.06890576474687267, 0.09140576474687269, 0.10000000000000006,
                                  0.09140576474687272};
  for (int e = 0; e < 12; e++) {
    s.kind = NNF_SCHED_CONSTANT;
    CHECK_NEAR(nnf_sched_lr(&s, 0.1, e, 1000), 0.1, 0);
    s.kind = NNF_SCHED_STEP;
    s.step_size = 3;
    s.gamma = 0.5;
    CHECK_NEAR(nnf_sched_lr(&s, 0.1, e, 1000), step[e], 1e-15);
    s.kind = NNF_SCHED_EXPONENTIAL;
    s.gamma = 0.9;
    CHECK_NEAR(nnf_sched_lr(&s, 0.1, e, 1000), 0.1 * pow(0.9, e), 1e-15);
    s.kind = NNF_SCHED_COSINE;
    s.t_max = 5;
    s.eta_min = 0.01;
    CHECK_NEAR(nnf_sched_lr(&s, 0.1, e, 1000), cosv[e], 1e-12);
  }
  /* warm-up: linear over the first steps, then the schedule */
  s.kind = NNF_SCHED_CONSTANT;
  s.warmup_steps = 4;
  CHECK_NEAR(nnf_sched_lr(&s, 0.2, 0, 0), 0.05, 1e-15);
  CHECK_NEAR(nnf_sched_lr(&s, 0.2, 0, 2), 0.15, 1e-15);
  CHECK_NEAR(nnf_sched_lr(&s, 0.2, 0, 3), 0.2, 1e-15);
  CHECK_NEAR(nnf_sched_lr(&s, 0.2, 1, 9), 0.2, 1e-15);
  s.kind = NNF_SCHED_STEP;
  s.step_size = 0;
  CHECK_EQ(nnf_sched_validate(&s, err, sizeof err), -1);
  CHECK_EQ(nnf_sched_parse("cosine"), NNF_SCHED_COSINE);
  CHECK_EQ(nnf_sched_parse("onecycle"), -1);
}

/* nnf_train with a cosine schedule and t_max = 0 anneals over the whole run
 * (nnf_train.h): 4-3-2 network, SGD lr 0.1, 6 epochs, full batch. The lr
 * of each epoch's step from PyTorch 1.13, printed by
 *   opt = torch.optim.SGD(params, lr=0.1)
 *   sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
 *   for e in range(6): print(opt.param_groups[0]['lr']); opt.step(); sched.step()
 * (PyTorch's recursive form rounds differently from the closed form in the
 * last bits: 1e-15 absolute covers it; the bug gave 0.1 0 0.1 0 0.1 0). */
static void cosine_over_run(void) {
  static const double torch_lr[6] = {0.1, 0.09330127018922195, 0.07500000000000001, 0.05,
                                     0.025000000000000012, 0.006698729810778065};
  const int sizes[3] = {4, 3, 2};
  nnf_net *n = nnf_mlp_create(sizes, 3, NNF_ACT_RELU, 1, err, sizeof err);
  CHECK(n != NULL);
  nnf_opt_config oc = nnf_optim_defaults(NNF_OPT_SGD);
  oc.lr = 0.1;
  nnf_optim *o = nnf_optim_create(&oc, err, sizeof err);
  CHECK(o != NULL);
  CHECK_OK(nnf_net_register(n, o));
  nnf_dataset d;
  memset(&d, 0, sizeof d);
  d.count = 8;
  d.features = 4;
  d.classes = 2;
  d.x = malloc(sizeof(float) * 8 * 4);
  d.y = malloc(sizeof(int32_t) * 8);
  uint64_t r = 9;
  for (int i = 0; i < 8 * 4; i++) d.x[i] = nnf_rng_uniform(&r);
  for (int i = 0; i < 8; i++) d.y[i] = i % 2;
  nnf_epoch_stats hist[6];
  nnf_train_opts t = nnf_train_defaults();
  t.mode = t.eval_mode = NNF_FWD_FLOAT;
  t.epochs = 6;
  t.batch = 0; /* full batch: one step per epoch */
  t.sched.kind = NNF_SCHED_COSINE;
  t.sched.t_max = 0;
  t.history = hist;
  CHECK_OK(nnf_train(n, o, NULL, &d, NULL, NULL, &t, err, sizeof err));
  for (int e = 0; e < 6; e++) {
    nnf_test_ctx("cosine, t_max = 0, epoch %d", e);
    CHECK_NEAR(hist[e].lr, torch_lr[e], 1e-15);
  }
  nnf_test_ctx("");
  /* the caller's options are not rewritten */
  CHECK_EQ(t.sched.t_max, 0);
  nnf_dataset_free(&d);
  nnf_optim_destroy(o);
  nnf_net_free(n);
}

/* Synthetic 3-class data; feature 0 carries the sample's index (for the split test). */
static nnf_dataset data(size_t count, uint64_t seed) {
  nnf_dataset d;
  memset(&d, 0, sizeof d);
  d.count = count;
  d.features = 12;
  d.classes = 3;
  d.x = malloc(sizeof(float) * count * 12);
  d.y = malloc(sizeof(int32_t) * count);
  uint64_t r = seed;
  for (size_t i = 0; i < count; i++) {
    int c = (int)(nnf_rng_next(&r) % 3);
    d.y[i] = c;
    for (int j = 0; j < 12; j++) d.x[i * 12 + j] = nnf_rng_uniform(&r) * 0.6f + (j / 4 == c ? 0.4f : 0.0f);
    d.x[i * 12] = (float)i;
  }
  return d;
}

/* One epoch of SGD (lr 0.1, no momentum) on d with the given batch and
 * accumulation; returns the network. */
static nnf_net *one_step(const nnf_dataset *d, int batch, int accumulate) {
  const int sizes[3] = {12, 8, 3};
  nnf_net *n = nnf_mlp_create(sizes, 3, NNF_ACT_TANH, 3, err, sizeof err);
  nnf_opt_config oc = nnf_optim_defaults(NNF_OPT_SGD);
  oc.lr = 0.1;
  nnf_optim *o = nnf_optim_create(&oc, err, sizeof err);
  CHECK_OK(nnf_net_register(n, o));
  nnf_train_opts t = nnf_train_defaults();
  t.mode = t.eval_mode = NNF_FWD_FLOAT;
  t.epochs = 1;
  t.batch = batch;
  t.accumulate = accumulate;
  CHECK_OK(nnf_train(n, o, NULL, d, NULL, NULL, &t, err, sizeof err));
  nnf_optim_destroy(o);
  return n;
}

static void max_rel_diff(nnf_net *a, nnf_net *b, double tol) {
  for (int l = 0; l < nnf_net_linears(a); l++)
    for (int i = 0; i < nnf_net_size(a, l) * nnf_net_size(a, l + 1); i++)
      CHECK_NEAR(nnf_net_dense(a, l)->w[i], nnf_net_dense(b, l)->w[i], tol * (1 + fabs(nnf_net_dense(b, l)->w[i])));
}

static void accumulation(void) {
  /* 96 samples: one step of batch 96 == 6 passes of 16 accumulated ==
   * 4 passes of 24 + ... == full batch (one pass of 96 samples) */
  nnf_dataset d = data(96, 5);
  for (size_t i = 0; i < 96; i++) d.x[i * 12] = 0.5f; /* no index feature here */
  nnf_net *big = one_step(&d, 96, 1), *acc = one_step(&d, 16, 6), *full = one_step(&d, 0, 1);
  nnf_net *ragged = one_step(&d, 40, 3); /* 40 + 40 + 16, weighted by samples */
  max_rel_diff(acc, big, 1e-6);
  max_rel_diff(full, big, 1e-6);
  max_rel_diff(ragged, big, 1e-6);
  /* and not the same as three unaccumulated steps */
  nnf_net *steps = one_step(&d, 40, 1);
  double diff = 0;
  for (int i = 0; i < 12 * 8; i++) diff += fabs(nnf_net_dense(steps, 0)->w[i] - nnf_net_dense(big, 0)->w[i]);
  CHECK(diff > 1e-3);
  nnf_net *online = one_step(&d, 1, 1);
  CHECK(online != NULL);
  nnf_net_free(big);
  nnf_net_free(acc);
  nnf_net_free(full);
  nnf_net_free(ragged);
  nnf_net_free(steps);
  nnf_net_free(online);
  nnf_dataset_free(&d);
}

static void split_and_early_stop(void) {
  nnf_dataset d = data(1000, 8), tr, va;
  CHECK_OK(nnf_dataset_split(&d, 0.2, 3, &tr, &va, err, sizeof err));
  CHECK_EQ(tr.count, 800);
  CHECK_EQ(va.count, 200);
  char *seen = calloc(1000, 1);
  for (size_t i = 0; i < tr.count; i++) seen[(int)tr.x[i * 12]]++;
  for (size_t i = 0; i < va.count; i++) seen[(int)va.x[i * 12]]++;
  for (int i = 0; i < 1000; i++) CHECK_EQ(seen[i], 1); /* disjoint and covering */
  free(seen);
  CHECK_EQ(nnf_dataset_split(&d, 1.0, 3, &tr, &va, err, sizeof err) == 0 ? 0 : -1, -1);
  for (size_t i = 0; i < d.count; i++) d.x[i * 12] = 0.5f;
  nnf_dataset_free(&tr);
  nnf_dataset_free(&va);
  CHECK_OK(nnf_dataset_split(&d, 0.2, 3, &tr, &va, err, sizeof err));

  /* a learning rate far too high makes validation accuracy wander: early
   * stopping ends the run, and the kept weights score the best accuracy */
  const int sizes[3] = {12, 16, 3};
  nnf_net *n = nnf_mlp_create(sizes, 3, NNF_ACT_RELU, 4, err, sizeof err);
  nnf_opt_config oc = nnf_optim_defaults(NNF_OPT_SGD);
  oc.lr = 3.0;
  nnf_optim *o = nnf_optim_create(&oc, err, sizeof err);
  CHECK_OK(nnf_net_register(n, o));
  nnf_train_opts t = nnf_train_defaults();
  t.mode = t.eval_mode = NNF_FWD_FAKEQUANT;
  t.epochs = 40;
  t.batch = 50;
  t.patience = 3;
  nnf_epoch_stats hist[40];
  int ran = 0;
  t.history = hist;
  t.epochs_run = &ran;
  CHECK_OK(nnf_train(n, o, NULL, &tr, &va, NULL, &t, err, sizeof err));
  CHECK(ran >= 4 && ran < 40);
  double best = -1;
  int best_e = -1;
  for (int e = 0; e < ran; e++)
    if (hist[e].val_acc > best) best = hist[e].val_acc, best_e = e;
  CHECK(hist[best_e].best);
  CHECK_EQ(ran - 1 - best_e, 3); /* stopped exactly `patience` epochs after the best */
  nnf_eval_result r;
  CHECK_OK(nnf_evaluate(n, NNF_FWD_FAKEQUANT, NULL, &va, 64, &r, NULL, NULL, err, sizeof err));
  CHECK_NEAR(r.accuracy, best, 0);
  /* patience without a validation set is refused */
  CHECK_EQ(nnf_train(n, o, NULL, &tr, NULL, NULL, &t, err, sizeof err), -1);
  CHECK(strstr(err, "validation") != NULL);
  nnf_optim_destroy(o);
  nnf_net_free(n);
  nnf_dataset_free(&tr);
  nnf_dataset_free(&va);
  nnf_dataset_free(&d);
}

int main(int argc, char **argv) {
  (void)argc;
  initialisers();
  schedules();
  cosine_over_run();
  accumulation();
  split_and_early_stop();
  return nnf_test_done(argv[0]);
}
