/*
 * test_conv_device.c - CONV, POOL and PACK instructions on the functional
 * model of the device, through its frames (docs/protocol.md CONV / POOL,
 * docs/conv.md). This test is model-only.
 *
 *   test_conv_device [CASES [SEED]]
 *
 * Through the driver's `model` backend (FEAT_CONV on):
 * - the driver's encoders nnfdrv_insn_conv / _pool / _pack: every field at
 *   both ends of its range lands in its bits (byte for byte, and read back
 *   with the generated getters), every value the record cannot hold is
 *   refused with nothing written;
 * - a small CNN as one program (conv 3x3 pad 1 with a ragged channel tile,
 *   maxpool 2x2, conv stride 2 with TFLite's odd SAME padding (EH), avgpool
 *   3x3 pad 1, flatten + dense as a whole-map conv), WRITE ACT / W / P / LUT
 *   / PROG, RUN, READ ACT: every map bit for bit against nnfm_conv2d_ref /
 *   nnfm_maxpool_ref / nnfm_avgpool_ref layer by layer, the dense layer
 *   against nnfm_gemm on the PyTorch-order flatten, the MAC counter exact,
 *   nothing else in ACT touched;
 * - CASES random single CONV or POOL instructions (every field random in
 *   its range, random bases) against the references, the rest of ACT
 *   unchanged, MACs counted;
 * - CASES random PACKs (Cin 1..rows, every window field random, random
 *   bases) from a dense input written byte by byte (nnfm_engine_put_dense
 *   checked against it) against a reference written here from the NCHW
 *   input, spare lanes 0, the rest of ACT unchanged; then CASES / 8 that
 *   the window rule (written here too) refuses: BAD_INSN, ACT untouched.
 * On nnfm_device directly (raw frames, a small 4x4 configuration):
 * - refused CONV / POOL / PACK (each field or extent that can be wrong, one word
 *   past each buffer, a and o sharing one word, an invalid used P lane):
 *   STATUS running 0, last error BAD_INSN, pc the instruction; the model's
 *   refusal code (NNFM_ERR_RANGE / _SHAPE) exact; every region byte for
 *   byte as on a twin device whose program has END there; and the accepted
 *   boundaries (the last word of each buffer, kernel == padded input, an
 *   invalid P lane that is not used); for PACK also Cin 0 / = rows / >
 *   rows, an output column of padding only, the input counted as the dense
 *   bytes' ceil(H*W*B*Cin / rows) words
 *   words (not its dense bytes), M = 65535 run and M = 65790 refused;
 * - CONV with pool2 (docs/conv.md, "Fused 2x2 max pooling"): CASES random
 *   ones through the frames against nnfm_conv2d_ref and a 2x2 max written
 *   here (odd OH / OW, ragged channel tiles, batches, maps over several
 *   accumulator blocks), MACs 4*Mp*KH*KW*Cin*N, the rest of ACT unchanged,
 *   and all of ACT as an engine with acc_depth 2 (blocks cutting windows)
 *   leaves it; refusals (OH or OW < 2, 4*Mp over the walk, the output
 *   range NT*Mp words) leaving every region as it was;
 * - FEAT_CONV off: INFO differs from FEAT_CONV on only in the bits
 *   FEAT_CONV, FEAT_PACK and FEAT_CONV_POOL, and CONV / POOL / PACK stop a program exactly
 *   like an unknown opcode and like END: the same answer bytes, the same
 *   buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_proto.h"
#include "nnf_test.h"
#include "nnfdrv.h"
#include "nnfm.h"
#include "nnfm_device.h"

static nnf_rng rng;
static int64_t rr(int64_t lo, int64_t hi) { return nnf_rng_range(&rng, lo, hi); }

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return p;
}

/* Requantization parameters that keep outputs spread over int8. */
static void rand_params(int n, int32_t *bias, int32_t *m0, int8_t *shift) {
  for (int j = 0; j < n; j++) {
    bias[j] = (int32_t)rr(-3000, 3000);
    m0[j] = (int32_t)rr(1 << 30, 0x7FFFFFFF);
    shift[j] = (int8_t)rr(-12, -6);
  }
}

static void rand_i8(int8_t *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = nnf_rng_i8(&rng);
}

/* ---- the driver's encoders -------------------------------------------------- */

static nnfdrv_conv conv_max(void) {
  nnfdrv_conv c;
  memset(&c, 0, sizeof c);
  c.cin = 65535, c.n = 65535, c.h = 1024, c.w = 1024, c.b = 1024;
  c.kh = 7, c.kw = 7, c.sh = 4, c.sw = 4, c.ph = 7, c.pw = 7, c.eh = 1, c.ew = 1;
  c.a_base = 0xFFFFFFFFu, c.w_base = 0x89ABCDEFu, c.p_base = 0x01234567u, c.o_base = 0xFEDCBA98u;
  c.zp_in = -128, c.zp = 127, c.lo = -128, c.hi = 127, c.lut = 1;
  return c;
}

static void check_conv_fields(const uint8_t *r, const nnfdrv_conv *c) {
  CHECK_EQ(r[0], NNFP_OP_CONV);
  CHECK_EQ(nnfp_conv_get_lut(r), (uint32_t)c->lut);
  CHECK_EQ(nnfp_conv_get_pool2(r), (uint32_t)c->pool2);
  CHECK_EQ(nnfp_conv_get_zp(r), c->zp);
  CHECK_EQ(nnfp_conv_get_lo(r), c->lo);
  CHECK_EQ(nnfp_conv_get_hi(r), c->hi);
  CHECK_EQ(nnfp_conv_get_zp_in(r), c->zp_in);
  CHECK_EQ(nnfp_conv_get_kh(r), c->kh);
  CHECK_EQ(nnfp_conv_get_kw(r), c->kw);
  CHECK_EQ(nnfp_conv_get_sh_m1(r) + 1, c->sh);
  CHECK_EQ(nnfp_conv_get_sw_m1(r) + 1, c->sw);
  CHECK_EQ(nnfp_conv_get_ph(r), c->ph);
  CHECK_EQ(nnfp_conv_get_pw(r), c->pw);
  CHECK_EQ(nnfp_conv_get_cin(r), c->cin);
  CHECK_EQ(nnfp_conv_get_n(r), c->n);
  CHECK_EQ(nnfp_conv_get_h_m1(r) + 1, c->h);
  CHECK_EQ(nnfp_conv_get_w_m1(r) + 1, c->w);
  CHECK_EQ(nnfp_conv_get_b_m1(r) + 1, c->b);
  CHECK_EQ(nnfp_conv_get_eh(r), c->eh);
  CHECK_EQ(nnfp_conv_get_ew(r), c->ew);
  CHECK_EQ(nnfp_conv_get_a_base(r), c->a_base);
  CHECK_EQ(nnfp_conv_get_w_base(r), c->w_base);
  CHECK_EQ(nnfp_conv_get_p_base(r), c->p_base);
  CHECK_EQ(nnfp_conv_get_o_base(r), c->o_base);
}

