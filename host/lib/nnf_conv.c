/*
 * nnf_conv.c - the map layers (docs/conv.md "Host", nnf_layer.h): Conv2d,
 * MaxPool2d, AvgPool2d and AdaptiveAvgPool2d(1) over rows that are C x H x W
 * maps in PyTorch's order (row = c*H*W + y*W + x).
 *
 * Float forward and backward by im2col and CBLAS (one image at a time:
 * col is (Cin*K*K) x (OH*OW), so the conv is W (Cout x Cin*K*K) @ col).
 * On the quantized paths a conv is a Linear layer's int8 form over the
 * kernel's taps: per-channel weights, int32 biases, the requantizer, ReLU /
 * ReLU6 as its clamp; the integer forward is the model's nnfm_conv2d_ref
 * (the one definition), the device gets the bias with the input zero point
 * folded by nnfm_conv_fold_input_zp. Pools keep their input's scale and
 * zero point (TFLite's int8 pooling) and run nnfm_maxpool_ref /
 * nnfm_avgpool_ref on every quantized path, so the host's fake-quant forward
 * of a pool is already the device's value.
 */
#include "nnf_compile.h"
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfm.h"

/* ---- im2col ------------------------------------------------------------------- */

/* A conv's window along both axes (its own padding, the same on both sides). */
typedef struct {
  int kh, kw, sh, sw, ph, pw;
} geo;

/* One image x (c x h x w) into col ((c*kh*kw) x (oh*ow)):
 *   col[(ci*kh + ky)*kw + kx][oy*ow + ox] = x[ci][oy*sh - ph + ky][ox*sw - pw + kx], 0 in the padding. */
static void im2col(const float *x, int c, int h, int w, const geo *g, int oh, int ow, float *col) {
  for (int ci = 0; ci < c; ci++)
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++) {
        float *row = col + ((size_t)(ci * g->kh + ky) * g->kw + kx) * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
          int iy = oy * g->sh - g->ph + ky;
          for (int ox = 0; ox < ow; ox++) {
            int ix = ox * g->sw - g->pw + kx;
            row[oy * ow + ox] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((size_t)ci * h + iy) * w + ix] : 0.0f;
          }
        }
      }
}

/* The adjoint: dx (c x h x w) += the taps of dcol ((c*kh*kw) x (oh*ow)). */
static void col2im(const float *dcol, int c, int h, int w, const geo *g, int oh, int ow, float *dx) {
  for (int ci = 0; ci < c; ci++)
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++) {
        const float *row = dcol + ((size_t)(ci * g->kh + ky) * g->kw + kx) * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
          int iy = oy * g->sh - g->ph + ky;
          if (iy < 0 || iy >= h) continue;
          for (int ox = 0; ox < ow; ox++) {
            int ix = ox * g->sw - g->pw + kx;
            if (ix >= 0 && ix < w) dx[((size_t)ci * h + iy) * w + ix] += row[oy * ow + ox];
          }
        }
      }
}

/* A map layer's input must be the map the device holds (not a Flatten's). */
int nnf_need_map(const nnf_layer *l, const char *what, int *steps, char *err, size_t errlen) {
  const nnf_tensor *x = &l->net->t[l->src];
  if (!x->map || x->mc != x->c || x->mh != x->h || x->mw != x->w)
    return nnf_fail(err, errlen, "layer %d (%s): its input is flattened; a map layer needs a C x H x W map", l->index,
                    what);
  if (*steps != 1) return nnf_fail(err, errlen, "layer %d (%s): map layers take no time steps", l->index, what);
  return 0;
}

/* A map layer's input and window: the map (nnf_need_map), then "a 5 x 5 kernel
 * is larger than the 3 x 3 input map padded by 0" and the like from the
 * model's window check; the output size in *oh, *ow. */
static int window_fits(const nnf_layer *l, const char *what, const nnfm_window *win, int need_tap, int *steps, int *oh,
                       int *ow, char *err, size_t errlen) {
  if (nnf_need_map(l, what, steps, err, errlen)) return -1;
  if (nnfm_window_check(win, 0, oh, ow) != NNFM_OK)
    return nnf_fail(err, errlen, "layer %d (%s): a %d x %d kernel is larger than the %d x %d input map padded by %d",
                    l->index, what, win->kh, win->kw, win->h, win->w, win->ph);
  if (need_tap && nnfm_window_check(win, 1, oh, ow) != NNFM_OK)
    return nnf_fail(err, errlen, "layer %d (%s): a window lies wholly in the padding of the %d x %d map", l->index, what,
                    win->h, win->w);
  return 0;
}

/* ---- Conv2d -------------------------------------------------------------------- */

typedef struct {
  nnf_layer base;
  nnf_conv_spec s;       /* kernel, stride, padding, groups (resolved by the shape hook), bias */
  geo g;
  nnf_dense d;           /* in = Cin/G*KH*KW, out = Cout: rows are OIHW kernels (d.b unused without bias) */
  nnf_qlayer q;          /* the int8 form; q.bias NOT folded (nnfm_conv2d_ref's) */
  int8_t *w_oihw;        /* int8 weights, Cout x Cin/G x KH x KW */
  int32_t *bias_dev;     /* q.bias with the input zero point folded (the device's) */
  float *col, *dcol;     /* one image's im2col: Cin*KH*KW x P */
  float *z, *za;         /* FAKEQUANT scratch: rows x out */
  size_t zcap;
  /* the device (set by the plan) */
  nnfm_window dw;        /* the window the device walks (batch B): over the map it holds, a
                            ZeroPad2d right before absorbed (its extra rows after as EH / EW) */
  uint32_t w_base, p_base;
  int packed;            /* the plan's pack_layer: PACK, then the KH x 1 CONV */
  uint32_t pack_base;    /* ACT word of the packed map (KW*Cin channels, H x OW) */
  int pool2;             /* the CONV max-pools 2x2 (nnf_conv_fuses_pool): output OH/2 x OW/2 */
  int s2d;               /* the stride: the host writes the input space-to-depth (a first conv
                            whose kernel is over the device's: conv_s2d) */
  int dwu;               /* a depthwise conv on the depthwise unit: one DWCONV (conv_on_dw_unit) */
} conv;

static const nnf_layer_ops conv_ops;
static const nnf_layer_ops maxpool_ops;

nnf_dense *nnf_layer_conv(nnf_layer *l) { return l && l->ops == &conv_ops ? &((conv *)l)->d : NULL; }
nnf_qlayer *nnf_layer_conv_qlayer(nnf_layer *l) { return l && l->ops == &conv_ops ? &((conv *)l)->q : NULL; }

int nnf_conv_spec_of(const nnf_layer *l, nnf_conv_spec *s) {
  if (!l || l->ops != &conv_ops) return -1;
  *s = ((const conv *)l)->s;
  return 0;
}

/* A PyTorch int or pair argument: "3", or "(10,4)" when the two differ. */
static void pair(char *buf, size_t len, int a, int b) {
  if (a == b) snprintf(buf, len, "%d", a);
  else snprintf(buf, len, "(%d,%d)", a, b);
}

