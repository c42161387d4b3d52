// tests/formal: a stand-in for nnf_spram in the arbiter proof: the read data
// is unconstrained every cycle (the proof is about who gets the port).
module nnf_spram #(parameter integer AW = 14, parameter integer NB = 2) (
    input  wire            clk,
    input  wire            en,
    input  wire [NB-1:0]   we,
    input  wire [AW-1:0]   addr,
    input  wire [8*NB-1:0] wd,
    output wire [8*NB-1:0] rd
);
    (* anyseq *) wire [8*NB-1:0] any_rd;
    assign rd = any_rd;
endmodule
