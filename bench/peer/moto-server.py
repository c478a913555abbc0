"""moto's server for `npm run bench`, with the one gap the dev stack meets that would stop `platform up` half-way.

    python3 bench/peer/moto-server.py HOST PORT

RDS DescribeDBParameters (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameters.html)
lists every parameter of the group's family, engine defaults included, and honours `Source`; moto 5.2.1 returns only
the parameters set on the group, so platform's check that `rds.force_ssl` exists in the family fails. Patched here:
the family's `rds.force_ssl` (PostgreSQL, default 0) is listed as an engine default unless the group sets it.
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

if __name__ == "__main__":
    from moto.server import main

    main(["-H", sys.argv[1], "-p", sys.argv[2]])
