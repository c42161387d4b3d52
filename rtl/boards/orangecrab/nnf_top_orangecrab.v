// nnf_top_orangecrab: nnf_core on the OrangeCrab r0.2 (ECP5 LFE5U-25F or
// 85F, CSFBGA285), its link the board's own USB port: a native USB
// full-speed device in the fabric (nnf_dev_usb: rtl/link/usb, docs/usb.md).
// Clocks: the 48 MHz oscillator runs the USB device directly (four samples
// a bit) and feeds the EHXPLLL that makes the core's CLOCK_HZ (default
// 72 MHz: 48 / CLKI_DIV 2 * CLKFB_DIV 3, VCO 576 MHz with CLKOP_DIV 8); an
// asynchronous FIFO each way crosses between them. Reset: PLL not locked or
// the user button held, synchronised into each domain. rst_n is driven
// high (low would reboot the board into its DFU bootloader).
// USB pins: D+ / D- through the ECP5's bidirectional buffers (driven only
// while the device transmits), and the 1.5 kOhm pull-up on D+ switched by
// usb_pullup (high: attached, full speed).
// RGB LED (active low): green = a good packet for us, red = a damaged
// packet (both held ~0.1 s), blue = running. Pins: constraints/orangecrab.lpf.
`default_nettype none

module nnf_top_orangecrab #(
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
    parameter integer HAS_REL = 1,      // relative bases and LOOP's stride (docs/memory.md)
    parameter integer HAS_TFL_ROUND = 1, // TFLite's double rounding (docs/numerics.md)
    parameter integer W_SPRAM = 0,      // W in block RAM
    parameter integer EW_LANES = 1,     // EW lanes per cycle
    parameter integer LUT_COUNT = 1,    // resident activation LUTs
    parameter integer BANKS = 4,        // bank flags for weight streaming
    parameter integer CLOCK_HZ = 72000000,
    parameter integer TIMEOUT = CLOCK_HZ / 10,  // idle cycles that abandon a frame: 0.1 s
    parameter integer CONFIG_ID = 0,    // INFO's configuration id (configs/)
    parameter integer PLL_CLKI_DIV = 2,
    parameter integer PLL_CLKFB_DIV = 3,
    parameter integer PLL_CLKOP_DIV = 8
) (
    input  wire clk48,
    inout  wire usb_d_p,
    inout  wire usb_d_n,
    output wire usb_pullup,
    input  wire usr_btn,       // low when pressed
    output wire rgb_led0_r,
    output wire rgb_led0_g,
    output wire rgb_led0_b,
    output wire rst_n
);
    wire clk, locked;
    nnf_ecp5_pll #(.CLKI_DIV(PLL_CLKI_DIV), .CLKFB_DIV(PLL_CLKFB_DIV),
                   .CLKOP_DIV(PLL_CLKOP_DIV)) u_pll (
        .clk_in(clk48), .clk_out(clk), .locked(locked));

    wire arst = !locked || !usr_btn;
    wire rst, rst48;
    nnf_reset_sync #(.STAGES(4)) u_rst (.clk(clk), .arst(arst), .rst(rst));
    nnf_reset_sync #(.STAGES(4)) u_rst48 (.clk(clk48), .arst(arst), .rst(rst48));

    wire dp_o, dn_o, usb_oe;
    assign usb_d_p = usb_oe ? dp_o : 1'bz;
    assign usb_d_n = usb_oe ? dn_o : 1'bz;

    wire led_act, led_err, led_run;
    nnf_dev_usb #(
        .ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
        .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL), .VEC_LANES(VEC_LANES), .PE_DSP(PE_DSP), .PE_LUT_ROWS(PE_LUT_ROWS), .PIPE_CUTS(PIPE_CUTS),
        .PROG_WORDS(PROG_WORDS), .STATE_WORDS(STATE_WORDS), .LIF_LANES(LIF_LANES), .HAS_CONV(HAS_CONV),
        .HAS_EW(HAS_EW), .HAS_ROW(HAS_ROW), .HAS_DW(HAS_DW), .HAS_REL(HAS_REL), .HAS_TFL_ROUND(HAS_TFL_ROUND), .EW_LANES(EW_LANES),
        .LUT_COUNT(LUT_COUNT), .BANKS(BANKS), .MAX_PAYLOAD(MAX_PAYLOAD), .TIMEOUT(TIMEOUT),
        .CLOCK_HZ(CLOCK_HZ), .CNT_W(CNT_W), .W_SPRAM(W_SPRAM), .CONFIG_ID(CONFIG_ID),
        .STRETCH(48000000 / 10)
    ) u_dev (
        .clk(clk), .rst(rst), .clk48(clk48), .rst48(rst48),
        .usb_dp_i(usb_d_p), .usb_dn_i(usb_d_n), .usb_dp_o(dp_o), .usb_dn_o(dn_o),
        .usb_oe(usb_oe), .usb_pullup(usb_pullup),
        .led_act(led_act), .led_err(led_err), .led_run(led_run));

    assign rgb_led0_g = !led_act;
    assign rgb_led0_r = !led_err;
    assign rgb_led0_b = !led_run;
    assign rst_n      = 1'b1;
endmodule

`default_nettype wire
