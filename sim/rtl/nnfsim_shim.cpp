// nnfsim_shim.cpp - the part of nnfsim.h that needs C++: it owns the
// Verilated nnf_gemm (Vnnf_gemm), its VerilatedContext and the FST trace, and
// moves the port struct in and out of the model once per step. Everything
// else (host port transfers, commands, checks) is C, in nnfsim.c.
//
// The array size and buffer depths come from the RTL itself: nnfsim_params.vlt
// marks nnf_gemm's parameters public, so Verilator emits them as constants of
// the module class (Vnnf_gemm_nnf_gemm::ROWS, ...), -G overrides included.
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>

#include "Vnnf_gemm.h"
#include "Vnnf_gemm_nnf_gemm.h"
#include "verilated.h"
#include "verilated_fst_c.h"

#include "nnfsim_impl.h"

struct nnfsim {
  VerilatedContext ctx;
  Vnnf_gemm *top = nullptr;
  VerilatedFstC *trace = nullptr;
  uint64_t time = 0;  // trace time, two units per cycle
  nnfsim_ports ports;
  nnfm_config cfg;
  nnfsim_host host;
};

typedef Vnnf_gemm_nnf_gemm P;  // the RTL's parameters

// Drive the inputs of the port struct into the model.
static inline void drive(Vnnf_gemm *t, const nnfsim_ports *p) {
  t->cmd_valid = p->cmd_valid;
  t->cmd_m = p->cmd_m;
  t->cmd_k = p->cmd_k;
  t->cmd_n = p->cmd_n;
  t->cmd_a_base = p->cmd_a_base;
  t->cmd_w_base = p->cmd_w_base;
  t->cmd_p_base = p->cmd_p_base;
  t->cmd_o_base = p->cmd_o_base;
  t->cmd_zp = (uint8_t)p->cmd_zp;
  t->cmd_lo = (uint8_t)p->cmd_lo;
  t->cmd_hi = (uint8_t)p->cmd_hi;
  t->cmd_lut = p->cmd_lut & 1;
  t->cmd_conv = p->cmd_conv & 1;
  t->cmd_pool2 = p->cmd_pool2 & 1;
  t->cmd_kt = p->cmd_kt;
  t->cmd_ct = p->cmd_ct;
  t->cmd_h = p->cmd_h & 0x7ff;
  t->cmd_w = p->cmd_w & 0x7ff;
  t->cmd_b = p->cmd_b & 0x7ff;
  t->cmd_oh = p->cmd_oh & 0x7ff;
  t->cmd_ow = p->cmd_ow & 0x7ff;
  t->cmd_kh = p->cmd_kh & 7;
  t->cmd_kw = p->cmd_kw & 7;
  t->cmd_sh = p->cmd_sh & 7;
  t->cmd_sw = p->cmd_sw & 7;
  t->cmd_ph = p->cmd_ph & 7;
  t->cmd_pw = p->cmd_pw & 7;
  t->cmd_wb = p->cmd_wb;
  t->cmd_hwb = p->cmd_hwb;
  t->cmd_zp_in = (uint8_t)p->cmd_zp_in;
  t->hp_we = p->hp_we & 1;
  t->hp_re = p->hp_re & 1;
  t->hp_sel = p->hp_sel & 3;
  t->hp_addr = p->hp_addr;
  t->hp_wdata = p->hp_wdata;
  t->cnt_clear = p->cnt_clear & 1;
  t->lp_re = 0;  // the LIF core's ACT port: unused here
  t->lp_we = 0;
  t->lp_ra = 0;
  t->lp_wa = 0;
}

// Copy the model's outputs into the port struct.
static inline void sample(const Vnnf_gemm *t, nnfsim_ports *p) {
  p->cmd_ready = t->cmd_ready;
  p->busy = t->busy;
  p->done = t->done;
  p->hp_rdata = t->hp_rdata;
  p->cnt_cycles = t->cnt_cycles;
  p->cnt_busy = t->cnt_busy;
  p->cnt_macs = t->cnt_macs;
}

// n clock cycles with the inputs already driven. Each cycle: the falling edge
// (clk = 0; the inputs settle, hp_wait is sampled), then the rising edge.
static inline uint8_t cycles(nnfsim *s, uint64_t n) {
  Vnnf_gemm *t = s->top;
  uint8_t wait = 0;
  if (s->trace) {
    for (; n; n--) {
      t->clk = 0;
      t->eval();
      s->trace->dump(s->time++);
      wait = t->hp_wait;
      t->clk = 1;
      t->eval();
      s->trace->dump(s->time++);
    }
  } else {
    for (; n; n--) {
      t->clk = 0;
      t->eval();
      wait = t->hp_wait;
      t->clk = 1;
      t->eval();
    }
  }
  return wait;
}

