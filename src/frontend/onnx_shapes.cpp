// diviml's ONNX shape inference (see onnx_shapes.h and docs/onnx.md). Rules follow the ONNX
// operator specification of opsets 7-23; where an input moved from an attribute to an input
// (axes, pads, split, scales, starts/ends, k) both forms are read, so one rule serves every opset.
#include "frontend/onnx_shapes.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>

namespace diviml::onnx_shapes {

namespace {

using DT = onnx::TensorProto_DataType;
constexpr int32_t kFloat = DT::TensorProto_DataType_FLOAT;
constexpr int32_t kInt64 = DT::TensorProto_DataType_INT64;
constexpr int32_t kInt32 = DT::TensorProto_DataType_INT32;
constexpr int32_t kBool = DT::TensorProto_DataType_BOOL;
constexpr int32_t kUint8 = DT::TensorProto_DataType_UINT8;

using Dims = std::vector<int64_t>;

std::string dims_text(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

[[noreturn]] void fail(const std::string& msg) { throw ShapeError(msg); }

/// Normalises a possibly negative axis against rank r; throws when out of range.
int64_t axis_of(int64_t a, int64_t r, const char* what = "axis") {
  if (a < -r || a >= r) fail(fmt::format("{} {} is out of range for rank {}", what, a, r));
  return a < 0 ? a + r : a;
}

// Checked dimension arithmetic: attributes and values come from the file and may be anything.
int64_t mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail("dimension arithmetic overflows");
  return r;
}
int64_t add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail("dimension arithmetic overflows");
  return r;
}
/// A dimension computed in floating point; fails when not representable.
int64_t to_dim(double v) {
  if (!(v >= 0 && v < 9.0e15)) fail("dimension out of range");
  return static_cast<int64_t>(v);
}

double product(const Dims& d, size_t from = 0, size_t to = SIZE_MAX) {
  double p = 1;
  for (size_t i = from; i < d.size() && i < to; ++i) p *= static_cast<double>(d[i]);
  return p;
}

/// Multidirectional (numpy) broadcast.
Dims broadcast(const std::vector<const Dims*>& shapes) {
  size_t r = 0;
  for (const auto* s : shapes) r = std::max(r, s->size());
  Dims out(r, 1);
  for (const auto* s : shapes) {
    for (size_t k = 0; k < s->size(); ++k) {
      const int64_t d = (*s)[s->size() - 1 - k];
      int64_t& o = out[r - 1 - k];
      if (d == o || d == 1) continue;
      if (o == 1) { o = d; continue; }
      std::string all;
      for (const auto* x : shapes) all += (all.empty() ? "" : " and ") + dims_text(*x);
      fail(fmt::format("shapes {} cannot be broadcast", all));
    }
  }
  return out;
}

// ---- rule builders ---------------------------------------------------------------------------

/// Output 0 (and any further outputs) take input 0's shape and dtype.
bool same_as_input(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  for (int k = 0; k < std::max(1, c.node.output_size()); ++k) c.set(static_cast<size_t>(k), *x, c.elem_type(0));
  return true;
}

ShapeRule same_with_type(int32_t type) {
  return [type](ShapeContext& c) {
    const Dims* x = c.shape(0);
    if (!x) return false;
    c.set(0, *x, type);
    return true;
  };
}

/// Broadcast of all present inputs; dtype of `type_from` input or a fixed type.
ShapeRule broadcasting(int32_t fixed_type = 0, size_t type_from = 0) {
  return [fixed_type, type_from](ShapeContext& c) {
    std::vector<const Dims*> s;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      if (!c.has_input(i)) continue;
      const Dims* d = c.shape(i);
      if (!d) return false;
      s.push_back(d);
    }
    if (s.empty()) { c.why = "no inputs"; return false; }
    c.set(0, broadcast(s), fixed_type ? fixed_type : c.elem_type(type_from));
    return true;
  };
}

/// Spatial output sizes of Conv/pooling. `kernel` excludes N and C; `ceil_mode` for pooling.
Dims window_output(ShapeContext& c, const Dims& x, const Dims& kernel, bool ceil_mode) {
  const size_t n = kernel.size();
  if (x.size() != n + 2) fail(fmt::format("input {} does not match a {}-D kernel", dims_text(x), n));
  Dims strides = c.attr_ints("strides"), dil = c.attr_ints("dilations"), pads = c.attr_ints("pads");
  if (strides.empty()) strides.assign(n, 1);
  if (dil.empty()) dil.assign(n, 1);
  if (pads.empty()) pads.assign(2 * n, 0);
  if (strides.size() != n || dil.size() != n || pads.size() != 2 * n)
    fail("strides/dilations/pads do not match the kernel's rank");
  const std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  Dims out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t in = x[i + 2], s = strides[i];
    if (s <= 0 || dil[i] <= 0 || kernel[i] <= 0) fail("strides, dilations and kernel sizes must be positive");
    const int64_t ek = add(mul(dil[i], kernel[i] - 1), 1);
    int64_t o;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      o = add(in, s - 1) / s;
    } else if (auto_pad == "VALID") {
      o = (in - ek) / s + 1;
    } else {
      const int64_t span = add(add(in, pads[i]), add(pads[i + n], -ek));
      if (ceil_mode) {
        o = (span + s - 1) / s + 1;
        if (mul(o - 1, s) >= add(in, pads[i])) --o;  // the last window must start inside the input
      } else {
        o = span >= 0 ? span / s + 1 : 0;
      }
    }
    if (o <= 0) fail(fmt::format("window of {} (dilated) does not fit input {}", ek, dims_text(x)));
    out[i] = o;
  }
  return out;
}

/// Conv, ConvInteger, QLinearConv: x at input xi, weights at wi.
ShapeRule conv(size_t xi, size_t wi, int32_t out_type_from_input = -1, int32_t fixed_type = 0) {
  return [=](ShapeContext& c) {
    const Dims* x = c.shape(xi);
    const Dims* w = c.shape(wi);
    if (!x || !w) return false;
    if (x->size() < 3 || w->size() != x->size())
      fail(fmt::format("input {} and weights {} have incompatible ranks", dims_text(*x), dims_text(*w)));
    const int64_t group = c.attr_int("group", 1);
    if (group <= 0 || mul((*w)[1], group) != (*x)[1])
      fail(fmt::format("input {} has {} channels, the weights {} with group {} need {}", dims_text(*x), (*x)[1],
                       dims_text(*w), group, (*w)[1] * group));
    Dims kernel(w->begin() + 2, w->end());
    const Dims out_sp = window_output(c, *x, kernel, false);
    Dims out = {(*x)[0], (*w)[0]};
    out.insert(out.end(), out_sp.begin(), out_sp.end());
    const int32_t t = fixed_type ? fixed_type
                                 : c.elem_type(out_type_from_input >= 0 ? static_cast<size_t>(out_type_from_input) : xi);
    c.set(0, out, t);
    return true;
  };
}

