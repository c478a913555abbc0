import { budgetsModel } from "./budgets.js";
import { FakeCloud, type FakeTimings, type ServiceModel } from "./cloud.js";
import { cloudTrailModel } from "./cloudtrail.js";
import { cloudWatchModel } from "./cloudwatch.js";
import { snsModel } from "./sns.js";
import { ec2Model, newEc2State, type Ec2State } from "./ec2.js";
import { ecrModel } from "./ecr.js";
import { ecsModel } from "./ecs.js";
import { registerEndpointsFake } from "./ec2-endpoints.js";
import { registerRoutingFake } from "./ec2-routing.js";
import { registerSecurityFake } from "./ec2-security.js";
import { elbv2Model } from "./elbv2.js";
import { iamModel } from "./iam.js";
import { logsModel } from "./logs.js";
import { rdsModel, type RdsState } from "./rds.js";
import { newS3State, s3Model, type S3State } from "./s3.js";
import { bucketTaggingSource, registerS3BucketsFake } from "./s3-buckets.js";
import { registerS3ObjectsFake } from "./s3-objects.js";
import { secretsManagerModel } from "./secretsmanager.js";
import { stsModel } from "./sts.js";
import { taggingModel } from "./tagging.js";

/**
 * The whole fake AWS the end-to-end tests and the benchmark run against. Each service's state is exposed so tests
 * can inspect it and drift it by hand. Service fakes add themselves here: a state, a model, and a tagging source.
 */
export interface FakeAws {
  cloud: FakeCloud;
  ec2: Ec2State;
  s3: S3State;
  ecr: ReturnType<typeof ecrModel>["state"];
  iam: ReturnType<typeof iamModel>["state"];
  logs: ReturnType<typeof logsModel>["state"];
  secretsmanager: ReturnType<typeof secretsManagerModel>["state"];
  elbv2: ReturnType<typeof elbv2Model>["state"];
  rds: RdsState;
  ecs: ReturnType<typeof ecsModel>["state"];
  budgets: ReturnType<typeof budgetsModel>["state"];
  cloudwatch: ReturnType<typeof cloudWatchModel>["state"];
  sns: ReturnType<typeof snsModel>["state"];
  cloudtrail: ReturnType<typeof cloudTrailModel>["state"];
  restore(): void;
}

export function installFakeAws(timings?: FakeTimings): FakeAws {
  registerRoutingFake();
  registerEndpointsFake();
  registerSecurityFake();
  registerS3ObjectsFake();
  registerS3BucketsFake();
  const cloud = new FakeCloud();
  if (timings) cloud.timings = timings;
  const ec2 = newEc2State();
  const s3 = newS3State();
  const iam = iamModel(cloud);
  const logs = logsModel(cloud);
  const ecr = ecrModel(cloud);
  const secretsmanager = secretsManagerModel(cloud);
  const elbv2 = elbv2Model(cloud, ec2);
  const models: ServiceModel[] = [ec2Model(cloud, ec2), stsModel(cloud), iam.model, logs.model, s3Model(cloud, s3), secretsmanager.model, elbv2.model];
  models.push(ecr.model);
  const rds = rdsModel(cloud, ec2);
  models.push(rds.model);
  const ecs = ecsModel(cloud, { ec2, elbv2: elbv2.state, logs: logs.state, ecr: ecr.state, iam: iam.state });
  models.push(ecs.model);
  const cloudwatch = cloudWatchModel(cloud);
  const sns = snsModel(cloud);
  const cloudtrail = cloudTrailModel(cloud, s3);
  models.push(cloudwatch.model, sns.model, cloudtrail.model);
  const budgets = budgetsModel(cloud);
  models.push(budgets.model);
  models.push(taggingModel(cloud, [bucketTaggingSource(s3), ...ecr.taggingSources, ...ec2TaggingSources(cloud, ec2), ...iam.taggingSources, ...logs.taggingSources, ...secretsmanager.taggingSources, ...elbv2.taggingSources, ...rds.taggingSources, ...ecs.taggingSources, ...cloudwatch.taggingSources, ...sns.taggingSources, ...cloudtrail.taggingSources]));
  cloud.install(models);
  return { cloud, ec2, s3, ecr: ecr.state, iam: iam.state, logs: logs.state, secretsmanager: secretsmanager.state, elbv2: elbv2.state, rds: rds.state, ecs: ecs.state, budgets: budgets.state, cloudwatch: cloudwatch.state, sns: sns.state, cloudtrail: cloudtrail.state, restore: () => cloud.restore() };
}

const EC2_KINDS: [keyof Ec2State, string, string][] = [
  ["vpcs", "vpc", "VpcId"],
  ["subnets", "subnet", "SubnetId"],
  ["internetGateways", "internet-gateway", "InternetGatewayId"],
  ["routeTables", "route-table", "RouteTableId"],
  ["addresses", "elastic-ip", "AllocationId"],
  ["natGateways", "natgateway", "NatGatewayId"],
  ["securityGroups", "security-group", "GroupId"],
  ["securityGroupRules", "security-group-rule", "SecurityGroupRuleId"],
  ["networkAcls", "network-acl", "NetworkAclId"],
  ["flowLogs", "vpc-flow-log", "FlowLogId"],
];

function ec2TaggingSources(cloud: FakeCloud, ec2: Ec2State) {
  return EC2_KINDS.map(([key, kind, idKey]) => () =>
    [...(ec2[key] as Map<string, any>).values()]
      .filter((x) => !(kind === "natgateway" && x.State === "deleted"))
      .map((x) => ({ arn: `arn:aws:ec2:${cloud.region}:${cloud.accountId}:${kind}/${x[idKey]}`, tags: x.Tags ?? {} })),
  );
}
