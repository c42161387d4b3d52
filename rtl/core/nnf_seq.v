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
// instruction is fetched as eight sequential reads (S_LOAD) into insn_q;
// GEMM, LIF and LOOP name their fields in it (the bits no opcode uses are
// removed by synthesis): the engine samples a command when it accepts it,
// and no fetch happens while a LIF step runs. The opcodes and every field's
// position come from rtl/core/nnf_proto.vh (generated from proto/nnf_proto.def).
`include "nnf_proto.vh"
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
    localparam [7:0] OP_GEMM = `NNFP_OP_GEMM, OP_BARRIER = `NNFP_OP_BARRIER, OP_LIF = `NNFP_OP_LIF,
                     OP_LOOP = `NNFP_OP_LOOP;
    localparam integer INSN_BITS = 8 * `NNFP_INSN_BYTES;

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

    // The instruction (docs/protocol.md's layout), latched a word at a time.
    // (A word enable each: a variable part-select write would become a
    // 256-bit shifter in synthesis.)
    reg  [INSN_BITS-1:0] insn_q;
    always @(posedge clk) begin
        f_got_q  <= fetch;
        f_gidx_q <= f_idx_q[2:0];
    end
    genvar w;
    generate
        for (w = 0; w < INSN_BITS / 32; w = w + 1) begin : g_insn
            always @(posedge clk)
                if (f_got_q && f_gidx_q == w) insn_q[32*w +: 32] <= pm_rd;
        end
    endgenerate
    wire [7:0] op_q = `NNFP_INSN_OPCODE_SEL(insn_q);

    // ------------------------------------------------------------------
    // Decode: each opcode's fields by name
    // ------------------------------------------------------------------
    // GEMM
    assign g_lut    = `NNFP_GEMM_LUT_SEL(insn_q);
    assign g_zp     = `NNFP_GEMM_ZP_SEL(insn_q);
    assign g_lo     = `NNFP_GEMM_LO_SEL(insn_q);
    assign g_hi     = `NNFP_GEMM_HI_SEL(insn_q);
    assign g_m      = `NNFP_GEMM_M_SEL(insn_q);
    assign g_k      = `NNFP_GEMM_K_SEL(insn_q);
    assign g_n      = `NNFP_GEMM_N_SEL(insn_q);
    assign g_a_base = `NNFP_GEMM_A_BASE_SEL(insn_q);
    assign g_w_base = `NNFP_GEMM_W_BASE_SEL(insn_q);
    assign g_p_base = `NNFP_GEMM_P_BASE_SEL(insn_q);
    assign g_o_base = `NNFP_GEMM_O_BASE_SEL(insn_q);
    // LIF
    assign l_reset_sub  = `NNFP_LIF_RESET_SUB_SEL(insn_q);
    assign l_count      = `NNFP_LIF_COUNT_SEL(insn_q);
    assign l_clear      = `NNFP_LIF_CLEAR_SEL(insn_q);
    assign l_refractory = `NNFP_LIF_REFRACTORY_SEL(insn_q);
    assign l_bias_exp   = `NNFP_LIF_BIAS_EXP_SEL(insn_q);
    assign l_bias_mant  = `NNFP_LIF_BIAS_MANT_SEL(insn_q);
    assign l_m          = `NNFP_LIF_M_SEL(insn_q);
    assign l_du         = `NNFP_LIF_DU_SEL(insn_q);
    assign l_n          = `NNFP_LIF_N_SEL(insn_q);
    assign l_dv         = `NNFP_LIF_DV_SEL(insn_q);
    assign l_a_base     = `NNFP_LIF_A_BASE_SEL(insn_q);
    assign l_vth        = `NNFP_LIF_VTH_SEL(insn_q);
    assign l_s_base     = `NNFP_LIF_S_BASE_SEL(insn_q);
    assign l_o_base     = `NNFP_LIF_O_BASE_SEL(insn_q);
    // LOOP
    wire [15:0]       lp_count  = `NNFP_LOOP_COUNT_SEL(insn_q);
    wire [31:0]       lp_target = `NNFP_LOOP_TARGET_SEL(insn_q);
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
    // bits of the instruction no opcode uses (reserved, zero)
    wire unused = &{1'b0, pm_waddr[31:2+PM_AW], pm_raddr[31:2+PM_AW], insn_q};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
