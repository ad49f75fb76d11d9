"""What an exercise forbids, declared as capabilities rather than as lists of functions.

An exercise that asks for hand-written derivatives forbids *automatic differentiation*, in
every form torch offers; one that asks for an update rule forbids *a ready-made optimizer
step*. A ``Capability`` names the idea once, for the student ("`Adam` uses a ready-made
optimizer step"), and lists how to recognise it:

- ``python``: dotted names of the modules, classes and functions whose Python code provides
  it. The notebook's self-check watches calls into them (``helpers.checking.no_shortcuts``);
  the grading sandbox disables them, refuses to import or read them, and refuses any code
  that is a copy of them under another name (``instructor.verdict_runner``).
- ``native``: the routes into torch's C++ core that do the same without any Python function
  of the list: the fused optimizer kernels, or the autograd engine itself (reached from
  TorchScript, ``torch.ops`` or functorch's C++ levels as well as from Python). Only the
  grading sandbox can close those; the names here are the keys of its guards.

The reference answers are always forbidden; an exercise declares the rest in its registry
entry (``Exercise.forbids``).
"""

from __future__ import annotations

from dataclasses import dataclass

# Native routes the grading sandbox knows how to close (see instructor.verdict_runner).
FUSED_OPTIMIZER_KERNELS = "fused optimizer kernels"
AUTOGRAD_ENGINE = "the autograd engine"
NATIVE_ROUTES = (FUSED_OPTIMIZER_KERNELS, AUTOGRAD_ENGINE)


@dataclass(frozen=True)
class Capability:
    """Something an exercise asks the student to do themselves, and every route to it."""

    description: str  # reads after "uses": "automatic differentiation"
    python: tuple[str, ...]
    native: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.native) - set(NATIVE_ROUTES)
        if unknown:
            raise ValueError(f"no sandbox guard for {sorted(unknown)}; known: {NATIVE_ROUTES}")


OPTIMIZER_STEP = Capability(
    "a ready-made optimizer step",
    python=("torch.optim",),
    native=(FUSED_OPTIMIZER_KERNELS,),
)

AUTOMATIC_DIFFERENTIATION = Capability(
    "automatic differentiation",
    python=(
        "torch.autograd.grad",
        "torch.autograd.backward",
        "torch._tensor:Tensor.backward",
        "torch.autograd.functional",
        "torch.autograd.forward_ad",
        "torch.func.grad",
        "torch.func.grad_and_value",
        "torch.func.vjp",
        "torch.func.jvp",
        "torch.func.jacrev",
        "torch.func.jacfwd",
        "torch.func.hessian",
        "torch.func.linearize",
        "torch._functorch.eager_transforms",
    ),
    native=(AUTOGRAD_ENGINE,),
)


def ready_made(description: str, *python: str) -> Capability:
    """A capability that one helper of the course or of torch provides whole, such as
    ``ready_made("a ready-made Xavier initializer", "torch.nn.init.xavier_normal_")``."""
    return Capability(description, python=python)


def the_reference(module: str) -> Capability:
    """The notebook's reference answers: forbidden in every exercise."""
    return Capability("the reference answer from helpers", python=(module,))
