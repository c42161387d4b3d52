// tb_vu_ew: nnf_vu_ew (EW: ADD, SUB, MUL, MAP, the LUTs) against the
// functional model, bit for bit. The cases come from gen_ew_cases
// (tests/rtl/gen_ew_cases.c: nnfm_engine_ew on a model engine), one
// $readmemh file per suite; a generated top module sets ROWS, ACT_AW, LANES,
// LUT_COUNT and the file. Per case: the case's LUT bytes are written through
// the lw_* port (idle), the testbench's ACT (2^ACT_AW words, read data the
// cycle after act_re, held until the next read) is filled with garbage, the
// A and B words loaded, nnf_vu_ew run, and the WHOLE ACT compared with the
// garbage plus the model's output words at o_base. Also checked: the reads
// are A's words and B's in the order of the header's timing (A i, then B i
// unless MAP; so only inside A and B, and none of B for MAP), the writes O's
// words in order (none outside O), no port activity while idle (with the
// command fields scrambled and abort pulsed there), busy from the cycle
// after start until done, done a one-cycle pulse (the next start comes 0..3
// idle cycles after it, 0: in the cycle done is high), and the exact cycles
// from start to done:
//   W = CT*M words, G = ROWS / LANES, P = max(G, 2) (MAP: max(G, 1)):
//   W ? (W - 1)*P + G + 18 : 2        (FIXED = 18 below)
// A case with an abort time pulses abort in that cycle: done must follow
// within G + 16 cycles (the last word launched before the abort drains: it
// is written G + 15 cycles after its launch and done follows two cycles
// later, FIXED - 2 + G), and the words of O are a prefix of the model's
// followed by untouched ones. A case with a reset time raises rst for that
// cycle instead: then busy and done stay low, no reads or writes, and O is
// a prefix of the model's words as after an abort. Prints "PASS ..." or stops at the first
// mismatch with "FAIL ...". Runs under Icarus and Verilator --binary.
`timescale 1ns / 1ps
`default_nettype none

module tb_vu_ew #(
    parameter integer ROWS      = 8,
    parameter integer ACT_AW    = 9,
    parameter integer LANES     = 8,
    parameter integer LUT_COUNT = 8,
    parameter integer FWORDS    = 2,
    parameter         FILE      = "ew.hex"
) ();
    localparam integer A     = 1 << ACT_AW;
    localparam integer WB    = ROWS * 8;
    localparam integer G     = ROWS / LANES;
    localparam integer FIXED = 18;                 // cycles: W ? (W-1)*P + G + FIXED : 2
    localparam integer ABORT_MAX = G + FIXED - 2;   // done at most this many cycles after abort
    localparam integer RESET_QUIET = G + FIXED + 4; // busy and done low this long after a reset
    // fields (gen_ew_cases.c's F_*)
    localparam integer F_OP = 0, F_N = 1, F_M = 2, F_WORDS = 3, F_ABASE = 4, F_BBASE = 5, F_OBASE = 6,
                       F_ZPA = 7, F_ZPB = 8, F_M0S = 9, F_NSHIFTS = 10, F_ASMALL = 11, F_M0 = 12,
                       F_SHIFT = 13, F_ZP = 14, F_LO = 15, F_HI = 16, F_LUT = 17, F_LUTSEL = 18,
                       F_ABORT = 19, F_NB = 20, F_NO = 21, F_CYCLES = 22, F_NLW = 23, F_MODE = 24,
                       F_GAP = 25, F_IABORT = 26, F_RESET = 27, F_RND = 28, NF = 29;
