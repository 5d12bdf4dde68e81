"""Cloud regression: one distribution-free fitter for every shape that is linear in its parameters.

After Vincent Granville, "Cloud regression: the swiss army knife of optimization" and his book
*Synthetic Data and Generative AI* (2024). A shape given implicitly, ``g(x; theta) = 0``, with
``g`` linear in ``theta`` (a line, a polynomial, a circle, a general conic; see
:mod:`~genailab.learn.implicit_shapes`) is fitted to points by minimising the *algebraic*
error ``sum_i g(x_i; theta)^2 = ||D theta||^2`` under ``||theta|| = 1``, where ``D`` stacks the
lifted rows. By Rayleigh's theorem the minimiser is the eigenvector of the scatter matrix
``D^T D`` with the smallest eigenvalue. Nothing is assumed about a response: the points may
be a plain cloud, or ``(x_i, y_i)`` pairs of a classic regression written implicitly.

``shape="ellipse"`` instead uses the direct, ellipse-specific fit of Fitzgibbon, Pilu & Fisher
("Direct least square fitting of ellipses", IEEE PAMI 1999) in the numerically stable form of
Halir & Flusser ("Numerically stable direct least squares fitting of ellipses", WSCG 1998):
the same ``||D theta||^2`` minimised under ``4 A C - B^2 = 1``, which always gives an ellipse,
even from a short arc where the unconstrained conic fit may return a hyperbola.

Parameter confidence intervals and bands come from a *parametric bootstrap* (see
:class:`CloudRegression`), with all refits batched into one eigen-decomposition.
"""

from __future__ import annotations

import warnings

import numpy as np

from genailab.errors import ConfigError, DataError, NotFittedError
from genailab.estimator import Regressor, as_features, as_targets
from genailab.learn.implicit_shapes import (
    SHAPES,
    EllipseGeometry,
    circle_geometry,
    conic_geometry,
    lift,
    n_features,
    normalizing_map,
)

FIT_SHAPES = (*SHAPES, "ellipse")
_PROJECTION_STEPS = 8  # Newton steps that move a point onto a curve (see _foot_points)


