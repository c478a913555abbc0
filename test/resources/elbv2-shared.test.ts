import { beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { DescribeTagsCommand, ElasticLoadBalancingV2Client, ElasticLoadBalancingV2ServiceException } from "@aws-sdk/client-elastic-load-balancing-v2";
import { readElbv2TagsBatched } from "../../src/resources/elbv2-shared.js";
import { testContext } from "../helpers.js";

const elb = mockClient(ElasticLoadBalancingV2Client);
beforeEach(() => elb.reset());

const tags = (arn: string) => ({ ResourceArn: arn, Tags: [{ Key: "platform:logical-id", Value: arn }] });

describe("readElbv2TagsBatched", () => {
  it("reads the tags of resources asked for together in one DescribeTags call", async () => {
    elb.on(DescribeTagsCommand).callsFake((input: { ResourceArns: string[] }) => ({ TagDescriptions: input.ResourceArns.map(tags) }));
    const ctx = testContext();
    const [a, b, c] = await Promise.all(["arn:lb", "arn:tg", "arn:listener"].map((arn) => readElbv2TagsBatched(ctx, arn)));
    expect(elb).toHaveReceivedCommandTimes(DescribeTagsCommand, 1);
    expect(elb).toHaveReceivedCommandWith(DescribeTagsCommand, { ResourceArns: ["arn:lb", "arn:tg", "arn:listener"] });
    expect([a, b, c]).toEqual([{ "platform:logical-id": "arn:lb" }, { "platform:logical-id": "arn:tg" }, { "platform:logical-id": "arn:listener" }]);
  });

  it("reads a batch one by one when one of its resources is gone, and answers undefined for that one", async () => {
    const gone = new ElasticLoadBalancingV2ServiceException({ name: "LoadBalancerNotFoundException", message: "not found", $fault: "client", $metadata: {} });
    elb.on(DescribeTagsCommand).callsFake((input: { ResourceArns: string[] }) => {
      if (input.ResourceArns.includes("arn:gone")) throw gone;
      return { TagDescriptions: input.ResourceArns.map(tags) };
    });
    const ctx = testContext();
    const [live, dead] = await Promise.all([readElbv2TagsBatched(ctx, "arn:live"), readElbv2TagsBatched(ctx, "arn:gone")]);
    expect(live).toEqual({ "platform:logical-id": "arn:live" });
    expect(dead).toBeUndefined();
    expect(elb).toHaveReceivedCommandTimes(DescribeTagsCommand, 3);
  });

  it("splits more than 20 resources into calls of at most 20", async () => {
    elb.on(DescribeTagsCommand).callsFake((input: { ResourceArns: string[] }) => ({ TagDescriptions: input.ResourceArns.map(tags) }));
    const ctx = testContext();
    await Promise.all(Array.from({ length: 25 }, (_, i) => readElbv2TagsBatched(ctx, `arn:${i}`)));
    const sizes = elb.commandCalls(DescribeTagsCommand).map((c) => c.args[0].input.ResourceArns!.length);
    expect(sizes).toEqual([20, 5]);
  });
});
