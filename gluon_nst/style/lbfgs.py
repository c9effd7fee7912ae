"""L-BFGS on the device (MXNet NDArrays): torch.optim.LBFGS without a line search.

This is the optimiser jcjohnson/neural-style runs (Lua torch `optim.lbfgs`,
which torch.optim.LBFGS follows): one function evaluation per iteration, the
history of the last `history` (s, y) pairs kept for the whole run (never
restarted), the two-loop recursion with the initial inverse Hessian
y.s / y.y, a fixed step length `lr` (the first step scaled by
min(1, 1 / |g|_1) so that it cannot overshoot), and torch's tolerance checks.
It differs from `optimizer.name: lbfgs` (scipy L-BFGS-B, the Keras recipe),
which runs rounds with a line search and restarts its memory every round.

`minimize()` is the algorithm on flat NDArrays, one `Iteration` per
iteration; `optimize.lbfgs_torch_stage()` runs it on a style stage and yields
the engine's `Iterate`s (progress, logging, save_every and Ctrl-C work as for
Adam).  This module imports nothing of the style method.
"""
import math
from dataclasses import dataclass

from mxnet import nd


@dataclass
class Iteration:
    index: int             # 0-based
    loss: float            # f at the point this iteration started from
    info: object           # what fun() returned with that loss (the style loss parts)
    step: float            # the step length t taken (0: no step)
    x: object              # the new point (a fresh NDArray, safe to keep)
    evaluations: int       # function evaluations so far
    stopped: str = ''      # why the run ends after this iteration ('' while it goes on)


class NotFinite(ArithmeticError):
    """f or its gradient became NaN or infinite at the point after `last_good`."""

    def __init__(self, index, last_good):
        super().__init__(f'non-finite loss after iteration {index}')
        self.index, self.last_good = index, last_good


def _dot(a, b):
    return nd.dot(a, b)                    # (1,) on the device: no sync


def _two_loop_device(g, steps, dirs, rho, h_diag):
    """d = -H g by the two-loop recursion on the device (the alphas stay there)."""
    q = -g
    alphas = [None] * len(dirs)
    for k in range(len(dirs) - 1, -1, -1):
        alphas[k] = _dot(steps[k], q) * rho[k]
        q = q - dirs[k] * alphas[k]
    d = q * h_diag
    for k in range(len(dirs)):
        beta = _dot(dirs[k], d) * rho[k]
        d = d + steps[k] * (alphas[k] - beta)
    return d


def _two_loop_numpy(g, steps, dirs, rho, h_diag):
    """The same on the CPU in numpy, in place: with 100 pairs of 0.5M-element vectors
    MXNet's per-operator dispatch made the recursion 4x slower (0.32 s against
    0.08 s an iteration, 12% of a 512-px iteration)."""
    q = -g.asnumpy()
    alphas = [0.0] * len(dirs)
    for k in range(len(dirs) - 1, -1, -1):
        alphas[k] = float(steps[k] @ q) * rho[k]
        q -= alphas[k] * dirs[k]
    q *= h_diag
    for k in range(len(dirs)):
        beta = float(dirs[k] @ q) * rho[k]
        q += (alphas[k] - beta) * steps[k]
    return nd.array(q, ctx=g.context, dtype=g.dtype)


def minimize(fun, x0, iterations, lr=1.0, history=100, tolerance_grad=1e-7,
             tolerance_change=1e-9, project=None, two_loop='auto'):
    """Minimise fun from x0 (a flat NDArray); yields an Iteration per iteration.

    fun(x) -> (loss as a (1,) NDArray, gradient shaped like x, info).
    lr: the step length, or a function of the iteration index.
    project: optional map applied to each new point (e.g. clipping to a box); the
    step s kept in the history is then the displacement actually made.
    two_loop: where d = -H g is computed: 'numpy' (the history kept in host memory),
    'device' (NDArrays), or 'auto' (numpy on the CPU, the device elsewhere).
    Stops early, as torch does, when max|g| <= tolerance_grad, when g.d >
    -tolerance_change (no descent direction), when max|t d| <= tolerance_change or
    when |f_new - f| < tolerance_change.
    """
    if two_loop not in ('auto', 'numpy', 'device'):
        raise ValueError(f"two_loop: 'auto', 'numpy' or 'device', not {two_loop!r}")
    step_length = lr if callable(lr) else (lambda i: lr)
    x = x0.copy()
    loss_nd, g, info = fun(x)
    evaluations = 1
    loss, g_max, g_sum = (float(v) for v in
                          nd.concat(loss_nd.reshape((1,)), nd.max(nd.abs(g)).reshape((1,)),
                                    nd.sum(nd.abs(g)).reshape((1,)), dim=0).asnumpy())
    if not (math.isfinite(loss) and math.isfinite(g_max)):
        raise NotFinite(-1, x0)
    if g_max <= tolerance_grad:
        yield Iteration(0, loss, info, 0.0, x, evaluations, 'the gradient is below tolerance_grad')
        return
    dirs, steps, rho = [], [], []          # y, s and 1 / y.s of the kept pairs, oldest first
    on_cpu = x0.context.device_type == 'cpu' if two_loop == 'auto' else two_loop == 'numpy'
    direction, keep = ((_two_loop_numpy, lambda v: v.asnumpy()) if on_cpu else
                       (_two_loop_device, lambda v: v))
    h_diag, d, t, g_prev, s = 1.0, None, 0.0, None, None
    for i in range(iterations):
        if i == 0:
            d = -g
        else:
            y = g - g_prev
            ys, yy = (float(v) for v in nd.concat(_dot(y, s), _dot(y, y), dim=0).asnumpy())
            if ys > 1e-10:                 # keep the pair only if the curvature is positive
                if len(dirs) == history:
                    dirs.pop(0), steps.pop(0), rho.pop(0)
                dirs.append(keep(y)), steps.append(keep(s)), rho.append(1.0 / ys)
                h_diag = ys / yy
            d = direction(g, steps, dirs, rho, h_diag)
        g_prev = g
        t = min(1.0, 1.0 / g_sum) * step_length(i) if i == 0 else step_length(i)
        gtd, d_max = (float(v) for v in
                      nd.concat(_dot(g, d), nd.max(nd.abs(d)).reshape((1,)), dim=0).asnumpy())
        if gtd > -tolerance_change:
            yield Iteration(i, loss, info, 0.0, x, evaluations,
                            'no descent direction (g.d > -tolerance_change)')
            return
        x_new = x + d * t
        if project is not None:
            x_new = project(x_new)
            s = x_new - x
        else:
            s = d * t
        if i == iterations - 1:            # the last iteration evaluates nothing (as torch)
            yield Iteration(i, loss, info, t, x_new, evaluations)
            return
        loss_nd, g, new_info = fun(x_new)
        evaluations += 1
        new_loss, g_max = (float(v) for v in
                           nd.concat(loss_nd.reshape((1,)), nd.max(nd.abs(g)).reshape((1,)),
                                     dim=0).asnumpy())
        if not (math.isfinite(new_loss) and math.isfinite(g_max)):
            raise NotFinite(i, x)
        stopped = ''
        if g_max <= tolerance_grad:
            stopped = 'the gradient is below tolerance_grad'
        elif d_max * t <= tolerance_change:
            stopped = 'the step is below tolerance_change'
        elif abs(new_loss - loss) < tolerance_change:
            stopped = 'the loss changes less than tolerance_change'
        yield Iteration(i, loss, info, t, x_new, evaluations, stopped)
        if stopped:
            return
        x, loss, info = x_new, new_loss, new_info
