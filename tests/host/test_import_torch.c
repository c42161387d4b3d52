/*
 * test_import_torch.c - PyTorch nn.Sequential state_dicts in safetensors
 * (nnf_import_torch, docs/import.md "PyTorch nn.Sequential") on the file
 * scripts/gen_torch_seq.py wrote (tests/data/torch_seq/):
 *
 *   - detection by content (safetensors, ONNX, TFLite);
 *   - the imported network's float logits of the first 32 Fashion-MNIST
 *     test images against PyTorch's, within a bound derived from float32
 *     rounding (float_bound below: rigorous, computed per logit);
 *   - every refusal with its exact message: a missing tensor, an extra one,
 *     a wrong shape, F64, F16 (the reader's, by name), BatchNorm's buffers,
 *     an nnfpga checkpoint, a non-safetensors file, a state_dict without
 *     architecture; truncated copies fail cleanly at every length (a stride).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_ckpt.h"
#include "nnf_data.h"
#include "nnf_import.h"
#include "nnf_layer.h"
#include "nnf_layer_ref.h"
#include "nnf_safetensors.h"
#include "nnf_test.h"

#define NREF 32
#define ARCH "flatten,dense(64),relu,dropout(0.1),dense(32),tanh,dense(10)"
#define MLP NNF_TEST_DATA "/torch_seq/mlp.safetensors"

static const int shape28[3] = {1, 28, 28};

static nnf_net *arch_net(const char *arch) {
  char err[512];
  nnf_net *n = nnf_arch_build(arch, shape28, err, sizeof err);
  nnf_test_ctx("%s: %s", arch, err);
  CHECK(n != NULL);
  return n;
}

static uint8_t *read_bin(const char *path, size_t *len) {
  char err[512];
  uint8_t *b = nnf_import_read(path, len, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(b != NULL);
  return b;
}

static void detection(void) {
  const char *files[3] = {MLP, NNF_TEST_DATA "/import_mlp.onnx", NNF_TEST_DATA "/import_mlp.tflite"};
  const nnf_import_format want[3] = {NNF_IMPORT_SAFETENSORS, NNF_IMPORT_ONNX, NNF_IMPORT_TFLITE};
  for (int i = 0; i < 3; i++) {
    size_t len;
    uint8_t *b = read_bin(files[i], &len);
    CHECK_EQ(nnf_import_detect(b, len), want[i]);
    CHECK_EQ(nnf_import_detect(b, 9), i == 2 ? NNF_IMPORT_TFLITE : NNF_IMPORT_ONNX); /* the header cut */
    free(b);
  }
  CHECK(!strcmp(nnf_import_format_name(NNF_IMPORT_SAFETENSORS), "safetensors"));
}

/* ---- the float forward against PyTorch ------------------------------------------- */

/* The worst |ours - torch| may be. Each implementation computes a Linear
 * output y = b + sum_i w_i x_i (n terms) in float32 in some order; for any
 * order (and with or without FMA) |fl(y) - y| <= gamma_{n+1} (sum |w_i x_i|
 * + |b|), gamma_k = k u / (1 - k u), u = 2^-24 (Higham, Accuracy and
 * Stability, 3.1). If each implementation's inputs are within e_i of the
 * exact ones, each output is within
 *     E = sum |w_i| e_i + gamma_{n+1} (sum |w_i| (|x_i| + 2 e_i) + |b|)
 * of the exact one (x: our inputs, |torch's| <= |x| + 2 e). ReLU is exact
 * and 1-Lipschitz, Dropout the identity: E passes on. tanh is 1-Lipschitz
 * and each library's tanhf is within 4 ulp of tanh (glibc documents 2,
 * Sleef's u10 1): E + 4 u. Both outputs lie within E of the exact logit,
 * so |ours - torch| <= 2 E. The inputs are exact in both (pixel / 255 in
 * float32, correctly rounded), e = 0 at the start. */
