import {
  type Action,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  ModifyRuleCommand,
  paginateDescribeRules,
  type Rule,
  SetRulePrioritiesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { orUndefined } from "../aws/errors.js";
import { isOurs, tagList } from "../aws/tags.js";
import { UserError } from "../errors.js";
import { applyElbv2Tags, codes, elbv2, readElbv2TagsBatched } from "./elbv2-shared.js";
import { retryWhile } from "./retry.js";
import { type Change, compareFields, compareTags, knownKey, type ResourceContext, type ResourceType } from "./types.js";

/** A listener rule that forwards requests whose path matches to one target group (Grafana's and Marquez's UIs). */
export interface ListenerRuleSpec {
  listenerArn: string;
  /** 1-50000, unique on the listener; lower is evaluated first. */
  priority: number;
  /** Up to 5 patterns of up to 128 characters: "*" matches any characters, "?" one ("/grafana*"). */
  pathPatterns: string[];
  /** Only requests from these ranges match (a source-ip condition); absent or empty: any source. Path patterns and ranges together at most 5. */
  sourceIpCidrs?: string[];
  targetGroupArn: string;
  tags: Record<string, string>;
}

export interface ListenerRuleAttrs {
  arn: string;
  listenerArn: string;
  priority: number;
  /** Sorted. */
  pathPatterns: string[];
  /** Sorted; empty when the rule has no source-ip condition. */
  sourceIpCidrs: string[];
  /** The target group it forwards to; "" when its action is something else (set outside platform). */
  targetGroupArn: string;
  tags: Record<string, string>;
}

const KIND = "ELBv2 listener rule";
const RULE_NOT_FOUND = codes("RuleNotFound");

/** A rule's ARN names its listener: `...:listener-rule/app/<lb>/<lb id>/<listener id>/<rule id>` → `...:listener/app/<lb>/<lb id>/<listener id>`. */
export function listenerArnOfRule(ruleArn: string): string {
  return ruleArn.replace(":listener-rule/", ":listener/").replace(/\/[^/]+$/, "");
}

function pathPatternsOf(rule: Rule): string[] {
  const c = (rule.Conditions ?? []).find((x) => x.Field === "path-pattern");
  return [...(c?.PathPatternConfig?.Values ?? c?.Values ?? [])].sort();
}

function sourceIpsOf(rule: Rule): string[] {
  const c = (rule.Conditions ?? []).find((x) => x.Field === "source-ip");
  return [...(c?.SourceIpConfig?.Values ?? [])].sort();
}

function forwardTarget(actions: Action[] | undefined): string {
  const list = actions ?? [];
  const only = list.length === 1 ? list[0]! : undefined;
  if (only?.Type !== "forward") return "";
  const groups = only.ForwardConfig?.TargetGroups ?? [];
  if (groups.length > 1) return "";
  return only.TargetGroupArn ?? groups[0]?.TargetGroupArn ?? "";
}

async function readAttrs(ctx: ResourceContext, rule: Rule): Promise<ListenerRuleAttrs | undefined> {
  const tags = await readElbv2TagsBatched(ctx, rule.RuleArn!);
  if (!tags) return undefined;
  return {
    arn: rule.RuleArn!,
    listenerArn: listenerArnOfRule(rule.RuleArn!),
    priority: Number(rule.Priority),
    pathPatterns: pathPatternsOf(rule),
    sourceIpCidrs: sourceIpsOf(rule),
    targetGroupArn: forwardTarget(rule.Actions),
    tags,
  };
}

export async function findRuleByArn(ctx: ResourceContext, arn: string): Promise<ListenerRuleAttrs | undefined> {
  const out = await orUndefined(elbv2(ctx).send(new DescribeRulesCommand({ RuleArns: [arn] })));
  const rule = out?.Rules?.[0];
  return rule && readAttrs(ctx, rule);
}

/** The listener's rule at `priority`; undefined when there is none or the listener is gone. */
async function ruleAtPriority(ctx: ResourceContext, listenerArn: string, priority: number): Promise<Rule | undefined> {
  const search = async () => {
    for await (const page of paginateDescribeRules({ client: elbv2(ctx) }, { ListenerArn: listenerArn })) {
      const hit = page.Rules?.find((r) => r.Priority === String(priority));
      if (hit) return hit;
    }
    return undefined;
  };
  return orUndefined(search());
}

async function readBack(ctx: ResourceContext, arn: string): Promise<ListenerRuleAttrs> {
  return retryWhile(ctx, RULE_NOT_FOUND, 60, async () => {
    const out = await elbv2(ctx).send(new DescribeRulesCommand({ RuleArns: [arn] }));
    const attrs = out.Rules?.[0] && (await readAttrs(ctx, out.Rules[0]));
    if (!attrs) throw new Error(`reading ${KIND} (${arn}): it disappeared while being read`);
    return attrs;
  });
}

function assertSpec(spec: ListenerRuleSpec): void {
  if (!Number.isInteger(spec.priority) || spec.priority < 1 || spec.priority > 50000) throw new UserError(`${KIND}: priority ${spec.priority} must be a whole number from 1 to 50000`);
  if (!spec.pathPatterns.length || spec.pathPatterns.length > 5 || spec.pathPatterns.some((p) => !p || p.length > 128)) {
    throw new UserError(`${KIND}: give 1 to 5 path patterns of at most 128 characters (${spec.pathPatterns.join(", ")})`);
  }
  if (spec.pathPatterns.length + (spec.sourceIpCidrs?.length ?? 0) > 5) throw new UserError(`${KIND}: path patterns and source ranges together are at most 5`);
}

const conditions = (spec: ListenerRuleSpec) => [
  { Field: "path-pattern", PathPatternConfig: { Values: spec.pathPatterns } },
  ...(spec.sourceIpCidrs?.length ? [{ Field: "source-ip", SourceIpConfig: { Values: spec.sourceIpCidrs } }] : []),
];
const actions = (spec: ListenerRuleSpec): Action[] => [{ Type: "forward", TargetGroupArn: spec.targetGroupArn }];

function diff(spec: ListenerRuleSpec, actual: ListenerRuleAttrs): Change[] {
  return [
    ...compareFields({ ...spec, pathPatterns: [...spec.pathPatterns].sort(), sourceIpCidrs: [...(spec.sourceIpCidrs ?? [])].sort() }, actual, [
      { field: "listenerArn", action: "replace" },
      { field: "priority" },
      { field: "pathPatterns" },
      { field: "sourceIpCidrs" },
      { field: "targetGroupArn" },
    ]),
    ...compareTags(spec.tags, actual.tags),
  ];
}

async function applyChanges(ctx: ResourceContext, spec: ListenerRuleSpec, actual: ListenerRuleAttrs, changes: Change[]): Promise<ListenerRuleAttrs> {
  const fields = new Set(changes.filter((c) => c.action === "update").map((c) => c.field));
  assertSpec(spec);
  if (fields.has("pathPatterns") || fields.has("sourceIpCidrs") || fields.has("targetGroupArn")) {
    await elbv2(ctx).send(new ModifyRuleCommand({ RuleArn: actual.arn, Conditions: conditions(spec), Actions: actions(spec) }));
  }
  if (fields.has("priority")) await elbv2(ctx).send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: actual.arn, Priority: spec.priority }] }));
  if (fields.has("tags")) await applyElbv2Tags(ctx, actual.arn, spec.tags, actual.tags);
  return readBack(ctx, actual.arn);
}

