// diviml generate randwire|llm: synthetic models written as graph JSON (docs/generators.md).
#include <cmath>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "frontend/generators.h"
#include "frontend/llm.h"
#include "frontend/load_graph.h"

namespace diviml::cli {

namespace {

/// 1.23 G, 456.7 M, ...
std::string si(double x) {
  const char* units[] = {"", " k", " M", " G", " T", " P", " E"};
  int u = 0;
  while (std::abs(x) >= 1000 && u < 6) x /= 1000, ++u;
  return fmt::format("{:.4g}{}", x, units[u]);
}

/// Writes the graph to `out` (stdout when empty) and says what was written.
void emit(const Graph& g, const std::string& out) {
  const std::string text = graph_to_json_text(g);
  if (out.empty() || out == "-") {
    fmt::print("{}\n", text);
    return;
  }
  write_text_file(out, text);
  fmt::print("wrote {}: graph {}, {} ops, {} edges, {}MAC, {}FLOP, weights {}B\n", out, g.name, g.num_ops(),
             g.num_edges(), si(g.total_macs()), si(g.total_flops()), si(g.total_weight_bytes()));
}

struct RandWireArgs {
  RandWireOptions opt;
  std::string out;
  CLI::Option *k = nullptr, *p = nullptr, *m = nullptr;
};

void run_randwire(RandWireArgs& a) {
  check_writable(a.out, "--output");
  RandWireOptions o = a.opt;
  const bool has_k = a.k->count() > 0, has_p = a.p->count() > 0, has_m = a.m->count() > 0;
  if (o.graph == "ws") {
    if (has_m) throw InputError("generate randwire: --m applies to --graph ba only");
    if (!has_p) o.p = 0.75;
  } else if (o.graph == "er") {
    if (has_k) throw InputError("generate randwire: --k applies to --graph ws only");
    if (has_m) throw InputError("generate randwire: --m applies to --graph ba only");
    if (!has_p) o.p = 0.2;
  } else if (o.graph == "ba") {
    if (has_k) throw InputError("generate randwire: --k applies to --graph ws only");
    if (has_p) throw InputError("generate randwire: --p applies to --graph ws and er only");
  }
  emit(*generate_randwire(o), a.out);
}

struct LlmArgs {
  std::string preset;
  LlmOptions opt;
  std::string out;
  CLI::App* cmd = nullptr;
};

void run_llm(const LlmArgs& a) {
  check_writable(a.out, "--output");
  // Start from the preset (or the defaults) and apply the options given on the command line.
  LlmOptions o = a.preset.empty() ? LlmOptions{} : llm_preset(a.preset);
  auto given = [&](const char* name) { return a.cmd->get_option(name)->count() > 0; };
  const LlmOptions& c = a.opt;
  if (given("--layers")) o.layers = c.layers;
  if (given("--hidden")) o.hidden = c.hidden;
  if (given("--heads")) o.heads = c.heads;
  if (given("--kv-heads")) o.kv_heads = c.kv_heads;
  if (given("--ffn")) o.ffn = c.ffn;
  if (given("--mlp")) o.mlp = c.mlp;
  if (given("--vocab")) o.vocab = c.vocab;
  if (given("--positions")) o.positions = c.positions;
  if (given("--tied-embeddings")) o.tied_embeddings = c.tied_embeddings;
  o.seq = c.seq;
  if (!given("--seq") && o.positions > 0 && o.seq >= o.positions)  // fit the learned position table
    o.seq = c.phase == "prefill" ? o.positions : o.positions - 1;
  o.batch = c.batch;
  o.phase = c.phase;
  o.kv_len = c.kv_len;
  auto g = generate_llm(o);
  emit(*g, a.out);
  if (!a.out.empty() && a.out != "-")
    fmt::print("  {} parameters, {} layers, hidden {}, {} heads ({} KV), {}: {} new tokens x batch {}\n",
               si(llm_parameter_count(o)), o.layers, o.hidden, o.heads, o.kv_heads ? o.kv_heads : o.heads,
               o.phase, o.phase == "prefill" ? o.seq : 1, o.batch);
}

/// Help text for an architecture option: its own default is used only without --preset.
template <typename T>
std::string with_default(const std::string& what, const T& dflt) {
  return fmt::format("{} (default {}; with --preset: the preset's)", what, dflt);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  CLI::App* gen = app.add_subcommand("generate", "write a synthetic model (RandWire network, GPT-style decoder) as graph JSON");
  gen->require_subcommand(0, 1);
  gen->callback([gen] {
    if (gen->get_subcommands().empty())
      throw InputError("generate: say what to generate: randwire (a randomly wired CNN) or llm (a GPT-style decoder); "
                       "e.g. diviml generate randwire --help");
  });

  auto rw = std::make_shared<RandWireArgs>();
  CLI::App* r = gen->add_subcommand(
      "randwire", "randomly wired network (Xie et al. 2019), small regime: stem, random-graph stages, classifier");
  r->add_option("--graph", rw->opt.graph, "random graph model: ws (Watts-Strogatz), er (Erdos-Renyi), ba (Barabasi-Albert)")
      ->capture_default_str();
  r->add_option("--nodes", rw->opt.nodes, "nodes per stage (N)")->capture_default_str();
  r->add_option("--stages", rw->opt.stages, "random-graph stages (conv3, conv4, ...; channels double each stage)")
      ->capture_default_str();
  r->add_option("--channels", rw->opt.channels, "channels C of the first random stage")->capture_default_str();
  r->add_option("--resolution", rw->opt.resolution, "input image side (pixels)")->capture_default_str();
  rw->k = r->add_option("--k", rw->opt.k, "ws: ring neighbours (even)")->capture_default_str();
  rw->p = r->add_option("--p", rw->opt.p, "ws: rewiring probability (default 0.75); er: edge probability (default 0.2)");
  rw->m = r->add_option("--m", rw->opt.m, "ba: edges per new node")->capture_default_str();
  r->add_option("--seed", rw->opt.seed, "random seed (same seed, same network)")->capture_default_str();
  r->add_option("-o,--output", rw->out, "output graph JSON (default: stdout)");
  r->callback([rw] { run_randwire(*rw); });

  auto lm = std::make_shared<LlmArgs>();
  CLI::App* l = gen->add_subcommand(
      "llm", "GPT-style decoder: embedding, per layer an attention and an MLP op, LM head; fp16 weights and KV cache");
  lm->cmd = l;
  l->add_option("--preset", lm->preset, "architecture preset: gpt2 (124M), 7b, 13b (LLaMA), 70b (LLaMA-2, GQA); "
                                        "other options override it")
      ->check(CLI::IsMember({"gpt2", "7b", "13b", "70b"}));
  l->add_option("--layers", lm->opt.layers, with_default("decoder layers", lm->opt.layers));
  l->add_option("--hidden", lm->opt.hidden, with_default("model width", lm->opt.hidden));
  l->add_option("--heads", lm->opt.heads, with_default("attention heads", lm->opt.heads));
  l->add_option("--kv-heads", lm->opt.kv_heads, with_default("key/value heads (grouped-query attention); 0: = heads", lm->opt.kv_heads));
  l->add_option("--ffn", lm->opt.ffn, with_default("MLP inner width; 0: 4 x hidden", lm->opt.ffn));
  l->add_option("--mlp", lm->opt.mlp, with_default("gelu (two matmuls, biases: GPT) or swiglu (three matmuls: LLaMA)", lm->opt.mlp));
  l->add_option("--vocab", lm->opt.vocab, with_default("vocabulary size", lm->opt.vocab));
  l->add_option("--positions", lm->opt.positions, with_default("learned position-embedding rows (0: rotary)", lm->opt.positions));
  l->add_flag("--tied-embeddings", lm->opt.tied_embeddings, "LM head shares the embedding matrix");
  l->add_option("--seq", lm->opt.seq, "prefill: prompt tokens per sequence; decode: tokens already cached")
      ->capture_default_str();
  l->add_option("--batch", lm->opt.batch, "sequences per step")->capture_default_str();
  l->add_option("--phase", lm->opt.phase, "prefill (whole prompt) or decode (one new token per sequence)")
      ->capture_default_str();
  l->add_option("--kv-len", lm->opt.kv_len,
                "tokens in the KV cache before this step (default: 0 for prefill, --seq for decode)");
  l->add_option("-o,--output", lm->out, "output graph JSON (default: stdout)");
  l->callback([lm] { run_llm(*lm); });
}

}  // namespace diviml::cli
