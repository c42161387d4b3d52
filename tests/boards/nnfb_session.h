/*
 * nnfb_session.h - a seeded conversation with the device, cut into chunks
 * (one frame, or a burst of garbage), each with the answer bytes the
 * functional model (nnfm_device, byte-identical to the RTL) gives to it.
 * A link test sends chunk i over its wire, waits for exactly answer i and
 * compares it byte for byte: stop-and-wait, as the driver talks.
 *
 * The conversation: INFO; ACT, W, P, LUT and PROG written; a two-layer GEMM
 * program (ragged edges, the LUT) RUN, WAIT, outputs READ, STATUS; a frame
 * with a damaged payload (ERR BAD_CRC); garbage with sync bytes in it; INFO
 * and a READ of PROG; a WRITE / READ round trip of random ACT bytes.
 * Header-only (static functions), shared by the tests in tests/boards/.
 */
#ifndef NNFB_SESSION_H
#define NNFB_SESSION_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfb_sim.h"
#include "nnfdrv.h"
#include "nnf_proto.h"
#include "nnfm_device.h"

enum { NNFB_MAX_CHUNKS = 128, NNFB_CHUNK_MAX = 1200 };

typedef struct {
  uint8_t in[NNFB_CHUNK_MAX];
  size_t nin;
  uint8_t out[NNFB_CHUNK_MAX];
  size_t nout;
  int garbage;            /* 1: not a frame (the device may be left mid-header) */
} nnfb_chunk;

typedef struct {
  nnfb_chunk c[NNFB_MAX_CHUNKS];
  int n;
  uint8_t seq;
  nnfm_device *dev;
} nnfb_session;

/* The model's configuration: that of the Verilated tops (nnfb_sim.h). */
static nnfm_device_config nnfb_model_config(void) {
  nnfm_device_config cfg = nnfm_device_config_default();
  cfg.engine.rows = cfg.engine.cols = NNFB_ROWS;
  cfg.engine.act_words = NNFB_ACT_WORDS;
  cfg.engine.w_words = NNFB_W_WORDS;
  cfg.engine.p_words = NNFB_P_WORDS;
  cfg.engine.acc_depth = NNFB_ACC_DEPTH;
  cfg.prog_words = NNFB_PROG_WORDS;
  cfg.state_words = NNFB_STATE_WORDS;
  cfg.max_payload = NNFB_MAX_PAYLOAD;
  cfg.timeout_cycles = NNFB_TIMEOUT;
  cfg.clock_hz = 0;
  cfg.vec_serial = NNFB_VEC_SERIAL;
  return cfg;
}

/* Close the chunk being built: the model answers it. */
static void nnfb_end_chunk(nnfb_session *s) {
  nnfb_chunk *c = &s->c[s->n];
  nnfm_device_rx(s->dev, c->in, c->nin);
  c->nout = nnfm_device_tx(s->dev, c->out, sizeof c->out);
  CHECK(nnfm_device_tx_pending(s->dev) == 0);
  s->n++;
  CHECK(s->n < NNFB_MAX_CHUNKS);
}

static void nnfb_frame(nnfb_session *s, uint8_t type, uint32_t arg, const void *pl, uint16_t len) {
  nnfb_chunk *c = &s->c[s->n];
  memset(c, 0, sizeof *c);
  CHECK(nnfp_frame_size(len) <= sizeof c->in);
  c->nin = nnfp_encode(c->in, type, ++s->seq, arg, pl, len);
  nnfb_end_chunk(s);
}

static void nnfb_write(nnfb_session *s, int region, uint32_t addr, const uint8_t *p, size_t len) {
  while (len > 0) {
    uint16_t n = (uint16_t)(len > 200 ? 200 : len);
    nnfb_frame(s, NNFP_WRITE, ((uint32_t)region << NNFP_ARG_REGION_LSB) | addr, p, n);
    p += n;
    addr += n;
    len -= n;
  }
}

static void nnfb_read(nnfb_session *s, int region, uint32_t addr, uint32_t len) {
  uint8_t c[4];
  nnfp_put32(c, len);
  nnfb_frame(s, NNFP_READ, ((uint32_t)region << NNFP_ARG_REGION_LSB) | addr, c, 4);
}