static void conv_describe(const nnf_layer *l, char *buf, size_t len) {
  const nnf_conv_spec *s = &((const conv *)l)->s;
  char k[24], st[24], pd[24], gr[24] = "";
  pair(k, sizeof k, s->kh, s->kw), pair(st, sizeof st, s->sh, s->sw), pair(pd, sizeof pd, s->ph, s->pw);
  if (s->groups != 1) snprintf(gr, sizeof gr, ",groups=%d", s->groups);
  snprintf(buf, len, "Conv2d(%d,%d,kernel_size=%s,stride=%s,padding=%s%s%s)", l->ic, s->cout, k, st, pd, gr,
           s->bias ? "" : ",bias=False");
}

static nnfm_window conv_win(const conv *C, int batch) {
  const nnf_layer *l = &C->base;
  const geo *g = &C->g;
  nnfm_window w = {batch, l->ic, l->ih, l->iw, g->kh, g->kw, g->sh, g->sw, g->ph, g->pw, 0, 0};
  return w;
}

static int conv_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  conv *C = (conv *)l;
  nnf_conv_spec *s = &C->s;
  char what[128];
  int oh, ow;
  (void)in;
  if (s->groups == 0) { /* depthwise: the input's channels */
    s->groups = l->ic;
    if (s->cout == 0) s->cout = l->ic;
  }
  conv_describe(l, what, sizeof what);
  nnfm_window win = conv_win(C, 1);
  if (window_fits(l, what, &win, 0, steps, &oh, &ow, err, errlen)) return -1;
  if (l->ic > 65535) return nnf_fail(err, errlen, "layer %d (%s): %d input channels, not 1..65535", l->index, what, l->ic);
  if (l->ic % s->groups || s->cout % s->groups)
    return nnf_fail(err, errlen, "layer %d (%s): %d groups do not divide %d input and %d output channels", l->index,
                    what, s->groups, l->ic, s->cout);
  int K = l->ic / s->groups * s->kh * s->kw, P = oh * ow;
  if ((int64_t)s->cout * P > (1 << 24))
    return nnf_fail(err, errlen, "layer %d (%s): a %d x %d x %d output is more than 2^24 values", l->index, what, s->cout,
                    oh, ow);
  size_t col = (size_t)l->ic * s->kh * s->kw * P;
  if (nnf_dense_init(&C->d, K, s->cout) || nnf_qlayer_alloc(&C->q, K, s->cout) ||
      !(C->w_oihw = calloc((size_t)K * s->cout, 1)) || !(C->bias_dev = calloc((size_t)s->cout, sizeof(int32_t))) ||
      !(C->col = malloc(col * sizeof(float))) || !(C->dcol = malloc(col * sizeof(float))))
    return nnf_fail(err, errlen, "layer %d (%s): out of memory", l->index, what);
  l->oc = s->cout, l->oh = oh, l->ow = ow, l->omap = 1;
  *out = s->cout * P;
  return 0;
}

/* y (rows x Cout*P) = conv(x (rows x Cin*H*W)) with weights w (Cout x K) and
 * biases b (NULL: none): per group g, y's NG channels = w's NG rows (NG x K)
 * @ col's K rows of the group (K x P), K = Cin/G*KH*KW. */
static void conv_float(conv *C, const float *w, const float *b, const float *x, float *y, size_t rows) {
  nnf_layer *l = &C->base;
  const int K = C->d.in, N = C->s.cout, P = l->oh * l->ow, G = C->s.groups, NG = N / G;
  for (size_t r = 0; r < rows; r++) {
    float *yr = y + r * (size_t)l->out;
    im2col(x + r * (size_t)l->in, l->ic, l->ih, l->iw, &C->g, l->oh, l->ow, C->col);
    for (int n = 0; n < N; n++)
      for (int j = 0; j < P; j++) yr[(size_t)n * P + j] = b ? b[n] : 0.0f;
    for (int g = 0; g < G; g++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, NG, P, K, 1.0f, w + (size_t)g * NG * K, K,
                  C->col + (size_t)g * K * P, P, 1.0f, yr + (size_t)g * NG * P, P);
  }
}

static int conv_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  conv *C = (conv *)l;
  size_t rows = (size_t)x->steps * p->batch, cnt = rows * (size_t)l->out;
  y->steps = x->steps;
  if (p->mode == NNF_FWD_FLOAT) {
    /* x: rows x (Cin, H, W)  ->  y: rows x (Cout, OH, OW) */
    conv_float(C, C->d.w, C->s.bias ? C->d.b : NULL, x->f, y->f, rows);
    if (p->observe && (!l->fusion.out || l->fusion.lut))
      nnf_qrange_observe(nnf_layer_range(l), y->f, cnt, nnf_observer_momentum(l->net, p));
    return 0;
  }
  if (p->mode == NNF_FWD_FAKEQUANT) {
    /* the same through the fake-quant weights, the output quantized as the consumer asks */
    if (cnt > C->zcap) {
      free(C->z);
      free(C->za);
      C->z = malloc(cnt * sizeof(float));
      C->za = malloc(cnt * sizeof(float));
      C->zcap = C->z && C->za ? cnt : 0;
      if (!C->zcap) return nnf_fail(err, errlen, "layer %d (Conv2d): out of memory", l->index);
    }
    conv_float(C, C->q.w_fq, C->q.b_fq, x->f, C->z, rows);
    nnf_fq_output(l, &C->q, p, C->z, C->za, cnt, y->q);
  } else {
    /* the device's integer conv (int8 x: rows x (Cin, H, W) -> int8 y: rows x (Cout, OH, OW)) */
    const nnf_qlayer *Q = &C->q;
    nnfm_conv_args a = {conv_win(C, (int)rows), C->s.cout, x->r.zp, Q->zp, Q->lo, Q->hi, Q->lut ? Q->table : NULL,
                        Q->round, C->s.groups};
    if (nnfm_conv2d_ref(&a, x->q, C->w_oihw, Q->bias, Q->m0, Q->shift, y->q) != NNFM_OK)
      return nnf_fail(err, errlen, "layer %d (Conv2d): the model refuses its integer form", l->index);
  }
  nnf_qrange_dequantize(nnf_out_q(l), y->q, y->f, cnt);
  return 0;
}

static void conv_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                          float *dx, int accumulate) {
  conv *C = (conv *)l;
  const int K = C->d.in, N = C->s.cout, P = l->oh * l->ow, G = C->s.groups, NG = N / G;
  size_t rows = (size_t)x->steps * p->batch, cnt = rows * (size_t)l->out;
  int quant = p->mode != NNF_FWD_FLOAT;
  if (quant) nnf_ste_backward(l, &C->q, y, dy, cnt);
  const float *w = quant ? C->q.w_fq : C->d.w;
  if (!accumulate) nnf_dense_zero_grad(&C->d);
  for (size_t r = 0; r < rows; r++) {
    const float *dyr = dy + r * (size_t)l->out;
    im2col(x->f + r * (size_t)l->in, l->ic, l->ih, l->iw, &C->g, l->oh, l->ow, C->col);
    /* per group: dW (NG x K) += dy (NG x P) @ col^T (P x K);  db[n] += sum_p dy[n][p] */
    for (int g = 0; g < G; g++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, NG, K, P, 1.0f, dyr + (size_t)g * NG * P, P,
                  C->col + (size_t)g * K * P, P, 1.0f, C->d.dw + (size_t)g * NG * K, K);
    for (int n = 0; n < N; n++) {
      float s = 0.0f;
      for (int j = 0; j < P; j++) s += dyr[(size_t)n * P + j];
      C->d.db[n] += s;
    }
    if (!dx) continue;
    /* per group: dcol (K x P) = W^T (K x NG) @ dy (NG x P);  dx (Cin, H, W) = col2im(dcol) */
    for (int g = 0; g < G; g++)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, NG, 1.0f, w + (size_t)g * NG * K, K,
                  dyr + (size_t)g * NG * P, P, 0.0f, C->dcol + (size_t)g * K * P, P);
    float *dxr = dx + r * (size_t)l->in;
    memset(dxr, 0, (size_t)l->in * sizeof(float));
    col2im(C->dcol, l->ic, l->ih, l->iw, &C->g, l->oh, l->ow, dxr);
  }
}

