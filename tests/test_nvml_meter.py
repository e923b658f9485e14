"""The NVML meter's own logic (unit conversion, error translation, CUDA_VISIBLE_DEVICES, throttle
reasons) against a FAKE NVML module. The numbers are set by the tests: nothing here is measured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pynvml
import pytest

from llem_runner import meters
from llem_runner.errors import BackendUnavailable, JobRejected, MeterError
from llem_runner.meters import ThrottleReason, throttle_decoder
from llem_runner.meters import nvml as nvml_module
from llem_runner.meters.nvml import NvmlMeter, nvml_is_available, throttle_reasons
from llem_runner.summary import energy
from llem_schemas import MetricSample
from tests.fakes.fake_nvml import GPU_IS_LOST, FakeGpu, FakeNvml

T0 = datetime(2026, 1, 1, tzinfo=UTC)
UUIDS = [
    "GPU-11111111-aaaa-0000-0000-000000000000",
    "GPU-22222222-bbbb-0000-0000-000000000000",
    "GPU-33333333-cccc-0000-0000-000000000000",
]


@pytest.fixture(autouse=True)
def _no_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def _three_gpus() -> FakeNvml:
    return FakeNvml(
        [FakeGpu(name=f"fake-{i}", uuid=u, power_mw=(i + 1) * 100_000) for i, u in enumerate(UUIDS)]
    )


def _reads(meter: NvmlMeter, n: int, period_s: float = 0.1) -> list[MetricSample]:
    return [s for k in range(n) for s in meter.read(T0 + timedelta(seconds=k * period_s))]


def test_counter_path_converts_units_and_describes_the_device() -> None:
    fake = FakeNvml([FakeGpu(energy_mj=1_000_000, energy_step_mj=5_000)])
    meter = NvmlMeter(nvml=fake)
    assert meter.has_energy_counter
    [s] = meter.read(T0)
    assert s.gpu_index == 0
    assert s.energy_counter_j == 1_005.0  # mJ -> J (the constructor's probe read 1 000 J)
    assert (s.power_w, s.power_avg_w) == (150.0, 140.0)  # mW -> W, from field values
    assert (s.temperature_c, s.sm_clock_mhz, s.memory_clock_mhz) == (55, 1_980, 2_619)
    assert (s.gpu_utilization_pct, s.memory_used_bytes, s.throttle_reasons) == (90.0, 20 * 2**30, 0)
    [info] = meter.devices()
    assert (info.index, info.name, info.uuid) == (0, "FAKE GPU (test stand-in)", FakeGpu().uuid)
    assert (info.memory_total_bytes, info.power_limit_w, info.mig_enabled) == (80 * 2**30, 700.0, False)
    assert meter.driver_info() == {
        "gpu_driver_version": "000.00.fake",
        "cuda_driver_version": "12.4",
        "nvml_version": "00.000.fake",
    }
    total, source, _ = energy(_reads(meter, 11))
    assert source == "counter"
    assert total == pytest.approx(50.0)  # 10 steps of 5 J


def test_gpu_without_counter_falls_back_to_integrated_power() -> None:
    fake = FakeNvml([FakeGpu(energy_mj=None, power_mw=100_000, power_fields=False)])
    meter = NvmlMeter(nvml=fake)
    assert not meter.has_energy_counter
    samples = _reads(meter, 11)
    assert all(s.energy_counter_j is None for s in samples)
    assert (samples[0].power_w, samples[0].power_avg_w) == (100.0, None)  # nvmlDeviceGetPowerUsage
    total, source, _ = energy(samples)
    assert source == "integrated_power"
    assert total == pytest.approx(100.0)  # 100 W for 1 s


@pytest.mark.parametrize(
    "code",
    [pynvml.NVML_ERROR_NOT_SUPPORTED, pynvml.NVML_ERROR_NO_PERMISSION, pynvml.NVML_ERROR_FUNCTION_NOT_FOUND],
)
def test_unsupported_values_are_none_and_the_sample_is_still_produced(code: int) -> None:
    gpu = FakeGpu(
        temperature_c=None,
        sm_clock_mhz=None,
        memory_clock_mhz=None,
        throttle_mask=None,
        power_avg_mw=None,
        unsupported_error=code,
    )
    [s] = NvmlMeter(nvml=FakeNvml([gpu])).read(T0)
    assert (s.temperature_c, s.sm_clock_mhz, s.memory_clock_mhz, s.throttle_reasons, s.power_avg_w) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert s.power_w == 150.0
    assert s.energy_counter_j == 1_005.0


def test_lost_gpu_during_a_read_raises_meter_error_naming_it() -> None:
    fake = FakeNvml([FakeGpu(uuid=UUIDS[0]), FakeGpu(uuid=UUIDS[1])])
    meter = NvmlMeter(nvml=fake)
    meter.read(T0)
    lost = fake.gpus[1]
    lost.fail_after_calls = lost.calls + 3  # fails partway through the next read
    with pytest.raises(MeterError, match=r"GPU 1: .*GPU is lost \(NVML error 15\)") as caught:
        meter.read(T0 + timedelta(seconds=1))
    assert isinstance(caught.value.__cause__, pynvml.NVMLError_GpuIsLost)
    assert caught.value.retryable


def test_lost_gpu_at_start_raises_and_releases_nvml() -> None:
    fake = FakeNvml([FakeGpu(fail_after_calls=0, fail_with=GPU_IS_LOST)])
    with pytest.raises(MeterError, match=r"NVML device 0 failed: GPU is lost"):
        NvmlMeter(nvml=fake)
    assert fake.initialised == 0


def test_lost_gpu_reported_in_a_power_field_raises() -> None:
    gpu = FakeGpu(power_avg_mw=None, unsupported_error=GPU_IS_LOST)  # the field's own return code
    meter = NvmlMeter(nvml=FakeNvml([gpu]))
    with pytest.raises(MeterError, match="power field"):
        meter.read(T0)


def test_cuda_visible_devices_indices_select_and_order_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,0")
    meter = NvmlMeter(nvml=_three_gpus())
    assert [(d.index, d.uuid) for d in meter.devices()] == [(0, UUIDS[2]), (1, UUIDS[0])]
    assert [(s.gpu_index, s.power_w) for s in meter.read(T0)] == [(0, 300.0), (1, 100.0)]


@pytest.mark.parametrize("token", [UUIDS[1], "GPU-22222222"])  # a unique prefix is enough for CUDA
def test_cuda_visible_devices_uuid_selects_that_gpu(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", token)
    meter = NvmlMeter(nvml=_three_gpus())
    assert [d.uuid for d in meter.devices()] == [UUIDS[1]]
    assert [s.power_w for s in meter.read(T0)] == [200.0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1,x,0", [UUIDS[1]]), ("0,9,1", [UUIDS[0]]), ("0,0,1", [UUIDS[0]]), ("GPU-,1", []), ("", [])],
)
def test_cuda_visible_devices_stops_at_the_first_unusable_entry(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
    meter = NvmlMeter(nvml=_three_gpus())
    assert [d.uuid for d in meter.devices()] == expected
    assert meter.has_energy_counter == bool(expected)


def test_cuda_visible_devices_mig_instance_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "MIG-4f3c7a1e-0000-0000-0000-000000000000")
    fake = _three_gpus()
    with pytest.raises(MeterError, match="MIG instance MIG-4f3c7a1e"):
        NvmlMeter(nvml=fake)
    assert fake.initialised == 0


def test_throttle_mask_is_recorded_and_translated() -> None:
    mask = (
        pynvml.nvmlClocksEventReasonGpuIdle
        | pynvml.nvmlClocksEventReasonSwPowerCap
        | pynvml.nvmlClocksEventReasonHwThermalSlowdown
    )
    [s] = NvmlMeter(nvml=FakeNvml([FakeGpu(throttle_mask=mask)])).read(T0)
    assert s.throttle_reasons == mask, "the sample keeps NVML's own bits"
    assert throttle_reasons(mask) == [ThrottleReason.SW_POWER_CAP, ThrottleReason.HW_THERMAL]


@pytest.mark.parametrize(
    ("bit", "reason"),
    [
        (pynvml.nvmlClocksEventReasonSwPowerCap, ThrottleReason.SW_POWER_CAP),
        (pynvml.nvmlClocksEventReasonHwSlowdown, ThrottleReason.HW_SLOWDOWN),
        (pynvml.nvmlClocksEventReasonSwThermalSlowdown, ThrottleReason.SW_THERMAL),
        (pynvml.nvmlClocksEventReasonHwThermalSlowdown, ThrottleReason.HW_THERMAL),
        (pynvml.nvmlClocksEventReasonHwPowerBrakeSlowdown, ThrottleReason.HW_POWER_BRAKE),
    ],
)
def test_each_nvml_throttle_bit_becomes_one_vendor_neutral_reason(bit: int, reason: ThrottleReason) -> None:
    assert throttle_reasons(bit) == [reason]
    assert throttle_decoder("nvml")(bit) == [reason], "the flags reach the NVML table through the meters"


def test_throttle_reasons_cover_real_throttling_only() -> None:
    benign = (
        pynvml.nvmlClocksEventReasonGpuIdle
        | pynvml.nvmlClocksEventReasonApplicationsClocksSetting
        | pynvml.nvmlClocksEventReasonSyncBoost
        | pynvml.nvmlClocksEventReasonDisplayClockSetting
    )
    assert throttle_reasons(0) == []
    assert throttle_reasons(benign) == []
    # every neutral reason, in the order the THROTTLED flag lists them (its detail text is stored)
    assert throttle_reasons(pynvml.nvmlClocksEventReasonAll) == list(ThrottleReason)
    assert [str(r) for r in ThrottleReason] == [
        "sw_power_cap",
        "hw_slowdown",
        "sw_thermal",
        "hw_thermal",
        "hw_power_brake",
    ]


def test_meters_without_throttle_bits_decode_none() -> None:
    assert throttle_decoder("rapl")(pynvml.nvmlClocksEventReasonAll) == []
    assert throttle_decoder("none")(pynvml.nvmlClocksEventReasonAll) == []


def test_throttle_reasons_fall_back_to_the_older_call_on_an_older_driver() -> None:
    mask = pynvml.nvmlClocksThrottleReasonSwThermalSlowdown
    [s] = NvmlMeter(nvml=FakeNvml([FakeGpu(throttle_mask=mask, clocks_event_api=False)])).read(T0)
    assert s.throttle_reasons == mask


def test_nvml_is_available_probe() -> None:
    assert not nvml_is_available(FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND))
    assert not nvml_is_available(FakeNvml([]))
    fake = FakeNvml([FakeGpu()])
    assert nvml_is_available(fake)
    assert fake.initialised == 0  # the probe shuts NVML down again


def test_init_failure_is_a_meter_error() -> None:
    with pytest.raises(MeterError, match="initialise NVML"):
        NvmlMeter(nvml=FakeNvml(init_error=pynvml.NVML_ERROR_DRIVER_NOT_LOADED))


def test_close_shuts_nvml_down() -> None:
    fake = FakeNvml([FakeGpu()])
    NvmlMeter(nvml=fake).close()
    assert fake.initialised == 0


def test_create_meter_picks_nvml_when_available_and_refuses_it_when_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeNvml([FakeGpu()])
    monkeypatch.setattr(nvml_module, "nvml_is_available", lambda: True)
    monkeypatch.setattr(nvml_module, "NvmlMeter", lambda: NvmlMeter(nvml=fake))
    assert meters.create_meter("auto").name == "nvml"
    assert meters.create_meter("nvml").name == "nvml"
    monkeypatch.setattr(nvml_module, "nvml_is_available", lambda: False)
    with pytest.raises(BackendUnavailable, match="nvml meter"):
        meters.create_meter("nvml")


def test_a_gpu_lost_mid_run_fails_the_sampler_instead_of_leaving_a_gap() -> None:
    """The sampler thread hands the meter's failure to the run: no run is reported on a lost GPU."""
    import time

    from llem_runner.errors import MeterError
    from llem_runner.sampler import Sampler, TokenCounters

    gpu = FakeGpu()
    meter = NvmlMeter(FakeNvml([gpu]))
    gpu.fail_after_calls = gpu.calls + 30  # a few readings, then the GPU falls off the bus
    sampler = Sampler(meter, 0.01, TokenCounters())
    sampler.start()
    time.sleep(0.2)
    with pytest.raises(MeterError, match="lost"):
        sampler.drain()
    with pytest.raises(MeterError):
        sampler.stop()


