/*
 * test_banks.c - banks on the RTL (docs/protocol.md, Banks; issue 16), directed
 * cases on the default simulated core (nnfsim_core: 8x8, BANKS 4), every answer
 * checked against what the protocol says (label rtl):
 *
 *   info        INFO: BANKS 4, FEAT_BANKS
 *   errors      BWAIT / BPOST with a payload (BAD_LEN), a bank >= BANKS (RANGE),
 *               both (BAD_LEN first)
 *   idle        BPOST then BWAIT with no program: answered OK, the bank emptied
 *               (a program acquiring it then waits)
 *   wait        a program waiting at an acquire: STATUS running + waiting, pc the
 *               BANK; READ and WRITE PROG answered (quiet); BWAIT of an empty
 *               bank OK; BWAIT of a full one ERR BANK (last error 8), the bank
 *               still full; BPOST of the bank it waits for: it goes on and ends
 *   retry       BPOST repeated with the same seq is not executed again
 *   run         RUN while the program waits at an acquire: abandoned, the new
 *               program runs
 *   abort       RESET with the abort bit while waiting: stopped, every bank empty
 *   refused     BANK naming bank 4 (acquire or release): BAD_INSN, pc at it;
 *               a bank >= BANKS with its flag clear is ignored; no flags: no-op
 *   stream      a streamed layer (bank 0: GEMM, release 0 / acquire 1, GEMM,
 *               release 1) with the second bank's W and P written while the first
 *               GEMM runs: the outputs equal the model's non-streamed program
 *   stall       BWAIT of a full bank while the program still computes (not yet at
 *               the release): answered only after the release
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnf_proto.h"
#include "nnfm_device.h"
#include "nnfsim_core.h"

static uint8_t out[1 << 16];
static uint8_t f[8192];

typedef struct {
  nnfsim_core *c;
  size_t n; /* bytes received */
  uint8_t seq;
} dev;

typedef struct {
  int type;    /* -1: no answer within the bound */
  uint8_t pl[4200];
  uint16_t len;
} ans;

static void dev_init(dev *d) {
  d->c = nnfsim_core_create();
  CHECK(d->c != NULL);
  d->n = 0;
  d->seq = 1;
}

/* Send one frame (seq: the next one unless given >= 0), then run until its
 * answer arrived (at most `bound` cycles). */
static ans xfer_seq(dev *d, int seq, uint8_t type, uint32_t arg, const uint8_t *pl, uint16_t len,
                    uint64_t bound) {
  ans a;
  uint8_t s = seq >= 0 ? (uint8_t)seq : d->seq++;
  size_t fn = nnfp_encode(f, type, s, arg, pl, len), used = 0, none = 0;
  d->n = 0;
  uint64_t spent = 0;
  while (used < fn && spent < 1000000)
    spent += nnfsim_core_run(d->c, f, fn, &used, out, sizeof out, &d->n, 1000000 - spent,
                             NNFSIM_RUN_UNTIL_TAKEN);
  CHECK_EQ(used, fn);
  a.type = -1;
  a.len = 0;
  for (uint64_t c = 0; c < bound;) {
    if (d->n >= NNFP_HDR_BYTES) {
      uint16_t l = nnfp_hdr_get_len(out);
      if (d->n >= nnfp_frame_size(l)) {
        CHECK_EQ(d->n, nnfp_frame_size(l));
        CHECK_EQ(nnfp_hdr_get_seq(out), s);
        a.type = nnfp_hdr_get_type(out);
        a.len = l;
        memcpy(a.pl, out + NNFP_HDR_BYTES, l);
        return a;
      }
    }
    c += nnfsim_core_run(d->c, NULL, 0, &none, out, sizeof out, &d->n, 16, 0);
  }
  return a;
}

static ans xfer(dev *d, uint8_t type, uint32_t arg, const uint8_t *pl, uint16_t len) {
  return xfer_seq(d, -1, type, arg, pl, len, 2000000);
}

/* Wait for an answer still outstanding (after xfer_seq gave up). */
static ans finish(dev *d, uint64_t bound) {
  ans a;
  size_t none = 0;
  a.type = -1;
  a.len = 0;
  for (uint64_t c = 0; c < bound;) {
    if (d->n >= NNFP_HDR_BYTES && d->n >= nnfp_frame_size(nnfp_hdr_get_len(out))) {
      a.type = nnfp_hdr_get_type(out);
      a.len = nnfp_hdr_get_len(out);
      memcpy(a.pl, out + NNFP_HDR_BYTES, a.len);
      return a;
    }
    c += nnfsim_core_run(d->c, NULL, 0, &none, out, sizeof out, &d->n, 16, 0);
  }
  return a;
}

