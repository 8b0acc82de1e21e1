#!/usr/bin/env python3
"""Writes pickles that run code when Python unpickles them, for lifeboat's
rejection tests (tests/hostile.rs).

    python3 scripts/make_hostile_fixtures.py tests/fixtures/hostile

Every payload would create a marker file under /tmp/lifeboat-hostile-markers/
(named after the fixture). To prove the fixtures are really hostile, this
script loads each one with Python in a child process and checks that the
marker appears, then deletes it. lifeboat's tests load the same files and
check that they are refused, naming the global and its byte offset, and that
no marker appears.

Do not load these files with pickle.load outside this script.
"""

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

MARKERS = Path("/tmp/lifeboat-hostile-markers")


def marker(name):
    return str(MARKERS / name)


class Reduce:
    """An object whose unpickling calls `func(*args)`."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def shell(name):
    import os as _os
    return Reduce(_os.system, (f"touch {marker(name)}",))


def cases():
    import builtins
    import functools
    import subprocess as sp

    out = {}
    out["os_system.p4.pkl"] = (pickle.dumps(shell("os_system.p4.pkl"), protocol=4), "posix.system")
    out["os_system.p2.pkl"] = (pickle.dumps(shell("os_system.p2.pkl"), protocol=2), "posix.system")
    out["subprocess_popen.pkl"] = (
        pickle.dumps(Reduce(sp.Popen, (["touch", marker("subprocess_popen.pkl")],)), protocol=5),
        "subprocess.Popen",
    )
    out["builtins_eval.pkl"] = (
        pickle.dumps(Reduce(builtins.eval, (f"open({marker('builtins_eval.pkl')!r}, 'w').close()",)), protocol=4),
        "builtins.eval",
    )
    out["builtins_exec.pkl"] = (
        pickle.dumps(Reduce(builtins.exec, (f"open({marker('builtins_exec.pkl')!r}, 'w').close()",)), protocol=5),
        "builtins.exec",
    )
    # Opening a file for writing creates it.
    out["write_file.pkl"] = (
        pickle.dumps(Reduce(builtins.open, (marker("write_file.pkl"), "w")), protocol=4),
        "io.open",
    )
    # Importing a module: __import__ runs the module's code.
    out["import_module.pkl"] = (
        pickle.dumps(Reduce(builtins.__import__, ("this",)), protocol=4),
        "builtins.__import__",
    )
    out["functools_partial.pkl"] = (
        pickle.dumps(Reduce(functools.partial(sp.call, ["touch", marker("functools_partial.pkl")]), ()), protocol=4),
        "subprocess.call",
    )
    # getattr(__import__("os"), "system")("touch ...") written by hand.
    cmd = f"touch {marker('builtins_getattr.pkl')}".encode()
    out["builtins_getattr.pkl"] = (
        b"\x80\x04cbuiltins\ngetattr\n(cbuiltins\n__import__\n(\x8c\x02ostR\x8c\x06systemtR(\x8c"
        + bytes([len(cmd)]) + cmd + b"tR.",
        "builtins.getattr",
    )
    # The old INST and OBJ opcodes call a class with the values after MARK.
    out["inst_opcode.pkl"] = (
        b"(\x8c" + bytes([len(marker("inst_opcode.pkl")) + 6]) + f"touch {marker('inst_opcode.pkl')}".encode()
        + b"ios\nsystem\n.",
        "os.system",
    )
    out["obj_opcode.pkl"] = (
        b"(cos\nsystem\n\x8c" + bytes([len(marker("obj_opcode.pkl")) + 6])
        + f"touch {marker('obj_opcode.pkl')}".encode() + b"o.",
        "os.system",
    )
    return out


def nested_cases():
    """A valid scikit-learn pipeline carrying a payload in an attribute."""
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    y = (x[:, 0] > 0).astype(int)
    out = {}
    for name, how in [("nested_in_pipeline.pkl", None), ("nested_in_pipeline.joblib", 0),
                      ("nested_in_pipeline.zlib.joblib", 3)]:
        pipe = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression())]).fit(x, y)
        pipe.steps[1][1].evil_ = shell(name)
        if how is None:
            data = pickle.dumps(pipe, protocol=5)
        else:
            tmp = Path("/tmp") / f"lifeboat-hostile-{os.getpid()}.joblib"
            joblib.dump(pipe, tmp, compress=how)
            data = tmp.read_bytes()
            tmp.unlink()
        out[name] = (data, "posix.system")
    return out


def proves_hostile(path, name):
    """Loads the file with Python in a child process: the marker must appear."""
    MARKERS.mkdir(exist_ok=True)
    target = Path(marker(name))
    target.unlink(missing_ok=True)
    loader = "import joblib; joblib.load(p)" if name.endswith(".joblib") else "import pickle; pickle.load(open(p, 'rb'))"
    subprocess.run([sys.executable, "-c", f"import sys; p = sys.argv[1]\ntry:\n {loader}\nexcept Exception:\n pass", str(path)],
                   check=False, capture_output=True, timeout=60)
    made = target.exists()
    target.unlink(missing_ok=True)
    return made


def main():
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/hostile")
    outdir.mkdir(parents=True, exist_ok=True)
    all_cases = {**cases(), **nested_cases()}
    index = []
    for name, (data, global_name) in sorted(all_cases.items()):
        path = outdir / name
        path.write_bytes(data)
        proven = None if name == "import_module.pkl" else proves_hostile(path, name)
        if proven is False:
            sys.exit(f"{name}: loading it with Python did not create its marker; the fixture is not hostile")
        index.append({"file": name, "global": global_name, "marker": marker(name), "python_ran_it": proven})
    shutil.rmtree(MARKERS, ignore_errors=True)
    (outdir / "expected.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(index)} hostile fixtures to {outdir}; Python runs each payload (checked)")


if __name__ == "__main__":
    main()
