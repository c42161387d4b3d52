/*
 * nnf_model.c - the network: creation, range observers, quantization (all
 * rounding through the functional model's nnfm_* functions), the three
 * forward modes and the straight-through backward pass (see nnf_model.h).
 */
#include "nnf_model.h"
#include "nnf_err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfm.h"

/* Does layer l (0-based) apply the hidden activation? */
static int has_act(const nnf_net *n, int l) { return l + 1 < n->nlayers; }
static int lut_act(nnf_act a) { return a == NNF_ACT_SIGMOID || a == NNF_ACT_TANH; }
static int uses_lut(const nnf_net *n, int l) { return has_act(n, l) && lut_act(n->act); }

int nnf_parse_layers(const char *spec, int *sizes, int max, char *err, size_t errlen) {
  int count = 0;
  const char *p = spec;
  if (!p || !*p) return nnf_fail(err, errlen, "empty layer list (want e.g. 784,128,10)");
  while (*p) {
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno || v < 1 || v > 65535 || (*end && *end != ','))
      return nnf_fail(err, errlen, "bad layer list '%s': sizes are integers 1..65535 separated by commas",
                  spec);
    if (count == max) return nnf_fail(err, errlen, "too many layers in '%s' (at most %d sizes)", spec, max);
    sizes[count++] = (int)v;
    p = *end ? end + 1 : end;
    if (*end && !*p) return nnf_fail(err, errlen, "bad layer list '%s': trailing comma", spec);
  }
  if (count < 2) return nnf_fail(err, errlen, "layer list '%s' needs at least an input and an output size", spec);
  return count;
}

void nnf_net_layers_string(const nnf_net *n, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i <= n->nlayers && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, i ? ",%d" : "%d", n->sizes[i]);
}

static void qlayer_free(nnf_qlayer *q) {
  free(q->s_w);
  free(q->w_kn);
  free(q->w_fq);
  free(q->b_fq);
  free(q->bias);
  free(q->m0);
  free(q->shift);
  memset(q, 0, sizeof *q);
}

static int qlayer_alloc(nnf_qlayer *q, int in, int out) {
  size_t nw = (size_t)in * out;
  q->s_w = calloc((size_t)out, sizeof(float));
  q->w_kn = calloc(nw, 1);
  q->w_fq = calloc(nw, sizeof(float));
  q->b_fq = calloc((size_t)out, sizeof(float));
  q->bias = calloc((size_t)out, sizeof(int32_t));
  q->m0 = calloc((size_t)out, sizeof(int32_t));
  q->shift = calloc((size_t)out, 1);
  return q->s_w && q->w_kn && q->w_fq && q->b_fq && q->bias && q->m0 && q->shift ? 0 : -1;
}

static void free_buffers(nnf_net *n) {
  for (int l = 0; l <= NNF_MAX_LAYERS; l++) {
    if (l < NNF_MAX_LAYERS) {
      free(n->z[l]);
      n->z[l] = NULL;
    }
    free(n->a[l]);
    free(n->qa[l]);
    n->a[l] = NULL;
    n->qa[l] = NULL;
  }
  free(n->g0);
  free(n->g1);
  n->g0 = n->g1 = NULL;
  n->cap = 0;
}

/* Make the work buffers hold batches of `batch` rows. */
static int ensure_cap(nnf_net *n, int batch) {
  if (batch <= n->cap) return 0;
  free_buffers(n);
  int widest = 0;
  for (int l = 0; l <= n->nlayers; l++) widest = n->sizes[l] > widest ? n->sizes[l] : widest;
  for (int l = 0; l <= n->nlayers; l++) {
    size_t cnt = (size_t)batch * n->sizes[l];
    if (l < n->nlayers && !(n->z[l] = malloc((size_t)batch * n->sizes[l + 1] * sizeof(float))))
      return -1;
    if (!(n->a[l] = malloc(cnt * sizeof(float))) || !(n->qa[l] = malloc(cnt))) return -1;
  }
  if (!(n->g0 = malloc((size_t)batch * widest * sizeof(float))) ||
      !(n->g1 = malloc((size_t)batch * widest * sizeof(float))))
    return -1;
  n->cap = batch;
  return 0;
}

/* Output quantization fixed by the activation (TFLite's choices). */
static void fix_output_range(nnf_qrange *q, nnf_act a) {
  q->fixed = 1;
  if (a == NNF_ACT_SIGMOID) {
    q->scale = 1.0 / 256.0;
    q->zp = -128;
  } else {
    q->scale = 1.0 / 128.0;
    q->zp = 0;
  }
}

