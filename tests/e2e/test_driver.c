/*
 * test_driver.c - one driver test suite for every backend (label e2e).
 *
 *   test_driver URI          the suite on a clean link
 *   test_driver URI faults   the data-path tests again with bytes dropped,
 *                            duplicated and corrupted on the wire
 *
 * Every result is checked against the functional model (nnfm_gemm), bit for
 * bit; every refusal against its exact error code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfdrv.h"
#include "nnf_proto.h"
#include "nnfm.h"
#include "nnfm_attn.h"

static nnf_rng rng = {20261122};
static uint32_t rnd(void) { return nnf_rng_u32(&rng); }
static void fill(uint8_t *p, size_t n) { nnf_rng_fill(&rng, p, n); }

static nnfdrv *open_dev(const char *uri) {
  char err[256];
  nnfdrv *d = NULL;
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  if (rc != NNFDRV_OK) {
    fprintf(stderr, "cannot open %s: %s (%s)\n", uri, err, nnfdrv_strerror(rc));
    exit(1);
  }
  return d;
}

/* ---- buffers -------------------------------------------------------------- */

static void test_round_trips(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  uint64_t act = (uint64_t)in->act_words * in->rows;
  /* a transfer larger than max_payload, at an odd offset */
  size_t n = 3 * in->max_payload + 17;
  uint8_t *a = malloc(n), *b = malloc(n);
  fill(a, n);
  CHECK(nnfdrv_write(d, NNFDRV_ACT, 1001, a, n) == NNFDRV_OK);
  memset(b, 0, n);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, 1001, b, n) == NNFDRV_OK);
  CHECK_MEM_EQ(a, b, n);
  /* the last bytes of each region */
  static const int regions[] = {NNFDRV_ACT, NNFDRV_W, NNFDRV_LUT, NNFDRV_PROG};
  uint64_t sizes[] = {act, (uint64_t)in->w_words * in->cols, 256, (uint64_t)in->prog_words * 32};
  for (int r = 0; r < 4; r++) {
    uint32_t at = (uint32_t)(sizes[r] - 100);
    fill(a, 100);
    CHECK(nnfdrv_write(d, regions[r], at, a, 100) == NNFDRV_OK);
    memset(b, 0, 100);
    CHECK(nnfdrv_read(d, regions[r], at, b, 100) == NNFDRV_OK);
    CHECK(memcmp(a, b, 100) == 0);
  }
  /* P: bytes 9..15 of an entry are not stored and read as zero */
  uint8_t p16[16], q16[16];
  memset(p16, 0x5C, sizeof p16);
  CHECK(nnfdrv_write(d, NNFDRV_P, 32, p16, 16) == NNFDRV_OK);
  CHECK(nnfdrv_read(d, NNFDRV_P, 32, q16, 16) == NNFDRV_OK);
  for (int i = 0; i < 16; i++) CHECK(q16[i] == (i < 9 ? 0x5C : 0));
  /* the driver refuses what cannot fit, before the device sees it */
  CHECK(nnfdrv_write(d, NNFDRV_ACT, (uint32_t)act - 1, a, 2) == NNFDRV_ERR_ARG);
  CHECK(nnfdrv_read(d, 9, 0, b, 1) == NNFDRV_ERR_ARG);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, 0, NULL, 1) == NNFDRV_ERR_ARG);
  CHECK(nnfdrv_run(d, in->prog_words) == NNFDRV_ERR_ARG);
  free(a);
  free(b);
}

/* ---- device-side refusals (raw frames) ------------------------------------ */

static void expect_device_error(nnfdrv *d, uint8_t type, uint32_t arg, const void *pl, uint16_t len,
                                int code) {
  uint8_t ans[64];
  uint16_t n = 0;
  CHECK(nnfdrv_transact(d, -1, type, arg, pl, len, ans, sizeof ans, &n) == NNFDRV_ERR_DEVICE);
  CHECK_EQ(nnfdrv_device_error(d), code);
}

static void test_device_errors(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  uint8_t four[4] = {0, 0, 0, 0}, one = 1;
  expect_device_error(d, 0x42, 0, NULL, 0, NNFP_E_UNKNOWN);
  expect_device_error(d, NNFP_INFO, 0, &one, 1, NNFP_E_BAD_LEN);
  expect_device_error(d, NNFP_READ, 0, four, 4, NNFP_E_BAD_LEN);           /* count 0 */
  nnfp_put32(four, (uint32_t)in->max_payload + 1);
  expect_device_error(d, NNFP_READ, 0, four, 4, NNFP_E_BAD_LEN);           /* count too big */
  nnfp_put32(four, 2);
  const uint32_t lut_bytes = NNFP_LUT_BYTES * in->luts; /* INFO LUTS tables */
  expect_device_error(d, NNFP_READ, nnfp_arg_with_region(lut_bytes - 1, NNFP_REGION_LUT), four, 4, NNFP_E_RANGE);
  expect_device_error(d, NNFP_READ, nnfp_arg_with_region(0, 6), four, 4, NNFP_E_RANGE); /* no region 6 */
  expect_device_error(d, NNFP_READ,
                      nnfp_arg_with_region(in->state_words * NNFP_STATE_BYTES - 1, NNFP_REGION_STATE),
                      four, 4, NNFP_E_RANGE);                                 /* past STATE */
  expect_device_error(d, NNFP_WRITE, nnfp_arg_with_region(lut_bytes, NNFP_REGION_LUT), &one, 1,
                      NNFP_E_RANGE);
  expect_device_error(d, NNFP_RUN, in->prog_words, NULL, 0, NNFP_E_BAD_PROG);
  /* STATUS remembers the last error */
  nnfdrv_state st;
  CHECK(nnfdrv_get_state(d, &st) == NNFDRV_OK);
  CHECK(st.last_error == NNFP_E_BAD_PROG);
  /* a refused WRITE wrote nothing */
  uint8_t lut_before[256], lut_after[256], junk[300];
  CHECK(nnfdrv_read(d, NNFDRV_LUT, lut_bytes - 256, lut_before, 256) == NNFDRV_OK);
  fill(junk, sizeof junk);
  expect_device_error(d, NNFP_WRITE, nnfp_arg_with_region(lut_bytes - 256, NNFP_REGION_LUT), junk, 300,
                      NNFP_E_RANGE);
  CHECK(nnfdrv_read(d, NNFDRV_LUT, lut_bytes - 256, lut_after, 256) == NNFDRV_OK);
  CHECK(memcmp(lut_before, lut_after, 256) == 0);
}

/* ---- GEMM programs against the model ------------------------------------- */

typedef struct {
  int m, k, n;
  int8_t *a, *w, *y;
  int32_t *bias, *m0;
  int8_t *shift;
} layer;

static void layer_random(layer *L, int m, int k, int n) {
  L->m = m;
  L->k = k;
  L->n = n;
  L->a = malloc((size_t)m * k + 1);
  L->w = malloc((size_t)k * n + 1);
  L->y = malloc((size_t)m * n + 1);
  L->bias = malloc(sizeof(int32_t) * n);
  L->m0 = malloc(sizeof(int32_t) * n);
  L->shift = malloc((size_t)n);
  fill((uint8_t *)L->a, (size_t)m * k);
  for (int i = 0; i < k * n; i++) L->w[i] = (int8_t)((int)(rnd() % 255) - 127);
  for (int j = 0; j < n; j++) {
    L->bias[j] = (int32_t)(rnd() % 200001) - 100000;
    L->m0[j] = (int32_t)((1u << 30) + rnd() % (1u << 30));
    L->shift[j] = (int8_t)(-(int)(rnd() % 12) - 1);
  }
}

static void layer_free(layer *L) {
  free(L->a);
  free(L->w);
  free(L->y);
  free(L->bias);
  free(L->m0);
  free(L->shift);
}

/* Put a layer's weights and parameters into the device through an engine
 * image (the model's layout helpers define the byte layout). */
static void upload_layer(nnfdrv *d, nnfm_engine *img, const layer *L, uint32_t w_base, uint32_t p_base) {
  const nnfm_config *c = &img->cfg;
  CHECK(nnfm_engine_put_weights(img, w_base, L->w, (uint32_t)L->k, (uint32_t)L->n) == NNFM_OK);
  CHECK(nnfm_engine_put_params(img, p_base, L->bias, L->m0, L->shift, (uint32_t)L->n) == NNFM_OK);
  uint32_t ww = nnfm_w_words(c, (uint32_t)L->k, (uint32_t)L->n);
  CHECK(nnfdrv_write(d, NNFDRV_W, w_base * (uint32_t)c->cols, img->w + (size_t)w_base * c->cols,
                     (size_t)ww * c->cols) == NNFDRV_OK);
  /* P through the image's host-port bytes: the model defines the layout */
  uint32_t p_addr = p_base * (uint32_t)c->cols * 16, p_len = nnfm_p_entries(c, (uint32_t)L->n) * (uint32_t)c->cols * 16;
  uint8_t *rec = malloc(p_len);
  CHECK_OK(nnfm_engine_read_bytes(img, NNFDRV_P, p_addr, rec, p_len));
  CHECK(nnfdrv_write(d, NNFDRV_P, p_addr, rec, p_len) == NNFDRV_OK);
  free(rec);
}