static void test_encoders(void) {
  uint8_t r[32];
  /* the layout of docs/protocol.md, byte by byte, at the top of every range */
  nnfdrv_conv c = conv_max();
  CHECK_EQ(nnfdrv_insn_conv(r, &c), NNFDRV_OK);
  check_conv_fields(r, &c);
  static const uint8_t want[32] = {5,    1,    0x7F, 0x80, 0x7F, 0x80, 0xFF, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0xFF, 0xEF, 0xCD, 0xAB, 0x89,
                                   0x67, 0x45, 0x23, 0x01, 0x98, 0xBA, 0xDC, 0xFE};
  CHECK_MEM_EQ(r, want, 32);
  /* pool2: byte 1 bit 1, next to LUT (bit 0), nothing else moves */
  c.pool2 = 1;
  CHECK_EQ(nnfdrv_insn_conv(r, &c), NNFDRV_OK);
  check_conv_fields(r, &c);
  CHECK_EQ(r[1], 3);
  CHECK_MEM_EQ(r + 2, want + 2, 30);
  c.lut = 0;
  CHECK_EQ(nnfdrv_insn_conv(r, &c), NNFDRV_OK);
  CHECK_EQ(r[1], 2);
  c.pool2 = 0;
  /* the bottom of every range: the stored-minus-one fields are 0 */
  c.cin = c.n = 1, c.h = c.w = c.b = 1, c.kh = c.kw = 1, c.sh = c.sw = 1, c.ph = c.pw = 0;
  c.eh = c.ew = 0, c.lut = 0, c.zp_in = 0, c.zp = 0, c.lo = 0, c.hi = 0;
  c.a_base = c.w_base = c.p_base = c.o_base = 0;
  CHECK_EQ(nnfdrv_insn_conv(r, &c), NNFDRV_OK);
  check_conv_fields(r, &c);
  CHECK_EQ(r[0], 5);
  CHECK_EQ(nnfp_get16(r + 6), 1 | 1 << 3);  /* KH = KW = 1, the rest 0 */
  CHECK_EQ(nnfp_get16(r + 8), 1);
  CHECK_EQ(nnfp_get16(r + 10), 1);
  CHECK_EQ(nnfp_get32(r + 12), 0);
  /* one field at a time: its bits and no other */
  c = conv_max();
  c.kh = 5, c.kw = 2, c.sh = 3, c.sw = 2, c.ph = 6, c.pw = 1;
  c.h = 28, c.w = 1000, c.b = 513, c.eh = 1, c.ew = 0;
  CHECK_EQ(nnfdrv_insn_conv(r, &c), NNFDRV_OK);
  check_conv_fields(r, &c);
  CHECK_EQ(nnfp_get16(r + 6), 5 | 2 << 3 | 2 << 6 | 1 << 8 | 6 << 10 | 1 << 13);
  CHECK_EQ(nnfp_get32(r + 12), 27u | 999u << 10 | 512u << 20 | 1u << 30);
  /* what the record cannot hold: refused, nothing written */
  for (int f = 0; f < 24; f++) {
    c = conv_max();
    switch (f) {
    case 0: c.cin = 0; break;
    case 1: c.n = 0; break;
    case 2: c.h = 0; break;
    case 3: c.h = 1025; break;
    case 4: c.w = 0; break;
    case 5: c.w = 1025; break;
    case 6: c.b = 0; break;
    case 7: c.b = 1025; break;
    case 8: c.kh = 0; break;
    case 9: c.kh = 8; break;
    case 10: c.kw = 0; break;
    case 11: c.kw = 8; break;
    case 12: c.sh = 0; break;
    case 13: c.sh = 5; break;
    case 14: c.sw = 0; break;
    case 15: c.sw = 5; break;
    case 16: c.ph = 8; break;
    case 17: c.pw = 8; break;
    case 18: c.eh = 2; break;
    case 19: c.ew = 2; break;
    case 20: c.lut = 2; break;
    case 21: c.lut = -1; break;
    case 22: c.pool2 = 2; break;
    default: c.pool2 = -1; break;
    }
    memset(r, 0xEE, sizeof r);
    nnf_test_ctx("conv field case %d", f);
    CHECK_EQ(nnfdrv_insn_conv(r, &c), NNFDRV_ERR_ARG);
    CHECK_EQ(r[0], 0xEE);
    CHECK_EQ(r[31], 0xEE);
  }
  nnf_test_ctx("");
  CHECK_EQ(nnfdrv_insn_conv(NULL, &c), NNFDRV_ERR_ARG);
  memset(&c, 0, sizeof c);
  CHECK_EQ(nnfdrv_insn_conv(r, &c), NNFDRV_ERR_ARG); /* all zero: no size */
  CHECK_EQ(nnfdrv_insn_conv(r, NULL), NNFDRV_ERR_ARG);

  /* POOL */
  nnfdrv_pool p;
  memset(&p, 0, sizeof p);
  p.avg = 1, p.c = 65535, p.h = 1024, p.w = 1024, p.b = 1024;
  p.kh = 7, p.kw = 7, p.sh = 4, p.sw = 4, p.ph = 7, p.pw = 7, p.eh = 1, p.ew = 1;
  p.a_base = 0x11223344u, p.o_base = 0xAABBCCDDu, p.lo = -100, p.hi = 99;
  CHECK_EQ(nnfdrv_insn_pool(r, &p), NNFDRV_OK);
  static const uint8_t want_p[32] = {6,    1,    0,    0x9C, 99,   0,    0xFF, 0xFF,
                                     0xFF, 0xFF, 0,    0,    0xFF, 0xFF, 0xFF, 0xFF,
                                     0x44, 0x33, 0x22, 0x11, 0,    0,    0,    0,
                                     0,    0,    0,    0,    0xDD, 0xCC, 0xBB, 0xAA};
  CHECK_MEM_EQ(r, want_p, 32);
  CHECK_EQ(nnfp_pool_get_avg(r), 1);
  CHECK_EQ(nnfp_pool_get_c(r), 65535);
  CHECK_EQ(nnfp_pool_get_lo(r), -100);
  CHECK_EQ(nnfp_pool_get_hi(r), 99);
  CHECK_EQ(nnfp_pool_get_a_base(r), 0x11223344u);
  CHECK_EQ(nnfp_pool_get_o_base(r), 0xAABBCCDDu);
  p.avg = 0, p.c = 3, p.h = 5, p.w = 6, p.b = 2, p.kh = 3, p.kw = 2, p.sh = 2, p.sw = 1;
  p.ph = 1, p.pw = 0, p.eh = 0, p.ew = 1;
  CHECK_EQ(nnfdrv_insn_pool(r, &p), NNFDRV_OK);
  CHECK_EQ(r[1], 0);
  CHECK_EQ(nnfp_get16(r + 6), 3 | 2 << 3 | 1 << 6 | 0 << 8 | 1 << 10 | 0 << 13);
  CHECK_EQ(nnfp_get32(r + 12), 4u | 5u << 10 | 1u << 20 | 1u << 31);
  CHECK_EQ(nnfp_get16(r + 8), 3);
  for (int f = 0; f < 17; f++) {
    nnfdrv_pool q = p;
    switch (f) {
    case 0: q.c = 0; break;
    case 1: q.avg = 2; break;
    case 2: q.avg = -1; break;
    case 3: q.h = 0; break;
    case 4: q.w = 1025; break;
    case 5: q.b = 0; break;
    case 6: q.kh = 0; break;
    case 7: q.kw = 8; break;
    case 8: q.sh = 0; break;
    case 9: q.sw = 5; break;
    case 10: q.ph = 8; break;
    case 11: q.pw = 8; break;
    case 12: q.eh = 2; break;
    case 13: q.ew = 2; break;
    case 14: q.b = 1025; break;
    case 15: q.h = 1025; break;
    default: q.kh = 8; break;
    }
    memset(r, 0xEE, sizeof r);
    nnf_test_ctx("pool field case %d", f);
    CHECK_EQ(nnfdrv_insn_pool(r, &q), NNFDRV_ERR_ARG);
    CHECK_EQ(r[0], 0xEE);
  }
  nnf_test_ctx("");
  /* global: the flag, and window fields that must be 0 */
  nnfdrv_pool gp;
  memset(&gp, 0, sizeof gp);
  gp.avg = 1, gp.global = 1, gp.c = 64, gp.h = 25, gp.w = 5, gp.b = 1, gp.sh = gp.sw = 1, gp.lo = -128, gp.hi = 127;
  CHECK_EQ(nnfdrv_insn_pool(r, &gp), NNFDRV_OK);
  CHECK_EQ(r[1], 3);
  CHECK_EQ(nnfp_pool_get_global(r), 1);
  CHECK_EQ(nnfp_get16(r + 6), 0);
  for (int f = 0; f < 4; f++) {
    nnfdrv_pool q = gp;
    if (f == 0) q.kh = 1;
    if (f == 1) q.sw = 2;
    if (f == 2) q.pw = 1;
    if (f == 3) q.global = 2;
    memset(r, 0xEE, sizeof r);
    nnf_test_ctx("global pool field case %d", f);
    CHECK_EQ(nnfdrv_insn_pool(r, &q), NNFDRV_ERR_ARG);
    CHECK_EQ(r[0], 0xEE);
  }
  nnf_test_ctx("");
  CHECK_EQ(nnfdrv_insn_pool(NULL, &p), NNFDRV_ERR_ARG);
  CHECK_EQ(nnfdrv_insn_pool(r, NULL), NNFDRV_ERR_ARG);

  /* PACK: the top of every range, byte by byte */
  nnfdrv_pack k;
  memset(&k, 0, sizeof k);
  k.cin = 65535, k.h = 1024, k.w = 1024, k.b = 1024, k.kw = 7, k.sw = 4, k.pw = 7, k.ew = 1;
  k.a_base = 0x11223344u, k.o_base = 0xAABBCCDDu, k.zp_in = -128;
  memset(r, 0xEE, sizeof r);
  CHECK_EQ(nnfdrv_insn_pack(r, &k), NNFDRV_OK);
  static const uint8_t want_k[32] = {7,    0,    0,    0,    0,    0x80, 0x38, 0xE3,
                                     0xFF, 0xFF, 0,    0,    0xFF, 0xFF, 0xFF, 0xBF,
                                     0x44, 0x33, 0x22, 0x11, 0,    0,    0,    0,
                                     0,    0,    0,    0,    0xDD, 0xCC, 0xBB, 0xAA};
  CHECK_MEM_EQ(r, want_k, 32);
  /* the bottom: the stored-minus-one fields 0, KW 1 */
  k.cin = 1, k.h = k.w = k.b = 1, k.kw = 1, k.sw = 1, k.pw = 0, k.ew = 0, k.a_base = k.o_base = 0, k.zp_in = 0;
  CHECK_EQ(nnfdrv_insn_pack(r, &k), NNFDRV_OK);
  static const uint8_t want_k0[32] = {7, 0, 0, 0, 0, 0, 0x08, 0, 1, 0};
  CHECK_MEM_EQ(r, want_k0, 32);
  /* one value per field, through the generated getters (the model's decode) */
  k.cin = 3, k.h = 28, k.w = 1000, k.b = 513, k.kw = 5, k.sw = 2, k.pw = 2, k.ew = 0, k.zp_in = -7;
  k.a_base = 0x01020304u, k.o_base = 0x0A0B0C0Du;
  CHECK_EQ(nnfdrv_insn_pack(r, &k), NNFDRV_OK);
  CHECK_EQ(nnfp_get16(r + 6), 5 << 3 | 1 << 8 | 2 << 13);
  CHECK_EQ(nnfp_get32(r + 12), 27u | 999u << 10 | 512u << 20);
  CHECK_EQ(nnfp_pack_get_opcode(r), NNFP_OP_PACK);
  CHECK_EQ(nnfp_pack_get_zp_in(r), -7);
  CHECK_EQ(nnfp_pack_get_kw(r), 5);
  CHECK_EQ(nnfp_pack_get_sw_m1(r) + 1, 2);
  CHECK_EQ(nnfp_pack_get_pw(r), 2);
  CHECK_EQ(nnfp_pack_get_cin(r), 3);
  CHECK_EQ(nnfp_pack_get_h_m1(r) + 1, 28);
  CHECK_EQ(nnfp_pack_get_w_m1(r) + 1, 1000);
  CHECK_EQ(nnfp_pack_get_b_m1(r) + 1, 513);
  CHECK_EQ(nnfp_pack_get_ew(r), 0);
  CHECK_EQ(nnfp_pack_get_a_base(r), 0x01020304u);
  CHECK_EQ(nnfp_pack_get_o_base(r), 0x0A0B0C0Du);
  for (int f = 0; f < 14; f++) {
    nnfdrv_pack q = k;
    switch (f) {
    case 0: q.cin = 0; break;
    case 1: q.h = 0; break;
    case 2: q.h = 1025; break;
    case 3: q.w = 0; break;
    case 4: q.w = 1025; break;
    case 5: q.b = 0; break;
    case 6: q.b = 1025; break;
    case 7: q.kw = 0; break;
    case 8: q.kw = 8; break;
    case 9: q.sw = 0; break;
    case 10: q.sw = 5; break;
    case 11: q.pw = 8; break;
    case 12: q.ew = 2; break;
    default: q.ew = 255; break;
    }
    memset(r, 0xEE, sizeof r);
    nnf_test_ctx("pack field case %d", f);
    CHECK_EQ(nnfdrv_insn_pack(r, &q), NNFDRV_ERR_ARG);
    CHECK_EQ(r[0], 0xEE);
    CHECK_EQ(r[31], 0xEE);
  }
  nnf_test_ctx("");
  CHECK_EQ(nnfdrv_insn_pack(NULL, &k), NNFDRV_ERR_ARG);
  CHECK_EQ(nnfdrv_insn_pack(r, NULL), NNFDRV_ERR_ARG);
}

/* ---- the device through the driver ------------------------------------------- */

static nnfdrv *dev;
static nnfm_engine *img;   /* the host's image of the device's buffers */
static nnfm_config cfg;

/* Send words [first, first + n) of a region of the image to the device. */
static void upload(int region, uint32_t first, uint64_t n) {
  uint64_t wb = region == NNFDRV_ACT ? (uint64_t)cfg.rows
                : region == NNFDRV_W ? (uint64_t)cfg.cols
                                     : (uint64_t)cfg.cols * NNFP_P_BYTES;
  if (n == 0) return;
  uint8_t *b = xmalloc(n * wb);
  CHECK_OK(nnfm_engine_read_bytes(img, region, (uint32_t)(first * wb), b, n * wb));
  CHECK_EQ(nnfdrv_write(dev, region, (uint32_t)(first * wb), b, n * wb), NNFDRV_OK);
  free(b);
}

static uint64_t act_bytes(void) { return (uint64_t)cfg.act_words * cfg.rows; }

/* Run the program at 0 and read all of ACT back; check STATUS (pc = end). */
static void run_and_read(uint8_t *act, uint32_t end_pc) {
  CHECK_EQ(nnfdrv_run(dev, 0), NNFDRV_OK);
  CHECK_EQ(nnfdrv_wait(dev), NNFDRV_OK);
  nnfdrv_state st;
  CHECK_EQ(nnfdrv_get_state(dev, &st), NNFDRV_OK);
  CHECK_EQ(st.running, 0);
  CHECK_EQ(st.last_error, 0);
  CHECK_EQ(st.pc, end_pc);
  CHECK_EQ(nnfdrv_read(dev, NNFDRV_ACT, 0, act, act_bytes()), NNFDRV_OK);
}

static uint64_t macs_now(void) {
  nnfdrv_counters c;
  CHECK_EQ(nnfdrv_get_counters(dev, &c), NNFDRV_OK);
  return c.macs;
}

/* A conv layer on the host: geometry, weights OIHW, parameters. */
typedef struct {
  nnfm_conv_args a;
  int8_t *w;
  int32_t *bias, *bias_folded, *m0;
  int8_t *shift;
  int oh, ow;
} conv_layer;

static void conv_layer_init(conv_layer *L, const nnfm_conv_args *a) {
  L->a = *a;
  CHECK_OK(nnfm_window_check(&a->win, 0, &L->oh, &L->ow));
  size_t nw = (size_t)a->n * a->win.c * a->win.kh * a->win.kw;
  L->w = xmalloc(nw);
  rand_i8(L->w, nw);
  for (size_t i = 0; i < nw; i++)
    if (L->w[i] == -128) L->w[i] = -127; /* symmetric weights */
  L->bias = xmalloc(sizeof(int32_t) * (size_t)a->n);
  L->bias_folded = xmalloc(sizeof(int32_t) * (size_t)a->n);
  L->m0 = xmalloc(sizeof(int32_t) * (size_t)a->n);
  L->shift = xmalloc((size_t)a->n);
  rand_params(a->n, L->bias, L->m0, L->shift);
  CHECK_OK(nnfm_conv_fold_input_zp(L->w, a->n, a->win.c, a->win.kh, a->win.kw, a->zp_in, L->bias,
                                   L->bias_folded));
}

static void conv_layer_free(conv_layer *L) {
  free(L->w);
  free(L->bias);
  free(L->bias_folded);
  free(L->m0);
  free(L->shift);
}

