"""The Helm chart (helm/llem), checked offline: lint, render, and the rendered manifests validated.

helm-python-sdk runs the Helm SDK in-process (no helm binary, no cluster), so lint and render are
what `helm lint --strict` and `helm template` do; kubernetes-validate checks the manifests against the
Kubernetes 1.30 OpenAPI schemas. Each values file is rendered once per module.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

CHART = Path(__file__).resolve().parents[1] / "helm" / "llem"
CLUSTER_VALUES = CHART / "ci" / "cluster-values.yaml"
KUBE_VERSION = "1.30.0"
RELEASE = "llem"
EXTERNAL_NATS_URL = "tls://nats-0.example:4222,tls://nats-1.example:4222"

NKEY_SEED = re.compile(r"\bS[UOANC][A-Z2-7]{50,}")  # what an nkey seed looks like, should one be pasted

Manifest = dict[str, Any]


def _values(path: Path | None) -> dict[str, Any]:
    return {} if path is None else helm_python.values_from_yaml(path.read_text())


def _render(values: dict[str, Any]) -> list[Manifest]:
    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(values, name=RELEASE, namespace=RELEASE)
    return [
        doc
        for template, text in sorted(rendered.items())
        if not template.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


@pytest.fixture(scope="module")
def default_manifests() -> list[Manifest]:
    return _render(_values(None))


@pytest.fixture(scope="module")
def cluster_manifests() -> list[Manifest]:
    return _render(_values(CLUSTER_VALUES))


def _one(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def _pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def _container(workload: Manifest) -> dict[str, Any]:
    containers: list[dict[str, Any]] = _pod_spec(workload)["containers"]
    assert len(containers) == 1
    return containers[0]


def _env(workload: Manifest) -> dict[str, Any]:
    """name -> value (a string) or valueFrom (a dict)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in _container(workload).get("env", [])}


