#!/usr/bin/python3
"""Writes the opset fixtures of tests/data/opsets/ and records ONNX Runtime's shapes for them.

Run with Debian's python3-onnx 1.12 (/usr/bin/python3); its checker stops at opset 17, so the
fixtures of newer opsets are not checked by it: ONNX Runtime 1.30 loading and running each one
(tests/onnx_ort_shapes.js) is the proof that they are valid.

  scripts/make_onnx_fixtures.py            # write the fixtures and tests/data/opsets/ort_shapes.json
  scripts/make_onnx_fixtures.py prepare IN OUT   # temp copy for ORT (used by the ctest)

Fixtures (shapes only: large weights stay external and absent, like tests/data's models):
  <model>.opset18.onnx  every tests/data model at opset 18: Reduce* axes as an input, Split with
                        num_outputs (equal parts) or a split input, Squeeze/Unsqueeze axes as inputs
  <model>.opset21.onnx  the same at opset 21 (IR 10), Split with a split input, Pad with an axes input
  transformer23.onnx    a transformer block at opset 23: LayerNormalization, RotaryEmbedding,
                        Attention, RMSNormalization, Gelu, a Shape->Gather->Concat->Reshape subgraph
  ops21.onnx            opset 21 forms: GroupNormalization, Resize with axes, Pad with axes, Col2Im,
                        uneven Split(num_outputs), blocked DequantizeLinear, ReduceMean with axes input
  functions18.onnx      model-local functions (with an attribute reference) called from the graph
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
OUT = os.path.join(DATA, "opsets")
MODELS = ["resnet18", "resnet50", "googlenet", "inception_v3", "mobilenet_v2", "vgg16", "squeezenet1_0",
          "transformer_encoder6", "gpt2_small", "randwire_ws"]
REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
          "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}
IR_OF_OPSET = {18: 8, 21: 10, 23: 10}


def const_i64(graph, name, values):
    graph.initializer.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
    return name


def external(name, dims, dtype=TensorProto.FLOAT):
    """An initializer stored as external data in an absent file (dims and dtype only)."""
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "0")):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def re_express(model, opset):
    """Rewrites the op forms that changed since opset 13 to those `opset` requires."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    del m.opset_import[:]
    m.opset_import.append(helper.make_opsetid("", opset))
    m.ir_version = IR_OF_OPSET[opset]
    counter = [0]

    def fresh(base):
        counter[0] += 1
        return f"{base}_{opset}_{counter[0]}"

    shapes = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in list(g.value_info) + list(g.output)}
    for n in g.node:
        attrs = {a.name: a for a in n.attribute}
        if n.op_type in REDUCE and "axes" in attrs:
            axes = list(attrs["axes"].ints)
            n.attribute.remove(attrs["axes"])
            if opset == 18:
                n.input.append(const_i64(g, fresh("axes"), axes))
            else:  # opset 21: the axes come from a Constant node
                name = fresh("axes")
                g.node.append(helper.make_node("Constant", [], [name], name=name + "_node",
                                               value=numpy_helper.from_array(np.array(axes, dtype=np.int64))))
                n.input.append(name)
        elif n.op_type == "Split":
            if len(n.input) > 1 and opset == 18:
                # Equal parts: num_outputs (18) replaces the split sizes.
                sizes = [shapes.get(o, [None])[attrs.get("axis", helper.make_attribute("axis", 0)).i] for o in n.output]
                if len(set(sizes)) == 1 and sizes[0]:
                    del n.input[1:]
                    n.attribute.append(helper.make_attribute("num_outputs", len(n.output)))
            elif len(n.input) == 1 and "split" in attrs:
                n.input.append(const_i64(g, fresh("split"), list(attrs["split"].ints)))
                n.attribute.remove(attrs["split"])
        elif n.op_type == "Pad" and opset == 21 and len(n.input) >= 2 and len(n.input) < 4:
            # Pad only the spatial axes, named by an axes input (18+); pads then cover those axes.
            pads_t = next((t for t in g.initializer if t.name == n.input[1]), None)
            if pads_t is None:
                pads_t = next((c.attribute[0].t for c in g.node if c.op_type == "Constant" and c.output[0] == n.input[1]), None)
            if pads_t is not None:
                pads = numpy_helper.to_array(pads_t).tolist()
                r = len(pads) // 2
                keep = [i for i in range(r) if pads[i] or pads[i + r]]
                new_pads = [pads[i] for i in keep] + [pads[i + r] for i in keep]
                n.input[1] = const_i64(g, fresh("pads"), new_pads)
                while len(n.input) < 3:
                    n.input.append("")
                n.input.append(const_i64(g, fresh("pad_axes"), keep))
    # Constant nodes appended at the end: keep the file topologically sorted.
    consts = [n for n in g.node if n.op_type == "Constant" and n.name.startswith("axes_")]
    others = [n for n in g.node if not (n.op_type == "Constant" and n.name.startswith("axes_"))]
    del g.node[:]
    g.node.extend(consts + others)
    return m


