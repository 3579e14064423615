/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call --
   the mutations edit parsed, untyped YAML documents. */
// The pieces agree with each other, over every artifact at once: both stacks, four variants and
// the platform example (three services in one render) pass every check, and each check catches its
// property broken on purpose in a rendered file.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { renderStack } from "../../synth/render";
import { readStackFile, securePlaceholder } from "../../config/stack-file";
import { mockServiceAccountToken } from "../../testing/mock-engine";
import platformProgram from "../../examples/platform/index";
import { lintRender, verifyRender, type Findings, type VerifyInput } from "../../verify";
import { evaluatePolicy } from "../../verify/iam-policy";
import type { Repository } from "../../verify/identity";
import { noWorkflows, workflowFiles } from "../../verify/render-files";

interface Case {
  readonly stack: string;
  /** The stack file; none for a program that carries its settings in code. */
  readonly file?: string;
  readonly program?: () => unknown;
  readonly repository?: Repository;
  readonly existingProviderArn?: string;
}
const acme: Repository = { owner: "acme", name: "orders-api", ownerId: 1234567, repositoryId: 890123456 };
const cases: Case[] = [
  { stack: "dev", file: "Pulumi.dev.yaml", repository: acme },
  {
    stack: "prod",
    file: "Pulumi.prod.yaml",
    repository: acme,
    existingProviderArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
  },
  { stack: "token", file: "test/fixtures/Pulumi.token.yaml", repository: { owner: "globex", name: "billing" } },
  {
    stack: "unsigned",
    file: "test/fixtures/Pulumi.unsigned.yaml",
    repository: { owner: "initech", name: "tps-reports" },
    existingProviderArn: "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com",
  },
  {
    stack: "three-node",
    file: "test/fixtures/Pulumi.three-node.yaml",
    repository: { owner: "umbrella", name: "hive-api", ownerId: 424242, repositoryId: 99887766 },
  },
  {
    stack: "previews",
    file: "test/fixtures/Pulumi.previews.yaml",
    repository: { owner: "hooli", name: "nucleus", ownerId: 31337, repositoryId: 271828 },
  },
  { stack: "platform", program: platformProgram },
];
const settingsOf = (c: Case) => (c.file ? readStackFile(c.file) : { config: {}, secretKeys: [] });

const renders = new Map<string, Map<string, string>>();
const knownSecrets = (c: Case) => ({
  ...Object.fromEntries(settingsOf(c).secretKeys.map((k) => [k, securePlaceholder(k)])),
  serviceAccountToken: mockServiceAccountToken,
});
const input = (stack: string, files?: Map<string, string>): VerifyInput => {
  const c = cases.find((x) => x.stack === stack)!;
  const siblings = c.repository === acme ? ["dev", "prod"].filter((s) => s !== stack).map((s) => renders.get(s)!) : [];
  return {
    files: files ?? renders.get(stack)!,
    others: siblings,
    knownSecrets: knownSecrets(c),
    ...(c.repository ? { repository: c.repository } : {}),
    ...(c.existingProviderArn ? { existingProviderArn: c.existingProviderArn } : {}),
  };
};
const noFindings: Findings = { schema: [], identity: [], clusterRights: [], secrets: [], names: [] };

before(async () => {
  for (const c of cases)
    renders.set(
      c.stack,
      (await renderStack({ stack: c.stack, settings: settingsOf(c), ...(c.program ? { program: c.program } : {}) }))
        .files,
    );
});

describe("every render passes every check", () => {
  for (const c of cases) {
    test(c.stack, async () => assert.deepEqual(await verifyRender(input(c.stack)), noFindings));
  }
});

/** A copy of a render with one file added. */
function withFile(stack: string, path: string, content: string): Map<string, string> {
  const files = new Map(renders.get(stack));
  assert.ok(!files.has(path), `${path} exists`);
  files.set(path, content);
  return files;
}

