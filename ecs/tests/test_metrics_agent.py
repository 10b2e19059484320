"""The CloudWatch agent sidecar of ecs/service.yaml publishes what the services expose.

The agent's `metric_selectors` are regular expressions over the names in `/metrics`; one that
matches nothing publishes nothing, silently (issue 25: the selectors lacked the `norikae_`
prefix). The names are read from the source, as the runtime registers them: every
`registry.register("name", "help", <field>.clone())` in the services' and shared crates'
non-test code, the registry prefix of `service_registry`, and the field's metric type, which
decides the suffixes the text format adds (`_total` for a counter; `_bucket`, `_sum`,
`_count` for a histogram). The agent drops histograms altogether (it takes counters, gauges
and summaries only), so a selector that matches only a histogram's series fails as well.

Run by ecs/check.sh:  python3 -m unittest discover -s ecs/tests -v
"""

from __future__ import annotations

import json
import re
import unittest
from pathlib import Path

from templates import load_template

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRECTORIES = [*ROOT.glob("services/*/src"), *ROOT.glob("shared/*/src")]
SERVICE_REGISTRY_SOURCE = ROOT / "shared" / "runtime" / "src" / "metrics.rs"

# `registry.register("name", "help", metrics.field.clone())`; the help may hold anything but
# an unescaped quote.
REGISTER_CALL = re.compile(
    r'\bregistry\.register\(\s*"(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"\s*,\s*"(?:[^"\\]|\\.)*"\s*,'
    r"\s*(?:[a-z_]+\.)*(?P<field>[a-z_][a-z0-9_]*)\.clone\(\)\s*,?\s*\)",
    re.S,
)
METRIC_TYPE = re.compile(r"\b(Counter|Gauge|Histogram|AtomicHistogram)\b")
# What the prometheus-client text encoder appends per type, and whether the agent keeps it.
SUFFIXES = {"Counter": ["_total"], "Gauge": [""], "Histogram": ["_bucket", "_sum", "_count"]}
DROPPED_BY_THE_AGENT = {"Histogram"}

# The selectors as they were before issue 25's fix: without the registry prefix.
UNPREFIXED_SELECTORS = [
    "^http_requests_total$",
    "^http_request_duration_seconds_(sum|count)$",
    "^http_requests_in_flight$",
    "^http_requests_shed_total$",
    "^http_requests_timed_out_total$",
]


def without_test_modules(text: str) -> str:
    """The source before its `#[cfg(test)]` module (by convention the last item of a file)."""
    return text.split("#[cfg(test)]", 1)[0]


def registry_prefix() -> str:
    text = SERVICE_REGISTRY_SOURCE.read_text(encoding="utf-8")
    prefixes = re.findall(r'Registry::with_prefix(?:_and_labels)?\(\s*"([a-z_]+)"', without_test_modules(text))
    assert len(prefixes) == 1, f"{SERVICE_REGISTRY_SOURCE}: expected one registry prefix, found {prefixes}"
    return prefixes[0]


def registered_metrics() -> dict[str, tuple[str, str]]:
    """Registered name -> (metric type, file), from every non-test `registry.register(` call."""
    found: dict[str, tuple[str, str]] = {}
    for directory in SOURCE_DIRECTORIES:
        for path in sorted(directory.rglob("*.rs")):
            text = without_test_modules(path.read_text(encoding="utf-8"))
            relative = str(path.relative_to(ROOT))
            assert "sub_registry" not in text, f"{relative}: a sub-registry adds a prefix this test does not know"
            calls = list(REGISTER_CALL.finditer(text))
            # A call written in another form would otherwise be skipped without a word.
            assert len(calls) == text.count("registry.register("), f"{relative}: a register call this test cannot read"
            for call in calls:
                declaration = re.search(rf"\b{call['field']}\s*:\s*([^;=\n]+)", text)
                assert declaration, f"{relative}: no field {call['field']} for metric {call['name']}"
                types = METRIC_TYPE.findall(declaration[1])
                assert types, f"{relative}: {call['name']}: unknown metric type {declaration[1].strip()}"
                metric_type = "Histogram" if types[-1] == "AtomicHistogram" else types[-1]
                found[call["name"]] = (metric_type, relative)
    return found


