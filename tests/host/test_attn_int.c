/*
 * test_attn_int.c - the attention layers' int8 forms (nnf_attn.c, docs/attention.md
 * "Integer"):
 *   - INT equals a straightforward re-computation, layer by layer, through the
 *     functional model's rules (its own loops for every GEMM with
 *     nnfm_vector_stage, TFLite's softmax in its direct form nnfm_softmax_ref,
 *     nnfm_layernorm, nnfm_ew, the LUTs), byte for byte, on every layer kind,
 *     pre-norm and post-norm, GELU and ReLU;
 *   - FAKEQUANT close to FLOAT and to INT; its gradients finite and close to
 *     the float ones;
 *   - FAKEQUANT's backward takes every input gradient through the fake-quant
 *     weights the forward used, not the float ones (TokenLinear, in_proj,
 *     out_proj, linear1, linear2; MHA, pre-norm and post-norm), to float
 *     rounding, from identities between the gradients (test_fakequant_backward);
 *   - QAT's first pass seeds the ranges from a float pass; a checkpoint keeps
 *     them (the same INT outputs after loading).
 */
#include <math.h>

#include "nnf_ckpt.h"
#include "nnf_layer_ref.h"

#define B 3

/* One int8 Linear part over R rows, written out: acc = bias + sum x w, the vector stage. */
static void lin(const nnf_qlayer *Q, const int8_t *x, int R, int K, int N, int8_t *y) {
  for (int r = 0; r < R; r++)
    for (int n = 0; n < N; n++) {
      int32_t acc = Q->bias[n];
      for (int k = 0; k < K; k++) acc += x[(size_t)r * K + k] * Q->w_kn[(size_t)k * N + n];
      y[(size_t)r * N + n] = nnfm_vector_stage(acc, Q->m0[n], Q->shift[n], Q->zp, Q->lo, Q->hi, Q->lut ? Q->table : NULL, Q->round);
    }
}

/* Self-attention of T tokens of E features (B sequences, H heads) on u -> o. */
static void mha(const nnf_attn_int *v, const int8_t *u, int T, int E, int H, int8_t *o) {
  const int dh = E / H, R = B * T;
  int8_t *qkv = malloc((size_t)3 * R * E), *p = malloc((size_t)T * T), *c = malloc((size_t)R * E), lg[64];
  for (int g = 0; g < 3; g++) lin(v->qp[g], u, R, E, E, qkv + (size_t)g * R * E);
  const int8_t *q = qkv, *k = qkv + (size_t)R * E, *vv = qkv + (size_t)2 * R * E;
  nnfm_softmax_params sp;
  CHECK_OK(nnfm_softmax_prepare(v->rg[3].scale, 1.0, &sp));
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      for (int t = 0; t < T; t++) {
        for (int s = 0; s < T; s++) {
          int32_t acc = 0;
          for (int j = 0; j < dh; j++) acc += q[((size_t)b * T + t) * E + h * dh + j] * k[((size_t)b * T + s) * E + h * dh + j];
          lg[s] = (int8_t)nnfm_requantize(acc, v->mm[0].m0, v->mm[0].shift, v->mm[0].zp, -128, 127);
        }
        CHECK_OK(nnfm_softmax_ref(&sp, lg, T, p + (size_t)t * T));
      }
      for (int t = 0; t < T; t++)
        for (int j = 0; j < dh; j++) {
          int32_t acc = 0;
          for (int s = 0; s < T; s++) acc += (p[(size_t)t * T + s] + 128) * vv[((size_t)b * T + s) * E + h * dh + j];
          c[((size_t)b * T + t) * E + h * dh + j] =
              (int8_t)nnfm_requantize(acc, v->mm[1].m0, v->mm[1].shift, v->mm[1].zp, -128, 127);
        }
    }
  lin(v->qo, c, R, E, E, o);
  free(qkv), free(p), free(c);
}

static void norm(const nnfm_layernorm_params *ln, const int8_t *x, int32_t zp, int R, int E, int8_t *y) {
  for (int r = 0; r < R; r++) CHECK_OK(nnfm_layernorm(ln, x + (size_t)r * E, zp, y + (size_t)r * E));
}

static void add(const nnfm_ew_params *e, const int8_t *a, const int8_t *b, size_t n, int8_t *y) {
  for (size_t i = 0; i < n; i++) y[i] = nnfm_ew(e, a[i], b ? b[i] : 0, NULL);
}

