/*
 * test_import.c - `nnfpga import`'s readers (nnf_import.h, docs/import.md)
 * on the models scripts/gen_import_models.py made (tests/data/import_*):
 *
 *   - ONNX float models: the imported network's float logits equal
 *     PyTorch's within 1e-5 + 1e-5 |v| (float32 sums in another order), a
 *     residual graph's (import_residual.onnx, a small ResNet) too;
 *   - TFLite int8 models: the int8 outputs of the imported network (the
 *     device's integer arithmetic, nnf_net_forward_int) equal the
 *     reference's under TFLite's roundings (two in a CONV_2D, one in a
 *     FULLY_CONNECTED: the importer's), exactly; set to nnfpga's single
 *     rounding throughout, they equal the script's single-rounding
 *     reference, and exactly the number of outputs the script counted
 *     differ between the two; the sigmoid and tanh tables
 *     are TFLite's; the checkpoint round trip keeps the rounding and every
 *     int8 output;
 *   - every refusal: unsupported operators, dtypes, shapes and attributes
 *     named with their index in the graph (exact messages; the TFLite ones
 *     of tests/data/import_bad/ with their expected.json), and truncated
 *     or damaged files (every prefix, seeded byte flips) fail cleanly.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_ckpt.h"
#include "nnf_import.h"
#include "nnf_layer.h"
#include "nnf_layer_ref.h"
#include "nnf_onnx.pb-c.h"
#include "nnf_test.h"

#define NREF 64

static cJSON *ref;

static uint8_t *read_bin(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", NNF_TEST_DATA, name);
  FILE *f = fopen(path, "rb");
  nnf_test_ctx("%s", path);
  CHECK(f != NULL);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n + 1);
  CHECK(b && fread(b, 1, (size_t)n, f) == (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* Every number under o (nested arrays, row-major) into out; the count. */
static int flat(const cJSON *o, double *out, int max) {
  if (cJSON_IsNumber(o)) {
    if (max > 0) out[0] = o->valuedouble;
    return 1;
  }
  int n = 0;
  const cJSON *v;
  cJSON_ArrayForEach(v, o) n += flat(v, out + n, max - n);
  return n;
}

static const cJSON *get(const cJSON *o, const char *a, const char *b) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
  nnf_test_ctx("reference %s.%s", a, b ? b : "");
  CHECK(x != NULL);
  return x;
}

/* Import a committed file: its format, whether it is quantized, its architecture. */
static nnf_net *import(const char *name, nnf_import_format fmt, int quantized, const char *arch) {
  char path[512], err[512], a[1024];
  nnf_import_info info;
  snprintf(path, sizeof path, "%s/%s", NNF_TEST_DATA, name);
  nnf_net *n = nnf_import_file(path, &info, err, sizeof err);
  nnf_test_ctx("import %s: %s", name, err);
  CHECK(n != NULL);
  nnf_net_describe(n, a, sizeof a);
  nnf_test_ctx("%s: %s", name, a);
  CHECK(!strcmp(a, arch));
  CHECK_EQ(info.format, fmt);
  CHECK_EQ(info.quantized, quantized);
  CHECK_EQ(n->quantized, quantized);
  return n;
}

/* The reference images: pixels / 255 (float) and pixels - 128 (int8). */
static float *images;
static int8_t *images_q;

static void load_images(void) {
  static double px[NREF * 784];
  CHECK_EQ(flat(get(ref, "pixels", NULL), px, NREF * 784), NREF * 784);
  images = malloc(sizeof(float) * NREF * 784);
  images_q = malloc(NREF * 784);
  for (int i = 0; i < NREF * 784; i++) {
    images[i] = (float)(px[i] / 255.0);
    images_q[i] = (int8_t)(px[i] - 128);
  }
}

/* An ONNX float model against PyTorch's logits: r[key].logits (key NULL:
 * r.logits). */
static void onnx_float(const char *file, const cJSON *r, const char *key, const char *arch) {
  nnf_net *n = import(file, NNF_IMPORT_ONNX, 0, arch);
  char err[256];
  static double want[NREF * 10];
  static float got[NREF * 10], wf[NREF * 10];
  const cJSON *logits = key ? get(r, key, "logits") : get(r, "logits", NULL);
  CHECK_EQ(flat(logits, want, NREF * 10), NREF * 10);
  CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, images, NREF, err, sizeof err));
  memcpy(got, n->logits, sizeof got);
  for (int i = 0; i < NREF * 10; i++) wf[i] = (float)want[i];
  double worst = nnf_ref_worst(got, wf, NREF * 10, 1e-5);
  printf("%s: float logits against PyTorch: worst %.3f of the tolerance 1e-5 + 1e-5 |v|\n", file, worst);
  CHECK(worst <= 1.0);
  nnf_net_free(n);
}

