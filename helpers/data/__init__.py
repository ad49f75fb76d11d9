"""Data sets of the course: MNIST (``mnist``) and the hierarchical item data (``tree``)."""

from helpers.data.mnist import DATA_DIR, Digits, load_mnist
from helpers.data.tree import TREE_ITEMS, TreeData, add_feature, hierarchical_data

__all__ = [
    "DATA_DIR",
    "TREE_ITEMS",
    "Digits",
    "TreeData",
    "add_feature",
    "hierarchical_data",
    "load_mnist",
]
