// nnf_pe2_ice40: two neighbouring processing elements of one array row
// (columns 2j and 2j+1) whose two int8 products come from one iCE40
// SB_MAC16 in its 8x8 mode: the DSP's two 8x8 multipliers are independent
// there (A = {w1, w0}, B = {a1, a0}, signed; O[31:16] = a1*w1, O[15:0] =
// a0*w0), so the UP5K's eight DSPs make sixteen MACs a cycle (docs/boards/
// icebreaker.md).
//
// BANKS = 2, MUL_REG = 0 (PE_DSP = 2): cycle for cycle and bit for bit the
// two nnf_pe it stands for: the products are combinational (no register
// inside the DSP), the two weight banks, the activation and bank hand-over to
// the right and the partial-sum adds are the same registers in the fabric.
//
// BANKS = 1, MUL_REG = 1 (PE_DSP = 4): one weight bank, held in the DSP's
// own A register (loaded by wl_en, held otherwise: no weight flip-flop or
// bank multiplexer in the fabric; the engine then loads a tile's weights
// only after the last row of the tile before has left the array, and the
// bank inputs are unused), and both products registered inside the DSP
// (TOP_8x8_MULT_REG, BOT_8x8_MULT_REG): psum*_o is the sum of psum*_i and
// the product of the activation one cycle before, so the array's latency is
// one cycle longer (nnf_systolic) and the multiplier is off the add's path.
//
// The primitive is used when NNF_ICE40 is defined (scripts/synth.py does for
// iCE40 targets); otherwise '*' and fabric registers (simulation, other
// parts). tests/rtl/pe2_ice40 checks the two agree on every input pair
// under Yosys' own model of the SB_MAC16, in both configurations.
`default_nettype none

module nnf_pe2_ice40 #(
    parameter integer PSUM_W  = 20,
    parameter integer BANKS   = 2,    // 1: one weight bank, in the SB_MAC16's A register
    parameter integer MUL_REG = 0     // 1: the products registered (one cycle more latency)
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
    wire [15:0] prod0, prod1;          // the products the adds take this cycle

    generate
        if (BANKS != 1 && BANKS != 2) begin : g_bad_banks
            nnf_pe2_ice40_bad_parameter_BANKS_must_be_1_or_2 u_bad();
        end
        if (MUL_REG != 0 && MUL_REG != 1) begin : g_bad_reg
            nnf_pe2_ice40_bad_parameter_MUL_REG_must_be_0_or_1 u_bad();
        end
    endgenerate

    // The weights the multipliers see: bank_i's (column 2j) and bank_m's
    // (column 2j+1), or with one bank the weights last loaded.
    wire [7:0] w0, w1;
    generate
        if (BANKS == 2) begin : g_two
            reg  [7:0] w00_q, w01_q;   // column 2j: banks 0, 1
            reg  [7:0] w10_q, w11_q;   // column 2j+1
            always @(posedge clk) begin
                if (wl_en && !wl_bank) begin w00_q <= wl_data[7:0]; w10_q <= wl_data[15:8]; end
                if (wl_en &&  wl_bank) begin w01_q <= wl_data[7:0]; w11_q <= wl_data[15:8]; end
            end
            assign w0 = bank_i ? w01_q : w00_q;
            assign w1 = bank_m ? w11_q : w10_q;
        end else begin : g_one
`ifndef NNF_ICE40
            reg  [15:0] w_q;           // the DSP's A register
            always @(posedge clk) if (wl_en) w_q <= wl_data;
            assign {w1, w0} = w_q;
`else
            assign {w1, w0} = wl_data; // into the A register (A_REG, AHOLD = !wl_en)
`endif
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_bank = &{1'b0, wl_bank};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

`ifdef NNF_ICE40
    wire [31:0] o;
    SB_MAC16 #(
        .MODE_8x8(1'b1), .A_SIGNED(1'b1), .B_SIGNED(1'b1),
        .A_REG(BANKS == 1 ? 1'b1 : 1'b0), .B_REG(1'b0), .C_REG(1'b0), .D_REG(1'b0),
        .TOP_8x8_MULT_REG(MUL_REG != 0 ? 1'b1 : 1'b0), .BOT_8x8_MULT_REG(MUL_REG != 0 ? 1'b1 : 1'b0),
        .PIPELINE_16x16_MULT_REG1(1'b0), .PIPELINE_16x16_MULT_REG2(1'b0),
        .TOPOUTPUT_SELECT(2'd2), .BOTOUTPUT_SELECT(2'd2),    // the 8x8 products themselves
        .TOPADDSUB_LOWERINPUT(2'd0), .TOPADDSUB_UPPERINPUT(1'b0), .TOPADDSUB_CARRYSELECT(2'd0),
        .BOTADDSUB_LOWERINPUT(2'd0), .BOTADDSUB_UPPERINPUT(1'b0), .BOTADDSUB_CARRYSELECT(2'd0)
    ) u_mac (
        .CLK(clk), .CE(1'b1), .A({w1, w0}), .B({a_m, a_i}), .C(16'd0), .D(16'd0),
        .AHOLD(BANKS == 1 ? !wl_en : 1'b0), .BHOLD(1'b0), .CHOLD(1'b0), .DHOLD(1'b0),
        .IRSTTOP(1'b0), .IRSTBOT(1'b0), .ORSTTOP(1'b0), .ORSTBOT(1'b0),
        .OLOADTOP(1'b0), .OLOADBOT(1'b0), .ADDSUBTOP(1'b0), .ADDSUBBOT(1'b0),
        .OHOLDTOP(1'b0), .OHOLDBOT(1'b0), .CI(1'b0), .ACCUMCI(1'b0), .SIGNEXTIN(1'b0),
        .O(o), .CO(), .ACCUMCO(), .SIGNEXTOUT());
    assign prod1 = o[31:16];
    assign prod0 = o[15:0];
`else
    wire [15:0] p0 = $signed(a_i) * $signed(w0);
    wire [15:0] p1 = $signed(a_m) * $signed(w1);
    generate
        if (MUL_REG != 0) begin : g_preg
            reg [15:0] p0_q, p1_q;
            always @(posedge clk) begin
                p0_q <= p0;
                p1_q <= p1;
            end
            assign prod0 = p0_q;
            assign prod1 = p1_q;
        end else begin : g_pcomb
            assign prod0 = p0;
            assign prod1 = p1;
        end
    endgenerate
`endif

    always @(posedge clk) begin
        a_m     <= a_i;
        bank_m  <= bank_i;
        a_o     <= a_m;
        bank_o  <= bank_m;
        psum0_o <= psum0_i + {{(PSUM_W-16){prod0[15]}}, prod0};
        psum1_o <= psum1_i + {{(PSUM_W-16){prod1[15]}}, prod1};
    end
endmodule

`default_nettype wire
