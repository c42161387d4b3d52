/*
 * nnfm_engine.c - the GEMM engine without cycles (docs/engine.md): the same
 * buffer images as rtl/core/nnf_gemm.v, the same command, the same bytes
 * written. The arithmetic itself comes from nnfm.c (nnfm_acc_add,
 * nnfm_vector_stage); this file only walks tiles and layouts.
 *
 * Layouts (R = rows = C = cols, KT = max(1, ceil(K/R)), NT = ceil(N/C)):
 *   A[m][k]  ACT word a_base + (k/R)*M + m,               byte k%R
 *   Y[m][n]  ACT word o_base + (n/C)*M + m,               byte n%C
 *   W[k][n]  W   word w_base + ((n/C)*KT + k/R)*R + k%R,  byte n%C
 *   P        entry p_base + n/C, lane n%C: bias, m0, shift
 */
#include "nnfm.h"

#include <stdlib.h>
#include <string.h>

#include "nnf_proto_gen.h" /* region numbers, the P record (proto/nnf_proto.def) */

enum { P_BYTES = NNFP_P_BYTES }; /* host-port bytes per P entry and lane */

/* ---- small helpers ---------------------------------------------------------- */

static int is_pow2(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* K tiles: at least one, so K = 0 still streams the rows (all lanes masked). */
static uint64_t k_tiles(const nnfm_config *cfg, uint64_t k) {
  return k == 0 ? 1 : ceil_div(k, (uint64_t)cfg->rows);
}

static uint64_t n_tiles(const nnfm_config *cfg, uint64_t n) {
  return ceil_div(n, (uint64_t)cfg->cols);
}

static uint32_t sat_u32(uint64_t x) { return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x; }

/* [base, base + count) inside a buffer of `depth` words (empty ranges always are). */
static int range_ok(uint64_t base, uint64_t count, uint64_t depth) {
  return count == 0 || (base < depth && count <= depth - base);
}

static int8_t i8_of_u8(uint8_t b) { return b < 128 ? (int8_t)b : (int8_t)((int)b - 256); }

static int32_t i32_of_u32(uint32_t u) {
  if (u <= (uint32_t)INT32_MAX) return (int32_t)u;
  return (int32_t)(u - 0x80000000u) + INT32_MIN;
}

/* Replace byte b (0..3, little-endian) of a 32-bit value. */
static int32_t set_byte32(int32_t x, unsigned b, uint8_t v) {
  uint32_t u = (uint32_t)x;
  u = (u & ~(0xFFu << (8 * b))) | ((uint32_t)v << (8 * b));
  return i32_of_u32(u);
}

static uint8_t get_byte32(int32_t x, unsigned b) { return (uint8_t)((uint32_t)x >> (8 * b)); }

/* Byte b of a record lies in the field of `size` bytes at `ofs`. */
static int in_field(unsigned b, unsigned ofs, unsigned size) { return b >= ofs && b < ofs + size; }

/* ---- configuration ---------------------------------------------------------- */

nnfm_config nnfm_config_default(void) {
  nnfm_config c;
  c.rows = 8;
  c.cols = 8;
  c.act_words = 32768;
  c.w_words = 16384;
  c.p_words = 64;
  c.acc_depth = 256;
  return c;
}

static int depth_ok(uint32_t d, uint32_t max) { return is_pow2(d) && d >= 2 && d <= max; }

int nnfm_config_check(const nnfm_config *cfg) {
  if (!cfg) return NNFM_ERR_NULL;
  if (cfg->rows < 2 || cfg->rows > 64 || !is_pow2((uint64_t)cfg->rows)) return NNFM_ERR_RANGE;
  if (cfg->cols != cfg->rows) return NNFM_ERR_RANGE;
  if (!depth_ok(cfg->act_words, 1u << 24) || !depth_ok(cfg->w_words, 1u << 24) ||
      !depth_ok(cfg->p_words, 1u << 16) || !depth_ok(cfg->acc_depth, 1u << 15))
    return NNFM_ERR_RANGE;
  return NNFM_OK;
}

uint32_t nnfm_act_words(const nnfm_config *cfg, uint32_t m, uint32_t k) {
  return sat_u32(k_tiles(cfg, k) * m);
}

uint32_t nnfm_w_words(const nnfm_config *cfg, uint32_t k, uint32_t n) {
  return sat_u32(n_tiles(cfg, n) * k_tiles(cfg, k) * (uint64_t)cfg->rows);
}

uint32_t nnfm_p_entries(const nnfm_config *cfg, uint32_t n) { return sat_u32(n_tiles(cfg, n)); }

/* ---- engine lifetime -------------------------------------------------------- */

nnfm_engine *nnfm_engine_create(const nnfm_config *cfg) {
  if (nnfm_config_check(cfg) != NNFM_OK) return NULL;
  nnfm_engine *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  size_t p_slots = (size_t)cfg->p_words * (size_t)cfg->cols;
  e->cfg = *cfg;
  e->act = calloc((size_t)cfg->act_words, (size_t)cfg->rows);
  e->w = calloc((size_t)cfg->w_words, (size_t)cfg->cols);
  e->bias = calloc(p_slots, sizeof *e->bias);
  e->m0 = calloc(p_slots, sizeof *e->m0);
  e->shift = calloc(p_slots, sizeof *e->shift);
  if (!e->act || !e->w || !e->bias || !e->m0 || !e->shift) {
    nnfm_engine_destroy(e);
    return NULL;
  }
  return e;
}

void nnfm_engine_destroy(nnfm_engine *e) {
  if (!e) return;
  free(e->act);
  free(e->w);
  free(e->bias);
  free(e->m0);
  free(e->shift);
  free(e);
}

/* ---- host port -------------------------------------------------------------- */

uint64_t nnfm_region_bytes(const nnfm_config *c, int region) {
  switch (region) {
  case NNFP_REGION_ACT: return (uint64_t)c->act_words * (uint64_t)c->rows;
  case NNFP_REGION_W: return (uint64_t)c->w_words * (uint64_t)c->cols;
  case NNFP_REGION_P: return (uint64_t)c->p_words * (uint64_t)c->cols * P_BYTES;
  case NNFP_REGION_LUT: return NNFP_LUT_BYTES;
  default: return 0;
  }
}

int nnfm_engine_write_byte(nnfm_engine *e, int region, uint32_t addr, uint8_t v) {
  if (!e) return NNFM_ERR_NULL;
  if (addr >= nnfm_region_bytes(&e->cfg, region)) return NNFM_ERR_RANGE;
  size_t slot = addr / P_BYTES; /* P: entry * cols + lane */
  unsigned b = addr % P_BYTES;
  switch (region) {
  case NNFP_REGION_ACT: e->act[addr] = v; break;
  case NNFP_REGION_W: e->w[addr] = v; break;
  case NNFP_REGION_P:
    if (in_field(b, NNFP_P_BIAS_OFS, NNFP_P_BIAS_SIZE))
      e->bias[slot] = set_byte32(e->bias[slot], b - NNFP_P_BIAS_OFS, v);
    else if (in_field(b, NNFP_P_M0_OFS, NNFP_P_M0_SIZE))
      e->m0[slot] = set_byte32(e->m0[slot], b - NNFP_P_M0_OFS, v);
    else if (b == NNFP_P_SHIFT_OFS)
      e->shift[slot] = i8_of_u8(v);
    break; /* the other bytes: ignored */
  default: e->lut[addr] = i8_of_u8(v); break;
  }
  return NNFM_OK;
}

int nnfm_engine_read_byte(const nnfm_engine *e, int region, uint32_t addr, uint8_t *v) {
  if (!e || !v) return NNFM_ERR_NULL;
  if (addr >= nnfm_region_bytes(&e->cfg, region)) return NNFM_ERR_RANGE;
  size_t slot = addr / P_BYTES;
  unsigned b = addr % P_BYTES;
  switch (region) {
  case NNFP_REGION_ACT: *v = e->act[addr]; break;
  case NNFP_REGION_W: *v = e->w[addr]; break;
  case NNFP_REGION_P:
    if (in_field(b, NNFP_P_BIAS_OFS, NNFP_P_BIAS_SIZE)) *v = get_byte32(e->bias[slot], b - NNFP_P_BIAS_OFS);
    else if (in_field(b, NNFP_P_M0_OFS, NNFP_P_M0_SIZE)) *v = get_byte32(e->m0[slot], b - NNFP_P_M0_OFS);
    else if (b == NNFP_P_SHIFT_OFS) *v = (uint8_t)e->shift[slot];
    else *v = 0;
    break;
  default: *v = (uint8_t)e->lut[addr]; break;
  }
  return NNFM_OK;
}

int nnfm_engine_read_bytes(const nnfm_engine *e, int region, uint32_t addr, uint8_t *buf, size_t len) {
  if (!e || (!buf && len)) return NNFM_ERR_NULL;
  if (addr > nnfm_region_bytes(&e->cfg, region) || len > nnfm_region_bytes(&e->cfg, region) - addr)
    return NNFM_ERR_RANGE;
  for (size_t i = 0; i < len; i++) nnfm_engine_read_byte(e, region, addr + (uint32_t)i, &buf[i]);
  return NNFM_OK;
}

/* ---- command check ---------------------------------------------------------- */

static int in_int8(int32_t x) { return x >= INT8_MIN && x <= INT8_MAX; }

static int cmd_fields_ok(const nnfm_cmd *c) {
  return c->m <= 65535 && c->k <= 65535 && c->n <= 65535 && in_int8(c->zp) && in_int8(c->lo) &&
         in_int8(c->hi) && c->lo <= c->hi && (c->lut == 0 || c->lut == 1);
}

/* Every word the command touches lies inside its buffer; A and O disjoint. */
static int cmd_ranges_ok(const nnfm_config *cfg, const nnfm_cmd *c) {
  uint64_t KT = k_tiles(cfg, c->k), NT = n_tiles(cfg, c->n), M = c->m;
  uint64_t a_end = (uint64_t)c->a_base + KT * M, o_end = (uint64_t)c->o_base + NT * M;
  if (!range_ok(c->a_base, KT * M, cfg->act_words)) return 0;
  if (!range_ok(c->o_base, NT * M, cfg->act_words)) return 0;
  if (!range_ok(c->w_base, NT * KT * (uint64_t)cfg->rows, cfg->w_words)) return 0;
  if (!range_ok(c->p_base, NT, cfg->p_words)) return 0;
  if (c->a_base < o_end && c->o_base < a_end) return 0; /* overlap */
  return 1;
}

/* The (m0, shift) of every used lane (n < N) is valid. */
static int cmd_params_ok(const nnfm_engine *e, const nnfm_cmd *c) {
  const size_t C = (size_t)e->cfg.cols;
  for (uint32_t n = 0; n < c->n; n++) {
    size_t slot = ((size_t)c->p_base + n / C) * C + n % C;
    if (!nnfm_requant_params_valid(e->m0[slot], e->shift[slot])) return 0;
  }
  return 1;
}

int nnfm_engine_check(const nnfm_engine *e, const nnfm_cmd *c) {
  if (!e || !c) return NNFM_ERR_NULL;
  if (!cmd_fields_ok(c)) return NNFM_ERR_RANGE;
  if (c->m == 0 || c->n == 0) return NNFM_OK; /* completes at once, touches nothing */
  if (!cmd_ranges_ok(&e->cfg, c)) return NNFM_ERR_SHAPE;
  if (!cmd_params_ok(e, c)) return NNFM_ERR_RANGE;
  return NNFM_OK;
}

/* ---- command execution ------------------------------------------------------ */

/* One output row m of N tile nt: accumulate over the K tiles, then the vector
 * stage, then write the ACT word (lanes n >= N as 0).
 * The RTL walks nt / M block / kt / m; the sums are the same in any order
 * (addition mod 2^32), and since the A and O ranges are disjoint no output
 * word can feed an input: the row-at-a-time order here gives the same bytes. */
static void engine_row(nnfm_engine *e, const nnfm_cmd *c, uint32_t nt, uint32_t m, uint32_t KT) {
  const uint32_t R = (uint32_t)e->cfg.rows, C = (uint32_t)e->cfg.cols, M = c->m;
  const size_t p0 = ((size_t)c->p_base + nt) * C; /* P slot of lane 0 */
  int32_t acc[64];                                /* C <= 64 lanes */
  for (uint32_t j = 0; j < C; j++) acc[j] = e->bias[p0 + j]; /* first K tile starts from bias */
  for (uint32_t kt = 0; kt < KT; kt++) {
    const uint8_t *arow = e->act + ((size_t)c->a_base + (size_t)kt * M + m) * R; /* R bytes */
    for (uint32_t r = 0; r < R && kt * R + r < c->k; r++) { /* lanes k >= K read as 0 */
      int32_t a = i8_of_u8(arow[r]);
      const uint8_t *wrow = e->w + ((size_t)c->w_base + ((size_t)nt * KT + kt) * R + r) * C;
      for (uint32_t j = 0; j < C; j++) acc[j] = nnfm_acc_add(acc[j], a * i8_of_u8(wrow[j]));
    }
  }
  uint8_t *orow = e->act + ((size_t)c->o_base + (size_t)nt * M + m) * R; /* C == R bytes */
  const int8_t *lut = c->lut ? e->lut : NULL;
  for (uint32_t j = 0; j < C; j++) {
    if (nt * C + j >= c->n) {
      orow[j] = 0; /* padded output lane */
      continue;
    }
    int8_t y = nnfm_vector_stage(acc[j], e->m0[p0 + j], e->shift[p0 + j], c->zp, c->lo, c->hi, lut);
    orow[j] = (uint8_t)y;
  }
}

int nnfm_engine_gemm(nnfm_engine *e, const nnfm_cmd *c, uint64_t *macs) {
  int st = nnfm_engine_check(e, c);
  if (st != NNFM_OK) return st;
  const uint32_t KT = (uint32_t)k_tiles(&e->cfg, c->k), NT = (uint32_t)n_tiles(&e->cfg, c->n);
  const uint32_t D = e->cfg.acc_depth;
  if (c->m > 0)
    for (uint32_t nt = 0; nt < NT; nt++)
      for (uint32_t mb = 0; mb < c->m; mb += D)                  /* M blocks of <= D rows */
        for (uint32_t m = mb; m < c->m && m < mb + D; m++) engine_row(e, c, nt, m, KT);
  /* Per streamed row (M per tile): valid K lanes x valid N lanes. Summed over
   * all (nt, kt) tiles that is M * K * N (0 when K = 0: the lanes are masked). */
  if (macs) *macs = (uint64_t)c->m * c->k * c->n;
  return NNFM_OK;
}

/* ---- packing helpers -------------------------------------------------------- */

int nnfm_engine_put_act(nnfm_engine *e, uint32_t base, const int8_t *a, uint32_t m, uint32_t k) {
  if (!e || (m && k && !a)) return NNFM_ERR_NULL;
  const uint32_t R = (uint32_t)e->cfg.rows, KT = (uint32_t)k_tiles(&e->cfg, k);
  if (!range_ok(base, (uint64_t)KT * m, e->cfg.act_words)) return NNFM_ERR_SHAPE;
  for (uint32_t kt = 0; kt < KT; kt++)
    for (uint32_t i = 0; i < m; i++) {
      uint8_t *word = e->act + ((size_t)base + (size_t)kt * m + i) * R;
      for (uint32_t r = 0; r < R; r++) {
        uint32_t kk = kt * R + r;
        word[r] = kk < k ? (uint8_t)a[(size_t)i * k + kk] : 0;
      }
    }
  return NNFM_OK;
}

int nnfm_engine_get_act(const nnfm_engine *e, uint32_t base, int8_t *a, uint32_t m, uint32_t k) {
  if (!e || (m && k && !a)) return NNFM_ERR_NULL;
  const uint32_t R = (uint32_t)e->cfg.rows;
  if (!range_ok(base, (uint64_t)k_tiles(&e->cfg, k) * m, e->cfg.act_words)) return NNFM_ERR_SHAPE;
  for (uint32_t i = 0; i < m; i++)
    for (uint32_t kk = 0; kk < k; kk++)
      a[(size_t)i * k + kk] = i8_of_u8(e->act[((size_t)base + (size_t)(kk / R) * m + i) * R + kk % R]);
  return NNFM_OK;
}

int nnfm_engine_put_weights(nnfm_engine *e, uint32_t base, const int8_t *w, uint32_t k, uint32_t n) {
  if (!e || (k && n && !w)) return NNFM_ERR_NULL;
  const uint32_t R = (uint32_t)e->cfg.rows, C = (uint32_t)e->cfg.cols;
  const uint32_t KT = (uint32_t)k_tiles(&e->cfg, k), NT = (uint32_t)n_tiles(&e->cfg, n);
  if (!range_ok(base, (uint64_t)NT * KT * R, e->cfg.w_words)) return NNFM_ERR_SHAPE;
  for (uint32_t nt = 0; nt < NT; nt++)
    for (uint32_t kt = 0; kt < KT; kt++)
      for (uint32_t r = 0; r < R; r++) {
        uint8_t *word = e->w + ((size_t)base + ((size_t)nt * KT + kt) * R + r) * C;
        uint32_t kk = kt * R + r;
        for (uint32_t j = 0; j < C; j++) {
          uint32_t nn = nt * C + j;
          word[j] = (kk < k && nn < n) ? (uint8_t)w[(size_t)kk * n + nn] : 0;
        }
      }
  return NNFM_OK;
}

int nnfm_engine_put_params(nnfm_engine *e, uint32_t base, const int32_t *bias,
                           const int32_t *m0, const int8_t *shift, uint32_t n) {
  if (!e || (n && (!bias || !m0 || !shift))) return NNFM_ERR_NULL;
  const uint32_t C = (uint32_t)e->cfg.cols, NT = (uint32_t)n_tiles(&e->cfg, n);
  if (!range_ok(base, NT, e->cfg.p_words)) return NNFM_ERR_SHAPE;
  for (uint32_t j = 0; j < n; j++)
    if (!nnfm_requant_params_valid(m0[j], shift[j])) return NNFM_ERR_RANGE;
  for (uint32_t nn = 0; nn < NT * C; nn++) {
    size_t slot = (size_t)base * C + nn; /* entry base + nn/C, lane nn%C */
    e->bias[slot] = nn < n ? bias[nn] : 0;
    e->m0[slot] = nn < n ? m0[nn] : 0;
    e->shift[slot] = nn < n ? shift[nn] : 0;
  }
  return NNFM_OK;
}