class CloudRegression(Regressor):
    """Fit a line, polynomial, circle, conic or ellipse to a cloud, with bootstrap intervals.

    The fit minimises ``sum_i g(x_i; theta)^2`` under ``||theta|| = 1`` (smallest eigenvector
    of ``D^T D``) in normalised coordinates, then maps ``theta`` back (see the NOTE in
    :func:`fit_implicit`). Consequences worth knowing:

    - ``line`` (with or without a response) is exactly *total least squares*: the line that
      minimises the sum of squared perpendicular distances.
    - ``polynomial`` minimises the algebraic error of the row ``[1, u, ..., u^k, v]`` in
      standardised coordinates ``u = (x - mean x) / std x``, ``v = (y - mean y) / std y``,
      i.e. ``sum (v - p(u))^2 / (1 + ||p||^2)`` over polynomials ``p``: a total least squares in
      the lifted space, *not* ordinary least squares on the residuals in y.
    - ``circle`` is the algebraic (Kasa-like) fit under ``||theta|| = 1`` instead of Kasa's
      ``A = 1``; the two agree on exact data and differ at second order in the noise.
    - ``conic`` may return any conic (a hyperbola from a short noisy arc); ``ellipse``
      (Halir-Flusser) always returns an ellipse.

    With ``shape="line"`` or ``"polynomial"`` and a response ``y`` it is a regressor in
    scikit-learn's sense (``predict``, ``score`` as R^2, ``X`` of one feature); the other
    shapes fit a cloud ``X`` of shape (n, 2) and predict nothing.

    Parameters
    ----------
    shape : {"line", "polynomial", "circle", "conic", "ellipse"}, default "line"
    degree : int, default 2
        Degree of the polynomial (other shapes ignore it).
    n_boot : int, default 500
        Bootstrap data sets simulated by :meth:`fit`; 0 skips the bootstrap.
    level : float, default 0.95
        Coverage of the percentile intervals and bands.
    random_state : int or numpy.random.Generator, optional
        Source of the bootstrap noise.

    Attributes
    ----------
    coef_ : ndarray of shape (k,)
        Unit-norm ``theta``. Sign rule: the coefficient of ``y`` is positive (line,
        polynomial), of ``x^2 + y^2`` (circle), ``A + C`` (conic, ellipse); if that one is
        exactly 0, the largest entry in absolute value is made positive.
    geometry_ : EllipseGeometry or None
        Centre, semi-axes and angle for circle (``a == b``, angle 0), conic (None when the
        fitted conic is not an ellipse) and ellipse; None for line and polynomial.
    param_names_ : list of str
        Names of :attr:`params_`: ``slope, intercept`` (line; ``y = slope x + intercept``),
        ``c0 .. ck`` (polynomial, ``y = sum c_j x^j``), ``centre_x, centre_y, radius``
        (circle), ``centre_x, centre_y, semi_major, semi_minor, angle`` (conic, ellipse).
    params_ : ndarray of shape (m,)
        Those parameters (NaN where undefined: a vertical line, a conic that is no ellipse).
    sigma_ : float
        Noise scale: ``sqrt(sum r_i^2 / (n - p))`` with ``p`` free parameters and ``r_i`` the
        geometric residuals (see :meth:`residuals`).
    boot_coef_, boot_params_ : ndarray of shape (n_boot, k) and (n_boot, m)
        The refits on the bootstrap data sets (``boot_coef_`` signed to agree with ``coef_``,
        bootstrap angles unwrapped to within ``pi / 2`` of the fitted angle).

    Notes
    -----
    **Parametric bootstrap**, precisely. Each observed point ``x_i`` is moved onto the fitted
    curve (its *foot point* ``f_i``: the perpendicular foot for a line, the radial one for a
    circle, Newton steps along ``grad g`` for a conic; for a polynomial the point
    ``(x_i, p(x_i))``). A bootstrap data set is ``x*_i = f_i + sigma_ z_i`` with independent
    ``z_i ~ N(0, I_2)`` (isotropic noise; for the polynomial only ``y`` gets noise,
    ``y*_i = p(x_i) + sigma_ z_i``, ``x_i`` fixed). Each of the ``n_boot`` data sets is refitted
    with the same estimator, and an interval is the pair of ``(1 - level) / 2`` and
    ``(1 + level) / 2`` percentiles of the refitted parameter (the percentile bootstrap).
    This assumes the noise model above; it does not resample the residuals.

    Examples
    --------
    >>> t = np.linspace(0, 2 * np.pi, 50, endpoint=False)
    >>> cloud = np.c_[1 + 3 * np.cos(t), -2 + 3 * np.sin(t)]
    >>> fit = CloudRegression(shape="circle", n_boot=0).fit(cloud)
    >>> np.round(fit.params_, 10)
    array([ 1., -2.,  3.])
    >>> x = np.arange(5.0)
    >>> line = CloudRegression(shape="line", n_boot=50, random_state=0).fit(x, 2 * x + 1)
    >>> np.round(line.predict(np.array([10.0])), 10)
    array([21.])
    """

    def __init__(
        self,
        shape: str = "line",
        degree: int = 2,
        n_boot: int = 500,
        level: float = 0.95,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.shape = shape
        self.degree = degree
        self.n_boot = n_boot
        self.level = level
        self.random_state = random_state

    # ----------------------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> CloudRegression:
        """Fit the shape to the cloud ``X`` (n, 2), or to the pairs ``(X, y)``; return self."""
        self._check_params()
        points = self._points(X, y, reset=True)  # (n, 2)
        k = n_features(self._base, self.degree)
        if len(points) < k:
            raise DataError(
                f"X must have at least {k} points for shape {self.shape!r} "
                f"({k - 1} free parameters), got {len(points)}"
            )
        self.coef_ = _sign_rule(fit_implicit(points[None], self.shape, self.degree)[0], self._base)
        self.param_names_ = _param_names(self.shape, self.degree)
        self.params_ = self._params(self.coef_[None])[0]
        self.geometry_ = None
        if self._base in ("circle", "conic") and not np.isnan(self.params_).any():
            p = self.params_
            if self._base == "circle":
                self.geometry_ = EllipseGeometry(p[:2].copy(), float(p[2]), float(p[2]), 0.0)
            else:
                self.geometry_ = EllipseGeometry(
                    p[:2].copy(), float(p[2]), float(p[3]), float(p[4])
                )
        residuals = self._geometric(points, self.coef_)  # (n,)
        dof = len(points) - _free_parameters(self._base, self.degree)
        self.sigma_ = float(np.sqrt(np.sum(residuals**2) / dof))
        self.n_points_ = len(points)
        self.boot_coef_ = self.boot_params_ = None
        if self.n_boot > 0:
            self._bootstrap(points)
        return self

    def _bootstrap(self, points: np.ndarray) -> None:
        rng = np.random.default_rng(self.random_state)
        B, n = self.n_boot, len(points)
        if self._base == "polynomial":
            x = points[:, 0]  # (n,) kept fixed
            y_hat = np.polyval(self.params_[::-1], x)  # (n,)
            y_star = y_hat + self.sigma_ * rng.standard_normal((B, n))  # (B, n)
            sims = np.stack([np.broadcast_to(x, (B, n)), y_star], axis=-1)  # (B, n, 2)
        else:
            feet = _foot_points(points, self.coef_, self._base)  # (n, 2)
            sims = feet + self.sigma_ * rng.standard_normal((B, n, 2))  # (B, n, 2)
        coef = fit_implicit(sims, self.shape, self.degree)  # (B, k)
        coef *= np.where(coef @ self.coef_ < 0, -1.0, 1.0)[:, None]  # same sign as coef_
        params = self._params(coef)  # (B, m)
        if self._base == "conic" and not np.isnan(self.params_[4]):
            # NOTE: an angle lives on a circle of length pi; unwrap it next to the fitted one so
            # percentiles are not split between 0 and pi.
            params[:, 4] = self.params_[4] + _wrap(params[:, 4] - self.params_[4])
        self.boot_coef_, self.boot_params_ = coef, params

    # ------------------------------------------------------------------------- inference
    def confidence_intervals(self, method: str = "percentile") -> dict[str, tuple[float, float]]:
        """Bootstrap intervals at ``level`` for every parameter and coefficient.

        Parameters
        ----------
        method : {"percentile", "basic"}, default "percentile"
            ``percentile``: the ``(1 -+ level) / 2`` percentiles ``(q_lo, q_hi)`` of the
            refits. ``basic`` (reverse percentile): ``(2 est - q_hi, 2 est - q_lo)``, which
            removes the estimator's bias to first order (the refits are biased away from the
            estimate as the estimate is from the truth); it matters for the ellipse fit on a
            short arc, which shrinks the ellipse.

        Returns
        -------
        dict of str to (float, float)
            ``(low, high)`` for each name in ``param_names_`` and for ``theta_0 ...``.

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> x = np.linspace(0, 1, 40)
        >>> fit = CloudRegression("line", n_boot=200, random_state=1).fit(
        ...     x, 3 * x - 1 + 0.05 * rng.standard_normal(40))
        >>> low, high = fit.confidence_intervals()["slope"]
        >>> bool(low < 3 < high)
        True
        """
        self._check_boot()
        if method not in ("percentile", "basic"):
            raise ValueError(f"method must be 'percentile' or 'basic', got {method!r}")
        q = 50 * (1 - self.level), 50 * (1 + self.level)
        names = [*self.param_names_, *(f"theta_{j}" for j in range(len(self.coef_)))]
        values = np.concatenate([self.boot_params_, self.boot_coef_], axis=1)  # (B, m + k)
        with warnings.catch_warnings():  # all-NaN columns (a conic that is no ellipse) stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(values, q, axis=0)  # (m + k,) each
        if method == "basic":
            estimate = np.concatenate([self.params_, self.coef_])  # (m + k,)
            low, high = 2 * estimate - high, 2 * estimate - low
        return {name: (float(a), float(b)) for name, a, b in zip(names, low, high, strict=True)}

    def prediction_band(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise bootstrap band at ``level`` around the fitted curve.

        For line and polynomial, ``grid`` holds x values and the band is the percentiles of the
        bootstrap curves' ``y(x)``: ``(low, high)`` of shape ``(G,)``. For circle, conic and
        ellipse, ``grid`` holds parameter angles ``t`` of the fitted ellipse; along the ray from
        the fitted centre through the fitted point at ``t``, each bootstrap curve is met at a
        distance ``r_b``, and the band is the percentiles of ``r_b``: ``(inner, outer)``
        points of shape ``(G, 2)``. It is a band for the *curve* (where the true shape may
        run), not for new noisy observations.

        Examples
        --------
        >>> x = np.linspace(0, 1, 30)
        >>> y = x + 0.01 * np.random.default_rng(0).standard_normal(30)
        >>> fit = CloudRegression("line", n_boot=100, random_state=0).fit(x, y)
        >>> low, high = fit.prediction_band(np.array([0.0, 0.5, 1.0]))
        >>> bool(np.all(low < high) and (high - low)[1] < (high - low)[0])
        True
        """
        self._check_boot()
        grid = np.asarray(grid, dtype=float)
        if grid.ndim != 1 or not np.all(np.isfinite(grid)):
            raise ValueError(f"grid must be a 1-d array of finite numbers, got shape {grid.shape}")
        q = 50 * (1 - self.level), 50 * (1 + self.level)
        if self._base in ("line", "polynomial"):
            curves = _curve_y(self.boot_coef_, grid, self._base)  # (B, G)
            with warnings.catch_warnings():  # all-NaN columns (a vertical line) stay NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                low, high = np.nanpercentile(curves, q, axis=0)
            return low, high
        if self.geometry_ is None:
            raise ValueError("prediction_band needs a fitted ellipse, got a conic that is not one")
        centre = self.geometry_.centre  # (2,)
        direction = self.geometry_.point(grid) - centre  # (G, 2)
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        conics = _as_conic(self.boot_coef_, self._base)  # (B, 6)
        r = _ray_hits(conics, centre, direction)  # (B, G)
        with warnings.catch_warnings():  # directions no bootstrap curve crosses stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            r_low, r_high = np.nanpercentile(r, q, axis=0)  # (G,) each
        return centre + r_low[:, None] * direction, centre + r_high[:, None] * direction

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``y`` on the fitted line or polynomial at ``x`` (shapes that are graphs of x only).

        ``x`` holds values of x, in an array of any shape but 2-D (``y`` comes back in that
        shape), or is scikit-learn's ``X`` of shape (n, 1), one x per row (``y`` of shape (n,)).
        """
        self._check_fitted()
        if self._base not in ("line", "polynomial"):
            raise ConfigError(f"predict needs shape 'line' or 'polynomial', got {self.shape!r}")
        x = np.asarray(x, dtype=float)
        if x.ndim == 2:  # (n_samples, n_features): one feature, x
            if x.shape[1] != 1:
                raise DataError(
                    f"X has {x.shape[1]} features, but CloudRegression is expecting 1 features "
                    "as input (x)"
                )
            x = x[:, 0]
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).sum())
            raise DataError(f"x must be finite; {bad} values are NaN or inf")
        return _curve_y(self.coef_[None], x.ravel(), self._base)[0].reshape(x.shape)

    def residuals(
        self, X: np.ndarray, y: np.ndarray | None = None, kind: str = "algebraic"
    ) -> np.ndarray:
        """Residual of each point: ``"algebraic"`` ``g(x; coef_)`` (what the fit minimises) or
        ``"geometric"``: signed perpendicular distance (line), radial distance (circle), the
        Sampson distance ``g / ||grad g||`` (conic, ellipse: the first-order distance to the
        curve), and ``y - p(x)`` (polynomial)."""
        self._check_fitted()
        if kind not in ("algebraic", "geometric"):
            raise ValueError(f"kind must be 'algebraic' or 'geometric', got {kind!r}")
        points = self._points(X, y, reset=False)  # (n, 2)
        if kind == "geometric":
            return self._geometric(points, self.coef_)
        return lift(points, self._base, self.degree) @ self.coef_

    # -------------------------------------------------------------------------- helpers
    @property
    def _base(self) -> str:
        return "conic" if self.shape == "ellipse" else self.shape

    def _estimator_kind(self) -> str | None:
        return "regressor" if self.shape in ("line", "polynomial") else None

    def __sklearn_tags__(self):  # scikit-learn's tags: y is optional (a cloud X alone)
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    def _params(self, coef: np.ndarray) -> np.ndarray:  # (B, k) -> (B, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self._base == "line":  # a x + b y + c = 0  <=>  y = -(a / b) x - c / b
                return -coef[:, [0, 2]] / coef[:, 1:2]  # (B, 2): slope, intercept
            if self._base == "polynomial":  # y = -(t_0 + t_1 x + ... + t_k x^k) / t_y
                return -coef[:, :-1] / coef[:, -1:]  # (B, k - 1)
        if self._base == "circle":
            return circle_geometry(coef)
        return conic_geometry(coef)

    def _geometric(self, points: np.ndarray, coef: np.ndarray) -> np.ndarray:  # (n, 2) -> (n,)
        if self._base == "polynomial":
            return points[:, 1] - _curve_y(coef[None], points[:, 0], "polynomial")[0]
        if self._base == "circle":
            cx, cy, r = circle_geometry(coef)
            return np.hypot(points[:, 0] - cx, points[:, 1] - cy) - r
        g, grad = _value_and_gradient(points, coef, self._base)
        return g / np.linalg.norm(grad, axis=-1)

    def _points(self, X: np.ndarray, y: np.ndarray | None, reset: bool) -> np.ndarray:
        """The points (n, 2): the cloud ``X`` itself, or the pairs ``(x, y)``."""
        if y is None:
            why = "a cloud of points (x, y) when y is None"
            return as_features(self, X, reset=reset, n_features=2, why=why)
        why = "a response y of one x: X of shape (n,) or (n, 1)"
        x = as_features(self, X, reset=reset, n_features=1, why=why, allow_1d=True)[:, 0]
        return np.column_stack([x, as_targets(self, y, len(x))])

    def _check_params(self) -> None:
        if self.shape not in FIT_SHAPES:
            raise ConfigError(f"shape must be one of {', '.join(FIT_SHAPES)}, got {self.shape!r}")
        if self.shape == "polynomial" and (
            not isinstance(self.degree, int | np.integer) or self.degree < 1
        ):
            raise ConfigError(f"degree must be an int >= 1, got {self.degree!r}")
        if not isinstance(self.n_boot, int | np.integer) or self.n_boot < 0:
            raise ConfigError(f"n_boot must be an int >= 0, got {self.n_boot!r}")
        if not 0 < self.level < 1:
            raise ConfigError(f"level must be in (0, 1), got {self.level}")

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("this CloudRegression is not fitted yet: call fit first")

    def _check_boot(self) -> None:
        self._check_fitted()
        if self.boot_coef_ is None:
            raise ValueError("no bootstrap: fit with n_boot >= 1, got n_boot=0")