static void ok(dev *d, uint8_t type, uint32_t arg) {
  ans a = xfer(d, type, arg, NULL, 0);
  CHECK_EQ(a.type, NNFP_OK(type));
}

static void err(dev *d, uint8_t type, uint32_t arg, uint16_t len, uint8_t code) {
  uint8_t pl[4] = {0};
  ans a = xfer(d, type, arg, pl, len);
  CHECK_EQ(a.type, NNFP_ERR);
  CHECK_EQ(a.pl[0], code);
  CHECK_EQ(a.pl[1], type);
}

static void write_region(dev *d, unsigned region, uint32_t addr, const uint8_t *b, size_t n) {
  for (size_t o = 0; o < n; o += 4096) {
    size_t k = n - o < 4096 ? n - o : 4096;
    ans a = xfer(d, NNFP_WRITE, (region << NNFP_ARG_REGION_LSB) | (addr + (uint32_t)o), b + o,
                 (uint16_t)k);
    CHECK_EQ(a.type, NNFP_OK(NNFP_WRITE));
  }
}

static void read_region(dev *d, unsigned region, uint32_t addr, uint8_t *dst, size_t n) {
  for (size_t o = 0; o < n; o += 4096) {
    uint32_t k = (uint32_t)(n - o < 4096 ? n - o : 4096);
    uint8_t pl[NNFP_READ_REQ_BYTES];
    nnfp_read_req_put_count(pl, k);
    ans a = xfer(d, NNFP_READ, (region << NNFP_ARG_REGION_LSB) | (addr + (uint32_t)o), pl,
                 NNFP_READ_REQ_BYTES);
    CHECK_EQ(a.type, NNFP_OK(NNFP_READ));
    CHECK_EQ(a.len, k);
    memcpy(dst + o, a.pl, k);
  }
}

/* STATUS: flags, last error, pc */
static void status(dev *d, int flags, int err_code, int pc) {
  ans a = xfer(d, NNFP_STATUS, 0, NULL, 0);
  CHECK_EQ(a.type, NNFP_OK(NNFP_STATUS));
  CHECK_EQ(a.len, NNFP_STATUS_BYTES);
  CHECK_EQ(a.pl[0], flags);
  if (err_code >= 0) CHECK_EQ(a.pl[1], err_code);
  if (pc >= 0) CHECK_EQ(nnfp_get16(a.pl + 2), pc);
}

static void bank_insn(uint8_t *in, int acq, int acq_bank, int rel, int rel_bank) {
  memset(in, 0, NNFP_INSN_BYTES);
  nnfp_bank_put_opcode(in, NNFP_OP_BANK);
  nnfp_bank_put_acquire(in, (uint32_t)acq);
  nnfp_bank_put_release(in, (uint32_t)rel);
  nnfp_bank_put_acq_bank(in, (uint32_t)acq_bank);
  nnfp_bank_put_rel_bank(in, (uint32_t)rel_bank);
}

/* a program of up to 8 instructions at entry `at` */
static void prog(dev *d, uint32_t at, const uint8_t (*in)[NNFP_INSN_BYTES], int n) {
  write_region(d, NNFP_REGION_PROG, at * NNFP_INSN_BYTES, &in[0][0], (size_t)n * NNFP_INSN_BYTES);
}

static void test_info_errors(void) {
  dev d;
  dev_init(&d);
  nnf_test_ctx("info");
  ans a = xfer(&d, NNFP_INFO, 0, NULL, 0);
  CHECK_EQ(a.type, NNFP_OK(NNFP_INFO));
  CHECK_EQ(nnfp_info_get_banks(a.pl), 4);
  CHECK(nnfp_info_get_features(a.pl) & NNFP_FEAT_BANKS);
  nnf_test_ctx("errors");
  err(&d, NNFP_BWAIT, 0, 1, NNFP_E_BAD_LEN);
  err(&d, NNFP_BPOST, 0, 4, NNFP_E_BAD_LEN);
  err(&d, NNFP_BWAIT, 4, 0, NNFP_E_RANGE);
  err(&d, NNFP_BPOST, 0x80000000u, 0, NNFP_E_RANGE);
  err(&d, NNFP_BPOST, 7, 2, NNFP_E_BAD_LEN);
  err(&d, 0x0B, 0, 0, NNFP_E_UNKNOWN);
  status(&d, 0, NNFP_E_UNKNOWN, 0);
  nnfsim_core_destroy(d.c);
}

