/**
 * One scenario, two backends: the project's in-process fake and moto. Each step's exit code must agree, and the
 * read-only steps (a plan of a built stack, a no-op up, status) must make the same calls the same number of times;
 * where they disagree, the failure names the call and what each backend made of it.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../cli-harness.js";
import { installFakeAws } from "../fakes/index.js";
import { useMoto } from "./env.js";
import { plainConfig, project } from "./stack.js";

interface Step {
  name: string;
  args: string[];
  code: number;
  /** Compare the calls made, per action (read-only steps, where both backends must ask the same questions). */
  compareCalls?: boolean;
}

const SCENARIO: Step[] = [
  { name: "plan on nothing", args: ["plan", "--env", "dev", "--detailed-exitcode"], code: 2 },
  { name: "up", args: ["up", "--env", "dev", "--yes"], code: 0 },
  { name: "plan after up", args: ["plan", "--env", "dev", "--detailed-exitcode"], code: 0, compareCalls: true },
  { name: "no-op up", args: ["up", "--env", "dev", "--yes"], code: 0, compareCalls: true },
  { name: "status", args: ["status", "--env", "dev"], code: 0, compareCalls: true },
  { name: "down", args: ["down", "--env", "dev", "--yes", "--delete-data", "--skip-final-snapshot", "--force-delete-secrets"], code: 0 },
  { name: "down again", args: ["down", "--env", "dev", "--yes"], code: 0 },
];

interface StepResult {
  code: number | null;
  calls: Map<string, number>;
  mutating: string[];
  output: string;
}

/** The fake's service names where they differ from the signing names the proxy reads. */
const FAKE_SERVICE: Record<string, string> = { cloudwatch: "monitoring", elbv2: "elasticloadbalancing" };

function count(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

const c = useMoto();

async function onFake(): Promise<StepResult[]> {
  const aws = installFakeAws();
  const cwd = project({ dev: plainConfig("dev") });
  const results: StepResult[] = [];
  try {
    for (const step of SCENARIO) {
      const from = aws.cloud.calls.length;
      const r = await runCli(cwd, step.args);
      const calls = aws.cloud.calls.slice(from);
      results.push({
        code: r.code,
        calls: count(calls.map((x) => `${FAKE_SERVICE[x.service] ?? x.service}:${x.command}`)),
        mutating: calls.filter((x) => x.mutating).map((x) => `${FAKE_SERVICE[x.service] ?? x.service}:${x.command}`),
        output: r.stdout + r.stderr,
      });
    }
  } finally {
    aws.restore();
  }
  return results;
}

async function onMoto(): Promise<StepResult[]> {
  const cwd = project({ dev: plainConfig("dev") });
  const results: StepResult[] = [];
  for (const step of SCENARIO) {
    const from = c.proxy.calls.length;
    const r = await c.cli(cwd, step.args);
    const calls = c.proxy.calls.slice(from);
    results.push({ code: r.code, calls: count(calls.map((x) => `${x.service}:${x.action}`)), mutating: calls.filter((x) => x.mutating).map((x) => `${x.service}:${x.action}`), output: r.stdout + r.stderr });
  }
  return results;
}

/** Calls whose counts differ: "ec2:DescribeVpcs: fake 2, moto 3". */
function callDifferences(fake: Map<string, number>, moto: Map<string, number>): string[] {
  const keys = [...new Set([...fake.keys(), ...moto.keys()])].sort();
  return keys.filter((k) => (fake.get(k) ?? 0) !== (moto.get(k) ?? 0)).map((k) => `${k}: fake ${fake.get(k) ?? 0}, moto ${moto.get(k) ?? 0}`);
}

describe("the fake and moto agree", { timeout: 900_000 }, () => {
  it("on every step of plan, up, no-op up, status, down: exit codes, and no mutating call on the read-only steps", async () => {
    const fake = await onFake();
    const moto = await onMoto();
    const problems: string[] = [];
    SCENARIO.forEach((step, i) => {
      const f = fake[i]!;
      const m = moto[i]!;
      if (f.code !== step.code || m.code !== step.code) {
        problems.push(`${step.name}: exit fake ${f.code}, moto ${m.code}, expected ${step.code}\n--- fake\n${f.output.slice(-2000)}\n--- moto\n${m.output.slice(-2000)}`);
      }
      if (step.compareCalls) {
        differences.push(...callDifferences(f.calls, m.calls).map((d) => `${step.name}: ${d}`));
        if (f.mutating.length || m.mutating.length) problems.push(`${step.name}: mutating calls: fake [${f.mutating.join(", ")}], moto [${m.mutating.join(", ")}]`);
      }
    });
    expect(problems).toEqual([]);
  });

  // The read calls per action differ today (measured 2026-12-08, listed in docs/conformance.md: DescribeAlarms,
  // elbv2 DescribeTags and IAM role reads are made more often against moto, GetAccountAuthorizationDetails only
  // against the fake). Each needs finding out which side answers unlike AWS before this becomes an assertion.
  it.todo("the read-only steps make the same calls per action on both backends (differences are collected in `differences`)");
});

const differences: string[] = [];