/* Layer i of n recomputed from its input boundary's int8 values: out. */
static void recompute(nnf_net *n, int i, int8_t *out) {
  nnf_layer *l = n->layer[i];
  nnf_attn_kind kind;
  nnf_attn_config c;
  nnf_attn_int v;
  CHECK_OK(nnf_layer_attn(l, &kind, &c));
  CHECK_OK(nnf_layer_attn_int(l, &v));
  const nnf_tensor *x = &n->t[i];
  const int E = c.d, Ti = kind == NNF_ATTN_EMBED ? x->width / c.in : x->width / E, R = B * Ti;
  const size_t RE = (size_t)R * E;
  int8_t *t1 = malloc(RE), *t2 = malloc(RE), *t3 = malloc(RE), *t4 = malloc(RE), *h = malloc((size_t)R * (c.ff + 1));
  switch (kind) {
    case NNF_ATTN_EMBED: lin(v.qe, x->q, R, c.in, E, out); break;
    case NNF_ATTN_POSEMBED:
      for (int b = 0; b < B; b++) add(&v.ew[0], x->q + (size_t)b * Ti * E, v.tabq, (size_t)Ti * E, out + (size_t)b * Ti * E);
      break;
    case NNF_ATTN_CLSTOKEN:
      for (int b = 0; b < B; b++) {
        memcpy(out + (size_t)b * (Ti + 1) * E, v.tabq, (size_t)E);
        add(&v.ew[0], x->q + (size_t)b * Ti * E, NULL, (size_t)Ti * E, out + ((size_t)b * (Ti + 1) + 1) * E);
      }
      break;
    case NNF_ATTN_MEANPOOL:
      for (int b = 0; b < B; b++)
        for (int j = 0; j < E; j++) {
          int32_t s = 0;
          for (int t = 0; t < Ti; t++) s += x->q[((size_t)b * Ti + t) * E + j] - x->r.zp;
          out[(size_t)b * E + j] = (int8_t)nnfm_requantize(s, v.pool_m0, v.pool_shift, n->t[i + 1].r.zp, -128, 127);
        }
      break;
    case NNF_ATTN_CLSPOOL:
      for (int b = 0; b < B; b++) add(&v.ew[0], x->q + (size_t)b * Ti * E, NULL, (size_t)E, out + (size_t)b * E);
      break;
    case NNF_ATTN_LAYERNORM: norm(&v.ln[0], x->q, x->r.zp, R, E, out); break;
    case NNF_ATTN_GELU:
      for (int k = 0; k < x->width * B; k++) out[k] = nnfm_lut(v.lut, x->q[k]);
      break;
    case NNF_ATTN_MHA: mha(&v, x->q, Ti, E, c.heads, out); break;
    case NNF_ATTN_ENCODER:
      if (c.norm_first) { /* x1 = x + sa(norm1(x)), y = x1 + ff(norm2(x1)) */
        norm(&v.ln[0], x->q, x->r.zp, R, E, t1);
        mha(&v, t1, Ti, E, c.heads, t2);
        add(&v.ew[0], x->q, t2, RE, t3);
        norm(&v.ln[1], t3, v.rg[6].zp, R, E, t1);
        lin(v.q1, t1, R, E, c.ff, h);
        lin(v.q2, h, R, c.ff, E, t2);
        add(&v.ew[1], t3, t2, RE, out);
      } else { /* x1 = norm1(x + sa(x)), y = norm2(x1 + ff(x1)) */
        mha(&v, x->q, Ti, E, c.heads, t1);
        add(&v.ew[0], x->q, t1, RE, t2);
        norm(&v.ln[0], t2, v.rg[6].zp, R, E, t3);
        lin(v.q1, t3, R, E, c.ff, h);
        lin(v.q2, h, R, c.ff, E, t1);
        add(&v.ew[1], t3, t1, RE, t2);
        norm(&v.ln[1], t2, v.rg[12].zp, R, E, out);
      }
      break;
  }
  free(t1), free(t2), free(t3), free(t4), free(h);
}

static const char *const archs[] = {
    "embed(8,in=4),posembed(6),encoder(8,2,ff=12,act=gelu,norm_first=1),encoder(8,4,ff=10),meanpool,dense(3)",
    "embed(6,in=4),clstoken,posembed(8),mha(6,3),layernorm,gelu,gelu(approx=tanh),clspool,dense(3)",
    "layernorm(4),encoder(4,1,ff=9,act=gelu),encoder(4,2,ff=5,norm_first=1),meanpool,dense(3)",
};

static void test_int_exact(void) {
  char err[512] = "";
  for (int a = 0; a < 3; a++) {
    int shape[3] = {24, 0, 0};
    nnf_net *n = nnf_arch_build(archs[a], shape, err, sizeof err);
    nnf_test_ctx("%s: %s", archs[a], err);
    CHECK(n != NULL);
    nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
    CHECK_OK(nnf_net_init(n, &is, 40 + a));
    nnf_param p[NNF_MAX_NET_PARAMS];
    int np = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
    uint64_t r = 11 + a;
    for (int j = 0; j < np; j++) /* move every parameter off its initial value (norms, biases, tables) */
      for (size_t i = 0; i < nnf_param_size(&p[j]); i++) p[j].data[i] += (float)(0.2 * (nnf_rng_uniform(&r) - 0.5));
    static float x[B * 24];
    for (int i = 0; i < B * 24; i++) x[i] = (float)(2 * nnf_rng_uniform(&r) - 1);
    CHECK_OK(nnf_net_observe(n, x, B, 1));
    CHECK_OK(nnf_net_quantize(n, err, sizeof err));
    nnf_pass pi = nnf_net_pass(n, NNF_FWD_INT, B, 0, 1);
    CHECK_OK(nnf_net_forward(n, &pi, x, err, sizeof err));
    int layers = 0;
    for (int i = 0; i < n->nlayers; i++) {
      if (nnf_layer_attn(n->layer[i], NULL, NULL)) continue;
      size_t cnt = (size_t)B * n->t[i + 1].width;
      int8_t *want = malloc(cnt);
      recompute(n, i, want);
      nnf_test_ctx("%s: layer %d", archs[a], i);
      CHECK_MEM_EQ(n->t[i + 1].q, want, cnt);
      int distinct = 0; /* the outputs are not all one value (a test that cannot fail) */
      for (size_t k = 1; k < cnt; k++) distinct += n->t[i + 1].q[k] != n->t[i + 1].q[0];
      CHECK(distinct > 0);
      free(want);
      layers++;
    }
    printf("INT == re-computation through the model's rules: %s (%d layers)\n", archs[a], layers);
    nnf_net_free(n);
  }
}

