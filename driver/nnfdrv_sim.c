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
#include <dlfcn.h>
#include <unistd.h>

#include "nnfsim_core.h"
#include "nnfsim_module.h"

/* The in-process default core. */
static const nnfsim_core_api sim_default_api = {
    NNFSIM_MODULE_ABI, "", 0, nnfsim_core_create, nnfsim_core_destroy, nnfsim_core_reset,
    nnfsim_core_run, nnfsim_core_idle, nnfsim_core_cycles, nnfsim_core_set_pacing,
    nnfsim_core_trace_window, nnfsim_core_trace_close,
};

/* Longest wait for one byte, in simulated cycles: a safety net far above
 * any program's run time (the bench's largest runs take ~10^7 cycles). */
#define SIM_MAX_WAIT_CYCLES 2000000000ull

typedef struct {
  nnfdrv_transport t;
  const nnfsim_core_api *api;
  void *module; /* dlopen handle of a board's module, or NULL */
  nnfsim_core *core;
  uint8_t *in;
  size_t in_len, in_used, in_cap;
  unsigned cpb; /* link pacing: device cycles a byte */
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
    ran += s->api->run(s->core, s->in, s->in_len, &s->in_used, buf, max, &got, 1u << 20,
                           NNFSIM_RUN_UNTIL_OUTPUT | NNFSIM_RUN_UNTIL_QUIET);
    if (got == 0 && s->in_used == s->in_len && s->api->idle(s->core)) return 0;
  }
  /* Drain the rest of the answer (one byte per cpb cycles), stopping as soon as
   * the device is quiet so no idle cycles are simulated for nothing. */
  if (got > 0 && got < max)
    s->api->run(s->core, s->in, s->in_len, &s->in_used, buf, max, &got,
                    (uint64_t)(max - got) * s->cpb,
                    NNFSIM_RUN_UNTIL_QUIET);
  return (int)got;
}

static void sim_close(nnfdrv_transport *t) {
  sim_transport *s = (sim_transport *)t;
  s->api->destroy(s->core);
  if (s->module) dlclose(s->module);
  free(s->in);
  free(s);
}

#ifndef NNFDRV_SIM_MODULE_DIR
#define NNFDRV_SIM_MODULE_DIR ""
#endif

static const char *const sim_boards[] = {"icebreaker", "ulx3s", "ulx3s-85f", "orangecrab"};

/* Load libnnfsim_board_<board>.so from $NNF_SIM_DIR, the build tree, or the
 * executable's directory; NULL with msg naming every path tried. */
static const nnfsim_core_api *sim_load_board(const char *board, void **handle, char *msg,
                                             size_t msglen) {
  char file[64], dirs[3][1024], tried[3 * (1024 + 64 + 4)] = "";
  snprintf(file, sizeof file, "libnnfsim_board_%s.so", board);
  for (char *c = file; *c; c++)
    if (*c == '-') *c = '_';
  int nd = 0;
  const char *env = getenv("NNF_SIM_DIR");
  if (env && *env) snprintf(dirs[nd++], sizeof dirs[0], "%s", env);
  if (*NNFDRV_SIM_MODULE_DIR) snprintf(dirs[nd++], sizeof dirs[0], "%s", NNFDRV_SIM_MODULE_DIR);
  ssize_t n = readlink("/proc/self/exe", dirs[nd], sizeof dirs[0] - 1);
  if (n > 0) {
    dirs[nd][n] = 0;
    char *slash = strrchr(dirs[nd], '/');
    if (slash) {
      *slash = 0;
      nd++;
    }
  }
  for (int i = 0; i < nd; i++) {
    char path[sizeof dirs[0] + sizeof file + 2];
    snprintf(path, sizeof path, "%.1023s/%s", dirs[i], file);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      size_t l = strlen(tried);
      snprintf(tried + l, sizeof tried - l, "%s%s", l ? ", " : "", path);
      continue;
    }
    const nnfsim_core_api *api = (const nnfsim_core_api *)dlsym(h, "nnfsim_module_api");
    if (!api || api->abi != NNFSIM_MODULE_ABI) {
      snprintf(msg, msglen, "sim: %s is not a simulator module of this build", path);
      dlclose(h);
      return NULL;
    }
    *handle = h;
    return api;
  }
  snprintf(msg, msglen, "sim: board \"%s\": no %s (tried %s; set NNF_SIM_DIR to the folder "
           "holding it, build/sim/core in a build tree)", board, file, tried);
  return NULL;
}

