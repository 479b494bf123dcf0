'use strict';
// The shared-memory hand-over (lib/exchange.js) between real worker threads, and the core
// assignment of CPU devices (lib/session.js). Fast: no model, no ONNX Runtime session.
const test = require('node:test');
const assert = require('node:assert');
const { Worker } = require('worker_threads');
const { makeExchange, Exchange, STOP } = require('../lib/exchange');
const { assignCores } = require('../lib/session');

test('a tensor published by one worker arrives intact in another, run after run', async () => {
  const shape = [3, 1000];
  const shared = makeExchange([{ tensor: 'x', dtype: 'float32', shape }, { tensor: 'y', dtype: 'float32', shape }], 1);
  // The worker doubles x into y for runs 1..3.
  const src = `
    const { workerData } = require('worker_threads');
    const { Exchange } = require(${JSON.stringify(require.resolve('../lib/exchange'))});
    const x = new Exchange(workerData);
    const buf = new Float32Array(3000);
    for (let run = 1; run <= 3; ++run) {
      if (x.receive('x', run, buf) < 0) break;
      for (let i = 0; i < buf.length; ++i) buf[i] *= 2;
      x.publish('y', buf, run);
    }`;
  const w = new Worker(src, { eval: true, workerData: shared });
  const x = new Exchange(shared);
  const got = new Float32Array(3000);
  for (let run = 1; run <= 3; ++run) {
    const v = Float32Array.from({ length: 3000 }, (_, i) => i * run);
    x.publish('x', v, run);
    assert.ok(x.receive('y', run, got) >= 0);
    assert.deepStrictEqual(got, v.map((a) => 2 * a));
  }
  await new Promise((r) => w.on('exit', r));
});

test('a reader blocked on a tensor returns when the run is stopped', () => {
  const shared = makeExchange([{ tensor: 'x', dtype: 'int64', shape: [4] }], 1);
  const x = new Exchange(shared);
  Atomics.store(x.ctl, STOP, 1);
  assert.strictEqual(x.receive('x', 1, new BigInt64Array(4)), -1);
  assert.throws(() => x.publish('x', new BigInt64Array(5), 1), /5 elements produced, the plan says 4/);
  assert.throws(() => makeExchange([{ tensor: 's', dtype: 'string', shape: [1] }], 1), /type string/);
});

test('CPU devices named cpuK get core K, others the lowest free cores', () => {
  const d = (name, threads = 1, provider = 'cpu') => ({ name, threads, provider });
  assert.deepStrictEqual(assignCores([d('cpu1')], 2, true), [[1]]);
  assert.deepStrictEqual(assignCores([d('cpu1'), d('cpu0')], 2, true), [[1], [0]]);
  assert.deepStrictEqual(assignCores([d('cpu0'), d('cpu1'), d('cpu2')], 2, true), [[0], [1], null]);
  assert.deepStrictEqual(assignCores([d('big', 2), d('cpu0')], 4, true), [[1, 2], [0]]);
  assert.deepStrictEqual(assignCores([d('gpu', 1, 'cuda'), d('cpu0')], 2, true), [null, [0]]);
  assert.deepStrictEqual(assignCores([d('cpu0')], 2, false), [null]);
});
