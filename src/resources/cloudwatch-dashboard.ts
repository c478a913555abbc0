import { CloudWatchClient, DeleteDashboardsCommand, GetDashboardCommand, PutDashboardCommand } from "@aws-sdk/client-cloudwatch";
import { orUndefined } from "../aws/errors.js";
import { metricDimensionValue } from "./cloudwatch-alarm.js";
import { knownKey, sameValue, type Change, type ResourceContext, type ResourceType } from "./types.js";

/**
 * Dashboards have no tags, so ownership is written into the body: the first widget is a text widget whose markdown
 * carries a marker line `platform:<project>/<env>:<logical id>`. A dashboard of the same name without that marker
 * belongs to someone else and is never adopted or overwritten.
 */
export interface DashboardSpec {
  /** 1–255 of letters, digits, "-" and "_". */
  name: string;
  /** The dashboard body (widgets) as an object; the ownership widget is added in front of it. */
  body: { widgets: Record<string, unknown>[]; [k: string]: unknown };
}

export interface DashboardAttrs extends DashboardSpec {
  arn: string;
  /** The console URL of the dashboard. */
  url: string;
  /** The ownership marker found in the body (platform:<project>/<env>:<logical id>). */
  marker: string;
}

const KIND = "CloudWatch dashboard";
const cw = (ctx: ResourceContext) => ctx.aws.get(CloudWatchClient);

export function ownershipMarker(ctx: ResourceContext, logicalId: string): string {
  return `platform:${ctx.identity.project}/${ctx.identity.environment}:${logicalId}`;
}

export function dashboardUrl(region: string, name: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
}

/** ELB ARNs anywhere in the body become CloudWatch dimension values ("app/<name>/<id>"), as alarms do. */
function normalizeBody(value: unknown): unknown {
  if (typeof value === "string") return metricDimensionValue(value);
  if (Array.isArray(value)) return value.map(normalizeBody);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeBody(v)]));
  return value;
}

function ownerWidget(marker: string) {
  return { type: "text", x: 0, y: 0, width: 24, height: 2, properties: { markdown: `Managed by platform; changes made here are overwritten by the next \`platform up\`.\n\n${marker}` } };
}

/** The body as sent: the ownership widget first, then the spec's widgets. */
export function fullBody(spec: DashboardSpec, marker: string): Record<string, unknown> {
  const body = normalizeBody(spec.body) as DashboardSpec["body"];
  return { ...body, widgets: [ownerWidget(marker), ...body.widgets] };
}

function markerOf(body: Record<string, unknown>): string | undefined {
  const first = (body.widgets as { type?: string; properties?: { markdown?: string } }[] | undefined)?.[0];
  const text = first?.type === "text" ? (first.properties?.markdown ?? "") : "";
  return /platform:\S+/.exec(text)?.[0];
}

async function getDashboard(ctx: ResourceContext, name: string) {
  const out = await orUndefined(cw(ctx).send(new GetDashboardCommand({ DashboardName: name })));
  return out?.DashboardBody ? { arn: out.DashboardArn!, body: JSON.parse(out.DashboardBody) as Record<string, unknown> } : undefined;
}

/** Our dashboard of that name (the marker proves it); undefined when absent; an error when it is someone else's. */
export async function findDashboard(ctx: ResourceContext, name: string, logicalId: string): Promise<DashboardAttrs | undefined> {
  const found = await readDashboard(ctx, name);
  if (found && found.marker !== ownershipMarker(ctx, logicalId)) {
    throw new Error(`reading ${KIND} (${name}): a dashboard of this name exists and was not made by platform for ${ctx.identity.project}-${ctx.identity.environment}; delete or rename it`);
  }
  return found;
}

/** The dashboard of that name, whoever made it (its marker says who); undefined when absent. */
async function readDashboard(ctx: ResourceContext, name: string): Promise<DashboardAttrs | undefined> {
  const found = await getDashboard(ctx, name);
  if (!found) return undefined;
  const marker = markerOf(found.body) ?? "";
  const widgets = ((found.body.widgets as Record<string, unknown>[] | undefined) ?? []).slice(1);
  return { name, arn: found.arn, url: dashboardUrl(ctx.region, name), marker, body: { ...found.body, widgets } };
}

async function put(ctx: ResourceContext, spec: DashboardSpec, logicalId: string): Promise<DashboardAttrs> {
  // PutDashboard replaces the whole body; it creates the dashboard when there is none.
  const out = await cw(ctx).send(new PutDashboardCommand({ DashboardName: spec.name, DashboardBody: JSON.stringify(fullBody(spec, ownershipMarker(ctx, logicalId))) }));
  const problems = (out.DashboardValidationMessages ?? []).map((m) => `${m.DataPath}: ${m.Message}`);
  if (problems.length) throw new Error(`putting ${KIND} (${spec.name}): ${problems.join("; ")}`);
  const found = await findDashboard(ctx, spec.name, logicalId);
  if (!found) throw new Error(`reading ${KIND} (${spec.name}) after PutDashboard: not found; run again`);
  return found;
}

export const dashboard: ResourceType<DashboardSpec, DashboardAttrs> = {
  type: "cloudwatch:dashboard",

  // The name is the key: the recorded one, else the one create would use (whoever's: the marker says, see `owns`).
  async find(ctx, { recorded, logicalId, wanted }) {
    if (recorded?.name) return findDashboard(ctx, recorded.name, logicalId);
    const name = knownKey(undefined, wanted?.name);
    return name ? readDashboard(ctx, name) : undefined;
  },

  // Dashboards take no tags: the marker widget platform writes into the body proves whose it is.
  owns: (ctx, actual, logicalId) => actual.marker === ownershipMarker(ctx, logicalId),

  diff(spec, actual): Change[] {
    const want = normalizeBody(spec.body);
    return [
      ...(spec.name !== actual.name ? [{ field: "name", from: actual.name, to: spec.name, action: "replace" as const }] : []),
      ...(sameValue(want, actual.body) ? [] : [{ field: "body", from: "(current widgets)", to: "(new widgets)", action: "update" as const }]),
    ];
  },

  async create(ctx, spec, { logicalId }) {
    // PutDashboard overwrites whatever has the name: a dashboard not ours stops here (the engine's plan found it first).
    await findDashboard(ctx, spec.name, logicalId);
    return put(ctx, spec, logicalId);
  },

  async update(ctx, spec, actual) {
    return put(ctx, spec, actual.marker.slice(actual.marker.lastIndexOf(":") + 1));
  },

  async destroy(ctx, actual) {
    await orUndefined(cw(ctx).send(new DeleteDashboardsCommand({ DashboardNames: [actual.name] })));
  },

  physicalId: (a) => a.name,
};
