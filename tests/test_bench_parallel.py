"""tools/bench_parallel.py without grading: the synthetic class it builds and its verdict.

Timings are never asserted; a real run takes minutes (see the README's Benchmarks).
"""
import json

import nbformat
import pytest

import bench_parallel as bench
from coursetools import copy_course, nbgrader_meta

A = bench.DEFAULT_ASSIGNMENT


def test_summary_passes_and_fails_on_the_targets():
    good, ok = bench.summarise(n_students=100, workers=2, wall=100.0, busy_sum=180.0,
                               startup=3.0, one_worker=190.0, per_process=300.0)
    assert ok and [line.split()[0] for line in good] == ["PASS", "PASS", "PASS"]
    assert "1.3 x 180.0/2 + 3.0 = 120.0 s" in good[0]
    assert "190.0 s / 100.0 s = 1.90x" in good[1]
    # too slow against S/N + start-up: 1.3 x 90 + 3 = 120 < 121
    slow, ok = bench.summarise(n_students=100, workers=2, wall=121.0, busy_sum=180.0,
                               startup=3.0, one_worker=300.0, per_process=300.0)
    assert not ok and slow[0].startswith("FAIL") and slow[1].startswith("PASS")
    # not 1.8x faster than one worker: 179 / 100 = 1.79
    same, ok = bench.summarise(n_students=100, workers=2, wall=100.0, busy_sum=180.0,
                               startup=3.0, one_worker=179.0, per_process=None)
    assert not ok and same[1].startswith("FAIL") and same[2].startswith("SKIP")


def test_class_mix_follows_the_pattern():
    kinds = bench.kinds(100)
    assert {k: kinds.count(k) for k in set(kinds)} == \
        {"perfect": 30, "stubbed": 30, "wrong": 30, "broken": 10}
    assert bench.kinds(3) == ["perfect", "stubbed", "wrong"]


def test_stubbed_and_wrong_answers():
    source = ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = x + 1\n"
              "    return y\n    ### END SOLUTION")
    assert bench.stubbed(source) == ("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n"
                                     "    raise NotImplementedError()\n    ### END SOLUTION")
    wrong = bench.wrong(source)
    assert "return -1.0" in wrong and "return y" not in wrong and "y = x + 1" in wrong
    namespace = {}
    exec(wrong, namespace)
    assert namespace["f"](5) == -1.0
    top = "w = None\n### BEGIN SOLUTION\nw = [1, 2]\n### END SOLUTION"
    assert bench.wrong(top).splitlines()[2] == "w = -1.0"


def test_built_class_has_each_kind(tmp_path):
    root = copy_course(tmp_path / "course")        # the committed solutions/ are used as is
    made = bench.build_class(root, A, 20)
    assert len(made) == 20 and sorted(made) == sorted(set(made))
    solution = nbformat.read(str(root / "solutions" / A / f"{A}.ipynb"), 4)
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in solution.cells
               if nbgrader_meta(c).get("grade_id") in bench.answer_ids(solution)}
    malformed = syntax = 0
    for student, kind in made.items():
        path = root / "submitted" / student / A / f"{A}.ipynb"
        text = path.read_text(encoding="utf-8")
        try:
            nb = nbformat.reads(text, as_version=4)
        except (json.JSONDecodeError, nbformat.reader.NotJSONError):
            assert kind == "broken"
            malformed += 1
            continue
        changed = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
                   if nbgrader_meta(c).get("grade_id") in answers
                   and c.source != answers[nbgrader_meta(c)["grade_id"]]}
        if kind == "perfect":
            assert changed == {}
        elif kind == "stubbed":
            assert len(changed) == 1
            assert "raise NotImplementedError()" in next(iter(changed.values()))
        elif kind == "wrong":
            assert 1 <= len(changed) <= 2
            for src in changed.values():
                compile(src, student, "exec")      # wrong, but it runs
        else:
            assert len(changed) == 1
            with pytest.raises(SyntaxError):
                compile(next(iter(changed.values())), student, "exec")
            syntax += 1
    assert (malformed, syntax) == (1, 1)
