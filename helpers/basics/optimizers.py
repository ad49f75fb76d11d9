"""torch.optim's SGD and RMSprop as notebook 01 uses them, without torch's general machinery.

Building a torch optimizer imports ``torch._dynamo`` (about 2 s of CPU), to keep compilers out
of ``add_param_group``, ``step`` and ``zero_grad``; and every ``step`` passes through a
wrapper for profiling and hooks. Notebook 01 pays for both where it matters: the grader runs
each submission's ``fit_polynomial`` in a fresh process, and the learning-rate demo takes
thousands of steps on four coefficients. These subclasses keep torch's interface
(``param_groups``, ``state``, ``zero_grad(set_to_none=...)``) and its arithmetic, operation
for operation (``tests/test_basics_optimizers.py`` compares them with torch's), for the
settings the notebook uses: no weight decay, dampening, Nesterov or centering.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


class _Plain:
    """What both optimizers share: ``step`` outside torch's wrapper, and ``add_param_group``
    and ``zero_grad`` as torch's but without their dynamo guard."""

    param_groups: list[dict[str, Any]]
    state: Any

    def _update(self, group: dict[str, Any], parameter: torch.Tensor) -> None:
        raise NotImplementedError

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                for parameter in group["params"]:
                    if parameter.grad is not None:
                        self._update(group, parameter)
        return loss

    # torch wraps every optimizer class's ``step`` for profiling and hooks (a tenth of a demo
    # step on four coefficients) unless the method says it is wrapped already.
    step.hooked = True  # type: ignore[attr-defined]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        # torch's own, without the guard around it that imports torch._dynamo
        add = torch.optim.Optimizer.add_param_group
        getattr(add, "__wrapped__", add)(self, param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for parameter in group["params"]:
                if set_to_none:
                    parameter.grad = None
                elif parameter.grad is not None:
                    parameter.grad.zero_()


class PlainSGD(_Plain, torch.optim.SGD):
    """``torch.optim.SGD(params, lr, momentum)``: ``p <- p - lr * g`` without momentum; with
    it, ``b <- momentum * b + g`` (``b`` starts as the first gradient) and ``p <- p - lr * b``.
    """

    def __init__(self, params: Iterable[Any], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=momentum)

    def _update(self, group: dict[str, Any], parameter: torch.Tensor) -> None:
        direction = parameter.grad
        if group["momentum"] != 0:
            state = self.state[parameter]
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = direction.detach().clone()
            else:
                buffer.mul_(group["momentum"]).add_(direction)
            direction = buffer
        parameter.add_(direction, alpha=-group["lr"])


class PlainRMSprop(_Plain, torch.optim.RMSprop):
    """``torch.optim.RMSprop(params, lr, alpha)``: ``v <- alpha * v + (1 - alpha) * g**2``,
    then ``p <- p - lr * g / (sqrt(v) + eps)``."""

    def __init__(self, params: Iterable[Any], lr: float, alpha: float = 0.99) -> None:
        super().__init__(params, lr=lr, alpha=alpha)

    def _update(self, group: dict[str, Any], parameter: torch.Tensor) -> None:
        state = self.state[parameter]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["square_avg"] = torch.zeros_like(parameter)
        state["step"] += 1
        grad, square_avg = parameter.grad, state["square_avg"]
        square_avg.mul_(group["alpha"]).addcmul_(grad, grad, value=1 - group["alpha"])
        parameter.addcdiv_(grad, square_avg.sqrt().add_(group["eps"]), value=-group["lr"])
