"""Maximum-likelihood fitting shared by every model in the package.

A model supplies the log-likelihood of each distinct customer history (and,
where practical, its gradient with respect to the natural parameters); this
module does the rest: it merges identical histories into weighted rows, fits
the log-parameters with L-BFGS-B, and derives standard errors from the
inverse Hessian of the negative log-likelihood at the optimum.

The objective is the weighted *mean* negative log-likelihood plus an L2
penalty `penalizer_coef * sum(params ** 2)` (as in the Lifetimes package), so
the optimiser sees numbers of the same size whether it fits a hundred
customers or a million.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, NamedTuple, Self, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import optimize

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike
Columns = tuple[FloatArray, ...]
# What a model's likelihood is evaluated on: usually the columns of the distinct
# histories, or a form of them prepared for speed.
Data = TypeVar("Data")

# Log-parameters are kept in a box so that a degenerate data set (one customer,
# no repeat buyers) ends at a finite, reportable optimum instead of overflowing.
_LOG_PARAMETER_BOUND = math.log(1e8)


def weighted_sum(weights: FloatArray, values: FloatArray) -> float:
    """sum(weights * values) without a BLAS call.

    `weights @ values` goes to a multithreaded BLAS dot whose thread start-up
    costs ~40 times the arithmetic on a busy machine (7 ms vs 0.15 ms for
    300,000 rows); einsum's own loop is single-threaded.
    """
    return float(np.einsum("i,i->", weights, values))


def as_float_array(values: ArrayLike, name: str) -> FloatArray:
    """Return `values` as a 1-d float array; raise ValueError on NaN or infinity."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


_INT64_LIMIT = 2**62
# A column whose distinct values sit on a regular grid of at most this many slots is
# ranked by arithmetic (`distinct_and_ranks`).
_GRID_SLOT_LIMIT = 1 << 22


