'use strict';
// One device: a worker thread that owns the device's sessions and runs its segments in the
// plan's order. Tensors from other devices (and graph inputs) arrive through the shared-memory
// exchange (exchange.js): the worker blocks on their ready flags, so a segment waits only for
// what it reads, and no other thread sits between two devices. Timestamps of every segment go
// into the exchange's timing table for the main thread to read after the run.
const { parentPort, workerData } = require('worker_threads');
const path = require('path');
const { loadOrt, createRunner, pinThisThread, checkInterface } = require('./session');
const { Exchange, clockMs, TYPED, RUN, ERROR, DONE } = require('./exchange');

const { device, planDir, segments, pin, exchange, spinUs } = workerData;

// ONNX Runtime's binding returns every output in a fresh ArrayBuffer. Left to V8, the garbage
// of many runs piles up before a GC frees it, so each run's outputs land on pages never touched
// before: on the test VM that was ~100 page faults (~1.3 ms) per 400 KB output, charged to the
// segment. A minor GC after each run (outside the timed window) frees them, and the next run
// reuses the same memory.
let collect = () => {};
try {
  require('v8').setFlagsFromString('--expose-gc');
  const gc = require('vm').runInNewContext('gc');
  collect = () => gc({ type: 'minor', execution: 'sync' });
} catch {
  /* no explicit GC: correct, only slower */
}
const x = new Exchange(exchange, spinUs);
let ort;
const steps = [];  // per segment: session, feeds to fill, outputs to keep or publish

async function init() {
  const pinNote = pin ? pinThisThread(pin) : 'not pinned';
  ort = loadOrt();
  for (const s of segments) {
    const file = path.join(planDir, s.model);
    const session = await createRunner(ort, file, device);
    checkInterface(file, session, s.inputs.map((i) => i.tensor), s.outputs.map((o) => o.tensor));
    // Inputs from this device's earlier segments are used as they are; the others are copied
    // from their slot into a buffer preallocated here (ORT cannot read shared memory).
    const remote = s.inputs.filter((i) => i.from_device !== device.name).map((i) => {
      const slot = x.slot(i.tensor);
      const data = new TYPED[slot.dtype](slot.length);
      return { tensor: i.tensor, data, value: new ort.Tensor(slot.dtype, data, slot.shape) };
    });
    const local = s.inputs.filter((i) => i.from_device === device.name).map((i) => i.tensor);
    const publish = s.outputs.filter((o) => o.to_devices.some((d) => d !== device.name) || o.graph_output).map((o) => o.tensor);
    steps.push({ session, remote, local, publish, fetches: s.outputs.map((o) => o.tensor), timeIndex: s.timeIndex });
  }
  parentPort.postMessage({ type: 'ready', pin: pinNote });
}

/// Runs the device's segments for runs 1, 2, ... as the main thread starts them, until stopped.
async function loop() {
  const tensors = new Map();  // this run's outputs kept for later segments of this device
  for (let run = 1; x.waitWord(RUN, run); ++run) {
    tensors.clear();
    for (const st of steps) {
      const t = x.times;
      const k = 5 * st.timeIndex;
      t[k] = clockMs();
      let copyMs = 0;
      const feeds = {};
      for (const r of st.remote) {
        const c = x.receive(r.tensor, run, r.data);
        if (c < 0) return;
        copyMs += c;
        feeds[r.tensor] = r.value;
      }
      for (const name of st.local) feeds[name] = tensors.get(name);
      t[k + 1] = clockMs();
      t[k + 4] = copyMs;
      const out = st.session.sync ? st.session.runSync(feeds, st.fetches) : await st.session.run(feeds, st.fetches);
      t[k + 2] = clockMs();
      for (const name of st.fetches) tensors.set(name, out[name]);
      for (const name of st.publish) x.publish(name, out[name].data, run);
      t[k + 3] = clockMs();
    }
    collect();  // after the last timestamp of the run (the wall time is read from those)
    Atomics.add(x.ctl, DONE, 1);
    Atomics.notify(x.ctl, DONE);
  }
}

function fail(e) {
  Atomics.store(x.ctl, ERROR, 1);
  x.wakeAll();
  parentPort.postMessage({ type: 'error', kind: e.constructor.name, message: String(e.message || e) });
}

parentPort.on('message', (m) => {
  if (m.type === 'init') init().catch(fail);
  else if (m.type === 'start') loop().catch(fail);
});
