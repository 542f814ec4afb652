"""The component graph the failure simulator runs on: components, the links between them, sensor bindings.

A plant is data: a list of :class:`~twinviewer.core.project.Component` (name, kind, parts, drives,
params) as written in a project's ``[[components]]``. ``drives`` links a component to what it acts on
downstream: the shaft train (motor → coupling → bearings → pump) and the fluid path (suction line →
pump → discharge line → flow meter → valve). The simulator reads everything it needs from the graph:

- which valves and pipes are on the suction or discharge side of the pump (fluid-path reachability),
- how far vibration travels from a source to a measuring point (hops through the shaft train, each hop
  attenuated by the components' ``transmission`` parameter),
- whether a leak is upstream of the flow meter (the meter then reads the reduced flow),
- which sensor measures which physical quantity: a sensor is bound to the component whose ``parts``
  contain the sensor's part, and to the quantity named by the sensor's ``quantity``.

``DEMO_COMPONENTS`` describes the bundled pump skid; it is used when a project has no ``[[components]]``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.formatting import counted
from twinviewer.core.project import Component, Sensor


class SimulationError(TwinViewerError):
    """A plant description or scenario the simulator cannot run."""


# Which physical quantities a component of each kind exposes to sensors.
KIND_QUANTITIES: dict[str, tuple[str, ...]] = {
    "motor": ("temperature", "current", "vibration", "speed", "power"),
    "coupling": ("speed", "vibration"),
    "bearing": ("temperature", "vibration", "speed"),
    "pump": ("flow", "pressure", "vibration", "speed", "temperature", "power"),
    "pipe": ("pressure", "temperature", "flow"),
    "valve": ("pressure", "temperature", "flow"),
    "flow_meter": ("flow", "pressure", "temperature"),
}
MECHANICAL_KINDS = frozenset({"motor", "coupling", "bearing", "pump"})
FLUID_KINDS = frozenset({"pump", "pipe", "valve", "flow_meter"})

# Faults that act on a component (the physics changes) and on a sensor (only its reading changes).
COMPONENT_FAULTS: dict[str, frozenset[str]] = {
    "bearing_wear": frozenset({"bearing"}),
    "imbalance": frozenset({"motor", "pump", "coupling"}),
    "misalignment": frozenset({"coupling"}),
    "blocked_cooling": frozenset({"motor"}),
    "valve_closing": frozenset({"valve"}),
    "leak": frozenset({"pump", "pipe", "valve", "flow_meter"}),
}
SENSOR_FAULTS = frozenset({"drift", "stuck", "dropout", "spikes", "noise"})
FAULT_KINDS = frozenset(COMPONENT_FAULTS) | SENSOR_FAULTS

# Parameters every component kind understands, with the values of the demo skid (SI-ish plant units:
# bar, m³/h, kW, rpm, °C, mm/s). A project's ``params`` override these per component.
KIND_DEFAULTS: dict[str, dict[str, float]] = {
    "motor": {
        "rated_speed_rpm": 1480.0, "voltage_v": 400.0, "power_factor": 0.85, "efficiency": 0.93,
        "no_load_current_a": 28.6, "rated_current_a": 60.0, "winding_rise_k": 65.0,
        "thermal_time_constant_s": 1800.0, "iron_loss_share": 0.3, "fan_cooling_share": 0.75,
        "base_vibration_mm_s": 1.5, "transmission": 0.5, "start_current_per_rate": 150.0,
        "imbalance_vibration_mm_s": 7.0,
    },
    "coupling": {"misalignment_vibration_mm_s": 15.0, "misalignment_loss_kw": 1.2, "transmission": 0.5,
                 "imbalance_vibration_mm_s": 7.0,
                 "base_vibration_mm_s": 0.0},
    "bearing": {
        "friction_kw": 0.3, "temperature_rise_k": 30.0, "thermal_time_constant_s": 900.0,
        "fluid_coupling": 0.2, "base_vibration_mm_s": 1.8, "wear_vibration_mm_s": 9.0,
        "wear_friction_gain": 1.2, "misalignment_friction_gain": 2.0, "vibration_friction_gain": 0.08,
        "transmission": 0.35,
    },
    "pump": {
        "rated_speed_rpm": 1480.0, "shutoff_pressure_bar": 5.6, "curve_coefficient": 1.3e-4,
        "bep_flow_m3h": 100.0, "bep_power_kw": 16.6, "npsh_required_m": 3.0,
        "cavitation_vibration_mm_s": 14.0, "base_vibration_mm_s": 0.0,
        "imbalance_vibration_mm_s": 7.0, "transmission": 0.5, "leak_flow_m3h": 40.0,
    },
    "pipe": {"supply_pressure_bar": 0.0, "static_pressure_bar": 0.0, "loss_coefficient": 0.0,
             "leak_flow_m3h": 40.0, "transmission": 0.5},
    "valve": {"loss_coefficient_open": 1.0e-4, "leak_flow_m3h": 40.0, "transmission": 0.5},
    "flow_meter": {"loss_coefficient": 0.0, "leak_flow_m3h": 40.0, "transmission": 0.5},
}

DEMO_COMPONENTS: list[Component] = [
    Component(name="motor", kind="motor", parts=["motor", "motor_fan_cover", "motor_terminal_box"],
              drives=["coupling"]),
    Component(name="coupling", kind="coupling", parts=["coupling"], drives=["bearing_de"]),
    Component(name="bearing_de", kind="bearing", parts=["bearing_housing_de"], drives=["bearing_nde"],
              params={"fluid_coupling": 0.15}),
    Component(name="bearing_nde", kind="bearing", parts=["bearing_housing_nde"], drives=["pump"],
              params={"fluid_coupling": 0.3, "base_vibration_mm_s": 1.6}),
    Component(name="pump", kind="pump", parts=["pump_volute", "impeller_housing"], drives=["discharge_line"]),
    Component(name="suction_valve", kind="valve", parts=["suction_valve"], drives=["suction_line"],
              params={"loss_coefficient_open": 1.5e-5}),
    Component(name="suction_line", kind="pipe", parts=["suction_pipe"], drives=["pump"],
              params={"supply_pressure_bar": 1.35}),
    Component(name="discharge_line", kind="pipe", parts=["discharge_pipe"], drives=["flow_meter"],
              params={"static_pressure_bar": 2.5, "loss_coefficient": 1.0e-4}),
    Component(name="flow_meter", kind="flow_meter", parts=["flow_meter"], drives=["discharge_valve"]),
    Component(name="discharge_valve", kind="valve", parts=["discharge_valve"],
              params={"loss_coefficient_open": 0.98e-4}),
]

# Spellings of a sensor's ``quantity`` that mean the same simulated quantity.
_QUANTITY_ALIASES = {
    "temp": "temperature", "winding temperature": "temperature", "bearing temperature": "temperature",
    "vibration rms": "vibration", "vibration_rms": "vibration", "velocity": "vibration",
    "motor current": "current", "amps": "current", "rotational speed": "speed", "rpm": "speed",
    "shaft speed": "speed", "volume flow": "flow", "flow rate": "flow", "flow_rate": "flow",
    "volume_flow": "flow", "electric power": "power",
}

# Measurement model per quantity: white noise (std) and the transmitter's resolution.
MEASUREMENT_NOISE = {"temperature": 0.15, "current": 0.3, "vibration": 0.05, "pressure": 0.01, "flow": 0.4,
                     "speed": 1.0, "power": 0.1}
MEASUREMENT_RESOLUTION = {"temperature": 0.1, "current": 0.1, "vibration": 0.01, "pressure": 0.001,
                          "flow": 0.1, "speed": 1.0, "power": 0.1}


def normalise_quantity(quantity: str) -> str:
    text = quantity.strip().lower().replace("-", " ")
    return _QUANTITY_ALIASES.get(text, text)


@dataclass(frozen=True)
class Binding:
    """Sensor ``sensor_id`` reads ``quantity`` of ``component``."""

    sensor_id: str
    component: str
    quantity: str
    noise_std: float
    resolution: float


@dataclass
class PlantComponent:
    name: str
    kind: str
    parts: list[str]
    drives: list[str]
    params: dict[str, float]

    def param(self, key: str) -> float:
        return self.params[key]


@dataclass
class Plant:
    """A validated component graph with the sensor bindings of one project."""

    components: dict[str, PlantComponent]
    bindings: list[Binding] = field(default_factory=list)
    unbound: list[str] = field(default_factory=list)

    # ---- construction -------------------------------------------------------------------------------
    @classmethod
    def from_components(cls, components: Sequence[Component], sensors: Sequence[Sensor] = ()) -> Plant:
        problems: list[str] = []
        built: dict[str, PlantComponent] = {}
        for comp in components:
            if comp.kind not in KIND_DEFAULTS:
                problems.append(f"component {comp.name!r} has kind {comp.kind!r}; the simulator knows "
                                f"{', '.join(sorted(KIND_DEFAULTS))}")
                continue
            if comp.name in built:
                problems.append(f"component name {comp.name!r} appears twice")
                continue
            unknown = sorted(set(comp.params) - set(KIND_DEFAULTS[comp.kind]))
            if unknown:
                problems.append(f"component {comp.name!r}: unknown {'parameter' if len(unknown) == 1 else 'parameters'} "
                                f"{', '.join(unknown)} for "
                                f"kind {comp.kind!r} (known: {', '.join(sorted(KIND_DEFAULTS[comp.kind]))})")
            built[comp.name] = PlantComponent(comp.name, comp.kind, list(comp.parts), list(comp.drives),
                                              {**KIND_DEFAULTS[comp.kind], **comp.params})
        for plant_comp in built.values():
            for target in plant_comp.drives:
                if target not in built:
                    problems.append(f"component {plant_comp.name!r} drives {target!r}, which is not a component")
        pumps = [c for c in built.values() if c.kind == "pump"]
        motors = [c for c in built.values() if c.kind == "motor"]
        if len(pumps) > 1 or len(motors) > 1:
            problems.append(f"the simulator runs one motor and one pump; found {counted(len(motors), 'motor')} and "
                            f"{counted(len(pumps), 'pump')}")
        if problems:
            raise SimulationError("component graph: " + "; ".join(problems))
        plant = cls(built)
        plant._bind(sensors)
        return plant

    @classmethod
    def from_project(cls, project) -> Plant:
        """The project's own ``[[components]]``, or the demo skid's graph when it describes none."""
        components = project.components or DEMO_COMPONENTS
        return cls.from_components(components, project.sensors)

    def _bind(self, sensors: Iterable[Sensor]) -> None:
        by_part: dict[str, PlantComponent] = {}
        for comp in self.components.values():
            for part in comp.parts:
                by_part.setdefault(part, comp)
        for sensor in sensors:
            owner = by_part.get(sensor.part)
            quantity = normalise_quantity(sensor.quantity)
            if owner is None:
                self.unbound.append(
                    f"{sensor.id}: its part {sensor.part!r} belongs to no simulated component"
                )
            elif quantity not in KIND_QUANTITIES[owner.kind]:
                self.unbound.append(f"{sensor.id}: a {owner.kind} ({owner.name}) has no {quantity!r}; it has "
                                    f"{', '.join(KIND_QUANTITIES[owner.kind])}")
            else:
                self.bindings.append(Binding(sensor.id, owner.name, quantity,
                                             MEASUREMENT_NOISE.get(quantity, 0.0),
                                             MEASUREMENT_RESOLUTION.get(quantity, 0.0)))

    # ---- graph queries ------------------------------------------------------------------------------
    def of_kind(self, kind: str) -> list[PlantComponent]:
        return [c for c in self.components.values() if c.kind == kind]

    @property
    def pump(self) -> PlantComponent | None:
        pumps = self.of_kind("pump")
        return pumps[0] if pumps else None

    @property
    def motor(self) -> PlantComponent | None:
        motors = self.of_kind("motor")
        return motors[0] if motors else None

    def component_of_part(self, part: str) -> PlantComponent | None:
        return next((c for c in self.components.values() if part in c.parts), None)

    def _downstream(self, start: str, kinds: frozenset[str]) -> set[str]:
        """Components reachable from ``start`` along ``drives`` through components of ``kinds``."""
        seen: set[str] = set()
        queue = deque([start])
        while queue:
            name = queue.popleft()
            for target in self.components[name].drives:
                if target not in seen and self.components[target].kind in kinds:
                    seen.add(target)
                    queue.append(target)
        return seen

    def reaches(self, upstream: str, downstream: str) -> bool:
        """True when fluid leaving ``upstream`` passes ``downstream`` (fluid path only)."""
        return downstream in self._downstream(upstream, FLUID_KINDS)

    def side_of_pump(self, name: str) -> str:
        """'suction', 'discharge', 'pump' or 'none' for a fluid-path component."""
        pump = self.pump
        if pump is None:
            return "none"
        if name == pump.name:
            return "pump"
        if self.reaches(name, pump.name):
            return "suction"
        if self.reaches(pump.name, name):
            return "discharge"
        return "none"

    def vibration_transfer(self, source: str, target: str) -> float:
        """Fraction of a vibration at ``source`` seen at ``target``: product of hop factors along the
        shortest path through the shaft train; a hop between A and B passes sqrt(tA * tB)."""
        if source == target:
            return 1.0
        neighbours: dict[str, set[str]] = {n: set() for n in self.components}
        for comp in self.components.values():
            for other in comp.drives:
                if comp.kind in MECHANICAL_KINDS and self.components[other].kind in MECHANICAL_KINDS:
                    neighbours[comp.name].add(other)
                    neighbours[other].add(comp.name)
        best = {source: 1.0}
        queue = deque([source])
        while queue:
            name = queue.popleft()
            for other in neighbours[name]:
                factor = best[name] * (self.components[name].param("transmission")
                                       * self.components[other].param("transmission")) ** 0.5
                if factor > best.get(other, 0.0):
                    best[other] = factor
                    queue.append(other)
        return best.get(target, 0.0)

    def check_fault(self, target: str, kind: str) -> str | None:
        """Why a component fault cannot apply (None when it can)."""
        comp = self.components.get(target)
        if comp is None:
            return f"no component named {target!r} (components: {', '.join(self.components)})"
        allowed = COMPONENT_FAULTS.get(kind)
        if allowed is None:
            return f"{kind!r} is not a component fault"
        if comp.kind not in allowed:
            return (f"a {kind} fault applies to {' or '.join(sorted(allowed))} components; "
                    f"{target!r} is a {comp.kind}")
        if kind == "leak" and self.side_of_pump(target) == "suction":
            return f"a leak is modelled on the pump or its discharge side; {target!r} is on the suction side"
        return None