# ---------------------------------------------------------------------------- the fitters
def fit_implicit(points: np.ndarray, shape: str, degree: int = 2) -> np.ndarray:
    """Batched fit: unit-norm ``theta`` ``(B, k)`` for data sets ``points`` ``(B, n, 2)``.

    ``shape`` in ``line, polynomial, circle, conic``: the eigenvector of ``D^T D`` with the
    smallest eigenvalue (one batched ``eigh``). ``ellipse``: Halir-Flusser. No sign rule.

    Examples
    --------
    >>> pts = np.array([[[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]]])  # y = 2 x + 1
    >>> theta = fit_implicit(pts, "line")[0]
    >>> np.round(theta / theta[1], 12)  # -2 x + y - 1 = 0
    array([-2.,  1., -1.])
    """
    base = "conic" if shape == "ellipse" else shape
    points = np.asarray(points, dtype=float)
    # NOTE: the algebraic error is not invariant under a change of units, and raw coordinates
    # make D^T D badly conditioned (x^2 next to 1). We fit in normalised coordinates
    # u = (x - shift) / scale and map back with theta = M theta_u (M from normalizing_map).
    # The shift is the centroid; the scale is one isotropic RMS radius for the geometric
    # shapes (so a circle stays a circle and the line fit stays total least squares, which is
    # invariant under a shift and a uniform scale) and per-axis standard deviations for the
    # polynomial, where x and y have different units.
    shift = points.mean(axis=-2)  # (B, 2)
    centred = points - shift[..., None, :]  # (B, n, 2)
    if base == "polynomial":
        scale = np.sqrt(np.mean(centred**2, axis=-2))  # (B, 2)
    else:
        scale = np.sqrt(np.mean(np.sum(centred**2, axis=-1), axis=-1) / 2)  # (B,)
        scale = np.stack([scale, scale], axis=-1)  # (B, 2)
    scale = np.where(scale > 0, scale, 1.0)
    D = lift(centred / scale[..., None, :], base, degree)  # (B, n, k)
    if shape == "ellipse":
        theta_u = _halir_flusser(D)  # (B, 6)
    else:
        scatter = np.einsum("bni,bnj->bij", D, D)  # (B, k, k)
        theta_u = np.linalg.eigh(scatter)[1][..., :, 0]  # (B, k): smallest eigenvalue first
    M = normalizing_map(base, shift, scale, degree)  # (B, k, k)
    theta = np.einsum("bij,bj->bi", M, theta_u)  # (B, k)
    return theta / np.linalg.norm(theta, axis=-1, keepdims=True)


