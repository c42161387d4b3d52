// nnf_pe: one processing element of the weight-stationary systolic array.
//
// Holds two int8 weights (banks 0 and 1). Each cycle it multiplies the
// activation arriving from the left by the weight of the bank that travels
// with that activation, adds the partial sum arriving from above, and passes
// the activation right and the sum down (both registered). A bank is written
// through the weight-load port while the other bank computes.
`default_nettype none

module nnf_pe #(
    parameter integer PSUM_W = 20          // partial-sum width (>= 17)
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
    wire signed [15:0] prod = $signed(a_i) * $signed(w);

    always @(posedge clk) begin
        if (wl_en && !wl_bank) w0_q <= wl_data;
        if (wl_en &&  wl_bank) w1_q <= wl_data;
        a_o    <= a_i;
        bank_o <= bank_i;
        psum_o <= psum_i + {{(PSUM_W-16){prod[15]}}, prod};
    end
endmodule

`default_nettype wire
