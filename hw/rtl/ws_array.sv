// Weight-stationary systolic array of N:M sparse PEs (nm_pe), Rows x Cols.
//
// Golden model: simulator.reference.SystolicArrayRef with Dataflow.WS and the
// fold timing given by Overlapped (SERIALIZED for 0, OVERLAPPED for 1). Its
// docstring defines the schedule; this array is that schedule's datapath, and
// its ports are the schedule's edge inputs with the skew taken out:
//
//   * Weight preload. One array row of compressed weights (N values and N
//     indices per column) per cycle on w_i / w_idx_i with w_load_i, bottom row
//     first, Rows cycles. Column c sees it c cycles later (skew registers), and
//     the column's load strobe shifts every PE of the column as one chain.
//     Overlapped = 0: the chain runs through the PEs' working weights.
//     Overlapped = 1: the chain runs through per-PE shadow registers, and a
//     swap bit (swap_i, skewed like the activations and then passed right one
//     PE per cycle) copies a PE's shadow into its working weights, so the next
//     fold's preload hides behind the current fold's stream.
//   * Activations. One row of A per cycle on act_i with act_valid_i: window r
//     (M lanes; N in dense mode, zero padded) for array row r. Row r sees it r
//     cycles later (skew registers); it then moves right one PE per cycle.
//   * Partial sums move down one PE per cycle, from 0 at the top.
//   * Output de-skew. The bottom PE of column c holds the psum of output row i
//     c cycles after column 0; column c is delayed by Cols-1-c registers, so
//     out_psum_o carries the whole output row at once with out_valid_o. The
//     last column has no de-skew register, so the array's total latency is
//     the reference's: the last output appears at the same edge.
//
// Gating = 1 gates every PE's multipliers with a zero operand (nm_pe);
// macs_o / gated_o / weight_writes_o count this cycle's live and gated
// multipliers over all PEs and the PE weight registers written (preload
// chain shifts and, with Overlapped, swaps): the action counts of the energy
// model, counted where they happen.
//
// dense_i selects the PEs' dense mode for the whole array. The stream never
// stalls: a cycle without act_valid_i is a bubble travelling with the
// wavefront (this is how the array takes rows from pingpong_buf: act_valid_i =
// rd_valid_o, rd_ready_i = 1).
//
// Ports are flat packed vectors: element j of width W sits at [j*W +: W];
// act_i holds row r's window at element r (M lanes each), w_i column c's N
// values at element c.
module ws_array #(
  // PE rows: the K windows reduced down a column.
  parameter int unsigned Rows       = 4,
  // PE columns: the output columns computed side by side.
  parameter int unsigned Cols       = 4,
  // Multipliers per PE (weights kept per group of M).
  parameter int unsigned N          = 2,
  // Group size: activation lanes per PE.
  parameter int unsigned M          = 4,
  // Width of one weight or activation.
  parameter int unsigned DataWidth  = 8,
  // Width of a partial sum; sums wrap at this width.
  parameter int unsigned AccWidth   = 32,
  // Shadow weight registers and a swap bit, for the overlapped fold timing.
  parameter bit          Overlapped = 1'b0,
  // Gate multipliers with a zero operand (nm_pe).
  parameter bit          Gating     = 1'b0,
  // Bits of one group index (at least 1, as in nm_pe).
  localparam int unsigned IdxWidth  = (M > 1) ? $clog2(M) : 1,
  // Bits of an array-wide count per cycle (up to 2 * Rows * Cols * N).
  localparam int unsigned CntWidth  = $clog2(2 * Rows * Cols * N + 1)
) (
  input  logic                          clk_i,
  input  logic                          rst_ni,

  input  logic                          dense_i,

  input  logic                          w_load_i,
  input  logic [Cols*N*DataWidth-1:0]   w_i,
  input  logic [Cols*N*IdxWidth-1:0]    w_idx_i,

  input  logic                          act_valid_i,
  input  logic                          swap_i,
  input  logic [Rows*M*DataWidth-1:0]   act_i,

  output logic [Cols-1:0]               out_valid_o,
  output logic [Cols*AccWidth-1:0]      out_psum_o,

  output logic [CntWidth-1:0]           macs_o,
  output logic [CntWidth-1:0]           gated_o,
  output logic [CntWidth-1:0]           weight_writes_o
);

  localparam int unsigned PeCntWidth = $clog2(N + 1);

  localparam int unsigned WBits   = N * DataWidth;
  localparam int unsigned IdxBits = N * IdxWidth;
  localparam int unsigned ActBits = M * DataWidth;

  typedef logic [WBits-1:0]   w_t;
  typedef logic [IdxBits-1:0] idx_t;
  typedef logic [ActBits-1:0] act_t;
  typedef logic [AccWidth-1:0] acc_t;

  ///////////////////////////
  // Weight skew (columns) //
  ///////////////////////////

  logic [Cols-1:0]              col_load;
  logic [Cols-1:0][WBits-1:0]   col_w;
  logic [Cols-1:0][IdxBits-1:0] col_idx;

  for (genvar c = 0; c < Cols; c++) begin : g_w_skew
    delay_line #(
      .Width (1 + WBits + IdxBits),
      .Depth (c)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .data_i ({w_load_i, w_i[c*WBits +: WBits], w_idx_i[c*IdxBits +: IdxBits]}),
      .data_o ({col_load[c], col_w[c], col_idx[c]})
    );
  end

  ////////////////////////////
  // Activation skew (rows) //
  ////////////////////////////

  logic [Rows-1:0]              row_valid;
  logic [Rows-1:0]              row_swap;
  logic [Rows-1:0][ActBits-1:0] row_act;

  for (genvar r = 0; r < Rows; r++) begin : g_act_skew
    delay_line #(
      .Width (2 + ActBits),
      .Depth (r)
    ) u_skew (
      .clk_i,
      .rst_ni,
      .data_i ({act_valid_i, swap_i, act_i[r*ActBits +: ActBits]}),
      .data_o ({row_valid[r], row_swap[r], row_act[r]})
    );
  end

  //////////////
  // PE array //
  //////////////

  // Registered outputs of PE (r, c), and what it passes down the weight chain
  // (its working weights, or with Overlapped its shadow) and right on the swap
  // line (with Overlapped a register, else 0).
  logic [Rows-1:0][Cols-1:0]               pe_valid;
  logic [Rows-1:0][Cols-1:0][ActBits-1:0]  pe_act;
  logic [Rows-1:0][Cols-1:0][AccWidth-1:0] pe_psum;
  logic [Rows-1:0][Cols-1:0][WBits-1:0]    pe_w;
  logic [Rows-1:0][Cols-1:0][IdxBits-1:0]  pe_idx;
  logic [Rows-1:0][Cols-1:0][WBits-1:0]    chain_w;
  logic [Rows-1:0][Cols-1:0][IdxBits-1:0]  chain_idx;
  logic [Rows-1:0][Cols-1:0]               swap_out;
  logic [Rows-1:0][Cols-1:0][PeCntWidth-1:0] pe_macs, pe_gated;
  logic [Rows-1:0][Cols-1:0]               pe_w_write, pe_swap;

  for (genvar r = 0; r < Rows; r++) begin : g_row
    for (genvar c = 0; c < Cols; c++) begin : g_col
      logic valid_in;
      act_t act_in;
      acc_t psum_in;
      logic swap_in;
      w_t   chain_w_in;
      idx_t chain_idx_in;
      logic w_load;
      w_t   w_in;
      idx_t idx_in;

      // From the left: the row's skewed input, or the left neighbour's registers.
      if (c == 0) begin : g_left_edge
        assign valid_in = row_valid[r];
        assign act_in   = row_act[r];
        assign swap_in  = row_swap[r];
      end else begin : g_left_pe
        assign valid_in = pe_valid[r][c-1];
        assign act_in   = pe_act[r][c-1];
        assign swap_in  = swap_out[r][c-1];
      end

      // From above: the column's skewed weights at the top, else the upper
      // neighbour's chain; the partial sum starts at zero.
      if (r == 0) begin : g_top_edge
        assign psum_in      = '0;
        assign chain_w_in   = col_w[c];
        assign chain_idx_in = col_idx[c];
      end else begin : g_up_pe
        assign psum_in      = pe_psum[r-1][c];
        assign chain_w_in   = chain_w[r-1][c];
        assign chain_idx_in = chain_idx[r-1][c];
      end

      // Weight registers written this cycle: the chain's (working weights or
      // shadow) on a load, and with Overlapped the working weights on a swap.
      assign pe_w_write[r][c] = col_load[c];
      assign pe_swap[r][c]    = Overlapped && swap_in;

      if (!Overlapped) begin : g_chain
        // The preload chain runs through the working weights; the column's
        // load strobe shifts every row at once.
        assign w_load          = col_load[c];
        assign w_in            = chain_w_in;
        assign idx_in          = chain_idx_in;
        assign chain_w[r][c]   = pe_w[r][c];
        assign chain_idx[r][c] = pe_idx[r][c];
        // No shadows, nothing to swap.
        assign swap_out[r][c]  = 1'b0;
        logic unused_swap_in;
        assign unused_swap_in = swap_in;
      end else begin : g_shadow
        // The chain runs through the shadows; swap copies a shadow into the
        // PE (its incoming value, so a swap may meet the chain's last shift).
        w_t   shadow_d, shadow_q;
        idx_t shadow_idx_d, shadow_idx_q;
        logic swap_q;

        always_comb begin
          shadow_d     = shadow_q;
          shadow_idx_d = shadow_idx_q;
          if (col_load[c]) begin
            shadow_d     = chain_w_in;
            shadow_idx_d = chain_idx_in;
          end
        end

        always_ff @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) begin
            shadow_q     <= '0;
            shadow_idx_q <= '0;
            swap_q       <= 1'b0;
          end else begin
            shadow_q     <= shadow_d;
            shadow_idx_q <= shadow_idx_d;
            swap_q       <= swap_in;
          end
        end

        assign w_load          = swap_in;
        assign w_in            = shadow_d;
        assign idx_in          = shadow_idx_d;
        assign chain_w[r][c]   = shadow_q;
        assign chain_idx[r][c] = shadow_idx_q;
        assign swap_out[r][c]  = swap_q;
      end

      nm_pe #(
        .N         (N),
        .M         (M),
        .DataWidth (DataWidth),
        .AccWidth  (AccWidth),
        .Gating    (Gating)
      ) u_pe (
        .clk_i,
        .rst_ni,
        .dense_i,
        .w_load_i (w_load),
        .w_i      (w_in),
        .w_idx_i  (idx_in),
        .valid_i  (valid_in),
        .act_i    (act_in),
        .psum_i   (psum_in),
        .valid_o  (pe_valid[r][c]),
        .act_o    (pe_act[r][c]),
        .psum_o   (pe_psum[r][c]),
        .w_o      (pe_w[r][c]),
        .w_idx_o  (pe_idx[r][c]),
        .macs_o   (pe_macs[r][c]),
        .gated_o  (pe_gated[r][c])
      );
    end
  end

  ///////////////////
  // Action counts //
  ///////////////////

  always_comb begin
    macs_o          = '0;
    gated_o         = '0;
    weight_writes_o = '0;
    for (int unsigned r = 0; r < Rows; r++) begin
      for (int unsigned c = 0; c < Cols; c++) begin
        macs_o          = macs_o + CntWidth'(pe_macs[r][c]);
        gated_o         = gated_o + CntWidth'(pe_gated[r][c]);
        weight_writes_o = weight_writes_o + CntWidth'(pe_w_write[r][c])
                          + CntWidth'(pe_swap[r][c]);
      end
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

  // At the right edge: the last column's activations, valids (but the bottom
  // row's) and swap line. At the bottom: the chain. With Overlapped the chain
  // runs through the shadows, so no PE's own weight outputs are read.
  for (genvar r = 0; r < Rows; r++) begin : g_unused_right
    logic unused_right;
    if (r == Rows - 1) begin : g_bottom
      assign unused_right = ^{pe_act[r][Cols-1], swap_out[r][Cols-1]};
    end else begin : g_other
      assign unused_right = ^{pe_act[r][Cols-1], pe_valid[r][Cols-1], swap_out[r][Cols-1]};
    end
  end
  logic unused_chain;
  assign unused_chain = ^{chain_w[Rows-1], chain_idx[Rows-1]};
  if (Overlapped) begin : g_unused_pe_w
    logic unused_pe_w;
    assign unused_pe_w = ^{pe_w, pe_idx};
  end

  ////////////////
  // Assertions //
  ////////////////

  if (Rows < 1 || Cols < 1) begin : g_bad_size
    $error("ws_array: needs Rows, Cols >= 1, got %0d x %0d", Rows, Cols);
  end

endmodule
