"""Builds small jet taggers, compiles hls4ml's C simulation and writes test vectors.

Run through scripts/hls4ml_vectors.sh (it sets up .venv-hls4ml/). For each configuration this
writes tests/data/hls4ml/<name>/:
  model.json      our model format (DESIGN.md §5) with the weights hls4ml's C++ actually reads
                  (its decimal strings parsed as doubles), so the default exact load is bit-exact;
  model_raw.json  the same model with Keras' raw float weights (only for configurations listed in
                  RAW), for `tag --hls4ml-decimal-weights`;
  inputs.json     {"inputs": [[...]]};
  expected.json   {"outputs": [[...]], "hls4ml": version} from hls_model.predict(float64).

Layer types and table sizes are read back from the generated firmware (myproject.cpp, defines.h,
parameters.h), not from the configuration we asked for, because hls4ml adjusts some of them.
"""

import json
import os
import re
import shutil
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import keras  # noqa: E402
import hls4ml  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "hls4ml")
N_IN = 16
RAW = {"jet_perlayer", "sig_perlayer"}


def build_keras(kind, seed):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    last = keras.layers.Dense(5, activation="softmax", name="out") if kind == "jet" else keras.layers.Dense(
        1, activation="sigmoid", name="out"
    )
    model = keras.Sequential(
        [
            keras.Input(shape=(N_IN,), name="x"),
            keras.layers.Dense(64, activation="relu", name="fc1"),
            keras.layers.Dense(32, activation="relu", name="fc2"),
            keras.layers.Dense(32, activation="relu", name="fc3"),
            last,
        ]
    )
    for layer in model.layers:
        w, b = layer.get_weights()
        scale = 1.5 / np.sqrt(w.shape[0])
        layer.set_weights([rng.normal(0, scale, w.shape), rng.normal(0, 0.3, b.shape)])
    return model


def config_for(model, name):
    if name in ("jet_default", "sig_default"):
        return hls4ml.utils.config_from_keras_model(
            model, granularity="model", default_precision="ap_fixed<16,6>", backend="Vivado"
        )
    if name == "jet_rndsat":
        return hls4ml.utils.config_from_keras_model(
            model, granularity="model", default_precision="ap_fixed<16,6,AP_RND,AP_SAT>", backend="Vivado"
        )
    # Per-layer: every precision set explicitly (hls4ml's 'auto' would widen the accumulators).
    cfg = hls4ml.utils.config_from_keras_model(
        model, granularity="name", default_precision="ap_fixed<16,6>", backend="Vivado"
    )
    for lname, lc in cfg["LayerName"].items():
        prec = lc.get("Precision")
        if lname == "x":
            lc["Precision"] = {"result": "ap_fixed<16,6>"}
        elif isinstance(prec, dict) and "weight" in prec:
            lc["Precision"] = {
                "weight": "ap_fixed<8,3>",
                "bias": "ap_fixed<8,3>",
                "accum": "ap_fixed<24,12>",
                "result": "ap_fixed<12,5>",
            }
        elif lname.endswith("_softmax"):
            lc["Precision"] = {"result": "ap_fixed<16,2,AP_RND,AP_SAT>", "accum": "ap_fixed<18,8,AP_RND,AP_SAT>"}
            lc["table_size"] = 2048
        elif lname.endswith("_sigmoid"):
            lc["Precision"] = {"result": "ap_fixed<16,2,AP_RND,AP_SAT>"}
            lc["table_size"] = 2048
            lc["table_t"] = "fixed<16,4>"
        else:
            lc["Precision"] = {"result": "ap_fixed<12,5>"}
    return cfg


def typedefs(text):
    return {m.group(2): m.group(1).strip() for m in re.finditer(r"typedef\s+(.+?)\s+(\w+)\s*;", text)}


def resolve(t, defs):
    seen = 0
    while t in defs and seen < 20:
        t, seen = defs[t], seen + 1
    return t.replace(" ", "")


