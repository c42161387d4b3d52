// nnf_spram: single-port synchronous RAM (one access a cycle: a read, or a
// write with byte enables), for bulk memories that need no second port. On
// the iCE40UP5K (NNF_ICE40 defined, as scripts/synth.py does for iCE40
// targets) it is built from the part's SB_SPRAM256KA (16K x 16 each): NB/2
// of them side by side for the width and 2^(AW-14) deep, at most the four
// the part has (docs/boards/icebreaker.md); elsewhere, and in simulation, a
// plain memory.
//
//   en, we == 0     read word addr; rd holds it from the next cycle
//   en, we != 0     write the enabled bytes of wd to word addr; rd is
//                   undefined from the next cycle (the SPRAM's DATAOUT is)
//   !en             nothing; rd keeps its value
//
// Nothing may rely on rd after a write: the behavioural form makes rd
// all-ones then, so a simulation catches a reader that does.
`default_nettype none

module nnf_spram #(
    parameter integer AW = 14,           // address width (depth 2^AW)
    parameter integer NB = 2             // word width in bytes
) (
    input  wire            clk,
    input  wire            en,
    input  wire [NB-1:0]   we,           // byte write enables (all zero: a read)
    input  wire [AW-1:0]   addr,
    input  wire [8*NB-1:0] wd,
    output wire [8*NB-1:0] rd
);
    wire wr = |we;

`ifdef NNF_ICE40
    // 16-bit slices side by side, 16K-word banks one above the other
    localparam integer SLICES = NB / 2;
    localparam integer BANKS  = (AW > 14) ? (1 << (AW - 14)) : 1;
    localparam integer BW     = (AW > 14) ? (AW - 14) : 1;
    if (NB % 2 != 0 || SLICES * BANKS > 4) begin : g_bad
        nnf_spram_bad_parameter_more_than_four_SPRAMs_or_odd_width u_bad();
    end
    wire [31:0]   a32  = {{(32-AW){1'b0}}, addr};
    wire [13:0]   a14  = a32[13:0];
    wire [BW-1:0] bank = a32[14 +: BW];
    reg  [BW-1:0] bank_q;                // the bank the last read came from
    always @(posedge clk) if (en && !wr) bank_q <= bank;
    wire [8*NB-1:0] dout [0:BANKS-1];
    genvar b, s;
    generate
        for (b = 0; b < BANKS; b = b + 1) begin : g_bank
            for (s = 0; s < SLICES; s = s + 1) begin : g_slice
                SB_SPRAM256KA u_spram (
                    .ADDRESS(a14), .DATAIN(wd[16*s +: 16]),
                    .MASKWREN({we[2*s+1], we[2*s+1], we[2*s], we[2*s]}),
                    .WREN(wr), .CHIPSELECT(en && (bank == b)), .CLOCK(clk),
                    .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1),
                    .DATAOUT(dout[b][16*s +: 16]));
            end
        end
    endgenerate
    assign rd = dout[bank_q];
`else
    reg [8*NB-1:0] mem [0:(1<<AW)-1];
    reg [8*NB-1:0] rd_q;
    integer i;
    always @(posedge clk) begin
        if (en) begin
            for (i = 0; i < NB; i = i + 1)
                if (we[i]) mem[addr][8*i +: 8] <= wd[8*i +: 8];
            rd_q <= wr ? {8*NB{1'b1}} : mem[addr];
        end
    end
    assign rd = rd_q;
`endif
endmodule

`default_nettype wire