/* Place a conv layer's weights and P entries in the image and on the device. */
static void conv_layer_load(const conv_layer *L, uint32_t w_base, uint32_t p_base) {
  const nnfm_window *g = &L->a.win;
  CHECK_OK(nnfm_engine_put_conv_weights(img, w_base, L->w, (uint32_t)L->a.n, (uint32_t)g->c,
                                        (uint32_t)g->kh, (uint32_t)g->kw));
  CHECK_OK(nnfm_engine_put_params(img, p_base, L->bias_folded, L->m0, L->shift, (uint32_t)L->a.n));
  upload(NNFDRV_W, w_base, nnfm_conv_w_words(&cfg, (uint32_t)L->a.n, (uint32_t)g->c, (uint32_t)g->kh,
                                             (uint32_t)g->kw));
  upload(NNFDRV_P, p_base, nnfm_p_entries(&cfg, (uint32_t)L->a.n));
}

static nnfdrv_conv conv_insn(const conv_layer *L, uint32_t a_base, uint32_t w_base, uint32_t p_base,
                             uint32_t o_base) {
  const nnfm_window *g = &L->a.win;
  nnfdrv_conv c;
  memset(&c, 0, sizeof c);
  c.cin = (uint16_t)g->c, c.n = (uint16_t)L->a.n, c.h = (uint16_t)g->h, c.w = (uint16_t)g->w;
  c.b = (uint16_t)g->b, c.kh = (uint8_t)g->kh, c.kw = (uint8_t)g->kw, c.sh = (uint8_t)g->sh;
  c.sw = (uint8_t)g->sw, c.ph = (uint8_t)g->ph, c.pw = (uint8_t)g->pw, c.eh = (uint8_t)g->eh;
  c.ew = (uint8_t)g->ew;
  c.a_base = a_base, c.w_base = w_base, c.p_base = p_base, c.o_base = o_base;
  c.zp_in = (int8_t)L->a.zp_in, c.zp = (int8_t)L->a.out_zp, c.lo = (int8_t)L->a.lo;
  c.hi = (int8_t)L->a.hi, c.lut = L->a.lut != NULL;
  return c;
}

static nnfdrv_pool pool_insn(const nnfm_pool_args *p, int avg, uint32_t a_base, uint32_t o_base) {
  const nnfm_window *g = &p->win;
  nnfdrv_pool q;
  memset(&q, 0, sizeof q);
  q.avg = avg, q.c = (uint16_t)g->c, q.h = (uint16_t)g->h, q.w = (uint16_t)g->w, q.b = (uint16_t)g->b;
  q.kh = (uint8_t)g->kh, q.kw = (uint8_t)g->kw, q.sh = (uint8_t)g->sh, q.sw = (uint8_t)g->sw;
  q.ph = (uint8_t)g->ph, q.pw = (uint8_t)g->pw, q.eh = (uint8_t)g->eh, q.ew = (uint8_t)g->ew;
  q.a_base = a_base, q.o_base = o_base, q.lo = (int8_t)p->lo, q.hi = (int8_t)p->hi;
  return q;
}

/* The map (b x c x h x w) at word base of the ACT bytes act. */
static void map_of(const uint8_t *act, uint32_t base, int8_t *x, int b, int c, int h, int w) {
  memcpy(img->act, act, act_bytes());
  CHECK_OK(nnfm_engine_get_fmap(img, base, x, (uint32_t)b, (uint32_t)c, (uint32_t)h, (uint32_t)w));
}

/* ACT outside [o_base, o_base + words) equal to the image's (what was sent). */
static void check_rest_of_act(const uint8_t *before, const uint8_t *act, uint32_t o_base,
                              uint64_t words) {
  const uint64_t R = (uint64_t)cfg.rows, lo = o_base * R, hi = (o_base + words) * R;
  CHECK_MEM_EQ(act, before, lo);
  CHECK_MEM_EQ(act + hi, before + hi, act_bytes() - hi);
}

/* A whole small CNN as one program. */
static void test_cnn_program(void) {
  const int B = 2, C0 = 3, H0 = 9, W0 = 9;
  int8_t lut[256];
  rand_i8(lut, 256);
  for (int i = 0; i < 256; i++) img->lut[i] = lut[i];
  CHECK_EQ(nnfdrv_write(dev, NNFDRV_LUT, 0, lut, 256), NNFDRV_OK);

  /* layer 1: conv 3 -> 10 (a ragged second tile at 8x8), 3x3, pad 1, ReLU-like clamp */
  nnfm_conv_args a1 = {{B, C0, H0, W0, 3, 3, 1, 1, 1, 1, 0, 0}, 10, -7, -20, -20, 127, NULL, NNFM_ROUND_SINGLE, 1};
  conv_layer L1;
  conv_layer_init(&L1, &a1);
  /* layer 2: maxpool 2x2 stride 2 (floor: 9 -> 4) */
  nnfm_pool_args p2 = {{B, 10, L1.oh, L1.ow, 2, 2, 2, 2, 0, 0, 0, 0}, -128, 127};
  int oh2, ow2;
  CHECK_OK(nnfm_window_check(&p2.win, 1, &oh2, &ow2));
  /* layer 3: conv 10 -> 12, 3x3, stride 2, TFLite SAME with an odd total (PH 0, EH 1), LUT */
  nnfm_conv_args a3 = {{B, 10, oh2, ow2, 3, 3, 2, 2, 0, 0, 1, 1}, 12, -20, 5, -128, 127, lut, NNFM_ROUND_SINGLE, 1};
  conv_layer L3;
  conv_layer_init(&L3, &a3);
  CHECK_EQ(L3.oh, 2);
  /* layer 4: avgpool 3x3, stride 1, pad 1 (edge windows count their in-bounds taps) */
  nnfm_pool_args p4 = {{B, 12, L3.oh, L3.ow, 3, 3, 1, 1, 1, 1, 0, 0}, -100, 100};
  int oh4, ow4;
  CHECK_OK(nnfm_window_check(&p4.win, 1, &oh4, &ow4));
  /* layer 5: flatten + dense(12*2*2 -> 5) as the whole-map conv */
  nnfm_conv_args a5 = {{B, 12, oh4, ow4, oh4, ow4, 1, 1, 0, 0, 0, 0}, 5, 0, 3, -128, 127, NULL, NNFM_ROUND_SINGLE, 1};
  conv_layer L5;
  conv_layer_init(&L5, &a5);
  CHECK_EQ(L5.oh, 1);
  CHECK_EQ(L5.ow, 1);

  /* the plan: maps one after another in ACT, with a gap word between */
  uint32_t base[6];
  uint64_t words[6];
  int ch[6] = {C0, 10, 10, 12, 12, 5}, hh[6] = {H0, L1.oh, oh2, L3.oh, oh4, 1}, ww[6] = {W0, L1.ow, ow2, L3.ow, ow4, 1};
  uint32_t at = 5;
  for (int i = 0; i < 6; i++) {
    base[i] = at;
    words[i] = nnfm_fmap_words(&cfg, (uint32_t)ch[i], (uint32_t)hh[i], (uint32_t)ww[i], (uint32_t)B);
    at += (uint32_t)words[i] + 1;
  }
  CHECK(at < cfg.act_words);
  int8_t *x0 = xmalloc((size_t)B * C0 * H0 * W0);
  rand_i8(x0, (size_t)B * C0 * H0 * W0);
  /* ACT: random everywhere, the input map at base[0] */
  uint8_t *before = xmalloc(act_bytes()), *act = xmalloc(act_bytes());
  nnf_rng_fill(&rng, img->act, act_bytes());
  CHECK_OK(nnfm_engine_put_fmap(img, base[0], x0, (uint32_t)B, (uint32_t)C0, (uint32_t)H0, (uint32_t)W0));
  upload(NNFDRV_ACT, 0, cfg.act_words);
  memcpy(before, img->act, act_bytes());
  conv_layer_load(&L1, 0, 0);
  uint32_t w3 = nnfm_conv_w_words(&cfg, 10, C0, 3, 3) + 3, p3 = 2;
  conv_layer_load(&L3, w3, p3);
  uint32_t w5 = w3 + nnfm_conv_w_words(&cfg, 12, 10, 3, 3) + 1, p5 = p3 + 2 + 1;
  conv_layer_load(&L5, w5, p5);

  uint8_t prog[7 * 32];
  nnfdrv_conv c1 = conv_insn(&L1, base[0], 0, 0, base[1]);
  nnfdrv_pool q2 = pool_insn(&p2, 0, base[1], base[2]);
  nnfdrv_conv c3 = conv_insn(&L3, base[2], w3, p3, base[3]);
  nnfdrv_pool q4 = pool_insn(&p4, 1, base[3], base[4]);
  nnfdrv_conv c5 = conv_insn(&L5, base[4], w5, p5, base[5]);
  CHECK_EQ(nnfdrv_insn_conv(prog, &c1), NNFDRV_OK);
  CHECK_EQ(nnfdrv_insn_pool(prog + 32, &q2), NNFDRV_OK);
  CHECK_EQ(nnfdrv_insn_conv(prog + 64, &c3), NNFDRV_OK);
  nnfdrv_insn_barrier(prog + 96);
  CHECK_EQ(nnfdrv_insn_pool(prog + 128, &q4), NNFDRV_OK);
  CHECK_EQ(nnfdrv_insn_conv(prog + 160, &c5), NNFDRV_OK);
  nnfdrv_insn_end(prog + 192);
  CHECK_EQ(nnfdrv_write(dev, NNFDRV_PROG, 0, prog, sizeof prog), NNFDRV_OK);
  uint64_t m0 = macs_now();
  run_and_read(act, 6);
  CHECK_EQ_U64(macs_now() - m0,
               (uint64_t)L1.oh * L1.ow * B * 9 * C0 * 10 + (uint64_t)L3.oh * L3.ow * B * 9 * 10 * 12 +
                   (uint64_t)B * oh4 * ow4 * 12 * 5);

  /* the references, layer by layer, each from the previous reference */
  size_t n1 = (size_t)B * 10 * L1.oh * L1.ow, n2 = (size_t)B * 10 * oh2 * ow2;
  size_t n3 = (size_t)B * 12 * L3.oh * L3.ow, n4 = (size_t)B * 12 * oh4 * ow4, n5 = (size_t)B * 5;
  int8_t *y1 = xmalloc(n1), *y2 = xmalloc(n2), *y3 = xmalloc(n3), *y4 = xmalloc(n4), *y5 = xmalloc(n5);
  int8_t *got = xmalloc(n1);
  CHECK_OK(nnfm_conv2d_ref(&L1.a, x0, L1.w, L1.bias, L1.m0, L1.shift, y1));
  CHECK_OK(nnfm_maxpool_ref(&p2, y1, y2));
  CHECK_OK(nnfm_conv2d_ref(&L3.a, y2, L3.w, L3.bias, L3.m0, L3.shift, y3));
  CHECK_OK(nnfm_avgpool_ref(&p4, y3, y4));
  CHECK_OK(nnfm_conv2d_ref(&L5.a, y4, L5.w, L5.bias, L5.m0, L5.shift, y5));
  const int8_t *ys[6] = {x0, y1, y2, y3, y4, y5};
  const size_t ns[6] = {(size_t)B * C0 * H0 * W0, n1, n2, n3, n4, n5};
  for (int i = 0; i < 6; i++) {
    nnf_test_ctx("CNN map %d", i);
    map_of(act, base[i], got, B, ch[i], hh[i], ww[i]);
    CHECK_MEM_EQ(got, ys[i], ns[i]);
  }
  /* the dense layer independently: nnfm_gemm on the PyTorch flatten (c, y, x) */
  const int K = 12 * oh4 * ow4, N = 5;
  int8_t *wd = xmalloc((size_t)K * N), *yd = xmalloc((size_t)B * N);
  int32_t bd[5];
  for (int n = 0; n < N; n++)
    for (int k = 0; k < K; k++) wd[(size_t)k * N + n] = L5.w[(size_t)n * K + k]; /* OIHW = n, (c,y,x) */
  CHECK_OK(nnfm_fold_input_zp(wd, K, N, a5.zp_in, L5.bias, bd));
  nnfm_gemm_args g = {B, K, N, a5.out_zp, a5.lo, a5.hi, NULL, NNFM_ROUND_SINGLE};
  CHECK_OK(nnfm_gemm(&g, y4, wd, bd, L5.m0, L5.shift, yd)); /* y4 is B x (c, y, x) row-major */
  nnf_test_ctx("flatten + dense");
  CHECK_MEM_EQ(yd, y5, (size_t)B * N);
  /* nothing else in ACT written: only the five output maps changed */
  {
    const uint64_t R = (uint64_t)cfg.rows;
    uint8_t *expect = xmalloc(act_bytes());
    memcpy(expect, before, act_bytes());
    for (int i = 1; i < 6; i++)
      memcpy(expect + base[i] * R, act + base[i] * R, words[i] * R);
    nnf_test_ctx("ACT outside the maps");
    CHECK_MEM_EQ(act, expect, act_bytes());
    free(expect);
  }
  nnf_test_ctx("");
  free(wd), free(yd), free(y1), free(y2), free(y3), free(y4), free(y5), free(got), free(x0);
  free(before), free(act);
  conv_layer_free(&L1), conv_layer_free(&L3), conv_layer_free(&L5);
}

