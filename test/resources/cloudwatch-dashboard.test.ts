import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { CloudWatchClient, DashboardNotFoundError, DeleteDashboardsCommand, GetDashboardCommand, PutDashboardCommand } from "@aws-sdk/client-cloudwatch";
import { dashboard, dashboardUrl, findDashboard, fullBody, ownershipMarker } from "../../src/resources/cloudwatch-dashboard.js";
import { testContext } from "../helpers.js";

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());

const ID = "ops.dashboard";
const NAME = "clinical-platform-dev";
const DASHBOARD_ARN = `arn:aws:cloudwatch::123456789012:dashboard/${NAME}`;
const MARKER = `platform:clinical-platform/dev:${ID}`;
const LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/clinical-platform-dev-alb/50dc6c495c0c9188";
const LB_DIMENSION = "app/clinical-platform-dev-alb/50dc6c495c0c9188";
const requests = (lb: string) => ({ type: "metric", x: 0, y: 2, width: 12, height: 6, properties: { title: "Requests", region: "us-east-1", metrics: [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb]], stat: "Sum", period: 300 } });
const spec = { name: NAME, body: { widgets: [requests(LB_ARN)] } };
const notFound = () => new DashboardNotFoundError({ message: "Dashboard clinical-platform-dev does not exist", $metadata: {} });

/** GetDashboard's answer for a body as AWS stores it. */
const stored = (body: Record<string, unknown>) => ({ DashboardName: NAME, DashboardArn: DASHBOARD_ARN, DashboardBody: JSON.stringify(body) });
const ours = () => stored(fullBody(spec, MARKER));
const actual = { name: NAME, arn: DASHBOARD_ARN, url: dashboardUrl("us-east-1", NAME), marker: MARKER, body: { widgets: [requests(LB_DIMENSION)] } };

