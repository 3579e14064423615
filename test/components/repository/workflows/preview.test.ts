// The workflows that preview a stack: infra-preview.yml on pull requests and drift-<stack>.yml on a
// schedule. Both read the stack through its preview role, in an environment of their own, and log
// in to the backend with short-lived credentials only: no workflow reads a stored Pulumi token.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { actions, uses } from "../../../../components/repository/workflows/actions";
import { roleVariablesAssumedBy, type Step } from "../../../../components/repository/workflows/model";
import { previewRoleVariable } from "../../../../components/repository/workflows/pipeline";
import { driftWorkflow, infraPreviewWorkflow, previewJobId } from "../../../../components/repository/workflows/preview";
import { renderStack } from "../../../../synth/render";
import { readStackFile } from "../../../../config/stack-file";
import {
  allConfigs,
  devLike,
  devTeam,
  prodLike,
  prodTeam,
  renderedWorkflows,
  s3Backend,
  stackIdentities,
} from "./stack-configs";

const forkSkip = "github.event.pull_request.head.repo.full_name == github.repository";
// What the preview identities cannot read: GitHub secrets and variables, the cluster's Secrets.
const exclude = [
  "**github:index/actionsSecret:ActionsSecret::**",
  "**github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret::**",
  "**github:index/actionsVariable:ActionsVariable::**",
  "**github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable::**",
  "**kubernetes:core/v1:Secret::**",
].join("\n");
const step = (steps: readonly Step[], action: keyof typeof actions) =>
  steps.find((s) => s.uses === uses(actions[action]));

