// nnf_usb_rx: the full-speed receiver, from the pins to bytes.
//
// nnf_usb_rx_sample recovers the bits (4x oversampling, resynchronised on
// every transition); here they are NRZI decoded (no transition = 1), the
// SYNC is found, nnf_usb_unstuff drops the stuffed zeros, and the bits are
// assembled into bytes, LSB first, until the EOP.
//
//  - SYNC: the line leaves idle J with a K, then alternates (decoded
//    zeros) and ends with two K's (a one). At least MIN_SYNC zeros must
//    come before that one (a hub may eat the first SYNC bits; USB allows
//    it to lose up to four of the eight): rx_start pulses and the packet
//    begins. A shorter pattern is noise: ignored until the line idles.
//  - EOP: SE0 for one to three bit times, then J. A packet whose last byte
//    is incomplete at the EOP (cut mid-byte) ends with err[1].
//  - Errors (rx_end with err != 0): err[0] bit stuffing (seven ones),
//    err[1] EOP not on a byte boundary, err[2] line (SE1, SE0 longer than
//    three bits or followed by K). A stuffing or line error ends the
//    packet at once (rx_end); the receiver then ignores the line until an
//    EOP or eight bit times of idle J.
//
// Interface: rx_start, rx_valid (with rx_data) and rx_end (with err) are
// one-cycle strobes, in that order per packet (rx_valid any number of
// times, rx_end exactly once after each rx_start); `active` is high from
// rx_start to rx_end. Registered outputs. No dribble bit is accepted.
`default_nettype none

module nnf_usb_rx #(
    parameter integer MIN_SYNC = 3          // SYNC zeros needed before its final one, 1..7
) (
    input  wire       clk,                  // 48 MHz
    input  wire       rst,
    input  wire       dp,                   // asynchronous pins
    input  wire       dm,
    output wire [1:0] line,                 // synchronised {D+, D-} (bus reset timing)
    output wire       active,
    output reg        rx_start,
    output reg        rx_valid,
    output reg  [7:0] rx_data,
    output reg        rx_end,
    output reg  [2:0] err
);
    localparam [1:0] L_J = 2'b10, L_K = 2'b01, L_SE0 = 2'b00;
    localparam [2:0] S_IDLE = 3'd0, S_SYNC = 3'd1, S_DATA = 3'd2, S_EOP = 3'd3, S_WAIT = 3'd4;

    wire       sym_valid;
    wire [1:0] sym;
    nnf_usb_rx_sample u_sample (
        .clk(clk), .rst(rst), .dp(dp), .dm(dm), .sym_valid(sym_valid), .sym(sym), .line(line));

    reg  [2:0] st_q;
    reg        lvl_q;                       // previous data symbol: 1 J, 0 K
    reg  [2:0] cnt_q;                       // SYNC zeros / SE0 bits / idle J bits (saturating)
    reg  [2:0] nbit_q;                      // bits of the byte so far
    reg  [6:0] sh_q;                        // the byte's bits so far, newest in [6]
    reg        se0_q;                       // S_WAIT: the last symbol was SE0

    wire is_jk   = (sym == L_J) || (sym == L_K);
    wire sym_lvl = (sym == L_J);
    wire dbit    = (sym_lvl == lvl_q);      // NRZI: no transition is a one

    // the unstuffer sees every decoded bit from the SYNC's first on
    wire us_in    = sym_valid && is_jk && (st_q == S_SYNC || st_q == S_DATA);
    wire us_clear = (st_q == S_IDLE);
    wire us_valid, us_bit, us_err;
    nnf_usb_unstuff u_unstuff (
        .clk(clk), .rst(rst), .clear(us_clear), .in_valid(us_in), .in_bit(dbit),
        .out_valid(us_valid), .out_bit(us_bit), .err(us_err));

    assign active = (st_q == S_DATA) || (st_q == S_EOP);

    always @(posedge clk) begin
        rx_start <= 1'b0;
        rx_valid <= 1'b0;
        rx_end   <= 1'b0;
        if (rst) begin
            st_q    <= S_IDLE;
            lvl_q   <= 1'b1;
            cnt_q   <= 3'd0;
            nbit_q  <= 3'd0;
            sh_q    <= 7'd0;
            se0_q   <= 1'b0;
            rx_data <= 8'd0;
            err     <= 3'd0;
        end else if (sym_valid) begin
            if (is_jk) lvl_q <= sym_lvl;
            case (st_q)
                S_IDLE: if (sym == L_K) begin   // leaves idle: the SYNC's first bit
                    st_q  <= S_SYNC;
                    cnt_q <= 3'd1;
                end
                S_SYNC: begin
                    if (!is_jk) begin           // SE0 or SE1: not a packet
                        st_q <= S_IDLE;
                    end else if (!dbit) begin
                        if (cnt_q != 3'd7) cnt_q <= cnt_q + 3'd1;
                    end else if (cnt_q >= MIN_SYNC[2:0]) begin
                        st_q     <= S_DATA;
                        nbit_q   <= 3'd0;
                        rx_start <= 1'b1;
                    end else begin              // K K too early: noise
                        st_q  <= S_WAIT;
                        cnt_q <= 3'd0;
                        se0_q <= 1'b0;
                    end
                end
                S_DATA: begin
                    if (sym == L_SE0) begin
                        st_q  <= S_EOP;
                        cnt_q <= 3'd1;
                    end else if (!is_jk) begin  // SE1
                        rx_end <= 1'b1;
                        err    <= 3'b100;
                        st_q   <= S_WAIT;
                        cnt_q  <= 3'd0;
                        se0_q  <= 1'b0;
                    end else if (us_err) begin
                        rx_end <= 1'b1;
                        err    <= 3'b001;
                        st_q   <= S_WAIT;
                        cnt_q  <= 3'd0;
                        se0_q  <= 1'b0;
                    end else if (us_valid) begin
                        sh_q   <= {us_bit, sh_q[6:1]};
                        nbit_q <= nbit_q + 3'd1;
                        if (nbit_q == 3'd7) begin
                            rx_valid <= 1'b1;
                            rx_data  <= {us_bit, sh_q};
                        end
                    end
                end
                S_EOP: begin
                    if (sym == L_J) begin
                        rx_end <= 1'b1;
                        err    <= {1'b0, nbit_q != 3'd0, 1'b0};
                        st_q   <= S_IDLE;
                    end else if (sym == L_SE0 && cnt_q != 3'd3) begin
                        cnt_q <= cnt_q + 3'd1;
                    end else begin              // K, SE1 or SE0 too long
                        rx_end <= 1'b1;
                        err    <= {1'b1, nbit_q != 3'd0, 1'b0};
                        st_q   <= S_WAIT;
                        cnt_q  <= 3'd0;
                        se0_q  <= (sym == L_SE0);
                    end
                end
                default: begin                  // S_WAIT: for an EOP or idle
                    se0_q <= (sym == L_SE0);
                    if (sym == L_J) begin
                        if (se0_q || cnt_q == 3'd7) st_q <= S_IDLE;
                        else                        cnt_q <= cnt_q + 3'd1;
                    end else begin
                        cnt_q <= 3'd0;
                    end
                end
            endcase
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md, docs/usb.md). For any pins (dp,
    // dm free): the strobes keep their order, one packet at a time:
    // rx_start only outside a packet; rx_valid and rx_end only inside one;
    // exactly one rx_end closes each packet (the next rx_start comes after
    // it); at most one strobe a cycle; `active` exactly inside a packet;
    // rx_end carries an error exactly when it is not a clean EOP on a byte
    // boundary, and err is one of the documented codes.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    reg f_open;                             // rx_start seen, its rx_end not yet
    always @(posedge clk)
        if (rst)           f_open <= 1'b0;
        else if (rx_start) f_open <= 1'b1;
        else if (rx_end)   f_open <= 1'b0;
    always @(*) if (f_past_valid && !rst) begin
        if (rx_start) assert(!f_open && !rx_valid && !rx_end);
        if (rx_valid) assert(f_open && !rx_end);
        if (rx_end)   assert(f_open);
        assert(active == (rx_start || (f_open && !rx_end)));
        if (rx_end) assert(err == 3'b000 || err == 3'b001 || err == 3'b010 ||
                           err == 3'b100 || err == 3'b110);
`ifndef FORMAL_PORTS_ONLY
        assert(st_q <= S_WAIT);
        if (st_q == S_EOP) assert(cnt_q >= 3'd1 && cnt_q <= 3'd3);
`endif
    end
`endif
endmodule

`default_nettype wire