/* An engine image in the device's layouts (the model's layout helpers
 * define the bytes the test writes). */
static nnfm_engine *device_image(const nnfdrv_info *in) {
  nnfm_config cfg = nnfm_config_default();
  cfg.rows = in->rows;
  cfg.cols = in->cols;
  cfg.act_words = in->act_words;
  cfg.w_words = in->w_words;
  cfg.p_words = in->p_words;
  cfg.acc_depth = in->acc_depth;
  nnfm_engine *img = nnfm_engine_create(&cfg);
  CHECK(img != NULL);
  return img;
}

static void test_mlp_program(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  nnfm_engine *img = device_image(in);
  const nnfm_config cfg = img->cfg;
  /* M rows: 100, fewer on a device whose ACT does not hold the three
   * activations and the 8 KB written while it runs (a board configuration:
   * sim:board=ulx3s) */
  uint32_t M = 100;
  while (M > 4 && nnfm_act_words(&cfg, M, 200) + nnfm_act_words(&cfg, M, 37) + nnfm_act_words(&cfg, M, 10) +
                       16 + 8192 / cfg.rows > cfg.act_words)
    M /= 2;

  /* M x 200 -> 37 -> 10: ragged K and N on both layers */
  layer L1, L2;
  layer_random(&L1, M, 200, 37);
  layer_random(&L2, M, 37, 10);
  int8_t lut[256];
  for (int i = 0; i < 256; i++) lut[i] = (int8_t)(127 - i);
  nnfm_gemm_args g1 = {L1.m, L1.k, L1.n, -5, -5, 127, NULL, NNFM_ROUND_SINGLE};      /* ReLU at zp -5 */
  nnfm_gemm_args g2 = {L2.m, L2.k, L2.n, 3, -128, 127, lut, NNFM_ROUND_SINGLE};
  CHECK(nnfm_gemm(&g1, L1.a, L1.w, L1.bias, L1.m0, L1.shift, L1.y) == NNFM_OK);
  memcpy(L2.a, L1.y, (size_t)L1.m * L1.n);
  CHECK(nnfm_gemm(&g2, L2.a, L2.w, L2.bias, L2.m0, L2.shift, L2.y) == NNFM_OK);

  uint32_t a0 = 0, h0 = nnfm_act_words(&cfg, M, 200), o0 = h0 + nnfm_act_words(&cfg, M, 37);
  uint32_t w1 = 0, w2 = nnfm_w_words(&cfg, 200, 37), p2 = nnfm_p_entries(&cfg, 37);
  upload_layer(d, img, &L1, w1, 0);
  upload_layer(d, img, &L2, w2, p2);
  CHECK(nnfdrv_write(d, NNFDRV_LUT, 0, lut, 256) == NNFDRV_OK);
  CHECK(nnfm_engine_put_act(img, a0, L1.a, M, 200) == NNFM_OK);
  CHECK(nnfdrv_write(d, NNFDRV_ACT, a0 * cfg.rows, img->act + (size_t)a0 * cfg.rows,
                     (size_t)nnfm_act_words(&cfg, M, 200) * cfg.rows) == NNFDRV_OK);

  uint8_t prog[3 * 32];
  nnfdrv_gemm i1 = {(uint16_t)M, 200, 37, a0, w1, 0, h0, -5, -5, 127, 0, NNFM_ROUND_SINGLE};
  nnfdrv_gemm i2 = {(uint16_t)M, 37, 10, h0, w2, p2, o0, 3, -128, 127, 1, NNFM_ROUND_SINGLE};
  nnfdrv_insn_gemm(prog, &i1);
  nnfdrv_insn_gemm(prog + 32, &i2);
  nnfdrv_insn_end(prog + 64);
  CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog) == NNFDRV_OK);

  nnfdrv_counters c0, c1;
  CHECK(nnfdrv_get_counters(d, &c0) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  CHECK(nnfdrv_get_counters(d, &c1) == NNFDRV_OK);
  CHECK_EQ_U64(c1.macs - c0.macs, (uint64_t)M * 200 * 37 + (uint64_t)M * 37 * 10);

  /* both layers' outputs, bit for bit */
  int8_t *got = malloc(100 * 40);
  uint8_t *raw = malloc((size_t)nnfm_act_words(&cfg, M, 37) * cfg.rows);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, h0 * cfg.rows, raw, (size_t)nnfm_act_words(&cfg, M, 37) * cfg.rows) == NNFDRV_OK);
  memcpy(img->act + (size_t)h0 * cfg.rows, raw, (size_t)nnfm_act_words(&cfg, M, 37) * cfg.rows);
  CHECK(nnfm_engine_get_act(img, h0, got, M, 37) == NNFM_OK);
  CHECK_MEM_EQ(got, L1.y, M * 37);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, o0 * cfg.rows, raw, (size_t)nnfm_act_words(&cfg, M, 10) * cfg.rows) == NNFDRV_OK);
  memcpy(img->act + (size_t)o0 * cfg.rows, raw, (size_t)nnfm_act_words(&cfg, M, 10) * cfg.rows);
  CHECK(nnfm_engine_get_act(img, o0, got, M, 10) == NNFM_OK);
  CHECK_MEM_EQ(got, L2.y, M * 10);

  /* a RUN repeated with the same seq (a host retry) executes once */
  uint16_t n;
  uint8_t ans[8];
  CHECK(nnfdrv_get_counters(d, &c0) == NNFDRV_OK);
  CHECK(nnfdrv_transact(d, -1, NNFP_RUN, 0, NULL, 0, ans, sizeof ans, &n) == NNFDRV_OK);
  CHECK(nnfdrv_transact(d, nnfdrv_last_seq(d), NNFP_RUN, 0, NULL, 0, ans, sizeof ans, &n) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  CHECK(nnfdrv_get_counters(d, &c1) == NNFDRV_OK);
  CHECK_EQ_U64(c1.macs - c0.macs, (uint64_t)M * 200 * 37 + (uint64_t)M * 37 * 10);
  /* the next RUN with a new seq executes again */
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  CHECK(nnfdrv_get_counters(d, &c0) == NNFDRV_OK);
  CHECK_EQ_U64(c0.macs - c1.macs, (uint64_t)M * 200 * 37 + (uint64_t)M * 37 * 10);

  /* inputs for the next batch stream in while the program runs */
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  uint8_t *spare = malloc(8192);
  fill(spare, 8192);
  uint32_t spare_at = (o0 + nnfm_act_words(&cfg, M, 10) + 16) * cfg.rows;
  CHECK(nnfdrv_write(d, NNFDRV_ACT, spare_at, spare, 8192) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  uint8_t *back = malloc(8192);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, spare_at, back, 8192) == NNFDRV_OK);
  CHECK(memcmp(spare, back, 8192) == 0);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, o0 * cfg.rows, raw, (size_t)nnfm_act_words(&cfg, M, 10) * cfg.rows) == NNFDRV_OK);
  memcpy(img->act + (size_t)o0 * cfg.rows, raw, (size_t)nnfm_act_words(&cfg, M, 10) * cfg.rows);
  CHECK(nnfm_engine_get_act(img, o0, got, M, 10) == NNFM_OK);
  CHECK_MEM_EQ(got, L2.y, M * 10);

  /* STATUS after the program: stopped at its END */
  nnfdrv_state st;
  CHECK(nnfdrv_get_state(d, &st) == NNFDRV_OK);
  CHECK(st.running == 0 && st.pc == 2);

  /* RESET bit 0 zeroes the counters */
  CHECK(nnfdrv_reset(d, 1) == NNFDRV_OK);
  CHECK(nnfdrv_get_counters(d, &c1) == NNFDRV_OK);
  CHECK(c1.macs == 0 && c1.frame_errors == 0);
  CHECK(nnfdrv_reset(d, 4) == NNFDRV_ERR_ARG);

  free(spare);
  free(back);
  free(got);
  free(raw);
  layer_free(&L1);
  layer_free(&L2);
  nnfm_engine_destroy(img);
}

/* ---- ROW (docs/attention.md): SOFTMAX on the device ------------------------- */

static void expect_state(nnfdrv *d, int running, int waiting, uint8_t last_error, uint16_t pc);