def read_firmware(odir):
    fw = os.path.join(odir, "firmware")
    src = open(os.path.join(fw, "myproject.cpp")).read()
    defs = typedefs(open(os.path.join(fw, "defines.h")).read())
    params = open(os.path.join(fw, "parameters.h")).read()
    structs = {}
    for m in re.finditer(r"struct\s+(\w+)\s*:\s*nnet::\w+\s*\{(.*?)\n\};", params, re.S):
        body = m.group(2)
        structs[m.group(1)] = (
            {k: resolve(v, defs) for k, v in typedefs(body).items()},
            {k: int(v) for k, v in re.findall(r"static const unsigned\s+(\w+)\s*=\s*(\d+)\s*;", body)},
        )
    calls = re.findall(r"nnet::(\w+)<([^>]*(?:<[^>]*>[^>]*)*)>\(([^)]*)\);", src)
    layers = []
    input_t = resolve("input_t", defs)
    for func, targs, args in calls:
        if func.startswith("load_"):
            continue
        targs = [t.strip() for t in targs.split(",")]
        cfg_name = targs[-1]
        types, consts = structs[cfg_name]
        res = resolve(targs[1], defs)
        if func.startswith("dense"):
            argv = [a.strip() for a in args.split(",")]
            w = [float(v) for v in open(os.path.join(fw, "weights", argv[2] + ".txt")).read().split(",")]
            b = [float(v) for v in open(os.path.join(fw, "weights", argv[3] + ".txt")).read().split(",")]
            n_in, n_out = consts["n_in"], consts["n_out"]
            layers.append(
                {
                    "type": "dense",
                    "weights": np.array(w).reshape(n_in, n_out).tolist(),
                    "bias": b,
                    "precision": {
                        "weight": types["weight_t"],
                        "bias": types["bias_t"],
                        "accum": types["accum_t"],
                        "result": res,
                    },
                }
            )
        elif func == "relu":
            layers.append({"type": "relu", "precision": {"result": res}})
        elif func == "linear":
            layers.append({"type": "linear", "precision": {"result": res}})
        elif func == "sigmoid":
            layers.append(
                {
                    "type": "sigmoid",
                    "table_size": consts["table_size"],
                    "precision": {"table": types["table_t"], "result": res},
                }
            )
        elif func == "softmax":
            layers.append(
                {
                    "type": "softmax",
                    "exp_table_size": consts["exp_table_size"],
                    "inv_table_size": consts["inv_table_size"],
                    "precision": {
                        "exp_table": types["exp_table_t"],
                        "inv_table": types["inv_table_t"],
                        "inv_input": types["inv_inp_t"],
                        "accum": types["accum_t"],
                        "result": res,
                    },
                    "_inp_norm_t": types["inp_norm_t"],
                }
            )
        else:
            raise SystemExit(f"unexpected layer function nnet::{func} in myproject.cpp")
    return {"input_precision": input_t, "layers": layers}


def frac_bits(prec):
    m = re.match(r"ap_u?fixed<(\d+),(-?\d+)", prec)
    return int(m.group(1)) - int(m.group(2))


def input_rows(model, input_prec, seed):
    rng = np.random.default_rng(seed + 1000)
    rows = []
    for scale in (0.25, 1.0, 4.0, 16.0):
        rows += list(rng.normal(0, scale, (40, N_IN)))
    lsb = 2.0 ** -frac_bits(input_prec)
    # Half-LSB cases: exact ties and one ULP either side, in both signs.
    k = rng.integers(-2000, 2000, (20, N_IN))
    rows += list((k + 0.5) * lsb)
    rows += list(np.nextafter((k + 0.5) * lsb, np.inf))
    rows += list(np.nextafter((k + 0.5) * lsb, -np.inf))
    # Values that wrap on entry (|x| ≥ 2^(I-1)), including huge ones.
    big = rng.choice([40.0, -40.0, 33.3, -70.25, 1e30, -1e30, 1e6 + 0.1, 2.0**40 + 3.0], (12, N_IN))
    mix = rng.normal(0, 2, (12, N_IN))
    mask = rng.random((12, N_IN)) < 0.4
    rows += list(np.where(mask, big, mix))
    # Accumulator overflow and softmax differences ≥ 2^(I-1): large inputs aligned with the first
    # layer's weights drive the sums far out of range.
    w0 = model.layers[0].get_weights()[0]
    for j in range(12):
        s = np.sign(w0[:, j % w0.shape[1]])
        rows.append(s * (31.0 - j))
        rows.append(-s * (8.0 + j))
    return np.array(rows, dtype=np.float64)


def make(name, kind, seed):
    model = build_keras(kind, seed)
    cfg = config_for(model, name)
    odir = tempfile.mkdtemp(prefix=f"hls4ml_{name}_")
    try:
        hls_model = hls4ml.converters.convert_from_keras_model(
            model, hls_config=cfg, output_dir=odir, backend="Vivado", io_type="io_parallel"
        )
        hls_model.compile()
        ours = read_firmware(odir)
        x = input_rows(model, ours["input_precision"], seed)
        y = np.asarray(hls_model.predict(np.ascontiguousarray(x, dtype=np.float64)), dtype=np.float64)
        y = y.reshape(len(x), -1)
    finally:
        shutil.rmtree(odir, ignore_errors=True)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    norm = [layer.pop("_inp_norm_t") for layer in ours["layers"] if "_inp_norm_t" in layer]
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(ours, f, separators=(",", ":"))
    if name in RAW:
        raw = json.loads(json.dumps(ours))
        dense = [layer for layer in raw["layers"] if layer["type"] == "dense"]
        for layer, kl in zip(dense, model.layers):
            w, b = kl.get_weights()
            layer["weights"] = np.asarray(w, dtype=np.float64).tolist()
            layer["bias"] = np.asarray(b, dtype=np.float64).tolist()
        with open(os.path.join(d, "model_raw.json"), "w") as f:
            json.dump(raw, f, separators=(",", ":"))
    with open(os.path.join(d, "inputs.json"), "w") as f:
        json.dump({"inputs": x.tolist()}, f, separators=(",", ":"))
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(
            {"hls4ml": hls4ml.__version__, "inp_norm_t": norm, "outputs": y.tolist()},
            f,
            separators=(",", ":"),
        )
    print(f"{name}: {len(x)} rows, {y.shape[1]} outputs, hls4ml {hls4ml.__version__}", file=sys.stderr)


def main():
    for name, kind, seed in [
        ("jet_default", "jet", 1),
        ("jet_rndsat", "jet", 2),
        ("jet_perlayer", "jet", 3),
        ("sig_default", "sig", 4),
        ("sig_perlayer", "sig", 5),
    ]:
        make(name, kind, seed)


if __name__ == "__main__":
    main()
