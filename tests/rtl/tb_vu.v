// tb_vu: nnf_vu (POOL and PACK) against the functional model, bit for bit. The cases
// come from gen_vu_cases (tests/rtl/gen_vu_cases.c: nnfm_engine_pool on a
// model engine), one $readmemh file per suite; a generated top module sets
// ROWS, ACT_AW and the file. Per case: the testbench's ACT (2^ACT_AW words,
// read data the cycle after act_re, held until the next read) is filled with
// garbage, the input words loaded at a_base, nnf_vu run, and the WHOLE ACT
// compared with the garbage plus the model's output words at o_base. Also
// checked: reads only inside the input, exactly the in-map taps' count of
// them, no port activity while idle, busy / done, and the cycles within
// the documented bound (nnf_vu.v). A case with an abort time pulses abort
// then: done within 14 cycles, and the output words are a prefix of the
// model's followed by untouched ones (PACK: each the model's or untouched). Prints "PASS ..." or stops at the
// first mismatch with "FAIL ...". Runs under Icarus and Verilator --binary.
`timescale 1ns / 1ps
`default_nettype none

module tb_vu #(
    parameter integer ROWS   = 8,
    parameter integer ACT_AW = 10,
    parameter integer PACK_FAST = 1,
    parameter integer FWORDS = 2,
    parameter         FILE   = "vu.hex"
) ();
    localparam integer A  = 1 << ACT_AW;
    localparam integer WB = ROWS * 8;
    localparam integer NF = 29;
    localparam integer F_CYCLES = 25;          // the exact cycles from start to done
    localparam integer ABORT_MAX = 14;         // done at most this many cycles after abort
    localparam integer RESET_QUIET = 0;        // no case resets
