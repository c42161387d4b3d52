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
  char err[512];
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
  return nnf_test_done("test_attn_int");
}