/* int8 logits of n for the reference images (rows of int8 pixels): the
 * network's outputs, or before a final Softmax (the file's SOFTMAX, kept)
 * the tensor it reads, which the reference holds. */
static void run_int(nnf_net *n, int8_t *out) {
  static int8_t all[NREF * 10];
  CHECK(nnf_net_outputs(n) <= 10);
  CHECK_OK(nnf_net_forward_int(n, images_q, NREF, all));
  int L = n->nlayers;
  if (!strcmp(n->layer[L - 1]->ops->kind, "Softmax")) L--;
  memcpy(out, n->t[L].q, (size_t)NREF * n->t[L].width);
}

static int count_diff(const int8_t *a, const double *b, int cnt) {
  int d = 0;
  for (int i = 0; i < cnt; i++) d += a[i] != (int8_t)b[i];
  return d;
}

static void tflite_int8(const char *file, const char *key, const char *arch, int lut_layer) {
  nnf_net *n = import(file, NNF_IMPORT_TFLITE, 1, arch);
  char err[512];
  static double single[NREF * 10], tfl[NREF * 10];
  static int8_t got[NREF * 10], again[NREF * 10];
  CHECK_EQ(flat(get(ref, key, "single"), single, NREF * 10), NREF * 10);
  CHECK_EQ(flat(get(ref, key, "tflite"), tfl, NREF * 10), NREF * 10);
  /* the import rounds as TFLite's kernels: its convolutions twice, its
   * fully connected layers once; TFLite's reference, exactly */
  for (int i = 0; i < n->nlayers; i++)
    CHECK_EQ(n->layer[i]->round, nnf_layer_conv(n->layer[i]) ? NNFM_ROUND_TFLITE : NNFM_ROUND_SINGLE);
  run_int(n, got);
  CHECK_EQ(count_diff(got, tfl, NREF * 10), 0);
  /* nnfpga's single rounding: the script's single-rounding reference,
   * exactly, and only the outputs the rounding changes differ */
  CHECK_OK(nnf_net_set_rounding(n, NNFM_ROUND_SINGLE));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  run_int(n, again);
  CHECK_EQ(count_diff(again, single, NREF * 10), 0);
  int differ = count_diff(again, tfl, NREF * 10);
  printf("%s: int8 outputs equal to TFLite's double rounding; %d of %d differ under single rounding\n", file,
         differ, NREF * 10);
  CHECK_EQ(differ, (int)get(ref, key, "differ")->valuedouble);
  for (int i = 0; i < n->nlayers; i++)
    CHECK_OK(nnf_layer_set_rounding(n->layer[i], nnf_layer_conv(n->layer[i]) ? NNFM_ROUND_TFLITE : NNFM_ROUND_SINGLE));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  if (lut_layer >= 0) { /* the sigmoid table: TFLite's LUTPopulate */
    static double lut[256];
    CHECK_EQ(flat(get(ref, key, "lut"), lut, 256), 256);
    const nnf_qlayer *Q = nnf_layer_qlayer(n->layer[lut_layer]);
    CHECK(Q && Q->lut);
    int bad = 0;
    for (int v = -128; v < 128; v++) bad += Q->table[(uint8_t)v] != (int8_t)lut[v + 128];
    CHECK_EQ(bad, 0);
  }
  /* the checkpoint keeps the given quantization: the same int8 outputs */
  char path[512];
  snprintf(path, sizeof path, "%s/import_%s.safetensors", NNF_TEST_TMP, key);
  CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
  nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
  nnf_test_ctx("load %s: %s", path, err);
  CHECK(m != NULL);
  for (int i = 0; i < n->nlayers; i++) CHECK_EQ(m->layer[i]->round, n->layer[i]->round);
  run_int(m, again);
  CHECK_MEM_EQ(got, again, sizeof got);
  nnf_net_free(m);
  nnf_net_free(n);
}

/* ---- refusals ----------------------------------------------------------------- */

static void expect_err(const uint8_t *buf, size_t len, const char *name, const char *want) {
  char err[512] = "";
  nnf_net *n = nnf_import_mem(buf, len, name, NULL, err, sizeof err);
  nnf_test_ctx("%s: want '%s', got '%s'", name, want, err);
  CHECK(n == NULL);
  CHECK(!strcmp(err, want));
}