static void float_bound(nnf_net *n, int B, double *bound) {
  const double u = ldexp(1.0, -24);
  int C = nnf_net_outputs(n);
  double *e = calloc((size_t)B * 784, sizeof *e), *next = NULL;
  for (int l = 0; l < n->nlayers; l++) {
    nnf_layer *L = n->layer[l];
    const char *kind = L->ops->kind;
    const float *x = n->t[l].f;
    nnf_dense *d = nnf_layer_dense(L);
    if (d) {
      int K = L->in, N = L->out;
      double g = (K + 1) * u / (1 - (K + 1) * u);
      next = calloc((size_t)B * N, sizeof *next);
      for (int b = 0; b < B; b++)
        for (int j = 0; j < N; j++) {
          double prop = 0, mag = fabs(d->b[j]);
          for (int i = 0; i < K; i++) {
            double w = fabs(d->w[(size_t)j * K + i]), ei = e[(size_t)b * K + i];
            prop += w * ei;
            mag += w * (fabs(x[(size_t)b * K + i]) + 2 * ei);
          }
          next[(size_t)b * N + j] = prop + g * mag;
        }
      free(e);
      e = next;
    } else if (nnf_layer_act(L) == NNF_ACT_TANH) {
      for (size_t i = 0; i < (size_t)B * L->out; i++) e[i] += 4 * u;
    } else {
      nnf_test_ctx("float_bound: layer %d is %s", l, kind);
      CHECK(!strcmp(kind, "Flatten") || !strcmp(kind, "Dropout") || nnf_layer_act(L) == NNF_ACT_RELU);
    }
  }
  for (int i = 0; i < B * C; i++) bound[i] = 2 * e[i];
  free(e);
}

static void float_logits(void) {
  cJSON *ref = nnf_ref_load("torch_seq/mlp.json");
  const cJSON *arch = cJSON_GetObjectItemCaseSensitive(ref, "arch");
  CHECK(cJSON_IsString(arch) && !strcmp(arch->valuestring, ARCH));
  static float want[NREF * 10];
  static double bound[NREF * 10];
  CHECK_EQ(nnf_ref_floats(ref, "logits", want, NREF * 10), NREF * 10);
  nnf_dataset d;
  char err[512];
  nnf_test_ctx("%s: %s", NNF_FASHION_DIR, err);
  CHECK_OK(nnf_dataset_load_mnist_dir(NNF_FASHION_DIR, 0, &d, err, sizeof err));
  nnf_net *n = arch_net(ARCH);
  nnf_import_info info;
  nnf_test_ctx("import: %s", err);
  CHECK_OK(nnf_import_torch_file(n, MLP, &info, err, sizeof err));
  CHECK_EQ(info.format, NNF_IMPORT_SAFETENSORS);
  CHECK_EQ(info.operators, 7);
  CHECK_EQ(info.quantized, 0);
  CHECK_EQ(n->quantized, 0);
  CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, d.x, NREF, err, sizeof err));
  float_bound(n, NREF, bound);
  double worst = 0, worst_abs = 0;
  for (int i = 0; i < NREF * 10; i++) {
    double diff = fabs((double)n->logits[i] - want[i]);
    nnf_test_ctx("logit %d: ours %.9g, PyTorch %.9g, bound %.3g", i, n->logits[i], want[i], bound[i]);
    CHECK(diff <= bound[i]);
    worst = fmax(worst, diff / bound[i]);
    worst_abs = fmax(worst_abs, diff);
  }
  printf("torch_seq/mlp: float logits against PyTorch: worst |difference| %.3g, %.2g of its float32 bound\n",
         worst_abs, worst);
  nnf_net_free(n);
  nnf_dataset_free(&d);
  cJSON_Delete(ref);
}

/* ---- refusals ---------------------------------------------------------------- */

/* The committed file's tensors, editable: names and data copied. */
typedef struct {
  int n;
  nnf_st_tensor t[16];
  char names[16][32];
} tensors;

