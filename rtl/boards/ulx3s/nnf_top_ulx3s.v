// nnf_top_ulx3s: nnf_core on the ULX3S (ECP5 LFE5U-12F/25F/45F/85F, CABGA381).
// 25 MHz oscillator -> EHXPLLL -> CLOCK_HZ core clock (default 60 MHz:
// 25 / CLKI_DIV 5 * CLKFB_DIV 12, VCO 600 MHz with CLKOP_DIV 10; each
// build's divisors are its configuration's: configs/ulx3s.json, the 25F at
// 75 MHz, configs/ulx3s-85f.json, the 85F at 60 MHz); link: UART on
// the FT231X at BAUD (default 3 Mbaud, 20 clocks per bit); reset: PLL not
// locked or FIRE1 (btn[1]) held. wifi_gpio0 is held high so the ESP32 does
// not take over the board.
// LEDs (active high): led[0] activity, led[1] error (framing / overrun in
// the last ~0.1 s), led[2] program running, led[7] PLL locked.
// Pins: constraints/ulx3s.lpf (from the board's published ulx3s_v20.lpf).
`default_nettype none

module nnf_top_ulx3s #(
    // every nnf_core parameter (configs/<board>.json sets each one: docs/codesign.md)
    parameter integer ROWS = 4, parameter integer COLS = 4,
    parameter integer ACT_WORDS = 4096, parameter integer W_WORDS = 8192,
    parameter integer P_WORDS = 256, parameter integer ACC_DEPTH = 512,
    parameter integer VEC_SERIAL = 1, parameter integer PE_DSP = 1,
    parameter integer VEC_LANES = 1,    // VEC_SERIAL = 1: lanes requantized a cycle
    parameter integer PE_LUT_ROWS = 0, parameter integer PIPE_CUTS = 0,
    parameter integer PROG_WORDS = 64, parameter integer MAX_PAYLOAD = 4096,
    parameter integer STATE_WORDS = 512,  // LIF state entries (0: no LIF core)
    parameter integer LIF_LANES = 1,    // LIF neurons per cycle
    parameter integer HAS_CONV = 1,     // CONV, POOL, PACK and the vector unit
    parameter integer HAS_EW = 0,       // no EW unit (docs/rnn.md)
    parameter integer HAS_ROW = 0,      // no row unit (docs/attention.md)
    parameter integer HAS_DW = 0,       // no depthwise unit (docs/conv.md)
    parameter integer CNT_W = 64,       // counter bits
    parameter integer HAS_REL = 1,      // relative bases and LOOP's stride (streamed layers loop over their chunks: docs/memory.md)
    parameter integer HAS_TFL_ROUND = 1, // TFLite's double rounding (docs/numerics.md)
    parameter integer W_SPRAM = 0,      // W in block RAM
    parameter integer EW_LANES = 1,     // EW lanes per cycle
    parameter integer LUT_COUNT = 1,    // resident activation LUTs
    parameter integer BANKS = 4,        // bank flags for weight streaming
    parameter integer CLOCK_HZ = 60000000,
    parameter integer TIMEOUT = CLOCK_HZ / 10,  // idle cycles that abandon a frame: 0.1 s
    parameter integer CONFIG_ID = 0,    // INFO's configuration id (configs/)
    parameter integer BAUD = 3000000,
    parameter integer PLL_CLKI_DIV = 5,
    parameter integer PLL_CLKFB_DIV = 12,
    parameter integer PLL_CLKOP_DIV = 10
) (
    input  wire       clk_25mhz,
    input  wire       ftdi_txd,     // from the FT231X
    output wire       ftdi_rxd,     // to the FT231X
    input  wire [1:1] btn,          // FIRE1, active high
    output wire [7:0] led,
    output wire       wifi_gpio0
);
    localparam integer DIV = CLOCK_HZ / BAUD;
    localparam integer DIV_W = $clog2(DIV + 1);   // the UART's counters: no wider than DIV needs
    wire clk, locked;

    nnf_ecp5_pll #(.CLKI_DIV(PLL_CLKI_DIV), .CLKFB_DIV(PLL_CLKFB_DIV),
                   .CLKOP_DIV(PLL_CLKOP_DIV)) u_pll (
        .clk_in(clk_25mhz), .clk_out(clk), .locked(locked));

    wire rst;
    nnf_reset_sync #(.STAGES(4)) u_rst (.clk(clk), .arst(!locked || btn[1]), .rst(rst));

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
        .clk(clk), .rst(rst), .baud_div(DIV[15:0]), .rxd(ftdi_txd), .txd(ftdi_rxd),
        .led_act(led_act), .led_err(led_err), .led_run(led_run));

    assign led        = {locked, 4'b0000, led_run, led_err, led_act};
    assign wifi_gpio0 = 1'b1;
endmodule

`default_nettype wire
