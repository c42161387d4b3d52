// nnf_pe: one processing element of the weight-stationary systolic array.
//
// Holds two int8 weights (banks 0 and 1). Each cycle it multiplies the
// activation arriving from the left by the weight of the bank that travels
// with that activation, adds the partial sum arriving from above, and passes
// the activation right and the sum down (both registered). A bank is written
// through the weight-load port while the other bank computes.
`default_nettype none

module nnf_pe #(
    parameter integer PSUM_W = 20,         // partial-sum width (>= 17)
    parameter integer MUL_DSP = 1          // 1: '*' (Yosys may map it to a DSP)
                                           // 0: shift-and-add form (LUTs only)
) (
    input  wire                  clk,
    // from the left neighbour (or the input skew)
    input  wire [7:0]            a_i,      // int8 activation
    input  wire                  bank_i,   // weight bank this activation uses
    // from the PE above (zero for the top row)
    input  wire [PSUM_W-1:0]     psum_i,
    // weight load (this PE's row selected)
    input  wire                  wl_en,
    input  wire                  wl_bank,
    input  wire [7:0]            wl_data,
    // to the right neighbour and the PE below
    output reg  [7:0]            a_o,
    output reg                   bank_o,
    output reg  [PSUM_W-1:0]     psum_o
);
    reg  [7:0] w0_q;
    reg  [7:0] w1_q;

    wire [7:0]         w    = bank_i ? w1_q : w0_q;
    wire [15:0] prod;

    generate
        if (MUL_DSP != 0) begin : g_mul_dsp
            assign prod = $signed(a_i) * $signed(w);
        end else begin : g_mul_fabric
            // Signed 8x8 as a sum of shifted copies of a (bit 7 of w weighs -128):
            // an expression Yosys does not recognise as a multiplier.
            wire [15:0] ax = {{8{a_i[7]}}, a_i};
            wire [15:0] pp0 = w[0] ? ax        : 16'd0;
            wire [15:0] pp1 = w[1] ? ax << 1   : 16'd0;
            wire [15:0] pp2 = w[2] ? ax << 2   : 16'd0;
            wire [15:0] pp3 = w[3] ? ax << 3   : 16'd0;
            wire [15:0] pp4 = w[4] ? ax << 4   : 16'd0;
            wire [15:0] pp5 = w[5] ? ax << 5   : 16'd0;
            wire [15:0] pp6 = w[6] ? ax << 6   : 16'd0;
            wire [15:0] pp7 = w[7] ? ax << 7   : 16'd0;
            assign prod = ((pp0 + pp1) + (pp2 + pp3)) + ((pp4 + pp5) + (pp6 - pp7));
        end
    endgenerate

    always @(posedge clk) begin
        if (wl_en && !wl_bank) w0_q <= wl_data;
        if (wl_en &&  wl_bank) w1_q <= wl_data;
        a_o    <= a_i;
        bank_o <= bank_i;
        psum_o <= psum_i + {{(PSUM_W-16){prod[15]}}, prod};
    end
endmodule

`default_nettype wire