`define TB_VU_LUT_PORT
`define TB_VU_ACT_IMAGE
`include "tb_vu_run.vh"  // the clock, the case file, the run from start to done

    reg [1:0]        c_op;
    reg [15:0]       c_n, c_m;
    reg [ACT_AW-1:0] c_a_base, c_b_base, c_o_base;
    reg [7:0]        c_zp_a, c_zp_b;
    reg [30:0]       c_m0_s;
    reg [4:0]        c_nshift_s;
    reg              c_a_small;
    reg [30:0]       c_m0;
    reg [7:0]        c_shift, c_zp, c_lo, c_hi;
    reg              c_lut, c_rnd;
    reg [2:0]        c_lut_sel;
    wire act_re, act_we;
    wire [ACT_AW-1:0] act_ra, act_wa;
    wire [WB-1:0] act_wd;

    nnf_vu_ew #(.ROWS(ROWS), .ACT_AW(ACT_AW), .LANES(LANES), .LUT_COUNT(LUT_COUNT), .TFL_ROUND(1)) dut (
        .clk(clk), .rst(rst), .start(start), .abort(abort), .c_op(c_op), .c_n(c_n), .c_m(c_m),
        .c_a_base(c_a_base), .c_b_base(c_b_base), .c_o_base(c_o_base), .c_zp_a(c_zp_a),
        .c_zp_b(c_zp_b), .c_m0_s(c_m0_s), .c_nshift_s(c_nshift_s), .c_a_small(c_a_small),
        .c_m0(c_m0), .c_shift(c_shift), .c_zp(c_zp), .c_lo(c_lo), .c_hi(c_hi), .c_rnd(c_rnd), .c_lut(c_lut),
        .c_lut_sel(c_lut_sel), .lw_we(lw_we), .lw_addr(lw_addr), .lw_data(lw_data),
        .busy(busy), .done(done), .act_re(act_re), .act_ra(act_ra), .act_rd(rd_q),
        .act_we(act_we), .act_wa(act_wa), .act_wd(act_wd));

    // the ACT model and the port checks
    integer want;
    always @(posedge clk) begin
        if (act_re) begin
            rd_q <= act[act_ra];
            // read k: A's word k (MAP), else A's word k/2 then B's word k/2
            if (fv[F_OP] == 3) want = fv[F_ABASE] + nreads;
            else want = ((nreads % 2) ? fv[F_BBASE] : fv[F_ABASE]) + nreads / 2;
            if (!busy || nreads >= fv[F_WORDS] * (fv[F_OP] == 3 ? 1 : 2) || act_ra !== want[ACT_AW-1:0]) begin
                $display("FAIL case %0d: read %0d of word %0d, want %0d (A %0d B %0d words %0d op %0d, busy %0d)",
                         cas, nreads, act_ra, want, fv[F_ABASE], fv[F_BBASE], fv[F_WORDS], fv[F_OP], busy);
                $finish;
            end
            nreads = nreads + 1;
        end
        if (act_we) begin
            act[act_wa] <= act_wd;
            if (!busy || nwrites >= fv[F_WORDS] || act_wa !== fv[F_OBASE] + nwrites) begin
                $display("FAIL case %0d: write %0d to word %0d, want %0d (O %0d words %0d, busy %0d)",
                         cas, nwrites, act_wa, fv[F_OBASE] + nwrites, fv[F_OBASE], fv[F_WORDS], busy);
                $finish;
            end
            nwrites = nwrites + 1;
        end
        if (!busy && (act_re || act_we)) begin
            $display("FAIL case %0d: port activity while idle", cas);
            $finish;
        end
    end

    integer nlut;
    integer nop [0:3];
    integer first_bad, binary;

    task scramble;  // the command fields while idle: garbage
        begin
            c_op = $random; c_n = $random; c_m = $random; c_a_base = $random; c_b_base = $random;
            c_o_base = $random; c_zp_a = $random; c_zp_b = $random; c_m0_s = $random;
            c_nshift_s = $random; c_a_small = $random; c_m0 = $random; c_shift = $random;
            c_zp = $random; c_lo = $random; c_hi = $random; c_lut = $random; c_lut_sel = $random;
            c_rnd = $random;
        end
    endtask

    task case_info;
        $write("FAIL case %0d (op %0d N %0d M %0d words %0d)", cas, fv[F_OP], fv[F_N], fv[F_M], fv[F_WORDS]);
    endtask

    initial begin
        nlut = 0;
        for (i = 0; i < 4; i = i + 1) nop[i] = 0;
        tb_vu_begin;
        for (cas = 0; cas < ncases; cas = cas + 1) begin
            tb_vu_fields;
            binary = (fv[F_OP] != 3);
            // the LUT writes and F_GAP cycles, idle, the command fields garbage,
            // abort pulsed in them (F_IABORT); none: start in the cycle done is high
            scramble;
            tb_vu_lut_writes(fv[F_NLW], fv[F_IABORT][0]);
            tb_vu_idle(fv[F_GAP], fv[F_IABORT][0], 1'b0);
            // ACT: garbage, the inputs; expected: the same, the outputs
            tb_vu_act_case(fv[F_ABASE], fv[F_WORDS], fv[F_BBASE], fv[F_NB], fv[F_OBASE], fv[F_NO]);
            c_op = fv[F_OP][1:0]; c_n = fv[F_N][15:0]; c_m = fv[F_M][15:0];
            c_a_base = fv[F_ABASE][ACT_AW-1:0]; c_b_base = fv[F_BBASE][ACT_AW-1:0];
            c_o_base = fv[F_OBASE][ACT_AW-1:0];
            c_zp_a = fv[F_ZPA][7:0]; c_zp_b = fv[F_ZPB][7:0]; c_m0_s = fv[F_M0S][30:0];
            c_nshift_s = fv[F_NSHIFTS][4:0]; c_a_small = fv[F_ASMALL][0]; c_m0 = fv[F_M0][30:0];
            c_shift = fv[F_SHIFT][7:0]; c_zp = fv[F_ZP][7:0]; c_lo = fv[F_LO][7:0]; c_hi = fv[F_HI][7:0];
            c_lut = fv[F_LUT][0]; c_lut_sel = fv[F_LUTSEL][2:0]; c_rnd = fv[F_RND][0];
            abort_at = fv[F_ABORT];
            reset_at = fv[F_RESET];
            tb_vu_run(fv[F_NLW] + fv[F_GAP]);
            // the whole ACT
            first_bad = -1;
            for (i = 0; i < A; i = i + 1) begin
                if (act[i] !== expw[i]) begin
                    j = i - fv[F_OBASE];
                    if (abort_cyc >= 0 && j >= 0 && j < fv[F_NO]) begin
                        // aborted: a prefix of the outputs, the rest untouched
                        if (first_bad < 0) first_bad = j;
                    end else begin
                        $display("FAIL case %0d (op %0d N %0d M %0d a %0d b %0d o %0d zp %0d,%0d m0_s %0d >>%0d a_small %0d m0 %0d shift %0d zp %0d lo %0d hi %0d lut %0d sel %0d mode %0d abort %0d): word %0d = %h, want %h",
                                 cas, fv[F_OP], fv[F_N], fv[F_M], fv[F_ABASE], fv[F_BBASE], fv[F_OBASE],
                                 $signed(c_zp_a), $signed(c_zp_b), fv[F_M0S], fv[F_NSHIFTS], fv[F_ASMALL],
                                 fv[F_M0], $signed(c_shift), $signed(c_zp), $signed(c_lo), $signed(c_hi),
                                 fv[F_LUT], fv[F_LUTSEL], fv[F_MODE], abort_at, i, act[i], expw[i]);
                        $finish;
                    end
                end
            end
            if (abort_cyc >= 0 && first_bad >= 0) begin
                for (j = first_bad; j < fv[F_NO]; j = j + 1)
                    if (act[fv[F_OBASE] + j] !== orig[fv[F_OBASE] + j]) begin
                        $display("FAIL case %0d: aborted, output word %0d = %h, neither untouched (%h) nor after a prefix of the model's (%h)",
                                 cas, j, act[fv[F_OBASE] + j], orig[fv[F_OBASE] + j], expw[fv[F_OBASE] + j]);
                        $finish;
                    end
            end
            tb_vu_cycles;
            if (abort_cyc < 0) begin
                if (nreads != fv[F_WORDS] * (binary ? 2 : 1) || nwrites != fv[F_WORDS]) begin
                    $display("FAIL case %0d: %0d reads, %0d writes, for %0d words", cas, nreads, nwrites, fv[F_WORDS]);
                    $finish;
                end
                total_words = total_words + fv[F_WORDS];
                nop[fv[F_OP]] = nop[fv[F_OP]] + 1;
                if (fv[F_LUT] != 0) nlut = nlut + 1;
                if (fv[F_WORDS] == 0) nempty = nempty + 1;
            end
        end
        tb_vu_end;
        $display("PASS %0d cases (%0d ADD, %0d SUB, %0d MUL, %0d MAP, %0d with the LUT, %0d empty; %0d aborted, done at most %0d cycles after abort, %0d reset), %0d words, %0d cycles",
                 ncases, nop[0], nop[1], nop[2], nop[3], nlut, nempty, naborts, abort_lat, nresets, total_words, total_cycles);
        $finish;
    end
endmodule

`default_nettype wire
