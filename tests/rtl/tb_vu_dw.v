// tb_vu_dw: nnf_vu_dw (DWCONV) against the functional model, bit for bit.
// The cases come from gen_dw_cases (tests/rtl/gen_dw_cases.c:
// nnfm_engine_dwconv on a model engine), one $readmemh file per suite; a
// generated top module sets ROWS, ACT_AW, W_AW, P_AW, DATA_REG and the
// file. Per case: the testbench's ACT (2^ACT_AW words), W (2^W_AW words)
// and P (2^P_AW entries of ROWS lanes, lane c at [72c +: 72]: bias [31:0],
// m0 [63:32], shift [71:64]) are filled with garbage and the case's input
// words, weight words and P entries loaded, nnf_vu_dw run, and the WHOLE
// ACT compared with the garbage plus the model's output words at o_base
// (so nothing else was written).
//
// The read ports as the unit's header has them: act_re / w_re / p_re and
// their addresses are registered outputs, the data there the cycle after,
// held until the next read of that port. Also checked: the ACT reads only
// inside the input, exactly the in-map taps a sliding window reads (the
// generator's count), the W reads inside the case's CT*KH*KW words, the P
// reads inside its CT entries; no port activity while idle; busy / done;
// the exact cycles from start to done (nnf_vu_dw.v's timing). A case with
// an abort time pulses abort then: done within ABORT_MAX cycles, and each
// output word is the model's or untouched. Prints "PASS ..." or stops at
// the first mismatch with "FAIL ...". Runs under Icarus and Verilator
// --binary.
`timescale 1ns / 1ps
`default_nettype none

module tb_vu_dw #(
    parameter integer ROWS     = 8,
    parameter integer ACT_AW   = 10,
    parameter integer W_AW     = 8,
    parameter integer P_AW     = 4,
    parameter integer DATA_REG = 0,
    parameter integer FWORDS   = 2,
    parameter         FILE     = "dw.hex"
) ();
    localparam integer A  = 1 << ACT_AW;
    localparam integer WN = 1 << W_AW;
    localparam integer PN = 1 << P_AW;
    localparam integer WB = ROWS * 8;
    localparam integer F_C = 0, F_CT = 1, F_H = 2, F_W = 3, F_B = 4, F_KH = 5, F_KW = 6, F_SH = 7, F_SW = 8,
                       F_PH = 9, F_PW = 10, F_OH = 11, F_OW = 12, F_M = 13, F_WB = 14, F_HWB = 15,
                       F_ABASE = 16, F_OBASE = 17, F_WBASE = 18, F_PBASE = 19, F_ZPIN = 20, F_ZP = 21,
                       F_LO = 22, F_HI = 23, F_RND = 24, F_ABORT = 25, F_NIN = 26, F_NOUT = 27, F_NW = 28,
                       F_READS = 29, NF = 31;
    localparam integer F_CYCLES = 30;
    localparam integer ABORT_MAX = 13 + DATA_REG;
    localparam integer RESET_QUIET = 0;
