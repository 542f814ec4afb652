"""Build the bundled demo twin: centrifugal pump skid P-101.

Run ``.venv/bin/python assets/build_demo.py`` (or ``make demo-assets``). It writes, into ``assets/demo/``
(or ``--out-dir DIR``):

- ``pump_skid.glb``: one glTF node per part, named exactly as the parts below, each with a PBR paint
  colour. The instruments face the standard front view (they are on the skid's -Y side). glTF is Y-up by
  specification, so the scene (metres, Z up, shaft along X) is written rotated to
  Y-up, and the project declares ``up_axis = "y"`` to bring it back to Z-up on load.
- ``demo.twin.toml``: asset, model, parts and the twelve sensors, with each sensor's position computed from
  the geometry (the point of its part's surface nearest to where the real sensor is mounted).

The script regenerates the top of ``demo.twin.toml`` (format_version, [asset], [[models]], [[parts]],
[[sensors]]) and keeps, verbatim and in order, every table the others own: [[sources]], [[scenarios]],
[[components]] and [view] (with their sub-tables and the comment lines just above them). The build is
deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh
from demo_geometry import (
    X,
    Y,
    Z,
    arc_path,
    beam,
    bolt_circle,
    box,
    cylinder,
    flange,
    handwheel,
    hex_prism,
    lathe,
    nearest_surface_point,
    ring,
    torus,
    tube,
    union,
)

HERE = Path(__file__).resolve().parent
DEFAULT_OUT_DIR = HERE / "demo"
GLB_NAME = "pump_skid.glb"
PROJECT_NAME = "demo.twin.toml"

# ---------------------------------------------------------------------------------------------------------
# Layout (metres, Z up, shaft axis along +X from the motor's fan end to the pump's suction).
# ---------------------------------------------------------------------------------------------------------
FRAME_LENGTH = 2.25
RAIL_HEIGHT = 0.16  # UPN 160 channels
DECK = 0.172  # top of the 12 mm deck plate
PAD = DECK + 0.02  # top of the machined pump pads
SHAFT_Z = 0.56  # shaft centre line height

MOTOR_FOOT_Z = SHAFT_Z - 0.225  # IEC 225M: shaft height 225 mm above the feet
MOTOR_FIN_R = 0.215
MOTOR_CORE_R = 0.19

VOLUTE_X = 1.70  # centre plane of the spiral casing
SPIRAL_START = 0.35  # angle of the cut-water (rad)
DISCHARGE_TOP = SHAFT_Z + 0.322  # top face of the pump's discharge flange

DN80_R, DN100_R, DN125_R = 0.0445, 0.0571, 0.0699  # pipe outside radii
PIPE_WALL = 0.0063  # the open ends of the skid's piping show this wall
PIPE_RUN_Z = 1.25  # discharge header centre line
ELBOW_R = 0.152  # long-radius elbow, 1.5 D


def spiral_section(angle: float) -> tuple[float, float]:
    """Volute section radius and section-centre radius at ``angle`` (rad) from the cut-water."""
    s = (angle - SPIRAL_START) / (2.0 * np.pi - SPIRAL_START)
    section = 0.03 + 0.048 * s
    return section, 0.205 + 0.55 * section


DISCHARGE_Y = spiral_section(2.0 * np.pi)[1]  # the tangential discharge leaves the spiral at +Y

# ---------------------------------------------------------------------------------------------------------
# Parts, colours and what the project file says about them.
# ---------------------------------------------------------------------------------------------------------
MOTOR_BLUE = "#0e4c92"  # RAL 5010 gentian blue
PUMP_GREY = "#5b6470"  # painted cast iron
FRAME_STEEL = "#41474e"
PIPE_GREY = "#a2a8ad"
VALVE_RED = "#b3261e"  # RAL 3000 flame red
COUPLING_STEEL = "#b8bec2"
METER_BLUE = "#3d85c6"


@dataclass(frozen=True)
class PartSpec:
    name: str
    label: str
    group: str
    color: str
    metallic: float
    roughness: float
    notes: str


PARTS: tuple[PartSpec, ...] = (
    PartSpec("base_frame", "Base frame", "Structure", FRAME_STEEL, 0.3, 0.7,
             "Fabricated baseplate: UPN 160 side rails, IPE 160 cross members, 12 mm drip deck, machined "
             "pump "
             "pads, motor pedestals with stainless shims. Grouted; check M20 anchor bolts at 200 N·m and the "
             "grout for cracks yearly. Last check 2024-09-18."),
    PartSpec("motor", "Drive motor M-101", "Drive", MOTOR_BLUE, 0.1, 0.5,
             "IEC 225M, 37 kW, 4-pole, 400 V Δ, 67 A rated, IE3, IP55, TEFC. Bearings DE 6313/C3, NDE "
             "6213/C3, "
             "regrease 30 g (DE) / 20 g (NDE) polyurea grease every 4000 h. PT100 in each winding phase. "
             "Insulation test 2024-03-12: 2.1 GΩ at 1000 V. Last regrease 2024-09-18."),
    PartSpec("motor_fan_cover", "Motor fan cover", "Drive", MOTOR_BLUE, 0.1, 0.5,
             "Sheet-steel fan cowl with inlet grille over the shaft-mounted cooling fan. Keep the grille "
             "free "
             "of dust and lint (blocked inlet = hot winding); check the fan for cracks at each service."),
    PartSpec("motor_terminal_box", "Motor terminal box", "Drive", MOTOR_BLUE, 0.1, 0.5,
             "Six-stud terminal board (M10, tighten to 10 N·m), PT100 winding leads, anti-condensation "
             "heater. IT-101 current transformer on phase L1 at the MCC. Thermographic check 2024-06-04."),
    PartSpec("coupling", "Flexible jaw coupling", "Drive", COUPLING_STEEL, 0.8, 0.35,
             "Jaw coupling size 75, polyurethane spider 92 Shore A. Alignment tolerance ≤ 0.05 mm offset, "
             "≤ 0.05 mm/100 mm angularity; laser alignment 2024-09-18: 0.03 mm / 0.02 mm/100 mm. Inspect "
             "the spider every 6 months; ST-101 reads a keyway on the motor hub."),
    PartSpec("bearing_housing_de", "Pump bearing housing, drive end", "Pump", PUMP_GREY, 0.2, 0.55,
             "Coupling-side (thrust) bearing: double-row angular contact 3309 A/C3, grease-lubricated, "
             "regrease 15 g lithium-complex grease every 4000 h. Includes the bearing frame and its support "
             "foot. Last regrease 2024-09-18; vibration baseline 1.8 mm/s."),
    PartSpec("bearing_housing_nde", "Pump bearing housing, non-drive end", "Pump", PUMP_GREY, 0.2, 0.55,
             "Impeller-side (radial) bearing 6309-2Z/C3 and the lantern to the casing cover. Regrease 10 g "
             "every 4000 h. Replaced 2023-11-02 with the mechanical seal; vibration baseline 1.6 mm/s."),
    PartSpec("pump_volute", "Pump volute casing P-101", "Pump", PUMP_GREY, 0.2, 0.55,
             "End-suction pump EN 733 125-80-400, grey cast iron EN-GJL-250, impeller Ø 380 mm. Duty "
             "100 m³/h at 44 m, 1480 rpm, NPSHr 2.6 m. Wear-ring clearance 0.5 mm new, renew at 1.0 mm "
             "(measured 0.62 mm on 2023-11-02). Drain before frost."),
    PartSpec("impeller_housing", "Casing cover (impeller housing)", "Pump", PUMP_GREY, 0.2, 0.55,
             "Back-pull-out casing cover with the seal chamber: single mechanical seal EN 12756 KU 45 mm, "
             "SiC/carbon, EPDM. Seal renewed 2023-11-02. Check the leak-off weekly: more than 10 drops per "
             "minute means the seal is worn."),
    PartSpec("suction_pipe", "Suction pipe DN125", "Piping", PIPE_GREY, 0.5, 0.45,
             "DN125 PN16 carbon steel P235GH, flanged. Tappings: PT-101 (½\" NPT) and thermowell TT-104. "
             "Clean the upstream basket strainer when suction pressure falls by 0.3 bar."),
    PartSpec("suction_valve", "Suction isolation valve", "Piping", VALVE_RED, 0.2, 0.5,
             "Butterfly valve DN125 PN16, wafer type, EPDM liner, gear operator with handwheel. Fully open "
             "in service, never throttle the suction. Exercise quarterly; last 2024-08-30."),
    PartSpec("discharge_pipe", "Discharge pipe DN100", "Piping", PIPE_GREY, 0.5, 0.45,
             "DN80→DN100 concentric reducer, 90° long-radius elbow, DN100 PN16 header with two supports. "
             "PT-102 tapping ½\" NPT on the riser. Hydrotested 24 bar at commissioning."),
    PartSpec("discharge_valve", "Discharge gate valve", "Piping", VALVE_RED, 0.2, 0.5,
             "Gate valve DN100 PN16, rising stem, outside screw and yoke. Start the pump against a closed "
             "valve, then open; do not throttle. Gland repacked 2024-05-14; grease the stem thread yearly."),
    PartSpec("flow_meter", "Magnetic flow meter FT-101", "Instrumentation", METER_BLUE, 0.3, 0.4,
             "Electromagnetic flow meter DN100, PTFE liner, Hastelloy C electrodes, 4–20 mA = 0–160 m³/h. "
             "Needs 5 D straight run upstream and a full pipe. Verification 2024-06-04: within 0.3 %."),
)
PART_NAMES = tuple(p.name for p in PARTS)


@dataclass(frozen=True)
class SensorSpec:
    id: str
    label: str
    quantity: str
    unit: str
    part: str
    thresholds: dict[str, float]
    range: tuple[float, float]
    notes: str


SENSORS: tuple[SensorSpec, ...] = (
    SensorSpec("TT-101", "Motor winding temperature", "temperature", "°C", "motor",
               {"warning_high": 130.0, "alarm_high": 155.0}, (0.0, 180.0),
               "PT100 in the stator winding (insulation class F, 155 °C). Normal about 90 °C at full load."),
    SensorSpec("IT-101", "Motor current", "current", "A", "motor_terminal_box",
               {"warning_high": 72.0, "alarm_high": 80.0}, (0.0, 100.0),
               "Phase L1 current, 67 A rated. Normal about 60 A at the duty point."),
    SensorSpec("VT-101", "Motor vibration (DE, RMS)", "vibration", "mm/s", "motor",
               {"warning_high": 4.5, "alarm_high": 7.1}, (0.0, 15.0),
               "Accelerometer on the drive-end shield, horizontal, velocity RMS 10–1000 Hz (ISO 10816-3)."),
    SensorSpec("TT-102", "Pump DE bearing temperature", "temperature", "°C", "bearing_housing_de",
               {"warning_high": 80.0, "alarm_high": 95.0}, (0.0, 120.0),
               "PT100 in the top tapping of the drive-end bearing housing. Normal about 55 °C."),
    SensorSpec("TT-103", "Pump NDE bearing temperature", "temperature", "°C", "bearing_housing_nde",
               {"warning_high": 80.0, "alarm_high": 95.0}, (0.0, 120.0),
               "PT100 in the top tapping of the non-drive-end bearing housing. Normal about 55 °C."),
    SensorSpec("VT-102", "Pump DE bearing vibration (RMS)", "vibration", "mm/s", "bearing_housing_de",
               {"warning_high": 4.5, "alarm_high": 7.1}, (0.0, 15.0),
               "Accelerometer on the drive-end housing, horizontal, velocity RMS 10–1000 Hz."),
    SensorSpec("VT-103", "Pump NDE bearing vibration (RMS)", "vibration", "mm/s", "bearing_housing_nde",
               {"warning_high": 4.5, "alarm_high": 7.1}, (0.0, 15.0),
               "Accelerometer on the non-drive-end housing, horizontal, velocity RMS 10–1000 Hz."),
    SensorSpec("PT-101", "Suction pressure", "pressure", "bar(g)", "suction_pipe",
               {"alarm_low": 0.2, "warning_low": 0.5}, (-1.0, 4.0),
               "Pressure transmitter on the suction spool next to the pump. Low pressure risks cavitation."),
    SensorSpec("PT-102", "Discharge pressure", "pressure", "bar(g)", "discharge_pipe",
               {"warning_low": 2.0, "warning_high": 9.0, "alarm_high": 10.0}, (0.0, 16.0),
               "Pressure transmitter on the discharge riser. Normal about 5.5 bar(g)."),
    SensorSpec("FT-101", "Flow", "flow", "m³/h", "flow_meter",
               {"alarm_low": 20.0, "warning_low": 40.0}, (0.0, 160.0),
               "Magnetic flow meter. Below 20 m³/h the pump runs near shut-off and heats the liquid."),
    SensorSpec("TT-104", "Fluid temperature", "temperature", "°C", "suction_pipe",
               {"warning_high": 60.0, "alarm_high": 70.0}, (-10.0, 100.0),
               "PT100 in a thermowell on the suction spool. Normal about 25 °C."),
    SensorSpec("ST-101", "Shaft speed", "speed", "rpm", "coupling",
               {"warning_low": 1400.0, "warning_high": 1520.0, "alarm_high": 1560.0}, (0.0, 1800.0),
               "Inductive pick-up on the motor-side coupling hub, one pulse per turn. Normal 1480 rpm."),
)


@dataclass
class PartBuild:
    """A built part: its mesh (scene frame) and where its sensors are mounted (before snapping)."""

    bodies: list[trimesh.Trimesh] = field(default_factory=list)
    mounts: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, *bodies: trimesh.Trimesh | list[trimesh.Trimesh]) -> None:
        for body in bodies:
            self.bodies.extend(body if isinstance(body, list) else [body])

    def mount(self, sensor_id: str, point) -> None:
        self.mounts[sensor_id] = np.asarray(point, dtype=np.float64)


def _axis_point(x: float, y: float = 0.0, z: float = SHAFT_Z) -> np.ndarray:
    return np.array([x, y, z])


# ---------------------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------------------
def build_base_frame() -> PartBuild:
    part = PartBuild()
    length, web_y, toe_y = FRAME_LENGTH, 0.31, 0.375
    for side in (-1.0, 1.0):
        inner, outer = sorted((side * web_y, side * toe_y))
        web = sorted((side * web_y, side * (web_y + 0.0085)))
        # UPN 160 channel, toes outwards so the C shows from outside.
        part.add(box((0.0, web[0], 0.0), (length, web[1], RAIL_HEIGHT)),
                 box((0.0, inner, 0.0), (length, outer, 0.0105)),
                 box((0.0, inner, RAIL_HEIGHT - 0.0105), (length, outer, RAIL_HEIGHT)))
        # Foundation bolts on the bottom toes, lifting lugs on the outside.
        for x in (0.15, 0.8, 1.45, 2.1):
            at = np.array([x, side * 0.35, 0.0105])
            part.add(cylinder(at, at + (0, 0, 0.045), 0.01, sections=8),
                     hex_prism(at + (0, 0, 0.009), Z, 0.03, 0.018))
        for x in (0.2, length - 0.2):
            lug_y = sorted((side * toe_y, side * (toe_y + 0.02)))
            part.add(box((x - 0.035, lug_y[0], 0.03), (x + 0.035, lug_y[1], 0.13)),
                     cylinder((x, lug_y[0], 0.13), (x, lug_y[1], 0.13), 0.035, sections=24))
    # IPE 160 cross members between the rail webs, under the deck.
    for x in (0.045, 0.6, 1.05, 1.5, length - 0.045):
        part.add(box((x - 0.041, -web_y, 0.0), (x + 0.041, web_y, 0.0074)),
                 box((x - 0.041, -web_y, RAIL_HEIGHT - 0.0074), (x + 0.041, web_y, RAIL_HEIGHT)),
                 box((x - 0.0025, -web_y, 0.0), (x + 0.0025, web_y, RAIL_HEIGHT)))
    # Deck plate with a drip rim.
    part.add(box((0.0, -toe_y, RAIL_HEIGHT), (length, toe_y, DECK)))
    rim_top = DECK + 0.028
    part.add(box((0.0, -toe_y, DECK), (length, -toe_y + 0.006, rim_top)),
             box((0.0, toe_y - 0.006, DECK), (length, toe_y, rim_top)),
             box((0.0, -toe_y, DECK), (0.006, toe_y, rim_top)),
             box((length - 0.006, -toe_y, DECK), (length, toe_y, rim_top)))
    # Motor pedestals with shim packs, pump pads.
    for side in (-1.0, 1.0):
        y0, y1 = sorted((side * 0.125, side * 0.235))
        part.add(box((0.29, y0, DECK), (0.79, y1, MOTOR_FOOT_Z - 0.004)))
        for x0 in (0.295, 0.665):
            part.add(box((x0, y0 + 0.01, MOTOR_FOOT_Z - 0.004), (x0 + 0.09, y1 - 0.01, MOTOR_FOOT_Z)))
        y0, y1 = sorted((side * 0.09, side * 0.21))
        part.add(box((1.63, y0, DECK), (1.77, y1, PAD)))
    part.add(box((1.25, -0.10, DECK), (1.39, 0.10, PAD)))
    # Pipe supports: suction spool, discharge header (two posts).
    part.add(_pipe_support(np.array([2.223, 0.0]), SHAFT_Z - DN125_R, DN125_R, X))
    part.add(_pipe_support(np.array([1.42, DISCHARGE_Y]), PIPE_RUN_Z - DN100_R, DN100_R, X))
    post_y = 0.335
    arm_z = PIPE_RUN_Z - DN100_R - 0.012
    part.add(box((0.535, post_y - 0.025, DECK), (0.585, post_y + 0.025, arm_z)),
             box((0.525, post_y - 0.04, DECK), (0.595, post_y + 0.04, DECK + 0.012)),
             box((0.535, DISCHARGE_Y - 0.04, arm_z - 0.05), (0.585, post_y + 0.025, arm_z)),
             box((0.525, DISCHARGE_Y - 0.05, arm_z), (0.595, DISCHARGE_Y + 0.05, arm_z + 0.012)),
             torus((0.56, DISCHARGE_Y, PIPE_RUN_Z), X, DN100_R + 0.006, 0.006, 40, 6))
    return part


def _pipe_support(at_xy: np.ndarray, saddle_z: float, pipe_r: float, pipe_axis) -> list[trimesh.Trimesh]:
    """A square-tube post from the deck to a saddle under a pipe, with a clamp band around the pipe."""
    x, y = at_xy
    top = saddle_z - 0.012
    return [box((x - 0.025, y - 0.025, DECK), (x + 0.025, y + 0.025, top)),
            box((x - 0.04, y - 0.04, DECK), (x + 0.04, y + 0.04, DECK + 0.012)),
            box((x - 0.035, y - 0.05, top), (x + 0.035, y + 0.05, saddle_z)),
            torus((x, y, saddle_z + pipe_r), pipe_axis, pipe_r + 0.006, 0.006, 40, 6)]


# ---------------------------------------------------------------------------------------------------------
# Drive
# ---------------------------------------------------------------------------------------------------------
def build_motor() -> PartBuild:
    part = PartBuild()
    origin = _axis_point(0.0)
    # Non-drive-end shield, finned stator housing, drive-end shield with the shaft end and key.
    part.add(lathe([(0.25, 0.0), (0.25, 0.15), (0.262, 0.185), (0.275, 0.197), (0.285, 0.197), (0.285, 0.0)],
                   origin, X, 96))
    part.add(lathe([(0.28, 0.0), (0.28, 0.2), (0.3, 0.2), (0.3, MOTOR_CORE_R), (0.765, MOTOR_CORE_R),
                    (0.765, 0.2), (0.785, 0.2), (0.785, 0.0)], origin, X, 96))
    for k in range(36):
        angle = np.radians(10.0 * k)
        if 220.0 < 10.0 * k < 320.0:
            continue  # no fins between the feet
        radial = np.array([0.0, np.cos(angle), np.sin(angle)])
        mid = origin + radial * (0.5 * (0.185 + MOTOR_FIN_R))
        part.add(beam(mid + (0.3, 0, 0), mid + (0.765, 0, 0), 0.007, MOTOR_FIN_R - 0.185, up=radial))
    part.add(lathe([(0.785, 0.0), (0.785, 0.197), (0.8, 0.197), (0.82, 0.17), (0.84, 0.13), (0.85, 0.1),
                    (0.855, 0.065), (0.855, 0.03), (0.93, 0.03), (0.93, 0.0)], origin, X, 96))
    part.add(box((0.865, -0.008, SHAFT_Z + 0.022), (0.9, 0.008, SHAFT_Z + 0.036)))
    # Feet on the pedestals, with hold-down bolts.
    for x_mid in (0.34, 0.71):
        for side in (-1.0, 1.0):
            y0, y1 = sorted((side * 0.135, side * 0.225))
            part.add(box((x_mid - 0.045, y0, MOTOR_FOOT_Z), (x_mid + 0.045, y1, MOTOR_FOOT_Z + 0.025)))
            w0, w1 = sorted((side * 0.13, side * 0.19))
            part.add(box((x_mid - 0.03, w0, MOTOR_FOOT_Z + 0.025), (x_mid + 0.03, w1, SHAFT_Z - 0.06)))
            bolt = np.array([x_mid, side * 0.205, MOTOR_FOOT_Z + 0.025])
            part.add(hex_prism(bolt + (0, 0, 0.008), Z, 0.03, 0.016),
                     cylinder(bolt, bolt + (0, 0, 0.03), 0.01, sections=8))
    # Lifting eye and rating plate.
    eye = _axis_point(0.40, 0.0, SHAFT_Z + MOTOR_FIN_R)
    part.add(cylinder(eye - (0, 0, 0.03), eye + (0, 0, 0.012), 0.01, sections=12),
             cylinder(eye, eye + (0, 0, 0.008), 0.022, sections=16),
             torus(eye + (0, 0, 0.046), Y, 0.028, 0.008, 24, 8))
    part.add(box((0.42, MOTOR_FIN_R - 0.002, SHAFT_Z - 0.045), (0.52, MOTOR_FIN_R + 0.002, SHAFT_Z + 0.045)))
    # Sensors: winding PT100 shown on the housing flank, vibration on a spot-face of the DE shield.
    part.mount("TT-101", (0.6, MOTOR_FIN_R, SHAFT_Z))
    spot = np.array([0.81, 0.17, SHAFT_Z])
    part.add(cylinder(spot, spot + (0, 0.035, 0), 0.014, sections=16))
    part.mount("VT-101", spot + (0, 0.035, 0))
    return part


def build_motor_fan_cover() -> PartBuild:
    part = PartBuild()
    origin = _axis_point(0.0)
    front = 0.062
    part.add(ring(origin + (0.072, 0, 0), origin + (0.275, 0, 0), 0.212, 0.222, 96),
             torus(origin + (0.072, 0, 0), X, 0.217, 0.008, 72, 8))
    # Inlet grille: concentric rings and radial ribs, the fan behind it.
    for radius in (0.055, 0.08, 0.105, 0.13, 0.155, 0.18, 0.205):
        part.add(ring(origin + (front, 0, 0), origin + (front + 0.008, 0, 0), radius - 0.005, radius + 0.004,
                      64))
    part.add(cylinder(origin + (front - 0.002, 0, 0), origin + (front + 0.01, 0, 0), 0.035, 32))
    for k in range(8):
        angle = np.radians(22.5 + 45.0 * k)
        radial = np.array([0.0, np.cos(angle), np.sin(angle)])
        part.add(beam(origin + (front + 0.004, 0, 0) + 0.03 * radial,
                      origin + (front + 0.004, 0, 0) + 0.214 * radial, 0.012, 0.01, up=X))
        # Brackets holding the cowl on the end shield.
        if k % 2 == 0:
            part.add(beam(origin + (0.255, 0, 0) + 0.17 * radial, origin + (0.255, 0, 0) + 0.214 * radial,
                          0.03, 0.02, up=X))
    part.add(cylinder(origin + (0.12, 0, 0), origin + (0.13, 0, 0), 0.19, 48),
             cylinder(origin + (0.11, 0, 0), origin + (0.25, 0, 0), 0.045, 32))
    return part


def build_motor_terminal_box() -> PartBuild:
    part = PartBuild()
    top = SHAFT_Z + MOTOR_FIN_R
    part.add(box((0.585, -0.075, top - 0.04), (0.715, 0.075, top + 0.005)),
             box((0.56, -0.11, top + 0.005), (0.74, 0.11, top + 0.135)),
             box((0.555, -0.115, top + 0.135), (0.745, 0.115, top + 0.15)))
    for x in (0.57, 0.73):
        for y in (-0.1, 0.1):
            part.add(cylinder((x, y, top + 0.15), (x, y, top + 0.157), 0.007, sections=8))
    # Cable glands on the far side.
    for x in (0.615, 0.685):
        at = np.array([x, -0.11, top + 0.06])
        part.add(cylinder(at, at - (0, 0.05, 0), 0.02, 24), hex_prism(at - (0, 0.015, 0), Y, 0.05, 0.012),
                 cylinder(at - (0, 0.05, 0), at - (0, 0.09, 0), 0.014, 16))
    part.mount("IT-101", (0.65, 0.11, top + 0.07))
    return part


def build_coupling() -> PartBuild:
    part = PartBuild()
    origin = _axis_point(0.0)
    part.add(cylinder(origin + (0.895, 0, 0), origin + (0.955, 0, 0), 0.068, 48),
             cylinder(origin + (0.957, 0, 0), origin + (0.983, 0, 0), 0.058, 48),
             cylinder(origin + (0.985, 0, 0), origin + (1.045, 0, 0), 0.068, 48))
    for k in range(6):
        angle = np.radians(60.0 * k)
        radial = np.array([0.0, np.cos(angle), np.sin(angle)])
        x0, x1 = (0.95, 0.987) if k % 2 == 0 else (0.953, 0.99)
        mid = origin + radial * 0.051
        part.add(beam(mid + (x0, 0, 0), mid + (x1, 0, 0), 0.036, 0.034, up=radial))
    for x in (0.925, 1.015):  # set screws
        part.add(cylinder((x, 0, SHAFT_Z + 0.066), (x, 0, SHAFT_Z + 0.072), 0.007, sections=8))
    part.mount("ST-101", (0.925, 0.068, SHAFT_Z))
    return part


# ---------------------------------------------------------------------------------------------------------
# Pump
# ---------------------------------------------------------------------------------------------------------
def _bearing_housing_extras(part: PartBuild, x_mid: float, temperature_id: str, vibration_id: str) -> None:
    """Top tapping for the PT100, a spot-face on the horizontal for the accelerometer, a grease nipple."""
    top = _axis_point(x_mid, 0.0, SHAFT_Z + 0.11)
    part.add(cylinder(top, top + (0, 0, 0.025), 0.016, 20))
    part.mount(temperature_id, top + (0, 0, 0.025))
    side = _axis_point(x_mid, 0.11, SHAFT_Z)
    part.add(cylinder(side, side + (0, 0.022, 0), 0.016, 20))
    part.mount(vibration_id, side + (0, 0.022, 0))
    nipple = _axis_point(x_mid + 0.03, -0.05, SHAFT_Z + 0.1)
    part.add(cylinder(nipple, nipple + (0, 0, 0.03), 0.006, 8),
             hex_prism(nipple + (0, 0, 0.012), Z, 0.017, 0.01))


def build_bearing_housing_de() -> PartBuild:
    part = PartBuild()
    origin = _axis_point(0.0)
    part.add(lathe([(1.095, 0.0), (1.095, 0.045), (1.1, 0.06), (1.115, 0.072), (1.12, 0.095), (1.13, 0.118),
                    (1.21, 0.118), (1.22, 0.1), (1.225, 0.09), (1.4, 0.09), (1.4, 0.0)], origin, X, 64))
    part.add(cylinder(origin + (1.04, 0, 0), origin + (1.1, 0, 0), 0.0225, 24))  # pump shaft end
    for k in range(4):
        angle = np.radians(45.0 + 90.0 * k)
        radial = np.array([0.0, np.cos(angle), np.sin(angle)])
        mid = origin + radial * 0.097
        part.add(beam(mid + (1.22, 0, 0), mid + (1.4, 0, 0), 0.012, 0.02, up=radial))
    _bearing_housing_extras(part, 1.165, "TT-102", "VT-102")
    # Support foot of the bearing frame.
    part.add(box((1.28, -0.014, PAD + 0.02), (1.36, 0.014, SHAFT_Z - 0.08)),
             box((1.26, -0.09, PAD), (1.38, 0.09, PAD + 0.02)),
             box((1.3, -0.06, PAD + 0.02), (1.34, 0.06, PAD + 0.07)))
    for y in (-0.07, 0.07):
        part.add(hex_prism((1.32, y, PAD + 0.028), Z, 0.027, 0.016))
    return part


def build_bearing_housing_nde() -> PartBuild:
    part = PartBuild()
    origin = _axis_point(0.0)
    part.add(lathe([(1.4, 0.0), (1.4, 0.1), (1.41, 0.118), (1.49, 0.118), (1.5, 0.1), (1.52, 0.1),
                    (1.52, 0.065), (1.59, 0.065), (1.59, 0.0)], origin, X, 64))
    # Lantern to the casing cover: a flange ring joined by four ribs (the seal chamber shows between them).
    part.add(ring(origin + (1.575, 0, 0), origin + (1.605, 0, 0), 0.165, 0.205, 64))
    for k in range(4):
        angle = np.radians(45.0 + 90.0 * k)
        radial = np.array([0.0, np.cos(angle), np.sin(angle)])
        part.add(beam(origin + (1.505, 0, 0) + 0.095 * radial, origin + (1.585, 0, 0) + 0.185 * radial,
                      0.045, 0.022, up=np.cross(X, radial)))
    _bearing_housing_extras(part, 1.45, "TT-103", "VT-103")
    return part


def build_impeller_housing() -> PartBuild:
    part = PartBuild()
    origin = _axis_point(0.0)
    part.add(lathe([(1.575, 0.0), (1.575, 0.07), (1.59, 0.09), (1.6, 0.2), (1.61, 0.235), (1.64, 0.235),
                    (1.64, 0.0)], origin, X, 96))
    part.add(bolt_circle(origin + (1.6375, 0, 0), X, 0.44, 12, 0.055, 0.016))
    return part


def build_pump_volute() -> PartBuild:
    part = PartBuild()
    origin = _axis_point(0.0)
    part.add(lathe([(1.64, 0.0), (1.64, 0.235), (1.665, 0.235), (1.665, 0.205), (1.735, 0.205),
                    (1.755, 0.18), (1.77, 0.14), (1.775, 0.1), (1.78, 0.085), (1.78, 0.0)], origin, X, 96))
    # Spiral casing: a tube whose section grows with the angle, leaving tangentially upwards at +Y.
    angles = np.linspace(SPIRAL_START, 2.0 * np.pi, 140)
    sections, centres = np.array([spiral_section(a) for a in angles]).T
    spiral = np.column_stack([np.full_like(angles, VOLUTE_X), centres * np.cos(angles),
                              SHAFT_Z + centres * np.sin(angles)])
    rise = np.linspace(0.0, 1.0, 13)[1:]
    riser = np.column_stack([np.full_like(rise, VOLUTE_X), np.full_like(rise, DISCHARGE_Y),
                             SHAFT_Z + rise * (DISCHARGE_TOP - 0.022 - SHAFT_Z)])
    riser_r = sections[-1] + (0.055 - sections[-1]) * rise ** 0.7
    part.add(tube(np.vstack([spiral, riser]), np.concatenate([sections, riser_r]), sections=56))
    # Discharge flange (DN80) on top, axial suction nozzle with its flange (DN125).
    flange_centre = np.array([VOLUTE_X, DISCHARGE_Y, DISCHARGE_TOP - 0.011])
    part.add(flange(flange_centre, Z, 0.1, 0.022))
    part.add(lathe([(1.765, 0.0), (1.765, 0.09), (1.8, 0.082), (1.88, 0.08), (1.88, 0.0)], origin, X, 64),
             flange(origin + (1.8925, 0, 0), X, 0.125, 0.025))
    # Casing feet on the pump pads, vent plug on top.
    for side in (-1.0, 1.0):
        y0, y1 = sorted((side * 0.12, side * 0.18))
        part.add(box((1.655, y0, PAD + 0.02), (1.745, y1, SHAFT_Z - 0.12)))
        y0, y1 = sorted((side * 0.1, side * 0.2))
        part.add(box((1.64, y0, PAD), (1.76, y1, PAD + 0.02)))
        for x in (1.665, 1.735):
            part.add(hex_prism((x, side * 0.15 + side * 0.035, PAD + 0.028), Z, 0.027, 0.016))
    vent_z = SHAFT_Z + sum(spiral_section(np.pi / 2))
    part.add(cylinder((VOLUTE_X, 0, vent_z - 0.02), (VOLUTE_X, 0, vent_z + 0.008), 0.012, 12),
             hex_prism((VOLUTE_X, 0, vent_z + 0.014), Z, 0.027, 0.012))
    return part


# ---------------------------------------------------------------------------------------------------------
# Piping
# ---------------------------------------------------------------------------------------------------------
def _pipe_tap(at, direction, length: float) -> list[trimesh.Trimesh]:
    """A ½" instrument tapping: boss, nipple and a hex, standing ``length`` off the pipe axis point ``at``."""
    at, direction = np.asarray(at, dtype=np.float64), np.asarray(direction, dtype=np.float64)
    return [cylinder(at, at + direction * (length - 0.035), 0.016, 16),
            cylinder(at, at + direction * length, 0.0107, 12),
            hex_prism(at + direction * (length - 0.02), direction, 0.027, 0.014)]


