/*
 * nnf_linear.c - the Linear layer (torch.nn.Linear): float forward and
 * backward through nnf_nn's dense kernels, its int8 form (per-channel
 * weights, all rounding through the functional model), the fake-quant and
 * exact-integer forwards, and its device hooks (a GEMM) (see nnf_layer.h).
 */
#include "nnf_compile.h"
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnfm.h"

typedef struct {
  nnf_layer base;
  nnf_dense d;
  nnf_qlayer q;
  double *wq;             /* the int8 weights as doubles (K x N): exact BLAS sums */
  double *dx, *dacc;      /* INT scratch: inputs and sums of a step (dcap rows) */
  float *z, *za;          /* FAKEQUANT scratch: pre-activations and their activation */
  int dcap, zcap;
  uint32_t w_base, p_base;
} linear;

static const nnf_layer_ops linear_ops;

nnf_dense *nnf_layer_dense(nnf_layer *l) { return l && l->ops == &linear_ops ? &((linear *)l)->d : NULL; }
nnf_qlayer *nnf_layer_qlayer(nnf_layer *l) { return l && l->ops == &linear_ops ? &((linear *)l)->q : NULL; }

int nnf_qlayer_quantize_weights(nnf_qlayer *Q, const nnf_dense *L, double s_in, double s_out, int layer, char *err,
                                size_t errlen) {
  for (int o = 0; o < L->out; o++) {
    const float *w = L->w + (size_t)o * L->in;
    float mx = 0;
    for (int i = 0; i < L->in; i++) mx = fabsf(w[i]) > mx ? fabsf(w[i]) : mx;
    if (!isfinite(mx)) return nnf_fail(err, errlen, "layer %d has a non-finite weight", layer);
    double sw = Q->s_w_given ? (double)Q->s_w_given[o] : mx > 0 ? mx / 127.0 : 1.0;
    Q->s_w[o] = (float)sw;
    for (int i = 0; i < L->in; i++) {
      int32_t q = nnfm_quantize_real(w[i], sw, 0, -127, 127);
      Q->w_kn[(size_t)i * L->out + o] = (int8_t)q;
      Q->w_fq[(size_t)o * L->in + i] = (float)(q * sw);
    }
    double sacc = s_in * sw;
    int32_t qb = !L->b                                          ? 0
                 : Q->b_given && L->b[o] == Q->b_given_at[o] ? Q->b_given[o] /* as imported */
                                                             : nnfm_quantize_real(L->b[o], sacc, 0, INT32_MIN, INT32_MAX);
    Q->bias[o] = qb;
    Q->b_fq[o] = (float)(qb * sacc);
    int sh;
    if (nnfm_quantize_multiplier(sacc / s_out, &Q->m0[o], &sh) != NNFM_OK)
      return nnf_fail(err, errlen, "layer %d channel %d: multiplier %g out of range", layer, o, sacc / s_out);
    Q->shift[o] = (int8_t)sh;
  }
  return 0;
}

int nnf_qlayer_quantize(nnf_qlayer *Q, const nnf_dense *L, double s_in, int32_t zp_in, double s_out,
                        int layer, char *err, size_t errlen) {
  if (nnf_qlayer_quantize_weights(Q, L, s_in, s_out, layer, err, errlen)) return -1;
  if (nnfm_fold_input_zp(Q->w_kn, L->in, L->out, zp_in, Q->bias, Q->bias) != NNFM_OK)
    return nnf_fail(err, errlen, "layer %d: cannot fold the input zero point", layer);
  return 0;
}

static int lin_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  linear *L = (linear *)l;
  (void)steps;
  if (in < 1 || in > 65535) return nnf_fail(err, errlen, "layer %d (Linear): %d inputs, not 1..65535", l->index, in);
  l->omap = 0;
  if (l->imap)
    return nnf_fail(err, errlen, "layer %d (Linear): its input is a %d x %d x %d map; flatten it first", l->index, l->ic,
                    l->ih, l->iw);
  /* after a Flatten of the network's input map the device holds the input
   * flat (nothing on the device produced the map) */
  nnf_net *n = l->net;
  int i = l->index, first = 1;
  for (int j = 0; j < i; j++) first = first && !n->layer[j]->ops->plan;
  if (first)
    for (int j = 0; j <= i; j++) n->t[j].mc = n->t[j].width, n->t[j].mh = n->t[j].mw = 1;
  if (nnf_dense_init(&L->d, in, l->out) || nnf_qlayer_alloc(&L->q, in, l->out) ||
      !(L->wq = calloc((size_t)in * l->out, sizeof(double))))
    return nnf_fail(err, errlen, "layer %d (Linear): out of memory for %d x %d", l->index, l->out, in);
  *out = l->out;
  return 0;
}