def _llem_workloads(manifests: list[Manifest]) -> list[Manifest]:
    return [
        m
        for m in manifests
        if m["kind"] in {"Deployment", "StatefulSet", "Job"}
        and m["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "llem"
    ]


def test_the_vendored_nats_chart_is_the_declared_one() -> None:
    # charts/nats-2.14.2.tgz stands in for the chart repository, which is not reachable here
    assert helm_python.dependency_list(CHART) == [
        {
            "name": "nats",
            "version": "2.14.2",
            "repository": "https://nats-io.github.io/k8s/helm/charts/",
            "status": "ok",
        }
    ]


@pytest.mark.parametrize("values_file", [None, CLUSTER_VALUES], ids=["default", "cluster"])
def test_strict_lint_has_no_findings(values_file: Path | None) -> None:
    report = helm_python.lint(CHART, _values(values_file), strict=True, kube_version=f"v{KUBE_VERSION}")
    assert report["messages"] == []
    assert report["errors"] == []


def test_rendered_manifests_pass_kubernetes_validate_strict(
    tmp_path: Path, default_manifests: list[Manifest], cluster_manifests: list[Manifest]
) -> None:
    files = []
    for name, manifests in (("default", default_manifests), ("cluster", cluster_manifests)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all(manifests, sort_keys=True))
        files.append(str(path))
    validate = Path(sys.executable).parent / "kubernetes-validate"
    result = subprocess.run(
        [str(validate), "-k", KUBE_VERSION, "--strict", "--quiet", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_nats_is_one_server_by_default_and_a_three_node_jetstream_cluster_on_files(
    default_manifests: list[Manifest], cluster_manifests: list[Manifest]
) -> None:
    assert _one(default_manifests, "StatefulSet", "llem-nats")["spec"]["replicas"] == 1
    nats = _one(cluster_manifests, "StatefulSet", "llem-nats")
    assert nats["spec"]["replicas"] == 3
    assert [t["metadata"]["name"] for t in nats["spec"]["volumeClaimTemplates"]] == ["llem-nats-js"]
    conf = _one(cluster_manifests, "ConfigMap", "llem-nats-config")["data"]["nats.conf"]
    assert '"store_dir": "/data"' in conf
    assert '"max_file_store": 50Gi' in conf
    assert len(re.findall(r"nats://llem-nats-\d\.llem-nats-headless:6222", conf)) == 3
    # the accounts of `llem nats init`, from the Secret mounted next to the config
    assert "include ../nats-auth/auth.conf;" in conf
    pod = _pod_spec(nats)
    server = next(c for c in pod["containers"] if c["name"] == "nats")
    auth_mount = {"name": "llem-nats-auth", "mountPath": "/etc/nats-auth", "readOnly": True}
    assert auth_mount in server["volumeMounts"]
    assert {"name": "llem-nats-auth", "secret": {"secretName": "llem-nats-auth"}} in pod["volumes"]


def test_stream_replicas_are_one_by_default_and_three_in_the_cluster_values(
    default_manifests: list[Manifest], cluster_manifests: list[Manifest]
) -> None:
    for manifests, replicas in ((default_manifests, "1"), (cluster_manifests, "3")):
        # the scheduler declares the same layout at its start, so it must agree with the bootstrap Job
        for kind, name in (("Job", "llem-bootstrap"), ("Deployment", "llem-scheduler")):
            assert _env(_one(manifests, kind, name))["LLEM_STREAM_REPLICAS"] == replicas


def test_hooks_migrate_before_and_bootstrap_once_nats_can_exist(
    default_manifests: list[Manifest], cluster_manifests: list[Manifest]
) -> None:
    external = _render({"nats": {"enabled": False, "external": {"url": EXTERNAL_NATS_URL}}})
    for manifests in (default_manifests, cluster_manifests, external):
        migrate = _one(manifests, "Job", "llem-migrate")
        assert migrate["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert _container(migrate)["args"] == ["llem-ingest", "migrate"]
        bootstrap = _one(manifests, "Job", "llem-bootstrap")
        assert _container(bootstrap)["args"][:2] == ["llem-scheduler", "bootstrap"]
        for job in (migrate, bootstrap):
            annotations = job["metadata"]["annotations"]
            assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
            assert int(annotations["helm.sh/hook-weight"]) < 0
    # a pre-install hook would wait for a NATS server the same release has not created yet
    bundled = _one(default_manifests, "Job", "llem-bootstrap")["metadata"]["annotations"]
    assert bundled["helm.sh/hook"] == "post-install,pre-upgrade"
    outside = _one(external, "Job", "llem-bootstrap")["metadata"]["annotations"]
    assert outside["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert not [m for m in external if m["kind"] == "StatefulSet"]
    assert _env(_one(external, "Deployment", "llem-api"))["LLEM_NATS_URL"] == EXTERNAL_NATS_URL


def test_api_probes_healthz_and_readyz_on_its_port(default_manifests: list[Manifest]) -> None:
    api = _one(default_manifests, "Deployment", "llem-api")
    container = _container(api)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert _env(api)["LLEM_API_PORT"] == "8000"
    assert _env(api)["LLEM_API_HOST"] == "0.0.0.0"
    service = _one(default_manifests, "Service", "llem-api")
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_ingest_is_probed_from_inside_and_the_scheduler_not_at_all(default_manifests: list[Manifest]) -> None:
    ingest = _container(_one(default_manifests, "Deployment", "llem-ingest"))
    command = ingest["livenessProbe"]["exec"]["command"]
    assert "http://127.0.0.1:9100/metrics" in command[-1]
    assert _env(_one(default_manifests, "Deployment", "llem-ingest"))["LLEM_METRICS_PORT"] == "9100"
    assert "livenessProbe" not in _container(_one(default_manifests, "Deployment", "llem-scheduler"))


def test_no_secret_is_written_inline(
    default_manifests: list[Manifest], cluster_manifests: list[Manifest]
) -> None:
    for manifests in (default_manifests, cluster_manifests):
        assert not [m for m in manifests if m["kind"] == "Secret"]
        assert not NKEY_SEED.search(yaml.safe_dump_all(manifests))
        for workload in _llem_workloads(manifests):
            env = _env(workload)
            if "PGPASSWORD" in env:
                assert env["PGPASSWORD"] == {"secretKeyRef": {"name": "llem-db-app", "key": "password"}}
                # no password in the URL: libpq reads PGPASSWORD
                assert re.fullmatch(
                    r"postgresql://[^:@/]+@[^/]+/llem\?sslmode=[a-z-]+(&sslrootcert=/etc/llem/db-ca/ca\.crt)?",
                    env["LLEM_DATABASE_URL"],
                )
            for name, value in env.items():
                if re.search(r"PASSWORD|TOKEN|SECRET", name):
                    assert isinstance(value, dict), f"{name} inline in {workload['metadata']['name']}"
            if "LLEM_NATS_NKEY_SEED" in env:
                assert env["LLEM_NATS_NKEY_SEED"].startswith("/etc/llem/nats/")


@pytest.mark.parametrize(
    ("kind", "name", "seed"),
    [
        ("Deployment", "llem-api", "api.nk"),
        ("Deployment", "llem-ingest", "ingest.nk"),
        ("Deployment", "llem-scheduler", "scheduler.nk"),
        ("Job", "llem-bootstrap", "admin.nk"),
    ],
)
def test_each_service_mounts_only_its_own_seed(
    default_manifests: list[Manifest], kind: str, name: str, seed: str
) -> None:
    workload = _one(default_manifests, kind, name)
    assert _env(workload)["LLEM_NATS_NKEY_SEED"] == f"/etc/llem/nats/{seed}"
    volume = next(v for v in _pod_spec(workload)["volumes"] if v["name"] == "nats-seed")
    assert volume["secret"]["secretName"] == "llem-nats-creds"
    assert volume["secret"]["items"] == [{"key": seed, "path": seed}]


def test_runner_is_off_by_default_and_a_gpu_statefulset_when_enabled(
    default_manifests: list[Manifest], cluster_manifests: list[Manifest]
) -> None:
    assert not [m for m in default_manifests if m["metadata"]["name"] == "llem-runner"]
    runner = _one(cluster_manifests, "StatefulSet", "llem-runner")
    assert runner["spec"]["replicas"] == 2
    container = _container(runner)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    env = _env(runner)
    assert env["LLEM_RUNNER_ID"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["LLEM_POOLS"] == '["gpu"]'
    assert env["LLEM_NATS_NKEY_SEED"] == "/etc/llem/nats/runner-$(LLEM_RUNNER_ID).nk"
    names = [e["name"] for e in container["env"]]
    assert names.index("LLEM_RUNNER_ID") < names.index("LLEM_NATS_NKEY_SEED")  # $(VAR) needs it defined first
    pod = _pod_spec(runner)
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    seeds = next(v for v in pod["volumes"] if v["name"] == "runner-seeds")
    assert seeds["secret"]["secretName"] == "llem-runner-creds"
    bootstrap = _container(_one(cluster_manifests, "Job", "llem-bootstrap"))
    assert bootstrap["args"] == ["llem-scheduler", "bootstrap", "--pool", "gpu"]


def test_pods_run_as_non_root_with_read_only_roots(cluster_manifests: list[Manifest]) -> None:
    workloads = _llem_workloads(cluster_manifests)
    assert len(workloads) == 6  # api, ingest, scheduler, runner, migrate, bootstrap
    for workload in workloads:
        assert _pod_spec(workload)["securityContext"]["runAsNonRoot"] is True
        container = _container(workload)
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        is_runner = workload["metadata"]["name"] == "llem-runner"
        assert container["securityContext"]["readOnlyRootFilesystem"] is not is_runner


def test_disruption_budgets_cover_the_services(default_manifests: list[Manifest]) -> None:
    for component in ("api", "ingest", "scheduler"):
        pdb = _one(default_manifests, "PodDisruptionBudget", f"llem-{component}")
        deployment = _one(default_manifests, "Deployment", f"llem-{component}")
        assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize(
    ("values_yaml", "complaint"),
    [
        ("api:\n  replicas: two\n", "at '/api/replicas': got string, want integer"),
        ("streamReplicas: 0\n", "at '/streamReplicas': minimum"),
        ("database:\n  sslmode: sometimes\n", "at '/database/sslmode': value must be one of"),
        ("replicas: 3\n", "additional properties 'replicas' not allowed"),
        ("nats:\n  enabled: false\n", "at '/nats/external/url': minLength"),
    ],
    ids=["wrong-type", "out-of-range", "not-in-enum", "unknown-top-level-key", "external-nats-without-url"],
)
def test_schema_refuses_invalid_values_naming_the_field(values_yaml: str, complaint: str) -> None:
    values = helm_python.values_from_yaml(values_yaml)
    report = helm_python.lint(CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert any(complaint in error for error in report["errors"]), report["errors"]
    with pytest.raises(helm_python.HelmValuesError, match=re.escape(complaint)):
        _render(values)
