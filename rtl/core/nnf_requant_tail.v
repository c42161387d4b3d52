`default_nettype none

// nnf_requant_tail: stages 3-5 of the requantization (above), from the exact
// 64-bit product acc * m0 and k - 1: the one definition of the shift, the
// rounding, the zero point and the clamp, shared by nnf_requant (products
// in DSPs) and nnf_vec's fabric requantizer (VEC_SERIAL = 2: the product
// by Booth steps). q follows prod / km1 by 3 cycles.
//
// TFL_ROUND = 1 adds TFLite's double rounding, chosen by rnd (held for the
// command; nnfm_requantize_r's NNFM_ROUND_TFLITE). For k <= 31 it is the
// single rounding. For k >= 32 (r = k - 31 >= 1) TFLite computes
// h = floor((p + 2^30) / 2^31), then y = floor((h + 2^(r-1) - [h < 0]) / 2^r).
// With P = floor(p / 2^31), h = P + p[30], and [h < 0] may be read as p[63]
// (they differ only for -2^30 <= p < 0, where h = 0 and either gives y = 0),
// so y = floor((P + 2^(r-1) + e) / 2^r) with e = p[30] - p[63] in {-1, 0, 1}.
// Split P at bit r - 1: t = floor(P / 2^(r-1)) is stage 3's t (a shift by
// k - 1 = 30 + r), and R = P mod 2^(r-1) = p[k-2 : 31] (r - 1 bits). Then
// y = floor((t + 1 + c) / 2) with c = floor((R + e) / 2^(r-1)):
//   c = +1  when e = +1 and R is all ones  (vacuously when r = 1)
//   c = -1  when e = -1 and R is all zeros (vacuously when r = 1)
//   c =  0  otherwise
// so the rounding step adds 0, 1 or 2 instead of 1: no carry chain ahead of
// the shifter, and the masks of R sit beside it. Saturated t keeps y's
// saturation exact (|t + 1 + c| stays within 15 bits).
module nnf_requant_tail #(
    parameter integer TFL_ROUND = 0     // 1: rnd chooses TFLite's double rounding
) (
    input  wire        clk,
    input  wire [63:0] prod,    // acc * m0, exact (|acc * m0| < 2^62)
    input  wire [5:0]  km1,     // k - 1, 0..61
    input  wire        rnd,     // TFL_ROUND = 1: TFLite's double rounding
    input  wire [7:0]  zp,
    input  wire [7:0]  lo,
    input  wire [7:0]  hi,
    output reg  [7:0]  q
);
    // ---- 3: t = prod >>> (k-1), saturated to [-2^13, 2^13 - 1] (in effect: stage 4). A
    //         logarithmic shifter that keeps, after the stage shifting by
    //         2^j, only the 14 + 2^j - 1 low bits the remaining stages can
    //         bring down, and flags (o*) a stage whose dropped bits are not
    //         all copies of the sign: then t does not fit 14 bits. (A full
    //         64-bit shifter and a 51-bit fits check cost about twice the
    //         LUTs.) t fits <=> no stage flags; the saturation takes the
    //         product's sign.
    wire [5:0]  sa = km1;
    wire [63:0] y5 = sa[5] ? {{32{prod[63]}}, prod[63:32]} : prod;
    wire        o5 = (y5[63:44] != {20{y5[44]}});
    wire [44:0] y4 = sa[4] ? {{16{y5[44]}}, y5[44:16]} : y5[44:0];
    wire        o4 = (y4[44:28] != {17{y4[28]}});
    wire [28:0] y3 = sa[3] ? {{8{y4[28]}}, y4[28:8]} : y4[28:0];
    wire        o3 = (y3[28:20] != {9{y3[20]}});
    wire [20:0] y2 = sa[2] ? {{4{y3[20]}}, y3[20:4]} : y3[20:0];
    wire        o2 = (y2[20:16] != {5{y2[16]}});
    wire [16:0] y1 = sa[1] ? {{2{y2[16]}}, y2[16:2]} : y2[16:0];
    wire        o1 = (y1[16:14] != {3{y1[14]}});
    wire [14:0] y0 = sa[0] ? {y1[14], y1[14:1]} : y1[14:0];
    wire        o0 = (y0[14:13] != {2{y0[13]}});
    //         Registered as t's low 14 bits and a flag that t does not
    //         fit (tov_q), with the product's sign: the saturation itself
    //         is applied in stage 4, where a saturated t (-8192 or +8191,
    //         plus 0..2, halved) always saturates y to -2048 or +2047 by
    //         that sign. So the flags' OR is not in front of ts_q.
    reg  [13:0] ts_q;
    reg         tov_q, tsg_q;
    always @(posedge clk) begin
        ts_q  <= y0[13:0];
        tov_q <= o5 || o4 || o3 || o2 || o1 || o0;
        tsg_q <= prod[63];
    end

    //         TFLite's rounding: c = +1 (cup_q) or -1 (cdn_q), above
    reg         cup_q, cdn_q;
    generate
        if (TFL_ROUND != 0) begin : g_tfl
            wire        dbl = rnd && (km1 >= 6'd31);        // k >= 32
            wire [4:0]  rw  = km1[4:0] - 5'd31;             // r - 1, 0..30 when dbl (mod 32)
            wire [29:0] rm;                                 // R's bits among p[60:31]
            genvar g;
            for (g = 0; g < 30; g = g + 1) begin : g_m
                assign rm[g] = (rw > g);
            end
            wire        r_ones  = &(prod[60:31] | ~rm);
            wire        r_zeros = ~|(prod[60:31] & rm);
            always @(posedge clk) begin
                cup_q <= dbl && prod[30] && !prod[63] && r_ones;
                cdn_q <= dbl && !prod[30] && prod[63] && r_zeros;
            end
        end else begin : g_single
            always @(posedge clk) begin
                cup_q <= 1'b0;
                cdn_q <= 1'b0;
            end
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_rnd = rnd;
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // ---- 4: y = (t + 1 + c) >>> 1 (the rounding; c = 0 but for TFLite's
    //         double rounding); saturate to [-2048, 2047]. With zp, lo, hi
    //         in int8 range, clamp(y + zp, lo, hi) is unchanged by this.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [14:0] u     = {ts_q[13], ts_q} + {13'd0, cup_q, !cup_q && !cdn_q};
    /* verilator lint_on UNUSEDSIGNAL */
    wire [13:0] y     = u[14:1];
    wire        fits  = (y[13:11] == 3'b000) || (y[13:11] == 3'b111);
    reg  [11:0] ys_q;
    always @(posedge clk) begin
        if (tov_q)      ys_q <= tsg_q ? 12'h800 : 12'h7ff;   // t saturated (stage 3)
        else if (fits)  ys_q <= y[11:0];
        else if (y[13]) ys_q <= 12'h800;    // -2048
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
