/*
 * test_link_fuzz.c - the RTL link layer under hostile input (label rtl).
 * Random byte streams (with sync bytes sprinkled in, and frames with good
 * headers and damaged payloads), truncated frames and silence go into the
 * Verilated nnf_core; afterwards it must still answer INFO correctly, answer
 * every damaged-but-trusted frame with the right error, and count the frame
 * errors it saw.
 *
 *   test_link_fuzz [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnf_proto.h"
#include "nnfsim_core.h"

static uint8_t out[1 << 20];

/* Run until the device is quiet; return the bytes it sent. */
static size_t run_quiet(nnfsim_core *c, const uint8_t *in, size_t n) {
  size_t used = 0, got = 0;
  uint64_t cyc = nnfsim_core_run(c, in, n, &used, out, sizeof out, &got, 200000000ull,
                                 NNFSIM_RUN_UNTIL_QUIET);
  CHECK(cyc < 200000000ull); /* it went quiet: no hang */
  CHECK_EQ(used, n);         /* and took every byte */
  return got;
}

/* Parse exactly the answers in out[0..n); returns how many, fills types/codes. */
static int parse_answers(size_t n, nnfp_header *hs, uint8_t *codes, int max) {
  static uint8_t pl[65536];
  nnfp_parser p;
  nnfp_parser_init(&p, pl, sizeof pl);
  int k = 0;
  for (size_t i = 0; i < n; i++) {
    nnfp_parse_event ev = nnfp_parse_byte(&p, out[i]);
    CHECK(ev != NNFP_PARSE_BAD_HDR);
    if (ev == NNFP_PARSE_FRAME) {
      CHECK(p.crc_ok);
      CHECK(k < max);
      hs[k] = p.h;
      codes[k] = p.h.len ? pl[0] : 0;
      k++;
    }
  }
  return k;
}

static uint64_t frame_errors(nnfsim_core *c) {
  uint8_t f[64];
  size_t n = nnfp_encode(f, NNFP_COUNTERS, 200, 0, NULL, 0);
  size_t got = run_quiet(c, f, n);
  nnfp_header h;
  uint8_t code;
  static uint8_t pl[64];
  nnfp_parser p;
  nnfp_parser_init(&p, pl, sizeof pl);
  int seen = 0;
  for (size_t i = 0; i < got; i++)
    if (nnfp_parse_byte(&p, out[i]) == NNFP_PARSE_FRAME) {
      h = p.h;
      code = pl[0];
      (void)code;
      CHECK(p.crc_ok);
      CHECK_EQ(h.type, NNFP_OK(NNFP_COUNTERS));
      seen = 1;
    }
  CHECK(seen);
  return nnfp_get64(pl + 48);
}

static void expect_info(nnfsim_core *c, uint8_t seq) {
  uint8_t f[64];
  size_t n = nnfp_encode(f, NNFP_INFO, seq, 0, NULL, 0);
  size_t got = run_quiet(c, f, n);
  nnfp_header hs[4];
  uint8_t codes[4];
  CHECK_EQ(parse_answers(got, hs, codes, 4), 1);
  CHECK_EQ(hs[0].type, NNFP_OK(NNFP_INFO));
  CHECK_EQ(hs[0].seq, seq);
  CHECK_EQ(hs[0].len, NNFP_INFO_BYTES);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 40;
  nnfsim_core *c = nnfsim_core_create();
  CHECK(c != NULL);
  nnf_rng r = nnf_rng_seed(99);
  static uint8_t buf[1 << 16];
  uint64_t ferr0 = frame_errors(c);

  for (int round = 0; round < rounds; round++) {
    nnf_test_ctx("round %d", round);
    /* 1. pure garbage with sync bytes sprinkled in */
    size_t n = (size_t)nnf_rng_range(&r, 1, 8000);
    nnf_rng_fill(&r, buf, n);
    for (int i = 0; i < 20; i++) {
      size_t at = (size_t)nnf_rng_range(&r, 0, (int64_t)n - 1);
      buf[at] = (i & 1) ? 0x5A : 0xA5;
    }
    size_t got = run_quiet(c, buf, n);
    (void)got; /* a random frame passing two CRC-32s is out of reach: nothing useful comes back */
    expect_info(c, (uint8_t)round);

    /* 2. a frame with a good header and a damaged payload: ERR BAD_CRC */
    uint8_t pl[300];
    uint16_t len = (uint16_t)nnf_rng_range(&r, 1, sizeof pl);
    nnf_rng_fill(&r, pl, len);
    n = nnfp_encode(buf, NNFP_WRITE, 33, nnfp_arg_with_region(100, NNFP_REGION_ACT), pl, len);
    buf[14 + nnf_rng_range(&r, 0, len - 1)] ^= 0x10;
    got = run_quiet(c, buf, n);
    nnfp_header hs[4];
    uint8_t codes[4];
    CHECK_EQ(parse_answers(got, hs, codes, 4), 1);
    CHECK_EQ(hs[0].type, NNFP_ERR);
    CHECK_EQ(hs[0].seq, 33);
    CHECK_EQ(codes[0], NNFP_E_BAD_CRC);

    /* 3. a frame cut short, then silence: ERR TIMEOUT once the timeout runs out */
    n = nnfp_encode(buf, NNFP_WRITE, 34, nnfp_arg_with_region(100, NNFP_REGION_ACT), pl, len);
    got = run_quiet(c, buf, 14 + (size_t)nnf_rng_range(&r, 0, len - 1));
    CHECK_EQ(parse_answers(got, hs, codes, 4), 1);
    CHECK_EQ(hs[0].type, NNFP_ERR);
    CHECK_EQ(codes[0], NNFP_E_TIMEOUT);

    /* 4. a header cut short: no answer (the header is not trusted) */
    n = nnfp_encode(buf, NNFP_INFO, 35, 0, NULL, 0);
    got = run_quiet(c, buf, (size_t)nnf_rng_range(&r, 2, 13));
    CHECK_EQ(got, 0);
    expect_info(c, 36);
  }
  /* every round made exactly three frame errors we know of (2, 3, 4), and
   * the garbage made some more */
  uint64_t ferr = frame_errors(c) - ferr0;
  printf("frame errors counted: %llu over %d rounds\n", (unsigned long long)ferr, rounds);
  CHECK(ferr >= 3ull * (uint64_t)rounds);
  nnfsim_core_destroy(c);
  return nnf_test_done(argv[0]);
}