extern "C" {

nnfsim *nnfsim_create(void) {
  nnfsim *s = new (std::nothrow) nnfsim;
  if (!s) return nullptr;
  s->ctx.traceEverOn(true);
  s->top = new (std::nothrow) Vnnf_gemm(&s->ctx, "nnf_gemm");
  if (!s->top) {
    delete s;
    return nullptr;
  }
  std::memset(&s->ports, 0, sizeof s->ports);
  std::memset(&s->host, 0, sizeof s->host);
  s->cfg.rows = (int)P::ROWS;
  s->cfg.cols = (int)P::COLS;
  s->cfg.act_words = (uint32_t)P::ACT_WORDS;
  s->cfg.w_words = (uint32_t)P::W_WORDS;
  s->cfg.p_words = (uint32_t)P::P_WORDS;
  s->cfg.acc_depth = (uint32_t)P::ACC_DEPTH;
  s->cfg.luts = 1; // nnf_gemm's LUT_COUNT default (no variant sets it; Verilator keeps no constant for it)
  // The RTL refuses to elaborate outside these rules; the model must agree.
  if (nnfm_config_check(&s->cfg) != NNFM_OK) {
    std::fprintf(stderr, "nnfsim: the RTL's configuration is not one the model accepts\n");
    nnfsim_destroy(s);
    return nullptr;
  }
  s->top->clk = 1;
  drive(s->top, &s->ports);
  s->top->rst = 1;
  s->top->eval();
  nnfsim_reset(s, 4);
  return s;
}

void nnfsim_destroy(nnfsim *s) {
  if (!s) return;
  nnfsim_trace_close(s);
  if (s->top) {
    s->top->final();
    delete s->top;
  }
  delete s;
}

nnfm_config nnfsim_config(const nnfsim *s) {
  if (!s) {
    nnfm_config z;
    std::memset(&z, 0, sizeof z);
    return z;
  }
  return s->cfg;
}

long nnfsim_param(const nnfsim *s, const char *name) {
  if (!s || !name) return -1;
  static const struct {
    const char *name;
    long value;
  } tab[] = {
      {"ROWS", (long)P::ROWS},           {"COLS", (long)P::COLS},
      {"ACT_WORDS", (long)P::ACT_WORDS}, {"W_WORDS", (long)P::W_WORDS},
      {"P_WORDS", (long)P::P_WORDS},     {"ACC_DEPTH", (long)P::ACC_DEPTH},
      {"VEC_SERIAL", (long)P::VEC_SERIAL}, {"PE_DSP", (long)P::PE_DSP},
  };
  for (const auto &e : tab)
    if (!std::strcmp(e.name, name)) return e.value;
  return -1;
}

void nnfsim_reset(nnfsim *s, unsigned n) {
  if (!s) return;
  nnfsim_ports *p = &s->ports;
  p->cmd_valid = 0;
  p->hp_we = 0;
  p->hp_re = 0;
  p->cnt_clear = 0;
  drive(s->top, p);
  s->top->rst = 1;
  cycles(s, n ? n : 1);
  s->top->rst = 0;
  s->top->eval();  // cmd_ready depends on rst
  sample(s->top, p);
  p->hp_wait = 0;
  s->host.pending = 0;
}

void nnfsim_step(nnfsim *s, uint64_t n) {
  if (!s || !n) return;
  drive(s->top, &s->ports);
  s->ports.hp_wait = cycles(s, n);
  sample(s->top, &s->ports);
}

nnfsim_ports *nnfsim_ports_of(nnfsim *s) { return s ? &s->ports : nullptr; }

int nnfsim_trace_open(nnfsim *s, const char *path) {
  if (!s) return NNFSIM_ERR_NULL;
  if (!path) return nnfsim_fail_(s, NNFSIM_ERR_NULL, "trace: NULL path");
  nnfsim_trace_close(s);
  // The FST writer does not report an unwritable path: try it first.
  std::FILE *f = std::fopen(path, "wb");
  if (!f) return nnfsim_fail_(s, NNFSIM_ERR_IO, "trace: cannot open %s", path);
  std::fclose(f);
  s->trace = new (std::nothrow) VerilatedFstC;
  if (!s->trace) return nnfsim_fail_(s, NNFSIM_ERR_IO, "trace: out of memory");
  s->top->trace(s->trace, 99);
  s->trace->open(path);
  if (!s->trace->isOpen()) {
    delete s->trace;
    s->trace = nullptr;
    return nnfsim_fail_(s, NNFSIM_ERR_IO, "trace: cannot open %s", path);
  }
  s->trace->dump(s->time++);  // the state at the start
  return NNFSIM_OK;
}

void nnfsim_trace_close(nnfsim *s) {
  if (s && s->trace) {
    s->trace->close();
    delete s->trace;
    s->trace = nullptr;
  }
}

nnfsim_host *nnfsim_host_of_(nnfsim *s) { return &s->host; }
const nnfsim_host *nnfsim_host_of_const_(const nnfsim *s) { return &s->host; }

}  // extern "C"