def build_suction_pipe() -> PartBuild:
    part = PartBuild()
    origin = _axis_point(0.0)
    part.add(flange(origin + (1.9175, 0, 0), X, 0.125, 0.025, DN125_R, 0.03),
             bolt_circle(origin + (1.905, 0, 0), X, 0.21, 8, 0.05, 0.016),
             cylinder(origin + (1.93, 0, 0), origin + (2.07, 0, 0), DN125_R, 48),
             flange(origin + (2.0825, 0, 0), -X, 0.125, 0.025, DN125_R, 0.03),
             bolt_circle(origin + (2.123, 0, 0), X, 0.21, 8, 0.106, 0.016),
             flange(origin + (2.1635, 0, 0), X, 0.125, 0.025, DN125_R, 0.03),
             ring(origin + (2.176, 0, 0), origin + (2.27, 0, 0), DN125_R - PIPE_WALL, DN125_R, 48),
             flange(origin + (2.2825, 0, 0), -X, 0.125, 0.025, DN125_R, 0.03, bore=DN125_R - PIPE_WALL))
    part.add(_pipe_tap(origin + (1.975, 0, 0), Y, 0.115))
    part.mount("PT-101", origin + (1.975, 0.115, 0))
    part.add(_pipe_tap(origin + (2.025, 0, 0), Z, 0.105))
    part.mount("TT-104", origin + (2.025, 0, 0.105))
    return part


