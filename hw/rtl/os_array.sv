// Output-stationary systolic array of N:M sparse PEs (nm_pe_os), Rows x Cols.
//
// Golden model: simulator.reference.SystolicArrayRef with Dataflow.OS (either
// fold timing: the array is the same, only the controller's schedule differs).
// Its docstring defines the schedule; this array is that schedule's datapath,
// and its ports are the schedule's edge inputs with the skew taken out:
//
//   * Activations. Window t of A's rows, one per array row, per cycle on act_i
//     with act_valid_i, act_first_i (t = 0) and act_last_i (t = T-1). Row r
//     sees it r cycles later (skew registers); it then moves right one PE per
//     cycle.
//   * Weights. Window t of W's columns (compressed: N values, N indices), one
//     per array column, per cycle on w_i / w_idx_i. Column c sees it c cycles
//     later (skew registers); it then moves down one PE per cycle, so both
//     operands of step t meet in PE (r, c) r + c cycles after they entered.
//     The weights need no valid of their own: a PE takes them with the
//     activations' valid.
//   * Outputs stay in place. PE (r, c) accumulates O[m0 + r, n0 + c]; at its
//     last window the sum moves to the PE's output register (the second
//     accumulator buffer) and out_valid_o[r*Cols + c] pulses for one cycle
//     with the value on out_o. The GLB collects them while the next fold
//     accumulates (the reference counts no drain for OS), so the outputs leave
//     skewed by r + c, with no de-skew registers.
//
// dense_i selects the PEs' dense mode for the whole array.
//
// Ports are flat packed vectors: element j of width W sits at [j*W +: W].
module os_array #(
  // PE rows: output rows computed side by side.
  parameter int unsigned Rows      = 4,
  // PE columns: output columns computed side by side.
  parameter int unsigned Cols      = 4,
  // Multipliers per PE (weights kept per group of M).
  parameter int unsigned N         = 2,
  // Group size: activation lanes per PE.
  parameter int unsigned M         = 4,
  // Width of one weight or activation.
  parameter int unsigned DataWidth = 8,
  // Width of an accumulator; sums wrap at this width.
  parameter int unsigned AccWidth  = 32,
  // Bits of one group index (at least 1, as in nm_pe).
  localparam int unsigned IdxWidth = (M > 1) ? $clog2(M) : 1
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,

  input  logic                          dense_i,

  input  logic                          act_valid_i,
  input  logic                          act_first_i,
  input  logic                          act_last_i,
  input  logic [Rows*M*DataWidth-1:0]   act_i,

  input  logic [Cols*N*DataWidth-1:0]   w_i,
  input  logic [Cols*N*IdxWidth-1:0]    w_idx_i,

  output logic [Rows*Cols-1:0]          out_valid_o,
  output logic [Rows*Cols*AccWidth-1:0] out_o
);

  localparam int unsigned WBits   = N * DataWidth;
  localparam int unsigned IdxBits = N * IdxWidth;
  localparam int unsigned ActBits = M * DataWidth;

  typedef logic [WBits-1:0]   w_t;
  typedef logic [IdxBits-1:0] idx_t;
  typedef logic [ActBits-1:0] act_t;

  ////////////////////////////
  // Activation skew (rows) //
  ////////////////////////////

  logic [Rows-1:0]              row_valid, row_first, row_last;
  logic [Rows-1:0][ActBits-1:0] row_act;

  for (genvar r = 0; r < Rows; r++) begin : g_act_skew
    delay_line #(
      .Width (3 + ActBits),
      .Depth (r)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .data_i ({act_valid_i, act_first_i, act_last_i, act_i[r*ActBits +: ActBits]}),
      .data_o ({row_valid[r], row_first[r], row_last[r], row_act[r]})
    );
  end

  ///////////////////////////
  // Weight skew (columns) //
  ///////////////////////////

  logic [Cols-1:0][WBits-1:0]   col_w;
  logic [Cols-1:0][IdxBits-1:0] col_idx;

  for (genvar c = 0; c < Cols; c++) begin : g_w_skew
    delay_line #(
      .Width (WBits + IdxBits),
      .Depth (c)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .data_i ({w_i[c*WBits +: WBits], w_idx_i[c*IdxBits +: IdxBits]}),
      .data_o ({col_w[c], col_idx[c]})
    );
  end

  //////////////
  // PE array //
  //////////////

  // Registered outputs of PE (r, c) that travel on.
  logic [Rows-1:0][Cols-1:0]              pe_valid, pe_first, pe_last;
  logic [Rows-1:0][Cols-1:0][ActBits-1:0] pe_act;
  logic [Rows-1:0][Cols-1:0][WBits-1:0]   pe_w;
  logic [Rows-1:0][Cols-1:0][IdxBits-1:0] pe_idx;

  for (genvar r = 0; r < Rows; r++) begin : g_row
    for (genvar c = 0; c < Cols; c++) begin : g_col
      logic valid_in, first_in, last_in;
      act_t act_in;
      w_t   w_in;
      idx_t idx_in;

      if (c == 0) begin : g_left_edge
        assign valid_in = row_valid[r];
        assign first_in = row_first[r];
        assign last_in  = row_last[r];
        assign act_in   = row_act[r];
      end else begin : g_left_pe
        assign valid_in = pe_valid[r][c-1];
        assign first_in = pe_first[r][c-1];
        assign last_in  = pe_last[r][c-1];
        assign act_in   = pe_act[r][c-1];
      end

      if (r == 0) begin : g_top_edge
        assign w_in   = col_w[c];
        assign idx_in = col_idx[c];
      end else begin : g_up_pe
        assign w_in   = pe_w[r-1][c];
        assign idx_in = pe_idx[r-1][c];
      end

      nm_pe_os #(
        .N         (N),
        .M         (M),
        .DataWidth (DataWidth),
        .AccWidth  (AccWidth)
      ) u_pe (
        .clk_i,
        .rst_ni,
        .dense_i,
        .valid_i     (valid_in),
        .first_i     (first_in),
        .last_i      (last_in),
        .act_i       (act_in),
        .w_i         (w_in),
        .w_idx_i     (idx_in),
        .valid_o     (pe_valid[r][c]),
        .first_o     (pe_first[r][c]),
        .last_o      (pe_last[r][c]),
        .act_o       (pe_act[r][c]),
        .w_o         (pe_w[r][c]),
        .w_idx_o     (pe_idx[r][c]),
        .out_valid_o (out_valid_o[r*Cols + c]),
        .out_o       (out_o[(r*Cols + c)*AccWidth +: AccWidth])
      );
    end
  end

  ///////////////////////
  // Unused on purpose //
  ///////////////////////

  // Activations and their flags leave at the right edge, weights at the bottom.
  for (genvar r = 0; r < Rows; r++) begin : g_unused_right
    logic unused_right;
    assign unused_right = ^{pe_valid[r][Cols-1], pe_first[r][Cols-1], pe_last[r][Cols-1],
                            pe_act[r][Cols-1]};
  end
  logic unused_bottom;
  assign unused_bottom = ^{pe_w[Rows-1], pe_idx[Rows-1]};

  ////////////////
  // Assertions //
  ////////////////

  if (Rows < 1 || Cols < 1) begin : g_bad_size
    $error("os_array: needs Rows, Cols >= 1, got %0d x %0d", Rows, Cols);
  end

endmodule
