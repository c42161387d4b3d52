// nnf_vu_row: the vector unit's row ops (ROW, docs/attention.md): SOFTMAX,
// bit for bit nnfm_engine_row with nnfm_softmax (sim/model/nnfm_engine.c,
// nnfm_attn.c), TFLite's int8 SOFTMAX in its table form:
//
//   for each row m of the M rows (the CT = ceil(N/ROWS) words
//   a_base + ct*M + m, lane j % ROWS of word j / ROWS holding element j):
//     pass 0  mx  = max of the row's N elements (from -128)
//     pass 1  sum = sum of rdbpot(T[mx - x], 12)  = (T >> 12) + T[11]
//             (T: the exp table, 256 entries of 31 bits; sum < 2^31)
//     recip   c = leading zeros of sum (at most 31), nbou = 12 - c,
//             inv = one_over_one_plus_x((sum << c) - 2^31)   (Q0.31)
//     pass 2  y = clamp(rdbpot(srdhm(inv, T[mx - x]), nbou + 23) - 128)
//             lanes of elements >= N as 0; the row's words written to
//             o_base + ct*M + m
//
// srdhm(a, b) = (a*b + 2^30) >>> 31 (int64; INT32_MAX for a = b = INT32_MIN):
// gemmlowp's rounding doubling high multiply, whose nudge 1 - 2^30 and
// truncating division for a negative product give the same floor. The
// additions of the reciprocal's Newton steps wrap at 32 bits, as the model's.
//
// The exp table is entry i = {LUT 4*c_tbl+3, +2, +1, +0}[i] (bit 31 cleared):
// this unit keeps its own copy of LUTs 0..3 (and 4..7 with LUT_COUNT 8) as a
// 256 (512) x 32 RAM written by the host's LUT writes (lw_*), as nnf_vu_ew
// keeps its copies (the executor writes LUTs only while no program runs).
//
// Timing. Every pass walks the row's words one after another: a word's read
// is issued (act_re, a flop), it arrives two cycles later and its ROWS lanes
// are stepped one a cycle: ROWS + 3 cycles a word. Between passes 1 and 2,
// two cycles for the sum's last term and leading zeros and 36 for the
// reciprocal (7 products of RL + 1 = 5 cycles through the shared
// multiplier, and inv); after pass 2, 8 cycles while its last bytes leave
// the element pipeline and the word is written. A row takes
// 3*CT*(ROWS + 3) + 46 cycles, and done is high in cycle M*(3*CT*(ROWS + 3)
// + 46) + 1 after the cycle of start (N or M 0: cycle 2); tests/rtl/
// tb_vu_row.v checks it exactly. Rows are done one after the other, each
// read whole (passes 0 and 1) before any of its words is written, so O may
// be A's range (in place) or disjoint from it.
//
// start is a one-cycle pulse while idle; the c_* fields are held from start
// until done. busy / done as nnf_vu_ew's. abort (a one-cycle pulse while
// busy) ends the command after the word in its lanes (pass 2: that word is
// written; passes 0 and 1 and the reciprocal write nothing): the written
// words are complete, in the order above; done within ROWS + 14 cycles.
// rst drops everything in flight.
`default_nettype none

module nnf_vu_row #(
    parameter integer ROWS      = 8,
    parameter integer ACT_AW    = 15,
    parameter integer LUT_COUNT = 8      // 4 or 8: the tables in LUTs 0..3 (and 4..7)
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    /* verilator lint_off SYMRSVDWORD */
    input  wire              abort,
    /* verilator lint_on SYMRSVDWORD */
    input  wire              c_tbl,     // the table's LUTs: 4*c_tbl .. 4*c_tbl+3
    input  wire [15:0]       c_n,       // row length 1..4095 (checked before)
    input  wire [15:0]       c_m,       // rows >= 1
    input  wire [ACT_AW-1:0] c_a_base, c_o_base,
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
    localparam integer LR = $clog2(ROWS);
    localparam integer TB = (LUT_COUNT >= 8) ? 1 : 0;     // table select bits
    localparam integer RL = 4;                            // a product's cycles (below)

    generate
        if (LUT_COUNT != 4 && LUT_COUNT != 8) begin : g_bad_luts
            nnf_vu_row_bad_parameter_LUT_COUNT_must_be_4_or_8 u_bad();
        end
        if (ROWS < 2 || (1 << LR) != ROWS) begin : g_bad_rows
            nnf_vu_row_bad_parameter_ROWS_must_be_a_power_of_two u_bad();
        end
    endgenerate

    // ------------------------------------------------------------------
    // The exp table: the host's LUT writes, byte b of LUT L to byte L % 4
    // of entry {L / 4, index}
    // ------------------------------------------------------------------
    wire [2:0]  lw_lut = lw_addr[10:8];
    wire        lw_tbl = (TB != 0) ? 1'b1 : (lw_lut[2] == 1'b0);   // a table LUT
    wire [3:0]  t_we   = (lw_we && lw_tbl) ? (4'b0001 << lw_lut[1:0]) : 4'b0000;
    wire [7+TB:0] t_wa, t_ra;
    wire [7:0]  t_x;                          // the table index read
    wire [31:0] t_rd;
    generate
        if (TB != 0) begin : g_t2
            assign t_wa = {lw_lut[2], lw_addr[7:0]};
            assign t_ra = {c_tbl, t_x};
        end else begin : g_t1
            assign t_wa = lw_addr[7:0];
            assign t_ra = t_x;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_t = c_tbl;
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
    nnf_ram #(.AW(8 + TB), .NB(4)) u_tbl (
        .clk(clk), .we(t_we), .wa(t_wa), .wd({4{lw_data}}), .re(1'b1), .ra(t_ra), .rd(t_rd));
    wire [30:0] t_val = t_rd[30:0];           // bit 31 ignored
    /* verilator lint_off UNUSEDSIGNAL */
    wire        unused_t31 = t_rd[31];
    /* verilator lint_on UNUSEDSIGNAL */

    // ------------------------------------------------------------------
    // The walk: states
    // ------------------------------------------------------------------
    localparam [2:0] S_IDLE = 3'd0,
                     S_RD   = 3'd1,     // issue the word's read
                     S_W1   = 3'd2,     // the read in flight
                     S_W2   = 3'd3,
                     S_LANE = 3'd4,     // step the word's lanes
                     S_SUM  = 3'd5,     // pass 1's last term, the leading zeros
                     S_REC  = 3'd6,     // the reciprocal's products
                     S_END  = 3'd7;     // pass 2's last word written: next row
    reg  [2:0]        st_q;
    reg  [1:0]        pass_q;            // 0 max, 1 sum, 2 output
    reg  [15:0]       m_q;               // the row
    reg  [15:0]       ct_q;              // the word's tile
    reg  [15:0]       ct_n_q;            // CT
    reg  [LR:0]       nl_last_q;         // lanes of the last tile
    reg  [ACT_AW-1:0] ra_row_q;          // the row's first input word: a_base + m
    reg  [ACT_AW-1:0] wa_row_q;          // and output word: o_base + m
    reg  [ACT_AW-1:0] ptr_q;             // the word's offset from the row's first: ct*M
    reg  [LR-1:0]     lane_q;
    reg  [ROWS*8-1:0] wd_q;              // the word's bytes, lane 0 at the bottom (shifted)
    reg               ab_q;              // abort asked
    reg               emp_q;             // N or M is 0: nothing to do
    reg               sd_q;              // S_SUM's second cycle
    wire [15:0] ct_d  = {{LR{1'b0}}, c_n[15:LR]} + {15'd0, (c_n[LR-1:0] != {LR{1'b0}})};
    wire [LR:0] nlr_d = (c_n[LR-1:0] == {LR{1'b0}}) ? ROWS[LR:0] : {1'b0, c_n[LR-1:0]};
    wire        last_ct   = (ct_q == ct_n_q - 16'd1);
    wire [LR:0] nl        = last_ct ? nl_last_q : ROWS[LR:0];
    wire        lane_v    = ({1'b0, lane_q} < nl);        // an element of the row
    wire        lane_last = (lane_q == ROWS[LR-1:0] - 1'b1);
    wire [7:0]  lx        = wd_q[7:0];                    // the lane's byte
    wire        go        = start && !busy;

    // per-row values
    reg  [7:0]  mx_q;                    // the row's max (int8)
    reg  [30:0] sum_q;                   // pass 1's sum
    reg  [5:0]  c_q;                     // leading zeros of the sum, capped at 31
    reg  [31:0] inv_q;                   // the reciprocal, Q0.31
    reg  [5:0]  e_q;                     // pass 2's shift: nbou + 23 = 35 - c (4..35)

    // ------------------------------------------------------------------
    // Element pipeline. A lane step in cycle s (S_LANE) presents the table
    // address mx - x (u_tbl's read); T arrives in s+1: pass 1 adds its term
    // then (a1_q), pass 2 presents (inv, T) to the multiplier, whose srdhm
    // is mu_r_q in s+1+RL; rdbpot and the clamp follow: the byte beside tag
    // TO in s+2+RL, merged into the output word, the word written with its
    // last lane. Pass 2's tags (tag k in cycle s+1+k): valid, element
    // (lane < N), last lane, lane, the output word.
    // ------------------------------------------------------------------
    localparam integer TO = RL + 1;      // the tag beside y_q
    localparam integer PD = TO + 1;
    reg  [PD-1:0]     tv_q, te_q, tl_q;
    reg  [LR-1:0]     tn_q [0:PD-1];
    reg  [ACT_AW-1:0] tw_q [0:PD-1];
    reg               a1_q;              // pass 1: the term of the element stepped last cycle
    wire              step = (st_q == S_LANE);
    assign t_x = mx_q - lx;              // mx >= x: 0 .. 255
    integer i;
    always @(posedge clk) begin
        if (rst) begin
            tv_q <= {PD{1'b0}};
            a1_q <= 1'b0;
        end else begin
            tv_q <= {tv_q[PD-2:0], step && (pass_q == 2'd2)};
            a1_q <= step && (pass_q == 2'd1) && lane_v;
        end
        te_q <= {te_q[PD-2:0], lane_v};
        tl_q <= {tl_q[PD-2:0], lane_last};
        tn_q[0] <= lane_q;
        tw_q[0] <= wa_row_q + ptr_q;
        for (i = 1; i < PD; i = i + 1) begin
            tn_q[i] <= tn_q[i-1];
            tw_q[i] <= tw_q[i-1];
        end
    end

    // ------------------------------------------------------------------
    // The shared multiplier: srdhm(mu_a, mu_b) in mu_r_q RL = 4 cycles after
    // the operands are presented: operands registered; four partial
    // products (DSP sized); their sum; the rounding shift.
    // ------------------------------------------------------------------
    reg  [31:0] mu_a, mu_b;              // the operands (chosen below)
    reg  [31:0] ma_q, mb_q;
    reg  [31:0] hh_q;                    // ah * bh (signed)
    reg  [32:0] hl_q, lh_q;              // ah * bl, al * bh (signed)
    reg  [31:0] ll_q;                    // al * bl (unsigned)
    reg         mm_q, mm2_q;             // both operands INT32_MIN
    reg  [63:0] p_q;
    reg  [31:0] mu_r_q;
    wire [15:0] ah = ma_q[31:16], al = ma_q[15:0], bh = mb_q[31:16], bl = mb_q[15:0];
    wire [63:0] p_d = {hh_q, 32'd0} + {{15{hl_q[32]}}, hl_q, 16'd0} + {{15{lh_q[32]}}, lh_q, 16'd0}
                    + {32'd0, ll_q};
    wire [63:0] p_r = p_q + 64'h0000_0000_4000_0000;
    always @(posedge clk) begin
        ma_q   <= mu_a;
        mb_q   <= mu_b;
        hh_q   <= $signed(ah) * $signed(bh);
        hl_q   <= $signed({ah[15], ah}) * $signed({1'b0, bl});
        lh_q   <= $signed({1'b0, al}) * $signed({bh[15], bh});
        ll_q   <= al * bl;
        mm_q   <= (ma_q == 32'h8000_0000) && (mb_q == 32'h8000_0000);
        p_q    <= p_d;
        mm2_q  <= mm_q;
        mu_r_q <= mm2_q ? 32'h7fff_ffff : p_r[62:31];
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_p = &{1'b0, p_r[63], p_r[30:0]};
    /* verilator lint_on UNUSEDSIGNAL */
    wire [31:0] r = mu_r_q;

    // ------------------------------------------------------------------
    // The reciprocal (nnfm_one_over_one_plus_x), 7 products k = 0..6, each
    // issued (operands presented) in cycle 0 of its RL + 1 and taken in
    // cycle RL:
    //   hd = (a + 2^31) >> 1, a = (sum << c) - 2^31 (a = INT32_MIN: hd = -1)
    //   k 0         x   = 1515870810 + srdhm(hd, -1010580540)
    //   k 1, 3, 5   err = 2^29 - srdhm(hd, x)
    //   k 2, 4, 6   x   = x + sat_shl(srdhm(x, err), 2)
    //   then        inv = sat_shl(x, 1)
    // ------------------------------------------------------------------
    reg  [31:0] hd_q, x_q, err_q;
    reg  [2:0]  k_q;                     // the product (7: done)
    reg  [2:0]  rc_q;                    // its cycle, 0 .. RL
    wire        r_hi2 = $signed(r) > $signed(32'h1fff_ffff);
    wire        r_lo2 = $signed(r) < $signed(32'he000_0001);
    wire [31:0] r_sh2 = r_hi2 ? 32'h7fff_ffff : r_lo2 ? 32'h8000_0000 : {r[29:0], 2'b00};
    wire        x_hi1 = $signed(x_q) > $signed(32'h3fff_ffff);
    wire        x_lo1 = $signed(x_q) < $signed(32'hc000_0001);
    wire [31:0] x_sh1 = x_hi1 ? 32'h7fff_ffff : x_lo1 ? 32'h8000_0000 : {x_q[30:0], 1'b0};
    // the sum's leading zeros as a 32-bit number (bit 31 is 0), at most 31
    reg  [5:0]  lz;
    integer z;
    always @(*) begin
        lz = 6'd31;
        for (z = 0; z < 31; z = z + 1)
            if (sum_q[z]) lz = 6'd31 - z[5:0];
    end
    wire [62:0] sh   = {32'd0, sum_q} << lz;
    wire [31:0] a32  = sh[31:0] - 32'h8000_0000;
    wire [31:0] hd_d = (a32 == 32'h8000_0000) ? 32'hffff_ffff : {1'b0, a32[31:1] ^ 31'h4000_0000};
    /* verilator lint_off UNUSEDSIGNAL */
    wire [30:0] sh_hi = sh[62:32];
    /* verilator lint_on UNUSEDSIGNAL */
    always @(*) begin
        if (st_q == S_REC) begin
            mu_a = (k_q == 3'd0 || k_q[0]) ? hd_q : x_q;
            mu_b = (k_q == 3'd0) ? 32'hc3c3_c3c4 : k_q[0] ? x_q : err_q;   // -1010580540
        end else begin
            mu_a = inv_q;
            mu_b = {1'b0, t_val};
        end
    end

    // ------------------------------------------------------------------
    // Pass 2's tail: y = rdbpot(p, e) = (p >>> e) + (rem > thr), rem = p
    // mod 2^e, thr = 2^(e-1) - 1 + (p < 0), in 36 bits (4 <= e <= 35);
    // then y - 128 clamped; the output word
    // ------------------------------------------------------------------
    wire [35:0] p36 = {{4{r[31]}}, r};
    wire [35:0] msk = (36'd1 << e_q) - 36'd1;
    wire [35:0] rem = p36 & msk;
    wire [35:0] thr = (msk >> 1) + {35'd0, r[31]};
    wire [35:0] q36 = $signed(p36) >>> e_q;
    reg  [35:0] y_q;
    always @(posedge clk) y_q <= q36 + {35'd0, (rem > thr)};
    wire [35:0] yb  = y_q - 36'd128;
    wire [7:0]  byt = ($signed(yb) < -36'sd128) ? 8'h80 : ($signed(yb) > 36'sd127) ? 8'h7f : yb[7:0];
    reg  [ROWS*8-1:0] ow_q, ow_next;
    integer b;
    always @(*) begin
        ow_next = ow_q;
        for (b = 0; b < ROWS; b = b + 1)
            if (b == {{(32-LR){1'b0}}, tn_q[TO]})
                ow_next[8*b +: 8] = te_q[TO] ? byt : 8'd0;
    end
    always @(posedge clk) begin
        act_we <= 1'b0;
        if (tv_q[TO] && !rst) begin
            ow_q <= ow_next;
            if (tl_q[TO]) begin
                act_we <= 1'b1;
                act_wa <= tw_q[TO];
                act_wd <= ow_next;
            end
        end
    end

    // ------------------------------------------------------------------
    // The sequencer
    // ------------------------------------------------------------------
    wire [7:0]  mx_d = ($signed(lx) > $signed(mx_q)) ? lx : mx_q;
    wire [30:0] term = {12'd0, t_val[30:12]} + {30'd0, t_val[11]};
    wire        drained = (tv_q == {PD{1'b0}}) && !act_we;
    wire        stop = ab_q || abort;
    always @(posedge clk) begin
        done   <= 1'b0;
        act_re <= 1'b0;
        if (a1_q) sum_q <= sum_q + term;
        e_q <= 6'd35 - c_q;
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
            ct_q      <= 16'd0;
            pass_q    <= 2'd0;
            mx_q      <= 8'h80;
            sum_q     <= 31'd0;
            st_q      <= ((c_n == 16'd0) || (c_m == 16'd0)) ? S_END : S_RD;
        end else if (busy) begin
            if (abort) ab_q <= 1'b1;
            case (st_q)
                S_RD: begin
                    if (stop) begin                  // (pass 2: its words so far are whole)
                        st_q <= S_END;
                    end else begin
                        act_re <= 1'b1;
                        act_ra <= ra_row_q + ptr_q;
                        st_q   <= S_W1;
                    end
                end
                S_W1: st_q <= S_W2;
                S_W2: begin                          // act_rd arrives
                    wd_q   <= act_rd;
                    lane_q <= {LR{1'b0}};
                    st_q   <= S_LANE;
                end
                S_LANE: begin
                    if (pass_q == 2'd0 && lane_v) mx_q <= mx_d;
                    wd_q   <= wd_q >> 8;
                    lane_q <= lane_q + 1'b1;
                    if (lane_last) begin
                        if (stop) begin
                            st_q <= S_END;           // this word was the last
                        end else if (!last_ct) begin
                            ct_q  <= ct_q + 16'd1;
                            ptr_q <= ptr_q + c_m[ACT_AW-1:0];
                            st_q  <= S_RD;
                        end else begin
                            ct_q  <= 16'd0;
                            ptr_q <= {ACT_AW{1'b0}};
                            sd_q  <= 1'b0;
                            case (pass_q)
                                2'd0:    begin pass_q <= 2'd1; st_q <= S_RD; end
                                2'd1:    st_q <= S_SUM;
                                default: st_q <= S_END;
                            endcase
                        end
                    end
                end
                S_SUM: begin                         // two cycles: the last term is in
                    sd_q <= 1'b1;
                    if (stop) begin
                        st_q <= S_END;
                    end else if (sd_q) begin
                        c_q  <= lz;
                        hd_q <= hd_d;
                        k_q  <= 3'd0;
                        rc_q <= 3'd0;
                        st_q <= S_REC;
                    end
                end
                S_REC: begin
                    if (stop) begin
                        st_q <= S_END;               // nothing of this row written
                    end else if (k_q == 3'd7) begin
                        inv_q  <= x_sh1;
                        pass_q <= 2'd2;
                        st_q   <= S_RD;
                    end else if (rc_q == RL[2:0]) begin   // mu_r_q: product k
                        rc_q <= 3'd0;
                        k_q  <= k_q + 3'd1;
                        if (k_q == 3'd0)  x_q   <= 32'd1515870810 + r;
                        else if (k_q[0])  err_q <= 32'h2000_0000 - r;
                        else              x_q   <= x_q + r_sh2;
                    end else begin
                        rc_q <= rc_q + 3'd1;
                    end
                end
                S_END: begin                         // the row's words written
                    if (drained) begin
                        if (emp_q || m_q == c_m - 16'd1 || stop) begin
                            busy <= 1'b0;
                            done <= 1'b1;
                            st_q <= S_IDLE;
                        end else begin
                            m_q      <= m_q + 16'd1;
                            ra_row_q <= ra_row_q + 1'b1;
                            wa_row_q <= wa_row_q + 1'b1;
                            pass_q   <= 2'd0;
                            mx_q     <= 8'h80;
                            sum_q    <= 31'd0;
                            st_q     <= S_RD;
                        end
                    end
                end
                default: st_q <= S_IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire
