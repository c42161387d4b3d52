// nnfu_dut_shim.cpp - the C API of nnfu_dut.h over the Verilated nnfu_dut.
// The only C++ here is what Verilator requires.
#include "nnfu_dut.h"

#include <new>

#include "Vnnfu_dut.h"
#include "verilated.h"

struct nnfu_dut {
  VerilatedContext ctx;
  Vnnfu_dut *top = nullptr;
};

static void set_in(Vnnfu_dut *t, const nnfu_dut_in *in) {
  t->dp = in->dp ? 1 : 0;
  t->dm = in->dm ? 1 : 0;
  t->send_valid = in->send_valid ? 1 : 0;
  t->send_pid = (uint8_t)(in->send_pid & 0xF);
  t->send_len = (uint8_t)(in->send_len & 0x7F);
  t->pl_valid = in->pl_valid ? 1 : 0;
  t->pl_data = (uint8_t)in->pl_data;
}

static void get_out(const Vnnfu_dut *t, nnfu_dut_out *o) {
  o->rx_active = t->rx_active;
  o->rx_start = t->rx_start;
  o->rx_valid = t->rx_valid;
  o->rx_data = t->rx_data;
  o->rx_end = t->rx_end;
  o->rx_err = t->rx_err;
  o->out_valid = t->out_valid;
  o->out_data = t->out_data;
  o->end_valid = t->end_valid;
  o->end_ok = t->end_ok;
  o->end_why = t->end_why;
  o->end_pid = t->end_pid;
  o->tok_addr = t->tok_addr;
  o->tok_ep = t->tok_ep;
  o->send_ready = t->send_ready;
  o->pl_ready = t->pl_ready;
  o->dp_o = t->dp_o;
  o->dm_o = t->dm_o;
  o->oe = t->oe;
  o->tx_busy = t->tx_busy;
  o->underrun = t->underrun;
}

static void edge(Vnnfu_dut *t) {
  t->clk = 1;
  t->eval();
  t->clk = 0;
  t->eval();
}

extern "C" nnfu_dut *nnfu_dut_create(void) {
  nnfu_dut *d = new (std::nothrow) nnfu_dut;
  if (!d) return nullptr;
  d->top = new (std::nothrow) Vnnfu_dut(&d->ctx, "nnfu_dut");
  if (!d->top) {
    delete d;
    return nullptr;
  }
  nnfu_dut_in in = {1, 0, 0, 0, 0, 0, 0};
  set_in(d->top, &in);
  d->top->clk = 0;
  d->top->rst = 1;
  d->top->eval();
  for (int i = 0; i < 4; i++) edge(d->top);
  d->top->rst = 0;
  d->top->eval();
  return d;
}

extern "C" void nnfu_dut_destroy(nnfu_dut *d) {
  if (!d) return;
  d->top->final();
  delete d->top;
  delete d;
}

extern "C" void nnfu_dut_peek(nnfu_dut *d, const nnfu_dut_in *in, nnfu_dut_out *out) {
  set_in(d->top, in);
  d->top->eval();
  get_out(d->top, out);
}

extern "C" void nnfu_dut_step(nnfu_dut *d, const nnfu_dut_in *in, nnfu_dut_out *out) {
  set_in(d->top, in);
  edge(d->top);
  get_out(d->top, out);
}
