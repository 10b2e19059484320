"""cfn-lint rules for what cfn-lint does not check itself: the keys and values of load-balancer
and target-group attributes (free-form Key/Value lists to CloudFormation, so a typo such as
`idle_timeout.timout_seconds` or a value out of range only fails at deploy time), the
range of a container's stopTimeout, no DesiredCount on an ECS service that Application
Auto Scaling scales (valid to CloudFormation, but every stack update resets the scaled count),
and the production invariants of issue 25: read-only root file systems (E9105), deployment
alarms and circuit breaker with rollback (E9106), a database reachable from the api's security
group only (E9107), ALB access and connection logs (E9108), a database whose managed
password rotates redeploys its clients after each rotation (E9109).

Loaded with `cfn-lint --append-rules ecs/cfn_rules ...` (see ecs/check.sh).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from cfnlint.rules import CloudFormationLintRule, RuleMatch

Validator = Callable[[str], str | None]


def boolean(value: str) -> str | None:
    return None if value in ("true", "false") else "must be \"true\" or \"false\""


def integer(low: int, high: int) -> Validator:
    def check(value: str) -> str | None:
        try:
            number = int(value)
        except ValueError:
            return f"must be an integer from {low} to {high}"
        return None if low <= number <= high else f"must be from {low} to {high}"

    return check


def one_of(*choices: str) -> Validator:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def anything(_value: str) -> str | None:
    return None


def slow_start(value: str) -> str | None:
    try:
        number = int(value)
    except ValueError:
        return "must be 0 or from 30 to 900"
    return None if number == 0 or 30 <= number <= 900 else "must be 0 or from 30 to 900"


# Application Load Balancer attributes (Elastic Load Balancing API reference, LoadBalancerAttribute).
ALB_ATTRIBUTES: dict[str, Validator] = {
    "access_logs.s3.enabled": boolean,
    "access_logs.s3.bucket": anything,
    "access_logs.s3.prefix": anything,
    "connection_logs.s3.enabled": boolean,
    "connection_logs.s3.bucket": anything,
    "connection_logs.s3.prefix": anything,
    "health_check_logs.s3.enabled": boolean,
    "health_check_logs.s3.bucket": anything,
    "health_check_logs.s3.prefix": anything,
    "client_keep_alive.seconds": integer(60, 604800),
    "deletion_protection.enabled": boolean,
    "idle_timeout.timeout_seconds": integer(1, 4000),
    "load_balancing.cross_zone.enabled": boolean,
    "routing.http.desync_mitigation_mode": one_of("monitor", "defensive", "strictest"),
    "routing.http.drop_invalid_header_fields.enabled": boolean,
    "routing.http.preserve_host_header.enabled": boolean,
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": boolean,
    "routing.http.xff_client_port.enabled": boolean,
    "routing.http.xff_header_processing.mode": one_of("append", "preserve", "remove"),
    "routing.http2.enabled": boolean,
    "waf.fail_open.enabled": boolean,
    "zonal_shift.config.enabled": boolean,
}

# Network and gateway load balancers take a different set; only the common ones are listed.
NLB_ATTRIBUTES: dict[str, Validator] = {
    "access_logs.s3.enabled": boolean,
    "access_logs.s3.bucket": anything,
    "access_logs.s3.prefix": anything,
    "deletion_protection.enabled": boolean,
    "load_balancing.cross_zone.enabled": boolean,
    "dns_record.client_routing_policy": one_of(
        "availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"
    ),
    "zonal_shift.config.enabled": boolean,
}

TARGET_GROUP_ATTRIBUTES: dict[str, Validator] = {
    "deregistration_delay.timeout_seconds": integer(0, 3600),
    "deregistration_delay.connection_termination.enabled": boolean,
    "stickiness.enabled": boolean,
    "stickiness.type": one_of("lb_cookie", "app_cookie", "source_ip", "source_ip_dest_ip", "source_ip_dest_ip_proto"),
    "stickiness.lb_cookie.duration_seconds": integer(1, 604800),
    "stickiness.app_cookie.cookie_name": anything,
    "stickiness.app_cookie.duration_seconds": integer(1, 604800),
    "slow_start.duration_seconds": slow_start,
    "load_balancing.algorithm.type": one_of("round_robin", "least_outstanding_requests", "weighted_random"),
    "load_balancing.algorithm.anomaly_mitigation": one_of("on", "off"),
    "load_balancing.cross_zone.enabled": one_of("true", "false", "use_load_balancer_configuration"),
    "lambda.multi_value_headers.enabled": boolean,
    "preserve_client_ip.enabled": boolean,
    "proxy_protocol_v2.enabled": boolean,
    "target_group_health.dns_failover.minimum_healthy_targets.count": anything,
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": anything,
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": anything,
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": anything,
    "target_health_state.unhealthy.connection_termination.enabled": boolean,
    "target_health_state.unhealthy.draining_interval_seconds": integer(0, 360000),
}


def literal(value: Any) -> str | None:
    """The attribute value as the API sees it, or None for an intrinsic function (unchecked)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def check_attributes(
    cfn: Any, rule: CloudFormationLintRule, resource_type: str, key: str, known: Callable[[dict], dict[str, Validator]]
) -> list[RuleMatch]:
    matches = []
    for name, resource in cfn.get_resources([resource_type]).items():
        properties = resource.get("Properties") or {}
        attributes = properties.get(key)
        if not isinstance(attributes, list):
            continue
        validators = known(properties)
        for index, attribute in enumerate(attributes):
            if not isinstance(attribute, dict):
                continue
            path = ["Resources", name, "Properties", key, index]
            attribute_key = attribute.get("Key")
            if not isinstance(attribute_key, str):
                continue
            if attribute_key not in validators:
                matches.append(RuleMatch(path + ["Key"], f"{name}: unknown {key} key {attribute_key!r}"))
                continue
            value = literal(attribute.get("Value"))
            if value is None:
                continue
            problem = validators[attribute_key](value)
            if problem:
                matches.append(RuleMatch(path + ["Value"], f"{name}: {attribute_key} = {value!r} {problem}"))
    return matches


