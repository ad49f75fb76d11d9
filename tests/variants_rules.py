"""Variants of the exercises of notebook 04 (optimizer rules) for the mutation suite.

``WRONG[exercise]`` maps a label to a realistic wrong solution cell, ``CORRECT[exercise]``
to a correct one written differently from the reference. Each cell is a whole rule class (or
the ``warmup`` function), as the student writes it; ``Rule`` and ``torch`` come from the
notebook's setup.
"""

from __future__ import annotations

import textwrap

ASSIGNMENT = "04_optimizer_rules"
NOTEBOOK = "optimizer_rules.ipynb"
EXERCISES = ("Nesterov", "Adagrad", "Adam", "AdamW", "warmup", "Chain")

INITS = {
    "Nesterov": """
        def __init__(self, lr=0.01, beta=0.9):
            super().__init__(lr=lr, beta=beta)
    """,
    "Adagrad": """
        def __init__(self, lr=0.01, epsilon=1e-10):
            super().__init__(lr=lr, epsilon=epsilon)
    """,
    "Adam": """
        def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
            super().__init__(lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon)
    """,
    "AdamW": """
        def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=1e-2):
            super().__init__(
                lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon, weight_decay=weight_decay
            )
    """,
}
ZEROS = "return torch.zeros_like(param)"
MOMENTS = "return torch.zeros_like(param), torch.zeros_like(param), 0"


def _rule(exercise: str, init: str, *parts: str) -> str:
    """A solution cell: the class, its ``__init__``, ``init``, and ``apply`` made of ``parts``."""

    def body(*sources: str) -> str:
        code = "\n".join(textwrap.dedent(source).strip("\n") for source in sources)
        return textwrap.indent(code, " " * 8)

    constructor = textwrap.indent(textwrap.dedent(INITS[exercise]).strip("\n"), " " * 4)
    return (
        f"class {exercise}(Rule):\n{constructor}\n\n"
        f"    def init(self, param):\n{body(init)}\n\n"
        f"    def apply(self, state, param, grad):\n{body(*parts)}\n"
    )


def _nesterov(*parts: str, init: str = ZEROS) -> str:
    return _rule("Nesterov", init, *parts)


def _adagrad(*parts: str, init: str = ZEROS) -> str:
    return _rule("Adagrad", init, *parts)


def _adam(*parts: str, init: str = MOMENTS) -> str:
    return _rule("Adam", init, *parts)


def _adamw(*parts: str, init: str = MOMENTS) -> str:
    return _rule("AdamW", init, *parts)


def _warmup(body: str, signature: str = "after, steps, start_factor=0.1") -> str:
    body = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return f"def warmup({signature}):\n{body}\n"


CHAIN_INIT = """
    def __init__(self, *rules):
        super().__init__(rules=rules)
"""
CHAIN_METHODS = {
    "init": """
        def init(self, param):
            return tuple(rule.init(param) for rule in self.rules)
    """,
    "apply": """
        def apply(self, state, param, grad):
            states = []
            for rule, rule_state in zip(self.rules, state):
                rule_state, grad = rule.apply(rule_state, param, grad)
                states.append(rule_state)
            return tuple(states), grad
    """,
    "hyperparameters": """
        def hyperparameters(self):
            return set().union(*(rule.hyperparameters() for rule in self.rules))
    """,
    "adjust": """
        def adjust(self, **hyperparameters):
            return Chain(*(rule.adjust(**hyperparameters) for rule in self.rules))
    """,
}


def _chain(**methods: str) -> str:
    """A ``Chain`` cell: the reference's methods, except those given."""
    parts = [CHAIN_INIT] + [methods.get(name, source) for name, source in CHAIN_METHODS.items()]
    body = "\n".join(textwrap.indent(textwrap.dedent(part).strip("\n"), "    ") for part in parts)
    return f"class Chain(Rule):\n{body}\n"


MOMENT_UPDATES = """
m, v, t = state
m = self.beta1 * m + (1 - self.beta1) * grad
v = self.beta2 * v + (1 - self.beta2) * grad**2
t = t + 1
"""
CORRECTED = """
m_hat = m / (1 - self.beta1**t)
v_hat = v / (1 - self.beta2**t)
"""

