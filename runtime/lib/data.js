'use strict';
// Deterministic data for runs: random weights for models whose external weights are absent,
// random (or file) inputs, and the comparison of outputs.
const fs = require('fs');
const path = require('path');
const { PlanError } = require('./plan');

/// 32-bit FNV-1a of a string: per-tensor seeds that do not depend on the tensor's position.
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; ++i) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/// mulberry32: small, fast, and the same on every platform.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FLOAT_TYPES = { float32: Float32Array, float: Float32Array, float64: Float64Array, double: Float64Array };

/// He-uniform values in [-sqrt(6/fan_in), sqrt(6/fan_in)] (fan_in = elements / first dim) keep
/// activations of deep nets in range (no inf/NaN), and are a function of (seed, name) only.
function randomWeightValues(w, seed) {
  const Ctor = FLOAT_TYPES[w.dtype];
  if (!Ctor) throw new PlanError(`--random-weights: tensor '${w.name}' has type ${w.dtype}; only float tensors can be made up`);
  const n = w.dims.reduce((a, b) => a * b, 1);
  const fanIn = w.dims.length >= 2 ? n / w.dims[0] : Math.max(1, n);
  const bound = Math.sqrt(6 / fanIn);
  const r = rng(fnv1a(w.name) ^ (seed * 0x9e3779b1));
  const v = new Ctor(n);
  for (let i = 0; i < n; ++i) v[i] = (2 * r() - 1) * bound;
  return v;
}

/// Makes sure every external-data file the plan's models read exists in planDir. Real weights
/// (linked by `diviml partition`) are used as they are; absent ones need --random-weights SEED, and
/// are then written here (never through a link), with a stamp so that a rerun reuses them.
function prepareWeights(plan, planDir, seed) {
  const files = (plan.external_data && plan.external_data.files) || [];
  const present = (plan.external_data && plan.external_data.present) || {};
  const report = [];
  for (const f of files) {
    const dst = path.join(planDir, f);
    if (present[f]) {
      if (!fs.existsSync(dst))
        throw new PlanError(`${dst}: weights file missing (it should link to ${path.join(plan.external_data.directory, f)}; re-run \`diviml partition\`)`);
      if (seed !== undefined)
        throw new PlanError(`--random-weights: the model has real weights (${dst}); drop --random-weights to use them`);
      report.push({ file: f, source: 'model' });
      continue;
    }
    if (seed === undefined)
      throw new PlanError(`${dst}: the model's external weights are absent (${path.join(plan.external_data.directory || '.', f)}); ` +
        'give --random-weights SEED to run it with deterministic random weights');
    const stampFile = path.join(planDir, `.${f}.random-weights.json`);
    const stamp = JSON.stringify({ seed, file: f, tensors: plan.weights.length });
    if (fs.existsSync(dst) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
      report.push({ file: f, source: `random (seed ${seed}, reused)` });
      continue;
    }
    const mine = plan.weights.filter((w) => w.location === f);
    const size = mine.reduce((m, w) => Math.max(m, w.offset + w.length), 0);
    const buf = Buffer.alloc(size);
    for (const w of mine) {
      const v = randomWeightValues(w, seed);
      if (v.byteLength !== w.length) throw new PlanError(`plan.json: weight '${w.name}' has length ${w.length}, its shape needs ${v.byteLength} bytes`);
      Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(buf, w.offset);
    }
    try {
      if (fs.existsSync(dst) || fs.lstatSync(dst, { throwIfNoEntry: false })) fs.unlinkSync(dst);
      fs.writeFileSync(dst, buf);
      fs.writeFileSync(stampFile, stamp);
    } catch (e) {
      throw new PlanError(`${dst}: cannot write random weights (${e.message})`);
    }
    report.push({ file: f, source: `random (seed ${seed})` });
  }
  return report;
}

const TYPED = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, bool: Uint8Array,
};
const ORT_TYPE = { float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', int8: 'int8', uint8: 'uint8', int16: 'int16', uint16: 'uint16', bool: 'bool' };

/// Graph inputs: from `inputsFile` (JSON {"name": [flat values]}) or seeded random (floats in
/// [-1, 1), integers in [0, 16), so that index inputs such as token ids stay valid).
function makeInputs(plan, seed, inputsFile) {
  let given = null;
  if (inputsFile) {
    try {
      given = JSON.parse(fs.readFileSync(inputsFile, 'utf8'));
    } catch (e) {
      throw new PlanError(`${inputsFile}: cannot read inputs (${e.message})`);
    }
  }
  const out = {};
  for (const t of plan.graph_inputs) {
    const Ctor = TYPED[t.dtype];
    if (!Ctor) throw new PlanError(`graph input '${t.tensor}' has type ${t.dtype}, which the runner does not support`);
    if (t.shape.some((d) => typeof d !== 'number'))
      throw new PlanError(`graph input '${t.tensor}' has a symbolic shape [${t.shape}]; partition with --input-shape`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const v = new Ctor(n);
    if (given) {
      const src = Array.isArray(given[t.tensor]) ? given[t.tensor] : given[t.tensor] && given[t.tensor].data;
      if (!Array.isArray(src)) throw new PlanError(`${inputsFile}: no values for graph input '${t.tensor}'`);
      if (src.length !== n) throw new PlanError(`${inputsFile}: input '${t.tensor}' needs ${n} values for shape [${t.shape}], got ${src.length}`);
      for (let i = 0; i < n; ++i) v[i] = Ctor === BigInt64Array ? BigInt(src[i]) : src[i];
    } else {
      const r = rng(fnv1a(t.tensor) ^ (seed * 0x85ebca6b));
      const isFloat = Ctor === Float32Array || Ctor === Float64Array;
      for (let i = 0; i < n; ++i) {
        const x = r();
        v[i] = isFloat ? 2 * x - 1 : Ctor === BigInt64Array ? BigInt(Math.floor(16 * x)) : t.dtype === 'bool' ? (x < 0.5 ? 0 : 1) : Math.floor(16 * x);
      }
    }
    out[t.tensor] = { type: ORT_TYPE[t.dtype], dims: t.shape, data: v };
  }
  return out;
}

/// max |a - b| and that divided by max |ref| (relative to the output's scale, so that values
/// near zero do not make the figure meaningless). NaN or inf anywhere: Infinity.
function compareTensor(ref, got) {
  if (ref.data.length !== got.data.length) return { max_abs_diff: Infinity, max_rel_diff: Infinity, scale: NaN };
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < ref.data.length; ++i) {
    const a = Number(ref.data[i]);
    const b = Number(got.data[i]);
    if (!Number.isFinite(a) || !Number.isFinite(b)) return { max_abs_diff: Infinity, max_rel_diff: Infinity, scale: NaN };
    maxAbs = Math.max(maxAbs, Math.abs(a - b));
    scale = Math.max(scale, Math.abs(a));
  }
  return { max_abs_diff: maxAbs, max_rel_diff: scale > 0 ? maxAbs / scale : maxAbs > 0 ? Infinity : 0, scale };
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return { median: q(0.5), min: s[0], max: s[s.length - 1], p10: q(0.1), p90: q(0.9) };
}

module.exports = { fnv1a, rng, randomWeightValues, prepareWeights, makeInputs, compareTensor, stats };
