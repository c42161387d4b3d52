// nnf_gemm: the GEMM engine. One command computes an int8 layer
//
//     Y[m][n] = f(requantize(bias[n] + sum_k A[m][k] * W[k][n]))
//
// on the engine's own buffers (activations, weights, per-channel parameters,
// activation LUT). docs/engine.md is the specification: buffer layouts, host
// port, command port, counters. The functional model nnfm_engine_gemm
// (sim/model/nnfm_engine.c) defines the same behaviour without cycles.
//
// Pipeline (cycle numbers relative to a row's ACT read issue, s):
//   s          streamer issues the ACT read of one row of one tile
//   s+1        ACT data arrives; masked lanes forced to zero, registered
//   s+2        row enters the systolic array (the weight rows likewise one
//              cycle after their W read: no block RAM drives a PE directly)
//   s+1+LAT    de-skewed column sums ("X"): add to the accumulator or the bias
//   X+1..X+5   vector stage (nnf_requant) on the last K tile
//   X+6        LUT read
//   X+7        int8 output row written to ACT
// The weight loader fills the idle bank of the array one row per cycle while
// the streamer streams the other; each bank is reused only after the last
// activation that used it has left the array.
`default_nettype none

module nnf_gemm #(
    parameter integer ROWS      = 8,
    parameter integer COLS      = 8,
    parameter integer ACT_WORDS = 32768,
    parameter integer W_WORDS   = 16384,
    parameter integer P_WORDS   = 64,
    parameter integer ACC_DEPTH = 256,
    parameter integer VEC_SERIAL = 0,   // 1: one shared requantizer (small parts)
    parameter integer PE_DSP    = 1,    // 0: PE multipliers in LUTs, not DSPs
    parameter integer CNT_W     = 64    // counter bits (8..64; the ports read the rest as 0)
) (
    input  wire        clk,
    input  wire        rst,            // synchronous, active high

    // command port
    input  wire        cmd_valid,
    output wire        cmd_ready,
    input  wire [15:0] cmd_m,
    input  wire [15:0] cmd_k,
    input  wire [15:0] cmd_n,
    input  wire [31:0] cmd_a_base,
    input  wire [31:0] cmd_w_base,
    input  wire [31:0] cmd_p_base,
    input  wire [31:0] cmd_o_base,
    input  wire [7:0]  cmd_zp,
    input  wire [7:0]  cmd_lo,
    input  wire [7:0]  cmd_hi,
    input  wire        cmd_lut,
    output reg         busy,
    output reg         done,
    input  wire        cmd_abort,      // pulse: stop issuing rows, drain, end (bounded)

    // parameter check (while idle): every used lane's (m0, shift) of the
    // command's P entries p_base .. p_base + ceil(n/COLS) - 1 is valid
    // (nnfm_requant_params_valid); cmd_p_base and cmd_n held until chk_done
    input  wire        chk_start,      // pulse, n >= 1, P range already checked
    output reg         chk_done,       // pulse, with chk_ok
    output reg         chk_ok,

    // host port (byte-wide buffer access while idle)
    input  wire        hp_we,
    input  wire        hp_re,
    input  wire [1:0]  hp_sel,         // 0 ACT, 1 W, 2 P, 3 LUT
    input  wire [31:0] hp_addr,
    input  wire [7:0]  hp_wdata,
    output wire [7:0]  hp_rdata,
    output wire        hp_wait,        // ACT write not taken this cycle (busy, or lp_we)

    // word-wide ACT port for the LIF core, while idle (lp_we has priority
    // over a host ACT write, which then waits)
    input  wire        lp_re,
    input  wire [31:0] lp_ra,          // ACT word
    output wire [ROWS*8-1:0] lp_rd,    // the cycle after lp_re, held until the next ACT read
    input  wire        lp_we,
    input  wire [31:0] lp_wa,
    input  wire [ROWS*8-1:0] lp_wd,

    // counters
    input  wire        cnt_clear,      // zero the counters (like rst, counters only)
    output wire [63:0] cnt_cycles,
    output wire [63:0] cnt_busy,
    output wire [63:0] cnt_macs
);
    // ------------------------------------------------------------------
    // Parameters and their checks
    // ------------------------------------------------------------------
    localparam integer LOG_R  = $clog2(ROWS);
    localparam integer LOG_C  = $clog2(COLS);
    localparam integer ACT_AW = $clog2(ACT_WORDS);
    localparam integer W_AW   = $clog2(W_WORDS);
    localparam integer P_AW   = $clog2(P_WORDS);
    localparam integer ACC_AW = $clog2(ACC_DEPTH);
    localparam integer PSUM_W = 17 + LOG_R;        // |sum of ROWS int8 products| <= ROWS * 2^14
    localparam integer LAT    = ROWS + COLS;       // input register + array latency
    localparam integer VLAT   = 7;                 // X -> ACT write
    localparam integer KL_W   = LOG_R + 1;
    localparam integer NL_W   = LOG_C + 1;
    localparam integer ML_W   = ACC_AW + 1;

    generate
        if (ROWS < 2 || ROWS > 64 || (1 << LOG_R) != ROWS) begin : g_bad_rows
            nnf_gemm_bad_parameter_ROWS_must_be_a_power_of_two_2_to_64 u_bad();
        end
        if (COLS != ROWS) begin : g_bad_cols
            nnf_gemm_bad_parameter_COLS_must_equal_ROWS u_bad();
        end
        if (ACT_WORDS < 2 || (1 << ACT_AW) != ACT_WORDS || ACT_AW > 24) begin : g_bad_act
            nnf_gemm_bad_parameter_ACT_WORDS_must_be_a_power_of_two_2_to_2e24 u_bad();
        end
        if (W_WORDS < 2 || (1 << W_AW) != W_WORDS || W_AW > 24) begin : g_bad_w
            nnf_gemm_bad_parameter_W_WORDS_must_be_a_power_of_two_2_to_2e24 u_bad();
        end
        if (P_WORDS < 2 || (1 << P_AW) != P_WORDS || P_AW > 16) begin : g_bad_p
            nnf_gemm_bad_parameter_P_WORDS_must_be_a_power_of_two_2_to_65536 u_bad();
        end
        if (ACC_DEPTH < 2 || (1 << ACC_AW) != ACC_DEPTH || ACC_AW > 15) begin : g_bad_acc
            nnf_gemm_bad_parameter_ACC_DEPTH_must_be_a_power_of_two_2_to_32768 u_bad();
        end
    endgenerate

    // ------------------------------------------------------------------
    // Command registers
    // ------------------------------------------------------------------
    reg  [15:0]       c_m;
    reg  [ACT_AW-1:0] c_a_base;
    reg  [W_AW-1:0]   c_w_base;
    reg  [7:0]        c_zp, c_lo, c_hi;
    reg               c_lut;

    wire        accept = cmd_valid && cmd_ready;
    // K tiles: max(1, ceil(K / ROWS))
    wire [22:0] k_round = {7'd0, cmd_k} + (ROWS[22:0] - 23'd1);
    wire [15:0] k_tiles = (cmd_k == 16'd0) ? 16'd1 : k_round[LOG_R +: 16];

    assign cmd_ready = !busy && !rst;

    always @(posedge clk) begin
        if (accept) begin
            c_m      <= cmd_m;
            c_a_base <= cmd_a_base[ACT_AW-1:0];
            c_w_base <= cmd_w_base[W_AW-1:0];
            c_zp     <= cmd_zp;
            c_lo     <= cmd_lo;
            c_hi     <= cmd_hi;
            c_lut    <= cmd_lut;
        end
    end

    // ------------------------------------------------------------------
    // Tile walkers: one for the weight loader, one for the streamer. Each
    // latches the command's sizes when it starts (the port may change while
    // the engine is busy).
    // ------------------------------------------------------------------
    wire [15:0] w_m  = cmd_m;
    wire [15:0] w_k  = cmd_k;
    wire [15:0] w_n  = cmd_n;
    wire [15:0] w_kt = k_tiles;
    wire            lw_done, lw_first, lw_last, lw_nth;
    wire [KL_W-1:0] lw_kl;
    wire [NL_W-1:0] lw_nl;
    wire [ML_W-1:0] lw_mlen, lw_mlast;
    wire [15:0]     lw_mrow0;
    wire [ACT_AW-1:0] lw_kofs;
    wire [W_AW-1:0]   lw_wofs;
    wire            lw_adv;

    wire            sw_done, sw_first, sw_last, sw_nth;
    wire [KL_W-1:0] sw_kl;
    wire [NL_W-1:0] sw_nl;
    wire [ML_W-1:0] sw_mlen, sw_mlast;
    wire [15:0]     sw_mrow0;
    wire [ACT_AW-1:0] sw_kofs;
    wire [W_AW-1:0]   sw_wofs;
    wire            sw_adv;

    nnf_tile_walk #(.ROWS(ROWS), .COLS(COLS), .ACC_DEPTH(ACC_DEPTH), .A_W(ACT_AW), .W_W(W_AW)) u_lwalk (
        .clk(clk), .start(accept), .m(w_m), .k(w_k), .n(w_n), .kt_n(w_kt),
        .adv(lw_adv), .done(lw_done), .kt_first(lw_first), .kt_last(lw_last),
        .nt_head(lw_nth), .k_lanes(lw_kl), .n_lanes(lw_nl), .m_len(lw_mlen), .m_last(lw_mlast),
        .m_row0(lw_mrow0), .k_ofs(lw_kofs), .w_ofs(lw_wofs));

    nnf_tile_walk #(.ROWS(ROWS), .COLS(COLS), .ACC_DEPTH(ACC_DEPTH), .A_W(ACT_AW), .W_W(W_AW)) u_swalk (
        .clk(clk), .start(accept), .m(w_m), .k(w_k), .n(w_n), .kt_n(w_kt),
        .adv(sw_adv), .done(sw_done), .kt_first(sw_first), .kt_last(sw_last),
        .nt_head(sw_nth), .k_lanes(sw_kl), .n_lanes(sw_nl), .m_len(sw_mlen), .m_last(sw_mlast),
        .m_row0(sw_mrow0), .k_ofs(sw_kofs), .w_ofs(sw_wofs));

    // ------------------------------------------------------------------
    // Weight banks: busy from the start of a load until the last activation
    // that used the bank has left the array; ready from the end of a load
    // until the streamer starts the tile.
    // ------------------------------------------------------------------
    reg  [1:0]       bank_busy, bank_ready, bank_drain;
    reg  [LOG_C+1:0] drain_cnt0, drain_cnt1;

    reg  [LOG_R-1:0] ld_row;
    reg              ld_bank;
    reg  [15:0]      st_m;          // row within the m block
    reg              st_bank;

    // Abort: no row is issued after the cycle abort arrives; the rows in
    // flight finish (their outputs are written) and busy drops.
    reg  ab_q;
    wire ld_go  = busy && !ab_q && !lw_done && ((ld_row != {LOG_R{1'b0}}) || !bank_busy[ld_bank]);
    wire ld_end = ld_go && (ld_row == ROWS[LOG_R-1:0] - 1'b1);
    // With VEC_SERIAL, rows of a last K tile leave COLS cycles between them.
    reg  [LOG_C-1:0] thr_cnt;
    wire thr_ok = (VEC_SERIAL == 0) || (thr_cnt == {LOG_C{1'b0}});
    wire st_go  = busy && !ab_q && !sw_done && thr_ok && ((st_m != 16'd0) || bank_ready[st_bank]);
    wire st_end = st_go && (st_m == {{(16-ML_W){1'b0}}, sw_mlast});

    assign lw_adv = ld_end;
    assign sw_adv = st_end;

    localparam [LOG_C+1:0] DRAIN = COLS[LOG_C+1:0];

    integer b;
    always @(posedge clk) begin
        if (rst || accept) begin
            bank_busy  <= 2'b00;
            bank_ready <= 2'b00;
            bank_drain <= 2'b00;
            drain_cnt0 <= {(LOG_C+2){1'b0}};
            drain_cnt1 <= {(LOG_C+2){1'b0}};
            ld_row     <= {LOG_R{1'b0}};
            ld_bank    <= 1'b0;
            st_m       <= 16'd0;
            st_bank    <= 1'b0;
            thr_cnt    <= {LOG_C{1'b0}};
        end else begin
            if (st_go && sw_last) thr_cnt <= COLS[LOG_C-1:0] - 1'b1;
            else if (thr_cnt != {LOG_C{1'b0}}) thr_cnt <= thr_cnt - 1'b1;
            if (ld_go) ld_row <= ld_end ? {LOG_R{1'b0}} : ld_row + 1'b1;
            if (ld_end) ld_bank <= !ld_bank;
            if (st_go) st_m <= st_end ? 16'd0 : st_m + 16'd1;
            if (st_end) st_bank <= !st_bank;

            for (b = 0; b < 2; b = b + 1) begin
                if (ld_go && ld_row == {LOG_R{1'b0}} && ld_bank == b[0]) bank_busy[b] <= 1'b1;
                if (ld_end && ld_bank == b[0])                          bank_ready[b] <= 1'b1;
                if (st_go && st_m == 16'd0 && st_bank == b[0])          bank_ready[b] <= 1'b0;
                if (st_end && st_bank == b[0])                          bank_drain[b] <= 1'b1;
            end
            if (st_end && !st_bank) drain_cnt0 <= DRAIN;
            else if (bank_drain[0]) begin
                if (drain_cnt0 == 0) begin bank_drain[0] <= 1'b0; bank_busy[0] <= 1'b0; end
                else drain_cnt0 <= drain_cnt0 - 1'b1;
            end
            if (st_end && st_bank) drain_cnt1 <= DRAIN;
            else if (bank_drain[1]) begin
                if (drain_cnt1 == 0) begin bank_drain[1] <= 1'b0; bank_busy[1] <= 1'b0; end
                else drain_cnt1 <= drain_cnt1 - 1'b1;
            end
        end
    end

    // ------------------------------------------------------------------
    // Buffers: ACT (activations in and out), W (weights)
    // ------------------------------------------------------------------
    wire [ROWS*8-1:0] act_rd;
    wire [COLS*8-1:0] w_rd;

    wire              hp_act = (hp_sel == 2'd0) && !busy;
    // ACT writes from the host are also taken while busy, in the cycles the
    // output writer leaves free; hp_wait asks the host to hold the write.
    wire              lp_w  = lp_we && !busy;
    wire              lp_r  = lp_re && !busy;
    wire              hp_actw = hp_we && (hp_sel == 2'd0) && !(busy && o_we) && !lp_w;
    assign hp_wait = hp_we && (hp_sel == 2'd0) && ((busy && o_we) || lp_w);
    wire              hp_w   = (hp_sel == 2'd1) && !busy;
    wire              hp_p   = (hp_sel == 2'd2) && !busy;
    wire              hp_lut = (hp_sel == 2'd3) && !busy;

    // Output row write (from the vector stage), see below.
    wire              o_we;
    reg  [ACT_AW-1:0] o_ptr;
    wire [COLS*8-1:0] o_data;

    wire [LOG_R-1:0]  hp_abyte = hp_addr[LOG_R-1:0];
    wire [LOG_C-1:0]  hp_wbyte = hp_addr[LOG_C-1:0];

    wire [ACT_AW-1:0] st_addr = c_a_base + sw_kofs
                              + sw_mrow0[ACT_AW-1:0] + st_m[ACT_AW-1:0];

    genvar g;
    wire [ROWS-1:0] act_we;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_act_we
            assign act_we[g] = (busy && o_we) || lp_w || (hp_actw && hp_abyte == g);
        end
    endgenerate

    nnf_ram #(.AW(ACT_AW), .NB(ROWS)) u_act (
        .clk(clk),
        .we(act_we),
        .wa((busy && o_we) ? o_ptr : lp_w ? lp_wa[ACT_AW-1:0] : hp_addr[LOG_R +: ACT_AW]),
        .wd((busy && o_we) ? o_data : lp_w ? lp_wd : {ROWS{hp_wdata}}),
        .re(busy ? st_go : (lp_r || (hp_re && hp_act))),
        .ra(busy ? st_addr : lp_r ? lp_ra[ACT_AW-1:0] : hp_addr[LOG_R +: ACT_AW]),
        .rd(act_rd));
    assign lp_rd = act_rd;

    wire [COLS-1:0] w_we;
    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_w_we
            assign w_we[g] = hp_we && hp_w && hp_wbyte == g;
        end
    endgenerate

    wire [W_AW-1:0] ld_addr = c_w_base + lw_wofs + {{(W_AW-LOG_R){1'b0}}, ld_row};

    nnf_ram #(.AW(W_AW), .NB(COLS)) u_w (
        .clk(clk),
        .we(w_we),
        .wa(hp_addr[LOG_C +: W_AW]),
        .wd({COLS{hp_wdata}}),
        .re(busy ? ld_go : (hp_re && hp_w)),
        .ra(busy ? ld_addr : hp_addr[LOG_C +: W_AW]),
        .rd(w_rd));

    // ------------------------------------------------------------------
    // Weight load into the array: W data arrives the cycle after the read;
    // rows beyond K and columns beyond N are loaded as zero.
    // ------------------------------------------------------------------
    reg              wl_v_q;
    reg [LOG_R-1:0]  wl_row_q;
    reg              wl_bank_q;
    reg              wl_kok_q;
    reg [NL_W-1:0]   wl_nl_q;

    always @(posedge clk) begin
        wl_v_q    <= ld_go && !rst;
        wl_row_q  <= ld_row;
        wl_bank_q <= ld_bank;
        wl_kok_q  <= {{(16-LOG_R){1'b0}}, ld_row} < {{(16-KL_W){1'b0}}, lw_kl};
        wl_nl_q   <= lw_nl;
    end

    wire [COLS*8-1:0] wl_data;
    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_wl
            assign wl_data[8*g +: 8] = (wl_kok_q && g < wl_nl_q) ? w_rd[8*g +: 8] : 8'd0;
        end
    endgenerate

    // ------------------------------------------------------------------
    // Streamer stage 0 (ACT data arrives): lane mask, bank, tags
    // ------------------------------------------------------------------
    reg              s0_v_q;
    reg              s0_bank_q;
    reg [KL_W-1:0]   s0_kl_q;

    // Tag delay line to the accumulator: {valid, first, last, row0, nt_head}.
    localparam integer TAG_W = 5;
    reg [TAG_W-1:0] tag_q [0:LAT];

    always @(posedge clk) begin
        s0_v_q    <= st_go && !rst;
        s0_bank_q <= st_bank;
        s0_kl_q   <= sw_kl;
    end

    integer t;
    always @(posedge clk) begin
        if (rst) begin
            for (t = 0; t <= LAT; t = t + 1) tag_q[t] <= {TAG_W{1'b0}};
        end else begin
            tag_q[0] <= {st_go, sw_first, sw_last, st_m == 16'd0, sw_nth && st_m == 16'd0};
            for (t = 1; t <= LAT; t = t + 1) tag_q[t] <= tag_q[t-1];
        end
    end

    wire [ROWS*8-1:0] a_row;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_amask
            assign a_row[8*g +: 8] = (s0_v_q && g < s0_kl_q) ? act_rd[8*g +: 8] : 8'd0;
        end
    endgenerate

    // ------------------------------------------------------------------
    // The systolic array
    // ------------------------------------------------------------------
    wire [COLS*PSUM_W-1:0] sum_row;

    // Array input registers: activations and weight rows alike, so every
    // timing relation between them is as if the array were fed directly.
    reg [ROWS*8-1:0] ar_a;
    reg              ar_bank;
    reg              ar_wl_en, ar_wl_bank;
    reg [LOG_R-1:0]  ar_wl_row;
    reg [COLS*8-1:0] ar_wl_data;
    always @(posedge clk) begin
        ar_a       <= a_row;
        ar_bank    <= s0_bank_q;
        ar_wl_en   <= wl_v_q && !rst;
        ar_wl_row  <= wl_row_q;
        ar_wl_bank <= wl_bank_q;
        ar_wl_data <= wl_data;
    end

    nnf_systolic #(.ROWS(ROWS), .COLS(COLS), .PSUM_W(PSUM_W), .ROW_W(LOG_R), .MUL_DSP(PE_DSP)) u_array (
        .clk(clk), .a_row(ar_a), .a_bank(ar_bank),
        .wl_en(ar_wl_en), .wl_row(ar_wl_row), .wl_bank(ar_wl_bank), .wl_data(ar_wl_data),
        .sum_row(sum_row));

    // ------------------------------------------------------------------
    // Accumulate (X-1: read accumulator and parameters; X: add)
    // ------------------------------------------------------------------
    wire [TAG_W-1:0] tp = tag_q[LAT-1];      // row at X-1
    wire [TAG_W-1:0] tx = tag_q[LAT];        // row at X
    wire tp_v = tp[4], tp_row0 = tp[1], tp_nth = tp[0];
    wire tx_v = tx[4], tx_first = tx[3], tx_last = tx[2];

    reg  [ACC_AW-1:0] acc_ctr;               // next row within the tile
    reg  [ACC_AW-1:0] x_ra;                  // accumulator address of the row at X
    reg  [P_AW-1:0]   p_ptr;                 // parameter entry of the current N tile
    wire [ACC_AW-1:0] acc_ra = tp_row0 ? {ACC_AW{1'b0}} : acc_ctr;
    wire [P_AW-1:0]   p_ra   = tp_nth ? p_ptr + 1'b1 : p_ptr;

    always @(posedge clk) begin
        if (accept) begin
            p_ptr <= cmd_p_base[P_AW-1:0];
        end else if (tp_v) begin
            acc_ctr <= acc_ra + 1'b1;
            p_ptr   <= p_ra;
        end
        x_ra <= acc_ra;
    end

    // One-deep write forwarding: the row at X reads the word the row at X-1
    // is writing (the RAM's read in X-1 saw the old value). Whether it does
    // is known in X-1 (the row at X-1 writes x_ra; the row at X reads
    // acc_ra), so the hit is registered and only a mux select in X.
    wire              acc_we  = tx_v && !tx_last;
    reg               fwd_hit;
    always @(posedge clk) fwd_hit <= acc_we && !rst && (x_ra == acc_ra);

    // The parameter check's P reads (see "Parameter check" below).
    reg               chk_rd;        // reading entry chk_ptr this cycle
    reg  [P_AW-1:0]   chk_ptr;

    // Host access to P: byte address ((entry * COLS + lane) * 16 + b).
    wire [3:0]       hp_pb    = hp_addr[3:0];
    wire [LOG_C-1:0] hp_plane = hp_addr[4 +: LOG_C];
    wire [P_AW-1:0]  hp_pent  = hp_addr[4+LOG_C +: P_AW];

    // Per-lane values as arrays, so a lane chosen at run time is a mux (a
    // variable part-select of a flat vector becomes a wide shifter).
    wire [71:0] p_rd_arr    [0:COLS-1];
    wire [31:0] fin_acc_arr [0:COLS-1];   // final sums of the last row, per lane
    wire [30:0] fin_m0_arr  [0:COLS-1];
    wire [7:0]  fin_sh_arr  [0:COLS-1];
    wire               fin_load = tx_v && tx_last;

    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_lane
            // per-channel parameters: bias[31:0], m0[63:32], shift[71:64]
            wire [8:0]  p_we;
            wire [71:0] p_rd;
            genvar pb;
            for (pb = 0; pb < 9; pb = pb + 1) begin : g_pwe
                assign p_we[pb] = hp_we && hp_p && hp_plane == g && hp_pb == pb;
            end
            nnf_ram #(.AW(P_AW), .NB(9)) u_p (
                .clk(clk), .we(p_we), .wa(hp_pent), .wd({9{hp_wdata}}),
                .re(busy ? tp_v : (chk_rd || (hp_re && hp_p))),
                .ra(busy ? p_ra : chk_rd ? chk_ptr : hp_pent),
                .rd(p_rd));
            assign p_rd_arr[g] = p_rd;

            // accumulator
            wire [31:0] acc_rd;
            reg  [31:0] fwd_d;
            wire [PSUM_W-1:0] col = sum_row[PSUM_W*g +: PSUM_W];
            wire [31:0] init = tx_first ? p_rd[31:0] : (fwd_hit ? fwd_d : acc_rd);
            wire [31:0] sum  = init + {{(32-PSUM_W){col[PSUM_W-1]}}, col};
            nnf_ram #(.AW(ACC_AW), .NB(4)) u_acc (
                .clk(clk), .we({4{acc_we}}), .wa(x_ra), .wd(sum),
                .re(tp_v), .ra(acc_ra), .rd(acc_rd));
            always @(posedge clk) fwd_d <= sum;

            // final sum and its parameters, held for the vector stage
            reg [31:0] fin_acc;
            reg [30:0] fin_m0;
            reg [7:0]  fin_sh;
            always @(posedge clk) begin
                if (fin_load) begin
                    fin_acc <= sum;
                    fin_m0  <= p_rd[62:32];
                    fin_sh  <= p_rd[71:64];
                end
            end
            assign fin_acc_arr[g] = fin_acc;
            assign fin_m0_arr[g]  = fin_m0;
            assign fin_sh_arr[g]  = fin_sh;
        end
    endgenerate

    // ------------------------------------------------------------------
    // Parameter check: one P entry read per cycle, all lanes at once; a used
    // lane is bad when m0 < 0 (bit 63) or shift is outside -31..30.
    // ------------------------------------------------------------------
    // The range check (nnf_insn_check) has made sure the NT = ceil(n/COLS)
    // entries lie inside P, so NT - 1 < P_WORDS: a P_AW-bit count.
    reg  [P_AW-1:0]   chk_left;      // entries left after this one
    reg               chk_v_q;       // entry data on p_rd_arr this cycle
    reg               chk_last_q;
    reg  [NL_W-1:0]   chk_nl_q;      // used lanes of that entry
    reg  [NL_W-1:0]   chk_nl_last;   // used lanes of the last entry: ((n-1) % COLS) + 1
    reg               chk_bad;
    wire              chk_last = (chk_left == {P_AW{1'b0}});
    wire [31:0]       n_m1 = {16'd0, cmd_n} - 32'd1;   // cmd_n >= 1 here
    reg  [COLS-1:0]   lane_bad;
    integer           cl;
    always @(*) begin
        for (cl = 0; cl < COLS; cl = cl + 1)
            lane_bad[cl] = (cl < chk_nl_q) && (p_rd_arr[cl][63] ||
                           ($signed(p_rd_arr[cl][71:64]) < -8'sd31) ||
                           ($signed(p_rd_arr[cl][71:64]) > 8'sd30));
    end
    always @(posedge clk) begin
        chk_done <= 1'b0;
        chk_v_q  <= chk_rd;
        chk_last_q <= chk_last;
        chk_nl_q <= chk_last ? chk_nl_last : COLS[NL_W-1:0];
        if (rst) begin
            chk_rd  <= 1'b0;
            chk_v_q <= 1'b0;
            chk_ok  <= 1'b0;
        end else begin
            if (chk_start && !busy) begin
                chk_rd   <= 1'b1;
                chk_ptr  <= cmd_p_base[P_AW-1:0];
                chk_left <= n_m1[LOG_C +: P_AW];
                chk_nl_last <= {1'b0, n_m1[LOG_C-1:0]} + 1'b1;
                chk_bad  <= 1'b0;
            end else if (chk_rd) begin
                chk_ptr  <= chk_ptr + 1'b1;
                chk_left <= chk_left - 1'b1;
                if (chk_last) chk_rd <= 1'b0;
            end
            if (chk_v_q) begin
                chk_bad <= chk_bad || (lane_bad != {COLS{1'b0}});
                if (chk_last_q) begin
                    chk_done <= 1'b1;
                    chk_ok   <= !(chk_bad || (lane_bad != {COLS{1'b0}}));
                end
            end
        end
    end

    // ------------------------------------------------------------------
    // Vector stage: requantize + clamp (nnf_requant), then the LUT.
    //   VEC_SERIAL = 0: one nnf_requant and one LUT copy per lane; a row per
    //                   cycle; the row is written at X+7.
    //   VEC_SERIAL = 1: one shared nnf_requant and LUT visit the lanes in
    //                   turn; the streamer spaces last-K-tile rows COLS
    //                   cycles apart; the row is written at X+7+COLS.
    // ------------------------------------------------------------------
    wire [COLS*8-1:0] o_row;        // int8 results before the N mask
    wire              vec_idle;     // nothing in flight in the vector stage
    wire [7:0]        lut_host_rd;  // LUT copy 0, for host reads

    generate
        if (VEC_SERIAL == 0) begin : g_vec_par
            // vl_q[i] is valid at X+1+i; the write is at X+7.
            reg  [VLAT-1:0]   vl_q;
            wire [COLS*8-1:0] q_all;
            wire [COLS*8-1:0] lut_all;
            reg  [COLS*8-1:0] q_d;
            always @(posedge clk) begin
                if (rst) vl_q <= {VLAT{1'b0}};
                else     vl_q <= {vl_q[VLAT-2:0], fin_load};
                q_d <= q_all;
            end
            for (g = 0; g < COLS; g = g + 1) begin : g_vlane
                nnf_requant u_rq (
                    .clk(clk), .acc(fin_acc_arr[g]), .m0(fin_m0_arr[g]),
                    .shift(fin_sh_arr[g]), .zp(c_zp), .lo(c_lo), .hi(c_hi),
                    .q(q_all[8*g +: 8]));
                // activation LUT (one copy per lane, written together)
                nnf_ram #(.AW(8), .NB(1)) u_lut (
                    .clk(clk), .we(hp_we && hp_lut), .wa(hp_addr[7:0]), .wd(hp_wdata),
                    .re(busy ? 1'b1 : (hp_re && hp_lut)),
                    .ra(busy ? q_all[8*g +: 8] : hp_addr[7:0]),
                    .rd(lut_all[8*g +: 8]));
            end
            assign o_row       = c_lut ? lut_all : q_d;
            assign o_we        = vl_q[VLAT-1];
            assign vec_idle    = (vl_q == {VLAT{1'b0}});
            assign lut_host_rd = lut_all[7:0];
        end else begin : g_vec_ser
            // ser_lane: lane entering nnf_requant (COLS = idle).
            reg  [LOG_C:0]    ser_lane;
            // lane number and valid, delayed to the LUT output (6 cycles)
            reg  [LOG_C-1:0]  sl_q [0:5];
            reg  [5:0]        sv_q;
            reg  [COLS*8-1:0] row_q;
            reg               we_q;
            wire              ser_on = !ser_lane[LOG_C];
            wire [LOG_C-1:0]  lane   = ser_lane[LOG_C-1:0];
            wire [7:0]        q;
            wire [7:0]        lut_rd;
            reg  [7:0]        q_d;
            integer i;
            always @(posedge clk) begin
                if (rst) begin
                    ser_lane <= COLS[LOG_C:0];
                    sv_q     <= 6'd0;
                    we_q     <= 1'b0;
                end else begin
                    if (fin_load)    ser_lane <= {(LOG_C+1){1'b0}};
                    else if (ser_on) ser_lane <= ser_lane + 1'b1;
                    sv_q <= {sv_q[4:0], ser_on};
                    we_q <= sv_q[5] && (sl_q[5] == COLS[LOG_C-1:0] - 1'b1);
                end
                sl_q[0] <= lane;
                for (i = 1; i < 6; i = i + 1) sl_q[i] <= sl_q[i-1];
                q_d <= q;
                if (sv_q[5]) row_q[8*sl_q[5] +: 8] <= c_lut ? lut_rd : q_d;
            end
            nnf_requant u_rq (
                .clk(clk), .acc(fin_acc_arr[lane]), .m0(fin_m0_arr[lane]),
                .shift(fin_sh_arr[lane]), .zp(c_zp), .lo(c_lo), .hi(c_hi), .q(q));
            nnf_ram #(.AW(8), .NB(1)) u_lut (
                .clk(clk), .we(hp_we && hp_lut), .wa(hp_addr[7:0]), .wd(hp_wdata),
                .re(busy ? 1'b1 : (hp_re && hp_lut)),
                .ra(busy ? q : hp_addr[7:0]),
                .rd(lut_rd));
            assign o_row       = row_q;
            assign o_we        = we_q;
            assign vec_idle    = !ser_on && (sv_q == 6'd0) && !we_q;
            assign lut_host_rd = lut_rd;
        end
    endgenerate

    // ------------------------------------------------------------------
    // Output write: rows arrive in address order o_base, o_base+1, ...;
    // lanes beyond N are written as zero.
    // ------------------------------------------------------------------
    reg  [15:0] o_rows;      // rows written in this N tile
    reg  [16:0] o_nrem;      // N - nt * COLS

    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_out
            assign o_data[8*g +: 8] = (o_nrem > g) ? o_row[8*g +: 8] : 8'd0;
        end
    endgenerate

    always @(posedge clk) begin
        if (accept) begin
            o_ptr  <= cmd_o_base[ACT_AW-1:0];
            o_rows <= 16'd0;
            o_nrem <= {1'b0, cmd_n};
        end else if (o_we) begin
            o_ptr <= o_ptr + 1'b1;
            if (o_rows == c_m - 16'd1) begin
                o_rows <= 16'd0;
                o_nrem <= o_nrem - COLS[16:0];
            end else begin
                o_rows <= o_rows + 16'd1;
            end
        end
    end

    // ------------------------------------------------------------------
    // Busy / done
    // ------------------------------------------------------------------
    reg [LAT:0] tag_valids;
    always @(*) begin
        for (t = 0; t <= LAT; t = t + 1) tag_valids[t] = tag_q[t][4];
    end
    wire pipe_empty = (tag_valids == {(LAT+1){1'b0}}) && vec_idle && !s0_v_q;

    always @(posedge clk) begin
        if (rst || accept) ab_q <= 1'b0;
        else if (cmd_abort && busy) ab_q <= 1'b1;
    end

    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0;
            done <= 1'b0;
        end else begin
            done <= 1'b0;
            if (accept) begin
                busy <= 1'b1;
            end else if (busy && (sw_done || ab_q) && pipe_empty) begin
                busy <= 1'b0;
                done <= 1'b1;
            end
        end
    end

    // ------------------------------------------------------------------
    // Counters
    // ------------------------------------------------------------------
    // Useful MACs of the row issued last cycle (registered: keeps the
    // multiply and the 64-bit add in separate cycles).
    reg  [2*KL_W-1:0] row_macs_q;
    reg               row_go_q;
    always @(posedge clk) begin
        row_macs_q <= sw_kl * sw_nl;
        row_go_q   <= st_go && !rst;
    end
    wire [3*CNT_W-1:0] cnt_q;
    nnf_counters #(.N(3), .W(CNT_W), .AW(2*KL_W)) u_cnt (
        .clk(clk), .rst(rst), .clear(cnt_clear),
        .en({row_go_q, busy, 1'b1}),
        .amt({row_macs_q, {(2*KL_W-1){1'b0}}, 1'b1, {(2*KL_W-1){1'b0}}, 1'b1}),
        .count(cnt_q));
    generate
        if (CNT_W < 64) begin : g_cnt_ext
            assign cnt_cycles = {{(64-CNT_W){1'b0}}, cnt_q[0 +: CNT_W]};
            assign cnt_busy   = {{(64-CNT_W){1'b0}}, cnt_q[CNT_W +: CNT_W]};
            assign cnt_macs   = {{(64-CNT_W){1'b0}}, cnt_q[2*CNT_W +: CNT_W]};
        end else begin : g_cnt_full
            assign cnt_cycles = cnt_q[0 +: 64];
            assign cnt_busy   = cnt_q[64 +: 64];
            assign cnt_macs   = cnt_q[128 +: 64];
        end
    endgenerate

    // ------------------------------------------------------------------
    // Host read data: selected by the registered region and byte.
    // ------------------------------------------------------------------
    reg [1:0]  rd_sel_q;
    reg [5:0]  rd_byte_q;
    reg [LOG_C-1:0] rd_lane_q;
    always @(posedge clk) begin
        rd_sel_q  <= hp_sel;
        rd_byte_q <= (hp_sel == 2'd0) ? {{(6-LOG_R){1'b0}}, hp_abyte}
                   : (hp_sel == 2'd1) ? {{(6-LOG_C){1'b0}}, hp_wbyte}
                   : {2'b00, hp_pb};
        rd_lane_q <= hp_plane;
    end

    wire [71:0] p_rd_sel = p_rd_arr[rd_lane_q];
    assign hp_rdata = (rd_sel_q == 2'd0) ? act_rd[8*rd_byte_q[LOG_R-1:0] +: 8]
                    : (rd_sel_q == 2'd1) ? w_rd[8*rd_byte_q[LOG_C-1:0] +: 8]
                    : (rd_sel_q == 2'd2) ? ((rd_byte_q < 6'd9) ? p_rd_sel[8*rd_byte_q +: 8] : 8'd0)
                    : lut_host_rd;

    // Bits computed for symmetry but not needed by this configuration.
    /* verilator lint_off UNUSEDSIGNAL */
    // Address bits above the buffer depths are ignored (addresses wrap).
    wire unused = &{1'b0, lw_first, lw_last, lw_nth, lw_mlen, lw_mlast, sw_mlen, lw_mrow0, lw_kofs,
                    sw_wofs, tp[3:2], tx[1:0], cmd_a_base, cmd_w_base, cmd_p_base,
                    cmd_o_base, hp_addr, k_round, sw_mrow0, lp_ra, lp_wa, n_m1};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
