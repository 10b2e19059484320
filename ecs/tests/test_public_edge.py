"""The public edge does not serve operational endpoints: `/metrics` (every service's
Prometheus text, with route names, load and internals) is a 404 through the public ALB
(ecs/cluster.yaml) and its docker-compose stand-in (deploy/nginx/public.conf). The scraper
reads each task at its own address, and the internal balancer still passes it.

Run by ecs/check.sh:  python3 -m unittest discover -s ecs/tests -v
"""

from __future__ import annotations

import unittest
from pathlib import Path

import crossplane
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]


def directives(block: list[dict], name: str) -> list[dict]:
    return [directive for directive in block if directive["directive"] == name]


def metrics_blocked(server: dict) -> bool:
    """True when a server block answers `/metrics` itself with a 404, before any proxy_pass."""
    for location in directives(server["block"], "location"):
        if location["args"] == ["=", "/metrics"]:
            returns = directives(location["block"], "return")
            proxies = directives(location["block"], "proxy_pass")
            return not proxies and any(r["args"][:1] == ["404"] for r in returns)
    return False


def servers(path: Path) -> list[dict]:
    parsed = crossplane.parse(str(path), single=True, check_ctx=True)
    http = directives(parsed["config"][0]["parsed"], "http")[0]
    return directives(http["block"], "server")


class PublicNginx(unittest.TestCase):
    def test_every_public_server_answers_metrics_with_404(self) -> None:
        public = servers(ROOT / "deploy" / "nginx" / "public.conf")
        self.assertEqual(len(public), 2, "app and api")
        for server in public:
            listen = directives(server["block"], "listen")[0]["args"]
            self.assertTrue(metrics_blocked(server), f"server {listen} proxies /metrics")

    def test_the_check_notices_a_missing_block(self) -> None:
        server = {"block": [{"directive": "location", "args": ["/"], "block": []}]}
        self.assertFalse(metrics_blocked(server))


class PublicListener(unittest.TestCase):
    def test_metrics_rule_comes_first_on_the_public_listener(self) -> None:
        cluster = cfn_yaml.load(str(ROOT / "ecs" / "cluster.yaml"))
        rules = [
            resource["Properties"]
            for resource in cluster["Resources"].values()
            if resource["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"
            and resource["Properties"]["ListenerArn"] == {"Ref": "PublicHttpsListener"}
        ]
        blocking = [
            rule
            for rule in rules
            if any(
                condition.get("Field") == "path-pattern"
                and "/metrics" in condition["PathPatternConfig"]["Values"]
                for condition in rule["Conditions"]
            )
            and rule["Actions"][0]["Type"] == "fixed-response"
            and rule["Actions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
        ]
        self.assertEqual(len(blocking), 1, rules)
        priority = int(blocking[0]["Priority"])

        service = cfn_yaml.load(str(ROOT / "ecs" / "service.yaml"))
        lowest_service_priority = int(service["Parameters"]["ListenerRulePriority"]["MinValue"])
        self.assertLess(priority, lowest_service_priority, "a service rule could come first")


if __name__ == "__main__":
    unittest.main()
