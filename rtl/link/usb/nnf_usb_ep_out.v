// nnf_usb_ep_out: a bulk OUT endpoint's packet buffer (EP1 OUT,
// docs/usb.md): the host's bytes to a valid / ready stream, a whole packet
// at a time, and only packets the transaction layer ACKed as new.
//
// nnf_usb_xact writes a packet's payload (we, idx, data) while `ready`
// (the buffer is empty: it NAKs the OUT otherwise); `commit` (its out_ok:
// CRC16 good, toggle new, ACKed) with `len` makes those bytes the packet
// that out_valid / out_data / out_ready hand on, in order; a packet not
// committed (damaged, a repeat, NAKed) is simply overwritten by the next
// one. The buffer is ready again once its last byte is taken. Writes while
// a packet is held are ignored. `out_data` is read combinationally from
// the buffer (distributed RAM on the ECP5).
`default_nettype none

module nnf_usb_ep_out (
    input  wire       clk,
    input  wire       rst,                  // reset or bus reset: empty
    input  wire       we,
    input  wire [5:0] idx,
    input  wire [7:0] data,
    input  wire       commit,
    input  wire [6:0] len,                  // 0..64
    output wire       ready,
    output wire       out_valid,
    output wire [7:0] out_data,
    input  wire       out_ready
);
    reg  [7:0] mem [0:63];
    reg        full_q;                      // a committed packet is being handed on
    reg  [6:0] len_q;
    reg  [6:0] rd_q;                        // bytes of it handed on

    assign ready     = !full_q;
    assign out_valid = full_q;
    assign out_data  = mem[rd_q[5:0]];

    always @(posedge clk)
        if (we && !full_q) mem[idx] <= data;

    always @(posedge clk) begin
        if (rst) begin
            full_q <= 1'b0;
            len_q  <= 7'd0;
            rd_q   <= 7'd0;
        end else if (!full_q) begin
            if (commit && len != 7'd0) begin
                full_q <= 1'b1;
                len_q  <= len;
                rd_q   <= 7'd0;
            end
        end else if (out_ready) begin
            rd_q <= rd_q + 7'd1;
            if (rd_q + 7'd1 == len_q) full_q <= 1'b0;
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/usb.md): bytes are handed on only from a
    // committed packet, exactly its len bytes, in order, and a held packet's
    // bytes do not change (writes while it is held are ignored), so nothing
    // of a packet that was not ACKed as new ever leaves. A ghost follows the
    // byte at one free offset f_a: its value at the commit must be what is
    // handed on as byte f_a of that packet.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);
    always @(*) assume(len <= 7'd64);

    (* anyconst *) reg [5:0] f_a;
    reg [7:0] f_byte;                       // the byte at f_a (the last one written there)
    reg [7:0] f_held;                       // ... when the packet held was committed
    reg [6:0] f_len;                        // that packet's length
    reg [6:0] f_n;                          // its bytes handed on
    reg       f_open;                       // it is being handed on
    always @(*) if (!f_past_valid) assume(f_byte == mem[f_a]);
    always @(posedge clk) begin
        if (we && !full_q && idx == f_a) f_byte <= data;
        if (rst) begin
            f_open <= 1'b0;
            f_n    <= 7'd0;
        end else if (!f_open && commit && len != 7'd0 && ready) begin
            f_open <= 1'b1;
            f_held <= (we && idx == f_a) ? data : f_byte;
            f_len  <= len;
            f_n    <= 7'd0;
        end else if (out_valid && out_ready) begin
            f_n <= f_n + 7'd1;
            if (f_n + 7'd1 == f_len) f_open <= 1'b0;
        end
    end
`ifndef FORMAL_PORTS_ONLY
    always @(*) assert(mem[f_a] == f_byte);   // in reset too (the memory is not reset)
`endif
    always @(*) if (f_past_valid && !rst) begin
        assert(out_valid == f_open);
        assert(ready == !f_open);
        if (f_open) assert(f_n < f_len);
        if (out_valid && f_n[5:0] == f_a) assert(out_data == f_held);
`ifndef FORMAL_PORTS_ONLY
        if (full_q) assert(f_held == f_byte && len_q == f_len && rd_q == f_n && f_len <= 7'd64);
`endif
    end
`endif
endmodule

`default_nettype wire
