/*
 * nnf_snn.h - spiking networks: dense layers of LIF neurons, trained on the
 * host with surrogate-gradient backpropagation through time, whose forward
 * pass IS the device's integer arithmetic (docs/snn.md).
 *
 * Layer l: synaptic input I = W s + b (s: the previous layer's 0/1 spikes, or
 * the image for direct-current input, or Bernoulli spikes of it for rate
 * coding), quantized as the engine does (int8 weights per channel, int32
 * accumulator, requantized to an int8 current a with scale s_a = theta / vth),
 * then the LIF update of nnfm_lif_step with du = 4095 (the current does not
 * persist) and dv = round((1 - beta) 4096): the membrane follows snnTorch's
 * Leaky neuron, v_t = beta v_{t-1} + I_t, spiking when v_t > theta, reset to
 * zero (or by subtraction). The output layer's spike counts over T steps are
 * the logits of a softmax cross-entropy loss (snnTorch's ce_count_loss).
 *
 * Training runs exactly the integer forward pass on the host (OpenBLAS in
 * double for exact integer sums, nnfm_requantize, nnfm_lif_step), so the
 * spikes the host trains on are the spikes the device produces; the backward
 * pass is float, with a surrogate derivative of the spike at each step
 * (fast sigmoid 1/(1 + k|x|)^2, or arctan (alpha/2)/(1 + (pi alpha x/2)^2),
 * x = v - theta), a straight-through estimator through the current's
 * rounding (zero where it clamped) and a detached reset.
 */
#ifndef NNF_SNN_H
#define NNF_SNN_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_data.h"
#include "nnf_model.h"
#include "nnf_nn.h"
#include "nnf_optim.h"
#include "nnf_train.h"
#include "nnfm_lif.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { NNF_ENC_DIRECT = 0, NNF_ENC_RATE } nnf_encoding;
typedef enum { NNF_SURR_FAST_SIGMOID = 0, NNF_SURR_ATAN } nnf_surrogate;

typedef struct {
  int steps;               /* T, 1..65535 */
  nnf_encoding encoding;
  double beta;             /* membrane decay, snnTorch's beta; mapped to dv = round((1 - beta) 4096) */
  double threshold;        /* theta (float units of the current) */
  int reset_sub;           /* 0: reset to zero (Lava); 1: subtract the threshold */
  nnf_surrogate surrogate;
  double slope;            /* fast sigmoid k (default 25) or arctan alpha (default 2) */
  int resolution;          /* least vth: currents are quantized with s_a = theta / vth, vth
                              the larger of this and what fits the observed range in int8
                              (default 48: currents clamp at +-2.6 thresholds) */
} nnf_snn_config;

nnf_snn_config nnf_snn_defaults(void);
int nnf_snn_config_check(const nnf_snn_config *c, char *err, size_t errlen);

typedef struct {
  double scale;            /* s_a = threshold / vth */
  int32_t vth;
  float range;             /* observed max |I| (moving average) */
  int seen;
} nnf_snn_current;

typedef struct nnf_snn {
  int nlayers;
  int sizes[NNF_MAX_LAYERS + 1];
  nnf_snn_config cfg;
  nnfm_lif_params lif;                    /* du, dv, reset shared by every layer (vth per layer) */
  nnf_dense layer[NNF_MAX_LAYERS];
  nnf_snn_current cur[NNF_MAX_LAYERS];
  nnf_qlayer ql[NNF_MAX_LAYERS];         /* int8 weights, folded biases, m0/shift */
  double *wq[NNF_MAX_LAYERS];            /* the int8 weights as doubles (K x N): exact BLAS sums */
  int quantized;
  uint64_t rng;                          /* rate coding */
  /* buffers for a batch of up to cap rows */
  int cap;
  int8_t *xq;                            /* cap x in: quantized input (or input spikes) */
  int8_t *a[NNF_MAX_LAYERS];             /* T x cap x out: int8 currents per step */
  int8_t *s[NNF_MAX_LAYERS];             /* T x cap x out: spikes per step */
  float *v[NNF_MAX_LAYERS];              /* T x cap x out: membrane before reset (float units) */
  int8_t *sin;                           /* T x cap x in: input spikes (rate coding) */
  int32_t *counts;                       /* cap x outputs */
  float *g0, *g1, *gv;                   /* scratch */
  double *dq, *dacc;                     /* double scratch for exact integer sums */
} nnf_snn;