describe("cloudwatch:dashboard", () => {
  it("marks the body with an ownership widget first, and cuts load balancer ARNs to their dimension form", () => {
    expect(ownershipMarker(testContext(), ID)).toBe(MARKER);
    const body = fullBody(spec, MARKER) as { widgets: Record<string, any>[] };
    expect(body.widgets).toHaveLength(2);
    expect(body.widgets[0]).toMatchObject({ type: "text", x: 0, y: 0, width: 24 });
    expect(body.widgets[0]!.properties.markdown).toContain(MARKER);
    expect(body.widgets[1]!.properties.metrics).toEqual([["AWS/ApplicationELB", "RequestCount", "LoadBalancer", LB_DIMENSION]]);
    expect(dashboardUrl("us-east-1", NAME)).toBe(`https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=${NAME}`);
  });

  it("create: puts the marked body when no dashboard has the name, and reads it back", async () => {
    cw.on(GetDashboardCommand, { DashboardName: NAME }).rejectsOnce(notFound()).resolves(ours());
    cw.on(PutDashboardCommand).resolves({ DashboardValidationMessages: [] });
    const attrs = await dashboard.create(testContext(), spec, { logicalId: ID });
    expect(cw).toHaveReceivedCommandTimes(PutDashboardCommand, 1);
    const put = cw.commandCalls(PutDashboardCommand)[0]!.args[0].input;
    expect(put.DashboardName).toBe(NAME);
    expect(JSON.parse(put.DashboardBody!)).toEqual(fullBody(spec, MARKER));
    expect(attrs).toEqual(actual);
    expect(dashboard.physicalId(attrs)).toBe(NAME);
    expect(dashboard.diff(spec, attrs)).toEqual([]);
  });

  it("create: a dashboard of ours left by an interrupted run is overwritten", async () => {
    cw.on(GetDashboardCommand).resolves(stored(fullBody({ name: NAME, body: { widgets: [] } }, MARKER)));
    cw.on(PutDashboardCommand).resolves({});
    await dashboard.create(testContext(), spec, { logicalId: ID });
    expect(cw).toHaveReceivedCommandTimes(PutDashboardCommand, 1);
  });

  it("create: a dashboard of that name without platform's marker is someone else's and is never overwritten", async () => {
    cw.on(GetDashboardCommand).resolves(stored({ widgets: [requests(LB_DIMENSION)] }));
    await expect(dashboard.create(testContext(), spec, { logicalId: ID })).rejects.toThrow(
      `reading CloudWatch dashboard (${NAME}): a dashboard of this name exists and was not made by platform for clinical-platform-dev; delete or rename it`,
    );
    expect(cw).not.toHaveReceivedCommand(PutDashboardCommand);
  });

  it("create: a marker of another environment is not ours either", async () => {
    cw.on(GetDashboardCommand).resolves(stored(fullBody(spec, `platform:clinical-platform/prod:${ID}`)));
    await expect(findDashboard(testContext(), NAME, ID)).rejects.toThrow(/was not made by platform for clinical-platform-dev/);
  });

  it("create: CloudWatch's validation messages fail the put, naming each problem", async () => {
    cw.on(GetDashboardCommand).rejects(notFound());
    cw.on(PutDashboardCommand).resolves({ DashboardValidationMessages: [{ DataPath: "/widgets/1/properties/metrics/0", Message: "Should NOT have more than 4 items" }] });
    await expect(dashboard.create(testContext(), spec, { logicalId: ID })).rejects.toThrow(
      `putting CloudWatch dashboard (${NAME}): /widgets/1/properties/metrics/0: Should NOT have more than 4 items`,
    );
  });

  it("find: reads the recorded name; undefined when nothing is recorded or the dashboard is gone", async () => {
    cw.on(GetDashboardCommand).resolvesOnce(ours()).rejects(notFound());
    expect(await dashboard.find(testContext(), { logicalId: ID, recorded: actual })).toEqual(actual);
    expect(await dashboard.find(testContext(), { logicalId: ID, recorded: actual })).toBeUndefined();
    expect(await dashboard.find(testContext(), { logicalId: ID })).toBeUndefined();
    expect(cw).toHaveReceivedCommandTimes(GetDashboardCommand, 2);
  });

  it("diff: new widgets update in place, a new name replaces; ARN and dimension forms are the same widget", () => {
    expect(dashboard.diff(spec, actual)).toEqual([]);
    const wider = { ...spec, body: { widgets: [{ ...requests(LB_ARN), width: 24 }] } };
    expect(dashboard.diff(wider, actual)).toEqual([{ field: "body", from: "(current widgets)", to: "(new widgets)", action: "update" }]);
    expect(dashboard.diff({ ...spec, name: "clinical-platform-dev-ops" }, actual)).toEqual([{ field: "name", from: NAME, to: "clinical-platform-dev-ops", action: "replace" }]);
  });

  it("update: puts the whole new body under the recorded owner's marker and reads it back", async () => {
    const wider = { ...spec, body: { widgets: [{ ...requests(LB_ARN), width: 24 }] } };
    cw.on(PutDashboardCommand).resolves({});
    cw.on(GetDashboardCommand).resolves(stored(fullBody(wider, MARKER)));
    const after = await dashboard.update!(testContext(), wider, actual, dashboard.diff(wider, actual));
    expect(JSON.parse(cw.commandCalls(PutDashboardCommand)[0]!.args[0].input.DashboardBody!)).toEqual(fullBody(wider, MARKER));
    expect(dashboard.diff(wider, after)).toEqual([]);
  });

  it("destroy: deletes the dashboard by name; one already gone is success", async () => {
    cw.on(DeleteDashboardsCommand).resolvesOnce({}).rejects(notFound());
    await dashboard.destroy(testContext(), actual);
    await expect(dashboard.destroy(testContext(), actual)).resolves.toBeUndefined();
    expect(cw).toHaveReceivedCommandWith(DeleteDashboardsCommand, { DashboardNames: [NAME] });
    expect(cw).toHaveReceivedCommandTimes(DeleteDashboardsCommand, 2);
  });
});
