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
#include <errno.h>
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
  /* trace=: the FST's path (NULL: none), its window [trace_from, trace_to)
   * and the cycle it opened at */
  char *trace_path;
  uint64_t trace_from, trace_to, trace_opened;
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

/* The cycles the trace holds so far: [max(from, opened), min(to, now)), or
 * [now, now) when that is empty. */
static int sim_trace_range(nnfdrv_transport *t, const char **path, uint64_t *first, uint64_t *end) {
  sim_transport *s = (sim_transport *)t;
  if (!s->trace_path) return NNFDRV_ERR_UNSUPPORTED;
  uint64_t now = s->api->cycles(s->core);
  *path = s->trace_path;
  *first = s->trace_from > s->trace_opened ? s->trace_from : s->trace_opened;
  *end = now < s->trace_to ? now : s->trace_to;
  if (*end <= *first) *first = *end = now;
  return NNFDRV_OK;
}

static void sim_close(nnfdrv_transport *t) {
  sim_transport *s = (sim_transport *)t;
  if (s->trace_path) s->api->trace_close(s->core); /* writes the trace's end, flushes */
  free(s->trace_path);
  s->api->destroy(s->core);
  if (s->module) dlclose(s->module);
  free(s->in);
  free(s);
}

#ifndef NNFDRV_SIM_MODULE_DIR
#define NNFDRV_SIM_MODULE_DIR ""
#endif

static const char *const sim_boards[] = {"icebreaker", "ulx3s", "ulx3s-85f", "orangecrab"};

/* dlopen the simulator module at path and check its table: SIM_LOADED
 * (*api and *handle set), SIM_NO_FILE (it does not load: msg holds
 * dlerror's words) or SIM_REFUSED (msg says why it is not a module of this
 * build). */
enum { SIM_LOADED, SIM_NO_FILE, SIM_REFUSED };
static int sim_dlopen(const char *path, const nnfsim_core_api **api, void **handle, char *msg, size_t msglen) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    snprintf(msg, msglen, "%s", e ? e : "cannot load it");
    return SIM_NO_FILE;
  }
  const nnfsim_core_api *a = (const nnfsim_core_api *)dlsym(h, "nnfsim_module_api");
  if (!a || a->abi != NNFSIM_MODULE_ABI) {
    if (a)
      snprintf(msg, msglen, "sim: %.600s is not a simulator module of this build (its ABI is %u, this build's %u: "
               "rebuild it from this source)", path, a->abi, NNFSIM_MODULE_ABI);
    else
      snprintf(msg, msglen, "sim: %.600s is not a simulator module of this build (no nnfsim_module_api in it)", path);
    dlclose(h);
    return SIM_REFUSED;
  }
  *api = a;
  *handle = h;
  return SIM_LOADED;
}

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
    const nnfsim_core_api *api = NULL;
    int r = sim_dlopen(path, &api, handle, msg, msglen);
    if (r == SIM_LOADED) return api;
    if (r == SIM_REFUSED) return NULL; /* there, but not this build's */
    size_t l = strlen(tried);
    snprintf(tried + l, sizeof tried - l, "%s%s", l ? ", " : "", path);
  }
  snprintf(msg, msglen, "sim: board \"%s\": no %s (tried %s; set NNF_SIM_DIR to the folder "
           "holding it, build/sim/core in a build tree)", board, file, tried);
  return NULL;
}

/* module=PATH: that file (a name without a slash is taken in the current
 * folder, not searched for as dlopen would). NNFDRV_OK, or
 * NNFDRV_ERR_NO_DEVICE (no such file, or it does not load) or
 * NNFDRV_ERR_UNSUPPORTED (not a module of this build) with msg set. */
static int sim_load_module(const char *file, const nnfsim_core_api **api, void **handle, char *msg,
                           size_t msglen) {
  char path[4096], why[1024];
  snprintf(path, sizeof path, "%s%s", strchr(file, '/') ? "" : "./", file);
  int r = sim_dlopen(path, api, handle, why, sizeof why);
  if (r == SIM_LOADED) return NNFDRV_OK;
  if (r == SIM_REFUSED) {
    snprintf(msg, msglen, "%s", why);
    return NNFDRV_ERR_UNSUPPORTED;
  }
  snprintf(msg, msglen, "sim: module=%s: cannot load it (%s)", file, why);
  return NNFDRV_ERR_NO_DEVICE;
}

