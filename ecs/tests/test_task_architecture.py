"""Every task definition of the templates runs on the cluster's `Architecture` (X86_64 or
ARM64): the images are built per architecture, and a task without `RuntimePlatform` runs as
X86_64 on Fargate whatever the cluster's images are (an arm64 image then fails with `exec
format error`).

Run by ecs/check.sh:  python3 -m unittest discover -s ecs/tests -v
"""

from __future__ import annotations

import unittest

from templates import load_template

# How each template names the cluster's architecture: its own parameter, or the cluster
# stack's export.
ARCHITECTURE = {
    "cluster.yaml": {"Ref": "Architecture"},
    "service.yaml": {"Fn::ImportValue": {"Fn::Sub": "${ClusterStack}-Architecture"}},
}


class TaskArchitecture(unittest.TestCase):
    def test_every_task_definition_names_the_cluster_architecture(self) -> None:
        checked = []
        for template, architecture in ARCHITECTURE.items():
            resources = load_template(template)["Resources"]
            for name, resource in resources.items():
                if resource["Type"] != "AWS::ECS::TaskDefinition":
                    continue
                platform = resource["Properties"].get("RuntimePlatform", {})
                self.assertEqual(platform.get("OperatingSystemFamily"), "LINUX", f"{template} {name}")
                self.assertEqual(platform.get("CpuArchitecture"), architecture, f"{template} {name}")
                checked.append(name)
        self.assertEqual(
            sorted(checked), ["OpsTaskDefinition", "RegisterAppKeyTaskDefinition", "TaskDefinition"]
        )


if __name__ == "__main__":
    unittest.main()
