// nnf_cut: a pipeline cut that is there or not, by a parameter (PIPE_CUTS
// and its kin, docs/engine.md): ON = 1 registers d (q is d a cycle late),
// ON = 0 is a wire (q is d). The top RV bits are valid flags: while rst
// they are registered as 0 (ON = 1; a wire passes them as they are). The
// other bits have no reset: they are data, qualified by the flags.
`default_nettype none

module nnf_cut #(
    parameter integer W  = 1,
    parameter integer ON = 1,
    parameter integer RV = 0
) (
    input  wire         clk,
    input  wire         rst,
    input  wire [W-1:0] d,
    output wire [W-1:0] q
);
    generate
        if (RV < 0 || RV > W) begin : g_bad_rv
            nnf_cut_bad_parameter_RV_must_be_0_to_W u_bad();
        end
        if (ON != 0) begin : g_reg
            localparam [W-1:0] VMASK = (RV == 0) ? {W{1'b0}} : ({W{1'b1}} << (W - RV));
            reg [W-1:0] q_q;
            always @(posedge clk) q_q <= rst ? (d & ~VMASK) : d;
            assign q = q_q;
        end else begin : g_wire
            assign q = d;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_w = &{1'b0, clk, rst};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md; tests/formal): a register gives
    // last cycle's d, its flags 0 if rst was high then; a wire gives d.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    localparam [W-1:0] F_VMASK = (RV == 0) ? {W{1'b0}} : ({W{1'b1}} << (W - RV));
    reg [W-1:0] f_want;                 // last cycle's d, its flags cleared if rst
    always @(posedge clk) f_want <= rst ? (d & ~F_VMASK) : d;
    always @(*) begin
        if (ON != 0) begin
            if (f_past_valid) assert(q == f_want);
        end else begin
            assert(q == d);
        end
    end
`endif
endmodule

`default_nettype wire