def _halir_flusser(D: np.ndarray) -> np.ndarray:
    """Minimise ``||D theta||^2`` under ``4 A C - B^2 = 1`` for lifted conic rows ``(B, n, 6)``.

    Halir & Flusser split ``D = [D1 | D2]`` (quadratic and linear parts). For fixed quadratic
    part ``a1`` the best linear part is ``a2 = T a1`` with ``T = -S3^-1 S2^T``; what remains is
    ``min a1^T M a1`` under ``a1^T C1 a1 = 1``, the eigenproblem ``C1^-1 M a1 = mu a1``, whose
    one eigenvector with ``4 A C - B^2 > 0`` is the ellipse.
    """
    D1, D2 = D[..., :3], D[..., 3:]  # (B, n, 3) each
    S1 = np.einsum("bni,bnj->bij", D1, D1)  # (B, 3, 3)
    S2 = np.einsum("bni,bnj->bij", D1, D2)  # (B, 3, 3)
    S3 = np.einsum("bni,bnj->bij", D2, D2)  # (B, 3, 3)
    T = -np.linalg.solve(S3, np.swapaxes(S2, -1, -2))  # (B, 3, 3)
    M = S1 + S2 @ T  # (B, 3, 3) reduced scatter
    # C1 = [[0, 0, 2], [0, -1, 0], [2, 0, 0]] is the constraint 4 A C - B^2; C1^-1 M reorders
    # and scales the rows of M.
    M = np.stack([M[:, 2] / 2, -M[:, 1], M[:, 0] / 2], axis=1)  # (B, 3, 3)
    V = np.linalg.eig(M)[1].real  # (B, 3, 3), columns are eigenvectors
    condition = 4 * V[:, 0, :] * V[:, 2, :] - V[:, 1, :] ** 2  # (B, 3)
    pick = np.argmax(condition, axis=-1)  # (B,) the one with 4AC - B^2 > 0
    a1 = np.take_along_axis(V, pick[:, None, None], axis=2)[..., 0]  # (B, 3)
    a2 = np.einsum("bij,bj->bi", T, a1)  # (B, 3)
    return np.concatenate([a1, a2], axis=-1)  # (B, 6)