/** A copy of a render with one file changed. */
function mutate(stack: string, path: string | RegExp, change: (content: string) => string): Map<string, string> {
  const files = new Map(renders.get(stack));
  const key = typeof path === "string" ? path : [...files.keys()].find((k) => path.test(k));
  assert.ok(key !== undefined && files.has(key), `no file ${String(path)}`);
  const changed = change(files.get(key)!);
  assert.notEqual(changed, files.get(key), `the mutation of ${key} changed nothing`);
  files.set(key, changed);
  return files;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const yamlEdit = (edit: (doc: Record<string, any>) => void) => (content: string) => {
  const doc = parse(content) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  edit(doc);
  return stringify(doc);
};
const deployTrust = /^aws\/.*deploy-role\.trust\.json$/;
const previewTrust = /^aws\/.*preview-role\.trust\.json$/;
const deployWorkflow = "repo/.github/workflows/deploy-dev.yml";

describe("identity: each job against each role", () => {
  test("a deploy role that admits another environment denies its own jobs", async () => {
    const files = mutate("dev", deployTrust, (c) => c.replaceAll("environment:dev", "environment:staging"));
    const { identity } = await verifyRender(input("dev", files));
    assert.ok(
      identity.some((f) =>
        /deploy-dev\.yml job canary: presents repo:acme\/orders-api:environment:dev from acme\/orders-api\/\.github\/workflows\/deploy-dev\.yml@refs\/heads\/main, which .*deploy-role does not admit/.test(
          f,
        ),
      ),
      identity.join("\n"),
    );
  });
  test("a preview role trusting every subject of the repository is assumable by jobs that do not use it", async () => {
    const files = mutate("previews", previewTrust, (c) => {
      const doc = JSON.parse(c) as { Statement: { Condition: Record<string, Record<string, unknown>> }[] };
      for (const s of doc.Statement) {
        delete s.Condition.StringEquals["token.actions.githubusercontent.com:sub"];
        s.Condition.StringLike = {
          "token.actions.githubusercontent.com:sub": ["repo:hooli/nucleus:*", "repo:hooli@31337/nucleus@271828:*"],
        };
      }
      return JSON.stringify(doc);
    });
    const { identity } = await verifyRender(input("previews", files));
    assert.ok(
      identity.some((f) =>
        /job build: could assume .*preview-role \(presents repo:hooli\/nucleus:ref:refs\/heads\/main from hooli\/nucleus\/\.github\/workflows\/deploy-previews\.yml@refs\/heads\/main\) but does not use it/.test(
          f,
        ),
      ),
      identity.join("\n"),
    );
  });
  test("a job of another workflow file, in the same environment and on the same branch, is denied by the deploy role", async () => {
    const files = withFile("dev", "repo/.github/workflows/hotfix.yml", renders.get("dev")!.get(deployWorkflow)!);
    const { identity } = await verifyRender(input("dev", files));
    assert.ok(
      identity.includes(
        ".github/workflows/hotfix.yml job canary: presents repo:acme/orders-api:environment:dev from acme/orders-api/.github/workflows/hotfix.yml@refs/heads/main, which orders-api-roles-deploy-role does not admit",
      ),
      identity.join("\n"),
    );
    assert.ok(!identity.some((f) => f.startsWith(".github/workflows/deploy-dev.yml")), identity.join("\n"));
    // Nor can it reach the role without naming it: same environment, same branch, another file.
    const unnamed = withFile(
      "dev",
      "repo/.github/workflows/hotfix.yml",
      stringify({
        on: { push: { branches: ["main"] } },
        jobs: { fix: { environment: "dev", permissions: { "id-token": "write" }, steps: [{ run: "true" }] } },
      }),
    );
    assert.deepEqual((await verifyRender(input("dev", unnamed))).identity, []);
  });
  test("a preview from another workflow file is denied by the preview role", async () => {
    const preview = "repo/.github/workflows/infra-preview.yml";
    const files = withFile(
      "previews",
      "repo/.github/workflows/preview-copy.yml",
      renders.get("previews")!.get(preview)!,
    );
    const { identity } = await verifyRender(input("previews", files));
    assert.ok(
      identity.some((f) =>
        /^\.github\/workflows\/preview-copy\.yml job preview-previews: presents repo:hooli\/nucleus:.* from hooli\/nucleus\/\.github\/workflows\/preview-copy\.yml@refs\/pull\/17\/merge, which nucleus-roles-preview-role does not admit$/.test(
          f,
        ),
      ),
      identity.join("\n"),
    );
    assert.ok(!identity.some((f) => f.startsWith(".github/workflows/infra-preview.yml")), identity.join("\n"));
  });
  test("a role that admits a job's manual run from any branch, or a token without the workflow ref, is a finding", async () => {
    const unpinned = mutate("dev", deployTrust, (c) => {
      const doc = JSON.parse(c) as { Statement: { Condition: Record<string, Record<string, unknown>> }[] };
      for (const s of doc.Statement)
        delete s.Condition.StringEquals["token.actions.githubusercontent.com:job_workflow_ref"];
      return JSON.stringify(doc);
    });
    const { identity } = await verifyRender(input("dev", unpinned));
    assert.ok(
      identity.includes(
        ".github/workflows/deploy-dev.yml job canary: orders-api-roles-deploy-role admits it also when started by hand elsewhere (repo:acme/orders-api:environment:dev from acme/orders-api/.github/workflows/deploy-dev.yml@refs/heads/verify/any-branch)",
      ),
      identity.join("\n"),
    );
    // The rendered policy itself: every claim is required.
    const trust = JSON.parse([...renders.get("dev")!].find(([p]) => deployTrust.test(p))![1]) as unknown;
    const token = {
      "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
      "token.actions.githubusercontent.com:sub": "repo:acme/orders-api:environment:dev",
      "token.actions.githubusercontent.com:job_workflow_ref":
        "acme/orders-api/.github/workflows/deploy-dev.yml@refs/heads/main",
      "token.actions.githubusercontent.com:repository_id": "890123456",
    };
    const decide = (context: Record<string, string | undefined>) =>
      evaluatePolicy(trust, {
        action: "sts:AssumeRoleWithWebIdentity",
        principal: { federated: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" },
        context,
      });
    assert.equal(decide(token), "allow");
    for (const claim of Object.keys(token))
      assert.equal(decide({ ...token, [claim]: undefined }), "implicitDeny", claim);
  });
  test("a deploy job taken out of its environment can no longer reach its role", async () => {
    const files = mutate(
      "dev",
      deployWorkflow,
      yamlEdit((w) => {
        delete w.jobs.canary.environment;
      }),
    );
    const { identity } = await verifyRender(input("dev", files));
    assert.ok(
      identity.includes(
        ".github/workflows/deploy-dev.yml job canary: assumes a role no variable of the stack resolves (${{ vars.AWS_DEPLOY_ROLE_ARN }})",
      ),
      identity.join("\n"),
    );
  });
  test("a role assumed without id-token: write is a finding", async () => {
    const files = mutate(
      "dev",
      deployWorkflow,
      yamlEdit((w) => {
        delete w.jobs.promote.permissions["id-token"];
      }),
    );
    const { identity } = await verifyRender(input("dev", files));
    assert.ok(
      identity.some((f) => /job promote: assumes .*deploy-role without id-token: write/.test(f)),
      identity.join("\n"),
    );
  });
});

describe("identity: a role exists only if a job assumes it", () => {
  /** The role variables of a render: the variable a role's ARN is stored in, by role. */
  const roleVariables = (files: ReadonlyMap<string, string>) => {
    const entries = JSON.parse(files.get("resources.json")!) as {
      type: string;
      name: string;
      inputs: Record<string, unknown>;
    }[];
    const variables = entries.filter((r) => /ActionsVariable|ActionsEnvironmentVariable/.test(r.type));
    return entries
      .filter((r) => r.type === "aws:iam/role:Role")
      .map((role) => ({
        role: role.name,
        variables: variables
          .filter((v) => String(v.inputs.value).endsWith(`/${role.name}`))
          .map((v) => String(v.inputs.variableName)),
      }));
  };
  /** A render without the workflow files that read any of `variables`, and with one that assumes nothing (a render without workflows is a finding of its own). */
  const without = (files: ReadonlyMap<string, string>, variables: readonly string[]) =>
    new Map([
      ...[...files].filter(
        ([p, c]) => !p.includes(".github/workflows/") || !variables.some((v) => c.includes(`vars.${v} `)),
      ),
      [
        "repo/.github/workflows/lint.yml",
        stringify({ on: { pull_request: {} }, permissions: {}, jobs: { lint: { steps: [{ run: "true" }] } } }),
      ],
    ]);
  for (const c of cases) {
    test(`${c.stack}: each role, once no committed workflow assumes it, is reported`, async () => {
      const roles = roleVariables(renders.get(c.stack)!);
      assert.ok(roles.length > 0);
      for (const { role, variables } of roles) {
        assert.ok(variables.length > 0, role);
        const base = input(c.stack);
        const { identity } = await verifyRender({
          ...base,
          files: without(base.files, variables),
          others: (base.others ?? []).map((o) => without(o, variables)),
        });
        assert.ok(
          identity.includes(
            `${role}: no job of the committed workflows assumes it: a role no job assumes should not exist`,
          ),
          `${role}:\n${identity.join("\n")}`,
        );
      }
    });
  }
  test("a role assumed by a workflow another stack commits counts, until that stack does not commit it", async () => {
    const prod = input("prod");
    const preview = roleVariables(prod.files).find((r) => r.role.endsWith("preview-role"))!;
    const unassumed = `${preview.role}: no job of the committed workflows assumes it: a role no job assumes should not exist`;
    const prodAlone = without(prod.files, preview.variables);
    // dev commits infra-preview.yml, whose preview-prod job assumes prod's preview role.
    assert.ok(!(await verifyRender({ ...prod, files: prodAlone })).identity.includes(unassumed));
    const { identity } = await verifyRender({
      ...prod,
      files: prodAlone,
      others: [without(renders.get("dev")!, preview.variables)],
    });
    assert.ok(identity.includes(unassumed), identity.join("\n"));
  });
});

describe("cluster rights: the Role against the workflows' kubectl", () => {
  // The deployer's Role (the reaper's is another).
  const role = /^kubernetes\/Role\..*-deployer\.yaml$/;
  test("a rule removed: a workflow needs what the Role no longer grants", async () => {
    const files = mutate(
      "dev",
      role,
      yamlEdit((r) => {
        r.rules = (r.rules as { resources: string[] }[]).filter((x) => !x.resources.includes("deployments/scale"));
      }),
    );
    const { clusterRights } = await verifyRender(input("dev", files));
    assert.ok(
      clusterRights.includes(
        "Role orders-dev/orders-api-deployer does not grant apps/deployments/scale patch orders-api-canary, which a workflow acting under it needs",
      ),
      clusterRights.join("\n"),
    );
  });
  test("a rule added: the Role grants what no workflow uses", async () => {
    const files = mutate(
      "dev",
      role,
      yamlEdit((r) => {
        r.rules.push({ apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] });
      }),
    );
    const { clusterRights } = await verifyRender(input("dev", files));
    assert.deepEqual(clusterRights, [
      "Role orders-dev/orders-api-deployer grants core/pods/exec create *, which no workflow acting under it uses",
    ]);
  });
  test("a kubectl command the verifier does not know fails", async () => {
    const files = mutate("dev", deployWorkflow, (c) =>
      c.replace(
        "kubectl rollout status deployment/orders-api-canary",
        "kubectl exec deploy/orders-api-canary -- true\n          kubectl rollout status deployment/orders-api-canary",
      ),
    );
    const { clusterRights } = await verifyRender(input("dev", files));
    assert.ok(
      clusterRights.some((f) => /unreadable kubectl command: kubectl exec/.test(f)),
      clusterRights.join("\n"),
    );
  });
});

describe("the rollback job: a role and a Role of its own", () => {
  const rollbackTrust = /^aws\/.*rollback-role\.trust\.json$/;
  const rollbackRole = "kubernetes/Role.orders-dev.orders-api-rollback.yaml";
  test("a rollback role that admits the deploy environment denies the rollback job, and the canary and promote jobs could assume it", async () => {
    const files = mutate("dev", rollbackTrust, (c) => c.replaceAll("environment:dev-rollback", "environment:dev"));
    const { identity } = await verifyRender(input("dev", files));
    assert.ok(
      identity.includes(
        ".github/workflows/deploy-dev.yml job rollback: presents repo:acme/orders-api:environment:dev-rollback from acme/orders-api/.github/workflows/deploy-dev.yml@refs/heads/main, which orders-api-roles-rollback-role does not admit",
      ),
      identity.join("\n"),
    );
    for (const job of ["canary", "promote"]) {
      assert.ok(
        identity.includes(
          `.github/workflows/deploy-dev.yml job ${job}: could assume orders-api-roles-rollback-role (presents repo:acme/orders-api:environment:dev from acme/orders-api/.github/workflows/deploy-dev.yml@refs/heads/main) but does not use it`,
        ),
        identity.join("\n"),
      );
    }
  });
  test("a deploy role that admits the rollback environment could be assumed by the rollback job", async () => {
    const files = mutate("dev", deployTrust, (c) => c.replaceAll('environment:dev"', 'environment:dev-rollback"'));
    const { identity } = await verifyRender(input("dev", files));
    assert.ok(
      identity.includes(
        ".github/workflows/deploy-dev.yml job rollback: could assume orders-api-roles-deploy-role (presents repo:acme/orders-api:environment:dev-rollback from acme/orders-api/.github/workflows/deploy-dev.yml@refs/heads/main) but does not use it",
      ),
      identity.join("\n"),
    );
  });
  test("the rollback Role against the rollback job's kubectl, both ways", async () => {
    const wider = mutate(
      "dev",
      rollbackRole,
      yamlEdit((r) => {
        r.rules[0].verbs.push("patch");
      }),
    );
    assert.deepEqual((await verifyRender(input("dev", wider))).clusterRights, [
      "Role orders-dev/orders-api-rollback grants apps/deployments patch orders-api-canary, which no workflow acting under it uses",
    ]);
    const narrower = mutate(
      "dev",
      rollbackRole,
      yamlEdit((r) => {
        r.rules = (r.rules as { resources: string[] }[]).filter((x) => !x.resources.includes("deployments/scale"));
      }),
    );
    assert.deepEqual((await verifyRender(input("dev", narrower))).clusterRights, [
      "Role orders-dev/orders-api-rollback does not grant apps/deployments/scale get orders-api-canary, which a workflow acting under it needs",
      "Role orders-dev/orders-api-rollback does not grant apps/deployments/scale update orders-api-canary, which a workflow acting under it needs",
    ]);
    // The rollback job is judged against its own Role only: a step the deployer may run is refused it.
    const promoting = mutate("dev", deployWorkflow, (c) =>
      c.replace(
        "- name: Scale the canary to 0\n        if: always()\n        shell: bash\n        timeout-minutes: 1\n        run: |-\n",
        "- name: Scale the canary to 0\n        if: always()\n        shell: bash\n        timeout-minutes: 1\n        run: |-\n          kubectl scale deployment/orders-api --replicas=0 --namespace orders-dev\n",
      ),
    );
    assert.deepEqual((await verifyRender(input("dev", promoting))).clusterRights, [
      "Role orders-dev/orders-api-rollback does not grant apps/deployments get orders-api, which a workflow acting under it needs",
      "Role orders-dev/orders-api-rollback does not grant apps/deployments/scale patch orders-api, which a workflow acting under it needs",
    ]);
  });
  test("token mode: the rollback job's kubeconfig secret leads to the rollback Role, not the deployer's", async () => {
    const base = renders.get("token")!;
    const deployerBinding = [...base.keys()].find((k) => /^kubernetes\/RoleBinding\..*-deployer\.yaml$/.test(k))!;
    const rollbackBinding = [...base.keys()].find((k) => /^kubernetes\/RoleBinding\..*-rollback\.yaml$/.test(k));
    assert.ok(rollbackBinding, "the token render binds the rollback ServiceAccount");
    // Bound to the deployer's account instead, the rollback job's credentials reach no Role.
    const files = mutate(
      "token",
      rollbackBinding,
      yamlEdit((b) => {
        b.subjects[0].name = (parse(base.get(deployerBinding)!) as { subjects: { name: string }[] }).subjects[0].name;
      }),
    );
    const { clusterRights } = await verifyRender(input("token", files));
    assert.ok(
      clusterRights.some((f) =>
        /deploy-.*\.yml job rollback: runs kubectl, but its credentials are bound to no Role/.test(f),
      ),
      clusterRights.join("\n"),
    );
  });
});

describe("secrets: nothing in plain text", () => {
  const tokenResources = "resources.json";
  test("a credential input shown in plain text is a finding", async () => {
    const files = mutate("token", tokenResources, (c) =>
      JSON.stringify(
        (JSON.parse(c) as { inputs: Record<string, unknown> }[]).map((r) =>
          r.inputs.secretName === "KUBECONFIG"
            ? { ...r, inputs: { ...r.inputs, plaintextValue: "apiVersion: v1" } }
            : r,
        ),
      ),
    );
    const { secrets } = await verifyRender(input("token", files));
    assert.ok(
      secrets.some((f) => /ActionsEnvironmentSecret::.*: plaintextValue is not a secret/.test(f)),
      secrets.join("\n"),
    );
  });
  test("a secret value, a prefix of it, or its base64 anywhere in the render is a finding", async () => {
    const slack = securePlaceholder("canary-pipeline:slackWebhook");
    for (const [leak, expected] of [
      [slack, /contains the value of canary-pipeline:slackWebhook/],
      [slack.slice(0, 12), /contains the first 12 characters of canary-pipeline:slackWebhook/],
      [Buffer.from(mockServiceAccountToken).toString("base64"), /contains serviceAccountToken base64-encoded/],
    ] as const) {
      const files = mutate("token", "repo/.github/workflows/ci.yml", (c) => `${c}\n# ${leak}\n`);
      const { secrets } = await verifyRender(input("token", files));
      assert.ok(
        secrets.some((f) => expected.test(f)),
        `${leak}: ${secrets.join("\n")}`,
      );
    }
  });
});

describe("names: everything the workflows reference exists", () => {
  test("a variable no stack creates", async () => {
    const files = mutate("dev", deployWorkflow, (c) => c.replaceAll("vars.EKS_CLUSTER_NAME", "vars.EKS_CLUSTER"));
    const { names } = await verifyRender(input("dev", files));
    assert.ok(
      names.some((f) =>
        /job canary: reads vars\.EKS_CLUSTER, which no stack creates in orders-api for environment dev/.test(f),
      ),
      names.join("\n"),
    );
  });
  test("a secret of another environment", async () => {
    const files = mutate("token", "repo/.github/workflows/deploy-token.yml", (c) =>
      c.replace("environment:\n      name: token", "environment:\n      name: other"),
    );
    const { names } = await verifyRender(input("token", files));
    assert.ok(
      names.some((f) => /reads secrets\.KUBECONFIG, which no stack creates in billing for environment other/.test(f)),
      names.join("\n"),
    );
  });
  test("a Deployment, a selector or a Service host the cluster does not have", async () => {
    const files = mutate("dev", deployWorkflow, (c) =>
      c
        .replace("kubectl set image deployment/orders-api-canary", "kubectl set image deployment/orders-api-canry")
        .replace("app=orders-api,track=canary", "app=orders-api,track=canry"),
    );
    const { names } = await verifyRender(input("dev", files));
    assert.ok(
      names.some((f) => /deployment\/orders-api-canry in namespace orders-dev is not a rendered object/.test(f)),
      names.join("\n"),
    );
    assert.ok(
      names.some((f) => /selector app=orders-api,track=canry matches no rendered pod template/.test(f)),
      names.join("\n"),
    );
    const noService = new Map(renders.get("dev"));
    noService.delete("kubernetes/Service.orders-dev.orders-api-canary.yaml");
    assert.ok(
      (await verifyRender(input("dev", noService))).names.some((f) =>
        /host orders-api-canary\.orders-dev\.svc\.cluster\.local names no rendered Service/.test(f),
      ),
    );
  });
  test("a command without --namespace is judged in any namespace, not in one named after its verb", async () => {
    const files = mutate("dev", deployWorkflow, (c) =>
      c.replace(
        "kubectl scale deployment/orders-api-canary --replicas=0 --namespace orders-dev",
        "kubectl scale deployment/orders-api-canary --replicas=0",
      ),
    );
    assert.notEqual(files.get(deployWorkflow), renders.get("dev")!.get(deployWorkflow));
    assert.deepEqual((await verifyRender(input("dev", files))).names, []);
    const missing = mutate("dev", deployWorkflow, (c) =>
      c.replace(
        "kubectl scale deployment/orders-api-canary --replicas=0 --namespace orders-dev",
        "kubectl scale deployment/orders-api-canry --replicas=0",
      ),
    );
    assert.ok(
      (await verifyRender(input("dev", missing))).names.some((f) =>
        /deployment\/orders-api-canry in any namespace \(no --namespace\) is not a rendered object/.test(f),
      ),
    );
  });
});

describe("a render of several services: each workflow with its own repository, variables and Role", () => {
  const deploy = (repository: string) => `repo/${repository}/.github/workflows/deploy-platform.yml`;
  /** The findings on the platform render with one file changed. */
  const changed = (path: string, change: (content: string) => string) =>
    verifyRender(input("platform", mutate("platform", path, change)));
  test("the workflows are found under repo/<repository>/ as under repo/, each with the repository it is committed to", () => {
    const found = (stack: string) =>
      workflowFiles(renders.get(stack)!)
        .map((w) => `${w.repository} ${w.path}`)
        .sort();
    assert.deepEqual(
      found("platform"),
      ["billing", "orders-api", "search"].map((r) => `${r} ${r}/.github/workflows/deploy-platform.yml`),
    );
    assert.deepEqual(
      found("dev"),
      ["ci.yml", "deploy-dev.yml", "drift-dev.yml", "infra-preview.yml"].map(
        (f) => `orders-api .github/workflows/${f}`,
      ),
    );
  });
  test("a service's jobs present its own repository's subjects to the role its own variable names", async () => {
    const ref = (repository: string) => `acme/${repository}/.github/workflows/deploy-platform.yml@refs/heads/main`;
    const { identity } = await changed("aws/search-roles-deploy-role.trust.json", (c) =>
      c.replaceAll("acme/search", "acme/orders-api"),
    );
    assert.ok(
      identity.includes(
        `search/.github/workflows/deploy-platform.yml job canary: presents repo:acme/search:environment:platform from ${ref("search")}, which search-roles-deploy-role does not admit`,
      ),
      identity.join("\n"),
    );
    assert.ok(
      identity.includes(
        `orders-api/.github/workflows/deploy-platform.yml job canary: could assume search-roles-deploy-role (presents repo:acme/orders-api:environment:platform from ${ref("orders-api")}) but does not use it`,
      ),
      identity.join("\n"),
    );
    // The subject alone is not enough: the workflow ref names the repository too.
    const subjectOnly = await changed("aws/search-roles-deploy-role.trust.json", (c) =>
      c.replace("repo:acme/search:", "repo:acme/orders-api:"),
    );
    assert.ok(!subjectOnly.identity.some((f) => f.startsWith("orders-api/")), subjectOnly.identity.join("\n"));
  });
  test("a secret created in another service's repository is not the job's", async () => {
    const { names } = await changed(deploy("orders-api"), (c) =>
      c.replaceAll("vars.EKS_CLUSTER_NAME", "secrets.KUBECONFIG"),
    );
    assert.ok(
      names.some((f) =>
        /orders-api\/\.github\/workflows\/deploy-platform\.yml job canary: reads secrets\.KUBECONFIG, which no stack creates in orders-api for environment platform/.test(
          f,
        ),
      ),
      names.join("\n"),
    );
  });
  test("each service's jobs against its own Role: a rule one Role lacks is that Role's finding", async () => {
    const { clusterRights } = await changed(
      "kubernetes/Role.orders.orders-api-deployer.yaml",
      yamlEdit((r) => {
        r.rules = (r.rules as { resources: string[] }[]).filter((x) => !x.resources.includes("deployments/scale"));
      }),
    );
    assert.deepEqual(clusterRights, [
      "Role orders/orders-api-deployer does not grant apps/deployments/scale patch orders-api-canary, which a workflow acting under it needs",
      "Role orders/orders-api-deployer does not grant apps/deployments/scale get orders-api-canary, which a workflow acting under it needs",
      "Role orders/orders-api-deployer does not grant apps/deployments/scale update orders-api-canary, which a workflow acting under it needs",
    ]);
  });
  test("the reaper's pods against their ServiceAccount's Role: a rule missing and a rule too many are that Role's findings", async () => {
    const role = "kubernetes/Role.orders.orders-api-canary-reaper.yaml";
    const missing = await changed(
      role,
      yamlEdit((r) => {
        r.rules = (r.rules as { resources: string[] }[]).filter((x) => !x.resources.includes("deployments/scale"));
      }),
    );
    assert.ok(
      missing.clusterRights.includes(
        "Role orders/orders-api-canary-reaper does not grant apps/deployments/scale patch orders-api-canary, which a workflow acting under it needs",
      ),
      missing.clusterRights.join("\n"),
    );
    const extra = await changed(
      role,
      yamlEdit((r) => {
        (r.rules as { verbs: string[] }[])[0].verbs.push("update");
      }),
    );
    assert.ok(
      extra.clusterRights.includes(
        "Role orders/orders-api-canary-reaper grants apps/deployments update orders-api-canary, which no workflow acting under it uses",
      ),
      extra.clusterRights.join("\n"),
    );
    const elsewhere = await changed("kubernetes/CronJob.orders.orders-api-canary-reaper.yaml", (c) =>
      c.replaceAll("deployments/orders-api-canary", "deployments/orders-api"),
    );
    assert.ok(
      elsewhere.clusterRights.includes(
        "Role orders/orders-api-canary-reaper does not grant apps/deployments get orders-api, which a workflow acting under it needs",
      ),
      elsewhere.clusterRights.join("\n"),
    );
  });
  test("a job that scales another service's Deployment is refused, though that service's Role grants it", async () => {
    const { clusterRights, names } = await changed(deploy("orders-api"), (c) =>
      c.replace(
        "kubectl scale deployment/orders-api-canary --replicas=0 --namespace orders",
        "kubectl scale deployment/search-canary --replicas=0 --namespace search",
      ),
    );
    assert.deepEqual(names, [], "the Deployment exists");
    assert.ok(
      clusterRights.includes(
        "a workflow acting under Role orders/orders-api-deployer requests apps/deployments/scale patch search-canary in namespace search",
      ),
      clusterRights.join("\n"),
    );
    assert.ok(!clusterRights.some((f) => f.startsWith("Role search/")), clusterRights.join("\n"));
  });
  test("eks mode: a RoleBinding naming another service's group binds that service's jobs, not its own", async () => {
    const { clusterRights } = await changed("kubernetes/RoleBinding.orders.orders-api-deployer.yaml", (c) =>
      c.replace("name: orders-api-deployers", "name: search-deployers"),
    );
    assert.ok(
      clusterRights.includes(
        "orders-api/.github/workflows/deploy-platform.yml job canary: runs kubectl, but its credentials are bound to no Role",
      ),
      clusterRights.join("\n"),
    );
    assert.ok(
      clusterRights.includes(
        "search/.github/workflows/deploy-platform.yml job canary: runs kubectl, but its credentials are bound to 2 Roles (Role orders/orders-api-deployer, Role search/search-deployer)",
      ),
      clusterRights.join("\n"),
    );
  });
  test("token mode: a RoleBinding of another service account leaves the kubeconfig's jobs without a Role", async () => {
    const { clusterRights } = await changed(
      "kubernetes/RoleBinding.billing.billing-deployer.yaml",
      yamlEdit((b) => {
        b.subjects[0].name = "someone-else";
      }),
    );
    assert.ok(
      clusterRights.includes(
        "billing/.github/workflows/deploy-platform.yml job promote: runs kubectl, but its credentials are bound to no Role",
      ),
      clusterRights.join("\n"),
    );
    assert.ok(
      clusterRights.some((f) =>
        /^Role billing\/billing-deployer grants .*, which no workflow acting under it uses$/.test(f),
      ),
      clusterRights.join("\n"),
    );
  });
});

describe("a check that examined nothing fails", () => {
  test("without workflow files, identity, cluster rights, names and actionlint say so", async () => {
    const files = new Map([...renders.get("dev")!].filter(([p]) => !p.startsWith("repo/")));
    const { identity, clusterRights, names } = await verifyRender(input("dev", files));
    assert.deepEqual(identity, [noWorkflows]);
    assert.deepEqual(clusterRights, [noWorkflows]);
    assert.deepEqual(names, [noWorkflows]);
    assert.deepEqual(lintRender(files), [noWorkflows]);
  });
  test("without Kubernetes objects, schema says so", async () => {
    const files = new Map([...renders.get("dev")!].filter(([p]) => !p.startsWith("kubernetes/")));
    assert.deepEqual((await verifyRender(input("dev", files))).schema, [
      "the render holds no Kubernetes object: nothing was checked",
    ]);
  });
});

describe("the validators judge every artifact", () => {
  test("an unknown Kubernetes field is a schema finding", async () => {
    const files = mutate(
      "prod",
      /^kubernetes\/Deployment\.orders\.orders-api\.yaml$/,
      yamlEdit((d) => {
        d.spec.replica = 3;
      }),
    );
    assert.deepEqual((await verifyRender(input("prod", files))).schema, [
      "Deployment orders/orders-api: unknown field spec.replica",
    ]);
  });
});
