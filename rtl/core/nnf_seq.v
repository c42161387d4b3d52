// nnf_seq: the micro-program sequencer (docs/protocol.md, "Micro-program").
// Program memory, fetch, decode into named fields per opcode, the
// instruction check, LOOP, and the issue of GEMM commands and LIF steps.
//
// Ports and their protocol:
//   start / start_pc   one-cycle pulse (from nnf_exec's RUN) while idle: run from start_pc
//   abort_req          one-cycle pulse (RESET with bit 1): abort_q stays high
//                      until the program has stopped; it stops the engine
//                      (nnf_gemm cmd_abort) and the LIF core
//   running_q          the program is running; pc_q its instruction pointer
//   refused            one-cycle pulse: an instruction was refused (STATUS error 7)
//   GEMM command       g_valid / g_ready (valid held until ready, fields
//                      stable while valid); g_chk_start / g_chk_done /
//                      g_chk_ok: the engine's per-lane m0 / shift check of
//                      the command's P entries, while the engine is idle
//   LIF step           l_start (one-cycle pulse while the LIF core is idle),
//                      fields stable until l_done
//   host port          pm_we (byte write, registered by the executor) and
//                      pm_re / pm_raddr -> pm_rdata the next cycle
//
// The program memory is 32 bits wide, eight words per 32-byte instruction
// (word i = bytes 4i..4i+3), one block RAM on an iCE40 at small depths. An
// instruction is fetched as eight sequential reads (S_LOAD), each word's
// fields latched as it arrives. GEMM, LIF and LOOP fields share registers
// (the same bytes): the engine samples a command when it accepts it, and no
// fetch happens while a LIF step runs.
`default_nettype none

module nnf_seq #(
    parameter integer ROWS        = 8,
    parameter integer ACT_WORDS   = 32768,
    parameter integer W_WORDS     = 16384,
    parameter integer P_WORDS     = 64,
    parameter integer PROG_WORDS  = 64,
    parameter integer STATE_WORDS = 16384     // 0: no LIF core (LIF ends the program)
) (
    input  wire        clk,
    input  wire        rst,
    // control, from / to the executor
    input  wire        start,
    input  wire [$clog2(PROG_WORDS)-1:0] start_pc,
    input  wire        abort_req,
    output reg         abort_q,
    output reg         running_q,
    output reg  [$clog2(PROG_WORDS):0] pc_q,
    output reg         refused,
    // host access to the program memory (byte-wide)
    input  wire        pm_we,
    input  wire [31:0] pm_waddr,
    input  wire [7:0]  pm_wdata,
    input  wire        pm_re,
    input  wire [31:0] pm_raddr,
    output wire [7:0]  pm_rdata,
    // GEMM command to the engine
    output reg         g_valid,
    input  wire        g_ready,
    input  wire        g_busy,             // the engine is busy
    output wire [15:0] g_m, g_k, g_n,
    output wire [31:0] g_a_base, g_w_base, g_p_base, g_o_base,
    output wire [7:0]  g_zp, g_lo, g_hi,
    output wire        g_lut,
    output reg         g_chk_start,
    input  wire        g_chk_done,
    input  wire        g_chk_ok,
    // LIF step to the LIF core
    output reg         l_start,
    input  wire        l_busy,
    input  wire        l_done,
    output wire [15:0] l_m, l_n,
    output wire [31:0] l_a_base, l_o_base, l_s_base,
    output wire [11:0] l_du, l_dv,
    output wire [16:0] l_vth,
    output wire [12:0] l_bias_mant,
    output wire [2:0]  l_bias_exp,
    output wire        l_reset_sub,
    output wire        l_count,
    output wire        l_clear,
    output wire [3:0]  l_refractory
);
    localparam integer PROG_AW = $clog2(PROG_WORDS);
    localparam integer PM_AW   = PROG_AW + 3;
    localparam integer HAS_LIF = (STATE_WORDS != 0) ? 1 : 0;

    // opcodes
    localparam [7:0] OP_GEMM = 8'd1, OP_BARRIER = 8'd2, OP_LIF = 8'd3, OP_LOOP = 8'd4;

    localparam [3:0] S_FETCH = 4'd0,
                     S_LOAD  = 4'd1,     // eight word reads
                     S_DEC   = 4'd2,
                     S_CHK   = 4'd3,     // nnf_insn_check: ranges, lo <= hi
                     S_PWAIT = 4'd4,     // GEMM: wait for the engine, then check P
                     S_PCHK  = 4'd5,     // GEMM: the engine checks m0 / shift
                     S_ISSUE = 4'd6,     // GEMM: g_valid until g_ready
                     S_LIFW  = 4'd7,     // LIF: the GEMM before it is done
                     S_LIF   = 4'd8,     // LIF: running
                     S_BAR   = 4'd9;     // BARRIER: the engine and the LIF core idle
    reg  [3:0] st_q;

    // ------------------------------------------------------------------
    // Program memory and fetch
    // ------------------------------------------------------------------
    reg  [3:0]  f_idx_q;                 // next word to read (8: all issued)
    reg         f_got_q;                 // word f_gidx_q arrives on pm_rd
    reg  [2:0]  f_gidx_q;
    wire [31:0] pm_rd;
    wire        fetch = running_q && (st_q == S_LOAD) && !f_idx_q[3];
    wire [3:0]  pm_wen;
    genvar g;
    generate
        for (g = 0; g < 4; g = g + 1) begin : g_pmwe
            assign pm_wen[g] = pm_we && (pm_waddr[1:0] == g);
        end
    endgenerate

    nnf_ram #(.AW(PM_AW), .NB(4)) u_prog (
        .clk(clk), .we(pm_wen), .wa(pm_waddr[2 +: PM_AW]), .wd({4{pm_wdata}}),
        .re(fetch || pm_re),
        .ra(fetch ? {pc_q[PROG_AW-1:0], f_idx_q[2:0]} : pm_raddr[2 +: PM_AW]),
        .rd(pm_rd));

    reg [1:0] pm_rbyte_q;
    always @(posedge clk) pm_rbyte_q <= pm_raddr[1:0];
    assign pm_rdata = pm_rd[8*pm_rbyte_q +: 8];

    // The instruction's bytes (docs/protocol.md's layout), latched per word.
    reg  [7:0]  op_q;                    // byte 0
    reg         b8_q, b9_q, b10_q;       // byte 1 bits 0..2
    reg  [7:0]  b2_q, b3_q, b4_q;        // bytes 2, 3, 4
    reg  [4:0]  b5_q;                    // byte 5 bits 4:0
    reg  [15:0] h8_q, h10_q, h12_q;      // bytes 8..9, 10..11, 12..13
    reg  [11:0] h14_q;                   // bytes 14..15 bits 11:0
    reg  [31:0] w16_q, w20_q, w24_q, w28_q;   // bytes 16.., 20.., 24.., 28..
    always @(posedge clk) begin
        f_got_q  <= fetch;
        f_gidx_q <= f_idx_q[2:0];
        if (f_got_q) begin
            case (f_gidx_q)
                3'd0: begin
                    op_q  <= pm_rd[7:0];
                    b8_q  <= pm_rd[8];
                    b9_q  <= pm_rd[9];
                    b10_q <= pm_rd[10];
                    b2_q  <= pm_rd[23:16];
                    b3_q  <= pm_rd[31:24];
                end
                3'd1: begin
                    b4_q <= pm_rd[7:0];
                    b5_q <= pm_rd[12:8];
                end
                3'd2: begin
                    h8_q  <= pm_rd[15:0];
                    h10_q <= pm_rd[31:16];
                end
                3'd3: begin
                    h12_q <= pm_rd[15:0];
                    h14_q <= pm_rd[27:16];
                end
                3'd4: w16_q <= pm_rd;
                3'd5: w20_q <= pm_rd;
                3'd6: w24_q <= pm_rd;
                default: w28_q <= pm_rd;
            endcase
        end
    end

    // ------------------------------------------------------------------
    // Decode: each opcode's fields by name
    // ------------------------------------------------------------------
    // GEMM
    assign g_lut    = b8_q;
    assign g_zp     = b2_q;
    assign g_lo     = b3_q;
    assign g_hi     = b4_q;
    assign g_m      = h8_q;
    assign g_k      = h10_q;
    assign g_n      = h12_q;
    assign g_a_base = w16_q;
    assign g_w_base = w20_q;
    assign g_p_base = w24_q;
    assign g_o_base = w28_q;
    // LIF
    assign l_reset_sub  = b8_q;
    assign l_count      = b9_q;
    assign l_clear      = b10_q;
    assign l_refractory = b2_q[3:0];
    assign l_bias_exp   = b3_q[2:0];
    assign l_bias_mant  = {b5_q, b4_q};
    assign l_m          = h8_q;
    assign l_du         = h10_q[11:0];
    assign l_n          = h12_q;
    assign l_dv         = h14_q;
    assign l_a_base     = w16_q;
    assign l_vth        = w20_q[16:0];
    assign l_s_base     = w24_q;
    assign l_o_base     = w28_q;
    // LOOP
    wire [15:0]       lp_count  = h8_q;
    wire [31:0]       lp_target = w16_q;
    wire [PROG_AW:0]  lp_dest   = (lp_target < PROG_WORDS) ? lp_target[PROG_AW:0]
                                : PROG_WORDS[PROG_AW:0];

    // One active LOOP (at loop_pc_q) with loop_left_q jumps to go.
    reg               loop_act_q;
    reg  [PROG_AW-1:0] loop_pc_q;
    reg  [15:0]       loop_left_q;

    // ------------------------------------------------------------------
    // The limits of GEMM and LIF, checked before the instruction has any
    // side effect (the model's nnfm_engine_check and run_lif).
    // ------------------------------------------------------------------
    reg  ic_start;
    wire ic_done, ic_ok;
    nnf_insn_check #(.ROWS(ROWS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS), .P_WORDS(P_WORDS),
                     .STATE_WORDS(STATE_WORDS)) u_check (
        .clk(clk), .rst(rst), .start(ic_start), .is_lif(op_q[1]),   // 1 GEMM, 3 LIF
        .m(g_m), .k(g_k), .n(g_n), .a_base(g_a_base), .w_base(g_w_base), .p_base(g_p_base),
        .o_base(g_o_base), .lo(g_lo), .hi(g_hi), .done(ic_done), .ok(ic_ok));

    // ------------------------------------------------------------------
    // The sequencer
    // ------------------------------------------------------------------
    // abort_q: from the request until the program has stopped (also when
    // none runs: the engine may still finish the last GEMM of one).
    always @(posedge clk) begin
        if (rst)            abort_q <= 1'b0;
        else if (abort_req) abort_q <= 1'b1;
        else if (!running_q) abort_q <= 1'b0;
    end

    always @(posedge clk) begin
        ic_start    <= 1'b0;                // pulses
        g_chk_start <= 1'b0;
        refused     <= 1'b0;
        if (rst) begin
            running_q  <= 1'b0;
            pc_q       <= {(PROG_AW+1){1'b0}};
            st_q       <= S_FETCH;
            g_valid    <= 1'b0;
            loop_act_q <= 1'b0;
            l_start    <= 1'b0;
        end else if (start) begin
            running_q  <= 1'b1;
            pc_q       <= {1'b0, start_pc};
            st_q       <= S_FETCH;
            loop_act_q <= 1'b0;
        end else if (running_q) begin
            l_start <= 1'b0;
            case (st_q)
                S_FETCH: begin
                    f_idx_q <= 4'd0;
                    if (pc_q[PROG_AW] || abort_q) running_q <= 1'b0;   // ran off the end, or aborted
                    else                          st_q      <= S_LOAD;
                end
                S_LOAD: begin
                    if (!f_idx_q[3]) f_idx_q <= f_idx_q + 4'd1;
                    if (f_got_q && f_gidx_q == 3'd7) st_q <= S_DEC;    // the last word arrives
                end
                S_DEC: begin
                    case (op_q)
                        OP_GEMM: begin                          // check first
                            ic_start <= 1'b1;
                            st_q     <= S_CHK;
                        end
                        OP_BARRIER: st_q <= S_BAR;
                        OP_LIF: begin                           // END without a LIF core
                            if (HAS_LIF != 0) begin
                                ic_start <= 1'b1;
                                st_q     <= S_CHK;
                            end else begin
                                running_q <= 1'b0;
                            end
                        end
                        OP_LOOP: begin
                            st_q <= S_FETCH;
                            if (loop_act_q && loop_pc_q == pc_q[PROG_AW-1:0]) begin
                                if (loop_left_q != 16'd0) begin
                                    loop_left_q <= loop_left_q - 16'd1;
                                    pc_q        <= lp_dest;
                                end else begin
                                    loop_act_q <= 1'b0;
                                    pc_q       <= pc_q + 1'b1;
                                end
                            end else if (!loop_act_q && lp_count > 16'd1) begin
                                loop_act_q  <= 1'b1;
                                loop_pc_q   <= pc_q[PROG_AW-1:0];
                                loop_left_q <= lp_count - 16'd2;
                                pc_q        <= lp_dest;
                            end else begin
                                pc_q <= pc_q + 1'b1;
                            end
                        end
                        default: running_q <= 1'b0;             // END (and reserved)
                    endcase
                end
                S_CHK: begin
                    if (abort_q) begin
                        running_q <= 1'b0;
                    end else if (ic_done) begin
                        if (!ic_ok) begin                       // refused: stop here
                            running_q <= 1'b0;
                            refused   <= 1'b1;
                        end else if (op_q == OP_LIF) begin
                            st_q <= S_LIFW;
                        end else if (g_m == 16'd0 || g_n == 16'd0) begin
                            g_valid <= 1'b1;                    // touches nothing: no P check
                            st_q    <= S_ISSUE;
                        end else begin
                            st_q <= S_PWAIT;
                        end
                    end
                end
                S_PWAIT: begin                                  // P is the engine's while busy
                    if (abort_q) begin
                        running_q <= 1'b0;
                    end else if (!g_busy) begin
                        g_chk_start <= 1'b1;
                        st_q        <= S_PCHK;
                    end
                end
                S_PCHK: begin
                    if (g_chk_done) begin
                        if (!g_chk_ok) begin
                            running_q <= 1'b0;
                            refused   <= 1'b1;
                        end else if (abort_q) begin
                            running_q <= 1'b0;
                        end else begin
                            g_valid <= 1'b1;
                            st_q    <= S_ISSUE;
                        end
                    end
                end
                S_ISSUE: begin
                    if (abort_q && !g_ready) begin              // not issued: drop it
                        g_valid   <= 1'b0;
                        running_q <= 1'b0;
                    end else if (g_ready) begin                 // accepted this cycle
                        g_valid <= 1'b0;
                        pc_q    <= pc_q + 1'b1;
                        st_q    <= S_FETCH;
                    end
                end
                S_LIFW: begin
                    if (abort_q) begin
                        running_q <= 1'b0;
                    end else if (!g_busy) begin
                        l_start <= 1'b1;
                        st_q    <= S_LIF;
                    end
                end
                S_LIF: begin
                    if (l_done) begin
                        pc_q <= pc_q + 1'b1;
                        st_q <= S_FETCH;
                    end
                end
                S_BAR: begin
                    if (!g_busy && !l_busy) begin
                        pc_q <= pc_q + 1'b1;
                        st_q <= S_FETCH;
                    end
                end
                default: running_q <= 1'b0;
            endcase
        end
    end

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, pm_waddr[31:2+PM_AW], pm_raddr[31:2+PM_AW]};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
