// nnf_prefetch: turns a fixed-latency source into a valid/ready stream.
//
// The source answers each request (req) with its byte on data exactly LAT
// cycles later (e.g. a memory read, then a register). On start (a one-cycle
// pulse, with len) the prefetcher asks for len bytes, one per cycle while
// its FIFO (DEPTH entries, counting the requests in flight) has room, and
// offers them in order on out_valid / out_data until taken (out_ready).
// With DEPTH >= LAT + 1 a consumer taking a byte every cycle gets one every
// cycle. out_data is a register (the FIFO's head).
//
// Protocol: valid held until ready, data stable while valid and not ready;
// start only when the previous stream has been taken in full.
`default_nettype none

module nnf_prefetch #(
    parameter integer LAT   = 2,
    parameter integer DEPTH = 3,
    parameter integer LEN_W = 16
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             start,
    input  wire [LEN_W-1:0] len,
    output wire             req,
    input  wire [7:0]       data,
    output wire             out_valid,
    output wire [7:0]       out_data,
    input  wire             out_ready
);
    localparam integer CW = $clog2(DEPTH + 1);

    generate
        if (LAT < 1 || DEPTH < 1) begin : g_bad
            nnf_prefetch_bad_parameter_LAT_and_DEPTH_must_be_at_least_1 u_bad();
        end
    endgenerate

    reg  [LEN_W-1:0] left_q;                 // bytes still to request
    reg  [LAT-1:0]   inflight_q;             // inflight_q[i]: asked for i + 1 cycles ago
    /* verilator lint_off UNUSEDSIGNAL */
    wire [LAT:0]     inflight_next = {inflight_q, req};     // the top bit falls off
    /* verilator lint_on UNUSEDSIGNAL */
    reg  [7:0]       f_q [0:DEPTH-1];        // f_q[0] is the head
    reg  [CW-1:0]    cnt_q;

    wire pop  = out_valid && out_ready;
    wire push = inflight_q[LAT-1];

    // req = left_nz_q && pending < DEPTH (pending: requests in flight and
    // bytes held), made a cycle ahead from the registers' next values: a
    // register, as req feeds the memories' read enables and chip selects
    wire [LAT-1:0] inflight_n = rst ? {LAT{1'b0}} : inflight_next[LAT-1:0];
    wire           left_nz_n  = rst ? 1'b0 : start ? (len != {LEN_W{1'b0}})
                              : req ? (left_q != {{(LEN_W-1){1'b0}}, 1'b1}) : left_nz_q;
    wire [CW-1:0]  cnt_n      = (rst || start) ? {CW{1'b0}}
                              : (push && !pop) ? cnt_q + 1'b1
                              : (pop && !push) ? cnt_q - 1'b1 : cnt_q;
    integer i;
    reg [CW:0] pending_n;
    always @(*) begin
        pending_n = {1'b0, cnt_n};
        for (i = 0; i < LAT; i = i + 1) pending_n = pending_n + {{CW{1'b0}}, inflight_n[i]};
    end
    localparam [CW:0] DEPTH_C = DEPTH[CW:0];
    reg left_nz_q, req_q;                    // left_q != 0, kept beside it
    assign req       = req_q;
    assign out_valid = (cnt_q != {CW{1'b0}});
    assign out_data  = f_q[0];

    always @(posedge clk) begin
        inflight_q <= inflight_n;
        // left_q keeps its enable form: as a multiplexer of left_q's next
        // value Yosys does not find the flip-flops' enable (about 16 LUTs)
        if (rst)        left_q <= {LEN_W{1'b0}};
        else if (start) left_q <= len;
        else if (req)   left_q <= left_q - 1'b1;
        left_nz_q <= left_nz_n;
        req_q     <= left_nz_n && (pending_n < DEPTH_C);
        // pop shifts toward the head; push fills the first free slot
        for (i = 0; i < DEPTH; i = i + 1) begin
            if (pop) begin
                if (push && i + 1 == {{(32-CW){1'b0}}, cnt_q}) f_q[i] <= data;
                else if (i + 1 < DEPTH)                   f_q[i] <= f_q[(i + 1 < DEPTH) ? i + 1 : i];
            end else if (push && i == {{(32-CW){1'b0}}, cnt_q}) begin
                f_q[i] <= data;
            end
        end
        cnt_q     <= cnt_n;
    end
`ifdef FORMAL
    // ------------------------------------------------------------------
    // Formal properties (docs/formal.md; tests/formal), any start, len,
    // data and out_ready (start only with nothing in flight and the FIFO
    // empty, as nnf_exec starts an answer): left_nz_q is left_q != 0; no
    // request without a byte left; never more bytes held and in flight than
    // DEPTH (a byte that arrives always has its entry); exactly len
    // requests after a start.
    // ------------------------------------------------------------------
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);
    integer f_i;
    reg [CW:0] pending;                       // requests in flight and bytes held
    always @(*) begin
        pending = {1'b0, cnt_q};
        for (f_i = 0; f_i < LAT; f_i = f_i + 1) pending = pending + {{CW{1'b0}}, inflight_q[f_i]};
    end
    always @(*) if (start) assume(inflight_q == {LAT{1'b0}} && cnt_q == {CW{1'b0}});
    reg [LEN_W:0] f_reqs;                     // requests since the last start
    reg [LEN_W-1:0] f_len;
    always @(posedge clk)
        if (rst)        begin f_reqs <= {(LEN_W+1){1'b0}}; f_len <= {LEN_W{1'b0}}; end
        else if (start) begin f_reqs <= {(LEN_W+1){1'b0}}; f_len <= len; end
        else if (req)   f_reqs <= f_reqs + 1'b1;
    always @(*) if (f_past_valid && !rst) begin
        assert(left_nz_q == (left_q != {LEN_W{1'b0}}));
        assert(req == (left_nz_q && (pending < DEPTH_C)));
        if (req) assert(left_q != {LEN_W{1'b0}});
        assert(pending <= DEPTH_C);
        assert(f_reqs + {1'b0, left_q} == {1'b0, f_len});
    end
`endif
endmodule

`default_nettype wire
