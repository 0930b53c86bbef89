"""Submissions of a determined student: each tries to take points it did not earn.

``ATTACKS[assignment][student]`` builds one submission from the lesson's solution and release
(`build`). ``tests/test_grading.py`` grades each in its lesson's class, beside the solution and
the untouched release, and checks that it scores no more than the untouched release, that no
hidden test shows anything the student's code wrote, and that the grading worker's memory
stays bounded. One submission per attack class, on lesson 3 and the capstone:

* ``disabled_ban``  — the course's implementation as the answer, after cells that try to switch
  the ban off in the kernel (the stubs' ``refuse``, the agent's replies, the registry);
* ``module_copy``   — the answer computed by a fresh copy of the course module loaded from its
  file, by ``types.FunctionType`` copies of its private functions, or from code objects saved
  in an earlier cell;
* ``course_object`` — the course's own object bound as the answer, with no call at all;
* ``reordered``     — visible test cells moved below the hidden ones, with dummy answers and
  functions named like the helpers the visible tests bind;
* ``library``       — another library computing what the exercise asks (SciPy, scikit-learn);
* ``leak``          — answers that put their arguments into an exception's message, or record
  them for a later ordinary cell to print (``LEAK-`` marks what must never reach a hidden test);
* ``flood``         — replies that try to exhaust the grader: many references to a 1 MB string,
  a 64 MB array, a patched agent answering with a 2·10⁷-item list, an enormous SymPy power.
"""
import copy

import nbformat

from coursetools import nbgrader_meta
from shortcuts import replace_answer

_DISABLE = '''
# try to switch the ban off before anything is checked
import actlib.grading.kernel.stubs as _stubs
_stubs.refuse = lambda name: None
_stubs.drain = lambda: []
import actlib.grading.kernel.agent as _agent
_answer = _agent.answer
def _quiet(text):
    reply = _answer(text)
    reply.pop("reached", None)
    return reply
_agent.answer = _quiet
import importlib, actlib.activations
importlib.reload(actlib.activations)
'''

_SAVE_CODE = '''
# save the course's code objects now, to put them back while the checks run
from actlib import activations as _acts
_saved = {name: getattr(_acts, name).__code__ for name in dir(_acts)
          if callable(getattr(_acts, name)) and hasattr(getattr(_acts, name), "__code__")}
'''

_COPY_MODULE = '''
import importlib.util, types
def _fresh(module):
    spec = importlib.util.spec_from_file_location("fresh_" + module.__name__.replace(".", "_"),
                                                  module.__file__)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    return fresh
'''

_FLOOD_AGENT = '''
def _flood_agent():
    # from the first call on, the agent answers every call with a 2e7-item list
    import actlib.grading.kernel.agent as _agent
    _real = _agent.answer
    def _flood(text):
        reply = _real(text)
        if '"op": "call"' in text:
            reply = {"value": [0] * 20_000_000, "nonce": reply.get("nonce"), "warnings": []}
        return reply
    _agent.answer = _flood
'''

_LEAK_PRINT = '''
# an ordinary cell after the answers: prints what the answers recorded
print("LEAK-RECORD:", _recorded)
'''