/* FAKEQUANT against FLOAT and INT; its gradients against the float ones; the
 * checkpoint keeps the int8 model. */
static void test_fakequant(void) {
  char err[512], path[512];
  for (int a = 0; a < 3; a++) {
    int shape[3] = {24, 0, 0};
    nnf_net *n = nnf_arch_build(archs[a], shape, err, sizeof err);
    CHECK(n != NULL);
    nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
    CHECK_OK(nnf_net_init(n, &is, 60 + a));
    uint64_t r = 21 + a;
    static float x[32 * 24], g[B * 3], yf[B * 3], yq[B * 3], *gf[NNF_MAX_NET_PARAMS];
    for (int i = 0; i < 32 * 24; i++) x[i] = (float)(2 * nnf_rng_uniform(&r) - 1);
    for (int i = 0; i < B * 3; i++) g[i] = (float)(2 * nnf_rng_uniform(&r) - 1);
    /* the ranges from 32 sequences, the comparison on 3 of them: few values at the clamps */
    CHECK_OK(nnf_net_observe(n, x, 32, 1));
    CHECK_OK(nnf_net_quantize(n, err, sizeof err));
    nnf_pass pf = nnf_net_pass(n, NNF_FWD_FLOAT, B, 0, 1), pq = nnf_net_pass(n, NNF_FWD_FAKEQUANT, B, 0, 1),
             pi = nnf_net_pass(n, NNF_FWD_INT, B, 0, 1);
    CHECK_OK(nnf_net_forward(n, &pf, x, err, sizeof err));
    memcpy(yf, n->logits, sizeof yf);
    nnf_ref_backward(n, g, B, NULL);
    nnf_param p[NNF_MAX_NET_PARAMS];
    int np = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, NULL);
    for (int j = 0; j < np; j++) {
      gf[j] = malloc(nnf_param_size(&p[j]) * sizeof(float));
      memcpy(gf[j], p[j].grad, nnf_param_size(&p[j]) * sizeof(float));
    }
    CHECK_OK(nnf_net_forward(n, &pq, x, err, sizeof err));
    memcpy(yq, n->logits, sizeof yq);
    int8_t yqi[B * 3];
    memcpy(yqi, n->t[n->nlayers].q, sizeof yqi);
    nnf_ref_backward(n, g, B, NULL);
    double cosine = 1, wf = 0, scale = 0; /* the smallest over the parameter tensors */
    int finite = 1;
    for (int j = 0; j < np; j++) {
      double dot = 0, na = 0, nb = 0;
      for (size_t i = 0; i < nnf_param_size(&p[j]); i++) {
        finite = finite && isfinite(p[j].grad[i]);
        dot += (double)p[j].grad[i] * gf[j][i], na += (double)p[j].grad[i] * p[j].grad[i], nb += (double)gf[j][i] * gf[j][i];
      }
      cosine = fmin(cosine, dot / sqrt(na * nb + 1e-30));
    }
    for (int i = 0; i < B * 3; i++) wf = fmax(wf, fabs(yq[i] - yf[i])), scale = fmax(scale, fabs(yf[i]));
    CHECK_OK(nnf_net_forward(n, &pi, x, err, sizeof err));
    int worst = 0;
    for (int i = 0; i < B * 3; i++) worst = abs(n->t[n->nlayers].q[i] - yqi[i]) > worst ? abs(n->t[n->nlayers].q[i] - yqi[i]) : worst;
    const nnf_qrange *o = &n->t[n->nlayers].r;
    printf("FAKEQUANT %s: vs float %.3f (%.1f steps), vs INT at most %d steps; gradient cosine %.3f\n", archs[a], wf,
           wf / o->scale, worst, cosine);
    nnf_test_ctx("%s: float %.3f of %.3f, INT %d, cosine %.3f", archs[a], wf, scale, worst, cosine);
    CHECK(finite);
    CHECK(wf <= 8 * o->scale);
    CHECK(worst <= 3);
    CHECK(cosine >= 0.98);
    /* the checkpoint keeps the ranges: the same INT outputs after loading */
    int8_t yi[B * 3];
    memcpy(yi, n->t[n->nlayers].q, sizeof yi);
    snprintf(path, sizeof path, "%s/attn_q.safetensors", NNF_TEST_TMP);
    CHECK_OK(nnf_ckpt_save(path, n, NULL, NULL, 0, err, sizeof err));
    nnf_net *m = nnf_ckpt_load(path, err, sizeof err);
    nnf_test_ctx("%s: load: %s", archs[a], err);
    CHECK(m != NULL);
    nnf_pass pm = nnf_net_pass(m, NNF_FWD_INT, B, 0, 1);
    CHECK_OK(nnf_net_forward(m, &pm, x, err, sizeof err));
    CHECK_MEM_EQ(m->t[m->nlayers].q, yi, sizeof yi);
    nnf_net_free(m);
    for (int j = 0; j < np; j++) free(gf[j]);
    nnf_net_free(n);
  }
  /* QAT's first pass on a network never observed: the ranges come from a
   * float pass of the batch, so the encoders' int8 outputs follow the float
   * ones (through default [0, 1] ranges they would be garbage) */
  int shape[3] = {24, 0, 0};
  nnf_net *n = nnf_arch_build(archs[0], shape, err, sizeof err);
  CHECK(n != NULL);
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  CHECK_OK(nnf_net_init(n, &is, 3));
  static float x[B * 24], f4[B * 48];
  uint64_t r = 5;
  for (int i = 0; i < B * 24; i++) x[i] = nnf_rng_uniform(&r); /* in [0, 1]: the input's default range, as pixels */
  nnf_pass pf = nnf_net_pass(n, NNF_FWD_FLOAT, B, 0, 1), pq = nnf_net_pass(n, NNF_FWD_FAKEQUANT, B, 1, 1);
  CHECK_OK(nnf_net_forward(n, &pf, x, err, sizeof err));
  memcpy(f4, n->t[4].f, sizeof f4); /* the second encoder's output */
  CHECK_OK(nnf_net_forward(n, &pq, x, err, sizeof err));
  nnf_qrange *rg;
  CHECK_EQ(nnf_layer_ranges(n->layer[2], &rg), 13);
  double worst = 0;
  for (int i = 0; i < B * 48; i++) worst = fmax(worst, fabs(n->t[4].f[i] - f4[i]));
  nnf_test_ctx("first pass: %.3f, scale %.4f", worst, n->t[4].r.scale);
  CHECK(worst <= 6 * n->t[4].r.scale);
  nnf_net_free(n);
}

