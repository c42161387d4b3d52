// nnf_vu_dw: the vector unit's depthwise conv, DWCONV (docs/conv.md, "The
// depthwise unit"), bit for bit nnfm_engine_dwconv (sim/model/nnfm_engine.c):
//
//   for ct in 0..CT-1 (CT = ceil(C/ROWS)), output pixel (oy, ox), image b,
//   m = (oy*OW + ox)*B + b, lane l (channel ct*ROWS + l):
//     acc = bias[l] + sum over the in-map taps (ky < KH, kx < KW; iy = oy*SH
//           - PH + ky in [0, H), ix = ox*SW - PW + kx in [0, W); padding
//           taps are skipped) of (a - zp_in) * w, a = lane l of ACT word
//           a_base + ((ct*H + iy)*W + ix)*B + b, w = lane l of W word
//           w_base + ct*KH*KW + ky*KW + kx; bias, m0, shift lane l of P
//           entry p_base + ct (the bias not folded with zp_in); mod 2^32
//     y   = requantize(acc, m0, shift) + zp, clamped to [lo, hi] (nnf_requant,
//           c_rnd: TFLite's double rounding with TFL_ROUND = 1)
//     written to lane l of ACT word o_base + ct*M + m; lanes of channels
//     >= C written 0. Nothing else is written.
//
// The walk: for ct, oy, b, the window slides along ox. A cache of the
// window's KH x KW words keeps the columns the next window shares: a step
// reads only its new columns (all KW at ox = 0 or when SW >= KW, else the
// last SW), and of each column only its in-map rows, one ACT word a cycle;
// columns outside the map take no cycle (their taps are masked). Each
// output is one token per read, the last marked END (an output with no
// read, all its new columns padding, is one END token without a read).
// At a tile's start its KH*KW weight words (W, one a cycle) and its P
// entry (whole, through the P check's port) are loaded into registers.
//
// Pipeline (cycles; I: a token's issue):
//   I     the walker's tap: address a_base' + row/column offsets, registered
//   I+1   the ACT read (act_re / act_ra flops)
//   I+2   act_rd arrives (T; DATA_REG = 1: registered first, T = I+3): into
//         the window cache; an END token snapshots the window (with its
//         word) and its in-map mask, and the cache shifts by SW columns
//   T+1 .. T+9  the lanes (nnf_vu_dw_lane: products, row sums, bias,
//         nnf_requant), ROWS of them
//   T+10  the output word's write (act_we / act_wa / act_wd flops), at
//         o_base + ct*M + m counted along the walk's order
// ROWS lanes of 9 multipliers (9 x 8 bits signed) each: KH*KW <= 9 taps a
// cycle, one window a cycle at most.
//
// Cycles. An output takes max(1, R*C) cycles, R its in-map rows, C its
// new in-map columns: a 3x3 stride-1 window inside the map 3 cycles (the
// row's first 9), stride 2 6 cycles. A tile starts with its n = KH*KW W
// reads (one a cycle, the P entry's beside the first), the walk right
// after them; between tiles G = 3 (DATA_REG: 4) cycles let the last
// token reach T before the next tile's weights and P entry are loaded
// (its products take the weights in T+1, its bias, m0, shift in T+3, the
// new ones land from L+3, L the next load's first cycle). With N_t the
// tokens of tile t, done is high in cycle
//     2 + CT*n + sum_t N_t + (CT - 1)*G + 13 (DATA_REG: 14)
// after the cycle of start (tests/rtl/tb_vu_dw.v checks it exactly). A 3x3
// kernel, padding 1, a row of 16 pixels inside the map: stride 1, 6 + 14*3
// + 1 = 49 cycles for its 16 words (3.06 a word); stride 2, 8*6 = 48 for
// its 8 (6 a word).
//
// start is a one-cycle pulse while idle; the c_* fields are held from
// start until done (the walker and the lanes read them throughout). abort
// (while busy) stops the issue; tokens in flight finish (an output whose
// END was issued is written whole; one cut short is dropped), so the
// written words are a prefix, in the walk's order, of the command's; done
// at most 13 cycles (DATA_REG: 14) after the cycle of abort. The windows
// are checked before (every window has an in-map tap: nnf_insn_check).
// The W and P reads go through nnf_bufs' idle-engine ports (the unit runs
// while the engine is idle); w_rd and p_rd are valid the cycle after w_re,
// p_re (flops).
`default_nettype none

module nnf_vu_dw #(
    parameter integer ROWS      = 8,
    parameter integer ACT_AW    = 15,
    parameter integer W_AW      = 14,
    parameter integer P_AW      = 6,
    parameter integer DATA_REG  = 0,     // 1: act_rd registered before the cache
    parameter integer TFL_ROUND = 0      // 1: c_rnd chooses TFLite's double rounding
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    /* verilator lint_off SYMRSVDWORD */
    input  wire              abort,
    /* verilator lint_on SYMRSVDWORD */
    input  wire [15:0]       c_c,       // channels C
    input  wire [15:0]       c_ct,      // channel tiles ceil(C/ROWS)
    input  wire [10:0]       c_h, c_w, c_b,   // 1..1024
    input  wire [2:0]        c_kh, c_kw,  // 1..3
    input  wire [2:0]        c_sh, c_sw,  // 1..4
    input  wire [2:0]        c_ph, c_pw,  // 0..7
    input  wire [10:0]       c_oh, c_ow,
    input  wire [15:0]       c_m,       // OH*OW*B
    input  wire [ACT_AW-1:0] c_wb, c_hwb,   // W*B, H*W*B (mod 2^ACT_AW)
    input  wire [ACT_AW-1:0] c_a_base, c_o_base,
    input  wire [W_AW-1:0]   c_w_base,
    input  wire [P_AW-1:0]   c_p_base,
    input  wire [7:0]        c_zp_in, c_zp, c_lo, c_hi,
    input  wire              c_rnd,
    output reg               busy,
    output reg               done,
    output wire              act_re,
    output wire [ACT_AW-1:0] act_ra,
    input  wire [ROWS*8-1:0] act_rd,
    output reg               act_we,
    output reg  [ACT_AW-1:0] act_wa,
    output reg  [ROWS*8-1:0] act_wd,
    output reg               w_re,
    output reg  [W_AW-1:0]   w_ra,
    input  wire [ROWS*8-1:0] w_rd,
    output reg               p_re,
    output reg  [P_AW-1:0]   p_ra,
    input  wire [ROWS*72-1:0] p_rd      // per lane: bias[31:0], m0[63:32], shift[71:64]
);
    localparam integer SW_ = 14;                 // signed pixel coordinates (|.| < 2^13)
    localparam [15:0] ROWS16 = ROWS[15:0];
    localparam [2:0] S_IDLE = 3'd0, S_SET = 3'd1, S_LOAD = 3'd2, S_WALK = 3'd3,
                     S_DRAIN = 3'd4, S_END = 3'd5;

    // a small multiple: x * k, k in 0..7 (mod 2^ACT_AW)
    /* verilator lint_off UNUSEDSIGNAL */
    function [ACT_AW-1:0] mul3(input [ACT_AW-1:0] x, input [2:0] k);
        reg [ACT_AW+1:0] xe, s;
        begin
            xe   = {2'b00, x};
            s    = (k[0] ? xe : {(ACT_AW+2){1'b0}}) + (k[1] ? (xe << 1) : {(ACT_AW+2){1'b0}})
                 + (k[2] ? (xe << 2) : {(ACT_AW+2){1'b0}});
            mul3 = s[ACT_AW-1:0];
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    reg  [2:0]        st_q;
    wire              go = start && !busy;

    // ---- set-up: the walk's steps ----
    reg  [ACT_AW-1:0] swb_q, shwb_q, pre_q;      // SW*B, SH*WB, PH*WB + PW*B
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0]       b32  = {21'd0, c_b};
    wire [31:0]       b2x  = {20'd0, c_b, 1'b0};
    /* verilator lint_on UNUSEDSIGNAL */
    wire [ACT_AW-1:0] b_a  = b32[ACT_AW-1:0];     // B, 2*B (mod 2^ACT_AW)
    wire [ACT_AW-1:0] b2_a = b2x[ACT_AW-1:0];
    wire [ACT_AW-1:0] wb2  = c_wb << 1;

    // ---- the walk (issue side) ----
    reg  [15:0]       ct_q;
    reg  [ACT_AW-1:0] abase_q;                   // a_base + ct*HWB
    reg  [10:0]       oy_q, ox_q, b_q;
    reg  signed [SW_-1:0] iy0_q, ix0_q;          // oy*SH - PH, ox*SW - PW
    reg  [ACT_AW-1:0] orow_oy_q, orow_q, obase_q; // the window's origin (iy0, ix0) word
    reg               fresh_q;                   // the output's first token next
    reg  [1:0]        ky_q, kx_q;
    wire signed [SW_-1:0] h_s = {{(SW_-11){1'b0}}, c_h};
    wire signed [SW_-1:0] w_s = {{(SW_-11){1'b0}}, c_w};
    wire [2:0]        rowok, colok, colnew;
    genvar kq;
    generate
        for (kq = 0; kq < 3; kq = kq + 1) begin : g_rc
            localparam signed [SW_-1:0] KS = kq;
            localparam [2:0]            K3 = kq;
            wire signed [SW_-1:0] iy = iy0_q + KS, ix = ix0_q + KS;
            assign rowok[kq]  = !iy[SW_-1] && (iy < h_s) && (K3 < c_kh);
            assign colok[kq]  = !ix[SW_-1] && (ix < w_s) && (K3 < c_kw);
            assign colnew[kq] = (ox_q == 11'd0) || ({1'b0, K3} + {1'b0, c_sw} >= {1'b0, c_kw});
        end
    endgenerate
    wire [2:0] rdcol  = colnew & colok;
    wire       has_rd = (rdcol != 3'd0);
    wire [1:0] ky_lo  = rowok[0] ? 2'd0 : rowok[1] ? 2'd1 : 2'd2;
    wire [1:0] ky_hi  = rowok[2] ? 2'd2 : rowok[1] ? 2'd1 : 2'd0;
    wire [1:0] cfirst = rdcol[0] ? 2'd0 : rdcol[1] ? 2'd1 : 2'd2;
    wire [1:0] cur_kx = fresh_q ? cfirst : kx_q;
    wire [1:0] cur_ky = fresh_q ? ky_lo : ky_q;
    wire       above1 = rdcol[1] && (cur_kx == 2'd0);
    wire       above2 = rdcol[2] && (cur_kx != 2'd2);
    wire       tap_last = !has_rd || ((cur_ky == ky_hi) && !above1 && !above2);
    wire [8:0] mask9 = {{3{rowok[2]}} & colok, {3{rowok[1]}} & colok, {3{rowok[0]}} & colok};
    wire       last_ox = (ox_q == c_ow - 11'd1);
    wire       last_b  = (b_q == c_b - 11'd1);
    wire       last_oy = (oy_q == c_oh - 11'd1);
    wire       last_ct = (ct_q == c_ct - 16'd1);
    wire       issue   = (st_q == S_WALK) && !abort;
    wire       out_step = issue && tap_last;
    wire       tile_end = out_step && last_ox && last_b && last_oy;
    wire [ACT_AW-1:0] kyoff = (cur_ky == 2'd0) ? {ACT_AW{1'b0}} : (cur_ky == 2'd1) ? c_wb : wb2;
    wire [ACT_AW-1:0] kxoff = (cur_kx == 2'd0) ? {ACT_AW{1'b0}} : (cur_kx == 2'd1) ? b_a : b2_a;

    // ---- the tile's load ----
    reg  [1:0]        lky_q, lkx_q;
    reg               lfirst_q;                  // the load's first cycle
    reg  [W_AW-1:0]   wptr_q;                    // w_base + ct*KH*KW + tap
    reg  [P_AW-1:0]   pe_q;                      // p_base + ct
    reg               l1_v_q, l2_v_q, p1_q, p2_q;
    reg  [1:0]        l1_ky_q, l1_kx_q, l2_ky_q, l2_kx_q;
    wire              load_last = (lky_q == c_kh[1:0] - 2'd1) && (lkx_q == c_kw[1:0] - 2'd1);

    // ---- tokens: I+1 (the read), I+2 (the data) ----
    reg               r_v_q, r_re_q, r_end_q;
    reg  [1:0]        r_ky_q, r_kx_q;
    reg  [8:0]        r_mask_q;
    reg  [ACT_AW-1:0] r_a_q;
    reg               a_v_q, a_re_q, a_end_q;
    reg  [1:0]        a_ky_q, a_kx_q;
    reg  [8:0]        a_mask_q;
    assign act_re = r_re_q;
    assign act_ra = r_a_q;
    wire              t_v, t_re, t_end;
    wire [1:0]        t_ky, t_kx;
    wire [8:0]        t_mask;
    wire [ROWS*8-1:0] t_data;
    nnf_cut #(.W(3 + 4 + 9 + ROWS*8), .ON(DATA_REG), .RV(3)) u_data_cut (
        .clk(clk), .rst(rst), .d({a_v_q, a_re_q, a_end_q, a_ky_q, a_kx_q, a_mask_q, act_rd}),
        .q({t_v, t_re, t_end, t_ky, t_kx, t_mask, t_data}));

    // the lanes' stages X .. X+8 (X = T+1): sv_q[i] a window in X+i
    reg  [8:0]        sv_q;
    reg  [8:0]        wm_q;                      // the window's mask (X)
    wire              tile_drained = !r_v_q && !a_v_q && !t_v;
    wire              drained = tile_drained && (sv_q == 9'd0) && !act_we && !w_re && !p_re &&
                                !l1_v_q && !l2_v_q && !p1_q && !p2_q;

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            busy  <= 1'b0;
            st_q  <= S_IDLE;
            r_v_q <= 1'b0;
            r_re_q <= 1'b0;
            w_re  <= 1'b0;
            p_re  <= 1'b0;
        end else begin
            r_v_q  <= issue;
            r_re_q <= issue && has_rd;
            w_re   <= 1'b0;
            p_re   <= 1'b0;
            case (st_q)
                S_IDLE: if (go) begin
                    busy    <= 1'b1;
                    st_q    <= S_SET;
                end
                S_SET: st_q <= abort ? S_END : S_LOAD;
                S_LOAD: begin
                    if (abort) begin
                        st_q <= S_END;
                    end else begin
                        w_re <= 1'b1;
                        p_re <= lfirst_q;
                        if (load_last) st_q <= S_WALK;
                    end
                end
                S_WALK: begin
                    if (abort)         st_q <= S_END;
                    else if (tile_end) st_q <= last_ct ? S_END : S_DRAIN;
                end
                S_DRAIN: begin
                    if (abort)             st_q <= S_END;
                    else if (tile_drained) st_q <= S_LOAD;
                end
                S_END: if (drained) begin
                    busy <= 1'b0;
                    done <= 1'b1;
                    st_q <= S_IDLE;
                end
                default: st_q <= S_IDLE;
            endcase
        end
    end

    always @(posedge clk) begin
        // set-up (the fields are held from start)
        if (st_q == S_SET) begin
            swb_q  <= mul3(b_a, c_sw);
            shwb_q <= mul3(c_wb, c_sh);
            pre_q  <= mul3(c_wb, c_ph) + mul3(b_a, c_pw);
        end
        if (go) begin
            ct_q    <= 16'd0;
            abase_q <= c_a_base;
            wptr_q  <= c_w_base;
            pe_q    <= c_p_base;
        end
        // the load: the tile's taps, one a cycle; its walk's origin
        if (st_q == S_SET || (st_q == S_DRAIN && tile_drained)) begin
            lky_q    <= 2'd0;
            lkx_q    <= 2'd0;
            lfirst_q <= 1'b1;
        end else if (st_q == S_LOAD && !abort) begin
            lfirst_q <= 1'b0;
            w_ra     <= wptr_q;
            p_ra     <= pe_q;
            wptr_q   <= wptr_q + {{(W_AW-1){1'b0}}, 1'b1};
            if (lkx_q == c_kw[1:0] - 2'd1) begin
                lkx_q <= 2'd0;
                lky_q <= lky_q + 2'd1;
            end else begin
                lkx_q <= lkx_q + 2'd1;
            end
            if (lfirst_q) begin
                pe_q      <= pe_q + {{(P_AW-1){1'b0}}, 1'b1};
                oy_q      <= 11'd0;
                ox_q      <= 11'd0;
                b_q       <= 11'd0;
                iy0_q     <= -$signed({{(SW_-3){1'b0}}, c_ph});
                ix0_q     <= -$signed({{(SW_-3){1'b0}}, c_pw});
                orow_oy_q <= abase_q - pre_q;
                orow_q    <= abase_q - pre_q;
                obase_q   <= abase_q - pre_q;
                fresh_q   <= 1'b1;
            end
        end
        // the walk
        if (issue) begin
            r_end_q  <= tap_last;
            r_ky_q   <= cur_ky;
            r_kx_q   <= cur_kx;
            r_mask_q <= mask9;
            r_a_q    <= obase_q + kyoff + kxoff;
            if (!tap_last) begin
                fresh_q <= 1'b0;
                if (cur_ky == ky_hi) begin
                    ky_q <= ky_lo;
                    kx_q <= above1 ? 2'd1 : 2'd2;
                end else begin
                    ky_q <= cur_ky + 2'd1;
                    kx_q <= cur_kx;
                end
            end else begin
                fresh_q <= 1'b1;
                if (!last_ox) begin
                    ox_q    <= ox_q + 11'd1;
                    ix0_q   <= ix0_q + $signed({{(SW_-3){1'b0}}, c_sw});
                    obase_q <= obase_q + swb_q;
                end else begin
                    ox_q  <= 11'd0;
                    ix0_q <= -$signed({{(SW_-3){1'b0}}, c_pw});
                    if (!last_b) begin
                        b_q     <= b_q + 11'd1;
                        orow_q  <= orow_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                        obase_q <= orow_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                    end else begin
                        b_q       <= 11'd0;
                        oy_q      <= oy_q + 11'd1;
                        iy0_q     <= iy0_q + $signed({{(SW_-3){1'b0}}, c_sh});
                        orow_oy_q <= orow_oy_q + shwb_q;
                        orow_q    <= orow_oy_q + shwb_q;
                        obase_q   <= orow_oy_q + shwb_q;
                        if (last_oy) begin                  // the tile's end
                            ct_q    <= ct_q + 16'd1;
                            abase_q <= abase_q + c_hwb;
                        end
                    end
                end
            end
        end
    end

    // ---- the load's data: W words and the P entry, the cycle after the read ----
    reg  [ROWS*72-1:0] pent_q;                   // the tile's P entry, whole
    always @(posedge clk) begin
        if (rst) begin
            l1_v_q <= 1'b0; l2_v_q <= 1'b0; p1_q <= 1'b0; p2_q <= 1'b0;
        end else begin
            l1_v_q <= (st_q == S_LOAD) && !abort;
            l2_v_q <= l1_v_q;
            p1_q   <= (st_q == S_LOAD) && !abort && lfirst_q;
            p2_q   <= p1_q;
        end
        l1_ky_q <= lky_q;
        l1_kx_q <= lkx_q;
        l2_ky_q <= l1_ky_q;
        l2_kx_q <= l1_kx_q;
        if (p2_q) pent_q <= p_rd;
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_p = &{1'b0, pent_q};           // m0's bit 31 (0 in a valid entry)
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- I+2: the data ----
    always @(posedge clk) begin
        if (rst) begin
            a_v_q  <= 1'b0;
            a_re_q <= 1'b0;
        end else begin
            a_v_q  <= r_v_q;
            a_re_q <= r_re_q;
        end
        a_end_q  <= r_end_q;
        a_ky_q   <= r_ky_q;
        a_kx_q   <= r_kx_q;
        a_mask_q <= r_mask_q;
    end

    // ---- T: the window cache, a word a tap (ky*3 + kx), the snapshot, the
    //      shift by SW columns (column kx takes kx + SW; beyond the kernel,
    //      unused and masked) ----
    always @(posedge clk) begin
        if (rst) sv_q <= 9'd0;
        else     sv_q <= {sv_q[7:0], t_v && t_end};
        if (t_v && t_end) wm_q <= t_mask;
    end
    localparam integer RW = ROWS * 8;
    wire [3:0]        t_tap = {2'b00, t_ky} * 4'd3 + {2'b00, t_kx};
    wire [3:0]        l_tap = {2'b00, l2_ky_q} * 4'd3 + {2'b00, l2_kx_q};
    wire [9*RW-1:0]   cwf;                       // the cache with T's word, tap t at [RW*t +: RW]
    wire [ROWS*72-1:0] lwin, lwts;               // by lane: tap t at [72*l + 8*t +: 8]
    genvar g, tp;
    generate
        for (tp = 0; tp < 9; tp = tp + 1) begin : g_tap
            localparam integer KX = tp % 3;
            localparam integer T1 = (KX + 1 <= 2) ? tp + 1 : tp;   // the column 1 / 2 to the right
            localparam integer T2 = (KX + 2 <= 2) ? tp + 2 : tp;
            reg  [RW-1:0] cache_q, win_q, wt_q;
            assign cwf[RW*tp +: RW] = (t_re && t_tap == tp) ? t_data : cache_q;
            always @(posedge clk) begin
                if (t_v && t_end) begin
                    win_q   <= cwf[RW*tp +: RW];
                    cache_q <= (c_sw == 3'd1) ? cwf[RW*T1 +: RW]
                             : (c_sw == 3'd2) ? cwf[RW*T2 +: RW] : cwf[RW*tp +: RW];
                end else if (t_v) begin
                    cache_q <= cwf[RW*tp +: RW];
                end
                if (l2_v_q && l_tap == tp) wt_q <= w_rd;
            end
            for (g = 0; g < ROWS; g = g + 1) begin : g_lb
                assign lwin[72*g + 8*tp +: 8] = win_q[8*g +: 8];
                assign lwts[72*g + 8*tp +: 8] = wt_q[8*g +: 8];
            end
        end
    endgenerate

    // ---- the lanes ----
    wire [ROWS*8-1:0] q_all;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_lane
            nnf_vu_dw_lane #(.TFL_ROUND(TFL_ROUND)) u_lane (
                .clk(clk), .win(lwin[72*g +: 72]), .mask(wm_q), .wts(lwts[72*g +: 72]), .zp_in(c_zp_in),
                .bias(pent_q[72*g +: 32]), .m0(pent_q[72*g+32 +: 31]), .shift(pent_q[72*g+64 +: 8]),
                .rnd(c_rnd), .zp(c_zp), .lo(c_lo), .hi(c_hi), .q(q_all[8*g +: 8]));
        end
    endgenerate

    // ---- the output word (X+8), written the next cycle ----
    wire              wv = sv_q[8];
    reg  [ACT_AW-1:0] oaddr_q, orow_o_q;
    reg  [10:0]       ox_o_q, b_o_q;
    reg  [15:0]       om_q, ocl_q;
    integer g3;
    always @(posedge clk) begin
        if (rst) act_we <= 1'b0;
        else     act_we <= wv;
        if (go) begin
            oaddr_q  <= c_o_base;
            orow_o_q <= c_o_base;
            ox_o_q   <= 11'd0;
            b_o_q    <= 11'd0;
            om_q     <= 16'd0;
            ocl_q    <= c_c;
        end else if (wv) begin
            act_wa <= oaddr_q;
            for (g3 = 0; g3 < ROWS; g3 = g3 + 1)
                act_wd[8*g3 +: 8] <= (ocl_q > g3[15:0]) ? q_all[8*g3 +: 8] : 8'd0;
            if (ox_o_q != c_ow - 11'd1) begin
                ox_o_q  <= ox_o_q + 11'd1;
                oaddr_q <= oaddr_q + b_a;
            end else begin
                ox_o_q <= 11'd0;
                if (b_o_q != c_b - 11'd1) begin
                    b_o_q    <= b_o_q + 11'd1;
                    orow_o_q <= orow_o_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                    oaddr_q  <= orow_o_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                end else begin
                    b_o_q    <= 11'd0;
                    orow_o_q <= oaddr_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                    oaddr_q  <= oaddr_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                end
            end
            if (om_q == c_m - 16'd1) begin
                om_q  <= 16'd0;
                ocl_q <= ocl_q - ROWS16;
            end else begin
                om_q <= om_q + 16'd1;
            end
        end
    end
endmodule

`default_nettype wire
