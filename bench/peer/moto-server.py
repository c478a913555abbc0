"""moto's server for `npm run bench`, with the gaps the dev stack meets that stop `platform up` half-way or make
every no-op `up` change something.

    python3 bench/peer/moto-server.py HOST PORT

RDS DescribeDBParameters (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameters.html)
lists every parameter of the group's family, engine defaults included, and honours `Source`; moto 5.2.1 returns only
the parameters set on the group, so platform's check that `rds.force_ssl` exists in the family fails. Patched here:
the family's `rds.force_ssl` (PostgreSQL, default 0) is listed as an engine default unless the group sets it.

ECS CreateService/UpdateService (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html)
keep healthCheckGracePeriodSeconds, enableExecuteCommand and deploymentConfiguration, and DescribeServices returns
them; moto 5.2.1 drops them, so every later plan sees drift and every no-op `up` updates the service and waits.
Patched here: the three are kept on the service and returned.

EC2 DescribeSecurityGroupRules (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRule.html)
returns the description of every rule; moto 5.2.1 leaves it out for a rule that references another group, so each
no-op `up` sets it again. Patched here: the description is read from the referenced group's entry too.

The bench needs nothing else from a patched moto; the conformance suite (test/conformance) has its own launcher.
"""
import sys

from moto.core.responses import ActionResult
from moto.rds import responses
from moto.rds.exceptions import DBParameterGroupNotFoundError

POSTGRES_DEFAULTS = {
    "rds.force_ssl": {"ParameterValue": "0", "DataType": "boolean", "AllowedValues": "0,1", "ApplyType": "dynamic", "IsModifiable": True},
}


def describe_db_parameters(self):
    name = self.params.get("DBParameterGroupName")
    groups = self.backend.describe_db_parameter_groups({"db_parameter_group_name": name})
    if not groups:
        raise DBParameterGroupNotFoundError(name)
    group = groups[0]
    family = getattr(group, "family", "") or ""
    params = {}
    if family.startswith("postgres"):
        for key, default in POSTGRES_DEFAULTS.items():
            params[key] = {"ParameterName": key, "Source": "engine-default", **default}
    for key, value in group.parameters.items():
        params[key] = {**params.get(key, {"ParameterName": key}), **value, "Source": "user"}
    source = self.params.get("Source")
    return ActionResult({"Parameters": [p for p in params.values() if not source or p.get("Source") == source]})


responses.RDSResponse.describe_db_parameters = describe_db_parameters

from moto.ecs import responses as ecs_responses  # noqa: E402

KEPT_SERVICE_FIELDS = {
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableExecuteCommand": "enable_execute_command",
    "deploymentConfiguration": "deployment_configuration",
}


def keeping_service_fields(original):
    def handler(self):
        result = original(self)
        name = self._get_param("serviceName") or self._get_param("service")
        cluster = self._get_param("cluster", "default")
        services, _ = self.ecs_backend.describe_services(cluster, [name])
        for service in services:
            for param, attribute in KEPT_SERVICE_FIELDS.items():
                value = self._get_param(param)
                if value is not None:
                    setattr(service, attribute, value)
        return result

    return handler


ecs_responses.EC2ContainerServiceResponse.create_service = keeping_service_fields(ecs_responses.EC2ContainerServiceResponse.create_service)
ecs_responses.EC2ContainerServiceResponse.update_service = keeping_service_fields(ecs_responses.EC2ContainerServiceResponse.update_service)

from moto.ec2.models import security_groups  # noqa: E402

security_groups.SecurityGroupRule.description = property(
    lambda rule: rule.ip_range.get("Description") or (rule.source_group or {}).get("Description")
)

if __name__ == "__main__":
    from moto.server import main

    main(["-H", sys.argv[1], "-p", sys.argv[2]])
