// GPT-style decoder generator. Per token-step with N = batch * T tokens processed (T = seq in
// prefill, 1 in decode) attending over L = kv_len + T positions, per layer:
//   attn: LN, QKV projection (h -> h + 2*kv_dim), scores QK^T (N*L*h MACs), softmax, context
//         (N*L*h MACs), output projection (h -> h), residual add;
//   mlp:  LN, up (h -> f) + GELU + down (f -> h)   or  gate, up (h -> f) + SiLU*up + down; residual.
// Full T x L score matrices are counted (no causal halving, as exported models compute them);
// the score matrix is not counted as memory traffic (fused attention keeps it on chip).
#include "frontend/llm.h"

#include <cmath>

#include <fmt/format.h>

namespace diviml {

namespace {

void validate(const LlmOptions& o, bool check_sequence = true) {
  auto bad = [](const std::string& what) { throw InputError("llm: " + what); };
  auto range = [&](const char* name, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi)) bad(fmt::format("{} must be in [{}, {}] (got {})", name, lo, hi, v));
  };
  range("layers", o.layers, 1, 100000);
  range("hidden", static_cast<double>(o.hidden), 1, 1 << 20);
  range("heads", o.heads, 1, 1 << 16);
  if (o.hidden % o.heads != 0)
    bad(fmt::format("hidden {} is not divisible by heads {}", o.hidden, o.heads));
  if (o.kv_heads != 0) {
    range("kv-heads", o.kv_heads, 1, o.heads);
    if (o.heads % o.kv_heads != 0)
      bad(fmt::format("heads {} is not divisible by kv-heads {}", o.heads, o.kv_heads));
  }
  if (o.ffn != 0) range("ffn", static_cast<double>(o.ffn), 1, 1 << 24);
  if (o.mlp != "gelu" && o.mlp != "swiglu") bad(fmt::format("unknown mlp '{}' (valid: gelu, swiglu)", o.mlp));
  range("vocab", static_cast<double>(o.vocab), 1, 1e8);
  range("positions", static_cast<double>(o.positions), 0, 1e8);
  range("seq", static_cast<double>(o.seq), 1, 1e9);
  range("batch", static_cast<double>(o.batch), 1, 1e7);
  if (o.phase != "prefill" && o.phase != "decode")
    bad(fmt::format("unknown phase '{}' (valid: prefill, decode)", o.phase));
  if (o.kv_len != -1) range("kv-len", static_cast<double>(o.kv_len), 0, 1e9);
  range("bytes per parameter", o.bytes_per_param, 0.125, 16);
  if (check_sequence && o.positions > 0) {
    const int64_t tokens = (o.kv_len >= 0 ? o.kv_len : o.phase == "prefill" ? 0 : o.seq) + (o.phase == "prefill" ? o.seq : 1);
    if (tokens > o.positions)
      bad(fmt::format("{} positions (kv-len + new tokens) exceed the {} learned position embeddings; lower --seq",
                      tokens, o.positions));
  }
}

struct Dims {
  double h, f, kvd, V, B, T, past, L, N;
  bool gelu;
};

Dims dims(const LlmOptions& o) {
  Dims d;
  d.h = static_cast<double>(o.hidden);
  d.f = static_cast<double>(o.ffn ? o.ffn : 4 * o.hidden);
  const double head_dim = d.h / o.heads;
  d.kvd = (o.kv_heads ? o.kv_heads : o.heads) * head_dim;
  d.V = static_cast<double>(o.vocab);
  d.B = static_cast<double>(o.batch);
  const bool prefill = o.phase == "prefill";
  d.T = prefill ? static_cast<double>(o.seq) : 1;
  d.past = o.kv_len >= 0 ? static_cast<double>(o.kv_len) : prefill ? 0 : static_cast<double>(o.seq);
  d.L = d.past + d.T;
  d.N = d.B * d.T;
  d.gelu = o.mlp == "gelu";
  return d;
}

