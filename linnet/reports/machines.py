"""Which machine a benchmark run came from, as far as its times are concerned.

Reads pytest-benchmark's ``machine_info`` and what linnet adds under ``machine_info["linnet"]``
(:func:`linnet.runs.machine.machine_info`: CPU model, cores, BLAS libraries and their threads,
library versions; :mod:`linnet.testing.calibration`: matmul rate and per-call cost).

Two runs are on the same machine when what changes their times is the same: CPU model, cores, the
BLAS libraries (API, version, threads, architecture, in any order: threadpoolctl lists them in
load order, which varies) and the Python, numpy, scipy and TensorFlow versions. The host name and
the calibration (a measurement, with noise) are shown but not part of the identity.
"""

from __future__ import annotations

from linnet.core.text import g

SOFTWARE = ("python", "numpy", "scipy", "tensorflow")


def _linnet(mi: dict) -> dict:
    return mi.get("linnet") if isinstance(mi.get("linnet"), dict) else {}


def cpu_model(mi: dict) -> str:
    cpu = mi.get("cpu") if isinstance(mi.get("cpu"), dict) else {}
    return str(_linnet(mi).get("cpu_model") or cpu.get("brand_raw") or mi.get("processor") or "unknown CPU")


def cpu_count(mi: dict):
    cpu = mi.get("cpu") if isinstance(mi.get("cpu"), dict) else {}
    return _linnet(mi).get("cpu_count") or cpu.get("count")


def blas_libraries(mi: dict) -> list[tuple]:
    """Sorted (api, version, threads, architecture) of each BLAS library numpy and scipy loaded."""
    libs = _linnet(mi).get("blas") or []
    out = [(str(lib.get("internal_api", "?")), str(lib.get("version", "?")), lib.get("num_threads"),
            str(lib.get("architecture") or "")) for lib in libs if isinstance(lib, dict)]
    return sorted(set(out), key=str)


def blas_threads(mi: dict) -> str:
    threads = sorted({str(t) for *_, t, _ in blas_libraries(mi)})
    return "/".join(threads) or "?"


def blas(mi: dict) -> str:
    parts = [f"{api} {version} ({threads} threads{', ' + arch if arch else ''})"
             for api, version, threads, arch in blas_libraries(mi)]
    return "; ".join(parts) or "BLAS unknown"


def versions(mi: dict) -> dict:
    ln = _linnet(mi)
    out = {"python": ln.get("python") or mi.get("python_version") or "?"}
    out.update({lib: ln[lib] for lib in SOFTWARE[1:] if ln.get(lib)})
    return out


def software(mi: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in versions(mi).items())


def calibration(mi: dict) -> dict:
    """{"matmul_gflops", "call_seconds", ...} measured with the run, or {} for older files."""
    cal = _linnet(mi).get("calibration")
    ok = isinstance(cal, dict) and all(isinstance(cal.get(k), (int, float)) and cal[k] > 0
                                       for k in ("matmul_gflops", "call_seconds"))
    return cal if ok else {}


#: (name, what it reads) of each field that makes a machine's times what they are
FIELDS = (
    ("CPU", cpu_model),
    ("cores", cpu_count),
    ("BLAS library", lambda mi: [lib[:2] + lib[3:] for lib in blas_libraries(mi)]),
    ("BLAS threads", blas_threads),
    ("versions", software),
)


def machine_key(mi: dict) -> tuple:
    """What makes two runs' times comparable (order-insensitive; host and calibration left out)."""
    return tuple(str(get(mi)) for _, get in FIELDS)


def describe_machine(mi: dict) -> str:
    cores = cpu_count(mi)
    cal = calibration(mi)
    measured = (f"; matmul {g(cal['matmul_gflops'])} GFLOP/s, {g(cal['call_seconds'] * 1e9)} ns per call"
                if cal else "; no calibration")
    return (f"{mi.get('node') or '?'}: {cpu_model(mi)}, {cores if cores else '?'} cores; {blas(mi)}; "
            f"{software(mi)}{measured}")


def differences(infos: dict) -> list[str]:
    """``name (M1: a, M2: b)`` for each field in which the machines ``{id: machine_info}`` differ."""
    out = []
    for name, get in FIELDS:
        values = {m: str(get(mi)) for m, mi in infos.items()}
        if len(set(values.values())) > 1:
            out.append(f"{name} ({', '.join(f'{m}: {v}' for m, v in values.items())})")
    return out
