// nnf_pe_ecp5: a processing element whose product is registered twice, for
// clocks where the multiply cannot share a cycle with the weight mux and the
// partial-sum add (ECP5 at 100 MHz: docs/boards/ulx3s.md).
//
//   cycle T    the activation a_i and its bank arrive; the weight of that
//              bank is selected and both operands are registered
//   cycle T+1  the product is registered
//   cycle T+2  psum_o <= psum_i + product
//
// Every PE of an array delays its product by the same two cycles, so the
// partial sums still meet their products one row per cycle: the array's
// latency grows by PIPE = 2 and nothing else changes (the weight of a bank
// is read in the cycle its activation arrives, as in nnf_pe, so the bank
// reuse rule of nnf_systolic is the same). Bit for bit the arithmetic of
// nnf_pe.
//
// With NNF_ECP5 defined (scripts/synth.py does for ECP5 targets) the
// operand and product registers are the MULT18X18D's own input and output
// registers: inside the DSP block the multiply is register to register, and
// the only fabric paths are the weight mux into the block and the block's
// output into the add. Otherwise ('*' and fabric registers) the same cycles
// for simulation and other parts. tests/rtl (rtl_pe_ecp5_icarus) checks the
// two agree on every operand pair under a model of the primitive's register
// modes (tests/rtl/ecp5_mult18x18d_model.v: Yosys ships none).
`default_nettype none

module nnf_pe_ecp5 #(
    parameter integer PSUM_W  = 20,
    parameter integer LUT_MUL = 0          // 1: the product from LUTs and carry chains
                                           // (nnf_mul8_ecp5), the same cycles: for PEs
                                           // beyond the part's MULT18X18D count
) (
    input  wire                  clk,
    input  wire [7:0]            a_i,
    input  wire                  bank_i,
    input  wire [PSUM_W-1:0]     psum_i,   // from above: the sum of the row two cycles behind a_i
    input  wire                  wl_en,
    input  wire                  wl_bank,
    input  wire [7:0]            wl_data,
    output reg  [7:0]            a_o,
    output reg                   bank_o,
    output reg  [PSUM_W-1:0]     psum_o
);
    reg  [7:0]  w0_q;
    reg  [7:0]  w1_q;
    wire [7:0]  w = bank_i ? w1_q : w0_q;
    wire [15:0] prod_q;            // a_i * w of cycle T, in cycle T + 2 (PIPE in nnf_systolic)

    generate
    if (LUT_MUL != 0) begin : g_lut
        // signed 8x8 from LUTs and carry chains (nnf_mul8_ecp5), from the
        // operand registers to the product register
        reg  [7:0]  w_q;
        reg  [15:0] p_q;
        wire [15:0] m;
        nnf_mul8_ecp5 u_mul (.a(a_o), .w(w_q), .p(m));
        always @(posedge clk) begin
            w_q <= w;
            p_q <= m;
        end
        assign prod_q = p_q;
    end else begin : g_dsp
`ifdef NNF_ECP5
    wire [17:0] ma = {{10{a_i[7]}}, a_i};
    wire [17:0] mb = {{10{w[7]}}, w};
    wire [35:0] mp;
    MULT18X18D #(
        .REG_INPUTA_CLK("CLK0"), .REG_INPUTA_CE("CE0"), .REG_INPUTA_RST("RST0"),
        .REG_INPUTB_CLK("CLK0"), .REG_INPUTB_CE("CE0"), .REG_INPUTB_RST("RST0"),
        .REG_INPUTC_CLK("NONE"),
        .REG_PIPELINE_CLK("NONE"),
        .REG_OUTPUT_CLK("CLK0"), .REG_OUTPUT_CE("CE0"), .REG_OUTPUT_RST("RST0"),
        .CLK0_DIV("ENABLED"), .CLK1_DIV("ENABLED"), .CLK2_DIV("ENABLED"), .CLK3_DIV("ENABLED"),
        .HIGHSPEED_CLK("NONE"), .GSR("DISABLED"), .CAS_MATCH_REG("FALSE"),
        .MULT_BYPASS("DISABLED"), .RESETMODE("SYNC")   // SOURCEB_MODE: the default (SOURCEB = 0 takes B)
    ) u_mul (
        .A0(ma[0]), .A1(ma[1]), .A2(ma[2]), .A3(ma[3]), .A4(ma[4]), .A5(ma[5]),
        .A6(ma[6]), .A7(ma[7]), .A8(ma[8]), .A9(ma[9]), .A10(ma[10]), .A11(ma[11]),
        .A12(ma[12]), .A13(ma[13]), .A14(ma[14]), .A15(ma[15]), .A16(ma[16]), .A17(ma[17]),
        .B0(mb[0]), .B1(mb[1]), .B2(mb[2]), .B3(mb[3]), .B4(mb[4]), .B5(mb[5]),
        .B6(mb[6]), .B7(mb[7]), .B8(mb[8]), .B9(mb[9]), .B10(mb[10]), .B11(mb[11]),
        .B12(mb[12]), .B13(mb[13]), .B14(mb[14]), .B15(mb[15]), .B16(mb[16]), .B17(mb[17]),
        .C0(1'b0), .C1(1'b0), .C2(1'b0), .C3(1'b0), .C4(1'b0), .C5(1'b0),
        .C6(1'b0), .C7(1'b0), .C8(1'b0), .C9(1'b0), .C10(1'b0), .C11(1'b0),
        .C12(1'b0), .C13(1'b0), .C14(1'b0), .C15(1'b0), .C16(1'b0), .C17(1'b0),
        .SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0),
        // the other clocks, enables, resets and the shift inputs unconnected:
        // tied to a constant they are nets nextpnr-ecp5 may fail to route
        .CLK0(clk), .CE0(1'b1), .RST0(1'b0),
        .P0(mp[0]), .P1(mp[1]), .P2(mp[2]), .P3(mp[3]), .P4(mp[4]), .P5(mp[5]),
        .P6(mp[6]), .P7(mp[7]), .P8(mp[8]), .P9(mp[9]), .P10(mp[10]), .P11(mp[11]),
        .P12(mp[12]), .P13(mp[13]), .P14(mp[14]), .P15(mp[15]), .P16(mp[16]), .P17(mp[17]),
        .P18(mp[18]), .P19(mp[19]), .P20(mp[20]), .P21(mp[21]), .P22(mp[22]), .P23(mp[23]),
        .P24(mp[24]), .P25(mp[25]), .P26(mp[26]), .P27(mp[27]), .P28(mp[28]), .P29(mp[29]),
        .P30(mp[30]), .P31(mp[31]), .P32(mp[32]), .P33(mp[33]), .P34(mp[34]), .P35(mp[35]),
        .SIGNEDP(), .SROA0(), .SROA1(), .SROA2(), .SROA3(), .SROA4(), .SROA5(), .SROA6(),
        .SROA7(), .SROA8(), .SROA9(), .SROA10(), .SROA11(), .SROA12(), .SROA13(), .SROA14(),
        .SROA15(), .SROA16(), .SROA17(), .SROB0(), .SROB1(), .SROB2(), .SROB3(), .SROB4(),
        .SROB5(), .SROB6(), .SROB7(), .SROB8(), .SROB9(), .SROB10(), .SROB11(), .SROB12(),
        .SROB13(), .SROB14(), .SROB15(), .SROB16(), .SROB17(),
        .ROA0(), .ROA1(), .ROA2(), .ROA3(), .ROA4(), .ROA5(), .ROA6(), .ROA7(), .ROA8(),
        .ROA9(), .ROA10(), .ROA11(), .ROA12(), .ROA13(), .ROA14(), .ROA15(), .ROA16(), .ROA17(),
        .ROB0(), .ROB1(), .ROB2(), .ROB3(), .ROB4(), .ROB5(), .ROB6(), .ROB7(), .ROB8(),
        .ROB9(), .ROB10(), .ROB11(), .ROB12(), .ROB13(), .ROB14(), .ROB15(), .ROB16(), .ROB17(),
        .ROC0(), .ROC1(), .ROC2(), .ROC3(), .ROC4(), .ROC5(), .ROC6(), .ROC7(), .ROC8(),
        .ROC9(), .ROC10(), .ROC11(), .ROC12(), .ROC13(), .ROC14(), .ROC15(), .ROC16(), .ROC17());
    assign prod_q = mp[15:0];      // |a * w| <= 2^14: the low 16 bits are the signed product
`else
    // a_o is the activation register of cycle T+1 already; the weight and
    // the product get registers of their own
    reg  [7:0]  w_q;
    reg  [15:0] p_q;
    always @(posedge clk) begin
        w_q <= w;
        p_q <= $signed(a_o) * $signed(w_q);
    end
    assign prod_q = p_q;
`endif
    end
    endgenerate

    always @(posedge clk) begin
        if (wl_en && !wl_bank) w0_q <= wl_data;
        if (wl_en &&  wl_bank) w1_q <= wl_data;
        a_o    <= a_i;
        bank_o <= bank_i;
        psum_o <= psum_i + {{(PSUM_W-16){prod_q[15]}}, prod_q};
    end
endmodule

`default_nettype wire
