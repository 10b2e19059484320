#!/usr/bin/env python3
"""Checks Norikae's timing rules (ecs/timing-rules.yaml) against the services' defaults,
docker-compose.yml with its nginx balancer stand-ins, and the CloudFormation templates.

Prints every rule for every (environment, service) with the values checked; exits 1 when a
rule is violated or a value cannot be read, 0 otherwise.

    python3 ecs/timing_check.py [--root DIR] [--source NAME=PATH ...]

`--source` replaces one file named in the rules file's `sources` (tests use it to feed a
template with an inverted timeout).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import crossplane
import yaml

HTTP_PREFIX = "NORIKAE_HTTP__"


class CheckError(Exception):
    """A value the checker needs is missing or unreadable (names file and field)."""


# --------------------------------------------------------------------------------------------
# Reading the files


class CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags as their long-form dicts."""


def _cfn_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_cfn(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)
    if not isinstance(document, dict) or "Resources" not in document:
        raise CheckError(f"{path}: not a CloudFormation template (no Resources)")
    return document


def parse_duration(text: str, where: str) -> int:
    """Seconds from a compose duration ('30s', '1m30s') or an nginx time ('60s', '1m', '60')."""
    text = str(text).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    parts = re.findall(r"(\d+)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise CheckError(f"{where}: cannot read duration {text!r}")
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return int(sum(int(n) * scale[u] for n, u in parts))


def apply_env(settings: dict, service: str, env: dict[str, Any], where: str) -> dict:
    """Overrides HTTP settings with NORIKAE_HTTP__KEY, then NORIKAE_<SERVICE>__HTTP__KEY."""
    merged = dict(settings)
    specific = f"NORIKAE_{service.upper()}__HTTP__"
    for prefix in (HTTP_PREFIX, specific):
        for name, value in env.items():
            if not name.startswith(prefix) or not isinstance(value, (str, int)):
                continue
            key = name[len(prefix) :].lower()
            if key not in merged:
                raise CheckError(f"{where}: {name} sets unknown HTTP setting {key!r}")
            try:
                merged[key] = int(value)
            except ValueError as error:
                raise CheckError(f"{where}: {name}={value!r} is not a number") from error
    return merged


@dataclass
class Target:
    """One (environment, service) with the values the rules see."""

    environment: str
    service: str
    values: dict[str, dict[str, Any]]
    origin: dict[str, str] = field(default_factory=dict)


def nginx_directives(path: Path, single: bool) -> list[dict]:
    parsed = crossplane.parse(str(path), single=single, check_ctx=single)
    if parsed["errors"]:
        raise CheckError("; ".join(f"{e['file']}:{e.get('line')}: {e['error']}" for e in parsed["errors"]))
    return parsed["config"][0]["parsed"]


def walk(directives: list[dict]):
    for directive in directives:
        yield directive
        yield from walk(directive.get("block", []))


def nginx_balancer(conf: Path, common: Path, service: str) -> tuple[dict, str]:
    """Timing facts of the nginx stand-in for `service` (its `upstream <service>` block)."""
    top = nginx_directives(conf, single=True)
    common_directives = nginx_directives(common, single=False)
    upstream = next(
        (d for d in walk(top) if d["directive"] == "upstream" and d["args"] == [service]), None
    )
    if upstream is None:
        raise CheckError(f"{conf}: no `upstream {service}` block")
    upstream_idle = [d for d in upstream.get("block", []) if d["directive"] == "keepalive_timeout"]
    # nginx's default for upstream keepalive_timeout is 60s.
    idle = parse_duration(upstream_idle[-1]["args"][0], f"{conf}:{upstream_idle[-1]['line']}") if upstream_idle else 60
    everything = list(walk(top)) + list(walk(common_directives))
    reads = [d for d in everything if d["directive"] == "proxy_read_timeout"]
    read = min(parse_duration(d["args"][0], f"proxy_read_timeout line {d['line']}") for d in reads) if reads else 60
    next_upstream = [d for d in everything if d["directive"] == "proxy_next_upstream"]
    retries = 0 if next_upstream and all(d["args"] == ["off"] for d in next_upstream) else 1
    return (
        {"idle_timeout_secs": idle, "read_timeout_secs": read, "retries_failed_requests": retries},
        f"{conf} (upstream {service}) + {common}",
    )


def compose_targets(sources: dict[str, Path], services: dict[str, str], defaults: dict) -> list[Target]:
    path = sources["compose"]
    with path.open(encoding="utf-8") as handle:
        compose = yaml.safe_load(handle)
    targets = []
    for service, balancer in services.items():
        spec = (compose.get("services") or {}).get(service)
        if spec is None:
            raise CheckError(f"{path}: no service {service!r}")
        env = spec.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env if "=" in item)
        settings = apply_env(defaults, service, env, f"{path}: services.{service}.environment")
        # docker's default stop grace period is 10 s.
        stop = parse_duration(spec.get("stop_grace_period", "10s"), f"{path}: services.{service}.stop_grace_period")
        lb, lb_origin = nginx_balancer(sources[f"nginx_{balancer}"], sources["nginx_common"], service)
        targets.append(
            Target(
                "compose",
                service,
                {"service": settings, "lb": lb, "platform": {"stop_timeout_secs": stop}},
                {"service": f"{sources['service_defaults']} + {path} services.{service}.environment",
                 "lb": lb_origin, "platform": f"{path} services.{service}.stop_grace_period"},
            )
        )
    return targets


