"""Numba CPU kernels for soft-DTW: forward recursion and, fused with it, the E recursion.

Layout. Pairs are processed in blocks of ``LANES`` pairs with the pair index
innermost in every work buffer (``R[j, lane]``, ``W[k, i, j, lane]``), so the
per-cell update is one straight-line loop over lanes that LLVM vectorises
across pairs (AVX2: 8 float32 lanes; the block is two vectors deep, which
hides the latency of the left-neighbour dependency along a row). The cell
update for float32 calls no ``math.exp``/``math.log``: PyPI's llvmlite has no
vector maths library, and one scalar libm call keeps the whole loop scalar.
``fast_exp``/``fast_log`` below are polynomial versions (relative error about
1e-7) written as plain float32 arithmetic; float64 keeps ``math.exp``/``math.log``
(exact to the last bit, for gradcheck; it is not the fast path).

Soft-min. ``softmin(a, b, c) = m - gamma * log(1 + e1 + e2)`` with ``m`` the
smallest of the three and ``e1``, ``e2`` the exponentials of the other two
(``exp((m - o) / gamma) <= 1``), so only two exponentials per cell and the
logarithm's argument lies in [1, 3]. Infinite borders give ``exp(-inf)``,
clamped to a tiny value (float32) or exactly 0 (float64); never NaN.

Gradient. When asked, the forward pass keeps the three soft-min weights of
every cell of the block (``W``), then runs the E recursion of Cuturi & Blondel
(2017) backwards over the block as multiply-adds only:
``E[i,j] = E[i+1,j] Wu[i+1,j] + E[i,j+1] Wl[i,j+1] + E[i+1,j+1] Wd[i+1,j+1]``,
``E[N,M] = 1``. Doing it right after the forward keeps the weights in cache;
the autograd backward is then only a scaling by the upstream gradient.

Costs. The kernel reads ``cost[p,i,j] = kappa * G[p,i,j] + alpha[p,i] + beta[p,j]``:
with ``alpha = beta = 0, kappa = 1`` that is any cost matrix; with the Gram
matrix ``G = x yᵀ`` it is the squared Euclidean (``alpha = |x|², beta = |y|²,
kappa = -2``) or the cosine cost without a B×N×M×D tensor nor a dense cost.
Row and column sums of E come out too (the gradients of ``alpha`` and ``beta``).
"""

from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

log = logging.getLogger(__name__)

LANES = 16
"""Pairs per block: the vector width of the cell loop (two AVX2 float32 vectors)."""

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


@njit(inline="always", fastmath=_FASTMATH, boundscheck=False)
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


@njit(inline="always", fastmath=_FASTMATH, boundscheck=False)
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
@njit(cache=True, fastmath=_FASTMATH, boundscheck=False, nogil=True)
def _sdtw_kernel(G, alpha, beta, kappa, lo, hi, gamma, inv_gamma, one, want_grad,
                 out_val, out_bad, out_E, out_rs, out_cs, ws_R, ws_W, ws_E, ws_V, t, T):  # pragma: no cover (compiled)
    """Blocks t, t + T, t + 2T, ... of LANES pairs each, with the work buffers of slot t."""
    P, N, M = G.shape
    nblocks = (P + LANES - 1) // LANES
    Gf = G.reshape(-1)
    Ef = out_E.reshape(-1)
    NM = N * M
    zero = one - one  # constants in the working dtype (a float64 literal would promote float32)
    inf = np.inf
    if True:
        R = ws_R[t]  # (2, M + 1, LANES): two rolling rows of R
        W = ws_W[t]  # (3, N + 2, M + 2, LANES): soft-min weights (diag, up, left)
        Eb = ws_E[t]  # (2, M + 2, LANES): two rolling rows of E
        V = ws_V[t]  # (N + 3 M + 3, LANES): alpha, beta, column sums, one row of costs, row sum, NaN flags
        A = V[:N]
        Bt = V[N:N + M]
        CS = V[N + M:N + 2 * M]
        crow = V[N + 2 * M:N + 3 * M + 1]  # crow[j] for j = 1..M
        RS = V[N + 3 * M + 1]
        BAD = V[N + 3 * M + 2]
        poff = np.empty(LANES, np.int64)
        pidx = np.empty(LANES, np.int64)
        Wd = W[0]
        Wu = W[1]
        Wl = W[2]
        for blk in range(t, nblocks, T):
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
                roff = (i - 1) * M - 1
                _gather_row(Gf, poff, roff, jlo, jhi, kappa, A[i - 1], Bt, crow)
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
                            # the weight of a predecessor depends only on its value
                            Wd[i, j, lane] = w2 if rd == o2 else (w1 if rd == o1 else w0)
                            Wu[i, j, lane] = w2 if ru == o2 else (w1 if ru == o1 else w0)
                            Wl[i, j, lane] = w2 if rl == o2 else (w1 if rl == o1 else w0)
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
                Wd[N + 1, M + 1, lane] = one
            for j in range(M):
                for lane in range(LANES):
                    CS[j, lane] = zero
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
                for lane in range(LANES):
                    RS[lane] = zero
                roff = (i - 1) * M - 1
                for j in range(jhi, jlo - 1, -1):
                    for lane in range(LANES):
                        e = (nxt[j, lane] * Wu[i + 1, j, lane]
                             + cur[j + 1, lane] * Wl[i, j + 1, lane]
                             + nxt[j + 1, lane] * Wd[i + 1, j + 1, lane])
                        cur[j, lane] = e
                        RS[lane] += e
                        CS[j - 1, lane] += e
                for lane in range(LANES):
                    out_rs[pidx[lane], i - 1] = RS[lane]
                _scatter_row(cur, poff, roff, jlo, jhi, Ef)
            for lane in range(LANES):
                p = pidx[lane]
                for j in range(M):
                    out_cs[p, j] = CS[j, lane]


# ----------------------------------------------------------------------------------------------------------------------
# Python face
# ----------------------------------------------------------------------------------------------------------------------
_workspaces = threading.local()
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """Worker threads for the kernel's slots (the kernel releases the GIL).

    Plain threads that sleep when idle, rather than Numba's OpenMP layer: on a
    2-core machine the spinning OpenMP team left behind by each parallel region
    competed with torch's own OpenMP team and made everything around the loss ~5x slower.
    """
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="soft-dtw")
        return pool


def _workspace(threads: int, n: int, m: int, dtype: np.dtype, want_grad: bool) -> tuple:
    """Per-thread work buffers, kept between calls (fresh pages would cost more than the DP)."""
    key = (threads, n, m, np.dtype(dtype).str, want_grad)
    cache = getattr(_workspaces, "cache", None)
    if cache is None:
        cache = _workspaces.cache = {}
    ws = cache.get(key)
    if ws is None:
        wn, wm = (n + 2, m + 2) if want_grad else (1, 1)
        # zeros: weights outside the band are read (times E = 0) and must stay finite
        ws = (np.zeros((threads, 2, m + 1, LANES), dtype),
              np.zeros((threads, 3, wn, wm, LANES), dtype),
              np.zeros((threads, 2, m + 2, LANES), dtype),
              np.zeros((threads, n + 3 * m + 3, LANES), dtype))
        if len(cache) > 8:
            cache.clear()
        cache[key] = ws
    return ws


def soft_dtw_cpu(G: np.ndarray, alpha: np.ndarray, beta: np.ndarray, kappa: float,
                 lo: np.ndarray, hi: np.ndarray, gamma: float, want_grad: bool, threads: int,
                 out_E: np.ndarray | None = None) -> tuple:
    """Soft-DTW of ``kappa*G + alpha[:,:,None] + beta[:,None,:]`` for every pair.

    Returns (values (P,), finite flags (P,) that are 0 when every cost in the band was
    finite and NaN otherwise, E (P,N,M), row sums of E (P,N), column sums (P,M)); the
    last three only when ``want_grad``. ``out_E`` may be passed (zeros outside the band).
    """
    P, N, M = G.shape
    dtype = G.dtype
    nblocks = (P + LANES - 1) // LANES
    threads = max(1, min(threads, nblocks))
    ws = _workspace(threads, N, M, dtype, want_grad)
    val = np.empty(P, dtype)
    bad = np.empty(P, dtype)
    if want_grad:
        E = np.empty((P, N, M), dtype) if out_E is None else out_E
        rs = np.empty((P, N), dtype)
        cs = np.empty((P, M), dtype)
    else:
        E = np.empty((1, 1, 1), dtype)
        rs = cs = np.empty((1, 1), dtype)
    args = (G, alpha, beta, dtype.type(kappa), lo, hi, dtype.type(gamma), dtype.type(1.0 / gamma), dtype.type(1.0),
            want_grad, val, bad, E, rs, cs, *ws)
    if threads == 1:
        _sdtw_kernel(*args, 0, 1)
    else:
        pool = _pool(threads - 1)
        futures = [pool.submit(_sdtw_kernel, *args, t, threads) for t in range(1, threads)]
        _sdtw_kernel(*args, 0, threads)
        for f in futures:
            f.result()
    if want_grad:
        return val, bad, E, rs, cs
    return val, bad, None, None, None
