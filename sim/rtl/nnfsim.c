/*
 * nnfsim.c - the conveniences of nnfsim.h, in plain C over the engine's ports
 * (nnfsim_ports_of + nnfsim_step): host-port transfers, loading a model
 * engine's buffers, and commands with the model's checks.
 *
 * Every transfer goes through the RTL's byte-wide host port, one byte per
 * cycle, exactly as a board's link adapter would drive it: nothing here
 * reaches into the Verilated model's memories.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfsim_impl.h"

#define P_BYTES 16u   /* host-port bytes per P slot (entry, lane) */
#define P_USED 9u     /* of which bias 0..3, m0 4..7, shift 8 */

int nnfsim_fail_(nnfsim *s, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(nnfsim_host_of_(s)->err, NNFSIM_ERR_LEN, fmt, ap);
  va_end(ap);
  return status;
}

const char *nnfsim_last_error(const nnfsim *s) {
  if (!s) return "NULL simulator handle";
  return nnfsim_host_of_const_(s)->err;
}

static const char *region_name(int region) {
  static const char *names[4] = {"ACT", "W", "P", "LUT"};
  return region >= 0 && region < 4 ? names[region] : "?";
}

static int check_region(nnfsim *s, const char *what, int region, uint32_t addr, size_t len) {
  nnfm_config cfg = nnfsim_config(s);
  uint64_t bytes = nnfm_region_bytes(&cfg, region);
  if (bytes == 0) return nnfsim_fail_(s, NNFSIM_ERR_RANGE, "%s: no region %d", what, region);
  if ((uint64_t)addr > bytes || (uint64_t)len > bytes - addr)
    return nnfsim_fail_(s, NNFSIM_ERR_RANGE, "%s: %s bytes %lu..+%zu outside the region (%llu bytes)",
                        what, region_name(region), (unsigned long)addr, len,
                        (unsigned long long)bytes);
  return NNFSIM_OK;
}

/* ---- host port ---------------------------------------------------------------- */

/* Cycles an ACT write may wait for the output writer: it takes a free cycle
 * at least once per output row, so this is only a guard against a hang. */
#define HP_WAIT_LIMIT (1ull << 32)

int nnfsim_write(nnfsim *s, int region, uint32_t addr, const uint8_t *buf, size_t len) {
  if (!s) return NNFSIM_ERR_NULL;
  if (!buf && len) return nnfsim_fail_(s, NNFSIM_ERR_NULL, "write: NULL buffer");
  int rc = check_region(s, "write", region, addr, len);
  if (rc) return rc;
  nnfsim_ports *p = nnfsim_ports_of(s);
  if (p->busy && region != 0)
    return nnfsim_fail_(s, NNFSIM_ERR_BUSY, "write: %s while a command runs", region_name(region));
  p->hp_re = 0;
  p->hp_we = 1;
  p->hp_sel = (uint8_t)region;
  for (size_t i = 0; i < len; i++) {
    p->hp_addr = addr + (uint32_t)i;
    p->hp_wdata = buf[i];
    uint64_t waited = 0;
    for (;;) {
      nnfsim_step(s, 1);
      if (!p->hp_wait) break; /* taken */
      if (++waited >= HP_WAIT_LIMIT) {
        p->hp_we = 0;
        return nnfsim_fail_(s, NNFSIM_ERR_TIMEOUT, "write: ACT byte %lu never taken",
                            (unsigned long)p->hp_addr);
      }
    }
  }
  p->hp_we = 0;
  return NNFSIM_OK;
}

int nnfsim_read(nnfsim *s, int region, uint32_t addr, uint8_t *buf, size_t len) {
  if (!s) return NNFSIM_ERR_NULL;
  if (!buf && len) return nnfsim_fail_(s, NNFSIM_ERR_NULL, "read: NULL buffer");
  int rc = check_region(s, "read", region, addr, len);
  if (rc) return rc;
  nnfsim_ports *p = nnfsim_ports_of(s);
  if (p->busy) return nnfsim_fail_(s, NNFSIM_ERR_BUSY, "read: %s while a command runs", region_name(region));
  p->hp_we = 0;
  p->hp_re = 1;
  p->hp_sel = (uint8_t)region;
  for (size_t i = 0; i < len; i++) { /* data is valid the cycle after hp_re */
    p->hp_addr = addr + (uint32_t)i;
    nnfsim_step(s, 1);
    buf[i] = p->hp_rdata;
  }
  p->hp_re = 0;
  return NNFSIM_OK;
}