bool conv_transpose(ShapeContext& c) {
  const Dims* x = c.shape(0);
  const Dims* w = c.shape(1);
  if (!x || !w) return false;
  if (x->size() < 3 || w->size() != x->size()) fail("input and weights have incompatible ranks");
  const size_t n = x->size() - 2;
  const int64_t group = c.attr_int("group", 1);
  if ((*w)[0] != (*x)[1]) fail(fmt::format("input {} has {} channels, the weights {} need {}", dims_text(*x), (*x)[1], dims_text(*w), (*w)[0]));
  Dims strides = c.attr_ints("strides"), dil = c.attr_ints("dilations"), pads = c.attr_ints("pads"),
       opad = c.attr_ints("output_padding"), oshape = c.attr_ints("output_shape");
  if (strides.empty()) strides.assign(n, 1);
  if (dil.empty()) dil.assign(n, 1);
  if (pads.empty()) pads.assign(2 * n, 0);
  if (opad.empty()) opad.assign(n, 0);
  if (strides.size() != n || dil.size() != n || pads.size() != 2 * n || opad.size() != n)
    fail("strides/dilations/pads/output_padding do not match the kernel's rank");
  const std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  if (group <= 0) fail("group must be positive");
  Dims out = {(*x)[0], mul((*w)[1], group)};
  for (size_t i = 0; i < n; ++i) {
    int64_t o;
    if (!oshape.empty()) {
      o = oshape[oshape.size() - n + i];
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      o = mul((*x)[i + 2], strides[i]);
    } else {
      o = add(add(mul(strides[i], (*x)[i + 2] - 1), opad[i]), add(mul((*w)[i + 2] - 1, dil[i]), 1));
      o = add(o, -add(pads[i], pads[i + n]));
    }
    if (o <= 0) fail("non-positive output size");
    out.push_back(o);
  }
  c.set(0, out, c.elem_type(0));
  return true;
}

bool pool(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const Dims k = c.attr_ints("kernel_shape");
  if (k.empty()) fail("no kernel_shape");
  const Dims sp = window_output(c, *x, k, c.attr_int("ceil_mode", 0) != 0);
  Dims out = {(*x)[0], (*x)[1]};
  out.insert(out.end(), sp.begin(), sp.end());
  c.set(0, out, c.elem_type(0));
  if (c.node.output_size() > 1) c.set(1, out, kInt64);  // MaxPool indices
  return true;
}

bool global_pool(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  if (x->size() < 2) fail("input needs rank >= 2");
  Dims out(x->size(), 1);
  out[0] = (*x)[0];
  out[1] = (*x)[1];
  c.set(0, out, c.elem_type(0));
  return true;
}

/// MatMul: numpy semantics (1-D operands promoted then squeezed), a at ai, b at bi.
ShapeRule matmul(size_t ai, size_t bi, int32_t fixed_type = 0, int type_from = -1) {
  return [=](ShapeContext& c) {
    const Dims* pa = c.shape(ai);
    const Dims* pb = c.shape(bi);
    if (!pa || !pb) return false;
    Dims a = *pa, b = *pb;
    if (a.empty() || b.empty()) fail("MatMul operands must not be scalars");
    const bool a1 = a.size() == 1, b1 = b.size() == 1;
    if (a1) a.insert(a.begin(), 1);
    if (b1) b.push_back(1);
    if (a.back() != b[b.size() - 2])
      fail(fmt::format("inner dimensions differ: {} x {}", dims_text(*pa), dims_text(*pb)));
    Dims ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
    Dims out = broadcast({&ba, &bb});
    if (!a1) out.push_back(a[a.size() - 2]);
    if (!b1) out.push_back(b.back());
    c.set(0, out, fixed_type ? fixed_type : c.elem_type(type_from >= 0 ? static_cast<size_t>(type_from) : ai));
    return true;
  };
}

bool gemm(ShapeContext& c) {
  const Dims* a = c.shape(0);
  const Dims* b = c.shape(1);
  if (!a || !b) return false;
  if (a->size() != 2 || b->size() != 2) fail("Gemm needs 2-D operands");
  const bool ta = c.attr_int("transA", 0), tb = c.attr_int("transB", 0);
  const int64_t m = (*a)[ta ? 1 : 0], k = (*a)[ta ? 0 : 1], kb = (*b)[tb ? 1 : 0], n = (*b)[tb ? 0 : 1];
  if (k != kb) fail(fmt::format("inner dimensions differ: A {} (transA={}) and B {} (transB={})", dims_text(*a), ta,
                                dims_text(*b), tb));
  c.set(0, {m, n}, c.elem_type(0));
  return true;
}

/// A list given as attribute `name` (older opsets) or as constant input `input` (newer ones).
/// False when that input exists but is not a known constant; `out` stays empty when neither is given.
bool attr_or_input_ints(ShapeContext& c, const char* name, int input, Dims& out) {
  if (c.attr(name)) {
    out = c.attr_ints(name);
  } else if (c.has_input(input)) {
    const auto* v = c.ints(input);
    if (!v) return false;
    out = *v;
  }
  return true;
}

/// Reduce*: axes from the attribute (before opset 18; ReduceSum before 13) or input 1.
ShapeRule reduce(int32_t fixed_type = 0) {
  return [fixed_type](ShapeContext& c) {
    const Dims* x = c.shape(0);
    if (!x) return false;
    const int64_t r = static_cast<int64_t>(x->size());
    Dims axes;
    if (!attr_or_input_ints(c, "axes", 1, axes)) return false;
    const bool keep = c.attr_int("keepdims", 1) != 0;
    if (axes.empty() && c.attr_int("noop_with_empty_axes", 0)) {
      c.set(0, *x, fixed_type ? fixed_type : c.elem_type(0));
      return true;
    }
    std::vector<bool> red(x->size(), axes.empty());
    for (int64_t a : axes) red[static_cast<size_t>(axis_of(a, r))] = true;
    Dims out;
    for (size_t i = 0; i < x->size(); ++i) {
      if (!red[i]) out.push_back((*x)[i]);
      else if (keep) out.push_back(1);
    }
    c.set(0, out, fixed_type ? fixed_type : c.elem_type(0));
    return true;
  };
}

bool arg_reduce(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t a = axis_of(c.attr_int("axis", 0), static_cast<int64_t>(x->size()));
  Dims out = *x;
  if (c.attr_int("keepdims", 1)) out[static_cast<size_t>(a)] = 1;
  else out.erase(out.begin() + a);
  c.set(0, out, kInt64);
  return true;
}

bool layer_norm(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t r = static_cast<int64_t>(x->size());
  const int64_t a = axis_of(c.attr_int("axis", -1), r);
  c.set(0, *x, c.elem_type(0));
  Dims stat(x->begin(), x->begin() + a);
  stat.resize(x->size(), 1);
  const int32_t st = static_cast<int32_t>(c.attr_int("stash_type", kFloat));
  for (size_t k = 1; k < c.outputs.size() || static_cast<int>(k) < c.node.output_size(); ++k) c.set(k, stat, st);
  return true;
}

bool batch_norm(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  c.set(0, *x, c.elem_type(0));
  const Dims* s = c.node.output_size() > 1 ? c.shape(1) : nullptr;
  for (int k = 1; k < c.node.output_size(); ++k) {
    if (!s) return false;
    c.set(static_cast<size_t>(k), *s, c.elem_type(1));
  }
  return true;
}

bool dropout(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  c.set(0, *x, c.elem_type(0));
  if (c.node.output_size() > 1) c.set(1, *x, kBool);
  return true;
}

bool concat(ShapeContext& c) {
  const Dims* first = nullptr;
  int64_t sum = 0, a = 0;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (!c.has_input(i)) continue;
    const Dims* d = c.shape(i);
    if (!d) return false;
    if (!first) {
      first = d;
      a = axis_of(c.attr_int("axis", 0), static_cast<int64_t>(d->size()));
    }
    if (d->size() != first->size()) fail(fmt::format("inputs {} and {} differ in rank", dims_text(*first), dims_text(*d)));
    for (size_t k = 0; k < d->size(); ++k)
      if (static_cast<int64_t>(k) != a && (*d)[k] != (*first)[k])
        fail(fmt::format("inputs {} and {} differ outside axis {}", dims_text(*first), dims_text(*d), a));
    sum = add(sum, (*d)[static_cast<size_t>(a)]);
  }
  if (!first) { c.why = "no inputs"; return false; }
  Dims out = *first;
  out[static_cast<size_t>(a)] = sum;
  c.set(0, out, c.elem_type(0));
  return true;
}