`define TB_VU_ACT_IMAGE
`include "tb_vu_run.vh"  // the clock, the case file, the run from start to done

    reg c_avg, c_pack;
    reg [$clog2(ROWS):0] c_cin;
    reg [7:0]  c_zp_in;
    reg [15:0] c_c, c_ct, c_m;
    reg [10:0] c_h, c_w, c_b, c_kh, c_kw, c_oh, c_ow;
    reg [2:0]  c_sh, c_sw, c_ph, c_pw;
    reg [ACT_AW-1:0] c_wb, c_hwb, c_a_base, c_o_base;
    reg [7:0]  c_lo, c_hi;
    wire act_re, act_we;
    wire [ACT_AW-1:0] act_ra, act_wa;
    wire [WB-1:0] act_wd;

    nnf_vu #(.ROWS(ROWS), .ACT_AW(ACT_AW), .PACK_FAST(PACK_FAST)) dut (
        .clk(clk), .rst(rst), .start(start), .abort(abort), .c_pack(c_pack), .c_cin(c_cin),
        .c_zp_in(c_zp_in), .c_avg(c_avg), .c_c(c_c), .c_ct(c_ct),
        .c_h(c_h), .c_w(c_w), .c_b(c_b), .c_kh(c_kh), .c_kw(c_kw), .c_sh(c_sh), .c_sw(c_sw),
        .c_ph(c_ph), .c_pw(c_pw), .c_oh(c_oh), .c_ow(c_ow), .c_m(c_m), .c_wb(c_wb), .c_hwb(c_hwb),
        .c_a_base(c_a_base), .c_o_base(c_o_base), .c_lo(c_lo), .c_hi(c_hi),
        .busy(busy), .done(done), .act_re(act_re), .act_ra(act_ra), .act_rd(rd_q),
        .act_we(act_we), .act_wa(act_wa), .act_wd(act_wd));

    // the ACT model and the port checks
    always @(posedge clk) begin
        if (act_re) begin
            rd_q <= act[act_ra];
            nreads = nreads + 1;
            if (!busy || act_ra < fv[17] || act_ra >= fv[17] + fv[22]) begin
                $display("FAIL case %0d: read of word %0d outside the input %0d..+%0d (busy %0d)",
                         cas, act_ra, fv[17], fv[22], busy);
                $finish;
            end
        end
        if (act_we) begin
            act[act_wa] <= act_wd;
            if (!busy) begin
                $display("FAIL case %0d: write while idle", cas);
                $finish;
            end
        end
    end

    integer total_reads, nmax, navg, nglobal, npack;
    integer first_bad;

    task scramble;  // nnf_vu's command fields are not scrambled
        begin
        end
    endtask

    task case_info;
        $write("FAIL case %0d (avg %0d pack %0d)", cas, fv[0], fv[26]);
    endtask

    initial begin
        total_reads = 0; nmax = 0; navg = 0; nglobal = 0; npack = 0;
        tb_vu_begin;
        for (cas = 0; cas < ncases; cas = cas + 1) begin
            tb_vu_fields;
            // ACT: garbage, the input; expected: the garbage, the outputs
            tb_vu_act_case(fv[17], fv[22], 0, 0, fv[18], fv[23]);
            c_avg = fv[0][0]; c_c = fv[1][15:0]; c_ct = fv[2][15:0]; c_h = fv[3][10:0]; c_w = fv[4][10:0];
            c_b = fv[5][10:0]; c_kh = fv[6][10:0]; c_kw = fv[7][10:0]; c_sh = fv[8][2:0]; c_sw = fv[9][2:0];
            c_ph = fv[10][2:0]; c_pw = fv[11][2:0]; c_oh = fv[12][10:0]; c_ow = fv[13][10:0];
            c_m = fv[14][15:0]; c_wb = fv[15][ACT_AW-1:0]; c_hwb = fv[16][ACT_AW-1:0];
            c_a_base = fv[17][ACT_AW-1:0]; c_o_base = fv[18][ACT_AW-1:0];
            c_lo = fv[19][7:0]; c_hi = fv[20][7:0];
            c_pack = fv[26][0]; c_cin = fv[27][$clog2(ROWS):0]; c_zp_in = fv[28][7:0];
            abort_at = fv[21];
            reset_at = 0;
            // an idle cycle after each case's done (checked below): neither
            // busy nor done at start
            tb_vu_run(1);
            @(negedge clk);
            if (done) begin
                $display("FAIL case %0d: done longer than one cycle", cas);
                $finish;
            end
            // the whole ACT
            first_bad = -1;
            for (i = 0; i < A; i = i + 1) begin
                if (act[i] !== expw[i]) begin
                    j = i - fv[18];
                    if (abort_cyc >= 0 && j >= 0 && j < fv[23]) begin
                        // aborted: a prefix of the outputs, the rest untouched
                        if (first_bad < 0) first_bad = j;
                    end else begin
                        $display("FAIL case %0d (avg %0d C %0d H %0d W %0d B %0d K %0dx%0d S %0d,%0d P %0d,%0d O %0dx%0d a %0d o %0d lo %0d hi %0d abort %0d): word %0d = %h, want %h",
                                 cas, fv[0], fv[1], fv[3], fv[4], fv[5], fv[6], fv[7], fv[8], fv[9],
                                 fv[10], fv[11], fv[12], fv[13], fv[17], fv[18], $signed(c_lo), $signed(c_hi),
                                 abort_at, i, act[i], expw[i]);
                        $finish;
                    end
                end
            end
            if (abort_cyc >= 0 && first_bad >= 0) begin
                // POOL writes the words in address order: from the first one
                // not the model's on, all untouched; PACK in its (ct, b, y, ox)
                // order: each word the model's or untouched
                for (j = first_bad; j < fv[23]; j = j + 1)
                    if (act[fv[18] + j] !== orig[fv[18] + j] &&
                        !(fv[26] != 0 && act[fv[18] + j] === expw[fv[18] + j])) begin
                        $display("FAIL case %0d: aborted, output word %0d = %h, neither untouched (%h) nor after a prefix of the model's (%h)",
                                 cas, j, act[fv[18] + j], orig[fv[18] + j], expw[fv[18] + j]);
                        $finish;
                    end
            end
            tb_vu_cycles;
            if (abort_cyc < 0) begin
                if (nreads != fv[24]) begin
                    $display("FAIL case %0d: %0d reads, want %0d", cas, nreads, fv[24]);
                    $finish;
                end
                total_reads = total_reads + nreads;
                if (fv[26] != 0) npack = npack + 1;
                else if (fv[0] != 0) navg = navg + 1; else nmax = nmax + 1;
                if (fv[26] == 0 && fv[6] == fv[3] && fv[7] == fv[4] && fv[12] == 1 && fv[13] == 1) nglobal = nglobal + 1;
            end
        end
        tb_vu_end;
        $display("PASS %0d cases (%0d max, %0d avg, %0d with the window the whole map, %0d PACK; %0d aborted, done at most %0d cycles after abort), %0d reads, %0d cycles",
                 ncases, nmax, navg, nglobal, npack, naborts, abort_lat, total_reads, total_cycles);
        $finish;
    end
endmodule

`default_nettype wire
