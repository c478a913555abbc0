"""
Patches that teach moto 5.2.1 the AWS behaviours `platform` uses and moto lacks (listed in docs/conformance.md).

Each patch names the AWS behaviour it restores and the API reference it follows. A patch never changes what the tool
may send: it makes moto answer as AWS does.
"""
import json
import threading
from typing import Any

_request = threading.local()


def wrap_app(app: Any) -> Any:
    """Remembers each request's scheme for the aws:SecureTransport condition key (werkzeug serves one request per thread)."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        _request.secure = environ.get("wsgi.url_scheme") == "https"
        return app(environ, start_response)

    return wrapped


def apply() -> None:
    _s3_secure_transport()
    _rds_describe_db_parameters()
    _ecs_create_service_settings()
    _ecs_tasks_run_and_register()
    _budgets_missing_calls()
    _cloudtrail_name_or_arn()
    _ec2_group_rule_descriptions()
    _iam_simulate_principal_policy()
    _ecr_digest_of_manifest()


# ---- S3 ------------------------------------------------------------------------------------------------------------
def _s3_secure_transport() -> None:
    """
    AWS: a bucket policy statement applies only when its Condition holds; aws:SecureTransport is "true" for requests
    over TLS and "false" over plain HTTP, so `Deny ... Bool {aws:SecureTransport: false}` refuses only plain-HTTP requests.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-securetransport
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
    moto 5.2.1 passes no condition values to bucket policies, and a statement whose condition fails counts as a Deny,
    so the TLS-only statement refused every request. Here a Bool condition on aws:SecureTransport is evaluated from
    the request's scheme; a statement whose condition does not hold is skipped; other conditions stay as moto treats them.
    """
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    from moto.s3.models import FakeBucket

    def condition_holds(condition: dict[str, Any], secure: bool) -> bool:
        for operator, keys in condition.items():
            for key, expected in keys.items():
                if operator == "Bool" and key.lower() == "aws:securetransport":
                    wanted = [str(v).lower() for v in (expected if isinstance(expected, list) else [expected])]
                    if ("true" if secure else "false") not in wanted:
                        return False
        return True

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        secure = getattr(_request, "secure", True)
        doc = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        permitted = False
        for statement in statements:
            if "Condition" in statement and not condition_holds(statement["Condition"], secure):
                continue
            rest = {k: v for k, v in statement.items() if k != "Condition" or any(op != "Bool" for op in v)}
            verdict = IAMPolicyStatement(rest).is_action_permitted(action, resource)
            if verdict == PermissionResult.DENIED:
                return verdict
            permitted = permitted or verdict == PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission


# ---- RDS -----------------------------------------------------------------------------------------------------------
# Engine parameters of the postgres families as DescribeDBParameters reports them (Source engine-default), the few the
# tool reads plus neighbours; values from the RDS for PostgreSQL parameter reference.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Parameters.html
_POSTGRES_PARAMETERS = [
    {"ParameterName": "rds.force_ssl", "ParameterValue": "0", "Description": "Force SSL connections.", "Source": "engine-default", "ApplyType": "dynamic", "DataType": "boolean", "AllowedValues": "0,1", "IsModifiable": True, "ApplyMethod": "pending-reboot"},
    {"ParameterName": "log_min_duration_statement", "Description": "Sets the minimum execution time above which statements will be logged.", "Source": "engine-default", "ApplyType": "dynamic", "DataType": "integer", "AllowedValues": "-1-2147483647", "IsModifiable": True, "ApplyMethod": "pending-reboot"},
    {"ParameterName": "shared_preload_libraries", "ParameterValue": "pg_stat_statements", "Description": "Lists shared libraries to preload into server.", "Source": "system", "ApplyType": "static", "DataType": "list", "IsModifiable": True, "ApplyMethod": "pending-reboot"},
    {"ParameterName": "max_connections", "ParameterValue": "LEAST({DBInstanceClassMemory/9531392},5000)", "Description": "Sets the maximum number of concurrent connections.", "Source": "system", "ApplyType": "static", "DataType": "integer", "AllowedValues": "6-262143", "IsModifiable": True, "ApplyMethod": "pending-reboot"},
    {"ParameterName": "rds.extensions", "Description": "List of extensions available.", "Source": "system", "ApplyType": "static", "DataType": "list", "IsModifiable": False, "ApplyMethod": "pending-reboot"},
]


def _rds_describe_db_parameters() -> None:
    """
    AWS: DescribeDBParameters lists every parameter of the group's family (engine defaults and system values included),
    narrowed by Source ("user", "system", "engine-default") and the parameter-name filter, each with ApplyType,
    IsModifiable and AllowedValues. https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameters.html
    moto 5.2.1 returns only the parameters set on the group and ignores Source and Filters.
    """
    from moto.core.responses import ActionResult
    from moto.rds.exceptions import DBParameterGroupNotFoundError
    from moto.rds.responses import RDSResponse

    def describe_db_parameters(self: Any) -> Any:
        name = self.params.get("DBParameterGroupName")
        groups = self.backend.describe_db_parameter_groups({"db_parameter_group_name": name})
        if not groups:
            raise DBParameterGroupNotFoundError(name)
        group = groups[0]
        merged: dict[str, dict[str, Any]] = {}
        if str(group.family).startswith("postgres"):
            for p in _POSTGRES_PARAMETERS:
                merged[p["ParameterName"]] = dict(p)
        for pname, p in group.parameters.items():
            base = merged.get(pname, {"ParameterName": pname, "ApplyType": "dynamic", "IsModifiable": True})
            merged[pname] = {**base, **{k: v for k, v in p.items() if v is not None}, "Source": "user"}
        source = self.params.get("Source")
        names: list[str] | None = None
        for f in self.params.get("Filters") or []:
            if f.get("Name") == "parameter-name":
                names = list(f.get("Values") or [])
        out = [p for p in merged.values() if (source is None or p.get("Source") == source) and (names is None or p["ParameterName"] in names)]
        return ActionResult({"Parameters": out})

    RDSResponse.describe_db_parameters = describe_db_parameters


# ---- ECS -----------------------------------------------------------------------------------------------------------
_SERVICE_SETTINGS = {
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableExecuteCommand": "enable_execute_command",
    "deploymentConfiguration": "deployment_configuration",
}


def _ecs_create_service_settings() -> None:
    """
    AWS: CreateService keeps healthCheckGracePeriodSeconds, enableExecuteCommand and deploymentConfiguration, and
    DescribeServices returns them. https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
    moto 5.2.1 drops them on create (UpdateService keeps them), so every later read looked like drift.
    """
    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.create_service

    def create_service(self: Any) -> Any:
        result = original(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        for param, attr in _SERVICE_SETTINGS.items():
            value = self._get_param(param)
            if value is not None:
                setattr(service, attr, value)
        return result

    EC2ContainerServiceResponse.create_service = create_service


def _ecs_tasks_run_and_register() -> None:
    """
    AWS: a service's scheduler starts desiredCount tasks of the service's task definition; once they run, the deployment
    is COMPLETED with runningCount = desiredCount, and with a load balancer each task's IP is registered in the service's
    target groups (deregistered when tasks stop).
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_definition_parameters.html#sd-loadbalancers
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html
    moto 5.2.1 takes the running count from the MOTO_ECS_SERVICE_RUNNING environment variable and registers no targets,
    so no service ever reaches a steady state. Here tasks "start" at once and are healthy: moto runs no containers.
    """
    from moto.core.utils import utcnow
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.elbv2.models import elbv2_backends

    counter = {"n": 0}

    def settle(backend: Any, service: Any) -> None:
        desired = int(service.desired_count or 0)
        service.running_count = desired
        service.pending_count = 0
        now = utcnow()
        if service.deployment_controller.get("type", "ECS") == "ECS":
            previous = service.deployments[0] if service.deployments else {}
            deployment_id = previous.get("id") if previous.get("taskDefinition") == service.task_definition else f"ecs-svc/{counter['n'] + 100000}"
            service.deployments = [
                {
                    **previous,
                    "id": deployment_id,
                    "status": "PRIMARY",
                    "taskDefinition": service.task_definition,
                    "desiredCount": desired,
                    "runningCount": desired,
                    "pendingCount": 0,
                    "failedTasks": 0,
                    "rolloutState": "COMPLETED",
                    "rolloutStateReason": f"ECS deployment {deployment_id} completed.",
                    "createdAt": previous.get("createdAt", now),
                    "updatedAt": now,
                }
            ]
        elb = elbv2_backends[backend.account_id][backend.region_name]
        for lb in service.load_balancers or []:
            arn = lb.get("targetGroupArn")
            group = elb.target_groups.get(arn) if arn else None
            if group is None:
                continue
            mine = getattr(service, "_registered_targets", {}).get(arn, [])
            for target_id in mine:
                group.targets.pop(target_id, None)
            ips = []
            for _ in range(desired):
                counter["n"] += 1
                n = counter["n"]
                ips.append(f"10.{200 + (n >> 16) % 50}.{(n >> 8) & 255}.{n & 255}")
            group.register([{"Id": ip, "Port": lb.get("containerPort")} for ip in ips])
            registered = getattr(service, "_registered_targets", {})
            registered[arn] = ips
            service._registered_targets = registered

    original_create = EC2ContainerServiceBackend.create_service
    original_update = EC2ContainerServiceBackend.update_service
    original_delete = EC2ContainerServiceBackend.delete_service

    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = original_create(self, *args, **kwargs)
        settle(self, service)
        return service

    def update_service(self: Any, props: dict[str, Any]) -> Any:
        service = original_update(self, props)
        settle(self, service)
        return service

    def delete_service(self: Any, cluster_name: str, service_name: str, force: bool) -> Any:
        service = original_delete(self, cluster_name, service_name, force)
        service.desired_count = 0
        settle(self, service)
        service.running_count = 0
        return service

    EC2ContainerServiceBackend.create_service = create_service
    EC2ContainerServiceBackend.update_service = update_service
    EC2ContainerServiceBackend.delete_service = delete_service


# ---- Budgets -------------------------------------------------------------------------------------------------------
def _budgets_missing_calls() -> None:
    """
    AWS Budgets has UpdateBudget, CreateSubscriber, DeleteSubscriber, DescribeSubscribersForNotification,
    TagResource, UntagResource and ListTagsForResource, and CreateBudget keeps ResourceTags.
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_UpdateBudget.html
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_DescribeSubscribersForNotification.html
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_CreateSubscriber.html
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_DeleteSubscriber.html
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_TagResource.html
    https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_ListTagsForResource.html
    moto 5.2.1 implements none of them (NotImplementedError, an HTML 500) and drops ResourceTags.
    """
    from moto.budgets.exceptions import NotFoundException
    from moto.budgets.models import BudgetsBackend
    from moto.budgets.responses import BudgetsResponse
    from moto.core.utils import unix_time

    tags: dict[str, dict[str, str]] = {}

    def arn_of(account_id: str, name: str) -> str:
        return f"arn:aws:budgets::{account_id}:budget/{name}"

    def budget(self: Any, account_id: str, name: str) -> Any:
        found = self.budgets[account_id].get(name)
        if found is None:
            raise NotFoundException(f"Unable to get budget: {name} - the budget doesn't exist.")
        return found

    def notification_of(b: Any, wanted: dict[str, Any]) -> Any:
        for n in b.notifications:
            if all(n.details.get(k) == v for k, v in wanted.items() if k in ("NotificationType", "ComparisonOperator", "Threshold", "ThresholdType")):
                return n
        raise NotFoundException("Unable to find notification for the budget")

    original_create = BudgetsResponse.create_budget

    def create_budget(self: Any) -> str:
        result = original_create(self)
        name = self._get_param("Budget")["BudgetName"]
        tags[arn_of(self._get_param("AccountId"), name)] = {t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []}
        return result

    def update_budget(self: Any) -> str:
        new = self._get_param("NewBudget")
        b = budget(self.backend, self._get_param("AccountId"), new["BudgetName"])
        keep = {k: v for k, v in b.budget.items() if k in ("TimePeriod",) and k not in new}
        b.budget = {**new, **keep, "LastUpdatedTime": unix_time()}
        return json.dumps({})

    def subscribers_of(self: Any) -> str:
        b = budget(self.backend, self._get_param("AccountId"), self._get_param("BudgetName"))
        n = notification_of(b, self._get_param("Notification"))
        subs = n.subscribers if isinstance(n.subscribers, list) else [n.subscribers]
        return json.dumps({"Subscribers": subs})

    def create_subscriber(self: Any) -> str:
        b = budget(self.backend, self._get_param("AccountId"), self._get_param("BudgetName"))
        n = notification_of(b, self._get_param("Notification"))
        n.subscribers = [*(n.subscribers or []), self._get_param("Subscriber")]
        return json.dumps({})

    def delete_subscriber(self: Any) -> str:
        b = budget(self.backend, self._get_param("AccountId"), self._get_param("BudgetName"))
        n = notification_of(b, self._get_param("Notification"))
        gone = self._get_param("Subscriber")
        n.subscribers = [s for s in n.subscribers or [] if s.get("Address") != gone.get("Address")]
        return json.dumps({})

    def list_tags(self: Any) -> str:
        arn = self._get_param("ResourceARN")
        return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.get(arn, {}).items()]})

    def tag_resource(self: Any) -> str:
        arn = self._get_param("ResourceARN")
        tags.setdefault(arn, {}).update({t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []})
        return json.dumps({})

    def untag_resource(self: Any) -> str:
        arn = self._get_param("ResourceARN")
        for k in self._get_param("ResourceTagKeys") or []:
            tags.get(arn, {}).pop(k, None)
        return json.dumps({})

    original_delete = BudgetsBackend.delete_budget

    def delete_budget(self: Any, account_id: str, budget_name: str) -> None:
        original_delete(self, account_id, budget_name)
        tags.pop(arn_of(account_id, budget_name), None)

    BudgetsResponse.create_budget = create_budget
    BudgetsResponse.update_budget = update_budget
    BudgetsResponse.describe_subscribers_for_notification = subscribers_of
    BudgetsResponse.create_subscriber = create_subscriber
    BudgetsResponse.delete_subscriber = delete_subscriber
    BudgetsResponse.list_tags_for_resource = list_tags
    BudgetsResponse.tag_resource = tag_resource
    BudgetsResponse.untag_resource = untag_resource
    BudgetsBackend.delete_budget = delete_budget


# ---- CloudTrail ----------------------------------------------------------------------------------------------------
def _cloudtrail_name_or_arn() -> None:
    """
    AWS: StartLogging, StopLogging and DeleteTrail take the trail's name or its ARN.
    https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DeleteTrail.html
    https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StartLogging.html
    moto 5.2.1 looks the value up as a name only: StartLogging by ARN fails with a KeyError (HTML 500) and DeleteTrail by
    ARN silently deletes nothing.
    """
    from moto.cloudtrail.models import CloudTrailBackend

    def start_logging(self: Any, name: str) -> None:
        self.get_trail(name).start_logging()

    def stop_logging(self: Any, name: str) -> None:
        self.get_trail(name).stop_logging()

    def delete_trail(self: Any, name: str) -> None:
        trail = self.get_trail(name)
        del self.trails[trail.trail_name]

    CloudTrailBackend.start_logging = start_logging
    CloudTrailBackend.stop_logging = stop_logging
    CloudTrailBackend.delete_trail = delete_trail


# ---- EC2 -----------------------------------------------------------------------------------------------------------
def _ec2_group_rule_descriptions() -> None:
    """
    AWS: DescribeSecurityGroupRules returns each rule's Description, whether the rule names a CIDR range or another
    security group (ReferencedGroupInfo). https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRule.html
    moto 5.2.1 reads the description only from a CIDR range, so rules that reference a group came back without one.
    """
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self: Any) -> Any:
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    SecurityGroupRule.description = property(description)


# ---- IAM -----------------------------------------------------------------------------------------------------------
def _iam_simulate_principal_policy() -> None:
    """
    AWS: SimulatePrincipalPolicy evaluates the policies attached to a user or role (inline and managed) for each action
    and resource and answers allowed, explicitDeny or implicitDeny per action.
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
    moto 5.2.1 does not implement it. This evaluates identity policies only (no permissions boundary, SCP or resource
    policy), which is what the tool asks about: may a role read a secret.
    """
    from moto.core.responses import ActionResult
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.responses import IamResponse

    def documents(principal: Any) -> list[str]:
        docs = [d if isinstance(d, str) else json.dumps(d) for d in principal.policies.values()]
        for policy in principal.managed_policies.values():
            for version in policy.versions:
                if getattr(version, "version_id", None) == policy.default_version_id:
                    docs.append(version.document if isinstance(version.document, str) else json.dumps(version.document))
        return docs

    def simulate_principal_policy(self: Any) -> Any:
        source = self._get_param("PolicySourceArn")
        actions = self._get_param("ActionNames", [])
        resources = self._get_param("ResourceArns", []) or ["*"]
        kind, name = source.split(":", 5)[5].split("/", 1)
        principal = self.backend.get_role_by_arn(source) if kind == "role" else self.backend.get_user(name.split("/")[-1])
        docs = documents(principal)
        results = []
        for action in actions:
            for resource in resources:
                verdicts = [IAMPolicy(d).is_action_permitted(action, resource) for d in docs]
                decision = "explicitDeny" if PermissionResult.DENIED in verdicts else "allowed" if PermissionResult.PERMITTED in verdicts else "implicitDeny"
                results.append({"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision, "MatchedStatements": [], "MissingContextValues": []})
        return ActionResult({"EvaluationResults": results, "IsTruncated": False})

    IamResponse.simulate_principal_policy = simulate_principal_policy


# ---- ECR -----------------------------------------------------------------------------------------------------------
def _ecr_digest_of_manifest() -> None:
    """
    AWS: an image's digest is the sha256 of its manifest exactly as pushed, and BatchGetImage returns those bytes, so a
    client can verify the manifest against the digest. https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageIdentifier.html
    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html
    moto 5.2.1 hashes the concatenated layer digests instead, so no manifest it returns matches its digest.
    """
    import hashlib

    from moto.ecr.models import Image

    def create_digest(self: Any) -> None:
        self._image_digest = "sha256:" + hashlib.sha256(self.image_manifest.encode("utf-8")).hexdigest()

    Image._create_digest = create_digest