/* A random window geometry with the engine's field ranges (small sizes). */
static nnfm_window rand_window(int need_tap) {
  for (;;) {
    nnfm_window g;
    g.b = (int)rr(1, 3), g.c = (int)rr(1, 20), g.h = (int)rr(1, 11), g.w = (int)rr(1, 11);
    g.kh = (int)rr(1, 7), g.kw = (int)rr(1, 7), g.sh = (int)rr(1, 4), g.sw = (int)rr(1, 4);
    g.ph = (int)rr(0, rr(0, 1) ? 7 : 2), g.pw = (int)rr(0, rr(0, 1) ? 7 : 2);
    g.eh = (int)rr(0, 1), g.ew = (int)rr(0, 1);
    if (nnfm_window_check(&g, need_tap, NULL, NULL) == NNFM_OK) return g;
  }
}

/* Bases for an input of in words and an output of out words, disjoint, anywhere in ACT. */
static void rand_bases(uint64_t in, uint64_t out, uint32_t *a, uint32_t *o) {
  const uint64_t A = cfg.act_words;
  if (rr(0, 1)) {
    *a = (uint32_t)rr(0, (int64_t)(A - in - out));
    *o = (uint32_t)rr(*a + in, (int64_t)(A - out));
  } else {
    *o = (uint32_t)rr(0, (int64_t)(A - in - out));
    *a = (uint32_t)rr(*o + out, (int64_t)(A - in));
  }
}

/* A random LUT into the image and the device; ACT as the device holds it
 * into before. */
static void random_lut(int8_t lut[256], uint8_t *before) {
  rand_i8(lut, 256);
  memcpy(img->lut, lut, 256);
  CHECK_EQ(nnfdrv_write(dev, NNFDRV_LUT, 0, lut, 256), NNFDRV_OK);
  CHECK_EQ(nnfdrv_read(dev, NNFDRV_ACT, 0, before, act_bytes()), NNFDRV_OK);
}

static void test_random(int cases) {
  uint8_t *before = xmalloc(act_bytes()), *act = xmalloc(act_bytes());
  int8_t lut[256];
  random_lut(lut, before);
  int convs = 0, pools = 0, globals = 0;
  for (int t = 0; t < cases; t++) {
    nnf_test_ctx("random case %d", t);
    memcpy(img->act, before, act_bytes());
    uint8_t prog[64];
    int is_conv = rr(0, 1) != 0;
    nnfm_window g = rand_window(!is_conv);
    /* a quarter of the POOLs global: the window the whole map, up to 16 x 16 */
    int global = !is_conv && rr(0, 3) == 0;
    if (global) {
      g.h = (int)rr(1, 16), g.w = (int)rr(1, 16), g.kh = g.h, g.kw = g.w;
      g.sh = g.sw = 1, g.ph = g.pw = g.eh = g.ew = 0;
    }
    size_t nx = (size_t)g.b * g.c * g.h * g.w;
    int8_t *x = xmalloc(nx);
    rand_i8(x, nx);
    uint64_t in_words = nnfm_fmap_words(&cfg, (uint32_t)g.c, (uint32_t)g.h, (uint32_t)g.w, (uint32_t)g.b);
    int oh, ow;
    CHECK_OK(nnfm_window_check(&g, !is_conv, &oh, &ow));
    int8_t *y = NULL, *got = NULL;
    uint32_t a_base, o_base;
    uint64_t out_words, macs = 0;
    int outc;
    if (is_conv) {
      convs++;
      int32_t lo = (int32_t)rr(-128, 127), hi = (int32_t)rr(lo, 127);
      nnfm_conv_args ca = {g, (int)rr(1, 20), (int32_t)rr(-128, 127), (int32_t)rr(-128, 127), lo, hi,
                           rr(0, 1) ? lut : NULL, NNFM_ROUND_SINGLE, 1};
      conv_layer L;
      conv_layer_init(&L, &ca);
      outc = ca.n;
      out_words = nnfm_fmap_words(&cfg, (uint32_t)outc, (uint32_t)oh, (uint32_t)ow, (uint32_t)g.b);
      rand_bases(in_words, out_words, &a_base, &o_base);
      uint32_t ww = nnfm_conv_w_words(&cfg, (uint32_t)ca.n, (uint32_t)g.c, (uint32_t)g.kh, (uint32_t)g.kw);
      uint32_t w_base = (uint32_t)rr(0, cfg.w_words - ww);
      uint32_t p_base = (uint32_t)rr(0, cfg.p_words - nnfm_p_entries(&cfg, (uint32_t)ca.n));
      conv_layer_load(&L, w_base, p_base);
      nnfdrv_conv c = conv_insn(&L, a_base, w_base, p_base, o_base);
      CHECK_EQ(nnfdrv_insn_conv(prog, &c), NNFDRV_OK);
      y = xmalloc((size_t)g.b * outc * oh * ow);
      CHECK_OK(nnfm_conv2d_ref(&L.a, x, L.w, L.bias, L.m0, L.shift, y));
      macs = (uint64_t)oh * ow * g.b * g.kh * g.kw * g.c * ca.n;
      conv_layer_free(&L);
    } else {
      pools++;
      int32_t lo = (int32_t)rr(-128, 127), hi = (int32_t)rr(lo, 127);
      if (rr(0, 1)) lo = -128, hi = 127;
      nnfm_pool_args pa = {g, lo, hi};
      int avg = rr(0, 1) != 0;
      outc = g.c;
      out_words = nnfm_fmap_words(&cfg, (uint32_t)outc, (uint32_t)oh, (uint32_t)ow, (uint32_t)g.b);
      rand_bases(in_words, out_words, &a_base, &o_base);
      nnfdrv_pool q = pool_insn(&pa, avg, a_base, o_base);
      if (global) q.global = 1, q.kh = q.kw = 0, globals++;
      CHECK_EQ(nnfdrv_insn_pool(prog, &q), NNFDRV_OK);
      y = xmalloc((size_t)g.b * outc * oh * ow);
      CHECK_OK(avg ? nnfm_avgpool_ref(&pa, x, y) : nnfm_maxpool_ref(&pa, x, y));
    }
    nnfdrv_insn_end(prog + 32);
    CHECK_EQ(nnfdrv_write(dev, NNFDRV_PROG, 0, prog, sizeof prog), NNFDRV_OK);
    CHECK_OK(nnfm_engine_put_fmap(img, a_base, x, (uint32_t)g.b, (uint32_t)g.c, (uint32_t)g.h, (uint32_t)g.w));
    upload(NNFDRV_ACT, a_base, in_words);
    memcpy(before, img->act, act_bytes());
    uint64_t m0 = macs_now();
    run_and_read(act, 1);
    CHECK_EQ_U64(macs_now() - m0, macs);
    size_t ny = (size_t)g.b * outc * oh * ow;
    got = xmalloc(ny);
    map_of(act, o_base, got, g.b, outc, oh, ow);
    CHECK_MEM_EQ(got, y, ny);
    check_rest_of_act(before, act, o_base, out_words);
    /* the output's spare lanes (channels >= C) are written as zero */
    for (uint64_t i = 0; i < out_words; i++)
      for (int r = outc % cfg.rows ? outc % cfg.rows : cfg.rows; r < cfg.rows; r++)
        if (i >= out_words - (uint64_t)oh * ow * g.b) CHECK_EQ(act[(o_base + i) * cfg.rows + r], 0);
    memcpy(before, act, act_bytes());
    free(x), free(y), free(got);
  }
  nnf_test_ctx("");
  printf("random: %d CONV, %d POOL (%d global) instructions against the references\n", convs, pools, globals);
  CHECK(globals > 0);
  fflush(stdout);
  CHECK(convs > cases / 4 && pools > cases / 4);
  free(before), free(act);
}

/* ---- CONV with fused 2x2 max pooling ---------------------------------------- */

/* The 2x2 max at stride 2 with the floor rule, written here from
 * docs/conv.md: y (nb planes of oh x ow) to yp (nb planes of oh/2 x ow/2). */
static void max2x2(const int8_t *y, int nb, int oh, int ow, int8_t *yp) {
  const int ph = oh / 2, pw = ow / 2;
  for (int i = 0; i < nb; i++)
    for (int py = 0; py < ph; py++)
      for (int px = 0; px < pw; px++) {
        const int8_t *q = y + (size_t)i * oh * ow + (size_t)(2 * py) * ow + 2 * px;
        int8_t m = q[0];
        if (q[1] > m) m = q[1];
        if (q[ow] > m) m = q[ow];
        if (q[ow + 1] > m) m = q[ow + 1];
        yp[((size_t)i * ph + py) * pw + px] = m;
      }
}

