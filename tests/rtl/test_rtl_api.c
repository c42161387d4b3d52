/*
 * test_rtl_api.c - the nnfsim C API refuses what it must, with the exact
 * status codes, and a refused call never touches the device.
 *
 * "Never touches": a call refused for its arguments (NULL, region, address,
 * the command's fields or buffer ranges, a busy engine) runs no cycle at all
 * (cnt_cycles unchanged: no port activity). A command refused for invalid
 * (m0, shift) in P has read them through the host port (cycles pass) but
 * written nothing and run nothing (cnt_busy, cnt_macs unchanged). At the end
 * every region of the device is compared with the model mirror.
 *
 * Also: on hundreds of random, mostly invalid commands (and P slots with
 * invalid (m0, shift)), nnfsim and the model refuse exactly what the limits
 * of docs/engine.md refuse, as written out in this test (documented_refusal),
 * with the same codes; busy refusals; a cycle limit that times
 * out and a wait that then completes the command; the trace file errors.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "rtl_harness.h"

static rtl_h h;

/* The call ran no cycle. */
#define NO_CYCLES(call, status)                                   \
  do {                                                            \
    uint64_t c0_ = nnfsim_ports_of(h.s)->cnt_cycles;              \
    CHECK_EQ((call), (status));                                   \
    CHECK_EQ_U64(nnfsim_ports_of(h.s)->cnt_cycles, c0_);          \
    if ((status) != NNFSIM_OK) CHECK(nnfsim_last_error(h.s)[0]);  \
  } while (0)

static nnfm_cmd good_cmd(uint32_t m, uint32_t k, uint32_t n) {
  nnfm_cmd c = {0};
  memset(&c, 0, sizeof c);
  c.m = m;
  c.k = k;
  c.n = n;
  c.lo = -128;
  c.hi = 127;
  c.o_base = nnfm_act_words(&h.cfg, m, k);
  return c;
}

/* Valid inputs for a command at the places of good_cmd, on both sides. */
static void load_inputs(nnf_rng *r, const nnfm_cmd *c) {
  size_t an = (size_t)c->m * c->k, wn = (size_t)c->k * c->n;
  int8_t *a = malloc(an + 1), *w = malloc(wn + 1);
  nnf_rng_fill(r, a, an);
  nnf_rng_fill(r, w, wn);
  int32_t *b = calloc((size_t)c->n + 1, 4), *q = calloc((size_t)c->n + 1, 4);
  int8_t *s = calloc((size_t)c->n + 1, 1);
  for (uint32_t j = 0; j < c->n; j++) q[j] = 1 << 30, s[j] = -12, b[j] = (int32_t)j;
  CHECK_OK(nnfm_engine_put_act(h.e, c->a_base, a, c->m, c->k));
  CHECK_OK(nnfm_engine_put_weights(h.e, c->w_base, w, c->k, c->n));
  CHECK_OK(nnfm_engine_put_params(h.e, c->p_base, b, q, s, c->n));
  rtl_upload_act_words(&h, c->a_base, nnfm_act_words(&h.cfg, c->m, c->k));
  rtl_upload_w_words(&h, c->w_base, nnfm_w_words(&h.cfg, c->k, c->n));
  rtl_upload_p_entries(&h, c->p_base, nnfm_p_entries(&h.cfg, c->n));
  free(a);
  free(w);
  free(b);
  free(q);
  free(s);
}

