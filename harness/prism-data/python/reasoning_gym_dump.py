"""Writes reasoning-gym datasets as JSON lines, one dataset per call, without installing it.

prism runs this at `prism data fetch` with the pinned reasoning-gym wheel extracted into a temp
folder (argv[1]). The package's own `__init__` modules import every one of its 100+ tasks and
their third-party dependencies (sympy, pytz, magiccube, ...); the tasks prism uses need only the
standard library, so the packages on their import path are stubbed with empty modules whose
`__path__` points at the wheel, and the registry (`reasoning_gym.factory`) with a no-op.
The generators themselves run unchanged: the same seed gives the same rows as
`reasoning_gym.create_dataset(name, seed=seed, size=size)`.

usage: reasoning_gym_dump.py <wheel-dir> <dataset> <seed> <size> [<offset>]
"""

import json
import sys
import types


def stub(name: str, path: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = [path]
    sys.modules[name] = module
    return module


def main() -> None:
    root, name, seed, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    offset = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    base = f"{root}/reasoning_gym"
    stub("reasoning_gym", base)
    for package in ("arithmetic", "arithmetic.gsm_symbolic", "coaching"):
        stub(f"reasoning_gym.{package}", f"{base}/{package.replace('.', '/')}")
    from reasoning_gym.dataset import ProceduralDataset

    factory = types.ModuleType("reasoning_gym.factory")
    factory.ProceduralDataset = ProceduralDataset
    factory.register_dataset = lambda *args, **kwargs: None
    sys.modules["reasoning_gym.factory"] = factory
    coaching = sys.modules["reasoning_gym.coaching"]
    from reasoning_gym.coaching import attributes, base_curriculum

    for attr in ("AttributeDefinition", "RangeAttributeDefinition", "ScalarAttributeDefinition"):
        setattr(coaching, attr, getattr(attributes, attr))
    coaching.BaseCurriculum = base_curriculum.BaseCurriculum

    if name == "gsm_symbolic":
        from reasoning_gym.arithmetic.gsm_symbolic.gsm_symbolic import (
            GSMSymbolicDataset as Dataset,
            GSMSymbolicDatasetConfig as Config,
        )
    elif name == "fraction_simplification":
        from reasoning_gym.arithmetic.fraction_simplification import (
            FractionSimplificationConfig as Config,
            FractionSimplificationDataset as Dataset,
        )
    elif name == "leg_counting":
        from reasoning_gym.arithmetic.leg_counting import (
            LegCountingConfig as Config,
            LegCountingDataset as Dataset,
        )
    else:
        raise SystemExit(f"unknown dataset `{name}`")
    data = Dataset(Config(seed=seed, size=offset + size))
    out = sys.stdout
    for index in range(offset, offset + size):
        row = data[index]
        meta = row.get("metadata", {})
        out.write(
            json.dumps(
                {
                    "index": index,
                    "question": row["question"],
                    "answer": str(row["answer"]),
                    "solution": meta.get("answer_cot", ""),
                    "template": meta.get("source_index") if name != "gsm_symbolic" else None,
                    "task": data.task_indices[index] if name == "gsm_symbolic" else None,
                },
                sort_keys=True,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
