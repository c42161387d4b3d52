/*
 * nnfm.h - the functional model of the nnfpga device: the ONE definition of
 * the numeric contract (docs/numerics.md) and of the GEMM engine's behaviour
 * without cycles (docs/engine.md). The RTL must match it bit for bit; the host
 * library calls the same functions for quantization-aware training.
 *
 * Ownership: every function borrows its pointer arguments for the duration of
 * the call; nothing is retained. Functions that can fail return an nnfm_status
 * (0 = success, negative = error) and never write partial results on error.
 */
#ifndef NNFM_H
#define NNFM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  NNFM_OK = 0,
  NNFM_ERR_NULL = -1,   /* a required pointer is NULL */
  NNFM_ERR_RANGE = -2,  /* a parameter is outside its documented range */
  NNFM_ERR_SHAPE = -3,  /* sizes do not fit the buffers */
} nnfm_status;

/* Human-readable message for a status code (static string, never NULL). */
const char *nnfm_strerror(int status);

/* Range of the requantization shift (k = 31 - shift runs over 1..62). */
#define NNFM_SHIFT_MIN (-31)
#define NNFM_SHIFT_MAX 30

/* ---- numeric contract (docs/numerics.md) ---------------------------------- */

/* Single-rounding requantization (TFLite / CMSIS-NN):
 *   k = 31 - shift (1 <= k <= 62), y = (acc * m0 + (1 << (k-1))) >> k,
 *   return clamp(y + zp, lo, hi).
 * The product is int64 (exact), the shift arithmetic (ties round toward
 * +infinity), y + zp and the clamp are done in int64 before narrowing.
 * Preconditions (checked by nnfm_requant_params_valid): 0 <= m0 < 2^31,
 * -31 <= shift <= 30, lo <= hi. Parameters outside them give a defined
 * result: invalid (m0, shift) act as m0 = 0 (so the result is
 * clamp(zp, lo, hi)); lo > hi gives lo when y + zp < lo, else hi. */
int32_t nnfm_requantize(int32_t acc, int32_t m0, int shift, int32_t zp,
                        int32_t lo, int32_t hi);

/* The requantizer's two roundings, chosen per instruction (GEMM and CONV
 * flag TFL_ROUND, EW's TFL_ROUND bit; INFO feature FEAT_TFL_ROUND):
 *   NNFM_ROUND_SINGLE  nnfm_requantize above: one rounding of acc * m0 / 2^k
 *                      (TFLITE_SINGLE_ROUNDING, CMSIS-NN)
 *   NNFM_ROUND_TFLITE  TFLite's default reference kernels
 *                      (MultiplyByQuantizedMultiplier: gemmlowp's
 *                      SaturatingRoundingDoublingHighMul, then
 *                      RoundingDivideByPOT): for shift >= 0 the same single
 *                      rounding; for shift < 0, with r = -shift,
 *                        h = (acc * m0 + 2^30) >> 31       (ties toward +inf)
 *                        y = (h + 2^(r-1) - (h < 0)) >> r  (ties away from 0)
 *                      then clamp(y + zp, lo, hi) as above.
 * Any other value of round acts as NNFM_ROUND_SINGLE. docs/numerics.md,
 * "TFLite's double rounding", shows why this is TFLite's arithmetic exactly
 * (including for shift > 0, where TFLite shifts acc left first). */
enum { NNFM_ROUND_SINGLE = 0, NNFM_ROUND_TFLITE = 1 };
int32_t nnfm_requantize_r(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t lo,
                          int32_t hi, int rnd);

/* 1 when (m0, shift) are in range, else 0. */
int nnfm_requant_params_valid(int32_t m0, int shift);

/* Decompose a positive real multiplier into (m0, shift) with
 * real ~= m0 * 2^(shift - 31), m0 in [2^30, 2^31), as TFLite's
 * QuantizeMultiplier does (frexp, m0 = round(q * 2^31) with ties away from
 * zero, q rounding up to 1 renormalised). real == 0 gives m0 = 0, shift = 0.
 * A multiplier too small for shift = -31 (real < 2^-32 after rounding) is
 * flushed to m0 = 0, shift = 0 and returns NNFM_OK, like TFLite: this is
 * exact, since |acc * real| < 1/2 for every int32 acc and y rounds to 0.
 * Returns NNFM_ERR_RANGE if real < 0, not finite (NaN, inf), or too large
 * (real >= 2^30 after rounding, i.e. shift > 30); NNFM_ERR_NULL for NULL
 * outputs. Outputs are untouched on error. */
int nnfm_quantize_multiplier(double real, int32_t *m0, int *shift);

/* Quantize a real value: q = clamp(round(x / scale) + zp, lo, hi), where
 * round is to nearest with ties away from zero (TFLite's quantizer, C's
 * round()), computed in double. The one rule by which the host turns reals
 * into integers: inputs, weights (zp = 0), int32 biases and LUT entries.
 * scale must be > 0 and finite (else the result is clamp(zp, lo, hi));
 * NaN x gives clamp(zp, lo, hi); values beyond the int64 range saturate. */
int32_t nnfm_quantize_real(double x, double scale, int32_t zp, int32_t lo, int32_t hi);

/* The input quantizer of images with values in [0, 1] (pixels / 255):
 * q = round(x * 255) - 128 covers -128..127 and is exact for 8-bit pixels.
 * The device takes such inputs as they are; the host quantizes with these. */
#define NNFM_PIXEL_SCALE (1.0 / 255.0)
#define NNFM_PIXEL_ZP (-128)

/* Clamp to [lo, hi]. */
int32_t nnfm_clamp(int32_t x, int32_t lo, int32_t hi);

/* Activation lookup table: lut[(uint8_t)x]. */
int8_t nnfm_lut(const int8_t lut[256], int8_t x);

/* Wrapping int32 addition (two's complement, mod 2^32): the accumulator rule. */
int32_t nnfm_acc_add(int32_t acc, int32_t x);

/* The engine's vector stage for one lane: requantize with rounding `rnd`
 * (NNFM_ROUND_*), add zp, clamp to [lo, hi], then lut[(uint8_t)y] when
 * lut != NULL. lo and hi must be in int8 range (the result is then int8
 * without further narrowing). */
