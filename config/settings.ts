// The settings of one service, as a library caller writes them: the schema's input type, with a
// doc comment per key for editors. The rules live in config/schema.ts alone; the check at the
// end fails to compile when this interface and the schema's input type drift apart.
import type { z } from "zod";
import type { configSchema } from "./schema";

/**
 * Everything that describes one service's delivery path (docs/configuration.md explains each
 * key). Validated by parseStackConfig, which resolves the defaults named here.
 */
export interface ServiceSettings {
  /** GitHub user or organisation that owns the service repository. Required. */
  githubOwner: string;
  /** Name of the service repository. Required. */
  githubRepository: string;
  /** Numeric owner ID; with githubRepositoryId, the immutable OIDC subject form is trusted too. Default: none. */
  githubOwnerId?: number;
  /** Numeric repository ID; with githubOwnerId, the immutable OIDC subject form is trusted too. Default: none. */
  githubRepositoryId?: number;
  /** Branch whose pushes deploy to the first environment. Default: `"main"`. */
  deployBranch?: string;
  /** GitHub environment of this stack. Default: the stack name. */
  environment?: string;
  /** Environment whose already-tested image this one promotes; unset for the first environment, which builds. Default: none. */
  promoteFrom?: string;
  /** Users (login) or teams (`org/team-slug#team-id`, the id from `gh api orgs/ORG/teams/SLUG --jq .id`) who must approve deployments (at most 6). Default: `[]`. */
  requiredReviewers?: string[];
  /** The repository's visibility; with githubPlan, environment settings the plan cannot honour are refused. Default: none (not checked). */
  githubRepositoryVisibility?: "public" | "private" | "internal";
  /** The GitHub plan of the repository's owner; with githubRepositoryVisibility, environment settings the plan cannot honour are refused. Default: none (not checked). */
  githubPlan?: "free" | "pro" | "team" | "enterprise";
  /** This stack owns the repository-wide workflows (ci.yml, infra-preview.yml); exactly one stack per repository. Default: `false`. */
  manageRepoWorkflows?: boolean;
  /** Stacks whose `pulumi preview` is posted on pull requests (used with manageRepoWorkflows). Default: `["dev","prod"]`. */
  previewStacks?: string[];
  /** Folder of the repository that holds this Pulumi project: the preview workflow runs there, on pull requests that change it. Default: `"infra"`. */
  infraDirectory?: string;
  /** Where the stacks' state lives, for the preview and drift workflows: Pulumi Cloud (https://api.pulumi.com) or an S3 bucket (s3://bucket/prefix?region=eu-west-1). Default: none, and neither workflow. */
  pulumiBackendUrl?: string;
  /** Pulumi Cloud: the organization whose short-lived token the workflows exchange their GitHub OIDC token for (required with Pulumi Cloud). Default: none. */
  pulumiOrganization?: string;
  /** Pulumi Cloud: the team whose token this stack's preview and drift jobs get (give it read access to this stack only; the stack committing infra-preview.yml reads it from this stack's file). Default: an organization token, refused where the stacks are gated and ungated alike. */
  pulumiTeam?: string;
  /** S3 backend: the KMS key of the stack's awskms secrets provider, which its preview role alone may decrypt with (required with S3; one key per stack). Default: none. */
  pulumiSecretsKeyArn?: string;
  /** When the drift workflow runs a refreshed preview expecting no changes (cron, UTC); off: no drift workflow. Default: `"0 6 * * 1-5"`. */
  driftSchedule?: string;
  /** Region of the cluster and of the roles' sessions (a stack reads it from aws:region). Required with clusterAuth eks; default: none. */
  awsRegion?: string;
  /** How the pipeline authenticates to the cluster: eks or token. Default: `"eks"`. */
  clusterAuth?: "eks" | "token";
  /** EKS cluster name (required with clusterAuth eks). Default: none. */
  eksClusterName?: string;
  /** Kubernetes API server URL (required with clusterAuth token). Default: none. */
  clusterEndpoint?: string;
  /** Base64 PEM of the cluster CA (required with clusterAuth token). Default: none. */
  clusterCaData?: string;
  /** clusterAuth token: the context of the local kubeconfig (KUBECONFIG or ~/.kube/config) whose user Pulumi deploys as; the cluster is always clusterEndpoint. Default: its current context. */
  kubeconfigContext?: string;
  /** Use this existing GitHub OIDC provider instead of creating one (one per account). Default: none. */
  oidcProviderArn?: string;
  /** Path of the IAM roles. Default: `"/"`. */
  iamRolePath?: string;
  /** Managed policy ARN set as the roles' permissions boundary. Default: none. */
  iamPermissionsBoundary?: string;
  /** Maximum session duration of the roles, in seconds (3600 to 43200). Default: `3600`. */
  iamMaxSessionDuration?: number;
  /** Tags (key=value) for the AWS resources. Default: `[]`. */
  tags?: string[];
  /** Kubernetes namespace of the service. Default: appName. */
  namespace?: string;
  /** Create and label the namespace (false: it exists already). Default: `true`. */
  createNamespace?: boolean;
  /** Name of the service: Deployments, Service and labels. Required. */
  appName: string;
  /** Port the container listens on. Default: `3000`. */
  containerPort?: number;
  /** HTTP path of the health endpoint (startup and readiness probes). Default: `"/healthz"`. */
  healthPath?: string;
  /** HTTP path the liveness probe requests; a failing liveness probe restarts the container. Default: healthPath. */
  livenessPath?: string;
  /**
   * Who may connect to the container port besides the service's own namespace: `{ namespace, podLabels? }`
   * (that namespace's pods, or those with these labels) and `{ cidr }` sources. Default: any source on
   * the container port only (an ingress controller elsewhere is never cut off silently); `[]`: the own namespace only.
   */
  networkPolicyIngress?: { namespace?: string; podLabels?: Record<string, string>; cidr?: string }[];
  /** Stable replicas. Default: `9`. */
  replicas?: number;
  /** Share of traffic the canary receives, in percent (by replica ratio). Default: `10`. */
  canaryWeight?: number;
  /** Longest the container may take after starting to answer healthPath (startupProbe); a slower start restarts it and fails a release. Default: `60`. */
  startupSeconds?: number;
  /** Seconds a new pod must be ready before it counts as available. Default: `10`. */
  minReadySeconds?: number;
  /** Image of the first deployment, with a tag or digest (never latest), under `ghcr.io/<githubOwner>/`: the pipeline pushes its builds to the same repository with the job's GITHUB_TOKEN, and owns the Deployments' image afterwards. Required. */
  initialImage: string;
  /** Longest a canary may serve from its deploy, in minutes; then the in-cluster reaper scales it to 0, even when its run is gone (docs/pipeline.md, "Expired canaries"). Default: `60`. */
  canaryLifetimeMinutes?: number;
  /** Node.js release lines of the test matrix (testRuntime node), as text or whole numbers (`["22", "24"]` or `[22, 24]`); the newest also runs the Pulumi program in the preview jobs. Default: the supported release lines (config/node-releases.ts). */
  nodeVersions?: (string | number)[];
  /** What the test jobs set up: `node` (Node.js per line of nodeVersions, setup-node with its npm cache) or `none` (nothing: the runner's toolchains, or what testSetup installs). Default: `"node"`. */
  testRuntime?: "node" | "none";
  /** Bash command run before testCommand, from the repository's root (one line, no `${{`). Default: `npm ci` with testRuntime node; none with `none`. */
  testSetup?: string;
  /** Bash command that runs the service's tests, from the repository's root (one line, no `${{`). Default: `npm test` with testRuntime node; required with `none`. */
  testCommand?: string;
  /** testRuntime none: values the test jobs run once each with, in the environment variable TEST_MATRIX. Default: one run. */
  testMatrix?: string[];
  /** What runs the canary: `pipeline` (two Deployments the deploy workflow drives) or `argo-rollouts` (a Rollout the installed Argo Rollouts controller drives; docs/pipeline.md, "The two engines"). Default: `"pipeline"`. */
  canaryEngine?: "pipeline" | "argo-rollouts";
  /** Paths the smoke test requests (list real endpoints). Default: `[healthPath]`. */
  smokePaths?: string[];
  /** Requests the smoke test sends to each smoke path through the canary Service (and as many through the main Service), 1 to 200. Default: `20`. */
  smokeRequests?: number;
  /** Slowest acceptable smoke-test response, in seconds, as a number or text (`1.5` or `"1.5"`). Default: `"1.5"`. */
  smokeMaxLatencySeconds?: string | number;
  /** How long the canary job holds and judges the canary after the smoke test, in seconds (0 to 3600); 0: no bake window. Default: `300`. */
  canaryBakeSeconds?: number;
  /** Bake-window analysis: PromQL queries judged canary against stable from inside the cluster (docs/pipeline.md). Default: none. */
  canaryAnalysis?: CanaryAnalysisSettings;
  /** Trivy severities that fail the scan (comma-separated). Default: `"HIGH,CRITICAL"`. */
  scanSeverity?: string;
  /** Generate an SBOM and sign images with keyless cosign; verify before deploying. Default: `true`. */
  signImages?: boolean;
  /** Run the in-cluster smoke test from `pulumi up` when the workloads change. Default: `true`. */
  smokeTestOnUp?: boolean;
}

