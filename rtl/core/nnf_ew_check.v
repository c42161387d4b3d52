// nnf_ew_check: an EW instruction's limits, checked before it has any side
// effect (docs/rnn.md). The definition is the functional model's
// nnfm_engine_ew_check (sim/model/nnfm_engine.c) with nnfm_ew_params_check
// (nnfm.c), for the fields the record can encode (the zero points and the
// clamp are int8, M0_S, M0 31 bits and NSHIFT_S 0..31 by construction):
//   lo <= hi, -31 <= shift <= 30, lut_sel < LUT_COUNT; then, unless n = 0
//   or m = 0, with words = ceil(n / ROWS) * m: A (and B unless MAP) and O
//   inside ACT, and O the same range as A (B) or sharing no word with it.
//
// Protocol: the fields are held from `start` (a one-cycle pulse) until
// `done` (a one-cycle pulse, `ok` valid with it), 20 cycles after start:
// the product by shift-and-add over m's 16 bits, then the three ends, then
// the comparisons, then the verdict.
`default_nettype none

module nnf_ew_check #(
    parameter integer ROWS      = 8,
    parameter integer ACT_WORDS = 32768,
    parameter integer LUT_COUNT = 1
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [15:0] n,
    input  wire [15:0] m,
    input  wire [31:0] a_base,
    input  wire [31:0] b_base,
    input  wire [31:0] o_base,
    input  wire        binary,      // B is read (not MAP)
    input  wire [7:0]  lo,
    input  wire [7:0]  hi,
    input  wire [7:0]  shift,
    input  wire [2:0]  lut_sel,
    output reg         done,
    output reg         ok
);
    localparam integer LR = $clog2(ROWS);
    localparam [33:0]  ACT34 = 34'd1 << $clog2(ACT_WORDS);   // a power of two

    // words = ceil(n / ROWS) * m < 2^32
    wire [15:0] nt_d = {{LR{1'b0}}, n[15:LR]} + {15'd0, (n[LR-1:0] != {LR{1'b0}})};
    reg  [15:0] nt_q, y_q;
    reg  [31:0] w_q;                 // the product so far
    reg  [4:0]  cnt_q;               // bits left (16 .. 0), then the steps
    reg         run_q, mul_q;
    reg         empty_q, par_q;
    reg  [33:0] ae_q, be_q, oe_q;    // the ends
    reg         in_q, sd_q;

    wire par_d = ($signed(lo) <= $signed(hi)) && ($signed(shift) >= -8'sd31) &&
                 ($signed(shift) <= 8'sd30) && ({29'd0, lut_sel} < LUT_COUNT);
    wire [33:0] a34 = {2'b00, a_base}, b34 = {2'b00, b_base}, o34 = {2'b00, o_base};

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            run_q <= 1'b0;
            ok    <= 1'b0;
        end else if (start) begin
            run_q   <= 1'b1;
            mul_q   <= 1'b1;
            nt_q    <= nt_d;
            y_q     <= m;
            w_q     <= 32'd0;
            cnt_q   <= 5'd16;
            empty_q <= (n == 16'd0) || (m == 16'd0);
            par_q   <= par_d;
        end else if (run_q) begin
            if (mul_q) begin
                w_q   <= {w_q[30:0], 1'b0} + (y_q[15] ? {16'd0, nt_q} : 32'd0);
                y_q   <= {y_q[14:0], 1'b0};
                cnt_q <= cnt_q - 5'd1;
                if (cnt_q == 5'd1) mul_q <= 1'b0;
            end else begin
                cnt_q <= cnt_q + 5'd1;
                case (cnt_q)
                    5'd0: begin
                        ae_q <= a34 + {2'b00, w_q};
                        be_q <= b34 + {2'b00, w_q};
                        oe_q <= o34 + {2'b00, w_q};
                    end
                    5'd1: begin
                        in_q <= (ae_q <= ACT34) && (oe_q <= ACT34) && (!binary || (be_q <= ACT34));
                        sd_q <= ((o34 == a34) || (oe_q <= a34) || (ae_q <= o34)) &&
                                (!binary || (o34 == b34) || (oe_q <= b34) || (be_q <= o34));
                    end
                    default: begin
                        run_q <= 1'b0;
                        done  <= 1'b1;
                        ok    <= par_q && (empty_q || (in_q && sd_q));
                    end
                endcase
            end
        end
    end
endmodule

`default_nettype wire
