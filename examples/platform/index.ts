// A platform team's program: three services in one AWS account, each declared by one
// CanaryPipeline from settings written in code (no Pulumi config). What they have in common is
// declared once and shared:
// - the account's GitHub OIDC provider: an account holds one per issuer URL (a second create fails
//   EntityAlreadyExists);
// - one Kubernetes provider per cluster (two services on the shared EKS cluster, one on another
//   cluster) and one GitHub provider for the owner, given to each service in its resource options:
//   in `pulumi up` each provider resource is a plugin process of its own, so one per service would
//   start a process per service and provider;
// - the shared EKS cluster, which the platform's cluster stack owns: looked up once, its name
//   passed on as an Output (an `eks.Cluster` declared in this program would be passed the same way).
//
// Outside this repository, import the same names from the package: `from "canary-pipeline"`.
// Render offline: npm run synth -- --program examples/platform/index.ts --stack platform
import * as aws from "@pulumi/aws";
import * as github from "@pulumi/github";
import { CanaryPipeline, ClientSideApplyProvider, GithubOidcProvider, type ServiceSettings } from "../../library";

/** What every service of the platform shares. */
const platform = {
  githubOwner: "acme",
  awsRegion: "eu-west-1",
  tags: ["owner=platform"],
} satisfies Partial<ServiceSettings>;

/** Per service: only what differs. */
export const services: Record<string, ServiceSettings> = {
  // The defaults: eks, signed images, 9 + 1 replicas.
  orders: {
    ...platform,
    githubRepository: "orders-api",
    appName: "orders-api",
    namespace: "orders",
    initialImage: "ghcr.io/acme/orders-api:1.4.2",
    smokePaths: ["/healthz", "/v1/orders?limit=1"],
  },
  // Another cluster, outside EKS: the pipeline gets a ServiceAccount kubeconfig, no deploy role.
  billing: {
    ...platform,
    githubRepository: "billing",
    appName: "billing",
    namespace: "billing",
    clusterAuth: "token",
    clusterEndpoint: "https://k8s.billing.acme.example:6443",
    clusterCaData: Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64"),
    initialImage: "ghcr.io/acme/billing:2.0.0",
    replicas: 4,
    canaryWeight: 20,
  },
  // An internal tool: images not signed, fewer replicas, another port.
  search: {
    ...platform,
    githubRepository: "search",
    appName: "search",
    namespace: "search",
    initialImage: "ghcr.io/acme/search:0.9.1",
    signImages: false,
    replicas: 3,
    canaryWeight: 25,
    containerPort: 8080,
  },
};

/** The kubeconfig context of each cluster the services run on. */
const clusterContexts = { shared: "acme-shared", billing: "billing" } as const;
const clusterOf = (settings: ServiceSettings): keyof typeof clusterContexts =>
  settings.clusterAuth === "token" ? "billing" : "shared";

/** The program: `npm run synth -- --program` and the Pulumi CLI run this default export. */
export default function platformProgram() {
  // Each created once, standalone: no service owns it, and removing one service keeps it.
  const oidc = new GithubOidcProvider("github-oidc", { tags: { owner: "platform" } });
  const clusters = Object.fromEntries(
    Object.entries(clusterContexts).map(([cluster, context]) => [
      cluster,
      new ClientSideApplyProvider(`${cluster}-cluster`, { context }),
    ]),
  );
  const githubProvider = new github.Provider("github-acme", { owner: platform.githubOwner });
  const shared = aws.eks.getClusterOutput({ name: clusterContexts.shared });
  const pipelines = Object.entries(services).map(
    ([name, settings]) =>
      new CanaryPipeline(
        name,
        {
          settings,
          oidcProviderArn: oidc.arn,
          ...(clusterOf(settings) === "shared" ? { eksClusterName: shared.name } : {}),
        },
        { providers: [clusters[clusterOf(settings)], githubProvider] },
      ),
  );
  return {
    oidcProviderArn: oidc.arn,
    deployRoleArns: Object.fromEntries(pipelines.map((p, i) => [Object.keys(services)[i], p.roles.deployRoleArn])),
  };
}