def build_suction_valve() -> PartBuild:
    """Butterfly valve, wafer pattern, with a gear operator and its handwheel."""
    part = PartBuild()
    x = 2.123
    centre = _axis_point(x)
    part.add(lathe([(-0.028, 0.0), (-0.028, 0.1), (-0.02, 0.106), (0.02, 0.106), (0.028, 0.1), (0.028, 0.0)],
                   centre, X, 64))
    part.add(cylinder(centre + (0, 0, 0.09), centre + (0, 0, 0.19), 0.028, 24),
             cylinder(centre + (0, 0, 0.19), centre + (0, 0, 0.202), 0.05, 32),
             cylinder(centre - (0, 0, 0.09), centre - (0, 0, 0.125), 0.025, 24),
             box(centre + (-0.05, -0.05, 0.202), centre + (0.05, 0.06, 0.29)),
             cylinder(centre + (0, 0, 0.29), centre + (0, 0, 0.305), 0.025, 24))
    wheel_centre = centre + (0, 0.105, 0.245)
    part.add(cylinder(centre + (0, 0.06, 0.245), wheel_centre, 0.012, 12))
    part.add(handwheel(wheel_centre, Y, 0.09, rim=0.009))
    return part


def build_discharge_pipe() -> PartBuild:
    part = PartBuild()
    y = DISCHARGE_Y
    riser_base = np.array([VOLUTE_X, y, DISCHARGE_TOP])
    part.add(flange(riser_base + (0, 0, 0.011), Z, 0.1, 0.022, DN80_R, 0.02),
             bolt_circle(riser_base, Z, 0.16, 8, 0.044, 0.016),
             lathe([(0.0, 0.0), (0.0, DN80_R), (0.03, DN80_R), (0.09, DN100_R), (0.118, DN100_R),
                    (0.118, 0.0)], riser_base + (0, 0, 0.022), Z, 48))
    elbow_start = PIPE_RUN_Z - ELBOW_R
    part.add(cylinder(riser_base + (0, 0, 0.13), (VOLUTE_X, y, elbow_start), DN100_R, 48))
    bend = arc_path((VOLUTE_X - ELBOW_R, y, elbow_start), X, Z, ELBOW_R, 18)
    part.add(tube(bend, DN100_R + 0.0005, sections=48))
    tap_z = 0.5 * (riser_base[2] + 0.14 + elbow_start)
    part.add(_pipe_tap((VOLUTE_X, y, tap_z), Y, 0.105))
    part.mount("PT-102", (VOLUTE_X, y + 0.105, tap_z))
    run = lambda x: np.array([x, y, PIPE_RUN_Z])  # noqa: E731
    part.add(cylinder(run(VOLUTE_X - ELBOW_R), run(1.3), DN100_R, 48),
             flange(run(1.2865), X, 0.11, 0.022, DN100_R, 0.025),
             bolt_circle(run(1.2755), X, 0.18, 8, 0.044, 0.016),
             # spool between the flow meter and the valve
             flange(run(1.0135), -X, 0.11, 0.022, DN100_R, 0.025),
             bolt_circle(run(1.0245), X, 0.18, 8, 0.044, 0.016),
             cylinder(run(1.0025), run(0.8995), DN100_R, 48),
             flange(run(0.8885), X, 0.11, 0.022, DN100_R, 0.025),
             bolt_circle(run(0.8775), X, 0.18, 8, 0.044, 0.016),
             # outlet spool past the valve
             flange(run(0.6765), -X, 0.11, 0.022, DN100_R, 0.025),
             bolt_circle(run(0.6875), X, 0.18, 8, 0.044, 0.016),
             ring(run(0.666), run(0.47), DN100_R - PIPE_WALL, DN100_R, 48),
             flange(run(0.459), X, 0.11, 0.022, DN100_R, 0.025, bore=DN100_R - PIPE_WALL))
    return part


