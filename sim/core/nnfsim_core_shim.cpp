// nnfsim_core_shim.cpp - the C API of nnfsim_core.h over the Verilated
// nnf_core. The only C++ here is what Verilator requires.
#include "nnfsim_core.h"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <new>

#include "Vnnf_core.h"
#include "verilated.h"
#include "verilated_fst_c.h"

struct nnfsim_core {
  VerilatedContext ctx;
  Vnnf_core *top = nullptr;
  VerilatedFstC *trace = nullptr;
  uint64_t cycles = 0;
  // the trace's window of cycles [trace_from, trace_to) (nnfsim_core.h) and
  // the last time step it holds (trace_any: whether it holds one)
  uint64_t trace_from = 0, trace_to = NNFSIM_TRACE_NO_END, trace_last = 0;
  bool trace_any = false;
  // link pacing (nnfsim_core_set_pacing): every byte spends `cpb` cycles
  // on the link; the cycles the byte now on the receive / transmit side
  // has waited so far
  unsigned cpb = 1;
  uint64_t rx_wait = 0, tx_wait = 0;
};

static inline void dump(nnfsim_core *s, uint64_t t) {
  s->trace->dump(t);
  s->trace_last = t;
  s->trace_any = true;
}

// One cycle; the inputs are already set and evaluated (clk low). Traced
// inside the window as time steps 2c (the inputs, before the edge) and
// 2c + 1 (after it); the window's last cycle adds its end, 2(c + 1).
static inline void edge(nnfsim_core *s) {
  const uint64_t c = s->cycles;
  const bool tr = s->trace && c >= s->trace_from && c < s->trace_to;
  if (tr) dump(s, 2 * c);
  s->top->clk = 1;
  s->top->eval();
  if (tr) dump(s, 2 * c + 1);
  s->top->clk = 0;
  s->top->eval();
  s->cycles = c + 1;
  if (tr && c + 1 == s->trace_to) dump(s, 2 * (c + 1));
}

extern "C" nnfsim_core *nnfsim_core_create(void) {
  nnfsim_core *s = new (std::nothrow) nnfsim_core;
  if (!s) return nullptr;
  s->ctx.traceEverOn(true);
  s->top = new (std::nothrow) Vnnf_core(&s->ctx, "nnf_core");
  if (!s->top) {
    delete s;
    return nullptr;
  }
  s->top->clk = 0;
  s->top->rx_valid = 0;
  s->top->tx_ready = 0;
  s->top->eval();
  nnfsim_core_reset(s, 4);
  return s;
}

extern "C" void nnfsim_core_destroy(nnfsim_core *s) {
  if (!s) return;
  nnfsim_core_trace_close(s);
  s->top->final();
  delete s->top;
  delete s;
}

extern "C" void nnfsim_core_reset(nnfsim_core *s, unsigned cycles) {
  s->top->rst = 1;
  s->top->rx_valid = 0;
  s->top->tx_ready = 0;
  s->top->eval();
  for (unsigned i = 0; i < (cycles ? cycles : 1); i++) edge(s);
  s->top->rst = 0;
  s->top->eval();
}

extern "C" uint64_t nnfsim_core_run(nnfsim_core *s, const uint8_t *in, size_t in_len,
                                    size_t *in_used, uint8_t *out, size_t out_max,
                                    size_t *out_len, uint64_t max_cycles, int flags) {
  Vnnf_core *t = s->top;
  size_t ip = *in_used, op = *out_len;
  uint64_t n = 0;
  while (n < max_cycles) {
    const bool rx_ok = s->rx_wait + 1 >= s->cpb, tx_ok = s->tx_wait + 1 >= s->cpb;
    t->rx_valid = ip < in_len && rx_ok;
    t->rx_data = ip < in_len ? in[ip] : 0;
    t->tx_ready = op < out_max && tx_ok;
    t->eval();
    const bool take = t->rx_valid && t->rx_ready;
    const bool give = t->tx_valid && t->tx_ready;
    const uint8_t byte = t->tx_data;
    const bool rx_pend = ip < in_len, tx_pend = t->tx_valid && op < out_max;
    edge(s);
    n++;
    if (take) ip++;
    if (give) out[op++] = byte;
    s->rx_wait = rx_pend && !take ? s->rx_wait + 1 : 0;
    s->tx_wait = tx_pend && !give ? s->tx_wait + 1 : 0;
    if ((flags & NNFSIM_RUN_UNTIL_OUTPUT) && give) break;
    if ((flags & NNFSIM_RUN_UNTIL_QUIET) && ip == in_len && t->idle) break;
    if ((flags & NNFSIM_RUN_UNTIL_TAKEN) && take && ip == in_len) break;
  }
  t->rx_valid = 0;
  t->tx_ready = 0;
  t->eval();
  *in_used = ip;
  *out_len = op;
  return n;
}

extern "C" void nnfsim_core_set_pacing(nnfsim_core *s, unsigned cycles_per_byte) {
  s->cpb = cycles_per_byte ? cycles_per_byte : 1;
}

extern "C" int nnfsim_core_idle(const nnfsim_core *s) { return s->top->idle ? 1 : 0; }

extern "C" uint64_t nnfsim_core_cycles(const nnfsim_core *s) { return s->cycles; }

extern "C" int nnfsim_core_trace_window(nnfsim_core *s, const char *path, uint64_t from, uint64_t to) {
  if (!s || !path || from > to) {
    errno = EINVAL;
    return -1;
  }
  nnfsim_core_trace_close(s);
  // The FST writer does not report an unwritable path: try it first.
  std::FILE *f = std::fopen(path, "wb");
  if (!f) return -1;
  std::fclose(f);
  s->trace = new (std::nothrow) VerilatedFstC;
  if (!s->trace) {
    errno = ENOMEM;
    return -1;
  }
  s->top->trace(s->trace, 99);
  s->trace->open(path);
  if (!s->trace->isOpen()) {
    delete s->trace;
    s->trace = nullptr;
    errno = EIO;
    return -1;
  }
  s->trace_from = from;
  s->trace_to = to;
  s->trace_any = false;
  return 0;
}

extern "C" int nnfsim_core_trace_open(nnfsim_core *s, const char *path) {
  return nnfsim_core_trace_window(s, path, 0, NNFSIM_TRACE_NO_END);
}

extern "C" void nnfsim_core_trace_close(nnfsim_core *s) {
  if (s && s->trace) {
    // the end of a trace that stopped inside its window: clk low again
    const uint64_t end = 2 * s->cycles;
    if (s->trace_any && s->cycles <= s->trace_to && s->trace_last < end) dump(s, end);
    s->trace->close();
    delete s->trace;
    s->trace = nullptr;
  }
}