static void test_random_pool2(int cases) {
  uint8_t *before = xmalloc(act_bytes()), *act = xmalloc(act_bytes());
  int8_t lut[256];
  random_lut(lut, before);
  /* the twin engine: the device's buffers, accumulator blocks of 2 rows */
  nnfm_config c2 = cfg;
  c2.acc_depth = 2;
  nnfm_engine *e2 = nnfm_engine_create(&c2);
  CHECK(e2 != NULL);
  int odd = 0, ragged = 0, multi = 0;
  for (int t = 0; t < cases; t++) {
    nnf_test_ctx("pool2 case %d", t);
    memcpy(img->act, before, act_bytes());
    nnfm_window g;
    int oh, ow;
    do {
      g = rand_window(0);
      if (rr(0, 3) == 0) { /* larger maps: several accumulator blocks */
        g.h = (int)rr(8, 24), g.w = (int)rr(8, 24), g.kh = (int)rr(1, 3), g.kw = (int)rr(1, 3);
        g.sh = g.sw = 1, g.ph = (int)rr(0, 1), g.pw = (int)rr(0, 1), g.eh = g.ew = 0;
      }
    } while (nnfm_window_check(&g, 0, &oh, &ow) != NNFM_OK || oh < 2 || ow < 2);
    const int ph = oh / 2, pw = ow / 2;
    int32_t lo = (int32_t)rr(-128, 127), hi = (int32_t)rr(lo, 127);
    if (rr(0, 1)) lo = -128, hi = 127;
    nnfm_conv_args ca = {g, (int)rr(1, 20), (int32_t)rr(-128, 127), (int32_t)rr(-128, 127), lo, hi,
                         rr(0, 1) ? lut : NULL, NNFM_ROUND_SINGLE, 1};
    conv_layer L;
    conv_layer_init(&L, &ca);
    const int n = ca.n;
    odd += oh % 2 || ow % 2;
    ragged += g.c % cfg.rows || n % cfg.cols;
    multi += 4ull * ph * pw * g.b > cfg.acc_depth;
    size_t nx = (size_t)g.b * g.c * g.h * g.w, ny = (size_t)g.b * n * oh * ow, np = (size_t)g.b * n * ph * pw;
    int8_t *x = xmalloc(nx), *y = xmalloc(ny), *yp = xmalloc(np), *got = xmalloc(np);
    rand_i8(x, nx);
    uint64_t in_words = nnfm_fmap_words(&cfg, (uint32_t)g.c, (uint32_t)g.h, (uint32_t)g.w, (uint32_t)g.b);
    uint64_t out_words = nnfm_fmap_words(&cfg, (uint32_t)n, (uint32_t)ph, (uint32_t)pw, (uint32_t)g.b);
    uint32_t a_base, o_base;
    rand_bases(in_words, out_words, &a_base, &o_base);
    uint32_t ww = nnfm_conv_w_words(&cfg, (uint32_t)n, (uint32_t)g.c, (uint32_t)g.kh, (uint32_t)g.kw);
    uint32_t w_base = (uint32_t)rr(0, cfg.w_words - ww);
    uint32_t p_base = (uint32_t)rr(0, cfg.p_words - nnfm_p_entries(&cfg, (uint32_t)n));
    conv_layer_load(&L, w_base, p_base);
    nnfdrv_conv c = conv_insn(&L, a_base, w_base, p_base, o_base);
    c.pool2 = 1;
    uint8_t prog[64];
    CHECK_EQ(nnfdrv_insn_conv(prog, &c), NNFDRV_OK);
    nnfdrv_insn_end(prog + 32);
    CHECK_EQ(nnfdrv_write(dev, NNFDRV_PROG, 0, prog, sizeof prog), NNFDRV_OK);
    /* the reference: the conv's int8 map, then its 2x2 maxima */
    CHECK_OK(nnfm_conv2d_ref(&L.a, x, L.w, L.bias, L.m0, L.shift, y));
    max2x2(y, g.b * n, oh, ow, yp);
    CHECK_OK(nnfm_engine_put_fmap(img, a_base, x, (uint32_t)g.b, (uint32_t)g.c, (uint32_t)g.h, (uint32_t)g.w));
    upload(NNFDRV_ACT, a_base, in_words);
    memcpy(before, img->act, act_bytes());
    /* the twin engine gets the same buffers */
    memcpy(e2->act, img->act, act_bytes());
    memcpy(e2->w, img->w, (size_t)cfg.w_words * cfg.cols);
    memcpy(e2->bias, img->bias, sizeof(int32_t) * cfg.p_words * cfg.cols);
    memcpy(e2->m0, img->m0, sizeof(int32_t) * cfg.p_words * cfg.cols);
    memcpy(e2->shift, img->shift, (size_t)cfg.p_words * cfg.cols);
    memcpy(e2->lut, lut, 256);
    nnfm_conv_cmd k = {0};
    memset(&k, 0, sizeof k);
    k.cin = (uint32_t)g.c, k.h = (uint32_t)g.h, k.w = (uint32_t)g.w, k.b = (uint32_t)g.b, k.n = (uint32_t)n;
    k.kh = (uint32_t)g.kh, k.kw = (uint32_t)g.kw, k.sh = (uint32_t)g.sh, k.sw = (uint32_t)g.sw;
    k.ph = (uint32_t)g.ph, k.pw = (uint32_t)g.pw, k.eh = (uint32_t)g.eh, k.ew = (uint32_t)g.ew;
    k.a_base = a_base, k.w_base = w_base, k.p_base = p_base, k.o_base = o_base;
    k.zp_in = ca.zp_in, k.zp = ca.out_zp, k.lo = lo, k.hi = hi, k.lut = ca.lut != NULL, k.pool2 = 1;
    CHECK_OK(nnfm_engine_conv_check(img, &k)); /* the device's buffers as the host sent them */
    uint64_t m0 = macs_now();
    run_and_read(act, 1);
    const uint64_t macs = 4ull * ph * pw * g.b * g.kh * g.kw * g.c * n;
    CHECK_EQ_U64(macs_now() - m0, macs);
    map_of(act, o_base, got, g.b, n, ph, pw);
    CHECK_MEM_EQ(got, yp, np);
    check_rest_of_act(before, act, o_base, out_words);
    for (uint64_t i = out_words - (uint64_t)ph * pw * g.b; i < out_words; i++) /* lanes of channels >= N: 0 */
      for (int r = n % cfg.rows ? n % cfg.rows : cfg.rows; r < cfg.rows; r++)
        CHECK_EQ(act[(o_base + i) * cfg.rows + r], 0);
    uint64_t m2 = 0;
    CHECK_OK(nnfm_engine_conv(e2, &k, &m2));
    CHECK_EQ_U64(m2, macs);
    CHECK_MEM_EQ(e2->act, act, act_bytes());
    memcpy(before, act, act_bytes());
    conv_layer_free(&L);
    free(x), free(y), free(yp), free(got);
  }
  nnf_test_ctx("");
  printf("pool2: %d CONVs with fused 2x2 max pooling (%d odd OH or OW, %d ragged tiles, %d over one "
         "accumulator block) against the references\n", cases, odd, ragged, multi);
  fflush(stdout);
  CHECK(odd > 0 && ragged > 0 && multi > 0);
  nnfm_engine_destroy(e2);
  free(before), free(act);
}

/* PACK's rule, written here from docs/conv.md: the kernel no wider than the
 * padded row and every output column's window reaching into the row; the
 * output width in *ow. */
static int pack_window_ok(int w, int kw, int sw, int pw, int ew, int *ow) {
  if (kw > w + 2 * pw + ew) return 0;
  *ow = (w + 2 * pw + ew - kw) / sw + 1;
  for (int ox = 0; ox < *ow; ox++) {
    int x0 = ox * sw - pw; /* the window: columns x0 .. x0 + kw - 1 */
    if (x0 + kw - 1 < 0 || x0 > w - 1) return 0;
  }
  return 1;
}

/* One random PACK on the driver's model device, drawn until the rule above
 * says want_ok: the input written as the dense bytes of docs/conv.md (and
 * nnfm_engine_put_dense checked to give the same bytes); accepted, the
 * packed map against the reference here, from the NCHW input, spare lanes
 * 0, the rest of ACT unchanged, no MACs; refused, BAD_INSN at pc 0 and ACT
 * untouched. before: ACT as the device holds it (kept up to date). Returns
 * 1 when Cin = rows. */
static int one_pack(int want_ok, uint8_t *before, uint8_t *act) {
  const uint32_t R = (uint32_t)cfg.rows;
  memcpy(img->act, before, act_bytes());
  int cin, h, w, b, kw, sw, pw, ew, ow = 1;
  do {
    cin = (int)rr(1, R), h = (int)rr(1, 11), w = (int)rr(1, 11), b = (int)rr(1, 3);
    kw = (int)rr(1, 7), sw = (int)rr(1, 4), pw = (int)rr(0, rr(0, 1) ? 7 : 2), ew = (int)rr(0, 1);
  } while (pack_window_ok(w, kw, sw, pw, ew, &ow) != want_ok);
  if (!want_ok) ow = 1; /* sizes for the bases only */
  const int cp = kw * cin;
  const uint64_t in_words = (uint64_t)h * w * b;
  const uint64_t out_words = (uint64_t)((cp + (int)R - 1) / (int)R) * h * ow * b;
  uint32_t a_base, o_base;
  rand_bases(in_words, out_words, &a_base, &o_base);
  nnf_test_ctx("PACK: cin %d, %d x %d, b %d, kw %d, sw %d, pw %d, ew %d, a %u (%llu words), o %u (%llu)", cin, h, w,
               b, kw, sw, pw, ew, a_base, (unsigned long long)in_words, o_base, (unsigned long long)out_words);
  /* the input, NCHW, and its dense bytes */
  size_t nx = (size_t)b * cin * h * w;
  int8_t *x = xmalloc(nx);
  rand_i8(x, nx);
  const uint32_t dw = nnfm_dense_words(&cfg, (uint32_t)cin, (uint32_t)h, (uint32_t)w, (uint32_t)b);
  CHECK_EQ(dw, (uint32_t)((nx + R - 1) / R));
  uint8_t *dense = calloc((size_t)dw * R, 1);
  CHECK(dense != NULL);
  for (int bi = 0; bi < b; bi++)
    for (int c = 0; c < cin; c++)
      for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++)
          dense[(((size_t)bi * h + y) * w + xx) * cin + c] = (uint8_t)x[(((size_t)bi * cin + c) * h + y) * w + xx];
  CHECK_OK(nnfm_engine_put_dense(img, a_base, x, (uint32_t)b, (uint32_t)cin, (uint32_t)h, (uint32_t)w));
  CHECK_MEM_EQ(img->act + (size_t)a_base * R, dense, (size_t)dw * R);
  upload(NNFDRV_ACT, a_base, dw);
  memcpy(before, img->act, act_bytes());
  nnfdrv_pack k;
  memset(&k, 0, sizeof k);
  k.cin = (uint16_t)cin, k.h = (uint16_t)h, k.w = (uint16_t)w, k.b = (uint16_t)b;
  k.kw = (uint8_t)kw, k.sw = (uint8_t)sw, k.pw = (uint8_t)pw, k.ew = (uint8_t)ew;
  k.a_base = a_base, k.o_base = o_base, k.zp_in = nnf_rng_i8(&rng);
  uint8_t prog[64];
  CHECK_EQ(nnfdrv_insn_pack(prog, &k), NNFDRV_OK);
  nnfdrv_insn_end(prog + 32);
  CHECK_EQ(nnfdrv_write(dev, NNFDRV_PROG, 0, prog, sizeof prog), NNFDRV_OK);
  uint64_t m0 = macs_now();
  if (!want_ok) {
    CHECK_EQ(nnfdrv_run(dev, 0), NNFDRV_OK);
    CHECK_EQ(nnfdrv_wait(dev), NNFDRV_OK);
    nnfdrv_state st;
    CHECK_EQ(nnfdrv_get_state(dev, &st), NNFDRV_OK);
    CHECK_EQ(st.last_error, NNFP_E_BAD_INSN);
    CHECK_EQ(st.pc, 0);
    CHECK_EQ(nnfdrv_read(dev, NNFDRV_ACT, 0, act, act_bytes()), NNFDRV_OK);
    CHECK_MEM_EQ(act, before, act_bytes());
  } else {
    run_and_read(act, 1);
    CHECK_EQ_U64(macs_now() - m0, 0);
    /* the reference: channel kx*Cin + c of pixel (y, ox, b) = X[b][c][y][ox*SW - PW + kx], zp_in outside */
    size_t ny = (size_t)b * cp * h * ow;
    int8_t *want = xmalloc(ny), *got = xmalloc(ny);
    for (int bi = 0; bi < b; bi++)
      for (int kx = 0; kx < kw; kx++)
        for (int c = 0; c < cin; c++)
          for (int y = 0; y < h; y++)
            for (int ox = 0; ox < ow; ox++) {
              int xx = ox * sw - pw + kx;
              want[(((size_t)bi * cp + kx * cin + c) * h + y) * ow + ox] =
                  xx < 0 || xx >= w ? k.zp_in : x[(((size_t)bi * cin + c) * h + y) * w + xx];
            }
    map_of(act, o_base, got, b, cp, h, ow);
    CHECK_MEM_EQ(got, want, ny);
    check_rest_of_act(before, act, o_base, out_words);
    /* the last tile's lanes of channels >= C' are 0 */
    const uint64_t m = (uint64_t)h * ow * b;
    for (uint64_t i = out_words - m; i < out_words; i++)
      for (int r = cp % (int)R ? cp % (int)R : (int)R; r < (int)R; r++) CHECK_EQ(act[(o_base + i) * R + r], 0);
    memcpy(before, act, act_bytes());
    free(want), free(got);
  }
  free(x), free(dense);
  nnf_test_ctx("");
  return cin == (int)R;
}

/* CASES random PACKs against the reference, then CASES / 8 the rule
 * refuses (the device's STATUS keeps its last error: refusals last). */
static void test_random_pack(int cases) {
  uint8_t *before = xmalloc(act_bytes()), *act = xmalloc(act_bytes());
  CHECK_EQ(nnfdrv_read(dev, NNFDRV_ACT, 0, before, act_bytes()), NNFDRV_OK);
  int full = 0;
  for (int t = 0; t < cases; t++) full += one_pack(1, before, act);
  for (int t = 0; t < cases / 8; t++) one_pack(0, before, act);
  printf("random: %d PACK instructions against the reference (%d with Cin = rows), %d refused as the rule says\n",
         cases, full, cases / 8);
  fflush(stdout);
  CHECK(full > 0);
  free(before), free(act);
}

/* ---- nnfm_device directly: refusals, FEAT_CONV off ------------------------------- */

/* A session with one model device: every answer byte kept. */
typedef struct {
  nnfm_device *d;
  uint8_t seq;
  uint8_t *log;
  size_t log_len, log_cap;
  nnfp_parser ans;
  uint8_t ans_pl[65536];
} sess;

static sess *sess_new(const nnfm_device_config *c) {
  sess *s = calloc(1, sizeof *s);
  CHECK(s != NULL);
  s->d = nnfm_device_create(c);
  CHECK(s->d != NULL);
  nnfp_parser_init(&s->ans, s->ans_pl, sizeof s->ans_pl);
  return s;
}