def build_flow_meter() -> PartBuild:
    """Electromagnetic flow meter: flanged spool, coil housing, neck and transmitter head."""
    part = PartBuild()
    y = DISCHARGE_Y
    centre = np.array([1.15, y, PIPE_RUN_Z])
    part.add(flange(centre + (0.1135, 0, 0), X, 0.11, 0.022),
             flange(centre - (0.1135, 0, 0), X, 0.11, 0.022),
             cylinder(centre - (0.103, 0, 0), centre + (0.103, 0, 0), 0.066, 48),
             lathe([(-0.055, 0.0), (-0.055, 0.085), (-0.045, 0.1), (0.045, 0.1), (0.055, 0.085),
                    (0.055, 0.0)],
                   centre, X, 64))
    part.add(cylinder(centre + (0, 0, 0.09), centre + (0, 0, 0.17), 0.03, 24),
             box(centre + (-0.07, -0.065, 0.17), centre + (0.07, 0.065, 0.28)),
             cylinder(centre + (0, 0.065, 0.225), centre + (0, 0.085, 0.225), 0.045, 40),
             cylinder(centre + (-0.07, 0, 0.225), centre + (-0.09, 0, 0.225), 0.04, 32))
    for dx in (-0.04, 0.04):
        at = centre + (dx, 0, 0.17)
        part.add(hex_prism(at - (0, 0, 0.008), Z, 0.027, 0.016), cylinder(at, at - (0, 0, 0.035), 0.01, 12))
    part.mount("FT-101", centre + (0, 0.1, 0))
    return part