static void null_handle(void) {
  nnf_test_ctx("NULL handle");
  uint8_t b[4] = {0};
  nnfm_cmd c = {0};
  c.hi = 127;
  CHECK_EQ(nnfsim_write(NULL, 0, 0, b, 1), NNFSIM_ERR_NULL);
  CHECK_EQ(nnfsim_read(NULL, 0, 0, b, 1), NNFSIM_ERR_NULL);
  CHECK_EQ(nnfsim_load_engine(NULL, h.e), NNFSIM_ERR_NULL);
  CHECK_EQ(nnfsim_gemm(NULL, &c, 0, NULL, NULL), NNFSIM_ERR_NULL);
  CHECK_EQ(nnfsim_gemm_start(NULL, &c), NNFSIM_ERR_NULL);
  CHECK_EQ(nnfsim_gemm_wait(NULL, 0), NNFSIM_ERR_NULL);
  CHECK_EQ(nnfsim_trace_open(NULL, "x.fst"), NNFSIM_ERR_NULL);
  CHECK(nnfsim_ports_of(NULL) == NULL);
  CHECK(nnfsim_last_error(NULL) != NULL);
  CHECK_EQ(nnfsim_param(NULL, "ROWS"), -1);
  CHECK_EQ(nnfsim_config(NULL).rows, 0);
  nnfsim_step(NULL, 1);
  nnfsim_reset(NULL, 1);
  nnfsim_trace_close(NULL);
  nnfsim_destroy(NULL);
}

static void params(void) {
  nnf_test_ctx("parameters");
  CHECK_EQ(nnfsim_param(h.s, "ROWS"), h.cfg.rows);
  CHECK_EQ(nnfsim_param(h.s, "COLS"), h.cfg.cols);
  CHECK_EQ(nnfsim_param(h.s, "ACT_WORDS"), h.cfg.act_words);
  CHECK_EQ(nnfsim_param(h.s, "W_WORDS"), h.cfg.w_words);
  CHECK_EQ(nnfsim_param(h.s, "P_WORDS"), h.cfg.p_words);
  CHECK_EQ(nnfsim_param(h.s, "ACC_DEPTH"), h.cfg.acc_depth);
  long vs = nnfsim_param(h.s, "VEC_SERIAL"), dsp = nnfsim_param(h.s, "PE_DSP");
  CHECK(vs == 0 || vs == 1);
  CHECK(dsp == 0 || dsp == 1);
  CHECK_EQ(nnfsim_param(h.s, "rows"), -1);
  CHECK_EQ(nnfsim_param(h.s, NULL), -1);
}

