// nnf_mul8_ecp5: the signed 8x8 product of a PE whose multiply is in the
// fabric (nnf_pe_ecp5 LUT_MUL: the PEs beyond an ECP5 part's MULT18X18D).
// Combinational; the PE registers its operands and the product.
//
// The product in Baugh-Wooley form: 64 bits b(i,j) of weight 2^(i+j), the
// AND of a[i] and w[j], or their NAND where exactly one of i, j is 7, plus
// the constant 2^8 + 2^15 (mod 2^16; |a * w| <= 2^14, so the low 16 bits
// are the signed product):
//
//   a * w = sum b(i,j) 2^(i+j) + 2^8 + 2^15   (mod 2^16)
//
// With NNF_ECP5 the bits are summed two rows at a time (rows 0+1, 2+3, 4+5,
// 6+7) in carry chains of CCU2C whose LUT4 computes the two AND terms and
// their XOR at once: the LUT's inputs are the four operand bits, and the
// carry's generate input (the LUT's own table at C = D = 0) is then the
// (A, B) term, which is the carry whenever the two terms are equal. That
// holds when the (C, D) term is an AND (0 at C = D = 0), so a NAND term goes
// on (A, B); the one position where both would be NANDs (weight 2^13 in
// rows 6+7) moves b(7,6) to the free top of the 4+5 chain. The constant
// 2^8 rides in the 0+1 chain on a D input tied to 1, 2^15 flips the top bit.
// Three adds of the four row-pair sums follow. Yosys maps a '*' or a
// shift-and-add form with a LUT per AND bit beside the adders; this form has
// none: 73 fewer LUT4 and one more CCU2C per PE (docs/synthesis.md).
//
// Without NNF_ECP5 (simulation) the same product as a plain '*'. tests/rtl
// (rtl_pe_ecp5_lut_ccu2c_icarus) checks the CCU2C form on every operand pair
// under Yosys' model of the primitive.
`default_nettype none

module nnf_mul8_ecp5 (
    input  wire [7:0]  a,
    input  wire [7:0]  w,
    output wire [15:0] p
);
`ifdef NNF_ECP5
    // r[q]: rows 2q and 2q+1, relative to 2^(2q): 10 bits (11 for q = 2)
    wire [10:0] r0, r1, r2, r3;
    nnf_mul8_ecp5_pair #(.J(0)) u_r0 (.a(a), .w(w), .r(r0));
    nnf_mul8_ecp5_pair #(.J(2)) u_r1 (.a(a), .w(w), .r(r1));
    nnf_mul8_ecp5_pair #(.J(4)) u_r2 (.a(a), .w(w), .r(r2));
    nnf_mul8_ecp5_pair #(.J(6)) u_r3 (.a(a), .w(w), .r(r3));
    // u = r0 + 4 r1 (max 4081), v = r2 + 4 r3 (max 3825): the bits below
    // the shifted operand pass through
    wire [10:0] u_hi = {3'd0, r0[9:2]} + r1;
    wire [10:0] v_hi = {2'd0, r2[10:2]} + r3;
    wire [11:0] u = {u_hi[9:0], r0[1:0]};
    wire [11:0] v = {v_hi[9:0], r2[1:0]};
    // p = u + 16 v + 2^15 (mod 2^16)
    wire [11:0] p_hi = {4'd0, u[11:4]} + v;
    assign p = {~p_hi[11], p_hi[10:0], u[3:0]};
`else
    assign p = $signed(a) * $signed(w);
`endif
endmodule

`ifdef NNF_ECP5
// One carry chain: the Baugh-Wooley bits of rows J and J+1, relative to
// 2^J, position t holding b(t, J) and b(t-1, J+1) (see nnf_mul8_ecp5).
module nnf_mul8_ecp5_pair #(
    parameter integer J = 0                  // 0, 2, 4 or 6
) (
    input  wire [7:0]  a,
    input  wire [7:0]  w,
    output wire [10:0] r                     // bits 0..9 (0..10 for J = 4)
);
    localparam integer L = (J == 4) ? 10 : 9;          // data positions
    localparam integer H = ((L + 1) + 1) / 2 * 2;      // halves: data, the carry out, even

    // LUT4 table: p = x(A,B) ^ y(C,D) ^ (K & D), x an AND or NAND, y an AND
    function [15:0] lut_init(input ab_on, input ab_nand, input cd_on, input k);
        integer idx;
        reg x, y;
        begin
            for (idx = 0; idx < 16; idx = idx + 1) begin
                x = ab_on & ((idx & 1) != 0) & ((idx & 2) != 0);
                if (ab_on && ab_nand) x = ~x;
                y = cd_on & ((idx & 4) != 0) & ((idx & 8) != 0);
                lut_init[idx] = x ^ y ^ (k & ((idx & 8) != 0));
            end
        end
    endfunction

    // position t's inputs and table, packed: {INIT[15:0], CD_ON, CD_J, CD_I,
    // AB_ON, AB_J, AB_I, K, BAD}; BAD: two NAND terms at one position
    function [31:0] pos_cfg(input integer t);
        reg x1, x2, x3, k, n1, n2, swap, ab_on, ab_n, cd_on, cd_n;
        integer i1, i2, ab_i, ab_j, cd_i, cd_j;
        begin
            x1 = (t <= 7) && !(J == 6 && t == 7);   // b(t, J); b(7,6) is in the J = 4 chain
            x2 = (t >= 1) && (t <= 8);              // b(t-1, J+1)
            x3 = (J == 4) && (t == 9);              // b(7, 6)
            k  = (J == 0) && (t == 8);              // the constant 2^8
            i1 = (t <= 7) ? t : 0;
            i2 = (t >= 1 && t <= 8) ? t - 1 : 0;
            n1 = (i1 == 7) != (J == 7);
            n2 = (i2 == 7) != (J + 1 == 7);
            ab_on = x1 || x2 || x3;
            swap  = x1 && x2 && n2;                 // b(t-1, J+1) on (A, B)
            ab_i  = x3 ? 7 : (swap || !x1) ? i2 : i1;
            ab_j  = x3 ? 6 : (swap || !x1) ? J + 1 : J;
            ab_n  = x3 ? 1'b1 : (swap || !x1) ? n2 : n1;
            cd_on = x1 && x2;
            cd_i  = swap ? i1 : i2;
            cd_j  = swap ? J : J + 1;
            cd_n  = swap ? n1 : n2;
            pos_cfg = {lut_init(ab_on, ab_n, cd_on, k), cd_on, cd_j[2:0], cd_i[2:0],
                       ab_on, ab_j[2:0], ab_i[2:0], k, cd_on && cd_n};
        end
    endfunction

    wire [H-1:0] s;
    wire [H/2:0] c;
    wire [H-1:0] la, lb, lc, ld;
    assign c[0] = 1'b0;

    genvar t;
    generate
    for (t = 0; t < H; t = t + 1) begin : g_pos
        localparam [31:0] CFG = pos_cfg(t);
        if (CFG[0]) begin : g_bad
            nnf_mul8_ecp5_pair_two_nand_terms_at_one_position u_bad();
        end
        assign la[t] = CFG[8]  ? a[CFG[4:2]]   : 1'b0;
        assign lb[t] = CFG[8]  ? w[CFG[7:5]]   : 1'b0;
        assign lc[t] = CFG[15] ? a[CFG[11:9]]  : 1'b0;
        assign ld[t] = CFG[15] ? w[CFG[14:12]] : CFG[1];
    end
    for (t = 0; t < H; t = t + 2) begin : g_ccu
        // positions t and t + 1: one CCU2C
        localparam [31:0] C0 = pos_cfg(t);
        localparam [31:0] C1 = pos_cfg(t + 1);
        CCU2C #(.INIT0(C0[31:16]), .INIT1(C1[31:16]), .INJECT1_0("NO"), .INJECT1_1("NO")) u_cc (
            .CIN(c[t / 2]),
            .A0(la[t]), .B0(lb[t]), .C0(lc[t]), .D0(ld[t]),
            .A1(la[t + 1]), .B1(lb[t + 1]), .C1(lc[t + 1]), .D1(ld[t + 1]),
            .S0(s[t]), .S1(s[t + 1]), .COUT(c[t / 2 + 1]));
    end
    endgenerate

    // the data positions and the carry out (the half after them has p = 0)
    assign r = {{(11 - (L + 1)){1'b0}}, s[L:0]};
endmodule
`endif

`default_nettype wire