static void expect_file_err(const char *file, const char *want_tail) {
  char path[512], want[1024], err[512] = "";
  snprintf(path, sizeof path, "%s/%s", NNF_TEST_DATA, file);
  snprintf(want, sizeof want, "%s: %s", path, want_tail);
  nnf_net *n = nnf_import_file(path, NULL, err, sizeof err);
  nnf_test_ctx("%s: want '%s', got '%s'", file, want, err);
  CHECK(n == NULL);
  CHECK(!strcmp(err, want));
}

/* A small ONNX graph built here: input x (FLOAT unless elem), nodes, initializers. */
typedef struct {
  NnfOnnx__ModelProto m;
  NnfOnnx__GraphProto g;
  NnfOnnx__ValueInfoProto in, out, *inp[1], *outp[1];
  NnfOnnx__TypeProto type;
  NnfOnnx__TypeProto__Tensor tt;
  NnfOnnx__TensorShapeProto shape;
  NnfOnnx__TensorShapeProto__Dimension dim[4], *dimp[4];
  NnfOnnx__NodeProto node[4], *nodep[4];
  NnfOnnx__AttributeProto attr[8], *attrp[4][4];
  NnfOnnx__TensorProto init[4], *initp[4];
  char *ins[4][3], *outs[4][1];
  float data[4][256];
  int64_t dims[4][4];
} graph;

static void g_init(graph *G, const int64_t *shape, int nd, int32_t elem) {
  memset(G, 0, sizeof *G);
  NnfOnnx__ModelProto m = NNF_ONNX__MODEL_PROTO__INIT;
  NnfOnnx__GraphProto g = NNF_ONNX__GRAPH_PROTO__INIT;
  NnfOnnx__ValueInfoProto v = NNF_ONNX__VALUE_INFO_PROTO__INIT;
  NnfOnnx__TypeProto t = NNF_ONNX__TYPE_PROTO__INIT;
  NnfOnnx__TypeProto__Tensor tt = NNF_ONNX__TYPE_PROTO__TENSOR__INIT;
  NnfOnnx__TensorShapeProto s = NNF_ONNX__TENSOR_SHAPE_PROTO__INIT;
  G->m = m, G->g = g, G->in = v, G->out = v, G->type = t, G->tt = tt, G->shape = s;
  for (int d = 0; d < nd; d++) {
    NnfOnnx__TensorShapeProto__Dimension dm = NNF_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    dm.value_case = NNF_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    dm.dim_value = shape[d];
    G->dim[d] = dm;
    G->dimp[d] = &G->dim[d];
  }
  G->shape.n_dim = (size_t)nd, G->shape.dim = G->dimp;
  G->tt.has_elem_type = 1, G->tt.elem_type = elem, G->tt.shape = &G->shape;
  G->type.value_case = NNF_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, G->type.tensor_type = &G->tt;
  G->in.name = "x", G->in.type = &G->type;
  G->inp[0] = &G->in, G->outp[0] = &G->out;
  G->g.n_input = 1, G->g.input = G->inp, G->g.n_output = 1, G->g.output = G->outp;
  G->g.node = G->nodep, G->g.initializer = G->initp;
  G->m.graph = &G->g;
}

/* Node k: op reading in0 (and in1, in2 if not NULL), writing out. */
static NnfOnnx__NodeProto *g_node(graph *G, const char *op, const char *name, const char *in0, const char *in1,
                                  const char *in2, const char *out) {
  int k = (int)G->g.n_node++;
  NnfOnnx__NodeProto nd = NNF_ONNX__NODE_PROTO__INIT;
  G->node[k] = nd;
  G->nodep[k] = &G->node[k];
  G->ins[k][0] = (char *)in0, G->ins[k][1] = (char *)in1, G->ins[k][2] = (char *)in2;
  G->node[k].n_input = in2 ? 3 : in1 ? 2 : 1;
  G->node[k].input = G->ins[k];
  G->outs[k][0] = (char *)out;
  G->node[k].n_output = 1, G->node[k].output = G->outs[k];
  G->node[k].op_type = (char *)op, G->node[k].name = (char *)name;
  G->out.name = (char *)out;
  return &G->node[k];
}

static void g_attr_int(graph *G, NnfOnnx__NodeProto *nd, int slot, const char *name, int64_t v) {
  NnfOnnx__AttributeProto a = NNF_ONNX__ATTRIBUTE_PROTO__INIT;
  G->attr[slot] = a;
  G->attr[slot].name = (char *)name, G->attr[slot].has_i = 1, G->attr[slot].i = v;
  int k = (int)(nd - G->node);
  G->attrp[k][nd->n_attribute++] = &G->attr[slot];
  nd->attribute = G->attrp[k];
}

