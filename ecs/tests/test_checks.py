"""Tests of ecs/timing_check.py, the cfn-lint rules in ecs/cfn_rules and the scaling schedule
of ecs/service.yaml.

Each negative case takes the real file, breaks one value (an inverted timeout, a typo in an
attribute key, ...) and expects the check to fail naming the rule and the values; the real
files must pass. Run by ecs/check.sh:  python3 -m unittest discover -s ecs/tests -v
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from templates import load_template

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "ecs" / "timing_check.py"
RULES = ROOT / "ecs" / "cfn_rules"


def run_checker(*sources: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(CHECKER), "--root", str(ROOT)]
    for source in sources:
        args += ["--source", source]
    return subprocess.run(args, capture_output=True, text=True, check=False)


class Broken:
    """A copy of a repository file with one replacement, in a temporary directory."""

    def __init__(self, relative: str, old: str, new: str, count: int = 1) -> None:
        text = (ROOT / relative).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}: the test no longer matches the file"
        self.directory = tempfile.TemporaryDirectory()
        self.path = Path(self.directory.name) / Path(relative).name
        self.path.write_text(text.replace(old, new, count), encoding="utf-8")

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *_exc: object) -> None:
        self.directory.cleanup()


class TimingCheck(unittest.TestCase):
    def test_repository_passes_every_rule(self) -> None:
        result = run_checker()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("[idle-timeout]", result.stdout)
        self.assertIn("ecs/route: service.idle_timeout_secs=75, lb.idle_timeout_secs=60", result.stdout)
        self.assertRegex(result.stdout, r"timing: \d+ passed, 0 failed")

    def test_inverted_idle_timeout_in_the_template_fails(self) -> None:
        # The internal ALB keeps idle connections longer than the services do.
        old = 'Scheme: internal\n      Subnets: !Ref PrivateSubnetIds\n      SecurityGroups: [!Ref InternalAlbSecurityGroup]\n      LoadBalancerAttributes:\n        - Key: idle_timeout.timeout_seconds\n          Value: "60"'
        with Broken("ecs/cluster.yaml", old, old.replace('"60"', '"120"')) as cluster:
            result = run_checker(f"cluster_template={cluster}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL  ecs/route: service.idle_timeout_secs=75, lb.idle_timeout_secs=120", result.stdout)
        self.assertIn("FAIL  ecs/search: service.idle_timeout_secs=75", result.stdout)
        self.assertIn("ok    ecs/app: service.idle_timeout_secs=75, lb.idle_timeout_secs=60", result.stdout)

    def test_stop_timeout_shorter_than_drain_plus_shutdown_fails(self) -> None:
        with Broken("ecs/service.yaml", "StopTimeout: 45", "StopTimeout: 30") as service:
            result = run_checker(f"service_template={service}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn(
            "FAIL  ecs/api: service.drain_delay_secs=15, service.shutdown_timeout_secs=20, platform.stop_timeout_secs=30",
            result.stdout,
        )

    def test_deregistration_shorter_than_longest_request_fails(self) -> None:
        old = 'deregistration_delay.timeout_seconds\n          Value: "15"'
        with Broken("ecs/service.yaml", old, old.replace('"15"', '"5"')) as service:
            result = run_checker(f"service_template={service}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL  ecs/app: lb.deregistration_delay_secs=5, service.request_timeout_secs=10", result.stdout)

    def test_health_checks_slower_than_drain_fail(self) -> None:
        with Broken("ecs/service.yaml", "UnhealthyThresholdCount: 2", "UnhealthyThresholdCount: 5") as service:
            result = run_checker(f"service_template={service}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("[health-checks-see-the-drain]", result.stdout)
        self.assertIn("lb.unhealthy_threshold=5", result.stdout)

    def test_compose_grace_period_shorter_than_stop_budget_fails(self) -> None:
        with Broken("docker-compose.yml", "stop_grace_period: 30s", "stop_grace_period: 10s") as compose:
            result = run_checker(f"compose={compose}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn(
            "FAIL  compose/app: service.drain_delay_secs=5, service.shutdown_timeout_secs=20, platform.stop_timeout_secs=10",
            result.stdout,
        )

    def test_nginx_idle_timeout_above_service_idle_fails(self) -> None:
        old = "server api:8081 max_fails=0;\n        keepalive 64;\n        keepalive_timeout 60s;"
        with Broken("deploy/nginx/public.conf", old, old.replace("60s", "90s")) as public:
            result = run_checker(f"nginx_public={public}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL  compose/api: service.idle_timeout_secs=75, lb.idle_timeout_secs=90", result.stdout)

    def test_nginx_retrying_failed_requests_fails(self) -> None:
        with Broken("deploy/nginx/common.conf", "proxy_next_upstream off;", "proxy_next_upstream error timeout;") as common:
            result = run_checker(f"nginx_common={common}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL  compose/app: lb.retries_failed_requests=1", result.stdout)

    def test_inverted_service_defaults_fail(self) -> None:
        with Broken("shared/runtime/src/http_defaults.toml", "idle_timeout_secs = 75", "idle_timeout_secs = 50") as defaults:
            result = run_checker(f"service_defaults={defaults}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL  compose/route: service.idle_timeout_secs=50, lb.idle_timeout_secs=60", result.stdout)

    def test_app_pool_longer_than_the_internal_alb_idle_fails(self) -> None:
        # ECS: the app reaches the api through the internal ALB (idle 60 s).
        old = 'NORIKAE_APP__UPSTREAM__POOL_IDLE_TIMEOUT_SECS, Value: "50"'
        with Broken("ecs/service.yaml", old, old.replace('"50"', '"70"')) as service:
            result = run_checker(f"service_template={service}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("[client-pool-closes-first]", result.stdout)
        self.assertIn("FAIL  ecs/app: client.pool_idle_timeout_secs=70, client.server_idle_timeout_secs=60", result.stdout)
        self.assertIn("ok    compose/app: client.pool_idle_timeout_secs=50, client.server_idle_timeout_secs=75", result.stdout)

    def test_app_pool_default_above_the_api_keep_alive_fails_in_compose(self) -> None:
        # compose: the app calls the api directly (keep-alive 75 s); ECS sets its own 50 s.
        with Broken("services/app/src/lib.rs", "pool_idle_timeout_secs: 50,", "pool_idle_timeout_secs: 80,") as app:
            result = run_checker(f"app_client_defaults={app}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL  compose/app: client.pool_idle_timeout_secs=80, client.server_idle_timeout_secs=75", result.stdout)
        self.assertIn("ok    ecs/app: client.pool_idle_timeout_secs=50", result.stdout)

    def test_api_pool_longer_than_the_internal_balancers_fails(self) -> None:
        with Broken("services/api/src/config.rs", "pool_idle_timeout_secs: 30,", "pool_idle_timeout_secs: 65,") as api:
            result = run_checker(f"api_client_defaults={api}")
        self.assertEqual(result.returncode, 1, result.stdout)
        # compose: through lb-internal (nginx keepalive_timeout 60 s); ECS: the internal ALB.
        self.assertIn("FAIL  compose/api: client.pool_idle_timeout_secs=65, client.server_idle_timeout_secs=60", result.stdout)
        self.assertIn("FAIL  ecs/api: client.pool_idle_timeout_secs=65, client.server_idle_timeout_secs=60", result.stdout)

    def test_app_url_to_an_unknown_host_is_an_error(self) -> None:
        with Broken("docker-compose.yml", "NORIKAE_UPSTREAM__API_URL: http://api:8081", "NORIKAE_UPSTREAM__API_URL: http://elsewhere:8081") as compose:
            result = run_checker(f"compose={compose}")
        self.assertEqual(result.returncode, 1)
        self.assertIn("NORIKAE_UPSTREAM__API_URL='http://elsewhere:8081' is no service of", result.stderr)

    def test_internal_target_group_is_checked_on_its_own(self) -> None:
        # The api's second target group (the app's path) with a deregistration delay shorter
        # than the longest request: only ecs/api@internal fails.
        old = 'TargetGroupAttributes:\n        - Key: deregistration_delay.timeout_seconds\n          Value: "15"'
        with Broken("ecs/service.yaml", old, old.replace('"15"', '"5"')) as service:
            result = run_checker(f"service_template={service}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL  ecs/api@internal: lb.deregistration_delay_secs=5, service.request_timeout_secs=10", result.stdout)
        self.assertIn("ok    ecs/api: lb.deregistration_delay_secs=15", result.stdout)

    def test_deployment_that_cannot_start_new_tasks_fails(self) -> None:
        old = "  MaximumPercent:\n    Type: Number\n    Default: 200"
        with Broken("ecs/service.yaml", old, old.replace("200", "100")) as service:
            result = run_checker(f"service_template={service}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("[deployment-can-replace-tasks]", result.stdout)
        self.assertIn("FAIL  ecs/route: deployment.minimum_healthy_percent=100, deployment.maximum_percent=100", result.stdout)

    def test_deployment_alarms_without_rollback_fail(self) -> None:
        old = "Alarms:\n          Enable: true\n          Rollback: true"
        with Broken("ecs/service.yaml", old, old.replace("Rollback: true", "Rollback: false")) as service:
            result = run_checker(f"service_template={service}")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("FAIL  ecs/search: deployment.circuit_breaker_rollback=1, deployment.alarms_rollback=0", result.stdout)

    def test_unknown_http_setting_in_the_task_definition_is_an_error(self) -> None:
        with Broken("ecs/service.yaml", "NORIKAE_HTTP__DRAIN_DELAY_SECS", "NORIKAE_HTTP__DRAIN_DELAY") as service:
            result = run_checker(f"service_template={service}")
        self.assertEqual(result.returncode, 1)
        self.assertIn("NORIKAE_HTTP__DRAIN_DELAY sets unknown HTTP setting 'drain_delay'", result.stderr)


def cfn_lint_command() -> str:
    beside_python = Path(sys.executable).parent / "cfn-lint"
    found = str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")
    if found is None:
        raise unittest.SkipTest("cfn-lint is not installed (ecs/check.sh installs it)")
    return found


def cfn_lint(*templates: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [cfn_lint_command(), "--format", "parseable", "--append-rules", str(RULES), "--", *map(str, templates)],
        capture_output=True,
        text=True,
        check=False,
    )


# Each case: (file, old text, new text, rule id, message the rule must print). One cfn-lint run
# lints every broken copy (cfn-lint takes seconds to start).
BROKEN_TEMPLATES = {
    "misspelt_lb_attribute_key": (
        "ecs/cluster.yaml", "Key: idle_timeout.timeout_seconds", "Key: idle_timeout.timeout_secs",
        "E9101", "unknown LoadBalancerAttributes key 'idle_timeout.timeout_secs'",
    ),
    "idle_timeout_out_of_range": (
        "ecs/cluster.yaml", 'Key: idle_timeout.timeout_seconds\n          Value: "60"',
        'Key: idle_timeout.timeout_seconds\n          Value: "5000"',
        "E9101", "idle_timeout.timeout_seconds = '5000' must be from 1 to 4000",
    ),
    "bad_target_group_attribute_value": (
        "ecs/service.yaml", "Value: least_outstanding_requests", "Value: fastest",
        "E9102", "load_balancing.algorithm.type = 'fastest' must be one of",
    ),
    "stop_timeout_out_of_range": (
        "ecs/service.yaml", "StopTimeout: 45", "StopTimeout: 300",
        "E9103", "StopTimeout 300 is outside 2..120 seconds",
    ),
    # The template as it was before issue 25: every deploy reset the scaled count to MinTasks.
    "desired_count_on_an_autoscaled_service": (
        "ecs/service.yaml", "      TaskDefinition: !Ref TaskDefinition\n",
        "      TaskDefinition: !Ref TaskDefinition\n      DesiredCount: !Ref MinTasks\n",
        "E9104", "Service: DesiredCount is set while ScalableTarget auto scales this service",
    ),
    # Set in one branch is still sent with every update while that branch holds.
    "conditional_desired_count": (
        "ecs/service.yaml", "      TaskDefinition: !Ref TaskDefinition\n",
        "      TaskDefinition: !Ref TaskDefinition\n"
        "      DesiredCount: !If [UseFargate, !Ref MinTasks, !Ref AWS::NoValue]\n",
        "E9104", "Service: DesiredCount is set while ScalableTarget auto scales this service",
    ),
    # Issue 25's production invariants.
    "writable_root_file_system": (
        "ecs/service.yaml", "MemoryReservation: 64\n          ReadonlyRootFilesystem: true",
        "MemoryReservation: 64\n          ReadonlyRootFilesystem: false",
        "E9105", "TaskDefinition: container log-router must set ReadonlyRootFilesystem: true",
    ),
    "ops_task_without_read_only_root": (
        "ecs/cluster.yaml", "          StopTimeout: 30\n          ReadonlyRootFilesystem: true\n", "          StopTimeout: 30\n",
        "E9105", "OpsTaskDefinition: container ops must set ReadonlyRootFilesystem: true",
    ),
    "deployment_alarms_without_rollback": (
        "ecs/service.yaml", "Alarms:\n          Enable: true\n          Rollback: true",
        "Alarms:\n          Enable: true\n          Rollback: false",
        "E9106", "Service: DeploymentConfiguration.Alarms needs Enable: true and Rollback: true",
    ),
    "no_deployment_alarms": (
        "ecs/service.yaml",
        "        Alarms:\n          Enable: true\n          Rollback: true\n          AlarmNames:\n"
        "            - !Ref Target5xxAlarm\n            - !Ref Elb502Alarm\n            - !Ref LatencyP99Alarm\n"
        "            - !If [HasInternalListener, !Ref InternalTarget5xxAlarm, !Ref AWS::NoValue]\n",
        "",
        "E9106", "Service: DeploymentConfiguration has no Alarms",
    ),
    "database_open_to_the_app": (
        "ecs/cluster.yaml", "FromPort: 5432\n      ToPort: 5432\n      SourceSecurityGroupId: !Ref ApiSecurityGroup",
        "FromPort: 5432\n      ToPort: 5432\n      SourceSecurityGroupId: !Ref AppSecurityGroup",
        "E9107", "DatabaseSecurityGroup (security group of Database) lets in SourceSecurityGroupId 'AppSecurityGroup'",
    ),
    "database_open_to_a_cidr": (
        "ecs/cluster.yaml", "GroupDescription: norikae PostgreSQL, from the api tasks only (cfn-lint rule E9107)\n      VpcId: !Ref VpcId\n",
        "GroupDescription: norikae PostgreSQL, from the api tasks only (cfn-lint rule E9107)\n      VpcId: !Ref VpcId\n"
        "      SecurityGroupIngress:\n        - { IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: 10.0.0.0/8 }\n",
        "E9107", "DatabaseSecurityGroup (security group of Database) lets in CidrIp",
    ),
    "balancer_without_connection_logs": (
        "ecs/cluster.yaml", '- Key: connection_logs.s3.enabled\n          Value: "true"',
        '- Key: connection_logs.s3.enabled\n          Value: "false"',
        "E9108", 'PublicLoadBalancer: connection_logs.s3.enabled must be "true"',
    ),
    "rotation_without_redeploy": (
        "ecs/cluster.yaml", '"command":["redeploy","--service","api"', '"command":["instances","--service","api"',
        "E9109", "Database: its managed password rotates, but no AWS::Events::Rule on RotationSucceeded",
    ),
}

# Other ways a scalable target names its service (E9104 must see each), next to services it
# must leave alone: one that nothing scales, and a scaled one without DesiredCount.
SCALING_FORMS_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Name: { Type: String }
Resources:
  ByGetAttInJoin:
    Type: AWS::ECS::Service
    Properties: { Cluster: norikae, TaskDefinition: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/a:1", DesiredCount: 2 }
  ByGetAttInJoinTarget:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ServiceNamespace: ecs
      ScalableDimension: ecs:service:DesiredCount
      ResourceId: !Join ["/", [service, norikae, !GetAtt ByGetAttInJoin.Name]]
      MinCapacity: 2
      MaxCapacity: 20
  ByLiteralName:
    Type: AWS::ECS::Service
    Properties: { ServiceName: literal, Cluster: norikae, TaskDefinition: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/b:1", DesiredCount: 2 }
  ByLiteralNameTarget:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ServiceNamespace: ecs
      ScalableDimension: ecs:service:DesiredCount
      ResourceId: service/norikae/literal
      MinCapacity: 2
      MaxCapacity: 20
  ByParameterName:
    Type: AWS::ECS::Service
    Properties: { ServiceName: !Ref Name, Cluster: norikae, TaskDefinition: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/c:1", DesiredCount: 2 }
  ByParameterNameTarget:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ServiceNamespace: ecs
      ScalableDimension: ecs:service:DesiredCount
      ResourceId: !Sub service/norikae/${Name}
      MinCapacity: 2
      MaxCapacity: 20
  NotScaled:
    Type: AWS::ECS::Service
    Properties: { ServiceName: alone, Cluster: norikae, TaskDefinition: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/d:1", DesiredCount: 2 }
  ScaledWithoutCount:
    Type: AWS::ECS::Service
    Properties: { ServiceName: kept, Cluster: norikae, TaskDefinition: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/e:1" }
  ScaledWithoutCountTarget:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ServiceNamespace: ecs
      ScalableDimension: ecs:service:DesiredCount
      ResourceId: !Sub service/norikae/${ScaledWithoutCount.Name}
      MinCapacity: 2
      MaxCapacity: 20
"""


