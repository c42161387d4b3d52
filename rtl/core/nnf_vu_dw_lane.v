// nnf_vu_dw_lane: one lane of the depthwise unit (nnf_vu_dw): a window's
// KH x KW taps (at most 3 x 3) times the lane's weights, summed with its
// bias, then the vector stage without LUT (nnf_requant), bit for bit
// nnfm_engine_dwconv's per-channel sum and nnfm_vector_stage:
//
//   acc = bias + sum over the taps t with mask[t] of (x[t] - zp_in) * w[t]   (mod 2^32)
//   q   = requantize(acc, m0, shift, zp, lo, hi)   (rnd: TFLite's double rounding)
//
// Fully pipelined, one window a cycle; win / mask / wts presented in cycle
// X (registers of the caller), q valid in cycle X + 8 (registers valid in):
//   X+1  the nine products (x - zp_in) * w, 9 x 8 bits signed (|p| <= 255*128
//        < 2^15), masked taps 0
//   X+2  the three row sums (|s| < 3*2^15)
//   X+3  acc = bias + the row sums, modulo 2^32 (the GEMM's accumulator
//        wrap), with the lane's m0 and shift
//   X+3 .. X+8  nnf_requant (LAT 5)
// bias, m0 and shift are taken in X+2 (they may change from X+3 on); zp,
// lo, hi and rnd are held for the command.
`default_nettype none

module nnf_vu_dw_lane #(
    parameter integer TFL_ROUND = 0
) (
    input  wire        clk,
    input  wire [71:0] win,        // tap t = ky*3 + kx at [8t +: 8], int8
    input  wire [8:0]  mask,       // the in-map taps
    input  wire [71:0] wts,        // the weights, int8, tap t at [8t +: 8]
    input  wire [7:0]  zp_in,      // int8, held
    input  wire [31:0] bias,
    input  wire [30:0] m0,
    input  wire [7:0]  shift,
    input  wire        rnd,
    input  wire [7:0]  zp, lo, hi,
    output wire [7:0]  q
);
    // ---- X+1: the products ----
    reg  signed [16:0] pr_q [0:8];
    // x - zp_in, 9 bits signed, extended to the product's 17
    function signed [16:0] xs(input [7:0] x, input [7:0] z);
        reg signed [8:0] d;
        begin
            d  = $signed({x[7], x}) - $signed({z[7], z});
            xs = {{8{d[8]}}, d};
        end
    endfunction
    integer t;
    always @(posedge clk) begin
        for (t = 0; t < 9; t = t + 1)
            pr_q[t] <= mask[t] ? (xs(win[8*t +: 8], zp_in) * $signed({{9{wts[8*t+7]}}, wts[8*t +: 8]}))
                               : 17'sd0;
    end

    // ---- X+2: the row sums ----
    reg  signed [18:0] rs_q [0:2];
    integer r;
    always @(posedge clk) begin
        for (r = 0; r < 3; r = r + 1)
            rs_q[r] <= {{2{pr_q[3*r][16]}}, pr_q[3*r]} + {{2{pr_q[3*r+1][16]}}, pr_q[3*r+1]}
                     + {{2{pr_q[3*r+2][16]}}, pr_q[3*r+2]};
    end

    // ---- X+3: the accumulator (wraps) ----
    wire [31:0] s_all = {{13{rs_q[0][18]}}, rs_q[0]} + {{13{rs_q[1][18]}}, rs_q[1]}
                      + {{13{rs_q[2][18]}}, rs_q[2]};
    reg  [31:0] acc_q;
    reg  [30:0] m0_q;
    reg  [7:0]  sh_q;
    always @(posedge clk) begin
        acc_q <= bias + s_all;
        m0_q  <= m0;
        sh_q  <= shift;
    end

    // ---- the vector stage (the one definition of the requantization) ----
    nnf_requant #(.TFL_ROUND(TFL_ROUND)) u_rq (
        .clk(clk), .acc(acc_q), .m0(m0_q), .shift(sh_q), .rnd(rnd), .zp(zp), .lo(lo), .hi(hi), .q(q));
endmodule

`default_nettype wire
