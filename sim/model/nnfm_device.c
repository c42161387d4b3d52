/*
 * nnfm_device.c - functional model of nnf_core (docs/protocol.md). Mirrors
 * rtl/core/nnf_core.v: the same answers, the same error order, the same
 * retry rule for RUN and RESET, the same bytes written by a WRITE whose
 * payload CRC fails.
 */
#include "nnfm_device.h"

#include <stdlib.h>
#include <string.h>

#include "nnf_proto.h"
#include "nnfm_lif.h"

struct nnfm_device {
  nnfm_device_config cfg;
  nnfm_engine *eng;
  uint8_t *prog;             /* prog_words * 32 bytes */
  uint8_t *state;            /* state_words * 16 bytes, as the host wrote them */
  nnfp_parser parser;
  uint8_t *payload;          /* max_payload bytes */
  /* answer queue */
  uint8_t *out;
  size_t out_len, out_cap, out_head;
  /* executor state */
  uint8_t last_err;
  uint32_t pc;
  /* the LOOP register: one active LOOP (at loop_pc) with loop_left jumps to go */
  int loop_act;
  uint32_t loop_pc, loop_left;
  uint32_t loop_off; /* the LOOP offset: stride * jumps taken (mod 2^32), 0 with no LOOP active */
  /* banks (docs/protocol.md, Banks): the flags, and a program suspended at
   * the BANK instruction d->pc until bank wait_bank is full */
  uint8_t bank_full[NNFM_BANKS_MAX];
  int waiting;
  uint32_t wait_bank;
  int prev_valid;
  uint8_t prev_seq, prev_type;
  /* counters */
  uint64_t macs, bytes_in, bytes_out, frame_errors;
  nnfm_device_stats stats;
};

static int is_pow2(uint32_t x) { return x != 0 && (x & (x - 1)) == 0; }

nnfm_device_config nnfm_device_config_default(void) {
  nnfm_device_config c;
  c.engine = nnfm_config_default();
  /* configs/sim.json: buffers larger than any board's (the engine's own
   * defaults are nnf_gemm's) */
  c.engine.w_words = 32768;
  c.engine.p_words = 512;
  c.engine.acc_depth = 512;
  c.prog_words = 256;
  c.max_payload = 4096;
  c.timeout_cycles = 65536;
  c.clock_hz = 0;
  c.vec_serial = 0;
  c.state_words = 16384;
  c.conv = 1;
  c.ew = 1;
  c.row = 1;
  c.dw = 1;
  c.banks = 4; /* nnf_core's BANKS */
  c.rel = 1;
  c.tfl_round = 1;
  c.config_id = 0;
  return c;
}

nnfm_device *nnfm_device_create(const nnfm_device_config *cfg) {
  if (!cfg || nnfm_config_check(&cfg->engine) != NNFM_OK || !is_pow2(cfg->prog_words) ||
      cfg->prog_words < 2 || cfg->prog_words > 65536 || cfg->max_payload < 16 ||
      cfg->max_payload > 65535 || (cfg->state_words != 0 && !is_pow2(cfg->state_words)) ||
      cfg->state_words > (1u << 24) || (cfg->conv != 0 && cfg->conv != 1) ||
      (cfg->ew != 0 && cfg->ew != 1) || (cfg->rel != 0 && cfg->rel != 1) ||
      (cfg->row != 0 && cfg->row != 1) || (cfg->dw != 0 && cfg->dw != 1) ||
      (cfg->tfl_round != 0 && cfg->tfl_round != 1) || cfg->banks > NNFM_BANKS_MAX ||
      cfg->config_id > 0xffff)
    return NULL;
  nnfm_device *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->cfg = *cfg;
  /* as nnf_core's ROW_ON: P not split (a serial requantizer splits it) */
  d->cfg.row = cfg->row && cfg->ew && nnfm_config_luts(&cfg->engine) >= 4 && !cfg->vec_serial;
  /* as nnf_core's DW_ON */
  d->cfg.dw = cfg->dw && cfg->conv && cfg->engine.rows == cfg->engine.cols && !cfg->vec_serial;
  d->eng = nnfm_engine_create(&cfg->engine);
  d->prog = calloc(cfg->prog_words, NNFP_INSN_BYTES);
  d->payload = malloc(cfg->max_payload);
  d->state = calloc(cfg->state_words ? cfg->state_words : 1, NNFP_STATE_BYTES);
  if (!d->eng || !d->prog || !d->payload || !d->state) {
    nnfm_device_destroy(d);
    return NULL;
  }
  nnfp_parser_init(&d->parser, d->payload, cfg->max_payload);
  return d;
}

void nnfm_device_destroy(nnfm_device *d) {
  if (!d) return;
  nnfm_engine_destroy(d->eng);
  free(d->prog);
  free(d->state);
  free(d->payload);
  free(d->out);
  free(d);
}

nnfm_engine *nnfm_device_engine(nnfm_device *d) { return d ? d->eng : NULL; }

nnfm_device_stats nnfm_device_get_stats(const nnfm_device *d) { return d->stats; }

int nnfm_device_in_frame(const nnfm_device *d) { return nnfp_parser_in_frame(&d->parser); }

size_t nnfm_device_tx_pending(const nnfm_device *d) { return d->out_len - d->out_head; }

