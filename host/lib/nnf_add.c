/*
 * nnf_add.c - Add: a residual join, y = x + z (nnf_layer.h), where x is the
 * boundary the layer reads and z the output of layer `from`: torch's
 * `out = out + shortcut` in a ResNet block's forward (docs/host.md,
 * "Graphs"). Quantized it is TFLite's int8 ADD (nnfm_ew, NNFM_EW_ADD: each
 * input rescaled to twice the larger scale at a 2^20 left shift, summed,
 * requantized to the Add's own range), and a ReLU after it is fused into
 * its clamp as after a Linear layer. On the device it is one EW ADD over
 * the two maps in place in ACT (docs/tiny.md "Residual graphs").
 */
#include "nnf_compile.h"
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  nnf_layer base;
  int from;           /* the second input: layer from's output (-1: the network's input) */
  nnf_qlayer q;       /* zp, lo, hi and a fused LUT (no weights) */
  nnfm_ew_params ew;  /* the int8 ADD */
  float *za;          /* fake-quant scratch */
  size_t zcap;
} add;

static const nnf_layer_ops add_ops;

int nnf_layer_add_from(const nnf_layer *l) { return l && l->ops == &add_ops ? ((const add *)l)->from : -2; }

static void add_describe(const nnf_layer *l, char *buf, size_t len) { snprintf(buf, len, "Add(%d)", ((const add *)l)->from); }

/* The second input has the first's shape (and steps): torch adds the same
 * shapes (no broadcasting here). */
static int add_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  add *A = (add *)l;
  const nnf_net *n = l->net;
  if (A->from >= l->index)
    return nnf_fail(err, errlen, "layer %d (Add(%d)): it adds the output of a layer before it (-1: the input, or 0..%d)",
                    l->index, A->from, l->index - 1);
  const nnf_tensor *x = &n->t[l->src], *z = &n->t[A->from + 1];
  if (z->width != x->width || z->c != x->c || z->h != x->h || z->w != x->w || z->map != x->map ||
      z->steps != x->steps)
    return nnf_fail(err, errlen,
                    "layer %d (Add(%d)): it adds %d x %d x %d%s to %d x %d x %d%s (the shapes must be the same)",
                    l->index, A->from, z->c, z->h, z->w, z->steps > 1 ? " over time steps" : "", x->c, x->h, x->w,
                    x->steps > 1 ? " over time steps" : "");
  l->src2 = A->from + 1;
  *out = in;
  *steps = x->steps;
  return 0;
}

static const nnf_tensor *second(const nnf_layer *l) { return &l->net->t[l->src2]; }

static int add_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  add *A = (add *)l;
  const nnf_tensor *z = second(l);
  size_t cnt = (size_t)x->steps * p->batch * l->out;
  y->steps = x->steps;
  if (p->mode == NNF_FWD_FLOAT || p->mode == NNF_FWD_FAKEQUANT) {
    for (size_t i = 0; i < cnt; i++) y->f[i] = x->f[i] + z->f[i];
    if (p->mode == NNF_FWD_FLOAT) {
      /* the float observation pass: the sum's range where the requantization
       * uses it (no activation fused, or a LUT one), as a Linear layer's */
      if (p->observe && (!l->fusion.out || l->fusion.lut))
        nnf_qrange_observe(nnf_layer_range(l), y->f, cnt, nnf_observer_momentum(l->net, p));
      return 0;
    }
    if (cnt > A->zcap) {
      free(A->za);
      A->zcap = (A->za = malloc(cnt * sizeof(float))) ? cnt : 0;
      if (!A->za) return nnf_fail(err, errlen, "out of memory");
    }
    /* y->f holds the sum until the int8 output overwrites it below */
    nnf_fq_output(l, &A->q, p, y->f, A->za, cnt, y->q);
  } else {
    const int8_t *lut = A->q.lut ? A->q.table : NULL;
    for (size_t i = 0; i < cnt; i++) y->q[i] = nnfm_ew(&A->ew, x->q[i], z->q[i], lut);
  }
  nnf_qrange_dequantize(nnf_out_q(l), y->q, y->f, cnt);
  return 0;
}

/* dx = dy (and dz = dy): in the quantized modes straight through the
 * rounding and zero where the output was clamped. */
static void add_grad(nnf_layer *l, const nnf_pass *p, const nnf_tensor *y, const float *dy, float *d) {
  add *A = (add *)l;
  size_t cnt = (size_t)y->steps * p->batch * l->out;
  memcpy(d, dy, cnt * sizeof(float));
  if (p->mode != NNF_FWD_FLOAT) nnf_ste_backward(l, &A->q, y, d, cnt);
}

static void add_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                         float *dx, int accumulate) {
  (void)x, (void)accumulate;
  if (dx) add_grad(l, p, y, dy, dx);
}

