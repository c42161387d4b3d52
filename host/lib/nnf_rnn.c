/*
 * nnf_rnn.c - the recurrent layers: Elman RNN (tanh, ReLU), GRU and LSTM as
 * torch.nn.RNN / GRU / LSTM with batch_first=True, num_layers=1, one
 * direction, zero initial states (see nnf_layer.h, docs/host.md "Recurrent
 * layers").
 *
 * A boundary row is one whole sequence, PyTorch's (B, T, I) tensor flat and
 * contiguous: width = T * I. The output is the last hidden state h_T (width
 * H) or, with seq = 1, every step's hidden state (PyTorch's `output`, width
 * T * H). The spiking networks' time axis (nnf_tensor.steps) is not used.
 *
 * Gates, in PyTorch's row order of weight_ih (G*H x I) and weight_hh
 * (G*H x H), G = 1, 3, 4:
 *   RNN   h' = act(W_ih x + b_ih + W_hh h + b_hh)
 *   GRU   r, z, n:  r = sig(x_r + h_r), z = sig(x_z + h_z),
 *                   n = tanh(x_n + r * h_n), h' = (h - n) * z + n    (= (1-z) n + z h)
 *   LSTM  i, f, g, o: c' = f * c + i * g, h' = o * tanh(c')
 * where x_* = W_i* x + b_i* and h_* = W_h* h + b_h* (the input and hidden
 * projections; the GRU's r multiplies the whole hidden projection of n,
 * its bias included, as PyTorch's). The forms of the updates follow ATen's
 * CPU cells (RNN.cpp) so the float roundings are as close as they can be.
 *
 * The forward keeps what the backward needs (gates, states) and the backward
 * reuses that cache as its scratch: one backward per forward, as the
 * training loop runs them.
 *
 * Quantized: FAKEQUANT and INT run the int8 step of docs/rnn.md on the host
 * (below); the device runs INT's step bit for bit as one loop body
 * (rnn_plan .. rnn_emit, at the end).
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

#include "nnf_proto.h"

/* An elementwise op of the int8 step: its operands' and output's
 * quantization, an optional LUT, and the functional model's parameters
 * derived from them. */
#define RNN_RANGES 7
typedef struct {
  int op;                    /* NNFM_EW_* */
  double sa, sb, so;
  int32_t za, zb, zo, lo, hi;
  const int8_t *lut;
  nnfm_ew_params p;
} ew_io;

typedef struct {
  nnf_layer base;
  nnf_rnn_kind kind;
  int H, ni, T, G;       /* hidden size, features per step (0: from the input), steps, gates */
  int seq;              /* 1: every step's hidden state; 0: h_T */
  float *w_ih, *w_hh, *b_ih, *b_hh;        /* (GH, I), (GH, H), (GH), (GH) */
  float *dw_ih, *dw_hh, *db_ih, *db_hh;
  /* the forward's cache, for cap sequences */
  int cap;
  float *xw;    /* (B, T, GH)   W_ih x + b_ih; backward: the input-side pre-activation gradients */
  float *hw;    /* (T, B, GH)   W_hh h + b_hh; backward: the hidden-side ones */
  float *gate;  /* (T, B, GH)   the gates after their nonlinearity (GRU, LSTM) */
  float *hs;    /* (T+1, B, H)  hidden states, hs[0] = 0 */
  float *cs;    /* (T+1, B, H)  LSTM cell states, cs[0] = 0 */
  float *dh, *dc, *dn;  /* (B, H) each */
  /* the int8 step (docs/rnn.md "A recurrent step"; quantized modes) */
  nnf_qrange rg[RNN_RANGES];  /* the observed intermediates (range_names) */
  nnf_qlayer qg[3];           /* the gate GEMMs (gemm blocks below) */
  ew_io ew[5];                /* the elementwise ops */
  int8_t lut_tanh[256];       /* GRU: n's tanh; LSTM: tanh(c) */
  float *wih_fq, *whh_fq;     /* the fake-quant weights (GH, I), (GH, H): the quantized backward's */
  int8_t *qa, *qx;            /* (B, I+H), (B, I): GEMM inputs of a step */
  int8_t *qo[5];              /* (B, GH) each: a step's int8 intermediates */
  int8_t *qhs, *qcs;          /* (B, H): the int8 states */
  float *fa, *fz;             /* (B, I+H), (B, GH): the fake-quant GEMM's floats */
  int qcap;
  /* the device plan (rnn_plan): W and P of the gate GEMMs, the step's
   * scratch tensors in ACT (fixed: the step body reads them absolute) */
  uint32_t dw[3], dp[3], scratch[5];
} rnn;

/* The fixed quantizations (TFLite's LOGISTIC and TANH outputs; the hidden
 * state of the tanh kinds is a tanh output) and the observed intermediates. */
#define S_SIG (1.0 / 256.0)
#define Z_SIG (-128)
#define S_TANH (1.0 / 128.0)
#define Z_TANH 0
enum { T_PRE = 0 };                                              /* RNN tanh */
enum { G_PRZ = 0, G_GIN, G_GHN, G_RGH, G_PN, G_D, G_ZD };        /* GRU */
enum { L_PIFO = 0, L_PG, L_FC, L_IG, L_C };                      /* LSTM */
static const int n_ranges[4] = {1, 0, 7, 5};
#define OBS_H RNN_RANGES /* the observation slot of a ReLU RNN's h (its boundary's range) */

/* A pass's min / max of one intermediate, folded into its observer at the end. */
typedef struct {
  float lo, hi;
  int any;
} minmax;

static inline void mm_add(minmax *m, float v) {
  if (!m->any) m->lo = m->hi = v, m->any = 1;
  else m->lo = v < m->lo ? v : m->lo, m->hi = v > m->hi ? v : m->hi;
}

static void mm_fold(nnf_qrange *q, const minmax *m, float momentum) {
  float v[2] = {m->lo, m->hi};
  if (m->any) nnf_qrange_observe(q, v, 2, momentum);
}

/* The observers of the step's ranges move at least 10 times as fast as the
 * network's (0.1 a pass against MovingAverageMinMaxObserver's 0.01): the
 * ranges of a recurrent state grow with training and feed back through T
 * steps, so a lagging clamp compounds. Measured on sequential
 * Fashion-MNIST (3000 images, 6 epochs, Adam lr 0.01, seed 3, QAT on the
 * host): lstm(32),dense(10) 49.6 % test accuracy with these observers at
 * 0.01, 72.8 % at 0.1 (77.7 % in float); gru(32) 79.2 % (float 77.3 %). */
#define RNN_MOMENTUM 0.1

static float rnn_momentum(const nnf_layer *l, const nnf_pass *p) {
  double m = nnf_observer_momentum(l->net, p), fast = 1.0 - pow(1.0 - RNN_MOMENTUM, p->every > 1 ? p->every : 1);
  return (float)(m > fast ? m : fast);
}

static const char *const kind_names[] = {"RNN", "RNN", "GRU", "LSTM"};
static const char *const grammar_names[] = {"rnn", "rnn", "gru", "lstm"};

static const nnf_layer_ops rnn_ops[4];

static rnn *as_rnn(const nnf_layer *l) {
  for (int k = 0; k < 4; k++)
    if (l && l->ops == &rnn_ops[k]) return (rnn *)l;
  return NULL;
}

int nnf_layer_rnn(const nnf_layer *l, nnf_rnn_kind *kind, int *hidden, int *in, int *seq) {
  const rnn *R = as_rnn(l);
  if (!R) return -1;
  if (kind) *kind = R->kind;
  if (hidden) *hidden = R->H;
  if (in) *in = R->ni;
  if (seq) *seq = R->seq;
  return 0;
}

void nnf_rnn_grammar(const nnf_layer *l, char *buf, size_t len) {
  const rnn *R = as_rnn(l);
  if (!R) {
    snprintf(buf, len, "?");
    return;
  }
  int n = snprintf(buf, len, "%s(%d", grammar_names[R->kind], R->H);
  if (R->ni && n >= 0 && (size_t)n < len) n += snprintf(buf + n, len - n, ",in=%d", R->ni);
  if (R->kind == NNF_RNN_RELU && n >= 0 && (size_t)n < len) n += snprintf(buf + n, len - n, ",act=relu");
  if (R->seq && n >= 0 && (size_t)n < len) n += snprintf(buf + n, len - n, ",seq=1");
  if (n >= 0 && (size_t)n < len) snprintf(buf + n, len - n, ")");
}

/* A device forward computes the layer on the device (nnf_device_forward
 * reads its outputs back): never through the layer's forward. */
static int refuse_quantized(const nnf_layer *l, char *err, size_t errlen) {
  char g[96];
  nnf_rnn_grammar(l, g, sizeof g);
  return nnf_fail(err, errlen, "layer %d '%s': a device forward runs recurrent layers on the device (nnf_device_forward)",
                  l->index, g);
}

static void free_cache(rnn *R) {
  free(R->xw);
  free(R->hw);
  free(R->gate);
  free(R->hs);
  free(R->cs);
  free(R->dh);
  free(R->dc);
  free(R->dn);
  R->xw = R->hw = R->gate = R->hs = R->cs = R->dh = R->dc = R->dn = NULL;
  R->cap = 0;
}