static void host_port(void) {
  nnf_test_ctx("host port arguments");
  uint8_t b[16] = {0};
  for (int region = 0; region < 4; region++) {
    uint64_t bytes = rtl_region_bytes(&h.cfg, region);
    NO_CYCLES(nnfsim_write(h.s, region, 0, NULL, 1), NNFSIM_ERR_NULL);
    NO_CYCLES(nnfsim_read(h.s, region, 0, NULL, 1), NNFSIM_ERR_NULL);
    NO_CYCLES(nnfsim_write(h.s, region, 0, NULL, 0), NNFSIM_OK);
    NO_CYCLES(nnfsim_read(h.s, region, 0, NULL, 0), NNFSIM_OK);
    NO_CYCLES(nnfsim_write(h.s, region, (uint32_t)bytes, b, 1), NNFSIM_ERR_RANGE);
    NO_CYCLES(nnfsim_read(h.s, region, (uint32_t)bytes, b, 1), NNFSIM_ERR_RANGE);
    NO_CYCLES(nnfsim_write(h.s, region, (uint32_t)bytes - 3, b, 4), NNFSIM_ERR_RANGE);
    NO_CYCLES(nnfsim_read(h.s, region, (uint32_t)bytes - 3, b, 4), NNFSIM_ERR_RANGE);
    NO_CYCLES(nnfsim_write(h.s, region, (uint32_t)bytes, b, 0), NNFSIM_OK);
    NO_CYCLES(nnfsim_write(h.s, region, UINT32_MAX, b, 2), NNFSIM_ERR_RANGE);
    NO_CYCLES(nnfsim_read(h.s, region, 1, b, SIZE_MAX), NNFSIM_ERR_RANGE);
  }
  NO_CYCLES(nnfsim_write(h.s, -1, 0, b, 1), NNFSIM_ERR_RANGE);
  NO_CYCLES(nnfsim_write(h.s, 4, 0, b, 1), NNFSIM_ERR_RANGE);
  NO_CYCLES(nnfsim_read(h.s, 4, 0, b, 1), NNFSIM_ERR_RANGE);
  /* the last byte of each region is reachable */
  for (int region = 0; region < 4; region++) {
    uint64_t last = rtl_region_bytes(&h.cfg, region) - 1;
    uint8_t v = 0xA5;
    if (region == 2) last -= 7; /* P byte 8 (shift) of the last slot */
    CHECK_OK(nnfm_engine_write_byte(h.e, region, (uint32_t)last, v));
    CHECK_OK(nnfsim_write(h.s, region, (uint32_t)last, &v, 1));
    rtl_compare(&h, region, last, 1, "last byte");
  }
  /* P bytes 9..15 hold nothing and read as 0 */
  {
    uint8_t ones[16], got[16];
    memset(ones, 0xFF, sizeof ones);
    for (int i = 0; i < 16; i++) CHECK_OK(nnfm_engine_write_byte(h.e, 2, 16u + (uint32_t)i, ones[i]));
    CHECK_OK(nnfsim_write(h.s, 2, 16, ones, 16));
    CHECK_OK(nnfsim_read(h.s, 2, 16, got, 16));
    for (int i = 9; i < 16; i++) CHECK_EQ(got[i], 0);
    rtl_compare(&h, 2, 16, 16, "P slot 1");
    uint8_t fix[9] = {0, 0, 0, 0, 0, 0, 0, 0x40, 0}; /* valid again: m0 = 2^30, shift 0 */
    for (int i = 0; i < 9; i++) CHECK_OK(nnfm_engine_write_byte(h.e, 2, 16u + (uint32_t)i, fix[i]));
    CHECK_OK(nnfsim_write(h.s, 2, 16, fix, 9));
  }
  /* load_engine: NULL and another configuration */
  NO_CYCLES(nnfsim_load_engine(h.s, NULL), NNFSIM_ERR_NULL);
  nnfm_config other = h.cfg;
  other.act_words /= 2;
  nnfm_engine *o = nnfm_engine_create(&other);
  CHECK(o != NULL);
  NO_CYCLES(nnfsim_load_engine(h.s, o), NNFSIM_ERR_SHAPE);
  nnfm_engine_destroy(o);
  other = h.cfg;
  other.acc_depth *= 2;
  o = nnfm_engine_create(&other);
  CHECK(o != NULL);
  NO_CYCLES(nnfsim_load_engine(h.s, o), NNFSIM_ERR_SHAPE);
  nnfm_engine_destroy(o);
}

