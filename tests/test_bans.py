"""The exercise bans (actlib.grading.grader.bans): the table, the texts, and the refusal itself.

The refusal is tested here in-process; through a real kernel in
``tests/test_grading_machinery.py``; and end to end in ``tests/test_grading.py``, where every
shortcut of ``tests/shortcuts.py`` is submitted in its lesson's graded class and must lose
exactly its exercise's points with the ban's message. ``test_shortcuts_are_right_answers``
shows that each shortcut would pass its exercise's checks without the ban: the ban, not a
wrong answer, is what fails them.
"""
import copy
import re

import nbformat
import numpy as np
import pytest

from actlib import activations, optim
from actlib.grading.grader import bans
from actlib.grading.grader.bans import BANS, ReferenceUnavailable, ban_for, refusing
from coursetools import ROOT, assignments, nbgrader_meta, notebook_names, output_problems
from shortcuts import NO_SHORTCUT, SHORTCUTS, replace_answer

ASSIGNMENTS = assignments()


def source_notebooks(assignment):
    return {name: nbformat.read(str(ROOT / "source" / assignment / f"{name}.ipynb"),
                                as_version=4)
            for name in notebook_names(assignment)}


def exercise_text(nb, answer):
    """The markdown from the exercise header above the answer cell down to that cell."""
    index = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") == answer)
    parts = []
    for cell in reversed(nb.cells[:index]):
        if cell.cell_type == "markdown":
            headers = list(re.finditer(r"^#+ Exercise \d+\.\d+", cell.source, flags=re.M))
            parts.insert(0, cell.source[headers[-1].start():] if headers else cell.source)
            if headers:
                return "\n".join(parts)
    return "\n".join(parts)


def answer_ids(assignment):
    return {nbgrader_meta(c)["grade_id"]: name
            for name, nb in source_notebooks(assignment).items() for c in nb.cells
            if nbgrader_meta(c).get("solution") and c.cell_type == "code"}


# ------------------------------------------------------------------------------ the table

def test_every_ban_has_a_shortcut_and_every_shortcut_a_ban():
    """Each banned exercise has a shortcut submission in the graded class, unless
    ``NO_SHORTCUT`` says why there is none that would pass its checks."""
    for assignment in set(BANS) | set(SHORTCUTS):
        banned = set(BANS.get(assignment, {}))
        without = {answer for a, answer in NO_SHORTCUT if a == assignment}
        assert set(SHORTCUTS.get(assignment, {})) == banned - without, assignment
        assert without <= banned, f"{assignment}: NO_SHORTCUT names exercises without a ban"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_bans_name_real_exercises_and_course_functions(assignment):
    answers = answer_ids(assignment)
    nbs = source_notebooks(assignment)
    for answer, ban in BANS.get(assignment, {}).items():
        assert answer in answers, f"{assignment}: ban for unknown answer cell {answer}"
        text = exercise_text(nbs[answers[answer]], answer)
        assert re.search(rf"Exercise {re.escape(ban.exercise)}\b", text), (
            f"{assignment}:{answer} is not under the header of Exercise {ban.exercise}")
        for name in ban.unavailable:
            assert bans.functions_behind(bans.resolve(name)), f"{name} has no function to ban"


def stated_bans(text):
    """(names, modules) an exercise text says are unavailable: the course names in backticks
    in its sentences that say "not available" / "unavailable"; a bare module name (as in
    "every optimiser class of `optim`") stands for all of that module's names."""
    names, modules = set(), set()
    for sentence in re.split(r"(?<=[.!?;])\s+", text):
        if re.search(r"not available|unavailable", sentence):
            for name in re.findall(r"`([A-Za-z_][\w.]*)`", sentence):
                if name in bans.MODULES:
                    modules.add(name)
                elif name.split(".")[0] in bans.MODULES:
                    names.add(name)
    return names, modules


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_exercise_text_states_its_bans(assignment):
    """What an exercise may not use is said in its text, by the name the ban refuses (or by
    its module, as in "every initialiser of `init`")."""
    nbs = source_notebooks(assignment)
    answers = answer_ids(assignment)
    missing = []
    for answer, ban in BANS.get(assignment, {}).items():
        text = exercise_text(nbs[answers[answer]], answer)
        _, modules = stated_bans(text)
        missing += [f"Exercise {ban.exercise}: `{name}`" for name in ban.unavailable
                    if f"`{name}`" not in text and name.split(".")[0] not in modules]
    assert not missing, f"{assignment}: texts do not say these are unavailable: {missing}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_stated_ban_is_enforced(assignment):
    """A text that says a course name is not available has that name in the exercise's ban."""
    nbs = source_notebooks(assignment)
    unenforced = []
    for answer, name in answer_ids(assignment).items():
        stated, _ = stated_bans(exercise_text(nbs[name], answer))
        ban = ban_for(assignment, answer)
        unenforced += [f"{answer}: `{n}`" for n in sorted(stated - set(ban.unavailable if ban else ()))]
    assert not unenforced, f"{assignment}: texts state bans that are not enforced: {unenforced}"


# ------------------------------------------------------------------------------ the refusal

SIGMOID_BAN = BANS["03-sigmoid-tanh"]["sigmoid_stable"].request("`sigmoid_stable`")


