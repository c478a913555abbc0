import { InvalidParameterException, PaginationTokenExpiredException, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { type FakeCloud, type ServiceModel, type Tags, toTagList } from "./cloud.js";

/**
 * The Resource Groups Tagging API part of the fake: GetResources over whatever the other fakes hold.
 * Each source lists its resources as { arn, tags }; the test that assembles the fake cloud wires them.
 */
export interface TaggedItem {
  arn: string;
  tags: Tags;
}

export type TagSource = () => TaggedItem[];

type ExceptionClass = new (options: { message: string; $metadata: Record<string, unknown> }) => Error;
const fail = (Exception: unknown, message: string) => new (Exception as ExceptionClass)({ message, $metadata: { httpStatusCode: 400, requestId: "fake-request-id" } });
const invalid = (message: string) => fail(InvalidParameterException, message);

const DEFAULT_PAGE = 50;

interface TagFilter {
  Key?: string;
  Values?: string[];
}

/**
 * Filters AND together; the values of one filter OR together; a filter without values matches any value of its key
 * (API reference, GetResources TagFilters).
 */
export function matchesTagFilters(tags: Tags, filters: TagFilter[] | undefined): boolean {
  return (filters ?? []).every((f) => f.Key !== undefined && f.Key in tags && (!f.Values?.length || f.Values.includes(tags[f.Key]!)));
}

/** "ec2:vpc" for arn:aws:ec2:...:vpc/vpc-1, "logs:log-group" for ...:log-group:/x, "iam:role" for ...:role/path/x, "s3" for a bucket. */
export function resourceTypeOf(arn: string): string {
  const [, , service, , , ...rest] = arn.split(":");
  const resource = rest.join(":");
  const type = /^([^:/]+)[:/]/.exec(resource)?.[1];
  return type ? `${service}:${type}` : service!;
}

function matchesTypeFilters(arn: string, filters: string[] | undefined): boolean {
  if (!filters?.length) return true;
  const type = resourceTypeOf(arn);
  return filters.some((f) => (f.includes(":") ? type === f : type.split(":")[0] === f));
}

function validate(input: { TagFilters?: TagFilter[]; ResourceARNList?: string[]; ResourcesPerPage?: number; TagsPerPage?: number }): void {
  if (input.TagFilters?.length && input.ResourceARNList?.length) throw invalid("TagFilters and ResourceARNList are mutually exclusive.");
  if ((input.TagFilters?.length ?? 0) > 50) throw invalid("A request can include up to 50 tag filters.");
  if (input.TagFilters?.some((f) => !f.Key || (f.Values?.length ?? 0) > 20)) throw invalid("Each TagFilter needs a Key and at most 20 Values.");
  if (input.ResourcesPerPage !== undefined && (input.ResourcesPerPage < 1 || input.ResourcesPerPage > 100)) throw invalid("ResourcesPerPage must be between 1 and 100.");
  if (input.TagsPerPage !== undefined) throw new Error("fake tagging: TagsPerPage is not modelled");
}

function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  const match = /^page:(\d+)$/.exec(Buffer.from(token, "base64").toString());
  if (!match) throw fail(PaginationTokenExpiredException, "The pagination token is not valid or has expired.");
  return Number(match[1]);
}

export function taggingModel(_cloud: FakeCloud, sources: TagSource[]): ServiceModel {
  return {
    service: "tagging",
    client: ResourceGroupsTaggingAPIClient,
    handlers: {
      GetResources: (input) => {
        validate(input);
        const matching = sources
          .flatMap((source) => source())
          .filter((r) => matchesTagFilters(r.tags, input.TagFilters) && matchesTypeFilters(r.arn, input.ResourceTypeFilters))
          .filter((r) => !input.ResourceARNList?.length || input.ResourceARNList.includes(r.arn))
          .sort((a, b) => (a.arn < b.arn ? -1 : 1));
        const start = decodeToken(input.PaginationToken);
        const end = start + (input.ResourcesPerPage ?? DEFAULT_PAGE);
        return {
          ResourceTagMappingList: matching.slice(start, end).map((r) => ({ ResourceARN: r.arn, Tags: toTagList(r.tags) })),
          // AWS ends a listing with an empty token rather than none.
          PaginationToken: end < matching.length ? Buffer.from(`page:${end}`).toString("base64") : "",
        };
      },
    },
  };
}
