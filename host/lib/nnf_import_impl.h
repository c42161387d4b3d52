/*
 * nnf_import_impl.h - what the importers (nnf_import_onnx.c,
 * nnf_import_tflite.c) share inside libnnf: appending a layer with the
 * graph position in its error, setting a layer's float parameters, and the
 * info note of the operators left out.
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
/* Copy a Linear ([out, in]) or Conv2d ([out, in, kh, kw]) layer's weights
 * and its bias (b NULL: zeros; ignored for a conv without bias). */
void nnf_imp_set_params(nnf_layer *l, const float *w, const float *b);
/* Add "what" to info->dropped (comma-separated). */
void nnf_imp_dropped(nnf_import_info *info, const char *what);

#endif /* NNF_IMPORT_IMPL_H */