size_t nnfm_device_tx(nnfm_device *d, uint8_t *buf, size_t max) {
  size_t n = nnfm_device_tx_pending(d);
  if (n > max) n = max;
  if (n == 0) return 0;   /* d->out may still be NULL: no pointer arithmetic on it */
  memcpy(buf, d->out + d->out_head, n);
  d->out_head += n;
  d->bytes_out += n;
  if (d->out_head == d->out_len) d->out_head = d->out_len = 0;
  return n;
}

/* ---- answers ------------------------------------------------------------- */

static int out_reserve(nnfm_device *d, size_t extra) {
  if (d->out_len + extra <= d->out_cap) return 0;
  size_t cap = d->out_cap ? d->out_cap : 4096;
  while (cap < d->out_len + extra) cap *= 2;
  uint8_t *p = realloc(d->out, cap);
  if (!p) return -1;
  d->out = p;
  d->out_cap = cap;
  return 0;
}

static void answer(nnfm_device *d, uint8_t type, uint8_t seq, const uint8_t *pl, uint16_t len) {
  if (out_reserve(d, nnfp_frame_size(len)) != 0) return; /* out of memory: the answer is lost, as on a broken link */
  d->out_len += nnfp_encode(d->out + d->out_len, type, seq, 0, pl, len);
}

static void answer_err(nnfm_device *d, const nnfp_header *h, uint8_t code) {
  uint8_t pl[NNFP_ERR_BYTES];
  nnfp_err_put_code(pl, code);
  nnfp_err_put_type(pl, h->type);
  d->last_err = code;
  answer(d, NNFP_ERR, h->seq, pl, NNFP_ERR_BYTES);
}

/* ---- regions --------------------------------------------------------------- */

static uint64_t region_size(const nnfm_device *d, unsigned region) {
  if (region == NNFP_REGION_PROG) return (uint64_t)d->cfg.prog_words * NNFP_INSN_BYTES;
  if (region == NNFP_REGION_STATE) return (uint64_t)d->cfg.state_words * NNFP_STATE_BYTES;
  return nnfm_region_bytes(&d->cfg.engine, (int)region);
}

static int in_range(const nnfm_device *d, uint32_t arg, uint64_t count) {
  uint64_t size = region_size(d, nnfp_arg_region_of(arg)), addr = nnfp_arg_addr_of(arg);
  return addr <= size && count <= size - addr;
}

/* ---- LIF state entries ------------------------------------------------------ */

typedef struct {
  nnfm_lif_state s;
  uint32_t count;
} lif_entry;

/* The entry as the RTL's state memory holds it: u 25 bits, v 24, ref 4. */
static lif_entry entry_get(const nnfm_device *d, uint32_t i) {
  const uint8_t *p = d->state + (size_t)i * NNFP_STATE_BYTES;
  lif_entry e;
  e.s.u = nnfp_state_get_u(p);
  e.s.v = nnfp_state_get_v(p);
  e.count = nnfp_state_get_count(p);
  e.s.ref = (uint8_t)nnfp_state_get_ref(p);
  return e;
}

static void entry_put(nnfm_device *d, uint32_t i, const lif_entry *e) {
  uint8_t *p = d->state + (size_t)i * NNFP_STATE_BYTES;
  memset(p, 0, NNFP_STATE_BYTES); /* reserved bytes 0 */
  nnfp_state_put_u(p, e->s.u);
  nnfp_state_put_v(p, e->s.v);
  nnfp_state_put_count(p, e->count);
  nnfp_state_put_ref(p, e->s.ref);
}

static uint8_t state_read_byte(const nnfm_device *d, uint32_t addr) {
  lif_entry e = entry_get(d, addr / NNFP_STATE_BYTES);
  uint8_t b[NNFP_STATE_BYTES] = {0};
  nnfp_state_put_u(b, e.s.u);
  nnfp_state_put_v(b, e.s.v);
  nnfp_state_put_count(b, e.count);
  nnfp_state_put_ref(b, e.s.ref);
  return b[addr % NNFP_STATE_BYTES];
}

static void put_byte(nnfm_device *d, unsigned region, uint32_t addr, uint8_t v) {
  if (region == NNFP_REGION_PROG) d->prog[addr] = v;
  else if (region == NNFP_REGION_STATE) d->state[addr] = v;
  else nnfm_engine_write_byte(d->eng, (int)region, addr, v);
}

static uint8_t get_byte(const nnfm_device *d, unsigned region, uint32_t addr) {
  uint8_t v = 0;
  if (region == NNFP_REGION_PROG) v = d->prog[addr];
  else if (region == NNFP_REGION_STATE) v = state_read_byte(d, addr);
  else nnfm_engine_read_byte(d->eng, (int)region, addr, &v);
  return v;
}

/* A WRITE writes the bytes it received, good CRC or not (as the RTL does:
 * it writes while receiving); a bad range writes nothing. */
static void write_payload(nnfm_device *d, const nnfp_header *h, uint32_t received) {
  if (h->type != NNFP_WRITE || !in_range(d, h->arg, h->len)) return;
  unsigned region = nnfp_arg_region_of(h->arg);
  uint32_t addr = nnfp_arg_addr_of(h->arg);
  for (uint32_t i = 0; i < received; i++) put_byte(d, region, addr + i, d->payload[i]);
}

/* ---- the micro-program ---------------------------------------------------- */

/* [b0, b0 + n0) and [b1, b1 + n1) share a word. */
static int ranges_overlap(uint64_t b0, uint64_t n0, uint64_t b1, uint64_t n1) {
  return n0 && n1 && b0 < b1 + n1 && b1 < b0 + n0;
}