WRONG = {
    "Nesterov": {
        "heavy_ball_without_look_ahead": _nesterov("""
            velocity = self.beta * state + self.lr * grad
            return velocity, velocity
        """),
        "looks_ahead_with_the_old_velocity": _nesterov("""
            velocity = self.beta * state + self.lr * grad
            return velocity, self.beta * state + self.lr * grad
        """),
        "velocity_not_carried_forward": _nesterov("""
            velocity = self.beta * state + self.lr * grad
            return state, self.beta * velocity + self.lr * grad
        """),
        "ascends": _nesterov("""
            velocity = self.beta * state - self.lr * grad
            return velocity, self.beta * velocity - self.lr * grad
        """),
        "stores_torchs_buffer_instead_of_the_velocity": _nesterov("""
            buffer = self.beta * state + grad
            return buffer, self.lr * (self.beta * buffer + grad)
        """),
        "dampened_velocity": _nesterov("""
            velocity = self.beta * state + (1 - self.beta) * self.lr * grad
            return velocity, self.beta * velocity + self.lr * grad
        """),
        "uses_torch_optim_sgd": _nesterov("""
            p = param.clone().requires_grad_(True)
            p.grad = grad.clone()
            optimizer = torch.optim.SGD([p], lr=self.lr, momentum=self.beta, nesterov=True)
            optimizer.state[p]["momentum_buffer"] = state / self.lr
            optimizer.step()
            return optimizer.state[p]["momentum_buffer"] * self.lr, param - p.detach()
        """),
    },
    "Adagrad": {
        "epsilon_inside_the_square_root": _adagrad("""
            total = state + grad**2
            return total, self.lr * grad / torch.sqrt(total + self.epsilon)
        """),
        "running_average_instead_of_sum": _adagrad("""
            total = 0.9 * state + 0.1 * grad**2
            return total, self.lr * grad / (torch.sqrt(total) + self.epsilon)
        """),
        "sum_not_carried_forward": _adagrad("""
            total = state + grad**2
            return state, self.lr * grad / (torch.sqrt(total) + self.epsilon)
        """),
        "missing_square_root": _adagrad("""
            total = state + grad**2
            return total, self.lr * grad / (total + self.epsilon)
        """),
        "divides_by_the_old_sum": _adagrad("""
            step = self.lr * grad / (torch.sqrt(state) + self.epsilon)
            return state + grad**2, step
        """),
        "uses_torch_optim_adagrad": _adagrad("""
            p = param.clone().requires_grad_(True)
            p.grad = grad.clone()
            optimizer = torch.optim.Adagrad([p], lr=self.lr, eps=self.epsilon)
            optimizer.state[p]["sum"] = state.clone()
            optimizer.state[p]["step"] = torch.tensor(0.0)
            optimizer.step()
            return optimizer.state[p]["sum"], param - p.detach()
        """),
    },
    "Adam": {
        "no_bias_correction": _adam(
            MOMENT_UPDATES,
            """
            return (m, v, t), self.lr * m / (torch.sqrt(v) + self.epsilon)
        """,
        ),
        "bias_correction_of_m_only": _adam(
            MOMENT_UPDATES,
            """
            m_hat = m / (1 - self.beta1**t)
            return (m, v, t), self.lr * m_hat / (torch.sqrt(v) + self.epsilon)
        """,
        ),
        "epsilon_inside_the_square_root": _adam(
            MOMENT_UPDATES,
            CORRECTED,
            """
            return (m, v, t), self.lr * m_hat / torch.sqrt(v_hat + self.epsilon)
        """,
        ),
        "epsilon_added_to_the_uncorrected_root": _adam(
            MOMENT_UPDATES,
            """
            step_size = self.lr * (1 - self.beta2**t) ** 0.5 / (1 - self.beta1**t)
            return (m, v, t), step_size * m / (torch.sqrt(v) + self.epsilon)
        """,
        ),
        "swapped_betas": _adam(
            """
            m, v, t = state
            m = self.beta2 * m + (1 - self.beta2) * grad
            v = self.beta1 * v + (1 - self.beta1) * grad**2
            t = t + 1
        """,
            CORRECTED,
            """
            return (m, v, t), self.lr * m_hat / (torch.sqrt(v_hat) + self.epsilon)
        """,
        ),
        "state_not_carried_forward": _adam(
            MOMENT_UPDATES,
            CORRECTED,
            """
            return state, self.lr * m_hat / (torch.sqrt(v_hat) + self.epsilon)
        """,
        ),
        "step_count_never_increases": _adam("""
            m, v, t = state
            m = self.beta1 * m + (1 - self.beta1) * grad
            v = self.beta2 * v + (1 - self.beta2) * grad**2
            m_hat = m / (1 - self.beta1 ** (t + 1))
            v_hat = v / (1 - self.beta2 ** (t + 1))
            return (m, v, t), self.lr * m_hat / (torch.sqrt(v_hat) + self.epsilon)
        """),
        "uses_torch_optim_adam": _adam("""
            m, v, t = state
            p = param.clone().requires_grad_(True)
            p.grad = grad.clone()
            optimizer = torch.optim.Adam(
                [p], lr=self.lr, betas=(self.beta1, self.beta2), eps=self.epsilon
            )
            optimizer.state[p].update(
                step=torch.tensor(float(t)), exp_avg=m.clone(), exp_avg_sq=v.clone()
            )
            optimizer.step()
            s = optimizer.state[p]
            return (s["exp_avg"], s["exp_avg_sq"], t + 1), param - p.detach()
        """),
    },
    "AdamW": {
        "coupled_l2_penalty": _adamw(
            """
            m, v, t = state
            grad = grad + self.weight_decay * param
            m = self.beta1 * m + (1 - self.beta1) * grad
            v = self.beta2 * v + (1 - self.beta2) * grad**2
            t = t + 1
        """,
            CORRECTED,
            """
            return (m, v, t), self.lr * m_hat / (torch.sqrt(v_hat) + self.epsilon)
        """,
        ),
        "decay_not_scaled_by_lr": _adamw(
            MOMENT_UPDATES,
            CORRECTED,
            """
            adam = self.lr * m_hat / (torch.sqrt(v_hat) + self.epsilon)
            return (m, v, t), adam + self.weight_decay * param
        """,
        ),
        "decay_with_the_wrong_sign": _adamw(
            MOMENT_UPDATES,
            CORRECTED,
            """
            adam = m_hat / (torch.sqrt(v_hat) + self.epsilon)
            return (m, v, t), self.lr * (adam - self.weight_decay * param)
        """,
        ),
        "no_bias_correction": _adamw(
            MOMENT_UPDATES,
            """
            adam = m / (torch.sqrt(v) + self.epsilon)
            return (m, v, t), self.lr * (adam + self.weight_decay * param)
        """,
        ),
        "decays_the_already_updated_parameter": _adamw(
            MOMENT_UPDATES,
            CORRECTED,
            """
            adam = self.lr * m_hat / (torch.sqrt(v_hat) + self.epsilon)
            return (m, v, t), adam + self.lr * self.weight_decay * (param - adam)
        """,
        ),
        "epsilon_inside_the_square_root": _adamw(
            MOMENT_UPDATES,
            CORRECTED,
            """
            adam = m_hat / torch.sqrt(v_hat + self.epsilon)
            return (m, v, t), self.lr * (adam + self.weight_decay * param)
        """,
        ),
        "uses_torch_optim_adamw": _adamw("""
            m, v, t = state
            p = param.clone().requires_grad_(True)
            p.grad = grad.clone()
            optimizer = torch.optim.AdamW(
                [p], lr=self.lr, betas=(self.beta1, self.beta2), eps=self.epsilon,
                weight_decay=self.weight_decay,
            )
            optimizer.state[p].update(
                step=torch.tensor(float(t)), exp_avg=m.clone(), exp_avg_sq=v.clone()
            )
            optimizer.step()
            s = optimizer.state[p]
            return (s["exp_avg"], s["exp_avg_sq"], t + 1), param - p.detach()
        """),
    },
}

