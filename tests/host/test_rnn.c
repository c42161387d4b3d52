/*
 * test_rnn.c - the recurrent layers (RNN tanh / ReLU, GRU, LSTM; nnf_rnn.c):
 *   - float forward and backward through time against PyTorch
 *     (tests/data/rnn_ref.json, scripts/gen_rnn_ref.py with Debian's torch
 *     1.13): outputs, input gradients and the four parameters' gradients of
 *     each kind, last-state and every-step outputs, the layer built from its
 *     grammar item and rebuilt from the PyTorch-form entry it describes
 *     itself as;
 *   - central finite differences of a larger case of each kind (a stacked
 *     pair: seq=1 into a last-state layer, then a Linear layer);
 *   - a checkpoint round trip (the same outputs after save and load) and
 *     PyTorch's state_dict names;
 *   - bad input: widths that are not whole steps, zero sizes, a missing in=,
 *     bad act / seq, the device compiler, each with its exact message;
 *   - the int8 step (docs/rnn.md): INT (the functional model) against
 *     FAKEQUANT, both against float, the fake-quant gradients, checkpoints
 *     of quantized layers, QAT's first pass, and INT bit for bit against the
 *     rule re-derived here (an Elman tanh RNN).
 *
 * Tolerance against PyTorch: |ours - torch| <= 2e-6 + 2e-6 |torch| for every
 * value. Both run the same operations in float32 in different orders (OpenBLAS
 * here, ATen's kernels there) and through libm's and ATen's tanh / exp: each
 * value is a few (T = 5) steps of sums of at most 10 products of terms below
 * 3, each step within a few float32 ulps (6e-8 relative) of the other's, so
 * the deviations stay below 1e-6 (measured: printed as a fraction of the bound,
 * at most 0.2 of it with the committed data);
 * a wrong gate order, a missing bias or a step off by one misses by 1e-2 and
 * more.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "nnf_compile.h"
#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnf_layer_ref.h"
#include "nnf_test.h"
#include "nnfm.h"
#include "nnf_proto.h"

#define MAXV 4096

/* the shared reader and comparison (tests/common/nnf_layer_ref.h) at this file's sizes and tolerance */
static int floats(const cJSON *o, const char *key, float *out) { return nnf_ref_floats(o, key, out, MAXV); }
static double worst(const float *a, const float *b, int n) { return nnf_ref_worst(a, b, n, 2e-6); }

static void torch_cases(void) {
  char err[512];
  cJSON *root = nnf_ref_load("rnn_ref.json");
  const cJSON *c;
  static float x[MAXV], y[MAXV], dy[MAXV], dx[MAXV], ref[MAXV], mine[MAXV];
  int ncases = 0;
  double all = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
    const nnf_ref_case rc = nnf_ref_case_of(c);
    const char *name = rc.name, *arch = rc.arch;
    const int B = rc.B, T = rc.T, I = rc.I;
    const int H = cJSON_GetObjectItemCaseSensitive(c, "H")->valueint, seq = cJSON_GetObjectItemCaseSensitive(c, "seq")->valueint;
    nnf_net *n = nnf_ref_case_net(name, arch, rc.describe, T * I); /* and its checkpoint form */
    char gram[64];
    nnf_rnn_grammar(n->layer[0], gram, sizeof gram);
    nnf_test_ctx("case %s: grammar %s", name, gram);
    CHECK(!strcmp(gram, arch));
    CHECK_EQ(nnf_net_outputs(n), seq ? T * H : H);
    int nx = floats(c, "x", x), ny = floats(c, "y", y);
    CHECK_EQ(floats(c, "dy", dy), ny);
    CHECK_EQ(nx, B * T * I);
    CHECK_EQ(ny, B * nnf_net_outputs(n));
    nnf_param p[4];
    int owner[4], np = nnf_net_params(n, p, 4, owner);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "params");
    CHECK_EQ(np, 4);
    CHECK_EQ(np, cJSON_GetArraySize(params));
    for (int j = 0; j < np; j++) {
      char key[48];
      snprintf(key, sizeof key, "%s", p[j].name); /* the module's own state_dict: no "<i>." prefix */
      CHECK_EQ(floats(params, key, p[j].data), (long long)nnf_param_size(&p[j]));
    }
    CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
    double w = worst(n->logits, y, ny);
    nnf_ref_backward(n, dy, B, mine);
    floats(c, "dx", dx);
    double wx = worst(mine, dx, nx), wp = 0;
    const cJSON *grads = cJSON_GetObjectItemCaseSensitive(c, "grads");
    for (int j = 0; j < np; j++) {
      int k = floats(grads, p[j].name, ref);
      CHECK_EQ(k, (long long)nnf_param_size(&p[j]));
      double e = worst(p[j].grad, ref, k);
      wp = e > wp ? e : wp;
    }
    printf("case %-13s worst deviation / bound: y %.3f, dx %.3f, parameter gradients %.3f\n", name, w, wx, wp);
    nnf_test_ctx("case %s: y %.3f dx %.3f params %.3f", name, w, wx, wp);
    CHECK(w <= 1 && wx <= 1 && wp <= 1);
    all = fmax(all, fmax(w, fmax(wx, wp)));
    /* accumulate adds: a second forward and backward with accumulate doubles
     * the gradients (a backward consumes its forward's cache) */
    CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
    CHECK_OK(nnf_net_backward_grad(n, dy, NULL, 1));
    int k3 = (int)nnf_param_size(&p[3]);
    floats(grads, p[3].name, ref);
    for (int i = 0; i < k3; i++) CHECK(fabsf(p[3].grad[i] - 2 * ref[i]) <= 2e-5f + 2e-5f * fabsf(ref[i]));
    nnf_net_free(n);
    ncases++;
  }
  CHECK_EQ(ncases, 8);
  printf("against PyTorch: 8 cases, worst deviation %.3f of the bound 2e-6 + 2e-6 |v|\n", all);
  cJSON_Delete(root);
}

