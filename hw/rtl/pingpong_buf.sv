// Double-buffered (ping-pong) scratchpad: one bank is filled while the other
// is read, so loading the next tile hides behind the use of the current one.
//
// Golden model: simulator.reference.PingPongBufferRef (one `step` = one rising
// edge here).
//
// Write side: a valid/ready stream of words. Words fill the write bank from
// address 0; the tile ends with wr_last_i or when the bank is full (Depth
// words). At the edge that writes a tile's last word the bank is handed to the
// read side (its full flag sets) and writing moves to the other bank.
// wr_ready_o is low while the write bank still holds an unread tile.
//
// Read side: a valid/ready stream of the full bank's words in address order,
// rd_last_o on the tile's last word. The word is read into the output register
// (a synchronous SRAM read) when that register is empty or being taken, so a
// tile streams at one word per cycle. At the edge that reads a tile's last
// word the bank is handed back (its full flag clears) and reading moves to the
// other bank. The array takes activation rows from rd_data_o: its input valid
// is rd_valid_o, and it is always ready (a systolic array never stalls; a cycle
// without valid is a bubble that travels with the wavefront).
//
// All outputs are registers or functions of registers only. The banks are not
// reset (a bank is only read after it was written).
module pingpong_buf #(
  // Bits per word (one array operand row, or one weight row).
  parameter int unsigned Width = 32,
  // Words per bank: the largest tile.
  parameter int unsigned Depth = 8,
  // Bits of a word address within a bank (at least 1).
  localparam int unsigned AddrWidth = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  input  logic             wr_valid_i,
  output logic             wr_ready_o,
  input  logic [Width-1:0] wr_data_i,
  input  logic             wr_last_i,

  output logic             rd_valid_o,
  input  logic             rd_ready_i,
  output logic [Width-1:0] rd_data_o,
  output logic             rd_last_o
);

  localparam int unsigned NumBanks = 2;
  localparam logic [AddrWidth-1:0] LastAddr = AddrWidth'(Depth - 1);

  ///////////
  // Banks //
  ///////////

  logic [Width-1:0] mem_q [NumBanks][Depth];

  logic                 wr_bank_d, wr_bank_q;
  logic [AddrWidth-1:0] wr_ptr_d, wr_ptr_q;
  logic                 rd_bank_d, rd_bank_q;
  logic [AddrWidth-1:0] rd_ptr_d, rd_ptr_q;
  // full_q[b]: bank b holds a complete tile not yet read out.
  logic [NumBanks-1:0]  full_d, full_q;
  // last_q[b]: address of the last word of bank b's tile.
  logic [NumBanks-1:0][AddrWidth-1:0] last_d, last_q;

  logic                 rd_valid_d, rd_valid_q;
  logic [Width-1:0]     rd_data_d, rd_data_q;
  logic                 rd_last_d, rd_last_q;

  logic                 write, write_end, read, read_end;

  ////////////////
  // Write side //
  ////////////////

  assign wr_ready_o = !full_q[wr_bank_q];
  assign write      = wr_valid_i && wr_ready_o;
  assign write_end  = write && (wr_last_i || wr_ptr_q == LastAddr);

  always_ff @(posedge clk_i) begin
    if (write) begin
      mem_q[wr_bank_q][wr_ptr_q] <= wr_data_i;
    end
  end

  ///////////////
  // Read side //
  ///////////////

  assign read     = full_q[rd_bank_q] && (!rd_valid_q || rd_ready_i);
  assign read_end = read && (rd_ptr_q == last_q[rd_bank_q]);

  ///////////////////
  // Control state //
  ///////////////////

  always_comb begin
    wr_bank_d  = wr_bank_q;
    wr_ptr_d   = wr_ptr_q;
    rd_bank_d  = rd_bank_q;
    rd_ptr_d   = rd_ptr_q;
    full_d     = full_q;
    last_d     = last_q;
    rd_valid_d = rd_valid_q;
    rd_data_d  = rd_data_q;
    rd_last_d  = rd_last_q;

    if (write) begin
      wr_ptr_d = wr_ptr_q + AddrWidth'(1);
      if (write_end) begin
        full_d[wr_bank_q] = 1'b1;
        last_d[wr_bank_q] = wr_ptr_q;
        wr_bank_d         = !wr_bank_q;
        wr_ptr_d          = '0;
      end
    end

    if (read) begin
      rd_valid_d = 1'b1;
      rd_data_d  = mem_q[rd_bank_q][rd_ptr_q];
      rd_last_d  = read_end;
      rd_ptr_d   = rd_ptr_q + AddrWidth'(1);
      if (read_end) begin
        // Never the bank being written this cycle: that one is not full.
        full_d[rd_bank_q] = 1'b0;
        rd_bank_d         = !rd_bank_q;
        rd_ptr_d          = '0;
      end
    end else if (rd_ready_i) begin
      rd_valid_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_bank_q  <= 1'b0;
      wr_ptr_q   <= '0;
      rd_bank_q  <= 1'b0;
      rd_ptr_q   <= '0;
      full_q     <= '0;
      last_q     <= '0;
      rd_valid_q <= 1'b0;
      rd_data_q  <= '0;
      rd_last_q  <= 1'b0;
    end else begin
      wr_bank_q  <= wr_bank_d;
      wr_ptr_q   <= wr_ptr_d;
      rd_bank_q  <= rd_bank_d;
      rd_ptr_q   <= rd_ptr_d;
      full_q     <= full_d;
      last_q     <= last_d;
      rd_valid_q <= rd_valid_d;
      rd_data_q  <= rd_data_d;
      rd_last_q  <= rd_last_d;
    end
  end

  assign rd_valid_o = rd_valid_q;
  assign rd_data_o  = rd_data_q;
  assign rd_last_o  = rd_last_q;

  ////////////////
  // Assertions //
  ////////////////

  if (Width < 1 || Depth < 1) begin : g_bad_size
    $error("pingpong_buf: Width=%0d and Depth=%0d must be >= 1", Width, Depth);
  end

endmodule
