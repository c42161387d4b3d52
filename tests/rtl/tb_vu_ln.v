// tb_vu_ln: nnf_vu_ln (ROW LAYERNORM) against the functional model, bit for
// bit. The cases come from gen_ln_cases (tests/rtl/gen_ln_cases.c:
// nnfm_engine_row with NNFM_ROW_LAYERNORM on a model engine), one $readmemh
// file per suite; a generated top module sets ROWS, ACT_AW, P_AW and the
// file. Per case: the testbench's ACT (2^ACT_AW words) is filled with
// garbage and A's CT*M words loaded, its P (2^P_AW entries of ROWS lanes,
// lane c at [72c +: 72]: bias [31:0], m0 [63:32], shift [71:64]) with
// garbage and the case's CT entries from p_base loaded, nnf_vu_ln run, and
// the WHOLE ACT compared with the garbage plus the model's output words at
// o_base; each row's constants (S, k, inv and the root r) are compared
// inside the unit as pass 1 starts (the model's nnfm_layernorm_row, inv
// modulo 2^25, its register's width: see gen_ln_cases.c; define
// TB_LN_NO_ROWCHK to leave that check out and see what the outputs alone
// catch).
//
// The read ports as the unit's header has them: act_re / act_ra and p_re /
// p_ra are the unit's registered outputs, sampled at the clock edge; the
// data (act_rd, p_rd) is there the cycle after, held until the next read of
// that port (pass 0 reads no P entry: the unit sees the last one).
//
// Also checked, cycle by cycle: the ACT reads are A's words in order (row
// by row, two passes over its CT words a_base + ct*M + m: inside A), the P
// reads the row's CT entries p_base, p_base + 1, ... (M*CT of them: inside
// the CT entries), the writes O's words in order (row by row, ct within a
// row: inside O), each word equal to the model's as it is written; no port
// activity while idle (with the command fields scrambled and abort pulsed
// there); busy from the cycle after start until done, done a one-cycle
// pulse, and the exact cycles from start to done:
//   M * (2*CT*(ROWS + 3) + 102) + 1, or 2 when N or M is 0
// (the generator's LN_CYC_*, as the unit's header states). A case with an
// abort time pulses abort in that cycle: done must follow within ABORT_MAX cycles, and the words
// written are a prefix of O's write order, each the model's, every other
// word untouched. A case with a reset time raises rst for that cycle
// instead: then busy and done stay low, no reads or writes follow, and the
// same prefix rule holds; the generator makes the case after an abort or a
// reset a plain one. Prints "PASS ..." or stops at the first mismatch with
// "FAIL ...". Runs under Icarus and Verilator --binary.
`timescale 1ns / 1ps
`default_nettype none

module tb_vu_ln #(
    parameter integer ROWS   = 8,
    parameter integer ACT_AW = 9,
    parameter integer P_AW   = 4,
    parameter integer FWORDS = 2,
    parameter         FILE   = "ln.hex"
) ();
    localparam integer A  = 1 << ACT_AW;
    localparam integer PN = 1 << P_AW;
    localparam integer WB = ROWS * 8;
    localparam integer PB = ROWS * 72;
    // abort is taken at the next step that looks at it. At worst: sampled
    // in S_K (the division's 57 steps, S_END: done 59 cycles later), or in
    // pass 1's S_W1 (S_W2, the word's ROWS lanes, the 8-stage pipeline's
    // drain, the write, S_END: ROWS + 12)
    localparam integer ABORT_MAX = (ROWS + 12 > 59) ? ROWS + 12 : 59;
    localparam integer RESET_QUIET = ABORT_MAX + 4;
    localparam integer F_N = 0, F_M = 1, F_ZPIN = 2, F_ZPOUT = 3, F_EPSLO = 4, F_EPSHI = 5, F_ABASE = 6,
                       F_OBASE = 7, F_PBASE = 8, F_WORDS = 9, F_NP = 10, F_CYCLES = 11, F_ABORT = 12,
                       F_RESET = 13, F_GAP = 14, F_IABORT = 15, F_MODE = 16, F_NREC = 17, NF = 18;
    localparam [3:0] S_DIV = 4'd9;     // nnf_vu_ln's state of the division steps
