/*
 * test_board_uart.c - one shipped board's whole top (nnfb_board.h: the
 * board's reset, nnf_dev_uart, nnf_core, with the parameters of its
 * bitstream) against a bit-level UART peer in C at the board's rate
 * (CLOCK_HZ / BAUD clocks per bit, BAUD = the tops' default 3 Mbaud), on a
 * seeded random workload (nnfb_work.h): every answer equal to the
 * functional model's, byte for byte; one frame cut short (the top's
 * TIMEOUT); the error light off throughout.
 *
 *   test_board_uart [SEED [BUDGET_BYTES [MAX_DIM]]]
 *   test_board_uart speed     WRITE frames of the largest payload the ACT
 *                             region and MAX_PAYLOAD allow, each answered before
 *                             the next goes (the driver's stop and wait), then
 *                             READs: protocol payload bytes per second at the
 *                             board's clock, printed (and as JSON, bench.json's
 *                             uart_link through bench/usb_link.py)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfb_board.h"
#include "nnfb_work.h"

enum { NNFB_BAUD = 3000000 }; /* the board tops' BAUD default (docs/boards) */

typedef struct {
  nnfb_board *dut;
  unsigned div;       /* clocks per bit */
  uint64_t cyc;
  int txd;            /* the device's line during this cycle */
  int active, bit;    /* peer receiver */
  uint64_t t_start;
  unsigned sh;
  uint8_t got[1 << 17];
  size_t ngot;
  int framing_errors;
} link;

/* One cycle with the line at rxd; the peer samples txd mid-bit. */
static void tick(link *l, int rxd) {
  if (!l->active && !l->txd) {
    l->active = 1;
    l->t_start = l->cyc;
    l->bit = 0;
    l->sh = 0;
  }
  if (l->active && l->cyc == l->t_start + (uint64_t)l->bit * l->div + l->div / 2) {
    if (l->bit == 0) {
      if (l->txd) l->active = 0;
    } else if (l->bit <= 8) {
      l->sh |= (unsigned)l->txd << (l->bit - 1);
    } else {
      if (!l->txd) l->framing_errors++;
      CHECK(l->ngot < sizeof l->got);
      l->got[l->ngot++] = (uint8_t)l->sh;
      l->active = 0;
    }
    l->bit++;
  }
  l->txd = nnfb_board_step(l->dut, rxd);
  l->cyc++;
}

static void send(link *l, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < 10; k++) {
      int level = k == 0 ? 0 : k <= 8 ? (b[i] >> (k - 1)) & 1 : 1;
      for (unsigned c = 0; c < l->div; c++) tick(l, level);
    }
}

/* The board created and reset, the line idle for 20 cycles. */
static void link_open(link *l) {
  l->dut = nnfb_board_create();
  CHECK(l->dut != NULL);
  l->div = NNFB_P_CLOCK_HZ / NNFB_BAUD;
  l->txd = 1;
  for (int i = 0; i < 20; i++) tick(l, 1);
}

