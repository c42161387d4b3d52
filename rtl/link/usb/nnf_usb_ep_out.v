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
    // Formal properties (docs/usb.md): a byte is handed on only from a
    // committed packet, each of its bytes once and in order, and its bytes
    // do not change while it is held; nothing of an uncommitted packet.
    // A ghost copy of the byte at one free address (f_a) follows every
    // write; the byte handed on at f_a equals the ghost's value at commit.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);
    always @(*) assume(len <= 7'd64);

    (* anyconst *) reg [5:0] f_a;
    reg [7:0] f_byte;                       // the last byte written at f_a
    reg [7:0] f_held;                       // f_byte when the packet was committed
    reg [6:0] f_n;                          // bytes handed on of the packet held
    always @(posedge clk) begin
        if (we && !full_q && idx == f_a) f_byte <= data;
        if (rst) f_n <= 7'd0;
        else if (!full_q && commit && len != 7'd0) begin
            f_held <= (we && idx == f_a) ? data : f_byte;
            f_n    <= 7'd0;
        end else if (out_valid && out_ready) f_n <= f_n + 7'd1;
    end
    always @(*) if (f_past_valid && !rst) begin
        if (full_q) assert(len_q != 7'd0 && len_q <= 7'd64 && rd_q < len_q && rd_q == f_n);
        if (!full_q) assert(!out_valid);
        if (full_q) assert(mem[f_a] == f_held);
        if (out_valid && rd_q[5:0] == f_a) assert(out_data == f_held);
    end
`endif
endmodule

`default_nettype wire