static int scratch(linear *L, size_t rows, int dbl) {
  size_t need = rows;
  if (dbl && need > (size_t)L->dcap) {
    free(L->dx);
    free(L->dacc);
    size_t wide = (size_t)(L->base.in > L->base.out ? L->base.in : L->base.out);
    L->dx = malloc(need * wide * sizeof(double));
    L->dacc = malloc(need * wide * sizeof(double));
    L->dcap = L->dx && L->dacc ? (int)need : 0;
    if (!L->dcap) return -1;
  }
  if (!dbl && need > (size_t)L->zcap) {
    free(L->z);
    free(L->za);
    L->z = malloc(need * L->base.out * sizeof(float));
    L->za = malloc(need * L->base.out * sizeof(float));
    L->zcap = L->z && L->za ? (int)need : 0;
    if (!L->zcap) return -1;
  }
  return 0;
}

/* The host's float emulation of the int8 path: the fake-quant weights, then
 * the output quantized (and observed) as the consumer asks. */
static void forward_fakequant(linear *L, const nnf_pass *p, const nnf_tensor *x, nnf_tensor *y, size_t rows) {
  nnf_layer *l = &L->base;
  nnf_dense tmp = L->d;
  tmp.b = L->q.b_fq;
  size_t cnt = rows * (size_t)l->out;
  float *z = L->z;
  nnf_dense_forward(&tmp, L->q.w_fq, x->f, z, (int)rows);
  nnf_fq_output(l, &L->q, p, z, L->za, cnt, y->q);
}

/* The exact integer forward: per step, the int8 inputs times the int8
 * weights summed exactly (double BLAS), the accumulator rule, the vector
 * stage; with a LIF consumer and observing, the largest |current| goes to it. */
static void forward_int(linear *L, const nnf_pass *p, const nnf_tensor *x, nnf_tensor *y) {
  nnf_layer *l = &L->base;
  const nnf_qlayer *Q = &L->q;
  int B = p->batch, K = l->in, N = l->out;
  double *xd = L->dx, *acc = L->dacc, sin = x->r.scale;
  for (int t = 0; t < x->steps; t++) {
    const int8_t *in = x->q + (size_t)t * B * K;
    int8_t *a = y->q + (size_t)t * B * N;
    for (size_t i = 0; i < (size_t)B * K; i++) xd[i] = in[i];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, N, K, 1.0, xd, K, L->wq, N, 0.0, acc, N);
    double mx = 0;
    for (int b = 0; b < B; b++)
      for (int j = 0; j < N; j++) {
        int32_t s = nnfm_acc_add((int32_t)acc[(size_t)b * N + j], Q->bias[j]);
        a[(size_t)b * N + j] = nnfm_vector_stage(s, Q->m0[j], Q->shift[j], Q->zp, Q->lo, Q->hi, Q->lut ? Q->table : NULL, Q->round);
        double r = fabs((double)s * sin * Q->s_w[j]);
        mx = r > mx ? r : mx;
      }
    nnf_layer *c = l->fusion.current;
    if (p->observe && c && (t == 0 || t == x->steps - 1)) c->ops->observe_current(c, mx, p);
  }
}

static int lin_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  linear *L = (linear *)l;
  size_t rows = (size_t)x->steps * p->batch, cnt = rows * (size_t)l->out;
  y->steps = x->steps;
  if (p->mode == NNF_FWD_FLOAT) {
    nnf_dense_forward(&L->d, NULL, x->f, y->f, (int)rows);
    /* the float observation pass: the pre-activation's range where the
     * requantization uses it (no activation fused, or a LUT one) */
    if (p->observe && (!l->fusion.out || l->fusion.lut))
      nnf_qrange_observe(nnf_layer_range(l), y->f, cnt, nnf_observer_momentum(l->net, p));
    return 0;
  }
  if (p->mode == NNF_FWD_FAKEQUANT) {
    if (scratch(L, rows, 0)) return nnf_fail(err, errlen, "out of memory");
    forward_fakequant(L, p, x, y, rows);
  } else if (p->mode == NNF_FWD_INT) {
    if (scratch(L, (size_t)p->batch, 1)) return nnf_fail(err, errlen, "out of memory");
    forward_int(L, p, x, y);
  }
  nnf_qrange_dequantize(nnf_out_q(l), y->q, y->f, cnt);
  return 0;
}