static int conv_params(nnf_layer *l, nnf_param *o) {
  conv *C = (conv *)l;
  nnf_param w = {"weight", C->d.w, C->d.dw, 4, {C->s.cout, l->ic / C->s.groups, C->s.kh, C->s.kw}};
  nnf_param b = {"bias", C->d.b, C->d.db, 1, {C->s.cout, 0, 0, 0}};
  o[0] = w;
  if (!C->s.bias) return 1;
  o[1] = b;
  return 2;
}

static void conv_qparams(nnf_layer *l) { nnf_qrange_params(nnf_layer_range(l)); }

static int conv_quantize(nnf_layer *l, const nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  conv *C = (conv *)l;
  nnf_qlayer *Q = &C->q;
  nnf_dense v = C->d;
  int K = C->d.in, N = C->s.cout;
  (void)y;
  if (l->fusion.current) return nnf_fail(err, errlen, "layer %d (Conv2d): a LIF layer cannot follow a conv", l->index);
  if (!C->s.bias) v.b = NULL;
  if (nnf_qlayer_quantize_weights(Q, &v, x->r.scale, nnf_req_q(l)->scale, l->index + 1, err, errlen)) return -1;
  Q->round = l->round;
  for (int n = 0; n < N; n++)
    for (int i = 0; i < K; i++) C->w_oihw[(size_t)n * K + i] = Q->w_kn[(size_t)i * N + n];
  if (nnfm_conv_fold_input_zp(C->w_oihw, N, l->ic / C->s.groups, C->s.kh, C->s.kw, x->r.zp, Q->bias, C->bias_dev) !=
      NNFM_OK)
    return nnf_fail(err, errlen, "layer %d (Conv2d): cannot fold the input zero point", l->index);
  nnf_qlayer_output(l, Q);
  return 0;
}

/* ---- Conv2d on the device: W, P, the output map in ACT; CONVs ---- */

/* The window the device walks for a batch of B, over the map it holds: a
 * ZeroPad2d right before the conv is absorbed (that layer runs nothing on
 * the device): its padding joins the conv's, and the rows and columns it
 * adds after the map beyond those before become EH / EW. 0, or -1 + err
 * when that would pad more before the map than after it. */
static int dev_window(const conv *C, int B, nnfm_window *w, const char *what, char *err, size_t errlen) {
  const nnf_layer *l = &C->base;
  int pad[4];
  *w = conv_win(C, B);
  const nnf_layer *z = nnf_layer_producer(l);
  if (!z || !nnf_layer_zeropad(z, pad)) return 0;
  int top = w->ph + pad[2], bottom = w->ph + pad[3], left = w->pw + pad[0], right = w->pw + pad[1];
  if (bottom < top || right < left)
    return nnf_fail(err, errlen,
                    "layer %d (%s): with ZeroPad2d layer %d before it, it pads %d rows above and %d below, %d columns "
                    "left and %d right; the device pads as much or one more after the map as before it",
                    l->index, what, z->index, top, bottom, left, right);
  w->h = z->ih, w->w = z->iw;
  w->ph = top, w->eh = bottom - top, w->pw = left, w->ew = right - left;
  return 0;
}

/* A first conv whose kernel is over the device's (KWS's 10 x 4 at stride
 * 2): its stride s when the host can lay its input out space-to-depth,
 * s x s pixels of the padded map into s*s*Cin channels, over which the
 * device runs a ceil(KH/s) x ceil(KW/s) conv at stride 1 with the weights
 * permuted to match (conv_pack): the same sums. 0 otherwise. */
static int conv_s2d(const conv *C, const nnfm_window *w) {
  const int s = w->sh;
  if (C->s.groups != 1 || w->sw != s || s < 2 || (w->kh <= NNFM_KERNEL_MAX && w->kw <= NNFM_KERNEL_MAX)) return 0;
  if ((w->kh + s - 1) / s > NNFM_KERNEL_MAX || (w->kw + s - 1) / s > NNFM_KERNEL_MAX) return 0;
  return (int64_t)C->base.ic * s * s <= 65535 ? s : 0;
}

/* The space-to-depth map of a conv (conv_s2d's s): Cin*s*s channels, the
 * rows and columns its OH x OW outputs read at stride 1. */
static nnfm_window s2d_window(const conv *C, const nnfm_window *w, int s) {
  const nnf_layer *l = &C->base;
  const int kh = (w->kh + s - 1) / s, kw = (w->kw + s - 1) / s;
  nnfm_window v = {w->b, l->ic * s * s, l->oh + kh - 1, l->ow + kw - 1, kh, kw, 1, 1, 0, 0, 0, 0};
  return v;
}

/* The input hook of a space-to-depth first conv: the words of B inputs, or
 * with xq their layout at ACT word base (channel (dy*s + dx)*Cin + c of
 * pixel (ys, xs) is the padded input at (ys*s + dy, xs*s + dx), the input
 * zero point in the padding). 0 when the conv reads the plain map. */
static uint32_t conv_input(nnf_layer *l, const nnf_plan *p, uint32_t base, const int8_t *xq, int B) {
  conv *C = (conv *)l;
  nnfm_window w;
  if (dev_window(C, B, &w, "", NULL, 0)) return 0;
  const int s = conv_s2d(C, &w);
  if (!s) return 0;
  const nnfm_window v = s2d_window(C, &w, s);
  const uint32_t words = nnfm_fmap_words(p->cfg, (uint32_t)v.c, (uint32_t)v.h, (uint32_t)v.w, (uint32_t)B);
  if (!xq) return words;
  const int CI = l->ic, H = w.h, W = w.w, zp = l->net->t[l->src].r.zp;
  int8_t *m = malloc((size_t)B * v.c * v.h * v.w);
  if (!m) return 0;
  for (int b = 0; b < B; b++)
    for (int dy = 0; dy < s; dy++)
      for (int dx = 0; dx < s; dx++)
        for (int c = 0; c < CI; c++)
          for (int ys = 0; ys < v.h; ys++)
            for (int xs = 0; xs < v.w; xs++) {
              int iy = ys * s + dy - w.ph, ix = xs * s + dx - w.pw, cs = (dy * s + dx) * CI + c;
              int in = iy >= 0 && iy < H && ix >= 0 && ix < W;
              m[(((size_t)b * v.c + cs) * v.h + ys) * v.w + xs] =
                  in ? xq[((size_t)b * CI + c) * H * W + (size_t)iy * W + ix] : (int8_t)zp;
            }
  int rc = nnfm_engine_put_fmap(p->img, base, m, (uint32_t)B, (uint32_t)v.c, (uint32_t)v.h, (uint32_t)v.w);
  free(m);
  return rc == NNFM_OK ? words : 0;
}

