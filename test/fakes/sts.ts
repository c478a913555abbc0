import { STSClient } from "@aws-sdk/client-sts";
import type { FakeCloud, ServiceModel } from "./cloud.js";

export function stsModel(cloud: FakeCloud): ServiceModel {
  return {
    service: "sts",
    client: STSClient,
    handlers: {
      GetCallerIdentity: () => ({ Account: cloud.accountId, Arn: `arn:aws:iam::${cloud.accountId}:user/tester`, UserId: "AIDATESTER" }),
    },
  };
}
