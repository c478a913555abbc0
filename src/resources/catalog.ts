import type { Change, ResourceType } from "./types.js";

/**
 * Every resource type, by name, without its implementation: the stack builder, the registry and `cost` use these, so
 * building the graph loads no AWS SDK client. A type's module (and its SDK client package) is imported the first time
 * the engine reads or changes a resource of that type (`loadResourceTypes` before planning), so `status` of a network-only
 * stack never loads RDS, and `cost`, `outputs`, `validate` and `state list` load no client at all.
 *
 * A new resource type: its module as before (src/resources/<type>.ts), then one line here, imported by src/stack/ and
 * src/resources/index.ts. Each `type` string must equal the module's own (a test checks).
 */
export interface LazyResourceType<S, A> extends ResourceType<S, A> {
  /** Imports the implementation (once) and returns it. */
  load(): Promise<ResourceType<S, A>>;
  /** True once the implementation is imported. */
  readonly loaded: boolean;
}

type Spec<T> = T extends ResourceType<infer S, any> ? S : never;
type Attrs<T> = T extends ResourceType<any, infer A> ? A : never;

export function lazyType<T extends ResourceType<any, any>>(type: string, importer: () => Promise<T>): LazyResourceType<Spec<T>, Attrs<T>> {
  let impl: ResourceType<Spec<T>, Attrs<T>> | undefined;
  let pending: Promise<ResourceType<Spec<T>, Attrs<T>>> | undefined;
  const load = () =>
    (pending ??= importer().then((t) => {
      if (t.type !== type) throw new Error(`internal: the catalog names ${type}, its module ${t.type}`);
      return (impl = t);
    }));
  /** Synchronous members need the implementation: the engine loads every type it uses before planning. */
  const loadedImpl = () => {
    if (!impl) throw new Error(`internal: resource type ${type} used before loadResourceTypes`);
    return impl;
  };
  return {
    type,
    load,
    get loaded() {
      return impl !== undefined;
    },
    find: async (ctx, id) => (await load()).find(ctx, id),
    create: async (ctx, spec, id) => (await load()).create(ctx, spec, id),
    destroy: async (ctx, actual) => (await load()).destroy(ctx, actual),
    diff: (spec, actual): Change[] => loadedImpl().diff(spec, actual),
    physicalId: (actual) => loadedImpl().physicalId(actual),
    get update() {
      const t = loadedImpl();
      return t.update?.bind(t);
    },
    get details() {
      const t = loadedImpl();
      return t.details?.bind(t);
    },
    get owns() {
      const t = loadedImpl();
      return t.owns?.bind(t);
    },
    get createIdempotency() {
      return loadedImpl().createIdempotency;
    },
  };
}

/** Imports the implementations of these types (those not loaded yet, at once); types that are not lazy pass through. */
export async function loadResourceTypes(types: Iterable<ResourceType<any, any> | undefined>): Promise<void> {
  const lazy = new Set<LazyResourceType<unknown, unknown>>();
  for (const t of types) if (t && "load" in t && !(t as LazyResourceType<unknown, unknown>).loaded) lazy.add(t as LazyResourceType<unknown, unknown>);
  await Promise.all([...lazy].map((t) => t.load()));
}

