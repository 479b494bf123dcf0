'use strict';
// The runner end to end on real models: diviml schedules and partitions them, run.js executes
// the segments with ONNX Runtime and compares them with the whole model. Run by ctest
// (runtime.node_tests) with DIVIML_BINARY and DIVIML_TEST_DATA set; `node --test runtime/test`.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.join(__dirname, '..', '..');
const DIVIML = process.env.DIVIML_BINARY || path.join(ROOT, 'build', 'diviml');
const DATA = process.env.DIVIML_TEST_DATA || path.join(ROOT, 'tests', 'data');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'diviml-runtime-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

function ok(cmd, args) {
  const r = sh(cmd, args);
  assert.strictEqual(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/// schedule -> partition; returns the plan directory.
function makePlan(model, platform, method, extra = []) {
  const dir = path.join(tmp, `${model}-${platform}-${method}`.replace(/[^A-Za-z0-9.-]/g, '_'));
  const sched = `${dir}.schedule.json`;
  ok(DIVIML, ['schedule', path.join(DATA, `${model}.onnx`), '--platform', platform, '--method', method, '-q',
    '--time-limit', '2', '--bound-milp-time', '0', '-o', sched, ...extra]);
  ok(DIVIML, ['partition', path.join(DATA, `${model}.onnx`), '--schedule', sched, '-o', dir]);
  return dir;
}

function runJson(dir, extra = []) {
  const r = sh(DIVIML, ['run', dir, '--random-weights', '3', '--runs', '1', '--warmup', '0', '--json', ...extra]);
  let j = null;
  try { j = JSON.parse(r.stdout); } catch { /* reported below */ }
  return { r, j };
}

const cases = [
  ['resnet18', 'local-cpu:2', 'heft'],
  ['googlenet', 'local-cpu:2', 'anneal'],
  ['squeezenet1_0', 'local-cpu:2', 'split'],
  ['inception_v3', 'local-cpu:3', 'random'],
  ['transformer_encoder6', 'local-cpu:3', 'random'],
  ['mobilenet_v2', 'paper-node', 'heft'],
];

for (const [model, platform, method] of cases) {
  test(`${model}: ${method} plan on ${platform} gives the whole model's outputs`, () => {
    const dir = makePlan(model, platform, method);
    const plan = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8'));
    const { r, j } = runJson(dir);
    assert.ok(j, `no JSON from diviml run: ${r.stdout}\n${r.stderr}`);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(j.outputs_match, true);
    assert.ok(j.max_rel_diff <= 1e-4, `max rel diff ${j.max_rel_diff}`);
    assert.ok(Number.isFinite(j.max_abs_diff));
    for (const o of j.outputs) assert.ok(o.scale > 0, `output ${o.tensor} is all zeros: the check would be void`);
    assert.strictEqual(j.runs, 1);
    assert.ok(j.measured_latency_s > 0);
    assert.strictEqual(j.predicted_latency_s, plan.predicted_latency_s);
    assert.strictEqual(j.segments.length, plan.segments.length);
    for (const s of j.segments) {
      assert.ok(s.measured_s > 0, s.name);
      // Where the time went: every part measured, and inside the run.
      for (const k of ['wait_s', 'copy_in_s', 'publish_s', 'measured_start_s']) assert.ok(s[k] >= 0, `${s.name} ${k} ${s[k]}`);
      assert.ok(s.measured_end_s <= j.measured_latency_s * (1 + 1e-9) + 1e-9, `${s.name} ends after the run`);
    }
    if (method === 'random') assert.ok(plan.segments.length > 2 * new Set(plan.segments.map((s) => s.device)).size, 'random placement should go back and forth');
  });
}

test('--trace writes every run\'s per-segment timings', () => {
  const dir = makePlan('resnet18', 'local-cpu:2', 'heft');
  const trace = path.join(tmp, 'trace.json');
  const { r, j } = runJson(dir, ['--trace', trace]);
  assert.strictEqual(r.status, 0, r.stderr);
  const t = JSON.parse(fs.readFileSync(trace, 'utf8'));
  assert.strictEqual(t.runs.length, 1);
  assert.strictEqual(t.whole.length, 1);
  for (const run of t.runs) {
    assert.deepStrictEqual(Object.keys(run.segments).sort(), j.segments.map((s) => s.name).sort());
    for (const s of Object.values(run.segments)) assert.ok(s.run_ms > 0 && s.start_ms >= 0 && s.end_ms <= 1e3 * run.wall + 1e-6);
  }
});

test('random weights are the same for every segment and the whole model (seeded, finite)', () => {
  const { randomWeightValues } = require('../lib/data');
  const w = { name: 'conv.weight', dtype: 'float32', dims: [64, 3, 7, 7] };
  const a = randomWeightValues(w, 5);
  const b = randomWeightValues(w, 5);
  const c = randomWeightValues(w, 6);
  assert.deepStrictEqual(a, b);
  assert.notDeepStrictEqual(a, c);
  const bound = Math.sqrt(6 / (3 * 7 * 7));
  assert.ok(a.every((x) => Number.isFinite(x) && Math.abs(x) <= bound));
});

test('errors: one clear message and a non-zero exit each', async (t) => {
  const dir = makePlan('squeezenet1_0', 'local-cpu:2', 'heft');
  const errOf = (args, code) => {
    const r = sh(DIVIML, ['run', ...args]);
    assert.strictEqual(r.status, code, `${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.strictEqual(lines.length, 1, r.stderr);
    return lines[0];
  };
  await t.test('no plan directory', () => {
    assert.match(errOf([path.join(tmp, 'nope'), '--random-weights', '1'], 2), /no such plan directory/);
  });
  await t.test('weights absent without --random-weights', () => {
    assert.match(errOf([dir], 2), /external weights are absent.*--random-weights/);
  });
  await t.test('a segment file missing', () => {
    const copy = `${dir}-missing`;
    fs.cpSync(dir, copy, { recursive: true });
    const plan = JSON.parse(fs.readFileSync(path.join(copy, 'plan.json'), 'utf8'));
    fs.rmSync(path.join(copy, plan.segments[0].model));
    assert.match(errOf([copy, '--random-weights', '1'], 2), /missing/);
  });
  await t.test('a plan whose segments are out of order', () => {
    const copy = `${dir}-order`;
    fs.cpSync(dir, copy, { recursive: true });
    const plan = JSON.parse(fs.readFileSync(path.join(copy, 'plan.json'), 'utf8'));
    plan.segments.reverse();
    fs.writeFileSync(path.join(copy, 'plan.json'), JSON.stringify(plan));
    assert.match(errOf([copy, '--random-weights', '1'], 2), /no earlier segment produces/);
  });
  await t.test('segment files that do not match the plan', () => {
    const copy = `${dir}-swapped`;
    fs.cpSync(dir, copy, { recursive: true });
    const plan = JSON.parse(fs.readFileSync(path.join(copy, 'plan.json'), 'utf8'));
    const [a, b] = [plan.segments[0], plan.segments[plan.segments.length - 1]];
    [a.model, b.model] = [b.model, a.model];
    fs.writeFileSync(path.join(copy, 'plan.json'), JSON.stringify(plan));
    assert.match(errOf([copy, '--random-weights', '1'], 2), /does not match the plan/);
  });
  await t.test('unknown execution provider', () => {
    assert.match(errOf([dir, '--random-weights', '1', '--device', 'cpu0=warpdrive'], 2), /unknown execution provider 'warpdrive'/);
  });
  await t.test('device not in the plan', () => {
    assert.match(errOf([dir, '--random-weights', '1', '--device', 'gpu7=cpu'], 2), /no device 'gpu7'/);
  });
  await t.test('a model the runtime refuses', () => {
    const copy = `${dir}-corrupt`;
    fs.cpSync(dir, copy, { recursive: true });
    const plan = JSON.parse(fs.readFileSync(path.join(copy, 'plan.json'), 'utf8'));
    fs.writeFileSync(path.join(copy, plan.segments[plan.segments.length - 1].model), 'this is not an ONNX model');
    assert.match(errOf([copy, '--random-weights', '1', '--runs', '1', '--warmup', '0'], 4), /ONNX Runtime refused the model/);
  });
  await t.test('outputs that differ fail with exit 1', () => {
    // The whole model swapped for another with the same inputs and outputs (squeezenet reads a
    // prefix of resnet18's weight file): it runs, and its outputs differ.
    const rdir = makePlan('resnet18', 'local-cpu:2', 'heft');
    const copy = `${rdir}-differ`;
    fs.cpSync(rdir, copy, { recursive: true });
    fs.copyFileSync(path.join(DATA, 'squeezenet1_0.onnx'), path.join(copy, 'whole.onnx'));
    assert.match(errOf([copy, '--random-weights', '1', '--runs', '1', '--warmup', '0'], 1), /outputs differ from the whole model/);
  });
});

test('profile: a CSV that schedule --profile reads, and a calibrated platform', () => {
  const model = path.join(DATA, 'squeezenet1_0.onnx');
  const csv = path.join(tmp, 'sq.profile.csv');
  const cal = path.join(tmp, 'sq.calibrated.json');
  const r = ok(DIVIML, ['profile', model, '--device', 'cpu0=cpu:1', '--device', 'cpu1=cpu:1', '--random-weights', '2',
    '--runs', '2', '--warmup', '0', '-o', csv, '--calibrate', cal]);
  assert.match(r.stdout, /before:.* all \d+%\/\d+%/);
  assert.match(r.stdout, /after :.* all \d+%\/\d+%/);
  const rows = fs.readFileSync(csv, 'utf8').trim().split('\n');
  assert.strictEqual(rows[0], 'op_name,device,seconds');
  const byDev = { cpu0: 0, cpu1: 0 };
  for (const row of rows.slice(1)) {
    const [, dev, s] = row.split(',');
    assert.ok(Number(s) >= 0);
    byDev[dev] += Number(s);
  }
  assert.ok(byDev.cpu0 > 0 && byDev.cpu1 > 0);
  assert.strictEqual((rows.length - 1) % 2, 0);
  const p = JSON.parse(fs.readFileSync(cal, 'utf8'));
  assert.deepStrictEqual(p.devices.map((d) => d.name), ['cpu0', 'cpu1']);
  const s = ok(DIVIML, ['schedule', model, '--platform', cal, '--profile', csv, '--method', 'heft', '-q', '--bound-milp-time', '0']);
  assert.match(s.stdout, /latency/);
});

test('profile --batch-sizes: times per batch size that schedule --batch reads', () => {
  const model = path.join(DATA, 'squeezenet1_0.onnx');
  const csv = path.join(tmp, 'sq.sizes.csv');
  ok(DIVIML, ['profile', model, '--device', 'cpu0=cpu:1', '--random-weights', '2', '--runs', '2', '--warmup', '0',
    '--batch-sizes', '3,1', '-o', csv]);
  const rows = fs.readFileSync(csv, 'utf8').trim().split('\n');
  assert.strictEqual(rows[0], 'op_name,device,batch,seconds');
  const sum = { 1: 0, 3: 0 };
  let n = 0;
  for (const row of rows.slice(1)) {
    const [, dev, b, s] = row.split(',');
    assert.strictEqual(dev, 'cpu0');
    sum[b] += Number(s);
    ++n;
  }
  assert.strictEqual(n % 2, 0);
  // Three samples are three times the work on one core: measured, not scaled by the model.
  assert.ok(sum[3] > 1.5 * sum[1], `batch 3 ${sum[3]} s against batch 1 ${sum[1]} s`);
  // schedule --batch 3 on one device runs every op at its measured batch-3 time.
  const out = path.join(tmp, 'sq.b3.json');
  ok(DIVIML, ['schedule', model, '--platform', 'local-cpu:1', '--profile', csv, '--batch', '3', '--method', 'heft',
    '-q', '--no-bound', '-o', out]);
  const latency = JSON.parse(fs.readFileSync(out, 'utf8')).makespan_s;
  assert.ok(Math.abs(latency - sum[3]) <= 1e-6 * sum[3], `latency ${latency} s against the batch-3 rows' ${sum[3]} s`);
  const bad = sh(DIVIML, ['profile', model, '--device', 'cpu0=cpu:1', '--batch-sizes', '0', '-o', csv]);
  assert.notStrictEqual(bad.status, 0);
  assert.match(bad.stderr, /--batch-sizes/);
});

test('local-cpu:N: a platform preset; a bad N is one clear error', () => {
  const r = ok(DIVIML, ['schedule', path.join(DATA, 'resnet18.onnx'), '--platform', 'local-cpu:2', '-q', '--bound-milp-time', '0']);
  assert.match(r.stdout, /cpu0/);
  assert.match(r.stdout, /cpu1/);
  const bad = sh(DIVIML, ['schedule', path.join(DATA, 'resnet18.onnx'), '--platform', 'local-cpu:0', '-q']);
  assert.notStrictEqual(bad.status, 0);
  assert.match(bad.stderr, /local-cpu:0: N must be in 1\.\.256/);
  const nan = sh(DIVIML, ['schedule', path.join(DATA, 'resnet18.onnx'), '--platform', 'local-cpu:x', '-q']);
  assert.match(nan.stderr, /N must be an integer/);
});
