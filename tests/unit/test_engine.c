/*
 * test_engine.c - the engine model (sim/model/nnfm_engine.c, docs/engine.md):
 * configuration rules, word counts, host-port byte access, the packing
 * helpers, every refusal of nnfm_engine_check, and nnfm_engine_gemm against
 * nnfm_gemm on seeded random shapes (ragged edges, several M blocks, the
 * LUT, zero sizes) comparing the WHOLE buffer images: output words as
 * expected (padded lanes 0), every other byte of every buffer untouched.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfm.h"
#include "nnfm_snap.h"
#include "nnf_proto_gen.h"


/* ---- configuration and word counts ------------------------------------------ */

static void test_config(void) {
  nnfm_config d = nnfm_config_default();
  CHECK_EQ(d.rows, 8);
  CHECK_EQ(d.cols, 8);
  CHECK_EQ(d.act_words, 32768);
  CHECK_EQ(d.w_words, 16384);
  CHECK_EQ(d.p_words, 64);
  CHECK_EQ(d.acc_depth, 256);
  CHECK_OK(nnfm_config_check(&d));
  CHECK_EQ(nnfm_config_check(NULL), NNFM_ERR_NULL);
  nnfm_config c;
  const int bad_rows[] = {0, 1, 3, 6, 128, -8};
  for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
    c = d, c.rows = c.cols = bad_rows[i];
    CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
    CHECK(nnfm_engine_create(&c) == NULL);
  }
  const int good_rows[] = {2, 4, 16, 32, 64};
  for (size_t i = 0; i < sizeof good_rows / sizeof good_rows[0]; i++) {
    c = d, c.rows = c.cols = good_rows[i];
    CHECK_OK(nnfm_config_check(&c));
  }
  c = d, c.cols = 16;
  CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
  /* depths: powers of two, at least 2, at most 2^24 / 2^24 / 2^16 / 2^15 */
  const uint32_t bad_depth[] = {0, 1, 3, 100};
  for (size_t i = 0; i < sizeof bad_depth / sizeof bad_depth[0]; i++) {
    c = d, c.act_words = bad_depth[i];
    CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
    c = d, c.w_words = bad_depth[i];
    CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
    c = d, c.p_words = bad_depth[i];
    CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
    c = d, c.acc_depth = bad_depth[i];
    CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
  }
  c = d, c.act_words = 1u << 24;
  CHECK_OK(nnfm_config_check(&c));
  c.act_words = 1u << 25;
  CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
  c = d, c.w_words = 1u << 24;
  CHECK_OK(nnfm_config_check(&c));
  c.w_words = 1u << 25;
  CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
  c = d, c.p_words = 1u << 16;
  CHECK_OK(nnfm_config_check(&c));
  c.p_words = 1u << 17;
  CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
  c = d, c.acc_depth = 1u << 15;
  CHECK_OK(nnfm_config_check(&c));
  c.acc_depth = 1u << 16;
  CHECK_EQ(nnfm_config_check(&c), NNFM_ERR_RANGE);
  c = small_cfg(2, 2, 2, 2, 2); /* the smallest */
  CHECK_OK(nnfm_config_check(&c));
  CHECK(nnfm_engine_create(NULL) == NULL);
  nnfm_engine_destroy(NULL);
}

static void test_word_counts(void) {
  nnfm_config d = nnfm_config_default(); /* 8 x 8 */
  CHECK_EQ(nnfm_act_words(&d, 5, 0), 5);  /* K = 0 still has one K tile */
  CHECK_EQ(nnfm_act_words(&d, 5, 8), 5);
  CHECK_EQ(nnfm_act_words(&d, 5, 9), 10);
  CHECK_EQ(nnfm_act_words(&d, 0, 9), 0);
  CHECK_EQ(nnfm_act_words(&d, 300, 784), 29400);
  CHECK_EQ(nnfm_w_words(&d, 0, 1), 8);
  CHECK_EQ(nnfm_w_words(&d, 9, 9), 32);
  CHECK_EQ(nnfm_w_words(&d, 8, 0), 0);
  CHECK_EQ(nnfm_w_words(&d, 784, 128), 12544);
  CHECK_EQ(nnfm_p_entries(&d, 0), 0);
  CHECK_EQ(nnfm_p_entries(&d, 8), 1);
  CHECK_EQ(nnfm_p_entries(&d, 9), 2);
  CHECK_EQ(nnfm_act_words(&d, UINT32_MAX, UINT32_MAX), UINT32_MAX); /* saturates */
  CHECK_EQ(nnfm_w_words(&d, UINT32_MAX, UINT32_MAX), UINT32_MAX);
}

/* ---- host port -------------------------------------------------------------- */