static void lin_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                         float *dx, int accumulate) {
  linear *L = (linear *)l;
  int B = p->batch, K = l->in, N = l->out;
  size_t cnt = (size_t)y->steps * B * N;
  int quant = p->mode != NNF_FWD_FLOAT;
  if (quant) nnf_ste_backward(l, &L->q, y, dy, cnt);
  const float *w = quant ? L->q.w_fq : NULL;
  if (x->steps == 1) {
    nnf_dense_backward(&L->d, w, x->f, dy, dx, B, accumulate);
    return;
  }
  if (!accumulate) nnf_dense_zero_grad(&L->d);
  for (int t = 0; t < x->steps; t++)
    nnf_dense_backward(&L->d, w, x->f + (size_t)t * B * K, dy + (size_t)t * B * N, dx ? dx + (size_t)t * B * K : NULL,
                       B, 1);
}

static int lin_params(nnf_layer *l, nnf_param *o) {
  linear *L = (linear *)l;
  nnf_param w = {"weight", L->d.w, L->d.dw, 2, {l->out, l->in}};
  nnf_param b = {"bias", L->d.b, L->d.db, 1, {l->out, 0}};
  o[0] = w;
  o[1] = b;
  return 2;
}

static void lin_qparams(nnf_layer *l) { nnf_qrange_params(nnf_layer_range(l)); }

static int lin_quantize(nnf_layer *l, const nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  linear *L = (linear *)l;
  nnf_qlayer *Q = &L->q;
  const nnf_qrange *qr = nnf_req_q(l);
  (void)y;
  if (nnf_qlayer_quantize(Q, &L->d, x->r.scale, x->r.zp, qr->scale, l->index + 1, err, errlen)) return -1;
  Q->round = l->round;
  for (size_t i = 0; i < (size_t)l->in * l->out; i++) L->wq[i] = Q->w_kn[i];
  nnf_qlayer_output(l, Q);
  return 0;
}

/* ---- device hooks: W, P and the output in ACT; one GEMM (a CONV over a map) */

static void lin_describe(const nnf_layer *l, char *buf, size_t len) { snprintf(buf, len, "Linear(%d,%d)", l->in, l->out); }


/* The map the device holds for the input (after a Flatten of a conv's or
 * pool's output): the layer runs as a CONV whose kernel is the whole map. */
static const nnf_tensor *map_in(const nnf_layer *l) {
  const nnf_tensor *x = &l->net->t[l->src];
  return x->mh * x->mw > 1 ? x : NULL;
}

static int lin_plan(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  linear *L = (linear *)l;
  const nnf_tensor *m = map_in(l);
  uint32_t w_words = nnfm_w_words(p->cfg, (uint32_t)l->in, (uint32_t)l->out);
  if (m) {
    char what[64];
    lin_describe(l, what, sizeof what);
    if (nnf_plan_need_conv(p, l->index, what, err, errlen)) return -1;
    if (m->mh > NNFM_KERNEL_MAX || m->mw > NNFM_KERNEL_MAX)
      return nnf_fail(err, errlen,
                      "layer %d (Linear) after Flatten: the device runs it as a conv over the whole %d x %d x %d map, "
                      "and its kernel is at most %d x %d (pool the map first)",
                      l->index, m->mc, m->mh, m->mw, NNFM_KERNEL_MAX, NNFM_KERNEL_MAX);
    uint32_t ct = ((uint32_t)m->mc + (uint32_t)p->cfg->rows - 1) / (uint32_t)p->cfg->rows;
    if (nnf_plan_walk_fits(p, l->index, what, (uint32_t)m->mh, (uint32_t)m->mw, 1, 1, (uint32_t)(m->mh * m->mw) * ct,
                           err, errlen))
      return -1;
    w_words = nnfm_conv_w_words(p->cfg, (uint32_t)l->out, (uint32_t)m->mc, (uint32_t)m->mh, (uint32_t)m->mw);
  }
  L->w_base = nnf_plan_w(p, w_words);
  L->p_base = nnf_plan_p(p, nnfm_p_entries(p->cfg, (uint32_t)l->out));
  p->act[l->index + 1] = nnf_plan_act(p, nnfm_act_words(p->cfg, (uint32_t)p->B, (uint32_t)l->out));
  return 0;
}

