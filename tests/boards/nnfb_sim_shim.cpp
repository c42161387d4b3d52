// nnfb_sim_shim.cpp - the C API of nnfb_sim.h over the Verilated board-level
// tops. The only C++ here is what Verilator requires.
#include "nnfb_sim.h"

#include <new>

#include "Vnnf_dev_uart.h"
#include "Vtb_ft245_core.h"
#include "verilated.h"

struct nnfb_uart {
  VerilatedContext ctx;
  Vnnf_dev_uart *top = nullptr;
};

static void uart_edge(Vnnf_dev_uart *t) {
  t->clk = 1;
  t->eval();
  t->clk = 0;
  t->eval();
}

extern "C" nnfb_uart *nnfb_uart_create(unsigned div) {
  nnfb_uart *s = new (std::nothrow) nnfb_uart;
  if (!s) return nullptr;
  s->top = new (std::nothrow) Vnnf_dev_uart(&s->ctx, "nnf_dev_uart");
  if (!s->top) {
    delete s;
    return nullptr;
  }
  Vnnf_dev_uart *t = s->top;
  t->clk = 0;
  t->baud_div = (uint16_t)div;
  t->rxd = 1;
  t->rst = 1;
  t->eval();
  for (int i = 0; i < 4; i++) uart_edge(t);
  t->rst = 0;
  t->eval();
  return s;
}

extern "C" void nnfb_uart_destroy(nnfb_uart *s) {
  if (!s) return;
  s->top->final();
  delete s->top;
  delete s;
}

extern "C" int nnfb_uart_step(nnfb_uart *s, int rxd) {
  s->top->rxd = rxd ? 1 : 0;
  uart_edge(s->top);
  return s->top->txd;
}

extern "C" unsigned nnfb_uart_leds(const nnfb_uart *s) {
  return (unsigned)(s->top->led_act | (s->top->led_err << 1) | (s->top->led_run << 2));
}

struct nnfb_ft245 {
  VerilatedContext ctx;
  Vtb_ft245_core *top = nullptr;
};

static void ft_edge(Vtb_ft245_core *t) {
  t->clk = 1;
  t->eval();
  t->clk = 0;
  t->eval();
}

extern "C" nnfb_ft245 *nnfb_ft245_create(void) {
  nnfb_ft245 *s = new (std::nothrow) nnfb_ft245;
  if (!s) return nullptr;
  s->top = new (std::nothrow) Vtb_ft245_core(&s->ctx, "tb_ft245_core");
  if (!s->top) {
    delete s;
    return nullptr;
  }
  Vtb_ft245_core *t = s->top;
  t->clk = 0;
  t->rxf_n = 1;
  t->txe_n = 1;
  t->d_in = 0;
  t->rst = 1;
  t->eval();
  for (int i = 0; i < 4; i++) ft_edge(t);
  t->rst = 0;
  t->eval();
  return s;
}

extern "C" void nnfb_ft245_destroy(nnfb_ft245 *s) {
  if (!s) return;
  s->top->final();
  delete s->top;
  delete s;
}

extern "C" nnfb_ft245_out nnfb_ft245_outputs(const nnfb_ft245 *s) {
  nnfb_ft245_out o;
  o.rd_n = s->top->rd_n;
  o.wr_n = s->top->wr_n;
  o.oe_n = s->top->oe_n;
  o.d_out = s->top->d_out;
  o.d_oe = s->top->d_oe;
  return o;
}

extern "C" void nnfb_ft245_step(nnfb_ft245 *s, const nnfb_ft245_in *in) {
  s->top->rxf_n = in->rxf_n ? 1 : 0;
  s->top->txe_n = in->txe_n ? 1 : 0;
  s->top->d_in = (uint8_t)in->d_in;
  ft_edge(s->top);
}
