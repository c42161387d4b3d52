/*
 * nnf_model.h - a multilayer perceptron with quantization-aware training,
 * and the device that runs its forward pass (docs/host.md).
 *
 * A network is dense layers in[0] -> in[1] -> ... -> in[L], a hidden
 * activation after every layer but the last (whose outputs are the logits).
 * Its weights are float masters; nnf_net_quantize derives the int8 model of
 * the numeric contract (docs/numerics.md) from them and from the activation
 * ranges observed so far. A forward pass runs in one of three ways:
 *
 *   NNF_FWD_FLOAT      float on the host, no quantization (the float baseline)
 *   NNF_FWD_FAKEQUANT  float on the host through fake quantization of the
 *                      input, weights, biases and every activation
 *   NNF_FWD_DEVICE     the int8 model on a device (nnf_device: model, sim or
 *                      a board); every layer's int8 activations come back
 *
 * and the backward pass is the same for the two quantized ways: each layer's
 * int8 outputs are dequantized, gradients pass straight through the rounding
 * and stop where an output was clamped (straight-through estimator).
 *
 * Ownership: nnf_net_create returns a network owned by the caller (free with
 * nnf_net_free); nnf_device likewise. Functions returning int give 0 or -1
 * with a message in err.
 */
#ifndef NNF_MODEL_H
#define NNF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_init.h"
#include "nnf_nn.h"
#include "nnf_optim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNF_MAX_LAYERS 8

typedef enum { NNF_FWD_FLOAT = 0, NNF_FWD_FAKEQUANT, NNF_FWD_DEVICE } nnf_fwd_mode;

/* An activation tensor's quantization and its observed range. */
typedef struct {
  float lo, hi;    /* observed range (moving average of batch min / max) */
  int seen;        /* batches observed */
  int fixed;       /* 1: scale/zp fixed by the activation (sigmoid, tanh outputs) */
  double scale;
  int32_t zp;
} nnf_qrange;

/* The int8 form of one layer (engine layout), derived by nnf_net_quantize. */
typedef struct {
  float *s_w;        /* out: per-channel weight scales */
  int8_t *w_kn;      /* in x out, int8 weights in the engine's K x N layout */
  float *w_fq;       /* out x in, dequantized weights (the fake-quant weights) */
  float *b_fq;       /* out, dequantized biases */
  int32_t *bias;     /* out, int32 biases with the input zero point folded in */
  int32_t *m0;       /* out */
  int8_t *shift;     /* out */
  int32_t zp, lo, hi;
  int lut;           /* 1: the layer's outputs go through table */
  int8_t table[256];
} nnf_qlayer;

typedef struct {
  int nlayers;
  int sizes[NNF_MAX_LAYERS + 1];
  nnf_act act;                          /* hidden activation */
  nnf_dense layer[NNF_MAX_LAYERS];
  nnf_qrange q[NNF_MAX_LAYERS + 1];     /* q[0] input, q[l + 1] output of layer l */
  nnf_qrange pre[NNF_MAX_LAYERS];       /* pre-activation (LUT activations only) */
  nnf_qlayer ql[NNF_MAX_LAYERS];
  int quantized;                        /* ql is up to date with the weights */
  float observer_momentum;              /* EMA constant of the range observers (0.01) */
  /* work buffers for batches of up to cap rows */
  int cap;
  float *z[NNF_MAX_LAYERS];             /* pre-activations (FLOAT mode) */
  float *a[NNF_MAX_LAYERS + 1];         /* a[0] input, a[l + 1] layer l's outputs (dequantized) */
  int8_t *qa[NNF_MAX_LAYERS + 1];       /* int8 activations (quantized modes) */
  float *g0, *g1;                       /* gradient scratch */
  const float *input;                   /* the last forward's input (a[0] or the caller's x) */
  nnf_fwd_mode last_mode;
} nnf_net;

/* sizes[0..nsizes-1] (nsizes >= 2, each 1..65535), hidden activation act,
 * weights initialised as torch.nn.Linear's defaults from seed. */
nnf_net *nnf_net_create(const int *sizes, int nsizes, nnf_act act, uint64_t seed, char *err,
                        size_t errlen);
void nnf_net_free(nnf_net *n);
/* Re-initialise every layer with an initialiser (nnf_init.h) from seed;
 * hidden layers use the gain of the hidden activation, the last layer the
 * linear gain. 0, or -1 for an invalid spec. */
