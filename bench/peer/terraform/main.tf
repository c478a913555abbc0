# The Terraform twin of platform's dev stack (config/dev.json with budget.enabled=false and audit.trail=false, as
# `npm run bench` runs both), for the side-by-side benchmark only: same resources, names and settings as far as the
# AWS provider allows. Differences are listed in docs/benchmark.md ("What the twin cannot match").
# Endpoints, credentials and account come from variables the benchmark sets (bench/peer/run.ts).

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

variable "endpoint" { type = string }
variable "account_id" {
  type    = string
  default = "123456789012"
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  endpoints {
    cloudwatch     = var.endpoint
    cloudwatchlogs = var.endpoint
    ec2            = var.endpoint
    ecr            = var.endpoint
    ecs            = var.endpoint
    elbv2          = var.endpoint
    iam            = var.endpoint
    rds            = var.endpoint
    s3             = var.endpoint
    secretsmanager = var.endpoint
    sns            = var.endpoint
    sts            = var.endpoint
  }
  default_tags {
    tags = { CostCenter = "data-platform", DataClassification = "Internal", Project = "clinical-platform", Environment = "dev", ManagedBy = "terraform" }
  }
}

locals {
  prefix   = "clinical-platform-dev"
  account  = var.account_id
  azs      = ["us-east-1a", "us-east-1b"]
  public   = { a = "10.0.0.0/24", b = "10.0.1.0/24" }
  private  = { a = "10.0.2.0/24", b = "10.0.3.0/24" }
  buckets  = { raw = true, silver = true, gold = true, lineage = true, artifacts = false } # versioned?
  repos    = ["api", "worker", "dbt-runner"]
  services = ["api", "worker", "dbt-runner"]
  ecs_trust = jsonencode({
    Version = "2012-10-17",
    Statement = [{ Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" }, Action = "sts:AssumeRole",
    Condition = { ArnLike = { "aws:SourceArn" = "arn:aws:ecs:us-east-1:${local.account}:*" }, StringEquals = { "aws:SourceAccount" = local.account } } }]
  })
}

# ---- network ----
resource "aws_vpc" "main" {
  cidr_block           = "10.0.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "${local.prefix}-vpc" }
}

resource "aws_subnet" "public" {
  for_each                = local.public
  vpc_id                  = aws_vpc.main.id
  cidr_block              = each.value
  availability_zone       = "us-east-1${each.key}"
  map_public_ip_on_launch = true
  tags                    = { Name = "${local.prefix}-public-${each.key}" }
}

resource "aws_subnet" "private" {
  for_each          = local.private
  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "us-east-1${each.key}"
  tags              = { Name = "${local.prefix}-private-${each.key}" }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${local.prefix}-igw" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${local.prefix}-public" }
}

resource "aws_route" "public_default" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.main.id
}

resource "aws_route_table" "private" {
  for_each = local.private
  vpc_id   = aws_vpc.main.id
  tags     = { Name = "${local.prefix}-private-${each.key}" }
}

resource "aws_route_table_association" "public" {
  for_each       = local.public
  subnet_id      = aws_subnet.public[each.key].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "private" {
  for_each       = local.private
  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_network_acl" "public" {
  vpc_id     = aws_vpc.main.id
  subnet_ids = [for s in aws_subnet.public : s.id]
  ingress {
    rule_no    = 100
    protocol   = "6"
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 80
    to_port    = 80
  }
  ingress {
    rule_no    = 110
    protocol   = "6"
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 443
    to_port    = 443
  }
  ingress {
    rule_no    = 120
    protocol   = "6"
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65535
  }
  ingress {
    rule_no    = 130
    protocol   = "-1"
    action     = "allow"
    cidr_block = "10.0.0.0/16"
    from_port  = 0
    to_port    = 0
  }
  egress {
    rule_no    = 100
    protocol   = "-1"
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }
  tags = { Name = "${local.prefix}-public" }
}

resource "aws_network_acl" "private" {
  vpc_id     = aws_vpc.main.id
  subnet_ids = [for s in aws_subnet.private : s.id]
  ingress {
    rule_no    = 100
    protocol   = "-1"
    action     = "allow"
    cidr_block = "10.0.0.0/16"
    from_port  = 0
    to_port    = 0
  }
  ingress {
    rule_no    = 110
    protocol   = "6"
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65535
  }
  egress {
    rule_no    = 100
    protocol   = "-1"
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }
  tags = { Name = "${local.prefix}-private" }
}

resource "aws_security_group" "sg" {
  for_each = {
    alb        = "Load balancer: HTTP and HTTPS from the internet"
    api        = "API tasks: app port from the load balancer only"
    db         = "PostgreSQL: from the API and dbt tasks only"
    dbt        = "dbt tasks: the database and AWS APIs"
    monitoring = "Monitoring tasks"
  }
  name        = "${local.prefix}-${each.key}"
  description = each.value
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "${local.prefix}-${each.key}" }
}