/// Split: sizes from the attribute (before 13), input 1 (13+), num_outputs (18) or equal parts.
bool split(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t a = axis_of(c.attr_int("axis", 0), static_cast<int64_t>(x->size()));
  const int64_t len = (*x)[static_cast<size_t>(a)];
  const int64_t n = c.node.output_size();
  Dims sizes;
  if (c.attr("split") || c.has_input(1)) {
    if (!attr_or_input_ints(c, "split", 1, sizes)) return false;
  } else {
    const int64_t parts = c.attr("num_outputs") ? c.attr_int("num_outputs", n) : n;
    if (parts <= 0) fail("num_outputs must be positive");
    if (c.attr("num_outputs")) {
      // Opset 18: the last chunk is smaller when the axis does not divide evenly.
      if (parts != n) fail(fmt::format("num_outputs {} for {} outputs", parts, n));
      const int64_t chunk = add(len, parts - 1) / parts;
      for (int64_t k = 0; k < parts; ++k) sizes.push_back(std::max<int64_t>(0, std::min(chunk, len - k * chunk)));
    } else {
      if (len % parts) fail(fmt::format("axis of length {} does not split into {} equal parts", len, parts));
      sizes.assign(static_cast<size_t>(parts), len / parts);
    }
  }
  if (static_cast<int64_t>(sizes.size()) != n)
    fail(fmt::format("{} split sizes for {} outputs", sizes.size(), n));
  int64_t total = 0;
  for (int64_t v : sizes) {
    if (v < 0) fail("negative split size");
    total = add(total, v);
  }
  if (total != len)
    fail(fmt::format("split sizes {} do not add up to {}", dims_text(sizes), len));
  for (size_t k = 0; k < sizes.size(); ++k) {
    Dims o = *x;
    o[static_cast<size_t>(a)] = sizes[k];
    c.set(k, o, c.elem_type(0));
  }
  return true;
}

/// Slice: starts/ends/axes as attributes (before 10) or inputs 1-4.
bool slice(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t r = static_cast<int64_t>(x->size());
  Dims starts, ends, axes, steps;
  if (c.attr("starts")) {
    starts = c.attr_ints("starts");
    ends = c.attr_ints("ends");
    axes = c.attr_ints("axes");
  } else {
    const auto* s = c.ints(1);
    const auto* e = c.ints(2);
    if (!s || !e) return false;
    starts = *s;
    ends = *e;
    if (c.has_input(3)) { const auto* v = c.ints(3); if (!v) return false; axes = *v; }
    if (c.has_input(4)) { const auto* v = c.ints(4); if (!v) return false; steps = *v; }
  }
  if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    fail("starts, ends, axes and steps differ in length");
  Dims out = *x;
  for (size_t k = 0; k < starts.size(); ++k) {
    const auto ax = static_cast<size_t>(axis_of(axes[k], r));
    const int64_t d = (*x)[ax], st = steps[k];
    if (st == 0) fail("slice step 0");
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s += d;
    if (e < 0 && e > INT64_MIN / 2) e += d;
    if (d == 0) {
      out[ax] = 0;
    } else if (st > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      out[ax] = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      out[ax] = s > e ? (st == INT64_MIN ? 1 : (s - e - 1) / (-st) + 1) : 0;
    }
  }
  c.set(0, out, c.elem_type(0));
  return true;
}

bool transpose(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  Dims perm = c.attr_ints("perm");
  if (perm.empty()) for (size_t i = 0; i < x->size(); ++i) perm.push_back(static_cast<int64_t>(x->size() - 1 - i));
  if (perm.size() != x->size()) fail(fmt::format("perm {} does not match input {}", dims_text(perm), dims_text(*x)));
  Dims out;
  for (int64_t p : perm) out.push_back((*x)[static_cast<size_t>(axis_of(p, static_cast<int64_t>(x->size()), "perm"))]);
  c.set(0, out, c.elem_type(0));
  return true;
}

/// Pad: pads as attribute (before 11) or input 1; axes input 3 (18+).
bool pad(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t r = static_cast<int64_t>(x->size());
  Dims pads;
  if (c.attr("pads")) {
    pads = c.attr_ints("pads");
  } else {
    const auto* v = c.ints(1);
    if (!v) return false;
    pads = *v;
  }
  Dims axes;
  if (c.has_input(3)) {
    const auto* v = c.ints(3);
    if (!v) return false;
    axes = *v;
  } else {
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  }
  if (pads.size() != 2 * axes.size()) fail(fmt::format("{} pads for {} axes", pads.size(), axes.size()));
  Dims out = *x;
  const size_t n = axes.size();
  for (size_t k = 0; k < n; ++k) {
    const auto a = static_cast<size_t>(axis_of(axes[k], r));
    out[a] = add(out[a], add(pads[k], pads[k + n]));
    if (out[a] < 0) fail("padding leaves a negative size");
  }
  c.set(0, out, c.elem_type(0));
  return true;
}

bool tile(ShapeContext& c) {
  const Dims* x = c.shape(0);
  const auto* rep = x ? c.ints(1) : nullptr;
  if (!x || !rep) return false;
  if (rep->size() != x->size()) fail("repeats do not match the input's rank");
  Dims out = *x;
  for (size_t i = 0; i < out.size(); ++i) out[i] = mul(out[i], (*rep)[i]);
  c.set(0, out, c.elem_type(0));
  return true;
}

bool expand(ShapeContext& c) {
  const Dims* x = c.shape(0);
  const auto* s = x ? c.ints(1) : nullptr;
  if (!x || !s) return false;
  c.set(0, broadcast({x, s}), c.elem_type(0));
  return true;
}

bool gather(ShapeContext& c) {
  const Dims* x = c.shape(0);
  const Dims* idx = c.shape(1);
  if (!x || !idx) return false;
  const int64_t a = axis_of(c.attr_int("axis", 0), static_cast<int64_t>(x->size()));
  Dims out(x->begin(), x->begin() + a);
  out.insert(out.end(), idx->begin(), idx->end());
  out.insert(out.end(), x->begin() + a + 1, x->end());
  c.set(0, out, c.elem_type(0));
  return true;
}

bool gather_elements(ShapeContext& c) {
  const Dims* idx = c.shape(1);
  if (!idx || !c.shape(0)) return false;
  c.set(0, *idx, c.elem_type(0));
  return true;
}

bool gather_nd(ShapeContext& c) {
  const Dims* x = c.shape(0);
  const Dims* idx = c.shape(1);
  if (!x || !idx) return false;
  const int64_t bd = c.attr_int("batch_dims", 0);
  if (idx->empty()) fail("indices must have rank >= 1");
  if (bd < 0 || idx->back() < 0 || bd > static_cast<int64_t>(x->size())) fail("batch_dims or indices out of range");
  const auto b = static_cast<size_t>(bd);
  const auto last = static_cast<size_t>(idx->back());
  if (b + last > x->size()) fail("indices address more dims than the data has");
  Dims out(idx->begin(), idx->end() - 1);
  out.insert(out.end(), x->begin() + static_cast<int64_t>(b + last), x->end());
  c.set(0, out, c.elem_type(0));
  return true;
}