# ---------------------------------------------------------------------- geometry helpers
def _sign_rule(theta: np.ndarray, base: str) -> np.ndarray:
    key = {"line": theta[1], "polynomial": theta[-1], "circle": theta[0]}.get(
        base, theta[0] + theta[2] if base == "conic" else 0.0
    )
    if key == 0:
        key = theta[np.argmax(np.abs(theta))]
    return theta if key > 0 else -theta


def _free_parameters(base: str, degree: int) -> int:
    return {"line": 2, "polynomial": degree + 1, "circle": 3, "conic": 5}[base]


def _param_names(shape: str, degree: int) -> list[str]:
    if shape == "line":
        return ["slope", "intercept"]
    if shape == "polynomial":
        return [f"c{j}" for j in range(degree + 1)]
    if shape == "circle":
        return ["centre_x", "centre_y", "radius"]
    return ["centre_x", "centre_y", "semi_major", "semi_minor", "angle"]


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Angles modulo pi, into [-pi / 2, pi / 2)."""
    return np.mod(angle + np.pi / 2, np.pi) - np.pi / 2


def _curve_y(coef: np.ndarray, x: np.ndarray, base: str) -> np.ndarray:
    """``y(x)`` ``(B, G)`` of lines ``[a, b, c]`` or polynomials ``[t_0 .. t_k, t_y]``."""
    powers = x[None, :] ** np.arange(coef.shape[1] - 1)[:, None]  # (k - 1, G)
    if base == "line":
        powers = np.stack([x, np.ones_like(x)])  # (2, G): a x + c
        coef = coef[:, [0, 2, 1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(coef[:, :-1] @ powers) / coef[:, -1:]  # (B, G)


def _as_conic(coef: np.ndarray, base: str) -> np.ndarray:
    """Conic coefficients ``(B, 6)`` of circles ``[A, D, E, F]`` (or conics unchanged)."""
    if base == "circle":
        A, D, E, F = coef.T
        return np.stack([A, np.zeros_like(A), A, D, E, F], axis=-1)
    return coef


def _value_and_gradient(
    points: np.ndarray, coef: np.ndarray, base: str
) -> tuple[np.ndarray, np.ndarray]:
    """``g`` ``(n,)`` and ``grad g`` ``(n, 2)`` of a line, circle or conic at ``points``."""
    x, y = points[:, 0], points[:, 1]
    if base == "line":
        a, b, c = coef
        return a * x + b * y + c, np.broadcast_to(np.array([a, b]), points.shape)
    A, B, C, D, E, F = _as_conic(coef[None], base)[0]
    g = A * x * x + B * x * y + C * y * y + D * x + E * y + F
    grad = np.stack([2 * A * x + B * y + D, B * x + 2 * C * y + E], axis=-1)  # (n, 2)
    return g, grad


def _foot_points(points: np.ndarray, coef: np.ndarray, base: str) -> np.ndarray:
    """Move each point onto ``g = 0`` by Newton steps along the gradient,
    ``p <- p - g(p) grad g(p) / ||grad g(p)||^2``: exact in one step for a line, the radial
    foot for a circle, and (to first order in the distance) the nearest point of a conic."""
    feet = points.copy()  # (n, 2)
    for _ in range(_PROJECTION_STEPS):
        g, grad = _value_and_gradient(feet, coef, base)
        feet = feet - (g / np.sum(grad * grad, axis=-1))[:, None] * grad
    return feet


def _ray_hits(conics: np.ndarray, origin: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Largest ``r >= 0`` with ``g_b(origin + r d) = 0`` ``(B, G)``; NaN where the ray misses.

    Along the ray ``g(o + r d) = q(d) r^2 + (grad g(o) . d) r + g(o)``, a quadratic in ``r``.
    """
    A, B, C, D, E, F = (c[:, None] for c in conics.T)  # (B, 1) each
    ox, oy = origin
    dx, dy = direction[:, 0][None], direction[:, 1][None]  # (1, G)
    qa = A * dx * dx + B * dx * dy + C * dy * dy  # (B, G)
    qb = (2 * A * ox + B * oy + D) * dx + (B * ox + 2 * C * oy + E) * dy  # (B, G)
    qc = A * ox * ox + B * ox * oy + C * oy * oy + D * ox + E * oy + F  # (B, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(qb * qb - 4 * qa * qc)  # NaN when the ray misses the curve
        r = np.maximum((-qb + root) / (2 * qa), (-qb - root) / (2 * qa))  # (B, G)
    return np.where(r >= 0, r, np.nan)