resource "aws_vpc_security_group_ingress_rule" "alb_http_in" {
  security_group_id = aws_security_group.sg["alb"].id
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}
resource "aws_vpc_security_group_ingress_rule" "alb_https_in" {
  security_group_id = aws_security_group.sg["alb"].id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
resource "aws_vpc_security_group_egress_rule" "alb_api_out" {
  security_group_id            = aws_security_group.sg["alb"].id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
  referenced_security_group_id = aws_security_group.sg["api"].id
}
resource "aws_vpc_security_group_ingress_rule" "api_alb_in" {
  security_group_id            = aws_security_group.sg["api"].id
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
  referenced_security_group_id = aws_security_group.sg["alb"].id
}
resource "aws_vpc_security_group_egress_rule" "https_out" {
  for_each          = toset(["api", "dbt"])
  security_group_id = aws_security_group.sg[each.key].id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  description       = "AWS APIs: ECR, Secrets Manager, S3, CloudWatch Logs"
}
resource "aws_vpc_security_group_egress_rule" "db_out" {
  for_each                     = toset(["api", "dbt"])
  security_group_id            = aws_security_group.sg[each.key].id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.sg["db"].id
}
resource "aws_vpc_security_group_ingress_rule" "db_in" {
  for_each                     = toset(["api", "dbt"])
  security_group_id            = aws_security_group.sg["db"].id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.sg[each.key].id
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/vpc/${local.prefix}/flow-logs"
  retention_in_days = 7
}

resource "aws_iam_role" "flow_logs" {
  name        = "${local.prefix}-vpc-flow-logs"
  description = "Lets VPC Flow Logs write to the environment's flow-log group"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17",
    Statement = [{ Effect = "Allow", Principal = { Service = "vpc-flow-logs.amazonaws.com" }, Action = "sts:AssumeRole", Condition = { StringEquals = { "aws:SourceAccount" = local.account } } }]
  })
  inline_policy {
    name = "write-flow-logs"
    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
    Resource = [aws_cloudwatch_log_group.flow_logs.arn, "${aws_cloudwatch_log_group.flow_logs.arn}:*"] }] })
  }
}

resource "aws_flow_log" "vpc" {
  vpc_id          = aws_vpc.main.id
  traffic_type    = "REJECT"
  log_destination = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn    = aws_iam_role.flow_logs.arn
}

# ---- storage ----
resource "aws_s3_bucket" "b" {
  for_each = local.buckets
  bucket   = "${local.prefix}-${each.key}-${local.account}"
}
resource "aws_s3_bucket_public_access_block" "b" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.b[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.b[each.key].id
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "AES256" }
    bucket_key_enabled = false
  }
}
resource "aws_s3_bucket_policy" "b" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.b[each.key].id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "DenyInsecureTransport", Effect = "Deny", Principal = "*", Action = "s3:*",
  Resource = [aws_s3_bucket.b[each.key].arn, "${aws_s3_bucket.b[each.key].arn}/*"], Condition = { Bool = { "aws:SecureTransport" = "false" } } }] })
  depends_on = [aws_s3_bucket_public_access_block.b]
}
resource "aws_s3_bucket_versioning" "b" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.b[each.key].id
  versioning_configuration { status = each.value ? "Enabled" : "Suspended" }
}
resource "aws_s3_bucket_ownership_controls" "b" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.b[each.key].id
  rule { object_ownership = "BucketOwnerEnforced" }
}
resource "aws_s3_bucket_lifecycle_configuration" "b" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.b[each.key].id
  rule {
    id     = "platform-managed"
    status = "Enabled"
    filter { prefix = "" }
    abort_incomplete_multipart_upload { days_after_initiation = 7 }
  }
}

