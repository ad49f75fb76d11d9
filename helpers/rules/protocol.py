"""The course's rule protocol: rules are small pure pieces, their state lives apart.

A **rule** is an immutable object of hyperparameters (read-only attributes) with two methods:

- ``init(param) -> state``: the state the rule needs for one parameter tensor (zeros for a
  velocity, ``None`` for plain gradient descent);
- ``apply(state, param, grad) -> (new_state, step)``: the new parameter is ``param - step``.

A rule never stores tensors on itself, so one rule object can serve every parameter of every
model, and the whole optimizer state can be inspected, copied, saved or changed like any other
data. ``torch.optim`` keeps the same numbers inside the optimizer object instead
(``optimizer.state[param]``), next to references to the parameters themselves.

The **state tree** (``State``) mirrors the model's named trainable parameters: one ``Leaf``
(rule, rule state, frozen flag) per parameter tensor. A parameter reachable under two names
(weight tying) has one leaf, shared by both names, so it is updated once per step.

- ``setup(rule, model)`` builds the tree;
- ``update(state, model, grads)`` is pure: it returns a new state and a new model and leaves
  its inputs untouched; ``update_`` is its in-place twin (the model's tensors change);
- ``adjust(state, lr=...)`` changes hyperparameters and keeps what the rules accumulated;
- ``freeze(state, "b")`` and ``thaw`` stop and restart the updates of parts of the tree;
- ``chain(WeightDecay(...), ClipNorm(...), Descent(...))`` composes rules: each one transforms
  the previous one's output, as in optax's ``chain`` and Optimisers.jl's ``OptimiserChain``.

The rules given here are ``Descent``, ``Momentum``, ``RMSProp``, ``WeightDecay``,
``ClipNorm`` and ``Chain``; the notebook's exercises (``Nesterov``, ``Adagrad``, ``Adam``,
``AdamW``, and ``Chain`` once more) follow the same protocol. Each docstring says how the rule
relates to its ``torch.optim`` counterpart.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

# --------------------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------------------


class Rule:
    """Base class of every rule: an immutable object of named hyperparameters.

    A subclass's ``__init__`` takes the hyperparameters as keyword arguments with defaults and
    passes them on, ``super().__init__(lr=lr, beta=beta)``; they become read-only attributes
    (``rule.lr``). Subclasses implement ``init`` and ``apply``. Plain classes rather than
    dataclasses, so that a rule defined in a notebook cell or a grading sandbox behaves exactly
    like one defined in a module.
    """

    def __init__(self, **hyperparameters: Any) -> None:
        object.__setattr__(self, "_names", tuple(hyperparameters))
        for name, value in hyperparameters.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} is immutable: use adjust(state, {name}=...) or a new rule."
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable.")

    def _items(self) -> tuple[tuple[str, Any], ...]:
        return tuple((name, getattr(self, name)) for name in self._names)

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={value!r}" for name, value in self._items())
        return f"{type(self).__name__}({settings})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._items() == other._items()

    def __hash__(self) -> int:
        return hash((type(self), self._items()))

    def init(self, param: Tensor) -> Any:
        """The state this rule keeps for ``param`` before the first step."""
        raise NotImplementedError

    def apply(self, state: Any, param: Tensor, grad: Tensor) -> tuple[Any, Tensor]:
        """Return ``(new_state, step)``; the caller sets the parameter to ``param - step``."""
        raise NotImplementedError

    def hyperparameters(self) -> set[str]:
        """Names that ``adjust`` can change on this rule."""
        return set(self._names)

    def adjust(self, **hyperparameters: Any) -> Rule:
        """A copy with the named hyperparameters changed; names this rule lacks are ignored."""
        known = {k: v for k, v in hyperparameters.items() if k in self.hyperparameters()}
        return type(self)(**{**dict(self._items()), **known}) if known else self


class Descent(Rule):
    """Plain gradient descent: ``step = lr * grad``. No state.

    Same as ``torch.optim.SGD(params, lr)``.
    """

    def __init__(self, lr: float = 0.1) -> None:
        super().__init__(lr=lr)

    def init(self, param: Tensor) -> None:
        return None

    def apply(self, state: None, param: Tensor, grad: Tensor) -> tuple[None, Tensor]:
        return None, self.lr * grad


class Momentum(Rule):
    """Heavy-ball momentum in *velocity form*: ``v <- beta v + lr grad``, ``step = v``.

    State: the velocity ``v`` (zeros at first). With a constant learning rate this is exactly
    ``torch.optim.SGD(params, lr, momentum=beta)`` (torch's buffer ``b`` is ``v / lr``), and
    notebook 03's ``momentum_update`` with the sign of ``v`` flipped. Two conventions differ:

    - *learning-rate changes*: torch multiplies its whole buffer by the new ``lr``, so a new
      rate acts at once on the accumulated velocity; here the velocity keeps the rates it was
      built with and a new rate only scales the new gradients;
    - *dampening*: this is the undampened heavy ball (torch's default ``dampening=0``).
      ``SGD(lr, momentum=beta, dampening=d)`` scales every gradient but the first by ``1 - d``;
      on a constant gradient ``g`` its ``t``-th step is ``lr * d * beta**(t-1) * g`` longer than
      the one of ``Momentum(lr * (1 - d), beta)``, a transient of the full-size first step.
    """

    def __init__(self, lr: float = 0.01, beta: float = 0.9) -> None:
        super().__init__(lr=lr, beta=beta)

    def init(self, param: Tensor) -> Tensor:
        return torch.zeros_like(param)

    def apply(self, state: Tensor, param: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
        velocity = self.beta * state + self.lr * grad
        return velocity, velocity


class RMSProp(Rule):
    """RMSprop: ``v <- alpha v + (1 - alpha) grad**2``, ``step = lr grad / (sqrt(v) + eps)``.

    State: the running average ``v`` of squared gradients (zeros at first). With
    ``epsilon_inside=False`` (the default) it is ``torch.optim.RMSprop(params, lr, alpha, eps)``.
    With ``epsilon_inside=True`` the step is ``lr grad / sqrt(v + eps)``, the convention of
    notebook 03's ``rmsprop_update`` and of optax's default: ``eps`` then guards ``v`` rather
    than its square root, so the same number damps much more (``sqrt(1e-8) = 1e-4``).
    """

    def __init__(
        self,
        lr: float = 0.01,
        alpha: float = 0.99,
        epsilon: float = 1e-8,
        epsilon_inside: bool = False,
    ) -> None:
        super().__init__(lr=lr, alpha=alpha, epsilon=epsilon, epsilon_inside=epsilon_inside)

    def init(self, param: Tensor) -> Tensor:
        return torch.zeros_like(param)

    def apply(self, state: Tensor, param: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
        average = self.alpha * state + (1 - self.alpha) * grad**2
        if self.epsilon_inside:
            scale = torch.sqrt(average + self.epsilon)
        else:
            scale = torch.sqrt(average) + self.epsilon
        return average, self.lr * grad / scale


class WeightDecay(Rule):
    """Adds ``weight_decay * param`` to the gradient: the gradient of an L2 penalty
    ``weight_decay / 2 * ||param||**2``. No state, no learning rate: chain it *before* a rule.

    ``chain(WeightDecay(wd), Descent(lr))`` is ``torch.optim.SGD(params, lr, weight_decay=wd)``
    and ``chain(WeightDecay(wd), Adam(lr))`` is ``torch.optim.Adam(params, lr,
    weight_decay=wd)`` (coupled: the decay passes through Adam's scaling). Chained *after* a
    rule it decays the parameters directly: ``chain(Adam(lr), WeightDecay(lr * wd))`` is AdamW.
    """

    def __init__(self, weight_decay: float = 5e-4) -> None:
        super().__init__(weight_decay=weight_decay)

    def init(self, param: Tensor) -> None:
        return None

    def apply(self, state: None, param: Tensor, grad: Tensor) -> tuple[None, Tensor]:
        return None, grad + self.weight_decay * param


class ClipNorm(Rule):
    """Rescales the gradient so that its norm is at most ``max_norm``. No state.

    The factor is ``min(1, max_norm / (norm + 1e-6))``, as in
    ``torch.nn.utils.clip_grad_norm_``. One difference: this rule clips *each parameter
    tensor* on its own (as Optimisers.jl's ``ClipNorm`` does), while ``clip_grad_norm_``
    clips the norm of all gradients together; they agree for a model with one tensor, and
    in general this rule equals ``clip_grad_norm_`` called once per tensor.
    """

    def __init__(self, max_norm: float = 1.0) -> None:
        super().__init__(max_norm=max_norm)

    def init(self, param: Tensor) -> None:
        return None

    def apply(self, state: None, param: Tensor, grad: Tensor) -> tuple[None, Tensor]:
        factor = torch.clamp(self.max_norm / (torch.linalg.vector_norm(grad) + 1e-6), max=1.0)
        return None, grad * factor


class Chain(Rule):
    """Rules applied in turn, each to the previous one's output: ``Chain(a, b, c)``, or
    ``chain(a, b, c)``. State: the tuple of the rules' states, in order.

    ``hyperparameters`` and ``adjust`` reach into the links, so that ``adjust(state, lr=...)``
    changes the rate of every rule in the chain that has one (chains nest). Notebook 04 asks
    the student to write this class (its exercise ``Chain``).
    """

    def __init__(self, *rules: Rule) -> None:
        super().__init__(rules=rules)

    def init(self, param: Tensor) -> tuple[Any, ...]:
        return tuple(rule.init(param) for rule in self.rules)

    def apply(
        self, state: tuple[Any, ...], param: Tensor, grad: Tensor
    ) -> tuple[tuple[Any, ...], Tensor]:
        new_states = []
        for rule, rule_state in zip(self.rules, state, strict=True):
            rule_state, grad = rule.apply(rule_state, param, grad)
            new_states.append(rule_state)
        return tuple(new_states), grad

    def hyperparameters(self) -> set[str]:
        return set().union(*(rule.hyperparameters() for rule in self.rules))

    def adjust(self, **hyperparameters: float) -> Chain:
        return Chain(*(rule.adjust(**hyperparameters) for rule in self.rules))


def chain(*rules: Rule) -> Chain:
    """Compose rules: ``chain(WeightDecay(5e-4), ClipNorm(1.0), Adam(1e-3))`` adds the decay
    to the gradient, clips the result, and feeds that to Adam, whose output is the step."""
    return Chain(*rules)


# --------------------------------------------------------------------------------------
# The state tree
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """What the optimizer keeps for one parameter tensor: its rule, the rule's state, and
    whether updates are frozen."""

    rule: Rule
    state: Any
    frozen: bool = False

    def __repr__(self) -> str:
        frozen = ", frozen" if self.frozen else ""
        return f"Leaf({self.rule}, state={_describe(self.state)}{frozen})"


def _describe(state: Any) -> str:
    """A short description of a rule state: shapes rather than numbers."""
    if isinstance(state, Tensor):
        return f"tensor{tuple(state.shape)}"
    if isinstance(state, tuple):
        inner = ", ".join(_describe(part) for part in state)
        return f"({inner}{',' if len(state) == 1 else ''})"
    return repr(state)


class State(Mapping[str, Leaf]):
    """The optimizer state: parameter name -> ``Leaf``, in the model's order.

    Names are those of ``model.named_parameters()``; a shared (tied) parameter appears under
    each of its names with the *same* ``Leaf``. Treat a ``State`` as a value: ``update``,
    ``adjust``, ``freeze`` and ``thaw`` return new ones.
    """

    def __init__(self, leaves: Mapping[str, Leaf]) -> None:
        self._leaves = dict(leaves)

    def __getitem__(self, name: str) -> Leaf:
        return self._leaves[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._leaves)

    def __len__(self) -> int:
        return len(self._leaves)

    def __repr__(self) -> str:
        lines = [f"  {name}: {leaf!r}" for name, leaf in self._leaves.items()]
        return "State(\n" + "\n".join(lines) + "\n)"

    def replace_leaves(self, new: Mapping[int, Leaf]) -> State:
        """A new state where every name whose leaf has ``id`` in ``new`` gets ``new[id]``, so
        that names sharing a leaf keep sharing its replacement."""
        return State({name: new.get(id(leaf), leaf) for name, leaf in self._leaves.items()})

    def unique(self) -> dict[str, Leaf]:
        """One name per distinct leaf (the first one), for code that must visit each once."""
        seen: dict[int, str] = {}
        for name, leaf in self._leaves.items():
            seen.setdefault(id(leaf), name)
        return {name: self._leaves[name] for name in seen.values()}


def trainable_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    """Every registered parameter that requires a gradient, under all its names.

    Tensors that are plain attributes of a module (not ``nn.Parameter``) are not registered:
    no optimizer sees them, here or in ``torch.optim``.
    """
    return {
        name: param
        for name, param in model.named_parameters(remove_duplicate=False)
        if param.requires_grad
    }


def setup(rule: Rule, model: nn.Module) -> State:
    """The initial state tree of ``rule`` for every trainable parameter of ``model``."""
    leaves: dict[int, Leaf] = {}
    names: dict[str, Leaf] = {}
    for name, param in trainable_parameters(model).items():
        if id(param) not in leaves:
            leaves[id(param)] = Leaf(rule, rule.init(param.detach()))
        names[name] = leaves[id(param)]
    return State(names)


def gradients(loss: Tensor, model: nn.Module) -> dict[str, Tensor]:
    """``{name: d loss / d param}`` for every trainable parameter, as ``update`` expects.

    Unlike ``loss.backward()`` this leaves ``.grad`` alone: the gradients are a value, like
    the state. A shared parameter gets one gradient (the sum over its uses) under each name;
    a parameter the loss does not depend on gets zeros.
    """
    named = trainable_parameters(model)
    unique = list({id(p): p for p in named.values()}.values())
    grads = torch.autograd.grad(loss, unique, allow_unused=True)
    by_id = {
        id(p): torch.zeros_like(p) if g is None else g for p, g in zip(unique, grads, strict=True)
    }
    return {name: by_id[id(param)] for name, param in named.items()}


def _gradient_of(name: str, param: Tensor, grads: Mapping[str, Tensor] | None) -> Tensor | None:
    if grads is None:
        return param.grad
    return grads.get(name)


def update_(
    state: State, model: nn.Module, grads: Mapping[str, Tensor] | None = None
) -> tuple[State, nn.Module]:
    """One optimizer step, in place: every unfrozen parameter becomes ``param - step``.

    ``grads`` maps parameter names to gradients (see ``gradients``); ``None`` reads each
    parameter's ``.grad`` instead, as ``torch.optim`` does. Returns the new state and the same
    ``model`` object. Keep using the returned state: a rule may or may not have changed the
    tensors of the old one.
    """
    params = trainable_parameters(model)
    new_leaves: dict[int, Leaf] = {}
    for name, leaf in state.unique().items():
        if leaf.frozen:
            continue
        if name not in params:
            raise KeyError(f"the state has a leaf {name!r} but the model has no such parameter.")
        param = params[name]
        grad = _gradient_of(name, param, grads)
        if grad is None:  # the loss does not depend on this parameter: nothing to do
            continue
        with torch.no_grad():
            rule_state, step = leaf.rule.apply(leaf.state, param.detach(), grad.detach())
            param.sub_(step)
        new_leaves[id(leaf)] = dataclasses.replace(leaf, state=rule_state)
    return state.replace_leaves(new_leaves), model


def update(
    state: State, model: nn.Module, grads: Mapping[str, Tensor] | None = None
) -> tuple[State, nn.Module]:
    """One optimizer step without side effects: returns a new state and a new model.

    ``state``, ``model`` and ``grads`` are left exactly as they were (even by rules that change
    their tensors in place), because the step runs on copies, as Optimisers.jl's ``update``
    does. Tied parameters stay tied in the copy.
    """
    if grads is None:
        grads = {
            name: p.grad for name, p in trainable_parameters(model).items() if p.grad is not None
        }
    grads = {name: grad.detach().clone() for name, grad in grads.items()}
    return update_(_copy_state(state), copy.deepcopy(model), grads)


def _copy_state(state: State) -> State:
    """A deep copy of the rule states that keeps shared leaves shared."""
    memo: dict[int, Any] = {}
    return state.replace_leaves(
        {id(leaf): copy.deepcopy(leaf, memo) for leaf in state.unique().values()}
    )


# --------------------------------------------------------------------------------------
# Changing a state: hyperparameters and frozen parts
# --------------------------------------------------------------------------------------


def adjust(state: State, **hyperparameters: float) -> State:
    """Change hyperparameters of every rule in the tree that has them; keep the rule states.

    ``adjust(state, lr=0.01)`` is how a learning-rate schedule talks to the rules (torch's
    equivalent is assigning ``group["lr"]`` in ``optimizer.param_groups``). A name no rule in
    the tree knows raises ``ValueError``, so a typo is not silently ignored.
    """
    leaves = state.unique().values()
    known = set().union(*(leaf.rule.hyperparameters() for leaf in leaves))
    unknown = sorted(set(hyperparameters) - known)
    if unknown:
        raise ValueError(f"no rule in this state has the hyperparameter(s) {unknown}.")
    return state.replace_leaves(
        {
            id(leaf): dataclasses.replace(leaf, rule=leaf.rule.adjust(**hyperparameters))
            for leaf in leaves
        }
    )


def _matching(state: State, prefixes: tuple[str, ...]) -> dict[int, Leaf]:
    """The leaves whose name is one of ``prefixes`` or lies below one (``"layer1"`` matches
    ``"layer1.weight"``); a prefix that matches nothing raises ``KeyError``."""
    found: dict[int, Leaf] = {}
    for prefix in prefixes:
        hits = [
            leaf for name, leaf in state.items() if name == prefix or name.startswith(prefix + ".")
        ]
        if not hits:
            raise KeyError(f"no parameter named {prefix!r} (or below it) in this state.")
        found.update({id(leaf): leaf for leaf in hits})
    return found


def freeze(state: State, *names: str) -> State:
    """A state in which the named parameters (or every parameter below a module name) do not
    move; their rule states are kept for when they are thawed."""
    leaves = _matching(state, names)
    return state.replace_leaves({k: dataclasses.replace(v, frozen=True) for k, v in leaves.items()})


def thaw(state: State, *names: str) -> State:
    """Undo ``freeze`` for the named parameters; with no names, thaw everything."""
    leaves = _matching(state, names) if names else {id(v): v for v in state.unique().values()}
    return state.replace_leaves(
        {k: dataclasses.replace(v, frozen=False) for k, v in leaves.items()}
    )
