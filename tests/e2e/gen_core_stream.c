/*
 * gen_core_stream.c - a byte stream for nnf_core and the answers the
 * functional model (nnfm_device) gives to it, as hex files for the Icarus
 * testbench tb_core_icarus.v: the same device in a second simulator.
 *
 *   gen_core_stream SEED STIM.hex EXPECT.hex
 *
 * The stream: INFO, buffers written, a two-layer GEMM program (ragged edges,
 * the LUT), RUN, WAIT, READ of both layers' outputs, STATUS, a spiking
 * program (LIF, GEMM, LIF in place, LOOP; random LIF parameters, host-written
 * state bytes) with READs of its spikes and STATE entries, a frame with a
 * damaged payload, garbage with sync bytes in it, INFO again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfdrv.h"
#include "nnf_proto.h"
#include "nnfm_device.h"

static uint8_t stim[1 << 20];
static size_t nstim;
static uint8_t seq;

static void frame(uint8_t type, uint32_t arg, const void *pl, uint16_t len) {
  nstim += nnfp_encode(stim + nstim, type, ++seq, arg, pl, len);
}

static void write_region(int region, uint32_t addr, const uint8_t *p, size_t len) {
  while (len > 0) {
    uint16_t chunk = (uint16_t)(len > 1000 ? 1000 : len);
    frame(NNFP_WRITE, ((uint32_t)region << NNFP_ARG_REGION_LSB) | addr, p, chunk);
    p += chunk;
    addr += chunk;
    len -= chunk;
  }
}

static void read_region(int region, uint32_t addr, uint32_t len) {
  uint8_t c[4];
  nnfp_put32(c, len);
  frame(NNFP_READ, ((uint32_t)region << NNFP_ARG_REGION_LSB) | addr, c, 4);
}

static void dump(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(1);
  }
  for (size_t i = 0; i < n; i++) fprintf(f, "%02x\n", p[i]);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: gen_core_stream SEED STIM.hex EXPECT.hex\n");
    return 2;
  }
  nnf_rng r = nnf_rng_seed(strtoull(argv[1], NULL, 0));
  nnfm_device_config cfg = nnfm_device_config_default();
  nnfm_device *dev = nnfm_device_create(&cfg);
  nnfm_engine *img = nnfm_engine_create(&cfg.engine);
  CHECK(dev && img);
  const nnfm_config *c = &cfg.engine;

  frame(NNFP_INFO, 0, NULL, 0);
  /* layer 1: 13 x 45 -> 21 ; layer 2: 13 x 21 -> 7 with the LUT */
  const int M = 13, K1 = 45, N1 = 21, N2 = 7;
  int8_t a[13 * 45], w1[45 * 21], w2[21 * 7];
  int32_t b1[21], m1[21], b2[7], m2[7];
  int8_t s1[21], s2[7], lut[256];
  nnf_rng_fill(&r, a, sizeof a);
  for (size_t i = 0; i < sizeof w1; i++) w1[i] = (int8_t)nnf_rng_range(&r, -127, 127);
  for (size_t i = 0; i < sizeof w2; i++) w2[i] = (int8_t)nnf_rng_range(&r, -127, 127);
  for (int j = 0; j < N1; j++) {
    b1[j] = (int32_t)nnf_rng_range(&r, -30000, 30000);
    m1[j] = (int32_t)nnf_rng_range(&r, 1 << 30, 0x7FFFFFFF);
    s1[j] = (int8_t)nnf_rng_range(&r, -10, 0);
  }
  for (int j = 0; j < N2; j++) {
    b2[j] = (int32_t)nnf_rng_range(&r, -3000, 3000);
    m2[j] = (int32_t)nnf_rng_range(&r, 1 << 30, 0x7FFFFFFF);
    s2[j] = (int8_t)nnf_rng_range(&r, -8, 0);
  }
  nnf_rng_fill(&r, lut, sizeof lut);
  uint32_t h0 = nnfm_act_words(c, M, K1), o0 = h0 + nnfm_act_words(c, M, N1);
  uint32_t w2b = nnfm_w_words(c, K1, N1), p2 = nnfm_p_entries(c, N1);
  CHECK_OK(nnfm_engine_put_act(img, 0, a, M, K1));
  CHECK_OK(nnfm_engine_put_weights(img, 0, w1, K1, N1));
  CHECK_OK(nnfm_engine_put_weights(img, w2b, w2, N1, N2));
  CHECK_OK(nnfm_engine_put_params(img, 0, b1, m1, s1, N1));
  CHECK_OK(nnfm_engine_put_params(img, p2, b2, m2, s2, N2));
  memcpy(img->lut, lut, 256);
  static uint8_t buf[65536];
  size_t n;
  n = (size_t)h0 * c->rows;
  CHECK_OK(nnfm_engine_read_bytes(img, 0, 0, buf, n));
  write_region(NNFDRV_ACT, 0, buf, n);
  n = (size_t)(w2b + nnfm_w_words(c, N1, N2)) * c->cols;
  CHECK_OK(nnfm_engine_read_bytes(img, 1, 0, buf, n));
  write_region(NNFDRV_W, 0, buf, n);
  n = (size_t)(p2 + nnfm_p_entries(c, N2)) * c->cols * 16;
  CHECK_OK(nnfm_engine_read_bytes(img, 2, 0, buf, n));
  write_region(NNFDRV_P, 0, buf, n);
  write_region(NNFDRV_LUT, 0, (const uint8_t *)lut, 256);

  uint8_t prog[3 * 32];
  nnfdrv_gemm g1 = {(uint16_t)M, (uint16_t)K1, (uint16_t)N1, 0, 0, 0, h0, -3, -3, 127, 0, NNFM_ROUND_SINGLE};
  nnfdrv_gemm g2 = {(uint16_t)M, (uint16_t)N1, (uint16_t)N2, h0, w2b, p2, o0, 5, -100, 100, 1, NNFM_ROUND_SINGLE};
  nnfdrv_insn_gemm(prog, &g1);
  nnfdrv_insn_gemm(prog + 32, &g2);
  nnfdrv_insn_end(prog + 64);
  write_region(NNFDRV_PROG, 0, prog, sizeof prog);
  frame(NNFP_RUN, 0, NULL, 0);
  frame(NNFP_WAIT, 0, NULL, 0);
  read_region(NNFDRV_ACT, h0 * c->rows, (o0 + nnfm_act_words(c, M, N2) - h0) * c->rows);
  frame(NNFP_STATUS, 0, NULL, 0);

  /* A spiking program at instruction 4: layer 1's output as the currents of
   * 13 x 21 LIF neurons, their spikes through layer 2's weights into 13 x 7
   * LIF neurons (spikes in place); 5 time steps. */
  {
    uint32_t sp1 = o0 + nnfm_act_words(c, M, N2) + 3, c2 = sp1 + nnfm_act_words(c, M, N1);
    uint32_t st1 = 5, st2 = 600;
    uint8_t st[64 * 16];
    nnf_rng_fill(&r, st, sizeof st);
    write_region(NNFDRV_STATE, st1 * 16, st, sizeof st); /* cleared by the first step */
    nnfdrv_lif l1, l2;
    memset(&l1, 0, sizeof l1);
    l1.m = (uint16_t)M;
    l1.n = (uint16_t)N1;
    l1.a_base = h0;
    l1.o_base = sp1;
    l1.s_base = st1;
    l1.du = (uint16_t)nnf_rng_range(&r, 0, 4095);
    l1.dv = (uint16_t)nnf_rng_range(&r, 0, 4095);
    l1.vth = (int32_t)nnf_rng_range(&r, 0, 60);
    l1.bias_mant = (int16_t)nnf_rng_range(&r, -4096, 4095);
    l1.bias_exp = (uint8_t)nnf_rng_range(&r, 0, 3);
    l1.reset_sub = 1;
    l1.refractory = 2;
    l1.count = 1;
    l2 = l1;
    l2.n = (uint16_t)N2;
    l2.a_base = l2.o_base = c2;
    l2.s_base = st2;
    l2.du = 4095;
    l2.reset_sub = 0;
    l2.refractory = 0;
    nnfdrv_gemm gs = {(uint16_t)M, (uint16_t)N1, (uint16_t)N2, sp1, w2b, p2, c2, 0, -128, 127, 0, NNFM_ROUND_SINGLE};
    uint8_t sp[8 * 32];
    l1.clear = l2.clear = 1;
    CHECK_OK(nnfdrv_insn_lif(sp, &l1));
    nnfdrv_insn_gemm(sp + 32, &gs);
    CHECK_OK(nnfdrv_insn_lif(sp + 64, &l2));
    l1.clear = l2.clear = 0;
    CHECK_OK(nnfdrv_insn_lif(sp + 96, &l1));
    nnfdrv_insn_gemm(sp + 128, &gs);
    CHECK_OK(nnfdrv_insn_lif(sp + 160, &l2));
    CHECK_OK(nnfdrv_insn_loop(sp + 192, 4 + 3, 4));
    nnfdrv_insn_end(sp + 224);
    write_region(NNFDRV_PROG, 4 * 32, sp, sizeof sp);
    frame(NNFP_RUN, 4, NULL, 0);
    frame(NNFP_WAIT, 0, NULL, 0);
    read_region(NNFDRV_ACT, sp1 * c->rows, (c2 + nnfm_act_words(c, M, N2) - sp1) * c->rows);
    read_region(NNFDRV_STATE, st1 * 16, (uint32_t)(M * N1) * 16);
    read_region(NNFDRV_STATE, st2 * 16, (uint32_t)(M * N2) * 16);
    frame(NNFP_STATUS, 0, NULL, 0);
  }
  /* a damaged payload: ERR BAD_CRC */
  uint8_t junk[40];
  nnf_rng_fill(&r, junk, sizeof junk);
  size_t at = nstim;
  frame(NNFP_WRITE, 7u * 8u, junk, sizeof junk);
  stim[at + 20] ^= 0x01;
  /* garbage, sync bytes included */
  for (int i = 0; i < 300; i++) {
    uint8_t g = (uint8_t)nnf_rng_u32(&r);
    if (i % 37 == 0) g = 0xA5;
    if (i % 37 == 1) g = 0x5A;
    stim[nstim++] = g;
  }
  /* enough padding for a header swallowed by garbage to end, then INFO */
  memset(stim + nstim, 0, 16);
  nstim += 16;
  frame(NNFP_INFO, 0, NULL, 0);
  read_region(NNFDRV_PROG, 0, 96);

  nnfm_device_rx(dev, stim, nstim);
  static uint8_t expect[1 << 20];
  size_t nexp = nnfm_device_tx(dev, expect, sizeof expect);
  dump(argv[2], stim, nstim);
  dump(argv[3], expect, nexp);
  printf("%zu bytes in, %zu bytes of answers expected\n", nstim, nexp);
  nnfm_engine_destroy(img);
  nnfm_device_destroy(dev);
  return 0;
}