int nnf_net_init(nnf_net *n, const nnf_init_spec *s, uint64_t seed);
/* Parse "784,128,10" into sizes; returns the count or -1 (+ err). */
int nnf_parse_layers(const char *spec, int *sizes, int max, char *err, size_t errlen);
/* "784,128,10" for a network (buf of len bytes). */
void nnf_net_layers_string(const nnf_net *n, char *buf, size_t len);

/* Register every parameter (weights, biases) with an optimizer. */
int nnf_net_register(nnf_net *n, nnf_optim *o);
void nnf_net_zero_grad(nnf_net *n);

/* Observe activation ranges with a float forward on the host (updates the
 * observers; does not touch the gradients). */
int nnf_net_observe(nnf_net *n, const float *x, int batch);
/* Derive the int8 model (ql) from the float weights and the ranges. */
int nnf_net_quantize(nnf_net *n, char *err, size_t errlen);
/* The int8 form of one dense layer (the numeric contract, docs/numerics.md):
 * per-channel symmetric weights (s_w = max|W[n,:]| / 127), int32 biases at
 * s_in * s_w, multipliers s_in * s_w / s_out, the input zero point folded
 * into the biases; also the dequantized (fake-quant) weights and biases.
 * Leaves zp / lo / hi / lut to the caller. `layer` (1-based) names it in
 * messages. */
int nnf_qlayer_quantize(nnf_qlayer *Q, const nnf_dense *L, double s_in, int32_t zp_in, double s_out,
                        int layer, char *err, size_t errlen);
/* Quantize a batch of inputs with q[0] (batch x sizes[0] int8). */
void nnf_net_quantize_input(const nnf_net *n, const float *x, int8_t *xq, int batch);

struct nnf_device;

/* Forward pass of a batch (batch <= 65535). FLOAT and FAKEQUANT run on the
 * host; DEVICE needs dev, loaded with nnf_device_load(dev, n). FAKEQUANT
 * also updates the observers, as PyTorch's QAT modules do. The logits (float,
 * dequantized in the quantized modes) are then in n->a[n->nlayers], and in
 * the quantized modes the int8 logits in n->qa[n->nlayers]. */
int nnf_net_forward(nnf_net *n, nnf_fwd_mode mode, struct nnf_device *dev, const float *x,
                    int batch, char *err, size_t errlen);
/* Softmax cross-entropy of the last forward's logits against labels: the
 * gradients of scale * (mean loss) overwrite the parameters' gradients, or
 * with accumulate are added to them (gradient accumulation: scale = this
 * batch's share of the samples in the step). Returns the mean loss. */
float nnf_net_backward(nnf_net *n, const int32_t *labels, int batch, float scale, int accumulate);

/* The int8 model on the host, with the functional model's nnfm_gemm: the
 * integer reference a device must equal bit for bit. xq: batch x sizes[0];
 * out: batch x sizes[L] int8 logits. */
int nnf_net_forward_int(const nnf_net *n, const int8_t *xq, int batch, int8_t *out);

/* ---- the device --------------------------------------------------------- */

typedef struct nnf_device nnf_device;

/* Open by URI (driver URIs: "model", "sim", "serial:...", "usb..."). */
nnf_device *nnf_device_open(const char *uri, char *err, size_t errlen);
/* The same, returning the driver's status (NNFDRV_OK, or NNFDRV_ERR_URI for
 * a malformed URI, NNFDRV_ERR_NO_DEVICE, ...; NNFDRV_ERR_PROTOCOL when the
 * device's INFO describes no usable engine); *out is set only on success. */
int nnf_device_connect(const char *uri, nnf_device **out, char *err, size_t errlen);
void nnf_device_close(nnf_device *d);
/* Upload the quantized network (weights, parameters, LUTs, program) for
 * batches of up to max_batch rows; fails if it does not fit the device's
 * buffers (the message says which and by how much). */
int nnf_device_load(nnf_device *d, const nnf_net *n, int max_batch, char *err, size_t errlen);
/* Run one batch of int8 inputs; outs[l] (l = 1..L, batch x sizes[l]) gets
 * layer l's int8 outputs, NULL entries are not read back. */
int nnf_device_run(nnf_device *d, const int8_t *xq, int batch, int8_t *const *outs, char *err,
                   size_t errlen);
/* Device figures since open (or the last nnf_device_reset_counters). */
typedef struct {
  uint64_t cycles, busy_cycles, macs, images;
  int rows, cols;
} nnf_device_figures;
int nnf_device_figures_get(nnf_device *d, nnf_device_figures *f, char *err, size_t errlen);
int nnf_device_reset_counters(nnf_device *d, char *err, size_t errlen);
const char *nnf_device_uri(const nnf_device *d);

#ifdef __cplusplus
}
#endif
#endif /* NNF_MODEL_H */
