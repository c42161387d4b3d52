// nnf_vu_ew: the vector unit's elementwise ops (EW, docs/rnn.md), bit for
// bit nnfm_engine_ew with nnfm_ew (sim/model/nnfm_engine.c, nnfm.c):
//
//   for each word i of the CT*M words (CT = ceil(N/ROWS), tile-major),
//   per lane (channel ct*ROWS + lane < N; the others are written 0):
//     ia = a - zp_a, ib = b - zp_b
//     ADD, SUB  small = MBQM(i_s << 20, m0_s, -nshift_s)   (i_s: the input M0_S scales)
//               large = i_l << 19                          (the other: MBQM(i_l << 20, 2^30, 0))
//               acc = sA + sB, or sA - sB (sA, sB: A's and B's terms)
//     MUL       acc = ia * ib
//     MAP       acc = ia
//     out = lut[sel][requantize(acc, m0, shift, zp, lo, hi)] (or without lut)
//   written to o_base + i (o_base may equal a_base or b_base: each word is
//   read before it is written)
//
// MBQM(x << 20, m0_s, s) = (x*m0_s + 2^(k'-1)) >>> k' with k' = 11 + nshift_s
// (11..42): the 2^20 divides both terms of nnfm_requantize's numerator.
// With c_rnd (TFL_ROUND = 1) every MBQM rounds as TFLite's default kernels
// (nnfm_requantize_r): the output's in nnf_requant, the small input's here
// as in nnf_requant_tail: with p = x*m0_s and n = nshift_s >= 1, TFLite's
// floor((h + 2^(n-1) - [h<0]) / 2^n), h = floor((p + 2^10) / 2^11), is
// floor((t + 1 + c) / 2) with t = floor(p / 2^(k'-1)) and c +1 when
// p[10] = 1, p >= 0 and p[9+n : 11] all ones, -1 when p[10] = 0, p < 0 and
// those bits all zeros (vacuous for n = 1), else 0; the single rounding is
// floor((t + 1) / 2). They differ by +1 when c = +1 and t is even, by -1
// when c = -1 and t is odd (t's parity: p[k'-1]); that difference joins
// the sum in s4, with the small term's sign.
//
// Timing. Words are launched one per period P = max(R, G) cycles (R: the
// reads a word needs, 2 or 1 for MAP; G = ROWS / LANES, the lane groups).
// A word launched in cycle c:
//   c      A read decided (act_re / act_ra are flops, set at the end of c)
//   c+1    B read decided (not for MAP)
//   c+2    A arrives (act_rd), held in the word's slot (two slots, by
//          parity: word i+2 overwrites word i's slot from c+2P+3 on, after
//          its last group, c+3+G, since G <= P < 2P)
//   c+3    B arrives, held
//   c+4+g  lane group g (LANES lanes) is presented; the registers of the
//          lane pipeline follow: s0 ia, ib;  s1 product, large term;
//          s2 + rounding constant;  s3 >>> k';  s4 acc;  s5..s9
//          nnf_requant;  s10 the LUT's output register; then the byte goes
//          into the output word, and after the last group the word is
//          written (act_we / act_wa / act_wd are flops)
//
// Cycles. The first word is launched in the cycle after start's, word i in
// cycle 1 + i*P; the last (W = CT*M words) is written G + 15 cycles after
// its launch, and done is high two cycles after that write: in cycle
//   (W - 1)*P + G + 18        after the cycle of start (W = 0: cycle 2)
// (measured: tests/rtl/tb_vu_ew.v checks it exactly).
//
// start is a one-cycle pulse while idle (it may come in the cycle done is
// high); the c_* fields are held from start until done. busy (high from
// the cycle after start's to the one before done's) and done (a one-cycle
// pulse) are registered outputs. abort (a one-cycle pulse while busy) stops launching
// words; the words in flight are written (a prefix of the command's words,
// each complete), then done, at most G + 16 cycles after the cycle of abort
// (the last word launched before it drains). rst drops the words in
// flight: no read or write from the cycle after its edge on.
// lw_*: the host's LUT writes (region LUT, byte LUT*256 + index), copied
// into this unit's LANES LUT copies (the executor writes LUTs only while no
// program runs).
`default_nettype none

module nnf_vu_ew #(
    parameter integer ROWS      = 8,
    parameter integer ACT_AW    = 15,
    parameter integer LANES     = 8,     // lanes per cycle: a power of two dividing ROWS
    parameter integer LUT_COUNT = 8,     // resident LUTs: a power of two 1..8
    parameter integer TFL_ROUND = 0      // 1: c_rnd chooses TFLite's double rounding for every MBQM
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    /* verilator lint_off SYMRSVDWORD */
    input  wire              abort,
    /* verilator lint_on SYMRSVDWORD */
    input  wire [1:0]        c_op,      // 0 ADD, 1 SUB, 2 MUL, 3 MAP
    input  wire [15:0]       c_n,       // channels
    input  wire [15:0]       c_m,       // rows
    input  wire [ACT_AW-1:0] c_a_base, c_b_base, c_o_base,
    input  wire [7:0]        c_zp_a, c_zp_b,
    input  wire [30:0]       c_m0_s,
    input  wire [4:0]        c_nshift_s,
    input  wire              c_a_small,
    input  wire [30:0]       c_m0,
    input  wire [7:0]        c_shift,
    input  wire [7:0]        c_zp, c_lo, c_hi,
    input  wire              c_rnd,     // TFLite's double rounding (TFL_ROUND = 1)
    input  wire              c_lut,
    input  wire [2:0]        c_lut_sel,
    input  wire              lw_we,     // host LUT write: byte lw_addr of region LUT
    input  wire [10:0]       lw_addr,
    input  wire [7:0]        lw_data,
    output reg               busy,
    output reg               done,
    output reg               act_re,
    output reg  [ACT_AW-1:0] act_ra,
    input  wire [ROWS*8-1:0] act_rd,
    output reg               act_we,
    output reg  [ACT_AW-1:0] act_wa,
    output reg  [ROWS*8-1:0] act_wd
);
    localparam integer G   = ROWS / LANES;
    localparam integer GW  = (G > 1) ? $clog2(G) : 1;
    localparam integer LR  = $clog2(ROWS);
    localparam integer LB  = (LUT_COUNT > 1) ? $clog2(LUT_COUNT) : 0;
    localparam integer LAW = 8 + LB;
    localparam integer D   = 11;                 // tag stages: s0 .. the output byte

    generate
        if (LANES < 1 || LANES > ROWS || (ROWS % LANES) != 0 || (1 << $clog2(LANES)) != LANES) begin : g_bad_lanes
            nnf_vu_ew_bad_parameter_LANES_must_be_a_power_of_two_dividing_ROWS u_bad();
        end
        if (LUT_COUNT < 1 || LUT_COUNT > 8 || (1 << LB) != LUT_COUNT) begin : g_bad_luts
            nnf_vu_ew_bad_parameter_LUT_COUNT_must_be_1_2_4_or_8 u_bad();
        end
    endgenerate

    wire binary = (c_op != 2'd3);
    wire go     = start && !busy;

    // ------------------------------------------------------------------
    // The word walk: launch a word every period
    // ------------------------------------------------------------------
    reg              run_q;            // words left to launch
    reg  [15:0]      m_q, ct_q, ct_n_q;
    reg  [ACT_AW-1:0] i_q, ib_q;       // next word; the word whose B is read next
    reg  [LR:0]      nl_last_q;        // lanes of the last tile
    reg  [GW:0]      ph_q, per_q;      // phase in the period, period - 1
    reg              bnext_q;          // read B this cycle
    reg              slot_q;           // the next word's slot
    // events of a launched word, by cycles since launch
    reg  [2:0]       ev_q;             // ev_q[j]: a word was launched j+1 cycles ago
    reg  [2:0]       evs_q;            // its slot
    reg  [ACT_AW-1:0] evi_q [0:2];     // its word index
    reg  [LR:0]      evn_q [0:2];      // its valid lanes

    wire [15:0] ct_d   = {{LR{1'b0}}, c_n[15:LR]} + {15'd0, (c_n[LR-1:0] != {LR{1'b0}})};
    wire [LR:0] nlr_d  = (c_n[LR-1:0] == {LR{1'b0}}) ? ROWS[LR:0] : {1'b0, c_n[LR-1:0]};
    localparam [GW:0] GM1 = G[GW:0] - 1'b1;
    wire [GW:0] per_d  = (GM1 >= (binary ? 1 : 0)) ? GM1 : (binary ? 1 : 0);

    wire launch = run_q && (ph_q == {(GW+1){1'b0}}) && !abort;
    wire last_w = (m_q == c_m - 16'd1) && (ct_q == ct_n_q - 16'd1);
    wire [LR:0] nl_now = (ct_q == ct_n_q - 16'd1) ? nl_last_q : ROWS[LR:0];

    integer j;
    always @(posedge clk) begin
        act_re <= 1'b0;
        if (rst) begin
            run_q   <= 1'b0;
            bnext_q <= 1'b0;
            ev_q    <= 3'd0;
        end else begin
            ev_q  <= {ev_q[1:0], launch};
            evs_q <= {evs_q[1:0], slot_q};
            for (j = 2; j > 0; j = j - 1) begin
                evi_q[j] <= evi_q[j-1];
                evn_q[j] <= evn_q[j-1];
            end
            evi_q[0] <= i_q;
            evn_q[0] <= nl_now;
            bnext_q  <= launch && binary;
            if (go) begin
                run_q     <= (c_n != 16'd0) && (c_m != 16'd0);
                m_q       <= 16'd0;
                ct_q      <= 16'd0;
                ct_n_q    <= ct_d;
                nl_last_q <= nlr_d;
                i_q       <= {ACT_AW{1'b0}};
                ph_q      <= {(GW+1){1'b0}};
                per_q     <= per_d;
                slot_q    <= 1'b0;
            end else if (run_q) begin
                if (abort) run_q <= 1'b0;
                ph_q <= (ph_q == per_q) ? {(GW+1){1'b0}} : ph_q + 1'b1;
                if (launch) begin
                    act_re <= 1'b1;
                    act_ra <= c_a_base + i_q;
                    ib_q   <= i_q;
                    i_q    <= i_q + 1'b1;
                    slot_q <= !slot_q;
                    if (last_w) begin
                        run_q <= 1'b0;
                    end else if (m_q == c_m - 16'd1) begin
                        m_q  <= 16'd0;
                        ct_q <= ct_q + 16'd1;
                    end else begin
                        m_q <= m_q + 16'd1;
                    end
                end
            end
            if (bnext_q) begin
                act_re <= 1'b1;
                act_ra <= c_b_base + ib_q;
            end
        end
    end

    // ------------------------------------------------------------------
    // Hold the words (two slots), then feed their lane groups
    // ------------------------------------------------------------------
    reg  [ROWS*8-1:0] ha_q [0:1];
    reg  [ROWS*8-1:0] hb_q [0:1];
    always @(posedge clk) begin
        if (ev_q[1]) ha_q[evs_q[1]] <= act_rd;                 // A arrives (c+2)
        if (ev_q[2] && binary) hb_q[evs_q[2]] <= act_rd;       // B arrives (c+3)
    end

    reg              gr_v_q;            // a group is presented this cycle
    reg  [GW-1:0]    gr_q;
    reg              gr_s_q;
    reg  [ACT_AW-1:0] gr_i_q;
    reg  [LR:0]      gr_n_q;
    always @(posedge clk) begin
        if (rst) begin
            gr_v_q <= 1'b0;
        end else if (ev_q[2]) begin                            // c+3: the word is held from c+4
            gr_v_q <= 1'b1;
            gr_q   <= {GW{1'b0}};
            gr_s_q <= evs_q[2];
            gr_i_q <= evi_q[2];
            gr_n_q <= evn_q[2];
        end else if (gr_v_q) begin
            if (gr_q == GM1[GW-1:0]) gr_v_q <= 1'b0;
            gr_q <= gr_q + 1'b1;
        end
    end
    wire [ROWS*8-1:0] wa_now = ha_q[gr_s_q];
    wire [ROWS*8-1:0] wb_now = hb_q[gr_s_q];
    wire [LANES*8-1:0] ga = wa_now[LANES*8*gr_q +: LANES*8];
    wire [LANES*8-1:0] gb = wb_now[LANES*8*gr_q +: LANES*8];

    // tags along the lane pipeline: valid, group, last group, word, lanes
    reg  [D-1:0]     t_v_q;             // bit j: stage j holds a group
    reg  [GW-1:0]    t_g_q  [0:D-1];
    reg              t_l_q  [0:D-1];
    reg  [ACT_AW-1:0] t_i_q [0:D-1];
    reg  [LR:0]      t_n_q  [0:D-1];
    always @(posedge clk) begin
        for (j = D - 1; j > 0; j = j - 1) begin
            t_g_q[j] <= t_g_q[j-1];
            t_l_q[j] <= t_l_q[j-1];
            t_i_q[j] <= t_i_q[j-1];
            t_n_q[j] <= t_n_q[j-1];
        end
        t_v_q    <= rst ? {D{1'b0}} : {t_v_q[D-2:0], gr_v_q};
        t_g_q[0] <= gr_q;
        t_l_q[0] <= (gr_q == GM1[GW-1:0]);
        t_i_q[0] <= gr_i_q;
        t_n_q[0] <= gr_n_q;
    end

    // ------------------------------------------------------------------
    // The lanes
    // ------------------------------------------------------------------
    wire [5:0]  kp   = 6'd11 + {1'b0, c_nshift_s};          // k' = 11 .. 42
    wire [42:0] rcon = 43'd1 << (kp - 6'd1);
    wire [LANES*8-1:0] q_out;                               // the bytes at s11
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            // s0: inputs minus zero points (-255 .. 255)
            reg  signed [9:0]  ia_q, ibl_q;
            always @(posedge clk) begin
                ia_q  <= $signed({{2{ga[8*l+7]}}, ga[8*l +: 8]}) - $signed({{2{c_zp_a[7]}}, c_zp_a});
                ibl_q <= $signed({{2{gb[8*l+7]}}, gb[8*l +: 8]}) - $signed({{2{c_zp_b[7]}}, c_zp_b});
            end
            // s1: the product (ADD / SUB: the small input times m0_s; MUL:
            // ia * ib), the large term, and ia (MAP)
            wire signed [9:0]  xs = (c_op[1] || c_a_small) ? ia_q : ibl_q;
            wire signed [9:0]  xl = c_a_small ? ibl_q : ia_q;
            wire signed [32:0] ys = c_op[1] ? {{23{ibl_q[9]}}, ibl_q} : {2'b00, c_m0_s};
            reg  signed [42:0] p_q;
            reg  signed [28:0] lg_q;
            reg  signed [9:0]  ia1_q;
            always @(posedge clk) begin
                p_q   <= xs * ys;
                lg_q  <= {{19{xl[9]}}, xl} <<< 19;
                ia1_q <= ia_q;
            end
            // s2: plus the rounding constant; s3: >>> k'
            reg  signed [42:0] pr_q;
            reg  signed [28:0] lg2_q, lg3_q;
            reg  signed [31:0] x2_q, x3_q;                   // MUL's product or MAP's ia
            always @(posedge clk) begin
                pr_q  <= p_q + $signed(rcon);
                lg2_q <= lg_q;
                x2_q  <= (c_op == 2'd3) ? {{22{ia1_q[9]}}, ia1_q} : p_q[31:0];
            end
            reg  signed [42:0] sm_q;
            always @(posedge clk) begin
                sm_q  <= pr_q >>> kp;
                lg3_q <= lg2_q;
                x3_q  <= x2_q;
            end
            // s2, s3: TFLite's correction of the small term (above): +1 / -1
            reg                cup3_q, cdn3_q;
            if (TFL_ROUND != 0) begin : g_tfl
                reg         cup2_q, cdn2_q;
                wire        dbl = c_rnd && !c_op[1] && (c_nshift_s != 5'd0);
                wire [4:0]  nm1 = c_nshift_s - 5'd1;            // R's width n - 1, 0..30
                wire [29:0] rm;
                genvar g;
                for (g = 0; g < 30; g = g + 1) begin : g_m
                    assign rm[g] = (nm1 > g);
                end
                wire [30:0] tb1;                                // one-hot: t's parity bit, p[10+n]
                for (g = 0; g < 31; g = g + 1) begin : g_t
                    assign tb1[g] = ({1'b0, nm1} == g);
                end
                wire        r_ones  = &(p_q[40:11] | ~rm);
                wire        r_zeros = ~|(p_q[40:11] & rm);
                wire        t_odd   = |(p_q[41:11] & tb1);
                always @(posedge clk) begin
                    cup2_q <= dbl && p_q[10] && !p_q[42] && r_ones && !t_odd;
                    cdn2_q <= dbl && !p_q[10] && p_q[42] && r_zeros && t_odd;
                    cup3_q <= cup2_q;
                    cdn3_q <= cdn2_q;
                end
            end else begin : g_single
                always @(posedge clk) begin
                    cup3_q <= 1'b0;
                    cdn3_q <= 1'b0;
                end
            end
            // s4: the accumulator the requantizer takes
            wire signed [31:0] sm32 = sm_q[31:0];             // |small| < 2^28
            wire signed [31:0] lg32 = {{3{lg3_q[28]}}, lg3_q};
            wire signed [31:0] ta   = c_a_small ? sm32 : lg32;
            wire signed [31:0] tb   = c_a_small ? lg32 : sm32;
            // c with the small term's sign in the sum (SUB subtracts B)
            wire               cneg = (c_op[0] && !c_a_small) ? cup3_q : cdn3_q;
            wire               cpos = (c_op[0] && !c_a_small) ? cdn3_q : cup3_q;
            wire signed [31:0] cc   = {{31{cneg}}, cneg | cpos};
            reg  [31:0] acc_q;
            always @(posedge clk) begin
                case (c_op)
                    2'd0:    acc_q <= ta + tb + cc;
                    2'd1:    acc_q <= ta - tb + cc;
                    default: acc_q <= x3_q;
                endcase
            end
            // s5 .. s9: requantize, zero point, clamp
            wire [7:0] rq;
            nnf_requant #(.TFL_ROUND(TFL_ROUND)) u_rq (
                .clk(clk), .acc(acc_q), .m0(c_m0), .shift(c_shift), .rnd(c_rnd), .zp(c_zp), .lo(c_lo),
                .hi(c_hi), .q(rq));
            // s10: the LUT read (this lane's copy); s11 the byte
            wire [10:0]    la = {c_lut_sel, rq};
            wire [7:0]     lut_rd;
            nnf_ram #(.AW(LAW), .NB(1)) u_lut (
                .clk(clk), .we(lw_we), .wa(lw_addr[LAW-1:0]), .wd(lw_data),
                .re(1'b1), .ra(la[LAW-1:0]), .rd(lut_rd));
            reg  [7:0] rq_q;
            always @(posedge clk) rq_q <= rq;
            assign q_out[8*l +: 8] = c_lut ? lut_rd : rq_q;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_l = &{1'b0, sm_q[42:32], la, lw_addr};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // ------------------------------------------------------------------
    // The output word: group bytes in place, lanes >= the tile's N masked
    // ------------------------------------------------------------------
    localparam integer TO = D - 1;                          // the tag beside the output byte
    reg  [ROWS*8-1:0] ow_q;
    reg  [ROWS*8-1:0] ow_next;
    wire [GW-1:0]     to_g = t_g_q[TO];
    wire [LR:0]       to_n = t_n_q[TO];
    integer b;
    always @(*) begin
        ow_next = ow_q;
        for (b = 0; b < ROWS; b = b + 1)
            if ((b / LANES) == {{(32-GW){1'b0}}, to_g})
                ow_next[8*b +: 8] = (b < to_n) ? q_out[8*(b % LANES) +: 8] : 8'd0;
    end
    always @(posedge clk) begin
        act_we <= 1'b0;
        if (t_v_q[TO] && !rst) begin                          // none in or after a reset
            ow_q <= ow_next;
            if (t_l_q[TO]) begin
                act_we <= 1'b1;
                act_wa <= c_o_base + t_i_q[TO];
                act_wd <= ow_next;
            end
        end
    end

    // ------------------------------------------------------------------
    // busy / done
    // ------------------------------------------------------------------
    wire any_t = |t_v_q;
    wire drained = !run_q && !bnext_q && (ev_q == 3'd0) && !gr_v_q && !any_t && !act_we;
    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            busy <= 1'b0;
        end else if (go) begin
            busy <= 1'b1;
        end else if (busy && drained) begin
            busy <= 1'b0;
            done <= 1'b1;
        end
    end
endmodule

`default_nettype wire