static void add_backward2(nnf_layer *l, const nnf_pass *p, const nnf_tensor *y, const float *dy, float *dx2) {
  add_grad(l, p, y, dy, dx2);
}

static void add_qparams(nnf_layer *l) { nnf_qrange_params(nnf_layer_range(l)); }

static int add_quantize(nnf_layer *l, const nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  add *A = (add *)l;
  const nnf_tensor *z = second(l);
  const nnf_qrange *qr = nnf_req_q(l);
  (void)y;
  nnf_qlayer_output(l, &A->q);
  if (nnfm_ew_prepare(NNFM_EW_ADD, x->r.scale, x->r.zp, z->r.scale, z->r.zp, qr->scale, A->q.zp, A->q.lo, A->q.hi,
                      &A->ew) != NNFM_OK)
    return nnf_fail(err, errlen,
                    "layer %d (Add(%d)): no int8 ADD for input scales %g and %g and output scale %g (TFLite's "
                    "multipliers: each input's scale over twice the larger, and twice the larger over 2^20 times "
                    "the output's)",
                    l->index, A->from, x->r.scale, z->r.scale, qr->scale);
  A->ew.round = l->round;
  return 0;
}

/* ---- device: one EW ADD over the two inputs' words -------------------------------- */

/* The device map of boundary b: channels, and rows (pixels x images). */
static void dev_map(const nnf_tensor *t, int B, uint32_t *n, uint32_t *m) {
  *n = (uint32_t)t->mc;
  *m = (uint32_t)t->mh * (uint32_t)t->mw * (uint32_t)B;
}

static int add_plan(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  const nnf_tensor *x = &l->net->t[l->src], *z = second(l);
  char what[32];
  add_describe(l, what, sizeof what);
  if (!(p->features & NNFP_FEAT_EW))
    return nnf_fail(err, errlen,
                    "device %s does not run EW (its INFO lacks feature bit 7, FEAT_EW): layer %d (%s) needs an EW ADD",
                    p->dev ? p->dev : "?", l->index, what);
  if (x->mc != z->mc || x->mh != z->mh || x->mw != z->mw || (int64_t)x->mc * x->mh * x->mw != x->width)
    return nnf_fail(err, errlen,
                    "layer %d (%s): on the device an Add reads two maps as the device holds them, the same shape "
                    "and not flattened (it adds %d x %d x %d to %d x %d x %d)",
                    l->index, what, z->mc, z->mh, z->mw, x->mc, x->mh, x->mw);
  uint32_t n, m;
  dev_map(x, p->B, &n, &m);
  if (m > 65535)
    return nnf_fail(err, errlen, "layer %d (%s): its EW reads %u rows (%d x %d pixels x %d images), more than 65535",
                    l->index, what, m, x->mh, x->mw, p->B);
  p->act[l->index + 1] = nnf_plan_act(p, nnfm_fmap_words(p->cfg, n, (uint32_t)x->mh, (uint32_t)x->mw, (uint32_t)p->B));
  return 0;
}

static int add_emit(nnf_layer *l, nnf_plan *p) {
  add *A = (add *)l;
  uint32_t n, m;
  dev_map(&l->net->t[l->src], p->B, &n, &m);
  uint8_t *insn = nnf_plan_insn(p);
  nnfdrv_ew w = {A->ew,  (uint16_t)n, (uint16_t)m, nnf_plan_input(p, l->src), nnf_plan_input(p, l->src2),
                 p->act[l->index + 1], A->q.lut, (uint8_t)(A->q.lut ? p->lut_slot[l->index] : 0)};
  if (!insn || nnfdrv_insn_ew(insn, &w) != NNFDRV_OK) p->ok = 0;
  return 0;
}

static int add_luts(const nnf_layer *l, const int8_t **t, int max) {
  const add *A = (const add *)l;
  if (!A->q.lut || max < 1) return 0;
  t[0] = A->q.table;
  return 1;
}

static void add_destroy(nnf_layer *l) {
  free(((add *)l)->za);
  free(l);
}

static const nnf_layer_ops add_ops = {
    .kind = "Add",
    .fusable = 1,
    .shape = add_shape,
    .forward = add_forward,
    .backward = add_backward,
    .backward2 = add_backward2,
    .qparams = add_qparams,
    .quantize = add_quantize,
    .plan = add_plan,
    .emit = add_emit,
    .luts = add_luts,
    .describe = add_describe,
    .destroy = add_destroy,
};

nnf_layer *nnf_add(int from, char *err, size_t errlen) {
  if (from < -1 || from >= NNF_MAX_LAYERS) {
    nnf_fail(err, errlen, "Add(%d): it adds the output of a layer before it, or the input (-1)", from);
    return NULL;
  }
  add *A = calloc(1, sizeof *A);
  if (!A) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  A->base.ops = &add_ops;
  A->from = from;
  return &A->base;
}