static int reserve(rnn *R, int B) {
  if (B <= R->cap) return 0;
  free_cache(R);
  size_t T = (size_t)R->T, H = (size_t)R->H, GH = (size_t)R->G * H, b = (size_t)B;
  R->xw = malloc(b * T * GH * sizeof(float));
  R->hw = malloc(T * b * GH * sizeof(float));
  R->gate = malloc(T * b * GH * sizeof(float));
  R->hs = malloc((T + 1) * b * H * sizeof(float));
  R->cs = malloc((T + 1) * b * H * sizeof(float));
  R->dh = malloc(b * H * sizeof(float));
  R->dc = malloc(b * H * sizeof(float));
  R->dn = malloc(b * H * sizeof(float));
  if (!R->xw || !R->hw || !R->gate || !R->hs || !R->cs || !R->dh || !R->dc || !R->dn) {
    free_cache(R);
    return -1;
  }
  R->cap = B;
  return 0;
}

static int rnn_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  rnn *R = (rnn *)l;
  const char *k = kind_names[R->kind];
  if (*steps > 1)
    return nnf_fail(err, errlen, "layer %d (%s): takes rows of whole sequences, not a spiking network's %d time steps",
                    l->index, k, *steps);
  if (!R->ni) {
    /* in omitted: a map's rows (C x H x W: C*H steps of W), or the
     * sequence output of a recurrent layer before it (its hidden size) */
    const nnf_layer *prev = l->index > 0 ? l->net->layer[l->index - 1] : NULL;
    const rnn *P = as_rnn(prev);
    if (l->imap) R->ni = l->iw;
    else if (P && P->seq) R->ni = P->H;
    else
      return nnf_fail(err, errlen,
                      "layer %d (%s): needs in= (the features of one step) for flat rows of %d features", l->index,
                      k, in);
  }
  if (in % R->ni)
    return nnf_fail(err, errlen, "layer %d (%s): its input rows of %d features are not whole steps of in=%d features",
                    l->index, k, in, R->ni);
  R->T = in / R->ni;
  size_t GH = (size_t)R->G * R->H;
  if ((double)GH * (R->ni + R->H) > (double)(1 << 27))
    return nnf_fail(err, errlen, "layer %d (%s): %zu x %d weights, more than 2^27", l->index, k, GH, R->ni + R->H);
  if ((size_t)R->T * R->H > 65535 * 256)
    return nnf_fail(err, errlen, "layer %d (%s): %d steps of %d outputs are too many", l->index, k, R->T, R->H);
  float **bufs[8] = {&R->w_ih, &R->w_hh, &R->b_ih, &R->b_hh, &R->dw_ih, &R->dw_hh, &R->db_ih, &R->db_hh};
  size_t sizes[4] = {GH * R->ni, GH * R->H, GH, GH};
  for (int j = 0; j < 8; j++)
    if (!(*bufs[j] = calloc(sizes[j % 4], sizeof(float))))
      return nnf_fail(err, errlen, "layer %d (%s): out of memory", l->index, k);
  /* the int8 step's GEMMs (rnn_quantize) and fake-quant weights */
  const int NI = R->ni, H = R->H, K = NI + H;
  int ok = (R->wih_fq = calloc(GH * NI, sizeof(float))) && (R->whh_fq = calloc(GH * H, sizeof(float)));
  if (R->kind == NNF_RNN_GRU)
    ok = ok && !nnf_qlayer_alloc(&R->qg[0], K, 2 * H) && !nnf_qlayer_alloc(&R->qg[1], NI, H) &&
         !nnf_qlayer_alloc(&R->qg[2], H, H);
  else if (R->kind == NNF_RNN_LSTM)
    ok = ok && !nnf_qlayer_alloc(&R->qg[0], K, 3 * H) && !nnf_qlayer_alloc(&R->qg[1], K, H);
  else
    ok = ok && !nnf_qlayer_alloc(&R->qg[0], K, H);
  if (!ok) return nnf_fail(err, errlen, "layer %d (%s): out of memory", l->index, k);
  /* h is a tanh output (the LUT's 1/128, 0), but a ReLU RNN's: observed */
  if (R->kind != NNF_RNN_RELU) nnf_qrange_fix(nnf_layer_range(l), S_TANH, Z_TANH);
  *out = R->seq ? R->T * R->H : R->H;
  l->oc = *out, l->oh = l->ow = 1, l->omap = 0;
  return 0;
}

/* Rows of a (rows x n) matrix set to the vector b. */
static void fill_rows(float *m, const float *b, size_t rows, size_t n) {
  for (size_t r = 0; r < rows; r++) memcpy(m + r * n, b, n * sizeof(float));
}

/* ---- forward ----------------------------------------------------------------------------
 * x: (B, T, I)  ->  xw: (B, T, GH) = x W_ih^T + b_ih (one GEMM over all steps)
 * per step t:  hw_t: (B, GH) = h_t W_hh^T + b_hh;  the cell: h_{t+1}: (B, H)
 * y: (B, H) = h_T, or (B, T, H) = h_1..h_T */
static void forward_float(rnn *R, const float *x, float *y, int B, minmax *obs) {
  const int T = R->T, ni = R->ni, H = R->H, GH = R->G * H;
  const size_t BH = (size_t)B * H, BGH = (size_t)B * GH;
  fill_rows(R->xw, R->b_ih, (size_t)B * T, GH);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * T, GH, ni, 1.0f, x, ni, R->w_ih, ni, 1.0f, R->xw, GH);
  memset(R->hs, 0, BH * sizeof(float));
  if (R->kind == NNF_RNN_LSTM) memset(R->cs, 0, BH * sizeof(float));
  for (int t = 0; t < T; t++) {
    const float *h = R->hs + t * BH;
    float *hn = R->hs + (t + 1) * BH, *hw = R->hw + t * BGH, *gt = R->gate + t * BGH;
    fill_rows(hw, R->b_hh, B, GH);
    if (t) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, GH, H, 1.0f, h, H, R->w_hh, H, 1.0f, hw, GH);
    for (int b = 0; b < B; b++) {
      const float *xg = R->xw + ((size_t)b * T + t) * GH, *hg = hw + (size_t)b * GH, *hp = h + (size_t)b * H;
      float *g = gt + (size_t)b * GH, *ho = hn + (size_t)b * H;
      switch (R->kind) {
        case NNF_RNN_TANH:
          for (int j = 0; j < H; j++) ho[j] = tanhf(xg[j] + hg[j]);
          if (obs)
            for (int j = 0; j < H; j++) mm_add(&obs[T_PRE], xg[j] + hg[j]);
          break;
        case NNF_RNN_RELU:
          for (int j = 0; j < H; j++) {
            float a = xg[j] + hg[j];
            ho[j] = a > 0.0f ? a : 0.0f;
          }
          if (obs)
            for (int j = 0; j < H; j++) mm_add(&obs[OBS_H], ho[j]);
          break;
        case NNF_RNN_GRU:
          for (int j = 0; j < H; j++) {
            float r = nnf_sigmoid(xg[j] + hg[j]), z = nnf_sigmoid(xg[H + j] + hg[H + j]);
            float n = tanhf(xg[2 * H + j] + hg[2 * H + j] * r);
            g[j] = r, g[H + j] = z, g[2 * H + j] = n;
            ho[j] = (hp[j] - n) * z + n;
          }
          if (obs) /* the int8 step's intermediates (docs/rnn.md) */
            for (int j = 0; j < H; j++) {
              float r = g[j], z = g[H + j], n = g[2 * H + j], rh = r * hg[2 * H + j];
              mm_add(&obs[G_PRZ], xg[j] + hg[j]);
              mm_add(&obs[G_PRZ], xg[H + j] + hg[H + j]);
              mm_add(&obs[G_GIN], xg[2 * H + j]);
              mm_add(&obs[G_GHN], hg[2 * H + j]);
              mm_add(&obs[G_RGH], rh);
              mm_add(&obs[G_PN], xg[2 * H + j] + rh);
              mm_add(&obs[G_D], hp[j] - n);
              mm_add(&obs[G_ZD], (hp[j] - n) * z);
            }
          break;
        case NNF_RNN_LSTM: {
          const float *cp = R->cs + t * BH + (size_t)b * H;
          float *co = R->cs + (t + 1) * BH + (size_t)b * H;
          for (int j = 0; j < H; j++) {
            float i = nnf_sigmoid(xg[j] + hg[j]), f = nnf_sigmoid(xg[H + j] + hg[H + j]);
            float gg = tanhf(xg[2 * H + j] + hg[2 * H + j]), o = nnf_sigmoid(xg[3 * H + j] + hg[3 * H + j]);
            g[j] = i, g[H + j] = f, g[2 * H + j] = gg, g[3 * H + j] = o;
            co[j] = f * cp[j] + i * gg;
            ho[j] = o * tanhf(co[j]);
          }
          if (obs)
            for (int j = 0; j < H; j++) {
              for (int k = 0; k < 4; k++) mm_add(&obs[k == 2 ? L_PG : L_PIFO], xg[k * H + j] + hg[k * H + j]);
              mm_add(&obs[L_FC], g[H + j] * cp[j]);
              mm_add(&obs[L_IG], g[j] * g[2 * H + j]);
              mm_add(&obs[L_C], co[j]);
            }
          break;
        }
      }
    }
  }
  if (!R->seq) {
    memcpy(y, R->hs + (size_t)T * BH, BH * sizeof(float));
    return;
  }
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++)
      memcpy(y + ((size_t)b * T + t) * H, R->hs + (t + 1) * BH + (size_t)b * H, H * sizeof(float));
}

