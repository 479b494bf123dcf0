// The throughput MILP (DESIGN section 5). See throughput_model.h and docs/throughput.md.
#include "solvers/throughput/throughput_model.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace diviml {

using milp::Term;

ThroughputModel build_throughput_model(const ThroughputInstance& in, const ThroughputModelOptions& o) {
  ThroughputModel tm;
  const int R = o.replicas, n = in.n, K = in.K, io = in.io;
  tm.R = R;
  tm.n = n;
  tm.K = K;
  milp::Model& m = tm.model;
  m.name = o.relax ? "throughput_lp" : "throughput";
  m.comments.push_back(fmt::format("diviml throughput {}: {} ops, {} devices, R = {} replicas; minimise the period P",
                                   o.relax ? "LP relaxation" : "MILP", n, K, R));
  m.comments.push_back("throughput = R / P; x_r_v_k: op v of replica r on device k; y_r_t_k_l: tensor t of replica r "
                       "sent from k to l; w_v_k: weights of v resident on k");
  tm.P = m.add_var("P", std::max(0.0, o.period_lb), o.period_ub > 0 ? o.period_ub : milp::kInfinity, false, 1.0);

  // x variables and assignment rows.
  tm.x.assign(static_cast<size_t>(R) * n * K, -1);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < n; ++v) {
      std::vector<Term> row;
      for (int k = 0; k < K; ++k) {
        if (!std::isfinite(in.exec(v, k)) || in.weight[v] > in.capacity[k]) continue;
        const int var = o.relax ? m.add_var(fmt::format("x_{}_{}_{}", r, v, k), 0, 1, false)
                                : m.add_binary(fmt::format("x_{}_{}_{}", r, v, k));
        tm.x[(static_cast<size_t>(r) * n + v) * K + k] = var;
        row.push_back({var, 1});
      }
      if (row.empty()) throw InputError(fmt::format("throughput model: op {} fits on no device", v));
      m.add_eq(fmt::format("assign_{}_{}", r, v), std::move(row), 1);
    }

  // Device load rows.
  for (int k = 0; k < K; ++k) {
    std::vector<Term> row;
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < n; ++v)
        if (tm.xv(r, v, k) >= 0 && in.exec(v, k) > 0) row.push_back({tm.xv(r, v, k), in.exec(v, k)});
    if (row.empty()) continue;
    row.push_back({tm.P, -1});
    m.add_le(fmt::format("load_{}", k), std::move(row), 0);
  }

  // Transfer indicators and link load rows.
  std::vector<std::vector<Term>> link_rows(static_cast<size_t>(K) * K);
  std::vector<std::vector<Term>> lat_rows(R);
  std::vector<int> yv(static_cast<size_t>(K) * K);
  auto xt = [&](int r, int v, int k, double coef, std::vector<Term>& row, double& rhs) {
    // adds coef * x[r][v][k] (a missing variable is the constant 0)
    (void)rhs;
    const int var = tm.xv(r, v, k);
    if (var >= 0) row.push_back({var, coef});
  };
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < static_cast<int>(in.tensors.size()); ++t) {
      const auto& ts = in.tensors[t];
      const int u = ts.producer;
      if (u < 0 && io < 0) continue;
      std::fill(yv.begin(), yv.end(), -1);
      auto y = [&](int k, int l) {
        int& var = yv[static_cast<size_t>(k) * K + l];
        if (var < 0) {
          var = m.add_var(fmt::format("y_{}_{}_{}_{}", r, t, k, l), 0, 1, false);
          tm.y.push_back({r, t, k, l, var});
          const double c = in.comm(t, k, l);
          link_rows[static_cast<size_t>(k) * K + l].push_back({var, c});
          if (o.max_latency_s > 0) lat_rows[r].push_back({var, c});
        }
        return var;
      };
      auto can = [&](int v, int k) { return tm.xv(r, v, k) >= 0; };
      if (u < 0) {  // graph input: from io to every device holding a consumer
        for (int v : ts.consumers)
          for (int l = 0; l < K; ++l)
            if (l != io && can(v, l)) m.add_ge(fmt::format("in_{}_{}_{}_{}", r, t, v, l), {{y(io, l), 1}, {tm.xv(r, v, l), -1}}, 0);
        continue;
      }
      for (int v : ts.consumers) {
        for (int k = 0; k < K; ++k) {
          if (!can(u, k)) continue;
          for (int l = 0; l < K; ++l)
            if (l != k && can(v, l))
              m.add_ge(fmt::format("tr_{}_{}_{}_{}_{}", r, t, v, k, l),
                       {{y(k, l), 1}, {tm.xv(r, u, k), -1}, {tm.xv(r, v, l), -1}}, -1);
        }
        // Aggregated (stronger LP): leaving k when u is on k and v is not; entering l likewise.
        for (int k = 0; k < K; ++k) {
          if (!can(u, k)) continue;
          std::vector<Term> row;
          for (int l = 0; l < K; ++l)
            if (l != k && can(v, l)) row.push_back({y(k, l), 1});
          if (row.empty()) continue;
          double rhs = 0;
          row.push_back({tm.xv(r, u, k), -1});
          xt(r, v, k, 1, row, rhs);
          m.add_ge(fmt::format("out_{}_{}_{}_{}", r, t, v, k), std::move(row), 0);
        }
        for (int l = 0; l < K; ++l) {
          if (!can(v, l)) continue;
          std::vector<Term> row;
          for (int k = 0; k < K; ++k)
            if (k != l && can(u, k)) row.push_back({y(k, l), 1});
          if (row.empty()) continue;
          double rhs = 0;
          row.push_back({tm.xv(r, v, l), -1});
          xt(r, u, l, 1, row, rhs);
          m.add_ge(fmt::format("inn_{}_{}_{}_{}", r, t, v, l), std::move(row), 0);
        }
      }
      if (ts.output && io >= 0)
        for (int k = 0; k < K; ++k)
          if (k != io && can(u, k)) m.add_ge(fmt::format("dl_{}_{}_{}", r, t, k), {{y(k, io), 1}, {tm.xv(r, u, k), -1}}, 0);
    }
  for (int k = 0; k < K; ++k)
    for (int l = 0; l < K; ++l) {
      auto& row = link_rows[static_cast<size_t>(k) * K + l];
      if (row.empty()) continue;
      row.push_back({tm.P, -1});
      m.add_le(fmt::format("link_{}_{}", k, l), std::move(row), 0);
    }

  // Memory: weights stored once per device across replicas, plus the activation estimate of
  // every op of every replica on the device (and the I/O tensors of every replica on the I/O
  // device): never below what the simulator counts, so every solution fits (docs/throughput.md).
  tm.w.assign(static_cast<size_t>(n) * K, -1);
  auto act = [&](int v) { return in.activation.empty() ? 0.0 : in.activation[v]; };
  for (int k = 0; k < K; ++k) {
    const double io_bytes = k == io ? R * in.io_activation : 0.0;
    double total = io_bytes;
    for (int v = 0; v < n; ++v)
      if (tm.xv(0, v, k) >= 0) total += in.weight[v] + R * act(v);
    if (total <= in.capacity[k]) continue;
    std::vector<Term> row;
    bool with_act = io_bytes > 0;
    for (int v = 0; v < n; ++v) {
      if (tm.xv(0, v, k) < 0) continue;
      if (in.weight[v] > 0) {
        const int wv = m.add_var(fmt::format("w_{}_{}", v, k), 0, 1, false);
        tm.w[static_cast<size_t>(v) * K + k] = wv;
        for (int r = 0; r < R; ++r) m.add_ge(fmt::format("res_{}_{}_{}", r, v, k), {{wv, 1}, {tm.xv(r, v, k), -1}}, 0);
        row.push_back({wv, in.weight[v]});
      }
      if (act(v) > 0) {
        with_act = true;
        for (int r = 0; r < R; ++r) row.push_back({tm.xv(r, v, k), act(v)});
      }
    }
    tm.activation_rows = tm.activation_rows || with_act;
    m.add_le(fmt::format("mem_{}", k), std::move(row), in.capacity[k] - io_bytes);
  }

  // Optional latency cap: the serial sum of a replica's op and transfer seconds (conservative).
  if (o.max_latency_s > 0)
    for (int r = 0; r < R; ++r) {
      auto& row = lat_rows[r];
      for (int v = 0; v < n; ++v)
        for (int k = 0; k < K; ++k)
          if (tm.xv(r, v, k) >= 0) row.push_back({tm.xv(r, v, k), in.exec(v, k)});
      m.add_le(fmt::format("latency_{}", r), std::move(row), o.max_latency_s);
    }

  if (o.symmetry && !o.relax) {
    // Replicas are interchangeable: order them by the sum of their ops' device indices.
    for (int r = 0; r + 1 < R; ++r) {
      std::vector<Term> row;
      for (int v = 0; v < n; ++v)
        for (int k = 1; k < K; ++k) {
          if (tm.xv(r, v, k) >= 0) row.push_back({tm.xv(r, v, k), static_cast<double>(k)});
          if (tm.xv(r + 1, v, k) >= 0) row.push_back({tm.xv(r + 1, v, k), -static_cast<double>(k)});
        }
      if (!row.empty()) m.add_le(fmt::format("sym_rep_{}", r), std::move(row), 0);
    }
    // Identical devices: non-increasing compute load within a class.
    for (const auto& cls : o.device_classes)
      for (size_t i = 0; i + 1 < cls.size(); ++i) {
        const int a = cls[i], b = cls[i + 1];
        std::vector<Term> row;
        for (int r = 0; r < R; ++r)
          for (int v = 0; v < n; ++v) {
            if (tm.xv(r, v, a) >= 0) row.push_back({tm.xv(r, v, a), in.exec(v, a)});
            if (tm.xv(r, v, b) >= 0) row.push_back({tm.xv(r, v, b), -in.exec(v, b)});
          }
        if (!row.empty()) m.add_ge(fmt::format("sym_dev_{}_{}", a, b), std::move(row), 0);
      }
  }
  return tm;
}