def build_discharge_valve() -> PartBuild:
    """Gate valve, rising stem, outside screw and yoke, handwheel on top."""
    part = PartBuild()
    y = DISCHARGE_Y
    x = 0.783
    centre = np.array([x, y, PIPE_RUN_Z])
    part.add(flange(centre + (0.084, 0, 0), X, 0.11, 0.022),
             flange(centre - (0.084, 0, 0), X, 0.11, 0.022),
             cylinder(centre - (0.08, 0, 0), centre + (0.08, 0, 0), 0.072, 48))
    body = lathe([(-0.105, 0.0), (-0.105, 0.055), (-0.075, 0.09), (0.07, 0.09), (0.095, 0.07), (0.095, 0.0)],
                 (0.0, 0.0, 0.0), Z, 48)
    body.apply_scale((0.72, 1.0, 1.0))
    body.apply_translation(centre)
    bonnet_flange = trimesh.creation.cylinder(radius=0.088, height=0.02, sections=48)
    bonnet_flange.apply_scale((0.72, 1.0, 1.0))
    bonnet_flange.apply_translation(centre + (0, 0, 0.105))
    part.add(body, bonnet_flange)
    for k in range(6):
        angle = np.radians(30.0 + 60.0 * k)
        part.add(hex_prism(centre + (0.72 * 0.072 * np.cos(angle), 0.072 * np.sin(angle), 0.121), Z, 0.024,
                           0.012))
    part.add(lathe([(0.115, 0.0), (0.115, 0.05), (0.24, 0.036), (0.25, 0.0)], centre, Z, 40),
             cylinder(centre + (0, 0, 0.25), centre + (0, 0, 0.272), 0.03, 24))
    for dx in (-0.045, 0.045):
        part.add(beam(centre + (dx, 0, 0.24), centre + (dx, 0, 0.4), 0.018, 0.03, up=Y))
    part.add(box(centre + (-0.06, -0.022, 0.385), centre + (0.06, 0.022, 0.405)),
             cylinder(centre + (0, 0, 0.26), centre + (0, 0, 0.53), 0.012, 16))
    part.add(handwheel(centre + (0, 0, 0.43), Z, 0.125, rim=0.012, hub_radius=0.03, hub_length=0.05))
    return part


