// The `local-cpu:N` preset: N CPU "devices" of one core each on this machine, talking through
// shared memory, as `diviml run` executes them (one ONNX Runtime worker thread per device).
#pragma once

#include "platform/platform.h"

namespace diviml {

/// Defaults (docs/deploy.md): one x86-64 core with two 256-bit FMA pipes at ~2 GHz (64 GFLOP/s
/// FP32), 12 GB/s of memory bandwidth for one core, 8 us ONNX Runtime dispatch per op; transfers
/// are a copy between worker threads (4 GB/s, 60 us per hand-over). `diviml profile --calibrate`
/// replaces these with measured figures.
Platform make_local_cpu_platform(int n);


}  // namespace diviml