static int speed(void) {
  nnfm_device_config cfg = nnfb_board_config();
  nnfm_device *dev = nnfm_device_create(&cfg);
  CHECK(dev != NULL);
  static link l;
  link_open(&l);
  const uint32_t region = (uint32_t)NNFB_P_ACT_WORDS * NNFB_P_ROWS;
  const uint16_t len = (uint16_t)(region < NNFB_P_MAX_PAYLOAD ? region : NNFB_P_MAX_PAYLOAD);
  static uint8_t pl[65536], fr[66000], want[66000];
  nnf_rng r = nnf_rng_seed(5);
  uint8_t seq = 0;
  double rate[2];
  for (int dir = 0; dir < 2; dir++) {
    const uint64_t c0 = l.cyc;
    size_t payload = 0;
    for (int k = 0; k < 6; k++) {
      size_t nf;
      if (dir == 0) {
        nnf_rng_fill(&r, pl, len);
        nf = nnfp_encode(fr, NNFP_WRITE, ++seq, (uint32_t)NNFP_REGION_ACT << NNFP_ARG_REGION_LSB, pl, len);
      } else {
        uint8_t c[4];
        nnfp_put32(c, len);
        nf = nnfp_encode(fr, NNFP_READ, ++seq, (uint32_t)NNFP_REGION_ACT << NNFP_ARG_REGION_LSB, c, 4);
      }
      nnfm_device_rx(dev, fr, nf);
      const size_t nw = nnfm_device_tx(dev, want, sizeof want);
      l.ngot = 0;
      send(&l, fr, nf);
      const uint64_t limit = l.cyc + (uint64_t)(nw + 16) * 10 * l.div * 2 + 400000;
      while (l.ngot < nw && l.cyc < limit) tick(&l, 1);
      CHECK_EQ(l.ngot, nw);
      CHECK_MEM_EQ(l.got, want, nw);
      payload += len;
    }
    rate[dir] = (double)payload / ((double)(l.cyc - c0) / NNFB_P_CLOCK_HZ);
  }
  printf("%s: protocol payload over the %d baud UART, stop and wait, %u-byte frames: WRITE %.3f MB/s, "
         "READ %.3f MB/s\n", NNFB_BOARD, NNFB_BAUD, len, rate[0] / 1e6, rate[1] / 1e6);
  printf("{\"uart_write_payload_Bps\": %.0f, \"uart_read_payload_Bps\": %.0f, \"frame_payload\": %u, "
         "\"baud\": %d, \"board\": \"%s\"}\n", rate[0], rate[1], len, NNFB_BAUD, NNFB_BOARD);
  nnfb_board_destroy(l.dut);
  nnfm_device_destroy(dev);
  return nnf_test_done("test_board_uart speed");
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "speed") == 0) return speed();
  const uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
  const size_t budget = argc > 2 ? (size_t)strtoull(argv[2], NULL, 0) : 12000;
  const size_t max_dim = argc > 3 ? (size_t)strtoull(argv[3], NULL, 0) : 20;
  static nnfb_work w;
  nnf_test_ctx("%s seed %llu: building the workload", NNFB_BOARD, (unsigned long long)seed);
  nnfb_work_build(&w, seed, budget, max_dim, 1, 0);
  static link l;
  link_open(&l);
  size_t bytes = 0;
  for (int i = 0; i < w.n; i++) {
    const nnfb_wchunk *c = &w.c[i];
    nnf_test_ctx("%s seed %llu: chunk %d of %d (kind %d, type 0x%02x, %zu bytes in, %zu expected)", NNFB_BOARD,
                 (unsigned long long)seed, i, w.n, c->kind, c->nin > 2 ? c->in[2] : 0, c->nin, c->nout);
    l.ngot = 0;
    send(&l, c->in, c->nin);
    /* the answer, within a generous bound (a cut frame: after TIMEOUT) */
    uint64_t limit = l.cyc + (uint64_t)(c->nout + 16) * 10 * l.div * 2 + 400000;
    if (c->kind == NNFB_W_CUT) limit += w.cfg.timeout_cycles;
    while (l.ngot < c->nout && l.cyc < limit) tick(&l, 1);
    /* and nothing more for 30 character times */
    for (uint64_t q = l.cyc + 300ull * l.div; l.cyc < q;) tick(&l, 1);
    nnfb_work_check(&w, i, l.got, l.ngot);
    CHECK_EQ(l.framing_errors, 0);
    CHECK_EQ(nnfb_board_err_led(l.dut), 0);
    bytes += c->nin + l.ngot;
  }
  printf("%s (UART, %u clocks per bit): %d chunks, %zu bytes in and out identical to the model, %llu cycles; "
         "%d GEMM programs (%d GEMMs), %d spiking programs (%d LIF, %d LOOP), %d round trips, %d refusals, "
         "%d cut frames\n",
         NNFB_BOARD, l.div, w.n, bytes, (unsigned long long)l.cyc, w.st.gemm_progs, w.st.gemms, w.st.lif_progs,
         w.st.lifs, w.st.loops, w.st.roundtrips, w.st.refusals, w.st.cuts);
  CHECK(w.st.gemm_progs > 0);
  nnfb_board_destroy(l.dut);
  nnfb_work_free(&w);
  return nnf_test_done(argv[0]);
}