BUILDERS = {
    "base_frame": build_base_frame,
    "motor": build_motor,
    "motor_fan_cover": build_motor_fan_cover,
    "motor_terminal_box": build_motor_terminal_box,
    "coupling": build_coupling,
    "bearing_housing_de": build_bearing_housing_de,
    "bearing_housing_nde": build_bearing_housing_nde,
    "pump_volute": build_pump_volute,
    "impeller_housing": build_impeller_housing,
    "suction_pipe": build_suction_pipe,
    "suction_valve": build_suction_valve,
    "discharge_pipe": build_discharge_pipe,
    "discharge_valve": build_discharge_valve,
    "flow_meter": build_flow_meter,
}


# The builders put the operator side (instrument taps, rating plate, discharge line) at +Y; the finished
# skid is mirrored so that side faces the standard front view, which looks from -Y towards +Y.
MIRROR_TO_FRONT = np.diag([1.0, -1.0, 1.0, 1.0])


def build_parts() -> tuple[dict[str, trimesh.Trimesh], dict[str, np.ndarray]]:
    """Every part's mesh in the scene frame, and every sensor's position on its part's surface."""
    meshes: dict[str, trimesh.Trimesh] = {}
    mounts: dict[str, tuple[str, np.ndarray]] = {}
    for name in PART_NAMES:
        built = BUILDERS[name]()
        meshes[name] = union(built.bodies)
        meshes[name].apply_transform(MIRROR_TO_FRONT)  # trimesh re-orders the triangles of a reflection
        mounts.update({sensor_id: (name, MIRROR_TO_FRONT[:3, :3] @ point)
                       for sensor_id, point in built.mounts.items()})
    positions = {}
    for sensor in SENSORS:
        part_name, point = mounts[sensor.id]
        if part_name != sensor.part:
            raise RuntimeError(f"{sensor.id} is mounted on {part_name} but belongs to {sensor.part}")
        positions[sensor.id] = np.round(nearest_surface_point(meshes[part_name], point), 4) + 0.0
    return meshes, positions


