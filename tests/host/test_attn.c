/*
 * test_attn.c - the attention layers (nnf_attn.c: TokenLinear, positional
 * embedding, class token, token pooling, LayerNorm, GELU,
 * MultiheadAttention, TransformerEncoderLayer):
 *   - float forward and backward against PyTorch (tests/data/attn_ref.json,
 *     scripts/gen_attn_ref.py with Debian's torch 1.13): outputs, input
 *     gradients and every parameter's gradient of LayerNorm, GELU (erf and
 *     tanh), MultiheadAttention (1 and 4 heads), TransformerEncoderLayer
 *     (post-norm and pre-norm, ReLU and GELU) and two 2-layer stacks (mean
 *     pooling; a class token), each built from its grammar and rebuilt from
 *     the PyTorch-form entries it describes itself as; gradients added when
 *     accumulating;
 *   - central finite differences of stacks of every kind;
 *   - initialisation, a checkpoint round trip (PyTorch's state_dict names,
 *     the same outputs after save and load);
 *   - bad input: heads not dividing d_model, zero sizes, a sequence longer
 *     than the positional table, widths that are not whole tokens, the
 *     quantized forwards and the device compiler, each with its exact
 *     message.
 * (That PyTorch's own nn.TransformerEncoder loads a checkpoint trained
 * here and gives its outputs: e2e_torch_checkpoint, scripts/torch_check.py.)
 *
 * Tolerance against PyTorch: |ours - torch| <= 2e-6 + 2e-6 |torch| for every
 * value, as test_rnn's. Both run the same float32 operations in different
 * orders (OpenBLAS here, ATen there; LayerNorm's statistics in double here):
 * each value is at most a few dozen sums of products below 3 through up to
 * two layers, within a few ulps of each other (measured: printed as a
 * fraction of the bound). A wrong head split, a missing 1/sqrt(dh), a
 * residual in the wrong place or a biased/unbiased variance mix-up miss by
 * 1e-2 and more.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "nnf_ckpt.h"
#include "nnf_compile.h"
#include "nnf_layer.h"
#include "nnf_layer_ref.h"
#include "nnf_test.h"
#include "nnfm.h"

#define MAXV 8192

static int floats(const cJSON *o, const char *key, float *out) { return nnf_ref_floats(o, key, out, MAXV); }
static double worst(const float *a, const float *b, int n) { return nnf_ref_worst(a, b, n, 2e-6); }

static void torch_cases(void) {
  char err[512];
  cJSON *root = nnf_ref_load("attn_ref.json");
  const cJSON *c;
  static float x[MAXV], y[MAXV], dy[MAXV], dx[MAXV], ref[MAXV], mine[MAXV];
  int ncases = 0;
  double all = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
    const nnf_ref_case rc = nnf_ref_case_of(c);
    const char *name = rc.name, *arch = rc.arch;
    const int B = rc.B, T = rc.T, I = rc.I;
    nnf_net *n = nnf_ref_case_net(name, arch, rc.describe, T * I); /* and its checkpoint form */
    if (!n) continue;
    int nx = floats(c, "x", x), ny = floats(c, "y", y);
    CHECK_EQ(floats(c, "dy", dy), ny);
    CHECK_EQ(nx, B * T * I);
    CHECK_EQ(ny, B * nnf_net_outputs(n));
    nnf_param p[NNF_MAX_NET_PARAMS];
    int owner[NNF_MAX_NET_PARAMS], np = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, owner);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "params"), *grads = cJSON_GetObjectItemCaseSensitive(c, "grads");
    CHECK_EQ(np, cJSON_GetArraySize(params));
    char key[NNF_MAX_NET_PARAMS][64];
    for (int j = 0; j < np; j++) {
      snprintf(key[j], sizeof key[j], "%d.%s", owner[j], p[j].name); /* the Sequential's state_dict name */
      nnf_test_ctx("case %s: parameter %s", name, key[j]);
      CHECK_EQ(floats(params, key[j], p[j].data), (long long)nnf_param_size(&p[j]));
    }
    CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
    double w = worst(n->logits, y, ny);
    nnf_ref_backward(n, dy, B, mine);
    floats(c, "dx", dx);
    double wx = worst(mine, dx, nx), wp = 0;
    for (int j = 0; j < np; j++) {
      int k = floats(grads, key[j], ref);
      CHECK_EQ(k, (long long)nnf_param_size(&p[j]));
      double e = worst(p[j].grad, ref, k);
      nnf_test_ctx("case %s: gradient of %s: %.3f of the bound", name, key[j], e);
      CHECK(e <= 1);
      wp = e > wp ? e : wp;
    }
    printf("case %-15s %2d parameters; worst deviation / bound: y %.3f, dx %.3f, parameter gradients %.3f\n", name,
           np, w, wx, wp);
    nnf_test_ctx("case %s: y %.3f dx %.3f params %.3f", name, w, wx, wp);
    CHECK(w <= 1 && wx <= 1 && wp <= 1);
    all = fmax(all, fmax(w, fmax(wx, wp)));
    /* accumulate adds: a second forward and backward with accumulate doubles
     * every gradient (a backward consumes its forward's cache) */
    CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
    nnf_ref_backward_acc(n, dy, B, NULL, 1);
    int twice = 1;
    for (int j = 0; j < np; j++) {
      int k = floats(grads, key[j], ref);
      for (int i = 0; i < k; i++) twice &= fabsf(p[j].grad[i] - 2 * ref[i]) <= 2e-5f + 2e-5f * fabsf(ref[i]);
    }
    nnf_test_ctx("case %s: accumulated gradients", name);
    CHECK(twice);
    nnf_net_free(n);
    ncases++;
  }
  CHECK_EQ(ncases, 12);
  printf("against PyTorch: %d cases, worst deviation %.3f of the bound 2e-6 + 2e-6 |v|\n", ncases, all);
  cJSON_Delete(root);
}

