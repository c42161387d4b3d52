/*
 * rtl_harness.h - the RTL tests' mirror: the simulated device (nnfsim) and the
 * functional model (nnfm_engine) side by side, holding the same buffer images.
 *
 * Every host write goes to the model first and is then copied to the device
 * byte for byte through the host port (so the device image is the model image
 * by construction), every command runs on both, and comparisons read the
 * device back through the host port. A mismatch fails with the region, word,
 * byte and both values, plus the test context (seed, case, command).
 */
#ifndef RTL_HARNESS_H
#define RTL_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfm.h"
#include "nnfsim.h"

typedef struct {
  nnfsim *s;
  nnfm_engine *e;
  nnfm_config cfg;
} rtl_h;

static const char *const rtl_region_name[4] = {"ACT", "W", "P", "LUT"};

static inline uint64_t rtl_region_bytes(const nnfm_config *c, int region) {
  switch (region) {
  case 0: return (uint64_t)c->act_words * (uint64_t)c->rows;
  case 1: return (uint64_t)c->w_words * (uint64_t)c->cols;
  case 2: return (uint64_t)c->p_words * (uint64_t)c->cols * 16u;
  default: return 256;
  }
}

/* Bytes per word of a region (ACT rows, W cols, P 16 per slot, LUT 1). */
static inline uint32_t rtl_word_bytes(const nnfm_config *c, int region) {
  return region == 0 ? (uint32_t)c->rows : region == 1 ? (uint32_t)c->cols : region == 2 ? 16u : 1u;
}

/* Create both sides; the device's configuration (read from the RTL) sizes
 * the model. Both images start as the same random bytes (valid (m0, shift)
 * in P), loaded through nnfsim_load_engine, and are compared in full. */
static inline void rtl_open(rtl_h *h, uint64_t seed) {
  h->s = nnfsim_create();
  CHECK(h->s != NULL);
  h->cfg = nnfsim_config(h->s);
  CHECK_OK(nnfm_config_check(&h->cfg));
  h->e = nnfm_engine_create(&h->cfg);
  CHECK(h->e != NULL);
  nnf_rng r = nnf_rng_seed(seed ^ 0x5151u);
  nnf_rng_fill(&r, h->e->act, rtl_region_bytes(&h->cfg, 0));
  nnf_rng_fill(&r, h->e->w, rtl_region_bytes(&h->cfg, 1));
  size_t slots = (size_t)h->cfg.p_words * (size_t)h->cfg.cols;
  for (size_t i = 0; i < slots; i++) {
    h->e->bias[i] = (int32_t)nnf_rng_u32(&r);
    h->e->m0[i] = (int32_t)(nnf_rng_u32(&r) >> 1);
    h->e->shift[i] = (int8_t)nnf_rng_range(&r, NNFM_SHIFT_MIN, NNFM_SHIFT_MAX);
  }
  nnf_rng_fill(&r, h->e->lut, 256);
  CHECK_OK(nnfsim_load_engine(h->s, h->e));
}

static inline void rtl_close(rtl_h *h) {
  nnfsim_destroy(h->s);
  nnfm_engine_destroy(h->e);
  memset(h, 0, sizeof *h);
}

/* Copy bytes [addr, addr+len) of a region from the model image to the device. */
static inline void rtl_upload(rtl_h *h, int region, uint64_t addr, uint64_t len) {
  if (!len) return;
  uint8_t *buf = malloc((size_t)len);
  CHECK(buf != NULL);
  CHECK_OK(nnfm_engine_read_bytes(h->e, region, (uint32_t)addr, buf, (size_t)len));
  CHECK_OK(nnfsim_write(h->s, region, (uint32_t)addr, buf, (size_t)len));
  free(buf);
}

/* Read bytes [addr, addr+len) of a region from the device and compare them
 * with the model image; report the first difference by word and byte. */
static inline void rtl_compare(rtl_h *h, int region, uint64_t addr, uint64_t len, const char *what) {
  if (!len) return;
  uint8_t *dev = malloc((size_t)len), *mod = malloc((size_t)len);
  CHECK(dev && mod);
  CHECK_OK(nnfm_engine_read_bytes(h->e, region, (uint32_t)addr, mod, (size_t)len));
  int rc = nnfsim_read(h->s, region, (uint32_t)addr, dev, (size_t)len);
  if (rc) fprintf(stderr, "nnfsim_read: %s\n", nnfsim_last_error(h->s));
  CHECK_OK(rc);
  for (uint64_t i = 0; i < len; i++) {
    if (dev[i] != mod[i]) {
      uint32_t wb = rtl_word_bytes(&h->cfg, region);
      uint64_t a = addr + i;
      char m[400];
      snprintf(m, sizeof m,
               "%s: %s word %" PRIu64 " byte %" PRIu64 " (byte address %" PRIu64
               "): RTL 0x%02x (%d), model 0x%02x (%d)",
               what, rtl_region_name[region], a / wb, a % wb, a, dev[i], (int8_t)dev[i], mod[i],
               (int8_t)mod[i]);
      nnf_test_fail_(__FILE__, __LINE__, m);
    }
  }
  nnf_test_checks_++;
  free(dev);
  free(mod);
}

/* Compare whole ACT words [word, word + n) (clipped to the buffer). */
static inline void rtl_compare_act_words(rtl_h *h, int64_t word, int64_t n, const char *what) {
  if (word < 0) {
    n += word;
    word = 0;
  }
  if (word + n > (int64_t)h->cfg.act_words) n = (int64_t)h->cfg.act_words - word;
  if (n <= 0) return;
  rtl_compare(h, 0, (uint64_t)word * (uint64_t)h->cfg.rows, (uint64_t)n * (uint64_t)h->cfg.rows, what);
}

/* Compare every region in full. */
static inline void rtl_compare_all(rtl_h *h, const char *what) {
  for (int r = 0; r < 4; r++) rtl_compare(h, r, 0, rtl_region_bytes(&h->cfg, r), what);
}

/* Upload the model's words of a layer's inputs (the packing helpers already
 * wrote the model): A words, W words, P slots (bytes 0..8 of each), LUT. */
static inline void rtl_upload_act_words(rtl_h *h, uint32_t word, uint64_t n) {
  rtl_upload(h, 0, (uint64_t)word * (uint64_t)h->cfg.rows, n * (uint64_t)h->cfg.rows);
}
static inline void rtl_upload_w_words(rtl_h *h, uint32_t word, uint64_t n) {
  rtl_upload(h, 1, (uint64_t)word * (uint64_t)h->cfg.cols, n * (uint64_t)h->cfg.cols);
}
static inline void rtl_upload_p_entries(rtl_h *h, uint32_t entry, uint64_t n) {
  uint64_t C = (uint64_t)h->cfg.cols;
  for (uint64_t slot = entry * C; slot < (entry + n) * C; slot++) rtl_upload(h, 2, slot * 16, 9);
}
static inline void rtl_upload_lut(rtl_h *h) { rtl_upload(h, 3, 0, 256); }

#endif /* RTL_HARNESS_H */