static void test_bytes(void) {
  nnfm_config cfg = small_cfg(8, 64, 32, 4, 4);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  uint8_t v = 0;
  /* created zeroed */
  for (uint32_t i = 0; i < 64 * 8; i++) CHECK_EQ(e->act[i], 0);
  /* ACT and W: byte = word * width + lane, both ends */
  CHECK_OK(nnfm_engine_write_byte(e, 0, 0, 0x11));
  CHECK_OK(nnfm_engine_write_byte(e, 0, 64 * 8 - 1, 0x22));
  CHECK_EQ(nnfm_engine_write_byte(e, 0, 64 * 8, 0x33), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_write_byte(e, 0, UINT32_MAX, 0x33), NNFM_ERR_RANGE);
  CHECK_EQ(e->act[0], 0x11);
  CHECK_EQ(e->act[64 * 8 - 1], 0x22);
  CHECK_OK(nnfm_engine_read_byte(e, 0, 64 * 8 - 1, &v));
  CHECK_EQ(v, 0x22);
  CHECK_EQ(nnfm_engine_read_byte(e, 0, 64 * 8, &v), NNFM_ERR_RANGE);
  CHECK_OK(nnfm_engine_write_byte(e, 1, 32 * 8 - 1, 0x44));
  CHECK_EQ(e->w[32 * 8 - 1], 0x44);
  CHECK_OK(nnfm_engine_read_byte(e, 1, 32 * 8 - 1, &v));
  CHECK_EQ(v, 0x44);
  CHECK_EQ(nnfm_engine_write_byte(e, 1, 32 * 8, 0), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_read_byte(e, 1, 32 * 8, &v), NNFM_ERR_RANGE);
  /* P: (entry * cols + lane) * 16 + b; entry 3 lane 5 */
  const uint32_t p = (3 * 8 + 5) * 16, slot = 3 * 8 + 5;
  const uint8_t bytes[9] = {0x78, 0x56, 0x34, 0x92, 0xff, 0xff, 0xff, 0x7f, 0xe1};
  for (uint32_t b = 0; b < 9; b++) CHECK_OK(nnfm_engine_write_byte(e, 2, p + b, bytes[b]));
  CHECK_EQ(e->bias[slot], -1842063752); /* 0x92345678 */
  CHECK_EQ(e->m0[slot], INT32_MAX);
  CHECK_EQ(e->shift[slot], -31);
  for (uint32_t b = 0; b < 9; b++) {
    CHECK_OK(nnfm_engine_read_byte(e, 2, p + b, &v));
    CHECK_EQ(v, bytes[b]);
  }
  /* bytes 9..15 are ignored on write and read as 0 */
  snap s = snap_take(e);
  for (uint32_t b = 9; b < 16; b++) {
    CHECK_OK(nnfm_engine_write_byte(e, 2, p + b, 0xAA));
    CHECK_OK(nnfm_engine_read_byte(e, 2, p + b, &v));
    CHECK_EQ(v, 0);
  }
  check_same(e, &s);
  snap_free(&s);
  /* one byte changes one byte of one field */
  CHECK_OK(nnfm_engine_write_byte(e, 2, p + 1, 0x00));
  CHECK_EQ(e->bias[slot], -1842085768); /* 0x92340078 */
  CHECK_OK(nnfm_engine_write_byte(e, 2, p + 7, 0x80));
  CHECK_EQ(e->m0[slot], -2130706433); /* 0x80ffffff: invalid, stored as is */
  CHECK_OK(nnfm_engine_read_byte(e, 2, p + 7, &v));
  CHECK_EQ(v, 0x80);
  /* last P byte, first one out */
  CHECK_OK(nnfm_engine_write_byte(e, 2, 4 * 8 * 16 - 16 + 8, 0x1e));
  CHECK_EQ(e->shift[4 * 8 - 1], 30);
  CHECK_OK(nnfm_engine_read_byte(e, 2, 4 * 8 * 16 - 1, &v));
  CHECK_EQ(v, 0);
  CHECK_EQ(nnfm_engine_write_byte(e, 2, 4 * 8 * 16, 0), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_read_byte(e, 2, 4 * 8 * 16, &v), NNFM_ERR_RANGE);
  /* LUT */
  CHECK_OK(nnfm_engine_write_byte(e, 3, 255, 0x80));
  CHECK_EQ(e->lut[255], -128);
  CHECK_OK(nnfm_engine_read_byte(e, 3, 255, &v));
  CHECK_EQ(v, 0x80);
  CHECK_EQ(nnfm_engine_write_byte(e, 3, 256, 0), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_read_byte(e, 3, 256, &v), NNFM_ERR_RANGE);
  /* unknown regions, NULLs */
  CHECK_EQ(nnfm_engine_write_byte(e, 4, 0, 0), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_write_byte(e, -1, 0, 0), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_read_byte(e, 4, 0, &v), NNFM_ERR_RANGE);
  CHECK_EQ(nnfm_engine_write_byte(NULL, 0, 0, 0), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_read_byte(NULL, 0, 0, &v), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_read_byte(e, 0, 0, NULL), NNFM_ERR_NULL);

  /* put_params through the port: read back little-endian */
  const int32_t bias[9] = {-2, 1, 2, 3, 4, 5, 6, 7, 0x01020304};
  const int32_t m0[9] = {1 << 30, 0, 0, 0, 0, 0, 0, 0, 0x7fffffff};
  const int8_t shift[9] = {-31, 0, 0, 0, 0, 0, 0, 0, 30};
  CHECK_OK(nnfm_engine_put_params(e, 2, bias, m0, shift, 9));
  const uint8_t want0[16] = {0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0x40, 0xe1, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t want8[16] = {4, 3, 2, 1, 0xff, 0xff, 0xff, 0x7f, 30, 0, 0, 0, 0, 0, 0, 0};
  const uint8_t zero[16] = {0};
  uint8_t got[16];
  for (uint32_t b = 0; b < 16; b++) CHECK_OK(nnfm_engine_read_byte(e, 2, (2 * 8 + 0) * 16 + b, &got[b]));
  CHECK_MEM_EQ(got, want0, 16);
  for (uint32_t b = 0; b < 16; b++) CHECK_OK(nnfm_engine_read_byte(e, 2, (3 * 8 + 0) * 16 + b, &got[b]));
  CHECK_MEM_EQ(got, want8, 16);
  for (uint32_t b = 0; b < 16; b++) CHECK_OK(nnfm_engine_read_byte(e, 2, (3 * 8 + 1) * 16 + b, &got[b]));
  CHECK_MEM_EQ(got, zero, 16); /* padding lane of the last entry */
  nnfm_engine_destroy(e);
}

/* ---- packing helpers -------------------------------------------------------- */

static void test_packing(void) {
  nnfm_config cfg = small_cfg(4, 32, 32, 4, 4);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  nnf_rng r = nnf_rng_seed(5);
  fill_garbage(&r, e);
  /* A: 3 x 5 at word 2: K tiles of 4 -> words 2..4 (k 0..3), 5..7 (k 4, padding) */
  int8_t a[15], back[15];
  for (int i = 0; i < 15; i++) a[i] = (int8_t)(i * 9 - 60);
  snap s = snap_take(e);
  CHECK_OK(nnfm_engine_put_act(e, 2, a, 3, 5));
  for (int m = 0; m < 3; m++)
    for (int k = 0; k < 5; k++) s.act[(2 + (k / 4) * 3 + m) * 4 + k % 4] = (uint8_t)a[m * 5 + k];
  for (int m = 0; m < 3; m++)
    for (int r4 = 1; r4 < 4; r4++) s.act[(5 + m) * 4 + r4] = 0; /* padding lanes zeroed */
  check_same(e, &s);
  CHECK_OK(nnfm_engine_get_act(e, 2, back, 3, 5));
  CHECK_MEM_EQ(back, a, 15);
  /* K = 0 writes M zero words (what a K = 0 command reads) */
  CHECK_OK(nnfm_engine_put_act(e, 20, NULL, 3, 0));
  memset(s.act + 20 * 4, 0, 3 * 4);
  check_same(e, &s);
  CHECK_OK(nnfm_engine_put_act(e, 999, NULL, 0, 5)); /* empty: any base */
  /* the last word fits, one more does not; nothing written on refusal */
  CHECK_OK(nnfm_engine_put_act(e, 32 - 6, a, 3, 5));
  CHECK_OK(nnfm_engine_get_act(e, 32 - 6, back, 3, 5));
  CHECK_MEM_EQ(back, a, 15);
  snap_free(&s);
  s = snap_take(e);
  CHECK_EQ(nnfm_engine_put_act(e, 32 - 5, a, 3, 5), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_put_act(e, UINT32_MAX, a, 3, 5), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_get_act(e, 32 - 5, back, 3, 5), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_put_act(e, 0, NULL, 3, 5), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_put_act(NULL, 0, a, 3, 5), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_get_act(e, 0, NULL, 3, 5), NNFM_ERR_NULL);
  check_same(e, &s);

  /* W: 5 x 6 at word 1: KT = 2, NT = 2 -> 16 words, tile (nt, kt) at 1 + (nt*2 + kt)*4 */
  int8_t w[30];
  for (int i = 0; i < 30; i++) w[i] = (int8_t)(100 - 7 * i);
  CHECK_OK(nnfm_engine_put_weights(e, 1, w, 5, 6));
  for (int k = 0; k < 8; k++)
    for (int n = 0; n < 8; n++) {
      uint32_t word = 1 + ((n / 4) * 2 + k / 4) * 4 + k % 4;
      s.w[word * 4 + n % 4] = (k < 5 && n < 6) ? (uint8_t)w[k * 6 + n] : 0;
    }
  check_same(e, &s);
  CHECK_EQ(nnfm_engine_put_weights(e, 32 - 15, w, 5, 6), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_put_weights(e, 0, NULL, 5, 6), NNFM_ERR_NULL);
  check_same(e, &s);
  CHECK_OK(nnfm_engine_put_weights(e, 32 - 16, w, 5, 6)); /* exact fit */
  CHECK_OK(nnfm_engine_put_weights(e, 12345, NULL, 5, 0)); /* N = 0: nothing */
  snap_free(&s);

  /* P: refusals leave everything untouched */
  s = snap_take(e);
  int32_t bias[5] = {1, 2, 3, 4, 5}, m0[5] = {1, 2, 3, 4, -1};
  int8_t shift[5] = {0, 0, 0, 0, 0};
  CHECK_EQ(nnfm_engine_put_params(e, 0, bias, m0, shift, 5), NNFM_ERR_RANGE);
  m0[4] = 5, shift[2] = 31;
  CHECK_EQ(nnfm_engine_put_params(e, 0, bias, m0, shift, 5), NNFM_ERR_RANGE);
  shift[2] = -32;
  CHECK_EQ(nnfm_engine_put_params(e, 0, bias, m0, shift, 5), NNFM_ERR_RANGE);
  shift[2] = 0;
  CHECK_EQ(nnfm_engine_put_params(e, 3, bias, m0, shift, 5), NNFM_ERR_SHAPE); /* 2 entries */
  CHECK_EQ(nnfm_engine_put_params(e, 0, NULL, m0, shift, 5), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_put_params(e, 0, bias, NULL, shift, 5), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_put_params(e, 0, bias, m0, NULL, 5), NNFM_ERR_NULL);
  check_same(e, &s);
  CHECK_OK(nnfm_engine_put_params(e, 2, bias, m0, shift, 5));
  for (int n = 0; n < 8; n++) {
    size_t slot = 2 * 4 + (size_t)n;
    CHECK_EQ(e->bias[slot], n < 5 ? bias[n] : 0);
    CHECK_EQ(e->m0[slot], n < 5 ? m0[n] : 0);
    CHECK_EQ(e->shift[slot], n < 5 ? shift[n] : 0);
  }
  snap_free(&s);
  nnfm_engine_destroy(e);
}

/* ---- command check ---------------------------------------------------------- */

static void test_check(void) {
  nnfm_config cfg = nnfm_config_default();
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  /* M 4, K 10 (KT 2), N 9 (NT 2): A 8 words, O 8 words, W 32 words, P 2 entries */
  int32_t bias[9] = {0}, m0[9];
  int8_t shift[9] = {0};
  for (int i = 0; i < 9; i++) m0[i] = 1 << 30;
  CHECK_OK(nnfm_engine_put_params(e, 10, bias, m0, shift, 9));
  const nnfm_cmd ok = {4, 10, 9, 100, 200, 10, 300, 0, -128, 127, 0, 0, NNFM_ROUND_SINGLE};
  nnfm_cmd c = {0};
  CHECK_OK(nnfm_engine_check(e, &ok));
  CHECK_EQ(nnfm_engine_check(NULL, &ok), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_check(e, NULL), NNFM_ERR_NULL);
  /* fields */
  c = ok, c.m = 65536;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.k = 65536;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.n = 65536;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.zp = 128;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.zp = -129;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lo = -129;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.hi = 128;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lo = 1, c.hi = 0;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lo = c.hi = 7;
  CHECK_OK(nnfm_engine_check(e, &c));
  c = ok, c.lut = 2;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lut = -1;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lut = 1;
  CHECK_OK(nnfm_engine_check(e, &c));
  /* ACT read range: a_base .. a_base + 8 - 1 */
  c = ok, c.a_base = 32768 - 8;
  CHECK_OK(nnfm_engine_check(e, &c));
  c.a_base++;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  c.a_base = UINT32_MAX;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  /* ACT write range */
  c = ok, c.o_base = 32768 - 8;
  CHECK_OK(nnfm_engine_check(e, &c));
  c.o_base++;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  c.o_base = UINT32_MAX;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  /* W range: 2 * 2 * 8 = 32 words */
  c = ok, c.w_base = 16384 - 32;
  CHECK_OK(nnfm_engine_check(e, &c));
  c.w_base++;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  c.w_base = UINT32_MAX - 3;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  /* P range: 2 entries */
  c = ok, c.p_base = 63;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  c.p_base = UINT32_MAX;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  /* A / O overlap: A = 100..107 */
  c = ok, c.o_base = 107;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  c.o_base = 108;
  CHECK_OK(nnfm_engine_check(e, &c));
  c.o_base = 93; /* O = 93..100 */
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  c.o_base = 92;
  CHECK_OK(nnfm_engine_check(e, &c));
  c.o_base = 100;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  /* a range error is reported before an invalid P entry */
  e->m0[10 * 8 + 3] = -1;
  c = ok, c.w_base = 16384;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  /* P contents: used lanes n < 9 only */
  CHECK_EQ(nnfm_engine_check(e, &ok), NNFM_ERR_RANGE);
  e->m0[10 * 8 + 3] = 1 << 30;
  e->m0[11 * 8 + 0] = INT32_MIN; /* n = 8: used */
  CHECK_EQ(nnfm_engine_check(e, &ok), NNFM_ERR_RANGE);
  e->m0[11 * 8 + 0] = INT32_MAX;
  e->m0[11 * 8 + 1] = -5;        /* n = 9: padding lane, not checked */
  e->shift[11 * 8 + 7] = 99;
  CHECK_OK(nnfm_engine_check(e, &ok));
  e->shift[10 * 8 + 0] = 31;
  CHECK_EQ(nnfm_engine_check(e, &ok), NNFM_ERR_RANGE);
  e->shift[10 * 8 + 0] = -32;
  CHECK_EQ(nnfm_engine_check(e, &ok), NNFM_ERR_RANGE);
  e->shift[10 * 8 + 0] = -31;
  CHECK_OK(nnfm_engine_check(e, &ok));
  e->shift[10 * 8 + 0] = 30;
  CHECK_OK(nnfm_engine_check(e, &ok));
  /* a refused command leaves every buffer (and *macs) untouched */
  e->shift[10 * 8 + 0] = 31;
  snap s = snap_take(e);
  uint64_t macs = 12345;
  CHECK_EQ(nnfm_engine_gemm(e, &ok, &macs), NNFM_ERR_RANGE);
  c = ok, c.o_base = 32768 - 7;
  CHECK_EQ(nnfm_engine_gemm(e, &c, &macs), NNFM_ERR_SHAPE);
  CHECK_EQ(nnfm_engine_gemm(e, NULL, &macs), NNFM_ERR_NULL);
  CHECK_EQ_U64(macs, 12345);
  check_same(e, &s);
  snap_free(&s);
  e->shift[10 * 8 + 0] = 0;
  /* M = 0 or N = 0: touches nothing, so addresses and P are not checked ... */
  e->m0[10 * 8] = -1;
  c = ok, c.m = 0, c.a_base = c.o_base = c.w_base = c.p_base = UINT32_MAX;
  CHECK_OK(nnfm_engine_check(e, &c));
  c = ok, c.n = 0, c.a_base = c.o_base = c.w_base = c.p_base = UINT32_MAX;
  CHECK_OK(nnfm_engine_check(e, &c));
  c = ok, c.m = 0, c.n = 0, c.o_base = c.a_base; /* no overlap either */
  CHECK_OK(nnfm_engine_check(e, &c));
  /* ... but the fields are */
  c = ok, c.m = 0, c.lo = 5, c.hi = 4;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.n = 0, c.k = 70000;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_RANGE);
  e->m0[10 * 8] = 1 << 30;
  /* K = 0: one K tile, so M words of A are read and W holds one tile per N tile */
  c = ok, c.k = 0, c.a_base = 32768 - 4;
  CHECK_OK(nnfm_engine_check(e, &c));
  c.a_base++;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.k = 0, c.w_base = 16384 - 16;
  CHECK_OK(nnfm_engine_check(e, &c));
  c.w_base++;
  CHECK_EQ(nnfm_engine_check(e, &c), NNFM_ERR_SHAPE);
  nnfm_engine_destroy(e);
}

