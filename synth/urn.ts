// URNs as the engine writes them: testing/urn.ts (the mock engine names its resources with it).
export * from "../testing/urn";
