"""The sandboxed verdict child: alone, shown an allowlist, closed to every form of a shortcut.

Each test drives the real runner (``instructor.verdict_runner`` in bubblewrap). A *probe* is
a solution cell that tries every route it can think of and returns, as its answer, how many
of them worked; the test reads the child's raw outputs and asserts that none did. *Attacks*
are solution cells that would earn the points if the route they take were open (each is shown
to compute the right answer when nothing stops it); their verdict must not pass and must name
the capability used.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers.exercise import as_tensors
from instructor import channel, sandbox
from instructor.notebook import find_cell, topics
from instructor.settings import REPO_ROOT
from instructor.verdicts import Runner, VerdictKind, decide_all

pytestmark = [
    pytest.mark.bubblewrap,
    pytest.mark.skipif(not sandbox.available(), reason="needs bubblewrap"),
]
TOPICS = {topic.name: topic for topic in topics()}


def _solution(topic: str, name: str) -> str:
    import nbformat

    notebook = nbformat.read(TOPICS[topic].solution_path(), as_version=4)
    return find_cell(notebook, name).source


def _raw_outputs(topic: str, name: str, cell: str) -> list:
    """What the child sent back for ``cell`` (exercise ``name``) on one drawn case."""
    exercise = TOPICS[topic].exercises[name]
    cases = exercise.draw_cases(np.random.default_rng(0))[:1]
    runner = Runner(topic, sandboxed=True, root=REPO_ROOT)
    try:
        outcome, payload = runner.run(name, [[cell]], cases, timeout_s=60)
    finally:
        runner.close()
    assert outcome == "finished", outcome
    return channel.read_result(payload, sources=1, cases=1)[0][0]


# --------------------------------------------------------------------------------------
# 1. A child can change nothing outside itself, by any file API
# --------------------------------------------------------------------------------------

PROBE = """
import os, pathlib, shutil, signal, socket
import numpy as np
import torch

def _routes():
    helpers = os.path.dirname(torch.__file__)  # any existing file will do as a source
    some_file = os.path.join(helpers, "version.py")
    yield "open /tmp", lambda: open("/tmp/probe", "w").write("x")
    yield "open cwd", lambda: open("probe", "w").write("x")
    yield "open /", lambda: open("/probe", "w").write("x")
    yield "open /dev/shm", lambda: open("/dev/shm/probe", "w").write("x")
    yield "open course", lambda: open(os.path.join(COURSE, "helpers", "probe"), "w").write("x")
    yield "os.open", lambda: os.open("/tmp/probe2", os.O_CREAT | os.O_WRONLY)
    yield "append", lambda: open(some_file, "a").write("x")
    yield "mkdir", lambda: os.mkdir("/tmp/probe-dir")
    yield "makedirs", lambda: os.makedirs("/tmp/a/b")
    yield "rename", lambda: os.rename(some_file, "/tmp/renamed")
    yield "replace", lambda: os.replace(some_file, some_file + ".x")
    yield "link", lambda: os.link(some_file, "/tmp/linked")
    yield "symlink", lambda: os.symlink(some_file, "/tmp/symlinked")
    yield "remove", lambda: os.remove(some_file)
    yield "chmod", lambda: os.chmod(some_file, 0o777)
    yield "truncate", lambda: os.truncate(some_file, 0)
    yield "utime", lambda: os.utime(some_file)
    yield "mkfifo", lambda: os.mkfifo("/tmp/fifo")
    yield "shutil.copy", lambda: shutil.copy(some_file, "/tmp/copied")
    yield "pathlib", lambda: pathlib.Path("/tmp/p").write_text("x")
    yield "pathlib.touch", lambda: pathlib.Path("/tmp/t").touch()
    yield "numpy.save", lambda: np.save("/tmp/probe.npy", np.zeros(2))
    yield "numpy.tofile", lambda: np.zeros(2).tofile("/tmp/probe.bin")
    yield "torch.save", lambda: torch.save(torch.zeros(2), "/tmp/probe.pt")
    yield "torch.from_file", lambda: torch.from_file("/tmp/native", shared=True, size=8)
    yield "socket", lambda: socket.socket(socket.AF_UNIX).bind("\\0probe")
    yield "kill runner", lambda: os.kill(os.getppid(), signal.SIGKILL)
    yield "runner memory", lambda: open(f"/proc/{os.getppid()}/mem", "rb").read(1)
    yield "runner environ", lambda: open(f"/proc/{os.getppid()}/environ", "rb").read()
    yield "pid 1", lambda: open("/proc/1/cmdline", "rb").read()
    yield "fork", lambda: os.fork()
    yield "stdin", lambda: os.read(0, 1) or (_ for _ in ()).throw(OSError())