/* M rows of N int8 logits through ROW SOFTMAX with TFLite's table for the
 * logits' scale, in place and into another range, against nnfm_softmax row
 * by row; then the refusals (STATUS: BAD_INSN at the instruction). Without
 * FEAT_ROW, ROW stops the program like END. */
static void test_row_softmax(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  nnfm_engine *img = device_image(in);
  const nnfm_config cfg = img->cfg;
  const uint32_t M = 7, N = 3 * cfg.rows + 5, words = nnfm_act_words(&cfg, M, N);
  const uint32_t a0 = 0, o0 = words + 3;
  int8_t x[7 * 64], want[7 * 64], got[7 * 64];
  for (uint32_t i = 0; i < M * N; i++) x[i] = (int8_t)(rnd() % 90) - 60;
  for (uint32_t j = 0; j < N; j++) x[2 * N + j] = 17;   /* a row of equal logits */
  for (uint32_t j = 0; j < N; j++) x[3 * N + j] = -128; /* one 127 among -128s: probability 1 */
  x[3 * N + 5] = 127;
  nnfm_softmax_params sp;
  int32_t table[256];
  uint8_t lut[1024];
  CHECK(nnfm_softmax_prepare(0.0625, 1.0, &sp) == NNFM_OK);
  CHECK(nnfm_softmax_table(&sp, table) == NNFM_OK);
  for (uint32_t m = 0; m < M; m++) CHECK(nnfm_softmax(table, x + m * N, (int)N, want + m * N) == NNFM_OK);
  uint8_t prog[4 * 32];
  nnfdrv_row r = {NNFM_ROW_SOFTMAX, 0, (uint16_t)N, (uint16_t)M, a0, o0, 0, 0, 0, 0};
  CHECK(nnfdrv_insn_row(prog, &r) == NNFDRV_OK);
  r.o_base = a0; /* then in place */
  CHECK(nnfdrv_insn_row(prog + 32, &r) == NNFDRV_OK);
  nnfdrv_insn_end(prog + 64);
  CHECK(nnfdrv_softmax_luts(table, lut) == NNFDRV_OK);
  CHECK(nnfdrv_write(d, NNFDRV_LUT, 0, lut, in->luts >= 4 ? sizeof lut : 256 * in->luts) == NNFDRV_OK);
  CHECK(nnfm_engine_put_act(img, a0, x, M, N) == NNFM_OK);
  CHECK(nnfdrv_write(d, NNFDRV_ACT, a0 * cfg.rows, img->act + (size_t)a0 * cfg.rows, (size_t)words * cfg.rows) ==
        NNFDRV_OK);
  CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, 3 * 32) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  nnfdrv_state st;
  CHECK(nnfdrv_get_state(d, &st) == NNFDRV_OK);
  if (!(in->features & NNFP_FEAT_ROW)) { /* stops at the first ROW, nothing written */
    CHECK(st.running == 0 && st.pc == 0);
    nnfm_engine_destroy(img);
    return;
  }
  CHECK(st.running == 0 && st.pc == 2);
  uint8_t *raw = malloc((size_t)words * cfg.rows);
  for (int pass = 0; pass < 2; pass++) { /* O, then A (in place) */
    const uint32_t at = pass ? a0 : o0;
    CHECK(nnfdrv_read(d, NNFDRV_ACT, at * cfg.rows, raw, (size_t)words * cfg.rows) == NNFDRV_OK);
    memcpy(img->act + (size_t)at * cfg.rows, raw, (size_t)words * cfg.rows);
    CHECK(nnfm_engine_get_act(img, at, got, M, N) == NNFM_OK);
    CHECK_MEM_EQ(got, want, M * N); /* the in-place pass saw the same logits: ROW left A alone */
  }
  CHECK(got[3 * N + 5] == 127 && got[3 * N + 4] == -128);
  /* refusals: N over 4095, an unknown op, O partly over A, the second table without 8 LUTs */
  uint8_t bad[4][32];
  for (int i = 0; i < 4; i++) CHECK(nnfdrv_insn_row(bad[i], &r) == NNFDRV_OK);
  nnfp_row_put_n(bad[0], NNFM_ROW_N_MAX + 1);
  nnfp_row_put_op(bad[1], 7);
  nnfp_row_put_o_base(bad[2], a0 + 1);
  nnfp_row_put_tbl(bad[3], 1);
  const nnfdrv_row big = {NNFM_ROW_SOFTMAX, 0, NNFM_ROW_N_MAX + 1, 1, 0, 0, 0, 0, 0, 0};
  CHECK(nnfdrv_insn_row(prog, &big) == NNFDRV_ERR_ARG);
  for (int i = 0; i < 4; i++) {
    if (i == 3 && in->luts >= 8) break; /* a table the device has */
    memcpy(prog + 32, bad[i], 32);
    CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, 3 * 32) == NNFDRV_OK);
    CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
    CHECK(nnfdrv_wait(d) == NNFDRV_OK);
    expect_state(d, 0, 0, NNFP_E_BAD_INSN, 1);
  }
  free(raw);
  nnfm_engine_destroy(img);
}

/* ---- DWCONV (docs/conv.md, "The depthwise unit") ---------------------------- */

/* Two depthwise layers in one program, the second reading the first's map:
 * C = 2*rows + 3 channels of 6 x 7, two images; a 3x3 at stride 1 with
 * padding 1 and TFLite's rounding, then a 3x3 at stride 2 with TFLite's
 * SAME padding (one more row and column after) and single rounding. Each
 * against nnfm_conv2d_ref with groups = C (the bias not folded). Then the
 * refusals (STATUS: BAD_INSN at the instruction). Without FEAT_DW the
 * program stops at the first DWCONV. */
