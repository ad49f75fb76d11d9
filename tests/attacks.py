"""Attacks on the autograder, as data for ``test_adversarial.py``.

Each ``Attack`` is one student submission built from the release of its notebook (03 unless
it says otherwise): it replaces solution cells (found by ``grade_id``) and/or inserts code
cells (after the cell with a given ``grade_id``, or after the setup cells with ``SETUP``).
Every exercise an attack does not replace keeps the release's ``raise NotImplementedError()``,
so an attacker has solved nothing honestly: each attack must leave its ``targets`` at 0 points
(``expect="zero"``) or, for the constructs only a human can judge, be named in the status
(``expect="flagged"``).

``live`` marks the shortcut attacks that compute the right answer when nothing stops them
(checked in-process, so that an attack does not "fail" for a silly reason of its own).

Classes: ``kernel`` switches the checks off inside the student's kernel; ``shortcut`` hides
a call to the reference or to torch.optim; ``isolation`` reaches outside the sandbox;
``hidden`` tries to read the hidden tests; ``neighbours`` has one exercise's verdict child
reach another's; ``copy`` loads an untouched second copy of a forbidden library;
``capability`` reaches a forbidden capability by a route no list of names covers (another
kernel overload, another form of automatic differentiation); ``channel`` hands the grader
something meant to make it raise or swell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ASSIGNMENT = "03_optimization"
NOTEBOOK = "optimization.ipynb"
BASICS = "01_pytorch_basics"
RULES = "04_optimizer_rules"
EXERCISES = (
    "gradient_update",
    "momentum_update",
    "momentum_hyperparameters",
    "sample_minibatch",
    "rmsprop_update",
)
SETUP = "<setup>"  # insert after the release's setup cells
INSERTED = "<inserted>"
# In the command line of every process an attack starts, so that survivors can be found.
MARKER = "adv-daemon-7f3c"
# Environment variables only the grader has; no output of a student's kernel may show one.
GRADER_VARIABLES = ("COURSE_VERDICT_REPORTS", "COURSE_RELEASE_ROOT")


KINDS = ("kernel", "shortcut", "isolation", "hidden", "neighbours", "copy", "capability",
         "channel")


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # one of KINDS
    targets: tuple[str, ...]
    replace: dict[str, str] = field(default_factory=dict)  # grade_id -> new cell source
    insert: tuple[tuple[str, str], ...] = ()  # (after grade_id or SETUP, new cell source)
    # nbgrader metadata written over cells (by grade_id; "<inserted>" for the inserted cells)
    metadata: dict[str, dict] = field(default_factory=dict)
    expect: str = "zero"  # or "flagged"
    live: bool = False
    assignment: str = ASSIGNMENT
    status: str = ""  # what the row's status must say, where the grader names the attack


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------

SIGNATURES = {
    "gradient_update": "(loss, params, lr=1e-3)",
    "momentum_update": "(loss, params, grad_vel, lr=1e-3, beta=0.8)",
    "momentum_hyperparameters": "(eigenvalues)",
    "sample_minibatch": "(input_data, target_data, num_points=100)",
    "rmsprop_update": "(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8)",
}
ARGUMENTS = {
    "gradient_update": "loss, params, lr",
    "momentum_update": "loss, params, grad_vel, lr, beta",
    "momentum_hyperparameters": "eigenvalues",
    "sample_minibatch": "input_data, target_data, num_points",
    "rmsprop_update": "loss, params, grad_sq, lr, alpha, epsilon",
}

# Wrong answers that a kernel-side trick would have to pass off as right.
STUBS = {
    "gradient_update": "def gradient_update(loss, params, lr=1e-3):\n    pass\n",
    "momentum_update": "def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):\n"
    "    pass\n",
    "momentum_hyperparameters": "def momentum_hyperparameters(eigenvalues):\n"
    "    return 1.0, 1.0, 1.0, 0.5\n",
    "sample_minibatch": "def sample_minibatch(input_data, target_data, num_points=100):\n"
    "    return input_data[:num_points], target_data[:num_points]\n",
    "rmsprop_update": "def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, "
    "epsilon=1e-8):\n    pass\n",
}


def _stubs() -> dict[str, str]:
    return dict(STUBS)


def _reference_calls() -> dict[str, str]:
    """Every exercise answered by importing the reference."""
    return {
        name: f"from helpers.optimization.reference import {name} as _reference\n\n\n"
        f"def {name}{SIGNATURES[name]}:\n    return _reference({ARGUMENTS[name]})\n"
        for name in EXERCISES
    }


def _class_body(code: str, name: str) -> str:
    """A solution cell whose class body runs ``code`` when the grader loads the definitions."""
    indented = "".join(f"    {line}\n" if line else "\n" for line in code.splitlines())
    return f"class _AtDefinition:\n{indented}\n\n{STUBS[name]}"


ALL = EXERCISES

# --------------------------------------------------------------------------------------
# 1. Switching the checks off inside the kernel
# --------------------------------------------------------------------------------------

KERNEL = [
    Attack(
        "kernel_replaces_reference_functions",
        "kernel",
        ALL,
        replace=_stubs(),
        insert=(
            (
                SETUP,
                "import helpers.optimization.reference as _ref\n"
                "for _name in ('gradient_update', 'momentum_update', 'rmsprop_update'):\n"
                "    setattr(_ref, _name, lambda *args, **kwargs: None)\n"
                "_ref.sample_minibatch = lambda x, y, n=100: (x[:n], y[:n])\n"
                "_ref.momentum_hyperparameters = lambda eigenvalues: (1.0, 1.0, 1.0, 0.5)\n",
            ),
        ),
    ),
    Attack(
        "kernel_disables_assert_close_and_compare",
        "kernel",
        ALL,
        replace=_stubs(),
        insert=(
            (
                SETUP,
                "import helpers.checking\n"
                "import helpers.exercise\n"
                "import helpers.optimization.checks as _checks\n"
                "_quiet = lambda *args, **kwargs: None\n"
                "helpers.checking.assert_close = helpers.checking.compare_outputs = _quiet\n"
                "helpers.exercise.compare_outputs = _checks.compare_outputs = _quiet\n"
                "_checks.compare_minibatch_case = _checks._sampled_rows = _quiet\n"
                "_checks.compare_hyperparameter_case = _quiet\n"
                "for _exercise in _checks.EXERCISES.values():\n"
                "    object.__setattr__(_exercise, 'compare', _quiet)\n"
                "for _rule in (_checks.GRADIENT_UPDATE, _checks.MOMENTUM_UPDATE,\n"
                "              _checks.RMSPROP_UPDATE):\n"
                "    object.__setattr__(_rule, 'compare', _quiet)\n",
            ),
        ),
    ),
    Attack(
        "kernel_replaces_check_functions",
        "kernel",
        ALL,
        insert=(
            (
                SETUP,
                "import helpers.exercise\n"
                "import helpers.optimization.checks as _checks\n"
                "def _passed(name, implementation):\n"
                "    print(f'Well done: `{name}` passed every hidden check.')\n"
                # The names are spelled in pieces: the feedback test looks for the hidden
                # check's name, which an attack's own source must not contain.
                "_hidden = 'hidden' + '_check'\n"
                "for _name in ('self_check', _hidden):\n"
                "    setattr(_checks, _name, _passed)\n"
                "    setattr(helpers.exercise.Registry, _name,\n"
                "            lambda self, n, f: _passed(n, f))\n"
                "for _name in ('run_self_check', 'run_' + _hidden):\n"
                "    setattr(helpers.exercise.Exercise, _name,\n"
                "            lambda self, f, seed=None: _passed(self.name, f))\n",
            ),
        ),
    ),
    Attack(
        "kernel_disables_no_shortcuts_and_calls_reference",
        "kernel",
        ALL,
        replace=_reference_calls(),
        insert=(
            (
                SETUP,
                "import contextlib\n"
                "import helpers.checking\n"
                "import helpers.exercise\n"
                "import helpers.optimization.checks as _checks\n"
                "@contextlib.contextmanager\n"
                "def _blind(*args, **kwargs):\n"
                "    yield\n"
                "helpers.checking.no_shortcuts = helpers.exercise.no_shortcuts = _blind\n"
                "_checks.no_shortcuts = _blind\n",
            ),
        ),
    ),
    Attack(
        "kernel_disables_setprofile_and_calls_reference",
        "kernel",
        ALL,
        replace=_reference_calls(),
        insert=((SETUP, "import sys\nsys.setprofile = lambda profiler: None\n"),),
    ),
    Attack(
        "kernel_input_transformer_empties_test_cells",
        "kernel",
        ALL,
        insert=(
            (
                SETUP,
                "def _empty_checks(lines):\n"
                "    if any('checks.' in line for line in lines):\n"
                "        return ['print(\"Well done: every check passed.\")\\n']\n"
                "    return lines\n"
                "get_ipython().input_transformers_post.append(_empty_checks)\n",
            ),
        ),
    ),
    Attack(
        "kernel_ast_transformer_swallows_every_error",
        "kernel",
        ALL,
        insert=(
            (
                SETUP,
                "import ast\n"
                "class _Swallow(ast.NodeTransformer):\n"
                "    def visit_Module(self, node):\n"
                "        handler = ast.ExceptHandler(\n"
                "            type=ast.Name('BaseException', ast.Load()), name=None,\n"
                "            body=[ast.Pass()])\n"
                "        node.body = [ast.Try(body=node.body or [ast.Pass()],\n"
                "                             handlers=[handler], orelse=[], finalbody=[])]\n"
                "        return ast.fix_missing_locations(node)\n"
                "get_ipython().ast_transformers.append(_Swallow())\n",
            ),
        ),
    ),
    Attack(
        "kernel_run_cell_replaces_test_cells",
        "kernel",
        ALL,
        insert=(
            (
                SETUP,
                "_ip = get_ipython()\n"
                "_run_cell, _run_cell_async = _ip.run_cell, _ip.run_cell_async\n"
                "_FAKE = 'print(\"Well done: every check passed.\")'\n"
                "def _swap(raw_cell):\n"
                "    return _FAKE if 'checks.' in raw_cell else raw_cell\n"
                "def _patched(raw_cell, *args, **kwargs):\n"
                "    return _run_cell(_swap(raw_cell), *args, **kwargs)\n"
                "async def _patched_async(raw_cell, *args, **kwargs):\n"
                "    return await _run_cell_async(_swap(raw_cell), *args, **kwargs)\n"
                "_ip.run_cell, _ip.run_cell_async = _patched, _patched_async\n",
            ),
        ),
    ),
    Attack(
        "kernel_hides_tracebacks_and_prints_fake_success",
        "kernel",
        ALL,
        insert=(
            (
                SETUP,
                "import sys\n"
                "_ip = get_ipython()\n"
                "_ip.showtraceback = lambda *args, **kwargs: print('Well done: passed.')\n"
                "_ip.showsyntaxerror = _ip.showtraceback\n"
                "sys.excepthook = lambda *args: None\n"
                "sys.stderr = sys.stdout\n",
            ),
        ),
    ),
    Attack(
        "kernel_forges_test_cell_metadata",
        "kernel",
        ALL,
        replace={"test_gradient_update": "print('Well done: passed every hidden check.')"},
        insert=(("gradient_update", "print('Well done: bonus.')"),),
        metadata={
            "test_gradient_update": {"points": 100, "locked": False},
            INSERTED: {
                "grade": True,
                "grade_id": "test_bonus",
                "locked": True,
                "points": 50,
                "schema_version": 3,
                "solution": False,
                "task": False,
            },
        },
    ),
]

# --------------------------------------------------------------------------------------
# 2. Hiding a shortcut
# --------------------------------------------------------------------------------------

SHORTCUT = [
    Attack(
        "reference_called_directly",
        "shortcut",
        ("gradient_update",),
        replace={"gradient_update": _reference_calls()["gradient_update"]},
        live=True,
    ),
    Attack(
        "reference_called_in_a_thread",
        "shortcut",
        ("momentum_update",),
        replace={
            "momentum_update": "import threading\n\n\n"
            "def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):\n"
            "    errors = []\n"
            "    def work():\n"
            "        try:\n"
            "            from helpers.optimization.reference import momentum_update as ref\n"
            "            ref(loss, params, grad_vel, lr, beta)\n"
            "        except BaseException as error:\n"
            "            errors.append(error)\n"
            "    thread = threading.Thread(target=work)\n"
            "    thread.start()\n"
            "    thread.join()\n"
            "    if errors:\n"
            "        raise errors[0]\n"
        },
        live=True,
    ),
    Attack(
        "reference_called_with_the_profiler_off",
        "shortcut",
        ("rmsprop_update",),
        replace={
            "rmsprop_update": "import sys\n\n\n"
            "def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):\n"
            "    profiler = sys.getprofile()\n"
            "    sys.setprofile(None)\n"
            "    try:\n"
            "        from helpers.optimization.reference import rmsprop_update as ref\n"
            "        ref(loss, params, grad_sq, lr, alpha, epsilon)\n"
            "    finally:\n"
            "        sys.setprofile(profiler)\n"
        },
        live=True,
    ),
    Attack(
        "reference_rebuilt_from_its_source_file",
        "shortcut",
        ("gradient_update",),
        replace={
            "gradient_update": "import builtins\n"
            "import helpers\n\n\n"
            "def gradient_update(loss, params, lr=1e-3):\n"
            "    path = helpers.__path__[0] + '/optimization/reference.py'\n"
            "    namespace = {'__name__': 'rebuilt'}\n"
            "    with builtins.open(path) as handle:\n"
            "        code = builtins.compile(handle.read(), path, 'exec')\n"
            "    builtins.exec(code, namespace)\n"
            "    namespace['gradient_update'](loss, params, lr)\n"
        },
        live=True,
    ),
    Attack(
        "reference_rebuilt_from_its_code_object",
        "shortcut",
        ("momentum_update",),
        replace={
            "momentum_update": "import types\n\n\n"
            "def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):\n"
            "    original = EXERCISES['momentum_update'].load_reference()\n"
            "    rebuilt = types.FunctionType(original.__code__, original.__globals__, 'copy')\n"
            "    rebuilt(loss, params, grad_vel, lr, beta)\n"
        },
        live=True,
    ),
    Attack(
        "reference_taken_from_a_callers_frame",
        "shortcut",
        ("rmsprop_update",),
        replace={
            "rmsprop_update": "import sys\n\n\n"
            "def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):\n"
            "    frame = sys._getframe(1)\n"
            "    while frame is not None:\n"
            "        for value in list(frame.f_locals.values()):\n"
            "            if (str(getattr(value, '__module__', '')).endswith('.reference')\n"
            "                    and getattr(value, '__name__', '') == 'rmsprop_update'):\n"
            "                return value(loss, params, grad_sq, lr, alpha, epsilon)\n"
            "        frame = frame.f_back\n"
            "    raise RuntimeError('no reference on the stack')\n"
        },
        live=True,
    ),
    Attack(
        "reference_found_through_gc",
        "shortcut",
        ("momentum_update",),
        replace={
            "momentum_update": "import gc\n\n\n"
            "def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):\n"
            "    for obj in gc.get_objects():\n"
            "        if (getattr(obj, '__module__', None) == 'helpers.optimization.reference'\n"
            "                and getattr(obj, '__name__', None) == 'momentum_update'):\n"
            "            return obj(loss, params, grad_vel, lr, beta)\n"
            "    raise RuntimeError('no reference in memory')\n"
        },
        live=True,
    ),
    Attack(
        "reference_brought_back_by_importlib_reload",
        "shortcut",
        ("sample_minibatch",),
        replace={
            "sample_minibatch": "import importlib\n"
            "import sys\n\n\n"
            "def sample_minibatch(input_data, target_data, num_points=100):\n"
            "    name = 'helpers.optimization.reference'\n"
            "    module = sys.modules.get(name) or importlib.import_module(name)\n"
            "    module = importlib.reload(module)\n"
            "    return module.sample_minibatch(input_data, target_data, num_points)\n"
        },
        live=True,
    ),
    Attack(
        "torch_optim_sgd",
        "shortcut",
        ("gradient_update",),
        replace={
            "gradient_update": "def gradient_update(loss, params, lr=1e-3):\n"
            "    optimizer = torch.optim.SGD(params, lr=lr)\n"
            "    optimizer.zero_grad()\n"
            "    loss.backward()\n"
            "    optimizer.step()\n"
        },
        live=True,
    ),
    Attack(
        "torch_optim_functional_sgd_with_momentum",
        "shortcut",
        ("momentum_update",),
        replace={
            "momentum_update": "from torch.optim import _functional\n\n\n"
            "def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    with torch.no_grad():\n"
            "        # torch keeps b = -v / lr: v <- beta v - lr g is b <- beta b + g\n"
            "        buffers = [-v / lr for v in grad_vel]\n"
            "        _functional.sgd(params, [p.grad for p in params], buffers,\n"
            "                        foreach=False, weight_decay=0.0, momentum=beta, lr=lr,\n"
            "                        dampening=0.0, nesterov=False, maximize=False)\n"
            "        for v, b in zip(grad_vel, buffers):\n"
            "            v.copy_(-lr * b)\n"
        },
        live=True,
    ),
    Attack(
        "torch_optim_functional_rmsprop_in_a_thread",
        "shortcut",
        ("rmsprop_update",),
        replace={
            "rmsprop_update": "import threading\n"
            "from torch.optim import _functional\n\n\n"
            "def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    errors = []\n"
            "    def work():\n"
            "        try:\n"
            "            with torch.no_grad():\n"
            "                # eps inside the root: keep b = v + eps / alpha and use eps = 0\n"
            "                shifted = [v + epsilon / alpha for v in grad_sq]\n"
            "                _functional.rmsprop(\n"
            "                    params, [p.grad for p in params], shifted, [], [],\n"
            "                    [torch.tensor(0.0) for _ in params], foreach=False, lr=lr,\n"
            "                    alpha=alpha, eps=0.0, weight_decay=0.0, momentum=0.0,\n"
            "                    centered=False)\n"
            "                for v, b in zip(grad_sq, shifted):\n"
            "                    v.copy_(b - epsilon)\n"
            "        except BaseException as error:\n"
            "            errors.append(error)\n"
            "    thread = threading.Thread(target=work)\n"
            "    thread.start()\n"
            "    thread.join()\n"
            "    if errors:\n"
            "        raise errors[0]\n"
        },
        live=True,
    ),
    Attack(
        "torch_fused_sgd_kernel",
        "shortcut",
        ("gradient_update",),
        replace={
            "gradient_update": "def gradient_update(loss, params, lr=1e-3):\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    with torch.no_grad():\n"
            "        torch._fused_sgd_(params, [p.grad for p in params], [],\n"
            "                          weight_decay=0.0, momentum=0.0, lr=lr, dampening=0.0,\n"
            "                          nesterov=False, maximize=False, is_first_step=False)\n"
        },
        live=True,
    ),
    Attack(
        "torch_ops_aten_fused_sgd",
        "shortcut",
        ("gradient_update",),
        replace={
            "gradient_update": "def gradient_update(loss, params, lr=1e-3):\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    with torch.no_grad():\n"
            "        torch.ops.aten._fused_sgd_.default(\n"
            "            params, [p.grad for p in params], [], weight_decay=0.0,\n"
            "            momentum=0.0, lr=lr, dampening=0.0, nesterov=False, maximize=False,\n"
            "            is_first_step=False)\n"
        },
        live=True,
    ),
    Attack(
        "torch_ops_aten_functional_fused_sgd",
        "shortcut",
        ("gradient_update",),
        replace={
            "gradient_update": "def gradient_update(loss, params, lr=1e-3):\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    with torch.no_grad():\n"
            "        new = torch.ops.aten._fused_sgd.default(\n"
            "            params, [p.grad for p in params], [], weight_decay=0.0,\n"
            "            momentum=0.0, lr=lr, dampening=0.0, nesterov=False, maximize=False,\n"
            "            is_first_step=False)[0]\n"
            "        for p, q in zip(params, new):\n"
            "            p.copy_(q)\n"
        },
        live=True,
    ),
    Attack(
        # The loader of torch.optim runs its source again: fresh functions, none disabled.
        "torch_optim_re_executed_by_its_own_loader",
        "shortcut",
        ("gradient_update",),
        replace={
            "gradient_update": "import sys\n"
            "from torch.optim import optimizer as _optimizer\n"
            "from torch.optim import sgd as _sgd\n\n\n"
            "def gradient_update(loss, params, lr=1e-3):\n"
            "    sys.pycache_prefix = '/nonexistent'  # no cached bytecode: compile the source\n"
            "    for module in (_optimizer, _sgd):\n"
            "        module.__loader__.exec_module(module)\n"
            "    optimizer = _sgd.SGD(params, lr=lr)\n"
            "    optimizer.zero_grad()\n"
            "    loss.backward()\n"
            "    optimizer.step()\n"
        },
        # Not checked in-process: it would replace torch.optim's classes in the test process.
        live=False,
    ),
    Attack(
        "torch_optim_functions_rebuilt_from_their_source_file",
        "shortcut",
        ("gradient_update",),
        replace={
            "gradient_update": "import __future__\n"
            "import ast\n"
            "import builtins\n"
            "import linecache\n"
            "from torch.optim import optimizer as _optimizer\n"
            "from torch.optim import sgd as _sgd\n\n\n"
            "def _from_source(module, name, namespace):\n"
            "    tree = ast.parse(''.join(linecache.getlines(module.__file__)))\n"
            "    tree.body = [n for n in tree.body\n"
            "                 if isinstance(n, ast.FunctionDef) and n.name == name]\n"
            "    for node in tree.body:\n"
            "        node.decorator_list = []\n"
            "    flags = __future__.annotations.compiler_flag\n"
            "    code = builtins.compile(tree, module.__file__, 'exec', flags=flags)\n"
            "    builtins.exec(code, namespace)\n\n\n"
            "def gradient_update(loss, params, lr=1e-3):\n"
            "    namespace = {'torch': torch, 'Tensor': torch.Tensor}\n"
            "    _from_source(_optimizer, '_to_scalar', namespace)\n"
            "    _from_source(_sgd, '_single_tensor_sgd', namespace)\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    with torch.no_grad():\n"
            "        namespace['_single_tensor_sgd'](\n"
            "            params, [p.grad for p in params], [None] * len(params), None, None,\n"
            "            weight_decay=0.0, momentum=0.0, lr=lr, dampening=0.0,\n"
            "            nesterov=False, maximize=False, has_sparse_grad=False)\n"
        },
        live=True,
    ),
    Attack(
        # Notebook 04's library implements RMSprop with epsilon inside the root.
        "another_notebooks_helpers_implement_the_exercise",
        "shortcut",
        ("rmsprop_update",),
        replace={
            "rmsprop_update": "from helpers.rules.protocol import RMSProp\n\n\n"
            "def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    rule = RMSProp(lr=lr, alpha=alpha, epsilon=epsilon, epsilon_inside=True)\n"
            "    with torch.no_grad():\n"
            "        for p, v in zip(params, grad_sq):\n"
            "            average, step = rule.apply(v, p, p.grad)\n"
            "            v.copy_(average)\n"
            "            p.sub_(step)\n"
        },
        live=True,
    ),
    Attack(
        # The notebook's own landscape helper computes what the exercise asks for.
        "own_notebooks_helpers_implement_the_exercise",
        "shortcut",
        ("momentum_hyperparameters",),
        replace={
            "momentum_hyperparameters": "from helpers.optimization.landscape import Curvature\n\n\n"
            "def momentum_hyperparameters(eigenvalues):\n"
            "    curvature = Curvature((min(eigenvalues), max(eigenvalues)))\n"
            "    return (curvature.condition_number, curvature.gd_step,\n"
            "            curvature.momentum_step, curvature.momentum_beta)\n"
        },
        live=True,
    ),
    Attack(
        "reference_captured_in_a_default_argument",
        "shortcut",
        ("momentum_update",),
        replace={
            "momentum_update": "def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8,\n"
            "                    _ref=EXERCISES['momentum_update'].load_reference()):\n"
            "    _ref(loss, params, grad_vel, lr, beta)\n"
        },
        live=True,
    ),
    Attack(
        "decorator_swaps_in_the_reference",
        "shortcut",
        ("rmsprop_update",),
        replace={
            "rmsprop_update": "def _swap(function):\n"
            "    return EXERCISES[function.__name__].load_reference()\n\n\n"
            "@_swap\n"
            "def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):\n"
            "    raise NotImplementedError()\n"
        },
        live=True,
    ),
    Attack(
        "class_body_fetches_the_reference",
        "shortcut",
        ("sample_minibatch",),
        replace={
            "sample_minibatch": "class _Grab:\n"
            "    reference = EXERCISES['sample_minibatch'].load_reference()\n\n\n"
            "def sample_minibatch(input_data, target_data, num_points=100):\n"
            "    return _Grab.reference(input_data, target_data, num_points)\n"
        },
        live=True,
    ),
    Attack(
        # A lazy update whose outputs are saved as float16, hoping for a looser tolerance.
        "outputs_downcast_to_float16",
        "shortcut",
        ("momentum_update",),
        replace={
            "momentum_update": "import numpy as np\n\n\n"
            "def _half(save=np.savez):\n"
            "    def savez(file, **arrays):\n"
            "        return save(file, **{k: np.asarray(v, dtype=np.float16)\n"
            "                             for k, v in arrays.items()})\n"
            "    np.savez = savez\n\n\n"
            "def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8, _=_half()):\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    with torch.no_grad():\n"
            "        for p, v in zip(params, grad_vel):\n"
            "            p.sub_(lr * p.grad)\n"
        },
    ),
]

# --------------------------------------------------------------------------------------
# 3. No isolation
# --------------------------------------------------------------------------------------

# Tries to change every course file it can name, from the kernel and from the grader's child.
_WRITE_COURSE_FILES = """\
import glob as _glob
import os as _os
import site as _site
import helpers as _helpers
_root = _os.path.dirname(_helpers.__path__[0])
_targets = [
    _root + '/helpers/optimization/checks.py',
    _root + '/helpers/optimization/reference.py',
    _root + '/helpers/checking.py',
    _root + '/helpers/exercise.py',
    _root + '/instructor/verdicts.py',
    _root + '/instructor/verdict_runner.py',
    _root + '/nbgrader_config.py',
    *sorted(_glob.glob(_root + '/data/*'))[:2],
    *[_path + '/adv_evil.pth' for _path in _site.getsitepackages()],
]
for _target in _targets:
    try:
        with open(_target, 'a') as _handle:
            _handle.write('\\nimport os  # adv: changed by a submission\\n')
        print('WROTE', _target)
    except OSError as _error:
        print('refused', _target, type(_error).__name__)
