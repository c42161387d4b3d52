/*
 * test_ft245_link.c - nnf_ft245 + nnf_core (tb_ft245_core.v, Verilated)
 * against a cycle-level C model of an FT2232H / FT232H in synchronous FIFO
 * mode. The model offers the host's bytes on RXF# / the bus and takes the
 * device's on TXE# / WR#, with random gaps on both (USB packets, a host that
 * is slow to read); it checks the bus protocol every cycle (nobody drives
 * the bus twice, data only moves when RD#/WR# meet RXF#/TXE#), and every
 * answer must equal the functional model's byte for byte. Unlike a UART the
 * FIFO link has flow control, so a third run queues the whole conversation
 * at once: the device holds RD# high while it answers, nothing is lost.
 *
 *   test_ft245_link [SEED]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfb_session.h"
#include "nnfb_sim.h"

typedef struct {
  nnfb_ft245 *dut;
  nnf_rng r;
  int gaps;                 /* 1: RXF#/TXE# drop out at random */
  const uint8_t *q;         /* host -> device bytes not yet taken */
  size_t nq;
  int ft_drives;            /* the bridge drives the bus this cycle (OE# seen low) */
  uint8_t got[NNFB_CHUNK_MAX * NNFB_MAX_CHUNKS];
  size_t ngot;
  uint64_t cyc;
  int rxf_hold, txe_hold;   /* cycles left in a random gap */
} bridge;

static void tick(bridge *b) {
  nnfb_ft245_out o = nnfb_ft245_outputs(b->dut);
  nnfb_ft245_in in;
  if (b->gaps && b->rxf_hold == 0 && nnf_rng_range(&b->r, 0, 40) == 0)
    b->rxf_hold = (int)nnf_rng_range(&b->r, 1, 20);
  if (b->gaps && b->txe_hold == 0 && nnf_rng_range(&b->r, 0, 40) == 0)
    b->txe_hold = (int)nnf_rng_range(&b->r, 1, 20);
  in.rxf_n = (b->nq == 0 || b->rxf_hold > 0);
  in.txe_n = (b->txe_hold > 0);
  in.d_in = b->ft_drives && b->nq ? b->q[0] : 0xEE;
  CHECK(!(o.d_oe && b->ft_drives));              /* bus contention */
  /* transfers at this edge */
  if (!o.rd_n && !in.rxf_n) {
    CHECK(b->ft_drives);                         /* OE# was low a cycle before */
    b->q++;
    b->nq--;
  }
  if (!o.wr_n && !in.txe_n) {
    CHECK(o.d_oe);
    CHECK(b->ngot < sizeof b->got);
    b->got[b->ngot++] = (uint8_t)o.d_out;
  }
  b->ft_drives = !o.oe_n;
  nnfb_ft245_step(b->dut, &in);
  if (b->rxf_hold) b->rxf_hold--;
  if (b->txe_hold) b->txe_hold--;
  b->cyc++;
}

/* Everything queued at once; the answers must be the concatenation. */
static void run_pipelined(uint64_t seed) {
  static nnfb_session s;
  static uint8_t in[NNFB_CHUNK_MAX * NNFB_MAX_CHUNKS], want[NNFB_CHUNK_MAX * NNFB_MAX_CHUNKS];
  static bridge b;
  nnfb_session_build(&s, seed);
  size_t nin = 0, nwant = 0;
  for (int i = 0; i < s.n; i++) {
    memcpy(in + nin, s.c[i].in, s.c[i].nin);
    nin += s.c[i].nin;
    memcpy(want + nwant, s.c[i].out, s.c[i].nout);
    nwant += s.c[i].nout;
  }
  memset(&b, 0, sizeof b);
  b.dut = nnfb_ft245_create();
  CHECK(b.dut != NULL);
  b.r = nnf_rng_seed(seed ^ 0xf1f0);
  b.gaps = 1;
  b.q = in;
  b.nq = nin;
  nnf_test_ctx("pipelined seed %llu", (unsigned long long)seed);
  while ((b.nq > 0 || b.ngot < nwant) && b.cyc < 2000000) tick(&b);
  for (int k = 0; k < 200; k++) tick(&b);
  CHECK_EQ(b.nq, 0);
  CHECK_EQ(b.ngot, nwant);
  CHECK_MEM_EQ(b.got, want, nwant);
  printf("ft245 pipelined  %3d frames queued at once, %5zu answer bytes identical, %7llu cycles\n",
         s.n, nwant, (unsigned long long)b.cyc);
  nnfb_ft245_destroy(b.dut);
  nnfm_device_destroy(s.dev);
}

static void run(uint64_t seed, int gaps) {
  static nnfb_session s;
  nnfb_session_build(&s, seed);
  static bridge b;
  memset(&b, 0, sizeof b);
  b.dut = nnfb_ft245_create();
  CHECK(b.dut != NULL);
  b.r = nnf_rng_seed(seed ^ 0x5eed);
  b.gaps = gaps;
  size_t total = 0;
  for (int i = 0; i < s.n; i++) {
    nnf_test_ctx("seed %llu gaps %d: chunk %d of %d", (unsigned long long)seed, gaps, i, s.n);
    b.q = s.c[i].in;
    b.nq = s.c[i].nin;
    b.ngot = 0;
    const uint64_t limit = b.cyc + 200000;
    while ((b.nq > 0 || b.ngot < s.c[i].nout) && b.cyc < limit) tick(&b);
    for (int k = 0; k < 200; k++) tick(&b);      /* nothing more may come */
    CHECK_EQ(b.nq, 0);
    CHECK_EQ(b.ngot, s.c[i].nout);
    CHECK_MEM_EQ(b.got, s.c[i].out, s.c[i].nout);
    total += b.ngot;
  }
  printf("ft245 %-10s %3d chunks, %5zu answer bytes identical to the model, %7llu cycles\n",
         gaps ? "with gaps" : "no gaps", s.n, total, (unsigned long long)b.cyc);
  nnfb_ft245_destroy(b.dut);
  nnfm_device_destroy(s.dev);
}

int main(int argc, char **argv) {
  const uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
  run(seed, 0);
  run(seed + 1, 1);
  run_pipelined(seed + 2);
  return nnf_test_done(argv[0]);
}
