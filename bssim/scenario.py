"""Scenario files: TOML, validated with pydantic, every field with its unit.

A scenario describes one cell (geometry, radio, channel), its users, the scheduler, the
content the users request and the simulation settings. Files use the field's units (dBm,
dB, GHz, Hz, m, s); :class:`Scenario` exposes them as written and offers SI helpers.

Errors name the file, the dotted field path, the bad value and what is allowed; unknown
fields are errors, so a typo never passes silently::

    scenarios/bad.toml: field 'scheduler.p_max_w' = -3.0: Input should be greater than or equal to 0

Content is *declared* (numbers or distributions for D_n, C_n, α_n written in the file and
labelled ``declared`` in the results) or *measured* by the pipeline (``bssim.pipeline``).
"""

from __future__ import annotations

import copy
import math
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bssim.metrics import metric_range
from bssim import link


class ScenarioError(ValueError):
    """A scenario file or override is invalid; the message names file, field, value, rule."""


class _Strict(BaseModel):
    # allow_inf_nan=False: a non-finite number anywhere in a scenario is an error naming the field;
    # strict=True: no silent conversions ("1" is not the integer 1, 1.5 not an integer; ints are floats)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


# --------------------------------------------------------------------------- distributions
class Uniform(_Strict):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> "Uniform":
        if not self.high >= self.low:
            raise ValueError(f"uniform needs high >= low, got low={self.low}, high={self.high}")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)


class Normal(_Strict):
    """Normal(mean, std), optionally clipped to [low, high]."""

    dist: Literal["normal"]
    mean: float
    std: float = Field(ge=0)
    low: float = -math.inf
    high: float = math.inf

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.clip(rng.normal(self.mean, self.std, size=n), self.low, self.high)


class LogNormal(_Strict):
    """exp(Normal(mu, sigma)): ``median`` = e^mu, ``sigma`` the std of the log."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(math.log(self.median), self.sigma, size=n)


class Choice(_Strict):
    """One of ``values`` with probabilities ``weights`` (equal if omitted)."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> "Choice":
        if self.weights is not None and (
            len(self.weights) != len(self.values) or any(w < 0 for w in self.weights) or sum(self.weights) <= 0
        ):
            raise ValueError("choice weights must be non-negative, not all zero, one per value")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=p)


Distribution = Annotated[Union[Uniform, Normal, LogNormal, Choice], Field(discriminator="dist")]
Value = Union[float, Distribution]


