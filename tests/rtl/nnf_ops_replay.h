/*
 * nnf_ops_replay.h - run an operation list (nnf_ops.h) on the Verilated
 * engine through nnfsim's ports, driving them cycle for cycle as
 * tb_gemm_icarus.v does under Icarus, so both give the same bytes and the
 * same counters.
 */
#ifndef NNF_OPS_REPLAY_H
#define NNF_OPS_REPLAY_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nnf_ops.h"
#include "nnfsim.h"

typedef struct {
  uint64_t *w;
  size_t n;
} nnf_ops_list;

/* Read a list file into memory; 0 or -1. */
static inline int nnf_ops_load(const char *path, nnf_ops_list *l) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t cap = 1024;
  l->n = 0;
  l->w = malloc(cap * sizeof *l->w);
  uint64_t v;
  while (l->w && fscanf(f, "%" SCNx64, &v) == 1) {
    if (l->n == cap) {
      uint64_t *g = realloc(l->w, 2 * cap * sizeof *l->w);
      if (!g) {
        free(l->w);
        l->w = NULL;
        break;
      }
      l->w = g;
      cap *= 2;
    }
    l->w[l->n++] = v;
  }
  fclose(f);
  return l->w ? 0 : -1;
}

static inline void nnf_ops_free(nnf_ops_list *l) {
  free(l->w);
  l->w = NULL;
  l->n = 0;
}

typedef struct {
  uint64_t cycles, busy, macs; /* the counters at END */
} nnf_ops_counts;

static inline void nnf_ops_wait_idle_(nnfsim *s) {
  nnfsim_ports *p = nnfsim_ports_of(s);
  while (p->busy) nnfsim_step(s, 1);
}

/* Reset the engine (4 cycles, as the testbench) and run the list; read bytes
 * go to out (may be NULL) in the testbench's format. 0, or -1 with a message
 * in err (a bad op, another configuration, max_cycles exceeded). */
static inline int nnf_ops_replay(nnfsim *s, const nnf_ops_list *l, FILE *out, uint64_t max_cycles,
                                 nnf_ops_counts *res, char *err, size_t errlen) {
  nnfsim_ports *p = nnfsim_ports_of(s);
  nnfm_config cfg = nnfsim_config(s);
  nnfsim_reset(s, 4);
  for (size_t pc = 0;;) {
    if (p->cnt_cycles > max_cycles) {
      snprintf(err, errlen, "timeout after %" PRIu64 " cycles (op %zu)", p->cnt_cycles, pc);
      return -1;
    }
    uint64_t op = pc < l->n ? l->w[pc] : 0;
    pc++;
    switch ((int)(op >> 60)) {
    case NNF_OP_END:
      nnf_ops_wait_idle_(s);
      if (out) fprintf(out, "macs %" PRIu64 "\n", p->cnt_macs);
      res->cycles = p->cnt_cycles;
      res->busy = p->cnt_busy;
      res->macs = p->cnt_macs;
      return 0;
    case NNF_OP_CFG:
      if ((int)(op >> 40 & 0xff) != nnf_ops_lg((uint64_t)cfg.rows) ||
          (int)(op >> 32 & 0xff) != nnf_ops_lg((uint64_t)cfg.cols) ||
          (int)(op >> 24 & 0xff) != nnf_ops_lg(cfg.act_words) ||
          (int)(op >> 16 & 0xff) != nnf_ops_lg(cfg.w_words) ||
          (int)(op >> 8 & 0xff) != nnf_ops_lg(cfg.p_words) || (int)(op & 0xff) != nnf_ops_lg(cfg.acc_depth)) {
        snprintf(err, errlen, "the list is for another configuration (%016" PRIx64 ")", op);
        return -1;
      }
      break;
    case NNF_OP_WRITE: {
      int region = (int)(op >> 40 & 3);
      if (region != 0) nnf_ops_wait_idle_(s);
      p->hp_we = 1;
      p->hp_sel = (uint8_t)region;
      p->hp_addr = (uint32_t)(op >> 8);
      p->hp_wdata = (uint8_t)op;
      do nnfsim_step(s, 1);
      while (p->hp_wait);
      p->hp_we = 0;
      break;
    }
    case NNF_OP_CMD: {
      if (pc + 3 > l->n) {
        snprintf(err, errlen, "truncated command at op %zu", pc - 1);
        return -1;
      }
      uint64_t w1 = l->w[pc], w2 = l->w[pc + 1], w3 = l->w[pc + 2];
      pc += 3;
      p->cmd_m = (uint16_t)(op >> 32);
      p->cmd_k = (uint16_t)(op >> 16);
      p->cmd_n = (uint16_t)op;
      p->cmd_a_base = (uint32_t)(w1 >> 32);
      p->cmd_w_base = (uint32_t)w1;
      p->cmd_p_base = (uint32_t)(w2 >> 32);
      p->cmd_o_base = (uint32_t)w2;
      p->cmd_zp = (int8_t)(w3 >> 24);
      p->cmd_lo = (int8_t)(w3 >> 16);
      p->cmd_hi = (int8_t)(w3 >> 8);
      p->cmd_lut = (uint8_t)(w3 & 1);
      p->cmd_valid = 1;
      for (;;) { /* taken on the edge where cmd_ready was high */
        int ready = p->cmd_ready;
        nnfsim_step(s, 1);
        if (ready) break;
      }
      p->cmd_valid = 0;
      break;
    }
    case NNF_OP_READ: {
      if (pc >= l->n) {
        snprintf(err, errlen, "truncated read at op %zu", pc - 1);
        return -1;
      }
      uint64_t len = l->w[pc++] & 0xffffffffu;
      nnf_ops_wait_idle_(s);
      p->hp_re = 1;
      p->hp_sel = (uint8_t)(op >> 40 & 3);
      for (uint64_t i = 0; i < len; i++) {
        p->hp_addr = (uint32_t)(op >> 8) + (uint32_t)i;
        nnfsim_step(s, 1);
        if (out) fprintf(out, "%02x\n", p->hp_rdata);
      }
      p->hp_re = 0;
      break;
    }
    case NNF_OP_SYNC: nnf_ops_wait_idle_(s); break;
    default: snprintf(err, errlen, "bad op %016" PRIx64 " at %zu", op, pc - 1); return -1;
    }
  }
}

#endif /* NNF_OPS_REPLAY_H */
