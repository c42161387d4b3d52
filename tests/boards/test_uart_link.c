/*
 * test_uart_link.c - nnf_dev_uart (UART adapter + nnf_core, Verilated) against
 * a bit-level UART peer in C. The peer sends the frames of nnfb_session.h at
 * its own bit rate (the device's +-2 %), optionally with line noise, decodes
 * the device's transmit line at that same rate, and every answer must equal
 * the functional model's byte for byte.
 *
 * Noise, and the bound it is held to (nnf_uart_rx.v explains the bound):
 *   - idle line: a low pulse of up to 0.45 bit (the sender's bit; under half
 *     a bit minus a sample of the device's at -2 %), >= 1 bit away from a
 *     character, must never become a byte (every noisy case);
 *   - in a character: a glitch centred (+-0.05 bit) in the start bit or a
 *     data bit, inverting the line for up to `gmax` bits. At the exact rate
 *     and div 8 or 10 the window of every bit lies inside the sender's bit,
 *     so gmax 0.35 (<= 3 of 8 samples, 4 of 10) is safe; at +-2 % and div 16 the last
 *     data bit's window reaches up to 3 samples into the stop bit, so gmax
 *     0.2 (<= 4 of 16 samples, 3 of 15) is.
 *   - a BREAK (20 bit times low) lights the error LED, makes no byte, and the
 *     next frame is answered normally.
 *
 *   test_uart_link [SEED]
 *   test_uart_link --gen STIM.hex EXPECT.hex   (for the Icarus test: INFO and
 *       an ACT round trip as 9-bit hex, bit 8 = "wait for the answer first")
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf_test.h"
#include "nnfb_session.h"
#include "nnfb_sim.h"

/* Peer receiver: decodes the device's txd at the peer's bit length. */
typedef struct {
  double tb;          /* bit length in cycles */
  int active;
  double t_start;     /* cycle of the start edge */
  int bit;            /* next bit to sample, 0..9 */
  unsigned sh;
  uint8_t got[NNFB_CHUNK_MAX * 2];
  size_t ngot;
  int framing_errors;
} peer_rx;

typedef struct {
  nnfb_uart *dut;
  uint64_t cyc;       /* cycles run */
  int txd;            /* device's txd during the current cycle */
  peer_rx rx;
} link;

/* One device cycle with the line at rxd; the peer samples txd. */
static void tick(link *l, int rxd) {
  peer_rx *p = &l->rx;
  int v = l->txd;     /* level during cycle l->cyc */
  if (!p->active) {
    if (!v) {
      p->active = 1;
      p->t_start = (double)l->cyc;
      p->bit = 0;
      p->sh = 0;
    }
  }
  if (p->active && (double)l->cyc >= p->t_start + (p->bit + 0.5) * p->tb) {
    if (p->bit == 0) {
      if (v) p->active = 0;                      /* not a start bit */
    } else if (p->bit <= 8) {
      p->sh |= (unsigned)v << (p->bit - 1);
    } else {
      if (!v) p->framing_errors++;
      CHECK(p->ngot < sizeof p->got);
      p->got[p->ngot++] = (uint8_t)p->sh;
      p->active = 0;
    }
    p->bit++;
  }
  l->txd = nnfb_uart_step(l->dut, rxd);
  l->cyc++;
}

typedef struct {
  const char *name;
  unsigned div;
  double rate_err;    /* peer rate = device rate * (1 + rate_err) */
  double gmax;        /* in-character glitch length bound, bits (0: none) */
  int idle_noise;
} scenario;

/* Send one chunk as back-to-back characters (sometimes an idle gap), with
 * the scenario's noise. */
static void send_chunk(link *l, const scenario *sc, nnf_rng *r, const uint8_t *b, size_t n) {
  const double tb = sc->div / (1.0 + sc->rate_err);
  const double phase = (double)nnf_rng_range(r, 0, 999) / 1000.0;
  double t0 = (double)l->cyc + phase + 3 * tb;   /* three idle bits first */
  double ga = -1, gb = -1;                         /* current glitch [ga, gb) */
  if (sc->idle_noise && nnf_rng_range(r, 0, 1)) {  /* low pulse in the idle lead */
    ga = (double)l->cyc + phase + tb;
    gb = ga + tb * (double)nnf_rng_range(r, 5, 45) / 100.0;
  }
  for (size_t i = 0; i < n; i++) {
    double gs = -1, ge = -1;                       /* this character's glitch */
    if (sc->gmax > 0 && nnf_rng_range(r, 0, 1)) {
      int bit = (int)nnf_rng_range(r, 0, 8);       /* start or a data bit */
      double len = sc->gmax * (double)nnf_rng_range(r, 10, 100) / 100.0;
      double mid = t0 + (bit + 0.5 + (double)nnf_rng_range(r, -50, 50) / 1000.0) * tb;
      gs = mid - len * tb / 2;
      ge = mid + len * tb / 2;
    }
    const double tend = t0 + 10 * tb;
    while ((double)l->cyc < tend) {
      double t = (double)l->cyc;
      int level = 1;
      if (t >= t0) {
        int k = (int)floor((t - t0) / tb);
        level = k == 0 ? 0 : k <= 8 ? (b[i] >> (k - 1)) & 1 : 1;
      }
      if ((t >= ga && t < gb) || (t >= gs && t < ge)) level ^= 1;
      tick(l, level);
    }
    t0 = tend;
    if (nnf_rng_range(r, 0, 15) == 0) t0 += tb * (double)nnf_rng_range(r, 1, 30) / 10.0;
  }
}

