// The canary's expiry and the reaper's script: the lifetime's bounds and the longest time a canary
// serves unattended (the number docs/pipeline.md states), and the script run with sh and the host's
// curl against a local HTTPS server that answers as the API server does.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { loopbackCertificate } from "../../fixtures/loopback-certificate";
import {
  canaryExpiryExpression,
  canaryLifetime,
  longestUnattendedServingSeconds,
  reaperAttempts,
  reaperErrorExit,
  reaperOperations,
  reaperScript,
  reaperTiming,
} from "../../../components/shared/canary-expiry";
import { canaryExpiryAnnotation, clusterTargets, operationList } from "../../../components/shared/cluster-operations";
import { rulesFor } from "../../../components/shared/rbac-rules";
import { operationPreamble, scriptsFolder, scriptText } from "../../../components/shared/script-files";

const t = clusterTargets({ appName: "orders-api", namespace: "orders-dev" });
const canaryPath = "/apis/apps/v1/namespaces/orders-dev/deployments/orders-api-canary";

describe("the canary's lifetime", () => {
  test("the canary job's expression is now plus the lifetime, in Unix seconds", () => {
    const before = Math.floor(Date.now() / 1000);
    const value = Number(
      execFileSync("sh", ["-c", `echo ${canaryExpiryExpression({ canaryLifetimeMinutes: 60 })}`], { encoding: "utf8" }),
    );
    assert.ok(value >= before + 3600 && value <= Math.floor(Date.now() / 1000) + 3600, String(value));
  });

  test("the longest unattended service: lifetime, one period, the late start and the run; late start and run fit in a period", () => {
    assert.equal(longestUnattendedServingSeconds({ canaryLifetimeMinutes: 60 }), 3600 + 60 + 30 + 30);
    assert.ok(reaperTiming.startingDeadlineSeconds + reaperTiming.activeDeadlineSeconds <= reaperTiming.periodSeconds);
    assert.ok(
      reaperAttempts * 2 * reaperTiming.requestSeconds < reaperTiming.activeDeadlineSeconds,
      "every attempt's requests fit in a run",
    );
  });

  test("docs/pipeline.md states the bound for the defaults as the function computes it", () => {
    const docs = fs.readFileSync(path.join(__dirname, "../../../docs/pipeline.md"), "utf8");
    const section = docs.slice(docs.indexOf("## Expired canaries"));
    assert.ok(section.startsWith("## Expired canaries"), "the section exists");
    const stated = /longest a canary serves after its run is gone is \*\*(\d+) s\*\* \((\d+) minutes\)/.exec(section);
    assert.ok(stated, "the section states the bound");
    const bound = longestUnattendedServingSeconds({ canaryLifetimeMinutes: canaryLifetime.defaultMinutes });
    assert.equal(Number(stated[1]), bound);
    assert.equal(Number(stated[2]), bound / 60);
  });

  test("the reaper's Role: get on the canary Deployment and patch on its scale, nothing else", () => {
    assert.deepEqual(rulesFor(operationList(reaperOperations(t))), [
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"], resourceNames: ["orders-api-canary"] },
      { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"], resourceNames: ["orders-api-canary"] },
    ]);
  });
});

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  contentType?: string;
  userAgent?: string;
  body: string;
}

/** A canary Deployment as the API server answers it, with the decoys a naive parser would read. */
function deployment(o: { expires?: string; replicas: number; resourceVersion: string }, pretty = false) {
  const object = {
    kind: "Deployment",
    apiVersion: "apps/v1",
    metadata: {
      name: "orders-api-canary",
      namespace: "orders-dev",
      resourceVersion: o.resourceVersion,
      generation: 4,
      annotations: {
        "deployment.kubernetes.io/revision": "3",
        // Escaped inside a string: never the object's own key.
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify({
          metadata: { annotations: { [canaryExpiryAnnotation]: "1" }, resourceVersion: "1" },
          spec: { replicas: 7 },
        }),
        ...(o.expires !== undefined ? { [canaryExpiryAnnotation]: o.expires } : {}),
      },
      managedFields: [
        {
          manager: "kubectl-annotate",
          operation: "Update",
          fieldsType: "FieldsV1",
          fieldsV1: { "f:metadata": { "f:annotations": { [`f:${canaryExpiryAnnotation}`]: {} } } },
        },
      ],
    },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: { app: "orders-api", track: "canary" } },
      template: { spec: { containers: [{ name: "orders-api", image: "ghcr.io/acme/orders-api@sha256:1" }] } },
    },
    status: { replicas: 5, readyReplicas: 5 },
  };
  return pretty ? JSON.stringify(object, null, 2) : JSON.stringify(object);
}

