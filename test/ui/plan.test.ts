import { describe, expect, it } from "vitest";
import type { Plan } from "../../src/engine/plan.js";
import { colors } from "../../src/ui/io.js";
import { leafChanges, renderPlan } from "../../src/ui/plan.js";

const plain = colors(false);
const planOf = (changes: Plan["resources"][number]["changes"]): Plan => ({
  resources: [{ logicalId: "compute.service.api", type: "ecs:service", action: "update", changes, inState: true, physicalId: "api", dependsOn: [] }],
  errors: [],
});

describe("plan diff of nested values", () => {
  it("shows the field that changed inside an object, not two identical truncations", () => {
    const from = { minimumHealthyPercent: 100, maximumPercent: 200, circuitBreaker: { enable: true, rollback: true }, alarms: { names: ["a-very-long-alarm-name-that-pushes-the-json-past-eighty-characters"] } };
    const to = { ...from, maximumPercent: 150, circuitBreaker: { enable: true, rollback: false } };
    const text = renderPlan(planOf([{ field: "deployment", action: "update", from, to }]), plain);
    expect(text).toContain("      deployment.maximumPercent: 200 → 150\n");
    expect(text).toContain("      deployment.circuitBreaker.rollback: true → false\n");
    expect(text).not.toContain("minimumHealthyPercent");
  });

  it("keys that appear or go, items of arrays of objects by index, flat arrays whole", () => {
    expect(leafChanges("tags", { A: "1" }, { A: "1", B: "2" })).toEqual([{ field: "tags.B", from: undefined, to: "2" }]);
    expect(leafChanges("loadBalancers", [{ port: 80 }, { port: 443 }], [{ port: 80 }, { port: 8443 }])).toEqual([{ field: "loadBalancers[1].port", from: 443, to: 8443 }]);
    expect(leafChanges("subnetIds", ["a", "b"], ["a", "c"])).toEqual([{ field: "subnetIds", from: ["a", "b"], to: ["a", "c"] }]);
  });

  it("cuts two long values where they differ", () => {
    const base = "arn:aws:ecs:us-east-1:123456789012:task-definition/clinical-platform-dev-api-with-a-long-family-name:";
    const text = renderPlan(planOf([{ field: "taskDefinitionArn", action: "update", from: `${base}1`, to: `${base}2` }]), plain);
    const line = text.split("\n").find((l) => l.includes("taskDefinitionArn"))!;
    const [from, to] = line.split(" → ");
    expect(from).not.toBe(to?.replace(/\d$/, "1"));
    expect(line).toMatch(/family-name:1 → \.\.\..*family-name:2$/);
  });
});