/* The default sim's INFO reports clock 0; a paced link is computed at this
 * nominal clock (docs/cli.md). */
#define SIM_NOMINAL_CLOCK_HZ 100000000ull
#define SIM_UART3M_BYTES_PER_S 300000ull  /* 3 Mbaud, 10 bits a byte */
#define SIM_USBFS_BYTES_PER_S 1200000ull  /* USB full-speed bulk, 1.2 MB/s */

/* The options of "sim:OPTS", for the messages. */
#define SIM_OPTIONS                                                                        \
  "board=icebreaker|ulx3s|ulx3s-85f|orangecrab, module=PATH, link=uart3m|usbfs, "          \
  "cpb=1..1000000, trace=PATH, trace_from=N, trace_to=N"
/* The largest trace_from / trace_to: times (2 a cycle) stay far inside 64 bits. */
#define SIM_TRACE_MAX_CYCLE 1000000000000000000ull

/* A decimal number in lo..hi, digits only: 0, or -1. */
static int sim_number(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out) {
  uint64_t v = 0;
  if (n == 0 || n > 19) return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

/* "sim" or "sim:OPTS", OPTS comma-separated (docs/cli.md, Devices):
 *   board=NAME   that board's configuration, from its module (sim_load_board)
 *   module=PATH  the simulator module at PATH (a configuration built
 *                elsewhere: same table, same ABI check); not with board=
 *   link=uart3m|usbfs  a link of that speed at the board's CLOCK_HZ, or at
 *                the nominal clock for the default sim: 334 / 84 cycles a byte
 *   cpb=N        N device cycles a byte, 1..1000000: every byte in and out
 *                spends N cycles on the link (nnfsim_core_set_pacing), on the
 *                core's valid/ready ports, so the device's COUNTERS show the
 *                link's cost
 *   trace=PATH   an FST waveform of the whole core into PATH, of the cycles
 *                [trace_from=N, trace_to=N) (default: all; counted as
 *                nnfsim_core_cycles() counts them), closed and complete when
 *                the device is closed (nnfsim_core_trace_window)
 * The options split at commas, so a PATH cannot hold one: refused. */
int nnfdrv_open_sim(const char *spec, nnfdrv_transport **out, char *msg, size_t msglen) {
  unsigned cpb = 0;
  uint64_t link_bps = 0; /* link=: bytes a second */
  const char *board = NULL;
  char *module = NULL, *trace = NULL;
  uint64_t from = 0, to = NNFSIM_TRACE_NO_END;
  int has_from = 0, has_to = 0;
  const char *p = spec ? spec : "", *prev = NULL; /* prev: the option before, when a path */
  size_t prev_n = 0;
  int rc = NNFDRV_OK;
  while (*p && rc == NNFDRV_OK) {
    size_t n = strcspn(p, ",");
    const char *eq = memchr(p, '=', n);
    size_t key = eq ? (size_t)(eq - p) : n;
    const char *val = eq ? eq + 1 : p + n;
    size_t vn = (size_t)(p + n - val);
#define SIM_KEY(k) (key == sizeof k - 1 && !strncmp(p, k, key))
    int ok = 1;
    const char *path_opt = NULL;
    if (SIM_KEY("link") && vn == 6 && !strncmp(val, "uart3m", 6)) link_bps = SIM_UART3M_BYTES_PER_S;
    else if (SIM_KEY("link") && vn == 5 && !strncmp(val, "usbfs", 5)) link_bps = SIM_USBFS_BYTES_PER_S;
    else if (SIM_KEY("board") && eq) {
      ok = 0;
      for (size_t b = 0; b < sizeof sim_boards / sizeof *sim_boards; b++)
        if (strlen(sim_boards[b]) == vn && !strncmp(val, sim_boards[b], vn)) {
          board = sim_boards[b];
          ok = 1;
        }
    } else if (SIM_KEY("cpb") && eq) {
      uint64_t v;
      ok = !sim_number(val, vn, 1, 1000000, &v);
      if (ok) cpb = (unsigned)v;
    } else if ((SIM_KEY("module") || SIM_KEY("trace")) && eq) {
      char **dst = SIM_KEY("module") ? &module : &trace;
      path_opt = p;
      if (*dst) {
        snprintf(msg, msglen, "sim: %.*s= given twice", (int)key, p);
        rc = NNFDRV_ERR_URI;
      } else if (vn == 0) {
        snprintf(msg, msglen, "sim: %.*s= needs a path", (int)key, p);
        rc = NNFDRV_ERR_URI;
      } else if (!(*dst = malloc(vn + 1))) {
        snprintf(msg, msglen, "sim: out of memory");
        rc = NNFDRV_ERR_NOMEM;
      } else {
        memcpy(*dst, val, vn);
        (*dst)[vn] = 0;
      }
    } else if ((SIM_KEY("trace_from") || SIM_KEY("trace_to")) && eq) {
      int is_from = SIM_KEY("trace_from");
      if (is_from ? has_from : has_to) {
        snprintf(msg, msglen, "sim: %.*s= given twice", (int)key, p);
        rc = NNFDRV_ERR_URI;
      } else if (sim_number(val, vn, 0, SIM_TRACE_MAX_CYCLE, is_from ? &from : &to)) {
        snprintf(msg, msglen, "sim: %.*s wants a cycle number, 0..%llu", (int)(n < 64 ? n : 64), p,
                 (unsigned long long)SIM_TRACE_MAX_CYCLE);
        rc = NNFDRV_ERR_URI;
      } else if (is_from) has_from = 1;
      else has_to = 1;
    } else ok = 0;
#undef SIM_KEY
    if (!ok && prev && !eq)
      snprintf(msg, msglen, "sim: unknown option \"%.*s\" after %.*s: a path in a sim URI cannot hold a comma "
               "(the options are comma-separated); rename or move the file", (int)(n < 64 ? n : 64), p,
               (int)(prev_n < 200 ? prev_n : 200), prev);
    else if (!ok)
      snprintf(msg, msglen, "sim: unknown option \"%.*s\" (options, comma-separated: " SIM_OPTIONS ")",
               (int)(n < 64 ? n : 64), p);
    if (!ok) rc = NNFDRV_ERR_URI;
    prev = path_opt;
    prev_n = n;
    p += n;
    if (*p == ',') p++;
  }
  if (rc == NNFDRV_OK && board && module) {
    snprintf(msg, msglen, "sim: board= and module= both name the configuration: one of them");
    rc = NNFDRV_ERR_URI;
  }
  if (rc == NNFDRV_OK && !trace && (has_from || has_to)) {
    snprintf(msg, msglen, "sim: trace_from= and trace_to= need trace=PATH (the FST file)");
    rc = NNFDRV_ERR_URI;
  }
  if (rc == NNFDRV_OK && from >= to) {
    snprintf(msg, msglen, "sim: the trace's window is empty: trace_from=%llu is not below trace_to=%llu",
             (unsigned long long)from, (unsigned long long)to);
    rc = NNFDRV_ERR_URI;
  }
  const nnfsim_core_api *api = &sim_default_api;
  void *handle = NULL;
  if (rc == NNFDRV_OK && board && !(api = sim_load_board(board, &handle, msg, msglen))) rc = NNFDRV_ERR_UNSUPPORTED;
  if (rc == NNFDRV_OK && module) rc = sim_load_module(module, &api, &handle, msg, msglen);
  free(module);
  if (rc != NNFDRV_OK) {
    free(trace);
    return rc;
  }
  if (!cpb && link_bps) {
    uint64_t hz = api->clock_hz ? api->clock_hz : SIM_NOMINAL_CLOCK_HZ;
    cpb = (unsigned)((hz + link_bps - 1) / link_bps);
  }
  if (!cpb) cpb = 1;
  sim_transport *s = calloc(1, sizeof *s);
  if (!s || !(s->core = api->create())) {
    free(s);
    free(trace);
    if (handle) dlclose(handle);
    snprintf(msg, msglen, "sim: out of memory");
    return NNFDRV_ERR_NOMEM;
  }
  s->api = api;
  s->module = handle;
  if (trace) {
    s->trace_opened = api->cycles(s->core);
    if (api->trace_open(s->core, trace, from, to)) {
      snprintf(msg, msglen, "sim: trace=%s: cannot write the FST there (%s)", trace, strerror(errno));
      free(trace);
      api->destroy(s->core);
      if (handle) dlclose(handle);
      free(s);
      return NNFDRV_ERR_IO;
    }
    s->trace_path = trace;
    s->trace_from = from;
    s->trace_to = to;
    s->t.trace_range = sim_trace_range;
  }
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