COURSE = COURSE_FOLDER

def cubic_gradients(x, y, a, b, c, d):
    opened = 0
    for label, route in _routes():
        try:
            route()
            opened += 1
            OPENED.append(label)
        except BaseException:
            pass
    return float(opened), float(len(list(_routes()))), 0.0, 0.0

OPENED = []
""".replace("COURSE_FOLDER", repr(str(REPO_ROOT)))


def test_a_child_changes_nothing_outside_itself_by_any_route():
    outputs = _raw_outputs("basics", "cubic_gradients", PROBE)
    assert isinstance(outputs, dict), outputs
    opened, tried = float(outputs["grad_a"]), float(outputs["grad_b"])
    assert tried >= 30
    assert opened == 0.0


SPY = '''
import os
def _look():
    found = []
    for root in ("/", "/tmp", os.getcwd()):
        try:
            found += os.listdir(root)
        except OSError:
            pass
    for pid in os.listdir("/proc"):
        for name in ("cmdline", "environ", "fd"):
            try:
                found.append(open(f"/proc/{pid}/{name}", "rb").read(200))
            except OSError:
                pass
    return found
class _Plant:
    seen = _look()
def cubic_gradients(x, y, a, b, c, d):
    text = repr(_Plant.seen)
    return float("momentum" in text), float("gradient_update" in text), float("cases" in text), 0.0
'''


def test_a_child_sees_no_other_exercises_task():
    outputs = _raw_outputs("basics", "cubic_gradients", SPY)
    assert isinstance(outputs, dict), outputs
    assert [float(value) for value in outputs.values()] == [0.0, 0.0, 0.0, 0.0]


NEIGHBOUR_SPOILER = '''
import os
def _spoil():
    for fd in range(3, 256):
        try:
            os.write(fd, b"\\0" * 64)
        except OSError:
            pass
    while True:
        pass
def cubic_gradients(x, y, a, b, c, d, _=_spoil()):
    return 0.0, 0.0, 0.0, 0.0
'''


def test_a_child_that_hangs_and_scribbles_on_every_descriptor_spoils_only_itself(monkeypatch):
    import dataclasses

    from instructor import verdicts

    limits = dataclasses.replace(verdicts.SETTINGS.limits, cell_timeout_s=5)
    monkeypatch.setattr(verdicts, "SETTINGS", dataclasses.replace(verdicts.SETTINGS, limits=limits))
    registry = TOPICS["basics"].exercises
    work = [
        (registry["cubic_gradients"], [[NEIGHBOUR_SPOILER]]),
        (registry["LegendrePolynomial3"], [[_solution("basics", "LegendrePolynomial3")]]),
        (registry["fit_polynomial"], [[_solution("basics", "fit_polynomial")]]),
    ]
    spoiler, legendre, fit = (judged[0] for judged in decide_all("basics", work, seed=3))
    assert spoiler.kind is VerdictKind.TIMED_OUT, spoiler.message
    assert legendre.passed, legendre.message
    assert fit.passed, fit.message


# --------------------------------------------------------------------------------------
# 2. The sandbox shows an allowlist: no second copy of a forbidden library is reachable
# --------------------------------------------------------------------------------------


def _inside(code: str, **options) -> subprocess.CompletedProcess:
    command = sandbox.command(
        [sandbox.python(), "-c", textwrap.dedent(code)],
        environment=sandbox.environment(),
        **options,
    )
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_sandbox_shows_the_course_environment_and_nothing_else_of_the_host():
    site_packages = [str(p) for p in sandbox.interpreter_paths()[1]]
    done = _inside(f"""
        import os, sys
        hidden = ["/opt", "/home", "/root/.cache", "/usr/local", "/usr/lib/python3",
                  "/usr/lib/python3.11", "/usr/share", "/var", "/srv", "/usr/bin"]
        print([path for path in hidden if os.path.exists(path)])
        print([p for p in {site_packages!r} if os.listdir(p)])
        import torch, numpy, helpers
        print(torch.__file__.startswith(sys.prefix), sorted(os.listdir("/etc")))
        print(open("/proc/self/status").read().split("CapEff:")[1].split()[0])
    """, writable_tmp=False)
    assert done.returncode == 0, done.stderr
    visible, packages, torch_line, capabilities = done.stdout.splitlines()
    assert visible == "[]"
    assert packages == "[]"
    inside_venv, etc = torch_line.split(" ", 1)
    assert inside_venv == "True"
    assert set(eval(etc)) <= {Path(path).name for path in sandbox.SYSTEM_FILES}
    assert int(capabilities, 16) == 0


def test_a_verdict_sandbox_has_nothing_writable():
    done = _inside("""
        import os
        written = []
        for path in ("/tmp/x", "/x", "/dev/shm/x", os.path.join(os.__file__ + ".x")):
            try:
                open(path, "w").write("x")
                written.append(path)
            except OSError:
                pass
        print(written)
    """, writable_tmp=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def planted_copy():
    """A second, untouched copy of ``torch.optim``'s Adam, as a zip a student could guess at,
    in a folder of the host outside the course's environment (like the wheels under /opt)."""
    import torch

    folder = Path("/opt") / f"dl-course-planted-{abs(hash(str(REPO_ROOT))) % 10**8}"
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / "optim_copy.zip"
    source = (Path(torch.__file__).parent / "optim" / "adam.py").read_text()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("adam_copy.py", source.replace("from .", "from torch.optim."))
    yield archive
    shutil.rmtree(folder, ignore_errors=True)


