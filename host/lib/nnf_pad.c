/*
 * nnf_pad.c - ZeroPad2d((left, right, top, bottom)) over C x H x W maps
 * (nnf_layer.h, docs/conv.md "Depthwise and rectangular"): torch's module,
 * padding with the real 0.0. On the int8 paths the padding is the input's
 * zero point and the output keeps the input's quantization, so it is exact.
 * On the device it runs as the padding of the Conv2d after it (nnf_conv.c,
 * dev_window): it has no plan hook of its own, and the device compiler
 * refuses it anywhere else (nnf_device.c).
 */
#include "nnf_err.h"
#include "nnf_layer.h"
#include "nnf_layer_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  nnf_layer base;
  int pad[4]; /* left, right, top, bottom */
} zeropad;

static const nnf_layer_ops zeropad_ops;

int nnf_layer_zeropad(const nnf_layer *l, int pad[4]) {
  if (!l || l->ops != &zeropad_ops) return 0;
  memcpy(pad, ((const zeropad *)l)->pad, sizeof ((const zeropad *)l)->pad);
  return 1;
}

static void zp_describe(const nnf_layer *l, char *buf, size_t len) {
  const int *p = ((const zeropad *)l)->pad;
  snprintf(buf, len, "ZeroPad2d((%d,%d,%d,%d))", p[0], p[1], p[2], p[3]);
}

static int zp_shape(nnf_layer *l, int in, int *out, int *steps, char *err, size_t errlen) {
  const int *p = ((const zeropad *)l)->pad;
  char what[64];
  (void)in;
  zp_describe(l, what, sizeof what);
  if (nnf_need_map(l, what, steps, err, errlen)) return -1;
  int64_t oh = (int64_t)l->ih + p[2] + p[3], ow = (int64_t)l->iw + p[0] + p[1];
  if ((int64_t)l->ic * oh * ow > (1 << 24))
    return nnf_fail(err, errlen, "layer %d (%s): a %d x %lld x %lld output is more than 2^24 values", l->index, what,
                    l->ic, (long long)oh, (long long)ow);
  l->oh = (int)oh, l->ow = (int)ow, l->omap = 1;
  *out = l->ic * l->oh * l->ow;
  return 0;
}

/* rows x (C, H, W) -> rows x (C, H + top + bottom, W + left + right): the
 * float path pads 0.0, the int8 paths the input's zero point. */
static int zp_forward(nnf_layer *l, const nnf_pass *p, nnf_tensor *x, nnf_tensor *y, char *err, size_t errlen) {
  const int *pd = ((const zeropad *)l)->pad;
  const size_t rows = (size_t)x->steps * p->batch, planes = rows * (size_t)l->ic;
  const int H = l->ih, W = l->iw, OH = l->oh, OW = l->ow, fl = p->mode == NNF_FWD_FLOAT;
  (void)err, (void)errlen;
  y->steps = x->steps;
  for (size_t c = 0; c < planes; c++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        int iy = oy - pd[2], ix = ox - pd[0], in = iy >= 0 && iy < H && ix >= 0 && ix < W;
        size_t o = (c * OH + oy) * OW + ox, i = (c * H + (in ? iy : 0)) * W + (in ? ix : 0);
        if (fl) y->f[o] = in ? x->f[i] : 0.0f;
        else y->q[o] = in ? x->q[i] : (int8_t)x->r.zp;
      }
  if (!fl) nnf_qrange_dequantize(&x->r, y->q, y->f, rows * (size_t)l->out);
  return 0;
}

/* dx is dy without the padding. */
static void zp_backward(nnf_layer *l, const nnf_pass *p, const nnf_tensor *x, const nnf_tensor *y, float *dy,
                        float *dx, int accumulate) {
  const int *pd = ((const zeropad *)l)->pad;
  const size_t planes = (size_t)x->steps * p->batch * (size_t)l->ic;
  (void)y, (void)accumulate;
  if (!dx) return;
  for (size_t c = 0; c < planes; c++)
    for (int iy = 0; iy < l->ih; iy++)
      memcpy(dx + (c * l->ih + iy) * l->iw, dy + (c * l->oh + iy + pd[2]) * l->ow + pd[0], (size_t)l->iw * sizeof(float));
}

static void zp_destroy(nnf_layer *l) { free(l); }

static const nnf_layer_ops zeropad_ops = {
    .kind = "ZeroPad2d",
    .shape = zp_shape,
    .forward = zp_forward,
    .backward = zp_backward,
    .qparams = nnf_qparams_pass,
    .describe = zp_describe,
    .destroy = zp_destroy,
};

nnf_layer *nnf_zeropad2d(int left, int right, int top, int bottom, char *err, size_t errlen) {
  const int M = NNF_CONV_KERNEL_MAX;
  if (left < 0 || left > M || right < 0 || right > M || top < 0 || top > M || bottom < 0 || bottom > M) {
    nnf_fail(err, errlen, "a ZeroPad2d pads each side by 0..%d (got %d, %d, %d, %d)", M, left, right, top, bottom);
    return NULL;
  }
  zeropad *Z = calloc(1, sizeof *Z);
  if (!Z) {
    nnf_fail(err, errlen, "out of memory");
    return NULL;
  }
  Z->base.ops = &zeropad_ops;
  Z->pad[0] = left, Z->pad[1] = right, Z->pad[2] = top, Z->pad[3] = bottom;
  return &Z->base;
}

nnf_layer *nnf_zeropad_parse(const char *tok, char *err, size_t errlen) {
  int p[4], n = -1;
  if (strncmp(tok, "ZeroPad2d(", 10)) return NULL;
  if (sscanf(tok, "ZeroPad2d((%d,%d,%d,%d))%n", &p[0], &p[1], &p[2], &p[3], &n) != 4 || n < 0 || tok[n]) {
    nnf_fail(err, errlen, "malformed layer '%.60s'", tok);
    return NULL;
  }
  return nnf_zeropad2d(p[0], p[1], p[2], p[3], err, errlen);
}
