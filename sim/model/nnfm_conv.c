/*
 * nnfm_conv.c - convolution and pooling defined once, on plain NCHW arrays
 * (docs/conv.md, docs/numerics.md): the reference every other form of these
 * layers is checked against. The engine's CONV and POOL (nnfm_engine.c)
 * compute the same values from the device layout; the host's integer
 * reference calls these functions.
 *
 * The arithmetic comes from nnfm.c (nnfm_acc_add, nnfm_vector_stage,
 * nnfm_avg_round, nnfm_clamp); this file only walks windows. The loops are
 * written for clarity, not speed: one output value at a time, every tap of
 * its window, padding taps named as such.
 */
#include "nnfm.h"

static int in_int8(int32_t x) { return x >= INT8_MIN && x <= INT8_MAX; }

static int32_t i32_of_u32(uint32_t u) {
  if (u <= (uint32_t)INT32_MAX) return (int32_t)u;
  return (int32_t)(u - 0x80000000u) + INT32_MIN;
}

/* ---- window geometry ------------------------------------------------------- */

/* Output size along one axis (p before, p + e after), or -1 when the kernel
 * does not fit. */
static int out_size(int in, int k, int s, int p, int e) {
  int64_t span = (int64_t)in + 2 * (int64_t)p + e; /* the padded input */
  if (k > span) return -1;
  int64_t o = (span - k) / s + 1;
  return o > INT32_MAX ? -1 : (int)o; /* an output no int can count is refused */
}

/* Some window along one axis has no in-bounds tap. Window o covers inputs
 * [o*s - p, o*s - p + k): the first window is the one most to the left
 * (it misses the map when p >= k), the last the one most to the right
 * (it misses when (o_n - 1)*s - p >= in). */
static int axis_has_empty(int in, int k, int s, int p, int o_n) {
  int64_t first = -(int64_t)p, last = (int64_t)(o_n - 1) * s - p;
  return first + k <= 0 || last >= in;
}

int nnfm_window_check(const nnfm_window *w, int need_tap, int *oh, int *ow) {
  if (!w) return NNFM_ERR_NULL;
  if (w->b < 1 || w->c < 1 || w->h < 1 || w->w < 1 || w->kh < 1 || w->kw < 1 || w->sh < 1 ||
      w->sw < 1 || w->ph < 0 || w->pw < 0 || w->eh < 0 || w->ew < 0)
    return NNFM_ERR_RANGE;
  int h = out_size(w->h, w->kh, w->sh, w->ph, w->eh), x = out_size(w->w, w->kw, w->sw, w->pw, w->ew);
  if (h < 1 || x < 1) return NNFM_ERR_RANGE; /* kernel larger than the padded input */
  if (need_tap && (axis_has_empty(w->h, w->kh, w->sh, w->ph, h) ||
                   axis_has_empty(w->w, w->kw, w->sw, w->pw, x)))
    return NNFM_ERR_RANGE;
  if (oh) *oh = h;
  if (ow) *ow = x;
  return NNFM_OK;
}

/* ---- convolution ----------------------------------------------------------- */

