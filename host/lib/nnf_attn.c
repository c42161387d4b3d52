/*
 * nnf_attn.c - the attention layers: a Transformer encoder's pieces as
 * PyTorch defines them (torch.nn.LayerNorm, GELU, MultiheadAttention as
 * self-attention, TransformerEncoderLayer with batch_first=True, post-norm
 * and pre-norm), a per-token Linear (the token embedding), a learned
 * positional embedding, a class token, and the pooling of the tokens into
 * one row (see nnf_layer.h, docs/attention.md).
 *
 * A boundary row is one whole sequence, as the recurrent layers have it:
 * PyTorch's (B, T, d) tensor flat and contiguous, width T * d. Every
 * matrix product runs over all B * T tokens at once (CBLAS, through
 * nnf_dense for the Linear parts), and attention per sequence and head on
 * strided slices of the q | k | v projections, as PyTorch 1.13's
 * F.multi_head_attention_forward orders it: q / sqrt(dh), then q k^T,
 * softmax over the keys, times v, heads concatenated, out_proj.
 *
 * The forward keeps what the backward needs (projections, attention
 * weights, LayerNorm statistics, pre-activations) and the backward reuses
 * that cache: one backward per forward, as the training loop runs them.
 * Parameter gradients are written, or added when accumulating.
 *
 * Quantized (docs/attention.md "Integer"): INT runs every layer in int8
 * through the functional model's rules (nnfm_gemm, nnfm_matmul_act,
 * nnfm_softmax, nnfm_layernorm, nnfm_ew, the LUTs: what the device will
 * compute); FAKEQUANT is the same but for the Linear parts, which run in
 * float with the fake-quant weights and quantize their outputs (as
 * nnf_linear.c's), observing every intermediate range on the way. Both keep
 * the dequantized intermediates in the float caches, and the backward passes
 * straight through the roundings.
 *
 * On the device (the compile hooks at the end, docs/attention.md "Device"):
 * a chunk is one sequence, its tokens one GEMM operand of T rows; every
 * part is the instructions whose rules INT runs (GEMM, EW, ROW, ACTW), so
 * the device's outputs equal INT's byte for byte.
 */
#include "nnf_compile.h"
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfm_attn.h"

/* The forward's cache and the backward's scratch, per kind (sizes in
 * attn_sizes). */
enum {
  C_QKV = 0, /* (B, T, 3d)    the projections; q already divided by sqrt(dh) */
  C_P,       /* (B, H, T, T)  the attention weights */
  C_CTX,     /* (B, T, d)     the heads' outputs, concatenated */
  C_U,       /* (B, T, d)     pre-norm: norm1(x), the attention's input */
  C_SA,      /* (B, T, d)     the attention block's output */
  C_R1,      /* (B, T, d)     x + sa: post-norm norm1's input, pre-norm the residual x1 */
  C_X1,      /* (B, T, d)     post-norm: norm1's output; pre-norm: norm2(x1) */
  C_H,       /* (B, T, ff)    linear1's output (the activation's input) */
  C_A,       /* (B, T, ff)    the activation's output */
  C_R2,      /* (B, T, d)     post-norm: x1 + ff, norm2's input */
  C_M1,      /* (B, T) x 2    norm1's (or LayerNorm's) mean and 1/std */
  C_M2,      /* (B, T) x 2    norm2's */
  C_G1,      /* backward scratch: (B, T, d) x 3, (B, T, ff), (B, T, 3d), (T, T) */
  C_G2,
  C_G3,
  C_GF,
  C_GQKV,
  C_GP,
  C_N
};

/* The device plan's addresses (docs/attention.md "Device"). */
enum { DW_IN = 0, DW_OUT, DW_1, DW_2, DW_X, DW_N };             /* W regions */
enum { DP_IN = 0, DP_OUT, DP_1, DP_2, DP_LN0, DP_LN1, DP_LG, DP_CX, DP_N }; /* P entries */
enum { DA_C = 0, DA_U, DA_QKV, DA_LG, DA_CTX, DA_SA, DA_R1, DA_X1, DA_H, DA_F, DA_R2, DA_N }; /* ACT */

typedef struct {
  uint32_t w[DW_N], p[DP_N], a[DA_N];
} attn_dev;

typedef struct {
  nnf_layer base;
  nnf_attn_kind kind;
  nnf_attn_config c;
  int T, Ti;          /* tokens out, tokens in */
  int d, din;         /* token width out, in */
  nnf_dense lin;      /* EMBED */
  float *tab, *dtab;  /* POSEMBED (positions, d); CLSTOKEN (d) */
  float *nw[2], *nb[2], *dnw[2], *dnb[2]; /* LAYERNORM: [0]; ENCODER: norm1, norm2 */
  nnf_dense in_proj, out_proj, lin1, lin2; /* MHA, ENCODER (lin1, lin2: ENCODER) */
  int cap;
  float *buf[C_N];
  /* the int8 forms (quantized modes) */
  nnf_qrange rg[16];  /* the intermediates' ranges (R_*) */
  nnf_qlayer qe, qp[3], qo, q1, q2; /* embed; in_proj's q, k, v; out_proj; linear1, linear2 */
  float *inproj_fq;   /* (3d, d): in_proj's fake-quant weights (the backward's) */
  int32_t smax[256];  /* softmax's exp terms (nnfm_softmax_table) */
  nnfm_matmul_args mm[2]; /* Q K^T and P V: the multipliers and zero points */
  nnfm_layernorm_params ln[2];
  nnfm_ew_params ew[2]; /* the residual adds; posembed's add; clstoken's and clspool's requantization */
  int8_t *tabq;       /* posembed's table, clstoken's token: int8 */
  nnf_qrange tabr;
  int8_t lut[256];    /* GELU */
  int32_t pool_m0;    /* meanpool: s_in / (T s_out) */
  int pool_shift;
  int qcap;
  int8_t *qb[C_N];    /* the int8 twins of the caches */
  attn_dev dv;        /* the device plan's W, P and ACT addresses (attn_plan) */
} attn;

/* The ranges of the intermediates: in_proj's q (already over sqrt(dh)), k, v
 * (symmetric, zero point 0), the logits, the heads' outputs, out_proj's
 * output, the first residual sum, norm1's output (pre-norm), the norm before
 * the feed-forward, linear1's output (GELU: its pre-activation), the
 * activation's output, linear2's output, the second residual sum (post-norm). */
enum { R_Q = 0, R_K, R_V, R_LOGIT, R_CTX, R_SA, R_R1, R_U, R_X1, R_H, R_A, R_F, R_R2, R_N };

static const nnf_layer_ops attn_ops[NNF_ATTN_ENCODER + 1];

static attn *as_attn(const nnf_layer *l) {
  for (int k = 0; k <= NNF_ATTN_ENCODER; k++)
    if (l && l->ops == &attn_ops[k]) return (attn *)l;
  return NULL;
}

static const char *const kind_names[] = {"TokenLinear", "PositionalEmbedding", "ClassToken", "TokenPool", "TokenPool",
                                         "LayerNorm",   "GELU",                "MultiheadAttention", "TransformerEncoderLayer"};

nnf_attn_config nnf_attn_defaults(void) {
  nnf_attn_config c;
  memset(&c, 0, sizeof c);
  c.eps = 1e-5;
  return c;
}

int nnf_layer_attn(const nnf_layer *l, nnf_attn_kind *kind, nnf_attn_config *c) {
  const attn *A = as_attn(l);
  if (!A) return -1;
  if (kind) *kind = A->kind;
  if (c) *c = A->c;
  return 0;
}

/* ---- the float kernels ------------------------------------------------------------------
 * LayerNorm over rows of D: y = (x - mean) / sqrt(var + eps) * w + b (biased
 * variance, as torch's; the statistics in double). mr: (rows) x 2 (mean, rstd). */
static void ln_forward(const float *x, const float *w, const float *b, float *y, float *mr, size_t rows, int D,
                       double eps) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * D;
    float *yr = y + r * D;
    double s = 0, q = 0;
    for (int j = 0; j < D; j++) s += xr[j];
    double mean = s / D;
    for (int j = 0; j < D; j++) q += (xr[j] - mean) * (xr[j] - mean);
    float m = (float)mean, rstd = (float)(1.0 / sqrt(q / D + eps));
    for (int j = 0; j < D; j++) yr[j] = (xr[j] - m) * rstd * w[j] + b[j];
    mr[2 * r] = m, mr[2 * r + 1] = rstd;
  }
}

/* dy (rows, D) -> dx (rows, D) written, dw and db written or added:
 *   xhat = (x - mean) rstd, g = dy w,
 *   dx = rstd (g - mean(g) - xhat mean(g xhat)), dw = sum dy xhat, db = sum dy */
static void ln_backward(const float *x, const float *w, const float *mr, const float *dy, float *dx, float *dw,
                        float *db, size_t rows, int D, int accumulate) {
  if (!accumulate) memset(dw, 0, (size_t)D * sizeof(float)), memset(db, 0, (size_t)D * sizeof(float));
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * D, *gr = dy + r * D;
    float m = mr[2 * r], rstd = mr[2 * r + 1];
    double sg = 0, sgx = 0;
    for (int j = 0; j < D; j++) {
      float xh = (xr[j] - m) * rstd, g = gr[j] * w[j];
      sg += g, sgx += (double)g * xh;
      dw[j] += gr[j] * xh;
      db[j] += gr[j];
    }
    if (!dx) continue;
    float mg = (float)(sg / D), mgx = (float)(sgx / D);
    for (int j = 0; j < D; j++) {
      float xh = (xr[j] - m) * rstd;
      dx[r * D + j] = rstd * (gr[j] * w[j] - mg - xh * mgx);
    }
  }
}

/* GELU: x Phi(x), Phi by erf, or tanh's approximation
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); their derivatives. */
#define GELU_K 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_C 0.044715f

static void gelu_forward(const float *x, float *y, size_t n, int tanh_approx) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    y[i] = tanh_approx ? 0.5f * v * (1.0f + tanhf(GELU_K * (v + GELU_C * v * v * v)))
                       : 0.5f * v * (1.0f + erff(v * (float)M_SQRT1_2));
  }
}

static void gelu_backward(const float *x, const float *dy, float *dx, size_t n, int tanh_approx) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i], d;
    if (tanh_approx) {
      float t = tanhf(GELU_K * (v + GELU_C * v * v * v));
      d = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * GELU_C * v * v);
    } else {
      d = 0.5f * (1.0f + erff(v * (float)M_SQRT1_2)) + v * expf(-0.5f * v * v) * 0.3989422804014327f;
    }
    dx[i] = dy[i] * d;
  }
}

/* Self-attention, d = E features, H heads of dh = E / H:
 * u: (B, T, E) -> qkv: (B, T, 3E) = u W_in^T + b_in, q /= sqrt(dh);
 * per sequence b and head h: P = softmax(q_h k_h^T): (T, T), ctx_h = P v_h: (T, dh);
 * out: (B, T, E) = ctx W_out^T + b_out; lmm (non-NULL): the logits' min and max folded in */
static void mha_forward(attn *A, const float *u, float *out, int B, float *lmm) {
  const int T = A->T, E = A->d, H = A->c.heads, dh = E / H, R = B * T;
  float *qkv = A->buf[C_QKV], *P = A->buf[C_P], *ctx = A->buf[C_CTX];
  nnf_dense_forward(&A->in_proj, NULL, u, qkv, R);
  const float sq = sqrtf((float)dh);
  for (int r = 0; r < R; r++)
    for (int j = 0; j < E; j++) qkv[(size_t)r * 3 * E + j] /= sq;
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      const float *q = qkv + (size_t)b * T * 3 * E + h * dh, *k = q + E, *v = q + 2 * E;
      float *p = P + ((size_t)b * H + h) * T * T;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.0f, q, 3 * E, k, 3 * E, 0.0f, p, T);
      for (size_t i = 0; lmm && i < (size_t)T * T; i++) lmm[0] = fminf(lmm[0], p[i]), lmm[1] = fmaxf(lmm[1], p[i]);
      nnf_softmax_forward(p, p, T, T);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, p, T, v, 3 * E, 0.0f,
                  ctx + (size_t)b * T * E + h * dh, E);
    }
  nnf_dense_forward(&A->out_proj, NULL, ctx, out, R);
}

/* dout: (B, T, E) -> dctx (out_proj's backward, into C_G3), per sequence and head
 * dP = dctx_h v_h^T, dv_h = P^T dctx_h, dS = softmax'(dP), dq_h = dS k_h / sqrt(dh),
 * dk_h = dS q_h (q scaled); then du: (B, T, E) = dqkv W_in (written; NULL: none) */