std::vector<double> ThroughputModel::assignment(const ThroughputInstance& in,
                                                const std::vector<std::vector<int>>& place) const {
  std::vector<double> val(model.num_vars(), 0.0);
  const ThroughputLoads loads = compute_loads(in, place);
  val[P] = std::max(loads.period, model.vars[P].lb);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < n; ++v) {
      const int var = xv(r, v, place[r][v]);
      if (var >= 0) val[var] = 1;
      const int wv = w[static_cast<size_t>(v) * K + place[r][v]];
      if (wv >= 0) val[wv] = 1;
    }
  std::vector<char> dest(K);
  for (const YVar& yy : y) {
    const auto& ts = in.tensors[yy.t];
    const int src = ts.producer < 0 ? in.io : place[yy.r][ts.producer];
    if (src != yy.k) continue;
    bool sent = ts.output && yy.l == in.io;
    for (int c : ts.consumers) sent = sent || place[yy.r][c] == yy.l;
    if (sent) val[yy.var] = 1;
  }
  return val;
}

std::vector<std::vector<int>> ThroughputModel::placement(const std::vector<double>& values) const {
  std::vector<std::vector<int>> place(R, std::vector<int>(n, -1));
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < n; ++v) {
      double best = -1;
      for (int k = 0; k < K; ++k) {
        const int var = xv(r, v, k);
        if (var >= 0 && values[var] > best) {
          best = values[var];
          place[r][v] = k;
        }
      }
    }
  return place;
}

