"""Calling a ``torch.autograd.Function``'s ``forward`` and ``backward`` by hand.

The checks of a Function that the student writes call the two static methods themselves, with
a context object that behaves like the one autograd passes, instead of going through
``Function.apply`` and the autograd engine. The grader forbids automatic differentiation in
those exercises, so its sandbox switches autograd off altogether; with the engine out of the
picture, no route to it is needed to check the student's derivative.

The context also notes whether the tensors ``backward`` used went through
``ctx.save_for_backward`` and ``ctx.saved_tensors``, the route PyTorch's documentation asks
for (a tensor stored as an attribute of ``ctx`` escapes autograd's check for an input changed
in place between the two passes, and is not freed after ``backward``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.autograd.function import FunctionCtx


class FunctionContext(FunctionCtx):
    """The ``ctx`` of a custom Function: ``save_for_backward`` / ``saved_tensors``,
    ``needs_input_grad``, ``mark_dirty`` and ``mark_non_differentiable``, and any attribute
    the student stores on it. ``saved_tensors_read`` says whether ``saved_tensors`` was read."""

    def __init__(self, needs_input_grad: Sequence[bool]) -> None:
        self.needs_input_grad = tuple(needs_input_grad)
        self.to_save: tuple[Any, ...] = ()
        self.saved_tensors_read = False

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        self.saved_tensors_read = True
        return tuple(self.to_save)

    # The name older tutorials use.
    saved_variables = saved_tensors

    @property
    def used_save_for_backward(self) -> bool:
        """Whether ``forward`` saved tensors with ``save_for_backward`` and ``backward`` read
        them back from ``saved_tensors``."""
        saved = any(isinstance(value, torch.Tensor) for value in self.to_save)
        return saved and self.saved_tensors_read


def forward_backward(
    function: type,
    inputs: Sequence[torch.Tensor],
    grad_outputs: Sequence[torch.Tensor],
    needs_input_grad: Sequence[bool] | None = None,
) -> tuple[Any, tuple[Any, ...], FunctionContext]:
    """``function.forward`` on ``inputs`` and ``function.backward`` on ``grad_outputs``, as
    autograd would call them (no gradient recording in either): the output, the gradients
    ``backward`` returned, always as a tuple (``None`` where it returned none), and the
    context. ``needs_input_grad`` defaults to every input needing its gradient."""
    needed = [True] * len(inputs) if needs_input_grad is None else needs_input_grad
    context = FunctionContext(needed)
    with torch.no_grad():
        output = function.forward(context, *inputs)
        gradients = function.backward(context, *grad_outputs)
    if not isinstance(gradients, tuple):
        gradients = (gradients,)
    return output, gradients, context
