import { registryOf } from "../engine/registry.js";
import { BUCKET_SETTING_TYPES } from "./bucket-settings.js";
import { bucket } from "./bucket.js";
import { cloudTrail } from "./cloudtrail-trail.js";
import { metricAlarm } from "./cloudwatch-alarm.js";
import { dashboard } from "./cloudwatch-dashboard.js";
import { budget } from "./budget.js";
import { dbInstance } from "./db-instance.js";
import { dbParameterGroup } from "./db-parameter-group.js";
import { dbSubnetGroup } from "./db-subnet-group.js";
import { ecsCluster } from "./ecs-cluster.js";
import { ecsService } from "./ecs-service.js";
import { ecsTaskDefinition } from "./ecs-task-definition.js";
import { ecrLifecyclePolicy } from "./ecr-lifecycle-policy.js";
import { ecrRepository } from "./ecr-repository.js";
import { elasticIp } from "./elastic-ip.js";
import { flowLog } from "./flow-log.js";
import { iamRole } from "./iam-role.js";
import { internetGateway } from "./internet-gateway.js";
import { listener } from "./listener.js";
import { listenerRule } from "./listener-rule.js";
import { loadBalancer } from "./load-balancer.js";
import { logGroup } from "./log-group.js";
import { natGateway } from "./nat-gateway.js";
import { vpcEndpoint } from "./vpc-endpoint.js";
import { oidcProvider } from "./oidc-provider.js";
import { networkAcl } from "./network-acl.js";
import { route } from "./route.js";
import { routeTableAssociation } from "./route-table-association.js";
import { routeTable } from "./route-table.js";
import { secretFields } from "./secret-fields.js";
import { secret } from "./secret.js";
import { securityGroupRule } from "./security-group-rule.js";
import { securityGroup } from "./security-group.js";
import { snsSubscription } from "./sns-subscription.js";
import { snsTopic } from "./sns-topic.js";
import { subnet } from "./subnet.js";
import { targetGroup } from "./target-group.js";
import { vpc } from "./vpc.js";

/** Every resource type platform manages, so state alone can be read and destroyed. */
export const registry = registryOf([
  vpc,
  subnet,
  internetGateway,
  routeTable,
  route,
  routeTableAssociation,
  elasticIp,
  natGateway,
  vpcEndpoint,
  securityGroup,
  securityGroupRule,
  networkAcl,
  logGroup,
  iamRole,
  flowLog,
  bucket,
  ...BUCKET_SETTING_TYPES,
  ecrRepository,
  ecrLifecyclePolicy,
  loadBalancer,
  targetGroup,
  listener,
  listenerRule,
  secret,
  secretFields,
  dbSubnetGroup,
  dbParameterGroup,
  dbInstance,
  ecsCluster,
  ecsTaskDefinition,
  ecsService,
  budget,
  snsTopic,
  snsSubscription,
  metricAlarm,
  dashboard,
  cloudTrail,
  oidcProvider,
]);
