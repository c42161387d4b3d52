// tb_vu_actw: nnf_vu_actw (ACTW: an int8 tensor in ACT becomes a GEMM's
// weights in W, and with c_sum the biases of P) against the functional
// model, bit for bit. The cases come from gen_actw_cases
// (tests/rtl/gen_actw_cases.c: nnfm_engine_actw on a model engine), one
// $readmemh file per suite; a generated top module sets ROWS, ACT_AW, W_AW,
// P_AW and the file. Per case: the testbench's ACT (2^ACT_AW words) is
// filled with garbage and A's CX*M words loaded (their lanes >= N non-zero
// garbage), its W (2^W_AW words) and P biases (2^P_AW entries, lane c at
// [32c +: 32]) with garbage, nnf_vu_actw run, and the WHOLE W and every
// bias compared with the garbage plus the model's B words at w_base and
// (with sum) the model's biases of the NT' entries at p_base.
//
// The ACT read port as the unit's header has it: act_re / act_ra are the
// unit's registered outputs, sampled at the clock edge; act_rd is the word
// from the cycle after, held until the next read (so a row >= M, which is
// not read, leaves the previous word on act_rd: the unit must zero it).
//
// Also checked, cycle by cycle: every read inside A ([a_base, a_base +
// CX*M)), no word read twice, all CX*M read; W writes whole words in order
// w_base, w_base + 1, ... (no more than CX*CY*ROWS), each equal to the
// model's word when written; P writes only with sum, entries p_base,
// p_base + 1, ... (no more than NT'), each equal to the model's biases; no
// port activity while idle (the command fields scrambled and abort pulsed
// there); busy from the cycle after start until done, done a one-cycle
// pulse, and done in exactly cycle
//   CX*CY*(2*ROWS + 3) + NT'*(sum ? 10 : 1) + 2 after start (2: N or M 0).
// A case with an abort time pulses abort in that cycle: done must follow
// within ABORT_MAX cycles, no W or P write may follow the edge that samples
// abort, and the words written (a prefix of B, each checked as written) are
// the model's, every other word and bias untouched. A case with a reset
// time raises rst for that cycle instead: then busy and done stay low, no
// port activity, and the same prefix rule holds; the generator makes the
// case after an abort or a reset a plain one. Prints "PASS ..." or stops at
// the first mismatch with "FAIL ...". Runs under Icarus and Verilator
// --binary.
`timescale 1ns / 1ps
`default_nettype none

module tb_vu_actw #(
    parameter integer ROWS   = 8,
    parameter integer ACT_AW = 9,
    parameter integer W_AW   = 9,
    parameter integer P_AW   = 4,
    parameter integer FWORDS = 2,
    parameter         FILE   = "actw.hex"
) ();
    localparam integer AN = 1 << ACT_AW;
    localparam integer WN = 1 << W_AW;
    localparam integer PN = 1 << P_AW;
    localparam integer WB = ROWS * 8;
    localparam integer PB = ROWS * 32;
    // abort is taken at the next step: at worst in a tile's first fill cycle
    // (the rest of the fill, the last word's 2 cycles, the drain's first
    // cycle, S_END: done ROWS + 4 cycles later) or in the bias multiply's
    // first step (9 steps, the P write, S_END: 11 cycles)
    localparam integer ABORT_MAX = (ROWS + 4 > 11) ? ROWS + 4 : 11;
    localparam integer RESET_QUIET = ABORT_MAX + 4;
    localparam integer F_TR = 0, F_SUM = 1, F_ZA = 2, F_N = 3, F_M = 4, F_ABASE = 5, F_WBASE = 6,
                       F_PBASE = 7, F_AWORDS = 8, F_WWORDS = 9, F_NP = 10, F_CYCLES = 11, F_ABORT = 12,
                       F_RESET = 13, F_GAP = 14, F_IABORT = 15, F_MODE = 16, NF = 17;
`include "tb_vu_run.vh"  // the clock, the case file, the run from start to done

    reg [WB-1:0] act   [0:AN-1];
    reg          rdone [0:AN-1];       // the word was read in this case
    reg [WB-1:0] wimg  [0:WN-1];
    reg [WB-1:0] wexp  [0:WN-1];
    reg [WB-1:0] worig [0:WN-1];
    reg [PB-1:0] pimg  [0:PN-1];
    reg [PB-1:0] pexp  [0:PN-1];
    reg [PB-1:0] porig [0:PN-1];
    reg [WB-1:0] rd_q;

    reg              c_tr, c_sum;
    reg [7:0]        c_za;
    reg [15:0]       c_n, c_m;
    reg [ACT_AW-1:0] c_a_base;
    reg [W_AW-1:0]   c_w_base;
    reg [P_AW-1:0]   c_p_base;
    wire act_re, w_we, p_we;
    wire [ACT_AW-1:0] act_ra;
    wire [W_AW-1:0]   w_wa;
    wire [P_AW-1:0]   p_wa;
    wire [WB-1:0]     w_wd;
    wire [PB-1:0]     p_wd;

    nnf_vu_actw #(.ROWS(ROWS), .ACT_AW(ACT_AW), .W_AW(W_AW), .P_AW(P_AW)) dut (
        .clk(clk), .rst(rst), .start(start), .abort(abort), .c_tr(c_tr), .c_sum(c_sum), .c_za(c_za),
        .c_n(c_n), .c_m(c_m), .c_a_base(c_a_base), .c_w_base(c_w_base), .c_p_base(c_p_base),
        .busy(busy), .done(done), .act_re(act_re), .act_ra(act_ra), .act_rd(rd_q),
        .w_we(w_we), .w_wa(w_wa), .w_wd(w_wd), .p_we(p_we), .p_wa(p_wa), .p_wd(p_wd));

    // the buffers' models and the port checks (nwrites: W's)
    integer npw, want, ra;
    reg     ab_seen;                   // an edge has sampled abort while busy
    always @(posedge clk) begin
        if (act_re) begin
            rd_q <= act[act_ra];
            ra = act_ra;
            if (!busy || (^act_ra) === 1'bx || ra < fv[F_ABASE] || ra >= fv[F_ABASE] + fv[F_AWORDS] ||
                rdone[act_ra]) begin
                $display("FAIL case %0d: read %0d of word %0d (A %0d words %0d, read before %0d, busy %0d)",
                         cas, nreads, act_ra, fv[F_ABASE], fv[F_AWORDS], rdone[act_ra], busy);
                $finish;
            end
            rdone[act_ra] = 1'b1;
            nreads = nreads + 1;
        end
        if (w_we) begin
            wimg[w_wa] <= w_wd;
            want = fv[F_WBASE] + nwrites;
            if (!busy || ab_seen || nwrites >= fv[F_WWORDS] || w_wa !== want[W_AW-1:0] ||
                w_wd !== wexp[w_wa]) begin
                $display("FAIL case %0d (tr %0d N %0d M %0d w_base %0d): W write %0d of %h to word %0d, want %h to word %0d (busy %0d, after abort %0d)",
                         cas, fv[F_TR], fv[F_N], fv[F_M], fv[F_WBASE], nwrites, w_wd, w_wa, wexp[want[W_AW-1:0]],
                         want, busy, ab_seen);
                $finish;
            end
            nwrites = nwrites + 1;
        end
        if (p_we) begin
            pimg[p_wa] <= p_wd;
            want = fv[F_PBASE] + npw;
            if (!busy || ab_seen || npw >= fv[F_NP] || p_wa !== want[P_AW-1:0] || p_wd !== pexp[p_wa]) begin
                $display("FAIL case %0d (tr %0d sum %0d za %0d N %0d M %0d p_base %0d): P write %0d of %h to entry %0d, want %h to entry %0d (of %0d; busy %0d, after abort %0d)",
                         cas, fv[F_TR], fv[F_SUM], $signed(fv[F_ZA][7:0]), fv[F_N], fv[F_M], fv[F_PBASE], npw,
                         p_wd, p_wa, pexp[want[P_AW-1:0]], want, fv[F_NP], busy, ab_seen);
                $finish;
            end
            npw = npw + 1;
        end
        if (!busy && (act_re || w_we || p_we)) begin
            $display("FAIL case %0d: port activity while idle", cas);
            $finish;
        end
        if (busy && abort) ab_seen = 1'b1;
    end

    integer total_biases, nw_lo, nw_hi;
    reg [WB-1:0] garbage;
    reg [PB-1:0] pgarbage;

    task scramble;  // the command fields while idle: garbage
        begin
            c_tr = $random; c_sum = $random; c_za = $random; c_n = $random; c_m = $random;
            c_a_base = $random; c_w_base = $random; c_p_base = $random;
        end
    endtask

    task case_info;
        $write("FAIL case %0d (tr %0d sum %0d N %0d M %0d)", cas, fv[F_TR], fv[F_SUM], fv[F_N], fv[F_M]);
    endtask

    initial begin
        total_biases = 0; npw = 0; ab_seen = 1'b0; ncyc = 0;
        for (i = 0; i < AN; i = i + 1) rdone[i] = 1'b0;
        tb_vu_begin;
        for (cas = 0; cas < ncases; cas = cas + 1) begin
            tb_vu_fields;
            scramble;
            tb_vu_idle(fv[F_GAP], fv[F_IABORT][0], 1'b1);
            // ACT: garbage, then A's words
            for (i = 0; i < AN; i = i + 1) begin
                `TB_VU_GARBAGE(garbage, WB)
                act[i] = garbage;
                rdone[i] = 1'b0;
            end
            for (i = 0; i < fv[F_AWORDS]; i = i + 1) act[fv[F_ABASE] + i] = f[p + i];
            p = p + fv[F_AWORDS];
            // W: garbage; expected: the garbage with the model's B words
            for (i = 0; i < WN; i = i + 1) begin
                `TB_VU_GARBAGE(garbage, WB)
                wimg[i] = garbage;
                worig[i] = garbage;
                wexp[i] = garbage;
            end
            for (i = 0; i < fv[F_WWORDS]; i = i + 1) wexp[fv[F_WBASE] + i] = f[p + i];
            p = p + fv[F_WWORDS];
            // P's biases: garbage; expected: the model's for the NT' entries
            for (i = 0; i < PN; i = i + 1) begin
                `TB_VU_GARBAGE(pgarbage, PB)
                pimg[i] = pgarbage;
                porig[i] = pgarbage;
                pexp[i] = pgarbage;
            end
            for (i = 0; i < fv[F_NP]; i = i + 1)
                for (k = 0; k < ROWS; k = k + 1) pexp[fv[F_PBASE] + i][32*k +: 32] = fld(p + 2 * (i * ROWS + k));
            p = p + 2 * ROWS * fv[F_NP];
            c_tr = fv[F_TR][0]; c_sum = fv[F_SUM][0]; c_za = fv[F_ZA][7:0];
            c_n = fv[F_N][15:0]; c_m = fv[F_M][15:0];
            c_a_base = fv[F_ABASE][ACT_AW-1:0]; c_w_base = fv[F_WBASE][W_AW-1:0]; c_p_base = fv[F_PBASE][P_AW-1:0];
            abort_at = fv[F_ABORT];
            reset_at = fv[F_RESET];
            npw = 0; ab_seen = 1'b0;
            tb_vu_run(fv[F_GAP]);
            // W: the model's words where written (all of B, or a prefix after
            // an abort or a reset), the garbage elsewhere
            nw_lo = fv[F_WBASE];
            nw_hi = fv[F_WBASE] + (abort_cyc >= 0 ? nwrites : fv[F_WWORDS]);
            for (i = 0; i < WN; i = i + 1) begin
                if (wimg[i] !== ((i >= nw_lo && i < nw_hi) ? wexp[i] : worig[i])) begin
                    $display("FAIL case %0d (tr %0d sum %0d za %0d N %0d M %0d a %0d w %0d p %0d mode %0d abort %0d reset %0d): W word %0d = %h, want %h (model's %h)",
                             cas, fv[F_TR], fv[F_SUM], $signed(fv[F_ZA][7:0]), fv[F_N], fv[F_M], fv[F_ABASE],
                             fv[F_WBASE], fv[F_PBASE], fv[F_MODE], abort_at, reset_at, i, wimg[i],
                             (i >= nw_lo && i < nw_hi) ? wexp[i] : worig[i], wexp[i]);
                    $finish;
                end
            end
            nw_lo = fv[F_PBASE];
            nw_hi = fv[F_PBASE] + (abort_cyc >= 0 ? npw : fv[F_NP]);
            for (i = 0; i < PN; i = i + 1) begin
                if (pimg[i] !== ((i >= nw_lo && i < nw_hi) ? pexp[i] : porig[i])) begin
                    $display("FAIL case %0d (tr %0d sum %0d za %0d N %0d M %0d p %0d abort %0d reset %0d): P entry %0d = %h, want %h",
                             cas, fv[F_TR], fv[F_SUM], $signed(fv[F_ZA][7:0]), fv[F_N], fv[F_M], fv[F_PBASE],
                             abort_at, reset_at, i, pimg[i], (i >= nw_lo && i < nw_hi) ? pexp[i] : porig[i]);
                    $finish;
                end
            end
            tb_vu_cycles;
            if (abort_cyc < 0) begin
                if (nreads != fv[F_AWORDS] || nwrites != fv[F_WWORDS] || npw != fv[F_NP]) begin
                    $display("FAIL case %0d: %0d reads, %0d W writes, %0d P writes, want %0d, %0d, %0d",
                             cas, nreads, nwrites, npw, fv[F_AWORDS], fv[F_WWORDS], fv[F_NP]);
                    $finish;
                end
                total_words = total_words + fv[F_WWORDS];
                total_biases = total_biases + ROWS * fv[F_NP];
                if (fv[F_WWORDS] == 0) nempty = nempty + 1;
            end
        end
        tb_vu_end;
        $display("PASS %0d cases (%0d empty; %0d aborted, done at most %0d cycles after abort, %0d reset), %0d W words, %0d biases, %0d cycles",
                 ncases, nempty, naborts, abort_lat, nresets, total_words, total_biases, total_cycles);
        $finish;
    end
endmodule

`default_nettype wire