static void test_dwconv(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  nnfm_engine *img = device_image(in);
  const nnfm_config cfg = img->cfg;
  const uint32_t R = (uint32_t)cfg.rows, C = 2 * R + 3, H = 6, W = 7, B = 2, CT = (C + R - 1) / R;
  const nnfm_window g1 = {(int)B, (int)C, (int)H, (int)W, 3, 3, 1, 1, 1, 1, 0, 0};
  const nnfm_window g2 = {(int)B, (int)C, (int)H, (int)W, 3, 3, 2, 2, 0, 0, 1, 1};
  int oh1, ow1, oh2, ow2;
  CHECK_OK(nnfm_window_check(&g1, 1, &oh1, &ow1));
  CHECK_OK(nnfm_window_check(&g2, 1, &oh2, &ow2));
  const uint32_t in_w = CT * H * W * B, mid_w = CT * (uint32_t)(oh1 * ow1) * B, out_w = CT * (uint32_t)(oh2 * ow2) * B;
  const uint32_t a0 = 5, a1 = a0 + in_w + 2, a2 = a1 + mid_w + 1, wb = 3, pb = 1;
  int8_t x[2 * 19 * 42], w[2][19 * 9], y1[2 * 19 * 42], y2[2 * 19 * 42], got[2 * 19 * 42];
  int32_t bias[2][19], m0[2][19];
  int8_t sh[2][19];
  CHECK(C <= 19 || R > 8); /* the arrays: rows <= 8 */
  if (C > 19) {
    nnfm_engine_destroy(img);
    return;
  }
  for (uint32_t i = 0; i < B * C * H * W; i++) x[i] = (int8_t)(rnd() % 256 - 128);
  for (int l = 0; l < 2; l++)
    for (uint32_t c = 0; c < C; c++) {
      for (int t = 0; t < 9; t++) w[l][c * 9 + t] = (int8_t)(rnd() % 255 - 127);
      int s;
      CHECK_OK(nnfm_quantize_multiplier(0.002 + 0.0005 * (double)(rnd() % 16), &m0[l][c], &s));
      sh[l][c] = (int8_t)s;
      bias[l][c] = (int32_t)(rnd() % 40001) - 20000;
    }
  const int32_t zp_in1 = -7, zp1 = 3, zp2 = -5;
  nnfm_conv_args r1 = {g1, (int)C, zp_in1, zp1, -128, 127, NULL, NNFM_ROUND_TFLITE, (int)C};
  nnfm_conv_args r2 = {g2, (int)C, zp1, zp2, -100, 90, NULL, NNFM_ROUND_SINGLE, (int)C};
  r2.win.h = oh1, r2.win.w = ow1;
  CHECK_OK(nnfm_window_check(&r2.win, 1, &oh2, &ow2));
  CHECK_OK(nnfm_conv2d_ref(&r1, x, w[0], bias[0], m0[0], sh[0], y1));
  CHECK_OK(nnfm_conv2d_ref(&r2, y1, w[1], bias[1], m0[1], sh[1], y2));
  /* the program */
  nnfdrv_conv c1 = {(uint16_t)C, (uint16_t)C, (uint16_t)H, (uint16_t)W, (uint16_t)B, 3, 3, 1, 1, 1, 1, 0, 0,
                    a0, wb, pb, a1, (int8_t)zp_in1, (int8_t)zp1, -128, 127, 0, 0, NNFM_ROUND_TFLITE};
  nnfdrv_conv c2 = {(uint16_t)C, (uint16_t)C, (uint16_t)oh1, (uint16_t)ow1, (uint16_t)B, 3, 3, 2, 2, 0, 0, 1, 1,
                    a1, wb + CT * 9, pb + CT, a2, (int8_t)zp1, (int8_t)zp2, -100, 90, 0, 0, NNFM_ROUND_SINGLE};
  uint8_t prog[3 * 32];
  CHECK(nnfdrv_insn_dwconv(prog, &c1) == NNFDRV_OK);
  CHECK(nnfdrv_insn_dwconv(prog + 32, &c2) == NNFDRV_OK);
  nnfdrv_insn_end(prog + 64);
  CHECK_OK(nnfm_engine_put_fmap(img, a0, x, B, C, H, W));
  CHECK(nnfdrv_write(d, NNFDRV_ACT, a0 * R, img->act + (size_t)a0 * R, (size_t)in_w * R) == NNFDRV_OK);
  for (int l = 0; l < 2; l++) {
    const uint32_t lw = wb + (uint32_t)l * CT * 9, lp = pb + (uint32_t)l * CT;
    CHECK_OK(nnfm_engine_put_dw_weights(img, lw, w[l], C, 3, 3));
    CHECK(nnfdrv_write(d, NNFDRV_W, lw * (uint32_t)cfg.cols, img->w + (size_t)lw * cfg.cols, (size_t)CT * 9 * cfg.cols) ==
          NNFDRV_OK);
    CHECK_OK(nnfm_engine_put_params(img, lp, bias[l], m0[l], sh[l], C));
    uint32_t p_addr = lp * (uint32_t)cfg.cols * 16, p_len = CT * (uint32_t)cfg.cols * 16;
    uint8_t rec[3 * 64 * 16];
    CHECK_OK(nnfm_engine_read_bytes(img, NNFDRV_P, p_addr, rec, p_len));
    CHECK(nnfdrv_write(d, NNFDRV_P, p_addr, rec, p_len) == NNFDRV_OK);
  }
  CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  nnfdrv_state st;
  CHECK(nnfdrv_get_state(d, &st) == NNFDRV_OK);
  if (!(in->features & NNFP_FEAT_DW)) { /* stops at the first DWCONV, nothing written */
    CHECK(st.running == 0 && st.pc == 0);
    nnfm_engine_destroy(img);
    return;
  }
  CHECK(st.running == 0 && st.pc == 2);
  uint8_t *raw = malloc((size_t)(mid_w > out_w ? mid_w : out_w) * R);
  CHECK(raw != NULL);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, a1 * R, raw, (size_t)mid_w * R) == NNFDRV_OK);
  memcpy(img->act + (size_t)a1 * R, raw, (size_t)mid_w * R);
  CHECK_OK(nnfm_engine_get_fmap(img, a1, got, B, C, (uint32_t)oh1, (uint32_t)ow1));
  CHECK_MEM_EQ(got, y1, (size_t)B * C * oh1 * ow1);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, a2 * R, raw, (size_t)out_w * R) == NNFDRV_OK);
  memcpy(img->act + (size_t)a2 * R, raw, (size_t)out_w * R);
  CHECK_OK(nnfm_engine_get_fmap(img, a2, got, B, C, (uint32_t)oh2, (uint32_t)ow2));
  CHECK_MEM_EQ(got, y2, (size_t)B * C * oh2 * ow2);
  free(raw);
  /* refusals: N != C, a 4-row kernel, the output over the input, P past the
   * buffer, a used lane's multiplier negative (channel C - 1 of layer 1) */
  uint8_t bad[5][32];
  for (int i = 0; i < 5; i++) CHECK(nnfdrv_insn_dwconv(bad[i], &c2) == NNFDRV_OK);
  nnfp_dwconv_put_n(bad[0], C + 1);
  nnfp_dwconv_put_kh(bad[1], 4);
  nnfp_dwconv_put_o_base(bad[2], a1 + 1);
  nnfp_dwconv_put_p_base(bad[3], in->p_words - 1);
  for (int i = 0; i < 5; i++) {
    memcpy(prog + 32, bad[i], 32);
    if (i == 4) { /* a negative m0 in lane (C - 1) % rows of the second layer's last entry */
      uint8_t rec[16];
      nnfp_p_put_bias(rec, 0), nnfp_p_put_m0(rec, -5), nnfp_p_put_shift(rec, 0);
      memset(rec + 9, 0, 7);
      CHECK(nnfdrv_write(d, NNFDRV_P, ((pb + 2 * CT - 1) * (uint32_t)cfg.cols + (C - 1) % R) * 16, rec, 16) ==
            NNFDRV_OK);
    }
    CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog) == NNFDRV_OK);
    CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
    CHECK(nnfdrv_wait(d) == NNFDRV_OK);
    nnf_test_ctx("dwconv refusal %d", i);
    expect_state(d, 0, 0, NNFP_E_BAD_INSN, 1);
    nnf_test_ctx("");
  }
  /* the encoder's own refusals */
  nnfdrv_conv e = c1;
  e.n = (uint16_t)(C - 1);
  CHECK(nnfdrv_insn_dwconv(prog, &e) == NNFDRV_ERR_ARG);
  e = c1, e.kw = 4;
  CHECK(nnfdrv_insn_dwconv(prog, &e) == NNFDRV_ERR_ARG);
  e = c1, e.lut = 1;
  CHECK(nnfdrv_insn_dwconv(prog, &e) == NNFDRV_ERR_ARG);
  nnfm_engine_destroy(img);
}

/* ---- ROW LAYERNORM (docs/attention.md) -------------------------------------- */

/* M tokens of d channels (not a multiple of the array) through ROW
 * LAYERNORM, in place and into another range, against nnfm_layernorm (the
 * host's INT forward's rule) token by token: gammas of both signs and 0, a
 * token of equal values (variance 0: eps alone), a saturating one; then the
 * refusals. Without FEAT_ROW the program stops at the first ROW. */
