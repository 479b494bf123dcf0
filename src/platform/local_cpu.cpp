#include "platform/local_cpu.h"

#include <fmt/format.h>

#include <stdexcept>

namespace diviml {

Platform make_local_cpu_platform(int n) {
  if (n < 1 || n > 256) throw InputError(fmt::format("local-cpu:{}: N must be in 1..256", n));
  Platform p;
  p.name = fmt::format("local-cpu:{}", n);
  p.description =
      "N CPU devices of one core each on this machine (diviml run: one ONNX Runtime worker thread per device, "
      "pinned to its own core); documented defaults, replace with `diviml profile --calibrate`";
  for (int k = 0; k < n; ++k) {
    Device d;
    d.name = fmt::format("cpu{}", k);
    d.kind = DeviceKind::Cpu;
    d.peak_flops = 64e9;
    d.mem_bandwidth = 12e9;
    d.launch_overhead_s = 8e-6;
    d.efficiency = {{OpClass::Conv, 0.55},        {OpClass::DepthwiseConv, 0.10}, {OpClass::MatMul, 0.60},
                    {OpClass::Elementwise, 1.0},  {OpClass::Normalization, 1.0},  {OpClass::Pooling, 1.0},
                    {OpClass::DataMovement, 1.0}, {OpClass::Embedding, 1.0},      {OpClass::Other, 0.3}};
    p.devices.push_back(d);
  }
  p.default_intra_server = p.default_inter_server = Link{0, 0, 4e9, 60e-6};
  p.io_device = -1;  // inputs and outputs live in the runner's shared memory
  p.validate();
  return p;
}

}  // namespace diviml