export const listenerRule: ResourceType<ListenerRuleSpec, ListenerRuleAttrs> = {
  type: "elbv2:listener-rule",

  // By the recorded ARN; else the recorded listener's rule at the recorded priority, if its tags prove it ours. Without a
  // record: the rule at the priority of the listener create would use, whoever's (the engine decides).
  async find(ctx, { logicalId, recorded, wanted }) {
    if (!recorded) {
      const listenerArn = knownKey(undefined, wanted?.listenerArn);
      const priority = knownKey(undefined, wanted?.priority);
      const rule = listenerArn && priority ? await ruleAtPriority(ctx, listenerArn, priority) : undefined;
      return rule && readAttrs(ctx, rule);
    }
    if (recorded.arn) {
      const found = await findRuleByArn(ctx, recorded.arn);
      if (found) return found;
    }
    if (recorded.listenerArn && recorded.priority) {
      const rule = await ruleAtPriority(ctx, recorded.listenerArn, recorded.priority);
      const attrs = rule && (await readAttrs(ctx, rule));
      if (attrs && isOurs(attrs.tags, ctx.identity, logicalId)) return attrs;
    }
    return undefined;
  },

  diff,

  // A priority is unique on a listener: PriorityInUse means a rule is there already, which the engine looks up.
  async create(ctx, spec) {
    assertSpec(spec);
    // A target group made a moment ago can be briefly unknown to CreateRule.
    const out = await retryWhile(ctx, codes("TargetGroupNotFound"), 30, () =>
      elbv2(ctx).send(new CreateRuleCommand({ ListenerArn: spec.listenerArn, Priority: spec.priority, Conditions: conditions(spec), Actions: actions(spec), Tags: tagList(spec.tags) })),
    );
    return readBack(ctx, out.Rules![0]!.RuleArn!);
  },

  update: applyChanges,

  async destroy(ctx, actual) {
    // Deleting the listener deletes its rules: RuleNotFound (and ListenerNotFound) is success.
    await orUndefined(elbv2(ctx).send(new DeleteRuleCommand({ RuleArn: actual.arn })));
  },

  physicalId: (a) => a.arn,
};