class LoadBalancerAttributes(CloudFormationLintRule):
    """Keys and values of AWS::ElasticLoadBalancingV2::LoadBalancer LoadBalancerAttributes."""

    id = "E9101"
    shortdesc = "Load balancer attribute keys and values"
    description = "LoadBalancerAttributes keys must exist for the balancer type and values must be in range"
    source_url = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html"
    tags = ["resources", "elasticloadbalancingv2", "norikae"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        def known(properties: dict) -> dict[str, Validator]:
            kind = properties.get("Type", "application")
            return ALB_ATTRIBUTES if kind == "application" else NLB_ATTRIBUTES

        return check_attributes(cfn, self, "AWS::ElasticLoadBalancingV2::LoadBalancer", "LoadBalancerAttributes", known)


class TargetGroupAttributes(CloudFormationLintRule):
    """Keys and values of AWS::ElasticLoadBalancingV2::TargetGroup TargetGroupAttributes."""

    id = "E9102"
    shortdesc = "Target group attribute keys and values"
    description = "TargetGroupAttributes keys must exist and values must be in range"
    source_url = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html"
    tags = ["resources", "elasticloadbalancingv2", "norikae"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        return check_attributes(
            cfn, self, "AWS::ElasticLoadBalancingV2::TargetGroup", "TargetGroupAttributes", lambda _p: TARGET_GROUP_ATTRIBUTES
        )


class ContainerStopTimeout(CloudFormationLintRule):
    """A container's StopTimeout must be within what ECS accepts."""

    id = "E9103"
    shortdesc = "Container StopTimeout range"
    description = "ContainerDefinitions[].StopTimeout must be an integer from 2 to 120 seconds"
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
    tags = ["resources", "ecs", "norikae"]

    LOW, HIGH = 2, 120

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        for name, resource in cfn.get_resources(["AWS::ECS::TaskDefinition"]).items():
            containers = (resource.get("Properties") or {}).get("ContainerDefinitions")
            if not isinstance(containers, list):
                continue
            for index, container in enumerate(containers):
                if not isinstance(container, dict) or "StopTimeout" not in container:
                    continue
                value = literal(container["StopTimeout"])
                if value is None:
                    continue
                path = ["Resources", name, "Properties", "ContainerDefinitions", index, "StopTimeout"]
                try:
                    seconds = int(value)
                except ValueError:
                    matches.append(RuleMatch(path, f"{name}: StopTimeout {value!r} is not an integer"))
                    continue
                if not self.LOW <= seconds <= self.HIGH:
                    matches.append(
                        RuleMatch(path, f"{name}: StopTimeout {seconds} is outside {self.LOW}..{self.HIGH} seconds")
                    )
        return matches


SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


def sub_parts(argument: Any) -> tuple[str | None, dict]:
    """The string and the variable map of a Fn::Sub (either form)."""
    if isinstance(argument, str):
        return argument, {}
    if isinstance(argument, list) and argument and isinstance(argument[0], str):
        variables = argument[1] if len(argument) > 1 and isinstance(argument[1], dict) else {}
        return argument[0], variables
    return None, {}


def referenced_ids(value: Any) -> set[str]:
    """Logical ids (resources or parameters) a template value refers to: Ref, Fn::GetAtt, Fn::Sub."""
    if isinstance(value, list):
        return set().union(*map(referenced_ids, value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, inner in value.items():
        if key == "Ref" and isinstance(inner, str):
            found.add(inner)
        elif key == "Fn::GetAtt":
            target = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(target, str):
                found.add(target.split(".", 1)[0])
        elif key == "Fn::Sub":
            text, variables = sub_parts(inner)
            named = (name.split(".", 1)[0] for name in SUB_VARIABLE.findall(text or ""))
            found |= {name for name in named if name not in variables}
            found |= referenced_ids(variables)
        else:
            found |= referenced_ids(inner)
    return found


def service_name_in(resource_id: Any) -> Any:
    """The service part of an ECS ResourceId (`service/<cluster>/<service>`) as a literal or as
    {"Ref": parameter}, read from a string, a Fn::Join on "/" or a Fn::Sub; None when unknown."""
    if isinstance(resource_id, str):
        return resource_id.rsplit("/", 1)[-1] if resource_id.startswith("service/") else None
    if not isinstance(resource_id, dict) or len(resource_id) != 1:
        return None
    function, argument = next(iter(resource_id.items()))
    if function == "Fn::Join":
        if not (isinstance(argument, list) and len(argument) == 2 and argument[0] == "/"):
            return None
        parts = argument[1]
        return parts[-1] if isinstance(parts, list) and parts else None
    if function != "Fn::Sub":
        return None
    text, variables = sub_parts(argument)
    if text is None:
        return None
    last = text.rsplit("/", 1)[-1]
    variable = SUB_VARIABLE.fullmatch(last)
    if variable is None:
        return None if "${" in last else last
    name = variable.group(1)
    if name in variables:
        return variables[name]
    return {"Ref": name} if "." not in name else None


class NoDesiredCountWhenAutoScaled(CloudFormationLintRule):
    """An ECS service scaled by Application Auto Scaling must leave DesiredCount out."""

    id = "E9104"
    shortdesc = "No DesiredCount on an auto scaled ECS service"
    description = (
        "AWS::ECS::Service must not set DesiredCount when an AWS::ApplicationAutoScaling::ScalableTarget "
        "scales it: CloudFormation sends DesiredCount with every update of the service, which resets the "
        "task count auto scaling has set"
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ecs-service.html#cfn-ecs-service-desiredcount"
    tags = ["resources", "ecs", "applicationautoscaling", "norikae"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        services = cfn.get_resources(["AWS::ECS::Service"])
        scaled_by: dict[str, str] = {}  # service -> the scalable target that scales it (logical ids)
        for target, target_resource in cfn.get_resources(["AWS::ApplicationAutoScaling::ScalableTarget"]).items():
            properties = target_resource.get("Properties") or {}
            if properties.get("ScalableDimension") != "ecs:service:DesiredCount":
                continue
            resource_id = properties.get("ResourceId")
            ids_in_resource_id = referenced_ids(resource_id)
            name_in_resource_id = service_name_in(resource_id)
            for service, service_resource in services.items():
                service_name = (service_resource.get("Properties") or {}).get("ServiceName")
                if service in ids_in_resource_id or (
                    name_in_resource_id is not None and name_in_resource_id == service_name
                ):
                    scaled_by.setdefault(service, target)
        matches = []
        for service, target in scaled_by.items():
            properties = services[service].get("Properties") or {}
            if "DesiredCount" not in properties or properties["DesiredCount"] == {"Ref": "AWS::NoValue"}:
                continue
            matches.append(
                RuleMatch(
                    ["Resources", service, "Properties", "DesiredCount"],
                    f"{service}: DesiredCount is set while {target} auto scales this service; "
                    "CloudFormation sends it with every update of the service, resetting the scaled task "
                    f"count. Leave it out: a new service starts one task and {target} raises it to "
                    "its MinCapacity, an update keeps the running count",
                )
            )
        return matches


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_no_value(value: Any) -> bool:
    return value == {"Ref": "AWS::NoValue"}


def containers_of(cfn: Any) -> list[tuple[str, int, Any]]:
    """(task definition, index, container) for every container definition, also those inside
    a Fn::If (each branch that is a container)."""
    found = []
    for name, resource in cfn.get_resources(["AWS::ECS::TaskDefinition"]).items():
        containers = (resource.get("Properties") or {}).get("ContainerDefinitions")
        if not isinstance(containers, list):
            continue
        for index, container in enumerate(containers):
            if isinstance(container, dict) and "Fn::If" in container:
                branches = container["Fn::If"]
                for branch in branches[1:] if isinstance(branches, list) else []:
                    if isinstance(branch, dict) and not is_no_value(branch):
                        found.append((name, index, branch))
            elif isinstance(container, dict):
                found.append((name, index, container))
    return found


class ReadonlyRootFilesystem(CloudFormationLintRule):
    """Every container runs with a read-only root file system."""

    id = "E9105"
    shortdesc = "Containers have a read-only root file system"
    description = (
        "Every ContainerDefinitions[] of an AWS::ECS::TaskDefinition sets ReadonlyRootFilesystem: true; "
        "where a container writes, a task volume is mounted (MountPoints)"
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html"
    tags = ["resources", "ecs", "norikae"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        for name, index, container in containers_of(cfn):
            if is_true(container.get("ReadonlyRootFilesystem")):
                continue
            label = container.get("Name")
            label = label if isinstance(label, str) else f"#{index}"
            matches.append(
                RuleMatch(
                    ["Resources", name, "Properties", "ContainerDefinitions", index],
                    f"{name}: container {label} must set ReadonlyRootFilesystem: true "
                    "(mount a task volume where it writes)",
                )
            )
        return matches


class DeploymentAlarmsWithRollback(CloudFormationLintRule):
    """Every ECS service rolls back on its deployment alarms and on the circuit breaker."""

    id = "E9106"
    shortdesc = "ECS services roll back on deployment alarms and the circuit breaker"
    description = (
        "AWS::ECS::Service DeploymentConfiguration must have Alarms (Enable and Rollback true, at least "
        "one alarm name) and DeploymentCircuitBreaker (Enable and Rollback true)"
    )
    source_url = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html"
    tags = ["resources", "ecs", "norikae"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        for name, resource in cfn.get_resources(["AWS::ECS::Service"]).items():
            properties = resource.get("Properties") or {}
            controller = (properties.get("DeploymentController") or {}).get("Type", "ECS")
            if controller != "ECS":
                continue  # CODE_DEPLOY and EXTERNAL deployments roll back their own way
            path = ["Resources", name, "Properties", "DeploymentConfiguration"]
            configuration = properties.get("DeploymentConfiguration")
            if not isinstance(configuration, dict):
                matches.append(RuleMatch(path[:-1], f"{name}: no DeploymentConfiguration (alarms and circuit breaker with rollback)"))
                continue
            alarms = configuration.get("Alarms")
            if not isinstance(alarms, dict):
                matches.append(RuleMatch(path, f"{name}: DeploymentConfiguration has no Alarms: a deployment that answers badly is not rolled back"))
            else:
                if not (is_true(alarms.get("Enable")) and is_true(alarms.get("Rollback"))):
                    matches.append(RuleMatch(path + ["Alarms"], f"{name}: DeploymentConfiguration.Alarms needs Enable: true and Rollback: true"))
                names = alarms.get("AlarmNames")
                if not isinstance(names, list) or not [n for n in names if not is_no_value(n)]:
                    matches.append(RuleMatch(path + ["Alarms", "AlarmNames"], f"{name}: DeploymentConfiguration.Alarms.AlarmNames is empty"))
            breaker = configuration.get("DeploymentCircuitBreaker")
            if not (isinstance(breaker, dict) and is_true(breaker.get("Enable")) and is_true(breaker.get("Rollback"))):
                matches.append(
                    RuleMatch(path, f"{name}: DeploymentConfiguration.DeploymentCircuitBreaker needs Enable: true and Rollback: true")
                )
        return matches


DATABASE_TYPES = ["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"]
# The one security group allowed to reach the database (cluster.yaml): the api's tasks.
DATABASE_CLIENT_GROUPS = {"ApiSecurityGroup"}


def group_ids(value: Any) -> set[str]:
    """Logical ids of security groups in a list of Ref / GetAtt GroupId values."""
    found = set()
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and isinstance(item.get("Ref"), str):
            found.add(item["Ref"])
        elif isinstance(item, dict) and "Fn::GetAtt" in item:
            target = item["Fn::GetAtt"]
            target = target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
            found.add(target)
    return found


def referenced_group(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
    return None


class DatabaseOpenToTheApiOnly(CloudFormationLintRule):
    """The database's security groups let in the api's security group and nothing else."""

    id = "E9107"
    shortdesc = "Database security group ingress from the api only"
    description = (
        "Every ingress rule of a security group attached to an RDS instance or cluster (inline or "
        "AWS::EC2::SecurityGroupIngress) must come from SourceSecurityGroupId "
        f"{' or '.join(sorted(DATABASE_CLIENT_GROUPS))} only: no CIDR, prefix list or other group"
    )
    source_url = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.RDSSecurityGroups.html"
    tags = ["resources", "rds", "ec2", "norikae"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        database_groups: dict[str, str] = {}
        for name, resource in cfn.get_resources(DATABASE_TYPES).items():
            properties = resource.get("Properties") or {}
            for group in group_ids(properties.get("VPCSecurityGroups")):
                database_groups.setdefault(group, name)
        matches = []

        def check(rule: Any, path: list, group: str) -> None:
            if not isinstance(rule, dict):
                return
            source = referenced_group(rule.get("SourceSecurityGroupId"))
            others = [key for key in ("CidrIp", "CidrIpv6", "SourcePrefixListId", "SourceSecurityGroupName") if key in rule]
            if others or source not in DATABASE_CLIENT_GROUPS:
                what = others[0] if others else f"SourceSecurityGroupId {source or rule.get('SourceSecurityGroupId')!r}"
                matches.append(
                    RuleMatch(
                        path,
                        f"{group} (security group of {database_groups[group]}) lets in {what}; "
                        f"only {', '.join(sorted(DATABASE_CLIENT_GROUPS))} may reach the database",
                    )
                )

        for group in database_groups:
            resource = cfn.template.get("Resources", {}).get(group) or {}
            for index, rule in enumerate((resource.get("Properties") or {}).get("SecurityGroupIngress") or []):
                check(rule, ["Resources", group, "Properties", "SecurityGroupIngress", index], group)
        for name, resource in cfn.get_resources(["AWS::EC2::SecurityGroupIngress"]).items():
            properties = resource.get("Properties") or {}
            group = referenced_group(properties.get("GroupId"))
            if group in database_groups:
                check(properties, ["Resources", name, "Properties"], group)
        return matches


class BalancerLogs(CloudFormationLintRule):
    """Every application load balancer writes access and connection logs."""

    id = "E9108"
    shortdesc = "ALBs write access and connection logs"
    description = (
        "An application AWS::ElasticLoadBalancingV2::LoadBalancer sets access_logs.s3.enabled and "
        "connection_logs.s3.enabled to true, each with a bucket"
    )
    source_url = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"
    tags = ["resources", "elasticloadbalancingv2", "norikae"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        matches = []
        for name, resource in cfn.get_resources(["AWS::ElasticLoadBalancingV2::LoadBalancer"]).items():
            properties = resource.get("Properties") or {}
            if properties.get("Type", "application") != "application":
                continue
            attributes = {
                a.get("Key"): a.get("Value")
                for a in properties.get("LoadBalancerAttributes") or []
                if isinstance(a, dict)
            }
            for kind in ("access_logs", "connection_logs"):
                enabled = is_true(attributes.get(f"{kind}.s3.enabled"))
                bucket = attributes.get(f"{kind}.s3.bucket")
                if not enabled or bucket in (None, ""):
                    matches.append(
                        RuleMatch(
                            ["Resources", name, "Properties", "LoadBalancerAttributes"],
                            f"{name}: {kind}.s3.enabled must be \"true\" with {kind}.s3.bucket set",
                        )
                    )
        return matches


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


class RotationRedeploysTheApi(CloudFormationLintRule):
    """A rotated managed master password is followed by a redeploy of the tasks that read it."""

    id = "E9109"
    shortdesc = "Managed database password rotation triggers a redeploy"
    description = (
        "An RDS instance or cluster with ManageMasterUserPassword: true needs an AWS::Events::Rule "
        "matching Secrets Manager's RotationSucceeded for its MasterUserSecret whose target runs "
        "`redeploy` (norikae-ops): ECS reads secrets only when a task starts"
    )
    source_url = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html"
    tags = ["resources", "rds", "events", "norikae"]

    @staticmethod
    def redeploys(rule: dict, database: str) -> bool:
        pattern = rule.get("EventPattern") or {}
        detail = pattern.get("detail") or {}
        if "RotationSucceeded" not in as_list(detail.get("eventName")):
            return False
        secrets = (detail.get("additionalEventData") or {}).get("SecretId")
        if database not in referenced_ids(secrets):
            return False
        for target in rule.get("Targets") or []:
            if not isinstance(target, dict):
                continue
            template = (target.get("InputTransformer") or {}).get("InputTemplate") or target.get("Input")
            if isinstance(template, str) and '"redeploy"' in template:
                return True
        return False

    def match(self, cfn: Any) -> list[RuleMatch]:
        rules = [
            resource.get("Properties") or {}
            for resource in cfn.get_resources(["AWS::Events::Rule"]).values()
        ]
        matches = []
        for name, resource in cfn.get_resources(DATABASE_TYPES).items():
            properties = resource.get("Properties") or {}
            if not is_true(properties.get("ManageMasterUserPassword")):
                continue
            if not any(self.redeploys(rule, name) for rule in rules):
                matches.append(
                    RuleMatch(
                        ["Resources", name, "Properties", "ManageMasterUserPassword"],
                        f"{name}: its managed password rotates, but no AWS::Events::Rule on "
                        f"RotationSucceeded for {name}.MasterUserSecret runs `redeploy`; running "
                        "tasks would keep the old password",
                    )
                )
        return matches