resource "aws_ecr_repository" "r" {
  for_each             = toset(local.repos)
  name                 = "${local.prefix}/${each.key}"
  image_tag_mutability = "MUTABLE"
  image_scanning_configuration { scan_on_push = true }
  encryption_configuration { encryption_type = "AES256" }
}
resource "aws_ecr_lifecycle_policy" "r" {
  for_each   = toset(local.repos)
  repository = aws_ecr_repository.r[each.key].name
  policy = jsonencode({ rules = [{ rulePriority = 1, description = "Keep only the newest 20 images",
  selection = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 }, action = { type = "expire" } }] })
}

resource "aws_cloudwatch_log_group" "ecs" {
  name              = "/ecs/${local.prefix}"
  retention_in_days = 7
}
resource "aws_cloudwatch_log_group" "rds" {
  name              = "/aws/rds/instance/${local.prefix}-db/postgresql"
  retention_in_days = 7
}

# ---- secrets and database ----
# Only hashicorp/aws is in the mirror (no random provider): the generated values come from a seed the benchmark
# passes, which Terraform keeps in its state as platform keeps none.
variable "secret_seed" {
  type      = string
  sensitive = true
  default   = "benchmark-only"
}
locals {
  secret_values = { for k in ["db", "app", "jwt"] : k => substr(sha256("${var.secret_seed}/${k}"), 0, 40) }
}
resource "aws_secretsmanager_secret" "db" {
  name                    = "${local.prefix}/database/credentials"
  description             = "Master credentials of the clinical-platform-dev PostgreSQL database (username, password, engine, host, port, dbname)"
  recovery_window_in_days = 7
}
resource "aws_secretsmanager_secret" "app" {
  name                    = "${local.prefix}/api/secret-key"
  description             = "Application secret key of the clinical-platform-dev API"
  recovery_window_in_days = 7
}
resource "aws_secretsmanager_secret" "jwt" {
  name                    = "${local.prefix}/api/jwt-signing-key"
  description             = "JWT signing key of the clinical-platform-dev API"
  recovery_window_in_days = 7
}
resource "aws_secretsmanager_secret_version" "app" {
  secret_id     = aws_secretsmanager_secret.app.id
  secret_string = local.secret_values["app"]
}
resource "aws_secretsmanager_secret_version" "jwt" {
  secret_id     = aws_secretsmanager_secret.jwt.id
  secret_string = local.secret_values["jwt"]
}
resource "aws_secretsmanager_secret_version" "db" {
  secret_id = aws_secretsmanager_secret.db.id
  secret_string = jsonencode({ username = "platform_admin", password = local.secret_values["db"], engine = "postgres",
  host = aws_db_instance.db.address, port = aws_db_instance.db.port, dbname = "clinical" })
}

resource "aws_db_subnet_group" "db" {
  name        = "${local.prefix}-db"
  description = "Private subnets of clinical-platform-dev's PostgreSQL database"
  subnet_ids  = [for s in aws_subnet.private : s.id]
}
resource "aws_db_parameter_group" "db" {
  name        = "${local.prefix}-postgres16"
  family      = "postgres16"
  description = "clinical-platform-dev PostgreSQL parameters (TLS required)"
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}
resource "aws_db_instance" "db" {
  identifier                      = "${local.prefix}-db"
  engine                          = "postgres"
  engine_version                  = "16"
  instance_class                  = "db.t3.micro"
  allocated_storage               = 20
  storage_type                    = "gp3"
  storage_encrypted               = true
  publicly_accessible             = false
  multi_az                        = false
  backup_retention_period         = 7
  deletion_protection             = false
  db_name                         = "clinical"
  username                        = "platform_admin"
  password                        = local.secret_values["db"]
  db_subnet_group_name            = aws_db_subnet_group.db.name
  parameter_group_name            = aws_db_parameter_group.db.name
  vpc_security_group_ids          = [aws_security_group.sg["db"].id]
  enabled_cloudwatch_logs_exports = ["postgresql"]
  auto_minor_version_upgrade      = true
  copy_tags_to_snapshot           = true
  skip_final_snapshot             = true
  depends_on                      = [aws_cloudwatch_log_group.rds]
}

