/*
 * test_conv_layers.c - the map layers (Conv2d, MaxPool2d, AvgPool2d,
 * AdaptiveAvgPool2d(1), Flatten) on the layer stack:
 *   - float forward and backward against PyTorch (tests/data/conv_layer_ref.json,
 *     scripts/gen_conv_layer_ref.py with Debian's torch 1.13): outputs, input
 *     gradients and every parameter's gradient of four stacks (stride 2,
 *     padding, a 1x1 kernel, a conv without bias, pools with padding, global
 *     pooling, channel counts not multiples of 8, depthwise and grouped) and
 *     a residual graph (two ResNet-8 blocks: Add, from=), the network built
 *     from the architecture string the layers describe themselves as;
 *   - central finite differences of the same stacks (a loss y . g);
 *   - QAT: the integer forward (the model's nnfm_conv2d_ref / pools) against
 *     a direct evaluation of the TFLite rules here, the fake-quant forward
 *     within one step of it, pools keeping their input's quantization, the
 *     requantization clamp of a fused ReLU;
 *   - the architecture grammar: the layers it builds, and its refusals with
 *     the item's index and text.
 *
 * Tolerances against PyTorch. Both sum float32 products in a different order
 * (im2col + OpenBLAS here, mkldnn / its own kernels there); each value is a
 * sum of at most 144 products of terms below 4 in magnitude, through at most
 * four such layers: 2e-5 absolute plus 2e-5 relative (about 100 float32
 * ulps of a unit value) holds with margin (measured: printed); a wrong
 * padding, stride, pooling rule or layout misses by 1e-2 and more.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "nnf_ckpt.h"
#include "nnf_layer.h"
#include "nnf_layer_ref.h"
#include "nnf_test.h"
#include "nnfm.h"

#define MAXV 4096

/* the shared reader and comparison (tests/common/nnf_layer_ref.h) at this file's sizes and tolerance */
static int floats(const cJSON *o, const char *key, float *out) { return nnf_ref_floats(o, key, out, MAXV); }
static double worst(const float *a, const float *b, int n) { return nnf_ref_worst(a, b, n, 2e-5); }

/* Central differences of (y . g) at a few coordinates of v (n values) against
 * the analytic gradient d: relative to the largest |d|, 2e-2 (float32
 * forwards with a step of 1e-3: rounding ~1e-4, curvature ~1e-6; a kink of
 * ReLU or a max crossed by the step shows as at most a few such points, so
 * the test allows 1 of the probed 12 to miss). */
static void fd_check(nnf_net *n, const float *x, const float *g, int B, float *v, const float *d, int cnt,
                     const char *what) {
  nnf_ref_fd_probe(n, x, g, B, v, d, cnt, what, 1e-3f, 12, 7, 2e-2, 1);
}