/* ---- engine gemm vs nnfm_gemm ----------------------------------------------- */

typedef struct {
  uint32_t m, k, n;
  int lut;
} shape;

/* Place a command of the given shape at random non-overlapping bases in a
 * garbage-filled engine, run it, and compare every buffer with the
 * expectation built from nnfm_gemm. Returns 0 when it does not fit. */
static int run_case(nnf_rng *r, nnfm_engine *e, shape sh) {
  const nnfm_config *cfg = &e->cfg;
  const uint32_t R = (uint32_t)cfg->rows, C = (uint32_t)cfg->cols;
  const uint32_t M = sh.m, K = sh.k, N = sh.n;
  const uint32_t KT = K == 0 ? 1 : (K + R - 1) / R, NT = (N + C - 1) / C;
  const uint64_t aw = (uint64_t)KT * M, ow = (uint64_t)NT * M, ww = (uint64_t)NT * KT * R;
  if (aw + ow > cfg->act_words || ww > cfg->w_words || NT > cfg->p_words) return 0;

  /* bases: A and O in random order with random gaps */
  uint64_t slack = cfg->act_words - aw - ow;
  uint64_t g0 = (uint64_t)nnf_rng_range(r, 0, (int64_t)slack);
  uint64_t g1 = (uint64_t)nnf_rng_range(r, 0, (int64_t)(slack - g0));
  nnfm_cmd c = {0};
  if (nnf_rng_range(r, 0, 1)) c.a_base = (uint32_t)g0, c.o_base = (uint32_t)(g0 + aw + g1);
  else c.o_base = (uint32_t)g0, c.a_base = (uint32_t)(g0 + ow + g1);
  c.w_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)(cfg->w_words - ww));
  c.p_base = (uint32_t)nnf_rng_range(r, 0, (int64_t)(cfg->p_words - NT));
  c.m = M, c.k = K, c.n = N, c.lut = sh.lut;
  c.zp = (int32_t)nnf_rng_range(r, -128, 127);
  c.lo = (int32_t)nnf_rng_range(r, -128, 127);
  c.hi = (int32_t)nnf_rng_range(r, c.lo, 127);
  if (nnf_rng_range(r, 0, 2) == 0) c.lo = -128, c.hi = 127;

  /* operands: row-major, weights symmetric, parameters spreading the outputs */
  int8_t *a = malloc((size_t)M * K + 1), *w = malloc((size_t)K * N + 1);
  int8_t *y = malloc((size_t)M * N + 1), *yo = malloc((size_t)M * N + 1);
  int32_t *bias = malloc(sizeof(int32_t) * (N + 1)), *m0 = malloc(sizeof(int32_t) * (N + 1));
  int8_t *shift = malloc((size_t)N + 1);
  CHECK(a && w && y && yo && bias && m0 && shift);
  nnf_rng_fill(r, a, (size_t)M * K);
  for (size_t i = 0; i < (size_t)K * N; i++) w[i] = (int8_t)nnf_rng_range(r, -127, 127);
  for (uint32_t j = 0; j < N; j++) {
    int s;
    double real = ldexp(1.0, -(int)nnf_rng_range(r, 6, 13));
    CHECK_OK(nnfm_quantize_multiplier(real * (1.0 + (double)nnf_rng_u32(r) / 4294967296.0), &m0[j], &s));
    shift[j] = (int8_t)s;
    bias[j] = (int32_t)nnf_rng_range(r, -30000, 30000);
    if (j % 11 == 5) bias[j] = (int32_t)nnf_rng_u32(r); /* may wrap */
  }

  fill_garbage(r, e);
  CHECK_OK(nnfm_engine_put_act(e, c.a_base, a, M, K));
  CHECK_OK(nnfm_engine_put_weights(e, c.w_base, w, K, N));
  CHECK_OK(nnfm_engine_put_params(e, c.p_base, bias, m0, shift, N));
  /* garbage in the padding lanes, which the engine must ignore */
  for (uint32_t kt = 0; kt < KT && M; kt++)
    for (uint32_t rr = 0; rr < R; rr++)
      if (kt * R + rr >= K)
        for (uint32_t i = 0; i < M; i++) e->act[((size_t)c.a_base + (size_t)kt * M + i) * R + rr] = (uint8_t)nnf_rng_u32(r);
  for (uint64_t word = 0; word < ww; word++)
    for (uint32_t j = 0; j < C; j++) {
      uint32_t nt = (uint32_t)(word / ((uint64_t)KT * R)), kk = (uint32_t)(word % ((uint64_t)KT * R));
      if (kk >= K || nt * C + j >= N) e->w[(c.w_base + word) * C + j] = (uint8_t)nnf_rng_u32(r);
    }
  for (uint32_t j = N; j < NT * C; j++) { /* invalid parameters in padding lanes */
    e->m0[(size_t)c.p_base * C + j] = -(int32_t)nnf_rng_range(r, 1, 1000);
    e->shift[(size_t)c.p_base * C + j] = (int8_t)nnf_rng_range(r, 31, 127);
  }

  /* expectation: the snapshot with the output words replaced */
  snap s = snap_take(e);
  nnfm_gemm_args g = {(int)M, (int)K, (int)N, c.zp, c.lo, c.hi, c.lut ? e->lut : NULL, NNFM_ROUND_SINGLE};
  CHECK_OK(nnfm_gemm(&g, a, w, bias, m0, shift, y));
  for (uint32_t nt = 0; nt < NT; nt++)
    for (uint32_t i = 0; i < M; i++)
      for (uint32_t j = 0; j < C; j++) {
        uint32_t n = nt * C + j;
        s.act[((size_t)c.o_base + (size_t)nt * M + i) * R + j] = n < N ? (uint8_t)y[(size_t)i * N + n] : 0;
      }
  uint64_t want_macs = 0; /* per streamed row: valid K lanes x valid N lanes */
  for (uint32_t nt = 0; nt < NT && M; nt++)
    for (uint32_t kt = 0; kt < KT; kt++) {
      uint32_t kl = K > kt * R ? (K - kt * R < R ? K - kt * R : R) : 0;
      uint32_t nl = N - nt * C < C ? N - nt * C : C;
      want_macs += (uint64_t)M * kl * nl;
    }

  uint64_t macs = 777;
  nnf_test_ctx("cfg rows %d acc %u: M %u K %u N %u lut %d a %u o %u w %u p %u", cfg->rows,
               cfg->acc_depth, M, K, N, c.lut, c.a_base, c.o_base, c.w_base, c.p_base);
  CHECK_OK(nnfm_engine_check(e, &c));
  CHECK_OK(nnfm_engine_gemm(e, &c, &macs));
  check_same(e, &s);
  CHECK_EQ_U64(macs, want_macs);
  CHECK_OK(nnfm_engine_get_act(e, c.o_base, yo, M, N));
  CHECK_MEM_EQ(yo, y, (size_t)M * N);
  nnf_test_ctx("");
  snap_free(&s);
  free(a), free(w), free(y), free(yo), free(bias), free(m0), free(shift);
  return 1;
}