/* Channel tile t of a depthwise conv: its first channel and its count. */
static int dw_tiles(const conv *C, const nnf_plan *p) {
  return (C->base.ic + p->cfg->rows - 1) / p->cfg->rows;
}
static int dw_tile(const conv *C, const nnf_plan *p, int t, int *ch0) {
  *ch0 = t * p->cfg->rows;
  return C->base.ic - *ch0 < p->cfg->rows ? C->base.ic - *ch0 : p->cfg->rows;
}

/* On a packed first layer (docs/conv.md, "PACK") the device runs PACK, the
 * input's KW kernel columns folded into C' = KW*Cin channels of an H x OW
 * map, then the KH x 1 conv of C' channels over it (strides SH, 1; padding
 * PH, 0) with the weights W'[o][kx*Cin + c][ky][0] = W[o][c][ky][kx]: the
 * same sums, KH*ceil(C'/rows) K tiles instead of KH*KW*ceil(Cin/rows). */

int nnf_conv_packs(const nnf_layer *l, const nnf_plan *p) {
  if (!l || l->ops != &conv_ops || !p->pack || !(p->features & NNFP_FEAT_CONV) || !(p->features & NNFP_FEAT_PACK))
    return 0;
  const conv *C = (const conv *)l;
  nnfm_window w;
  if (C->s.groups != 1 || dev_window(C, 1, &w, "", NULL, 0) || w.kh > NNFM_KERNEL_MAX || w.kw > NNFM_KERNEL_MAX)
    return 0;
  const uint64_t R = (uint64_t)p->cfg->rows, cin = (uint64_t)l->ic, cp = (uint64_t)w.kw * cin;
  if (cin > R || (cp + R - 1) / R >= (uint64_t)w.kw * ((cin + R - 1) / R)) return 0;
  /* PACK's check: POOL's on the 1 x KW window of C' channels */
  nnfm_window g = {1, (int)cp, w.h, w.w, 1, w.kw, 1, w.sw, 0, w.pw, 0, w.ew};
  int oh, ow;
  if (nnfm_window_check(&g, 1, &oh, &ow) != NNFM_OK) return 0;
  return (uint64_t)w.h * (uint64_t)ow <= NNFM_WALK_MAX;
}

/* A depthwise conv runs on the depthwise unit (one DWCONV, docs/conv.md
 * "The depthwise unit") where the device has it (FEAT_DW), its kernel is
 * at most 3 x 3, it has no LUT and every window has an in-map tap; else as
 * one CONV a channel tile with diagonal weights. */
static int conv_on_dw_unit(const conv *C, const nnf_plan *p, const nnfm_window *w) {
  return C->s.groups > 1 && (p->features & NNFP_FEAT_DW) && !C->s2d && !C->q.lut &&
         (uint32_t)w->kh <= NNFM_DW_KERNEL_MAX && (uint32_t)w->kw <= NNFM_DW_KERNEL_MAX &&
         nnfm_window_check(w, 1, NULL, NULL) == NNFM_OK;
}

static int conv_plan(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  conv *C = (conv *)l;
  const nnfm_config *c = p->cfg;
  const uint32_t R = (uint32_t)c->rows, OW = (uint32_t)l->ow;
  char what[128];
  nnfm_window w;
  conv_describe(l, what, sizeof what);
  if (nnf_plan_need_conv(p, l->index, what, err, errlen) || dev_window(C, p->B, &w, what, err, errlen)) return -1;
  const int depthwise = C->s.groups > 1;
  if (depthwise && (C->s.groups != l->ic || C->s.cout != l->ic || c->rows != c->cols))
    return nnf_fail(err, errlen,
                    "layer %d (%s): of the grouped convs the device runs the depthwise ones with one output channel "
                    "an input channel (groups = in = out channels) on a square array",
                    l->index, what);
  C->s2d = p->in_layer == l->index ? conv_s2d(C, &w) : 0;
  if (C->s2d) w = s2d_window(C, &w, C->s2d);
  if (w.kh > NNFM_KERNEL_MAX || w.kw > NNFM_KERNEL_MAX || w.sh > NNFM_STRIDE_MAX || w.sw > NNFM_STRIDE_MAX ||
      w.ph > NNFM_PAD_MAX || w.pw > NNFM_PAD_MAX || w.eh > 1 || w.ew > 1)
    return nnf_fail(err, errlen,
                    "layer %d (%s): the device's CONV takes kernels 1..%d, strides 1..%d, padding 0..%d before the map "
                    "and as much or one more after (here a %d x %d kernel, strides %d x %d, padding %d + %d rows, "
                    "%d + %d columns)%s",
                    l->index, what, NNFM_KERNEL_MAX, NNFM_STRIDE_MAX, NNFM_PAD_MAX, w.kh, w.kw, w.sh, w.sw, w.ph,
                    w.ph + w.eh, w.pw, w.pw + w.ew,
                    w.kh > NNFM_KERNEL_MAX || w.kw > NNFM_KERNEL_MAX
                        ? "; a larger kernel runs as the first layer with stride s, over an input the host lays out "
                          "space-to-depth, when its kernel over s is in range"
                        : "");
  C->dw = w;
  C->dwu = depthwise && conv_on_dw_unit(C, p, &w);
  C->packed = p->pack_layer == l->index;
  /* with the pool fused the walk covers the 2*(OH/2) x 2*(OW/2) pixels the
   * windows take (4*Mp rows) and the output is the pooled OH/2 x OW/2 map */
  const int pool = nnf_conv_fuses_pool(l, p);
  C->pool2 = pool >= 0;
  if (C->pool2) p->pooled[l->index] = 1, p->pool_fused[pool] = 1;
  const uint32_t f = C->pool2 ? 2 : 1, OHo = (uint32_t)l->oh / f, OWo = OW / f, KH = (uint32_t)w.kh,
                 KW = (uint32_t)w.kw, H = (uint32_t)w.h, W = (uint32_t)w.w, N = (uint32_t)C->s.cout;
  if (C->packed) {
    /* the PACK (M = H*OW*B, one tile per output word) and the KH x 1 CONV over its H x OW map */
    const uint32_t cp = KW * (uint32_t)l->ic;
    if (nnf_plan_walk_fits(p, l->index, what, H, W, H, OW, 1, err, errlen) ||
        nnf_plan_walk_fits(p, l->index, what, H, OW, OHo * f, OWo * f, KH * ((cp + R - 1) / R), err, errlen))
      return -1;
    C->w_base = nnf_plan_w(p, nnfm_conv_w_words(c, N, cp, KH, 1));
    C->pack_base = nnf_plan_act(p, nnfm_fmap_words(c, cp, H, OW, (uint32_t)p->B));
    C->p_base = nnf_plan_p(p, nnfm_p_entries(c, N));
  } else if (C->dwu) {
    /* one DWCONV: KH*KW words a channel tile, a P entry a tile */
    if (nnf_plan_walk_fits(p, l->index, what, H, W, OHo, OWo, 1, err, errlen)) return -1;
    C->w_base = nnf_plan_w(p, nnfm_dwconv_w_words(c, N, KH, KW));
    C->p_base = nnf_plan_p(p, nnfm_p_entries(c, N));
  } else if (depthwise) {
    /* one CONV a channel tile, its weights diagonal: ROWS x KH*KW words a tile */
    uint64_t ww = 0, pp = 0;
    if (nnf_plan_walk_fits(p, l->index, what, H, W, OHo, OWo, KH * KW, err, errlen)) return -1;
    for (int t = 0, ch0, nch; t < dw_tiles(C, p); t++) {
      nch = dw_tile(C, p, t, &ch0);
      ww += nnfm_conv_w_words(c, (uint32_t)nch, (uint32_t)nch, KH, KW);
      pp += nnfm_p_entries(c, (uint32_t)nch);
    }
    C->w_base = nnf_plan_w(p, (uint32_t)ww);
    C->p_base = nnf_plan_p(p, (uint32_t)pp);
  } else {
    const uint32_t ct = ((uint32_t)w.c + R - 1) / R;
    if (nnf_plan_walk_fits(p, l->index, what, H, W, OHo * f, OWo * f, KH * KW * ct, err, errlen)) return -1;
    C->w_base = nnf_plan_w(p, nnfm_conv_w_words(c, N, (uint32_t)w.c, KH, KW));
    C->p_base = nnf_plan_p(p, nnfm_p_entries(c, N));
  }
  p->act[l->index + 1] = nnf_plan_act(p, nnfm_fmap_words(c, N, OHo, OWo, (uint32_t)p->B));
  /* the packed map has no reader after this CONV (placed beside it, so the
   * output does not overlap it): free for the layers after, under reuse */
  if (C->packed) nnf_plan_act_free(p, C->pack_base);
  return 0;
}

