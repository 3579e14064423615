// The stack's configuration: the product's interface. Every key is declared here once, with its
// type, its rule and its default. Pulumi.yaml's `config:` block and the table in
// docs/configuration.md are generated from it by `npm run docs:config` (config/generate-docs.ts);
// test/config/pulumi-yaml.test.ts fails when either is stale.
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { regionProblem } from "./aws-regions";
import { canarySplit, unreachableWeightMessage } from "./canary-split";
import {
  bakePlaceholder,
  canaryLifetime,
  defaultBakeIntervalSeconds,
  defaultSmokeRequests,
  foreignKeys as constantForeignKeys,
} from "./constants";
import { cronProblem } from "./cron-schedule";
import { parseImageReference, pushProblem } from "./image-reference";
import { stackSettingNames, type SettingNames } from "./errors";
import { supportedNodeLines, nodeLineProblem } from "./node-releases";
import type { PreviewStackIdentity } from "./preview-identities";

/** The Pulumi project name, and so the config namespace of every key below. */
export { projectName } from "./constants";
export type { PreviewStackIdentity } from "./preview-identities";

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// GitHub: owner logins are alphanumerics and single inner hyphens, at most 39 characters;
// repository names are letters, digits, `.`, `-`, `_`, at most 100 characters.
const githubOwner = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const githubRepository = /^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;
const gitBranch = /^(?!\/|.*\/$|.*\/\/|.*\.\.|.*@\{|.*\.lock$)[A-Za-z0-9._/-]{1,255}$/;
const regionPattern = "[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\\d";
const awsPartitionArn = "arn:aws(-cn|-us-gov)?";
const oidcProviderArn = new RegExp(
  `^${awsPartitionArn}:iam::\\d{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$`,
);
const iamPolicyArn = new RegExp(`^${awsPartitionArn}:iam::(\\d{12}|aws):policy(/[\\w+=,.@-]+)*/[\\w+=,.@-]+$`);
const iamPath = /^\/([\x21-\x7e]+\/)?$/;
const imageMessage = "must be an image reference such as ghcr.io/owner/app:1.2.3 or ghcr.io/owner/app@sha256:…";
const severities = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
// Required reviewers: a user login, or a team as `org/team-slug#id` (its numeric id: the preview
// and drift jobs run the program with the job's GITHUB_TOKEN, which cannot read an organisation's
// teams, so a team is never looked up). A user is looked up by login (GET /users/{login}: public
// data, which any token reads).
const reviewer = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(\/[a-z0-9_-]+(#[1-9]\d{0,15})?)?$/;
const reviewerMessage = "a GitHub login or org/team-slug#team-id";
const tag = /^[\p{L}\p{N} _.:/=+@-]{1,128}=[\p{L}\p{N} _.:/=+@-]{0,256}$/u;
// A test command: one line of bash for a `run:` step, never a GitHub expression (which Actions would
// evaluate into the script before the shell runs: the writer refuses one in any run:).
const shellLine = /^(?!\s)(?!.*\$\{\{)[^\n\r]{1,1000}(?<!\s)$/;
const shellLineMessage =
  "one line of bash without ${{ (a GitHub expression inside run: is evaluated before the shell; for more, call a script of the repository)";

const text = (pattern: RegExp, valid: string) =>
  z.string({ message: `must be ${valid}` }).regex(pattern, { message: `must be ${valid}` });
const teamWithoutId = /^(?<org>[^/#]+)\/(?<slug>[^/#]+)$/;
const reviewerItem = text(reviewer, reviewerMessage).superRefine((value, ctx) => {
  const team = teamWithoutId.exec(value)?.groups;
  if (team)
    ctx.addIssue({
      code: "custom",
      message: `must carry the team's numeric id, as ${team.org}/${team.slug}#<id>: the preview and drift jobs run the program with the job's GITHUB_TOKEN, which cannot read the organisation's teams; find the id with \`gh api orgs/${team.org}/teams/${team.slug} --jq .id\``,
    });
});
const integer = (min: number, max: number, what = "a whole number") =>
  z
    .number({ message: `must be ${what} from ${min} to ${max}` })
    .int({ message: `must be ${what} from ${min} to ${max}` })
    .min(min, { message: `must be ${what} from ${min} to ${max}` })
    .max(max, { message: `must be ${what} from ${min} to ${max}` });
// A Node.js major version: digits ("22") or, as a stack file's JSON array gives it, a whole number
// (22); normalised to text. Either form must name a line that still gets security fixes.
const nodeMajor = "must be a Node.js major version such as 24";
const nodeLine = z
  .union([z.string().regex(/^\d+$/, { message: nodeMajor }), z.int().min(0, { message: nodeMajor })], {
    message: nodeMajor,
  })
  .transform(String)
  .superRefine((version, ctx) => {
    const why = nodeLineProblem(version);
    if (why) ctx.addIssue({ code: "custom", message: why });
  });
// A GitHub Actions schedule (config/cron-schedule.ts), or off.
const driftSchedule = "must be a cron schedule of five fields (UTC) such as 0 6 * * 1-5, or off";
// Seconds as a number (1.5) or as the text a stack file's scalar gives ("1.5").
const seconds = "must be a positive number of seconds such as 1.5";
const path = text(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, "an absolute URL path such as /healthz");
// An object setting's refusal: not an object, or a key it does not have.
const objectError = (needs: string, keys: string[]) => (issue: { code?: string; keys?: string[] }) =>
  issue.code === "unrecognized_keys"
    ? `has no key ${issue.keys?.join(", ")}: its keys are ${keys.join(", ")}`
    : `must be an object with ${needs}`;
// A threshold: a number, or its text (`pulumi config set --path` stores a fraction as a string).
const thresholdMessage = "must be a number such as 0.05";
const threshold = z
  .union(
    [z.string().regex(/^-?\d+(\.\d+)?$/, { message: thresholdMessage }), z.number({ message: thresholdMessage })],
    { message: thresholdMessage },
  )
  .transform(Number)
  .pipe(z.number({ message: thresholdMessage }));
/** One query of the bake window's analysis (components/shared/canary-bake.ts), run for each track. */
const analysisMetric = z
  .object(
    {
      name: text(dns1123Label, "a DNS-1123 label such as error-ratio (lower-case letters, digits, '-')").max(63, {
        message: "must be at most 63 characters",
      }),
      query: z
        .string({ message: "must be a PromQL query" })
        .min(1, { message: "must be a PromQL query" })
        .max(2000, { message: "must be at most 2000 characters" })
        .refine((q) => q.includes(bakePlaceholder), {
          message: `must contain ${bakePlaceholder} where the pods' track label goes (track="${bakePlaceholder}"): it is replaced by canary, then by stable`,
        }),
      max: threshold.optional(),
      maxOverStable: threshold.optional(),
    },
    { error: objectError("name, query and max or maxOverStable", ["name", "query", "max", "maxOverStable"]) },
  )
  .strict();

// Kubernetes' own rules (apimachinery pkg/util/validation/validation.go): a label key is a
// qualified name, an optional DNS-1123 subdomain prefix and `/`, then a name of at most 63
// alphanumerics, '-', '_', '.' that starts and ends alphanumeric; a value is such a name or empty.
const labelName = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const dns1123Subdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const isLabelKey = (key: string) => {
  const [prefix, name, ...more] = key.includes("/") ? key.split("/") : [undefined, key];
  return more.length === 0 && labelName.test(name ?? "") && (prefix === undefined || dns1123Subdomain.test(prefix));
};
const labelValue =
  "must be a Kubernetes label value (at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit, or empty)";
const podLabels = z
  .record(z.string(), z.string({ message: labelValue }), { message: "must be a map of label keys to values" })
  .superRefine((labels, ctx) => {
    for (const [key, value] of Object.entries(labels)) {
      if (!isLabelKey(key))
        ctx.addIssue({
          code: "custom",
          message: `has the key ${JSON.stringify(key)}, which is not a Kubernetes label key (an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit)`,
        });
      else if (value !== "" && !labelName.test(value))
        ctx.addIssue({ code: "custom", path: [key], message: labelValue });
    }
  });

/** The address bits of an IPv4 or IPv6 address as a string of 0s and 1s (undefined: not an address). */
function addressBits(address: string): string | undefined {
  if (isIPv4(address))
    return address
      .split(".")
      .map((n) => Number(n).toString(2).padStart(8, "0"))
      .join("");
  if (!isIPv6(address) || address.includes("%")) return undefined;
  let text = address;
  if (text.includes(".")) {
    const at = text.lastIndexOf(":");
    const v4 = addressBits(text.slice(at + 1))!;
    text = `${text.slice(0, at + 1)}${parseInt(v4.slice(0, 16), 2).toString(16)}:${parseInt(v4.slice(16), 2).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const part = (p: string | undefined) => (p ? p.split(":") : []);
  const groups =
    tail === undefined
      ? part(head)
      : [...part(head), ...Array<string>(8 - part(head).length - part(tail).length).fill("0"), ...part(tail)];
  return groups.map((g) => parseInt(g, 16).toString(2).padStart(16, "0")).join("");
}

/** Why a CIDR is refused: not an address and prefix length, or an address with host bits set. */
function cidrProblem(cidr: string): string | undefined {
  const [address, prefix, ...more] = cidr.split("/");
  const bits = addressBits(address);
  const length = /^(0|[1-9]\d{0,2})$/.test(prefix ?? "") ? Number(prefix) : NaN;
  if (more.length > 0 || bits === undefined || !(length <= bits.length))
    return "must be a CIDR block such as 10.0.0.0/8 or fd00::/8 (an IPv4 or IPv6 address and a prefix length)";
  if (bits.slice(length).includes("1"))
    return `must be the block's network address: ${cidr} has host bits set after /${length}`;
  return undefined;
}

// A NetworkPolicy source: exactly one of a namespace (optionally narrowed to its pods with
// podLabels) or an address block.
const ingressPeer = z
  .object(
    {
      namespace: text(dns1123Label, "a namespace name (a DNS-1123 label: lower-case letters, digits, '-')")
        .max(63, { message: "must be at most 63 characters (DNS-1123 label)" })
        .optional(),
      podLabels: podLabels.optional(),
      cidr: z.string({ message: "must be a CIDR block such as 10.0.0.0/8" }).optional(),
    },
    { message: "must be a source: { namespace: NAME, podLabels?: { KEY: VALUE } } or { cidr: BLOCK }" },
  )
  .strict()
  .superRefine((peer, ctx) => {
    if ((peer.namespace === undefined) === (peer.cidr === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: "must name exactly one of namespace (its pods) or cidr (an address block)",
      });
    }
    if (peer.cidr !== undefined && peer.podLabels !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["podLabels"],
        message: "applies to a namespace source only: an address block selects no pods",
      });
    const why = peer.cidr === undefined ? undefined : cidrProblem(peer.cidr);
    if (why) ctx.addIssue({ code: "custom", path: ["cidr"], message: why });
  })
  .transform((peer) =>
    peer.cidr !== undefined
      ? { cidr: peer.cidr }
      : { namespace: peer.namespace!, ...(peer.podLabels !== undefined ? { podLabels: peer.podLabels } : {}) },
  );
const networkPolicyIngress = z
  .array(ingressPeer, { message: "must be a list of sources ({ namespace, podLabels? } or { cidr })" })
  .superRefine((peers, ctx) => {
    const seen = peers.map((p) =>
      JSON.stringify("cidr" in p ? p : { namespace: p.namespace, podLabels: Object.entries(p.podLabels ?? {}).sort() }),
    );
    seen.forEach((key, i) => {
      const first = seen.indexOf(key);
      if (first < i) ctx.addIssue({ code: "custom", path: [i], message: `repeats source [${first}]` });
    });
  });

/** The raw shape of the configuration, as read from the stack (defaults applied). */
export const configSchema = z
  .object({
    // GitHub
    githubOwner: text(
      githubOwner,
      "a GitHub user or organisation login (letters, digits, single hyphens, at most 39)",
    ).describe("GitHub user or organisation that owns the service repository."),
    githubRepository: text(
      githubRepository,
      "a GitHub repository name (letters, digits, '.', '-', '_', at most 100)",
    ).describe("Name of the service repository."),
    githubOwnerId: integer(1, Number.MAX_SAFE_INTEGER, "a numeric GitHub owner ID")
      .optional()
      .describe("Numeric owner ID; with githubRepositoryId, the immutable OIDC subject form is trusted too."),
    githubRepositoryId: integer(1, Number.MAX_SAFE_INTEGER, "a numeric GitHub repository ID")
      .optional()
      .describe("Numeric repository ID; with githubOwnerId, the immutable OIDC subject form is trusted too."),
    deployBranch: text(gitBranch, "a git branch name such as main")
      .default("main")
      .describe("Branch whose pushes deploy to the first environment."),
    environment: text(/^[A-Za-z0-9._-]{1,255}$/, "a GitHub environment name (letters, digits, '.', '-', '_')")
      .optional()
      .describe("GitHub environment of this stack (default: the stack name)."),
    promoteFrom: text(/^[A-Za-z0-9._-]{1,255}$/, "the GitHub environment whose tested image this one promotes")
      .optional()
      .describe(
        "Environment whose already-tested image this one promotes; unset for the first environment, which builds.",
      ),
    requiredReviewers: z
      .array(reviewerItem, {
        message: "must be a list of GitHub logins or org/team-slug#team-id",
      })
      .max(6, { message: "must name at most 6 reviewers (GitHub's limit per environment)" })
      .default([])
      .describe(
        "Users (login) or teams (org/team-slug#team-id, the id from `gh api orgs/ORG/teams/SLUG --jq .id`) who must approve deployments (at most 6).",
      ),
    githubRepositoryVisibility: z
      .enum(["public", "private", "internal"], { message: "must be public, private or internal" })
      .optional()
      .describe(
        "The repository's visibility; with githubPlan, environment settings the plan cannot honour are refused.",
      ),
    githubPlan: z
      .enum(["free", "pro", "team", "enterprise"], { message: "must be free, pro, team or enterprise" })
      .optional()
      .describe(
        "The GitHub plan of the repository's owner; with githubRepositoryVisibility, environment settings the plan cannot honour are refused.",
      ),
    manageRepoWorkflows: z
      .boolean({ message: "must be true or false" })
      .default(false)
      .describe(
        "This stack owns the repository-wide workflows (ci.yml, infra-preview.yml); exactly one stack per repository.",
      ),
    previewStacks: z
      .array(text(/^[A-Za-z0-9._/-]{1,100}$/, "a Pulumi stack name"), { message: "must be a list of stack names" })
      .min(1, { message: "must name at least one stack" })
      .default(["dev", "prod"])
      .describe("Stacks whose `pulumi preview` is posted on pull requests (used with manageRepoWorkflows)."),
    infraDirectory: text(
      /^(\.|(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)$/,
      "a folder of the repository, relative, such as infra or deploy/pulumi (. for its root)",
    )
      .default("infra")
      .describe(
        "Folder of the repository that holds this Pulumi project: the preview workflow runs there, on pull requests that change it.",
      ),
    // Pulumi: where the state lives, for the workflows that preview the stacks
    pulumiBackendUrl: text(
      new RegExp(
        String.raw`^(https:\/\/[A-Za-z0-9.-]+(:\d+)?\/?|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9!_.*'()/-]*[A-Za-z0-9!_.*'()-])?(\?region=${regionPattern})?)$`,
      ),
      "Pulumi Cloud's URL (https://api.pulumi.com) or an S3 bucket URL (s3://bucket/prefix?region=eu-west-1)",
    )
      .optional()
      .describe(
        "Where the stacks' state lives, for the preview and drift workflows: Pulumi Cloud (https://api.pulumi.com) or an S3 bucket (s3://bucket/prefix?region=eu-west-1). Unset: neither workflow.",
      ),
    pulumiOrganization: text(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, "a Pulumi Cloud organization name")
      .optional()
      .describe(
        "Pulumi Cloud: the organization whose short-lived token the workflows exchange their GitHub OIDC token for (required with Pulumi Cloud).",
      ),
    pulumiTeam: text(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, "a Pulumi Cloud team name")
      .optional()
      .describe(
        "Pulumi Cloud: the team whose token this stack's preview and drift jobs get (give it read access to this stack only; the stack committing infra-preview.yml reads it from this stack's file). Unset: an organization token, refused where the stacks are gated and ungated alike.",
      ),
    pulumiSecretsKeyArn: text(
      new RegExp(`^${awsPartitionArn}:kms:${regionPattern}:\\d{12}:key\\/[A-Za-z0-9-]+$`),
      "the ARN of a KMS key (arn:aws:kms:REGION:ACCOUNT:key/ID)",
    )
      .optional()
      .describe(
        "S3 backend: the KMS key of the stack's awskms secrets provider, which its preview role alone may decrypt with (required with S3; one key per stack: a key shared by a gated and an ungated stack is refused).",
      ),
    driftSchedule: z
      .string({ message: driftSchedule })
      .superRefine((schedule, ctx) => {
        const why = schedule === "off" ? undefined : cronProblem(schedule);
        if (why !== undefined) ctx.addIssue({ code: "custom", message: `${driftSchedule}: ${why}` });
      })
      .default("0 6 * * 1-5")
      .describe(
        "When the drift workflow runs a refreshed preview expecting no changes (cron, UTC); off: no drift workflow.",
      ),
    // AWS and the cluster
    awsRegion: z
      .string({ message: "must be an AWS region such as eu-west-1" })
      .superRefine((region, ctx) => {
        const why = regionProblem(region);
        if (why !== undefined) ctx.addIssue({ code: "custom", message: why });
      })
      .optional()
      .describe("Read from aws:region; the region of the cluster and the roles' sessions."),
    clusterAuth: z
      .enum(["eks", "token"], { message: "must be eks (IAM role through OIDC) or token (ServiceAccount kubeconfig)" })
      .default("eks")
      .describe("How the pipeline authenticates to the cluster: eks or token."),
    eksClusterName: text(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, "an EKS cluster name")
      .optional()
      .describe("EKS cluster name (required with clusterAuth eks)."),
    clusterEndpoint: z
      .url({ protocol: /^https$/, message: "must be the cluster API server's https:// URL" })
      .optional()
      .describe("Kubernetes API server URL (required with clusterAuth token)."),
    clusterCaData: z
      .base64({ message: "must be the cluster CA certificate, base64-encoded PEM" })
      .optional()
      .describe("Base64 PEM of the cluster CA (required with clusterAuth token)."),
    kubeconfigContext: text(/^\S(.*\S)?$/, "the name of a context of the local kubeconfig")
      .optional()
      .describe(
        "clusterAuth token: the context of the local kubeconfig (KUBECONFIG or ~/.kube/config) whose user Pulumi deploys as (default: its current context); the cluster is always clusterEndpoint.",
      ),
    oidcProviderArn: text(oidcProviderArn, "the ARN of an IAM OIDC provider for token.actions.githubusercontent.com")
      .optional()
      .describe("Use this existing GitHub OIDC provider instead of creating one (one per account)."),
    iamRolePath: text(iamPath, "an IAM path that starts and ends with /")
      .default("/")
      .describe("Path of the IAM roles."),
    iamPermissionsBoundary: text(iamPolicyArn, "the ARN of an IAM managed policy")
      .optional()
      .describe("Managed policy ARN set as the roles' permissions boundary."),
    iamMaxSessionDuration: integer(3600, 43200, "a number of seconds")
      .optional()
      .describe(
        "Maximum session duration of the roles, in seconds (3600 to 43200). Unset: as long as the longest deploy job may run (at least 3600), which each job's session lasts.",
      ),
    tags: z
      .array(text(tag, "key=value"), { message: "must be a list of key=value" })
      .default([])
      .describe("Tags (key=value) for the AWS resources."),
    namespace: text(dns1123Label, "a DNS-1123 label (lower-case letters, digits, '-', at most 63)")
      .max(63, { message: "must be at most 63 characters (DNS-1123 label)" })
      .optional()
      .describe("Kubernetes namespace of the service (default: appName)."),
    createNamespace: z
      .boolean({ message: "must be true or false" })
      .default(true)
      .describe("Create and label the namespace (false: it exists already)."),
    // Application
    appName: text(dns1123Label, "a DNS-1123 label (lower-case letters, digits, '-')")
      .max(38, {
        message:
          "must be at most 38 characters (names get suffixes: the CronJob <appName>-canary-reaper may have at most 52)",
      })
      .describe("Name of the service: Deployments, Service and labels."),
    containerPort: integer(1, 65535, "a port").default(3000).describe("Port the container listens on."),
    healthPath: path.default("/healthz").describe("HTTP path of the health endpoint (startup and readiness probes)."),
    livenessPath: path
      .optional()
      .describe(
        "HTTP path the liveness probe requests (default: healthPath); a failing liveness probe restarts the container.",
      ),
    networkPolicyIngress: networkPolicyIngress
      .optional()
      .describe(
        "Who may connect to the container port: a list of { namespace, podLabels? } (that namespace's pods, or those with these labels) and { cidr } sources, besides the service's own namespace. Unset: any source on the container port only, so an ingress controller in another namespace or on the host network, or a load balancer sending to pod IPs, is never cut off silently; [] admits the own namespace only.",
      ),
    replicas: integer(1, 100).default(9).describe("Stable replicas."),
    canaryWeight: integer(1, 50, "a percentage")
      .default(10)
      .describe("Share of traffic the canary receives, in percent (by replica ratio)."),
    startupSeconds: integer(5, 600, "a number of seconds")
      .default(60)
      .describe(
        "Longest the container may take after starting to answer healthPath (startupProbe); a slower start restarts it and fails a release.",
      ),
    minReadySeconds: integer(0, 300, "a number of seconds")
      .default(10)
      .describe("Seconds a new pod must be ready before it counts as available."),
    initialImage: z
      .string({ message: imageMessage })
      .describe(
        "Image of the first deployment, with a tag or digest (never latest), under ghcr.io/<githubOwner>/: the pipeline pushes its builds to the same repository with the job's GITHUB_TOKEN, and owns the Deployments' image afterwards.",
      ),
    // Pipeline
    canaryEngine: z
      .enum(["pipeline", "argo-rollouts"], { message: "must be pipeline or argo-rollouts" })
      .default("pipeline")
      .describe(
        'What runs the canary: pipeline, a stable and a canary Deployment that the deploy workflow scales, judges and retires; argo-rollouts, one Argo Rollouts Rollout whose controller (installed in the cluster beforehand) walks the canary steps and AnalysisTemplates, the workflow setting its image, waiting for the verdict and promoting after approval (docs/pipeline.md, "The two engines").',
      ),
    canaryLifetimeMinutes: integer(canaryLifetime.minMinutes, canaryLifetime.maxMinutes, "a number of minutes")
      .default(canaryLifetime.defaultMinutes)
      .describe(
        'Longest a canary may serve from its deploy, in minutes; then the in-cluster reaper (argo-rollouts: the controller) takes it out of service, even when its run is gone (docs/pipeline.md, "Expired canaries").',
      ),
    nodeVersions: z
      .array(nodeLine, { message: "must be a list of Node.js major versions" })
      .min(1, { message: "must name at least one Node.js version" })
      .prefault([...supportedNodeLines])
      .describe(
        "Node.js release lines of the test matrix (testRuntime node); the newest also runs this Pulumi program in the preview jobs.",
      ),
    // The service's tests: the first environment's test job and ci.yml's (docs/pipeline.md, "The test job").
    testRuntime: z
      .enum(["node", "none"], { message: "must be node or none" })
      .default("node")
      .describe(
        "What the test jobs set up before testSetup: node, Node.js for each line of nodeVersions (setup-node with its npm cache); none, nothing, for a service whose toolchain the runner (ubuntu-24.04: Go, Python, Java among others) has or testSetup installs.",
      ),
    testSetup: text(shellLine, shellLineMessage)
      .optional()
      .describe(
        "Bash command run before testCommand, from the repository's root, such as go mod download. Default with testRuntime node: npm ci (install from the lockfile); with none: no setup step.",
      ),
    testCommand: text(shellLine, shellLineMessage)
      .optional()
      .describe(
        "Bash command that runs the service's tests, from the repository's root, such as go test ./... (a non-zero exit fails the job). Default with testRuntime node: npm test; required with none.",
      ),
    testMatrix: z
      .array(
        text(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, "a matrix value such as 1.23 (letters, digits, '.', '_', '+', '-')"),
        {
          message: "must be a list of matrix values",
        },
      )
      .min(1, { message: "must name at least one value" })
      .max(16, { message: "must name at most 16 values" })
      .optional()
      .describe(
        "testRuntime none: the values the test jobs run once each with, in the environment variable TEST_MATRIX (such as versions testSetup installs). Unset: one run. With node the matrix is nodeVersions.",
      ),
    smokePaths: z
      .array(path, { message: "must be a list of URL paths" })
      .min(1, { message: "must name at least one path" })
      .optional()
      .describe("Paths the smoke test requests (default: [healthPath]; list real endpoints)."),
    smokeRequests: integer(1, 200, "a number of requests")
      .default(defaultSmokeRequests)
      .describe(
        "Requests the smoke test sends to each smoke path through the canary Service (and as many through the main Service).",
      ),
    smokeMaxLatencySeconds: z
      .union([z.string().regex(/^\d+(\.\d+)?$/, { message: seconds }), z.number()], { message: seconds })
      .default("1.5")
      .transform(Number)
      .pipe(
        z
          .number()
          .positive({ message: "must be more than 0 seconds" })
          .max(60, { message: "must be at most 60 seconds" }),
      )
      .describe("Slowest acceptable smoke-test response, in seconds."),
    canaryBakeSeconds: integer(0, 3600, "a number of seconds")
      .default(300)
      .describe(
        "How long the canary job holds and judges the canary after the smoke test (restarts, readiness, probes, canaryAnalysis); 0: no bake window.",
      ),
    canaryAnalysis: z
      .object(
        {
          prometheusUrl: z
            .url({
              protocol: /^https?$/,
              message:
                "must be the http:// or https:// URL of a Prometheus server the cluster's pods reach, such as http://prometheus.monitoring.svc:9090",
            })
            .refine((u) => /^[A-Za-z0-9._~:/@%+=,-]+$/.test(u), {
              message: "must be a plain URL without query, fragment or quotes: /api/v1/query is appended to it",
            }),
          intervalSeconds: integer(10, 600, "a number of seconds").default(defaultBakeIntervalSeconds),
          failureLimit: integer(0, 100, "a number of failed measurements").default(1),
          metrics: z
            .array(analysisMetric, { message: "must be a list of metrics" })
            .min(1, { message: "must name at least one metric" })
            .max(10, { message: "must name at most 10 metrics" }),
        },
        {
          error: objectError("prometheusUrl and metrics", [
            "prometheusUrl",
            "intervalSeconds",
            "failureLimit",
            "metrics",
          ]),
        },
      )
      .strict()
      .optional()
      .describe(
        "Bake-window analysis: PromQL queries (with $track) judged every intervalSeconds from inside the cluster, canary against stable; more than failureLimit failed or unreachable measurements fail the canary. Unset: none.",
      ),
    scanSeverity: z
      .string({ message: `must be a comma-separated list of ${severities.join(", ")}` })
      .default("HIGH,CRITICAL")
      .describe("Trivy severities that fail the scan (comma-separated)."),
    signImages: z
      .boolean({ message: "must be true or false" })
      .default(true)
      .describe("Generate an SBOM and sign images with keyless cosign; verify before deploying."),
    smokeTestOnUp: z
      .boolean({ message: "must be true or false" })
      .default(true)
      .describe("Run the in-cluster smoke test from `pulumi up` when the workloads change."),
  })
  .strict();

/**
 * The optional secrets, read with getSecret and never as plain text. Each turns a feature on;
 * without it that feature is left out cleanly.
 */
export const secretSettings = {
  ghcrPullToken: "Secret: GitHub token with read:packages for the GHCR image-pull Secret (absent: public images).",
  slackWebhook: "Secret: Slack incoming-webhook URL for rollback notifications (absent: no notification).",
} as const;
export type SecretKey = keyof typeof secretSettings;

/** Keys read from another namespace than the project's (a provider's own setting). */
export const foreignKeys: Partial<Record<keyof RawConfig, string>> = constantForeignKeys;

/**
 * The settings a library caller may give as `pulumi.Input<string>` instead (outputs of a cluster
 * the same program creates); validated with their rule here once their value is known.
 */
export const clusterLocationKeys = ["eksClusterName", "clusterEndpoint", "clusterCaData"] as const;
export type ClusterLocationKey = (typeof clusterLocationKeys)[number];

/**
 * Rules that involve more than one key, or derived values. `given`: the location keys whose
 * values come from elsewhere (the caller's Inputs), which count as set. `names`: how a reason
 * names another setting, and how its reader sets a missing one (default: a stack's keys).
 *
 * Every rule runs, also when other keys are refused, so one run names every problem; but a rule
 * judges only values that are valid on their own (nothing refused at or under them): a refused
 * value names its own problem, and no line follows from it (an invalid replicas makes no
 * canaryWeight problem).
 */
export const stackConfigSchema = (
  given: ReadonlySet<ClusterLocationKey> = new Set(),
  names: SettingNames = stackSettingNames,
) =>
  configSchema.superRefine(
    (c, ctx) => {
      const problem = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
      const refused = ctx.issues.map((issue) => issue.path ?? []);
      /** Nothing at or under `path` is refused. */
      const fine = (...path: (string | number)[]) => !refused.some((p) => path.every((step, i) => p[i] === step));
      /** The value at `path` itself is refused (not only something under it). */
      const refusedAt = (...path: (string | number)[]) =>
        refused.some((p) => p.length === path.length && path.every((step, i) => p[i] === step));
      const valid = (...keys: (keyof RawConfig)[]) => keys.every((key) => fine(key));
      /** When the list itself is a list (its items may still be refused): the items that are valid. */
      const validItems = <T>(key: keyof RawConfig, list: readonly T[]): T[] | undefined =>
        refusedAt(key) || !Array.isArray(list) ? undefined : list.filter((_, i) => fine(key, i));
      const has = (key: ClusterLocationKey) => c[key] !== undefined || given.has(key);
      if (valid("clusterAuth") && c.clusterAuth === "eks") {
        if (valid("eksClusterName") && !has("eksClusterName"))
          problem("eksClusterName", "is required with clusterAuth eks: set it to the EKS cluster's name");
        if (valid("awsRegion") && !c.awsRegion)
          problem("awsRegion", `is required with clusterAuth eks: ${names.howToSet(["awsRegion"])}`);
        if (valid("kubeconfigContext") && c.kubeconfigContext !== undefined) {
          problem(
            "kubeconfigContext",
            `applies to clusterAuth token only: eks mode builds its kubeconfig from eksClusterName and ${names.key("awsRegion")}`,
          );
        }
      } else if (valid("clusterAuth")) {
        if (valid("clusterEndpoint") && !has("clusterEndpoint"))
          problem("clusterEndpoint", "is required with clusterAuth token: set it to the API server's https:// URL");
        if (valid("clusterCaData") && !has("clusterCaData"))
          problem("clusterCaData", "is required with clusterAuth token: set it to the base64 PEM of the cluster CA");
      }
      if (
        valid("githubOwnerId", "githubRepositoryId") &&
        (c.githubOwnerId === undefined) !== (c.githubRepositoryId === undefined)
      ) {
        problem(
          c.githubOwnerId === undefined ? "githubOwnerId" : "githubRepositoryId",
          "is required when the other ID is set: the immutable subject names both owner and repository IDs",
        );
      }
      if (valid("initialImage")) {
        const image = parseImageReference(c.initialImage);
        // The pipeline's images go to initialImage's repository, pushed with the job's GITHUB_TOKEN.
        const push = valid("githubOwner") ? pushProblem(c.initialImage, c.githubOwner) : undefined;
        if (image === undefined) problem("initialImage", imageMessage);
        else if (!image.tag && !image.digest)
          problem(
            "initialImage",
            "must name a tag or a digest (ghcr.io/owner/app:1.2.3): an untagged image means latest",
          );
        else if (image.tag === "latest")
          problem("initialImage", "must not use the tag latest: pin a version tag or a digest");
        else if (push !== undefined) problem("initialImage", push);
      }
      if (valid("replicas", "canaryWeight") && !canarySplit(c.replicas, c.canaryWeight).reachable) {
        problem("canaryWeight", unreachableWeightMessage(c.replicas, c.canaryWeight));
      }
      const versions = validItems("nodeVersions", c.nodeVersions);
      if (versions && new Set(versions).size !== versions.length) problem("nodeVersions", "must not repeat a version");
      if (valid("testRuntime", "testCommand") && c.testRuntime === "none" && c.testCommand === undefined)
        problem(
          "testCommand",
          `is required with testRuntime none: the command that runs the service's tests, such as go test ./... or python -m pytest (${names.howToSet(["testCommand"])})`,
        );
      if (valid("testRuntime") && c.testRuntime === "node" && c.testMatrix !== undefined && !refusedAt("testMatrix"))
        problem(
          "testMatrix",
          "applies to testRuntime none: with node the test jobs run once per line of nodeVersions; set nodeVersions instead",
        );
      const matrix = c.testMatrix === undefined ? undefined : validItems("testMatrix", c.testMatrix);
      if (matrix && new Set(matrix).size !== matrix.length) problem("testMatrix", "must not repeat a value");
      if (
        valid("scanSeverity") &&
        !c.scanSeverity.split(",").every((l) => (severities as readonly string[]).includes(l))
      ) {
        problem("scanSeverity", `must be a comma-separated list of ${severities.join(", ")}`);
      }
      const reviewers = validItems("requiredReviewers", c.requiredReviewers);
      // One reviewer twice: the same login, the same team slug, or the same team id.
      const reviewerKeys = reviewers?.flatMap((r) => {
        const [name, id] = r.toLowerCase().split("#");
        return id === undefined ? [name] : [name, `#${id}`];
      });
      if (reviewerKeys && new Set(reviewerKeys).size !== reviewerKeys.length)
        problem("requiredReviewers", "must not name a reviewer twice");
      if (valid("promoteFrom", "environment") && c.promoteFrom !== undefined && c.promoteFrom === c.environment)
        problem("promoteFrom", "must name another environment than this stack's own");
      // The first environment deploys every push on its own; a gate there would hold every push.
      if (valid("promoteFrom", "requiredReviewers") && c.promoteFrom === undefined && c.requiredReviewers.length > 0) {
        const branch = valid("deployBranch") ? c.deployBranch : "the deploy branch";
        problem(
          "requiredReviewers",
          `cannot gate the first environment, which deploys every push to ${branch} on its own: set promoteFrom to make this a promotion environment, or remove the reviewers`,
        );
      }
      // GitHub docs, "Using environments for deployment": environments, their secrets and deployment
      // branch policies in private or internal repositories need Pro, Team or Enterprise; required
      // reviewers (with self-review and admin-bypass rules) there need Enterprise.
      if (
        valid("githubRepositoryVisibility", "githubPlan") &&
        c.githubRepositoryVisibility !== undefined &&
        c.githubRepositoryVisibility !== "public" &&
        c.githubPlan !== undefined
      ) {
        if (c.githubPlan === "free") {
          problem(
            "githubPlan",
            `free cannot hold environments in a ${c.githubRepositoryVisibility} repository (nor their secrets and deploy-branch policy): they need GitHub Pro, Team or Enterprise`,
          );
        } else if (c.githubPlan !== "enterprise" && valid("requiredReviewers") && c.requiredReviewers.length > 0) {
          problem(
            "requiredReviewers",
            `need GitHub Enterprise in a ${c.githubRepositoryVisibility} repository (githubPlan is ${c.githubPlan}): GitHub would not enforce them; remove them, or move the repository to an Enterprise organisation`,
          );
        }
      }
      // The workflows log in with short-lived credentials only: a Pulumi Cloud token exchanged for the
      // job's GitHub OIDC token, or the preview role's AWS session on the bucket and the KMS key.
      if (valid("pulumiBackendUrl")) {
        const backend =
          c.pulumiBackendUrl === undefined ? undefined : c.pulumiBackendUrl.startsWith("s3://") ? "s3" : "cloud";
        if (valid("pulumiOrganization") && backend === "cloud" && c.pulumiOrganization === undefined)
          problem(
            "pulumiOrganization",
            "is required with a Pulumi Cloud backend: the organization the workflows get a token of",
          );
        if (valid("pulumiOrganization") && backend !== "cloud" && c.pulumiOrganization !== undefined)
          problem("pulumiOrganization", "applies to a Pulumi Cloud backend only (pulumiBackendUrl https://…)");
        if (valid("pulumiTeam") && backend !== "cloud" && c.pulumiTeam !== undefined)
          problem("pulumiTeam", "applies to a Pulumi Cloud backend only (pulumiBackendUrl https://…)");
        if (valid("pulumiSecretsKeyArn") && backend === "s3" && c.pulumiSecretsKeyArn === undefined) {
          problem(
            "pulumiSecretsKeyArn",
            "is required with an S3 backend: create the stack with --secrets-provider awskms:///<key ARN> and name the key here (a passphrase would have to be stored for the workflows, a long-lived secret)",
          );
        }
        if (valid("pulumiSecretsKeyArn") && backend !== "s3" && c.pulumiSecretsKeyArn !== undefined)
          problem("pulumiSecretsKeyArn", "applies to an S3 backend only (pulumiBackendUrl s3://…)");
      }
      const analysis = c.canaryAnalysis;
      if (analysis !== undefined && !refusedAt("canaryAnalysis")) {
        const at = (...path: (string | number)[]) => ["canaryAnalysis", ...path];
        if (valid("canaryBakeSeconds") && c.canaryBakeSeconds === 0)
          problem(
            "canaryBakeSeconds",
            "must be more than 0 with canaryAnalysis: the analysis runs during the bake window",
          );
        else if (
          valid("canaryBakeSeconds") &&
          fine(...at("intervalSeconds")) &&
          analysis.intervalSeconds > c.canaryBakeSeconds
        ) {
          ctx.addIssue({
            code: "custom",
            path: at("intervalSeconds"),
            message: `must fit into canaryBakeSeconds (${c.canaryBakeSeconds}) at least once: shorten it or lengthen the bake`,
          });
        }
        const metrics = refusedAt(...at("metrics")) || !Array.isArray(analysis.metrics) ? [] : analysis.metrics;
        metrics.forEach((m, i) => {
          if (refusedAt(...at("metrics", i))) return; // not a metric: named already
          if (
            fine(...at("metrics", i, "max")) &&
            fine(...at("metrics", i, "maxOverStable")) &&
            m.max === undefined &&
            m.maxOverStable === undefined
          ) {
            ctx.addIssue({
              code: "custom",
              path: at("metrics", i),
              message: "must set max (the highest canary value), maxOverStable (the highest canary − stable), or both",
            });
          }
          const first = metrics.findIndex((other, j) => fine(...at("metrics", j, "name")) && other.name === m.name);
          if (fine(...at("metrics", i, "name")) && first !== i)
            ctx.addIssue({
              code: "custom",
              path: at("metrics", i, "name"),
              message: `must be unique: ${m.name} names an earlier metric too`,
            });
        });
      }
      const tagKeys = validItems("tags", c.tags)?.map((t) => t.split("=")[0]);
      if (tagKeys && new Set(tagKeys).size !== tagKeys.length) problem("tags", "must not repeat a key");
    },
    { when: () => true },
  );

export type RawConfig = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

/** The validated configuration with every default resolved: what the components receive. */
export interface StackConfig extends Omit<
  Parsed,
  "environment" | "namespace" | "livenessPath" | "smokePaths" | "scanSeverity"
> {
  stack: string;
  environment: string;
  namespace: string;
  livenessPath: string;
  smokePaths: string[];
  scanSeverity: string[];
  /** Which optional secrets are configured: each turns its feature on. */
  secrets: Record<SecretKey, boolean>;
  /**
   * The Pulumi identity of each other stack of previewStacks, as its own stack file gives it (by
   * stack name; a stack whose settings are unknown is absent): infra-preview.yml's job for that
   * stack gets that stack's own team's token. parseStackConfig refuses a stack with
   * manageRepoWorkflows on Pulumi Cloud that previews a stack absent here.
   */
  previewIdentities: Readonly<Record<string, PreviewStackIdentity>>;
}

/** Resolves the defaults that depend on other keys or on the stack name. */
export function resolveDefaults(
  parsed: Parsed,
  stack: string,
  secrets: Record<SecretKey, boolean>,
  previewIdentities: Readonly<Record<string, PreviewStackIdentity>> = {},
): StackConfig {
  return {
    ...parsed,
    stack,
    environment: parsed.environment ?? stack,
    namespace: parsed.namespace ?? parsed.appName,
    livenessPath: parsed.livenessPath ?? parsed.healthPath,
    smokePaths: parsed.smokePaths ?? [parsed.healthPath],
    scanSeverity: parsed.scanSeverity.split(","),
    secrets,
    previewIdentities,
  };
}
