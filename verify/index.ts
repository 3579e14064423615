// The cross-component checks over one render, read the way an auditor or an attacker reads it:
// identity (jobs against trust policies), cluster rights (kubectl against the Role), secrets
// (nothing in plain text) and names (everything the workflows reference exists). actionlint, a
// real binary of the real tier's tools, runs apart from them (lintRender).
import { mockAccount } from "../synth/mock-engine";
import { checkClusterRights, type RoleRule } from "./cluster-rights";
import { checkIdentity, type Repository } from "./identity";
import { checkGithubNames, checkKubernetesNames } from "./names";
import { kubernetesObjects, ofType, workflowDocuments, type RenderFiles } from "./render-files";
import { formatFinding, lintWorkflow } from "./actionlint";
import { schemaProblems } from "./kubernetes-schema";
import { checkSecrets, secretPlaceholder } from "./secrets";

export interface VerifyInput {
  readonly files: RenderFiles;
  /** Renders of the repository's other stacks, for cross-stack references. */
  readonly others?: readonly RenderFiles[];
  readonly repository: Repository;
  /** The existing OIDC provider the stack adopts, when it creates none. */
  readonly existingProviderArn?: string;
  /** Plain values of the secrets the render was given, by name. */
  readonly knownSecrets?: Readonly<Record<string, string>>;
}

export interface Findings {
  /** Every Kubernetes object against the OpenAPI schemas, unknown fields included. */
  readonly schema: string[];
  readonly identity: string[];
  readonly clusterRights: string[];
  readonly secrets: string[];
  readonly names: string[];
}

/** The ARN GitHub's tokens are federated through: the stack's own provider, or the adopted one. */
function providerArn(input: VerifyInput): string {
  const created = ofType(input.files, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")[0];
  if (created) return `arn:${mockAccount.partition}:iam::${mockAccount.accountId}:oidc-provider/${String(created.inputs.url).replace(/^https:\/\//, "")}`;
  if (input.existingProviderArn) return input.existingProviderArn;
  throw new Error("the render neither creates an OIDC provider nor names an existing one");
}

/** The deployer Role's rules against every kubectl command of the render's workflows. */
function clusterRights(files: RenderFiles): string[] {
  const roles = kubernetesObjects(files).filter((o) => o.kind === "Role");
  if (roles.length !== 1) return [`expected one deployer Role, found ${roles.length}`];
  const role = roles[0];
  const scripts = [...workflowDocuments(files).values()].flatMap((w) => Object.values(w.jobs).flatMap((j) => (j.steps ?? []).flatMap((s) => (s.run ? [s.run] : []))));
  const f = checkClusterRights(scripts, (role.rules as RoleRule[] | undefined) ?? [], role.metadata.namespace ?? "");
  return [
    ...f.missing.map((m) => `the Role does not grant ${m}, which a workflow needs`),
    ...f.unused.map((u) => `the Role grants ${u}, which no workflow uses`),
    ...f.unknown.map((u) => `unreadable kubectl command: ${u}`),
    ...f.foreignNamespace.map((n) => `a workflow requests ${n}`),
  ];
}

/** Strict schema problems of every rendered object (a map rendered whole as a secret counts as a valid map). */
async function schema(files: RenderFiles): Promise<string[]> {
  const findings: string[] = [];
  for (const object of kubernetesObjects(files)) {
    const shown = Object.fromEntries(Object.entries(object).map(([k, v]) => [k, (k === "data" || k === "stringData") && v === secretPlaceholder ? {} : v]));
    for (const p of await schemaProblems(shown)) findings.push(`${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}: ${p}`);
  }
  return findings;
}

/** Every workflow of the render through actionlint (tools/build.sh builds it). */
export function lintRender(files: RenderFiles): string[] {
  return [...files].filter(([path]) => /^repo\/\.github\/workflows\/.*\.ya?ml$/.test(path))
    .flatMap(([path, content]) => lintWorkflow(path, content).map(formatFinding));
}

export async function verifyRender(input: VerifyInput): Promise<Findings> {
  const others = input.others ?? [];
  return {
    schema: await schema(input.files),
    identity: checkIdentity(input.files, input.repository, providerArn(input), others),
    clusterRights: clusterRights(input.files),
    secrets: checkSecrets(input.files, input.knownSecrets ?? {}),
    names: [...checkGithubNames(input.files, others), ...checkKubernetesNames(input.files)],
  };
}
