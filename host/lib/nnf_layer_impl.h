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

/* A LIF layer's first state entry on the device (after planning). */
uint32_t nnf_lif_state_base(const nnf_layer *l);

#endif /* NNF_LAYER_IMPL_H */
