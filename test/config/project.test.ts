import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findProjectFolder, projectFolder, requireProjectFolder } from "../../src/config/project.js";
import { UserError } from "../../src/errors.js";

/** A folder tree: `project/config/dev.json`, `project/a/b/`, and `project/src/config/` holding code, not configs. */
function tree(): { project: string; deep: string; outside: string } {
  const top = mkdtempSync(path.join(tmpdir(), "platform-root-"));
  const project = path.join(top, "project");
  mkdirSync(path.join(project, "config"), { recursive: true });
  writeFileSync(path.join(project, "config", "dev.json"), "{}");
  mkdirSync(path.join(project, "a", "b"), { recursive: true });
  mkdirSync(path.join(project, "src", "config"), { recursive: true });
  writeFileSync(path.join(project, "src", "config", "load.ts"), "");
  const outside = path.join(top, "elsewhere");
  mkdirSync(outside);
  return { project, deep: path.join(project, "a", "b"), outside };
}

describe("finding the project folder", () => {
  it("walks up from a subdirectory to the folder holding config/<env>.json", () => {
    const { project, deep } = tree();
    expect(findProjectFolder(deep)).toBe(project);
    expect(findProjectFolder(project)).toBe(project);
  });

  it("passes over a config/ folder that holds no environment file (src/config of code)", () => {
    const { project } = tree();
    expect(findProjectFolder(path.join(project, "src"))).toBe(project);
  });

  it("finds nothing outside a project, and says how to fix it", () => {
    const { outside } = tree();
    expect(projectFolder({ cwd: outside })).toBeUndefined();
    let error: unknown;
    try {
      requireProjectFolder({ cwd: outside });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as Error).message).toContain(outside);
    expect((error as Error).message).toMatch(/platform init --env dev' here to start one, pass --config with the folder holding config\/, or set PLATFORM_HOME to that folder$/);
    expect((error as Error).message).not.toContain("\n");
  });

  it("takes --config DIR (the project or its config/ folder) over PLATFORM_HOME over the walk", () => {
    const { project, deep, outside } = tree();
    const other = tree().project;
    expect(projectFolder({ cwd: outside, configFlag: project })).toBe(project);
    expect(projectFolder({ cwd: outside, configFlag: path.join(project, "config") })).toBe(project);
    expect(projectFolder({ cwd: deep, home: other })).toBe(other);
    expect(projectFolder({ cwd: deep, home: other, configFlag: path.relative(deep, project) })).toBe(project);
  });

  it("with --config FILE: the folder above the file's config/ folder, else the project found, else the working directory", () => {
    const { project, deep, outside } = tree();
    expect(projectFolder({ cwd: outside, configFlag: path.join(project, "config", "dev.json") })).toBe(project);
    writeFileSync(path.join(outside, "qa.json"), "{}");
    expect(projectFolder({ cwd: outside, configFlag: "qa.json" })).toBe(outside);
    expect(projectFolder({ cwd: deep, configFlag: path.join(outside, "qa.json") })).toBe(project);
  });

  it("refuses --config DIR without a config/ folder and a PLATFORM_HOME that does not exist", () => {
    const { outside } = tree();
    expect(() => projectFolder({ cwd: outside, configFlag: "." })).toThrow(/--config \.: no config\/ folder in it/);
    expect(() => projectFolder({ cwd: outside, home: path.join(outside, "nope") })).toThrow(/PLATFORM_HOME=.*nope: no such folder/);
  });
});
