// tb_vu_run.vh: what the vector units' testbenches share (tb_vu.v,
// tb_vu_ew.v, tb_vu_row.v, tb_vu_actw.v, tb_vu_ln.v), `included in the
// module after its parameters and localparams. Each testbench keeps its
// unit: the DUT, the command fields, the buffers' models and the port
// monitor, how a case's data is laid out in the file, what the memories
// must hold after a command (plain or cut short), the reads' and writes'
// counts, and its PASS line.
//
// The module declares before the `include: the parameters FWORDS and FILE
// (the case file: FWORDS words of WB bits, $readmemh'd), the localparams
// WB, NF (fields a case), F_CYCLES (the field with the exact cycles from
// start to done), ABORT_MAX (done at most this many cycles after abort)
// and RESET_QUIET (cycles busy and done must stay low after a reset); it
// `defines TB_VU_LUT_PORT before the `include when the unit has the lw_*
// LUT write port (declared here), TB_VU_ACT_IMAGE when its ACT is the one
// here (act, expw, orig and rd_q: A words, A its localparam). It declares
// after the `include, before its first case: the port monitor (counting nreads, nwrites),
// and the tasks scramble (the command fields to garbage while idle; empty
// where they are not scrambled) and case_info ($write of "FAIL case N (its
// fields)", for the FAIL lines below that name the case).
//
// Here: the clock, rst (high for the first cycles), start, abort, the
// unit's busy and done, the case file f and the case's fields fv (fld: a
// 32-bit value as two words), the run's counters, and the tasks
//   tb_vu_begin          read the file, zero the counters, scramble, reset
//   tb_vu_fields         the next case's NF fields into fv
//   tb_vu_lut_writes     (TB_VU_LUT_PORT) the case's LUT bytes, idle
//   tb_vu_idle           idle cycles, abort pulsed in some
//   tb_vu_act_case       (TB_VU_ACT_IMAGE) ACT: garbage, the inputs; expected
//   tb_vu_run            start the command, abort or reset it, wait for done
//   tb_vu_cycles         count an abort or a reset, or check the cycles
//   tb_vu_end            after the last case: idle, all of the file read
// and TB_VU_GARBAGE(v, n): n random bits into v.

    reg clk = 1'b0;
    always #5 clk = !clk;

    reg rst = 1'b1, start = 1'b0, abort = 1'b0;
    wire busy, done;

    reg [WB-1:0] f [0:FWORDS-1];
    integer fv [0:NF-1];
    integer p;                          // the next word of f
    integer ncases, cas;                // cas: the case running (-1 before the first)
    integer nreads, nwrites;            // the port monitor's counts in this case
    integer ncyc;                       // cycles since start
    integer abort_at, reset_at;         // the cycle after start of the abort / reset, 0: none
    integer abort_cyc;                  // the cycle of the abort or reset, -1: neither
    integer i, j, k;                    // the testbench's loops
    integer total_cycles, total_words, nempty, naborts, abort_lat, nresets;
    integer tb_n, tb_w;                 // this file's loops

    function integer fld(input integer at);
        fld = f[at][15:0] + (f[at + 1][15:0] << 16);
    endfunction

`define TB_VU_GARBAGE(v, n) begin v = 0; for (tb_n = 0; tb_n < (n); tb_n = tb_n + 32) v = (v << 32) | {$random}; end

    // read the case file, zero the counters and the fields, the command
    // fields garbage; rst for three cycles, then one idle
    task tb_vu_begin;
        begin
            $readmemh(FILE, f);
            ncases = fld(0);
            p = 2;
            total_cycles = 0; total_words = 0; nempty = 0; naborts = 0; abort_lat = 0; nresets = 0;
            nreads = 0; nwrites = 0; cas = -1;
            for (tb_n = 0; tb_n < NF; tb_n = tb_n + 1) fv[tb_n] = 0;
            scramble;
            repeat (3) @(negedge clk);
            rst = 1'b0;
            @(negedge clk);
        end
    endtask

    task tb_vu_fields;
        begin
            for (tb_n = 0; tb_n < NF; tb_n = tb_n + 1) fv[tb_n] = fld(p + 2 * tb_n);
            p = p + 2 * NF;
        end
    endtask

`ifdef TB_VU_LUT_PORT
    reg        lw_we = 1'b0;
    reg [10:0] lw_addr = 11'd0;
    reg [7:0]  lw_data = 8'd0;

    // n LUT writes (each a value of the file: address [18:8], byte [7:0]),
    // one a cycle while idle, abort pulsed with every other one from the
    // second when iab; then the port's address and data garbage
    task tb_vu_lut_writes(input integer n, input iab);
        begin
            for (tb_n = 0; tb_n < n; tb_n = tb_n + 1) begin
                tb_w = fld(p + 2 * tb_n);
                lw_we = 1'b1; lw_addr = tb_w[18:8]; lw_data = tb_w[7:0];
                abort = iab & tb_n[0];
                @(negedge clk);
            end
            lw_we = 1'b0; lw_addr = $random; lw_data = $random;
            p = p + 2 * n;
        end
    endtask