/* Every way a command can be refused, each with its code, no cycle run. */
static void bad_commands(void) {
  const uint32_t R = (uint32_t)h.cfg.rows, AW = h.cfg.act_words, WW = h.cfg.w_words, PW = h.cfg.p_words;
  nnf_test_ctx("bad commands");
  NO_CYCLES(nnfsim_gemm(h.s, NULL, 0, NULL, NULL), NNFSIM_ERR_NULL);
  NO_CYCLES(nnfsim_gemm_start(h.s, NULL), NNFSIM_ERR_NULL);
  struct {
    const char *what;
    nnfm_cmd c;
    int status;
  } t[40];
  int n = 0;
#define BAD(desc, field_edit, st)  \
  do {                             \
    t[n].what = desc;              \
    t[n].c = good_cmd(4, 2 * R, 3); \
    {                              \
      nnfm_cmd *c = &t[n].c;       \
      field_edit;                  \
    }                              \
    t[n++].status = st;            \
  } while (0)
  BAD("m > 65535", c->m = 65536, NNFSIM_ERR_RANGE);
  BAD("k > 65535", c->k = 65536, NNFSIM_ERR_RANGE);
  BAD("n > 65535", c->n = 65536, NNFSIM_ERR_RANGE);
  BAD("zp > 127", c->zp = 128, NNFSIM_ERR_RANGE);
  BAD("zp < -128", c->zp = -129, NNFSIM_ERR_RANGE);
  BAD("lo < -128", c->lo = -129, NNFSIM_ERR_RANGE);
  BAD("hi > 127", c->hi = 128, NNFSIM_ERR_RANGE);
  BAD("lo > hi", (c->lo = 5, c->hi = 4), NNFSIM_ERR_RANGE);
  BAD("lut 2", c->lut = 2, NNFSIM_ERR_RANGE);
  BAD("lut -1", c->lut = -1, NNFSIM_ERR_RANGE);
  BAD("range error before shape error", (c->zp = 200, c->a_base = AW), NNFSIM_ERR_RANGE);
  BAD("range error with M = 0", (c->m = 0, c->hi = 300), NNFSIM_ERR_RANGE);
  BAD("A past the end", c->a_base = AW - 1, NNFSIM_ERR_SHAPE);
  BAD("A wraps", c->a_base = UINT32_MAX - 1, NNFSIM_ERR_SHAPE);
  BAD("O past the end", c->o_base = AW - 3, NNFSIM_ERR_SHAPE);
  BAD("O wraps", c->o_base = UINT32_MAX, NNFSIM_ERR_SHAPE);
  BAD("W past the end", c->w_base = WW - 2 * R + 1, NNFSIM_ERR_SHAPE);
  BAD("W wraps", c->w_base = UINT32_MAX - R, NNFSIM_ERR_SHAPE);
  BAD("P past the end", c->p_base = PW, NNFSIM_ERR_SHAPE);
  BAD("P wraps", c->p_base = UINT32_MAX, NNFSIM_ERR_SHAPE);
  BAD("A and O overlap", c->o_base = 7, NNFSIM_ERR_SHAPE);
  BAD("O inside A", (c->a_base = 100, c->o_base = 101), NNFSIM_ERR_SHAPE);
  BAD("huge M", c->m = 65535, NNFSIM_ERR_SHAPE);
  BAD("huge K", c->k = 65535, NNFSIM_ERR_SHAPE);
  BAD("huge N", c->n = 65535, NNFSIM_ERR_SHAPE);
#undef BAD
  for (int i = 0; i < n; i++) {
    nnf_test_ctx("bad command: %s", t[i].what);
    CHECK_EQ(nnfm_engine_check(h.e, &t[i].c), t[i].status); /* the model agrees */
    NO_CYCLES(nnfsim_gemm(h.s, &t[i].c, 0, NULL, NULL), t[i].status);
    NO_CYCLES(nnfsim_gemm_start(h.s, &t[i].c), t[i].status);
  }
  /* M = 0 or N = 0 touches nothing: accepted whatever the addresses */
  nnfm_cmd z = good_cmd(0, 5, 5);
  z.a_base = z.o_base = z.w_base = z.p_base = UINT32_MAX;
  uint64_t busy = 99, macs = 99;
  nnf_test_ctx("M = 0, wild addresses");
  CHECK_OK(nnfsim_gemm(h.s, &z, 0, &busy, &macs));
  CHECK_EQ_U64(macs, 0);
  CHECK(busy <= 2);
  z.m = 5;
  z.n = 0;
  CHECK_OK(nnfsim_gemm(h.s, &z, 0, &busy, &macs));
  CHECK_EQ_U64(macs, 0);
}

/* Invalid (m0, shift) in a used P lane: RANGE, after reading P, nothing run.
 * The same values in a lane the command does not use are fine. */