nnf_net *nnf_net_create(const int *sizes, int nsizes, nnf_act act, uint64_t seed, char *err,
                        size_t errlen) {
  if (nsizes < 2 || nsizes > NNF_MAX_LAYERS + 1) {
    nnf_fail(err, errlen, "a network has 2..%d sizes (got %d)", NNF_MAX_LAYERS + 1, nsizes);
    return NULL;
  }
  for (int i = 0; i < nsizes; i++)
    if (sizes[i] < 1 || sizes[i] > 65535) {
      nnf_fail(err, errlen, "layer size %d out of range 1..65535", sizes[i]);
      return NULL;
    }
  if ((unsigned)act > NNF_ACT_TANH) {
    nnf_fail(err, errlen, "unknown activation %d", (int)act);
    return NULL;
  }
  nnf_net *n = calloc(1, sizeof *n);
  if (!n) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  n->nlayers = nsizes - 1;
  n->act = act;
  n->observer_momentum = 0.01f;
  memcpy(n->sizes, sizes, (size_t)nsizes * sizeof *sizes);
  uint64_t rng = seed;
  for (int l = 0; l < n->nlayers; l++) {
    if (nnf_dense_init(&n->layer[l], sizes[l], sizes[l + 1]) ||
        qlayer_alloc(&n->ql[l], sizes[l], sizes[l + 1])) {
      nnf_net_free(n);
      nnf_fail(err, errlen, "out of memory for a %d x %d layer", sizes[l + 1], sizes[l]);
      return NULL;
    }
    nnf_dense_init_default(&n->layer[l], &rng);
    if (uses_lut(n, l)) fix_output_range(&n->q[l + 1], act);
  }
  return n;
}

int nnf_net_init(nnf_net *n, const nnf_init_spec *s, uint64_t seed) {
  uint64_t rng = seed;
  for (int l = 0; l < n->nlayers; l++)
    if (nnf_init_layer(&n->layer[l], s, has_act(n, l) ? n->act : NNF_ACT_NONE, &rng)) return -1;
  n->quantized = 0;
  return 0;
}

void nnf_net_free(nnf_net *n) {
  if (!n) return;
  for (int l = 0; l < n->nlayers; l++) {
    nnf_dense_free(&n->layer[l]);
    qlayer_free(&n->ql[l]);
  }
  free_buffers(n);
  free(n);
}

int nnf_net_register(nnf_net *n, nnf_optim *o) {
  for (int l = 0; l < n->nlayers; l++) {
    nnf_dense *L = &n->layer[l];
    if (nnf_optim_add(o, L->w, L->dw, (size_t)L->in * L->out) ||
        nnf_optim_add(o, L->b, L->db, (size_t)L->out))
      return -1;
  }
  return 0;
}

void nnf_net_zero_grad(nnf_net *n) {
  for (int l = 0; l < n->nlayers; l++) nnf_dense_zero_grad(&n->layer[l]);
}

/* ---- observers and quantization parameters ------------------------------ */

/* Fold a batch's min / max into a range: the first batch sets it, later
 * ones move it by the observer momentum (MovingAverageMinMaxObserver). */
static void observe(nnf_qrange *q, const float *v, size_t cnt, float momentum) {
  if (q->fixed || cnt == 0) return;
  float lo = v[0], hi = v[0];
  for (size_t i = 1; i < cnt; i++) {
    lo = v[i] < lo ? v[i] : lo;
    hi = v[i] > hi ? v[i] : hi;
  }
  if (!q->seen) {
    q->lo = lo;
    q->hi = hi;
  } else {
    q->lo += momentum * (lo - q->lo);
    q->hi += momentum * (hi - q->hi);
  }
  q->seen++;
}

/* Asymmetric int8 parameters for the observed range, which is widened to
 * hold 0 so that 0 is exact (as TFLite and PyTorch require). */
static void range_to_qparams(nnf_qrange *q) {
  if (q->fixed) return;
  double lo = q->lo < 0 ? q->lo : 0, hi = q->hi > 0 ? q->hi : 0;
  if (!q->seen || hi - lo < 1e-8) {
    lo = 0;
    hi = 1;
  }
  q->scale = (hi - lo) / 255.0;
  q->zp = nnfm_clamp(-128 - nnfm_quantize_real(lo, q->scale, 0, -1000, 1000), -128, 127);
}

