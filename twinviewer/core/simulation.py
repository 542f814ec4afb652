"""Failure simulator: a physics-informed model of a pump skid that produces every sensor over time.

Faults are injected into components of the plant graph (:mod:`twinviewer.core.sim_plant`) and their
effects propagate through the physics, never painted onto curves:

- hydraulics: a quadratic pump curve (shut-off pressure × speed², minus a flow² term) meets a system curve
  built from the pipes and valves on each side of the pump (loss coefficient / opening²). Suction pressure
  is the supply pressure less the suction losses; NPSH available vs required gives a cavitation intensity
  that erodes the head and shakes the pump. A leak is an orifice in parallel (flow ∝ √pressure), solved by
  bisection; a flow meter downstream of a leak reads the reduced flow.
- shaft power from the pump's power curve, plus bearing friction and misalignment losses; motor current
  from the input power (efficiency, power factor) plus the magnetising current and a start-up term.
- winding temperature: first-order (time constant ~30 min) towards ambient + copper/iron-loss rise divided
  by a cooling factor (fan share × speed) that blocked cooling reduces.
- bearing temperatures: first-order towards a friction-driven rise; friction grows with wear, misalignment
  and the bearing's own vibration.
- vibration RMS at each machine component: its own baseline plus sources elsewhere (imbalance 1x,
  misalignment 2x, bearing wear broadband, cavitation broadband) attenuated along the shaft train.

Sensor faults (drift, stuck, dropout, spikes, noise) change only a sensor's reading, after the physics.
Everything is vectorised over time (first-order lags with ``scipy.signal.lfilter``), and every random draw
comes from generators seeded by (seed, sensor id), so a seed gives the same recording every time.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twinviewer.core.budgets import MAX_SIMULATION_SAMPLES
from twinviewer.core.events import STATUS_LABELS, classify
from twinviewer.core.scenario import OPERATING_FIELDS, Scenario, check_scenario
from twinviewer.core.sim_plant import SENSOR_FAULTS, Binding, Plant, SimulationError

P_ATM_BAR = 1.01325
RHO_G = 1000.0 * 9.81  # water, Pa per metre of head
LEAK_REFERENCE_BAR = 5.0
NON_NEGATIVE = frozenset({"current", "flow", "speed", "vibration", "power"})


@dataclass
class Timeline:
    """Inputs of one simulation run on a regular time grid: operating point and fault severities."""

    times: np.ndarray                                   # absolute epoch seconds, (n,)
    dt: float
    operating: dict[str, np.ndarray]                    # OPERATING_FIELDS → (n,)
    severity: dict[tuple[str, str], np.ndarray]         # (component or sensor, fault kind) → (n,)
    spike_amplitude: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmOnset:
    """The first time a sensor went beyond a warning or an alarm limit."""

    sensor: str
    level: str          # "warning" or "alarm"
    t: float
    step: int
    step_title: str


@dataclass
class SimulationResult:
    times: np.ndarray                 # (n,) epoch seconds
    sensor_ids: list[str]
    values: np.ndarray                # (n, m) what the sensors report (noise, sensor faults, NaN dropouts)
    physical: np.ndarray              # (n, m) the true physical values the sensors look at
    internals: dict[str, np.ndarray]  # model quantities without a sensor (cavitation intensity, flows, …)
    scenario: Scenario | None
    seed: int
    unbound: list[str] = field(default_factory=list)
    asset: str = ""
    units: dict[str, str] = field(default_factory=dict)

    def column(self, sensor_id: str, *, physical: bool = False) -> np.ndarray:
        j = self.sensor_ids.index(sensor_id)
        return (self.physical if physical else self.values)[:, j]

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0]) if len(self.times) else 0.0

    def events(self) -> list[dict[str, Any]]:
        return self.scenario.events() if self.scenario else []

    def statuses(self, thresholds: Mapping[str, Any]) -> np.ndarray:
        """(n, m) int8 status per sample: 0 normal, 1 warning, 2 alarm, -1 no value."""
        out = np.zeros(self.values.shape, dtype=np.int8)
        for j, sensor in enumerate(self.sensor_ids):
            out[:, j] = classify(self.values[:, j], thresholds.get(sensor))
        return out

    def alarm_onsets(self, thresholds: Mapping[str, Any]) -> list[AlarmOnset]:
        """First warning and first alarm of each sensor, in time order."""
        onsets: list[AlarmOnset] = []
        for j, sensor in enumerate(self.sensor_ids):
            status = classify(self.values[:, j], thresholds.get(sensor))
            for level, code in (("warning", 1), ("alarm", 2)):
                hits = np.flatnonzero(status >= code)
                if hits.size:
                    t = float(self.times[hits[0]])
                    step = self.scenario.step_index_at(t) if self.scenario else 0
                    title = self.scenario.steps[step].title if self.scenario else ""
                    onsets.append(AlarmOnset(sensor, level, t, step, title))
        return sorted(onsets, key=lambda o: (o.t, o.sensor, o.level))

    def status_at_step_ends(self, thresholds: Mapping[str, Any],
                            window_s: float = 120.0) -> list[dict[str, str]]:
        """Per step, each sensor's status at the step's end: the median of its last ``window_s``, so one
        noisy sample does not decide it. This is "what you should see" before moving on."""
        if self.scenario is None:
            raise SimulationError("step statuses need the scenario the result was simulated from")
        out = []
        for i in range(len(self.scenario.steps)):
            t0, t1 = self.scenario.step_window(i)
            lo = np.searchsorted(self.times, max(t0, t1 - window_s), side="left")
            hi = max(np.searchsorted(self.times, t1, side="left"), lo + 1)
            statuses = {}
            for j, sensor in enumerate(self.sensor_ids):
                chunk = self.values[lo:hi, j]
                value = np.nanmedian(chunk) if np.isfinite(chunk).any() else np.nan
                code = int(classify(np.array([value]), thresholds.get(sensor))[0])
                statuses[sensor] = STATUS_LABELS[code] if code >= 0 else "no data"
            out.append(statuses)
        return out


# ---- timeline from a scenario ------------------------------------------------------------------------
def _ramp_points(points: list[tuple[float, float]], t0: float, target: float, ramp: float) -> None:
    """Add a change to piecewise-linear breakpoints: from the value at t0, reach target after ramp.
    A change overrides what an earlier, unfinished ramp would have done after t0."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    current = float(np.interp(t0, xs, ys)) if points else target
    while points and points[-1][0] > t0:
        points.pop()
    points.append((t0, current))
    points.append((t0 + max(ramp, 1e-3), target))


