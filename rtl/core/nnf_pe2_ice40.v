// nnf_pe2_ice40: two neighbouring processing elements of one array row
// (columns 2j and 2j+1) whose two int8 products come from one iCE40
// SB_MAC16 in its 8x8 mode: the DSP's two 8x8 multipliers are independent
// there (A = {w1, w0}, B = {a1, a0}, signed; O[31:16] = a1*w1, O[15:0] =
// a0*w0), so the UP5K's eight DSPs make sixteen MACs a cycle (docs/boards/
// icebreaker.md). Cycle for cycle and bit for bit the two nnf_pe it stands
// for: the products are combinational (no register inside the DSP), the
// weight banks, the activation and bank hand-over to the right and the
// partial-sum adds are the same registers in the fabric.
//
// The primitive is used when NNF_ICE40 is defined (scripts/synth.py does for
// iCE40 targets); otherwise '*' (simulation, other parts). tests/rtl/
// pe2_ice40 checks the two agree on every input pair under Yosys' own
// model of the SB_MAC16.
`default_nettype none

module nnf_pe2_ice40 #(
    parameter integer PSUM_W = 20
) (
    input  wire                  clk,
    input  wire [7:0]            a_i,      // activation into column 2j
    input  wire                  bank_i,
    input  wire [PSUM_W-1:0]     psum0_i,  // from above, column 2j
    input  wire [PSUM_W-1:0]     psum1_i,  // from above, column 2j+1
    input  wire                  wl_en,    // weight load (this row selected)
    input  wire                  wl_bank,
    input  wire [15:0]           wl_data,  // byte 0: column 2j, byte 1: column 2j+1
    output reg  [7:0]            a_m,      // column 2j's activation out (into 2j+1)
    output reg                   bank_m,
    output reg  [7:0]            a_o,      // column 2j+1's, to the right
    output reg                   bank_o,
    output reg  [PSUM_W-1:0]     psum0_o,
    output reg  [PSUM_W-1:0]     psum1_o
);
    reg  [7:0] w00_q, w01_q;   // column 2j: banks 0, 1
    reg  [7:0] w10_q, w11_q;   // column 2j+1
    wire [7:0] w0 = bank_i ? w01_q : w00_q;
    wire [7:0] w1 = bank_m ? w11_q : w10_q;
    wire [15:0] prod0, prod1;

`ifdef NNF_ICE40
    wire [31:0] o;
    SB_MAC16 #(
        .MODE_8x8(1'b1), .A_SIGNED(1'b1), .B_SIGNED(1'b1),
        .A_REG(1'b0), .B_REG(1'b0), .C_REG(1'b0), .D_REG(1'b0),
        .TOP_8x8_MULT_REG(1'b0), .BOT_8x8_MULT_REG(1'b0),
        .PIPELINE_16x16_MULT_REG1(1'b0), .PIPELINE_16x16_MULT_REG2(1'b0),
        .TOPOUTPUT_SELECT(2'd2), .BOTOUTPUT_SELECT(2'd2),    // the 8x8 products themselves
        .TOPADDSUB_LOWERINPUT(2'd0), .TOPADDSUB_UPPERINPUT(1'b0), .TOPADDSUB_CARRYSELECT(2'd0),
        .BOTADDSUB_LOWERINPUT(2'd0), .BOTADDSUB_UPPERINPUT(1'b0), .BOTADDSUB_CARRYSELECT(2'd0)
    ) u_mac (
        .CLK(clk), .CE(1'b1), .A({w1, w0}), .B({a_m, a_i}), .C(16'd0), .D(16'd0),
        .AHOLD(1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0),
        .IRSTTOP(1'b0), .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0),
        .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0),
        .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0), .SIGNEXTIN(1'b0),
        .O(o), .CO(), .ACCUMCO(), .SIGNEXTOUT());
    assign prod1 = o[31:16];
    assign prod0 = o[15:0];
`else
    assign prod0 = $signed(a_i) * $signed(w0);
    assign prod1 = $signed(a_m) * $signed(w1);
`endif

    always @(posedge clk) begin
        if (wl_en && !wl_bank) begin w00_q <= wl_data[7:0]; w10_q <= wl_data[15:8]; end
        if (wl_en &&  wl_bank) begin w01_q <= wl_data[7:0]; w11_q <= wl_data[15:8]; end
        a_m     <= a_i;
        bank_m  <= bank_i;
        a_o     <= a_m;
        bank_o  <= bank_m;
        psum0_o <= psum0_i + {{(PSUM_W-16){prod0[15]}}, prod0};
        psum1_o <= psum1_i + {{(PSUM_W-16){prod1[15]}}, prod1};
    end
endmodule

`default_nettype wire