static void bad_params(nnf_rng *r) {
  const uint32_t C = (uint32_t)h.cfg.cols;
  nnfm_cmd c = good_cmd(3, 5, C + 2); /* entries 0 and 1; lanes 0..C+1 used */
  load_inputs(r, &c);
  struct {
    const char *what;
    uint32_t lane; /* slot within entries 0..1 */
    int32_t m0;
    int shift;
    int status;
  } t[] = {
      {"m0 < 0 in lane 0", 0, -1, 0, NNFSIM_ERR_RANGE},
      {"m0 = INT32_MIN in the last used lane", C + 1, INT32_MIN, -3, NNFSIM_ERR_RANGE},
      {"shift 31", 1, 1 << 30, 31, NNFSIM_ERR_RANGE},
      {"shift -32", C, 1 << 30, -32, NNFSIM_ERR_RANGE},
      {"shift 127", 2, 1 << 30, 127, NNFSIM_ERR_RANGE},
      {"shift -128", 3, 0, -128, NNFSIM_ERR_RANGE},
      {"invalid in an unused lane", C + 2, -5, 100, NNFSIM_OK},
      {"invalid in the last unused lane", 2 * C - 1, INT32_MIN, -128, NNFSIM_OK},
      {"limits: m0 = 2^31-1, shift 30", 0, INT32_MAX, 30, NNFSIM_OK},
      {"limits: m0 = 0, shift -31", C + 1, 0, -31, NNFSIM_OK},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    nnf_test_ctx("P: %s", t[i].what);
    uint32_t addr = t[i].lane * 16 + 4;
    uint8_t rec[5] = {(uint8_t)t[i].m0, (uint8_t)(t[i].m0 >> 8), (uint8_t)(t[i].m0 >> 16),
                      (uint8_t)((uint32_t)t[i].m0 >> 24), (uint8_t)(int8_t)t[i].shift};
    uint8_t old[5];
    CHECK_OK(nnfm_engine_read_bytes(h.e, 2, addr, old, 5));
    for (int j = 0; j < 5; j++) CHECK_OK(nnfm_engine_write_byte(h.e, 2, addr + (uint32_t)j, rec[j]));
    CHECK_OK(nnfsim_write(h.s, 2, addr, rec, 5));
    CHECK_EQ(nnfm_engine_check(h.e, &c), t[i].status);
    nnfsim_ports *p = nnfsim_ports_of(h.s);
    uint64_t b0 = p->cnt_busy, m0 = p->cnt_macs;
    uint64_t macs = 0, mm = 0;
    CHECK_EQ(nnfsim_gemm(h.s, &c, 0, NULL, &macs), t[i].status);
    if (t[i].status == NNFSIM_OK) {
      CHECK_OK(nnfm_engine_gemm(h.e, &c, &mm));
      CHECK_EQ_U64(macs, mm);
      rtl_compare_act_words(&h, c.o_base, nnfm_p_entries(&h.cfg, c.n) * c.m, "output");
    } else {
      CHECK(nnfsim_last_error(h.s)[0]);
      CHECK_EQ_U64(p->cnt_busy, b0);
      CHECK_EQ_U64(p->cnt_macs, m0);
      CHECK_EQ(nnfsim_gemm_start(h.s, &c), t[i].status);
      CHECK(!p->busy);
    }
    for (int j = 0; j < 5; j++) CHECK_OK(nnfm_engine_write_byte(h.e, 2, addr + (uint32_t)j, old[j]));
    CHECK_OK(nnfsim_write(h.s, 2, addr, old, 5));
  }
}

