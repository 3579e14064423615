// The real tier's stand-in for the pulumi-resource-aws plugin (launched as
// test-control-plane/standins/bin/pulumi-resource-aws): the resource types and functions the project's program
// uses, answered as AWS would shape them, without AWS. What it proves and what it cannot is in
// docs/verification.md ("The real tier").
//
// Environment:
//   CANARY_STANDIN_AWS_ACCOUNT_ID  the account of every ARN (default 123456789012)
//   CANARY_STANDIN_EKS_ENDPOINT    getCluster's endpoint (default a made-up EKS hostname)
//   CANARY_STANDIN_EKS_CA          getCluster's certificateAuthorities[0].data, base64 PEM (default a placeholder)
//   CANARY_STANDIN_EKS_VERSION     getCluster's Kubernetes version (default 1.33)
//   AWS_REGION, AWS_DEFAULT_REGION the region when a call names none (default us-east-1)
//   CANARY_STANDIN_LOG             the file each call is appended to as a JSON line (none: no log)
import { main } from "@pulumi/pulumi/provider";
import { sha256Hex, standinProvider, type ComputeContext, type Props, type StandinSpec } from "./provider";

const account = () => process.env.CANARY_STANDIN_AWS_ACCOUNT_ID || "123456789012";
const partition = "aws";
const defaultRegion = () => process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
const str = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);
const tagsAll = ({ inputs }: ComputeContext) => inputs.tags ?? {};

/** An IAM unique id: a 4-letter prefix and 17 characters of [A-Z2-7]. */
function iamUniqueId(prefix: string, seed: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return prefix + [...Buffer.from(sha256Hex(seed), "hex").subarray(0, 17)].map((byte) => alphabet[byte % 32]).join("");
}

/** A UUID-shaped string from a seed. */
function uuidFrom(seed: string): string {
  const h = sha256Hex(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const roleArn = (inputs: Props) => `arn:${partition}:iam::${account()}:role${str(inputs.path, "/")}${str(inputs.name)}`;

export const awsStandin: StandinSpec = {
  name: "aws",
  sdkPackage: "@pulumi/aws",
  resources: {
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
      required: ["url", "clientIdLists"],
      replaces: ["url"],
      computed: {
        arn: ({ inputs }) =>
          `arn:${partition}:iam::${account()}:oidc-provider/${str(inputs.url).replace(/^https:\/\//, "")}`,
        thumbprintLists: ({ inputs }) => inputs.thumbprintLists ?? [],
        tagsAll,
      },
      id: (_ctx, outputs) => str(outputs.arn),
    },
    "aws:iam/role:Role": {
      required: ["assumeRolePolicy"],
      replaces: ["name", "namePrefix", "path"],
      autoname: { property: "name", maxLength: 64 },
      computed: {
        arn: ({ inputs }) => roleArn(inputs),
        uniqueId: ({ inputs }) => iamUniqueId("AROA", roleArn(inputs)),
        path: () => "/",
        maxSessionDuration: () => 3600,
        forceDetachPolicies: () => false,
        tagsAll,
      },
      stable: ["uniqueId"],
      id: ({ inputs }) => str(inputs.name),
    },
    "aws:iam/rolePolicy:RolePolicy": {
      required: ["role", "policy"],
      replaces: ["name", "namePrefix", "role"],
      autoname: { property: "name", maxLength: 128 },
      computed: {},
      id: ({ inputs }) => `${str(inputs.role)}:${str(inputs.name)}`,
    },
    "aws:eks/accessEntry:AccessEntry": {
      required: ["clusterName", "principalArn"],
      replaces: ["clusterName", "principalArn", "type", "region"],
      computed: {
        region: () => defaultRegion(),
        type: () => "STANDARD",
        accessEntryArn: ({ inputs }) => {
          const principal = str(inputs.principalArn);
          const region = str(inputs.region, defaultRegion());
          return `arn:${partition}:eks:${region}:${account()}:access-entry/${str(inputs.clusterName)}/role/${account()}/${principal.split("/").pop()}/${uuidFrom(principal)}`;
        },
        userName: ({ inputs }) =>
          `arn:${partition}:sts::${account()}:assumed-role/${str(inputs.principalArn).split("/").pop()}/{{SessionName}}`,
        tagsAll,
      },
      stable: ["accessEntryArn"],
      id: ({ inputs }) => `${str(inputs.clusterName)}:${str(inputs.principalArn)}`,
    },
  },
  invokes: {
    "aws:eks/getCluster:getCluster": (args) => {
      const name = str(args.name);
      const region = str(args.region, defaultRegion());
      const endpointId = sha256Hex(`${region}/${name}`).slice(0, 32).toUpperCase();
      return {
        id: name,
        name,
        region,
        arn: `arn:${partition}:eks:${region}:${account()}:cluster/${name}`,
        endpoint: process.env.CANARY_STANDIN_EKS_ENDPOINT || `https://${endpointId}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthorities: [
          {
            data:
              process.env.CANARY_STANDIN_EKS_CA ||
              Buffer.from(
                "-----BEGIN CERTIFICATE-----\nstand-in: no such certificate\n-----END CERTIFICATE-----\n",
              ).toString("base64"),
          },
        ],
        version: process.env.CANARY_STANDIN_EKS_VERSION || "1.33",
        platformVersion: "eks.1",
        status: "ACTIVE",
        roleArn: `arn:${partition}:iam::${account()}:role/${name}-cluster`,
        accessConfigs: [{ authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false }],
        identities: [{ oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${endpointId}` }] }],
        tags: args.tags ?? {},
      };
    },
  },
};

if (require.main === module) {
  void main(standinProvider(awsStandin), process.argv.slice(2));
}