/* ---- finite differences ------------------------------------------------------------------ */

static void finite_differences(void) {
  static const struct {
    const char *arch;
    int I, kinks;
  } nets[] = {
      {"embed(6,in=3),posembed(7),encoder(6,2,ff=8,act=gelu),encoder(6,3,ff=8,norm_first=1,act=gelu),meanpool,dense(3)", 3, 0},
      {"embed(6,in=3),clstoken,posembed(8),mha(6,2),layernorm,gelu(approx=tanh),clspool,dense(3)", 3, 0},
      {"layernorm(4,eps=0.1),mha(4,4),gelu,embed(5),encoder(5,1,ff=7),meanpool,dense(3)", 4, 1},
  };
  enum { B = 2, T = 7 };
  static float x[B * T * 8], g[B * 3], mine[B * T * 8], ref[MAXV];
  char err[256];
  for (size_t a = 0; a < sizeof nets / sizeof nets[0]; a++) {
    const int I = nets[a].I;
    int shape[3] = {T * I, 0, 0};
    nnf_net *n = nnf_arch_build(nets[a].arch, shape, err, sizeof err);
    nnf_test_ctx("%s: %s", nets[a].arch, err);
    CHECK(n != NULL);
    if (!n) continue;
    CHECK_EQ(nnf_net_outputs(n), 3);
    nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
    CHECK_OK(nnf_net_init(n, &is, 40 + a));
    /* move every parameter off its initial value (zero biases, unit norms, a zero class token) */
    nnf_param p[NNF_MAX_NET_PARAMS];
    int np = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
    uint64_t r = 99 + a;
    for (int j = 0; j < np; j++)
      for (size_t i = 0; i < nnf_param_size(&p[j]); i++) p[j].data[i] += 0.2f * (float)nnf_rng_uniform(&r) - 0.1f;
    for (int i = 0; i < B * T * I; i++) x[i] = 2 * nnf_rng_uniform(&r) - 1;
    for (int i = 0; i < B * 3; i++) g[i] = 2 * nnf_rng_uniform(&r) - 1;
    nnf_ref_loss(n, x, g, B);
    nnf_ref_backward(n, g, B, mine);
    nnf_ref_fd_check(n, x, g, B, x, mine, B * T * I, "x", nets[a].kinks);
    for (int j = 0; j < np; j++) {
      nnf_ref_loss(n, x, g, B);
      nnf_ref_backward(n, g, B, NULL);
      int k = (int)nnf_param_size(&p[j]);
      memcpy(ref, p[j].grad, (size_t)k * sizeof(float));
      nnf_ref_fd_check(n, x, g, B, p[j].data, ref, k, p[j].name, nets[a].kinks);
    }
    printf("finite differences: %s agrees (%d parameters)\n", nets[a].arch, np);
    nnf_net_free(n);
  }
}