/* ---- finite differences ------------------------------------------------------------------ */

/* finite differences: nnf_ref_fd_check (tests/common/nnf_layer_ref.h) */
static void finite_differences(void) {
  static const char *const archs[] = {"rnn(5,in=3,seq=1),rnn(4),dense(3)", "rnn(5,in=3,act=relu,seq=1),rnn(4,act=relu),dense(3)",
                                      "gru(5,in=3,seq=1),gru(4),dense(3)", "lstm(5,in=3,seq=1),lstm(4),dense(3)"};
  enum { B = 2, T = 7, I = 3 };
  static float x[B * T * I], g[B * 3], mine[B * T * I], ref[MAXV];
  char err[256];
  for (int a = 0; a < 4; a++) {
    int shape[3] = {T * I, 0, 0};
    nnf_net *n = nnf_arch_build(archs[a], shape, err, sizeof err);
    nnf_test_ctx("%s: %s", archs[a], err);
    CHECK(n != NULL);
    CHECK_EQ(n->t[1].width, T * 5);
    CHECK_EQ(nnf_net_outputs(n), 3);
    nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
    CHECK_OK(nnf_net_init(n, &is, 40 + a));
    uint64_t r = 99 + a;
    for (int i = 0; i < B * T * I; i++) x[i] = 2 * nnf_rng_uniform(&r) - 1;
    for (int i = 0; i < B * 3; i++) g[i] = 2 * nnf_rng_uniform(&r) - 1;
    int kinks = a == 1;
    nnf_ref_loss(n, x, g, B);
    nnf_ref_backward(n, g, B, mine);
    nnf_ref_fd_check(n, x, g, B, x, mine, B * T * I, "x", kinks);
    nnf_param p[16];
    int np = nnf_net_params(n, p, 16, NULL);
    CHECK_EQ(np, 10);
    for (int j = 0; j < np; j++) {
      nnf_ref_loss(n, x, g, B);
      nnf_ref_backward(n, g, B, NULL);
      int k = (int)nnf_param_size(&p[j]);
      memcpy(ref, p[j].grad, (size_t)k * sizeof(float));
      nnf_ref_fd_check(n, x, g, B, p[j].data, ref, k, p[j].name, kinks);
    }
    printf("finite differences: %s agrees\n", archs[a]);
    nnf_net_free(n);
  }
}

/* ---- initialisation, maps, checkpoints ------------------------------------------------------ */

