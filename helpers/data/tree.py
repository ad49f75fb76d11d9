"""Hierarchical toy data for the deep linear network notebook (02): items and their features.

Features are sampled by a branching diffusion down a tree of items (Saxe et al. 2019), so that
the data's singular modes follow the tree: first animals vs plants, then fish vs birds, ...
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

TREE_ITEMS = ("goldfish", "tuna", "robin", "canary", "rose", "daisy", "pine", "oak")


@dataclass
class TreeData:
    """Items (network inputs, one-hot rows) and their features (targets, +1/-1 rows).

    ``items`` has shape (n_items, n_items) and ``features`` (n_items, n_features); row ``i`` of
    both belongs to ``item_names[i]``. ``feature_names`` names the last columns of
    ``features`` that were added by hand (see ``add_feature``); sampled columns have no name.
    """

    items: torch.Tensor
    features: torch.Tensor
    item_names: list[str]
    feature_names: list[str]


def _leaf_ancestry(n_levels: int, n_branches: int) -> torch.Tensor:
    """0/1 matrix (n_leaves, n_nodes): entry (i, j) is 1 when node j lies on leaf i's path.

    Nodes are numbered breadth first (root 0, its children 1..n_branches, ...), so the
    leaves are the last ``n_branches ** n_levels`` nodes, ordered left to right.
    """
    n_nodes = sum(n_branches**level for level in range(n_levels + 1))
    n_leaves = n_branches**n_levels
    ancestry = torch.zeros(n_leaves, n_nodes)
    for leaf in range(n_leaves):
        node = n_nodes - n_leaves + leaf
        while node >= 0:
            ancestry[leaf, node] = 1.0
            node = (node - 1) // n_branches if node > 0 else -1
    return ancestry


def hierarchical_data(
    n_features: int = 10_000,
    flip_probability: float = 0.15,
    seed: int | torch.Generator = 0,
    n_levels: int = 3,
    n_branches: int = 2,
    item_names: list[str] | tuple[str, ...] | None = None,
    device: torch.device | str | None = None,
) -> TreeData:
    """Sample items and features from a branching diffusion process on a tree.

    Every feature is one independent run of the process: the root draws a random sign
    (+1 or -1 with equal odds), and going down, each child copies its parent's sign but
    flips it with probability ``flip_probability``. The signs reaching the
    ``n_branches ** n_levels`` leaves (the items) form one column of ``features``. Items that
    share a longer path agree more often, so similarity follows the tree: with the default
    depth 3, fish resemble fish more than birds, and animals resemble animals more than plants.

    ``seed`` (an int or a ``torch.Generator``) makes the sample reproducible; the result
    lives on ``device`` (default: CPU) in float32.
    """
    if not 0.0 <= flip_probability <= 1.0:
        raise ValueError(f"flip_probability must lie in [0, 1], got {flip_probability}.")
    if n_features < 1 or n_levels < 1 or n_branches < 2:
        raise ValueError("Need n_features >= 1, n_levels >= 1 and n_branches >= 2.")
    n_items = n_branches**n_levels
    names = list(item_names) if item_names is not None else None
    if names is None:
        if n_items != len(TREE_ITEMS):
            raise ValueError(f"Pass item_names: the default names are for {len(TREE_ITEMS)} items.")
        names = list(TREE_ITEMS)
    if len(names) != n_items:
        raise ValueError(f"A tree with these sizes has {n_items} items, got {len(names)} names.")
    generator = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(seed)
    ancestry = _leaf_ancestry(n_levels, n_branches)
    flip = torch.full((ancestry.shape[1], 1), flip_probability)
    flip[0] = 0.5  # the root's sign is a fair coin, so every feature has mean zero
    flipped = torch.rand(ancestry.shape[1], n_features, generator=generator) < flip
    # A leaf's sign is the product of the signs on its path: -1 when an odd number flipped.
    parity = torch.remainder(ancestry @ flipped.float(), 2.0)
    features = 1.0 - 2.0 * parity
    items = torch.eye(n_items)
    return TreeData(items.to(device), features.to(device), names, [])


def add_feature(
    data: TreeData,
    values: list[float] | tuple[float, ...] | torch.Tensor,
    name: str,
    item_names: list[str] | tuple[str, ...] | None = None,
) -> TreeData:
    """Return a copy of ``data`` with one hand-made feature column appended (and renamed items).

    ``values`` gives the feature for every item (+1 "yes", -1 "no"), in the order of the
    items. ``item_names`` optionally renames the items, for example to swap goldfish for a
    shark: the inputs are one-hot codes, so a name is only a label.
    """
    n_items = data.features.shape[0]
    column = torch.as_tensor(values, dtype=data.features.dtype).flatten()
    if column.numel() != n_items:
        raise ValueError(f"Need one feature value per item ({n_items}), got {column.numel()}.")
    if not bool(((column == 1) | (column == -1)).all()):
        raise ValueError("Feature values must be +1 (yes) or -1 (no).")
    names = list(item_names) if item_names is not None else list(data.item_names)
    if len(names) != n_items:
        raise ValueError(f"Need {n_items} item names, got {len(names)}.")
    features = torch.cat([data.features, column.to(data.features.device)[:, None]], dim=1)
    return TreeData(data.items.clone(), features, names, [*data.feature_names, name])
