/*
 * test_qat.c - quantization-aware training and the device path:
 *   - the int8 network on the model backend and on the Verilated RTL (sim)
 *     equals, bit for bit on every layer's activations, an integer oracle
 *     written out in this file from the documented rules (docs/numerics.md:
 *     int32 accumulation mod 2^32, single-rounding requantization with ties
 *     toward +infinity, output zero point, clamp, LUT) that shares no code
 *     with the functional model, and so do the host's integer reference
 *     (nnf_net_forward_int) and nnfm_gemm; for each activation (ReLU, ReLU6
 *     and the LUT ones, with two LUT segments for a 3-layer sigmoid net),
 *     with ragged sizes and a partial last batch;
 *   - the fake-quant forward on the host lands within one step of the int8
 *     logits almost everywhere;
 *   - training with the forward on the device reduces the loss, and the
 *     same seed gives the same weights bit for bit;
 *   - checkpoints round-trip (same int8 logits after loading) and refuse
 *     what does not fit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_ckpt.h"
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_train.h"
#include "nnf_test.h"
#include "nnfm.h"

static char err[512];

static nnf_net *make_net(const int *sizes, int ns, nnf_act act, uint64_t seed, const float *x, int B) {
  nnf_net *n = nnf_mlp_create(sizes, ns, act, seed, err, sizeof err);
  CHECK(n != NULL);
  CHECK_OK(nnf_net_observe(n, x, B, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  return n;
}

static float *random_inputs(int B, int K, uint64_t seed) {
  float *x = malloc(sizeof(float) * (size_t)B * K);
  uint64_t r = seed;
  for (int i = 0; i < B * K; i++) x[i] = nnf_rng_uniform(&r);
  return x;
}

/* ---- the oracle: one layer of the int8 network, from docs/numerics.md ----
 * y[m][n] = f(clamp(((acc * m0[n] + 2^(k-1)) floor/ 2^k) + zp, lo, hi)),
 * k = 31 - shift[n], acc = bias[n] + sum_k a[m][k] w[k][n] in int32 mod 2^32,
 * f the layer's 256-entry table (indexed by the byte) if it has one.
 * Written with unsigned wrap-around and an explicit floor division, not
 * with the model's helpers. */
static int64_t floor_div_pow2(int64_t x, int k) {
  int64_t d = (int64_t)1 << k;
  int64_t q = x / d; /* truncates toward zero */
  return (x % d != 0 && x < 0) ? q - 1 : q;
}

static void oracle_layer(const nnf_qlayer *Q, int M, int K, int N, const int8_t *a, int8_t *y) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      uint32_t acc = (uint32_t)Q->bias[n];
      for (int k = 0; k < K; k++) acc += (uint32_t)((int32_t)a[m * K + k] * (int32_t)Q->w_kn[k * N + n]);
      int64_t acc_s = acc >= 0x80000000u ? (int64_t)acc - ((int64_t)1 << 32) : (int64_t)acc;
      int sh = 31 - Q->shift[n];
      CHECK(sh >= 1 && sh <= 62);
      int64_t v = floor_div_pow2(acc_s * Q->m0[n] + ((int64_t)1 << (sh - 1)), sh) + Q->zp;
      v = v < Q->lo ? Q->lo : v > Q->hi ? Q->hi : v;
      y[m * N + n] = Q->lut ? Q->table[(uint8_t)(int8_t)v] : (int8_t)v;
    }
}