static void mha_backward(attn *A, const float *u, const float *dout, float *du, int B, int accumulate, int quant) {
  const int T = A->T, E = A->d, H = A->c.heads, dh = E / H, R = B * T;
  const float *qkv = A->buf[C_QKV], *P = A->buf[C_P];
  float *dctx = A->buf[C_G3], *dqkv = A->buf[C_GQKV], *dP = A->buf[C_GP];
  nnf_dense_backward(&A->out_proj, quant ? A->qo.w_fq : NULL, A->buf[C_CTX], dout, dctx, R, accumulate);
  const float sq = sqrtf((float)dh);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      size_t o = (size_t)b * T * 3 * E + h * dh;
      const float *q = qkv + o, *k = q + E, *v = q + 2 * E, *p = P + ((size_t)b * H + h) * T * T;
      const float *dc = dctx + (size_t)b * T * E + h * dh;
      float *dq = dqkv + o, *dk = dq + E, *dv = dq + 2 * E;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.0f, dc, E, v, 3 * E, 0.0f, dP, T);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, p, T, dc, E, 0.0f, dv, 3 * E);
      nnf_softmax_backward(p, dP, dP, T, T);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, dP, T, k, 3 * E, 0.0f, dq, 3 * E);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f, dP, T, q, 3 * E, 0.0f, dk, 3 * E);
      for (int t = 0; t < T; t++)
        for (int j = 0; j < dh; j++) dq[(size_t)t * 3 * E + j] /= sq;
    }
  nnf_dense_backward(&A->in_proj, quant ? A->inproj_fq : NULL, u, dqkv, du, R, accumulate);
}

static void add_to(float *y, const float *a, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += a[i];
}

static void sum_of(float *y, const float *a, const float *b, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

/* The feed-forward block: v: (B, T, d) -> h = linear1(v): (B, T, ff), a = act(h),
 * out = linear2(a): (B, T, d) */
static void ff_forward(attn *A, const float *v, float *out, int R) {
  float *h = A->buf[C_H], *a = A->buf[C_A];
  size_t n = (size_t)R * A->c.ff;
  nnf_dense_forward(&A->lin1, NULL, v, h, R);
  if (A->c.gelu) gelu_forward(h, a, n, 0);
  else nnf_act_forward(NNF_ACT_RELU, h, a, n);
  nnf_dense_forward(&A->lin2, NULL, a, out, R);
}

/* dout: (B, T, d) -> dv: (B, T, d) written (linear2, the activation, linear1) */
static void ff_backward(attn *A, const float *v, const float *dout, float *dv, int R, int accumulate, int quant) {
  float *h = A->buf[C_H], *a = A->buf[C_A], *da = A->buf[C_GF];
  size_t n = (size_t)R * A->c.ff;
  nnf_dense_backward(&A->lin2, quant ? A->q2.w_fq : NULL, a, dout, da, R, accumulate);
  if (A->c.gelu) gelu_backward(h, da, da, n, 0);
  else nnf_act_backward(NNF_ACT_RELU, h, a, da, da, n);
  nnf_dense_backward(&A->lin1, quant ? A->q1.w_fq : NULL, v, da, dv, R, accumulate);
}

/* TransformerEncoderLayer, x: (B, T, d) -> y: (B, T, d):
 *   post-norm  x1 = norm1(x + sa(x)),   y = norm2(x1 + ff(x1))
 *   pre-norm   x1 = x + sa(norm1(x)),   y = x1 + ff(norm2(x1)) */
static void enc_forward(attn *A, const float *x, float *y, int B, float *lmm) {
  const int R = B * A->T, D = A->d;
  const size_t n = (size_t)R * D;
  float **c = A->buf;
  if (!A->c.norm_first) {
    mha_forward(A, x, c[C_SA], B, lmm);
    sum_of(c[C_R1], x, c[C_SA], n);
    ln_forward(c[C_R1], A->nw[0], A->nb[0], c[C_X1], c[C_M1], R, D, A->c.eps);
    ff_forward(A, c[C_X1], c[C_G1], R);
    sum_of(c[C_R2], c[C_X1], c[C_G1], n);
    ln_forward(c[C_R2], A->nw[1], A->nb[1], y, c[C_M2], R, D, A->c.eps);
    return;
  }
  ln_forward(x, A->nw[0], A->nb[0], c[C_U], c[C_M1], R, D, A->c.eps);
  mha_forward(A, c[C_U], c[C_SA], B, lmm);
  sum_of(c[C_R1], x, c[C_SA], n);
  ln_forward(c[C_R1], A->nw[1], A->nb[1], c[C_X1], c[C_M2], R, D, A->c.eps);
  ff_forward(A, c[C_X1], c[C_G1], R);
  sum_of(y, c[C_R1], c[C_G1], n);
}

/* dy: (B, T, d) -> dx: (B, T, d) (NULL: the first layer) and every parameter's gradient */
static void enc_backward(attn *A, const float *x, const float *dy, float *dx, int B, int acc, int quant) {
  const int R = B * A->T, D = A->d;
  const size_t n = (size_t)R * D;
  float **c = A->buf, *g1 = c[C_G1], *g2 = c[C_G2];
  if (!A->c.norm_first) {
    ln_backward(c[C_R2], A->nw[1], c[C_M2], dy, g1, A->dnw[1], A->dnb[1], R, D, acc); /* d(x1 + ff) */
    ff_backward(A, c[C_X1], g1, g2, R, acc, quant);
    add_to(g2, g1, n);                                                                 /* d x1 */
    ln_backward(c[C_R1], A->nw[0], c[C_M1], g2, g1, A->dnw[0], A->dnb[0], R, D, acc); /* d(x + sa) */
    mha_backward(A, x, g1, dx, B, acc, quant);
    if (dx) add_to(dx, g1, n);
    return;
  }
  ff_backward(A, c[C_X1], dy, g2, R, acc, quant);
  ln_backward(c[C_R1], A->nw[1], c[C_M2], g2, g1, A->dnw[1], A->dnb[1], R, D, acc);
  add_to(g1, dy, n);                                                                   /* d x1 */
  mha_backward(A, c[C_U], g1, g2, B, acc, quant);
  ln_backward(x, A->nw[0], c[C_M1], g2, dx, A->dnw[0], A->dnb[0], R, D, acc);
  if (dx) add_to(dx, g1, n);
}

/* ---- the layer ------------------------------------------------------------------------- */

static void attn_describe(const nnf_layer *l, char *buf, size_t len) {
  const attn *A = (const attn *)l;
  const nnf_attn_config *c = &A->c;
  switch (A->kind) {
    case NNF_ATTN_EMBED: snprintf(buf, len, "TokenLinear(%d,%d)", c->in, c->d); break;
    case NNF_ATTN_POSEMBED: snprintf(buf, len, "PositionalEmbedding(%d,%d)", c->positions, c->d); break;
    case NNF_ATTN_CLSTOKEN: snprintf(buf, len, "ClassToken(%d)", c->d); break;
    case NNF_ATTN_MEANPOOL: snprintf(buf, len, "TokenPool(%d,mode='mean')", c->d); break;
    case NNF_ATTN_CLSPOOL: snprintf(buf, len, "TokenPool(%d,mode='cls')", c->d); break;
    case NNF_ATTN_LAYERNORM: snprintf(buf, len, "LayerNorm(%d,eps=%.9g)", c->d, c->eps); break;
    case NNF_ATTN_GELU: snprintf(buf, len, c->tanh_approx ? "GELU(approximate='tanh')" : "GELU"); break;
    case NNF_ATTN_MHA: snprintf(buf, len, "MultiheadAttention(%d,%d,batch_first=True)", c->d, c->heads); break;
    case NNF_ATTN_ENCODER:
      snprintf(buf, len,
               "TransformerEncoderLayer(%d,%d,dim_feedforward=%d,dropout=0.0,activation='%s',layer_norm_eps=%.9g,"
               "batch_first=True,norm_first=%s)",
               c->d, c->heads, c->ff, c->gelu ? "gelu" : "relu", c->eps, c->norm_first ? "True" : "False");
      break;
  }
}

/* "layer N (Entry): " before a message about layer l. */
static int fail_layer(const nnf_layer *l, char *err, size_t errlen, const char *what) {
  char d[256];
  attn_describe(l, d, sizeof d);
  return nnf_fail(err, errlen, "layer %d (%s): %s", l->index, d, what);
}

#define NO_DEVICE "its device forward is the device's (nnf_device_forward reads its outputs back)"

/* The token width of l's input from the layers before it (0: none): a token
 * layer's d, a recurrent layer's hidden size with seq=1, a map's W;
 * activations and Dropout pass it on. */
static int context_width(const nnf_layer *l) {
  if (l->imap) return l->iw;
  for (int j = l->index - 1; j >= 0; j--) {
    const nnf_layer *p = l->net->layer[j];
    const attn *P = as_attn(p);
    int h, seq;
    if (P) return P->kind == NNF_ATTN_MEANPOOL || P->kind == NNF_ATTN_CLSPOOL ? 0 : P->d;
    if (!nnf_layer_rnn(p, NULL, &h, NULL, &seq)) return seq ? h : 0;
    if (nnf_layer_act(p) < 0 && nnf_layer_dropout_p(p) < 0) return 0;
  }
  return 0;
}

static float *zalloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static int attn_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  attn *A = (attn *)l;
  nnf_attn_config *c = &A->c;
  char m[256];
  if (*steps > 1) {
    snprintf(m, sizeof m, "takes rows of whole sequences, not a spiking network's %d time steps", *steps);
    return fail_layer(l, err, errlen, m);
  }
  int ctx = context_width(l), given = A->kind == NNF_ATTN_EMBED ? c->in : c->d;
  int elementwise = A->kind == NNF_ATTN_GELU || A->kind == NNF_ATTN_LAYERNORM;
  if (given && ctx && given != ctx) {
    snprintf(m, sizeof m, "its input is tokens of %d features, not %d", ctx, given);
    return fail_layer(l, err, errlen, m);
  }
  int w = given ? given : ctx ? ctx : elementwise ? in : 0;
  if (!w) {
    snprintf(m, sizeof m, "needs %s (the features of one token) for flat rows of %d features",
             A->kind == NNF_ATTN_EMBED ? "in=" : "d=", in);
    return fail_layer(l, err, errlen, m);
  }
  if (in % w) {
    snprintf(m, sizeof m, "its input rows of %d features are not whole tokens of %d features", in, w);
    return fail_layer(l, err, errlen, m);
  }
  A->din = w;
  A->Ti = A->T = in / w;
  if (A->kind == NNF_ATTN_EMBED) c->in = w;
  else A->d = c->d = w;
  if (A->kind == NNF_ATTN_EMBED) A->d = c->d;
  if (A->kind == NNF_ATTN_POSEMBED && A->Ti > c->positions) {
    snprintf(m, sizeof m, "%d tokens, more than its table's %d positions", A->Ti, c->positions);
    return fail_layer(l, err, errlen, m);
  }
  if (A->kind == NNF_ATTN_CLSTOKEN) A->T = A->Ti + 1;
  if (A->kind == NNF_ATTN_MEANPOOL || A->kind == NNF_ATTN_CLSPOOL) A->T = 1;
  const double D = A->d, F = c->ff;
  if ((double)A->T * D > 65535.0 * 256 || D * (D * 4 + 2 * F) > (double)(1 << 27) || (double)A->T * A->T > 1 << 24) {
    snprintf(m, sizeof m, "%d tokens of %d features are too many", A->T, A->d);
    return fail_layer(l, err, errlen, m);
  }
  int ok = 1;
  switch (A->kind) {
    case NNF_ATTN_EMBED: ok = !nnf_dense_init(&A->lin, c->in, c->d) && !nnf_qlayer_alloc(&A->qe, c->in, c->d); break;
    case NNF_ATTN_POSEMBED:
    case NNF_ATTN_CLSTOKEN: {
      size_t n = (size_t)(A->kind == NNF_ATTN_POSEMBED ? c->positions : 1) * A->d;
      ok = (A->tab = zalloc(n)) && (A->dtab = zalloc(n)) && (A->tabq = calloc(n, 1));
      break;
    }
    case NNF_ATTN_ENCODER:
      ok = !nnf_dense_init(&A->lin1, A->d, c->ff) && !nnf_dense_init(&A->lin2, c->ff, A->d) &&
           !nnf_qlayer_alloc(&A->q1, A->d, c->ff) && !nnf_qlayer_alloc(&A->q2, c->ff, A->d);
      /* fall through - the attention and the norms */
    case NNF_ATTN_MHA:
      ok = ok && !nnf_dense_init(&A->in_proj, A->d, 3 * A->d) && !nnf_dense_init(&A->out_proj, A->d, A->d) &&
           !nnf_qlayer_alloc(&A->qp[0], A->d, A->d) && !nnf_qlayer_alloc(&A->qp[1], A->d, A->d) &&
           !nnf_qlayer_alloc(&A->qp[2], A->d, A->d) && !nnf_qlayer_alloc(&A->qo, A->d, A->d) &&
           (A->inproj_fq = zalloc((size_t)3 * A->d * A->d));
      if (A->kind == NNF_ATTN_MHA) break;
      /* fall through */
    case NNF_ATTN_LAYERNORM:
      for (int k = 0; k < (A->kind == NNF_ATTN_ENCODER ? 2 : 1) && ok; k++) {
        ok = (A->nw[k] = zalloc(A->d)) && (A->nb[k] = zalloc(A->d)) && (A->dnw[k] = zalloc(A->d)) &&
             (A->dnb[k] = zalloc(A->d)) && (A->ln[k].m0 = calloc((size_t)A->d, sizeof(int32_t))) &&
             (A->ln[k].shift = calloc((size_t)A->d, 1)) && (A->ln[k].sign = calloc((size_t)A->d, 1)) &&
             (A->ln[k].bias = calloc((size_t)A->d, sizeof(int32_t)));
        for (int j = 0; ok && j < A->d; j++) A->nw[k][j] = 1.0f; /* torch's init */
      }
      break;
    default: break;
  }
  if (!ok) return fail_layer(l, err, errlen, "out of memory");
  *out = A->T * A->d;
  if (!elementwise) l->oc = *out, l->oh = l->ow = 1, l->omap = 0;
  return 0;
}

