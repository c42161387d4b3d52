// nnf_systolic: ROWS x COLS weight-stationary systolic array with input skew
// and output de-skew.
//
// Timing: a row of ROWS activations (a_row, lane r = input k of the tile)
// presented in cycle t produces the COLS column sums (lane c = output n of
// the tile) in cycle t + LAT, LAT = ROWS + COLS - 1 + PIPE (DESKEW = 0: lane
// c in t + LAT - (COLS-1-c)), one row per cycle,
// fully pipelined; PIPE = 2 with MUL_DSP = 3 (nnf_pe_ecp5: every product
// registered twice), 1 with MUL_DSP = 4 (nnf_pe2_ice40: the products
// registered inside the SB_MAC16), else 0. Activation lane r reaches PE (r, c) in cycle
// t + r + c.
//
// Weights: wl_en writes wl_data (COLS bytes, byte c -> column c) into bank
// wl_bank of every PE in row wl_row (MUL_DSP = 4: the one bank; a_bank and
// wl_bank are unused). Row r must be written before the first
// activation that uses the bank reaches it (cycle t + r) and after the last
// activation that used the old contents has left it (cycle t_last + r + COLS-1).
`default_nettype none

module nnf_systolic #(
    parameter integer ROWS   = 8,
    parameter integer COLS   = 8,
    parameter integer PSUM_W = 20,
    parameter integer ROW_W  = 3,              // width of wl_row
    parameter integer MUL_DSP = 1,             // 0, 1: passed to nnf_pe; 2: iCE40 column
                                               // pairs (nnf_pe2_ice40; COLS even); 3: the
                                               // product registered (nnf_pe_ecp5); 4: iCE40
                                               // pairs, one weight bank in the SB_MAC16's A
                                               // register, the products registered in it
    parameter integer LUT_ROWS = 0,            // MUL_DSP = 3: the last LUT_ROWS rows' products
                                               // from LUTs (nnf_pe_ecp5 LUT_MUL)
    parameter integer DESKEW = 1               // 0: column c's sums leave COLS-1-c cycles
                                               // before LAT (nnf_accum SKEW = 1)
) (
    input  wire                     clk,
    input  wire [ROWS*8-1:0]        a_row,     // lane r = bits [8r+7:8r]
    input  wire                     a_bank,
    input  wire                     wl_en,
    input  wire [ROW_W-1:0]         wl_row,
    input  wire                     wl_bank,
    input  wire [COLS*8-1:0]        wl_data,
    output wire [COLS*PSUM_W-1:0]   sum_row    // lane c = bits [PSUM_W*c +: PSUM_W]
);
    // Horizontal activation / bank nets: ROWS x (COLS+1); vertical sums:
    // (ROWS+1) x COLS. Arrays of nets rather than flat vectors: a simulator
    // then updates one PE's link, not a bus every PE reads (Icarus ran ~40x
    // slower on flat vectors).
    // The activations and banks leaving the right edge are not used.
    /* verilator lint_off UNUSED */
    wire [7:0]        a_h [0:ROWS*(COLS+1)-1];
    wire              b_h [0:ROWS*(COLS+1)-1];
    /* verilator lint_on UNUSED */
    wire [PSUM_W-1:0] p_v [0:(ROWS+1)*COLS-1];

    genvar r, c;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : g_top
            assign p_v[c] = {PSUM_W{1'b0}};
        end

        // Input skew: lane r is delayed r cycles.
        for (r = 0; r < ROWS; r = r + 1) begin : g_skew
            if (r == 0) begin : g_direct
                assign a_h[0] = a_row[7:0];
                assign b_h[0]      = a_bank;
            end else begin : g_delay
                reg [8*r-1:0] a_sr_q;
                reg [r-1:0]   b_sr_q;
                if (r == 1) begin : g_one
                    always @(posedge clk) begin
                        a_sr_q <= a_row[8*r +: 8];
                        b_sr_q <= a_bank;
                    end
                end else begin : g_many
                    always @(posedge clk) begin
                        a_sr_q <= {a_sr_q[8*(r-1)-1:0], a_row[8*r +: 8]};
                        b_sr_q <= {b_sr_q[r-2:0], a_bank};
                    end
                end
                assign a_h[r*(COLS+1)] = a_sr_q[8*r-1 -: 8];
                assign b_h[r*(COLS+1)]          = b_sr_q[r-1];
            end
        end

        if (MUL_DSP == 2 || MUL_DSP == 4) begin : g_pairs
            // iCE40: the columns in pairs, two products per SB_MAC16
            for (r = 0; r < ROWS; r = r + 1) begin : g_row
                for (c = 0; c < COLS; c = c + 2) begin : g_col
                    nnf_pe2_ice40 #(.PSUM_W(PSUM_W), .BANKS(MUL_DSP == 4 ? 1 : 2),
                                    .MUL_REG(MUL_DSP == 4 ? 1 : 0)) u_pe2 (
                        .clk    (clk),
                        .a_i    (a_h[r*(COLS+1)+c]),
                        .bank_i (b_h[r*(COLS+1)+c]),
                        .psum0_i(p_v[r*COLS+c]),
                        .psum1_i(p_v[r*COLS+c+1]),
                        .wl_en  (wl_en && (wl_row == r[ROW_W-1:0])),
                        .wl_bank(wl_bank),
                        .wl_data(wl_data[8*c +: 16]),
                        .a_m    (a_h[r*(COLS+1)+c+1]),
                        .bank_m (b_h[r*(COLS+1)+c+1]),
                        .a_o    (a_h[r*(COLS+1)+c+2]),
                        .bank_o (b_h[r*(COLS+1)+c+2]),
                        .psum0_o(p_v[(r+1)*COLS+c]),
                        .psum1_o(p_v[(r+1)*COLS+c+1])
                    );
                end
            end
        end else if (MUL_DSP == 3) begin : g_pes_reg
            // ECP5: the product registered twice (MULT18X18D's own registers)
            for (r = 0; r < ROWS; r = r + 1) begin : g_row
                for (c = 0; c < COLS; c = c + 1) begin : g_col
                    nnf_pe_ecp5 #(.PSUM_W(PSUM_W), .LUT_MUL((r >= ROWS - LUT_ROWS) ? 1 : 0)) u_pe (
                        .clk    (clk),
                        .a_i    (a_h[r*(COLS+1)+c]),
                        .bank_i (b_h[r*(COLS+1)+c]),
                        .psum_i (p_v[r*COLS+c]),
                        .wl_en  (wl_en && (wl_row == r[ROW_W-1:0])),
                        .wl_bank(wl_bank),
                        .wl_data(wl_data[8*c +: 8]),
                        .a_o    (a_h[r*(COLS+1)+c+1]),
                        .bank_o (b_h[r*(COLS+1)+c+1]),
                        .psum_o (p_v[(r+1)*COLS+c])
                    );
                end
            end
        end else begin : g_pes
            for (r = 0; r < ROWS; r = r + 1) begin : g_row
                for (c = 0; c < COLS; c = c + 1) begin : g_col
                    nnf_pe #(.PSUM_W(PSUM_W), .MUL_DSP(MUL_DSP)) u_pe (
                        .clk    (clk),
                        .a_i    (a_h[r*(COLS+1)+c]),
                        .bank_i (b_h[r*(COLS+1)+c]),
                        .psum_i (p_v[r*COLS+c]),
                        .wl_en  (wl_en && (wl_row == r[ROW_W-1:0])),
                        .wl_bank(wl_bank),
                        .wl_data(wl_data[8*c +: 8]),
                        .a_o    (a_h[r*(COLS+1)+c+1]),
                        .bank_o (b_h[r*(COLS+1)+c+1]),
                        .psum_o (p_v[(r+1)*COLS+c])
                    );
                end
            end
        end

        // Output de-skew: column c leaves the array in cycle t + ROWS + c;
        // delay it COLS-1-c cycles so the whole row appears in t + LAT
        // (DESKEW = 0: not delayed, the accumulators take each column as
        // it comes).
        for (c = 0; c < COLS; c = c + 1) begin : g_deskew
            localparam integer D = (DESKEW != 0) ? COLS - 1 - c : 0;
            wire [PSUM_W-1:0] bottom = p_v[ROWS*COLS+c];
            if (D == 0) begin : g_direct
                assign sum_row[PSUM_W*c +: PSUM_W] = bottom;
            end else begin : g_delay
                reg [PSUM_W*D-1:0] sr_q;
                if (D == 1) begin : g_one
                    always @(posedge clk) sr_q <= bottom;
                end else begin : g_many
                    always @(posedge clk) sr_q <= {sr_q[PSUM_W*(D-1)-1:0], bottom};
                end
                assign sum_row[PSUM_W*c +: PSUM_W] = sr_q[PSUM_W*D-1 -: PSUM_W];
            end
        end
    endgenerate

endmodule

`default_nettype wire