/* While a command runs: everything but ACT writes is refused, no cycle run. */
static void busy_refusals(nnf_rng *r) {
  nnf_test_ctx("busy refusals");
  nnfm_cmd c = good_cmd(50, 6 * (uint32_t)h.cfg.rows, 3 * (uint32_t)h.cfg.cols);
  load_inputs(r, &c);
  nnfsim_ports *p = nnfsim_ports_of(h.s);
  CHECK_OK(nnfsim_gemm_wait(h.s, 0)); /* idle: returns at once */
  uint64_t b0 = p->cnt_busy;
  CHECK_OK(nnfsim_gemm_start(h.s, &c));
  CHECK(p->busy);
  uint8_t b[4] = {1, 2, 3, 4};
  for (int region = 1; region < 4; region++) NO_CYCLES(nnfsim_write(h.s, region, 0, b, 1), NNFSIM_ERR_BUSY);
  for (int region = 0; region < 4; region++) NO_CYCLES(nnfsim_read(h.s, region, 0, b, 1), NNFSIM_ERR_BUSY);
  NO_CYCLES(nnfsim_gemm(h.s, &c, 0, NULL, NULL), NNFSIM_ERR_BUSY);
  NO_CYCLES(nnfsim_gemm_start(h.s, &c), NNFSIM_ERR_BUSY);
  NO_CYCLES(nnfsim_load_engine(h.s, h.e), NNFSIM_ERR_BUSY);
  nnfm_cmd bad = c;
  bad.lo = 9, bad.hi = 8;
  NO_CYCLES(nnfsim_gemm(h.s, &bad, 0, NULL, NULL), NNFSIM_ERR_RANGE); /* arguments first */
  /* a limit too small: TIMEOUT, still running; then the wait completes it */
  CHECK_EQ(nnfsim_gemm_wait(h.s, 5), NNFSIM_ERR_TIMEOUT);
  CHECK(p->busy);
  CHECK_OK(nnfsim_gemm_wait(h.s, 0));
  CHECK(!p->busy);
  CHECK_OK(nnfm_engine_gemm(h.e, &c, NULL));
  rtl_compare_act_words(&h, c.o_base, nnfm_p_entries(&h.cfg, c.n) * c.m, "output after busy refusals");
  CHECK(p->cnt_busy - b0 >= (uint64_t)c.m * 6 * 3);
  /* nnfsim_gemm with a limit too small */
  CHECK_EQ(nnfsim_gemm(h.s, &c, 10, NULL, NULL), NNFSIM_ERR_TIMEOUT);
  CHECK(p->busy);
  CHECK_OK(nnfsim_gemm_wait(h.s, 0));
  CHECK_OK(nnfm_engine_gemm(h.e, &c, NULL));
  rtl_compare_act_words(&h, c.o_base, nnfm_p_entries(&h.cfg, c.n) * c.m, "output after a timeout");
}

/* The refusal docs/engine.md documents for command c, written out here from
 * its text (not from nnfm_engine_check), with the (m0, shift) of every P
 * slot as this test wrote them (m0s / shifts, index entry * COLS + lane).
 * The order is nnfsim.h's: fields, then buffer ranges, then parameters.
 *   Command port: m, k, n are 16-bit unsigned; zp, lo, hi 8-bit signed with
 *     lo <= hi; lut one bit.                                          RANGE
 *   M = 0 or N = 0 completes at once and writes nothing: accepted.
 *   With KT = max(1, ceil(K/ROWS)), NT = ceil(N/COLS), every word must lie
 *     in its buffer: A[m][k] at a_base + (k/ROWS)*M + m (KT*M words from
 *     a_base), Y[m][n] at o_base + (n/COLS)*M + m (NT*M words), W at
 *     w_base + ((n/COLS)*KT + k/ROWS)*ROWS + k%ROWS (NT*KT*ROWS words), P
 *     entries p_base .. p_base + NT - 1; and the A and O ranges disjoint. SHAPE
 *   P entry p_base + nt of lane c (channel n = nt*COLS + c < N): 0 <= m0
 *     < 2^31 and -31 <= shift <= 30.                                   RANGE */
