"""Datasets: built-in offline sets and importers, all yielding :class:`DataSplit`. No Qt."""

from studio.data.base import DataError, DatasetInfo, DataSplit, TensorData
from studio.data.registry import dataset_names, load_data, register_dataset

__all__ = ["DataError", "DataSplit", "DatasetInfo", "TensorData", "dataset_names", "load_data",
           "register_dataset"]
