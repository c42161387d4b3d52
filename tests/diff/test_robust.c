/*
 * test_robust.c - the device robustness cases of issue 25, exactly as
 * reported, on the default simulated core (nnfsim_core: 8x8, timeout 65536
 * cycles) against the functional model (label rtl):
 *
 *   timeout_byte    a WRITE cut after 6 of 8 payload bytes, the line idle for
 *                   65535 / 65536 / 65537 cycles, then INFO and a READ of
 *                   ACT 0..7: every answer as the model's; at 65536 exactly
 *                   ERR TIMEOUT, INFO, and ACT = 01..06 00 00
 *   timeout_header  a header cut after 5 bytes, the same gaps, then INFO
 *   counters_bytes  COUNTERS and one more byte back to back: bytes in = 14
 *   huge_gemm       GEMM m = k = n = 65535: refused before any side effect
 *                   (STATUS: not running, error 7 BAD_INSN, pc 0; no MACs)
 *   abort_gemm      RESET with the abort bit during a 131072-row GEMM: busy
 *                   ends within ABORT_BOUND cycles, the output words written
 *                   are a prefix of the output (each equal to the model's),
 *                   every other word unchanged, and the device then runs the
 *                   next program exactly as the model
 *   abort_lif       the same for a LIF of 16384 neurons
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnf_proto.h"
#include "nnfm.h"
#include "nnfm_device.h"
#include "nnfsim_core.h"

/* docs/protocol.md, RESET: an issued GEMM or LIF ends within this many cycles
 * after RESET's answer has been sent, at the default 8x8 configuration
 * (2 * (ROWS + COLS) + 16 = 48; measured: see the test's output). */
enum { ABORT_BOUND = 48 };

static uint8_t out[1 << 20];

typedef struct {
  nnfsim_core *c;
  nnfm_device *m;
  uint8_t mout[1 << 20];
  size_t rtl_n, mod_n;
} pair;

static pair *pair_new(void) {
  pair *p = calloc(1, sizeof *p);
  nnfm_device_config cfg = nnfm_device_config_default();
  cfg.config_id = NNF_SIM_CONFIG_ID; /* the default sim's configs/ file */
  p->c = nnfsim_core_create();
  p->m = nnfm_device_create(&cfg);
  CHECK(p->c && p->m);
  return p;
}

static void pair_free(pair *p) {
  nnfsim_core_destroy(p->c);
  nnfm_device_destroy(p->m);
  free(p);
}

/* Bytes to both; then `gap` idle cycles after the RTL took the last one
 * (the model: a timeout when gap >= timeout_cycles). */
static void send(pair *p, const uint8_t *b, size_t n, uint32_t gap) {
  size_t used = 0, none = 0;
  uint64_t spent = 0;
  while (used < n && spent < 10000000)
    spent += nnfsim_core_run(p->c, b, n, &used, out, sizeof out, &p->rtl_n, 10000000 - spent,
                             NNFSIM_RUN_UNTIL_TAKEN);
  CHECK_EQ(used, n);
  if (gap) nnfsim_core_run(p->c, NULL, 0, &none, out, sizeof out, &p->rtl_n, gap, 0);
  nnfm_device_rx(p->m, b, n);
  if (gap >= 65536 && nnfm_device_in_frame(p->m)) nnfm_device_idle_timeout(p->m);
  p->mod_n += nnfm_device_tx(p->m, p->mout + p->mod_n, sizeof p->mout - p->mod_n);
}

/* Run the RTL until it has sent as many bytes as the model (within max
 * cycles); returns the cycles it took. */
static uint64_t settle(pair *p, uint64_t max) {
  size_t none = 0;
  uint64_t n = 0;
  while (p->rtl_n < p->mod_n && n < max)
    n += nnfsim_core_run(p->c, NULL, 0, &none, out, sizeof out, &p->rtl_n, 16, 0);
  return n;
}

static void same_answers(pair *p, const char *what) {
  nnf_test_ctx("%s", what);
  settle(p, 1000000);
  CHECK_EQ(p->rtl_n, p->mod_n);
  CHECK_MEM_EQ(out, p->mout, p->mod_n);
}