static void init_and_ckpt(void) {
  char err[512];
  int img[3] = {1, 28, 28};
  nnf_net *n = nnf_arch_build("gru(16),dense(10)", img, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(n != NULL);
  /* a 1 x 28 x 28 image: 28 steps of 28 pixels */
  int kind, hidden, in, seq;
  CHECK_OK(nnf_layer_rnn(n->layer[0], (nnf_rnn_kind *)&kind, &hidden, &in, &seq));
  CHECK_EQ(kind, NNF_RNN_GRU);
  CHECK_EQ(in, 28);
  CHECK_EQ(hidden, 16);
  CHECK_EQ(seq, 0);
  CHECK_EQ(n->t[1].width, 16);
  CHECK_EQ(nnf_layer_rnn(n->layer[1], NULL, NULL, NULL, NULL), -1);
  char desc[256];
  nnf_net_describe(n, desc, sizeof desc);
  CHECK(!strcmp(desc, "GRU(28,16,batch_first=True),Linear(16,10)"));
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  CHECK_OK(nnf_net_init(n, &is, 7));
  /* PyTorch's default: every parameter uniform in +-1/sqrt(16) = +-0.25, all of them drawn */
  nnf_param p[8];
  int np = nnf_net_params(n, p, 8, NULL);
  CHECK_EQ(np, 6);
  CHECK(!strcmp(p[0].name, "weight_ih_l0") && !strcmp(p[1].name, "weight_hh_l0") && !strcmp(p[2].name, "bias_ih_l0") &&
        !strcmp(p[3].name, "bias_hh_l0"));
  CHECK(p[0].shape[0] == 48 && p[0].shape[1] == 28 && p[1].shape[0] == 48 && p[1].shape[1] == 16 && p[2].shape[0] == 48);
  for (int j = 0; j < 4; j++) {
    float lo = 1, hi = -1;
    for (size_t i = 0; i < nnf_param_size(&p[j]); i++) lo = fminf(lo, p[j].data[i]), hi = fmaxf(hi, p[j].data[i]);
    nnf_test_ctx("%s in [%g, %g]", p[j].name, lo, hi);
    CHECK(lo >= -0.25f && hi <= 0.25f && lo < -0.2f && hi > 0.2f);
  }
  /* same seed, same weights; another seed, others */
  float w0 = p[1].data[5];
  CHECK_OK(nnf_net_init(n, &is, 7));
  CHECK(p[1].data[5] == w0);
  CHECK_OK(nnf_net_init(n, &is, 8));
  CHECK(p[1].data[5] != w0);
  /* a checkpoint: PyTorch's names, and the same outputs after loading */
  enum { B = 4 };
  static float x[B * 784], y0[B * 10];
  uint64_t r = 5;
  for (int i = 0; i < B * 784; i++) x[i] = nnf_rng_uniform(&r);
  CHECK_OK(nnf_net_observe(n, x, B, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err)); /* as `train --float` does before saving */
  CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
  memcpy(y0, n->logits, sizeof y0);
  char path[512];
  snprintf(path, sizeof path, "%s/rnn_ckpt.safetensors", NNF_TEST_TMP);
  nnf_test_ctx("save: %s", err);
  CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
  nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
  nnf_test_ctx("load: %s", err);
  CHECK(m != NULL);
  nnf_net_describe(m, desc, sizeof desc);
  CHECK(!strcmp(desc, "GRU(28,16,batch_first=True),Linear(16,10)"));
  CHECK_OK(nnf_net_run(m, NNF_FWD_FLOAT, x, B, err, sizeof err));
  CHECK_MEM_EQ(m->logits, y0, sizeof y0);
  nnf_net_free(m);
  nnf_net_free(n);

  /* stacked: in= from the sequence output before; an LSTM after a ReLU RNN */
  int flat[3] = {24, 0, 0};
  n = nnf_arch_build("rnn(6,in=4,act=relu,seq=1),lstm(5,seq=1),gru(3),dense(2)", flat, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(n != NULL);
  CHECK_EQ(n->t[1].width, 36);
  CHECK_EQ(n->t[2].width, 30);
  CHECK_EQ(n->t[3].width, 3);
  nnf_net_describe(n, desc, sizeof desc);
  CHECK(!strcmp(desc, "RNN(4,6,nonlinearity='relu',batch_first=True,seq=1),LSTM(6,5,batch_first=True,seq=1),"
                      "GRU(5,3,batch_first=True),Linear(3,2)"));
  nnf_net_free(n);
}

/* ---- bad input ----------------------------------------------------------------------------- */

static void refusals(void) {
  char err[512];
  int flat[3] = {22, 0, 0};
  static const struct {
    const char *arch, *msg;
  } bad[] = {
      {"gru(6,in=4)", "layer 0 'gru(6,in=4)': its input rows of 22 features are not whole steps of in=4 features"},
      {"lstm(6,in=23)", "layer 0 'lstm(6,in=23)': its input rows of 22 features are not whole steps of in=23 features"},
      {"gru(0,in=2)", "layer 0 'gru(0,in=2)': GRU: hidden size 0, not 1..65535"},
      {"lstm(70000,in=2)", "layer 0 'lstm(70000,in=2)': LSTM: hidden size 70000, not 1..65535"},
      {"rnn(6,in=0)", "layer 0 'rnn(6,in=0)': in is 1..65535, not 0"},
      {"lstm(8)", "layer 0 'lstm(8)': needs in= (the features of one step) for flat rows of 22 features"},
      {"lstm", "layer 0 'lstm': needs hidden"},
      {"rnn(4,in=2,act=sigmoid)", "layer 0 'rnn(4,in=2,act=sigmoid)': act is tanh or relu, not 'sigmoid'"},
      {"gru(4,in=2,act=relu)", "layer 0 'gru(4,in=2,act=relu)': has no argument 'act' (only rnn does: tanh or relu)"},
      {"gru(4,in=2,seq=2)", "layer 0 'gru(4,in=2,seq=2)': GRU: seq is 0 (the last hidden state) or 1 (every step's), not 2"},
      {"gru(4,in=2,layers=2)", "layer 0 'gru(4,in=2,layers=2)': has no argument 'layers'"},
      {"gru(4,2)", "layer 0 'gru(4,2)': takes 1 positional argument, not 2"},
      {"conv(4,3,act=relu)", "layer 0 'conv(4,3,act=relu)': has no argument 'act'"},
      {"gru(7000,in=22)", "layer 0 'gru(7000,in=22)': 21000 x 7022 weights, more than 2^27"},
      {"dense(11),gru(4)", "layer 1 'gru(4)': needs in= (the features of one step) for flat rows of 11 features"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = 0;
    CHECK(nnf_arch_build(bad[i].arch, flat, err, sizeof err) == NULL);
    nnf_test_ctx("%s -> '%s'", bad[i].arch, err);
    CHECK(!strcmp(err, bad[i].msg));
  }
  /* the spiking time axis is not a sequence */
  nnf_snn_config sc = nnf_snn_defaults();
  sc.steps = 4;
  int sizes[2] = {8, 6};
  nnf_net *s = nnf_snn_create(sizes, 2, &sc, 1, err, sizeof err);
  CHECK(s != NULL);
  CHECK_EQ(nnf_net_add(s, nnf_rnn(NNF_RNN_GRU, 3, 3, 0, err, sizeof err), err, sizeof err), -1);
  nnf_test_ctx("%s", err);
  CHECK(!strcmp(err, "layer 2 (GRU): takes rows of whole sequences, not a spiking network's 4 time steps"));
  nnf_net_free(s);
  /* the device compiler refuses one that does not read the network's input
   * (tests/e2e/test_rnn_device.c runs the others on the device) */
  int w10[3] = {10, 0, 0};
  nnf_net *n = nnf_arch_build("dense(8),gru(4,in=2),dense(3)", w10, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(n != NULL);
  const char *want = "layer 1 'gru(4,in=2)': on the device a recurrent layer reads the network's input or a "
                     "recurrent layer's every step (after another layer it does not run on the device yet)";
  err[0] = 0;
  nnf_plan pl;
  memset(&pl, 0, sizeof pl);
  nnfm_config cfg = nnfm_config_default();
  pl.cfg = &cfg;
  pl.B = 1;
  pl.features = NNFP_FEAT_EW | NNFP_FEAT_REL;
  pl.in_layer = -1;
  pl.dev = "model";
  CHECK_EQ(n->layer[1]->ops->plan(n->layer[1], &pl, err, sizeof err), -1);
  nnf_test_ctx("%s", err);
  CHECK(!strcmp(err, want));
  nnf_net_free(n);
  /* the checkpoint form: malformed entries */
  static const char *const forms[] = {"GRU(4,3)", "GRU(4,3,batch_first=False)", "RNN(4,3,nonlinearity='gelu',batch_first=True)",
                                      "LSTM(0,3,batch_first=True)", "GRU(4,3,batch_first=True,seq=2)"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    err[0] = 0;
    CHECK(nnf_rnn_layer_parse(forms[i], err, sizeof err) == NULL);
    char want2[128];
    snprintf(want2, sizeof want2, "malformed recurrent layer '%s'", forms[i]);
    nnf_test_ctx("%s -> '%s'", forms[i], err);
    CHECK(!strcmp(err, want2));
  }
  err[0] = 'x';
  CHECK(nnf_rnn_layer_parse("Linear(3,4)", err, sizeof err) == NULL);
  CHECK(err[0] == 0);
}

/* ---- the int8 step (docs/rnn.md): INT, FAKEQUANT ------------------------------------------
 * For each kind and output, a layer (then a Linear layer) with PyTorch's
 * initialisation, its ranges observed by float passes, quantized:
 *   - INT (the functional model's nnfm_gemm / nnfm_ew) and FAKEQUANT (the
 *     same ops in float, each result rounded to the same int8 grid) agree:
 *     at most 2 steps apart on any output, and on >= 90 % exactly (each op
 *     rounds once either way, a difference of one step at most per op,
 *     carried through 5 steps: measured, printed);
 *   - both are the float forward within 6 output steps (1/128 for h of the
 *     tanh kinds; the ReLU RNN's own scale): the scheme is the network's;
 *   - the fake-quant backward (straight through the roundings) points the
 *     way the float gradient does: cosine >= 0.9 for every parameter;
 *   - a checkpoint of the quantized network loads with its ranges and gives
 *     the same INT outputs, bit for bit. */
static void quantized(void) {
  static const char *const archs[] = {"rnn(6,in=4)", "rnn(6,in=4,act=relu)", "gru(6,in=4)", "lstm(6,in=4)",
                                      "rnn(6,in=4,seq=1)", "rnn(6,in=4,act=relu,seq=1)", "gru(6,in=4,seq=1)",
                                      "lstm(6,in=4,seq=1)"};
  enum { B = 32, T = 5, I = 4 };
  static float x[B * T * I], yf[B * T * 6], g[B * T * 6], gf[4][MAXV];
  static int8_t yi[B * T * 6], yq[B * T * 6];
  char err[512], path[512];
  for (int a = 0; a < 8; a++) {
    int shape[3] = {T * I, 0, 0};
    nnf_net *n = nnf_arch_build(archs[a], shape, err, sizeof err);
    nnf_test_ctx("%s: %s", archs[a], err);
    CHECK(n != NULL);
    nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
    CHECK_OK(nnf_net_init(n, &is, 70 + a));
    uint64_t r = 5 + a;
    for (int i = 0; i < B * T * I; i++) x[i] = 2 * nnf_rng_uniform(&r) - 1;
    int W = nnf_net_outputs(n);
    for (int i = 0; i < B * W; i++) g[i] = 2 * nnf_rng_uniform(&r) - 1;
    CHECK_OK(nnf_net_observe(n, x, B, 1));
    CHECK_OK(nnf_net_quantize(n, err, sizeof err));
    /* float, INT, FAKEQUANT: no observing (the int8 model stays as quantized) */
    nnf_pass pf = nnf_net_pass(n, NNF_FWD_FLOAT, B, 0, 1), pi = nnf_net_pass(n, NNF_FWD_INT, B, 0, 1),
             pq = nnf_net_pass(n, NNF_FWD_FAKEQUANT, B, 0, 1);
    CHECK_OK(nnf_net_forward(n, &pf, x, err, sizeof err));
    memcpy(yf, n->logits, (size_t)B * W * sizeof(float));
    nnf_ref_backward(n, g, B, NULL);
    nnf_param p[4];
    CHECK_EQ(nnf_net_params(n, p, 4, NULL), 4);
    for (int j = 0; j < 4; j++) memcpy(gf[j], p[j].grad, nnf_param_size(&p[j]) * sizeof(float));
    CHECK_OK(nnf_net_forward(n, &pi, x, err, sizeof err));
    nnf_test_ctx("%s: %s", archs[a], err);
    memcpy(yi, n->t[1].q, (size_t)B * W);
    CHECK_OK(nnf_net_forward(n, &pq, x, err, sizeof err));
    memcpy(yq, n->t[1].q, (size_t)B * W);
    const nnf_qrange *hr = &n->t[1].r;
    int worst = 0, same = 0;
    double wf = 0;
    for (int i = 0; i < B * W; i++) {
      int d = abs(yi[i] - yq[i]);
      worst = d > worst ? d : worst;
      same += d == 0;
      double e = fabs(((yi[i] - hr->zp) * hr->scale - yf[i]) / hr->scale);
      wf = e > wf ? e : wf;
    }
    /* the fake-quant backward against the float one */
    nnf_ref_backward(n, g, B, NULL);
    double cmin = 1;
    for (int j = 0; j < 4; j++) {
      double dot = 0, na = 0, nb = 0;
      for (size_t i = 0; i < nnf_param_size(&p[j]); i++)
        dot += (double)p[j].grad[i] * gf[j][i], na += (double)p[j].grad[i] * p[j].grad[i], nb += (double)gf[j][i] * gf[j][i];
      double c = dot / sqrt(na * nb + 1e-30);
      cmin = c < cmin ? c : cmin;
    }
    printf("int8 %-26s INT vs FAKEQUANT: %5.1f%% equal, at most %d apart; INT vs float: %.2f steps; "
           "gradient cosine >= %.3f\n", archs[a], 100.0 * same / (B * W), worst, wf, cmin);
    nnf_test_ctx("%s: worst %d, same %d of %d, float %.2f steps, cosine %.3f", archs[a], worst, same, B * W, wf, cmin);
    CHECK(worst <= 2 && same >= 0.9 * B * W && wf <= 6 && cmin >= 0.9);
    /* the checkpoint keeps the ranges: the same INT outputs after loading */
    snprintf(path, sizeof path, "%s/rnn_q.safetensors", NNF_TEST_TMP);
    CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
    nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
    nnf_test_ctx("%s: load: %s", archs[a], err);
    CHECK(m != NULL);
    CHECK_EQ(m->quantized, 1);
    nnf_pass pm = nnf_net_pass(m, NNF_FWD_INT, B, 0, 1);
    CHECK_OK(nnf_net_forward(m, &pm, x, err, sizeof err));
    CHECK_MEM_EQ(m->t[1].q, yi, (size_t)B * W);
    nnf_net_free(m);
    nnf_net_free(n);
  }
  /* QAT's first pass: a network never observed takes the step's ranges from
   * a float pass of its first batch (not from the default [0, 1] ranges) */
  for (int a = 0; a < 4; a++) {
    int shape[3] = {T * I, 0, 0};
    nnf_net *n = nnf_arch_build(archs[a], shape, err, sizeof err);
    CHECK(n != NULL);
    nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
    CHECK_OK(nnf_net_init(n, &is, 90 + a));
    uint64_t r = 9 + a;
    for (int i = 0; i < B * T * I; i++) x[i] = nnf_rng_uniform(&r); /* [0, 1]: the default input quantizer holds it */
    int W = nnf_net_outputs(n);
    CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
    memcpy(yf, n->logits, (size_t)B * W * sizeof(float));
    nnf_qrange *rr;
    int nr = nnf_layer_rnn_ranges(n->layer[0], &rr);
    CHECK(nr >= 0);
    for (int k = 0; k < nr; k++) CHECK_EQ(rr[k].seen, 0);
    CHECK_OK(nnf_net_run(n, NNF_FWD_FAKEQUANT, x, B, err, sizeof err)); /* observes */
    for (int k = 0; k < nr; k++) CHECK_EQ(rr[k].seen, 2);               /* the float pass's, then its own */
    const nnf_qrange *hr = &n->t[1].r;
    double wf = 0;
    for (int i = 0; i < B * W; i++) wf = fmax(wf, fabs((n->logits[i] - yf[i]) / hr->scale));
    printf("int8 %-26s first QAT pass vs float: %.2f steps\n", archs[a], wf);
    nnf_test_ctx("%s: first QAT pass %.2f steps from float", archs[a], wf);
    CHECK(wf <= 6);
    nnf_net_free(n);
  }
}

/* The INT path is docs/rnn.md's rule, bit for bit: an Elman tanh RNN's
 * step derived here from the float parameters and the ranges alone (the
 * weights [W_ih s_x | W_hh s_h] per output channel, the int32 bias with both
 * zero points folded, the multiplier to the pre-activation's range, the
 * tanh LUT into 1/128) and run through nnfm_gemm, against the layer's INT
 * outputs at every step. */
static void int_rule(void) {
  enum { B = 6, T = 4, I = 3, H = 5, K = I + H };
  char err[512];
  int shape[3] = {T * I, 0, 0};
  nnf_net *n = nnf_arch_build("rnn(5,in=3,seq=1)", shape, err, sizeof err);
  CHECK(n != NULL);
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  CHECK_OK(nnf_net_init(n, &is, 123));
  float x[B * T * I];
  uint64_t r = 77;
  for (int i = 0; i < B * T * I; i++) x[i] = 3 * nnf_rng_uniform(&r) - 1.5f;
  CHECK_OK(nnf_net_observe(n, x, B, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  nnf_pass pi = nnf_net_pass(n, NNF_FWD_INT, B, 0, 1);
  CHECK_OK(nnf_net_forward(n, &pi, x, err, sizeof err));
  nnf_param p[4];
  CHECK_EQ(nnf_net_params(n, p, 4, NULL), 4);
  nnf_qrange *rg;
  CHECK_EQ(nnf_layer_rnn_ranges(n->layer[0], &rg), 1);
  const nnf_qrange *xr = &n->t[0].r, *pre = &rg[0];
  const double sh = 1.0 / 128.0;
  int8_t w[K * H], lut[256];
  int32_t bias[H], m0[H];
  int8_t shift[H];
  for (int o = 0; o < H; o++) {
    float row[K], mx = 0;
    for (int k = 0; k < K; k++) {
      row[k] = k < I ? (float)(p[0].data[o * I + k] * xr->scale) : (float)(p[1].data[o * H + k - I] * sh);
      mx = fabsf(row[k]) > mx ? fabsf(row[k]) : mx;
    }
    double sw = mx / 127.0;
    for (int k = 0; k < K; k++) w[k * H + o] = (int8_t)nnfm_quantize_real(row[k], sw, 0, -127, 127);
    bias[o] = nnfm_quantize_real(p[2].data[o] + p[3].data[o], sw, 0, INT32_MIN, INT32_MAX);
    int sft;
    CHECK_EQ(nnfm_quantize_multiplier(sw / pre->scale, &m0[o], &sft), NNFM_OK);
    shift[o] = (int8_t)sft;
  }
  CHECK_EQ(nnfm_fold_input_zp(w, I, H, xr->zp, bias, bias), NNFM_OK);
  CHECK_EQ(nnfm_fold_input_zp(w + I * H, H, H, 0, bias, bias), NNFM_OK);
  for (int v = -128; v < 128; v++)
    lut[(uint8_t)v] = (int8_t)nnfm_quantize_real(tanhf((float)((v - pre->zp) * pre->scale)), sh, 0, -128, 127);
  int8_t a[B * K], h[B * H], xq[B * T * I];
  memset(h, 0, sizeof h);
  for (int i = 0; i < B * T * I; i++) xq[i] = (int8_t)nnfm_quantize_real(x[i], xr->scale, xr->zp, -128, 127);
  int differ = 0;
  for (int t = 0; t < T; t++) {
    for (int b = 0; b < B; b++) {
      memcpy(a + b * K, xq + (b * T + t) * I, I);
      memcpy(a + b * K + I, h + b * H, H);
    }
    nnfm_gemm_args g = {B, K, H, pre->zp, -128, 127, lut, NNFM_ROUND_SINGLE};
    CHECK_EQ(nnfm_gemm(&g, a, w, bias, m0, shift, h), NNFM_OK);
    for (int b = 0; b < B; b++)
      for (int j = 0; j < H; j++) differ += h[b * H + j] != n->t[1].q[(b * T + t) * H + j];
  }
  nnf_test_ctx("%d of %d INT outputs differ from the rule", differ, B * T * H);
  CHECK_EQ(differ, 0);
  printf("int8 rnn(5,in=3,seq=1): INT equals docs/rnn.md's rule on all %d outputs\n", B * T * H);
  nnf_net_free(n);
}

int main(int argc, char **argv) {
  (void)argc;
  torch_cases();
  finite_differences();
  init_and_ckpt();
  refusals();
  quantized();
  int_rule();
  return nnf_test_done(argv[0]);
}
