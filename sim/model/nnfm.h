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

/* The engine's vector stage for one lane: requantize, add zp, clamp to
 * [lo, hi], then lut[(uint8_t)y] when lut != NULL. lo and hi must be in int8
 * range (the result is then int8 without further narrowing). */
int8_t nnfm_vector_stage(int32_t acc, int32_t m0, int shift, int32_t zp, int32_t lo,
                         int32_t hi, const int8_t *lut);

/* Input zero point. The engine has none: the host folds it into the bias,
 *   bias_out[n] = bias[n] - zp_in * sum_k w[k][n]          (mod 2^32)
 * so that bias_out[n] + sum_k a[k] * w[k][n] == bias[n] + sum_k (a[k] - zp_in) * w[k][n]
 * exactly in wrapping int32 arithmetic. w: K x N row-major; bias may be NULL
 * (zero); bias_out may alias bias. NNFM_ERR_RANGE if k or n < 0,
 * NNFM_ERR_NULL if a needed pointer is NULL. */
int nnfm_fold_input_zp(const int8_t *w, int k, int n, int32_t zp_in, const int32_t *bias,
                       int32_t *bias_out);

/* ---- plain GEMM on row-major matrices ------------------------------------- */

typedef struct {
  int m, k, n;          /* sizes, each >= 0 */
  int32_t out_zp;       /* output zero point, -128..127 */
  int32_t lo, hi;       /* clamp bounds, -128 <= lo <= hi <= 127 */
  const int8_t *lut;    /* NULL: no LUT; else 256 entries applied after clamp */
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
} nnfm_config;

/* The default simulation configuration (matches rtl defaults). */
nnfm_config nnfm_config_default(void);
/* NNFM_OK if the configuration is one the RTL accepts, else NNFM_ERR_RANGE
 * (NNFM_ERR_NULL for NULL). The RTL's rules (rtl/core/nnf_gemm.v,
 * docs/engine.md): rows a power of two in 2..64, cols == rows; act_words and
 * w_words powers of two in 2..2^24; p_words a power of two in 2..2^16;
 * acc_depth a power of two in 2..2^15. */
int nnfm_config_check(const nnfm_config *cfg);

typedef struct {
  uint32_t m, k, n;                    /* 0..65535 */
  uint32_t a_base, w_base, p_base, o_base;
  int32_t zp, lo, hi;                  /* int8 range, lo <= hi */
  int lut;                             /* 0 or 1 */
} nnfm_cmd;

/* Engine state: the buffer images, laid out exactly as the RTL holds them. */
typedef struct {
  nnfm_config cfg;
  uint8_t *act;    /* act_words * rows bytes */
  uint8_t *w;      /* w_words * cols bytes */
  int32_t *bias;   /* p_words * cols, index entry * cols + lane */
  int32_t *m0;     /* same */
  int8_t *shift;   /* same */
  int8_t lut[256];
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
 *                   lut not 0 or 1
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

#ifdef __cplusplus
}
#endif
#endif /* NNFM_H */
