"""pytest for the Python module (ctest python_pytest; PYTHONPATH=<build>/python)."""
import os

import pytest

import diviml

DATA = os.environ.get("DIVIML_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data"))


def diamond():
    """a -> {b, c} -> d, seconds = FLOPs on identical:N: optimum 4 s on two devices."""
    g = diviml.Graph("diamond")
    for name, output in [("x", False), ("ta", False), ("tb", False), ("tc", False), ("y", True)]:
        g.add_tensor(name, bytes=8, output=output)
    assert g.add_op("a", ["x"], ["ta"], flops=1) == 0
    g.add_op("b", ["ta"], ["tb"], flops=2)
    g.add_op("c", ["ta"], ["tc"], flops=2)
    g.add_op("d", ["tb", "tc"], ["y"], flops=1)
    return g


def test_onnx_model_scheduled_with_split():
    r = diviml.schedule(os.path.join(DATA, "resnet18.onnx"), platform="paper-node", method="split", time_limit=10)
    assert r.status in ("optimal", "feasible", "heuristic", "time_limit")
    assert r.method == "split"
    assert 0 < r.lower_bound_s <= r.makespan_s
    assert r.gap == pytest.approx((r.makespan_s - r.lower_bound_s) / r.lower_bound_s)
    devices = {d.name for d in r.devices}
    assert len(r.placement) == len(r.ops) and set(r.placement.values()) <= devices
    assert all(r.placement[o.name] == o.device for o in r.ops)
    assert len(r.node_placement) > len(r.ops)  # fused ops expand to their ONNX nodes


def test_graph_built_in_python_is_solved_to_optimality():
    r = diviml.schedule(diamond(), platform="identical:2", method="milp", time_limit=20)
    assert r.status == "optimal"
    assert r.makespan_s == pytest.approx(4.0)
    assert r.placement["b"] != r.placement["c"]
    assert [o.name for o in r.ops] == ["a", "b", "c", "d"]
    assert r.ops[3].finish_s == pytest.approx(4.0)


def test_options_as_keywords_are_validated():
    with pytest.raises(diviml.Error, match="unknown option 'thread'"):
        diviml.schedule(diamond(), platform="identical:2", thread=2)
    with pytest.raises(diviml.Error, match=r"out of range \[1, 256\]"):
        diviml.schedule(diamond(), platform="identical:2", threads=0)
    with pytest.raises(diviml.Error, match="must be an integer"):
        diviml.schedule(diamond(), platform="identical:2", seed="soon")
    with pytest.raises(TypeError):  # a typed parameter of schedule() itself
        diviml.schedule(diamond(), platform="identical:2", time_limit="soon")
    r = diviml.schedule(diamond(), platform="identical:2", method="anneal", time_limit=1, seed=7, milp_ht_rows=True)
    assert r.makespan_s >= 4.0 - 1e-9


def test_errors_name_what_is_wrong():
    with pytest.raises(diviml.Error, match="unknown latency method 'nope'"):
        diviml.schedule(diamond(), platform="identical:2", method="nope")
    with pytest.raises(diviml.Error, match="missing.onnx"):
        diviml.schedule(os.path.join(DATA, "missing.onnx"))
    g = diamond()
    g.add_op("e", ["nowhere"], [])
    with pytest.raises(diviml.Error, match="unknown tensor 'nowhere'"):
        diviml.schedule(g, platform="identical:2")


def test_throughput_and_method_table():
    r = diviml.schedule(os.path.join(DATA, "resnet18.onnx"), objective="throughput", method="data-parallel", time_limit=10)
    assert r.objective == "throughput"
    assert 0 < r.throughput.throughput_per_s <= r.throughput.bound_per_s * (1 + 1e-9)
    names = {(m["objective"], m["name"]) for m in diviml.methods()}
    assert ("latency", "split") in names and ("throughput", "milp") in names
    milp = next(m for m in diviml.methods() if m["name"] == "milp" and m["objective"] == "latency")
    assert milp["exact"] and milp["uses_milp"]
    assert any(o["name"] == "time_limit" and o["default"] == 60.0 for o in diviml.options())


def test_progress_callback_can_stop_a_run():
    calls = []

    def progress(info):
        calls.append(info.elapsed_s)
        return False

    d = diviml.Diviml()
    d.load(os.path.join(DATA, "resnet18.onnx"))
    d.set_option("time_limit", 120)
    d.set_option("bound_milp_time", 0)
    r = d.run("latency", "split", progress)
    assert calls, "split reports once its baselines are in"
    assert r.status == "interrupted"
    assert r.makespan_s > 0
