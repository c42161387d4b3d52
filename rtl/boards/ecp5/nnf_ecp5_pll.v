// nnf_ecp5_pll: one ECP5 EHXPLLL output, clk_out = clk_in / CLKI_DIV *
// CLKFB_DIV (feedback from CLKOP), with CLKOP_DIV chosen so the VCO
// (clk_out * CLKOP_DIV) lies in 400..800 MHz and the phase detector input
// (clk_in / CLKI_DIV) is at least 3.125 MHz (the ECP5 data sheet's ranges).
// Shared by the ECP5 board tops (ULX3S, OrangeCrab).
`default_nettype none

module nnf_ecp5_pll #(
    parameter integer CLKI_DIV  = 1,
    parameter integer CLKFB_DIV = 1,
    parameter integer CLKOP_DIV = 12
) (
    input  wire clk_in,
    output wire clk_out,
    output wire locked
);
    wire intfb;                 // unused internal feedback output

    EHXPLLL #(
        .PLLRST_ENA("DISABLED"), .INTFB_WAKE("DISABLED"), .STDBY_ENABLE("DISABLED"),
        .DPHASE_SOURCE("DISABLED"), .OUTDIVIDER_MUXA("DIVA"), .OUTDIVIDER_MUXB("DIVB"),
        .OUTDIVIDER_MUXC("DIVC"), .OUTDIVIDER_MUXD("DIVD"),
        .CLKI_DIV(CLKI_DIV), .CLKOP_ENABLE("ENABLED"), .CLKOP_DIV(CLKOP_DIV),
        .CLKOP_CPHASE(CLKOP_DIV - 1), .CLKOP_FPHASE(0),
        .FEEDBK_PATH("CLKOP"), .CLKFB_DIV(CLKFB_DIV)
    ) u_pll (
        .RST(1'b0), .STDBY(1'b0), .CLKI(clk_in), .CLKOP(clk_out), .CLKFB(clk_out),
        .CLKINTFB(intfb), .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b1),
        .PHASESTEP(1'b1), .PHASELOADREG(1'b1), .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0),
        .LOCK(locked));

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = intfb;
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
