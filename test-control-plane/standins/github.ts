// The real tier's stand-in for the pulumi-resource-github plugin (launched as
// test-control-plane/standins/bin/pulumi-resource-github): the resource types and functions the project's
// program uses, answered as GitHub would shape them, without GitHub. What it proves and what it
// cannot is in docs/verification.md ("The real tier").
//
// Environment:
//   CANARY_STANDIN_LOG  the file each call is appended to as a JSON line (none: no log)
// Numeric ids (users, teams, repositories, branch policies) are derived from their names.
import { createHash } from "node:crypto";
import { main } from "@pulumi/pulumi/provider";
import { numericId, sha256Hex, standinProvider, type ComputeContext, type StandinSpec } from "./provider";

const str = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);
/** The provider escapes `:` in an environment's name as `??` inside its ids. */
const idPart = (value: unknown) => str(value).replaceAll(":", "??");
const repositoryId = ({ inputs }: ComputeContext) => numericId("repository", str(inputs.repository), 9);

/** Git's blob id of a file's content, as the contents API reports it (`sha`). */
function blobSha(content: string): string {
  const bytes = Buffer.from(content, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

export const githubStandin: StandinSpec = {
  name: "github",
  sdkPackage: "@pulumi/github",
  resources: {
    "github:index/repositoryEnvironment:RepositoryEnvironment": {
      required: ["repository", "environment"],
      // The real provider replaces on a new repository unless it was renamed (same id); here any new name replaces.
      replaces: ["repository", "environment"],
      computed: { repositoryId, canAdminsBypass: () => true, preventSelfReview: () => false },
      id: ({ inputs }) => `${str(inputs.repository)}:${idPart(inputs.environment)}`,
    },
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": {
      required: ["repository", "environment"],
      replaces: ["repository", "environment"],
      computed: {
        repositoryId,
        policyId: ({ urn }) => numericId("deployment-branch-policy", urn, 9),
      },
      stable: ["policyId"],
      id: ({ inputs }, outputs) =>
        `${str(inputs.repository)}:${idPart(inputs.environment)}:${String(outputs.policyId)}`,
    },
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": {
      required: ["repository", "environment", "variableName", "value"],
      replaces: ["repository", "environment", "variableName"],
      computed: { repositoryId },
      id: ({ inputs }) => `${str(inputs.repository)}:${idPart(inputs.environment)}:${str(inputs.variableName)}`,
    },
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret": {
      required: ["repository", "environment", "secretName"],
      replaces: ["repository", "environment", "secretName"],
      computed: {
        repositoryId,
        keyId: ({ inputs }) =>
          numericId("environment-public-key", `${str(inputs.repository)}/${str(inputs.environment)}`, 19).toString(),
      },
      secretOutputs: ["plaintextValue", "value", "encryptedValue", "valueEncrypted"],
      id: ({ inputs }) => `${str(inputs.repository)}:${idPart(inputs.environment)}:${str(inputs.secretName)}`,
    },
    "github:index/actionsVariable:ActionsVariable": {
      required: ["repository", "variableName", "value"],
      replaces: ["repository", "variableName"],
      computed: { repositoryId },
      id: ({ inputs }) => `${str(inputs.repository)}:${str(inputs.variableName)}`,
    },
    "github:index/repositoryFile:RepositoryFile": {
      required: ["repository", "file", "content"],
      replaces: ["repository", "file", "branch"],
      computed: {
        repositoryId,
        sha: ({ inputs }) => blobSha(str(inputs.content)),
        commitSha: ({ inputs }) =>
          sha256Hex(
            `commit ${str(inputs.repository)} ${str(inputs.branch)} ${str(inputs.file)} ${blobSha(str(inputs.content))} ${str(inputs.commitMessage)}`,
          ).slice(0, 40),
        commitMessage: ({ inputs }) => `Add ${str(inputs.file)}`,
        ref: ({ inputs }) => str(inputs.branch, "main"),
        overwriteOnCreate: () => false,
      },
      id: ({ inputs }) => `${str(inputs.repository)}/${str(inputs.file)}`,
    },
  },
  invokes: {
    "github:index/getUser:getUser": (args) => {
      const login = str(args.username);
      const id = numericId("user", login.toLowerCase());
      return {
        id: String(id),
        username: login,
        login,
        name: login,
        nodeId: `U_${Buffer.from(`04:User${id}`).toString("base64")}`,
        avatarUrl: `https://avatars.githubusercontent.com/u/${id}?v=4`,
        gravatarId: "",
        email: "",
        bio: "",
        blog: "",
        company: "",
        location: "",
        siteAdmin: false,
        followers: 0,
        following: 0,
        publicGists: 0,
        publicRepos: 0,
        gpgKeys: [],
        sshKeys: [],
        createdAt: "2020-01-01T00:00:00Z",
        updatedAt: "2020-01-01T00:00:00Z",
        suspendedAt: "",
      };
    },
    "github:index/getTeam:getTeam": (args) => {
      const slug = str(args.slug);
      const id = numericId("team", slug.toLowerCase(), 7);
      return {
        id: String(id),
        slug,
        name: slug,
        nodeId: `T_${Buffer.from(`04:Team${id}`).toString("base64")}`,
        description: "",
        privacy: "closed",
        permission: "pull",
        notificationSetting: "notifications_enabled",
        members: [],
        repositories: [],
        repositoriesDetaileds: [],
        ...(args.membershipType === undefined ? {} : { membershipType: args.membershipType }),
        ...(args.summaryOnly === undefined ? {} : { summaryOnly: args.summaryOnly }),
        ...(args.resultsPerPage === undefined ? {} : { resultsPerPage: args.resultsPerPage }),
      };
    },
  },
};

if (require.main === module) {
  void main(standinProvider(githubStandin), process.argv.slice(2));
}
