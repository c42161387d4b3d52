// nnfb_board_shim.cpp - the C API of nnfb_board.h over a Verilated board top
// (prefix Vnnfb_board). The board's pins are named by the top the library is
// built for (NNFB_TOP_<module>, set by nnfb_board_variant). The only C++ here
// is what Verilator requires.
#include "nnfb_board.h"

#include <new>

#include "Vnnfb_board.h"
#include "verilated.h"

#if defined(NNFB_TOP_nnf_top_icebreaker)
#define NNFB_CLK(t) (t)->CLK
#define NNFB_RXD(t) (t)->RX
#define NNFB_TXD(t) (t)->TX
#define NNFB_BUTTON(t, pressed) ((t)->BTN_N = (pressed) ? 0 : 1)
#define NNFB_ERR(t) (!(t)->LEDR_N)
#elif defined(NNFB_TOP_nnf_top_ulx3s)
#define NNFB_CLK(t) (t)->clk_25mhz
#define NNFB_RXD(t) (t)->ftdi_txd
#define NNFB_TXD(t) (t)->ftdi_rxd
#define NNFB_BUTTON(t, pressed) ((t)->btn = (pressed) ? 1 : 0)
#define NNFB_ERR(t) (((t)->led >> 1) & 1)
#else
#error "nnfb_board_shim.cpp: no pin map for this board top (NNFB_TOP_<module>)"
#endif

struct nnfb_board {
  VerilatedContext ctx;
  Vnnfb_board *top = nullptr;
};

static void edge(Vnnfb_board *t) {
  NNFB_CLK(t) = 1;
  t->eval();
  NNFB_CLK(t) = 0;
  t->eval();
}

extern "C" nnfb_board *nnfb_board_create(void) {
  nnfb_board *b = new (std::nothrow) nnfb_board;
  if (!b) return nullptr;
  b->top = new (std::nothrow) Vnnfb_board(&b->ctx, "top");
  if (!b->top) {
    delete b;
    return nullptr;
  }
  Vnnfb_board *t = b->top;
  NNFB_CLK(t) = 0;
  NNFB_RXD(t) = 1;
  NNFB_BUTTON(t, 0);
  t->eval();
  NNFB_BUTTON(t, 1);
  t->eval();
  for (int i = 0; i < 8; i++) edge(t);
  NNFB_BUTTON(t, 0);
  t->eval();
  for (int i = 0; i < 16; i++) edge(t);
  return b;
}

extern "C" void nnfb_board_destroy(nnfb_board *b) {
  if (!b) return;
  b->top->final();
  delete b->top;
  delete b;
}

extern "C" int nnfb_board_step(nnfb_board *b, int rxd) {
  NNFB_RXD(b->top) = rxd ? 1 : 0;
  edge(b->top);
  return NNFB_TXD(b->top) ? 1 : 0;
}

extern "C" int nnfb_board_err_led(const nnfb_board *b) { return NNFB_ERR(b->top) ? 1 : 0; }
