/*
 * nnf_import_impl.h - what the importers (nnf_import_onnx.c,
 * nnf_import_tflite.c) share inside libnnf: appending a layer with the
 * graph position in its error, setting a layer's float parameters, the
 * info note of the operators left out, and (nnf_import_quant.c) an int8
 * model's given quantization: weights in, the int8 model checked.
 */
#ifndef NNF_IMPORT_IMPL_H
#define NNF_IMPORT_IMPL_H

#include <stdarg.h>

#include "nnf_import.h"

/* err = "<file>: <where>: <fmt...>"; returns -1. */
int nnf_imp_vfail(char *err, size_t errlen, const char *file, const char *where, const char *fmt, va_list ap);

/* Append l (may be NULL: its constructor failed with sub) to n; on failure
 * err = "<file>: <where>: <why>" and -1. */
int nnf_imp_add(nnf_net *n, nnf_layer *l, const char *sub, const char *file, const char *where, char *err,
                size_t errlen);
/* The same, the layer reading layer `from`'s output (-1: the input): a
 * graph's operator reading a tensor other than the last one's. */
int nnf_imp_add_from(nnf_net *n, nnf_layer *l, int from, const char *sub, const char *file, const char *where,
                     char *err, size_t errlen);
/* Copy a Linear ([out, in]) or Conv2d ([out, in, kh, kw]) layer's weights
 * and its bias (b NULL: zeros; ignored for a conv without bias). */
void nnf_imp_set_params(nnf_layer *l, const float *w, const float *b);
/* Add "what" to info->dropped (comma-separated). */
void nnf_imp_dropped(nnf_import_info *info, const char *what);


/* ---- int8 models with their quantization given (nnf_import_quant.c) ---- */

/* Where a reader is, for its messages: "<file>: <where>: ...". */
typedef struct {
  const char *file;
  char *where;       /* the reader's buffer: the operator being read */
  size_t wherelen;
  char *err;
  size_t errlen;
} nnf_imp_ctx;

int nnf_imp_fail(nnf_imp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The quantization a reader found: every boundary's scale and int8 zero
 * point (0: the input), and each layer's int32 biases as the file has them
 * (NULL: none; freed by nnf_imp_given_free). */
typedef struct {
  double scale[NNF_MAX_LAYERS + 1];
  int32_t zp[NNF_MAX_LAYERS + 1];
  int32_t *bias[NNF_MAX_LAYERS];
} nnf_imp_given;

void nnf_imp_given_free(nnf_imp_given *g);

/* A layer's int8 weights as the file has them, in the layer's order. */
typedef struct {
  const char *name;     /* the weights' name, for messages */
  const int8_t *w;      /* out x in ([out, in] or OIHW) */
  const float *scale;   /* out: per channel (a per-tensor scale repeated) */
  const int64_t *zp;    /* nzp zero points, int8 (all must be 0) */
  int nzp;
  const int32_t *bias;  /* out int32 biases at s_in * scale, or NULL */
} nnf_imp_wq;

/* Linear or Conv2d layer l (out x in weights) takes q: its float weights
 * q * scale and biases bias * s_in * scale, its given weight scales; the
 * biases are kept in g. Refuses a zero point other than 0, a -128 weight,
 * a scale not finite and positive. 0, or -1 + the error. */
int nnf_imp_weights(nnf_imp_ctx *c, nnf_imp_given *g, nnf_layer *l, const nnf_imp_wq *q, int out, int in,
                    double s_in);

/* Give every boundary g's quantization, quantize n, and check that the int8
 * model is the file's: every weight, every requantization multiplier
 * (TFLite's QuantizeMultiplier of s_in * s_w / s_out, in double), every
 * int32 bias. 0, or -1 + the error ("layer i: ..."). */
int nnf_imp_quantize(nnf_imp_ctx *c, nnf_net *n, const nnf_imp_given *g);

#endif /* NNF_IMPORT_IMPL_H */
