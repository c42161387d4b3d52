/*
 * nnf_import_quant.c - what the readers of int8 models (TFLite,
 * nnf_import_tflite.c; ONNX QDQ and QOperator, nnf_import_onnx.c) share:
 * a layer's given int8 weights, scales and int32 biases as its float
 * parameters, and after quantizing the check that the int8 model nnfpga
 * built is the file's (weights, multipliers, biases), docs/import.md.
 */
#include "nnf_import_impl.h"
#include "nnf_layer_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfm.h"

int nnf_imp_fail(nnf_imp_ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = nnf_imp_vfail(c->err, c->errlen, c->file, c->where, fmt, ap);
  va_end(ap);
  return rc;
}

void nnf_imp_given_free(nnf_imp_given *g) {
  for (int i = 0; i < NNF_MAX_LAYERS; i++) free(g->bias[i]), g->bias[i] = NULL;
}

int nnf_imp_weights(nnf_imp_ctx *c, nnf_imp_given *g, nnf_layer *l, const nnf_imp_wq *q, int out, int in,
                    double s_in) {
  for (int i = 0; i < q->nzp; i++)
    if (q->zp[i]) return nnf_imp_fail(c, "its weights '%s' have a zero point other than 0", q->name);
  float *wf = malloc((size_t)out * in * sizeof(float)), *bf = malloc((size_t)out * sizeof(float));
  int rc = !wf || !bf ? nnf_imp_fail(c, "out of memory") : 0;
  for (int o = 0; !rc && o < out; o++) {
    float s = q->scale[o];
    if (!(s > 0) || !isfinite(s)) rc = nnf_imp_fail(c, "its weights '%s' have scale %g", q->name, (double)s);
    for (int i = 0; !rc && i < in; i++) {
      int8_t v = q->w[(size_t)o * in + i];
      if (v == -128)
        rc = nnf_imp_fail(c, "its weights '%s' hold -128: int8 weights are -127..127 (TFLite's symmetric range)",
                          q->name);
      wf[(size_t)o * in + i] = (float)v * s;
    }
    bf[o] = q->bias ? (float)((double)q->bias[o] * s_in * s) : 0.0f;
  }
  char sub[256];
  if (!rc) nnf_imp_set_params(l, wf, bf);
  if (!rc && nnf_layer_give_weight_scales(l, q->scale, sub, sizeof sub)) rc = nnf_imp_fail(c, "%s", sub);
  if (!rc && q->bias && nnf_layer_give_biases(l, q->bias, NULL, sub, sizeof sub)) rc = nnf_imp_fail(c, "%s", sub);
  if (!rc && q->bias && !(g->bias[l->index] = malloc((size_t)out * 4))) rc = nnf_imp_fail(c, "out of memory");
  if (!rc && q->bias) memcpy(g->bias[l->index], q->bias, (size_t)out * 4);
  free(wf), free(bf);
  return rc;
}

/* Layer l's int8 weights and multipliers after quantizing: the file's. */
static int check_weights(nnf_imp_ctx *c, nnf_net *n, nnf_layer *l, const nnf_dense *d, const nnf_qlayer *Q) {
  const nnf_qrange *qi = &n->t[l->src].r, *qo = nnf_req_q(l);
  const float *sw = nnf_layer_given_weight_scales(l);
  for (int o = 0; o < d->out; o++) {
    int32_t m0;
    int shift;
    for (int k = 0; k < d->in; k++)
      if ((float)Q->w_kn[(size_t)k * d->out + o] * sw[o] != d->w[(size_t)o * d->in + k])
        return nnf_imp_fail(c, "channel %d: the int8 weights do not come back exactly", o);
    if (nnfm_quantize_multiplier((double)qi->scale * (double)sw[o] / qo->scale, &m0, &shift) != NNFM_OK ||
        m0 != Q->m0[o] || shift != Q->shift[o])
      return nnf_imp_fail(c, "channel %d: the requantization multiplier is not TFLite's", o);
  }
  return 0;
}

/* The biases after quantizing must be the file's (folded with the input's
 * zero point for a Linear layer, as nnfm_fold_input_zp folds them). */
static int check_bias(nnf_imp_ctx *c, const nnf_qlayer *Q, const nnf_dense *d, int32_t zp_in, const int32_t *bias,
                      int fold) {
  int32_t *b = calloc((size_t)d->out, 4), *want = calloc((size_t)d->out, 4);
  if (!b || !want) {
    free(b), free(want);
    return nnf_imp_fail(c, "out of memory");
  }
  if (bias) memcpy(b, bias, (size_t)d->out * 4);
  int bad = fold ? nnfm_fold_input_zp(Q->w_kn, d->in, d->out, zp_in, b, want) != NNFM_OK
                 : (memcpy(want, b, (size_t)d->out * 4), 0);
  bad = bad || memcmp(want, Q->bias, (size_t)d->out * 4);
  free(b), free(want);
  return bad ? nnf_imp_fail(c, "its int32 biases cannot be held exactly (too large for float32 weights)") : 0;
}

int nnf_imp_quantize(nnf_imp_ctx *c, nnf_net *n, const nnf_imp_given *g) {
  char sub[256];
  snprintf(c->where, c->wherelen, "quantization");
  for (int i = 0; i <= n->nlayers; i++)
    if (nnf_net_give_range(n, i, g->scale[i], g->zp[i], sub, sizeof sub)) return nnf_imp_fail(c, "%s", sub);
  /* a Linear or Conv2d layer with a ReLU after it requantizes to the ReLU's
   * boundary: the same tensor, so the same quantization */
  if (nnf_net_quantize(n, sub, sizeof sub)) return nnf_imp_fail(c, "%s", sub);
  for (int i = 0; i < n->nlayers; i++) {
    nnf_layer *l = n->layer[i];
    int lin = nnf_layer_dense(l) != NULL;
    const nnf_dense *d = lin ? nnf_layer_dense(l) : nnf_layer_conv(l);
    const nnf_qlayer *Q = lin ? nnf_layer_qlayer(l) : nnf_layer_conv_qlayer(l);
    if (!d) continue;
    snprintf(c->where, c->wherelen, "layer %d", i);
    if (check_weights(c, n, l, d, Q) || check_bias(c, Q, d, n->t[l->src].r.zp, g->bias[i], lin)) return -1;
  }
  return 0;
}
