/*
 * nnfm_lif.c - the LIF neuron update (see nnfm_lif.h): the only code that
 * defines it.
 */
#include "nnfm_lif.h"

#include <stddef.h>

#include "nnfm.h"

int nnfm_lif_params_check(const nnfm_lif_params *p) {
  if (!p) return NNFM_ERR_NULL;
  if (p->du > NNFM_LIF_DECAY_MAX || p->dv > NNFM_LIF_DECAY_MAX || p->vth < 0 ||
      p->vth > NNFM_LIF_VTH_MAX || p->bias_mant < NNFM_LIF_BIAS_MANT_MIN ||
      p->bias_mant > NNFM_LIF_BIAS_MANT_MAX || p->bias_exp > NNFM_LIF_BIAS_EXP_MAX ||
      p->reset_sub > 1 || p->refractory > NNFM_LIF_REFRACTORY_MAX)
    return NNFM_ERR_RANGE;
  return NNFM_OK;
}

/* trunc(x * m / 4096) for |x| <= 2^24, 0 <= m <= 4096: truncation toward zero
 * (Lava: sign(x) * (|x * m| >> 12)). */
static int32_t decay(int32_t x, int32_t m) {
  int64_t prod = (int64_t)x * m;
  int64_t mag = (prod < 0 ? -prod : prod) >> 12;
  return (int32_t)(prod < 0 ? -mag : mag);
}

int nnfm_lif_step(const nnfm_lif_params *p, nnfm_lif_state *s, int32_t a) {
  int32_t v_pre;
  return nnfm_lif_step_ex(p, s, a, &v_pre);
}

int nnfm_lif_step_ex(const nnfm_lif_params *p, nnfm_lif_state *s, int32_t a, int32_t *v_pre) {
  const int32_t max = NNFM_LIF_UV_MAX;
  int32_t du = p->du & 0xFFF, dv = p->dv & 0xFFF, vth = p->vth & 0x1FFFF;
  int32_t bias = (int32_t)p->bias_mant * (1 << (p->bias_exp & 7));
  /* current: decay by (du + 1) / 4096, add the input, wrap into 24 bits */
  int32_t u = decay(s->u, 4096 - (du + 1)) + a * 64;
  if (u > max) u -= 2 * max;
  else if (u <= -max) u += 2 * max;
  s->u = u;
  if (s->ref) {
    s->ref--;
    *v_pre = s->v;
    return 0;
  }
  /* voltage: decay by dv / 4096, add current and bias, clamp to 24 bits */
  int64_t v = (int64_t)decay(s->v, 4096 - dv) + u + bias;
  if (v > max - 1) v = max - 1;
  if (v < -(max - 1)) v = -(max - 1);
  int32_t th = vth * 64;
  int spike = v > th;
  *v_pre = (int32_t)v;
  if (spike) {
    v = p->reset_sub ? v - th : 0;
    s->ref = (uint8_t)(p->refractory & 15);
  }
  s->v = (int32_t)v;
  return spike;
}

void nnfm_lif_layer(const nnfm_lif_params *p, nnfm_lif_state *s, const int8_t *a, int8_t *out,
                    uint32_t *counts, int n) {
  for (int i = 0; i < n; i++) {
    int sp = nnfm_lif_step(p, &s[i], a[i]);
    out[i] = (int8_t)sp;
    if (counts) counts[i] += (uint32_t)sp;
  }
}