int8_t nnfm_vector_stage(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t lo,
                         int32_t hi, const int8_t *lut, int rnd);

/* Input zero point. The engine has none: the host folds it into the bias,
 *   bias_out[n] = bias[n] - zp_in * sum_k w[k][n]          (mod 2^32)
 * so that bias_out[n] + sum_k a[k] * w[k][n] == bias[n] + sum_k (a[k] - zp_in) * w[k][n]
 * exactly in wrapping int32 arithmetic. w: K x N row-major; bias may be NULL
 * (zero); bias_out may alias bias. NNFM_ERR_RANGE if k or n < 0,
 * NNFM_ERR_NULL if a needed pointer is NULL. */
int nnfm_fold_input_zp(const int8_t *w, int k, int n, int32_t zp_in, const int32_t *bias,
                       int32_t *bias_out);

/* ---- elementwise int8 ops: TFLite's ADD, SUB, MUL and requantize ---------- */

/* The vector unit's elementwise ops on int8 tensors (docs/numerics.md,
 * "Elementwise ops"), TFLite's reference kernels with single rounding
 * (nnfm_requantize's rule, applied through the same function):
 *   ia = a - zp_a, ib = b - zp_b                          (-255..255)
 *   ADD, SUB  (TFLite's left_shift 20): with (m0_s, shift_s) scaling the
 *             input of the smaller scale and 0.5 the other (a_small says
 *             which is which):
 *               sa = MBQM(ia << 20, m_a, s_a), sb = MBQM(ib << 20, m_b, s_b)
 *               y  = MBQM(sa + sb, m0, shift)      (SUB: sa - sb)
 *   MUL       y  = MBQM(ia * ib, m0, shift)
 *   MAP       y  = MBQM(ia, m0, shift)                    (b unused)
 *   out = clamp(y + zp, lo, hi), then lut[(uint8_t)out] when lut != NULL
 * where MBQM(x, m, s) = (x * m + 2^(30-s)) >> (31-s) (nnfm_requantize
 * without zero point and clamp; with round = NNFM_ROUND_TFLITE each MBQM is
 * nnfm_requantize_r's double rounding, TFLite's default kernels). The 0.5
 * of ADD's larger-scale input is exact in TFLite (its scale over twice itself), so one multiplier per op
 * names both inputs; MBQM(ia << 20, 2^30, 0) is ia << 19. */
enum { NNFM_EW_ADD = 0, NNFM_EW_SUB = 1, NNFM_EW_MUL = 2, NNFM_EW_MAP = 3 };
#define NNFM_EW_LEFT_SHIFT 20 /* TFLite's int8 ADD / SUB left shift */

typedef struct {
  int op;                 /* NNFM_EW_* */
  int32_t zp_a, zp_b;     /* input zero points, int8 */
  int32_t m0_s;           /* ADD / SUB: the smaller-scale input's multiplier, 0 <= m0_s < 2^31 */
  int shift_s;            /* and its shift, -31..0 (a multiplier <= 0.5) */
  int a_small;            /* 1: (m0_s, shift_s) scales a and 0.5 scales b; 0: the reverse */
  int32_t m0;             /* output multiplier, as nnfm_requantize's */
  int shift;
  int32_t zp, lo, hi;     /* output zero point and clamp, int8, lo <= hi */
  int round;              /* NNFM_ROUND_*: every MBQM of the op rounds this way */
} nnfm_ew_params;

/* NNFM_OK when the parameters are in range (op, int8 fields, lo <= hi,
 * 0 <= m0_s < 2^31, -31 <= shift_s <= 0, a_small 0 or 1, round a NNFM_ROUND_*,
 * (m0, shift) valid),
 * NNFM_ERR_RANGE otherwise, NNFM_ERR_NULL for NULL. */
int nnfm_ew_params_check(const nnfm_ew_params *p);

/* One output element (b is ignored by MAP). Parameters outside their ranges
 * give a defined result (invalid multipliers act as 0). */
int8_t nnfm_ew(const nnfm_ew_params *p, int8_t a, int8_t b, const int8_t *lut);

/* The parameters from real scales, as TFLite's Prepare computes them:
 *   ADD / SUB: twice = 2 * max(s_a, s_b); the smaller input's multiplier
 *              s_small / twice (quantized with shift <= 0), the output's
 *              twice / (2^20 * s_out); a_small = s_a < s_b
 *   MUL:       s_a * s_b / s_out
 *   MAP:       s_a / s_out                              (s_b, zp_b unused)
 * zp_* are int8, lo <= hi int8. NNFM_ERR_RANGE for a scale that is not
 * positive and finite or a multiplier nnfm_quantize_multiplier refuses. */
int nnfm_ew_prepare(int op, double s_a, int32_t zp_a, double s_b, int32_t zp_b, double s_out,
                    int32_t zp, int32_t lo, int32_t hi, nnfm_ew_params *p);

/* ---- plain GEMM on row-major matrices ------------------------------------- */

typedef struct {
  int m, k, n;          /* sizes, each >= 0 */
  int32_t out_zp;       /* output zero point, -128..127 */
  int32_t lo, hi;       /* clamp bounds, -128 <= lo <= hi <= 127 */
  const int8_t *lut;    /* NULL: no LUT; else 256 entries applied after clamp */
  int round;            /* NNFM_ROUND_* (0: single) */
} nnfm_gemm_args;

/* y[m][n] = f(requantize(bias[n] + sum_k a[m][k] * w[k][n], m0[n], shift[n]))
 * a: M x K row-major, w: K x N row-major, bias/m0/shift: N, y: M x N.
 * Accumulation wraps mod 2^32. Pointers may be NULL only when the matrices
 * they point to are empty. Returns NNFM_OK or an error (y untouched):
 * NNFM_ERR_NULL, or NNFM_ERR_RANGE for a negative size, out_zp / lo / hi
 * outside int8, lo > hi, or an invalid (m0[n], shift[n]). */
int nnfm_gemm(const nnfm_gemm_args *g, const int8_t *a, const int8_t *w,
              const int32_t *bias, const int32_t *m0, const int8_t *shift,
              int8_t *y);

/* ---- the engine: buffers and commands (docs/engine.md) -------------------- */

