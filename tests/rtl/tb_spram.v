// tb_spram: nnf_spram against a plain memory, on random reads and byte-masked
// writes spread over every bank and slice. Built with NNF_ICE40 and Yosys'
// simulation model of SB_SPRAM256KA (tests/rtl/CMakeLists.txt) it checks
// the primitives' wiring: the slices' byte masks, the banks' chip selects,
// the read mux; built without, the behavioural form. rd is checked the cycle
// after every read and on every idle cycle after it (held), never after a
// write (undefined there, as the SPRAM's DATAOUT).
`timescale 1ns / 1ps
`default_nettype none
module tb_spram;
    parameter integer AW = 15;
    parameter integer NB = 4;
    parameter integer OPS = 40000;
    localparam integer POOL = 64;
    reg            clk = 1'b0;
    reg            en = 1'b0;
    reg  [NB-1:0]  we = {NB{1'b0}};
    reg  [AW-1:0]  addr = {AW{1'b0}};
    reg  [8*NB-1:0] wd = {8*NB{1'b0}};
    wire [8*NB-1:0] rd;
    nnf_spram #(.AW(AW), .NB(NB)) dut (.clk(clk), .en(en), .we(we), .addr(addr), .wd(wd), .rd(rd));

    reg [8*NB-1:0] ref_mem [0:POOL-1];
    reg [AW-1:0]   pool [0:POOL-1];
    task tick; begin #5 clk = 1'b1; #5 clk = 1'b0; end endtask

    integer i, j, op, p, errors, reads, valid;
    reg [8*NB-1:0] expect_q;
    reg [31:0] r;
    initial begin
        errors = 0; reads = 0; valid = 0;
        // a pool of addresses: the corners of every bank and random ones
        for (i = 0; i < POOL; i = i + 1) begin
            r = $random;
            if (i < 4) pool[i] = (i == 0) ? {AW{1'b0}} : (i == 1) ? {AW{1'b1}}
                               : (i == 2) ? ({{(AW-1){1'b0}}, 1'b1} << (AW - 1)) : ({AW{1'b1}} >> 1);
            else pool[i] = r[AW-1:0];
            for (j = 0; j < i; j = j + 1) if (pool[j] == pool[i]) pool[i] = pool[i] ^ i[AW-1:0];
        end
        // first every pool word written whole
        for (i = 0; i < POOL; i = i + 1) begin
            en = 1'b1; we = {NB{1'b1}}; addr = pool[i];
            for (j = 0; j < NB; j = j + 1) begin r = $random; wd[8*j +: 8] = r[7:0]; end
            ref_mem[i] = wd;
            tick;
        end
        for (op = 0; op < OPS; op = op + 1) begin
            r = $random;
            p = r[5:0];
            addr = pool[p];
            if (r[9:8] == 2'd0) begin              // write some bytes
                en = 1'b1;
                r = $random;
                we = r[NB-1:0];
                for (j = 0; j < NB; j = j + 1) begin
                    r = $random; wd[8*j +: 8] = r[7:0];
                    if (we[j]) ref_mem[p][8*j +: 8] = wd[8*j +: 8];
                end
                tick;
                valid = 0;
            end else if (r[9:8] == 2'd1) begin     // idle: rd holds
                en = 1'b0; we = {NB{1'b0}};
                r = $random; addr = r[AW-1:0];
                tick;
            end else begin                         // read
                en = 1'b1; we = {NB{1'b0}};
                tick;
                expect_q = ref_mem[p];
                valid = 1;
                reads = reads + 1;
            end
            if (valid && rd !== expect_q) begin
                errors = errors + 1;
                if (errors < 10) $display("FAIL: op %0d addr %h: rd %h, expected %h", op, pool[p], rd, expect_q);
            end
        end
        if (errors == 0) $display("PASS: nnf_spram AW=%0d NB=%0d: %0d ops, %0d reads", AW, NB, OPS, reads);
        $finish;
    end
endmodule
`default_nettype wire