/* ---- the int8 step (docs/rnn.md "A recurrent step") -------------------------------------
 * Per step, on [x_t, h_{t-1}] (B rows of I + H int8 values, each part with
 * its own zero point folded into the biases) the gate GEMMs, whose weights
 * [W_ih * s_x | W_hh * s_h] are quantized per output channel as one matrix,
 * then TFLite's elementwise ops:
 *   RNN   GEMM (N = H): tanh LUT, or ReLU clamp                         -> h
 *   GRU   GEMM rz (N = 2H, sigmoid LUT); GEMM x-part n (K = I) -> gin; GEMM h-part n
 *         (K = H) -> ghn; MUL r*ghn; ADD gin + that (tanh LUT) -> n; SUB h - n;
 *         MUL z*(h - n); ADD n + that                                      -> h
 *   LSTM  GEMM ifo (N = 3H, sigmoid LUT); GEMM g (N = H, tanh LUT); MUL f*c; MUL i*g;
 *         ADD -> c; MAP c (tanh LUT); MUL o*tanh(c)                        -> h
 * Sigmoid outputs are at 1/256 (zero point -128), tanh outputs and the
 * hidden state at 1/128 (0) (a ReLU RNN's h: its observed range), the
 * pre-activations, c and the other intermediates at observed ranges.
 * INT runs it through the functional model (nnfm_gemm, nnfm_ew: the
 * device's arithmetic); FAKEQUANT computes each op in float from the
 * dequantized operands (the fake-quant weights for the GEMMs) and quantizes
 * its result to the same int8 grid (nnfm_quantize_real), observing the
 * ranges on the way. Both keep the dequantized gates and states for the
 * backward, which passes straight through every rounding. */

static int reserve_q(rnn *R, int B) {
  if (B <= R->qcap) return 0;
  size_t b = (size_t)B, K = (size_t)R->ni + R->H, GH = (size_t)R->G * R->H;
  free(R->qa), free(R->qx), free(R->qhs), free(R->qcs), free(R->fa), free(R->fz);
  for (int k = 0; k < 5; k++) free(R->qo[k]), R->qo[k] = NULL;
  R->qa = malloc(b * K), R->qx = malloc(b * R->ni);
  R->qhs = malloc(b * R->H), R->qcs = malloc(b * R->H);
  R->fa = malloc(b * K * sizeof(float)), R->fz = malloc(b * GH * sizeof(float));
  int ok = R->qa && R->qx && R->qhs && R->qcs && R->fa && R->fz;
  for (int k = 0; k < 5; k++) ok = (R->qo[k] = malloc(b * GH)) && ok;
  R->qcap = ok ? B : 0;
  return ok ? 0 : -1;
}

/* One gate GEMM of a step over a (B x K int8: the first kx columns at zero
 * point zx, the rest at zh) into out (B x N int8). The requantization's
 * target oq: the LUT's input (the pre-activation) or the output; obs its
 * observer (NULL: none); relu: the ReLU RNN's clamp (observing max(z, 0)). */
static void run_gemm(rnn *R, const nnf_pass *p, const nnf_qlayer *Q, const nnf_qrange *oq, minmax *obs, int relu,
                     const int8_t *a, int K, int kx, int32_t zx, int32_t zh, int N, int8_t *out) {
  int B = p->batch;
  if (p->mode == NNF_FWD_INT) {
    nnfm_gemm_args g = {B, K, N, Q->zp, Q->lo, Q->hi, Q->lut ? Q->table : NULL, Q->round};
    nnfm_gemm(&g, a, Q->w_kn, Q->bias, Q->m0, Q->shift, out); /* parameters checked when quantized */
    return;
  }
  /* z: (B, N) = (a - zp) (B, K) . w_fq^T (K, N) + b_fq */
  float *fa = R->fa, *z = R->fz;
  for (int b = 0; b < B; b++)
    for (int k = 0; k < K; k++) fa[(size_t)b * K + k] = (float)(a[(size_t)b * K + k] - (k < kx ? zx : zh));
  fill_rows(z, Q->b_fq, B, N);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, N, K, 1.0f, fa, K, Q->w_fq, K, 1.0f, z, N);
  size_t cnt = (size_t)B * N;
  for (size_t i = 0; i < cnt; i++) {
    float v = relu && z[i] < 0.0f ? 0.0f : z[i];
    if (obs && p->observe) mm_add(obs, v);
    int32_t q = nnfm_quantize_real(z[i], oq->scale, oq->zp, Q->lut ? -128 : Q->lo, Q->lut ? 127 : Q->hi);
    out[i] = Q->lut ? Q->table[(uint8_t)q] : (int8_t)q;
  }
}

/* One elementwise op over B x H values (a, b, out with row strides). */
static void run_ew(const ew_io *e, const nnf_pass *p, minmax *obs, const int8_t *a, int lda, const int8_t *b, int ldb,
                   int8_t *out, int ldo, int H) {
  for (int r = 0; r < p->batch; r++)
    for (int j = 0; j < H; j++) {
      int8_t qa = a[(size_t)r * lda + j], qb = b ? b[(size_t)r * ldb + j] : 0;
      int8_t *o = &out[(size_t)r * ldo + j];
      if (p->mode == NNF_FWD_INT) {
        *o = nnfm_ew(&e->p, qa, qb, e->lut);
        continue;
      }
      double va = (qa - e->za) * e->sa, vb = (qb - e->zb) * e->sb;
      double v = e->op == NNFM_EW_ADD ? va + vb : e->op == NNFM_EW_SUB ? va - vb : e->op == NNFM_EW_MUL ? va * vb : va;
      if (obs && p->observe) mm_add(obs, (float)v);
      int32_t q = nnfm_quantize_real(v, e->so, e->zo, e->lo, e->hi);
      *o = e->lut ? e->lut[(uint8_t)q] : (int8_t)q;
    }
}

static void deq(const int8_t *q, int ldq, double scale, int32_t zp, float *f, int ldf, int B, int H) {
  for (int r = 0; r < B; r++)
    for (int j = 0; j < H; j++) f[(size_t)r * ldf + j] = (float)((q[(size_t)r * ldq + j] - zp) * scale);
}

/* x->q: (B, T, I) int8  ->  per step t: qa: (B, I+H) = [x_t, h_{t-1}], the gate GEMMs'
 * outputs (B, N), the elementwise ops' (B, H), h_t: (B, H) in qhs (c_t in qcs);
 * kept for the backward: gate (T, B, GH), hs (T+1, B, H), cs (T+1, B, H) dequantized;
 * y->q: (B, H) = h_T, or (B, T, H); y->f dequantized */
static void forward_quant(rnn *R, const nnf_pass *p, const nnf_tensor *x, nnf_tensor *y) {
  const int B = p->batch, T = R->T, NI = R->ni, H = R->H, GH = R->G * H, K = NI + H;
  const size_t BH = (size_t)B * H, BGH = (size_t)B * GH;
  const nnf_qrange *xr = &x->r, *hr = &y->r;
  minmax obs[RNN_RANGES + 1];
  memset(obs, 0, sizeof obs);
  int8_t **o = R->qo;
  memset(R->qhs, (int8_t)hr->zp, BH); /* h_0 = 0 */
  memset(R->qcs, (int8_t)R->rg[L_C].zp, BH);
  memset(R->hs, 0, BH * sizeof(float));
  memset(R->cs, 0, BH * sizeof(float));
  for (int t = 0; t < T; t++) {
    for (int b = 0; b < B; b++) {
      const int8_t *xq = x->q + ((size_t)b * T + t) * NI;
      memcpy(R->qa + (size_t)b * K, xq, NI);
      memcpy(R->qa + (size_t)b * K + NI, R->qhs + (size_t)b * H, H);
      memcpy(R->qx + (size_t)b * NI, xq, NI);
    }
    float *gt = R->gate + t * BGH, *hn = R->hs + (t + 1) * BH;
    int8_t *hnew = NULL;
    switch (R->kind) {
      case NNF_RNN_TANH:
      case NNF_RNN_RELU: {
        int relu = R->kind == NNF_RNN_RELU;
        run_gemm(R, p, &R->qg[0], relu ? hr : &R->rg[T_PRE], relu ? &obs[OBS_H] : &obs[T_PRE], relu, R->qa, K, NI,
                 xr->zp, hr->zp, H, o[0]);
        hnew = o[0];
        break;
      }
      case NNF_RNN_GRU: {
        const ew_io *e = R->ew;
        run_gemm(R, p, &R->qg[0], &R->rg[G_PRZ], &obs[G_PRZ], 0, R->qa, K, NI, xr->zp, hr->zp, 2 * H, o[0]);
        run_gemm(R, p, &R->qg[1], &R->rg[G_GIN], &obs[G_GIN], 0, R->qx, NI, NI, xr->zp, 0, H, o[1]);
        run_gemm(R, p, &R->qg[2], &R->rg[G_GHN], &obs[G_GHN], 0, R->qhs, H, 0, 0, hr->zp, H, o[2]);
        deq(o[0], 2 * H, S_SIG, Z_SIG, gt, GH, B, 2 * H); /* r, z */
        deq(o[2], H, R->rg[G_GHN].scale, R->rg[G_GHN].zp, R->hw + t * BGH + 2 * H, GH, B, H); /* h_n, for dr */
        run_ew(&e[0], p, &obs[G_RGH], o[0], 2 * H, o[2], H, o[3], H, H);      /* r * ghn */
        run_ew(&e[1], p, &obs[G_PN], o[1], H, o[3], H, o[4], H, H);           /* n = tanh(gin + that) */
        deq(o[4], H, S_TANH, Z_TANH, gt + 2 * H, GH, B, H);
        run_ew(&e[2], p, &obs[G_D], R->qhs, H, o[4], H, o[3], H, H);          /* h - n */
        run_ew(&e[3], p, &obs[G_ZD], o[0] + H, 2 * H, o[3], H, o[1], H, H);   /* z * (h - n) */
        run_ew(&e[4], p, NULL, o[4], H, o[1], H, o[2], H, H);                 /* n + that */
        hnew = o[2];
        break;
      }
      case NNF_RNN_LSTM: {
        const ew_io *e = R->ew;
        run_gemm(R, p, &R->qg[0], &R->rg[L_PIFO], &obs[L_PIFO], 0, R->qa, K, NI, xr->zp, hr->zp, 3 * H, o[0]);
        run_gemm(R, p, &R->qg[1], &R->rg[L_PG], &obs[L_PG], 0, R->qa, K, NI, xr->zp, hr->zp, H, o[1]);
        deq(o[0], 3 * H, S_SIG, Z_SIG, gt, GH, B, 2 * H);                     /* i, f */
        deq(o[0] + 2 * H, 3 * H, S_SIG, Z_SIG, gt + 3 * H, GH, B, H);          /* o */
        deq(o[1], H, S_TANH, Z_TANH, gt + 2 * H, GH, B, H);                   /* g */
        run_ew(&e[0], p, &obs[L_FC], o[0] + H, 3 * H, R->qcs, H, o[2], H, H); /* f * c */
        run_ew(&e[1], p, &obs[L_IG], o[0], 3 * H, o[1], H, o[3], H, H);       /* i * g */
        run_ew(&e[2], p, &obs[L_C], o[2], H, o[3], H, R->qcs, H, H);          /* c' = that + that */
        deq(R->qcs, H, R->rg[L_C].scale, R->rg[L_C].zp, R->cs + (t + 1) * BH, H, B, H);
        run_ew(&e[3], p, NULL, R->qcs, H, NULL, 0, o[2], H, H);               /* tanh(c') */
        run_ew(&e[4], p, NULL, o[0] + 2 * H, 3 * H, o[2], H, o[3], H, H);     /* h' = o * that */
        hnew = o[3];
        break;
      }
    }
    memcpy(R->qhs, hnew, BH);
    deq(R->qhs, H, hr->scale, hr->zp, hn, H, B, H);
    if (R->seq)
      for (int b = 0; b < B; b++) memcpy(y->q + ((size_t)b * T + t) * H, R->qhs + (size_t)b * H, H);
  }
  if (!R->seq) memcpy(y->q, R->qhs, BH);
  size_t cnt = (size_t)B * R->base.out;
  nnf_qrange_dequantize(hr, y->q, y->f, cnt);
  if (p->observe) {
    float m = rnn_momentum(&R->base, p);
    for (int k = 0; k < n_ranges[R->kind]; k++) mm_fold(&R->rg[k], &obs[k], m);
    mm_fold(&y->r, &obs[OBS_H], m);
  }
}

