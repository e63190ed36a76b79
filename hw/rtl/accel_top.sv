// An N:M sparse accelerator that runs a whole tiled GEMM from its buffers.
//
//   O (Mg x Ng) = A (Mg x Kg) @ W (Kg x Ng), int DataWidth in, AccWidth out (wrap)
//
// on a weight-stationary array (ws_array, Rows x Cols nm_pe, Overlapped picks
// the fold timing), with
//
//   * operand buffers, each two banks (ping-pong): the weight buffer holds
//     compressed windows (N values + N group indices: the N:M metadata), the
//     activation buffer windows of M lanes. One bank fills from the input
//     streams while the controller computes from the other;
//   * nm_compressor in the weight path: the weight stream carries dense
//     groups of M values (dense mode: N values, the other lanes 0, which the
//     compressor keeps in place with indices 0..N-1);
//   * an accumulator / output buffer: the partial sums of every K fold are
//     added in place (the first K fold writes), then streamed out;
//   * a tile controller that walks the fold sequence of the GEMM cut into
//     GLB tiles (tm, tn, tk): loops, outermost first, N tile, K tile, M tile,
//     column fold, row fold. A fold preloads Rows weight rows (bottom first)
//     and streams its M tile's rows; folds run back to back with the
//     reference's fold timing (simulator.reference.array):
//       serialized: preload f+1 starts the edge after fold f's last output;
//       overlapped: preload f+1 starts once the chain is free and fold f's
//       swap bit has passed the bottom row (P' >= P + R, P' >= S + R - 1),
//       its stream once the port is free and its weights are in
//       (S' >= S + T, S' >= P' + R), the swap bit one edge ahead.
//     So `cycles_o` (first preload edge to the last array output, the
//     reference's count) equals simulator.tile_model.fold_streams(...)
//     .compute_cycles for the same shape and tiles: the operands are resident
//     before the start, so there are no memory stalls.
//
// Interfaces (all valid/ready; a beat moves at an edge with valid && ready):
//   w_*:   weight groups in K-window-major order: for window g, for column n,
//          W[g*win : (g+1)*win, n] (win = M sparse, N dense; zero padded to
//          M lanes). w_last_i on the last group of the GEMM.
//   a_*:   activation windows in row-major order: for row i, for window g,
//          A[i, g*win : (g+1)*win] (zero padded to M lanes); a_last_i last.
//          A bank is full when both streams have seen `last`.
//   cmd_*: the GEMM shape (Mg, Ng, Kg elements), the tile (tm, tn, tk; tk a
//          multiple of M) and the mode (dense); taken when the controller
//          is idle and a bank is full, it runs that bank.
//   o_*:   the outputs O[i, n], row-major, o_last_o on the last.
// cycles_o holds the last run's cycles; busy_o is high from a command to the
// last output beat. counts_o holds the last run's action counts (32 bits
// each, cleared by a command; simulator.action_counts has the model's):
//   0 macs: live multiplier slots (nonzero weight and activation)
//   1 gated_macs: multiplier slots of a valid PE that were gated
//   2 pe_weight_writes: PE weight registers written (chain shifts, swaps)
//   3 weight_buffer_reads: compressed windows read for preloads
//   4 act_buffer_reads: activation windows read for streams
//   5 acc_reads, 6 acc_writes: accumulator read-modify-writes (the first
//     K fold of an output writes without reading)
//
// Buffers are flop arrays here (a memory compiler's SRAM macro in silicon):
// WDepth compressed windows and ADepth activation windows per bank, ODepth
// accumulators. hw/accel_config.py derives every parameter from an arch YAML.
module accel_top #(
  parameter int unsigned Rows       = 4,
  parameter int unsigned Cols       = 4,
  parameter int unsigned N          = 2,
  parameter int unsigned M          = 4,
  parameter int unsigned DataWidth  = 8,
  parameter int unsigned AccWidth   = 32,
  parameter bit          Overlapped = 1'b1,
  // Gate multipliers with a zero operand (nm_pe).
  parameter bit          Gating     = 1'b1,
  // Words per bank: weight windows, activation windows; accumulators.
  parameter int unsigned WDepth     = 256,
  parameter int unsigned ADepth     = 256,
  parameter int unsigned ODepth     = 256,
  // Bits of the shape and tile registers.
  parameter int unsigned DimWidth   = 16,
  localparam int unsigned IdxWidth  = (M > 1) ? $clog2(M) : 1,
  localparam int unsigned NumCounts = 7
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,

  input  logic                   w_valid_i,
  output logic                   w_ready_o,
  input  logic [M*DataWidth-1:0] w_group_i,
  input  logic                   w_last_i,

  input  logic                   a_valid_i,
  output logic                   a_ready_o,
  input  logic [M*DataWidth-1:0] a_window_i,
  input  logic                   a_last_i,

  input  logic                   cmd_valid_i,
  output logic                   cmd_ready_o,
  input  logic                   cmd_dense_i,
  input  logic [DimWidth-1:0]    cmd_m_i,
  input  logic [DimWidth-1:0]    cmd_n_i,
  input  logic [DimWidth-1:0]    cmd_k_i,
  input  logic [DimWidth-1:0]    cmd_tm_i,
  input  logic [DimWidth-1:0]    cmd_tn_i,
  input  logic [DimWidth-1:0]    cmd_tk_i,

  output logic                   o_valid_o,
  input  logic                   o_ready_i,
  output logic [AccWidth-1:0]    o_data_o,
  output logic                   o_last_o,

  output logic                   busy_o,
  output logic [31:0]            cycles_o,
  output logic [NumCounts*32-1:0] counts_o,

  // Observability: the array's preload strobe, swap bit, stream valid (this
  // cycle's inputs) and column 0's output valid, in one word for a monitor.
  output logic [3:0]             ctrl_o
);

  localparam int unsigned WBits   = N * DataWidth;
  localparam int unsigned IdxBits = N * IdxWidth;
  localparam int unsigned ABits   = M * DataWidth;
  localparam int unsigned WAddrW  = (WDepth > 1) ? $clog2(WDepth) : 1;
  localparam int unsigned AAddrW  = (ADepth > 1) ? $clog2(ADepth) : 1;
  localparam int unsigned OAddrW  = (ODepth > 1) ? $clog2(ODepth) : 1;
  // Tag pipeline: an activation row driven before edge e leaves the array
  // (all columns, de-skewed) right after edge e + Rows + Cols - 2.
  localparam int unsigned Latency = Rows + Cols - 1;

  typedef logic [DimWidth-1:0] dim_t;

  // K elements per window: dense mode N, sparse mode M.
  localparam dim_t WinDense  = dim_t'(N);
  localparam dim_t WinSparse = dim_t'(M);

  ////////////////////////////////
  // Weight path and ping-pong  //
  ////////////////////////////////

  logic [WBits+IdxBits-1:0] wmem [2][WDepth];
  logic [ABits-1:0]         amem [2][ADepth];

  logic       fill_bank_q, run_bank_q;
  logic [1:0] full_q;
  logic       w_done_q, a_done_q;
  logic [WAddrW-1:0] w_waddr_q;
  logic [AAddrW-1:0] a_waddr_q;

  logic comp_ready, comp_valid, comp_last_q;
  logic [WBits-1:0]   comp_w;
  logic [IdxBits-1:0] comp_idx;
  logic w_take, a_take;

  assign w_ready_o = comp_ready && !full_q[fill_bank_q] && !w_done_q;
  assign a_ready_o = !full_q[fill_bank_q] && !a_done_q;
  assign w_take    = w_valid_i && w_ready_o;
  assign a_take    = a_valid_i && a_ready_o;

  nm_compressor #(
    .N         (N),
    .M         (M),
    .DataWidth (DataWidth)
  ) u_compressor (
    .clk_i,
    .rst_ni,
    .valid_i (w_valid_i && !full_q[fill_bank_q] && !w_done_q),
    .ready_o (comp_ready),
    .group_i (w_group_i),
    .valid_o (comp_valid),
    .ready_i (1'b1),
    .w_o     (comp_w),
    .w_idx_o (comp_idx)
  );

  // Both streams done (the weight stream's last group out of the compressor):
  // the fill bank is full and goes to the controller.
  logic w_last_out, a_fill_done, w_fill_done, bank_filled;
  assign w_last_out  = comp_valid && comp_last_q;
  assign w_fill_done = w_done_q && !comp_valid;
  assign a_fill_done = a_done_q;
  assign bank_filled = w_fill_done && a_fill_done;

  always_ff @(posedge clk_i) begin
    if (comp_valid) begin
      wmem[fill_bank_q][w_waddr_q] <= {comp_w, comp_idx};
    end
    if (a_take) begin
      amem[fill_bank_q][a_waddr_q] <= a_window_i;
    end
  end

  //////////////////////
  // Command, control //
  //////////////////////

  typedef enum logic [1:0] {Idle, Run, Drain} state_e;
  state_e state_q;

  logic dense_q;
  dim_t mg_q, ng_q, kw_q, tm_q, tn_q, tw_q;  // kw_q, tw_q: K and tk in windows
  logic cmd_take, run_done;

  assign cmd_ready_o = (state_q == Idle) && full_q[run_bank_q];
  assign cmd_take    = cmd_valid_i && cmd_ready_o;
  assign busy_o      = (state_q != Idle);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      fill_bank_q <= 1'b0;
      run_bank_q  <= 1'b0;
      full_q      <= '0;
      w_done_q    <= 1'b0;
      a_done_q    <= 1'b0;
      comp_last_q <= 1'b0;
      w_waddr_q   <= '0;
      a_waddr_q   <= '0;
    end else begin
      if (w_take) begin
        comp_last_q <= w_last_i;
        w_done_q    <= w_last_i;
      end
      if (comp_valid) begin
        w_waddr_q <= w_last_out ? '0 : w_waddr_q + WAddrW'(1);
      end
      if (a_take) begin
        a_done_q  <= a_last_i;
        a_waddr_q <= a_last_i ? '0 : a_waddr_q + AAddrW'(1);
      end
      if (bank_filled) begin
        full_q[fill_bank_q] <= 1'b1;
        fill_bank_q         <= !fill_bank_q;
        w_done_q            <= 1'b0;
        a_done_q            <= 1'b0;
      end
      if (run_done) begin
        full_q[run_bank_q] <= 1'b0;
        run_bank_q         <= !run_bank_q;
      end
    end
  end

  ///////////////////
  // Fold iterator //
  ///////////////////

  // The next fold to preload: row fold at window g0 (of its K tile ending at
  // kw_end), column fold at column n0 (of its N tile ending at n_end), M tile
  // at m0. The K tile starts at kt0, the N tile at nt0.
  dim_t it_g0, it_kt0, it_kw_end, it_n0, it_nt0, it_n_end, it_m0;
  logic it_valid;
  logic it_take;  // the preload engine starts the iterator's fold

  function automatic logic [DimWidth-1:0] min_dim(input logic [DimWidth-1:0] a,
                                                   input logic [DimWidth-1:0] b);
    if (a < b) begin
      min_dim = a;
    end else begin
      min_dim = b;
    end
  endfunction

  logic last_fold;
  assign last_fold = (it_g0 + dim_t'(Rows) >= it_kw_end) && (it_n0 + dim_t'(Cols) >= it_n_end)
                     && (it_m0 + tm_q >= mg_q) && (it_kt0 + tw_q >= kw_q)
                     && (it_nt0 + tn_q >= ng_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      it_valid  <= 1'b0;
      it_g0     <= '0;
      it_kt0    <= '0;
      it_kw_end <= '0;
      it_n0     <= '0;
      it_nt0    <= '0;
      it_n_end  <= '0;
      it_m0     <= '0;
    end else if (cmd_take) begin
      it_valid  <= 1'b1;
      it_g0     <= '0;
      it_kt0    <= '0;
      it_kw_end <= min_dim(cmd_tk_i / (cmd_dense_i ? WinDense : WinSparse),
                           k_windows(cmd_k_i, cmd_dense_i));
      it_n0     <= '0;
      it_nt0    <= '0;
      it_n_end  <= min_dim(cmd_tn_i, cmd_n_i);
      it_m0     <= '0;
    end else if (it_take) begin
      if (last_fold) begin
        it_valid <= 1'b0;
      end else if (it_g0 + dim_t'(Rows) < it_kw_end) begin
        it_g0 <= it_g0 + dim_t'(Rows);  // next row fold
      end else begin
        it_g0 <= it_kt0;
        if (it_n0 + dim_t'(Cols) < it_n_end) begin
          it_n0 <= it_n0 + dim_t'(Cols);  // next column fold
        end else begin
          it_n0 <= it_nt0;
          if (it_m0 + tm_q < mg_q) begin
            it_m0 <= it_m0 + tm_q;  // next M tile
          end else begin
            it_m0 <= '0;
            if (it_kt0 + tw_q < kw_q) begin  // next K tile
              it_kt0    <= it_kt0 + tw_q;
              it_g0     <= it_kt0 + tw_q;
              it_kw_end <= min_dim(it_kt0 + 2 * tw_q, kw_q);
            end else begin  // next N tile
              it_kt0    <= '0;
              it_g0     <= '0;
              it_kw_end <= min_dim(tw_q, kw_q);
              it_nt0    <= it_nt0 + tn_q;
              it_n0     <= it_nt0 + tn_q;
              it_n_end  <= min_dim(it_nt0 + 2 * tn_q, ng_q);
            end
          end
        end
      end
    end
  end

  // K elements in windows: ceil(k / win).
  function automatic logic [DimWidth-1:0] k_windows(input logic [DimWidth-1:0] k,
                                                     input logic dense);
    logic [DimWidth-1:0] win;
    win = dense ? WinDense : WinSparse;
    k_windows = (k + win - 1'b1) / win;
  endfunction

  ////////////////////
  // Preload engine //
  ////////////////////

  // A fold's descriptor: what the stream and the accumulator need.
  typedef struct packed {
    dim_t g0;
    dim_t kw_end;
    dim_t n0;
    dim_t n_end;
    dim_t m0;
    dim_t m_end;
    logic first;  // the first K fold of its outputs: write, not add
    logic last;   // the GEMM's last fold
  } fold_t;

  fold_t pre_q;          // the fold being preloaded
  logic  pre_busy_q;
  logic [$clog2(Rows+1)-1:0] pre_step_q;  // chain shifts done
  fold_t next_q;         // preloaded (or being preloaded), not yet streaming
  logic  next_valid_q;
  fold_t cur_q;          // the fold streaming
  logic  streaming_q;
  dim_t  row_q;          // the M row streaming
  logic  started_q;      // a fold has started streaming in this run
  dim_t  since_s_q;      // edges since the last fold's stream start (saturating)
  dim_t  cur_t_q;        // that fold's stream length

  logic pre_last_step, stream_last, stream_take;
  assign pre_last_step = pre_busy_q && (32'(pre_step_q) == Rows - 1);
  assign stream_last   = streaming_q && (row_q + dim_t'(1) == cur_q.m_end);

  fold_t it_fold;
  // (concatenations in field order, MSB first: Yosys reads no named patterns)
  assign it_fold = {it_g0, it_kw_end, it_n0, it_n_end, it_m0,  // g0 kw_end n0 n_end m0
                    min_dim(it_m0 + tm_q, mg_q),                 // m_end
                    it_g0 == '0,                                 // first
                    last_fold};                                  // last

  // May the next preload start at this edge?
  logic pre_may_start;
  always_comb begin
    pre_may_start = 1'b0;
    if (state_q == Run && it_valid && !pre_busy_q && !next_valid_q) begin
      if (!started_q) begin
        pre_may_start = 1'b1;
      end else if (Overlapped) begin
        // the chain is free and the last swap has passed the bottom row
        pre_may_start = (32'(since_s_q) >= Rows - 1);
      end else begin
        // every output of the last fold has left the array
        pre_may_start = (32'(since_s_q) >= 32'(cur_t_q) + Rows + Cols - 2);
      end
    end
  end
  assign it_take = pre_may_start;

  // Decided one edge ahead of the stream start: the swap bit enters row 0
  // then (serialized: the edge of the preload's last shift).
  always_comb begin
    stream_take = 1'b0;
    if (next_valid_q && (!pre_busy_q || pre_last_step)) begin
      stream_take = Overlapped ? (!streaming_q || stream_last) : pre_last_step;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pre_q        <= '0;
      pre_busy_q   <= 1'b0;
      pre_step_q   <= '0;
      next_q       <= '0;
      next_valid_q <= 1'b0;
      cur_q        <= '0;
      streaming_q  <= 1'b0;
      row_q        <= '0;
      started_q    <= 1'b0;
      since_s_q    <= '0;
      cur_t_q      <= '0;
    end else begin
      if (cmd_take) begin
        started_q <= 1'b0;
      end
      if (pre_may_start) begin
        // step 0 drives at this edge; steps 1 .. Rows-1 follow
        pre_busy_q   <= 1'b1;
        pre_step_q   <= $bits(pre_step_q)'(1);
        pre_q        <= it_fold;
        next_q       <= it_fold;
        next_valid_q <= 1'b1;
      end else if (pre_busy_q) begin
        pre_step_q <= pre_step_q + 1'b1;
        if (pre_last_step) begin
          pre_busy_q <= 1'b0;
        end
      end
      if (stream_take) begin
        next_valid_q <= pre_may_start;  // (never both: pre_may_start needs !next_valid_q)
        started_q    <= 1'b1;
        since_s_q    <= '0;
      end else if (since_s_q != '1) begin
        since_s_q <= since_s_q + dim_t'(1);
      end
      // The stream: Overlapped starts at the edge after stream_take.
      if (stream_take) begin
        cur_q       <= next_q;
        cur_t_q     <= next_q.m_end - next_q.m0;
        streaming_q <= 1'b1;
        row_q       <= next_q.m0;
      end else if (streaming_q) begin
        row_q <= row_q + dim_t'(1);
        if (stream_last) begin
          streaming_q <= 1'b0;
        end
      end
    end
  end

  ///////////////////////////////
  // Array ports from buffers  //
  ///////////////////////////////

  logic                             arr_w_load, arr_swap, arr_act_valid;
  logic [Cols-1:0][WBits-1:0]       arr_w;
  logic [Cols-1:0][IdxBits-1:0]     arr_idx;
  logic [Rows-1:0][ABits-1:0]       arr_act;
  logic [Cols-1:0]                  arr_out_valid;
  logic [Cols-1:0][AccWidth-1:0]    arr_out;

  logic [$clog2(Cols+1)-1:0] w_reads;
  logic [$clog2(Rows+1)-1:0] a_reads;

  // Preload: step j drives array row Rows-1-j of the fold's weights; step 0
  // at the edge the engine starts.
  fold_t pre_fold;
  logic [$clog2(Rows+1)-1:0] pre_step;
  assign pre_fold = pre_may_start ? it_fold : pre_q;
  assign pre_step = pre_may_start ? '0 : pre_step_q;

  always_comb begin
    dim_t g;
    dim_t n;
    arr_w_load = pre_may_start || pre_busy_q;
    arr_w      = '0;
    arr_idx    = '0;
    w_reads    = '0;
    g = pre_fold.g0 + dim_t'(Rows - 1) - dim_t'(pre_step);
    for (int unsigned c = 0; c < Cols; c++) begin
      n = pre_fold.n0 + dim_t'(c);
      if (arr_w_load && g < pre_fold.kw_end && n < pre_fold.n_end) begin
        {arr_w[c], arr_idx[c]} = wmem[run_bank_q][WAddrW'(32'(g) * 32'(ng_q) + 32'(n))];
        w_reads = w_reads + 1'b1;
      end
    end
  end

  // Stream: row i's windows g0 .. g0 + Rows - 1 of its K tile.
  always_comb begin
    dim_t g;
    arr_act_valid = streaming_q;
    arr_swap      = Overlapped && stream_take;
    arr_act       = '0;
    a_reads       = '0;
    for (int unsigned r = 0; r < Rows; r++) begin
      g = cur_q.g0 + dim_t'(r);
      if (streaming_q && g < cur_q.kw_end) begin
        arr_act[r] = amem[run_bank_q][AAddrW'(32'(row_q) * 32'(kw_q) + 32'(g))];
        a_reads    = a_reads + 1'b1;
      end
    end
  end

  localparam int unsigned ArrCntWidth = $clog2(2 * Rows * Cols * N + 1);
  logic [ArrCntWidth-1:0] arr_macs, arr_gated, arr_w_writes;

  ws_array #(
    .Rows       (Rows),
    .Cols       (Cols),
    .N          (N),
    .M          (M),
    .DataWidth  (DataWidth),
    .AccWidth   (AccWidth),
    .Overlapped (Overlapped),
    .Gating     (Gating)
  ) u_array (
    .clk_i,
    .rst_ni,
    .dense_i     (dense_q),
    .w_load_i    (arr_w_load),
    .w_i         (arr_w),
    .w_idx_i     (arr_idx),
    .act_valid_i (arr_act_valid),
    .swap_i      (arr_swap),
    .act_i       (arr_act),
    .out_valid_o (arr_out_valid),
    .out_psum_o  (arr_out),
    .macs_o          (arr_macs),
    .gated_o         (arr_gated),
    .weight_writes_o (arr_w_writes)
  );

  /////////////////
  // Accumulator //
  /////////////////

  typedef struct packed {
    logic valid;
    dim_t row;
    dim_t n0;
    dim_t n_end;
    logic first;
    logic last;
  } tag_t;

  // valid, row, n0, n_end, first, last ($bits of a type is beyond Yosys)
  localparam int unsigned TagBits = 3 * DimWidth + 3;
  tag_t tag_in, tag_out;
  assign tag_in = {streaming_q, row_q, cur_q.n0, cur_q.n_end,  // valid row n0 n_end
                   cur_q.first, cur_q.last && stream_last};      // first last

  delay_line #(
    .Width (TagBits),
    .Depth (Latency)
  ) u_tags (
    .clk_i,
    .rst_ni,
    .data_i (tag_in),
    .data_o (tag_out)
  );

  logic [AccWidth-1:0] omem [ODepth];

  always_ff @(posedge clk_i) begin
    if (tag_out.valid) begin
      for (int unsigned c = 0; c < Cols; c++) begin
        dim_t n;
        logic [OAddrW-1:0] addr;
        n    = tag_out.n0 + dim_t'(c);
        addr = OAddrW'(32'(tag_out.row) * 32'(ng_q) + 32'(n));
        if (n < tag_out.n_end) begin
          omem[addr] <= (tag_out.first ? '0 : omem[addr]) + arr_out[c];
        end
      end
    end
  end

  assign run_done = (state_q == Run) && tag_out.valid && tag_out.last;

  ///////////////////
  // Action counts //
  ///////////////////

  logic [$clog2(Cols+1)-1:0] acc_cols;
  always_comb begin
    acc_cols = '0;
    for (int unsigned c = 0; c < Cols; c++) begin
      acc_cols = acc_cols + $bits(acc_cols)'(tag_out.n0 + dim_t'(c) < tag_out.n_end);
    end
  end

  logic [NumCounts-1:0][31:0] counts_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      counts_q <= '0;
    end else if (cmd_take) begin
      counts_q <= '0;
    end else if (state_q == Run) begin
      counts_q[0] <= counts_q[0] + 32'(arr_macs);
      counts_q[1] <= counts_q[1] + 32'(arr_gated);
      counts_q[2] <= counts_q[2] + 32'(arr_w_writes);
      counts_q[3] <= counts_q[3] + 32'(w_reads);
      counts_q[4] <= counts_q[4] + 32'(a_reads);
      if (tag_out.valid) begin
        counts_q[5] <= counts_q[5] + (tag_out.first ? 32'd0 : 32'(acc_cols));
        counts_q[6] <= counts_q[6] + 32'(acc_cols);
      end
    end
  end
  assign counts_o = counts_q;

  ////////////////////////////
  // Run state, write-back  //
  ////////////////////////////

  logic [31:0] run_cycles_q, cycles_q;
  logic [OAddrW:0] wb_q;
  logic [OAddrW:0] wb_total;
  logic o_valid_q, o_last_q;
  logic [AccWidth-1:0] o_data_q;

  assign wb_total = (OAddrW+1)'(32'(mg_q) * 32'(ng_q));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q      <= Idle;
      dense_q      <= 1'b0;
      mg_q         <= '0;
      ng_q         <= '0;
      kw_q         <= '0;
      tm_q         <= '0;
      tn_q         <= '0;
      tw_q         <= '0;
      run_cycles_q <= '0;
      cycles_q     <= '0;
      wb_q         <= '0;
      o_valid_q    <= 1'b0;
      o_last_q     <= 1'b0;
      o_data_q     <= '0;
    end else begin
      case (state_q)
        Idle: begin
          if (cmd_take) begin
            state_q      <= Run;
            dense_q      <= cmd_dense_i;
            mg_q         <= cmd_m_i;
            ng_q         <= cmd_n_i;
            kw_q         <= k_windows(cmd_k_i, cmd_dense_i);
            tm_q         <= cmd_tm_i;
            tn_q         <= cmd_tn_i;
            tw_q         <= cmd_tk_i / (cmd_dense_i ? WinDense : WinSparse);
            // counted from the first preload edge (the next one)
            run_cycles_q <= '0;
          end
        end
        Run: begin
          run_cycles_q <= run_cycles_q + 32'd1;
          if (run_done) begin
            cycles_q <= run_cycles_q;
            state_q  <= Drain;
            wb_q     <= '0;
          end
        end
        Drain: begin
          if (!o_valid_q || o_ready_i) begin
            if (wb_q < wb_total) begin
              o_valid_q <= 1'b1;
              o_data_q  <= omem[OAddrW'(wb_q)];
              o_last_q  <= (wb_q + 1'b1 == wb_total);
              wb_q      <= wb_q + 1'b1;
            end else begin
              o_valid_q <= 1'b0;
              o_last_q  <= 1'b0;
              state_q   <= Idle;
            end
          end
        end
        default: state_q <= Idle;
      endcase
    end
  end

  ///////////////////////
  // Unused on purpose //
  ///////////////////////

  // The preload needs only the fold's weight block; the stream the rest
  // (its M tile is counted by row_q).
  logic unused_fold;
  assign unused_fold = ^{pre_fold.m0, pre_fold.m_end, pre_fold.first, pre_fold.last, cur_q.m0};
  // Every column's output valid is the tag's; column 0 is checked below.
  logic unused_out_valid_cols;
  assign unused_out_valid_cols = ^(arr_out_valid >> 1);

`ifndef SYNTHESIS
  // The tag pipeline and the array agree on when outputs leave.
  always_ff @(posedge clk_i) begin : p_tag_in_step
    if (tag_out.valid != arr_out_valid[0]) begin
      $error("accel_top: tag valid %0b but array output valid %0b", tag_out.valid,
             arr_out_valid[0]);
    end
  end
`endif

  assign o_valid_o = o_valid_q;
  assign ctrl_o    = {arr_out_valid[0], arr_act_valid, arr_swap, arr_w_load};

  // The stream start is decided at the preload's last step, which needs a
  // preload of two steps or more.
  if (Rows < 2 || Cols < 1) begin : g_bad_size
    $error("accel_top: needs Rows >= 2, Cols >= 1, got %0d x %0d", Rows, Cols);
  end
  assign o_data_o  = o_data_q;
  assign o_last_o  = o_last_q;
  assign cycles_o  = cycles_q;

endmodule
