// nnf_insn_check: the micro-program's instruction limits, checked before an
// instruction has any side effect (docs/protocol.md, "Refused
// instructions"). The definition is the functional model's:
//   GEMM  nnfm_engine_check   (sim/model/nnfm_engine.c): lo <= hi; then,
//         unless m = 0 or n = 0, every word of A, O, W and P inside its
//         buffer and A, O disjoint. (The per-lane m0/shift check needs the
//         P buffer: nnf_gemm does it, chk_start.)
//   LIF   run_lif             (sim/model/nnfm_device.c): unless m = 0 or
//         n = 0, the currents, the spikes (NT*m ACT words each, NT =
//         ceil(n / ROWS)) and the state entries s_base .. s_base + m*n - 1
//         inside their buffers, and currents and spikes equal or disjoint.
//
// Protocol: the fields are held stable from `start` (a one-cycle pulse)
// until `done` (a one-cycle pulse, 3*min(CW, 17) + 7 cycles later: 40 at
// the iCEBreaker's buffer sizes, 58 at the simulator's) with `ok` valid in
// the same cycle.
//
// One CW+2-bit adder does everything, a step per cycle (small parts have no
// room for more): three products by shift-and-add, most significant bit
// first (tiles x rows, saturating: "big" once >= 2^CW, which no buffer
// holds), then each range's end (base + words) against its buffer's size,
// then the two comparisons of the A/O overlap.
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
    localparam integer CW     = DW + 2;                        // >= 2^CW: "big"
    localparam integer AW     = CW + 2;                        // adder width
    localparam integer XW     = (CW > 17) ? CW : 17;           // operands, extended
    localparam integer YB     = (CW < 17) ? CW : 17;           // multiplier bits to visit

    // ---- operands of the products, saturated to CW bits + a big flag ----
    // kt = max(1, ceil(k / ROWS)), nt = ceil(n / ROWS)
    wire [15:0] k_hi = k >> LOG_R, n_hi = n >> LOG_R;
    wire        k_rem = (k & (ROWS[15:0] - 16'd1)) != 16'd0;
    wire        n_rem = (n & (ROWS[15:0] - 16'd1)) != 16'd0;
    // registered at start (off the adder's path; the fields are held)
    wire [16:0] kt17_d = (k == 16'd0) ? 17'd1 : {1'b0, k_hi} + {16'd0, k_rem};
    wire [16:0] nt17_d = {1'b0, n_hi} + {16'd0, n_rem};
    reg  [16:0] kt17_q, nt17_q;
    reg         empty_q;
    always @(posedge clk) begin
        if (start) begin
            kt17_q  <= kt17_d;
            nt17_q  <= nt17_d;
            empty_q <= (m == 16'd0) || (n == 16'd0);
        end
    end

    //   GEMM: p1 = m*kt (A words), p2 = m*nt (O words), p3 = kt*nt (W tiles)
    //   LIF:  p1 = p2 = m*nt (currents, spikes),        p3 = m*n (entries)
    reg  [1:0]  ph_q;                 // product being made (0..2), or 3: the rest
    // The operands of the product about to start (x times y; the products
    // are A: m * kt (LIF: m * nt), O: m * nt, W: kt * nt (LIF: m * n)),
    // loaded into x_q / y_q when it starts so that no operand mux sits on
    // the adder's path: y_q shifts left, its top bit is the multiplier bit
    // of this step (st_q).
    wire [16:0] x17 = (start || is_lif || ph_q != 2'd1) ? {1'b0, m} : kt17_q;  // product ph_q + 1
    wire [16:0] y17 = start        ? (is_lif ? nt17_d : kt17_d)
                    : (ph_q == 2'd0) ? nt17_q
                    : (is_lif ? {1'b0, n} : nt17_q);
    wire [XW-1:0] x_ext = {{(XW-17){1'b0}}, x17};
    wire [XW-1:0] y_ext = {{(XW-17){1'b0}}, y17};
    wire [XW-1:0] nt_ext = {{(XW-17){1'b0}}, nt17_q};
    wire          xy_big = ((x_ext >> CW) != {XW{1'b0}}) || ((y_ext >> CW) != {XW{1'b0}});
    wire          nt_big = (nt_ext >> CW) != {XW{1'b0}};
    reg  [CW-1:0] x_q;                // multiplicand (low CW bits)
    reg  [YB-1:0] y_q;                // multiplier bits not yet visited, next at the top
    reg           xy_big_q;           // an operand >= 2^CW

    // ---- the sequence ----
    reg           run_q;
    reg  [4:0]    st_q;               // bit (products) or step (the rest)
    reg  [CW-1:0] acc_q, p_a_q, p_o_q;    // product; A end; O end
    reg           big_q, big_a_q, big_o_q;
    reg           r_ok_q;             // every range so far inside its buffer
    reg           a_lt_q;             // a_base < o_end

    // bases: all 32 bits count
    wire a_in = (a_base >> ACT_AW) == 32'd0;
    wire o_in = (o_base >> ACT_AW) == 32'd0;
    wire w_in = (w_base >> W_AW) == 32'd0;
    wire p_in = (p_base >> P_AW) == 32'd0;
    wire s_in = ((p_base >> S_AW) == 32'd0) && (STATE_WORDS > 1);
    wire [AW-1:0] a_lo = {{(AW-ACT_AW){1'b0}}, a_base[ACT_AW-1:0]};
    wire [AW-1:0] o_lo = {{(AW-ACT_AW){1'b0}}, o_base[ACT_AW-1:0]};
    wire [AW-1:0] w_lo = {{(AW-W_AW){1'b0}}, w_base[W_AW-1:0]};
    wire [AW-1:0] p_lo = {{(AW-P_AW){1'b0}}, p_base[P_AW-1:0]};
    wire [AW-1:0] s_lo = {{(AW-S_AW){1'b0}}, p_base[S_AW-1:0]};

    // steps after the products (ph_q = 3):
    localparam [4:0] S_AEND = 5'd0, S_OEND = 5'd1, S_WS = 5'd2, S_P = 5'd3,
                     S_ALT = 5'd4, S_OLT = 5'd5;
    // W words = tiles * ROWS: the shift may make the count big
    wire          w_sh_big = (acc_q >> (CW - LOG_R)) != {CW{1'b0}};
    wire [AW-1:0] acc_w    = {{(AW-CW){1'b0}}, acc_q << LOG_R};
    // The range steps' operands, registered a step ahead (ra_q, rb_q) so
    // that no step decode sits on the adder's path. Each step's inputs are
    // final a step before it: p_a_q / p_o_q after their products (and
    // S_AEND / S_OEND, which S_OLT / S_ALT read), acc_q after the last one.
    wire [4:0]    r_next = (ph_q != 2'd3) ? S_AEND : st_q + 5'd1;
    reg  [AW-1:0] r_opa, r_opb;
    always @(*) begin
        case (r_next)
            S_AEND:  begin r_opa = {2'b00, p_a_q};  r_opb = a_lo; end
            S_OEND:  begin r_opa = {2'b00, p_o_q};  r_opb = o_lo; end
            S_WS:    begin r_opa = is_lif ? {2'b00, acc_q} : acc_w; r_opb = is_lif ? s_lo : w_lo; end
            S_P:     begin r_opa = {2'b00, nt_ext[CW-1:0]}; r_opb = p_lo; end
            S_ALT:   begin r_opa = {2'b00, p_o_q};  r_opb = ~a_lo; end      // o_end - a_base - 1
            default: begin r_opa = {2'b00, p_a_q};  r_opb = ~o_lo; end      // a_end - o_base - 1
        endcase
    end
    reg  [AW-1:0] ra_q, rb_q;
    always @(posedge clk) begin
        ra_q <= r_opa;
        rb_q <= r_opb;
    end

    // products: acc = 2*acc + (bit ? x : 0); range steps: the registered pair
    wire [AW-1:0] opa = (ph_q == 2'd3) ? ra_q : {{(AW-CW-1){1'b0}}, acc_q, 1'b0};
    wire [AW-1:0] opb = (ph_q == 2'd3) ? rb_q
                      : (y_q[YB-1] ? {{(AW-CW){1'b0}}, x_q} : {AW{1'b0}});
    wire [AW-1:0] sum = opa + opb;
    wire          sum_big = (sum >> CW) != {AW{1'b0}};

    // s <= 2^bits (a range's end inside a buffer of 2^bits words), bits < AW
    function automatic fits(input [AW-1:0] s, input integer bits);
        reg [AW-1:0] top, low;
        begin
            top  = s >> bits;
            low  = s << (AW - bits);
            fits = (top == {AW{1'b0}}) ||
                   ((top == {{(AW-1){1'b0}}, 1'b1}) && (low == {AW{1'b0}}));
        end
    endfunction

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            run_q <= 1'b0;
            ok  <= 1'b0;
        end else if (start) begin
            run_q  <= 1'b1;
            ph_q   <= 2'd0;
            st_q   <= YB[4:0] - 5'd1;
            acc_q  <= {CW{1'b0}};
            big_q  <= 1'b0;
            r_ok_q <= 1'b1;
            x_q      <= x_ext[CW-1:0];
            y_q      <= y_ext[YB-1:0];
            xy_big_q <= xy_big;
        end else if (run_q) begin
            if (ph_q != 2'd3) begin                           // one product bit
                acc_q <= sum[CW-1:0];
                big_q <= big_q || sum_big || xy_big_q;
                y_q   <= y_q << 1;
                if (st_q == 5'd0) begin
                    if (ph_q == 2'd0) begin p_a_q <= sum[CW-1:0]; big_a_q <= big_q || sum_big || xy_big_q; end
                    if (ph_q == 2'd1) begin p_o_q <= sum[CW-1:0]; big_o_q <= big_q || sum_big || xy_big_q; end
                    ph_q  <= ph_q + 2'd1;
                    st_q  <= (ph_q == 2'd2) ? S_AEND : YB[4:0] - 5'd1;
                    if (ph_q != 2'd2) begin
                        acc_q    <= {CW{1'b0}};
                        big_q    <= 1'b0;
                        x_q      <= x_ext[CW-1:0];
                        y_q      <= y_ext[YB-1:0];
                        xy_big_q <= xy_big;
                    end
                end else begin
                    st_q <= st_q - 5'd1;
                end
            end else begin
                st_q <= st_q + 5'd1;
                case (st_q)
                    S_AEND: begin
                        r_ok_q <= r_ok_q && a_in && !big_a_q && fits(sum, ACT_AW);
                        p_a_q  <= sum[CW-1:0];
                    end
                    S_OEND: begin
                        r_ok_q <= r_ok_q && o_in && !big_o_q && fits(sum, ACT_AW);
                        p_o_q  <= sum[CW-1:0];
                    end
                    S_WS:   r_ok_q <= r_ok_q && !big_q && (is_lif ? (s_in && fits(sum, S_AW))
                                                            : (w_in && !w_sh_big && fits(sum, W_AW)));
                    S_P:    r_ok_q <= r_ok_q && (is_lif || (p_in && !nt_big && fits(sum, P_AW)));
                    S_ALT:  a_lt_q <= !sum[AW-1];
                    S_OLT: begin
                        run_q  <= 1'b0;
                        done <= 1'b1;
                        ok   <= (is_lif || ($signed(lo) <= $signed(hi))) &&
                                (empty_q || (r_ok_q && (!(a_lt_q && !sum[AW-1]) ||
                                                    (is_lif && a_base[ACT_AW-1:0] == o_base[ACT_AW-1:0]))));
                    end
                    default: ;
                endcase
            end
        end
    end
endmodule

`default_nettype wire
