import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { parseSince, readLogEvents } from "../../src/workloads/logs.js";
import { testContext } from "../helpers.js";

const logs = mockClient(CloudWatchLogsClient);
beforeEach(() => logs.reset());

describe("readLogEvents", () => {
  it("merges pages in time order across tasks, whatever order the pages come in, and follows empty pages with a token", async () => {
    const pages = [
      { events: [{ logStreamName: "api/api/b", timestamp: 30, message: "b30\n", eventId: "3" }], nextToken: "t1" },
      { events: [], nextToken: "t2" },
      { events: [{ logStreamName: "api/api/a", timestamp: 10, message: "a10", eventId: "1" }, { logStreamName: "api/api/a", timestamp: 40, message: "a40", eventId: "4" }] },
    ];
    // The SDK's paginator reuses one input object: copy each as it is sent.
    const inputs: Record<string, unknown>[] = [];
    logs.on(FilterLogEventsCommand).callsFake((input) => {
      inputs.push(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
      return pages.shift();
    });
    const lines = await readLogEvents(testContext(), "/ecs/x-dev", "api", 5);
    expect(lines.map((l) => `${l.timestamp} ${l.taskId} ${l.message}`)).toEqual(["10 a a10", "30 b b30", "40 a a40"]);
    expect(inputs).toEqual([
      { logGroupName: "/ecs/x-dev", logStreamNamePrefix: "api/", startTime: 5 },
      { logGroupName: "/ecs/x-dev", logStreamNamePrefix: "api/", startTime: 5, nextToken: "t1" },
      { logGroupName: "/ecs/x-dev", logStreamNamePrefix: "api/", startTime: 5, nextToken: "t2" },
    ]);
  });
});

describe("parseSince", () => {
  const now = Date.parse("2025-06-01T12:00:00Z");
  it.each([
    ["30s", now - 30_000],
    ["15m", now - 15 * 60_000],
    ["2h", now - 2 * 3_600_000],
    ["1d", now - 86_400_000],
    ["1w", now - 7 * 86_400_000],
    ["2025-06-01T11:00:00Z", Date.parse("2025-06-01T11:00:00Z")],
    ["2025-05-31", Date.parse("2025-05-31")],
  ])("%s", (text, expected) => expect(parseSince(text, now)).toBe(expected));

  it.each(["", "15", "15 minutes", "-1h", "yesterday", "2025-13-45"])("refuses %j", (text) => expect(() => parseSince(text, now)).toThrow(UserError));
});
