// nnf_usb_ep_in: a bulk IN endpoint's buffer (EP1 IN, docs/usb.md): bytes
// from a valid / ready stream to packets of up to 64, each kept until the
// host ACKs it.
//
// A 64-byte ring: in_valid / in_data / in_ready fill it whenever it has
// room, also while a packet is out. On an IN token nnf_usb_xact sends what
// `has` and `len` say: the packet still waiting for its ACK (the same
// bytes again), else what is buffered (up to 64), else, once after a full
// 64-byte packet, a zero-length packet (the host's read ends only on a
// short packet); `begin` fixes that packet (its bytes are read at `idx`,
// combinationally: `data`), `ack` releases it. `has` is low when there is
// nothing (NAK).
`default_nettype none

module nnf_usb_ep_in (
    input  wire       clk,
    input  wire       rst,                  // reset or bus reset: empty
    input  wire       in_valid,
    input  wire [7:0] in_data,
    output wire       in_ready,
    output wire       has,
    output wire [6:0] len,
    input  wire       begin_i,              // the packet `len` goes out (again)
    input  wire [5:0] idx,                  // 0..63
    output wire [7:0] data,
    input  wire       ack
);
    reg  [7:0] mem [0:63];
    reg  [5:0] head_q;                      // first byte of the packet / buffer
    reg  [6:0] count_q;                     // bytes buffered, 0..64
    reg        lock_q;                      // a packet is out, not yet ACKed
    reg  [6:0] lock_len_q;
    reg        zlp_q;                       // the last packet ACKed was full

    wire       push = in_valid && in_ready;
    wire [5:0] tail = head_q + count_q[5:0];

    assign in_ready = (count_q != 7'd64);
    assign has      = lock_q || (count_q != 7'd0) || zlp_q;
    assign len      = lock_q ? lock_len_q : count_q;
    assign data     = mem[head_q + idx];

    always @(posedge clk)
        if (push) mem[tail] <= in_data;

    always @(posedge clk) begin
        if (rst) begin
            head_q     <= 6'd0;
            count_q    <= 7'd0;
            lock_q     <= 1'b0;
            lock_len_q <= 7'd0;
            zlp_q      <= 1'b0;
        end else begin
            if (begin_i && !lock_q) begin
                lock_q     <= 1'b1;
                lock_len_q <= count_q;
            end
            if (ack && lock_q) begin
                lock_q  <= 1'b0;
                head_q  <= head_q + lock_len_q[5:0];
                count_q <= count_q - lock_len_q + {6'd0, push};
                zlp_q   <= (lock_len_q == 7'd64);
            end else if (push) begin
                count_q <= count_q + 7'd1;
            end
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/usb.md): the packet out stays as it was until
    // ACKed, so a resend is the same packet: `len` is the length it had at
    // `begin`, and its byte at one free offset f_i reads the same as then
    // (a ghost keeps it), whatever comes in meanwhile; the ring never holds
    // more than 64 bytes.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    (* anyconst *) reg [5:0] f_i;
    reg       f_out;                        // a packet begun, not yet ACKed
    reg [6:0] f_len;
    reg [7:0] f_byte;                       // its byte at f_i
    always @(posedge clk) begin
        if (rst) f_out <= 1'b0;
        else if (ack && f_out) f_out <= 1'b0;
        else if (begin_i && !f_out) begin
            f_out  <= 1'b1;
            f_len  <= len;
            f_byte <= mem[head_q + f_i];
        end
    end
    // nnf_usb_xact: an ACK only for a packet that went out
    always @(*) if (ack) assume(f_out);
    always @(*) if (f_past_valid && !rst) begin
        if (f_out) assert(has && len == f_len);
        if (f_out && idx == f_i && {1'b0, f_i} < f_len) assert(data == f_byte);
`ifndef FORMAL_PORTS_ONLY
        assert(count_q <= 7'd64);
        assert(f_out == lock_q);
        if (lock_q) assert(lock_len_q == f_len && lock_len_q <= count_q);
        if (lock_q && {1'b0, f_i} < lock_len_q) assert(mem[head_q + f_i] == f_byte);
`endif
    end
`endif
endmodule

`default_nettype wire