/* ---- FAKEQUANT's backward: the fake-quant weights in every input gradient ----------------
 * QAT's backward runs straight through the roundings, but every product that
 * carries a gradient to a Linear part's input uses the weights the forward
 * used, the fake-quant ones (as nnf_linear.c's dense layers do). The float
 * weights there would still train (the gradients stay close, test_fakequant's
 * cosine does not see it), so this checks each Linear part exactly:
 *
 *   - every Linear weight is put 0.45 of its int8 step off the grid (one
 *     entry a row at 127 steps fixes the step), so a float weight and its
 *     fake-quant twin differ by 0.45 steps everywhere;
 *   - the expected gradients come from identities that hold for any cached
 *     forward: a Linear part y = x W^T + b with dx = dy W has db = sum_r dy_r,
 *     dW = dy^T x, and so sum_r dx_r = db W and x^T dx = dW^T W. Where dx is
 *     summed into something observable (a norm's bias gradient is the sum of
 *     its output gradient, a bias gradient the sum of its Linear's), the
 *     parameter gradients the library wrote give the expected value with no
 *     re-computation of the attention's caches:
 *       TokenLinear  dx = dy W_fq and dW = dy^T x (x the dequantized input
 *                    the forward read), directly;
 *       MHA in_proj  x^T dx = dW_in^T W_in,fq and sum_r dx_r = db_in W_in,fq
 *                    (q's rows: the fake-quant W_q / sqrt(dh), times sqrt(dh));
 *       encoder      in_proj:  pre-norm  norm1.bias' = in_proj_bias' W_in,fq
 *                              post-norm sum_r dx_r  = in_proj_bias' W_in,fq + out_proj.bias'
 *                    linear1:  pre-norm  norm2.bias' = linear1.bias' W_1,fq
 *                              post-norm norm1.bias' = linear1.bias' W_1,fq + linear2.bias'
 *                    linear2:  linear1.bias' = linear2.bias' W_2,fq when every ReLU
 *                              passes (linear1's bias is large: checked from the
 *                              ranges and the weights);
 *       out_proj     (MHA and encoder) with W_q = W_k = 0 every attention row is
 *                    the same probability row p (nnfm_softmax of equal logits),
 *                    so in_proj_bias'[v] = sum_t p_t . out_proj.bias' W_out,fq.
 * Two networks: B = 3 sequences of 3 tokens, every weight off the grid; and of
 * 4 tokens with W_q = W_k = 0 (the out_proj checks). Each layer's backward
 * runs from its own random output gradient.
 * The tolerance: the library's values are float32 sums of at most 24
 * products (a row of dy W) added over at most 12 rows, the expected ones
 * the same in double from its float gradients: each within (24 + 12) 2^-24
 * (2.1e-6) of the magnitudes summed on the way, which the rows' cancellation
 * can make a few times the final value's. TOL_FQ = 1e-5 of the largest
 * magnitude (sum |g_o w_oj|) covers that; measured: at most 1.7e-7 (printed).
 * The float weights instead move every checked value by 1.2e-3 to 1e-2 of
 * it (0.45 steps times a gradient), and each check asserts that they would
 * be 10 tolerances off at least (the test can fail). Tried by hand: each of
 * the five weight choices in the backward (TokenLinear, in_proj, out_proj,
 * linear1, linear2) set to the float weights, for every layer kind or only
 * the encoder or only post-norm, in_proj's q rows without sqrt(dh), and
 * in_proj's dW from another tensor: each fails here. */
