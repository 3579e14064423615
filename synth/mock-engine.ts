// The mock engine the offline render runs programs under. It lives in testing/mock-engine.ts, which
// the library owns and publishes in part as `canary-pipeline/testing`; the render, the verifier,
// the bench and the tests import it from here as before.
export * from "../testing/mock-engine";