@pytest.mark.parametrize("route", [
    lambda z: activations.sigmoid(z),                       # the module attribute
    lambda z: activations.get("sigmoid")(z),                # the registry
    lambda z, s=activations.sigmoid: s(z),                  # an alias taken earlier
    lambda z: copy.copy(activations.sigmoid)(z),            # a copy of the object
    lambda z: activations.sigmoid.__call__(z),              # the object's own method
    lambda z: activations.softplus.grad(z),                 # another function computing it
    lambda z: activations.silu(z) / z,
])
def test_every_route_to_a_banned_reference_is_refused(route):
    with refusing(SIGMOID_BAN) as guard:
        with pytest.raises(ReferenceUnavailable, match=r"^Exercise 3\.5 asks you to write the "
                           r"sigmoid: `activations\.(sigmoid|silu|softplus\.grad)` is not "
                           r"available inside `sigmoid_stable`$"):
            route(np.array([0.5, 2.0]))
    assert len(guard.hits) == 1 and guard.hits[0].startswith("Exercise 3.5 asks"), guard.hits


def test_a_swallowed_refusal_is_still_recorded_and_everything_comes_back():
    before = activations.sigmoid(np.linspace(-50, 50, 11))
    with refusing(SIGMOID_BAN) as guard:
        try:
            activations.sigmoid(1.0)
        except ReferenceUnavailable:
            pass
        assert activations.sigmoid.grad(0.0) == 0.25      # the derivative is not banned
        assert activations.tanh(0.0) == 0.0
    assert len(guard.hits) == 1
    assert np.array_equal(activations.sigmoid(np.linspace(-50, 50, 11)), before)


def test_what_an_exercise_allows_stays_available():
    """Exercise 3.2 asks for σ′ and may use σ: only the derivative is refused."""
    ban = BANS["03-sigmoid-tanh"]["sigmoid_grad"].request("`sigmoid_grad`")
    with refusing(ban) as guard:
        s = activations.sigmoid(np.array([0.0, 2.0]))
        with pytest.raises(ReferenceUnavailable):
            activations.sigmoid.grad(0.0)
    assert np.allclose(s, [0.5, 0.8807970779778823])
    assert len(guard.hits) == 1


def test_a_banned_class_cannot_be_built_or_stepped_and_its_siblings_work():
    ban = bans.Ban("8.2", "a momentum step", ("optim.SGD",)).request("`momentum_step`")
    opt = optim.SGD(learning_rate=0.1, momentum=0.9)          # built before the ban
    with refusing(ban) as guard:
        with pytest.raises(ReferenceUnavailable):
            optim.SGD(learning_rate=0.1)
        with pytest.raises(ReferenceUnavailable):
            opt.step([np.zeros(2)], [np.ones(2)])
        p = np.zeros(2)
        optim.Adam(learning_rate=0.1).step([p], [np.ones(2)])
    assert len(guard.hits) == 1 and np.allclose(p, -0.1)
    p = np.zeros(2)
    opt.step([p], [np.ones(2)])
    assert np.allclose(p, -0.1)


def test_putting_the_reference_back_or_reloading_it_is_reported():
    fn = activations.sigmoid._value
    with refusing(SIGMOID_BAN) as guard:
        stub = fn.__code__
        fn.__code__ = compile("lambda x: x", "<s>", "eval").co_consts[0]
    assert fn.__code__ is not stub and any("was changed while Exercise 3.5" in h
                                           for h in guard.hits)
    assert activations.sigmoid(0.0) == 0.5
    original = activations.sigmoid
    try:
        with refusing(SIGMOID_BAN) as guard:      # what reloading the module would do
            activations.sigmoid = copy.copy(original)
    finally:
        activations.sigmoid = original
    assert any("`activations.sigmoid` was replaced" in h for h in guard.hits), guard.hits


def test_stubs_fit_functions_with_closures():
    def outer(a, b):
        def inner(x):
            return a + b + x
        return inner

    inner = outer(1, 2)
    inner.__code__ = bans._stub_code(len(inner.__code__.co_freevars), "test:closure")
    bans._messages["test:closure"] = "refused"
    with pytest.raises(ReferenceUnavailable, match="refused"):
        inner(3)


def test_no_ban_is_a_no_op():
    with refusing(None) as guard:
        assert activations.sigmoid(0.0) == 0.5
    assert guard.hits == []
    assert ban_for("03-sigmoid-tanh", "test_chain_gradient_visible") is None
    assert ban_for("03-sigmoid-tanh", "test_sigmoid_stable_visible").exercise == "3.5"


# ------------------------------------------------------------------------------ the shortcuts

@pytest.mark.notebooks
@pytest.mark.parametrize("assignment", [
    pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in ASSIGNMENTS if a in SHORTCUTS])
def test_shortcuts_are_right_answers(assignment, tmp_path):
    """Each shortcut passes its exercise's visible and hidden checks when nothing is banned
    (the master notebook with every answer replaced by its shortcut, run in a plain kernel):
    so the shortcut submissions of the graded class fail because of the ban alone."""
    from run_notebook import execute

    for name, nb in source_notebooks(assignment).items():
        for cell in nb.cells:
            body = SHORTCUTS[assignment].get(nbgrader_meta(cell).get("grade_id"))
            if body is not None:
                cell.source = replace_answer(cell.source, body)
        path = tmp_path / f"{name}.ipynb"
        for extra in (ROOT / "source" / assignment).iterdir():
            if extra.suffix != ".ipynb" and extra.is_file():
                (tmp_path / extra.name).write_bytes(extra.read_bytes())
        nbformat.write(nb, str(path))
        ran, _, _ = execute(str(path))
        problems = output_problems(ran)
        assert not problems, f"{assignment}: " + "; ".join(f"cell {i}: {t}" for i, t in problems)