static void load_tensors(tensors *ts) {
  char err[512];
  nnf_st_file *f = nnf_st_read(MLP, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(f != NULL);
  ts->n = nnf_st_count(f);
  CHECK(ts->n <= 16);
  for (int i = 0; i < ts->n; i++) {
    const nnf_st_tensor *t = nnf_st_get(f, i);
    ts->t[i] = *t;
    snprintf(ts->names[i], sizeof ts->names[i], "%s", t->name);
    ts->t[i].name = ts->names[i];
    size_t bytes = nnf_st_dtype_size(t->dtype);
    for (int k = 0; k < t->ndim; k++) bytes *= (size_t)t->shape[k];
    void *copy = malloc(bytes ? bytes : 1);
    memcpy(copy, t->data, bytes);
    ts->t[i].data = copy;
  }
  nnf_st_free(f);
}

static void free_tensors(tensors *ts) {
  for (int i = 0; i < ts->n; i++) free((void *)ts->t[i].data);
}

static int find(const tensors *ts, const char *name) {
  for (int i = 0; i < ts->n; i++)
    if (!strcmp(ts->names[i], name)) return i;
  CHECK(0);
  return -1;
}

/* Import path with ARCH: the message (NULL: must succeed). */
static void expect(const char *path, const char *arch, const char *msg) {
  char err[512] = "";
  nnf_net *n = arch_net(arch);
  int rc = nnf_import_torch_file(n, path, NULL, err, sizeof err);
  nnf_test_ctx("%s: got '%s', want '%s'", path, err, msg ? msg : "(success)");
  if (!msg) CHECK_OK(rc);
  else CHECK(rc == -1 && strstr(err, msg) != NULL);
  nnf_net_free(n);
}

/* Write ts to NNF_TEST_TMP/name and expect msg. */
static void expect_written(const tensors *ts, const char *name, const char *const *mk, const char *const *mv, int nm,
                           const char *msg) {
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/%s", NNF_TEST_TMP, name);
  nnf_test_ctx("write %s: %s", path, err);
  CHECK_OK(nnf_st_write(path, ts->t, ts->n, mk, mv, nm, err, sizeof err));
  expect(path, ARCH, msg);
}

static void refusals(void) {
  tensors ts;
  char msg[512];
  /* wrong architecture: one more layer, one fewer, another width */
  expect(MLP, ARCH, NULL);
  expect(MLP, ARCH ",relu,dense(5)",
         "mlp.safetensors: no tensor '8.weight' (layer 8 of --arch, Linear(10,5), has a weight)");
  expect(MLP, "flatten,dense(64),relu,dropout(0.1),dense(32)",
         "mlp.safetensors: tensor '6.bias' is no parameter of --arch (5 layers; the file has 6 tensors, the "
         "architecture 4)");
  expect(MLP, "flatten,dense(64),relu,dense(32),tanh,dense(10)",
         "mlp.safetensors: no tensor '3.weight' (layer 3 of --arch, Linear(64,32), has a weight)");
  expect(MLP, "flatten,dense(60),relu,dropout(0.1),dense(32),tanh,dense(10)",
         "mlp.safetensors: tensor '1.weight' is [64, 784], but layer 1 (Linear(784,60)) has weight [60, 784]");
  /* a missing tensor: 4.bias renamed away (also an extra one, found after) */
  load_tensors(&ts);
  snprintf(ts.names[find(&ts, "4.bias")], 32, "4.bias_renamed");
  expect_written(&ts, "missing.safetensors", NULL, NULL, 0,
                 "missing.safetensors: no tensor '4.bias' (layer 4 of --arch, Linear(64,32), has a bias)");
  free_tensors(&ts);
  /* an extra tensor: a 'scale' beside layer 6's parameters */
  load_tensors(&ts);
  ts.t[ts.n] = ts.t[find(&ts, "6.bias")];
  snprintf(ts.names[ts.n], 32, "6.scale");
  ts.t[ts.n].name = ts.names[ts.n];
  ts.t[ts.n].data = malloc(40);
  memcpy((void *)ts.t[ts.n].data, ts.t[find(&ts, "6.bias")].data, 40);
  ts.n++;
  expect_written(&ts, "extra.safetensors", NULL, NULL, 0,
                 "extra.safetensors: tensor '6.scale' is no parameter of --arch (7 layers; the file has 7 tensors, "
                 "the architecture 6)");
  free_tensors(&ts);
  /* a wrong shape: 6.weight as [32, 10] */
  load_tensors(&ts);
  int w = find(&ts, "6.weight");
  ts.t[w].shape[0] = 32, ts.t[w].shape[1] = 10;
  expect_written(&ts, "shape.safetensors", NULL, NULL, 0,
                 "shape.safetensors: tensor '6.weight' is [32, 10], but layer 6 (Linear(32,10)) has weight [10, 32]");
  free_tensors(&ts);
  /* F64: 4.bias in double */
  load_tensors(&ts);
  int b = find(&ts, "4.bias");
  double *d64 = malloc(32 * sizeof *d64);
  for (int i = 0; i < 32; i++) d64[i] = ((const float *)ts.t[b].data)[i];
  free((void *)ts.t[b].data);
  ts.t[b].data = d64;
  ts.t[b].dtype = NNF_ST_F64;
  expect_written(&ts, "f64.safetensors", NULL, NULL, 0,
                 "f64.safetensors: tensor '4.bias' is F64: only F32 (float32) tensors import (save "
                 "model.float().state_dict())");
  free_tensors(&ts);
  /* BatchNorm's buffers (a Sequential with BatchNorm1d after layer 1) */
  load_tensors(&ts);
  snprintf(ts.names[find(&ts, "4.bias")], 32, "2.running_mean");
  expect_written(&ts, "bn.safetensors", NULL, NULL, 0,
                 "bn.safetensors: tensor '2.running_mean' is a BatchNorm buffer: the layer stack has no BatchNorm "
                 "(fold it into the Linear / Conv2d before it, torch.nn.utils.fusion, and save that)");
  /* an nnfpga checkpoint */
  const char *mk[1] = {"format"}, *mv[1] = {"nnfpga"};
  snprintf(ts.names[find(&ts, "2.running_mean")], 32, "4.bias");
  expect_written(&ts, "ckpt.safetensors", mk, mv, 1,
                 "ckpt.safetensors: an nnfpga checkpoint already (eval, infer and quantize take it as it is)");
  /* torch's own metadata is fine */
  mv[0] = "pt";
  expect_written(&ts, "pt.safetensors", mk, mv, 1, NULL);
  free_tensors(&ts);
  /* F16: the reader refuses the dtype, naming the tensor */
  char path[512];
  snprintf(path, sizeof path, "%s/f16.safetensors", NNF_TEST_TMP);
  const char hdr[] = "{\"1.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}";
  uint8_t len8[8] = {(uint8_t)(sizeof hdr - 1)};
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, sizeof hdr - 1, f) == sizeof hdr - 1 &&
        fwrite("\0\0\0\0", 1, 4, f) == 4);
  fclose(f);
  expect(path, ARCH, "f16.safetensors: tensor '1.bias': unsupported dtype F16");
  /* not safetensors; a state_dict without its architecture */
  expect(NNF_TEST_DATA "/import_mlp.onnx", ARCH,
         "import_mlp.onnx: not a safetensors file (--arch is for a PyTorch nn.Sequential state_dict in safetensors; "
         "an ONNX or TFLite model carries its own architecture)");
  nnf_import_info info;
  char err[512];
  CHECK(nnf_import_file(MLP, &info, err, sizeof err) == NULL);
  CHECK_EQ(info.format, NNF_IMPORT_SAFETENSORS);
  snprintf(msg, sizeof msg, "%s: a PyTorch state_dict (safetensors) holds no architecture: give it with --arch", MLP);
  nnf_test_ctx("%s", err);
  CHECK(strstr(err, msg) == err);
}