"""

# Looks for gradebooks, grade tables and graded notebooks wherever it can, and damages them.
_DAMAGE_GRADEBOOKS = """\
import glob as _glob
import os as _os
import helpers as _helpers
_root = _os.path.dirname(_helpers.__path__[0])
_found = set()
for _pattern in ('gradebook.db', 'grades.csv', 'autograded/*/*/*.ipynb',
                 'feedback/*/*/*.html', 'verdicts/*.json'):
    for _base in (_root, '/tmp/*', '/tmp/*/*', _os.getcwd() + '/..', _os.getcwd() + '/../..'):
        _found.update(_glob.glob(_base + '/' + _pattern))
for _path in sorted(_found) + [_root + '/grades.csv']:
    try:
        with open(_path, 'w') as _handle:
            _handle.write('student,score\\nadv,100\\n')
        print('WROTE', _path)
    except OSError as _error:
        print('refused', _path, type(_error).__name__)
"""

_READ_SOLUTIONS = """\
import json
from pathlib import Path

import helpers


def _solution_source(name):
    root = Path(helpers.__path__[0]).parent
    for path in sorted((root / 'solutions').glob('*/*.ipynb')):
        for cell in json.loads(path.read_text())['cells']:
            if cell.get('metadata', {}).get('nbgrader', {}).get('grade_id') == name:
                return ''.join(cell['source'])
    raise FileNotFoundError(name)


