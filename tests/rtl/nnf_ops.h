/*
 * nnf_ops.h - operation lists for the GEMM engine's ports: the stimulus the
 * Icarus testbench (tb_gemm_icarus.v) runs, and that nnf_ops_replay()
 * (nnf_ops_replay.h) runs on the Verilated engine, cycle for cycle the same.
 *
 * An operation list is a text file of 64-bit words, one per line, in hex:
 *
 *   op [63:60]   fields
 *   0  END       wait for idle, then report the counters
 *   1  CFG       [47:40] log2 ROWS, [39:32] log2 COLS, [31:24] log2 ACT_WORDS,
 *                [23:16] log2 W_WORDS, [15:8] log2 P_WORDS, [7:0] log2 ACC_DEPTH
 *   2  WRITE     [41:40] region, [39:8] byte address, [7:0] data; one byte per
 *                cycle; W/P/LUT writes wait for idle first, ACT writes do
 *                not (held while hp_wait)
 *   3  CMD       [47:0] {m, k, n}; then three words {a_base, w_base},
 *                {p_base, o_base}, {zp, lo, hi, 7'b0, lut} in [31:0]; held
 *                valid until taken (two CMDs in a row run back to back)
 *   4  READ      [41:40] region, [39:8] byte address; then one word: length;
 *                waits for idle, one byte per cycle
 *   5  SYNC      wait for idle
 *
 * Every byte read is one output line of two hex digits; the last line is
 * "macs <cnt_macs>". The builder below writes the list and, from the
 * functional model run alongside, the output expected of it.
 */
#ifndef NNF_OPS_H
#define NNF_OPS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nnfm.h"

enum { NNF_OP_END = 0, NNF_OP_CFG, NNF_OP_WRITE, NNF_OP_CMD, NNF_OP_READ, NNF_OP_SYNC };

typedef struct {
  FILE *ops;       /* the list */
  FILE *expect;    /* the expected output (may be NULL) */
  nnfm_engine *e;  /* the model, holding what the device will hold */
  uint64_t macs;   /* the model's MAC count so far */
  uint64_t words;  /* words written */
} nnf_ops;

static inline int nnf_ops_lg(uint64_t v) {
  int n = 0;
  while (v > 1) v >>= 1, n++;
  return n;
}

static inline void nnf_ops_word(nnf_ops *o, uint64_t w) {
  fprintf(o->ops, "%016" PRIx64 "\n", w);
  o->words++;
}

static inline void nnf_ops_cfg(nnf_ops *o) {
  const nnfm_config *c = &o->e->cfg;
  nnf_ops_word(o, (uint64_t)NNF_OP_CFG << 60 | (uint64_t)nnf_ops_lg((uint64_t)c->rows) << 40 |
                      (uint64_t)nnf_ops_lg((uint64_t)c->cols) << 32 | (uint64_t)nnf_ops_lg(c->act_words) << 24 |
                      (uint64_t)nnf_ops_lg(c->w_words) << 16 | (uint64_t)nnf_ops_lg(c->p_words) << 8 |
                      (uint64_t)nnf_ops_lg(c->acc_depth));
}

/* Write bytes to the model and the same bytes to the list. */
static inline int nnf_ops_write(nnf_ops *o, int region, uint32_t addr, const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    int st = nnfm_engine_write_byte(o->e, region, addr + (uint32_t)i, buf[i]);
    if (st) return st;
    nnf_ops_word(o, (uint64_t)NNF_OP_WRITE << 60 | (uint64_t)(region & 3) << 40 |
                        (uint64_t)(addr + (uint32_t)i) << 8 | buf[i]);
  }
  return NNFM_OK;
}

/* Send the model's bytes [addr, addr+len) of a region (filled by the packing
 * helpers) to the device. P: only bytes 0..8 of each slot carry anything. */