ATTACKS = {
    "03-sigmoid-tanh": {
        "disabled_ban": {"before": _DISABLE + _SAVE_CODE, "answers": {
            "sigmoid_naive": "return actlib.activations.sigmoid(z)",
            "sigmoid_stable": ("for _n, _c in _saved.items():\n"
                               "    getattr(_acts, _n).__code__ = _c\n"
                               "return _acts.softplus.grad(z)"),
            "tanh_from_sigmoid": "return actlib.activations.tanh(z)"}},
        "module_copy": {"before": _COPY_MODULE, "answers": {
            "sigmoid_naive": "return _fresh(activations).sigmoid(z)",
            "sigmoid_stable": ("f = types.FunctionType(activations._sig.__code__, "
                               "activations.__dict__)\nreturn f(np.asarray(z))"),
            "tanh_from_sigmoid": "return _fresh(activations).tanh(z)"}},
        "course_object": {"answers": {
            "sigmoid_naive": "=sigmoid_naive = activations.sigmoid",
            "sigmoid_stable": "=sigmoid_stable = activations.get('sigmoid')",
            "sigmoid_grad": "=sigmoid_grad = activations.sigmoid.grad",
            "tanh_from_sigmoid": "=tanh_from_sigmoid = activations.tanh"}},
        "library": {"answers": {
            "sigmoid_naive": "import scipy.special\nreturn scipy.special.expit(z)",
            "sigmoid_stable": "from scipy.special import expit\nreturn expit(z)"}},
        "reordered": {"reorder": True, "answers": {}},
        "leak": {"before": "_recorded = []\n", "after": _LEAK_PRINT, "answers": {
            "sigmoid_naive": ("_recorded.append(repr(z))\n"
                              "raise ValueError('LEAK-ARG ' + repr(z))"),
            "sigmoid_stable": ("_recorded.append(repr(z))\n"
                               "raise ValueError('LEAK-ARG ' + repr(z))")}},
        "flood": {"before": "_big = 'x' * 2**20\n" + _FLOOD_AGENT, "answers": {
            "sigmoid_naive": "return [_big] * 600",
            "sigmoid_stable": "return np.zeros(8 * 2**20)",
            "sigmoid_grad": "import sympy\nreturn sympy.Pow(3, 3 * 10**7, evaluate=False)",
            "tanh_from_sigmoid": "_flood_agent()\nreturn z"}},
    },
    "12-capstone": {
        "disabled_ban": {"before": _DISABLE, "answers": {
            "cross_entropy": ("from actlib import nn as _nn\n"
                              "return _nn.softmax_cross_entropy(logits, labels)")}},
        "module_copy": {"before": _COPY_MODULE, "answers": {
            "cross_entropy": ("from actlib import nn as _nn\n"
                              "return _fresh(_nn).softmax_cross_entropy(logits, labels)")}},
        "course_object": {"answers": {
            "cross_entropy": "=from actlib import nn\ncross_entropy = nn.softmax_cross_entropy"}},
        "library": {"answers": {
            "cross_entropy": ("from scipy.special import log_softmax, softmax\n"
                              "z = np.asarray(logits, dtype=float)\n"
                              "n = z.shape[0]\n"
                              "loss = -log_softmax(z, axis=1)[np.arange(n), labels].mean()\n"
                              "g = softmax(z, axis=1)\n"
                              "g[np.arange(n), labels] -= 1\n"
                              "return float(loss), g / n"),
            "train": ("from sklearn.neural_network import MLPClassifier\n"
                      "clf = MLPClassifier(hidden_layer_sizes=hidden, random_state=seed,\n"
                      "                    max_iter=60).fit(X, y)\n"
                      "return [(W, b) for W, b in zip(clf.coefs_, clf.intercepts_)]")}},
        "reordered": {"reorder": True, "answers": {}},
        "leak": {"before": "_recorded = []\n", "after": _LEAK_PRINT, "answers": {
            "cross_entropy": ("_recorded.append(repr(logits))\n"
                              "raise ValueError('LEAK-ARG ' + repr(logits))")}},
        "flood": {"before": "_big = 'x' * 2**20\n" + _FLOOD_AGENT, "answers": {
            "cross_entropy": "return [_big] * 600",
            "minibatch_indices": "return np.zeros(8 * 2**20)",
            "forward": "_flood_agent()\nreturn X"}},
    },
}


def _stubbed(nb, release):
    """``nb`` with every answer cell as the release has it (the untouched stubs)."""
    stubs = {nbgrader_meta(c).get("grade_id"): c.source for c in release.cells}
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in stubs:
            cell.source = stubs[gid]
    return nb


def _helpers_of(nb):
    """Names the visible test cells bind that the hidden test cells read."""
    from actlib.grading.grader.runner import bound_names, free_names

    bound, read = set(), set()
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id") or ""
        if gid.endswith("_visible"):
            bound |= bound_names(cell.source)
        elif gid.endswith("_hidden"):
            read |= free_names(cell.source)
    return sorted(n for n in bound & read if n.startswith("_"))


def build(spec, solution, release):
    """One attack submission: the untouched release, with the attack's answers (a body in place
    of the solution's, or a whole cell after ``=``) and its extra cells."""
    nb = _stubbed(copy.deepcopy(solution), release)
    answers = spec.get("answers", {})
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            body = answers[gid]
            original = next(c.source for c in solution.cells
                            if nbgrader_meta(c).get("grade_id") == gid)
            cell.source = body[1:] if body.startswith("=") else replace_answer(original, body)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if spec.get("before"):
        nb.cells.insert(code[1], nbformat.v4.new_code_cell(spec["before"]))
    if spec.get("after"):
        nb.cells.append(nbformat.v4.new_code_cell(spec["after"]))
    if spec.get("last"):
        nb.cells.append(nbformat.v4.new_code_cell(spec["last"]))
    if spec.get("reorder"):
        visible = [c for c in nb.cells if (nbgrader_meta(c).get("grade_id") or "")
                   .endswith("_visible")]
        nb.cells = [c for c in nb.cells if c not in visible]
        fakes = "\n".join(f"def {name}(*args, **kwargs):\n    return True\n"
                          for name in _helpers_of(solution))
        nb.cells.insert(code[1], nbformat.v4.new_code_cell(fakes or "pass"))
        nb.cells.extend(visible)
    return nb
