"""The rule protocol of notebook 04: every rule against ``torch.optim``, and the tree operations.

Where the conventions coincide a rule's 100-step trajectory equals its ``torch.optim``
counterpart's to 1e-6; where they differ, the relation its docstring states is pinned here.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.rules.affine import Affine, mse_distance
from helpers.rules.protocol import (
    Chain,
    ClipNorm,
    Descent,
    Momentum,
    RMSProp,
    Rule,
    WeightDecay,
    adjust,
    chain,
    freeze,
    gradients,
    setup,
    thaw,
    update,
    update_,
)
from helpers.rules.reference import Adagrad, Adam, AdamW, Nesterov
from helpers.rules.schedules import constant, cosine_decay, step_decay, warmup

STEPS = 100
RTOL = 1e-6


def _problem(seed: int = 0, bias: bool = True) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(20, 3, generator=generator, dtype=torch.float64)
    targets = torch.randn(20, 2, generator=generator, dtype=torch.float64)
    torch.manual_seed(seed)  # nn.Linear draws its weights from the global generator
    model = Affine(seed=seed).double() if bias else nn.Linear(3, 2, bias=False).double()
    return model, inputs, targets


def _rule_trajectory(rule: Rule, model: nn.Module, inputs, targets, steps=STEPS, lrs=None):
    state = setup(rule, model)
    path = []
    for t in range(steps):
        if lrs is not None:
            state = adjust(state, lr=lrs[t])
        loss = mse_distance(model(inputs), targets)
        state, model = update_(state, model, gradients(loss, model))
        path.append([p.detach().clone() for p in model.parameters()])
    return path


def _torch_trajectory(make_optimizer, model, inputs, targets, steps=STEPS, clip=None, lrs=None):
    optimizer = make_optimizer(model.parameters())
    path = []
    for t in range(steps):
        if lrs is not None:
            for group in optimizer.param_groups:
                group["lr"] = lrs[t]
        optimizer.zero_grad()
        mse_distance(model(inputs), targets).backward()
        if clip is not None:
            for param in model.parameters():
                nn.utils.clip_grad_norm_([param], clip)
        optimizer.step()
        path.append([p.detach().clone() for p in model.parameters()])
    return path


def _assert_same_path(ours, theirs, rtol=RTOL):
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for x, y in zip(a, b, strict=True):
            assert torch.allclose(x, y, rtol=rtol, atol=1e-9), f"differs at step {step + 1}"


AGREEMENT = {
    "Descent = SGD": (lambda: Descent(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "Momentum = SGD(momentum)": (
        lambda: Momentum(0.05, beta=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "Nesterov = SGD(nesterov)": (
        lambda: Nesterov(0.05, beta=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    ),
    "Adagrad = Adagrad": (
        lambda: Adagrad(0.1, epsilon=1e-10),
        lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-10),
    ),
    "RMSProp = RMSprop": (
        lambda: RMSProp(0.01, alpha=0.9, epsilon=1e-3),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-3),
    ),
    "Adam = Adam": (
        lambda: Adam(0.02, beta1=0.8, beta2=0.95, epsilon=1e-3),
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-3),
    ),
    "AdamW = AdamW": (
        lambda: AdamW(0.02, beta1=0.8, beta2=0.95, epsilon=1e-3, weight_decay=0.3),
        lambda p: torch.optim.AdamW(p, lr=0.02, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.3),
    ),
    "chain(WeightDecay, Descent) = SGD(weight_decay)": (
        lambda: chain(WeightDecay(0.2), Descent(0.1)),
        lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.2),
    ),
    "chain(WeightDecay, Adam) = Adam(weight_decay)": (
        lambda: chain(WeightDecay(0.2), Adam(0.02)),
        lambda p: torch.optim.Adam(p, lr=0.02, weight_decay=0.2),
    ),
}


@pytest.mark.parametrize("label", AGREEMENT)
def test_rule_matches_torch_optim_for_100_steps_when_conventions_coincide(label):
    make_rule, make_optimizer = AGREEMENT[label]
    ours = _rule_trajectory(make_rule(), *_problem())
    theirs = _torch_trajectory(make_optimizer, *_problem())
    _assert_same_path(ours, theirs)


def test_clip_norm_matches_clip_grad_norm_when_the_model_has_one_tensor():
    ours = _rule_trajectory(chain(ClipNorm(0.3), Descent(0.1)), *_problem(bias=False))
    optimizer = lambda p: torch.optim.SGD(p, lr=0.1)  # noqa: E731
    theirs = _torch_trajectory(optimizer, *_problem(bias=False), clip=0.3)
    _assert_same_path(ours, theirs)


def _clipped_by_torch(grads: list[torch.Tensor], max_norm: float) -> list[torch.Tensor]:
    holders = [nn.Parameter(torch.zeros_like(g)) for g in grads]
    for holder, g in zip(holders, grads):
        holder.grad = g.clone()
    nn.utils.clip_grad_norm_(holders, max_norm)
    return [holder.grad for holder in holders]


def test_clip_norm_equals_clip_grad_norm_called_once_per_tensor_not_on_all_together():
    model, inputs, targets = _problem()
    grads = gradients(mse_distance(model(inputs), targets), model)
    _, stepped = update(setup(ClipNorm(0.1), model), model, grads)
    steps = [model.W - stepped.W, model.b - stepped.b]
    one_by_one = [_clipped_by_torch([grads[name]], 0.1)[0] for name in ("W", "b")]
    together = _clipped_by_torch([grads["W"], grads["b"]], 0.1)
    for step, alone, jointly in zip(steps, one_by_one, together):
        assert torch.allclose(step, alone, rtol=1e-12)
        assert not torch.allclose(step, jointly, rtol=1e-3)


def test_adamw_equals_adam_chained_with_a_weight_decay_scaled_by_lr():
    ours = _rule_trajectory(AdamW(0.02, weight_decay=0.3), *_problem())
    chained = _rule_trajectory(chain(Adam(0.02), WeightDecay(0.02 * 0.3)), *_problem())
    _assert_same_path(ours, chained, rtol=1e-12)


def test_l2_in_adam_differs_from_decoupled_weight_decay():
    coupled = _rule_trajectory(chain(WeightDecay(0.3), Adam(0.02)), *_problem())
    decoupled = _rule_trajectory(AdamW(0.02, weight_decay=0.3), *_problem())
    assert not torch.allclose(coupled[-1][0], decoupled[-1][0], rtol=1e-3)


def test_momentum_matches_torch_after_lr_change_only_if_the_velocity_is_rescaled():
    lrs = [0.05] * 50 + [0.01] * 50
    theirs = _torch_trajectory(
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), *_problem(), lrs=lrs
    )
    plain = _rule_trajectory(Momentum(0.05, 0.9), *_problem(), lrs=lrs)
    assert not torch.allclose(plain[-1][0], theirs[-1][0], rtol=1e-3)

    # torch multiplies its whole buffer by the new rate: rescale the velocity at the change.
    model, inputs, targets = _problem()
    state = setup(Momentum(0.05, 0.9), model)
    ours = []
    for t, lr in enumerate(lrs):
        if t == 50:
            state = adjust(state, lr=lr)
            state = state.replace_leaves(
                {
                    id(leaf): type(leaf)(leaf.rule, leaf.state * (0.01 / 0.05))
                    for leaf in state.unique().values()
                }
            )
        loss = mse_distance(model(inputs), targets)
        state, model = update_(state, model, gradients(loss, model))
        ours.append([p.detach().clone() for p in model.parameters()])
    _assert_same_path(ours, theirs)


def test_dampened_torch_momentum_takes_longer_steps_by_a_decaying_transient():
    lr, beta, d, g = 0.1, 0.9, 0.5, torch.tensor([1.0, -2.0], dtype=torch.float64)
    w = nn.Parameter(torch.zeros(2, dtype=torch.float64))
    optimizer = torch.optim.SGD([w], lr=lr, momentum=beta, dampening=d)
    point = nn.Module()
    point.w = nn.Parameter(torch.zeros(2, dtype=torch.float64))
    state = setup(Momentum(lr * (1 - d), beta), point)
    for t in range(1, 31):
        before_torch, before_ours = w.detach().clone(), point.w.detach().clone()
        optimizer.zero_grad()
        (g * w).sum().backward()  # a linear loss: the gradient is g at every step
        optimizer.step()
        state, point = update_(state, point, {"w": g})
        torch_step = before_torch - w.detach()
        our_step = before_ours - point.w.detach()
        assert torch.allclose(torch_step - our_step, lr * d * beta ** (t - 1) * g, atol=1e-12)


def test_rmsprop_with_epsilon_inside_follows_notebook_03s_convention():
    lr, alpha, eps = 0.01, 0.9, 1e-2
    ours = _rule_trajectory(RMSProp(lr, alpha, eps, epsilon_inside=True), *_problem())
    model, inputs, targets = _problem()
    params = list(model.parameters())
    averages = [torch.zeros_like(p) for p in params]
    by_hand = []
    for _ in range(STEPS):
        grads = torch.autograd.grad(mse_distance(model(inputs), targets), params)
        with torch.no_grad():
            for p, v, g in zip(params, averages, grads):
                v.mul_(alpha).add_((1 - alpha) * g**2)
                p -= lr * g / torch.sqrt(v + eps)
        by_hand.append([p.detach().clone() for p in params])
    _assert_same_path(ours, by_hand)
    outside = _rule_trajectory(RMSProp(lr, alpha, eps), *_problem())
    assert not torch.allclose(outside[-1][0], ours[-1][0], rtol=1e-3)


def test_adjust_mid_training_matches_changing_torchs_param_group_lr():
    lrs = [0.02 * (0.97**t) for t in range(STEPS)]
    ours = _rule_trajectory(Adam(0.02, epsilon=1e-3), *_problem(), lrs=lrs)
    theirs = _torch_trajectory(
        lambda p: torch.optim.Adam(p, lr=0.02, eps=1e-3), *_problem(), lrs=lrs
    )
    _assert_same_path(ours, theirs)


# --------------------------------------------------------------------------------------
# The state tree
# --------------------------------------------------------------------------------------


class _InPlaceMomentum(Rule):
    """A rule that changes its state tensor in place, to check that ``update`` is still pure."""

    def __init__(self, lr=0.1, beta=0.9):
        super().__init__(lr=lr, beta=beta)

    def init(self, param):
        return torch.zeros_like(param)

    def apply(self, state, param, grad):
        state.mul_(self.beta).add_(grad, alpha=self.lr)
        return state, state


def test_update_is_pure_when_the_rule_mutates_its_state():
    model, inputs, targets = _problem()
    state = setup(_InPlaceMomentum(), model)
    state, model = update_(state, model, gradients(mse_distance(model(inputs), targets), model))
    grads = gradients(mse_distance(model(inputs), targets), model)
    params_before = {n: p.detach().clone() for n, p in model.named_parameters()}
    states_before = {n: leaf.state.clone() for n, leaf in state.items()}
    grads_before = {n: g.clone() for n, g in grads.items()}

    new_state, new_model = update(state, model, grads)

    assert new_model is not model
    for name, param in model.named_parameters():
        assert torch.equal(param, params_before[name])
        assert torch.equal(state[name].state, states_before[name])
        assert torch.equal(grads[name], grads_before[name])
        assert not torch.equal(dict(new_model.named_parameters())[name], params_before[name])
        assert not torch.equal(new_state[name].state, states_before[name])


def test_update_in_place_changes_the_model_and_returns_it():
    model, inputs, targets = _problem()
    state = setup(Descent(0.1), model)
    grads = gradients(mse_distance(model(inputs), targets), model)
    _, pure_model = update(state, model, grads)
    _, same = update_(state, model, grads)
    assert same is model
    for name, param in model.named_parameters():
        assert torch.equal(param, dict(pure_model.named_parameters())[name])


def test_update_reads_dot_grad_when_no_gradients_are_given():
    model, inputs, targets = _problem()
    twin = _problem()[0]
    mse_distance(model(inputs), targets).backward()
    update_(setup(Descent(0.1), model), model)
    update_(setup(Descent(0.1), twin), twin, gradients(mse_distance(twin(inputs), targets), twin))
    assert torch.equal(model.W, twin.W)


class _Tied(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Linear(3, 3, bias=False).double()
        self.decoder = nn.Linear(3, 3, bias=False).double()
        self.decoder.weight = self.encoder.weight  # one tensor, two names

    def forward(self, x):
        return self.decoder(torch.tanh(self.encoder(x)))


def test_shared_parameters_share_one_state_entry_and_move_once_per_step():
    model = _Tied()
    state = setup(Momentum(0.05, 0.9), model)
    assert set(state) == {"encoder.weight", "decoder.weight"}
    assert state["encoder.weight"] is state["decoder.weight"]

    x = torch.randn(10, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    reference = _Tied()
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    for _ in range(20):
        state, model = update(state, model, gradients(((model(x) - x) ** 2).mean(), model))
        optimizer.zero_grad()
        ((reference(x) - x) ** 2).mean().backward()
        optimizer.step()
    assert state["encoder.weight"] is state["decoder.weight"]
    assert model.encoder.weight is model.decoder.weight, "update should keep tied weights tied"
    assert torch.allclose(model.encoder.weight, reference.encoder.weight, rtol=RTOL)


def test_adjust_changes_hyperparameters_and_keeps_the_accumulated_state():
    model, inputs, targets = _problem()
    state = setup(chain(WeightDecay(0.1), Adam(0.02)), model)
    for _ in range(5):
        state, model = update(state, model, gradients(mse_distance(model(inputs), targets), model))
    adjusted = adjust(state, lr=0.001, beta1=0.5)
    for name in state:
        decay, adam = adjusted[name].rule.rules
        assert decay == WeightDecay(0.1)
        assert adam == Adam(0.001, beta1=0.5)
        assert adjusted[name].state is state[name].state
        assert adjusted[name].state[1][2] == 5
    assert state["W"].rule.rules[1].lr == 0.02, "adjust must not change the old state"


def test_adjust_rejects_a_hyperparameter_no_rule_has():
    state = setup(Descent(0.1), _problem()[0])
    with pytest.raises(ValueError, match="lr_typo"):
        adjust(state, lr_typo=0.1)


def test_rules_are_immutable_values():
    rule = Adam(0.01)
    with pytest.raises(AttributeError):
        rule.lr = 0.5
    assert rule == Adam(0.01) and rule != Adam(0.02) and hash(rule) == hash(Adam(0.01))
    assert repr(rule) == "Adam(lr=0.01, beta1=0.9, beta2=0.999, epsilon=1e-08)"


def test_frozen_parameters_keep_their_value_and_state_until_thawed():
    model, inputs, targets = _problem()
    state = freeze(setup(Momentum(0.05, 0.9), model), "b")
    b_before = model.b.detach().clone()
    for _ in range(10):
        state, model = update_(state, model, gradients(mse_distance(model(inputs), targets), model))
    assert torch.equal(model.b, b_before)
    assert torch.equal(state["b"].state, torch.zeros_like(b_before))
    assert not torch.equal(state["W"].state, torch.zeros_like(model.W))

    state = thaw(state, "b")
    state, model = update_(state, model, gradients(mse_distance(model(inputs), targets), model))
    assert not torch.equal(model.b, b_before)


def test_freeze_by_module_name_freezes_everything_below_it():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    state = freeze(setup(Descent(0.1), model), "0")
    assert [name for name, leaf in state.items() if leaf.frozen] == ["0.weight", "0.bias"]
    assert not any(leaf.frozen for leaf in thaw(state).values())
    with pytest.raises(KeyError):
        freeze(state, "2")


def test_a_tensor_that_is_not_registered_gets_no_leaf_and_never_moves():
    model = Affine(register_bias=False).double()
    inputs, targets = _problem()[1:]
    state = setup(Descent(0.1), model)
    assert list(state) == ["W"]
    b_before = model.b.clone()
    for _ in range(10):
        state, model = update(state, model, gradients(mse_distance(model(inputs), targets), model))
    assert torch.equal(model.b, b_before)


def test_chain_state_is_the_tuple_of_its_rules_states_and_steps_compose():
    model, inputs, targets = _problem()
    rule = chain(WeightDecay(0.1), ClipNorm(0.5), Adam(0.02))
    state = setup(rule, model)
    assert state["W"].state[:2] == (None, None) and len(state["W"].state[2]) == 3
    grads = gradients(mse_distance(model(inputs), targets), model)
    _, stepped = update(state, model, grads)
    g = grads["W"] + 0.1 * model.W.detach()
    g = ClipNorm(0.5).apply(None, model.W, g)[1]
    _, step = Adam(0.02).apply(Adam(0.02).init(model.W), model.W, g)
    assert torch.allclose(model.W - stepped.W, step)


def test_gradients_match_backward_and_give_zeros_to_unused_parameters():
    model, inputs, targets = _problem()
    model.unused = nn.Parameter(torch.ones(2, dtype=torch.float64))
    grads = gradients(mse_distance(model(inputs), targets), model)
    mse_distance(model(inputs), targets).backward()
    assert torch.equal(grads["W"], model.W.grad) and torch.equal(grads["b"], model.b.grad)
    assert torch.equal(grads["unused"], torch.zeros(2, dtype=torch.float64))


# --------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------


def _torch_lrs(make_scheduler, steps):
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_step_decay_matches_step_lr():
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 30, gamma=0.5), 100)
    assert [step_decay(0.1, 0.5, 30)(t) for t in range(100)] == pytest.approx(theirs, rel=1e-9)


def test_cosine_decay_matches_cosine_annealing_up_to_its_length():
    make = lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=80, eta_min=0.01)  # noqa: E731
    theirs = _torch_lrs(make, 81)
    assert [cosine_decay(0.1, 80, 0.01)(t) for t in range(81)] == pytest.approx(theirs, rel=1e-9)
    assert cosine_decay(0.1, 80, 0.01)(200) == 0.01


def test_warmup_matches_linear_lr_then_the_next_schedule():
    def make(optimizer):
        ramp = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=10)
        rest = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=50)
        return torch.optim.lr_scheduler.SequentialLR(optimizer, [ramp, rest], milestones=[10])

    theirs = _torch_lrs(make, 60)
    ours = [warmup(cosine_decay(0.1, 50), 10, start_factor=0.1)(t) for t in range(60)]
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert constant(0.3)(1000) == 0.3


def test_chain_takes_its_rules_as_arguments_and_adjust_reaches_into_nested_chains():
    inner = Chain(ClipNorm(0.5), Momentum(lr=0.1, beta=0.9))
    rule = Chain(inner, WeightDecay(0.1))
    assert rule == chain(chain(ClipNorm(0.5), Momentum(lr=0.1, beta=0.9)), WeightDecay(0.1))
    assert rule.hyperparameters() == {"max_norm", "lr", "beta", "weight_decay"}
    adjusted = rule.adjust(lr=0.01)
    assert adjusted.rules[0].rules[1] == Momentum(lr=0.01, beta=0.9)
    assert adjusted.rules[1] == WeightDecay(0.1)