static int conv_pack(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  conv *C = (conv *)l;
  const nnf_qlayer *Q = &C->q;
  const nnfm_window *w = &C->dw;
  const int N = C->s.cout, CI = l->ic, KH = C->s.kh, KW = C->s.kw;
  int rc = NNFM_OK;
  int8_t *wp = NULL;
  if (C->packed || C->s2d) {
    /* packed: W'[o][kx*Cin + c][ky][0] = W[o][c][ky][kx] (the folded bias is the same: the taps' sum is);
     * space-to-depth: W'[o][(dy*s + dx)*Cin + c][ky'][kx'] = W[o][c][ky'*s + dy][kx'*s + dx], 0 past the kernel */
    if (!(wp = calloc((size_t)N * w->c * w->kh * w->kw, 1))) return nnf_fail(err, errlen, "out of memory");
    const int s = C->s2d;
    for (int o = 0; o < N; o++)
      for (int ci = 0; ci < CI; ci++)
        for (int ky = 0; ky < KH; ky++)
          for (int kx = 0; kx < KW; kx++) {
            int8_t v = C->w_oihw[(((size_t)o * CI + ci) * KH + ky) * KW + kx];
            if (C->packed) wp[(((size_t)o * KW + kx) * CI + ci) * KH + ky] = v;
            else {
              int cs = (ky % s * s + kx % s) * CI + ci;
              wp[(((size_t)o * w->c + cs) * w->kh + ky / s) * w->kw + kx / s] = v;
            }
          }
    rc = C->packed ? nnfm_engine_put_conv_weights(p->img, C->w_base, wp, (uint32_t)N, (uint32_t)(KW * CI),
                                                  (uint32_t)KH, 1)
                   : nnfm_engine_put_conv_weights(p->img, C->w_base, wp, (uint32_t)N, (uint32_t)w->c,
                                                  (uint32_t)w->kh, (uint32_t)w->kw);
  } else if (C->dwu) {
    /* DWCONV: w[c][ky][kx] as it lies (OIHW with one input channel a group); the bias not folded */
    rc = nnfm_engine_put_dw_weights(p->img, C->w_base, C->w_oihw, (uint32_t)N, (uint32_t)KH, (uint32_t)KW);
    if (rc == NNFM_OK) rc = nnfm_engine_put_params(p->img, C->p_base, Q->bias, Q->m0, Q->shift, (uint32_t)N);
    if (rc != NNFM_OK) return nnf_fail(err, errlen, "layer %d (Conv2d) does not pack into the device's buffers", l->index);
    return 0;
  } else if (C->s.groups > 1) {
    /* tile t's CONV: W[o][c][ky][kx] = w[ch0 + c][ky][kx] on the diagonal o = c, else 0 */
    const size_t taps = (size_t)KH * KW;
    uint32_t wb = C->w_base, pb = C->p_base;
    if (!(wp = malloc((size_t)p->cfg->rows * p->cfg->rows * taps))) return nnf_fail(err, errlen, "out of memory");
    for (int t = 0, ch0, nch; t < dw_tiles(C, p) && rc == NNFM_OK; t++) {
      nch = dw_tile(C, p, t, &ch0);
      memset(wp, 0, (size_t)nch * nch * taps);
      for (int c = 0; c < nch; c++) memcpy(wp + ((size_t)c * nch + c) * taps, C->w_oihw + (size_t)(ch0 + c) * taps, taps);
      rc = nnfm_engine_put_conv_weights(p->img, wb, wp, (uint32_t)nch, (uint32_t)nch, (uint32_t)KH, (uint32_t)KW);
      if (rc == NNFM_OK)
        rc = nnfm_engine_put_params(p->img, pb, C->bias_dev + ch0, Q->m0 + ch0, Q->shift + ch0, (uint32_t)nch);
      wb += nnfm_conv_w_words(p->cfg, (uint32_t)nch, (uint32_t)nch, (uint32_t)KH, (uint32_t)KW);
      pb += nnfm_p_entries(p->cfg, (uint32_t)nch);
    }
    free(wp);
    if (rc != NNFM_OK) return nnf_fail(err, errlen, "layer %d (Conv2d) does not pack into the device's buffers", l->index);
    return 0;
  } else {
    rc = nnfm_engine_put_conv_weights(p->img, C->w_base, C->w_oihw, (uint32_t)N, (uint32_t)CI, (uint32_t)KH,
                                      (uint32_t)KW);
  }
  free(wp);
  if (rc != NNFM_OK || nnfm_engine_put_params(p->img, C->p_base, C->bias_dev, Q->m0, Q->shift, (uint32_t)N) != NNFM_OK)
    return nnf_fail(err, errlen, "layer %d (Conv2d) does not pack into the device's buffers", l->index);
  return 0;
}

