"""Shared machinery for the course notebooks: devices, data, models, reference code, demos.

Notebooks import what they need from the submodules, for example
``from helpers.device import set_device, set_seed``.
"""

from helpers.device import default_device, seed_worker, set_device, set_seed

__all__ = ["default_device", "seed_worker", "set_device", "set_seed"]