# ---------------------------------------------------------------------------------------------------------
# Output: GLB and project file
# ---------------------------------------------------------------------------------------------------------
# glTF is +Y up: scene (x, y, z) Z-up is written as (x, z, -y); up_axis = "y" maps it back.
Z_UP_TO_Y_UP = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])


def _rgba(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)] + [255]


def export_glb(meshes: dict[str, trimesh.Trimesh]) -> bytes:
    scene = trimesh.Scene()
    for spec in PARTS:
        mesh = meshes[spec.name].copy()
        mesh.apply_transform(Z_UP_TO_Y_UP)
        material = trimesh.visual.material.PBRMaterial(
            name=f"{spec.name}_paint", baseColorFactor=_rgba(spec.color), metallicFactor=spec.metallic,
            roughnessFactor=spec.roughness)
        mesh.visual = trimesh.visual.TextureVisuals(material=material)
        scene.add_geometry(mesh, geom_name=spec.name, node_name=spec.name)
    return scene.export(file_type="glb", include_normals=False)


def _toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.floating)):
        return repr(float(value))
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} to TOML")


HAND_EDITED_MARKER = (
    "# ===== Hand-edited tables below: [[sources]], [[scenarios]], [[components]], [view] ====="
)
HAND_EDITED_FOOTER = (
    HAND_EDITED_MARKER,
    "# Recordings, live connections, scenarios and simulated components are added here by",
    "# hand (or by other tools); build_demo.py keeps them when it regenerates the tables above.",
)
PRESERVED_ROOTS = ("sources", "scenarios", "components", "view")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_\-]+)")


