"""Customer-lifetime-value models of the "buy till you die" family, in NumPy/SciPy.

Transaction models (fitted on frequency, recency and T, compressed to
distinct histories): `BetaGeoFitter` (BG/NBD), `ModifiedBetaGeoFitter`
(MBG/NBD), `ParetoNBDFitter` (Pareto/NBD) and, for discrete opportunities,
`BetaGeoBetaBinomFitter` (BG/BB). Spend: `GammaGammaFitter`, which also turns
a transaction model's forecast into `customer_lifetime_value`.
"""

from .bg_bb import BetaGeoBetaBinomFitter
from .bg_nbd import BetaGeoFitter, ModifiedBetaGeoFitter
from .gamma_gamma import GammaGammaFitter, TransactionModel
from .histories import CompressedHistories, TransactionSummary, compress, summarize_transactions
from .pareto_nbd import ParetoNBDFitter
from .simulation import simulate_bg_nbd, simulate_pareto_nbd

__all__ = [
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "CompressedHistories",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "TransactionModel",
    "TransactionSummary",
    "compress",
    "simulate_bg_nbd",
    "simulate_pareto_nbd",
    "summarize_transactions",
]