/* ---- initialisation, maps, checkpoints ------------------------------------------------------ */

static void init_and_ckpt(void) {
  char err[512];
  int img[3] = {1, 28, 28};
  const char *arch = "embed(16),posembed(28),encoder(16,4,ff=32,act=gelu,norm_first=1),encoder(16,4),meanpool,dense(10)";
  nnf_net *n = nnf_arch_build(arch, img, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(n != NULL);
  if (!n) return;
  /* a 1 x 28 x 28 image: 28 tokens of 28 pixels */
  nnf_attn_kind kind;
  nnf_attn_config ac;
  CHECK_OK(nnf_layer_attn(n->layer[0], &kind, &ac));
  CHECK_EQ(kind, NNF_ATTN_EMBED);
  CHECK_EQ(ac.in, 28);
  CHECK_EQ(ac.d, 16);
  CHECK_OK(nnf_layer_attn(n->layer[3], &kind, &ac));
  CHECK_EQ(kind, NNF_ATTN_ENCODER);
  CHECK_EQ(ac.ff, 64); /* 4 d_model by default */
  CHECK_EQ(n->t[1].width, 28 * 16);
  CHECK_EQ(n->t[5].width, 16);
  CHECK_EQ(nnf_layer_attn(n->layer[5], NULL, NULL), -1);
  char desc[2048];
  nnf_net_describe(n, desc, sizeof desc);
  const char *want =
      "TokenLinear(28,16),PositionalEmbedding(28,16),TransformerEncoderLayer(16,4,dim_feedforward=32,dropout=0.0,"
      "activation='gelu',layer_norm_eps=1e-05,batch_first=True,norm_first=True),TransformerEncoderLayer(16,4,"
      "dim_feedforward=64,dropout=0.0,activation='relu',layer_norm_eps=1e-05,batch_first=True,norm_first=False),"
      "TokenPool(16,mode='mean'),Linear(16,10)";
  nnf_test_ctx("%s", desc);
  CHECK(!strcmp(desc, want));
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  CHECK_OK(nnf_net_init(n, &is, 7));
  nnf_param p[NNF_MAX_NET_PARAMS];
  int owner[NNF_MAX_NET_PARAMS], np = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, owner);
  CHECK_EQ(np, 2 + 1 + 12 + 12 + 2);
  static const char *const names[] = {"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                                      "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                                      "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"};
  for (int j = 0; j < 12; j++) {
    nnf_test_ctx("parameter %d: %d.%s", j, owner[3 + j], p[3 + j].name);
    CHECK(!strcmp(p[3 + j].name, names[j]) && owner[3 + j] == 2);
  }
  CHECK(p[3].shape[0] == 48 && p[3].shape[1] == 16 && p[7].shape[0] == 32 && p[9].shape[1] == 32);
  /* PyTorch's initialisation: xavier_uniform_ in_proj_weight (bound sqrt(6 / 64)), zero
   * attention biases, LayerNorm ones and zeros, the positional table N(0, 0.02) */
  float lo = 1, hi = -1, bias = 0, ones = 1, pmax = 0;
  for (size_t i = 0; i < nnf_param_size(&p[3]); i++) lo = fminf(lo, p[3].data[i]), hi = fmaxf(hi, p[3].data[i]);
  for (int i = 0; i < 48; i++) bias = fmaxf(bias, fabsf(p[4].data[i]));
  for (int i = 0; i < 16; i++) ones = fminf(ones, p[11].data[i] == 1.0f && p[12].data[i] == 0.0f);
  for (size_t i = 0; i < nnf_param_size(&p[2]); i++) pmax = fmaxf(pmax, fabsf(p[2].data[i]));
  double bound = sqrt(6.0 / 64.0);
  nnf_test_ctx("in_proj_weight in [%g, %g], bound %g; bias %g; pos %g", lo, hi, bound, bias, pmax);
  CHECK(lo >= -bound && hi <= bound && lo < -0.9 * bound && hi > 0.9 * bound && bias == 0 && ones == 1);
  CHECK(pmax > 0.03f && pmax < 0.12f);
  float w0 = p[3].data[5];
  CHECK_OK(nnf_net_init(n, &is, 7));
  CHECK(p[3].data[5] == w0);
  /* a checkpoint: PyTorch's names, the same outputs after loading */
  enum { B = 4 };
  static float x[B * 784], y0[B * 10];
  uint64_t r = 5;
  for (int i = 0; i < B * 784; i++) x[i] = nnf_rng_uniform(&r);
  CHECK_OK(nnf_net_observe(n, x, B, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err)); /* as `train --float` does before saving */
  CHECK_OK(nnf_net_run(n, NNF_FWD_FLOAT, x, B, err, sizeof err));
  memcpy(y0, n->logits, sizeof y0);
  char path[512];
  snprintf(path, sizeof path, "%s/attn_ckpt.safetensors", NNF_TEST_TMP);
  nnf_test_ctx("save: %s", err);
  CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
  nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
  nnf_test_ctx("load: %s", err);
  CHECK(m != NULL);
  if (m) {
    nnf_net_describe(m, desc, sizeof desc);
    CHECK(!strcmp(desc, want));
    CHECK_OK(nnf_net_run(m, NNF_FWD_FLOAT, x, B, err, sizeof err));
    CHECK_MEM_EQ(m->logits, y0, sizeof y0);
    nnf_param q[NNF_MAX_NET_PARAMS];
    CHECK_EQ(nnf_net_params(m, q, NNF_MAX_NET_PARAMS, NULL), np);
    for (int j = 0; j < np; j++) CHECK_MEM_EQ(q[j].data, p[j].data, nnf_param_size(&p[j]) * sizeof(float));
    nnf_net_free(m);
  }
  printf("checkpoint: %s round-trips (%d tensors, outputs equal)\n", arch, np);

  /* the token width passes through activations; after a seq=1 recurrent layer it is the hidden size */
  int flat[3] = {24, 0, 0};
  nnf_net *s = nnf_arch_build("gru(6,in=4,seq=1),relu,layernorm,mha(6,3),clspool,dense(2)", flat, err, sizeof err);
  nnf_test_ctx("%s", err);
  CHECK(s != NULL);
  if (s) {
    nnf_net_describe(s, desc, sizeof desc);
    CHECK(!strcmp(desc, "GRU(4,6,batch_first=True,seq=1),ReLU,LayerNorm(6,eps=1e-05),MultiheadAttention(6,3,"
                        "batch_first=True),TokenPool(6,mode='cls'),Linear(6,2)"));
    nnf_net_free(s);
  }
  nnf_net_free(n);
}

