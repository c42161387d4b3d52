/* test_sim_link.c - the sim backend's link pacing (sim:cpb=N, link=...):
 * the same session at a byte a cycle and at N cycles a byte gives the same
 * answers, and the device's own cycle counter reaches at least
 * (bytes in + bytes out) * (N - 1): the pacing is on the core's valid/ready
 * ports, so COUNTERS sees the link's cost. Unknown options are refused. */
#include <stdio.h>
#include <string.h>

#include "nnfdrv.h"
#include "nnf_test.h"

enum { N = 600 };

typedef struct {
  uint8_t back[N];
  nnfdrv_counters c;
} session;

static void run_session(const char *uri, session *s) {
  nnfdrv *d = NULL;
  char err[256];
  int rc = nnfdrv_open(uri, &d, err, sizeof err);
  if (rc != NNFDRV_OK) fprintf(stderr, "%s: %s\n", uri, err);
  CHECK(rc == NNFDRV_OK);
  if (!d) return;
  uint8_t a[N];
  for (int i = 0; i < N; i++) a[i] = (uint8_t)(i * 37 + 11);
  uint8_t prog[NNFP_INSN_BYTES];
  nnfdrv_insn_end(prog);
  CHECK(nnfdrv_reset(d, 1) == NNFDRV_OK); /* zero the counters */
  CHECK(nnfdrv_write(d, NNFDRV_ACT, 16, a, N) == NNFDRV_OK);
  CHECK(nnfdrv_write(d, NNFDRV_PROG, 0, prog, sizeof prog) == NNFDRV_OK);
  CHECK(nnfdrv_run(d, 0) == NNFDRV_OK);
  CHECK(nnfdrv_wait(d) == NNFDRV_OK);
  CHECK(nnfdrv_read(d, NNFDRV_ACT, 16, s->back, N) == NNFDRV_OK);
  CHECK_MEM_EQ(a, s->back, N);
  CHECK(nnfdrv_get_counters(d, &s->c) == NNFDRV_OK);
  printf("%-16s cycles %llu busy %llu stall %llu bytes in %llu out %llu\n", uri,
         (unsigned long long)s->c.cycles, (unsigned long long)s->c.busy_cycles,
         (unsigned long long)s->c.stall_cycles, (unsigned long long)s->c.bytes_in,
         (unsigned long long)s->c.bytes_out);
  nnfdrv_close(d);
}

#ifdef NNFB_BOARD
/* sim:board=B runs board B's configuration: INFO as scripts/synth.py builds
 * it, and link=uart3m at the board's own clock (CLOCK_HZ / 300000 rounded up
 * cycles a byte). */
static void board_checks(void) {
  nnfdrv *d = NULL;
  char err[512];
  int rc = nnfdrv_open("sim:board=" NNFB_BOARD, &d, err, sizeof err);
  if (rc != NNFDRV_OK) fprintf(stderr, "sim:board=%s: %s\n", NNFB_BOARD, err);
  CHECK(rc == NNFDRV_OK);
  if (!d) return;
  const nnfdrv_info *in = nnfdrv_get_info(d);
  CHECK_EQ_U64(in->rows, NNFB_P_ROWS);
  CHECK_EQ_U64(in->cols, NNFB_P_COLS);
  CHECK_EQ_U64(in->w_words, NNFB_P_W_WORDS);
  CHECK_EQ_U64(in->act_words, NNFB_P_ACT_WORDS);
  CHECK_EQ_U64(in->clock_hz, NNFB_P_CLOCK_HZ);
  nnfdrv_close(d);
  static session sb, sbu;
  run_session("sim:board=" NNFB_BOARD, &sb);
  run_session("sim:board=" NNFB_BOARD ",link=uart3m", &sbu);
  CHECK_MEM_EQ(sb.back, sbu.back, N);
  uint64_t cpb = (NNFB_P_CLOCK_HZ + 299999ull) / 300000ull;
  CHECK(sbu.c.cycles >= (sbu.c.bytes_in + sbu.c.bytes_out) * (cpb - 1));
  CHECK(sbu.c.cycles > sb.c.cycles);
  /* a board that is not one */
  d = NULL;
  CHECK(nnfdrv_open("sim:board=de10", &d, err, sizeof err) == NNFDRV_ERR_URI);
  CHECK(strstr(err, "board=") != NULL);
}
#endif

static void refused(const char *uri) {
  nnfdrv *d = NULL;
  char err[256] = "";
  CHECK(nnfdrv_open(uri, &d, err, sizeof err) == NNFDRV_ERR_URI);
  CHECK(strstr(err, "cpb=") != NULL); /* the message lists the options */
  if (d) nnfdrv_close(d);
}

int main(int argc, char **argv) {
  (void)argc;
  static session s1, s50, su;
  run_session("sim", &s1);
  run_session("sim:cpb=50", &s50);
  CHECK_MEM_EQ(s1.back, s50.back, N);
  CHECK_EQ_U64(s1.c.bytes_in, s50.c.bytes_in);
  CHECK_EQ_U64(s1.c.bytes_out, s50.c.bytes_out);
  /* Every byte waits 49 cycles on the link of its own (requests and answers
   * alternate: the waits do not overlap). Not "s1's cycles + that": at full
   * speed the core already holds some input bytes back (rx_ready low while
   * it works), and the pacing's wait overlaps those cycles. */
  CHECK(s50.c.cycles >= (s50.c.bytes_in + s50.c.bytes_out) * 49);
  CHECK(s50.c.cycles > s1.c.cycles);
  /* link=usbfs at the nominal 100 MHz: 84 cycles a byte */
  run_session("sim:link=usbfs", &su);
  CHECK_MEM_EQ(s1.back, su.back, N);
  CHECK(su.c.cycles >= (su.c.bytes_in + su.c.bytes_out) * 83);
#ifdef NNFB_BOARD
  board_checks();
#endif
  refused("sim:cpb=0");
  refused("sim:cpb=x");
  refused("sim:link=pcie");
  refused("sim:bogus");
  return nnf_test_done(argv[0]);
}