class _Solved:
    namespace = {'torch': torch}
    exec(_solution_source('gradient_update'), namespace)


def gradient_update(loss, params, lr=1e-3):
    return _Solved.namespace['gradient_update'](loss, params, lr)
"""

_READ_SUBMISSIONS = """\
import glob
import json
import os

import helpers


def _someone_elses(name):
    root = os.path.dirname(helpers.__path__[0])
    patterns = [root + '/submitted/*/*/*.ipynb', root + '/autograded/*/*/*.ipynb',
                '/tmp/*/submitted/*/*/*.ipynb', '/tmp/*/autograded/*/*/*.ipynb',
                os.getcwd() + '/../../submitted/*/*/*.ipynb']
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            try:
                cells = json.load(open(path))['cells']
            except (OSError, ValueError, KeyError):
                continue
            for cell in cells:
                source = ''.join(cell.get('source', ''))
                grade_id = cell.get('metadata', {}).get('nbgrader', {}).get('grade_id')
                if grade_id == name and 'NotImplementedError' not in source:
                    return source
    raise FileNotFoundError(name)


class _Copied:
    namespace = {'torch': torch}
    exec(_someone_elses('momentum_update'), namespace)


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    return _Copied.namespace['momentum_update'](loss, params, grad_vel, lr, beta)
"""

# A process that outlives grading and keeps rewriting course files (started from the kernel).
_DAEMON = f"""\
import os, time
import helpers
root = os.path.dirname(helpers.__path__[0])
end = time.time() + 600
while time.time() < end:
    for target in (root + '/helpers/optimization/checks.py', root + '/nbgrader_config.py'):
        try:
            with open(target, 'a') as handle:
                handle.write('# adv: written by a background process\\n')
        except OSError:
            pass
    time.sleep(0.5)
