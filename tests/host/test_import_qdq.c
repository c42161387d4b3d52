/*
 * test_import_qdq.c - ONNX int8 models in `nnfpga import` (nnf_import.h,
 * docs/import.md "ONNX int8 (QDQ and QOperator)") on the files
 * scripts/gen_import_qdq.py wrote (tests/data/import_q*, written by ONNX
 * Runtime's quantize_static from models trained in PyTorch):
 *
 *   - QDQ (uint8 and int8 activations) and QOperator (QLinearConv,
 *     QLinearMatMul, QGemm) import as the layer stack with their
 *     quantization given, and a QDQ residual graph (a small ResNet: Add
 *     layers joining two boundaries); over the first 64 Fashion-MNIST test images the
 *     int8 outputs of the imported network (nnf_net_forward_int: the
 *     device's arithmetic) equal the script's integer reference of nnfpga's
 *     arithmetic exactly, and differ from ONNX Runtime's (which requantizes
 *     in float) in exactly the places the script counted, there and on the
 *     test images where the script found the two part;
 *   - the checkpoint keeps the given quantization: the same int8 outputs;
 *   - the refused models of tests/data/import_qbad/ fail with the message
 *     in its expected.json (asymmetric and uint8 weights with a zero point,
 *     a -128 weight, the wrong per-channel axis, a bias scale, a float
 *     output, a Sigmoid, a QLinearAdd, a grouped QLinearConv);
 *   - every prefix (a stride) and seeded byte flips of a QOperator model
 *     fail with a message or import.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_ckpt.h"
#include "nnf_data.h"
#include "nnf_import.h"
#include "nnf_layer.h"
#include "nnf_layer_ref.h"
#include "nnf_test.h"

#define NREF 64
#define CNN_ARCH                                                                                                   \
  "Conv2d(1,8,kernel_size=3,stride=1,padding=1),ReLU,MaxPool2d(kernel_size=2,stride=2,padding=0),"                 \
  "Conv2d(8,16,kernel_size=3,stride=1,padding=1),ReLU,MaxPool2d(kernel_size=2,stride=2,padding=0),Flatten,"        \
  "Linear(784,32),ReLU,Linear(32,10)"

/* ONNX Runtime's quantizer writes block 2's shortcut conv between its first
 * conv and that conv's QuantizeLinear: the QuantizeLinear is walked with its
 * conv, so the ReLU ONNX Runtime folded comes back right after the conv (and
 * fuses), the shortcut after it */
#define RESNET_ARCH                                                                                                \
  "Conv2d(1,8,kernel_size=3,stride=1,padding=1),ReLU,MaxPool2d(kernel_size=2,stride=2,padding=0),"                 \
  "Conv2d(8,8,kernel_size=3,stride=1,padding=1),ReLU,Conv2d(8,8,kernel_size=3,stride=1,padding=1),Add(2),ReLU,"    \
  "Conv2d(8,16,kernel_size=3,stride=2,padding=1),ReLU,Conv2d(8,16,kernel_size=1,stride=2,padding=0,from=7),"       \
  "Conv2d(16,16,kernel_size=3,stride=1,padding=1,from=9),Add(10),ReLU,Flatten,Linear(784,10)"

static const float *images; /* the 10,000 test images, pixels / 255 */

static void path_of(char *buf, size_t len, const char *file) { snprintf(buf, len, "%s/%s", NNF_TEST_DATA, file); }

/* Test image idx[i] (i < cnt) as int8 under boundary 0's quantization
 * (nnfpga's input quantizer); idx NULL: the first cnt. */
static void quantize_images(const nnf_net *n, const int *idx, int cnt, int8_t *xq) {
  for (int i = 0; i < cnt; i++)
    for (int k = 0; k < 784; k++)
      xq[i * 784 + k] = (int8_t)nnfm_quantize_real(images[(size_t)(idx ? idx[i] : i) * 784 + k], n->t[0].r.scale,
                                                   n->t[0].r.zp, -128, 127);
}