/* ---- the int8 form ------------------------------------------------------------------------- */

static void lut_fill(int8_t *t, nnf_act a, const nnf_qrange *in, double s_out, int32_t z_out) {
  for (int v = -128; v < 128; v++) {
    float xv = (float)((v - in->zp) * in->scale), yv;
    nnf_act_forward(a, &xv, &yv, 1);
    t[(uint8_t)v] = (int8_t)nnfm_quantize_real(yv, s_out, z_out, -128, 127);
  }
}

/* One gate GEMM's int8 form: output channels rows[0..N) of the gates, over
 * x (ux) and / or h (uh), with b_ih (bih) and / or b_hh (bhh); the
 * requantization to s_out. Its fake-quant weights go to wih_fq / whh_fq. */
static int block(rnn *R, nnf_qlayer *Q, const int *rows, int N, int ux, int uh, int bih, int bhh,
                 const nnf_qrange *xr, const nnf_qrange *hr, double s_out, char *err, size_t errlen) {
  const int NI = R->ni, H = R->H, K = (ux ? NI : 0) + (uh ? H : 0), off = ux ? NI : 0;
  nnf_dense L = {K, N, malloc((size_t)K * N * sizeof(float)), malloc((size_t)N * sizeof(float)), NULL, NULL};
  if (!L.w || !L.b) {
    free(L.w), free(L.b);
    return nnf_fail(err, errlen, "layer %d (%s): out of memory", R->base.index, kind_names[R->kind]);
  }
  for (int n = 0; n < N; n++) {
    int row = rows[n];
    for (int k = 0; ux && k < NI; k++) L.w[(size_t)n * K + k] = (float)(R->w_ih[(size_t)row * NI + k] * xr->scale);
    for (int k = 0; uh && k < H; k++) L.w[(size_t)n * K + off + k] = (float)(R->w_hh[(size_t)row * H + k] * hr->scale);
    L.b[n] = (bih ? R->b_ih[row] : 0.0f) + (bhh ? R->b_hh[row] : 0.0f);
  }
  int rc = nnf_qlayer_quantize_weights(Q, &L, 1.0, s_out, R->base.index, err, errlen);
  free(L.w), free(L.b);
  if (rc) return -1;
  Q->round = R->base.round;
  if ((ux && nnfm_fold_input_zp(Q->w_kn, NI, N, xr->zp, Q->bias, Q->bias) != NNFM_OK) ||
      (uh && nnfm_fold_input_zp(Q->w_kn + (size_t)off * N, H, N, hr->zp, Q->bias, Q->bias) != NNFM_OK))
    return nnf_fail(err, errlen, "layer %d (%s): cannot fold the zero points", R->base.index, kind_names[R->kind]);
  for (int n = 0; n < N; n++) {
    int row = rows[n];
    for (int k = 0; ux && k < NI; k++) R->wih_fq[(size_t)row * NI + k] = (float)(Q->w_fq[(size_t)n * K + k] / xr->scale);
    for (int k = 0; uh && k < H; k++)
      R->whh_fq[(size_t)row * H + k] = (float)(Q->w_fq[(size_t)n * K + off + k] / hr->scale);
  }
  return 0;
}

/* The output stage of a block: zero point, clamp, LUT. */
static void block_out(nnf_qlayer *Q, const nnf_qrange *oq, int relu, const int8_t *table) {
  Q->zp = oq->zp;
  Q->lo = relu ? nnfm_clamp(oq->zp, -128, 127) : -128;
  Q->hi = 127;
  Q->lut = table != NULL;
  if (table && table != Q->table) memcpy(Q->table, table, 256);
}

static int ew_set(rnn *R, ew_io *e, int op, double sa, int32_t za, double sb, int32_t zb, double so, int32_t zo,
                  const int8_t *lut, char *err, size_t errlen) {
  *e = (ew_io){op, sa, sb, so, za, zb, zo, -128, 127, lut, {0}};
  if (nnfm_ew_prepare(op, sa, za, sb, zb, so, zo, -128, 127, &e->p) != NNFM_OK)
    return nnf_fail(err, errlen, "layer %d (%s): elementwise op %d's scales are out of the device's range", R->base.index,
                    kind_names[R->kind], (int)(e - R->ew));
  e->p.round = R->base.round;
  return 0;
}

