/*
 * nnf_quant.c - the range observers and quantization parameters every layer
 * kind shares (nnf_layer_impl.h): the bottom of the layer stack, above
 * only the functional model's rounding rules.
 */
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_err.h"
#include "nnfm.h"

/* ---- ranges ----------------------------------------------------------------- */

void nnf_qrange_observe(nnf_qrange *q, const float *v, size_t cnt, float momentum) {
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

void nnf_qrange_params(nnf_qrange *q) {
  if (q->fixed) return;
  double lo = q->lo < 0 ? q->lo : 0, hi = q->hi > 0 ? q->hi : 0;
  if (!q->seen || hi - lo < 1e-8) {
    lo = 0;
    hi = 1;
  }
  q->scale = (hi - lo) / 255.0;
  q->zp = nnfm_clamp(-128 - nnfm_quantize_real(lo, q->scale, 0, -1000, 1000), -128, 127);
}

void nnf_qrange_dequantize(const nnf_qrange *r, const int8_t *q, float *y, size_t cnt) {
  for (size_t i = 0; i < cnt; i++) y[i] = (float)(((int)q[i] - r->zp) * r->scale);
}

void nnf_qrange_fix(nnf_qrange *q, double scale, int32_t zp) {
  q->fixed = 1;
  q->scale = scale;
  q->zp = zp;
}

float nnf_observer_momentum(const nnf_net *n, const nnf_pass *p) {
  float m = n->observer_momentum;
  if (p->every <= 1) return m;
  /* observing every `every` passes, move as far as `every` per-step updates would */
  return (float)(1.0 - pow(1.0 - (double)m, (double)p->every));
}

nnf_qrange *nnf_layer_range(nnf_layer *l) { return &l->net->t[l->index + 1].r; }

int nnf_layer_ranges(nnf_layer *l, nnf_qrange **ranges) {
  int k = nnf_layer_rnn_ranges(l, ranges);
  return k >= 0 ? k : nnf_layer_attn_ranges(l, ranges);
}


/* ---- the int8 form of a layer with weights (Linear, Conv2d) ------------------ */

void nnf_qlayer_free(nnf_qlayer *q) {
  free(q->s_w_given);
  free(q->b_given);
  free(q->b_given_at);
  free(q->s_w);
  free(q->w_kn);
  free(q->w_fq);
  free(q->b_fq);
  free(q->bias);
  free(q->m0);
  free(q->shift);
  memset(q, 0, sizeof *q);
}

int nnf_qlayer_alloc(nnf_qlayer *q, int in, int out) {
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

const nnf_qrange *nnf_out_q(nnf_layer *l) { return l->fusion.out ? l->fusion.out : nnf_layer_range(l); }

const nnf_qrange *nnf_req_q(nnf_layer *l) {
  const nnf_fusion *f = &l->fusion;
  return f->out && !f->lut ? f->out : nnf_layer_range(l);
}

static float act_ref(nnf_act a, float x) {
  float y;
  nnf_act_forward(a, &x, &y, 1);
  return y;
}

void nnf_qlayer_output(nnf_layer *l, nnf_qlayer *Q) {
  const nnf_fusion *f = &l->fusion;
  const nnf_qrange *qr = nnf_req_q(l);
  Q->lut = f->lut;
  Q->zp = qr->zp;
  Q->lo = f->lo;
  Q->hi = f->hi;
  if (f->lut) {
    const nnf_qrange *qa = f->out;
    for (int v = -128; v < 128; v++) {
      float xv = (float)((v - qr->zp) * qr->scale);
      Q->table[(uint8_t)v] = (int8_t)nnfm_quantize_real(act_ref(f->act, xv), qa->scale, qa->zp, -128, 127);
    }
  }
}

void nnf_fq_output(nnf_layer *l, const nnf_qlayer *Q, const nnf_pass *p, const float *z, float *za, size_t cnt,
                   int8_t *qa) {
  const nnf_fusion *f = &l->fusion;
  float m = nnf_observer_momentum(l->net, p);
  if (f->lut) {
    nnf_qrange *pre = nnf_layer_range(l);
    if (p->observe) nnf_qrange_observe(pre, z, cnt, m);
    for (size_t i = 0; i < cnt; i++)
      qa[i] = Q->table[(uint8_t)nnfm_quantize_real(z[i], pre->scale, pre->zp, -128, 127)];
  } else {
    nnf_qrange *qo = f->out ? f->out : nnf_layer_range(l);
    if (p->observe) {
      nnf_act_forward(f->act, z, za, cnt);
      nnf_qrange_observe(qo, za, cnt, m);
    }
    for (size_t i = 0; i < cnt; i++) qa[i] = (int8_t)nnfm_quantize_real(z[i], qo->scale, qo->zp, Q->lo, Q->hi);
  }
}

void nnf_ste_backward(nnf_layer *l, const nnf_qlayer *Q, const nnf_tensor *y, float *dy, size_t cnt) {
  /* straight through the rounding where the output was not clamped; a LUT
   * activation multiplies by its derivative at the dequantized output */
  if (l->fusion.lut) {
    nnf_act_backward(l->fusion.act, NULL, y->f, dy, dy, cnt);
    return;
  }
  const int8_t *q = y->q;
  for (size_t i = 0; i < cnt; i++) dy[i] = (q[i] > Q->lo && q[i] < Q->hi) ? dy[i] : 0.0f;
}

/* ---- given quantization (imported int8 models) ------------------------------ */

int nnf_net_give_range(nnf_net *n, int i, double scale, int32_t zp, char *err, size_t errlen) {
  if (i < 0 || i > n->nlayers) return nnf_fail(err, errlen, "boundary %d: the network has %d", i, n->nlayers + 1);
  if (!(scale > 0) || !isfinite(scale) || zp < -128 || zp > 127)
    return nnf_fail(err, errlen, "boundary %d: scale %g, zero point %d: not a positive finite scale and an int8 zero point",
                    i, scale, (int)zp);
  nnf_qrange_fix(&n->t[i].r, scale, zp);
  n->quantized = 0;
  return 0;
}

static nnf_qlayer *weights_q(nnf_layer *l, int *out) {
  nnf_dense *d = nnf_layer_dense(l);
  if (d) {
    *out = d->out;
    return nnf_layer_qlayer(l);
  }
  d = nnf_layer_conv(l);
  if (d) {
    *out = d->out;
    return nnf_layer_conv_qlayer(l);
  }
  return NULL;
}

int nnf_layer_give_weight_scales(nnf_layer *l, const float *s, char *err, size_t errlen) {
  int out;
  nnf_qlayer *Q = weights_q(l, &out);
  if (!Q) return nnf_fail(err, errlen, "layer %d (%s) has no weights to give scales to", l->index, l->ops->kind);
  for (int o = 0; o < out; o++)
    if (!(s[o] > 0) || !isfinite(s[o]))
      return nnf_fail(err, errlen, "layer %d (%s) channel %d: weight scale %g is not positive and finite", l->index,
                      l->ops->kind, o, (double)s[o]);
  if (!Q->s_w_given && !(Q->s_w_given = malloc((size_t)out * sizeof(float))))
    return nnf_fail(err, errlen, "out of memory");
  memcpy(Q->s_w_given, s, (size_t)out * sizeof(float));
  l->net->quantized = 0;
  return 0;
}

const float *nnf_layer_given_weight_scales(nnf_layer *l) {
  int out;
  nnf_qlayer *Q = weights_q(l, &out);
  return Q ? Q->s_w_given : NULL;
}

int nnf_layer_give_biases(nnf_layer *l, const int32_t *b, const float *at, char *err, size_t errlen) {
  int out = 0;
  nnf_qlayer *Q = weights_q(l, &out);
  const nnf_dense *d = nnf_layer_dense(l) ? nnf_layer_dense(l) : nnf_layer_conv(l);
  nnf_conv_spec cs;
  if (!Q || !d || (!nnf_conv_spec_of(l, &cs) && !cs.bias))
    return nnf_fail(err, errlen, "layer %d (%s) has no biases to give", l->index, l->ops->kind);
  if (!Q->b_given && (!(Q->b_given = malloc((size_t)out * 4)) || !(Q->b_given_at = malloc((size_t)out * 4))))
    return nnf_fail(err, errlen, "out of memory");
  memcpy(Q->b_given, b, (size_t)out * 4);
  memcpy(Q->b_given_at, at ? at : d->b, (size_t)out * 4);
  l->net->quantized = 0;
  return 0;
}

const int32_t *nnf_layer_given_biases(nnf_layer *l, const float **at) {
  int out = 0;
  nnf_qlayer *Q = weights_q(l, &out);
  if (!Q || !Q->b_given) return NULL;
  *at = Q->b_given_at;
  return Q->b_given;
}