WRONG["warmup"] = {
    "reaches_the_top_one_step_early": _warmup("""
        def schedule(t):
            if t < steps:
                return after(0) * (start_factor + (1 - start_factor) * (t + 1) / steps)
            return after(t - steps)
        return schedule
    """),
    "after_not_restarted_when_the_ramp_ends": _warmup("""
        def schedule(t):
            if t < steps:
                return after(0) * (start_factor + (1 - start_factor) * t / steps)
            return after(t)
        return schedule
    """),
    "ramp_from_zero": _warmup("""
        def schedule(t):
            if t < steps:
                return after(0) * t / steps
            return after(t - steps)
        return schedule
    """),
    "ramp_towards_the_current_rate_of_after": _warmup("""
        def schedule(t):
            if t < steps:
                return after(t) * (start_factor + (1 - start_factor) * t / steps)
            return after(t - steps)
        return schedule
    """),
    "counts_calls_instead_of_reading_t": _warmup("""
        calls = [0]

        def schedule(t):
            k = calls[0]
            calls[0] += 1
            if k < steps:
                return after(0) * (start_factor + (1 - start_factor) * k / steps)
            return after(k - steps)
        return schedule
    """),
    "integer_division_in_the_ramp": _warmup("""
        def schedule(t):
            if t < steps:
                return after(0) * (start_factor + (1 - start_factor) * (t // steps))
            return after(t - steps)
        return schedule
    """),
    "default_start_factor_of_zero": _warmup("""
        def schedule(t):
            if t < steps:
                return after(0) * (start_factor + (1 - start_factor) * t / steps)
            return after(t - steps)
        return schedule
    """, signature="after, steps, start_factor=0.0"),
    "uses_the_course_warmup": _warmup("""
        from helpers.rules.schedules import warmup as course_warmup

        return course_warmup(after, steps, start_factor)
    """),
}