typedef struct {
  int rows, cols;        /* array size (powers of two, rows == cols) */
  uint32_t act_words;    /* ACT depth, words of rows bytes */
  uint32_t w_words;      /* W depth, words of cols bytes */
  uint32_t p_words;      /* P entries per lane */
  uint32_t acc_depth;    /* accumulator depth (largest M block) */
  uint32_t luts;         /* resident activation LUTs, 1..NNFM_LUTS_MAX (0 reads as 1:
                            configurations written before there were several) */
} nnfm_config;

/* The most activation LUTs a device holds (the 3-bit LUT select of GEMM,
 * CONV and EW), and the LUT count of a configuration (0 counts as 1). */
#define NNFM_LUTS_MAX 8
uint32_t nnfm_config_luts(const nnfm_config *cfg);

/* The default simulation configuration (matches rtl defaults). */
nnfm_config nnfm_config_default(void);
/* NNFM_OK if the configuration is one the RTL accepts, else NNFM_ERR_RANGE
 * (NNFM_ERR_NULL for NULL). The RTL's rules (rtl/core/nnf_gemm.v,
 * docs/engine.md): rows a power of two in 2..64, cols == rows; act_words and
 * w_words powers of two in 2..2^24; p_words a power of two in 2..2^16;
 * acc_depth a power of two in 2..2^15; luts 0..NNFM_LUTS_MAX. */
int nnfm_config_check(const nnfm_config *cfg);

typedef struct {
  uint32_t m, k, n;                    /* 0..65535 */
  uint32_t a_base, w_base, p_base, o_base;
  int32_t zp, lo, hi;                  /* int8 range, lo <= hi */
  int lut;                             /* 0 or 1 */
  uint32_t lut_sel;                    /* which LUT, < the configuration's luts */
  int round;                           /* NNFM_ROUND_* (the TFL_ROUND flag) */
} nnfm_cmd;

/* Engine state: the buffer images, laid out exactly as the RTL holds them. */
typedef struct {
  nnfm_config cfg;
  uint8_t *act;    /* act_words * rows bytes */
  uint8_t *w;      /* w_words * cols bytes */
  int32_t *bias;   /* p_words * cols, index entry * cols + lane */
  int32_t *m0;     /* same */
  int8_t *shift;   /* same */
  int8_t lut[NNFM_LUTS_MAX * 256]; /* LUT i at lut + 256*i (region LUT's bytes) */
  int32_t *accum;  /* acc_depth * cols: the accumulator memories (CONV's block sums) */
} nnfm_engine;

/* Allocate zeroed buffers; NULL on bad config or out of memory. */
nnfm_engine *nnfm_engine_create(const nnfm_config *cfg);
void nnfm_engine_destroy(nnfm_engine *e);

/* Host-port byte access, same regions and byte addresses as the RTL
 * (region 0 = ACT, 1 = W, 2 = P, 3 = LUT). Returns NNFM_ERR_RANGE for an
 * address outside the region. Reading P bytes 9..15 of an entry gives 0. */
int nnfm_engine_write_byte(nnfm_engine *e, int region, uint32_t addr, uint8_t v);
int nnfm_engine_read_byte(const nnfm_engine *e, int region, uint32_t addr, uint8_t *v);
/* Size in bytes of host-port region 0..3 (ACT, W, P, LUT) of a configuration;
 * 0 for any other region. The one definition of the regions' sizes. */
uint64_t nnfm_region_bytes(const nnfm_config *cfg, int region);
/* len bytes from addr: the exact bytes a host sends to fill that range of
 * the device (nothing written on error). */
int nnfm_engine_read_bytes(const nnfm_engine *e, int region, uint32_t addr, uint8_t *buf, size_t len);

/* Check a command against the configuration: sizes, parameter ranges, and
 * that every word it reads or writes lies inside its buffer (no wrapping).
 * NNFM_OK, NNFM_ERR_RANGE or NNFM_ERR_SHAPE. In this order:
 *   NNFM_ERR_NULL   e or c is NULL
 *   NNFM_ERR_RANGE  m, k or n > 65535; zp, lo or hi outside int8; lo > hi;
 *                   lut not 0 or 1; lut_sel >= the configuration's luts;
 *                   round not a NNFM_ROUND_*
 *   (M == 0 or N == 0: the command touches nothing and is accepted)
 *   NNFM_ERR_SHAPE  with KT = max(1, ceil(K/rows)), NT = ceil(N/cols):
 *                   ACT read  a_base .. a_base + KT*M - 1,
 *                   ACT write o_base .. o_base + NT*M - 1,
 *                   W read    w_base .. w_base + NT*KT*rows - 1,
 *                   P entries p_base .. p_base + NT - 1 must lie inside their
 *                   buffers, and the ACT read and write ranges must not overlap
 *   NNFM_ERR_RANGE  a used P entry (lane n < N) has invalid (m0, shift) */
int nnfm_engine_check(const nnfm_engine *e, const nnfm_cmd *c);

/* Execute one command on the buffer images, exactly as the RTL does
 * (ragged lanes masked, padded output lanes written as zero). Also returns
 * the useful MAC count the RTL's cnt_macs would add (may be NULL).
 * Refuses (buffers untouched) what nnfm_engine_check refuses. */
int nnfm_engine_gemm(nnfm_engine *e, const nnfm_cmd *c, uint64_t *macs);

/* Packing helpers: place row-major matrices into the engine's layouts.
 * They check bounds like nnfm_engine_check (NNFM_ERR_SHAPE, nothing written)
 * and write whole words: padding bytes (k >= K, n >= N) are written as 0.
 * put_act writes nnfm_act_words(m, k) words (so K = 0 writes M zero words:
 * the words a K = 0 command reads); get_act reads the m x k matrix back from
 * the same region. put_params refuses invalid (m0, shift) with
 * NNFM_ERR_RANGE; padding lanes get bias = m0 = shift = 0. A NULL matrix is
 * allowed only when it is empty. */
int nnfm_engine_put_act(nnfm_engine *e, uint32_t base, const int8_t *a, uint32_t m, uint32_t k);
int nnfm_engine_get_act(const nnfm_engine *e, uint32_t base, int8_t *a, uint32_t m, uint32_t k);
int nnfm_engine_put_weights(nnfm_engine *e, uint32_t base, const int8_t *w, uint32_t k, uint32_t n);
int nnfm_engine_put_params(nnfm_engine *e, uint32_t base, const int32_t *bias,
                           const int32_t *m0, const int8_t *shift, uint32_t n);

