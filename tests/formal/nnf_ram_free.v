// tests/formal: a stand-in for nnf_ram in the arbiter proof: the read data is
// unconstrained every cycle (the proof is about who gets each port, not data).
module nnf_ram #(parameter integer AW = 8, parameter integer NB = 1) (
    input  wire            clk,
    input  wire [NB-1:0]   we,
    input  wire [AW-1:0]   wa,
    input  wire [8*NB-1:0] wd,
    input  wire            re,
    input  wire [AW-1:0]   ra,
    output wire [8*NB-1:0] rd
);
    (* anyseq *) wire [8*NB-1:0] any_rd;
    assign rd = any_rd;
endmodule