WRONG["Chain"] = {
    "applies_the_rules_in_reverse_order": _chain(apply="""
        def apply(self, state, param, grad):
            states = list(state)
            for index in reversed(range(len(self.rules))):
                states[index], grad = self.rules[index].apply(states[index], param, grad)
            return tuple(states), grad
    """),
    "every_rule_sees_the_raw_gradient": _chain(apply="""
        def apply(self, state, param, grad):
            states, step = [], grad
            for rule, rule_state in zip(self.rules, state):
                rule_state, step = rule.apply(rule_state, param, grad)
                states.append(rule_state)
            return tuple(states), step
    """),
    "adds_up_the_rules_steps": _chain(apply="""
        def apply(self, state, param, grad):
            states, total = [], torch.zeros_like(grad)
            for rule, rule_state in zip(self.rules, state):
                rule_state, step = rule.apply(rule_state, param, grad)
                states.append(rule_state)
                total = total + step
            return tuple(states), total
    """),
    "returns_the_old_states": _chain(apply="""
        def apply(self, state, param, grad):
            for rule, rule_state in zip(self.rules, state):
                _, grad = rule.apply(rule_state, param, grad)
            return state, grad
    """),
    "passes_the_stepped_param_on": _chain(apply="""
        def apply(self, state, param, grad):
            states = []
            for rule, rule_state in zip(self.rules, state):
                rule_state, grad = rule.apply(rule_state, param, grad)
                param = param - grad
                states.append(rule_state)
            return tuple(states), grad
    """),
    "adjust_leaves_the_rules_unchanged": _chain(adjust="""
        def adjust(self, **hyperparameters):
            return self
    """),
    "adjusts_only_the_last_rule": _chain(adjust="""
        def adjust(self, **hyperparameters):
            *first, last = self.rules
            return Chain(*first, last.adjust(**hyperparameters))
    """),
    "hyperparameters_not_collected_from_the_rules": _chain(hyperparameters="""
        def hyperparameters(self):
            return {"rules"}
    """),
    "uses_the_course_chain": _chain(apply="""
        def apply(self, state, param, grad):
            from helpers.rules.protocol import chain

            return chain(*self.rules).apply(state, param, grad)
    """),
}

