/*
 * nnf_ckpt.h - checkpoints: a network of the layer stack in a safetensors
 * file (docs/host.md, "Checkpoints").
 *
 * Format 2 (written): tensors named as torch.nn.Sequential's state_dict
 * names them, so PyTorch loads the float model directly:
 *   <i>.weight, <i>.bias        F32 [out, in], [out]   layer i's parameters
 *                               (Conv2d: [out, in, kh, kw]; no bias with bias=False)
 * and the quantization beside them:
 *   quant.input.range           F32 [2]     observed (lo, hi) of the input
 *   quant.<i>.range             F32 [2]     observed (lo, hi) of layer i's output
 *   quant.<i>.observed          I32 [1]     batches observed
 *   quant.<i>.current_range     F32 [1]     LIF: observed max |current|
 *   quant.<i>.vth               I32 [1]     LIF: threshold in current steps
 *   quant.<i>.weight_scale      F32 [out]   Linear, quantized: per-channel scales
 *   quant.<i>.weight_int8       I8  [in, out]   int8 weights (engine's K x N)
 *   quant.<i>.bias_int32        I32 [out]   biases with the input zp folded in
 *                                           (Conv2d, the same with in = Cin*K*K,
 *                                           k = (c*K + ky)*K + kx, and the bias
 *                                           not folded: nnfm_conv2d_ref's)
 *   quant.<i>.multiplier, shift I32, I8 [out]   requantization
 *   quant.<i>.lut               I8  [256]   activation table (LUT layers)
 *   quant.<i>.rnn_ranges        F32 [r, 2]  a recurrent or attention layer's observed
 *                                           intermediate ranges (gates, logits, context,
 *                                           LayerNorm outputs; r <= 16)
 * Recurrent and attention layers name their parameters as PyTorch's modules
 * do under the layer's index: <i>.weight_ih_l0, <i>.self_attn.in_proj_weight,
 * <i>.linear1.weight, <i>.norm2.bias, ... (docs/rnn.md, docs/attention.md);
 * their entries in the architecture are the modules' constructor calls
 * (e.g. "TransformerEncoderLayer(64,4,dim_feedforward=128,...)").
 * and for an imported int8 model (nnf_import.h), its quantization as given:
 *   quant.given_scale           F64 [L+1]   boundary i's scale (0: observed)
 *   quant.given_zero_point      I32 [L+1]   boundary i's zero point
 *   quant.<i>.weight_scale_given F32 [out]  the per-channel weight scales
 *   quant.<i>.bias_given        I32 [out]   the int32 biases (nnf_layer_give_biases)
 *   quant.<i>.bias_given_at     F32 [out]   the float biases they were given with
 * and when some layer rounds as TFLite (nnf_layer_set_rounding):
 *   quant.rounding              I32 [L]     layer i's NNFM_ROUND_* (absent: all single)
 * Metadata: format "nnfpga", format_version "2", architecture (e.g.
 * "Linear(784,128),ReLU,Linear(128,10)"), inputs, steps, input ("observed",
 * "pixels", "rate"), quantized; for the ready-made networks also model
 * ("mlp", "snn"), layers ("784,128,10") and activation; task
 * ("multiclass", "binary", "multilabel", "regression") and loss ("ce",
 * "bce", "mse", "mae", "huber"; huber_delta with "huber"), which load into
 * nnf_net.task (absent: multiclass and ce, as every checkpoint before
 * tasks); input_shape ("C,H,W") for a network over maps (its conv and
 * pool entries are PyTorch constructor calls, e.g.
 * "Conv2d(1,16,kernel_size=5,stride=1,padding=2)"); and anything the
 * caller adds. A Dropout(p) layer is in the architecture and holds no
 * tensors.
 *
 * Format 1 (before the layer stack: MLPs with `layers.<2l>.*`, quant.act_*
 * and quant.pre_*; spiking networks with model "snn") still loads.
 */
#ifndef NNF_CKPT_H
#define NNF_CKPT_H

#include <stddef.h>

#include "nnf_layer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write n to path atomically; extra metadata pairs may be 0. */
int nnf_ckpt_save(const char *path, const nnf_net *n, const char *const *keys, const char *const *vals,
                  int n_extra, char *err, size_t errlen);
/* Load a checkpoint (format 1 or 2): the architecture comes from the
 * metadata and every tensor is checked against it (name, dtype, shape), and
 * the stored int8 tensors against what the float weights and ranges give.
 * NULL + err on failure. */
nnf_net *nnf_ckpt_load(const char *path, char *err, size_t errlen);
/* Parse an architecture string into a network taking `inputs` features. */
nnf_net *nnf_arch_parse(const char *arch, int inputs, int steps, nnf_input_kind input, char *err, size_t errlen);
/* The same for a network taking shape[0] x shape[1] x shape[2] maps (C, H, W). */
nnf_net *nnf_arch_parse_map(const char *arch, const int shape[3], int steps, nnf_input_kind input, char *err,
                            size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* NNF_CKPT_H */