/* The default sim's INFO reports clock 0; a paced link is computed at this
 * nominal clock (docs/cli.md). */
#define SIM_NOMINAL_CLOCK_HZ 100000000ull
#define SIM_UART3M_BYTES_PER_S 300000ull  /* 3 Mbaud, 10 bits a byte */
#define SIM_USBFS_BYTES_PER_S 1200000ull  /* USB full-speed bulk, 1.2 MB/s */

/* "sim" or "sim:OPTS", OPTS comma-separated: board=NAME (that board's
 * configuration, from its module: sim_load_board), link=uart3m|usbfs (a
 * link of that speed at the board's CLOCK_HZ, or at the nominal clock for
 * the default sim: 334 / 84 cycles a byte) or cpb=N (N
 * device cycles a byte, 1..1000000): every byte in and out spends N cycles
 * on the link (nnfsim_core_set_pacing), on the core's valid/ready ports, so the
 * device's COUNTERS show the link's cost. */
int nnfdrv_open_sim(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  unsigned cpb = 0;
  uint64_t link_bps = 0; /* link=: bytes a second */
  const char *board = NULL;
  const char *p = spec ? spec : "";
  while (*p) {
    size_t n = strcspn(p, ",");
    char opt[32];
    int ok = n < sizeof opt;
    if (ok) {
      memcpy(opt, p, n);
      opt[n] = 0;
      char *end = NULL;
      if (!strcmp(opt, "link=uart3m")) link_bps = SIM_UART3M_BYTES_PER_S;
      else if (!strcmp(opt, "link=usbfs")) link_bps = SIM_USBFS_BYTES_PER_S;
      else if (!strncmp(opt, "board=", 6)) {
        ok = 0;
        for (size_t b = 0; b < sizeof sim_boards / sizeof *sim_boards; b++)
          if (!strcmp(opt + 6, sim_boards[b])) {
            board = sim_boards[b];
            ok = 1;
          }
      }
      else if (!strncmp(opt, "cpb=", 4) && opt[4] >= '0' && opt[4] <= '9') {
        unsigned long v = strtoul(opt + 4, &end, 10);
        if (*end || v < 1 || v > 1000000) ok = 0;
        else cpb = (unsigned)v;
      } else ok = 0;
    }
    if (!ok) {
      snprintf(msg, msglen, "sim: unknown option \"%.*s\" (options, comma-separated: "
               "board=icebreaker|ulx3s|ulx3s-85f|orangecrab, link=uart3m|usbfs, cpb=1..1000000)", (int)(n < 64 ? n : 64), p);
      return NNFDRV_ERR_URI;
    }
    p += n;
    if (*p == ',') p++;
  }
  const nnfsim_core_api *api = &sim_default_api;
  void *module = NULL;
  if (board && !(api = sim_load_board(board, &module, msg, msglen))) return NNFDRV_ERR_UNSUPPORTED;
  if (!cpb && link_bps) {
    uint64_t hz = api->clock_hz ? api->clock_hz : SIM_NOMINAL_CLOCK_HZ;
    cpb = (unsigned)((hz + link_bps - 1) / link_bps);
  }
  if (!cpb) cpb = 1;
  sim_transport *s = calloc(1, sizeof *s);
  if (!s || !(s->core = api->create())) {
    free(s);
    if (module) dlclose(module);
    snprintf(msg, msglen, "sim: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  s->api = api;
  s->module = module;
  api->set_pacing(s->core, cpb);
  s->cpb = cpb;
  s->t.send = sim_send;
  s->t.recv = sim_recv;
  s->t.close = sim_close;
  *out = &s->t;
  return NNFDRV_OK;
}

/* For benches and tests: the simulator behind a "sim" handle's transport. */
/* NULL for sim:board=... (that core is the module's: its nnfsim_core_* are
 * not this executable's). */
nnfsim_core *nnfdrv_sim_core(nnfdrv_transport *t) {
  sim_transport *s = (sim_transport *)t;
  return s->module ? NULL : s->core;
}

#else

int nnfdrv_open_sim(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  (void)spec;
  (void)out;
  snprintf(msg, msglen, "sim: this build has no simulator (Verilator not found)");
  return NNFDRV_ERR_UNSUPPORTED;
}

#endif