describe("infra-preview.yml", () => {
  test("one job per preview stack, in that stack's preview environment, assuming its preview role by a literal variable", () => {
    for (const config of Object.values(allConfigs())) {
      const workflow = infraPreviewWorkflow(config)?.workflow;
      if (config.pulumiBackendUrl === undefined) {
        assert.equal(workflow, undefined, "no backend, no preview");
        continue;
      }
      assert.deepEqual(Object.keys(workflow!.jobs), config.previewStacks.map(previewJobId));
      for (const stack of config.previewStacks) {
        // A stack that does not commit the file computes it for its own role's trust: another
        // stack's job there needs that stack's identity, which it may not know.
        if (!config.manageRepoWorkflows && stack !== config.stack && !(stack in config.previewIdentities)) continue;
        const job = workflow!.jobs[previewJobId(stack)];
        assert.deepEqual(roleVariablesAssumedBy(job), [previewRoleVariable(stack)]);
        assert.equal(job.if, forkSkip);
        assert.deepEqual(job.environment, { name: `${stack}-preview` });
        assert.equal(job.strategy, undefined, "no matrix");
        const names = job.steps.map((s) => s.uses ?? s.run);
        assert.ok(
          names.indexOf("npm ci") < names.indexOf(uses(actions.pulumi)),
          "npm ci before the Automation API runs",
        );
        assert.deepEqual(job.permissions, {
          actions: "read",
          contents: "read",
          "id-token": "write",
          "pull-requests": "write",
        });
      }
    }
  });

  test("Pulumi Cloud: a team token exchanged for the job's OIDC token, then a refreshed preview commented on the pull request", () => {
    const job = infraPreviewWorkflow(devLike())!.workflow.jobs[previewJobId("prod")];
    const auth = step(job.steps, "pulumiAuth")!;
    assert.deepEqual(
      { ...(auth as { with?: object }).with },
      {
        organization: "acme",
        "requested-token-type": "urn:pulumi:token-type:access_token:team",
        scope: `team:${prodTeam}`,
        "token-expiration": 1200,
        "cloud-url": "https://api.pulumi.com",
      },
    );
    assert.ok(job.steps.indexOf(auth) < job.steps.indexOf(step(job.steps, "pulumi")!), "the token before the preview");
    assert.deepEqual(
      { ...(step(job.steps, "pulumi") as { with?: object }).with },
      {
        command: "preview",
        "stack-name": "acme/prod",
        "work-dir": "infra",
        "cloud-url": "https://api.pulumi.com",
        refresh: true,
        exclude,
        "comment-on-pr": true,
        "edit-pr-comment": true,
        "github-token": "${{ secrets.GITHUB_TOKEN }}",
      },
    );
  });

  test("each job gets its own stack's team's token, as that stack's settings name it, never the committing stack's", () => {
    const teamOf = (config: ReturnType<typeof devLike>, stack: string) =>
      (
        step(infraPreviewWorkflow(config)!.workflow.jobs[previewJobId(stack)].steps, "pulumiAuth") as {
          with?: Record<string, unknown>;
        }
      ).with?.scope;
    assert.equal(teamOf(devLike(), "dev"), `team:${devTeam}`);
    assert.equal(teamOf(devLike(), "prod"), `team:${prodTeam}`, "prod's own team, read from prod's settings");
    // prod computes the file for its own role's trust: its job is the same.
    assert.equal(teamOf(prodLike(), "prod"), `team:${prodTeam}`);
    // Another organization's stack is previewed in its organization.
    const other = {
      ...devLike(),
      previewIdentities: { prod: { ...stackIdentities.prod, pulumiOrganization: "acme-prod" } },
    };
    const prodJob = infraPreviewWorkflow(other)!.workflow.jobs[previewJobId("prod")];
    assert.equal(
      (step(prodJob.steps, "pulumiAuth") as { with?: Record<string, unknown> }).with?.organization,
      "acme-prod",
    );
    assert.equal(
      (step(prodJob.steps, "pulumi") as { with?: Record<string, unknown> }).with?.["stack-name"],
      "acme-prod/prod",
    );
  });

  test("a job whose stack's identity is unknown logs in to nothing and fails", () => {
    const job = infraPreviewWorkflow({ ...devLike(), previewIdentities: {} })!.workflow.jobs[previewJobId("prod")];
    assert.equal(step(job.steps, "pulumiAuth"), undefined);
    assert.deepEqual(roleVariablesAssumedBy(job), []);
    assert.match(job.steps.at(-1)?.run ?? "", /exit 1$/);
  });

  test("an organization token when no team is named", () => {
    const job = infraPreviewWorkflow(allConfigs()["dev, Pulumi Cloud with an organization token"])!.workflow.jobs[
      previewJobId("dev")
    ];
    const auth = (step(job.steps, "pulumiAuth") as { with?: Record<string, unknown> }).with!;
    assert.equal(auth["requested-token-type"], "urn:pulumi:token-type:access_token:organization");
    assert.equal(auth.scope, undefined);
  });

  test("an S3 backend: no Pulumi login at all, the preview role's session reads the bucket", () => {
    const job = infraPreviewWorkflow(allConfigs()["dev token mode"])!.workflow.jobs[previewJobId("dev")];
    assert.equal(step(job.steps, "pulumiAuth"), undefined);
    const preview = (step(job.steps, "pulumi") as { with?: Record<string, unknown> }).with!;
    assert.equal(preview["cloud-url"], s3Backend.pulumiBackendUrl);
    assert.equal(preview["stack-name"], "dev");
  });

  test("token mode reads the environment's read-only kubeconfig into a private file; eks mode builds its own and reads none", () => {
    const kubeconfigStep = (config: ReturnType<typeof devLike>) =>
      infraPreviewWorkflow(config)!.workflow.jobs[previewJobId("dev")].steps.find((s) => s.env?.PREVIEW_KUBECONFIG);
    const step = kubeconfigStep(allConfigs()["dev token mode"])!;
    assert.equal(step.env?.PREVIEW_KUBECONFIG, "${{ secrets.PREVIEW_KUBECONFIG }}");
    assert.match(step.run ?? "", /umask 077/);
    assert.match(step.run ?? "", /KUBECONFIG=\$RUNNER_TEMP\/kubeconfig/);
    assert.equal(kubeconfigStep(devLike()), undefined);
  });

  test("runs on pull requests that touch the infrastructure", () => {
    const { on } = infraPreviewWorkflow(devLike())!.workflow;
    assert.deepEqual(on, {
      pull_request: { branches: ["main"], paths: ["infra/**", ".github/workflows/infra-preview.yml"] },
    });
  });

  test("runs in the configured infrastructure folder, or the repository's root", () => {
    const inFolder = (infraDirectory: string) => {
      const { workflow } = infraPreviewWorkflow({ ...devLike(), infraDirectory })!;
      const job = workflow.jobs[previewJobId("dev")];
      return {
        paths: workflow.on.pull_request?.paths?.[0],
        install: job.steps.find((s) => s.run === "npm ci")?.["working-directory"],
        preview: job.steps.find((s) => s.uses === uses(actions.pulumi))?.with?.["work-dir"],
        lockfile: job.steps.find((s) => s.uses === uses(actions.setupNode))?.with?.["cache-dependency-path"],
      };
    };
    assert.deepEqual(inFolder("deploy/pulumi"), {
      paths: "deploy/pulumi/**",
      install: "deploy/pulumi",
      preview: "deploy/pulumi",
      lockfile: "deploy/pulumi/package-lock.json",
    });
    assert.deepEqual(inFolder("."), { paths: "**", install: ".", preview: ".", lockfile: "./package-lock.json" });
  });
});

