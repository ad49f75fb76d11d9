"""Variants of the exercises of notebook 01 (PyTorch basics) for the mutation suite.

``WRONG[exercise]`` maps a label to a realistic wrong solution cell, ``CORRECT[exercise]``
to a correct one written differently from the reference. Each value is a whole solution cell.
"""

from __future__ import annotations

import textwrap

ASSIGNMENT = "01_pytorch_basics"
NOTEBOOK = "pytorch_basics.ipynb"
EXERCISES = (
    "cubic_gradients", "LegendrePolynomial3", "SumSquaredError", "fit_polynomial",
    "stability_limit",
)


def _cubic(body: str) -> str:
    return "import numpy as np\n\n\ndef cubic_gradients(x, y, a, b, c, d):\n" + textwrap.indent(
        textwrap.dedent(body).strip("\n"), "    "
    )


def _function(name: str, signature: str, forward: str, backward: str) -> str:
    """A custom autograd Function ``name`` whose ``forward(ctx, <signature>)`` and
    ``backward(ctx, grad_output)`` have the given bodies."""

    def body(source: str) -> str:
        return textwrap.indent(textwrap.dedent(source).strip("\n"), " " * 8)

    return (
        "import torch\n\n\n"
        f"class {name}(torch.autograd.Function):\n"
        "    @staticmethod\n"
        f"    def forward(ctx, {signature}):\n{body(forward)}\n\n"
        "    @staticmethod\n"
        f"    def backward(ctx, grad_output):\n{body(backward)}\n"
    )


LEGENDRE_FORWARD = """
    ctx.save_for_backward(x)
    return 0.5 * (5 * x**3 - 3 * x)
"""
LEGENDRE_BACKWARD = """
    (x,) = ctx.saved_tensors
    return grad_output * 1.5 * (5 * x**2 - 1)
"""


def _legendre(backward: str, forward: str = LEGENDRE_FORWARD) -> str:
    return _function("LegendrePolynomial3", "x", forward, backward)


def _sse(forward: str, backward: str) -> str:
    return _function("SumSquaredError", "prediction, target", forward, backward)


SSE_FORWARD = """
    ctx.save_for_backward(prediction, target)
    return ((prediction - target) ** 2).sum()
"""


def _limit(body: str) -> str:
    return "import numpy as np\nimport torch\n\n\ndef stability_limit(x):\n" + textwrap.indent(
        textwrap.dedent(body).strip("\n"), "    "
    )


POWERS = "powers = torch.stack([torch.ones_like(x), x, x**2, x**3], dim=1).double()"


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
WRONG["LegendrePolynomial3"] |= {
    "forward_saves_its_output": _legendre(LEGENDRE_BACKWARD, """
        y = 0.5 * (5 * x**3 - 3 * x)
        ctx.save_for_backward(y)
        return y
    """),
    "forward_stores_the_input_on_ctx": _legendre("""
        x = ctx.x
        return grad_output * 1.5 * (5 * x**2 - 1)
    """, """
        ctx.x = x
        return 0.5 * (5 * x**3 - 3 * x)
    """),
    "forward_without_the_half": _legendre(LEGENDRE_BACKWARD, """
        ctx.save_for_backward(x)
        return 5 * x**3 - 3 * x
    """),
    "forward_cubes_the_input_in_place": _legendre(LEGENDRE_BACKWARD, """
        ctx.save_for_backward(x)
        return 0.5 * (5 * x.pow_(3) - 3 * x)
    """),
}

WRONG["SumSquaredError"] = {
    "ignores_needs_input_grad": _sse(SSE_FORWARD, """
        prediction, target = ctx.saved_tensors
        grad = 2 * (prediction - target) * grad_output
        return grad, -grad
    """),
    "returns_the_prediction_gradient_only": _sse(SSE_FORWARD, """
        prediction, target = ctx.saved_tensors
        return 2 * (prediction - target) * grad_output
    """),
    "same_sign_for_the_target": _sse(SSE_FORWARD, """
        prediction, target = ctx.saved_tensors
        grad = 2 * (prediction - target) * grad_output
        return (grad if ctx.needs_input_grad[0] else None,
                grad if ctx.needs_input_grad[1] else None)
    """),
    "ignores_grad_output": _sse(SSE_FORWARD, """
        prediction, target = ctx.saved_tensors
        grad = 2 * (prediction - target)
        return (grad if ctx.needs_input_grad[0] else None,
                -grad if ctx.needs_input_grad[1] else None)
    """),
    "mean_instead_of_sum": _sse("""
        ctx.save_for_backward(prediction, target)
        return ((prediction - target) ** 2).mean()
    """, """
        prediction, target = ctx.saved_tensors
        grad = 2 * (prediction - target) * grad_output / prediction.numel()
        return (grad if ctx.needs_input_grad[0] else None,
                -grad if ctx.needs_input_grad[1] else None)
    """),
    "missing_factor_two": _sse(SSE_FORWARD, """
        prediction, target = ctx.saved_tensors
        grad = (prediction - target) * grad_output
        return (grad if ctx.needs_input_grad[0] else None,
                -grad if ctx.needs_input_grad[1] else None)
    """),
    "computes_the_target_gradient_only_when_the_prediction_needs_one": _sse(SSE_FORWARD, """
        prediction, target = ctx.saved_tensors
        grad_prediction = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_prediction = 2 * (prediction - target) * grad_output
            if ctx.needs_input_grad[1]:
                grad_target = -grad_prediction
        return grad_prediction, grad_target
    """),
    "saves_the_residual_on_ctx": _sse("""
        ctx.residual = prediction - target
        return (ctx.residual ** 2).sum()
    """, """
        grad = 2 * ctx.residual * grad_output
        return (grad if ctx.needs_input_grad[0] else None,
                -grad if ctx.needs_input_grad[1] else None)
    """),
    "forward_returns_a_python_number": _sse("""
        ctx.save_for_backward(prediction, target)
        return ((prediction - target) ** 2).sum().item()
    """, """
        prediction, target = ctx.saved_tensors
        grad = 2 * (prediction - target) * grad_output
        return (grad if ctx.needs_input_grad[0] else None,
                -grad if ctx.needs_input_grad[1] else None)
    """),
    "differentiates_with_autograd": _sse(SSE_FORWARD, """
        prediction, target = ctx.saved_tensors
        with torch.enable_grad():
            p = prediction.detach().requires_grad_(True)
            t = target.detach().requires_grad_(True)
            grads = torch.autograd.grad(((p - t) ** 2).sum(), (p, t), grad_output)
        return tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad))
    """),
}