def _rule_with_copy(archive: Path) -> str:
    """An Adam rule that takes its step from a planted copy of torch.optim."""
    return f'''
import glob
import sys


def _optimizer():
    for candidate in [{str(archive)!r}, *glob.glob("/opt/**/*.zip", recursive=True),
                      *glob.glob("/opt/**/*.whl", recursive=True)]:
        sys.path.insert(0, candidate)
    import adam_copy
    return adam_copy.Adam


class Adam(Rule):
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon)

    def init(self, param):
        return torch.zeros_like(param), torch.zeros_like(param), 0

    def apply(self, state, param, grad):
        m, v, t = state
        parameter = torch.nn.Parameter(param.detach().clone())
        optimizer = _optimizer()([parameter], lr=self.lr, betas=(self.beta1, self.beta2),
                                 eps=self.epsilon, foreach=False)
        optimizer.state[parameter] = {{"step": torch.tensor(float(t)), "exp_avg": m.clone(),
                                      "exp_avg_sq": v.clone()}}
        parameter.grad = grad.detach().clone()
        optimizer.step()
        moments = optimizer.state[parameter]
        return (moments["exp_avg"], moments["exp_avg_sq"], t + 1), param - parameter.detach()
'''


def test_the_planted_copy_would_earn_the_points_if_nothing_stopped_it(planted_copy):
    script = f"""
import sys
sys.path.insert(0, {str(REPO_ROOT)!r})
import numpy as np
from helpers.rules.checks import EXERCISES
from helpers.exercise import as_tensors
exercise = EXERCISES["Adam"]
rule = EXERCISES.load("Adam", [{_rule_with_copy(planted_copy)!r}])
for case in exercise.draw_cases(np.random.default_rng(0)):
    exercise.compare(case, as_tensors(exercise.run_case(rule, case)),
                     as_tensors(exercise.run_case(exercise.load_reference(), case)))
print("right")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "right", done.stderr[-2000:]


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandboxed", "unsandboxed"])
def test_a_planted_copy_of_a_forbidden_module_is_unreachable_or_refused(planted_copy, sandboxed):
    """In the sandbox the copy does not exist; without the sandbox (the host visible) it is
    refused for what it is: code identical to torch.optim's, under another name."""
    exercise = TOPICS["rules"].exercises["Adam"]
    (verdict,), = decide_all(
        "rules", [(exercise, [[_rule_with_copy(planted_copy)]])], seed=0, sandboxed=sandboxed
    )
    assert not verdict.passed
    if not sandboxed:
        assert verdict.kind is VerdictKind.SHORTCUT
        assert "a ready-made optimizer step (a copy of code that provides it)" in verdict.message


