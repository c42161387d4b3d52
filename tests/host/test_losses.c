/*
 * test_losses.c - libnnf's losses, dropout, L1 penalty and gradient clipping
 * against PyTorch (tests/data/loss_ref.json, written by
 * scripts/gen_loss_ref.py with Debian's torch 1.13), plus the properties the
 * references cannot show: large-logit stability, the task layer (labels and
 * targets through nnf_task_loss), dropout as a layer (seeded masks, inverted
 * scaling, identity at evaluation), and the tasks' figures.
 *
 * Tolerances. Bit for bit where libnnf evaluates the same float32 formula as
 * PyTorch: the MSE, L1 and Huber gradients ((2/n) d, sign(d) / n,
 * clamp(d, +-delta) / n), dropout (x * (1 / (1 - p)), the factor rounded to
 * float once, forward and backward), and the L1 gradients (g0 + l1 sign(w)).
 * Elsewhere the two compute the same quantity in a different order:
 *   - loss values: libnnf sums in double and rounds once, PyTorch sums float32
 *     (vectorised, pairwise: with n <= 30 terms at most 5 roundings of the
 *     partial sums, each <= 1/2 ulp, plus the elementwise log / exp and the
 *     mean's division): tolerance 8 * FLT_EPSILON relative (9.5e-7);
 *     measured: at most 1 ulp;
 *   - cross-entropy and BCE gradients: softmax / sigmoid through expf (torch)
 *     or exp in double (libnnf CE), each within 1 ulp of the exact value and
 *     scaled by 1/n: 2 ulp relative to the element, or 2 ulp of 1/n absolute
 *     for elements near 0 (the exact (p - t) cancels there); measured: 1/4
 *     of that;
 *   - clipping: the total norm is a float sum of squares in torch (per
 *     tensor, then of the norms), double in libnnf: 4 ulp relative; the
 *     clipped gradients inherit the coefficient's rounding: 4 ulp; measured:
 *     equal.
 * A loosened rule shows up as a failure: the test prints the worst
 * deviation of each family and checks it against the bound, and a wrong
 * formula (e.g. BCE without the log1p form, dropout scaled by (1 - p))
 * misses by orders of magnitude.
 */
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>

#include "nnf_layer.h"
#include "nnf_nn.h"
#include "nnf_task.h"
#include "nnf_test.h"

#define MAXV 1024

static const cJSON *get(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  nnf_test_ctx("key \"%s\"", key);
  CHECK(v != NULL);
  return v;
}

static int floats(const cJSON *arr, float *out) {
  CHECK(cJSON_IsArray(arr));
  int n = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    CHECK(cJSON_IsNumber(v) && n < MAXV);
    out[n++] = (float)v->valuedouble;
  }
  return n;
}

static int ints(const cJSON *arr, int32_t *out) {
  CHECK(cJSON_IsArray(arr));
  int n = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, arr) {
    CHECK(cJSON_IsNumber(v) && n < MAXV);
    out[n++] = (int32_t)v->valueint;
  }
  return n;
}

/* |a - b| <= rel |b| + abs; records the worst ratio to the bound. */
static double worst[8];
enum { W_LOSS, W_GRAD, W_CLIP, W_NORM };
static void close_to(const char *what, int i, float a, float b, double rel, double abs, int family) {
  double d = fabs((double)a - (double)b), bound = rel * fabs((double)b) + abs;
  if (bound > 0 && d / bound > worst[family]) worst[family] = d / bound;
  nnf_test_ctx("%s[%d]: libnnf %.9g, torch %.9g (|diff| %.3g > %.3g)", what, i, (double)a, (double)b, d, bound);
  CHECK(d <= bound);
}

static void same(const char *what, int i, float a, float b) {
  nnf_test_ctx("%s[%d]: libnnf %.9g, torch %.9g (bit for bit)", what, i, (double)a, (double)b);
  CHECK(a == b && signbit(a) == signbit(b));
}

static const double LOSS_REL = 8 * FLT_EPSILON, GRAD_ULPS = 2 * FLT_EPSILON, CLIP_REL = 4 * FLT_EPSILON;

