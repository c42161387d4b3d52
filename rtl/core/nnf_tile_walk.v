// nnf_tile_walk: walks the tiles of one GEMM command in the engine's order
//
//     for nt (N tiles of COLS) / for m block (ACC_DEPTH rows) / for kt (K tiles of ROWS)
//
// and keeps, without multipliers, the counts and the W offset each consumer
// needs. The weight loader and the activation streamer each own one instance
// and advance it independently (the loader runs ahead by at most one tile).
// A CONV's K tiles are its taps times its channel tiles, channel tiles
// fastest (docs/conv.md): the valid lanes of a tile count down k (Cin) over
// the ct_n channel tiles of a tap and start again at the next tap; a GEMM is
// ct_n = kt_n. (The ACT addresses are nnf_pix_walk's.)
`default_nettype none

module nnf_tile_walk #(
    parameter integer ROWS      = 8,
    parameter integer COLS      = 8,
    parameter integer ACC_DEPTH = 256,
    parameter integer W_W       = 32,     // width of w_ofs (W address)
    parameter integer HOLD      = 0       // 1: m, k and kt_n are held from start to done
                                          // (not latched here)
) (
    input  wire        clk,
    input  wire        start,       // load a new command (m, k, n, kt_n valid)
    input  wire [15:0] m,
    input  wire [15:0] k,
    input  wire [15:0] n,
    input  wire [15:0] kt_n,        // number of K tiles: GEMM max(1, ceil(k / ROWS)), CONV KH*KW*ct_n
    input  wire [15:0] ct_n,        // K tiles per tap: GEMM kt_n, CONV max(1, ceil(k / ROWS))
    input  wire        adv,         // current tile consumed: move to the next
    output reg         done,        // no tile left
    output wire        kt_first,    // current tile is the first K tile
    output wire        kt_last,     // current tile is the last K tile
    output wire        nt_head,     // first tile of an N tile other than the first
    output wire [$clog2(ROWS):0]      k_lanes,  // valid activation lanes, 0..ROWS
    output wire [$clog2(COLS):0]      n_lanes,  // valid output lanes, 1..COLS
    output wire [$clog2(ACC_DEPTH):0] m_len,    // rows in this m block, 1..ACC_DEPTH
    output reg  [$clog2(ACC_DEPTH):0] m_last,   // m_len - 1, registered
    output reg  [15:0] m_row0,      // first row of this m block
    output reg  [W_W-1:0] w_ofs,    // (nt * kt_n + kt) * ROWS  (mod 2^W_W)
    output wire [15:0] ct_m1        // ct_n - 1, registered at start (valid from the next cycle)
);
    localparam integer KL_W = $clog2(ROWS) + 1;
    localparam integer NL_W = $clog2(COLS) + 1;
    localparam integer ML_W = $clog2(ACC_DEPTH) + 1;

    reg [15:0] kt_q;        // current K tile index
    reg [15:0] ct_q;        // its channel tile: kt mod ct_n
    reg [16:0] krem_q;      // k - ct*ROWS   (>= 0)
    reg [16:0] mrem_q;      // m - m_row0    (>= 1)
    reg [16:0] nrem_q;      // n - nt*COLS   (>= 1)
    reg [W_W-1:0] w_nt_q;   // nt * kt_n * ROWS
    reg        nt0_q;       // in the first N tile

    localparam [16:0] ROWS17 = ROWS[16:0];
    localparam [16:0] COLS17 = COLS[16:0];
    localparam [16:0] ACC17  = ACC_DEPTH[16:0];

    // The command's sizes, latched at start: after it, nothing here depends
    // on the input ports (which may change, and whose logic is then off
    // every path through this module). HOLD: the ports hold m, k and kt_n
    // (nnf_gemm CMD_REGS = 0), so only the two differences are latched.
    reg  [15:0]    ktl_q, ctl_q;             // kt_n - 1, ct_n - 1
    wire [15:0]    m_q, k_q;                 // m, k
    wire [W_W-1:0] w_tile_q;                 // kt_n * ROWS
    /* verilator lint_off UNUSEDSIGNAL */
    wire [W_W+15:0] w_tile_full = {{W_W{1'b0}}, kt_n} << $clog2(ROWS);
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (HOLD != 0) begin : g_hold
            assign m_q      = m;
            assign k_q      = k;
            assign w_tile_q = w_tile_full[W_W-1:0];
        end else begin : g_latch
            reg [15:0]    m_l_q, k_l_q;
            reg [W_W-1:0] w_tile_l_q;
            always @(posedge clk) if (start) begin
                m_l_q      <= m;
                k_l_q      <= k;
                w_tile_l_q <= w_tile_full[W_W-1:0];
            end
            assign m_q      = m_l_q;
            assign k_q      = k_l_q;
            assign w_tile_q = w_tile_l_q;
        end
    endgenerate
    localparam [W_W-1:0] ROWS_W = ROWS[W_W-1:0];

    assign ct_m1    = ctl_q;
    assign kt_first = (kt_q == 16'd0);
    assign kt_last  = (kt_q == ktl_q);
    assign nt_head  = kt_first && (m_row0 == 16'd0) && !nt0_q;
    // x >= 2^s, for the power-of-two sizes: a test of the high bits (a
    // compare would be a carry chain on an iCE40)
    function ge_pow2(input [16:0] x, input integer sh);
        ge_pow2 = (x >> sh) != 17'd0;
    endfunction
    function gt_pow2(input [16:0] x, input integer sh);   // x > 2^s
        gt_pow2 = ((x >> sh) != 17'd0) && (x != (17'd1 << sh));
    endfunction
    assign k_lanes  = ge_pow2(krem_q, KL_W - 1) ? ROWS[KL_W-1:0]      : krem_q[KL_W-1:0];
    assign n_lanes  = ge_pow2(nrem_q, NL_W - 1) ? COLS[NL_W-1:0]      : nrem_q[NL_W-1:0];
    assign m_len    = ge_pow2(mrem_q, ML_W - 1) ? ACC_DEPTH[ML_W-1:0] : mrem_q[ML_W-1:0];

    // m_len - 1 of a block that starts with `rem` rows left
    function [ML_W-1:0] last_of(input [16:0] rem);
        last_of = ge_pow2(rem, ML_W - 1) ? ACC_DEPTH[ML_W-1:0] - 1'b1 : rem[ML_W-1:0] - 1'b1;
    endfunction

    always @(posedge clk) begin
        if (start) begin
            ktl_q  <= kt_n - 16'd1;
            ctl_q  <= ct_n - 16'd1;
            done   <= (m == 16'd0) || (n == 16'd0);
            m_last <= last_of({1'b0, m});
            kt_q   <= 16'd0;
            ct_q   <= 16'd0;
            krem_q <= {1'b0, k};
            mrem_q <= {1'b0, m};
            nrem_q <= {1'b0, n};
            m_row0 <= 16'd0;
            w_ofs  <= {W_W{1'b0}};
            w_nt_q <= {W_W{1'b0}};
            nt0_q  <= 1'b1;
        end else if (adv && !done) begin
            if (!kt_last) begin
                kt_q   <= kt_q + 16'd1;
                if (ct_q == ctl_q) begin           // the next tap's first channel tile
                    ct_q   <= 16'd0;
                    krem_q <= {1'b0, k_q};
                end else begin
                    ct_q   <= ct_q + 16'd1;
                    krem_q <= krem_q - ROWS17;
                end
                w_ofs  <= w_ofs + ROWS_W;
            end else begin
                kt_q   <= 16'd0;
                ct_q   <= 16'd0;
                krem_q <= {1'b0, k_q};
                if (gt_pow2(mrem_q, ML_W - 1)) begin      // next m block, same N tile
                    m_row0 <= m_row0 + ACC_DEPTH[15:0];
                    mrem_q <= mrem_q - ACC17;
                    m_last <= last_of(mrem_q - ACC17);
                    w_ofs  <= w_nt_q;
                end else if (gt_pow2(nrem_q, NL_W - 1)) begin // next N tile
                    m_row0 <= 16'd0;
                    mrem_q <= {1'b0, m_q};
                    m_last <= last_of({1'b0, m_q});
                    nrem_q <= nrem_q - COLS17;
                    w_nt_q <= w_nt_q + w_tile_q;
                    w_ofs  <= w_nt_q + w_tile_q;
                    nt0_q  <= 1'b0;
                end else begin
                    done <= 1'b1;
                end
            end
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md; tests/formal), proved by
    // k-induction for ROWS = COLS = ACC_DEPTH = 2 and any m, k, n in
    // 0..F_MAX, a GEMM (kt_n = ct_n) or a CONV of 2..4 taps (kt_n = taps *
    // ct_n), with any pattern of `adv`. On the ports:
    //   terminates  the walk issues exactly ceil(n / COLS) * ceil(m /
    //               ACC_DEPTH) * kt_n tiles (f_tiles counts the advances
    //               while not done): never more, and `done` exactly when all
    //               are issued; `done` stays until the next start;
    //   in bounds   every W offset (w_ofs + r, r < ROWS) is below
    //               ceil(n / COLS) * kt_n * ROWS, the weights' extent
    //               nnf_insn_check bounds a command by; a tile's valid lanes
    //               are those of its channel tile, k - ct * ROWS (at most
    //               ROWS). (The ACT addresses are nnf_pix_walk's.)
    // Inside (not under FORMAL_PORTS_ONLY, which a mutant run sets): ghost
    // counters f_mb / f_nt / f_tap number the m block, N tile and tap, and the
    // invariants state each running offset as the product it stands for
    // (the RTL keeps them by additions only).
    // ------------------------------------------------------------------
    localparam integer F_B   = 4;                  // bits of m, k, n here
    localparam integer F_MAX = (1 << F_B) - 1;
    localparam integer F_KB  = F_B + 2;            // bits of kt_n (up to 4 taps)
    localparam integer F_LR  = $clog2(ROWS);
    localparam integer F_LC  = $clog2(COLS);
    localparam integer F_LA  = $clog2(ACC_DEPTH);

    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(start);

    // commands as nnf_gemm issues them: ct_n = max(1, ceil(k / ROWS)), and
    // kt_n = ct_n (GEMM) or taps * ct_n, 2 <= taps <= 4 (CONV)
    wire [16:0] f_kround = ({1'b0, k} + ROWS17 - 17'd1) >> F_LR;
    always @(*) if (start) begin
        assume(m <= F_MAX && k <= F_MAX && n <= F_MAX);
        assume(ct_n == ((k == 16'd0) ? 16'd1 : f_kround[15:0]));
        assume(kt_n == ct_n || kt_n == {ct_n[14:0], 1'b0} || kt_n == ct_n + {ct_n[14:0], 1'b0}
               || kt_n == {ct_n[13:0], 2'b00});
    end

    // the command as the ports gave it, and the tiles issued since
    reg  [15:0] f_m, f_n, f_ktn, f_tiles;
    always @(posedge clk) begin
        if (start) begin
            f_m <= m; f_n <= n; f_ktn <= kt_n; f_tiles <= 16'd0;
        end else if (adv && !done) begin
            f_tiles <= f_tiles + 16'd1;
        end
    end
    wire [15:0]      f_nts = (f_n + COLS[15:0] - 16'd1) >> F_LC;       // ceil(n / COLS)
    wire [15:0]      f_mbs = (f_m + ACC_DEPTH[15:0] - 16'd1) >> F_LA;  // ceil(m / ACC_DEPTH)
    wire [F_B+F_KB-1:0]   f_nts_ktn = f_nts[F_B-1:0] * f_ktn[F_KB-1:0];
    wire [2*F_B+F_KB-1:0] f_total   = f_nts_ktn * f_mbs[F_B-1:0];    // tiles of the command
    wire [31:0]      f_w_end   = {{(32-W_W){1'b0}}, w_ofs} + ROWS;

    always @(*) if (f_past_valid) begin
        assert(f_m <= F_MAX && f_n <= F_MAX && f_ktn >= 16'd1 && f_ktn <= 4 * ((F_MAX + ROWS - 1) / ROWS));
        assert(f_tiles <= f_total);
        assert(done == (f_tiles == f_total));
        if (!done) begin
            assert(f_w_end <= {{(32-F_B-F_KB-F_LR){1'b0}}, f_nts_ktn, {F_LR{1'b0}}});
            assert(k_lanes <= ROWS && n_lanes >= 1 && m_len >= 1);
            assert(m_last == m_len - 1'b1);
        end
    end
    reg f_done_q = 1'b0;
    always @(posedge clk) f_done_q <= !start && done;
    always @(*) if (f_past_valid && f_done_q) assert(done);

`ifndef FORMAL_PORTS_ONLY
    reg  [15:0] f_mb, f_nt, f_tap;
    always @(posedge clk) begin
        if (start) begin
            f_mb <= 16'd0; f_nt <= 16'd0; f_tap <= 16'd0;
        end else if (adv && !done && !kt_last && ct_q == ctl_q) begin
            f_tap <= f_tap + 16'd1;
        end else if (adv && !done && kt_last) begin
            f_tap <= 16'd0;
            if (mrem_q > ACC17)       f_mb <= f_mb + 16'd1;
            else if (nrem_q > COLS17) begin
                f_mb <= 16'd0;
                f_nt <= f_nt + 16'd1;
            end
        end
    end
    wire [F_B+F_KB-1:0]   f_nt_ktn = f_nt[F_B-1:0] * f_ktn[F_KB-1:0];  // nt * kt_n
    wire [2*F_B+F_KB-1:0] f_before = (f_nt[F_B-1:0] * f_mbs[F_B-1:0] + {{F_B{1'b0}}, f_mb[F_B-1:0]})
                                   * f_ktn[F_KB-1:0];                 // tiles before this m block
    wire [F_KB+1:0]       f_kt_tap = f_tap[2:0] * ({2'b00, ctl_q[F_B-1:0]} + 1'b1) + {3'b000, ct_q[F_B-1:0]};
    always @(*) if (f_past_valid) begin
        assert(m_q == f_m && k_q <= F_MAX);
        assert(ctl_q + 16'd1 == ((k_q == 16'd0) ? 16'd1 : (({1'b0, k_q} + ROWS17 - 17'd1) >> F_LR)));
        assert(f_ktn == ctl_q + 16'd1 || f_ktn == 2 * (ctl_q + 16'd1) || f_ktn == 3 * (ctl_q + 16'd1)
               || f_ktn == 4 * (ctl_q + 16'd1));
        assert(ktl_q == f_ktn - 16'd1);
        assert(w_tile_q == {{(W_W-16){1'b0}}, f_ktn} << F_LR);
        assert(kt_q <= ktl_q);
        assert(ct_q <= ctl_q && f_tap <= 16'd3);
        assert({{(16-F_KB-2){1'b0}}, f_kt_tap} == kt_q);
        assert(krem_q == {1'b0, k_q} - ({1'b0, ct_q} << F_LR));
        assert(m_row0 == f_mb << F_LA);
        assert(mrem_q == {1'b0, m_q} - ({1'b0, f_mb} << F_LA));
        assert(nrem_q == {1'b0, f_n} - ({1'b0, f_nt} << F_LC));
        assert(f_mb <= F_MAX && f_nt <= F_MAX);
        if (!done) begin
            assert(m_row0 < m_q && (f_nt << F_LC) < f_n);
            assert(f_tiles == {{(16-2*F_B-F_KB){1'b0}}, f_before} + kt_q);
            assert(w_nt_q == {{(W_W-F_B-F_KB-F_LR){1'b0}}, f_nt_ktn, {F_LR{1'b0}}});
            assert(w_ofs == w_nt_q + ({{(W_W-16){1'b0}}, kt_q} << F_LR));
        end
    end
`endif
`endif
endmodule

`default_nettype wire
