/*
 * nnfu_dev.h - the USB device (rtl/link/usb/nnf_usb_dev.v) in Verilator, one
 * 48 MHz clock per call, for the tests in tests/usb (and as the device under
 * nnfu_hc's step callback).
 *
 * Two builds of the RTL: EP0 packets of 64 bytes (the shipped device) and
 * of 8 (so that the descriptors go in multi-packet data stages).
 *
 * Ownership: nnfu_dev_create returns a handle owned by the caller
 * (nnfu_dev_destroy).
 */
#ifndef NNFU_DEV_H
#define NNFU_DEV_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int dp, dm;                   /* the line at the pins */
  int out_ready;                /* EP1 OUT sink */
  int in_valid, in_data;        /* EP1 IN source */
} nnfu_dev_in;

typedef struct {
  /* sampled before the edge: a byte moved in this clock when
   * out_valid && out_ready (out_data) / in_valid && in_ready */
  int out_valid, out_data, in_ready;
  /* after the edge */
  int dp_o, dm_o, oe, pullup, configured, bus_reset, activity, error;
} nnfu_dev_out;

typedef struct nnfu_dev nnfu_dev;

/* Create (ep0_max 64 or 8) and reset. NULL on out of memory or another ep0_max. */
nnfu_dev *nnfu_dev_create(int ep0_max);
void nnfu_dev_destroy(nnfu_dev *d);
/* One clock edge with these inputs. */
void nnfu_dev_step(nnfu_dev *d, const nnfu_dev_in *in, nnfu_dev_out *out);
/* rst high for one clock edge. */
void nnfu_dev_reset(nnfu_dev *d);

#ifdef __cplusplus
}
#endif
#endif /* NNFU_DEV_H */