def _evaluate(points: list[tuple[float, float]], offsets: np.ndarray) -> np.ndarray:
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    return np.interp(offsets, xs, ys)


def build_timeline(scenario: Scenario) -> Timeline:
    """Operating point and fault severities on the scenario's sample grid."""
    n = scenario.n_samples
    offsets = np.arange(n, dtype=np.float64) * scenario.sample_period
    initial = scenario.operating_point
    op_points = {k: [(0.0, float(getattr(initial, k)))] for k in OPERATING_FIELDS}
    fault_points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    amplitudes: dict[str, float] = {}
    for step in scenario.steps:
        if step.operating_point is not None:
            for key, value in step.operating_point.changes().items():
                _ramp_points(op_points[key], step.at, value, step.operating_point.ramp)
        for fault in step.faults:
            points = fault_points.setdefault((fault.target, fault.kind), [(0.0, 0.0)])
            _ramp_points(points, step.at, fault.severity, fault.ramp)
            if fault.kind == "spikes" and fault.amplitude is not None:
                amplitudes[fault.target] = fault.amplitude
    return Timeline(
        times=scenario.start_time + offsets,
        dt=float(scenario.sample_period),
        operating={k: _evaluate(p, offsets) for k, p in op_points.items()},
        severity={k: _evaluate(p, offsets) for k, p in fault_points.items()},
        spike_amplitude=amplitudes,
    )


# ---- physics -----------------------------------------------------------------------------------------
def first_order(u: np.ndarray, dt: float, tau: float) -> np.ndarray:
    """Discretised first-order lag y' = (u - y) / tau, starting in equilibrium with u[0]."""
    from scipy.signal import lfilter  # 0.5 s to import: only when a simulation runs, not at window start

    u = np.asarray(u, dtype=np.float64)
    a = math.exp(-dt / tau)
    y, _ = lfilter([1.0 - a], [1.0, -a], u, zi=[a * u[0]])
    return y


def vapour_pressure_bar(temperature_c: np.ndarray) -> np.ndarray:
    """Water vapour pressure (Antoine equation, 1–100 °C)."""
    t = np.clip(temperature_c, 1.0, 150.0)
    return 10.0 ** (8.07131 - 1730.63 / (233.426 + t)) * 133.322e-5