def transformer23():
    """A pre-norm transformer block written with the opset-23 ops (LayerNormalization,
    RotaryEmbedding, Attention, RMSNormalization) plus the shape subgraph real exports emit."""
    B, S, E, H = 1, 16, 64, 4
    D = E // H
    nodes, inits = [], []

    def w(name, dims):
        inits.append(external(name, dims))
        return name

    def small(name, arr):
        inits.append(numpy_helper.from_array(arr, name))
        return name

    nodes.append(helper.make_node("LayerNormalization", ["x", small("ln_w", np.ones(E, np.float32)),
                                                         small("ln_b", np.zeros(E, np.float32))], ["ln"],
                                  name="ln", axis=-1, epsilon=1e-5))
    # Shape -> Gather -> Unsqueeze -> Concat -> Reshape: the head split as exporters write it.
    nodes.append(helper.make_node("Shape", ["ln"], ["ln_shape"], name="shape"))
    nodes.append(helper.make_node("Gather", ["ln_shape", small("i0", np.array(0, np.int64))], ["b"], name="gather_b", axis=0))
    nodes.append(helper.make_node("Gather", ["ln_shape", small("i1", np.array(1, np.int64))], ["s"], name="gather_s", axis=0))
    nodes.append(helper.make_node("Unsqueeze", ["b", small("ax0", np.array([0], np.int64))], ["b1"], name="unsq_b"))
    nodes.append(helper.make_node("Unsqueeze", ["s", "ax0"], ["s1"], name="unsq_s"))
    nodes.append(helper.make_node("Concat", ["b1", "s1", small("hd", np.array([H, D], np.int64))], ["heads_shape"],
                                  name="concat_shape", axis=0))
    pos = small("pos", np.arange(S, dtype=np.int64).reshape(1, S))
    for p in "qkv":
        nodes.append(helper.make_node("MatMul", ["ln", w(f"w{p}", [E, E])], [f"{p}_lin"], name=f"{p}_proj"))
        nodes.append(helper.make_node("Reshape", [f"{p}_lin", "heads_shape"], [f"{p}_bshd"], name=f"{p}_reshape"))
        nodes.append(helper.make_node("Transpose", [f"{p}_bshd"], [f"{p}_bhsd"], name=f"{p}_transpose", perm=[0, 2, 1, 3]))
        if p != "v":
            nodes.append(helper.make_node("RotaryEmbedding", [f"{p}_bhsd", w("cos_cache", [S, D // 2]),
                                                              w("sin_cache", [S, D // 2]), pos], [f"{p}_rot"],
                                          name=f"{p}_rope"))
    nodes.append(helper.make_node("Attention", ["q_rot", "k_rot", "v_bhsd"], ["att"], name="attention", is_causal=1))
    nodes.append(helper.make_node("Transpose", ["att"], ["att_bshd"], name="att_transpose", perm=[0, 2, 1, 3]))
    nodes.append(helper.make_node("Reshape", ["att_bshd", small("bse", np.array([B, S, E], np.int64))], ["att_bse"],
                                  name="att_reshape"))
    nodes.append(helper.make_node("MatMul", ["att_bse", w("wo", [E, E])], ["o"], name="o_proj"))
    nodes.append(helper.make_node("Add", ["x", "o"], ["res1"], name="residual1"))
    nodes.append(helper.make_node("RMSNormalization", ["res1", small("rms_w", np.ones(E, np.float32))], ["rms"],
                                  name="rms", axis=-1))
    nodes.append(helper.make_node("MatMul", ["rms", w("w1", [E, 4 * E])], ["ff1"], name="ff1"))
    nodes.append(helper.make_node("Gelu", ["ff1"], ["gelu"], name="gelu", approximate="tanh"))
    nodes.append(helper.make_node("MatMul", ["gelu", w("w2", [4 * E, E])], ["ff2"], name="ff2"))
    nodes.append(helper.make_node("Add", ["res1", "ff2"], ["y"], name="residual2"))
    g = helper.make_graph(nodes, "transformer23", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [B, S, E])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [B, S, E])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 23)], producer_name="make_onnx_fixtures")
    m.ir_version = IR_OF_OPSET[23]
    return m


def ops21():
    """Opset-21 forms of Col2Im, GroupNormalization, Resize (axes), Pad (axes), Split
    (num_outputs, uneven), blocked DequantizeLinear and ReduceMean (axes input)."""
    nodes, inits = [], []

    def small(name, arr):
        inits.append(numpy_helper.from_array(arr, name))
        return name

    inits.append(external("conv_w", [8, 4, 3, 3]))
    nodes.append(helper.make_node("Conv", ["x", "conv_w"], ["c"], name="conv", pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("GroupNormalization", ["c", small("gn_s", np.ones(8, np.float32)),
                                                         small("gn_b", np.zeros(8, np.float32))], ["gn"],
                                  name="groupnorm", num_groups=2, epsilon=1e-5))
    nodes.append(helper.make_node("Resize", ["gn", "", small("scales", np.array([2.0, 2.0], np.float32))], ["up"],
                                  name="resize", mode="linear", axes=[2, 3]))
    nodes.append(helper.make_node("Pad", ["up", small("pads", np.array([1, 2, 1, 2], np.int64)), "",
                                          small("pad_axes", np.array([2, 3], np.int64))], ["padded"], name="pad"))
    # (1, 8, 34, 36) -> Split H=34 into 3 parts with num_outputs: 12, 12, 10.
    nodes.append(helper.make_node("Split", ["padded"], ["s0", "s1", "s2"], name="split", axis=2, num_outputs=3))
    nodes.append(helper.make_node("ReduceMean", ["s2", small("rm_axes", np.array([1], np.int64))], ["rm"],
                                  name="reducemean", keepdims=1))
    # Col2Im: (1, 1*2*2, L) columns of a 2x2 block over a 6x8 image, L = 5*7.
    nodes.append(helper.make_node("Col2Im", ["cols", small("img", np.array([6, 8], np.int64)),
                                             small("blk", np.array([2, 2], np.int64))], ["im"], name="col2im"))
    # Blocked weight-only quantisation: int8 weights (36, 16) with one scale per 12 rows.
    inits.append(external("q_w", [36, 16], TensorProto.INT8))
    inits.append(external("q_scale", [3, 16]))
    nodes.append(helper.make_node("DequantizeLinear", ["q_w", "q_scale"], ["deq_w"], name="dequant", axis=0, block_size=12))
    nodes.append(helper.make_node("MatMul", ["s0", "deq_w"], ["mm"], name="matmul"))
    nodes.append(helper.make_node("QuantizeLinear", ["mm", small("y_scale", np.array(0.1, np.float32)),
                                                     small("y_zp", np.array(0, np.uint8))], ["mm_q"], name="quant"))
    nodes.append(helper.make_node("DequantizeLinear", ["mm_q", "y_scale", "y_zp"], ["mm_dq"], name="dequant_act"))
    g = helper.make_graph(nodes, "ops21",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 16, 16]),
                           helper.make_tensor_value_info("cols", TensorProto.FLOAT, [1, 4, 35])],
                          [helper.make_tensor_value_info("mm_dq", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("s1", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("rm", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("im", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)], producer_name="make_onnx_fixtures")
    m.ir_version = IR_OF_OPSET[21]
    return m


def functions18():
    """Two blocks of Conv -> local function ScaledRelu(alpha) -> local function Residual."""
    fdom = "local.fn"
    scaled = helper.make_function(
        fdom, "ScaledRelu", ["X"], ["Y"],
        [helper.make_node("Relu", ["X"], ["r"]),
         helper.make_node("LeakyRelu", ["r"], ["Y"], alpha=0.0),
         ], [helper.make_opsetid("", 18)], [])
    # An attribute reference: LeakyRelu's alpha comes from the call.
    alpha = scaled.node[1].attribute[0]
    alpha.Clear()
    alpha.name = "alpha"
    alpha.ref_attr_name = "alpha"
    alpha.type = onnx.AttributeProto.FLOAT
    scaled.attribute.append("alpha")
    residual = helper.make_function(
        fdom, "Residual", ["X", "W"], ["Y"],
        [helper.make_node("Conv", ["X", "W"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("ScaledRelu", ["c"], ["a"], domain=fdom, alpha=0.1),
         helper.make_node("Add", ["X", "a"], ["Y"])], [helper.make_opsetid("", 18), helper.make_opsetid(fdom, 1)], [])
    nodes, inits = [], [external("w0", [16, 3, 3, 3]), external("w1", [16, 16, 3, 3]), external("w2", [16, 16, 3, 3])]
    nodes.append(helper.make_node("Conv", ["x", "w0"], ["c0"], name="stem", pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("ScaledRelu", ["c0"], ["a0"], name="act0", domain=fdom, alpha=0.2))
    nodes.append(helper.make_node("Residual", ["a0", "w1"], ["r1"], name="block1", domain=fdom))
    nodes.append(helper.make_node("Residual", ["r1", "w2"], ["r2"], name="block2", domain=fdom))
    nodes.append(helper.make_node("ReduceMean", ["r2", "rm_axes"], ["y"], name="pool", keepdims=0))
    inits.append(numpy_helper.from_array(np.array([2, 3], np.int64), "rm_axes"))
    g = helper.make_graph(nodes, "functions18", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid(fdom, 1)],
                          producer_name="make_onnx_fixtures", functions=[scaled, residual])
    m.ir_version = IR_OF_OPSET[18]
    return m


# ---- ONNX Runtime preparation: inline random weights, every node output a graph output --------

def prepare(src, dst):
    """Writes a copy of `src` that ONNX Runtime can run: external initializers get random inline
    data, every node output becomes a graph output. Prints the inputs as JSON for the runner."""
    m = onnx.load(src, load_external_data=False)
    rng = np.random.default_rng(0)
    np_of = {TensorProto.FLOAT: np.float32, TensorProto.INT8: np.int8, TensorProto.UINT8: np.uint8,
             TensorProto.INT64: np.int64, TensorProto.INT32: np.int32}
    for t in m.graph.initializer:
        if t.data_location != TensorProto.EXTERNAL:
            continue
        dt = np_of[t.data_type]
        shape = list(t.dims)
        a = (rng.standard_normal(shape) * 0.05).astype(dt) if dt == np.float32 else rng.integers(0, 3, shape).astype(dt)
        t.CopyFrom(numpy_helper.from_array(a, t.name))
    existing = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in existing and n.op_type != "Constant":
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                existing.add(o)
    onnx.save(m, dst)
    inits = {t.name for t in m.graph.initializer}
    inputs = []
    for i in m.graph.input:
        if i.name in inits:
            continue
        tt = i.type.tensor_type
        inputs.append({"name": i.name, "dtype": "int64" if tt.elem_type == TensorProto.INT64 else "float32",
                       "dims": [d.dim_value for d in tt.shape.dim]})
    return inputs


def ort_shapes(path):
    """ONNX Runtime's shape of every node output of the model at `path`."""
    with tempfile.TemporaryDirectory() as tmp:
        dst = os.path.join(tmp, "model.onnx")
        inputs = prepare(path, dst)
        spec = os.path.join(tmp, "inputs.json")
        with open(spec, "w") as f:
            json.dump(inputs, f)
        out = subprocess.run(["node", os.path.join(ROOT, "tests", "onnx_ort_shapes.js"), dst, spec],
                             check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "prepare":
        print(json.dumps(prepare(sys.argv[2], sys.argv[3])))
        return
    os.makedirs(OUT, exist_ok=True)
    written = []
    for stem in MODELS:
        src = onnx.load(os.path.join(DATA, stem + ".onnx"), load_external_data=False)
        for opset in (18, 21):
            m = re_express(src, opset)
            p = os.path.join(OUT, f"{stem}.opset{opset}.onnx")
            onnx.save(m, p)
            written.append(p)
    for name, make in (("transformer23", transformer23), ("ops21", ops21), ("functions18", functions18)):
        p = os.path.join(OUT, name + ".onnx")
        onnx.save(make(), p)
        written.append(p)
    shapes = {}
    for p in written:
        shapes[os.path.basename(p)] = ort_shapes(p)
        print(f"{os.path.basename(p)}: ONNX Runtime ran it, {len(shapes[os.path.basename(p)])} tensors", file=sys.stderr)
    with open(os.path.join(OUT, "ort_shapes.json"), "w") as f:
        json.dump(shapes, f, indent=0, sort_keys=True)


if __name__ == "__main__":
    main()