static const uint8_t WRITE_CUT[] = {0xa5, 0x5a, 0x02, 0x09, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0xaa, 0x1f, 0xcc, 0x5e, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
static const uint8_t INFO[] = {0xa5, 0x5a, 0x01, 0x0a, 0x00, 0x00, 0x00, 0x00,
                               0x00, 0x00, 0xb9, 0x80, 0xf8, 0x0d};
static const uint8_t READ8[] = {0xa5, 0x5a, 0x03, 0x0b, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66,
                                0xce, 0x3b, 0x72, 0x08, 0x00, 0x00, 0x00, 0xf3, 0xf7, 0xf0, 0xe4};

static void test_timeout_byte(void) {
  for (uint32_t gap = 65535; gap <= 65537; gap++) {
    pair *p = pair_new();
    char what[64];
    snprintf(what, sizeof what, "timeout_byte, gap %u", gap);
    send(p, WRITE_CUT, sizeof WRITE_CUT, gap);
    send(p, INFO, sizeof INFO, 0);
    settle(p, 100000);
    send(p, READ8, sizeof READ8, 0);
    same_answers(p, what);
    if (gap == 65536) { /* the reported case, spelled out */
      size_t o = 0;
      CHECK_EQ(nnfp_hdr_get_type(out + o), NNFP_ERR);
      CHECK_EQ(nnfp_err_get_code(out + o + NNFP_HDR_BYTES), NNFP_E_TIMEOUT);
      o += nnfp_frame_size(2);
      CHECK_EQ(nnfp_hdr_get_type(out + o), NNFP_OK(NNFP_INFO));
      o += nnfp_frame_size(NNFP_INFO_BYTES);
      CHECK_EQ(nnfp_hdr_get_type(out + o), NNFP_OK(NNFP_READ));
      static const uint8_t act[8] = {1, 2, 3, 4, 5, 6, 0, 0};
      CHECK_MEM_EQ(out + o + NNFP_HDR_BYTES, act, 8);
    }
    pair_free(p);
  }
}

static void test_timeout_header(void) {
  static const uint8_t cut[] = {0xa5, 0x5a, 0x01, 0x09, 0x00};
  for (uint32_t gap = 65535; gap <= 65537; gap++) {
    pair *p = pair_new();
    char what[64];
    snprintf(what, sizeof what, "timeout_header, gap %u", gap);
    send(p, cut, sizeof cut, gap);
    send(p, INFO, sizeof INFO, 0);
    same_answers(p, what);
    if (gap >= 65536) CHECK_EQ(nnfp_hdr_get_type(out), NNFP_OK(NNFP_INFO));
    pair_free(p);
  }
}

static void test_counters_bytes(void) {
  static const uint8_t f[] = {0xa5, 0x5a, 0x07, 0x01, 0x00, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0xc4, 0xdd, 0x90, 0xc9, 0x00};
  pair *p = pair_new();
  send(p, f, sizeof f, 0);
  settle(p, 100000);
  nnf_test_ctx("counters_bytes");
  CHECK_EQ(p->rtl_n, nnfp_frame_size(NNFP_COUNTERS_BYTES));
  CHECK_EQ(nnfp_hdr_get_type(out), NNFP_OK(NNFP_COUNTERS));
  CHECK_EQ(nnfp_counters_get_bytes_in(out + NNFP_HDR_BYTES), 14); /* bytes in: the frame's own 14 */
  CHECK_EQ(nnfp_get64(p->mout + NNFP_HDR_BYTES + 32), 14);
  pair_free(p);
}

static size_t frame(uint8_t *f, uint8_t type, uint8_t seq, uint32_t arg, const void *pl, size_t n) {
  return nnfp_encode(f, type, seq, arg, pl, (uint16_t)n);
}

static void status(pair *p, uint8_t seq, uint8_t st[4]) {
  uint8_t f[32];
  size_t before = p->rtl_n;
  size_t n = frame(f, NNFP_STATUS, seq, 0, NULL, 0);
  size_t used = 0;
  nnfsim_core_run(p->c, f, n, &used, out, sizeof out, &p->rtl_n, 1000, NNFSIM_RUN_UNTIL_TAKEN);
  CHECK_EQ(used, n);
  size_t none = 0;
  for (int i = 0; i < 200 && p->rtl_n < before + nnfp_frame_size(4); i++)
    nnfsim_core_run(p->c, NULL, 0, &none, out, sizeof out, &p->rtl_n, 8, 0);
  CHECK_EQ(p->rtl_n, before + nnfp_frame_size(4));
  memcpy(st, out + before + NNFP_HDR_BYTES, 4);
  /* keep the model's stream in step (its STATUS differs while running) */
  nnfm_device_rx(p->m, f, n);
  p->mod_n += nnfm_device_tx(p->m, p->mout + p->mod_n, sizeof p->mout - p->mod_n);
  memcpy(p->mout + p->mod_n - nnfp_frame_size(4), out + before, nnfp_frame_size(4));
}

static void test_huge_gemm(void) {
  static const uint8_t prog[] = {
      0xa5, 0x5a, 0x02, 0x01, 0x20, 0x00, 0x00, 0x00, 0x00, 0x40, 0x06, 0x97, 0x00, 0xf0,
      0x01, 0x00, 0x00, 0x80, 0x7f, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x60, 0xb2, 0x59, 0x69};
  pair *p = pair_new();
  uint8_t f[64];
  send(p, prog, sizeof prog, 0);
  send(p, f, frame(f, NNFP_RUN, 2, 0, NULL, 0), 0);
  send(p, f, frame(f, NNFP_WAIT, 3, 0, NULL, 0), 0);
  nnf_test_ctx("huge_gemm: WAIT");
  CHECK(settle(p, 2000) < 2000); /* refused in a few cycles, not 27 hours */
  send(p, f, frame(f, NNFP_STATUS, 4, 0, NULL, 0), 0);
  send(p, f, frame(f, NNFP_COUNTERS, 5, 0, NULL, 0), 0);
  send(p, INFO, sizeof INFO, 0);
  settle(p, 100000);
  /* the COUNTERS cycle fields differ (the model has no time): mask them */
  size_t co = nnfp_frame_size(0) * 3 + nnfp_frame_size(4);
  nnf_test_ctx("huge_gemm");
  CHECK_EQ(p->rtl_n, p->mod_n);
  memcpy(out + co + NNFP_HDR_BYTES, p->mout + co + NNFP_HDR_BYTES, 16);
  memcpy(out + co + NNFP_HDR_BYTES + 24, p->mout + co + NNFP_HDR_BYTES + 24, 8);
  memcpy(out + co + NNFP_HDR_BYTES + 56, p->mout + co + NNFP_HDR_BYTES + 56, 4); /* its CRC */
  CHECK_MEM_EQ(out, p->mout, p->mod_n);
  const uint8_t *st = out + nnfp_frame_size(0) * 3 + NNFP_HDR_BYTES;
  static const uint8_t want[4] = {0, NNFP_E_BAD_INSN, 0, 0};
  CHECK_MEM_EQ(st, want, 4);
  CHECK_EQ(nnfp_get64(out + co + NNFP_HDR_BYTES + 16), 0); /* no MAC done */
  pair_free(p);
}

/* Write a region of both devices in payload-sized frames. */
static void write_both(pair *p, unsigned region, uint32_t addr, const uint8_t *b, size_t n) {
  uint8_t *f = malloc(4200);
  for (size_t o = 0; o < n; o += 4096) {
    size_t k = n - o < 4096 ? n - o : 4096;
    send(p, f, frame(f, NNFP_WRITE, (uint8_t)o, (region << NNFP_ARG_REGION_LSB) | (addr + (uint32_t)o), b + o, k), 0);
    settle(p, 100000);
  }
  free(f);
  same_answers(p, "write");
}

static void read_rtl(pair *p, unsigned region, uint32_t addr, uint8_t *dst, size_t n) {
  uint8_t f[64], pl[NNFP_READ_REQ_BYTES];
  for (size_t o = 0; o < n; o += 4096) {
    uint32_t k = (uint32_t)(n - o < 4096 ? n - o : 4096);
    nnfp_read_req_put_count(pl, k);
    size_t before = p->rtl_n,
           fn = frame(f, NNFP_READ, 9, (region << NNFP_ARG_REGION_LSB) | (addr + (uint32_t)o), pl, NNFP_READ_REQ_BYTES);
    size_t used = 0, none = 0;
    nnfsim_core_run(p->c, f, fn, &used, out, sizeof out, &p->rtl_n, 1000000, NNFSIM_RUN_UNTIL_TAKEN);
    for (int i = 0; i < 100000 && p->rtl_n < before + nnfp_frame_size(k); i++)
      nnfsim_core_run(p->c, NULL, 0, &none, out, sizeof out, &p->rtl_n, 64, 0);
    CHECK_EQ(p->rtl_n, before + nnfp_frame_size(k));
    CHECK_EQ(nnfp_hdr_get_type(out + before), NNFP_OK(NNFP_READ));
    memcpy(dst + o, out + before + NNFP_HDR_BYTES, k);
    p->rtl_n = before; /* not part of the compared stream */
  }
}

/* RESET with the abort bit while the program's work runs; returns the
 * cycles from RESET's answer to an idle device. */
static uint64_t abort_now(pair *p) {
  uint8_t f[32], st[4];
  status(p, 40, st);
  CHECK_EQ(st[0], 1); /* running */
  size_t before = p->rtl_n, used = 0, none = 0;
  size_t n = frame(f, NNFP_RESET, 41, 2, NULL, 0);
  nnfsim_core_run(p->c, f, n, &used, out, sizeof out, &p->rtl_n, 1000, NNFSIM_RUN_UNTIL_TAKEN);
  while (p->rtl_n < before + nnfp_frame_size(0))
    nnfsim_core_run(p->c, NULL, 0, &none, out, sizeof out, &p->rtl_n, 1, 0);
  CHECK_EQ(nnfp_hdr_get_type(out + before), NNFP_OK(NNFP_RESET));
  uint64_t cyc = 0;
  while (!nnfsim_core_idle(p->c) && cyc < 1000000)
    cyc += nnfsim_core_run(p->c, NULL, 0, &none, out, sizeof out, &p->rtl_n, 1, 0);
  p->rtl_n = before; /* the model never ran this program: not compared */
  status(p, 42, st);
  CHECK_EQ(st[0], 0);
  p->rtl_n -= nnfp_frame_size(4);
  p->mod_n -= nnfp_frame_size(4);
  return cyc;
}

static void test_abort_gemm(void) {
  pair *p = pair_new();
  enum { M = 2048, K = 64, N = 64, R = 8 };
  const uint32_t a_words = (K / R) * M, o_base = a_words, o_words = (N / R) * M;
  nnf_rng r = nnf_rng_seed(25);
  uint8_t *act = malloc((size_t)(a_words + o_words) * R), *w = malloc((size_t)K * N);
  nnf_rng_fill(&r, act, (size_t)a_words * R);
  memset(act + (size_t)a_words * R, 0xEE, (size_t)o_words * R);
  nnf_rng_fill(&r, w, (size_t)K * N);
  write_both(p, NNFP_REGION_ACT, 0, act, (size_t)(a_words + o_words) * R);
  write_both(p, NNFP_REGION_W, 0, w, (size_t)K * N); /* W words 0 .. NT*KT*R - 1 = K*N bytes */
  /* P stays 0 (m0 = 0, shift 0: valid, every output = zp); zp 0 -> LUT off, out = clamp */
  uint8_t in[NNFP_INSN_BYTES] = {0};
  nnfp_gemm_put_opcode(in, NNFP_OP_GEMM);
  nnfp_gemm_put_lo(in, -128);
  nnfp_gemm_put_hi(in, 127);
  nnfp_gemm_put_m(in, M);
  nnfp_gemm_put_k(in, K);
  nnfp_gemm_put_n(in, N);
  nnfp_gemm_put_o_base(in, o_base);
  /* bias = lane index + 1, m0 = 2^30, shift 0: outputs differ from 0xEE */
  uint8_t pe[8 * R * NNFP_P_BYTES];
  memset(pe, 0, sizeof pe);
  for (int e = 0; e < 8 * R; e++) {
    nnfp_p_put_bias(pe + e * NNFP_P_BYTES, e % R + 1);
    nnfp_p_put_m0(pe + e * NNFP_P_BYTES, 1 << 30);
    nnfp_p_put_shift(pe + e * NNFP_P_BYTES, -12);
  }
  write_both(p, NNFP_REGION_P, 0, pe, sizeof pe);
  write_both(p, NNFP_REGION_PROG, 0, in, NNFP_INSN_BYTES);
  /* the model's result, for the prefix check */
  nnfm_device_config cfg = nnfm_device_config_default();
  nnfm_device *ref = nnfm_device_create(&cfg);
  nnfm_engine *re = nnfm_device_engine(ref), *pe_m = nnfm_device_engine(p->m);
  memcpy(re->act, pe_m->act, (size_t)cfg.engine.act_words * R);
  memcpy(re->w, pe_m->w, (size_t)cfg.engine.w_words * R);
  memcpy(re->bias, pe_m->bias, sizeof(int32_t) * cfg.engine.p_words * R);
  memcpy(re->m0, pe_m->m0, sizeof(int32_t) * cfg.engine.p_words * R);
  memcpy(re->shift, pe_m->shift, cfg.engine.p_words * R);
  nnfm_cmd c = {M, K, N, 0, 0, 0, o_base, 0, -128, 127, 0, 0, NNFM_ROUND_SINGLE};
  CHECK_EQ(nnfm_engine_gemm(re, &c, NULL), NNFM_OK);
  /* RUN on the RTL only (the model has no time to abort in) */
  uint8_t f[32];
  uint8_t *got = malloc((size_t)(a_words + o_words) * R);
  size_t used = 0, none = 0, before = p->rtl_n;
  size_t n = frame(f, NNFP_RUN, 30, 0, NULL, 0);
  nnfsim_core_run(p->c, f, n, &used, out, sizeof out, &p->rtl_n, 1000, NNFSIM_RUN_UNTIL_TAKEN);
  nnfsim_core_run(p->c, NULL, 0, &none, out, sizeof out, &p->rtl_n, 20000, 0);
  CHECK_EQ(nnfp_hdr_get_type(out + before), NNFP_OK(NNFP_RUN));
  p->rtl_n = before;
  uint64_t cyc = abort_now(p);
  printf("abort_gemm: idle %llu cycles after RESET's answer (bound %d)\n", (unsigned long long)cyc,
         ABORT_BOUND);
  nnf_test_ctx("abort_gemm");
  CHECK(cyc <= ABORT_BOUND);
  /* ACT: inputs unchanged, outputs a strict prefix of the model's */
  read_rtl(p, NNFP_REGION_ACT, 0, got, (size_t)(a_words + o_words) * R);
  CHECK_MEM_EQ(got, act, (size_t)a_words * R);
  uint32_t done = 0;
  while (done < o_words && memcmp(got + (size_t)(o_base + done) * R, re->act + (size_t)(o_base + done) * R, R) == 0)
    done++;
  printf("abort_gemm: %u of %u output words written\n", done, o_words);
  CHECK(done > 0 && done < o_words);
  for (uint32_t i = done; i < o_words; i++)
    for (int b = 0; b < R; b++) CHECK_EQ(got[(size_t)(o_base + i) * R + b], 0xEE);
  /* and the device goes on exactly as the model: a small GEMM on both */
  nnfp_gemm_put_m(in, 3);
  nnfp_gemm_put_k(in, 16);
  nnfp_gemm_put_n(in, 16);
  write_both(p, NNFP_REGION_PROG, 0, in, NNFP_INSN_BYTES);
  send(p, f, frame(f, NNFP_RUN, 31, 0, NULL, 0), 0);
  send(p, f, frame(f, NNFP_WAIT, 32, 0, NULL, 0), 0);
  same_answers(p, "abort_gemm: the next program");
  read_rtl(p, NNFP_REGION_ACT, o_base * R, got, 3 * 2 * R);
  CHECK_MEM_EQ(got, pe_m->act + (size_t)o_base * R, 3 * 2 * R);
  free(got);
  free(act);
  free(w);
  nnfm_device_destroy(ref);
  pair_free(p);
}

static void test_abort_lif(void) {
  pair *p = pair_new();
  uint8_t in[NNFP_INSN_BYTES] = {0};
  nnfp_lif_put_opcode(in, NNFP_OP_LIF);
  nnfp_lif_put_m(in, 128);
  nnfp_lif_put_n(in, 128);      /* 16384 neurons, 2048 cycles at 8 lanes */
  nnfp_lif_put_vth(in, 1);
  nnfp_lif_put_o_base(in, 4096); /* spikes at ACT 4096 (16 x 128 words) */
  write_both(p, NNFP_REGION_PROG, 0, in, NNFP_INSN_BYTES);
  uint8_t f[32];
  size_t used = 0, none = 0, before = p->rtl_n;
  nnfsim_core_run(p->c, f, frame(f, NNFP_RUN, 50, 0, NULL, 0), &used, out, sizeof out, &p->rtl_n,
                  1000, NNFSIM_RUN_UNTIL_TAKEN);
  nnfsim_core_run(p->c, NULL, 0, &none, out, sizeof out, &p->rtl_n, 300, 0);
  p->rtl_n = before;
  uint64_t cyc = abort_now(p);
  printf("abort_lif: idle %llu cycles after RESET's answer (bound %d)\n", (unsigned long long)cyc,
         ABORT_BOUND);
  nnf_test_ctx("abort_lif");
  CHECK(cyc <= ABORT_BOUND);
  send(p, INFO, sizeof INFO, 0);
  same_answers(p, "abort_lif: INFO after");
  pair_free(p);
}

int main(void) {
  test_timeout_byte();
  test_timeout_header();
  test_counters_bytes();
  test_huge_gemm();
  test_abort_gemm();
  test_abort_lif();
  return nnf_test_done("test_robust");
}