def _coloured_noise(rng: np.random.Generator, n: int, dt: float, tau: float) -> np.ndarray:
    """Unit-variance low-pass noise (the slow wandering of a cavitating flow)."""
    from scipy.signal import lfilter

    a = math.exp(-dt / tau)
    white = rng.standard_normal(n)
    y = lfilter([math.sqrt(1.0 - a * a)], [1.0, -a], white)
    return y


def _rng(seed: int, *key: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF,
                                                         *(zlib.crc32(k.encode()) for k in key)]))


class _Physics:
    """Evaluates the plant on a timeline; ``signal(component, quantity)`` gives a physical quantity."""

    def __init__(self, plant: Plant, timeline: Timeline, seed: int):
        self.plant = plant
        self.tl = timeline
        self.seed = seed
        self.n = len(timeline.times)
        self.internals: dict[str, np.ndarray] = {}
        self._run()

    def sev(self, target: str, kind: str) -> np.ndarray | float:
        return self.tl.severity.get((target, kind), 0.0)

    def _run(self) -> None:
        plant, op, dt = self.plant, self.tl.operating, self.tl.dt
        pump, motor = plant.pump, plant.motor
        driven = pump or motor
        rated = driven.param("rated_speed_rpm") if driven is not None else 1480.0
        self.speed = op["speed_rpm"]
        n = self.speed / rated
        running = np.clip(n / 0.1, 0.0, 1.0)
        ambient = op["ambient_temperature_c"]
        self.fluid_temperature = first_order(op["fluid_temperature_c"], dt, 300.0)
        self._hydraulics(n, running)
        # ---- vibration -------------------------------------------------------------------------------
        sources: list[tuple[str, np.ndarray | float]] = []
        for comp in plant.components.values():
            imbalance = self.sev(comp.name, "imbalance")
            if comp.kind in ("pump", "motor", "coupling") and np.any(imbalance):
                sources.append((comp.name, comp.param("imbalance_vibration_mm_s") * imbalance * n**2))
            if comp.kind == "coupling":
                misalignment = self.sev(comp.name, "misalignment")
                if np.any(misalignment):
                    sources.append((comp.name, comp.param("misalignment_vibration_mm_s") * misalignment * n))
            if comp.kind == "bearing":
                wear = self.sev(comp.name, "bearing_wear")
                if np.any(wear):
                    sources.append((comp.name, comp.param("wear_vibration_mm_s") * np.asarray(wear) ** 2 * n))
        if pump is not None and np.any(self.cavitation):
            sources.append((pump.name, pump.param("cavitation_vibration_mm_s") * self.cavitation * n))
        self.vibration: dict[str, np.ndarray] = {}
        self.base_vibration: dict[str, float] = {}
        for comp in plant.components.values():
            if comp.kind not in ("motor", "coupling", "bearing", "pump"):
                continue
            base = comp.param("base_vibration_mm_s")
            self.base_vibration[comp.name] = base
            power = (base * n**2) ** 2
            for source, magnitude in sources:
                transfer = plant.vibration_transfer(source, comp.name)
                if transfer > 0:
                    power = power + (magnitude * transfer) ** 2
            self.vibration[comp.name] = np.sqrt(power) + 0.05  # floor: the plant around it never stops
        # ---- bearings: friction and temperature ------------------------------------------------------
        couplings = plant.of_kind("coupling")
        self.bearing_temperature: dict[str, np.ndarray] = {}
        friction_total: np.ndarray | float = 0.0
        for bearing in plant.of_kind("bearing"):
            p = bearing.params
            load = 1.0 + p["wear_friction_gain"] * np.asarray(self.sev(bearing.name, "bearing_wear")) ** 3
            for coupling in couplings:
                load = load + p["misalignment_friction_gain"] * self.sev(coupling.name, "misalignment") \
                    * plant.vibration_transfer(coupling.name, bearing.name)
            excess = np.maximum(self.vibration[bearing.name] - p["base_vibration_mm_s"] * n**2 - 0.05, 0.0)
            load = load + p["vibration_friction_gain"] * excess
            friction = p["friction_kw"] * n * load
            friction_total = friction_total + friction
            target = (
                ambient
                + p["fluid_coupling"] * (self.fluid_temperature - ambient)
                + p["temperature_rise_k"] * n * load
            )
            self.bearing_temperature[bearing.name] = first_order(target, dt, p["thermal_time_constant_s"])
            self.internals[f"{bearing.name}.friction_kw"] = np.broadcast_to(friction, (self.n,))
        # ---- shaft power, motor current and winding temperature --------------------------------------
        misalignment_loss = sum(
            c.param("misalignment_loss_kw") * np.asarray(self.sev(c.name, "misalignment")) ** 2 * n
            for c in couplings
        )
        self.shaft_power = self.pump_power + friction_total + misalignment_loss
        self.internals["shaft_power_kw"] = np.broadcast_to(self.shaft_power, (self.n,))
        if motor is not None:
            m = motor.params
            self.input_power = self.shaft_power / m["efficiency"]
            accel = np.maximum(np.gradient(n, dt), 0.0) if self.n > 1 else np.zeros(self.n)
            self.current = (
                running * m["no_load_current_a"]
                + self.input_power * 1000.0 / (math.sqrt(3.0) * m["voltage_v"] * m["power_factor"])
                + m["start_current_per_rate"] * accel
            )
            cooling = (1.0 - self.sev(motor.name, "blocked_cooling")) * (
                (1.0 - m["fan_cooling_share"]) + m["fan_cooling_share"] * np.minimum(n, 1.0))
            rise = m["winding_rise_k"] * (
                m["iron_loss_share"] * running
                + (1.0 - m["iron_loss_share"]) * (self.current / m["rated_current_a"]) ** 2
            )
            self.winding_temperature = first_order(ambient + rise / cooling, dt, m["thermal_time_constant_s"])
            self.internals["cooling_factor"] = np.broadcast_to(cooling, (self.n,))

    def _hydraulics(self, n: np.ndarray, running: np.ndarray) -> None:
        plant, op, size = self.plant, self.tl.operating, self.n
        pump = plant.pump
        zero = np.zeros(size)
        self.leak_flow: dict[str, np.ndarray] = {}
        if pump is None:
            self.flow = self.suction_pressure = self.discharge_pressure = self.cavitation = zero
            self.pump_power = 0.0
            return
        pp = pump.params
        k_suction: np.ndarray | float = 0.0
        k_discharge: np.ndarray | float = 0.0
        supply = static = 0.0
        leak_coefficient: dict[str, np.ndarray] = {}
        k: np.ndarray | float
        for comp in plant.components.values():
            side = plant.side_of_pump(comp.name)
            if comp.kind == "valve" and side in ("suction", "discharge"):
                opening = op[f"{side}_valve_pct"] / 100.0 * (1.0 - self.sev(comp.name, "valve_closing"))
                k = comp.param("loss_coefficient_open") / np.maximum(opening, 0.01) ** 2
            else:
                k = comp.params.get("loss_coefficient", 0.0)
            if side == "suction":
                k_suction = k_suction + k
                supply += comp.params.get("supply_pressure_bar", 0.0)
            elif side == "discharge":
                k_discharge = k_discharge + k
                static += comp.params.get("static_pressure_bar", 0.0)
            leak = self.sev(comp.name, "leak")
            if np.any(leak):
                leak_coefficient[comp.name] = (
                    comp.param("leak_flow_m3h") * leak / math.sqrt(LEAK_REFERENCE_BAR) * np.ones(size)
                )
        k_suction = np.broadcast_to(k_suction, (size,))
        k_discharge = np.maximum(np.broadcast_to(k_discharge, (size,)), 1e-9)
        b = pp["curve_coefficient"]
        head = supply + pp["shutoff_pressure_bar"] * n**2
        total_leak = sum(leak_coefficient.values()) if leak_coefficient else None
        # The flow the pump and the system agree on, as long as the suction does not boil.
        if total_leak is None:
            system_flow = np.sqrt(np.maximum(head - static, 0.0) / (k_suction + b + k_discharge))
        else:
            discharge = self._discharge_pressure(
                lambda p: np.sqrt(np.maximum(head - p,
                                             0.0) / (k_suction + b)), head, static, k_discharge, total_leak)
            system_flow = np.sqrt(np.maximum(head - discharge, 0.0) / (k_suction + b))
        # The most the suction can deliver: where the suction pressure falls to vapour pressure plus the
        # NPSH the impeller needs (NPSHr = npsh_required_m · n² · (0.5 + 0.5 (Q / Q_bep n)²)).
        vapour = vapour_pressure_bar(self.fluid_temperature)
        to_bar = RHO_G / 1e5
        npshr_0 = 0.5 * pp["npsh_required_m"] * n**2 * to_bar
        npshr_2 = 0.5 * pp["npsh_required_m"] / pp["bep_flow_m3h"] ** 2 * to_bar
        choke_flow = np.sqrt(np.maximum(supply + P_ATM_BAR - vapour - npshr_0, 0.0) / (k_suction + npshr_2))
        flow = np.minimum(system_flow, choke_flow)
        # Cavitation starts as demand nears the choke flow and is fully developed 15 % beyond it.
        cavitation = np.clip((system_flow / np.maximum(choke_flow, 1e-6) - 0.9) / 0.25, 0.0, 1.0)
        cavitation = cavitation * (running >= 1.0)
        if total_leak is None:
            discharge = np.where(flow < system_flow, static + k_discharge * flow**2,
                                 head - (k_suction + b) * flow**2)
        elif np.any(flow < system_flow):
            choked = self._discharge_pressure(lambda p: flow, head, static, k_discharge, total_leak)
            discharge = np.where(flow < system_flow, choked, discharge)
        npsh_available = (supply - k_suction * flow**2 + P_ATM_BAR - vapour) / to_bar
        npsh_required = (npshr_0 + npshr_2 * flow**2) / to_bar
        if leak_coefficient:
            for name, coefficient in leak_coefficient.items():
                self.leak_flow[name] = coefficient * np.sqrt(np.maximum(discharge, 0.0))
        if np.any(cavitation):
            rng = _rng(self.seed, "physics", "cavitation")
            wander = _coloured_noise(rng, size, self.tl.dt, 2.0)
            flow = flow * (1.0 + 0.06 * cavitation * wander)
            discharge = discharge + 0.12 * cavitation * _coloured_noise(rng, size, self.tl.dt, 1.0)
        suction = np.maximum(supply - k_suction * flow**2, vapour - P_ATM_BAR)
        self.flow, self.suction_pressure, self.discharge_pressure, self.cavitation = (
            flow,
            suction,
            discharge,
            cavitation,
        )
        relative = flow / (pp["bep_flow_m3h"] * np.maximum(n, 1e-3))
        self.pump_power = pp["bep_power_kw"] * n**3 * (0.45 + 0.55 * relative) * (n > 0)
        self.internals.update({
            "pump_flow_m3h": flow, "cavitation": cavitation, "npsh_available_m": npsh_available,
            "npsh_required_m": npsh_required,
        })
        for name, lost in self.leak_flow.items():
            self.internals[f"{name}.leak_m3h"] = lost

    @staticmethod
    def _discharge_pressure(pump_flow, head, static, k_discharge, total_leak) -> np.ndarray:
        """Discharge pressure where the pump's flow equals the flow out through the system and the leaks
        (bisection; ``pump_flow(p)`` falls with p, the outflow rises with it)."""
        lo, hi = np.zeros_like(head), np.maximum(head, 0.0)
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            outflow = np.sqrt(np.maximum(mid - static, 0.0) / k_discharge) + total_leak * np.sqrt(mid)
            above = pump_flow(mid) > outflow
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        return 0.5 * (lo + hi)

    def flow_at(self, name: str) -> np.ndarray:
        """Flow through a component: the pump flow less the leaks upstream of it (on the discharge side)."""
        flow = self.flow
        for leak_name, lost in self.leak_flow.items():
            if leak_name != name and self.plant.reaches(leak_name, name):
                flow = flow - lost
        return flow

    def signal(self, component: str, quantity: str) -> np.ndarray:
        comp = self.plant.components[component]
        kind = comp.kind
        full = (self.n,)
        if quantity == "speed":
            return self.speed
        if quantity == "vibration":
            return self.vibration[component]
        if kind == "motor":
            values = {"temperature": self.winding_temperature, "current": self.current,
                      "power": self.input_power}
            return np.broadcast_to(values[quantity], full)
        if kind == "bearing":
            return self.bearing_temperature[component]
        if quantity == "temperature":
            return self.fluid_temperature
        if quantity == "flow":
            return self.flow if kind == "pump" else self.flow_at(component)
        if quantity == "power":
            return np.broadcast_to(self.pump_power, full)
        if quantity == "pressure":
            side = self.plant.side_of_pump(component)
            return self.suction_pressure if side == "suction" else self.discharge_pressure
        raise SimulationError(f"component {component!r} ({kind}) has no quantity {quantity!r}")


