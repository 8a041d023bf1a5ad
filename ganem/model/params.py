"""GAN-EM's hyper-parameters (``Params``): every choice the paper leaves open or contradicts itself on
is a field.  Defaults are the paper's values where it gives one; the authors' code's value is named in
the comment.  ``Params.authors()`` returns the authors' code's settings.

A module of its own so that the trainer (``em.py``) and the ``Method`` (``method.py``) both import it
without importing each other.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


_CHOICES = {
    "arch": ("paper", "authors"),
    "loss": ("paper", "authors"),
    "noise": ("uniform01", "uniform11", "normal"),
    "output": ("auto", "sigmoid", "tanh", "linear"),
    "optimizer": ("rmsprop", "adam"),
    "mstep_labels": ("uniform", "phi", "balanced"),
    "estep_labels": ("phi", "uniform", "balanced"),
    "fake_units": ("all", "own"),
    "lipschitz": ("none", "clip", "spectral"),
    "init": ("auto", "dcgan", "pytorch"),
    "compile": ("none", "default", "reduce-overhead", "max-autotune"),
    "precision": ("fp32", "bf16"),
    "optimizer_impl": ("auto", "single", "foreach", "fused"),
    "g_step_noise": ("reuse", "fresh"),
    "bn_weight_init": ("ones", "uniform01"),
    "adam_eps": ("modern", "legacy"),
    "w_pass": ("auto", "full", "lazy"),
}
# Keys that change how fast the steps run, not what they compute (up to float rounding): a run
# resumed from a checkpoint may change them.
COMPUTATION_KEYS = ("finite_check_every", "channels_last", "compile", "precision", "optimizer_impl",
                    "assign_batch_size", "w_pass")


# The authors' public code's settings (github.com/zhaowt61/GAN-EM, MNIST) as they ran it: their code on
# PyTorch 0.4/1.0, whose BatchNorm gamma init (U(0,1)) and Adam update (eps before the bias
# correction) differ from today's; `preset: authors`.
AUTHORS = dict(arch="authors", loss="authors", noise="uniform01", optimizer="adam",
               lr_d=2e-4, lr_g=6e-4, lr_e=6e-5, lr_decay=0.98, reset_optimizers=True,
               em_iterations=1000, p_epochs=5, q_steps=1000, batch_size=70, e_batch_size=200,
               mstep_labels="balanced", estep_labels="balanced", estep_g_eval=True,
               enet_eval_quirk=True, g_step_noise="fresh", bn_weight_init="uniform01", adam_eps="legacy")


@dataclass
class Params:
    # Named starting points: `preset: authors` in a config takes AUTHORS, then the config's own keys.
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"paper": {}, "authors": AUTHORS}
    preset: str = "paper"  # paper: the paper's text as written (the defaults below) | authors: AUTHORS
    # --- networks (Tables 4-6; MLP for vector data) ---
    arch: str = "paper"  # paper: Table 4 G | authors: + FC 1024 layer and ReLU in G (28x28 only)
    noise: str = "uniform01"  # paper text "uniform" (range not given), Eq. 1 Gaussian; code U(0,1)
    noise_dim: int | None = None  # None: 62 for 28x28/32x32 (App. B.1), 300-K for 64x64 (Table 6), 2 for vectors
    output: str = "auto"  # G output activation; auto: sigmoid for [0,1] data, tanh for [-1,1], linear for vectors
    bottleneck: int | None = None  # Sec. 5.4: k units before the E-net's output (1000, 100, 2); None = no layer
    init: str = "auto"  # auto: N(0,0.02) (code, DCGAN) for images, PyTorch default for vectors | dcgan | pytorch
    bn_weight_init: str = "ones"  # BatchNorm gamma of G, D, E: ones (PyTorch >= 1.2) | uniform01 (U(0,1), PyTorch <= 1.1: the code's runtime)
    mlp_hidden: int = 128  # vector data only: hidden units of G, D and E
    mlp_depth: int = 2  # vector data only: hidden layers of G, D and E
    lipschitz: str = "none"  # Sec. 4.4 names weight clipping on G (no value); code: none. none|clip|spectral
    clip_value: float = 0.01  # lipschitz=clip: G weights clipped to +-clip_value after every G step (WGAN's 0.01)
    # --- losses ---
    loss: str = "paper"  # paper: Eq. 1 / Eq. 2 | authors: BCE forms of the code
    extra_unit_weight: float = 1.0  # paper loss: weight of the extra real/fake unit (Sec. 4.3.2; no value given)
    fake_units: str = "all"  # paper loss: fakes push all K units down (Eq. 2) | own: only unit c (Eq. 18)
    g_logit_clamp: float | None = 30.0  # paper loss: clamp of l_c before exp in Eq. 1 (overflow guard)
    # --- optimisation ---
    optimizer: str = "rmsprop"  # paper: RMSprop | code: Adam
    lr_d: float = 2e-4  # paper 2e-4 | code 2e-4
    lr_g: float = 2e-4  # paper 2e-4 | code 6e-4
    lr_e: float = 2e-4  # paper 2e-4 | code 6e-5
    lr_decay: float = 0.98  # every lr x lr_decay**iteration (paper "decay rate 0.98"; code 0.98 per EM iteration)
    adam_betas: tuple[float, float] = (0.5, 0.999)  # code
    adam_eps: str = "modern"  # modern: today's Adam | legacy: PyTorch 0.4/1.0's, eps before the bias correction (code's runtime)
    rmsprop_alpha: float = 0.99  # PyTorch's default smoothing constant (paper's "decay 0.98" read as lr decay)
    reset_optimizers: bool = True  # re-create the optimisers every EM iteration (code); paper silent
    # --- Algorithm 1 ---
    em_iterations: int = 100  # n; paper: not given | code: 1000 (lr is x0.13 after 100 iterations)
    p_epochs: int = 5  # M-step epochs over the real data (paper 5, code 5)
    mstep_batches: int | None = None  # if set: the M-step runs exactly this many real batches instead of p epochs
    q_steps: int = 1000  # E-step iterations (paper 1000, code 1000)
    batch_size: int = 64  # real and fake M-step batch (Sec. 5.1: 64 | App. B.1 and code: 70)
    e_batch_size: int = 256  # E-step batch of fakes (Sec. 5.1: 256 | App. B.1 and code: 200)
    g_step_noise: str = "reuse"  # G step on the D step's z and c (paper silent) | fresh: a draw of its own (code)
    mstep_labels: str = "uniform"  # classes of M-step fakes: c ~ U (Eq. 1, 2) | phi | balanced (code)
    estep_labels: str = "phi"  # classes of E-step fakes: c ~ phi (Sec. 3.2, Alg. 1) | uniform | balanced (code)
    estep_g_eval: bool = True  # G in eval mode (BatchNorm running stats) while it feeds the E-step (code)
    enet_eval_quirk: bool = False  # code quirk: E-net always in eval mode, BN stuck at mean 0 / var 1
    stop_changed_below: float | None = None  # stop when < this fraction of hard assignments changed (paper: none)
    # --- collapse guard: a cluster whose share phi_i stays below 1/(10K) for collapse_patience EM
    # iterations is logged as dead (iteration, cluster) and counted in metrics.json
    collapse_patience: int = 3
    stop_on_collapse: bool = False  # stop the run at the first dead cluster (off: log and go on)
    # --- semi-supervised (Sec. 5.3, App. B.1) and the supervised reference (Fig. 4a) ---
    semi_epsilon: float = 0.0  # train E on the labels until its error on them <= epsilon (App. B.1: 0 = 100% acc.)
    semi_max_steps: int = 2000  # cap on those steps per E-step, so it always ends (logged when hit)
    semi_batch_size: int = 100  # batch of labelled images
    supervised_reference: bool = False  # Fig. 4a: no EM, train the E-net on the labelled images only
    # --- computation (speed only; measured defaults in docs/performance.md) ---
    finite_check_every: int = 100  # NaN/inf check of the step losses once per this many steps (one host sync)
    channels_last: bool = False  # NHWC memory format for the conv nets (CPU: measured slower, see docs)
    compile: str = "none"  # torch.compile of G, D, E: none | default | reduce-overhead (CUDA graphs) | max-autotune
    precision: str = "fp32"  # fp32 | bf16: autocast of the nets' forward passes (GPU option)
    optimizer_impl: str = "auto"  # auto: fused for Adam (either adam_eps), PyTorch's choice for RMSprop | single | foreach | fused
    # w = E(x) for the M-step: full = one pass over every image per EM iteration | lazy = per M-step batch
    # (the authors' code; same values, E is fixed during the M-step) | auto = lazy when it reads fewer
    # images and nothing in the training needs w on every image (docs/ganem.md "Lazy w")
    w_pass: str = "auto"
    # --- bookkeeping ---
    assign_batch_size: int = 1000
    monitor_fakes: int = 1000  # fresh fakes (class-balanced) for the E-net's fake accuracy in the log
    mechanism_samples: int = 500  # reals and fakes for the per-iteration D-output and G-gradient log (0: off)
    monitor_images: int = 5000  # lazy w: the log's error, sizes, changed and phi on this fixed random subsample

    def __post_init__(self) -> None:
        if self.preset not in self.PRESETS:
            raise ValueError(f"preset must be one of {sorted(self.PRESETS)}, got {self.preset!r}")
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
        if self.optimizer_impl == "fused" and self.optimizer != "adam":
            raise ValueError("optimizer_impl=fused needs optimizer=adam (PyTorch has no fused RMSprop); "
                             "use foreach or auto")
        if self.adam_eps == "legacy" and self.optimizer != "adam":
            raise ValueError(f"adam_eps=legacy is an Adam update, but optimizer={self.optimizer!r}; "
                             "set adam_eps: modern (or optimizer: adam)")
        if not isinstance(self.channels_last, bool):
            raise ValueError(f"channels_last must be true or false, got {self.channels_last!r}")
        if isinstance(self.adam_betas, list):
            self.adam_betas = tuple(self.adam_betas)
        if len(self.adam_betas) != 2:
            raise ValueError(f"adam_betas must be two numbers, got {self.adam_betas!r}")
        for name in ("p_epochs", "em_iterations", "q_steps", "semi_max_steps", "mechanism_samples"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {getattr(self, name)!r}")
        for name in ("batch_size", "e_batch_size", "semi_batch_size", "assign_batch_size",
                     "mlp_hidden", "mlp_depth", "monitor_fakes", "monitor_images", "collapse_patience",
                     "finite_check_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        for name in ("noise_dim", "bottleneck", "mstep_batches"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be null or an integer >= 1, got {v!r}")
        if self.p_epochs == 0 and self.mstep_batches is None and self.em_iterations > 0:
            raise ValueError("p_epochs=0 without mstep_batches leaves the M-step empty")
        for name in ("lr_d", "lr_g", "lr_e", "lr_decay", "clip_value"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.semi_epsilon < 1:
            raise ValueError(f"semi_epsilon is an error fraction in [0, 1), got {self.semi_epsilon!r}")
        if self.extra_unit_weight < 0:
            raise ValueError(f"extra_unit_weight must be >= 0, got {self.extra_unit_weight!r}")
        if self.stop_changed_below is not None and not 0 < self.stop_changed_below < 1:
            raise ValueError(f"stop_changed_below must be null or in (0, 1), got {self.stop_changed_below!r}")

    @classmethod
    def authors(cls, **overrides: Any) -> "Params":
        """The authors' public code's settings (github.com/zhaowt61/GAN-EM), MNIST."""
        return cls(**{**AUTHORS, "preset": "authors", **overrides})

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["adam_betas"] = list(self.adam_betas)
        return d
