/*
 * test_device_program.c - what the host sends a device stays bit for bit
 * what it was: for a set of networks (MLPs with each activation, LUT
 * segments, ragged sizes, a partial last chunk; spiking networks with direct
 * and rate input, with and without a LOOP), the device's PROG, W, P and LUT
 * regions after loading, every output after a run, and PROG again after the
 * run (the last, shorter chunk rewrites the program) are hashed (FNV-1a 64)
 * and compared with the values recorded from the code before the layer
 * stack (issue 13), on a device with one LUT (`model:luts=1`, as the code
 * then knew). The MLP cases run again on the default model (8 LUTs: each
 * distinct table in a LUT of its own, one program where there were
 * segments), with hashes recorded when that came (issue 15), and their
 * outputs must equal the one-LUT run's. A change to the device compiler
 * that moves one byte of one program fails here.
 */
#include <stdlib.h>
#include <string.h>

#include "nnf_device.h"
#include "nnf_layer.h"
#include "nnf_test.h"
#include "nnfdrv.h"

static char err[512];

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

/* FNV-1a of the device's regions PROG, W, P and LUT, read back. PROG, W
 * and P are hashed over the 64 instructions, 16384 words and 64 entries the
 * hashes were recorded with (the simulator's, and so the model's default,
 * grew since: PROG and P to 256 for the attention layers, W to 32768 words
 * and P to 512 for MLPerf Tiny's VWW); what lies past them must be all zero. */
static uint64_t regions_hash(nnf_device *d) {
  nnfdrv *drv = nnf_device_driver(d);
  const nnfdrv_info *in = nnfdrv_get_info(drv);
  const int regions[4] = {NNFDRV_PROG, NNFDRV_W, NNFDRV_P, NNFDRV_LUT};
  const size_t sizes[4] = {(size_t)in->prog_words * 32, (size_t)in->w_words * in->cols,
                           (size_t)in->p_words * in->cols * 16, 256};
  const size_t hashed[4] = {(size_t)(in->prog_words < 64 ? in->prog_words : 64) * 32,
                            (size_t)(in->w_words < 16384 ? in->w_words : 16384) * in->cols,
                            (size_t)(in->p_words < 64 ? in->p_words : 64) * in->cols * 16, sizes[3]};
  uint64_t h = 0xcbf29ce484222325ull;
  for (int r = 0; r < 4; r++) {
    uint8_t *buf = malloc(sizes[r]);
    CHECK(buf != NULL);
    CHECK(nnfdrv_read(drv, regions[r], 0, buf, sizes[r]) == NNFDRV_OK);
    h = fnv(h, buf, hashed[r]);
    size_t nonzero = 0;
    for (size_t i = hashed[r]; i < sizes[r]; i++) nonzero += buf[i] != 0;
    CHECK_EQ(nonzero, 0);
    free(buf);
  }
  return h;
}

static float *inputs(int B, int K, uint64_t seed) {
  float *x = malloc(sizeof(float) * (size_t)B * K);
  uint64_t r = seed;
  for (int i = 0; i < B * K; i++) x[i] = nnf_rng_uniform(&r);
  return x;
}

typedef struct {
  const char *name;
  uint64_t load, out, after;
} golden;

/* Recorded from the code of main at bd61646 (before the layer stack). */
static const golden expect[] = {
#include "test_device_program.golden"
};

static int nexpect = (int)(sizeof expect / sizeof *expect);

static void compare(const char *name, uint64_t load, uint64_t out, uint64_t after) {
  printf("  {\"%s\", 0x%016llxull, 0x%016llxull, 0x%016llxull},\n", name, (unsigned long long)load,
         (unsigned long long)out, (unsigned long long)after);
  for (int i = 0; i < nexpect; i++)
    if (!strcmp(expect[i].name, name)) {
      CHECK(expect[i].load == load);
      CHECK(expect[i].out == out);
      CHECK(expect[i].after == after);
      return;
    }
  CHECK(!"no recorded hashes for this case");
}