WRONG["stability_limit"] = {
    "one_over_lambda_max": _limit(f"""
        {POWERS}
        return 1 / torch.linalg.eigvalsh(2 * powers.T @ powers)[-1].item()
    """),
    "hessian_without_the_factor_two": _limit(f"""
        {POWERS}
        return 2 / torch.linalg.eigvalsh(powers.T @ powers)[-1].item()
    """),
    "smallest_eigenvalue": _limit(f"""
        {POWERS}
        return 2 / torch.linalg.eigvalsh(2 * powers.T @ powers)[0].item()
    """),
    "mean_instead_of_sum": _limit(f"""
        {POWERS}
        return 2 / torch.linalg.eigvalsh(2 * powers.T @ powers / len(x))[-1].item()
    """),
    "without_the_constant_column": _limit("""
        powers = torch.stack([x, x**2, x**3], dim=1).double()
        return 2 / torch.linalg.eigvalsh(2 * powers.T @ powers)[-1].item()
    """),
    "largest_diagonal_entry": _limit(f"""
        {POWERS}
        return 2 / (2 * powers.T @ powers).diagonal().max().item()
    """),
    "trace_of_the_hessian": _limit(f"""
        {POWERS}
        return 2 / torch.trace(2 * powers.T @ powers).item()
    """),
    "calls_the_course_helper": _limit("""
        from helpers.basics.polynomial import largest_stable_lr

        return largest_stable_lr(x)
    """),
}

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
CORRECT["LegendrePolynomial3"] |= {
    "saves_the_local_derivative": _legendre("""
        (slope,) = ctx.saved_tensors
        return grad_output * slope
    """, """
        ctx.save_for_backward(1.5 * (5 * x * x - 1))
        return 2.5 * x * x * x - 1.5 * x
    """),
    "horner_form_with_torch_pow": _legendre(LEGENDRE_BACKWARD, """
        ctx.save_for_backward(x)
        return x * (2.5 * torch.pow(x, 2) - 1.5)
    """),
}

CORRECT["SumSquaredError"] = {
    "saves_the_residual": _sse("""
        residual = prediction - target
        ctx.save_for_backward(residual)
        return residual.pow(2).sum()
    """, """
        (residual,) = ctx.saved_tensors
        grad = 2 * residual * grad_output
        grad_prediction = grad if ctx.needs_input_grad[0] else None
        grad_target = -grad if ctx.needs_input_grad[1] else None
        return grad_prediction, grad_target
    """),
    "each_gradient_on_its_own": _sse("""
        ctx.save_for_backward(prediction, target)
        return torch.sum((prediction - target) * (prediction - target))
    """, """
        prediction, target = ctx.saved_tensors
        grads = [None, None]
        if ctx.needs_input_grad[0]:
            grads[0] = grad_output * 2 * (prediction - target)
        if ctx.needs_input_grad[1]:
            grads[1] = grad_output * 2 * (target - prediction)
        return tuple(grads)
    """),
    "trailing_none_for_no_third_input": _sse(SSE_FORWARD, """
        prediction, target = ctx.saved_tensors
        grad = (prediction - target).mul(2).mul(grad_output)
        return (
            grad if ctx.needs_input_grad[0] else None,
            grad.neg() if ctx.needs_input_grad[1] else None,
            None,
        )
    """),
}

CORRECT["stability_limit"] = {
    "largest_singular_value": _limit("""
        design = torch.stack([x**0, x, x**2, x**3], dim=-1).to(torch.float64)
        return float(1 / torch.linalg.svdvals(design)[0] ** 2)
    """),
    "numpy_vander_and_eigvals": _limit("""
        design = np.vander(x.cpu().numpy().astype(np.float64), 4, increasing=True)
        return 2 / np.linalg.eigvals(2 * design.T @ design).real.max()
    """),
    "power_iteration_in_float32": _limit("""
        design = torch.stack([torch.ones_like(x), x, x * x, x * x * x], dim=1).float()
        hessian = 2 * design.T @ design
        v = torch.ones(4)
        for _ in range(500):
            v = hessian @ v
            v = v / v.norm()
        return 2 / (v @ hessian @ v).item()
    """),
    "hessian_by_autograd": _limit("""
        design = torch.stack([torch.ones_like(x), x, x**2, x**3], dim=1).double()

        def loss(coefficients):
            return ((design @ coefficients) ** 2).sum()

        hessian = torch.autograd.functional.hessian(loss, torch.zeros(4, dtype=torch.float64))
        return 2 / max(torch.linalg.eigvalsh(hessian)).item()
    """),
}