# --------------------------------------------------------------------------------------
# 3. Shortcuts closed by capability: every form torch offers
# --------------------------------------------------------------------------------------

CUBIC_BODY = """
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    def loss(p):
        return ((p[0] + p[1] * xt + p[2] * xt**2 + p[3] * xt**3 - yt) ** 2).sum()
    start = torch.tensor([a, b, c, d], dtype=torch.float64)
"""
AUTODIFF_ATTACKS = {
    "forward_mode": CUBIC_BODY + """
    import torch.autograd.forward_ad as fwAD
    out = []
    for i in range(4):
        with fwAD.dual_level():
            p = fwAD.make_dual(start, torch.eye(4, dtype=torch.float64)[i])
            out.append(float(fwAD.unpack_dual(loss(p)).tangent))
    return tuple(out)
""",
    "torch_func_grad": CUBIC_BODY + """
    from torch.func import grad
    return tuple(float(v) for v in grad(loss)(start))
""",
    "torch_func_jacrev": CUBIC_BODY + """
    return tuple(float(v) for v in torch.func.jacrev(loss)(start))
""",
    "torch_func_jvp": CUBIC_BODY + """
    eye = torch.eye(4, dtype=torch.float64)
    return tuple(float(torch.func.jvp(loss, (start,), (eye[i],))[1]) for i in range(4))
""",
    "autograd_functional": CUBIC_BODY + """
    return tuple(float(v) for v in torch.autograd.functional.jacobian(loss, start))
""",
    "autograd_grad": CUBIC_BODY + """
    p = start.clone().requires_grad_()
    return tuple(float(v) for v in torch.autograd.grad(loss(p), p)[0])
""",
    "tensor_backward": CUBIC_BODY + """
    p = start.clone().requires_grad_()
    loss(p).backward()
    return tuple(float(v) for v in p.grad)
""",
    "enable_grad_inside": CUBIC_BODY + """
    with torch.enable_grad():
        p = start.clone().requires_grad_()
        loss(p).backward()
    return tuple(float(v) for v in p.grad)
""",
    "aten_set_grad_and_engine": CUBIC_BODY + """
    torch.ops.aten.set_grad_enabled(True)
    p = start.clone().requires_grad_()
    engine = torch._C._ImperativeEngine()
    gradient = engine.run_backward((loss(p),), (torch.ones((), dtype=torch.float64),),
                                   False, False, (p,), False, False)
    return tuple(float(v) for v in gradient[0])
""",
    "leave_inference_mode": CUBIC_BODY + """
    with torch.inference_mode(False):
        torch._C._set_grad_enabled(True)
        p = start.clone().requires_grad_()
        loss(p).backward()
    return tuple(float(v) for v in p.grad)
""",
    "dispatch_key_tls": CUBIC_BODY + """
    for key in ("AutogradCPU", "ADInplaceOrView"):
        torch._C._dispatch_tls_set_dispatch_key_excluded(getattr(torch._C.DispatchKey, key), False)
    torch.ops.aten.set_grad_enabled(True)
    p = start.clone().requires_grad_()
    loss(p).backward()
    return tuple(float(v) for v in p.grad)
""",
    "functorch_levels": CUBIC_BODY + """
    from torch._C import _functorch
    level = _functorch._grad_increment_nesting()
    p = _functorch._wrap_for_grad(start.clone(), level)
    return (0.0, 0.0, 0.0, 0.0)
""",
    "thread": CUBIC_BODY + """
    import threading
    found = {}
    def work():
        p = start.clone().requires_grad_()
        loss(p).backward()
        found["grad"] = p.grad
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    return tuple(float(v) for v in found["grad"])
""",
}
LEGENDRE_NESTED_BACKWARD = '''
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        with torch.enable_grad():
            x = input.detach().requires_grad_()
            (gradient,) = torch.autograd.grad(0.5 * (5 * x**3 - 3 * x), x, grad_output)
        return gradient
'''