/** The bake window's analysis, as Argo Rollouts' AnalysisTemplate with a Prometheus provider. */
export interface CanaryAnalysisSettings {
  /** http:// or https:// URL of a Prometheus server the cluster's pods reach (the query runs from a pod). Required. */
  prometheusUrl: string;
  /** Seconds between measurements (10 to 600, at most canaryBakeSeconds). Default: `30`. */
  intervalSeconds?: number;
  /** Failed or unreachable measurements tolerated; one more fails the canary (as Argo Rollouts' failureLimit). Default: `1`. */
  failureLimit?: number;
  /** 1 to 10 queries, each with max, maxOverStable or both. Required. */
  metrics: CanaryMetricSettings[];
}

/** One query of the analysis: `$track` is replaced by `canary` and by `stable` (the pods' track label). */
export interface CanaryMetricSettings {
  /** A DNS-1123 label, unique among the metrics, such as error-ratio. Required. */
  name: string;
  /** PromQL with `$track`, returning one series (`(… >= 0) or vector(0)` where no traffic is normal: docs/pipeline.md). Required. */
  query: string;
  /** The highest acceptable canary value, as a number or text. Default: none. */
  max?: string | number;
  /** The highest acceptable canary value minus stable's, as a number or text. Default: none. */
  maxOverStable?: string | number;
}

/** True when A and B are the same type (not merely assignable either way). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
/** Compile-time only: ServiceSettings is exactly the schema's input type. */
export type ServiceSettingsMatchSchema = Assert<Equals<ServiceSettings, z.input<typeof configSchema>>>;