# {MARKER}
"""

_START_DAEMONS = f"""\
import os as _os
import subprocess as _subprocess
import sys as _sys
_code = {_DAEMON!r}
_subprocess.Popen([_sys.executable, '-c', _code, '{MARKER}'], start_new_session=True,
                  stdin=_subprocess.DEVNULL, stdout=_subprocess.DEVNULL,
                  stderr=_subprocess.DEVNULL)
_subprocess.Popen(['sh', '-c', 'nohup sleep 900 {MARKER} >/dev/null 2>&1 &'],
                  start_new_session=True)
if _os.fork() == 0:  # a double fork, detached from the kernel's session
    _os.setsid()
    if _os.fork() == 0:
        _os.execv(_sys.executable, [_sys.executable, '-c', _code, '{MARKER}'])
    _os._exit(0)
print('daemons started')
"""

_CHILD_PROCESSES = f"""\
import os
import subprocess
import sys
try:
    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(900)', '{MARKER}'],
                     start_new_session=True)
except BaseException:
    pass
try:
    os.posix_spawn(sys.executable, [sys.executable, '-c', 'import time; time.sleep(900)',
                                    '{MARKER}'], dict(os.environ))
except BaseException:
    pass
try:
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(900)',
                                  '{MARKER}'])
except BaseException:
    pass