static float deq(int8_t v, const nnf_qrange *q) { return (float)(((int)v - q->zp) * q->scale); }

int nnf_net_observe(nnf_net *n, const float *x, int batch) {
  if (ensure_cap(n, batch)) return -1;
  float m = n->observer_momentum;
  observe(&n->q[0], x, (size_t)batch * n->sizes[0], m);
  const float *in = x;
  for (int l = 0; l < n->nlayers; l++) {
    size_t cnt = (size_t)batch * n->sizes[l + 1];
    nnf_dense_forward(&n->layer[l], NULL, in, n->z[l], batch);
    if (uses_lut(n, l)) observe(&n->pre[l], n->z[l], cnt, m);
    nnf_act_forward(has_act(n, l) ? n->act : NNF_ACT_NONE, n->z[l], n->a[l + 1], cnt);
    observe(&n->q[l + 1], n->a[l + 1], cnt, m);
    in = n->a[l + 1];
  }
  n->quantized = 0;
  return 0;
}

/* The clamp bounds a layer's requantization applies for its activation. */
static void act_bounds(const nnf_net *n, int l, int32_t *lo, int32_t *hi) {
  const nnf_qrange *q = &n->q[l + 1];
  *lo = -128;
  *hi = 127;
  if (!has_act(n, l)) return;
  if (n->act == NNF_ACT_RELU || n->act == NNF_ACT_RELU6) *lo = nnfm_clamp(q->zp, -128, 127);
  if (n->act == NNF_ACT_RELU6) *hi = nnfm_quantize_real(6.0, q->scale, q->zp, -128, 127);
}

static float act_ref(nnf_act a, float x) {
  float y;
  nnf_act_forward(a, &x, &y, 1);
  return y;
}

int nnf_qlayer_quantize(nnf_qlayer *Q, const nnf_dense *L, double s_in, int32_t zp_in, double s_out,
                        int layer, char *err, size_t errlen) {
  for (int o = 0; o < L->out; o++) {
    const float *w = L->w + (size_t)o * L->in;
    float mx = 0;
    for (int i = 0; i < L->in; i++) mx = fabsf(w[i]) > mx ? fabsf(w[i]) : mx;
    if (!isfinite(mx)) return nnf_fail(err, errlen, "layer %d has a non-finite weight", layer);
    double sw = mx > 0 ? mx / 127.0 : 1.0;
    Q->s_w[o] = (float)sw;
    for (int i = 0; i < L->in; i++) {
      int32_t q = nnfm_quantize_real(w[i], sw, 0, -127, 127);
      Q->w_kn[(size_t)i * L->out + o] = (int8_t)q;
      Q->w_fq[(size_t)o * L->in + i] = (float)(q * sw);
    }
    double sacc = s_in * sw;
    int32_t qb = nnfm_quantize_real(L->b[o], sacc, 0, INT32_MIN, INT32_MAX);
    Q->bias[o] = qb;
    Q->b_fq[o] = (float)(qb * sacc);
    int sh;
    if (nnfm_quantize_multiplier(sacc / s_out, &Q->m0[o], &sh) != NNFM_OK)
      return nnf_fail(err, errlen, "layer %d channel %d: multiplier %g out of range", layer, o, sacc / s_out);
    Q->shift[o] = (int8_t)sh;
  }
  if (nnfm_fold_input_zp(Q->w_kn, L->in, L->out, zp_in, Q->bias, Q->bias) != NNFM_OK)
    return nnf_fail(err, errlen, "layer %d: cannot fold the input zero point", layer);
  return 0;
}

static int quantize_layer(nnf_net *n, int l, char *err, size_t errlen) {
  const nnf_dense *L = &n->layer[l];
  nnf_qlayer *Q = &n->ql[l];
  const nnf_qrange *qin = &n->q[l];
  int lut = uses_lut(n, l);
  const nnf_qrange *qout = lut ? &n->pre[l] : &n->q[l + 1];
  if (nnf_qlayer_quantize(Q, L, qin->scale, qin->zp, qout->scale, l + 1, err, errlen)) return -1;
  Q->lut = lut;
  if (lut) {
    Q->zp = qout->zp;
    Q->lo = -128;
    Q->hi = 127;
    const nnf_qrange *qa = &n->q[l + 1];
    for (int v = -128; v < 128; v++) {
      float x = (float)((v - qout->zp) * qout->scale);
      Q->table[(uint8_t)v] = (int8_t)nnfm_quantize_real(act_ref(n->act, x), qa->scale, qa->zp, -128, 127);
    }
  } else {
    Q->zp = qout->zp;
    act_bounds(n, l, &Q->lo, &Q->hi);
  }
  return 0;
}

