// nnf_frame_tx: the sending half of the link layer (docs/protocol.md).
//
// On `start` (a one-cycle pulse while idle) it sends one frame: sync, type,
// seq, len, arg = 0, header CRC, `len` payload bytes, payload CRC; `done`
// is a one-cycle pulse after the last byte. The payload comes from the
// producer as a valid/ready stream (pl_valid / pl_data / pl_ready): each
// byte goes out on the link in the cycle it is taken, so the producer
// offers it from a register (nnf_prefetch in nnf_exec). Both streams follow
// valid/ready: valid held until ready, data stable meanwhile.
//
// The frame's constants and header layout: rtl/core/nnf_proto.vh (generated
// from proto/nnf_proto.def).
`include "nnf_proto.vh"
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
    input  wire        pl_valid,
    input  wire [7:0]  pl_data,
    output wire        pl_ready,
    // byte stream out
    output wire        tx_valid,
    output wire [7:0]  tx_data,
    input  wire        tx_ready
);
    localparam [1:0] S_IDLE = 2'd0, S_HDR = 2'd1, S_PAY = 2'd2, S_PCRC = 2'd3;

    reg  [1:0]  state;
    reg  [3:0]  hidx;        // header byte index 0..13
    reg  [15:0] left;        // payload bytes still to send
    reg  [1:0]  cidx;
    reg  [7:0]  t_type, t_seq;
    reg  [15:0] t_len;
    reg  [31:0] crc;         // header CRC over bytes 2..9, then the payload's

    assign idle     = (state == S_IDLE);
    assign pl_ready = (state == S_PAY) && tx_ready;

    // header byte indices (HDR record, nnf_proto.vh)
    localparam integer I_SYNC0 = `NNFP_HDR_SYNC0_OFS, I_SYNC1 = `NNFP_HDR_SYNC1_OFS,
                       I_TYPE = `NNFP_HDR_TYPE_OFS, I_SEQ = `NNFP_HDR_SEQ_OFS,
                       I_LEN = `NNFP_HDR_LEN_OFS, I_HCRC = `NNFP_HDR_HCRC_OFS,
                       I_LAST = `NNFP_HDR_BYTES - 1,
                       I_CFROM = `NNFP_HCRC_FROM, I_CTO = `NNFP_HCRC_FROM + `NNFP_HCRC_SPAN - 1,
                       I_CLAST = `NNFP_CRC_BYTES - 1;
    localparam [3:0] H_SYNC0 = I_SYNC0[3:0], H_SYNC1 = I_SYNC1[3:0], H_TYPE = I_TYPE[3:0],
                     H_SEQ = I_SEQ[3:0], H_LEN0 = I_LEN[3:0], H_LEN1 = H_LEN0 + 4'd1,
                     H_HCRC0 = I_HCRC[3:0], H_HCRC1 = H_HCRC0 + 4'd1, H_HCRC2 = H_HCRC0 + 4'd2,
                     H_HCRC3 = H_HCRC0 + 4'd3, H_LAST = I_LAST[3:0],
                     H_CFROM = I_CFROM[3:0], H_CTO = I_CTO[3:0];
    localparam [1:0] C_LAST = I_CLAST[1:0];

    wire [31:0] pcrc = crc ^ `NNFP_CRC_XOROUT;
    reg [7:0] hbyte;
    always @(*) begin
        case (hidx)
            H_SYNC0: hbyte = `NNFP_SYNC0;
            H_SYNC1: hbyte = `NNFP_SYNC1;
            H_TYPE:  hbyte = t_type;
            H_SEQ:   hbyte = t_seq;
            H_LEN0:  hbyte = t_len[7:0];
            H_LEN1:  hbyte = t_len[15:8];
            H_HCRC0: hbyte = pcrc[7:0];      // crc holds the header's over the hcrc bytes
            H_HCRC1: hbyte = pcrc[15:8];
            H_HCRC2: hbyte = pcrc[23:16];
            H_HCRC3: hbyte = pcrc[31:24];
            default: hbyte = 8'h00;          // arg = 0
        endcase
    end

    assign tx_valid = (state == S_HDR) || (state == S_PCRC) || (state == S_PAY && pl_valid);
    assign tx_data  = (state == S_HDR) ? hbyte
                    : (state == S_PAY) ? pl_data
                    : pcrc[8*cidx +: 8];

    wire        fire = tx_valid && tx_ready;
    wire [31:0] crc_next;
    nnf_crc32 u_crc (.crc_i(crc), .data(tx_data), .crc_o(crc_next));

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    state    <= S_HDR;
                    hidx     <= 4'd0;
                    t_type   <= type_i;
                    t_seq    <= seq_i;
                    t_len    <= len_i;
                    left     <= len_i;
                    crc      <= `NNFP_CRC_INIT;
                end
                S_HDR: if (fire) begin
                    hidx <= hidx + 4'd1;
                    if (hidx >= H_CFROM && hidx <= H_CTO) crc <= crc_next;
                    if (hidx == H_LAST) begin
                        crc <= `NNFP_CRC_INIT;
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
                    if (cidx == C_LAST) begin
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
    // The payload side is assumed to follow the same rule (pl_valid held
    // until pl_ready, pl_data stable meanwhile): the producer's contract.
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
    reg        f_pl_stall;       // last cycle: pl_valid and not pl_ready
    reg  [7:0] f_pl_data;
    always @(posedge clk) begin
        f_pl_stall <= !rst && pl_valid && !pl_ready;
        f_pl_data  <= pl_data;
    end
    always @(*) if (f_past_valid && !rst && f_pl_stall) assume(pl_valid && pl_data == f_pl_data);
    always @(*) if (f_past_valid && !rst) begin
        if (f_stall) assert(tx_valid && tx_data == f_data);
        if (done) assert(f_open && idle && f_sent == f_flen);
        assert(idle == (!f_open || done));
        if (f_open && !done) assert(f_sent < f_flen);
    end
`ifndef FORMAL_PORTS_ONLY
    always @(*) if (f_past_valid && !rst) begin
        if (state == S_HDR)  assert(f_sent == {14'd0, hidx} && hidx <= 4'd13 && left == t_len);
        if (state == S_PAY)  assert(f_sent == 18'd14 + {2'd0, t_len - left} && left != 16'd0 && left <= t_len);
        if (state == S_PCRC) assert(f_sent == 18'd14 + {2'd0, t_len} + {16'd0, cidx} && t_len != 16'd0);
        if (!idle) assert(f_flen == ((t_len == 16'd0) ? 18'd14 : 18'd18 + {2'd0, t_len}));
    end
`endif
`endif
endmodule

`default_nettype wire
