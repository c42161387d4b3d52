// nnf_uart: the UART link adapter. nnf_uart_rx -> nnf_fifo -> the core's
// receive port (rx_*); the core's transmit port (tx_*) -> nnf_uart_tx.
//
// The receiver cannot be held off (a UART has no flow control here), so a
// byte arriving while the FIFO is full is lost: `overrun` pulses, the frame's
// CRC fails and the host retries. The FIFO only has to cover the few cycles
// a WRITE waits for the engine's output writer (docs/protocol.md); a host
// that WRITEs W/P/LUT/PROG while a program runs must WAIT first.
`default_nettype none

module nnf_uart #(
    parameter integer DIV_W     = 16,
    parameter integer RX_FIFO   = 16        // bytes, power of two
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [DIV_W-1:0] div,            // clocks per bit, >= 4
    input  wire             rxd,
    output wire             txd,
    // to the core's receive port
    output wire             rx_valid,
    output wire [7:0]       rx_data,
    input  wire             rx_ready,
    // from the core's transmit port
    input  wire             tx_valid,
    input  wire [7:0]       tx_data,
    output wire             tx_ready,
    // status strobes and levels (LEDs, counters)
    output wire             overrun,
    output wire             frame_err,
    output wire             rx_busy,
    output wire             tx_busy
);
    wire       b_valid;
    wire [7:0] b_data;
    wire       f_ready, f_full;

    nnf_uart_rx #(.DIV_W(DIV_W)) u_rx (
        .clk(clk), .rst(rst), .div(div), .rxd(rxd), .out_valid(b_valid), .out_data(b_data),
        .frame_err(frame_err), .busy(rx_busy));

    nnf_fifo #(.DEPTH(RX_FIFO), .W(8)) u_fifo (
        .clk(clk), .rst(rst), .in_valid(b_valid), .in_data(b_data), .in_ready(f_ready),
        .out_valid(rx_valid), .out_data(rx_data), .out_ready(rx_ready), .full(f_full));

    assign overrun = b_valid && !f_ready;

    nnf_uart_tx #(.DIV_W(DIV_W)) u_tx (
        .clk(clk), .rst(rst), .div(div), .in_valid(tx_valid), .in_data(tx_data),
        .in_ready(tx_ready), .txd(txd), .busy(tx_busy));

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = f_full;
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
