// Schedules a model with the installed library: only <diviml/diviml.h> is available here.
#include <cstdio>

#include <diviml/diviml.h>

int main(int argc, char** argv) {
  using namespace diviml::api;
  if (argc != 2) return 2;
  Diviml d;
  if (d.read_model(argv[1]) == CallStatus::Error || d.set_platform("identical:3") == CallStatus::Error ||
      d.set_option("time_limit", 5.0) == CallStatus::Error || d.run(Objective::Latency, "heft") == CallStatus::Error) {
    std::fprintf(stderr, "consumer: %s\n", d.last_error().c_str());
    return 1;
  }
  const Result& r = d.result();
  std::printf("consumer: %s %s makespan %.6g s, lower bound %.6g s, %zu ops placed\n", r.method.c_str(),
              to_string(r.status), r.makespan_s, r.lower_bound_s, r.placement.size());
  return r.makespan_s > 0 && r.makespan_s >= r.lower_bound_s && r.placement.size() == r.ops.size() ? 0 : 1;
}