/* Build the whole conversation (s->dev is created here; destroy it after). */
static void nnfb_session_build(nnfb_session *s, uint64_t seed) {
  memset(s, 0, sizeof *s);
  nnf_rng r = nnf_rng_seed(seed);
  nnfm_device_config cfg = nnfb_model_config();
  s->dev = nnfm_device_create(&cfg);
  nnfm_engine *img = nnfm_engine_create(&cfg.engine);
  CHECK(s->dev && img);
  const nnfm_config *c = &cfg.engine;

  nnfb_frame(s, NNFP_INFO, 0, NULL, 0);
  /* layer 1: 5 x 9 -> 7 ; layer 2: 5 x 7 -> 3 with the LUT */
  enum { M = 5, K1 = 9, N1 = 7, N2 = 3 };
  int8_t a[M * K1], w1[K1 * N1], w2[N1 * N2], lut[256];
  int32_t b1[N1], m1[N1], b2[N2], m2[N2];
  int8_t s1[N1], s2[N2];
  nnf_rng_fill(&r, a, sizeof a);
  for (size_t i = 0; i < sizeof w1; i++) w1[i] = (int8_t)nnf_rng_range(&r, -127, 127);
  for (size_t i = 0; i < sizeof w2; i++) w2[i] = (int8_t)nnf_rng_range(&r, -127, 127);
  for (int j = 0; j < N1; j++) {
    b1[j] = (int32_t)nnf_rng_range(&r, -3000, 3000);
    m1[j] = (int32_t)nnf_rng_range(&r, 1 << 30, 0x7FFFFFFF);
    s1[j] = (int8_t)nnf_rng_range(&r, -8, 0);
  }
  for (int j = 0; j < N2; j++) {
    b2[j] = (int32_t)nnf_rng_range(&r, -300, 300);
    m2[j] = (int32_t)nnf_rng_range(&r, 1 << 30, 0x7FFFFFFF);
    s2[j] = (int8_t)nnf_rng_range(&r, -6, 0);
  }
  nnf_rng_fill(&r, lut, sizeof lut);
  uint32_t h0 = nnfm_act_words(c, M, K1), o0 = h0 + nnfm_act_words(c, M, N1);
  uint32_t w2b = nnfm_w_words(c, K1, N1), p2 = nnfm_p_entries(c, N1);
  CHECK_OK(nnfm_engine_put_act(img, 0, a, M, K1));
  CHECK_OK(nnfm_engine_put_weights(img, 0, w1, K1, N1));
  CHECK_OK(nnfm_engine_put_weights(img, w2b, w2, N1, N2));
  CHECK_OK(nnfm_engine_put_params(img, 0, b1, m1, s1, N1));
  CHECK_OK(nnfm_engine_put_params(img, p2, b2, m2, s2, N2));
  static uint8_t buf[8192];
  size_t n = (size_t)h0 * c->rows;
  CHECK(n <= sizeof buf);
  CHECK_OK(nnfm_engine_read_bytes(img, 0, 0, buf, n));
  nnfb_write(s, NNFDRV_ACT, 0, buf, n);
  n = (size_t)(w2b + nnfm_w_words(c, N1, N2)) * c->cols;
  CHECK(n <= sizeof buf);
  CHECK_OK(nnfm_engine_read_bytes(img, 1, 0, buf, n));
  nnfb_write(s, NNFDRV_W, 0, buf, n);
  n = (size_t)(p2 + nnfm_p_entries(c, N2)) * c->cols * 16;
  CHECK(n <= sizeof buf);
  CHECK_OK(nnfm_engine_read_bytes(img, 2, 0, buf, n));
  nnfb_write(s, NNFDRV_P, 0, buf, n);
  nnfb_write(s, NNFDRV_LUT, 0, (const uint8_t *)lut, 256);

  uint8_t prog[3 * 32];
  nnfdrv_gemm g1 = {M, K1, N1, 0, 0, 0, h0, -3, -3, 127, 0, NNFM_ROUND_SINGLE};
  nnfdrv_gemm g2 = {M, N1, N2, h0, w2b, p2, o0, 5, -100, 100, 1, NNFM_ROUND_SINGLE};
  nnfdrv_insn_gemm(prog, &g1);
  nnfdrv_insn_gemm(prog + 32, &g2);
  nnfdrv_insn_end(prog + 64);
  nnfb_write(s, NNFDRV_PROG, 0, prog, sizeof prog);
  nnfb_frame(s, NNFP_RUN, 0, NULL, 0);
  nnfb_frame(s, NNFP_WAIT, 0, NULL, 0);
  nnfb_read(s, NNFDRV_ACT, h0 * c->rows, (o0 + nnfm_act_words(c, M, N2) - h0) * c->rows);
  nnfb_frame(s, NNFP_STATUS, 0, NULL, 0);

  /* a damaged payload: ERR BAD_CRC */
  uint8_t junk[40];
  nnf_rng_fill(&r, junk, sizeof junk);
  nnfb_chunk *ch = &s->c[s->n];
  memset(ch, 0, sizeof *ch);
  ch->nin = nnfp_encode(ch->in, NNFP_WRITE, ++s->seq, 7u * 8u, junk, sizeof junk);
  ch->in[20] ^= 0x01;
  nnfb_end_chunk(s);

  /* garbage with sync bytes, then padding so a header it began ends */
  ch = &s->c[s->n];
  memset(ch, 0, sizeof *ch);
  for (int i = 0; i < 80; i++) {
    uint8_t g = (uint8_t)nnf_rng_u32(&r);
    if (i % 29 == 0) g = 0xA5;
    if (i % 29 == 1) g = 0x5A;
    ch->in[ch->nin++] = g;
  }
  memset(ch->in + ch->nin, 0, 16);
  ch->nin += 16;
  ch->garbage = 1;
  nnfb_end_chunk(s);

  nnfb_frame(s, NNFP_INFO, 0, NULL, 0);
  nnfb_read(s, NNFDRV_PROG, 0, 96);
  uint8_t rt[150];
  nnf_rng_fill(&r, rt, sizeof rt);
  nnfb_write(s, NNFDRV_ACT, 64, rt, sizeof rt);
  nnfb_read(s, NNFDRV_ACT, 64, sizeof rt);
  nnfm_engine_destroy(img);
}

#endif /* NNFB_SESSION_H */