static inline int nnf_ops_upload(nnf_ops *o, int region, uint32_t addr, size_t len) {
  for (size_t i = 0; i < len; i++) {
    uint8_t b;
    uint32_t a = addr + (uint32_t)i;
    if (region == 2 && a % 16 >= 9) continue;
    int st = nnfm_engine_read_byte(o->e, region, a, &b);
    if (st) return st;
    nnf_ops_word(o, (uint64_t)NNF_OP_WRITE << 60 | (uint64_t)(region & 3) << 40 | (uint64_t)a << 8 | b);
  }
  return NNFM_OK;
}

/* Upload the words a layer reads: its A (unless keep_a), W, P entries. */
static inline int nnf_ops_upload_layer(nnf_ops *o, const nnfm_cmd *c, int keep_a) {
  const nnfm_config *cfg = &o->e->cfg;
  int st = NNFM_OK;
  if (!keep_a)
    st = nnf_ops_upload(o, 0, c->a_base * (uint32_t)cfg->rows,
                        (size_t)nnfm_act_words(cfg, c->m, c->k) * (size_t)cfg->rows);
  if (!st)
    st = nnf_ops_upload(o, 1, c->w_base * (uint32_t)cfg->cols,
                        (size_t)nnfm_w_words(cfg, c->k, c->n) * (size_t)cfg->cols);
  if (!st)
    st = nnf_ops_upload(o, 2, c->p_base * (uint32_t)cfg->cols * 16u,
                        (size_t)nnfm_p_entries(cfg, c->n) * (size_t)cfg->cols * 16u);
  return st;
}

/* A command: on the model now, on the device when the list runs. */
static inline int nnf_ops_cmd(nnf_ops *o, const nnfm_cmd *c) {
  uint64_t macs = 0;
  int st = nnfm_engine_gemm(o->e, c, &macs);
  if (st) return st;
  o->macs += macs;
  nnf_ops_word(o, (uint64_t)NNF_OP_CMD << 60 | (uint64_t)(c->m & 0xffff) << 32 |
                      (uint64_t)(c->k & 0xffff) << 16 | (uint64_t)(c->n & 0xffff));
  nnf_ops_word(o, (uint64_t)c->a_base << 32 | c->w_base);
  nnf_ops_word(o, (uint64_t)c->p_base << 32 | c->o_base);
  nnf_ops_word(o, (uint64_t)(uint8_t)c->zp << 24 | (uint64_t)(uint8_t)c->lo << 16 |
                      (uint64_t)(uint8_t)c->hi << 8 | (uint64_t)(c->lut & 1));
  return NNFM_OK;
}

/* Read bytes back; the expected bytes are the model's at this point. */
static inline int nnf_ops_read(nnf_ops *o, int region, uint32_t addr, size_t len) {
  nnf_ops_word(o, (uint64_t)NNF_OP_READ << 60 | (uint64_t)(region & 3) << 40 | (uint64_t)addr << 8);
  nnf_ops_word(o, (uint64_t)len);
  for (size_t i = 0; i < len; i++) {
    uint8_t b;
    int st = nnfm_engine_read_byte(o->e, region, addr + (uint32_t)i, &b);
    if (st) return st;
    if (o->expect) fprintf(o->expect, "%02x\n", b);
  }
  return NNFM_OK;
}

/* Read a command's whole output region. */
static inline int nnf_ops_read_output(nnf_ops *o, const nnfm_cmd *c) {
  const nnfm_config *cfg = &o->e->cfg;
  size_t words = (size_t)nnfm_p_entries(cfg, c->n) * c->m;
  return nnf_ops_read(o, 0, c->o_base * (uint32_t)cfg->rows, words * (size_t)cfg->rows);
}

static inline void nnf_ops_sync(nnf_ops *o) { nnf_ops_word(o, (uint64_t)NNF_OP_SYNC << 60); }

static inline void nnf_ops_end(nnf_ops *o) {
  nnf_ops_word(o, (uint64_t)NNF_OP_END << 60);
  if (o->expect) fprintf(o->expect, "macs %" PRIu64 "\n", o->macs);
}

#endif /* NNF_OPS_H */
