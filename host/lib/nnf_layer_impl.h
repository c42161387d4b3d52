/*
 * nnf_layer_impl.h - what the layer kinds share inside libnnf (not part of
 * the public API): the range observers and the dequantizer.
 */
#ifndef NNF_LAYER_IMPL_H
#define NNF_LAYER_IMPL_H

#include "nnf_layer.h"

/* Fold a batch's min / max into a range: the first batch sets it, later
 * ones move it by momentum (MovingAverageMinMaxObserver). Fixed ranges stay. */
void nnf_qrange_observe(nnf_qrange *q, const float *v, size_t cnt, float momentum);
/* Asymmetric int8 parameters for the observed range, widened to hold 0. */
void nnf_qrange_params(nnf_qrange *q);
/* y = (q - zp) * scale. */
void nnf_qrange_dequantize(const nnf_qrange *r, const int8_t *q, float *y, size_t cnt);
/* Output quantization fixed as TFLite fixes it for sigmoid and tanh. */
void nnf_qrange_fix(nnf_qrange *q, double scale, int32_t zp);
/* The momentum of an observation on pass p: the network's per-step
 * constant, compounded over p->every steps. */
float nnf_observer_momentum(const nnf_net *n, const nnf_pass *p);

/* The int8 form of a layer with weights (Linear, Conv2d), shared:
 * allocation for in x out weights; the output's quantization (the
 * consumer's, or the layer's own range) and the requantization's (the
 * pre-activation's own range for a LUT); zp / lo / hi / lut and the table
 * from the fusion; the fake-quant output of pre-activations z (cnt values,
 * observed as the consumer asks; za scratch) into qa; the straight-through
 * backward of the rounding (dy zeroed where the output was clamped). */
int nnf_qlayer_alloc(nnf_qlayer *q, int in, int out);
void nnf_qlayer_free(nnf_qlayer *q);
const nnf_qrange *nnf_out_q(nnf_layer *l);
const nnf_qrange *nnf_req_q(nnf_layer *l);
void nnf_qlayer_output(nnf_layer *l, nnf_qlayer *Q);
void nnf_fq_output(nnf_layer *l, const nnf_qlayer *Q, const nnf_pass *p, const float *z, float *za, size_t cnt,
                   int8_t *qa);
void nnf_ste_backward(nnf_layer *l, const nnf_qlayer *Q, const nnf_tensor *y, float *dy, size_t cnt);
/* nnf_qlayer_quantize without folding the input zero point (Q->bias is
 * then the plain int32 bias; L->b NULL: no bias). */
int nnf_qlayer_quantize_weights(nnf_qlayer *Q, const nnf_dense *L, double s_in, double s_out, int layer, char *err,
                                size_t errlen);

/* A map layer's input check: its input is a C x H x W map the device holds
 * (not flattened) and it takes no time steps; 0, or -1 + err naming the
 * layer as `what`. */
int nnf_need_map(const nnf_layer *l, const char *what, int *steps, char *err, size_t errlen);

/* The "ZeroPad2d((l,r,t,b))" entry: the layer; NULL + err when malformed,
 * NULL for another entry. */
nnf_layer *nnf_zeropad_parse(const char *tok, char *err, size_t errlen);

/* Graphs in architecture entries (nnf_net_describe, the checkpoints'
 * parser, --arch): a layer that reads layer K's output rather than the one
 * before it ends its entry with "from=K" among its arguments (K = -1: the
 * network's input), "Conv2d(16,32,kernel_size=(1,1),stride=(2,2),from=6)",
 * "ReLU(from=3)". nnf_describe_from appends it to the entry in buf;
 * nnf_split_from copies tok without it into out (outlen) and sets *from:
 * 1 when it had one, 0 when not (out = tok, *from untouched), -1 when
 * malformed or too long. */
void nnf_describe_from(char *buf, size_t len, int from);
int nnf_split_from(const char *tok, char *out, size_t outlen, int *from);

/* 1 for MaxPool2d, AvgPool2d, AdaptiveAvgPool2d. */
int nnf_layer_is_pool(const nnf_layer *l);

/* qparams of a layer whose output keeps its input's quantization (Flatten,
 * Dropout, pools). */
void nnf_qparams_pass(nnf_layer *l);

/* A LIF layer's first state entry on the device (after planning). */
uint32_t nnf_lif_state_base(const nnf_layer *l);

#endif /* NNF_LAYER_IMPL_H */