static int conv_emit(nnf_layer *l, nnf_plan *p) {
  conv *C = (conv *)l;
  const nnf_qlayer *Q = &C->q;
  const nnfm_window *w = &C->dw;
  const int8_t zp_in = (int8_t)l->net->t[l->src].r.zp;
  const uint32_t a_base = nnf_plan_input(p, l->src);
  if (C->packed) {
    uint8_t *insn = nnf_plan_insn(p);
    if (!insn) return -1;
    nnfdrv_pack k = {(uint16_t)l->ic, (uint16_t)w->h, (uint16_t)w->w, (uint16_t)p->B, (uint8_t)w->kw,
                     (uint8_t)w->sw, (uint8_t)w->pw, (uint8_t)w->ew, a_base, C->pack_base, zp_in};
    if (nnfdrv_insn_pack(insn, &k) != NNFDRV_OK) p->ok = 0;
  }
  nnfdrv_conv c = {(uint16_t)w->c, (uint16_t)C->s.cout, (uint16_t)w->h, (uint16_t)w->w, (uint16_t)p->B,
                   (uint8_t)w->kh, (uint8_t)w->kw, (uint8_t)w->sh, (uint8_t)w->sw, (uint8_t)w->ph,
                   (uint8_t)w->pw, (uint8_t)w->eh, (uint8_t)w->ew, a_base, C->w_base, C->p_base, p->act[l->index + 1],
                   zp_in, (int8_t)Q->zp, (int8_t)Q->lo, (int8_t)Q->hi, Q->lut, C->pool2, Q->round};
  if (C->packed) {
    /* the KH x 1 conv of KW*Cin channels over the packed H x OW map */
    c.cin = (uint16_t)(w->kw * l->ic), c.w = (uint16_t)l->ow, c.kw = 1, c.sw = 1, c.pw = 0, c.ew = 0;
    c.a_base = C->pack_base;
  }
  if (C->dwu) {
    uint8_t *insn = nnf_plan_insn(p);
    if (!insn) return -1;
    if (nnfdrv_insn_dwconv(insn, &c) != NNFDRV_OK) p->ok = 0;
    return 0;
  }
  const int tiles = C->s.groups > 1 ? dw_tiles(C, p) : 1;
  const uint32_t in_tile = (uint32_t)(w->h * w->w * p->B), out_tile = (uint32_t)(l->oh * l->ow * p->B);
  for (int t = 0, ch0, prev = 0; t < tiles; t++) {
    uint8_t *insn = nnf_plan_insn(p);
    if (!insn) return -1;
    if (C->s.groups > 1) {
      /* channel tile t: its words of the input and output maps, its diagonal weights after tile t - 1's */
      int nch = dw_tile(C, p, t, &ch0);
      c.cin = c.n = (uint16_t)nch;
      c.a_base = a_base + (uint32_t)t * in_tile, c.o_base = p->act[l->index + 1] + (uint32_t)t * out_tile;
      c.w_base += nnfm_conv_w_words(p->cfg, (uint32_t)prev, (uint32_t)prev, (uint32_t)w->kh, (uint32_t)w->kw);
      c.p_base += nnfm_p_entries(p->cfg, (uint32_t)prev);
      prev = nch;
    }
    if (nnfdrv_insn_conv(insn, &c) != NNFDRV_OK) p->ok = 0;
    if (Q->lut && nnfdrv_insn_set_lut(insn, (unsigned)p->lut_slot[l->index]) != NNFDRV_OK) p->ok = 0;
  }
  return 0;
}

static void conv_destroy(nnf_layer *l) {
  conv *C = (conv *)l;
  nnf_dense_free(&C->d);
  nnf_qlayer_free(&C->q);
  free(C->w_oihw);
  free(C->bias_dev);
  free(C->col);
  free(C->dcol);
  free(C->z);
  free(C->za);
  free(C);
}

static const nnf_layer_ops conv_ops = {
    .kind = "Conv2d",
    .fusable = 1,
    .shape = conv_shape,
    .forward = conv_forward,
    .backward = conv_backward,
    .params = conv_params,
    .qparams = conv_qparams,
    .quantize = conv_quantize,
    .plan = conv_plan,
    .pack = conv_pack,
    .emit = conv_emit,
    .input = conv_input,
    .describe = conv_describe,
    .destroy = conv_destroy,
};

nnf_layer *nnf_conv2d_spec(const nnf_conv_spec *s, char *err, size_t errlen) {
  const int M = NNF_CONV_KERNEL_MAX, S = NNF_CONV_STRIDE_MAX;
  if (s->cout < (s->groups ? 1 : 0) || s->cout > 65535 || s->kh < 1 || s->kh > M || s->kw < 1 || s->kw > M ||
      s->sh < 1 || s->sh > S || s->sw < 1 || s->sw > S || s->ph < 0 || s->ph > M || s->pw < 0 || s->pw > M ||
      s->groups < 0 || s->groups > 65535) {
    nnf_fail(err, errlen,
             "a Conv2d has 1..65535 output channels, kernel 1..%d, stride 1..%d, padding 0..%d, groups 1..65535 (got "
             "%d, %dx%d, %dx%d, %dx%d, %d)",
             M, S, M, s->cout, s->kh, s->kw, s->sh, s->sw, s->ph, s->pw, s->groups);
    return NULL;
  }
  conv *C = calloc(1, sizeof *C);
  if (!C) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  C->base.ops = &conv_ops;
  C->s = *s;
  C->s.bias = s->bias != 0;
  geo g = {s->kh, s->kw, s->sh, s->sw, s->ph, s->pw};
  C->g = g;
  return &C->base;
}

nnf_layer *nnf_conv2d(int cout, int k, int stride, int pad, int bias, char *err, size_t errlen) {
  nnf_conv_spec s = {cout, k, k, stride, stride, pad, pad, 1, bias};
  return nnf_conv2d_spec(&s, err, errlen);
}

/* ---- pooling --------------------------------------------------------------------- */

typedef struct {
  nnf_layer base;
  int avg;              /* 0 max, 1 average */
  int global;           /* AdaptiveAvgPool2d(1): the window is the whole map */
  int k, stride, pad;
  int32_t lo, hi;       /* the clamp: a fused ReLU / ReLU6 after the pool (else -128, 127) */
} pool;

static void pool_describe(const nnf_layer *l, char *buf, size_t len) {
  const pool *P = (const pool *)l;
  if (P->global) snprintf(buf, len, "AdaptiveAvgPool2d(1)");
  else if (P->avg)
    snprintf(buf, len, "AvgPool2d(kernel_size=%d,stride=%d,padding=%d,count_include_pad=False)", P->k, P->stride, P->pad);
  else snprintf(buf, len, "MaxPool2d(kernel_size=%d,stride=%d,padding=%d)", P->k, P->stride, P->pad);
}

static nnfm_window pool_win(const pool *P, int batch) {
  const nnf_layer *l = &P->base;
  nnfm_window w = {batch, l->ic, l->ih, l->iw, P->k, P->k, P->stride, P->stride, P->pad, P->pad, 0, 0};
  if (P->global) w.kh = l->ih, w.kw = l->iw, w.sh = w.sw = 1, w.ph = w.pw = 0;
  return w;
}

static int pool_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  pool *P = (pool *)l;
  char what[96];
  int oh, ow;
  (void)in;
  pool_describe(l, what, sizeof what);
  nnfm_window win = pool_win(P, 1);
  if (window_fits(l, what, &win, 1, steps, &oh, &ow, err, errlen)) return -1;
  l->oh = oh, l->ow = ow, l->omap = 1;
  *out = l->ic * oh * ow;
  return 0;
}

/* The float pool of one image's channel: x (h x w) -> y (oh x ow); with
 * dx, the backward instead: dx += the routing of dy (max: to the first
 * largest tap, PyTorch's; average: dy / taps to each in-bounds tap). */
