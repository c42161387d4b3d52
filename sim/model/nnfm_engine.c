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

#include "nnfm_attn.h"
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
  c.luts = 8;
  return c;
}

uint32_t nnfm_config_luts(const nnfm_config *cfg) { return cfg->luts ? cfg->luts : 1; }

static int depth_ok(uint32_t d, uint32_t max) { return is_pow2(d) && d >= 2 && d <= max; }

int nnfm_config_check(const nnfm_config *cfg) {
  if (!cfg) return NNFM_ERR_NULL;
  if (cfg->rows < 2 || cfg->rows > 64 || !is_pow2((uint64_t)cfg->rows)) return NNFM_ERR_RANGE;
  if (cfg->cols != cfg->rows) return NNFM_ERR_RANGE;
  if (!depth_ok(cfg->act_words, 1u << 24) || !depth_ok(cfg->w_words, 1u << 24) ||
      !depth_ok(cfg->p_words, 1u << 16) || !depth_ok(cfg->acc_depth, 1u << 15) ||
      cfg->luts > NNFM_LUTS_MAX)
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
  e->accum = calloc((size_t)cfg->acc_depth * (size_t)cfg->cols, sizeof *e->accum);
  if (!e->act || !e->w || !e->bias || !e->m0 || !e->shift || !e->accum) {
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
  free(e->accum);
  free(e);
}

/* ---- host port -------------------------------------------------------------- */

uint64_t nnfm_region_bytes(const nnfm_config *c, int region) {
  switch (region) {
  case NNFP_REGION_ACT: return (uint64_t)c->act_words * (uint64_t)c->rows;
  case NNFP_REGION_W: return (uint64_t)c->w_words * (uint64_t)c->cols;
  case NNFP_REGION_P: return (uint64_t)c->p_words * (uint64_t)c->cols * P_BYTES;
  case NNFP_REGION_LUT: return (uint64_t)NNFP_LUT_BYTES * nnfm_config_luts(c);
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

static int cmd_fields_ok(const nnfm_config *cfg, const nnfm_cmd *c) {
  if (c->lut_sel >= nnfm_config_luts(cfg)) return 0;
  return c->m <= 65535 && c->k <= 65535 && c->n <= 65535 && in_int8(c->zp) && in_int8(c->lo) &&
         in_int8(c->hi) && c->lo <= c->hi && (c->lut == 0 || c->lut == 1) &&
         (c->round == NNFM_ROUND_SINGLE || c->round == NNFM_ROUND_TFLITE);
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
  if (!cmd_fields_ok(&e->cfg, c)) return NNFM_ERR_RANGE;
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
  const int8_t *lut = c->lut ? e->lut + 256 * (size_t)c->lut_sel : NULL;
  for (uint32_t j = 0; j < C; j++) {
    if (nt * C + j >= c->n) {
      orow[j] = 0; /* padded output lane */
      continue;
    }
    int8_t y = nnfm_vector_stage(acc[j], e->m0[p0 + j], e->shift[p0 + j], c->zp, c->lo, c->hi, lut, c->round);
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

/* ---- feature maps, CONV and POOL (docs/conv.md) ---------------------------- *
 *
 * Layout (R = rows, CT = ceil(C/R)):
 *   X[b][c][y][x]  ACT word base + ((ct*H + y)*W + x)*B + b,  byte c%R  (ct = c/R)
 * A CONV is the GEMM with M = OH*OW*B rows m = (oy*OW + ox)*B + b, N = Cout,
 * K tiles kt = (ky*KW + kx)*CT + ct; its output word o_base + nt*M + m is
 * the same layout with C = Cout, H = OH, W = OW.
 */

static int u_in(uint32_t x, uint32_t lo, uint32_t hi) { return x >= lo && x <= hi; }

/* The shape fields CONV and POOL share, in their ranges (docs/conv.md). */
static int walk_fields_ok(uint32_t h, uint32_t w, uint32_t b, uint32_t kh, uint32_t kw, uint32_t sh,
                          uint32_t sw, uint32_t ph, uint32_t pw, uint32_t eh, uint32_t ew) {
  return u_in(h, 1, 1024) && u_in(w, 1, 1024) && u_in(b, 1, 1024) &&
         u_in(kh, 1, NNFM_KERNEL_MAX) && u_in(kw, 1, NNFM_KERNEL_MAX) &&
         u_in(sh, 1, NNFM_STRIDE_MAX) && u_in(sw, 1, NNFM_STRIDE_MAX) && ph <= NNFM_PAD_MAX &&
         pw <= NNFM_PAD_MAX && eh <= 1 && ew <= 1;
}

static nnfm_window window_of(uint32_t c, uint32_t h, uint32_t w, uint32_t b, uint32_t kh,
                             uint32_t kw, uint32_t sh, uint32_t sw, uint32_t ph, uint32_t pw,
                             uint32_t eh, uint32_t ew) {
  nnfm_window g;
  g.b = (int)b, g.c = (int)c, g.h = (int)h, g.w = (int)w;
  g.kh = (int)kh, g.kw = (int)kw, g.sh = (int)sh, g.sw = (int)sw, g.ph = (int)ph, g.pw = (int)pw;
  g.eh = (int)eh, g.ew = (int)ew;
  return g;
}

static nnfm_window conv_window(const nnfm_conv_cmd *c) {
  return window_of(c->cin, c->h, c->w, c->b, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->eh, c->ew);
}

static nnfm_window pool_window(const nnfm_pool_cmd *c) {
  return window_of(c->c, c->h, c->w, c->b, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->eh, c->ew);
}

/* Sizes of a (range-checked) CONV or POOL. */
typedef struct {
  uint32_t oh, ow;
  uint64_t ct, nt, kt, m;   /* channel tiles in, N tiles out, K tiles, rows walked */
  uint64_t om;              /* output rows per N tile: m, or Mp with CONV's pool2 */
  uint64_t in_words, out_words, w_words;
} walk_sizes;

uint64_t nnfm_conv_pool2_rows(uint32_t oh, uint32_t ow, uint32_t b) {
  return (uint64_t)(oh / 2) * (ow / 2) * b;
}

/* 0 when the window does not fit, or with pool2 the conv's output is
 * smaller than one 2x2 window. */
static int conv_sizes(const nnfm_config *cfg, const nnfm_conv_cmd *c, walk_sizes *s) {
  nnfm_window g = conv_window(c);
  int oh, ow;
  if (nnfm_window_check(&g, 0, &oh, &ow) != NNFM_OK) return 0;
  if (c->pool2 && (oh < 2 || ow < 2)) return 0;
  s->oh = (uint32_t)oh, s->ow = (uint32_t)ow;
  s->ct = ceil_div(c->cin, (uint64_t)cfg->rows);
  s->nt = n_tiles(cfg, c->n);
  s->kt = (uint64_t)c->kh * c->kw * s->ct;
  s->om = c->pool2 ? nnfm_conv_pool2_rows(s->oh, s->ow, c->b) : (uint64_t)s->oh * s->ow * c->b;
  s->m = c->pool2 ? NNFM_POOL2_TAPS * s->om : s->om;
  s->in_words = s->ct * c->h * c->w * c->b;
  s->out_words = s->nt * s->om;
  s->w_words = s->nt * s->kt * (uint64_t)cfg->rows;
  return 1;
}

uint64_t nnfm_conv_stream_rows(const nnfm_config *cfg, const nnfm_conv_cmd *c, uint64_t *tiles, uint64_t *vec) {
  walk_sizes s;
  int ok = conv_sizes(cfg, c, &s);
  *tiles = ok ? s.nt * s.kt : 0;
  *vec = ok ? s.nt * s.m : 0;
  return ok ? s.nt * s.kt * s.m : 0;
}

static int pool_sizes(const nnfm_config *cfg, const nnfm_pool_cmd *c, walk_sizes *s) {
  nnfm_window g = pool_window(c);
  int oh, ow;
  if (nnfm_window_check(&g, 1, &oh, &ow) != NNFM_OK) return 0;
  s->oh = (uint32_t)oh, s->ow = (uint32_t)ow;
  s->ct = s->nt = ceil_div(c->c, (uint64_t)cfg->rows);
  s->kt = (uint64_t)c->kh * c->kw;
  s->m = (uint64_t)s->oh * s->ow * c->b;
  s->in_words = s->ct * c->h * c->w * c->b;
  s->om = s->m;
  s->out_words = s->ct * s->m;
  s->w_words = 0;
  return 1;
}

/* The input and output ranges inside ACT and disjoint. */
static int act_ranges_ok(const nnfm_config *cfg, uint64_t a_base, uint64_t a_n, uint64_t o_base,
                         uint64_t o_n) {
  if (!range_ok(a_base, a_n, cfg->act_words) || !range_ok(o_base, o_n, cfg->act_words)) return 0;
  return !(a_base < o_base + o_n && o_base < a_base + a_n);
}

int nnfm_engine_conv_check(const nnfm_engine *e, const nnfm_conv_cmd *c) {
  if (!e || !c) return NNFM_ERR_NULL;
  if (!u_in(c->cin, 1, 65535) || !u_in(c->n, 1, 65535) ||
      !walk_fields_ok(c->h, c->w, c->b, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->eh, c->ew) ||
      !in_int8(c->zp_in) || !in_int8(c->zp) || !in_int8(c->lo) || !in_int8(c->hi) ||
      c->lo > c->hi || (c->lut != 0 && c->lut != 1) || c->pool2 > 1 ||
      c->lut_sel >= nnfm_config_luts(&e->cfg) ||
      (c->round != NNFM_ROUND_SINGLE && c->round != NNFM_ROUND_TFLITE))
    return NNFM_ERR_RANGE;
  walk_sizes s = {0};
  if (!conv_sizes(&e->cfg, c, &s)) return NNFM_ERR_RANGE; /* kernel > padded input, pool2 on < 2x2 */
  if (s.m > NNFM_WALK_MAX || s.kt > NNFM_WALK_MAX) return NNFM_ERR_SHAPE; /* the walk's counters */
  if (!act_ranges_ok(&e->cfg, c->a_base, s.in_words, c->o_base, s.out_words) ||
      !range_ok(c->w_base, s.w_words, e->cfg.w_words) || !range_ok(c->p_base, s.nt, e->cfg.p_words))
    return NNFM_ERR_SHAPE;
  nnfm_cmd g = {0}; /* the P lanes are checked as a GEMM's */
  memset(&g, 0, sizeof g);
  g.n = c->n, g.p_base = c->p_base;
  if (!cmd_params_ok(e, &g)) return NNFM_ERR_RANGE;
  return NNFM_OK;
}

/* The pixel walker (docs/conv.md): output pixel (oy, ox) and image b of a
 * row, and the window's corner (iy0, ix0) = (oy*SH - PH, ox*SW - PW), kept
 * by additions as the RTL keeps them (POOL; CONV computes them per row,
 * conv_row_pixel). Rows run b fastest, then ox, then oy. */
typedef struct {
  uint32_t oy, ox, b;
  int64_t iy0, ix0;
} pix_walk;

static pix_walk pix_first(uint32_t ph, uint32_t pw) {
  pix_walk p = {0, 0, 0, -(int64_t)ph, -(int64_t)pw};
  return p;
}

static void pix_next(pix_walk *p, uint32_t B, uint32_t OW, uint32_t sh, uint32_t sw, uint32_t pw) {
  if (++p->b < B) return;
  p->b = 0;
  p->ix0 += sw;
  if (++p->ox < OW) return;
  p->ox = 0;
  p->ix0 = -(int64_t)pw;
  p->oy++;
  p->iy0 += sh;
}

/* The output pixel (oy, ox), image b and window corner of CONV row `row`:
 * rows m = (oy*OW + ox)*B + b, or with pool2 the order (py, px, b, wy, wx)
 * of nnfm.h (row = (((py*OWp + px)*B + b)*2 + wy)*2 + wx). */
static pix_walk conv_row_pixel(const nnfm_conv_cmd *c, const walk_sizes *s, uint64_t row) {
  uint64_t q = row;
  uint32_t wy = 0, wx = 0, ow = s->ow, f = 1; /* f: output pixels per walked column step */
  if (c->pool2) {
    wx = (uint32_t)(q % 2), wy = (uint32_t)(q / 2 % 2);
    q /= NNFM_POOL2_TAPS;
    ow = s->ow / 2, f = 2;
  }
  pix_walk p;
  p.b = (uint32_t)(q % c->b);
  q /= c->b;
  p.ox = (uint32_t)(q % ow) * f + wx;
  p.oy = (uint32_t)(q / ow) * f + wy;
  p.iy0 = (int64_t)p.oy * c->sh - (int64_t)c->ph;
  p.ix0 = (int64_t)p.ox * c->sw - (int64_t)c->pw;
  return p;
}

int nnfm_engine_conv(nnfm_engine *e, const nnfm_conv_cmd *c, uint64_t *macs) {
  int st = nnfm_engine_conv_check(e, c);
  if (st != NNFM_OK) return st;
  walk_sizes s = {0};
  conv_sizes(&e->cfg, c, &s);
  const uint32_t R = (uint32_t)e->cfg.rows, C = (uint32_t)e->cfg.cols, D = e->cfg.acc_depth;
  const uint32_t H = c->h, W = c->w, B = c->b, CT = (uint32_t)s.ct;
  const uint64_t M = s.m, KT = s.kt;
  const int8_t *lut = c->lut ? e->lut + 256 * (size_t)c->lut_sel : NULL;
  int8_t out[64]; /* the output word's lanes (C <= 64): the vector stage's, or with
                   * pool2 the window's running lane-wise max */
  for (uint32_t nt = 0; nt < s.nt; nt++) {
    const size_t p0 = ((size_t)c->p_base + nt) * C; /* P slot of lane 0 */
    for (uint64_t mb = 0; mb < M; mb += D) {        /* M blocks of <= D rows */
      const uint32_t rows = (uint32_t)(M - mb < D ? M - mb : D);
      uint64_t kt = 0;
      for (uint32_t ky = 0; ky < c->kh; ky++)
        for (uint32_t kx = 0; kx < c->kw; kx++)
          for (uint32_t ct = 0; ct < CT; ct++, kt++) { /* kt = (ky*KW + kx)*CT + ct */
            const int64_t toff = (((int64_t)ct * H + ky) * W + kx) * B; /* the tile's offset */
            const uint8_t *wt = e->w + ((size_t)c->w_base + ((size_t)nt * KT + kt) * R) * C;
            for (uint32_t i = 0; i < rows; i++) { /* the block re-streams its rows */
              const pix_walk p = conv_row_pixel(c, &s, mb + i);
              int32_t *acc = e->accum + (size_t)i * C;
              if (kt == 0)
                for (uint32_t j = 0; j < C; j++) acc[j] = e->bias[p0 + j]; /* start from bias */
              const int64_t iy = p.iy0 + ky, ix = p.ix0 + kx;
              const int inside = iy >= 0 && iy < (int64_t)H && ix >= 0 && ix < (int64_t)W;
              const uint8_t *word = NULL;
              if (inside) /* a_base + toff + pix + b, pix = (iy0*W + ix0)*B */
                word = e->act + (size_t)((int64_t)c->a_base + toff + (p.iy0 * W + p.ix0) * B + p.b) * R;
              for (uint32_t r = 0; r < R && ct * R + r < c->cin; r++) { /* lanes >= Cin masked */
                int32_t a = inside ? i8_of_u8(word[r]) : c->zp_in; /* padding: the zero point */
                const uint8_t *wrow = wt + (size_t)r * C;
                for (uint32_t j = 0; j < C; j++) acc[j] = nnfm_acc_add(acc[j], a * i8_of_u8(wrow[j]));
              }
              if (kt + 1 < KT) continue;
              /* last K tile: the vector stage, then the output word (pool2: the
               * window's max, written with its fourth row) */
              const uint64_t row = mb + i, tap = row % NNFM_POOL2_TAPS;
              for (uint32_t j = 0; j < C; j++) {
                int8_t y = nnfm_vector_stage(acc[j], e->m0[p0 + j], e->shift[p0 + j], c->zp, c->lo,
                                             c->hi, lut, c->round);
                out[j] = (!c->pool2 || tap == 0 || y > out[j]) ? y : out[j];
              }
              if (c->pool2 && tap + 1 < NNFM_POOL2_TAPS) continue;
              const uint64_t orow_i = c->pool2 ? row / NNFM_POOL2_TAPS : row;
              uint8_t *orow = e->act + ((size_t)c->o_base + (size_t)nt * s.om + orow_i) * R;
              for (uint32_t j = 0; j < C; j++)
                orow[j] = nt * C + j < c->n ? (uint8_t)out[j] : 0; /* padded output lane: 0 */
            }
          }
    }
  }
  if (macs) *macs = M * c->kh * c->kw * c->cin * c->n;
  return NNFM_OK;
}

/* The POOL as walked: a global one is the H x W window at stride 1 without
 * padding (its own window fields must be kh = kw = 0, sh = sw = 1, no
 * padding). 0 when the global fields are not so. */
static int pool_walked(const nnfm_pool_cmd *c, nnfm_pool_cmd *g) {
  *g = *c;
  if (!c->global) return 1;
  if (c->kh || c->kw || c->sh != 1 || c->sw != 1 || c->ph || c->pw || c->eh || c->ew) return 0;
  g->kh = c->h, g->kw = c->w;
  return 1;
}

int nnfm_engine_pool_check(const nnfm_engine *e, const nnfm_pool_cmd *c) {
  if (!e || !c) return NNFM_ERR_NULL;
  nnfm_pool_cmd g;
  if ((c->op != NNFM_POOL_MAX && c->op != NNFM_POOL_AVG) || !u_in(c->c, 1, 65535) || c->global > 1 ||
      !pool_walked(c, &g) ||
      !walk_fields_ok(g.h, g.w, g.b, g.global ? 1 : g.kh, g.global ? 1 : g.kw, g.sh, g.sw, g.ph, g.pw, g.eh,
                      g.ew) ||
      !in_int8(c->lo) || !in_int8(c->hi) || c->lo > c->hi)
    return NNFM_ERR_RANGE;
  walk_sizes s = {0};
  if (!pool_sizes(&e->cfg, &g, &s)) return NNFM_ERR_RANGE; /* too large, or an empty window */
  if (s.m > NNFM_WALK_MAX) return NNFM_ERR_SHAPE; /* the walk's row counter */
  if (!act_ranges_ok(&e->cfg, c->a_base, s.in_words, c->o_base, s.out_words)) return NNFM_ERR_SHAPE;
  return NNFM_OK;
}

int nnfm_engine_pool(nnfm_engine *e, const nnfm_pool_cmd *cmd) {
  int st = nnfm_engine_pool_check(e, cmd);
  if (st != NNFM_OK) return st;
  nnfm_pool_cmd walked;
  pool_walked(cmd, &walked);
  const nnfm_pool_cmd *c = &walked;
  walk_sizes s = {0};
  pool_sizes(&e->cfg, c, &s);
  const uint32_t R = (uint32_t)e->cfg.rows, H = c->h, W = c->w, B = c->b;
  for (uint32_t ct = 0; ct < s.ct; ct++) {
    pix_walk p = pix_first(c->ph, c->pw);
    for (uint64_t m = 0; m < s.m; m++, pix_next(&p, B, s.ow, c->sh, c->sw, c->pw)) {
      int32_t mx[64], sum[64], count = 0; /* per lane; R <= 64 */
      for (uint32_t r = 0; r < R; r++) mx[r] = INT8_MIN, sum[r] = 0;
      for (uint32_t ky = 0; ky < c->kh; ky++)
        for (uint32_t kx = 0; kx < c->kw; kx++) {
          const int64_t iy = p.iy0 + ky, ix = p.ix0 + kx;
          if (iy < 0 || iy >= (int64_t)H || ix < 0 || ix >= (int64_t)W) continue; /* skipped */
          const uint8_t *word = e->act + ((size_t)c->a_base + (((size_t)ct * H + (size_t)iy) * W + (size_t)ix) * B + p.b) * R;
          for (uint32_t r = 0; r < R; r++) {
            int32_t v = i8_of_u8(word[r]);
            if (v > mx[r]) mx[r] = v;
            sum[r] += v; /* |sum| <= 128 * 1024 * 1024 taps (global) */
          }
          count++;
        }
      uint8_t *orow = e->act + ((size_t)c->o_base + (size_t)ct * s.m + m) * R;
      for (uint32_t r = 0; r < R; r++) {
        if (ct * R + r >= c->c) {
          orow[r] = 0; /* lanes of channels >= C */
          continue;
        }
        int32_t q = c->op == NNFM_POOL_MAX ? mx[r] : nnfm_avg_round(sum[r], count);
        orow[r] = (uint8_t)(int8_t)nnfm_clamp(q, c->lo, c->hi);
      }
    }
  }
  return NNFM_OK;
}

/* ---- DWCONV: a depthwise conv on the vector unit ------------------------------ */

static int dw_sizes(const nnfm_config *cfg, const nnfm_dwconv_cmd *c, walk_sizes *s) {
  nnfm_window g = window_of(c->c, c->h, c->w, c->b, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->eh, c->ew);
  int oh, ow;
  if (nnfm_window_check(&g, 1, &oh, &ow) != NNFM_OK) return 0; /* every window has an in-map tap */
  s->oh = (uint32_t)oh, s->ow = (uint32_t)ow;
  s->ct = s->nt = ceil_div(c->c, (uint64_t)cfg->rows);
  s->kt = (uint64_t)c->kh * c->kw;
  s->m = s->om = (uint64_t)s->oh * s->ow * c->b;
  s->in_words = s->ct * c->h * c->w * c->b;
  s->out_words = s->ct * s->m;
  s->w_words = s->ct * s->kt;
  return 1;
}

uint32_t nnfm_dwconv_w_words(const nnfm_config *cfg, uint32_t c, uint32_t kh, uint32_t kw) {
  return sat_u32(ceil_div(c, (uint64_t)cfg->rows) * kh * kw);
}

int nnfm_engine_dwconv_check(const nnfm_engine *e, const nnfm_dwconv_cmd *c) {
  if (!e || !c) return NNFM_ERR_NULL;
  if (!u_in(c->c, 1, 65535) || !u_in(c->kh, 1, NNFM_DW_KERNEL_MAX) || !u_in(c->kw, 1, NNFM_DW_KERNEL_MAX) ||
      !walk_fields_ok(c->h, c->w, c->b, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->eh, c->ew) ||
      !in_int8(c->zp_in) || !in_int8(c->zp) || !in_int8(c->lo) || !in_int8(c->hi) || c->lo > c->hi ||
      (c->round != NNFM_ROUND_SINGLE && c->round != NNFM_ROUND_TFLITE) || e->cfg.rows != e->cfg.cols)
    return NNFM_ERR_RANGE;
  walk_sizes s = {0};
  if (!dw_sizes(&e->cfg, c, &s)) return NNFM_ERR_RANGE; /* kernel > padded input, a window of padding */
  if (s.m > NNFM_WALK_MAX) return NNFM_ERR_SHAPE;
  if (!act_ranges_ok(&e->cfg, c->a_base, s.in_words, c->o_base, s.out_words) ||
      !range_ok(c->w_base, s.w_words, e->cfg.w_words) || !range_ok(c->p_base, s.ct, e->cfg.p_words))
    return NNFM_ERR_SHAPE;
  nnfm_cmd g;
  memset(&g, 0, sizeof g);
  g.n = c->c, g.p_base = c->p_base; /* the P lanes of channels < C, as a GEMM's */
  if (!cmd_params_ok(e, &g)) return NNFM_ERR_RANGE;
  return NNFM_OK;
}

int nnfm_engine_dwconv(nnfm_engine *e, const nnfm_dwconv_cmd *c) {
  int st = nnfm_engine_dwconv_check(e, c);
  if (st != NNFM_OK) return st;
  walk_sizes s = {0};
  dw_sizes(&e->cfg, c, &s);
  const uint32_t R = (uint32_t)e->cfg.rows, H = c->h, W = c->w, B = c->b;
  for (uint32_t ct = 0; ct < s.ct; ct++) {
    const size_t p0 = ((size_t)c->p_base + ct) * R; /* the tile's P lanes */
    const uint8_t *wt = e->w + ((size_t)c->w_base + (size_t)ct * s.kt) * R;
    pix_walk p = pix_first(c->ph, c->pw);
    for (uint64_t m = 0; m < s.m; m++, pix_next(&p, B, s.ow, c->sh, c->sw, c->pw)) {
      int32_t acc[64]; /* R <= 64 */
      for (uint32_t r = 0; r < R; r++) acc[r] = e->bias[p0 + r];
      for (uint32_t ky = 0; ky < c->kh; ky++)
        for (uint32_t kx = 0; kx < c->kw; kx++) {
          const int64_t iy = p.iy0 + ky, ix = p.ix0 + kx;
          if (iy < 0 || iy >= (int64_t)H || ix < 0 || ix >= (int64_t)W) continue; /* padding: skipped */
          const uint8_t *word =
              e->act + ((size_t)c->a_base + (((size_t)ct * H + (size_t)iy) * W + (size_t)ix) * B + p.b) * R;
          const uint8_t *wword = wt + ((size_t)ky * c->kw + kx) * R;
          for (uint32_t r = 0; r < R; r++)
            acc[r] = nnfm_acc_add(acc[r], (i8_of_u8(word[r]) - c->zp_in) * i8_of_u8(wword[r]));
        }
      uint8_t *orow = e->act + ((size_t)c->o_base + (size_t)ct * s.m + m) * R;
      for (uint32_t r = 0; r < R; r++)
        orow[r] = ct * R + r < c->c ? (uint8_t)nnfm_vector_stage(acc[r], e->m0[p0 + r], e->shift[p0 + r], c->zp,
                                                                 c->lo, c->hi, NULL, c->round)
                                    : 0; /* lanes of channels >= C */
    }
  }
  return NNFM_OK;
}

int nnfm_engine_put_dw_weights(nnfm_engine *e, uint32_t w_base, const int8_t *w, uint32_t c, uint32_t kh,
                               uint32_t kw) {
  if (!e || !w) return NNFM_ERR_NULL;
  if (!u_in(c, 1, 65535) || !u_in(kh, 1, NNFM_DW_KERNEL_MAX) || !u_in(kw, 1, NNFM_DW_KERNEL_MAX))
    return NNFM_ERR_RANGE;
  const uint32_t R = (uint32_t)e->cfg.rows, CT = (uint32_t)ceil_div(c, R), taps = kh * kw;
  if (!range_ok(w_base, (uint64_t)CT * taps, e->cfg.w_words)) return NNFM_ERR_SHAPE;
  const uint32_t WB = (uint32_t)e->cfg.cols; /* bytes a W word */
  for (uint32_t ct = 0; ct < CT; ct++)
    for (uint32_t t = 0; t < taps; t++) {
      uint8_t *word = e->w + ((size_t)w_base + (size_t)ct * taps + t) * WB;
      for (uint32_t r = 0; r < WB; r++) {
        uint32_t ch = ct * R + r;
        word[r] = r < R && ch < c ? (uint8_t)w[(size_t)ch * taps + t] : 0;
      }
    }
  return NNFM_OK;
}

/* ---- feature-map and conv-weight packing ------------------------------------ */

uint32_t nnfm_fmap_words(const nnfm_config *cfg, uint32_t c, uint32_t h, uint32_t w, uint32_t b) {
  uint64_t ct = ceil_div(c, (uint64_t)cfg->rows), hw = (uint64_t)h * w, hwb = hw * b;
  if (h && w && b && (hw / w != h || hwb / b != hw)) return UINT32_MAX;
  if (ct && hwb > UINT64_MAX / ct) return UINT32_MAX;
  return sat_u32(ct * hwb);
}

uint32_t nnfm_conv_w_words(const nnfm_config *cfg, uint32_t cout, uint32_t cin, uint32_t kh,
                           uint32_t kw) {
  uint64_t nt = n_tiles(cfg, cout), ct = ceil_div(cin, (uint64_t)cfg->rows);
  uint64_t taps = (uint64_t)kh * kw; /* < 2^64 */
  uint64_t x = nt * ct;              /* < 2^58 */
  if (taps && x > UINT64_MAX / taps) return UINT32_MAX;
  x *= taps;
  if (x > UINT64_MAX / (uint64_t)cfg->rows) return UINT32_MAX;
  return sat_u32(x * (uint64_t)cfg->rows);
}

/* Sizes of a map the packers take: each 1..65535 (products fit in 64 bits). */
static int fmap_dims_ok(uint32_t b, uint32_t c, uint32_t h, uint32_t w) {
  return u_in(b, 1, 65535) && u_in(c, 1, 65535) && u_in(h, 1, 65535) && u_in(w, 1, 65535);
}

/* ACT word of pixel (y, x), image bi, channel tile ct of a map at base. */
static size_t fmap_word(uint32_t base, uint32_t ct, uint32_t y, uint32_t x, uint32_t bi,
                        uint32_t h, uint32_t w, uint32_t b) {
  return (size_t)base + (((size_t)ct * h + y) * w + x) * b + bi;
}

int nnfm_engine_put_fmap(nnfm_engine *e, uint32_t base, const int8_t *x, uint32_t b, uint32_t c,
                         uint32_t h, uint32_t w) {
  if (!e || !x) return NNFM_ERR_NULL;
  if (!fmap_dims_ok(b, c, h, w)) return NNFM_ERR_RANGE;
  const uint32_t R = (uint32_t)e->cfg.rows, CT = (uint32_t)ceil_div(c, R);
  if (!range_ok(base, (uint64_t)CT * h * w * b, e->cfg.act_words)) return NNFM_ERR_SHAPE;
  for (uint32_t ct = 0; ct < CT; ct++)
    for (uint32_t y = 0; y < h; y++)
      for (uint32_t xx = 0; xx < w; xx++)
        for (uint32_t bi = 0; bi < b; bi++) {
          uint8_t *word = e->act + fmap_word(base, ct, y, xx, bi, h, w, b) * R;
          for (uint32_t r = 0; r < R; r++) {
            uint32_t ch = ct * R + r; /* X[bi][ch][y][xx] */
            word[r] = ch < c ? (uint8_t)x[(((size_t)bi * c + ch) * h + y) * w + xx] : 0;
          }
        }
  return NNFM_OK;
}

int nnfm_engine_get_fmap(const nnfm_engine *e, uint32_t base, int8_t *x, uint32_t b, uint32_t c,
                         uint32_t h, uint32_t w) {
  if (!e || !x) return NNFM_ERR_NULL;
  if (!fmap_dims_ok(b, c, h, w)) return NNFM_ERR_RANGE;
  const uint32_t R = (uint32_t)e->cfg.rows;
  if (!range_ok(base, ceil_div(c, R) * h * w * b, e->cfg.act_words)) return NNFM_ERR_SHAPE;
  for (uint32_t bi = 0; bi < b; bi++)
    for (uint32_t ch = 0; ch < c; ch++)
      for (uint32_t y = 0; y < h; y++)
        for (uint32_t xx = 0; xx < w; xx++)
          x[(((size_t)bi * c + ch) * h + y) * w + xx] =
              i8_of_u8(e->act[fmap_word(base, ch / R, y, xx, bi, h, w, b) * R + ch % R]);
  return NNFM_OK;
}

int nnfm_engine_put_conv_weights(nnfm_engine *e, uint32_t base, const int8_t *w, uint32_t cout,
                                 uint32_t cin, uint32_t kh, uint32_t kw) {
  if (!e || !w) return NNFM_ERR_NULL;
  if (!u_in(cout, 1, 65535) || !u_in(cin, 1, 65535) || !u_in(kh, 1, NNFM_KERNEL_MAX) ||
      !u_in(kw, 1, NNFM_KERNEL_MAX))
    return NNFM_ERR_RANGE;
  const uint32_t R = (uint32_t)e->cfg.rows, C = (uint32_t)e->cfg.cols;
  const uint32_t CT = (uint32_t)ceil_div(cin, R), NT = (uint32_t)n_tiles(&e->cfg, cout);
  const uint64_t KT = (uint64_t)kh * kw * CT;
  if (!range_ok(base, NT * KT * R, e->cfg.w_words)) return NNFM_ERR_SHAPE;
  for (uint32_t nt = 0; nt < NT; nt++) {
    uint64_t kt = 0;
    for (uint32_t ky = 0; ky < kh; ky++)
      for (uint32_t kx = 0; kx < kw; kx++)
        for (uint32_t ct = 0; ct < CT; ct++, kt++)
          for (uint32_t r = 0; r < R; r++) {
            uint8_t *word = e->w + ((size_t)base + ((size_t)nt * KT + kt) * R + r) * C;
            uint32_t ch = ct * R + r;
            for (uint32_t j = 0; j < C; j++) {
              uint32_t n = nt * C + j; /* w[n][ch][ky][kx] */
              word[j] = (n < cout && ch < cin) ? (uint8_t)w[(((size_t)n * cin + ch) * kh + ky) * kw + kx] : 0;
            }
          }
  }
  return NNFM_OK;
}

/* ---- PACK: a first layer's channels folded into the lanes ------------------- */

/* The PACK's sizes: C' (cp), OW, M = H*OW*B, CT' tiles. 0 when a field is
 * out of range or the 1 x KW window does not fit (nnfm_window_check, pool
 * mode: a window of padding only refuses). */
static int pack_sizes(const nnfm_config *cfg, const nnfm_pack_cmd *c, uint32_t *cp, walk_sizes *s) {
  if (!u_in(c->cin, 1, (uint32_t)cfg->rows) || !in_int8(c->zp_in) ||
      !walk_fields_ok(c->h, c->w, c->b, 1, c->kw, 1, c->sw, 0, c->pw, 0, c->ew))
    return 0;
  *cp = c->kw * c->cin;
  nnfm_window g = window_of(*cp, c->h, c->w, c->b, 1, c->kw, 1, c->sw, 0, c->pw, 0, c->ew);
  int oh, ow;
  if (nnfm_window_check(&g, 1, &oh, &ow) != NNFM_OK) return 0;
  s->oh = (uint32_t)oh, s->ow = (uint32_t)ow;
  s->ct = s->nt = ceil_div(*cp, (uint64_t)cfg->rows);
  s->kt = 1;
  s->m = s->om = (uint64_t)s->oh * s->ow * c->b;
  s->in_words = ceil_div((uint64_t)c->h * c->w * c->b * c->cin, (uint64_t)cfg->rows); /* dense bytes */
  s->out_words = s->ct * s->m;
  s->w_words = 0;
  return 1;
}

int nnfm_engine_pack_check(const nnfm_engine *e, const nnfm_pack_cmd *c) {
  if (!e || !c) return NNFM_ERR_NULL;
  uint32_t cp;
  walk_sizes s = {0};
  if (!pack_sizes(&e->cfg, c, &cp, &s)) return NNFM_ERR_RANGE;
  if (s.m > NNFM_WALK_MAX) return NNFM_ERR_SHAPE;
  if (!act_ranges_ok(&e->cfg, c->a_base, s.in_words, c->o_base, s.out_words)) return NNFM_ERR_SHAPE;
  return NNFM_OK;
}

int nnfm_engine_pack(nnfm_engine *e, const nnfm_pack_cmd *c) {
  int st = nnfm_engine_pack_check(e, c);
  if (st != NNFM_OK) return st;
  uint32_t cp;
  walk_sizes s = {0};
  pack_sizes(&e->cfg, c, &cp, &s);
  const uint32_t R = (uint32_t)e->cfg.rows, H = c->h, W = c->w, B = c->b, CI = c->cin;
  const size_t in0 = (size_t)c->a_base * R;
  /* input and output share no word (checked): the order does not matter */
  for (uint32_t ct = 0; ct < s.ct; ct++)
    for (uint32_t y = 0; y < H; y++)
      for (uint32_t ox = 0; ox < s.ow; ox++)
        for (uint32_t b = 0; b < B; b++) {
          uint8_t *word = e->act + fmap_word(c->o_base, ct, y, ox, b, H, s.ow, B) * R;
          for (uint32_t r = 0; r < R; r++) {
            const uint32_t k = ct * R + r; /* packed channel kx*Cin + ci */
            if (k >= cp) {
              word[r] = 0;
              continue;
            }
            const int64_t x = (int64_t)ox * c->sw - (int64_t)c->pw + (int64_t)(k / CI);
            word[r] = (x < 0 || x >= (int64_t)W)
                          ? (uint8_t)(int8_t)c->zp_in
                          : e->act[in0 + (((size_t)b * H + y) * W + (size_t)x) * CI + k % CI];
          }
        }
  return NNFM_OK;
}

uint32_t nnfm_dense_words(const nnfm_config *cfg, uint32_t c, uint32_t h, uint32_t w, uint32_t b) {
  return sat_u32(ceil_div((uint64_t)c * h * w * b, (uint64_t)cfg->rows));
}

int nnfm_engine_put_dense(nnfm_engine *e, uint32_t base, const int8_t *x, uint32_t b, uint32_t c,
                          uint32_t h, uint32_t w) {
  if (!e || !x) return NNFM_ERR_NULL;
  if (!fmap_dims_ok(b, c, h, w)) return NNFM_ERR_RANGE;
  const uint64_t words = nnfm_dense_words(&e->cfg, c, h, w, b);
  if (!range_ok(base, words, e->cfg.act_words)) return NNFM_ERR_SHAPE;
  uint8_t *dst = e->act + (size_t)base * (size_t)e->cfg.rows;
  memset(dst, 0, (size_t)words * (size_t)e->cfg.rows);
  for (uint32_t bi = 0; bi < b; bi++)
    for (uint32_t ch = 0; ch < c; ch++)
      for (uint32_t y = 0; y < h; y++)
        for (uint32_t xx = 0; xx < w; xx++)
          dst[(((size_t)bi * h + y) * w + xx) * c + ch] = (uint8_t)x[(((size_t)bi * c + ch) * h + y) * w + xx];
  return NNFM_OK;
}

/* ---- EW: elementwise ops (docs/rnn.md) -------------------------------------- */

/* O and X inside ACT (checked apart): the same range, or no word shared. */
static int same_or_disjoint(uint64_t o, uint64_t x, uint64_t n) { return o == x || o + n <= x || x + n <= o; }

int nnfm_engine_ew_check(const nnfm_engine *e, const nnfm_ew_cmd *c) {
  if (!e || !c) return NNFM_ERR_NULL;
  if (nnfm_ew_params_check(&c->p) != NNFM_OK || c->n > 65535 || c->m > 65535 ||
      (c->lut != 0 && c->lut != 1) || c->lut_sel >= nnfm_config_luts(&e->cfg))
    return NNFM_ERR_RANGE;
  if (c->n == 0 || c->m == 0) return NNFM_OK;
  const uint64_t words = n_tiles(&e->cfg, c->n) * c->m, D = e->cfg.act_words;
  const int binary = c->p.op != NNFM_EW_MAP;
  if (!range_ok(c->a_base, words, D) || !range_ok(c->o_base, words, D) ||
      (binary && !range_ok(c->b_base, words, D)))
    return NNFM_ERR_SHAPE;
  if (!same_or_disjoint(c->o_base, c->a_base, words) ||
      (binary && !same_or_disjoint(c->o_base, c->b_base, words)))
    return NNFM_ERR_SHAPE;
  return NNFM_OK;
}

int nnfm_engine_ew(nnfm_engine *e, const nnfm_ew_cmd *c) {
  int st = nnfm_engine_ew_check(e, c);
  if (st != NNFM_OK) return st;
  const uint32_t R = (uint32_t)e->cfg.rows;
  const uint64_t words = n_tiles(&e->cfg, c->n) * c->m;
  const int8_t *lut = c->lut ? e->lut + 256 * (size_t)c->lut_sel : NULL;
  const int binary = c->p.op != NNFM_EW_MAP;
  /* word by word; an in-place word is read before it is written, and words
   * of O that are not A's or B's own are no input (checked) */
  for (uint64_t i = 0; i < words; i++) {
    const uint32_t ct = (uint32_t)(i / c->m);
    const uint8_t *wa = e->act + ((size_t)c->a_base + i) * R;
    const uint8_t *wb = binary ? e->act + ((size_t)c->b_base + i) * R : wa;
    uint8_t out[64];
    for (uint32_t r = 0; r < R; r++)
      out[r] = ct * R + r < c->n ? (uint8_t)nnfm_ew(&c->p, i8_of_u8(wa[r]), i8_of_u8(wb[r]), lut) : 0;
    memcpy(e->act + ((size_t)c->o_base + i) * R, out, R);
  }
  return NNFM_OK;
}

/* ---- ROW ---------------------------------------------------------------------------- */

int nnfm_engine_row_check(const nnfm_engine *e, const nnfm_row_cmd *c) {
  if (!e || !c) return NNFM_ERR_NULL;
  const int ln = c->op == NNFM_ROW_LAYERNORM;
  if ((c->op != NNFM_ROW_SOFTMAX && !ln) || (c->tbl != 0 && c->tbl != 1) || c->m > 65535) return NNFM_ERR_RANGE;
  if (!ln && (4 * ((uint32_t)c->tbl + 1) > nnfm_config_luts(&e->cfg) || c->n > NNFM_ROW_N_MAX)) return NNFM_ERR_RANGE;
  if (ln && (c->n > NNFM_ROW_LN_N_MAX || c->eps_q < 0 || c->eps_q > NNFM_ROW_LN_EPS_MAX || c->zp_in < -128 ||
             c->zp_in > 127 || c->zp_out < -128 || c->zp_out > 127))
    return NNFM_ERR_RANGE;
  if (c->n == 0 || c->m == 0) return NNFM_OK;
  const uint64_t words = n_tiles(&e->cfg, c->n) * c->m, D = e->cfg.act_words;
  if (!range_ok(c->a_base, words, D) || !range_ok(c->o_base, words, D)) return NNFM_ERR_SHAPE;
  if (!same_or_disjoint(c->o_base, c->a_base, words)) return NNFM_ERR_SHAPE;
  if (ln && !range_ok(c->p_base, n_tiles(&e->cfg, c->n), e->cfg.p_words)) return NNFM_ERR_SHAPE;
  return NNFM_OK;
}

void nnfm_engine_row_table(const nnfm_engine *e, int tbl, int32_t table[256]) {
  const uint8_t *l = (const uint8_t *)e->lut + 1024 * (size_t)tbl;
  for (int i = 0; i < 256; i++)
    table[i] = (int32_t)(((uint32_t)l[i] | (uint32_t)l[256 + i] << 8 | (uint32_t)l[512 + i] << 16 |
                          (uint32_t)l[768 + i] << 24) & 0x7fffffffu);
}

int nnfm_engine_row(nnfm_engine *e, const nnfm_row_cmd *c) {
  int st = nnfm_engine_row_check(e, c);
  if (st != NNFM_OK || c->n == 0 || c->m == 0) return st;
  const uint32_t R = (uint32_t)e->cfg.rows, CT = (uint32_t)n_tiles(&e->cfg, c->n);
  int32_t table[256];
  if (c->op == NNFM_ROW_SOFTMAX) nnfm_engine_row_table(e, c->tbl, table);
  int8_t x[NNFM_ROW_N_MAX], y[NNFM_ROW_N_MAX];
  for (uint32_t m = 0; m < c->m; m++) {
    for (uint32_t j = 0; j < c->n; j++)
      x[j] = i8_of_u8(e->act[((size_t)c->a_base + (size_t)(j / R) * c->m + m) * R + j % R]);
    if (c->op == NNFM_ROW_LAYERNORM) {
      nnfm_ln_row r;
      nnfm_layernorm_row((int)c->n, c->eps_q, x, c->zp_in, &r);
      for (uint32_t j = 0; j < c->n; j++) {
        const size_t pi = ((size_t)c->p_base + j / R) * R + j % R; /* rows == cols */
        const int32_t m0 = e->m0[pi];
        y[j] = nnfm_layernorm_elem(&r, x[j], c->zp_in, m0 < 0 ? -1 : 1, m0 & INT32_MAX, e->shift[pi], e->bias[pi],
                                   c->zp_out);
      }
    } else {
      nnfm_softmax(table, x, (int)c->n, y);
    }
    for (uint32_t ct = 0; ct < CT; ct++) {
      uint8_t *w = e->act + ((size_t)c->o_base + (size_t)ct * c->m + m) * R;
      for (uint32_t r = 0; r < R; r++) w[r] = ct * R + r < c->n ? (uint8_t)y[ct * R + r] : 0;
    }
  }
  return NNFM_OK;
}

/* ---- ACTW ----------------------------------------------------------------------------- */

int nnfm_engine_actw_check(const nnfm_engine *e, const nnfm_actw_cmd *c) {
  if (!e || !c) return NNFM_ERR_NULL;
  if ((c->tr != 0 && c->tr != 1) || (c->sum != 0 && c->sum != 1) ||
      c->za < -128 || c->za > 127 || c->n > 65535 || c->m > 65535)
    return NNFM_ERR_RANGE;
  if (c->n == 0 || c->m == 0) return NNFM_OK;
  const uint64_t R = (uint64_t)e->cfg.rows, CX = ceil_div(c->n, R), CY = ceil_div(c->m, R);
  if (!range_ok(c->a_base, CX * c->m, e->cfg.act_words) || !range_ok(c->w_base, CX * CY * R, e->cfg.w_words) ||
      (c->sum && !range_ok(c->p_base, c->tr ? CY : CX, e->cfg.p_words)))
    return NNFM_ERR_SHAPE;
  return NNFM_OK;
}

int nnfm_engine_actw(nnfm_engine *e, const nnfm_actw_cmd *c) {
  int st = nnfm_engine_actw_check(e, c);
  if (st != NNFM_OK || c->n == 0 || c->m == 0) return st;
  const uint32_t R = (uint32_t)e->cfg.rows;
  const uint32_t K = c->tr ? c->n : c->m, N = c->tr ? c->m : c->n;
  const uint32_t KT = (uint32_t)ceil_div(K, R), NT = (uint32_t)ceil_div(N, R);
  for (uint32_t nt = 0; nt < NT; nt++) {
    int32_t colsum[64] = {0};
    for (uint32_t k = 0; k < KT * R; k++) {
      uint8_t *w = e->w + ((size_t)c->w_base + (size_t)nt * KT * R + k) * R;
      for (uint32_t j = 0; j < R; j++) {
        const uint32_t n = nt * R + j;
        uint8_t b = 0;
        if (k < K && n < N) { /* B[k][n] = A[row][ch] */
          const uint32_t row = c->tr ? n : k, ch = c->tr ? k : n;
          b = e->act[((size_t)c->a_base + (size_t)(ch / R) * c->m + row) * R + ch % R];
        }
        w[j] = b;
        colsum[j] += i8_of_u8(b);
      }
    }
    if (c->sum)
      for (uint32_t j = 0; j < R; j++) /* |colsum| < 2^23: no wrap */
        e->bias[((size_t)c->p_base + nt) * R + j] = -c->za * colsum[j];
  }
  return NNFM_OK;
}