static void test_row_layernorm(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  nnfm_engine *img = device_image(in);
  const nnfm_config cfg = img->cfg;
  const uint32_t R = (uint32_t)cfg.rows, M = 6, D = 2 * R + 5, words = nnfm_act_words(&cfg, M, D);
  const uint32_t a0 = 0, o0 = words + 2, pb = 1, pe = nnfm_p_entries(&cfg, D);
  if (o0 + words > cfg.act_words || pb + pe > cfg.p_words) {
    fprintf(stderr, "  (layernorm: the device's buffers are too small, skipped)\n");
    nnfm_engine_destroy(img);
    return;
  }
  int8_t x[6 * 64], want[6 * 64], got[6 * 64];
  float gamma[64], beta[64];
  int32_t m0[64], bias[64];
  int8_t shift[64], sign[64];
  for (uint32_t i = 0; i < M * D; i++) x[i] = (int8_t)((int)(rnd() % 200) - 90);
  for (uint32_t j = 0; j < D; j++) x[2 * D + j] = 33;                      /* variance 0 */
  for (uint32_t j = 0; j < D; j++) x[3 * D + j] = (int8_t)(j & 1 ? 127 : -128); /* the widest */
  for (uint32_t j = 0; j < D; j++) {
    gamma[j] = (float)((int)(rnd() % 2001) - 1000) / 400.0f;
    beta[j] = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
  }
  gamma[1] = 0.0f, gamma[2] = -gamma[3];
  gamma[0] = 6.0f, gamma[4] = -6.0f; /* the widest token saturates both ends there */
  nnfm_layernorm_params lp = {0, 0, 0, m0, shift, sign, bias};
  const int32_t zp_in = -7, zp_out = 5;
  CHECK(nnfm_layernorm_prepare((int)D, 0.05, 1e-5, gamma, beta, 0.02, zp_out, &lp) == NNFM_OK);
  for (uint32_t t = 0; t < M; t++) CHECK(nnfm_layernorm(&lp, x + t * D, zp_in, want + t * D) == NNFM_OK);
  int sat = 0;
  for (uint32_t i = 0; i < M * D; i++) sat += want[i] == 127 || want[i] == -128;
  CHECK(sat > 0);
  uint8_t pbytes[64 * 16];
  CHECK(nnfdrv_layernorm_p((int)D, m0, shift, sign, bias, R, pbytes) == NNFDRV_OK);
  CHECK(nnfdrv_write(d, NNFDRV_P, pb * R * 16, pbytes, (size_t)pe * R * 16) == NNFDRV_OK);
  uint8_t prog[4 * 32];
  nnfdrv_row r = {NNFM_ROW_LAYERNORM, 0, (uint16_t)D, (uint16_t)M, a0, o0, zp_in, zp_out, lp.eps_q, pb};
  CHECK(nnfdrv_insn_row(prog, &r) == NNFDRV_OK);
  r.o_base = a0; /* then in place */
  CHECK(nnfdrv_insn_row(prog + 32, &r) == NNFDRV_OK);
  nnfdrv_insn_end(prog + 64);
  CHECK(nnfm_engine_put_act(img, a0, x, M, D) == NNFM_OK);
  CHECK(nnfdrv_write(d, NNFDRV_ACT, a0 * R, img->act + (size_t)a0 * R, (size_t)words * R) == NNFDRV_OK);
  CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, 3 * 32) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  nnfdrv_state st;
  CHECK(nnfdrv_get_state(d, &st) == NNFDRV_OK);
  if (!(in->features & NNFP_FEAT_ROW)) {
    CHECK(st.running == 0 && st.pc == 0);
    nnfm_engine_destroy(img);
    return;
  }
  CHECK(st.running == 0 && st.pc == 2);
  uint8_t raw[6 * 64];
  for (int pass = 0; pass < 2; pass++) { /* O, then A (in place) */
    const uint32_t at = pass ? a0 : o0;
    CHECK(nnfdrv_read(d, NNFDRV_ACT, at * R, raw, (size_t)words * R) == NNFDRV_OK);
    memcpy(img->act + (size_t)at * R, raw, (size_t)words * R);
    CHECK(nnfm_engine_get_act(img, at, got, M, D) == NNFM_OK);
    CHECK_MEM_EQ(got, want, M * D);
  }
  /* refusals: N over 1024, eps_q over 2^62, the P entries past P, an unknown op */
  uint8_t bad[4][32];
  for (int i = 0; i < 4; i++) CHECK(nnfdrv_insn_row(bad[i], &r) == NNFDRV_OK);
  nnfp_row_put_n(bad[0], NNFM_ROW_LN_N_MAX + 1);
  nnfp_row_put_eps_hi(bad[1], 0x40000000u), nnfp_row_put_eps_lo(bad[1], 1);
  nnfp_row_put_p_base(bad[2], cfg.p_words - pe + 1);
  nnfp_row_put_op(bad[3], 2);
  nnfdrv_row big = r;
  big.n = NNFM_ROW_LN_N_MAX + 1;
  CHECK(nnfdrv_insn_row(prog, &big) == NNFDRV_ERR_ARG);
  big = r, big.eps_q = NNFM_ROW_LN_EPS_MAX + 1;
  CHECK(nnfdrv_insn_row(prog, &big) == NNFDRV_ERR_ARG);
  for (int i = 0; i < 4; i++) {
    memcpy(prog + 32, bad[i], 32);
    CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, 3 * 32) == NNFDRV_OK);
    CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
    CHECK(nnfdrv_wait(d) == NNFDRV_OK);
    expect_state(d, 0, 0, NNFP_E_BAD_INSN, 1);
  }
  nnfm_engine_destroy(img);
}

/* ---- ACTW (docs/attention.md): one attention head on the device ----------- */

/* A uniform requantization for every lane of P entries [p_base, p_base +
 * ceil(n / cols)) through the engine image's layout, bias 0. */
static void upload_uniform_params(nnfdrv *d, nnfm_engine *img, uint32_t p_base, uint32_t n, int32_t m0, int8_t sh) {
  const nnfm_config *c = &img->cfg;
  int32_t bias[256] = {0}, m0s[256];
  int8_t shs[256];
  for (uint32_t j = 0; j < n; j++) m0s[j] = m0, shs[j] = sh;
  CHECK(nnfm_engine_put_params(img, p_base, bias, m0s, shs, n) == NNFM_OK);
  uint32_t p_addr = p_base * (uint32_t)c->cols * 16, p_len = nnfm_p_entries(c, n) * (uint32_t)c->cols * 16;
  uint8_t rec[256 * 16];
  CHECK_OK(nnfm_engine_read_bytes(img, NNFDRV_P, p_addr, rec, p_len));
  CHECK(nnfdrv_write(d, NNFDRV_P, p_addr, rec, p_len) == NNFDRV_OK);
}

/* Q, K, V of T tokens and dh features (neither a multiple of the array) in
 * ACT; one program: ACTW K^T -> W, GEMM Q K^T -> logits, ROW SOFTMAX in
 * place, ACTW V -> W with the biases 128 * colsum(V), GEMM P V -> context.
 * Against the host's integer attention (nnfm_matmul_act, nnfm_softmax, the
 * rules the host's INT forward runs), and W and P against the model's
 * nnfm_engine_actw on an image of the device. Then the refusals. Without
 * FEAT_ACTW the program stops at the first ACTW. */