static void pool_plane(const pool *P, const nnfm_window *w, int oh, int ow, const float *x, float *y, const float *dy,
                       float *dx) {
  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++) {
      int y0 = oy * w->sh - w->ph, x0 = ox * w->sw - w->pw, n = 0, arg = -1;
      float acc = 0.0f;
      for (int ky = 0; ky < w->kh; ky++)
        for (int kx = 0; kx < w->kw; kx++) {
          int iy = y0 + ky, ix = x0 + kx;
          if (iy < 0 || iy >= w->h || ix < 0 || ix >= w->w) continue;
          int i = iy * w->w + ix;
          if (P->avg) acc += x[i];
          else if (arg < 0 || x[i] > acc || isnan(x[i])) acc = x[i], arg = i;
          n++;
        }
      int o = oy * ow + ox;
      if (!dx) {
        y[o] = P->avg ? acc / (float)n : acc;
        continue;
      }
      if (!P->avg) {
        dx[arg] += dy[o];
        continue;
      }
      float g = dy[o] / (float)n;
      for (int ky = 0; ky < w->kh; ky++)
        for (int kx = 0; kx < w->kw; kx++) {
          int iy = y0 + ky, ix = x0 + kx;
          if (iy >= 0 && iy < w->h && ix >= 0 && ix < w->w) dx[iy * w->w + ix] += g;
        }
    }
}

static int pool_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  pool *P = (pool *)l;
  size_t rows = (size_t)x->steps * p->batch, cnt = rows * (size_t)l->out;
  int hw = l->ih * l->iw, ohw = l->oh * l->ow;
  y->steps = x->steps;
  if (p->mode == NNF_FWD_FLOAT) {
    /* x: rows x (C, H, W)  ->  y: rows x (C, OH, OW) */
    nnfm_window w = pool_win(P, 1);
    for (size_t r = 0; r < rows * (size_t)l->ic; r++)
      pool_plane(P, &w, l->oh, l->ow, x->f + r * hw, y->f + r * ohw, NULL, NULL);
    return 0;
  }
  /* quantized: the model's pool on the int8 map, at the input's scale and zero point */
  nnfm_pool_args a = {pool_win(P, (int)rows), P->lo, P->hi};
  int rc = P->avg ? nnfm_avgpool_ref(&a, x->q, y->q) : nnfm_maxpool_ref(&a, x->q, y->q);
  if (rc != NNFM_OK) return nnf_fail(err, errlen, "layer %d (%s): the model refuses the pool", l->index, l->ops->kind);
  nnf_qrange_dequantize(&x->r, y->q, y->f, cnt);
  return 0;
}

static void pool_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                          float *dx, int accumulate) {
  pool *P = (pool *)l;
  size_t rows = (size_t)x->steps * p->batch;
  int hw = l->ih * l->iw, ohw = l->oh * l->ow;
  (void)accumulate;
  if (!dx) return;
  /* dy: rows x (C, OH, OW)  ->  dx: rows x (C, H, W), straight through the
   * quantized pools but where a fused ReLU / ReLU6 clamped */
  nnfm_window w = pool_win(P, 1);
  if (p->mode != NNF_FWD_FLOAT && (P->lo > -128 || P->hi < 127))
    for (size_t i = 0; i < rows * (size_t)l->out; i++)
      if ((y->q[i] <= P->lo && P->lo > -128) || (y->q[i] >= P->hi && P->hi < 127)) dy[i] = 0.0f;
  memset(dx, 0, rows * (size_t)l->in * sizeof(float));
  for (size_t r = 0; r < rows * (size_t)l->ic; r++)
    pool_plane(P, &w, l->oh, l->ow, x->f + r * hw, NULL, dy + r * ohw, dx + r * hw);
}

/* A ReLU or ReLU6 after a pool is its clamp on the int8 path (the device's
 * POOL clamps): its output keeps the pool's quantization, the input's, so
 * ReLU is max(q, zp) and ReLU6 also min(q, q(6)), both exact. */
static int pool_quantize(nnf_layer *l, const nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  pool *P = (pool *)l;
  const nnf_fusion *f = &l->fusion;
  (void)y;
  P->lo = -128, P->hi = 127;
  if (f->current) return nnf_fail(err, errlen, "layer %d (%s): a LIF layer cannot follow a pool", l->index, l->ops->kind);
  if (!f->out) return 0;
  if (f->lut)
    return nnf_fail(err, errlen,
                    "layer %d (%s): a sigmoid or tanh after a pool has no int8 form (the pool keeps its input's "
                    "quantization); put it before the pool",
                    l->index, l->ops->kind);
  *f->out = x->r;
  if (f->act == NNF_ACT_RELU || f->act == NNF_ACT_RELU6) P->lo = nnfm_clamp(x->r.zp, -128, 127);
  if (f->act == NNF_ACT_RELU6) P->hi = nnfm_quantize_real(6.0, x->r.scale, x->r.zp, -128, 127);
  return 0;
}

/* ---- pooling on the device: the output map in ACT; one POOL ---- */

static int pool_plan(nnf_layer *l, nnf_plan *p, char *err, size_t errlen) {
  char what[96];
  pool_describe(l, what, sizeof what);
  if (nnf_plan_need_conv(p, l->index, what, err, errlen) ||
      nnf_plan_walk_fits(p, l->index, what, (uint32_t)l->ih, (uint32_t)l->iw, (uint32_t)l->oh, (uint32_t)l->ow, 1, err,
                         errlen))
    return -1;
  p->act[l->index + 1] = nnf_plan_act(p, nnfm_fmap_words(p->cfg, (uint32_t)l->ic, (uint32_t)l->oh, (uint32_t)l->ow,
                                                         (uint32_t)p->B));
  return 0;
}

static int pool_emit(nnf_layer *l, nnf_plan *p) {
  pool *P = (pool *)l;
  uint8_t *insn = nnf_plan_insn(p);
  if (!insn) return -1;
  nnfdrv_pool c = {P->avg, (uint16_t)l->ic, (uint16_t)l->ih, (uint16_t)l->iw, (uint16_t)p->B,
                   (uint8_t)(P->global ? 0 : P->k), (uint8_t)(P->global ? 0 : P->k),
                   (uint8_t)(P->global ? 1 : P->stride), (uint8_t)(P->global ? 1 : P->stride),
                   (uint8_t)(P->global ? 0 : P->pad), (uint8_t)(P->global ? 0 : P->pad), 0, 0,
                   nnf_plan_input(p, l->src), p->act[l->index + 1], (int8_t)P->lo, (int8_t)P->hi, P->global};
  if (nnfdrv_insn_pool(insn, &c) != NNFDRV_OK) p->ok = 0;
  return 0;
}

static void pool_destroy(nnf_layer *l) { free(l); }

/* The three pools differ only in their kind (the PyTorch class). */
#define POOL_OPS(kind_name)                                                                                  \
  {                                                                                                          \
    .kind = kind_name, .fusable = 1, .shape = pool_shape, .quantize = pool_quantize, .forward = pool_forward, .backward = pool_backward,             \
    .qparams = nnf_qparams_pass /* the input's scale and zero point (TFLite's int8 pools) */, .plan = pool_plan, \
    .emit = pool_emit, .describe = pool_describe, .destroy = pool_destroy,                                   \
  }

