#!/usr/bin/env node
'use strict';
// diviml's runner: executes a partition plan with ONNX Runtime (one worker thread per device,
// segments in plan order, tensors handed between devices as they are produced), checks the
// outputs against the whole model run on one device, and measures latency against the
// simulator's prediction. Usually started by `diviml run PLAN_DIR ...`; see docs/deploy.md.
const path = require('path');
const os = require('os');
const fs = require('fs');
const { PlanError, loadPlan, planDevices } = require('./lib/plan');
const { prepareWeights, makeInputs, compareTensor, stats } = require('./lib/data');
const S = require('./lib/session');
const { PlanExecutor, wholeModelPlan } = require('./lib/executor');

const USAGE = `usage: run.js PLAN_DIR [--random-weights SEED] [--runs N] [--warmup N] [--json] [--tolerance REL]
              [--inputs FILE] [--seed N] [--device NAME=PROVIDER[:threads]]... [--no-pin] [--trace FILE] [--spin-us US]`;

function parseArgs(argv) {
  const a = { runs: 10, warmup: 2, tolerance: 1e-4, seed: 1, json: false, pin: true, devices: [], randomWeights: undefined, spinUs: 0 };
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
    else if (f === '--trace') { a.trace = argv[++i]; if (!a.trace) throw new PlanError('--trace needs a file'); }
    else if (f === '--spin-us') { a.spinUs = num(f, argv[++i], false); if (!(a.spinUs >= 0)) throw new PlanError('--spin-us must be >= 0'); }
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
/// are pinned to distinct cores (session.js assignCores: cpuK on core K).
function deviceSettings(plan, args, ort) {
  const names = planDevices(plan);
  for (const d of args.devices)
    if (!names.includes(d.name)) throw new PlanError(`--device ${d.name}: the plan has no device '${d.name}' (it has ${names.join(', ')})`);
  const list = names.map((n) => {
    const d = args.devices.find((x) => x.name === n) || { name: n, provider: 'cpu', threads: 1 };
    S.checkProvider(ort, d.provider);
    return d;
  });
  const pins = S.assignCores(list, os.cpus().length, args.pin);
  return list.map((d, i) => ({ ...d, pin: pins[i] }));
}

/// Warm-up and measured runs of `plan` on `devs`: walls, per-segment timings, last outputs.
async function measure(plan, devs, planDir, inputs, args) {
  const ex = await PlanExecutor.start(plan, devs, planDir, { spinUs: args.spinUs });
  const walls = [];
  const trace = [];
  const segTimes = Object.fromEntries(plan.segments.map((s) => [s.name, []]));
  try {
    for (let i = 0; i < args.warmup + args.runs; ++i) {
      const r = await ex.runOnce(inputs);
      if (i < args.warmup) continue;
      walls.push(r.wall);
      trace.push(r);
      for (const [k, t] of Object.entries(r.segments)) segTimes[k].push(t);
    }
    return { walls, trace, segTimes, outputs: ex.outputs(), pins: ex.pins };
  } finally {
    await ex.stop();
  }
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

  // Reference: the unpartitioned model as a one-segment plan on the first device (same worker,
  // pinning and hand-over as the plan, so the speed-up compares like with like).
  const wholeRun = await measure(wholeModelPlan(plan, devs[0].name), [devs[0]], planDir, inputs, args);
  const reference = wholeRun.outputs;
  const planRun = await measure(plan, devs, planDir, inputs, args);
  const pins = planRun.pins;
  const walls = planRun.walls;
  const wholeTimes = wholeRun.walls;
  const segTimes = planRun.segTimes;
  const last = { outputs: planRun.outputs };
  if (args.trace) fs.writeFileSync(args.trace, JSON.stringify({ plan: planDir, whole: wholeRun.trace, runs: planRun.trace }, null, 1));

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
      const ts = segTimes[s.name];
      const med = (f) => stats(ts.map(f)).median / 1e3;
      const st = stats(ts.map((t) => t.run_ms / 1e3));
      return {
        name: s.name, device: s.device, nodes: s.nodes, measured_s: st.median, measured_min_s: st.min, measured_max_s: st.max,
        predicted_s: s.predicted_busy_s,
        // Where the segment's time went (medians over runs; start/end from the run's start).
        measured_start_s: med((t) => t.start_ms), measured_end_s: med((t) => t.end_ms),
        wait_s: med((t) => t.wait_ms), copy_in_s: med((t) => t.copy_in_ms), publish_s: med((t) => t.publish_ms),
        predicted_start_s: s.predicted_start_s, predicted_finish_s: s.predicted_finish_s,
      };
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
  L('segment  device           nodes    measured   predicted  |  start meas/pred        waited   copy-in   publish');
  for (const s of r.segments)
    L(`${s.name.padEnd(8)} ${s.device.padEnd(16)} ${String(s.nodes).padStart(5)}  ${fmtS(s.measured_s).padStart(10)}  ${fmtS(s.predicted_s).padStart(10)}  | ` +
      `${fmtS(s.measured_start_s).padStart(10)} ${fmtS(s.predicted_start_s).padStart(10)}  ${fmtS(s.wait_s).padStart(10)} ${fmtS(s.copy_in_s).padStart(9)} ${fmtS(s.publish_s).padStart(9)}`);
  L(`load average: ${r.load_average.map((x) => x.toFixed(2)).join(' ')}`);
}

const CODES = { PlanError: 2, ProviderError: 2, RuntimeMissing: 3, ModelRefused: 4 };
main().then((code) => { process.exitCode = code; }, (e) => {
  const kind = e.kind || e.constructor.name;
  console.error(`diviml run: error: ${String(e.message).split('\n').join('\n  ')}`);
  process.exitCode = CODES[kind] || 5;
});
