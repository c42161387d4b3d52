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
// P_SPLIT (nnf_bufs): m0 and shift are one RAM, entry * COLS + lane, so the
// used lanes are the n words from p_base * COLS on: one a cycle from pm_rd,
// done n + 2 cycles after start. PIPE_CUTS: the words read are registered
// before they are checked (a block RAM's output is late in its cycle on
// ECP5): done one cycle later.
`default_nettype none

module nnf_pcheck #(
    parameter integer COLS    = 8,
    parameter integer P_WORDS = 64,
    parameter integer P_SPLIT = 0,
    parameter integer PIPE_CUTS = 0
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [$clog2(P_WORDS)-1:0] p_base,
    input  wire [15:0] n,
    output reg         re,
    output reg  [$clog2(P_WORDS)+(P_SPLIT != 0 ? $clog2(COLS) : 0)-1:0] ra,
    input  wire [COLS*72-1:0] p_rd,
    input  wire [39:0] pm_rd,                      // P_SPLIT: m0[31:0], shift[39:32]
    output reg         done,
    output reg         ok
);
    localparam integer LOG_C = $clog2(COLS);
    localparam integer P_AW  = $clog2(P_WORDS);
    localparam integer NL_W  = LOG_C + 1;

    wire [31:0]     n_m1 = {16'd0, n} - 32'd1;     // n >= 1 here
    // One read a cycle: RA_W-bit addresses, a count of the reads left
    // (NT - 1 < P_WORDS entries; P_SPLIT: n - 1 < P_WORDS * COLS lanes)
    localparam integer RA_W = P_AW + ((P_SPLIT != 0) ? LOG_C : 0);
    reg  [RA_W-1:0] left_q;
    reg             v_q;            // read data this cycle (PIPE_CUTS: in its register)
    reg             last_q;
    reg             bad_q;
    wire            last = (left_q == {RA_W{1'b0}});
    wire            rd_bad;         // the data read is out of range
    // the first address and the reads left: lanes (P_SPLIT) or entries
    wire [P_AW+LOG_C-1:0] ra0   = (P_SPLIT != 0) ? {p_base, {LOG_C{1'b0}}} : {{LOG_C{1'b0}}, p_base};
    wire [31:0]           left0 = (P_SPLIT != 0) ? n_m1 : (n_m1 >> LOG_C);
    generate
        if (P_SPLIT != 0) begin : g_split
            // one lane's m0 / shift: m0's sign and the shift
            wire [8:0] ck;
            nnf_cut #(.W(9), .ON(PIPE_CUTS)) u_ck_cut (
                .clk(clk), .rst(rst), .d({pm_rd[39:32], pm_rd[31]}), .q(ck));
            assign rd_bad = ck[0] || ($signed(ck[8:1]) < -8'sd31) || ($signed(ck[8:1]) > 8'sd30);
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_split = &{1'b0, p_rd, pm_rd[30:0]};
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : g_lanes
            // an entry's lanes, the used ones: all but in the last entry
            reg  [NL_W-1:0] nl_q;           // used lanes of the entry read
            reg  [NL_W-1:0] nl_last_q;      // used lanes of the last entry: ((n-1) % COLS) + 1
            reg  [COLS-1:0] lane_bad;
            // each lane's m0 sign and shift, as read (PIPE_CUTS: registered)
            wire [9*COLS-1:0] ck_rd;
            wire [9*COLS-1:0] ck;
            wire [NL_W-1:0]   nl;
            genvar gl;
            for (gl = 0; gl < COLS; gl = gl + 1) begin : g_ck
                assign ck_rd[9*gl +: 9] = {p_rd[72*gl + 64 +: 8], p_rd[72*gl + 63]};
            end
            nnf_cut #(.W(9*COLS + NL_W), .ON(PIPE_CUTS)) u_ck_cut (
                .clk(clk), .rst(rst), .d({ck_rd, nl_q}), .q({ck, nl}));
            integer         cl;
            always @(*) begin
                for (cl = 0; cl < COLS; cl = cl + 1)
                    lane_bad[cl] = (cl < nl) && (ck[9*cl] ||
                                   ($signed(ck[9*cl + 1 +: 8]) < -8'sd31) ||
                                   ($signed(ck[9*cl + 1 +: 8]) > 8'sd30));
            end
            always @(posedge clk) begin
                nl_q <= last ? nl_last_q : COLS[NL_W-1:0];
                if (start) nl_last_q <= {1'b0, n_m1[LOG_C-1:0]} + 1'b1;
            end
            assign rd_bad = (lane_bad != {COLS{1'b0}});
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_lanes = &{1'b0, pm_rd, p_rd};   // each lane's bias and m0 below its sign
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
    // the read's valid and last flags, as old as the data checked
    wire v_rd, last_rd;
    nnf_cut #(.W(2), .ON(PIPE_CUTS), .RV(1)) u_flags_cut (
        .clk(clk), .rst(rst), .d({re, last}), .q({v_rd, last_rd}));
    always @(posedge clk) begin
        done   <= 1'b0;
        v_q    <= v_rd;
        last_q <= last_rd;
        if (rst) begin
            re  <= 1'b0;
            v_q <= 1'b0;
            ok  <= 1'b0;
        end else begin
            if (start) begin
                re     <= 1'b1;
                ra     <= ra0[RA_W-1:0];
                left_q <= left0[RA_W-1:0];
                bad_q  <= 1'b0;
            end else if (re) begin
                ra     <= ra + 1'b1;
                left_q <= left_q - 1'b1;
                if (last) re <= 1'b0;
            end
            if (v_q) begin
                bad_q <= bad_q || rd_bad;
                if (last_q) begin
                    done <= 1'b1;
                    ok   <= !(bad_q || rd_bad);
                end
            end
        end
    end

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, n_m1, ra0, left0};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