bool depth_to_space(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  if (x->size() != 4) fail("input must be 4-D");
  const int64_t b = c.attr_int("blocksize", 1);
  if (b <= 0 || (*x)[1] % mul(b, b)) fail("channels are not a multiple of blocksize^2");
  c.set(0, {(*x)[0], (*x)[1] / (b * b), mul((*x)[2], b), mul((*x)[3], b)}, c.elem_type(0));
  return true;
}

bool space_to_depth(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  if (x->size() != 4) fail("input must be 4-D");
  const int64_t b = c.attr_int("blocksize", 1);
  if (b <= 0 || (*x)[2] % b || (*x)[3] % b) fail("spatial dims are not multiples of blocksize");
  c.set(0, {(*x)[0], mul(mul((*x)[1], b), b), (*x)[2] / b, (*x)[3] / b}, c.elem_type(0));
  return true;
}

bool one_hot(ShapeContext& c) {
  const Dims* idx = c.shape(0);
  if (!idx) return false;
  const auto* depth_i = c.values.size() > 1 && c.values[1] ? c.values[1] : nullptr;
  if (!depth_i) { c.why = "depth is computed at run time"; return false; }
  const int64_t depth = depth_i->is_float ? to_dim(depth_i->f.at(0)) : depth_i->i.at(0);
  const int64_t r = static_cast<int64_t>(idx->size()) + 1;
  const int64_t a = axis_of(c.attr_int("axis", -1), r);
  Dims out = *idx;
  out.insert(out.begin() + a, depth);
  c.set(0, out, c.elem_type(2));
  return true;
}

bool topk(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  int64_t k;
  if (c.attr("k")) {
    k = c.attr_int("k", 1);
  } else {
    const auto* v = c.ints(1);
    if (!v) return false;
    if (v->size() != 1) fail("K must hold one value");
    k = (*v)[0];
  }
  const auto a = static_cast<size_t>(axis_of(c.attr_int("axis", -1), static_cast<int64_t>(x->size())));
  if (k < 0 || k > (*x)[a]) fail(fmt::format("K={} is out of range for axis of length {}", k, (*x)[a]));
  Dims out = *x;
  out[a] = k;
  c.set(0, out, c.elem_type(0));
  c.set(1, out, kInt64);
  return true;
}

/// Resize (10: X, scales; 11+: X, roi, scales, sizes; 18+: axes, keep_aspect_ratio_policy) and
/// Upsample (7: scales attribute; 9: scales input).
bool resize(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t r = static_cast<int64_t>(x->size());
  const bool upsample = c.node.op_type() == "Upsample";
  const size_t si = upsample || c.opset < 11 ? 1 : 2;
  Dims axes = c.attr_ints("axes");
  if (axes.empty()) for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  for (auto& a : axes) a = axis_of(a, r);
  Dims out = *x;
  std::vector<double> scales;
  if (upsample && c.attr("scales")) {
    for (float f : c.attr("scales")->floats()) scales.push_back(f);
  } else if (c.has_input(si) && c.values.size() > si && c.values[si] && c.values[si]->size() > 0) {
    const ConstValue& v = *c.values[si];
    for (size_t k = 0; k < v.size(); ++k) scales.push_back(v.is_float ? v.f[k] : static_cast<double>(v.i[k]));
  }
  if (!scales.empty()) {
    if (scales.size() != axes.size()) fail(fmt::format("{} scales for {} axes", scales.size(), axes.size()));
    for (size_t k = 0; k < axes.size(); ++k) {
      auto& d = out[static_cast<size_t>(axes[k])];
      d = to_dim(std::floor(static_cast<double>(d) * scales[k] + 1e-9));
    }
    c.set(0, out, c.elem_type(0));
    return true;
  }
  if (!upsample && c.opset >= 11 && c.has_input(3)) {
    const auto* sz = c.ints(3);
    if (!sz) return false;
    if (sz->size() != axes.size()) fail(fmt::format("{} sizes for {} axes", sz->size(), axes.size()));
    const std::string policy = c.attr_string("keep_aspect_ratio_policy", "stretch");
    if (policy == "stretch") {
      for (size_t k = 0; k < axes.size(); ++k) out[static_cast<size_t>(axes[k])] = (*sz)[k];
    } else {
      double s = policy == "not_larger" ? 1e300 : 0;
      for (size_t k = 0; k < axes.size(); ++k) {
        const double q = static_cast<double>((*sz)[k]) / static_cast<double>((*x)[static_cast<size_t>(axes[k])]);
        s = policy == "not_larger" ? std::min(s, q) : std::max(s, q);
      }
      for (size_t k = 0; k < axes.size(); ++k) {
        auto& d = out[static_cast<size_t>(axes[k])];
        d = to_dim(std::round(static_cast<double>(d) * s));
      }
    }
    c.set(0, out, c.elem_type(0));
    return true;
  }
  c.why = "scales/sizes are computed at run time";
  return false;
}

/// Col2Im (18): (N, C*prod(block), L) -> (N, C, image_shape...).
bool col2im(ShapeContext& c) {
  const Dims* x = c.shape(0);
  const auto* img = x ? c.ints(1) : nullptr;
  const auto* blk = img ? c.ints(2) : nullptr;
  if (!x || !img || !blk) return false;
  if (x->size() != 3 || img->size() != blk->size()) fail("input must be 3-D and image_shape match block_shape");
  const double bp = product(*blk);
  if (!(bp > 0 && bp < 9.0e15) || (*x)[1] % static_cast<int64_t>(bp)) fail("channels are not a multiple of the block size");
  Dims out = {(*x)[0], (*x)[1] / static_cast<int64_t>(bp)};
  out.insert(out.end(), img->begin(), img->end());
  c.set(0, out, c.elem_type(0));
  return true;
}

/// Reshape: shape value needed; 0 copies the input's dim (unless allowzero), -1 is inferred.
bool reshape(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  Dims s;
  if (c.attr("shape")) {  // opset < 5 form
    s = c.attr_ints("shape");
  } else {
    const auto* v = c.ints(1);
    if (!v) return false;
    s = *v;
  }
  const bool allowzero = c.attr_int("allowzero", 0) != 0;
  int infer = -1;
  double known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 0 && !allowzero) {
      if (i >= x->size()) fail(fmt::format("shape {} copies dim {} of input {}", dims_text(s), i, dims_text(*x)));
      s[i] = (*x)[i];
    }
    if (s[i] == -1) {
      if (infer >= 0) fail("two -1 in the target shape");
      infer = static_cast<int>(i);
    } else if (s[i] < 0) {
      fail(fmt::format("negative dim in target shape {}", dims_text(s)));
    } else {
      known *= static_cast<double>(s[i]);
    }
  }
  const double total = product(*x);
  if (infer >= 0) {
    if (known == 0 || std::fmod(total, known) != 0)
      fail(fmt::format("input {} cannot be reshaped to {}", dims_text(*x), dims_text(s)));
    s[static_cast<size_t>(infer)] = to_dim(total / known);
  } else if (known != total) {
    fail(fmt::format("input {} ({} elements) cannot be reshaped to {}", dims_text(*x), total, dims_text(s)));
  }
  c.set(0, s, c.elem_type(0));
  return true;
}

bool flatten(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t r = static_cast<int64_t>(x->size());
  int64_t a = c.attr_int("axis", 1);
  if (a < -r || a > r) fail(fmt::format("axis {} is out of range for rank {}", a, r));
  if (a < 0) a += r;
  c.set(0, {to_dim(product(*x, 0, static_cast<size_t>(a))), to_dim(product(*x, static_cast<size_t>(a)))},
        c.elem_type(0));
  return true;
}