/* Word counts a layer needs (for the layouts above), with
 * KT = max(1, ceil(k/rows)), NT = ceil(n/cols):
 *   act_words = KT * m   (an output region: nnfm_act_words(cfg, m, n) >= NT * m)
 *   w_words   = NT * KT * rows
 *   p_entries = NT
 * Saturate at UINT32_MAX (more than any buffer holds). */
uint32_t nnfm_act_words(const nnfm_config *cfg, uint32_t m, uint32_t k);
uint32_t nnfm_w_words(const nnfm_config *cfg, uint32_t k, uint32_t n);
uint32_t nnfm_p_entries(const nnfm_config *cfg, uint32_t n);

/* ---- convolution and pooling (docs/conv.md, docs/numerics.md) ------------- */

/* Average pooling's rounding (TFLite's reference kernels, integer_ops
 * AveragePool): with count >= 1 the in-bounds taps and sum their int32 sum,
 *   sum > 0 ? (sum + count/2) / count : (sum - count/2) / count
 * in C division (truncation toward zero): the mean rounded to nearest, ties
 * away from zero. count <= 0 gives 0 (the engine refuses empty windows). */
int32_t nnfm_avg_round(int32_t sum, int32_t count);

/* Largest kernel the engine takes (KH, KW), the largest stride and padding. */
#define NNFM_KERNEL_MAX 7
#define NNFM_STRIDE_MAX 4
#define NNFM_PAD_MAX 7
/* The walk's counters (16 bits, as a GEMM's M): a CONV's output rows
 * M = OH*OW*B and K tiles KH*KW*CT, a POOL's M, at most this (else
 * NNFM_ERR_SHAPE). No buffer of today's configurations (ACT <= 2^15 words,
 * W <= 2^14) holds more, so the limit only names what the RTL counts. */
#define NNFM_WALK_MAX 65535u
/* Largest window of the pooling references (KH*KW): sums stay exact in int32. */
#define NNFM_POOL_TAPS_MAX (1 << 23)

/* A window walk over a batch of feature maps, NCHW: B images of C channels,
 * H x W pixels; a KH x KW kernel at stride (SH, SW) with PH rows of padding
 * above and PH + EH below, PW columns left and PW + EW right. The output is
 * OH x OW with
 *   OH = (H + 2*PH + EH - KH) / SH + 1,   OW = (W + 2*PW + EW - KW) / SW + 1
 * (the floor rule). EH = EW = 0 is PyTorch's symmetric padding; TFLite's
 * SAME padding is PH = total/2 with EH = total % 2 (the odd row below), its
 * VALID padding all zero. Output pixel (oy, ox), tap (ky, kx) reads input
 * pixel (oy*SH - PH + ky, ox*SW - PW + kx); outside the map it is a padding
 * tap. Fields left 0 in an initializer mean no extra padding. */
typedef struct {
  int b, c, h, w;              /* input: batch, channels, height, width */
  int kh, kw, sh, sw, ph, pw;  /* kernel, stride, padding above / left */
  int eh, ew;                  /* extra padding below / right (beyond PH / PW) */
} nnfm_window;

/* NNFM_OK when the walk is well formed, with the output size in *oh, *ow
 * (either may be NULL): every size >= 1, strides >= 1, padding >= 0, and the
 * kernel no larger than the padded input (KH <= H + 2*PH + EH,
 * KW <= W + 2*PW + EW);
 * with need_tap != 0 also every window has at least one in-bounds tap (a
 * pooling window of padding only has no value). NNFM_ERR_NULL for w NULL,
 * NNFM_ERR_RANGE otherwise. No limit on the sizes here beyond int: the
 * engine's limits (NNFM_KERNEL_MAX ...) are checked by the engine. */
int nnfm_window_check(const nnfm_window *w, int need_tap, int *oh, int *ow);

typedef struct {
  nnfm_window win;    /* input geometry; win.c = Cin */
  int n;              /* output channels Cout >= 1 */
  int32_t zp_in;      /* input zero point, the value of padding taps, int8 */
  int32_t out_zp;     /* output zero point, int8 */
  int32_t lo, hi;     /* clamp, int8, lo <= hi */
  const int8_t *lut;  /* NULL or 256 entries applied after the clamp */
  int round;          /* NNFM_ROUND_* (0: single) */
  int groups;         /* 0 or 1: a full conv; G: grouped (Cin and Cout multiples of G; a
                         depthwise conv is G = Cin, Cout = G * multiplier) */
} nnfm_conv_args;

/* Direct int8 convolution, the numeric definition of a conv layer:
 *   acc[b][n][oy][ox] = bias[n] + sum_{c,ky,kx} (x'[b][g*Cg + c][iy][ix] - zp_in) * w[n][c][ky][kx]
 *   y[b][n][oy][ox]   = nnfm_vector_stage(acc, m0[n], shift[n], out_zp, lo, hi, lut, round)
 * with iy = oy*SH - PH + ky, ix = ox*SW - PW + kx, x' = x inside the map and
 * zp_in in the padding (TFLite: padding is the real 0.0), the sum wrapping as
 * nnfm_acc_add; c runs over the Cg = Cin / G channels of output n's group
 * g = n / (Cout / G) (G = groups: 1 for a full conv, where Cg = Cin; Cin for
 * a depthwise conv, TFLite's DepthwiseConvPerChannel, which rounds as its
 * conv does). bias is NOT folded (see nnfm_conv_fold_input_zp, with Cg).
 * x: B x Cin x H x W, w: Cout x Cg x KH x KW (OIHW), bias/m0/shift: Cout,
 * y: B x Cout x OH x OW, all row-major. Errors (y untouched): NNFM_ERR_NULL,
 * NNFM_ERR_RANGE (nnfm_window_check with need_tap 0, n < 1, zp_in / out_zp /
 * lo / hi outside int8, lo > hi, an invalid (m0[n], shift[n]), groups < 0 or
 * not dividing Cin and Cout). */
int nnfm_conv2d_ref(const nnfm_conv_args *a, const int8_t *x, const int8_t *w,
                    const int32_t *bias, const int32_t *m0, const int8_t *shift, int8_t *y);

