// nnf_top_icebreaker: nnf_core on the iCEBreaker (iCE40UP5K-SG48).
// 12 MHz oscillator -> SB_PLL40_PAD -> CLOCK_HZ core clock (default 30 MHz:
// DIVR 0, DIVF 79, DIVQ 5: 12 MHz * 80 / 32, VCO 960 MHz, as icepll computes
// for 12 -> 30 MHz); link: UART on the FT2232H's channel B at BAUD (default
// 3 Mbaud, 10 clocks per bit);
// reset: PLL not locked or the user button (BTN_N) held.
// LEDs (active low): green = link activity or a program running, red = a
// framing error or receive overrun in the last ~0.1 s.
// Pins: constraints/icebreaker.pcf. Build: cmake --build build --target
// bitstream-icebreaker (docs/boards/icebreaker.md).
`default_nettype none

module nnf_top_icebreaker #(
    // every nnf_core parameter (configs/<board>.json sets each one: docs/codesign.md)
    parameter integer ROWS = 2, parameter integer COLS = 2,
    parameter integer ACT_WORDS = 512, parameter integer W_WORDS = 512,
    parameter integer P_WORDS = 16, parameter integer ACC_DEPTH = 64,
    parameter integer VEC_SERIAL = 1, parameter integer PE_DSP = 1,
    parameter integer VEC_LANES = 1,    // VEC_SERIAL = 1: lanes requantized a cycle
    parameter integer PE_LUT_ROWS = 0, parameter integer PIPE_CUTS = 0,
    parameter integer PROG_WORDS = 16, parameter integer MAX_PAYLOAD = 1024,
    parameter integer STATE_WORDS = 0,  // LIF state entries (0: no LIF core)
    parameter integer LIF_LANES = 1,    // LIF neurons per cycle
    parameter integer HAS_CONV = 0,     // no CONV / POOL (the part is full: docs/boards/icebreaker.md)
    parameter integer HAS_EW = 0,       // no EW unit (docs/rnn.md)
    parameter integer HAS_ROW = 0,      // no row unit (docs/attention.md)
    parameter integer HAS_DW = 0,       // no depthwise unit (docs/conv.md)
    parameter integer CNT_W = 32,       // counter bits (COUNTERS reads the upper 4 bytes as 0)
    parameter integer HAS_REL = 0,      // relative bases and LOOP's stride (no room on the part)
    parameter integer HAS_TFL_ROUND = 0, // TFLite's double rounding (no room on the part; docs/import.md)
    parameter integer W_SPRAM = 1,      // W in the four SB_SPRAM256KA (nnf_spram)
    parameter integer EW_LANES = 1,     // EW lanes per cycle
    parameter integer LUT_COUNT = 1,    // resident activation LUTs
    parameter integer BANKS = 4,        // bank flags for weight streaming
    parameter integer CLOCK_HZ = 30000000,
    parameter integer TIMEOUT = CLOCK_HZ / 10,  // idle cycles that abandon a frame: 0.1 s
    parameter integer CONFIG_ID = 0,    // INFO's configuration id (configs/)
    parameter integer BAUD = 3000000,
    parameter [3:0] PLL_DIVR = 4'd0,
    parameter [6:0] PLL_DIVF = 7'd79,
    parameter [2:0] PLL_DIVQ = 3'd5,
    parameter [2:0] PLL_FILTER = 3'd1
) (
    input  wire CLK,        // 12 MHz
    input  wire RX,         // from the FT2232H (channel B TXD)
    output wire TX,         // to the FT2232H (channel B RXD)
    input  wire BTN_N,
    output wire LEDR_N,
    output wire LEDG_N
);
    localparam integer DIV = CLOCK_HZ / BAUD;
    localparam integer DIV_W = $clog2(DIV + 1);   // the UART's counters: no wider than DIV needs
    wire clk, locked;

    SB_PLL40_PAD #(
        .FEEDBACK_PATH("SIMPLE"), .DIVR(PLL_DIVR), .DIVF(PLL_DIVF), .DIVQ(PLL_DIVQ),
        .FILTER_RANGE(PLL_FILTER)
    ) u_pll (
        .PACKAGEPIN(CLK), .PLLOUTGLOBAL(clk), .LOCK(locked),
        .RESETB(1'b1), .BYPASS(1'b0));

    wire rst;
    nnf_reset_sync #(.STAGES(4)) u_rst (.clk(clk), .arst(!locked || !BTN_N), .rst(rst));

    wire led_act, led_err, led_run;
    nnf_dev_uart #(
        .ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
        .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL), .VEC_LANES(VEC_LANES), .PE_DSP(PE_DSP), .PE_LUT_ROWS(PE_LUT_ROWS), .PIPE_CUTS(PIPE_CUTS),
        .PROG_WORDS(PROG_WORDS), .STATE_WORDS(STATE_WORDS), .LIF_LANES(LIF_LANES), .HAS_CONV(HAS_CONV),
        .HAS_EW(HAS_EW), .HAS_ROW(HAS_ROW), .HAS_DW(HAS_DW), .HAS_REL(HAS_REL), .HAS_TFL_ROUND(HAS_TFL_ROUND), .EW_LANES(EW_LANES),
        .LUT_COUNT(LUT_COUNT), .BANKS(BANKS), .MAX_PAYLOAD(MAX_PAYLOAD), .TIMEOUT(TIMEOUT),
        .CLOCK_HZ(CLOCK_HZ), .CNT_W(CNT_W), .W_SPRAM(W_SPRAM), .CONFIG_ID(CONFIG_ID),
        .RX_FIFO(16), .DIV_W(DIV_W), .STRETCH(CLOCK_HZ / 10)
    ) u_dev (
        .clk(clk), .rst(rst), .baud_div(DIV[15:0]), .rxd(RX), .txd(TX),
        .led_act(led_act), .led_err(led_err), .led_run(led_run));

    assign LEDG_N = !(led_act || led_run);
    assign LEDR_N = !led_err;
endmodule

`default_nettype wire
