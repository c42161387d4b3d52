// nnf_insn_check: the micro-program's instruction limits, checked before an
// instruction has any side effect (docs/protocol.md, "Refused
// instructions"). The definition is the functional model's:
//   GEMM  nnfm_engine_check   (sim/model/nnfm_engine.c): lo <= hi; then,
//         unless m = 0 or n = 0, every word of A, O, W and P inside its
//         buffer and A, O disjoint. (The per-lane m0/shift check needs the
//         P buffer: nnf_gemm does it, cmd_check.)
//   LIF   run_lif             (sim/model/nnfm_device.c): unless m = 0 or
//         n = 0, the currents, the spikes (NT*m ACT words each, NT =
//         ceil(n / ROWS)) and the state entries s_base .. s_base + m*n - 1
//         inside their buffers, and currents and spikes equal or disjoint.
//
// Protocol: fields held stable from `start` (a one-cycle pulse) until
// `done` (a one-cycle pulse, 18 cycles later) with `ok`
// valid in the same cycle. The three products a range needs (tiles x rows)
// are made by serial shift-add multipliers, most significant bit first, one
// bit per cycle, saturating above 2^(DW+1) (DW: the widest buffer's address
// width), so the whole check is narrow adders and no DSP.
`default_nettype none

module nnf_insn_check #(
    parameter integer ROWS        = 8,
    parameter integer ACT_WORDS   = 32768,
    parameter integer W_WORDS     = 16384,
    parameter integer P_WORDS     = 64,
    parameter integer STATE_WORDS = 16384    // 0: no LIF core (LIF is never checked)
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire        is_lif,      // 0: GEMM fields, 1: LIF fields
    input  wire [15:0] m,
    input  wire [15:0] k,           // GEMM only
    input  wire [15:0] n,
    input  wire [31:0] a_base,
    input  wire [31:0] w_base,      // GEMM only
    input  wire [31:0] p_base,      // GEMM: P entry; LIF: s_base (first STATE entry)
    input  wire [31:0] o_base,
    input  wire [7:0]  lo,          // GEMM only, int8
    input  wire [7:0]  hi,
    output reg         done,
    output reg         ok
);
    localparam integer LOG_R  = $clog2(ROWS);
    localparam integer ACT_AW = $clog2(ACT_WORDS);
    localparam integer W_AW   = $clog2(W_WORDS);
    localparam integer P_AW   = $clog2(P_WORDS);
    localparam integer S_AW   = (STATE_WORDS > 1) ? $clog2(STATE_WORDS) : 1;
    localparam integer DW0    = (ACT_AW > W_AW) ? ACT_AW : W_AW;
    localparam integer DW1    = (DW0 > S_AW) ? DW0 : S_AW;
    localparam integer DW     = (DW1 > P_AW) ? DW1 : P_AW;
    localparam integer CW     = DW + 2;          // product width; >= 2^(DW+1) is "big"
    localparam integer XW     = (CW > 17) ? CW : 17;

    // ---- tile counts (combinational from the held fields) ----
    wire [16:0] k_round = ({1'b0, k} + (ROWS[16:0] - 17'd1)) >> LOG_R;
    wire [16:0] n_round = ({1'b0, n} + (ROWS[16:0] - 17'd1)) >> LOG_R;
    wire [15:0] kt = (k == 16'd0) ? 16'd1 : k_round[15:0];   // bit 16 is 0 (ROWS >= 2)
    wire [15:0] nt = n_round[15:0];
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_round = &{1'b0, k_round[16], n_round[16]};
    /* verilator lint_on UNUSEDSIGNAL */
    wire        empty = (m == 16'd0) || (n == 16'd0);

    // ---- the three products: x * y, y's bits from the top ----
    //   GEMM: p1 = kt*m (A words), p2 = nt*m (O words), p3 = nt*kt (W tiles)
    //   LIF:  p1 = p2 = nt*m (currents and spikes),     p3 = m*n (entries)
    wire [15:0] x1 = m,  y1 = is_lif ? nt : kt;
    wire [15:0] x2 = m,  y2 = nt;
    wire [15:0] x3 = is_lif ? m : kt, y3 = is_lif ? n : nt;

    reg  [4:0]    cnt;              // 0..15: multiply bit 15-cnt; 16, 17: compare
    reg           run;
    reg  [CW-1:0] p1, p2, p3;
    reg           big1, big2, big3;
    wire [3:0]    bit_i = 4'd15 - cnt[3:0];

    // acc' = 2*acc + (b ? x : 0), saturating: big once it reaches 2^CW
    function automatic [CW:0] mac_step(input [CW-1:0] acc, input b, input [15:0] x);
        reg [CW+16:0] s;
        begin
            s = {17'd0, acc} + {17'd0, acc} + (b ? {{(CW+1){1'b0}}, x} : {(CW+17){1'b0}});
            mac_step = {|s[CW+16:CW], s[CW-1:0]};
        end
    endfunction
    wire [CW:0] s1 = mac_step(p1, y1[bit_i], x1);
    wire [CW:0] s2 = mac_step(p2, y2[bit_i], x2);
    wire [CW:0] s3 = mac_step(p3, y3[bit_i], x3);

    // ---- bases inside their buffers ----
    wire a_in = (a_base >> ACT_AW) == 32'd0;
    wire o_in = (o_base >> ACT_AW) == 32'd0;
    wire w_in = (w_base >> W_AW) == 32'd0;
    wire p_in = (p_base >> P_AW) == 32'd0;
    wire s_in = (p_base >> S_AW) == 32'd0 && STATE_WORDS > 1;

    // room left in each buffer from its base (<= 2^DW, fits CW bits)
    wire [CW-1:0] a_room = ACT_WORDS[CW-1:0] - {{(CW-ACT_AW){1'b0}}, a_base[ACT_AW-1:0]};
    wire [CW-1:0] o_room = ACT_WORDS[CW-1:0] - {{(CW-ACT_AW){1'b0}}, o_base[ACT_AW-1:0]};
    wire [CW-1:0] w_room = (W_WORDS[CW-1:0] - {{(CW-W_AW){1'b0}}, w_base[W_AW-1:0]}) >> LOG_R;
    wire [CW-1:0] p_room = P_WORDS[CW-1:0] - {{(CW-P_AW){1'b0}}, p_base[P_AW-1:0]};
    wire [CW-1:0] s_room = STATE_WORDS[CW-1:0] - {{(CW-S_AW){1'b0}}, p_base[S_AW-1:0]};
    wire [XW-1:0] nt_x     = {{(XW-16){1'b0}}, nt};
    wire [XW-1:0] p_room_x = {{(XW-CW){1'b0}}, p_room};

    // first compare cycle (registered): each range, and the two range ends
    reg           r_a, r_o, r_3, r_p, r_lohi, r_empty, r_same;
    reg  [CW-1:0] a_end, o_end;
    reg  [ACT_AW-1:0] a_lo, o_lo;
    wire          a_before_o_end = {{(CW-ACT_AW){1'b0}}, a_lo} < o_end;
    wire          o_before_a_end = {{(CW-ACT_AW){1'b0}}, o_lo} < a_end;

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            run <= 1'b0;
            ok  <= 1'b0;
        end else if (start) begin
            run  <= 1'b1;
            cnt  <= 5'd0;
            p1   <= {CW{1'b0}};
            p2   <= {CW{1'b0}};
            p3   <= {CW{1'b0}};
            big1 <= 1'b0;
            big2 <= 1'b0;
            big3 <= 1'b0;
        end else if (run) begin
            cnt <= cnt + 5'd1;
            if (!cnt[4]) begin
                p1 <= s1[CW-1:0];  big1 <= big1 | s1[CW];
                p2 <= s2[CW-1:0];  big2 <= big2 | s2[CW];
                p3 <= s3[CW-1:0];  big3 <= big3 | s3[CW];
            end else if (cnt == 5'd16) begin
                r_a     <= a_in && !big1 && (p1 <= a_room);
                r_o     <= o_in && !big2 && (p2 <= o_room);
                r_3     <= is_lif ? (s_in && !big3 && (p3 <= s_room))
                                  : (w_in && !big3 && (p3 <= w_room));
                r_p     <= is_lif || (p_in && (nt_x <= p_room_x));
                r_lohi  <= is_lif || ($signed(lo) <= $signed(hi));
                r_empty <= empty;
                r_same  <= is_lif && (a_base[ACT_AW-1:0] == o_base[ACT_AW-1:0]);
                a_end   <= {{(CW-ACT_AW){1'b0}}, a_base[ACT_AW-1:0]} + p1;
                o_end   <= {{(CW-ACT_AW){1'b0}}, o_base[ACT_AW-1:0]} + p2;
                a_lo    <= a_base[ACT_AW-1:0];
                o_lo    <= o_base[ACT_AW-1:0];
            end else begin
                run  <= 1'b0;
                done <= 1'b1;
                ok   <= r_lohi && (r_empty || (r_a && r_o && r_3 && r_p &&
                                               (r_same || !(a_before_o_end && o_before_a_end))));
            end
        end
    end
endmodule

`default_nettype wire