`define TB_VU_ACT_IMAGE
`include "tb_vu_run.vh"  // the clock, the case file, the run from start to done

    reg [PB-1:0] pmem [0:PN-1];
    reg [PB-1:0] prd_q;

    reg [15:0]       c_n, c_m;
    reg [7:0]        c_zp_in, c_zp_out;
    reg [62:0]       c_eps;
    reg [ACT_AW-1:0] c_a_base, c_o_base;
    reg [P_AW-1:0]   c_p_base;
    wire act_re, act_we, p_re;
    wire [ACT_AW-1:0] act_ra, act_wa;
    wire [WB-1:0]     act_wd;
    wire [P_AW-1:0]   p_ra;

    nnf_vu_ln #(.ROWS(ROWS), .ACT_AW(ACT_AW), .P_AW(P_AW)) dut (
        .clk(clk), .rst(rst), .start(start), .abort(abort), .c_n(c_n), .c_m(c_m), .c_zp_in(c_zp_in),
        .c_zp_out(c_zp_out), .c_eps(c_eps), .c_a_base(c_a_base), .c_o_base(c_o_base), .c_p_base(c_p_base),
        .busy(busy), .done(done), .act_re(act_re), .act_ra(act_ra), .act_rd(rd_q),
        .act_we(act_we), .act_wa(act_wa), .act_wd(act_wd), .p_re(p_re), .p_ra(p_ra), .p_rd(prd_q));

    // the buffers' models and the port checks
    integer npr, want, ctn;
    integer since_rst = 0;             // cycles since rst was last high
    always @(posedge clk) begin
        if (!busy && (act_re || act_we || p_re)) begin
            $display("FAIL case %0d: port activity while idle (act_re %0d act_we %0d p_re %0d; %0d cycles after rst)",
                     cas, act_re, act_we, p_re, since_rst);
            $finish;
        end
        since_rst = rst ? 0 : since_rst + 1;
        if (act_re) begin
            rd_q <= act[act_ra];
            // read k: row k / (2 CT), tile k % CT
            want = fv[F_ABASE] + (nreads % ctn) * fv[F_M] + nreads / (2 * ctn);
            if (!busy || nreads >= 2 * fv[F_WORDS] || act_ra !== want[ACT_AW-1:0]) begin
                $display("FAIL case %0d: read %0d of word %0d, want %0d (A %0d N %0d M %0d, busy %0d)",
                         cas, nreads, act_ra, want, fv[F_ABASE], fv[F_N], fv[F_M], busy);
                $finish;
            end
            nreads = nreads + 1;
        end
        if (p_re) begin
            prd_q <= pmem[p_ra];
            // P read k (pass 1's): entry p_base + k % CT
            want = fv[F_PBASE] + npr % ctn;
            if (!busy || npr >= fv[F_WORDS] || p_ra !== want[P_AW-1:0]) begin
                $display("FAIL case %0d: P read %0d of entry %0d, want %0d (p_base %0d N %0d M %0d, busy %0d)",
                         cas, npr, p_ra, want, fv[F_PBASE], fv[F_N], fv[F_M], busy);
                $finish;
            end
            npr = npr + 1;
        end
        if (act_we) begin
            act[act_wa] <= act_wd;
            // write k: row k / CT, tile k % CT
            want = fv[F_OBASE] + (nwrites % ctn) * fv[F_M] + nwrites / ctn;
            if (!busy || nwrites >= fv[F_WORDS] || act_wa !== want[ACT_AW-1:0] || act_wd !== expw[act_wa]) begin
                $display("FAIL case %0d (N %0d M %0d zp_in %0d zp_out %0d eps %h_%h mode %0d): write %0d of %h to word %0d, want %h to word %0d (O %0d words %0d, busy %0d)",
                         cas, fv[F_N], fv[F_M], $signed(fv[F_ZPIN][7:0]), $signed(fv[F_ZPOUT][7:0]), fv[F_EPSHI],
                         fv[F_EPSLO], fv[F_MODE], nwrites, act_wd, act_wa, expw[want[ACT_AW-1:0]], want,
                         fv[F_OBASE], fv[F_WORDS], busy);
                $finish;
            end
            nwrites = nwrites + 1;
        end
    end

    // each row's constants (S, k, inv, r), checked as pass 1 starts: the
    // cycle after the division's last step (it_q 56), when inv_q is final
    integer rp, nrec_checked;
    reg     rec_q = 1'b0;
