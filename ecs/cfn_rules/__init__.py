"""cfn-lint rules of the Norikae project (loaded with `cfn-lint --append-rules ecs/cfn_rules`)."""
