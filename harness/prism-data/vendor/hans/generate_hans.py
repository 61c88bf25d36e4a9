"""Seeded driver for the vendored HANS generator (prism addition, not part of upstream).

Usage: python3 generate_hans.py OUT.tsv SEED

Upstream draws with both Python's `random` and `numpy.random`. To make one seed fix every
draw, and to run on a fresh machine without numpy, this driver installs a tiny stand-in for
`numpy.random.choice(a, p=...)` backed by the seeded `random` module, then runs the upstream
`corpus_generator.py` unchanged apart from the output path (see NOTICE.md).
"""
import os
import random
import runpy
import sys
import types

out_path, seed = sys.argv[1], int(sys.argv[2])
random.seed(seed)


def _choice(a, p=None):
    items = list(a)
    return random.choices(items, weights=p, k=1)[0]


np_shim = types.ModuleType("numpy")
np_shim.random = types.SimpleNamespace(choice=_choice)
sys.modules["numpy"] = np_shim

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.argv = [os.path.join(here, "corpus_generator.py"), out_path]
runpy.run_path(os.path.join(here, "corpus_generator.py"), run_name="__main__")