int nnfsim_load_engine(nnfsim *s, const nnfm_engine *e) {
  if (!s) return NNFSIM_ERR_NULL;
  if (!e) return nnfsim_fail_(s, NNFSIM_ERR_NULL, "load_engine: NULL engine");
  nnfm_config d = nnfsim_config(s), c = e->cfg;
  if (c.rows != d.rows || c.cols != d.cols || c.act_words != d.act_words ||
      c.w_words != d.w_words || c.p_words != d.p_words || c.acc_depth != d.acc_depth)
    return nnfsim_fail_(s, NNFSIM_ERR_SHAPE,
                        "load_engine: engine configuration %dx%d act %lu w %lu p %lu acc %lu is not "
                        "the device's %dx%d act %lu w %lu p %lu acc %lu",
                        c.rows, c.cols, (unsigned long)c.act_words, (unsigned long)c.w_words,
                        (unsigned long)c.p_words, (unsigned long)c.acc_depth, d.rows, d.cols,
                        (unsigned long)d.act_words, (unsigned long)d.w_words,
                        (unsigned long)d.p_words, (unsigned long)d.acc_depth);
  if (!e->act || !e->w || !e->bias || !e->m0 || !e->shift)
    return nnfsim_fail_(s, NNFSIM_ERR_NULL, "load_engine: engine without buffers");
  if (nnfsim_ports_of(s)->busy)
    return nnfsim_fail_(s, NNFSIM_ERR_BUSY, "load_engine: a command runs");
  int rc = nnfsim_write(s, 0, 0, e->act, (size_t)nnfm_region_bytes(&d, 0));
  if (!rc) rc = nnfsim_write(s, 1, 0, e->w, (size_t)nnfm_region_bytes(&d, 1));
  const uint64_t slots = (uint64_t)d.p_words * (uint64_t)d.cols;
  for (uint64_t i = 0; !rc && i < slots; i++) {
    uint8_t rec[P_USED];
    uint32_t addr = (uint32_t)(i * P_BYTES);
    if (nnfm_engine_read_bytes(e, 2, addr, rec, P_USED) != NNFM_OK)
      return nnfsim_fail_(s, NNFSIM_ERR_RANGE, "load_engine: P slot %llu", (unsigned long long)i);
    rc = nnfsim_write(s, 2, addr, rec, P_USED);
  }
  if (!rc) rc = nnfsim_write(s, 3, 0, (const uint8_t *)e->lut, 256);
  return rc;
}

/* ---- commands ------------------------------------------------------------------ */

static int status_of_model(int st) {
  switch (st) {
  case NNFM_OK: return NNFSIM_OK;
  case NNFM_ERR_NULL: return NNFSIM_ERR_NULL;
  case NNFM_ERR_SHAPE: return NNFSIM_ERR_SHAPE;
  default: return NNFSIM_ERR_RANGE;
  }
}

/* A generous cycle limit for a command: each (N tile, M block, K tile) streams
 * its rows (COLS cycles apart at worst, VEC_SERIAL) after a weight tile load
 * and before the pipeline drains. Only a guard against a hang. */
static uint64_t cmd_limit(const nnfm_config *cfg, const nnfm_cmd *c) {
  const uint64_t R = (uint64_t)cfg->rows, C = (uint64_t)cfg->cols, D = cfg->acc_depth;
  const uint64_t KT = c->k ? (c->k + R - 1) / R : 1, NT = (c->n + C - 1) / C;
  const uint64_t MB = (c->m + D - 1) / D;
  return 1024 + 2 * NT * KT * ((uint64_t)c->m * C + MB * 4 * (R + C + 8));
}

static void fmt_cmd(char *buf, size_t n, const nnfm_cmd *c) {
  snprintf(buf, n, "M=%lu K=%lu N=%lu a=%lu w=%lu p=%lu o=%lu zp=%ld lo=%ld hi=%ld lut=%d",
           (unsigned long)c->m, (unsigned long)c->k, (unsigned long)c->n,
           (unsigned long)c->a_base, (unsigned long)c->w_base, (unsigned long)c->p_base,
           (unsigned long)c->o_base, (long)c->zp, (long)c->lo, (long)c->hi, c->lut);
}

