#!/usr/bin/env node
'use strict';
// diviml's runner: executes a partition plan with ONNX Runtime (one worker thread per device,
// segments in plan order, tensors handed between devices as they are produced), checks the
// outputs against the whole model run on one device, and measures latency against the
// simulator's prediction. Usually started by `diviml run PLAN_DIR ...`; see docs/deploy.md.
const path = require('path');
const os = require('os');
const { Worker } = require('worker_threads');
const { performance } = require('perf_hooks');
const { PlanError, loadPlan, planDevices } = require('./lib/plan');
const { prepareWeights, makeInputs, compareTensor, stats } = require('./lib/data');
const S = require('./lib/session');

const USAGE = `usage: run.js PLAN_DIR [--random-weights SEED] [--runs N] [--warmup N] [--json] [--tolerance REL]
              [--inputs FILE] [--seed N] [--device NAME=PROVIDER[:threads]]... [--no-pin]`;

function parseArgs(argv) {
  const a = { runs: 10, warmup: 2, tolerance: 1e-4, seed: 1, json: false, pin: true, devices: [], randomWeights: undefined };
  const rest = [];
  const num = (flag, v, int) => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || (int && !Number.isInteger(x))) throw new PlanError(`${flag} needs a${int ? 'n integer' : ' number'} (got ${v === undefined ? 'nothing' : `'${v}'`})`);
    return x;
  };
  for (let i = 0; i < argv.length; ++i) {
    const f = argv[i];
    if (f === '--json') a.json = true;
    else if (f === '--no-pin') a.pin = false;
    else if (f === '--runs') { a.runs = num(f, argv[++i], true); if (a.runs < 1) throw new PlanError('--runs must be >= 1'); }
    else if (f === '--warmup') { a.warmup = num(f, argv[++i], true); if (a.warmup < 0) throw new PlanError('--warmup must be >= 0'); }
    else if (f === '--tolerance') { a.tolerance = num(f, argv[++i], false); if (!(a.tolerance >= 0)) throw new PlanError('--tolerance must be >= 0'); }
    else if (f === '--random-weights') a.randomWeights = num(f, argv[++i], true);
    else if (f === '--seed') a.seed = num(f, argv[++i], true);
    else if (f === '--inputs') { a.inputs = argv[++i]; if (!a.inputs) throw new PlanError('--inputs needs a file'); }
    else if (f === '--device') { if (!argv[i + 1]) throw new PlanError('--device needs NAME=PROVIDER[:threads]'); a.devices.push(S.parseDeviceSpec(argv[++i])); }
    else if (f === '-h' || f === '--help') { a.help = true; }
    else if (f.startsWith('-')) throw new PlanError(`unknown option '${f}'\n${USAGE}`);
    else rest.push(f);
  }
  if (a.help) return a;
  if (rest.length !== 1) throw new PlanError(`expected one PLAN_DIR\n${USAGE}`);
  a.planDir = rest[0];
  return a;
}

/// Device settings: --device entries by name, else the CPU provider with one thread. CPU devices
/// are pinned to distinct cores (threads cores each) while the machine has enough of them.
function deviceSettings(plan, args, ort) {
  const names = planDevices(plan);
  for (const d of args.devices)
    if (!names.includes(d.name)) throw new PlanError(`--device ${d.name}: the plan has no device '${d.name}' (it has ${names.join(', ')})`);
  const ncpu = os.cpus().length;
  let nextCore = 0;
  return names.map((n) => {
    const d = args.devices.find((x) => x.name === n) || { name: n, provider: 'cpu', threads: 1 };
    S.checkProvider(ort, d.provider);
    let pin = null;
    if (args.pin && d.provider === 'cpu' && nextCore + d.threads <= ncpu) {
      pin = Array.from({ length: d.threads }, (_, k) => nextCore + k);
      nextCore += d.threads;
    }
    return { ...d, pin };
  });
}

function startWorker(dev, plan, planDir) {
  const segments = plan.segments.filter((s) => s.device === dev.name);
  const w = new Worker(path.join(__dirname, 'lib', 'device_worker.js'), {
    workerData: { device: { provider: dev.provider, threads: dev.threads, name: dev.name }, planDir, segments, pin: dev.pin },
  });
  return { dev, segments, w };
}

