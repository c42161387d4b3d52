/*
 * test_usb_board.c - the whole device behind the native USB link
 * (nnf_dev_usb: nnf_usb_dev + the two asynchronous FIFOs + nnf_core) against
 * the USB host controller (nnfu_hc) at the wire, every answer compared byte
 * for byte with the functional model (nnfm_device).
 *
 *   test_usb_board session SEED   enumerate, then tests/boards' seeded
 *                                 conversation (nnfb_session.h: INFO, the
 *                                 regions written, a two-layer GEMM program
 *                                 RUN / WAIT / READ, a damaged frame, garbage,
 *                                 round trips), each chunk one bulk OUT, its
 *                                 answer read with bulk INs, with the core at
 *                                 84, 48 (phase-shifted), 30 and 100 MHz:
 *                                 the clock crossing at ratios either way
 *   test_usb_board speed          WRITE frames of MAX_PAYLOAD bytes, stop and
 *                                 wait as the driver talks (docs/protocol.md),
 *                                 then READs: protocol payload bytes per second
 *                                 of USB time, printed (docs/usb.md); built
 *                                 twice: the small configuration (512-byte
 *                                 frames) and test_usb_board_4k (ACT 8 KB,
 *                                 MAX_PAYLOAD 4096, the OrangeCrab's)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfb_session.h"
#include "nnfu_board.h"
#include "nnfu_hc.h"

enum { ADDR = 9, EP = 1, MAXP = 64 };

/* Enumerated at ADDR, configuration 1, as a host does; the device's identity. */
static void enumerate(nnfu_hc *h) {
  uint8_t dev[18];
  CHECK_EQ(nnfu_hc_configure(h, ADDR, dev), NNFU_OK);
  CHECK_EQ(dev[8] | dev[9] << 8, 0x1209);
  CHECK_EQ(dev[10] | dev[11] << 8, 0x0001);
}

/* An answer of `want` bytes within 50 ms, then 20 INs that must bring nothing. */
static size_t read_answer(nnfu_hc *h, uint8_t *got, size_t cap, size_t want) {
  size_t n = 0;
  CHECK_EQ(nnfu_hc_read_answer(h, ADDR, EP, MAXP, got, cap, want, h->stats.clocks + 48000ull * 50, 20, &n),
           NNFU_OK);
  return n;
}

typedef struct {
  const char *name;
  double core_hz, phase_ns;
} clocking;

static void run_session(const clocking *ck, uint64_t seed) {
  static nnfb_session s;
  nnfb_session_build(&s, seed);
  nnfu_board *b = nnfu_board_create(ck->core_hz, ck->phase_ns);
  CHECK(b != NULL);
  CHECK_EQ(nnfu_board_pullup(b), 1);
  nnfu_hc h;
  CHECK_EQ(nnfu_hc_init(&h, nnfu_board_step, b), NNFU_OK);
  h.nak_limit = 1000000;
  enumerate(&h);
  static uint8_t got[8192];
  size_t total = 0;
  for (int i = 0; i < s.n; i++) {
    nnf_test_ctx("%s seed %llu: chunk %d of %d (%zu bytes in, %zu expected)", ck->name,
                 (unsigned long long)seed, i, s.n, s.c[i].nin, s.c[i].nout);
    size_t sent = 0;
    CHECK_EQ(nnfu_hc_bulk_out(&h, ADDR, EP, MAXP, s.c[i].in, s.c[i].nin, 0, &sent), NNFU_OK);
    CHECK_EQ(sent, s.c[i].nin);
    size_t n = read_answer(&h, got, sizeof got, s.c[i].nout);
    CHECK_EQ(n, s.c[i].nout);
    CHECK_MEM_EQ(got, s.c[i].out, s.c[i].nout);
    CHECK_EQ(nnfu_board_leds(b) & 2u, 0u);   /* no damaged packet seen */
    total += n;
  }
  printf("%-34s %3d chunks, %5zu answer bytes identical to the model; %llu core cycles, "
         "%llu USB clocks, %llu NAKs\n", ck->name, s.n, total,
         (unsigned long long)nnfu_board_core_cycles(b), (unsigned long long)h.stats.clocks,
         (unsigned long long)h.stats.naks);
  nnfu_hc_free(&h);
  nnfu_board_destroy(b);
  nnfm_device_destroy(s.dev);
}

