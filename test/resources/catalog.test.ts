import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as catalog from "../../src/resources/catalog.js";
import { loadResourceTypes, type LazyResourceType } from "../../src/resources/catalog.js";
import { registry } from "../../src/resources/index.js";

const lazyTypes = (Object.values(catalog) as unknown[]).filter((v): v is LazyResourceType<any, any> => typeof v === "object" && v !== null && "load" in v);

describe("the resource catalog", () => {
  it("names every resource type a module in src/resources declares, once, and the registry holds each", () => {
    const dir = path.resolve(import.meta.dirname, "../../src/resources");
    const declared = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => [...readFileSync(path.join(dir, f), "utf8").matchAll(/^export const \w+: ResourceType<[^=]+= \{\n\s+type: "([^"]+)"/gm)].map((m) => m[1]));
    expect(declared.length).toBeGreaterThan(30);
    expect(lazyTypes.map((t) => t.type).sort()).toEqual([...declared].sort());
    for (const t of lazyTypes) expect(registry.get(t.type)).toBe(t);
  });

  it("loads each type's module on first use, and the module's type string is the catalog's", async () => {
    const vpc = catalog.vpc;
    await loadResourceTypes(lazyTypes);
    for (const t of lazyTypes) {
      expect(t.loaded, t.type).toBe(true);
      expect((await t.load()).type).toBe(t.type);
    }
    expect(vpc.physicalId({ vpcId: "vpc-1", cidrBlock: "10.0.0.0/16", enableDnsSupport: true, enableDnsHostnames: true, tags: {} })).toBe("vpc-1");
  }, 120_000);

  it("forwards every member of the contract, optional ones included (owns, createIdempotency, update, details)", async () => {
    await loadResourceTypes(lazyTypes);
    for (const t of lazyTypes) {
      const impl = await t.load();
      for (const member of ["owns", "update", "details"] as const) expect(typeof t[member], `${t.type}.${member}`).toBe(typeof impl[member]);
      expect(t.createIdempotency, t.type).toBe(impl.createIdempotency);
    }
    expect(catalog.dashboard.owns).toBeTypeOf("function");
    expect(catalog.vpc.createIdempotency).toBe("tags");
  }, 120_000);

  it("refuses synchronous use before its module is loaded, naming the type", async () => {
    const unloaded = catalog.lazyType<typeof import("../../src/resources/vpc.js").vpc>("ec2:vpc", async () => (await import("../../src/resources/vpc.js")).vpc);
    expect(() => unloaded.diff({} as never, {} as never)).toThrow("internal: resource type ec2:vpc used before loadResourceTypes");
    await loadResourceTypes([unloaded]);
    expect(unloaded.update).toBeTypeOf("function");
  });

  it("refuses a module whose type string differs from the catalog's", async () => {
    const wrong = catalog.lazyType<typeof import("../../src/resources/vpc.js").vpc>("ec2:not-a-vpc", async () => (await import("../../src/resources/vpc.js")).vpc);
    await expect(wrong.load()).rejects.toThrow("internal: the catalog names ec2:not-a-vpc, its module ec2:vpc");
  });
});