def distinct_and_ranks(column: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """`np.unique(column, return_inverse=True)`, several times faster on gridded values.

    Summaries have integer frequencies and recencies and ages in whole days (or
    days over 7): a few hundred distinct values on a regular grid. Each value's
    rank is then read from a table indexed by its grid slot, instead of coming
    from an argsort of the whole column, which costs ten times a sort. The
    result is checked exactly; values off any grid take np.unique's way.
    """
    values = np.unique(column)
    if len(values) > 1:
        step = float(np.min(np.diff(values)))
        slots = np.rint((values - values[0]) / step)
        if slots[-1] < _GRID_SLOT_LIMIT and np.all(np.diff(slots) > 0):
            lookup = np.zeros(int(slots[-1]) + 1, dtype=np.intp)
            lookup[slots.astype(np.intp)] = np.arange(len(values))
            ranks = lookup[np.rint((column - values[0]) / step).astype(np.intp)]
            if np.array_equal(values[ranks], column):
                return values, ranks
    return np.unique(column, return_inverse=True)


def unique_rows(
    columns: Sequence[FloatArray], weights: FloatArray
) -> tuple[tuple[FloatArray, ...], FloatArray]:
    """Merge identical rows of `columns`, summing their weights.

    The likelihood of a customer depends only on these columns, so the cost of
    a fit depends on the number of distinct histories, not of customers.
    """
    if len(weights) == 0:
        return tuple(np.asarray(column) for column in columns), weights
    # Each column's values replaced by their rank, the ranks combined into one
    # integer key per row (mixed radix), and the keys grouped: sorting one integer
    # column is several times faster than sorting rows of floats (lexsort). The rows
    # come out in the lexicographic order of the columns, as a lexsort gives them.
    values, ranks = zip(*(distinct_and_ranks(column) for column in columns), strict=True)
    sizes = [len(distinct) for distinct in values]
    if math.prod(sizes) >= _INT64_LIMIT:
        return _unique_rows_by_lexsort(columns, weights)
    key = np.zeros(len(weights), dtype=np.int64)
    for rank, size in zip(ranks, sizes, strict=True):
        key = key * size + rank
    if np.all(weights == 1):  # raw customers: counting is all there is to sum
        ordered = np.sort(key)
        starts = _group_starts(ordered)
        merged_weights = np.diff(np.append(starts, len(ordered))).astype(np.float64)
    else:
        order = np.argsort(key)
        ordered = key[order]
        starts = _group_starts(ordered)
        merged_weights = np.add.reduceat(weights[order], starts)
    keys = ordered[starts]
    decoded = []
    for size in reversed(sizes):
        keys, rank = np.divmod(keys, size)
        decoded.append(rank)
    merged = tuple(distinct[rank] for distinct, rank in zip(values, reversed(decoded), strict=True))
    return merged, merged_weights


def _group_starts(ordered: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """Where each run of equal values of a sorted array starts."""
    starts = np.empty(len(ordered), dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    return np.flatnonzero(starts)


def _unique_rows_by_lexsort(
    columns: Sequence[FloatArray], weights: FloatArray
) -> tuple[tuple[FloatArray, ...], FloatArray]:
    """`unique_rows` for columns with too many distinct values for one integer key."""
    order = np.lexsort(tuple(reversed(columns)))
    ordered = [column[order] for column in columns]
    starts = np.zeros(len(weights), dtype=bool)
    starts[0] = True
    for column in ordered:
        starts[1:] |= column[1:] != column[:-1]
    start_index = np.flatnonzero(starts)
    merged_weights = np.add.reduceat(weights[order], start_index)
    return tuple(column[start_index] for column in ordered), merged_weights


class FitResult(NamedTuple):
    params: FloatArray
    log_likelihood: float
    converged: bool
    iterations: int
    message: str


class LikelihoodModel(Generic[Data]):
    """Base of the fitters: parameters, optimisation and standard errors.

    Subclasses declare `parameter_names` (ordered as in the literature) and
    implement `_row_log_likelihood`; `_row_gradient` returns the per-row
    gradient with respect to the natural parameters, or None when the model
    has no analytic gradient (the total gradient is then taken by central
    differences). A model may override `_log_likelihood_and_gradient` with a
    faster single pass; the optimiser calls only that.
    """

    parameter_names: ClassVar[tuple[str, ...]]
    # False when the gradient is taken by central differences of the likelihood.
    has_analytic_gradient: ClassVar[bool] = True

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        if penalizer_coef < 0:
            raise ValueError("penalizer_coef must not be negative")
        self.penalizer_coef = penalizer_coef
        self._params: FloatArray | None = None
        self._covariance: FloatArray | None = None
        # The data of the last fit, kept for the standard errors, which are worked out
        # when first asked for: the Hessian costs twice as many likelihood
        # evaluations as a fit of four parameters.
        self._fitted_on: tuple[Any, FloatArray] | None = None
        self.log_likelihood = math.nan
        self.converged = False
        self.iterations = 0
        self.message = "not fitted"
        self.n_customers = 0.0
        self.n_histories = 0

    def __repr__(self) -> str:
        if self._params is None:
            return f"<{type(self).__name__}: not fitted>"
        shown = ", ".join(f"{name}={value:.4g}" for name, value in self.params.items())
        return f"<{type(self).__name__}: {shown}, log-likelihood {self.log_likelihood:.2f}>"

    # Parameters -------------------------------------------------------------

    @property
    def params(self) -> dict[str, float]:
        """The fitted parameters by name, in the order the literature prints them."""
        return dict(zip(self.parameter_names, self._fitted_params().tolist(), strict=True))

    @property
    def standard_errors(self) -> dict[str, float]:
        """Asymptotic standard errors: square roots of the inverse Hessian's diagonal.

        NaN when the Hessian is not positive definite (a degenerate fit).
        """
        if self._covariance is None:
            if self._fitted_on is None:
                raise ValueError(f"{type(self).__name__} is not fitted yet")
            data, weights = self._fitted_on
            self._covariance = _inverse_hessian(self, self._fitted_params(), data, weights)
        variances = np.diag(self._covariance)
        errors = np.where(variances >= 0, np.sqrt(np.abs(variances)), math.nan)
        return dict(zip(self.parameter_names, errors.tolist(), strict=True))

    def set_params(self, **params: float) -> Self:
        """Use the given parameters (e.g. published ones) without fitting."""
        missing = set(self.parameter_names) - set(params)
        unknown = set(params) - set(self.parameter_names)
        if missing or unknown:
            raise ValueError(
                f"expected exactly the parameters {', '.join(self.parameter_names)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        values = np.array([params[name] for name in self.parameter_names], dtype=np.float64)
        if not np.all(values > 0):
            raise ValueError("all parameters must be positive")
        self._params = values
        return self

    def _fitted_params(self) -> FloatArray:
        if self._params is None:
            raise ValueError(f"{type(self).__name__} is not fitted yet")
        return self._params

    # What subclasses provide -------------------------------------------------

    def _row_log_likelihood(self, params: FloatArray, data: Data) -> FloatArray:
        raise NotImplementedError

    def _row_gradient(self, params: FloatArray, data: Data) -> FloatArray | None:
        """Per-row gradient, shape (rows, parameters), or None for numerical gradients."""
        return None

    def _log_likelihood_hessian(
        self, params: FloatArray, data: Data, weights: FloatArray
    ) -> FloatArray | None:
        """Hessian of `total_log_likelihood` in the natural parameters, or None when
        the model has no analytic one (the standard errors then difference the gradient)."""
        return None

    # Likelihood of a data set ------------------------------------------------

    def total_log_likelihood(self, params: FloatArray, data: Data, weights: FloatArray) -> float:
        """Weighted sum of the rows' log-likelihoods at `params`."""
        return weighted_sum(weights, self._row_log_likelihood(params, data))

    def total_gradient(self, params: FloatArray, data: Data, weights: FloatArray) -> FloatArray:
        """Gradient of `total_log_likelihood` in the natural parameters."""
        return self._log_likelihood_and_gradient(params, data, weights)[1]

    def _log_likelihood_and_gradient(
        self, params: FloatArray, data: Data, weights: FloatArray
    ) -> tuple[float, FloatArray]:
        rows = self._row_gradient(params, data)
        if rows is None:
            gradient = self._central_difference_gradient(params, data, weights)
        else:
            gradient = np.asarray(np.einsum("i,ij->j", weights, rows), dtype=np.float64)
        return self.total_log_likelihood(params, data, weights), gradient

    def _central_difference_gradient(
        self, params: FloatArray, data: Data, weights: FloatArray
    ) -> FloatArray:
        gradient = np.empty_like(params)
        for index in range(len(params)):
            step = 1e-6 * params[index]
            upper, lower = params.copy(), params.copy()
            upper[index] += step
            lower[index] -= step
            gradient[index] = (
                self.total_log_likelihood(upper, data, weights)
                - self.total_log_likelihood(lower, data, weights)
            ) / (2 * step)
        return gradient

    # Fitting -----------------------------------------------------------------

    def _fit_rows(
        self,
        data: Data,
        weights: FloatArray,
        start: FloatArray,
        coarse: tuple[Data, FloatArray] | None = None,
    ) -> None:
        """Fit the parameters to weighted distinct rows; store the result on self.

        `coarse`: a smaller approximation of the same data with its weights, fitted
        first to find a starting point and curvature (see `maximise_likelihood`).
        """
        result = maximise_likelihood(self, data, weights, start, coarse)
        self._params = result.params
        self._covariance = None
        self._fitted_on = (data, weights)
        self.log_likelihood = result.log_likelihood
        self.converged = result.converged
        self.iterations = result.iterations
        self.message = result.message
        self.n_customers = float(weights.sum())
        self.n_histories = len(weights)


# How a fit's message starts when it was refined from a coarse fit.
COARSE_START_MESSAGE = "refined from a fit to coarsened histories"


def maximise_likelihood(
    model: LikelihoodModel[Data],
    data: Data,
    weights: FloatArray,
    start: FloatArray,
    coarse: tuple[Data, FloatArray] | None = None,
) -> FitResult:
    """Maximise the penalised likelihood over log-parameters.

    Without `coarse`, L-BFGS-B from `start`. With `coarse` (the same customers'
    histories on a coarser time grid, many times fewer rows), the coarse data are
    fitted first; the full data are then fitted by BFGS from the coarse optimum,
    starting from the coarse objective's inverse Hessian instead of the identity.
    Both objectives are per-customer means, so their curvatures are alike, and the
    full data need 4-7 likelihood evaluations instead of about 20. Whenever a step
    of that fails (coarse fit not converged, curvature not positive definite, the
    refinement leaving the search box), the plain L-BFGS-B fit runs instead.
    """
    if coarse is not None:
        coarse_data, coarse_weights = coarse
        first = _fit_by_lbfgsb(model, coarse_data, coarse_weights, start)
        if first.converged:
            inverse = _inverse_log_hessian(model, first.params, coarse_data, coarse_weights)
            if inverse is not None:
                refined = _refine_by_bfgs(model, data, weights, first, inverse)
                if refined.converged:
                    return refined
    return _fit_by_lbfgsb(model, data, weights, start)


def _objective(
    model: LikelihoodModel[Data], data: Data, weights: FloatArray
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean penalised negative log-likelihood and its gradient, in log-parameters."""
    total_weight = float(weights.sum())
    penalizer = model.penalizer_coef

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            log_likelihood, gradient = model._log_likelihood_and_gradient(params, data, weights)
        value = -log_likelihood / total_weight + penalizer * float(params @ params)
        gradient = -gradient / total_weight + 2 * penalizer * params
        if not math.isfinite(value) or not np.all(np.isfinite(gradient)):
            # Steer the line search back: an infinite value makes it shorten the step.
            return math.inf, np.zeros_like(log_params)
        return value, gradient * params

    return objective


def _fit_by_lbfgsb(
    model: LikelihoodModel[Data], data: Data, weights: FloatArray, start: FloatArray
) -> FitResult:
    bounds = [(-_LOG_PARAMETER_BOUND, _LOG_PARAMETER_BOUND)] * len(start)
    log_start = np.clip(np.log(start), -_LOG_PARAMETER_BOUND, _LOG_PARAMETER_BOUND)
    solution = optimize.minimize(
        _objective(model, data, weights),
        log_start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 5000, "maxfun": 20000, "ftol": 1e-13, "gtol": 1e-8},
    )
    return _fit_result(model, data, weights, solution, iterations=int(solution.nit))


def _refine_by_bfgs(
    model: LikelihoodModel[Data],
    data: Data,
    weights: FloatArray,
    coarse: FitResult,
    inverse_hessian: FloatArray,
) -> FitResult:
    solution = optimize.minimize(
        _objective(model, data, weights),
        np.log(coarse.params),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-8, "maxiter": 200, "hess_inv0": inverse_hessian},
    )
    result = _fit_result(
        model, data, weights, solution, iterations=coarse.iterations + int(solution.nit)
    )
    return result._replace(message=f"{COARSE_START_MESSAGE}: {result.message}")


def _fit_result(
    model: LikelihoodModel[Data],
    data: Data,
    weights: FloatArray,
    solution: optimize.OptimizeResult,
    iterations: int,
) -> FitResult:
    """The fit an optimiser ended at, judged by its gradient and the search box."""
    total_weight = float(weights.sum())
    penalizer = model.penalizer_coef
    log_params = np.asarray(solution.x, dtype=np.float64)
    params = np.exp(log_params)
    with np.errstate(all="ignore"):
        log_likelihood, gradient = model._log_likelihood_and_gradient(params, data, weights)
    # The optimiser stops on "no further decrease possible" as often as on a
    # small gradient; what matters is that the gradient is ~0 at the end.
    final_gradient = (-gradient / total_weight + 2 * penalizer * params) * params
    at_bound = np.abs(log_params) >= _LOG_PARAMETER_BOUND * (1 - 1e-9)
    converged = bool(
        math.isfinite(log_likelihood)
        and np.all(np.isfinite(final_gradient))
        and np.all(np.abs(final_gradient) < 1e-5)
        and not at_bound.any()
    )
    message = str(solution.message)
    if at_bound.any():
        names = [name for name, hit in zip(model.parameter_names, at_bound, strict=True) if hit]
        message = f"parameters at the edge of the search box ({', '.join(names)}): {message}"
    return FitResult(
        params=params,
        log_likelihood=float(log_likelihood),
        converged=converged,
        iterations=iterations,
        message=message,
    )


def _central_hessian(
    gradient: Callable[[FloatArray], FloatArray], at: FloatArray, steps: FloatArray
) -> FloatArray:
    """The Jacobian of `gradient` at `at` by central differences (2 evaluations per
    coordinate, each with its own step), symmetrised."""
    size = len(at)
    hessian = np.empty((size, size))
    for index in range(size):
        shift = np.zeros(size)
        shift[index] = steps[index]
        hessian[:, index] = (gradient(at + shift) - gradient(at - shift)) / (2 * steps[index])
    return np.asarray((hessian + hessian.T) / 2, dtype=np.float64)


def _inverse_log_hessian(
    model: LikelihoodModel[Data], params: FloatArray, data: Data, weights: FloatArray
) -> FloatArray | None:
    """Inverse Hessian of the objective in log-parameters, or None if not positive
    definite (or not finite around `params`)."""
    hessian = _analytic_log_hessian(model, params, data, weights)
    if hessian is None:
        objective = _objective(model, data, weights)

        def gradient(log_params: FloatArray) -> FloatArray:
            value, found = objective(log_params)
            return found if math.isfinite(value) else np.full_like(found, math.nan)

        hessian = _central_hessian(gradient, np.log(params), np.full(len(params), 1e-4))
    if not np.all(np.isfinite(hessian)):
        return None
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    inverse = np.linalg.inv(hessian)
    return np.asarray((inverse + inverse.T) / 2, dtype=np.float64)


def _analytic_log_hessian(
    model: LikelihoodModel[Data], params: FloatArray, data: Data, weights: FloatArray
) -> FloatArray | None:
    """The objective's Hessian in log-parameters from the model's analytic Hessian,
    or None when it has none.

    With theta = exp(phi) and f the objective, d2f/dphi_i dphi_j =
    theta_i theta_j d2f/dtheta_i dtheta_j + [i = j] theta_i df/dtheta_i.
    """
    with np.errstate(all="ignore"):
        natural = model._log_likelihood_hessian(params, data, weights)
        if natural is None:
            return None
        _, gradient = model._log_likelihood_and_gradient(params, data, weights)
    total_weight = float(weights.sum())
    penalty = 2 * model.penalizer_coef
    objective_gradient = -gradient / total_weight + penalty * params
    objective_hessian = -natural / total_weight + penalty * np.eye(len(params))
    hessian = np.outer(params, params) * objective_hessian + np.diag(params * objective_gradient)
    return np.asarray((hessian + hessian.T) / 2, dtype=np.float64)


def _inverse_hessian(
    model: LikelihoodModel[Data], params: FloatArray, data: Data, weights: FloatArray
) -> FloatArray:
    """Inverse Hessian of the total penalised negative log-likelihood, natural parameters.

    The model's analytic Hessian where it has one; otherwise the central difference
    of the (analytic or numerical) gradient, symmetrised. NaN-filled when it is
    singular.
    """
    size = len(params)
    total_weight = float(weights.sum())
    # A numerical gradient is noisy at the 1e-10 level: difference it over a wider step.
    relative_step = 1e-4 if model.has_analytic_gradient else 1e-3
    with np.errstate(all="ignore"):
        analytic = model._log_likelihood_hessian(params, data, weights)
        hessian = -(
            analytic
            if analytic is not None
            else _central_hessian(
                lambda at: model.total_gradient(at, data, weights), params, relative_step * params
            )
        )
    hessian = hessian + 2 * model.penalizer_coef * total_weight * np.eye(size)
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return np.full((size, size), math.nan)
    return np.asarray(covariance, dtype=np.float64)
