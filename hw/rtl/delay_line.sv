// A chain of Depth registers: data_o is data_i from Depth cycles ago.
//
// The systolic arrays build their input skew (row r of the activations late by
// r cycles, column c of the weights late by c) and their output de-skew from
// it. Depth == 0 is a wire. Resets to zero.
module delay_line #(
  // Bits carried.
  parameter int unsigned Width = 1,
  // Cycles of delay (registers in the chain); 0 is a plain wire.
  parameter int unsigned Depth = 1
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic [Width-1:0] data_i,
  output logic [Width-1:0] data_o
);

  // At least one stage, so the declarations stay legal when Depth == 0 (the
  // stage is then unused and synthesis removes it).
  localparam int unsigned Stages = (Depth > 0) ? Depth : 1;

  logic [Stages-1:0][Width-1:0] stage_d, stage_q;

  always_comb begin
    stage_d    = stage_q;
    stage_d[0] = data_i;
    for (int unsigned i = 1; i < Stages; i++) begin
      stage_d[i] = stage_q[i-1];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      stage_q <= '0;
    end else begin
      stage_q <= stage_d;
    end
  end

  if (Depth == 0) begin : g_wire
    assign data_o = data_i;

    logic unused_stage;
    assign unused_stage = ^stage_q;
  end else begin : g_regs
    assign data_o = stage_q[Depth-1];
  end

endmodule