`endif

    // n idle cycles, abort pulsed in every other one from the first when
    // iab, the command fields scrambled after each when scr; abort low after
    task tb_vu_idle(input integer n, input iab, input scr);
        begin
            for (tb_n = 0; tb_n < n; tb_n = tb_n + 1) begin
                abort = iab & !tb_n[0];
                @(negedge clk);
                if (scr) scramble;
            end
            abort = 1'b0;
        end
    endtask

`ifdef TB_VU_ACT_IMAGE
    reg [WB-1:0] act  [0:A-1];         // the testbench's ACT
    reg [WB-1:0] expw [0:A-1];         // what it must hold after the command
    reg [WB-1:0] orig [0:A-1];         // what it held before
    reg [WB-1:0] rd_q;                 // its read data

    // ACT: garbage, then the file's na words at a_base and nb at b_base;
    // orig, ACT before the command; expw, what it must hold after: orig
    // with the file's no words at o_base (the model's outputs)
    task tb_vu_act_case(input integer a_base, input integer na, input integer b_base, input integer nb,
                        input integer o_base, input integer no);
        begin
            for (tb_w = 0; tb_w < A; tb_w = tb_w + 1) `TB_VU_GARBAGE(act[tb_w], WB)
            for (tb_w = 0; tb_w < na; tb_w = tb_w + 1) act[a_base + tb_w] = f[p + tb_w];
            p = p + na;
            for (tb_w = 0; tb_w < nb; tb_w = tb_w + 1) act[b_base + tb_w] = f[p + tb_w];
            p = p + nb;
            for (tb_w = 0; tb_w < A; tb_w = tb_w + 1) begin
                orig[tb_w] = act[tb_w];
                expw[tb_w] = act[tb_w];
            end
            for (tb_w = 0; tb_w < no; tb_w = tb_w + 1) expw[o_base + tb_w] = f[p + tb_w];
            p = p + no;
        end
    endtask
`endif

    // Start the command (its fields set) and count the cycles to done:
    // abort pulsed in cycle abort_at, or rst raised for cycle reset_at (0:
    // none); idle: the idle cycles since the last done (0: start comes in
    // the cycle done is high). Checked: neither busy nor (after idle cycles)
    // done before start; done neither in the cycle after start nor longer
    // than one cycle; busy in every cycle before done and not with it; done
    // within F_CYCLES + 20 cycles; after a reset, busy and done low for
    // RESET_QUIET cycles (then the case ends, counted in nresets); after an
    // abort, done within ABORT_MAX cycles (abort_lat: the most seen).
    // nreads and nwrites are zeroed before start; abort_cyc is the cycle of
    // the abort or the reset, -1 for neither.
    task tb_vu_run(input integer idle);
        begin
            if (busy || (done && idle != 0)) begin
                $display("FAIL case %0d: busy %0d done %0d before start", cas, busy, done);
                $finish;
            end
            nreads = 0; nwrites = 0;
            start = 1'b1;
            @(negedge clk);
            start = 1'b0;
            ncyc = 1;
            abort_cyc = -1;
            if (done) begin
                $display("FAIL case %0d: done longer than one cycle, or one cycle after start", cas);
                $finish;
            end
            begin : wait_done
            while (!done) begin
                if (reset_at != 0 && ncyc == reset_at) begin
                    // rst for one cycle: then idle (the monitor: no port
                    // activity while not busy), no done
                    rst = 1'b1;
                    abort_cyc = ncyc;
                    @(negedge clk);
                    rst = 1'b0;
                    for (tb_n = 0; tb_n < RESET_QUIET; tb_n = tb_n + 1) begin
                        if (busy || done) begin
                            $display("FAIL case %0d: busy %0d done %0d %0d cycles after a reset", cas, busy, done, tb_n);
                            $finish;
                        end
                        @(negedge clk);
                    end
                    nresets = nresets + 1;
                    disable wait_done;
                end
                if (!busy) begin
                    $display("FAIL case %0d: not busy at cycle %0d before done", cas, ncyc);
                    $finish;
                end
                if (abort_at != 0 && ncyc == abort_at) begin
                    abort = 1'b1;
                    abort_cyc = ncyc;
                end
                @(negedge clk);
                abort = 1'b0;
                ncyc = ncyc + 1;
                if (ncyc > fv[F_CYCLES] + 20) begin
                    case_info;
                    $display(": no done after %0d cycles (want %0d)", ncyc, fv[F_CYCLES]);
                    $finish;
                end
            end
            end
            if (busy) begin
                $display("FAIL case %0d: busy with done", cas);
                $finish;
            end
            if (reset_at == 0 && abort_cyc >= 0) begin
                if (ncyc - abort_cyc > abort_lat) abort_lat = ncyc - abort_cyc;
                if (ncyc - abort_cyc > ABORT_MAX) begin
                    $display("FAIL case %0d: done %0d cycles after abort (at most %0d)", cas, ncyc - abort_cyc, ABORT_MAX);
                    $finish;
                end
            end
        end
    endtask

    // After the testbench's checks of the memories: an aborted case counts
    // in naborts (a reset one was counted in nresets); a plain one must have
    // taken exactly F_CYCLES cycles, added to total_cycles (the testbench
    // then checks its counts when abort_cyc < 0)
    task tb_vu_cycles;
        begin
            if (abort_cyc >= 0) begin
                if (reset_at == 0) naborts = naborts + 1;
            end else begin
                if (ncyc != fv[F_CYCLES]) begin
                    case_info;
                    $display(": done in cycle %0d, want %0d", ncyc, fv[F_CYCLES]);
                    $finish;
                end
                total_cycles = total_cycles + ncyc;
            end
        end
    endtask

    // after the last case: neither done nor busy the cycle after, and every
    // word of the file read
    task tb_vu_end;
        begin
            @(negedge clk);
            if (done || busy) begin
                $display("FAIL: done %0d busy %0d the cycle after the last done", done, busy);
                $finish;
            end
            if (p != FWORDS) begin
                $display("FAIL: read %0d words of the case file, it has %0d", p, FWORDS);
                $finish;
            end
        end
    endtask

`undef TB_VU_LUT_PORT
`undef TB_VU_ACT_IMAGE
