// nnf_core: the device. Link layer + command executor + micro-program
// sequencer (GEMM, BARRIER, LIF, LOOP) + the GEMM engine and its buffers +
// the LIF core and its neuron-state memory, on a generic byte stream
// (8-bit valid/ready each way). Board-independent: a board top adds a link
// adapter (UART, FT245, ...) in front of it.
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
    parameter integer PE_DSP      = 1,
    parameter integer PROG_WORDS  = 64,       // micro-program instructions
    parameter integer STATE_WORDS = 16384,    // LIF state entries (0: no LIF core)
    parameter integer LIF_LANES   = 1,        // LIF neurons per cycle: a power of two, 1..ROWS
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer TIMEOUT     = 65536,    // idle cycles that abandon a frame (boards: ~0.1 s)
    parameter integer CLOCK_HZ    = 0,        // reported by INFO (0: unknown)
    parameter integer CNT_W       = 64        // counter bits, 8..64 by 8 (COUNTERS reads the rest as 0)
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
    output wire        idle               // nothing in progress: no frame, no answer, no program
);
    localparam integer PROG_AW = $clog2(PROG_WORDS);
    localparam [15:0] PROTO_VERSION = 16'd1;
    localparam [15:0] RTL_VERSION   = 16'h0002;     // 0.2: LIF, LOOP, STATE
    localparam integer HAS_LIF = (STATE_WORDS != 0) ? 1 : 0;

    // region sizes in bytes
    localparam [31:0] SZ_ACT  = ACT_WORDS * ROWS;
    localparam [31:0] SZ_W    = W_WORDS * COLS;
    localparam [31:0] SZ_P    = P_WORDS * COLS * 16;
    localparam [31:0] SZ_LUT  = 256;
    localparam [31:0] SZ_PROG = PROG_WORDS * 32;
    localparam [31:0] SZ_STATE = STATE_WORDS * 16;

    // command and answer codes
    localparam [7:0] C_INFO = 8'h01, C_WRITE = 8'h02, C_READ = 8'h03, C_RUN = 8'h04,
                     C_WAIT = 8'h05, C_STATUS = 8'h06, C_COUNTERS = 8'h07, C_RESET = 8'h08;
    localparam [7:0] A_ERR = 8'hFF;
    localparam [7:0] E_BAD_CRC = 8'd1, E_UNKNOWN = 8'd2, E_BAD_LEN = 8'd3, E_RANGE = 8'd4,
                     E_BAD_PROG = 8'd5, E_TIMEOUT = 8'd6, E_BAD_INSN = 8'd7;

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
    endgenerate

    // ------------------------------------------------------------------
    // Link layer
    // ------------------------------------------------------------------
    wire        rx_accept;
    wire        hdr_valid, end_valid, end_ok, end_tmo, frame_err, byte_in, rx_busy;
    wire [7:0]  h_type, h_seq;
    wire [15:0] h_len;
    wire [31:0] h_arg;
    wire        pl_valid;
    wire [7:0]  pl_data;
    wire        pl_ready;

    nnf_frame_rx #(.MAX_PAYLOAD(MAX_PAYLOAD), .TIMEOUT(TIMEOUT)) u_rx (
        .clk(clk), .rst(rst), .rx_valid(rx_valid), .rx_data(rx_data), .rx_ready(rx_ready),
        .accept(rx_accept), .hdr_valid(hdr_valid), .h_type(h_type), .h_seq(h_seq),
        .h_len(h_len), .h_arg(h_arg), .pl_valid(pl_valid), .pl_data(pl_data),
        .pl_ready(pl_ready), .end_valid(end_valid), .end_ok(end_ok), .end_tmo(end_tmo),
        .frame_err(frame_err), .byte_in(byte_in), .busy(rx_busy));

    reg         tx_start;
    reg  [7:0]  a_type;            // answer type
    reg  [15:0] a_len;             // answer payload length
    wire        tx_idle, tx_done, tx_req;
    reg  [7:0]  a_byte;            // answer payload byte (1 cycle after tx_req)
    reg  [7:0]  a_data;            // what the transmitter takes (a_byte or memory, registered)

    nnf_frame_tx u_tx (
        .clk(clk), .rst(rst), .start(tx_start), .type_i(a_type), .seq_i(r_seq), .len_i(a_len),
        .idle(tx_idle), .done(tx_done), .pl_req(tx_req), .pl_data(a_data),
        .tx_valid(tx_valid), .tx_data(tx_data), .tx_ready(tx_ready));

    // ------------------------------------------------------------------
    // The engine
    // ------------------------------------------------------------------
    reg         e_cmd_valid;
    wire        e_cmd_ready, e_busy, e_done;
    reg         e_chk_start;           // the engine's m0 / shift check of a GEMM's P entries
    wire        e_chk_done, e_chk_ok;
    reg  [15:0] e_m, e_k, e_n;
    reg  [31:0] e_a, e_w, e_p, e_o;
    reg  [7:0]  e_zp, e_lo, e_hi;
    reg         e_lut;
    reg         hp_we;             // write path (registered, from the payload)
    reg  [1:0]  hp_wsel;
    reg  [31:0] hp_waddr;
    reg  [7:0]  hp_wdata;
    wire        rd_now;            // read path (combinational, for READ answers)
    wire [31:0] rd_addr;
    // Select and address: the read side for the whole of X_SEND, where no
    // write is pending (hp_we is 0 from X_ANS on) and a RAM not read keeps
    // its output; so the transmitter's request (rd_now) stays off the path
    // through hp_wait to the payload handshake.
    wire        hp_re   = rd_now && (r_region <= 4'd3);
    wire        hp_rside = (xst == X_SEND);
    wire [1:0]  hp_sel  = hp_rside ? r_region[1:0] : hp_wsel;
    wire [31:0] hp_addr = hp_rside ? rd_addr : hp_waddr;
    wire [7:0]  hp_rdata;
    wire        hp_wait;
    reg         cnt_clear;
    wire [63:0] e_cycles, e_cbusy, e_cmacs;
    // the LIF core's ACT port into the engine's buffer
    wire              l_act_re, l_act_we;
    wire [31:0]       l_act_ra, l_act_wa;
    wire [ROWS*8-1:0] l_act_rd, l_act_wd;

    nnf_gemm #(.ROWS(ROWS), .COLS(COLS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS),
               .P_WORDS(P_WORDS), .ACC_DEPTH(ACC_DEPTH), .VEC_SERIAL(VEC_SERIAL),
               .PE_DSP(PE_DSP)) u_gemm (
        .clk(clk), .rst(rst),
        .cmd_valid(e_cmd_valid), .cmd_ready(e_cmd_ready),
        .cmd_m(e_m), .cmd_k(e_k), .cmd_n(e_n),
        .cmd_a_base(e_a), .cmd_w_base(e_w), .cmd_p_base(e_p), .cmd_o_base(e_o),
        .cmd_zp(e_zp), .cmd_lo(e_lo), .cmd_hi(e_hi), .cmd_lut(e_lut),
        .busy(e_busy), .done(e_done), .cmd_abort(p_abort),
        .chk_start(e_chk_start), .chk_done(e_chk_done), .chk_ok(e_chk_ok),
        .hp_we(hp_we), .hp_re(hp_re), .hp_sel(hp_sel), .hp_addr(hp_addr),
        .hp_wdata(hp_wdata), .hp_rdata(hp_rdata), .hp_wait(hp_wait),
        .lp_re(l_act_re), .lp_ra(l_act_ra), .lp_rd(l_act_rd),
        .lp_we(l_act_we), .lp_wa(l_act_wa), .lp_wd(l_act_wd),
        .cnt_clear(cnt_clear), .cnt_cycles(e_cycles), .cnt_busy(e_cbusy), .cnt_macs(e_cmacs));

    // ------------------------------------------------------------------
    // Program memory (32-byte instructions) and the sequencer
    //
    // The memory is 32 bits wide, eight words per instruction (word i =
    // bytes 4i..4i+3 of docs/protocol.md's layout), so it is one block RAM
    // on an iCE40 at small depths instead of sixteen. The sequencer fetches
    // an instruction as eight sequential reads (P_LOAD) and latches each
    // word's fields as it arrives; the fields of GEMM, LIF and LOOP share
    // registers (the same bytes of the instruction): the engine samples its
    // command when it accepts it, and no fetch happens while a LIF step runs.
    // ------------------------------------------------------------------
    localparam integer PM_AW = PROG_AW + 3;
    reg               pm_we_on;            // a WRITE byte to PROG this cycle
    reg  [PM_AW-1:0]  pm_waddr;
    reg  [1:0]        pm_wbyte;
    reg  [7:0]        pm_wdata;
    wire [3:0]        pm_we;
    wire              pm_re_host = rd_now && (r_region == 4'd4);
    wire [PM_AW-1:0]  pm_raddr_host = rd_addr[2 +: PM_AW];
    reg  [1:0]        pm_rbyte_q;
    wire [31:0]       pm_rd;

    reg               p_run;               // program running
    reg  [PROG_AW:0]  p_pc;                // may reach PROG_WORDS (= end)
    reg  [3:0]        p_st;
    reg               p_abort;
    reg               p_refused;           // pulse: an instruction was refused (STATUS error 7)
    localparam [3:0] P_FETCH = 4'd0, P_DEC = 4'd1, P_ISSUE = 4'd2, P_BAR = 4'd3,
                     P_LIFW = 4'd4, P_LIF = 4'd5, P_LOAD = 4'd6,
                     P_CHK = 4'd7,         // nnf_insn_check: ranges, lo <= hi
                     P_PWAIT = 4'd8,       // GEMM: wait for the engine, then check P
                     P_PCHK = 4'd9;        // GEMM: the engine checks m0 / shift
    reg  [3:0]        f_idx;               // next word to read (8: all issued)
    reg               f_got;               // word f_gidx arrives on pm_rd
    reg  [2:0]        f_gidx;

    // Instruction fields (docs/protocol.md, Micro-program), as GEMM names them;
    // LIF and LOOP read the same bytes.
    reg  [7:0]        i_op;                // byte 0
    reg               i_cnt, i_clr;        // byte 1 bits 1, 2 (LIF)
    reg  [4:0]        i_bmh;               // bits 44:40 (LIF bias mantissa, high)
    reg  [11:0]       i_dv;                // bits 123:112 (LIF dv)

    // LOOP: one active LOOP (at loop_pc) with loop_left jumps to go
    reg               loop_act;
    reg  [PROG_AW-1:0] loop_pc;
    reg  [15:0]       loop_left;
    wire [15:0]       lp_count  = e_m;     // bits 79:64
    wire [31:0]       lp_target = e_a;     // bits 159:128
    wire [PROG_AW:0]  lp_dest   = (lp_target < PROG_WORDS) ? lp_target[PROG_AW:0]
                                : PROG_WORDS[PROG_AW:0];

    // LIF instruction fields, held while it runs (the latched instruction)
    reg               l_start;
    wire              l_busy, l_done, l_update;
    wire [15:0]       l_m   = e_m;         // bits 79:64
    wire [15:0]       l_n   = e_n;         // bits 111:96
    wire [31:0]       l_a   = e_a;         // bits 159:128
    wire [31:0]       l_o   = e_o;         // bits 255:224
    wire [31:0]       l_s   = e_p;         // bits 223:192
    wire [11:0]       l_du  = e_k[11:0];   // bits 91:80
    wire [11:0]       l_dv  = i_dv;        // bits 123:112
    wire [16:0]       l_vth = e_w[16:0];   // bits 176:160
    wire [12:0]       l_bm  = {i_bmh, e_hi};   // bits 44:32
    wire [2:0]        l_be  = e_lo[2:0];   // bits 26:24
    wire              l_rsub = e_lut;      // bit 8
    wire              l_cnt = i_cnt;       // bit 9
    wire              l_clr = i_clr;       // bit 10
    wire [3:0]        l_refr = e_zp[3:0];  // bits 19:16

    genvar g;
    generate
        for (g = 0; g < 4; g = g + 1) begin : g_pmwe
            assign pm_we[g] = pm_we_on && (pm_wbyte == g);
        end
    endgenerate

    wire p_fetch = p_run && (p_st == P_LOAD) && !f_idx[3];

    // The limits of GEMM and LIF, checked before the instruction has any
    // side effect (the model's: nnfm_engine_check, run_lif).
    reg  ic_start;
    wire ic_done, ic_ok;
    nnf_insn_check #(.ROWS(ROWS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS), .P_WORDS(P_WORDS),
                     .STATE_WORDS(STATE_WORDS)) u_check (
        .clk(clk), .rst(rst), .start(ic_start), .is_lif(i_op[1]),   // 1 GEMM, 3 LIF
        .m(e_m), .k(e_k), .n(e_n), .a_base(e_a), .w_base(e_w), .p_base(e_p), .o_base(e_o),
        .lo(e_lo), .hi(e_hi), .done(ic_done), .ok(ic_ok));

    nnf_ram #(.AW(PM_AW), .NB(4)) u_prog (
        .clk(clk), .we(pm_we), .wa(pm_waddr), .wd({4{pm_wdata}}),
        .re(p_fetch || pm_re_host),
        .ra(p_fetch ? {p_pc[PROG_AW-1:0], f_idx[2:0]} : pm_raddr_host),
        .rd(pm_rd));

    // latch each instruction word's fields as it arrives
    always @(posedge clk) begin
        f_got  <= p_fetch;
        f_gidx <= f_idx[2:0];
        if (f_got) begin
            case (f_gidx)
                3'd0: begin
                    i_op  <= pm_rd[7:0];
                    e_lut <= pm_rd[8];
                    i_cnt <= pm_rd[9];
                    i_clr <= pm_rd[10];
                    e_zp  <= pm_rd[23:16];
                    e_lo  <= pm_rd[31:24];
                end
                3'd1: begin
                    e_hi  <= pm_rd[7:0];
                    i_bmh <= pm_rd[12:8];
                end
                3'd2: begin
                    e_m   <= pm_rd[15:0];
                    e_k   <= pm_rd[31:16];
                end
                3'd3: begin
                    e_n   <= pm_rd[15:0];
                    i_dv  <= pm_rd[27:16];
                end
                3'd4: e_a <= pm_rd;
                3'd5: e_w <= pm_rd;
                3'd6: e_p <= pm_rd;
                default: e_o <= pm_rd;
            endcase
        end
    end

    assign running = p_run || e_busy;
    wire prog_idle = !p_run && !e_busy && !e_cmd_valid;

    reg  start_prog;                        // from the executor (RUN)
    reg  [PROG_AW-1:0] start_pc;

    always @(posedge clk) begin
        ic_start    <= 1'b0;                // pulses
        e_chk_start <= 1'b0;
        p_refused   <= 1'b0;
        if (rst) begin
            p_run       <= 1'b0;
            p_pc        <= {(PROG_AW+1){1'b0}};
            p_st        <= P_FETCH;
            e_cmd_valid <= 1'b0;
            loop_act    <= 1'b0;
            l_start     <= 1'b0;
        end else if (start_prog) begin
            p_run    <= 1'b1;
            p_pc     <= {1'b0, start_pc};
            p_st     <= P_FETCH;
            loop_act <= 1'b0;
        end else if (p_run) begin
            l_start <= 1'b0;
            case (p_st)
                P_FETCH: begin
                    f_idx <= 4'd0;
                    if (p_pc[PROG_AW] || p_abort) p_run <= 1'b0;   // ran off the end, or aborted
                    else                          p_st  <= P_LOAD;
                end
                P_LOAD: begin                                       // eight word reads
                    if (!f_idx[3]) f_idx <= f_idx + 4'd1;
                    if (f_got && f_gidx == 3'd7) p_st <= P_DEC;    // the last word arrives
                end
                P_DEC: begin
                    case (i_op)
                        8'd1: begin                                 // GEMM: check first
                            ic_start <= 1'b1;
                            p_st     <= P_CHK;
                        end
                        8'd2: p_st <= P_BAR;                        // BARRIER
                        8'd3: begin                                 // LIF (END without a LIF core)
                            if (HAS_LIF != 0) begin
                                ic_start <= 1'b1;
                                p_st     <= P_CHK;
                            end else begin
                                p_run <= 1'b0;
                            end
                        end
                        8'd4: begin                                 // LOOP
                            p_st <= P_FETCH;
                            if (loop_act && loop_pc == p_pc[PROG_AW-1:0]) begin
                                if (loop_left != 16'd0) begin
                                    loop_left <= loop_left - 16'd1;
                                    p_pc      <= lp_dest;
                                end else begin
                                    loop_act <= 1'b0;
                                    p_pc     <= p_pc + 1'b1;
                                end
                            end else if (!loop_act && lp_count > 16'd1) begin
                                loop_act  <= 1'b1;
                                loop_pc   <= p_pc[PROG_AW-1:0];
                                loop_left <= lp_count - 16'd2;
                                p_pc      <= lp_dest;
                            end else begin
                                p_pc <= p_pc + 1'b1;
                            end
                        end
                        default: p_run <= 1'b0;                     // END (and reserved)
                    endcase
                end
                P_CHK: begin                                        // ranges (nnf_insn_check)
                    if (p_abort) begin
                        p_run <= 1'b0;
                    end else if (ic_done) begin
                        if (!ic_ok) begin                           // refused: stop here
                            p_run     <= 1'b0;
                            p_refused <= 1'b1;
                        end else if (i_op == 8'd3) begin
                            p_st <= P_LIFW;
                        end else if (e_m == 16'd0 || e_n == 16'd0) begin
                            e_cmd_valid <= 1'b1;                    // touches nothing: no P check
                            p_st        <= P_ISSUE;
                        end else begin
                            p_st <= P_PWAIT;
                        end
                    end
                end
                P_PWAIT: begin                                      // P is the engine's while busy
                    if (p_abort) begin
                        p_run <= 1'b0;
                    end else if (!e_busy) begin
                        e_chk_start <= 1'b1;
                        p_st        <= P_PCHK;
                    end
                end
                P_PCHK: begin
                    if (e_chk_done) begin
                        if (!e_chk_ok) begin
                            p_run     <= 1'b0;
                            p_refused <= 1'b1;
                        end else if (p_abort) begin
                            p_run <= 1'b0;
                        end else begin
                            e_cmd_valid <= 1'b1;
                            p_st        <= P_ISSUE;
                        end
                    end
                end
                P_LIFW: begin                                       // the GEMM before it is done
                    if (p_abort) begin
                        p_run <= 1'b0;
                    end else if (!e_busy) begin
                        l_start <= 1'b1;
                        p_st    <= P_LIF;
                    end
                end
                P_LIF: begin
                    if (l_done) begin
                        p_pc <= p_pc + 1'b1;
                        p_st <= P_FETCH;
                    end
                end
                P_ISSUE: begin
                    if (p_abort && !e_cmd_ready) begin              // not issued: drop it
                        e_cmd_valid <= 1'b0;
                        p_run       <= 1'b0;
                    end else if (e_cmd_ready) begin                 // accepted this cycle
                        e_cmd_valid <= 1'b0;
                        p_pc <= p_pc + 1'b1;
                        p_st <= P_FETCH;
                    end
                end
                default: begin                                      // P_BAR
                    if (!e_busy && !l_busy) begin
                        p_pc <= p_pc + 1'b1;
                        p_st <= P_FETCH;
                    end
                end
            endcase
        end
    end

    // ------------------------------------------------------------------
    // The LIF core (docs/protocol.md, LIF; rtl/core/nnf_lif.v)
    // ------------------------------------------------------------------
    reg         st_we;                 // host write to STATE (registered, from the payload)
    reg  [31:0] st_waddr;
    wire        st_re   = rd_now && (r_region == 4'd5);
    wire [7:0]  st_rdata;

    generate
        if (HAS_LIF != 0) begin : g_lif
            nnf_lif #(.ROWS(ROWS), .ACT_AW($clog2(ACT_WORDS)),
                      .STATE_WORDS(HAS_LIF != 0 ? STATE_WORDS : 2), .LANES(LIF_LANES)) u_lif (
                .clk(clk), .rst(rst),
                .start(l_start), .abort(p_abort),
                .c_m(l_m), .c_n(l_n), .c_a_base(l_a), .c_o_base(l_o), .c_s_base(l_s),
                .c_du(l_du), .c_dv(l_dv), .c_vth(l_vth), .c_bias_mant(l_bm),
                .c_bias_exp(l_be), .c_reset_sub(l_rsub), .c_refractory(l_refr),
                .c_count(l_cnt), .c_clear(l_clr),
                .busy(l_busy), .done(l_done), .update(l_update),
                .act_re(l_act_re), .act_ra(l_act_ra[$clog2(ACT_WORDS)-1:0]), .act_rd(l_act_rd),
                .act_we(l_act_we), .act_wa(l_act_wa[$clog2(ACT_WORDS)-1:0]), .act_wd(l_act_wd),
                .hp_we(st_we), .hp_waddr(st_waddr), .hp_wdata(hp_wdata),
                .hp_re(st_re), .hp_raddr(rd_addr), .hp_rdata(st_rdata));
            if ($clog2(ACT_WORDS) < 32) begin : g_pad
                assign l_act_ra[31:$clog2(ACT_WORDS)] = {(32-$clog2(ACT_WORDS)){1'b0}};
                assign l_act_wa[31:$clog2(ACT_WORDS)] = {(32-$clog2(ACT_WORDS)){1'b0}};
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
            wire unused_lif = &{1'b0, l_start, l_m, l_n, l_a, l_o, l_s, l_du, l_dv, l_vth, l_bm,
                                l_be, l_rsub, l_cnt, l_clr, l_refr, st_we, st_waddr, st_re,
                                l_act_rd, p_abort};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // ------------------------------------------------------------------
    // Counters: CNT_W bits each (64 by default; a board short of logic may
    // keep fewer, they wrap at 2^CNT_W and COUNTERS reads the upper bytes 0)
    // ------------------------------------------------------------------
    localparam integer CNT_B = CNT_W / 8;   // bytes kept per counter
    reg  [CNT_W-1:0] c_cycles, c_stall, c_bin, c_bout, c_ferr;
    wire        byte_out = tx_valid && tx_ready;
    reg         stall;

    always @(posedge clk) begin
        if (rst || cnt_clear) begin
            c_cycles <= {CNT_W{1'b0}};
            c_stall  <= {CNT_W{1'b0}};
            c_bin    <= {CNT_W{1'b0}};
            c_bout   <= {CNT_W{1'b0}};
            c_ferr   <= {CNT_W{1'b0}};
        end else begin
            c_cycles <= c_cycles + 1'b1;
            if (stall)     c_stall <= c_stall + 1'b1;
            if (byte_in)   c_bin   <= c_bin + 1'b1;
            if (byte_out)  c_bout  <= c_bout + 1'b1;
            if (frame_err) c_ferr  <= c_ferr + 1'b1;
        end
    end

    // ------------------------------------------------------------------
    // Command executor
    // ------------------------------------------------------------------
    localparam [2:0] X_IDLE = 3'd0, X_PAY = 3'd1, X_EXEC = 3'd2, X_WAITP = 3'd3,
                     X_ANS = 3'd4, X_SEND = 3'd5;
    reg  [2:0]  xst;
    // the request's header: the receiver holds it until the next header
    // starts, which it takes only in X_IDLE (rx_accept)
    wire [7:0]  r_type = h_type, r_seq = h_seq;
    wire [15:0] r_len  = h_len;
    wire [31:0] r_arg  = h_arg;
    reg  [15:0] r_cnt;          // payload bytes taken
    reg  [31:0] r_word;         // first four payload bytes (READ count)
    reg         r_ok, r_tmo;    // end of frame status
    reg  [7:0]  r_err;          // 0 = OK, else error code for the answer
    reg  [7:0]  prev_seq, prev_type;
    reg         prev_valid;

    // Not in the cycle a header arrives either (hdr_valid): the executor
    // leaves X_IDLE only then, and a byte taken in that cycle would count in
    // a COUNTERS snapshot of the frame before it.
    assign rx_accept = (xst == X_IDLE) && !hdr_valid;

    // region decode of the request's argument
    wire [3:0]  r_region = r_arg[31:28];
    wire [27:0] r_addr   = r_arg[27:0];
    function automatic [31:0] region_size(input [3:0] region);
        case (region)
            4'd0: region_size = SZ_ACT;
            4'd1: region_size = SZ_W;
            4'd2: region_size = SZ_P;
            4'd3: region_size = SZ_LUT;
            4'd4: region_size = SZ_PROG;
            4'd5: region_size = SZ_STATE;
            default: region_size = 32'd0;
        endcase
    endfunction
    wire [31:0] r_size = region_size(r_region);
    // addr + count <= size, without overflow (count <= 65535)
    function automatic in_range(input [31:0] size, input [27:0] addr, input [31:0] count);
        in_range = ({4'd0, addr} <= size) && (count <= size - {4'd0, addr});
    endfunction
    // One check serves both, registered (it is 32-bit compares and a
    // subtraction, off the payload handshake's path): a WRITE's count is its
    // length, known from the header (the check is ready by the first payload
    // byte, a cycle after hdr_valid); a READ's is the u32 of its payload,
    // whose last byte is taken at least five cycles (the CRC) before
    // X_EXEC. Frames without payload fail on their length first.
    wire [31:0] rd_count = r_word;
    reg  rng_ok;
    always @(posedge clk)
        rng_ok <= in_range(r_size, r_addr, (r_type == C_READ) ? rd_count : {16'd0, r_len});
    wire wr_ok  = rng_ok;
    wire rd_ok  = rng_ok;
    // the other wide checks of v_err, registered the same way
    reg  rd_cnt_bad, run_bad;
    always @(posedge clk) begin
        rd_cnt_bad <= (rd_count == 32'd0) || (rd_count > MAX_PAYLOAD);
        run_bad    <= (r_arg >= PROG_WORDS);
    end

    // WRITE payload routing
    wire is_write = (r_type == C_WRITE) && wr_ok;
    wire wr_act   = is_write && (r_region == 4'd0);
    wire wr_eng   = is_write && (r_region <= 4'd3);
    wire wr_prog  = is_write && (r_region == 4'd4);
    wire wr_state = is_write && (r_region == 4'd5);
    // ACT may be written while a program runs; other regions wait for it.
    wire wr_may   = wr_act || prog_idle;
    wire [31:0] wr_addr = {4'd0, r_addr} + {16'd0, r_cnt};

    assign pl_ready = (xst == X_PAY) && (!is_write || (wr_may && !(hp_we && hp_wait)));

    // answer payload index
    reg  [15:0] a_idx;

    // INFO record byte (a constant: a small ROM on a_idx)
    reg  [7:0] info_byte;
    localparam [31:0] INFO_ACT = ACT_WORDS, INFO_W = W_WORDS, INFO_P = P_WORDS,
                      INFO_ACC = ACC_DEPTH, INFO_PROG = PROG_WORDS, INFO_TMO = TIMEOUT,
                      INFO_HZ = CLOCK_HZ;
    localparam [15:0] INFO_MAXP = MAX_PAYLOAD[15:0];
    localparam [15:0] INFO_FEAT = 16'h0003 | ((HAS_LIF != 0) ? 16'h0004 : 16'h0000)
                                | ((VEC_SERIAL != 0) ? 16'h0008 : 16'h0000);
    localparam [31:0] INFO_STATE = STATE_WORDS;
    localparam [7:0]  INFO_ROWS = ROWS[7:0], INFO_COLS = COLS[7:0];
    reg [383:0] info_rec;
    always @(*) begin
        info_rec = {32'd0, INFO_STATE, INFO_HZ, INFO_TMO, 16'd1, INFO_MAXP, INFO_PROG, INFO_ACC, INFO_P,
                    INFO_W, INFO_ACT, INFO_FEAT, INFO_COLS, INFO_ROWS, RTL_VERSION, PROTO_VERSION};
        info_byte = info_rec[8*a_idx[5:0] +: 8];
    end

    // COUNTERS snapshot, taken when the request is executed and sent byte by
    // byte from a shift register (no 56-way byte multiplexer): byte i of the
    // record is byte i%8 of counter i/8, 0 from byte CNT_B of a counter up.
    reg  [7*CNT_W-1:0] cnt_snap;
    wire               cnt_shift = ({1'b0, a_idx[2:0]} < CNT_B[3:0]);
    // STATUS: running, last error, pc
    reg  [7:0]   last_err;

    wire [15:0] pc16 = {{(15-PROG_AW){1'b0}}, p_pc};

    // request validation at the end of the frame
    reg  [7:0] v_err;
    always @(*) begin
        v_err = 8'd0;
        if (!r_ok)                                   v_err = r_tmo ? E_TIMEOUT : E_BAD_CRC;
        else case (r_type)
            C_INFO, C_WAIT, C_STATUS, C_COUNTERS, C_RESET:
                if (r_len != 16'd0) v_err = E_BAD_LEN;
            C_RUN:
                if (r_len != 16'd0) v_err = E_BAD_LEN;
                else if (run_bad)   v_err = E_BAD_PROG;
            C_WRITE:
                if (r_len == 16'd0) v_err = E_BAD_LEN;
                else if (!wr_ok)    v_err = E_RANGE;
            C_READ:
                if (r_len != 16'd4) v_err = E_BAD_LEN;
                else if (rd_cnt_bad) v_err = E_BAD_LEN;
                else if (!rd_ok) v_err = E_RANGE;
            default: v_err = E_UNKNOWN;
        endcase
    end

    // a RUN or RESET repeating the previous frame's seq is a retry
    wire retry = prev_valid && (prev_seq == r_seq) && (prev_type == r_type);

    // answer byte source, one cycle after tx_req
    always @(posedge clk) begin
        if (xst == X_ANS) a_idx <= 16'd0;
        else if (tx_req) a_idx <= a_idx + 16'd1;
        if (xst == X_EXEC && r_type == C_COUNTERS)
            cnt_snap <= {c_ferr, c_bout, c_bin, c_stall, e_cmacs[CNT_W-1:0], e_cbusy[CNT_W-1:0],
                         c_cycles};
        else if (tx_req && r_type == C_COUNTERS && cnt_shift)
            cnt_snap <= cnt_snap >> 8;
        if (tx_req) begin
            if (a_type == A_ERR)                a_byte <= (a_idx == 16'd0) ? r_err : r_type;
            else case (r_type)
                C_INFO:     a_byte <= info_byte;
                C_STATUS:   a_byte <= (a_idx == 16'd0) ? {7'd0, !prog_idle}
                                    : (a_idx == 16'd1) ? last_err
                                    : (a_idx == 16'd2) ? pc16[7:0] : pc16[15:8];
                C_COUNTERS: a_byte <= cnt_shift ? cnt_snap[7:0] : 8'd0;
                default:    a_byte <= 8'd0;                 // READ: straight from memory
            endcase
        end
    end

    always @(posedge clk) begin
        tx_start   <= 1'b0;
        start_prog <= 1'b0;
        cnt_clear  <= 1'b0;
        hp_we      <= 1'b0;
        st_we      <= 1'b0;
        pm_we_on   <= 1'b0;
        stall      <= 1'b0;
        if (rst) begin
            xst        <= X_IDLE;
            p_abort    <= 1'b0;
            prev_valid <= 1'b0;
            last_err   <= 8'd0;
        end else begin
            if (!p_run) p_abort <= 1'b0;
            if (p_refused) last_err <= E_BAD_INSN;  // a frame's own error (below) is later
            case (xst)
                X_IDLE: if (hdr_valid) begin
                    r_cnt  <= 16'd0;
                    r_word <= 32'd0;
                    if (end_valid) begin              // no payload
                        r_ok  <= end_ok;
                        r_tmo <= end_tmo;
                        xst   <= X_EXEC;
                    end else begin
                        xst <= X_PAY;
                    end
                end
                X_PAY: begin
                    // hp_we of the previous cycle was not taken: hold it
                    if (hp_we && hp_wait) begin
                        hp_we <= 1'b1;
                    end
                    if (pl_valid && pl_ready) begin
                        r_cnt <= r_cnt + 16'd1;
                        if (r_cnt < 16'd4) r_word <= {pl_data, r_word[31:8]};
                        if (wr_eng) begin
                            hp_we    <= 1'b1;
                            hp_wsel  <= r_region[1:0];
                            hp_waddr <= wr_addr;
                            hp_wdata <= pl_data;
                        end
                        if (wr_state) begin
                            st_we    <= 1'b1;
                            st_waddr <= wr_addr;
                            hp_wdata <= pl_data;
                        end
                        if (wr_prog) begin
                            pm_we_on <= 1'b1;
                            pm_waddr <= wr_addr[2 +: PM_AW];
                            pm_wbyte <= wr_addr[1:0];
                            pm_wdata <= pl_data;
                        end
                    end else if (pl_valid) begin
                        stall <= 1'b1;
                    end
                    if (end_valid) begin
                        r_ok  <= end_ok;
                        r_tmo <= end_tmo;
                        xst   <= X_EXEC;
                    end
                end
                X_EXEC: if (hp_we && hp_wait) begin
                    hp_we <= 1'b1;                      // last payload byte still pending
                end else begin
                    r_err <= v_err;
                    if (v_err != 8'd0) begin
                        last_err <= v_err;
                        a_type   <= A_ERR;
                        a_len    <= 16'd2;
                        xst      <= X_ANS;
                    end else begin
                        a_type <= 8'h80 | r_type;
                        case (r_type)
                            C_INFO:     begin a_len <= 16'd48; xst <= X_ANS; end
                            C_STATUS:   begin a_len <= 16'd4;  xst <= X_ANS; end
                            C_COUNTERS: begin a_len <= 16'd56; xst <= X_ANS; end
                            C_RESET: begin
                                a_len <= 16'd0;
                                if (!retry) begin
                                    cnt_clear <= r_arg[0];
                                    if (r_arg[1]) p_abort <= 1'b1;
                                end
                                xst <= X_ANS;
                            end
                            C_WRITE:    begin a_len <= 16'd0; xst <= X_ANS; end
                            C_READ:     begin a_len <= rd_count[15:0]; xst <= X_WAITP; end
                            C_RUN:      begin a_len <= 16'd0; xst <= X_WAITP; end
                            default:    begin a_len <= 16'd0; xst <= X_WAITP; end   // WAIT
                        endcase
                    end
                end
                X_WAITP: begin
                    // READ, RUN and WAIT run once the program and engine are idle
                    if (prog_idle) begin
                        if (r_type == C_RUN && !retry) begin
                            start_prog <= 1'b1;
                            start_pc   <= r_arg[PROG_AW-1:0];
                        end
                        xst <= X_ANS;
                    end else begin
                        stall <= 1'b1;
                    end
                end
                X_ANS: begin
                    tx_start <= 1'b1;
                    xst      <= X_SEND;
                end
                default: begin                    // X_SEND
                    if (tx_done) begin
                        prev_valid <= (r_err == 8'd0) && (r_type == C_RUN || r_type == C_RESET);
                        prev_seq   <= r_seq;
                        prev_type  <= r_type;
                        xst        <= X_IDLE;
                    end
                end
            endcase

        end
    end

    // READ answers: the transmitter asks for byte a_idx; the memory is read
    // in that cycle and its output is the byte the next cycle.
    reg read_ans_q;
    assign rd_now  = (xst == X_SEND) && tx_req && read_ans_q;
    assign rd_addr = {4'd0, r_addr} + {16'd0, a_idx};
    always @(posedge clk) begin
        pm_rbyte_q <= rd_addr[1:0];
        read_ans_q <= (r_type == C_READ) && (a_type != A_ERR);
    end
    // the answer byte, registered: the transmitter takes it two cycles after tx_req
    always @(posedge clk)
        a_data <= !read_ans_q ? a_byte
                : (r_region == 4'd4) ? pm_rd[8*pm_rbyte_q +: 8]
                : (r_region == 4'd5) ? st_rdata : hp_rdata;
    assign idle = (xst == X_IDLE) && !rx_busy && !hdr_valid && tx_idle && prog_idle;

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, e_done, e_cycles, e_cbusy, e_cmacs, l_update};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