/* The cache's sizes (floats) for B sequences. */
static void attn_sizes(const attn *A, size_t B, size_t *s) {
  const size_t T = (size_t)A->T, D = (size_t)A->d, R = B * T, F = (size_t)A->c.ff;
  memset(s, 0, C_N * sizeof *s);
  switch (A->kind) {
    case NNF_ATTN_LAYERNORM: s[C_M1] = 2 * R; break;
    case NNF_ATTN_ENCODER:
      s[C_U] = s[C_SA] = s[C_R1] = s[C_X1] = s[C_R2] = R * D;
      s[C_H] = s[C_A] = s[C_GF] = R * F;
      s[C_M1] = s[C_M2] = 2 * R;
      s[C_G1] = s[C_G2] = R * D;
      /* fall through */
    case NNF_ATTN_MHA:
      s[C_QKV] = s[C_GQKV] = 3 * R * D;
      s[C_P] = B * (size_t)A->c.heads * T * T;
      s[C_CTX] = s[C_G3] = R * D;
      s[C_GP] = T * T;
      break;
    default: break;
  }
}

static void free_cache(attn *A) {
  for (int k = 0; k < C_N; k++) free(A->buf[k]), free(A->qb[k]), A->buf[k] = NULL, A->qb[k] = NULL;
  A->cap = A->qcap = 0;
}

/* The caches for B sequences, with their int8 twins for a quantized pass. */
static int reserve(attn *A, int B, int quant) {
  if (B <= A->cap && (!quant || B <= A->qcap)) return 0;
  free_cache(A);
  size_t s[C_N];
  attn_sizes(A, (size_t)B, s);
  for (int k = 0; k < C_N; k++)
    if (s[k] && (!(A->buf[k] = malloc(s[k] * sizeof(float))) || (quant && !(A->qb[k] = malloc(s[k]))))) {
      free_cache(A);
      return -1;
    }
  A->cap = B;
  A->qcap = quant ? B : 0;
  return 0;
}

/* ---- the int8 forms (docs/attention.md "Integer") -------------------------------------------
 * Every intermediate is an int8 tensor with its own quantization (rg[R_*]
 * or a boundary's): the Linear parts are the dense layers' int8 GEMMs
 * (per-channel weights, the input zero point in the bias), in_proj's q part
 * quantized from W_q / sqrt(dh); the logits Q K^T and the context P V are
 * products of two activations (nnfm_matmul_act; Q, K, V symmetric), the
 * softmax is TFLite's (nnfm_softmax: probabilities at 1/256, zero point
 * -128), LayerNorm the model's (nnfm_layernorm), the residual adds TFLite's
 * ADD (nnfm_ew), GELU a LUT fused into linear1 (exact for its int8 input). */

#define S_PROB (1.0 / 256.0)
#define Z_PROB (-128)

static const int n_ranges[NNF_ATTN_ENCODER + 1] = {0, 0, 0, 0, 0, 0, 0, R_SA, R_N};

/* Q, K and V: symmetric (the array's stationary operand has no zero point). */
static void sym_params(nnf_qrange *q) {
  double a = fmax(fabs((double)q->lo), fabs((double)q->hi));
  if (!q->seen || a < 1e-8) a = 1.0;
  q->scale = a / 127.0;
  q->zp = 0;
}

static void quantize_to(const float *f, size_t n, const nnf_qrange *r, int8_t *q) {
  for (size_t i = 0; i < n; i++) q[i] = (int8_t)nnfm_quantize_real(f[i], r->scale, r->zp, -128, 127);
}

/* A Linear part over R rows: x8 (R, K) (xf its dequantized floats) -> y8 (R, N)
 * requantized to pre (with a LUT: the table's input; relu: clamped at pre's
 * zero point). INT: the model's GEMM. FAKEQUANT: z = xf w_fq^T + b_fq in float
 * into zf (R, N), observed into pre when observing, quantized. */
static void q_linear(const nnf_pass *p, const nnf_qlayer *Q, nnf_qrange *pre, int relu, const int8_t *x8,
                     const float *xf, int R, int K, int N, int8_t *y8, float *zf, float momentum) {
  if (p->mode == NNF_FWD_INT) {
    nnfm_gemm_args g = {R, K, N, Q->zp, Q->lo, Q->hi, Q->lut ? Q->table : NULL, Q->round};
    nnfm_gemm(&g, x8, Q->w_kn, Q->bias, Q->m0, Q->shift, y8); /* parameters checked when quantized */
    return;
  }
  for (int r = 0; r < R; r++) memcpy(zf + (size_t)r * N, Q->b_fq, (size_t)N * sizeof(float));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, N, K, 1.0f, xf, K, Q->w_fq, K, 1.0f, zf, N);
  size_t n = (size_t)R * N;
  if (relu) nnf_act_forward(NNF_ACT_RELU, zf, zf, n);
  if (p->observe) nnf_qrange_observe(pre, zf, n, momentum);
  for (size_t i = 0; i < n; i++) {
    int32_t q = nnfm_quantize_real(zf[i], pre->scale, pre->zp, Q->lut ? -128 : Q->lo, Q->lut ? 127 : Q->hi);
    y8[i] = Q->lut ? Q->table[(uint8_t)q] : (int8_t)q;
  }
}

/* LayerNorm k over R tokens: x8 at zp_in (xf dequantized) -> o8 at o (of dequantized);
 * the float statistics of xf into mr (the backward's), its float output observed
 * into o in FAKEQUANT. */
static void q_layernorm(attn *A, const nnf_pass *p, int k, const int8_t *x8, const float *xf, int32_t zp_in, int R,
                        nnf_qrange *o, int8_t *o8, float *of, float *mr, float momentum) {
  const int D = A->d;
  ln_forward(xf, A->nw[k], A->nb[k], of, mr, (size_t)R, D, A->c.eps);
  if (p->mode == NNF_FWD_FAKEQUANT && p->observe) nnf_qrange_observe(o, of, (size_t)R * D, momentum);
  for (int r = 0; r < R; r++) nnfm_layernorm(&A->ln[k], x8 + (size_t)r * D, zp_in, o8 + (size_t)r * D);
  nnf_qrange_dequantize(o, o8, of, (size_t)R * D);
}

/* An elementwise op e over n values: a8 (af) and b8 (bf; NULL: MAP) -> o8 at o (of);
 * FAKEQUANT observes the float sum (or a's value) into o. */
static void q_ew(const nnf_pass *p, const nnfm_ew_params *e, const int8_t *a8, const float *af, const int8_t *b8,
                 const float *bf, size_t n, nnf_qrange *o, int8_t *o8, float *of, float momentum) {
  if (p->mode == NNF_FWD_FAKEQUANT && p->observe) {
    for (size_t i = 0; i < n; i++) of[i] = af[i] + (bf ? bf[i] : 0.0f);
    nnf_qrange_observe(o, of, n, momentum);
  }
  for (size_t i = 0; i < n; i++) o8[i] = nnfm_ew(e, a8[i], b8 ? b8[i] : 0, NULL);
  nnf_qrange_dequantize(o, o8, of, n);
}

/* Self-attention on int8 tokens u8 (B, T, E) (uf dequantized) -> o8 (B, T, E) at
 * o (of dequantized); Q | K | V, the probabilities and the context in the
 * caches' int8 twins, dequantized in the caches (the float layout). */
static void mha_quant(attn *A, const nnf_pass *p, const int8_t *u8, const float *uf, int B, nnf_qrange *o, int8_t *o8,
                      float *of, float m) {
  const int T = A->T, E = A->d, H = A->c.heads, dh = E / H, R = B * T;
  const size_t RE = (size_t)R * E;
  int8_t *q8 = A->qb[C_QKV], *p8 = A->qb[C_P], *c8 = A->qb[C_CTX], *l8 = A->qb[C_GP];
  float *qkv = A->buf[C_QKV], *P = A->buf[C_P], *ctx = A->buf[C_CTX], *z = A->buf[C_GQKV];
  for (int g = 0; g < 3; g++) { /* q, k, v: (R, E) each, dequantized into qkv's (R, 3E) layout */
    nnf_qrange *r = &A->rg[R_Q + g];
    q_linear(p, &A->qp[g], r, 0, u8, uf, R, E, E, q8 + g * RE, z, m);
    for (size_t i = 0; i < RE; i++) qkv[i / E * 3 * E + g * E + i % E] = (float)((q8[g * RE + i] - r->zp) * r->scale);
  }
  int obs = p->mode == NNF_FWD_FAKEQUANT && p->observe;
  if (obs) { /* the float logits and context of the dequantized q, k, v, observed */
    float lmm[2] = {INFINITY, -INFINITY};
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++) {
        const float *q = qkv + (size_t)b * T * 3 * E + h * dh;
        float *lg = z; /* (T, T) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.0f, q, 3 * E, q + E, 3 * E, 0.0f, lg, T);
        for (size_t i = 0; i < (size_t)T * T; i++) lmm[0] = fminf(lmm[0], lg[i]), lmm[1] = fmaxf(lmm[1], lg[i]);
        nnf_softmax_forward(lg, lg, T, T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, lg, T, q + 2 * E, 3 * E, 0.0f,
                    ctx + (size_t)b * T * E + h * dh, E);
      }
    nnf_qrange_observe(&A->rg[R_LOGIT], lmm, 2, m);
    nnf_qrange_observe(&A->rg[R_CTX], ctx, RE, m);
  }
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++) {
      const size_t at = (size_t)b * T * E + h * dh;
      int8_t *pb = p8 + ((size_t)b * H + h) * T * T;
      nnfm_matmul_args lg = A->mm[0], cx = A->mm[1];
      lg.M = T, lg.K = dh, lg.N = T, cx.M = T, cx.K = T, cx.N = dh;
      nnfm_matmul_act(&lg, q8 + at, E, q8 + RE + at, 1, E, l8, T); /* Q K^T: K read transposed */
      for (int t = 0; t < T; t++) nnfm_softmax(A->smax, l8 + (size_t)t * T, T, pb + (size_t)t * T);
      nnfm_matmul_act(&cx, pb, T, q8 + 2 * RE + at, E, 1, c8 + at, E); /* P V */
    }
  nnf_qrange prob = {0};
  nnf_qrange_fix(&prob, S_PROB, Z_PROB);
  nnf_qrange_dequantize(&prob, p8, P, (size_t)B * H * T * T);
  nnf_qrange_dequantize(&A->rg[R_CTX], c8, ctx, RE);
  q_linear(p, &A->qo, o, 0, c8, ctx, R, E, E, o8, of, m);
  nnf_qrange_dequantize(o, o8, of, RE);
}

/* The feed-forward block on x1 (R, d) -> f8 at R_F (ff dequantized). */
static void ff_quant(attn *A, const nnf_pass *p, const int8_t *x8, const float *xf, int R, int8_t *f8, float *ff,
                     float m) {
  const int D = A->d, F = A->c.ff;
  float *h = A->buf[C_H], *a = A->buf[C_A];
  int8_t *a8 = A->qb[C_A];
  q_linear(p, &A->q1, &A->rg[A->c.gelu ? R_H : R_A], !A->c.gelu, x8, xf, R, D, F, a8, h, m);
  nnf_qrange_dequantize(&A->rg[R_A], a8, a, (size_t)R * F);
  if (!A->c.gelu) memcpy(h, a, (size_t)R * F * sizeof(float)); /* ReLU's backward: a > 0 */
  q_linear(p, &A->q2, &A->rg[R_F], 0, a8, a, R, F, D, f8, ff, m);
  nnf_qrange_dequantize(&A->rg[R_F], f8, ff, (size_t)R * D);
}

/* The encoder layer (enc_forward's two orders) on int8 tokens. */
static void enc_quant(attn *A, const nnf_pass *p, const nnf_tensor *x, nnf_tensor *y, int B, float m) {
  const int R = B * A->T;
  const size_t n = (size_t)R * A->d;
  float **c = A->buf;
  int8_t **q = A->qb;
  nnf_qrange *rg = A->rg;
  if (A->c.norm_first) {
    q_layernorm(A, p, 0, x->q, x->f, x->r.zp, R, &rg[R_U], q[C_U], c[C_U], c[C_M1], m);
    mha_quant(A, p, q[C_U], c[C_U], B, &rg[R_SA], q[C_SA], c[C_SA], m);
    q_ew(p, &A->ew[0], x->q, x->f, q[C_SA], c[C_SA], n, &rg[R_R1], q[C_R1], c[C_R1], m);
    q_layernorm(A, p, 1, q[C_R1], c[C_R1], rg[R_R1].zp, R, &rg[R_X1], q[C_X1], c[C_X1], c[C_M2], m);
    ff_quant(A, p, q[C_X1], c[C_X1], R, q[C_G1], c[C_G1], m);
    q_ew(p, &A->ew[1], q[C_R1], c[C_R1], q[C_G1], c[C_G1], n, &y->r, y->q, y->f, m);
    return;
  }
  mha_quant(A, p, x->q, x->f, B, &rg[R_SA], q[C_SA], c[C_SA], m);
  q_ew(p, &A->ew[0], x->q, x->f, q[C_SA], c[C_SA], n, &rg[R_R1], q[C_R1], c[C_R1], m);
  q_layernorm(A, p, 0, q[C_R1], c[C_R1], rg[R_R1].zp, R, &rg[R_X1], q[C_X1], c[C_X1], c[C_M1], m);
  ff_quant(A, p, q[C_X1], c[C_X1], R, q[C_G1], c[C_G1], m);
  q_ew(p, &A->ew[1], q[C_X1], c[C_X1], q[C_G1], c[C_G1], n, &rg[R_R2], q[C_R2], c[C_R2], m);
  q_layernorm(A, p, 1, q[C_R2], c[C_R2], rg[R_R2].zp, R, &y->r, y->q, y->f, c[C_M2], m);
}

