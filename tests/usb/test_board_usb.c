/*
 * test_board_usb.c - one shipped USB board's device (nnf_dev_usb: the USB
 * device core, the asynchronous FIFOs and nnf_core, with the parameters of
 * its bitstream, its core at the board's CLOCK_HZ against the USB's
 * 48 MHz) against the C host controller at the wire (nnfu_hc), on a seeded
 * random workload (tests/boards/nnfb_work.h, with flow control: writes may
 * wait for a running program): every answer equal to the functional
 * model's, byte for byte; a frame cut short (the board's TIMEOUT); the
 * error light off throughout. The board top adds only its PLL, reset
 * synchronisers and I/O buffers (checked by rtl_board_lint and the
 * bitstream flow).
 *
 *   test_board_usb [SEED [BUDGET_BYTES [MAX_DIM]]]
 */
#include <stdio.h>
#include <stdlib.h>

#include "nnf_test.h"
#include "nnfb_work.h"
#include "nnfu_board.h"
#include "nnfu_hc.h"

enum { ADDR = 3, EP = 1, MAXP = 64 };

static uint8_t got[1 << 17];

int main(int argc, char **argv) {
  const uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
  const size_t budget = argc > 2 ? (size_t)strtoull(argv[2], NULL, 0) : 12000;
  const size_t max_dim = argc > 3 ? (size_t)strtoull(argv[3], NULL, 0) : 20;
  static nnfb_work w;
  nnf_test_ctx("%s seed %llu: building the workload", NNFB_BOARD, (unsigned long long)seed);
  nnfb_work_build(&w, seed, budget, max_dim, 1, 1);
  nnfu_board *b = nnfu_board_create((double)NNFB_P_CLOCK_HZ, 3.0);
  CHECK(b != NULL);
  nnfu_hc h;
  CHECK_EQ(nnfu_hc_init(&h, nnfu_board_step, b), NNFU_OK);
  h.nak_limit = 100000000;
  uint8_t dev[18];
  CHECK_EQ(nnfu_hc_configure(&h, ADDR, dev), NNFU_OK);   /* enumerated, as a host does it */

  /* USB clocks the board's TIMEOUT lasts */
  const uint64_t timeout_usb = (uint64_t)((double)w.cfg.timeout_cycles / NNFB_P_CLOCK_HZ * 48e6);
  size_t bytes = 0;
  for (int i = 0; i < w.n; i++) {
    const nnfb_wchunk *c = &w.c[i];
    nnf_test_ctx("%s seed %llu: chunk %d of %d (kind %d, type 0x%02x, %zu bytes in, %zu expected)", NNFB_BOARD,
                 (unsigned long long)seed, i, w.n, c->kind, c->nin > 2 ? c->in[2] : 0, c->nin, c->nout);
    size_t sent = 0;
    CHECK_EQ(nnfu_hc_bulk_out(&h, ADDR, EP, MAXP, c->in, c->nin, 0, &sent), NNFU_OK);
    CHECK_EQ(sent, c->nin);
    /* the answer within a generous bound (a cut frame: after TIMEOUT), then
     * a few more INs that must bring nothing but NAKs (or a zero-length
     * packet after a full one) */
    uint64_t deadline = h.stats.clocks + 48000ull * 50 + (c->nout + 64) * 48ull * 8;
    if (c->kind == NNFB_W_CUT) deadline += timeout_usb;
    size_t have = 0;
    CHECK_EQ(nnfu_hc_read_answer(&h, ADDR, EP, MAXP, got, sizeof got, c->nout, deadline, 20, &have), NNFU_OK);
    nnfb_work_check(&w, i, got, have);
    CHECK_EQ(nnfu_board_leds(b) & 2u, 0u);
    bytes += c->nin + have;
  }
  printf("%s (USB full speed, core at %.0f MHz): %d chunks, %zu bytes in and out identical to the model, "
         "%llu core cycles, %llu USB clocks, %llu NAKs; %d GEMM programs (%d GEMMs), %d spiking programs "
         "(%d LIF, %d LOOP), %d round trips, %d refusals, %d cut frames, %d writes held for a running program\n",
         NNFB_BOARD, NNFB_P_CLOCK_HZ / 1e6, w.n, bytes, (unsigned long long)nnfu_board_core_cycles(b),
         (unsigned long long)h.stats.clocks, (unsigned long long)h.stats.naks, w.st.gemm_progs, w.st.gemms,
         w.st.lif_progs, w.st.lifs, w.st.loops, w.st.roundtrips, w.st.refusals, w.st.cuts, w.st.held_writes);
  CHECK(w.st.gemm_progs > 0);
  nnfu_hc_free(&h);
  nnfu_board_destroy(b);
  nnfb_work_free(&w);
  return nnf_test_done(argv[0]);
}
