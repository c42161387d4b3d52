// nnf_ram: simple dual-port synchronous RAM (one write port with byte
// enables, one read port with read enable), written so that Yosys infers
// block RAM and Verilator / Icarus simulate it identically.
//
// Read-during-write to the same address: the simulators return the old
// contents; synthesis leaves it undefined (no_rw_check). Nothing relies on it.
// ZERO_INIT = 1: every word starts 0 (block RAM initial contents; a word
// never written reads 0 for good).
`default_nettype none

module nnf_ram #(
    parameter integer AW = 8,            // address width (depth 2^AW)
    parameter integer NB = 1,            // word width in bytes
    parameter integer ZERO_INIT = 0,     // 1: every word 0 at configuration
    /* verilator lint_off UNUSEDPARAM */
    parameter         STYLE = "auto"     // Yosys' ram_style: "auto" (its choice) or "block"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire            clk,
    input  wire [NB-1:0]   we,           // byte write enables
    input  wire [AW-1:0]   wa,
    input  wire [8*NB-1:0] wd,
    input  wire            re,
    input  wire [AW-1:0]   ra,
    output reg  [8*NB-1:0] rd
);
    // no_rw_check: nothing in the design depends on what a read returns when
    // the same word is written in that cycle (the accumulator forwards its
    // own write), so Yosys need not build a bypass around every RAM.
    // STYLE "block": block RAM even where Yosys would choose flip-flops (a
    // few wide words, where the flip-flops are what the RAM is there to save).
    (* no_rw_check, ram_style = STYLE *)
    reg [8*NB-1:0] mem [0:(1<<AW)-1];

    integer i, j;
    initial
        if (ZERO_INIT != 0)
            for (j = 0; j < (1 << AW); j = j + 1) mem[j] = {(8*NB){1'b0}};
    always @(posedge clk) begin
        for (i = 0; i < NB; i = i + 1)
            if (we[i]) mem[wa][8*i +: 8] <= wd[8*i +: 8];
        if (re) rd <= mem[ra];
    end
endmodule

`default_nettype wire
