import { it } from "vitest";
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { installFakeAws } from "../fakes/index.js";
import { runCli, tempProject } from "../cli-harness.js";
it("probe", async () => {
  const aws = installFakeAws();
  const cwd = tempProject();
  for (let k = 0; k < 3; k++) {
  let t = Date.now();
  const up = await runCli(cwd, ["up", "--env", "dev", "--yes"]);
  console.log("up", up.code, Date.now() - t);
  if (k == 0) {
    const out = await new ResourceGroupsTaggingAPIClient({region: "us-east-1"}).send(new GetResourcesCommand({}));
    for (const r of out.ResourceTagMappingList ?? []) console.log(r.ResourceARN, r.Tags?.find(t => t.Key === "platform:logical-id")?.Value);
    console.log("token", out.PaginationToken);
  }
  t = Date.now();
  const down = await runCli(cwd, ["down", "--env", "dev", "--yes", "--delete-data", "--skip-final-snapshot", "--force-delete-secrets"]);
  console.log("down", down.code, Date.now() - t);
  }
  aws.restore();
}, 60000);
