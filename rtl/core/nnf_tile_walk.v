// nnf_tile_walk: walks the tiles of one GEMM command in the engine's order
//
//     for nt (N tiles of COLS) / for m block (ACC_DEPTH rows) / for kt (K tiles of ROWS)
//
// and keeps, without multipliers, the running offsets each consumer needs.
// The weight loader and the activation streamer each own one instance and
// advance it independently (the loader runs ahead by at most one tile).
`default_nettype none

module nnf_tile_walk #(
    parameter integer ROWS      = 8,
    parameter integer COLS      = 8,
    parameter integer ACC_DEPTH = 256,
    parameter integer A_W       = 32,     // width of k_ofs (ACT address)
    parameter integer W_W       = 32      // width of w_ofs (W address)
) (
    input  wire        clk,
    input  wire        start,       // load a new command (m, k, n, kt_n valid)
    input  wire [15:0] m,
    input  wire [15:0] k,
    input  wire [15:0] n,
    input  wire [15:0] kt_n,        // number of K tiles, max(1, ceil(k / ROWS))
    input  wire        adv,         // current tile consumed: move to the next
    output reg         done,        // no tile left
    output wire        kt_first,    // current tile is the first K tile
    output wire        kt_last,     // current tile is the last K tile
    output wire        nt_head,     // first tile of an N tile other than the first
    output wire [$clog2(ROWS):0]      k_lanes,  // valid activation lanes, 0..ROWS
    output wire [$clog2(COLS):0]      n_lanes,  // valid output lanes, 1..COLS
    output wire [$clog2(ACC_DEPTH):0] m_len,    // rows in this m block, 1..ACC_DEPTH
    output reg  [$clog2(ACC_DEPTH):0] m_last,   // m_len - 1, registered
    output reg  [15:0] m_row0,      // first row of this m block
    output reg  [A_W-1:0] k_ofs,    // kt * m          (mod 2^A_W)
    output reg  [W_W-1:0] w_ofs     // (nt * kt_n + kt) * ROWS  (mod 2^W_W)
);
    localparam integer KL_W = $clog2(ROWS) + 1;
    localparam integer NL_W = $clog2(COLS) + 1;
    localparam integer ML_W = $clog2(ACC_DEPTH) + 1;

    reg [15:0] kt_q;        // current K tile index
    reg [16:0] krem_q;      // k - kt*ROWS   (>= 0)
    reg [16:0] mrem_q;      // m - m_row0    (>= 1)
    reg [16:0] nrem_q;      // n - nt*COLS   (>= 1)
    reg [W_W-1:0] w_nt_q;   // nt * kt_n * ROWS
    reg        nt0_q;       // in the first N tile

    localparam [16:0] ROWS17 = ROWS[16:0];
    localparam [16:0] COLS17 = COLS[16:0];
    localparam [16:0] ACC17  = ACC_DEPTH[16:0];

    // The command's sizes, latched at start: after it, nothing here depends
    // on the input ports (which may change, and whose logic is then off
    // every path through this module).
    reg  [15:0]    m_q, k_q, ktl_q;    // m, k, kt_n - 1
    reg  [W_W-1:0] w_tile;             // kt_n * ROWS
    reg  [A_W-1:0] m_a;                // m, as an ACT offset
    /* verilator lint_off UNUSEDSIGNAL */
    wire [W_W+15:0] w_tile_full = {{W_W{1'b0}}, kt_n} << $clog2(ROWS);
    wire [A_W+15:0] m_full = {{A_W{1'b0}}, m};
    /* verilator lint_on UNUSEDSIGNAL */
    localparam [W_W-1:0] ROWS_W = ROWS[W_W-1:0];

    assign kt_first = (kt_q == 16'd0);
    assign kt_last  = (kt_q == ktl_q);
    assign nt_head  = kt_first && (m_row0 == 16'd0) && !nt0_q;
    assign k_lanes  = (krem_q >= ROWS17)     ? ROWS[KL_W-1:0]      : krem_q[KL_W-1:0];
    assign n_lanes  = (nrem_q >= COLS17)     ? COLS[NL_W-1:0]      : nrem_q[NL_W-1:0];
    assign m_len    = (mrem_q >= ACC17) ? ACC_DEPTH[ML_W-1:0] : mrem_q[ML_W-1:0];

    // m_len - 1 of a block that starts with `rem` rows left
    function [ML_W-1:0] last_of(input [16:0] rem);
        last_of = (rem >= ACC17) ? ACC_DEPTH[ML_W-1:0] - 1'b1 : rem[ML_W-1:0] - 1'b1;
    endfunction

    always @(posedge clk) begin
        if (start) begin
            m_q    <= m;
            k_q    <= k;
            ktl_q  <= kt_n - 16'd1;
            w_tile <= w_tile_full[W_W-1:0];
            m_a    <= m_full[A_W-1:0];
            done   <= (m == 16'd0) || (n == 16'd0);
            m_last <= last_of({1'b0, m});
            kt_q   <= 16'd0;
            krem_q <= {1'b0, k};
            mrem_q <= {1'b0, m};
            nrem_q <= {1'b0, n};
            m_row0 <= 16'd0;
            k_ofs  <= {A_W{1'b0}};
            w_ofs  <= {W_W{1'b0}};
            w_nt_q <= {W_W{1'b0}};
            nt0_q  <= 1'b1;
        end else if (adv && !done) begin
            if (!kt_last) begin
                kt_q   <= kt_q + 16'd1;
                krem_q <= krem_q - ROWS17;
                k_ofs  <= k_ofs + m_a;
                w_ofs  <= w_ofs + ROWS_W;
            end else begin
                kt_q   <= 16'd0;
                krem_q <= {1'b0, k_q};
                k_ofs  <= {A_W{1'b0}};
                if (mrem_q > ACC17) begin           // next m block, same N tile
                    m_row0 <= m_row0 + ACC_DEPTH[15:0];
                    mrem_q <= mrem_q - ACC17;
                    m_last <= last_of(mrem_q - ACC17);
                    w_ofs  <= w_nt_q;
                end else if (nrem_q > COLS17) begin       // next N tile
                    m_row0 <= 16'd0;
                    mrem_q <= {1'b0, m_q};
                    m_last <= last_of({1'b0, m_q});
                    nrem_q <= nrem_q - COLS17;
                    w_nt_q <= w_nt_q + w_tile;
                    w_ofs  <= w_nt_q + w_tile;
                    nt0_q  <= 1'b0;
                end else begin
                    done <= 1'b1;
                end
            end
        end
    end
endmodule

`default_nettype wire
