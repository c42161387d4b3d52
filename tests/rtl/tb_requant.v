// tb_requant: nnf_requant (TFL_ROUND = 1) against the functional model
// (nnfm_requantize_r, both roundings), a case per cycle from the file
// gen_requant_cases writes (`define CASES, `define NCASES). rnd and zp / lo /
// hi are held for a command in the engine; here they change every cycle,
// so the bench delays them to the stage that reads them: rnd by 2 cycles
// (stage 3, beside the product), zp / lo / hi by 4 (stage 5).
`timescale 1ns / 1ps
`default_nettype none
module tb_requant;
    localparam integer LAT = 5;
    reg clk = 1'b0;
    always #5 clk = !clk;
    reg  [31:0] mem [0:4*`NCASES];
    reg  [31:0] acc = 32'd0;
    reg  [30:0] m0 = 31'd0;
    reg  [7:0]  sh = 8'd0, zp = 8'd0, lo = 8'h80, hi = 8'h7f;
    reg  [2:0]  rnd_d = 3'd0;
    wire [7:0]  q;
    nnf_requant #(.TFL_ROUND(1)) u_rq (
        .clk(clk), .acc(acc), .m0(m0), .shift(sh), .rnd(rnd_d[2]), .zp(zp), .lo(lo), .hi(hi), .q(q));
    integer n, i, t, errors = 0, checked = 0;
    initial begin
        $readmemh(`CASES, mem);
        n = mem[0];
        if (n != `NCASES) begin
            $display("FAIL the case file holds %0d cases, not %0d", n, `NCASES);
            $finish;
        end
        for (t = 0; t < n + LAT + 1; t = t + 1) begin
            @(negedge clk);
            // case t enters stage 1
            if (t < n) begin
                acc = mem[1 + 4*t];
                m0  = mem[2 + 4*t][30:0];
                sh  = mem[3 + 4*t][31:24];
            end
            // rnd of case t-2 (stage 3), zp / lo / hi of case t-4 (stage 5)
            rnd_d = {rnd_d[1:0], (t < n) ? mem[2 + 4*t][31] : 1'b0};
            if (t >= 4 && t - 4 < n) begin
                zp = mem[3 + 4*(t-4)][23:16];
                lo = mem[3 + 4*(t-4)][15:8];
                hi = mem[3 + 4*(t-4)][7:0];
            end
            // case t-LAT leaves stage 5
            if (t >= LAT && t - LAT < n) begin
                i = t - LAT;
                checked = checked + 1;
                if (q !== mem[4 + 4*i][7:0]) begin
                    errors = errors + 1;
                    if (errors <= 10)
                        $display("FAIL case %0d: acc %0d m0 %0d shift %0d rnd %0d zp %0d lo %0d hi %0d: q %0d, model %0d",
                                 i, $signed(mem[1 + 4*i]), mem[2 + 4*i][30:0], $signed(mem[3 + 4*i][31:24]),
                                 mem[2 + 4*i][31], $signed(mem[3 + 4*i][23:16]), $signed(mem[3 + 4*i][15:8]),
                                 $signed(mem[3 + 4*i][7:0]), $signed(q), $signed(mem[4 + 4*i][7:0]));
                end
            end
        end
        if (errors == 0 && checked == n) $display("PASS %0d requantizations, both roundings", checked);
        else $display("FAIL %0d of %0d cases differ", errors, checked);
        $finish;
    end
endmodule
`default_nettype wire