/* Every prefix (a stride) and byte flips of the header: an error or a
 * network, never a crash (ASan / the fuzzer see the rest). */
static void damaged(void) {
  size_t len;
  uint8_t *b = read_bin(MLP, &len);
  char err[512];
  for (size_t cut = 0; cut < len; cut += cut < 600 ? 1 : 997) {
    nnf_net *n = arch_net(ARCH);
    nnf_test_ctx("cut at %zu", cut);
    CHECK_EQ(nnf_import_torch(n, b, cut, "cut", NULL, err, sizeof err), -1);
    nnf_net_free(n);
  }
  nnf_rng r = nnf_rng_seed(20);
  for (int k = 0; k < 400; k++) {
    size_t at = (size_t)nnf_rng_range(&r, 0, 599);
    uint8_t old = b[at];
    b[at] ^= (uint8_t)(1u << nnf_rng_range(&r, 0, 7));
    nnf_net *n = arch_net(ARCH);
    int rc = nnf_import_torch(n, b, len, "flipped", NULL, err, sizeof err);
    CHECK(rc == 0 || rc == -1);
    nnf_net_free(n);
    b[at] = old;
  }
  free(b);
}

int main(void) {
  detection();
  float_logits();
  refusals();
  damaged();
  return nnf_test_done("test_import_torch");
}
