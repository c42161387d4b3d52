// nnf_pcheck: the per-lane parameter check of a GEMM before it is issued
// (docs/protocol.md, "Refused instructions"; the model's
// nnfm_requant_params_valid). Every used lane of the command's P entries
// p_base .. p_base + ceil(n / COLS) - 1 must have m0 >= 0 and shift in
// -31..30.
//
// Protocol: start is a one-cycle pulse while the engine is idle, with
// n >= 1 and the entries inside P (nnf_insn_check has made sure), p_base
// and n held until done; done is a one-cycle pulse with ok, NT + 2 cycles
// after start. One P entry is read per cycle, all lanes at once, through
// the P check port of nnf_bufs (re / ra, data on p_rd the next cycle).
`default_nettype none

module nnf_pcheck #(
    parameter integer COLS    = 8,
    parameter integer P_WORDS = 64
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [$clog2(P_WORDS)-1:0] p_base,
    input  wire [15:0] n,
    output reg         re,
    output reg  [$clog2(P_WORDS)-1:0] ra,
    input  wire [COLS*72-1:0] p_rd,
    output reg         done,
    output reg         ok
);
    localparam integer LOG_C = $clog2(COLS);
    localparam integer P_AW  = $clog2(P_WORDS);
    localparam integer NL_W  = LOG_C + 1;

    // NT - 1 < P_WORDS: a P_AW-bit count of the entries left
    reg  [P_AW-1:0] left_q;
    reg             v_q;            // entry data on p_rd this cycle
    reg             last_q;
    reg  [NL_W-1:0] nl_q;           // used lanes of that entry
    reg  [NL_W-1:0] nl_last_q;      // used lanes of the last entry: ((n-1) % COLS) + 1
    reg             bad_q;
    wire            last = (left_q == {P_AW{1'b0}});
    wire [31:0]     n_m1 = {16'd0, n} - 32'd1;     // n >= 1 here
    reg  [COLS-1:0] lane_bad;
    integer         cl;
    always @(*) begin
        for (cl = 0; cl < COLS; cl = cl + 1)
            lane_bad[cl] = (cl < nl_q) && (p_rd[72*cl + 63] ||
                           ($signed(p_rd[72*cl + 64 +: 8]) < -8'sd31) ||
                           ($signed(p_rd[72*cl + 64 +: 8]) > 8'sd30));
    end
    always @(posedge clk) begin
        done   <= 1'b0;
        v_q    <= re;
        last_q <= last;
        nl_q   <= last ? nl_last_q : COLS[NL_W-1:0];
        if (rst) begin
            re  <= 1'b0;
            v_q <= 1'b0;
            ok  <= 1'b0;
        end else begin
            if (start) begin
                re        <= 1'b1;
                ra        <= p_base;
                left_q    <= n_m1[LOG_C +: P_AW];
                nl_last_q <= {1'b0, n_m1[LOG_C-1:0]} + 1'b1;
                bad_q     <= 1'b0;
            end else if (re) begin
                ra     <= ra + 1'b1;
                left_q <= left_q - 1'b1;
                if (last) re <= 1'b0;
            end
            if (v_q) begin
                bad_q <= bad_q || (lane_bad != {COLS{1'b0}});
                if (last_q) begin
                    done <= 1'b1;
                    ok   <= !(bad_q || (lane_bad != {COLS{1'b0}}));
                end
            end
        end
    end

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, n_m1};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
