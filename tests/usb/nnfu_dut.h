/*
 * nnfu_dut.h - the USB bit and packet layers in Verilator (nnfu_dut.v),
 * one 48 MHz clock per call, for the tests in tests/usb.
 *
 * Ownership: nnfu_dut_create returns a handle owned by the caller
 * (nnfu_dut_destroy).
 */
#ifndef NNFU_DUT_H
#define NNFU_DUT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int dp, dm;                               /* the pins as the host drives them */
  int send_valid, send_pid, send_len;       /* a packet to send */
  int pl_valid, pl_data;                    /* the payload source */
} nnfu_dut_in;

typedef struct {
  /* receive, bytes (nnf_usb_rx) */
  int rx_active, rx_start, rx_valid, rx_data, rx_end, rx_err;
  /* receive, packets (nnf_usb_pkt_rx) */
  int out_valid, out_data, end_valid, end_ok, end_why, end_pid, tok_addr, tok_ep;
  /* transmit */
  int send_ready, pl_ready, dp_o, dm_o, oe, tx_busy, underrun;
} nnfu_dut_out;

typedef struct nnfu_dut nnfu_dut;

/* Create and reset (idle J on the pins). NULL on out of memory. */
nnfu_dut *nnfu_dut_create(void);
void nnfu_dut_destroy(nnfu_dut *d);
/* The outputs before the next edge (the combinational ones see `in`). */
void nnfu_dut_peek(nnfu_dut *d, const nnfu_dut_in *in, nnfu_dut_out *out);
/* One clock edge with these inputs; `out` as after the edge (registered). */
void nnfu_dut_step(nnfu_dut *d, const nnfu_dut_in *in, nnfu_dut_out *out);

#ifdef __cplusplus
}
#endif
#endif /* NNFU_DUT_H */