/* The input zero point of a conv folded into its bias, as the device needs it
 * (it feeds zp_in into padding taps and has no zero point of its own):
 *   bias_out[n] = bias[n] - zp_in * sum_{c < Cin, ky, kx} w[n][c][ky][kx]     (mod 2^32)
 * over every tap of the real channels: then
 *   bias_out[n] + sum x' * w == bias[n] + sum (x' - zp_in) * w   exactly.
 * w: Cout x Cin x KH x KW; bias may be NULL (zero), bias_out may alias it.
 * NNFM_ERR_RANGE for a negative size, NNFM_ERR_NULL for a needed NULL. */
int nnfm_conv_fold_input_zp(const int8_t *w, int cout, int cin, int kh, int kw, int32_t zp_in,
                            const int32_t *bias, int32_t *bias_out);

typedef struct {
  nnfm_window win;    /* input geometry; the output has win.c channels too */
  int32_t lo, hi;     /* clamp, int8, lo <= hi */
} nnfm_pool_args;

/* Pooling, the numeric definition (TFLite's integer reference kernels): per
 * output value the in-bounds taps of its window (padding taps are skipped,
 * not zero points), then
 *   max: clamp(max of the taps, lo, hi)
 *   avg: clamp(nnfm_avg_round(sum of the taps, number of taps), lo, hi)
 * Input and output share scale and zero point (TFLite's int8 pooling needs
 * it), so nothing is requantized. x: B x C x H x W, y: B x C x OH x OW.
 * Errors (y untouched): NNFM_ERR_NULL; NNFM_ERR_RANGE for a window
 * nnfm_window_check(.., need_tap 1, ..) refuses (so no window is empty),
 * lo / hi outside int8, lo > hi, or more than NNFM_POOL_TAPS_MAX taps in a
 * window (so the int32 sum is exact). Global average pooling is
 * nnfm_avgpool_ref with KH = H, KW = W, stride 1, no padding. */
int nnfm_maxpool_ref(const nnfm_pool_args *p, const int8_t *x, int8_t *y);
int nnfm_avgpool_ref(const nnfm_pool_args *p, const int8_t *x, int8_t *y);

/* ---- the engine's conv and pool commands (docs/conv.md) ------------------ */

/* CONV: a conv layer on the array, the GEMM with M = OH*OW*B output rows,
 * N = Cout, K tiles kt = (ky*KW + kx)*CT + ct, CT = ceil(Cin/rows). The
 * input feature map X[b][c][y][x] is in ACT at
 *   word a_base + ((ct*H + y)*W + x)*B + b,  lane c % rows   (ct = c / rows)
 * and the output is written with the GEMM's rule o_base + nt*M + m,
 * m = (oy*OW + ox)*B + b: the same layout for the next layer. Weights in W
 * as a GEMM's W[k][n] with k = kt*rows + (c % rows); P as a GEMM's. Lanes of
 * channels >= Cin are masked to zero as a GEMM masks k >= K; padding taps
 * feed zp_in into every other lane. H = W = KH = KW = 1 is the GEMM
 * (M = B, K = Cin). */
typedef struct {
  uint32_t cin, h, w, b;         /* input: channels 1..65535, H, W, B 1..1024 */
  uint32_t n;                    /* output channels 1..65535 */
  uint32_t kh, kw;               /* 1..NNFM_KERNEL_MAX */
  uint32_t sh, sw;               /* 1..NNFM_STRIDE_MAX */
  uint32_t ph, pw;               /* 0..NNFM_PAD_MAX, above / left */
  uint32_t eh, ew;               /* 0 or 1: one more padding row below / column right */
  uint32_t a_base, w_base, p_base, o_base;
  int32_t zp_in;                 /* padding value, int8 */
  int32_t zp, lo, hi;            /* output zero point and clamp, int8, lo <= hi */
  int lut;                       /* 0 or 1 */
  uint32_t pool2;                /* 0 or 1: fused 2x2 max pooling, stride 2 (below) */
  uint32_t lut_sel;              /* which LUT, as nnfm_cmd's */
  int round;                     /* NNFM_ROUND_*, as nnfm_cmd's */
} nnfm_conv_cmd;

/* CONV with pool2 = 1 (docs/conv.md, "Fused 2x2 max pooling"): the conv's
 * int8 output map (the vector stage's bytes, N x OH x OW, exactly what the
 * CONV writes with pool2 = 0) max-pooled 2x2 at stride 2 with the floor rule
 * (PyTorch's MaxPool2d(2)): N x OHp x OWp with OHp = OH/2, OWp = OW/2, written
 * in the map layout, word o_base + nt*Mp + (py*OWp + px)*B + b with
 * Mp = OHp*OWp*B, lanes of channels >= N zero. Only the 4*Mp conv rows that
 * fall in a window are computed. The walk's rows run in the order
 *   (py, px, b, wy, wx),   oy = 2*py + wy, ox = 2*px + wx   (wx fastest)
 * and each 4 consecutive rows' vector-stage outputs are reduced by a lane-wise
 * signed max into one output word (the RTL follows this order; blocks of
 * acc_depth rows cut the walk anywhere, the reduction follows the output
 * stream). nnfm_conv_pool2_rows gives the walk's sizes. */
#define NNFM_POOL2_TAPS 4u /* rows a fused pooling window reduces */

/* The fused pooling's output rows per N tile, Mp = (OH/2)*(OW/2)*B, from the
 * conv's output size: the one rule the model, the host and the tests share. */
uint64_t nnfm_conv_pool2_rows(uint32_t oh, uint32_t ow, uint32_t b);
/* The work a (valid) CONV streams through the array, for time bounds (the
 * differential fuzzer's):
 * its rows walked per K tile and N tile (NT * KT * M, M the walk's rows: 4
 * per output row with pool2), its weight tiles in *tiles (NT * KT) and the
 * rows its vector stage requantizes in *vec (NT * M). 0 (and 0s) when its
 * window does not fit. */
uint64_t nnfm_conv_stream_rows(const nnfm_config *cfg, const nnfm_conv_cmd *c, uint64_t *tiles, uint64_t *vec);

enum { NNFM_POOL_MAX = 0, NNFM_POOL_AVG = 1 };