static int rnn_quantize(nnf_layer *l, const nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  rnn *R = (rnn *)l;
  const int H = R->H, GH = R->G * H;
  const nnf_qrange *xr = &x->r, *hr = &y->r, *rg = R->rg;
  int *rows = malloc((size_t)GH * sizeof(int));
  if (!rows) return nnf_fail(err, errlen, "layer %d (%s): out of memory", l->index, kind_names[R->kind]);
  for (int j = 0; j < GH; j++) rows[j] = j;
  int rc = 0;
  int8_t sig[256];
  switch (R->kind) {
    case NNF_RNN_TANH:
      rc = block(R, &R->qg[0], rows, H, 1, 1, 1, 1, xr, hr, rg[T_PRE].scale, err, errlen);
      lut_fill(R->qg[0].table, NNF_ACT_TANH, &rg[T_PRE], S_TANH, Z_TANH);
      block_out(&R->qg[0], &rg[T_PRE], 0, R->qg[0].table);
      break;
    case NNF_RNN_RELU:
      rc = block(R, &R->qg[0], rows, H, 1, 1, 1, 1, xr, hr, hr->scale, err, errlen);
      block_out(&R->qg[0], hr, 1, NULL);
      break;
    case NNF_RNN_GRU:
      rc = block(R, &R->qg[0], rows, 2 * H, 1, 1, 1, 1, xr, hr, rg[G_PRZ].scale, err, errlen) ||
           block(R, &R->qg[1], rows + 2 * H, H, 1, 0, 1, 0, xr, hr, rg[G_GIN].scale, err, errlen) ||
           block(R, &R->qg[2], rows + 2 * H, H, 0, 1, 0, 1, xr, hr, rg[G_GHN].scale, err, errlen);
      lut_fill(sig, NNF_ACT_SIGMOID, &rg[G_PRZ], S_SIG, Z_SIG);
      block_out(&R->qg[0], &rg[G_PRZ], 0, sig);
      block_out(&R->qg[1], &rg[G_GIN], 0, NULL);
      block_out(&R->qg[2], &rg[G_GHN], 0, NULL);
      lut_fill(R->lut_tanh, NNF_ACT_TANH, &rg[G_PN], S_TANH, Z_TANH);
      rc = rc ||
           ew_set(R, &R->ew[0], NNFM_EW_MUL, S_SIG, Z_SIG, rg[G_GHN].scale, rg[G_GHN].zp, rg[G_RGH].scale,
                  rg[G_RGH].zp, NULL, err, errlen) ||
           ew_set(R, &R->ew[1], NNFM_EW_ADD, rg[G_GIN].scale, rg[G_GIN].zp, rg[G_RGH].scale, rg[G_RGH].zp,
                  rg[G_PN].scale, rg[G_PN].zp, R->lut_tanh, err, errlen) ||
           ew_set(R, &R->ew[2], NNFM_EW_SUB, hr->scale, hr->zp, S_TANH, Z_TANH, rg[G_D].scale, rg[G_D].zp,
                  NULL, err, errlen) ||
           ew_set(R, &R->ew[3], NNFM_EW_MUL, S_SIG, Z_SIG, rg[G_D].scale, rg[G_D].zp, rg[G_ZD].scale,
                  rg[G_ZD].zp, NULL, err, errlen) ||
           ew_set(R, &R->ew[4], NNFM_EW_ADD, S_TANH, Z_TANH, rg[G_ZD].scale, rg[G_ZD].zp, hr->scale, hr->zp, NULL,
                  err, errlen);
      break;
    case NNF_RNN_LSTM: {
      int *r3 = malloc((size_t)3 * H * sizeof(int));
      if (!r3) {
        rc = nnf_fail(err, errlen, "layer %d (%s): out of memory", l->index, kind_names[R->kind]);
        break;
      }
      for (int j = 0; j < H; j++) r3[j] = j, r3[H + j] = H + j, r3[2 * H + j] = 3 * H + j; /* i, f, o */
      rc = block(R, &R->qg[0], r3, 3 * H, 1, 1, 1, 1, xr, hr, rg[L_PIFO].scale, err, errlen) ||
           block(R, &R->qg[1], rows + 2 * H, H, 1, 1, 1, 1, xr, hr, rg[L_PG].scale, err, errlen);
      free(r3);
      lut_fill(sig, NNF_ACT_SIGMOID, &rg[L_PIFO], S_SIG, Z_SIG);
      block_out(&R->qg[0], &rg[L_PIFO], 0, sig);
      lut_fill(R->qg[1].table, NNF_ACT_TANH, &rg[L_PG], S_TANH, Z_TANH);
      block_out(&R->qg[1], &rg[L_PG], 0, R->qg[1].table);
      lut_fill(R->lut_tanh, NNF_ACT_TANH, &rg[L_C], S_TANH, Z_TANH);
      rc = rc ||
           ew_set(R, &R->ew[0], NNFM_EW_MUL, S_SIG, Z_SIG, rg[L_C].scale, rg[L_C].zp, rg[L_FC].scale,
                  rg[L_FC].zp, NULL, err, errlen) ||
           ew_set(R, &R->ew[1], NNFM_EW_MUL, S_SIG, Z_SIG, S_TANH, Z_TANH, rg[L_IG].scale, rg[L_IG].zp, NULL,
                  err, errlen) ||
           ew_set(R, &R->ew[2], NNFM_EW_ADD, rg[L_FC].scale, rg[L_FC].zp, rg[L_IG].scale, rg[L_IG].zp,
                  rg[L_C].scale, rg[L_C].zp, NULL, err, errlen) ||
           ew_set(R, &R->ew[3], NNFM_EW_MAP, rg[L_C].scale, rg[L_C].zp, 1.0, 0, rg[L_C].scale, rg[L_C].zp,
                  R->lut_tanh, err, errlen) ||
           ew_set(R, &R->ew[4], NNFM_EW_MUL, S_SIG, Z_SIG, S_TANH, Z_TANH, hr->scale, hr->zp, NULL, err, errlen);
      break;
    }
  }
  free(rows);
  return rc ? -1 : 0;
}

int nnf_layer_rnn_ranges(nnf_layer *l, nnf_qrange **ranges) {
  rnn *R = as_rnn(l);
  if (!R) return -1;
  *ranges = R->rg;
  return n_ranges[R->kind];
}

static void rnn_qparams(nnf_layer *l);

static int rnn_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  rnn *R = (rnn *)l;
  if (p->mode == NNF_FWD_DEVICE) return refuse_quantized(l, err, errlen);
  if (reserve(R, p->batch) || (p->mode != NNF_FWD_FLOAT && reserve_q(R, p->batch)))
    return nnf_fail(err, errlen, "layer %d (%s): out of memory for a batch of %d", l->index, kind_names[R->kind],
                    p->batch);
  y->steps = x->steps;
  minmax obs[RNN_RANGES + 1];
  memset(obs, 0, sizeof obs);
  int fresh = n_ranges[R->kind] ? !R->rg[0].seen : !y->r.seen;
  if (p->mode == NNF_FWD_FAKEQUANT && p->observe && fresh) {
    /* QAT's first pass: the step's ranges were never observed, and an int8
     * step through default ranges would seed every observer downstream of
     * the first clamp with garbage: take them from a float pass of this
     * batch first, and quantize the layer with them */
    forward_float(R, x->f, y->f, p->batch, obs);
    float m = rnn_momentum(l, p);
    for (int k = 0; k < n_ranges[R->kind]; k++) mm_fold(&R->rg[k], &obs[k], m);
    mm_fold(&y->r, &obs[OBS_H], m);
    rnn_qparams(l);
    if (rnn_quantize(l, x, y, err, errlen)) return -1;
  }
  if (p->mode != NNF_FWD_FLOAT) {
    forward_quant(R, p, x, y);
    return 0;
  }
  forward_float(R, x->f, y->f, p->batch, p->observe ? obs : NULL);
  if (p->observe) {
    float m = rnn_momentum(l, p);
    for (int k = 0; k < n_ranges[R->kind]; k++) mm_fold(&R->rg[k], &obs[k], m);
    mm_fold(&y->r, &obs[OBS_H], m); /* a ReLU RNN's h: every step's (the others' boundary is fixed) */
  }
  return 0;
}

/* ---- backward through time -------------------------------------------------------------
 * dy: (B, H) or (B, T, H)  ->  per step t = T-1 .. 0, with dh: (B, H) the
 * gradient of h_{t+1} (and dc of c_{t+1}):
 *   da_t: (B, GH) the input-side pre-activation gradients (kept in xw),
 *   dg_t: (B, GH) the hidden-side ones (kept in hw; they differ for the GRU's n),
 *   dh <- dg_t W_hh (+ the direct path: the GRU's z * dh)
 * then over all steps at once:
 *   dW_hh: (GH, H) = sum_t dg_t^T h_t,  db_hh = sum dg
 *   dW_ih: (GH, I) = da^T x,  db_ih = sum da,  dx: (B, T, I) = da W_ih */
static void col_sums(const float *m, size_t rows, int n, float *out, int accumulate) {
  if (!accumulate) memset(out, 0, (size_t)n * sizeof(float));
  for (size_t r = 0; r < rows; r++)
    for (int j = 0; j < n; j++) out[j] += m[r * n + j];
}

static void rnn_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                         float *dx, int accumulate) {
  rnn *R = (rnn *)l;
  (void)y;
  const int B = p->batch, T = R->T, ni = R->ni, H = R->H, GH = R->G * H;
  /* the quantized modes: straight through the roundings, the fake-quant weights */
  const float *w_ih = p->mode == NNF_FWD_FLOAT ? R->w_ih : R->wih_fq;
  const float *w_hh = p->mode == NNF_FWD_FLOAT ? R->w_hh : R->whh_fq;
  const size_t BH = (size_t)B * H, BGH = (size_t)B * GH;
  float *dh = R->dh, *dc = R->dc, *dn = R->dn;
  memset(dh, 0, BH * sizeof(float));
  memset(dc, 0, BH * sizeof(float));
  for (int t = T - 1; t >= 0; t--) {
    /* the output's gradient at step t joins the one coming back from t+1 */
    for (int b = 0; b < B; b++) {
      const float *d = R->seq ? dy + ((size_t)b * T + t) * H : t == T - 1 ? dy + (size_t)b * H : NULL;
      if (d)
        for (int j = 0; j < H; j++) dh[(size_t)b * H + j] += d[j];
    }
    const float *hprev = R->hs + t * BH, *hcur = R->hs + (t + 1) * BH, *gt = R->gate + t * BGH;
    float *dg = R->hw + t * BGH; /* the forward's hw_t is no longer needed once read below */
    for (int b = 0; b < B; b++) {
      float *da = R->xw + ((size_t)b * T + t) * GH, *dgb = dg + (size_t)b * GH;
      const float *g = gt + (size_t)b * GH, *hp = hprev + (size_t)b * H, *hc = hcur + (size_t)b * H;
      float *dhb = dh + (size_t)b * H, *dnb = dn + (size_t)b * H;
      switch (R->kind) {
        case NNF_RNN_TANH:
          for (int j = 0; j < H; j++) da[j] = dgb[j] = dhb[j] * (1.0f - hc[j] * hc[j]);
          break;
        case NNF_RNN_RELU:
          for (int j = 0; j < H; j++) da[j] = dgb[j] = hc[j] > 0.0f ? dhb[j] : 0.0f;
          break;
        case NNF_RNN_GRU:
          for (int j = 0; j < H; j++) {
            float r = g[j], z = g[H + j], n = g[2 * H + j], d = dhb[j];
            float hn = dgb[2 * H + j]; /* W_hn h + b_hn, read before it is overwritten */
            float dpn = d * (1.0f - z) * (1.0f - n * n);
            float dpz = d * (hp[j] - n) * z * (1.0f - z);
            float dpr = dpn * hn * r * (1.0f - r);
            da[j] = dgb[j] = dpr;
            da[H + j] = dgb[H + j] = dpz;
            da[2 * H + j] = dpn;
            dgb[2 * H + j] = dpn * r;
            dnb[j] = d * z; /* the direct path to h_t */
          }
          break;
        case NNF_RNN_LSTM: {
          const float *cp = R->cs + t * BH + (size_t)b * H, *cc = R->cs + (t + 1) * BH + (size_t)b * H;
          float *dcb = dc + (size_t)b * H;
          for (int j = 0; j < H; j++) {
            float i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j], tc = tanhf(cc[j]);
            float d = dhb[j], c = dcb[j] + d * o * (1.0f - tc * tc);
            da[j] = dgb[j] = c * gg * i * (1.0f - i);
            da[H + j] = dgb[H + j] = c * cp[j] * f * (1.0f - f);
            da[2 * H + j] = dgb[2 * H + j] = c * i * (1.0f - gg * gg);
            da[3 * H + j] = dgb[3 * H + j] = d * tc * o * (1.0f - o);
            dcb[j] = c * f;
          }
          break;
        }
      }
    }
    if (t == 0) break; /* h_0 is the zero state: no gradient needed */
    /* dh <- dg_t W_hh (+ the GRU's direct path) */
    if (R->kind == NNF_RNN_GRU) memcpy(dh, dn, BH * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, GH, 1.0f, dg, GH, w_hh, H,
                R->kind == NNF_RNN_GRU ? 1.0f : 0.0f, dh, H);
  }
  float beta = accumulate ? 1.0f : 0.0f;
  /* dW_hh = sum over t of dg_t^T h_t: (GH, T*B) x (T*B, H); step 0's h is zero */
  if (T > 1)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, H, (T - 1) * B, 1.0f, R->hw + BGH, GH, R->hs + BH, H,
                beta, R->dw_hh, H);
  else if (!accumulate)
    memset(R->dw_hh, 0, (size_t)GH * H * sizeof(float));
  col_sums(R->hw, (size_t)T * B, GH, R->db_hh, accumulate);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, ni, B * T, 1.0f, R->xw, GH, x->f, ni, beta, R->dw_ih, ni);
  col_sums(R->xw, (size_t)B * T, GH, R->db_ih, accumulate);
  if (dx)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B * T, ni, GH, 1.0f, R->xw, GH, w_ih, ni, 0.0f, dx, ni);
}

