// nnf_exec: the command executor (docs/protocol.md, "Commands"). Checks each
// received frame, decodes its region, routes a WRITE's payload to the
// device's memories, and answers: INFO, STATUS, COUNTERS, READ data, errors.
//
// Ports and their protocol:
//   request     from nnf_frame_rx: hdr_valid (one cycle, the header fields
//               held until the next header, which is taken only while
//               rx_accept), the payload (pl_valid / pl_ready / pl_data), and
//               end_valid (one cycle) with end_ok / end_tmo
//   answer      to nnf_frame_tx: tx_start (one-cycle pulse) with a_type /
//               a_len; the payload as a valid/ready stream (a_valid /
//               a_data / a_ready) from nnf_prefetch, which reads each byte
//               (a memory read, then a register) ahead of the link;
//               tx_done ends it
//   memory port one byte-wide port onto every region: m_we (registered, one
//               byte, at m_waddr; held while m_wait), m_re at m_raddr ->
//               m_rdata the next cycle; m_addr is the one of the two in use,
//               for a memory with one address port (routed by m_sel, the
//               region, in nnf_core)
//   program     prog_start / prog_pc (one-cycle pulse, the program idle),
//               abort_req (one cycle, in the cycle a RESET with bit 1
//               executes), prog_idle, prog_pc_now and
//               prog_refused (one-cycle pulse) for STATUS
//   counters    cnt_clear (one-cycle pulse), cnt_snap_in (the record's
//               counters, sampled when a COUNTERS request executes), stall
//               (one cycle: a payload byte or a request waited)
//
// Codes, regions and record layouts: rtl/core/nnf_proto.vh (generated from
// proto/nnf_proto.def, the one definition the C side uses too).
`include "nnf_proto.vh"
`default_nettype none

