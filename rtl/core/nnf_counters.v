// nnf_counters: N performance counters of W bits (docs/protocol.md,
// COUNTERS). Counter i adds amt[i] in every cycle en[i] is high; all are
// zeroed by rst or clear (a one-cycle pulse), and wrap at 2^W (an
// increment wider than W adds its low W bits).
`default_nettype none

module nnf_counters #(
    parameter integer N  = 1,       // counters
    parameter integer W  = 64,      // bits per counter
    parameter integer AW = 1        // bits of each increment
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          clear,
    input  wire [N-1:0]  en,
    input  wire [N*AW-1:0] amt,
    output wire [N*W-1:0]  count
);
    genvar i;
    generate
        for (i = 0; i < N; i = i + 1) begin : g_cnt
            reg  [W-1:0] c_q;
            wire [W-1:0] inc;
            if (AW < W) begin : g_ext
                assign inc = {{(W-AW){1'b0}}, amt[AW*i +: AW]};
            end else begin : g_trunc                // the counter wraps anyway
                assign inc = amt[AW*i +: W];
                if (AW > W) begin : g_unused
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire unused = &{1'b0, amt[AW*i+W +: AW-W]};
                    /* verilator lint_on UNUSEDSIGNAL */
                end
            end
            always @(posedge clk) begin
                if (rst || clear) c_q <= {W{1'b0}};
                else if (en[i])   c_q <= c_q + inc;
            end
            assign count[W*i +: W] = c_q;
        end
    endgenerate
endmodule

`default_nettype wire