/// Squeeze/Unsqueeze: axes as attribute (before 13) or input 1.
bool squeeze(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t r = static_cast<int64_t>(x->size());
  Dims axes;
  if (!attr_or_input_ints(c, "axes", 1, axes)) return false;
  std::vector<bool> drop(x->size(), false);
  if (axes.empty()) {
    for (size_t i = 0; i < x->size(); ++i) drop[i] = (*x)[i] == 1;
  } else {
    for (int64_t a : axes) {
      const auto k = static_cast<size_t>(axis_of(a, r));
      if ((*x)[k] != 1) fail(fmt::format("cannot squeeze axis {} of {}", a, dims_text(*x)));
      drop[k] = true;
    }
  }
  Dims out;
  for (size_t i = 0; i < x->size(); ++i)
    if (!drop[i]) out.push_back((*x)[i]);
  c.set(0, out, c.elem_type(0));
  return true;
}

bool unsqueeze(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  Dims axes;
  if (!c.attr("axes") && !c.has_input(1)) return false;  // Unsqueeze always names its axes
  if (!attr_or_input_ints(c, "axes", 1, axes)) return false;
  const int64_t r = static_cast<int64_t>(x->size() + axes.size());
  std::vector<bool> ins(static_cast<size_t>(r), false);
  for (int64_t a : axes) {
    const auto k = static_cast<size_t>(axis_of(a, r));
    if (ins[k]) fail("repeated axis");
    ins[k] = true;
  }
  Dims out;
  size_t j = 0;
  for (size_t i = 0; i < ins.size(); ++i) out.push_back(ins[i] ? 1 : (*x)[j++]);
  c.set(0, out, c.elem_type(0));
  return true;
}