module nnf_exec #(
    parameter integer ROWS        = 8,
    parameter integer COLS        = 8,
    parameter integer ACT_WORDS   = 32768,
    parameter integer W_WORDS     = 16384,
    parameter integer P_WORDS     = 64,
    parameter integer ACC_DEPTH   = 256,
    parameter integer VEC_SERIAL  = 0,
    parameter integer PROG_WORDS  = 64,
    parameter integer STATE_WORDS = 16384,
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer TIMEOUT     = 65536,
    parameter integer CLOCK_HZ    = 0,
    parameter integer CNT_W       = 64
) (
    input  wire        clk,
    input  wire        rst,
    // request (nnf_frame_rx)
    output wire        rx_accept,
    input  wire        hdr_valid,
    input  wire [7:0]  h_type,
    input  wire [7:0]  h_seq,
    input  wire [15:0] h_len,
    input  wire [31:0] h_arg,
    input  wire        pl_valid,
    input  wire [7:0]  pl_data,
    output wire        pl_ready,
    input  wire        end_valid,
    input  wire        end_ok,
    input  wire        end_tmo,
    // answer (nnf_frame_tx)
    output reg         tx_start,
    output reg  [7:0]  a_type,
    output reg  [15:0] a_len,
    input  wire        tx_done,
    output wire        a_valid,
    output wire [7:0]  a_data,
    input  wire        a_ready,
    // memory port
    output reg         m_we,
    output wire        m_re,
    output wire [3:0]  m_sel,
    output wire [31:0] m_addr,          // = m_waddr, or m_raddr while answering
    output wire [31:0] m_waddr,         // the write's (registered)
    output wire [31:0] m_raddr,         // the read's
    output reg  [7:0]  m_wdata,
    input  wire        m_wait,
    input  wire [7:0]  m_rdata,
    // program
    output reg         prog_start,
    output reg  [$clog2(PROG_WORDS)-1:0] prog_pc,
    output wire        abort_req,
    input  wire        prog_idle,
    input  wire [$clog2(PROG_WORDS):0] prog_pc_now,
    input  wire        prog_refused,
    // counters
    output reg         cnt_clear,
    input  wire [7*CNT_W-1:0] cnt_snap_in,
    output reg         stall,
    // state
    output wire        x_idle
);
    localparam integer PROG_AW = $clog2(PROG_WORDS);
    localparam integer HAS_LIF = (STATE_WORDS != 0) ? 1 : 0;

    // region sizes in bytes
    localparam [31:0] SZ_ACT   = ACT_WORDS * ROWS;
    localparam [31:0] SZ_W     = W_WORDS * COLS;
    localparam [31:0] SZ_P     = P_WORDS * COLS * `NNFP_P_BYTES;
    localparam [31:0] SZ_LUT   = `NNFP_LUT_BYTES;
    localparam [31:0] SZ_PROG  = PROG_WORDS * `NNFP_INSN_BYTES;
    localparam [31:0] SZ_STATE = STATE_WORDS * `NNFP_STATE_BYTES;

    // command and answer codes
    localparam [7:0] C_INFO = `NNFP_INFO, C_WRITE = `NNFP_WRITE, C_READ = `NNFP_READ,
                     C_RUN = `NNFP_RUN, C_WAIT = `NNFP_WAIT, C_STATUS = `NNFP_STATUS,
                     C_COUNTERS = `NNFP_COUNTERS, C_RESET = `NNFP_RESET;
    localparam [7:0] A_ERR = `NNFP_ERR;
    localparam [7:0] E_BAD_CRC = `NNFP_E_BAD_CRC, E_UNKNOWN = `NNFP_E_UNKNOWN,
                     E_BAD_LEN = `NNFP_E_BAD_LEN, E_RANGE = `NNFP_E_RANGE,
                     E_BAD_PROG = `NNFP_E_BAD_PROG, E_TIMEOUT = `NNFP_E_TIMEOUT,
                     E_BAD_INSN = `NNFP_E_BAD_INSN;
    localparam [3:0] R_ACT = `NNFP_REGION_ACT, R_W = `NNFP_REGION_W, R_P = `NNFP_REGION_P,
                     R_LUT = `NNFP_REGION_LUT, R_PROG = `NNFP_REGION_PROG,
                     R_STATE = `NNFP_REGION_STATE;

    localparam [2:0] X_IDLE = 3'd0, X_PAY = 3'd1, X_EXEC = 3'd2, X_WAITP = 3'd3,
                     X_ANS = 3'd4, X_SEND = 3'd5;
    reg  [2:0]  xst;
    // the request's header: the receiver holds it until the next header
    // starts, which it takes only in X_IDLE (rx_accept)
    wire [7:0]  r_type = h_type, r_seq = h_seq;
    wire [15:0] r_len  = h_len;
    wire [31:0] r_arg  = h_arg;
    reg  [15:0] r_cnt;          // payload bytes taken
    reg  [31:0] r_word;         // first four payload bytes (READ count)
    reg         r_ok, r_tmo;    // end of frame status
    reg  [7:0]  r_err;          // 0 = OK, else error code for the answer
    reg  [7:0]  prev_seq, prev_type;
    reg         prev_valid;

    assign x_idle = (xst == X_IDLE);

    // Not in the cycle a header arrives either (hdr_valid): the executor
    // leaves X_IDLE only then, and a byte taken in that cycle would count in
    // a COUNTERS snapshot of the frame before it.
    assign rx_accept = (xst == X_IDLE) && !hdr_valid;

    // ------------------------------------------------------------------
    // Region decode and the request's checks
    // ------------------------------------------------------------------
    wire [3:0]  r_region = `NNFP_ARG_REGION_SEL(r_arg);
    wire [27:0] r_addr   = `NNFP_ARG_ADDR_SEL(r_arg);
    function automatic [31:0] region_size(input [3:0] region);
        case (region)
            R_ACT:   region_size = SZ_ACT;
            R_W:     region_size = SZ_W;
            R_P:     region_size = SZ_P;
            R_LUT:   region_size = SZ_LUT;
            R_PROG:  region_size = SZ_PROG;
            R_STATE: region_size = SZ_STATE;
            default: region_size = 32'd0;
        endcase
    endfunction
    wire [31:0] r_size = region_size(r_region);
    // addr + count <= size, without overflow (count <= 65535)
    function automatic in_range(input [31:0] size, input [27:0] addr, input [31:0] count);
        in_range = ({4'd0, addr} <= size) && (count <= size - {4'd0, addr});
    endfunction
    // One check serves both, registered (it is 32-bit compares and a
    // subtraction, off the payload handshake's path): a WRITE's count is its
    // length, known from the header (the check is ready by the first payload
    // byte, a cycle after hdr_valid); a READ's is the u32 of its payload,
    // whose last byte is taken at least five cycles (the CRC) before
    // X_EXEC. Frames without payload fail on their length first.
    wire [31:0] rd_count = r_word;
    reg  rng_ok_q;
    always @(posedge clk)
        rng_ok_q <= in_range(r_size, r_addr, (r_type == C_READ) ? rd_count : {16'd0, r_len});
    // the other wide checks of v_err, registered the same way
    reg  rd_cnt_bad_q, run_bad_q;
    always @(posedge clk) begin
        rd_cnt_bad_q <= (rd_count == 32'd0) || (rd_count > MAX_PAYLOAD);
        run_bad_q    <= (r_arg >= PROG_WORDS);
    end

    // WRITE payload routing: ACT may be written while a program runs
    // (nnf_gemm takes it in the cycles its output writer leaves free);
    // the other regions wait for the program.
    wire is_write = (r_type == C_WRITE) && rng_ok_q;
    wire wr_may   = (r_region == R_ACT) || prog_idle;
    wire [31:0] wr_addr = {4'd0, r_addr} + {16'd0, r_cnt};
    reg  [3:0]  mw_sel_q;
    reg  [31:0] mw_addr_q;

    assign pl_ready = (xst == X_PAY) && (!is_write || (wr_may && !(m_we && m_wait)));

    // request validation at the end of the frame
    reg  [7:0] v_err;
    always @(*) begin
        v_err = 8'd0;
        if (!r_ok)                                   v_err = r_tmo ? E_TIMEOUT : E_BAD_CRC;
        else case (r_type)
            C_INFO, C_WAIT, C_STATUS, C_COUNTERS, C_RESET:
                if (r_len != 16'd0) v_err = E_BAD_LEN;
            C_RUN:
                if (r_len != 16'd0)  v_err = E_BAD_LEN;
                else if (run_bad_q)  v_err = E_BAD_PROG;
            C_WRITE:
                if (r_len == 16'd0)  v_err = E_BAD_LEN;
                else if (!rng_ok_q)  v_err = E_RANGE;
            C_READ:
                if (r_len != `NNFP_READ_REQ_BYTES) v_err = E_BAD_LEN;
                else if (rd_cnt_bad_q)  v_err = E_BAD_LEN;
                else if (!rng_ok_q)     v_err = E_RANGE;
            default: v_err = E_UNKNOWN;
        endcase
    end

    // a RUN or RESET repeating the previous frame's seq is a retry
    wire retry = prev_valid && (prev_seq == r_seq) && (prev_type == r_type);

    // RESET's abort, in the cycle the request executes (the sequencer
    // registers it)
    assign abort_req = (xst == X_EXEC) && !(m_we && m_wait) && (v_err == 8'd0)
                    && (r_type == C_RESET) && !retry && `NNFP_RESET_ARG_ABORT_SEL(r_arg);

    // ------------------------------------------------------------------
    // Answer payload bytes
    // ------------------------------------------------------------------
    wire        tx_req;          // the prefetcher asks for byte a_idx
    reg  [15:0] a_idx;           // index of the byte asked for
    reg  [7:0]  a_byte;          // the byte, one cycle after tx_req
    reg  [7:0]  last_err;

    // INFO record byte (a constant: a small ROM on a_idx), laid out by the table
    localparam [15:0] INFO_FEAT = `NNFP_FEAT_GEMM | `NNFP_FEAT_LUT
                                | ((HAS_LIF != 0) ? `NNFP_FEAT_LIF : 16'h0000)
                                | ((VEC_SERIAL != 0) ? `NNFP_FEAT_VEC_SERIAL : 16'h0000);
    localparam integer INFO_BITS = 8 * `NNFP_INFO_BYTES;
    reg [INFO_BITS-1:0] info_rec;
    reg [7:0]           info_byte;
    always @(*) begin
        info_rec = {INFO_BITS{1'b0}};
        info_rec[`NNFP_INFO_PROTO_VERSION_LSB +: `NNFP_INFO_PROTO_VERSION_W] = `NNFP_VERSION;
        info_rec[`NNFP_INFO_RTL_VERSION_LSB +: `NNFP_INFO_RTL_VERSION_W]     = `NNFP_RTL_VERSION;
        info_rec[`NNFP_INFO_ROWS_LSB +: `NNFP_INFO_ROWS_W]                   = ROWS[`NNFP_INFO_ROWS_W-1:0];
        info_rec[`NNFP_INFO_COLS_LSB +: `NNFP_INFO_COLS_W]                   = COLS[`NNFP_INFO_COLS_W-1:0];
        info_rec[`NNFP_INFO_FEATURES_LSB +: `NNFP_INFO_FEATURES_W]           = INFO_FEAT;
        info_rec[`NNFP_INFO_ACT_WORDS_LSB +: `NNFP_INFO_ACT_WORDS_W]         = ACT_WORDS;
        info_rec[`NNFP_INFO_W_WORDS_LSB +: `NNFP_INFO_W_WORDS_W]             = W_WORDS;
        info_rec[`NNFP_INFO_P_WORDS_LSB +: `NNFP_INFO_P_WORDS_W]             = P_WORDS;
        info_rec[`NNFP_INFO_ACC_DEPTH_LSB +: `NNFP_INFO_ACC_DEPTH_W]         = ACC_DEPTH;
        info_rec[`NNFP_INFO_PROG_WORDS_LSB +: `NNFP_INFO_PROG_WORDS_W]       = PROG_WORDS;
        info_rec[`NNFP_INFO_MAX_PAYLOAD_LSB +: `NNFP_INFO_MAX_PAYLOAD_W]     = MAX_PAYLOAD[`NNFP_INFO_MAX_PAYLOAD_W-1:0];
        info_rec[`NNFP_INFO_CREDITS_LSB +: `NNFP_INFO_CREDITS_W]             = `NNFP_CREDITS;
        info_rec[`NNFP_INFO_TIMEOUT_CYCLES_LSB +: `NNFP_INFO_TIMEOUT_CYCLES_W] = TIMEOUT;
        info_rec[`NNFP_INFO_CLOCK_HZ_LSB +: `NNFP_INFO_CLOCK_HZ_W]           = CLOCK_HZ;
        info_rec[`NNFP_INFO_STATE_WORDS_LSB +: `NNFP_INFO_STATE_WORDS_W]     = STATE_WORDS;
        info_byte = info_rec[8*a_idx[5:0] +: 8];
    end

    // COUNTERS snapshot, taken when the request is executed and sent byte by
    // byte from a shift register (no 56-way byte multiplexer): byte i of the
    // record is byte i%8 of counter i/8, 0 from byte CNT_B of a counter up.
    localparam integer CNT_B = CNT_W / 8;
    // The shift register sends the counters in cnt_snap_in's order, eight
    // bytes each: the table's COUNTERS record must say the same.
    generate
        if (`NNFP_COUNTERS_BYTES != 56 || `NNFP_COUNTERS_CYCLES_OFS != 0 ||
            `NNFP_COUNTERS_BUSY_OFS != 8 || `NNFP_COUNTERS_MACS_OFS != 16 ||
            `NNFP_COUNTERS_STALL_OFS != 24 || `NNFP_COUNTERS_BYTES_IN_OFS != 32 ||
            `NNFP_COUNTERS_BYTES_OUT_OFS != 40 || `NNFP_COUNTERS_FRAME_ERRORS_OFS != 48 ||
            `NNFP_STATUS_BYTES != 4 || `NNFP_STATUS_PC_OFS != 2 || `NNFP_STATUS_PC_SIZE != 2)
        begin : g_bad_layout
            nnf_exec_COUNTERS_or_STATUS_layout_differs_from_nnf_proto_def u_bad();
        end
    endgenerate
    reg  [7*CNT_W-1:0] cnt_snap;
    wire               cnt_shift = ({1'b0, a_idx[2:0]} < CNT_B[3:0]);

    wire [15:0] pc16 = {{(15-PROG_AW){1'b0}}, prog_pc_now};

    always @(posedge clk) begin
        if (xst == X_ANS) a_idx <= 16'd0;
        else if (tx_req) a_idx <= a_idx + 16'd1;
        if (xst == X_EXEC && r_type == C_COUNTERS)
            cnt_snap <= cnt_snap_in;
        else if (tx_req && r_type == C_COUNTERS && cnt_shift)
            cnt_snap <= cnt_snap >> 8;
        if (tx_req) begin
            if (a_type == A_ERR)                a_byte <= (a_idx == 16'd0) ? r_err : r_type;
            else case (r_type)
                C_INFO:     a_byte <= info_byte;
                C_STATUS:   a_byte <= (a_idx == `NNFP_STATUS_RUNNING_OFS)    ? {7'd0, !prog_idle}
                                    : (a_idx == `NNFP_STATUS_LAST_ERROR_OFS) ? last_err
                                    : (a_idx == `NNFP_STATUS_PC_OFS)         ? pc16[7:0]
                                    : pc16[15:8];
                C_COUNTERS: a_byte <= cnt_shift ? cnt_snap[7:0] : 8'd0;
                default:    a_byte <= 8'd0;                 // READ: straight from memory
            endcase
        end
    end

    // READ answers: the transmitter asks for byte a_idx; the memory is read
    // in that cycle and its output is the byte the next cycle.
    reg read_ans_q;
    wire [31:0] rd_addr = {4'd0, r_addr} + {16'd0, a_idx};
    always @(posedge clk) read_ans_q <= (r_type == C_READ) && (a_type != A_ERR);
    // the answer byte, registered: two cycles after tx_req
    reg [7:0] a_data_q;
    always @(posedge clk) a_data_q <= read_ans_q ? m_rdata : a_byte;

    // ahead of the transmitter: requests bytes while its FIFO has room
    nnf_prefetch #(.LAT(2), .DEPTH(3), .LEN_W(16)) u_pref (
        .clk(clk), .rst(rst), .start(tx_start), .len(a_len), .req(tx_req), .data(a_data_q),
        .out_valid(a_valid), .out_data(a_data), .out_ready(a_ready));

    // The memory port: the read side for the whole of X_SEND, where no write
    // is pending (m_we is 0 from X_ANS on) and a RAM not read keeps its
    // output; so the transmitter's request stays off the path through
    // m_wait to the payload handshake.
    assign m_re   = (xst == X_SEND) && tx_req && read_ans_q;
    assign m_sel  = (xst == X_SEND) ? r_region : mw_sel_q;
    assign m_addr  = (xst == X_SEND) ? rd_addr  : mw_addr_q;
    assign m_waddr = mw_addr_q;
    assign m_raddr = rd_addr;

    // ------------------------------------------------------------------
    // The executor
    // ------------------------------------------------------------------
    always @(posedge clk) begin
        tx_start   <= 1'b0;
        prog_start <= 1'b0;
        cnt_clear  <= 1'b0;
        m_we       <= 1'b0;
        stall      <= 1'b0;
        if (rst) begin
            xst        <= X_IDLE;
            prev_valid <= 1'b0;
            last_err   <= 8'd0;
        end else begin
            if (prog_refused) last_err <= E_BAD_INSN;   // a frame's own error (below) is later
            case (xst)
                X_IDLE: if (hdr_valid) begin
                    r_cnt  <= 16'd0;
                    r_word <= 32'd0;
                    if (end_valid) begin              // no payload
                        r_ok  <= end_ok;
                        r_tmo <= end_tmo;
                        xst   <= X_EXEC;
                    end else begin
                        xst <= X_PAY;
                    end
                end
                X_PAY: begin
                    // the write of the previous cycle was not taken: hold it
                    if (m_we && m_wait) m_we <= 1'b1;
                    if (pl_valid && pl_ready) begin
                        r_cnt <= r_cnt + 16'd1;
                        if (r_cnt < 16'd4) r_word <= {pl_data, r_word[31:8]};
                        if (is_write) begin
                            m_we      <= 1'b1;
                            mw_sel_q  <= r_region;
                            mw_addr_q <= wr_addr;
                            m_wdata   <= pl_data;
                        end
                    end else if (pl_valid) begin
                        stall <= 1'b1;
                    end
                    if (end_valid) begin
                        r_ok  <= end_ok;
                        r_tmo <= end_tmo;
                        xst   <= X_EXEC;
                    end
                end
                X_EXEC: if (m_we && m_wait) begin
                    m_we <= 1'b1;                       // last payload byte still pending
                end else begin
                    r_err <= v_err;
                    if (v_err != 8'd0) begin
                        last_err <= v_err;
                        a_type   <= A_ERR;
                        a_len    <= `NNFP_ERR_BYTES;
                        xst      <= X_ANS;
                    end else begin
                        a_type <= `NNFP_OK(r_type);
                        case (r_type)
                            C_INFO:     begin a_len <= `NNFP_INFO_BYTES;     xst <= X_ANS; end
                            C_STATUS:   begin a_len <= `NNFP_STATUS_BYTES;   xst <= X_ANS; end
                            C_COUNTERS: begin a_len <= `NNFP_COUNTERS_BYTES; xst <= X_ANS; end
                            C_RESET: begin
                                a_len <= 16'd0;
                                if (!retry) cnt_clear <= `NNFP_RESET_ARG_COUNTERS_SEL(r_arg);
                                xst <= X_ANS;
                            end
                            C_WRITE:    begin a_len <= 16'd0; xst <= X_ANS; end
                            C_READ:     begin a_len <= rd_count[15:0]; xst <= X_WAITP; end
                            C_RUN:      begin a_len <= 16'd0; xst <= X_WAITP; end
                            default:    begin a_len <= 16'd0; xst <= X_WAITP; end   // WAIT
                        endcase
                    end
                end
                X_WAITP: begin
                    // READ, RUN and WAIT run once the program and engine are idle
                    if (prog_idle) begin
                        if (r_type == C_RUN && !retry) begin
                            prog_start <= 1'b1;
                            prog_pc    <= r_arg[PROG_AW-1:0];
                        end
                        xst <= X_ANS;
                    end else begin
                        stall <= 1'b1;
                    end
                end
                X_ANS: begin
                    tx_start <= 1'b1;
                    xst      <= X_SEND;
                end
                default: begin                    // X_SEND
                    if (tx_done) begin
                        prev_valid <= (r_err == 8'd0) && (r_type == C_RUN || r_type == C_RESET);
                        prev_seq   <= r_seq;
                        prev_type  <= r_type;
                        xst        <= X_IDLE;
                    end
                end
            endcase
        end
    end
endmodule

`default_nettype wire