/* ---- bad input ----------------------------------------------------------------------------- */

static void refusals(void) {
  char err[512];
  int flat[3] = {24, 0, 0};
  static const struct {
    const char *arch, *msg;
  } bad[] = {
      {"encoder(8,3)", "layer 0 'encoder(8,3)': TransformerEncoderLayer: d_model 8 is not a multiple of the 3 heads"},
      {"mha(6,4)", "layer 0 'mha(6,4)': MultiheadAttention: d_model 6 is not a multiple of the 4 heads"},
      {"mha(6,0)", "layer 0 'mha(6,0)': MultiheadAttention: 0 heads, not 1..d_model (6)"},
      {"encoder(0,1)", "layer 0 'encoder(0,1)': TransformerEncoderLayer: 0 features a token, not 1..65535"},
      {"encoder(8,2,ff=0)", "layer 0 'encoder(8,2,ff=0)': ff is 1..65535, not 0"},
      {"encoder(8,2,ff=70000)", "layer 0 'encoder(8,2,ff=70000)': TransformerEncoderLayer: dim_feedforward 70000, not 1..65535"},
      {"encoder(8,2,act=tanh)", "layer 0 'encoder(8,2,act=tanh)': act is relu or gelu, not 'tanh'"},
      {"encoder(8,2,norm_first=2)", "layer 0 'encoder(8,2,norm_first=2)': norm_first is 0 or 1, not 2"},
      {"encoder(8,2,eps=0)", "layer 0 'encoder(8,2,eps=0)': TransformerEncoderLayer: eps 0, not in (0, 1)"},
      {"encoder(8,2,dropout=1)", "layer 0 'encoder(8,2,dropout=1)': has no argument 'dropout'"},
      {"encoder(5,1)", "layer 0 'encoder(5,1)': its input rows of 24 features are not whole tokens of 5 features"},
      {"encoder(8)", "layer 0 'encoder(8)': needs heads"},
      {"embed(0,in=4)", "layer 0 'embed(0,in=4)': TokenLinear: 0 features a token, not 1..65535"},
      {"embed(8)", "layer 0 'embed(8)': needs in= (the features of one token) for flat rows of 24 features"},
      {"embed(8,in=0)", "layer 0 'embed(8,in=0)': in is 1..65535, not 0"},
      {"embed(8,in=5)", "layer 0 'embed(8,in=5)': its input rows of 24 features are not whole tokens of 5 features"},
      {"embed(8,in=4),posembed(5)", "layer 1 'posembed(5)': 6 tokens, more than its table's 5 positions"},
      {"embed(8,in=4),clstoken,posembed(6)", "layer 2 'posembed(6)': 7 tokens, more than its table's 6 positions"},
      {"embed(8,in=4),posembed(0)", "layer 1 'posembed(0)': PositionalEmbedding: 0 positions, not 1..65535"},
      {"posembed(6)", "layer 0 'posembed(6)': needs d= (the features of one token) for flat rows of 24 features"},
      {"meanpool", "layer 0 'meanpool': needs d= (the features of one token) for flat rows of 24 features"},
      {"embed(8,in=4),encoder(16,2)", "layer 1 'encoder(16,2)': its input is tokens of 8 features, not 16"},
      {"embed(8,in=4),meanpool,encoder(16,2)",
       "layer 2 'encoder(16,2)': its input rows of 8 features are not whole tokens of 16 features"},
      {"gelu(approx=fast)", "layer 0 'gelu(approx=fast)': approx is none or tanh, not 'fast'"},
      {"layernorm(d=0)", "layer 0 'layernorm(d=0)': d is 1..65535, not 0"},
      {"layernorm(6,eps=x)", "layer 0 'layernorm(6,eps=x)': eps wants a number, not 'x'"},
      {"attention(8)", "layer 0 'attention(8)': unknown layer 'attention' (conv, dwconv, zeropad, maxpool, avgpool, "
                       "gap, flatten, add, dense, relu, relu6, sigmoid, tanh, identity, softmax, dropout, rnn, gru, lstm, "
                       "embed, posembed, clstoken, meanpool, clspool, layernorm, gelu, mha, encoder)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = 0;
    nnf_net *n = nnf_arch_build(bad[i].arch, flat, err, sizeof err);
    nnf_test_ctx("%s -> '%s'", bad[i].arch, err);
    CHECK(n == NULL);
    CHECK(!strcmp(err, bad[i].msg));
    nnf_net_free(n);
  }
  /* the quantized forwards run (test_attn_int.c checks them); a device without the features is refused, naming the
   * layer (tests/e2e/test_attn_device.c runs them on devices that have them) */
  nnf_net *n = nnf_arch_build("embed(8,in=4),encoder(8,2,ff=8),meanpool,dense(3)", flat, err, sizeof err);
  CHECK(n != NULL);
  if (!n) return;
  static float x[2 * 24];
  for (int i = 0; i < 2 * 24; i++) x[i] = (float)(i % 7) / 7.0f;
  CHECK_OK(nnf_net_observe(n, x, 2, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  static const nnf_fwd_mode modes[] = {NNF_FWD_FAKEQUANT, NNF_FWD_INT};
  for (int k = 0; k < 2; k++) {
    err[0] = 0;
    nnf_test_ctx("mode %d: %s", (int)modes[k], err);
    CHECK_OK(nnf_net_run(n, modes[k], x, 2, err, sizeof err));
    for (int i = 0; i < 6; i++) CHECK(isfinite(n->logits[i]));
  }
  nnf_plan pl;
  memset(&pl, 0, sizeof pl);
  nnfm_config cfg = nnfm_config_default();
  pl.cfg = &cfg;
  pl.B = 1;
  pl.dev = "model";
  err[0] = 0;
  CHECK_EQ(n->layer[1]->ops->plan(n->layer[1], &pl, err, sizeof err), -1);
  nnf_test_ctx("%s", err);
  CHECK(!strcmp(err, "layer 1 (TransformerEncoderLayer(8,2,dim_feedforward=8,dropout=0.0,activation='relu',"
                     "layer_norm_eps=1e-05,batch_first=True,norm_first=False)): device model does not run it: its "
                     "INFO lacks feature bits 7, 11 and 12 (FEAT_EW, FEAT_ROW, FEAT_ACTW)"));
  nnf_net_free(n);
  /* the spiking time axis is not a sequence */
  nnf_snn_config sc = nnf_snn_defaults();
  sc.steps = 4;
  int sizes[2] = {8, 6};
  nnf_net *s = nnf_snn_create(sizes, 2, &sc, 1, err, sizeof err);
  CHECK(s != NULL);
  nnf_attn_config ac = nnf_attn_defaults();
  ac.d = 3;
  CHECK_EQ(nnf_net_add(s, nnf_attn(NNF_ATTN_LAYERNORM, &ac, err, sizeof err), err, sizeof err), -1);
  nnf_test_ctx("%s", err);
  CHECK(!strcmp(err, "layer 2 (LayerNorm(3,eps=1e-05)): takes rows of whole sequences, not a spiking network's 4 time steps"));
  nnf_net_free(s);
  /* the checkpoint form: what does not round-trip is refused */
  static const char *const forms[] = {"LayerNorm(6)", "LayerNorm(0,eps=1e-05)", "GELU(approximate='fast')",
                                      "MultiheadAttention(8,2)", "TokenPool(8,mode='max')",
                                      "TransformerEncoderLayer(8,2,dim_feedforward=16,dropout=0.1,activation='relu',"
                                      "layer_norm_eps=1e-05,batch_first=True,norm_first=False)",
                                      "TransformerEncoderLayer(8,3,dim_feedforward=16,dropout=0.0,activation='relu',"
                                      "layer_norm_eps=1e-05,batch_first=True,norm_first=False)",
                                      "TokenLinear(4,8,9)", "ClassToken(8"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    err[0] = 0;
    CHECK(nnf_attn_layer_parse(forms[i], err, sizeof err) == NULL);
    char want2[256];
    snprintf(want2, sizeof want2, "malformed attention layer '%.80s'", forms[i]);
    nnf_test_ctx("%s -> '%s'", forms[i], err);
    CHECK(!strcmp(err, want2));
  }
  err[0] = 'x';
  CHECK(nnf_attn_layer_parse("Linear(3,4)", err, sizeof err) == NULL);
  CHECK(err[0] == 0);
}

int main(int argc, char **argv) {
  (void)argc;
  torch_cases();
  finite_differences();
  init_and_ckpt();
  refusals();
  return nnf_test_done(argv[0]);
}
