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
 * Float only for now: the quantized modes and the device compiler refuse
 * the layer with its grammar entry in the message.
 */
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
} rnn;

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

/* "layer 3 'gru(128,in=28)': " */
static int refuse_quantized(const nnf_layer *l, char *err, size_t errlen) {
  char g[96];
  nnf_rnn_grammar(l, g, sizeof g);
  return nnf_fail(err, errlen,
                  "layer %d '%s': recurrent layers do not run on the device yet (train and evaluate them with --float)",
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
static void forward_float(rnn *R, const float *x, float *y, int B) {
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
          break;
        case NNF_RNN_RELU:
          for (int j = 0; j < H; j++) {
            float a = xg[j] + hg[j];
            ho[j] = a > 0.0f ? a : 0.0f;
          }
          break;
        case NNF_RNN_GRU:
          for (int j = 0; j < H; j++) {
            float r = nnf_sigmoid(xg[j] + hg[j]), z = nnf_sigmoid(xg[H + j] + hg[H + j]);
            float n = tanhf(xg[2 * H + j] + hg[2 * H + j] * r);
            g[j] = r, g[H + j] = z, g[2 * H + j] = n;
            ho[j] = (hp[j] - n) * z + n;
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

static int rnn_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  rnn *R = (rnn *)l;
  if (p->mode != NNF_FWD_FLOAT) return refuse_quantized(l, err, errlen);
  if (reserve(R, p->batch))
    return nnf_fail(err, errlen, "layer %d (%s): out of memory for a batch of %d", l->index, kind_names[R->kind],
                    p->batch);
  y->steps = x->steps;
  forward_float(R, x->f, y->f, p->batch);
  size_t cnt = (size_t)p->batch * l->out;
  if (p->observe) nnf_qrange_observe(&y->r, y->f, cnt, nnf_observer_momentum(l->net, p));
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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, GH, 1.0f, dg, GH, R->w_hh, H,
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
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B * T, ni, GH, 1.0f, R->xw, GH, R->w_ih, ni, 0.0f, dx, ni);
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

static void rnn_qparams(nnf_layer *l) { nnf_qrange_params(nnf_layer_range(l)); }

static int rnn_plan(nnf_layer *l, struct nnf_plan *p, char *err, size_t errlen) {
  (void)p;
  return refuse_quantized(l, err, errlen);
}

static void rnn_destroy(nnf_layer *l) {
  rnn *R = (rnn *)l;
  free_cache(R);
  float *bufs[8] = {R->w_ih, R->w_hh, R->b_ih, R->b_hh, R->dw_ih, R->dw_hh, R->db_ih, R->db_hh};
  for (int j = 0; j < 8; j++) free(bufs[j]);
  free(R);
}

#define RNN_OPS(name)                                                                                              \
  {                                                                                                                \
    .kind = name, .shape = rnn_shape, .forward = rnn_forward, .backward = rnn_backward, .params = rnn_params,     \
    .qparams = rnn_qparams, .plan = rnn_plan, .describe = rnn_describe, .destroy = rnn_destroy,                    \
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
