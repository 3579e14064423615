// The real tier runs what the product pins: the generated workflows install the kubectl the tier
// runs their scripts with, and each built tool reports the version its go.mod under tools/ pins.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { repoRoot } from "../../test-control-plane/control-plane";
import { kubectlVersion } from "../../components/repository/workflows/deploy";
import { extractSchemas, schemasFile } from "../../verify/crd-schema";
import { toolsBin } from "./tier";

const run = (binary: string, ...args: string[]) =>
  execFileSync(path.join(toolsBin, binary), args, { encoding: "utf8" });
/** The version tools/<tool>/go.mod requires of a module. */
function pinned(tool: string, module: string): string {
  const goMod = fs.readFileSync(path.join(repoRoot, "tools", tool, "go.mod"), "utf8");
  const found = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/\./g, "\\.")} (v\\S+)`, "m").exec(goMod);
  assert.ok(found, `${module} in tools/${tool}/go.mod`);
  return found[1];
}

test("the workflows' kubectl is the version the tier builds and runs their scripts with", () => {
  assert.equal(kubectlVersion, pinned("kubernetes", "k8s.io/kubernetes"));
  assert.match(
    run("kubectl", "version", "--client"),
    new RegExp(`^Client Version: ${kubectlVersion.replace(/\./g, "\\.")}$`, "m"),
  );
  assert.equal(run("kube-apiserver", "--version").trim(), `Kubernetes ${kubectlVersion}`);
});

test("the Pulumi CLI reports the version tools/pulumi pins (the Automation API reads it)", () => {
  assert.equal(run("pulumi", "version").trim(), pinned("pulumi", "github.com/pulumi/pulumi/pkg/v3"));
});

test("act reports the version tools/act pins", () => {
  assert.equal(run("act", "--version").trim(), `act version ${pinned("act", "github.com/nektos/act").slice(1)}`);
});

test("Argo Rollouts' controller and plugin report the version tools/argo-rollouts pins, and verify's committed schemas are that version's CRDs", () => {
  const version = pinned("argo-rollouts", "github.com/argoproj/argo-rollouts");
  assert.match(run("rollouts-controller", "--version"), new RegExp(`v${version.slice(1).replace(/\./g, "\\.")}\\b`));
  assert.match(run("kubectl-argo-rollouts", "version"), new RegExp(`v${version.slice(1).replace(/\./g, "\\.")}\\b`));
  const built = extractSchemas(fs.readFileSync(path.join(toolsBin, "argo-rollouts-crds.yaml"), "utf8"), version);
  assert.deepEqual(JSON.parse(fs.readFileSync(schemasFile, "utf8")), built, "run npm run schemas:argo");
  assert.deepEqual(Object.keys(built.schemas).sort(), [
    "argoproj.io/v1alpha1/AnalysisTemplate",
    "argoproj.io/v1alpha1/Rollout",
  ]);
});
