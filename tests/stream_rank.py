"""One rank of a real gloo process group reading a training stream through a DataLoader (tests/test_stream.py).

    python tests/stream_rank.py RANK WORLD_SIZE PORT OUT JSON_ARGUMENTS

Every rank sends `{index: sha256 of the sequence's fields}` of what it read to rank 0 over the group;
rank 0 writes the list of the ranks' dicts to OUT as JSON.
"""

import hashlib
import json
import sys

import torch.distributed
from torch.utils.data import DataLoader

from moving_mnist_torch import StreamDataset


def main(rank: int, world_size: int, port: int, out: str, arguments: dict) -> None:
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    workers, epoch = arguments.pop("num_workers"), arguments.pop("epoch")
    dataset = StreamDataset(**arguments)
    dataset.set_epoch(epoch)
    seen = {}
    for batch in DataLoader(dataset, batch_size=None, num_workers=workers):
        for j, index in enumerate(batch["index"].tolist()):
            digest = hashlib.sha256()
            for name, values in batch.items():
                digest.update(name.encode() + values[j].numpy().tobytes())
            seen[index] = digest.hexdigest()
    gathered = [None] * world_size
    torch.distributed.all_gather_object(gathered, seen)
    if rank == 0:
        with open(out, "w") as f:
            json.dump(gathered, f)
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5]))