/* POOL: max or average pooling of a feature map in the layout above, the
 * output in the same layout with the same channel count:
 *   word o_base + ((ct*OH + oy)*OW + ox)*B + b,  lane c % rows
 * lanes of channels >= C written as zero. */
typedef struct {
  int op;                        /* NNFM_POOL_MAX or NNFM_POOL_AVG */
  uint32_t c, h, w, b;           /* channels 1..65535, H, W, B 1..1024 */
  uint32_t kh, kw, sh, sw, ph, pw; /* as nnfm_conv_cmd */
  uint32_t eh, ew;               /* as nnfm_conv_cmd */
  uint32_t a_base, o_base;
  int32_t lo, hi;                /* clamp, int8, lo <= hi */
  uint32_t global;               /* 1: the window is the whole H x W map (any size),
                                  * one output pixel; kh = kw = 0, sh = sw = 1,
                                  * ph = pw = eh = ew = 0 */
} nnfm_pool_cmd;

/* Check a CONV against the configuration, in this order:
 *   NNFM_ERR_NULL   e or c NULL
 *   NNFM_ERR_RANGE  a field outside its range above (zero sizes, stride 0,
 *                   a kernel over 7, ...), zp_in / zp / lo / hi outside int8,
 *                   lo > hi, lut or pool2 not 0/1, lut_sel >= luts, round
 *                   not a NNFM_ROUND_*, a kernel larger than the padded input (KH > H + 2*PH + EH or KW > W + 2*PW + EW),
 *                   or with pool2 = 1 OH < 2 or OW < 2
 *   NNFM_ERR_SHAPE  with CT = ceil(Cin/rows), NT = ceil(N/cols), M = OH*OW*B
 *                   (pool2 = 0) or the pooled Mp = (OH/2)*(OW/2)*B (pool2 = 1):
 *                   the walk's rows (M, or 4*Mp with pool2) or K tiles over
 *                   NNFM_WALK_MAX,
 *                   ACT read  a_base .. + CT*H*W*B - 1,
 *                   ACT write o_base .. + NT*M - 1 (NT*Mp with pool2),
 *                   W read    w_base .. + NT*KH*KW*CT*rows - 1,
 *                   P entries p_base .. + NT - 1 inside their buffers, and
 *                   the ACT read and write ranges disjoint
 *   NNFM_ERR_RANGE  a used P lane (n < N) with invalid (m0, shift) */
int nnfm_engine_conv_check(const nnfm_engine *e, const nnfm_conv_cmd *c);

/* Execute a CONV on the buffer images as the RTL walks it (N tiles, M blocks
 * of acc_depth rows, K tiles, rows). *macs (may be NULL): the useful MACs,
 * rows * KH*KW*Cin * N with rows = M, or 4*Mp with pool2 (padding taps are
 * MACs with zp_in). Refuses (buffers untouched) what nnfm_engine_conv_check
 * refuses. */
int nnfm_engine_conv(nnfm_engine *e, const nnfm_conv_cmd *c, uint64_t *macs);

/* Check a POOL, in this order: NNFM_ERR_NULL; NNFM_ERR_RANGE for op not
 * max / avg, a field out of range (as CONV), lo / hi outside int8, lo > hi,
 * a kernel larger than the padded input, or a window with no in-bounds tap;
 * NNFM_ERR_SHAPE for ACT read a_base .. + CT*H*W*B - 1 or ACT write
 * o_base .. + CT*OH*OW*B - 1 outside ACT, or the two sharing a word. */
int nnfm_engine_pool_check(const nnfm_engine *e, const nnfm_pool_cmd *c);
int nnfm_engine_pool(nnfm_engine *e, const nnfm_pool_cmd *c);

/* DWCONV (docs/conv.md, "The depthwise unit"): a depthwise conv (one
 * output channel an input channel: TFLite's DepthwiseConvPerChannel with
 * multiplier 1) on the vector unit, in the map layout above:
 *   acc = bias[c] + sum over the in-map taps (ky, kx) of (x[b][c][iy][ix] - zp_in) * w[c][ky][kx]
 *   y   = nnfm_vector_stage(acc, m0[c], shift[c], zp, lo, hi, NULL, round)
 * with iy = oy*SH - PH + ky, ix = ox*SW - PW + kx; padding taps are skipped
 * (they add nothing; so the bias is the layer's, NOT folded with zp_in as
 * a CONV's). Channel tile ct (CT = ceil(C/rows)) reads
 *   input   word a_base + ((ct*H + iy)*W + ix)*B + b,  lane c % rows
 *   weights word w_base + ct*KH*KW + ky*KW + kx,       lane c % rows
 *   P       entry p_base + ct,                         lane c % rows
 * and writes word o_base + ct*M + m, m = (oy*OW + ox)*B + b (M = OH*OW*B);
 * lanes of channels >= C written 0. Needs rows == cols (a P entry's lanes
 * are the tile's channels). The sum wraps as nnfm_acc_add. */
#define NNFM_DW_KERNEL_MAX 3u
typedef struct {
  uint32_t c, h, w, b;           /* channels 1..65535 (in = out), H, W, B 1..1024 */
  uint32_t kh, kw;               /* 1..NNFM_DW_KERNEL_MAX */
  uint32_t sh, sw;               /* 1..NNFM_STRIDE_MAX */
  uint32_t ph, pw;               /* 0..NNFM_PAD_MAX, above / left */
  uint32_t eh, ew;               /* 0 or 1: one more padding row below / column right */
  uint32_t a_base, w_base, p_base, o_base;
  int32_t zp_in;                 /* input zero point, int8 */
  int32_t zp, lo, hi;            /* output zero point and clamp, int8, lo <= hi */
  int round;                     /* NNFM_ROUND_*, as nnfm_cmd's */
} nnfm_dwconv_cmd;