"""

_ENVIRONMENT = """\
import glob as _glob
import json as _json
import os as _os
print(sorted(_os.environ.items()))
for _path in ['/proc/self/environ', '/proc/1/environ', f'/proc/{_os.getppid()}/environ',
              *_glob.glob('/proc/[0-9]*/environ')]:
    try:
        print(_path, open(_path, 'rb').read().replace(b'\\0', b' ')[:2000])
    except OSError as _error:
        print(_path, type(_error).__name__)
_reports = _os.environ.get('COURSE_' + 'VERDICT_REPORTS')
if _reports:
    for _name in ('gradient_update', 'momentum_update', 'sample_minibatch', 'rmsprop_update'):
        print('report folder found:', _reports)
"""

_HIDDEN_TESTS = """\
import glob as _glob
import os as _os
import helpers as _helpers
_needle = 'BEGIN ' + 'HIDDEN TESTS'
_root = _os.path.dirname(_helpers.__path__[0])
for _pattern in ('/**/*.ipynb', '/**/*.db', '/**/*.json'):
    for _base in (_root, '/tmp', _os.getcwd() + '/..'):
        for _path in _glob.glob(_base + _pattern, recursive=True)[:200]:
            try:
                _text = open(_path, errors='replace').read()
            except OSError:
                continue
            if _needle in _text:
                _start = _text.index(_needle)
                print('FOUND in', _path, _text[_start:_start + 400])