static double gelu_ref(double v) { return 0.5 * v * (1.0 + erf(v * M_SQRT1_2)); }
static double gelu_tanh_ref(double v) { return 0.5 * v * (1.0 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))); }

/* The LUT of GELU from in's int8 values to out's. */
static void gelu_lut(int8_t *t, const nnf_qrange *in, const nnf_qrange *out, int tanh_approx) {
  for (int v = -128; v < 128; v++) {
    double xv = (v - in->zp) * in->scale;
    t[(uint8_t)v] = (int8_t)nnfm_quantize_real(tanh_approx ? gelu_tanh_ref(xv) : gelu_ref(xv), out->scale, out->zp,
                                               -128, 127);
  }
}

/* A Linear part's int8 form: from in to pre (the LUT's input, or the output
 * with the clamp [lo, 127]), table the LUT (NULL: none). */
static int q_dense(attn *A, nnf_qlayer *Q, const nnf_dense *L, const nnf_qrange *in, const nnf_qrange *pre, int32_t lo,
                   const int8_t *table, char *err, size_t errlen) {
  if (nnf_qlayer_quantize(Q, L, in->scale, in->zp, pre->scale, A->base.index + 1, err, errlen)) return -1;
  Q->round = A->base.round;
  Q->zp = pre->zp, Q->lo = lo, Q->hi = 127, Q->lut = table != NULL;
  if (table) memcpy(Q->table, table, 256);
  return 0;
}

static int q_norm(attn *A, int k, const nnf_qrange *in, const nnf_qrange *out, char *err, size_t errlen) {
  if (nnfm_layernorm_prepare(A->d, in->scale, A->c.eps, A->nw[k], A->nb[k], out->scale, out->zp, &A->ln[k]) != NNFM_OK)
    return fail_layer(&A->base, err, errlen, "LayerNorm's scales are out of the device's range (d over 1024?)");
  return 0;
}

static int q_add(attn *A, nnfm_ew_params *e, int op, const nnf_qrange *a, const nnf_qrange *b, const nnf_qrange *o,
                 char *err, size_t errlen) {
  if (nnfm_ew_prepare(op, a->scale, a->zp, b ? b->scale : 1.0, b ? b->zp : 0, o->scale, o->zp, -128, 127, e) != NNFM_OK)
    return fail_layer(&A->base, err, errlen, "an elementwise op's scales are out of the device's range");
  e->round = A->base.round;
  return 0;
}

/* The attention block's int8 form: in_proj from u to Q, K, V, the products'
 * multipliers, the softmax table, out_proj from the context to o. */
static int q_mha(attn *A, const nnf_qrange *u, const nnf_qrange *o, char *err, size_t errlen) {
  const int E = A->d, dh = E / A->c.heads;
  const double sq = sqrt((double)dh);
  const nnf_qrange *rg = A->rg;
  float *wq = malloc((size_t)E * E * sizeof(float)), *bq = malloc((size_t)E * sizeof(float));
  if (!wq || !bq) {
    free(wq), free(bq);
    return fail_layer(&A->base, err, errlen, "out of memory");
  }
  for (size_t i = 0; i < (size_t)E * E; i++) wq[i] = (float)(A->in_proj.w[i] / sq);
  for (int j = 0; j < E; j++) bq[j] = (float)(A->in_proj.b[j] / sq);
  nnf_dense part[3] = {{E, E, wq, bq, NULL, NULL},
                       {E, E, A->in_proj.w + (size_t)E * E, A->in_proj.b + E, NULL, NULL},
                       {E, E, A->in_proj.w + (size_t)2 * E * E, A->in_proj.b + 2 * E, NULL, NULL}};
  int rc = 0;
  for (int g = 0; g < 3 && !rc; g++) rc = q_dense(A, &A->qp[g], &part[g], u, &rg[R_Q + g], -128, NULL, err, errlen);
  free(wq), free(bq);
  if (rc) return -1;
  for (int g = 0; g < 3; g++) /* the backward's in_proj: q's rows times sqrt(dh) again */
    for (size_t i = 0; i < (size_t)E * E; i++)
      A->inproj_fq[(size_t)g * E * E + i] = (float)(A->qp[g].w_fq[i] * (g ? 1.0 : sq));
  nnfm_softmax_params sp;
  if (nnfm_softmax_prepare(rg[R_LOGIT].scale, 1.0, &sp) != NNFM_OK || nnfm_softmax_table(&sp, A->smax) != NNFM_OK)
    return fail_layer(&A->base, err, errlen, "the logits' scale is out of the softmax's range");
  const double real[2] = {rg[R_Q].scale * rg[R_K].scale / rg[R_LOGIT].scale, S_PROB * rg[R_V].scale / rg[R_CTX].scale};
  const int32_t zin[2] = {0, Z_PROB}, zout[2] = {rg[R_LOGIT].zp, rg[R_CTX].zp};
  for (int k = 0; k < 2; k++) {
    nnfm_matmul_args *g = &A->mm[k];
    memset(g, 0, sizeof *g);
    g->za = zin[k], g->zb = 0, g->zp = zout[k], g->lo = -128, g->hi = 127;
    if (nnfm_quantize_multiplier(real[k], &g->m0, &g->shift) != NNFM_OK)
      return fail_layer(&A->base, err, errlen, "an attention product's multiplier is out of range");
  }
  return q_dense(A, &A->qo, &A->out_proj, &rg[R_CTX], o, -128, NULL, err, errlen);
}

static void attn_qparams(nnf_layer *l) {
  attn *A = (attn *)l;
  for (int k = 0; k < n_ranges[A->kind]; k++) {
    if (k <= R_V) sym_params(&A->rg[k]);
    else nnf_qrange_params(&A->rg[k]);
  }
  nnf_qrange_params(nnf_layer_range(l));
}

static int attn_quantize(nnf_layer *l, const nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  attn *A = (attn *)l;
  const nnf_qrange *xr = &x->r, *yr = &y->r, *rg = A->rg;
  const int D = A->d;
  switch (A->kind) {
    case NNF_ATTN_EMBED: return q_dense(A, &A->qe, &A->lin, xr, yr, -128, NULL, err, errlen);
    case NNF_ATTN_POSEMBED:
    case NNF_ATTN_CLSTOKEN: {
      size_t n = (size_t)(A->kind == NNF_ATTN_POSEMBED ? A->c.positions : 1) * D;
      memset(&A->tabr, 0, sizeof A->tabr);
      nnf_qrange_observe(&A->tabr, A->tab, n, 1.0f);
      nnf_qrange_params(&A->tabr);
      if (A->kind == NNF_ATTN_CLSTOKEN) A->tabr = *yr; /* the token is written at the output's quantization */
      quantize_to(A->tab, n, &A->tabr, A->tabq);
      return A->kind == NNF_ATTN_POSEMBED ? q_add(A, &A->ew[0], NNFM_EW_ADD, xr, &A->tabr, yr, err, errlen)
                                          : q_add(A, &A->ew[0], NNFM_EW_MAP, xr, NULL, yr, err, errlen);
    }
    case NNF_ATTN_MEANPOOL:
      if (nnfm_quantize_multiplier(xr->scale / (A->Ti * yr->scale), &A->pool_m0, &A->pool_shift) != NNFM_OK)
        return fail_layer(l, err, errlen, "the mean's multiplier is out of range");
      return 0;
    case NNF_ATTN_CLSPOOL: return q_add(A, &A->ew[0], NNFM_EW_MAP, xr, NULL, yr, err, errlen);
    case NNF_ATTN_LAYERNORM: return q_norm(A, 0, xr, yr, err, errlen);
    case NNF_ATTN_GELU: gelu_lut(A->lut, xr, yr, A->c.tanh_approx); return 0;
    case NNF_ATTN_MHA: return q_mha(A, xr, yr, err, errlen);
    case NNF_ATTN_ENCODER: {
      const nnf_qrange *act = &rg[R_A], *pre = &rg[A->c.gelu ? R_H : R_A];
      int8_t table[256];
      if (A->c.gelu) gelu_lut(table, pre, act, 0);
      int first = A->c.norm_first;
      if ((first && q_norm(A, 0, xr, &rg[R_U], err, errlen)) || q_mha(A, first ? &rg[R_U] : xr, &rg[R_SA], err, errlen) ||
          q_add(A, &A->ew[0], NNFM_EW_ADD, xr, &rg[R_SA], &rg[R_R1], err, errlen) ||
          q_norm(A, first, &rg[R_R1], &rg[R_X1], err, errlen) ||
          q_dense(A, &A->q1, &A->lin1, &rg[R_X1], pre, A->c.gelu ? -128 : act->zp, A->c.gelu ? table : NULL, err,
                  errlen) ||
          q_dense(A, &A->q2, &A->lin2, act, &rg[R_F], -128, NULL, err, errlen))
        return -1;
      if (first) return q_add(A, &A->ew[1], NNFM_EW_ADD, &rg[R_R1], &rg[R_F], yr, err, errlen);
      return q_add(A, &A->ew[1], NNFM_EW_ADD, &rg[R_X1], &rg[R_F], &rg[R_R2], err, errlen) ||
                     q_norm(A, 1, &rg[R_R2], yr, err, errlen)
                 ? -1
                 : 0;
    }
  }
  return 0;
}

/* The quantized forward of one layer: x->q (B, Ti, din) -> y->q (B, T, d), y->f dequantized. */
static void forward_quant(attn *A, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y) {
  const int B = p->batch, T = A->T, Ti = A->Ti, D = A->d;
  const float m = nnf_observer_momentum(A->base.net, p);
  const int fq_obs = p->mode == NNF_FWD_FAKEQUANT && p->observe;
  const size_t n = (size_t)B * A->base.out;
  switch (A->kind) {
    case NNF_ATTN_EMBED:
      q_linear(p, &A->qe, &y->r, 0, x->q, x->f, B * T, A->din, D, y->q, y->f, m);
      nnf_qrange_dequantize(&y->r, y->q, y->f, n);
      break;
    case NNF_ATTN_POSEMBED:
      for (int b = 0; b < B; b++) {
        const size_t at = (size_t)b * T * D, td = (size_t)T * D;
        if (fq_obs) sum_of(y->f + at, x->f + at, A->tab, td);
        for (size_t i = 0; i < td; i++) y->q[at + i] = nnfm_ew(&A->ew[0], x->q[at + i], A->tabq[i], NULL);
      }
      if (fq_obs) nnf_qrange_observe(&y->r, y->f, n, m);
      nnf_qrange_dequantize(&y->r, y->q, y->f, n);
      break;
    case NNF_ATTN_CLSTOKEN:
      if (fq_obs) {
        float v[2] = {INFINITY, -INFINITY};
        for (int j = 0; j < D; j++) v[0] = fminf(v[0], A->tab[j]), v[1] = fmaxf(v[1], A->tab[j]);
        for (size_t i = 0; i < (size_t)B * Ti * D; i++) v[0] = fminf(v[0], x->f[i]), v[1] = fmaxf(v[1], x->f[i]);
        nnf_qrange_observe(&y->r, v, 2, m);
      }
      for (int b = 0; b < B; b++) {
        memcpy(y->q + (size_t)b * T * D, A->tabq, (size_t)D);
        for (size_t i = 0; i < (size_t)Ti * D; i++)
          y->q[((size_t)b * T + 1) * D + i] = nnfm_ew(&A->ew[0], x->q[(size_t)b * Ti * D + i], 0, NULL);
      }
      nnf_qrange_dequantize(&y->r, y->q, y->f, n);
      break;
    case NNF_ATTN_MEANPOOL:
      for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++) {
          int32_t acc = 0; /* |acc| <= 255 Ti */
          float s = 0;
          for (int t = 0; t < Ti; t++) {
            acc += x->q[((size_t)b * Ti + t) * D + j] - x->r.zp;
            s += x->f[((size_t)b * Ti + t) * D + j];
          }
          y->f[(size_t)b * D + j] = s / (float)Ti;
          y->q[(size_t)b * D + j] = (int8_t)nnfm_requantize(acc, A->pool_m0, A->pool_shift, y->r.zp, -128, 127);
        }
      if (fq_obs) nnf_qrange_observe(&y->r, y->f, n, m);
      nnf_qrange_dequantize(&y->r, y->q, y->f, n);
      break;
    case NNF_ATTN_CLSPOOL:
      for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++) {
          y->f[(size_t)b * D + j] = x->f[(size_t)b * Ti * D + j];
          y->q[(size_t)b * D + j] = nnfm_ew(&A->ew[0], x->q[(size_t)b * Ti * D + j], 0, NULL);
        }
      if (fq_obs) nnf_qrange_observe(&y->r, y->f, n, m);
      nnf_qrange_dequantize(&y->r, y->q, y->f, n);
      break;
    case NNF_ATTN_LAYERNORM:
      q_layernorm(A, p, 0, x->q, x->f, x->r.zp, B * T, &y->r, y->q, y->f, A->buf[C_M1], m);
      break;
    case NNF_ATTN_GELU:
      if (fq_obs) {
        gelu_forward(x->f, y->f, n, A->c.tanh_approx);
        nnf_qrange_observe(&y->r, y->f, n, m);
      }
      for (size_t i = 0; i < n; i++) y->q[i] = nnfm_lut(A->lut, x->q[i]);
      nnf_qrange_dequantize(&y->r, y->q, y->f, n);
      break;
    case NNF_ATTN_MHA: mha_quant(A, p, x->q, x->f, B, &y->r, y->q, y->f, m); break;
    case NNF_ATTN_ENCODER: enc_quant(A, p, x, y, B, m); break;
  }
}

