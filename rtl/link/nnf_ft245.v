// nnf_ft245: link adapter for an FTDI FT2232H / FT232H in synchronous FIFO
// ("245 sync") mode. Runs on the bridge's 60 MHz CLKOUT (the core shares
// that clock; a board whose core cannot close timing at 60 MHz needs a
// clock-domain FIFO in front, which this module does not have).
//
// Bridge side, all outputs registered, bus split into d_in / d_out / d_oe
// (the board top builds the tristate):
//   read:  RXF# low = a byte waits. We drive OE# low, one cycle later RD#
//          low; every rising edge with RD# and RXF# both low moves the byte
//          on the bus into our FIFO. RD# is only low while the FIFO can take
//          the byte of the next edge.
//   write: TXE# low = room. We drive the bus and WR# low; every rising edge
//          with WR# and TXE# both low moves our byte; we hold it otherwise.
// Direction changes leave one idle cycle with nobody driving the bus.
`default_nettype none

module nnf_ft245 #(
    parameter integer RX_FIFO = 8              // bytes, power of two >= 4
) (
    input  wire       clk,
    input  wire       rst,
    // bridge
    input  wire       rxf_n,
    input  wire       txe_n,
    input  wire [7:0] d_in,
    output reg  [7:0] d_out,
    output reg        d_oe,
    output reg        rd_n,
    output reg        wr_n,
    output reg        oe_n,
    // to the core's receive port
    output wire       rx_valid,
    output wire [7:0] rx_data,
    input  wire       rx_ready,
    // from the core's transmit port
    input  wire       tx_valid,
    input  wire [7:0] tx_data,
    output wire       tx_ready
);
    localparam [1:0] S_IDLE = 2'd0, S_RDOE = 2'd1, S_RD = 2'd2, S_WR = 2'd3;
    localparam integer CW = $clog2(RX_FIFO) + 1;
    reg  [1:0]    st_q;
    reg  [CW-1:0] cnt_q;                       // bytes in the FIFO

    wire took = (st_q == S_RD) && !rd_n && !rxf_n;          // a byte arrives at this edge
    wire sent = (st_q == S_WR) && !wr_n && !txe_n;          // our byte leaves at this edge
    wire popped = rx_valid && rx_ready;
    wire f_ready, f_full;
    // room for the byte of the next edge, whatever the core does meanwhile
    localparam [CW:0] DEPTH = RX_FIFO[CW:0];
    wire room = ({1'b0, cnt_q} + {{CW{1'b0}}, took}) < DEPTH;
    // the output register is free at this edge: load the core's next byte
    wire load = (st_q == S_WR) ? (wr_n || sent) : (st_q == S_IDLE) && !txe_n;
    assign tx_ready = load;

    nnf_fifo #(.DEPTH(RX_FIFO), .W(8)) u_fifo (
        .clk(clk), .rst(rst), .in_valid(took), .in_data(d_in), .in_ready(f_ready),
        .out_valid(rx_valid), .out_data(rx_data), .out_ready(rx_ready), .full(f_full));

    always @(posedge clk) begin
        if (rst) begin
            st_q  <= S_IDLE;
            cnt_q <= {CW{1'b0}};
            d_out <= 8'd0;
            d_oe  <= 1'b0;
            rd_n  <= 1'b1;
            wr_n  <= 1'b1;
            oe_n  <= 1'b1;
        end else begin
            cnt_q <= cnt_q + {{(CW-1){1'b0}}, took} - {{(CW-1){1'b0}}, popped};
            case (st_q)
                S_IDLE: begin
                    if (tx_valid && !txe_n) begin              // load now, send next edge
                        st_q  <= S_WR;
                        d_oe  <= 1'b1;
                        d_out <= tx_data;
                        wr_n  <= 1'b0;
                    end else if (!rxf_n && room) begin
                        st_q <= S_RDOE;
                        oe_n <= 1'b0;
                    end
                end
                S_RDOE: begin                                   // bridge now drives the bus
                    st_q <= S_RD;
                    rd_n <= 1'b0;
                end
                S_RD: begin
                    if (rxf_n || tx_valid) begin                // empty, or an answer to send
                        st_q <= S_IDLE;
                        rd_n <= 1'b1;
                        oe_n <= 1'b1;
                    end else begin
                        rd_n <= !room;
                    end
                end
                default: begin                                  // S_WR
                    if (load) begin
                        if (tx_valid) begin
                            d_out <= tx_data;
                            wr_n  <= 1'b0;
                        end else begin
                            st_q <= S_IDLE;
                            wr_n <= 1'b1;
                            d_oe <= 1'b0;
                        end
                    end
                end
            endcase
        end
    end

    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = &{1'b0, f_ready, f_full};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule

`default_nettype wire