class CfnLintRules(unittest.TestCase):
    output: dict[str, str] = {}

    @classmethod
    def setUpClass(cls) -> None:
        cls.directory = tempfile.TemporaryDirectory()
        paths = {}
        for case, (relative, old, new, _rule, _message) in BROKEN_TEMPLATES.items():
            text = (ROOT / relative).read_text(encoding="utf-8")
            assert old in text, f"{old!r} not in {relative}: the test no longer matches the file"
            paths[case] = Path(cls.directory.name) / f"{case}.yaml"
            paths[case].write_text(text.replace(old, new, 1), encoding="utf-8")
        paths["scaling_forms"] = Path(cls.directory.name) / "scaling_forms.yaml"
        paths["scaling_forms"].write_text(SCALING_FORMS_TEMPLATE, encoding="utf-8")
        result = cfn_lint(*paths.values())
        cls.output = {
            case: "\n".join(line for line in result.stdout.splitlines() if line.startswith(str(path)))
            for case, path in paths.items()
        }

    @classmethod
    def tearDownClass(cls) -> None:
        cls.directory.cleanup()

    def test_templates_pass(self) -> None:
        # service.yaml as fixed for issue 25 (no DesiredCount) passes E9104 as well.
        result = cfn_lint(ROOT / "ecs" / "cluster.yaml", ROOT / "ecs" / "service.yaml")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def assert_rule_fires(self, case: str) -> None:
        _relative, _old, _new, rule, message = BROKEN_TEMPLATES[case]
        self.assertIn(rule, self.output[case], f"{case}: {self.output[case]!r}")
        self.assertIn(message, self.output[case])

    def test_misspelt_load_balancer_attribute_key_fails(self) -> None:
        self.assert_rule_fires("misspelt_lb_attribute_key")

    def test_idle_timeout_out_of_range_fails(self) -> None:
        self.assert_rule_fires("idle_timeout_out_of_range")

    def test_bad_target_group_attribute_value_fails(self) -> None:
        self.assert_rule_fires("bad_target_group_attribute_value")

    def test_stop_timeout_out_of_range_fails(self) -> None:
        self.assert_rule_fires("stop_timeout_out_of_range")

    def test_desired_count_on_an_autoscaled_service_fails(self) -> None:
        self.assert_rule_fires("desired_count_on_an_autoscaled_service")
        self.assertIn("Leave it out", self.output["desired_count_on_an_autoscaled_service"])

    def test_conditional_desired_count_on_an_autoscaled_service_fails(self) -> None:
        self.assert_rule_fires("conditional_desired_count")

    def test_writable_root_file_system_fails(self) -> None:
        self.assert_rule_fires("writable_root_file_system")
        self.assert_rule_fires("ops_task_without_read_only_root")

    def test_deployment_alarms_without_rollback_fail(self) -> None:
        self.assert_rule_fires("deployment_alarms_without_rollback")
        self.assert_rule_fires("no_deployment_alarms")

    def test_database_reachable_from_anything_but_the_api_fails(self) -> None:
        self.assert_rule_fires("database_open_to_the_app")
        self.assert_rule_fires("database_open_to_a_cidr")

    def test_balancer_without_connection_logs_fails(self) -> None:
        self.assert_rule_fires("balancer_without_connection_logs")

    def test_rotated_password_without_a_redeploy_fails(self) -> None:
        self.assert_rule_fires("rotation_without_redeploy")

    def test_desired_count_fails_however_the_scalable_target_names_the_service(self) -> None:
        flagged = {
            line.split(":E9104:", 1)[1].split(":", 1)[0]
            for line in self.output["scaling_forms"].splitlines()
            if ":E9104:" in line
        }
        self.assertEqual(flagged, {"ByGetAttInJoin", "ByLiteralName", "ByParameterName"}, self.output["scaling_forms"])


