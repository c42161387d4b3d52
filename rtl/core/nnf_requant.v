// nnf_requant: one lane of the vector stage: single-rounding requantization,
// output zero point and clamp (docs/numerics.md; the C definition is
// nnfm_requantize in sim/model/nnfm.c):
//
//     k = 31 - shift                                  (1 <= k <= 62)
//     y = (acc * m0 + (1 << (k-1))) >>> k
//     q = clamp(y + zp, lo, hi)
//
// Fully pipelined, one result per cycle, latency LAT = 5 cycles:
//   1 partial products (four 16-bit-ish multiplies, DSP friendly)
//   2 64-bit product
//   3 rounding constant added
//   4 arithmetic shift, saturated to 12 bits (exact for any int8 zp/lo/hi)
//   5 zero point and clamp
`default_nettype none

module nnf_requant (
    input  wire        clk,
    input  wire [31:0] acc,     // int32 accumulator
    input  wire [30:0] m0,      // multiplier, 0 <= m0 < 2^31
    input  wire [7:0]  shift,   // int8, -31..30
    input  wire [7:0]  zp,      // int8 output zero point (held for the command)
    input  wire [7:0]  lo,      // int8 clamp bounds (held for the command)
    input  wire [7:0]  hi,
    output reg  [7:0]  q        // int8 result, LAT cycles after acc
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
    reg  [63:0] rc_q;       // the rounding constant 2^(k-1), decoded here
    reg  [5:0]  k2_q;
    always @(posedge clk) begin
        prod_q <= e_hh + e_hl + e_lh + e_ll;
        rc_q   <= 64'd1 << (k1_q - 6'd1);
        k2_q   <= k1_q;
    end

    // ---- 3: add the rounding constant.
    reg  [63:0] rnd_q;
    reg  [5:0]  k3_q;
    always @(posedge clk) begin
        rnd_q <= prod_q + rc_q;
        k3_q  <= k2_q;
    end

    // ---- 4: arithmetic shift; saturate to [-2048, 2047]. With zp, lo, hi in
    //         int8 range, clamp(y + zp, lo, hi) is unchanged by this.
    wire [63:0] y     = $signed(rnd_q) >>> k3_q;
    wire        fits  = (y[63:11] == {53{1'b0}}) || (y[63:11] == {53{1'b1}});
    reg  [11:0] ys_q;
    always @(posedge clk) begin
        if (fits)       ys_q <= y[11:0];
        else if (y[63]) ys_q <= 12'h800;    // -2048
        else            ys_q <= 12'h7ff;    // +2047
    end

    // ---- 5: zero point and clamp.
    wire [12:0] v = {ys_q[11], ys_q} + {{5{zp[7]}}, zp};
    wire        below = $signed(v) < $signed({{5{lo[7]}}, lo});
    wire        above = $signed(v) > $signed({{5{hi[7]}}, hi});
    always @(posedge clk) begin
        if (below)      q <= lo;
        else if (above) q <= hi;
        else            q <= v[7:0];
    end
endmodule

`default_nettype wire