def exposed_names(prefix: str, metrics: dict[str, tuple[str, str]], *, published_only: bool) -> set[str]:
    return {
        f"{prefix}_{name}{suffix}"
        for name, (metric_type, _file) in metrics.items()
        if not (published_only and metric_type in DROPPED_BY_THE_AGENT)
        for suffix in SUFFIXES[metric_type]
    }


def unmatched(selectors: list[str], names: set[str]) -> list[str]:
    return [selector for selector in selectors if not any(re.search(selector, name) for name in names)]


def metrics_agent_environment() -> tuple[dict, list[str]]:
    """The agent's environment in service.yaml, and the allowed ServiceName values."""
    template = load_template("service.yaml")
    containers = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    agent = next(container for container in containers if container["Name"] == "metrics-agent")
    environment = {variable["Name"]: variable["Value"] for variable in agent["Environment"]}
    return environment, template["Parameters"]["ServiceName"]["AllowedValues"]


def substituted(value: object, variables: dict[str, str]) -> str:
    """The text of a `!Sub` with `${Name}` replaced from `variables` (others by `x`)."""
    inner = value["Fn::Sub"] if isinstance(value, dict) else value
    text = inner[0] if isinstance(inner, list) else inner
    return re.sub(r"\$\{([^!}][^}]*)\}", lambda match: variables.get(match[1], "x"), text)


class MetricsAgentSelectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.prefix = registry_prefix()
        cls.metrics = registered_metrics()
        cls.environment, cls.service_names = metrics_agent_environment()
        agent_config = json.loads(substituted(cls.environment["CW_CONFIG_CONTENT"], {}))
        prometheus = agent_config["logs"]["metrics_collected"]["prometheus"]
        cls.declarations = prometheus["emf_processor"]["metric_declaration"]

    def test_the_source_is_read(self) -> None:
        # The parse must see the runtime's HTTP metrics, else every check below is vacuous.
        self.assertEqual(self.prefix, "norikae")
        self.assertEqual(self.metrics["http_requests"][0], "Counter")
        self.assertEqual(self.metrics["http_requests_in_flight"][0], "Gauge")
        self.assertEqual(self.metrics["http_request_duration_seconds"][0], "Histogram")
        names = exposed_names(self.prefix, self.metrics, published_only=False)
        # As shared/runtime/tests/server.rs reads them from a real /metrics.
        self.assertLessEqual(
            {"norikae_http_requests_total", "norikae_http_request_duration_seconds_bucket", "norikae_service_ready"},
            names,
        )

    def test_every_selector_matches_a_metric_the_agent_publishes(self) -> None:
        published = exposed_names(self.prefix, self.metrics, published_only=True)
        for declaration in self.declarations:
            selectors = declaration["metric_selectors"]
            self.assertTrue(selectors)
            self.assertEqual(unmatched(selectors, published), [], f"published names: {sorted(published)}")

    def test_every_service_job_is_matched_by_a_declaration(self) -> None:
        # The declaration applies to samples whose `job` label matches; the job is named per
        # service in the Prometheus config.
        for service in self.service_names:
            prometheus_config = substituted(self.environment["PROMETHEUS_CONFIG_CONTENT"], {"ServiceName": service})
            jobs = re.findall(r"job_name:\s*(\S+)", prometheus_config)
            self.assertEqual(len(jobs), 1, prometheus_config)
            declarations = json.loads(
                substituted(self.environment["CW_CONFIG_CONTENT"], {"ServiceName": service})
            )["logs"]["metrics_collected"]["prometheus"]["emf_processor"]["metric_declaration"]
            matching = [
                declaration
                for declaration in declarations
                if declaration["source_labels"] == ["job"] and re.search(declaration["label_matcher"], jobs[0])
            ]
            self.assertTrue(matching, f"{service}: no metric_declaration matches job {jobs[0]}")

    def test_unprefixed_or_histogram_selectors_fail(self) -> None:
        published = exposed_names(self.prefix, self.metrics, published_only=True)
        self.assertEqual(unmatched(UNPREFIXED_SELECTORS, published), UNPREFIXED_SELECTORS)
        # The right name, but a histogram: the agent drops it.
        histogram = [f"^{self.prefix}_http_request_duration_seconds_(sum|count)$"]
        self.assertEqual(unmatched(histogram, published), histogram)


if __name__ == "__main__":
    unittest.main()