`ifndef TB_LN_NO_ROWCHK
    reg [31:0] s32;
    always @(posedge clk) begin
        if (rec_q) begin
            s32 = {{13{dut.s_q[18]}}, dut.s_q};
            if (dut.m_q >= fv[F_NREC] || s32 !== fld(rp + 8 * dut.m_q) || {27'd0, dut.k_q} !== fld(rp + 8 * dut.m_q + 2) ||
                {7'd0, dut.inv_q} !== fld(rp + 8 * dut.m_q + 4) || dut.r_q !== {32'd0, fld(rp + 8 * dut.m_q + 6)}) begin
                $display("FAIL case %0d (N %0d M %0d zp_in %0d eps %h_%h) row %0d: S %0d k %0d inv %h r %h, want S %0d k %0d inv %h r %h",
                         cas, fv[F_N], fv[F_M], $signed(fv[F_ZPIN][7:0]), fv[F_EPSHI], fv[F_EPSLO], dut.m_q,
                         $signed(s32), dut.k_q, dut.inv_q, dut.r_q, $signed(fld(rp + 8 * dut.m_q)),
                         fld(rp + 8 * dut.m_q + 2), fld(rp + 8 * dut.m_q + 4), fld(rp + 8 * dut.m_q + 6));
                $finish;
            end
            nrec_checked = nrec_checked + 1;
        end
        rec_q <= !rst && dut.busy && (dut.st_q == S_DIV) && (dut.it_q == 6'd56) && !dut.ab_q && !abort;
    end
`endif

    integer ord, pv;
    reg [WB-1:0] wexp;
    reg [PB-1:0] pgarbage;

    task scramble;  // the command fields while idle: garbage
        begin
            c_n = $random; c_m = $random; c_zp_in = $random; c_zp_out = $random;
            c_eps = {$random, $random}; c_a_base = $random; c_o_base = $random; c_p_base = $random;
        end
    endtask

    task case_info;
        $write("FAIL case %0d (N %0d CT %0d M %0d)", cas, fv[F_N], ctn, fv[F_M]);
    endtask

    initial begin
        npr = 0; ctn = 1; rp = 0; nrec_checked = 0;
        tb_vu_begin;
        for (cas = 0; cas < ncases; cas = cas + 1) begin
            tb_vu_fields;
            scramble;
            tb_vu_idle(fv[F_GAP], fv[F_IABORT][0], 1'b1);
            // ACT: garbage, then A's words; expected: the garbage with the model's O words
            tb_vu_act_case(fv[F_ABASE], fv[F_WORDS], 0, 0, fv[F_OBASE], fv[F_WORDS]);
            // P: garbage, then the CT entries from p_base
            for (i = 0; i < PN; i = i + 1) begin
                `TB_VU_GARBAGE(pgarbage, PB)
                pmem[i] = pgarbage;
            end
            for (i = 0; i < fv[F_NP]; i = i + 1)
                for (k = 0; k < ROWS; k = k + 1) begin
                    j = p + 6 * (i * ROWS + k);
                    pv = fld(j + 4);
                    pmem[fv[F_PBASE] + i][72*k +: 72] = {pv[7:0], fld(j + 2), fld(j)};
                end
            p = p + 6 * ROWS * fv[F_NP];
            rp = p;
            p = p + 8 * fv[F_NREC];
            ctn = (fv[F_N] + ROWS - 1) / ROWS;
            if (ctn == 0) ctn = 1;
            c_n = fv[F_N][15:0]; c_m = fv[F_M][15:0]; c_zp_in = fv[F_ZPIN][7:0]; c_zp_out = fv[F_ZPOUT][7:0];
            c_eps = {fv[F_EPSHI][30:0], fv[F_EPSLO][31:0]};
            c_a_base = fv[F_ABASE][ACT_AW-1:0]; c_o_base = fv[F_OBASE][ACT_AW-1:0]; c_p_base = fv[F_PBASE][P_AW-1:0];
            abort_at = fv[F_ABORT];
            reset_at = fv[F_RESET];
            npr = 0;
            tb_vu_run(fv[F_GAP]);
            // ACT: the model's words where written (all of O, or the first
            // nwrites words of its write order after an abort or a reset),
            // the garbage (or A's input, in place) elsewhere
            for (i = 0; i < A; i = i + 1) begin
                j = i - fv[F_OBASE];
                ord = (j >= 0 && j < fv[F_WORDS]) ? (j % fv[F_M]) * ctn + j / fv[F_M] : -1;
                wexp = (ord >= 0 && ord < nwrites) ? expw[i] : orig[i];
                if (act[i] !== wexp) begin
                    $display("FAIL case %0d (N %0d M %0d zp_in %0d zp_out %0d eps %h_%h a %0d o %0d p %0d mode %0d abort %0d reset %0d): word %0d = %h, want %h (model's %h, %0d written)",
                             cas, fv[F_N], fv[F_M], $signed(fv[F_ZPIN][7:0]), $signed(fv[F_ZPOUT][7:0]),
                             fv[F_EPSHI], fv[F_EPSLO], fv[F_ABASE], fv[F_OBASE], fv[F_PBASE], fv[F_MODE],
                             abort_at, reset_at, i, act[i], wexp, expw[i], nwrites);
                    $finish;
                end
            end
            tb_vu_cycles;
            if (abort_cyc < 0) begin
                if (nreads != 2 * fv[F_WORDS] || npr != fv[F_WORDS] || nwrites != fv[F_WORDS]) begin
                    $display("FAIL case %0d: %0d reads, %0d P reads, %0d writes, for %0d words", cas, nreads, npr,
                             nwrites, fv[F_WORDS]);
                    $finish;
                end
                total_words = total_words + fv[F_WORDS];
                if (fv[F_WORDS] == 0) nempty = nempty + 1;
            end
        end
        tb_vu_end;
        $display("PASS %0d cases (%0d empty; %0d aborted, done at most %0d cycles after abort, %0d reset), %0d words, %0d rows' constants, %0d cycles",
                 ncases, nempty, naborts, abort_lat, nresets, total_words, nrec_checked, total_cycles);
        $finish;
    end
endmodule

`default_nettype wire