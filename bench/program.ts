// The program the bench renders: N services sharing the OIDC provider and the Kubernetes and GitHub
// providers, as a platform team would declare them (examples/platform/index.ts), each with its own
// appName, namespace and repository.
// The services cycle through three shapes: eks with signed images, token, eks unsigned.
import * as github from "@pulumi/github";
import { CanaryPipeline, ClientSideApplyProvider, GithubOidcProvider, type ServiceSettings } from "../library";

/** The settings of the i-th service. */
export function benchSettings(i: number): ServiceSettings {
  const name = `svc-${i}`;
  const common = {
    githubOwner: "acme",
    githubRepository: name,
    appName: name,
    namespace: name,
    awsRegion: "eu-west-1",
    initialImage: `ghcr.io/acme/${name}:1.0.${i}`,
    tags: ["owner=platform"],
  } satisfies ServiceSettings;
  switch (i % 3) {
    case 1:
      return {
        ...common,
        clusterAuth: "token",
        clusterEndpoint: "https://k8s.acme.example:6443",
        clusterCaData: Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64"),
      };
    case 2:
      return { ...common, eksClusterName: "acme-shared", signImages: false, replicas: 4, canaryWeight: 20 };
    default:
      return { ...common, eksClusterName: "acme-shared" };
  }
}

/**
 * A program declaring `services` pipelines that share the OIDC provider, one Kubernetes provider
 * per cluster (the eks services' shared cluster, the token services' other one) and one GitHub
 * provider.
 */
export function benchProgram(services: number): () => Record<string, unknown> {
  return () => {
    const oidc = new GithubOidcProvider("github-oidc");
    const githubProvider = new github.Provider("github-acme", { owner: "acme" });
    const clusters = new Map<string, ClientSideApplyProvider>();
    const cluster = (context: string) =>
      clusters.get(context) ??
      clusters.set(context, new ClientSideApplyProvider(`${context}-cluster`, { context })).get(context)!;
    for (let i = 0; i < services; i++) {
      const settings = benchSettings(i);
      const kubernetesProvider = cluster(settings.clusterAuth === "token" ? "token" : "shared");
      new CanaryPipeline(`svc-${i}`, { settings, oidcProviderArn: oidc.arn, kubernetesProvider, githubProvider });
    }
    return {};
  };
}
