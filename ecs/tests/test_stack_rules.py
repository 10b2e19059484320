"""The `Rules` of ecs/service.yaml, evaluated as CloudFormation evaluates them before a stack
is created or updated: against the template's defaults overridden by a stack's parameters.

cfn-lint checks the rules' shape but not what they decide (nor that a `Ref` in them names a
parameter), so each case here deploys a service the way ecs/README.md does, or breaks one
value, and expects the stack accepted or refused by the named rule.

Run by ecs/check.sh:  python3 -m unittest discover -s ecs/tests -v
"""

from __future__ import annotations

import unittest

from templates import load_template


# The overrides of ecs/README.md's deploy_service lines (what each service's stack is given).
DEPLOYED = {
    "route": {"ServiceName": "route", "ContainerPort": "8083", "LoadBalancer": "internal"},
    "search": {"ServiceName": "search", "ContainerPort": "8082", "LoadBalancer": "internal"},
    "api": {
        "ServiceName": "api",
        "ContainerPort": "8081",
        "LoadBalancer": "public",
        "InternalListenerExport": "ApiListener",
        "UpstreamSearchUrl": "http://internal-norikae.example:8082",
        "UpstreamRouteUrl": "http://internal-norikae.example:8083",
    },
    "app": {
        "ServiceName": "app",
        "ContainerPort": "8080",
        "LoadBalancer": "public",
        "UpstreamApiUrl": "http://internal-norikae.example:8081",
        "ApiKeySecretArn": "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:norikae/app-api-key-AbCdEf",
    },
}


class RuleError(Exception):
    pass


def evaluate(node: object, parameters: dict[str, str]) -> object:
    """The value of a rule expression (the functions CloudFormation allows in Rules that the
    template uses); an unknown function or parameter is an error, not a silent false."""
    if isinstance(node, str):
        return node
    if isinstance(node, (int, float)):
        return str(node)
    if isinstance(node, list):
        return [evaluate(item, parameters) for item in node]
    if not isinstance(node, dict) or len(node) != 1:
        raise RuleError(f"not a rule expression: {node!r}")
    (function, argument), = node.items()
    if function == "Ref":
        if argument not in parameters:
            raise RuleError(f"Ref {argument}: no such parameter")
        return parameters[argument]
    values = evaluate(argument, parameters)
    if function == "Fn::Equals":
        return values[0] == values[1]
    if function == "Fn::Not":
        return not values[0]
    if function == "Fn::And":
        return all(values)
    if function == "Fn::Or":
        return any(values)
    if function == "Fn::Contains":
        return values[1] in values[0]
    raise RuleError(f"{function} is not evaluated by this test")


class ServiceStackRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        template = load_template("service.yaml")
        cls.rules = template["Rules"]
        cls.defaults = {
            name: str(parameter["Default"])
            for name, parameter in template["Parameters"].items()
            if "Default" in parameter
        }

    def refusals(self, service: str, **overrides: str) -> list[str]:
        """`Rule: description` of each failed assertion for `service` deployed with `overrides`."""
        parameters = {**self.defaults, **DEPLOYED[service], **overrides}
        failed = []
        for name, rule in self.rules.items():
            if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], parameters):
                continue
            for assertion in rule["Assertions"]:
                if not evaluate(assertion["Assert"], parameters):
                    failed.append(f"{name}: {' '.join(assertion['AssertDescription'].split())}")
        return failed

    def test_every_service_deployed_as_the_readme_says_is_accepted(self) -> None:
        for service in DEPLOYED:
            self.assertEqual(self.refusals(service), [], service)

    def test_an_app_without_its_key_or_api_url_is_refused(self) -> None:
        without_key = self.refusals("app", ApiKeySecretArn="")
        self.assertEqual(len(without_key), 1, without_key)
        self.assertTrue(without_key[0].startswith("AppReachesTheApiWithItsKey: The app needs ApiKeySecretArn"))
        without_url = self.refusals("app", UpstreamApiUrl="")
        self.assertEqual(len(without_url), 1, without_url)
        self.assertTrue(without_url[0].startswith("AppReachesTheApiWithItsKey: The app needs UpstreamApiUrl"))

    def test_other_services_need_no_app_key(self) -> None:
        for service in ("api", "search", "route"):
            self.assertEqual(self.refusals(service, ApiKeySecretArn="", UpstreamApiUrl=""), [], service)

    def test_deployment_percentages_that_cannot_replace_a_task_are_refused(self) -> None:
        stalled = self.refusals("route", MinimumHealthyPercent="100", MaximumPercent="100")
        self.assertEqual(len(stalled), 1, stalled)
        self.assertIn("DeploymentCanReplaceTasks: MinimumHealthyPercent 100 needs MaximumPercent above 100", stalled[0])
        # One task: 150 % of 1 rounds down to 1 and 50 % up to 1, so no task can move.
        for minimum, maximum in (("100", "150"), ("50", "100")):
            one_task = self.refusals("route", MinTasks="1", MinimumHealthyPercent=minimum, MaximumPercent=maximum)
            self.assertEqual(len(one_task), 1, (minimum, maximum, one_task))
            self.assertIn("With MinTasks 1 a deployment of one task needs", one_task[0])

    def test_deployment_percentages_that_move_are_accepted(self) -> None:
        for minimum, maximum, min_tasks in (
            ("100", "200", "2"),
            ("100", "200", "1"),
            ("50", "100", "2"),
            ("100", "150", "2"),
            ("0", "100", "1"),
        ):
            self.assertEqual(
                self.refusals("route", MinimumHealthyPercent=minimum, MaximumPercent=maximum, MinTasks=min_tasks),
                [],
                (minimum, maximum, min_tasks),
            )

    def test_a_rule_naming_an_unknown_parameter_is_an_error(self) -> None:
        with self.assertRaisesRegex(RuleError, "Ref MinTask: no such parameter"):
            evaluate({"Fn::Contains": [["0", "1"], {"Ref": "MinTask"}]}, self.defaults)


if __name__ == "__main__":
    unittest.main()
