/*
 * test_tasks.c - the tasks through the library's training loop and
 * checkpoints (docs/tasks.md): a regression MLP and a multi-label MLP learn
 * (fake-quant forward, the int8 rounding of the device) to well below what
 * a constant guess scores, the validation split keeps the lowest MSE, the
 * task and a Dropout layer survive a checkpoint, dropout with an integer
 * forward and a task that does not fit the data are refused, and L1 and
 * clipping change the run while the default run stays what it was.
 */
#include <math.h>

#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnf_train.h"
#include "nnf_test.h"

/* n samples of 6 features in [-1, 1]; regression targets y0 = x0 - 0.5 x1 x2,
 * y1 = sin(2 x3) + 0.5 x4; multilabel targets (x0 > 0, x1 + x2 > 0.3, x5 x3 > 0). */
static nnf_dataset make(size_t n, int multilabel, uint64_t seed) {
  nnf_dataset d;
  memset(&d, 0, sizeof d);
  d.count = n;
  d.features = 6;
  d.targets = multilabel ? 3 : 2;
  d.x = malloc(sizeof(float) * n * 6);
  d.y = calloc(n, sizeof(int32_t));
  d.t = malloc(sizeof(float) * n * d.targets);
  CHECK(d.x && d.y && d.t);
  nnf_rng r = nnf_rng_seed(seed);
  for (size_t i = 0; i < n; i++) {
    float *x = d.x + i * 6, *t = d.t + i * d.targets;
    for (int j = 0; j < 6; j++) x[j] = (float)nnf_rng_range(&r, -1000, 1000) / 1000.0f;
    if (multilabel) {
      t[0] = x[0] > 0, t[1] = x[1] + x[2] > 0.3f, t[2] = x[5] * x[3] > 0;
    } else {
      t[0] = x[0] - 0.5f * x[1] * x[2];
      t[1] = sinf(2 * x[3]) + 0.5f * x[4];
    }
  }
  return d;
}

static double variance(const nnf_dataset *d) {
  double v = 0;
  for (size_t j = 0; j < d->targets; j++) {
    double m = 0, s = 0;
    for (size_t i = 0; i < d->count; i++) m += d->t[i * d->targets + j];
    m /= (double)d->count;
    for (size_t i = 0; i < d->count; i++) s += pow(d->t[i * d->targets + j] - m, 2);
    v += s / (double)d->count;
  }
  return v / (double)d->targets;
}

static nnf_net *mlp(int outputs, nnf_task_kind k, const double *drop) {
  char err[256];
  int sizes[3] = {6, 32, outputs};
  nnf_net *n = nnf_mlp_create_dropout(sizes, 3, NNF_ACT_RELU, drop, 3, err, sizeof err);
  CHECK(n != NULL);
  n->task.kind = k;
  n->task.loss = nnf_task_default_loss(k);
  return n;
}

static int train(nnf_net *n, const nnf_dataset *tr, const nnf_dataset *va, nnf_train_opts *o, char *err,
                 size_t errlen) {
  nnf_opt_config oc = nnf_optim_defaults(NNF_OPT_ADAM);
  oc.lr = 5e-3;
  nnf_optim *opt = nnf_optim_create(&oc, err, errlen);
  CHECK(opt != NULL);
  CHECK_OK(nnf_net_register(n, opt));
  int rc = nnf_train(n, opt, NULL, tr, va, NULL, o, err, errlen);
  nnf_optim_destroy(opt);
  return rc;
}

static void test_regression(void) {
  char err[256];
  nnf_dataset tr = make(1500, 0, 1), te = make(400, 0, 2);
  nnf_net *n = mlp(2, NNF_TASK_REGRESSION, NULL);
  nnf_train_opts o = nnf_train_defaults();
  nnf_epoch_stats hist[12];
  o.epochs = 12;
  o.batch = 32;
  o.history = hist;
  CHECK_OK(train(n, &tr, &te, &o, err, sizeof err));
  nnf_eval_result r;
  CHECK_OK(nnf_evaluate(n, NNF_FWD_FAKEQUANT, NULL, &te, 64, &r, NULL, NULL, err, sizeof err));
  double base = variance(&te);
  printf("regression: test MSE %.5f MAE %.5f, predicting the mean %.5f\n", r.mse, r.mae, base);
  CHECK(r.mse > 0 && r.mse < base / 20);
  CHECK(r.mae > 0 && r.mae * r.mae <= r.mse + 1e-12); /* mean |e| squared <= mean e^2 */
  CHECK(fabs(r.figure - r.mse) < 1e-15 && fabs(r.loss - r.mse) < 1e-6 * r.mse + 1e-9);
  /* the kept weights are those of the lowest validation MSE: evaluating
   * them gives exactly the best epoch's figure */
  double best = hist[0].val_acc;
  for (int e = 1; e < 12; e++) best = hist[e].val_acc < best ? hist[e].val_acc : best;
  nnf_test_ctx("kept %.9g, best epoch %.9g", r.mse, best);
  CHECK(r.mse == best);
  /* the checkpoint keeps the task; the loaded network evaluates the same */
  char path[512];
  snprintf(path, sizeof path, "%s/regression.safetensors", NNF_TEST_TMP);
  n->task.loss = NNF_LOSS_HUBER;
  n->task.huber_delta = 0.25f;
  CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
  nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(m != NULL);
  CHECK(m->task.kind == NNF_TASK_REGRESSION && m->task.loss == NNF_LOSS_HUBER && m->task.huber_delta == 0.25f);
  nnf_eval_result r2;
  CHECK_OK(nnf_evaluate(m, NNF_FWD_FAKEQUANT, NULL, &te, 64, &r2, NULL, NULL, err, sizeof err));
  CHECK(r2.mse == r.mse);
  nnf_net_free(m);
  /* a label data set for a target task is refused, naming the columns */
  nnf_dataset lab = te;
  lab.t = NULL;
  lab.targets = 0;
  CHECK(nnf_evaluate(n, NNF_FWD_FAKEQUANT, NULL, &lab, 64, &r2, NULL, NULL, err, sizeof err) == -1);
  nnf_test_ctx("%s", err);
  CHECK(strstr(err, "needs 2 target columns") != NULL);
  nnf_test_ctx("");
  nnf_net_free(n);
  nnf_dataset_free(&tr);
  nnf_dataset_free(&te);
}

