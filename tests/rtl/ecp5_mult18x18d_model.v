// ecp5_mult18x18d_model: a simulation model of the ECP5 MULT18X18D in the
// modes nnf_pe_ecp5 uses, for tests only (Yosys ships the primitive as a
// black box, without a model). Written from Lattice's description of the
// sysDSP slice (TN1267): A and B are 18-bit operands, signed when SIGNEDA /
// SIGNEDB; P is their 36-bit product. Each of the input registers (A, B),
// the pipeline register and the output register is either absent ("NONE")
// or clocked by CLK0 with clock enable CE0 and synchronous reset RST0
// (RESETMODE "SYNC"), so the product appears 0 to 4 cycles after its
// operands. Any other mode (another clock, CE or reset line, the C input,
// shifted or cascaded operands, bypass) stops the simulation: it is not
// modelled, so a test cannot pass on it by accident.
`timescale 1ns / 1ps
`default_nettype none
module MULT18X18D (
    A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11,
    A12, A13, A14, A15, A16, A17, B0, B1, B2, B3, B4, B5,
    B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17,
    C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11,
    C12, C13, C14, C15, C16, C17, SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CLK1,
    CLK2, CLK3, CE0, CE1, CE2, CE3, RST0, RST1, RST2, RST3, SRIA0, SRIA1,
    SRIA2, SRIA3, SRIA4, SRIA5, SRIA6, SRIA7, SRIA8, SRIA9, SRIA10, SRIA11, SRIA12, SRIA13,
    SRIA14, SRIA15, SRIA16, SRIA17, SRIB0, SRIB1, SRIB2, SRIB3, SRIB4, SRIB5, SRIB6, SRIB7,
    SRIB8, SRIB9, SRIB10, SRIB11, SRIB12, SRIB13, SRIB14, SRIB15, SRIB16, SRIB17, SROA0, SROA1,
    SROA2, SROA3, SROA4, SROA5, SROA6, SROA7, SROA8, SROA9, SROA10, SROA11, SROA12, SROA13,
    SROA14, SROA15, SROA16, SROA17, SROB0, SROB1, SROB2, SROB3, SROB4, SROB5, SROB6, SROB7,
    SROB8, SROB9, SROB10, SROB11, SROB12, SROB13, SROB14, SROB15, SROB16, SROB17, ROA0, ROA1,
    ROA2, ROA3, ROA4, ROA5, ROA6, ROA7, ROA8, ROA9, ROA10, ROA11, ROA12, ROA13,
    ROA14, ROA15, ROA16, ROA17, ROB0, ROB1, ROB2, ROB3, ROB4, ROB5, ROB6, ROB7,
    ROB8, ROB9, ROB10, ROB11, ROB12, ROB13, ROB14, ROB15, ROB16, ROB17, ROC0, ROC1,
    ROC2, ROC3, ROC4, ROC5, ROC6, ROC7, ROC8, ROC9, ROC10, ROC11, ROC12, ROC13,
    ROC14, ROC15, ROC16, ROC17, P0, P1, P2, P3, P4, P5, P6, P7,
    P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18, P19,
    P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31,
    P32, P33, P34, P35, SIGNEDP
);
    input wire A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11;
    input wire A12, A13, A14, A15, A16, A17, B0, B1, B2, B3, B4, B5;
    input wire B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17;
    input wire C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11;
    input wire C12, C13, C14, C15, C16, C17, SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, CLK0, CLK1;
    input wire CLK2, CLK3, CE0, CE1, CE2, CE3, RST0, RST1, RST2, RST3, SRIA0, SRIA1;
    input wire SRIA2, SRIA3, SRIA4, SRIA5, SRIA6, SRIA7, SRIA8, SRIA9, SRIA10, SRIA11, SRIA12, SRIA13;
    input wire SRIA14, SRIA15, SRIA16, SRIA17, SRIB0, SRIB1, SRIB2, SRIB3, SRIB4, SRIB5, SRIB6, SRIB7;
    input wire SRIB8, SRIB9, SRIB10, SRIB11, SRIB12, SRIB13, SRIB14, SRIB15, SRIB16, SRIB17;
    output wire SROA0, SROA1, SROA2, SROA3, SROA4, SROA5, SROA6, SROA7, SROA8, SROA9, SROA10, SROA11;
    output wire SROA12, SROA13, SROA14, SROA15, SROA16, SROA17, SROB0, SROB1, SROB2, SROB3, SROB4, SROB5;
    output wire SROB6, SROB7, SROB8, SROB9, SROB10, SROB11, SROB12, SROB13, SROB14, SROB15, SROB16, SROB17;
    output wire ROA0, ROA1, ROA2, ROA3, ROA4, ROA5, ROA6, ROA7, ROA8, ROA9, ROA10, ROA11;
    output wire ROA12, ROA13, ROA14, ROA15, ROA16, ROA17, ROB0, ROB1, ROB2, ROB3, ROB4, ROB5;
    output wire ROB6, ROB7, ROB8, ROB9, ROB10, ROB11, ROB12, ROB13, ROB14, ROB15, ROB16, ROB17;
    output wire ROC0, ROC1, ROC2, ROC3, ROC4, ROC5, ROC6, ROC7, ROC8, ROC9, ROC10, ROC11;
    output wire ROC12, ROC13, ROC14, ROC15, ROC16, ROC17, P0, P1, P2, P3, P4, P5;
    output wire P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17;
    output wire P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29;
    output wire P30, P31, P32, P33, P34, P35, SIGNEDP;
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";

    function automatic ok_reg(input [8*8-1:0] clk_s, input [8*8-1:0] ce_s, input [8*8-1:0] rst_s);
        ok_reg = (clk_s == "NONE" || clk_s == "CLK0") && ce_s == "CE0" && rst_s == "RST0";
    endfunction
    initial begin
        if (!ok_reg(REG_INPUTA_CLK, REG_INPUTA_CE, REG_INPUTA_RST) ||
            !ok_reg(REG_INPUTB_CLK, REG_INPUTB_CE, REG_INPUTB_RST) ||
            !ok_reg(REG_PIPELINE_CLK, REG_PIPELINE_CE, REG_PIPELINE_RST) ||
            !ok_reg(REG_OUTPUT_CLK, REG_OUTPUT_CE, REG_OUTPUT_RST) ||
            REG_INPUTC_CLK != "NONE" || MULT_BYPASS != "DISABLED" || RESETMODE != "SYNC" ||
            CAS_MATCH_REG != "FALSE" || HIGHSPEED_CLK != "NONE") begin
            $display("ecp5_mult18x18d_model: a mode this model does not cover");
            $finish;
        end
    end
    always @(posedge CLK0)
        if (SOURCEA !== 1'b0 || SOURCEB !== 1'b0) begin
            $display("ecp5_mult18x18d_model: SOURCEA / SOURCEB (shifted operands) are not modelled");
            $finish;
        end

    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    reg  [17:0] a_q = 18'd0, b_q = 18'd0;
    reg         sa_q = 1'b0, sb_q = 1'b0;
    always @(posedge CLK0)
        if (RST0) begin a_q <= 18'd0; b_q <= 18'd0; sa_q <= 1'b0; sb_q <= 1'b0; end
        else if (CE0) begin a_q <= a; b_q <= b; sa_q <= SIGNEDA; sb_q <= SIGNEDB; end
    wire [17:0] am = (REG_INPUTA_CLK == "NONE") ? a : a_q;
    wire [17:0] bm = (REG_INPUTB_CLK == "NONE") ? b : b_q;
    wire        sa = (REG_INPUTA_CLK == "NONE") ? SIGNEDA : sa_q;
    wire        sb = (REG_INPUTB_CLK == "NONE") ? SIGNEDB : sb_q;
    wire [35:0] ax = {{18{sa & am[17]}}, am};
    wire [35:0] bx = {{18{sb & bm[17]}}, bm};
    wire [35:0] prod = ax * bx;                       // modulo 2^36: the signed or unsigned product
    reg  [35:0] pipe_q = 36'd0, out_q = 36'd0;
    wire [35:0] pp = (REG_PIPELINE_CLK == "NONE") ? prod : pipe_q;
    always @(posedge CLK0)
        if (RST0) begin pipe_q <= 36'd0; out_q <= 36'd0; end
        else if (CE0) begin pipe_q <= prod; out_q <= pp; end
    wire [35:0] p = (REG_OUTPUT_CLK == "NONE") ? pp : out_q;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
    assign SIGNEDP = sa | sb;
    assign {SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0} = a_q;
    assign {SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0} = b_q;
    assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0} = am;
    assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0} = bm;
    assign {ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0} = 18'd0;
    // unused here: the C input, CLK1..3, CE1..3, RST1..3, SRIA / SRIB
    wire unused = &{1'b0, {C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0}, CLK1, CLK2, CLK3, CE1, CE2, CE3, RST1, RST2, RST3,
                     {SRIA17, SRIA16, SRIA15, SRIA14, SRIA13, SRIA12, SRIA11, SRIA10, SRIA9, SRIA8, SRIA7, SRIA6, SRIA5, SRIA4, SRIA3, SRIA2, SRIA1, SRIA0}, {SRIB17, SRIB16, SRIB15, SRIB14, SRIB13, SRIB12, SRIB11, SRIB10, SRIB9, SRIB8, SRIB7, SRIB6, SRIB5, SRIB4, SRIB3, SRIB2, SRIB1, SRIB0}};
endmodule
`default_nettype wire