static void check_losses(const cJSON *cases) {
  const cJSON *c;
  int seen = 0;
  cJSON_ArrayForEach(c, cases) {
    const char *name = get(c, "name")->valuestring, *kind = get(c, "loss_kind")->valuestring;
    static float z[MAXV], t[MAXV], want[MAXV], g[MAXV];
    static int32_t lab[MAXV], shape[2];
    int n = floats(get(c, "input"), z);
    CHECK(ints(get(c, "shape"), shape) == 2);
    int B = shape[0], C = shape[1];
    CHECK(floats(get(c, "grad"), want) == n && B * C == n);
    float ref = (float)get(c, "loss")->valuedouble, loss;
    nnf_task task = {NNF_TASK_REGRESSION, (nnf_loss_kind)nnf_loss_parse(kind), 0.0f};
    if (!strcmp(kind, "ce")) {
      CHECK(ints(get(c, "target"), lab) == B);
      task.kind = NNF_TASK_MULTICLASS;
      loss = nnf_task_loss(&task, z, lab, NULL, B, C, g);
    } else if (!strcmp(name, "bce_binary")) {
      CHECK(ints(get(c, "labels"), lab) == B && C == 1);
      task.kind = NNF_TASK_BINARY;
      loss = nnf_task_loss(&task, z, lab, NULL, B, C, g);
      float g2[MAXV];
      CHECK(floats(get(c, "target"), t) == n);
      CHECK(nnf_loss_bce_logits(z, t, (size_t)n, g2) == loss); /* the elementwise form agrees */
      for (int i = 0; i < n; i++) CHECK(g2[i] == g[i]);
    } else {
      CHECK(floats(get(c, "target"), t) == n);
      if (!strcmp(kind, "bce")) task.kind = NNF_TASK_MULTILABEL;
      if (!strcmp(kind, "huber")) task.huber_delta = (float)get(c, "delta")->valuedouble;
      CHECK(nnf_task_check(&task, C, NULL, 0) == 0);
      loss = nnf_task_loss(&task, z, NULL, t, B, C, g);
    }
    close_to(name, -1, loss, ref, LOSS_REL, 0, W_LOSS);
    int exact = !strcmp(kind, "mse") || !strcmp(kind, "mae") || !strcmp(kind, "huber");
    double unit = !strcmp(kind, "ce") ? 1.0 / B : 1.0 / n;
    for (int i = 0; i < n; i++) {
      if (exact) same(name, i, g[i], want[i]);
      else close_to(name, i, g[i], want[i], GRAD_ULPS, GRAD_ULPS * unit, W_GRAD);
    }
    seen++;
  }
  CHECK_EQ(seen, 7);
}

static void check_dropout(const cJSON *cases) {
  const cJSON *c;
  int seen = 0;
  cJSON_ArrayForEach(c, cases) {
    static float x[MAXV], y[MAXV], dy[MAXV], dx[MAXV], out[MAXV];
    static int32_t m[MAXV];
    static uint8_t mask[MAXV];
    double p = get(c, "p")->valuedouble;
    int n = floats(get(c, "x"), x);
    CHECK(ints(get(c, "mask"), m) == n && floats(get(c, "y"), y) == n && floats(get(c, "dy"), dy) == n &&
          floats(get(c, "dx"), dx) == n);
    for (int i = 0; i < n; i++) mask[i] = (uint8_t)m[i];
    nnf_dropout_apply(x, mask, (size_t)n, p, out);
    for (int i = 0; i < n; i++) same("dropout y", i, out[i], y[i]);
    nnf_dropout_apply(dy, mask, (size_t)n, p, out);
    for (int i = 0; i < n; i++) same("dropout dx", i, out[i], dx[i]);
    seen++;
  }
  CHECK_EQ(seen, 4);
}

static void check_l1(const cJSON *cases) {
  const cJSON *c;
  cJSON_ArrayForEach(c, cases) {
    static float w[MAXV], g[MAXV], want[MAXV];
    float l1 = (float)get(c, "l1")->valuedouble;
    int n = floats(get(c, "w"), w);
    CHECK(floats(get(c, "g0"), g) == n && floats(get(c, "grad"), want) == n);
    double pen = nnf_l1_penalty(w, g, (size_t)n, l1);
    close_to("l1 penalty", -1, (float)pen, (float)get(c, "penalty")->valuedouble, LOSS_REL, 0, W_LOSS);
    for (int i = 0; i < n; i++) same("l1 grad", i, g[i], want[i]);
  }
}

static void check_clip(const cJSON *cases) {
  const cJSON *c;
  int clipped = 0, kept = 0;
  cJSON_ArrayForEach(c, cases) {
    static float g[MAXV], want[MAXV], before[MAXV];
    static int32_t sizes[8];
    int k = ints(get(c, "sizes"), sizes), n = floats(get(c, "grad"), g);
    CHECK(floats(get(c, "clipped"), want) == n);
    memcpy(before, g, sizeof(float) * (size_t)n);
    float *parts[8];
    size_t cnt[8];
    for (int j = 0, off = 0; j < k; off += sizes[j], j++) parts[j] = g + off, cnt[j] = (size_t)sizes[j];
    float max_norm = (float)get(c, "max_norm")->valuedouble;
    float total = nnf_clip_grad_norm(parts, cnt, k, max_norm);
    close_to("total norm", -1, total, (float)get(c, "total_norm")->valuedouble, CLIP_REL, 0, W_NORM);
    for (int i = 0; i < n; i++) close_to("clipped", i, g[i], want[i], CLIP_REL, 0, W_CLIP);
    if (total > max_norm) clipped++;
    else {
      kept++;
      CHECK_MEM_EQ(g, before, sizeof(float) * (size_t)n); /* no clip: untouched */
    }
  }
  CHECK(clipped >= 3 && kept >= 1);
}