static void test_actw_attention(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  nnfm_engine *img = device_image(in);
  const nnfm_config cfg = img->cfg;
  const uint32_t R = (uint32_t)cfg.rows, T = 2 * R + 3, DH = R + 3;
  const uint32_t qw = nnfm_act_words(&cfg, T, DH), lw = nnfm_act_words(&cfg, T, T);
  const uint32_t aq = 0, ak = qw, av = 2 * qw, al = 3 * qw, ac = 3 * qw + lw;
  const uint32_t wk = 0, wv = nnfm_w_words(&cfg, DH, T), pl = 0, pc = nnfm_p_entries(&cfg, T);
  if (ac + qw > cfg.act_words || wv + nnfm_w_words(&cfg, T, DH) > cfg.w_words ||
      pc + nnfm_p_entries(&cfg, DH) > cfg.p_words) {
    fprintf(stderr, "  (actw: the device's buffers are too small for the head, skipped)\n");
    nnfm_engine_destroy(img);
    return;
  }
  int8_t q[64 * 64], k[64 * 64], v[64 * 64], lg[64 * 64], pr[64 * 64], ctx[64 * 64], got[64 * 64];
  for (uint32_t i = 0; i < T * DH; i++) {
    q[i] = (int8_t)((int)(rnd() % 255) - 127);
    k[i] = (int8_t)((int)(rnd() % 255) - 127);
    v[i] = (int8_t)((int)(rnd() % 255) - 127);
  }
  for (uint32_t j = 0; j < DH; j++) q[3 * DH + j] = 0; /* token 3: all-equal logits */
  for (uint32_t j = 0; j < DH; j++) q[5 * DH + j] = 127, k[5 * DH + j] = 127, k[6 * DH + j] = -127; /* saturating */
  /* the host's integer attention for one head */
  nnfm_matmul_args lga = {(int)T, (int)DH, (int)T, 0, 0, 1518500250, -8, 0, -128, 127};
  nnfm_matmul_args cxa = {(int)T, (int)T, (int)DH, -128, 0, 1 << 30, -7, 0, -128, 127};
  nnfm_softmax_params sp;
  int32_t table[256];
  uint8_t lut[1024];
  CHECK(nnfm_softmax_prepare(0.05, 1.0, &sp) == NNFM_OK);
  CHECK(nnfm_softmax_table(&sp, table) == NNFM_OK);
  CHECK(nnfm_matmul_act(&lga, q, (int)DH, k, 1, (int)DH, lg, (int)T) == NNFM_OK);
  for (uint32_t t = 0; t < T; t++) CHECK(nnfm_softmax(table, lg + t * T, (int)T, pr + t * T) == NNFM_OK);
  CHECK(nnfm_matmul_act(&cxa, pr, (int)T, v, (int)DH, 1, ctx, (int)DH) == NNFM_OK);
  int sat = 0;
  for (uint32_t i = 0; i < T * T; i++) sat += lg[i] == 127 || lg[i] == -128;
  CHECK(sat > 0); /* the clamp is exercised */

  uint8_t prog[6 * 32];
  nnfdrv_actw a = {1, 0, 0, (uint16_t)DH, (uint16_t)T, ak, wk, 0};
  CHECK(nnfdrv_insn_actw(prog, &a) == NNFDRV_OK);
  nnfdrv_gemm g = {0};
  g.m = (uint16_t)T, g.k = (uint16_t)DH, g.n = (uint16_t)T, g.a_base = aq, g.w_base = wk, g.p_base = pl, g.o_base = al;
  g.zp = 0, g.lo = -128, g.hi = 127;
  nnfdrv_insn_gemm(prog + 32, &g);
  nnfdrv_row r = {NNFM_ROW_SOFTMAX, 0, (uint16_t)T, (uint16_t)T, al, al, 0, 0, 0, 0};
  CHECK(nnfdrv_insn_row(prog + 64, &r) == NNFDRV_OK);
  nnfdrv_actw b = {0, 1, -128, (uint16_t)DH, (uint16_t)T, av, wv, pc};
  CHECK(nnfdrv_insn_actw(prog + 96, &b) == NNFDRV_OK);
  g.m = (uint16_t)T, g.k = (uint16_t)T, g.n = (uint16_t)DH, g.a_base = al, g.w_base = wv, g.p_base = pc, g.o_base = ac;
  nnfdrv_insn_gemm(prog + 128, &g);
  nnfdrv_insn_end(prog + 160);

  CHECK(nnfdrv_softmax_luts(table, lut) == NNFDRV_OK);
  CHECK(nnfdrv_write(d, NNFDRV_LUT, 0, lut, in->luts >= 4 ? sizeof lut : 256 * in->luts) == NNFDRV_OK);
  CHECK(nnfm_engine_put_act(img, aq, q, T, DH) == NNFM_OK);
  CHECK(nnfm_engine_put_act(img, ak, k, T, DH) == NNFM_OK);
  CHECK(nnfm_engine_put_act(img, av, v, T, DH) == NNFM_OK);
  CHECK(nnfdrv_write(d, NNFDRV_ACT, 0, img->act, (size_t)3 * qw * R) == NNFDRV_OK);
  upload_uniform_params(d, img, pl, T, lga.m0, (int8_t)lga.shift);
  upload_uniform_params(d, img, pc, DH, cxa.m0, (int8_t)cxa.shift); /* biases: ACTW's */
  /* W and P hold stale bytes ACTW must overwrite (its zero padding too) */
  uint8_t junk[4096];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rnd();
  const uint32_t wwords = wv + nnfm_w_words(&cfg, T, DH);
  CHECK(wwords * R <= sizeof junk);
  CHECK(nnfdrv_write(d, NNFDRV_W, 0, junk, (size_t)wwords * R) == NNFDRV_OK);
  for (uint32_t e = pc; e < pc + nnfm_p_entries(&cfg, DH); e++)
    for (uint32_t j = 0; j < R; j++)
      CHECK(nnfdrv_write(d, NNFDRV_P, (e * R + j) * 16, junk + 4 * j, 4) == NNFDRV_OK);
  CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  nnfdrv_state st;
  CHECK(nnfdrv_get_state(d, &st) == NNFDRV_OK);
  if (!(in->features & NNFP_FEAT_ACTW)) { /* stops at the first ACTW */
    CHECK(st.running == 0 && st.pc == 0);
    nnfm_engine_destroy(img);
    return;
  }
  CHECK(st.running == 0 && st.pc == 5); /* at the END (last_error is an earlier test's) */
  uint8_t raw[64 * 64];
  CHECK(nnfdrv_read(d, NNFDRV_ACT, ac * R, raw, (size_t)qw * R) == NNFDRV_OK);
  memcpy(img->act + (size_t)ac * R, raw, (size_t)qw * R);
  CHECK(nnfm_engine_get_act(img, ac, got, T, DH) == NNFM_OK);
  CHECK_MEM_EQ(got, ctx, T * DH);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, al * R, raw, (size_t)lw * R) == NNFDRV_OK);
  memcpy(img->act + (size_t)al * R, raw, (size_t)lw * R);
  CHECK(nnfm_engine_get_act(img, al, got, T, T) == NNFM_OK);
  CHECK_MEM_EQ(got, pr, T * T);
  /* W and the biases as the model's ACTW writes them */
  nnfm_actw_cmd mk = {1, 0, 0, DH, T, ak, wk, 0}, mv = {0, 1, -128, DH, T, av, wv, pc};
  memcpy(img->w, junk, (size_t)wwords * R);
  CHECK(nnfm_engine_actw(img, &mk) == NNFM_OK && nnfm_engine_actw(img, &mv) == NNFM_OK);
  CHECK(nnfdrv_read(d, NNFDRV_W, 0, raw, (size_t)wwords * R) == NNFDRV_OK);
  CHECK_MEM_EQ(raw, img->w, (size_t)wwords * R);
  for (uint32_t j = 0; j < DH; j++) { /* 128 * colsum(V) */
    int32_t want = 0, b4;
    for (uint32_t t = 0; t < T; t++) want += 128 * v[t * DH + j];
    CHECK(img->bias[(size_t)pc * R + j] == want);
    CHECK(nnfdrv_read(d, NNFDRV_P, ((pc + j / R) * R + j % R) * 16, (uint8_t *)&b4, 4) == NNFDRV_OK);
    CHECK(b4 == want); /* (a little-endian host) */
  }
  /* refusals (BAD_INSN at the instruction): A past ACT, B past W, the
   * biases past P; the encoder's own */
  uint8_t bad[3][32];
  for (int i = 0; i < 3; i++) CHECK(nnfdrv_insn_actw(bad[i], &b) == NNFDRV_OK);
  nnfp_actw_put_a_base(bad[0], cfg.act_words - qw + 1);
  nnfp_actw_put_w_base(bad[1], cfg.w_words - nnfm_w_words(&cfg, T, DH) + 1);
  nnfp_actw_put_p_base(bad[2], cfg.p_words - nnfm_p_entries(&cfg, DH) + 1);
  for (int i = 0; i < 3; i++) {
    memcpy(prog + 32, bad[i], 32);
    nnfdrv_insn_end(prog + 64);
    CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, 3 * 32) == NNFDRV_OK);
    CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
    CHECK(nnfdrv_wait(d) == NNFDRV_OK);
    expect_state(d, 0, 0, NNFP_E_BAD_INSN, 1);
  }
  b.sum = 0; /* without SUM, P is not looked at */
  CHECK(nnfdrv_insn_actw(prog + 32, &b) == NNFDRV_OK);
  nnfp_actw_put_p_base(prog + 32, 0xffffffffu);
  CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, 3 * 32) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK && nnfdrv_wait(d) == NNFDRV_OK);
  CHECK(nnfdrv_get_state(d, &st) == NNFDRV_OK);
  CHECK(st.running == 0 && st.pc == 2); /* ran to the END */
  b.za = 128;
  CHECK(nnfdrv_insn_actw(prog, &b) == NNFDRV_ERR_ARG);
  b.za = 0, b.tr = 2;
  CHECK(nnfdrv_insn_actw(prog, &b) == NNFDRV_ERR_ARG);
  nnfm_engine_destroy(img);
}

/* ---- banks (docs/protocol.md, Banks) ---------------------------------------- */

static void expect_state(nnfdrv *d, int running, int waiting, uint8_t last_error, uint16_t pc) {
  nnfdrv_state st;
  CHECK(nnfdrv_get_state(d, &st) == NNFDRV_OK);
  if (st.running != running || st.waiting != waiting || st.last_error != last_error || st.pc != pc) {
    fprintf(stderr, "  STATUS running %d waiting %d error %u pc %u, expected %d %d %u %u\n", st.running, st.waiting,
            st.last_error, st.pc, running, waiting, last_error, pc);
    CHECK(0);
  }
}

/* One layer's output channels [n0, n1) as a layer of its own. */
static void layer_slice(const layer *L, int n0, int n1, layer *S) {
  int n = n1 - n0;
  S->m = L->m;
  S->k = L->k;
  S->n = n;
  S->a = NULL;
  S->y = NULL;
  S->w = malloc((size_t)L->k * n);
  S->bias = malloc(sizeof(int32_t) * n);
  S->m0 = malloc(sizeof(int32_t) * n);
  S->shift = malloc((size_t)n);
  for (int k = 0; k < L->k; k++) memcpy(S->w + (size_t)k * n, L->w + (size_t)k * L->n + n0, (size_t)n);
  memcpy(S->bias, L->bias + n0, sizeof(int32_t) * n);
  memcpy(S->m0, L->m0 + n0, sizeof(int32_t) * n);
  memcpy(S->shift, L->shift + n0, (size_t)n);
}

/* A layer streamed in two chunks of output channels through banks 0 and 1,
 * step by step (STATUS at every stop) and overlapped as a host streams it;
 * then the refusals, E_BANK, abort, a RUN abandoning a waiting program and
 * BPOST's retry rule. */