int nnf_net_quantize(nnf_net *n, char *err, size_t errlen) {
  for (int l = 0; l <= n->nlayers; l++) {
    range_to_qparams(&n->q[l]);
    if (l < n->nlayers && uses_lut(n, l)) range_to_qparams(&n->pre[l]);
  }
  for (int l = 0; l < n->nlayers; l++)
    if (quantize_layer(n, l, err, errlen)) return -1;
  n->quantized = 1;
  return 0;
}

void nnf_net_quantize_input(const nnf_net *n, const float *x, int8_t *xq, int batch) {
  const nnf_qrange *q = &n->q[0];
  size_t cnt = (size_t)batch * n->sizes[0];
  for (size_t i = 0; i < cnt; i++) xq[i] = (int8_t)nnfm_quantize_real(x[i], q->scale, q->zp, -128, 127);
}

/* ---- forward ------------------------------------------------------------ */

/* Float forward; the input stays the caller's (no copy; backward reads it). */
static void forward_float(nnf_net *n, const float *x, int batch) {
  n->input = x;
  for (int l = 0; l < n->nlayers; l++) {
    size_t cnt = (size_t)batch * n->sizes[l + 1];
    nnf_dense_forward(&n->layer[l], NULL, l ? n->a[l] : x, n->z[l], batch);
    nnf_act_forward(has_act(n, l) ? n->act : NNF_ACT_NONE, n->z[l], n->a[l + 1], cnt);
  }
}

/* The host's float emulation of the int8 path: quantize, multiply in float
 * with the fake-quant weights, requantize with nnfm_quantize_real. */
static void forward_fakequant(nnf_net *n, const float *x, int batch) {
  float m = n->observer_momentum;
  size_t cnt0 = (size_t)batch * n->sizes[0];
  observe(&n->q[0], x, cnt0, m);
  nnf_net_quantize_input(n, x, n->qa[0], batch);
  for (size_t i = 0; i < cnt0; i++) n->a[0][i] = deq(n->qa[0][i], &n->q[0]);
  for (int l = 0; l < n->nlayers; l++) {
    const nnf_qlayer *Q = &n->ql[l];
    nnf_dense tmp = n->layer[l];
    tmp.b = Q->b_fq;
    size_t cnt = (size_t)batch * n->sizes[l + 1];
    float *z = n->z[l];
    nnf_dense_forward(&tmp, Q->w_fq, n->a[l], z, batch);
    int8_t *qa = n->qa[l + 1];
    if (Q->lut) {
      observe(&n->pre[l], z, cnt, m);
      const nnf_qrange *qp = &n->pre[l];
      for (size_t i = 0; i < cnt; i++)
        qa[i] = Q->table[(uint8_t)nnfm_quantize_real(z[i], qp->scale, qp->zp, -128, 127)];
    } else {
      nnf_act a = has_act(n, l) ? n->act : NNF_ACT_NONE;
      nnf_act_forward(a, z, n->a[l + 1], cnt);
      observe(&n->q[l + 1], n->a[l + 1], cnt, m);
      const nnf_qrange *qo = &n->q[l + 1];
      for (size_t i = 0; i < cnt; i++)
        qa[i] = (int8_t)nnfm_quantize_real(z[i], qo->scale, qo->zp, Q->lo, Q->hi);
    }
    for (size_t i = 0; i < cnt; i++) n->a[l + 1][i] = deq(qa[i], &n->q[l + 1]);
  }
}

static int forward_device(nnf_net *n, nnf_device *dev, const float *x, int batch, char *err,
                          size_t errlen) {
  if (!dev) return nnf_fail(err, errlen, "device mode needs a device");
  nnf_net_quantize_input(n, x, n->qa[0], batch);
  size_t cnt0 = (size_t)batch * n->sizes[0];
  for (size_t i = 0; i < cnt0; i++) n->a[0][i] = deq(n->qa[0][i], &n->q[0]);
  int8_t *outs[NNF_MAX_LAYERS + 1] = {0};
  for (int l = 1; l <= n->nlayers; l++) outs[l] = n->qa[l];
  if (nnf_device_run(dev, n->qa[0], batch, outs, err, errlen)) return -1;
  for (int l = 1; l <= n->nlayers; l++) {
    size_t cnt = (size_t)batch * n->sizes[l];
    for (size_t i = 0; i < cnt; i++) n->a[l][i] = deq(n->qa[l][i], &n->q[l]);
  }
  return 0;
}

