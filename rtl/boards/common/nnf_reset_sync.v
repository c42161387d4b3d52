// nnf_reset_sync: reset synchroniser for a board top. Asserts `rst` at once
// (asynchronously) while `arst` is high, and releases it synchronously, STAGES
// clock edges after `arst` falls, so every flip-flop leaves reset in the same
// cycle. arst: e.g. a button or !pll_locked.
`default_nettype none

module nnf_reset_sync #(
    parameter integer STAGES = 4           // >= 2
) (
    input  wire clk,
    input  wire arst,
    output wire rst
);
    reg [STAGES-1:0] sh_q;

    always @(posedge clk or posedge arst) begin
        if (arst) sh_q <= {STAGES{1'b1}};
        else      sh_q <= {sh_q[STAGES-2:0], 1'b0};
    end

    assign rst = sh_q[STAGES-1];
endmodule

`default_nettype wire