/* Run until `want` more bytes arrived (or a generous limit), then a little
 * longer to catch any extra byte. */
static void wait_answer(link *l, const scenario *sc, size_t want) {
  const size_t goal = l->rx.ngot + want;
  const uint64_t limit = l->cyc + (uint64_t)(want + 8) * 12 * sc->div * 2 + 200000;
  while (l->rx.ngot < goal && l->cyc < limit) tick(l, 1);
  const uint64_t quiet = l->cyc + 30 * 10 * (uint64_t)sc->div;
  while (l->cyc < quiet) tick(l, 1);
}

static void run_scenario(const scenario *sc, uint64_t seed) {
  static nnfb_session s;
  nnfb_session_build(&s, seed);
  nnf_rng r = nnf_rng_seed(seed * 7919 + sc->div);
  link l;
  memset(&l, 0, sizeof l);
  l.dut = nnfb_uart_create(sc->div);
  CHECK(l.dut != NULL);
  l.txd = 1;
  l.rx.tb = sc->div / (1.0 + sc->rate_err);
  size_t total = 0;
  for (int i = 0; i < s.n; i++) {
    nnf_test_ctx("%s seed %llu: chunk %d of %d (%zu bytes in, %zu expected)", sc->name,
                 (unsigned long long)seed, i, s.n, s.c[i].nin, s.c[i].nout);
    const size_t before = l.rx.ngot;
    send_chunk(&l, sc, &r, s.c[i].in, s.c[i].nin);
    wait_answer(&l, sc, s.c[i].nout);
    CHECK_EQ(l.rx.ngot - before, s.c[i].nout);
    CHECK_MEM_EQ(l.rx.got + before, s.c[i].out, s.c[i].nout);
    CHECK_EQ(l.rx.framing_errors, 0);
    CHECK_EQ(nnfb_uart_leds(l.dut) & 2u, 0u);     /* no error light */
    total += s.c[i].nout;
    l.rx.ngot = 0;
  }
  /* BREAK: one framing error, no byte, the link goes on */
  nnf_test_ctx("%s: BREAK", sc->name);
  for (unsigned i = 0; i < 20 * sc->div; i++) tick(&l, 0);
  for (unsigned i = 0; i < 4 * sc->div; i++) tick(&l, 1);
  CHECK_EQ(nnfb_uart_leds(l.dut) & 2u, 2u);
  uint8_t f[32], want[128];
  size_t nf = nnfp_encode(f, NNFP_INFO, 200, 0, NULL, 0);
  nnfm_device_rx(s.dev, f, nf);
  size_t nw = nnfm_device_tx(s.dev, want, sizeof want);
  send_chunk(&l, sc, &r, f, nf);
  wait_answer(&l, sc, nw);
  CHECK_EQ(l.rx.ngot, nw);
  CHECK_MEM_EQ(l.rx.got, want, nw);
  printf("%-28s %3d chunks, %5zu answer bytes identical to the model, %8llu cycles\n",
         sc->name, s.n, total + nw, (unsigned long long)l.cyc);
  nnfb_uart_destroy(l.dut);
  nnfm_device_destroy(s.dev);
}

/* The Icarus smoke test's stimulus and expected answers. */
static int gen(const char *stim_path, const char *exp_path) {
  static nnfb_session s;
  nnfb_session_build(&s, 1);
  FILE *fs = fopen(stim_path, "w"), *fe = fopen(exp_path, "w");
  if (!fs || !fe) {
    perror("test_uart_link --gen");
    return 1;
  }
  const int pick[] = {0, s.n - 2, s.n - 1};       /* INFO, WRITE ACT, READ ACT */
  for (size_t k = 0; k < sizeof pick / sizeof pick[0]; k++) {
    const nnfb_chunk *c = &s.c[pick[k]];
    for (size_t i = 0; i < c->nin; i++) fprintf(fs, "%03x\n", c->in[i] | (i == 0 ? 0x100 : 0));
    for (size_t i = 0; i < c->nout; i++) fprintf(fe, "%02x\n", c->out[i]);
  }
  fclose(fs);
  fclose(fe);
  nnfm_device_destroy(s.dev);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--gen") == 0) return gen(argv[2], argv[3]);
  const uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
  static const scenario sc[] = {
      {"div 8, exact rate", 8, 0.0, 0, 0},
      {"div 8, peer +2%", 8, +0.02, 0, 0},
      {"div 8, peer -2%", 8, -0.02, 0, 0},
      {"div 4, exact rate", 4, 0.0, 0, 0},
      {"div 8, glitches <= 0.35 bit", 8, 0.0, 0.35, 1},
      {"div 10, peer +2%", 10, +0.02, 0, 0},                  /* the iCEBreaker at 30 MHz */
      {"div 10, peer -2%", 10, -0.02, 0, 0},
      {"div 10, glitches <= 0.35 bit", 10, 0.0, 0.35, 1},     /* <= 4 of 10 samples */
      {"div 16, +2%, glitches <= 0.2", 16, +0.02, 0.2, 1},
      {"div 16, -2%, glitches <= 0.2", 16, -0.02, 0.2, 1},
      {"div 15, +2%, glitches <= 0.2", 15, +0.02, 0.2, 1},   /* the ULX3S at 45 MHz */
      {"div 15, -2%, glitches <= 0.2", 15, -0.02, 0.2, 1},
  };
  for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) run_scenario(&sc[i], seed + i);
  return nnf_test_done(argv[0]);
}
