/*
 * nnfm_lif.h - the functional model's LIF neuron: THE definition of the
 * spiking update (docs/numerics.md, "LIF neurons"). The RTL LIF core must
 * match it bit for bit; the host's spiking layers call it for their integer
 * reference.
 *
 * Lava's bit-accurate CUBA LIF (lava-nc/lava, PyLifModelBitAcc), per neuron
 * and time step, with a the synaptic input (here the int8 output of the
 * engine's vector stage for W s):
 *
 *   u' = trunc(u * (4096 - (du + 1)) / 4096) + (a << 6)       (truncation toward 0)
 *        then wrapped into 24 bits as Lava does: u' > 2^23 -> u' - 2^24,
 *        u' <= -2^23 -> u' + 2^24   (so u' = +2^23 exactly stays: the overflow corner)
 *   v' = trunc(v * (4096 - dv) / 4096) + u' + bias,  bias = bias_mant << bias_exp
 *        then clamped to [-(2^23 - 1), 2^23 - 1]
 *   spike = v' > (vth << 6);  on a spike v' = 0 (Lava), or with reset_sub
 *   v' = v' - (vth << 6) (extension)
 *
 * Extension (off by default, refractory = 0 is Lava): after a spike the
 * neuron is refractory for `refractory` steps: u still integrates, v stays
 * at its reset value and cannot spike.
 *
 * du = 4095 makes u' = a << 6 (no current memory): v then follows snnTorch's
 * Leaky neuron, v' = beta v + input with beta = 1 - dv / 4096.
 */
#ifndef NNFM_LIF_H
#define NNFM_LIF_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NNFM_LIF_UV_MAX ((int32_t)1 << 23)  /* 2^23 */
#define NNFM_LIF_DECAY_MAX 4095
#define NNFM_LIF_VTH_MAX 131071             /* 17 bits unsigned */
#define NNFM_LIF_BIAS_MANT_MIN (-4096)      /* 13 bits signed */
#define NNFM_LIF_BIAS_MANT_MAX 4095
#define NNFM_LIF_BIAS_EXP_MAX 7             /* 3 bits unsigned */
#define NNFM_LIF_REFRACTORY_MAX 15          /* 4 bits */

typedef struct {
  uint16_t du, dv;     /* 0..4095 */
  int32_t vth;         /* 0..131071; threshold is vth << 6 */
  int16_t bias_mant;   /* -4096..4095 */
  uint8_t bias_exp;    /* 0..7 */
  uint8_t reset_sub;   /* 0: reset to 0 (Lava); 1: subtract vth << 6 */
  uint8_t refractory;  /* 0..15 steps (0: none, Lava) */
} nnfm_lif_params;

typedef struct {
  int32_t u, v;        /* 24-bit values held in int32 */
  uint8_t ref;         /* refractory steps left */
} nnfm_lif_state;

/* NNFM_OK (0), or NNFM_ERR_RANGE for a field outside its range, NNFM_ERR_NULL. */
int nnfm_lif_params_check(const nnfm_lif_params *p);

/* One time step of one neuron with synaptic input a (int8 range expected;
 * any int32 with |a| < 2^17 is defined). Updates *s; returns the spike (0/1).
 * Parameters outside their ranges are the caller's error (checked by
 * nnfm_lif_params_check); the function stays defined (fields masked to
 * their widths). */
int nnfm_lif_step(const nnfm_lif_params *p, nnfm_lif_state *s, int32_t a);

/* nnfm_lif_step that also returns the membrane voltage before the reset
 * (v' above; the refractory case gives the held v) in *v_pre: what a
 * surrogate gradient is taken at. */
int nnfm_lif_step_ex(const nnfm_lif_params *p, nnfm_lif_state *s, int32_t a, int32_t *v_pre);

/* A layer of n neurons: s[i] steps with a[i]; spikes to out[i] (0/1 int8),
 * and counts[i] += spike when counts != NULL. */
void nnfm_lif_layer(const nnfm_lif_params *p, nnfm_lif_state *s, const int8_t *a, int8_t *out,
                    uint32_t *counts, int n);

#ifdef __cplusplus
}
#endif
#endif /* NNFM_LIF_H */
