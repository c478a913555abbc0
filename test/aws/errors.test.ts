import { describe, expect, it } from "vitest";
import { EC2ServiceException } from "@aws-sdk/client-ec2";
import { awsFailure, isNotFound } from "../../src/aws/errors.js";

describe("awsFailure", () => {
  it("names the AWS error code, the message and what to do", () => {
    const err = new EC2ServiceException({ name: "VpcLimitExceeded", message: "The maximum number of VPCs has been reached.", $fault: "client", $metadata: {} });
    const failure = awsFailure("creating ec2:vpc (network.vpc)", err);
    expect(failure.code).toBe("VpcLimitExceeded");
    expect(failure.message).toBe(
      "creating ec2:vpc (network.vpc): VpcLimitExceeded: The maximum number of VPCs has been reached. (the account's VPC quota is reached; delete an unused VPC or request a quota increase)",
    );
    expect(failure.cause).toBe(err);
  });

  it("says the endpoint cannot be reached when the network fails, with Node's code", () => {
    const err = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED", $metadata: {} });
    const failure = awsFailure("reading the caller's AWS account (sts:GetCallerIdentity)", err);
    expect(failure.code).toBe("ECONNREFUSED");
    expect(failure.message).toMatch(/ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9 \(the AWS endpoint could not be reached: check the network or proxy, and AWS_ENDPOINT_URL/);
  });
});

describe("isNotFound", () => {
  it.each(["InvalidVpcID.NotFound", "NoSuchEntity", "ResourceNotFoundException", "DBInstanceNotFoundFault", "NoSuchBucket"])("treats %s as not found", (name) => {
    expect(isNotFound(new EC2ServiceException({ name, message: name, $fault: "client", $metadata: {} }))).toBe(true);
  });
  it("does not treat other errors, or errors that did not come from AWS, as not found", () => {
    expect(isNotFound(new EC2ServiceException({ name: "DependencyViolation", message: "x", $fault: "client", $metadata: {} }))).toBe(false);
    expect(isNotFound(new Error("InvalidVpcID.NotFound"))).toBe(false);
  });
});