/* The float pass's observations of the intermediates (the logits' in lmm). */
static void observe_float(attn *A, const nnf_pass *p, int B, const float *lmm) {
  const size_t R = (size_t)B * A->T, E = (size_t)A->d, F = (size_t)A->c.ff;
  const float m = nnf_observer_momentum(A->base.net, p);
  float **c = A->buf;
  if (A->kind != NNF_ATTN_MHA && A->kind != NNF_ATTN_ENCODER) return;
  for (int g = 0; g < 3; g++) {
    float v[2] = {INFINITY, -INFINITY};
    for (size_t r = 0; r < R; r++)
      for (size_t j = 0; j < E; j++) {
        float q = c[C_QKV][r * 3 * E + g * E + j];
        v[0] = fminf(v[0], q), v[1] = fmaxf(v[1], q);
      }
    nnf_qrange_observe(&A->rg[R_Q + g], v, 2, m);
  }
  nnf_qrange_observe(&A->rg[R_LOGIT], lmm, 2, m);
  nnf_qrange_observe(&A->rg[R_CTX], c[C_CTX], R * E, m);
  if (A->kind == NNF_ATTN_MHA) return;
  static const int cache[] = {C_SA, C_R1, C_U, C_X1, C_H, C_A, C_G1, C_R2};
  for (int k = 0; k < 8; k++) {
    int r = R_SA + k;
    if ((r == R_U && !A->c.norm_first) || (r == R_R2 && A->c.norm_first) || (r == R_H && !A->c.gelu)) continue;
    nnf_qrange_observe(&A->rg[r], c[cache[k]], R * (r == R_H || r == R_A ? F : E), m);
  }
}

int nnf_layer_attn_ranges(nnf_layer *l, nnf_qrange **ranges) {
  attn *A = as_attn(l);
  if (!A) return -1;
  *ranges = A->rg;
  return n_ranges[A->kind];
}

int nnf_layer_attn_int(nnf_layer *l, nnf_attn_int *v) {
  attn *A = as_attn(l);
  if (!A) return -1;
  *v = (nnf_attn_int){&A->qe, {&A->qp[0], &A->qp[1], &A->qp[2]}, &A->qo, &A->q1, &A->q2, A->smax, A->mm, A->ln,
                      A->ew, A->tabq, A->lut, A->pool_m0, A->pool_shift, A->rg};
  return 0;
}


/* The float forward, x: (B, Ti, din) -> y: (B, T, d); lmm: the logits' min / max (NULL: not observed) */
static void forward_float(attn *A, int B, const float *xf, float *yf, float *lmm) {
  const int T = A->T, Ti = A->Ti, D = A->d;
  const size_t n = (size_t)B * A->base.out;
  switch (A->kind) {
    case NNF_ATTN_EMBED: nnf_dense_forward(&A->lin, NULL, xf, yf, B * T); break;
    case NNF_ATTN_POSEMBED:
      for (int b = 0; b < B; b++) sum_of(yf + (size_t)b * T * D, xf + (size_t)b * T * D, A->tab, (size_t)T * D);
      break;
    case NNF_ATTN_CLSTOKEN:
      for (int b = 0; b < B; b++) {
        memcpy(yf + (size_t)b * T * D, A->tab, (size_t)D * sizeof(float));
        memcpy(yf + ((size_t)b * T + 1) * D, xf + (size_t)b * Ti * D, (size_t)Ti * D * sizeof(float));
      }
      break;
    case NNF_ATTN_MEANPOOL:
      for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++) {
          float s = 0;
          for (int t = 0; t < Ti; t++) s += xf[((size_t)b * Ti + t) * D + j];
          yf[(size_t)b * D + j] = s / (float)Ti;
        }
      break;
    case NNF_ATTN_CLSPOOL:
      for (int b = 0; b < B; b++) memcpy(yf + (size_t)b * D, xf + (size_t)b * Ti * D, (size_t)D * sizeof(float));
      break;
    case NNF_ATTN_LAYERNORM: ln_forward(xf, A->nw[0], A->nb[0], yf, A->buf[C_M1], (size_t)B * T, D, A->c.eps); break;
    case NNF_ATTN_GELU: gelu_forward(xf, yf, n, A->c.tanh_approx); break;
    case NNF_ATTN_MHA: mha_forward(A, xf, yf, B, lmm); break;
    case NNF_ATTN_ENCODER: enc_forward(A, xf, yf, B, lmm); break;
  }
}

static int attn_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  attn *A = (attn *)l;
  if (p->mode == NNF_FWD_DEVICE) return fail_layer(l, err, errlen, NO_DEVICE);
  const int B = p->batch;
  if (reserve(A, B, p->mode != NNF_FWD_FLOAT)) return fail_layer(l, err, errlen, "out of memory");
  y->steps = x->steps;
  const size_t n = (size_t)B * l->out;
  float lmm[2] = {INFINITY, -INFINITY};
  int fresh = !(n_ranges[A->kind] ? A->rg[0].seen : y->r.seen);
  if (p->mode == NNF_FWD_FLOAT || (p->mode == NNF_FWD_FAKEQUANT && p->observe && fresh)) {
    /* float; or QAT's first pass: the ranges were never observed, and an
     * int8 pass through default ranges would seed every observer after it
     * with garbage: observe them in float on this batch, quantize with them */
    forward_float(A, B, x->f, y->f, lmm);
    if (p->observe) {
      observe_float(A, p, B, lmm);
      /* the boundary's range, as every layer observes its output (checkpoints keep it) */
      nnf_qrange_observe(&y->r, y->f, n, nnf_observer_momentum(l->net, p));
    }
    if (p->mode == NNF_FWD_FLOAT) return 0;
    attn_qparams(l);
    if (attn_quantize(l, x, y, err, errlen)) return -1;
  }
  forward_quant(A, p, x, y);
  return 0;
}

static void attn_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                          float *dx, int acc) {
  attn *A = (attn *)l;
  const int B = p->batch, T = A->T, Ti = A->Ti, D = A->d;
  const float *xf = x->f;
  const int quant = p->mode != NNF_FWD_FLOAT; /* straight through the roundings, the fake-quant weights */
  (void)y;
  switch (A->kind) {
    case NNF_ATTN_EMBED: nnf_dense_backward(&A->lin, quant ? A->qe.w_fq : NULL, xf, dy, dx, B * T, acc); break;
    case NNF_ATTN_POSEMBED:
      /* dW[t] = sum_b dy[b, t] (rows past T: no gradient) */
      if (!acc) memset(A->dtab, 0, (size_t)A->c.positions * D * sizeof(float));
      for (int b = 0; b < B; b++) add_to(A->dtab, dy + (size_t)b * T * D, (size_t)T * D);
      if (dx) memcpy(dx, dy, (size_t)B * T * D * sizeof(float));
      break;
    case NNF_ATTN_CLSTOKEN:
      if (!acc) memset(A->dtab, 0, (size_t)D * sizeof(float));
      for (int b = 0; b < B; b++) {
        add_to(A->dtab, dy + (size_t)b * T * D, (size_t)D);
        if (dx) memcpy(dx + (size_t)b * Ti * D, dy + ((size_t)b * T + 1) * D, (size_t)Ti * D * sizeof(float));
      }
      break;
    case NNF_ATTN_MEANPOOL:
      for (int b = 0; dx && b < B; b++)
        for (int t = 0; t < Ti; t++)
          for (int j = 0; j < D; j++) dx[((size_t)b * Ti + t) * D + j] = dy[(size_t)b * D + j] / (float)Ti;
      break;
    case NNF_ATTN_CLSPOOL:
      if (dx) memset(dx, 0, (size_t)B * Ti * D * sizeof(float));
      for (int b = 0; dx && b < B; b++) memcpy(dx + (size_t)b * Ti * D, dy + (size_t)b * D, (size_t)D * sizeof(float));
      break;
    case NNF_ATTN_LAYERNORM:
      ln_backward(xf, A->nw[0], A->buf[C_M1], dy, dx, A->dnw[0], A->dnb[0], (size_t)B * T, D, acc);
      break;
    case NNF_ATTN_GELU:
      if (dx) gelu_backward(xf, dy, dx, (size_t)B * l->in, A->c.tanh_approx);
      break;
    case NNF_ATTN_MHA: mha_backward(A, xf, dy, dx, B, acc, quant); break;
    case NNF_ATTN_ENCODER: enc_backward(A, xf, dy, dx, B, acc, quant); break;
  }
}

static int attn_params(nnf_layer *l, nnf_param *o) {
  attn *A = (attn *)l;
  const int D = A->d;
  int k = 0;
  switch (A->kind) {
    case NNF_ATTN_EMBED:
      o[k++] = (nnf_param){"weight", A->lin.w, A->lin.dw, 2, {D, A->c.in, 0, 0}};
      o[k++] = (nnf_param){"bias", A->lin.b, A->lin.db, 1, {D, 0, 0, 0}};
      break;
    case NNF_ATTN_POSEMBED: o[k++] = (nnf_param){"weight", A->tab, A->dtab, 2, {A->c.positions, D, 0, 0}}; break;
    case NNF_ATTN_CLSTOKEN: o[k++] = (nnf_param){"class_token", A->tab, A->dtab, 3, {1, 1, D, 0}}; break;
    case NNF_ATTN_LAYERNORM:
      o[k++] = (nnf_param){"weight", A->nw[0], A->dnw[0], 1, {D, 0, 0, 0}};
      o[k++] = (nnf_param){"bias", A->nb[0], A->dnb[0], 1, {D, 0, 0, 0}};
      break;
    case NNF_ATTN_MHA:
    case NNF_ATTN_ENCODER: {
      int e = A->kind == NNF_ATTN_ENCODER;
      o[k++] = (nnf_param){e ? "self_attn.in_proj_weight" : "in_proj_weight", A->in_proj.w, A->in_proj.dw, 2, {3 * D, D, 0, 0}};
      o[k++] = (nnf_param){e ? "self_attn.in_proj_bias" : "in_proj_bias", A->in_proj.b, A->in_proj.db, 1, {3 * D, 0, 0, 0}};
      o[k++] = (nnf_param){e ? "self_attn.out_proj.weight" : "out_proj.weight", A->out_proj.w, A->out_proj.dw, 2, {D, D, 0, 0}};
      o[k++] = (nnf_param){e ? "self_attn.out_proj.bias" : "out_proj.bias", A->out_proj.b, A->out_proj.db, 1, {D, 0, 0, 0}};
      if (!e) break;
      const int F = A->c.ff;
      o[k++] = (nnf_param){"linear1.weight", A->lin1.w, A->lin1.dw, 2, {F, D, 0, 0}};
      o[k++] = (nnf_param){"linear1.bias", A->lin1.b, A->lin1.db, 1, {F, 0, 0, 0}};
      o[k++] = (nnf_param){"linear2.weight", A->lin2.w, A->lin2.dw, 2, {D, F, 0, 0}};
      o[k++] = (nnf_param){"linear2.bias", A->lin2.b, A->lin2.db, 1, {D, 0, 0, 0}};
      o[k++] = (nnf_param){"norm1.weight", A->nw[0], A->dnw[0], 1, {D, 0, 0, 0}};
      o[k++] = (nnf_param){"norm1.bias", A->nb[0], A->dnb[0], 1, {D, 0, 0, 0}};
      o[k++] = (nnf_param){"norm2.weight", A->nw[1], A->dnw[1], 1, {D, 0, 0, 0}};
      o[k++] = (nnf_param){"norm2.bias", A->nb[1], A->dnb[1], 1, {D, 0, 0, 0}};
      break;
    }
    default: break;
  }
  return k;
}