def resources_of(template: dict, kind: str) -> list[tuple[str, dict]]:
    return [
        (name, resource.get("Properties") or {})
        for name, resource in template["Resources"].items()
        if resource.get("Type") == kind
    ]


def one_resource(template: dict, kind: str, path: Path, where: dict | None = None) -> tuple[str, dict]:
    found = [
        (name, props)
        for name, props in resources_of(template, kind)
        if all(props.get(k) == v for k, v in (where or {}).items())
    ]
    if len(found) != 1:
        raise CheckError(f"{path}: expected one {kind} {where or ''}, found {len(found)}")
    return found[0]


def attributes(props: dict, key: str) -> dict[str, Any]:
    return {a.get("Key"): a.get("Value") for a in props.get(key) or [] if isinstance(a, dict)}


def number(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise CheckError(f"{where}: {value!r} is not a literal number (the checker needs literals)")
    try:
        return int(value)
    except ValueError as error:
        raise CheckError(f"{where}: {value!r} is not a number") from error


def ecs_targets(sources: dict[str, Path], services: dict[str, str], defaults: dict) -> list[Target]:
    cluster_path, service_path = sources["cluster_template"], sources["service_template"]
    cluster, template = load_cfn(cluster_path), load_cfn(service_path)
    idle_by_balancer = {}
    for balancer, scheme in (("public", "internet-facing"), ("internal", "internal")):
        name, props = one_resource(cluster, "AWS::ElasticLoadBalancingV2::LoadBalancer", cluster_path, {"Scheme": scheme})
        attrs = attributes(props, "LoadBalancerAttributes")
        # The ALB default idle timeout is 60 s.
        idle_by_balancer[balancer] = number(
            attrs.get("idle_timeout.timeout_seconds", 60),
            f"{cluster_path}: {name}.LoadBalancerAttributes idle_timeout.timeout_seconds",
        )
    task_name, task = one_resource(template, "AWS::ECS::TaskDefinition", service_path)
    containers = task.get("ContainerDefinitions") or []
    container = next((c for c in containers if c.get("Name") == {"Ref": "ServiceName"}), None)
    if container is None:
        raise CheckError(f"{service_path}: {task_name} has no container named !Ref ServiceName")
    where_container = f"{service_path}: {task_name}.ContainerDefinitions[{containers.index(container)}]"
    # Without StopTimeout ECS uses 30 s (Fargate) or the agent's ECS_CONTAINER_STOP_TIMEOUT.
    stop = number(container.get("StopTimeout", 30), f"{where_container}.StopTimeout")
    env = {
        e["Name"]: e["Value"]
        for e in container.get("Environment") or []
        if isinstance(e, dict) and isinstance(e.get("Name"), str) and "Value" in e
    }
    tg_name, tg = one_resource(template, "AWS::ElasticLoadBalancingV2::TargetGroup", service_path)
    tg_attrs = attributes(tg, "TargetGroupAttributes")
    where_tg = f"{service_path}: {tg_name}"
    if tg.get("HealthCheckPath") != "/health/ready":
        raise CheckError(f"{where_tg}.HealthCheckPath is {tg.get('HealthCheckPath')!r}, not /health/ready")
    _, ecs_service = one_resource(template, "AWS::ECS::Service", service_path)
    targets = []
    for service, balancer in services.items():
        settings = apply_env(defaults, service, env, f"{where_container}.Environment")
        idle = idle_by_balancer[balancer]
        lb = {
            "idle_timeout_secs": idle,
            # An ALB has no separate read timeout: the idle timeout bounds a silent target.
            "read_timeout_secs": idle,
            # ALB defaults: deregistration 300 s, interval 30 s, timeout 5 s, thresholds 5/2.
            "deregistration_delay_secs": number(tg_attrs.get("deregistration_delay.timeout_seconds", 300), f"{where_tg} deregistration_delay.timeout_seconds"),
            "health_check_interval_secs": number(tg.get("HealthCheckIntervalSeconds", 30), f"{where_tg}.HealthCheckIntervalSeconds"),
            "health_check_timeout_secs": number(tg.get("HealthCheckTimeoutSeconds", 5), f"{where_tg}.HealthCheckTimeoutSeconds"),
            "healthy_threshold": number(tg.get("HealthyThresholdCount", 5), f"{where_tg}.HealthyThresholdCount"),
            "unhealthy_threshold": number(tg.get("UnhealthyThresholdCount", 2), f"{where_tg}.UnhealthyThresholdCount"),
        }
        platform = {
            "stop_timeout_secs": stop,
            "health_check_grace_secs": number(ecs_service.get("HealthCheckGracePeriodSeconds", 0), f"{service_path}: Service.HealthCheckGracePeriodSeconds"),
        }
        targets.append(
            Target(
                "ecs",
                service,
                {"service": settings, "lb": lb, "platform": platform},
                {"service": f"{sources['service_defaults']} + {where_container}.Environment",
                 "lb": f"{cluster_path} ({balancer} ALB) + {where_tg}",
                 "platform": f"{where_container}.StopTimeout + {service_path}: Service"},
            )
        )
    return targets


# --------------------------------------------------------------------------------------------
# Evaluating the rules

ALLOWED_NODES = (
    ast.Expression, ast.Compare, ast.BinOp, ast.Attribute, ast.Name, ast.Constant, ast.Load,
    ast.Add, ast.Sub, ast.Mult, ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq,
)


def compile_check(rule_id: str, expression: str) -> ast.Expression:
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            raise CheckError(f"rule {rule_id}: {type(node).__name__} not allowed in {expression!r}")
    return tree


def referenced(tree: ast.AST) -> list[str]:
    names = []
    nodes = sorted(ast.walk(tree), key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    for node in nodes:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            if name not in names:
                names.append(name)
    return names


def evaluate(rule: dict, tree: ast.Expression, target: Target) -> tuple[bool, str]:
    shown = []
    for name in referenced(tree):
        group, key = name.split(".", 1)
        if key not in target.values.get(group, {}):
            raise CheckError(
                f"rule {rule['id']}: {name} is not known for {target.environment}/{target.service}"
            )
        shown.append(f"{name}={target.values[group][key]}")
    namespace = {group: SimpleNamespace(**values) for group, values in target.values.items()}
    result = eval(compile(tree, rule["id"], "eval"), {"__builtins__": {}}, namespace)  # noqa: S307
    return bool(result), ", ".join(shown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(os.path.relpath(Path(__file__).resolve().parent.parent)))
    parser.add_argument("--rules", type=Path, default=None, help="default: ROOT/ecs/timing-rules.yaml")
    parser.add_argument("--source", action="append", default=[], metavar="NAME=PATH")
    args = parser.parse_args(argv)
    rules_path = args.rules or args.root / "ecs" / "timing-rules.yaml"
    try:
        with rules_path.open(encoding="utf-8") as handle:
            rules_file = yaml.safe_load(handle)
        sources = {name: args.root / path for name, path in rules_file["sources"].items()}
        for override in args.source:
            name, _, path = override.partition("=")
            if name not in sources or not path:
                raise CheckError(f"--source {override!r}: expected one of {sorted(sources)}=PATH")
            sources[name] = Path(path)
        with sources["service_defaults"].open("rb") as handle:
            defaults = tomllib.load(handle)
        services = rules_file["services"]
        targets = compose_targets(sources, services, defaults) + ecs_targets(sources, services, defaults)
        rules = [(rule, compile_check(rule["id"], rule["check"])) for rule in rules_file["rules"]]
    except (CheckError, OSError, KeyError, yaml.YAMLError, tomllib.TOMLDecodeError) as error:
        print(f"timing check: cannot read the inputs: {error}", file=sys.stderr)
        return 1

    print(f"timing rules: {rules_path}")
    for target in targets:
        print(f"  {target.environment}/{target.service}: " + "; ".join(f"{k} from {v}" for k, v in target.origin.items()))
    failures = 0
    passed = 0
    for rule, tree in rules:
        environments = rule.get("environments") or ["compose", "ecs"]
        print(f"\n[{rule['id']}] {rule['check']}")
        for target in targets:
            if target.environment not in environments:
                continue
            try:
                ok, shown = evaluate(rule, tree, target)
            except CheckError as error:
                print(f"  FAIL  {target.environment}/{target.service}: {error}")
                failures += 1
                continue
            if ok:
                passed += 1
            else:
                failures += 1
            print(f"  {'ok  ' if ok else 'FAIL'}  {target.environment}/{target.service}: {shown}")
            if not ok:
                print(f"        why: {' '.join(rule.get('why', '').split())}")
    print(f"\ntiming: {passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
