// Input-stationary systolic array of N:M sparse PEs (nm_pe_is), Rows x Cols.
//
// Golden model: simulator.reference.SystolicArrayRef with Dataflow.IS and the
// fold timing given by Overlapped (SERIALIZED for 0, OVERLAPPED for 1). The
// schedule is the weight-stationary one (ws_array) with the operands' roles
// swapped, and so is this datapath:
//
//   * Input preload. One array row of input windows (M inputs per column:
//     PE (r, c) holds A[m0 + c, k0 + r*win : +win], zero padded) per cycle on
//     x_i with x_load_i, bottom row first, Rows cycles. Column c sees it c
//     cycles later (skew registers); the column's load strobe shifts every PE
//     of the column as one chain. Overlapped = 0: the chain runs through the
//     PEs' working inputs. Overlapped = 1: through per-PE shadow registers,
//     and a swap bit (swap_i, skewed like the weights, then passed right one
//     PE per cycle) copies a shadow into the working inputs.
//   * Weights. One weight column per cycle on w_i / w_idx_i with w_valid_i:
//     window r (N values and N indices, compressed) for array row r. Row r
//     sees it r cycles later; it then moves right one PE per cycle.
//   * Partial sums move down one PE per cycle, from 0 at the top.
//   * Output de-skew as in ws_array: out_psum_o carries, for weight column j,
//     the partial sums of O[m0 + c, j] of every column c at once, and the
//     last output appears at the reference's edge.
//
// dense_i selects the PEs' dense mode for the whole array. A cycle without
// w_valid_i is a bubble travelling with the wavefront.
//
// Ports are flat packed vectors: element j of width W sits at [j*W +: W];
// w_i holds row r's N weights at element r, x_i column c's M inputs at
// element c.
module is_array #(
  // PE rows: the K windows reduced down a column.
  parameter int unsigned Rows       = 4,
  // PE columns: the output rows (of A) computed side by side.
  parameter int unsigned Cols       = 4,
  // Multipliers per PE (weights per group of M).
  parameter int unsigned N          = 2,
  // Group size: inputs held per PE.
  parameter int unsigned M          = 4,
  // Width of one weight or input.
  parameter int unsigned DataWidth  = 8,
  // Width of a partial sum; sums wrap at this width.
  parameter int unsigned AccWidth   = 32,
  // Shadow input registers and a swap bit, for the overlapped fold timing.
  parameter bit          Overlapped = 1'b0,
  // Bits of one group index (at least 1, as in nm_pe).
  localparam int unsigned IdxWidth  = (M > 1) ? $clog2(M) : 1
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,

  input  logic                          dense_i,

  input  logic                          x_load_i,
  input  logic [Cols*M*DataWidth-1:0]   x_i,

  input  logic                          w_valid_i,
  input  logic                          swap_i,
  input  logic [Rows*N*DataWidth-1:0]   w_i,
  input  logic [Rows*N*IdxWidth-1:0]    w_idx_i,

  output logic [Cols-1:0]               out_valid_o,
  output logic [Cols*AccWidth-1:0]      out_psum_o
);

  localparam int unsigned WBits   = N * DataWidth;
  localparam int unsigned IdxBits = N * IdxWidth;
  localparam int unsigned XBits   = M * DataWidth;

  typedef logic [WBits-1:0]    w_t;
  typedef logic [IdxBits-1:0]  idx_t;
  typedef logic [XBits-1:0]    x_t;
  typedef logic [AccWidth-1:0] acc_t;

  //////////////////////////
  // Input skew (columns) //
  //////////////////////////

  logic [Cols-1:0]            col_load;
  logic [Cols-1:0][XBits-1:0] col_x;

  for (genvar c = 0; c < Cols; c++) begin : g_x_skew
    delay_line #(
      .Width (1 + XBits),
      .Depth (c)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .data_i ({x_load_i, x_i[c*XBits +: XBits]}),
      .data_o ({col_load[c], col_x[c]})
    );
  end

  ////////////////////////
  // Weight skew (rows) //
  ////////////////////////

  logic [Rows-1:0]              row_valid;
  logic [Rows-1:0]              row_swap;
  logic [Rows-1:0][WBits-1:0]   row_w;
  logic [Rows-1:0][IdxBits-1:0] row_idx;

  for (genvar r = 0; r < Rows; r++) begin : g_w_skew
    delay_line #(
      .Width (2 + WBits + IdxBits),
      .Depth (r)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .data_i ({w_valid_i, swap_i, w_i[r*WBits +: WBits], w_idx_i[r*IdxBits +: IdxBits]}),
      .data_o ({row_valid[r], row_swap[r], row_w[r], row_idx[r]})
    );
  end

  //////////////
  // PE array //
  //////////////

  // Registered outputs of PE (r, c), and what it passes down the input chain
  // (its working inputs, or with Overlapped its shadow) and right on the swap
  // line (with Overlapped a register, else 0).
  logic [Rows-1:0][Cols-1:0]               pe_valid;
  logic [Rows-1:0][Cols-1:0][WBits-1:0]    pe_w;
  logic [Rows-1:0][Cols-1:0][IdxBits-1:0]  pe_idx;
  logic [Rows-1:0][Cols-1:0][AccWidth-1:0] pe_psum;
  logic [Rows-1:0][Cols-1:0][XBits-1:0]    pe_x;
  logic [Rows-1:0][Cols-1:0][XBits-1:0]    chain_x;
  logic [Rows-1:0][Cols-1:0]               swap_out;

  for (genvar r = 0; r < Rows; r++) begin : g_row
    for (genvar c = 0; c < Cols; c++) begin : g_col
      logic valid_in;
      w_t   w_in;
      idx_t idx_in;
      acc_t psum_in;
      logic swap_in;
      x_t   chain_x_in;
      logic x_load;
      x_t   x_in;

      // From the left: the row's skewed weights, or the left neighbour's registers.
      if (c == 0) begin : g_left_edge
        assign valid_in = row_valid[r];
        assign w_in     = row_w[r];
        assign idx_in   = row_idx[r];
        assign swap_in  = row_swap[r];
      end else begin : g_left_pe
        assign valid_in = pe_valid[r][c-1];
        assign w_in     = pe_w[r][c-1];
        assign idx_in   = pe_idx[r][c-1];
        assign swap_in  = swap_out[r][c-1];
      end

      // From above: the column's skewed inputs at the top, else the upper
      // neighbour's chain; the partial sum starts at zero.
      if (r == 0) begin : g_top_edge
        assign psum_in    = '0;
        assign chain_x_in = col_x[c];
      end else begin : g_up_pe
        assign psum_in    = pe_psum[r-1][c];
        assign chain_x_in = chain_x[r-1][c];
      end

      if (!Overlapped) begin : g_chain
        // The preload chain runs through the working inputs; the column's
        // load strobe shifts every row at once.
        assign x_load         = col_load[c];
        assign x_in           = chain_x_in;
        assign chain_x[r][c]  = pe_x[r][c];
        assign swap_out[r][c] = 1'b0;
        logic unused_swap_in;
        assign unused_swap_in = swap_in;
      end else begin : g_shadow
        // The chain runs through the shadows; swap copies a shadow into the
        // PE (its incoming value, so a swap may meet the chain's last shift).
        x_t   shadow_d, shadow_q;
        logic swap_q;

        assign shadow_d = col_load[c] ? chain_x_in : shadow_q;

        always_ff @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) begin
            shadow_q <= '0;
            swap_q   <= 1'b0;
          end else begin
            shadow_q <= shadow_d;
            swap_q   <= swap_in;
          end
        end

        assign x_load         = swap_in;
        assign x_in           = shadow_d;
        assign chain_x[r][c]  = shadow_q;
        assign swap_out[r][c] = swap_q;
      end

      nm_pe_is #(
        .N         (N),
        .M         (M),
        .DataWidth (DataWidth),
        .AccWidth  (AccWidth)
      ) u_pe (
        .clk_i,
        .rst_ni,
        .dense_i,
        .x_load_i (x_load),
        .x_i      (x_in),
        .valid_i  (valid_in),
        .w_i      (w_in),
        .w_idx_i  (idx_in),
        .psum_i   (psum_in),
        .valid_o  (pe_valid[r][c]),
        .w_o      (pe_w[r][c]),
        .w_idx_o  (pe_idx[r][c]),
        .psum_o   (pe_psum[r][c]),
        .x_o      (pe_x[r][c])
      );
    end
  end

  //////////////////////////////
  // Output de-skew (columns) //
  //////////////////////////////

  for (genvar c = 0; c < Cols; c++) begin : g_out_deskew
    delay_line #(
      .Width (1 + AccWidth),
      .Depth (Cols - 1 - c)
    ) u_deskew (
      .clk_i,
      .rst_ni,
      .data_i ({pe_valid[Rows-1][c], pe_psum[Rows-1][c]}),
      .data_o ({out_valid_o[c], out_psum_o[c*AccWidth +: AccWidth]})
    );
  end

  ///////////////////////
  // Unused on purpose //
  ///////////////////////

  // At the right edge: the last column's weights, valids (but the bottom
  // row's) and swap line. At the bottom: the chain. With Overlapped the chain
  // runs through the shadows, so no PE's own input outputs are read.
  for (genvar r = 0; r < Rows; r++) begin : g_unused_right
    logic unused_right;
    if (r == Rows - 1) begin : g_bottom
      assign unused_right = ^{pe_w[r][Cols-1], pe_idx[r][Cols-1], swap_out[r][Cols-1]};
    end else begin : g_other
      assign unused_right = ^{pe_w[r][Cols-1], pe_idx[r][Cols-1], pe_valid[r][Cols-1],
                              swap_out[r][Cols-1]};
    end
  end
  logic unused_chain;
  assign unused_chain = ^chain_x[Rows-1];
  if (Overlapped) begin : g_unused_pe_x
    logic unused_pe_x;
    assign unused_pe_x = ^pe_x;
  end

  ////////////////
  // Assertions //
  ////////////////

  if (Rows < 1 || Cols < 1) begin : g_bad_size
    $error("is_array: needs Rows, Cols >= 1, got %0d x %0d", Rows, Cols);
  end

endmodule