/* How many of the cnt x 10 int8 outputs differ from the reference rows. */
static int differ(const int8_t *got, const cJSON *rows, int cnt) {
  int d = 0, k = 0;
  const cJSON *row, *v;
  cJSON_ArrayForEach(row, rows) cJSON_ArrayForEach(v, row) d += k < cnt * 10 && got[k++] != (int8_t)v->valueint;
  CHECK_EQ(k, cnt * 10);
  return d;
}

/* The images the script found ONNX Runtime and nnfpga part on: nnfpga's
 * outputs its reference's, ONNX Runtime's differing where it counted. */
static void parted(nnf_net *n, const cJSON *p, const char *file) {
  int idx[16], cnt = 0;
  const cJSON *v;
  static int8_t xq[16 * 784], got[16 * 10];
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(p, "index")) if (cnt < 16) idx[cnt++] = v->valueint;
  if (!cnt) return;
  quantize_images(n, idx, cnt, xq);
  CHECK_OK(nnf_net_forward_int(n, xq, cnt, got));
  CHECK_EQ(differ(got, cJSON_GetObjectItemCaseSensitive(p, "nnfpga"), cnt), 0);
  int d = differ(got, cJSON_GetObjectItemCaseSensitive(p, "onnxruntime"), cnt);
  printf("%s: %d test images where the roundings part: %d int8 outputs differ from ONNX Runtime's\n", file, cnt, d);
  CHECK(d > 0);
  CHECK_EQ(d, cJSON_GetObjectItemCaseSensitive(p, "differ")->valueint);
}

static void int8_model(const cJSON *ref, const char *file, const char *arch, int operators) {
  char path[512], err[512], a[1024];
  nnf_import_info info;
  path_of(path, sizeof path, file);
  nnf_net *n = nnf_import_file(path, &info, err, sizeof err);
  nnf_test_ctx("import %s: %s", file, err);
  CHECK(n != NULL);
  nnf_net_describe(n, a, sizeof a);
  nnf_test_ctx("%s: %s", file, a);
  CHECK(!strcmp(a, arch));
  CHECK_EQ(info.format, NNF_IMPORT_ONNX);
  CHECK_EQ(info.quantized, 1);
  CHECK_EQ(info.operators, operators);
  CHECK(strstr(info.dropped, "DequantizeLinear") != NULL);
  CHECK_EQ(n->quantized, 1);
  /* every layer rounds once, an Add too (ONNX Runtime's float32 Add is
   * neither rounding exactly: docs/import.md) */
  for (int i = 0; i < n->nlayers; i++) CHECK_EQ(n->layer[i]->round, NNFM_ROUND_SINGLE);

  const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ref, "models"), file);
  CHECK(m != NULL);
  static int8_t xq[NREF * 784], got[NREF * 10], again[NREF * 10];
  quantize_images(n, NULL, NREF, xq);
  CHECK_OK(nnf_net_forward_int(n, xq, NREF, got));
  /* nnfpga's arithmetic: the script's integer reference, exactly */
  CHECK_EQ(differ(got, cJSON_GetObjectItemCaseSensitive(m, "nnfpga"), NREF), 0);
  /* ONNX Runtime's float requantization: only where the script found it differs */
  int d = differ(got, cJSON_GetObjectItemCaseSensitive(m, "onnxruntime"), NREF);
  printf("%s: %s; int8 outputs equal to nnfpga's reference, %d of %d differ from ONNX Runtime's\n", file, a, d,
         NREF * 10);
  CHECK_EQ(d, cJSON_GetObjectItemCaseSensitive(m, "differ")->valueint);
  parted(n, cJSON_GetObjectItemCaseSensitive(m, "parted"), file);

  /* the checkpoint keeps the given quantization */
  snprintf(path, sizeof path, "%s/%s.safetensors", NNF_TEST_TMP, file);
  CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
  nnf_net *back = nnf_ckpt_load(path, err, sizeof err);
  nnf_test_ctx("load %s: %s", path, err);
  CHECK(back != NULL);
  CHECK_OK(nnf_net_forward_int(back, xq, NREF, again));
  CHECK_MEM_EQ(got, again, sizeof got);
  nnf_net_free(back);
  nnf_net_free(n);
}

