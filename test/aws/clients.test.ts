import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { AwsClients } from "../../src/aws/clients.js";
import { errorCode } from "../../src/aws/errors.js";

/** An HTTP layer that answers from a script, so the SDK's real retry, signing and parsing run. */
function scriptedHttp(responses: { status: number; body: string }[]) {
  const requests: { hostname: string; path: string }[] = [];
  return {
    requests,
    handler: {
      async handle(request: { hostname: string; path: string }) {
        requests.push({ hostname: request.hostname, path: request.path });
        const next = responses.shift() ?? { status: 500, body: "<Response><Errors><Error><Code>InternalError</Code></Error></Errors></Response>" };
        return { response: { statusCode: next.status, headers: { "content-type": "text/xml" }, body: Readable.from([Buffer.from(next.body)]) } };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    },
  };
}

const throttled = { status: 400, body: "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r1</RequestID></Response>" };
const vpcs = { status: 200, body: '<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r2</requestId><vpcSet><item><vpcId>vpc-1</vpcId></item></vpcSet></DescribeVpcsResponse>' };
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("AwsClients", () => {
  it("retries throttling with the SDK's standard retry mode", async () => {
    const http = scriptedHttp([throttled, throttled, vpcs]);
    const clients = new AwsClients({ region: "us-east-1", requestHandler: http.handler });
    const out = await clients.get(EC2Client).send(new DescribeVpcsCommand({}));
    expect(out.Vpcs?.[0]?.VpcId).toBe("vpc-1");
    expect(http.requests).toHaveLength(3);
  });

  it("gives up after maxAttempts and surfaces AWS's error code", async () => {
    const http = scriptedHttp([throttled, throttled, throttled]);
    const clients = new AwsClients({ region: "us-east-1", requestHandler: http.handler, maxAttempts: 2 });
    const err = await clients.get(EC2Client).send(new DescribeVpcsCommand({})).catch((e: unknown) => e);
    expect(errorCode(err)).toBe("RequestLimitExceeded");
    expect(http.requests).toHaveLength(2);
  });

  it("sends calls to the config's endpoint, and AWS_ENDPOINT_URL wins over it", async () => {
    delete process.env.AWS_ENDPOINT_URL;
    const http = scriptedHttp([vpcs, vpcs]);
    await new AwsClients({ region: "us-east-1", endpoint: "http://localhost:4566", requestHandler: http.handler }).get(EC2Client).send(new DescribeVpcsCommand({}));
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.2:4566";
    await new AwsClients({ region: "us-east-1", endpoint: "http://localhost:4566", requestHandler: http.handler }).get(EC2Client).send(new DescribeVpcsCommand({}));
    expect(http.requests.map((r) => r.hostname)).toEqual(["localhost", "127.0.0.2"]);
  });

  it("uses path-style S3 addressing exactly when the endpoint is overridden", async () => {
    delete process.env.AWS_ENDPOINT_URL;
    const plain = new AwsClients({ region: "us-east-1" }).get(S3Client);
    const emulated = new AwsClients({ region: "us-east-1", endpoint: "http://localhost:4566" }).get(S3Client);
    expect(plain.config.forcePathStyle).toBeFalsy();
    expect(emulated.config.forcePathStyle).toBe(true);
  });

  it("creates one client per service and reuses it", () => {
    const clients = new AwsClients({ region: "eu-west-1" });
    expect(clients.get(EC2Client)).toBe(clients.get(EC2Client));
  });
});
