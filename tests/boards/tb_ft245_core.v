// tb_ft245_core: nnf_ft245 in front of nnf_core (by default the configuration
// of nnfb_sim.h; every core parameter can be set), the bridge's bus split into
// d_in / d_out / d_oe, for the Verilated FT245 test (test_ft245_link.c) with a
// C model of the bridge, and the differential fuzzer's FT245 link
// (tests/diff, --link ft245).
`default_nettype none

module tb_ft245_core #(
    parameter integer ROWS = 2, parameter integer COLS = ROWS,
    parameter integer ACT_WORDS = 256,
    parameter integer W_WORDS = 256, parameter integer P_WORDS = 16,
    parameter integer ACC_DEPTH = 64, parameter integer VEC_SERIAL = 1,
    parameter integer PROG_WORDS = 16, parameter integer STATE_WORDS = 256,
    parameter integer MAX_PAYLOAD = 1024,
    parameter integer TIMEOUT = 65536,
    parameter integer LIF_LANES = 1, parameter integer CNT_W = 64,
    parameter integer PE_DSP = 1, parameter integer PE_LUT_ROWS = 0, parameter integer PIPE_CUTS = 0
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rxf_n,
    input  wire       txe_n,
    input  wire [7:0] d_in,
    output wire [7:0] d_out,
    output wire       d_oe,
    output wire       rd_n,
    output wire       wr_n,
    output wire       oe_n
);
    wire       rx_valid, rx_ready, tx_valid, tx_ready, running, idle;
    wire [7:0] rx_data, tx_data;

    nnf_ft245 u_ft (
        .clk(clk), .rst(rst), .rxf_n(rxf_n), .txe_n(txe_n), .d_in(d_in), .d_out(d_out),
        .d_oe(d_oe), .rd_n(rd_n), .wr_n(wr_n), .oe_n(oe_n),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready));

    nnf_core #(.ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
               .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL),
               .PROG_WORDS(PROG_WORDS), .STATE_WORDS(STATE_WORDS), .LIF_LANES(LIF_LANES),
               .MAX_PAYLOAD(MAX_PAYLOAD), .TIMEOUT(TIMEOUT), .CNT_W(CNT_W), .PE_DSP(PE_DSP),
               .PE_LUT_ROWS(PE_LUT_ROWS), .PIPE_CUTS(PIPE_CUTS)) u_core (
        .clk(clk), .rst(rst), .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready),
        .running(running), .idle(idle));

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, running, idle};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
