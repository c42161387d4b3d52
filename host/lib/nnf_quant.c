/*
 * nnf_quant.c - the range observers and quantization parameters every layer
 * kind shares (nnf_layer_impl.h): the bottom of the layer stack, above
 * only the functional model's rounding rules.
 */
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <math.h>

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