static void sess_free(sess *s) {
  nnfm_device_destroy(s->d);
  free(s->log);
  free(s);
}

/* One frame and its answer: the answer's type; its payload in s->ans_pl. */
static uint8_t sess_cmd(sess *s, uint8_t type, uint32_t arg, const uint8_t *pl, uint16_t len) {
  uint8_t *f = xmalloc(nnfp_frame_size(len));
  size_t n = nnfp_encode(f, type, ++s->seq, arg, pl, len);
  nnfm_device_rx(s->d, f, n);
  free(f);
  size_t pend = nnfm_device_tx_pending(s->d);
  if (s->log_len + pend > s->log_cap) {
    s->log_cap = 2 * (s->log_len + pend) + 4096;
    s->log = realloc(s->log, s->log_cap);
    CHECK(s->log != NULL);
  }
  const uint8_t *a = s->log + s->log_len;
  CHECK_EQ(nnfm_device_tx(s->d, s->log + s->log_len, pend), pend);
  s->log_len += pend;
  int frames = 0;
  for (size_t i = 0; i < pend; i++)
    if (nnfp_parse_byte(&s->ans, a[i]) == NNFP_PARSE_FRAME) frames++;
  CHECK_EQ(frames, 1);
  CHECK(s->ans.crc_ok);
  CHECK_EQ(s->ans.h.seq, s->seq);
  return s->ans.h.type;
}

static uint32_t region_arg(int region, uint32_t addr) {
  return nnfp_arg_with_region(nnfp_arg_with_addr(0, addr), (uint32_t)region);
}

static void sess_write(sess *s, int region, uint32_t addr, const uint8_t *b, size_t len, uint32_t maxp) {
  for (size_t i = 0; i < len; i += maxp) {
    uint16_t n = (uint16_t)(len - i < maxp ? len - i : maxp);
    CHECK_EQ(sess_cmd(s, NNFP_WRITE, region_arg(region, addr + (uint32_t)i), b + i, n), NNFP_OK(NNFP_WRITE));
  }
}

static void sess_read(sess *s, int region, uint32_t addr, uint8_t *b, size_t len, uint32_t maxp) {
  for (size_t i = 0; i < len; i += maxp) {
    uint8_t req[4];
    uint32_t n = (uint32_t)(len - i < maxp ? len - i : maxp);
    nnfp_read_req_put_count(req, n);
    CHECK_EQ(sess_cmd(s, NNFP_READ, region_arg(region, addr + (uint32_t)i), req, 4), NNFP_OK(NNFP_READ));
    CHECK_EQ(s->ans.h.len, n);
    memcpy(b + i, s->ans_pl, n);
  }
}

static void sess_status(sess *s, int *running, int *err, int *pc) {
  CHECK_EQ(sess_cmd(s, NNFP_STATUS, 0, NULL, 0), NNFP_OK(NNFP_STATUS));
  *running = (int)nnfp_status_get_running(s->ans_pl);
  *err = (int)nnfp_status_get_last_error(s->ans_pl);
  *pc = (int)nnfp_status_get_pc(s->ans_pl);
}

static nnfm_device_config small_cfg(int conv) {
  nnfm_device_config c = nnfm_device_config_default();
  c.engine.rows = c.engine.cols = 4;
  c.engine.act_words = 256;
  c.engine.w_words = 512;
  c.engine.p_words = 8;
  c.engine.acc_depth = 4; /* several M blocks per conv */
  c.prog_words = 8;
  c.max_payload = 256;
  c.state_words = 16;
  c.conv = conv;
  return c;
}

static const int regions_all[] = {NNFP_REGION_ACT, NNFP_REGION_W, NNFP_REGION_P, NNFP_REGION_LUT, NNFP_REGION_STATE};

static uint64_t region_bytes(const nnfm_device_config *c, int region) {
  if (region == NNFP_REGION_STATE) return (uint64_t)c->state_words * NNFP_STATE_BYTES;
  return nnfm_region_bytes(&c->engine, region);
}

/* The same buffers on a device: random ACT, W, LUT, STATE; valid random P,
 * except lane bad_lane of entry bad_entry (m0 = -1) when bad_entry >= 0. */
static void sess_fill(sess *s, const nnfm_device_config *c, uint64_t seed, int bad_entry, int bad_lane) {
  nnf_rng r = nnf_rng_seed(seed);
  for (int i = 0; i < 5; i++) {
    int reg = regions_all[i];
    uint64_t n = region_bytes(c, reg);
    uint8_t *b = xmalloc(n);
    if (reg == NNFP_REGION_P) {
      memset(b, 0, n);
      for (uint64_t slot = 0; slot < n / NNFP_P_BYTES; slot++) {
        uint8_t *e = b + slot * NNFP_P_BYTES;
        nnfp_p_put_bias(e, (int32_t)(nnf_rng_u32(&r) % 2001) - 1000);
        nnfp_p_put_m0(e, (int32_t)((1u << 30) + (nnf_rng_u32(&r) >> 2)));
        nnfp_p_put_shift(e, -(int32_t)(6 + nnf_rng_u32(&r) % 6));
        if ((int64_t)slot == (int64_t)bad_entry * c->engine.cols + bad_lane && bad_entry >= 0)
          nnfp_p_put_m0(e, -1);
      }
    } else if (reg == NNFP_REGION_STATE) {
      memset(b, 0, n); /* canonical entries: they read back as written */
    } else {
      nnf_rng_fill(&r, b, n);
    }
    sess_write(s, reg, 0, b, n, c->max_payload);
    free(b);
  }
}

/* All of a device's buffers (ACT, W, P, LUT, STATE) as READ returns them. */
static uint8_t *sess_dump(sess *s, const nnfm_device_config *c, size_t *len) {
  size_t total = 0;
  for (int i = 0; i < 5; i++) total += region_bytes(c, regions_all[i]);
  uint8_t *b = xmalloc(total);
  size_t at = 0;
  for (int i = 0; i < 5; i++) {
    size_t n = region_bytes(c, regions_all[i]);
    sess_read(s, regions_all[i], 0, b + at, n, c->max_payload);
    at += n;
  }
  *len = total;
  return b;
}

/* A small valid CONV and POOL on the 4x4 configuration (act 256 words). */
static nnfdrv_conv small_conv(void) {
  nnfdrv_conv c;
  memset(&c, 0, sizeof c);
  c.cin = 6, c.n = 5, c.h = 5, c.w = 4, c.b = 2, c.kh = 3, c.kw = 2, c.sh = 1, c.sw = 2;
  c.ph = 1, c.pw = 1;                     /* OH = 5, OW = 3: M = 30, CT = 2, NT = 2 */
  c.a_base = 10, c.w_base = 7, c.p_base = 1, c.o_base = 100;  /* in 80 words, out 60, W 96 */
  c.zp_in = -3, c.zp = 4, c.lo = -100, c.hi = 110, c.lut = 1;
  return c;
}

static nnfdrv_pool small_pool(void) {
  nnfdrv_pool p;
  memset(&p, 0, sizeof p);
  p.avg = 1, p.c = 6, p.h = 5, p.w = 4, p.b = 2, p.kh = 3, p.kw = 3, p.sh = 2, p.sw = 1;
  p.ph = 1, p.pw = 1;                     /* OH = 3, OW = 4: out 2*3*4*2 = 48 words */
  p.a_base = 10, p.o_base = 100, p.lo = -128, p.hi = 127;
  return p;
}

/* Program [GEMM, insn, GEMM, END] on a device, and [GEMM, END, GEMM, END] on a
 * twin: want 0 (insn accepted: it runs, STATUS pc 3), or the model's refusal
 * code (STATUS: BAD_INSN at pc 1, the buffers exactly the twin's). */
static void refusal_case_on(const nnfm_device_config *cfg_in, const char *what, const uint8_t insn[32], int want,
                            int bad_entry, int bad_lane) {
  nnf_test_ctx("refusal case %s", what);
  nnfm_device_config c = *cfg_in;
  sess *s = sess_new(&c), *t = sess_new(&c);
  sess_fill(s, &c, 99, bad_entry, bad_lane);
  sess_fill(t, &c, 99, bad_entry, bad_lane);
  uint8_t prog[2][4 * 32];
  nnfdrv_gemm g;
  memset(&g, 0, sizeof g);
  g.m = 3, g.k = 5, g.n = 4, g.a_base = 200, g.w_base = 300, g.p_base = 6, g.o_base = 220;
  g.lo = -128, g.hi = 127;
  for (int i = 0; i < 2; i++) {
    nnfdrv_insn_gemm(prog[i], &g);
    nnfdrv_insn_gemm(prog[i] + 64, &g);
    nnfdrv_insn_end(prog[i] + 96);
  }
  memcpy(prog[0] + 32, insn, 32);
  nnfdrv_insn_end(prog[1] + 32);
  sess_write(s, NNFP_REGION_PROG, 0, prog[0], sizeof prog[0], c.max_payload);
  sess_write(t, NNFP_REGION_PROG, 0, prog[1], sizeof prog[1], c.max_payload);
  nnfm_device_stats s0 = nnfm_device_get_stats(s->d);
  CHECK_EQ(sess_cmd(s, NNFP_RUN, 0, NULL, 0), NNFP_OK(NNFP_RUN));
  CHECK_EQ(sess_cmd(t, NNFP_RUN, 0, NULL, 0), NNFP_OK(NNFP_RUN));
  nnfm_device_stats s1 = nnfm_device_get_stats(s->d);
  int run, err, pc;
  sess_status(s, &run, &err, &pc);
  CHECK_EQ(run, 0);
  const int op = insn[0];
  if (want == 0) {
    CHECK_EQ(err, 0);
    CHECK_EQ(pc, 3);
    CHECK_EQ_U64(s1.refused_convs + s1.refused_pools + s1.refused_packs,
                 s0.refused_convs + s0.refused_pools + s0.refused_packs);
    CHECK_EQ_U64(s1.convs + s1.pools + s1.packs, s0.convs + s0.pools + s0.packs + 1);
  } else {
    CHECK_EQ(err, NNFP_E_BAD_INSN);
    CHECK_EQ(pc, 1);
    CHECK_EQ(s1.last_refusal, want);
    CHECK_EQ_U64(s1.refused_convs, s0.refused_convs + (op == NNFP_OP_CONV));
    CHECK_EQ_U64(s1.refused_pools, s0.refused_pools + (op == NNFP_OP_POOL));
    CHECK_EQ_U64(s1.refused_packs, s0.refused_packs + (op == NNFP_OP_PACK));
    CHECK_EQ_U64(s1.convs + s1.pools + s1.packs, s0.convs + s0.pools + s0.packs);
    sess_status(t, &run, &err, &pc); /* the twin stopped at its END there */
    CHECK_EQ(err, 0);
    CHECK_EQ(pc, 1);
    size_t na, nb;
    uint8_t *a = sess_dump(s, &c, &na), *b = sess_dump(t, &c, &nb);
    CHECK_EQ(na, nb);
    CHECK_MEM_EQ(a, b, na);
    free(a), free(b);
    /* the counters too: the same MACs (the first GEMM's), the same bytes */
    CHECK_EQ(sess_cmd(s, NNFP_COUNTERS, 0, NULL, 0), NNFP_OK(NNFP_COUNTERS));
    uint8_t ca[NNFP_COUNTERS_BYTES];
    memcpy(ca, s->ans_pl, sizeof ca);
    CHECK_EQ(sess_cmd(t, NNFP_COUNTERS, 0, NULL, 0), NNFP_OK(NNFP_COUNTERS));
    CHECK_MEM_EQ(ca, t->ans_pl, sizeof ca);
    /* RUN again from the refused instruction: refused again, nothing changes */
    CHECK_EQ(sess_cmd(s, NNFP_RUN, 1, NULL, 0), NNFP_OK(NNFP_RUN));
    sess_status(s, &run, &err, &pc);
    CHECK_EQ(err, NNFP_E_BAD_INSN);
    CHECK_EQ(pc, 1);
  }
  sess_free(s);
  sess_free(t);
  nnf_test_ctx("");
}

static void refusal_case(const char *what, const uint8_t insn[32], int want, int bad_entry, int bad_lane) {
  const nnfm_device_config c = small_cfg(1);
  refusal_case_on(&c, what, insn, want, bad_entry, bad_lane);
}

