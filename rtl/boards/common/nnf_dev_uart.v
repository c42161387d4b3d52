// nnf_dev_uart: the device behind a UART, what every UART board top
// instantiates after its PLL and reset synchroniser: nnf_uart (the link
// adapter, rtl/link) + nnf_core + three status lights, two of them held on
// for at least STRETCH cycles after their event by nnf_led_stretch:
//   led_act  a byte went in or out      led_err  framing error or overrun
//   led_run  a program or GEMM is running (not stretched)
// tests/boards/ simulates exactly this module against a bit-level peer.
`default_nettype none

module nnf_dev_uart #(
    parameter integer ROWS        = 2,
    parameter integer COLS        = 2,
    parameter integer ACT_WORDS   = 256,
    parameter integer W_WORDS     = 256,
    parameter integer P_WORDS     = 16,
    parameter integer ACC_DEPTH   = 64,
    parameter integer VEC_SERIAL  = 1,
    parameter integer VEC_LANES   = 1,
    parameter integer PE_DSP      = 1,
    parameter integer PE_LUT_ROWS = 0,        // PE_DSP = 3: the array's last rows that multiply in LUTs
    parameter integer PIPE_CUTS     = 0,        // 1: block-RAM outputs registered before long paths (ECP5 fast clocks);
                                                // 2: a WRITE's bytes every other cycle at most (nnf_core)
    parameter integer PROG_WORDS  = 16,
    parameter integer STATE_WORDS = 256,      // LIF state entries (0: no LIF core)
    parameter integer HAS_CONV    = 1,        // CONV, POOL and the vector unit
    parameter integer HAS_EW      = 1,        // EW (nnf_core)
    parameter integer HAS_ROW     = 1,        // ROW (nnf_core)
    parameter integer HAS_DW      = 1,        // DWCONV (nnf_core)
    parameter integer HAS_REL     = 1,        // relative bases, LOOP's stride (nnf_core)
    parameter integer HAS_TFL_ROUND = 1,      // TFLite's double rounding (nnf_core, FEAT_TFL_ROUND)
    parameter integer EW_LANES    = 1,        // EW lanes per cycle (nnf_core)
    parameter integer LUT_COUNT   = 8,        // resident LUTs (nnf_core)
    parameter integer BANKS       = 4,        // bank flags for weight streaming (nnf_core)
    parameter integer W_SPRAM     = 0,        // W single-ported (nnf_core)
    parameter integer LIF_LANES   = 1,        // LIF neurons per cycle (nnf_core)
    parameter integer MAX_PAYLOAD = 1024,
    parameter integer TIMEOUT     = 65536,
    parameter integer CLOCK_HZ    = 0,
    parameter integer CNT_W       = 64,       // counter bits (nnf_core)
    parameter integer CONFIG_ID   = 0,        // INFO's configuration id (nnf_core)
    parameter integer RX_FIFO     = 16,
    parameter integer DIV_W       = 16,       // bits of the UART's bit-time counters (baud_div < 2^DIV_W)
    parameter integer STRETCH     = 1 << 20
) (
    input  wire clk,
    input  wire rst,
    input  wire [15:0] baud_div,          // clocks per bit (>= 4; a constant on a board)
    input  wire rxd,
    output wire txd,
    output wire led_act,
    output wire led_err,
    output wire led_run
);
    wire       rx_valid, rx_ready, tx_valid, tx_ready;
    wire [7:0] rx_data, tx_data;
    wire       overrun, frame_err, rx_busy, tx_busy, running, idle;

    nnf_uart #(.DIV_W(DIV_W), .RX_FIFO(RX_FIFO)) u_uart (
        .clk(clk), .rst(rst), .div(baud_div[DIV_W-1:0]), .rxd(rxd), .txd(txd),
        .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready),
        .overrun(overrun), .frame_err(frame_err), .rx_busy(rx_busy), .tx_busy(tx_busy));

    nnf_core #(.ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
               .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL), .VEC_LANES(VEC_LANES),
               .PE_DSP(PE_DSP), .PE_LUT_ROWS(PE_LUT_ROWS), .PIPE_CUTS(PIPE_CUTS), .PROG_WORDS(PROG_WORDS), .STATE_WORDS(STATE_WORDS), .HAS_CONV(HAS_CONV),
               .LIF_LANES(LIF_LANES), .HAS_EW(HAS_EW), .HAS_ROW(HAS_ROW), .HAS_DW(HAS_DW), .HAS_REL(HAS_REL), .HAS_TFL_ROUND(HAS_TFL_ROUND), .EW_LANES(EW_LANES), .LUT_COUNT(LUT_COUNT),
               .BANKS(BANKS), .W_SPRAM(W_SPRAM), .MAX_PAYLOAD(MAX_PAYLOAD),
               .TIMEOUT(TIMEOUT), .CLOCK_HZ(CLOCK_HZ), .CNT_W(CNT_W), .CONFIG_ID(CONFIG_ID)) u_core (
        .clk(clk), .rst(rst), .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready),
        .running(running), .idle(idle));

    nnf_led_stretch #(.STRETCH(STRETCH), .N(2)) u_leds (
        .clk(clk), .rst(rst), .event_in({overrun || frame_err, rx_busy || tx_busy}),
        .led({led_err, led_act}));
    assign led_run = running;

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, idle, baud_div};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