static void test_engine_hand(void) {
  /* the plain-GEMM hand case on a 2 x 2 array: K = 3 (KT 2), N = 2 (NT 1) */
  nnfm_config cfg = small_cfg(2, 32, 16, 2, 2);
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  const int8_t a[6] = {1, 2, 3, -4, 5, -6}, w[6] = {1, -1, 2, 0, 3, 1};
  const int32_t bias[2] = {10, -10}, m0[2] = {1 << 30, 1 << 30};
  const int8_t shift[2] = {1, 0};
  CHECK_OK(nnfm_engine_put_act(e, 0, a, 2, 3));
  CHECK_OK(nnfm_engine_put_weights(e, 0, w, 3, 2));
  CHECK_OK(nnfm_engine_put_params(e, 1, bias, m0, shift, 2));
  e->act[3 * 2 + 1] = 0x7f; /* A word 3 = row 1, lanes k 2 (valid) and k 3 (padding) */
  nnfm_cmd c = {2, 3, 2, 0, 0, 1, 10, 3, -128, 127, 0, 0, NNFM_ROUND_SINGLE};
  uint64_t macs = 0;
  CHECK_OK(nnfm_engine_gemm(e, &c, &macs));
  CHECK_EQ_U64(macs, 12);
  /* Y = [[27, -1], [1, -3]] at words 10, 11 */
  const uint8_t want[4] = {27, 0xff, 1, 0xfd};
  CHECK_MEM_EQ(e->act + 10 * 2, want, 4);
  /* M = 0 and N = 0 write nothing and count nothing */
  snap s = snap_take(e);
  c.m = 0;
  CHECK_OK(nnfm_engine_gemm(e, &c, &macs));
  CHECK_EQ_U64(macs, 0);
  c.m = 2, c.n = 0;
  CHECK_OK(nnfm_engine_gemm(e, &c, NULL));
  check_same(e, &s);
  /* K = 0: f(requantize(bias)), no MACs, and the A words are not looked at */
  c.n = 2, c.k = 0;
  CHECK_OK(nnfm_engine_gemm(e, &c, &macs));
  CHECK_EQ_U64(macs, 0);
  const uint8_t want_k0[4] = {13, 0xfe, 13, 0xfe}; /* 10 * 1 + 3, -10 * 0.5 + 3 */
  CHECK_MEM_EQ(e->act + 10 * 2, want_k0, 4);
  /* LUT after the clamp */
  for (int i = 0; i < 256; i++) e->lut[i] = (int8_t)(i ^ 0x55);
  c.lut = 1;
  CHECK_OK(nnfm_engine_gemm(e, &c, NULL));
  const uint8_t want_lut[4] = {13 ^ 0x55, 0xfe ^ 0x55, 13 ^ 0x55, 0xfe ^ 0x55};
  CHECK_MEM_EQ(e->act + 10 * 2, want_lut, 4);
  snap_free(&s);
  nnfm_engine_destroy(e);
}

