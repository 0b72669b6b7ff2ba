"""Writes golden_loader.h: torch.randperm for several sizes, drawn one after
another from one seeded generator; and the order in which
torch.utils.data.DataLoader over a TensorDataset hands out samples, for
several batch sizes, shuffle and drop_last settings, over three epochs from
one seeded generator, and the next torch.rand draw after them (so the C
loader must take exactly as many draws from the generator as PyTorch's);
and each rank's indices from torch.utils.data.DistributedSampler, for
several sizes, world sizes, shuffle and drop_last settings, in epochs 0 to
2 (set_epoch)."""
import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from golden_common import write_header

EPOCHS = 3
CASES = [  # samples, batch size, shuffle, drop_last, seed
    (10, 3, True, False, 1234),
    (10, 3, True, True, 1234),
    (10, 4, False, False, 0),
    (7, 7, True, False, 5),
    (100, 16, True, True, 42),
    (1, 2, True, False, 9),
]

lines = ["typedef struct golden_loader {",
         "    int64_t samples, batch_size;",
         "    int shuffle, drop_last;",
         "    uint64_t seed;",
         "    int64_t n_batches;         /* per epoch */",
         "    const int64_t *order;      /* sample indices, epoch after epoch */",
         "    int64_t n_order;",
         "    double next_rand;          /* torch.rand(1, generator=g) after the epochs */",
         "} golden_loader;",
         f"enum {{ GOLDEN_LOADER_EPOCHS = {EPOCHS} }};"]
rows = []
for i, (n, bs, shuffle, drop_last, seed) in enumerate(CASES):
    g = torch.Generator()
    g.manual_seed(seed)
    ds = TensorDataset(torch.arange(n))
    loader = DataLoader(ds, batch_size=bs, shuffle=shuffle, drop_last=drop_last, generator=g)
    order = []
    for _ in range(EPOCHS):
        for (batch,) in loader:
            order += batch.tolist()
    nxt = torch.rand(1, dtype=torch.float64, generator=g).item()
    lines.append(f"static const int64_t golden_loader_order_{i}[] = "
                 "{" + ", ".join(str(v) for v in order or [0]) + "};")
    rows.append(f"    {{{n}, {bs}, {int(shuffle)}, {int(drop_last)}, {seed}, {len(loader)}, "
                f"golden_loader_order_{i}, {len(order)}, {nxt!r}}},")
lines += ["static const golden_loader golden_loaders[] = {"] + rows + ["};"]
PERM_SEED, PERM_SIZES = 77, [0, 1, 2, 5, 31, 1000]
g = torch.Generator()
g.manual_seed(PERM_SEED)
perms = [torch.randperm(n, generator=g).tolist() for n in PERM_SIZES]
lines += [f"enum {{ GOLDEN_RANDPERM_SEED = {PERM_SEED} }};",
          "static const int64_t golden_randperm_sizes[] = {" + ", ".join(map(str, PERM_SIZES)) + "};",
          "static const int64_t golden_randperms[] = {" + ", ".join(str(v) for p in perms for v in p) + "};"]
DIST_EPOCHS = 3
DIST_CASES = [  # samples, world size, shuffle, drop_last, seed
    (10, 3, True, False, 0),
    (10, 3, True, True, 0),
    (10, 4, False, False, 0),
    (11, 2, True, False, 7),
    (2, 3, True, False, 3),  # padding longer than the data set: wraps twice
    (2, 3, False, True, 3),  # drop_last with fewer samples than ranks: none
    (1000, 3, True, False, 123),
    (0, 2, True, False, 1),
]
lines += ["typedef struct golden_dist_sampler {",
          "    int64_t samples;",
          "    int world_size, shuffle, drop_last;",
          "    uint64_t seed;",
          "    int64_t per_rank;       /* len(sampler) */",
          "    const int64_t *indices; /* epoch by epoch, rank by rank within each */",
          "} golden_dist_sampler;",
          f"enum {{ GOLDEN_DIST_EPOCHS = {DIST_EPOCHS} }};"]
rows = []
for i, (n, world, shuffle, drop_last, seed) in enumerate(DIST_CASES):
    indices = []
    samplers = [DistributedSampler(range(n), num_replicas=world, rank=r, shuffle=shuffle,
                                   seed=seed, drop_last=drop_last) for r in range(world)]
    for epoch in range(DIST_EPOCHS):
        for sampler in samplers:
            sampler.set_epoch(epoch)
            indices += list(sampler)
    lines.append(f"static const int64_t golden_dist_indices_{i}[] = "
                 "{" + ", ".join(str(v) for v in indices or [0]) + "};")
    rows.append(f"    {{{n}, {world}, {int(shuffle)}, {int(drop_last)}, {seed}, "
                f"{len(samplers[0])}, golden_dist_indices_{i}}},")
lines += ["static const golden_dist_sampler golden_dist_samplers[] = {"] + rows + ["};"]
write_header("golden_loader.h", "make_golden_loader.py", ["stdint.h"], lines)