/* Check a DWCONV, in this order: NNFM_ERR_NULL; NNFM_ERR_RANGE for a field
 * out of range (C 0, a kernel over NNFM_DW_KERNEL_MAX, the rest as CONV),
 * an int8 outside int8, lo > hi, round not a NNFM_ROUND_*, rows != cols, a
 * window nnfm_window_check(.., need_tap 1, ..) refuses (so every window
 * has an in-map tap); NNFM_ERR_SHAPE for M over NNFM_WALK_MAX, ACT read
 * a_base .. + CT*H*W*B - 1 or write o_base .. + CT*M - 1 outside ACT or
 * sharing a word, W w_base .. + CT*KH*KW - 1 or P p_base .. + CT - 1
 * outside theirs; NNFM_ERR_RANGE for a used P lane (c < C) with an invalid
 * (m0, shift). */
int nnfm_engine_dwconv_check(const nnfm_engine *e, const nnfm_dwconv_cmd *c);
/* Execute it (buffers untouched when the check refuses). */
int nnfm_engine_dwconv(nnfm_engine *e, const nnfm_dwconv_cmd *c);
/* W words of a DWCONV's weights: CT*KH*KW (UINT32_MAX on overflow). */
uint32_t nnfm_dwconv_w_words(const nnfm_config *cfg, uint32_t c, uint32_t kh, uint32_t kw);
/* Depthwise weights w[c][ky][kx] (C x KH x KW, row-major) into W at w_base
 * in DWCONV's layout, lanes of channels >= C zero: as put_conv_weights's
 * errors (NNFM_ERR_RANGE also for a kernel over NNFM_DW_KERNEL_MAX). */
int nnfm_engine_put_dw_weights(nnfm_engine *e, uint32_t w_base, const int8_t *w, uint32_t c, uint32_t kh,
                               uint32_t kw);

/* PACK (docs/conv.md, "PACK"): a first layer's few input channels folded
 * into the lanes, so that its conv uses the array's rows. The input is a
 * dense map: B images of H x W pixels of Cin bytes, image after image, in
 * ACT from byte a_base*rows:
 *   X[b][c][y][x]  byte a_base*rows + ((b*H + y)*W + x)*Cin + c
 * The output is a feature map (the layout above) of C' = KW*Cin channels,
 * H rows, OW = (W + 2*PW + EW - KW) / SW + 1 columns: channel kx*Cin + c of
 * pixel (y, ox, b) is X[b][c][y][ox*SW - PW + kx], zp_in outside the row;
 * lanes of channels >= C' are 0. A KH x KW conv of Cin channels (strides
 * SH, SW, padding PH, PW, EH, EW) is then the KH x 1 conv of C' channels
 * (strides SH, 1, padding PH, 0, EH, 0) over the packed map, its weights
 * W'[o][kx*Cin + c][ky][0] = W[o][c][ky][kx]: KH*ceil(C'/rows) K tiles
 * instead of KH*KW*ceil(Cin/rows). */
typedef struct {
  uint32_t cin;                  /* 1..rows */
  uint32_t h, w, b;              /* 1..1024 */
  uint32_t kw, sw, pw, ew;       /* as nnfm_conv_cmd */
  uint32_t a_base, o_base;       /* ACT words */
  int32_t zp_in;                 /* int8: the value of padding columns */
} nnfm_pack_cmd;

/* Check a PACK: NNFM_ERR_NULL; NNFM_ERR_RANGE for Cin outside 1..rows, a
 * field out of range (as CONV), zp_in outside int8, a kernel wider than the
 * padded row, or an output column whose window is padding only (POOL's
 * rule on the 1 x KW window); NNFM_ERR_SHAPE for M = H*OW*B over
 * NNFM_WALK_MAX, or the ACT read a_base .. + ceil(H*W*B*Cin/rows) - 1 (the
 * dense bytes' words, nnfm_dense_words) or the ACT write
 * o_base .. + ceil(C'/rows)*M - 1 outside ACT, or the two sharing a word.
 * (The RTL checks PACK as POOL with C = C', KH = SH = 1, PH = EH = 0.) */
int nnfm_engine_pack_check(const nnfm_engine *e, const nnfm_pack_cmd *c);
int nnfm_engine_pack(nnfm_engine *e, const nnfm_pack_cmd *c);

/* The dense map PACK reads: x (B x C x H x W row-major, PyTorch's NCHW) to
 * bytes base*rows + ((b*H + y)*W + x)*C + c, the rest of the last word
 * 0; nnfm_dense_words(cfg, c, h, w, b) words = ceil(B*H*W*C / rows).
 * NNFM_ERR_SHAPE when they do not fit ACT (nothing written). */
int nnfm_engine_put_dense(nnfm_engine *e, uint32_t base, const int8_t *x, uint32_t b, uint32_t c,
                          uint32_t h, uint32_t w);
uint32_t nnfm_dense_words(const nnfm_config *cfg, uint32_t c, uint32_t h, uint32_t w, uint32_t b);

/* EW (docs/rnn.md): an elementwise op (nnfm_ew) over two int8 tensors of M
 * rows and N channels in the activation layout (word base + (n/rows)*M + m,
 * lane n % rows; CT = ceil(N/rows) tiles, CT*M words each), written in the
 * same layout at o_base, lanes of channels >= N as 0. MAP reads no B. */
typedef struct {
  nnfm_ew_params p;              /* op and numbers */
  uint32_t n, m;                 /* channels and rows, 0..65535 */
  uint32_t a_base, b_base, o_base; /* ACT words */
  int lut;                       /* 0 or 1: apply LUT lut_sel after the clamp */
  uint32_t lut_sel;
} nnfm_ew_cmd;

/* Check an EW, in this order: NNFM_ERR_NULL; NNFM_ERR_RANGE for parameters
 * nnfm_ew_params_check refuses, n or m over 65535, lut not 0/1, lut_sel >=
 * luts; (M == 0 or N == 0: accepted, touches nothing); NNFM_ERR_SHAPE for an
 * operand range (A; B unless MAP; O: CT*M words each) outside ACT, or O
 * sharing a word with A or B without being the same range (in place is
 * allowed: each word is read before it is written). */
int nnfm_engine_ew_check(const nnfm_engine *e, const nnfm_ew_cmd *c);
int nnfm_engine_ew(nnfm_engine *e, const nnfm_ew_cmd *c);

