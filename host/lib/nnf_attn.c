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
 * Float only: FAKEQUANT, INT, DEVICE and the device compiler refuse these
 * layers with a message naming them (the device part of issue 26 is next).
 */
#include "nnf_compile.h"
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
} attn;

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
 * out: (B, T, E) = ctx W_out^T + b_out */
static void mha_forward(attn *A, const float *u, float *out, int B) {
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
      nnf_softmax_forward(p, p, T, T);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f, p, T, v, 3 * E, 0.0f,
                  ctx + (size_t)b * T * E + h * dh, E);
    }
  nnf_dense_forward(&A->out_proj, NULL, ctx, out, R);
}

/* dout: (B, T, E) -> dctx (out_proj's backward, into C_G3), per sequence and head
 * dP = dctx_h v_h^T, dv_h = P^T dctx_h, dS = softmax'(dP), dq_h = dS k_h / sqrt(dh),
 * dk_h = dS q_h (q scaled); then du: (B, T, E) = dqkv W_in (written; NULL: none) */
static void mha_backward(attn *A, const float *u, const float *dout, float *du, int B, int accumulate) {
  const int T = A->T, E = A->d, H = A->c.heads, dh = E / H, R = B * T;
  const float *qkv = A->buf[C_QKV], *P = A->buf[C_P];
  float *dctx = A->buf[C_G3], *dqkv = A->buf[C_GQKV], *dP = A->buf[C_GP];
  nnf_dense_backward(&A->out_proj, NULL, A->buf[C_CTX], dout, dctx, R, accumulate);
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
  nnf_dense_backward(&A->in_proj, NULL, u, dqkv, du, R, accumulate);
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
static void ff_backward(attn *A, const float *v, const float *dout, float *dv, int R, int accumulate) {
  float *h = A->buf[C_H], *a = A->buf[C_A], *da = A->buf[C_GF];
  size_t n = (size_t)R * A->c.ff;
  nnf_dense_backward(&A->lin2, NULL, a, dout, da, R, accumulate);
  if (A->c.gelu) gelu_backward(h, da, da, n, 0);
  else nnf_act_backward(NNF_ACT_RELU, h, a, da, da, n);
  nnf_dense_backward(&A->lin1, NULL, v, da, dv, R, accumulate);
}

/* TransformerEncoderLayer, x: (B, T, d) -> y: (B, T, d):
 *   post-norm  x1 = norm1(x + sa(x)),   y = norm2(x1 + ff(x1))
 *   pre-norm   x1 = x + sa(norm1(x)),   y = x1 + ff(norm2(x1)) */
static void enc_forward(attn *A, const float *x, float *y, int B) {
  const int R = B * A->T, D = A->d;
  const size_t n = (size_t)R * D;
  float **c = A->buf;
  if (!A->c.norm_first) {
    mha_forward(A, x, c[C_SA], B);
    sum_of(c[C_R1], x, c[C_SA], n);
    ln_forward(c[C_R1], A->nw[0], A->nb[0], c[C_X1], c[C_M1], R, D, A->c.eps);
    ff_forward(A, c[C_X1], c[C_G1], R);
    sum_of(c[C_R2], c[C_X1], c[C_G1], n);
    ln_forward(c[C_R2], A->nw[1], A->nb[1], y, c[C_M2], R, D, A->c.eps);
    return;
  }
  ln_forward(x, A->nw[0], A->nb[0], c[C_U], c[C_M1], R, D, A->c.eps);
  mha_forward(A, c[C_U], c[C_SA], B);
  sum_of(c[C_R1], x, c[C_SA], n);
  ln_forward(c[C_R1], A->nw[1], A->nb[1], c[C_X1], c[C_M2], R, D, A->c.eps);
  ff_forward(A, c[C_X1], c[C_G1], R);
  sum_of(y, c[C_R1], c[C_G1], n);
}

/* dy: (B, T, d) -> dx: (B, T, d) (NULL: the first layer) and every parameter's gradient */
static void enc_backward(attn *A, const float *x, const float *dy, float *dx, int B, int acc) {
  const int R = B * A->T, D = A->d;
  const size_t n = (size_t)R * D;
  float **c = A->buf, *g1 = c[C_G1], *g2 = c[C_G2];
  if (!A->c.norm_first) {
    ln_backward(c[C_R2], A->nw[1], c[C_M2], dy, g1, A->dnw[1], A->dnb[1], R, D, acc); /* d(x1 + ff) */
    ff_backward(A, c[C_X1], g1, g2, R, acc);
    add_to(g2, g1, n);                                                                 /* d x1 */
    ln_backward(c[C_R1], A->nw[0], c[C_M1], g2, g1, A->dnw[0], A->dnb[0], R, D, acc); /* d(x + sa) */
    mha_backward(A, x, g1, dx, B, acc);
    if (dx) add_to(dx, g1, n);
    return;
  }
  ff_backward(A, c[C_X1], dy, g2, R, acc);
  ln_backward(c[C_R1], A->nw[1], c[C_M2], g2, g1, A->dnw[1], A->dnb[1], R, D, acc);
  add_to(g1, dy, n);                                                                   /* d x1 */
  mha_backward(A, c[C_U], g1, g2, B, acc);
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

#define FLOAT_ONLY "attention runs in float only for now; the device path is issue 26's next step"

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
    case NNF_ATTN_EMBED: ok = !nnf_dense_init(&A->lin, c->in, c->d); break;
    case NNF_ATTN_POSEMBED:
    case NNF_ATTN_CLSTOKEN: {
      size_t n = (size_t)(A->kind == NNF_ATTN_POSEMBED ? c->positions : 1) * A->d;
      ok = (A->tab = zalloc(n)) && (A->dtab = zalloc(n));
      break;
    }
    case NNF_ATTN_ENCODER:
      ok = !nnf_dense_init(&A->lin1, A->d, c->ff) && !nnf_dense_init(&A->lin2, c->ff, A->d);
      /* fall through - the attention and the norms */
    case NNF_ATTN_MHA:
      ok = ok && !nnf_dense_init(&A->in_proj, A->d, 3 * A->d) && !nnf_dense_init(&A->out_proj, A->d, A->d);
      if (A->kind == NNF_ATTN_MHA) break;
      /* fall through */
    case NNF_ATTN_LAYERNORM:
      for (int k = 0; k < (A->kind == NNF_ATTN_ENCODER ? 2 : 1) && ok; k++) {
        ok = (A->nw[k] = zalloc(A->d)) && (A->nb[k] = zalloc(A->d)) && (A->dnw[k] = zalloc(A->d)) &&
             (A->dnb[k] = zalloc(A->d));
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
  for (int k = 0; k < C_N; k++) free(A->buf[k]), A->buf[k] = NULL;
  A->cap = 0;
}

static int reserve(attn *A, int B) {
  if (B <= A->cap) return 0;
  free_cache(A);
  size_t s[C_N];
  attn_sizes(A, (size_t)B, s);
  for (int k = 0; k < C_N; k++)
    if (s[k] && !(A->buf[k] = malloc(s[k] * sizeof(float)))) {
      free_cache(A);
      return -1;
    }
  A->cap = B;
  return 0;
}

/* x: (B, Ti, din) -> y: (B, T, d) */
static int attn_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  attn *A = (attn *)l;
  if (p->mode != NNF_FWD_FLOAT) return fail_layer(l, err, errlen, FLOAT_ONLY);
  const int B = p->batch, T = A->T, Ti = A->Ti, D = A->d;
  if (reserve(A, B)) return fail_layer(l, err, errlen, "out of memory");
  y->steps = x->steps;
  const float *xf = x->f;
  float *yf = y->f;
  const size_t n = (size_t)B * l->out;
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
    case NNF_ATTN_MHA: mha_forward(A, xf, yf, B); break;
    case NNF_ATTN_ENCODER: enc_forward(A, xf, yf, B); break;
  }
  /* the boundary's range, as every layer observes its output (checkpoints keep it) */
  if (p->observe) nnf_qrange_observe(&y->r, yf, n, nnf_observer_momentum(l->net, p));
  return 0;
}

