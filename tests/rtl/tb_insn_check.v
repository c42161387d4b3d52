// tb_insn_check.v - nnf_insn_check against the functional model's verdicts
// (tests/rtl/gen_insn_check.c writes them), in Verilator (--binary) and in
// Icarus alike: every case's `ok`, and for an accepted CONV / POOL every
// size output, read after the fields have changed (they must be registered).
// Also checks that each kind takes a fixed number of cycles and prints it.
//
//   +cases=FILE  the cases (512-bit $readmemh words, gen_insn_check's format)
//   +n=N         how many
// Prints "tb_insn_check: PASS ..." or lines with "ERROR" and a FAIL line.
`default_nettype none

module tb_insn_check #(
    parameter integer ROWS        = 8,
    parameter integer ACT_WORDS   = 32768,
    parameter integer W_WORDS     = 16384,
    parameter integer P_WORDS     = 64,
    parameter integer STATE_WORDS = 16384,
    parameter integer MAX_CASES   = 20000
);
    localparam integer ACT_AW = $clog2(ACT_WORDS);

    reg clk = 1'b0;
    always #5 clk <= ~clk;

    reg         rst = 1'b1, start = 1'b0;
    reg  [1:0]  kind = 2'd0;
    reg  [15:0] m = 16'd0, k = 16'd0, n = 16'd0, c_cin = 16'd0;
    reg  [31:0] a_base = 32'd0, w_base = 32'd0, p_base = 32'd0, o_base = 32'd0;
    reg  [7:0]  lo = 8'd0, hi = 8'd0;
    reg  [2:0]  c_kh = 3'd0, c_kw = 3'd0, c_ph = 3'd0, c_pw = 3'd0;
    reg  [1:0]  c_sh_m1 = 2'd0, c_sw_m1 = 2'd0;
    reg  [9:0]  c_h_m1 = 10'd0, c_w_m1 = 10'd0, c_b_m1 = 10'd0;
    reg         c_eh = 1'b0, c_ew = 1'b0, c_global = 1'b0, c_dw = 1'b0;
    wire        done, ok;
    wire [10:0] s_oh, s_ow, s_kh, s_kw;
    wire [15:0] s_m, s_ct, s_kt;
    wire [ACT_AW-1:0] s_wb, s_hwb;

    nnf_insn_check #(.ROWS(ROWS), .ACT_WORDS(ACT_WORDS), .W_WORDS(W_WORDS), .P_WORDS(P_WORDS),
                     .STATE_WORDS(STATE_WORDS)) dut (
        .clk(clk), .rst(rst), .start(start), .kind(kind), .m(m), .k(k), .n(n),
        .a_base(a_base), .w_base(w_base), .p_base(p_base), .o_base(o_base), .lo(lo), .hi(hi),
        .c_cin(c_cin), .c_kh(c_kh), .c_kw(c_kw), .c_sh_m1(c_sh_m1), .c_sw_m1(c_sw_m1),
        .c_ph(c_ph), .c_pw(c_pw), .c_h_m1(c_h_m1), .c_w_m1(c_w_m1), .c_b_m1(c_b_m1),
        .c_eh(c_eh), .c_ew(c_ew), .c_global(c_global), .c_pool2(1'b0), .c_dw(c_dw), .c_pack(1'b0), .c_pcin(16'd0), .c_xok(1'b1),
        .done(done), .ok(ok),
        .s_oh(s_oh), .s_ow(s_ow), .s_kh(s_kh), .s_kw(s_kw), .s_m(s_m), .s_ct(s_ct),
        .s_kt(s_kt), .s_wb(s_wb), .s_hwb(s_hwb));

    reg  [511:0] vec [0:MAX_CASES-1];
    reg  [511:0] v;
    integer      kd;
    reg  [4*11+3*16+2*ACT_AW-1:0] at_done;   // the sizes in the cycle of done
    reg  [1023:0] path;
    integer ncases, i, j, cyc, errors, lat[0:4], nok[0:4], nall[0:4];   // [4]: DWCONV

    reg  [31:0]  w [0:15];               // the case's words

    task automatic err(input [8*48-1:0] what, input [31:0] got, input [31:0] exp);
        begin
            errors = errors + 1;
            if (errors <= 20)
                $display("tb_insn_check: ERROR case %0d kind %0d: %0s got %0d expected %0d (line %0h)",
                         i, w[0][1:0], what, got, exp, v);
        end
    endtask

    initial begin
        errors = 0;
        for (i = 0; i < 5; i = i + 1) begin lat[i] = -1; nok[i] = 0; nall[i] = 0; end
        if (!$value$plusargs("cases=%s", path)) begin
            $display("tb_insn_check: FAIL no +cases=FILE");
            $finish;
        end
        if (!$value$plusargs("n=%d", ncases) || ncases > MAX_CASES) begin
            $display("tb_insn_check: FAIL +n=N missing or over MAX_CASES");
            $finish;
        end
        $readmemh(path, vec, 0, ncases - 1);
        // inputs change on the falling edge, outputs are sampled there: no
        // race with the design's rising edge in either simulator
        repeat (3) @(negedge clk);
        rst = 1'b0;
        @(negedge clk);
        for (i = 0; i < ncases; i = i + 1) begin
            v = vec[i];
            for (j = 0; j < 16; j = j + 1) w[j] = v[511 - 32*j -: 32];
            kind     = w[0][1:0];
            c_eh     = w[0][4];
            c_ew     = w[0][5];
            c_global = w[0][6];
            c_dw     = w[0][7];
            m        = w[1][31:16];
            k        = w[1][15:0];
            n        = w[2][31:16];
            c_cin    = w[2][15:0];
            a_base   = w[3];
            w_base   = w[4];
            p_base   = w[5];
            o_base   = w[6];
            lo       = w[7][31:24];
            hi       = w[7][23:16];
            c_kh     = w[7][14:12];
            c_kw     = w[7][10:8];
            c_sh_m1  = w[7][5:4];
            c_sw_m1  = w[7][1:0];
            c_ph     = w[8][18:16];
            c_pw     = w[8][2:0];
            c_h_m1   = w[9][29:20];
            c_w_m1   = w[9][19:10];
            c_b_m1   = w[9][9:0];
            start    = 1'b1;
            @(negedge clk);
            start = 1'b0;
            cyc = 1;                          // rising edges since the one that took start
            while (!done && cyc < 1000) begin
                @(negedge clk);
                cyc = cyc + 1;
            end
            kd = w[0][7] ? 4 : {30'd0, w[0][1:0]};
            if (!done) begin
                err("no done", cyc, 0);
            end else begin
                if (lat[kd] < 0) lat[kd] = cyc;
                else if (lat[kd] != cyc) err("cycles", cyc, lat[kd]);
                nall[kd] = nall[kd] + 1;
                if (ok) nok[kd] = nok[kd] + 1;
                if (ok !== w[0][2]) err("ok", {31'd0, ok}, {31'd0, w[0][2]});
                at_done = {s_oh, s_ow, s_kh, s_kw, s_m, s_ct, s_kt, s_wb, s_hwb};
                // scramble the fields: the sizes must hold
                c_h_m1 = ~c_h_m1;  c_w_m1 = ~c_w_m1;  c_b_m1 = ~c_b_m1;  c_cin = ~c_cin;
                c_kh = ~c_kh;  c_kw = ~c_kw;  c_global = ~c_global;  n = ~n;  kind = ~kind;
                @(negedge clk);
                @(negedge clk);
                if (w[0][2] && w[0][1]) begin
                    if ({s_oh, s_ow, s_kh, s_kw, s_m, s_ct, s_kt, s_wb, s_hwb} !== at_done)
                        err("sizes changed after done", 0, 0);
                    if (s_oh !== w[10][26:16]) err("s_oh", {21'd0, s_oh}, {21'd0, w[10][26:16]});
                    if (s_ow !== w[10][10:0])  err("s_ow", {21'd0, s_ow}, {21'd0, w[10][10:0]});
                    if (s_kh !== w[11][26:16]) err("s_kh", {21'd0, s_kh}, {21'd0, w[11][26:16]});
                    if (s_kw !== w[11][10:0])  err("s_kw", {21'd0, s_kw}, {21'd0, w[11][10:0]});
                    if (s_m  !== w[12][31:16]) err("s_m", {16'd0, s_m}, {16'd0, w[12][31:16]});
                    if (s_ct !== w[12][15:0])  err("s_ct", {16'd0, s_ct}, {16'd0, w[12][15:0]});
                    if (w[0][3] && s_kt !== w[13][15:0]) err("s_kt", {16'd0, s_kt}, w[13]);
                    if ({{(32-ACT_AW){1'b0}}, s_wb} !== w[14])  err("s_wb", {{(32-ACT_AW){1'b0}}, s_wb}, w[14]);
                    if ({{(32-ACT_AW){1'b0}}, s_hwb} !== w[15]) err("s_hwb", {{(32-ACT_AW){1'b0}}, s_hwb}, w[15]);
                end
            end
        end
        $display("tb_insn_check: cycles GEMM %0d LIF %0d CONV %0d POOL %0d DWCONV %0d (start to done)",
                 lat[0], lat[1], lat[2], lat[3], lat[4]);
        $display("tb_insn_check: accepted GEMM %0d/%0d LIF %0d/%0d CONV %0d/%0d POOL %0d/%0d DWCONV %0d/%0d",
                 nok[0], nall[0], nok[1], nall[1], nok[2], nall[2], nok[3], nall[3], nok[4], nall[4]);
        if (errors == 0)
            $display("tb_insn_check: PASS %0d cases", ncases);
        else
            $display("tb_insn_check: FAIL %0d errors in %0d cases", errors, ncases);
        $finish;
    end
endmodule

`default_nettype wire
