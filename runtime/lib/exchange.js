'use strict';
// Shared-memory hand-over between device workers (and the main thread): every tensor that
// crosses a device boundary has a preallocated slot in one SharedArrayBuffer and a ready flag
// (the run number that last wrote it). The producer copies its output into the slot and wakes
// the readers with Atomics.notify; a reader blocks in Atomics.wait (a futex), so neither the main
// thread nor an event loop sits between two devices. Why not postMessage: it went through the
// main thread with two structured-clone copies and two event-loop wake-ups per tensor (1-8 ms
// per hand-over on the 2-core test machine, docs/deploy.md).
//
// ONNX Runtime for Node.js refuses SharedArrayBuffer-backed tensors ("Invalid argument"), so a
// reader copies the slot into its own preallocated buffer: one copy on each side.

const { performance } = require('perf_hooks');

const ALIGN = 64;

// Control words (Int32): 0 run number to start, 1 stop, 2 error, 3 devices done in this run,
// then one ready flag per slot.
const RUN = 0;
const STOP = 1;
const ERROR = 2;
const DONE = 3;
const FLAGS = 4;

const TYPED = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, int8: Int8Array,
  uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, bool: Uint8Array, uint32: Uint32Array, uint64: BigUint64Array,
};

/// Monotonic milliseconds, the same clock in every thread of the process (performance.now() of a
/// worker counts from that worker's start).
function clockMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/// Layout for `slots` = [{tensor, dtype, shape}], plus a timing table of `segments` x 5 doubles
/// for the last run: clockMs when the segment started waiting for its inputs, when they were all
/// in (session.run starts), when session.run returned, when its outputs were published, and the
/// milliseconds spent copying inputs out of their slots.
function makeExchange(slots, segments) {
  let off = 0;
  const table = slots.map((s) => {
    const Ctor = TYPED[s.dtype];
    if (!Ctor) throw new Error(`tensor '${s.tensor}' has type ${s.dtype}, which the runner cannot hand over`);
    const n = s.shape.reduce((a, b) => a * b, 1);
    const e = { tensor: s.tensor, dtype: s.dtype, shape: s.shape, offset: off, length: n };
    off += Math.ceil((n * Ctor.BYTES_PER_ELEMENT) / ALIGN) * ALIGN;
    return e;
  });
  return {
    control: new SharedArrayBuffer(4 * (FLAGS + slots.length)),
    data: new SharedArrayBuffer(Math.max(off, ALIGN)),
    times: new SharedArrayBuffer(8 * Math.max(1, 5 * segments)),
    slots: table,
  };
}

/// One thread's view of an exchange (what makeExchange returned, passed through workerData).
class Exchange {
  constructor(x, spinUs = 0) {
    this.ctl = new Int32Array(x.control);
    this.times = new Float64Array(x.times);
    this.spinUs = spinUs;
    this.index = new Map();
    x.slots.forEach((s, i) => {
      const Ctor = TYPED[s.dtype];
      this.index.set(s.tensor, { i, ...s, view: new Ctor(x.data, s.offset, s.length) });
    });
  }

  slot(tensor) {
    const s = this.index.get(tensor);
    if (!s) throw new Error(`no hand-over slot for tensor '${tensor}'`);
    return s;
  }

  /// Copies `data` (a typed array of the slot's length) into the slot and marks it written by `run`.
  publish(tensor, data, run) {
    const s = this.slot(tensor);
    if (data.length !== s.length) throw new Error(`tensor '${tensor}': ${data.length} elements produced, the plan says ${s.length}`);
    s.view.set(data);
    Atomics.store(this.ctl, FLAGS + s.i, run);
    Atomics.notify(this.ctl, FLAGS + s.i);
  }

  /// Blocks until word `i` reaches `value` (>=); false when the run was stopped or failed.
  waitWord(i, value) {
    if (this.spinUs > 0 && Atomics.load(this.ctl, i) < value) {
      // Spin first: waking a thread blocked in a futex took ~0.2 ms on the test VM (the idle
      // vCPU is halted). performance.now(), not clockMs(): a BigInt per check is garbage.
      const end = performance.now() + this.spinUs / 1e3;
      while (Atomics.load(this.ctl, i) < value && performance.now() < end) { /* spin */ }
    }
    for (;;) {
      const v = Atomics.load(this.ctl, i);
      if (v >= value) return true;
      if (Atomics.load(this.ctl, STOP) || Atomics.load(this.ctl, ERROR)) return false;
      Atomics.wait(this.ctl, i, v, 1000);  // the timeout only re-checks STOP/ERROR
    }
  }

  /// Blocks until `tensor` of run `run` is in its slot, copies it into `into` (same length) and
  /// returns the milliseconds the copy took; -1 when the run was stopped or failed.
  receive(tensor, run, into) {
    const s = this.slot(tensor);
    if (!this.waitWord(FLAGS + s.i, run)) return -1;
    const c0 = clockMs();
    into.set(s.view);
    return clockMs() - c0;
  }

  /// Wakes everyone blocked in waitWord (after STOP or ERROR was set).
  wakeAll() {
    for (let i = 0; i < this.ctl.length; ++i) Atomics.notify(this.ctl, i);
  }
}

module.exports = { makeExchange, Exchange, clockMs, TYPED, RUN, STOP, ERROR, DONE, FLAGS };
