"""The RAPL meter's own logic (zone discovery, summing, unwrapping) on FAKE powercap trees built in
tmp_path with the kernel's file names and formats. The numbers are set by the tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from llem_runner import meters
from llem_runner.errors import BackendUnavailable, MeterError
from llem_runner.meters import nvml as nvml_module
from llem_runner.meters import rapl as rapl_module
from llem_runner.meters.rapl import RaplMeter, rapl_is_available
from llem_runner.summary import energy

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RANGE_UJ = 262_143_328_850  # a real package zone's max_energy_range_uj


def _zone(path: Path, name: str, energy_uj: int, range_uj: int | None = RANGE_UJ) -> Path:
    path.mkdir(parents=True)
    (path / "name").write_text(f"{name}\n")
    (path / "energy_uj").write_text(f"{energy_uj}\n")
    if range_uj is not None:
        (path / "max_energy_range_uj").write_text(f"{range_uj}\n")
    (path / "enabled").write_text("1\n")
    return path


def _set(zone: Path, energy_uj: int) -> None:
    (zone / "energy_uj").write_text(f"{energy_uj}\n")


def _two_sockets(root: Path, dram: bool = True) -> dict[str, Path]:
    """The kernel's layout: packages at the top, subzones nested inside their package."""
    (root / "intel-rapl").mkdir(parents=True)  # the control type directory, not a zone
    zones = {
        "pkg0": _zone(root / "intel-rapl:0", "package-0", 1_000_000),
        "pkg1": _zone(root / "intel-rapl:1", "package-1", 2_000_000),
        "core0": _zone(root / "intel-rapl:0" / "intel-rapl:0:0", "core", 500_000),
        "mmio": _zone(root / "intel-rapl-mmio:0", "package-0", 9_000_000),  # same package via MMIO
    }
    if dram:
        zones["dram0"] = _zone(root / "intel-rapl:0" / "intel-rapl:0:1", "dram", 300_000)
        zones["dram1"] = _zone(root / "intel-rapl:1" / "intel-rapl:1:1", "dram", 400_000)
    return zones


def test_two_packages_and_dram_are_summed(tmp_path: Path) -> None:
    zones = _two_sockets(tmp_path)
    assert rapl_is_available(tmp_path)
    meter = RaplMeter(tmp_path)
    assert (meter.name, meter.devices()) == ("rapl", [])
    [first] = meter.read(T0)
    assert first.gpu_index is None
    assert first.cpu_package_energy_counter_j == pytest.approx(3.0)  # 1 J + 2 J; core and MMIO not added
    assert first.dram_energy_counter_j == pytest.approx(0.7)
    _set(zones["pkg0"], 11_000_000)
    _set(zones["pkg1"], 22_000_000)
    _set(zones["dram0"], 1_300_000)
    _set(zones["core0"], 99_000_000)
    [second] = meter.read(T0 + timedelta(seconds=1))
    assert second.cpu_package_energy_counter_j == pytest.approx(33.0)
    assert second.dram_energy_counter_j == pytest.approx(1.7)
    total, source, _ = energy([first, second])
    got: object = (total, source)  # object: mypy sees no overlap with an Approx
    assert got == (pytest.approx(31.0), "counter")  # 30 J package + 1 J DRAM


def test_flat_layout_of_class_links_is_read_once(tmp_path: Path) -> None:
    """/sys/class/powercap also lists every subzone at the top level."""
    _zone(tmp_path / "intel-rapl:0", "package-0", 1_000_000)
    _zone(tmp_path / "intel-rapl:0:1", "dram", 300_000)
    _zone(tmp_path / "intel-rapl:0" / "intel-rapl:0:1", "dram", 300_000)
    [s] = RaplMeter(tmp_path).read(T0)
    got: object = (s.cpu_package_energy_counter_j, s.dram_energy_counter_j)
    assert got == (
        pytest.approx(1.0),
        pytest.approx(0.3),
    )