int nnf_attn_init(nnf_layer *l, uint64_t *rng) {
  attn *A = as_attn(l);
  if (!A) return -1;
  const int D = A->d;
  switch (A->kind) {
    case NNF_ATTN_EMBED: nnf_dense_init_default(&A->lin, rng); break;
    case NNF_ATTN_POSEMBED: {
      double spare = 0;
      int have = 0;
      for (size_t i = 0; i < (size_t)A->c.positions * D; i++) A->tab[i] = (float)(0.02 * nnf_rng_normal(rng, &spare, &have));
      break;
    }
    case NNF_ATTN_CLSTOKEN: memset(A->tab, 0, (size_t)D * sizeof(float)); break;
    case NNF_ATTN_ENCODER:
    case NNF_ATTN_MHA: {
      /* MultiheadAttention._reset_parameters: xavier_uniform_(in_proj_weight) (fan_in d, fan_out 3d),
       * zero in_proj_bias and out_proj.bias; out_proj.weight as Linear's */
      double bound = sqrt(6.0 / (D + 3.0 * D));
      nnf_init_uniform(A->in_proj.w, (size_t)3 * D * D, -bound, bound, rng);
      memset(A->in_proj.b, 0, (size_t)3 * D * sizeof(float));
      nnf_dense_init_default(&A->out_proj, rng);
      memset(A->out_proj.b, 0, (size_t)D * sizeof(float));
      if (A->kind == NNF_ATTN_MHA) break;
      nnf_dense_init_default(&A->lin1, rng);
      nnf_dense_init_default(&A->lin2, rng);
    }
    /* fall through - the norms */
    case NNF_ATTN_LAYERNORM:
      for (int k = 0; k < (A->kind == NNF_ATTN_ENCODER ? 2 : 1); k++)
        for (int j = 0; j < D; j++) A->nw[k][j] = 1.0f, A->nb[k][j] = 0.0f;
      break;
    default: break;
  }
  l->net->quantized = 0;
  return 0;
}

/* ---- the device (docs/attention.md "Device") ------------------------------------------------
 * A chunk is one sequence. Its tokens are a GEMM operand of T rows: token
 * t's channel c at ACT word base + (c / rows) * T + t, lane c % rows
 * (nnf_plan.tok_rows), the input laid out so by the input hook. Every
 * per-token part is one instruction over the T rows: a Linear part a GEMM,
 * a residual or positional add an EW ADD, LayerNorm a ROW LAYERNORM, GELU
 * a LUT (linear1's, or an EW MAP's). Attention: in_proj's output channels
 * laid out per part and head, each head padded to whole words (channel
 * (g*H + h)*DP + j, DP = ceil(dh / rows) * rows; padding channels zero), so
 * Q_h, K_h and V_h are tensors of their own; per head ACTW K_h^T, GEMM Q_h
 * K_h^T, ROW SOFTMAX, ACTW V_h (folding the probabilities' zero point),
 * GEMM P V_h into the context's head h (the same padded layout, which
 * out_proj reads through zero weight rows). The head's five instructions
 * run in a LOOP over the heads (stride DT*T words, FEAT_REL), or unrolled.
 * The pools are a GEMM of one constant row (ones; e_0 for cls) times the
 * tokens (ACTW, as they lie). */

static attn_dev *dev_of(attn *A) { return &A->dv; }

static uint32_t tiles_of(uint32_t n, uint32_t rows) { return (n + rows - 1) / rows; }

/* ACT words of T tokens of c channels. */
static uint32_t tok_words(const nnf_plan *p, uint32_t T, uint32_t c) { return nnfm_act_words(p->cfg, T, c); }

/* "feature bit 7 (FEAT_EW)", "feature bits 7 and 11 (FEAT_EW, FEAT_ROW)", ... for the missing bits. */
static void feature_list(uint32_t missing, char *out, size_t len) {
  static const struct {
    uint32_t bit;
    const char *num, *name;
  } f[] = {{NNFP_FEAT_EW, "7", "FEAT_EW"}, {NNFP_FEAT_ROW, "11", "FEAT_ROW"}, {NNFP_FEAT_ACTW, "12", "FEAT_ACTW"}};
  const char *nums[3] = {"", "", ""}, *names[3] = {"", "", ""};
  int n = 0;
  for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
    if (missing & f[k].bit) nums[n] = f[k].num, names[n++] = f[k].name;
  if (n == 1) snprintf(out, len, "feature bit %s (%s)", nums[0], names[0]);
  else if (n == 2) snprintf(out, len, "feature bits %s and %s (%s, %s)", nums[0], nums[1], names[0], names[1]);
  else snprintf(out, len, "feature bits %s, %s and %s (%s, %s, %s)", nums[0], nums[1], nums[2], names[0], names[1], names[2]);
}

/* What each kind's instructions need of the device. */
static uint32_t needs_of(const attn *A) {
  switch (A->kind) {
    case NNF_ATTN_POSEMBED:
    case NNF_ATTN_CLSTOKEN:
    case NNF_ATTN_GELU: return NNFP_FEAT_EW;
    case NNF_ATTN_LAYERNORM: return NNFP_FEAT_ROW;
    case NNF_ATTN_MEANPOOL:
    case NNF_ATTN_CLSPOOL: return NNFP_FEAT_ACTW;
    case NNF_ATTN_MHA: return NNFP_FEAT_ROW | NNFP_FEAT_ACTW;
    case NNF_ATTN_ENCODER: return NNFP_FEAT_ROW | NNFP_FEAT_ACTW | NNFP_FEAT_EW;
    default: return 0;
  }
}

/* The padded head width DP and the in_proj's device channels 3*H*DP. */
static uint32_t head_pad(const attn *A, uint32_t rows) { return tiles_of((uint32_t)(A->d / A->c.heads), rows) * rows; }

