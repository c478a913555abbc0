import { registryOf } from "../engine/registry.js";
import { elasticIp } from "./elastic-ip.js";
import { flowLog } from "./flow-log.js";
import { iamRole } from "./iam-role.js";
import { internetGateway } from "./internet-gateway.js";
import { logGroup } from "./log-group.js";
import { natGateway } from "./nat-gateway.js";
import { networkAcl } from "./network-acl.js";
import { route } from "./route.js";
import { routeTableAssociation } from "./route-table-association.js";
import { routeTable } from "./route-table.js";
import { securityGroupRule } from "./security-group-rule.js";
import { securityGroup } from "./security-group.js";
import { subnet } from "./subnet.js";
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
  securityGroup,
  securityGroupRule,
  networkAcl,
  logGroup,
  iamRole,
  flowLog,
]);