def test_counter_wrap_between_reads_is_unwrapped(tmp_path: Path) -> None:
    pkg = _zone(tmp_path / "intel-rapl:0", "package-0", 990, range_uj=1_000)
    meter = RaplMeter(tmp_path)
    readings: list[float] = []
    for k, raw in enumerate([995, 5, 500, 100]):  # wraps twice: +5, +10, +495, +600
        _set(pkg, raw)
        [s] = meter.read(T0 + timedelta(seconds=k))
        assert s.cpu_package_energy_counter_j is not None
        readings.append(s.cpu_package_energy_counter_j)
    assert readings == pytest.approx([995e-6, 1005e-6, 1500e-6, 2100e-6])
    assert readings == sorted(readings)


def test_counter_going_backwards_without_a_range_is_an_error(tmp_path: Path) -> None:
    pkg = _zone(tmp_path / "intel-rapl:0", "package-0", 990, range_uj=None)
    meter = RaplMeter(tmp_path)
    _set(pkg, 5)
    with pytest.raises(MeterError, match="went backwards"):
        meter.read(T0)


def test_tree_without_dram_reports_package_only(tmp_path: Path) -> None:
    _two_sockets(tmp_path, dram=False)
    [s] = RaplMeter(tmp_path).read(T0)
    assert s.cpu_package_energy_counter_j == pytest.approx(3.0)
    assert s.dram_energy_counter_j is None


def test_psys_zone_alone_is_not_a_package(tmp_path: Path) -> None:
    _zone(tmp_path / "intel-rapl:1", "psys", 1_000_000)
    assert not rapl_is_available(tmp_path)
    with pytest.raises(BackendUnavailable, match="no package zone"):
        RaplMeter(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway; see the missing-file test")
def test_unreadable_energy_file_makes_the_probe_false(tmp_path: Path) -> None:
    pkg = _zone(tmp_path / "intel-rapl:0", "package-0", 1_000_000)
    (pkg / "energy_uj").chmod(0)
    assert not rapl_is_available(tmp_path)


def test_missing_energy_file_makes_the_probe_false(tmp_path: Path) -> None:
    pkg = _zone(tmp_path / "intel-rapl:0", "package-0", 1_000_000)
    (pkg / "energy_uj").unlink()
    assert not rapl_is_available(tmp_path)


def test_energy_file_vanishing_during_a_run_is_a_meter_error(tmp_path: Path) -> None:
    pkg = _zone(tmp_path / "intel-rapl:0", "package-0", 1_000_000)
    meter = RaplMeter(tmp_path)
    (pkg / "energy_uj").unlink()
    with pytest.raises(MeterError, match="energy_uj"):
        meter.read(T0)


def test_empty_or_missing_root_is_not_available(tmp_path: Path) -> None:
    assert not rapl_is_available(tmp_path)
    assert not rapl_is_available(tmp_path / "absent")


def test_create_meter_falls_back_from_nvml_to_rapl_to_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_sockets(tmp_path)
    monkeypatch.setattr(nvml_module, "nvml_is_available", lambda: False)
    monkeypatch.setattr(rapl_module, "rapl_is_available", lambda: rapl_is_available(tmp_path))
    monkeypatch.setattr(rapl_module, "RaplMeter", lambda: RaplMeter(tmp_path))
    assert meters.create_meter("auto").name == "rapl"
    assert meters.create_meter("rapl").name == "rapl"
    assert meters.create_meter("none").name == "none"
    monkeypatch.setattr(rapl_module, "rapl_is_available", lambda: False)
    assert meters.create_meter("auto").name == "none"
    with pytest.raises(BackendUnavailable, match="rapl meter"):
        meters.create_meter("rapl")


def test_permission_denied_makes_the_probe_false_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The kernel's refusal (energy_uj is 0400 root since Linux 5.10), raised as the kernel would,
    so the branch also runs when the tests run as root."""
    _zone(tmp_path / "intel-rapl:0", "package-0", 1_000_000)

    def refuse(path: Path) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(rapl_module, "_read_uj", refuse)
    assert not rapl_is_available(tmp_path)
    assert "not readable by this user" in caplog.text
