/*
 * test_ckpt_compat.c - checkpoints written before the layer stack (format
 * 1, tests/data/ckpt_v1_*.safetensors, see tests/data/ckpt_v1.md) still
 * load, and give exactly what the nnfpga that wrote them inferred: an MLP
 * with a sigmoid LUT (int8 logits on the model device and on the host's
 * integer path, float logits) and a spiking network (spike counts); and a
 * format-2 round trip of each keeps every tensor and every output.
 */
#include <stdlib.h>
#include <string.h>

#include "nnf_ckpt.h"
#include "nnf_data.h"
#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_test.h"

static char err[512];

static const int8_t mlp_logits[4][10] = {{49, -20, 111, 48, -85, -23, -59, 33, -70, 27},
                                         {73, 14, 72, 53, -64, -78, -30, -5, -81, 25},
                                         {74, 49, 46, 79, -77, -101, -17, -33, -108, 30},
                                         {76, 43, 47, 82, -85, -99, -23, -28, -114, 28}};
static const float mlp_float[2][10] = {
    {0.111343525f, -0.104734451f, 0.310971081f, 0.10986574f, -0.309958309f, -0.113638252f, -0.231924325f,
     0.0620911643f, -0.261130691f, 0.0446094424f},
    {0.205620825f, 0.0814168453f, 0.149559379f, 0.0188788772f, -0.0960313082f, -0.338759959f, -0.0537754819f,
     -0.152971834f, -0.218521655f, 0.0604728162f}};
static const int32_t snn_counts[4][10] = {{0, 0, 0, 0, 1, 1, 1, 1, 1, 1},
                                          {0, 0, 0, 0, 1, 1, 1, 1, 1, 1},
                                          {1, 2, 0, 1, 1, 0, 1, 0, 0, 0},
                                          {1, 2, 0, 3, 0, 1, 0, 0, 0, 0}};

static void check_mlp(nnf_net *n, nnf_device *d, const float *x) {
  CHECK(n->quantized);
  CHECK_OK(nnf_device_load(d, n, 4, err, sizeof err));
  CHECK_OK(nnf_device_forward(d, n, x, 4, err, sizeof err));
  CHECK_MEM_EQ(n->t[n->nlayers].q, mlp_logits, 40);
  int8_t host[40];
  CHECK_OK(nnf_net_reserve(n, 4, err, sizeof err));
  nnf_net_quantize_input(n, x, 4);
  int8_t xq[4 * 784];
  memcpy(xq, n->t[0].q, sizeof xq);
  CHECK_OK(nnf_net_forward_int(n, xq, 4, host));
  CHECK_MEM_EQ(host, mlp_logits, 40);
  CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, 2, err, sizeof err));
  CHECK_MEM_EQ(n->logits, mlp_float, sizeof mlp_float);
}

static void check_snn(nnf_net *n, nnf_device *d, const float *x) {
  CHECK(nnf_net_spiking(n));
  CHECK_EQ(n->steps, 8);
  CHECK_OK(nnf_device_load(d, n, 4, err, sizeof err));
  CHECK_OK(nnf_device_forward(d, n, x, 4, err, sizeof err));
  CHECK_MEM_EQ(nnf_net_counts(n), snn_counts, sizeof snn_counts);
  CHECK_OK(nnf_net_run(n, NNF_FWD_INT, x, 4, err, sizeof err));
  CHECK_MEM_EQ(nnf_net_counts(n), snn_counts, sizeof snn_counts);
}

int main(int argc, char **argv) {
  (void)argc;
  nnf_dataset test;
  if (nnf_dataset_load_mnist_dir(NNF_FASHION_DIR, 0, &test, err, sizeof err)) {
    fprintf(stderr, "test_ckpt_compat: %s\n", err);
    return 1;
  }
  nnf_device *d = nnf_device_open("model", err, sizeof err);
  CHECK(d != NULL);
  nnf_net *mlp = nnf_ckpt_load(NNF_TEST_DATA "/ckpt_v1_mlp.safetensors", err, sizeof err);
  nnf_net *snn = nnf_ckpt_load(NNF_TEST_DATA "/ckpt_v1_snn.safetensors", err, sizeof err);
  CHECK(mlp != NULL && snn != NULL);
  char arch[1024];
  nnf_net_describe(mlp, arch, sizeof arch);
  CHECK(!strcmp(arch, "Linear(784,8),Sigmoid,Linear(8,10)"));
  check_mlp(mlp, d, test.x);
  check_snn(snn, d, test.x);
  /* format 2 round trip: every output the same */
  const char *p1 = NNF_TEST_TMP "/compat_mlp.safetensors", *p2 = NNF_TEST_TMP "/compat_snn.safetensors";
  CHECK_OK(nnf_ckpt_save(p1, mlp, NULL, NULL, 0, err, sizeof err));
  CHECK_OK(nnf_ckpt_save(p2, snn, NULL, NULL, 0, err, sizeof err));
  nnf_net *mlp2 = nnf_ckpt_load(p1, err, sizeof err), *snn2 = nnf_ckpt_load(p2, err, sizeof err);
  CHECK(mlp2 != NULL && snn2 != NULL);
  check_mlp(mlp2, d, test.x);
  check_snn(snn2, d, test.x);
  CHECK_MEM_EQ(nnf_net_dense(mlp2, 0)->w, nnf_net_dense(mlp, 0)->w, sizeof(float) * 784 * 8);
  nnf_net_free(mlp);
  nnf_net_free(snn);
  nnf_net_free(mlp2);
  nnf_net_free(snn2);
  nnf_device_close(d);
  nnf_dataset_free(&test);
  return nnf_test_done(argv[0]);
}