/* The (m0, shift) of P lanes 0..n-1 from entry p_base, as the device holds
 * them, into a stand-in engine's slots (read through the host port). */
static int read_p_lanes(nnfsim *s, nnfm_engine *f, uint32_t n_lanes, uint32_t p_base) {
  const size_t C = (size_t)f->cfg.cols;
  int rc = NNFSIM_OK;
  for (uint32_t n = 0; !rc && n < n_lanes; n++) {
    size_t slot = ((size_t)p_base + n / C) * C + n % C;
    uint8_t b[5] = {0};
    rc = nnfsim_read(s, 2, (uint32_t)(slot * P_BYTES + 4), b, sizeof b);
    f->m0[slot] = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                            (uint32_t)b[3] << 24);
    f->shift[slot] = (int8_t)b[4];
  }
  return rc;
}

/* A stand-in engine for the model's checks: the device's configuration and
 * (m0, shift) slots for P entries p_base .. p_base + ceil(n / cols) - 1 (as
 * far as they fit), all (0, 0), a valid pair; no buffers. 0, or -1 when out
 * of memory (nothing to free then). */
static int standin_open(nnfsim *s, nnfm_engine *f, uint32_t n, uint32_t p_base) {
  const nnfm_config cfg = nnfsim_config(s);
  const uint64_t C = (uint64_t)cfg.cols;
  uint64_t entries = (uint64_t)p_base + (n + C - 1) / C;
  if (entries > cfg.p_words) entries = cfg.p_words;
  const size_t slots = (size_t)(entries * C) + 1;
  memset(f, 0, sizeof *f);
  f->cfg = cfg;
  f->m0 = calloc(slots, sizeof *f->m0);
  f->shift = calloc(slots, sizeof *f->shift);
  if (f->m0 && f->shift) return 0;
  free(f->m0);
  free(f->shift);
  return -1;
}

/* nnfm_engine_check's rules on the device: the fields and buffer ranges on a
 * stand-in engine with the device's configuration (nothing touched), then the
 * used lanes' (m0, shift) as the device holds them, read through the host port. */
static int check_cmd(nnfsim *s, const char *what, const nnfm_cmd *c) {
  if (!c) return nnfsim_fail_(s, NNFSIM_ERR_NULL, "%s: NULL command", what);
  /* The check reads P slots only when entries p_base .. p_base+NT-1 fit. */
  nnfm_engine f;
  if (standin_open(s, &f, c->n, c->p_base)) return nnfsim_fail_(s, NNFSIM_ERR_RANGE, "%s: out of memory", what);
  char desc[200];
  fmt_cmd(desc, sizeof desc, c);
  int st = nnfm_engine_check(&f, c);
  int rc = NNFSIM_OK;
  if (st != NNFM_OK) {
    rc = nnfsim_fail_(s, status_of_model(st), "%s: %s (%s)", what, nnfm_strerror(st), desc);
  } else if (c->m && c->n) {
    if (nnfsim_ports_of(s)->busy) {
      rc = nnfsim_fail_(s, NNFSIM_ERR_BUSY, "%s: a command runs", what);
    } else {
      rc = read_p_lanes(s, &f, c->n, c->p_base);
      if (!rc && (st = nnfm_engine_check(&f, c)) != NNFM_OK)
        rc = nnfsim_fail_(s, status_of_model(st), "%s: invalid (m0, shift) in P (%s)", what, desc);
    }
  }
  free(f.m0);
  free(f.shift);
  return rc;
}