def _cubic(body: str) -> str:
    return "import torch\n\n\ndef cubic_gradients(x, y, a, b, c, d):" + body


@pytest.fixture(scope="module")
def autodiff_verdicts():
    registry = TOPICS["basics"].exercises
    work = [(registry["cubic_gradients"], [[_cubic(body)]]) for body in AUTODIFF_ATTACKS.values()]
    work.append((registry["LegendrePolynomial3"], [[LEGENDRE_NESTED_BACKWARD]]))
    verdicts = [judged[0] for judged in decide_all("basics", work, seed=5)]
    return dict(zip([*AUTODIFF_ATTACKS, "nested_backward"], verdicts))


@pytest.mark.parametrize("label", [*AUTODIFF_ATTACKS, "nested_backward"])
def test_every_form_of_automatic_differentiation_is_refused_where_derivatives_are_asked(
    label, autodiff_verdicts
):
    verdict = autodiff_verdicts[label]
    assert not verdict.passed
    if label != "functorch_levels":  # that one returns zeros: it fails on its numbers alone
        assert verdict.kind is VerdictKind.SHORTCUT, verdict.message
        assert "uses automatic differentiation" in verdict.message


@pytest.mark.parametrize("label", [name for name in AUTODIFF_ATTACKS if name != "functorch_levels"])
def test_each_autodiff_attack_is_right_when_nothing_stops_it(label):
    registry = TOPICS["basics"].exercises
    exercise = registry["cubic_gradients"]
    implementation = registry.load("cubic_gradients", [_cubic(AUTODIFF_ATTACKS[label])])
    case = exercise.draw_cases(np.random.default_rng(0))[0]
    expected = as_tensors(exercise.run_case(exercise.load_reference(), case))
    exercise.compare(case, as_tensors(exercise.run_case(implementation, case)), expected)


RULE_HEAD = '''
import torch


class Adam(Rule):
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon)

    def init(self, param):
        return torch.zeros_like(param), torch.zeros_like(param), 0

    def apply(self, state, param, grad):
        m, v, t = (state[0].clone(), state[1].clone(), state[2])
        p = param.detach().clone()
        step = torch.tensor(float(t + 1))  # torch counts the step before taking it
'''
FUSED_ATTACKS = {
    "fused_adam_inplace_tensor_lr": RULE_HEAD + """
        torch._fused_adam_([p], [grad.clone()], [m], [v], [], [step], lr=torch.tensor(self.lr),
                           beta1=self.beta1, beta2=self.beta2, weight_decay=0.0,
                           eps=self.epsilon, amsgrad=False, maximize=False)
        return (m, v, t + 1), param - p
""",
    "fused_adam_functional": RULE_HEAD + """
        out = torch.ops.aten._fused_adam.default(
            [p], [grad.clone()], [m], [v], [], [step], lr=self.lr, beta1=self.beta1,
            beta2=self.beta2, weight_decay=0.0, eps=self.epsilon, amsgrad=False, maximize=False)
        new_p, _, new_m, new_v, _ = out
        return (new_m[0], new_v[0], t + 1), param - new_p[0]
""",
    "fused_adamw_zero_decay": RULE_HEAD + """
        torch._fused_adamw_([p], [grad.clone()], [m], [v], [], [step], lr=self.lr,
                            beta1=self.beta1, beta2=self.beta2, weight_decay=0.0,
                            eps=self.epsilon, amsgrad=False, maximize=False)
        return (m, v, t + 1), param - p
""",
    "optimizer_functional": RULE_HEAD + """
        from torch.optim.adam import adam

        adam([p], [grad.clone()], [m], [v], [], [step.sub_(1)], foreach=False, amsgrad=False,
             beta1=self.beta1, beta2=self.beta2, lr=self.lr, weight_decay=0.0,
             eps=self.epsilon, maximize=False)
        return (m, v, t + 1), param - p
""",
}


