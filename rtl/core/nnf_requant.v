// nnf_requant: one lane of the vector stage: single-rounding requantization
// (or, with TFL_ROUND = 1 and rnd, TFLite's double rounding: see
// nnf_requant_tail), output zero point and clamp (docs/numerics.md; the C
// definition is nnfm_requantize_r in sim/model/nnfm.c):
//
//     k = 31 - shift                                  (1 <= k <= 62)
//     y = (acc * m0 + (1 << (k-1))) >>> k
//     q = clamp(y + zp, lo, hi)
//
// Fully pipelined, one result per cycle, latency LAT = 5 cycles:
//   1 partial products (four 16-bit-ish multiplies, DSP friendly)
//   2 64-bit product
//   3 arithmetic shift by k-1, saturated to 14 bits
//   4 rounding: y = (t + 1) >>> 1, saturated to 12 bits (exact for any
//     int8 zp/lo/hi)
//   5 zero point and clamp
//
// Stages 3-4 use (p + 2^(k-1)) >>> k == ((p >>> (k-1)) + 1) >>> 1 (floor
// division: write p = q*2^(k-1) + r, 0 <= r < 2^(k-1)), so the rounding
// constant is a 15-bit increment after the shift instead of a 64-bit one
// before it. Saturating t to [-2^13, 2^13) keeps y's saturation to 12 bits
// exact: |t| >= 2^13 gives |y| >= 2^12 either way, with t's sign.
`default_nettype none

module nnf_requant #(
    parameter integer TFL_ROUND = 0     // 1: rnd chooses TFLite's double rounding (nnf_requant_tail)
) (
    input  wire        clk,
    input  wire [31:0] acc,     // int32 accumulator
    input  wire [30:0] m0,      // multiplier, 0 <= m0 < 2^31
    input  wire [7:0]  shift,   // int8, -31..30
    input  wire        rnd,     // TFL_ROUND = 1: TFLite's double rounding (held for the command)
    input  wire [7:0]  zp,      // int8 output zero point (held for the command)
    input  wire [7:0]  lo,      // int8 clamp bounds (held for the command)
    input  wire [7:0]  hi,
    output wire [7:0]  q        // int8 result, LAT cycles after acc
);
    // ---- 1: partial products. acc = ah*2^16 + al (ah signed, al unsigned),
    //         m0 = mh*2^16 + ml (both unsigned).
    wire [15:0] ah = acc[31:16];
    wire [15:0] al = acc[15:0];
    wire [14:0] mh = m0[30:16];
    wire [15:0] ml = m0[15:0];
    // k = 31 - shift, modulo 64: exact for every valid shift.
    wire [5:0]  k0 = 6'd31 - shift[5:0];
    /* verilator lint_off UNUSEDSIGNAL */
    wire [1:0]  shift_hi = shift[7:6];     // range checked by the host
    /* verilator lint_on UNUSEDSIGNAL */

    reg  [31:0] hh_q;   // ah * mh  : signed 32
    reg  [32:0] hl_q;   // ah * ml  : signed 33
    reg  [30:0] lh_q;   // al * mh  : unsigned 31
    reg  [31:0] ll_q;   // al * ml  : unsigned 32
    reg  [5:0]  k1_q;
    always @(posedge clk) begin
        hh_q <= $signed(ah) * $signed({1'b0, mh});
        hl_q <= $signed({ah[15], ah}) * $signed({1'b0, ml});
        lh_q <= al * mh;
        ll_q <= al * ml;
        k1_q <= k0;
    end

    // ---- 2: 64-bit product (exact: |acc * m0| < 2^62).
    wire [63:0] e_hh = {hh_q, 32'd0};
    wire [63:0] e_hl = {{15{hl_q[32]}}, hl_q, 16'd0};
    wire [63:0] e_lh = {17'd0, lh_q, 16'd0};
    wire [63:0] e_ll = {32'd0, ll_q};
    reg  [63:0] prod_q;
    reg  [5:0]  k2_q;       // k - 1
    always @(posedge clk) begin
        prod_q <= e_hh + e_hl + e_lh + e_ll;
        k2_q   <= k1_q - 6'd1;
    end

    // ---- 3-5: shift, round, zero point and clamp
    nnf_requant_tail #(.TFL_ROUND(TFL_ROUND)) u_tail (
        .clk(clk), .prod(prod_q), .km1(k2_q), .rnd(rnd), .zp(zp), .lo(lo), .hi(hi), .q(q));

endmodule

`default_nettype wire