int nnf_net_forward(nnf_net *n, nnf_fwd_mode mode, nnf_device *dev, const float *x, int batch,
                    char *err, size_t errlen) {
  if (batch < 1 || batch > 65535) return nnf_fail(err, errlen, "batch %d out of range 1..65535", batch);
  if (ensure_cap(n, batch)) return nnf_fail(err, errlen, "out of memory for a batch of %d", batch);
  n->last_mode = mode;
  if (mode == NNF_FWD_FLOAT) {
    forward_float(n, x, batch);
    return 0;
  }
  if (!n->quantized && nnf_net_quantize(n, err, errlen)) return -1;
  n->input = n->a[0];
  if (mode == NNF_FWD_FAKEQUANT) {
    forward_fakequant(n, x, batch);
    return 0;
  }
  return forward_device(n, dev, x, batch, err, errlen);
}

/* ---- backward ----------------------------------------------------------- */

/* dz = dy * d(output)/d(pre-activation) for layer l in the quantized modes,
 * from the int8 outputs: the straight-through estimator passes gradients
 * where the output was not clamped; sigmoid and tanh multiply by their
 * derivative at the dequantized output. */
static void ste_backward(const nnf_net *n, int l, const float *dy, float *dz, size_t cnt) {
  const nnf_qlayer *Q = &n->ql[l];
  const int8_t *q = n->qa[l + 1];
  const float *y = n->a[l + 1];
  if (Q->lut) {
    nnf_act_backward(n->act, NULL, y, dy, dz, cnt);
    return;
  }
  for (size_t i = 0; i < cnt; i++) dz[i] = (q[i] > Q->lo && q[i] < Q->hi) ? dy[i] : 0.0f;
}

float nnf_net_backward(nnf_net *n, const int32_t *labels, int batch, float scale, int accumulate) {
  int L = n->nlayers;
  float *g = n->g0, *gnext = n->g1;
  float loss = nnf_loss_softmax_ce(n->a[L], labels, batch, n->sizes[L], g);
  if (scale != 1.0f)
    for (size_t i = 0; i < (size_t)batch * n->sizes[L]; i++) g[i] *= scale;
  int quant = n->last_mode != NNF_FWD_FLOAT;
  for (int l = L - 1; l >= 0; l--) {
    size_t cnt = (size_t)batch * n->sizes[l + 1];
    if (quant)
      ste_backward(n, l, g, g, cnt);
    else
      nnf_act_backward(has_act(n, l) ? n->act : NNF_ACT_NONE, n->z[l], n->a[l + 1], g, g, cnt);
    const float *w = quant ? n->ql[l].w_fq : NULL;
    nnf_dense_backward(&n->layer[l], w, l ? n->a[l] : n->input, g, l > 0 ? gnext : NULL, batch,
                       accumulate);
    float *t = g;
    g = gnext;
    gnext = t;
  }
  return loss;
}

int nnf_net_forward_int(const nnf_net *n, const int8_t *xq, int batch, int8_t *out) {
  const int8_t *in = xq;
  int8_t *buf[2] = {NULL, NULL};
  int rc = 0;
  for (int l = 0; l < n->nlayers && !rc; l++) {
    const nnf_qlayer *Q = &n->ql[l];
    int8_t *y = l + 1 == n->nlayers ? out : (buf[l & 1] = realloc(buf[l & 1], (size_t)batch * n->sizes[l + 1]));
    if (!y) {
      rc = -1;
      break;
    }
    nnfm_gemm_args g = {batch, n->sizes[l], n->sizes[l + 1], Q->zp, Q->lo, Q->hi,
                        Q->lut ? Q->table : NULL};
    rc = nnfm_gemm(&g, in, Q->w_kn, Q->bias, Q->m0, Q->shift, y) != NNFM_OK ? -1 : 0;
    in = y;
  }
  free(buf[0]);
  free(buf[1]);
  return rc;
}