/* Stability and the rules the references do not reach. */
static void check_properties(void) {
  /* BCE with logits at +-1e30: finite, the exact limits */
  float z[4] = {1e30f, -1e30f, 1e30f, -1e30f}, t[4] = {1, 0, 0, 1}, g[4];
  float l = nnf_loss_bce_logits(z, t, 4, g);
  nnf_test_ctx("bce at 1e30: %g", (double)l);
  CHECK(isfinite(l) && fabs(l - 0.5e30) <= 1e24);
  CHECK(g[0] == 0 && g[1] == 0 && g[2] == 0.25f && g[3] == -0.25f);
  /* sigmoid never overflows */
  CHECK(nnf_sigmoid(-1000.0f) == 0.0f && nnf_sigmoid(1000.0f) == 1.0f && nnf_sigmoid(0.0f) == 0.5f);
  /* invalid task / loss combinations are refused */
  nnf_task bad = {NNF_TASK_REGRESSION, NNF_LOSS_BCE, 0};
  char err[256];
  CHECK(nnf_task_check(&bad, 2, err, sizeof err) == -1 && strstr(err, "mse, mae or huber"));
  nnf_task bin = {NNF_TASK_BINARY, NNF_LOSS_BCE, 0};
  CHECK(nnf_task_check(&bin, 2, err, sizeof err) == -1 && strstr(err, "one output"));
  nnf_task mc = {NNF_TASK_MULTICLASS, NNF_LOSS_MSE, 0};
  CHECK(nnf_task_check(&mc, 10, err, sizeof err) == -1);
  CHECK(nnf_task_parse("regression") == NNF_TASK_REGRESSION && nnf_task_parse("nope") == -1);
  CHECK(nnf_loss_parse("l1") == NNF_LOSS_MAE && nnf_loss_parse("huber") == NNF_LOSS_HUBER);
  /* figures: multilabel per-label accuracy and exact match; regression MSE */
  nnf_task ml = {NNF_TASK_MULTILABEL, NNF_LOSS_BCE, 0};
  float out[6] = {2, -1, 0.5f, -3, -2, 4}, tg[6] = {1, 0, 0, 0, 0, 1};
  nnf_tally s;
  memset(&s, 0, sizeof s);
  nnf_task_tally(&ml, out, NULL, tg, 2, 3, &s);
  CHECK(s.labels == 6 && s.labels_ok == 5 && s.correct == 1);
  CHECK(fabs(nnf_task_figure(&ml, &s) - 5.0 / 6.0) < 1e-12);
  nnf_task rg = {NNF_TASK_REGRESSION, NNF_LOSS_MSE, 0};
  memset(&s, 0, sizeof s);
  float pr[2] = {1, 3}, tr[2] = {2, 1};
  nnf_task_tally(&rg, pr, NULL, tr, 2, 1, &s);
  CHECK(fabs(nnf_task_figure(&rg, &s) - 2.5) < 1e-12 && fabs(s.abs / (double)s.values - 1.5) < 1e-12);
  CHECK(nnf_task_lower_better(NNF_TASK_REGRESSION) && !nnf_task_lower_better(NNF_TASK_MULTILABEL));
}

/* Dropout as a layer: masks from the network's generator (same seed, same
 * mask), kept values scaled by 1/(1-p), backward through the same mask,
 * the identity when not training, and the architecture round trip. */
