'use strict';
// One device: a worker thread that owns the device's sessions and runs its segments in the
// plan's order; a segment waits only for the tensors it reads from other devices.
const { parentPort, workerData } = require('worker_threads');
const path = require('path');
const { performance } = require('perf_hooks');
const { loadOrt, createSession, pinThisThread, toOrt, fromOrt, checkInterface } = require('./session');

const { device, planDir, segments, pin } = workerData;
let ort;
const sessions = [];
const inbox = new Map();    // `${run}/${tensor}` -> tensor
const waiting = new Map();  // `${run}/${tensor}` -> resolve

function deliver(run, name, tensor) {
  const key = `${run}/${name}`;
  const w = waiting.get(key);
  if (w) {
    waiting.delete(key);
    w(tensor);
  } else {
    inbox.set(key, tensor);
  }
}

function receive(run, name) {
  const key = `${run}/${name}`;
  if (inbox.has(key)) {
    const t = inbox.get(key);
    inbox.delete(key);
    return Promise.resolve(t);
  }
  return new Promise((resolve) => waiting.set(key, resolve));
}

async function init() {
  const pinNote = pin ? pinThisThread(pin) : 'not pinned';
  ort = loadOrt();
  for (const s of segments) {
    const file = path.join(planDir, s.model);
    const session = await createSession(ort, file, device);
    checkInterface(file, session, s.inputs.map((i) => i.tensor), s.outputs.map((o) => o.tensor));
    sessions.push(session);
  }
  parentPort.postMessage({ type: 'ready', pin: pinNote });
}

async function runOnce(run, graphInputs) {
  const local = new Map();
  for (const [k, v] of Object.entries(graphInputs)) local.set(k, toOrt(ort, v));
  const times = [];
  for (let i = 0; i < segments.length; ++i) {
    const s = segments[i];
    const feeds = {};
    for (const inp of s.inputs) {
      let t = local.get(inp.tensor);
      if (!t) {
        t = toOrt(ort, await receive(run, inp.tensor));
        local.set(inp.tensor, t);
      }
      feeds[inp.tensor] = t;
    }
    const t0 = performance.now();
    const out = await sessions[i].run(feeds);
    times.push((performance.now() - t0) / 1e3);
    for (const o of s.outputs) {
      const t = out[o.tensor];
      local.set(o.tensor, t);
      if (o.to_devices.length > 0 || o.graph_output) {
        parentPort.postMessage({ type: 'tensor', run, tensor: o.tensor, to: o.to_devices, graph_output: o.graph_output, value: fromOrt(t) });
      }
    }
  }
  parentPort.postMessage({ type: 'done', run, times });
}

parentPort.on('message', (m) => {
  const fail = (e) => parentPort.postMessage({ type: 'error', kind: e.constructor.name, message: String(e.message || e) });
  if (m.type === 'init') init().catch(fail);
  else if (m.type === 'tensor') deliver(m.run, m.tensor, m.value);
  else if (m.type === 'run') runOnce(m.run, m.inputs).catch(fail);
});