/* One LIF instruction (docs/protocol.md): per ACT word of the currents, in
 * address order (N tile nt outer, row m inner), lanes j < N - nt*R: neuron
 * n = nt*R + j of row m, state entry s_base + m*N + n. Fields are taken
 * modulo their widths, as the RTL decodes them. Returns 0, or -1 refused. */
static int run_lif(nnfm_device *d, const uint8_t *in) {
  nnfm_engine *e = d->eng;
  const uint32_t R = (uint32_t)e->cfg.rows;
  nnfm_lif_params p;
  p.reset_sub = (uint8_t)nnfp_lif_get_reset_sub(in);
  int counting = nnfp_lif_get_count(in) != 0, clear = nnfp_lif_get_clear(in) != 0;
  p.refractory = (uint8_t)nnfp_lif_get_refractory(in);
  p.bias_exp = (uint8_t)nnfp_lif_get_bias_exp(in);
  p.bias_mant = (int16_t)nnfp_lif_get_bias_mant(in);
  uint32_t m = nnfp_lif_get_m(in), n = nnfp_lif_get_n(in);
  p.du = (uint16_t)nnfp_lif_get_du(in);
  p.dv = (uint16_t)nnfp_lif_get_dv(in);
  uint32_t a_base = nnfp_lif_get_a_base(in), s_base = nnfp_lif_get_s_base(in), o_base = nnfp_lif_get_o_base(in);
  p.vth = (int32_t)nnfp_lif_get_vth(in);
  if (m == 0 || n == 0) return 0;
  uint64_t nt_n = (n + R - 1) / R, words = nt_n * m;
  if (!(a_base < e->cfg.act_words && words <= e->cfg.act_words - a_base) ||
      !(o_base < e->cfg.act_words && words <= e->cfg.act_words - o_base) ||
      !(s_base < d->cfg.state_words && (uint64_t)m * n <= d->cfg.state_words - s_base) ||
      (a_base != o_base && ranges_overlap(a_base, words, o_base, words)))
    return -1;
  for (uint32_t nt = 0; nt < nt_n; nt++) {
    uint32_t lanes = n - nt * R < R ? n - nt * R : R;
    for (uint32_t r = 0; r < m; r++) {
      const uint8_t *a = e->act + ((size_t)a_base + (size_t)nt * m + r) * R;
      uint8_t spikes[64] = {0};
      for (uint32_t j = 0; j < lanes; j++) {
        uint32_t idx = s_base + r * n + nt * R + j;
        lif_entry st;
        if (clear) memset(&st, 0, sizeof st);
        else st = entry_get(d, idx);
        int sp = nnfm_lif_step(&p, &st.s, (int8_t)a[j]);
        if (counting) st.count += (uint32_t)sp;
        entry_put(d, idx, &st);
        spikes[j] = (uint8_t)sp;
      }
      memcpy(e->act + ((size_t)o_base + (size_t)nt * m + r) * R, spikes, R);
    }
  }
  d->stats.lif_updates += (uint64_t)m * n;
  return 0;
}

/* LOOP at d->pc (docs/protocol.md): one LOOP active at a time; a LOOP met
 * while another is active falls through, so every program ends. */
static void run_loop(nnfm_device *d, const uint8_t *in) {
  uint32_t count = nnfp_loop_get_count(in), target = nnfp_loop_get_target(in);
  uint32_t stride = d->cfg.rel ? nnfp_loop_get_stride(in) : 0; /* FEAT_REL */
  int jump = 0;
  if (d->loop_act && d->loop_pc == d->pc) {
    if (d->loop_left) {
      d->loop_left--;
      d->loop_off += stride;
      jump = 1;
    } else {
      d->loop_act = 0;
      d->loop_off = 0;
    }
  } else if (!d->loop_act && count > 1) {
    d->loop_act = 1;
    d->loop_pc = d->pc;
    d->loop_left = count - 2;
    d->loop_off = stride;
    jump = 1;
  }
  if (!jump) d->pc++;
  else d->pc = target < d->cfg.prog_words ? target : d->cfg.prog_words;
}

/* CONV and POOL records (docs/protocol.md): sizes stored minus one come
 * back plus one, so only KH, KW, Cin, N, C (0) and the relations between
 * fields (lo > hi, a kernel larger than the padded input, a pooling window
 * of padding only, the extents) can be refused, by the engine's checks. */
static void conv_decode(const uint8_t *in, nnfm_conv_cmd *c) {
  memset(c, 0, sizeof *c);
  c->lut = (int)nnfp_conv_get_lut(in);
  c->pool2 = nnfp_conv_get_pool2(in);
  c->zp = nnfp_conv_get_zp(in);
  c->lo = nnfp_conv_get_lo(in);
  c->hi = nnfp_conv_get_hi(in);
  c->zp_in = nnfp_conv_get_zp_in(in);
  c->kh = nnfp_conv_get_kh(in);
  c->kw = nnfp_conv_get_kw(in);
  c->sh = nnfp_conv_get_sh_m1(in) + 1;
  c->sw = nnfp_conv_get_sw_m1(in) + 1;
  c->ph = nnfp_conv_get_ph(in);
  c->pw = nnfp_conv_get_pw(in);
  c->cin = nnfp_conv_get_cin(in);
  c->n = nnfp_conv_get_n(in);
  c->h = nnfp_conv_get_h_m1(in) + 1;
  c->w = nnfp_conv_get_w_m1(in) + 1;
  c->b = nnfp_conv_get_b_m1(in) + 1;
  c->eh = nnfp_conv_get_eh(in);
  c->ew = nnfp_conv_get_ew(in);
  c->lut_sel = nnfp_conv_get_lut_idx(in);
  c->a_base = nnfp_conv_get_a_base(in);
  c->w_base = nnfp_conv_get_w_base(in);
  c->p_base = nnfp_conv_get_p_base(in);
  c->o_base = nnfp_conv_get_o_base(in);
}

