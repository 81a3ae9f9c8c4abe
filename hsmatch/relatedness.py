"""Revealed comparative advantage and relatedness from the co-export structure.

The product-space measures of Hidalgo et al. (2007), computed across districts:

- RCA of district d in product p: (x_dp / x_d) / (x_p / x), the product's share of the
  district's exports over its share of all districts' exports;
- proximity of products p and q: min(P(RCA_q >= 1 | RCA_p >= 1), P(RCA_p >= 1 | RCA_q >= 1)),
  how often districts that export one competitively also export the other;
- density of product p for district d: the proximity-weighted share of p's neighbours in
  which d has RCA >= 1. A product the district does not yet export competitively but whose
  neighbours it does is a plausible addition.

"Products" are whatever the export table's codes are at the level given (sectors,
headings, ...). Everything here is dense numpy over districts x products, which is small
at sector or heading level (700 x 1,300).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hsmatch.errors import InputError


@dataclass
class ProductSpace:
    """Exports as a districts x products matrix, with RCA, proximity and density."""

    districts: list[tuple[str, str]]    # (state, district) of each row
    products: list[str]                 # code of each column
    values: np.ndarray                  # USD, districts x products
    rca: np.ndarray
    proximity: np.ndarray               # products x products, diagonal 0
    density: np.ndarray                 # districts x products

    def row(self, state: str, district: str) -> int | None:
        return self._rows.get((state, district))

    def column(self, code: str) -> int | None:
        return self._columns.get(code)

    def __post_init__(self) -> None:
        self._rows = {key: i for i, key in enumerate(self.districts)}
        self._columns = {code: j for j, code in enumerate(self.products)}

    def neighbours(self, row: int, column: int, n: int = 3) -> list[tuple[str, float]]:
        """The products that make ``column`` close for district ``row``: those it exports
        with RCA >= 1, by proximity to ``column``."""
        present = self.rca[row] >= 1.0
        weights = np.where(present, self.proximity[column], 0.0)
        order = np.argsort(-weights, kind="stable")[:n]
        return [(self.products[j], float(weights[j])) for j in order if weights[j] > 0]


def product_space(frame: pd.DataFrame) -> ProductSpace:
    """The product space of a tidy exports table (state, district, code, value_usd) whose
    codes are all of one level. Rows with no value are ignored."""
    missing = [c for c in ("state", "district", "code", "value_usd") if c not in frame.columns]
    if missing:
        raise InputError(f"product_space needs columns {missing}")
    positive = frame[frame["value_usd"] > 0]
    table = positive.pivot_table(index=["state", "district"], columns="code", values="value_usd",
                                 aggfunc="sum", fill_value=0.0)
    values = table.to_numpy(dtype=np.float64)
    if values.size == 0:
        raise InputError("product_space: the exports table has no positive values")
    district_total = values.sum(axis=1, keepdims=True)
    product_total = values.sum(axis=0, keepdims=True)
    grand = values.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        rca = (values / district_total) / (product_total / grand)
    rca = np.nan_to_num(rca)
    present = (rca >= 1.0).astype(np.float64)
    ubiquity = present.sum(axis=0)
    together = present.T @ present
    with np.errstate(divide="ignore", invalid="ignore"):
        proximity = together / np.maximum.outer(ubiquity, ubiquity)
    proximity = np.nan_to_num(proximity)
    np.fill_diagonal(proximity, 0.0)
    weight = proximity.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.nan_to_num((present @ proximity) / weight)
    return ProductSpace(districts=[tuple(k) for k in table.index], products=list(table.columns),
                        values=values, rca=rca, proximity=proximity, density=density)