static void g_attr_ints(graph *G, NnfOnnx__NodeProto *nd, int slot, const char *name, int64_t *v, size_t n) {
  g_attr_int(G, nd, slot, name, 0);
  G->attr[slot].has_i = 0, G->attr[slot].n_ints = n, G->attr[slot].ints = v;
}

/* Initializer k: name, dims, data type, values 0.01 * i. */
static void g_init_tensor(graph *G, const char *name, const int64_t *dims, int nd, int32_t dtype) {
  int k = (int)G->g.n_initializer++;
  NnfOnnx__TensorProto t = NNF_ONNX__TENSOR_PROTO__INIT;
  G->init[k] = t;
  G->initp[k] = &G->init[k];
  int64_t c = 1;
  for (int d = 0; d < nd; d++) G->dims[k][d] = dims[d], c *= dims[d];
  for (int i = 0; i < c && i < 256; i++) G->data[k][i] = 0.01f * (float)i;
  G->init[k].name = (char *)name, G->init[k].n_dims = (size_t)nd, G->init[k].dims = G->dims[k];
  G->init[k].has_data_type = 1, G->init[k].data_type = dtype;
  G->init[k].n_float_data = (size_t)c, G->init[k].float_data = G->data[k];
}

static void g_expect(graph *G, const char *want) {
  static uint8_t buf[65536];
  size_t len = nnf_onnx__model_proto__get_packed_size(&G->m);
  CHECK(len <= sizeof buf);
  nnf_onnx__model_proto__pack(&G->m, buf);
  expect_err(buf, len, "t.onnx", want);
}