int nnfm_conv2d_ref(const nnfm_conv_args *a, const int8_t *x, const int8_t *w,
                    const int32_t *bias, const int32_t *m0, const int8_t *shift, int8_t *y) {
  if (!a) return NNFM_ERR_NULL;
  int OH, OW;
  int st = nnfm_window_check(&a->win, 0, &OH, &OW);
  if (st != NNFM_OK) return st;
  if (!x || !w || !bias || !m0 || !shift || !y) return NNFM_ERR_NULL;
  if (a->n < 1 || !in_int8(a->zp_in) || !in_int8(a->out_zp) || !in_int8(a->lo) ||
      !in_int8(a->hi) || a->lo > a->hi)
    return NNFM_ERR_RANGE;
  const int G = a->groups ? a->groups : 1;
  if (G < 0 || a->win.c % G || a->n % G) return NNFM_ERR_RANGE;
  for (int n = 0; n < a->n; n++)
    if (!nnfm_requant_params_valid(m0[n], shift[n])) return NNFM_ERR_RANGE;

  const nnfm_window *g = &a->win;
  const int B = g->b, C = g->c, H = g->h, W = g->w, N = a->n, KH = g->kh, KW = g->kw;
  const int CG = C / G, NG = N / G; /* a group's input channels, output channels */
  for (int b = 0; b < B; b++)
    for (int n = 0; n < N; n++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          int32_t acc = bias[n];
          const int c0 = n / NG * CG; /* the group's first input channel */
          for (int c = 0; c < CG; c++)
            for (int ky = 0; ky < KH; ky++)
              for (int kx = 0; kx < KW; kx++) {
                int iy = oy * g->sh - g->ph + ky, ix = ox * g->sw - g->pw + kx;
                int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                /* x[b][c][iy][ix], or the zero point in the padding */
                int32_t v = inside ? x[(((size_t)b * C + c0 + c) * H + iy) * W + ix] : a->zp_in;
                int32_t wt = w[(((size_t)n * CG + c) * KH + ky) * KW + kx]; /* w[n][c][ky][kx] */
                acc = nnfm_acc_add(acc, (v - a->zp_in) * wt); /* |.| <= 255 * 128 */
              }
          y[(((size_t)b * N + n) * OH + oy) * OW + ox] =
              nnfm_vector_stage(acc, m0[n], shift[n], a->out_zp, a->lo, a->hi, a->lut, a->round);
        }
  return NNFM_OK;
}

int nnfm_conv_fold_input_zp(const int8_t *w, int cout, int cin, int kh, int kw, int32_t zp_in,
                            const int32_t *bias, int32_t *bias_out) {
  if (cout < 0 || cin < 0 || kh < 0 || kw < 0) return NNFM_ERR_RANGE;
  if (cout == 0) return NNFM_OK;
  size_t taps = (size_t)cin * kh * kw; /* weights per output channel (OIHW) */
  if (!bias_out || (taps && !w)) return NNFM_ERR_NULL;
  for (int n = 0; n < cout; n++) {
    uint32_t sum = 0; /* mod 2^32 */
    for (size_t t = 0; t < taps; t++) sum += (uint32_t)(int32_t)w[(size_t)n * taps + t];
    uint32_t b = bias ? (uint32_t)bias[n] : 0u;
    bias_out[n] = i32_of_u32(b - (uint32_t)zp_in * sum);
  }
  return NNFM_OK;
}

/* ---- pooling --------------------------------------------------------------- */

static int pool_ref(const nnfm_pool_args *p, const int8_t *x, int8_t *y, int avg) {
  if (!p) return NNFM_ERR_NULL;
  int OH, OW;
  int st = nnfm_window_check(&p->win, 1, &OH, &OW);
  if (st != NNFM_OK) return st;
  if (!x || !y) return NNFM_ERR_NULL;
  if (!in_int8(p->lo) || !in_int8(p->hi) || p->lo > p->hi) return NNFM_ERR_RANGE;
  if ((int64_t)p->win.kh * p->win.kw > NNFM_POOL_TAPS_MAX) return NNFM_ERR_RANGE;

  const nnfm_window *g = &p->win;
  const int B = g->b, C = g->c, H = g->h, W = g->w;
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
          int32_t mx = INT8_MIN, sum = 0, count = 0;
          for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
              int iy = oy * g->sh - g->ph + ky, ix = ox * g->sw - g->pw + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue; /* padding: skipped */
              int32_t v = x[(((size_t)b * C + c) * H + iy) * W + ix];
              if (v > mx) mx = v;
              sum += v; /* |sum| <= 128 * 2^23: no overflow */
              count++;
            }
          int32_t q = avg ? nnfm_avg_round(sum, count) : mx; /* count >= 1: checked */
          y[(((size_t)b * C + c) * OH + oy) * OW + ox] = (int8_t)nnfm_clamp(q, p->lo, p->hi);
        }
  return NNFM_OK;
}

int nnfm_maxpool_ref(const nnfm_pool_args *p, const int8_t *x, int8_t *y) { return pool_ref(p, x, y, 0); }

int nnfm_avgpool_ref(const nnfm_pool_args *p, const int8_t *x, int8_t *y) { return pool_ref(p, x, y, 1); }