static void test_wait(void) {
  dev d;
  dev_init(&d);
  uint8_t p[8][NNFP_INSN_BYTES] = {{0}};
  /* 0: BANK acquire 0; 1: END; 2: BANK release 2, acquire 2; 3: END */
  bank_insn(p[0], 1, 0, 0, 0);
  bank_insn(p[2], 1, 2, 1, 2);
  prog(&d, 0, (const uint8_t(*)[NNFP_INSN_BYTES])p, 4);

  nnf_test_ctx("idle: BPOST, BWAIT empties");
  ok(&d, NNFP_BPOST, 0);
  ok(&d, NNFP_BWAIT, 0); /* no program: emptied at once */
  ok(&d, NNFP_RUN, 0);
  ok(&d, NNFP_WAIT, 0); /* quiet: waiting at the acquire */
  status(&d, NNFP_STATUS_RUNNING | NNFP_STATUS_WAITING, 0, 0);

  nnf_test_ctx("wait: quiet commands");
  uint8_t rb[64];
  read_region(&d, NNFP_REGION_PROG, 0, rb, 64);
  CHECK_MEM_EQ(rb, p[0], 32);
  write_region(&d, NNFP_REGION_PROG, 3 * NNFP_INSN_BYTES, p[3], NNFP_INSN_BYTES);
  ok(&d, NNFP_BWAIT, 1); /* empty */
  ok(&d, NNFP_BPOST, 1);
  err(&d, NNFP_BWAIT, 1, 0, NNFP_E_BANK); /* full; the program waits for bank 0 */
  status(&d, NNFP_STATUS_RUNNING | NNFP_STATUS_WAITING, NNFP_E_BANK, 0);
  ok(&d, NNFP_BPOST, 0);
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, NNFP_E_BANK, 1); /* ended at END */
  ok(&d, NNFP_BWAIT, 1);          /* no program: bank 1 emptied */

  nnf_test_ctx("retry: BPOST not executed twice");
  ok(&d, NNFP_BPOST, 2);
  ok(&d, NNFP_RUN, 2); /* release 2 (empty now), acquire 2: waits */
  ok(&d, NNFP_WAIT, 0);
  status(&d, NNFP_STATUS_RUNNING | NNFP_STATUS_WAITING, -1, 2);
  ans a = xfer_seq(&d, 77, NNFP_BPOST, 3, NULL, 0, 100000);
  CHECK_EQ(a.type, NNFP_OK(NNFP_BPOST));
  a = xfer_seq(&d, 77, NNFP_BPOST, 2, NULL, 0, 100000); /* a retry: bank 2 stays empty */
  CHECK_EQ(a.type, NNFP_OK(NNFP_BPOST));
  ok(&d, NNFP_WAIT, 0);
  status(&d, NNFP_STATUS_RUNNING | NNFP_STATUS_WAITING, -1, 2);
  a = xfer_seq(&d, 78, NNFP_BPOST, 2, NULL, 0, 100000);
  CHECK_EQ(a.type, NNFP_OK(NNFP_BPOST));
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, -1, 3);
  ok(&d, NNFP_BWAIT, 3); /* bank 3 (posted by seq 77) emptied: no program */

  nnf_test_ctx("run while waiting");
  ok(&d, NNFP_RUN, 0); /* waits for bank 0 (emptied? no: still full) */
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, -1, 1); /* bank 0 was full: went through to END */
  ok(&d, NNFP_BWAIT, 0);
  ok(&d, NNFP_RUN, 0);
  ok(&d, NNFP_WAIT, 0);
  status(&d, NNFP_STATUS_RUNNING | NNFP_STATUS_WAITING, -1, 0);
  ok(&d, NNFP_RUN, 1); /* abandons it: runs END at 1 */
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, -1, 1);
  ok(&d, NNFP_BPOST, 0); /* no program takes it */
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, -1, 1);

  nnf_test_ctx("abort while waiting");
  ok(&d, NNFP_BPOST, 1);
  ok(&d, NNFP_BPOST, 3);
  ok(&d, NNFP_RUN, 2); /* release 2, acquire 2 (empty): waits */
  ok(&d, NNFP_WAIT, 0);
  status(&d, NNFP_STATUS_RUNNING | NNFP_STATUS_WAITING, -1, 2);
  ok(&d, NNFP_RESET, 2);
  status(&d, 0, -1, 2);
  /* every bank empty: a program acquiring 0, then 1 waits at 0 */
  ok(&d, NNFP_RUN, 0);
  ok(&d, NNFP_WAIT, 0);
  status(&d, NNFP_STATUS_RUNNING | NNFP_STATUS_WAITING, -1, 0);
  ok(&d, NNFP_BWAIT, 1); /* empty (the abort emptied it) */
  ok(&d, NNFP_BWAIT, 3);
  ok(&d, NNFP_RESET, 2);

  nnf_test_ctx("refused");
  bank_insn(p[4], 1, 4, 0, 0); /* acquire 4 */
  bank_insn(p[5], 0, 0, 1, 4); /* release 4 */
  bank_insn(p[6], 0, 9, 0, 9); /* no flags: banks ignored, a no-op */
  bank_insn(p[7], 0, 0, 1, 200);
  prog(&d, 4, (const uint8_t(*)[NNFP_INSN_BYTES])&p[4], 4);
  ok(&d, NNFP_RUN, 4);
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, NNFP_E_BAD_INSN, 4);
  ok(&d, NNFP_RUN, 5);
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, NNFP_E_BAD_INSN, 5);
  ok(&d, NNFP_RUN, 6);
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, NNFP_E_BAD_INSN, 7); /* 6 a no-op, 7 refused */
  nnfsim_core_destroy(d.c);
}

