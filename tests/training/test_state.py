"""Random-number state survives a checkpoint, including ones written by older versions."""

import random

import numpy as np
import torch

from studio.training.runs import RunFolder
from studio.training.state import capture_rng, restore_rng, seed_everything


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_rng_state_round_trips_through_a_checkpoint_file(tmp_path):
    seed_everything(5)
    draws()
    folder = RunFolder(tmp_path)
    folder.save_checkpoint("last", {"rng": capture_rng()})
    expected = draws()
    draws()  # move every generator on
    import torch

    restore_rng(torch.load(folder.checkpoint_path("last"), weights_only=True)["rng"])  # as a resume loads it
    assert draws() == expected


def test_a_checkpoint_with_python_state_as_a_list_still_restores():
    seed_everything(9)
    state = capture_rng()
    state["python"]["internal"] = state["python"]["internal"].tolist()  # how older versions saved it
    expected = draws()
    restore_rng(state)
    assert draws() == expected