static void onnx_refusals(void) {
  graph G;
  const int64_t flat4[2] = {1, 4}, map[4] = {1, 2, 5, 5}, w34[2] = {3, 4}, b3[1] = {3};
  const int32_t FLOAT = NNF_ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;

  g_init(&G, flat4, 2, FLOAT); /* a DOUBLE weight */
  g_node(&G, "Gemm", "fc", "x", "W", NULL, "y");
  g_attr_int(&G, &G.node[0], 0, "transB", 1);
  g_init_tensor(&G, "W", w34, 2, NNF_ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE);
  g_expect(&G, "t.onnx: node 0 'Gemm' (fc): weight 'W' is DOUBLE: only FLOAT (float32) weights import");

  g_init(&G, flat4, 2, NNF_ONNX__TENSOR_PROTO__DATA_TYPE__INT64); /* an integer input */
  g_node(&G, "Relu", "r", "x", NULL, NULL, "y");
  g_expect(&G, "t.onnx: graph input 'x': it is INT64, not FLOAT");

  g_init(&G, flat4, 2, FLOAT); /* an operator that does not import, second in the graph */
  g_node(&G, "Relu", "r", "x", NULL, NULL, "h");
  g_node(&G, "LeakyRelu", "lr", "h", NULL, NULL, "y");
  g_expect(&G, "t.onnx: node 1 'LeakyRelu' (lr): operator LeakyRelu is not supported (docs/import.md lists those "
               "that are)");

  g_init(&G, flat4, 2, FLOAT); /* a branch nothing reads: a second output */
  g_node(&G, "Gemm", "fc", "x", "W", "b", "h");
  g_attr_int(&G, &G.node[0], 0, "transB", 1);
  g_init_tensor(&G, "W", w34, 2, FLOAT);
  g_init_tensor(&G, "b", b3, 1, FLOAT);
  g_node(&G, "Relu", "r", "x", NULL, NULL, "y");
  g_expect(&G, "t.onnx: graph output: node 0 'Gemm' (fc) writes 'h', which no node reads (a graph imports with one "
               "output, its last layer's)");

  g_init(&G, flat4, 2, FLOAT); /* a tensor no node wrote */
  g_node(&G, "Relu", "r", "x", NULL, NULL, "h");
  g_node(&G, "Relu", "r2", "g", NULL, NULL, "y");
  g_expect(&G, "t.onnx: node 1 'Relu' (r2): it reads tensor 'g', which is neither the graph's input nor an earlier "
               "node's output");

  g_init(&G, map, 4, FLOAT); /* a residual Add of two shapes: the strided conv's 2 x 3 x 3 and its 2 x 5 x 5 input */
  {
    NnfOnnx__NodeProto *cv = g_node(&G, "Conv", "conv", "x", "W", NULL, "h");
    int64_t k11[2] = {1, 1}, s22[2] = {2, 2};
    const int64_t w2[4] = {2, 2, 1, 1};
    g_attr_ints(&G, cv, 0, "kernel_shape", k11, 2);
    g_attr_ints(&G, cv, 1, "strides", s22, 2);
    g_init_tensor(&G, "W", w2, 4, FLOAT);
    g_node(&G, "Add", "add", "x", "h", NULL, "y");
    g_expect(&G, "t.onnx: node 1 'Add' (add): it adds 'x' (2 x 5 x 5) and 'h' (2 x 3 x 3): only tensors of the same "
                 "shape add (no broadcasting)");
  }

  g_init(&G, flat4, 2, FLOAT); /* an Add of a constant not after a MatMul */
  g_node(&G, "Relu", "r", "x", NULL, NULL, "h");
  g_node(&G, "Add", "add", "h", "c", NULL, "y");
  const int64_t four[1] = {4};
  g_init_tensor(&G, "c", four, 1, FLOAT);
  g_expect(&G, "t.onnx: node 1 'Add' (add): Add of a constant imports only as the bias of the MatMul before it");

  g_init(&G, flat4, 2, FLOAT); /* Sum of three */
  g_node(&G, "Sum", "s", "x", "x", "x", "y");
  g_expect(&G, "t.onnx: node 0 'Sum' (s): Sum of 3 tensors: Sum imports with two");

  /* a residual join of flat rows, its second input the graph's input:
   * y = relu(x) + x, the Add reading the ReLU's output and the input */
  {
    g_init(&G, flat4, 2, FLOAT);
    g_node(&G, "Relu", "r", "x", NULL, NULL, "h");
    g_node(&G, "Add", "add", "h", "x", NULL, "y");
    static uint8_t buf[65536];
    size_t len = nnf_onnx__model_proto__get_packed_size(&G.m);
    CHECK(len <= sizeof buf);
    nnf_onnx__model_proto__pack(&G.m, buf);
    char err[512] = "", a[256];
    nnf_net *n = nnf_import_mem(buf, len, "t.onnx", NULL, err, sizeof err);
    nnf_test_ctx("relu + x: %s", err);
    CHECK(n != NULL);
    nnf_net_describe(n, a, sizeof a);
    nnf_test_ctx("relu + x: %s", a);
    CHECK(!strcmp(a, "ReLU,Add(-1)"));
    const float x[4] = {-1.5f, 0.25f, 2.0f, -0.125f}, want[4] = {-1.5f, 0.5f, 4.0f, -0.125f};
    CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, 1, err, sizeof err));
    CHECK_MEM_EQ(n->logits, want, sizeof want);
    nnf_net_free(n);
  }

  g_init(&G, flat4, 2, FLOAT); /* Clip(0, 3) */
  g_node(&G, "Clip", "c", "x", "lo", "hi", "y");
  const int64_t one[1] = {1};
  g_init_tensor(&G, "lo", one, 0, FLOAT);
  g_init_tensor(&G, "hi", one, 0, FLOAT);
  G.data[0][0] = 0.0f, G.data[1][0] = 3.0f;
  G.init[0].n_float_data = G.init[1].n_float_data = 1;
  g_expect(&G, "t.onnx: node 0 'Clip' (c): Clip(0, 3): only Clip(0, 6) (ReLU6) and Clip(0) (ReLU) import");

  g_init(&G, flat4, 2, FLOAT); /* weights of the wrong shape */
  g_node(&G, "Gemm", "fc", "x", "W", NULL, "y");
  g_init_tensor(&G, "W", w34, 2, FLOAT); /* [3, 4] without transB: 3 inputs */
  g_expect(&G, "t.onnx: node 0 'Gemm' (fc): its weights 'W' are not a 2-d matrix over the 4 inputs");

  /* a grouped conv with a rectangular kernel, strides per axis and uneven
   * pads: a ZeroPad2d of the extra row and column, then the Conv2d with
   * groups, its weights as the file's (out, in / group, kh, kw) */
  {
    g_init(&G, map, 4, FLOAT);
    NnfOnnx__NodeProto *g = g_node(&G, "Conv", "conv", "x", "W", NULL, "y");
    int64_t k32[2] = {3, 2}, s21[2] = {2, 1}, pads[4] = {1, 0, 2, 1}; /* top, left, bottom, right */
    const int64_t w4[4] = {4, 1, 3, 2};
    g_attr_ints(&G, g, 0, "kernel_shape", k32, 2);
    g_attr_ints(&G, g, 1, "strides", s21, 2);
    g_attr_ints(&G, g, 2, "pads", pads, 4);
    g_attr_int(&G, g, 3, "group", 2);
    g_init_tensor(&G, "W", w4, 4, FLOAT);
    static uint8_t buf[65536];
    size_t len = nnf_onnx__model_proto__get_packed_size(&G.m);
    CHECK(len <= sizeof buf);
    nnf_onnx__model_proto__pack(&G.m, buf);
    char err[512] = "", a[256];
    nnf_net *n = nnf_import_mem(buf, len, "t.onnx", NULL, err, sizeof err);
    nnf_test_ctx("grouped conv: %s", err);
    CHECK(n != NULL);
    nnf_net_describe(n, a, sizeof a);
    nnf_test_ctx("grouped conv: %s", a);
    CHECK(!strcmp(a, "ZeroPad2d((0,1,0,1)),Conv2d(2,4,kernel_size=(3,2),stride=(2,1),padding=(1,0),groups=2,bias=False)"));
    const nnf_dense *d = nnf_layer_conv(n->layer[1]);
    CHECK_EQ(d->in, 6);
    for (int i = 0; i < 24; i++) CHECK(d->w[i] == 0.01f * (float)i);
    CHECK_EQ(n->t[2].h, 3); /* (5 + 1 + 2 - 3) / 2 + 1 */
    CHECK_EQ(n->t[2].w, 5); /* 5 + 0 + 1 - 2 + 1 */
    nnf_net_free(n);
  }

  g_init(&G, map, 4, FLOAT); /* a group that does not divide the channels */
  NnfOnnx__NodeProto *c = g_node(&G, "Conv", "conv", "x", "W", NULL, "y");
  int64_t k3[2] = {3, 3};
  g_attr_ints(&G, c, 0, "kernel_shape", k3, 2);
  g_attr_int(&G, c, 1, "group", 3);
  const int64_t w3[4] = {3, 1, 3, 3};
  g_init_tensor(&G, "W", w3, 4, FLOAT);
  g_expect(&G, "t.onnx: node 0 'Conv' (conv): group 3 does not divide its 2 input channels");

  g_init(&G, map, 4, FLOAT); /* a kernel of three sizes */
  c = g_node(&G, "Conv", "conv", "x", "W", NULL, "y");
  int64_t k133[3] = {1, 3, 3};
  g_attr_ints(&G, c, 0, "kernel_shape", k133, 3);
  g_init_tensor(&G, "W", w3, 4, FLOAT);
  g_expect(&G, "t.onnx: node 0 'Conv' (conv): kernel_shape is not two sizes 1..64 (kh, kw)");

  const int64_t map40[4] = {1, 2, 40, 40}, w1[4] = {1, 2, 1, 1};
  g_init(&G, map40, 4, FLOAT); /* a stride larger than the layer stack takes */
  c = g_node(&G, "Conv", "conv", "x", "W", NULL, "y");
  int64_t k1[2] = {1, 1}, s17[2] = {17, 17};
  g_attr_ints(&G, c, 0, "kernel_shape", k1, 2);
  g_attr_ints(&G, c, 1, "strides", s17, 2);
  g_init_tensor(&G, "W", w1, 4, FLOAT);
  g_expect(&G, "t.onnx: node 0 'Conv' (conv): a Conv2d has 1..65535 output channels, kernel 1..32, stride 1..16, "
               "padding 0..32, groups 1..65535 (got 1, 1x1, 17x17, 0x0, 1)");

  g_init(&G, flat4, 2, FLOAT); /* Softmax in the middle */
  g_node(&G, "Softmax", "sm", "x", NULL, NULL, "h");
  g_node(&G, "Relu", "r", "h", NULL, NULL, "y");
  g_expect(&G, "t.onnx: node 0 'Softmax' (sm): Softmax imports only as the last node (it is dropped: the outputs are "
               "the logits)");

  /* the committed file made by PyTorch */
  expect_file_err("import_bad_op.onnx", "node 2 'LeakyRelu' (/2/LeakyRelu): operator LeakyRelu is not supported "
                                        "(docs/import.md lists those that are)");
  static const uint8_t empty[1];
  expect_err(empty, 0, "e.onnx", "e.onnx: model: it has no graph");
  static const uint8_t junk[4] = {0xff, 0xff, 0xff, 0xff};
  expect_err(junk, 4, "j.onnx", "j.onnx: not an ONNX model or a TFLite flatbuffer (the protobuf does not parse: "
                               "truncated or corrupt)");
}