describe("the reaper's script, with sh and curl, against a server that answers as the API server", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reaper-"));
  const files = { key: path.join(dir, "key.pem"), cert: path.join(dir, "cert.pem"), token: path.join(dir, "token") };
  let server: https.Server;
  let seen: Seen[] = [];
  let answer: { get: () => [number, string]; patch: () => [number, string] };
  const token = "eyJhbGciOiJSUzI1NiJ9.reaper-test-token.signature";

  before(async () => {
    loopbackCertificate(dir);
    fs.writeFileSync(files.token, token);
    server = https.createServer({ key: fs.readFileSync(files.key), cert: fs.readFileSync(files.cert) }, (req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on("end", () => {
        seen.push({
          method: req.method!,
          url: req.url!,
          authorization: req.headers.authorization,
          contentType: req.headers["content-type"],
          userAgent: req.headers["user-agent"],
          body,
        });
        const [status, text] =
          req.method === "GET" && req.url === canaryPath
            ? answer.get()
            : req.method === "PATCH" && req.url === `${canaryPath}/scale`
              ? answer.patch()
              : [404, "{}"];
        res.writeHead(status, { "Content-Type": "application/json" }).end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const now = () => Math.floor(Date.now() / 1000);
  async function run(
    get: () => [number, string],
    patch: () => [number, string] = () => [200, "{}"],
    apiServer?: string,
    script = reaperScript(t),
    parameters: Record<string, string> = {},
  ) {
    seen = [];
    answer = { get, patch };
    const env = {
      PATH: "/usr/bin:/bin",
      API_SERVER: apiServer ?? `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      TOKEN_FILE: files.token,
      CA_FILE: files.cert,
      ...parameters,
    };
    try {
      const { stdout, stderr } = await promisify(execFile)("sh", ["-c", script], { env, encoding: "utf8" });
      return { code: 0, stdout, stderr, seen };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr, seen };
    }
  }
  const patchBody = (rv: string) => JSON.stringify({ metadata: { resourceVersion: rv }, spec: { replicas: 0 } });

  test("expired and serving: scaled to 0 through the scale subresource, with the resourceVersion it read, as a merge patch with the token", async () => {
    const r = await run(() => [200, deployment({ expires: String(now() - 5), replicas: 2, resourceVersion: "4711" })]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^reaped: orders-api-canary scaled from 2 to 0 replicas \(expires-at \d+, now \d+\)\n$/);
    assert.deepEqual(
      r.seen.map((s) => [s.method, s.url]),
      [
        ["GET", canaryPath],
        ["PATCH", `${canaryPath}/scale`],
      ],
    );
    assert.equal(r.seen[1].body, patchBody("4711"));
    assert.equal(r.seen[1].contentType, "application/merge-patch+json");
    for (const s of r.seen) {
      assert.equal(s.authorization, `Bearer ${token}`);
      assert.equal(s.userAgent, "canary-pipeline-reaper");
    }
  });

  test("pretty-printed answers read the same (the API server pretty-prints for a curl user agent)", async () => {
    const r = await run(() => [
      200,
      deployment({ expires: String(now() - 5), replicas: 1, resourceVersion: "12" }, true),
    ]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^reaped: orders-api-canary scaled from 1 to 0/);
    assert.equal(r.seen[1].body, patchBody("12"));
  });

  test("not expired yet: left alone, no patch", async () => {
    const r = await run(() => [200, deployment({ expires: String(now() + 600), replicas: 2, resourceVersion: "7" })]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^not expired: orders-api-canary expires at \d+, in (59\d|600) s\n$/);
    assert.deepEqual(
      r.seen.map((s) => s.method),
      ["GET"],
    );
  });

  test("at rest (0 replicas), though expired: nothing to do, no patch", async () => {
    const r = await run(() => [200, deployment({ expires: String(now() - 600), replicas: 0, resourceVersion: "7" })]);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.stdout, "at rest: orders-api-canary has 0 replicas\n");
    assert.deepEqual(
      r.seen.map((s) => s.method),
      ["GET"],
    );
  });

  test("no expiry recorded: nothing to do, no patch", async () => {
    const r = await run(() => [200, deployment({ replicas: 3, resourceVersion: "7" })]);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.stdout, "no expiry: orders-api-canary records none, nothing to do\n");
    assert.deepEqual(
      r.seen.map((s) => s.method),
      ["GET"],
    );
  });

  test("changed between the read and the patch (409 Conflict): read and judged again; re-armed meanwhile, left alone", async () => {
    let reads = 0;
    const r = await run(
      () => [
        200,
        deployment({
          expires: String(now() + (reads++ === 0 ? -5 : 3600)),
          replicas: 2,
          resourceVersion: String(98 + reads),
        }),
      ],
      () => [409, JSON.stringify({ kind: "Status", reason: "Conflict", code: 409 })],
    );
    assert.equal(r.code, 0, r.stdout);
    assert.match(
      r.stdout,
      /^conflict: orders-api-canary changed since it was read \(resourceVersion 99\); reading it again\nnot expired: orders-api-canary expires at \d+, in \d+ s\n$/,
    );
    assert.deepEqual(
      r.seen.map((s) => s.method),
      ["GET", "PATCH", "GET"],
    );
    assert.equal(r.seen[1].body, patchBody("99"));
  });

  test("a conflict from the canary's own status updates: the next read's resourceVersion reaps it", async () => {
    let reads = 0,
      patches = 0;
    const r = await run(
      () => [200, deployment({ expires: String(now() - 5), replicas: 2, resourceVersion: String(100 + reads++) })],
      () => (patches++ === 0 ? [409, "{}"] : [200, "{}"]),
    );
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /\nreaped: orders-api-canary scaled from 2 to 0 replicas/);
    assert.deepEqual(
      r.seen.filter((s) => s.method === "PATCH").map((s) => s.body),
      [patchBody("100"), patchBody("101")],
    );
  });

  test("a conflict on every attempt: left to the next run after reaperAttempts reads, exit 0", async () => {
    const r = await run(
      () => [200, deployment({ expires: String(now() - 5), replicas: 2, resourceVersion: "5" })],
      () => [409, "{}"],
    );
    assert.equal(r.code, 0, r.stdout);
    assert.equal(
      r.stdout.trimEnd().split("\n").pop(),
      `conflict: orders-api-canary changed after each of ${reaperAttempts} reads; left alone, the next run judges it`,
    );
    assert.equal(r.seen.filter((s) => s.method === "PATCH").length, reaperAttempts);
  });

  test("an expiry that is not a number counts as expired", async () => {
    const r = await run(() => [200, deployment({ expires: "tomorrow", replicas: 1, resourceVersion: "8" })]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^reaped: .*\(expires-at tomorrow, now \d+\)\n$/);
  });

  test("real errors exit non-zero with the reason: a refused read, a failed patch, no server", async () => {
    const forbidden = await run(() => [
      403,
      JSON.stringify({
        kind: "Status",
        reason: "Forbidden",
        message: 'deployments.apps "orders-api-canary" is forbidden',
      }),
    ]);
    assert.equal(forbidden.code, reaperErrorExit);
    assert.match(forbidden.stdout, /^error: orders-api-canary: reading it answered HTTP 403: .*is forbidden/);
    const failed = await run(
      () => [200, deployment({ expires: "1", replicas: 1, resourceVersion: "8" })],
      () => [500, '{"reason":"InternalError"}'],
    );
    assert.equal(failed.code, reaperErrorExit);
    assert.match(
      failed.stdout,
      /^error: orders-api-canary: the scale-down answered HTTP 500: \{"reason":"InternalError"\}\n$/,
    );
    const unreachable = await run(() => [200, "{}"], undefined, "https://127.0.0.1:9");
    assert.equal(unreachable.code, reaperErrorExit);
    assert.equal(unreachable.stdout, "error: orders-api-canary: the API server did not answer\n");
    const garbled = await run(() => [200, '{"kind":"Status"}']);
    assert.equal(garbled.code, reaperErrorExit);
    assert.match(garbled.stdout, /holds no spec\.replicas or resourceVersion/);
  });

  test("a server whose certificate the CA file does not vouch for is refused", async () => {
    const other = path.join(dir, "other.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        path.join(dir, "other-key.pem"),
        "-out",
        other,
        "-days",
        "1",
        "-subj",
        "/CN=other",
      ],
      { stdio: "ignore" },
    );
    seen = [];
    answer = {
      get: () => [200, deployment({ expires: "1", replicas: 1, resourceVersion: "1" })],
      patch: () => [200, "{}"],
    };
    const env = {
      PATH: "/usr/bin:/bin",
      API_SERVER: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      TOKEN_FILE: files.token,
      CA_FILE: other,
    };
    const result = await promisify(execFile)("sh", ["-c", reaperScript(t)], { env, encoding: "utf8" }).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    assert.equal(result, reaperErrorExit);
    assert.deepEqual(seen, [], "no request reached the server");
  });

  // The file with the catalogue's preamble, its parameters in its environment.
  const file = `${operationPreamble(reaperOperations(t))}\n. "${path.join(scriptsFolder, "canary-reaper.sh")}"`;
  const fileParameters = {
    REAPER_CANARY: "orders-api-canary",
    REAPER_EXPIRY_ANNOTATION: canaryExpiryAnnotation,
    REAPER_ATTEMPTS: "2",
    REAPER_ERROR_EXIT: "7",
  };

  test("the file: the canary, its expiry annotation, the attempts and the error's exit status are its parameters", async () => {
    const expired = await run(
      () => [200, deployment({ expires: String(now() - 5), replicas: 2, resourceVersion: "31" })],
      () => [409, "{}"],
      undefined,
      file,
      fileParameters,
    );
    assert.equal(expired.code, 0, expired.stdout + expired.stderr);
    assert.equal(
      expired.stdout.trimEnd().split("\n").pop(),
      "conflict: orders-api-canary changed after each of 2 reads; left alone, the next run judges it",
    );
    assert.equal(expired.seen.filter((s) => s.method === "PATCH").length, 2);
    const refused = await run(() => [403, "{}"], undefined, undefined, file, fileParameters);
    assert.equal(refused.code, 7);
    // Another annotation: the canary's own one is not it, so none is recorded.
    const other = await run(
      () => [200, deployment({ expires: String(now() - 5), replicas: 2, resourceVersion: "31" })],
      undefined,
      undefined,
      file,
      { ...fileParameters, REAPER_EXPIRY_ANNOTATION: "example.com/expires" },
    );
    assert.equal(other.stdout, "no expiry: orders-api-canary records none, nothing to do\n");
  });

  test("the file stops without a parameter, naming it, before any request", async () => {
    for (const name of Object.keys(fileParameters)) {
      const r = await run(
        () => [200, "{}"],
        undefined,
        undefined,
        file,
        Object.fromEntries(Object.entries(fileParameters).filter(([k]) => k !== name)),
      );
      assert.notEqual(r.code, 0, name);
      assert.match(r.stderr, new RegExp(`${name}: `), name);
      assert.deepEqual(r.seen, [], name);
    }
  });

  test("as rendered: the preamble of its two requests, the defaults a variable of the same name overrides, then the file", () => {
    const script = reaperScript(t);
    assert.ok(script.startsWith(`${operationPreamble(reaperOperations(t))}\n`));
    assert.match(
      script,
      /^read_canary\(\) \{ curl .* "\$API_SERVER\/apis\/apps\/v1\/namespaces\/orders-dev\/deployments\/orders-api-canary"; \}$/m,
    );
    assert.match(
      script,
      /^reap_canary\(\) \{ curl .*\\"resourceVersion\\":\\"\$1\\".*\/deployments\/orders-api-canary\/scale"; \}$/m,
    );
    assert.ok(
      script.includes(
        [
          '[ -n "${API_SERVER:-}" ] || API_SERVER=https://kubernetes.default.svc',
          '[ -n "${TOKEN_FILE:-}" ] || TOKEN_FILE=/var/run/secrets/kubernetes.io/serviceaccount/token',
          '[ -n "${CA_FILE:-}" ] || CA_FILE=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
          'REAPER_CANARY="orders-api-canary"',
          'REAPER_EXPIRY_ANNOTATION="canary-pipeline.dev/expires-at"',
          `REAPER_ATTEMPTS=${reaperAttempts}`,
          `REAPER_ERROR_EXIT=${reaperErrorExit}`,
        ].join("\n"),
      ),
      script,
    );
    assert.ok(script.endsWith(scriptText("canary-reaper.sh").trimEnd()));
  });
});
