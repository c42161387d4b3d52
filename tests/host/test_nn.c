/*
 * test_nn.c - the float layers and losses of libnnf: every backward pass
 * against central finite differences (in double-checked float, with a
 * tolerance from the step size; the whole network per parameter against a
 * double-precision copy of it), and forward values against PyTorch's
 * (printed by torch 1.13 for the inputs below; see the comments).
 */
#include <math.h>

#include "nnf_layer.h"
#include "nnf_nn.h"
#include "nnf_test.h"

#define CHECK_NEAR(a, b, tol)                                                       \
  do {                                                                              \
    double x_ = (a), y_ = (b);                                                      \
    if (!(fabs(x_ - y_) <= (tol) * (1.0 + fabs(y_)))) {                             \
      char m_[256];                                                                 \
      snprintf(m_, sizeof m_, "CHECK_NEAR(%s, %s): %.9g vs %.9g", #a, #b, x_, y_);  \
      nnf_test_fail_(__FILE__, __LINE__, m_);                                       \
    }                                                                               \
    nnf_test_checks_++;                                                             \
  } while (0)

static uint64_t rng = 12345;
static float urand(float lo, float hi) { return lo + (hi - lo) * nnf_rng_uniform(&rng); }

/* A scalar function of v: sum_i c_i * f(v)_i with fixed random c, so the
 * check covers every output. */
static float proj(const float *y, const float *c, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)y[i] * c[i];
  return (float)s;
}

static void gradcheck_act(nnf_act a) {
  enum { N = 64 };
  float z[N], y[N], c[N], dz[N], yp[N], ym[N];
  for (int i = 0; i < N; i++) {
    z[i] = urand(-8, 8);
    /* keep away from the kinks of ReLU / ReLU6 where the derivative jumps */
    if (fabsf(z[i]) < 0.05f || fabsf(z[i] - 6) < 0.05f) z[i] += 0.2f;
    c[i] = urand(-1, 1);
  }
  nnf_act_forward(a, z, y, N);
  nnf_act_backward(a, z, y, c, dz, N);
  const float h = 1e-2f;
  for (int i = 0; i < N; i++) {
    float zp = z[i] + h, zm = z[i] - h;
    nnf_act_forward(a, &zp, &yp[i], 1);
    nnf_act_forward(a, &zm, &ym[i], 1);
    double num = (double)c[i] * ((double)yp[i] - ym[i]) / (2 * h);
    nnf_test_ctx("activation %s, z = %g", nnf_act_name(a), z[i]);
    CHECK_NEAR(dz[i], num, 2e-3);
  }
}

static void gradcheck_dense(void) {
  enum { B = 5, IN = 7, OUT = 4 };
  nnf_dense L;
  CHECK_OK(nnf_dense_init(&L, IN, OUT));
  uint64_t r = 99;
  nnf_dense_init_default(&L, &r);
  float x[B * IN], y[B * OUT], c[B * OUT], dx[B * IN];
  for (int i = 0; i < B * IN; i++) x[i] = urand(-1, 1);
  for (int i = 0; i < B * OUT; i++) c[i] = urand(-1, 1);
  nnf_dense_zero_grad(&L);
  nnf_dense_forward(&L, NULL, x, y, B);
  nnf_dense_backward(&L, NULL, x, c, dx, B, 1);
  /* forward against a naive loop */
  for (int b = 0; b < B; b++)
    for (int o = 0; o < OUT; o++) {
      double s = L.b[o];
      for (int i = 0; i < IN; i++) s += (double)x[b * IN + i] * L.w[o * IN + i];
      CHECK_NEAR(y[b * OUT + o], s, 1e-6);
    }
  const float h = 1e-2f;
  float *params[3] = {L.w, L.b, x};
  float *grads[3] = {L.dw, L.db, dx};
  int counts[3] = {IN * OUT, OUT, B * IN};
  for (int p = 0; p < 3; p++)
    for (int i = 0; i < counts[p]; i++) {
      float keep = params[p][i];
      params[p][i] = keep + h;
      nnf_dense_forward(&L, NULL, x, y, B);
      float fp = proj(y, c, B * OUT);
      params[p][i] = keep - h;
      nnf_dense_forward(&L, NULL, x, y, B);
      float fm = proj(y, c, B * OUT);
      params[p][i] = keep;
      nnf_test_ctx("dense parameter set %d index %d", p, i);
      CHECK_NEAR(grads[p][i], (fp - fm) / (2 * h), 2e-3);
    }
  /* accumulating, a second call doubles dW and db; overwriting, it leaves them */
  float dw0 = L.dw[3], db0 = L.db[1];
  nnf_dense_backward(&L, NULL, x, c, NULL, B, 1);
  CHECK_NEAR(L.dw[3], 2 * dw0, 1e-6);
  CHECK_NEAR(L.db[1], 2 * db0, 1e-6);
  nnf_dense_backward(&L, NULL, x, c, NULL, B, 0);
  CHECK_NEAR(L.dw[3], dw0, 1e-6);
  CHECK_NEAR(L.db[1], db0, 1e-6);
  nnf_dense_free(&L);
}

