// nnf_vu_actw: ACTW (docs/attention.md, docs/protocol.md): an int8 tensor
// in ACT becomes a GEMM's weights in W, bit for bit nnfm_engine_actw
// (sim/model/nnfm_engine.c). A is M rows of N channels in the activation
// layout (row m is the words a_base + ct*M + m); B is written in the weight
// layout (docs/engine.md), word w_base + (nt*KT + kt)*ROWS + r holding row
// k = kt*ROWS + r, lanes n = nt*ROWS + c:
//
//   c_tr = 0: B = A   (K = M, N' = N: attention's V for P V)
//   c_tr = 1: B = A^T (K = N, N' = M: attention's K for Q K^T)
//
// entries outside A written 0. With c_sum, after each N' tile nt the
// biases of P entry p_base + nt become -za * (the tile's column sums of B).
//
// Both cases are one walk over ROWS x ROWS byte tiles of A: tile (X, Y)
// is the ROWS words a_base + X*M + Y*ROWS + j (j < ROWS; rows Y*ROWS + j
// >= M read as 0, lanes X*ROWS + c >= N masked to 0). Untransposed, W's
// tile (nt, kt) is A's tile (X, Y) = (nt, kt) as it lies (word r = A's
// word r); transposed it is A's tile (kt, nt) turned (byte j of word r =
// byte r of A's word j). The tiles go in W's order, nt outer, kt inner, so
// W's words are written one after the other from w_base. A tile takes
//   1 cycle (its lane mask), ROWS cycles issuing the reads (a read is a
//   flop, its word arrives two cycles later and is shifted into a ROWS x
//   ROWS byte buffer), 2 cycles for the last word, ROWS cycles writing
// 2*ROWS + 3 cycles; each nt then takes 1 more (the P write), with c_sum
// 10 (a 9-step shift-and-add multiply of every lane's sum by -za first).
// With CX = ceil(N/ROWS), CY = ceil(M/ROWS), done is high in cycle
// CX*CY*(2*ROWS + 3) + NT'*(c_sum ? 10 : 1) + 2 after start (NT' = CY
// transposed, CX otherwise; N or M 0: cycle 2).
//
// start is a one-cycle pulse while idle; the c_* fields are held from start
// until done. busy is high from the cycle after start until done, done a
// one-cycle pulse. The unit runs while the engine is idle (the sequencer
// starts it then): its ACT reads go through the engine's word port (act_*),
// its W and P writes through nnf_bufs' own ports for them (w_*, p_*; a
// host write to W or P waits in those cycles). abort (a one-cycle pulse
// while busy) ends the command at the next step: the words written so far
// are whole. rst drops everything in flight.
`default_nettype none

module nnf_vu_actw #(
    parameter integer ROWS   = 8,        // == COLS
    parameter integer ACT_AW = 15,
    parameter integer W_AW   = 14,
    parameter integer P_AW   = 6
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    /* verilator lint_off SYMRSVDWORD */
    input  wire              abort,
    /* verilator lint_on SYMRSVDWORD */
    input  wire              c_tr,      // B = A^T
    input  wire              c_sum,     // write the biases
    input  wire [7:0]        c_za,      // int8: bias = -za * column sum
    input  wire [15:0]       c_n,       // A's channels
    input  wire [15:0]       c_m,       // A's rows
    input  wire [ACT_AW-1:0] c_a_base,
    input  wire [W_AW-1:0]   c_w_base,
    input  wire [P_AW-1:0]   c_p_base,
    output reg               busy,
    output reg               done,
    output reg               act_re,
    output reg  [ACT_AW-1:0] act_ra,
    input  wire [ROWS*8-1:0] act_rd,    // two cycles after act_re is set (held)
    output reg               w_we,      // a whole W word
    output reg  [W_AW-1:0]   w_wa,
    output reg  [ROWS*8-1:0] w_wd,
    output reg               p_we,      // the biases of a P entry, lane c at [32c +: 32]
    output reg  [P_AW-1:0]   p_wa,
    output reg  [ROWS*32-1:0] p_wd
);
    localparam integer LR = $clog2(ROWS);
    localparam integer WB = ROWS * 8;            // a word's bits

    generate
        if (ROWS < 2 || (1 << LR) != ROWS) begin : g_bad_rows
            nnf_vu_actw_bad_parameter_ROWS_must_be_a_power_of_two u_bad();
        end
    endgenerate

    localparam [2:0] S_IDLE  = 3'd0,
                     S_TILE  = 3'd1,     // the tile's lane mask
                     S_FILL  = 3'd2,     // issue the tile's ROWS reads
                     S_FW    = 3'd3,     // the last word arrives
                     S_DRAIN = 3'd4,     // write the tile's ROWS words
                     S_MUL   = 3'd5,     // the biases: -za * sum, 9 steps
                     S_PW    = 3'd6,     // write them
                     S_END   = 3'd7;
    reg  [2:0]        st_q;
    reg               tr_q, sum_q, ab_q;
    reg  [15:0]       no_q, ni_q;        // outer and inner tile counts
    reg  [15:0]       o_q, i_q;          // the tile
    reg  [ACT_AW-1:0] rb_q, tb_q;        // the outer step's first tile, the tile's first word
    reg  [ACT_AW-1:0] si_q, so_q;        // the word steps: inner tile, outer tile
    reg  [16:0]       xb_q, yb_q;        // X*ROWS (A's channel), Y*ROWS (A's row) of the tile
    reg  [LR-1:0]     j_q;               // the read (fill) or the write (drain)
    reg  [ROWS-1:0]   mk_q;              // the tile's valid lanes
    reg  [W_AW-1:0]   wp_q;              // the next W word
    reg  [P_AW-1:0]   pp_q;              // the next P entry
    reg  [3:0]        k_q;               // the multiply's bit (8 .. 0)
    reg  [8:0]        nza_q;             // -za, 9 bits signed
    // the read's tag, two stages: a word is in flight, and it is a row of
    // A (else 0: a row >= M)
    reg               t0_q, t1_q, t0v_q, t1v_q;
    reg  [ROWS*WB-1:0] buf_q;            // the tile: word j at [WB*j +: WB]

    wire        go    = start && !busy;
    wire        stop  = ab_q || abort;
    wire [15:0] cx_d  = {{LR{1'b0}}, c_n[15:LR]} + {15'd0, (c_n[LR-1:0] != {LR{1'b0}})};
    wire [15:0] cy_d  = {{LR{1'b0}}, c_m[15:LR]} + {15'd0, (c_m[LR-1:0] != {LR{1'b0}})};
    wire [ACT_AW-1:0] m_a = c_m[ACT_AW-1:0];   // (a wider M is refused before: A fits)
    wire [ACT_AW-1:0] r_a = ROWS[ACT_AW-1:0];
    wire        row_v = ({1'b0, yb_q} + {{(18-LR){1'b0}}, j_q}) < {2'b00, c_m};
    wire        last_j = (j_q == {LR{1'b1}});
    wire        last_i = (i_q == ni_q - 16'd1);
    wire        last_o = (o_q == no_q - 16'd1);

    // the word the drain writes: the buffer's word 0, or (transposed) byte 0
    // of every word
    wire [WB-1:0] col0;
    genvar g;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_col
            assign col0[8*g +: 8] = buf_q[WB*g +: 8];
        end
    endgenerate
    wire [WB-1:0] out_w = tr_q ? col0 : buf_q[WB-1:0];
    // the buffer after a drain step: words down one, or every word's bytes
    // down one lane
    wire [ROWS*WB-1:0] buf_sh;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_sh
            if (g == ROWS - 1) begin : g_top
                assign buf_sh[WB*g +: WB] = tr_q ? {8'd0, buf_q[WB*g+8 +: WB-8]} : {WB{1'b0}};
            end else begin : g_mid
                assign buf_sh[WB*g +: WB] = tr_q ? {8'd0, buf_q[WB*g+8 +: WB-8]} : buf_q[WB*(g+1) +: WB];
            end
        end
    endgenerate
    // the tile's valid lanes: A's channel X*ROWS + c < N
    wire [ROWS-1:0] mk_d;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_mk
            assign mk_d[g] = ({1'b0, xb_q} + g) < {2'b00, c_n};
        end
    endgenerate
    // the arriving word, masked to the tile's lanes (0 for a row >= M)
    wire [WB-1:0] in_w;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_in
            assign in_w[8*g +: 8] = (t1v_q && mk_q[g]) ? act_rd[8*g +: 8] : 8'd0;
        end
    endgenerate

    // per lane: the column sum (|sum| < 2^23) and the bias being multiplied
    reg  [ROWS*24-1:0] acc_q;
    reg  [ROWS*32-1:0] pr_q;
    wire               acc_add = (st_q == S_DRAIN) && !stop;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_lane
            wire signed [23:0] a   = acc_q[24*g +: 24];
            wire signed [31:0] a32 = {{8{a[23]}}, a};
            wire signed [31:0] pr  = pr_q[32*g +: 32];
            wire               bit_k = nza_q[k_q];
            // Horner over -za's bits, bit 8 of weight -256
            wire signed [31:0] pr_d = (pr <<< 1) + (!bit_k ? 32'sd0 : (k_q == 4'd8) ? -a32 : a32);
            always @(posedge clk) begin
                if (go || (st_q == S_PW)) acc_q[24*g +: 24] <= 24'd0;
                else if (acc_add) acc_q[24*g +: 24] <= a + {{16{out_w[8*g+7]}}, out_w[8*g +: 8]};
                if (st_q == S_DRAIN) pr_q[32*g +: 32] <= 32'd0;
                else if (st_q == S_MUL) pr_q[32*g +: 32] <= pr_d;
            end
        end
    endgenerate

    always @(posedge clk) begin
        done   <= 1'b0;
        act_re <= 1'b0;
        w_we   <= 1'b0;
        p_we   <= 1'b0;
        t0_q   <= 1'b0;
        t1_q   <= t0_q;
        t1v_q  <= t0v_q;
        if (t1_q) buf_q <= {in_w, buf_q[ROWS*WB-1:WB]};   // word j lands at j after ROWS
        if (rst) begin
            busy <= 1'b0;
            st_q <= S_IDLE;
            ab_q <= 1'b0;
            t1_q <= 1'b0;
        end else if (go) begin
            busy  <= 1'b1;
            ab_q  <= 1'b0;
            tr_q  <= c_tr;
            sum_q <= c_sum;
            nza_q <= 9'd0 - {c_za[7], c_za};
            no_q  <= c_tr ? cy_d : cx_d;
            ni_q  <= c_tr ? cx_d : cy_d;
            o_q   <= 16'd0;
            i_q   <= 16'd0;
            rb_q  <= c_a_base;
            tb_q  <= c_a_base;
            si_q  <= c_tr ? m_a : r_a;
            so_q  <= c_tr ? r_a : m_a;
            xb_q  <= 17'd0;
            yb_q  <= 17'd0;
            wp_q  <= c_w_base;
            pp_q  <= c_p_base;
            st_q  <= ((c_n == 16'd0) || (c_m == 16'd0)) ? S_END : S_TILE;
        end else if (busy) begin
            if (abort) ab_q <= 1'b1;
            case (st_q)
                S_TILE: begin
                    if (stop) st_q <= S_END;
                    else begin
                        mk_q <= mk_d;
                        j_q  <= {LR{1'b0}};
                        st_q <= S_FILL;
                    end
                end
                S_FILL: begin
                    act_re <= row_v;
                    act_ra <= tb_q + {{(ACT_AW-LR){1'b0}}, j_q};
                    t0_q   <= 1'b1;
                    t0v_q  <= row_v;
                    j_q    <= j_q + 1'b1;
                    if (last_j) st_q <= S_FW;
                end
                S_FW: if (!t0_q) st_q <= S_DRAIN;          // the last word lands this cycle
                S_DRAIN: begin
                    if (stop) st_q <= S_END;
                    else begin
                        w_we  <= 1'b1;
                        w_wa  <= wp_q;
                        w_wd  <= out_w;
                        wp_q  <= wp_q + 1'b1;
                        buf_q <= buf_sh;
                        j_q   <= j_q + 1'b1;
                        if (last_j) begin                   // the tile is written
                            if (!last_i) begin
                                i_q  <= i_q + 16'd1;
                                tb_q <= tb_q + si_q;
                                if (tr_q) xb_q <= xb_q + ROWS[16:0];
                                else      yb_q <= yb_q + ROWS[16:0];
                                st_q <= S_TILE;
                            end else begin
                                k_q  <= 4'd8;
                                st_q <= sum_q ? S_MUL : S_PW;
                            end
                        end
                    end
                end
                S_MUL: begin
                    k_q <= k_q - 4'd1;
                    if (k_q == 4'd0) st_q <= S_PW;
                end
                S_PW: begin                                  // the outer step's end
                    if (sum_q && !stop) begin
                        p_we <= 1'b1;
                        p_wa <= pp_q;
                        p_wd <= pr_q;
                    end
                    pp_q <= pp_q + 1'b1;
                    if (stop || last_o) st_q <= S_END;
                    else begin
                        o_q  <= o_q + 16'd1;
                        i_q  <= 16'd0;
                        rb_q <= rb_q + so_q;
                        tb_q <= rb_q + so_q;
                        if (tr_q) begin
                            xb_q <= 17'd0;
                            yb_q <= yb_q + ROWS[16:0];
                        end else begin
                            xb_q <= xb_q + ROWS[16:0];
                            yb_q <= 17'd0;
                        end
                        st_q <= S_TILE;
                    end
                end
                S_END: begin
                    busy <= 1'b0;
                    done <= 1'b1;
                    st_q <= S_IDLE;
                end
                default: st_q <= S_IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire
