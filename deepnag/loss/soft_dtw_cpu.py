"""Numba CPU kernels for soft-DTW: the forward recursion and, fused with it, the E recursion.

Layout. Pairs are processed in blocks of ``LANES`` pairs with the pair index innermost
in every work buffer (``R[j, lane]``, ``W[i, j, k, lane]``), so each cell update is a
loop over lanes that LLVM vectorises across pairs (AVX2 here: 8 float32 lanes; a block
is four vectors deep, which hides the latency of the left-neighbour dependency along a
row). For float32 the cell update calls no ``math.exp``/``math.log``: PyPI's llvmlite
has no vector maths library, and one scalar libm call keeps the whole loop scalar.
``fast_exp``/``fast_log`` are polynomial versions (relative error about 1e-7) written
as plain float32 arithmetic; float64 keeps ``math.exp``/``math.log`` (exact, for
gradcheck; it is not the fast path).

Soft-min. ``softmin(a, b, c) = m - gamma * log(1 + e1 + e2)`` with ``m`` the smallest
of the three and ``e1``, ``e2`` the exponentials of the other two (``exp((m - o)/gamma)
<= 1``): two exponentials per cell, and the logarithm's argument lies in [1, 3].
Infinite borders give ``exp(-inf)``, clamped to 1e-38 (float32) or exactly 0 (float64);
never NaN.

Gradient. When asked, the forward pass keeps two soft-min weights per cell (``W``: up
and left; diagonal = 1 − up − left), then runs the E recursion of Cuturi & Blondel
(2017) backwards over the block as multiply-adds only,
``E[i,j] = E[i+1,j] Wu[i+1,j] + E[i,j+1] Wl[i,j+1] + E[i+1,j+1] Wd[i+1,j+1]``,
``E[N,M] = 1``, while the weights are still in cache; the autograd backward then only
scales by the upstream gradient.

Costs. ``cost[p,i,j] = kappa * <f_i, g_j> + alpha[p,i] + beta[p,j]``, read either from a
Gram matrix ``G`` (any cost: ``alpha = beta = 0, kappa = 1``; large D: torch's bmm builds
``G``) or computed from the features f, g themselves (small D: no N×M matrix enters or
leaves the kernel, and the gradient products ``kappa E g`` and ``kappa Eᵀ f`` are
accumulated in the E pass). Row and column sums of E come out too (gradients of alpha
and beta).

Threads. ``soft_dtw_cpu`` runs the blocks on plain Python threads that sleep when idle
(the kernel releases the GIL); the threads draw ranges of blocks from a shared queue,
so a thread that gets its core late (right after a torch operator, torch's idle
OpenMP threads still spin on it) does less of the work instead of delaying it all.
The kernel is nonetheless compiled with ``parallel=True`` around a one-iteration
``prange``: Numba compiles a parfor body with its arrays marked non-aliasing, and
without that LLVM vectorises none of the cell loops. Each calling thread sets Numba's
(thread-local) thread count to 1, so no OpenMP team is started: on a 2-core machine, a spinning OpenMP team beside torch's own made everything
around the loss several times slower.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic, overload

log = logging.getLogger(__name__)

LANES = 32
"""Pairs per block: the vector width of the cell loop (four AVX2 float32 vectors, to hide latency)."""

CHUNKS_PER_THREAD = 4
"""Block ranges per thread that the threads draw from as they become free (balances late starters)."""

# Contractions and reciprocal approximations only: no 'nnan'/'ninf', the
# recursion relies on infinite borders and on NaN checks.
_FASTMATH = {"contract", "arcp", "nsz"}


# ----------------------------------------------------------------------------------------------------------------------
# Vectorisable exp and log
# ----------------------------------------------------------------------------------------------------------------------
@intrinsic
def _int32_bits_as_float32(typingctx, x):
    """Reinterpret the bits of an int32 as a float32 (builds 2**n for the exponential)."""
    if not (isinstance(x, types.Integer) and x.bitwidth == 32):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(x), codegen


def fast_exp(x):
    """exp(x) for x <= 0; float32 inside Numba uses a vectorisable polynomial."""
    return math.exp(x)


def fast_log(s):
    """log(s) for s in [1, 3]; float32 inside Numba uses a vectorisable series."""
    return math.log(s)


@overload(fast_exp)
def _fast_exp_impl(x):
    if x == types.float32:

        def exp_f32(x):
            # Cephes expf: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial, scale by 2**n.
            x = max(x, np.float32(-87.33))  # exp(-inf) -> 1e-38; callers pass x <= 0
            fx = np.floor(x * np.float32(1.4426950408889634) + np.float32(0.5))
            r = x - fx * np.float32(0.693359375) - fx * np.float32(-2.12194440e-4)
            y = np.float32(1.9875691500e-4)
            y = y * r + np.float32(1.3981999507e-3)
            y = y * r + np.float32(8.3334519073e-3)
            y = y * r + np.float32(4.1665795894e-2)
            y = y * r + np.float32(1.6666665459e-1)
            y = y * r + np.float32(5.0000001201e-1)
            y = y * (r * r) + r + np.float32(1.0)
            # 2**fx as float bits: (fx + 127) << 23, computed exactly in float32.
            bits = np.int32(fx * np.float32(8388608.0) + np.float32(1065353216.0))
            return y * _int32_bits_as_float32(bits)

        return exp_f32
    if x == types.float64:
        return lambda x: math.exp(x)
    return None


@overload(fast_log)
def _fast_log_impl(s):
    if s == types.float32:

        def log_f32(s):
            # s in [1, 3]: halve when above 1.5, then log(t) = 2 atanh(z), z = (t-1)/(t+1), |z| <= 0.2.
            big = s > np.float32(1.5)
            t = s * np.float32(0.5) if big else s
            k = np.float32(0.6931471805599453) if big else np.float32(0.0)
            z = (t - np.float32(1.0)) / (t + np.float32(1.0))
            z2 = z * z
            p = np.float32(1.0 / 11.0)
            p = p * z2 + np.float32(1.0 / 9.0)
            p = p * z2 + np.float32(1.0 / 7.0)
            p = p * z2 + np.float32(1.0 / 5.0)
            p = p * z2 + np.float32(1.0 / 3.0)
            p = p * z2 + np.float32(1.0)
            return k + np.float32(2.0) * z * p

        return log_f32
    if s == types.float64:
        return lambda s: math.log(s)
    return None


# ----------------------------------------------------------------------------------------------------------------------
# The kernel
# ----------------------------------------------------------------------------------------------------------------------
_TILE = 8


@njit(cache=True, fastmath=_FASTMATH, boundscheck=False, nogil=True)
def _gather_row(Gf, poff, roff, jlo, jhi, kappa, a, Bt, crow):  # pragma: no cover (compiled)
    """crow[j, lane] = kappa*G[pair(lane), i, j-1] + alpha + beta for j in [jlo, jhi]: a tiled transpose."""
    j = jlo
    while j + _TILE <= jhi + 1:
        for lane in range(LANES):
            base = poff[lane] + roff + j
            al = a[lane]
            for k in range(_TILE):
                crow[j + k, lane] = kappa * Gf[base + k] + al + Bt[j + k - 1, lane]
        j += _TILE
    for lane in range(LANES):
        base = poff[lane] + roff
        al = a[lane]
        for jj in range(j, jhi + 1):
            crow[jj, lane] = kappa * Gf[base + jj] + al + Bt[jj - 1, lane]


@njit(cache=True, fastmath=_FASTMATH, boundscheck=False, nogil=True)
def _scatter_row(cur, poff, roff, jlo, jhi, Ef):  # pragma: no cover (compiled)
    """E[pair(lane), i, j-1] = cur[j, lane] for j in [jlo, jhi]: the transpose back."""
    j = jlo
    while j + _TILE <= jhi + 1:
        for lane in range(LANES):
            base = poff[lane] + roff + j
            for k in range(_TILE):
                Ef[base + k] = cur[j + k, lane]
        j += _TILE
    for lane in range(LANES):
        base = poff[lane] + roff
        for jj in range(j, jhi + 1):
            Ef[base + jj] = cur[jj, lane]


# ----------------------------------------------------------------------------------------------------------------------
# ----------------------------------------------------------------------------------------------------------------------
def _sdtw_kernel_py(P, N, M, G, F, Fg, alpha, beta, kappa, lo, hi, gamma, inv_gamma, one, want_grad,
                 out_val, out_bad, out_E, out_gf, out_gg, out_rs, out_cs,
                 ws_R, ws_W, ws_E, ws_V, ws_F, slot, b0, b1):  # pragma: no cover (compiled)
    """Blocks b0 .. b1 - 1 of LANES pairs each, with the work buffers of ``slot``.

    Cost source: the Gram matrices ``G`` (P,N,M) (gradient out: E), or, when ``F`` is not
    empty, the features ``F`` (P,N,D) and ``Fg`` (P,M,D) themselves (gradient out:
    ``kappa * E @ Fg`` and ``kappa * Eᵀ @ F``, no N×M matrix in or out: for small D).

    The one-iteration ``prange`` is there for code generation only: Numba compiles a
    parfor body with its arrays marked non-aliasing, which is what lets LLVM vectorise
    the cell loops across lanes. Callers run it with ``numba.set_num_threads(1)``, so
    no OpenMP team is involved; the parallelism comes from ``soft_dtw_cpu``'s threads.
    """
    nlanes = ws_E.shape[3]  # == LANES; a run-time trip count keeps short lane loops from being fully
    # unrolled, after which the SLP vectoriser (unlike the loop vectoriser) gives up on them
    features = F.shape[0] > 0
    D = F.shape[2]
    Gf = G.reshape(-1)
    Ef = out_E.reshape(-1)
    NM = N * M
    zero = one - one  # constants in the working dtype (a float64 literal would promote float32)
    inf = np.inf
    for t in prange(slot, slot + 1):
        R = ws_R[t]  # (2, M + 1, LANES): two rolling rows of R
        W = ws_W[t]  # (N + 2, M + 2, 2, LANES): soft-min weights of the up and left predecessors
        Eb = ws_E[t]  # (2, M + 2, LANES): two rolling rows of E
        V = ws_V[t]  # (N + 3 M + 3, LANES): alpha, beta, column sums, one row of costs, row sum, NaN flags
        A = V[:N]
        Bt = V[N:N + M]
        CS = V[N + M:N + 2 * M]
        crow = V[N + 2 * M:N + 3 * M + 1]  # crow[j] for j = 1..M
        RS = V[N + 3 * M + 1]
        BAD = V[N + 3 * M + 2]
        WF = ws_F[t]  # (N + 2 M + 1, D, LANES): features of both sides, Eᵀ F accumulators, one row of E Fg
        FT = WF[:N]
        GT = WF[N:N + M]
        GG = WF[N + M:N + 2 * M]
        GF = WF[N + 2 * M]
        poff = np.empty(LANES, np.int64)
        pidx = np.empty(LANES, np.int64)
        for blk in range(b0, b1):
            p0 = blk * LANES
            for lane in range(LANES):
                # lanes past the end redo the last pair and write the same values
                pidx[lane] = min(p0 + lane, P - 1)
                poff[lane] = pidx[lane] * NM
                BAD[lane] = zero
            for lane in range(LANES):
                p = pidx[lane]
                for i in range(N):
                    A[i, lane] = alpha[p, i]
                for j in range(M):
                    Bt[j, lane] = beta[p, j]
                if features:
                    for i in range(N):
                        for d in range(D):
                            FT[i, d, lane] = F[p, i, d]
                    for j in range(M):
                        for d in range(D):
                            GT[j, d, lane] = Fg[p, j, d]
            # ---- forward: R row 0 is (0, inf, inf, ...)
            prev = R[0]
            for j in range(M + 1):
                for lane in range(LANES):
                    prev[j, lane] = inf
            for lane in range(LANES):
                prev[0, lane] = zero
            for i in range(1, N + 1):
                prev = R[(i - 1) & 1]
                cur = R[i & 1]
                jlo = lo[i - 1] + 1
                jhi = hi[i - 1] + 1
                for j in range(jlo):
                    for lane in range(LANES):
                        cur[j, lane] = inf
                for j in range(jhi + 1, M + 1):
                    for lane in range(LANES):
                        cur[j, lane] = inf
                # this row's costs, pair index innermost (a strided gather does not vectorise)
                if features:
                    ai = A[i - 1]
                    fi = FT[i - 1]
                    if D == 2:  # the pen-gesture case, one pass
                        for j in range(jlo, jhi + 1):
                            for lane in range(nlanes):
                                crow[j, lane] = ai[lane] + Bt[j - 1, lane] + kappa * (
                                    fi[0, lane] * GT[j - 1, 0, lane] + fi[1, lane] * GT[j - 1, 1, lane])
                    else:
                        for j in range(jlo, jhi + 1):
                            for lane in range(nlanes):
                                crow[j, lane] = ai[lane] + Bt[j - 1, lane]
                            for d in range(D):
                                for lane in range(nlanes):
                                    crow[j, lane] += kappa * fi[d, lane] * GT[j - 1, d, lane]
                else:
                    _gather_row(Gf, poff, (i - 1) * M - 1, jlo, jhi, kappa, A[i - 1], Bt, crow)
                if want_grad:
                    for j in range(jlo, jhi + 1):
                        for lane in range(LANES):
                            c = crow[j, lane]
                            BAD[lane] += c * zero
                            rd = prev[j - 1, lane]
                            ru = prev[j, lane]
                            rl = cur[j - 1, lane]
                            lo1 = min(rd, ru)
                            o2 = max(rd, ru)
                            m = min(lo1, rl)
                            o1 = max(lo1, rl)
                            e1 = fast_exp((m - o1) * inv_gamma)
                            e2 = fast_exp((m - o2) * inv_gamma)
                            s = one + e1 + e2
                            cur[j, lane] = c + m - gamma * fast_log(s)
                            w0 = one / s
                            w1 = e1 * w0
                            w2 = e2 * w0
                            # the weight of a predecessor depends only on its value; diag = 1 - up - left
                            W[i, j, 0, lane] = w2 if ru == o2 else (w1 if ru == o1 else w0)
                            W[i, j, 1, lane] = w2 if rl == o2 else (w1 if rl == o1 else w0)
                else:
                    for j in range(jlo, jhi + 1):
                        for lane in range(LANES):
                            c = crow[j, lane]
                            BAD[lane] += c * zero
                            rd = prev[j - 1, lane]
                            ru = prev[j, lane]
                            rl = cur[j - 1, lane]
                            lo1 = min(rd, ru)
                            o2 = max(rd, ru)
                            m = min(lo1, rl)
                            o1 = max(lo1, rl)
                            e1 = fast_exp((m - o1) * inv_gamma)
                            e2 = fast_exp((m - o2) * inv_gamma)
                            cur[j, lane] = c + m - gamma * fast_log(one + e1 + e2)
            last = R[N & 1]
            for lane in range(LANES):
                out_val[pidx[lane]] = last[M, lane]
                out_bad[pidx[lane]] = BAD[lane]
            if not want_grad:
                continue
            # ---- backward: E[N+1, M+1] = 1 through a virtual diagonal successor of (N, M)
            nxt = Eb[(N + 1) & 1]
            for j in range(M + 2):
                for lane in range(LANES):
                    nxt[j, lane] = zero
            for lane in range(LANES):
                nxt[M + 1, lane] = one
                W[N + 1, M + 1, 0, lane] = zero  # diagonal weight 1
                W[N + 1, M + 1, 1, lane] = zero
            for j in range(M):
                for lane in range(LANES):
                    CS[j, lane] = zero
            if features:
                for j in range(M):
                    for d in range(D):
                        for lane in range(LANES):
                            GG[j, d, lane] = zero
            for i in range(N, 0, -1):
                nxt = Eb[(i + 1) & 1]
                cur = Eb[i & 1]
                jlo = lo[i - 1] + 1
                jhi = hi[i - 1] + 1
                for j in range(jlo):
                    for lane in range(LANES):
                        cur[j, lane] = zero
                for j in range(jhi + 1, M + 2):
                    for lane in range(LANES):
                        cur[j, lane] = zero
                for j in range(jhi, jlo - 1, -1):
                    for lane in range(nlanes):
                        wd = one - W[i + 1, j + 1, 0, lane] - W[i + 1, j + 1, 1, lane]
                        e = (nxt[j, lane] * W[i + 1, j, 0, lane]
                             + cur[j + 1, lane] * W[i, j + 1, 1, lane]
                             + nxt[j + 1, lane] * wd)
                        cur[j, lane] = e
                        CS[j - 1, lane] += e
                for lane in range(LANES):
                    RS[lane] = zero
                for j in range(jlo, jhi + 1):
                    for lane in range(nlanes):
                        RS[lane] += cur[j, lane]
                for lane in range(LANES):
                    out_rs[pidx[lane], i - 1] = RS[lane]
                if features:
                    fi = FT[i - 1]
                    for d in range(D):
                        for lane in range(LANES):
                            GF[d, lane] = zero
                    if D == 2:
                        for j in range(jlo, jhi + 1):
                            for lane in range(nlanes):
                                e = cur[j, lane]
                                GF[0, lane] += e * GT[j - 1, 0, lane]
                                GF[1, lane] += e * GT[j - 1, 1, lane]
                                GG[j - 1, 0, lane] += e * fi[0, lane]
                                GG[j - 1, 1, lane] += e * fi[1, lane]
                    else:
                        for j in range(jlo, jhi + 1):
                            for d in range(D):
                                for lane in range(nlanes):
                                    GF[d, lane] += cur[j, lane] * GT[j - 1, d, lane]
                                    GG[j - 1, d, lane] += cur[j, lane] * fi[d, lane]
                    for lane in range(LANES):
                        p = pidx[lane]
                        for d in range(D):
                            out_gf[p, i - 1, d] = kappa * GF[d, lane]
                else:
                    _scatter_row(cur, poff, (i - 1) * M - 1, jlo, jhi, Ef)
            for lane in range(LANES):
                p = pidx[lane]
                for j in range(M):
                    out_cs[p, j] = CS[j, lane]
                if features:
                    for j in range(M):
                        for d in range(D):
                            out_gg[p, j, d] = kappa * GG[j, d, lane]


_sdtw_kernel = njit(parallel=True, cache=True, fastmath=_FASTMATH, boundscheck=False, nogil=True)(_sdtw_kernel_py)
# GNU OpenMP cannot run in a process forked after it started, and Numba's parfors go through it:
# a forked child falls back to the same kernel without the parfor (correct, not vectorised, not cached).
_sdtw_kernel_forked = njit(fastmath=_FASTMATH, boundscheck=False, nogil=True)(_sdtw_kernel_py)
_launch_pid: list[int] = []


# ----------------------------------------------------------------------------------------------------------------------
# Python face
# ----------------------------------------------------------------------------------------------------------------------
_workspaces = threading.local()
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
if hasattr(os, "register_at_fork"):  # a forked child (a DataLoader worker) has none of the parent's threads
    os.register_at_fork(after_in_child=_pools.clear)


def _pool(workers: int) -> ThreadPoolExecutor:
    """Worker threads for the kernel's slots (see "Threads" in the module docstring)."""
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="soft-dtw")
        return pool


def _workspace(threads: int, n: int, m: int, d: int, dtype: np.dtype, want_grad: bool) -> tuple:
    """Per-thread work buffers, kept between calls (fresh pages would cost more than the DP)."""
    key = (threads, n, m, d, np.dtype(dtype).str, want_grad)
    cache = getattr(_workspaces, "cache", None)
    if cache is None:
        cache = _workspaces.cache = {}
    ws = cache.get(key)
    if ws is None:
        wn, wm = (n + 2, m + 2) if want_grad else (1, 1)
        # zeros: weights outside the band are read (times E = 0) and must stay finite
        ws = (np.zeros((threads, 2, m + 1, LANES), dtype),
              np.zeros((threads, wn, wm, 2, LANES), dtype),
              np.zeros((threads, 2, m + 2, LANES), dtype),
              np.zeros((threads, n + 3 * m + 3, LANES), dtype),
              np.zeros((threads, n + 2 * m + 1, d, LANES) if d else (threads, 1, 1, LANES), dtype))
        if len(cache) > 8:
            cache.clear()
        cache[key] = ws
        log.debug("soft-DTW workspace for %s: %.1f MB", key, sum(a.nbytes for a in ws) / 1e6)
    return ws


def _run_slot(args: tuple, slot: int, chunks: deque[tuple[int, int]]) -> None:
    """Run block ranges taken from ``chunks`` on this thread with the work buffers of ``slot``, until none is left.

    Threads take ranges as they become free rather than a fixed share, so one that starts late (its core
    still held by another thread, such as an idle OpenMP thread of torch spinning after an operator)
    leaves its work to the others instead of holding up the result.
    """
    if not _launch_pid:
        _launch_pid.append(os.getpid())
    forked = _launch_pid[0] != os.getpid()
    if forked and slot == 0 and not getattr(_run_slot, "warned", False):
        _run_slot.warned = True  # type: ignore[attr-defined]
        log.warning("soft-DTW in a forked process: using the slower kernel that avoids OpenMP")
    if not forked and numba.get_num_threads() != 1:
        numba.set_num_threads(1)  # thread-local
    kernel = _sdtw_kernel_forked if forked else _sdtw_kernel
    while True:
        try:
            b0, b1 = chunks.popleft()  # thread-safe
        except IndexError:
            return
        kernel(*args, slot, b0, b1)


