// tb_vu_row: nnf_vu_row (ROW SOFTMAX) against the functional model, bit for
// bit. The cases come from gen_row_cases (tests/rtl/gen_row_cases.c:
// nnfm_engine_row on a model engine), one $readmemh file per suite; a
// generated top module sets ROWS, ACT_AW, LUT_COUNT and the file. Per case:
// the case's LUT bytes are written through the lw_* port (idle), the
// testbench's ACT (2^ACT_AW words, read data the cycle after act_re, held
// until the next read) is filled with garbage, the A words loaded,
// nnf_vu_row run, and the WHOLE ACT compared with the garbage plus the
// model's output words at o_base, and each row's sum and reciprocal inside
// the unit as pass 2 starts (the model's). Also checked: the reads are the rows'
// words in order (row by row, three passes over its CT words a_base +
// ct*M + m), the writes O's words in order (row by row, ct within a row),
// no port activity while idle (with the command fields scrambled and abort
// pulsed there), busy from the cycle after start until done, done a
// one-cycle pulse, and the exact cycles from start to done:
//   M * (3*CT*(ROWS + 3) + 46) + 1, or 2 when N or M is 0
// A case with an abort time pulses abort in that cycle: done must follow
// within ABORT_MAX cycles, and every output word is the model's or
// untouched (the writes' order is checked by the port monitor). A case with
// a reset time raises rst for that cycle instead: then busy and done stay
// low, no reads or writes. Prints "PASS ..." or stops at the first mismatch
// with "FAIL ...". Runs under Icarus and Verilator --binary.
`timescale 1ns / 1ps
`default_nettype none

module tb_vu_row #(
    parameter integer ROWS      = 8,
    parameter integer ACT_AW    = 9,
    parameter integer LUT_COUNT = 8,
    parameter integer FWORDS    = 2,
    parameter         FILE      = "row.hex"
) ();
    localparam integer A         = 1 << ACT_AW;
    localparam integer WB        = ROWS * 8;
    localparam integer ABORT_MAX = ROWS + 14;   // the word in its lanes, then the drain
    localparam integer RESET_QUIET = ABORT_MAX + 4;
    localparam integer F_TBL = 0, F_N = 1, F_M = 2, F_WORDS = 3, F_ABASE = 4, F_OBASE = 5, F_ABORT = 6,
                       F_NO = 7, F_CYCLES = 8, F_NLW = 9, F_MODE = 10, F_GAP = 11, F_IABORT = 12,
                       F_RESET = 13, F_NREC = 14, NF = 15;
