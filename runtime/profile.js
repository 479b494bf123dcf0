#!/usr/bin/env node
'use strict';
// diviml's profiler: runs a model (a plan directory's whole.onnx) with ONNX Runtime's profiler on
// each named device, one after the other, and measures hand-over times between device workers.
// Writes raw per-kernel medians as JSON; `diviml profile` maps them to diviml's ops and writes the
// profile CSV (docs/deploy.md).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Worker } = require('worker_threads');
const { performance } = require('perf_hooks');
const { PlanError, loadPlan } = require('./lib/plan');
const { prepareWeights, makeInputs, stats } = require('./lib/data');
const S = require('./lib/session');

const USAGE = 'usage: profile.js PLAN_DIR --device NAME=PROVIDER[:threads]... --out FILE [--runs N] [--warmup N] [--random-weights SEED] [--no-pin]';

function parseArgs(argv) {
  const a = { runs: 10, warmup: 2, pin: true, devices: [], seed: 1 };
  const rest = [];
  const int = (f, v) => {
    if (v === undefined || !Number.isInteger(Number(v))) throw new PlanError(`${f} needs an integer`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; ++i) {
    const f = argv[i];
    if (f === '--device') a.devices.push(S.parseDeviceSpec(argv[++i] || ''));
    else if (f === '--runs') a.runs = Math.max(1, int(f, argv[++i]));
    else if (f === '--warmup') a.warmup = Math.max(0, int(f, argv[++i]));
    else if (f === '--random-weights') a.randomWeights = int(f, argv[++i]);
    else if (f === '--out') a.out = argv[++i];
    else if (f === '--no-pin') a.pin = false;
    else if (f.startsWith('-')) throw new PlanError(`unknown option '${f}'\n${USAGE}`);
    else rest.push(f);
  }
  if (rest.length !== 1 || !a.out || a.devices.length === 0) throw new PlanError(USAGE);
  a.planDir = rest[0];
  return a;
}

function inWorker(file, workerData, onMessage) {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'lib', file), { workerData });
    w.on('error', reject);
    w.on('message', (m) => {
      if (m.type === 'error') reject(Object.assign(new Error(m.message), { kind: m.kind }));
      else onMessage(m, w, resolve);
    });
  });
}

/// One-way hand-over time of a tensor from one device worker to another (through the main
/// thread, as `run` does it): half the round trip to an echo worker.
async function measureTransfers(pin) {
  const sizes = [4096, 65536, 524288, 2097152, 8388608];
  const samples = [];
  const w = new Worker(path.join(__dirname, 'lib', 'transfer_worker.js'), { workerData: { pin } });
  const echo = (m) => new Promise((resolve) => { w.once('message', resolve); w.postMessage(m); });
  for (const bytes of sizes) {
    const data = new Float32Array(bytes / 4).fill(1);
    const times = [];
    for (let i = 0; i < 25; ++i) {
      const t0 = performance.now();
      await echo({ data });
      times.push((performance.now() - t0) / 2e3);
    }
    // The fastest of 20: a worker descheduled by other processes is noise, not the copy's cost.
    samples.push({ bytes, seconds: stats(times.slice(5)).min, median_s: stats(times.slice(5)).median });
  }
  await w.terminate();
  // Least squares t = latency + bytes / bandwidth.
  const n = samples.length;
  const mx = samples.reduce((s, x) => s + x.bytes, 0) / n;
  const my = samples.reduce((s, x) => s + x.seconds, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const x of samples) { sxy += (x.bytes - mx) * (x.seconds - my); sxx += (x.bytes - mx) ** 2; }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { samples, latency_s: Math.max(0, my - slope * mx), bandwidth: slope > 0 ? 1 / slope : null };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = S.loadOrt();
  const plan = loadPlan(args.planDir);
  const planDir = path.resolve(args.planDir);
  for (const d of args.devices) S.checkProvider(ort, d.provider);
  const weights = prepareWeights(plan, planDir, args.randomWeights);
  const inputs = makeInputs(plan, args.seed, undefined);
  const ncpu = os.cpus().length;
  let core = 0;
  const out = { model: plan.source_model, runs: args.runs, warmup: args.warmup, weights, devices: [], load_average_before: os.loadavg() };
  for (const d of args.devices) {
    let pin = null;
    if (args.pin && d.provider === 'cpu' && core + d.threads <= ncpu) { pin = Array.from({ length: d.threads }, (_, k) => core + k); core += d.threads; }
    process.stderr.write(`profiling ${d.name} (${d.provider}:${d.threads}) ...\n`);
    const r = await inWorker('profile_worker.js', { device: d, model: path.join(planDir, plan.whole_model), inputs, runs: args.runs, warmup: args.warmup, pin },
      (m, w, resolve) => { if (m.type === 'done') { w.terminate(); resolve(m); } });
    // Median per kernel over the runs; the first run's order is the timeline.
    const byName = new Map();
    r.runs.forEach((list) => list.forEach((k, i) => {
      if (!byName.has(k.name)) byName.set(k.name, { name: k.name, op_type: k.op_type, order: i, durs: [] });
      byName.get(k.name).durs.push(k.dur_s);
    }));
    const kernels = [...byName.values()].sort((a, b) => a.order - b.order).map((k) => ({ name: k.name, op_type: k.op_type, seconds: stats(k.durs).median }));
    const kernelSums = r.runs.map((list) => list.reduce((s, k) => s + k.dur_s, 0));
    out.devices.push({ name: d.name, provider: d.provider, threads: d.threads, affinity: r.pin, wall_s: stats(r.walls).median,
      kernel_sum_s: stats(kernelSums).median, kernels });
  }
  if (args.devices.length >= 2) {
    process.stderr.write('measuring hand-over times between device workers ...\n');
    out.transfers = await measureTransfers(args.pin && ncpu >= 2 ? [1] : null);
  }
  out.load_average_after = os.loadavg();
  fs.writeFileSync(args.out, JSON.stringify(out, null, 1));
  return 0;
}

const CODES = { PlanError: 2, ProviderError: 2, RuntimeMissing: 3, ModelRefused: 4 };
main().then((c) => { process.exitCode = c; }, (e) => {
  console.error(`diviml profile: error: ${String(e.message).split('\n').join('\n  ')}`);
  process.exitCode = CODES[e.kind || e.constructor.name] || 5;
});