static void test_banks(nnfdrv *d) {
  const nnfdrv_info *in = nnfdrv_get_info(d);
  if (!in->banks) {
    uint8_t ans[8];
    uint16_t n;
    CHECK(nnfdrv_bank_wait(d, 0) == NNFDRV_ERR_UNSUPPORTED);
    CHECK(nnfdrv_transact(d, -1, NNFP_BWAIT, 0, NULL, 0, ans, sizeof ans, &n) == NNFDRV_ERR_DEVICE);
    CHECK(nnfdrv_device_error(d) == NNFP_E_UNKNOWN);
    uint8_t prog[64];
    CHECK(nnfdrv_insn_bank(prog, -1, 0) == NNFDRV_OK);
    nnfdrv_insn_end(prog + 32);
    CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog) == NNFDRV_OK);
    CHECK(nnfdrv_run(d, 0) == NNFDRV_OK && nnfdrv_wait(d) == NNFDRV_OK);
    expect_state(d, 0, 0, NNFP_E_UNKNOWN, 0); /* stops like END (the error is BWAIT's) */
    return;
  }
  CHECK(in->features & NNFP_FEAT_BANKS);
  nnfm_engine *img = device_image(in);
  const nnfm_config cfg = img->cfg;
  const int C = in->cols, M = 50, K = 100, N = 3 * C - 2; /* three N tiles, the last ragged */
  layer L, S0, S1;
  layer_random(&L, M, K, N);
  nnfm_gemm_args g = {M, K, N, 7, -100, 120, NULL, NNFM_ROUND_SINGLE};
  CHECK(nnfm_gemm(&g, L.a, L.w, L.bias, L.m0, L.shift, L.y) == NNFM_OK);
  const int n0 = 2 * C;
  layer_slice(&L, 0, n0, &S0);
  layer_slice(&L, n0, N, &S1);
  const uint32_t a0 = 0, o0 = nnfm_act_words(&cfg, M, K), owords = nnfm_act_words(&cfg, M, N);
  const uint32_t wb[2] = {0, nnfm_w_words(&cfg, K, n0)}, pb[2] = {0, nnfm_p_entries(&cfg, n0)};
  CHECK(nnfm_engine_put_act(img, a0, L.a, M, K) == NNFM_OK);
  CHECK(nnfdrv_write(d, NNFDRV_ACT, 0, img->act, (size_t)o0 * cfg.rows) == NNFDRV_OK);
  uint8_t prog[20 * 32];
  memset(prog, 0, sizeof prog);
  nnfdrv_gemm c0 = {M, K, (uint16_t)n0, a0, wb[0], pb[0], o0, 7, -100, 120, 0, NNFM_ROUND_SINGLE};
  nnfdrv_gemm c1 = {M, K, (uint16_t)(N - n0), a0, wb[1], pb[1], o0 + (uint32_t)(n0 / C) * M, 7, -100, 120, 0, NNFM_ROUND_SINGLE};
  CHECK(nnfdrv_insn_bank(prog, -1, 0) == NNFDRV_OK);            /* 0: acquire 0 */
  nnfdrv_insn_gemm(prog + 32, &c0);                             /* 1 */
  CHECK(nnfdrv_insn_bank(prog + 64, 0, 1) == NNFDRV_OK);        /* 2: release 0, acquire 1 */
  nnfdrv_insn_gemm(prog + 96, &c1);                             /* 3 */
  CHECK(nnfdrv_insn_bank(prog + 128, 1, -1) == NNFDRV_OK);      /* 4: release 1 */
  nnfdrv_insn_end(prog + 160);                                  /* 5 */
  CHECK(nnfdrv_insn_bank(prog + 6 * 32, -1, 1) == NNFDRV_OK);   /* 6: acquire 1, 7 END */
  CHECK(nnfdrv_insn_bank(prog + 8 * 32, -1, 0) == NNFDRV_OK);   /* 8: acquire 0, 9 END */
  CHECK(nnfdrv_insn_bank(prog + 10 * 32, -1, 0) == NNFDRV_OK);  /* 10: acquire 0, 11: release 0, 12 END */
  CHECK(nnfdrv_insn_bank(prog + 11 * 32, 0, -1) == NNFDRV_OK);
  CHECK(nnfdrv_insn_bank(prog + 13 * 32, -1, (int)in->banks) == NNFDRV_OK); /* 13: refused, 14 END */
  CHECK(nnfdrv_insn_bank(prog + 15 * 32, (int)in->banks, -1) == NNFDRV_OK); /* 15: refused, 16 END */
  CHECK(nnfdrv_insn_bank(prog + 17 * 32, -1, -1) == NNFDRV_OK);             /* 17: no-op, 18 END */
  CHECK(nnfdrv_insn_bank(prog, -2, 0) == NNFDRV_ERR_ARG && nnfdrv_insn_bank(prog, 0, 256) == NNFDRV_ERR_ARG);
  CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog) == NNFDRV_OK);
  uint8_t *zero = calloc((size_t)owords * cfg.rows, 1), *raw = malloc((size_t)owords * cfg.rows);
  int8_t *got = malloc((size_t)M * N);
  nnfdrv_counters k0, k1;
  CHECK(nnfdrv_reset(d, 2) == NNFDRV_OK); /* every bank empty */
  nnfdrv_state st0;
  CHECK(nnfdrv_get_state(d, &st0) == NNFDRV_OK);
  const uint8_t e0 = st0.last_error; /* the earlier tests' */

  /* step by step: the program stops at each acquire until the bank is posted */
  CHECK(nnfdrv_write(d, NNFDRV_ACT, o0 * cfg.rows, zero, (size_t)owords * cfg.rows) == NNFDRV_OK);
  CHECK(nnfdrv_get_counters(d, &k0) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK); /* answered: the program waits */
  expect_state(d, 1, 1, e0, 0);
  CHECK(nnfdrv_bank_wait(d, 0) == NNFDRV_OK);
  upload_layer(d, img, &S0, wb[0], pb[0]);
  CHECK(nnfdrv_bank_post(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 1, 1, e0, 2);
  CHECK(nnfdrv_bank_wait(d, 1) == NNFDRV_OK);
  upload_layer(d, img, &S1, wb[1], pb[1]);
  CHECK(nnfdrv_bank_post(d, 1) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 0, 0, e0, 5);
  CHECK(nnfdrv_get_counters(d, &k1) == NNFDRV_OK);
  CHECK_EQ_U64(k1.macs - k0.macs, (uint64_t)M * K * N);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, o0 * cfg.rows, raw, (size_t)owords * cfg.rows) == NNFDRV_OK);
  memcpy(img->act + (size_t)o0 * cfg.rows, raw, (size_t)owords * cfg.rows);
  CHECK(nnfm_engine_get_act(img, o0, got, M, N) == NNFM_OK);
  CHECK_MEM_EQ(got, L.y, (size_t)M * N);

  /* overlapped, as a host streams: bank 0 filled before RUN, bank 1 while
   * the program computes from bank 0, then bank 0 again once released */
  CHECK(nnfdrv_write(d, NNFDRV_ACT, o0 * cfg.rows, zero, (size_t)owords * cfg.rows) == NNFDRV_OK);
  CHECK(nnfdrv_write(d, NNFDRV_W, 0, zero, 64) == NNFDRV_OK); /* trash both banks */
  CHECK(nnfdrv_write(d, NNFDRV_W, wb[1] * (uint32_t)C, zero, 64) == NNFDRV_OK);
  CHECK(nnfdrv_bank_wait(d, 0) == NNFDRV_OK);
  upload_layer(d, img, &S0, wb[0], pb[0]);
  CHECK(nnfdrv_bank_post(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_bank_wait(d, 1) == NNFDRV_OK);
  upload_layer(d, img, &S1, wb[1], pb[1]);
  CHECK(nnfdrv_bank_post(d, 1) == NNFDRV_OK);
  CHECK(nnfdrv_bank_wait(d, 0) == NNFDRV_OK); /* the program released it */
  CHECK(nnfdrv_read(d, NNFDRV_ACT, o0 * cfg.rows, raw, (size_t)owords * cfg.rows) == NNFDRV_OK);
  memcpy(img->act + (size_t)o0 * cfg.rows, raw, (size_t)owords * cfg.rows);
  CHECK(nnfm_engine_get_act(img, o0, got, M, N) == NNFM_OK);
  CHECK_MEM_EQ(got, L.y, (size_t)M * N);
  expect_state(d, 0, 0, e0, 5);

  /* a full bank the waiting program can never empty: ERR BANK */
  CHECK(nnfdrv_bank_post(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_bank_wait(d, 1) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 6) == NNFDRV_OK);
  CHECK(nnfdrv_bank_wait(d, 0) == NNFDRV_ERR_DEVICE);
  CHECK(nnfdrv_device_error(d) == NNFP_E_BANK);
  expect_state(d, 1, 1, NNFP_E_BANK, 6);
  /* abort: the program stops, every bank is empty */
  CHECK(nnfdrv_reset(d, 2) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BANK, 6);
  CHECK(nnfdrv_run(d, 8) == NNFDRV_OK); /* bank 0 was emptied: waits */
  expect_state(d, 1, 1, NNFP_E_BANK, 8);
  /* a RUN abandons a waiting program */
  CHECK(nnfdrv_run(d, 17) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BANK, 18);
  /* with no program, BWAIT empties a full bank at once */
  CHECK(nnfdrv_bank_post(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_bank_wait(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 8) == NNFDRV_OK);
  expect_state(d, 1, 1, NNFP_E_BANK, 8);
  CHECK(nnfdrv_reset(d, 2) == NNFDRV_OK);

  /* BPOST repeated with the same seq (a host retry) executes once */
  uint8_t ans[8];
  uint16_t an;
  CHECK(nnfdrv_run(d, 10) == NNFDRV_OK);
  CHECK(nnfdrv_transact(d, -1, NNFP_BPOST, 0, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK); /* acquired 0, released it, ended */
  expect_state(d, 0, 0, NNFP_E_BANK, 12);
  uint8_t seq;
  CHECK(nnfdrv_transact(d, -1, NNFP_RUN, 8, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK);
  CHECK(nnfdrv_transact(d, nnfdrv_last_seq(d), NNFP_BPOST, 0, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BANK, 9); /* the RUN's seq, but another type: posted, the program ran through */
  CHECK(nnfdrv_run(d, 8) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BANK, 9);  /* bank 0 still full (nobody released it) */
  CHECK(nnfdrv_run(d, 10) == NNFDRV_OK); /* acquire 0, release 0 */
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BANK, 12);
  CHECK(nnfdrv_transact(d, -1, NNFP_BPOST, 0, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK);
  seq = nnfdrv_last_seq(d);
  CHECK(nnfdrv_bank_wait(d, 0) == NNFDRV_OK); /* no program: empties it */
  CHECK(nnfdrv_transact(d, seq, NNFP_BPOST, 0, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK); /* an old seq */
  CHECK(nnfdrv_run(d, 8) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BANK, 9);  /* that one executed: the frame before was a BWAIT */
  CHECK(nnfdrv_transact(d, -1, NNFP_BPOST, 1, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK);
  CHECK(nnfdrv_transact(d, nnfdrv_last_seq(d), NNFP_BPOST, 1, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 6) == NNFDRV_OK);   /* bank 1 full: runs through */
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BANK, 7);
  CHECK(nnfdrv_reset(d, 2) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 10) == NNFDRV_OK);
  uint8_t pseq;
  CHECK(nnfdrv_transact(d, -1, NNFP_BPOST, 0, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK);
  pseq = nnfdrv_last_seq(d);
  CHECK(nnfdrv_transact(d, pseq, NNFP_BPOST, 0, NULL, 0, ans, sizeof ans, &an) == NNFDRV_OK); /* retry */
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 8) == NNFDRV_OK);   /* the retry did not post again: waits */
  expect_state(d, 1, 1, NNFP_E_BANK, 8);
  CHECK(nnfdrv_reset(d, 2) == NNFDRV_OK);

  /* refusals: a BANK naming a bank the device lacks stops the program */
  CHECK(nnfdrv_run(d, 13) == NNFDRV_OK && nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BAD_INSN, 13);
  CHECK(nnfdrv_run(d, 15) == NNFDRV_OK && nnfdrv_wait(d) == NNFDRV_OK);
  expect_state(d, 0, 0, NNFP_E_BAD_INSN, 15);
  CHECK(nnfdrv_bank_wait(d, in->banks) == NNFDRV_ERR_ARG);
  CHECK(nnfdrv_bank_post(d, in->banks) == NNFDRV_ERR_ARG);
  CHECK(nnfdrv_transact(d, -1, NNFP_BWAIT, in->banks, NULL, 0, ans, sizeof ans, &an) == NNFDRV_ERR_DEVICE);
  CHECK(nnfdrv_device_error(d) == NNFP_E_RANGE);
  CHECK(nnfdrv_transact(d, -1, NNFP_BPOST, 0, ans, 1, ans, sizeof ans, &an) == NNFDRV_ERR_DEVICE);
  CHECK(nnfdrv_device_error(d) == NNFP_E_BAD_LEN);
  CHECK(nnfdrv_transact(d, -1, NNFP_BPOST, 0xFFFFFFFFu, NULL, 0, ans, sizeof ans, &an) == NNFDRV_ERR_DEVICE);
  CHECK(nnfdrv_device_error(d) == NNFP_E_RANGE);

  free(zero);
  free(raw);
  free(got);
  layer_free(&L);
  layer_free(&S0);
  layer_free(&S1);
  nnfm_engine_destroy(img);
}

static void test_faults(nnfdrv *d) {
  /* Damage on the wire is retried and never returns wrong data. */
  nnfdrv_set_faults(d, 2e-4, 2e-4, 2e-4, 12345);
  size_t n = 20000;
  uint8_t *a = malloc(n), *b = malloc(n);
  for (int it = 0; it < 3; it++) {
    fill(a, n);
    CHECK(nnfdrv_write(d, NNFDRV_ACT, 4096, a, n) == NNFDRV_OK);
    CHECK(nnfdrv_read(d, NNFDRV_ACT, 4096, b, n) == NNFDRV_OK);
    CHECK_MEM_EQ(a, b, n);
  }
  test_mlp_program(d);
  nnfdrv_link_stats ls = nnfdrv_get_link_stats(d);
  printf("faults: %llu frames, %llu retries, %llu bad answers, %llu timeouts\n",
         (unsigned long long)ls.frames_sent, (unsigned long long)ls.retries,
         (unsigned long long)ls.bad_answers, (unsigned long long)ls.timeouts);
  CHECK(ls.retries > 0); /* the faults really happened */
  /* A link that loses everything fails with a clear error, not a hang. */
  nnfdrv_set_faults(d, 1.0, 0, 0, 1);
  nnfdrv_set_tries(d, 3);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, 0, b, 16) == NNFDRV_ERR_TIMEOUT);
  CHECK(strstr(nnfdrv_errmsg(d), "no valid answer") != NULL);
  nnfdrv_set_faults(d, 0, 0, 0, 0);
  nnfdrv_set_tries(d, 8);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, 4096, b, 16) == NNFDRV_OK);
  free(a);
  free(b);
}

