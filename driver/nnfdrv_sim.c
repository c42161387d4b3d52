/* nnfdrv_sim.c - the "sim" backend: the Verilated nnf_core in process
 * (sim/core). Bytes sent are queued on the device's receive port; a receive
 * runs the simulation until the device sends a byte, or until it has taken
 * every byte and sits idle (then nothing more will come: a lost frame). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnfdrv.h"
#include "nnfdrv_transport.h"

#ifdef NNFDRV_HAVE_SIM
#include "nnfsim_core.h"

/* Longest wait for one byte, in simulated cycles: a safety net far above
 * any program's run time (the bench's largest runs take ~10^7 cycles). */
#define SIM_MAX_WAIT_CYCLES 2000000000ull

typedef struct {
  nnfdrv_transport t;
  nnfsim_core *core;
  uint8_t *in;
  size_t in_len, in_used, in_cap;
} sim_transport;

static int sim_send(nnfdrv_transport *t, const uint8_t *buf, size_t len) {
  sim_transport *s = (sim_transport *)t;
  if (s->in_used == s->in_len) s->in_used = s->in_len = 0;
  if (s->in_len + len > s->in_cap) {
    size_t cap = s->in_cap ? s->in_cap : 8192;
    while (cap < s->in_len + len) cap *= 2;
    uint8_t *p = realloc(s->in, cap);
    if (!p) {
      snprintf(t->err, sizeof t->err, "sim: out of memory");
      return NNFDRV_ERR_IO;
    }
    s->in = p;
    s->in_cap = cap;
  }
  memcpy(s->in + s->in_len, buf, len);
  s->in_len += len;
  return NNFDRV_OK;
}

static int sim_recv(nnfdrv_transport *t, uint8_t *buf, size_t max, int timeout_ms) {
  (void)timeout_ms;
  sim_transport *s = (sim_transport *)t;
  size_t got = 0;
  uint64_t ran = 0;
  while (got == 0 && ran < SIM_MAX_WAIT_CYCLES) {
    /* Take bytes until the first one out, then drain what follows at once. */
    ran += nnfsim_core_run(s->core, s->in, s->in_len, &s->in_used, buf, max, &got, 1u << 20,
                           NNFSIM_RUN_UNTIL_OUTPUT | NNFSIM_RUN_UNTIL_QUIET);
    if (got == 0 && s->in_used == s->in_len && nnfsim_core_idle(s->core)) return 0;
  }
  /* Drain the rest of the answer (one byte per cycle), stopping as soon as
   * the device is quiet so no idle cycles are simulated for nothing. */
  if (got > 0 && got < max)
    nnfsim_core_run(s->core, s->in, s->in_len, &s->in_used, buf, max, &got, max - got,
                    NNFSIM_RUN_UNTIL_QUIET);
  return (int)got;
}

static void sim_close(nnfdrv_transport *t) {
  sim_transport *s = (sim_transport *)t;
  nnfsim_core_destroy(s->core);
  free(s->in);
  free(s);
}

int nnfdrv_open_sim(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  if (spec && *spec) {
    snprintf(msg, msglen, "sim: takes no options (got \"%s\")", spec);
    return NNFDRV_ERR_URI;
  }
  sim_transport *s = calloc(1, sizeof *s);
  if (!s || !(s->core = nnfsim_core_create())) {
    free(s);
    snprintf(msg, msglen, "sim: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  s->t.send = sim_send;
  s->t.recv = sim_recv;
  s->t.close = sim_close;
  *out = &s->t;
  return NNFDRV_OK;
}

/* For benches and tests: the simulator behind a "sim" handle's transport. */
nnfsim_core *nnfdrv_sim_core(nnfdrv_transport *t) { return ((sim_transport *)t)->core; }

#else

int nnfdrv_open_sim(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  (void)spec;
  (void)out;
  snprintf(msg, msglen, "sim: this build has no simulator (Verilator not found)");
  return NNFDRV_ERR_UNSUPPORTED;
}

#endif