#define TOL_FQ 1e-5

static nnf_param param_of(nnf_net *n, int layer, const char *name) {
  nnf_param p[NNF_MAX_NET_PARAMS];
  int owner[NNF_MAX_NET_PARAMS], np = nnf_net_params(n, p, NNF_MAX_NET_PARAMS, owner);
  for (int j = 0; j < np; j++)
    if (owner[j] == layer && !strcmp(p[j].name, name)) return p[j];
  nnf_test_ctx("layer %d has no parameter %s", layer, name);
  CHECK(0);
  return p[0];
}

/* rows x cols weights 0.45 of a step off the int8 grid: row o's step s
 * (s0 to 1.5 s0), its entry o % cols at +-127 s (the per-channel scale
 * max|w| / 127 = s), the others (k +- 0.45) s, k in -kmax..kmax. */
static void off_grid(float *w, int rows, int cols, double s0, int kmax, uint64_t *r) {
  for (int o = 0; o < rows; o++) {
    double s = s0 * (1 + 0.5 * nnf_rng_uniform(r));
    for (int i = 0; i < cols; i++) {
      double sign = nnf_rng_uniform(r) < 0.5 ? -1 : 1;
      int k = (int)(nnf_rng_uniform(r) * (2 * kmax + 1)) - kmax;
      w[(size_t)o * cols + i] = (float)(i == o % cols ? 127 * s * sign : (k + 0.45 * sign) * s);
    }
  }
}

static void fill(float *v, size_t cnt, double lo, double hi, uint64_t *r) {
  for (size_t i = 0; i < cnt; i++) v[i] = (float)(lo + (hi - lo) * nnf_rng_uniform(r));
}

/* out[j] = sum_o g[o] w[o][j] (w: rows x cols), and into mag[j] the same of the
 * magnitudes (added). */
static void gw(const float *g, const float *w, int rows, int cols, double *out, double *mag) {
  for (int j = 0; j < cols; j++) {
    double s = 0, m = 0;
    for (int o = 0; o < rows; o++) {
      double t = (double)g[o] * w[(size_t)o * cols + j];
      s += t, m += fabs(t);
    }
    out[j] = s, mag[j] += m;
  }
}

/* in_proj's fake-quant weights (3d x d) as the forward used them: q's rows are
 * W_q / sqrt(dh) quantized, so sqrt(dh) times those. */
static float *inproj_fq(const nnf_attn_int *v, int d, int heads) {
  float *w = malloc((size_t)3 * d * d * sizeof(float));
  for (int g = 0; g < 3; g++)
    for (int i = 0; i < d * d; i++)
      w[(size_t)g * d * d + i] = (float)(v->qp[g]->w_fq[i] * (g ? 1.0 : sqrt((double)(d / heads))));
  return w;
}

/* What the checks measured: the worst error and the float weights' smallest
 * distance, as fractions of the magnitude. */
static struct {
  double worst, alt;
  int checks;
} fq_seen = {0, 1e30, 0};

/* got (cnt) against want: within TOL_FQ of the largest magnitude, and alt (the
 * float weights' value) off by 10 tolerances somewhere. */
static void fq_close(const char *what, const float *got, const double *want, const double *alt, const double *mag,
                     int cnt) {
  double m = 1e-30, e = 0, a = 0;
  for (int j = 0; j < cnt; j++) m = fmax(m, mag[j]);
  for (int j = 0; j < cnt; j++) e = fmax(e, fabs(got[j] - want[j])), a = fmax(a, fabs(got[j] - alt[j]));
  nnf_test_ctx("%s: off by %.3g of the magnitude %.3g (tolerance %g); the float weights' value by %.3g", what, e / m,
               m, TOL_FQ, a / m);
  CHECK(e <= TOL_FQ * m);
  CHECK(a >= 10 * TOL_FQ * m);
  fq_seen.worst = fmax(fq_seen.worst, e / m), fq_seen.alt = fmin(fq_seen.alt, a / m), fq_seen.checks++;
}

/* One network's FAKEQUANT forward on B sequences of T tokens (uniform:
 * W_q = W_k = 0 in every attention); every layer's backward from its own
 * random output gradient; the identities above. */