static void attn_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                          float *dx, int acc) {
  attn *A = (attn *)l;
  const int B = p->batch, T = A->T, Ti = A->Ti, D = A->d;
  const float *xf = x->f;
  (void)y;
  switch (A->kind) {
    case NNF_ATTN_EMBED: nnf_dense_backward(&A->lin, NULL, xf, dy, dx, B * T, acc); break;
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
    case NNF_ATTN_MHA: mha_backward(A, xf, dy, dx, B, acc); break;
    case NNF_ATTN_ENCODER: enc_backward(A, xf, dy, dx, B, acc); break;
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

/* The device compiler: not yet (refused before anything runs). */
static int attn_plan(nnf_layer *l, struct nnf_plan *p, char *err, size_t errlen) {
  (void)p;
  return fail_layer(l, err, errlen, FLOAT_ONLY);
}

static int attn_emit(nnf_layer *l, struct nnf_plan *p) {
  (void)l, (void)p;
  return -1;
}

static void attn_destroy(nnf_layer *l) {
  attn *A = (attn *)l;
  free_cache(A);
  nnf_dense *ds[5] = {&A->lin, &A->in_proj, &A->out_proj, &A->lin1, &A->lin2};
  for (int k = 0; k < 5; k++) nnf_dense_free(ds[k]);
  free(A->tab), free(A->dtab);
  for (int k = 0; k < 2; k++) free(A->nw[k]), free(A->nb[k]), free(A->dnw[k]), free(A->dnb[k]);
  free(A);
}

#define ATTN_OPS(name)                                                                                          \
  {                                                                                                             \
    .kind = name, .shape = attn_shape, .forward = attn_forward, .backward = attn_backward,                     \
    .params = attn_params, .plan = attn_plan, .emit = attn_emit, .describe = attn_describe,                     \
    .destroy = attn_destroy,                                                                                    \
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