/// Runs the plan once: returns wall-clock seconds, graph outputs and per-segment seconds.
function runPlanOnce(workers, plan, inputs, run) {
  return new Promise((resolve, reject) => {
    const byName = new Map(workers.map((x) => [x.dev.name, x]));
    const outputs = {};
    const times = {};
    let done = 0;
    const t0 = performance.now();
    const onMsg = (x) => (m) => {
      if (m.run !== run && m.type !== 'error') return;
      if (m.type === 'error') { cleanup(); reject(Object.assign(new Error(m.message), { kind: m.kind })); return; }
      if (m.type === 'tensor') {
        for (const to of m.to) byName.get(to).w.postMessage({ type: 'tensor', run, tensor: m.tensor, value: m.value });
        if (m.graph_output) outputs[m.tensor] = m.value;
      } else if (m.type === 'done') {
        m.times.forEach((t, i) => { times[x.segments[i].name] = t; });
        if (++done === workers.length) {
          const wall = (performance.now() - t0) / 1e3;
          cleanup();
          resolve({ wall, outputs, times });
        }
      }
    };
    const handlers = workers.map((x) => { const h = onMsg(x); x.w.on('message', h); return h; });
    // A worker that dies (out of memory, a crash in native code) ends the run with its reason.
    const died = (e) => { cleanup(); reject(e instanceof Error ? e : new Error(`a device worker exited (code ${e})`)); };
    workers.forEach((x) => { x.w.on('error', died); x.w.on('exit', died); });
    const cleanup = () => workers.forEach((x, i) => { x.w.off('message', handlers[i]); x.w.off('error', died); x.w.off('exit', died); });
    for (const x of workers) {
      const mine = {};
      for (const t of plan.graph_inputs) if ((t.to || []).includes(x.dev.name)) mine[t.tensor] = inputs[t.tensor];
      x.w.postMessage({ type: 'run', run, inputs: mine });
    }
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) { console.log(USAGE); return 0; }
  const ort = S.loadOrt();
  const plan = loadPlan(args.planDir);
  const planDir = path.resolve(args.planDir);
  const devs = deviceSettings(plan, args, ort);
  const weights = prepareWeights(plan, planDir, args.randomWeights);
  const inputs = makeInputs(plan, args.seed, args.inputs);

  // Reference: the unpartitioned model, whole, on the first device's provider and threads.
  const refDev = { ...devs[0], name: 'whole' };
  const whole = await S.createSession(ort, path.join(planDir, plan.whole_model), refDev);
  S.checkInterface(path.join(planDir, plan.whole_model), whole, plan.graph_inputs.map((t) => t.tensor), plan.graph_outputs.map((t) => t.tensor));
  const feeds = {};
  for (const [k, v] of Object.entries(inputs)) feeds[k] = S.toOrt(ort, v);
  const wholeTimes = [];
  let reference;
  for (let i = 0; i < args.warmup + args.runs; ++i) {
    const t0 = performance.now();
    const out = await whole.run(feeds);
    const dt = (performance.now() - t0) / 1e3;
    if (i >= args.warmup) wholeTimes.push(dt);
    reference = out;
  }
  await whole.release();

  const workers = devs.map((d) => startWorker(d, plan, planDir));
  const pins = {};
  {
    // allSettled, not all: terminating a worker while ONNX Runtime is still creating its sessions
    // aborts the process (a native exception in teardown), so every worker finishes its init first.
    const inits = await Promise.allSettled(workers.map((x) => new Promise((resolve, reject) => {
      x.w.once('error', (e) => reject(e));
      const h = (m) => {
        if (m.type === 'ready') { pins[x.dev.name] = m.pin; x.w.off('message', h); resolve(); }
        if (m.type === 'error') { x.w.off('message', h); reject(Object.assign(new Error(m.message), { kind: m.kind })); }
      };
      x.w.on('message', h);
      x.w.postMessage({ type: 'init' });
    })));
    const failed = inits.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((x) => x.w.terminate()));
      throw failed.reason;
    }
  }
  const walls = [];
  const segTimes = Object.fromEntries(plan.segments.map((s) => [s.name, []]));
  let last;
  try {
    for (let i = 0; i < args.warmup + args.runs; ++i) {
      last = await runPlanOnce(workers, plan, inputs, i);
      if (i < args.warmup) continue;
      walls.push(last.wall);
      for (const [k, t] of Object.entries(last.times)) segTimes[k].push(t);
    }
  } finally {
    await Promise.all(workers.map((x) => x.w.terminate()));
  }

  // Compare with the whole model.
  const perOutput = [];
  let maxAbs = 0;
  let maxRel = 0;
  for (const o of plan.graph_outputs) {
    const ref = reference[o.tensor];
    const got = last.outputs[o.tensor];
    const c = got ? compareTensor({ data: ref.data }, got) : { max_abs_diff: Infinity, max_rel_diff: Infinity };
    perOutput.push({ tensor: o.tensor, ...c });
    maxAbs = Math.max(maxAbs, c.max_abs_diff);
    maxRel = Math.max(maxRel, c.max_rel_diff);
  }
  const match = perOutput.every((c) => c.max_rel_diff <= args.tolerance);
  const w = stats(walls);
  const wh = stats(wholeTimes);
  const result = {
    plan: planDir,
    outputs_match: match,
    tolerance: args.tolerance,
    max_abs_diff: maxAbs,
    max_rel_diff: maxRel,
    outputs: perOutput,
    runs: args.runs,
    warmup: args.warmup,
    measured_latency_s: w.median,
    measured_latency_spread_s: { min: w.min, p10: w.p10, p90: w.p90, max: w.max },
    predicted_latency_s: plan.predicted_latency_s,
    predicted_vs_measured: plan.predicted_latency_s ? w.median / plan.predicted_latency_s - 1 : null,
    whole_model_latency_s: wh.median,
    whole_model_latency_spread_s: { min: wh.min, p10: wh.p10, p90: wh.p90, max: wh.max },
    measured_speedup: wh.median / w.median,
    weights,
    devices: devs.map((d) => ({ name: d.name, provider: d.provider, threads: d.threads, affinity: pins[d.name] })),
    segments: plan.segments.map((s) => {
      const st = stats(segTimes[s.name]);
      return { name: s.name, device: s.device, nodes: s.nodes, measured_s: st.median, measured_min_s: st.min, measured_max_s: st.max, predicted_s: s.predicted_busy_s };
    }),
    load_average: os.loadavg(),
  };
  if (args.json) {
    console.log(JSON.stringify(result, null, 1));
  } else {
    printReport(result, plan);
  }
  if (!match) {
    console.error(`diviml run: error: outputs differ from the whole model: max relative difference ${maxRel.toExponential(3)} > tolerance ${args.tolerance}`);
    return 1;
  }
  return 0;
}