def sample_value(value: Value, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` values: a constant repeats, a distribution is sampled."""
    if isinstance(value, (int, float)):
        return np.full(n, float(value))
    return value.sample(rng, n)


# --------------------------------------------------------------------------- sections
class Cell(_Strict):
    """The cell: geometry, radio and channel model (DESIGN.md section 2)."""

    radius_m: float = Field(300.0, gt=0, description="cell radius; users uniform in the disc")
    min_distance_m: float = Field(10.0, ge=0, description="users no closer to the BS than this")
    carrier_ghz: float = Field(3.5, gt=0, le=100, description="carrier frequency")
    bandwidth_hz: float = Field(1.0e6, gt=0, description="bandwidth B of each user's link")
    noise_figure_db: float = Field(7.0, ge=0, le=30, description="receiver noise figure")
    noise_dbm: float | None = Field(
        None, description="noise power per user; default k·T0·B·NF from bandwidth and noise figure"
    )
    pathloss: Literal["uma", "umi", "log_distance"] = Field(
        "uma", description="TR 38.901 UMa, UMi street canyon, or log-distance"
    )
    los: Literal["probabilistic", "los", "nlos"] = Field(
        "probabilistic", description="line of sight per user: TR 38.901 probability, or forced"
    )
    pathloss_exponent: float = Field(3.5, gt=0, le=8, description="log_distance only")
    shadowing_db: float | None = Field(
        None, ge=0, le=20, description="log-normal shadowing std; default TR 38.901 value (UMa 4/6 dB)"
    )
    fading: Literal["none", "rayleigh", "rician"] = Field("rayleigh", description="block fading per epoch")
    rician_k_db: float = Field(6.0, description="Rician K factor (fading = 'rician')")
    antenna_gain_db: float = Field(0.0, ge=-50, le=60, description="total Tx + Rx antenna gain")
    loss_w: float = Field(0.0, ge=0, description="transmission loss L of the seed's rate formula")
    bs_height_m: float = Field(
        25.0, gt=1, le=200, description="BS antenna height; default follows the path-loss model (UMa 25 m, UMi 10 m)"
    )
    ue_height_m: float = Field(1.5, gt=1, le=22.5)
    indoor_share: float = Field(
        0.0, ge=0, le=1, description="share of users indoors (TR 38.901 O2I, UMa/UMi; 3GPP calibration: 0.8)"
    )
    o2i_high_loss_share: float = Field(
        0.0, ge=0, le=1, description="share of indoor users behind the high-loss O2I model (TR 38.901 Table 7.4.3-2); the rest low-loss"
    )
    indoor_distance_max_m: float = Field(
        25.0, gt=0, le=1000, description="indoor distance d_2D-in = min of two U(0, this) draws (TR 38.901: 25 m)"
    )
    shadowing_decorrelation_m: float | None = Field(
        None, gt=0, le=10_000,
        description="moving users: shadowing decorrelation distance; default TR 38.901 Table 7.5-6 (UMa 37/50/7 m LOS/NLOS/O2I)",
    )

    @model_validator(mode="before")
    @classmethod
    def _model_defaults(cls, data: Any) -> Any:
        """Defaults that follow the path-loss model (TR 38.901 Table 7.2-1): UMi BS height 10 m."""
        if isinstance(data, dict) and "bs_height_m" not in data and data.get("pathloss") == "umi":
            data = {**data, "bs_height_m": 10.0}
        return data

    @model_validator(mode="after")
    def _geometry(self) -> "Cell":
        if self.min_distance_m >= self.radius_m:
            raise ValueError(
                f"min_distance_m ({self.min_distance_m}) must be smaller than radius_m ({self.radius_m})"
            )
        if self.pathloss in ("uma", "umi") and not 0.5 <= self.carrier_ghz <= 100:
            raise ValueError(f"carrier_ghz = {self.carrier_ghz}: TR 38.901 ({self.pathloss}) is valid for 0.5-100 GHz")
        if self.indoor_share > 0 and self.pathloss == "log_distance":
            raise ValueError("indoor_share > 0 needs pathloss = 'uma' or 'umi' (TR 38.901 O2I model)")
        return self


class Users(_Strict):
    """Users in the cell at the start (the simulation may add and remove users)."""

    count: int = Field(100, ge=0, le=1_000_000, description="number of users")
    placement: Literal["uniform_disc"] = "uniform_disc"


SOLVER_NAMES = ("dp", "cpsat", "mip", "greedy", "all_direct", "all_key")


class Scheduler(_Strict):
    """The base station's power budget and solver (seed section IV; docs/model.md section 2)."""

    p_max_w: float = Field(20.0, ge=0, le=1e4, description="total transmit power budget P_max")
    delay_bound_s: float = Field(0.1, gt=0, le=3600, description="delay bound T = epoch length")
    grid: int | None = Field(
        None, ge=1, le=10_000_000,
        description="dp/cpsat: G steps of Δ = P_max/G (the seed's grid); default: an automatic power quantum",
    )
    power_quantum_w: float | None = Field(
        None, gt=0, description="dp/cpsat: fixed power step Δ in W (costs ceil(P/Δ), capacity floor(P_max/Δ))"
    )
    solver: Literal["dp", "cpsat", "mip", "greedy", "all_direct", "all_key"] = "dp"
    polish: bool = Field(
        False,
        description="dp only: after the DP, spend the watts its rounded-up costs left unused on "
        "upgrades (closer to the MIP optimum; no longer the pure seed DP, so it can differ from cpsat)",
    )

    @model_validator(mode="after")
    def _one_grid(self) -> "Scheduler":
        if self.grid is not None and self.power_quantum_w is not None:
            raise ValueError("give at most one of grid and power_quantum_w")
        return self

    def solver_options(self) -> dict[str, object]:
        """Keyword options for :func:`bssim.sched.solve` implied by these settings."""
        return {"polish": True} if self.solver == "dp" and self.polish else {}


class Link(_Strict):
    """Link abstraction that prices every option (docs/model.md section 1)."""

    model: Literal["shannon", "analog", "nr"] = Field(
        "shannon", description="shannon: error-free bits at the Shannon rate; analog: JSCC symbols at an SNR level; "
        "nr: the bits over 5G NR PDSCH (Sionna MCS/TBS/BLER, docs/model.md section nr)"
    )
    bits_per_value: int = Field(6, ge=1, le=12, description="shannon: quantisation of the JSCC latents before entropy coding")
    snr_levels_db: list[float] = Field(
        [0.0, 5.0, 10.0, 15.0, 20.0], min_length=1,
        description="analog: per-symbol SNR levels of the menu, each measured (never extrapolated)",
    )
    channel: Literal["awgn", "rayleigh"] = Field("awgn", description="analog: channel the JSCC symbols are measured over")
    bler_target: float = Field(0.1, gt=0, lt=1, description="nr: transport-block BLER target of link adaptation")
    harq: Literal["drop", "retransmit"] = Field(
        "retransmit", description="nr: a failed transport block is dropped, or resent in spare slots within T"
    )
    numerology: int = Field(1, ge=0, le=4, description="nr: μ, subcarrier spacing 15·2^μ kHz, slot 1 ms/2^μ")
    mcs_table: int = Field(1, ge=1, le=4, description="nr: PDSCH MCS table of TS 38.214 (1: up to 64-QAM)")
    pdsch_symbols: int = Field(12, ge=1, le=14, description="nr: OFDM symbols per slot carrying PDSCH (14 − control)")
    dmrs_per_prb: int = Field(12, ge=0, le=60, description="nr: DMRS resource elements per PRB and slot")


#: Which link models read each link.* setting (the others ignore it: a ScenarioWarning).
LINK_FIELD_USERS = {"bits_per_value": ("shannon", "nr"), "snr_levels_db": ("analog",), "channel": ("analog",),
                    **{f: ("nr",) for f in ("bler_target", "harq", "numerology", "mcs_table", "pdsch_symbols",
                                            "dmrs_per_prb")}}


class ScenarioWarning(UserWarning):
    """A scenario setting that has no effect (ignored by the chosen link or objective)."""


def _warn_ignored(field: str, chosen: str, used_by: tuple[str, ...], selector: str) -> None:
    import warnings

    warnings.warn(f"{field} is set but {chosen} ignores it (only {selector} = {' or '.join(map(repr, used_by))} "
                  f"reads it)", ScenarioWarning, stacklevel=2)


class ObjectiveSettings(_Strict):
    """What the scheduler maximises (bssim.options.objective)."""

    kind: Literal["sum", "log", "seed"] = Field(
        "sum", description="sum: Σ Q_n; log: Σ ln(1 + Q_n/ε) (proportional fairness); seed: Σ Q_n/Q_n,direct"
    )
    metric: Literal["ssim", "psnr", "ms_ssim", "person_iou", "person_f1"] = Field(
        "ssim", description="quality Q against the original frame; person_iou / person_f1: the people found on it "
        "versus on the original (task metrics, measured only when chosen here; docs/semantic.md)")
    epsilon: float = Field(0.01, gt=0, description="log: ε, in the metric's units")
    min_quality: float | None = Field(None, description="items below this quality are not offered")

    @property
    def metric_column(self) -> str:
        return {"psnr": "psnr_db"}.get(self.metric, self.metric)

    @model_validator(mode="after")
    def _floor_in_range(self) -> "ObjectiveSettings":
        lo, hi = metric_range(self.metric)
        if self.min_quality is not None and not lo <= self.min_quality <= hi:
            raise ValueError(f"min_quality = {self.min_quality:g} is outside the range [{lo:g}, {hi:g}] of the "
                             f"metric {self.metric!r}: no item could reach it")
        return self


class DeclaredContent(_Strict):
    """Content declared in the scenario: D_n, C_n (or C_n/D_n), Q_direct and α_n as numbers or distributions."""

    source: Literal["declared"]
    D_bits: Value = Field(description="bits for direct transmission D_n")
    C_bits: Value | None = Field(None, description="bits for key-information transmission C_n")
    C_fraction: Value | None = Field(None, description="C_n / D_n, alternative to C_bits")
    alpha: Value = Field(description="quality of the key path relative to direct, α_n = Q_key / Q_direct (> 0)")
    q_direct: Value = Field(1.0, description="quality of the direct path Q_direct (> 0)")

    @model_validator(mode="after")
    def _one_c(self) -> "DeclaredContent":
        if (self.C_bits is None) == (self.C_fraction is None):
            raise ValueError("give exactly one of C_bits and C_fraction")
        return self


class Media(_Strict):
    """One kind of content the users watch: a video or a folder of still images."""

    path: str = Field(description="video file or image folder; '@shared/...' = the shared data folder, relative = next to the scenario file")
    share: float = Field(1.0, gt=0, description="relative share of the users who watch it")
    frames: str = Field("0:1000000:50", description="videos: START:STOP:STEP of the frames measured (STOP clamped)")
    files: int | None = Field(None, ge=1, le=100_000, description="image folders: the first N images by name (default all)")
    library: str | None = Field(
        None, description="a background library folder (saved library or images); default: videos build theirs from "
        "the video, image folders have none (direct only)")
    segment_threshold: float | None = Field(
        None, gt=0, lt=1, description="videos: one background per ORB-similarity segment (shot) below this similarity"
    )
    library_frames: int = Field(60, ge=1, le=10_000, description="videos: frames sampled for the temporal-median backgrounds")


class MeasuredContent(_Strict):
    """Content measured by the real pipeline (bssim.options.measure) on real media."""

    source: Literal["measured"]
    media: list[Media] = Field(min_length=1, description="what users watch; a plain string is {path = ...}")
    extractor: Literal["bgdiff", "rembg", "hybrid", "pose", "pose+bgdiff"] = Field(
        "bgdiff", description="key-path foreground extractor")
    scales: list[float] = Field([1.0, 0.75, 0.5], min_length=1, description="resolution levels s in (0, 1] (seed II.D)")
    channel_levels: Union[Literal["model"], list[int]] = Field(
        "model", description="JSCC active-channel levels: \"model\" = all the model's nested levels, or a list"
    )
    semantic_checkpoint: Union[str, None] = Field(
        None, description="seed-002 JSCC (\"shipped\" or a path): the weights of the jscc_semantic codecs; "
        "when set and no semantic codec is listed, the link's semantic codec joins the menu"
    )
    schemes: list[str] = Field(["direct", "key"], min_length=1, description="what is sent (bssim.schemes registry)")
    codecs: Union[list[str], None] = Field(
        None, min_length=1, description="how it is coded (bssim.codecs registry), of the link's kind: digital codecs "
        "for shannon/nr (default [\"avif\"]), analog codecs for analog (default [\"jscc\"])"
    )
    qualities: list[int] = Field([10, 30, 50], min_length=1, description="standard codecs (avif, webp, jpeg2000): "
                                 "encoder quality settings 1..100")
    k_over_n: list[float] = Field([1 / 24, 1 / 12, 1 / 6], min_length=1,
                                  description="linear codec: bandwidth ratios k/n (complex symbols per pixel value)")

    @field_validator("media", mode="before")
    @classmethod
    def _media_strings(cls, value: Any) -> Any:
        """A plain string is {path = ...}: so an error inside a table names its field, value and rule."""
        if isinstance(value, list):
            return [{"path": m} if isinstance(m, str) else m for m in value]
        return value

    @model_validator(mode="after")
    def _scales(self) -> "MeasuredContent":
        bad = [s for s in self.scales if not 0 < s <= 1]
        if bad:
            raise ValueError(f"scales {bad}: each must be in (0, 1]")
        bad_q = [q for q in self.qualities if not 1 <= q <= 100]
        if bad_q:
            raise ValueError(f"qualities {bad_q}: each must be an integer in 1..100")
        bad_r = [r for r in self.k_over_n if not 0 < r <= 0.5]
        if bad_r:
            raise ValueError(f"k_over_n {bad_r}: each must be in (0, 0.5]")
        for name, values in (("schemes", self.schemes), ("codecs", self.codecs or [])):
            if len(set(values)) != len(values):
                raise ValueError(f"{name} {values}: each may appear once")
        return self

    def media_entries(self) -> list[Media]:
        return list(self.media)


Content = Annotated[Union[DeclaredContent, MeasuredContent], Field(discriminator="source")]


class Sim(_Strict):
    """Discrete-event simulation settings (DESIGN.md section 4)."""

    epochs: int = Field(20, ge=1, le=10_000_000, description="scheduling epochs to simulate")
    coherence_time_s: float | None = Field(None, gt=0, description="fading redraw period; default = delay bound")
    arrival_rate_per_s: float = Field(0.0, ge=0, description="Poisson rate of users joining the cell")
    mean_stay_s: float | None = Field(None, gt=0, description="mean time a user stays; none = stays forever")
    speed_mps: float = Field(0.0, ge=0, le=100, description="user speed (random direction), 0 = static")
    request: Literal["every_epoch", "video", "poisson"] = Field(
        "every_epoch", description="each active user requests one item per epoch, video frames at fps, or Poisson images"
    )
    fps: float = Field(10.0, gt=0, description="video frame rate (request = 'video')")
    image_rate_per_s: float = Field(1.0, gt=0, description="Poisson image requests per user (request = 'poisson')")


class Network(_Strict):
    """Several sites and sectors around the cell (docs/model.md section "Network"): a hexagonal
    grid from Sionna's ``sionna.sys.HexGrid``, TR 38.901 sector antennas, SINR with inter-cell
    interference, one scheduler per sector, A3 handover. Absent: the single isolated cell."""

    rings: int = Field(0, ge=0, le=3, description="hexagonal rings of sites: 0 = 1 site, 1 = 7, 2 = 19, 3 = 37")
    sectors: Literal[1, 3] = Field(
        1, description="sectors per site: 1 = omnidirectional, 3 = TR 38.901 Table 7.3-1 antennas at 60/180/300 deg")
    isd_m: float = Field(500.0, gt=0, le=100_000, description="inter-site distance (TR 38.901 UMa: 500 m); rings >= 1")
    wraparound: bool = Field(True, description="rings >= 1: distances to the nearest of each site's 7 wrap-around images")
    interference: Literal["none", "full_buffer", "load"] = Field(
        "full_buffer", description="none: SNR; full_buffer: every other sector at P_max; load: at the power it used the epoch before")
    bandwidth_hz: float = Field(
        20e6, gt=0, le=1e10, description="system band every sector reuses; a sector's power spreads over it (interference PSD)")
    downtilt_deg: float | None = Field(
        None, ge=-90, le=90, description="sector mechanical downtilt; default Sionna's, toward the sector centre")
    handover_offset_db: float = Field(3.0, ge=0, le=30, description="A3: a neighbour this much stronger (RSRP) ...")
    time_to_trigger_epochs: int = Field(2, ge=1, le=10_000, description="... for this many epochs in a row triggers a handover")

    @property
    def n_sites(self) -> int:
        return 1 + 3 * self.rings * (self.rings + 1)

    @property
    def n_sectors(self) -> int:
        return self.n_sites * self.sectors


class Scenario(_Strict):
    """A whole scenario file."""

    name: str = Field("scenario", min_length=1)
    description: str = ""
    seed: int = Field(0, ge=0, description="master seed; every random draw derives from it")
    cell: Cell = Cell()
    users: Users = Users()
    scheduler: Scheduler = Scheduler()
    link: Link = Link()
    objective: ObjectiveSettings = ObjectiveSettings()
    content: Content
    sim: Sim = Sim()
    network: Network | None = None

    @model_validator(mode="after")
    def _network_geometry(self) -> "Scenario":
        net = self.network
        if net is not None and net.rings > 0 and 2 * self.cell.min_distance_m >= net.isd_m:
            raise ValueError(f"cell.min_distance_m ({self.cell.min_distance_m}) must be below half of "
                             f"network.isd_m ({net.isd_m})")
        return self

    @model_validator(mode="after")
    def _link_needs_measured(self) -> "Scenario":
        if self.link.model == "analog" and isinstance(self.content, DeclaredContent):
            raise ValueError("link.model = 'analog' needs measured content (quality-vs-SNR curves); "
                             "declared content has bits only")
        if self.link.model == "nr":
            prb_hz = 12 * 15e3 * 2**self.link.numerology
            if self.cell.bandwidth_hz < prb_hz:
                raise ValueError(f"cell.bandwidth_hz = {self.cell.bandwidth_hz:g} is 0 PRBs under link.model = 'nr' at "
                                 f"numerology {self.link.numerology} (one PRB = {prb_hz / 1e3:g} kHz); give at least that")
        return self

    @model_validator(mode="after")
    def _ignored_settings(self) -> "Scenario":
        """Settings the chosen link or objective ignores, written in the file: a warning
        (:class:`ScenarioWarning`), not an error, so that one file can be swept over link.model."""
        for field in sorted(self.link.model_fields_set):
            used_by = LINK_FIELD_USERS.get(field)
            if used_by and self.link.model not in used_by:
                _warn_ignored(f"link.{field}", f"link.model = {self.link.model!r}", used_by, "link.model")
        if "epsilon" in self.objective.model_fields_set and self.objective.kind != "log":
            _warn_ignored("objective.epsilon", f"objective.kind = {self.objective.kind!r}", ("log",), "objective.kind")
        return self

    def noise_w(self) -> float:
        """Noise power per user in W: given ``noise_dbm`` or k·T0·B·NF."""

        if self.cell.noise_dbm is not None:
            return float(link.dbm_to_w(self.cell.noise_dbm))
        return float(link.thermal_noise_w(self.cell.bandwidth_hz, self.cell.noise_figure_db))


# --------------------------------------------------------------------------- loading
_UNION_TAGS = {"declared", "measured", "uniform", "normal", "lognormal", "choice", "float", "str", "Media",
               "list[int]", "literal['model']"}


def _format_errors(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        parts = [str(p) for p in e["loc"]]
        value = e.get("input")
        in_union = any(p == "float" or p.startswith("tagged-union") for p in parts)
        # A number-or-distribution field fails on both branches: report the branch that matches
        # what was written (a table -> the distribution's error; anything else -> one message).
        if in_union and isinstance(value, dict) and "float" in parts:
            continue
        # pydantic puts union member tags in the path ("declared", "uniform", "float"): drop them.
        loc = ".".join(p for p in parts if p not in _UNION_TAGS and not p.startswith("tagged-union")) or "<root>"
        value_txt = "" if isinstance(value, dict) else f" = {value!r}"
        msg = e["msg"].removeprefix("Value error, ")
        if in_union and not isinstance(value, dict):
            msg = 'must be a number or a distribution table such as {dist = "uniform", low = 1e5, high = 1e6}'
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; scenarios/dense_cell.toml lists every field)"
        lines.append(f"{source}: field '{loc}'{value_txt}: {msg}")
    # A mistake inside a union is reported once per member: keep each line once.
    return "\n".join(dict.fromkeys(lines))


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a dict (as read from TOML) into a :class:`Scenario` or raise :class:`ScenarioError`."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_errors(source, err)) from None


def read_scenario_dict(path: str | Path) -> dict[str, Any]:
    """The raw TOML of a scenario file as a dict (clear errors for missing or malformed files)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark (some editors write one): accepted
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {err.start}: {raw[err.start:err.start + 1]!r}); "
                            "TOML files must be UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from None


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, override (dotted paths, see :func:`apply_overrides`) and validate a scenario file."""
    data = read_scenario_dict(path)
    if overrides:
        data = apply_overrides(data, overrides, source=str(path))
    return parse_scenario(data, source=str(path))


def _leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        optional = [a for a in typing.get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(optional) == 1 and type(None) in typing.get_args(ann):  # an optional section ([network])
            ann = optional[0]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_leaf_paths(ann, f"{prefix}{name}."))
        else:
            out.append(f"{prefix}{name}")
    return out


def field_paths() -> list[str]:
    """All dotted field paths of a scenario (content fields excluded: they depend on ``source``)."""
    return _leaf_paths(Scenario)


def resolve_field_path(name: str) -> str:
    """A dotted path for ``name``: itself if dotted, else the unique field whose last part is
    ``name`` or ``name`` plus a unit suffix (``p_max`` -> ``scheduler.p_max_w``)."""
    if "." in name:
        return name
    paths = field_paths() + [f"content.{k}" for k in DeclaredContent.model_fields] + [
        f"content.{k}" for k in MeasuredContent.model_fields
    ]
    paths = list(dict.fromkeys(paths))
    for candidates in (
        [p for p in paths if p.rsplit(".", 1)[-1] == name],
        [p for p in paths if p.rsplit(".", 1)[-1].startswith(name + "_")],
    ):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise ScenarioError(f"field name {name!r} is ambiguous: {', '.join(candidates)}; use the dotted path")
    raise ScenarioError(f"no scenario field called {name!r}; fields are: {', '.join(paths)}")


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any], source: str = "<scenario>") -> dict[str, Any]:
    """Return a copy of ``data`` with ``{"a.b.c": value}`` set (short names resolved)."""
    out = copy.deepcopy(data)
    for name, value in overrides.items():
        dotted = resolve_field_path(name)
        node = out
        parts = dotted.split(".")
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ScenarioError(f"{source}: cannot set {dotted!r}: {part!r} is not a table")
            node = nxt
        node[parts[-1]] = value
    return out