`define TB_VU_ACT_IMAGE
`include "tb_vu_run.vh"

    reg [15:0] c_c, c_ct, c_m;
    reg [10:0] c_h, c_w, c_b, c_oh, c_ow;
    reg [2:0]  c_kh, c_kw, c_sh, c_sw, c_ph, c_pw;
    reg [ACT_AW-1:0] c_wb, c_hwb, c_a_base, c_o_base;
    reg [W_AW-1:0] c_w_base;
    reg [P_AW-1:0] c_p_base;
    reg [7:0]  c_zp_in, c_zp, c_lo, c_hi;
    reg        c_rnd;
    wire act_re, act_we, w_re, p_re;
    wire [ACT_AW-1:0] act_ra, act_wa;
    wire [WB-1:0] act_wd;
    wire [W_AW-1:0] w_ra;
    wire [P_AW-1:0] p_ra;
    reg  [WB-1:0] wmem [0:WN-1];
    reg  [ROWS*72-1:0] pmem [0:PN-1];
    reg  [WB-1:0] wrd_q;
    reg  [ROWS*72-1:0] prd_q;

    nnf_vu_dw #(.ROWS(ROWS), .ACT_AW(ACT_AW), .W_AW(W_AW), .P_AW(P_AW), .DATA_REG(DATA_REG),
                .TFL_ROUND(1)) dut (
        .clk(clk), .rst(rst), .start(start), .abort(abort),
        .c_c(c_c), .c_ct(c_ct), .c_h(c_h), .c_w(c_w), .c_b(c_b), .c_kh(c_kh), .c_kw(c_kw),
        .c_sh(c_sh), .c_sw(c_sw), .c_ph(c_ph), .c_pw(c_pw), .c_oh(c_oh), .c_ow(c_ow), .c_m(c_m),
        .c_wb(c_wb), .c_hwb(c_hwb), .c_a_base(c_a_base), .c_o_base(c_o_base), .c_w_base(c_w_base),
        .c_p_base(c_p_base), .c_zp_in(c_zp_in), .c_zp(c_zp), .c_lo(c_lo), .c_hi(c_hi), .c_rnd(c_rnd),
        .busy(busy), .done(done), .act_re(act_re), .act_ra(act_ra), .act_rd(rd_q),
        .act_we(act_we), .act_wa(act_wa), .act_wd(act_wd),
        .w_re(w_re), .w_ra(w_ra), .w_rd(wrd_q), .p_re(p_re), .p_ra(p_ra), .p_rd(prd_q));

    // the buffers' models and the port checks
    always @(posedge clk) begin
        if (act_re) begin
            rd_q <= act[act_ra];
            nreads = nreads + 1;
            if (!busy || act_ra < fv[F_ABASE] || act_ra >= fv[F_ABASE] + fv[F_NIN]) begin
                $display("FAIL case %0d: read of word %0d outside the input %0d..+%0d (busy %0d)",
                         cas, act_ra, fv[F_ABASE], fv[F_NIN], busy);
                $finish;
            end
        end
        if (w_re) begin
            wrd_q <= wmem[w_ra];
            if (!busy || w_ra < fv[F_WBASE] || w_ra >= fv[F_WBASE] + fv[F_NW]) begin
                $display("FAIL case %0d: W read of word %0d outside %0d..+%0d (busy %0d)",
                         cas, w_ra, fv[F_WBASE], fv[F_NW], busy);
                $finish;
            end
        end
        if (p_re) begin
            prd_q <= pmem[p_ra];
            if (!busy || p_ra < fv[F_PBASE] || p_ra >= fv[F_PBASE] + fv[F_CT]) begin
                $display("FAIL case %0d: P read of entry %0d outside %0d..+%0d (busy %0d)",
                         cas, p_ra, fv[F_PBASE], fv[F_CT], busy);
                $finish;
            end
        end
        if (act_we) begin
            act[act_wa] <= act_wd;
            nwrites = nwrites + 1;
            if (!busy) begin
                $display("FAIL case %0d: write while idle", cas);
                $finish;
            end
        end
    end

    integer total_reads, nt1, nt2;
    reg [ROWS*72-1:0] pe;

    task scramble;  // the command fields are not scrambled
        begin
        end
    endtask

    task case_info;
        $write("FAIL case %0d (C %0d H %0d W %0d B %0d K %0dx%0d S %0d,%0d P %0d,%0d O %0dx%0d)", cas,
               fv[F_C], fv[F_H], fv[F_W], fv[F_B], fv[F_KH], fv[F_KW], fv[F_SH], fv[F_SW], fv[F_PH], fv[F_PW],
               fv[F_OH], fv[F_OW]);
    endtask

    initial begin
        total_reads = 0; nt1 = 0; nt2 = 0;
        tb_vu_begin;
        for (cas = 0; cas < ncases; cas = cas + 1) begin
            tb_vu_fields;
            // ACT: garbage, the input (expw: ACT as it is, the outputs below)
            tb_vu_act_case(fv[F_ABASE], fv[F_NIN], 0, 0, fv[F_OBASE], 0);
            for (i = 0; i < WN; i = i + 1) `TB_VU_GARBAGE(wmem[i], WB)
            for (i = 0; i < PN; i = i + 1) `TB_VU_GARBAGE(pmem[i], ROWS * 72)
            for (i = 0; i < fv[F_NW]; i = i + 1) wmem[fv[F_WBASE] + i] = f[p + i];
            p = p + fv[F_NW];
            for (i = 0; i < fv[F_CT]; i = i + 1) begin
                pe = 0;
                for (j = 0; j < 9; j = j + 1)
                    for (k = 0; k < ROWS; k = k + 1)
                        pe[72*k + 8*j +: 8] = f[p + j][8*k +: 8];
                pmem[fv[F_PBASE] + i] = pe;
                p = p + 9;
            end
            for (i = 0; i < fv[F_NOUT]; i = i + 1) expw[fv[F_OBASE] + i] = f[p + i];
            p = p + fv[F_NOUT];
            c_c = fv[F_C][15:0]; c_ct = fv[F_CT][15:0]; c_h = fv[F_H][10:0]; c_w = fv[F_W][10:0];
            c_b = fv[F_B][10:0]; c_kh = fv[F_KH][2:0]; c_kw = fv[F_KW][2:0]; c_sh = fv[F_SH][2:0];
            c_sw = fv[F_SW][2:0]; c_ph = fv[F_PH][2:0]; c_pw = fv[F_PW][2:0]; c_oh = fv[F_OH][10:0];
            c_ow = fv[F_OW][10:0]; c_m = fv[F_M][15:0]; c_wb = fv[F_WB][ACT_AW-1:0];
            c_hwb = fv[F_HWB][ACT_AW-1:0]; c_a_base = fv[F_ABASE][ACT_AW-1:0];
            c_o_base = fv[F_OBASE][ACT_AW-1:0]; c_w_base = fv[F_WBASE][W_AW-1:0];
            c_p_base = fv[F_PBASE][P_AW-1:0]; c_zp_in = fv[F_ZPIN][7:0]; c_zp = fv[F_ZP][7:0];
            c_lo = fv[F_LO][7:0]; c_hi = fv[F_HI][7:0]; c_rnd = fv[F_RND][0];
            abort_at = fv[F_ABORT];
            reset_at = 0;
            tb_vu_run(1);
            @(negedge clk);
            if (done) begin
                $display("FAIL case %0d: done longer than one cycle", cas);
                $finish;
            end
            // the whole ACT: aborted, each output word the model's or untouched
            for (i = 0; i < A; i = i + 1) begin
                j = i - fv[F_OBASE];
                if (act[i] !== expw[i] &&
                    !(abort_cyc >= 0 && j >= 0 && j < fv[F_NOUT] && act[i] === orig[i])) begin
                    case_info;
                    $display(": word %0d (output %0d) = %h, want %h (abort %0d)", i, j, act[i], expw[i], abort_at);
                    $finish;
                end
            end
            tb_vu_cycles;
            if (abort_cyc < 0) begin
                if (nreads != fv[F_READS] || nwrites != fv[F_NOUT]) begin
                    case_info;
                    $display(": %0d reads, %0d writes, want %0d, %0d", nreads, nwrites, fv[F_READS], fv[F_NOUT]);
                    $finish;
                end
                total_reads = total_reads + nreads;
                if (fv[F_KH] == 3 && fv[F_KW] == 3 && fv[F_SH] == 1 && fv[F_SW] == 1) nt1 = nt1 + 1;
                if (fv[F_KH] == 3 && fv[F_KW] == 3 && fv[F_SH] == 2 && fv[F_SW] == 2) nt2 = nt2 + 1;
            end
        end
        tb_vu_end;
        $display("PASS %0d cases (%0d 3x3 stride 1, %0d 3x3 stride 2; %0d aborted, done at most %0d cycles after abort), %0d reads, %0d cycles",
                 ncases, nt1, nt2, naborts, abort_lat, total_reads, total_cycles);
        $finish;
    end
endmodule

`default_nettype wire