static void gradcheck_softmax(void) {
  enum { B = 3, C = 6 };
  float z[B * C], p[B * C], c[B * C], dz[B * C];
  for (int i = 0; i < B * C; i++) z[i] = urand(-3, 3), c[i] = urand(-1, 1);
  nnf_softmax_forward(z, p, B, C);
  for (int b = 0; b < B; b++) {
    double s = 0;
    for (int j = 0; j < C; j++) s += p[b * C + j];
    CHECK_NEAR(s, 1.0, 1e-6);
  }
  nnf_softmax_backward(p, c, dz, B, C);
  const float h = 1e-2f;
  for (int i = 0; i < B * C; i++) {
    float keep = z[i];
    z[i] = keep + h;
    nnf_softmax_forward(z, p, B, C);
    float fp = proj(p, c, B * C);
    z[i] = keep - h;
    nnf_softmax_forward(z, p, B, C);
    float fm = proj(p, c, B * C);
    z[i] = keep;
    nnf_test_ctx("softmax index %d", i);
    CHECK_NEAR(dz[i], (fp - fm) / (2 * h), 2e-3);
  }
}

typedef float (*loss_fn)(const float *, const void *, size_t, float *);

static void gradcheck_losses(void) {
  enum { N = 12, B = 4, C = 3 };
  float y[N], t[N], g[N], p[N], tb[N];
  for (int i = 0; i < N; i++) {
    y[i] = urand(-2, 2);
    t[i] = urand(-2, 2);
    p[i] = urand(0.05f, 0.95f);
    tb[i] = urand(0, 1);
  }
  const float h = 1e-3f;
  nnf_loss_mse(y, t, N, g);
  for (int i = 0; i < N; i++) {
    float keep = y[i];
    y[i] = keep + h;
    float fp = nnf_loss_mse(y, t, N, NULL);
    y[i] = keep - h;
    float fm = nnf_loss_mse(y, t, N, NULL);
    y[i] = keep;
    nnf_test_ctx("mse index %d", i);
    CHECK_NEAR(g[i], (fp - fm) / (2 * h), 5e-3);
  }
  nnf_loss_bce(p, tb, N, g);
  for (int i = 0; i < N; i++) {
    float keep = p[i];
    p[i] = keep + h;
    float fp = nnf_loss_bce(p, tb, N, NULL);
    p[i] = keep - h;
    float fm = nnf_loss_bce(p, tb, N, NULL);
    p[i] = keep;
    nnf_test_ctx("bce index %d", i);
    CHECK_NEAR(g[i], (fp - fm) / (2 * h), 5e-3);
  }
  float z[B * C], gz[B * C];
  int32_t lab[B] = {0, 2, 1, 2};
  for (int i = 0; i < B * C; i++) z[i] = urand(-3, 3);
  nnf_loss_softmax_ce(z, lab, B, C, gz);
  for (int i = 0; i < B * C; i++) {
    float keep = z[i];
    z[i] = keep + h;
    float fp = nnf_loss_softmax_ce(z, lab, B, C, NULL);
    z[i] = keep - h;
    float fm = nnf_loss_softmax_ce(z, lab, B, C, NULL);
    z[i] = keep;
    nnf_test_ctx("softmax cross-entropy index %d", i);
    CHECK_NEAR(gz[i], (fp - fm) / (2 * h), 5e-3);
  }
  nnf_test_ctx("");
}