static void tflite_refusals(void) {
  expect_file_err("import_bad_op.tflite", "operator 1 (MUL 'product'): operator MUL is not supported (docs/import.md lists "
                                          "those that are)");
  expect_file_err("import_bad_dtype.tflite", "operator 0 (FULLY_CONNECTED 'y'): its weights 'w' are FLOAT32, not INT8");
  expect_file_err("import_bad_shape.tflite", "operator 0 (CONV_2D 'y'): its weights 'w' are not [out, kh, kw, 1] "
                                             "(kernels 1..32)");
  /* tests/data/import_bad/: one defect each, the message in expected.json */
  cJSON *want = nnf_ref_load("import_bad/expected.json");
  const cJSON *e;
  int files = 0;
  cJSON_ArrayForEach(e, want) {
    char file[128];
    snprintf(file, sizeof file, "import_bad/%s.tflite", e->string);
    CHECK(cJSON_IsString(e));
    expect_file_err(file, e->valuestring);
    files++;
  }
  CHECK(files >= 15);
  cJSON_Delete(want);
  static const uint8_t hdr[8] = {0, 0, 0, 0, 'T', 'F', 'L', '3'};
  expect_err(hdr, 8, "h.tflite", "h.tflite: model: the root table points outside the file (truncated or corrupt "
                                 "flatbuffer)");
}

