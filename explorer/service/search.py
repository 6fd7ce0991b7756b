"""The machine as a classmate: Optuna's TPE sampler proposes runs within a challenge's limits.

    search = start_search(classroom_of(service), 20, teacher)   # the page: the challenge's limits
    classroom.machine_search.running; search.trials()            # progress, from the store
    search = MachineSearch(classroom, SearchSpec(seed=0, max_params=50_000, max_epochs=3))
    run_ids = search.run(trials=20)            # blocks; each trial an ordinary run
    search.start(trials=20)                    # the same on a thread, for the page
    search.trials()                            # [SearchTrial(number, run_id, params), ...]
    search.next_configs(1)                     # what it would train next (nothing is queued)

Each trial is an ordinary run asked for through the service as the session "machine": it is
cached like any run, trains wherever the service trains (child processes or Ray), waits in the
fair queue behind every other waiting job (explorer.service.queue), and during a challenge
counts on the board under the nickname "machine". It is scored on the public half of the test set,
as the students are.

**The store is the source of truth.** Before every proposal the study is rebuilt in memory from
the store: the search's own trials (by the spec, so the same spec carries on after a restart) and,
with `learn_from_class`, every other complete run on the same data within the limits, added with
`add_trial`. The sampler is seeded with the spec's seed and how many trials are told, so the same
store and seed always propose the same next configuration, whether or not the process restarted.

The configurations stay within the sliders' ranges and the limits: the first layer is sampled
within what the parameter limit allows with no second layer, the second layer as a share of what
is left, the learning rate on the page's ladder, and epochs are lowered until the time estimate
fits the time limit.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import optuna

from explorer.architecture import total_parameters
from explorer.config import ACTIVATIONS, BOUNDS, OPTIMIZERS, TrainingConfig
from explorer.service.classroom import Classroom, data_set_of
from explorer.service.jobs import LimitError, Requester, Role
from explorer.service.queue import MACHINE_SESSION
from explorer.store.challenges import SearchTrial

MACHINE = Requester(MACHINE_SESSION, Role.MACHINE)
# The batch sizes and learning rates offered to the sampler: the page's slider values that train
# in reasonable time (its learning-rate ladder without 1.0, which only diverges).
SEARCH_BATCH_SIZES = (16, 32, 64, 128, 200, 256, 512, 1024)
SEARCH_LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
# Epochs searched when no limit says otherwise (the slider goes to 50: too long for a lesson).
DEFAULT_MAX_EPOCHS = 10
# Random proposals before TPE models the results.
STARTUP_TRIALS = 5
# A proposal whose time estimate does not fit even with one epoch is told as failed and another
# is asked for, at most this many times.
MAX_REDRAWS = 50
_INPUT, _OUTPUT = 784, 10  # pixels in, digits out


@dataclass(frozen=True)
class SearchSpec:
    """What a search looks for: its seed, its limits and whether it learns from the class."""

    seed: int = 0
    max_params: int | None = None
    max_epochs: int | None = None
    max_seconds: float | None = None
    train_fraction: float = 1.0
    learn_from_class: bool = False
    sampler: str = "tpe"  # "tpe", or "random" (the benchmark's yardstick)

    def __post_init__(self) -> None:
        if self.sampler not in ("tpe", "random"):
            raise ValueError(f"sampler must be tpe or random; got {self.sampler!r}.")
        smallest = total_parameters(TrainingConfig(hidden1=1, hidden2=0))
        if self.max_params is not None and self.max_params < smallest:
            raise ValueError(
                f"max_params must allow one neuron ({smallest:,} parameters); "
                f"got {self.max_params:,}."
            )
        if self.max_epochs is not None and self.max_epochs < 1:
            raise ValueError(f"max_epochs must be at least 1; got {self.max_epochs}.")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ValueError(f"max_seconds must be above 0; got {self.max_seconds}.")
        TrainingConfig(train_fraction=self.train_fraction)  # its own check and message

    @property
    def epochs_high(self) -> int:
        return min(self.max_epochs or DEFAULT_MAX_EPOCHS, int(BOUNDS["epochs"][1]))

    def hidden1_high(self) -> int:
        """The widest first layer the parameter limit allows (with no second layer)."""
        high = int(BOUNDS["hidden1"][1])
        if self.max_params is None:
            return high
        return max(1, min(high, (self.max_params - _OUTPUT) // (_INPUT + 1 + _OUTPUT)))

    def hidden2_high(self, hidden1: int) -> int:
        """The widest second layer the parameter limit allows after `hidden1`."""
        high = int(BOUNDS["hidden2"][1])
        if self.max_params is None:
            return high
        left = self.max_params - (_INPUT + 1) * hidden1 - _OUTPUT
        return max(0, min(high, left // (hidden1 + 1 + _OUTPUT)))


class MachineSearch:
    """A TPE search whose trials are runs of the service (see the module docstring)."""

    def __init__(self, classroom: Classroom, spec: SearchSpec) -> None:
        self.classroom = classroom
        self.service = classroom.service
        self.spec = spec
        key = {**dataclasses.asdict(spec), "data": self.service.data.fingerprint}
        self.search_id = classroom.store.search_id(key)
        self._thread: threading.Thread | None = None

    def distributions(self) -> dict:
        spec = self.spec
        return {
            "hidden1": optuna.distributions.IntDistribution(1, spec.hidden1_high(), log=True),
            "hidden2_share": optuna.distributions.FloatDistribution(0.0, 1.0),
            "batch_size": optuna.distributions.CategoricalDistribution(SEARCH_BATCH_SIZES),
            "epochs": optuna.distributions.IntDistribution(1, spec.epochs_high),
            "optimizer": optuna.distributions.CategoricalDistribution(OPTIMIZERS),
            "learning_rate": optuna.distributions.CategoricalDistribution(SEARCH_LEARNING_RATES),
            "activation": optuna.distributions.CategoricalDistribution(ACTIVATIONS),
        }

    def config_of(self, params: dict) -> TrainingConfig:
        """The run a trial's parameters stand for (epochs not yet fitted to the time limit)."""
        hidden1 = int(params["hidden1"])
        hidden2 = math.floor(params["hidden2_share"] * self.spec.hidden2_high(hidden1))
        return TrainingConfig(
            hidden1=hidden1,
            hidden2=hidden2,
            batch_size=int(params["batch_size"]),
            epochs=int(params["epochs"]),
            optimizer=params["optimizer"],
            learning_rate=float(params["learning_rate"]),
            activation=params["activation"],
            seed=0,
            train_fraction=self.spec.train_fraction,
        )

    def params_of(self, config: TrainingConfig) -> dict | None:
        """A class run as the search's parameters, or None if it lies outside the space."""
        spec = self.spec
        if (
            config.batch_size not in SEARCH_BATCH_SIZES
            or config.learning_rate not in SEARCH_LEARNING_RATES
            or config.train_fraction != spec.train_fraction
            or config.precision != "float32"
            or not 1 <= config.hidden1 <= spec.hidden1_high()
            or config.epochs > spec.epochs_high
            or (spec.max_params is not None and total_parameters(config) > spec.max_params)
        ):
            return None
        high = spec.hidden2_high(config.hidden1)
        return {
            "hidden1": config.hidden1,
            "hidden2_share": min(1.0, config.hidden2 / high) if high else 0.0,
            "batch_size": config.batch_size,
            "epochs": config.epochs,
            "optimizer": config.optimizer,
            "learning_rate": config.learning_rate,
            "activation": config.activation,
        }

    def trials(self) -> list[SearchTrial]:
        """The search's trials so far, in order, from the store."""
        return self.classroom.store.search_trials(self.search_id)

    def _fit_time(self, config: TrainingConfig) -> TrainingConfig | None:
        cap = self.spec.max_seconds
        if cap is None:
            return config
        while self.classroom.training_seconds(config) > cap:
            if config.epochs == 1:
                return None
            config = config.replace(epochs=config.epochs - 1)
        return config

    def _study(self) -> optuna.Study:
        """The study as the store has it now (see the module docstring)."""
        distributions = self.distributions()
        own = self.trials()
        records = {trial.run_id: self.service.store.get(trial.run_id) for trial in own}
        told = []
        for trial in own:
            record = records[trial.run_id]
            value = self._value(record)
            state = (
                optuna.trial.TrialState.COMPLETE
                if value is not None
                else optuna.trial.TrialState.FAIL
            )
            told.append((trial.params, value, state))
        if self.spec.learn_from_class:
            mine = set(records)
            data_set = data_set_of_service(self.service)
            for record in sorted(
                self.service.store.list_runs(("complete",)), key=lambda r: (r.created_at, r.run_id)
            ):
                if record.run_id in mine or data_set_of(record) != data_set:
                    continue
                params = self.params_of(record.config)
                value = self._value(record)
                if params is not None and value is not None:
                    told.append((params, value, optuna.trial.TrialState.COMPLETE))
        seed = (self.spec.seed * 1_000_003 + len(told)) % 2**32
        if self.spec.sampler == "random":
            sampler = optuna.samplers.RandomSampler(seed=seed)
        else:
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS)
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line per ask
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.add_trials(
            [
                optuna.trial.create_trial(
                    params=params,
                    distributions=distributions,
                    value=value if state == optuna.trial.TrialState.COMPLETE else None,
                    state=state,
                )
                for params, value, state in told
            ]
        )
        return study

    def _value(self, record) -> float | None:
        if record is None or not record.is_complete:
            return None
        score = self.classroom.half_scores([record]).get(record.run_id)
        return None if score is None else score.public_accuracy

    def next_configs(self, count: int = 1) -> list[tuple[dict, TrainingConfig]]:
        """The next `count` proposals as (params, config), asked of the study rebuilt from the
        store; nothing is queued or stored."""
        study = self._study()
        distributions = self.distributions()
        proposals = []
        redraws = 0
        while len(proposals) < count:
            trial = study.ask(distributions)
            config = self._fit_time(self.config_of(trial.params))
            if config is None and redraws < MAX_REDRAWS:
                redraws += 1
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            if config is None:
                raise ValueError(
                    "No configuration in the search's space fits the time limit; raise the "
                    "time limit or use less of the training data."
                )
            params = {**trial.params, "epochs": config.epochs}
            proposals.append((params, config))
        return proposals

    def run(
        self,
        trials: int,
        *,
        parallel: int = 1,
        on_trial: Callable[[SearchTrial], None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[str]:
        """Carry the search on until it has `trials` trials (a restart carries on); returns the
        run ids of all of them. `parallel` trials are proposed and trained at once."""
        if trials < 1:
            raise ValueError(f"trials must be a whole number of at least 1; got {trials}.")
        while len(self.trials()) < trials and not (stop is not None and stop.is_set()):
            done = len(self.trials())
            batch = self.next_configs(min(parallel, trials - done))
            submitted = []
            for offset, (params, config) in enumerate(batch):
                submission = self.service.submit(config, MACHINE)
                trial = SearchTrial(done + offset, submission.run_id, params)
                self.classroom.store.add_search_trial(
                    self.search_id, trial.number, trial.run_id, params
                )
                submitted.append(trial)
            for trial in submitted:
                self.service.wait(trial.run_id)
                if on_trial is not None:
                    on_trial(trial)
        return [trial.run_id for trial in self.trials()[:trials]]

    def start(self, trials: int, parallel: int = 1) -> threading.Event:
        """Run the search on a background thread (the page's Start); returns its stop event."""
        stop = threading.Event()
        self._thread = threading.Thread(
            target=self.run,
            args=(trials,),
            kwargs={"parallel": parallel, "stop": stop},
            name="machine-search",
            daemon=True,
        )
        self._thread.start()
        return stop

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def data_set_of_service(service) -> str:
    return "sample" if service.data.is_sample else "mnist"


def start_search(
    classroom: Classroom,
    trials: int,
    requester: Requester,
    *,
    seed: int = 0,
    learn_from_class: bool = False,
    train_fraction: float = 1.0,
) -> MachineSearch:
    """Start the machine's search of `trials` trials on a background thread (the teacher's
    right), within the active challenge's limits; returns it (`running`, `trials()`).

    The same seed and switch carry on the search already in the store, after a restart too.
    """
    if not requester.is_teacher:
        raise LimitError("Only the teacher can start the machine's search.")
    running = classroom.machine_search
    if running is not None and running.running:
        raise LimitError("The machine's search is already running; wait for it to finish.")
    challenge = classroom.challenge()
    spec = SearchSpec(
        seed=seed,
        max_params=None if challenge is None else challenge.max_params,
        max_epochs=None if challenge is None else challenge.max_epochs,
        max_seconds=None if challenge is None else challenge.max_seconds,
        train_fraction=train_fraction,
        learn_from_class=learn_from_class,
    )
    search = MachineSearch(classroom, spec)
    search.start(trials, parallel=classroom.service.slots)
    classroom.machine_search = search  # every session's page can show its progress
    return search