static void pool_decode(const uint8_t *in, nnfm_pool_cmd *c) {
  memset(c, 0, sizeof *c);
  c->op = nnfp_pool_get_avg(in) ? NNFM_POOL_AVG : NNFM_POOL_MAX;
  c->global = nnfp_pool_get_global(in);
  c->lo = nnfp_pool_get_lo(in);
  c->hi = nnfp_pool_get_hi(in);
  c->kh = nnfp_pool_get_kh(in);
  c->kw = nnfp_pool_get_kw(in);
  c->sh = nnfp_pool_get_sh_m1(in) + 1;
  c->sw = nnfp_pool_get_sw_m1(in) + 1;
  c->ph = nnfp_pool_get_ph(in);
  c->pw = nnfp_pool_get_pw(in);
  c->c = nnfp_pool_get_c(in);
  c->h = nnfp_pool_get_h_m1(in) + 1;
  c->w = nnfp_pool_get_w_m1(in) + 1;
  c->b = nnfp_pool_get_b_m1(in) + 1;
  c->eh = nnfp_pool_get_eh(in);
  c->ew = nnfp_pool_get_ew(in);
  c->a_base = nnfp_pool_get_a_base(in);
  c->o_base = nnfp_pool_get_o_base(in);
}

static void pack_decode(const uint8_t *in, nnfm_pack_cmd *c) {
  memset(c, 0, sizeof *c);
  c->zp_in = nnfp_pack_get_zp_in(in);
  c->kw = nnfp_pack_get_kw(in);
  c->sw = nnfp_pack_get_sw_m1(in) + 1;
  c->pw = nnfp_pack_get_pw(in);
  c->cin = nnfp_pack_get_cin(in);
  c->h = nnfp_pack_get_h_m1(in) + 1;
  c->w = nnfp_pack_get_w_m1(in) + 1;
  c->b = nnfp_pack_get_b_m1(in) + 1;
  c->ew = nnfp_pack_get_ew(in);
  c->a_base = nnfp_pack_get_a_base(in);
  c->o_base = nnfp_pack_get_o_base(in);
}

/* EW record (docs/rnn.md); B relocated here (its field is 24 bits), A and O
 * in the record by run_program. */
static void ew_decode(const nnfm_device *d, const uint8_t *in, nnfm_ew_cmd *c) {
  memset(c, 0, sizeof *c);
  c->p.op = (int)nnfp_ew_get_op(in);
  c->p.zp_a = nnfp_ew_get_zp_a(in);
  c->p.zp_b = nnfp_ew_get_zp_b(in);
  c->p.m0_s = (int32_t)nnfp_ew_get_m0_s(in);
  c->p.shift_s = -(int)nnfp_ew_get_nshift_s(in);
  c->p.a_small = (int)nnfp_ew_get_a_small(in);
  c->p.m0 = (int32_t)nnfp_ew_get_m0(in);
  c->p.shift = nnfp_ew_get_shift(in);
  c->p.zp = nnfp_ew_get_zp(in);
  c->p.lo = nnfp_ew_get_lo(in);
  c->p.hi = nnfp_ew_get_hi(in);
  c->n = nnfp_ew_get_n(in);
  c->m = nnfp_ew_get_m(in);
  c->a_base = nnfp_ew_get_a_base(in);
  c->b_base = nnfp_ew_get_b_base(in) + (d->cfg.rel && nnfp_ew_get_b_rel(in) ? d->loop_off : 0);
  c->o_base = nnfp_ew_get_o_base(in);
  c->lut = (int)nnfp_ew_get_lut(in);
  c->lut_sel = nnfp_ew_get_lut_idx(in);
  c->p.round = d->cfg.tfl_round ? (int)nnfp_ew_get_tfl_round(in) : NNFM_ROUND_SINGLE;
}

/* DWCONV record (docs/conv.md, "The depthwise unit"); A and O relocated by
 * run_program. Byte 1's bits 0..4 are reserved (ignored). */
static void dwconv_decode(const nnfm_device *d, const uint8_t *in, nnfm_dwconv_cmd *c) {
  memset(c, 0, sizeof *c);
  c->zp = nnfp_dwconv_get_zp(in);
  c->lo = nnfp_dwconv_get_lo(in);
  c->hi = nnfp_dwconv_get_hi(in);
  c->zp_in = nnfp_dwconv_get_zp_in(in);
  c->kh = nnfp_dwconv_get_kh(in);
  c->kw = nnfp_dwconv_get_kw(in);
  c->sh = nnfp_dwconv_get_sh_m1(in) + 1;
  c->sw = nnfp_dwconv_get_sw_m1(in) + 1;
  c->ph = nnfp_dwconv_get_ph(in);
  c->pw = nnfp_dwconv_get_pw(in);
  c->c = nnfp_dwconv_get_c(in);
  c->h = nnfp_dwconv_get_h_m1(in) + 1;
  c->w = nnfp_dwconv_get_w_m1(in) + 1;
  c->b = nnfp_dwconv_get_b_m1(in) + 1;
  c->eh = nnfp_dwconv_get_eh(in);
  c->ew = nnfp_dwconv_get_ew(in);
  c->a_base = nnfp_dwconv_get_a_base(in);
  c->w_base = nnfp_dwconv_get_w_base(in);
  c->p_base = nnfp_dwconv_get_p_base(in);
  c->o_base = nnfp_dwconv_get_o_base(in);
  c->round = d->cfg.tfl_round ? (int)nnfp_dwconv_get_tfl_round(in) : NNFM_ROUND_SINGLE;
}

