// nnf_uart_rx: UART receiver (8N1, LSB first) with whole-bit integration.
//
// The line is synchronised (two flip-flops), then every bit is decided by a
// majority over all `div` samples of its bit time (integrate and dump): a
// glitch covering under half its samples cannot flip a bit whose window it
// falls in, as long as the window is aligned with the sender's bit to within
// (0.5 - glitch) bits. Windows are timed from the first low sample of the
// start bit; a start bit whose majority is high is a false start (a glitch
// on the idle line) and is dropped. The stop bit is judged on the middle half
// of its window (samples div/4 .. 3div/4-1), and the receiver hunts again
// from 3/4 of it, so a sender ~2 % slow or fast never loses the next start
// edge or moves the stop bit out of its window. A low stop bit is a framing
// error: the byte is dropped, `frame_err` pulses, and the receiver waits for
// the line to go high (a BREAK is one error, not a stream of zero bytes).
//
// div: clocks per bit, >= 4 (e.g. 24 MHz / 3 Mbaud = 8); hold it steady
// while `busy` (a board ties it to a constant, which Yosys then folds).
//
// Alignment, in samples: at the exact rate every window lies inside its
// sender bit (both edges pass the same synchroniser), so a glitch covering
// fewer than div/2 samples is harmless (div 8: up to 3 clocks, 0.37 bit).
// A sender off by r drifts r * 8.5 * div samples by the last data bit, and
// the glitch must stay under div/2 minus that drift minus one (div 16 at
// 2 %: 4 samples, 0.25 bit; div 8 at 2 %: about 1 sample). On the idle line
// a low glitch covering fewer than half the samples of a bit (a pulse of L
// clocks covers at most L + 1) never starts a byte.
`default_nettype none

module nnf_uart_rx #(
    parameter integer DIV_W = 16
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [DIV_W-1:0] div,
    input  wire             rxd,         // asynchronous line, idle high
    output reg              out_valid,   // one-cycle strobe with out_data
    output reg  [7:0]       out_data,
    output reg              frame_err,   // one-cycle strobe: stop bit low
    output wire             busy         // inside a character
);
    reg             s1_q, s2_q;          // synchroniser
    reg  [1:0]      st_q;                // idle, bits, wait-high
    reg  [3:0]      bit_q;               // 0 start, 1..8 data, 9 stop
    reg [DIV_W-1:0] cnt_q;               // sample index within the bit
    reg [DIV_W-1:0] ones_q;              // high samples so far in this bit
    reg  [7:0]      sh_q;

    localparam [1:0] S_IDLE = 2'd0, S_BITS = 2'd1, S_WAITH = 2'd2;

    wire             stop_bit = (bit_q == 4'd9);
    // a window ends after div samples (the stop bit: after 3div/4, and only
    // samples div/4 .. 3div/4-1 count)
    wire [DIV_W-1:0] quarter  = div >> 2;
    wire [DIV_W-1:0] win_last = stop_bit ? (div >> 1) + quarter - 1'b1 : div - 1'b1;
    wire             counts   = !stop_bit || (cnt_q >= quarter);
    wire             inc      = s2_q && counts;
    wire [DIV_W-1:0] ones_d   = ones_q + {{(DIV_W-1){1'b0}}, inc};
    // a bit is high on a strict majority of its counted samples: ones_d >
    // div/2 (the stop bit: > div/4); a start bit needs a strict majority of
    // low samples: ones_d < div - div/2, so a low glitch of up to half a bit
    // on the idle line is a false start. Each compare is taken apart on inc,
    // ones_q against a constant of the board's div (a LUT), with no adder's
    // carry in front of it.
    wire [DIV_W-1:0] half_b   = div >> 1;
    wire [DIV_W-1:0] lows     = div - half_b;                 // >= 2 (div >= 4)
    wire             gt_q4    = (ones_q > quarter) || (inc && ones_q == quarter);
    wire             gt_h     = (ones_q > half_b)  || (inc && ones_q == half_b);
    wire             bit_val  = stop_bit ? gt_q4 : gt_h;
    wire             start_ok = inc ? (ones_q < lows - 1'b1) : (ones_q < lows);

    assign busy = (st_q != S_IDLE);

    always @(posedge clk) begin
        out_valid <= 1'b0;
        frame_err <= 1'b0;
        if (rst) begin
            s1_q   <= 1'b1;
            s2_q   <= 1'b1;
            st_q   <= S_IDLE;
            bit_q  <= 4'd0;
            cnt_q  <= {DIV_W{1'b0}};
            ones_q <= {DIV_W{1'b0}};
            sh_q   <= 8'd0;
            out_data <= 8'd0;
        end else begin
            s1_q <= rxd;
            s2_q <= s1_q;
            case (st_q)
                S_IDLE: if (!s2_q) begin           // first low sample of a start bit
                    st_q   <= S_BITS;
                    bit_q  <= 4'd0;
                    cnt_q  <= {{(DIV_W-1){1'b0}}, 1'b1};
                    ones_q <= {DIV_W{1'b0}};
                end
                S_BITS: begin
                    if (cnt_q == win_last) begin
                        cnt_q  <= {DIV_W{1'b0}};
                        ones_q <= {DIV_W{1'b0}};
                        bit_q  <= bit_q + 4'd1;
                        if (bit_q == 4'd0) begin
                            if (!start_ok) st_q <= S_IDLE;        // false start
                        end else if (!stop_bit) begin
                            sh_q <= {bit_val, sh_q[7:1]};
                        end else if (bit_val) begin
                            out_valid <= 1'b1;
                            out_data  <= sh_q;
                            st_q      <= S_IDLE;
                        end else begin
                            frame_err <= 1'b1;
                            st_q      <= S_WAITH;
                        end
                    end else begin
                        cnt_q  <= cnt_q + 1'b1;
                        ones_q <= ones_d;
                    end
                end
                default: if (s2_q) st_q <= S_IDLE;  // S_WAITH: line high again
            endcase
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md; tests/formal). Proved by
    // k-induction at DIV_W 4 (every div 4..15, held constant), for any
    // line (rxd is free):
    //  - out_valid and frame_err are one-cycle strobes, never together, and
    //    come only from the end of a stop-bit window;
    //  - it never hangs: once the line has been high for 10 div cycles the
    //    receiver is idle (a character in progress, a false start or a
    //    framing error's wait for the line all end).
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);
    reg [DIV_W-1:0] f_div_q;          // div is a constant (a board ties it)
    always @(posedge clk) f_div_q <= div;
    always @(*) if (f_past_valid) assume(div == f_div_q);
    always @(*) assume(div >= 4);

    // consecutive cycles the line has been high (saturating)
    reg [7:0] f_high;
    always @(posedge clk) f_high <= !rxd ? 8'd0 : (f_high == 8'hFF) ? f_high : f_high + 8'd1;

    // the previous cycle ended a stop-bit window
    reg f_stop_end;
    always @(posedge clk)
        f_stop_end <= !rst && st_q == S_BITS && stop_bit && cnt_q == win_last;

    wire [11:0] f_div12 = {{(12-DIV_W){1'b0}}, div};
    wire [11:0] f_bound = (f_div12 << 3) + (f_div12 << 1);     // 10 div
    always @(*) if (f_past_valid && !rst) begin
        assert(!(out_valid && frame_err));
        if (out_valid || frame_err) assert(f_stop_end);
        if (busy) assert({4'd0, f_high} <= f_bound);    // never hangs
    end
    always @(posedge clk) if (f_past_valid && !rst && !$past(rst)) begin
        if ($past(out_valid)) assert(!out_valid);
        if ($past(frame_err)) assert(!frame_err);
    end
`ifndef FORMAL_PORTS_ONLY
    // strengthening for the induction: f_high <= cycles since the start
    // bit's first low sample + 1
    reg  [11:0] f_bits_before;        // bit_q * div, in shifts and adds
    always @(*) begin
        case (bit_q)
            4'd0:    f_bits_before = 12'd0;
            4'd1:    f_bits_before = f_div12;
            4'd2:    f_bits_before = f_div12 << 1;
            4'd3:    f_bits_before = (f_div12 << 1) + f_div12;
            4'd4:    f_bits_before = f_div12 << 2;
            4'd5:    f_bits_before = (f_div12 << 2) + f_div12;
            4'd6:    f_bits_before = (f_div12 << 2) + (f_div12 << 1);
            4'd7:    f_bits_before = (f_div12 << 3) - f_div12;
            4'd8:    f_bits_before = f_div12 << 3;
            default: f_bits_before = (f_div12 << 3) + f_div12;
        endcase
    end
    wire [11:0] f_elapsed = f_bits_before + {{(12-DIV_W){1'b0}}, cnt_q};
    wire [11:0] f_stop_len = (f_div12 << 3) + f_div12 + {{(12-DIV_W){1'b0}}, (div >> 1) + (div >> 2)};
    always @(*) if (f_past_valid && !rst) begin
        assert(st_q != 2'd3);
        if (st_q == S_BITS) begin
            assert(bit_q <= 4'd9);
            assert(cnt_q <= win_last);
            assert({4'd0, f_high} <= f_elapsed + 12'd1);
        end
        if (st_q == S_WAITH) assert({4'd0, f_high} <= f_stop_len + 12'd1);
    end
`endif
`endif
endmodule

`default_nettype wire