`define TB_VU_LUT_PORT
`define TB_VU_ACT_IMAGE
`include "tb_vu_run.vh"  // the clock, the case file, the run from start to done

    reg              c_tbl;
    reg [15:0]       c_n, c_m;
    reg [ACT_AW-1:0] c_a_base, c_o_base;
    wire act_re, act_we;
    wire [ACT_AW-1:0] act_ra, act_wa;
    wire [WB-1:0] act_wd;

    nnf_vu_row #(.ROWS(ROWS), .ACT_AW(ACT_AW), .LUT_COUNT(LUT_COUNT)) dut (
        .clk(clk), .rst(rst), .start(start), .abort(abort), .c_tbl(c_tbl), .c_n(c_n), .c_m(c_m),
        .c_a_base(c_a_base), .c_o_base(c_o_base), .lw_we(lw_we), .lw_addr(lw_addr), .lw_data(lw_data),
        .busy(busy), .done(done), .act_re(act_re), .act_ra(act_ra), .act_rd(rd_q),
        .act_we(act_we), .act_wa(act_wa), .act_wd(act_wd));

    // the ACT model and the port checks
    integer want, ctn, nrd_want;
    always @(posedge clk) begin
        if (act_re) begin
            rd_q <= act[act_ra];
            // read k: row k / (3 CT), tile k % CT
            want = fv[F_ABASE] + (nreads % ctn) * fv[F_M] + nreads / (3 * ctn);
            if (!busy || nreads >= nrd_want || act_ra !== want[ACT_AW-1:0]) begin
                $display("FAIL case %0d: read %0d of word %0d, want %0d (A %0d N %0d M %0d, busy %0d)",
                         cas, nreads, act_ra, want, fv[F_ABASE], fv[F_N], fv[F_M], busy);
                $finish;
            end
            nreads = nreads + 1;
        end
        if (act_we) begin
            act[act_wa] <= act_wd;
            want = fv[F_OBASE] + (nwrites % ctn) * fv[F_M] + nwrites / ctn;
            if (!busy || nwrites >= fv[F_WORDS] || act_wa !== want[ACT_AW-1:0]) begin
                $display("FAIL case %0d: write %0d to word %0d, want %0d (O %0d words %0d, busy %0d)",
                         cas, nwrites, act_wa, want, fv[F_OBASE], fv[F_WORDS], busy);
                $finish;
            end
            nwrites = nwrites + 1;
        end
        if (!busy && (act_re || act_we)) begin
            $display("FAIL case %0d: port activity while idle", cas);
            $finish;
        end
    end

    // each row's sum and reciprocal, checked as pass 2 starts (the cycle
    // after S_REC's last, when inv_q is loaded)
    integer rp, nrec_checked;
    reg     rec_q = 1'b0;
    always @(posedge clk) begin
        if (rec_q) begin
            if (dut.m_q >= fv[F_NREC] || {1'b0, dut.sum_q} !== fld(rp + 4 * dut.m_q) ||
                dut.inv_q !== fld(rp + 4 * dut.m_q + 2)) begin
                $display("FAIL case %0d row %0d: sum %h inv %h, want sum %h inv %h", cas, dut.m_q, dut.sum_q,
                         dut.inv_q, fld(rp + 4 * dut.m_q), fld(rp + 4 * dut.m_q + 2));
                $finish;
            end
            nrec_checked = nrec_checked + 1;
        end
        rec_q <= !rst && dut.busy && (dut.st_q == 3'd6) && (dut.k_q == 3'd7) && !dut.ab_q && !abort;
    end

    task scramble;  // the command fields while idle: garbage
        begin
            c_tbl = $random; c_n = $random; c_m = $random; c_a_base = $random; c_o_base = $random;
        end
    endtask

    task case_info;
        $write("FAIL case %0d (N %0d M %0d words %0d)", cas, fv[F_N], fv[F_M], fv[F_WORDS]);
    endtask

    initial begin
        ctn = 1; nrd_want = 0; rp = 0; nrec_checked = 0;
        tb_vu_begin;
        for (cas = 0; cas < ncases; cas = cas + 1) begin
            tb_vu_fields;
            scramble;
            tb_vu_lut_writes(fv[F_NLW], fv[F_IABORT][0]);
            tb_vu_idle(fv[F_GAP], fv[F_IABORT][0], 1'b0);
            tb_vu_act_case(fv[F_ABASE], fv[F_WORDS], 0, 0, fv[F_OBASE], fv[F_NO]);
            rp = p;
            p = p + 4 * fv[F_NREC];
            ctn = (fv[F_N] + ROWS - 1) / ROWS;
            if (ctn == 0) ctn = 1;
            nrd_want = 3 * fv[F_WORDS];
            c_tbl = fv[F_TBL][0]; c_n = fv[F_N][15:0]; c_m = fv[F_M][15:0];
            c_a_base = fv[F_ABASE][ACT_AW-1:0]; c_o_base = fv[F_OBASE][ACT_AW-1:0];
            abort_at = fv[F_ABORT];
            reset_at = fv[F_RESET];
            tb_vu_run(fv[F_NLW] + fv[F_GAP]);
            for (i = 0; i < A; i = i + 1) begin
                if (act[i] !== expw[i]) begin
                    j = i - fv[F_OBASE];
                    if (!(abort_cyc >= 0 && j >= 0 && j < fv[F_NO] && act[i] === orig[i])) begin
                        $display("FAIL case %0d (tbl %0d N %0d M %0d a %0d o %0d mode %0d abort %0d reset %0d): word %0d = %h, want %h",
                                 cas, fv[F_TBL], fv[F_N], fv[F_M], fv[F_ABASE], fv[F_OBASE], fv[F_MODE],
                                 abort_at, reset_at, i, act[i], expw[i]);
                        $finish;
                    end
                end
            end
            tb_vu_cycles;
            if (abort_cyc < 0) begin
                if (nreads != nrd_want || nwrites != fv[F_WORDS]) begin
                    $display("FAIL case %0d: %0d reads, %0d writes, for %0d words", cas, nreads, nwrites, fv[F_WORDS]);
                    $finish;
                end
                total_words = total_words + fv[F_WORDS];
                if (fv[F_WORDS] == 0) nempty = nempty + 1;
            end
        end
        tb_vu_end;
        $display("PASS %0d cases (%0d empty; %0d aborted, done at most %0d cycles after abort, %0d reset), %0d words, %0d rows' sums and reciprocals, %0d cycles",
                 ncases, nempty, naborts, abort_lat, nresets, total_words, nrec_checked, total_cycles);
        $finish;
    end
endmodule

`default_nettype wire