/* A refused instruction: the program stops at it (STATUS: BAD_INSN, pc). */
static void refuse(nnfm_device *d, uint64_t *count, int why) {
  (*count)++;
  d->stats.last_refusal = why;
  d->last_err = NNFP_E_BAD_INSN;
}

/* One CONV, POOL or PACK at d->pc: 0 done, -1 refused (the program stops). */
static int run_conv_pool(nnfm_device *d, uint32_t op, const uint8_t *in) {
  if (op == NNFP_OP_PACK) {
    nnfm_pack_cmd c;
    pack_decode(in, &c);
    int st = nnfm_engine_pack(d->eng, &c);
    if (st != NNFM_OK) {
      refuse(d, &d->stats.refused_packs, st);
      return -1;
    }
    d->stats.packs++;
  } else if (op == NNFP_OP_CONV) {
    nnfm_conv_cmd c = {0};
    uint64_t macs = 0;
    conv_decode(in, &c);
    c.round = d->cfg.tfl_round ? (int)nnfp_conv_get_tfl_round(in) : NNFM_ROUND_SINGLE;
    int st = nnfm_engine_conv(d->eng, &c, &macs);
    if (st != NNFM_OK) {
      refuse(d, &d->stats.refused_convs, st);
      return -1;
    }
    d->macs += macs;
    d->stats.convs++;
    uint64_t tiles, vec;
    d->stats.gemm_rows += nnfm_conv_stream_rows(&d->cfg.engine, &c, &tiles, &vec);
    d->stats.gemm_tiles += tiles;
    d->stats.vec_rows += vec;
  } else {
    nnfm_pool_cmd c;
    pool_decode(in, &c);
    int st = nnfm_engine_pool(d->eng, &c);
    if (st != NNFM_OK) {
      refuse(d, &d->stats.refused_pools, st);
      return -1;
    }
    d->stats.pools++;
  }
  return 0;
}

/* A + off (mod 2^32) into the 4-byte little-endian field at `ofs`. */
static void relocate(uint8_t *rec, unsigned ofs, uint32_t off) {
  uint32_t v = (uint32_t)rec[ofs] | (uint32_t)rec[ofs + 1] << 8 | (uint32_t)rec[ofs + 2] << 16 |
               (uint32_t)rec[ofs + 3] << 24;
  v += off;
  for (unsigned i = 0; i < 4; i++) rec[ofs + i] = (uint8_t)(v >> (8 * i));
}

/* BANK at d->pc (docs/protocol.md, Banks): 0 go on, 1 wait (the program is
 * suspended here until the host posts the bank), -1 refused. Everything
 * before it has finished (the model has no time), so a release is at once. */
static int run_bank(nnfm_device *d, const uint8_t *in) {
  int acq = nnfp_bank_get_acquire(in) != 0, rel = nnfp_bank_get_release(in) != 0;
  uint32_t ab = nnfp_bank_get_acq_bank(in), rb = nnfp_bank_get_rel_bank(in);
  if ((acq && ab >= d->cfg.banks) || (rel && rb >= d->cfg.banks)) {
    d->stats.refused_banks++;
    d->stats.last_refusal = NNFM_ERR_RANGE;
    d->last_err = NNFP_E_BAD_INSN;
    return -1;
  }
  if (rel) d->bank_full[rb] = 0;
  if (acq && !d->bank_full[ab]) {
    d->waiting = 1;
    d->wait_bank = ab;
    d->stats.bank_waits++;
    return 1;
  }
  return 0;
}

/* Run the program from d->pc until it ends, is refused, or waits at a BANK
 * acquire. A suspended program resumes after its BANK's release (done
 * before it waited) once the bank is full. */