# ---- load balancer and compute ----
resource "aws_lb" "alb" {
  name                       = "${local.prefix}-alb"
  internal                   = false
  load_balancer_type         = "application"
  subnets                    = [for s in aws_subnet.public : s.id]
  security_groups            = [aws_security_group.sg["alb"].id]
  idle_timeout               = 60
  drop_invalid_header_fields = true
  enable_deletion_protection = false
}
resource "aws_lb_target_group" "api" {
  name                 = "${local.prefix}-api"
  protocol             = "HTTP"
  port                 = 8000
  vpc_id               = aws_vpc.main.id
  target_type          = "ip"
  deregistration_delay = 30
  health_check {
    path                = "/health"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
    matcher             = "200-399"
  }
}
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.alb.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
}

resource "aws_ecs_cluster" "main" {
  name = "${local.prefix}-cluster"
  setting {
    name  = "containerInsights"
    value = "disabled"
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.prefix}-ecs-task-execution"
  description        = "Lets ECS start clinical-platform-dev tasks: pull its images, write its logs, read its secrets"
  assume_role_policy = local.ecs_trust
  inline_policy {
    name = "pull-images"
    policy = jsonencode({ Version = "2012-10-17", Statement = [
      { Sid = "RegistryLogin", Effect = "Allow", Action = "ecr:GetAuthorizationToken", Resource = "*" },
    { Sid = "PullStackImages", Effect = "Allow", Action = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource = [for r in aws_ecr_repository.r : r.arn] }] })
  }
  inline_policy {
    name   = "write-logs"
    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "WriteTaskLogs", Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = [aws_cloudwatch_log_group.ecs.arn, "${aws_cloudwatch_log_group.ecs.arn}:log-stream:*"] }] })
  }
  inline_policy {
    name   = "read-secrets"
    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "ReadStackSecrets", Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = [aws_secretsmanager_secret.db.arn, aws_secretsmanager_secret.app.arn, aws_secretsmanager_secret.jwt.arn] }] })
  }
}

resource "aws_iam_role" "task" {
  for_each           = toset(local.services)
  name               = "${local.prefix}-${each.key}-task"
  description        = "The ${each.key} tasks of clinical-platform-dev: only what their code calls"
  assume_role_policy = local.ecs_trust
  inline_policy {
    name = "data-lake"
    policy = jsonencode({ Version = "2012-10-17", Statement = [
      { Sid = "ReadObjects", Effect = "Allow", Action = ["s3:GetObject"], Resource = ["${aws_s3_bucket.b["gold"].arn}/*"] },
    { Sid = "ListReadBuckets", Effect = "Allow", Action = ["s3:ListBucket"], Resource = [aws_s3_bucket.b["gold"].arn] }] })
  }
}

resource "aws_ecs_task_definition" "t" {
  for_each                 = toset(local.services)
  family                   = "${local.prefix}-${each.key}"
  cpu                      = "256"
  memory                   = "512"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.key].arn
  container_definitions = jsonencode([{
    name         = each.key
    image        = "${aws_ecr_repository.r[each.key].repository_url}:latest"
    essential    = true
    portMappings = each.key == "api" ? [{ containerPort = 8000, protocol = "tcp" }] : []
    environment = [
      { name = "BUCKET_GOLD", value = aws_s3_bucket.b["gold"].id }, { name = "BUCKET_RAW", value = aws_s3_bucket.b["raw"].id },
      { name = "DB_HOST", value = aws_db_instance.db.address }, { name = "DB_NAME", value = "clinical" }, { name = "DB_PORT", value = "5432" },
      { name = "ENVIRONMENT", value = "dev" }, { name = "PORT", value = "8000" },
    ]
    secrets = [
      { name = "APP_SECRET_KEY", valueFrom = aws_secretsmanager_secret.app.arn },
      { name = "DB_PASSWORD", valueFrom = "${aws_secretsmanager_secret.db.arn}:password::" },
      { name = "DB_USER", valueFrom = "${aws_secretsmanager_secret.db.arn}:username::" },
      { name = "JWT_SIGNING_KEY", valueFrom = aws_secretsmanager_secret.jwt.arn },
    ]
    logConfiguration = { logDriver = "awslogs", options = { "awslogs-group" = aws_cloudwatch_log_group.ecs.name, "awslogs-region" = "us-east-1", "awslogs-stream-prefix" = each.key } }
  }])
}

