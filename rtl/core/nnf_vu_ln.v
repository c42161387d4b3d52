// nnf_vu_ln: ROW's LAYERNORM (docs/attention.md, docs/protocol.md ROW),
// bit for bit nnfm_engine_row with nnfm_layernorm_row / nnfm_layernorm_elem
// (sim/model/nnfm_engine.c, nnfm_attn.c): for each row m of the M rows (a
// token of d = N channels: the CT = ceil(N/ROWS) words a_base + ct*M + m,
// lane j % ROWS of word j / ROWS holding channel j):
//
//   pass 0  u = x - zp_in;  S = sum u,  Q = sum u^2
//   row     T = d*Q - S^2;  r = isqrt((T << 24) + eps_q)   (32 steps, two bits each)
//           k = max(0, bitlength(r) - 13)
//           inv = r ? floor((2^(36+k) + r/2) / r) : 0      (57 steps of a restoring division)
//   pass 1  per channel j, its parameters from lane j % ROWS of P entry
//           p_base + j / ROWS (read with the word): bias, m0 (bit 31: gamma's
//           sign, -1 when set), shift:
//             c = d*u - S;  a = (sign*c*inv + (k ? 2^(k-1) : 0)) >>> k
//             z = requantize(a, m0[30:0], shift, 0, -2^25, 2^25)
//                 ((a*m0 + 2^(30-shift)) >>> (31-shift); m0 = 0 for a shift
//                 outside -31..30)
//             y = clamp(((z + bias mod 2^32) + 128) >>> 8 + zp_out, -128, 127)
//           lanes of channels >= N written 0; the row's words to o_base + ct*M + m
//
// The element path is a pipeline of eight stages, one element a cycle.
//
// Timing. A pass walks the row's words: a word's read (and in pass 1 its P
// entry's) is issued (act_re, p_re: flops), both arrive two cycles later
// and the ROWS lanes are stepped one a cycle: ROWS + 3 cycles a word. Between
// the passes 1 + 1 + 32 + 1 + 57 cycles (the sums' last term, T, the square
// root, k, the division); after pass 1, 10 cycles while its last bytes leave
// the pipeline and the word is written: a row takes 2*CT*(ROWS + 3) + 102
// cycles, and done is high in cycle M*(2*CT*(ROWS + 3) + 102) + 1 after the
// cycle of start (N or M 0: cycle 2); tests/rtl/tb_vu_ln.v checks it exactly. Rows are done one after the other, each read whole (pass 0)
// before any of its words is written, so O may be A's range (in place) or
// disjoint from it.
//
// start is a one-cycle pulse while idle; the c_* fields are held from start
// until done. busy is high from the cycle after start until done, done a
// one-cycle pulse. abort (a one-cycle pulse while busy) ends the command
// after the word in its lanes (pass 1: that word is written); rst drops
// everything in flight. The P reads go through nnf_bufs' P check port (the
// unit runs while the engine is idle and the P check is not running).
`default_nettype none

module nnf_vu_ln #(
    parameter integer ROWS    = 8,       // == COLS: a word's lanes are a P entry's
    parameter integer ACT_AW  = 15,
    parameter integer P_AW    = 6
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    /* verilator lint_off SYMRSVDWORD */
    input  wire              abort,
    /* verilator lint_on SYMRSVDWORD */
    input  wire [15:0]       c_n,       // d, 1..1024 (checked before)
    input  wire [15:0]       c_m,       // rows
    input  wire [7:0]        c_zp_in,   // int8
    input  wire [7:0]        c_zp_out,  // int8
    input  wire [62:0]       c_eps,     // eps_q <= 2^62 (checked before)
    input  wire [ACT_AW-1:0] c_a_base, c_o_base,
    input  wire [P_AW-1:0]   c_p_base,
    output reg               busy,
    output reg               done,
    output reg               act_re,
    output reg  [ACT_AW-1:0] act_ra,
    input  wire [ROWS*8-1:0] act_rd,
    output reg               act_we,
    output reg  [ACT_AW-1:0] act_wa,
    output reg  [ROWS*8-1:0] act_wd,
    output reg               p_re,
    output reg  [P_AW-1:0]   p_ra,
    input  wire [ROWS*72-1:0] p_rd      // per lane: bias[31:0], m0[63:32], shift[71:64]
);
    localparam integer LR = $clog2(ROWS);
    localparam integer PD = 8;                 // the element pipeline's stages

    generate
        if (ROWS < 2 || (1 << LR) != ROWS) begin : g_bad_rows
            nnf_vu_ln_bad_parameter_ROWS_must_be_a_power_of_two u_bad();
        end
    endgenerate

    localparam [3:0] S_IDLE = 4'd0,
                     S_RD   = 4'd1,     // issue the word's read (pass 1: and its P entry's)
                     S_W1   = 4'd2,
                     S_W2   = 4'd3,     // the word arrives
                     S_LANE = 4'd4,     // step the word's lanes
                     S_SUM  = 4'd5,     // the sums' last term
                     S_T    = 4'd6,     // T, then the square root's operand
                     S_SQ   = 4'd7,     // 32 square-root steps
                     S_K    = 4'd8,     // k, the division's numerator
                     S_DIV  = 4'd9,     // 57 division steps
                     S_END  = 4'd10;    // pass 1's last word written: next row
    reg  [3:0]        st_q;
    reg               pass_q;            // 0 sums, 1 outputs
    reg  [15:0]       m_q, ct_q, ct_n_q;
    reg  [LR:0]       nl_last_q;         // lanes of the last tile
    reg  [ACT_AW-1:0] ra_row_q, wa_row_q, ptr_q;
    reg  [ACT_AW-1:0] ow_ptr_q;          // the output word's offset: ct*M
    reg  [P_AW-1:0]   pe_q;              // the word's P entry
    reg  [LR-1:0]     lane_q;
    reg  [ROWS*8-1:0] wd_q;              // the word, lane 0 at the bottom (shifted)
    reg  [ROWS*72-1:0] pd_q;             // its P entry's lanes (shifted with it)
    reg               ab_q, emp_q;
    reg  [5:0]        it_q;              // square-root and division steps

    wire go   = start && !busy;
    wire stop = ab_q || abort;
    wire [15:0] ct_d  = {{LR{1'b0}}, c_n[15:LR]} + {15'd0, (c_n[LR-1:0] != {LR{1'b0}})};
    wire [LR:0] nlr_d = (c_n[LR-1:0] == {LR{1'b0}}) ? ROWS[LR:0] : {1'b0, c_n[LR-1:0]};
    wire        last_ct   = (ct_q == ct_n_q - 16'd1);
    wire        lane_last = (lane_q == {LR{1'b1}});
    wire        lane_v    = !last_ct || ({1'b0, lane_q} < nl_last_q);

    // ------------------------------------------------------------------
    // The row's constants
    // ------------------------------------------------------------------
    wire signed [8:0]  lx = $signed({wd_q[7], wd_q[7:0]}) - $signed({c_zp_in[7], c_zp_in});   // u
    reg  signed [18:0] s_q;              // S: |S| <= 255*1024 < 2^18
    reg         [26:0] q_q;              // Q <= 65025*1024 < 2^26
    wire        [10:0] d11 = c_n[10:0];  // d <= 1024
    reg         [63:0] v_q;              // the square root's remainder
    reg         [63:0] r_q;              // and root (< 2^31.2 at the end)
    reg         [63:0] bit_q;
    reg         [4:0]  k_q;
    reg         [56:0] nn_q;             // the division's numerator, shifted out at the top
    reg         [31:0] rem_q;           // < r
    reg         [24:0] inv_q;            // <= 2^24
    wire        [39:0] dq  = {29'd0, d11} * {13'd0, q_q};       // d*Q < 2^37
    wire signed [39:0] ss  = s_q * s_q;                        // S^2 < 2^36
    wire signed [39:0] t_d = $signed(dq) - ss;                 // 0 <= T < 2^36
    wire        [63:0] vb  = r_q + bit_q;
    wire        [63:0] r_h = r_q >> 1;
    // bit length of r: the highest set bit + 1; k = max(0, that - 13)
    reg         [5:0]  blen;
    integer            bi;
    always @(*) begin
        blen = 6'd0;
        for (bi = 0; bi < 32; bi = bi + 1)
            if (r_q[bi]) blen = bi[5:0] + 6'd1;
    end
    wire        [5:0]  k_d    = (blen > 6'd13) ? (blen - 6'd13) : 6'd0;
    wire        [32:0] rem_sh = {rem_q[31:0], nn_q[56]};
    wire               rem_ge = (rem_sh >= {1'b0, r_q[31:0]});
    wire        [32:0] rem_sub = rem_sh - {1'b0, r_q[31:0]};
    wire signed [17:0] lxx    = lx * lx;                        // u^2 <= 65025

    // ------------------------------------------------------------------
    // The element pipeline (pass 1): stage e1 .. e8, valid and lane-valid
    // flags along it; the output bytes shift into ow_q
    // ------------------------------------------------------------------
    reg  [PD-1:0]      tv_q;             // an element in stage i
    reg  [PD-1:0]      tl_q;             // its lane is a channel (< N)
    reg  [PD-1:0]      tw_q;             // it is its word's last lane
    reg  signed [8:0]  e1_u_q;
    reg  [71:0]        e1_p_q, e2_p_q, e3_p_q, e4_p_q, e5_p_q, e6_p_q, e7_p_q;
    reg  signed [19:0] e2_du_q;            // d*u: |d*u| <= 1024*255
    reg  signed [20:0] e3_c_q;             // c = d*u - S: |c| < 2^19
    reg  signed [45:0] e4_pr_q;            // sign*c*inv: |.| < 2^44
    reg  signed [31:0] e5_a_q;             // a: |a| < 2^30
    reg  signed [63:0] e6_pr_q;            // a * m0
    reg  signed [26:0] e7_z_q;             // z: |z| <= 2^25
    reg  [7:0]         e8_y_q;
    reg  [ROWS*8-1:0]  ow_q;             // the output word being assembled (lane 0 first)
    wire [71:0]        lp = pd_q[71:0];  // the lane's parameters
    wire signed [31:0] p_m0   = {1'b0, e5_p_q[62:32]};
    wire signed [7:0]  p_sh   = e5_p_q[71:64];
    wire               p_okq  = (p_sh >= -8'sd31) && (p_sh <= 8'sd30);
    wire signed [63:0] e6_d   = p_okq ? (e5_a_q * p_m0) : 64'sd0;
    wire        [5:0]  kk     = 6'd31 - e6_p_q[69:64];             // 31 - shift: 1 .. 62 (shift valid)
    wire signed [63:0] rq_y   = (e6_pr_q + (64'sd1 <<< (kk - 6'd1))) >>> kk;
    wire signed [26:0] rq_z   = (rq_y > 64'sd33554432) ? 27'sd33554432
                              : (rq_y < -64'sd33554432) ? -27'sd33554432 : rq_y[26:0];
    wire        [31:0] zb     = {{5{e7_z_q[26]}}, e7_z_q} + e7_p_q[31:0];      // modulo 2^32
    wire signed [32:0] y1     = ($signed({zb[31], zb}) + 33'sd128) >>> 8;
    wire signed [32:0] y2     = y1 + $signed({{25{c_zp_out[7]}}, c_zp_out});
    wire        [7:0]  y_d    = (y2 > 33'sd127) ? 8'h7f : (y2 < -33'sd128) ? 8'h80 : y2[7:0];
    wire               drained = (tv_q == {PD{1'b0}}) && !act_we;
    wire signed [45:0] e5_d   = (e4_pr_q + ((k_q != 5'd0) ? (46'sd1 <<< (k_q - 5'd1)) : 46'sd0)) >>> k_q;

    always @(posedge clk) begin
        // the pipeline moves every cycle
        tv_q  <= rst ? {PD{1'b0}} : {tv_q[PD-2:0], (st_q == S_LANE) && pass_q && busy && !rst};
        tl_q  <= {tl_q[PD-2:0], lane_v};
        tw_q  <= {tw_q[PD-2:0], lane_last};
        e1_u_q  <= lx;
        e1_p_q  <= lp;
        e2_du_q <= $signed({1'b0, d11}) * e1_u_q;
        e2_p_q  <= e1_p_q;
        e3_c_q  <= $signed({e2_du_q[19], e2_du_q}) - $signed({{2{s_q[18]}}, s_q});
        e3_p_q  <= e2_p_q;
        e4_pr_q <= e3_p_q[63] ? -($signed(e3_c_q) * $signed({1'b0, inv_q})) : ($signed(e3_c_q) * $signed({1'b0, inv_q}));
        e4_p_q  <= e3_p_q;
        e5_a_q  <= e5_d[31:0];
        e5_p_q  <= e4_p_q;
        e6_pr_q <= e6_d;
        e6_p_q  <= p_okq ? e5_p_q : {8'd0, e5_p_q[63:0]};
        e7_z_q  <= rq_z;
        e7_p_q  <= e6_p_q;
        e8_y_q  <= tl_q[6] ? y_d : 8'd0;
    end

    // ------------------------------------------------------------------
    // The sequencer
    // ------------------------------------------------------------------
    always @(posedge clk) begin
        done   <= 1'b0;
        act_re <= 1'b0;
        act_we <= 1'b0;
        p_re   <= 1'b0;
        if (tv_q[PD-1] && !rst) begin               // an output byte
            ow_q <= {e8_y_q, ow_q[ROWS*8-1:8]};
            if (tw_q[PD-1]) begin                   // its word is whole
                act_we <= 1'b1;
                act_wa <= wa_row_q + ow_ptr_q;
                act_wd <= {e8_y_q, ow_q[ROWS*8-1:8]};
                ow_ptr_q <= ow_ptr_q + c_m[ACT_AW-1:0];
            end
        end
        if (rst) begin
            busy <= 1'b0;
            st_q <= S_IDLE;
            ab_q <= 1'b0;
        end else if (go) begin
            busy      <= 1'b1;
            ab_q      <= 1'b0;
            emp_q     <= (c_n == 16'd0) || (c_m == 16'd0);
            m_q       <= 16'd0;
            ct_n_q    <= ct_d;
            nl_last_q <= nlr_d;
            ra_row_q  <= c_a_base;
            wa_row_q  <= c_o_base;
            ptr_q     <= {ACT_AW{1'b0}};
            ow_ptr_q  <= {ACT_AW{1'b0}};
            pe_q      <= c_p_base;
            ct_q      <= 16'd0;
            pass_q    <= 1'b0;
            s_q       <= 19'd0;
            q_q       <= 27'd0;
            st_q      <= ((c_n == 16'd0) || (c_m == 16'd0)) ? S_END : S_RD;
        end else if (busy) begin
            if (abort) ab_q <= 1'b1;
            case (st_q)
                S_RD: begin
                    if (stop) begin
                        st_q <= S_END;
                    end else begin
                        act_re <= 1'b1;
                        act_ra <= ra_row_q + ptr_q;
                        p_re   <= pass_q;
                        p_ra   <= pe_q;
                        st_q   <= S_W1;
                    end
                end
                S_W1: st_q <= S_W2;
                S_W2: begin
                    wd_q   <= act_rd;
                    pd_q   <= p_rd;
                    lane_q <= {LR{1'b0}};
                    st_q   <= S_LANE;
                end
                S_LANE: begin
                    if (!pass_q && lane_v) begin
                        s_q <= s_q + {{10{lx[8]}}, lx};
                        q_q <= q_q + {9'd0, lxx};
                    end
                    wd_q   <= wd_q >> 8;
                    pd_q   <= pd_q >> 72;
                    lane_q <= lane_q + 1'b1;
                    if (lane_last) begin
                        if (stop) begin
                            st_q <= S_END;
                        end else if (!last_ct) begin
                            ct_q  <= ct_q + 16'd1;
                            ptr_q <= ptr_q + c_m[ACT_AW-1:0];
                            pe_q  <= pe_q + 1'b1;
                            st_q  <= S_RD;
                        end else begin
                            ct_q  <= 16'd0;
                            ptr_q <= {ACT_AW{1'b0}};
                            pe_q  <= c_p_base;
                            st_q  <= pass_q ? S_END : S_SUM;
                        end
                    end
                end
                S_SUM: st_q <= stop ? S_END : S_T;      // the last term is in
                S_T: begin
                    v_q   <= {4'd0, t_d[35:0], 24'd0} + {1'b0, c_eps};
                    r_q   <= 64'd0;
                    bit_q <= 64'd1 << 62;
                    it_q  <= 6'd0;
                    st_q  <= S_SQ;
                end
                S_SQ: begin                              // r^2 <= v < (r + 1)^2
                    if (v_q >= vb) begin
                        v_q <= v_q - vb;
                        r_q <= r_h + bit_q;
                    end else begin
                        r_q <= r_h;
                    end
                    bit_q <= bit_q >> 2;
                    it_q  <= it_q + 6'd1;
                    if (it_q == 6'd31) st_q <= stop ? S_END : S_K;
                end
                S_K: begin
                    k_q   <= k_d[4:0];
                    nn_q  <= (57'd1 << (6'd36 + k_d)) + {25'd0, r_q[32:1]};
                    rem_q <= 32'd0;
                    inv_q <= 25'd0;
                    it_q  <= 6'd0;
                    st_q  <= S_DIV;
                end
                S_DIV: begin                             // quotient bits, most significant first
                    rem_q <= rem_ge ? rem_sub[31:0] : rem_sh[31:0];
                    inv_q <= {inv_q[23:0], rem_ge};
                    nn_q  <= nn_q << 1;
                    it_q  <= it_q + 6'd1;
                    if (it_q == 6'd56) begin
                        if (r_q == 64'd0) inv_q <= 25'd0;
                        pass_q <= 1'b1;
                        st_q   <= stop ? S_END : S_RD;
                    end
                end
                S_END: begin                             // the row's words written
                    if (drained) begin
                        if (emp_q || m_q == c_m - 16'd1 || stop) begin
                            busy <= 1'b0;
                            done <= 1'b1;
                            st_q <= S_IDLE;
                        end else begin
                            m_q      <= m_q + 16'd1;
                            ra_row_q <= ra_row_q + 1'b1;
                            wa_row_q <= wa_row_q + 1'b1;
                            ow_ptr_q <= {ACT_AW{1'b0}};
                            pass_q   <= 1'b0;
                            s_q      <= 19'd0;
                            q_q      <= 27'd0;
                            st_q     <= S_RD;
                        end
                    end
                end
                default: st_q <= S_IDLE;
            endcase
        end
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, t_d[39:36], tl_q[PD-1], e7_p_q[71:32], ow_q[7:0], e5_d[45:32], rem_sub[32], e6_p_q[63:32], r_q[63:33]};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