/* Every prefix and seeded byte flips of a committed file: no crash, and a
 * failure always says why. */
static void damaged(const char *file, int stride) {
  size_t len;
  uint8_t *b = read_bin(file, &len), *c = malloc(len);
  char err[512];
  int refused = 0;
  for (size_t n = 0; n < len; n += (size_t)stride + (n < 256 ? 0 : (size_t)stride * 7)) {
    memcpy(c, b, n);
    err[0] = 0;
    nnf_net *net = nnf_import_mem(c, n, file, NULL, err, sizeof err);
    nnf_test_ctx("%s cut at %zu", file, n);
    CHECK(net != NULL || strlen(err) > 0);
    refused += net == NULL;
    nnf_net_free(net);
  }
  uint64_t s = 12345;
  for (int k = 0; k < 400; k++) {
    memcpy(c, b, len);
    for (int j = 0; j < 4; j++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      c[(s >> 33) % len] ^= (uint8_t)(1u << ((s >> 20) & 7));
    }
    err[0] = 0;
    nnf_net *net = nnf_import_mem(c, len, file, NULL, err, sizeof err);
    nnf_test_ctx("%s flip %d", file, k);
    CHECK(net != NULL || strlen(err) > 0);
    nnf_net_free(net);
  }
  printf("%s: %d prefixes refused, 400 damaged copies handled\n", file, refused);
  free(b), free(c);
}

/* Given int32 biases (nnf_layer_give_biases): the VWW look-alike's dead
 * channels have biases of 2^30, past what a float32 holds. Its int8 form
 * takes them as given; a channel whose float bias then moves (a fine-tune)
 * takes the float's, the others keep theirs; a checkpoint keeps both, so
 * the loaded network's int8 biases are the same. */
static void given_biases(void) {
  char path[512], err[512];
  nnf_import_info info;
  snprintf(path, sizeof path, "%s/tiny/vww.tflite", NNF_TEST_DATA);
  nnf_net *n = nnf_import_file(path, &info, err, sizeof err);
  nnf_test_ctx("import %s: %s", path, err);
  CHECK(n != NULL);
  int li = -1, big = -1, other = -1;
  for (int i = 0; i < n->nlayers && li < 0; i++) {
    const float *at;
    const int32_t *gb = nnf_layer_given_biases(n->layer[i], &at);
    const nnf_dense *d = nnf_layer_conv(n->layer[i]);
    for (int o = 0; gb && d && o < d->out && big < 0; o++)
      if (gb[o] > (1 << 24) || gb[o] < -(1 << 24)) li = i, big = o;
    for (int o = 0; li >= 0 && o < d->out && other < 0; o++)
      if (o != big && gb[o] > -(1 << 20) && gb[o] < (1 << 20)) other = o;
  }
  nnf_test_ctx("a layer with a given bias over 2^24 and one under 2^20: layer %d, channels %d, %d", li, big, other);
  CHECK(li >= 0 && other >= 0);
  nnf_layer *l = n->layer[li];
  const nnf_qlayer *Q = nnf_layer_conv_qlayer(l);
  nnf_dense *d = nnf_layer_conv(l);
  const float *at;
  const int32_t *gb = nnf_layer_given_biases(l, &at);
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  CHECK_EQ(Q->bias[big], gb[big]); /* as given, though the float cannot hold it */
  CHECK(nnfm_quantize_real(d->b[big], (double)n->t[li].r.scale * Q->s_w[big], 0, INT32_MIN, INT32_MAX) != gb[big]);
  /* a fine-tune moves one channel's float bias: that channel takes the float's */
  const int32_t want_other = gb[other] + 1000;
  d->b[other] = (float)((double)want_other * (double)n->t[li].r.scale * Q->s_w[other]);
  n->quantized = 0;
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  CHECK_EQ(Q->bias[other], want_other);
  CHECK_EQ(Q->bias[big], gb[big]);
  /* the checkpoint keeps the given biases and the floats they go with */
  snprintf(path, sizeof path, "%s/import_given_biases.safetensors", NNF_TEST_TMP);
  CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
  nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
  nnf_test_ctx("load %s: %s", path, err);
  CHECK(m != NULL);
  CHECK_OK(nnf_net_quantize(m, err, sizeof err));
  for (int i = 0; i < n->nlayers; i++) {
    const nnf_dense *dn = nnf_layer_conv(n->layer[i]);
    if (!dn) continue;
    nnf_test_ctx("layer %d's int8 biases after the checkpoint", i);
    CHECK_MEM_EQ(nnf_layer_conv_qlayer(m->layer[i])->bias, nnf_layer_conv_qlayer(n->layer[i])->bias,
                 (size_t)dn->out * 4);
  }
  nnf_net_free(m);
  nnf_net_free(n);
}

