// nnf_vu_pack: the vector unit's PACK (docs/conv.md, "First layers with few
// channels: PACK"), bit for bit nnfm_engine_pack (sim/model/nnfm_engine.c).
//
// The input is a dense map: B images of H x W pixels of Cin bytes, image
// after image, from byte a_base*ROWS (Cin <= ROWS). The output is a feature
// map of C' = KW*Cin channels, H rows, OW columns: word
// o_base + ct*M + (y*OW + ox)*B + b (M = H*OW*B), lane l holding packed
// channel k = ct*ROWS + l = kx*Cin + c, i.e. the byte at row position
// r + l with r = (ox*SW - PW)*Cin + ct*ROWS: X[b][c][y][ox*SW - PW + kx],
// zp_in when r + l is outside [0, W*Cin) (a padding column), 0 when
// k >= C'.
//
// The words are made in the order (ct, b, y, ox), so that consecutive words
// read overlapping byte windows of one row: word pos = RB + r, with
// RB = a_base*ROWS + ((b*H + y)*W)*Cin the row's first byte, needs bytes
// pos .. pos + ROWS - 1 only, inside the two words cw = floor(pos/ROWS) and
// cw + 1. Those two are in the cache (below); lane l takes byte s + l of
// them (s = pos mod ROWS, a 2*ROWS-to-1 byte mux). Every address
// is kept by additions of per-command constants (no multiplier):
//   ox + 1:          pos += SW*Cin, r += SW*Cin, out += B
//   next row (y, b): pos = row_pos += W*Cin, RB += W*Cin, r = r_ct, out += B (the row's
//                    words follow the last one; a new image: img_out + 1)
//   next ct:         pos = row_pos = ct_pos += ROWS, RB = a_base*ROWS, r = r_ct += ROWS,
//                    out = img_out = tile_out += M
// W*Cin is made at start by shift-and-add over Cin's bits (LOG_R + 1
// cycles), W*Cin - 1 and 2*W*Cin - 1 the cycle after (FAST only: the
// prefetcher's bounds); SW*Cin and PW*Cin (at
// most 3 terms each) are registered at start.
//
// Timing (FAST = 1; with FAST = 0 the two-word cache of the g_small block,
// read on a miss, about a third of the speed at VWW's stride 2): the cache
// is a window of NS = 6 words, cw_q .. cw_q + 5, each
// with a valid bit, filled by a prefetcher that reads one word a cycle. A
// word is made in one cycle when its used words are valid at window offset
// d = floor(pos/ROWS) - cw_q of 0..4 (or it uses none: padding only, or
// beyond C'); a word that uses some moves the window to cw = floor(pos/ROWS),
// keeping the words it holds of it, whether it is made then or waits for
// them. The prefetcher decides from registers only (timing: the 96 MHz
// OrangeCrab): the lowest word of the window as it was at the cycle's start
// that is not valid, not on the port and not landing now, inside the rows
// (from the current row's first word to the last word of the next row of
// the tile: rows of one channel tile follow each other in the dense input,
// image after image), those bounds registered a cycle late (after a row or
// tile change they are the previous row's, still inside the input). So
// every read is inside the dense input. A read's data is on act_rd the cycle
// after act_re and is kept if its word is still in the window. With a
// word's advance SW*Cin <= ROWS, the steady state is one word a cycle
// (measured: VWW's 96 x 96 x 3 input, stride 2, 3.35 -> 1.01 cycles a word).
// W*Cin takes bits(Cin) + 1 cycles at start, W*Cin - 1 and 2*W*Cin - 1 one
// more (FAST = 0: not made, no cycle); done comes 3 cycles after the last word is made, 4 when a read was
// issued in that cycle. Reads and writes come from flops (act_re / act_ra /
// act_we / act_wa / act_wd).
//
// start is a one-cycle pulse while idle, the c_* fields held until done.
// abort stops making words; reads in flight land; done follows (the written
// words are a prefix of the command's). The command was checked before
// (nnf_insn_check, as POOL with C = C', KH = SH = 1, PH = EH = 0).
`default_nettype none

module nnf_vu_pack #(
    parameter integer ROWS   = 8,
    parameter integer ACT_AW = 15,
    parameter integer FAST   = 1        // 1: the six-word prefetching cache; 0: two words, read on a miss
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    /* verilator lint_off SYMRSVDWORD */
    input  wire              abort,
    /* verilator lint_on SYMRSVDWORD */
    input  wire [$clog2(ROWS):0] c_cin,  // 1..ROWS
    input  wire [15:0]       c_cp,       // C' = KW*Cin
    input  wire [15:0]       c_ct,       // ceil(C'/ROWS)
    input  wire [10:0]       c_h, c_w, c_b, c_ow,
    input  wire [2:0]        c_sw, c_pw,
    input  wire [15:0]       c_m,        // H*OW*B
    input  wire [ACT_AW-1:0] c_a_base, c_o_base,
    input  wire [7:0]        c_zp_in,
    output reg               busy,
    output reg               done,
    output wire              act_re,
    output wire [ACT_AW-1:0] act_ra,
    input  wire [ROWS*8-1:0] act_rd,
    output wire              act_we,
    output wire [ACT_AW-1:0] act_wa,
    output wire [ROWS*8-1:0] act_wd
);
    localparam integer LR  = $clog2(ROWS);
    localparam integer CIW = LR + 1;                 // Cin's bits
    localparam integer BW0 = ACT_AW + LR + 3;        // signed byte positions
    localparam integer BW  = (BW0 > 12) ? BW0 : 12;
    localparam integer CWW = BW - LR;                // signed word index
    localparam [15:0]  ROWS16 = ROWS[15:0];

    // ---- set-up: W*Cin by shift-and-add, SW*Cin and PW*Cin ----
    reg             setup_q;
    reg  [CIW-1:0]  sc_left_q;      // Cin's bits not yet added (shifted down)
    reg  [BW-1:0]   wsh_q;          // W << bit
    reg  [BW-1:0]   wc_q;           // W*Cin
    reg  [BW-1:0]   swc_q, pwc_q;   // SW*Cin, PW*Cin
    wire [BW-1:0]   cin_x = {{(BW-CIW){1'b0}}, c_cin};
    wire [BW-1:0]   abyte = {{(BW-ACT_AW-LR){1'b0}}, c_a_base, {LR{1'b0}}};

    // ---- the walk ----
    reg             run_q;          // words left to make
    reg  [15:0]     ct_q;
    reg  [10:0]     b_q, y_q, ox_q;
    reg  [BW-1:0]   pos_q, row_pos_q, ct_pos_q;   // signed byte positions
    reg  [BW-1:0]   r_q, r_ct_q;                  // row-relative (signed)
    reg  [15:0]     ocl_q;          // channels left: C' - ct*ROWS
    reg  [ACT_AW-1:0] out_q, img_out_q, tile_out_q;
    // the last ox, y, b, ct, made at start (the compares: no subtract)
    reg  [10:0]     owm1_q, hm1_q, bm1_q;
    reg  [15:0]     ctm1_q;
    wire last_ox = (ox_q == owm1_q);
    wire last_y  = (y_q == hm1_q);
    wire last_b  = (b_q == bm1_q);
    wire last_ct = (ct_q == ctm1_q);

    // lanes in the row: lo_n_q <= l < hi_n_q; channels: l < ocl_n_q. They are
    // registered with r_q and ocl_q, made from the values those take next
    // (off the path from the cache check to the walk's enables).
    function automatic [LR:0] lo_of(input [BW-1:0] r);      // min(max(-r, 0), ROWS)
        reg [BW-1:0] nr;
        begin
            nr = {BW{1'b0}} - r;
            lo_of = !r[BW-1] ? {(LR+1){1'b0}}
                  : (nr >= {{(BW-LR-1){1'b0}}, ROWS[LR:0]}) ? ROWS[LR:0] : nr[LR:0];
        end
    endfunction
    function automatic [LR:0] hi_of(input [BW-1:0] r, input [BW-1:0] wc);   // min(max(wc - r, 0), ROWS)
        reg [BW-1:0] rm;
        begin
            rm = wc - r;
            hi_of = rm[BW-1] ? {(LR+1){1'b0}}
                  : (rm >= {{(BW-LR-1){1'b0}}, ROWS[LR:0]}) ? ROWS[LR:0] : rm[LR:0];
        end
    endfunction
    function automatic [LR:0] cl_of(input [15:0] c);        // min(c, ROWS)
        cl_of = (c >= ROWS16) ? ROWS[LR:0] : c[LR:0];
    endfunction
    reg  [LR:0]     lo_n_q, hi_n_q, ocl_n_q;
    wire [LR:0]     hi_e   = (hi_n_q < ocl_n_q) ? hi_n_q : ocl_n_q;
    wire            need   = lo_n_q < hi_e;         // some input byte is used

    // ---- the cache (FAST: six words, prefetched; else two, read on a miss) ----
    reg  [BW-1:0]   rb_q;           // the current row's first byte (RB)
    reg  [BW-1:0]   wc1_q, wc2_q;   // W*Cin - 1, 2*W*Cin - 1
    reg             wcd_q;          // set-up: they are made
    wire [CWW-1:0]  cw_need = pos_q[BW-1:LR];
    wire [LR-1:0]   sh      = pos_q[LR-1:0];
    wire [LR+1:0]   s_lo    = {2'b00, sh} + {1'b0, lo_n_q};
    wire [LR+1:0]   s_hi    = {2'b00, sh} + {1'b0, hi_e};
    // used bytes in word cw_need (lo) and in word cw_need + 1 (hi)
    wire            need_lo = need && (s_lo < {1'b0, ROWS[LR:0]});
    wire            need_hi = need && (s_hi > {1'b0, ROWS[LR:0]});
    // B and M as address increments
    /* verilator lint_off UNUSEDSIGNAL */
    wire [ACT_AW+15:0] b_x = {{(ACT_AW+5){1'b0}}, c_b};
    wire [ACT_AW+15:0] m_x = {{ACT_AW{1'b0}}, c_m};
    /* verilator lint_on UNUSEDSIGNAL */
    wire [ACT_AW-1:0] b_inc = b_x[ACT_AW-1:0], m_inc = m_x[ACT_AW-1:0];
    wire            act_ok = run_q && !setup_q && !abort;
    wire            first  = start && !busy;
    // what the cache gives the walk: make the word now, its two words, the
    // read port, nothing in flight
    wire            make;
    wire [2*ROWS*8-1:0] win;
    wire            c_re, c_idle;
    wire [ACT_AW-1:0] c_ra;

    generate
        if (FAST != 0) begin : g_fast
            // words cw_q .. cw_q + NS - 1 (sl_q[j], valid v_q[j])
            localparam integer NS = 6;
            localparam integer NS_M2I = NS - 2;
            localparam [2:0]   NS_M2 = NS_M2I[2:0];
            localparam [CWW-1:0] NS_W = {{(CWW-3){1'b0}}, 3'd6};   // NS
            reg  [CWW-1:0]  cw_q;
            reg  [NS-1:0]   v_q;
            reg  [NS*ROWS*8-1:0] sl_q;      // word cw_q + j at sl_q[j*ROWS*8 +: ROWS*8]
            wire [CWW-1:0]  d      = cw_need - cw_q;
            wire            d_in   = (d < NS_W);                   // 0..NS-1
            wire [2:0]      dk     = d[2:0];
            wire            win_ok = d_in && (dk <= NS_M2) && (!need_lo || v_q[dk]) && (!need_hi || v_q[dk + 3'd1]);
            // the prefetcher's rows: from the current row's first word to
            // the last word of the next row in the tile (of this one for the
            // tile's last row), registered from the walk's registers: a cycle
            // late after a row or tile change, when they are the previous
            // row's (still inside the input)
            /* verilator lint_off UNUSEDSIGNAL */
            wire [BW-1:0]   hi_byte = rb_q + ((last_y && last_b) ? wc1_q : wc2_q);   // (its word only)
            /* verilator lint_on UNUSEDSIGNAL */
            reg  [CWW-1:0]  lo_w_q, hi_w_q;
            reg             re_q, dv_q;     // a read on the port; its data on act_rd now
            reg  [CWW-1:0]  ra_q, da_q;     // their words
            wire            move = act_ok && need && (d != {CWW{1'b0}});
            assign make = act_ok && (!need || win_ok);
            // the window after this cycle: moved, then the landing read's word
            wire [CWW-1:0]  cw_n  = move ? cw_need : cw_q;
            wire [CWW-1:0]  dj    = da_q - cw_n;
            wire            dj_in = dv_q && (dj < NS_W);
            wire [NS-1:0]   v_n, elig;
            wire [NS*ROWS*8-1:0] sl_n;
            // the prefetch, from registers (the window before this cycle's
            // move): the lowest window word not valid, not on the port, not
            // landing now, inside the rows; cwj_q[j] = cw_q + j
            reg  [NS*CWW-1:0] cwj_q;
            genvar gs;
            for (gs = 0; gs < NS; gs = gs + 1) begin : g_slot
                wire [3:0]        src  = {1'b0, dk} + gs[3:0];
                wire              s_in = (src < NS[3:0]);
                wire [2:0]        sc   = s_in ? src[2:0] : 3'd0;
                wire              kept = move ? (d_in && s_in && v_q[sc]) : v_q[gs];
                wire [ROWS*8-1:0] kd   = move ? sl_q[sc*ROWS*8 +: ROWS*8] : sl_q[gs*ROWS*8 +: ROWS*8];
                wire              land = dj_in && (dj[2:0] == gs[2:0]);
                wire [CWW-1:0]    cand = cwj_q[gs*CWW +: CWW];
                assign v_n[gs] = kept || land;
                assign sl_n[gs*ROWS*8 +: ROWS*8] = land ? act_rd : kd;
                assign elig[gs] = !v_q[gs] && !(re_q && ra_q == cand) && !(dv_q && da_q == cand) &&
                                  ($signed(cand) >= $signed(lo_w_q)) && ($signed(cand) <= $signed(hi_w_q));
                always @(posedge clk)
                    cwj_q[gs*CWW +: CWW] <= (first ? {CWW{1'b0}} : cw_n) + gs[CWW-1:0];
            end
            reg  [2:0]     pf_j;            // the lowest eligible slot
            integer        pj;
            always @(*) begin
                pf_j = 3'd0;
                for (pj = NS - 1; pj >= 0; pj = pj - 1)
                    if (elig[pj]) pf_j = pj[2:0];
            end
            wire           pf   = act_ok && (elig != {NS{1'b0}});
            wire [CWW-1:0] pf_w = cwj_q[pf_j*CWW +: CWW];
            always @(posedge clk) begin
                if (rst) begin
                    v_q  <= {NS{1'b0}};
                    re_q <= 1'b0;
                    dv_q <= 1'b0;
                end else begin
                    re_q <= pf;
                    dv_q <= re_q;
                    cw_q <= first ? {CWW{1'b0}} : cw_n;
                    v_q  <= first ? {NS{1'b0}} : v_n;
                end
                ra_q   <= pf_w;
                da_q   <= ra_q;
                sl_q   <= sl_n;
                lo_w_q <= rb_q[BW-1:LR];
                hi_w_q <= hi_byte[BW-1:LR];
            end
            wire [2:0] wk = (dk > NS_M2) ? NS_M2 : dk;   // (a word with dk > NS - 2 is not made)
            assign win    = sl_q[wk*ROWS*8 +: 2*ROWS*8]; // words cw_need, cw_need + 1
            assign c_re   = re_q;
            assign c_ra   = ra_q[ACT_AW-1:0];
            assign c_idle = !re_q && !dv_q;
        end else begin : g_small
            // words cw_q (lo_q) and cw_q + 1 (hi_q), read on a miss. Only
            // words holding a used byte are read (so every read is inside
            // the dense input): lo when a used lane falls in it
            // (s + lo_n_q < ROWS), hi when one falls past it (s + hi_e >
            // ROWS). A word is made in one cycle when the cache holds its
            // used words; otherwise a refill cycle first moves the window to
            // cw = floor(pos/ROWS), keeping what it holds of it (when the
            // window slid by one word, lo_q <= hi_q), and reads the used
            // words it lacks: none costs 1 cycle more, one read 3, two 4.
            reg  [CWW-1:0]  cw_q, cw1_q;    // cw1_q = cw_q + 1
            reg             lv_q, hv_q;     // lo_q, hi_q hold words cw_q, cw_q + 1
            reg  [ROWS*8-1:0] lo_q, hi_q;
            wire            same  = (cw_need == cw_q);
            wire            slide = (cw_need == cw1_q);
            wire            hit   = !need || (same && (!need_lo || lv_q) && (!need_hi || hv_q));
            wire            n_lv  = same ? lv_q : (slide && hv_q);
            wire            n_hv  = same && hv_q;
            wire            rd_lo = need_lo && !n_lv, rd_hi = need_hi && !n_hv;
            reg  [1:0]      fill_q;         // reads in flight or to issue
            reg             rd2_q;          // a second read (hi) to issue next cycle
            reg             re_q, re_hi_q;  // the read on the port, and where its data goes
            reg  [ACT_AW-1:0] ra_q;
            reg             dv_q, dhi_q;    // its data on act_rd now: to lo_q or hi_q
            wire            miss = act_ok && (fill_q == 2'd0) && !hit;
            assign make = act_ok && (fill_q == 2'd0) && hit;
            always @(posedge clk) begin
                if (rst) begin
                    lv_q   <= 1'b0;
                    hv_q   <= 1'b0;
                    fill_q <= 2'd0;
                    rd2_q  <= 1'b0;
                    re_q   <= 1'b0;
                    dv_q   <= 1'b0;
                end else begin
                    re_q  <= 1'b0;
                    dv_q  <= re_q;
                    dhi_q <= re_hi_q;
                    if (first) begin
                        lv_q  <= 1'b0;
                        hv_q  <= 1'b0;
                        cw_q  <= {CWW{1'b0}};
                        cw1_q <= {{(CWW-1){1'b0}}, 1'b1};
                    end
                    if (miss) begin
                        cw_q   <= cw_need;
                        cw1_q  <= cw_need + {{(CWW-1){1'b0}}, 1'b1};
                        lv_q   <= n_lv;
                        hv_q   <= n_hv;
                        if (slide) lo_q <= hi_q;
                        fill_q <= {1'b0, rd_lo} + {1'b0, rd_hi};
                        if (rd_lo || rd_hi) begin
                            re_q    <= 1'b1;
                            ra_q    <= cw_need[ACT_AW-1:0] + {{(ACT_AW-1){1'b0}}, !rd_lo};
                            re_hi_q <= !rd_lo;
                        end
                        rd2_q <= rd_lo && rd_hi;
                    end else if (rd2_q) begin
                        rd2_q   <= 1'b0;
                        re_q    <= 1'b1;
                        ra_q    <= ra_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                        re_hi_q <= 1'b1;
                    end
                    if (dv_q) begin                         // a read's data (act_rd now)
                        if (dhi_q) begin
                            hi_q <= act_rd;
                            hv_q <= 1'b1;
                        end else begin
                            lo_q <= act_rd;
                            lv_q <= 1'b1;
                        end
                        fill_q <= fill_q - 2'd1;
                    end
                end
            end
            assign win    = {hi_q, lo_q};
            assign c_re   = re_q;
            assign c_ra   = ra_q;
            assign c_idle = (fill_q == 2'd0) && !rd2_q && !re_q && !dv_q;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused = &{1'b0, rb_q, wc1_q, wc2_q};   // (the prefetcher's bounds)
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            run_q   <= 1'b0;
            setup_q <= 1'b0;
        end else begin
            if (start && !busy) begin
                run_q     <= 1'b1;
                setup_q   <= 1'b1;
                owm1_q    <= c_ow - 11'd1;
                hm1_q     <= c_h - 11'd1;
                bm1_q     <= c_b - 11'd1;
                ctm1_q    <= c_ct - 16'd1;
                y_q       <= 11'd0;          // (the first row's bounds, made in set-up)
                b_q       <= 11'd0;
                rb_q      <= abyte;
                wcd_q     <= 1'b0;
                sc_left_q <= c_cin;
                wsh_q     <= {{(BW-11){1'b0}}, c_w};
                wc_q      <= {BW{1'b0}};
                swc_q     <= (c_sw[0] ? cin_x : {BW{1'b0}}) + (c_sw[1] ? cin_x << 1 : {BW{1'b0}})
                           + (c_sw[2] ? cin_x << 2 : {BW{1'b0}});
                pwc_q     <= (c_pw[0] ? cin_x : {BW{1'b0}}) + (c_pw[1] ? cin_x << 1 : {BW{1'b0}})
                           + (c_pw[2] ? cin_x << 2 : {BW{1'b0}});
            end else if (abort) begin
                run_q   <= 1'b0;
                setup_q <= 1'b0;
            end else if (setup_q) begin
                if (sc_left_q != {CIW{1'b0}}) begin
                    if (sc_left_q[0]) wc_q <= wc_q + wsh_q;
                    wsh_q     <= wsh_q << 1;
                    sc_left_q <= sc_left_q >> 1;
                end else if (FAST != 0 && !wcd_q) begin     // W*Cin known (FAST: the bounds)
                    wcd_q <= 1'b1;
                    wc1_q <= wc_q - {{(BW-1){1'b0}}, 1'b1};
                    wc2_q <= (wc_q << 1) - {{(BW-1){1'b0}}, 1'b1};
                end else begin                          // the first word's positions
                    setup_q    <= 1'b0;
                    ct_q       <= 16'd0;
                    b_q        <= 11'd0;
                    y_q        <= 11'd0;
                    ox_q       <= 11'd0;
                    pos_q      <= abyte - pwc_q;
                    row_pos_q  <= abyte - pwc_q;
                    ct_pos_q   <= abyte - pwc_q;
                    rb_q       <= abyte;
                    r_q        <= {BW{1'b0}} - pwc_q;
                    r_ct_q     <= {BW{1'b0}} - pwc_q;
                    lo_n_q       <= lo_of({BW{1'b0}} - pwc_q);
                    hi_n_q       <= hi_of({BW{1'b0}} - pwc_q, wc_q);
                    ocl_q      <= c_cp;
                    ocl_n_q      <= cl_of(c_cp);
                    out_q      <= c_o_base;
                    img_out_q  <= c_o_base;
                    tile_out_q <= c_o_base;
                end
            end else if (make) begin
                if (!last_ox) begin
                    ox_q  <= ox_q + 11'd1;
                    pos_q <= pos_q + swc_q;
                    r_q   <= r_q + swc_q;
                    lo_n_q  <= lo_of(r_q + swc_q);
                    hi_n_q  <= hi_of(r_q + swc_q, wc_q);
                    out_q <= out_q + b_inc;
                end else begin
                    ox_q <= 11'd0;
                    if (!(last_y && last_b)) begin             // the next row
                        pos_q     <= row_pos_q + wc_q;
                        row_pos_q <= row_pos_q + wc_q;
                        rb_q      <= rb_q + wc_q;
                        r_q       <= r_ct_q;
                        lo_n_q      <= lo_of(r_ct_q);
                        hi_n_q      <= hi_of(r_ct_q, wc_q);
                        if (!last_y) begin
                            y_q   <= y_q + 11'd1;
                            out_q <= out_q + b_inc;
                        end else begin
                            y_q       <= 11'd0;
                            b_q       <= b_q + 11'd1;
                            out_q     <= img_out_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                            img_out_q <= img_out_q + {{(ACT_AW-1){1'b0}}, 1'b1};
                        end
                    end else if (!last_ct) begin               // the next channel tile
                        y_q        <= 11'd0;
                        b_q        <= 11'd0;
                        ct_q       <= ct_q + 16'd1;
                        pos_q      <= ct_pos_q + {{(BW-LR-1){1'b0}}, ROWS[LR:0]};
                        row_pos_q  <= ct_pos_q + {{(BW-LR-1){1'b0}}, ROWS[LR:0]};
                        ct_pos_q   <= ct_pos_q + {{(BW-LR-1){1'b0}}, ROWS[LR:0]};
                        rb_q       <= abyte;
                        r_q        <= r_ct_q + {{(BW-LR-1){1'b0}}, ROWS[LR:0]};
                        r_ct_q     <= r_ct_q + {{(BW-LR-1){1'b0}}, ROWS[LR:0]};
                        lo_n_q       <= lo_of(r_ct_q + {{(BW-LR-1){1'b0}}, ROWS[LR:0]});
                        hi_n_q       <= hi_of(r_ct_q + {{(BW-LR-1){1'b0}}, ROWS[LR:0]}, wc_q);
                        ocl_q      <= ocl_q - ROWS16;
                        ocl_n_q      <= cl_of(ocl_q - ROWS16);
                        out_q      <= tile_out_q + m_inc;
                        img_out_q  <= tile_out_q + m_inc;
                        tile_out_q <= tile_out_q + m_inc;
                    end else begin
                        run_q <= 1'b0;
                    end
                end
            end
        end
    end
    assign act_re = c_re;
    assign act_ra = c_ra;

    // ---- the output word ----
    reg               we_q;
    reg  [ACT_AW-1:0] wa_q;
    reg  [ROWS*8-1:0] wd_q;
    genvar g;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_lane
            wire [LR:0] idx  = {1'b0, sh} + g[LR:0];
            wire        in_c = (g[LR:0] < ocl_n_q);
            wire        in_r = (g[LR:0] >= lo_n_q) && (g[LR:0] < hi_n_q);
            always @(posedge clk)
                if (make) wd_q[8*g +: 8] <= !in_c ? 8'd0 : !in_r ? c_zp_in : win[8*idx +: 8];
        end
    endgenerate
    always @(posedge clk) begin
        if (rst) we_q <= 1'b0;
        else     we_q <= make;
        if (make) wa_q <= out_q;
    end
    assign act_we = we_q;
    assign act_wa = wa_q;
    assign act_wd = wd_q;

    // ---- busy / done ----
    wire drained = !run_q && !setup_q && c_idle && !we_q;
    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0;
            done <= 1'b0;
        end else begin
            done <= 1'b0;
            if (start && !busy) begin
                busy <= 1'b1;
            end else if (busy && drained) begin
                busy <= 1'b0;
                done <= 1'b1;
            end
        end
    end
endmodule

`default_nettype wire