/* Offer a checked command on the command port for one cycle. */
static int issue(nnfsim *s, const nnfm_cmd *c) {
  nnfsim_ports *p = nnfsim_ports_of(s);
  if (p->busy || !p->cmd_ready) return nnfsim_fail_(s, NNFSIM_ERR_BUSY, "gemm: a command runs");
  p->hp_we = 0;
  p->hp_re = 0;
  p->cmd_m = (uint16_t)c->m;
  p->cmd_k = (uint16_t)c->k;
  p->cmd_n = (uint16_t)c->n;
  p->cmd_a_base = c->a_base;
  p->cmd_w_base = c->w_base;
  p->cmd_p_base = c->p_base;
  p->cmd_o_base = c->o_base;
  p->cmd_zp = (int8_t)c->zp;
  p->cmd_lo = (int8_t)c->lo;
  p->cmd_hi = (int8_t)c->hi;
  p->cmd_lut = (uint8_t)c->lut;
  p->cmd_valid = 1;
  nnfsim_step(s, 1); /* cmd_ready was high: accepted on this edge */
  p->cmd_valid = 0;
  /* The port owes the engine nothing after acceptance: scramble it, so an
   * RTL that kept reading it (a real bug, once) fails every comparison. */
  p->cmd_m = (uint16_t)~p->cmd_m;
  p->cmd_k = (uint16_t)~p->cmd_k;
  p->cmd_n = (uint16_t)~p->cmd_n;
  p->cmd_a_base = ~p->cmd_a_base;
  p->cmd_w_base = ~p->cmd_w_base;
  p->cmd_p_base = ~p->cmd_p_base;
  p->cmd_o_base = ~p->cmd_o_base;
  p->cmd_zp = (int8_t)~p->cmd_zp;
  p->cmd_lo = (int8_t)~p->cmd_lo;
  p->cmd_hi = (int8_t)~p->cmd_hi;
  p->cmd_lut = (uint8_t)!p->cmd_lut;
  nnfsim_host *h = nnfsim_host_of_(s);
  nnfm_config cfg = nnfsim_config(s);
  h->pending = 1;
  h->limit = cmd_limit(&cfg, c);
  return NNFSIM_OK;
}

int nnfsim_gemm_start(nnfsim *s, const nnfm_cmd *c) {
  if (!s) return NNFSIM_ERR_NULL;
  int rc = check_cmd(s, "gemm", c);
  return rc ? rc : issue(s, c);
}

int nnfsim_gemm_wait(nnfsim *s, uint64_t max_cycles) {
  if (!s) return NNFSIM_ERR_NULL;
  nnfsim_ports *p = nnfsim_ports_of(s);
  nnfsim_host *h = nnfsim_host_of_(s);
  uint64_t limit = max_cycles ? max_cycles : (h->pending ? h->limit : HP_WAIT_LIMIT);
  /* busy falls on the edge that raises done */
  for (uint64_t n = 0; p->busy; n++) {
    if (n >= limit)
      return nnfsim_fail_(s, NNFSIM_ERR_TIMEOUT, "gemm: no done within %llu cycles",
                          (unsigned long long)limit);
    nnfsim_step(s, 1);
  }
  h->pending = 0;
  return NNFSIM_OK;
}

int nnfsim_gemm(nnfsim *s, const nnfm_cmd *c, uint64_t max_cycles, uint64_t *busy_cycles,
                uint64_t *macs) {
  if (!s) return NNFSIM_ERR_NULL;
  nnfsim_ports *p = nnfsim_ports_of(s);
  int rc = check_cmd(s, "gemm", c);
  if (rc) return rc;
  const uint64_t busy0 = p->cnt_busy, macs0 = p->cnt_macs;
  if ((rc = issue(s, c)) != NNFSIM_OK) return rc;
  if ((rc = nnfsim_gemm_wait(s, max_cycles)) != NNFSIM_OK) return rc;
  if (busy_cycles) *busy_cycles = p->cnt_busy - busy0;
  if (macs) *macs = p->cnt_macs - macs0;
  return NNFSIM_OK;
}

int nnfsim_conv(nnfsim *s, const nnfm_conv_cmd *c, uint64_t max_cycles, uint64_t *busy_cycles,
                uint64_t *macs) {
  if (!s) return NNFSIM_ERR_NULL;
  if (!c) return nnfsim_fail_(s, NNFSIM_ERR_NULL, "conv: NULL command");
  nnfsim_ports *p = nnfsim_ports_of(s);
  const nnfm_config cfg = nnfsim_config(s);
  const uint64_t R = (uint64_t)cfg.rows;
  /* the model's check on a stand-in engine: fields and ranges first (every
   * P pair valid), then the used lanes' pairs as the device holds them */
  nnfm_engine f;
  if (standin_open(s, &f, c->n, c->p_base)) return nnfsim_fail_(s, NNFSIM_ERR_RANGE, "conv: out of memory");
  int rc = NNFSIM_OK, st;
  if ((st = nnfm_engine_conv_check(&f, c)) != NNFM_OK) {
    rc = nnfsim_fail_(s, status_of_model(st), "conv: %s", nnfm_strerror(st));
  } else if (p->busy) {
    rc = nnfsim_fail_(s, NNFSIM_ERR_BUSY, "conv: a command runs");
  } else if (!(rc = read_p_lanes(s, &f, c->n, c->p_base)) &&
             (st = nnfm_engine_conv_check(&f, c)) != NNFM_OK) {
    rc = nnfsim_fail_(s, status_of_model(st), "conv: invalid (m0, shift) in P");
  }
  free(f.m0);
  free(f.shift);
  if (rc) return rc;
  /* the geometry nnf_insn_check computes */
  nnfm_window g = {(int)c->b, (int)c->cin, (int)c->h, (int)c->w, (int)c->kh, (int)c->kw,
                   (int)c->sh, (int)c->sw, (int)c->ph, (int)c->pw, (int)c->eh, (int)c->ew};
  int oh = 0, ow = 0;
  if (nnfm_window_check(&g, 0, &oh, &ow) != NNFM_OK)
    return nnfsim_fail_(s, NNFSIM_ERR_RANGE, "conv: window");
  const uint32_t ct = (uint32_t)((c->cin + R - 1) / R);
  /* pool2: the pooled sizes; the rows walked are 4*M */
  if (c->pool2) oh /= 2, ow /= 2;
  const uint32_t M = (uint32_t)oh * (uint32_t)ow * c->b * (c->pool2 ? 4u : 1u);
  nnfm_cmd e = {0}; /* the GEMM the port carries besides the geometry */
  memset(&e, 0, sizeof e);
  e.m = M, e.k = c->cin, e.n = c->n;
  e.a_base = c->a_base, e.w_base = c->w_base, e.p_base = c->p_base, e.o_base = c->o_base;
  e.zp = c->zp, e.lo = c->lo, e.hi = c->hi, e.lut = c->lut;
  p->cmd_conv = 1;
  p->cmd_pool2 = (uint8_t)(c->pool2 ? 1 : 0);
  p->cmd_kt = (uint16_t)(c->kh * c->kw * ct), p->cmd_ct = (uint16_t)ct;
  p->cmd_h = (uint16_t)c->h, p->cmd_w = (uint16_t)c->w, p->cmd_b = (uint16_t)c->b;
  p->cmd_oh = (uint16_t)oh, p->cmd_ow = (uint16_t)ow;
  p->cmd_kh = (uint8_t)c->kh, p->cmd_kw = (uint8_t)c->kw, p->cmd_sh = (uint8_t)c->sh;
  p->cmd_sw = (uint8_t)c->sw, p->cmd_ph = (uint8_t)c->ph, p->cmd_pw = (uint8_t)c->pw;
  p->cmd_wb = c->w * c->b, p->cmd_hwb = c->h * c->w * c->b;
  p->cmd_zp_in = (int8_t)c->zp_in;
  const uint64_t busy0 = p->cnt_busy, macs0 = p->cnt_macs;
  rc = issue(s, &e);
  /* scrambled after acceptance, as the GEMM fields are */
  p->cmd_conv = 0;
  p->cmd_pool2 ^= 1;
  p->cmd_kt = (uint16_t)~p->cmd_kt, p->cmd_ct = (uint16_t)~p->cmd_ct;
  p->cmd_h = (uint16_t)~p->cmd_h, p->cmd_w = (uint16_t)~p->cmd_w, p->cmd_b = (uint16_t)~p->cmd_b;
  p->cmd_oh = (uint16_t)~p->cmd_oh, p->cmd_ow = (uint16_t)~p->cmd_ow;
  p->cmd_kh ^= 7, p->cmd_kw ^= 7, p->cmd_sh ^= 7, p->cmd_sw ^= 7, p->cmd_ph ^= 7, p->cmd_pw ^= 7;
  p->cmd_wb = ~p->cmd_wb, p->cmd_hwb = ~p->cmd_hwb, p->cmd_zp_in = (int8_t)~p->cmd_zp_in;
  if (rc) return rc;
  nnfm_cmd lim = e; /* the cycle guard of the GEMM with as many K tiles */
  lim.k = (uint32_t)(c->kh * c->kw * ct * R);
  nnfsim_host_of_(s)->limit = cmd_limit(&cfg, &lim);
  if ((rc = nnfsim_gemm_wait(s, max_cycles)) != NNFSIM_OK) return rc;
  if (busy_cycles) *busy_cycles = p->cnt_busy - busy0;
  if (macs) *macs = p->cnt_macs - macs0;
  return NNFSIM_OK;
}
