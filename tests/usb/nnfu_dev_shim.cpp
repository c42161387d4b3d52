// nnfu_dev_shim.cpp - the C API of nnfu_dev.h over the Verilated
// nnf_usb_dev (two builds: EP0_MAX 64 and 8). The only C++ here is what
// Verilator requires.
#include "nnfu_dev.h"

#include <new>

#include "Vnnfu_dev64.h"
#include "Vnnfu_dev8.h"
#include "verilated.h"

struct nnfu_dev {
  VerilatedContext ctx;
  Vnnfu_dev64 *m64 = nullptr;
  Vnnfu_dev8 *m8 = nullptr;
};

template <class M> static void step_model(M *t, const nnfu_dev_in *in, nnfu_dev_out *o) {
  t->dp_i = in->dp ? 1 : 0;
  t->dn_i = in->dm ? 1 : 0;
  t->out_ready = in->out_ready ? 1 : 0;
  t->in_valid = in->in_valid ? 1 : 0;
  t->in_data = (uint8_t)in->in_data;
  t->clk = 0;
  t->eval();
  o->out_valid = t->out_valid;
  o->out_data = t->out_data;
  o->in_ready = t->in_ready;
  t->clk = 1;
  t->eval();
  o->dp_o = t->dp_o;
  o->dm_o = t->dn_o;
  o->oe = t->oe;
  o->pullup = t->dp_pullup;
  o->configured = t->configured;
  o->bus_reset = t->bus_reset;
  o->activity = t->activity;
  o->error = t->error;
}

template <class M> static void reset_model(M *t) {
  nnfu_dev_in in = {1, 0, 0, 0, 0};
  nnfu_dev_out o;
  t->rst = 1;
  step_model(t, &in, &o);
  step_model(t, &in, &o);
  t->rst = 0;
}

extern "C" nnfu_dev *nnfu_dev_create(int ep0_max) {
  if (ep0_max != 64 && ep0_max != 8) return nullptr;
  nnfu_dev *d = new (std::nothrow) nnfu_dev;
  if (!d) return nullptr;
  if (ep0_max == 64) d->m64 = new (std::nothrow) Vnnfu_dev64(&d->ctx, "nnf_usb_dev");
  else d->m8 = new (std::nothrow) Vnnfu_dev8(&d->ctx, "nnf_usb_dev");
  if (!d->m64 && !d->m8) {
    delete d;
    return nullptr;
  }
  nnfu_dev_reset(d);
  return d;
}

extern "C" void nnfu_dev_destroy(nnfu_dev *d) {
  if (!d) return;
  if (d->m64) {
    d->m64->final();
    delete d->m64;
  }
  if (d->m8) {
    d->m8->final();
    delete d->m8;
  }
  delete d;
}

extern "C" void nnfu_dev_reset(nnfu_dev *d) {
  if (d->m64) reset_model(d->m64);
  else reset_model(d->m8);
}

extern "C" void nnfu_dev_step(nnfu_dev *d, const nnfu_dev_in *in, nnfu_dev_out *out) {
  if (d->m64) step_model(d->m64, in, out);
  else step_model(d->m8, in, out);
}