double serial_latency(const ThroughputInstance& in, const std::vector<int>& place) {
  double s = 0;
  for (int v = 0; v < in.n; ++v) s += in.exec(v, place[v]);
  const ThroughputLoads l = compute_loads(in, {place});
  for (double x : l.link) s += x;
  return s;
}

void canonicalize_placement(const ThroughputInstance& in, const std::vector<std::vector<int>>& classes,
                            std::vector<std::vector<int>>& place) {
  const int K = in.K;
  if (!classes.empty()) {
    const ThroughputLoads loads = compute_loads(in, place);
    std::vector<int> relabel(K);
    std::iota(relabel.begin(), relabel.end(), 0);
    for (const auto& cls : classes) {
      std::vector<int> by_load = cls;
      std::stable_sort(by_load.begin(), by_load.end(),
                       [&](int a, int b) { return loads.device[a] > loads.device[b]; });
      for (size_t i = 0; i < cls.size(); ++i) relabel[by_load[i]] = cls[i];
    }
    for (auto& rep : place)
      for (int& d : rep) d = relabel[d];
  }
  auto key = [&](const std::vector<int>& rep) {
    long long s = 0;
    for (int d : rep) s += d;
    return s;
  };
  std::stable_sort(place.begin(), place.end(),
                   [&](const std::vector<int>& a, const std::vector<int>& b) { return key(a) < key(b); });
}

}  // namespace diviml