# ---- measurement -------------------------------------------------------------------------------------
def _measure(binding: Binding, true_value: np.ndarray, timeline: Timeline, seed: int) -> np.ndarray:
    """What the transmitter reports: true value + noise, then the sensor's own faults, then resolution."""
    sid = binding.sensor_id
    rng = _rng(seed, "sensor", sid)
    n = len(true_value)
    severity = {kind: timeline.severity.get((sid, kind)) for kind in SENSOR_FAULTS}
    value = np.array(true_value, dtype=np.float64)
    if severity["drift"] is not None:
        value += severity["drift"]
    std: np.ndarray | float = binding.noise_std
    if binding.quantity == "vibration":
        std = binding.noise_std * 0.4 + 0.015 * np.abs(value)
    if severity["noise"] is not None:
        std = std * (1.0 + severity["noise"])
    value += rng.standard_normal(n) * std
    if severity["spikes"] is not None:
        amplitude = timeline.spike_amplitude.get(sid, 25.0 * binding.noise_std)
        hit = rng.random(n) < severity["spikes"]
        value[hit] += amplitude * rng.choice((-1.0, 1.0), size=int(hit.sum()))
    if severity["stuck"] is not None:
        stuck = severity["stuck"] > 0
        edges = np.flatnonzero(np.diff(np.concatenate(([0], stuck.astype(np.int8), [0]))))
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            value[start:end] = value[start]
    if binding.quantity in NON_NEGATIVE:
        value = np.maximum(value, 0.0)  # a transmitter does not report negative flow, speed or current
    if binding.resolution > 0:
        decimals = max(0, -math.floor(math.log10(binding.resolution)))
        value = np.round(np.round(value / binding.resolution) * binding.resolution, decimals)
    if severity["dropout"] is not None:
        value[rng.random(n) < severity["dropout"]] = np.nan
    return value


