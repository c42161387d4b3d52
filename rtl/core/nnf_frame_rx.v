// nnf_frame_rx: the receiving half of the link layer (docs/protocol.md).
//
// Hunts for the sync bytes, checks the header CRC and length, passes the
// payload through byte by byte (valid/ready, so the consumer can stall the
// link), checks the payload CRC, and reports the end of the frame. Garbage,
// a broken header or a stalled sender never hangs it: it counts a frame
// error and hunts again.
//
// New frames are taken only while `accept` is high (the command executor is
// idle); the executor sees: hdr_valid (a good header, fields held), the
// payload bytes, then end_valid with end_ok (payload CRC good) or end_tmo
// (the sender stopped mid-payload). The header fields are the header
// register itself: they hold from hdr_valid until the next header's first
// byte, which is taken only while `accept` is high again.
//
// Every byte taken (byte_in) is either hunted or stored: in the cycle the
// idle timeout fires the receiver is not ready, so a byte arriving then
// waits and is hunted after the abandoned frame has been reported.
//
// The frame's constants and header layout: rtl/core/nnf_proto.vh (generated
// from proto/nnf_proto.def).
`include "nnf_proto.vh"
`default_nettype none

module nnf_frame_rx #(
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer TIMEOUT     = 1048576   // idle cycles inside a frame
) (
    input  wire        clk,
    input  wire        rst,
    // byte stream in
    input  wire        rx_valid,
    input  wire [7:0]  rx_data,
    output wire        rx_ready,
    // executor side
    input  wire        accept,
    output reg         hdr_valid,     // one-cycle pulse
    output wire [7:0]  h_type,
    output wire [7:0]  h_seq,
    output wire [15:0] h_len,
    output wire [31:0] h_arg,
    output wire        pl_valid,
    output wire [7:0]  pl_data,
    input  wire        pl_ready,
    output reg         end_valid,     // one-cycle pulse
    output reg         end_ok,
    output reg         end_tmo,
    // statistics
    output reg         frame_err,     // one-cycle pulse per frame error
    output wire        byte_in,       // a byte was taken this cycle
    output wire        busy           // inside a frame (past the sync bytes)
);
    localparam [2:0] S_HUNT = 3'd0, S_SYNC = 3'd1, S_HDR = 3'd2, S_PAY = 3'd3, S_PCRC = 3'd4;
    localparam integer TW = $clog2(TIMEOUT + 1);

    reg  [2:0]   state;
    reg  [3:0]   hcnt;          // header bytes taken (0..11)
    reg  [15:0]  pcnt;          // payload bytes left
    reg  [1:0]   ccnt;          // CRC bytes taken
    reg  [31:0]  crc;           // running CRC
    /* verilator lint_off UNUSEDSIGNAL */
    reg  [31:0]  rcv_crc;       // received CRC (shifted in, little-endian)
    /* verilator lint_on UNUSEDSIGNAL */
    reg  [TW-1:0] idle;
    reg           at_tmo;       // idle == TIMEOUT (registered with idle)

    wire [31:0] crc_next;
    nnf_crc32 u_crc (.crc_i(crc), .data(rx_data), .crc_o(crc_next));

    wire in_frame = (state == S_HDR) || (state == S_PAY) || (state == S_PCRC);
    assign busy   = in_frame;
    wire timeout  = in_frame && at_tmo;

    // Not ready while the timeout fires: that cycle abandons the frame and
    // must not take a byte it would neither hunt nor store.
    assign rx_ready = !timeout && ((state == S_PAY) ? pl_ready
                                 : (state == S_PCRC) ? 1'b1
                                 : accept);
    assign pl_valid = (state == S_PAY) && rx_valid && !timeout;
    assign pl_data  = rx_data;
    assign byte_in  = rx_valid && rx_ready;

    // The header, as it is shifted in: bytes 2..13 of the frame (the HDR
    // record after its sync bytes; SB: the bit offset of hdr[0] in HDR).
    localparam integer HB = `NNFP_HDR_BYTES - `NNFP_SYNC_BYTES;   // 12 bytes
    localparam integer SB = 8 * `NNFP_SYNC_BYTES;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [8*HB-1:0] hdr;         // byte 0 falls off as the 12th byte arrives
    /* verilator lint_on UNUSEDSIGNAL */
    wire [8*HB-1:0] hdr_next = {rx_data, hdr[8*HB-1:8]};
    // Fields of a complete header (after the 12th byte is shifted in).
    wire [15:0] f_len  = hdr_next[`NNFP_HDR_LEN_LSB - SB +: `NNFP_HDR_LEN_W];
    wire [31:0] f_hcrc = hdr_next[`NNFP_HDR_HCRC_LSB - SB +: `NNFP_HDR_HCRC_W];
    assign h_type = hdr[`NNFP_HDR_TYPE_LSB - SB +: `NNFP_HDR_TYPE_W];
    assign h_seq  = hdr[`NNFP_HDR_SEQ_LSB - SB +: `NNFP_HDR_SEQ_W];
    assign h_len  = hdr[`NNFP_HDR_LEN_LSB - SB +: `NNFP_HDR_LEN_W];
    assign h_arg  = hdr[`NNFP_HDR_ARG_LSB - SB +: `NNFP_HDR_ARG_W];
    // The header CRC covers the first 8 header bytes (HCRC_SPAN from
    // HCRC_FROM = the first byte after the sync); crc holds it (not
    // inverted) from hcnt = 8 until the header's last byte.
    localparam integer H_LAST_I = HB - 1;                   // hcnt of the header's last byte
    localparam integer H_CRCN_I = `NNFP_HCRC_SPAN;          // header bytes under hcrc
    localparam integer C_LAST_I = `NNFP_CRC_BYTES - 1;      // ccnt of a CRC's last byte
    localparam [3:0]   H_LAST = H_LAST_I[3:0], H_CRCN = H_CRCN_I[3:0];
    localparam [1:0]   C_LAST = C_LAST_I[1:0];

    always @(posedge clk) begin
        hdr_valid <= 1'b0;
        end_valid <= 1'b0;
        frame_err <= 1'b0;
        if (rst) begin
            state <= S_HUNT;
            idle  <= {TW{1'b0}};
            at_tmo <= 1'b0;
            end_ok  <= 1'b0;
            end_tmo <= 1'b0;
        end else if (timeout) begin
            frame_err <= 1'b1;
            idle      <= {TW{1'b0}};
            at_tmo    <= 1'b0;
            if (state != S_HDR) begin           // header was good: tell the executor
                end_valid <= 1'b1;
                end_ok    <= 1'b0;
                end_tmo   <= 1'b1;
            end
            state <= S_HUNT;
        end else begin
            // idle: cycles inside a frame in which the sender offers no
            // byte (counted whether or not the receiver is ready)
            if (in_frame && !rx_valid) begin
                idle   <= idle + 1'b1;
                at_tmo <= (idle == TIMEOUT[TW-1:0] - 1'b1);
            end else if (byte_in) begin
                idle   <= {TW{1'b0}};
                at_tmo <= 1'b0;
            end

            if (byte_in) begin
                case (state)
                    S_HUNT: if (rx_data == `NNFP_SYNC0) state <= S_SYNC;
                    S_SYNC: begin
                        if (rx_data == `NNFP_SYNC1) begin
                            state <= S_HDR;
                            hcnt  <= 4'd0;
                            crc   <= `NNFP_CRC_INIT;
                            idle  <= {TW{1'b0}};
                            at_tmo <= 1'b0;
                        end else if (rx_data != `NNFP_SYNC0) begin
                            state <= S_HUNT;
                        end
                    end
                    S_HDR: begin
                        hdr  <= hdr_next;
                        hcnt <= hcnt + 4'd1;
                        if (hcnt < H_CRCN) crc <= crc_next;
                        if (hcnt == H_LAST) begin
                            if (f_hcrc != (crc ^ `NNFP_CRC_XOROUT) || f_len > MAX_PAYLOAD[15:0]) begin
                                frame_err <= 1'b1;
                                state     <= S_HUNT;
                            end else begin
                                hdr_valid <= 1'b1;
                                pcnt      <= f_len;
                                crc       <= `NNFP_CRC_INIT;
                                if (f_len == 16'd0) begin
                                    end_valid <= 1'b1;
                                    end_ok    <= 1'b1;
                                    end_tmo   <= 1'b0;
                                    state     <= S_HUNT;
                                end else begin
                                    state <= S_PAY;
                                end
                            end
                        end
                    end
                    S_PAY: begin
                        crc  <= crc_next;
                        pcnt <= pcnt - 16'd1;
                        if (pcnt == 16'd1) begin
                            state <= S_PCRC;
                            ccnt  <= 2'd0;
                        end
                    end
                    S_PCRC: begin
                        rcv_crc <= {rx_data, rcv_crc[31:8]};
                        ccnt    <= ccnt + 2'd1;
                        if (ccnt == C_LAST) begin
                            end_valid <= 1'b1;
                            end_ok    <= ({rx_data, rcv_crc[31:8]} == (crc ^ `NNFP_CRC_XOROUT));
                            end_tmo   <= 1'b0;
                            if ({rx_data, rcv_crc[31:8]} != (crc ^ `NNFP_CRC_XOROUT)) frame_err <= 1'b1;
                            state <= S_HUNT;
                        end
                    end
                    default: state <= S_HUNT;
                endcase
            end
        end
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md; tests/formal). Proved at
    // MAX_PAYLOAD 2, TIMEOUT 3, for any byte stream, any accept and any
    // pl_ready (all free inputs):
    //  - never hangs: a frame (busy) takes at most 12 + MAX_PAYLOAD + 4
    //    bytes, and at most TIMEOUT + 1 cycles pass in it without the sender
    //    offering a byte; then the receiver is hunting again;
    //  - every good header (hdr_valid) is followed by exactly one end_valid,
    //    before the next header, and no payload byte is offered outside
    //    a frame that had a good header;
    //  - end_ok only when the CRC bytes received equal the CRC of exactly
    //    h_len payload bytes handed out (a reference CRC, f_crc, follows the
    //    pl_valid/pl_ready handshakes): a bad CRC is never reported good.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    wire f_pl = pl_valid && pl_ready;          // a payload byte handed out
    reg  [7:0]  f_nbytes;                       // bytes taken in this frame
    reg  [7:0]  f_quiet;                        // cycles in it with no byte offered
    reg         f_open;                         // good header seen, no end yet
    reg  [15:0] f_left;                         // payload bytes still to hand out
    reg  [31:0] f_crc;                          // reference CRC over them
    reg  [31:0] f_rcv;                          // bytes taken after them
    reg  [2:0]  f_ncrc;                         // how many
    // this cycle, the header's pulse included (its payload may start now)
    wire        f_in     = f_open || (hdr_valid && !end_valid);
    wire [15:0] f_left_c = hdr_valid ? h_len : f_left;
    wire [31:0] f_crc_c  = hdr_valid ? 32'hFFFFFFFF : f_crc;
    wire [2:0]  f_ncrc_c = hdr_valid ? 3'd0 : f_ncrc;
    wire [31:0] f_crc_next;
    nnf_crc32 f_u_crc (.crc_i(f_crc_c), .data(pl_data), .crc_o(f_crc_next));

    always @(posedge clk) begin
        if (rst || !busy) begin
            f_nbytes <= 8'd0;
            f_quiet  <= 8'd0;
        end else begin
            if (byte_in) f_nbytes <= f_nbytes + 8'd1;
            f_quiet <= rx_valid ? 8'd0 : f_quiet + 8'd1;
        end
        if (rst) begin
            f_open <= 1'b0;
        end else begin
            f_open <= f_in && !end_valid;
            f_left <= f_left_c - {15'd0, f_in && f_pl};
            f_crc  <= (f_in && f_pl) ? f_crc_next : f_crc_c;
            f_ncrc <= f_ncrc_c;
            if (f_in && f_left_c == 16'd0 && byte_in) begin
                f_rcv  <= {rx_data, f_rcv[31:8]};
                f_ncrc <= f_ncrc_c + 3'd1;
            end
        end
    end

    localparam integer F_MAXB = 12 + MAX_PAYLOAD + 4;
    always @(*) if (f_past_valid && !rst) begin
        // never hangs
        assert(f_nbytes <= F_MAXB);
        if (busy) assert(f_quiet <= TIMEOUT + 1);
        // one end per good header, payload only inside one
        if (hdr_valid) assert(!f_open);
        if (end_valid && !hdr_valid) assert(f_open);
        if (f_open && !end_valid) assert(busy);   // the end comes as it leaves
        if (pl_valid) assert(f_in);
        if (f_open) assert(f_left <= h_len && h_len <= MAX_PAYLOAD);
        // a bad CRC is never reported good
        if (end_valid && end_ok && !hdr_valid)
            assert(f_left == 16'd0 && f_ncrc == 3'd4 && f_rcv == ~f_crc);
        if (end_valid && end_ok && hdr_valid) assert(h_len == 16'd0);
        if (end_valid && end_tmo) assert(!end_ok);
    end
`ifndef FORMAL_PORTS_ONLY
    // strengthening for the induction: the registers against the reference
    always @(*) if (f_past_valid && !rst) begin
        assert(state <= S_PCRC);
        if (end_valid) assert(state == S_HUNT || state == S_SYNC);
        if (hdr_valid) assert(end_valid ? (h_len == 16'd0 && state == S_HUNT)
                                        : (state == S_PAY && pcnt == h_len && h_len != 16'd0));
        if (hdr_valid) assert(f_nbytes == 8'd12 && !f_open);
        if (state == S_PAY || state == S_PCRC || hdr_valid) assert(h_len <= MAX_PAYLOAD);
        if (state == S_PAY) assert(pcnt <= h_len);
        assert(idle <= TIMEOUT);
        assert(at_tmo == (idle == TIMEOUT));
        if (!in_frame) assert(idle == 0 && !at_tmo);
        if (!in_frame) assert(!f_open || end_valid);
        if (state == S_HDR) assert(hcnt <= 4'd11 && f_nbytes == {4'd0, hcnt});
        if (state == S_PAY || state == S_PCRC) begin
            assert(f_in);
            assert(f_crc_c == crc);
        end
        if (state == S_PAY) begin
            assert(pcnt == f_left_c && pcnt != 16'd0);
            assert(f_ncrc_c == 3'd0);
            assert(f_nbytes == 8'd12 + h_len[7:0] - pcnt[7:0]);
        end
        if (state == S_PCRC) begin
            assert(f_left_c == 16'd0 && {1'b0, ccnt} == f_ncrc_c);
            assert(f_nbytes == 8'd12 + h_len[7:0] + {6'd0, ccnt});
            if (ccnt == 2'd1) assert(rcv_crc[31:24] == f_rcv[31:24]);
            if (ccnt == 2'd2) assert(rcv_crc[31:16] == f_rcv[31:16]);
            if (ccnt == 2'd3) assert(rcv_crc[31:8]  == f_rcv[31:8]);
        end
        if (f_open && !end_valid) assert(state == S_PAY || state == S_PCRC);
        if (in_frame) assert({8'd0, f_quiet} <= idle + 1);
    end
`endif
`endif
endmodule

`default_nettype wire
