// Forked worker processes (worker_processes.h): results in job order, failures reported, more
// jobs than workers, and a real MILP solved in a worker equal to the same solve in-process.
#include <gtest/gtest.h>

#include <stdexcept>

#include "random_instances.h"
#include "solvers/milp/latency_milp.h"
#include "solvers/milp/worker_processes.h"

namespace diviml {
namespace {

TEST(WorkerProcesses, ResultsInJobOrderAndFailuresReported) {
  std::vector<std::function<std::string()>> jobs;
  for (int i = 0; i < 7; ++i)
    jobs.push_back([i]() -> std::string {
      if (i == 3) throw std::runtime_error("job 3 fails");
      ByteWriter w;
      w.put(i * i);
      w.put_vector(std::vector<double>(static_cast<size_t>(i), 0.5 * i));
      return w.take();
    });
  const auto out = run_in_worker_processes(jobs, 3);
  ASSERT_EQ(out.size(), jobs.size());
  for (int i = 0; i < 7; ++i) {
    if (i == 3) {
      EXPECT_FALSE(out[i].has_value());
      continue;
    }
    ASSERT_TRUE(out[i].has_value()) << "job " << i;
    ByteReader r(*out[i]);
    EXPECT_EQ(r.get<int>(), i * i);
    EXPECT_EQ(r.get_vector<double>(), std::vector<double>(static_cast<size_t>(i), 0.5 * i));
  }
}

TEST(WorkerProcesses, LargeResultsArriveWhole) {
  // More than a pipe's buffer (64 KiB): the parent must read while the child writes.
  std::vector<std::function<std::string()>> jobs(2, [] { return std::string(1 << 20, 'x'); });
  const auto out = run_in_worker_processes(jobs, 2);
  for (const auto& o : out) {
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->size(), size_t{1} << 20);
  }
}

TEST(WorkerProcesses, TruncatedBytesAreRejected) {
  ByteWriter w;
  w.put_vector(std::vector<int>{1, 2, 3});
  std::string bytes = w.take();
  bytes.resize(bytes.size() - 1);
  ByteReader r(bytes);
  EXPECT_THROW(r.get_vector<int>(), std::runtime_error);
}

TEST(WorkerProcesses, MilpInAWorkerEqualsInProcess) {
  auto pb = testing::random_problem(9, 0.25, 3, 4, true);
  SolveOptions opt;
  opt.time_limit_s = 20;
  const LatencyMilpResult here = solve_latency_milp(*pb, {}, opt);
  ASSERT_EQ(here.status, SolveStatus::Optimal);
  const auto out = run_in_worker_processes({[&] {
                                              ByteWriter w;
                                              w.put(solve_latency_milp(*pb, {}, opt).objective);
                                              return w.take();
                                            }},
                                           1);
  ASSERT_TRUE(out[0].has_value());
  ByteReader r(*out[0]);
  EXPECT_NEAR(r.get<double>(), here.objective, 1e-9 * here.objective);
}

}  // namespace
}  // namespace diviml
