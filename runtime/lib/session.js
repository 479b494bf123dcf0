'use strict';
// ONNX Runtime sessions for one device: the execution provider chosen by name, intra-op threads,
// and CPU affinity of the calling thread (ORT runs a 1-thread session on the caller; the pool
// threads of a larger one are created at session creation and inherit the caller's mask).
const fs = require('fs');
const { spawnSync } = require('child_process');
const path = require('path');
const { PlanError } = require('./plan');

const ORT_PATH = process.env.DIVIML_ORT_PATH || path.join(__dirname, '..', 'node_modules', 'onnxruntime-node');

class RuntimeMissing extends Error {}
class ProviderError extends Error {}
class ModelRefused extends Error {}

function loadOrt() {
  try {
    return require(ORT_PATH);
  } catch (e) {
    throw new RuntimeMissing(`onnxruntime-node is not installed (${ORT_PATH}): run \`npm ci --ignore-scripts\` in ${path.dirname(path.dirname(ORT_PATH))} ` +
      `or scripts/install-deps.sh (${String(e.message).split('\n')[0]})`);
  }
}

/// Checks a provider name against the backends this onnxruntime-node build knows.
function checkProvider(ort, name) {
  const backends = ort.listSupportedBackends ? ort.listSupportedBackends() : [{ name: 'cpu', bundled: true }];
  const b = backends.find((x) => x.name === name);
  if (!b) {
    throw new ProviderError(`unknown execution provider '${name}' (this ONNX Runtime knows: ${backends.map((x) => x.name + (x.bundled ? '' : ' (not bundled)')).join(', ')})`);
  }
  return b;
}

/// Parses NAME=PROVIDER[:threads].
function parseDeviceSpec(spec) {
  const m = /^([^=]+)=([A-Za-z0-9_-]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new ProviderError(`--device '${spec}': expected NAME=PROVIDER[:threads], e.g. cpu0=cpu:1`);
  const threads = m[3] === undefined ? 1 : Number(m[3]);
  if (!(threads >= 1 && threads <= 256)) throw new ProviderError(`--device '${spec}': threads must be in 1..256`);
  return { name: m[1], provider: m[2], threads };
}

/// Pins the calling thread (Linux, via taskset on its thread id) to `cpus`; returns a note.
function pinThisThread(cpus) {
  let tid;
  try {
    tid = fs.readlinkSync('/proc/thread-self').split('/').pop();
  } catch {
    return 'not pinned (no /proc/thread-self)';
  }
  const r = spawnSync('taskset', ['-p', '-c', cpus.join(','), tid], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `not pinned (taskset: ${r.error ? r.error.code : String(r.stderr).trim()})`;
  return `pinned to cpu ${cpus.join(',')}`;
}

/// Cores for CPU devices (null: not pinned). A one-thread device named cpuK (the local-cpu:N
/// preset) gets core K, so that `profile` and `run` put a device on the same core whatever the
/// other devices of the plan are; the rest take the lowest free cores, `threads` each, while
/// there are enough.
function assignCores(devs, ncpu, pin) {
  const taken = new Set();
  const out = devs.map((d) => {
    const m = /^cpu(\d+)$/.exec(d.name);
    if (!pin || d.provider !== 'cpu' || !m || d.threads !== 1 || Number(m[1]) >= ncpu) return undefined;
    taken.add(Number(m[1]));
    return [Number(m[1])];
  });
  return devs.map((d, i) => {
    if (out[i] !== undefined || !pin || d.provider !== 'cpu') return out[i] || null;
    const free = [];
    for (let c = 0; c < ncpu && free.length < d.threads; ++c) if (!taken.has(c)) free.push(c);
    if (free.length < d.threads) return null;
    free.forEach((c) => taken.add(c));
    return free;
  });
}

function sessionOptions(dev, extra = {}) {
  return {
    executionProviders: [dev.provider],
    intraOpNumThreads: dev.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...extra,
  };
}

async function createSession(ort, file, dev, extra) {
  try {
    return await ort.InferenceSession.create(file, sessionOptions(dev, extra));
  } catch (e) {
    const msg = String(e.message || e).split('\n')[0];
    if (dev.provider !== 'cpu' && /provider|EP|backend/i.test(msg))
      throw new ProviderError(`${file}: execution provider '${dev.provider}' is not usable here: ${msg}`);
    throw new ModelRefused(`${file}: ONNX Runtime refused the model: ${msg}`);
  }
}

/// A session whose run is synchronous where this onnxruntime-node allows it: the CPU provider
/// through the package's native binding (the same object the public API wraps). The public
/// `session.run` defers every call to setImmediate and returns a promise; in a device worker that
/// turn of the event loop cost ~1.3 ms per segment on the test VM (page faults of fresh buffers,
/// docs/deploy.md), against ~0.13 ms for the same 1-node segment run synchronously. Falls back to
/// the public API (async) for other providers or when the binding is not where 1.30 keeps it.
async function createRunner(ort, file, dev, extra) {
  const session = await createSession(ort, file, dev, extra);
  let native = null;
  if (dev.provider === 'cpu' && !process.env.DIVIML_ORT_ASYNC) {
    try {
      const b = require(path.join(ORT_PATH, 'dist', 'binding'));
      b.initOrt();
      const n = new b.binding.InferenceSession();
      n.loadModel(file, sessionOptions(dev, extra));
      if (typeof n.run === 'function') native = n;
    } catch {
      native = null;  // the public API below still works
    }
  }
  if (native) {
    await session.release();  // one copy of the weights in memory, not two
    const runSync = (feeds, fetchNames) => {
      const fetches = {};
      for (const f of fetchNames) fetches[f] = null;
      return native.run(feeds, fetches, {});
    };
    return { inputNames: session.inputNames, outputNames: session.outputNames, sync: true, runSync };
  }
  return { inputNames: session.inputNames, outputNames: session.outputNames, sync: false, run: (feeds, fetchNames) => session.run(feeds, fetchNames) };
}

/// The model's inputs must be exactly `inputs`, and its outputs must include `outputs`.
function checkInterface(file, session, inputs, outputs) {
  const have = [...session.inputNames].sort();
  const want = [...inputs].sort();
  const missing = outputs.filter((o) => !session.outputNames.includes(o));
  if (have.join('\0') !== want.join('\0') || missing.length > 0)
    throw new PlanError(`${file} does not match the plan: its inputs are [${have.join(', ')}], the plan expects [${want.join(', ')}]` +
      (missing.length ? `; outputs [${missing.join(', ')}] missing` : ''));
}

function toOrt(ort, t) {
  return new ort.Tensor(t.type, t.data, t.dims);
}

function fromOrt(t) {
  return { type: t.type, dims: Array.from(t.dims), data: t.data };
}

module.exports = {
  loadOrt, checkProvider, checkInterface, parseDeviceSpec, pinThisThread, assignCores, createSession, createRunner, toOrt, fromOrt,
  RuntimeMissing, ProviderError, ModelRefused,
};
