/*
 * nnf_import.h - networks trained elsewhere, read into the layer stack
 * (docs/import.md): ONNX float models and TFLite int8 models.
 *
 * Both readers turn a file's graph into an nnf_net whose layers are the
 * ones `nnfpga train --arch` builds (Linear, Conv2d, pools, Flatten,
 * activations), so the result is saved by nnf_ckpt_save and runs in
 * `nnfpga eval` / `infer` like any trained network.
 *
 * - ONNX (protobuf, read with protobuf-c from the onnx.proto subset
 *   nnf_onnx.proto): float32 weights; the network comes out unquantized
 *   (its ranges are observed afterwards: calibration, nnf_net_observe).
 *   An int8 ONNX model (QDQ or QOperator) comes out as a TFLite one does
 *   below: its quantization given, checked, quantized.
 * - TFLite (a flatbuffer, read by a bounds-checked reader written here):
 *   int8 models; the network comes out with its quantization given
 *   (nnf_net_give_range, nnf_layer_give_weight_scales) and quantized, its
 *   int8 weights, biases, multipliers and zero points exactly the file's
 *   (checked after quantizing; a model they cannot be held exactly for is
 *   refused). Requantization is then nnfpga's single rounding, not
 *   TFLite's default double rounding: docs/import.md measures the outputs
 *   that differ.
 *
 * The graph must be a chain (each operator reads the one before it: an
 * nn.Sequential); a Softmax at the end (and TFLite's QUANTIZE / DEQUANTIZE
 * at the ends) is dropped, the network's outputs being the logits. Anything
 * else -- another operator, dtype, shape or attribute -- is refused with
 * the operator's index in the graph (from 0), its type and name. A
 * truncated or hostile file gets an error, never a crash (tests/fuzz).
 *
 * Errors: NULL, and err holds one line starting with the file's name.
 */
#ifndef NNF_IMPORT_H
#define NNF_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nnf_layer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { NNF_IMPORT_ONNX = 0, NNF_IMPORT_TFLITE, NNF_IMPORT_SAFETENSORS } nnf_import_format;

/* Files larger than this are refused before reading (256 MiB). */
#define NNF_IMPORT_MAX_BYTES (256u << 20)

typedef struct {
  nnf_import_format format;
  int quantized;        /* 1: an int8 model with its quantization given (TFLite, ONNX int8) */
  int operators;        /* operators in the graph */
  char producer[64];    /* ONNX producer_name + version, TFLite description (may be "") */
  char dropped[256];    /* the operators left out, e.g. "Softmax (node 5)" ("" if none) */
} nnf_import_info;

/* The format of a file image by its content: TFLite has the identifier
 * "TFL3" at bytes 4..7; safetensors an 8-byte little-endian header length
 * N (2 <= N <= the bytes after it) and then '{'; anything else is read as
 * ONNX. */
nnf_import_format nnf_import_detect(const uint8_t *buf, size_t len);
const char *nnf_import_format_name(nnf_import_format f);

/* A network from a file image (name: the file's name, for messages); info
 * may be NULL. */
nnf_net *nnf_import_mem(const uint8_t *buf, size_t len, const char *name, nnf_import_info *info, char *err,
                        size_t errlen);
nnf_net *nnf_import_onnx(const uint8_t *buf, size_t len, const char *name, nnf_import_info *info, char *err,
                         size_t errlen);
nnf_net *nnf_import_tflite(const uint8_t *buf, size_t len, const char *name, nnf_import_info *info, char *err,
                           size_t errlen);
/* The same from a file. A safetensors file is refused here (a state_dict
 * holds no architecture: nnf_import_torch), with info->format set. */
nnf_net *nnf_import_file(const char *path, nnf_import_info *info, char *err, size_t errlen);
/* A whole file of at most NNF_IMPORT_MAX_BYTES: its bytes (free them) and
 * *len, or NULL + err ("<path>: ..."). */
uint8_t *nnf_import_read(const char *path, size_t *len, char *err, size_t errlen);

/* PyTorch: the float parameters of n, a network built from its
 * architecture (nnf_arch_build: the layers of a torch.nn.Sequential, one
 * per item), from the safetensors image of that Sequential's state_dict
 * (safetensors.torch.save_file(model.state_dict(), ...)). Layer i's
 * parameters are the tensors "<i>.weight", "<i>.bias" (the names
 * nnf_layer_ops.params gives: PyTorch numbers a Sequential's children from
 * 0, parameterless ones too). Every tensor must be F32 with the layer's
 * shape; a missing or extra tensor, another dtype (F16, BF16 and the
 * integer types are refused by name), another shape, BatchNorm's buffers
 * (the layer stack has no BatchNorm) and an nnfpga checkpoint are refused
 * with the tensor's name. n comes out unquantized (calibrate it:
 * nnf_calib.h); info (may be NULL) gets the format the content has (also
 * on failure: not SAFETENSORS when the file is another format), the
 * network's layer count, the file's "format" metadata as producer. 0, or
 * -1 + err ("<name>: ..."). */
int nnf_import_torch(nnf_net *n, const uint8_t *buf, size_t len, const char *name, nnf_import_info *info, char *err,
                     size_t errlen);
/* The same from a file (info untouched when it cannot be read). */
int nnf_import_torch_file(nnf_net *n, const char *path, nnf_import_info *info, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* NNF_IMPORT_H */