/* Payload throughput of the protocol over the whole link: WRITE frames of
 * the largest payload the region takes, each answered before the next goes
 * (the driver's stop and wait), then READs of the same size. */
#ifndef NNFU_SPEED_ACT_WORDS
#define NNFU_SPEED_ACT_WORDS NNFB_ACT_WORDS
#define NNFU_SPEED_MAX_PAYLOAD NNFB_MAX_PAYLOAD
#endif
static void speed(void) {
  nnfm_device_config cfg = nnfb_model_config();
  cfg.engine.act_words = NNFU_SPEED_ACT_WORDS;   /* the build for `speed` (CMakeLists.txt) */
  cfg.max_payload = NNFU_SPEED_MAX_PAYLOAD;
  nnfm_device *dev = nnfm_device_create(&cfg);
  CHECK(dev != NULL);
  nnfu_board *b = nnfu_board_create(84e6, 0);
  CHECK(b != NULL);
  nnfu_hc h;
  CHECK_EQ(nnfu_hc_init(&h, nnfu_board_step, b), NNFU_OK);
  h.nak_limit = 1000000;
  enumerate(&h);
  nnf_rng r = nnf_rng_seed(5);
  const uint32_t region = (uint32_t)NNFU_SPEED_ACT_WORDS * NNFB_ROWS;   /* ACT's bytes */
  const uint16_t len = (uint16_t)(region < NNFU_SPEED_MAX_PAYLOAD ? region : NNFU_SPEED_MAX_PAYLOAD);
  static uint8_t pl[4096], fr[4200], want[4200], got[8192];
  uint8_t seq = 0;
  double rate[2];
  for (int dir = 0; dir < 2; dir++) {
    const uint64_t c0 = h.stats.clocks;
    size_t payload = 0;
    for (int k = 0; k < 40; k++) {
      size_t nf;
      if (dir == 0) {
        nnf_rng_fill(&r, pl, len);
        nf = nnfp_encode(fr, NNFP_WRITE, ++seq, (uint32_t)NNFDRV_ACT << NNFP_ARG_REGION_LSB, pl, len);
      } else {
        uint8_t c[4];
        nnfp_put32(c, len);
        nf = nnfp_encode(fr, NNFP_READ, ++seq, (uint32_t)NNFDRV_ACT << NNFP_ARG_REGION_LSB, c, 4);
      }
      nnfm_device_rx(dev, fr, nf);
      size_t nw = nnfm_device_tx(dev, want, sizeof want);
      size_t sent = 0;
      CHECK_EQ(nnfu_hc_bulk_out(&h, ADDR, EP, MAXP, fr, nf, 0, &sent), NNFU_OK);
      size_t n = read_answer(&h, got, sizeof got, nw);
      CHECK_EQ(n, nw);
      CHECK_MEM_EQ(got, want, nw);
      payload += len;
    }
    const double secs = (double)(h.stats.clocks - c0) / 48e6;
    rate[dir] = (double)payload / secs;
  }
  printf("protocol payload over USB full speed, stop and wait, %u-byte frames: WRITE %.3f MB/s, READ %.3f MB/s\n",
         len, rate[0] / 1e6, rate[1] / 1e6);
  printf("{\"usb_fs_write_payload_Bps\": %.0f, \"usb_fs_read_payload_Bps\": %.0f, \"frame_payload\": %u}\n",
         rate[0], rate[1], len);
  nnfu_hc_free(&h);
  nnfu_board_destroy(b);
  nnfm_device_destroy(dev);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "session";
  if (!strcmp(mode, "speed")) {
    speed();
  } else {
    const uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    static const clocking ck[] = {
        {"core 84 MHz", 84e6, 0},
        {"core 48 MHz, 7 ns behind USB", 48e6, 7.0},
        {"core 30 MHz (slower than USB)", 30e6, 3.0},
        {"core 100 MHz", 100e6, 1.0},
        {"core 72 MHz (the OrangeCrab's)", 72e6, 5.0},
    };
    for (size_t i = 0; i < sizeof ck / sizeof ck[0]; i++) run_session(&ck[i], seed + i);
  }
  return nnf_test_done(argv[0]);
}