# The scheduled floor as the README states it: RushMinTasks on weekdays 06:30-09:30 and
# 17:00-20:30 Japan time, MinTasks otherwise (minutes of the day, end exclusive).
RUSH_WINDOWS = ((6 * 60 + 30, 9 * 60 + 30), (17 * 60, 20 * 60 + 30))
# Longest time a stack update that re-registers the scalable target may leave the rush
# floor at MinTasks before a scheduled action puts it back (the policy's ScaleInCooldown).
FLOOR_RESTORED_WITHIN_MINUTES = 5
WEEKDAY_CRON = re.compile(r"cron\((?P<minutes>\S+) (?P<hours>\S+) \? \* MON-FRI \*\)")


def cron_values(field: str, low: int, high: int) -> set[int]:
    """The values one minutes or hours field of an AWS cron expression selects (n, a-b, *, x/step, lists)."""
    values: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first, last = (int(bound) for bound in base.split("-"))
        else:
            first = int(base)
            last = high if step else first
        values.update(range(first, last + 1, int(step or 1)))
    return values


def references(value: object) -> set[str]:
    """Parameters and resource attributes a template value refers to (Ref, GetAtt, Sub)."""
    if isinstance(value, list):
        return set().union(*map(references, value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, inner in value.items():
        if key == "Ref":
            found.add(inner)
        elif key == "Fn::GetAtt":
            found.add(".".join(inner) if isinstance(inner, list) else inner)
        elif key == "Fn::Sub":
            text, variables = (inner, {}) if isinstance(inner, str) else inner
            found |= {name for name in re.findall(r"\$\{([^!}][^}]*)\}", text) if name not in variables}
            found |= references(variables)
        else:
            found |= references(inner)
    return found


class ScalingSchedule(unittest.TestCase):
    """The service template's scheduled actions keep the rush floor, even across a stack update."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.resources = load_template("service.yaml")["Resources"]
        scalable_target = cls.resources["ScalableTarget"]["Properties"]
        cls.actions = scalable_target["ScheduledActions"]
        cls.firings: list[tuple[int, str, str]] = []  # (minute of a weekday, action, MinCapacity parameter)
        for action in cls.actions:
            match = WEEKDAY_CRON.fullmatch(action["Schedule"])
            assert match, f"{action['ScheduledActionName']}: not a weekday cron: {action['Schedule']}"
            floor = action["ScalableTargetAction"]["MinCapacity"]["Ref"]
            for hour in cron_values(match["hours"], 0, 23):
                for minute in cron_values(match["minutes"], 0, 59):
                    cls.firings.append((hour * 60 + minute, action["ScheduledActionName"], floor))
        cls.firings.sort()

    def test_every_action_runs_in_japan_time_and_keeps_the_maximum(self) -> None:
        for action in self.actions:
            self.assertEqual(action["Timezone"], "Asia/Tokyo", action["ScheduledActionName"])
            self.assertEqual(action["ScalableTargetAction"]["MaxCapacity"], {"Ref": "MaxTasks"})

    def test_no_two_actions_fire_in_the_same_minute(self) -> None:
        # Two actions in one minute would run in no defined order.
        minutes = [minute for minute, _name, _floor in self.firings]
        clashes = sorted({f"{m // 60:02}:{m % 60:02}" for m in minutes if minutes.count(m) > 1})
        self.assertEqual(clashes, [])

    def test_floor_is_rush_min_tasks_exactly_in_the_rush_windows(self) -> None:
        # Before the first action of a weekday, the floor is the one the last action left.
        floor = self.firings[-1][2]
        firing_at = {minute: action_floor for minute, _name, action_floor in self.firings}
        wrong = []
        for minute in range(24 * 60):
            floor = firing_at.get(minute, floor)
            expected = "RushMinTasks" if any(start <= minute < end for start, end in RUSH_WINDOWS) else "MinTasks"
            if floor != expected:
                wrong.append(f"{minute // 60:02}:{minute % 60:02} {floor}")
        self.assertEqual(wrong[:3], [], f"{len(wrong)} minutes of a weekday with another floor than the rush windows")

    def test_an_update_during_the_rush_loses_the_floor_for_5_minutes_at_most(self) -> None:
        # A stack update that changes the scalable target registers MinCapacity: MinTasks; the
        # next action that fires puts the floor back (or the rush has ended).
        minutes = [minute for minute, _name, _floor in self.firings]
        for start, end in RUSH_WINDOWS:
            for update_at in range(start, end):
                next_firing = min(minute for minute in minutes if minute > update_at)
                self.assertLessEqual(
                    next_firing - update_at,
                    FLOOR_RESTORED_WITHIN_MINUTES,
                    f"an update at {update_at // 60:02}:{update_at % 60:02} keeps MinTasks until "
                    f"{next_firing // 60:02}:{next_firing % 60:02}",
                )

    def test_an_image_deploy_leaves_scaling_alone(self) -> None:
        # A deploy changes ImageUri: a new task definition and an update of the service, whose
        # Name stays. Nothing the scalable target or its policy reads changes, so CloudFormation
        # does not update them and the count, the limits and the current floor stay.
        for name in ("ScalableTarget", "RequestsPerTargetScaling"):
            read = references(self.resources[name]["Properties"])
            self.assertFalse(read & {"ImageUri", "TaskDefinition", "Service"}, f"{name} reads {sorted(read)}")
            self.assertFalse(
                {ref for ref in read if ref.startswith("Service.") and ref != "Service.Name"}, sorted(read)
            )
        self.assertNotIn("DesiredCount", self.resources["Service"]["Properties"])


if __name__ == "__main__":
    unittest.main()