static void conv_case(const char *what, nnfdrv_conv c, int want) {
  uint8_t r[32];
  CHECK_EQ(nnfdrv_insn_conv(r, &c), NNFDRV_OK);
  refusal_case(what, r, want, -1, 0);
}

static void pool_case(const char *what, nnfdrv_pool p, int want) {
  uint8_t r[32];
  CHECK_EQ(nnfdrv_insn_pool(r, &p), NNFDRV_OK);
  refusal_case(what, r, want, -1, 0);
}

/* A small valid PACK on the 4x4 configuration: C' = 6 (CT' = 2), OW = 4,
 * M = 40; in: 40 words counted (20 of dense bytes), out: 80. */
static nnfdrv_pack small_pack(void) {
  nnfdrv_pack k;
  memset(&k, 0, sizeof k);
  k.cin = 2, k.h = 5, k.w = 4, k.b = 2, k.kw = 3, k.sw = 1, k.pw = 1;
  k.a_base = 10, k.o_base = 100, k.zp_in = -3;
  return k;
}

static void pack_case_on(const nnfm_device_config *c, const char *what, nnfdrv_pack k, int want) {
  uint8_t r[32];
  CHECK_EQ(nnfdrv_insn_pack(r, &k), NNFDRV_OK);
  refusal_case_on(c, what, r, want, -1, 0);
}

static void pack_case(const char *what, nnfdrv_pack k, int want) {
  const nnfm_device_config c = small_cfg(1);
  pack_case_on(&c, what, k, want);
}

/* PACK's refusals (nnfm_engine_pack_check): each field or extent that can
 * be wrong, and the accepted boundaries. */
static void test_pack_refusals(void) {
  const uint32_t A = small_cfg(1).engine.act_words;
  nnfdrv_pack k;
  uint8_t r[32];
  pack_case("pack valid", small_pack(), 0);
  k = small_pack(), k.cin = 4;
  pack_case("pack Cin = rows", k, 0);
  k.cin = 5;
  pack_case("pack Cin > rows", k, NNFM_ERR_RANGE);
  k = small_pack();
  CHECK_EQ(nnfdrv_insn_pack(r, &k), NNFDRV_OK);
  nnfp_pack_put_cin(r, 0);
  refusal_case("pack Cin 0", r, NNFM_ERR_RANGE, -1, 0);
  CHECK_EQ(nnfdrv_insn_pack(r, &k), NNFDRV_OK);
  nnfp_pack_put_kw(r, 0);
  refusal_case("pack KW 0", r, NNFM_ERR_RANGE, -1, 0);
  /* the kernel wider than the padded row, and exactly as wide */
  k = small_pack(), k.w = 1, k.kw = 4, k.pw = 1;
  pack_case("pack KW > W + 2PW", k, NNFM_ERR_RANGE);
  k.ew = 1;
  pack_case("pack KW == W + 2PW + EW", k, 0);
  /* an output column of padding only: the first (PW >= KW), the last (EW) */
  k = small_pack(), k.w = 2, k.kw = 1, k.pw = 1;
  pack_case("pack first column padding only", k, NNFM_ERR_RANGE);
  k.pw = 0, k.ew = 1;
  pack_case("pack last column padding only (EW)", k, NNFM_ERR_RANGE);
  k = small_pack(), k.w = 1, k.kw = 3, k.pw = 2;
  pack_case("pack edge columns with one tap", k, 0);
  /* extents: in 20 words (the dense bytes: 5*4*2 pixels of 2 bytes), out 80 */
  k = small_pack(), k.a_base = A - 20;
  pack_case("pack input ends at ACT's end", k, 0);
  k.a_base = A - 19;
  pack_case("pack input one word past ACT", k, NNFM_ERR_SHAPE);
  /* 15 bytes are 4 words: the last one partly used still counts */
  k = small_pack(), k.cin = 1, k.h = 5, k.w = 3, k.b = 1, k.a_base = A - 4;
  pack_case("pack input of 15 bytes ends at ACT's end", k, 0);
  k.a_base = A - 3;
  pack_case("pack input of 15 bytes, its last word past ACT", k, NNFM_ERR_SHAPE);
  k.a_base = 200, k.o_base = 203;
  pack_case("pack output on the partly used last input word", k, NNFM_ERR_SHAPE);
  k.o_base = 204;
  pack_case("pack output right after 15 input bytes", k, 0);
  k.a_base = 0xFFFFFFFFu;
  pack_case("pack a_base 2^32 - 1", k, NNFM_ERR_SHAPE);
  k = small_pack(), k.o_base = A - 80;
  pack_case("pack output ends at ACT's end", k, 0);
  k.o_base = A - 79;
  pack_case("pack output one word past ACT", k, NNFM_ERR_SHAPE);
  k = small_pack(), k.o_base = k.a_base + 19;
  pack_case("pack output on the input's last word", k, NNFM_ERR_SHAPE);
  k.o_base = k.a_base + 20;
  pack_case("pack output right after the input", k, 0);
  k = small_pack(), k.o_base = 0, k.a_base = 79;
  pack_case("pack input on the output's last word", k, NNFM_ERR_SHAPE);
  k = small_pack(), k.o_base = k.a_base;
  pack_case("pack in place", k, NNFM_ERR_SHAPE);
  /* a field refusal wins over an extent refusal */
  k = small_pack(), k.cin = 5, k.a_base = 0xFFFFFFFFu;
  pack_case("pack Cin > rows and a_base out", k, NNFM_ERR_RANGE);
  /* M = H*OW*B: 65535 runs, 65535 + 255 is refused (an ACT large enough for both) */
  nnfm_device_config big = small_cfg(1);
  big.engine.act_words = 1u << 18;
  big.max_payload = 16384;
  k = small_pack(), k.cin = 1, k.h = 255, k.w = 1, k.b = 257, k.kw = 1, k.pw = 0;
  k.a_base = 1024, k.o_base = 1024 + 66000;
  pack_case_on(&big, "pack M = 65535", k, 0);
  k.b = 258;
  pack_case_on(&big, "pack M = 65790", k, NNFM_ERR_SHAPE);
}

/* CONV with pool2's refusals (nnfm_engine_conv_check) and accepted
 * boundaries. small_conv: OH = 5, OW = 3, B = 2, CT = NT = 2, so the pooled
 * output is 2 x 1: Mp = 4, NT*Mp = 8 words (NT*M would be 60). */
static void test_pool2_refusals(void) {
  const uint32_t A = small_cfg(1).engine.act_words;
  nnfdrv_conv k = small_conv();
  k.pool2 = 1;
  conv_case("pool2 valid", k, 0);
  /* the output range is NT*Mp words */
  k.o_base = A - 8;
  conv_case("pool2 output ends at ACT's end", k, 0);
  k.o_base = A - 7;
  conv_case("pool2 output one word past ACT", k, NNFM_ERR_SHAPE);
  k = small_conv(), k.pool2 = 1, k.o_base = k.a_base + 79;
  conv_case("pool2 output on the input's last word", k, NNFM_ERR_SHAPE);
  k.o_base = k.a_base + 80;
  conv_case("pool2 output right after the input", k, 0);
  k = small_conv(), k.pool2 = 1, k.o_base = 0, k.a_base = 7;
  conv_case("pool2 input on the output's last word", k, NNFM_ERR_SHAPE);
  k.a_base = 8;
  conv_case("pool2 input right after the output", k, 0);
  /* OH or OW under 2: refused with pool2, run without */
  k = small_conv(), k.h = 2, k.kh = 2, k.ph = 0; /* OH = 1 */
  conv_case("conv OH 1", k, 0);
  k.pool2 = 1;
  conv_case("pool2 OH 1", k, NNFM_ERR_RANGE);
  k.h = 3; /* OH = 2 */
  conv_case("pool2 OH 2", k, 0);
  k = small_conv(), k.w = 2, k.kw = 2, k.pw = 0; /* OW = 1 */
  conv_case("conv OW 1", k, 0);
  k.pool2 = 1;
  conv_case("pool2 OW 1", k, NNFM_ERR_RANGE);
  k.sw = 1, k.w = 3, k.kw = 2; /* OW = 2 */
  conv_case("pool2 OW 2", k, 0);
  /* a field refusal wins over an extent refusal */
  k = small_conv(), k.pool2 = 1, k.h = 2, k.kh = 2, k.ph = 0, k.o_base = 0xFFFFFFFFu;
  conv_case("pool2 OH 1 and o_base out", k, NNFM_ERR_RANGE);
  /* the walk: 4*Mp rows. H = 3, W = 254, B = 129, a 1 x 1 kernel: M = 98298
   * rows unpooled (refused), 4*Mp = 4*(1*127*129) = 65532 pooled (runs);
   * W = 256, B = 128: 4*Mp = 65536, refused */
  nnfm_device_config big = small_cfg(1);
  big.engine.act_words = 1u << 18;
  big.max_payload = 16384;
  nnfdrv_conv w;
  memset(&w, 0, sizeof w);
  w.cin = 1, w.n = 1, w.h = 3, w.w = 254, w.b = 129, w.kh = w.kw = 1, w.sh = w.sw = 1;
  w.a_base = 1024, w.o_base = 1024 + 100000, w.w_base = 7, w.p_base = 1, w.lo = -128, w.hi = 127;
  uint8_t r[32];
  CHECK_EQ(nnfdrv_insn_conv(r, &w), NNFDRV_OK);
  refusal_case_on(&big, "conv M = 98298", r, NNFM_ERR_SHAPE, -1, 0);
  w.pool2 = 1;
  CHECK_EQ(nnfdrv_insn_conv(r, &w), NNFDRV_OK);
  refusal_case_on(&big, "pool2 4*Mp = 65532", r, 0, -1, 0);
  w.w = 256, w.b = 128, w.h = 2;
  CHECK_EQ(nnfdrv_insn_conv(r, &w), NNFDRV_OK);
  refusal_case_on(&big, "pool2 4*Mp = 65536", r, NNFM_ERR_SHAPE, -1, 0);
  /* pool2 beyond 0 / 1 (no record holds it): the engine's check */
  nnfm_engine *e = nnfm_engine_create(&big.engine);
  CHECK(e != NULL);
  nnfm_conv_cmd c = {0};
  memset(&c, 0, sizeof c);
  c.cin = 1, c.n = 1, c.h = 4, c.w = 4, c.b = 1, c.kh = c.kw = c.sh = c.sw = 1;
  c.a_base = 0, c.o_base = 100, c.lo = -128, c.hi = 127, c.pool2 = 1;
  e->m0[0] = 1 << 30;
  CHECK_OK(nnfm_engine_conv_check(e, &c));
  c.pool2 = 2;
  CHECK_EQ(nnfm_engine_conv_check(e, &c), NNFM_ERR_RANGE);
  uint64_t macs = 7;
  CHECK_EQ(nnfm_engine_conv(e, &c, &macs), NNFM_ERR_RANGE);
  CHECK_EQ_U64(macs, 7);
  nnfm_engine_destroy(e);
}

