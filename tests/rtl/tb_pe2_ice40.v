// tb_pe2_ice40: nnf_pe2_ice40 against the arithmetic it stands for, on
// every (activation, weight) pair in both columns and both weight banks.
// Built with NNF_ICE40 and Yosys' simulation model of SB_MAC16
// (tests/rtl/CMakeLists.txt), it checks the primitive's configuration:
// two independent signed 8x8 products, combinational, in the right halves.
`timescale 1ns / 1ps
`default_nettype none
module tb_pe2_ice40;
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
    nnf_pe2_ice40 #(.PSUM_W(PW)) dut (
        .clk(clk), .a_i(a_i), .bank_i(bank_i), .psum0_i(p0_i), .psum1_i(p1_i),
        .wl_en(wl_en), .wl_bank(wl_bank), .wl_data(wl_data),
        .a_m(a_m), .bank_m(bank_m), .a_o(a_o), .bank_o(bank_o), .psum0_o(p0_o), .psum1_o(p1_o));

    task tick; begin #5 clk = 1'b1; #5 clk = 1'b0; end endtask

    integer wv, av, pass, errors, checks;
    reg [7:0] w0b0, w0b1, w1b0, w1b1, w0, w1;
    reg [PW-1:0] e0, e1;
    reg signed [15:0] q0, q1;          // the products, signed
    initial begin
        errors = 0; checks = 0;
        for (pass = 0; pass < 2; pass = pass + 1) begin
            for (wv = 0; wv < 256; wv = wv + 1) begin
                w0b0 = wv[7:0];         w1b0 = wv[7:0] ^ 8'h5a;
                w0b1 = ~wv[7:0];        w1b1 = wv[7:0] + 8'd77;
                wl_en = 1'b1; wl_bank = 1'b0; wl_data = {w1b0, w0b0}; tick;
                wl_bank = 1'b1; wl_data = {w1b1, w0b1}; tick;
                wl_en = 1'b0;
                for (av = 0; av < 256; av = av + 1) begin
                    a_i = av[7:0];
                    bank_i = av[0] ^ pass[0];
                    p0_i = $random; p1_i = $random;
                    w0 = bank_i ? w0b1 : w0b0;
                    w1 = bank_i ? w1b1 : w1b0;
                    q0 = $signed(a_i) * $signed(w0);
                    q1 = $signed(a_i) * $signed(w1);
                    e0 = p0_i + {{(PW-16){q0[15]}}, q0};
                    e1 = p1_i + {{(PW-16){q1[15]}}, q1};
                    tick;                       // column 2j: this cycle's a_i
                    tick;                       // column 2j+1: a_m (= a_i, held)
                    checks = checks + 1;
                    if (p0_o !== e0 || p1_o !== e1 || a_o !== a_i || bank_o !== bank_i) begin
                        errors = errors + 1;
                        if (errors <= 10)
                            $display("FAIL a=%0d bank=%0d w0=%0d w1=%0d: psum0 %h (want %h) psum1 %h (want %h)",
                                     $signed(a_i), bank_i, $signed(w0), $signed(w1), p0_o, e0, p1_o, e1);
                    end
                end
            end
        end
        if (errors == 0) $display("PASS %0d products in each column", checks);
        else $display("FAIL %0d of %0d", errors, checks);
        $finish;
    end
endmodule
`default_nettype wire
