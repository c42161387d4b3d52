// tb_pe_ecp5: nnf_pe_ecp5 against the arithmetic it stands for, a new
// activation every cycle: every (activation, weight) pair in both weight
// banks, weights reloaded while the pipeline is full, random partial sums
// from above. psum_o after cycle T+2 must be psum_i(T+2) + a_i(T) * w(T),
// w(T) the weight of bank_i(T) as it stood in cycle T. Built twice
// (tests/rtl/CMakeLists.txt): with NNF_ECP5 and the model of MULT18X18D's
// register modes (ecp5_mult18x18d_model.v), in its portable form, and with
// LUT_MUL = 1 (TB_LUT_MUL defined: the product from LUTs).
`timescale 1ns / 1ps
`default_nettype none
module tb_pe_ecp5;
    localparam integer PW = 21;
    reg clk = 1'b0;
    reg  [7:0]    a_i = 8'd0;
    reg           bank_i = 1'b0;
    reg  [PW-1:0] p_i = {PW{1'b0}};
    reg           wl_en = 1'b0, wl_bank = 1'b0;
    reg  [7:0]    wl_data = 8'd0;
    wire [7:0]    a_o;
    wire          bank_o;
    wire [PW-1:0] p_o;
`ifdef TB_LUT_MUL
    localparam integer LUT_MUL = 1;
`else
    localparam integer LUT_MUL = 0;
`endif
    nnf_pe_ecp5 #(.PSUM_W(PW), .LUT_MUL(LUT_MUL)) dut (
        .clk(clk), .a_i(a_i), .bank_i(bank_i), .psum_i(p_i),
        .wl_en(wl_en), .wl_bank(wl_bank), .wl_data(wl_data),
        .a_o(a_o), .bank_o(bank_o), .psum_o(p_o));

    // the expected side: the weights as the PE holds them, and the
    // products of the last two cycles
    reg  [7:0]        m_w0 = 8'd0, m_w1 = 8'd0;
    reg signed [15:0] q1 = 16'sd0, q2 = 16'sd0;     // products of cycles T-1, T-2
    reg  [7:0]        m_a = 8'd0;
    reg               m_b = 1'b0;
    integer cyc = 0, errors = 0, checks = 0;
    reg [PW-1:0] want;

    // one cycle: drive, then check what the edge produced
    task step(input [7:0] a, input b, input we, input wb, input [7:0] wd);
        reg [7:0] wsel;
        reg signed [15:0] q0;
        begin
            a_i = a; bank_i = b; p_i = {$random} % (1 << PW);
            wl_en = we; wl_bank = wb; wl_data = wd;
            wsel = b ? m_w1 : m_w0;
            q0 = $signed(a) * $signed(wsel);
            want = p_i + {{(PW-16){q2[15]}}, q2};
            #5 clk = 1'b1; #5 clk = 1'b0;
            if (we && !wb) m_w0 = wd;
            if (we &&  wb) m_w1 = wd;
            q2 = q1; q1 = q0;
            cyc = cyc + 1;
            if (cyc > 4) begin   // after the first loads' unknown products
                checks = checks + 1;
                if (p_o !== want || a_o !== a || bank_o !== b) begin
                    errors = errors + 1;
                    if (errors <= 10)
                        $display("FAIL cycle %0d: psum_o %h (want %h), a_o %h (want %h), bank_o %b (want %b)",
                                 cyc, p_o, want, a_o, a, bank_o, b);
                end
            end
        end
    endtask

    integer wv, av, pass;
    initial begin
        step(8'd0, 1'b0, 1'b1, 1'b0, 8'd0);             // both banks defined
        step(8'd0, 1'b0, 1'b1, 1'b1, 8'd0);
        for (pass = 0; pass < 2; pass = pass + 1) begin
            for (wv = 0; wv < 256; wv = wv + 1) begin
                // bank 0 gets wv, bank 1 its complement; each is (re)loaded
                // while the other bank's products are still in the pipeline
                for (av = 0; av < 256; av = av + 1) begin
                    if (av == 0)        step(8'd0, 1'b1, 1'b1, 1'b0, wv[7:0]);
                    else if (av == 128) step(8'd0, 1'b0, 1'b1, 1'b1, ~wv[7:0] ^ pass[7:0]);
                    else                step(av[7:0], (av < 128) ? 1'b0 : 1'b1, 1'b0, 1'b0, 8'd0);
                end
                // the corner rows: -128 and 127 against both banks
                step(8'h80, 1'b0, 1'b0, 1'b0, 8'd0);
                step(8'h80, 1'b1, 1'b0, 1'b0, 8'd0);
                step(8'h7f, 1'b0, 1'b0, 1'b0, 8'd0);
            end
        end
        // random: banks, loads and activations at once
        for (av = 0; av < 200000; av = av + 1)
            step($random, $random, ($random & 3) == 0, $random, $random);
        if (errors == 0) $display("PASS %0d partial sums", checks);
        else $display("FAIL %0d of %0d", errors, checks);
        $finish;
    end
endmodule
`default_nettype wire