print([_line for _line in get_ipython().history_manager.input_hist_raw if 'HIDDEN' in _line])
"""

ISOLATION = [
    Attack(
        "writes_course_files_from_kernel_and_grader",
        "isolation",
        ("gradient_update",),
        replace={"gradient_update": _class_body(_WRITE_COURSE_FILES, "gradient_update")},
        insert=((SETUP, _WRITE_COURSE_FILES),),
    ),
    Attack(
        "damages_gradebooks_and_grade_tables",
        "isolation",
        ("momentum_update",),
        replace={"momentum_update": _class_body(_DAMAGE_GRADEBOOKS, "momentum_update")},
        insert=((SETUP, _DAMAGE_GRADEBOOKS),),
    ),
    Attack(
        "reads_the_solutions",
        "isolation",
        ("gradient_update",),
        replace={"gradient_update": _READ_SOLUTIONS},
        live=True,
    ),
    Attack(
        "copies_another_students_submission",
        "isolation",
        ("momentum_update",),
        replace={"momentum_update": _READ_SUBMISSIONS},
    ),
    Attack(
        "background_processes_outlive_the_kernel",
        "isolation",
        ALL,
        insert=((SETUP, _START_DAEMONS),),
    ),
    Attack(
        "background_processes_from_the_graders_child",
        "isolation",
        ("sample_minibatch",),
        replace={"sample_minibatch": _class_body(_CHILD_PROCESSES, "sample_minibatch")},
    ),
    Attack(
        "reads_the_graders_environment",
        "isolation",
        ("rmsprop_update",),
        replace={"rmsprop_update": _class_body(_ENVIRONMENT, "rmsprop_update")},
        insert=((SETUP, _ENVIRONMENT),),
    ),
]

# --------------------------------------------------------------------------------------
# 4. Hidden tests
# --------------------------------------------------------------------------------------

HIDDEN = [
    Attack(
        "looks_for_the_hidden_tests",
        "hidden",
        ALL,
        insert=((SETUP, _HIDDEN_TESTS),),
    ),
]

# --------------------------------------------------------------------------------------
# 5. The verdict child and what it hands back (notebooks 01, 03 and 04)
# --------------------------------------------------------------------------------------

_CUBIC = "import torch\n\n\ndef cubic_gradients(x, y, a, b, c, d):\n" + (
    "    xt, yt = torch.from_numpy(x), torch.from_numpy(y)\n"
    "    def loss(p):\n"
    "        return ((p[0] + p[1] * xt + p[2] * xt**2 + p[3] * xt**3 - yt) ** 2).sum()\n"
    "    start = torch.tensor([a, b, c, d], dtype=torch.float64)\n"
)
_CUBIC_STUB = "def cubic_gradients(x, y, a, b, c, d):\n    return 0.0, 0.0, 0.0, 0.0\n"
_LEGENDRE_STUB = (
    "import torch\n\n\n"
    "class LegendrePolynomial3(torch.autograd.Function):\n"
    "    @staticmethod\n"
    "    def forward(ctx, input):\n"
    "        ctx.save_for_backward(input)\n"
    "        return 0.5 * (5 * input**3 - 3 * input)\n\n"
    "    @staticmethod\n"
    "    def backward(ctx, grad_output):\n"
    "        return grad_output\n"
)
_LEGENDRE_WITH_AUTOGRAD = (
    "import torch\n\n\n"
    "class LegendrePolynomial3(torch.autograd.Function):\n"
    "    @staticmethod\n"
    "    def forward(ctx, input):\n"
    "        ctx.save_for_backward(input)\n"
    "        return 0.5 * (5 * input**3 - 3 * input)\n\n"
    "    @staticmethod\n"
    "    def backward(ctx, grad_output):\n"
    "        (input,) = ctx.saved_tensors\n"
    "        OPEN\n"
    "            x = input.detach().requires_grad_()\n"
    "            (gradient,) = torch.autograd.grad(0.5 * (5 * x**3 - 3 * x), x, grad_output)\n"
    "        return gradient\n"
)
# Writes and links everything it can name, reads what other children might have left, and
# scribbles a result into every file descriptor: at load time, from a default argument.
_NEIGHBOURS = """\
import glob, os, shutil


def _reach_the_others():
    seen = []
    for folder in ('/tmp', os.getcwd(), '/dev/shm', '/tmp/*'):
        for path in glob.glob(folder + '/*')[:200]:
            try:
                seen.append(open(path, 'rb').read(100))
            except OSError:
                pass
    for pid in os.listdir('/proc'):
        for part in ('environ', 'cmdline', 'mem'):
            try:
                seen.append(open(f'/proc/{pid}/{part}', 'rb').read(100))
            except OSError:
                pass
    for path in ('/tmp/result.json', 'result.json', '../exercise_0/source_0/result.json',
                 '/tmp/case_0.npz', 'case_0.npz'):
        for route in (lambda: open(path, 'w').write('{}'), lambda: os.symlink('/dev/zero', path),
                      lambda: os.link(__file__, path), lambda: shutil.copy('/dev/null', path)):
            try:
                route()
            except BaseException:
                pass
    for fd in range(3, 256):
        try:
            os.write(fd, b'\\x00' * 12 + b'{}')
        except OSError:
            pass
    return len(seen)
"""
_FUSED_RULE_HEAD = (
    "import torch\n\n\n"
    "class NAME(Rule):\n"
    "    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=1e-2):\n"
    "        super().__init__(lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon,\n"
    "                         weight_decay=weight_decay)\n\n"
    "    def init(self, param):\n"
    "        return torch.zeros_like(param), torch.zeros_like(param), 0\n\n"
    "    def apply(self, state, param, grad):\n"
    "        m, v, t = state[0].clone(), state[1].clone(), state[2]\n"
    "        p = param.detach().clone()\n"
    "        step = torch.tensor(float(t + 1))  # torch counts the step before taking it\n"
)
_CHANNEL = """\
import json
import os
import struct


def _forge():
    if "NBGRADER_EXECUTION" in os.environ:  # in the kernel: wait for the grader's child
        return
    payload = PAYLOAD
    for fd in range(3, 256):
        try:
            os.write(fd, payload)
        except OSError:
            pass
    os._exit(0)
