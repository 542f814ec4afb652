"""``twinviewer simulate SCENARIO --out run.parquet``: run a failure scenario headless into a recording."""

from __future__ import annotations

from twinviewer.core.formatting import counted

HELP = "simulate a failure scenario (*.toml) into a recording (Parquet); prints the alarms that fired"


def add_arguments(parser) -> None:
    parser.add_argument("scenario",
                        help="the scenario file (e.g. assets/demo/scenarios/bearing_wear_de.toml)")
    parser.add_argument("--out", required=True, help="the recording to write (*.parquet)")
    parser.add_argument("--seed", type=int, default=None, help="noise seed (default: the scenario's own)")
    parser.add_argument("--project", default=None,
                        help="the *.twin.toml whose sensors and components to simulate (default: the demo "
                             "twin)")
    parser.add_argument("--sample-period", default=None,
                        help="override the scenario's sample period (seconds or e.g. '10s', '1min')")


def _clock(seconds: float) -> str:
    days, rest = divmod(int(round(seconds)), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (f"{days}d" if days else "") + f"{hours:02d}:{minutes:02d}:{secs:02d}"


def run(args) -> int:
    import time
    from pathlib import Path

    from twinviewer.core.errors import TwinViewerError
    from twinviewer.core.scenario import parse_duration
    from twinviewer.core.simulation import simulate, thresholds_of
    from twinviewer.io.project_files import load_project
    from twinviewer.io.scenario_files import load_scenario
    from twinviewer.io.simulated import write_simulation
    from twinviewer.paths import demo_project_path

    project_path = Path(args.project) if args.project else demo_project_path()
    project = load_project(project_path, check_files=False)
    scenario = load_scenario(args.scenario, project)
    if args.sample_period is not None:
        try:
            period = parse_duration(args.sample_period)
        except ValueError as exc:
            raise TwinViewerError(f"--sample-period: {exc}") from None
        if period <= 0:
            raise TwinViewerError("--sample-period must be longer than 0 s")
        scenario = scenario.model_copy(update={"sample_period": period})
    out = Path(args.out)
    if out.suffix.lower() != ".parquet":
        raise TwinViewerError(f"--out {out}: the native recording is a Parquet file; name it *.parquet")
    started = time.perf_counter()
    result = simulate(scenario, project, seed=args.seed)
    write_simulation(result, out)
    elapsed = time.perf_counter() - started
    onsets = result.alarm_onsets(thresholds_of(project))
    fired = ", ".join(f"{o.sensor} {o.level} at +{_clock(o.t - scenario.start_time)} (step {o.step + 1})"
                      for o in onsets) or "none"
    skipped = (
        f"; {counted(len(result.unbound), 'sensor')} not simulated: {'; '.join(result.unbound)}"
        if result.unbound
        else ""
    )
    print(f"{out}: {scenario.title!r}, {_clock(result.duration)} simulated, {len(result.times)} samples × "
          f"{len(result.sensor_ids)} sensors, seed {result.seed}, {elapsed:.1f} s; alarms: {fired}{skipped}")
    return 0