static void test_refusals(void) {
  const nnfm_device_config c = small_cfg(1);
  const uint32_t A = c.engine.act_words, Wd = c.engine.w_words, P = c.engine.p_words;
  nnfdrv_conv k;
  uint8_t r[32];
  /* accepted, as a baseline */
  conv_case("conv valid", small_conv(), 0);
  pool_case("pool valid", small_pool(), 0);
  /* fields the record holds but the device refuses */
  k = small_conv(), k.lo = 5, k.hi = 4;
  conv_case("conv lo > hi", k, NNFM_ERR_RANGE);
  k = small_conv(), k.lo = k.hi = 4;
  conv_case("conv lo == hi", k, 0);
  /* KH, KW, Cin, N of 0: the encoder refuses them, so write the raw bits */
  const char *zero_names[] = {"conv KH 0", "conv KW 0", "conv Cin 0", "conv N 0"};
  for (int f = 0; f < 4; f++) {
    nnfdrv_conv v = small_conv();
    CHECK_EQ(nnfdrv_insn_conv(r, &v), NNFDRV_OK);
    if (f == 0) nnfp_conv_put_kh(r, 0);
    if (f == 1) nnfp_conv_put_kw(r, 0);
    if (f == 2) nnfp_conv_put_cin(r, 0);
    if (f == 3) nnfp_conv_put_n(r, 0);
    refusal_case(zero_names[f], r, NNFM_ERR_RANGE, -1, 0);
  }
  /* kernel larger than the padded input, and exactly as large */
  k = small_conv(), k.h = 2, k.kh = 5, k.ph = 1;
  conv_case("conv KH > H + 2PH", k, NNFM_ERR_RANGE);
  k.eh = 1;
  conv_case("conv KH == H + 2PH + EH", k, 0);
  k = small_conv(), k.w = 1, k.kw = 4, k.pw = 1;
  conv_case("conv KW > W + 2PW", k, NNFM_ERR_RANGE);
  k.ew = 1;
  conv_case("conv KW == W + 2PW + EW", k, 0);
  /* extents: with CT = 2, NT = 2, M = 30: in 80 words, out 60, W 96, P 2 */
  k = small_conv(), k.a_base = A - 80;
  conv_case("conv input ends at ACT's end", k, 0);
  k.a_base = A - 79;
  conv_case("conv input one word past ACT", k, NNFM_ERR_SHAPE);
  k.a_base = 0xFFFFFFFFu;
  conv_case("conv a_base 2^32 - 1 (no wrap)", k, NNFM_ERR_SHAPE);
  k = small_conv(), k.o_base = A - 60;
  conv_case("conv output ends at ACT's end", k, 0);
  k.o_base = A - 59;
  conv_case("conv output one word past ACT", k, NNFM_ERR_SHAPE);
  k = small_conv(), k.o_base = k.a_base + 79;
  conv_case("conv output on the input's last word", k, NNFM_ERR_SHAPE);
  k.o_base = k.a_base + 80;
  conv_case("conv output right after the input", k, 0);
  k = small_conv(), k.o_base = 0, k.a_base = 60 - 1;
  conv_case("conv input on the output's last word", k, NNFM_ERR_SHAPE);
  k = small_conv(), k.w_base = Wd - 96;
  conv_case("conv weights end at W's end", k, 0);
  k.w_base = Wd - 95;
  conv_case("conv weights one word past W", k, NNFM_ERR_SHAPE);
  k.w_base = 0xFFFFFFF0u;
  conv_case("conv w_base near 2^32", k, NNFM_ERR_SHAPE);
  k = small_conv(), k.p_base = P - 2;
  conv_case("conv P ends at P's end", k, 0);
  k.p_base = P - 1;
  conv_case("conv P one entry past", k, NNFM_ERR_SHAPE);
  /* an invalid (m0, shift) in a used lane refuses; in an unused lane (n >= N) not */
  k = small_conv();
  CHECK_EQ(nnfdrv_insn_conv(r, &k), NNFDRV_OK);
  refusal_case("conv P lane 0 of entry 2 invalid", r, NNFM_ERR_RANGE, 2, 0); /* N = 5: lane 4 of the pair */
  refusal_case("conv P lane 1 of entry 2 invalid (unused)", r, 0, 2, 1);
  refusal_case("conv P lane 3 of entry 1 invalid", r, NNFM_ERR_RANGE, 1, 3);
  refusal_case("conv P of another entry invalid", r, 0, 5, 0);
  /* the order: a field refusal wins over an extent refusal */
  k = small_conv(), k.lo = 1, k.hi = 0, k.a_base = 0xFFFFFFFFu;
  conv_case("conv lo > hi and a_base out", k, NNFM_ERR_RANGE);

  nnfdrv_pool p;
  for (int avg = 0; avg < 2; avg++) {
    p = small_pool(), p.avg = avg, p.lo = 3, p.hi = 2;
    pool_case(avg ? "avgpool lo > hi" : "maxpool lo > hi", p, NNFM_ERR_RANGE);
    /* a window of padding only: H = 2, KH 1, PH 1 (the first output row) */
    p = small_pool(), p.avg = avg, p.h = 2, p.kh = 1, p.ph = 1;
    pool_case(avg ? "avgpool empty window" : "maxpool empty window", p, NNFM_ERR_RANGE);
    p.ph = 0, p.eh = 1; /* the extra row below alone: OH = 2, the last row empty */
    pool_case(avg ? "avgpool empty window (EH)" : "maxpool empty window (EH)", p, NNFM_ERR_RANGE);
    p = small_pool(), p.avg = avg, p.h = 2, p.kh = 3, p.ph = 1, p.sh = 1;
    pool_case(avg ? "avgpool edge windows" : "maxpool edge windows", p, 0);
    p = small_pool(), p.avg = avg, p.h = 1, p.kh = 4, p.ph = 1;
    pool_case(avg ? "avgpool KH > H + 2PH" : "maxpool KH > H + 2PH", p, NNFM_ERR_RANGE);
  }
  p = small_pool(), p.a_base = A - 80;
  pool_case("pool input ends at ACT's end", p, 0);
  p.a_base = A - 79;
  pool_case("pool input one word past ACT", p, NNFM_ERR_SHAPE);
  p = small_pool(), p.o_base = A - 48;
  pool_case("pool output ends at ACT's end", p, 0);
  p.o_base = A - 47;
  pool_case("pool output one word past ACT", p, NNFM_ERR_SHAPE);
  p.o_base = 0xFFFFFFFFu;
  pool_case("pool o_base 2^32 - 1", p, NNFM_ERR_SHAPE);
  p = small_pool(), p.o_base = p.a_base + 79;
  pool_case("pool output on the input's last word", p, NNFM_ERR_SHAPE);
  p = small_pool(), p.o_base = p.a_base;
  pool_case("pool in place", p, NNFM_ERR_SHAPE);
  p = small_pool();
  CHECK_EQ(nnfdrv_insn_pool(r, &p), NNFDRV_OK);
  nnfp_pool_put_c(r, 0);
  refusal_case("pool C 0", r, NNFM_ERR_RANGE, -1, 0);
  CHECK_EQ(nnfdrv_insn_pool(r, &p), NNFDRV_OK);
  nnfp_pool_put_kw(r, 0);
  refusal_case("pool KW 0", r, NNFM_ERR_RANGE, -1, 0);
}

/* FEAT_CONV off: CONV and POOL stop the program like an unknown opcode and
 * like END; with it on they run. */
static void test_feat_off(void) {
  const nnfm_device_config on = small_cfg(1), off = small_cfg(0);
  /* INFO: only the feature bits CONV, PACK, CONV_POOL and DW (the depthwise unit needs CONV) differ */
  sess *a = sess_new(&on), *b = sess_new(&off);
  const uint32_t both = NNFP_FEAT_CONV | NNFP_FEAT_PACK | NNFP_FEAT_CONV_POOL | NNFP_FEAT_DW;
  CHECK_EQ(sess_cmd(a, NNFP_INFO, 0, NULL, 0), NNFP_OK(NNFP_INFO));
  CHECK_EQ(sess_cmd(b, NNFP_INFO, 0, NULL, 0), NNFP_OK(NNFP_INFO));
  CHECK_EQ(nnfp_info_get_features(a->ans_pl) & both, both);
  CHECK_EQ(nnfp_info_get_features(b->ans_pl) & both, 0);
  uint8_t ia[NNFP_INFO_BYTES];
  memcpy(ia, a->ans_pl, sizeof ia);
  nnfp_info_put_features(ia, nnfp_info_get_features(ia) & ~both);
  CHECK_MEM_EQ(ia, b->ans_pl, NNFP_INFO_BYTES);
  sess_free(a), sess_free(b);
  /* the default configuration mirrors the RTL's (HAS_CONV = 1); a bad flag is refused */
  nnfm_device_config d = nnfm_device_config_default();
  CHECK_EQ(d.conv, 1);
  d.conv = 2;
  CHECK(nnfm_device_create(&d) == NULL);

  uint8_t ins[3][32];
  static const char *const names[3] = {"CONV", "POOL", "PACK"};
  nnfdrv_conv k = small_conv();
  nnfdrv_pool p = small_pool();
  nnfdrv_pack q = small_pack();
  CHECK_EQ(nnfdrv_insn_conv(ins[0], &k), NNFDRV_OK);
  CHECK_EQ(nnfdrv_insn_pool(ins[1], &p), NNFDRV_OK);
  CHECK_EQ(nnfdrv_insn_pack(ins[2], &q), NNFDRV_OK);
  for (int which = 0; which < 3; which++) {
    nnf_test_ctx("FEAT_CONV off, %s", names[which]);
    /* four sessions, the same requests but the instruction at pc 1: the
     * CONV / POOL (conv off), an unknown opcode, END, and the CONV / POOL
     * on a device with conv on */
    const int n = 4;
    sess *s[4];
    uint8_t op[4] = {ins[which][0], 0x7E, NNFP_OP_END, ins[which][0]};
    for (int i = 0; i < n; i++) {
      s[i] = sess_new(i == 3 ? &on : &off);
      sess_fill(s[i], &off, 7, -1, 0);
      uint8_t prog[3 * 32];
      nnfdrv_gemm g;
      memset(&g, 0, sizeof g);
      g.m = 2, g.k = 4, g.n = 4, g.a_base = 200, g.w_base = 300, g.p_base = 6, g.o_base = 220;
      g.lo = -128, g.hi = 127;
      nnfdrv_insn_gemm(prog, &g);
      memcpy(prog + 32, ins[which], 32);
      prog[32] = op[i];
      nnfdrv_insn_gemm(prog + 64, &g); /* runs only if the program goes on */
      sess_write(s[i], NNFP_REGION_PROG, 0, prog, sizeof prog, off.max_payload);
      CHECK_EQ(sess_cmd(s[i], NNFP_RUN, 0, NULL, 0), NNFP_OK(NNFP_RUN));
      int run, err, pc;
      sess_status(s[i], &run, &err, &pc);
      CHECK_EQ(run, 0);
      CHECK_EQ(err, 0);
      CHECK_EQ(pc, i == 3 ? 3 : 1); /* conv on: runs on to the END (zeros) at 3 */
      size_t len;
      uint8_t *dump = sess_dump(s[i], &off, &len);
      free(dump);
      CHECK_EQ(sess_cmd(s[i], NNFP_COUNTERS, 0, NULL, 0), NNFP_OK(NNFP_COUNTERS));
    }
    /* conv off: every answer byte the same for the three */
    for (int i = 1; i < 3; i++) {
      CHECK_EQ(s[i]->log_len, s[0]->log_len);
      CHECK_MEM_EQ(s[i]->log, s[0]->log, s[0]->log_len);
    }
    nnfm_device_stats st = nnfm_device_get_stats(s[0]->d);
    CHECK_EQ_U64(st.convs + st.pools + st.packs + st.refused_convs + st.refused_pools + st.refused_packs, 0);
    st = nnfm_device_get_stats(s[3]->d);
    CHECK_EQ_U64(which == 2 ? st.packs : which ? st.pools : st.convs, 1);
    /* and conv on differs: the instruction ran (its output region changed) */
    CHECK(s[3]->log_len != s[0]->log_len || memcmp(s[3]->log, s[0]->log, s[0]->log_len) != 0);
    for (int i = 0; i < n; i++) sess_free(s[i]);
  }
  nnf_test_ctx("");
}

int main(int argc, char **argv) {
  int cases = argc > 1 ? atoi(argv[1]) : 300;
  uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 14;
  rng = nnf_rng_seed(seed);
  test_encoders();

  char err[256];
  int rc = nnfdrv_open("model", &dev, err, sizeof err);
  if (rc != NNFDRV_OK) {
    fprintf(stderr, "cannot open model: %s\n", err);
    return 1;
  }
  const nnfdrv_info *in = nnfdrv_get_info(dev);
  CHECK(in->features & NNFP_FEAT_CONV);
  cfg.rows = in->rows, cfg.cols = in->cols, cfg.act_words = in->act_words;
  cfg.w_words = in->w_words, cfg.p_words = in->p_words, cfg.acc_depth = in->acc_depth;
  img = nnfm_engine_create(&cfg);
  CHECK(img != NULL);
  test_cnn_program();
  test_random(cases);
  test_random_pool2(cases);
  test_random_pack(cases); /* its refused PACKs last: STATUS keeps BAD_INSN as the last error */
  nnfm_engine_destroy(img);
  nnfdrv_close(dev);

  test_refusals();
  test_pack_refusals();
  test_pool2_refusals();
  test_feat_off();
  return nnf_test_done(argv[0]);
}
