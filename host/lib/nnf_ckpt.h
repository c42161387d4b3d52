/*
 * nnf_ckpt.h - checkpoints: a network in a safetensors file (docs/host.md).
 *
 * Tensors, named as the parameters of a torch.nn.Sequential called `layers`
 * (Linear, activation, Linear, ...) so that PyTorch loads them directly:
 *   layers.<2l>.weight          F32 [out, in]   float master weights
 *   layers.<2l>.bias            F32 [out]
 *   quant.<l>.weight_scale      F32 [out]       per-channel weight scales
 *   quant.<l>.weight_int8       I8  [in, out]   int8 weights (engine's K x N)
 *   quant.<l>.bias_int32        I32 [out]       biases with the input zp folded in
 *   quant.<l>.multiplier        I32 [out]       requantization m0
 *   quant.<l>.shift             I8  [out]       requantization shift
 *   quant.<l>.lut               I8  [256]       activation table (LUT layers)
 *   quant.act_range             F32 [L+1, 2]    observed (lo, hi) of each activation
 *   quant.act_scale             F64 [L+1]       activation scales
 *   quant.act_zero_point        I32 [L+1]       activation zero points
 *   quant.pre_range / pre_scale / pre_zero_point   the same for pre-activations
 * Metadata: format "nnfpga", format_version "1", layers "784,128,10",
 * activation "relu", quantized "1"/"0", and anything the caller adds.
 */
#ifndef NNF_CKPT_H
#define NNF_CKPT_H

#include <stddef.h>

#include "nnf_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write n to path atomically; extra metadata pairs may be 0. */
int nnf_ckpt_save(const char *path, const nnf_net *n, const char *const *keys,
                  const char *const *vals, int n_extra, char *err, size_t errlen);
/* Load a checkpoint: the architecture comes from the metadata and every
 * tensor is checked against it (name, dtype, shape). NULL + err on failure. */
nnf_net *nnf_ckpt_load(const char *path, char *err, size_t errlen);

/* Spiking networks (nnf_snn.h): the same float tensors; quant.<l>.* int8
 * tensors; quant.current_range F32 [L], quant.vth I32 [L], quant.observed
 * I32 [L]; metadata model "snn", steps, beta, threshold, reset, encoding,
 * surrogate, slope, resolution. */
struct nnf_snn;
int nnf_ckpt_save_snn(const char *path, const struct nnf_snn *n, const char *const *keys,
                      const char *const *vals, int n_extra, char *err, size_t errlen);
struct nnf_snn *nnf_ckpt_load_snn(const char *path, char *err, size_t errlen);
/* "mlp" or "snn" by the file's metadata (NULL + err if unreadable). The
 * string is static. */
const char *nnf_ckpt_model_kind(const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* NNF_CKPT_H */
