// nnf_core: the device, as wiring. On a generic byte stream (8-bit
// valid/ready each way):
//   nnf_frame_rx / nnf_frame_tx   the link layer (frames, CRC, timeout)
//   nnf_exec                      the command executor (checks, regions, answers, INFO)
//   nnf_seq                       the micro-program (memory, fetch, decode, LOOP, issue)
//   nnf_gemm                      the GEMM engine and its buffers
//   nnf_lif                       the LIF core and its neuron-state memory
//   nnf_vu, nnf_vu_ew             the vector unit: POOL / PACK, and EW (elementwise)
//   nnf_vu_dw                     the vector unit's depthwise conv (DWCONV)
//   nnf_counters                  the link's performance counters
// Board-independent: a board top adds a link adapter (rtl/link) in front.
//
// docs/protocol.md is the specification of everything seen on the stream;
// docs/engine.md of the engine it drives.
`default_nettype none

module nnf_core #(
    parameter integer ROWS        = 8,
    parameter integer COLS        = 8,
    parameter integer ACT_WORDS   = 32768,
    parameter integer W_WORDS     = 16384,
    parameter integer P_WORDS     = 64,
    parameter integer ACC_DEPTH   = 256,
    parameter integer VEC_SERIAL  = 0,
    parameter integer VEC_LANES   = 1,        // VEC_SERIAL = 1: lanes requantized a cycle (nnf_vec)
    parameter integer PE_DSP      = 1,
    parameter integer PE_LUT_ROWS = 0,        // PE_DSP = 3: the array's last rows that multiply in LUTs
    parameter integer PIPE_CUTS   = 0,        // 1: registers cut the long paths (block-RAM outputs, the receiver's
                                              // ready): ECP5 clocks near 100 MHz, a cycle more here and there;
                                              // 2: only the receiver's ready off the memory handshake, by taking
                                              // a WRITE's bytes at most every other cycle (nnf_exec PL_SLOW): a
                                              // small part on a UART, whose bytes come 80 cycles apart
    parameter integer PROG_WORDS  = 64,       // micro-program instructions
    parameter integer STATE_WORDS = 16384,    // LIF state entries (0: no LIF core)
    parameter integer LIF_LANES   = 1,        // LIF neurons per cycle: a power of two, 1..ROWS
    parameter integer HAS_CONV    = 1,        // CONV, POOL, the vector unit (0: they end a program)
    parameter integer HAS_EW      = 1,        // EW (0: EW ends a program)
    parameter integer HAS_ROW     = 1,        // attention's ROW (row-wise SOFTMAX) and ACTW (an ACT tensor
                                              // into W); 0: they end a program. There only with HAS_EW
                                              // and LUT_COUNT >= 4 (ROW_ON below)
    parameter integer HAS_DW      = 1,        // DWCONV, the depthwise unit (0: DWCONV ends a program). There only
                                              // with HAS_CONV, ROWS == COLS and P whole (VEC_SERIAL 0): DW_ON below
    parameter integer HAS_REL     = 1,        // relative bases and LOOP's stride (0: the flags and the stride are ignored)
    parameter integer HAS_TFL_ROUND = 1,      // the TFL_ROUND flag: TFLite's double rounding (0: ignored; INFO FEAT_TFL_ROUND)
    parameter integer EW_LANES    = 1,        // EW lanes per cycle: a power of two dividing ROWS
    parameter integer LUT_COUNT   = 8,        // resident LUTs: 1, 2, 4 or 8
    parameter integer BANKS       = 4,        // bank flags for weight streaming, 0..8 (0: no BWAIT, BPOST, BANK)
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer TIMEOUT     = 65536,    // idle cycles that abandon a frame (boards: ~0.1 s)
    parameter integer CLOCK_HZ    = 0,        // reported by INFO (0: unknown)
    parameter integer CNT_W       = 64,       // counter bits, 8..64 by 8 (COUNTERS reads the rest as 0)
    parameter integer W_SPRAM     = 0,        // 1: W single-ported (nnf_spram: the iCE40UP5K's SPRAMs)
    parameter integer CONFIG_ID   = 0         // reported by INFO: the id of the configs/ file built from (0: none)
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        rx_valid,
    input  wire [7:0]  rx_data,
    output wire        rx_ready,
    output wire        tx_valid,
    output wire [7:0]  tx_data,
    input  wire        tx_ready,
    output wire        running,           // a program is running (for a LED)
    output wire        idle               // nothing in progress: no frame, no answer, the program
                                          // done or waiting at a BANK acquire with its work done
);
    localparam integer PROG_AW = $clog2(PROG_WORDS);
    localparam integer HAS_LIF = (STATE_WORDS != 0) ? 1 : 0;
    localparam integer ACT_AW  = $clog2(ACT_WORDS);
    localparam integer W_AW    = $clog2(W_WORDS);
    localparam integer P_AW    = $clog2(P_WORDS);
    // the row unit: with the EW unit (its check, its handshake) and four LUTs for the exp table
    // (and P not split: LAYERNORM reads every lane of a P entry at once)
    localparam integer ROW_ON  = (HAS_ROW != 0 && HAS_EW != 0 && LUT_COUNT >= 4 && VEC_SERIAL == 0) ? 1 : 0;
    // the ACTW unit beside it (a word of A and of W both ROWS bytes)
    localparam integer ACTW_ON = (ROW_ON != 0 && ROWS == COLS) ? 1 : 0;
    // the depthwise unit: a tile's channels are a W word's and a P entry's lanes, the entry read whole
    localparam integer DW_ON   = (HAS_DW != 0 && HAS_CONV != 0 && ROWS == COLS && VEC_SERIAL == 0) ? 1 : 0;
    // PIPE_CUTS 1's cuts in the engine, the executor and the sequencer (2
    // has none of them: only the executor's PL_SLOW)
    localparam integer CUTS    = (PIPE_CUTS == 1) ? 1 : 0;

    generate
        if (PROG_WORDS < 2 || (1 << PROG_AW) != PROG_WORDS || PROG_AW > 16) begin : g_bad_prog
            nnf_core_bad_parameter_PROG_WORDS_must_be_a_power_of_two_2_to_65536 u_bad();
        end
        if (CNT_W < 8 || CNT_W > 64 || CNT_W % 8 != 0) begin : g_bad_cnt
            nnf_core_bad_parameter_CNT_W_must_be_8_to_64_in_steps_of_8 u_bad();
        end
        if (MAX_PAYLOAD < 16 || MAX_PAYLOAD > 65535) begin : g_bad_pay
            nnf_core_bad_parameter_MAX_PAYLOAD_must_be_16_to_65535 u_bad();
        end
        if (STATE_WORDS != 0 && (STATE_WORDS < 2 || (1 << $clog2(STATE_WORDS)) != STATE_WORDS ||
                                 STATE_WORDS > (1 << 24))) begin : g_bad_state
            nnf_core_bad_parameter_STATE_WORDS_must_be_0_or_a_power_of_two_2_to_2e24 u_bad();
        end
        if (PIPE_CUTS < 0 || PIPE_CUTS > 2) begin : g_bad_cuts
            nnf_core_bad_parameter_PIPE_CUTS_must_be_0_to_2 u_bad();
        end
        if (BANKS < 0 || BANKS > 8) begin : g_bad_banks
            nnf_core_bad_parameter_BANKS_must_be_0_to_8 u_bad();
        end
    endgenerate

    // ------------------------------------------------------------------
    // Link layer
    // ------------------------------------------------------------------
    wire        rx_accept;
    wire        hdr_valid, end_valid, end_ok, end_tmo, frame_err, byte_in, rx_busy;
    wire [7:0]  h_type, h_seq;
    wire [15:0] h_len;
    wire [31:0] h_arg;
    wire        pl_valid, pl_ready;
    wire [7:0]  pl_data;

    wire        f_pl_valid, f_pl_ready, f_pl_done;
    wire [7:0]  f_pl_data;
    nnf_frame_rx #(.MAX_PAYLOAD(MAX_PAYLOAD), .TIMEOUT(TIMEOUT)) u_rx (
        .clk(clk), .rst(rst), .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .accept(rx_accept), .hdr_valid(hdr_valid), .h_type(h_type), .h_seq(h_seq),
        .h_len(h_len), .h_arg(h_arg), .pl_valid(f_pl_valid), .pl_data(f_pl_data),
        .pl_ready(f_pl_ready), .pl_done(f_pl_done), .end_valid(end_valid), .end_ok(end_ok),
        .end_tmo(end_tmo), .frame_err(frame_err), .byte_in(byte_in), .busy(rx_busy));

    // The payload to the executor: with PIPE_CUTS 1 through a two-byte FIFO,
    // so the receiver's ready (and everything it drives: its state, the
    // link's FIFO) is a register of the FIFO's, not the executor's memory
    // handshake; the frame's CRC bytes wait until the FIFO has drained, so
    // end_valid still follows the last payload byte taken. An abandoned
    // frame (timeout) empties it.
    generate
        if (PIPE_CUTS == 1) begin : g_pl_fifo
            wire pl_full;
            nnf_fifo #(.DEPTH(2), .W(8)) u_pl_fifo (
                .clk(clk), .rst(rst || (end_valid && end_tmo)),
                .in_valid(f_pl_valid), .in_data(f_pl_data), .in_ready(f_pl_ready),
                .out_valid(pl_valid), .out_data(pl_data), .out_ready(pl_ready), .full(pl_full));
            assign f_pl_done = !pl_valid;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_pl = pl_full;
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : g_pl_direct
            assign pl_valid   = f_pl_valid;
            assign pl_data    = f_pl_data;
            assign f_pl_ready = pl_ready;
            assign f_pl_done  = 1'b1;
        end
    endgenerate

    wire        tx_start, tx_idle, tx_done, a_valid, a_ready;
    wire [7:0]  a_type, a_data;
    wire [15:0] a_len;

    nnf_frame_tx u_tx (
        .clk(clk), .rst(rst), .start(tx_start), .type_i(a_type), .seq_i(h_seq), .len_i(a_len),
        .idle(tx_idle), .done(tx_done), .pl_valid(a_valid), .pl_data(a_data), .pl_ready(a_ready),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready));

    // ------------------------------------------------------------------
    // The executor and its memory port, routed by region:
    // 0..3 the engine's buffers, 4 the program, 5 the LIF state
    // ------------------------------------------------------------------
    wire        m_we, m_re, m_wait;
    wire [3:0]  m_sel;
    wire [31:0] m_addr, m_waddr, m_raddr;
    wire [7:0]  m_wdata;
    wire [7:0]  hp_rdata, pm_rdata, st_rdata;
    wire        hp_wait;
    wire        m_eng   = (m_sel <= 4'd3);
    wire        m_prog  = (m_sel == 4'd4);
    wire        m_state = (m_sel == 4'd5);
    assign m_wait = m_eng && hp_wait;
    reg  [3:0]  m_sel_q;                     // the region of the read in flight
    always @(posedge clk) m_sel_q <= m_sel;
    // a read's byte: the cycle after m_re, or with PIPE_CUTS 1 the one after that
    // (the engine's buffers and the LIF state register their RAM's output
    // first: nnf_bufs, nnf_lif's HOST_RD_REG), the program's delayed alike
    wire [7:0]  m_rdata;
    wire [3:0]  m_sel_d;
    wire [7:0]  pm_rdata_d;
    nnf_cut #(.W(4 + 8), .ON(CUTS)) u_rd_cut (
        .clk(clk), .rst(rst), .d({m_sel_q, pm_rdata}), .q({m_sel_d, pm_rdata_d}));
    assign m_rdata = (m_sel_d == 4'd4) ? pm_rdata_d : (m_sel_d == 4'd5) ? st_rdata : hp_rdata;

    wire        prog_start, abort_req, cnt_clear, stall, x_idle;
    wire [PROG_AW-1:0] prog_pc;
    wire        p_run, p_abort, p_refused, p_wait;
    wire [PROG_AW:0] p_pc;
    wire        e_busy, e_done, g_valid;
    wire        l_busy, v_busy, x_busy;
    wire        b_post, b_clear;
    wire [2:0]  b_idx;
    wire [7:0]  b_full;
    wire        prog_idle = !p_run && !e_busy && !g_valid;
    // quiet: idle, or waiting at a BANK acquire with all the work before it
    // done (READ, RUN, WAIT and the other WRITEs execute then). Registered
    // (off the paths from the units' busy into the payload handshake): it
    // may rise a cycle late, and it falls only after the executor's own
    // RUN or BPOST, which it does not look at again for many cycles.
    reg         prog_quiet_q;
    always @(posedge clk)
        if (rst) prog_quiet_q <= 1'b1;
        else     prog_quiet_q <= prog_idle || (p_wait && !e_busy && !g_valid && !l_busy && !v_busy && !x_busy);
    wire        prog_quiet = prog_quiet_q;
    // and idle, registered for the executor (BWAIT, STATUS), off the paths
    // from the sequencer's and the engine's state: a cycle late, which is
    // safe, as only the executor's own prog_start makes it fall
    reg         prog_idle_q;
    always @(posedge clk)
        if (rst) prog_idle_q <= 1'b1;
        else     prog_idle_q <= prog_idle;
    wire [63:0] e_cycles, e_cbusy, e_cmacs;     // the engine's own counters (its harnesses')
    wire        e_row;                          // the engine issued a row last cycle ...
    wire [15:0] e_row_macs;                     // ... with these useful MACs
    wire        cnt_snap, cnt_busy, cnt_re;
    wire [2:0]  cnt_ra;
    wire [CNT_W-1:0] cnt_rd;

    nnf_exec #(.ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
               .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL),
               .PROG_WORDS(PROG_WORDS), .STATE_WORDS(STATE_WORDS), .HAS_CONV(HAS_CONV),
               .HAS_EW(HAS_EW), .HAS_ROW(ROW_ON), .HAS_ACTW(ACTW_ON), .HAS_DW(DW_ON), .HAS_REL(HAS_REL), .LUT_COUNT(LUT_COUNT), .MAX_PAYLOAD(MAX_PAYLOAD),
               .TIMEOUT(TIMEOUT), .CLOCK_HZ(CLOCK_HZ), .CNT_W(CNT_W), .BANKS(BANKS),
               .HAS_TFL_ROUND(HAS_TFL_ROUND), .PIPE_CUTS(CUTS), .PL_SLOW((PIPE_CUTS == 2) ? 1 : 0), .CONFIG_ID(CONFIG_ID)) u_exec (
        .clk(clk), .rst(rst),
        .rx_accept(rx_accept), .hdr_valid(hdr_valid), .h_type(h_type), .h_seq(h_seq),
        .h_len(h_len), .h_arg(h_arg), .pl_valid(pl_valid), .pl_data(pl_data),
        .pl_ready(pl_ready), .end_valid(end_valid), .end_ok(end_ok), .end_tmo(end_tmo),
        .tx_start(tx_start), .a_type(a_type), .a_len(a_len), .tx_done(tx_done),
        .a_valid(a_valid), .a_data(a_data), .a_ready(a_ready),
        .m_we(m_we), .m_re(m_re), .m_sel(m_sel), .m_addr(m_addr), .m_waddr(m_waddr),
        .m_raddr(m_raddr), .m_wdata(m_wdata),
        .m_wait(m_wait), .m_rdata(m_rdata),
        .prog_start(prog_start), .prog_pc(prog_pc), .abort_req(abort_req),
        .prog_idle(prog_idle_q), .prog_quiet(prog_quiet), .prog_waiting(p_wait),
        .prog_pc_now(p_pc), .prog_refused(p_refused),
        .b_post(b_post), .b_clear(b_clear), .b_idx(b_idx), .b_full(b_full),
        .cnt_clear(cnt_clear),
        .cnt_snap(cnt_snap), .cnt_busy(cnt_busy), .cnt_re(cnt_re), .cnt_ra(cnt_ra), .cnt_rd(cnt_rd),
        .stall(stall), .x_idle(x_idle));

    // ------------------------------------------------------------------
    // The micro-program
    // ------------------------------------------------------------------
    wire        g_ready, g_lut, g_rnd, g_chk_start, g_chk_done, g_chk_ok;
    wire [2:0]  g_lut_idx;
    wire        x_start, x_done, x_a_small, x_lut, x_rnd;
    wire        r_start, r_tbl, r_ln;
    wire [7:0]  r_zp_in, r_zp_out;
    wire [62:0] r_eps;
    wire              xp_re;                      // LAYERNORM's and DWCONV's P reads (nnf_gemm's P check port)
    wire [P_AW-1:0]   xp_ra;
    wire              ln_p_re, dw_p_re;           // (one of the two runs at a time)
    wire [P_AW-1:0]   ln_p_ra, dw_p_ra;
    wire              xw_re;                      // DWCONV's W reads
    wire [W_AW-1:0]   xw_ra;
    wire [COLS*8-1:0] xw_rd;
    assign xp_re = ln_p_re || dw_p_re;
    assign xp_ra = dw_p_re ? dw_p_ra : ln_p_ra;
    wire [COLS*72-1:0] xp_rd;
    wire        a_start, a_tr, a_sum;             // ACTW (its N, M and bases are EW's and GEMM's)
    wire [7:0]  a_za;
    wire              aw_we, ap_we;               // the ACTW unit's W and P writes
    wire [W_AW-1:0]   aw_wa;
    wire [COLS*8-1:0] aw_wd;
    wire [P_AW-1:0]   ap_wa;
    wire [COLS*32-1:0] ap_wd;
    wire [1:0]  x_op;
    wire [15:0] x_n, x_m;
    wire [31:0] x_b_base;
    wire [7:0]  x_zp_a, x_zp_b, x_shift, x_zp, x_lo, x_hi;
    wire [30:0] x_m0_s, x_m0;
    wire [4:0]  x_nshift_s;
    wire [2:0]  x_lut_idx;
    wire [15:0] g_m, g_k, g_n;
    wire [31:0] g_a_base, g_w_base, g_p_base, g_o_base;
    wire [7:0]  g_zp, g_lo, g_hi;
    wire        l_start, l_done, l_update;
    wire [15:0] l_m, l_n;
    wire [31:0] l_a_base, l_o_base, l_s_base;
    wire [11:0] l_du, l_dv;
    wire [16:0] l_vth;
    wire [12:0] l_bm;
    wire [2:0]  l_be;
    wire        l_rsub, l_cnt, l_clr;
    wire [3:0]  l_refr;
    wire        g_conv, g_pool2, v_start, v_done, v_avg, v_pack, v_dw;
    wire [$clog2(ROWS):0] v_cin;
    wire [10:0] w_h, w_w, w_b, w_oh, w_ow, w_kh, w_kw;
    wire [2:0]  w_sh, w_sw, w_ph, w_pw;
    wire [15:0] w_m, w_ct, w_kt, v_c;
    wire [ACT_AW-1:0] w_wb, w_hwb;
    wire [7:0]  w_zp_in;

    nnf_seq #(.ROWS(ROWS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS), .P_WORDS(P_WORDS),
              .PROG_WORDS(PROG_WORDS), .STATE_WORDS(STATE_WORDS), .HAS_CONV(HAS_CONV),
              .HAS_EW(HAS_EW), .HAS_ROW(ROW_ON), .HAS_ACTW(ACTW_ON), .HAS_DW(DW_ON), .HAS_REL(HAS_REL), .LUT_COUNT(LUT_COUNT), .BANKS(BANKS),
              .PIPE_CUTS(CUTS)) u_seq (
        .clk(clk), .rst(rst),
        .start(prog_start), .start_pc(prog_pc), .abort_req(abort_req), .abort_q(p_abort),
        .running_q(p_run), .pc_q(p_pc), .refused(p_refused), .waiting(p_wait),
        .b_post(b_post), .b_clear(b_clear), .b_idx(b_idx), .b_full(b_full),
        .pm_we(m_we && m_prog), .pm_waddr(m_waddr), .pm_wdata(m_wdata),
        .pm_re(m_re && m_prog), .pm_raddr(m_raddr), .pm_rdata(pm_rdata),
        .g_valid(g_valid), .g_ready(g_ready), .g_busy(e_busy),
        .g_m(g_m), .g_k(g_k), .g_n(g_n), .g_a_base(g_a_base), .g_w_base(g_w_base),
        .g_p_base(g_p_base), .g_o_base(g_o_base), .g_zp(g_zp), .g_lo(g_lo), .g_hi(g_hi),
        .g_lut(g_lut), .g_lut_idx(g_lut_idx), .g_rnd(g_rnd), .g_chk_start(g_chk_start), .g_chk_done(g_chk_done), .g_chk_ok(g_chk_ok),
        .l_start(l_start), .l_busy(l_busy), .l_done(l_done),
        .l_m(l_m), .l_n(l_n), .l_a_base(l_a_base), .l_o_base(l_o_base), .l_s_base(l_s_base),
        .l_du(l_du), .l_dv(l_dv), .l_vth(l_vth), .l_bias_mant(l_bm), .l_bias_exp(l_be),
        .l_reset_sub(l_rsub), .l_count(l_cnt), .l_clear(l_clr), .l_refractory(l_refr),
        .g_conv(g_conv), .g_pool2(g_pool2), .w_h(w_h), .w_w(w_w), .w_b(w_b), .w_oh(w_oh), .w_ow(w_ow), .w_kh(w_kh),
        .w_kw(w_kw), .w_sh(w_sh), .w_sw(w_sw), .w_ph(w_ph), .w_pw(w_pw), .w_m(w_m), .w_ct(w_ct),
        .w_kt(w_kt), .w_wb(w_wb), .w_hwb(w_hwb), .w_zp_in(w_zp_in),
        .v_start(v_start), .v_done(v_done), .v_avg(v_avg), .v_c(v_c), .v_pack(v_pack), .v_cin(v_cin), .v_dw(v_dw),
        .x_start(x_start), .x_done(x_done), .x_op(x_op), .x_n(x_n), .x_m(x_m), .x_b_base(x_b_base),
        .x_zp_a(x_zp_a), .x_zp_b(x_zp_b), .x_shift(x_shift), .x_zp(x_zp), .x_lo(x_lo), .x_hi(x_hi),
        .x_m0_s(x_m0_s), .x_m0(x_m0), .x_nshift_s(x_nshift_s), .x_a_small(x_a_small), .x_lut(x_lut), .x_rnd(x_rnd),
        .x_lut_idx(x_lut_idx), .r_start(r_start), .r_tbl(r_tbl), .r_ln(r_ln), .r_zp_in(r_zp_in),
        .r_zp_out(r_zp_out), .r_eps(r_eps),
        .a_start(a_start), .a_tr(a_tr), .a_sum(a_sum), .a_za(a_za));

    assign running = p_run || e_busy;
    assign idle    = x_idle && !rx_busy && !hdr_valid && tx_idle && prog_quiet;

    // ------------------------------------------------------------------
    // The engine
    // ------------------------------------------------------------------
    // the LIF core's ACT port into the engine's buffer
    wire              l_act_re, l_act_we;
    wire [31:0]       l_act_ra, l_act_wa;
    wire [ROWS*8-1:0] l_act_rd, l_act_wd;
    // The engine's word-wide ACT port: the LIF core's, the vector unit's or
    // the EW unit's (the sequencer runs one of them at a time, each while
    // the engine is idle).
    wire              v_act_re, v_act_we;
    wire [ACT_AW-1:0] v_act_ra, v_act_wa;
    wire [ROWS*8-1:0] v_act_wd;
    wire              e_act_re, e_act_we;
    wire [ACT_AW-1:0] e_act_ra, e_act_wa;
    wire [ROWS*8-1:0] e_act_wd;
    wire              x_act_re = x_busy ? e_act_re : v_busy ? v_act_re : l_act_re;
    wire              x_act_we = x_busy ? e_act_we : v_busy ? v_act_we : l_act_we;
    wire [31:0]       x_act_ra = x_busy ? {{(32-ACT_AW){1'b0}}, e_act_ra}
                               : v_busy ? {{(32-ACT_AW){1'b0}}, v_act_ra} : l_act_ra;
    wire [31:0]       x_act_wa = x_busy ? {{(32-ACT_AW){1'b0}}, e_act_wa}
                               : v_busy ? {{(32-ACT_AW){1'b0}}, v_act_wa} : l_act_wa;
    wire [ROWS*8-1:0] x_act_wd = x_busy ? e_act_wd : v_busy ? v_act_wd : l_act_wd;

    nnf_gemm #(.ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
               .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL), .VEC_LANES(VEC_LANES),
               .PE_DSP(PE_DSP), .PE_LUT_ROWS(PE_LUT_ROWS), .PIPE_CUTS(CUTS), .CNT_W(CNT_W), .HAS_CONV(HAS_CONV), .LUT_COUNT(LUT_COUNT),
               .W_SPRAM(W_SPRAM), .TFL_ROUND(HAS_TFL_ROUND), .CMD_REGS(0), .KT_CMD(1)) u_gemm (
        .clk(clk), .rst(rst),
        .cmd_valid(g_valid), .cmd_ready(g_ready),
        .cmd_m(g_m), .cmd_k(g_k), .cmd_n(g_n),
        .cmd_a_base(g_a_base), .cmd_w_base(g_w_base), .cmd_p_base(g_p_base), .cmd_o_base(g_o_base),
        .cmd_zp(g_zp), .cmd_lo(g_lo), .cmd_hi(g_hi), .cmd_lut(g_lut), .cmd_lut_sel(g_lut_idx), .cmd_rnd(g_rnd),
        .cmd_conv(g_conv), .cmd_pool2(g_pool2), .cmd_kt(w_kt), .cmd_ct(w_ct), .cmd_h(w_h), .cmd_w(w_w),
        .cmd_b(w_b), .cmd_oh(g_pool2 ? {1'b0, w_oh[10:1]} : w_oh),
        .cmd_ow(g_pool2 ? {1'b0, w_ow[10:1]} : w_ow), .cmd_kh(w_kh[2:0]), .cmd_kw(w_kw[2:0]),
        .cmd_sh(w_sh), .cmd_sw(w_sw), .cmd_ph(w_ph), .cmd_pw(w_pw),
        .cmd_wb({{(32-ACT_AW){1'b0}}, w_wb}), .cmd_hwb({{(32-ACT_AW){1'b0}}, w_hwb}),
        .cmd_zp_in(w_zp_in),
        .busy(e_busy), .done(e_done), .cmd_abort(p_abort),
        .chk_start(g_chk_start), .chk_done(g_chk_done), .chk_ok(g_chk_ok),
        .hp_we(m_we && m_eng), .hp_re(m_re && m_eng), .hp_sel(m_sel[1:0]), .hp_addr(m_addr),
        .hp_wdata(m_wdata), .hp_rdata(hp_rdata), .hp_wait(hp_wait),
        .lp_re(x_act_re), .lp_ra(x_act_ra), .lp_rd(l_act_rd),
        .lp_we(x_act_we), .lp_wa(x_act_wa), .lp_wd(x_act_wd),
        .aw_we(aw_we), .aw_wa(aw_wa), .aw_wd(aw_wd), .ap_we(ap_we), .ap_wa(ap_wa), .ap_wd(ap_wd),
        .xp_re(xp_re), .xp_ra(xp_ra), .xp_rd(xp_rd), .xw_re(xw_re), .xw_ra(xw_ra), .xw_rd(xw_rd),
        .cnt_clear(cnt_clear), .cnt_cycles(e_cycles), .cnt_busy(e_cbusy), .cnt_macs(e_cmacs),
        .cnt_row(e_row), .cnt_row_macs(e_row_macs));

    // ------------------------------------------------------------------
    // The LIF core (docs/protocol.md, LIF; rtl/core/nnf_lif.v)
    // ------------------------------------------------------------------
    generate
        if (HAS_LIF != 0) begin : g_lif
            nnf_lif #(.ROWS(ROWS), .ACT_AW(ACT_AW),
                      .STATE_WORDS(HAS_LIF != 0 ? STATE_WORDS : 2), .LANES(LIF_LANES),
                      .HOST_RD_REG(CUTS)) u_lif (
                .clk(clk), .rst(rst),
                .start(l_start), .abort(p_abort),
                .c_m(l_m), .c_n(l_n), .c_a_base(l_a_base), .c_o_base(l_o_base),
                .c_s_base(l_s_base), .c_du(l_du), .c_dv(l_dv), .c_vth(l_vth),
                .c_bias_mant(l_bm), .c_bias_exp(l_be), .c_reset_sub(l_rsub),
                .c_refractory(l_refr), .c_count(l_cnt), .c_clear(l_clr),
                .busy(l_busy), .done(l_done), .update(l_update),
                .act_re(l_act_re), .act_ra(l_act_ra[ACT_AW-1:0]), .act_rd(l_act_rd),
                .act_we(l_act_we), .act_wa(l_act_wa[ACT_AW-1:0]), .act_wd(l_act_wd),
                .hp_we(m_we && m_state), .hp_waddr(m_waddr), .hp_wdata(m_wdata),
                .hp_re(m_re && m_state), .hp_raddr(m_raddr), .hp_rdata(st_rdata));
            if (ACT_AW < 32) begin : g_pad
                assign l_act_ra[31:ACT_AW] = {(32-ACT_AW){1'b0}};
                assign l_act_wa[31:ACT_AW] = {(32-ACT_AW){1'b0}};
            end
        end else begin : g_no_lif
            assign l_busy = 1'b0;
            assign l_done = 1'b0;
            assign l_update = 1'b0;
            assign l_act_re = 1'b0;
            assign l_act_we = 1'b0;
            assign l_act_ra = 32'd0;
            assign l_act_wa = 32'd0;
            assign l_act_wd = {(ROWS*8){1'b0}};
            assign st_rdata = 8'd0;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_lif = &{1'b0, l_start, l_m, l_n, l_a_base, l_o_base, l_s_base, l_du, l_dv,
                                l_vth, l_bm, l_be, l_rsub, l_cnt, l_clr, l_refr, m_state,
                                l_act_rd, p_abort};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // ------------------------------------------------------------------
    // The link's counters (the engine keeps cycles, busy and MACs):
    // CNT_W bits each, wrapping; COUNTERS reads the upper bytes as 0
    // ------------------------------------------------------------------
    generate
        if (HAS_CONV != 0) begin : g_vu
            wire              pl_busy, pl_done, pl_act_re, pl_act_we;
            wire [ACT_AW-1:0] pl_act_ra, pl_act_wa;
            wire [ROWS*8-1:0] pl_act_wd;
            // PACK's fast cache where the configuration spends area on speed (VEC_SERIAL 0:
            // the simulator), the two-word one on the boards
            nnf_vu #(.ROWS(ROWS), .ACT_AW(ACT_AW), .DATA_REG(CUTS), .PACK_FAST(VEC_SERIAL == 0 ? 1 : 0)) u_vu (
                .clk(clk), .rst(rst), .start(v_start && !v_dw), .abort(p_abort),
                .c_pack(v_pack), .c_cin(v_cin), .c_zp_in(w_zp_in),
                .c_avg(v_avg), .c_c(v_c), .c_ct(w_ct), .c_h(w_h), .c_w(w_w), .c_b(w_b),
                .c_kh(w_kh), .c_kw(w_kw), .c_sh(w_sh), .c_sw(w_sw), .c_ph(w_ph), .c_pw(w_pw),
                .c_oh(w_oh), .c_ow(w_ow), .c_m(w_m), .c_wb(w_wb), .c_hwb(w_hwb),
                .c_a_base(g_a_base[ACT_AW-1:0]), .c_o_base(g_o_base[ACT_AW-1:0]),
                .c_lo(g_lo), .c_hi(g_hi), .busy(pl_busy), .done(pl_done),
                .act_re(pl_act_re), .act_ra(pl_act_ra), .act_rd(l_act_rd),
                .act_we(pl_act_we), .act_wa(pl_act_wa), .act_wd(pl_act_wd));
            // the depthwise unit (docs/conv.md; rtl/core/nnf_vu_dw.v) beside
            // it: one of the two runs at a time, its ports chosen while busy;
            // W words through the engine's xw port, P entries through xp
            wire              dw_busy, dw_done, dw_act_re, dw_act_we;
            wire [ACT_AW-1:0] dw_act_ra, dw_act_wa;
            wire [ROWS*8-1:0] dw_act_wd;
            if (DW_ON != 0) begin : g_dw
                nnf_vu_dw #(.ROWS(ROWS), .ACT_AW(ACT_AW), .W_AW(W_AW), .P_AW(P_AW), .DATA_REG(CUTS),
                            .TFL_ROUND(HAS_TFL_ROUND)) u_dw (
                    .clk(clk), .rst(rst), .start(v_start && v_dw), .abort(p_abort),
                    .c_c(v_c), .c_ct(w_ct), .c_h(w_h), .c_w(w_w), .c_b(w_b), .c_kh(w_kh[2:0]), .c_kw(w_kw[2:0]),
                    .c_sh(w_sh), .c_sw(w_sw), .c_ph(w_ph), .c_pw(w_pw), .c_oh(w_oh), .c_ow(w_ow), .c_m(w_m),
                    .c_wb(w_wb), .c_hwb(w_hwb), .c_a_base(g_a_base[ACT_AW-1:0]), .c_o_base(g_o_base[ACT_AW-1:0]),
                    .c_w_base(g_w_base[W_AW-1:0]), .c_p_base(g_p_base[P_AW-1:0]), .c_zp_in(w_zp_in),
                    .c_zp(g_zp), .c_lo(g_lo), .c_hi(g_hi), .c_rnd(g_rnd && (HAS_TFL_ROUND != 0)),
                    .busy(dw_busy), .done(dw_done),
                    .act_re(dw_act_re), .act_ra(dw_act_ra), .act_rd(l_act_rd),
                    .act_we(dw_act_we), .act_wa(dw_act_wa), .act_wd(dw_act_wd),
                    .w_re(xw_re), .w_ra(xw_ra), .w_rd(xw_rd[ROWS*8-1:0]),
                    .p_re(dw_p_re), .p_ra(dw_p_ra), .p_rd(xp_rd[ROWS*72-1:0]));
            end else begin : g_no_dw
                assign {dw_busy, dw_done, dw_act_re, dw_act_we, xw_re, dw_p_re} = 6'd0;
                assign {dw_act_ra, dw_act_wa, dw_act_wd} = {(2*ACT_AW + ROWS*8){1'b0}};
                assign xw_ra   = {W_AW{1'b0}};
                assign dw_p_ra = {P_AW{1'b0}};
            end
            assign v_busy   = pl_busy || dw_busy;
            assign v_done   = pl_done || dw_done;
            assign v_act_re = pl_act_re || dw_act_re;
            assign v_act_we = pl_act_we || dw_act_we;
            assign v_act_ra = dw_busy ? dw_act_ra : pl_act_ra;
            assign v_act_wa = dw_busy ? dw_act_wa : pl_act_wa;
            assign v_act_wd = dw_busy ? dw_act_wd : pl_act_wd;
        end else begin : g_no_vu
            assign v_busy = 1'b0;
            assign v_done = 1'b0;
            assign v_act_re = 1'b0;
            assign v_act_we = 1'b0;
            assign v_act_ra = {ACT_AW{1'b0}};
            assign v_act_wa = {ACT_AW{1'b0}};
            assign v_act_wd = {(ROWS*8){1'b0}};
            assign {xw_re, dw_p_re} = 2'd0;
            assign xw_ra   = {W_AW{1'b0}};
            assign dw_p_ra = {P_AW{1'b0}};
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_vu = &{1'b0, v_start, v_avg, v_pack, v_cin, v_c, w_oh, w_ow, w_m, w_kh[10:3], w_kw[10:3], v_dw};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // ------------------------------------------------------------------
    // The EW unit (docs/rnn.md; rtl/core/nnf_vu_ew.v): its LUT copies take
    // the host's LUT writes as the engine's do
    // ------------------------------------------------------------------
    generate
        if (HAS_EW != 0) begin : g_ew
            wire              ew_busy, ew_done, ew_act_re, ew_act_we;
            wire [ACT_AW-1:0] ew_act_ra, ew_act_wa;
            wire [ROWS*8-1:0] ew_act_wd;
            nnf_vu_ew #(.ROWS(ROWS), .ACT_AW(ACT_AW), .LANES(EW_LANES), .LUT_COUNT(LUT_COUNT),
                        .TFL_ROUND(HAS_TFL_ROUND)) u_ew (
                .clk(clk), .rst(rst), .start(x_start), .abort(p_abort),
                .c_op(x_op), .c_n(x_n), .c_m(x_m), .c_a_base(g_a_base[ACT_AW-1:0]),
                .c_b_base(x_b_base[ACT_AW-1:0]), .c_o_base(g_o_base[ACT_AW-1:0]),
                .c_zp_a(x_zp_a), .c_zp_b(x_zp_b), .c_m0_s(x_m0_s), .c_nshift_s(x_nshift_s),
                .c_a_small(x_a_small), .c_m0(x_m0), .c_shift(x_shift), .c_zp(x_zp), .c_lo(x_lo),
                .c_hi(x_hi), .c_rnd(x_rnd), .c_lut(x_lut), .c_lut_sel(x_lut_idx),
                .lw_we(m_we && m_sel == 4'd3), .lw_addr(m_addr[10:0]), .lw_data(m_wdata),
                .busy(ew_busy), .done(ew_done),
                .act_re(ew_act_re), .act_ra(ew_act_ra), .act_rd(l_act_rd),
                .act_we(ew_act_we), .act_wa(ew_act_wa), .act_wd(ew_act_wd));
            // the row unit (docs/attention.md; rtl/core/nnf_vu_row.v) beside it:
            // one of the two runs at a time, its ports chosen while it is busy
            wire              rw_busy, rw_done, rw_act_re, rw_act_we;
            wire [ACT_AW-1:0] rw_act_ra, rw_act_wa;
            wire [ROWS*8-1:0] rw_act_wd;
            if (ROW_ON != 0) begin : g_row
                // SOFTMAX (nnf_vu_row) and LAYERNORM (nnf_vu_ln): one of the two runs
                wire              sm_busy, sm_done, sm_act_re, sm_act_we;
                wire [ACT_AW-1:0] sm_act_ra, sm_act_wa;
                wire [ROWS*8-1:0] sm_act_wd;
                wire              ln_busy, ln_done, ln_act_re, ln_act_we;
                wire [ACT_AW-1:0] ln_act_ra, ln_act_wa;
                wire [ROWS*8-1:0] ln_act_wd;
                nnf_vu_row #(.ROWS(ROWS), .ACT_AW(ACT_AW), .LUT_COUNT(LUT_COUNT >= 8 ? 8 : 4)) u_row (
                    .clk(clk), .rst(rst), .start(r_start && !r_ln), .abort(p_abort), .c_tbl(r_tbl),
                    .c_n(x_n), .c_m(x_m), .c_a_base(g_a_base[ACT_AW-1:0]), .c_o_base(g_o_base[ACT_AW-1:0]),
                    .lw_we(m_we && m_sel == 4'd3), .lw_addr(m_addr[10:0]), .lw_data(m_wdata),
                    .busy(sm_busy), .done(sm_done),
                    .act_re(sm_act_re), .act_ra(sm_act_ra), .act_rd(l_act_rd),
                    .act_we(sm_act_we), .act_wa(sm_act_wa), .act_wd(sm_act_wd));
                nnf_vu_ln #(.ROWS(ROWS), .ACT_AW(ACT_AW), .P_AW(P_AW)) u_ln (
                    .clk(clk), .rst(rst), .start(r_start && r_ln), .abort(p_abort),
                    .c_n(x_n), .c_m(x_m), .c_zp_in(r_zp_in), .c_zp_out(r_zp_out), .c_eps(r_eps),
                    .c_a_base(g_a_base[ACT_AW-1:0]), .c_o_base(g_o_base[ACT_AW-1:0]),
                    .c_p_base(g_p_base[P_AW-1:0]),
                    .busy(ln_busy), .done(ln_done),
                    .act_re(ln_act_re), .act_ra(ln_act_ra), .act_rd(l_act_rd),
                    .act_we(ln_act_we), .act_wa(ln_act_wa), .act_wd(ln_act_wd),
                    .p_re(ln_p_re), .p_ra(ln_p_ra), .p_rd(xp_rd));
                assign rw_busy   = sm_busy || ln_busy;
                assign rw_done   = sm_done || ln_done;
                assign rw_act_re = sm_act_re || ln_act_re;
                assign rw_act_we = sm_act_we || ln_act_we;
                assign rw_act_ra = ln_busy ? ln_act_ra : sm_act_ra;
                assign rw_act_wa = ln_busy ? ln_act_wa : sm_act_wa;
                assign rw_act_wd = ln_busy ? ln_act_wd : sm_act_wd;
            end else begin : g_no_row
                assign {rw_busy, rw_done, rw_act_re, rw_act_we, ln_p_re} = 5'd0;
                assign {rw_act_ra, rw_act_wa, rw_act_wd} = {(2*ACT_AW + ROWS*8){1'b0}};
                assign ln_p_ra = {P_AW{1'b0}};
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_row = &{1'b0, r_start, r_tbl, r_ln, r_zp_in, r_zp_out, r_eps};
                /* verilator lint_on UNUSEDSIGNAL */
            end
            // the ACTW unit (docs/attention.md; rtl/core/nnf_vu_actw.v): ACT
            // reads through the same port, W and P writes through its own
            wire              aw_busy, aw_done, aw_act_re;
            wire [ACT_AW-1:0] aw_act_ra;
            if (ACTW_ON != 0) begin : g_actw
                nnf_vu_actw #(.ROWS(ROWS), .ACT_AW(ACT_AW), .W_AW(W_AW), .P_AW(P_AW)) u_actw (
                    .clk(clk), .rst(rst), .start(a_start), .abort(p_abort), .c_tr(a_tr), .c_sum(a_sum),
                    .c_za(a_za), .c_n(x_n), .c_m(x_m), .c_a_base(g_a_base[ACT_AW-1:0]),
                    .c_w_base(g_w_base[W_AW-1:0]), .c_p_base(g_p_base[P_AW-1:0]),
                    .busy(aw_busy), .done(aw_done), .act_re(aw_act_re), .act_ra(aw_act_ra), .act_rd(l_act_rd),
                    .w_we(aw_we), .w_wa(aw_wa), .w_wd(aw_wd), .p_we(ap_we), .p_wa(ap_wa), .p_wd(ap_wd));
            end else begin : g_no_actw
                assign {aw_busy, aw_done, aw_act_re, aw_we, ap_we} = 5'd0;
                assign aw_act_ra = {ACT_AW{1'b0}};
                assign {aw_wa, aw_wd, ap_wa, ap_wd} = {(W_AW + COLS*8 + P_AW + COLS*32){1'b0}};
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_actw = &{1'b0, a_start, a_tr, a_sum, a_za};
                /* verilator lint_on UNUSEDSIGNAL */
            end
            assign x_busy   = ew_busy || rw_busy || aw_busy;
            assign x_done   = ew_done || rw_done || aw_done;
            assign e_act_re = ew_act_re || rw_act_re || aw_act_re;
            assign e_act_we = ew_act_we || rw_act_we;
            assign e_act_ra = aw_busy ? aw_act_ra : rw_busy ? rw_act_ra : ew_act_ra;
            assign e_act_wa = rw_busy ? rw_act_wa : ew_act_wa;
            assign e_act_wd = rw_busy ? rw_act_wd : ew_act_wd;
        end else begin : g_no_ew
            assign x_busy = 1'b0;
            assign x_done = 1'b0;
            assign e_act_re = 1'b0;
            assign e_act_we = 1'b0;
            assign e_act_ra = {ACT_AW{1'b0}};
            assign e_act_wa = {ACT_AW{1'b0}};
            assign e_act_wd = {(ROWS*8){1'b0}};
            assign {aw_we, ap_we, ln_p_re} = 3'd0;
            assign {aw_wa, aw_wd, ap_wa, ap_wd} = {(W_AW + COLS*8 + P_AW + COLS*32){1'b0}};
            assign ln_p_ra = {P_AW{1'b0}};
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_ew = &{1'b0, x_start, x_op, x_n, x_m, x_b_base, x_zp_a, x_zp_b, x_shift, x_zp,
                               x_lo, x_hi, x_m0_s, x_m0, x_nshift_s, x_a_small, x_lut, x_lut_idx, x_rnd,
                               r_start, r_tbl, a_start, a_tr, a_sum, a_za, r_ln, r_zp_in, r_zp_out, r_eps};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // The seven counters of the COUNTERS record, in its order, in block RAM
    // with their snapshot (nnf_cnt_table): cycles, engine busy, useful MACs
    // (at most ROWS * COLS a row), stall, bytes in, bytes out, frame errors.
    localparam integer MACS_W = $clog2(ROWS * COLS + 1);
    localparam [MACS_W-1:0] CNT_ONE = 1;
    wire [7*MACS_W-1:0] cnt_amt = {{4{CNT_ONE}}, e_row_macs[MACS_W-1:0], {2{CNT_ONE}}};
    nnf_cnt_table #(.N(7), .W(CNT_W), .AW(MACS_W),
                    .AWS({8'd1, 8'd1, 8'd1, 8'd1, MACS_W[7:0], 8'd1, 8'd1})) u_cnt (
        .clk(clk), .rst(rst), .clear(cnt_clear),
        .en({frame_err, tx_valid && tx_ready, byte_in, stall, e_row, e_busy, 1'b1}),
        .amt(cnt_amt),
        .snap(cnt_snap), .busy(cnt_busy), .re(cnt_re), .ra(cnt_ra), .rd(cnt_rd));

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, e_done, e_cycles, e_cbusy, e_cmacs, l_update, x_b_base, e_row_macs, xp_rd, xw_rd};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
