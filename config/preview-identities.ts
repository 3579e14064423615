// Each preview identity reads exactly its own stack. A preview job of infra-preview.yml runs the
// pull request's code with the previewed stack's identity; dev's preview environment has no
// reviewers, so any same-repository pull request runs there. An identity that reads a gated stack
// (one with requiredReviewers) must therefore never be one an ungated stack's jobs get too: not the
// same Pulumi Cloud team, not an organization token (which reads every stack of the organization),
// not the same KMS key (which decrypts the stack's secrets). Pulumi Cloud's OIDC authorization
// policies then decide which GitHub environments may exchange their token for which team's token
// (docs/pipeline.md, "Previews and drift detection").
//
// A stack's own settings say its identity; another stack's come from its own stack file (the
// loader reads them, config/load.ts) or from the program that calls parseStackConfig.
import type { SettingNames, SettingPath } from "./errors";

/** A stack's Pulumi identity, as its own settings (its stack file) give it. */
export interface PreviewStackIdentity {
  /** Its pulumiBackendUrl: Pulumi Cloud (https://…) or an S3 bucket (s3://…); undefined: no preview or drift workflow. */
  readonly pulumiBackendUrl?: string;
  /** Its pulumiOrganization (Pulumi Cloud). */
  readonly pulumiOrganization?: string;
  /** Its pulumiTeam (Pulumi Cloud): the team whose token its preview jobs get; undefined: an organization token. */
  readonly pulumiTeam?: string;
  /** Its pulumiSecretsKeyArn (an S3 backend): the KMS key its secrets are encrypted with. */
  readonly pulumiSecretsKeyArn?: string;
  /** Its requiredReviewers are not empty: its deploys and its pull-request previews wait for an approval. */
  readonly gated: boolean;
}

/** The settings of the stack being validated that its identity follows from. */
interface OwnSettings extends Omit<PreviewStackIdentity, "gated"> {
  readonly manageRepoWorkflows: boolean;
  readonly previewStacks: readonly string[];
  readonly requiredReviewers: readonly string[];
}

/** Where a stack's settings come from, for a reason that names them. */
const fileOf = (stack: string) => `Pulumi.${stack}.yaml`;
const gate = (identity: PreviewStackIdentity) =>
  identity.gated ? "gated: requiredReviewers" : "ungated: no requiredReviewers";
const isCloud = (identity: PreviewStackIdentity) => identity.pulumiBackendUrl?.startsWith("https://") === true;
const isS3 = (identity: PreviewStackIdentity) => identity.pulumiBackendUrl?.startsWith("s3://") === true;
/** The Pulumi credential a stack's preview jobs get, as one comparable name (undefined: none). */
function credential(identity: PreviewStackIdentity): string | undefined {
  if (isCloud(identity) && identity.pulumiOrganization !== undefined)
    return identity.pulumiTeam === undefined
      ? `organization:${identity.pulumiOrganization}`
      : `team:${identity.pulumiOrganization}/${identity.pulumiTeam}`;
  if (isS3(identity) && identity.pulumiSecretsKeyArn !== undefined) return `key:${identity.pulumiSecretsKeyArn}`;
  return undefined;
}

const why =
  "a pull request's preview of the ungated stack would run its code with a credential that reads the gated stack's state and decrypts its secrets";

/**
 * The problems of the stack's own identity against the other stacks' (`others`, by stack name:
 * the stack files beside it), each at the setting to change. The stack with manageRepoWorkflows
 * renders every preview job of infra-preview.yml, so it also needs each previewed stack's identity
 * (a Pulumi Cloud job gets that stack's own team's token) and answers for pairs among them.
 */