/* ---- parameters, description, the rest ---------------------------------------------------- */

static int rnn_params(nnf_layer *l, nnf_param *out) {
  rnn *R = (rnn *)l;
  int GH = R->G * R->H;
  out[0] = (nnf_param){"weight_ih_l0", R->w_ih, R->dw_ih, 2, {GH, R->ni, 0, 0}};
  out[1] = (nnf_param){"weight_hh_l0", R->w_hh, R->dw_hh, 2, {GH, R->H, 0, 0}};
  out[2] = (nnf_param){"bias_ih_l0", R->b_ih, R->db_ih, 1, {GH, 0, 0, 0}};
  out[3] = (nnf_param){"bias_hh_l0", R->b_hh, R->db_hh, 1, {GH, 0, 0, 0}};
  return 4;
}

int nnf_rnn_init(nnf_layer *l, uint64_t *rng) {
  rnn *R = as_rnn(l);
  if (!R) return -1;
  /* torch's RNNBase.reset_parameters: every parameter, in order, uniform in
   * +-1/sqrt(hidden_size) */
  double k = 1.0 / sqrt((double)R->H);
  nnf_param p[4];
  int n = rnn_params(l, p);
  for (int j = 0; j < n; j++) nnf_init_uniform(p[j].data, nnf_param_size(&p[j]), -k, k, rng);
  return 0;
}

/* The PyTorch constructor: "GRU(28,128,batch_first=True)",
 * "RNN(28,128,nonlinearity='relu',batch_first=True)"; ",seq=1)" (not
 * PyTorch's: every step's output) for the sequence output. */
static void rnn_describe(const nnf_layer *l, char *buf, size_t len) {
  const rnn *R = (const rnn *)l;
  const char *nl = R->kind == NNF_RNN_TANH ? ",nonlinearity='tanh'" : R->kind == NNF_RNN_RELU ? ",nonlinearity='relu'" : "";
  snprintf(buf, len, "%s(%d,%d%s,batch_first=True%s)", kind_names[R->kind], R->ni, R->H, nl, R->seq ? ",seq=1" : "");
}

static void rnn_qparams(nnf_layer *l) {
  rnn *R = (rnn *)l;
  for (int k = 0; k < n_ranges[R->kind]; k++) nnf_qrange_params(&R->rg[k]);
  nnf_qrange_params(nnf_layer_range(l));
}


/* ---- the device (docs/rnn.md "A recurrent step") ----------------------------------------
 * One input buffer (nnf_plan.in_base, two when streaming) holds, for B
 * sequences, T regions R_t of S = (KX + KH) * B words, R_t = [x_t (KX*B
 * words)][h_{t-1} (KH*B words)] in the activation layout (KX = ceil(I /
 * rows), KH = ceil(H / rows)), then the LSTM's cell state (KH*B words). The
 * host writes every x_t, h_0 (h's zero point) and c_0; step t reads R_t and
 * writes h_t into R_{t+1}'s h part: the step body's bases are relative and
 * one LOOP strides by S. The last step runs unrolled with absolute bases
 * and writes h_T to the layer's output boundary (KH*B words), which the
 * next layer reads or the host reads back. The gate GEMMs read [x_t,
 * h_{t-1}] as Kd = KX*rows + H inputs (the x part's last tile padded with
 * zero weight rows); their outputs are gate-tiled (gate g's channel j at
 * g*KH*rows + j; padding channels have zero weights and bias) so that every
 * gate is a tensor of its own for EW. The intermediates are fixed ACT
 * tensors (scratch). */

/* A gate GEMM on the device: the host block Q over x (ux) and / or h (uh),
 * g gates of H channels. */
typedef struct {
  const nnf_qlayer *Q;
  int ux, uh, g;
} rnn_gemm;

static int gemms(const rnn *R, rnn_gemm *m) {
  switch (R->kind) {
    case NNF_RNN_GRU:
      m[0] = (rnn_gemm){&R->qg[0], 1, 1, 2};
      m[1] = (rnn_gemm){&R->qg[1], 1, 0, 1};
      m[2] = (rnn_gemm){&R->qg[2], 0, 1, 1};
      return 3;
    case NNF_RNN_LSTM:
      m[0] = (rnn_gemm){&R->qg[0], 1, 1, 3};
      m[1] = (rnn_gemm){&R->qg[1], 1, 1, 1};
      return 2;
    default:
      m[0] = (rnn_gemm){&R->qg[0], 1, 1, 1};
      return 1;
  }
}

static uint32_t tiles(uint32_t n, uint32_t rows) { return (n + rows - 1) / rows; }

/* The device shape of a gate GEMM: inputs Kd, outputs Nd. */
static void gemm_dims(const rnn *R, const rnn_gemm *m, uint32_t rows, uint32_t *kd, uint32_t *nd) {
  uint32_t KX = tiles((uint32_t)R->ni, rows), HP = tiles((uint32_t)R->H, rows) * rows;
  *kd = m->ux && m->uh ? KX * rows + (uint32_t)R->H : m->ux ? (uint32_t)R->ni : (uint32_t)R->H;
  *nd = (uint32_t)(m->g - 1) * HP + (uint32_t)R->H;
}

/* A chain: recurrent layers first .. first+k-1, each but the last with
 * seq=1 feeding the next, run as a wavefront over shared regions Q_t = [x_t
 * | h1_{t-1} | h2_{t-2} | ... | hk_{t-k}] of S words (slot 0: KX*B words,
 * slot m: KH_m*B): layer m's step s reads [slot m-1 | slot m] of Q_{s+m-1}
 * and writes h_m(s) into slot m of Q_{s+m}, so every layer's step body is
 * relative with the one stride S. T + k regions, then the LSTMs' cell states
 * (KH_m*B words each). A single layer is the chain k = 1. */
typedef struct {
  int first, k, j;         /* the chain's first layer and length; this layer's place, 1..k */
  uint32_t S, off[NNF_MAX_LAYERS + 1], cell[NNF_MAX_LAYERS + 1], words;
} rnn_chain;

static const rnn *chain_layer(const nnf_net *n, int i) { return i >= 0 && i < n->nlayers ? as_rnn(n->layer[i]) : NULL; }

static void chain_of(const rnn *R, uint32_t rows, uint32_t B, rnn_chain *c) {
  const nnf_net *n = R->base.net;
  int i = R->base.index;
  while (chain_layer(n, i - 1) && chain_layer(n, i - 1)->seq) i--;
  c->first = i;
  c->k = 1;
  while (chain_layer(n, i + c->k - 1)->seq && chain_layer(n, i + c->k)) c->k++;
  c->j = R->base.index - i + 1;
  const rnn *F = chain_layer(n, i);
  uint32_t at = tiles((uint32_t)F->ni, rows) * B;
  c->off[0] = 0;
  for (int m = 1; m <= c->k; m++) c->off[m] = at, at += tiles((uint32_t)chain_layer(n, i + m - 1)->H, rows) * B;
  c->S = at;
  at = (uint32_t)(F->T + c->k) * c->S;
  for (int m = 1; m <= c->k; m++) {
    const rnn *L = chain_layer(n, i + m - 1);
    c->cell[m] = at;
    if (L->kind == NNF_RNN_LSTM) at += tiles((uint32_t)L->H, rows) * B;
  }
  c->words = at;
}

static int rnn_luts(const nnf_layer *l, const int8_t **t, int max) {
  const rnn *R = (const rnn *)l;
  int n = 0;
  if (R->kind == NNF_RNN_TANH && max > 0) t[n++] = R->qg[0].table;
  if (R->kind == NNF_RNN_GRU && max > 1) t[n++] = R->qg[0].table, t[n++] = R->lut_tanh;
  if (R->kind == NNF_RNN_LSTM && max > 2) t[n++] = R->qg[0].table, t[n++] = R->qg[1].table, t[n++] = R->lut_tanh;
  return n;
}