/* Every layer's int8 outputs from a device equal the oracle's. */
static void device_matches_reference(const char *uri, nnf_act act, int ns, const int *sizes, int B,
                                     int load_batch) {
  nnf_test_ctx("device %s, act %s, %d layers, batch %d (loaded for %d)", uri, nnf_act_name(act),
               ns - 1, B, load_batch);
  float *x = random_inputs(B, sizes[0], 7 + (uint64_t)act);
  nnf_net *n = make_net(sizes, ns, act, 21 + (uint64_t)act, x, B);
  int L = ns - 1;
  int8_t *xq = malloc((size_t)B * sizes[0]), *ref = malloc((size_t)B * sizes[L]);
  CHECK_OK(nnf_net_reserve(n, B, err, sizeof err));
  nnf_net_quantize_input(n, x, B);
  memcpy(xq, n->t[0].q, (size_t)B * sizes[0]);
  CHECK_OK(nnf_net_forward_int(n, xq, B, ref));
  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  CHECK(d != NULL);
  CHECK_OK(nnf_device_load(d, n, load_batch, err, sizeof err));
  int8_t *outs[NNF_MAX_LAYERS + 1] = {0};
  for (int l = 1; l <= L; l++) outs[l] = malloc((size_t)B * sizes[l]);
  CHECK_OK(nnf_device_forward(d, n, x, B, err, sizeof err));
  for (int l = 1; l <= L; l++) memcpy(outs[l], nnf_mlp_output_q(n, l), (size_t)B * sizes[l]);
  /* every layer against the oracle, each fed the oracle's previous layer;
   * nnfm_gemm (the model's reference) must agree with it too */
  const int8_t *in = xq;
  int seen[256] = {0}, distinct = 0;
  for (int l = 0; l < L; l++) {
    const nnf_qlayer *Q = nnf_net_qlayer(n, l);
    size_t cnt = (size_t)B * sizes[l + 1];
    int8_t *y = malloc(cnt), *g_y = malloc(cnt);
    oracle_layer(Q, B, sizes[l], sizes[l + 1], in, y);
    nnf_test_ctx("device %s, act %s, layer %d of %d against the oracle", uri, nnf_act_name(act), l + 1, L);
    CHECK_MEM_EQ(outs[l + 1], y, cnt);
    nnfm_gemm_args g = {B, sizes[l], sizes[l + 1], Q->zp, Q->lo, Q->hi, Q->lut ? Q->table : NULL, NNFM_ROUND_SINGLE};
    CHECK_EQ(nnfm_gemm(&g, in, Q->w_kn, Q->bias, Q->m0, Q->shift, g_y), NNFM_OK);
    CHECK_MEM_EQ(g_y, y, cnt);
    for (size_t i = 0; i < cnt; i++) distinct += !seen[(uint8_t)y[i]]++;
    free(g_y);
    if (in != xq) free((void *)in);
    in = y;
  }
  CHECK_MEM_EQ(ref, in, (size_t)B * sizes[L]); /* nnf_net_forward_int */
  /* not a degenerate network whose outputs all sit on a clamp */
  CHECK(distinct >= 32);
  free((void *)in);
  /* the device forward of the network gives the same int8 logits */
  CHECK_OK(nnf_device_forward(d, n, x, B, err, sizeof err));
  CHECK_MEM_EQ(nnf_mlp_output_q(n, L), ref, (size_t)B * sizes[L]);
  /* the fake-quant emulation is within one step almost everywhere */
  int8_t *dev_logits = malloc((size_t)B * sizes[L]);
  memcpy(dev_logits, nnf_mlp_output_q(n, L), (size_t)B * sizes[L]);
  CHECK_OK(nnf_net_run(n, NNF_FWD_FAKEQUANT, x, B, err, sizeof err));
  int far = 0;
  for (int i = 0; i < B * sizes[L]; i++) far += abs(nnf_mlp_output_q(n, L)[i] - dev_logits[i]) > 1;
  CHECK(far <= B * sizes[L] / 50);
  for (int l = 1; l <= L; l++) free(outs[l]);
  free(dev_logits);
  free(xq);
  free(ref);
  free(x);
  nnf_device_close(d);
  nnf_net_free(n);
  nnf_test_ctx("");
}

/* A small, learnable problem: class = which of 3 input blocks is brightest. */
static nnf_dataset toy_data(size_t count, uint64_t seed) {
  nnf_dataset d;
  memset(&d, 0, sizeof d);
  d.count = count;
  d.features = 24;
  d.classes = 3;
  d.x = malloc(sizeof(float) * count * 24);
  d.y = malloc(sizeof(int32_t) * count);
  uint64_t r = seed;
  for (size_t i = 0; i < count; i++) {
    int c = (int)(nnf_rng_next(&r) % 3);
    d.y[i] = c;
    for (int j = 0; j < 24; j++) d.x[i * 24 + j] = nnf_rng_uniform(&r) * 0.5f + (j / 8 == c ? 0.5f : 0.0f);
  }
  return d;
}

