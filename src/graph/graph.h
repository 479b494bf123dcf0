// Graph IR: operators, tensors and the DAG they form (DESIGN section 2).
// Plain data plus derived adjacency; frontends build it, everything else reads it.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace diviml {

using OpId = int32_t;
using TensorId = int32_t;
inline constexpr OpId kNoOp = -1;

/// Input error with a message naming the file/item; the CLI prints it as one line.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Cost class of an operator: selects the per-device efficiency in the roofline model.
enum class OpClass {
  Conv,
  DepthwiseConv,
  MatMul,
  Elementwise,
  Normalization,
  Pooling,
  DataMovement,
  Embedding,
  ShapeOnly,
  Other
};
std::string_view to_string(OpClass c);
/// Parses a class name ("conv", "matmul", ...); throws InputError on an unknown name.
OpClass op_class_from_string(std::string_view s);
const std::vector<OpClass>& all_op_classes();

struct Op {
  std::string name;
  std::string type;                 ///< ONNX op type or generator label ("Conv", "SepConv", "task")
  OpClass op_class = OpClass::Other;
  double flops = 0;                 ///< floating-point operations (a multiply-accumulate is 2)
  double macs = 0;                  ///< multiply-accumulates (reported, not used for cost)
  double bytes_accessed = 0;        ///< activation + weight bytes read and written (roofline memory term)
  double weight_bytes = 0;          ///< parameter bytes this op needs resident on its device
  std::map<std::string, double> device_times;  ///< explicit seconds per device name; overrides the cost model
  std::vector<std::string> fused;   ///< source (ONNX) op names merged into this op, in execution order
  std::vector<TensorId> inputs;     ///< tensors read (activations only; weights are in weight_bytes)
  std::vector<TensorId> outputs;    ///< tensors written
};

struct Tensor {
  std::string name;
  double bytes = 0;
  OpId producer = kNoOp;            ///< kNoOp: a graph input
  std::vector<OpId> consumers;      ///< derived by Graph::finalize
  bool is_graph_output = false;
  std::vector<int64_t> shape;       ///< optional, informational
  std::string dtype;                ///< optional ("float32", ...)
};

/// A DAG of ops connected by tensors. Build with add_op/add_tensor, then call finalize().
class Graph {
 public:
  std::string name;
  std::vector<Op> ops;
  std::vector<Tensor> tensors;

  TensorId add_tensor(Tensor t);
  OpId add_op(Op op);
  /// Finds a tensor or op by name; -1 if absent.
  TensorId tensor_id(const std::string& name) const;
  OpId op_id(const std::string& name) const;

  /// Derives producers/consumers and op adjacency, then validates: non-empty, unique names,
  /// one producer per tensor, finite non-negative costs, acyclic (the cycle's ops are named).
  /// Throws InputError. Must be called after construction and after any structural edit.
  void finalize();

  int num_ops() const { return static_cast<int>(ops.size()); }
  int num_tensors() const { return static_cast<int>(tensors.size()); }
  /// Distinct op successors / predecessors (through any tensor).
  const std::vector<OpId>& succ(OpId v) const { return succ_[v]; }
  const std::vector<OpId>& pred(OpId v) const { return pred_[v]; }
  size_t num_edges() const { return num_edges_; }
  /// A topological order (stable: ties broken by op index).
  const std::vector<OpId>& topo_order() const { return topo_; }
  /// Position of each op in topo_order().
  const std::vector<int>& topo_rank() const { return topo_rank_; }
  std::vector<TensorId> graph_inputs() const;
  std::vector<TensorId> graph_outputs() const;
  double total_flops() const;
  double total_macs() const;
  double total_weight_bytes() const;

 private:
  std::vector<std::vector<OpId>> succ_, pred_;
  std::vector<OpId> topo_;
  std::vector<int> topo_rank_;
  size_t num_edges_ = 0;
  std::map<std::string, TensorId> tensor_index_;
  std::map<std::string, OpId> op_index_;
};

/// Transitive closure as one bitset row per op (n^2/8 bytes: 12.5 MB at 10,000 ops).
/// Answers "does u reach v" in O(1); built in O(n * e / 64).
class Reachability {
 public:
  explicit Reachability(const Graph& g);
  bool reaches(OpId u, OpId v) const {
    return (rows_[static_cast<size_t>(u) * words_ + (v >> 6)] >> (v & 63)) & 1u;
  }
  bool comparable(OpId u, OpId v) const { return u == v || reaches(u, v) || reaches(v, u); }
  /// All unordered incomparable pairs (u < v).
  std::vector<std::pair<OpId, OpId>> incomparable_pairs() const;
  size_t count_incomparable_pairs() const;

 private:
  int n_;
  size_t words_;
  std::vector<uint64_t> rows_;
};

}  // namespace diviml
