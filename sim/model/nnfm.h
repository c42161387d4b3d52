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

/* ---- numeric contract (docs/numerics.md) ---------------------------------- */

/* Single-rounding requantization (TFLite / CMSIS-NN):
 *   k = 31 - shift (1 <= k <= 62), y = (acc * m0 + (1 << (k-1))) >> k,
 *   return clamp(y + zp, lo, hi).
 * Preconditions (checked by nnfm_requant_params_valid): 0 <= m0 < 2^31,
 * -31 <= shift <= 30, lo <= hi. */
int32_t nnfm_requantize(int32_t acc, int32_t m0, int shift, int32_t zp,
                        int32_t lo, int32_t hi);

/* 1 when (m0, shift) are in range, else 0. */
int nnfm_requant_params_valid(int32_t m0, int shift);

/* Decompose a positive real multiplier into (m0, shift) with
 * real ~= m0 * 2^(shift - 31), m0 in [2^30, 2^31), as TFLite's
 * QuantizeMultiplier does. real == 0 gives m0 = 0, shift = 0. Returns
 * NNFM_ERR_RANGE if real < 0, not finite, or the shift leaves [-31, 30]. */
int nnfm_quantize_multiplier(double real, int32_t *m0, int *shift);

/* Clamp to [lo, hi]. */
int32_t nnfm_clamp(int32_t x, int32_t lo, int32_t hi);

/* Activation lookup table: lut[(uint8_t)x]. */
int8_t nnfm_lut(const int8_t lut[256], int8_t x);

/* Wrapping int32 addition (two's complement, mod 2^32): the accumulator rule. */
int32_t nnfm_acc_add(int32_t acc, int32_t x);

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
 * they point to are empty. Returns NNFM_OK or an error (y untouched). */
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
/* NNFM_OK if the configuration is one the RTL accepts, else NNFM_ERR_RANGE. */
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

/* Check a command against the configuration: sizes, parameter ranges, and
 * that every word it reads or writes lies inside its buffer (no wrapping).
 * NNFM_OK, NNFM_ERR_RANGE or NNFM_ERR_SHAPE. */
int nnfm_engine_check(const nnfm_engine *e, const nnfm_cmd *c);

/* Execute one command on the buffer images, exactly as the RTL does
 * (ragged lanes masked, padded output lanes written as zero). Also returns
 * the useful MAC count the RTL's cnt_macs would add (may be NULL).
 * Refuses (buffers untouched) what nnfm_engine_check refuses. */
int nnfm_engine_gemm(nnfm_engine *e, const nnfm_cmd *c, uint64_t *macs);

/* Packing helpers: place row-major matrices into the engine's layouts.
 * They check bounds like nnfm_engine_check. */
int nnfm_engine_put_act(nnfm_engine *e, uint32_t base, const int8_t *a, uint32_t m, uint32_t k);
int nnfm_engine_get_act(const nnfm_engine *e, uint32_t base, int8_t *a, uint32_t m, uint32_t k);
int nnfm_engine_put_weights(nnfm_engine *e, uint32_t base, const int8_t *w, uint32_t k, uint32_t n);
int nnfm_engine_put_params(nnfm_engine *e, uint32_t base, const int32_t *bias,
                           const int32_t *m0, const int8_t *shift, uint32_t n);

/* Word counts a layer needs (for the layouts above). */
uint32_t nnfm_act_words(const nnfm_config *cfg, uint32_t m, uint32_t k);
uint32_t nnfm_w_words(const nnfm_config *cfg, uint32_t k, uint32_t n);
uint32_t nnfm_p_entries(const nnfm_config *cfg, uint32_t n);

#ifdef __cplusplus
}
#endif
#endif /* NNFM_H */