CORRECT = {
    "Nesterov": {
        "velocity_updated_in_place": _nesterov("""
            state.mul_(self.beta).add_(grad, alpha=self.lr)
            return state, self.beta * state + self.lr * grad
        """),
        "expanded_step_from_the_old_velocity": _nesterov(
            """
            step = self.beta**2 * state + (1 + self.beta) * self.lr * grad
            return self.beta * state + self.lr * grad, step
            """,
            init="return torch.zeros(param.shape, dtype=param.dtype, device=param.device)",
        ),
    },
    "Adagrad": {
        "sum_updated_in_place": _adagrad("""
            state.addcmul_(grad, grad)
            return state, self.lr * grad / (state.sqrt() + self.epsilon)
        """),
        "functional_spelling": _adagrad(
            """
            total = torch.add(state, grad * grad)
            return total, torch.div(grad, total.sqrt().add(self.epsilon)).mul(self.lr)
            """,
            init="return torch.full_like(param, 0.0)",
        ),
    },
    "Adam": {
        "torch_style_step_size_and_denominator": _adam(
            MOMENT_UPDATES,
            """
            step_size = self.lr / (1 - self.beta1**t)
            denominator = torch.sqrt(v) / (1 - self.beta2**t) ** 0.5 + self.epsilon
            return (m, v, t), step_size * m / denominator
        """,
        ),
        "moments_in_place_with_lerp": _adam("""
            m, v, t = state
            m.lerp_(grad, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            t += 1
            m_hat = m / (1 - self.beta1**t)
            v_hat = v / (1 - self.beta2**t)
            return (m, v, t), self.lr * m_hat / (v_hat.sqrt() + self.epsilon)
        """),
        "list_state_and_tensor_step_count": _adam(
            """
            m, v, t = state
            t = t + 1
            m = self.beta1 * m + (1 - self.beta1) * grad
            v = self.beta2 * v + (1 - self.beta2) * grad.square()
            root = (v / (1 - self.beta2**t)).sqrt()
            corrected = (m / (1 - self.beta1**t)) / (root + self.epsilon)
            return [m, v, t], self.lr * corrected
            """,
            init="return [torch.zeros_like(param), torch.zeros_like(param), torch.tensor(0)]",
        ),
    },
    "AdamW": {
        "torch_style_decay_first": _adamw(
            MOMENT_UPDATES,
            """
            decayed = param * (1 - self.lr * self.weight_decay)
            denominator = torch.sqrt(v) / (1 - self.beta2**t) ** 0.5 + self.epsilon
            new_param = decayed - self.lr / (1 - self.beta1**t) * m / denominator
            return (m, v, t), param - new_param
        """,
        ),
        "moments_in_place": _adamw("""
            m, v, t = state
            m.mul_(self.beta1).add_(grad, alpha=1 - self.beta1)
            v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            t = t + 1
            m_hat = m / (1 - self.beta1**t)
            v_hat = v / (1 - self.beta2**t)
            step = self.lr * m_hat / (v_hat.sqrt() + self.epsilon)
            step += self.lr * self.weight_decay * param
            return (m, v, t), step
        """),
    },
    "warmup": {
        "ramp_up_to_and_including_t_equal_steps": _warmup("""
            def schedule(t):
                if t <= steps:
                    return after(0) * (start_factor + (1 - start_factor) * t / steps)
                return after(t - steps)
            return schedule
        """),
        "a_callable_object": _warmup("""
            class WarmUp:
                def __call__(self, t):
                    if t >= steps:
                        return after(t - steps)
                    fraction = min(t / steps, 1.0)
                    start = start_factor * after(0)
                    return start + (after(0) - start) * fraction
            return WarmUp()
        """),
        "lambda_with_numpy_interp": _warmup("""
            import numpy as np

            peak = after(0)
            return lambda t: (
                float(np.interp(t, [0, steps], [start_factor * peak, peak]))
                if t < steps else after(t - steps)
            )
        """),
    },
    "Chain": {
        "list_states_and_an_index_loop": _chain(
            init="""
            def init(self, param):
                return [rule.init(param) for rule in self.rules]
            """,
            apply="""
            def apply(self, state, param, grad):
                new_state = list(state)
                for i in range(len(self.rules)):
                    new_state[i], grad = self.rules[i].apply(state[i], param, grad)
                return new_state, grad
            """,
        ),
        "reduce_and_type_of_self": _chain(
            apply="""
            def apply(self, state, param, grad):
                import functools

                def link(carried, pair):
                    states, update = carried
                    rule, rule_state = pair
                    rule_state, update = rule.apply(rule_state, param, update)
                    return states + (rule_state,), update

                return functools.reduce(link, zip(self.rules, state), ((), grad))
            """,
            hyperparameters="""
            def hyperparameters(self):
                names = set()
                for rule in self.rules:
                    names |= rule.hyperparameters()
                return names
            """,
            adjust="""
            def adjust(self, **hyperparameters):
                return type(self)(*[rule.adjust(**hyperparameters) for rule in self.rules])
            """,
        ),
    },
}
