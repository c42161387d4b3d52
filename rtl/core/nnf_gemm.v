// nnf_gemm: the GEMM engine. One command computes an int8 layer
//
//     Y[m][n] = f(requantize(bias[n] + sum_k A[m][k] * W[k][n]))
//
// on the engine's own buffers (activations, weights, per-channel parameters,
// activation LUT). docs/engine.md is the specification: buffer layouts, host
// port, command port, counters. The functional model nnfm_engine_gemm
// (sim/model/nnfm_engine.c) defines the same behaviour without cycles.
//
// This module is the engine's control (command registers, tile walkers, the
// weight-bank scheduler, the streamer and loader, the tag line, busy/done,
// counters) and the wiring of its datapath:
//   nnf_bufs      ACT, W, P, LUT and the one arbiter in front of them
//   nnf_systolic  the array (nnf_pe)
//   nnf_accum     the accumulators
//   nnf_vec       requantize (nnf_requant) and the LUT
//   nnf_pcheck    the m0 / shift check of a command's P entries
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
    parameter integer VEC_SERIAL = 0,   // 1: one shared requantizer (small parts); 2: the same in
                                        // the fabric, no DSP (nnf_vec)
    parameter integer VEC_LANES = 1,    // VEC_SERIAL = 1: lanes requantized a cycle (a power of
                                        // two below COLS; nnf_vec)
    parameter integer PE_DSP    = 1,    // 0: PE multipliers in LUTs, not DSPs; 2: iCE40 column
                                        // pairs, two products per SB_MAC16 (nnf_pe2_ice40);
                                        // 3: the product registered twice, in the ECP5
                                        // MULT18X18D's own registers (nnf_pe_ecp5); 4: iCE40
                                        // pairs with one weight bank, in the SB_MAC16's A
                                        // register, and the products registered in it
    parameter integer PE_LUT_ROWS = 0,  // PE_DSP = 3: the array's last rows whose products come
                                        // from LUTs (a part with fewer MULT18X18D than PEs)
    parameter integer PIPE_CUTS   = 0,    // 1: block-RAM outputs registered before long paths:
                                        // hp_rdata two cycles after hp_re (nnf_bufs)
    parameter integer CNT_W     = 64,   // counter bits (8..64; the ports read the rest as 0)
    parameter integer HAS_CONV  = 1,    // 0: cmd_conv / cmd_pool2 ignored (GEMMs only)
    parameter integer LUT_COUNT = 1,    // resident LUTs (1, 2, 4, 8): cmd_lut_sel picks one
    parameter integer W_SPRAM   = 0,    // 1: W single-ported (nnf_spram; the iCE40UP5K's SPRAMs)
    parameter integer TFL_ROUND = 0,    // 1: cmd_rnd chooses TFLite's double rounding (nnf_requant_tail)
    parameter integer CMD_REGS  = 1,    // 1: the command's fields are copied at accept; 0: the
                                        // port holds them until busy falls (nnf_seq does)
    parameter integer KT_CMD    = 0     // 1: cmd_ct also carries a GEMM's K tiles, max(1,
                                        // ceil(cmd_k / ROWS)), from a register (nnf_insn_check's
                                        // s_ct): no K-tile adder before the tile walker
) (
    input  wire        clk,
    input  wire        rst,            // synchronous, active high

    // command port (CMD_REGS = 0: the fields held from accept until busy falls)
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
    input  wire [2:0]  cmd_lut_sel,    // which LUT (checked < LUT_COUNT before issue)
    input  wire        cmd_rnd,        // TFLite's double rounding (the TFL_ROUND flag)
    // CONV (docs/conv.md): cmd_conv = 1 walks the input as a feature map
    // (cmd_m = OH*OW*B rows, cmd_k = Cin, cmd_n = Cout, cmd_kt = KH*KW*CT
    // K tiles of CT = cmd_ct channel tiles each; the sizes nnf_insn_check
    // computed); padding taps feed cmd_zp_in. cmd_conv = 0: a GEMM, the
    // geometry inputs unused. cmd_pool2 (with cmd_conv): fused 2x2 max
    // pooling: cmd_m = 4*OHp*OWp*B rows walked in windows of four
    // (nnf_pix_walk's pool2 order, cmd_oh, cmd_ow the pooled sizes), each
    // window's four int8 rows reduced by a lane-wise signed max into one
    // output word (o_base + nt*M/4 + window).
    input  wire        cmd_conv,
    input  wire        cmd_pool2,
    input  wire [15:0] cmd_kt, cmd_ct,
    input  wire [10:0] cmd_h, cmd_w, cmd_b, cmd_oh, cmd_ow,
    input  wire [2:0]  cmd_kh, cmd_kw, cmd_sh, cmd_sw, cmd_ph, cmd_pw,
    input  wire [31:0] cmd_wb, cmd_hwb,   // W*B, H*W*B
    input  wire [7:0]  cmd_zp_in,
    output reg         busy,
    output reg         done,
    input  wire        cmd_abort,      // pulse: stop issuing rows, drain, end (bounded)

    // parameter check (while idle): every used lane's (m0, shift) of the
    // command's P entries p_base .. p_base + ceil(n/COLS) - 1 is valid
    // (nnfm_requant_params_valid); cmd_p_base and cmd_n held until chk_done
    input  wire        chk_start,      // pulse, n >= 1, P range already checked
    output wire        chk_done,       // pulse, with chk_ok
    output wire        chk_ok,

    // host port (byte-wide buffer access: while idle, but ACT, W and P
    // writes also while busy; nnf_bufs)
    input  wire        hp_we,
    input  wire        hp_re,
    input  wire [1:0]  hp_sel,         // 0 ACT, 1 W, 2 P, 3 LUT
    input  wire [31:0] hp_addr,
    input  wire [7:0]  hp_wdata,
    output wire [7:0]  hp_rdata,
    output wire        hp_wait,        // the request was not taken this cycle: hold it

    // word-wide ACT port for the LIF core, while idle (lp_we has priority
    // over a host ACT write, which then waits)
    input  wire        lp_re,
    input  wire [31:0] lp_ra,          // ACT word
    output wire [ROWS*8-1:0] lp_rd,    // the cycle after lp_re, held until the next ACT read
    input  wire        lp_we,
    input  wire [31:0] lp_wa,
    input  wire [ROWS*8-1:0] lp_wd,

    // the ACTW unit's W words and P biases, while idle (nnf_bufs; a host
    // W or P write waits in those cycles)
    input  wire        aw_we,
    input  wire [$clog2(W_WORDS)-1:0] aw_wa,
    input  wire [COLS*8-1:0] aw_wd,
    input  wire        ap_we,
    input  wire [$clog2(P_WORDS)-1:0] ap_wa,
    input  wire [COLS*32-1:0] ap_wd,
    // LAYERNORM's P reads (nnf_vu_ln), while idle, through the P check's
    // port (the two never run together); P entries whole (P not split)
    input  wire        xp_re,
    input  wire [$clog2(P_WORDS)-1:0] xp_ra,
    output wire [COLS*72-1:0] xp_rd,
    // the DWCONV unit's W word reads (nnf_vu_dw), while idle: the data the
    // cycle after xw_re
    input  wire        xw_re,
    input  wire [$clog2(W_WORDS)-1:0] xw_ra,
    output wire [COLS*8-1:0] xw_rd,

    // counters
    input  wire        cnt_clear,      // zero the counters (like rst, counters only)
    output wire [63:0] cnt_cycles,
    output wire [63:0] cnt_busy,
    output wire [63:0] cnt_macs,
    output wire        cnt_row,        // a row was issued last cycle (nnf_cnt_table's MACs) ...
    output wire [15:0] cnt_row_macs    // ... with this many useful MACs
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
    localparam integer PE_PIPE = (PE_DSP == 3) ? 2 : (PE_DSP == 4) ? 1 : 0;   // product registers
    // the PEs' weight banks: with one (PE_DSP = 4) a tile's weights are loaded
    // as the tile before drains (the same bank logic, bank 0 only; below)
    localparam integer PE_BANKS = (PE_DSP == 4) ? 1 : 2;
    localparam integer LAT    = ROWS + COLS + PE_PIPE;   // input register + array latency
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
        if (VEC_SERIAL < 0 || VEC_SERIAL > 2) begin : g_bad_vec
            nnf_gemm_bad_parameter_VEC_SERIAL_must_be_0_1_or_2 u_bad();
        end
        if (VEC_LANES < 1 || (VEC_LANES & (VEC_LANES - 1)) != 0 || (VEC_LANES > 1
                && (VEC_SERIAL != 1 || VEC_LANES >= COLS))) begin : g_bad_lanes
            nnf_gemm_bad_parameter_VEC_LANES_a_power_of_two_below_COLS_with_VEC_SERIAL_1 u_bad();
        end
        if (PE_DSP < 0 || PE_DSP > 4) begin : g_bad_pe
            nnf_gemm_bad_parameter_PE_DSP_must_be_0_to_4 u_bad();
        end
        if (PE_DSP == 4 && PIPE_CUTS != 0) begin : g_bad_pe_cuts     // the one bank's timing below
            nnf_gemm_bad_parameter_PE_DSP_4_needs_PIPE_CUTS_0 u_bad();
        end
        if (PE_LUT_ROWS < 0 || PE_LUT_ROWS > ROWS || (PE_LUT_ROWS != 0 && PE_DSP != 3)) begin : g_bad_lut_rows
            nnf_gemm_bad_parameter_PE_LUT_ROWS_must_be_0_or_with_PE_DSP_3_up_to_ROWS u_bad();
        end
    endgenerate

    // ------------------------------------------------------------------
    // Command registers
    // ------------------------------------------------------------------
    reg  [15:0]       c_mlast_q;        // M - 1: the output writer's last row (registered)
    wire [ACT_AW-1:0] c_a_base;
    wire [W_AW-1:0]   c_w_base;
    wire [7:0]        c_zp, c_lo, c_hi, c_zpin;
    wire              c_lut;
    wire              c_rnd;
    wire [2:0]        c_lsel;
    wire              c_p2;
    // CONV (and its fused pooling) only when built with it: HAS_CONV = 0
    // leaves the pixel walker a GEMM's address counter
    wire              conv_c = (HAS_CONV != 0) && cmd_conv;

    wire        accept = cmd_valid && cmd_ready;
    // K tiles: max(1, ceil(K / ROWS))
    wire [22:0] k_round = {7'd0, cmd_k} + (ROWS[22:0] - 23'd1);
    wire [15:0] k_tiles = (cmd_k == 16'd0) ? 16'd1 : k_round[LOG_R +: 16];

    assign cmd_ready = !busy && !rst;

    // The fields the engine uses while busy: copied at accept (CMD_REGS),
    // or straight from the port, which then holds them (in the device the
    // sequencer fetches no instruction while the engine is busy).
    always @(posedge clk) if (accept) c_mlast_q <= cmd_m - 16'd1;
    wire [ACT_AW+W_AW+24+8+1+1+3+1-1:0] c_in = {cmd_a_base[ACT_AW-1:0], cmd_w_base[W_AW-1:0],
        cmd_zp, cmd_lo, cmd_hi, conv_c ? cmd_zp_in : 8'd0, cmd_lut, (TFL_ROUND != 0) && cmd_rnd,
        cmd_lut_sel, conv_c && cmd_pool2};
    generate
        if (CMD_REGS != 0) begin : g_cmd_regs
            reg [ACT_AW+W_AW+24+8+1+1+3+1-1:0] c_q;
            always @(posedge clk) if (accept) c_q <= c_in;
            assign {c_a_base, c_w_base, c_zp, c_lo, c_hi, c_zpin, c_lut, c_rnd,
                    c_lsel, c_p2} = c_q;
        end else begin : g_cmd_port
            assign {c_a_base, c_w_base, c_zp, c_lo, c_hi, c_zpin, c_lut, c_rnd,
                    c_lsel, c_p2} = c_in;
        end
    endgenerate

    // ------------------------------------------------------------------
    // The tile walker, the weight loader's: it latches the command's sizes
    // when it starts (the port may change while the engine is busy; with
    // CMD_REGS = 0 it does not, and the walker keeps only kt_n-1, ct_n-1). The
    // streamer follows the loader a tile behind, bank by bank: what it needs
    // of a tile (first / last K tile, N tile head, valid lanes, the block's
    // last row) is kept per weight bank when the loader finishes loading it
    // (desc0_q / desc1_q), so it needs no walker of its own.
    // ------------------------------------------------------------------
    wire [15:0] w_m  = cmd_m;
    wire [15:0] w_k  = cmd_k;
    wire [15:0] w_n  = cmd_n;
    wire [15:0] w_kt = conv_c ? cmd_kt : (KT_CMD != 0) ? cmd_ct : k_tiles;
    wire [15:0] w_ct = (conv_c || KT_CMD != 0) ? cmd_ct : k_tiles;
    wire            lw_done, lw_first, lw_last, lw_nth;
    wire [KL_W-1:0] lw_kl;
    wire [NL_W-1:0] lw_nl;
    wire [ML_W-1:0] lw_mlen, lw_mlast;
    wire [15:0]     lw_mrow0;
    wire [W_AW-1:0] lw_wofs;
    wire [15:0]     lw_ctm1;  // ct_n - 1 (the pixel walker's, HOLD)
    wire            lw_adv;

    wire            sw_done, sw_first, sw_last, sw_nth;
    wire [KL_W-1:0] sw_kl;
    wire [NL_W-1:0] sw_nl;
    wire [ML_W-1:0] sw_mlast;
    wire            sw_ml0, sw_hzml;

    nnf_tile_walk #(.ROWS(ROWS), .COLS(COLS), .ACC_DEPTH(ACC_DEPTH), .W_W(W_AW),
                    .HOLD(CMD_REGS == 0 ? 1 : 0)) u_lwalk (
        .clk(clk), .start(accept), .m(w_m), .k(w_k), .n(w_n), .kt_n(w_kt), .ct_n(w_ct),
        .adv(lw_adv), .done(lw_done), .kt_first(lw_first), .kt_last(lw_last),
        .nt_head(lw_nth), .k_lanes(lw_kl), .n_lanes(lw_nl), .m_len(lw_mlen), .m_last(lw_mlast),
        .m_row0(lw_mrow0), .w_ofs(lw_wofs), .ct_m1(lw_ctm1));

    // per bank: {first, last, nt_head, k lanes, n lanes, m_last, m_last
    // == 0, the hazard's m_last test (hz_ml below)} of the tile loaded into
    // it, written in the loader's last cycle of the tile; the two tests are
    // made here so the streamer's step reads them as flops
    localparam integer DESC_W = 3 + KL_W + NL_W + ML_W + 2;
    reg  [DESC_W-1:0] desc0_q, desc1_q;   // flops, not a LUT RAM: the streamer's step reads them

    // The streamer's ACT addresses (nnf_pix_walk): a CONV's feature-map walk;
    // a GEMM is the walk of H = W = K = 1 over B = m rows, kt_n channel tiles
    // (word kt*m + row, its A layout).
    wire [ACT_AW-1:0] pw_ofs;
    wire              pw_ready, pw_in, pw_row_last, pw_tap_last;
    reg  [2:0]        pw_row_op;
    reg  [1:0]        pw_tap_op;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [ACT_AW+15:0] m_ext = {{ACT_AW{1'b0}}, cmd_m};
    /* verilator lint_on UNUSEDSIGNAL */
    nnf_pix_walk #(.AW(ACT_AW), .CONV(HAS_CONV), .HOLD(CMD_REGS == 0 ? 1 : 0)) u_pix (
        .clk(clk), .start(accept),
        .h(conv_c ? cmd_h : 11'd1), .w(conv_c ? cmd_w : 11'd1),
        .b(conv_c ? {5'd0, cmd_b} : cmd_m),
        .kh(conv_c ? {8'd0, cmd_kh} : 11'd1), .kw(conv_c ? {8'd0, cmd_kw} : 11'd1),
        .sh(conv_c ? cmd_sh : 3'd1), .sw(conv_c ? cmd_sw : 3'd1),
        .ph(conv_c ? cmd_ph : 3'd0), .pw(conv_c ? cmd_pw : 3'd0),
        .oh(conv_c ? cmd_oh : 11'd1), .ow(conv_c ? cmd_ow : 11'd1),
        .ct_n(w_ct), .pool2(conv_c && cmd_pool2),
        .wb(conv_c ? cmd_wb[ACT_AW-1:0] : m_ext[ACT_AW-1:0]),
        .hwb(conv_c ? cmd_hwb[ACT_AW-1:0] : m_ext[ACT_AW-1:0]),
        .b_m1(c_mlast_q), .ct_m1(lw_ctm1),
        .row_op(pw_row_op), .tap_op(pw_tap_op), .ready(pw_ready), .ofs(pw_ofs),
        .in_map(pw_in), .row_last(pw_row_last), .tap_last(pw_tap_last));

    // ------------------------------------------------------------------
    // Weight banks: busy from the start of a load until the last activation
    // that used the bank has left the array; ready from the end of a load
    // until the streamer starts the tile.
    // ------------------------------------------------------------------
    reg  [1:0]       bank_busy_q, bank_ready_q, bank_drain_q;
    reg  [LOG_C+1:0] drain_cnt0_q, drain_cnt1_q;

    reg  [LOG_R-1:0] ld_row_q;
    reg              ld_bank_q;
    reg  [ML_W-1:0]  st_m_q;          // row within the m block
    reg              st_m0_q;         // st_m_q == 0
    reg              st_lst_q;        // st_m_q == sw_mlast (when st_m_q != 0)
    reg              st_bank_q;

    // Abort: no row is issued after the cycle abort arrives; the rows in
    // flight finish (their outputs are written) and busy drops.
    reg  ab_q;
    wire ld_go  = busy && !ab_q && !lw_done && ((ld_row_q != {LOG_R{1'b0}}) || !bank_busy_q[ld_bank_q]);
    wire ld_end = ld_go && (ld_row_q == ROWS[LOG_R-1:0] - 1'b1);
    // With VEC_SERIAL, rows of a last K tile leave VEC_GAP cycles between
    // them: COLS / VEC_LANES (VEC_LANES lanes a cycle), COLS * VEC_FAB_STEPS
    // (the fabric requantizer, VEC_SERIAL = 2).
    localparam integer VEC_FAB_STEPS = 17;
    localparam integer VEC_GAP = (VEC_SERIAL == 2) ? COLS * VEC_FAB_STEPS : COLS / VEC_LANES;
    localparam integer THR_W   = $clog2(VEC_GAP);
    reg  [THR_W-1:0] thr_cnt_q;
    reg              thr_z_q;         // thr_cnt_q == 0
    wire thr_ok = (VEC_SERIAL == 0) || thr_z_q;
    // A one-row block's rows all use accumulator word 0: the row after a
    // K tile that is not the last reads the word that row writes, so it
    // waits a cycle (hz_q) and the accumulators need no forwarding
    // (nnf_accum). With PIPE_CUTS the accumulators are read two cycles
    // before the write, so a word's rows are kept three cycles apart: two
    // waits after a non-last K tile of one or two rows. The loader's ROWS
    // cycles a tile make these waits rare.
    // m_last <= 1 (PIPE_CUTS) or == 0, as equalities: no carry chain
    wire lw_hzml = (PIPE_CUTS != 0) ? (lw_mlast[ML_W-1:1] == {(ML_W-1){1'b0}})
                                    : (lw_mlast == {ML_W{1'b0}});
    wire lw_ml0  = (lw_mlast == {ML_W{1'b0}});
    reg  [1:0] hz_q;                 // waits left
    reg        hz_w_q;               // hz_q != 0 (a flop of its own: st_go's term is one bit)
    wire       hz_wait = (PIPE_CUTS != 0) ? hz_w_q : hz_q[0];   // (else hz_q is 0 or 1)
    // The step is an AND of flops and one 2:1 mux (the bank's ready), and
    // the tile's end a mux of flags: the row counts are compared the cycle
    // before (st_m0_q, st_lst_q, the descriptor's sw_ml0), since the step
    // fans out to the pixel walker's registers. (!sw_done is implied: a row
    // is issued only with st_m_q != 0 or the bank ready.)
    wire st_rdy = bank_ready_q[st_bank_q];
    wire st_go  = busy && !ab_q && thr_ok && pw_ready && !hz_wait && (!st_m0_q || st_rdy);
    wire st_end = st_go && (st_m0_q ? sw_ml0 : st_lst_q);
    wire [ML_W-1:0] st_m_n = st_m_q + 1'b1;
    // the walk: the next row; at a tile's end back to the block's first row
    // for the next K tile, or on to the next block (marked), or row 0 for
    // the next N tile; the taps follow the K tiles
    always @(*) begin
        pw_row_op = 3'd0;
        pw_tap_op = 2'd0;
        if (st_go) begin
            if (!st_end)          pw_row_op = 3'd1;     // NEXT
            else if (!sw_last)    pw_row_op = 3'd2;     // BACK
            else if (pw_row_last) pw_row_op = 3'd4;     // FIRST
            else                  pw_row_op = 3'd3;     // NEXT_MARK
            if (st_end) pw_tap_op = sw_last ? 2'd2 : 2'd1;
        end
    end

    // One weight bank (PE_DSP = 4): W row r, read in cycle L + r, is in its
    // PEs from cycle L + r + 3 (the read, wl_*, ar_wl_*), and an activation
    // row issued in cycle S reaches PE (r, c) in cycle S + 2 + r + c
    // (s0_*, ar_a_q, the skew). So a tile may be streamed from the cycle
    // after its first W row is read (the bank is ready, and its descriptor
    // written, at that read), and the next tile's first read may come
    // COLS - 1 cycles after the last row was issued (DRAIN below): at M = 1
    // a tile every COLS cycles, as with two banks.
    wire ld_rdy = (PE_BANKS == 1) ? (ld_go && ld_row_q == {LOG_R{1'b0}}) : ld_end;
    assign lw_adv = ld_end;
    always @(posedge clk)
        if (ld_rdy) begin
            if (ld_bank_q) desc1_q <= {lw_first, lw_last, lw_nth, lw_kl, lw_nl, lw_mlast, lw_ml0, lw_hzml};
            else           desc0_q <= {lw_first, lw_last, lw_nth, lw_kl, lw_nl, lw_mlast, lw_ml0, lw_hzml};
        end
    assign {sw_first, sw_last, sw_nth, sw_kl, sw_nl, sw_mlast, sw_ml0, sw_hzml} =
        st_bank_q ? desc1_q : desc0_q;
    // every row issued: the loader has walked every tile, and the streamer
    // is between tiles with none loaded for it
    assign sw_done = lw_done && st_m0_q && !st_rdy;

    // the bank is free DRAIN + 2 cycles after the tile's last row is issued
    localparam integer DRAIN_I = (PE_BANKS == 2) ? COLS : (COLS > 3) ? COLS - 3 : 0;
    localparam [LOG_C+1:0] DRAIN = DRAIN_I[LOG_C+1:0];

    integer b;
    always @(posedge clk) begin
        if (rst || accept) begin
            bank_busy_q  <= 2'b00;
            bank_ready_q <= 2'b00;
            bank_drain_q <= 2'b00;
            drain_cnt0_q <= {(LOG_C+2){1'b0}};
            drain_cnt1_q <= {(LOG_C+2){1'b0}};
            ld_row_q     <= {LOG_R{1'b0}};
            ld_bank_q    <= 1'b0;
            st_m_q       <= {ML_W{1'b0}};
            st_m0_q      <= 1'b1;
            st_lst_q     <= 1'b0;
            st_bank_q    <= 1'b0;
            thr_cnt_q    <= {THR_W{1'b0}};
            thr_z_q      <= 1'b1;
            hz_q         <= 2'd0;
            hz_w_q       <= 1'b0;
        end else begin
            if (st_end && sw_hzml && !sw_last) begin
                hz_q   <= (PIPE_CUTS != 0) ? 2'd2 : 2'd1;
                hz_w_q <= 1'b1;
            end else if (hz_q != 2'd0) begin
                hz_q   <= hz_q - 2'd1;
                hz_w_q <= (hz_q != 2'd1);
            end
            if (st_go && sw_last) begin
                thr_cnt_q <= VEC_GAP[THR_W-1:0] - 1'b1;
                thr_z_q   <= (VEC_GAP == 1);
            end else if (!thr_z_q) begin
                thr_cnt_q <= thr_cnt_q - 1'b1;
                thr_z_q   <= (thr_cnt_q == {{(THR_W-1){1'b0}}, 1'b1});
            end
            if (ld_go) ld_row_q <= ld_end ? {LOG_R{1'b0}} : ld_row_q + 1'b1;
            if (ld_end && PE_BANKS == 2) ld_bank_q <= !ld_bank_q;
            if (st_go) begin
                st_m_q   <= st_end ? {ML_W{1'b0}} : st_m_n;
                st_m0_q  <= st_end;
                st_lst_q <= !st_end && (st_m_n == sw_mlast);
            end
            if (st_end && PE_BANKS == 2) st_bank_q <= !st_bank_q;

            for (b = 0; b < 2; b = b + 1) begin
                if (ld_go && ld_row_q == {LOG_R{1'b0}} && ld_bank_q == b[0]) bank_busy_q[b] <= 1'b1;
                if (ld_rdy && ld_bank_q == b[0])                          bank_ready_q[b] <= 1'b1;
                if (st_go && st_m0_q && st_bank_q == b[0])                  bank_ready_q[b] <= 1'b0;
                if (st_end && st_bank_q == b[0])                          bank_drain_q[b] <= 1'b1;
            end
            if (st_end && !st_bank_q) drain_cnt0_q <= DRAIN;
            else if (bank_drain_q[0]) begin
                if (drain_cnt0_q == 0) begin bank_drain_q[0] <= 1'b0; bank_busy_q[0] <= 1'b0; end
                else drain_cnt0_q <= drain_cnt0_q - 1'b1;
            end
            if (st_end && st_bank_q) drain_cnt1_q <= DRAIN;
            else if (bank_drain_q[1]) begin
                if (drain_cnt1_q == 0) begin bank_drain_q[1] <= 1'b0; bank_busy_q[1] <= 1'b0; end
                else drain_cnt1_q <= drain_cnt1_q - 1'b1;
            end
        end
    end

    // ------------------------------------------------------------------
    // The buffers and their arbiter (nnf_bufs)
    // ------------------------------------------------------------------
    localparam integer LUTS = (VEC_SERIAL == 1) ? VEC_LANES : (VEC_SERIAL != 0) ? 1 : COLS;
    // a serial requantizer reads m0 / shift a lane at a time: P split into
    // biases per lane and m0 / shift lane by lane (nnf_bufs; 9-byte entries
    // take three DP16KD a lane on ECP5, the split about 1.6)
    localparam integer P_SPLIT = (VEC_SERIAL == 2) ? 2 : (VEC_SERIAL != 0) ? 1 : 0;
    // (2: whole entries lane by lane; the fabric requantizer adds the bias)
    localparam integer PC_AW   = P_AW + ((P_SPLIT != 0) ? LOG_C : 0);
    wire [ROWS*8-1:0] act_rd;
    wire [COLS*8-1:0] w_rd;
    wire [COLS*72-1:0] p_rd;
    wire [39:0]       pm_rd;         // the P check's lane
    localparam integer PML = (VEC_SERIAL == 1) ? VEC_LANES : 1;
    wire [PML*40-1:0] pm_rdl;        // the vector stage's: a group's (VEC_SERIAL = 1)
    wire [31:0]       pb_rd;
    wire              pa_re, pc_re, pm_re;
    wire [P_AW-1:0]   pa_ra;
    wire [PC_AW-1:0]  pc_ra;
    wire [P_AW+LOG_C-1:0] pm_ra;
    wire [LUTS*8-1:0] lut_ra, lut_rd;
    wire              o_we;          // output row (from the vector stage)
    wire              o_wr;          // its write (pool2: a window's fourth row)
    reg  [ACT_AW-1:0] o_ptr_q;
    wire [COLS*8-1:0] o_data;
    wire              ow_we;         // the ACT write port: o_wr, or with PIPE_CUTS
    wire [ACT_AW-1:0] ow_wa;         // the write registered a cycle (A and O never
    wire [COLS*8-1:0] ow_wd;         // overlap, nnf_insn_check; done waits for it)
    wire              ow_busy;       // a registered write not yet made

    wire [ACT_AW-1:0] st_addr = c_a_base + pw_ofs;
    wire [W_AW-1:0]   ld_addr = c_w_base + lw_wofs + {{(W_AW-LOG_R){1'b0}}, ld_row_q};

    // (P split: LAYERNORM is off, nnf_core's ROW_ON; its address as an entry's lane 0)
    wire [PC_AW-1:0] xp_ra_w;
    generate
        if (P_SPLIT != 0) begin : g_xp_split
            assign xp_ra_w = {xp_ra, {LOG_C{1'b0}}};
        end else begin : g_xp_full
            assign xp_ra_w = xp_ra;
        end
    endgenerate
    nnf_bufs #(.ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
               .P_WORDS(P_WORDS), .LUTS(LUTS), .LUT_COUNT(LUT_COUNT), .W_SPRAM(W_SPRAM),
               .P_SPLIT(P_SPLIT), .PM_LANES(PML),
               .PIPE_CUTS(PIPE_CUTS)) u_bufs (
        .clk(clk), .busy(busy),
        .hp_we(hp_we), .hp_re(hp_re), .hp_sel(hp_sel), .hp_addr(hp_addr),
        .hp_wdata(hp_wdata), .hp_rdata(hp_rdata), .hp_wait(hp_wait),
        .lp_re(lp_re), .lp_ra(lp_ra[ACT_AW-1:0]), .lp_we(lp_we), .lp_wa(lp_wa[ACT_AW-1:0]),
        .lp_wd(lp_wd), .act_rd(act_rd),
        .aw_we(aw_we), .aw_wa(aw_wa), .aw_wd(aw_wd), .ap_we(ap_we), .ap_wa(ap_wa), .ap_wd(ap_wd),
        .xw_re(xw_re), .xw_ra(xw_ra),
        .sr_re(st_go), .sr_ra(st_addr), .ow_we(ow_we), .ow_wa(ow_wa), .ow_wd(ow_wd),
        .ld_re(ld_go), .ld_ra(ld_addr), .w_rd(w_rd),
        .pa_re(pa_re), .pa_ra(pa_ra), .pc_re(pc_re || xp_re), .pc_ra(xp_re ? xp_ra_w : pc_ra), .p_rd(p_rd),
        .pm_re(pm_re), .pm_ra(pm_ra), .pm_rd(pm_rd), .pm_rdl(pm_rdl), .pb_rd(pb_rd),
        .lut_ra(lut_ra), .lut_sel(c_lsel), .lut_rd(lut_rd));
    assign lp_rd = act_rd;
    assign xp_rd = p_rd;
    assign xw_rd = w_rd;

    genvar g;

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
        wl_row_q  <= ld_row_q;
        wl_bank_q <= ld_bank_q;
        wl_kok_q  <= {1'b0, ld_row_q} < lw_kl;
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
    reg              s0_in_q;        // the tap is inside the map (else padding: zp_in)
    reg [KL_W-1:0]   s0_kl_q;

    // Tag delay line to the accumulator: {valid, first, last, row0, nt_head}.
    localparam integer TAG_W = 5;
    reg [TAG_W-1:0] tag_q [0:LAT];

    always @(posedge clk) begin
        s0_v_q    <= st_go && !rst;
        s0_bank_q <= st_bank_q;
        s0_in_q   <= pw_in;
        s0_kl_q   <= sw_kl;
    end

    integer t;
    always @(posedge clk) begin
        if (rst) begin
            for (t = 0; t <= LAT; t = t + 1) tag_q[t] <= {TAG_W{1'b0}};
        end else begin
            tag_q[0] <= {st_go, sw_first, sw_last, st_m0_q, sw_nth && st_m0_q};
            for (t = 1; t <= LAT; t = t + 1) tag_q[t] <= tag_q[t-1];
        end
    end

    wire [ROWS*8-1:0] a_row;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_amask
            assign a_row[8*g +: 8] = (s0_v_q && g < s0_kl_q) ? (s0_in_q ? act_rd[8*g +: 8] : c_zpin)
                                                             : 8'd0;
        end
    endgenerate

    // ------------------------------------------------------------------
    // The systolic array
    // ------------------------------------------------------------------
    wire [COLS*PSUM_W-1:0] sum_row;
    // SKEW (P_SPLIT = 2: the accumulators start from 0, the bias is added
    // in the vector stage): the array's columns are not de-skewed, lane g's
    // sums leave it COLS-1-g cycles before X, and each lane's accesses use
    // the tags that many stages earlier (nnf_accum).
    localparam integer SKEW = (P_SPLIT == 2) ? 1 : 0;
    localparam integer RDE  = (PIPE_CUTS != 0) ? 1 : 0;    // reads at X-2 (nnf_accum RD_EARLY)

    // Array input registers: activations and weight rows alike, so every
    // timing relation between them is as if the array were fed directly.
    reg [ROWS*8-1:0] ar_a_q;
    reg              ar_bank_q;
    reg              ar_wl_en_q, ar_wl_bank_q;
    reg [LOG_R-1:0]  ar_wl_row_q;
    reg [COLS*8-1:0] ar_wl_data_q;
    always @(posedge clk) begin
        ar_a_q       <= a_row;
        ar_bank_q    <= s0_bank_q;
        ar_wl_en_q   <= wl_v_q && !rst;
        ar_wl_row_q  <= wl_row_q;
        ar_wl_bank_q <= wl_bank_q;
        ar_wl_data_q <= wl_data;
    end

    nnf_systolic #(.ROWS(ROWS), .COLS(COLS), .PSUM_W(PSUM_W), .ROW_W(LOG_R), .MUL_DSP(PE_DSP),
                   .LUT_ROWS(PE_LUT_ROWS), .DESKEW(1 - SKEW)) u_array (
        .clk(clk), .a_row(ar_a_q), .a_bank(ar_bank_q),
        .wl_en(ar_wl_en_q), .wl_row(ar_wl_row_q), .wl_bank(ar_wl_bank_q), .wl_data(ar_wl_data_q),
        .sum_row(sum_row));

    // ------------------------------------------------------------------
    // Accumulate (nnf_accum), the vector stage (nnf_vec)
    // ------------------------------------------------------------------
    wire [TAG_W-1:0] ta = tag_q[LAT-1-RDE-SKEW*(COLS-1)];  // lane 0's row read
    wire [TAG_W-1:0] tr = tag_q[LAT-1-RDE];                // the last lane's row read
    wire [COLS-1:0]  l_rv, l_xv, l_xfirst, l_xlast;
    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_ltag
            localparam integer D = SKEW * (COLS - 1 - g);
            assign l_rv[g]     = tag_q[LAT-1-RDE-D][4];
            assign l_xv[g]     = tag_q[LAT-D][4];
            assign l_xfirst[g] = tag_q[LAT-D][3];
            assign l_xlast[g]  = tag_q[LAT-D][2];
        end
    endgenerate
    wire              fin_load;
    wire [COLS*32-1:0] fin_acc;
    wire [COLS*31-1:0] fin_m0;
    wire [COLS*8-1:0]  fin_sh;
    wire [P_AW-1:0]    fin_pent;
    wire               fin_re;        // VEC_SERIAL = 2: the vector stage reads the final sums
    wire [LOG_C-1:0]   fin_ra;
    wire [31:0]        fin_rd;
    nnf_accum #(.COLS(COLS), .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .PSUM_W(PSUM_W),
                .FIN_PARAMS(P_SPLIT == 0 ? 1 : 0), .BIAS(P_SPLIT == 2 ? 0 : 1),
                .RD_EARLY(RDE), .SKEW(SKEW), .FIN_RAM(VEC_SERIAL == 2 ? 1 : 0)) u_accum (
        .clk(clk), .start(accept), .p_base(cmd_p_base[P_AW-1:0]),
        .a_v(ta[4]), .a_row0(ta[1]), .a_first(ta[3]), .p_v(tr[4]), .p_nth(tr[0]),
        .r_v(l_rv), .x_v(l_xv), .x_first(l_xfirst), .x_last(l_xlast), .sum_row(sum_row),
        .p_re(pa_re), .p_ra(pa_ra), .p_rd(p_rd),
        .fin_load(fin_load), .fin_acc(fin_acc), .fin_m0(fin_m0), .fin_sh(fin_sh),
        .fin_pent(fin_pent), .fin_re(fin_re), .fin_ra(fin_ra), .fin_rd(fin_rd));

    wire [COLS*8-1:0] o_row;        // int8 results before the N mask
    wire              vec_idle;     // nothing in flight in the vector stage
    nnf_vec #(.COLS(COLS), .VEC_SERIAL(VEC_SERIAL), .VEC_LANES(VEC_LANES), .FAB_STEPS(VEC_FAB_STEPS),
              .P_WORDS(P_WORDS), .TFL_ROUND(TFL_ROUND), .PIPE_CUTS(PIPE_CUTS)) u_vec (
        .clk(clk), .rst(rst), .fin_load(fin_load), .fin_acc(fin_acc), .fin_m0(fin_m0),
        .fin_sh(fin_sh), .fin_pent(fin_pent), .fin_re(fin_re), .fin_ra(fin_ra), .fin_rd(fin_rd), .pm_re(pm_re), .pm_ra(pm_ra), .pm_rd(pm_rdl), .pm_bias(pb_rd), .zp(c_zp), .lo(c_lo), .hi(c_hi), .rnd(c_rnd), .lut(c_lut),
        .lut_ra(lut_ra), .lut_rd(lut_rd), .o_row(o_row), .o_we(o_we), .idle(vec_idle));

    // ------------------------------------------------------------------
    // Parameter check (nnf_pcheck), while idle
    // ------------------------------------------------------------------
    nnf_pcheck #(.COLS(COLS), .P_WORDS(P_WORDS), .P_SPLIT(P_SPLIT), .PIPE_CUTS(PIPE_CUTS)) u_pcheck (
        .clk(clk), .rst(rst), .start(chk_start && !busy), .p_base(cmd_p_base[P_AW-1:0]),
        .n(cmd_n), .re(pc_re), .ra(pc_ra), .p_rd(p_rd), .pm_rd(pm_rd), .done(chk_done), .ok(chk_ok));

    // ------------------------------------------------------------------
    // Output write: rows arrive in address order o_base, o_base+1, ...;
    // lanes beyond N are written as zero. pool2: the rows come in windows of
    // four, reduced by a lane-wise signed max (o_max_q holds the window's
    // so far); the fourth row writes the window's word.
    // ------------------------------------------------------------------
    reg  [15:0] o_rows_q;      // rows of this N tile (walked rows)
    reg  [16:0] o_nrem_q;      // N - nt * COLS
    reg  [1:0]  o_ph_q;        // pool2: the row's place in its window
    reg  [COLS*8-1:0] o_max_q;
    wire [COLS*8-1:0] o_red;

    generate
        for (g = 0; g < COLS; g = g + 1) begin : g_out
            wire signed [7:0] ov = o_row[8*g +: 8], om = o_max_q[8*g +: 8];
            assign o_red[8*g +: 8]  = (o_ph_q == 2'd0 || ov > om) ? ov : om;
            assign o_data[8*g +: 8] = (o_nrem_q > g) ? o_red[8*g +: 8] : 8'd0;
        end
    endgenerate
    assign o_wr = o_we && (!c_p2 || o_ph_q == 2'd3);

    nnf_cut #(.W(1 + ACT_AW + COLS*8), .ON(PIPE_CUTS), .RV(1)) u_ow_cut (
        .clk(clk), .rst(rst), .d({o_wr, o_ptr_q, o_data}), .q({ow_we, ow_wa, ow_wd}));
    assign ow_busy = (PIPE_CUTS != 0) && ow_we;

    always @(posedge clk) begin
        if (accept) begin
            o_ph_q <= 2'd0;
        end else if (o_we) begin
            o_ph_q  <= c_p2 ? o_ph_q + 2'd1 : 2'd0;
            o_max_q <= o_red;
        end
    end

    always @(posedge clk) begin
        if (accept) begin
            o_ptr_q  <= cmd_o_base[ACT_AW-1:0];
            o_rows_q <= 16'd0;
            o_nrem_q <= {1'b0, cmd_n};
        end else if (o_we) begin
            if (o_wr) o_ptr_q <= o_ptr_q + 1'b1;
            if (o_rows_q == c_mlast_q) begin
                o_rows_q <= 16'd0;
                o_nrem_q <= o_nrem_q - COLS[16:0];
            end else begin
                o_rows_q <= o_rows_q + 16'd1;
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
    wire pipe_empty = (tag_valids == {(LAT+1){1'b0}}) && vec_idle && !s0_v_q && !ow_busy;

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
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] row_macs32 = {{(32-2*KL_W){1'b0}}, row_macs_q};
    /* verilator lint_on UNUSEDSIGNAL */
    assign cnt_row      = row_go_q;
    assign cnt_row_macs = row_macs32[15:0];           // ROWS * COLS < 2^16
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

    // Bits computed for symmetry but not needed by this configuration.
    /* verilator lint_off UNUSEDSIGNAL */
    // Address bits above the buffer depths are ignored (addresses wrap).
    wire unused = &{1'b0, lw_mlen, lw_mrow0, ta[2], ta[0], tr[3:1], cmd_a_base, cmd_w_base, cmd_p_base,
                    cmd_o_base, k_round, k_tiles, lp_ra, lp_wa, cmd_wb, cmd_hwb,
                    pw_tap_last};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
