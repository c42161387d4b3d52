// nnf_frame_tx: the sending half of the link layer (docs/protocol.md).
//
// On `start` it sends one frame: sync, type, seq, len, arg = 0, header CRC,
// `len` payload bytes, payload CRC. Payload bytes are pulled from the
// producer: pl_req asks for the next byte, which must be on pl_data exactly
// two cycles later (a memory read, then a register). A three-byte prefetch
// keeps one byte per cycle on the link.
`default_nettype none

module nnf_frame_tx (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,        // one-cycle pulse while idle
    input  wire [7:0]  type_i,
    input  wire [7:0]  seq_i,
    input  wire [15:0] len_i,
    output wire        idle,
    output reg         done,         // one-cycle pulse after the last byte
    output wire        pl_req,
    input  wire [7:0]  pl_data,
    // byte stream out
    output wire        tx_valid,
    output wire [7:0]  tx_data,
    input  wire        tx_ready
);
    localparam [1:0] S_IDLE = 2'd0, S_HDR = 2'd1, S_PAY = 2'd2, S_PCRC = 2'd3;

    reg  [1:0]  state;
    reg  [3:0]  hidx;        // header byte index 0..13
    reg  [15:0] left;        // payload bytes still to send
    reg  [15:0] req_left;    // payload bytes still to request
    reg  [1:0]  cidx;
    reg  [7:0]  t_type, t_seq;
    reg  [15:0] t_len;
    reg  [31:0] crc;         // header CRC over bytes 2..9, then the payload's

    // prefetch FIFO (3 entries); inflight[i]: a byte asked for i + 1 cycles ago
    reg  [7:0]  f0, f1, f2;
    reg  [1:0]  fcnt;
    reg  [1:0]  inflight;

    assign idle   = (state == S_IDLE);
    assign pl_req = (state == S_HDR || state == S_PAY) && (req_left != 16'd0)
                  && ({1'b0, fcnt} + {2'b00, inflight[0]} + {2'b00, inflight[1]} < 3'd3);

    wire [31:0] pcrc = ~crc;
    reg [7:0] hbyte;
    always @(*) begin
        case (hidx)
            4'd0:  hbyte = 8'hA5;
            4'd1:  hbyte = 8'h5A;
            4'd2:  hbyte = t_type;
            4'd3:  hbyte = t_seq;
            4'd4:  hbyte = t_len[7:0];
            4'd5:  hbyte = t_len[15:8];
            4'd10: hbyte = pcrc[7:0];      // crc holds the header's over 10..13
            4'd11: hbyte = pcrc[15:8];
            4'd12: hbyte = pcrc[23:16];
            4'd13: hbyte = pcrc[31:24];
            default: hbyte = 8'h00;          // arg = 0
        endcase
    end

    assign tx_valid = (state == S_HDR) || (state == S_PCRC) || (state == S_PAY && fcnt != 2'd0);
    assign tx_data  = (state == S_HDR) ? hbyte
                    : (state == S_PAY) ? f0
                    : pcrc[8*cidx +: 8];

    wire        fire = tx_valid && tx_ready;
    wire [31:0] crc_next;
    nnf_crc32 u_crc (.crc_i(crc), .data(tx_data), .crc_o(crc_next));

    wire pop  = fire && (state == S_PAY);
    wire push = inflight[1];

    always @(posedge clk) begin
        done     <= 1'b0;
        inflight <= rst ? 2'b00 : {inflight[0], pl_req};
        // prefetch FIFO: pop shifts f2 -> f1 -> f0; push fills the first free slot
        if (push && !pop) begin
            if (fcnt == 2'd0)      f0 <= pl_data;
            else if (fcnt == 2'd1) f1 <= pl_data;
            else                   f2 <= pl_data;
            fcnt <= fcnt + 2'd1;
        end else if (pop && !push) begin
            f0   <= f1;
            f1   <= f2;
            fcnt <= fcnt - 2'd1;
        end else if (pop && push) begin
            f0 <= (fcnt == 2'd1) ? pl_data : f1;
            f1 <= (fcnt == 2'd2) ? pl_data : f2;
            f2 <= pl_data;
        end
        if (pl_req) req_left <= req_left - 16'd1;

        if (rst) begin
            state <= S_IDLE;
            fcnt  <= 2'd0;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    state    <= S_HDR;
                    hidx     <= 4'd0;
                    t_type   <= type_i;
                    t_seq    <= seq_i;
                    t_len    <= len_i;
                    left     <= len_i;
                    req_left <= len_i;
                    fcnt     <= 2'd0;
                    crc      <= 32'hFFFFFFFF;
                end
                S_HDR: if (fire) begin
                    hidx <= hidx + 4'd1;
                    if (hidx >= 4'd2 && hidx <= 4'd9) crc <= crc_next;
                    if (hidx == 4'd13) begin
                        crc <= 32'hFFFFFFFF;
                        if (t_len == 16'd0) begin
                            state <= S_IDLE;
                            done  <= 1'b1;
                        end else begin
                            state <= S_PAY;
                        end
                    end
                end
                S_PAY: if (fire) begin
                    crc  <= crc_next;
                    left <= left - 16'd1;
                    if (left == 16'd1) begin
                        state <= S_PCRC;
                        cidx  <= 2'd0;
                    end
                end
                default: if (fire) begin     // S_PCRC
                    cidx <= cidx + 2'd1;
                    if (cidx == 2'd3) begin
                        state <= S_IDLE;
                        done  <= 1'b1;
                    end
                end
            endcase
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties of the tx side and start/done/idle (docs/formal.md;
    // tests/formal), for any start, len_i, pl_data and tx_ready:
    //  - valid/ready: once tx_valid is high it stays high, with the same
    //    tx_data, until tx_ready takes the byte;
    //  - done is one pulse per frame started: never without a start since
    //    the last done, and idle exactly when no frame is under way;
    //  - a frame is 14 + len + 4 bytes (14 when len is 0).
    // Self-contained: it does not look at the payload (pl_req) side.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    reg        f_open;           // a frame started, its done not yet seen
    reg [17:0] f_sent;           // bytes taken in this frame
    reg [17:0] f_flen;           // bytes this frame has
    reg        f_stall;          // last cycle: valid and not ready
    reg  [7:0] f_data;           // last cycle's tx_data
    always @(posedge clk) begin
        f_stall <= !rst && tx_valid && !tx_ready;
        f_data  <= tx_data;
        if (rst) begin
            f_open <= 1'b0;
        end else if (idle && start) begin
            f_open <= 1'b1;
            f_sent <= 18'd0;
            f_flen <= (len_i == 16'd0) ? 18'd14 : 18'd18 + {2'd0, len_i};
        end else begin
            if (done) f_open <= 1'b0;
            if (fire) f_sent <= f_sent + 18'd1;
        end
    end
    always @(*) if (f_past_valid && !rst) begin
        if (f_stall) assert(tx_valid && tx_data == f_data);
        if (done) assert(f_open && idle && f_sent == f_flen);
        assert(idle == (!f_open || done));
        if (f_open && !done) assert(f_sent < f_flen);
    end
`ifndef FORMAL_PORTS_ONLY
    always @(*) if (f_past_valid && !rst) begin
        assert({1'b0, fcnt} + {2'b00, inflight[0]} + {2'b00, inflight[1]} <= 3'd3);
        if (state == S_HDR)  assert(f_sent == {14'd0, hidx} && hidx <= 4'd13 && left == t_len);
        if (state == S_PAY)  assert(f_sent == 18'd14 + {2'd0, t_len - left} && left != 16'd0 && left <= t_len);
        if (state == S_PCRC) assert(f_sent == 18'd14 + {2'd0, t_len} + {16'd0, cidx} && t_len != 16'd0);
        if (!idle) assert(f_flen == ((t_len == 16'd0) ? 18'd14 : 18'd18 + {2'd0, t_len}));
    end
`endif
`endif
endmodule

`default_nettype wire
