#!/usr/bin/env python3
"""Checks Norikae's timing rules (ecs/timing-rules.yaml) against the services' defaults,
docker-compose.yml with its nginx balancer stand-ins, and the CloudFormation templates: the
services' keep-alive, drain and stop timings against their balancers, the callers' connection
pools (app -> api, api -> search/route) against what they connect to, and the ECS deployment
settings.

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
from urllib.parse import urlsplit
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


def pool_default(path: Path) -> int:
    """A caller's default pool idle timeout: the one `pool_idle_timeout_secs: N,` of its
    settings' `Default` in the Rust source (the value the service uses when nothing overrides it)."""
    text = path.read_text(encoding="utf-8")
    found = re.findall(r"^\s*pool_idle_timeout_secs:\s*(\d+)\s*,", text, re.M)
    if len(found) != 1:
        raise CheckError(f"{path}: expected one `pool_idle_timeout_secs: <n>,` default, found {len(found)}")
    return int(found[0])


def pool_idle(default: int, service: str, env: dict[str, Any], where: str) -> int:
    """The pool idle timeout after NORIKAE_UPSTREAM__POOL_IDLE_TIMEOUT_SECS, then
    NORIKAE_<SERVICE>__UPSTREAM__POOL_IDLE_TIMEOUT_SECS."""
    value = default
    for name in ("NORIKAE_UPSTREAM__POOL_IDLE_TIMEOUT_SECS", f"NORIKAE_{service.upper()}__UPSTREAM__POOL_IDLE_TIMEOUT_SECS"):
        if name in env:
            value = number(env[name], f"{where} {name}")
    return value


def upstream_url_names(calls: list[str]) -> list[str]:
    return [f"NORIKAE_UPSTREAM__{called.upper()}_URL" for called in calls]


def nginx_client_idle(conf: Path) -> int:
    """The client-side idle timeout of an nginx stand-in: `keepalive_timeout` in `http` (or a
    `server`), not an upstream's; nginx's default is 75 s."""
    idle = []
    for directive in nginx_directives(conf, single=True):
        if directive["directive"] != "http":
            continue
        for inner in directive.get("block", []):
            if inner["directive"] == "keepalive_timeout":
                idle.append(parse_duration(inner["args"][0], f"{conf}:{inner['line']}"))
            if inner["directive"] == "server":
                idle += [
                    parse_duration(d["args"][0], f"{conf}:{d['line']}")
                    for d in inner.get("block", [])
                    if d["directive"] == "keepalive_timeout"
                ]
    return min(idle) if idle else 75


def compose_env(spec: dict) -> dict:
    env = spec.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env if "=" in item)
    return env


def compose_client(
    sources: dict[str, Path], rules_file: dict, compose: dict, path: Path, service: str, env: dict, settings_of: dict
) -> tuple[dict, str] | None:
    """The `client` values of a caller in compose: its pool idle timeout and the idle timeout
    of what its upstream URLs point at (a compose service: its keep-alive; an nginx stand-in:
    its client-side keepalive_timeout)."""
    client = (rules_file.get("clients") or {}).get(service)
    if client is None:
        return None
    where = f"{path}: services.{service}.environment"
    pool = pool_idle(pool_default(sources[client["defaults"]]), service, env, where)
    balancers = rules_file.get("compose_balancers") or {}
    server_idle = []
    origins = []
    for name in upstream_url_names(client["calls"]):
        url = env.get(name)
        if not isinstance(url, str):
            raise CheckError(f"{where}: {name} is not set (the checker needs to know where {service} connects)")
        host = urlsplit(url).hostname or ""
        if host in balancers:
            server_idle.append(nginx_client_idle(sources[balancers[host]]))
            origins.append(f"{name} -> {host} ({sources[balancers[host]]} keepalive_timeout)")
        elif host in settings_of:
            server_idle.append(settings_of[host]["idle_timeout_secs"])
            origins.append(f"{name} -> {host} (its idle_timeout_secs)")
        elif host in (compose.get("services") or {}):
            raise CheckError(f"{where}: {name} points at {host!r}, which the timing rules do not describe")
        else:
            raise CheckError(f"{where}: {name}={url!r} is no service of {path}")
    return (
        {"pool_idle_timeout_secs": pool, "server_idle_timeout_secs": min(server_idle)},
        f"{sources[client['defaults']]} + {where}; " + ", ".join(origins),
    )