/* The streamed layer, and BWAIT stalling until the release. */
enum { M = 2048, R = 8 };

static void gemm_insn(uint8_t *in, uint32_t a, uint32_t w, uint32_t pb, uint32_t o) {
  memset(in, 0, NNFP_INSN_BYTES);
  nnfp_gemm_put_opcode(in, NNFP_OP_GEMM);
  nnfp_gemm_put_lo(in, -128);
  nnfp_gemm_put_hi(in, 127);
  nnfp_gemm_put_m(in, M);
  nnfp_gemm_put_k(in, R);
  nnfp_gemm_put_n(in, R);
  nnfp_gemm_put_a_base(in, a);
  nnfp_gemm_put_w_base(in, w);
  nnfp_gemm_put_p_base(in, pb);
  nnfp_gemm_put_o_base(in, o);
}

static void p_entry(uint8_t *pe, nnf_rng *r) {
  memset(pe, 0, R * NNFP_P_BYTES);
  for (int l = 0; l < R; l++) {
    nnfp_p_put_bias(pe + l * NNFP_P_BYTES, (int32_t)nnf_rng_range(r, -1000, 1000));
    nnfp_p_put_m0(pe + l * NNFP_P_BYTES, (int32_t)((1u << 30) + (nnf_rng_u32(r) >> 2)));
    nnfp_p_put_shift(pe + l * NNFP_P_BYTES, (int32_t)nnf_rng_range(r, -9, -5));
  }
}

/* WRITE to the model in payload-sized frames; returns the frames sent */
static size_t model_write(nnfm_device *m, unsigned region, uint32_t addr, const uint8_t *b, size_t n) {
  size_t frames = 0;
  for (size_t o = 0; o < n; o += 4096, frames++) {
    size_t k = n - o < 4096 ? n - o : 4096;
    size_t fn = nnfp_encode(f, NNFP_WRITE, (uint8_t)frames,
                            (region << NNFP_ARG_REGION_LSB) | (addr + (uint32_t)o), b + o, (uint16_t)k);
    nnfm_device_rx(m, f, fn);
  }
  return frames;
}