static void refusals(void) {
  cJSON *want = nnf_ref_load("import_qbad/expected.json");
  const cJSON *e;
  int files = 0;
  cJSON_ArrayForEach(e, want) {
    char file[128], path[512], msg[1024], err[512] = "";
    snprintf(file, sizeof file, "import_qbad/%s.onnx", e->string);
    path_of(path, sizeof path, file);
    CHECK(cJSON_IsString(e));
    snprintf(msg, sizeof msg, "%s: %s", path, e->valuestring);
    nnf_net *n = nnf_import_file(path, NULL, err, sizeof err);
    nnf_test_ctx("%s: want '%s', got '%s'", file, msg, err);
    CHECK(n == NULL);
    CHECK(!strcmp(err, msg));
    files++;
  }
  CHECK(files >= 9);
  cJSON_Delete(want);
}

/* Prefixes and seeded byte flips: no crash, and a failure always says why. */
static void damaged(const char *file) {
  char path[512], err[512];
  path_of(path, sizeof path, file);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  static uint8_t good[1 << 16], bad[1 << 16];
  size_t len = fread(good, 1, sizeof good, f);
  fclose(f);
  CHECK(len > 0 && len < sizeof good);
  nnf_rng r = nnf_rng_seed(20);
  for (int k = 0; k < 600; k++) {
    size_t cut = k < 200 ? len * (size_t)k / 200 : len;
    memcpy(bad, good, len);
    for (int j = 0; k >= 200 && j < 3; j++) bad[nnf_rng_range(&r, 0, (int64_t)len - 1)] ^= (uint8_t)nnf_rng_range(&r, 1, 255);
    err[0] = 0;
    nnf_net *n = nnf_import_mem(bad, cut, file, NULL, err, sizeof err);
    nnf_test_ctx("%s: case %d", file, k);
    CHECK(n != NULL || err[0]);
    nnf_net_free(n);
  }
}

int main(void) {
  cJSON *ref = nnf_ref_load("import_qdq_ref.json");
  CHECK_EQ(cJSON_GetObjectItemCaseSensitive(ref, "n")->valueint, NREF);
  nnf_dataset te;
  char err[256];
  nnf_test_ctx("%s: %s", NNF_FASHION_DIR, err);
  CHECK_OK(nnf_dataset_load_mnist_dir(NNF_FASHION_DIR, 0, &te, err, sizeof err));
  CHECK(te.count == 10000 && te.features == 784);
  images = te.x;
  int8_model(ref, "import_qdq_mlp.onnx", "Linear(784,64),ReLU,Linear(64,32),ReLU,Linear(32,10)", 17);
  int8_model(ref, "import_qdq_cnn.onnx", CNN_ARCH, 30);
  int8_model(ref, "import_qop_cnn.onnx", CNN_ARCH, 9);
  /* a residual graph: each Add of two dequantized tensors an Add layer, its
   * folded Relu back after it (fused into its clamp) */
  cJSON *res = nnf_ref_load("import_qdq_residual_ref.json");
  CHECK_EQ(cJSON_GetObjectItemCaseSensitive(res, "n")->valueint, NREF);
  int8_model(res, "import_qdq_residual.onnx", RESNET_ARCH, 49);
  cJSON_Delete(res);
  refusals();
  damaged("import_qop_cnn.onnx");
  nnf_dataset_free(&te);
  cJSON_Delete(ref);
  return nnf_test_done("test_import_qdq");
}
