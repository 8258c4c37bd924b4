"""The vector width of the compiled loops (512 bits on CPUs with AVX-512), a vector
type for loops that hold their sums in registers, and `copy` for runs of values.

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

from llvmlite import ir
from numba.core import cgutils, types
from numba.core.errors import TypingError
from numba.extending import intrinsic, models, register_model

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


def _host_has_avx512() -> bool:
    from llvmlite import binding

    return bool(binding.get_host_cpu_features().get("avx512f", False))


AVX512 = _host_has_avx512()
"""Whether the CPU has AVX-512. Without it there are 16 vector registers rather than
32, so a loop that keeps 16 `Vector` values live (each takes two) spills to memory;
and a masked store is AVX's ``vmaskmovps``, which AMD's Zen runs as microcode (about
ten times a plain store's cost), so `store_first` stores in parts instead."""


VECTOR_BYTES = 64
"""The width of `Vector`: one 512-bit register (two 256-bit ones on CPUs without
AVX-512, which LLVM splits it into)."""


class Vector(types.Type):
    """`VECTOR_BYTES` of one number type, held in a register: the value of `load` and
    `splat`. Loops that keep many sums in registers at once (more than LLVM's loop
    vectoriser would keep) write them as variables of this type."""

    def __init__(self, dtype: types.Type):
        self.dtype = dtype
        self.lanes = VECTOR_BYTES * 8 // dtype.bitwidth
        super().__init__(name=f"Vector({dtype} x {self.lanes})")


@register_model(Vector)
class _VectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type: Vector):
        scalar = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(scalar, fe_type.lanes))


def _address(context, builder, array_type, array, index):
    """A pointer to ``array[index]`` of a 1-D contiguous array (no bounds check)."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [index])


def _vector_at(context, builder, signature, args, kind):
    """A pointer to the vector (LLVM type ``kind``) at ``args[1]`` of array ``args[0]``."""
    pointer = _address(context, builder, signature.args[0], args[0], args[1])
    return builder.bitcast(pointer, kind.as_pointer())


def _check_run(array) -> None:
    """Refuse an array that is not one contiguous run of values (1-D, C order)."""
    if not (isinstance(array, types.Array) and array.ndim == 1 and array.layout == "C"):
        raise TypingError(f"a 1-D contiguous array is needed, not {array}")


def _check_array(array, value=None) -> None:
    """Refuse an array `Vector` cannot read or write, or a ``value`` to store into it
    that is no vector of its type."""
    _check_run(array)
    if not isinstance(array.dtype, types.Float):
        raise TypingError(f"vectors of floating-point numbers only, not {array.dtype}")
    if value is not None and value != Vector(array.dtype):
        raise TypingError(f"a {Vector(array.dtype)} is needed, not {value}")


@intrinsic
def lanes(typingctx, array):
    """The values of ``array``'s type in one `Vector`, a compile-time constant."""
    _check_array(array)
    count = Vector(array.dtype).lanes

    def codegen(context, builder, signature, args):
        return context.get_constant(types.intp, count)

    return types.intp(array), codegen