class KernelResult(NamedTuple):
    """Values (P,), finite flags (P,: 0 when every cost in the band was finite, NaN otherwise),
    and when the gradient was asked for: E (P,N,M) (Gram input) or kappa·E·Fg (P,N,D) and
    kappa·Eᵀ·F (P,M,D) (feature input), row sums (P,N) and column sums (P,M) of E."""

    val: np.ndarray
    bad: np.ndarray
    E: np.ndarray | None = None
    gf: np.ndarray | None = None
    gg: np.ndarray | None = None
    rs: np.ndarray | None = None
    cs: np.ndarray | None = None


def soft_dtw_cpu(G: np.ndarray | None, alpha: np.ndarray, beta: np.ndarray, kappa: float,
                 lo: np.ndarray, hi: np.ndarray, gamma: float, want_grad: bool, threads: int,
                 out_E: np.ndarray | None = None, f: np.ndarray | None = None,
                 g: np.ndarray | None = None) -> KernelResult:
    """Soft-DTW of ``cost = kappa*G + alpha[:,:,None] + beta[:,None,:]`` for every pair, G = f gᵀ if G is None.

    All arrays C-contiguous and of one float dtype; ``lo``/``hi`` the band (int64, per row);
    ``out_E`` may be passed (zeros outside the band). See ``KernelResult`` for the outputs.
    """
    dtype = alpha.dtype
    if G is None:
        P, N, D = f.shape
        M = g.shape[1]
        G = np.empty((1, 1, 1), dtype)
    else:
        P, N, M = G.shape
        D = 0
        f = g = np.empty((0, 1, 1), dtype)
    nblocks = (P + LANES - 1) // LANES
    threads = max(1, min(threads, nblocks))
    ws = _workspace(threads, N, M, D, dtype, want_grad)
    val = np.empty(P, dtype)
    bad = np.empty(P, dtype)
    dummy3, dummy2 = np.empty((1, 1, 1), dtype), np.empty((1, 1), dtype)
    E, gf, gg, rs, cs = dummy3, dummy3, dummy3, dummy2, dummy2
    if want_grad:
        rs, cs = np.empty((P, N), dtype), np.empty((P, M), dtype)
        if D:
            gf, gg = np.empty((P, N, D), dtype), np.empty((P, M, D), dtype)
        else:
            E = np.empty((P, N, M), dtype) if out_E is None else out_E
    args = (P, N, M, G, f, g, alpha, beta, dtype.type(kappa), lo, hi, dtype.type(gamma), dtype.type(1.0 / gamma),
            dtype.type(1.0), want_grad, val, bad, E, gf, gg, rs, cs, *ws)
    size = max(1, nblocks // (CHUNKS_PER_THREAD * threads))
    chunks = deque((b, min(b + size, nblocks)) for b in range(0, nblocks, size))
    futures = [_pool(threads - 1).submit(_run_slot, args, t, chunks) for t in range(1, threads)]
    _run_slot(args, 0, chunks)
    for fut in futures:
        fut.result()
    if not want_grad:
        return KernelResult(val, bad)
    if D:
        return KernelResult(val, bad, None, gf, gg, rs, cs)
    return KernelResult(val, bad, E, None, None, rs, cs)


def kernels_cached() -> bool:
    """Whether Numba's on-disk cache already holds the soft-DTW kernel (so the first epoch compiles nothing).

    Numba keeps its index files (`*.nbi`) in the module's `__pycache__`, or under NUMBA_CACHE_DIR when that is set.
    """
    import glob
    import os

    from numba.core import config

    here = os.path.dirname(os.path.abspath(__file__))
    folders = [os.path.join(here, "__pycache__")]
    if config.CACHE_DIR:
        folders.append(config.CACHE_DIR)
    return any(glob.glob(os.path.join(folder, "**", "soft_dtw_cpu._sdtw_kernel_py-*.nbi"), recursive=True)
               for folder in folders)