export const vpc = lazyType<typeof import("./vpc.js").vpc>("ec2:vpc", async () => (await import("./vpc.js")).vpc);
export const subnet = lazyType<typeof import("./subnet.js").subnet>("ec2:subnet", async () => (await import("./subnet.js")).subnet);
export const internetGateway = lazyType<typeof import("./internet-gateway.js").internetGateway>("ec2:internet-gateway", async () => (await import("./internet-gateway.js")).internetGateway);
export const routeTable = lazyType<typeof import("./route-table.js").routeTable>("ec2:route-table", async () => (await import("./route-table.js")).routeTable);
export const route = lazyType<typeof import("./route.js").route>("ec2:route", async () => (await import("./route.js")).route);
export const routeTableAssociation = lazyType<typeof import("./route-table-association.js").routeTableAssociation>("ec2:route-table-association", async () => (await import("./route-table-association.js")).routeTableAssociation);
export const elasticIp = lazyType<typeof import("./elastic-ip.js").elasticIp>("ec2:eip", async () => (await import("./elastic-ip.js")).elasticIp);
export const natGateway = lazyType<typeof import("./nat-gateway.js").natGateway>("ec2:nat-gateway", async () => (await import("./nat-gateway.js")).natGateway);
export const vpcEndpoint = lazyType<typeof import("./vpc-endpoint.js").vpcEndpoint>("ec2:vpc-endpoint", async () => (await import("./vpc-endpoint.js")).vpcEndpoint);
export const securityGroup = lazyType<typeof import("./security-group.js").securityGroup>("ec2:security-group", async () => (await import("./security-group.js")).securityGroup);
export const securityGroupRule = lazyType<typeof import("./security-group-rule.js").securityGroupRule>("ec2:security-group-rule", async () => (await import("./security-group-rule.js")).securityGroupRule);
export const networkAcl = lazyType<typeof import("./network-acl.js").networkAcl>("ec2:network-acl", async () => (await import("./network-acl.js")).networkAcl);
export const logGroup = lazyType<typeof import("./log-group.js").logGroup>("logs:log-group", async () => (await import("./log-group.js")).logGroup);
export const iamRole = lazyType<typeof import("./iam-role.js").iamRole>("iam:role", async () => (await import("./iam-role.js")).iamRole);
export const flowLog = lazyType<typeof import("./flow-log.js").flowLog>("ec2:flow-log", async () => (await import("./flow-log.js")).flowLog);
export const bucket = lazyType<typeof import("./bucket.js").bucket>("s3:bucket", async () => (await import("./bucket.js")).bucket);
export const bucketEncryption = lazyType<typeof import("./bucket-settings.js").bucketEncryption>("s3:bucket-encryption", async () => (await import("./bucket-settings.js")).bucketEncryption);
export const bucketPublicAccessBlock = lazyType<typeof import("./bucket-settings.js").bucketPublicAccessBlock>("s3:bucket-public-access-block", async () => (await import("./bucket-settings.js")).bucketPublicAccessBlock);
export const bucketPolicy = lazyType<typeof import("./bucket-settings.js").bucketPolicy>("s3:bucket-policy", async () => (await import("./bucket-settings.js")).bucketPolicy);
export const bucketVersioning = lazyType<typeof import("./bucket-settings.js").bucketVersioning>("s3:bucket-versioning", async () => (await import("./bucket-settings.js")).bucketVersioning);
export const bucketLifecycle = lazyType<typeof import("./bucket-settings.js").bucketLifecycle>("s3:bucket-lifecycle", async () => (await import("./bucket-settings.js")).bucketLifecycle);
export const bucketOwnershipControls = lazyType<typeof import("./bucket-settings.js").bucketOwnershipControls>("s3:bucket-ownership-controls", async () => (await import("./bucket-settings.js")).bucketOwnershipControls);
export const ecrRepository = lazyType<typeof import("./ecr-repository.js").ecrRepository>("ecr:repository", async () => (await import("./ecr-repository.js")).ecrRepository);
export const ecrLifecyclePolicy = lazyType<typeof import("./ecr-lifecycle-policy.js").ecrLifecyclePolicy>("ecr:lifecycle-policy", async () => (await import("./ecr-lifecycle-policy.js")).ecrLifecyclePolicy);
export const loadBalancer = lazyType<typeof import("./load-balancer.js").loadBalancer>("elbv2:load-balancer", async () => (await import("./load-balancer.js")).loadBalancer);
export const targetGroup = lazyType<typeof import("./target-group.js").targetGroup>("elbv2:target-group", async () => (await import("./target-group.js")).targetGroup);
export const listener = lazyType<typeof import("./listener.js").listener>("elbv2:listener", async () => (await import("./listener.js")).listener);
export const listenerRule = lazyType<typeof import("./listener-rule.js").listenerRule>("elbv2:listener-rule", async () => (await import("./listener-rule.js")).listenerRule);
export const secret = lazyType<typeof import("./secret.js").secret>("secretsmanager:secret", async () => (await import("./secret.js")).secret);
export const secretFields = lazyType<typeof import("./secret-fields.js").secretFields>("secretsmanager:secret-fields", async () => (await import("./secret-fields.js")).secretFields);
export const dbSubnetGroup = lazyType<typeof import("./db-subnet-group.js").dbSubnetGroup>("rds:db-subnet-group", async () => (await import("./db-subnet-group.js")).dbSubnetGroup);
export const dbParameterGroup = lazyType<typeof import("./db-parameter-group.js").dbParameterGroup>("rds:db-parameter-group", async () => (await import("./db-parameter-group.js")).dbParameterGroup);
export const dbInstance = lazyType<typeof import("./db-instance.js").dbInstance>("rds:db-instance", async () => (await import("./db-instance.js")).dbInstance);
export const ecsCluster = lazyType<typeof import("./ecs-cluster.js").ecsCluster>("ecs:cluster", async () => (await import("./ecs-cluster.js")).ecsCluster);
export const ecsTaskDefinition = lazyType<typeof import("./ecs-task-definition.js").ecsTaskDefinition>("ecs:task-definition", async () => (await import("./ecs-task-definition.js")).ecsTaskDefinition);
export const ecsService = lazyType<typeof import("./ecs-service.js").ecsService>("ecs:service", async () => (await import("./ecs-service.js")).ecsService);
export const budget = lazyType<typeof import("./budget.js").budget>("budgets:budget", async () => (await import("./budget.js")).budget);
export const snsTopic = lazyType<typeof import("./sns-topic.js").snsTopic>("sns:topic", async () => (await import("./sns-topic.js")).snsTopic);
export const snsSubscription = lazyType<typeof import("./sns-subscription.js").snsSubscription>("sns:subscription", async () => (await import("./sns-subscription.js")).snsSubscription);
export const metricAlarm = lazyType<typeof import("./cloudwatch-alarm.js").metricAlarm>("cloudwatch:metric-alarm", async () => (await import("./cloudwatch-alarm.js")).metricAlarm);
export const dashboard = lazyType<typeof import("./cloudwatch-dashboard.js").dashboard>("cloudwatch:dashboard", async () => (await import("./cloudwatch-dashboard.js")).dashboard);
export const cloudTrail = lazyType<typeof import("./cloudtrail-trail.js").cloudTrail>("cloudtrail:trail", async () => (await import("./cloudtrail-trail.js")).cloudTrail);
export const oidcProvider = lazyType<typeof import("./oidc-provider.js").oidcProvider>("iam:oidc-provider", async () => (await import("./oidc-provider.js")).oidcProvider);

export const BUCKET_SETTING_TYPES = [bucketEncryption, bucketPublicAccessBlock, bucketPolicy, bucketVersioning, bucketLifecycle, bucketOwnershipControls] as const;