static void test_engine_random(void) {
  nnf_rng r = nnf_rng_seed(31337);
  const nnfm_config cfgs[] = {
      nnfm_config_default(),
      small_cfg(2, 4096, 4096, 64, 2),
      small_cfg(4, 8192, 8192, 32, 4),
      small_cfg(8, 16384, 8192, 16, 32),
      small_cfg(16, 4096, 8192, 16, 64),
      small_cfg(64, 1024, 4096, 4, 8),
  };
  const int ncfg = (int)(sizeof cfgs / sizeof cfgs[0]);
  int ran = 0;
  for (int ci = 0; ci < ncfg; ci++) {
    nnfm_engine *e = nnfm_engine_create(&cfgs[ci]);
    CHECK(e != NULL);
    const int R = cfgs[ci].rows;
    for (int t = 0; t < 30; t++) {
      shape sh;
      sh.m = (uint32_t)nnf_rng_range(&r, 0, 300);
      sh.k = (uint32_t)nnf_rng_range(&r, 0, 6 * R + 5);
      sh.n = (uint32_t)nnf_rng_range(&r, 0, 4 * R + 3);
      if (t % 7 == 0) sh.m = (uint32_t)nnf_rng_range(&r, 0, 3);     /* tiny M */
      if (t % 5 == 0) sh.k = (uint32_t)(R * nnf_rng_range(&r, 1, 4)); /* whole K tiles */
      if (t % 6 == 0) sh.n = (uint32_t)(R * nnf_rng_range(&r, 1, 3)); /* whole N tiles */
      if (t % 9 == 0) sh.k = 0;
      sh.lut = t % 3 == 0;
      ran += run_case(&r, e, sh);
    }
    nnfm_engine_destroy(e);
  }
  CHECK(ran >= 150); /* most shapes fit their configuration */
}