/* Values from PyTorch 1.13 (torch.nn.functional, reduction='mean'):
 *   mse_loss([0.5,-1,2],[1,1,1])                      = 1.75
 *   binary_cross_entropy([0.9,0.2,0.6],[1,0,1])       = 0.2797765
 *   binary_cross_entropy([0.0],[1.0])                  = 100 (log clamped at -100)
 *   cross_entropy([[1,2,3],[1,-1,0]], [2,0])           = 0.4076060 */
static void torch_values(void) {
  float y[3] = {0.5f, -1, 2}, t[3] = {1, 1, 1};
  CHECK_NEAR(nnf_loss_mse(y, t, 3, NULL), 1.75, 1e-6);
  float p[3] = {0.9f, 0.2f, 0.6f}, tb[3] = {1, 0, 1};
  CHECK_NEAR(nnf_loss_bce(p, tb, 3, NULL), 0.2797765, 1e-6);
  float p0 = 0.0f, t1 = 1.0f;
  CHECK_NEAR(nnf_loss_bce(&p0, &t1, 1, NULL), 100.0, 1e-6);
  float z[6] = {1, 2, 3, 1, -1, 0};
  int32_t lab[2] = {2, 0};
  CHECK_NEAR(nnf_loss_softmax_ce(z, lab, 2, 3, NULL), 0.4076060, 1e-6);
}

/* ---- the whole network's backward, parameter by parameter ---------------
 *
 * Oracle: the same network written out here in double precision (dense
 * layers, the hidden activation, softmax cross-entropy as log-sum-exp), and
 * central differences of its loss in double. With step h = 1e-5 the
 * difference quotient is within h^2 |d3f/dw3| / 6 ~ 1e-10 (truncation) plus
 * 2^-52 |f| / h ~ 1e-11 (rounding) of the true derivative: exact for our
 * purposes. What remains is the float32 rounding of libnnf's forward and
 * backward, a few ulps of the terms each gradient sums, so every
 * parameter's gradient g must meet
 *     |g - fd| <= GRAD_RTOL * |fd| + GRAD_ATOL
 * with GRAD_RTOL = 1e-4 (over a thousand float32 ulps, 2^-24 ~ 6e-8) and
 * GRAD_ATOL = 1e-7 (about an ulp of the largest gradients here, ~0.1: a
 * float32 sum of such terms that cancels to near zero keeps that much
 * error); the worst error, as a fraction of this bound, is printed (0.08
 * today). A gradient 1 % off misses by 100 times GRAD_RTOL on every
 * parameter whose gradient exceeds 1e-5, and the test requires that most
 * do. For ReLU and ReLU6, a parameter whose
 * +-h step moves a pre-activation across a kink (no derivative there) is
 * skipped, and counted. */
#define GRAD_RTOL 1e-4
#define GRAD_ATOL 1e-7
#define GRAD_H 1e-5

static double ref_act(nnf_act a, double z) {
  switch (a) {
  case NNF_ACT_RELU: return z > 0 ? z : 0;
  case NNF_ACT_RELU6: return z <= 0 ? 0 : z >= 6 ? 6 : z;
  case NNF_ACT_SIGMOID: return 1 / (1 + exp(-z));
  case NNF_ACT_TANH: return tanh(z);
  default: return z;
  }
}

/* Mean softmax cross-entropy of the network in double, with parameter
 * `which` moved by delta (parameters numbered layer by layer: the weights,
 * out x in row-major, then the biases; -1: none). *kinks gets a signature
 * of the side of every kink (0, 6) each hidden pre-activation lies on.
 * x: B x sizes[0]. Layers up to 16 wide. */
static double ref_loss(nnf_net *n, nnf_act act, const float *x, const int32_t *lab, int B, int which,
                       double delta, uint64_t *kinks) {
  double a[16], z[16], total = 0;
  uint64_t sig = 1469598103934665603ull;
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < nnf_net_size(n, 0); i++) a[i] = x[b * nnf_net_size(n, 0) + i];
    int p = 0; /* number of layer l's first parameter */
    for (int l = 0; l < nnf_net_linears(n); l++) {
      const nnf_dense *D = nnf_net_dense(n, l);
      for (int o = 0; o < D->out; o++) {
        double s = (double)D->b[o] + (which == p + D->in * D->out + o ? delta : 0);
        for (int i = 0; i < D->in; i++)
          s += ((double)D->w[o * D->in + i] + (which == p + o * D->in + i ? delta : 0)) * a[i];
        z[o] = s;
      }
      int hidden = l + 1 < nnf_net_linears(n);
      for (int o = 0; o < D->out; o++) {
        a[o] = hidden ? ref_act(act, z[o]) : z[o];
        if (hidden) sig = (sig ^ (uint64_t)((z[o] > 0) + 2 * (z[o] >= 6))) * 1099511628211ull;
      }
      p += D->in * D->out + D->out;
    }
    int C = nnf_net_size(n, nnf_net_linears(n));
    double mx = a[0], se = 0;
    for (int c = 1; c < C; c++) mx = a[c] > mx ? a[c] : mx;
    for (int c = 0; c < C; c++) se += exp(a[c] - mx);
    total += mx + log(se) - a[lab[b]];
  }
  if (kinks) *kinks = sig;
  return total / B;
}

