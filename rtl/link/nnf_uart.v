// nnf_uart: the UART link adapter. nnf_uart_rx -> nnf_fifo -> a one-byte
// register -> the core's receive port (rx_*); the core's transmit port (tx_*) -> a one-byte
// register -> nnf_uart_tx.
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

    // The FIFO's head waits in a register (ov_q, od_q) for the core: the
    // core's rx_valid is a flip-flop, not the FIFO's pointer compare, at the
    // head of its byte handshake (into the frame receiver's state and CRC).
    // The head is refilled in the cycle the core takes it, so a byte a
    // cycle still passes; the FIFO holds one byte more in all.
    wire       q_valid;
    wire [7:0] q_data;
    reg        ov_q;
    reg  [7:0] od_q;
    wire       q_take = !ov_q || rx_ready;
    always @(posedge clk) begin
        if (rst)         ov_q <= 1'b0;
        else if (q_take) ov_q <= q_valid;
        if (q_take && q_valid) od_q <= q_data;
    end
    assign rx_valid = ov_q;
    assign rx_data  = od_q;

    nnf_fifo #(.DEPTH(RX_FIFO), .W(8)) u_fifo (
        .clk(clk), .rst(rst), .in_valid(b_valid), .in_data(b_data), .in_ready(f_ready),
        .out_valid(q_valid), .out_data(q_data), .out_ready(q_take), .full(f_full));

    assign overrun = b_valid && !f_ready;

    // The core's byte waits in a register (h_q) for the transmitter, which
    // takes it as its line goes idle: the core's handshake (tx_valid, its
    // frame state and answer byte, late in the cycle) ends at these nine
    // flip-flops, not at the shifter by the pin. The line is the same: the
    // next byte waits here while one is sent, so the bytes of a frame still
    // follow each other without a gap (a burst's first byte starts one
    // cycle later).
    reg        hv_q;
    reg  [7:0] h_q;
    wire       t_ready, t_busy;
    always @(posedge clk) begin
        if (rst)                     hv_q <= 1'b0;
        else if (tx_valid && !hv_q)  hv_q <= 1'b1;
        else if (t_ready)            hv_q <= 1'b0;
        if (tx_valid && !hv_q) h_q <= tx_data;
    end
    assign tx_ready = !hv_q;
    assign tx_busy  = t_busy || hv_q;

    nnf_uart_tx #(.DIV_W(DIV_W)) u_tx (
        .clk(clk), .rst(rst), .div(div), .in_valid(hv_q), .in_data(h_q),
        .in_ready(t_ready), .txd(txd), .busy(t_busy));

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = f_full;
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
