"""Variants of the exercises of notebook 01 (PyTorch basics) for the mutation suite.

``WRONG[exercise]`` maps a label to a realistic wrong solution cell, ``CORRECT[exercise]``
to a correct one written differently from the reference. Each value is a whole solution cell.
"""

from __future__ import annotations

import textwrap

ASSIGNMENT = "01_pytorch_basics"
NOTEBOOK = "pytorch_basics.ipynb"
EXERCISES = ("cubic_gradients", "LegendrePolynomial3", "fit_polynomial")


def _cubic(body: str) -> str:
    return "import numpy as np\n\n\ndef cubic_gradients(x, y, a, b, c, d):\n" + textwrap.indent(
        textwrap.dedent(body).strip("\n"), "    "
    )


def _legendre(body: str) -> str:
    return (
        "import torch\n\n\n"
        "class LegendrePolynomial3(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        ctx.save_for_backward(x)\n"
        "        return 0.5 * (5 * x**3 - 3 * x)\n\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad_output):\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "        ")
    )


def _fit(body: str) -> str:
    return (
        "import torch\nfrom torch import nn\n\n\n"
        "def fit_polynomial(model, x, y, optimizer, steps):\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    )


WRONG = {
    "cubic_gradients": {
        "mean_instead_of_sum": _cubic("""
            g = 2 * (a + b * x + c * x**2 + d * x**3 - y)
            return g.mean(), (g * x).mean(), (g * x**2).mean(), (g * x**3).mean()
        """),
        "missing_factor_two": _cubic("""
            r = a + b * x + c * x**2 + d * x**3 - y
            return r.sum(), (r * x).sum(), (r * x**2).sum(), (r * x**3).sum()
        """),
        "residual_sign_flipped": _cubic("""
            g = 2 * (y - (a + b * x + c * x**2 + d * x**3))
            return g.sum(), (g * x).sum(), (g * x**2).sum(), (g * x**3).sum()
        """),
        "powers_shifted_by_one": _cubic("""
            g = 2 * (a + b * x + c * x**2 + d * x**3 - y)
            return (g * x).sum(), (g * x**2).sum(), (g * x**3).sum(), (g * x**4).sum()
        """),
        "c_and_d_swapped": _cubic("""
            g = 2 * (a + b * x + c * x**2 + d * x**3 - y)
            return g.sum(), (g * x).sum(), (g * x**3).sum(), (g * x**2).sum()
        """),
        "powers_not_applied_to_c_and_d": _cubic("""
            g = 2 * (a + b * x + c * x**2 + d * x**3 - y)
            return g.sum(), (g * x).sum(), (g * x * 2).sum(), (g * x * 3).sum()
        """),
        "differentiates_with_autograd": _cubic("""
            import torch

            xs, ys = torch.from_numpy(x), torch.from_numpy(y)
            p = torch.tensor([a, b, c, d], dtype=torch.float64, requires_grad=True)
            loss = ((p[0] + p[1] * xs + p[2] * xs**2 + p[3] * xs**3 - ys) ** 2).sum()
            loss.backward()
            return tuple(float(v) for v in p.grad)
        """),
    },
    "LegendrePolynomial3": {
        "ignores_grad_output": """
            (x,) = ctx.saved_tensors
            return 1.5 * (5 * x**2 - 1)
        """,
        "derivative_missing_one_half": """
            (x,) = ctx.saved_tensors
            return grad_output * (15 * x**2 - 3)
        """,
        "differentiates_3x_as_3x": """
            (x,) = ctx.saved_tensors
            return grad_output * 0.5 * (15 * x**2 - 3 * x)
        """,
        "returns_forward_value": """
            (x,) = ctx.saved_tensors
            return grad_output * 0.5 * (5 * x**3 - 3 * x)
        """,
        "adds_instead_of_multiplying": """
            (x,) = ctx.saved_tensors
            return grad_output + 1.5 * (5 * x**2 - 1)
        """,
        "forgets_to_return": """
            (x,) = ctx.saved_tensors
            grad_input = grad_output * 1.5 * (5 * x**2 - 1)
        """,
        "differentiates_with_autograd": """
            (x,) = ctx.saved_tensors
            with torch.enable_grad():
                leaf = x.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(0.5 * (5 * leaf**3 - 3 * leaf), leaf, grad_output)
            return grad
        """,
    },
    "fit_polynomial": {
        "never_clears_gradients": _fit("""
            history = []
            for _ in range(steps):
                loss = ((model(x) - y) ** 2).sum()
                loss.backward()
                optimizer.step()
                history.append(loss.item())
            return history
        """),
        "clears_after_backward": _fit("""
            history = []
            for _ in range(steps):
                loss = ((model(x) - y) ** 2).sum()
                loss.backward()
                optimizer.zero_grad()
                optimizer.step()
                history.append(loss.item())
            return history
        """),
        "steps_before_backward": _fit("""
            history = []
            for _ in range(steps):
                optimizer.zero_grad()
                loss = ((model(x) - y) ** 2).sum()
                optimizer.step()
                loss.backward()
                history.append(loss.item())
            return history
        """),
        "mean_squared_error": _fit("""
            loss_fn = nn.MSELoss()
            history = []
            for _ in range(steps):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                history.append(loss.item())
            return history
        """),
        "one_step_too_many": _fit("""
            history = []
            for _ in range(steps + 1):
                optimizer.zero_grad()
                loss = ((model(x) - y) ** 2).sum()
                loss.backward()
                optimizer.step()
                history.append(loss.item())
            return history
        """),
        "records_loss_after_the_update": _fit("""
            history = []
            for _ in range(steps):
                optimizer.zero_grad()
                loss = ((model(x) - y) ** 2).sum()
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    history.append(((model(x) - y) ** 2).sum().item())
            return history
        """),
        "creates_its_own_optimizer": _fit("""
            own = torch.optim.SGD(model.parameters(), lr=1e-6)
            history = []
            for _ in range(steps):
                own.zero_grad()
                loss = ((model(x) - y) ** 2).sum()
                loss.backward()
                own.step()
                history.append(loss.item())
            return history
        """),
        "clears_at_the_end_of_each_step": _fit("""
            history = []
            for _ in range(steps):
                loss = ((model(x) - y) ** 2).sum()
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                history.append(loss.item())
            return history
        """),
    },
}
WRONG["LegendrePolynomial3"] = {k: _legendre(v) for k, v in WRONG["LegendrePolynomial3"].items()}

CORRECT = {
    "cubic_gradients": {
        "design_matrix": _cubic("""
            powers = np.stack([np.ones_like(x), x, x**2, x**3], axis=1)
            residual = powers @ np.array([a, b, c, d]) - y
            return tuple(float(g) for g in 2 * powers.T @ residual)
        """),
        "loop_over_powers_with_dot": _cubic("""
            residual = np.polyval([d, c, b, a], x) - y
            grads = []
            for power in range(4):
                grads.append(2.0 * np.dot(residual, x**power))
            return grads[0], grads[1], grads[2], grads[3]
        """),
        "numpy_scalars_from_sum": _cubic("""
            y_pred = a + b * x + c * x**2 + d * x**3
            grad_y_pred = 2.0 * (y_pred - y)
            grad_a = grad_y_pred.sum()
            grad_b = (grad_y_pred * x).sum()
            grad_c = (grad_y_pred * x ** 2).sum()
            grad_d = (grad_y_pred * x ** 3).sum()
            return grad_a, grad_b, grad_c, grad_d
        """),
    },
    "LegendrePolynomial3": {
        "expanded_derivative": """
            x = ctx.saved_tensors[0]
            return (7.5 * x**2 - 1.5) * grad_output
        """,
        "method_chain": """
            (x,) = ctx.saved_tensors
            return x.pow(2).mul(5).sub(1).mul(1.5).mul(grad_output)
        """,
        "in_place_on_a_copy": """
            (x,) = ctx.saved_tensors
            grad = x.clone()
            grad.pow_(2).mul_(7.5).sub_(1.5)
            grad.mul_(grad_output)
            return grad
        """,
    },
    "fit_polynomial": {
        "mse_sum_and_model_zero_grad": _fit("""
            loss_fn = nn.MSELoss(reduction="sum")
            history = []
            for _ in range(steps):
                model.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                history.append(float(loss))
            return history
        """),
        "grads_set_to_none_by_hand": _fit("""
            history = []
            step = 0
            while step < steps:
                for parameter in model.parameters():
                    parameter.grad = None
                residual = model(x) - y
                loss = torch.sum(residual * residual)
                loss.backward()
                optimizer.step()
                history.append(loss.detach().cpu().item())
                step += 1
            return history
        """),
        "zero_grad_keeping_tensors": _fit("""
            history = []
            for _ in range(steps):
                optimizer.zero_grad(set_to_none=False)
                loss = (model(x) - y).pow(2).sum()
                history.append(loss.item())
                loss.backward()
                optimizer.step()
            return history
        """),
    },
}
CORRECT["LegendrePolynomial3"] = {
    k: _legendre(v) for k, v in CORRECT["LegendrePolynomial3"].items()
}