/* ROW (docs/attention.md): a row-wise op over an int8 tensor of M rows and
 * N channels in the activation layout (as EW's: row m is the CT words
 * base + ct*M + m), written in the same layout at o_base, lanes of channels
 * >= N as 0. SOFTMAX: each row through nnfm_softmax with the exp table in
 * LUTs 4*tbl .. 4*tbl+3 (entry i: byte b at index i of LUT 4*tbl+b, little
 * endian, bit 31 cleared: 0 <= entry <= INT32_MAX, as nnfm_softmax_table
 * writes them). LAYERNORM: each row (a token of d = N channels) through
 * nnfm_layernorm_row and nnfm_layernorm_elem (nnfm_attn.h) with zp_in,
 * eps_q, zp_out and channel j's parameters from lane j % cols of P entry
 * p_base + j / cols: bias, m0 (bit 31: gamma's sign, -1 when set; the
 * multiplier is bits 30..0) and shift (tbl is not used). Rows are done one
 * after the other, each read whole before it is written (in place is
 * allowed). */
#define NNFM_ROW_SOFTMAX 0
#define NNFM_ROW_LAYERNORM 1
#define NNFM_ROW_N_MAX 4095
#define NNFM_ROW_LN_N_MAX 1024
#define NNFM_ROW_LN_EPS_MAX ((int64_t)1 << 62)
typedef struct {
  int op;                        /* NNFM_ROW_* */
  int tbl;                       /* 0 or 1: the table's four LUTs (SOFTMAX) */
  uint32_t n, m;                 /* channels (row length) and rows */
  uint32_t a_base, o_base;       /* ACT words */
  int32_t zp_in, zp_out;         /* LAYERNORM: int8 */
  int64_t eps_q;                 /* LAYERNORM: 0 .. 2^62 */
  uint32_t p_base;               /* LAYERNORM: P entry */
} nnfm_row_cmd;

/* Check a ROW, in this order: NNFM_ERR_NULL; NNFM_ERR_RANGE for an unknown
 * op, tbl not 0/1, m over 65535; SOFTMAX: 4*(tbl+1) > luts, n over
 * NNFM_ROW_N_MAX; LAYERNORM: n over NNFM_ROW_LN_N_MAX, eps_q outside 0 ..
 * 2^62, a zero point outside int8; (M == 0 or N == 0: accepted, touches
 * nothing); NNFM_ERR_SHAPE for A or O (CT*M words) outside ACT, O sharing
 * a word with A without being the same range, or (LAYERNORM) the CT P
 * entries outside P. */
int nnfm_engine_row_check(const nnfm_engine *e, const nnfm_row_cmd *c);
int nnfm_engine_row(nnfm_engine *e, const nnfm_row_cmd *c);

/* The exp table of LUTs 4*tbl .. 4*tbl+3 as ROW reads it (tbl in range). */
void nnfm_engine_row_table(const nnfm_engine *e, int tbl, int32_t table[256]);

/* ACTW (docs/attention.md): an int8 tensor A of M rows and N channels in the
 * activation layout (row m is the words a_base + ct*M + m) becomes the
 * weights B of a GEMM, written into W in the weight layout (engine.md):
 *   tr = 0: B = A,   K = M, N' = N   (P V: V as it lies)
 *   tr = 1: B = A^T, K = N, N' = M   (Q K^T)
 * every word of the NT' * KT * rows words at w_base (NT' = ceil(N' / cols),
 * KT = ceil(K / rows)), entries outside A (k >= K or n >= N') written 0.
 * With sum, the biases of P entries p_base .. p_base + NT' - 1 become
 * -za * sum_k B[k][n] (lanes n >= N': 0), the GEMM's A zero point folded
 * in (nnfm_matmul_act's za); their m0 and shift are left as they are.
 * (A word of A and a word of B are both rows == cols bytes.) */
typedef struct {
  int tr;                        /* 0 or 1: B = A^T */
  int sum;                       /* 0 or 1: write the biases */
  int32_t za;                    /* -128 .. 127 */
  uint32_t n, m;                 /* A's channels and rows */
  uint32_t a_base, w_base, p_base;
} nnfm_actw_cmd;

/* Check an ACTW, in this order: NNFM_ERR_NULL; NNFM_ERR_RANGE for tr or
 * sum not 0/1, za outside int8, n or m over 65535; (M == 0 or
 * N == 0: accepted, touches nothing); NNFM_ERR_SHAPE for A (ceil(N / rows)
 * * M words) outside ACT, B (ceil(N / rows) * ceil(M / rows) * rows words)
 * outside W, or with sum the NT' entries outside P. */
int nnfm_engine_actw_check(const nnfm_engine *e, const nnfm_actw_cmd *c);
int nnfm_engine_actw(nnfm_engine *e, const nnfm_actw_cmd *c);

/* Feature maps and conv weights into the layouts above (bounds checked like
 * the commands: NNFM_ERR_SHAPE, nothing written; NNFM_ERR_RANGE for a size
 * of 0 or over 65535, or a kernel over NNFM_KERNEL_MAX; NNFM_ERR_NULL for a
 * NULL engine or array). get_fmap reads the map back. put_fmap writes nnfm_fmap_words whole words (lanes of channels
 * >= C as 0); x is B x C x H x W row-major. put_conv_weights writes
 * nnfm_conv_w_words words from OIHW weights (rows of channels >= Cin and
 * lanes of outputs >= Cout as 0). */
int nnfm_engine_put_fmap(nnfm_engine *e, uint32_t base, const int8_t *x, uint32_t b, uint32_t c,
                         uint32_t h, uint32_t w);
int nnfm_engine_get_fmap(const nnfm_engine *e, uint32_t base, int8_t *x, uint32_t b, uint32_t c,
                         uint32_t h, uint32_t w);
int nnfm_engine_put_conv_weights(nnfm_engine *e, uint32_t base, const int8_t *w, uint32_t cout,
                                 uint32_t cin, uint32_t kh, uint32_t kw);

/* Words (saturating at UINT32_MAX): a feature map, CT*H*W*B with
 * CT = ceil(C/rows); a conv's weights, NT*KH*KW*CT*rows. */
uint32_t nnfm_fmap_words(const nnfm_config *cfg, uint32_t c, uint32_t h, uint32_t w, uint32_t b);
uint32_t nnfm_conv_w_words(const nnfm_config *cfg, uint32_t cout, uint32_t cin, uint32_t kh,
                           uint32_t kw);

#ifdef __cplusplus
}
#endif
#endif /* NNFM_H */