static void torch_cases(void) {
  char err[512];
  cJSON *root = nnf_ref_load("conv_layer_ref.json");
  const cJSON *c;
  static float x[MAXV], y[MAXV], g[MAXV], dx[MAXV], ref[MAXV], mine[MAXV];
  int ncases = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
    const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
    const char *arch = cJSON_GetObjectItemCaseSensitive(c, "architecture")->valuestring;
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(c, "input_shape");
    int B = cJSON_GetArrayItem(sh, 0)->valueint;
    int shape[3] = {cJSON_GetArrayItem(sh, 1)->valueint, cJSON_GetArrayItem(sh, 2)->valueint,
                    cJSON_GetArrayItem(sh, 3)->valueint};
    nnf_net *n = nnf_arch_parse_map(arch, shape, 1, NNF_INPUT_OBSERVED, err, sizeof err);
    nnf_test_ctx("case %s: %s", name, err);
    CHECK(n != NULL);
    /* the layers describe themselves as the generator wrote them */
    char desc[1024];
    nnf_net_describe(n, desc, sizeof desc);
    nnf_test_ctx("case %s: describe %s", name, desc);
    CHECK(!strcmp(desc, arch));
    int nx = floats(c, "x", x), ny = floats(c, "y", y);
    CHECK_EQ(floats(c, "g", g), ny);
    CHECK_EQ(nx, B * nnf_net_inputs(n));
    CHECK_EQ(ny, B * nnf_net_outputs(n));
    nnf_param p[16];
    int owner[16], np = nnf_net_params(n, p, 16, owner);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "params");
    CHECK_EQ(np, cJSON_GetArraySize(params));
    for (int j = 0; j < np; j++) {
      char key[48];
      snprintf(key, sizeof key, "%d.%s", owner[j], p[j].name);
      CHECK_EQ(floats(params, key, p[j].data), (long long)nnf_param_size(&p[j]));
    }
    CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
    double w = worst(n->logits, y, ny);
    nnf_ref_backward(n, g, B, mine);
    floats(c, "dx", dx);
    double wx = worst(mine, dx, nx), wp = 0;
    const cJSON *grads = cJSON_GetObjectItemCaseSensitive(c, "grads");
    for (int j = 0; j < np; j++) {
      char key[48];
      snprintf(key, sizeof key, "%d.%s", owner[j], p[j].name);
      int k = floats(grads, key, ref);
      double e = worst(p[j].grad, ref, k);
      wp = e > wp ? e : wp;
    }
    printf("case %s: worst deviation / bound: y %.3f, dx %.3f, parameter gradients %.3f\n", name, w, wx, wp);
    nnf_test_ctx("case %s: y %.3f dx %.3f params %.3f", name, w, wx, wp);
    CHECK(w <= 1 && wx <= 1 && wp <= 1);
    /* finite differences: the input and every parameter tensor */
    fd_check(n, x, g, B, x, mine, nx, "x");
    for (int j = 0; j < np; j++) {
      CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
      nnf_ref_backward(n, g, B, NULL);
      int k = (int)nnf_param_size(&p[j]);
      memcpy(ref, p[j].grad, (size_t)k * sizeof(float));
      fd_check(n, x, g, B, p[j].data, ref, k, p[j].name);
    }
    nnf_net_free(n);
    ncases++;
  }
  CHECK_EQ(ncases, 5);
  cJSON_Delete(root);
}

/* ---- QAT ------------------------------------------------------------------------- */

/* One conv output by the TFLite rule written out here (independent of the
 * model's walk): the padding taps are the input zero point. */
static int8_t conv_rule(const nnfm_conv_args *a, const int8_t *x, const int8_t *w, const int32_t *bias,
                        const int32_t *m0, const int8_t *shift, int b, int n, int oy, int ox) {
  const nnfm_window *v = &a->win;
  int64_t acc = bias[n];
  for (int c = 0; c < v->c; c++)
    for (int ky = 0; ky < v->kh; ky++)
      for (int kx = 0; kx < v->kw; kx++) {
        int iy = oy * v->sh - v->ph + ky, ix = ox * v->sw - v->pw + kx;
        int xv = iy >= 0 && iy < v->h && ix >= 0 && ix < v->w ? x[(((size_t)b * v->c + c) * v->h + iy) * v->w + ix]
                                                                : a->zp_in;
        acc += (int64_t)(xv - a->zp_in) * w[((n * v->c + c) * v->kh + ky) * v->kw + kx];
      }
  return (int8_t)nnfm_requantize((int32_t)acc, m0[n], shift[n], a->out_zp, a->lo, a->hi);
}

/* The network of arch over c x h x w maps, initialised from seed, its
 * ranges observed on B inputs x (filled here, uniform in [lo, lo + span)),
 * quantized. */