# ---- entry points -----------------------------------------------------------------------------------
def simulate_timeline(plant: Plant, timeline: Timeline, seed: int, scenario: Scenario | None = None,
                      sensors: Sequence[str] | None = None) -> SimulationResult:
    """Run the physics and the measurement model of ``plant`` on ``timeline``."""
    for (target, kind) in timeline.severity:
        if kind not in SENSOR_FAULTS:
            why = plant.check_fault(target, kind)
            if why:
                raise SimulationError(f"fault {kind} on {target!r}: {why}")
    bindings = [b for b in plant.bindings if sensors is None or b.sensor_id in sensors]
    if not bindings:
        raise SimulationError("no sensor is bound to a simulated component; nothing to simulate "
                              + ("(" + "; ".join(plant.unbound) + ")" if plant.unbound else ""))
    physics = _Physics(plant, timeline, seed)
    n, m = len(timeline.times), len(bindings)
    physical = np.empty((n, m), dtype=np.float64)
    values = np.empty((n, m), dtype=np.float64)
    for j, binding in enumerate(bindings):
        physical[:, j] = physics.signal(binding.component, binding.quantity)
        values[:, j] = _measure(binding, physical[:, j], timeline, seed)
    return SimulationResult(times=timeline.times, sensor_ids=[b.sensor_id for b in bindings], values=values,
                            physical=physical, internals=physics.internals, scenario=scenario, seed=seed,
                            unbound=list(plant.unbound))