static void fq_backward_net(int T, int uniform) {
  const char *arch = "embed(8,in=4),mha(8,2),encoder(8,2,ff=12,norm_first=1),encoder(8,4,ff=10)";
  const int D = 8, IN = 4, R = B * T;
  char err[512] = "", what[128];
  int shape[3] = {T * IN, 0, 0};
  nnf_net *n = nnf_arch_build(arch, shape, err, sizeof err);
  nnf_test_ctx("%s: %s", arch, err);
  CHECK(n != NULL);
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  CHECK_OK(nnf_net_init(n, &is, 71 + uniform));
  uint64_t r = 91 + uniform;
  /* the weights off the grid, the biases and norms off their initial values,
   * linear1's bias large (every ReLU passes) */
  nnf_param pw = param_of(n, 0, "weight");
  off_grid(pw.data, D, IN, 0.004, 20, &r);
  fill(param_of(n, 0, "bias").data, D, -0.2, 0.2, &r);
  for (int i = 1; i <= 3; i++) {
    const char *pre = i == 1 ? "" : "self_attn.";
    char nm[64];
    snprintf(nm, sizeof nm, "%sin_proj_weight", pre);
    float *win = param_of(n, i, nm).data;
    off_grid(win, 3 * D, D, 0.003, 20, &r);
    if (uniform) memset(win, 0, (size_t)2 * D * D * sizeof(float));
    snprintf(nm, sizeof nm, "%sin_proj_bias", pre);
    fill(param_of(n, i, nm).data, 3 * D, -0.2, 0.2, &r);
    snprintf(nm, sizeof nm, "%sout_proj.weight", pre);
    off_grid(param_of(n, i, nm).data, D, D, 0.003, 20, &r);
    snprintf(nm, sizeof nm, "%sout_proj.bias", pre);
    fill(param_of(n, i, nm).data, D, -0.2, 0.2, &r);
    if (i == 1) continue;
    int F = i == 2 ? 12 : 10;
    off_grid(param_of(n, i, "linear1.weight").data, F, D, 0.01, 3, &r);
    fill(param_of(n, i, "linear1.bias").data, F, 10, 11, &r);
    off_grid(param_of(n, i, "linear2.weight").data, D, F, 0.006, 20, &r);
    fill(param_of(n, i, "linear2.bias").data, D, -0.2, 0.2, &r);
    fill(param_of(n, i, "norm1.weight").data, D, 0.8, 1.2, &r);
    fill(param_of(n, i, "norm1.bias").data, D, -0.2, 0.2, &r);
    fill(param_of(n, i, "norm2.weight").data, D, 0.8, 1.2, &r);
    fill(param_of(n, i, "norm2.bias").data, D, -0.2, 0.2, &r);
  }
  float *x = malloc((size_t)R * IN * sizeof(float));
  fill(x, (size_t)R * IN, -1, 1, &r);
  CHECK_OK(nnf_net_observe(n, x, B, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  nnf_pass pq = nnf_net_pass(n, NNF_FWD_FAKEQUANT, B, 0, 1);
  CHECK_OK(nnf_net_forward(n, &pq, x, err, sizeof err));
  const size_t RD = (size_t)R * D;
  float *dy = malloc(RD * sizeof(float)), *dx = malloc(RD * sizeof(float));
  double *want = calloc(RD, sizeof(double)), *alt = calloc(RD, sizeof(double)), *mag = calloc(RD, sizeof(double)),
         junk[64]; /* the float weights' magnitudes: unused */
  nnf_attn_int v;

  /* TokenLinear: dx = dy W_fq, dW = dy^T x, x the dequantized input the forward read */
  {
    nnf_layer *l = n->layer[0];
    const nnf_tensor *t0 = &n->t[0];
    CHECK_OK(nnf_layer_attn_int(l, &v));
    fill(dy, RD, -1, 1, &r);
    float *dxe = malloc((size_t)R * IN * sizeof(float));
    l->ops->backward(l, &pq, &n->t[0], &n->t[1], dy, dxe, 0);
    double *w2 = calloc((size_t)R * IN, sizeof(double)), *a2 = calloc((size_t)R * IN, sizeof(double)),
           *m2 = calloc((size_t)R * IN, sizeof(double));
    for (int row = 0; row < R; row++) {
      gw(dy + (size_t)row * D, v.qe->w_fq, D, IN, w2 + (size_t)row * IN, m2 + (size_t)row * IN);
      gw(dy + (size_t)row * D, pw.data, D, IN, a2 + (size_t)row * IN, junk);
    }
    fq_close("TokenLinear dx", dxe, w2, a2, m2, R * IN);
    /* dW: the quantized input, not the float one the caller gave */
    int moved = 0;
    for (int k = 0; k < R * IN; k++) {
      CHECK(t0->f[k] == (float)((t0->q[k] - t0->r.zp) * t0->r.scale));
      moved += t0->f[k] != x[k];
    }
    CHECK(moved > R * IN / 2);
    double ew = 0, aw = 0, mw = 1e-30;
    for (int o = 0; o < D; o++)
      for (int k = 0; k < IN; k++) {
        double s = 0, sf = 0, m = 0;
        for (int row = 0; row < R; row++) {
          double g = dy[(size_t)row * D + o];
          s += g * t0->f[(size_t)row * IN + k], sf += g * x[(size_t)row * IN + k];
          m += fabs(g * t0->f[(size_t)row * IN + k]);
        }
        ew = fmax(ew, fabs(pw.grad[(size_t)o * IN + k] - s)), aw = fmax(aw, fabs(pw.grad[(size_t)o * IN + k] - sf));
        mw = fmax(mw, m);
      }
    nnf_test_ctx("TokenLinear dW: off by %.3g of %.3g; with the float input %.3g", ew / mw, mw, aw / mw);
    CHECK(ew <= TOL_FQ * mw);
    CHECK(aw >= 10 * TOL_FQ * mw);
    fq_seen.worst = fmax(fq_seen.worst, ew / mw), fq_seen.checks++;
    free(dxe), free(w2), free(a2), free(m2);
  }

  for (int i = 1; i <= 3; i++) {
    nnf_layer *l = n->layer[i];
    nnf_attn_kind kind;
    nnf_attn_config c;
    CHECK_OK(nnf_layer_attn(l, &kind, &c));
    CHECK_OK(nnf_layer_attn_int(l, &v));
    const int enc = kind == NNF_ATTN_ENCODER, F = c.ff, nf = enc && c.norm_first;
    const char *pre = enc ? "self_attn." : "";
    char nm[64];
    snprintf(nm, sizeof nm, "%sin_proj_weight", pre);
    nnf_param win = param_of(n, i, nm);
    snprintf(nm, sizeof nm, "%sin_proj_bias", pre);
    nnf_param bin = param_of(n, i, nm);
    snprintf(nm, sizeof nm, "%sout_proj.weight", pre);
    nnf_param wout = param_of(n, i, nm);
    snprintf(nm, sizeof nm, "%sout_proj.bias", pre);
    nnf_param bout = param_of(n, i, nm);
    float *wfq = inproj_fq(&v, D, c.heads);
    const nnf_tensor *xt = &n->t[i];
    fill(dy, RD, -1, 1, &r);
    l->ops->backward(l, &pq, &n->t[i], &n->t[i + 1], dy, dx, 0);
    const char *name = enc ? (nf ? "encoder (pre-norm)" : "encoder (post-norm)") : "MHA";

    /* in_proj: the sum of dx (or of norm1's output gradient) */
    memset(mag, 0, D * sizeof(double));
    gw(bin.grad, wfq, 3 * D, D, want, mag);
    gw(bin.grad, win.data, 3 * D, D, alt, junk);
    float got[64];
    if (nf) memcpy(got, param_of(n, i, "norm1.bias").grad, D * sizeof(float));
    else
      for (int j = 0; j < D; j++) {
        double s = 0;
        for (int row = 0; row < R; row++) s += dx[(size_t)row * D + j];
        got[j] = (float)s;
        if (enc) want[j] += bout.grad[j], alt[j] += bout.grad[j], mag[j] += fabs(bout.grad[j]);
      }
    snprintf(what, sizeof what, "%s in_proj (sum of the input gradient)", name);
    fq_close(what, got, want, alt, mag, D);

    if (!enc) { /* x^T dx = dW_in^T W_in,fq: d x d */
      double W[64], A[64], M[64] = {0};
      float G[64];
      for (int a = 0; a < D; a++)
        for (int b = 0; b < D; b++) {
          double s = 0, sa = 0, m = 0, g = 0;
          for (int o = 0; o < 3 * D; o++) {
            s += (double)win.grad[(size_t)o * D + a] * wfq[(size_t)o * D + b];
            sa += (double)win.grad[(size_t)o * D + a] * win.data[(size_t)o * D + b];
            m += fabs((double)win.grad[(size_t)o * D + a] * wfq[(size_t)o * D + b]);
          }
          for (int row = 0; row < R; row++) g += (double)xt->f[(size_t)row * D + a] * dx[(size_t)row * D + b];
          W[a * D + b] = s, A[a * D + b] = sa, M[a * D + b] = m, G[a * D + b] = (float)g;
        }
      fq_close("MHA in_proj (x^T dx = dW^T W)", G, W, A, M, D * D);
    }

    if (enc) {
      nnf_param w1 = param_of(n, i, "linear1.weight"), b1 = param_of(n, i, "linear1.bias"),
                w2 = param_of(n, i, "linear2.weight"), b2 = param_of(n, i, "linear2.bias");
      /* linear1: norm2's (pre-norm) or norm1's (post-norm, plus linear2.bias') bias gradient */
      memset(mag, 0, D * sizeof(double));
      gw(b1.grad, v.q1->w_fq, F, D, want, mag);
      gw(b1.grad, w1.data, F, D, alt, junk);
      for (int j = 0; !nf && j < D; j++) want[j] += b2.grad[j], alt[j] += b2.grad[j], mag[j] += fabs(b2.grad[j]);
      snprintf(what, sizeof what, "%s linear1", name);
      fq_close(what, param_of(n, i, nf ? "norm2.bias" : "norm1.bias").grad, want, alt, mag, D);
      /* linear2: linear1.bias' = linear2.bias' W_2,fq, every ReLU passing: linear1's
       * smallest output over the inputs its range holds (rg[8], the norm before the
       * feed-forward) above one step of the activation's (rg[10]) */
      const nnf_qrange *in = &v.rg[8], *act = &v.rg[10];
      double vmax = fmax(fabs((-128 - in->zp) * in->scale), fabs((127 - in->zp) * in->scale)), hmin = 1e30;
      for (int f = 0; f < F; f++) {
        double s = v.q1->b_fq[f];
        for (int j = 0; j < D; j++) s -= fabs(v.q1->w_fq[(size_t)f * D + j]) * vmax;
        hmin = fmin(hmin, s);
      }
      nnf_test_ctx("%s: linear1's output down to %g, the ReLU's step %g", name, hmin, act->scale);
      CHECK(hmin > act->scale);
      memset(mag, 0, F * sizeof(double));
      gw(b2.grad, v.q2->w_fq, D, F, want, mag);
      gw(b2.grad, w2.data, D, F, alt, junk);
      snprintf(what, sizeof what, "%s linear2", name);
      fq_close(what, b1.grad, want, alt, mag, F);
    }

    if (uniform) { /* out_proj: in_proj_bias'[v] = sum_t p_t . out_proj.bias' W_out,fq */
      int8_t lg[16] = {0}, p8[16];
      CHECK(T <= 16);
      CHECK_OK(nnfm_softmax(v.smax, lg, T, p8));
      double rho = 0;
      for (int t = 0; t < T; t++) rho += (p8[t] + 128) / 256.0;
      memset(mag, 0, D * sizeof(double));
      gw(bout.grad, v.qo->w_fq, D, D, want, mag);
      gw(bout.grad, wout.data, D, D, alt, junk);
      for (int j = 0; j < D; j++) want[j] *= rho, alt[j] *= rho, mag[j] *= rho;
      snprintf(what, sizeof what, "%s out_proj (uniform attention, rows summing to %g)", name, rho);
      fq_close(what, bin.grad + 2 * D, want, alt, mag, D);
    }
    free(wfq);
  }
  free(x), free(dy), free(dx), free(want), free(alt), free(mag);
  nnf_net_free(n);
}

static void test_fakequant_backward(void) {
  fq_backward_net(3, 0);
  fq_backward_net(4, 1);
  printf("FAKEQUANT backward: %d checks of input (and TokenLinear's weight) gradients against the fake-quant weights: "
         "worst %.2g of the magnitude (tolerance %g); the float weights' values %.2g off at least\n",
         fq_seen.checks, fq_seen.worst, TOL_FQ, fq_seen.alt);
}

/* GELU's tables: every entry is the exact GELU of its input, quantized. */
static void test_gelu_tables(void) {
  char err[512];
  int shape[3] = {24, 0, 0};
  nnf_net *n = nnf_arch_build(archs[1], shape, err, sizeof err), *m = nnf_arch_build(archs[0], shape, err, sizeof err);
  CHECK(n && m);
  static float x[32 * 24];
  uint64_t r = 9;
  for (int i = 0; i < 32 * 24; i++) x[i] = (float)(4 * nnf_rng_uniform(&r) - 2);
  nnf_init_spec is = nnf_init_defaults(NNF_INIT_DEFAULT);
  CHECK_OK(nnf_net_init(n, &is, 1));
  CHECK_OK(nnf_net_init(m, &is, 2));
  CHECK_OK(nnf_net_observe(n, x, 32, 1));
  CHECK_OK(nnf_net_observe(m, x, 32, 1));
  CHECK_OK(nnf_net_quantize(n, err, sizeof err));
  CHECK_OK(nnf_net_quantize(m, err, sizeof err));
  nnf_attn_int v;
  int tables = 0;
  for (int k = 5; k <= 6; k++) { /* gelu, gelu(approx=tanh) */
    CHECK_OK(nnf_layer_attn_int(n->layer[k], &v));
    const nnf_qrange *in = &n->t[k].r, *out = &n->t[k + 1].r;
    for (int q = -128; q < 128; q++) {
      double xv = (q - in->zp) * in->scale;
      double g = k == 5 ? 0.5 * xv * (1 + erf(xv / sqrt(2.0)))
                        : 0.5 * xv * (1 + tanh(sqrt(2 / M_PI) * (xv + 0.044715 * xv * xv * xv)));
      CHECK_EQ(v.lut[(uint8_t)q], nnfm_quantize_real(g, out->scale, out->zp, -128, 127));
    }
    tables++;
  }
  CHECK_OK(nnf_layer_attn_int(m->layer[2], &v)); /* the encoder's linear1 -> GELU (erf) */
  const nnf_qrange *h = &v.rg[9], *a = &v.rg[10];
  for (int q = -128; q < 128; q++) {
    double xv = (q - h->zp) * h->scale;
    CHECK_EQ(v.q1->table[(uint8_t)q], nnfm_quantize_real(0.5 * xv * (1 + erf(xv / sqrt(2.0))), a->scale, a->zp, -128, 127));
  }
  CHECK_EQ(v.q1->lut, 1);
  printf("GELU tables: %d standalone and linear1's equal the exact GELU quantized\n", tables);
  nnf_net_free(n);
  nnf_net_free(m);
}

int main(void) {
  test_int_exact();
  test_fakequant();
  test_gelu_tables();
  test_fakequant_backward();
  return nnf_test_done("test_attn_int");
}