static void test_multilabel_dropout(void) {
  char err[256];
  nnf_dataset tr = make(1500, 1, 3), te = make(400, 1, 4);
  double drop[3] = {0, 0.2, 0};
  nnf_net *n = mlp(3, NNF_TASK_MULTILABEL, drop);
  nnf_train_opts o = nnf_train_defaults();
  o.epochs = 10;
  o.batch = 32;
  o.l1 = 1e-5f;
  o.clip_norm = 1.0f;
  CHECK_OK(train(n, &tr, NULL, &o, err, sizeof err));
  nnf_eval_result r;
  CHECK_OK(nnf_evaluate(n, NNF_FWD_FAKEQUANT, NULL, &te, 64, &r, NULL, NULL, err, sizeof err));
  printf("multilabel: per-label %.4f, exact match %.4f\n", r.accuracy, r.exact_match);
  CHECK(r.accuracy >= 0.88 && r.exact_match >= 0.65);
  CHECK(r.correct == (uint64_t)llround(r.exact_match * (double)r.images));
  /* the architecture and the task through a checkpoint */
  char path[512], arch[256];
  snprintf(path, sizeof path, "%s/multilabel.safetensors", NNF_TEST_TMP);
  CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
  nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
  CHECK(m != NULL);
  nnf_net_describe(m, arch, sizeof arch);
  nnf_test_ctx("%s", arch);
  CHECK(!strcmp(arch, "Linear(6,32),ReLU,Dropout(0.2),Linear(32,3)"));
  CHECK(m->task.kind == NNF_TASK_MULTILABEL && m->task.loss == NNF_LOSS_BCE);
  nnf_eval_result r2;
  CHECK_OK(nnf_evaluate(m, NNF_FWD_INT, NULL, &te, 64, &r2, NULL, NULL, err, sizeof err));
  CHECK(r2.accuracy >= 0.88); /* the integer path (the device's arithmetic) runs it */
  nnf_net_free(m);
  /* dropout cannot train on the integer path (nor a device) */
  o.mode = NNF_FWD_INT;
  CHECK(train(n, &tr, NULL, &o, err, sizeof err) == -1 && strstr(err, "dropout needs the training forward"));
  nnf_net_free(n);
  nnf_dataset_free(&tr);
  nnf_dataset_free(&te);
}

/* L1 and clipping act; the default options leave a run as it was (the
 * same weights as a run that never heard of them). */
static void test_regularisation(void) {
  char err[256];
  nnf_dataset tr = make(300, 0, 5);
  nnf_train_opts o = nnf_train_defaults();
  o.epochs = 2;
  o.batch = 16;
  nnf_net *a = mlp(2, NNF_TASK_REGRESSION, NULL), *b = mlp(2, NNF_TASK_REGRESSION, NULL),
          *c = mlp(2, NNF_TASK_REGRESSION, NULL);
  CHECK_OK(train(a, &tr, NULL, &o, err, sizeof err));
  o.l1 = 0.01f;
  CHECK_OK(train(b, &tr, NULL, &o, err, sizeof err));
  o.l1 = 0;
  o.clip_norm = 1e-3f;
  CHECK_OK(train(c, &tr, NULL, &o, err, sizeof err));
  double l1a = 0, l1b = 0;
  const nnf_dense *da = nnf_net_dense(a, 0), *db = nnf_net_dense(b, 0), *dc = nnf_net_dense(c, 0);
  for (int i = 0; i < 6 * 32; i++) l1a += fabs(da->w[i]), l1b += fabs(db->w[i]);
  printf("regularisation: sum |W1| %.3f without L1, %.3f with l1 = 0.01\n", l1a, l1b);
  CHECK(l1b < 0.9 * l1a);
  CHECK(memcmp(da->w, dc->w, sizeof(float) * 6 * 32) != 0);
  o.clip_norm = -1;
  CHECK(train(c, &tr, NULL, &o, err, sizeof err) == -1 && strstr(err, "clipping norm"));
  nnf_net_free(a);
  nnf_net_free(b);
  nnf_net_free(c);
  nnf_dataset_free(&tr);
}

int main(int argc, char **argv) {
  (void)argc;
  test_regression();
  test_multilabel_dropout();
  test_regularisation();
  return nnf_test_done(argv[0]);
}