static uint64_t mlp_case(nnf_device *dev, const char *name, const int *sizes, int ns, nnf_act act, int max_batch) {
  const int B = 10;
  float *x = inputs(B, sizes[0], 5);
  nnf_net *n = nnf_mlp_create(sizes, ns, act, 3, err, sizeof err);
  CHECK(n != NULL);
  CHECK_OK(nnf_net_observe(n, x, B, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  CHECK_OK(nnf_device_load(dev, n, max_batch, err, sizeof err));
  uint64_t load = regions_hash(dev);
  CHECK_OK(nnf_device_forward(dev, n, x, B, err, sizeof err));
  uint64_t out = 0xcbf29ce484222325ull;
  for (int l = 1; l < ns; l++) out = fnv(out, nnf_mlp_output_q(n, l), (size_t)B * sizes[l]);
  compare(name, load, out, regions_hash(dev));
  nnf_net_free(n);
  free(x);
  return out;
}

static void snn_case(nnf_device *dev, const char *name, const int *sizes, int ns, int steps, nnf_encoding enc,
                     int reset_sub, int max_batch) {
  const int B = 10;
  float *x = inputs(B, sizes[0], 6);
  nnf_snn_config c = nnf_snn_defaults();
  c.steps = steps;
  c.encoding = enc;
  c.lif.reset_sub = reset_sub;
  nnf_net *n = nnf_snn_create(sizes, ns, &c, 4, err, sizeof err);
  CHECK(n != NULL);
  CHECK_OK(nnf_net_calibrate(n, x, B, err, sizeof err));
  CHECK_OK(nnf_device_load(dev, n, max_batch, err, sizeof err));
  uint64_t load = regions_hash(dev);
  CHECK_OK(nnf_device_forward(dev, n, x, B, err, sizeof err));
  uint64_t out = fnv(0xcbf29ce484222325ull, nnf_net_counts(n), sizeof(int32_t) * B * sizes[ns - 1]);
  compare(name, load, out, regions_hash(dev));
  nnf_net_free(n);
  free(x);
}

int main(void) {
  const int small[4] = {20, 16, 12, 5}, fashion[3] = {784, 128, 10}, two[2] = {33, 9};
  const struct {
    const char *name;
    const int *sizes;
    int ns;
    nnf_act act;
    int max_batch;
  } mlps[] = {{"mlp relu", small, 4, NNF_ACT_RELU, 7},      {"mlp relu6", small, 4, NNF_ACT_RELU6, 7},
              {"mlp sigmoid", small, 4, NNF_ACT_SIGMOID, 7}, {"mlp tanh", small, 4, NNF_ACT_TANH, 4},
              {"mlp none", small, 4, NNF_ACT_NONE, 10},      {"mlp 784-128-10", fashion, 3, NNF_ACT_RELU, 64},
              {"mlp one layer", two, 2, NNF_ACT_RELU, 3}};
  const int nmlp = (int)(sizeof mlps / sizeof *mlps);
  uint64_t out1[sizeof mlps / sizeof *mlps];
  nnf_device *dev = nnf_device_open("model", err, sizeof err);
  CHECK(dev != NULL);
  for (int i = 0; i < nmlp; i++) {
    char name[64];
    snprintf(name, sizeof name, "8 luts: %s", mlps[i].name);
    out1[i] = mlp_case(dev, name, mlps[i].sizes, mlps[i].ns, mlps[i].act, mlps[i].max_batch);
  }
  nnf_device_close(dev);
  dev = nnf_device_open("model:luts=1", err, sizeof err);
  CHECK(dev != NULL);
  for (int i = 0; i < nmlp; i++) {
    nnf_test_ctx("%s: the outputs with one LUT and with eight", mlps[i].name);
    CHECK(mlp_case(dev, mlps[i].name, mlps[i].sizes, mlps[i].ns, mlps[i].act, mlps[i].max_batch) == out1[i]);
  }
  const int s3[3] = {20, 16, 5}, s4[4] = {24, 17, 9, 4};
  snn_case(dev, "snn direct T5", s3, 3, 5, NNF_ENC_DIRECT, 1, 6);
  snn_case(dev, "snn direct T2 zero", s4, 4, 2, NNF_ENC_DIRECT, 0, 6);
  snn_case(dev, "snn direct T1", s3, 3, 1, NNF_ENC_DIRECT, 1, 10);
  snn_case(dev, "snn rate T3", s4, 4, 3, NNF_ENC_RATE, 1, 4);
  nnf_device_close(dev);
  return nnf_test_done("test_device_program");
}
