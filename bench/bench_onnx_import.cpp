// ONNX import time (moved here from the former DISABLED_Gpt2ImportTiming test): parse, shape
// inference, folding and costing of the largest shared models, per granularity.
//   build/diviml_bench --benchmark_filter=OnnxImport --benchmark_repetitions=10
// (the bench target links this file with bench_core.cpp's BENCHMARK_MAIN).
#include <benchmark/benchmark.h>

#include <string>

#include "frontend/onnx_import.h"

namespace {

const std::string kData = DIVIML_BENCH_DATA;

void BM_OnnxImport(benchmark::State& state, const std::string& stem, diviml::Granularity gr) {
  diviml::LoadOptions o;
  o.granularity = gr;
  size_t ops = 0;
  for (auto _ : state) {
    auto g = diviml::import_onnx(kData + "/" + stem + ".onnx", o);
    ops = static_cast<size_t>(g->num_ops());
    benchmark::DoNotOptimize(g);
  }
  state.counters["ops"] = static_cast<double>(ops);
}

BENCHMARK_CAPTURE(BM_OnnxImport, gpt2_small_op, "gpt2_small", diviml::Granularity::Op)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OnnxImport, gpt2_small_fused, "gpt2_small", diviml::Granularity::Fused)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OnnxImport, gpt2_small_opset21_op, "opsets/gpt2_small.opset21", diviml::Granularity::Op)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_OnnxImport, randwire_ws_op, "randwire_ws", diviml::Granularity::Op)->Unit(benchmark::kMillisecond);

}  // namespace
