// GPT-style decoder-only transformer generator (`diviml generate llm`): real FLOPs, fp16 weight
// bytes and KV-cache bytes, one op per sub-layer. See docs/generators.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph.h"

namespace diviml {

struct LlmOptions {
  int layers = 32;                ///< decoder layers
  int64_t hidden = 4096;          ///< model width h
  int heads = 32;                 ///< attention heads (h must be divisible by heads)
  int kv_heads = 0;               ///< key/value heads; 0: = heads (MHA); fewer: grouped-query attention
  int64_t ffn = 0;                ///< MLP inner width; 0: 4 * hidden
  std::string mlp = "gelu";       ///< gelu: up + GELU + down, with biases (GPT) | swiglu: gate, up, down, no biases (LLaMA)
  int64_t vocab = 32000;          ///< vocabulary size
  int64_t positions = 0;          ///< learned position-embedding rows (GPT-2: 1024); 0: rotary, no table
  bool tied_embeddings = false;   ///< LM head shares the embedding matrix (counted once in parameters)
  int64_t seq = 2048;             ///< prefill: tokens processed per sequence; decode: tokens already cached (default kv_len)
  int64_t batch = 1;              ///< sequences
  std::string phase = "prefill";  ///< prefill | decode (one new token per sequence)
  int64_t kv_len = -1;            ///< cached tokens before this step; -1: 0 for prefill, seq for decode
  double bytes_per_param = 2;     ///< fp16 weights, activations and KV cache
};

/// Architecture presets: "gpt2" (124M), "7b", "13b" (LLaMA-7B/13B), "70b" (LLaMA-2-70B, GQA 8).
/// Only the architecture fields are set; seq, batch, phase and kv_len keep their defaults.
/// Throws InputError on an unknown name.
LlmOptions llm_preset(std::string_view name);
/// Names accepted by llm_preset.
const std::vector<std::string>& llm_preset_names();

/// Parameters of the model (embedding counted once when tied), not counting the KV cache.
double llm_parameter_count(const LlmOptions& opt);

/// The decoder as a Graph: "embed", then "layer<i>.attn" and "layer<i>.mlp" per layer, then
/// "lm_head" (final norm + vocabulary projection). The KV cache of a layer counts as resident
/// weight bytes of its attention op. Throws InputError on nonsense options.
std::shared_ptr<Graph> generate_llm(const LlmOptions& opt);

}  // namespace diviml
