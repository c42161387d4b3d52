/* nnfm_snap.h: snapshots of a model engine's buffers for the unit tests
 * (test_engine.c, test_conv.c): take a copy, compare every buffer with it
 * (a refused command must leave them untouched), fill them with garbage
 * (so a test sees what it did not write), and a small configuration. */
#ifndef NNFM_SNAP_H
#define NNFM_SNAP_H

#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfm.h"

typedef struct {
  uint8_t *act, *w;
  int32_t *bias, *m0;
  int8_t *shift;
  int8_t lut[256];
} snap;

static inline size_t act_bytes(const nnfm_engine *e) { return (size_t)e->cfg.act_words * e->cfg.rows; }
static inline size_t w_bytes(const nnfm_engine *e) { return (size_t)e->cfg.w_words * e->cfg.cols; }
static inline size_t p_slots(const nnfm_engine *e) { return (size_t)e->cfg.p_words * e->cfg.cols; }

static inline snap snap_take(const nnfm_engine *e) {
  snap s;
  s.act = malloc(act_bytes(e));
  s.w = malloc(w_bytes(e));
  s.bias = malloc(p_slots(e) * sizeof(int32_t));
  s.m0 = malloc(p_slots(e) * sizeof(int32_t));
  s.shift = malloc(p_slots(e));
  CHECK(s.act && s.w && s.bias && s.m0 && s.shift);
  memcpy(s.act, e->act, act_bytes(e));
  memcpy(s.w, e->w, w_bytes(e));
  memcpy(s.bias, e->bias, p_slots(e) * sizeof(int32_t));
  memcpy(s.m0, e->m0, p_slots(e) * sizeof(int32_t));
  memcpy(s.shift, e->shift, p_slots(e));
  memcpy(s.lut, e->lut, 256);
  return s;
}

static inline void snap_free(snap *s) {
  free(s->act), free(s->w), free(s->bias), free(s->m0), free(s->shift);
}

/* Every buffer of e equals the snapshot. */
static inline void check_same(const nnfm_engine *e, const snap *s) {
  CHECK_MEM_EQ(e->act, s->act, act_bytes(e));
  CHECK_MEM_EQ(e->w, s->w, w_bytes(e));
  CHECK_MEM_EQ(e->bias, s->bias, p_slots(e) * sizeof(int32_t));
  CHECK_MEM_EQ(e->m0, s->m0, p_slots(e) * sizeof(int32_t));
  CHECK_MEM_EQ(e->shift, s->shift, p_slots(e));
  CHECK_MEM_EQ(e->lut, s->lut, 256);
}

/* Random bytes in every buffer (about half the m0 invalid: m0 < 0). */
static inline void fill_garbage(nnf_rng *r, nnfm_engine *e) {
  nnf_rng_fill(r, e->act, act_bytes(e));
  nnf_rng_fill(r, e->w, w_bytes(e));
  nnf_rng_fill(r, e->bias, p_slots(e) * sizeof(int32_t));
  nnf_rng_fill(r, e->m0, p_slots(e) * sizeof(int32_t));
  nnf_rng_fill(r, e->shift, p_slots(e));
  nnf_rng_fill(r, e->lut, 256);
}

static inline nnfm_config small_cfg(int rows, uint32_t act, uint32_t w, uint32_t p, uint32_t acc) {
  nnfm_config c = {rows, rows, act, w, p, acc, 1};
  return c;
}

#endif