int main(void) {
  ref = nnf_ref_load("import_ref.json");
  given_biases();
  CHECK_EQ((int)get(ref, "n", NULL)->valuedouble, NREF);
  load_images();
  onnx_float("import_mlp.onnx", ref, "mlp_onnx", "Flatten,Linear(784,64),ReLU,Linear(64,32),Tanh,Linear(32,10)");
  onnx_float("import_cnn.onnx", ref, "cnn_onnx",
             "Conv2d(1,4,kernel_size=3,stride=1,padding=1),ReLU,MaxPool2d(kernel_size=2,stride=2,padding=0),"
             "Conv2d(4,8,kernel_size=3,stride=2,padding=1),ReLU6,AvgPool2d(kernel_size=2,stride=2,padding=0,count_include_pad=False),"
             "Conv2d(8,8,kernel_size=3,stride=1,padding=1),Sigmoid,AdaptiveAvgPool2d(1),Flatten,Linear(8,10)");
  /* a ResNet: an identity block, a strided block whose 1x1 shortcut (written
   * after its branch) reads the block's input */
  cJSON *res = nnf_ref_load("import_residual_ref.json");
  CHECK_EQ((int)get(res, "n", NULL)->valuedouble, NREF);
  onnx_float("import_residual.onnx", res, NULL,
             "Conv2d(1,8,kernel_size=3,stride=1,padding=1),ReLU,MaxPool2d(kernel_size=2,stride=2,padding=0),"
             "Conv2d(8,8,kernel_size=3,stride=1,padding=1),ReLU,Conv2d(8,8,kernel_size=3,stride=1,padding=1),Add(2),"
             "ReLU,Conv2d(8,16,kernel_size=3,stride=2,padding=1),ReLU,Conv2d(16,16,kernel_size=3,stride=1,padding=1),"
             "Conv2d(8,16,kernel_size=1,stride=2,padding=0,from=7),Add(10),ReLU,AdaptiveAvgPool2d(1),Flatten,"
             "Linear(16,10)");
  cJSON_Delete(res);
  tflite_int8("import_mlp.tflite", "mlp_tflite",
              "Flatten,Linear(784,64),ReLU,Linear(64,32),Sigmoid,Linear(32,10),Softmax(dim=1)", 3);
  tflite_int8("import_cnn.tflite", "cnn_tflite",
              "Conv2d(1,4,kernel_size=3,stride=1,padding=1),ReLU,MaxPool2d(kernel_size=2,stride=2,padding=0),"
              "Conv2d(4,8,kernel_size=3,stride=1,padding=0),AvgPool2d(kernel_size=2,stride=2,padding=0,count_include_pad=False),Flatten,"
              "Linear(288,10)", -1);
  tflite_int8("import_tanh.tflite", "tanh_tflite", "Linear(784,16),Tanh,Linear(16,10)", 0);
  onnx_refusals();
  tflite_refusals();
  damaged("import_mlp.tflite", 97);
  damaged("import_cnn.onnx", 13);
  damaged("import_residual.onnx", 31);
  damaged("import_cnn.tflite", 29);
  cJSON_Delete(ref);
  free(images), free(images_q);
  return nnf_test_done("test_import");
}
