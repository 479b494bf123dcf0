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

const USAGE = 'usage: profile.js PLAN_DIR --device NAME=PROVIDER[:threads]... --out FILE [--runs N] [--warmup N] [--random-weights SEED] [--no-pin] [--chain PLAN_DIR]';

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
    else if (f === '--chain') a.chain = argv[++i];
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

/// Hand-over time of a tensor between two device workers, the way `run` hands it over (the
/// producer copies it into shared memory and wakes the consumer, which copies it out): per size,
/// the median of 20 (after 5 unmeasured), so that a descheduled worker moves it little; the fit
/// `latency + bytes / bandwidth` is made by `diviml profile` (monotone, non-negative).
async function measureTransfers(pins) {
  const sizes = [4096, 65536, 524288, 2097152, 8388608];
  const w = (role, pin) => new Worker(path.join(__dirname, 'lib', 'transfer_worker.js'), { workerData: { role, pin, sizes, shared } });
  const { makeExchange } = require('./lib/exchange');
  const shared = makeExchange(sizes.map((b) => ({ tensor: `t${b}`, dtype: 'float32', shape: [b / 4] })).concat(
    sizes.map((b) => ({ tensor: `ack${b}`, dtype: 'float32', shape: [1] }))), 1);
  const a = w('producer', pins[0]);
  const b = w('consumer', pins[1]);
  const result = await new Promise((resolve, reject) => {
    for (const x of [a, b]) x.on('error', reject);
    b.on('message', (m) => { if (m.type === 'done') resolve(m.samples); });
  });
  await Promise.all([a.terminate(), b.terminate()]);
  return { samples: result, method: 'shared memory + Atomics (as run.js)' };
}

/// The cost of cutting the model where devices alternate: the chain plan (written by `diviml
/// profile`, every segment on the other device than the one before) against the whole model on
/// one device, both run like `run` runs plans. Each cut is on the critical path, so
/// (chain - whole) / cuts is what one cut costs: the hand-over, and ONNX Runtime's per-segment
/// dispatch on both sides (futex wake-up, one more session.run, layouts converted at the edges).
async function measureCuts(chainDir, devs, runs, warmup, randomWeights) {
  const { PlanExecutor, wholeModelPlan } = require('./lib/executor');
  const plan = loadPlan(chainDir);
  const dir = path.resolve(chainDir);
  prepareWeights(plan, dir, randomWeights);
  const inputs = makeInputs(plan, 1, undefined);
  const timeIt = async (p, ds) => {
    const ex = await PlanExecutor.start(p, ds, dir);
    const walls = [];
    try {
      for (let i = 0; i < warmup + runs; ++i) {
        const r = await ex.runOnce(inputs);
        if (i >= warmup) walls.push(r.wall);
      }
    } finally {
      await ex.stop();
    }
    return stats(walls).median;
  };
  const names = [...new Set(plan.segments.map((s) => s.device))];
  const ds = names.map((n, i) => ({ ...devs[i % devs.length], name: n }));
  const whole = await timeIt(wholeModelPlan(plan, ds[0].name), [ds[0]]);
  const chain = await timeIt(plan, ds);
  const cuts = (plan.transfers || []).length;
  const bytes = (plan.transfers || []).reduce((x, t) => x + t.bytes, 0);
  return { segments: plan.segments.length, cuts, bytes_per_cut: cuts ? bytes / cuts : 0, whole_s: whole, chain_s: chain,
    per_cut_s: cuts ? (chain - whole) / cuts : 0 };
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
  const cores = S.assignCores(args.devices, ncpu, args.pin);
  const out = { model: plan.source_model, runs: args.runs, warmup: args.warmup, weights, devices: [], load_average_before: os.loadavg() };
  for (const [i, d] of args.devices.entries()) {
    const pin = cores[i];
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
    out.transfers = await measureTransfers([cores[0], cores[1]]);
    if (args.chain) {
      process.stderr.write('measuring the cost of a cut (segments alternating between devices) ...\n');
      const pinned = args.devices.slice(0, 2).map((d, i) => ({ ...d, pin: cores[i] }));
      out.cuts = await measureCuts(args.chain, pinned, args.runs, args.warmup, args.randomWeights);
    }
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