def compose_targets(sources: dict[str, Path], rules_file: dict, defaults: dict) -> list[Target]:
    services: dict[str, str] = rules_file["services"]
    path = sources["compose"]
    with path.open(encoding="utf-8") as handle:
        compose = yaml.safe_load(handle)
    specs = {}
    settings_of = {}
    for service in services:
        spec = (compose.get("services") or {}).get(service)
        if spec is None:
            raise CheckError(f"{path}: no service {service!r}")
        specs[service] = spec
        settings_of[service] = apply_env(defaults, service, compose_env(spec), f"{path}: services.{service}.environment")
    targets = []
    for service, balancer in services.items():
        spec = specs[service]
        settings = settings_of[service]
        # docker's default stop grace period is 10 s.
        stop = parse_duration(spec.get("stop_grace_period", "10s"), f"{path}: services.{service}.stop_grace_period")
        lb, lb_origin = nginx_balancer(sources[f"nginx_{balancer}"], sources["nginx_common"], service)
        values = {"service": settings, "lb": lb, "platform": {"stop_timeout_secs": stop}}
        origin = {"service": f"{sources['service_defaults']} + {path} services.{service}.environment",
                  "lb": lb_origin, "platform": f"{path} services.{service}.stop_grace_period"}
        client = compose_client(sources, rules_file, compose, path, service, compose_env(spec), settings_of)
        if client is not None:
            values["client"], origin["client"] = client
        targets.append(Target("compose", service, values, origin))
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


def number(value: Any, where: str, parameters: dict | None = None) -> int:
    """An integer from a literal, or from the Default of a parameter the value `Ref`s."""
    if isinstance(value, dict) and set(value) == {"Ref"} and parameters is not None:
        parameter = parameters.get(value["Ref"])
        if not isinstance(parameter, dict) or "Default" not in parameter:
            raise CheckError(f"{where}: !Ref {value['Ref']} is not a parameter with a Default")
        where = f"{where} (Default of parameter {value['Ref']})"
        value = parameter["Default"]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise CheckError(f"{where}: {value!r} is not a literal number (the checker needs literals)")
    try:
        return int(value)
    except ValueError as error:
        raise CheckError(f"{where}: {value!r} is not a number") from error


def task_environment(container: dict) -> dict[str, Any]:
    """A container's Environment as name -> value: plain entries, and the entries of a
    Fn::If's first branch (a value set under a condition must pass the rules too; when the
    condition is false the default applies, which the rules see elsewhere)."""
    env = {}
    for entry in container.get("Environment") or []:
        if isinstance(entry, dict) and "Fn::If" in entry:
            branches = entry["Fn::If"]
            entry = branches[1] if isinstance(branches, list) and len(branches) == 3 else None
        if isinstance(entry, dict) and isinstance(entry.get("Name"), str) and "Value" in entry:
            env[entry["Name"]] = entry["Value"]
    return env


