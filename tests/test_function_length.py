"""Functions stay readable: none in deepnag/ or benchmarks/ is over 60 lines, the Numba kernels apart."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

KERNELS = {("deepnag/loss/soft_dtw_cpu.py", "_sdtw_kernel_py")}
"""Numba kernels: one loop nest each, kept whole so that the compiler sees it whole."""


def test_no_function_is_over_60_lines():
    long = []
    for folder in ("deepnag", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    where = (str(path.relative_to(ROOT)), node.name)
                    if node.end_lineno - node.lineno + 1 > 60 and where not in KERNELS:
                        long.append(f"{where[0]}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long
