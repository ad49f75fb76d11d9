"""Calling a ``torch.autograd.Function``'s ``forward`` and ``backward`` by hand.

The checks of a Function whose ``backward`` the student writes call the two static methods
themselves, with a context object that behaves like the one autograd passes, instead of going
through ``Function.apply`` and the autograd engine. The grader forbids automatic
differentiation in that exercise, so its sandbox switches autograd off altogether; with the
engine out of the picture, no route to it is needed to check the student's derivative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.autograd.function import FunctionCtx


class FunctionContext(FunctionCtx):
    """The ``ctx`` of a custom Function: ``save_for_backward`` / ``saved_tensors``,
    ``needs_input_grad``, ``mark_dirty`` and ``mark_non_differentiable``, and any attribute
    the student stores on it."""

    def __init__(self, needs_input_grad: Sequence[bool]) -> None:
        self.needs_input_grad = tuple(needs_input_grad)
        self.to_save: tuple[Any, ...] = ()

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        return tuple(self.to_save)

    # The name older tutorials use.
    saved_variables = saved_tensors


def forward_backward(
    function: type, inputs: Sequence[torch.Tensor], grad_outputs: Sequence[torch.Tensor]
) -> tuple[Any, tuple[Any, ...]]:
    """``function.forward`` on ``inputs`` and ``function.backward`` on ``grad_outputs``, as
    autograd would call them (no gradient recording in either); the output, and the
    gradients ``backward`` returned, always as a tuple (``None`` where it returned none)."""
    context = FunctionContext([True] * len(inputs))
    with torch.no_grad():
        output = function.forward(context, *inputs)
        gradients = function.backward(context, *grad_outputs)
    if not isinstance(gradients, tuple):
        gradients = (gradients,)
    return output, gradients