static void resume(nnfm_device *d) {
  if (d->waiting) {
    if (!d->bank_full[d->wait_bank]) return;
    d->waiting = 0;
    d->pc++;
  }
  while (d->pc < d->cfg.prog_words) {
    /* the instruction as it runs: A (bytes 16..19) and O (28..31) relocated
     * by the LOOP offset where its flags ask (every record keeps them there) */
    uint8_t rec[NNFP_INSN_BYTES];
    memcpy(rec, d->prog + (size_t)d->pc * NNFP_INSN_BYTES, NNFP_INSN_BYTES);
    const uint8_t *in = rec;
    const uint32_t op = nnfp_insn_get_opcode(in);
    if (d->cfg.rel && op != NNFP_OP_LOOP && op != NNFP_OP_BARRIER) {
      if (nnfp_insn_get_a_rel(rec)) relocate(rec, NNFP_GEMM_A_BASE_OFS, d->loop_off);
      if (nnfp_insn_get_o_rel(rec)) relocate(rec, NNFP_GEMM_O_BASE_OFS, d->loop_off);
    }
    d->stats.insns++;
    if (op == NNFP_OP_BARRIER) {
      d->pc++;
      continue;
    }
    if (op == NNFP_OP_BANK && d->cfg.banks) {
      if (run_bank(d, in)) return;
      d->pc++;
      continue;
    }
    if (op == NNFP_OP_LOOP) {
      run_loop(d, in);
      continue;
    }
    if (op == NNFP_OP_LIF && d->cfg.state_words != 0) {
      if (run_lif(d, in) != 0) {
        refuse(d, &d->stats.refused_lifs, NNFM_ERR_SHAPE); /* STATUS: stopped here, refused */
        return;
      }
      d->pc++;
      continue;
    }
    if ((op == NNFP_OP_CONV || op == NNFP_OP_POOL || op == NNFP_OP_PACK) && d->cfg.conv) {
      if (run_conv_pool(d, op, in) != 0) return;
      d->pc++;
      continue;
    }
    if (op == NNFP_OP_DWCONV && d->cfg.dw) {
      nnfm_dwconv_cmd c;
      dwconv_decode(d, in, &c);
      int st = nnfp_dwconv_get_n(in) != c.c ? NNFM_ERR_RANGE : nnfm_engine_dwconv(d->eng, &c);
      if (st != NNFM_OK) {
        refuse(d, &d->stats.refused_dwconvs, st);
        return;
      }
      d->stats.dwconvs++;
      int oh = 0, ow = 0;
      nnfm_window g = {(int)c.b, (int)c.c, (int)c.h, (int)c.w, (int)c.kh, (int)c.kw, (int)c.sh, (int)c.sw,
                       (int)c.ph, (int)c.pw, (int)c.eh, (int)c.ew};
      nnfm_window_check(&g, 1, &oh, &ow);
      d->stats.dw_words += (uint64_t)((c.c + d->cfg.engine.rows - 1) / (uint32_t)d->cfg.engine.rows) *
                           (uint64_t)oh * (uint64_t)ow * c.b;
      d->pc++;
      continue;
    }
    if (op == NNFP_OP_EW && d->cfg.ew) {
      nnfm_ew_cmd c;
      ew_decode(d, in, &c);
      int st = nnfm_engine_ew(d->eng, &c);
      if (st != NNFM_OK) {
        refuse(d, &d->stats.refused_ews, st);
        return;
      }
      d->stats.ews++;
      d->stats.ew_words += (uint64_t)((c.n + d->cfg.engine.rows - 1) / (uint32_t)d->cfg.engine.rows) * c.m;
      d->pc++;
      continue;
    }
    if (op == NNFP_OP_ROW && d->cfg.row) {
      nnfm_row_cmd c = {0};
      c.op = (int)nnfp_row_get_op(in);
      c.tbl = (int)nnfp_row_get_tbl(in);
      c.n = nnfp_row_get_n(in);
      c.m = nnfp_row_get_m(in);
      c.a_base = nnfp_row_get_a_base(in);
      c.o_base = nnfp_row_get_o_base(in);
      c.zp_in = nnfp_row_get_zp_in(in);
      c.zp_out = nnfp_row_get_zp_out(in);
      c.eps_q = (int64_t)((uint64_t)nnfp_row_get_eps_hi(in) << 32 | nnfp_row_get_eps_lo(in)); /* > 2^62: refused */
      c.p_base = nnfp_row_get_p_base(in);
      int st = nnfm_engine_row(d->eng, &c);
      if (st != NNFM_OK) {
        refuse(d, &d->stats.refused_rows, st);
        return;
      }
      d->stats.rows++;
      d->stats.row_words += (uint64_t)((c.n + d->cfg.engine.rows - 1) / (uint32_t)d->cfg.engine.rows) * c.m;
      d->pc++;
      continue;
    }
    if (op == NNFP_OP_ACTW && d->cfg.row) {
      nnfm_actw_cmd c = {0};
      c.tr = (int)nnfp_actw_get_tr(in);
      c.sum = (int)nnfp_actw_get_sum(in);
      c.za = nnfp_actw_get_za(in);
      c.n = nnfp_actw_get_n(in);
      c.m = nnfp_actw_get_m(in);
      c.a_base = nnfp_actw_get_a_base(in);
      c.w_base = nnfp_actw_get_w_base(in);
      c.p_base = nnfp_actw_get_p_base(in);
      int st = nnfm_engine_actw(d->eng, &c);
      if (st != NNFM_OK) {
        refuse(d, &d->stats.refused_actws, st);
        return;
      }
      const uint64_t R = (uint64_t)d->cfg.engine.rows;
      d->stats.actws++;
      d->stats.actw_words += (c.n + R - 1) / R * ((c.m + R - 1) / R) * R;
      d->pc++;
      continue;
    }
    if (op != NNFP_OP_GEMM) return; /* END, reserved opcodes, CONV / POOL / PACK / EW / ROW / ACTW without them: stop */
    nnfm_cmd c = {0};
    c.lut = (int)nnfp_gemm_get_lut(in);
    c.lut_sel = nnfp_gemm_get_lut_idx(in);
    c.round = d->cfg.tfl_round ? (int)nnfp_gemm_get_tfl_round(in) : NNFM_ROUND_SINGLE;
    c.zp = nnfp_gemm_get_zp(in);
    c.lo = nnfp_gemm_get_lo(in);
    c.hi = nnfp_gemm_get_hi(in);
    c.m = (int)nnfp_gemm_get_m(in);
    c.k = (int)nnfp_gemm_get_k(in);
    c.n = (int)nnfp_gemm_get_n(in);
    c.a_base = nnfp_gemm_get_a_base(in);
    c.w_base = nnfp_gemm_get_w_base(in);
    c.p_base = nnfp_gemm_get_p_base(in);
    c.o_base = nnfp_gemm_get_o_base(in);
    uint64_t macs = 0;
    int st = nnfm_engine_gemm(d->eng, &c, &macs);
    if (st != NNFM_OK) {
      refuse(d, &d->stats.refused_gemms, st);
      return;
    }
    d->macs += macs;
    {
      const uint64_t R = (uint64_t)d->cfg.engine.rows;
      uint64_t kt = c.k ? (c.k + R - 1) / R : 1, nt = (c.n + R - 1) / R;
      d->stats.gemm_rows += nt * kt * c.m;
      d->stats.gemm_tiles += nt * kt;
      d->stats.vec_rows += nt * c.m;
    }
    d->pc++;
  }
}