static int documented_refusal(const nnfm_cmd *c, const int32_t *m0s, const int8_t *shifts) {
  const uint64_t R = (uint64_t)h.cfg.rows, C = (uint64_t)h.cfg.cols;
  if (c->m > 65535 || c->k > 65535 || c->n > 65535) return NNFSIM_ERR_RANGE;
  if (c->zp < -128 || c->zp > 127 || c->lo < -128 || c->lo > 127 || c->hi < -128 || c->hi > 127)
    return NNFSIM_ERR_RANGE;
  if (c->lo > c->hi) return NNFSIM_ERR_RANGE;
  if (c->lut != 0 && c->lut != 1) return NNFSIM_ERR_RANGE;
  if (c->m == 0 || c->n == 0) return NNFSIM_OK;
  const uint64_t M = c->m, KT = c->k == 0 ? 1 : (c->k + R - 1) / R, NT = (c->n + C - 1) / C;
  const uint64_t a0 = c->a_base, a1 = a0 + KT * M, o0 = c->o_base, o1 = o0 + NT * M;
  if (a1 > h.cfg.act_words || o1 > h.cfg.act_words) return NNFSIM_ERR_SHAPE;
  if ((uint64_t)c->w_base + NT * KT * R > h.cfg.w_words) return NNFSIM_ERR_SHAPE;
  if ((uint64_t)c->p_base + NT > h.cfg.p_words) return NNFSIM_ERR_SHAPE;
  if (a0 < o1 && o0 < a1) return NNFSIM_ERR_SHAPE; /* the A and O ranges share a word */
  for (uint64_t n = 0; n < c->n; n++) {
    uint64_t slot = ((uint64_t)c->p_base + n / C) * C + n % C;
    if (m0s[slot] < 0 || shifts[slot] < -31 || shifts[slot] > 30) return NNFSIM_ERR_RANGE;
  }
  return NNFSIM_OK;
}

/* Random, mostly invalid commands: nnfsim refuses exactly what the documented
 * limits refuse (documented_refusal, the independent oracle), with its code,
 * and so does the model; the accepted ones run and match the model. P is
 * first rewritten with (m0, shift) that are invalid in about one slot in 48,
 * on both sides, recorded here. */
static void random_checks(nnf_rng *r) {
  const int64_t AW = h.cfg.act_words, WW = h.cfg.w_words, PW = h.cfg.p_words;
  const size_t slots = (size_t)h.cfg.p_words * (size_t)h.cfg.cols;
  int32_t *m0s = malloc(slots * sizeof *m0s);
  int8_t *shifts = malloc(slots);
  CHECK(m0s && shifts);
  for (size_t i = 0; i < slots; i++) {
    m0s[i] = (int32_t)nnf_rng_range(r, 0, INT32_MAX);
    shifts[i] = (int8_t)nnf_rng_range(r, -31, 30);
    switch (nnf_rng_range(r, 0, 47)) {
    case 0: m0s[i] = (int32_t)nnf_rng_range(r, INT32_MIN, -1); break;
    case 1: shifts[i] = (int8_t)(nnf_rng_range(r, 0, 1) ? nnf_rng_range(r, 31, 127) : nnf_rng_range(r, -128, -32)); break;
    default: break;
    }
    uint8_t rec[5] = {(uint8_t)m0s[i], (uint8_t)(m0s[i] >> 8), (uint8_t)(m0s[i] >> 16),
                      (uint8_t)((uint32_t)m0s[i] >> 24), (uint8_t)shifts[i]};
    for (int j = 0; j < 5; j++) CHECK_OK(nnfm_engine_write_byte(h.e, 2, (uint32_t)(i * 16 + 4 + (size_t)j), rec[j]));
    CHECK_OK(nnfsim_write(h.s, 2, (uint32_t)(i * 16 + 4), rec, 5));
  }
  int accepted = 0, refused[4] = {0}, by_params = 0;
  for (int i = 0; i < 400; i++) {
    nnfm_cmd c = {0};
    memset(&c, 0, sizeof c);
    c.m = (uint32_t)nnf_rng_range(r, 0, 40);
    c.k = (uint32_t)nnf_rng_range(r, 0, 40);
    c.n = (uint32_t)nnf_rng_range(r, 0, 40);
    if (nnf_rng_range(r, 0, 9) == 0) c.m = (uint32_t)nnf_rng_range(r, 0, 70000);
    if (nnf_rng_range(r, 0, 9) == 0) c.n = (uint32_t)nnf_rng_range(r, 0, 70000);
    c.a_base = (uint32_t)nnf_rng_range(r, 0, AW + 5);
    c.o_base = (uint32_t)nnf_rng_range(r, 0, AW + 5);
    c.w_base = (uint32_t)nnf_rng_range(r, 0, WW + 5);
    c.p_base = (uint32_t)nnf_rng_range(r, 0, PW + 1);
    if (nnf_rng_range(r, 0, 3) == 0) c.a_base = 0, c.o_base = (uint32_t)nnf_rng_range(r, 0, 400);
    if (nnf_rng_range(r, 0, 3) == 0) c.w_base = 0, c.p_base = 0;
    c.zp = (int32_t)nnf_rng_range(r, -140, 140);
    c.lo = (int32_t)nnf_rng_range(r, -140, 140);
    c.hi = (int32_t)nnf_rng_range(r, c.lo - 10, 140);
    c.lut = (int)nnf_rng_range(r, -1, 2);
    char d[200];
    snprintf(d, sizeof d, "M=%u K=%u N=%u a=%u w=%u p=%u o=%u zp=%d lo=%d hi=%d lut=%d", c.m, c.k, c.n,
             c.a_base, c.w_base, c.p_base, c.o_base, (int)c.zp, (int)c.lo, (int)c.hi, c.lut);
    nnf_test_ctx("random check %d: %s", i, d);
    int want = documented_refusal(&c, m0s, shifts);
    CHECK_EQ(nnfm_engine_check(h.e, &c), want); /* the model keeps the documented limits */
    nnfsim_ports *p = nnfsim_ports_of(h.s);
    uint64_t c0 = p->cnt_cycles, b0 = p->cnt_busy;
    uint64_t macs = 0, mm = 0;
    int got = nnfsim_gemm(h.s, &c, 0, NULL, &macs);
    CHECK_EQ(got, want);
    if (want == NNFSIM_OK) {
      CHECK_OK(nnfm_engine_gemm(h.e, &c, &mm));
      CHECK_EQ_U64(macs, mm);
      CHECK_EQ_U64(macs, (uint64_t)c.m * c.k * c.n);
      if (c.m && c.n) rtl_compare_act_words(&h, c.o_base, nnfm_p_entries(&h.cfg, c.n) * c.m, "output");
      accepted++;
    } else {
      refused[-want]++;
      CHECK_EQ_U64(p->cnt_busy, b0);
      /* only an invalid (m0, shift) is found by reading P */
      if (p->cnt_cycles != c0) {
        CHECK_EQ(want, NNFSIM_ERR_RANGE);
        by_params++;
      }
    }
  }
  printf("random checks: %d accepted, %d RANGE (%d of them for P), %d SHAPE\n", accepted, refused[2], by_params,
         refused[3]);
  CHECK(accepted > 10 && refused[2] > 10 && refused[3] > 10 && by_params > 3);
  free(m0s);
  free(shifts);
}

