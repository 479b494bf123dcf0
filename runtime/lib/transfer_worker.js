'use strict';
// Hand-over timing between two device workers (profile.js): the producer publishes a tensor
// into the shared-memory exchange as `run` does, the consumer waits for it and copies it out;
// the consumer acknowledges so that the next one starts from the same state.
const { parentPort, workerData } = require('worker_threads');
const { pinThisThread } = require('./session');
const { Exchange, clockMs } = require('./exchange');
const { stats } = require('./data');

const { role, pin, sizes, shared } = workerData;
if (pin) pinThisThread(pin);
const x = new Exchange(shared);
const stamp = new Float64Array(shared.times);  // [0]: producer's clock when it started the copy
const idle = new Int32Array(new SharedArrayBuffer(4));
const REPEAT = 25;
const WARM = 5;
let seq = 0;
const samples = [];
for (const bytes of sizes) {
  const src = new Float32Array(bytes / 4).fill(1);
  const dst = new Float32Array(bytes / 4);
  const times = [];
  for (let k = 0; k < REPEAT; ++k) {
    ++seq;
    if (role === 'producer') {
      Atomics.wait(idle, 0, 0, 2);  // the consumer is asleep in its futex, as between segments
      stamp[0] = clockMs();
      x.publish(`t${bytes}`, src, seq);
      x.receive(`ack${bytes}`, seq, new Float32Array(1));
    } else {
      x.receive(`t${bytes}`, seq, dst);
      times.push((clockMs() - stamp[0]) / 1e3);
      x.publish(`ack${bytes}`, new Float32Array(1), seq);
    }
  }
  if (role === 'consumer') {
    const st = stats(times.slice(WARM));
    samples.push({ bytes, seconds: st.median, min_s: st.min, p90_s: st.p90 });
  }
}
if (role === 'consumer') parentPort.postMessage({ type: 'done', samples });