static void run_program(nnfm_device *d, uint32_t entry) {
  d->pc = entry;
  d->waiting = 0; /* a program waiting at a BANK is abandoned */
  d->loop_act = 0;
  d->loop_pc = d->loop_left = 0;
  d->loop_off = 0;
  resume(d);
}

/* ---- the executor ---------------------------------------------------------- */

static uint8_t validate(const nnfm_device *d, const nnfp_header *h, int crc_ok, int tmo) {
  if (!crc_ok) return tmo ? NNFP_E_TIMEOUT : NNFP_E_BAD_CRC;
  switch (h->type) {
  case NNFP_INFO: case NNFP_WAIT: case NNFP_STATUS: case NNFP_COUNTERS: case NNFP_RESET:
    return h->len != 0 ? NNFP_E_BAD_LEN : 0;
  case NNFP_RUN:
    if (h->len != 0) return NNFP_E_BAD_LEN;
    return h->arg >= d->cfg.prog_words ? NNFP_E_BAD_PROG : 0;
  case NNFP_BWAIT: case NNFP_BPOST:
    if (!d->cfg.banks) return NNFP_E_UNKNOWN;
    if (h->len != 0) return NNFP_E_BAD_LEN;
    return h->arg >= d->cfg.banks ? NNFP_E_RANGE : 0;
  case NNFP_WRITE:
    if (h->len == 0) return NNFP_E_BAD_LEN;
    return in_range(d, h->arg, h->len) ? 0 : NNFP_E_RANGE;
  case NNFP_READ: {
    if (h->len != NNFP_READ_REQ_BYTES) return NNFP_E_BAD_LEN;
    uint32_t count = nnfp_read_req_get_count(d->payload);
    if (count == 0 || count > d->cfg.max_payload) return NNFP_E_BAD_LEN;
    return in_range(d, h->arg, count) ? 0 : NNFP_E_RANGE;
  }
  default:
    return NNFP_E_UNKNOWN;
  }
}

static void info_record(const nnfm_device *d, uint8_t r[NNFP_INFO_BYTES]) {
  const nnfm_config *c = &d->cfg.engine;
  memset(r, 0, NNFP_INFO_BYTES);
  nnfp_info_put_proto_version(r, NNFP_VERSION);
  nnfp_info_put_rtl_version(r, NNFP_RTL_VERSION);
  nnfp_info_put_rows(r, (uint32_t)c->rows);
  nnfp_info_put_cols(r, (uint32_t)c->cols);
  nnfp_info_put_features(r, NNFP_FEAT_GEMM | NNFP_FEAT_LUT |
                                (d->cfg.state_words ? NNFP_FEAT_LIF : 0) |
                                (d->cfg.vec_serial ? NNFP_FEAT_VEC_SERIAL : 0) |
                                (d->cfg.conv ? NNFP_FEAT_CONV | NNFP_FEAT_PACK | NNFP_FEAT_CONV_POOL : 0) |
                                (d->cfg.ew ? NNFP_FEAT_EW : 0) | (d->cfg.row ? NNFP_FEAT_ROW | NNFP_FEAT_ACTW : 0) | (d->cfg.dw ? NNFP_FEAT_DW : 0) | (d->cfg.rel ? NNFP_FEAT_REL : 0) |
                                (d->cfg.banks ? NNFP_FEAT_BANKS : 0) |
                                (d->cfg.tfl_round ? NNFP_FEAT_TFL_ROUND : 0));
  nnfp_info_put_act_words(r, c->act_words);
  nnfp_info_put_w_words(r, c->w_words);
  nnfp_info_put_p_words(r, c->p_words);
  nnfp_info_put_acc_depth(r, c->acc_depth);
  nnfp_info_put_prog_words(r, d->cfg.prog_words);
  nnfp_info_put_max_payload(r, d->cfg.max_payload);
  nnfp_info_put_credits(r, NNFP_CREDITS);
  nnfp_info_put_timeout_cycles(r, d->cfg.timeout_cycles);
  nnfp_info_put_clock_hz(r, d->cfg.clock_hz);
  nnfp_info_put_state_words(r, d->cfg.state_words);
  nnfp_info_put_luts(r, nnfm_config_luts(c));
  nnfp_info_put_banks(r, d->cfg.banks);
  nnfp_info_put_config_id(r, d->cfg.config_id);
}

