// tb_pe2_ice40: nnf_pe2_ice40 against the arithmetic it stands for, on
// every (activation, weight) pair in both columns (and with BANKS = 2 both
// weight banks). Built with NNF_ICE40 and Yosys' simulation model of
// SB_MAC16 (tests/rtl/CMakeLists.txt), it checks the primitive's
// configuration: two independent signed 8x8 products in the right halves,
// combinational (MUL_REG = 0) or registered once (MUL_REG = 1), and with
// BANKS = 1 the weights held in the A register from one load to the next.
// Each pair of operands meets a different partial sum and the pair before
// it, so a product a cycle early or late, or a weight not held, fails.
`timescale 1ns / 1ps
`default_nettype none
module tb_pe2_ice40 #(
    parameter integer BANKS   = 2,
    parameter integer MUL_REG = 0
);
    localparam integer PW = 20;
    reg clk = 1'b0;
    reg  [7:0]    a_i = 8'd0;
    reg           bank_i = 1'b0;
    reg  [PW-1:0] p0_i = {PW{1'b0}}, p1_i = {PW{1'b0}};
    reg           wl_en = 1'b0, wl_bank = 1'b0;
    reg  [15:0]   wl_data = 16'd0;
    wire [7:0]    a_m, a_o;
    wire          bank_m, bank_o;
    wire [PW-1:0] p0_o, p1_o;
    nnf_pe2_ice40 #(.PSUM_W(PW), .BANKS(BANKS), .MUL_REG(MUL_REG)) dut (
        .clk(clk), .a_i(a_i), .bank_i(bank_i), .psum0_i(p0_i), .psum1_i(p1_i),
        .wl_en(wl_en), .wl_bank(wl_bank), .wl_data(wl_data),
        .a_m(a_m), .bank_m(bank_m), .a_o(a_o), .bank_o(bank_o), .psum0_o(p0_o), .psum1_o(p1_o));

    task tick; begin #5 clk = 1'b1; #5 clk = 1'b0; end endtask

    integer wv, av, pass, k, errors, checks;
    reg [7:0] w0b0, w0b1, w1b0, w1b1, w0, w1;
    reg [PW-1:0] e0, e1, r0, r1, s0, s1;
    reg signed [15:0] q0, q1;          // the products, signed
    initial begin
        errors = 0; checks = 0;
        for (pass = 0; pass < 2; pass = pass + 1) begin
            for (wv = 0; wv < 256; wv = wv + 1) begin
                w0b0 = wv[7:0];         w1b0 = wv[7:0] ^ 8'h5a;
                w0b1 = ~wv[7:0];        w1b1 = wv[7:0] + 8'd77;
                wl_en = 1'b1; wl_bank = 1'b0; wl_data = {w1b0, w0b0}; tick;
                if (BANKS == 2) begin
                    wl_bank = 1'b1; wl_data = {w1b1, w0b1}; tick;
                end
                wl_en = 1'b0; wl_data = ~wl_data;        // not loaded: the weights hold
                for (av = 0; av < 256; av = av + 1) begin
                    a_i = av[7:0];
                    bank_i = (BANKS == 2) ? (av[0] ^ pass[0]) : 1'b0;
                    w0 = bank_i ? w0b1 : w0b0;
                    w1 = bank_i ? w1b1 : w1b0;
                    q0 = $signed(a_i) * $signed(w0);
                    q1 = $signed(a_i) * $signed(w1);
                    r0 = $random; r1 = $random;
                    // column 2j multiplies a_i in the first cycle, column
                    // 2j+1 the same activation (a_m) in the second; each
                    // product meets its partial sum MUL_REG cycles later.
                    // Every other cycle's activation and sums are garbage.
                    for (k = 1; k <= 2 + MUL_REG; k = k + 1) begin
                        if (k > 1) a_i = ~av[7:0];
                        p0_i = (k == 1 + MUL_REG) ? r0 : ~r0;
                        p1_i = (k == 2 + MUL_REG) ? r1 : ~r1;
                        tick;
                        if (k == 1 + MUL_REG) s0 = p0_o;
                        if (k == 2 + MUL_REG) s1 = p1_o;
                    end
                    e0 = r0 + {{(PW-16){q0[15]}}, q0};
                    e1 = r1 + {{(PW-16){q1[15]}}, q1};
                    checks = checks + 1;
                    if (s0 !== e0 || s1 !== e1 || a_m !== ~av[7:0] || (BANKS == 2 && bank_o !== bank_i)) begin
                        errors = errors + 1;
                        if (errors <= 10)
                            $display("FAIL a=%0d bank=%0d w0=%0d w1=%0d: psum0 %h (want %h) psum1 %h (want %h)",
                                     $signed(av[7:0]), bank_i, $signed(w0), $signed(w1), s0, e0, s1, e1);
                    end
                end
            end
        end
        if (errors == 0) $display("PASS %0d products in each column (BANKS %0d, MUL_REG %0d)", checks, BANKS, MUL_REG);
        else $display("FAIL %0d of %0d", errors, checks);
        $finish;
    end
endmodule
`default_nettype wire