static void test_engine_large(void) {
  nnf_rng r = nnf_rng_seed(784);
  nnfm_config cfg = nnfm_config_default();
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  /* M-blocking with ACC_DEPTH 256: 300 = 256 + 44 rows; fits the default ACT */
  const shape in_default[] = {{300, 784, 64, 0}, {256, 100, 10, 1}, {257, 9, 17, 0}, {512, 33, 8, 1}};
  for (size_t i = 0; i < sizeof in_default / sizeof in_default[0]; i++)
    CHECK_EQ(run_case(&r, e, in_default[i]), 1);
  nnfm_engine_destroy(e);
  /* the largest layer of the brief, 300 x 784 x 128, needs 34200 ACT words */
  cfg.act_words = 65536;
  e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  const shape big = {300, 784, 128, 1};
  CHECK_EQ(run_case(&r, e, big), 1);
  nnfm_engine_destroy(e);
}


/* EW (nnfm_engine_ew): the activation layout, lanes of channels >= N as 0,
 * in place, the LUT select, and every refusal (nothing written). */
static void test_ew(void) {
  nnfm_config cfg = nnfm_config_default();
  cfg.act_words = 1024;
  nnfm_engine *e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  if (!e) return;
  const uint32_t R = (uint32_t)cfg.rows;
  CHECK_EQ(nnfm_region_bytes(&cfg, NNFP_REGION_LUT), 8u * 256u);
  nnf_rng r = nnf_rng_seed(27);
  for (int t = 0; t < 400; t++) {
    nnf_rng_fill(&r, e->act, (size_t)cfg.act_words * R);
    nnf_rng_fill(&r, e->lut, sizeof e->lut);
    nnfm_ew_cmd c;
    memset(&c, 0, sizeof c);
    int op = (int)nnf_rng_range(&r, 0, 3);
    CHECK_OK(nnfm_ew_prepare(op, 0.001 + 0.05 * (double)nnf_rng_range(&r, 1, 100) / 100, (int32_t)nnf_rng_range(&r, -128, 127),
                             0.001 + 0.05 * (double)nnf_rng_range(&r, 1, 100) / 100, (int32_t)nnf_rng_range(&r, -128, 127),
                             0.002 + 0.1 * (double)nnf_rng_range(&r, 1, 100) / 100, (int32_t)nnf_rng_range(&r, -128, 127),
                             -128, 127, &c.p));
    c.n = (uint32_t)nnf_rng_range(&r, 1, 3 * R + 1);
    c.m = (uint32_t)nnf_rng_range(&r, 1, 20);
    c.lut = t % 2;
    c.lut_sel = (uint32_t)nnf_rng_range(&r, 0, 7);
    const uint32_t CT = (c.n + R - 1) / R, words = CT * c.m;
    c.a_base = (uint32_t)nnf_rng_range(&r, 0, 300);
    c.b_base = c.a_base + words + (uint32_t)nnf_rng_range(&r, 0, 10);
    c.o_base = t % 3 == 0 ? c.a_base : t % 3 == 1 ? c.b_base : c.b_base + words;
    uint8_t *before = malloc((size_t)cfg.act_words * R);
    memcpy(before, e->act, (size_t)cfg.act_words * R);
    CHECK_OK(nnfm_engine_ew(e, &c));
    for (uint32_t m = 0; m < c.m; m++)
      for (uint32_t ct = 0; ct < CT; ct++)
        for (uint32_t l = 0; l < R; l++) {
          const size_t w = (size_t)ct * c.m + m; /* word of (m, channel ct*R + l) */
          int8_t a = (int8_t)before[((size_t)c.a_base + w) * R + l];
          int8_t b = (int8_t)before[((size_t)c.b_base + w) * R + l];
          int8_t want = ct * R + l < c.n ? nnfm_ew(&c.p, a, b, c.lut ? e->lut + 256 * c.lut_sel : NULL) : 0;
          CHECK_EQ((int8_t)e->act[((size_t)c.o_base + w) * R + l], want);
        }
    /* nothing else changed */
    for (uint32_t w = 0; w < cfg.act_words; w++)
      if (w < c.o_base || w >= c.o_base + words) CHECK_EQ(memcmp(e->act + (size_t)w * R, before + (size_t)w * R, R), 0);
    free(before);
  }
  /* refusals, in the documented order */
  nnfm_ew_cmd ok;
  memset(&ok, 0, sizeof ok);
  CHECK_OK(nnfm_ew_prepare(NNFM_EW_ADD, 0.1, 0, 0.1, 0, 0.1, 0, -128, 127, &ok.p));
  ok.n = 20, ok.m = 10, ok.a_base = 0, ok.b_base = 30, ok.o_base = 60; /* 3 tiles: 30 words each */
  CHECK_OK(nnfm_engine_ew_check(e, &ok));
  nnfm_ew_cmd c = ok;
  CHECK_EQ(nnfm_engine_ew_check(NULL, &c), NNFM_ERR_NULL);
  CHECK_EQ(nnfm_engine_ew_check(e, NULL), NNFM_ERR_NULL);
  c = ok, c.p.lo = 1, c.p.hi = 0;
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lut_sel = 8;
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.lut = 2;
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.n = 65536;
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_RANGE);
  c = ok, c.m = 0, c.a_base = 5000; /* touches nothing */
  CHECK_OK(nnfm_engine_ew_check(e, &c));
  c = ok, c.a_base = 1024 - 29; /* one word past the end */
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.a_base = 1024 - 30, c.o_base = 0;
  CHECK_OK(nnfm_engine_ew_check(e, &c));
  c = ok, c.o_base = 1; /* O overlaps A partly */
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.o_base = 59; /* O overlaps B by one word */
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_SHAPE);
  c = ok, c.o_base = 30; /* in place over B */
  CHECK_OK(nnfm_engine_ew_check(e, &c));
  c = ok, c.b_base = 0; /* A == B */
  CHECK_OK(nnfm_engine_ew_check(e, &c));
  c = ok, c.b_base = 2000; /* B outside: refused, but MAP reads no B */
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_SHAPE);
  c.p.op = NNFM_EW_MAP;
  CHECK_OK(nnfm_engine_ew_check(e, &c));
  c.o_base = 2001; /* MAP: O still checked */
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_SHAPE);
  /* a refused command writes nothing */
  memset(e->act, 0x33, (size_t)cfg.act_words * R);
  c = ok, c.o_base = 1;
  CHECK_EQ(nnfm_engine_ew(e, &c), NNFM_ERR_SHAPE);
  for (size_t i = 0; i < (size_t)cfg.act_words * R; i++) CHECK_EQ(e->act[i], 0x33);
  nnfm_engine_destroy(e);
  /* one LUT: LUT_SEL 1 refused, GEMM's too */
  cfg.luts = 1;
  e = nnfm_engine_create(&cfg);
  CHECK(e != NULL);
  if (!e) return;
  CHECK_EQ(nnfm_region_bytes(&cfg, NNFP_REGION_LUT), 256u);
  c = ok, c.lut_sel = 1;
  CHECK_EQ(nnfm_engine_ew_check(e, &c), NNFM_ERR_RANGE);
  nnfm_cmd g = {4, 8, 8, 0, 0, 0, 100, 0, -128, 127, 1, 1, NNFM_ROUND_SINGLE};
  CHECK_EQ(nnfm_engine_check(e, &g), NNFM_ERR_RANGE);
  g.lut_sel = 0;
  CHECK_OK(nnfm_engine_check(e, &g));
  nnfm_engine_destroy(e);
  cfg.luts = 9;
  CHECK_EQ(nnfm_config_check(&cfg), NNFM_ERR_RANGE);
}

int main(int argc, char **argv) {
  (void)argc;
  test_config();
  test_word_counts();
  test_bytes();
  test_packing();
  test_check();
  test_engine_hand();
  test_engine_random();
  test_engine_large();
  test_ew();
  return nnf_test_done(argv[0]);
}