static nnf_net *train_toy(const char *uri, uint64_t seed, double *acc) {
  const int sizes[3] = {24, 16, 3};
  nnf_net *n = nnf_mlp_create(sizes, 3, NNF_ACT_RELU, seed, err, sizeof err);
  nnf_opt_config oc = nnf_optim_defaults(NNF_OPT_ADAM);
  oc.lr = 0.01;
  nnf_optim *o = nnf_optim_create(&oc, err, sizeof err);
  CHECK(n && o);
  CHECK_OK(nnf_net_register(n, o));
  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  CHECK(d != NULL);
  nnf_dataset tr = toy_data(600, 1), te = toy_data(300, 2);
  nnf_train_opts opts = nnf_train_defaults();
  opts.mode = opts.eval_mode = NNF_FWD_DEVICE;
  opts.epochs = 3;
  opts.batch = 32;
  opts.seed = seed;
  nnf_eval_result r0, r1;
  CHECK_OK(nnf_net_observe(n, tr.x, 64, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  CHECK_OK(nnf_evaluate(n, NNF_FWD_DEVICE, d, &te, 64, &r0, NULL, NULL, err, sizeof err));
  if (nnf_train(n, o, d, &tr, NULL, &te, &opts, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    CHECK(0);
  }
  CHECK_OK(nnf_evaluate(n, NNF_FWD_DEVICE, d, &te, 64, &r1, NULL, NULL, err, sizeof err));
  CHECK(r1.loss < r0.loss);
  *acc = r1.accuracy;
  nnf_dataset_free(&tr);
  nnf_dataset_free(&te);
  nnf_device_close(d);
  nnf_optim_destroy(o);
  return n;
}

static void training(void) {
  double a1, a2;
  nnf_net *n1 = train_toy("model", 5, &a1), *n2 = train_toy("model", 5, &a2);
  CHECK(a1 > 0.9);
  CHECK(a1 == a2);
  for (int l = 0; l < nnf_net_linears(n1); l++)
    CHECK_MEM_EQ(nnf_net_dense(n1, l)->w, nnf_net_dense(n2, l)->w, sizeof(float) * nnf_net_size(n1, l) * nnf_net_size(n1, l + 1));
  /* checkpoint round trip */
  char path[512];
  snprintf(path, sizeof path, "%s/qat_toy.safetensors", NNF_TEST_TMP);
  CHECK_OK(nnf_ckpt_save(path, n1, NULL, NULL, 0, err, sizeof err));
  nnf_net *back = nnf_ckpt_load(path, err, sizeof err);
  if (!back) fprintf(stderr, "load: %s\n", err);
  CHECK(back != NULL);
  CHECK(back->quantized);
  for (int l = 0; l < nnf_net_linears(n1); l++) {
    CHECK_MEM_EQ(nnf_net_qlayer(back, l)->w_kn, nnf_net_qlayer(n1, l)->w_kn, (size_t)nnf_net_size(n1, l) * nnf_net_size(n1, l + 1));
    CHECK_MEM_EQ(nnf_net_qlayer(back, l)->bias, nnf_net_qlayer(n1, l)->bias, sizeof(int32_t) * nnf_net_size(n1, l + 1));
    CHECK_MEM_EQ(nnf_net_qlayer(back, l)->m0, nnf_net_qlayer(n1, l)->m0, sizeof(int32_t) * nnf_net_size(n1, l + 1));
  }
  nnf_net_free(back);
  nnf_net_free(n1);
  nnf_net_free(n2);
}

static void errors(void) {
  const int big[3] = {784, 4000, 10};
  nnf_net *n = nnf_mlp_create(big, 3, NNF_ACT_RELU, 1, err, sizeof err);
  CHECK(n != NULL);
  float *x = random_inputs(4, 784, 3);
  CHECK_OK(nnf_net_observe(n, x, 4, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  /* 784-4000-10 is 50,000 W words: refused on a device without banks, and
   * streamed through the banks of one that has them (docs/memory.md) */
  nnf_device *d = nnf_device_open("model:banks=0", err, sizeof err);
  CHECK(d != NULL);
  CHECK(nnf_device_load(d, n, 64, err, sizeof err) != 0);
  CHECK(strstr(err, "W words") != NULL);
  nnf_device_close(d);
  d = nnf_device_open("model", err, sizeof err);
  CHECK(d != NULL);
  CHECK_OK(nnf_device_load(d, n, 64, err, sizeof err));
  nnf_device_memory m;
  CHECK_OK(nnf_device_memory_get(d, &m));
  CHECK(m.streamed_layers == 1 && m.chunks > 1);
  nnf_device_close(d);
  nnf_net_free(n);
  free(x);
  int sizes[NNF_MAX_LAYERS + 1];
  CHECK_EQ(nnf_parse_layers("784,,10", sizes, 9, err, sizeof err), -1);
  CHECK_EQ(nnf_parse_layers("784", sizes, 9, err, sizeof err), -1);
  CHECK_EQ(nnf_parse_layers("784,0,10", sizes, 9, err, sizeof err), -1);
  CHECK_EQ(nnf_parse_layers("784,128,", sizes, 9, err, sizeof err), -1);
  CHECK_EQ(nnf_parse_layers("784,128,10", sizes, 9, err, sizeof err), 3);
  CHECK(nnf_ckpt_load(NNF_TEST_DATA "/does-not-exist.safetensors", err, sizeof err) == NULL);
}

int main(int argc, char **argv) {
  (void)argc;
  const int mlp[3] = {100, 37, 10}, deep[4] = {50, 24, 17, 5};
  static const nnf_act acts[] = {NNF_ACT_RELU, NNF_ACT_RELU6, NNF_ACT_TANH, NNF_ACT_SIGMOID};
  for (int a = 0; a < 4; a++) {
    device_matches_reference("model", acts[a], 3, mlp, 70, 32);
    device_matches_reference("model", acts[a], 4, deep, 20, 64);
  }
  device_matches_reference("sim", NNF_ACT_RELU, 3, mlp, 40, 16);
  device_matches_reference("sim", NNF_ACT_SIGMOID, 4, deep, 9, 9);
  training();
  errors();
  return nnf_test_done(argv[0]);
}
