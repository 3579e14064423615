// What the deploy jobs know of an image's provenance: the build's keyless signature, and the release
// attestation an environment's promote job signs and the next environment verifies.
import { githubOidc } from "../../../shared/oidc-subjects";
import { actions, uses } from "../actions";
import type { Step } from "../model";
import { deployWorkflowPath } from "../names";
import { bash, ghcrLogin } from "../steps";
import { deployEnv, imageRef, type DeployConfig } from "./plan";

/** The in-toto predicate type of the release attestation an environment's promote job signs. */
export const releasePredicateType = "https://canary-pipeline.dev/release/v1";

const { digest, release } = deployEnv;

/** The digest check, before any step uses it; a digest reaches scripts only through env (never interpolated). */
export const digestCheck = (variable: string) => [
  `if [[ ! "$${variable}" =~ ^sha256:[0-9a-f]{64}$ ]]; then`,
  '  echo "::error::the digest must be sha256: followed by 64 lower-case hex digits"',
  "  exit 1",
  "fi",
];

type RepositorySettings = Pick<DeployConfig, "githubOwner" | "githubRepository" | "deployBranch">;

/** The keyless certificate identity of an environment's deploy workflow on the deploy branch. */
const workflowIdentity = (config: RepositorySettings, environment: string) =>
  `https://github.com/${config.githubOwner}/${config.githubRepository}/${deployWorkflowPath(environment)}@refs/heads/${config.deployBranch}`;

export const installCosign = (): Step => ({ name: "Install cosign", uses: uses(actions.cosignInstaller) });

/** Cosign verification of the build's keyless signature: made by this environment's own deploy workflow. */
export function verifySignature(config: RepositorySettings & Pick<DeployConfig, "environment">): Step {
  return bash(
    "Verify the image signature",
    [
      `cosign verify ${imageRef} \\`,
      `  --certificate-oidc-issuer ${githubOidc.url} \\`,
      `  --certificate-identity '${workflowIdentity(config, config.environment)}' > /dev/null`,
      'echo "- signature verified (keyless, this environment\'s deploy workflow)" >> "$GITHUB_STEP_SUMMARY"',
    ].join("\n"),
  );
}

/**
 * The release attestation `environment`'s promote job signed (releaseAttestation): keyless, by that
 * environment's deploy workflow on the deploy branch exactly, naming this digest, a passed scan,
 * a passed canary and a succeeded promotion. Its release number becomes this run's.
 */
export function verifyRelease(
  config: RepositorySettings,
  environment: string,
  extra: Omit<Step, "name" | "run" | "shell"> = {},
): Step {
  return bash(
    `Verify that ${environment} released the digest`,
    [
      `cosign verify-attestation ${imageRef} \\`,
      `  --type ${releasePredicateType} \\`,
      `  --certificate-oidc-issuer ${githubOidc.url} \\`,
      `  --certificate-identity '${workflowIdentity(config, environment)}' > "$RUNNER_TEMP/attestations.json"`,
      // One envelope per line; the payload is the in-toto statement, base64.
      `release="$(jq -r --arg digest "${digest.ref}" --arg environment '${environment}' \\`,
      "  '.payload | @base64d | fromjson | .predicate",
      '   | select(.digest == $digest and .environment == $environment and .scan == "passed" and .canary == "passed" and .promotion == "succeeded")',
      '   | .release\' "$RUNNER_TEMP/attestations.json" | sort -n | tail -n 1)"',
      'if [[ ! "$release" =~ ^[0-9]+$ ]]; then',
      `  echo "::error::${environment} has not released ${digest.braced}: no attestation of its deploy workflow names it with a passed scan, canary and promotion"`,
      "  exit 1",
      "fi",
      release.write("$release"),
      `echo "- release \${release}: verified as released by ${environment} (\\\`${workflowIdentity(config, environment)}\\\`)" >> "$GITHUB_STEP_SUMMARY"`,
    ].join("\n"),
    extra,
  );
}

/**
 * The release attestation: this environment's deploy workflow signs (keyless) that it released the
 * digest: the scan passed (the first environment's promote waits for it; a later one releases only
 * what an earlier one attested), the canary passed and the promotion succeeded. The next
 * environment verifies it with this workflow's exact identity (verifyRelease).
 */
export function releaseAttestation(config: Pick<DeployConfig, "environment">): Step[] {
  return [
    installCosign(),
    ghcrLogin(),
    bash(
      "Attest the release",
      [
        `jq -n --arg digest "${digest.ref}" --argjson release "${release.ref}" --arg environment '${config.environment}' \\`,
        '  --arg run "${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}" \\',
        '  \'{digest: $digest, release: $release, environment: $environment, scan: "passed", canary: "passed", promotion: "succeeded", run: $run}\' > "$RUNNER_TEMP/release.json"',
        `cosign attest --yes --type ${releasePredicateType} --predicate "$RUNNER_TEMP/release.json" ${imageRef}`,
        `echo "- release attestation signed (\\\`${releasePredicateType}\\\`)" >> "$GITHUB_STEP_SUMMARY"`,
      ].join("\n"),
    ),
  ];
}