def simulate(scenario: Scenario, project, *, seed: int | None = None,
             plant: Plant | None = None) -> SimulationResult:
    """Simulate a scenario on a project's plant (its ``[[components]]`` or the demo skid's graph).

    ``seed`` overrides the scenario's own seed. Names in the scenario are checked against the project
    first, so a misspelt part, sensor or component is reported with its line rather than ignored.
    """
    plant = plant or Plant.from_project(project)
    problems = check_scenario(scenario, project, plant)
    if problems:
        from twinviewer.core.scenario import ScenarioError

        raise ScenarioError(problems)
    bound = len([b for b in plant.bindings]) or 1
    where = str(scenario.path) if scenario.path else f"scenario {scenario.title!r}"
    MAX_SIMULATION_SAMPLES.check(scenario.n_samples * bound, where,
                                 f"duration / sample_period = {scenario.n_samples:,} time steps × {bound} sensors =",
                                 error=SimulationError)
    timeline = build_timeline(scenario)
    result = simulate_timeline(plant, timeline, scenario.seed if seed is None else seed, scenario)
    if project is not None:
        result.asset = project.asset.name
        result.units = {s.id: s.unit for s in project.sensors if s.id in result.sensor_ids and s.unit}
    return result


def thresholds_of(project) -> dict[str, Any]:
    return {s.id: s.thresholds for s in project.sensors}