static void check_dropout_layer(void) {
  char err[256];
  enum { W = 500, B = 8 };
  nnf_net *n = nnf_net_create(W, err, sizeof err);
  CHECK(n != NULL);
  CHECK_OK(nnf_net_add(n, nnf_dropout(0.25, err, sizeof err), err, sizeof err));
  CHECK(nnf_dropout(1.5, err, sizeof err) == NULL && strstr(err, "between 0 and 1"));
  char arch[64];
  nnf_net_describe(n, arch, sizeof arch);
  CHECK(!strcmp(arch, "Dropout(0.25)"));
  static float x[W * B], y1[W * B], dy[W * B];
  for (int i = 0; i < W * B; i++) x[i] = 1.0f + (float)(i % 7), dy[i] = 0.5f;
  nnf_pass p = nnf_net_pass(n, NNF_FWD_FLOAT, B, 0, 1);
  p.training = 1;
  n->rng = 42;
  CHECK_OK(nnf_net_forward(n, &p, x, err, sizeof err));
  int kept = 0;
  float s = 1.0f / 0.75f;
  for (int i = 0; i < W * B; i++) {
    float v = n->logits[i];
    CHECK(v == 0.0f || v == x[i] * s);
    kept += v != 0.0f;
  }
  /* kept ~ Binomial(4000, 0.75): mean 3000, sd 27; 5 sd */
  nnf_test_ctx("kept %d of %d", kept, W * B);
  CHECK(abs(kept - 3000) < 137);
  memcpy(y1, n->logits, sizeof y1);
  n->rng = 42;
  CHECK_OK(nnf_net_forward(n, &p, x, err, sizeof err));
  CHECK_MEM_EQ(n->logits, y1, sizeof y1); /* same seed, same mask */
  CHECK_OK(nnf_net_forward(n, &p, x, err, sizeof err));
  CHECK(memcmp(n->logits, y1, sizeof y1) != 0); /* the generator moved on */
  /* backward of the last forward: dx = dy * mask / (1 - p) */
  const nnf_layer *l = n->layer[0];
  float *dx = malloc(sizeof(float) * W * B);
  CHECK(dx != NULL);
  float gy[sizeof dy / sizeof dy[0]];
  memcpy(gy, dy, sizeof dy);
  l->ops->backward(n->layer[0], &p, &n->t[0], &n->t[1], gy, dx, 0);
  for (int i = 0; i < W * B; i++) CHECK(dx[i] == (n->logits[i] != 0.0f ? 0.5f * s : 0.0f));
  /* evaluation: the identity, and the generator untouched */
  p.training = 0;
  uint64_t before = n->rng;
  CHECK_OK(nnf_net_forward(n, &p, x, err, sizeof err));
  CHECK_MEM_EQ(n->logits, x, sizeof x);
  CHECK(n->rng == before);
  free(dx);
  nnf_net_free(n);
  /* the MLP spec: dropout:P places the layer; refusals */
  int sizes[9];
  double drop[9];
  CHECK_EQ(nnf_parse_mlp_spec("784,dropout:0.2,128,dropout:0.5,10", sizes, drop, 9, err, sizeof err), 3);
  CHECK(drop[0] == 0.2 && drop[1] == 0.5 && drop[2] == 0);
  CHECK(nnf_parse_mlp_spec("784,128,10,dropout:0.5", sizes, drop, 9, err, sizeof err) < 0 && strstr(err, "output"));
  CHECK(nnf_parse_mlp_spec("784,dropout:1.5,10", sizes, drop, 9, err, sizeof err) < 0);
  CHECK(nnf_parse_mlp_spec("dropout:0.1,784,10", sizes, drop, 9, err, sizeof err) < 0);
  CHECK(nnf_parse_layers("784,dropout:0.2,10", sizes, 9, err, sizeof err) < 0);
  nnf_net *m = nnf_mlp_create_dropout(sizes, 3, NNF_ACT_RELU, (double[]){0.2, 0.5, 0}, 1, err, sizeof err);
  CHECK(m != NULL);
  nnf_net_describe(m, arch, sizeof arch);
  nnf_test_ctx("%s", arch);
  CHECK(!strcmp(arch, "Dropout(0.2),Linear(784,128),ReLU,Dropout(0.5),Linear(128,10)"));
  /* the same initialisation as without dropout */
  nnf_net *plain = nnf_mlp_create(sizes, 3, NNF_ACT_RELU, 1, err, sizeof err);
  CHECK(plain != NULL);
  CHECK_MEM_EQ(nnf_net_dense(m, 1)->w, nnf_net_dense(plain, 1)->w, sizeof(float) * 128 * 10);
  CHECK(nnf_net_has_dropout(m) && !nnf_net_has_dropout(plain));
  nnf_net_free(m);
  nnf_net_free(plain);
}

int main(int argc, char **argv) {
  (void)argc;
  char *text = nnf_test_read_text(NNF_TEST_DATA "/loss_ref.json");
  nnf_test_ctx("reading " NNF_TEST_DATA "/loss_ref.json");
  CHECK(text != NULL);
  cJSON *root = cJSON_Parse(text);
  free(text);
  CHECK(root != NULL);
  check_losses(get(root, "losses"));
  check_dropout(get(root, "dropout"));
  check_l1(get(root, "l1"));
  check_clip(get(root, "clip"));
  cJSON_Delete(root);
  nnf_test_ctx("");
  printf("worst deviation / bound: loss %.3f, grad %.3f, clipped %.3f, norm %.3f\n", worst[W_LOSS], worst[W_GRAD],
         worst[W_CLIP], worst[W_NORM]);
  check_properties();
  check_dropout_layer();
  return nnf_test_done(argv[0]);
}
