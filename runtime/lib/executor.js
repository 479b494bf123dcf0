'use strict';
// Runs a plan on its device workers (device_worker.js) through one shared-memory exchange:
// the main thread stages the graph inputs, starts run r with one Atomics word and sleeps until
// every device has finished (Atomics.waitAsync: it uses no CPU meanwhile, so it does not compete
// with the pinned workers). Timing comes from the workers' own clocks, not from the main thread's
// wake-up.
const path = require('path');
const { Worker } = require('worker_threads');
const { makeExchange, Exchange, clockMs, RUN, STOP, ERROR, DONE } = require('./exchange');

/// The hand-over slots of a plan: graph inputs, tensors sent between devices, graph outputs.
function planSlots(plan) {
  const slots = new Map();
  const add = (t) => {
    if (!slots.has(t.tensor)) slots.set(t.tensor, { tensor: t.tensor, dtype: t.dtype, shape: t.shape });
  };
  for (const t of plan.graph_inputs || []) add(t);
  for (const t of plan.transfers || []) add(t);
  for (const t of plan.graph_outputs || []) add(t);
  for (const s of [...slots.values()])
    if (!Array.isArray(s.shape) || s.shape.some((d) => typeof d !== 'number'))
      throw Object.assign(new Error(`tensor '${s.tensor}' has no static shape in plan.json ([${s.shape}]); partition with --input-shape`), { kind: 'PlanError' });
  return [...slots.values()];
}

/// The whole model as a one-segment plan on `device`: the reference runs exactly like a plan.
function wholeModelPlan(plan, device) {
  return {
    ...plan,
    transfers: [],
    segments: [{
      name: 'whole', device, model: plan.whole_model,
      inputs: plan.graph_inputs.map((t) => ({ tensor: t.tensor, from_segment: null, from_device: null })),
      outputs: plan.graph_outputs.map((t) => ({ tensor: t.tensor, to_devices: [], graph_output: true })),
    }],
  };
}

class PlanExecutor {
  /// Starts one worker per device of `devs` ([{name, provider, threads, pin}]) and creates its
  /// sessions; rejects with the first worker's error (after every worker finished its init:
  /// terminating one while ORT creates sessions aborts the process).
  static async start(plan, devs, planDir, { spinUs = 0 } = {}) {
    const ex = new PlanExecutor();
    ex.plan = plan;
    ex.segments = plan.segments.map((s, i) => ({ ...s, timeIndex: i }));
    ex.shared = makeExchange(planSlots(plan), ex.segments.length);
    ex.x = new Exchange(ex.shared);
    ex.run = 0;
    ex.errors = [];
    ex.workers = devs.map((dev) => {
      const segments = ex.segments.filter((s) => s.device === dev.name);
      const w = new Worker(path.join(__dirname, 'device_worker.js'), {
        workerData: { device: { provider: dev.provider, threads: dev.threads, name: dev.name }, planDir, segments, pin: dev.pin, exchange: ex.shared, spinUs },
      });
      return { dev, segments, w };
    });
    ex.pins = {};
    const inits = await Promise.allSettled(ex.workers.map((x) => new Promise((resolve, reject) => {
      x.w.once('error', reject);
      x.w.once('exit', (code) => reject(new Error(`device worker ${x.dev.name} exited (code ${code})`)));
      x.w.on('message', (m) => {
        if (m.type === 'ready') { ex.pins[x.dev.name] = m.pin; resolve(); }
        if (m.type === 'error') {
          const e = Object.assign(new Error(m.message), { kind: m.kind });
          ex.errors.push(e);
          reject(e);
        }
      });
      x.w.postMessage({ type: 'init' });
    })));
    const failed = inits.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(ex.workers.map((x) => x.w.terminate()));
      throw failed.reason;
    }
    for (const x of ex.workers) {
      x.w.removeAllListeners('exit');
      x.w.removeAllListeners('error');
      x.w.on('error', (e) => { ex.errors.push(e); Atomics.store(ex.x.ctl, ERROR, 1); ex.x.wakeAll(); });
      x.w.postMessage({ type: 'start' });
    }
    return ex;
  }

  /// One run with `inputs` ({name: {data}}): resolves to the wall time (seconds, from handing the
  /// inputs over to the last segment's outputs being published) and per-segment timings.
  async runOnce(inputs) {
    const r = ++this.run;
    for (const t of this.plan.graph_inputs) this.x.publish(t.tensor, inputs[t.tensor].data, r);
    const t0 = clockMs();
    Atomics.store(this.x.ctl, RUN, r);
    Atomics.notify(this.x.ctl, RUN);
    const target = r * this.workers.length;
    for (;;) {
      const v = Atomics.load(this.x.ctl, DONE);
      if (v >= target) break;
      if (Atomics.load(this.x.ctl, ERROR)) {
        await new Promise((res) => setTimeout(res, 50));  // let the worker's error message arrive
        throw this.errors[0] || new Error('a device worker failed');
      }
      await Atomics.waitAsync(this.x.ctl, DONE, v, 1000).value;
    }
    const t = this.x.times;
    const segs = {};
    let end = t0;
    this.segments.forEach((s, i) => {
      const k = 5 * i;
      end = Math.max(end, t[k + 3]);
      segs[s.name] = {
        start_ms: t[k] - t0, wait_ms: t[k + 1] - t[k] - t[k + 4], copy_in_ms: t[k + 4],
        run_ms: t[k + 2] - t[k + 1], publish_ms: t[k + 3] - t[k + 2], end_ms: t[k + 3] - t0,
      };
    });
    return { wall: (end - t0) / 1e3, segments: segs };
  }

  /// The graph outputs of the last run (copies).
  outputs() {
    const out = {};
    for (const o of this.plan.graph_outputs) out[o.tensor] = { data: this.x.slot(o.tensor).view.slice() };
    return out;
  }

  async stop() {
    Atomics.store(this.x.ctl, STOP, 1);
    this.x.wakeAll();
    await Promise.all(this.workers.map((x) => x.w.terminate()));
  }
}

module.exports = { PlanExecutor, planSlots, wholeModelPlan };