def preserved_tables(existing: str) -> str:
    """The [[sources]], [[scenarios]], [[components]] and [view] tables of an existing project file, verbatim.

    A table runs from its header to the next header; the comment lines directly above a header go with it.
    """
    lines = existing.splitlines()
    blocks: list[tuple[str, list[str]]] = []
    root, current = "", []
    for line in lines:
        match = _HEADER.match(line)
        if match:
            leading: list[str] = []
            while (
                current
                and current[-1].lstrip().startswith("#")
                and current[-1].strip() not in HAND_EDITED_FOOTER
            ):
                leading.insert(0, current.pop())
            blocks.append((root, current))
            root, current = match.group(1), leading + [line]
        else:
            current.append(line)
    blocks.append((root, current))
    kept = [block for name, block in blocks if name in PRESERVED_ROOTS]
    text = "\n\n".join("\n".join(block).strip("\n") for block in kept)
    return text + "\n" if text else ""


def project_text(positions: dict[str, np.ndarray], keep: str = "") -> str:
    out = [
        "# Centrifugal pump skid P-101: the TwinViewer demo twin (format: docs/project-format.md).",
        "#",
        "# Generated by assets/build_demo.py from the same parameters that build pump_skid.glb, so sensor",
        "# positions always sit on their part. Rerun the script after changing the geometry; it rewrites",
        "# everything above the marker line below and keeps every table under it as written.",
        "",
        "format_version = 1",
        "",
        "[asset]",
        f"name = {_toml_value('Centrifugal pump skid P-101')}",
        "description = " + _toml_value(
            "Cooling-water transfer pump: 37 kW IEC motor driving an end-suction volute pump (EN 733 "
            "125-80-400) through a jaw coupling, on a fabricated baseplate with suction and discharge "
            "isolation valves and a magnetic flow meter. Duty 100 m³/h at 4.3 bar differential, 1480 rpm."),
        f"manufacturer = {_toml_value('TwinViewer demo')}",
        f"serial = {_toml_value('P-101')}",
        "",
        "[[models]]",
        f"file = {_toml_value(GLB_NAME)}",
        'units = "m"',
        '# glTF is Y-up: the GLB is written Y-up and this brings it to the scene\'s Z-up.',
        'up_axis = "y"',
        "",
    ]
    for spec in PARTS:
        out += ["[[parts]]", f"name = {_toml_value(spec.name)}", f"label = {_toml_value(spec.label)}",
                f"group = {_toml_value(spec.group)}", f"color = {_toml_value(spec.color)}",
                f"notes = {_toml_value(spec.notes)}", ""]
    for sensor in SENSORS:
        out += ["[[sensors]]", f"id = {_toml_value(sensor.id)}", f"label = {_toml_value(sensor.label)}",
                f"quantity = {_toml_value(sensor.quantity)}", f"unit = {_toml_value(sensor.unit)}",
                f"part = {_toml_value(sensor.part)}",
                f"position = {_toml_value([round(float(v), 4) for v in positions[sensor.id]])}",
                f"thresholds = {_toml_value(sensor.thresholds)}", f"range = {_toml_value(sensor.range)}",
                "expected_period_s = 1.0", f"notes = {_toml_value(sensor.notes)}", ""]
    out += [*HAND_EDITED_FOOTER, ""]
    text = "\n".join(out)
    return text + ("\n" + keep if keep else "")


def build(out_dir: Path) -> tuple[Path, Path, int]:
    """Write the GLB and the project file into ``out_dir``, keeping the hand-edited tables of an existing
    project file there. Returns both paths and the number of triangles."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meshes, positions = build_parts()
    glb_path, project_path = out_dir / GLB_NAME, out_dir / PROJECT_NAME
    glb_path.write_bytes(export_glb(meshes))
    keep = preserved_tables(project_path.read_text(encoding="utf-8")) if project_path.is_file() else ""
    project_path.write_text(project_text(positions, keep), encoding="utf-8")
    return glb_path, project_path, sum(len(mesh.faces) for mesh in meshes.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR,
                        help=f"where to write {GLB_NAME} and {PROJECT_NAME} (default: assets/demo)")
    args = parser.parse_args(argv)
    glb_path, project_path, triangles = build(args.out_dir)
    print(f"wrote {glb_path} ({glb_path.stat().st_size / 1e6:.2f} MB, {len(PARTS)} parts, {triangles:,} "
          "triangles)")
    print(f"wrote {project_path} ({len(SENSORS)} sensors)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
