"""PyTorch: a split generated on the fly as an `IterableDataset`, shared among DataLoader workers and ranks.

    >>> from torch.utils.data import DataLoader
    >>> from moving_mnist_torch import StreamDataset
    >>> train = StreamDataset("classic", "train", batch_size=32)
    >>> loader = DataLoader(train, batch_size=None, num_workers=2)   # the dataset makes the batches
    >>> for epoch in range(10):
    ...     train.set_epoch(epoch)
    ...     for batch in loader:
    ...         x = batch["input_frames"]   # (32, 10, 64, 64) torch.uint8

The only module of the project that imports torch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.distributed
from torch.utils.data import IterableDataset, get_worker_info

from generator.components import integer
from moving_mnist_stream import MAX_EPOCH, open_stream, shard


class StreamDataset(IterableDataset):
    """Epoch `epoch` of a preset's split (`moving_mnist_stream`), as `{field: (B, ...) tensor}` batches.

    The epoch's index range is cut into one part per DataLoader worker of each rank (`torch.distributed`'s
    rank and world size, when a process group is initialised), whole random blocks each (`moving_mnist_stream.shard`):
    every sequence of the epoch is generated exactly once, with the same bytes, whatever the number of
    workers and ranks. Only the order of the batches and where the last, shorter batch of each part falls
    change. Ranks may get a block (1024 sequences) more or fewer than others.

    Call `set_epoch(epoch)` before each epoch, as with PyTorch's `DistributedSampler`: the workers take
    the epoch when they start, so with `persistent_workers=True` they would keep the first one.
    Source files are fetched and verified, and arguments checked (`ValueError`), when it is made.
    """

    def __init__(
        self, name: str = "classic", split: str = "train", *, batch_size: int = 32, epoch: int = 0, data_dir=None,
        cache_dir=None, **overrides,
    ):
        self.set_epoch(epoch)
        self.stream = open_stream(name, split, batch_size=batch_size, data_dir=data_dir, cache_dir=cache_dir, **overrides)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = integer("epoch", epoch, 0, MAX_EPOCH)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        rank, ranks = (torch.distributed.get_rank(), torch.distributed.get_world_size()) if distributed else (0, 1)
        worker = get_worker_info()
        index, workers = (worker.id, worker.num_workers) if worker else (0, 1)
        start, stop = shard(self.stream.size, rank * workers + index, ranks * workers)
        for batch in self.stream.batches(self.epoch, start, stop):
            yield {name: torch.from_numpy(values) for name, values in batch.items()}
