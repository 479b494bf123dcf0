// Runs an ONNX model with ONNX Runtime (onnxruntime-node) and prints the shape of every output
// as JSON {name: [dims]}. Usage: node tests/onnx_ort_shapes.js MODEL.onnx INPUTS.json
// INPUTS.json: [{"name", "dtype": "float32"|"int64", "dims"}] (scripts/make_onnx_fixtures.py
// prepare writes it and the model, with every node output exposed as a graph output).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'runtime', 'node_modules', 'onnxruntime-node'));

async function main() {
  const [model, spec] = process.argv.slice(2);
  const inputs = JSON.parse(fs.readFileSync(spec, 'utf8'));
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  const feeds = {};
  for (const i of inputs) {
    const n = i.dims.reduce((a, b) => a * b, 1);
    if (i.dtype === 'int64') {
      feeds[i.name] = new ort.Tensor('int64', new BigInt64Array(n), i.dims);
    } else {
      const data = new Float32Array(n);
      for (let k = 0; k < n; ++k) data[k] = Math.sin(k * 0.37);
      feeds[i.name] = new ort.Tensor('float32', data, i.dims);
    }
  }
  const results = await session.run(feeds);
  const shapes = {};
  for (const name of session.outputNames) shapes[name] = Array.from(results[name].dims, Number);
  process.stdout.write(JSON.stringify(shapes) + '\n');
}

main().catch((e) => {
  process.stderr.write(`onnx_ort_shapes: ${e.message || e}\n`);
  process.exit(1);
});
