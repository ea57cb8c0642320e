# A policy over tqs1's plan document (docs/schema/plan.schema.json), in the
# style of conftest/OPA checks of Terraform plans:
#   tqs1 plan --out plan.json && conftest test --policy docs/policy plan.json
# Not run by tqs1's CI (OPA and conftest are not Debian packages).
package tqs1.plan

deny[msg] {
  input.format_version != "2"
  msg := sprintf("plan format_version %v: this policy reads \"2\"", [input.format_version])
}

deny[msg] {
  input.errored
  msg := "a sync could not be planned"
}

deny[msg] {
  p := input.plans[_]
  p.summary.blocked
  msg := sprintf("%s: a guard blocks the plan", [p.sync_name])
}

deny[msg] {
  p := input.plans[_]
  p.summary.unblocked > 1000
  msg := sprintf("%s unblocks %d addresses", [p.sync_name, p.summary.unblocked])
}

deny[msg] {
  a := input.plans[_].actions[_]
  a.kind == "delete"
  msg := sprintf("deletes rule %s (%s)", [a.name, a.rule_id])
}