bool shape_op(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  const int64_t r = static_cast<int64_t>(x->size());
  int64_t s = c.attr_int("start", 0), e = c.attr_int("end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = std::clamp<int64_t>(s, 0, r);
  e = std::clamp<int64_t>(e, s, r);
  c.set(0, {e - s}, kInt64);
  return true;
}

bool size_op(ShapeContext& c) {
  if (!c.shape(0)) return false;
  c.set(0, {}, kInt64);
  return true;
}

bool constant(ShapeContext& c) {
  for (const auto& a : c.node.attribute()) {
    const std::string& n = a.name();
    if (n == "value" && a.has_t()) { c.set(0, Dims(a.t().dims().begin(), a.t().dims().end()), a.t().data_type()); return true; }
    if (n == "sparse_value") { c.set(0, Dims(a.sparse_tensor().dims().begin(), a.sparse_tensor().dims().end()), a.sparse_tensor().values().data_type()); return true; }
    if (n == "value_float") { c.set(0, {}, kFloat); return true; }
    if (n == "value_int") { c.set(0, {}, kInt64); return true; }
    if (n == "value_string") { c.set(0, {}, DT::TensorProto_DataType_STRING); return true; }
    if (n == "value_floats") { c.set(0, {a.floats_size()}, kFloat); return true; }
    if (n == "value_ints") { c.set(0, {a.ints_size()}, kInt64); return true; }
    if (n == "value_strings") { c.set(0, {a.strings_size()}, DT::TensorProto_DataType_STRING); return true; }
  }
  fail("Constant without a value attribute");
}

bool constant_of_shape(ShapeContext& c) {
  const auto* s = c.ints(0);
  if (!s) return false;
  int32_t t = kFloat;
  if (const auto* a = c.attr("value"); a && a->has_t()) t = a->t().data_type();
  for (int64_t d : *s) if (d < 0) fail("negative dim");
  c.set(0, *s, t);
  return true;
}

bool range(ShapeContext& c) {
  std::array<double, 3> v{};
  for (size_t i = 0; i < 3; ++i) {
    const ConstValue* cv = c.values.size() > i ? c.values[i] : nullptr;
    if (!cv || cv->size() != 1) { c.why = "start/limit/delta are computed at run time"; return false; }
    v[i] = cv->is_float ? cv->f[0] : static_cast<double>(cv->i[0]);
  }
  if (v[2] == 0) fail("delta 0");
  const double n = std::max(0.0, std::ceil((v[1] - v[0]) / v[2]));
  c.set(0, {to_dim(n)}, c.elem_type(0));
  return true;
}

bool eye_like(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  c.set(0, *x, c.attr("dtype") ? static_cast<int32_t>(c.attr_int("dtype", kFloat)) : c.elem_type(0));
  return true;
}

bool cast_like(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  c.set(0, *x, c.elem_type(1));
  return true;
}

bool cast(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  c.set(0, *x, static_cast<int32_t>(c.attr_int("to", kFloat)));
  return true;
}

/// QuantizeLinear: dtype of the zero point, else output_dtype (21), else uint8; shape of x.
/// Blocked quantisation (21) only changes the scale's shape.
bool quantize(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  int32_t t = kUint8;
  if (c.has_input(2)) t = c.elem_type(2);
  else if (c.attr("output_dtype")) t = static_cast<int32_t>(c.attr_int("output_dtype", kUint8));
  c.set(0, *x, t);
  return true;
}

/// DequantizeLinear: output_dtype (23), else the scale's dtype; shape of x.
bool dequantize(ShapeContext& c) {
  const Dims* x = c.shape(0);
  if (!x) return false;
  int32_t t = c.attr("output_dtype") && c.attr_int("output_dtype", 0) ? static_cast<int32_t>(c.attr_int("output_dtype", 0))
                                                                       : c.elem_type(1);
  if (!t) t = kFloat;
  c.set(0, *x, t);
  return true;
}

/// Attention (23): Q/K/V 4-D (B, heads, S, head) or 3-D (B, S, heads*head with q_num_heads /
/// kv_num_heads); outputs Y, present_key, present_value, qk_matmul_output.
bool attention(ShapeContext& c) {
  const Dims* q = c.shape(0);
  const Dims* k = c.shape(1);
  const Dims* v = c.shape(2);
  if (!q || !k || !v) return false;
  if (q->size() != k->size() || q->size() != v->size() || (q->size() != 3 && q->size() != 4))
    fail("Q, K and V must all be 3-D or all 4-D");
  int64_t b = (*q)[0], hq, hkv, sq, skv, dq, dv;
  if (q->size() == 4) {
    hq = (*q)[1]; sq = (*q)[2]; dq = (*q)[3];
    hkv = (*k)[1]; skv = (*k)[2];
    dv = (*v)[3];
    if ((*k)[3] != dq) fail("Q and K head sizes differ");
  } else {
    hq = c.attr_int("q_num_heads", 0);
    hkv = c.attr_int("kv_num_heads", 0);
    if (hq <= 0 || hkv <= 0) fail("3-D Attention needs q_num_heads and kv_num_heads");
    sq = (*q)[1]; skv = (*k)[1];
    if ((*q)[2] % hq || (*k)[2] % hkv || (*v)[2] % hkv) fail("hidden sizes are not multiples of the head counts");
    dq = (*q)[2] / hq;
    dv = (*v)[2] / hkv;
  }
  if (hkv <= 0 || hq % hkv) fail("q heads are not a multiple of kv heads");
  int64_t past = 0;
  if (c.has_input(4)) {
    const Dims* pk = c.shape(4);
    if (!pk) return false;
    if (pk->size() != 4) fail("past_key must be 4-D");
    past = (*pk)[2];
  }
  const int64_t total = add(past, skv);
  const int32_t t = c.elem_type(0);
  if (q->size() == 4) c.set(0, {b, hq, sq, dv}, t);
  else c.set(0, {b, sq, hq * dv}, t);
  if (c.node.output_size() > 1) c.set(1, {b, hkv, total, dq}, c.elem_type(1));
  if (c.node.output_size() > 2) c.set(2, {b, hkv, total, dv}, c.elem_type(2));
  if (c.node.output_size() > 3) c.set(3, {b, hq, sq, total}, t);
  return true;
}

/// com.microsoft MatMulNBits: A (..., K) x packed B (N, K) -> (..., N).
bool matmul_nbits(ShapeContext& c) {
  const Dims* a = c.shape(0);
  if (!a) return false;
  const int64_t k = c.attr_int("K", 0), n = c.attr_int("N", 0);
  if (a->empty() || k <= 0 || n <= 0) fail("MatMulNBits needs K, N and a non-scalar A");
  if (a->back() != k) fail(fmt::format("A {} does not end in K={}", dims_text(*a), k));
  Dims out(a->begin(), a->end() - 1);
  out.push_back(n);
  c.set(0, out, c.elem_type(0));
  return true;
}

bool data_dependent(ShapeContext& c) {
  c.why = "its output shape depends on tensor values";
  return false;
}

std::map<std::string, ShapeRule> build_rules() {
  std::map<std::string, ShapeRule> t;
  t["Conv"] = conv(0, 1);
  t["ConvInteger"] = conv(0, 1, -1, kInt32);
  t["QLinearConv"] = conv(0, 3, 7);
  t["ConvTranspose"] = conv_transpose;
  t["Gemm"] = gemm;
  t["MatMul"] = matmul(0, 1);
  t["MatMulInteger"] = matmul(0, 1, kInt32);
  t["QLinearMatMul"] = matmul(0, 3, 0, 7);
  t["MatMulNBits"] = matmul_nbits;
  for (const char* p : {"MaxPool", "AveragePool", "LpPool"}) t[p] = pool;
  for (const char* p : {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}) t[p] = global_pool;
  for (const char* r : {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                        "ReduceLogSumExp", "ReduceSumSquare", "ReduceL2", "ReduceLogSum"})
    t[r] = reduce();
  t["ArgMax"] = arg_reduce;
  t["ArgMin"] = arg_reduce;
  t["BatchNormalization"] = batch_norm;
  t["LayerNormalization"] = layer_norm;
  for (const char* n : {"InstanceNormalization", "GroupNormalization", "RMSNormalization", "LRN", "Softmax",
                        "LogSoftmax", "RotaryEmbedding", "LpNormalization", "Hardmax"})
    t[n] = same_as_input;
  // Unary elementwise ops keep their input's shape and dtype.
  for (const char* e : {"Relu", "Neg", "Abs", "Sign", "Ceil", "Floor", "Round", "Reciprocal", "Sqrt", "Exp", "Log",
                        "Clip", "LeakyRelu", "ThresholdedRelu", "Selu", "Elu", "Celu", "HardSigmoid", "HardSwish",
                        "Sigmoid", "Tanh", "Erf", "Softplus", "Softsign", "Mish", "Gelu", "Sin", "Cos", "Identity",
                        "Trilu", "ReverseSequence", "ScatterND", "ScatterElements", "Scatter"})
    t[e] = same_as_input;
  for (const char* e : {"Not", "IsNaN", "IsInf"}) t[e] = same_with_type(kBool);
  for (const char* e : {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Mod", "Pow", "PRelu", "BitShift"})
    t[e] = broadcasting();
  for (const char* e : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}) t[e] = broadcasting(kBool);
  for (const char* e : {"And", "Or", "Xor"}) t[e] = broadcasting(kBool);
  t["Where"] = broadcasting(0, 1);
  t["Cast"] = cast;
  t["CastLike"] = cast_like;
  t["Dropout"] = dropout;
  t["QuantizeLinear"] = quantize;
  t["DequantizeLinear"] = dequantize;
  t["Attention"] = attention;
  t["Concat"] = concat;
  t["Split"] = split;
  t["Slice"] = slice;
  t["Transpose"] = transpose;
  t["Pad"] = pad;
  t["Tile"] = tile;
  t["Expand"] = expand;
  t["Gather"] = gather;
  t["GatherElements"] = gather_elements;
  t["GatherND"] = gather_nd;
  t["DepthToSpace"] = depth_to_space;
  t["SpaceToDepth"] = space_to_depth;
  t["OneHot"] = one_hot;
  t["TopK"] = topk;
  t["NonZero"] = data_dependent;
  t["Compress"] = data_dependent;
  t["Resize"] = resize;
  t["Upsample"] = resize;
  t["Col2Im"] = col2im;
  t["Reshape"] = reshape;
  t["Flatten"] = flatten;
  t["Squeeze"] = squeeze;
  t["Unsqueeze"] = unsqueeze;
  t["Shape"] = shape_op;
  t["Size"] = size_op;
  t["Constant"] = constant;
  t["ConstantOfShape"] = constant_of_shape;
  t["Range"] = range;
  t["EyeLike"] = eye_like;
  return t;
}

}  // namespace

// ---- ShapeContext ---------------------------------------------------------------------------

const onnx::AttributeProto* ShapeContext::attr(const std::string& name) const {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t ShapeContext::attr_int(const std::string& name, int64_t dflt) const {
  const auto* a = attr(name);
  return a && a->has_i() ? a->i() : dflt;
}
std::vector<int64_t> ShapeContext::attr_ints(const std::string& name) const {
  const auto* a = attr(name);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}
std::string ShapeContext::attr_string(const std::string& name, const std::string& dflt) const {
  const auto* a = attr(name);
  return a && a->has_s() ? a->s() : dflt;
}
bool ShapeContext::has_input(size_t i) const { return i < inputs.size() && inputs[i]; }
const std::vector<int64_t>* ShapeContext::shape(size_t i) {
  if (!has_input(i)) {
    why = fmt::format("input {} is missing", i);
    return nullptr;
  }
  if (!inputs[i]->shape_known) {
    why = fmt::format("input {} has no known shape", i);
    return nullptr;
  }
  return &inputs[i]->dims;
}
int32_t ShapeContext::elem_type(size_t i) const { return has_input(i) ? inputs[i]->elem_type : 0; }
const std::vector<int64_t>* ShapeContext::ints(size_t i) {
  if (i < values.size() && values[i] && !values[i]->is_float) return &values[i]->i;
  why = fmt::format("input {} is computed at run time (its value sets the output shape)", i);
  return nullptr;
}
void ShapeContext::set(size_t k, std::vector<int64_t> dims, int32_t elem_type) {
  if (outputs.size() <= k) outputs.resize(k + 1);
  for (int64_t d : dims)
    if (d < 0) fail(fmt::format("negative output dim in {}", dims_text(dims)));
  outputs[k].dims = std::move(dims);
  outputs[k].elem_type = elem_type;
  outputs[k].shape_known = true;
}

// ---- values ---------------------------------------------------------------------------------

bool const_value(const onnx::TensorProto& t, ConstValue& out, size_t max_elems) {
  if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) return false;
  double n = 1;
  for (auto d : t.dims()) {
    if (d < 0) return false;
    n *= static_cast<double>(d);
  }
  if (n > static_cast<double>(max_elems)) return false;
  out = ConstValue{};
  out.dims.assign(t.dims().begin(), t.dims().end());
  const std::string& r = t.raw_data();
  auto raw = [&](auto tag, auto push) {
    using V = decltype(tag);
    for (size_t i = 0; i + sizeof(V) <= r.size(); i += sizeof(V)) {
      V x;
      std::memcpy(&x, r.data() + i, sizeof(V));
      push(x);
    }
  };
  auto pi = [&](auto x) { out.i.push_back(static_cast<int64_t>(x)); };
  auto pf = [&](auto x) { out.f.push_back(static_cast<double>(x)); };
  switch (t.data_type()) {
    case kInt64:
      if (!r.empty()) raw(int64_t{}, pi); else out.i.assign(t.int64_data().begin(), t.int64_data().end());
      break;
    case kInt32:
      if (!r.empty()) raw(int32_t{}, pi); else out.i.assign(t.int32_data().begin(), t.int32_data().end());
      break;
    case kFloat:
      out.is_float = true;
      if (!r.empty()) raw(float{}, pf); else for (float f : t.float_data()) out.f.push_back(f);
      break;
    case DT::TensorProto_DataType_DOUBLE:
      out.is_float = true;
      if (!r.empty()) raw(double{}, pf); else out.f.assign(t.double_data().begin(), t.double_data().end());
      break;
    default:
      return false;
  }
  return static_cast<double>(out.size()) == n;
}

bool eval_node(const onnx::NodeProto& n, int64_t opset, const std::unordered_map<std::string, ConstValue>& vals,
               const std::unordered_map<std::string, TensorInfo>& info, ConstValue& out) {
  (void)opset;
  const std::string& t = n.op_type();
  out = ConstValue{};
  auto in = [&](int i) -> const ConstValue* {
    if (i >= n.input_size() || n.input(i).empty()) return nullptr;
    auto it = vals.find(n.input(i));
    return it == vals.end() ? nullptr : &it->second;
  };
  auto attr = [&](const char* name) -> const onnx::AttributeProto* {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  };
  auto attr_i = [&](const char* name, int64_t d) {
    const auto* a = attr(name);
    return a ? a->i() : d;
  };
  if (t == "Constant") {
    for (const auto& a : n.attribute()) {
      if (a.name() == "value" && a.has_t()) return const_value(a.t(), out);
      if (a.name() == "value_int") { out.i = {a.i()}; return true; }
      if (a.name() == "value_ints") { out.dims = {a.ints_size()}; out.i.assign(a.ints().begin(), a.ints().end()); return true; }
      if (a.name() == "value_float") { out.is_float = true; out.f = {a.f()}; return true; }
      if (a.name() == "value_floats") { out.is_float = true; out.dims = {a.floats_size()}; for (float f : a.floats()) out.f.push_back(f); return true; }
    }
    return false;
  }
  if (t == "Shape" || t == "Size") {
    auto it = n.input_size() ? info.find(n.input(0)) : info.end();
    if (it == info.end() || !it->second.shape_known) return false;
    const auto& d = it->second.dims;
    if (t == "Size") {
      const double p = product(d);
      if (!(p < 9.0e15)) return false;
      out.i = {static_cast<int64_t>(p)};
      return true;
    }
    const auto r = static_cast<int64_t>(d.size());
    int64_t s = attr_i("start", 0), e = attr_i("end", r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = std::clamp<int64_t>(s, 0, r);
    e = std::clamp<int64_t>(e, s, r);
    out.i.assign(d.begin() + s, d.begin() + e);
    out.dims = {e - s};
    return true;
  }
  if (t == "ConstantOfShape") {
    const ConstValue* s = in(0);
    if (!s || s->is_float) return false;
    double cnt = 1;
    for (auto d : s->i) { if (d < 0) return false; cnt *= static_cast<double>(d); }
    if (cnt > 4096) return false;
    out.dims = s->i;
    ConstValue v;
    v.i = {0};
    if (const auto* a = attr("value"); a && a->has_t() && !const_value(a->t(), v)) return false;
    if (v.size() != 1) return false;
    out.is_float = v.is_float;
    if (v.is_float) out.f.assign(static_cast<size_t>(cnt), v.f[0]);
    else out.i.assign(static_cast<size_t>(cnt), v.i[0]);
    return true;
  }
  if (t == "Range") {
    const ConstValue *a = in(0), *b = in(1), *d = in(2);
    if (!a || !b || !d || a->is_float || b->is_float || d->is_float || a->i.size() != 1 || b->i.size() != 1 ||
        d->i.size() != 1 || d->i[0] == 0)
      return false;
    const int64_t st = a->i[0], lim = b->i[0], dl = d->i[0];
    const double span = std::ceil((static_cast<double>(lim) - static_cast<double>(st)) / static_cast<double>(dl));
    if (!(span < 4096)) return false;
    const int64_t cnt = std::max<int64_t>(0, static_cast<int64_t>(span));
    if (cnt > 4096) return false;
    for (int64_t k = 0; k < cnt; ++k) out.i.push_back(st + k * dl);
    out.dims = {cnt};
    return true;
  }
  const ConstValue* a = in(0);
  if (!a || a->is_float) return false;  // only integer arithmetic is evaluated
  if (t == "Identity") { out = *a; return true; }
  if (t == "Cast") {
    const auto to = attr_i("to", 0);
    if (to != kInt64 && to != kInt32) return false;
    out = *a;
    return true;
  }
  if (t == "Gather") {
    const ConstValue* idx = in(1);
    if (!idx || idx->is_float || a->dims.size() != 1 || attr_i("axis", 0) != 0) return false;
    out.dims = idx->dims;
    for (int64_t i : idx->i) {
      if (i < 0) i += a->dims[0];
      if (i < 0 || i >= a->dims[0]) return false;
      out.i.push_back(a->i[static_cast<size_t>(i)]);
    }
    return true;
  }
  if (t == "Unsqueeze" || t == "Squeeze") {
    std::vector<int64_t> axes;
    if (const auto* ax = attr("axes")) axes.assign(ax->ints().begin(), ax->ints().end());
    else if (in(1) && !in(1)->is_float) axes = in(1)->i;
    out.i = a->i;
    const auto r = static_cast<int64_t>(a->dims.size() + (t == "Unsqueeze" ? axes.size() : 0));
    for (auto& x : axes) {
      if (x < -r || x >= r) return false;
      if (x < 0) x += r;
    }
    std::sort(axes.begin(), axes.end());
    if (t == "Unsqueeze") {
      out.dims = a->dims;
      for (int64_t x : axes) {
        if (x > static_cast<int64_t>(out.dims.size())) return false;
        out.dims.insert(out.dims.begin() + x, 1);
      }
    } else {
      for (size_t i = 0; i < a->dims.size(); ++i) {
        const bool drop = axes.empty() ? a->dims[i] == 1 : std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i));
        if (!drop) out.dims.push_back(a->dims[i]);
      }
    }
    return true;
  }
  if (t == "Reshape") {
    const ConstValue* s = in(1);
    if (!s || s->is_float) return false;
    // Only the common flatten-to-1-D/scalar cases of shape arithmetic.
    if (s->i.size() == 1 && (s->i[0] == -1 || s->i[0] == static_cast<int64_t>(a->i.size()))) {
      out.i = a->i;
      out.dims = {static_cast<int64_t>(a->i.size())};
      return true;
    }
    return false;
  }
  if (t == "Concat") {
    int64_t len = 0;
    for (int i = 0; i < n.input_size(); ++i) {
      const ConstValue* x = in(i);
      if (!x || x->is_float || x->dims.size() != 1) return false;
      out.i.insert(out.i.end(), x->i.begin(), x->i.end());
      len += x->dims[0];
    }
    out.dims = {len};
    return true;
  }
  static const char* binary[] = {"Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Equal", "Less", "Greater"};
  if (std::find_if(std::begin(binary), std::end(binary), [&](const char* b) { return t == b; }) != std::end(binary)) {
    const ConstValue* b = in(1);
    if (!b || b->is_float || n.input_size() != 2) return false;
    const size_t na = a->i.size(), nb = b->i.size();
    if (na != nb && na != 1 && nb != 1) return false;
    const size_t m = std::max(na, nb);
    out.dims = a->dims.size() >= b->dims.size() ? a->dims : b->dims;
    if (na != nb) out.dims = na > nb ? a->dims : b->dims;
    for (size_t i = 0; i < m; ++i) {
      const int64_t x = a->i[na == 1 ? 0 : i], y = b->i[nb == 1 ? 0 : i];
      if ((t == "Div" || t == "Mod") && (y == 0 || (y == -1 && x == INT64_MIN))) return false;
      int64_t v;
      using U = uint64_t;  // two's-complement wrap instead of signed-overflow UB
      if (t == "Add") v = static_cast<int64_t>(static_cast<U>(x) + static_cast<U>(y));
      else if (t == "Sub") v = static_cast<int64_t>(static_cast<U>(x) - static_cast<U>(y));
      else if (t == "Mul") v = static_cast<int64_t>(static_cast<U>(x) * static_cast<U>(y));
      else if (t == "Div") v = x / y;
      else if (t == "Mod") v = x % y;
      else if (t == "Max") v = std::max(x, y);
      else if (t == "Min") v = std::min(x, y);
      else if (t == "Equal") v = x == y;
      else if (t == "Less") v = x < y;
      else v = x > y;
      out.i.push_back(v);
    }
    return true;
  }
  if (t == "Where") {
    const ConstValue *x = in(1), *y = in(2);
    if (!x || !y || x->is_float || y->is_float) return false;
    const size_t m = std::max({a->i.size(), x->i.size(), y->i.size()});
    for (const auto* v : {a, x, y})
      if (v->i.size() != m && v->i.size() != 1) return false;
    for (const auto* v : {a, x, y})
      if (v->i.size() == m) { out.dims = v->dims; break; }
    for (size_t i = 0; i < m; ++i) {
      auto at = [&](const ConstValue* v) { return v->i[v->i.size() == 1 ? 0 : i]; };
      out.i.push_back(at(a) ? at(x) : at(y));
    }
    return true;
  }
  if (t == "Slice" && a->dims.size() == 1) {
    const ConstValue *st = in(1), *en = in(2), *ax = in(3), *sp = in(4);
    if (!st || !en || st->is_float || en->is_float || st->i.size() != 1 || en->i.size() != 1) return false;
    if ((ax && (ax->is_float || ax->i.size() != 1 || (ax->i[0] != 0 && ax->i[0] != -1))) ||
        (sp && (sp->is_float || sp->i.size() != 1 || sp->i[0] != 1)))
      return false;
    const int64_t len = a->dims[0];
    int64_t s = st->i[0], e = en->i[0];
    if (s < 0) s += len;
    if (e < 0 && e > INT64_MIN / 2) e += len;
    s = std::clamp<int64_t>(s, 0, len);
    e = std::clamp<int64_t>(e, s, len);
    out.i.assign(a->i.begin() + s, a->i.begin() + e);
    out.dims = {e - s};
    return true;
  }
  return false;
}

