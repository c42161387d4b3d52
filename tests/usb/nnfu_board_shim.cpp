// nnfu_board_shim.cpp - the C API of nnfu_board.h over the Verilated
// nnf_dev_usb (prefix Vnnfu_board). The only C++ here is what Verilator
// requires.
#include "nnfu_board.h"

#include <new>

#include "Vnnfu_board.h"
#include "verilated.h"

struct nnfu_board {
  VerilatedContext ctx;
  Vnnfu_board *top = nullptr;
  double core_period_ns = 0, next_core_ns = 0;  // the core's next rising edge
  double now_ns = 0;                            // the last 48 MHz rising edge
  uint64_t core_cycles = 0;
};

static const double USB_PERIOD_NS = 1e9 / 48e6;

static void core_edge(nnfu_board *b) {
  b->top->clk = 1;
  b->top->eval();
  b->top->clk = 0;
  b->top->eval();
  b->core_cycles++;
}

static void usb_edge(nnfu_board *b) {
  b->top->clk48 = 1;
  b->top->eval();
  b->top->clk48 = 0;
  b->top->eval();
}

// Advance to the next 48 MHz rising edge: the core's edges before it, then
// it (an edge of both at the same instant: the core's first).
static void advance(nnfu_board *b) {
  const double t = b->now_ns + USB_PERIOD_NS;
  while (b->next_core_ns <= t) {
    core_edge(b);
    b->next_core_ns += b->core_period_ns;
  }
  usb_edge(b);
  b->now_ns = t;
}

extern "C" nnfu_board *nnfu_board_create(double core_hz, double phase_ns) {
  if (!(core_hz > 0)) return nullptr;
  nnfu_board *b = new (std::nothrow) nnfu_board;
  if (!b) return nullptr;
  b->top = new (std::nothrow) Vnnfu_board(&b->ctx, "top");
  if (!b->top) {
    delete b;
    return nullptr;
  }
  b->core_period_ns = 1e9 / core_hz;
  b->next_core_ns = phase_ns > 0 ? phase_ns : 0;
  Vnnfu_board *t = b->top;
  t->clk = 0;
  t->clk48 = 0;
  t->usb_dp_i = 1;  // idle J (the host's pull-down against our pull-up)
  t->usb_dn_i = 0;
  t->rst = 1;
  t->rst48 = 1;
  t->eval();
  for (int i = 0; i < 8; i++) advance(b);
  t->rst = 0;
  t->rst48 = 0;
  t->eval();
  for (int i = 0; i < 4; i++) advance(b);
  return b;
}

extern "C" void nnfu_board_destroy(nnfu_board *b) {
  if (!b) return;
  b->top->final();
  delete b->top;
  delete b;
}

extern "C" int nnfu_board_step(void *ctx, int dp, int dm, int host_drives, int *dev_dp, int *dev_dm,
                               int *dev_oe) {
  (void)host_drives;
  nnfu_board *b = static_cast<nnfu_board *>(ctx);
  b->top->usb_dp_i = dp ? 1 : 0;
  b->top->usb_dn_i = dm ? 1 : 0;
  advance(b);
  *dev_dp = b->top->usb_dp_o;
  *dev_dm = b->top->usb_dn_o;
  *dev_oe = b->top->usb_oe;
  return 0;
}

extern "C" uint64_t nnfu_board_core_cycles(const nnfu_board *b) { return b->core_cycles; }

extern "C" unsigned nnfu_board_leds(const nnfu_board *b) {
  return (b->top->led_act ? 1u : 0u) | (b->top->led_err ? 2u : 0u) | (b->top->led_run ? 4u : 0u);
}

extern "C" int nnfu_board_pullup(const nnfu_board *b) { return b->top->usb_pullup ? 1 : 0; }
