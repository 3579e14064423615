// The first environment's scan: Trivy on the pushed digest, off the canary's path; promotion waits for it.
import { actions, uses } from "../actions";
import { expression, needs } from "../links";
import type { Job } from "../model";
import { runner } from "../names";
import { bash } from "../steps";
import { builtImageDigest } from "./build-job";
import { deployEnv, deployJobs, type DeployPlan } from "./plan";

const { image, digest } = deployEnv;
const { build } = deployJobs;

export function scanJob({ config }: DeployPlan): Job {
  return {
    name: "Scan the image",
    "runs-on": runner,
    needs: needs(build),
    permissions: { packages: "read" },
    "timeout-minutes": 15,
    steps: [
      {
        name: "Trivy",
        uses: uses(actions.trivy),
        with: {
          "image-ref": `${expression(image.expression)}@${builtImageDigest}`,
          severity: config.scanSeverity.join(","),
          "ignore-unfixed": true,
          "exit-code": "1",
          format: "table",
        },
        env: { TRIVY_USERNAME: "${{ github.actor }}", TRIVY_PASSWORD: "${{ secrets.GITHUB_TOKEN }}" },
      },
      bash(
        "Report the scan",
        [
          "{",
          '  echo "### Vulnerability scan"',
          `  echo "- \\\`${image.braced}@${digest.braced}\\\`: \${STATUS} (severities ${config.scanSeverity.join(", ")}, unfixed ignored)"`,
          '} >> "$GITHUB_STEP_SUMMARY"',
        ].join("\n"),
        { if: "always()", env: { [digest.name]: builtImageDigest, STATUS: "${{ job.status }}" } },
      ),
    ],
  };
}