// ---- whole graph ----------------------------------------------------------------------------

const std::map<std::string, ShapeRule>& shape_rules() {
  static const std::map<std::string, ShapeRule> rules = build_rules();
  return rules;
}

const ShapeRule* find_shape_rule(const std::string& op_type) {
  const auto& r = shape_rules();
  auto it = r.find(op_type);
  return it == r.end() ? nullptr : &it->second;
}

GraphShapes infer_graph(const onnx::GraphProto& gp, const std::vector<int>& order, const std::vector<std::string>& names,
                        int64_t opset, std::unordered_map<std::string, TensorInfo> info,
                        const std::unordered_map<std::string, TensorInfo>& stored) {
  GraphShapes out;
  for (const auto& t : gp.initializer()) {
    ConstValue v;
    if (const_value(t, v)) out.values.emplace(t.name(), std::move(v));
  }
  static const TensorInfo kAbsent;
  for (int idx : order) {
    const auto& node = gp.node(idx);
    const std::string& type = node.op_type();
    ShapeContext c{node, opset, {}, {}, {}, {}};
    bool inputs_known = true;
    for (const auto& in : node.input()) {
      if (in.empty()) {
        c.inputs.push_back(nullptr);
        c.values.push_back(nullptr);
        continue;
      }
      const TensorInfo* ti = &kAbsent;
      if (auto it = out.info.find(in); it != out.info.end()) ti = &it->second;
      else if (auto jt = info.find(in); jt != info.end()) ti = &jt->second;
      inputs_known &= ti->shape_known;
      c.inputs.push_back(ti);
      auto vt = out.values.find(in);
      c.values.push_back(vt == out.values.end() ? nullptr : &vt->second);
    }
    const ShapeRule* rule = find_shape_rule(type);
    bool ok = false;
    if (rule) {
      try {
        ok = (*rule)(c);
      } catch (const ShapeError& e) {
        throw ShapeError(fmt::format("node '{}' ({}): {}", names[static_cast<size_t>(idx)], type, e.what()));
      } catch (const std::out_of_range& e) {
        throw ShapeError(fmt::format("node '{}' ({}): malformed attribute or input value", names[static_cast<size_t>(idx)], type));
      }
    } else {
      c.why = "diviml has no shape rule for this op type";
    }
    bool used_stored = false;
    for (int k = 0; k < node.output_size(); ++k) {
      const std::string& o = node.output(k);
      if (o.empty()) continue;
      TensorInfo ti;
      const auto st = stored.find(o);
      if (ok && static_cast<size_t>(k) < c.outputs.size() && c.outputs[static_cast<size_t>(k)].shape_known) {
        ti = c.outputs[static_cast<size_t>(k)];
        if (st != stored.end() && st->second.shape_known && st->second.dims != ti.dims)
          out.disagree.push_back(fmt::format("{}: {} vs {}", o, dims_text(ti.dims), dims_text(st->second.dims)));
        if (!ti.elem_type && st != stored.end()) ti.elem_type = st->second.elem_type;
      } else if (st != stored.end() && st->second.shape_known) {
        ti = st->second;
        used_stored = true;
      } else if (st != stored.end()) {
        ti.elem_type = st->second.elem_type;
      }
      out.info[o] = ti;
    }
    bool all_known = true;
    for (const auto& o : node.output())
      if (!o.empty() && !out.info[o].shape_known) all_known = false;
    const std::string who = fmt::format("{} ({})", names[static_cast<size_t>(idx)], type);
    if (!all_known) {
      if (inputs_known || !rule) out.failed.push_back(fmt::format("{}: {}", who, c.why));
      else ++out.unknown_downstream;
    } else if (used_stored) {
      out.from_value_info.push_back(fmt::format("{}: {}", who, c.why));
    }
    if (node.output_size() == 1 && !node.output(0).empty()) {
      ConstValue v;
      if (eval_node(node, opset, out.values, out.info, v)) out.values[node.output(0)] = std::move(v);
    }
  }
  for (auto& [k, v] : out.info) info[k] = v;
  out.info = std::move(info);
  return out;
}

}  // namespace diviml::onnx_shapes