@intrinsic
def load(typingctx, array, index):
    """The `Vector` ``array[index : index + lanes(array)]``; no bounds check: the
    caller keeps the whole run inside ``array``."""
    _check_array(array)
    vector = Vector(array.dtype)

    def codegen(context, builder, signature, args):
        pointer = _vector_at(context, builder, signature, args, context.get_value_type(vector))
        return builder.load(pointer, align=array.dtype.bitwidth // 8)

    return vector(array, index), codegen


@intrinsic
def load_evens(typingctx, array, index):
    """The `Vector` of ``array[index : index + 2·lanes(array) : 2]``: a run read at a
    step of two, from two loads; no bounds check (as `load`): all ``2·lanes(array)``
    values from ``index`` on are read."""
    _check_array(array)
    vector = Vector(array.dtype)

    def codegen(context, builder, signature, args):
        kind = context.get_value_type(vector)
        align = array.dtype.bitwidth // 8
        first = builder.load(_vector_at(context, builder, signature, args, kind), align=align)
        after = (args[0], builder.add(args[1], ir.Constant(args[1].type, vector.lanes)))
        second = builder.load(_vector_at(context, builder, signature, after, kind), align=align)
        evens = ir.Constant(
            ir.VectorType(ir.IntType(32), vector.lanes), list(range(0, 2 * vector.lanes, 2))
        )
        return builder.shuffle_vector(first, second, evens)

    return vector(array, index), codegen


@intrinsic
def splat(typingctx, array, index):
    """The `Vector` with ``array[index]`` in every lane."""
    _check_array(array)
    vector = Vector(array.dtype)

    def codegen(context, builder, signature, args):
        value = builder.load(_address(context, builder, signature.args[0], *args))
        return _broadcast(builder, context.get_value_type(vector), value)

    return vector(array, index), codegen


@intrinsic
def zeros(typingctx, array):
    """The `Vector` of zeros of ``array``'s type."""
    _check_array(array)
    vector = Vector(array.dtype)

    def codegen(context, builder, signature, args):
        return ir.Constant(context.get_value_type(vector), None)

    return vector(array), codegen


@intrinsic
def store(typingctx, array, index, value):
    """``array[index : index + lanes(array)] = value``; no bounds check (as `load`)."""
    _check_array(array, value)

    def codegen(context, builder, signature, args):
        pointer = _vector_at(context, builder, signature, args, args[2].type)
        builder.store(args[2], pointer, align=array.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.none(array, index, value), codegen


def _broadcast(builder, kind, value):
    """The vector of LLVM type ``kind`` with ``value`` in every lane."""
    zero = ir.Constant(ir.IntType(32), 0)
    one = builder.insert_element(ir.Constant(kind, ir.Undefined), value, zero)
    every = ir.Constant(ir.VectorType(ir.IntType(32), kind.count), [0] * kind.count)
    return builder.shuffle_vector(one, ir.Constant(kind, ir.Undefined), every)


def _first_lanes(builder, lanes: int, count):
    """The mask of lanes ``0 .. count - 1`` (``count`` an int64)."""
    index = ir.VectorType(ir.IntType(64), lanes)
    limit = _broadcast(builder, index, count)
    return builder.icmp_signed("<", ir.Constant(index, list(range(lanes))), limit)


def _masked(builder, operation: str, vector: Vector, result, operands):
    """A call of LLVM's ``llvm.masked.load`` or ``llvm.masked.store`` on ``vector``s."""
    pointer = operands[1 if operation == "store" else 0]
    element = f"v{vector.lanes}f{vector.dtype.bitwidth}"
    # typed pointers (LLVM before 15) put the pointee in the name; opaque ones print "ptr"
    address = "p0" if str(pointer.type) == "ptr" else f"p0{element}"
    name = f"llvm.masked.{operation}.{element}.{address}"
    kind = ir.FunctionType(result, [operand.type for operand in operands])
    return builder.call(cgutils.get_or_insert_function(builder.module, kind, name), operands)


def _load_masked(builder, vector: Vector, kind, pointer, count):
    """The ``vector`` at ``pointer`` (LLVM type ``kind``), its lanes from ``count`` on
    zeros and not read."""
    mask = _first_lanes(builder, vector.lanes, count)
    align = ir.Constant(ir.IntType(32), vector.dtype.bitwidth // 8)
    return _masked(builder, "load", vector, kind, [pointer, align, mask, ir.Constant(kind, None)])


@intrinsic
def load_first(typingctx, array, index, count):
    """The `Vector` of ``array[index : index + count]`` and zeros after it (``count``
    at most `lanes`): nothing past the ``count`` values is read."""
    _check_array(array)
    vector = Vector(array.dtype)

    def codegen(context, builder, signature, args):
        kind = context.get_value_type(vector)
        pointer = _vector_at(context, builder, signature, args, kind)
        return _load_masked(builder, vector, kind, pointer, args[2])

    return vector(array, index, types.int64), codegen


@intrinsic
def load_first_if(typingctx, masked, array, index, count):
    """``load_first(array, index, count)`` where ``masked``, else ``load(array, index)``;
    ``count`` may lie outside ``0 .. lanes`` (none or all lanes). A constant ``masked``
    leaves one of the two in the compiled loop."""
    _check_array(array)
    vector = Vector(array.dtype)

    def codegen(context, builder, signature, args):
        kind = context.get_value_type(vector)
        address = _address(context, builder, signature.args[1], args[1], args[2])
        pointer = builder.bitcast(address, kind.as_pointer())
        with builder.if_else(args[0]) as (then, otherwise):
            with then:
                part = _load_masked(builder, vector, kind, pointer, args[3])
                part_block = builder.block
            with otherwise:
                whole = builder.load(pointer, align=array.dtype.bitwidth // 8)
                whole_block = builder.block
        value = builder.phi(kind)
        value.add_incoming(part, part_block)
        value.add_incoming(whole, whole_block)
        return value

    return vector(types.boolean, array, index, types.int64), codegen


def _store_first(masked: bool):
    """`store_first` as one masked store (``masked``), or in parts (`_store_in_parts`)."""

    @intrinsic
    def store_first(typingctx, array, index, value, count):
        _check_array(array, value)
        align = array.dtype.bitwidth // 8

        def codegen(context, builder, signature, args):
            pointer = _vector_at(context, builder, signature, args, args[2].type)
            if masked:
                mask = _first_lanes(builder, value.lanes, args[3])
                operands = [args[2], pointer, ir.Constant(ir.IntType(32), align), mask]
                _masked(builder, "store", value, ir.VoidType(), operands)
            else:
                _store_in_parts(builder, args[2], pointer, args[3], align)
            return context.get_dummy_value()

        return types.none(array, index, value, types.int64), codegen

    return store_first


def _store_in_parts(builder, vector, pointer, count, align: int):
    """Store the first ``count`` lanes of ``vector`` at ``pointer`` (all where ``count``
    reaches its lanes, none where it is not positive) with plain stores: the half,
    quarter, ... down to one lane that each bit of ``count`` asks for, each part the
    low lanes of those not yet stored."""
    lanes, element = vector.type.count, vector.type.element
    whole = builder.icmp_signed(">=", count, ir.Constant(count.type, lanes))
    with builder.if_else(whole) as (then, otherwise):
        with then:
            builder.store(vector, pointer, align=align)
        with otherwise:
            zero = ir.Constant(count.type, 0)
            count = builder.select(builder.icmp_signed(">", count, zero), count, zero)
            first = builder.bitcast(pointer, element.as_pointer())
            rest, offset, size = vector, zero, lanes // 2
            while size:
                low, high = (_lanes_of(builder, rest, start, size) for start in (0, size))
                bit = builder.and_(count, ir.Constant(count.type, size))
                taken = builder.icmp_unsigned("!=", bit, zero)
                with builder.if_then(taken):
                    part = builder.bitcast(builder.gep(first, [offset]), low.type.as_pointer())
                    builder.store(low, part, align=align)
                rest = builder.select(taken, high, low)
                offset = builder.add(offset, bit)
                size //= 2


def _lanes_of(builder, vector, start: int, count: int):
    """Lanes ``start .. start + count - 1`` of ``vector``, as a vector of ``count``."""
    indices = ir.Constant(ir.VectorType(ir.IntType(32), count), list(range(start, start + count)))
    return builder.shuffle_vector(vector, ir.Constant(vector.type, ir.Undefined), indices)


_store_first_masked, _store_first_in_parts = _store_first(True), _store_first(False)
store_first = _store_first_masked if AVX512 else _store_first_in_parts
"""``array[index : index + count] = value[:count]`` (``count`` at most `lanes`):
nothing past them is written."""


def _lane_by_lane(name: str, operation: str, doc: str):
    """The intrinsic ``name`` that applies LLVM's ``operation`` (``fadd``, ...) to two
    vectors."""

    def typer(typingctx, a, b):
        if not (isinstance(a, Vector) and a == b):
            raise TypingError(f"two vectors of one type are needed, not {a} and {b}")

        def codegen(context, builder, signature, args):
            return getattr(builder, operation)(*args)

        return a(a, b), codegen

    typer.__name__ = typer.__qualname__ = name
    typer.__doc__ = doc
    return intrinsic(typer)


add = _lane_by_lane("add", "fadd", "``a + b`` lane by lane.")
sub = _lane_by_lane("sub", "fsub", "``a - b`` lane by lane.")
mul = _lane_by_lane("mul", "fmul", "``a · b`` lane by lane.")


@intrinsic
def fma_if(typingctx, flag, a, b, c):
    """``fma(a, b, c)`` where ``flag``, else ``c``: a constant ``flag`` leaves one of
    them in the compiled loop."""
    if not (isinstance(a, Vector) and a == b == c):
        raise TypingError(f"three vectors of one type are needed, not {a}, {b} and {c}")

    def codegen(context, builder, signature, args):
        return builder.select(args[0], _fma(builder, a, *args[1:]), args[3])

    return a(types.boolean, a, b, c), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """``a · b + c`` lane by lane, rounded once (LLVM's ``llvm.fma``)."""
    if not (isinstance(a, Vector) and a == b == c):
        raise TypingError(f"three vectors of one type are needed, not {a}, {b} and {c}")

    def codegen(context, builder, signature, args):
        return _fma(builder, a, *args)

    return a(a, b, c), codegen


def _fma(builder, vector: Vector, a, b, c):
    """A call of LLVM's ``llvm.fma`` on three values of type ``vector``."""
    kind = a.type
    name = f"llvm.fma.v{vector.lanes}f{vector.dtype.bitwidth}"
    function = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(kind, [kind] * 3), name
    )
    return builder.call(function, [a, b, c])


@intrinsic
def window_sums(typingctx, array, index, w, taps, vectors):
    """The tuple of ``vectors`` `Vector` sums ``Σ w[t]·array[index + v·lanes + t :]``
    over ``t < taps``, for ``v < vectors`` (``taps`` and ``vectors`` literals), each
    summed in tap order (one multiply, then multiply-adds). Windows that start on a
    vector boundary are loads; the others come from the two vectors they straddle,
    by a lane shift where the shift is even and by a load where it is odd, so the
    shifts and the loads share the work (with loads alone, most of them straddle a
    cache line). Reads ``array`` up to ``2·lanes`` values past the last window's
    start."""
    if not all(isinstance(n, types.IntegerLiteral) for n in (taps, vectors)):
        return None  # numba tries again with the literal values
    _check_array(array)
    _check_run(w)
    if w.dtype != array.dtype:
        raise TypingError(f"weights of the array's type are needed, not {w}")
    vector = Vector(array.dtype)
    count, many = taps.literal_value, vectors.literal_value
    result = types.UniTuple(vector, many)

    def codegen(context, builder, signature, args):
        kind = context.get_value_type(vector)
        lanes, align = vector.lanes, array.dtype.bitwidth // 8
        loaded = {}

        def at(offset: int):
            if offset not in loaded:
                index = builder.add(args[1], ir.Constant(args[1].type, offset))
                pointer = _address(context, builder, signature.args[0], args[0], index)
                loaded[offset] = builder.load(
                    builder.bitcast(pointer, kind.as_pointer()), align=align
                )
            return loaded[offset]

        sums = [None] * many
        for t in range(count):
            tap = context.get_constant(types.intp, t)
            weight = builder.load(_address(context, builder, signature.args[2], args[2], tap))
            weight = _broadcast(builder, kind, weight)
            for v in range(many):
                offset = v * lanes + t
                shift = offset % lanes
                if shift % 2:
                    window = at(offset)
                else:
                    start = offset - shift
                    mask = ir.Constant(
                        ir.VectorType(ir.IntType(32), lanes), [*range(shift, shift + lanes)]
                    )
                    window = (
                        at(start)
                        if shift == 0
                        else builder.shuffle_vector(at(start), at(start + lanes), mask)
                    )
                sums[v] = (
                    builder.fmul(window, weight)
                    if t == 0
                    else _fma(builder, vector, window, weight, sums[v])
                )
        return context.make_tuple(builder, result, sums)

    return result(array, index, w, taps, vectors), codegen


@intrinsic
def transpose(typingctx, tile):
    """Transpose in place the square tile of `lanes` vectors at the start of ``tile``
    (lane ``j`` of vector ``i`` goes to lane ``i`` of vector ``j``).

    Round ``b`` pairs the vectors whose indices differ in bit ``b`` and swaps, between
    the two, the lanes whose indices differ in that bit: log2(lanes) rounds swap the
    row and lane bits one by one. Rounds on the low bits move values within 128-bit
    halves (one instruction per register, or a blend and an in-lane shuffle), the
    next swaps halves, and on CPUs without AVX-512 the last swaps whole registers,
    which costs nothing; interleaving the two vectors' first and last halves in every
    round instead (ARM's zips) took 1.4x as long on Zen 3. Each round goes through
    memory (the first-level cache): without AVX-512 a tile of 16 vectors takes 32 of
    the 16 registers there are, and kept in registers it spilled and ran slower."""
    _check_array(tile)
    vector = Vector(tile.dtype)
    count = vector.lanes

    def codegen(context, builder, signature, args):
        kind = context.get_value_type(vector)
        align = tile.dtype.bitwidth // 8

        def row(i):
            start = context.get_constant(types.intp, i * count)
            pointer = _address(context, builder, signature.args[0], args[0], start)
            return builder.bitcast(pointer, kind.as_pointer())

        def load(i):
            return builder.load(row(i), align=align)

        def store(i, value):
            builder.store(value, row(i), align=align)

        step = 1
        while step < count:
            for i in range(count):
                if i & step == 0:
                    a, b = _swap_lanes(builder, load(i), load(i + step), step, count)
                    store(i, a)
                    store(i + step, b)
            step *= 2
        return context.get_dummy_value()

    return types.none(tile), codegen


def _swap_lanes(builder, a, b, step: int, count: int):
    """A round of `transpose` on vectors ``a`` and ``b`` (rows ``step`` apart): the
    lanes of ``a`` with bit ``step`` set swapped with those of ``b`` without it."""
    swapped = [e ^ step for e in range(count)]
    low = [e if e & step == 0 else count + swapped[e] for e in range(count)]
    high = [swapped[e] if e & step == 0 else count + e for e in range(count)]
    masks = [ir.Constant(ir.VectorType(ir.IntType(32), count), m) for m in (low, high)]
    return builder.shuffle_vector(a, b, masks[0]), builder.shuffle_vector(a, b, masks[1])


@intrinsic
def transposed_copy(typingctx, dst, at, dst_step, src, start, src_step):
    """``dst[at + j·dst_step + i] = src[start + i·src_step + j]`` for ``i, j <`` `lanes`:
    a square tile of vectors read, transposed in registers (`transpose`'s rounds) and
    written; no bounds check. With AVX-512 the tile and its rounds fit in the 32
    registers: laying a pair of 128 x 128 float32 tiles out by columns took 2.6 us
    this way against 5.6 us through a buffer and `transpose`, whose rounds go through
    memory (2-core Zen 4). Without AVX-512 a tile takes all 16 registers twice over
    and spills; not measured there."""
    _check_array(dst)
    _check_array(src)
    if dst.dtype != src.dtype:
        raise TypingError(f"arrays of one type are needed, not {dst} and {src}")
    vector = Vector(src.dtype)
    count = vector.lanes

    def codegen(context, builder, signature, args):
        kind = context.get_value_type(vector).as_pointer()
        align = src.dtype.bitwidth // 8
        dst_, at_, dstep, src_, start_, sstep = args

        def pointer(array_type, array, base, step, i):
            index = builder.add(base, builder.mul(step, context.get_constant(types.intp, i)))
            return builder.bitcast(_address(context, builder, array_type, array, index), kind)

        rows = [
            builder.load(pointer(signature.args[3], src_, start_, sstep, i), align=align)
            for i in range(count)
        ]
        step = 1
        while step < count:
            for i in range(count):
                if i & step == 0:
                    rows[i], rows[i + step] = _swap_lanes(
                        builder, rows[i], rows[i + step], step, count
                    )
            step *= 2
        for j in range(count):
            builder.store(rows[j], pointer(signature.args[0], dst_, at_, dstep, j), align=align)
        return context.get_dummy_value()

    return types.none(dst, types.intp, types.intp, src, types.intp, types.intp), codegen


@intrinsic
def copy(typingctx, dst, at, src, start, count):
    """``dst[at : at + count] = src[start : start + count]``, or zeros where ``src`` is
    None: one ``memcpy`` or ``memset`` of 1-D contiguous arrays of one number type, the
    runs apart. Unlike a compiled function, an intrinsic takes its arrays without
    counting references, so a loop may call it for every row at no more than its
    cost."""
    for array in (dst,) if src is types.none else (dst, src):
        _check_run(array)
    if src is not types.none and src.dtype != dst.dtype:
        raise TypingError(f"copies between arrays of one type only, not {src} to {dst}")

    def codegen(context, builder, signature, args):
        dst_type, at_type, src_type, start_type, count_type = signature.args
        intp = context.get_value_type(types.intp)

        def index(value, kind):
            return context.cast(builder, value, kind, types.intp)

        to = _address(context, builder, dst_type, args[0], index(args[1], at_type))
        size = builder.mul(
            index(args[4], count_type), ir.Constant(intp, context.get_abi_sizeof(to.type.pointee))
        )
        if src_type is types.none:
            cgutils.memset(builder, to, size, 0)
        else:
            source = _address(context, builder, src_type, args[2], index(args[3], start_type))
            cgutils.raw_memcpy(builder, to, source, size, 1)
        return context.get_dummy_value()

    return types.none(dst, at, src, start, count), codegen