static void execute(nnfm_device *d, const nnfp_header *h, int crc_ok, int tmo) {
  uint8_t err = validate(d, h, crc_ok, tmo);
  int retry = d->prev_valid && d->prev_seq == h->seq && d->prev_type == h->type;
  uint8_t buf[NNFP_COUNTERS_BYTES];
  if (err) {
    answer_err(d, h, err);
  } else {
    d->stats.frames_ok++;
    switch (h->type) {
    case NNFP_INFO:
      info_record(d, buf);
      answer(d, NNFP_OK(h->type), h->seq, buf, NNFP_INFO_BYTES);
      break;
    case NNFP_STATUS:
      memset(buf, 0, NNFP_STATUS_BYTES);
      /* never running between frames unless waiting at a BANK: a program runs
       * at once up to its end or its first acquire of an empty bank */
      nnfp_status_put_running(buf, (uint32_t)d->waiting);
      nnfp_status_put_waiting(buf, (uint32_t)d->waiting);
      nnfp_status_put_last_error(buf, d->last_err);
      nnfp_status_put_pc(buf, d->pc);
      answer(d, NNFP_OK(h->type), h->seq, buf, NNFP_STATUS_BYTES);
      break;
    case NNFP_COUNTERS:
      /* bytes_out counts what has left the device before this answer */
      nnfp_counters_put_cycles(buf, 0);
      nnfp_counters_put_busy(buf, 0);
      nnfp_counters_put_macs(buf, d->macs);
      nnfp_counters_put_stall(buf, 0);
      nnfp_counters_put_bytes_in(buf, d->bytes_in);
      nnfp_counters_put_bytes_out(buf, d->bytes_out + nnfm_device_tx_pending(d));
      nnfp_counters_put_frame_errors(buf, d->frame_errors);
      answer(d, NNFP_OK(h->type), h->seq, buf, NNFP_COUNTERS_BYTES);
      break;
    case NNFP_RESET:
      if (!retry && nnfp_reset_arg_abort_of(h->arg)) { /* stops a waiting program, empties the banks */
        d->waiting = 0;
        memset(d->bank_full, 0, sizeof d->bank_full);
      }
      if (!retry && nnfp_reset_arg_counters_of(h->arg)) {
        d->macs = d->bytes_in = d->bytes_out = d->frame_errors = 0;
        d->bytes_out = 0 - (uint64_t)nnfm_device_tx_pending(d); /* answers already queued were sent before */
      }
      answer(d, NNFP_OK(h->type), h->seq, NULL, 0);
      break;
    case NNFP_RUN:
      if (!retry) run_program(d, h->arg);
      answer(d, NNFP_OK(h->type), h->seq, NULL, 0);
      break;
    case NNFP_BPOST:
      if (!retry) {
        d->bank_full[h->arg] = 1;
        if (d->waiting) resume(d); /* (a program that ended, was refused or aborted stays so) */
      }
      answer(d, NNFP_OK(h->type), h->seq, NULL, 0);
      break;
    case NNFP_BWAIT:
      if (d->bank_full[h->arg] && d->waiting) { /* it would never be emptied */
        answer_err(d, h, NNFP_E_BANK);
        break;
      }
      d->bank_full[h->arg] = 0; /* empty, or no program runs to empty it */
      answer(d, NNFP_OK(h->type), h->seq, NULL, 0);
      break;
    case NNFP_READ: {
      uint32_t count = nnfp_read_req_get_count(d->payload);
      uint8_t *data = malloc(count);
      if (!data) return;
      unsigned region = nnfp_arg_region_of(h->arg);
      uint32_t addr = nnfp_arg_addr_of(h->arg);
      for (uint32_t i = 0; i < count; i++) data[i] = get_byte(d, region, addr + i);
      answer(d, NNFP_OK(h->type), h->seq, data, (uint16_t)count);
      free(data);
      break;
    }
    default: /* WRITE (already written), WAIT */
      answer(d, NNFP_OK(h->type), h->seq, NULL, 0);
      break;
    }
  }
  d->prev_valid = !err && (h->type == NNFP_RUN || h->type == NNFP_RESET || h->type == NNFP_BPOST);
  d->prev_seq = h->seq;
  d->prev_type = h->type;
}

void nnfm_device_rx(nnfm_device *d, const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    d->bytes_in++;
    nnfp_parse_event ev = nnfp_parse_byte(&d->parser, buf[i]);
    if (ev == NNFP_PARSE_BAD_HDR) {
      d->frame_errors++;
    } else if (ev == NNFP_PARSE_FRAME) {
      if (!d->parser.crc_ok) d->frame_errors++;
      write_payload(d, &d->parser.h, d->parser.h.len);
      execute(d, &d->parser.h, d->parser.crc_ok, 0);
    }
  }
}

void nnfm_device_idle_timeout(nnfm_device *d) {
  if (!nnfp_parser_in_frame(&d->parser)) return;
  d->frame_errors++;
  if (nnfp_parser_in_payload(&d->parser)) {
    uint32_t got = d->parser.pcnt;
    write_payload(d, &d->parser.h, got);
    nnfp_parser_reset(&d->parser);
    execute(d, &d->parser.h, 0, 1);
  } else {
    nnfp_parser_reset(&d->parser);
  }
}