static uint32_t rnn_input(nnf_layer *l, const nnf_plan *p, uint32_t base, const int8_t *xq, int B) {
  rnn *R = (rnn *)l;
  rnn_chain c;
  chain_of(R, (uint32_t)p->cfg->rows, (uint32_t)B, &c);
  if (!xq) return c.words;
  const int T = R->T, NI = R->ni;
  int widest = NI;
  for (int m = 1; m <= c.k; m++) widest = chain_layer(l->net, c.first + m - 1)->H > widest ? chain_layer(l->net, c.first + m - 1)->H : widest;
  int8_t *buf = malloc((size_t)B * widest);
  if (!buf) return 0;
  int ok = 1;
  for (int t = 0; t < T && ok; t++) { /* x_t in slot 0 of Q_t */
    for (int b = 0; b < B; b++) memcpy(buf + (size_t)b * NI, xq + ((size_t)b * T + t) * NI, (size_t)NI);
    ok = nnfm_engine_put_act(p->img, base + (uint32_t)t * c.S, buf, (uint32_t)B, (uint32_t)NI) == NNFM_OK;
  }
  for (int m = 1; m <= c.k && ok; m++) { /* h_m(-1) = 0 in slot m of Q_{m-1}; c_m(-1) = 0 */
    rnn *L = (rnn *)chain_layer(l->net, c.first + m - 1);
    memset(buf, (int8_t)nnf_layer_range(&L->base)->zp, (size_t)B * L->H);
    ok = nnfm_engine_put_act(p->img, base + (uint32_t)(m - 1) * c.S + c.off[m], buf, (uint32_t)B, (uint32_t)L->H) ==
         NNFM_OK;
    if (ok && L->kind == NNF_RNN_LSTM) {
      memset(buf, (int8_t)L->rg[L_C].zp, (size_t)B * L->H);
      ok = nnfm_engine_put_act(p->img, base + c.cell[m], buf, (uint32_t)B, (uint32_t)L->H) == NNFM_OK;
    }
  }
  free(buf);
  return ok ? c.words : 0;
}

/* A seq=1 layer's every-step states, from the staging image of the input
 * buffer at base (read back): h(s) in slot j of Q_{s+j}. 1 for a layer
 * whose output (h_T) is in its boundary. */
static int rnn_output(nnf_layer *l, const nnf_plan *p, uint32_t base, int8_t *yq, int B) {
  rnn *R = (rnn *)l;
  if (!R->seq) return 1; /* h_T: in the boundary */
  if (!yq) return 0;
  rnn_chain c;
  chain_of(R, (uint32_t)p->cfg->rows, (uint32_t)B, &c);
  const int T = R->T, H = R->H;
  int8_t *buf = malloc((size_t)B * H);
  if (!buf) return -1;
  int ok = 1;
  for (int s = 0; s < T && ok; s++) {
    ok = nnfm_engine_get_act(p->img, base + (uint32_t)(s + c.j) * c.S + c.off[c.j], buf, (uint32_t)B, (uint32_t)H) ==
         NNFM_OK;
    for (int b = 0; ok && b < B; b++) memcpy(yq + ((size_t)b * T + s) * H, buf + (size_t)b * H, (size_t)H);
  }
  free(buf);
  return ok ? 0 : -1;
}

static int rnn_plan(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  rnn *R = (rnn *)l;
  char g[96];
  nnf_rnn_grammar(l, g, sizeof g);
  int ew = R->kind == NNF_RNN_GRU || R->kind == NNF_RNN_LSTM;
  if (!(p->features & NNFP_FEAT_REL) || (ew && !(p->features & NNFP_FEAT_EW)))
    return nnf_fail(err, errlen,
                    "device %s does not run recurrent layers: its INFO lacks %s: layer %d '%s' needs relative bases "
                    "and LOOP's stride%s",
                    p->dev ? p->dev : "?",
                    !(p->features & NNFP_FEAT_REL) && ew && !(p->features & NNFP_FEAT_EW)
                        ? "feature bits 7 and 8 (FEAT_EW, FEAT_REL)"
                    : !(p->features & NNFP_FEAT_REL) ? "feature bit 8 (FEAT_REL)"
                                                     : "feature bit 7 (FEAT_EW)",
                    l->index, g, ew ? " and EW" : "");
  rnn_chain c;
  chain_of(R, (uint32_t)p->cfg->rows, (uint32_t)p->B, &c);
  if (p->in_layer != c.first)
    return nnf_fail(err, errlen,
                    "layer %d '%s': on the device a recurrent layer reads the network's input or a recurrent layer's "
                    "every step (after another layer it does not run on the device yet)",
                    l->index, g);
  const rnn *F = chain_layer(l->net, c.first);
  if (c.j > 1 && (R->T != F->T || R->ni != chain_layer(l->net, l->index - 1)->H))
    return nnf_fail(err, errlen, "layer %d '%s': its steps are not the previous recurrent layer's %d steps of %d",
                    l->index, g, F->T, chain_layer(l->net, l->index - 1)->H);
  if (R->seq && c.j == c.k && l->index + 1 < l->net->nlayers)
    return nnf_fail(err, errlen,
                    "layer %d '%s': on the device every step's hidden state (seq=1) feeds a recurrent layer or is the "
                    "network's output (layer %d, %s, does not read it yet)",
                    l->index, g, l->index + 1, l->net->layer[l->index + 1]->ops->kind);
  if (R->T > 65536)
    return nnf_fail(err, errlen, "layer %d '%s': %d steps, more than a LOOP's 65536", l->index, g, R->T);
  const uint32_t rows = (uint32_t)p->cfg->rows, B = (uint32_t)p->B, KH = tiles((uint32_t)R->H, rows);
  rnn_gemm m[3];
  int ng = gemms(R, m);
  for (int k = 0; k < ng; k++) {
    uint32_t kd, nd;
    gemm_dims(R, &m[k], rows, &kd, &nd);
    if (kd > 65535 || nd > 65535)
      return nnf_fail(err, errlen, "layer %d '%s': a gate GEMM of %u x %u is larger than the device's 65535 x 65535",
                      l->index, g, kd, nd);
    R->dw[k] = nnf_plan_w(p, nnfm_w_words(p->cfg, kd, nd));
    R->dp[k] = nnf_plan_p(p, nnfm_p_entries(p->cfg, nd));
  }
  /* scratch: GRU r|z, gin, ghn, r*ghn, n; LSTM i|f|o, g, two products */
  static const int sizes[4][5] = {{0}, {0}, {2, 1, 1, 1, 1}, {3, 1, 1, 1, 0}};
  for (int k = 0; k < 5; k++)
    R->scratch[k] = sizes[R->kind][k] ? nnf_plan_act(p, (uint32_t)sizes[R->kind][k] * KH * B) : 0;
  /* h_T in a boundary of its own; every step's stays in the regions (rnn_output) */
  p->act[l->index + 1] = R->seq ? p->act[l->index] : nnf_plan_act(p, nnfm_act_words(p->cfg, B, (uint32_t)R->H));
  return 0;
}

static int rnn_pack(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  rnn *R = (rnn *)l;
  const uint32_t rows = (uint32_t)p->cfg->rows, KX = tiles((uint32_t)R->ni, rows);
  const uint32_t HP = tiles((uint32_t)R->H, rows) * rows;
  rnn_gemm m[3];
  int ng = gemms(R, m), rc = 0;
  for (int k = 0; k < ng && !rc; k++) {
    const nnf_qlayer *Q = m[k].Q;
    uint32_t kd, nd, kh = (uint32_t)(m[k].ux ? R->ni : 0) + (uint32_t)(m[k].uh ? R->H : 0), nh = (uint32_t)(m[k].g * R->H);
    gemm_dims(R, &m[k], rows, &kd, &nd);
    int8_t *w = calloc((size_t)kd * nd, 1);
    int32_t *bias = calloc(nd, sizeof *bias), *m0 = calloc(nd, sizeof *m0);
    int8_t *shift = calloc(nd, 1);
    if (!w || !bias || !m0 || !shift) rc = nnf_fail(err, errlen, "out of memory");
    for (uint32_t n = 0; !rc && n < nd; n++) /* padding channels: zero weights and bias */
      m0[n] = Q->m0[0], shift[n] = Q->shift[0];
    for (uint32_t n = 0; !rc && n < nh; n++) {
      uint32_t dn = n / (uint32_t)R->H * HP + n % (uint32_t)R->H; /* gate-tiled */
      bias[dn] = Q->bias[n], m0[dn] = Q->m0[n], shift[dn] = Q->shift[n];
      for (uint32_t k2 = 0; k2 < kh; k2++) {
        uint32_t dk = m[k].ux && m[k].uh && k2 >= (uint32_t)R->ni ? KX * rows + (k2 - (uint32_t)R->ni) : k2;
        w[(size_t)dk * nd + dn] = Q->w_kn[(size_t)k2 * nh + n];
      }
    }
    if (!rc && (nnfm_engine_put_weights(p->img, R->dw[k], w, kd, nd) != NNFM_OK ||
                nnfm_engine_put_params(p->img, R->dp[k], bias, m0, shift, nd) != NNFM_OK))
      rc = nnf_fail(err, errlen, "layer %d (%s) does not pack into the device's buffers", l->index, kind_names[R->kind]);
    free(w), free(bias), free(m0), free(shift);
  }
  return rc ? -1 : 0;
}

