/*
 * test_board_core.c - one shipped board configuration's nnf_core (the
 * Verilated variant nnfsim_core_<board>, through nnfsim_core.h's stream
 * port) against the functional model configured with the same parameters
 * (scripts/synth.py, via CMake): a seeded random workload (nnfb_work.h),
 * every answer byte compared, one frame cut short (the board's TIMEOUT),
 * then every region read back whole.
 *
 *   test_board_core [SEED [BUDGET_BYTES [MAX_DIM]]]
 */
#include <stdio.h>
#include <stdlib.h>

#include "nnf_test.h"
#include "nnfb_work.h"
#include "nnfsim_core.h"

static uint8_t out[1 << 17];

int main(int argc, char **argv) {
  const uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
  const size_t budget = argc > 2 ? (size_t)strtoull(argv[2], NULL, 0) : 150000;
  const size_t max_dim = argc > 3 ? (size_t)strtoull(argv[3], NULL, 0) : 40;
  static nnfb_work w;
  nnf_test_ctx("%s seed %llu: building the workload", NNFB_BOARD, (unsigned long long)seed);
  nnfb_work_build(&w, seed, budget, max_dim, 1, 1);
  nnfb_work_dump(&w);
  nnfsim_core *s = nnfsim_core_create();
  CHECK(s != NULL);
  const uint64_t limit = (uint64_t)w.cfg.timeout_cycles + 50000000ull;
  size_t bytes = 0;
  for (int i = 0; i < w.n; i++) {
    const nnfb_wchunk *c = &w.c[i];
    nnf_test_ctx("%s seed %llu: chunk %d of %d (kind %d, type 0x%02x, %zu bytes in, %zu expected)", NNFB_BOARD,
                 (unsigned long long)seed, i, w.n, c->kind, c->nin > 2 ? c->in[2] : 0, c->nin, c->nout);
    size_t used = 0, got = 0;
    uint64_t cyc = nnfsim_core_run(s, c->in, c->nin, &used, out, sizeof out, &got, limit,
                                   NNFSIM_RUN_UNTIL_QUIET);
    CHECK(cyc < limit); /* went quiet */
    CHECK_EQ(used, c->nin);
    nnfb_work_check(&w, i, out, got);
    bytes += c->nin + got;
  }
  printf("%s: %d chunks, %zu bytes in and out identical to the model, %llu cycles; %d GEMM programs "
         "(%d GEMMs), %d spiking programs (%d LIF, %d LOOP), %d round trips, %d refusals, %d COUNTERS, "
         "%d cut frames, %d writes held for a running program\n",
         NNFB_BOARD, w.n, bytes, (unsigned long long)nnfsim_core_cycles(s), w.st.gemm_progs, w.st.gemms,
         w.st.lif_progs, w.st.lifs, w.st.loops, w.st.roundtrips, w.st.refusals, w.st.counters, w.st.cuts,
         w.st.held_writes);
  CHECK(w.st.gemm_progs > 0);
  if (w.cfg.state_words) CHECK(w.st.lif_progs > 0);
  nnfsim_core_destroy(s);
  nnfb_work_free(&w);
  return nnf_test_done(argv[0]);
}
