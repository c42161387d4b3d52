// vendor_stubs.v: port-only stand-ins for the vendor primitives the board
// tops instantiate (iCE40 SB_PLL40_PAD, ECP5 EHXPLLL), so Verilator and
// Icarus can lint / elaborate the tops (board_lint.sh). The clock passes
// straight through and the PLL is always locked: no model of the PLL, but
// exactly what the board simulations (nnfb_board.h, test_board_uart.c) need,
// where the clock they step is the core clock.
`default_nettype none

/* verilator lint_off DECLFILENAME */
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
module SB_PLL40_PAD #(
    parameter FEEDBACK_PATH = "SIMPLE",
    parameter [3:0] DIVR = 4'd0,
    parameter [6:0] DIVF = 7'd0,
    parameter [2:0] DIVQ = 3'd0,
    parameter [2:0] FILTER_RANGE = 3'd0
) (
    input  wire PACKAGEPIN,
    output wire PLLOUTGLOBAL,
    output wire LOCK,
    input  wire RESETB,
    input  wire BYPASS
);
    assign PLLOUTGLOBAL = PACKAGEPIN;
    assign LOCK = 1'b1;
endmodule

module EHXPLLL #(
    parameter PLLRST_ENA = "DISABLED", parameter INTFB_WAKE = "DISABLED",
    parameter STDBY_ENABLE = "DISABLED", parameter DPHASE_SOURCE = "DISABLED",
    parameter OUTDIVIDER_MUXA = "DIVA", parameter OUTDIVIDER_MUXB = "DIVB",
    parameter OUTDIVIDER_MUXC = "DIVC", parameter OUTDIVIDER_MUXD = "DIVD",
    parameter integer CLKI_DIV = 1, parameter CLKOP_ENABLE = "ENABLED",
    parameter integer CLKOP_DIV = 8, parameter integer CLKOP_CPHASE = 0,
    parameter integer CLKOP_FPHASE = 0, parameter FEEDBK_PATH = "CLKOP",
    parameter integer CLKFB_DIV = 1
) (
    input  wire RST, input wire STDBY, input wire CLKI, output wire CLKOP,
    input  wire CLKFB, output wire CLKINTFB, input wire PHASESEL0, input wire PHASESEL1,
    input  wire PHASEDIR, input wire PHASESTEP, input wire PHASELOADREG,
    input  wire PLLWAKESYNC, input wire ENCLKOP, output wire LOCK
);
    assign CLKOP = CLKI;
    assign CLKINTFB = 1'b0;
    assign LOCK = 1'b1;
endmodule
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_on DECLFILENAME */

`default_nettype wire