nnf_snn *nnf_snn_create(const int *sizes, int nsizes, const nnf_snn_config *c, uint64_t seed,
                        char *err, size_t errlen);
void nnf_snn_free(nnf_snn *n);
int nnf_snn_register(nnf_snn *n, nnf_optim *o);

/* Observe the current ranges on a batch (float forward of the first layer,
 * spikes of the integer path for later layers) and derive the integer model. */
int nnf_snn_quantize(nnf_snn *n, char *err, size_t errlen);
int nnf_snn_observe(nnf_snn *n, const float *x, int batch, char *err, size_t errlen);

/* Rate coding: the input spike of feature i of row r at step t for value x,
 * a Bernoulli draw that is a pure function of (base, r, t, i), so that a
 * batch gives the same spikes whether it runs whole or in chunks. base is
 * drawn from n->rng once per forward (or device run) call. */
int nnf_snn_rate_spike(uint64_t base, size_t r, int t, size_t i, float x);

/* The integer forward pass on the host (the device's arithmetic); counts
 * (batch x outputs) get the output spike counts. */
int nnf_snn_forward(nnf_snn *n, const float *x, int batch, char *err, size_t errlen);
/* BPTT through the last forward; writes the gradients; returns the loss. */
float nnf_snn_backward(nnf_snn *n, const int32_t *labels, int batch);

/* Seeded mini-batch training: integer forward, BPTT, one optimizer step per
 * batch; the current scales follow the observed ranges. test (may be NULL)
 * is evaluated after every epoch on the host integer path. */
typedef struct {
  int epochs, batch;
  uint64_t seed;
  int observe_every;                     /* steps between range observations (>= 1) */
  nnf_sched sched;                       /* learning-rate schedule (zeroed: constant) */
  nnf_progress_fn progress;              /* from nnf_train.h's type */
  void *progress_ctx;
  FILE *csv;
} nnf_snn_train_opts;

int nnf_snn_train(nnf_snn *n, nnf_optim *opt, const nnf_dataset *train, const nnf_dataset *test,
                  const nnf_snn_train_opts *o, char *err, size_t errlen);

/* The class of one sample's n output spike counts: the most spikes, the
 * first such output on a tie. */
int nnf_snn_class(const int32_t *counts, int n);

/* Accuracy of the integer network on d: on the host (dev NULL) or on a device. */
typedef struct {
  double accuracy;
  uint64_t images, correct;
  nnf_device_figures dev;
} nnf_snn_eval;

int nnf_snn_evaluate(nnf_snn *n, struct nnf_device *dev, const nnf_dataset *d, int batch,
                     nnf_snn_eval *r, nnf_progress_fn progress, void *ctx, char *err, size_t errlen);

/* The device: upload the network (weights, parameters, the T-step
 * micro-program: GEMM, LIF, LOOP) for batches of up to max_batch rows (fewer
 * when the device's ACT or LIF state is smaller), then run batches; counts
 * (batch x outputs) get the output spike counts, read from the device's LIF
 * state. The network must stay loaded (and unchanged) between the two. */
int nnf_snn_device_load(struct nnf_device *dev, const nnf_snn *n, int max_batch, char *err, size_t errlen);
int nnf_snn_device_run(struct nnf_device *dev, nnf_snn *n, const float *x, int batch,
                       int32_t *counts, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* NNF_SNN_H */