static void test_open_errors(void) {
  char err[256];
  nnfdrv *d = (nnfdrv *)1;
  CHECK(nnfdrv_open("bogus", &d, err, sizeof err) == NNFDRV_ERR_URI);
  CHECK(d == NULL);
  CHECK(strstr(err, "unknown device") != NULL);
  CHECK(nnfdrv_open("model:x", &d, err, sizeof err) == NNFDRV_ERR_URI);
  CHECK(nnfdrv_open("serial:", &d, err, sizeof err) == NNFDRV_ERR_URI);
  CHECK(nnfdrv_open("serial:/dev/null@12345", &d, err, sizeof err) == NNFDRV_ERR_URI);
  CHECK(nnfdrv_open("serial:/nonexistent/tty", &d, err, sizeof err) == NNFDRV_ERR_NO_DEVICE);
  CHECK(strstr(err, "/nonexistent/tty") != NULL);
  CHECK(nnfdrv_open("serial:/dev/null", &d, err, sizeof err) == NNFDRV_ERR_NO_DEVICE);
  CHECK(nnfdrv_open("usb:zz", &d, err, sizeof err) == NNFDRV_ERR_URI);
  int rc = nnfdrv_open("usb", &d, err, sizeof err);     /* no board on this machine */
  CHECK(rc == NNFDRV_ERR_NO_DEVICE || rc == NNFDRV_ERR_UNSUPPORTED);
  CHECK(err[0] != '\0');
  CHECK(nnfdrv_open("usb:0403:6010:NOSUCHSERIAL", &d, err, sizeof err) != NNFDRV_OK);
}

int main(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help")) {
    printf("usage: test_driver URI [faults]\n");
    return argc < 2 ? 2 : 0;
  }
  int faults = argc > 2 && !strcmp(argv[2], "faults");
  nnfdrv *d = open_dev(argv[1]);
  if (faults) {
    test_faults(d);
  } else {
    test_open_errors();
    test_round_trips(d);
    test_device_errors(d);
    test_mlp_program(d);
    test_row_softmax(d);
    test_actw_attention(d);
    test_row_layernorm(d);
    test_dwconv(d);
    test_banks(d);
    if (!strcmp(argv[1], "model")) { /* a device without banks */
      nnfdrv *d0 = open_dev("model:banks=0");
      test_banks(d0);
      nnfdrv_close(d0);
      nnfdrv *d1 = open_dev("model:dw=0"); /* a device without the depthwise unit */
      test_dwconv(d1);
      nnfdrv_close(d1);
    }
  }
  nnfdrv_close(d);
  return nnf_test_done(argv[0]);
}