function fmtS(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '-';
  if (s < 1e-3) return `${(s * 1e6).toFixed(1)} us`;
  if (s < 1) return `${(s * 1e3).toFixed(3)} ms`;
  return `${s.toFixed(3)} s`;
}

function printReport(r, plan) {
  const L = (s) => console.log(s);
  L(`plan ${r.plan}: ${plan.segments.length} segments on ${r.devices.length} devices (${r.devices.map((d) => `${d.name}=${d.provider}:${d.threads}, ${d.affinity}`).join('; ')})`);
  L(`weights: ${r.weights.map((w) => `${w.file} ${w.source}`).join(', ') || 'inside the model'}`);
  for (const o of r.outputs) L(`output ${o.tensor}: max abs diff ${o.max_abs_diff.toExponential(3)}, max rel diff ${o.max_rel_diff.toExponential(3)}`);
  L(`outputs ${r.outputs_match ? 'match' : 'DIFFER'} (tolerance ${r.tolerance} relative to each output's largest magnitude)`);
  L(`latency over ${r.runs} runs after ${r.warmup} warm-up: median ${fmtS(r.measured_latency_s)} (min ${fmtS(r.measured_latency_spread_s.min)}, p90 ${fmtS(r.measured_latency_spread_s.p90)}, max ${fmtS(r.measured_latency_spread_s.max)})`);
  L(`predicted (simulator): ${fmtS(r.predicted_latency_s)}${r.predicted_vs_measured === null ? '' : ` (measured ${r.predicted_vs_measured >= 0 ? '+' : ''}${(100 * r.predicted_vs_measured).toFixed(1)}%)`}`);
  L(`whole model on one device: median ${fmtS(r.whole_model_latency_s)}; measured speed-up ${r.measured_speedup.toFixed(3)}x`);
  L('segment  device           nodes  measured    predicted');
  for (const s of r.segments) L(`${s.name.padEnd(8)} ${s.device.padEnd(16)} ${String(s.nodes).padStart(5)}  ${fmtS(s.measured_s).padStart(10)}  ${fmtS(s.predicted_s).padStart(10)}`);
  L(`load average: ${r.load_average.map((x) => x.toFixed(2)).join(' ')}`);
}

const CODES = { PlanError: 2, ProviderError: 2, RuntimeMissing: 3, ModelRefused: 4 };
main().then((code) => { process.exitCode = code; }, (e) => {
  const kind = e.kind || e.constructor.name;
  console.error(`diviml run: error: ${String(e.message).split('\n').join('\n  ')}`);
  process.exitCode = CODES[kind] || 5;
});