static nnf_net *quantized(const char *arch, int c, int h, int w, uint64_t seed, int B, float *x, float lo, float span) {
  char err[512];
  int shape[3] = {c, h, w};
  nnf_net *n = nnf_arch_build(arch, shape, err, sizeof err);
  nnf_test_ctx("%s: %s", arch, err);
  CHECK(n != NULL);
  nnf_init_spec is = {0};
  CHECK_OK(nnf_net_init(n, &is, seed));
  nnf_rng r = nnf_rng_seed(seed + 1);
  for (int i = 0; i < B * c * h * w; i++) x[i] = (float)(nnf_rng_u32(&r) % 1000) / 1000.0f * span + lo;
  CHECK_OK(nnf_net_observe(n, x, B, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  return n;
}

static void qat(void) {
  char err[512];
  enum { B = 6 };
  static float x[B * 300];
  nnf_net *n = quantized("conv(5,3,pad=1,stride=2),relu,maxpool(2,pad=1),conv(4,1),avgpool(2,stride=1),gap,flatten,"
                         "dense(3)",
                         3, 10, 10, 5, B, x, -0.7f, 2.0f);
  /* the conv fused with ReLU clamps at its output zero point */
  nnf_qlayer *Q = nnf_layer_conv_qlayer(n->layer[0]);
  CHECK(Q != NULL);
  CHECK(n->layer[1]->fused);
  CHECK_EQ(Q->lo, n->t[2].r.zp);
  CHECK_EQ(Q->hi, 127);
  /* pools keep their input's quantization */
  CHECK(n->t[3].r.scale == n->t[2].r.scale && n->t[3].r.zp == n->t[2].r.zp);
  CHECK(n->t[6].r.scale == n->t[4].r.scale && n->t[6].r.zp == n->t[4].r.zp);
  CHECK_OK(nnf_net_run(n, NNF_FWD_INT, x, B, err, sizeof err));
  /* the first conv's int8 outputs by the rule above, every one */
  {
    nnf_tensor *in = &n->t[0], *out = &n->t[2];
    const nnf_dense *d = nnf_layer_conv(n->layer[0]);
    static int8_t w8[5 * 27];
    for (int o = 0; o < 5; o++)
      for (int i = 0; i < 27; i++) w8[o * 27 + i] = Q->w_kn[i * 5 + o];
    nnfm_conv_args a = {{B, 3, 10, 10, 3, 3, 2, 2, 1, 1, 0, 0}, 5, in->r.zp, Q->zp, Q->lo, Q->hi, NULL, NNFM_ROUND_SINGLE, 1};
    CHECK_EQ(d->in, 27);
    for (int b = 0; b < B; b++)
      for (int o = 0; o < 5; o++)
        for (int oy = 0; oy < 5; oy++)
          for (int ox = 0; ox < 5; ox++)
            CHECK_EQ(out->q[((b * 5 + o) * 5 + oy) * 5 + ox], conv_rule(&a, in->q, w8, Q->bias, Q->m0, Q->shift, b, o, oy, ox));
  }
  /* the max pool's outputs: the largest in-bounds tap of its input's int8 values */
  for (int b = 0; b < B; b++)
    for (int c = 0; c < 5; c++)
      for (int oy = 0; oy < 3; oy++)
        for (int ox = 0; ox < 3; ox++) {
          int m = -999;
          for (int ky = 0; ky < 2; ky++)
            for (int kx = 0; kx < 2; kx++) {
              int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
              if (iy >= 0 && iy < 5 && ix >= 0 && ix < 5) {
                int v = n->t[2].q[((b * 5 + c) * 5 + iy) * 5 + ix];
                m = v > m ? v : m;
              }
            }
          CHECK_EQ(n->t[3].q[((b * 5 + c) * 3 + oy) * 3 + ox], m);
        }
  /* the global average: TFLite's rounding of the 2 x 2 map's mean */
  for (int b = 0; b < B; b++)
    for (int c = 0; c < 4; c++) {
      int32_t s = 0;
      for (int i = 0; i < 4; i++) s += n->t[5].q[(b * 4 + c) * 4 + i];
      CHECK_EQ(n->t[6].q[b * 4 + c], nnfm_avg_round(s, 4));
    }
  /* the fake-quant forward is the float emulation of the same: within one
   * step of the integer outputs (rounding of float sums), and mostly equal */
  static int8_t qi[B * 3];
  memcpy(qi, n->t[n->nlayers].q, sizeof qi);
  static int8_t q1[B * 125];
  memcpy(q1, n->t[2].q, sizeof q1);
  CHECK_OK(nnf_net_run(n, NNF_FWD_FAKEQUANT, x, B, err, sizeof err));
  int off = 0;
  for (int i = 0; i < B * 125; i++) {
    CHECK(abs(q1[i] - n->t[2].q[i]) <= 1);
    off += q1[i] != n->t[2].q[i];
  }
  nnf_test_ctx("fake quant vs int: %d of %d first-conv outputs off by one", off, B * 125);
  CHECK(off * 20 <= B * 125);
  for (int i = 0; i < B * 3; i++) CHECK(abs(qi[i] - n->t[n->nlayers].q[i]) <= 3);

  /* the checkpoint: saved and loaded, the same architecture, input shape and
   * integer outputs; a conv's stored int8 weight edited is refused */
  char path[512];
  snprintf(path, sizeof path, "%s/cnn.safetensors", NNF_TEST_TMP);
  CHECK_OK(nnf_net_quantize(n, err, sizeof err)); /* the fake-quant pass above moved the observers */
  CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
  nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
  nnf_test_ctx("load: %s", err);
  CHECK(m != NULL);
  char a1[1024], a2[1024];
  nnf_net_describe(n, a1, sizeof a1);
  nnf_net_describe(m, a2, sizeof a2);
  CHECK(!strcmp(a1, a2));
  CHECK(m->t[0].c == 3 && m->t[0].h == 10 && m->t[0].w == 10);
  CHECK_OK(nnf_net_run(n, NNF_FWD_INT, x, B, err, sizeof err));
  CHECK_OK(nnf_net_run(m, NNF_FWD_INT, x, B, err, sizeof err));
  CHECK_MEM_EQ(m->t[m->nlayers].q, n->t[n->nlayers].q, B * 3);
  CHECK_MEM_EQ(m->t[2].q, n->t[2].q, B * 125);
  nnf_net_free(m);
  /* flip the first int8 weight of layer 0 (quant.0.weight_int8) in the file */
  char *text = NULL;
  FILE *fp = fopen(path, "r+b");
  CHECK(fp != NULL);
  uint64_t hl = 0;
  CHECK(fread(&hl, 8, 1, fp) == 1);
  text = malloc(hl + 1);
  CHECK(fread(text, 1, hl, fp) == hl);
  text[hl] = 0;
  const char *e = strstr(text, "\"quant.0.weight_int8\"");
  CHECK(e != NULL);
  e = strstr(e, "\"data_offsets\"");
  CHECK(e != NULL);
  long at = strtol(strchr(e, '[') + 1, NULL, 10);
  CHECK_OK(fseek(fp, (long)(8 + hl) + at, SEEK_SET));
  int byte = fgetc(fp);
  CHECK_OK(fseek(fp, (long)(8 + hl) + at, SEEK_SET));
  fputc(byte ^ 1, fp);
  fclose(fp);
  free(text);
  err[0] = 0;
  CHECK(nnf_ckpt_load(path, err, sizeof err) == NULL);
  nnf_test_ctx("tampered: %s", err);
  CHECK(strstr(err, "layer 1's int8 tensors do not match its float weights and ranges") != NULL);
  nnf_net_free(n);
}

/* A ReLU after a max pool and a ReLU6 after an average pool are the pools'
 * clamps on the int8 path: the outputs keep the pool's quantization, are
 * max(pool, zp) (and min(., q(6))) of the unclamped pool, and the same
 * network in float is the float ReLU of the pool. */
static void pool_activations(void) {
  char err[512];
  enum { B = 5 };
  static float x[B * 162];
  nnf_net *n = quantized("conv(4,3),maxpool(2),relu,conv(3,1),avgpool(2,stride=1),relu6,flatten,dense(2)", 2, 9, 9, 8, B,
                         x, -2.0f, 4.0f);
  CHECK(n->layer[2]->fused && n->layer[5]->fused);
  /* the activations' outputs keep their pools' quantization */
  CHECK(n->t[3].r.scale == n->t[1].r.scale && n->t[3].r.zp == n->t[1].r.zp);
  CHECK(n->t[6].r.scale == n->t[4].r.scale && n->t[6].r.zp == n->t[4].r.zp);
  CHECK_OK(nnf_net_run(n, NNF_FWD_INT, x, B, err, sizeof err));
  /* layer 1's max pool of the conv's int8 map (4 x 7 x 7 -> 4 x 3 x 3), then max(., zp) */
  int zp = n->t[1].r.zp, clamped = 0;
  for (int b = 0; b < B; b++)
    for (int c = 0; c < 4; c++)
      for (int oy = 0; oy < 3; oy++)
        for (int ox = 0; ox < 3; ox++) {
          int m = -128;
          for (int ky = 0; ky < 2; ky++)
            for (int kx = 0; kx < 2; kx++) {
              int v = n->t[1].q[((b * 4 + c) * 7 + oy * 2 + ky) * 7 + ox * 2 + kx];
              m = v > m ? v : m;
            }
          clamped += m < zp;
          CHECK_EQ(n->t[3].q[((b * 4 + c) * 3 + oy) * 3 + ox], m > zp ? m : zp);
        }
  nnf_test_ctx("%d of %d max-pool outputs below zero", clamped, B * 36);
  CHECK(clamped > 0 && clamped < B * 36);
  /* ReLU6: nothing above q(6) */
  int q6 = nnfm_quantize_real(6.0, n->t[4].r.scale, n->t[4].r.zp, -128, 127);
  for (int i = 0; i < B * 12; i++) CHECK(n->t[6].q[i] >= n->t[4].r.zp && n->t[6].q[i] <= q6);
  nnf_net_free(n);
}

/* ---- the grammar ------------------------------------------------------------------ */

static void grammar(void) {
  char err[512], desc[1024];
  int img[3] = {1, 28, 28};
  nnf_net *n = nnf_arch_build("conv(16,5,pad=2),relu,maxpool(2),conv(32,5,pad=2,stride=2),relu,avgpool(2),gap,flatten,"
                              "dense(10)",
                              img, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(n != NULL);
  nnf_net_describe(n, desc, sizeof desc);
  CHECK(!strcmp(desc, "Conv2d(1,16,kernel_size=5,stride=1,padding=2),ReLU,MaxPool2d(kernel_size=2,stride=2,padding=0),"
                      "Conv2d(16,32,kernel_size=5,stride=2,padding=2),ReLU,"
                      "AvgPool2d(kernel_size=2,stride=2,padding=0,count_include_pad=False),AdaptiveAvgPool2d(1),"
                      "Flatten,Linear(32,10)"));
  CHECK_EQ(n->t[3].c, 16);
  CHECK_EQ(n->t[3].h, 14);
  CHECK_EQ(n->t[4].h, 7);
  CHECK_EQ(n->t[6].h, 3);
  CHECK_EQ(nnf_net_outputs(n), 10);
  nnf_net_free(n);
  static const struct {
    const char *arch, *msg;
  } bad[] = {
      {"conv(8,5),maxpool(2),maxpool(2),conv(8,7),flatten,dense(10)",
       "layer 3 'conv(8,7)': a 7 x 7 kernel is larger than the 6 x 6 input map padded by 0"},
      {"conv(8,3),dense(10)", "layer 1 'dense(10)': its input is a 8 x 26 x 26 map; flatten it first"},
      {"conv(8,3),swish", "layer 1 'swish': unknown layer 'swish' (conv, dwconv, zeropad, maxpool, avgpool, gap, "
                          "flatten, add, dense, relu, relu6, sigmoid, tanh, identity, softmax, dropout, rnn, gru, lstm, "
                          "embed, posembed, clstoken, meanpool, clspool, layernorm, gelu, mha, encoder)"},
      {"conv(8,x)", "layer 0 'conv(8,x)': 'x' is not a number"},
      {"conv(8,33)", "layer 0 'conv(8,33)': a Conv2d has 1..65535 output channels, kernel 1..32, stride 1..16, "
                     "padding 0..32, groups 1..65535 (got 8, 33x33, 1x1, 0x0, 1)"},
      {"conv(8,3,kw=40)", "layer 0 'conv(8,3,kw=40)': a Conv2d has 1..65535 output channels, kernel 1..32, stride "
                          "1..16, padding 0..32, groups 1..65535 (got 8, 3x40, 1x1, 0x0, 1)"},
      {"conv(8,3,groups=0)", "layer 0 'conv(8,3,groups=0)': groups is 1..65535, not 0 (dwconv is depthwise)"},
      {"conv(6,3,groups=4)", "layer 0 'conv(6,3,groups=4)': 4 groups do not divide 1 input and 6 output channels"},
      {"dwconv(3,out=4)", "layer 0 'dwconv(3,out=4)': has no argument 'out'"},
      {"zeropad(1,1,1,1,1)", "layer 0 'zeropad(1,1,1,1,1)': takes 4 positional arguments, not 5"},
      {"zeropad(0,33)", "layer 0 'zeropad(0,33)': a ZeroPad2d pads each side by 0..32 (got 0, 33, 0, 0)"},
      {"flatten,zeropad(1)", "layer 1 'zeropad(1)': its input is flattened; a map layer needs a C x H x W map"},
      {"maxpool(2),maxpool(2),maxpool(2),maxpool(2),maxpool(2)",
       "layer 4 'maxpool(2)': a 2 x 2 kernel is larger than the 1 x 1 input map padded by 0"},
      {"conv(4,3,stride=17)", "layer 0 'conv(4,3,stride=17)': a Conv2d has 1..65535 output channels, kernel 1..32, "
                              "stride 1..16, padding 0..32, groups 1..65535 (got 4, 3x3, 17x17, 0x0, 1)"},
      {"conv(4,3,dilation=2)", "layer 0 'conv(4,3,dilation=2)': has no argument 'dilation'"},
      {"flatten,conv(4,3)", "layer 1 'conv(4,3)': its input is flattened; a map layer needs a C x H x W map"},
      {"conv(4,3),", "architecture ends with a comma"},
      {"conv(4,3),maxpool(2),tanh", "layer 2 'tanh': a sigmoid or tanh after a pool has no int8 form; put it before the pool"},
      {"conv(4,3),gap,dense(3)", "layer 2 'dense(3)': its input is a 4 x 1 x 1 map; flatten it first"},
      {"flatten,dense(8),conv(4,1)", "layer 2 'conv(4,1)': its input is flattened; a map layer needs a C x H x W map"},
      {"conv(4,3", "layer 0 'conv(4,3': arguments are closed by ')' at the end"},
      /* residual graphs: what a join or a from= may read */
      {"conv(4,3),add(5)", "layer 1 'add(5)': it adds the output of a layer before it (-1: the input, or 0..0)"},
      {"conv(4,3),add(-1)", "layer 1 'add(-1)': it adds 1 x 28 x 28 to 4 x 26 x 26 (the shapes must be the same)"},
      {"conv(4,3),add(-2)", "layer 1 'add(-2)': add(K) adds the output of layer K (-1: the input)"},
      {"conv(4,3),add", "layer 1 'add': add(K) adds the output of layer K (-1: the input)"},
      {"conv(4,3),conv(4,1,from=1)",
       "layer 1 'conv(4,1,from=1)': from=1: it reads the output of a layer before it (0..0) or the input (-1)"},
      {"conv(4,3),conv(4,1,from=x)", "layer 1 'conv(4,1,from=x)': from wants a number, not 'x'"},
      {"conv(4,3),flatten,dense(8),gru(4,in=2,from=0)",
       "layer 3 'gru(4,in=2,from=0)': it reads layer 0's output, but a recurrent, attention or LIF layer reads only "
       "the layer before it"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = 0;
    nnf_test_ctx("%s -> '%s'", bad[i].arch, err);
    CHECK(nnf_arch_build(bad[i].arch, img, err, sizeof err) == NULL);
    nnf_test_ctx("%s -> '%s'", bad[i].arch, err);
    CHECK(!strcmp(err, bad[i].msg));
  }
}

int main(int argc, char **argv) {
  (void)argc;
  torch_cases();
  qat();
  pool_activations();
  grammar();
  return nnf_test_done(argv[0]);
}
