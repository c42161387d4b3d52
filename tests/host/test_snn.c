/*
 * test_snn.c - spiking networks:
 *   - the device (model backend, and the Verilated RTL when it has LIF
 *     cores) gives exactly the host integer reference's output spike counts,
 *     for direct-current and rate-coded inputs, both reset modes, T = 1, 2
 *     and longer (the LOOP), and a batch split into chunks;
 *   - beta maps onto dv exactly; bad configurations are refused;
 *   - surrogate-gradient training learns a small problem, and the same seed
 *     gives the same weights.
 */
#include <math.h>
#include <stdlib.h>

#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_train.h"
#include "nnf_test.h"
#include "nnfdrv.h"

static char err[512];

static float *inputs(int B, int K, uint64_t seed) {
  float *x = malloc(sizeof(float) * (size_t)B * K);
  uint64_t r = seed;
  for (int i = 0; i < B * K; i++) x[i] = nnf_rng_uniform(&r);
  return x;
}

static void device_matches_host(const char *uri, nnf_encoding enc, int reset_sub, int T, int B) {
  nnf_test_ctx("%s, %s coding, %s reset, T = %d, batch %d", uri, enc ? "rate" : "direct",
               reset_sub ? "subtract" : "zero", T, B);
  const int sizes[4] = {40, 24, 13, 5};
  nnf_snn_config c = nnf_snn_defaults();
  c.steps = T;
  c.encoding = enc;
  c.lif.reset_sub = reset_sub;
  nnf_net *n = nnf_snn_create(sizes, 4, &c, 11, err, sizeof err);
  CHECK(n != NULL);
  /* scale the weights up so that every layer spikes */
  for (int l = 0; l < 3; l++)
    for (int i = 0; i < sizes[l] * sizes[l + 1]; i++) nnf_net_dense(n, l)->w[i] *= 3.0f;
  float *x = inputs(B, 40, 3);
  CHECK_OK(nnf_net_calibrate(n, x, B, err, sizeof err));
  /* host reference (rate coding: the same seed for both) */
  n->rng = 77;
  CHECK_OK(nnf_net_run(n, NNF_FWD_INT, x, B, err, sizeof err));
  int32_t *ref = malloc(sizeof(int32_t) * B * 5), *got = malloc(sizeof(int32_t) * B * 5);
  memcpy(ref, n->counts, sizeof(int32_t) * B * 5);
  long total = 0;
  for (int i = 0; i < B * 5; i++) total += ref[i];
  CHECK(total > 0); /* the output layer spikes: the comparison means something */
  nnf_device *d = nnf_device_open(uri, err, sizeof err);
  CHECK(d != NULL);
  CHECK_OK(nnf_device_load(d, n, B > 8 ? 8 : B, err, sizeof err)); /* chunks of 8 */
  n->rng = 77;
  if (nnf_device_forward(d, n, x, B, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    CHECK(0);
  }
  memcpy(got, nnf_net_counts(n), sizeof(int32_t) * B * 5);
  CHECK_MEM_EQ(got, ref, sizeof(int32_t) * B * 5);
  nnf_device_close(d);
  free(ref);
  free(got);
  free(x);
  nnf_net_free(n);
  nnf_test_ctx("");
}

static nnf_dataset toy(size_t count, uint64_t seed) {
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
    for (int j = 0; j < 24; j++) d.x[i * 24 + j] = nnf_rng_uniform(&r) * 0.4f + (j / 8 == c ? 0.6f : 0.0f);
  }
  return d;
}