static void trace_errors(void) {
  nnf_test_ctx("trace errors");
  NO_CYCLES(nnfsim_trace_open(h.s, NULL), NNFSIM_ERR_NULL);
  NO_CYCLES(nnfsim_trace_open(h.s, "/nonexistent-directory/nnfsim/x.fst"), NNFSIM_ERR_IO);
  nnfsim_trace_close(h.s); /* nothing open: fine */
}

int main(void) {
  rtl_open(&h, 7);
  nnf_rng r = nnf_rng_seed(77);
  /* make every P lane valid, so commands are refused only where meant */
  {
    size_t slots = (size_t)h.cfg.p_words * (size_t)h.cfg.cols;
    for (size_t i = 0; i < slots; i++) {
      h.e->m0[i] = (int32_t)nnf_rng_range(&r, 1 << 30, INT32_MAX);
      h.e->shift[i] = (int8_t)nnf_rng_range(&r, -20, -8);
    }
    rtl_upload(&h, 2, 0, rtl_region_bytes(&h.cfg, 2));
  }
  null_handle();
  params();
  host_port();
  bad_commands();
  bad_params(&r);
  busy_refusals(&r);
  random_checks(&r);
  trace_errors();
  nnf_test_ctx("final comparison");
  rtl_compare_all(&h, "final image");
  rtl_close(&h);
  return nnf_test_done("test_rtl_api");
}