describe("drift-<stack>.yml", () => {
  test("on its schedule and by hand, in the stack's drift environment, a refreshed preview that fails on any change", () => {
    const { path, workflow } = driftWorkflow(prodLike())!;
    assert.equal(path, ".github/workflows/drift-prod.yml");
    assert.deepEqual(workflow.on, { schedule: [{ cron: "0 6 * * 1-5" }], workflow_dispatch: null });
    const job = workflow.jobs.drift;
    assert.deepEqual(job.environment, { name: "prod-drift" });
    assert.deepEqual(roleVariablesAssumedBy(job), [previewRoleVariable("prod")]);
    assert.deepEqual(job.permissions, { actions: "read", contents: "read", "id-token": "write" });
    const preview = step(job.steps, "pulumi") as { id?: string; with?: Record<string, unknown> };
    assert.equal(preview.id, "preview");
    assert.deepEqual(
      { ...preview.with },
      {
        command: "preview",
        "stack-name": "acme/prod",
        "work-dir": "infra",
        "cloud-url": "https://api.pulumi.com",
        refresh: true,
        exclude,
        "expect-no-changes": true,
      },
    );
  });

  test("reports drift, or none, in the run's summary, reading the preview's output only through the environment", () => {
    const report = driftWorkflow(prodLike())!.workflow.jobs.drift.steps.at(-1)!;
    assert.equal(report.if, "always()");
    assert.deepEqual(report.env, {
      STACK: "prod",
      OUTCOME: "${{ steps.preview.outcome }}",
      OUTPUT: "${{ steps.preview.outputs.output }}",
    });
    assert.doesNotMatch(report.run ?? "", /\$\{\{/, "no expression inside the script");
    assert.match(report.run ?? "", /GITHUB_STEP_SUMMARY/);
  });

  test("the schedule is a setting; off, or without a backend, there is no drift workflow", () => {
    assert.deepEqual(
      driftWorkflow(allConfigs()["dev, Pulumi Cloud with an organization token"])!.workflow.on.schedule,
      [{ cron: "30 2 * * *" }],
    );
    assert.equal(driftWorkflow(allConfigs()["prod token mode"]), undefined);
    assert.equal(driftWorkflow({ ...prodLike(), pulumiBackendUrl: undefined }), undefined);
  });
});

describe("no stored Pulumi token", () => {
  test("no generated workflow of any variant reads PULUMI_ACCESS_TOKEN", () => {
    for (const [label, config] of Object.entries(allConfigs())) {
      for (const { path, content } of renderedWorkflows(config))
        assert.doesNotMatch(content, /PULUMI_ACCESS_TOKEN/, `${label}: ${path}`);
    }
  });
});

describe("what a preview leaves out", () => {
  // The engine's URN glob (pulumi/pulumi pkg/resource/deploy/deployment.go, UrnTargets.getMatcher):
  // `**` matches anything, `*` anything but `:`.
  const matcher = (glob: string) =>
    new RegExp(
      `^${glob
        .split("**")
        .map((part) =>
          part
            .split("*")
            .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join("[^:]*"),
        )
        .join(".*")}$`,
    );
  test("exactly the dev stack's GitHub secrets and variables and the cluster's Secrets, by URN", async () => {
    const { resources } = await renderStack({ stack: "dev", settings: readStackFile("Pulumi.dev.yaml") });
    const patterns = exclude.split("\n").map(matcher);
    const excluded = resources.filter((r) => patterns.some((p) => p.test(r.urn))).map((r) => r.type);
    const unreadable = new Set([
      "github:index/actionsSecret:ActionsSecret",
      "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
      "github:index/actionsVariable:ActionsVariable",
      "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
      "kubernetes:core/v1:Secret",
    ]);
    assert.ok(excluded.length >= 5, `the dev stack has variables to leave out: ${excluded.join(", ")}`);
    assert.deepEqual(
      excluded.filter((t) => !unreadable.has(t)),
      [],
      "nothing else is left out",
    );
    assert.deepEqual(
      resources.filter((r) => unreadable.has(r.type) && !excluded.includes(r.type)),
      [],
      "every such resource is left out",
    );
  });
});