static nnf_net *train_toy(double *acc) {
  const int sizes[3] = {24, 20, 3};
  nnf_snn_config c = nnf_snn_defaults();
  c.steps = 10;
  nnf_net *n = nnf_snn_create(sizes, 3, &c, 5, err, sizeof err);
  nnf_opt_config oc = nnf_optim_defaults(NNF_OPT_ADAM);
  oc.lr = 5e-3;
  nnf_optim *o = nnf_optim_create(&oc, err, sizeof err);
  CHECK(n && o);
  CHECK_OK(nnf_net_register(n, o));
  nnf_dataset tr = toy(600, 1), te = toy(300, 2);
  nnf_eval_result r0, r1;
  CHECK_OK(nnf_net_calibrate(n, tr.x, 64, err, sizeof err));
  CHECK_OK(nnf_evaluate(n, NNF_FWD_INT, NULL, &te, 64, &r0, NULL, NULL, err, sizeof err));
  nnf_train_opts t = nnf_train_defaults();
  t.mode = t.eval_mode = NNF_FWD_INT;
  t.eval_batch = 256;
  t.epochs = 5;
  t.batch = 32;
  t.seed = 9;
  t.observe_every = 4;
  CHECK_OK(nnf_train(n, o, NULL, &tr, NULL, NULL, &t, err, sizeof err));
  CHECK_OK(nnf_evaluate(n, NNF_FWD_INT, NULL, &te, 64, &r1, NULL, NULL, err, sizeof err));
  CHECK(r1.accuracy > 0.9);
  CHECK(r1.accuracy > r0.accuracy);
  *acc = r1.accuracy;
  nnf_dataset_free(&tr);
  nnf_dataset_free(&te);
  nnf_optim_destroy(o);
  return n;
}

static void config_errors(void) {
  const int sizes[3] = {4, 3, 2};
  nnf_snn_config c = nnf_snn_defaults();
  c.steps = 0;
  CHECK(nnf_snn_create(sizes, 3, &c, 1, err, sizeof err) == NULL);
  CHECK(strstr(err, "time steps") != NULL);
  c = nnf_snn_defaults();
  c.lif.beta = 1.5;
  CHECK(nnf_snn_create(sizes, 3, &c, 1, err, sizeof err) == NULL);
  c = nnf_snn_defaults();
  c.lif.threshold = 0;
  CHECK(nnf_snn_create(sizes, 3, &c, 1, err, sizeof err) == NULL);
  /* beta = 1 - dv / 4096 exactly */
  c = nnf_snn_defaults();
  c.lif.beta = 1.0 - 1000.0 / 4096.0;
  nnf_net *n = nnf_snn_create(sizes, 3, &c, 1, err, sizeof err);
  CHECK(n != NULL);
  nnfm_lif_params lp;
  CHECK_OK(nnf_layer_lif_params(n->layer[1], &lp));
  CHECK_EQ(lp.dv, 1000);
  CHECK_EQ(lp.du, 4095);
  nnf_net_free(n);
  /* the driver refuses out-of-range LIF fields before anything is sent */
  uint8_t w[32];
  nnfdrv_lif f;
  memset(&f, 0, sizeof f);
  f.m = f.n = 1;
  f.du = 4096;
  CHECK_EQ(nnfdrv_insn_lif(w, &f), NNFDRV_ERR_ARG);
  f.du = 0;
  f.vth = 1 << 17;
  CHECK_EQ(nnfdrv_insn_lif(w, &f), NNFDRV_ERR_ARG);
  CHECK_EQ(nnfdrv_insn_loop(w, 0, 0), NNFDRV_ERR_ARG);
}

int main(int argc, char **argv) {
  (void)argc;
  config_errors();
  static const int Ts[] = {1, 2, 9};
  for (int k = 0; k < 3; k++) {
    device_matches_host("model", NNF_ENC_DIRECT, 1, Ts[k], 19);
    device_matches_host("model", NNF_ENC_DIRECT, 0, Ts[k], 8);
  }
  device_matches_host("model", NNF_ENC_RATE, 1, 6, 11);
  double a1, a2;
  nnf_net *n1 = train_toy(&a1), *n2 = train_toy(&a2);
  CHECK(a1 == a2);
  CHECK_MEM_EQ(nnf_net_dense(n1, 0)->w, nnf_net_dense(n2, 0)->w, sizeof(float) * 24 * 20);
  nnf_net_free(n1);
  nnf_net_free(n2);
  /* the Verilated RTL, when its INFO says it has LIF cores */
  nnfdrv *probe = NULL;
  if (nnfdrv_open("sim", &probe, err, sizeof err) == NNFDRV_OK) {
    int lif = (nnfdrv_get_info(probe)->features & 4) != 0;
    nnfdrv_close(probe);
    if (lif) {
      device_matches_host("sim", NNF_ENC_DIRECT, 1, 9, 19);
      device_matches_host("sim", NNF_ENC_DIRECT, 0, 2, 8);
      device_matches_host("sim", NNF_ENC_RATE, 1, 4, 5);
    } else {
      printf("test_snn: the simulated RTL has no LIF cores yet; model only\n");
    }
  }
  return nnf_test_done(argv[0]);
}
