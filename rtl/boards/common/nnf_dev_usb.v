// nnf_dev_usb: the device behind a native USB full-speed link, what a USB
// board top instantiates after its PLL and reset synchronisers:
// nnf_usb_dev (the USB device core, rtl/link/usb, in the 48 MHz domain),
// an asynchronous FIFO each way (nnf_afifo, with a 4-byte nnf_fifo on the
// core's side) and nnf_core in its own clock,
// plus three status lights, two of them held on for at least STRETCH cycles of their
// clock after their event by nnf_led_stretch:
//   led_act  a good packet for us (48 MHz domain)
//   led_err  a damaged packet seen (48 MHz domain)
//   led_run  a program or GEMM is running (core domain, not stretched)
// EP1 OUT carries the host's bytes to the core's receive port and EP1 IN the
// core's transmit port to the host: the same byte stream the UART carries
// (docs/protocol.md), with flow control (the device NAKs what it cannot
// take). docs/usb.md. tests/usb simulates exactly this module against the
// C host controller, answers compared with the functional model.
`default_nettype none

module nnf_dev_usb #(
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
    parameter integer FIFO_DEPTH  = 128,      // bytes each way across the clock domains
    parameter [15:0]  USB_VID     = 16'h1209, // pid.codes' test VID:PID (docs/usb.md)
    parameter [15:0]  USB_PID     = 16'h0001,
    parameter integer STRETCH     = 1 << 20
) (
    input  wire clk,          // the core's clock
    input  wire rst,          // synchronous to clk
    input  wire clk48,        // the USB device's 48 MHz
    input  wire rst48,        // synchronous to clk48 (same source as rst)
    input  wire usb_dp_i,
    input  wire usb_dn_i,
    output wire usb_dp_o,
    output wire usb_dn_o,
    output wire usb_oe,
    output wire usb_pullup,
    output wire led_act,
    output wire led_err,
    output wire led_run
);
    // ---- 48 MHz: the USB device core ----
    wire       h2d_valid, h2d_ready, d2h_valid, d2h_ready;   // USB side of the FIFOs
    wire [7:0] h2d_data, d2h_data;
    wire       configured, bus_reset, activity, error;

    nnf_usb_dev #(.VID(USB_VID), .PID(USB_PID)) u_usb (
        .clk(clk48), .rst(rst48),
        .dp_i(usb_dp_i), .dn_i(usb_dn_i), .dp_o(usb_dp_o), .dn_o(usb_dn_o), .oe(usb_oe),
        .dp_pullup(usb_pullup),
        .out_valid(h2d_valid), .out_data(h2d_data), .out_ready(h2d_ready),
        .in_valid(d2h_valid), .in_data(d2h_data), .in_ready(d2h_ready),
        .configured(configured), .bus_reset(bus_reset), .activity(activity), .error(error));

    // ---- the crossing ----
    // An asynchronous FIFO each way, and on the core's side a small
    // synchronous FIFO (nnf_fifo) between it and the core: the core's
    // rx_ready and tx_valid come out of deep control logic, and these keep
    // them off the crossing FIFOs' pointer logic (each side of an nnf_fifo
    // sees only registers of the other), so the core's timing does not
    // depend on where the crossing is placed.
    wire       ax_valid, ax_ready, tq_valid, tq_ready;      // afifo <-> nnf_fifo, core domain
    wire [7:0] ax_data, tq_data;
    wire       rx_valid, rx_ready, tx_valid, tx_ready;      // the core's ports
    wire [7:0] rx_data, tx_data;
    wire       rxq_full, txq_full;

    nnf_afifo #(.DEPTH(FIFO_DEPTH), .W(8)) u_h2d (
        .wclk(clk48), .wrst(rst48), .in_valid(h2d_valid), .in_data(h2d_data), .in_ready(h2d_ready),
        .rclk(clk), .rrst(rst), .out_valid(ax_valid), .out_data(ax_data), .out_ready(ax_ready));
    nnf_fifo #(.DEPTH(4), .W(8)) u_rxq (
        .clk(clk), .rst(rst), .in_valid(ax_valid), .in_data(ax_data), .in_ready(ax_ready),
        .out_valid(rx_valid), .out_data(rx_data), .out_ready(rx_ready), .full(rxq_full));

    nnf_fifo #(.DEPTH(4), .W(8)) u_txq (
        .clk(clk), .rst(rst), .in_valid(tx_valid), .in_data(tx_data), .in_ready(tx_ready),
        .out_valid(tq_valid), .out_data(tq_data), .out_ready(tq_ready), .full(txq_full));
    nnf_afifo #(.DEPTH(FIFO_DEPTH), .W(8)) u_d2h (
        .wclk(clk), .wrst(rst), .in_valid(tq_valid), .in_data(tq_data), .in_ready(tq_ready),
        .rclk(clk48), .rrst(rst48), .out_valid(d2h_valid), .out_data(d2h_data), .out_ready(d2h_ready));

    // ---- the core ----
    wire running, idle;
    nnf_core #(.ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
               .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL), .VEC_LANES(VEC_LANES),
               .PE_DSP(PE_DSP), .PE_LUT_ROWS(PE_LUT_ROWS), .PIPE_CUTS(PIPE_CUTS), .PROG_WORDS(PROG_WORDS), .STATE_WORDS(STATE_WORDS), .HAS_CONV(HAS_CONV),
               .LIF_LANES(LIF_LANES), .HAS_EW(HAS_EW), .HAS_ROW(HAS_ROW), .HAS_DW(HAS_DW), .HAS_REL(HAS_REL), .HAS_TFL_ROUND(HAS_TFL_ROUND),
               .EW_LANES(EW_LANES), .LUT_COUNT(LUT_COUNT), .BANKS(BANKS), .W_SPRAM(W_SPRAM),
               .MAX_PAYLOAD(MAX_PAYLOAD), .TIMEOUT(TIMEOUT), .CLOCK_HZ(CLOCK_HZ), .CNT_W(CNT_W),
               .CONFIG_ID(CONFIG_ID)) u_core (
        .clk(clk), .rst(rst), .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready),
        .running(running), .idle(idle));

    // ---- lights ----
    nnf_led_stretch #(.STRETCH(STRETCH), .N(2)) u_leds (
        .clk(clk48), .rst(rst48), .event_in({error, activity}), .led({led_err, led_act}));
    assign led_run = running;

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, idle, configured, bus_reset, rxq_full, txq_full};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