def test_power_limit_is_set_on_every_gpu_and_restored() -> None:
    """The driver enforces a new limit a moment after the call: the run waits until it is in force."""
    gpus = [
        FakeGpu(uuid="GPU-a", power_limit_mw=700_000, enforced_lag_reads=3),
        FakeGpu(uuid="GPU-b", power_limit_mw=650_000),
    ]
    meter = NvmlMeter(nvml=FakeNvml(gpus))
    restore = meter.set_power_limit(400)
    assert [g.power_limit_mw for g in gpus] == [400_000, 400_000]
    assert [d.power_limit_w for d in meter.devices()] == [400, 400], "the fingerprint shows the run's limit"
    restore()
    assert [g.power_limit_mw for g in gpus] == [700_000, 650_000]
    assert [d.power_limit_w for d in meter.devices()] == [700, 650]


def test_power_limit_out_of_range_is_refused_and_changes_nothing() -> None:
    gpus = [
        FakeGpu(power_limit_range_mw=(100_000, 700_000)),
        FakeGpu(power_limit_range_mw=(300_000, 700_000)),
    ]
    meter = NvmlMeter(nvml=FakeNvml(gpus))
    with pytest.raises(JobRejected, match="outside GPU 1's range 300-700 W"):
        meter.set_power_limit(200)
    assert [g.power_limit_mw for g in gpus] == [700_000, 700_000], "GPU 0 put back"


def test_power_limit_without_permission_is_a_clear_job_error() -> None:
    gpus = [FakeGpu(), FakeGpu(set_limit_error=pynvml.NVML_ERROR_NO_PERMISSION)]
    meter = NvmlMeter(nvml=FakeNvml(gpus))
    with pytest.raises(JobRejected, match="may not set power limits") as info:
        meter.set_power_limit(500)
    assert not info.value.retryable
    assert [g.power_limit_mw for g in gpus] == [700_000, 700_000]


def test_meters_without_gpus_cannot_set_power_limits() -> None:
    with pytest.raises(JobRejected, match="power_limit_w needs NVML"):
        meters.create_meter("none").set_power_limit(300)