export function previewIdentityProblems(
  stack: string,
  own: OwnSettings,
  others: Readonly<Record<string, PreviewStackIdentity>>,
  names: SettingNames,
): { path: SettingPath; reason: string }[] {
  const problems: { path: SettingPath; reason: string }[] = [];
  const self: PreviewStackIdentity = { ...own, gated: own.requiredReviewers.length > 0 };
  const all = new Map<string, PreviewStackIdentity>([
    ...Object.entries(others).filter(([name]) => name !== stack),
    [stack, self],
  ]);
  const previewed = own.manageRepoWorkflows ? own.previewStacks.filter((s) => s !== stack) : [];

  // Pulumi Cloud: each previewed stack's job gets its own stack's team token, read from its settings.
  if (own.manageRepoWorkflows && isCloud(self)) {
    const unknown = previewed.filter((s) => !all.has(s));
    if (unknown.length > 0)
      problems.push({
        path: ["previewStacks"],
        reason: `${unknown.join(", ")}: infra-preview.yml previews each stack with its own Pulumi identity (its pulumiTeam and whether its requiredReviewers gate it), and ${unknown.length === 1 ? "that stack's settings are" : "those stacks' settings are"} unknown here: keep ${unknown.map(fileOf).join(", ")} beside Pulumi.yaml (a program that validates its settings itself passes them to parseStackConfig), or remove ${unknown.length === 1 ? "it" : "them"} from ${names.key("previewStacks")}`,
      });
  }

  // infra-preview.yml logs each job in to this stack's backend: a previewed stack kept elsewhere, or
  // in none (no preview role of its own), cannot be previewed by it.
  if (own.manageRepoWorkflows && own.pulumiBackendUrl !== undefined) {
    const elsewhere = previewed.filter((s) => all.has(s) && all.get(s)!.pulumiBackendUrl !== own.pulumiBackendUrl);
    if (elsewhere.length > 0)
      problems.push({
        path: ["previewStacks"],
        reason: `${elsewhere.map((s) => `${s} (${fileOf(s)}: pulumiBackendUrl ${all.get(s)!.pulumiBackendUrl ?? "unset"})`).join(", ")}: infra-preview.yml previews every stack in this stack's backend, ${own.pulumiBackendUrl}, each with its own identity there; name the same pulumiBackendUrl in every previewed stack's file, or remove ${elsewhere.length === 1 ? "it" : "them"} from ${names.key("previewStacks")}`,
      });
  }

  /** Where a problem with `name`'s identity is reported: its own key, or previewStacks for a stack this one previews. */
  const reportAt = (name: string, key: "pulumiTeam" | "pulumiSecretsKeyArn"): SettingPath | undefined =>
    name === stack ? [key] : previewed.includes(name) ? ["previewStacks"] : undefined;
  const label = (name: string) => (name === stack ? `this stack (${name})` : `${name} (${fileOf(name)})`);

  // An organization token reads every stack of the organization: refused once the stacks that share
  // the organization are gated and ungated alike.
  const byOrganization = new Map<string, string[]>();
  for (const [name, identity] of all)
    if (isCloud(identity) && identity.pulumiOrganization !== undefined)
      byOrganization.set(identity.pulumiOrganization, [
        ...(byOrganization.get(identity.pulumiOrganization) ?? []),
        name,
      ]);
  for (const [organization, members] of byOrganization) {
    const gated = members.filter((m) => all.get(m)!.gated);
    const ungated = members.filter((m) => !all.get(m)!.gated);
    if (gated.length === 0 || ungated.length === 0) continue;
    for (const name of members.filter((m) => all.get(m)!.pulumiTeam === undefined)) {
      const at = reportAt(name, "pulumiTeam");
      if (at === undefined) continue;
      const opposite = all.get(name)!.gated ? ungated : gated;
      problems.push({
        path: at,
        reason: `${name === stack ? "is unset" : `${name} sets no pulumiTeam`}, so the preview jobs of ${label(name)} get an organization token of ${organization}, which reads every stack of it, ${opposite.map((o) => `${o} (${gate(all.get(o)!)})`).join(", ")} included, while ${name} is ${gate(all.get(name)!)}: ${why}; set ${name === stack ? "it" : `pulumiTeam in ${fileOf(name)}`} to a Pulumi Cloud team with read access to ${name} only`,
      });
    }
  }

  // The same team, or the same KMS key, for a gated and an ungated stack.
  const reported = new Set<string>();
  for (const [a, identityA] of all) {
    for (const [b, identityB] of all) {
      if (a === b || identityA.gated === identityB.gated) continue;
      const shared = credential(identityA);
      if (shared === undefined || shared.startsWith("organization:") || shared !== credential(identityB)) continue;
      const key = shared.startsWith("team:") ? "pulumiTeam" : "pulumiSecretsKeyArn";
      // Reported once per pair, at this stack's own key when it is one of them.
      const [first, second] = a === stack ? [a, b] : b === stack ? [b, a] : [a, b].sort();
      const pair = `${first}|${second}|${key}`;
      const at = reportAt(first, key) ?? reportAt(second, key);
      if (reported.has(pair) || at === undefined) continue;
      reported.add(pair);
      const value = shared.startsWith("team:") ? identityA.pulumiTeam! : identityA.pulumiSecretsKeyArn!;
      const what = key === "pulumiTeam" ? "Pulumi Cloud team" : "KMS key";
      const fix =
        key === "pulumiTeam"
          ? "give each stack a team of its own, with read access to that stack only"
          : "give each stack a KMS key of its own (pulumi stack change-secrets-provider awskms:///<key ARN>), which only its preview role may decrypt with";
      problems.push({
        path: at,
        reason: `${JSON.stringify(value)} is the ${what} of ${label(first)}, ${gate(all.get(first)!)}, and of ${label(second)}, ${gate(all.get(second)!)}: ${why}; ${fix}`,
      });
    }
  }
  return problems;
}

/** The identities of the stacks `stack` previews besides itself, from what is known of them. */
export function previewedIdentities(
  stack: string,
  own: Pick<OwnSettings, "previewStacks">,
  others: Readonly<Record<string, PreviewStackIdentity>>,
): Record<string, PreviewStackIdentity> {
  return Object.fromEntries(
    own.previewStacks.filter((s) => s !== stack && others[s] !== undefined).map((s) => [s, others[s]]),
  );
}
