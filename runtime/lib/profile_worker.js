'use strict';
// Profiling on one device (a worker thread, pinned like a device of `run`): the whole model run
// with ONNX Runtime's profiler; returns per-kernel times and the wall time of each run.
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const { loadOrt, createSession, createRunner, pinThisThread, toOrt } = require('./session');

async function profile() {
  const { device, model, inputs, runs, warmup, pin } = workerData;
  const pinNote = pin ? pinThisThread(pin) : 'not pinned';
  const ort = loadOrt();
  const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'diviml-profile-')), 'ort');
  const feeds = {};
  for (const [k, v] of Object.entries(inputs)) feeds[k] = toOrt(ort, v);
  // Unprofiled runs first: wall times without the profiler's own overhead, run as `run` runs a
  // segment (synchronous session, a minor GC between runs: device_worker.js says why).
  let collect = () => {};
  try {
    require('v8').setFlagsFromString('--expose-gc');
    const gc = require('vm').runInNewContext('gc');
    collect = () => gc({ type: 'minor', execution: 'sync' });
  } catch { /* slower, still correct */ }
  const plain = await createRunner(ort, model, device);
  const names = plain.outputNames;
  const walls = [];
  for (let i = 0; i < warmup + runs; ++i) {
    const t0 = performance.now();
    if (plain.sync) plain.runSync(feeds, names);
    else await plain.run(feeds, names);
    if (i >= warmup) walls.push((performance.now() - t0) / 1e3);
    collect();
  }
  const s = await createSession(ort, model, device, { enableProfiling: true, profileFilePrefix: prefix });
  const marks = [];
  for (let i = 0; i < warmup + runs; ++i) {
    const t0 = performance.now();
    await s.run(feeds);
    marks.push(t0);
  }
  s.endProfiling();
  await s.release();
  const dir = path.dirname(prefix);
  const file = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f))[0];
  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
  // Kernel events per run, in order: a run starts with the model_run event.
  const runsEv = [];
  let cur = null;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') continue;
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    if (!cur || cur.seen.has(e.name)) { cur = { seen: new Set(), list: [] }; runsEv.push(cur); }
    cur.seen.add(e.name);
    cur.list.push({ name: e.name.slice(0, -'_kernel_time'.length), op_type: e.args && e.args.op_name, dur_s: e.dur / 1e6 });
  }
  parentPort.postMessage({ type: 'done', pin: pinNote, walls, runs: runsEv.slice(warmup).map((r) => r.list) });
}

profile().catch((e) => parentPort.postMessage({ type: 'error', kind: e.constructor.name, message: String(e.message || e) }));