static int lin_pack(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  linear *L = (linear *)l;
  const nnf_qlayer *Q = &L->q;
  const nnf_tensor *m = map_in(l);
  int rc;
  if (m) {
    /* the weights' rows in PyTorch's flatten order (c, y, x) are the conv's
     * OIHW kernel: the engine's packer puts them where the K tiles walk */
    int8_t *oihw = malloc((size_t)l->in * l->out);
    if (!oihw) return nnf_fail(err, errlen, "out of memory");
    for (int o = 0; o < l->out; o++)
      for (int i = 0; i < l->in; i++) oihw[(size_t)o * l->in + i] = Q->w_kn[(size_t)i * l->out + o];
    rc = nnfm_engine_put_conv_weights(p->img, L->w_base, oihw, (uint32_t)l->out, (uint32_t)m->mc, (uint32_t)m->mh,
                                      (uint32_t)m->mw);
    free(oihw);
  } else {
    rc = nnfm_engine_put_weights(p->img, L->w_base, Q->w_kn, (uint32_t)l->in, (uint32_t)l->out);
  }
  if (rc != NNFM_OK || nnfm_engine_put_params(p->img, L->p_base, Q->bias, Q->m0, Q->shift, (uint32_t)l->out) != NNFM_OK)
    return nnf_fail(err, errlen, "layer %d (Linear) does not pack into the device's buffers", l->index);
  return 0;
}

static int lin_emit(nnf_layer *l, nnf_plan *p) {
  linear *L = (linear *)l;
  const nnf_qlayer *Q = &L->q;
  const nnf_tensor *m = map_in(l);
  uint8_t *insn = nnf_plan_insn(p);
  if (!insn) return -1;
  if (m) {
    nnfdrv_conv c = {(uint16_t)m->mc, (uint16_t)l->out, (uint16_t)m->mh, (uint16_t)m->mw, (uint16_t)p->B,
                     (uint8_t)m->mh, (uint8_t)m->mw, 1, 1, 0, 0, 0, 0,
                     nnf_plan_input(p, l->src), L->w_base, L->p_base, p->act[l->index + 1],
                     (int8_t)m->r.zp, (int8_t)Q->zp, (int8_t)Q->lo, (int8_t)Q->hi, Q->lut, 0, Q->round};
    if (nnfdrv_insn_conv(insn, &c) != NNFDRV_OK) p->ok = 0;
    if (Q->lut && nnfdrv_insn_set_lut(insn, (unsigned)p->lut_slot[l->index]) != NNFDRV_OK) p->ok = 0;
    return 0;
  }
  nnfdrv_gemm g = {(uint16_t)p->B, (uint16_t)l->in, (uint16_t)l->out,
                   nnf_plan_input(p, l->src), L->w_base, L->p_base,
                   p->act[l->index + 1], (int8_t)Q->zp, (int8_t)Q->lo, (int8_t)Q->hi, (uint8_t)Q->lut, Q->round};
  nnfdrv_insn_gemm(insn, &g);
  if (Q->lut && nnfdrv_insn_set_lut(insn, (unsigned)p->lut_slot[l->index]) != NNFDRV_OK) p->ok = 0;
  return 0;
}


static void lin_destroy(nnf_layer *l) {
  linear *L = (linear *)l;
  nnf_dense_free(&L->d);
  nnf_qlayer_free(&L->q);
  free(L->wq);
  free(L->dx);
  free(L->dacc);
  free(L->z);
  free(L->za);
  free(L);
}

static const nnf_layer_ops linear_ops = {
    .kind = "Linear",
    .fusable = 1,
    .shape = lin_shape,
    .forward = lin_forward,
    .backward = lin_backward,
    .params = lin_params,
    .qparams = lin_qparams,
    .quantize = lin_quantize,
    .plan = lin_plan,
    .pack = lin_pack,
    .emit = lin_emit,
    .describe = lin_describe,
    .destroy = lin_destroy,
};

nnf_layer *nnf_linear(int out, char *err, size_t errlen) {
  if (out < 1 || out > 65535) {
    nnf_fail(err, errlen, "a Linear layer has 1..65535 outputs (got %d)", out);
    return NULL;
  }
  linear *L = calloc(1, sizeof *L);
  if (!L) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  L->base.ops = &linear_ops;
  L->base.out = out;
  return &L->base;
}