static void put_gemm(nnf_plan *p, const rnn *R, int k, uint32_t a, uint32_t o, int lut_k, int a_rel, int o_rel) {
  rnn_gemm m[3];
  gemms(R, m);
  uint32_t kd, nd;
  gemm_dims(R, &m[k], (uint32_t)p->cfg->rows, &kd, &nd);
  const nnf_qlayer *Q = m[k].Q;
  uint8_t *insn = nnf_plan_insn(p);
  if (!insn) return;
  nnfdrv_gemm g = {(uint16_t)p->B, (uint16_t)kd, (uint16_t)nd, a, R->dw[k], R->dp[k], o,
                   (int8_t)Q->zp, (int8_t)Q->lo, (int8_t)Q->hi, Q->lut, Q->round};
  nnfdrv_insn_gemm(insn, &g);
  if (Q->lut && nnfdrv_insn_set_lut(insn, (unsigned)p->lut_slots[R->base.index][lut_k]) != NNFDRV_OK) p->ok = 0;
  if ((a_rel || o_rel) && nnfdrv_insn_set_rel(insn, a_rel, o_rel, 0) != NNFDRV_OK) p->ok = 0;
}

static void put_ew(nnf_plan *p, const rnn *R, int k, uint32_t a, uint32_t b, uint32_t o, int lut_k, int a_rel,
                   int o_rel) {
  const ew_io *e = &R->ew[k];
  uint8_t *insn = nnf_plan_insn(p);
  if (!insn) return;
  nnfdrv_ew w = {e->p, (uint16_t)R->H, (uint16_t)p->B, a, b, o, e->lut != NULL,
                 (uint8_t)(e->lut ? p->lut_slots[R->base.index][lut_k] : 0)};
  if (nnfdrv_insn_ew(insn, &w) != NNFDRV_OK) p->ok = 0;
  if ((a_rel || o_rel) && nnfdrv_insn_set_rel(insn, a_rel, o_rel, 0) != NNFDRV_OK) p->ok = 0;
}

/* One step: R_t at r, h_t to h (rel: both plus the LOOP offset); c the
 * LSTM's cell state. */
static void emit_step(nnf_plan *p, const rnn *R, uint32_t r, uint32_t h, uint32_t c, int rel) {
  const uint32_t rows = (uint32_t)p->cfg->rows, B = (uint32_t)p->B;
  const uint32_t hb = r + tiles((uint32_t)R->ni, rows) * B, KB = tiles((uint32_t)R->H, rows) * B;
  const uint32_t *s = R->scratch;
  switch (R->kind) {
    case NNF_RNN_TANH:
    case NNF_RNN_RELU:
      put_gemm(p, R, 0, r, h, 0, rel, rel);
      break;
    case NNF_RNN_GRU:
      put_gemm(p, R, 0, r, s[0], 0, rel, 0);                    /* r | z */
      put_gemm(p, R, 1, r, s[1], 0, rel, 0);                    /* gin */
      put_gemm(p, R, 2, hb, s[2], 0, rel, 0);                   /* ghn */
      put_ew(p, R, 0, s[0], s[2], s[3], 0, 0, 0);               /* r * ghn */
      put_ew(p, R, 1, s[1], s[3], s[4], 1, 0, 0);               /* n = tanh(gin + that) */
      put_ew(p, R, 2, hb, s[4], s[3], 0, rel, 0);               /* h - n */
      put_ew(p, R, 3, s[0] + KB, s[3], s[1], 0, 0, 0);          /* z * (h - n) */
      put_ew(p, R, 4, s[4], s[1], h, 0, 0, rel);                /* h' = n + that */
      break;
    case NNF_RNN_LSTM:
      put_gemm(p, R, 0, r, s[0], 0, rel, 0);                    /* i | f | o */
      put_gemm(p, R, 1, r, s[1], 1, rel, 0);                    /* g */
      put_ew(p, R, 0, s[0] + KB, c, s[2], 0, 0, 0);             /* f * c */
      put_ew(p, R, 1, s[0], s[1], s[3], 0, 0, 0);               /* i * g */
      put_ew(p, R, 2, s[2], s[3], c, 0, 0, 0);                  /* c' */
      put_ew(p, R, 3, c, c, s[2], 2, 0, 0);                     /* tanh(c') */
      put_ew(p, R, 4, s[0] + 2 * KB, s[2], h, 0, 0, rel);       /* h' = o * that */
      break;
  }
}

static int rnn_emit(nnf_layer *l, nnf_plan *p) {
  rnn *R = (rnn *)l;
  rnn_chain c;
  chain_of(R, (uint32_t)p->cfg->rows, (uint32_t)p->B, &c);
  const uint32_t in = p->in_base[p->copy], S = c.S, cell = in + c.cell[c.j];
  const uint32_t r0 = in + (uint32_t)(c.j - 1) * S + c.off[c.j - 1], h0 = r0 + S + (c.off[c.j] - c.off[c.j - 1]);
  /* seq=1: every step in the loop (into the regions); else the last unrolled into the boundary */
  int looped = R->seq ? R->T : R->T - 1;
  if (looped > 0) {
    int body = p->pc;
    emit_step(p, R, r0, h0, cell, 1);
    if (looped > 1) {
      uint8_t *insn = nnf_plan_insn(p);
      if (!insn || nnfdrv_insn_loop_stride(insn, (uint32_t)body, (uint32_t)looped, S) != NNFDRV_OK) p->ok = 0;
    }
  }
  if (!R->seq) emit_step(p, R, r0 + (uint32_t)(R->T - 1) * S, p->act[l->index + 1], cell, 0);
  return p->ok ? 0 : -1;
}

static void rnn_destroy(nnf_layer *l) {
  rnn *R = (rnn *)l;
  free_cache(R);
  float *bufs[10] = {R->w_ih, R->w_hh, R->b_ih, R->b_hh, R->dw_ih, R->dw_hh, R->db_ih, R->db_hh, R->wih_fq, R->whh_fq};
  for (int j = 0; j < 10; j++) free(bufs[j]);
  for (int j = 0; j < 3; j++) nnf_qlayer_free(&R->qg[j]);
  free(R->qa), free(R->qx), free(R->qhs), free(R->qcs), free(R->fa), free(R->fz);
  for (int j = 0; j < 5; j++) free(R->qo[j]);
  free(R);
}

#define RNN_OPS(name)                                                                                              \
  {                                                                                                                \
    .kind = name, .shape = rnn_shape, .forward = rnn_forward, .backward = rnn_backward, .params = rnn_params,     \
    .qparams = rnn_qparams, .quantize = rnn_quantize, .plan = rnn_plan, .pack = rnn_pack, .emit = rnn_emit,       \
    .luts = rnn_luts, .input = rnn_input, .output = rnn_output, .describe = rnn_describe, .destroy = rnn_destroy,                      \
  }

static const nnf_layer_ops rnn_ops[4] = {RNN_OPS("RNN"), RNN_OPS("RNN"), RNN_OPS("GRU"), RNN_OPS("LSTM")};

nnf_layer *nnf_rnn(nnf_rnn_kind kind, int hidden, int in, int seq, char *err, size_t errlen) {
  if ((unsigned)kind > NNF_RNN_LSTM) {
    nnf_fail(err, errlen, "unknown recurrent layer kind %d", (int)kind);
    return NULL;
  }
  if (hidden < 1 || hidden > 65535) {
    nnf_fail(err, errlen, "%s: hidden size %d, not 1..65535", kind_names[kind], hidden);
    return NULL;
  }
  if (in < 0 || in > 65535) {
    nnf_fail(err, errlen, "%s: input size %d, not 1..65535", kind_names[kind], in);
    return NULL;
  }
  if (seq != 0 && seq != 1) {
    nnf_fail(err, errlen, "%s: seq is 0 (the last hidden state) or 1 (every step's), not %d", kind_names[kind], seq);
    return NULL;
  }
  rnn *R = calloc(1, sizeof *R);
  if (!R) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  R->base.ops = &rnn_ops[kind];
  R->kind = kind;
  R->H = hidden;
  R->ni = in;
  R->seq = seq;
  R->G = kind == NNF_RNN_GRU ? 3 : kind == NNF_RNN_LSTM ? 4 : 1;
  return &R->base;
}

/* The entry rnn_describe writes, back into a layer (checkpoints). */
nnf_layer *nnf_rnn_layer_parse(const char *tok, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  int kind = -1;
  size_t name = strcspn(tok, "(");
  for (int k = 0; k < 4; k++)
    if (kind < 0 && strlen(kind_names[k]) == name && !strncmp(tok, kind_names[k], name)) kind = k; /* RNN: tanh */
  if (kind < 0) return NULL;
  int in, hidden, used = -1;
  const char *bad = "malformed recurrent layer '%.60s'";
  if (sscanf(tok + name, "(%d,%d%n", &in, &hidden, &used) != 2 || used < 0) {
    nnf_fail(err, errlen, bad, tok);
    return NULL;
  }
  const char *rest = tok + name + used;
  if (kind == NNF_RNN_TANH) {
    if (!strncmp(rest, ",nonlinearity='relu'", 20)) kind = NNF_RNN_RELU, rest += 20;
    else if (!strncmp(rest, ",nonlinearity='tanh'", 20)) rest += 20;
  }
  int seq = 0;
  if (!strcmp(rest, ",batch_first=True,seq=1)")) seq = 1;
  else if (strcmp(rest, ",batch_first=True)")) {
    nnf_fail(err, errlen, bad, tok);
    return NULL;
  }
  if (in < 1) {
    nnf_fail(err, errlen, bad, tok);
    return NULL;
  }
  return nnf_rnn((nnf_rnn_kind)kind, hidden, in, seq, err, errlen);
}
