// nnf_vu: the vector unit (docs/conv.md, "Pooling and the vector unit").
// Its ops: PACK (c_pack: nnf_vu_pack.v, a first layer's channels folded
// into the lanes, bit for bit nnfm_engine_pack) and POOL, max and average
// (a global pool is the average with the window the whole map), bit for
// bit nnfm_engine_pool
// (sim/model/nnfm_engine.c) with nnfm_avg_round (sim/model/nnfm.c):
//
//   for ct in 0..CT-1, for each output row m (the pixel walker's rows),
//     over the window's taps (the pixel walker's taps, ct_n = 1):
//       an in-map tap reads word a_base + ct*HWB + ofs; a padding tap is
//       skipped (no read, not counted)
//     max: lane-wise max from -128;  avg: lane-wise exact sum and
//     count = in-map taps, then q = sign(sum) * ((|sum| + count/2) / count)
//     (TFLite's rule, C division: the same as (sum -+ count/2) / count)
//     clamp to [lo, hi]; lanes of channels >= C as 0;
//     write word o_base + ct*M + m (the outputs come in that order)
//
// Pipeline, one tap per cycle:
//
//   I    issue: the walker's current tap; the walker steps (tap NEXT, or
//        tap FIRST + row NEXT on a row's last tap, row FIRST and ct + 1 on
//        the tile's last row); the read address a_base + ct*HWB + ofs
//        registered
//   I+1  the ACT read (act_re / act_ra come from flops)
//   I+2  act_rd arrives: lane-wise max or sum, and the count
//   I+3  the row's last tap: max -> the output word; avg -> the divider
//   ...  avg: 8 divider cycles, then the output word
//   out  the registered write (act_we / act_wa / act_wd from flops)
// DATA_REG = 1 (PIPE_CUTS): act_rd is registered at I+2 and the lanes take
// it at I+2b, a cycle later; everything after moves by one cycle (done too).
//
// Max pooling issues one tap every cycle (padding taps take their cycle
// without a read): KH*KW cycles per output word. The divider is a
// restoring one shared by the lanes (one divisor, count): since every tap
// is >= -128 and <= 127, |sum| + count/2 < 256*count, so the quotient has 8
// bits and takes 8 cycles, one bit per cycle, for every count (global pools
// up to 1024 x 1024: count <= 2^20, |sum| <= 2^27; the widths follow
// ACT_AW, below, as a window's taps are input words ACT holds). It runs
// while the next row is walked; only a row's last tap waits for it:
// max(KH*KW, 9) cycles per output word. With N = CT*M output words, done
// comes N*KH*KW + 8 cycles after the start cycle for max, and
// KH*KW + (N-1)*max(KH*KW, 9) + 17 for average (the walker's 3 set-up
// cycles and the pipeline's drain; tests/rtl/tb_vu.v checks both exactly).
//
// start is a one-cycle pulse while idle; the c_* fields are held from start
// until done (the walker and the lane mask read them throughout). abort
// (while busy) stops the issue; the taps in flight and a result in the
// divider finish (so the written words are a prefix of the command's, each
// complete), then done, at most 14 cycles (DATA_REG: 15) after the cycle of abort. A partial row is
// dropped. The windows are checked before (every window has an in-map tap:
// count >= 1).
//
// Ports: act_re / act_ra / act_we / act_wa / act_wd and the outputs busy,
// done are registered in POOL's datapath and in nnf_vu_pack and combined
// here by an OR (one of the two runs at a time) or a mux whose select is
// PACK's busy flop.
`default_nettype none

module nnf_vu #(
    parameter integer ROWS   = 8,
    parameter integer ACT_AW = 15,
    parameter integer DATA_REG = 0,     // 1: act_rd registered before the lanes (a stage I+2b
                                        // between I+2 and I+3: POOL one cycle longer)
    parameter integer PACK_FAST = 1     // nnf_vu_pack's FAST: its six-word prefetching cache
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,     // one-cycle pulse while idle
    /* verilator lint_off SYMRSVDWORD */
    input  wire              abort,     // stop issuing, drain, done (the interface's name)
    /* verilator lint_on SYMRSVDWORD */
    input  wire              c_pack,    // PACK (nnf_vu_pack) instead of POOL
    input  wire [$clog2(ROWS):0] c_cin, // PACK: Cin 1..ROWS (c_c is C' = KW*Cin)
    input  wire [7:0]        c_zp_in,   // PACK: padding columns
    input  wire              c_avg,     // 0 max, 1 average
    input  wire [15:0]       c_c,       // channels C
    input  wire [15:0]       c_ct,      // channel tiles ceil(C/ROWS)
    input  wire [10:0]       c_h, c_w,  // input map 1..1024
    input  wire [10:0]       c_b,       // images 1..1024
    input  wire [10:0]       c_kh, c_kw,  // window as walked (global: H, W)
    input  wire [2:0]        c_sh, c_sw,  // stride 1..4
    input  wire [2:0]        c_ph, c_pw,  // padding above / left 0..7
    input  wire [10:0]       c_oh, c_ow,  // output size
    input  wire [15:0]       c_m,       // output rows per channel tile, OH*OW*B
    input  wire [ACT_AW-1:0] c_wb, c_hwb,  // W*B, H*W*B
    input  wire [ACT_AW-1:0] c_a_base, c_o_base,
    input  wire [7:0]        c_lo, c_hi,  // int8 clamp
    output wire              busy,
    output wire              done,      // one-cycle pulse at the end
    output wire              act_re,
    output wire [ACT_AW-1:0] act_ra,
    input  wire [ROWS*8-1:0] act_rd,    // the cycle after act_re
    output wire              act_we,
    output wire [ACT_AW-1:0] act_wa,
    output wire [ROWS*8-1:0] act_wd
);
    // A window's in-map taps are pixels of the input, which ACT holds:
    // count <= H*W <= 2^ACT_AW, and H*W <= 2^20 (H, W <= 1024). So with
    // CAP = min(ACT_AW, 20): count < 2^(CAP+1), |sum| <= 128*count
    // <= 2^(CAP+7), and |sum| + count/2 < 2^(CAP+8): exact for every
    // command the ACT can hold (a 1024 x 1024 global pool at ACT_AW >= 20).
    localparam integer CAP   = ACT_AW < 20 ? ACT_AW : 20;
    localparam integer SUM_W = CAP + 8;  // the sum, signed; |sum| + count/2, unsigned
    localparam integer CNT_W = CAP + 1;  // the count
    localparam [3:0]   DIV_N = 4'd8;    // quotient bits (|q| <= 128)
    localparam [2:0] R_NEXT = 3'd1, R_FIRST = 3'd4;
    localparam [1:0] T_NEXT = 2'd1, T_FIRST = 2'd2;
    localparam [15:0] ROWS16 = ROWS[15:0];

    wire go_start = start && !busy && !c_pack;
    reg  p_busy_q, p_done_q;          // POOL's (busy, done)

    // ---- the window walk ----
    wire              pw_ready, pw_in, pw_rlast, pw_tlast;
    wire [ACT_AW-1:0] pw_ofs;
    reg  [2:0]        row_op;
    reg  [1:0]        tap_op;
    nnf_pix_walk #(.AW(ACT_AW)) u_walk (
        .clk(clk), .start(go_start), .h(c_h), .w(c_w), .b({5'd0, c_b}), .kh(c_kh), .kw(c_kw),
        .sh(c_sh), .sw(c_sw), .ph(c_ph), .pw(c_pw), .oh(c_oh), .ow(c_ow), .ct_n(16'd1), .pool2(1'b0),
        .wb(c_wb), .hwb(c_hwb), .b_m1(16'd0), .ct_m1(16'd0), .row_op(row_op), .tap_op(tap_op), .ready(pw_ready),
        .ofs(pw_ofs), .in_map(pw_in), .row_last(pw_rlast), .tap_last(pw_tlast));

    // ---- I: issue ----
    reg              walk_q;      // taps left to issue
    reg              tfirst_q;    // the walker's tap is its row's first
    reg  [15:0]      ct_q;        // channel tile
    reg  [ACT_AW-1:0] abase_q;    // a_base + ct*HWB
    // stage I+1 (the read), I+2 (the data), I+3 (the row's result)
    reg              r_v_q, r_re_q, r_first_q, r_last_q;
    reg  [ACT_AW-1:0] r_a_q;
    reg              a_v_q, a_rd_q, a_first_q, a_last_q;
    reg              ld_q;
    // the divider
    reg  [3:0]       dcnt_q;      // iterations left
    reg              res_q;       // quotients ready

    // the tap the lanes take: stage I+2's, or (DATA_REG) I+2b's, registered
    wire             t_v, t_rd, t_first, t_last;
    wire [ROWS*8-1:0] t_data;
    // An average row's last tap issues only if the divider will be free when
    // its sum is: loaded 3 cycles later (DATA_REG: 4), with no other load before.
    localparam [3:0] DIV_AHEAD = (DATA_REG != 0) ? 4'd4 : 4'd3;
    wire div_ok = (dcnt_q <= DIV_AHEAD) && !ld_q && !(t_v && t_last) && !(a_v_q && a_last_q) &&
                  !(r_v_q && r_last_q);
    wire issue  = walk_q && pw_ready && !abort && (!c_avg || !pw_tlast || div_ok);

    always @(*) begin
        row_op = 3'd0;
        tap_op = 2'd0;
        if (issue) begin
            tap_op = pw_tlast ? T_FIRST : T_NEXT;
            if (pw_tlast) row_op = pw_rlast ? R_FIRST : R_NEXT;
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            walk_q <= 1'b0;
        end else if (go_start) begin
            walk_q <= 1'b1;
        end else if (abort) begin
            walk_q <= 1'b0;
        end else if (issue && pw_tlast && pw_rlast && ct_q == c_ct - 16'd1) begin
            walk_q <= 1'b0;
        end
        if (go_start) begin
            tfirst_q <= 1'b1;
            ct_q     <= 16'd0;
            abase_q  <= c_a_base;
        end else if (issue) begin
            tfirst_q <= pw_tlast;
            if (pw_tlast && pw_rlast) begin
                ct_q    <= ct_q + 16'd1;
                abase_q <= abase_q + c_hwb;
            end
        end
    end

    // ---- I+1: the read; I+2: the data ----
    always @(posedge clk) begin
        if (rst) begin
            r_v_q <= 1'b0; r_re_q <= 1'b0; a_v_q <= 1'b0; a_rd_q <= 1'b0; ld_q <= 1'b0;
        end else begin
            r_v_q  <= issue;
            r_re_q <= issue && pw_in;
            a_v_q  <= r_v_q;
            a_rd_q <= r_re_q;
            ld_q   <= t_v && t_last;
        end
        r_first_q <= tfirst_q;
        r_last_q  <= pw_tlast;
        r_a_q     <= abase_q + pw_ofs;
        a_first_q <= r_first_q;
        a_last_q  <= r_last_q;
    end
    nnf_cut #(.W(4 + ROWS*8), .ON(DATA_REG), .RV(2)) u_data_cut (
        .clk(clk), .rst(rst), .d({a_v_q, a_rd_q, a_first_q, a_last_q, act_rd}),
        .q({t_v, t_rd, t_first, t_last, t_data}));
    wire p_re = r_re_q;

    // count of the row's in-map taps
    reg  [CNT_W-1:0] cnt_q;
    always @(posedge clk)
        if (t_v) cnt_q <= (t_first ? {CNT_W{1'b0}} : cnt_q) + {{(CNT_W-1){1'b0}}, t_rd};

    // ---- the divider's shared divisor ----
    reg  [SUM_W-1:0] d_q;         // count << (iterations left - 1)
    wire div_load = ld_q && c_avg;
    // count/2, and count/2 + 1 (|sum| + count/2 of a negative sum is
    // ~sum + count/2 + 1: one adder per lane)
    wire [CNT_W-1:0] half  = {1'b0, cnt_q[CNT_W-1:1]};
    wire [CNT_W-1:0] half1 = half + {{(CNT_W-1){1'b0}}, 1'b1};
    always @(posedge clk) begin
        if (rst) begin
            dcnt_q <= 4'd0;
            res_q  <= 1'b0;
        end else begin
            res_q <= (dcnt_q == 4'd1);
            if (div_load) dcnt_q <= DIV_N;
            else if (dcnt_q != 4'd0) dcnt_q <= dcnt_q - 4'd1;
        end
        if (div_load) begin
            d_q  <= {cnt_q, {(SUM_W-CNT_W){1'b0}}};
        end else if (dcnt_q != 4'd0) begin
            d_q  <= d_q >> 1;
        end
    end

    // ---- the output word ----
    wire out_now = c_avg ? res_q : ld_q;
    reg              w_q;
    reg  [ACT_AW-1:0] wa_q, oaddr_q;
    reg  [15:0]      om_q;        // row within the channel tile
    reg  [15:0]      ocl_q;       // channels left: C - ct*ROWS of the tile written
    always @(posedge clk) begin
        if (rst) w_q <= 1'b0;
        else     w_q <= out_now;
        if (go_start) begin
            oaddr_q <= c_o_base;
            om_q    <= 16'd0;
            ocl_q   <= c_c;
        end else if (out_now) begin
            wa_q    <= oaddr_q;
            oaddr_q <= oaddr_q + {{(ACT_AW-1){1'b0}}, 1'b1};
            if (om_q == c_m - 16'd1) begin
                om_q  <= 16'd0;
                ocl_q <= ocl_q - ROWS16;
            end else begin
                om_q  <= om_q + 16'd1;
            end
        end
    end


    // ---- the lanes ----
    wire [ROWS*8-1:0] p_wd;
    function [7:0] clamp9(input signed [8:0] x, input [7:0] lo, input [7:0] hi);
        if (x < $signed({lo[7], lo}))      clamp9 = lo;
        else if (x > $signed({hi[7], hi})) clamp9 = hi;
        else                               clamp9 = x[7:0];
    endfunction

    genvar g;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_lane
            wire signed [7:0]       v  = t_data[8*g +: 8];
            // the sum (from 0 on the row's first tap; padding taps add 0)
            reg  signed [SUM_W-1:0] acc_q;
            wire signed [SUM_W-1:0] sbase = t_first ? {SUM_W{1'b0}} : acc_q;
            wire signed [SUM_W-1:0] sadd  = t_rd ? {{(SUM_W-8){v[7]}}, v} : {SUM_W{1'b0}};
            always @(posedge clk)
                if (t_v && c_avg) acc_q <= sbase + sadd;
            // the max (from -128 on the row's first tap)
            reg  signed [7:0]       mx_q;
            wire signed [7:0]       mbase = t_first ? -8'sd128 : mx_q;
            always @(posedge clk)
                if (t_v && !c_avg) mx_q <= (t_rd && v > mbase) ? v : mbase;

            // divider: remainder and quotient of (|sum| + count/2) / count
            reg  [SUM_W-1:0] rem_q;
            reg  [7:0]       q_q;
            reg              neg_q;
            wire             neg  = acc_q[SUM_W-1];
            wire [SUM_W-1:0] magh = (acc_q ^ {SUM_W{neg}})      // |sum| + count/2
                                  + {{(SUM_W-CNT_W){1'b0}}, neg ? half1 : half};
            wire [SUM_W:0]   diff = {1'b0, rem_q} - {1'b0, d_q};
            always @(posedge clk) begin
                if (div_load) begin
                    rem_q <= magh;
                    neg_q <= neg;
                    q_q   <= 8'd0;
                end else if (dcnt_q != 4'd0) begin
                    if (!diff[SUM_W]) rem_q <= diff[SUM_W-1:0];
                    q_q <= {q_q[6:0], !diff[SUM_W]};
                end
            end
            wire signed [8:0] qs  = neg_q ? -$signed({1'b0, q_q}) : $signed({1'b0, q_q});
            wire signed [8:0] val = c_avg ? qs : $signed({mx_q[7], mx_q});
            wire on = (ocl_q > g);
            reg  [7:0] wd_q;
            always @(posedge clk)
                if (out_now) wd_q <= on ? clamp9(val, c_lo, c_hi) : 8'd0;
            assign p_wd[8*g +: 8] = wd_q;
        end
    endgenerate

    // ---- busy / done ----
    wire drained = !walk_q && !r_v_q && !a_v_q && !t_v && !ld_q && dcnt_q == 4'd0 && !res_q && !w_q;
    always @(posedge clk) begin
        if (rst) begin
            p_busy_q <= 1'b0;
            p_done_q <= 1'b0;
        end else begin
            p_done_q <= 1'b0;
            if (go_start) begin
                p_busy_q <= 1'b1;
            end else if (p_busy_q && drained) begin
                p_busy_q <= 1'b0;
                p_done_q <= 1'b1;
            end
        end
    end

    // ---- PACK ----
    wire              k_busy, k_done, k_re, k_we;
    wire [ACT_AW-1:0] k_ra, k_wa;
    wire [ROWS*8-1:0] k_wd;
    nnf_vu_pack #(.ROWS(ROWS), .ACT_AW(ACT_AW), .FAST(PACK_FAST)) u_pack (
        .clk(clk), .rst(rst), .start(start && !busy && c_pack), .abort(abort),
        .c_cin(c_cin), .c_cp(c_c), .c_ct(c_ct), .c_h(c_h), .c_w(c_w), .c_b(c_b), .c_ow(c_ow),
        .c_sw(c_sw), .c_pw(c_pw), .c_m(c_m), .c_a_base(c_a_base), .c_o_base(c_o_base),
        .c_zp_in(c_zp_in), .busy(k_busy), .done(k_done),
        .act_re(k_re), .act_ra(k_ra), .act_rd(act_rd), .act_we(k_we), .act_wa(k_wa), .act_wd(k_wd));

    // one of the two runs at a time; the port's selects are flops
    assign busy   = p_busy_q || k_busy;
    assign done   = p_done_q || k_done;
    assign act_re = p_re || k_re;
    assign act_ra = k_busy ? k_ra : r_a_q;
    assign act_we = w_q || k_we;
    assign act_wa = k_busy ? k_wa : wa_q;
    assign act_wd = k_busy ? k_wd : p_wd;
endmodule

`default_nettype wire