static const nnf_layer_ops maxpool_ops = POOL_OPS("MaxPool2d");
static const nnf_layer_ops avgpool_ops = POOL_OPS("AvgPool2d");
static const nnf_layer_ops gap_ops = POOL_OPS("AdaptiveAvgPool2d");

static nnf_layer *pool_new(const nnf_layer_ops *ops, int avg, int global, int k, int stride, int pad, char *err,
                           size_t errlen) {
  const char *name = ops->kind;
  if (stride == 0) stride = k;
  if (!global && (k < 1 || k > NNFM_KERNEL_MAX || stride < 1 || stride > NNFM_STRIDE_MAX || pad < 0 ||
                  pad > NNFM_PAD_MAX)) {
    nnf_fail(err, errlen, "a %s has kernel 1..%d, stride 1..%d, padding 0..%d (got %d, %d, %d)", name, NNFM_KERNEL_MAX,
             NNFM_STRIDE_MAX, NNFM_PAD_MAX, k, stride, pad);
    return NULL;
  }
  if (!global && 2 * pad > k) {
    nnf_fail(err, errlen, "a %s's padding is at most half its kernel (PyTorch's rule; got kernel %d, padding %d)", name, k,
             pad);
    return NULL;
  }
  pool *P = calloc(1, sizeof *P);
  if (!P) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  P->base.ops = ops;
  P->avg = avg;
  P->global = global;
  P->k = k;
  P->stride = stride;
  P->pad = pad;
  P->lo = -128;
  P->hi = 127;
  return &P->base;
}

nnf_layer *nnf_maxpool2d(int k, int stride, int pad, char *err, size_t errlen) {
  return pool_new(&maxpool_ops, 0, 0, k, stride, pad, err, errlen);
}

nnf_layer *nnf_avgpool2d(int k, int stride, int pad, char *err, size_t errlen) {
  return pool_new(&avgpool_ops, 1, 0, k, stride, pad, err, errlen);
}

nnf_layer *nnf_global_avgpool(char *err, size_t errlen) { return pool_new(&gap_ops, 1, 1, 1, 1, 0, err, errlen); }

/* ---- a MaxPool2d(2) run by the conv before it (docs/conv.md, "Fused 2x2 max pooling") ---- */

int nnf_conv_fuses_pool(const nnf_layer *l, const nnf_plan *p) {
  const uint32_t need = NNFP_FEAT_CONV | NNFP_FEAT_CONV_POOL;
  if (!l || l->ops != &conv_ops || !p->fuse_pool || (p->features & need) != need || ((const conv *)l)->s.groups != 1)
    return -1;
  const nnf_net *n = l->net;
  int i = l->index + 1;
  while (i < n->nlayers && n->layer[i]->fused) i++; /* a ReLU in the conv's clamp */
  if (i >= n->nlayers || n->layer[i]->ops != &maxpool_ops) return -1;
  /* the pool is the unpooled map's one reader (fused layers are their input's) */
  if (n->layer[i]->src != i || nnf_net_readers(n, i) != 1) return -1;
  const pool *P = (const pool *)n->layer[i];
  if (P->k != 2 || P->stride != 2 || P->pad != 0 || P->lo != -128 || P->hi != 127) return -1;
  if (l->oh < 2 || l->ow < 2) return -1;
  if (NNFM_POOL2_TAPS * nnfm_conv_pool2_rows((uint32_t)l->oh, (uint32_t)l->ow, 1) > NNFM_WALK_MAX) return -1;
  return i;
}

int nnf_layer_is_pool(const nnf_layer *l) {
  return l && (l->ops == &maxpool_ops || l->ops == &avgpool_ops || l->ops == &gap_ops);
}

/* ---- the architecture entries, as describe writes them ------------------------------ */

/* An int or a pair "(a,b)" at *s (a PyTorch Conv2d argument), past it. */
static int int_or_pair(const char **s, int *a, int *b) {
  int n = 0;
  if (sscanf(*s, "(%d,%d)%n", a, b, &n) == 2 && n > 0) return *s += n, 0;
  n = 0;
  if (sscanf(*s, "%d%n", a, &n) == 1 && n > 0) return *b = *a, *s += n, 0;
  return -1;
}

/* "Conv2d(A,B,kernel_size=K,stride=S,padding=P[,groups=G][,bias=False])",
 * K, S and P an int or a pair, as conv_describe writes it: 1 and *s, 0 for
 * another entry, -1 when malformed. */
static int conv_parse(const char *tok, int *cin, nnf_conv_spec *s) {
  int n = -1;
  if (strncmp(tok, "Conv2d(", 7)) return 0;
  memset(s, 0, sizeof *s);
  s->groups = 1, s->bias = 1;
  if (sscanf(tok, "Conv2d(%d,%d,kernel_size=%n", cin, &s->cout, &n) != 2 || n < 0) return -1;
  const char *q = tok + n;
  if (int_or_pair(&q, &s->kh, &s->kw) || strncmp(q, ",stride=", 8)) return -1;
  q += 8;
  if (int_or_pair(&q, &s->sh, &s->sw) || strncmp(q, ",padding=", 9)) return -1;
  q += 9;
  if (int_or_pair(&q, &s->ph, &s->pw)) return -1;
  n = -1;
  if (!strncmp(q, ",groups=", 8) && (sscanf(q, ",groups=%d%n", &s->groups, &n) != 1 || n < 0)) return -1;
  if (n > 0) q += n;
  if (!strcmp(q, ",bias=False)")) return s->bias = 0, 1;
  return strcmp(q, ")") ? -1 : 1;
}

nnf_layer *nnf_map_layer_parse(const char *tok, int cin, char *err, size_t errlen) {
  int a, k, s, pad, used = -1;
  nnf_conv_spec cs;
  if (err && errlen) err[0] = 0;
  int rc = conv_parse(tok, &a, &cs);
  if (rc > 0 && a != cin) {
    nnf_fail(err, errlen, "%s follows a map of %d channels", tok, cin);
    return NULL;
  }
  if (rc > 0) return nnf_conv2d_spec(&cs, err, errlen);
  if (!strncmp(tok, "ZeroPad2d(", 10)) return nnf_zeropad_parse(tok, err, errlen);
  char tail;
  if (sscanf(tok, "MaxPool2d(kernel_size=%d,stride=%d,padding=%d%c%n", &k, &s, &pad, &tail, &used) == 4 && tail == ')' &&
      !tok[used])
    return nnf_maxpool2d(k, s, pad, err, errlen);
  used = -1;
  if (sscanf(tok, "AvgPool2d(kernel_size=%d,stride=%d,padding=%d,count_include_pad=False%c%n", &k, &s, &pad, &tail,
             &used) == 4 &&
      tail == ')' && !tok[used])
    return nnf_avgpool2d(k, s, pad, err, errlen);
  if (!strcmp(tok, "AdaptiveAvgPool2d(1)")) return nnf_global_avgpool(err, errlen);
  if (!strncmp(tok, "Conv2d(", 7) || !strncmp(tok, "MaxPool2d(", 10) || !strncmp(tok, "AvgPool2d(", 10) ||
      !strncmp(tok, "AdaptiveAvgPool2d(", 18))
    nnf_fail(err, errlen, "malformed layer '%.60s'", tok);
  return NULL;
}