def target_group_values(tg: dict, where_tg: str, idle: int) -> dict:
    if tg.get("HealthCheckPath") != "/health/ready":
        raise CheckError(f"{where_tg}.HealthCheckPath is {tg.get('HealthCheckPath')!r}, not /health/ready")
    tg_attrs = attributes(tg, "TargetGroupAttributes")
    return {
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


def flag(value: Any) -> int:
    """1 for a literal true ("true", True), 0 for anything else."""
    return 1 if value is True or (isinstance(value, str) and value.lower() == "true") else 0


def deployment_values(ecs_service: dict, where: str, parameters: dict) -> dict:
    """The ECS service's deployment settings (ECS defaults where absent: 100 %/200 %)."""
    configuration = ecs_service.get("DeploymentConfiguration") or {}
    breaker = configuration.get("DeploymentCircuitBreaker") or {}
    alarms = configuration.get("Alarms") or {}
    names = alarms.get("AlarmNames") or []
    return {
        "minimum_healthy_percent": number(configuration.get("MinimumHealthyPercent", 100), f"{where}.MinimumHealthyPercent", parameters),
        "maximum_percent": number(configuration.get("MaximumPercent", 200), f"{where}.MaximumPercent", parameters),
        "circuit_breaker_rollback": flag(breaker.get("Enable")) * flag(breaker.get("Rollback")),
        "alarms_rollback": flag(alarms.get("Enable")) * flag(alarms.get("Rollback")),
        # Alarms named unconditionally (a Fn::If may leave its entry out).
        "alarm_count": len([n for n in names if not (isinstance(n, dict) and "Fn::If" in n)]) if isinstance(names, list) else 0,
    }


def ecs_targets(sources: dict[str, Path], rules_file: dict, defaults: dict) -> list[Target]:
    services: dict[str, str] = rules_file["services"]
    cluster_path, service_path = sources["cluster_template"], sources["service_template"]
    cluster, template = load_cfn(cluster_path), load_cfn(service_path)
    parameters = template.get("Parameters") or {}
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
    env = task_environment(container)
    target_groups = resources_of(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    internal_tgs = [(n, p) for n, p in target_groups if template["Resources"][n].get("Condition") == "HasInternalListener"]
    main_tgs = [(n, p) for n, p in target_groups if template["Resources"][n].get("Condition") != "HasInternalListener"]
    if len(main_tgs) != 1 or len(internal_tgs) > 1:
        raise CheckError(f"{service_path}: expected one target group and at most one with Condition HasInternalListener")
    service_name, ecs_service = one_resource(template, "AWS::ECS::Service", service_path)
    deployment = deployment_values(ecs_service, f"{service_path}: {service_name}.DeploymentConfiguration", parameters)
    clients = rules_file.get("clients") or {}
    targets = []
    for service, balancer in services.items():
        settings = apply_env(defaults, service, env, f"{where_container}.Environment")
        platform = {
            "stop_timeout_secs": stop,
            "health_check_grace_secs": number(ecs_service.get("HealthCheckGracePeriodSeconds", 0), f"{service_path}: Service.HealthCheckGracePeriodSeconds"),
        }
        client_values = None
        if service in clients:
            client = clients[service]
            via = client["ecs_via"]
            pool = pool_idle(pool_default(sources[client["defaults"]]), service, env, f"{where_container}.Environment")
            client_values = (
                {"pool_idle_timeout_secs": pool, "server_idle_timeout_secs": idle_by_balancer[via]},
                f"{sources[client['defaults']]} + {where_container}.Environment; {cluster_path} ({via} ALB)",
            )
        # The service behind its balancer, and (rules file `internal_listener`) behind the
        # internal ALB's listener as well, with that target group's values.
        placements = [(service, balancer, main_tgs[0])]
        if service in (rules_file.get("internal_listener") or []):
            if not internal_tgs:
                raise CheckError(f"{service_path}: {service} has an internal listener but no HasInternalListener target group")
            placements.append((f"{service}@internal", "internal", internal_tgs[0]))
        for shown, placed_on, (tg_name, tg) in placements:
            values = {
                "service": settings,
                "lb": target_group_values(tg, f"{service_path}: {tg_name}", idle_by_balancer[placed_on]),
                "platform": platform,
                "deployment": deployment,
            }
            origin = {"service": f"{sources['service_defaults']} + {where_container}.Environment",
                      "lb": f"{cluster_path} ({placed_on} ALB) + {service_path}: {tg_name}",
                      "platform": f"{where_container}.StopTimeout + {service_path}: Service",
                      "deployment": f"{service_path}: {service_name}.DeploymentConfiguration"}
            if client_values is not None:
                values["client"], origin["client"] = client_values
            targets.append(Target("ecs", shown, values, origin))
    return targets


# --------------------------------------------------------------------------------------------
# Evaluating the rules

ALLOWED_NODES = (
    ast.Expression, ast.Compare, ast.BinOp, ast.BoolOp, ast.Attribute, ast.Name, ast.Constant, ast.Load,
    ast.Add, ast.Sub, ast.Mult, ast.And, ast.Or, ast.Gt, ast.GtE, ast.Lt, ast.LtE, ast.Eq, ast.NotEq,
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
        targets = compose_targets(sources, rules_file, defaults) + ecs_targets(sources, rules_file, defaults)
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
        only = rule.get("services")
        print(f"\n[{rule['id']}] {rule['check']}")
        for target in targets:
            if target.environment not in environments:
                continue
            if only is not None and target.service.split("@", 1)[0] not in only:
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
