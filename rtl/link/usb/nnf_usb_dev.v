// nnf_usb_dev: the USB full-speed device (docs/usb.md), all in the 48 MHz
// domain: the pins to EP1's byte streams. One vendor-specific interface
// (VID:PID, strings "nnfpga project" / "nnfpga" / SERIAL in hex) with bulk
// EP1 OUT and EP1 IN, 64 bytes each; EP0 answers the standard requests.
//
//   pins -> nnf_usb_rx -> nnf_usb_pkt_rx -> nnf_usb_xact -> nnf_usb_pkt_tx -> nnf_usb_tx -> pins
//                                             |  EP0: nnf_usb_ep0 (+ nnf_usb_desc)
//                                             |  EP1 OUT: nnf_usb_ep_out -> out_*
//                                             |  EP1 IN:  nnf_usb_ep_in  <- in_*
//
// out_*: the host's bytes in order, each packet released only once its
// CRC16 was good, its toggle new and it was ACKed. in_*: bytes for the
// host, sent in packets of up to 64 as the host asks (a zero-length packet
// after a full one when nothing more is there). The receiver hears J while
// the device drives the pins. A bus reset (SE0 for 2.5 us) empties both
// buffers and returns address 0, configuration 0, toggles DATA0.
// `dp_pullup` (D+'s 1.5 kOhm) is on from the first clock after reset.
`default_nettype none

module nnf_usb_dev #(
    parameter [15:0] VID = 16'h1209,
    parameter [15:0] PID = 16'h0001,
    parameter [15:0] BCD_DEVICE = 16'h0100,
    parameter [15:0] SERIAL = 16'h0001,     // string 3, four hex digits
    parameter integer EP0_MAX = 64          // EP0's packet size: 8, 16, 32 or 64
) (
    input  wire       clk,                  // 48 MHz
    input  wire       rst,                  // synchronous, active high
    input  wire       dp_i,                 // the pins as read (unsynchronised)
    input  wire       dn_i,
    output wire       dp_o,                 // driven when oe
    output wire       dn_o,
    output wire       oe,
    output reg        dp_pullup,            // D+ 1.5 kOhm pull-up on ("pullup" is a Verilog keyword)
    // EP1 OUT
    output wire       out_valid,
    output wire [7:0] out_data,
    input  wire       out_ready,
    // EP1 IN
    input  wire       in_valid,
    input  wire [7:0] in_data,
    output wire       in_ready,
    output wire       configured,
    output wire       bus_reset,            // one-cycle strobes
    output wire       activity,
    output wire       error
);
    wire brst = rst || bus_reset;

    always @(posedge clk) dp_pullup <= !rst;

    // receive: the line as J while we drive it
    wire [1:0] line;
    wire       rx_active, rx_start, rx_valid, rx_end;
    wire [7:0] rx_data;
    wire [2:0] rx_err;
    nnf_usb_rx u_rx (
        .clk(clk), .rst(rst), .dp(dp_i || oe), .dm(dn_i && !oe), .line(line), .active(rx_active),
        .rx_start(rx_start), .rx_valid(rx_valid), .rx_data(rx_data), .rx_end(rx_end), .err(rx_err));

    wire       pk_valid, end_valid, end_ok;
    wire [7:0] pk_data;
    wire [2:0] end_why;
    wire [3:0] end_pid, tok_ep;
    wire [6:0] tok_addr;
    nnf_usb_pkt_rx #(.MAX_PAYLOAD(64)) u_pkt_rx (
        .clk(clk), .rst(brst), .rx_start(rx_start), .rx_valid(rx_valid), .rx_data(rx_data),
        .rx_end(rx_end), .rx_err(rx_err), .out_valid(pk_valid), .out_data(pk_data),
        .end_valid(end_valid), .end_ok(end_ok), .end_why(end_why), .end_pid(end_pid),
        .tok_addr(tok_addr), .tok_ep(tok_ep));

    // transmit
    wire       send_valid, send_ready, pl_valid, pl_ready, underrun;
    wire [3:0] send_pid;
    wire [6:0] send_len;
    wire [7:0] pl_data;
    wire       tx_valid, tx_last, tx_ready, tx_busy;
    wire [7:0] tx_data;
    nnf_usb_pkt_tx #(.LEN_W(7)) u_pkt_tx (
        .clk(clk), .rst(brst), .drop(underrun), .send_valid(send_valid), .send_pid(send_pid),
        .send_len(send_len), .send_ready(send_ready), .pl_valid(pl_valid), .pl_data(pl_data),
        .pl_ready(pl_ready), .tx_valid(tx_valid), .tx_data(tx_data), .tx_last(tx_last),
        .tx_ready(tx_ready));
    nnf_usb_tx u_tx (
        .clk(clk), .rst(brst), .in_valid(tx_valid), .in_data(tx_data), .in_last(tx_last),
        .in_ready(tx_ready), .dp_o(dp_o), .dm_o(dn_o), .oe(oe), .busy(tx_busy), .underrun(underrun));

    // transactions
    wire [6:0] addr;
    wire       xf_ep, xf_setup, rx_we, setup_ok, out_ok, tx_begin, in_ack;
    wire [5:0] rx_idx;
    wire [7:0] rx_byte;
    wire [6:0] rx_len, tx_idx;
    wire       ep0_stall, ep1_out_halt, ep1_in_halt, ep1_out_ready, ep1_out_tog_clr, ep1_in_tog_clr;
    wire       ep0_in_has, ep1_in_has;
    wire [6:0] ep0_in_len, ep1_in_len;
    wire [7:0] ep0_in_data, ep1_in_data;
    nnf_usb_xact u_xact (
        .clk(clk), .rst(rst), .line(line), .rx_active(rx_active),
        .pk_valid(pk_valid), .pk_data(pk_data), .end_valid(end_valid), .end_ok(end_ok),
        .end_pid(end_pid), .tok_addr(tok_addr), .tok_ep(tok_ep),
        .send_valid(send_valid), .send_pid(send_pid), .send_len(send_len), .send_ready(send_ready),
        .pl_valid(pl_valid), .pl_data(pl_data), .pl_ready(pl_ready), .tx_busy(tx_busy),
        .addr(addr), .configured(configured), .bus_reset(bus_reset), .activity(activity), .error(error),
        .xf_ep(xf_ep), .xf_setup(xf_setup), .rx_we(rx_we), .rx_idx(rx_idx), .rx_data(rx_byte),
        .rx_len(rx_len), .setup_ok(setup_ok), .out_ok(out_ok),
        .ep0_stall(ep0_stall), .ep1_out_halt(ep1_out_halt), .ep1_in_halt(ep1_in_halt),
        .ep1_out_ready(ep1_out_ready), .ep1_out_tog_clr(ep1_out_tog_clr), .ep1_in_tog_clr(ep1_in_tog_clr),
        .ep0_in_has(ep0_in_has), .ep0_in_len(ep0_in_len), .ep0_in_data(ep0_in_data),
        .ep1_in_has(ep1_in_has), .ep1_in_len(ep1_in_len), .ep1_in_data(ep1_in_data),
        .tx_begin(tx_begin), .tx_idx(tx_idx), .in_ack(in_ack));

    nnf_usb_ep0 #(.VID(VID), .PID(PID), .BCD_DEVICE(BCD_DEVICE), .SERIAL(SERIAL), .EP0_MAX(EP0_MAX)) u_ep0 (
        .clk(clk), .rst(brst), .xf_ep(xf_ep), .xf_setup(xf_setup), .rx_we(rx_we), .rx_idx(rx_idx),
        .rx_data(rx_byte), .setup_ok(setup_ok), .out_ok(out_ok), .in_ack(in_ack), .tx_idx(tx_idx),
        .stall(ep0_stall), .in_has(ep0_in_has), .in_len(ep0_in_len), .in_data(ep0_in_data),
        .addr(addr), .configured(configured), .ep1_out_halt(ep1_out_halt), .ep1_in_halt(ep1_in_halt),
        .ep1_out_tog_clr(ep1_out_tog_clr), .ep1_in_tog_clr(ep1_in_tog_clr));

    nnf_usb_ep_out u_ep1_out (
        .clk(clk), .rst(brst), .we(rx_we && xf_ep), .idx(rx_idx), .data(rx_byte),
        .commit(out_ok && xf_ep), .len(rx_len), .ready(ep1_out_ready),
        .out_valid(out_valid), .out_data(out_data), .out_ready(out_ready));

    nnf_usb_ep_in u_ep1_in (
        .clk(clk), .rst(brst), .in_valid(in_valid), .in_data(in_data), .in_ready(in_ready),
        .has(ep1_in_has), .len(ep1_in_len), .begin_i(tx_begin && tok_ep[0]), .idx(tx_idx[5:0]),
        .data(ep1_in_data), .ack(in_ack && xf_ep));

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = ^{end_why};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
