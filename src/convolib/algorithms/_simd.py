"""The vector width of the compiled loops: 512 bits on CPUs with AVX-512.

LLVM vectorises only 256 bits wide on Intel's AVX-512 cores unless a function asks for
more (their tuning flag ``prefer-256-bit``: early AVX-512 chips slowed their clock for
wide instructions). Numba offers no per-function switch, and its global one
(``NUMBA_CPU_FEATURES``) would change every numba function in the process, so the loops
that do the arithmetic call `wide_vectors`, which gives the function being compiled
LLVM's attributes for 512-bit vectors. On the 2-core Xeon (AVX-512, 2026-12) numba's
FMA loop ran 1.5x faster that way (168 against 110 GFLOP/s float32, two threads, same
minutes). Where the CPU has no 512-bit vectors the attributes change nothing.

Importing this module imports numba.
"""

from __future__ import annotations

from numba.core import types
from numba.extending import intrinsic

WIDE_ATTRIBUTES = ('"prefer-vector-width"="512"', '"min-legal-vector-width"="512"')
"""LLVM function attributes: vectorise 512 bits wide, and keep 512-bit vectors legal
where a function so compiled is inlined into another."""


@intrinsic
def wide_vectors(typingctx):
    """Compile the calling function (or the one it is inlined into) with 512-bit vectors."""

    def codegen(context, builder, signature, args):
        attributes = builder.function.attributes
        # llvmlite checks attribute names against a fixed list that has no key-value
        # attributes; set.add stores the text as it is, and LLVM parses it. A llvmlite
        # whose attributes are no set leaves the width at its default.
        if isinstance(attributes, set):
            for attribute in WIDE_ATTRIBUTES:
                set.add(attributes, attribute)
        return context.get_dummy_value()

    return types.none(), codegen
