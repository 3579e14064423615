// The program the bench renders: N services sharing one OIDC provider, as a platform team would
// declare them (examples/platform/index.ts), each with its own appName, namespace and repository.
// The services cycle through three shapes: eks with signed images, token, eks unsigned.
import { CanaryPipeline, GithubOidcProvider, type ServiceSettings } from "../library";

/** The settings of the i-th service. */
export function benchSettings(i: number): ServiceSettings {
  const name = `svc-${i}`;
  const common = {
    githubOwner: "acme", githubRepository: name, appName: name, namespace: name,
    awsRegion: "eu-west-1", initialImage: `ghcr.io/acme/${name}:1.0.${i}`, tags: ["owner=platform"],
  } satisfies ServiceSettings;
  switch (i % 3) {
    case 1: return {
      ...common, clusterAuth: "token", clusterEndpoint: "https://k8s.acme.example:6443",
      clusterCaData: Buffer.from("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").toString("base64"),
    };
    case 2: return { ...common, eksClusterName: "acme-shared", signImages: false, replicas: 4, canaryWeight: 20 };
    default: return { ...common, eksClusterName: "acme-shared" };
  }
}

/** A program declaring `services` pipelines that share one provider. */
export function benchProgram(services: number): () => Record<string, unknown> {
  return () => {
    const oidc = new GithubOidcProvider("github-oidc");
    for (let i = 0; i < services; i++) new CanaryPipeline(`svc-${i}`, { settings: benchSettings(i), oidcProviderArn: oidc.arn });
    return {};
  };
}