double attn_params(const Dims& d) {
  double p = d.h * (d.h + 2 * d.kvd) + d.h * d.h + 2 * d.h;  // QKV, output projection, LN
  if (d.gelu) p += (d.h + 2 * d.kvd) + d.h;                   // biases
  return p;
}
double mlp_params(const Dims& d) {
  return d.gelu ? 2 * d.h * d.f + d.f + d.h + 2 * d.h  // up, down, biases, LN
                : 3 * d.h * d.f + 2 * d.h;             // gate, up, down, norm
}

}  // namespace

const std::vector<std::string>& llm_preset_names() {
  static const std::vector<std::string> names = {"gpt2", "7b", "13b", "70b"};
  return names;
}

LlmOptions llm_preset(std::string_view name) {
  LlmOptions o;
  if (name == "gpt2") {  // GPT-2 small (Radford et al. 2019): 124M parameters
    o.layers = 12, o.hidden = 768, o.heads = 12, o.vocab = 50257, o.positions = 1024;
    o.tied_embeddings = true, o.mlp = "gelu";
  } else if (name == "7b") {  // LLaMA-7B (Touvron et al. 2023): 6.74B
    o.layers = 32, o.hidden = 4096, o.heads = 32, o.ffn = 11008, o.mlp = "swiglu", o.vocab = 32000;
  } else if (name == "13b") {  // LLaMA-13B: 13.0B
    o.layers = 40, o.hidden = 5120, o.heads = 40, o.ffn = 13824, o.mlp = "swiglu", o.vocab = 32000;
  } else if (name == "70b") {  // LLaMA-2-70B (Touvron et al. 2023b): 69.0B, GQA with 8 KV heads
    o.layers = 80, o.hidden = 8192, o.heads = 64, o.kv_heads = 8, o.ffn = 28672, o.mlp = "swiglu";
    o.vocab = 32000;
  } else {
    throw InputError(fmt::format("llm: unknown preset '{}' (valid: gpt2, 7b, 13b, 70b)", name));
  }
  return o;
}

double llm_parameter_count(const LlmOptions& opt) {
  validate(opt, /*check_sequence=*/false);
  const Dims d = dims(opt);
  const double embed = d.V * d.h + static_cast<double>(opt.positions) * d.h;
  const double head = 2 * d.h + (opt.tied_embeddings ? 0 : d.V * d.h);
  return embed + opt.layers * (attn_params(d) + mlp_params(d)) + head;
}