static void test_stream(void) {
  nnf_rng r = nnf_rng_seed(16);
  static uint8_t act[M * R], w0[R * R], w1[R * R], p0[R * NNFP_P_BYTES], p1[R * NNFP_P_BYTES];
  nnf_rng_fill(&r, act, sizeof act);
  nnf_rng_fill(&r, w0, sizeof w0);
  nnf_rng_fill(&r, w1, sizeof w1);
  p_entry(p0, &r);
  p_entry(p1, &r);
  const uint32_t O0 = M, O1 = 2 * M;
  uint8_t p[6][NNFP_INSN_BYTES];
  bank_insn(p[0], 1, 0, 0, 0);             /* acquire 0 */
  gemm_insn(p[1], 0, 0, 0, O0);            /* W words 0..7, P entry 0 */
  bank_insn(p[2], 1, 1, 1, 0);             /* release 0, acquire 1 */
  gemm_insn(p[3], 0, 8, 1, O1);            /* W words 8..15, P entry 1 */
  bank_insn(p[4], 0, 0, 1, 1);             /* release 1 */
  memset(p[5], 0, NNFP_INSN_BYTES);        /* END */

  /* the model: everything written first, the two GEMMs without banks */
  nnfm_device_config cfg = nnfm_device_config_default();
  nnfm_device *m = nnfm_device_create(&cfg);
  CHECK(m != NULL);
  {
    uint8_t flat[3][NNFP_INSN_BYTES];
    memcpy(flat[0], p[1], NNFP_INSN_BYTES);
    memcpy(flat[1], p[3], NNFP_INSN_BYTES);
    memset(flat[2], 0, NNFP_INSN_BYTES);
    size_t frames = 0;
    frames += model_write(m, NNFP_REGION_ACT, 0, act, sizeof act);
    frames += model_write(m, NNFP_REGION_W, 0, w0, sizeof w0);
    frames += model_write(m, NNFP_REGION_W, sizeof w0, w1, sizeof w1);
    frames += model_write(m, NNFP_REGION_P, 0, p0, sizeof p0);
    frames += model_write(m, NNFP_REGION_P, sizeof p0, p1, sizeof p1);
    frames += model_write(m, NNFP_REGION_PROG, 0, &flat[0][0], sizeof flat);
    size_t fn = nnfp_encode(f, NNFP_RUN, 8, 0, NULL, 0);
    nnfm_device_rx(m, f, fn);
    frames++;
    static uint8_t mo[1 << 16];
    size_t got = nnfm_device_tx(m, mo, sizeof mo);
    CHECK_EQ(got, frames * nnfp_frame_size(0));
  }
  static uint8_t want[2 * M * R], have[2 * M * R];
  memcpy(want, nnfm_device_engine(m)->act + (size_t)O0 * R, sizeof want);
  nnfm_device_destroy(m);

  dev d;
  dev_init(&d);
  nnf_test_ctx("stream");
  write_region(&d, NNFP_REGION_ACT, 0, act, sizeof act);
  write_region(&d, NNFP_REGION_PROG, 0, &p[0][0], sizeof p);
  ok(&d, NNFP_BWAIT, 0);
  write_region(&d, NNFP_REGION_W, 0, w0, sizeof w0);
  write_region(&d, NNFP_REGION_P, 0, p0, sizeof p0);
  ok(&d, NNFP_BPOST, 0);
  ok(&d, NNFP_RUN, 0);
  uint64_t t0 = nnfsim_core_cycles(d.c);
  ok(&d, NNFP_BWAIT, 1); /* empty: at once */
  write_region(&d, NNFP_REGION_W, sizeof w0, w1, sizeof w1);
  write_region(&d, NNFP_REGION_P, sizeof p0, p1, sizeof p1);
  uint64_t t1 = nnfsim_core_cycles(d.c);
  /* the first GEMM still runs (the sequencer issued it and waits at the
   * release): the writes overlapped it */
  status(&d, NNFP_STATUS_RUNNING, -1, 2);
  printf("stream: bank 1's W and P written in %llu cycles while the first GEMM ran\n",
         (unsigned long long)(t1 - t0));
  /* bank 0 is full until the release: BWAIT 0 stalls until then */
  ans a = xfer_seq(&d, -1, NNFP_BWAIT, 0, NULL, 0, 64);
  CHECK_EQ(a.type, -1);
  a = finish(&d, 1000000);
  CHECK_EQ(a.type, NNFP_OK(NNFP_BWAIT));
  uint64_t t2 = nnfsim_core_cycles(d.c);
  printf("stream: BWAIT 0 answered %llu cycles after RUN (at the release)\n",
         (unsigned long long)(t2 - t0));
  ok(&d, NNFP_WAIT, 0); /* quiet: waiting for bank 1 */
  status(&d, NNFP_STATUS_RUNNING | NNFP_STATUS_WAITING, -1, 2);
  ok(&d, NNFP_BWAIT, 3); /* empty */
  ok(&d, NNFP_BPOST, 1);
  ok(&d, NNFP_WAIT, 0);
  status(&d, 0, -1, 5);
  ok(&d, NNFP_BWAIT, 1); /* released by the program */
  read_region(&d, NNFP_REGION_ACT, O0 * R, have, sizeof have);
  CHECK_MEM_EQ(have, want, sizeof want);
  nnfsim_core_destroy(d.c);
}

int main(void) {
  test_info_errors();
  test_wait();
  test_stream();
  return nnf_test_done("test_banks");
}
