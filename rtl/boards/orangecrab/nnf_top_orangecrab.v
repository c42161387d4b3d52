// nnf_top_orangecrab: nnf_core on the OrangeCrab r0.2 (ECP5 LFE5U-25F or
// 85F, CSFBGA285). 48 MHz oscillator -> EHXPLLL -> CLOCK_HZ core clock
// (default 84 MHz: 48 / CLKI_DIV 4 * CLKFB_DIV 7, VCO 588 MHz with
// CLKOP_DIV 7; the PLL also gives the reset its lock signal);
// link: UART on the Feather header (FPGA TX on pin "0" = gpio_0, RX on pin
// "1" = gpio_1; 3.3 V, wire a USB-serial adapter there: native USB is a
// later step) at BAUD (default 3 Mbaud, 28 clocks per bit); reset: PLL not
// locked or the user button held. rst_n is driven high (low would reboot
// the board into its DFU bootloader).
// RGB LED (active low): green = activity, red = error, blue = running.
// Pins: constraints/orangecrab.lpf.
`default_nettype none

module nnf_top_orangecrab #(
    // every nnf_core parameter (configs/<board>.json sets each one: docs/codesign.md)
    parameter integer ROWS = 4, parameter integer COLS = 4,
    parameter integer ACT_WORDS = 4096, parameter integer W_WORDS = 8192,
    parameter integer P_WORDS = 256, parameter integer ACC_DEPTH = 512,
    parameter integer VEC_SERIAL = 1, parameter integer PE_DSP = 1,
    parameter integer PROG_WORDS = 64, parameter integer MAX_PAYLOAD = 4096,
    parameter integer STATE_WORDS = 512,  // LIF state entries (0: no LIF core)
    parameter integer LIF_LANES = 1,    // LIF neurons per cycle
    parameter integer HAS_CONV = 1,     // CONV, POOL, PACK and the vector unit
    parameter integer HAS_EW = 0,       // no EW unit (docs/rnn.md)
    parameter integer CNT_W = 64,       // counter bits
    parameter integer HAS_REL = 1,      // relative bases and LOOP's stride (streamed layers loop over their chunks: docs/memory.md)
    parameter integer HAS_TFL_ROUND = 1, // TFLite's double rounding (docs/numerics.md)
    parameter integer W_SPRAM = 0,      // W in block RAM
    parameter integer EW_LANES = 1,     // EW lanes per cycle
    parameter integer LUT_COUNT = 1,    // resident activation LUTs
    parameter integer BANKS = 4,        // bank flags for weight streaming
    parameter integer CLOCK_HZ = 84000000,
    parameter integer TIMEOUT = CLOCK_HZ / 10,  // idle cycles that abandon a frame: 0.1 s
    parameter integer CONFIG_ID = 0,    // INFO's configuration id (configs/)
    parameter integer BAUD = 3000000,
    parameter integer PLL_CLKI_DIV = 4,
    parameter integer PLL_CLKFB_DIV = 7,
    parameter integer PLL_CLKOP_DIV = 7
) (
    input  wire clk48,
    input  wire gpio_1,        // UART RX (from the adapter's TX)
    output wire gpio_0,        // UART TX (to the adapter's RX)
    input  wire usr_btn,       // low when pressed
    output wire rgb_led0_r,
    output wire rgb_led0_g,
    output wire rgb_led0_b,
    output wire rst_n
);
    localparam integer DIV = CLOCK_HZ / BAUD;
    wire clk, locked;

    nnf_ecp5_pll #(.CLKI_DIV(PLL_CLKI_DIV), .CLKFB_DIV(PLL_CLKFB_DIV),
                   .CLKOP_DIV(PLL_CLKOP_DIV)) u_pll (
        .clk_in(clk48), .clk_out(clk), .locked(locked));

    wire rst;
    nnf_reset_sync #(.STAGES(4)) u_rst (.clk(clk), .arst(!locked || !usr_btn), .rst(rst));

    wire led_act, led_err, led_run;
    nnf_dev_uart #(
        .ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
        .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL), .PE_DSP(PE_DSP),
        .PROG_WORDS(PROG_WORDS), .STATE_WORDS(STATE_WORDS), .LIF_LANES(LIF_LANES), .HAS_CONV(HAS_CONV),
        .HAS_EW(HAS_EW), .HAS_REL(HAS_REL), .HAS_TFL_ROUND(HAS_TFL_ROUND), .EW_LANES(EW_LANES),
        .LUT_COUNT(LUT_COUNT), .BANKS(BANKS), .MAX_PAYLOAD(MAX_PAYLOAD), .TIMEOUT(TIMEOUT),
        .CLOCK_HZ(CLOCK_HZ), .CNT_W(CNT_W), .W_SPRAM(W_SPRAM), .CONFIG_ID(CONFIG_ID),
        .RX_FIFO(16), .STRETCH(CLOCK_HZ / 10)
    ) u_dev (
        .clk(clk), .rst(rst), .baud_div(DIV[15:0]), .rxd(gpio_1), .txd(gpio_0),
        .led_act(led_act), .led_err(led_err), .led_run(led_run));

    assign rgb_led0_g = !led_act;
    assign rgb_led0_r = !led_err;
    assign rgb_led0_b = !led_run;
    assign rst_n      = 1'b1;
endmodule

`default_nettype wire
