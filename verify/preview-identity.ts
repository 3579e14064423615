// Pulumi identities of the previews: each preview job reads exactly its own stack. A preview job
// runs a pull request's code (infra-preview.yml) or the deploy branch's (drift-<stack>.yml) with
// the Pulumi credential its stack's preview uses: a Pulumi Cloud team token or an organization
// token (pulumi/auth-actions), or in an S3 backend the preview role's session and the KMS key it
// may decrypt with. A gated stack (an environment with reviewers) must share none of these with an
// ungated one, whose preview runs any same-repository pull request's code without an approval: the
// same team or key would read the gated stack's state and decrypt its secrets, and an organization
// token reads every stack of the organization. Read from the renders alone, as an auditor would.
import { assumedRoles, roleContexts, type Role } from "./identity";
import { ofType, resourceEntries, workflowDocuments, type RenderFiles } from "./render-files";

/** A `with:` input as text (anything else: empty). */
const textOf = (value: unknown) => (typeof value === "string" ? value : "");

/** The stack a render is of, from its URNs (`urn:pulumi:<stack>::…`). */
const stackOf = (files: RenderFiles) => /^urn:pulumi:([^:]+)::/.exec(resourceEntries(files)[0]?.urn ?? "")?.[1];

/** Whether the render's stack is gated: one of its environments has reviewers. */
const gatedRender = (files: RenderFiles) =>
  ofType(files, "github:index/repositoryEnvironment:RepositoryEnvironment").some(
    (e) => Array.isArray(e.inputs.reviewers) && e.inputs.reviewers.length > 0,
  );

/** The KMS keys a role may decrypt with, from the role policies of its render. */
function decryptKeys(files: RenderFiles, role: Role): string[] {
  return ofType(files, "aws:iam/rolePolicy:RolePolicy")
    .filter((p) => p.inputs.role === role.roleName)
    .flatMap((p) => {
      const document = JSON.parse(String(p.inputs.policy)) as {
        Statement?: { Effect?: string; Action?: string | string[]; Resource?: string | string[] }[];
      };
      return (document.Statement ?? [])
        .filter(
          (s) => s.Effect === "Allow" && [s.Action ?? []].flat().some((a) => a === "kms:Decrypt" || a === "kms:*"),
        )
        .flatMap((s) => [s.Resource ?? []].flat());
    });
}

/** A credential a preview job gets, and the fix when it is shared. */
interface Credential {
  readonly name: string;
  readonly organization?: string;
  readonly fix: string;
}

const teamFix = "give each stack a Pulumi Cloud team of its own (pulumiTeam), with read access to that stack only";
const keyFix =
  "give each stack a KMS key of its own (pulumiSecretsKeyArn; pulumi stack change-secrets-provider awskms:///<key ARN>), which only its preview role may decrypt with";

/**
 * Findings: each Pulumi credential the committed preview jobs of these renders get, shared between
 * a gated and an ungated stack. `others`: the renders of the repositories' other stacks (their
 * gates, their jobs, their roles). Stacks without a render here are not judged.
 */
export function checkPreviewIdentities(files: RenderFiles, others: readonly RenderFiles[] = []): string[] {
  const renders = [files, ...others];
  const gated = new Map<string, boolean>();
  for (const r of renders) {
    const stack = stackOf(r);
    if (stack !== undefined) gated.set(stack, gatedRender(r));
  }
  const contexts = roleContexts(files, others);
  // Each credential: the stacks whose previews get it, and where.
  const uses = new Map<string, { credential: Credential; stacks: Map<string, string> }>();
  const use = (credential: Credential, stack: string, where: string) => {
    const entry = uses.get(credential.name) ?? { credential, stacks: new Map<string, string>() };
    if (!entry.stacks.has(stack)) entry.stacks.set(stack, where);
    uses.set(credential.name, entry);
  };
  const seen = new Set<string>();
  for (const workflow of renders.flatMap(workflowDocuments)) {
    const fileKey = `${workflow.repository ?? ""}/${workflow.file}`;
    if (seen.has(fileKey)) continue;
    seen.add(fileKey);
    for (const [jobId, job] of Object.entries(workflow.document.jobs)) {
      const steps = job.steps ?? [];
      const where = `${workflow.file} job ${jobId}`;
      for (const preview of steps.filter(
        (s) => /^pulumi\/actions@/.test(s.uses ?? "") && s.with?.command === "preview",
      )) {
        const stack = textOf(preview.with?.["stack-name"]).split("/").pop()!;
        const auth = steps.find((s) => /^pulumi\/auth-actions@/.test(s.uses ?? ""))?.with ?? {};
        const organization = typeof auth.organization === "string" ? auth.organization : undefined;
        if (organization !== undefined) {
          const team = typeof auth.scope === "string" ? /^team:(.+)$/.exec(auth.scope)?.[1] : undefined;
          if (textOf(auth["requested-token-type"]).endsWith(":team") && team !== undefined)
            use({ name: `the Pulumi Cloud team ${organization}/${team}`, fix: teamFix }, stack, where);
          else if (textOf(auth["requested-token-type"]).endsWith(":organization"))
            use(
              {
                name: `an organization token of ${organization}`,
                organization,
                fix: "set pulumiTeam in each stack's file to a team with read access to that stack only",
              },
              stack,
              where,
            );
        }
        if (textOf(preview.with?.["cloud-url"]).startsWith("s3://")) {
          for (const { role } of assumedRoles(contexts, workflow.repository, job)) {
            const holder = contexts.find((c) => role !== undefined && c.roles.includes(role));
            for (const key of role && holder ? decryptKeys(holder.files, role) : [])
              use({ name: `the KMS key ${key}`, fix: keyFix }, stack, where);
          }
        }
      }
    }
  }
  const shown = (stack: string) =>
    `${stack} (${gated.get(stack) ? "gated: its environment has reviewers" : "ungated"})`;
  const reason = (ungated: string, gatedStack: string) =>
    `a pull request's preview of ${ungated} runs its code with a credential that reads ${gatedStack}'s state and decrypts its secrets`;
  const findings: string[] = [];
  for (const { credential, stacks } of uses.values()) {
    const judged = [...stacks.keys()].filter((s) => gated.has(s));
    if (credential.organization !== undefined) {
      // An organization token reads every stack of the organization, previewed with it or not.
      for (const stack of judged) {
        const opposite = [...gated.keys()].filter((s) => s !== stack && gated.get(s) !== gated.get(stack));
        if (opposite.length === 0) continue;
        const [u, g] = gated.get(stack) ? [opposite[0], stack] : [stack, opposite[0]];
        findings.push(
          `${credential.name} is what the previews of ${shown(stack)} get (${stacks.get(stack)}), and it reads every stack of ${credential.organization}, ${shown(opposite[0])} included: ${reason(u, g)}; ${credential.fix}`,
        );
      }
      continue;
    }
    const gatedUsers = judged.filter((s) => gated.get(s));
    const ungatedUsers = judged.filter((s) => !gated.get(s));
    for (const g of gatedUsers)
      for (const u of ungatedUsers)
        findings.push(
          `${credential.name} is what the previews of ${shown(g)} (${stacks.get(g)}) and of ${shown(u)} (${stacks.get(u)}) get: ${reason(u, g)}; ${credential.fix}`,
        );
  }
  return findings;
}
