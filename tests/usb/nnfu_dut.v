// nnfu_dut: the USB bit and packet layers as the tests drive them
// (tests/usb). Receive: the pins -> nnf_usb_rx -> nnf_usb_pkt_rx, both
// layers' outputs visible. Transmit: send requests and a payload source ->
// nnf_usb_pkt_tx -> nnf_usb_tx -> the pins. The two directions are
// independent here (the protocol layer that pairs them is the next slice).
`default_nettype none

module nnfu_dut #(
    parameter integer MAX_PAYLOAD = 64
) (
    input  wire       clk,
    input  wire       rst,
    // receive
    input  wire       dp,
    input  wire       dm,
    output wire       rx_active,
    output wire       rx_start,
    output wire       rx_valid,
    output wire [7:0] rx_data,
    output wire       rx_end,
    output wire [2:0] rx_err,
    output wire       out_valid,
    output wire [7:0] out_data,
    output wire       end_valid,
    output wire       end_ok,
    output wire [2:0] end_why,
    output wire [3:0] end_pid,
    output wire [6:0] tok_addr,
    output wire [3:0] tok_ep,
    // transmit
    input  wire       send_valid,
    input  wire [3:0] send_pid,
    input  wire [6:0] send_len,
    output wire       send_ready,
    input  wire       pl_valid,
    input  wire [7:0] pl_data,
    output wire       pl_ready,
    output wire       dp_o,
    output wire       dm_o,
    output wire       oe,
    output wire       tx_busy,
    output wire       underrun
);
    wire [1:0] line_unused;
    nnf_usb_rx u_rx (
        .clk(clk), .rst(rst), .dp(dp), .dm(dm), .line(line_unused), .active(rx_active),
        .rx_start(rx_start), .rx_valid(rx_valid), .rx_data(rx_data), .rx_end(rx_end), .err(rx_err));
    nnf_usb_pkt_rx #(.MAX_PAYLOAD(MAX_PAYLOAD)) u_pkt_rx (
        .clk(clk), .rst(rst), .rx_start(rx_start), .rx_valid(rx_valid), .rx_data(rx_data),
        .rx_end(rx_end), .rx_err(rx_err), .out_valid(out_valid), .out_data(out_data),
        .end_valid(end_valid), .end_ok(end_ok), .end_why(end_why), .end_pid(end_pid),
        .tok_addr(tok_addr), .tok_ep(tok_ep));

    wire       tx_valid, tx_last, tx_ready;
    wire [7:0] tx_data;
    nnf_usb_pkt_tx #(.LEN_W(7)) u_pkt_tx (
        .clk(clk), .rst(rst), .drop(underrun), .send_valid(send_valid), .send_pid(send_pid), .send_len(send_len),
        .send_ready(send_ready), .pl_valid(pl_valid), .pl_data(pl_data), .pl_ready(pl_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_last(tx_last), .tx_ready(tx_ready));
    nnf_usb_tx u_tx (
        .clk(clk), .rst(rst), .in_valid(tx_valid), .in_data(tx_data), .in_last(tx_last),
        .in_ready(tx_ready), .dp_o(dp_o), .dm_o(dm_o), .oe(oe), .busy(tx_busy),
        .underrun(underrun));

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = ^line_unused;
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
