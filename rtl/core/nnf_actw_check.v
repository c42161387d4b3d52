// nnf_actw_check: an ACTW instruction's limits, checked before it has any
// side effect (docs/protocol.md, "Refused instructions"). The definition is
// the functional model's nnfm_engine_actw_check (sim/model/nnfm_engine.c),
// for the fields the record can encode (N and M 16 bits, TR and SUM one,
// ZA int8): unless n = 0 or m = 0, with CX = ceil(n / ROWS) and CY =
// ceil(m / ROWS): A (a_base, CX*m words) inside ACT, B (w_base, CX*CY*ROWS
// words) inside W, and with sum the NT' entries at p_base (CY with tr, CX
// without) inside P.
//
// Protocol: the fields are held from `start` (a one-cycle pulse) until
// `done` (a one-cycle pulse, `ok` valid with it), 20 cycles after start:
// the two products by shift-and-add over 17 multiplier bits, the ends,
// the verdict.
`default_nettype none

module nnf_actw_check #(
    parameter integer ROWS      = 8,
    parameter integer ACT_WORDS = 32768,
    parameter integer W_WORDS   = 16384,
    parameter integer P_WORDS   = 64
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [15:0] n,
    input  wire [15:0] m,
    input  wire        tr,
    input  wire        sum,
    input  wire [31:0] a_base,
    input  wire [31:0] w_base,
    input  wire [31:0] p_base,
    output reg         done,
    output reg         ok
);
    localparam integer LR = $clog2(ROWS);
    localparam [33:0]  ACT34 = 34'd1 << $clog2(ACT_WORDS);   // powers of two
    localparam [33:0]  W34   = 34'd1 << $clog2(W_WORDS);
    localparam [33:0]  P34   = 34'd1 << $clog2(P_WORDS);

    wire [15:0] cx_d = {{LR{1'b0}}, n[15:LR]} + {15'd0, (n[LR-1:0] != {LR{1'b0}})};
    wire [15:0] cy_d = {{LR{1'b0}}, m[15:LR]} + {15'd0, (m[LR-1:0] != {LR{1'b0}})};
    wire [16:0] my_d = {1'b0, cy_d} << LR;       // CY*ROWS <= 65535 + ROWS - 1
    reg  [15:0] cx_q, cy_q;
    reg  [16:0] y1_q, y2_q;          // the multipliers: m, CY*ROWS
    reg  [32:0] p1_q, p2_q;          // the products so far: CX*m, CX*CY*ROWS
    reg  [4:0]  cnt_q;
    reg         run_q, mul_q, empty_q;
    reg  [33:0] ae_q, we_q, pe_q;    // the ends

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            run_q <= 1'b0;
            ok    <= 1'b0;
        end else if (start) begin
            run_q   <= 1'b1;
            mul_q   <= 1'b1;
            cx_q    <= cx_d;
            cy_q    <= cy_d;
            y1_q    <= {1'b0, m};
            y2_q    <= my_d;
            p1_q    <= 33'd0;
            p2_q    <= 33'd0;
            cnt_q   <= 5'd17;
            empty_q <= (n == 16'd0) || (m == 16'd0);
        end else if (run_q) begin
            if (mul_q) begin
                p1_q  <= {p1_q[31:0], 1'b0} + (y1_q[16] ? {17'd0, cx_q} : 33'd0);
                p2_q  <= {p2_q[31:0], 1'b0} + (y2_q[16] ? {17'd0, cx_q} : 33'd0);
                y1_q  <= {y1_q[15:0], 1'b0};
                y2_q  <= {y2_q[15:0], 1'b0};
                cnt_q <= cnt_q - 5'd1;
                if (cnt_q == 5'd1) mul_q <= 1'b0;
            end else if (cnt_q == 5'd0) begin
                ae_q  <= {2'b00, a_base} + {1'b0, p1_q};
                we_q  <= {2'b00, w_base} + {1'b0, p2_q};
                pe_q  <= {2'b00, p_base} + {18'd0, tr ? cy_q : cx_q};
                cnt_q <= 5'd1;
            end else begin
                ok    <= empty_q || (ae_q <= ACT34 && we_q <= W34 && (!sum || pe_q <= P34));
                done  <= 1'b1;
                run_q <= 1'b0;
            end
        end
    end
endmodule

`default_nettype wire