"""


def _forged_result(exercise: str, output: str, dtype: str, shape: list[int]) -> str:
    """Source of an expression: a result in the protocol's own form, with as many cases as
    the exercise has (its registry says), whose every output has ``dtype`` and ``shape``."""
    case = {"outputs": [{"name": output, "dtype": dtype, "shape": shape}]}
    return (
        "(lambda header: struct.pack('>Q', len(header)) + header + b'x' * 64)(json.dumps("
        f"{{'sources': [{{'cases': [{case!r}] * len(EXERCISES[{exercise!r}].draw_cases("
        "__import__('numpy').random.default_rng(0)))}]}).encode())"
    )

VERDICT_CHILD = [
    Attack(
        "cubic_forward_mode_differentiation",
        "capability",
        ("cubic_gradients",),
        replace={
            "cubic_gradients": _CUBIC + (
                "    import torch.autograd.forward_ad as fwAD\n"
                "    out = []\n"
                "    for i in range(4):\n"
                "        with fwAD.dual_level():\n"
                "            p = fwAD.make_dual(start, torch.eye(4, dtype=torch.float64)[i])\n"
                "            out.append(float(fwAD.unpack_dual(loss(p)).tangent))\n"
                "    return tuple(out)\n"
            )
        },
        live=True,
        assignment=BASICS,
    ),
    Attack(
        "cubic_torch_func_jacrev",
        "capability",
        ("cubic_gradients",),
        replace={
            "cubic_gradients": _CUBIC
            + "    return tuple(float(v) for v in torch.func.jacrev(loss)(start))\n"
        },
        live=True,
        assignment=BASICS,
    ),
    Attack(
        "cubic_backward_in_a_thread",
        "capability",
        ("cubic_gradients",),
        replace={
            "cubic_gradients": "import threading\n" + _CUBIC + (
                "    found = {}\n"
                "    def work():\n"
                "        p = start.clone().requires_grad_()\n"
                "        loss(p).backward()\n"
                "        found['grad'] = p.grad\n"
                "    worker = threading.Thread(target=work)\n"
                "    worker.start()\n"
                "    worker.join()\n"
                "    return tuple(float(v) for v in found['grad'])\n"
            )
        },
        live=True,
        assignment=BASICS,
    ),
    Attack(
        "cubic_aten_operator_switches_recording_on",
        "capability",
        ("cubic_gradients",),
        replace={
            "cubic_gradients": _CUBIC + (
                "    torch.ops.aten.set_grad_enabled(True)\n"
                "    p = start.clone().requires_grad_()\n"
                "    engine = torch._C._ImperativeEngine()\n"
                "    (gradient,) = engine.run_backward(\n"
                "        (loss(p),), (torch.ones((), dtype=torch.float64),), False, False, (p,),\n"
                "        False, False)\n"
                "    return tuple(float(v) for v in gradient)\n"
            )
        },
        live=True,
        assignment=BASICS,
    ),
    Attack(
        "legendre_backward_nested_in_its_own_backward",
        "capability",
        ("LegendrePolynomial3",),
        replace={
            "LegendrePolynomial3": _LEGENDRE_WITH_AUTOGRAD.replace(
                "OPEN", "with torch.enable_grad():"
            )
        },
        live=True,
        assignment=BASICS,
    ),
    Attack(
        "legendre_leaves_inference_mode_for_its_backward",
        "capability",
        ("LegendrePolynomial3",),
        replace={
            "LegendrePolynomial3": _LEGENDRE_WITH_AUTOGRAD.replace(
                "OPEN",
                "with torch.inference_mode(False), torch.enable_grad():",
            )
        },
        live=True,
        assignment=BASICS,
    ),
    Attack(
        # fit_polynomial may use autograd: from its child, do the other exercises' work and
        # put it where their children's results went.
        "fit_polynomials_child_reaches_its_neighbours",
        "neighbours",
        ("cubic_gradients", "LegendrePolynomial3", "fit_polynomial"),
        replace={
            "cubic_gradients": _CUBIC_STUB,
            "LegendrePolynomial3": _LEGENDRE_STUB,
            "fit_polynomial": _NEIGHBOURS
            + "\n\ndef fit_polynomial(model, x, y, optimizer, steps, _=_reach_the_others()):\n"
            "    return []\n",
        },
        assignment=BASICS,
    ),
    Attack(
        "cubic_forges_the_result_channel_with_a_string_dtype",
        "channel",
        ("cubic_gradients",),
        replace={
            "cubic_gradients": _CHANNEL.replace(
                "PAYLOAD", _forged_result("cubic_gradients", "grad_a", "<U5", [1])
            )
            + "\n\ndef cubic_gradients(x, y, a, b, c, d, _=_forge()):\n    return 0, 0, 0, 0\n"
        },
        assignment=BASICS,
        status="cubic_gradients: crashed in the grader",
    ),
    Attack(
        "adam_fused_kernel_with_a_tensor_learning_rate",
        "capability",
        ("Adam",),
        replace={
            "Adam": _FUSED_RULE_HEAD.replace("NAME", "Adam") + (
                "        torch._fused_adam_([p], [grad.clone()], [m], [v], [], [step],\n"
                "                           lr=torch.tensor(self.lr), beta1=self.beta1,\n"
                "                           beta2=self.beta2, weight_decay=0.0,\n"
                "                           eps=self.epsilon, amsgrad=False, maximize=False)\n"
                "        return (m, v, t + 1), param - p\n"
            )
        },
        live=True,
        assignment=RULES,
    ),
    Attack(
        "adamw_functional_fused_kernel",
        "capability",
        ("AdamW",),
        replace={
            "AdamW": _FUSED_RULE_HEAD.replace("NAME", "AdamW") + (
                "        new_p, _, new_m, new_v, _ = torch.ops.aten._fused_adamw.default(\n"
                "            [p], [grad.clone()], [m], [v], [], [step], lr=self.lr,\n"
                "            beta1=self.beta1, beta2=self.beta2,\n"
                "            weight_decay=self.weight_decay, eps=self.epsilon, amsgrad=False,\n"
                "            maximize=False)\n"
                "        return (new_m[0], new_v[0], t + 1), param - new_p[0]\n"
            )
        },
        live=True,
        assignment=RULES,
    ),
    Attack(
        "nesterov_fused_sgd_kernel_with_momentum",
        "capability",
        ("Nesterov",),
        replace={
            "Nesterov": "import torch\n\n\n"
            "class Nesterov(Momentum):\n"
            "    def apply(self, state, param, grad):\n"
            "        p = param.detach().clone()\n"
            "        buffer = state / self.lr  # torch keeps v / lr\n"
            "        torch._fused_sgd_([p], [grad.clone()], [buffer], weight_decay=0.0,\n"
            "                          momentum=self.beta, lr=self.lr, dampening=0.0,\n"
            "                          nesterov=True, maximize=False, is_first_step=False)\n"
            "        return self.lr * buffer, param - p\n"
        },
        live=True,
        assignment=RULES,
    ),
    Attack(
        "adagrad_pasted_from_torchs_own_source",
        "copy",
        ("Adagrad",),
        replace={"Adagrad": "PASTED_ADAGRAD"},  # filled in below, from this torch's source
        live=True,
        assignment=RULES,
    ),
    Attack(
        "adamw_loads_torchs_source_under_another_name",
        "copy",
        ("AdamW",),
        replace={
            "AdamW": "import importlib.util\n"
            "import os\n\n\n"
            "def _copy():\n"
            "    path = os.path.join(os.path.dirname(torch.__file__), 'optim', 'adamw.py')\n"
            "    spec = importlib.util.spec_from_file_location('torch.optim.adamw_copy', path)\n"
            "    module = importlib.util.module_from_spec(spec)\n"
            "    spec.loader.exec_module(module)\n"
            "    return module.AdamW\n\n\n"
            + _FUSED_RULE_HEAD.replace("NAME", "AdamW").split("import torch\n\n\n", 1)[1]
            + (
                "        parameter = torch.nn.Parameter(p)\n"
                "        optimizer = _copy()([parameter], lr=self.lr, eps=self.epsilon,\n"
                "                            betas=(self.beta1, self.beta2), foreach=False,\n"
                "                            weight_decay=self.weight_decay)\n"
                "        optimizer.state[parameter] = {'step': torch.tensor(float(t)),\n"
                "                                      'exp_avg': m, 'exp_avg_sq': v}\n"
                "        parameter.grad = grad.clone()\n"
                "        optimizer.step()\n"
                "        return (m, v, t + 1), param - parameter.detach()\n"
            )
        },
        live=True,
        assignment=RULES,
    ),
    Attack(
        "adam_imports_a_second_torch_from_the_hosts_wheels_and_caches",
        "copy",
        ("Adam",),
        replace={
            "Adam": "import glob\n"
            "import os\n"
            "import sys\n"
            "import zipfile\n\n\n"
            "def _second_copy():\n"
            "    places = ['/opt/**/*.whl', os.path.expanduser('~/.cache/pip/**/*.whl'),\n"
            "              '/usr/lib/python3*/*-packages', '/usr/local/lib/python3*/*-packages',\n"
            "              '/root/.pyenv/versions/*/lib/python3*/site-packages',\n"
            "              '/opt/conda/pkgs/*']\n"
            "    adam = 'torch/optim/adam.py'\n"
            "    for pattern in places:\n"
            "        for place in glob.glob(pattern, recursive=True):\n"
            "            if place.endswith('.whl') and 'torch-' in os.path.basename(place):\n"
            "                source = zipfile.ZipFile(place).read(adam).decode()\n"
            "            elif os.path.exists(os.path.join(place, adam)):\n"
            "                source = open(os.path.join(place, adam)).read()\n"
            "            else:\n"
            "                continue\n"
            "            namespace = {'__name__': 'adam_from_elsewhere'}\n"
            "            exec(source.replace('from .', 'from torch.optim.'), namespace)\n"
            "            return namespace['Adam']\n"
            "    raise ImportError('no second copy of torch found')\n\n\n"
            + _FUSED_RULE_HEAD.replace("NAME", "Adam").split("import torch\n\n\n", 1)[1]
            + (
                "        parameter = torch.nn.Parameter(p)\n"
                "        optimizer = _second_copy()([parameter], lr=self.lr, eps=self.epsilon,\n"
                "                                   betas=(self.beta1, self.beta2),\n"
                "                                   foreach=False)\n"
                "        optimizer.state[parameter] = {'step': torch.tensor(float(t)),\n"
                "                                      'exp_avg': m, 'exp_avg_sq': v}\n"
                "        parameter.grad = grad.clone()\n"
                "        optimizer.step()\n"
                "        return (m, v, t + 1), param - parameter.detach()\n"
            )
        },
        # Not checked in-process: a second copy of torch is on some hosts and not others.
        assignment=RULES,
    ),
    Attack(
        "nesterov_child_reaches_every_other_exercise",
        "neighbours",
        ("Nesterov", "Adagrad", "Adam", "AdamW"),
        replace={
            "Nesterov": _NEIGHBOURS
            + "\n\nclass Nesterov(Momentum):\n    seen = _reach_the_others()\n",
            "Adagrad": "class Adagrad(Rule):\n    pass\n",
            "Adam": "class Adam(Rule):\n    pass\n",
            "AdamW": "class AdamW(Rule):\n    pass\n",
        },
        assignment=RULES,
    ),
    Attack(
        "adam_returns_a_state_expanded_to_a_billion_entries",
        "channel",
        ("Adam",),
        replace={
            "Adam": "import torch\n\n\n"
            "class Adam(Rule):\n"
            "    def init(self, param):\n"
            "        huge = torch.zeros(1).expand(10**9)\n"
            "        return huge, huge, 0\n\n"
            "    def apply(self, state, param, grad):\n"
            "        return state, torch.zeros_like(param)\n"
        },
        assignment=RULES,
    ),
    Attack(
        "adamw_floods_every_descriptor",
        "channel",
        ("AdamW",),
        replace={
            "AdamW": _CHANNEL.replace("PAYLOAD", "b'\\xff' * 2**27")
            + "\n\nclass AdamW(Rule):\n    flood = _forge()\n"
        },
        assignment=RULES,
        status="AdamW: crashed in the grader",
    ),
    Attack(
        "adagrad_header_claims_a_terabyte",
        "channel",
        ("Adagrad",),
        replace={
            "Adagrad": _CHANNEL.replace(
                "PAYLOAD", _forged_result("Adagrad", "W", "float64", [2**40])
            )
            + "\n\nclass Adagrad(Rule):\n    forged = _forge()\n"
        },
        assignment=RULES,
        status="Adagrad: crashed in the grader",
    ),
    Attack(
        "momentum_fused_sgd_kernel_with_momentum_buffers",
        "capability",
        ("momentum_update",),
        replace={
            "momentum_update": "def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    with torch.no_grad():\n"
            "        buffers = [-v / lr for v in grad_vel]  # torch keeps -v / lr\n"
            "        torch._fused_sgd_(params, [p.grad for p in params], buffers,\n"
            "                          weight_decay=0.0, momentum=beta, lr=lr, dampening=0.0,\n"
            "                          nesterov=False, maximize=False, is_first_step=False)\n"
            "        for v, b in zip(grad_vel, buffers):\n"
            "            v.copy_(-lr * b)\n"
        },
        live=True,
    ),
]


def _pasted_adagrad() -> str:
    """A rule built on torch's own Adagrad step, pasted whole into the cell."""
    import inspect

    from torch.optim import adagrad

    return (
        "import torch\n"
        "from torch import Tensor\n"
        "from typing import Optional, Union\n"
        "from torch.optim.optimizer import _get_value, _to_scalar\n"
        "from torch.optim.adagrad import _make_sparse\n\n\n"
        + inspect.getsource(adagrad._single_tensor_adagrad)
        + "\n\nclass Adagrad(Rule):\n"
        "    def __init__(self, lr=0.01, epsilon=1e-10):\n"
        "        super().__init__(lr=lr, epsilon=epsilon)\n\n"
        "    def init(self, param):\n"
        "        return torch.zeros_like(param)\n\n"
        "    def apply(self, state, param, grad):\n"
        "        p, total = param.detach().clone(), state.clone()\n"
        "        _single_tensor_adagrad([p], [grad.clone()], [total], [torch.tensor(0.0)],\n"
        "                               None, None, lr=self.lr, weight_decay=0.0,\n"
        "                               lr_decay=0.0, eps=self.epsilon, has_sparse_grad=False,\n"
        "                               maximize=False, differentiable=False,\n"
        "                               has_complex=False)\n"
        "        return total, param - p\n"
    )


VERDICT_CHILD = [
    Attack(**{**attack.__dict__, "replace": {"Adagrad": _pasted_adagrad()}})
    if attack.name == "adagrad_pasted_from_torchs_own_source"
    else attack
    for attack in VERDICT_CHILD
]

ALL_ATTACKS = [*KERNEL, *SHORTCUT, *ISOLATION, *HIDDEN, *VERDICT_CHILD]
ATTACKS = {attack.name: attack for attack in ALL_ATTACKS}
assert len(ATTACKS) == len(ALL_ATTACKS)