static int plan_fail(const attn *A, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int plan_fail(const attn *A, char *err, size_t errlen, const char *fmt, ...) {
  char m[224];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  return fail_layer(&A->base, err, errlen, m);
}

static int attn_plan(nnf_layer *l, struct nnf_plan *p, char *err, size_t errlen) {
  attn *A = (attn *)l;
  attn_dev *D = dev_of(A);
  if (!D) return fail_layer(l, err, errlen, "out of memory");
  const int i = l->index;
  const uint32_t rows = (uint32_t)p->cfg->rows, T = (uint32_t)A->T, Ti = (uint32_t)A->Ti, E = (uint32_t)A->d;
  uint32_t missing = needs_of(A) & ~p->features;
  if (missing) {
    char bits[96];
    feature_list(missing, bits, sizeof bits);
    return plan_fail(A, err, errlen, "device %s does not run it: its INFO lacks %s", p->dev ? p->dev : "?", bits);
  }
  if (p->B != 1) return plan_fail(A, err, errlen, "a chunk of %d sequences: on the device a chunk holds one", p->B);
  if (p->in_layer == i) p->tok_rows[i] = (uint16_t)Ti; /* the input hook lays the tokens out */
  else if (p->tok_rows[i] != Ti)
    return plan_fail(A, err, errlen,
                     "its input (layer %d's output) is not a sequence of tokens on the device: attention layers read "
                     "the network's input or another attention layer's tokens",
                     i - 1);
  memset(D, 0, sizeof *D);
  const uint64_t a0 = p->a;
  uint32_t out_words = tok_words(p, T, E);
  switch (A->kind) {
    case NNF_ATTN_EMBED:
      D->w[DW_IN] = nnf_plan_w(p, nnfm_w_words(p->cfg, (uint32_t)A->din, E));
      D->p[DP_IN] = nnf_plan_p(p, nnfm_p_entries(p->cfg, E));
      break;
    case NNF_ATTN_POSEMBED: D->a[DA_C] = nnf_plan_act_const(p, tok_words(p, T, E)); break;
    case NNF_ATTN_CLSTOKEN: break; /* the output holds the token: below */
    case NNF_ATTN_MEANPOOL:
    case NNF_ATTN_CLSPOOL:
      D->a[DA_C] = nnf_plan_act_const(p, nnfm_act_words(p->cfg, 1, Ti));
      D->w[DW_X] = nnf_plan_w(p, nnfm_w_words(p->cfg, Ti, E));
      D->p[DP_IN] = nnf_plan_p(p, nnfm_p_entries(p->cfg, E));
      out_words = nnfm_act_words(p->cfg, 1, E);
      break;
    case NNF_ATTN_LAYERNORM:
      if (E > NNFM_ROW_LN_N_MAX)
        return plan_fail(A, err, errlen, "%u channels a token, more than the device's LayerNorm row of %d", E,
                         NNFM_ROW_LN_N_MAX);
      D->p[DP_LN0] = nnf_plan_p(p, nnfm_p_entries(p->cfg, E));
      break;
    case NNF_ATTN_GELU: break;
    case NNF_ATTN_MHA:
    case NNF_ATTN_ENCODER: {
      const uint32_t H = (uint32_t)A->c.heads, dh = E / H, DP = head_pad(A, rows), F = (uint32_t)A->c.ff;
      if (T > NNFM_ROW_N_MAX)
        return plan_fail(A, err, errlen, "%u tokens, more than the device's softmax row of %d", T, NNFM_ROW_N_MAX);
      if (A->kind == NNF_ATTN_ENCODER && E > NNFM_ROW_LN_N_MAX)
        return plan_fail(A, err, errlen, "d_model %u, more than the device's LayerNorm row of %d", E,
                         NNFM_ROW_LN_N_MAX);
      if (3 * H * DP > 65535)
        return plan_fail(A, err, errlen, "in_proj's %u channels (heads padded to whole words) exceed a GEMM's 65535",
                         3 * H * DP);
      if (rows != (uint32_t)p->cfg->cols)
        return plan_fail(A, err, errlen, "the device's array is %u x %d: ACTW needs as many rows as columns", rows,
                         p->cfg->cols);
      D->w[DW_IN] = nnf_plan_w(p, nnfm_w_words(p->cfg, E, 3 * H * DP));
      D->p[DP_IN] = nnf_plan_p(p, nnfm_p_entries(p->cfg, 3 * H * DP));
      D->w[DW_OUT] = nnf_plan_w(p, nnfm_w_words(p->cfg, H * DP, E));
      D->p[DP_OUT] = nnf_plan_p(p, nnfm_p_entries(p->cfg, E));
      D->w[DW_X] = nnf_plan_w(p, nnfm_w_words(p->cfg, dh, T)); /* K_h^T, then V_h (as many words: rows == cols) */
      D->p[DP_LG] = nnf_plan_p(p, nnfm_p_entries(p->cfg, T));
      D->p[DP_CX] = nnf_plan_p(p, nnfm_p_entries(p->cfg, dh));
      D->a[DA_QKV] = nnf_plan_act(p, tok_words(p, T, 3 * H * DP));
      D->a[DA_LG] = nnf_plan_act(p, tok_words(p, T, T));
      D->a[DA_CTX] = nnf_plan_act(p, tok_words(p, T, H * DP));
      if (A->kind == NNF_ATTN_ENCODER) {
        D->p[DP_LN0] = nnf_plan_p(p, nnfm_p_entries(p->cfg, E));
        D->p[DP_LN1] = nnf_plan_p(p, nnfm_p_entries(p->cfg, E));
        D->w[DW_1] = nnf_plan_w(p, nnfm_w_words(p->cfg, E, F));
        D->p[DP_1] = nnf_plan_p(p, nnfm_p_entries(p->cfg, F));
        D->w[DW_2] = nnf_plan_w(p, nnfm_w_words(p->cfg, F, E));
        D->p[DP_2] = nnf_plan_p(p, nnfm_p_entries(p->cfg, E));
        if (A->c.norm_first) D->a[DA_U] = nnf_plan_act(p, tok_words(p, T, E));
        D->a[DA_SA] = nnf_plan_act(p, tok_words(p, T, E));
        D->a[DA_R1] = nnf_plan_act(p, tok_words(p, T, E));
        D->a[DA_X1] = nnf_plan_act(p, tok_words(p, T, E));
        D->a[DA_H] = nnf_plan_act(p, tok_words(p, T, F));
        D->a[DA_F] = nnf_plan_act(p, tok_words(p, T, E));
        if (!A->c.norm_first) D->a[DA_R2] = nnf_plan_act(p, tok_words(p, T, E));
      }
      break;
    }
  }
  /* the class token's output: row 0 is the token, written once with the constants */
  p->act[i + 1] = A->kind == NNF_ATTN_CLSTOKEN ? nnf_plan_act_const(p, out_words) : nnf_plan_act(p, out_words);
  p->tok_rows[i + 1] = A->kind == NNF_ATTN_MEANPOOL || A->kind == NNF_ATTN_CLSPOOL ? 0 : (uint16_t)T;
  if (p->a > p->cfg->act_words)
    return plan_fail(A, err, errlen,
                     "a sequence of %u tokens needs %llu ACT words here (%llu before it; the attention matrix alone "
                     "%u); device %s has %u",
                     T, (unsigned long long)(p->a - a0), (unsigned long long)a0,
                     A->kind == NNF_ATTN_MHA || A->kind == NNF_ATTN_ENCODER ? tok_words(p, T, T) : 0,
                     p->dev ? p->dev : "?", p->cfg->act_words);
  return 0;
}

/* The input laid out as a sequence of tokens (one a chunk). */
static uint32_t attn_input(nnf_layer *l, const nnf_plan *p, uint32_t base, const int8_t *xq, int B) {
  attn *A = (attn *)l;
  const uint32_t seq = tok_words(p, (uint32_t)A->Ti, (uint32_t)A->din); /* one sequence's words */
  if (!xq) return seq * (uint32_t)B;
  for (int b = 0; b < B; b++)
    if (nnfm_engine_put_act(p->img, base + (uint32_t)b * seq, xq + (size_t)b * A->Ti * A->din, (uint32_t)A->Ti,
                            (uint32_t)A->din) != NNFM_OK)
      return 0;
  return seq * (uint32_t)B;
}

static int attn_luts(const nnf_layer *l, const int8_t **t, int max) {
  const attn *A = (const attn *)l;
  if (max < 1) return 0;
  if (A->kind == NNF_ATTN_GELU) return t[0] = A->lut, 1;
  if (A->kind == NNF_ATTN_ENCODER && A->q1.lut) return t[0] = A->q1.table, 1;
  return 0;
}

static const int32_t *attn_softmax_table(const nnf_layer *l) {
  const attn *A = (const attn *)l;
  return A->kind == NNF_ATTN_MHA || A->kind == NNF_ATTN_ENCODER ? A->smax : NULL;
}

/* A qlayer's GEMM (K x N, w_kn) into W and P as it is. */
static int pack_dense(nnf_plan *p, const nnf_qlayer *Q, uint32_t w, uint32_t pb, uint32_t K, uint32_t N) {
  return nnfm_engine_put_weights(p->img, w, Q->w_kn, K, N) == NNFM_OK &&
                 nnfm_engine_put_params(p->img, pb, Q->bias, Q->m0, Q->shift, N) == NNFM_OK
             ? 0
             : -1;
}

/* n channels of one multiplier and one bias. */
static int pack_uniform(nnf_plan *p, uint32_t pb, uint32_t n, int32_t bias, int32_t m0, int shift) {
  int32_t *b = malloc(n * sizeof *b), *m = malloc(n * sizeof *m);
  int8_t *s = malloc(n);
  int rc = b && m && s ? 0 : -1;
  for (uint32_t j = 0; !rc && j < n; j++) b[j] = bias, m[j] = m0, s[j] = (int8_t)shift;
  if (!rc) rc = nnfm_engine_put_params(p->img, pb, b, m, s, n) == NNFM_OK ? 0 : -1;
  free(b), free(m), free(s);
  return rc;
}

/* LayerNorm's per-channel parameters into P (nnfdrv_layernorm_p's bytes). */
static int pack_ln(nnf_plan *p, const nnfm_layernorm_params *L, uint32_t pb) {
  const uint32_t C = (uint32_t)p->cfg->cols, n = nnfm_p_entries(p->cfg, (uint32_t)L->d) * C * NNFP_P_BYTES;
  uint8_t *b = malloc(n);
  int rc = b && nnfdrv_layernorm_p(L->d, L->m0, L->shift, L->sign, L->bias, C, b) == NNFDRV_OK ? 0 : -1;
  for (uint32_t k = 0; !rc && k < n; k++)
    rc = nnfm_engine_write_byte(p->img, NNFDRV_P, pb * C * NNFP_P_BYTES + k, b[k]) == NNFM_OK ? 0 : -1;
  free(b);
  return rc;
}

/* in_proj (its q, k, v parts) with each head's channels padded to DP, and
 * out_proj with the same padding on its input rows. */
static int pack_mha(attn *A, nnf_plan *p, const attn_dev *D) {
  const uint32_t rows = (uint32_t)p->cfg->rows, E = (uint32_t)A->d, H = (uint32_t)A->c.heads, dh = E / H;
  const uint32_t DP = head_pad(A, rows), N = 3 * H * DP, T = (uint32_t)A->T;
  int8_t *w = calloc((size_t)E * N, 1), *wo = calloc((size_t)H * DP * E, 1), *sh = calloc(N, 1);
  int32_t *bias = calloc(N, sizeof *bias), *m0 = calloc(N, sizeof *m0);
  int rc = w && wo && sh && bias && m0 ? 0 : -1;
  for (uint32_t g = 0; !rc && g < 3; g++) {
    const nnf_qlayer *Q = &A->qp[g];
    for (uint32_t n = 0; n < E; n++) {
      uint32_t dn = (g * H + n / dh) * DP + n % dh;
      bias[dn] = Q->bias[n], m0[dn] = Q->m0[n], sh[dn] = Q->shift[n];
      for (uint32_t k = 0; k < E; k++) w[(size_t)k * N + dn] = Q->w_kn[(size_t)k * E + n];
    }
    for (uint32_t n = 0; n < H * DP; n++) /* padding: zero weights and bias, any valid multiplier */
      if (n % DP >= dh) m0[(g * H) * DP + n] = Q->m0[0], sh[(g * H) * DP + n] = Q->shift[0];
  }
  for (uint32_t k = 0; !rc && k < E; k++)
    memcpy(wo + (size_t)((k / dh) * DP + k % dh) * E, A->qo.w_kn + (size_t)k * E, E);
  if (!rc)
    rc = nnfm_engine_put_weights(p->img, D->w[DW_IN], w, E, N) == NNFM_OK &&
                 nnfm_engine_put_params(p->img, D->p[DP_IN], bias, m0, sh, N) == NNFM_OK &&
                 nnfm_engine_put_weights(p->img, D->w[DW_OUT], wo, H * DP, E) == NNFM_OK &&
                 nnfm_engine_put_params(p->img, D->p[DP_OUT], A->qo.bias, A->qo.m0, A->qo.shift, E) == NNFM_OK
             ? 0
             : -1;
  /* the logits' and the context's requantization, the same in every channel
   * (the context's biases are ACTW's) */
  if (!rc) rc = pack_uniform(p, D->p[DP_LG], T, 0, A->mm[0].m0, A->mm[0].shift);
  if (!rc) rc = pack_uniform(p, D->p[DP_CX], dh, 0, A->mm[1].m0, A->mm[1].shift);
  free(w), free(wo), free(sh), free(bias), free(m0);
  return rc;
}

static int attn_pack(nnf_layer *l, struct nnf_plan *p, char *err, size_t errlen) {
  attn *A = (attn *)l;
  const attn_dev *D = dev_of(A);
  const uint32_t T = (uint32_t)A->T, Ti = (uint32_t)A->Ti, E = (uint32_t)A->d;
  int rc = 0;
  switch (A->kind) {
    case NNF_ATTN_EMBED: rc = pack_dense(p, &A->qe, D->w[DW_IN], D->p[DP_IN], (uint32_t)A->din, E); break;
    case NNF_ATTN_POSEMBED: rc = nnfm_engine_put_act(p->img, D->a[DA_C], A->tabq, T, E) == NNFM_OK ? 0 : -1; break;
    case NNF_ATTN_CLSTOKEN: { /* the output's row 0: the token (the EW MAPs write the rows below it) */
      int8_t *y = calloc((size_t)T * E, 1);
      if (!y) return fail_layer(l, err, errlen, "out of memory");
      memcpy(y, A->tabq, E);
      rc = nnfm_engine_put_act(p->img, p->act[l->index + 1], y, T, E) == NNFM_OK ? 0 : -1;
      free(y);
      break;
    }
    case NNF_ATTN_MEANPOOL:
    case NNF_ATTN_CLSPOOL: {
      int mean = A->kind == NNF_ATTN_MEANPOOL;
      int8_t *row = calloc(Ti, 1);
      if (!row) return fail_layer(l, err, errlen, "out of memory");
      for (uint32_t t = 0; t < Ti; t++) row[t] = (int8_t)(mean || t == 0);
      const int32_t zp_in = l->net->t[l->index].r.zp;
      rc = nnfm_engine_put_act(p->img, D->a[DA_C], row, 1, Ti) == NNFM_OK ? 0 : -1;
      free(row);
      /* mean: requantize(sum_t (x - zp)); cls: EW MAP's requantize(x_0 - zp) */
      if (!rc)
        rc = mean ? pack_uniform(p, D->p[DP_IN], E, -(int32_t)Ti * zp_in, A->pool_m0, A->pool_shift)
                  : pack_uniform(p, D->p[DP_IN], E, -A->ew[0].zp_a, A->ew[0].m0, A->ew[0].shift);
      break;
    }
    case NNF_ATTN_LAYERNORM: rc = pack_ln(p, &A->ln[0], D->p[DP_LN0]); break;
    case NNF_ATTN_MHA: rc = pack_mha(A, p, D); break;
    case NNF_ATTN_ENCODER:
      rc = pack_mha(A, p, D);
      if (!rc) rc = pack_ln(p, &A->ln[0], D->p[DP_LN0]);
      if (!rc) rc = pack_ln(p, &A->ln[1], D->p[DP_LN1]);
      if (!rc) rc = pack_dense(p, &A->q1, D->w[DW_1], D->p[DP_1], E, (uint32_t)A->c.ff);
      if (!rc) rc = pack_dense(p, &A->q2, D->w[DW_2], D->p[DP_2], (uint32_t)A->c.ff, E);
      break;
    default: break;
  }
  return rc ? fail_layer(l, err, errlen, "does not pack into the device's buffers") : 0;
}

/* ---- emission ---- */

static uint8_t *put_gemm(nnf_plan *p, uint32_t M, uint32_t K, uint32_t N, uint32_t a, uint32_t w, uint32_t pb,
                         uint32_t o, int32_t zp, int32_t lo, int32_t hi, int round) {
  uint8_t *insn = nnf_plan_insn(p);
  if (!insn) return p->ok = 0, NULL;
  nnfdrv_gemm g = {(uint16_t)M, (uint16_t)K, (uint16_t)N, a, w, pb, o, (int8_t)zp, (int8_t)lo, (int8_t)hi, 0, round};
  nnfdrv_insn_gemm(insn, &g);
  return insn;
}

/* A qlayer's GEMM over T tokens (its LUT in the layer's first LUT slot). */
static void put_dense(nnf_plan *p, const attn *A, const nnf_qlayer *Q, uint32_t T, uint32_t K, uint32_t N, uint32_t a,
                      uint32_t w, uint32_t pb, uint32_t o) {
  uint8_t *insn = put_gemm(p, T, K, N, a, w, pb, o, Q->zp, Q->lo, Q->hi, Q->round);
  if (insn && Q->lut) {
    nnfp_gemm_put_lut(insn, 1);
    if (nnfdrv_insn_set_lut(insn, (unsigned)p->lut_slots[A->base.index][0]) != NNFDRV_OK) p->ok = 0;
  }
}

static void put_ew(nnf_plan *p, const nnfm_ew_params *e, uint32_t N, uint32_t M, uint32_t a, uint32_t b, uint32_t o,
                   int lut, int lut_idx) {
  uint8_t *insn = nnf_plan_insn(p);
  nnfdrv_ew w = {*e, (uint16_t)N, (uint16_t)M, a, b, o, lut, (uint8_t)lut_idx};
  if (!insn || nnfdrv_insn_ew(insn, &w) != NNFDRV_OK) p->ok = 0;
}

static void put_ln(nnf_plan *p, const nnfm_layernorm_params *L, uint32_t T, int32_t zp_in, uint32_t a, uint32_t pb,
                   uint32_t o) {
  uint8_t *insn = nnf_plan_insn(p);
  nnfdrv_row r = {NNFM_ROW_LAYERNORM, 0, (uint16_t)L->d, (uint16_t)T, a, o, zp_in, L->zp_out, L->eps_q, pb};
  if (!insn || nnfdrv_insn_row(insn, &r) != NNFDRV_OK) p->ok = 0;
}

static uint8_t *put_actw(nnf_plan *p, int tr, int sum, int32_t za, uint32_t n, uint32_t m, uint32_t a, uint32_t w,
                         uint32_t pb) {
  uint8_t *insn = nnf_plan_insn(p);
  nnfdrv_actw c = {tr, sum, za, (uint16_t)n, (uint16_t)m, a, w, pb};
  if (!insn || nnfdrv_insn_actw(insn, &c) != NNFDRV_OK) return p->ok = 0, NULL;
  return insn;
}

static void set_rel(nnf_plan *p, uint8_t *insn, int a_rel, int o_rel) {
  if (insn && nnfdrv_insn_set_rel(insn, a_rel, o_rel, 0) != NNFDRV_OK) p->ok = 0;
}

/* Self-attention on the tokens at x (T x E) into o: in_proj, the heads
 * (looped with FEAT_REL), out_proj. */
static void emit_mha(nnf_plan *p, const attn *A, const attn_dev *D, uint32_t x, uint32_t o) {
  const uint32_t rows = (uint32_t)p->cfg->rows, T = (uint32_t)A->T, E = (uint32_t)A->d, H = (uint32_t)A->c.heads;
  const uint32_t dh = E / H, DP = head_pad(A, rows), DT = DP / rows, S = DT * T; /* a head's words */
  put_dense(p, A, &A->qp[0], T, E, 3 * H * DP, x, D->w[DW_IN], D->p[DP_IN], D->a[DA_QKV]);
  const int loop = (p->features & NNFP_FEAT_REL) && H > 1;
  for (uint32_t h = 0; h < (loop ? 1 : H); h++) {
    const uint32_t q = D->a[DA_QKV] + h * S, k = q + H * S, v = k + H * S, lg = D->a[DA_LG];
    int body = p->pc;
    /* K_h^T into W; Q_h K_h^T; softmax in place; V_h into W with 128 colsum(V) as the biases; P V_h */
    set_rel(p, put_actw(p, 1, 0, 0, dh, T, k, D->w[DW_X], 0), loop, 0);
    set_rel(p, put_gemm(p, T, dh, T, q, D->w[DW_X], D->p[DP_LG], lg, A->mm[0].zp, -128, 127, NNFM_ROUND_SINGLE), loop,
            0);
    uint8_t *r = nnf_plan_insn(p);
    nnfdrv_row sm = {NNFM_ROW_SOFTMAX, p->row_tbl[A->base.index], (uint16_t)T, (uint16_t)T, lg, lg, 0, 0, 0, 0};
    if (!r || nnfdrv_insn_row(r, &sm) != NNFDRV_OK) p->ok = 0;
    set_rel(p, put_actw(p, 0, 1, Z_PROB, dh, T, v, D->w[DW_X], D->p[DP_CX]), loop, 0);
    set_rel(p,
            put_gemm(p, T, T, dh, lg, D->w[DW_X], D->p[DP_CX], D->a[DA_CTX] + h * S, A->mm[1].zp, -128, 127,
                     NNFM_ROUND_SINGLE),
            0, loop);
    if (loop) {
      uint8_t *lp = nnf_plan_insn(p);
      if (!lp || nnfdrv_insn_loop_stride(lp, (uint32_t)body, H, S) != NNFDRV_OK) p->ok = 0;
    }
  }
  put_dense(p, A, &A->qo, T, H * DP, E, D->a[DA_CTX], D->w[DW_OUT], D->p[DP_OUT], o);
}

static int attn_emit(nnf_layer *l, struct nnf_plan *p) {
  attn *A = (attn *)l;
  const attn_dev *D = dev_of(A);
  const int i = l->index;
  const uint32_t T = (uint32_t)A->T, Ti = (uint32_t)A->Ti, E = (uint32_t)A->d, F = (uint32_t)A->c.ff;
  const uint32_t x = nnf_plan_input(p, i), y = p->act[i + 1];
  const int32_t zx = l->net->t[i].r.zp;
  switch (A->kind) {
    case NNF_ATTN_EMBED: put_dense(p, A, &A->qe, T, (uint32_t)A->din, E, x, D->w[DW_IN], D->p[DP_IN], y); break;
    case NNF_ATTN_POSEMBED: put_ew(p, &A->ew[0], E, T, x, D->a[DA_C], y, 0, 0); break;
    case NNF_ATTN_CLSTOKEN: { /* each channel tile's Ti rows mapped to rows 1.. of the output's (T apart) */
      const uint32_t rows = (uint32_t)p->cfg->rows;
      for (uint32_t ct = 0; ct * rows < E; ct++)
        put_ew(p, &A->ew[0], E - ct * rows < rows ? E - ct * rows : rows, Ti, x + ct * Ti, 0, y + ct * T + 1, 0, 0);
      break;
    }
    case NNF_ATTN_MEANPOOL:
    case NNF_ATTN_CLSPOOL: {
      int mean = A->kind == NNF_ATTN_MEANPOOL;
      const nnfm_ew_params *e = &A->ew[0];
      put_actw(p, 0, 0, 0, E, Ti, x, D->w[DW_X], 0);
      put_gemm(p, 1, Ti, E, D->a[DA_C], D->w[DW_X], D->p[DP_IN], y, mean ? nnf_layer_range(l)->zp : e->zp,
               mean ? -128 : e->lo, mean ? 127 : e->hi, mean ? NNFM_ROUND_SINGLE : e->round);
      break;
    }
    case NNF_ATTN_LAYERNORM: put_ln(p, &A->ln[0], T, zx, x, D->p[DP_LN0], y); break;
    case NNF_ATTN_GELU: {
      /* the table alone: an EW MAP whose requantization is the identity */
      nnfm_ew_params id = {.op = NNFM_EW_MAP, .m0 = 1 << 30, .shift = 1, .lo = -128, .hi = 127};
      put_ew(p, &id, E, T, x, 0, y, 1, p->lut_slots[i][0]);
      break;
    }
    case NNF_ATTN_MHA: emit_mha(p, A, D, x, y); break;
    case NNF_ATTN_ENCODER: {
      const uint32_t *a = D->a;
      const nnf_qrange *rg = A->rg;
      if (A->c.norm_first) { /* x + sa = r1; r1 + ff(norm2(r1)) */
        put_ln(p, &A->ln[0], T, zx, x, D->p[DP_LN0], a[DA_U]);
        emit_mha(p, A, D, a[DA_U], a[DA_SA]);
        put_ew(p, &A->ew[0], E, T, x, a[DA_SA], a[DA_R1], 0, 0);
        put_ln(p, &A->ln[1], T, rg[R_R1].zp, a[DA_R1], D->p[DP_LN1], a[DA_X1]);
        put_dense(p, A, &A->q1, T, E, F, a[DA_X1], D->w[DW_1], D->p[DP_1], a[DA_H]);
        put_dense(p, A, &A->q2, T, F, E, a[DA_H], D->w[DW_2], D->p[DP_2], a[DA_F]);
        put_ew(p, &A->ew[1], E, T, a[DA_R1], a[DA_F], y, 0, 0);
      } else { /* norm1(x + sa) = x1; norm2(x1 + ff(x1)) */
        emit_mha(p, A, D, x, a[DA_SA]);
        put_ew(p, &A->ew[0], E, T, x, a[DA_SA], a[DA_R1], 0, 0);
        put_ln(p, &A->ln[0], T, rg[R_R1].zp, a[DA_R1], D->p[DP_LN0], a[DA_X1]);
        put_dense(p, A, &A->q1, T, E, F, a[DA_X1], D->w[DW_1], D->p[DP_1], a[DA_H]);
        put_dense(p, A, &A->q2, T, F, E, a[DA_H], D->w[DW_2], D->p[DP_2], a[DA_F]);
        put_ew(p, &A->ew[1], E, T, a[DA_X1], a[DA_F], a[DA_R2], 0, 0);
        put_ln(p, &A->ln[1], T, rg[R_R2].zp, a[DA_R2], D->p[DP_LN1], y);
      }
      break;
    }
    default: p->ok = 0; break;
  }
  return p->ok ? 0 : -1;
}

static void attn_destroy(nnf_layer *l) {
  attn *A = (attn *)l;
  free_cache(A);
  nnf_dense *ds[5] = {&A->lin, &A->in_proj, &A->out_proj, &A->lin1, &A->lin2};
  for (int k = 0; k < 5; k++) nnf_dense_free(ds[k]);
  free(A->tab), free(A->dtab);
  for (int k = 0; k < 2; k++) free(A->nw[k]), free(A->nb[k]), free(A->dnw[k]), free(A->dnb[k]);
  nnf_qlayer *qs[7] = {&A->qe, &A->qp[0], &A->qp[1], &A->qp[2], &A->qo, &A->q1, &A->q2};
  for (int k = 0; k < 7; k++) nnf_qlayer_free(qs[k]);
  for (int k = 0; k < 2; k++) free(A->ln[k].m0), free(A->ln[k].shift), free(A->ln[k].sign), free(A->ln[k].bias);
  free(A->inproj_fq), free(A->tabq);
  free(A);
}

#define ATTN_OPS(name)                                                                                          \
  {                                                                                                             \
    .kind = name, .shape = attn_shape, .forward = attn_forward, .backward = attn_backward,                     \
    .params = attn_params, .qparams = attn_qparams, .quantize = attn_quantize, .plan = attn_plan,               \
    .pack = attn_pack, .emit = attn_emit, .luts = attn_luts, .softmax_table = attn_softmax_table,               \
    .input = attn_input, .describe = attn_describe, .destroy = attn_destroy,                                    \
  }

static const nnf_layer_ops attn_ops[NNF_ATTN_ENCODER + 1] = {
    ATTN_OPS("TokenLinear"), ATTN_OPS("PositionalEmbedding"), ATTN_OPS("ClassToken"),
    ATTN_OPS("TokenPool"),   ATTN_OPS("TokenPool"),           ATTN_OPS("LayerNorm"),
    ATTN_OPS("GELU"),        ATTN_OPS("MultiheadAttention"),  ATTN_OPS("TransformerEncoderLayer"),
};

static nnf_layer *refuse(char *err, size_t errlen, const char *fmt, const char *kind, int a, int b) {
  nnf_fail(err, errlen, fmt, kind, a, b);
  return NULL;
}

nnf_layer *nnf_attn(nnf_attn_kind kind, const nnf_attn_config *cfg, char *err, size_t errlen) {
  if ((unsigned)kind > NNF_ATTN_ENCODER) return refuse(err, errlen, "%s: unknown attention layer kind %d", "?", (int)kind, 0);
  nnf_attn_config c = cfg ? *cfg : nnf_attn_defaults();
  const char *k = kind_names[kind];
  int needs_d = kind == NNF_ATTN_MHA || kind == NNF_ATTN_ENCODER || kind == NNF_ATTN_EMBED;
  if (c.d < (needs_d ? 1 : 0) || c.d > 65535)
    return refuse(err, errlen, "%s: %d features a token, not 1..65535", k, c.d, 0);
  if (kind == NNF_ATTN_EMBED && (c.in < 0 || c.in > 65535))
    return refuse(err, errlen, "%s: %d input features a token, not 1..65535", k, c.in, 0);
  if (kind == NNF_ATTN_POSEMBED && (c.positions < 1 || c.positions > 65535))
    return refuse(err, errlen, "%s: %d positions, not 1..65535", k, c.positions, 0);
  if (kind == NNF_ATTN_MHA || kind == NNF_ATTN_ENCODER) {
    if (c.heads < 1 || c.heads > c.d) return refuse(err, errlen, "%s: %d heads, not 1..d_model (%d)", k, c.heads, c.d);
    if (c.d % c.heads)
      return refuse(err, errlen, "%s: d_model %d is not a multiple of the %d heads", k, c.d, c.heads);
  }
  if (kind == NNF_ATTN_ENCODER) {
    if (!c.ff) c.ff = 4 * c.d;
    if (c.ff < 1 || c.ff > 65535) return refuse(err, errlen, "%s: dim_feedforward %d, not 1..65535", k, c.ff, 0);
  }
  if ((kind == NNF_ATTN_LAYERNORM || kind == NNF_ATTN_ENCODER) && !(c.eps > 0 && c.eps < 1)) {
    nnf_fail(err, errlen, "%s: eps %g, not in (0, 1)", k, c.eps);
    return NULL;
  }
  if ((unsigned)c.gelu > 1 || (unsigned)c.tanh_approx > 1 || (unsigned)c.norm_first > 1)
    return refuse(err, errlen, "%s: a flag is 0 or 1 (act %d, norm_first %d)", k, c.gelu, c.norm_first);
  attn *A = calloc(1, sizeof *A);
  if (!A) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  A->base.ops = &attn_ops[kind];
  A->kind = kind;
  A->c = c;
  A->d = c.d;
  return &A->base;
}

/* ---- the checkpoints' form ------------------------------------------------------------------
 * Read loosely (positional integers, key=value), then the layer must
 * describe itself as exactly tok: whatever does not round-trip is refused. */
nnf_layer *nnf_attn_layer_parse(const char *tok, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  size_t name = strcspn(tok, "(");
  int kind = -1;
  for (int k = 0; k <= NNF_ATTN_ENCODER && kind < 0; k++)
    if (strlen(kind_names[k]) == name && !strncmp(tok, kind_names[k], name)) kind = k;
  if (kind < 0) return NULL;
  nnf_attn_config c = nnf_attn_defaults();
  int pos[2] = {0, 0}, np = 0, bad = 0;
  char args[512];
  snprintf(args, sizeof args, "%s", tok[name] == '(' ? tok + name + 1 : "");
  size_t al = strlen(args);
  if (tok[name] == '(' && (!al || args[al - 1] != ')')) bad = 1;
  if (al) args[--al] = 0;
  for (char *s = args, *e; !bad && *s; s = *e ? e + 1 : e) {
    e = s + strcspn(s, ",");
    char save = *e;
    *e = 0;
    char *eq = strchr(s, '=');
    if (!eq) {
      if (np == 2) bad = 1;
      else pos[np++] = atoi(s);
    } else {
      *eq = 0;
      const char *v = eq + 1;
      if (!strcmp(s, "dim_feedforward")) c.ff = atoi(v);
      else if (!strcmp(s, "eps") || !strcmp(s, "layer_norm_eps")) c.eps = strtod(v, NULL);
      else if (!strcmp(s, "activation")) c.gelu = !strcmp(v, "'gelu'");
      else if (!strcmp(s, "approximate")) c.tanh_approx = !strcmp(v, "'tanh'");
      else if (!strcmp(s, "norm_first")) c.norm_first = !strcmp(v, "True");
      else if (!strcmp(s, "mode")) kind = !strcmp(v, "'cls'") ? NNF_ATTN_CLSPOOL : NNF_ATTN_MEANPOOL;
      else if (strcmp(s, "dropout") && strcmp(s, "batch_first")) bad = 1;
    }
    *e = save;
  }
  switch (kind) {
    case NNF_ATTN_EMBED: c.in = pos[0], c.d = pos[1]; break;
    case NNF_ATTN_POSEMBED: c.positions = pos[0], c.d = pos[1]; break;
    case NNF_ATTN_MHA:
    case NNF_ATTN_ENCODER: c.d = pos[0], c.heads = pos[1]; break;
    default: c.d = pos[0]; break;
  }
  if (kind != NNF_ATTN_GELU && c.d < 1) bad = 1; /* the form always has d */
  nnf_layer *l = bad ? NULL : nnf_attn((nnf_attn_kind)kind, &c, err, errlen);
  char again[512];
  if (l) attn_describe(l, again, sizeof again);
  if (l && strcmp(again, tok)) {
    attn_destroy(l);
    l = NULL;
  }
  if (!l) nnf_fail(err, errlen, "malformed attention layer '%.80s'", tok);
  return l;
}