resource "aws_ecs_service" "api" {
  name                              = "${local.prefix}-api"
  cluster                           = aws_ecs_cluster.main.id
  task_definition                   = aws_ecs_task_definition.t["api"].arn
  desired_count                     = 0
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 60
  enable_execute_command            = true
  network_configuration {
    subnets          = [for s in aws_subnet.public : s.id]
    security_groups  = [aws_security_group.sg["api"].id]
    assign_public_ip = true
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.api.arn
    container_name   = "api"
    container_port   = 8000
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  depends_on = [aws_lb_listener.http]
}

# ---- operations ----
resource "aws_sns_topic" "alarms" {
  name              = "${local.prefix}-alarms"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_cloudwatch_metric_alarm" "simple" {
  for_each = {
    db-cpu = { ns = "AWS/RDS", metric = "CPUUtilization", stat = "Average", period = 300, op = "GreaterThanThreshold", threshold = 80, n = 3, desc = "Database CPU above 80% for 15 minutes",
    dims = { DBInstanceIdentifier = aws_db_instance.db.identifier } }
    db-free-storage = { ns = "AWS/RDS", metric = "FreeStorageSpace", stat = "Minimum", period = 300, op = "LessThanThreshold", threshold = 2147483648, n = 1, desc = "Database free storage below 2 GiB",
    dims = { DBInstanceIdentifier = aws_db_instance.db.identifier } }
    db-connections = { ns = "AWS/RDS", metric = "DatabaseConnections", stat = "Maximum", period = 300, op = "GreaterThanThreshold", threshold = 60, n = 3, desc = "Database connections near the instance's limit",
    dims = { DBInstanceIdentifier = aws_db_instance.db.identifier } }
    api-p95-latency = { ns = "AWS/ApplicationELB", metric = "TargetResponseTime", stat = null, period = 300, op = "GreaterThanThreshold", threshold = 1.5, n = 1, desc = "API p95 response time above 1.5 s over 5 minutes",
    dims = { LoadBalancer = aws_lb.alb.arn_suffix } }
    api-unhealthy-targets = { ns = "AWS/ApplicationELB", metric = "UnHealthyHostCount", stat = "Maximum", period = 60, op = "GreaterThanThreshold", threshold = 0, n = 3, desc = "API targets failing the load balancer's health check for 3 minutes",
    dims = { TargetGroup = aws_lb_target_group.api.arn_suffix, LoadBalancer = aws_lb.alb.arn_suffix } }
  }
  alarm_name          = "${local.prefix}-${each.key}"
  alarm_description   = each.value.desc
  namespace           = each.value.ns
  metric_name         = each.value.metric
  statistic           = each.value.stat
  extended_statistic  = each.value.stat == null ? "p95" : null
  period              = each.value.period
  comparison_operator = each.value.op
  threshold           = each.value.threshold
  evaluation_periods  = each.value.n
  datapoints_to_alarm = each.value.n
  dimensions          = each.value.dims
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${local.prefix}-api-5xx-rate"
  alarm_description   = "API 5xx responses above 5% of requests over 5 minutes"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 5
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  metric_query {
    id          = "rate"
    label       = "5xx rate (%)"
    expression  = "100 * FILL(errors, 0) / requests"
    return_data = true
  }
  dynamic "metric_query" {
    for_each = { errors = "HTTPCode_Target_5XX_Count", requests = "RequestCount" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = metric_query.value
        dimensions  = { LoadBalancer = aws_lb.alb.arn_suffix }
        stat        = "Sum"
        period      = 300
      }
    }
  }
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.prefix
  dashboard_body = jsonencode({ widgets = [
    { type = "text", x = 0, y = 0, width = 24, height = 2, properties = { markdown = "Managed by Terraform (benchmark twin of platform's dev stack)." } },
    { type = "metric", x = 0, y = 2, width = 12, height = 6, properties = { region = "us-east-1", title = "Database CPU", metrics = [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", aws_db_instance.db.identifier]] } },
    { type = "metric", x = 12, y = 2, width = 12, height = 6, properties = { region = "us-east-1", title = "API requests", metrics = [["AWS/ApplicationELB", "RequestCount", "LoadBalancer", aws_lb.alb.arn_suffix]] } },
  ] })
}

output "api_url" { value = "http://${aws_lb.alb.dns_name}" }
output "vpc_id" { value = aws_vpc.main.id }