std::shared_ptr<Graph> generate_llm(const LlmOptions& opt) {
  validate(opt);
  const Dims d = dims(opt);
  const double bp = opt.bytes_per_param;
  const double act_bytes = d.N * d.h * bp;  // one hidden-state tensor
  const std::vector<int64_t> act_shape = {opt.batch, static_cast<int64_t>(d.T), opt.hidden};
  const char* dtype = bp == 2 ? "float16" : bp == 4 ? "float32" : bp == 1 ? "int8" : "";

  auto g = std::make_shared<Graph>();
  g->name = fmt::format("llm_l{}_h{}_a{}{}_{}_s{}_b{}", opt.layers, opt.hidden, opt.heads,
                        opt.kv_heads ? fmt::format("_kv{}", opt.kv_heads) : "", opt.phase, opt.seq, opt.batch);
  auto act = [&](const std::string& name) {
    Tensor t;
    t.name = name;
    t.bytes = act_bytes;
    t.shape = act_shape;
    t.dtype = dtype;
    return g->add_tensor(std::move(t));
  };

  Tensor tokens;
  tokens.name = "tokens";
  tokens.bytes = d.N * 8;  // int64 ids
  tokens.shape = {opt.batch, static_cast<int64_t>(d.T)};
  tokens.dtype = "int64";
  TensorId x = g->add_tensor(std::move(tokens));

  {  // token (+ learned position) embedding
    Op op;
    op.name = "embed";
    op.type = "Embedding";
    op.op_class = OpClass::Embedding;
    op.weight_bytes = (d.V + static_cast<double>(opt.positions)) * d.h * bp;
    op.flops = opt.positions ? d.N * d.h : 0;  // position add
    op.bytes_accessed = d.N * 8 + (opt.positions ? 2 : 1) * act_bytes + act_bytes;
    op.inputs = {x};
    x = act("embed.out");
    op.outputs = {x};
    op.fused = {"embed.tokens"};
    if (opt.positions) op.fused.push_back("embed.positions");
    g->add_op(std::move(op));
  }

  const double heads = opt.heads;
  const double kv_elems = 2 * d.B * d.kvd;  // K and V elements per cached position
  for (int i = 0; i < opt.layers; ++i) {
    const std::string p = fmt::format("layer{}", i);
    {
      Op op;
      op.name = p + ".attn";
      op.type = "Attention";
      op.op_class = OpClass::MatMul;
      const double qkv = d.N * d.h * (d.h + 2 * d.kvd);
      const double scores = d.N * d.L * d.h;
      const double context = d.N * d.L * d.h;
      const double proj = d.N * d.h * d.h;
      op.macs = qkv + scores + context + proj;
      op.flops = 5 * d.N * d.h                       // LN
                 + 2 * qkv + 2 * scores + 5 * d.B * heads * d.T * d.L  // softmax (scale, max, exp, sum, div)
                 + 2 * context + 2 * proj + d.N * d.h                  // residual add
                 + (d.gelu ? d.N * (2 * d.h + 2 * d.kvd) : 0);         // biases
      const double params = attn_params(d);
      const double kv_cache = kv_elems * d.L * bp;
      op.weight_bytes = params * bp + kv_cache;
      op.bytes_accessed = params * bp + kv_elems * d.past * bp /*read cache*/ + kv_elems * d.T * bp /*append*/ +
                          2 * act_bytes;
      op.inputs = {x};
      x = act(op.name + ".out");
      op.outputs = {x};
      for (const char* s : {".ln1", ".attn.qkv", ".attn.scores", ".attn.softmax", ".attn.context", ".attn.proj",
                            ".attn.residual"})
        op.fused.push_back(p + s);
      g->add_op(std::move(op));
    }
    {
      Op op;
      op.name = p + ".mlp";
      op.type = "MLP";
      op.op_class = OpClass::MatMul;
      const double mm = d.N * d.h * d.f;
      op.macs = (d.gelu ? 2 : 3) * mm;
      op.flops = 5 * d.N * d.h + 2 * op.macs + d.N * d.h /*residual*/ +
                 (d.gelu ? 8 * d.N * d.f /*GELU (tanh form)*/ + d.N * (d.f + d.h) /*biases*/
                         : 5 * d.N * d.f /*SiLU and gating*/);
      const double params = mlp_params(d);
      op.weight_bytes = params * bp;
      op.bytes_accessed = params * bp + 2 * act_bytes;
      op.inputs = {x};
      x = act(op.name + ".out");
      op.outputs = {x};
      if (d.gelu)
        for (const char* s : {".ln2", ".mlp.up", ".mlp.gelu", ".mlp.down", ".mlp.residual"}) op.fused.push_back(p + s);
      else
        for (const char* s : {".ln2", ".mlp.gate", ".mlp.up", ".mlp.silu_mul", ".mlp.down", ".mlp.residual"})
          op.fused.push_back(p + s);
      g->add_op(std::move(op));
    }
  }

  {  // final norm + LM head (its matrix is resident here even when tied to the embedding)
    Op op;
    op.name = "lm_head";
    op.type = "LMHead";
    op.op_class = OpClass::MatMul;
    op.macs = d.N * d.h * d.V;
    op.flops = 5 * d.N * d.h + 2 * op.macs;
    op.weight_bytes = (d.V * d.h + 2 * d.h) * bp;
    const double logits = d.N * d.V * bp;
    op.bytes_accessed = op.weight_bytes + act_bytes + logits;
    op.inputs = {x};
    Tensor t;
    t.name = "logits";
    t.bytes = logits;
    t.shape = {opt.batch, static_cast<int64_t>(d.T), opt.vocab};
    t.dtype = dtype;
    t.is_graph_output = true;
    op.outputs = {g->add_tensor(std::move(t))};
    op.fused = {"final_norm", "lm_head"};
    g->add_op(std::move(op));
  }
  g->finalize();
  return g;
}

}  // namespace diviml