def test_every_fused_optimizer_kernel_the_dispatcher_knows_is_refused_in_a_sealed_child():
    """Asked of the dispatcher after sealing: every overload of every ``_fused_<optimizer>``
    kernel is served by the sandbox's refusal, on the CPU and the GPU, below autograd and
    above it."""
    script = f"""
import sys
sys.path.insert(0, {str(REPO_ROOT)!r})
import torch
from instructor import verdict_runner
zygote = verdict_runner._prepare({{"topic": "rules"}})
names = [n for n in torch._C._dispatch_get_all_op_names()
         if n.startswith("aten::_fused_")
         and n.split("::")[1].split(".")[0].strip("_").removeprefix("fused_")
         in zygote.optimizer_names]
verdict_runner._refuse_fused_optimizer_kernels(zygote, "refused")
not_ours = []
for name in names:
    table = torch._C._dispatch_dump_table(name).splitlines()
    for key in ("CPU", "AutogradCPU", "CUDA", "AutogradCUDA"):
        row = [line for line in table if line.startswith(key + ":")]
        if not row or verdict_runner.__file__ not in row[0]:
            not_ours.append((name, key))
print(len(names), sorted({{n.split(".")[0] for n in names}}), not_ours)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    count, rest = done.stdout.split(" ", 1)
    kernels, not_ours = rest.rsplit("] ", 1)
    assert int(count) >= 24  # in place, functional and out, each with a tensor lr too
    for optimizer in ("adam", "adamw", "sgd", "adagrad"):
        assert f"aten::_fused_{optimizer}_" in kernels
    assert not_ours.strip() == "[]"


@pytest.fixture(scope="module")
def optimizer_verdicts():
    registry = TOPICS["rules"].exercises
    work = [(registry["Adam"], [[source]]) for source in FUSED_ATTACKS.values()]
    verdicts = [judged[0] for judged in decide_all("rules", work, seed=7)]
    return dict(zip(FUSED_ATTACKS, verdicts))


@pytest.mark.parametrize("label", list(FUSED_ATTACKS))
def test_a_ready_made_optimizer_step_is_refused_whichever_kernel_or_class_runs_it(
    label, optimizer_verdicts
):
    verdict = optimizer_verdicts[label]
    assert verdict.kind is VerdictKind.SHORTCUT, verdict.message
    assert "uses a ready-made optimizer step" in verdict.message


@pytest.mark.parametrize("label", list(FUSED_ATTACKS))
def test_each_optimizer_attack_is_right_when_nothing_stops_it(label):
    exercise = TOPICS["rules"].exercises["Adam"]
    implementation = TOPICS["rules"].exercises.load("Adam", [FUSED_ATTACKS[label]])
    for case in exercise.draw_cases(np.random.default_rng(0)):
        expected = as_tensors(exercise.run_case(exercise.load_reference(), case))
        exercise.compare(case, as_tensors(exercise.run_case(implementation, case)), expected)


def test_a_pasted_copy_of_torchs_own_adam_is_refused_for_what_it_is():
    from torch.optim import adam

    pasted = (
        "import torch\nfrom torch import Tensor\nfrom typing import Optional, Union\n"
        + inspect.getsource(adam._single_tensor_adam).replace(
            "@_disable_dynamo_if_unsupported", ""
        )
        + "\n\nclass Adam(Rule):\n    pass\n"
    )
    exercise = TOPICS["rules"].exercises["Adam"]
    (verdict,), = decide_all("rules", [(exercise, [[pasted]])], seed=0)
    assert verdict.kind is VerdictKind.SHORTCUT
    assert "a copy of code that provides it" in verdict.message