static void gradcheck_net(nnf_act act) {
  const int sizes[4] = {6, 5, 4, 3};
  char err[256];
  nnf_net *n = nnf_mlp_create(sizes, 4, act, 3, err, sizeof err);
  CHECK(n != NULL);
  enum { B = 4 };
  float x[B * 6];
  int32_t lab[B] = {0, 1, 2, 1};
  /* ReLU6's upper kink is out of reach of these small pre-activations:
   * scale the inputs up for it so both kinks are crossed */
  float span = act == NNF_ACT_RELU6 ? 12 : 1;
  for (int i = 0; i < B * 6; i++) x[i] = urand(-span, span);
  CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
  float loss = nnf_net_backward(n, lab, 1.0f, 0);
  uint64_t kinks0, kp, km;
  double ref = ref_loss(n, act, x, lab, B, -1, 0, &kinks0);
  nnf_test_ctx("net (%s) loss %.9g, double reference %.9g", nnf_act_name(act), loss, ref);
  CHECK(fabs(loss - ref) <= 1e-6 * fabs(ref)); /* the double network is the same network */
  int checked = 0, skipped = 0, large = 0, p = 0;
  double worst = 0;
  for (int l = 0; l < 3; l++) {
    nnf_dense *D = nnf_net_dense(n, l);
    for (int i = 0; i < D->in * D->out + D->out; i++, p++) {
      int is_w = i < D->in * D->out;
      double g = is_w ? D->dw[i] : D->db[i - D->in * D->out];
      double fp = ref_loss(n, act, x, lab, B, p, GRAD_H, &kp);
      double fm = ref_loss(n, act, x, lab, B, p, -GRAD_H, &km);
      if (kp != kinks0 || km != kinks0) {
        skipped++;
        continue;
      }
      double fd = (fp - fm) / (2 * GRAD_H);
      nnf_test_ctx("net (%s) layer %d %s %d: %.9g, finite differences %.9g", nnf_act_name(act), l,
                   is_w ? "weight" : "bias", is_w ? i : i - D->in * D->out, g, fd);
      CHECK(fabs(g - fd) <= GRAD_RTOL * fabs(fd) + GRAD_ATOL);
      large += fabs(fd) > 1e-5;
      worst = fmax(worst, fabs(g - fd) / (GRAD_RTOL * fabs(fd) + GRAD_ATOL));
      checked++;
    }
  }
  nnf_test_ctx("net (%s): %d of %d parameters checked, %d skipped at a kink, %d above 1e-5",
               nnf_act_name(act), checked, p, skipped, large);
  CHECK(skipped <= p / 20);
  CHECK(large >= checked * 3 / 4);
  printf("gradcheck net %-7s: %d of %d parameters (%d at a kink), %d above 1e-5, worst error %.2g of the tolerance\n",
         nnf_act_name(act), checked, p, skipped, large, worst);
  nnf_test_ctx("");
  nnf_net_free(n);
}

int main(int argc, char **argv) {
  (void)argc;
  for (int a = NNF_ACT_NONE; a <= NNF_ACT_TANH; a++) gradcheck_act((nnf_act)a);
  gradcheck_dense();
  gradcheck_softmax();
  gradcheck_losses();
  torch_values();
  gradcheck_net(NNF_ACT_TANH);
  gradcheck_net(NNF_ACT_SIGMOID);
  gradcheck_net(NNF_ACT_RELU);
  gradcheck_net(NNF_ACT_RELU6);
  CHECK_EQ(nnf_act_parse("relu6"), NNF_ACT_RELU6);
  CHECK_EQ(nnf_act_parse("gelu"), -1);
  return nnf_test_done(argv[0]);
}
