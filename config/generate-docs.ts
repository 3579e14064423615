// `npm run docs:config`: writes what is generated from the schema (config/schema.ts), Pulumi.yaml's
// `config:` block and the table of settings in docs/configuration.md, each between its marker
// lines; everything outside the markers is kept byte for byte. test/config/pulumi-yaml.test.ts
// fails when a committed file differs from what this writes.
import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { configDeclarations, type ConfigDeclaration } from "./load";

/** The generated files, and the marker lines that enclose each one's generated part. */
export const generatedFiles = {
  pulumiYaml: {
    path: "Pulumi.yaml",
    begin: "# config:begin (generated from config/schema.ts by `npm run docs:config`: edit the schema, not this block)",
    end: "# config:end",
  },
  configurationDoc: {
    path: "docs/configuration.md",
    begin: "<!-- config:begin (generated from config/schema.ts by `npm run docs:config`) -->",
    end: "<!-- config:end -->",
  },
} as const;

/**
 * Pulumi.yaml's `config:` block: each declared key's type, description, items, default and
 * secrecy; then, as comments, the settings it leaves undeclared (see ConfigDeclaration.undeclared).
 */
export function pulumiConfigBlock(declarations: readonly ConfigDeclaration[] = configDeclarations()): string {
  const config = Object.fromEntries(
    declarations
      .filter((d) => !d.undeclared)
      .map((d) => [
        d.key,
        {
          ...(d.type ? { type: d.type } : {}),
          description: d.description,
          ...(d.items ? { items: { type: d.items.type } } : {}),
          ...(d.default !== undefined ? { default: d.default } : {}),
          ...(d.secret ? { secret: true } : {}),
        },
      ]),
  );
  const optional = declarations.filter((d) => d.undeclared).map((d) => `#   ${d.key} (${d.accepts}): ${d.description}`);
  // lineWidth 0: one line per description, however long.
  return (
    stringify({ config }, { lineWidth: 0 }) +
    [
      "# Optional settings without a default, not declared above because the CLI requires every key",
      "# declared without one; the program reads and checks them (docs/configuration.md):",
      ...optional,
    ]
      .map((line) => `${line}\n`)
      .join("")
  );
}

/** The table of docs/configuration.md: key, the values accepted, default, meaning. */
export function settingsTable(declarations: readonly ConfigDeclaration[] = configDeclarations()): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = declarations.map(
    (d) =>
      `| \`${d.key}\` | ${cell(d.accepts)} | ${d.default !== undefined ? `\`${cell(JSON.stringify(d.default))}\`` : ""} | ${cell(d.description)} |`,
  );
  return ["| key | type | default | meaning |", "|---|---|---|---|", ...rows].map((line) => `${line}\n`).join("");
}

/** `text` with the lines between its `begin` and `end` marker lines replaced by `body`. */
export function replaceBetweenMarkers(
  text: string,
  marker: { path: string; begin: string; end: string },
  body: string,
): string {
  const lines = text.split("\n");
  const begin = lines.indexOf(marker.begin);
  const end = lines.indexOf(marker.end, begin + 1);
  if (begin === -1 || end === -1)
    throw new Error(
      `${marker.path}: the marker lines ${JSON.stringify(marker.begin)} and ${JSON.stringify(marker.end)} are missing`,
    );
  return [...lines.slice(0, begin + 1), ...body.replace(/\n$/, "").split("\n"), ...lines.slice(end)].join("\n");
}

/** Pulumi.yaml as it should be, from its current text. */
export function generatedPulumiYaml(current: string, declarations = configDeclarations()): string {
  return replaceBetweenMarkers(current, generatedFiles.pulumiYaml, pulumiConfigBlock(declarations));
}

/** docs/configuration.md as it should be, from its current text. */
export function generatedConfigurationDoc(current: string, declarations = configDeclarations()): string {
  return replaceBetweenMarkers(current, generatedFiles.configurationDoc, settingsTable(declarations));
}

function main(): void {
  const declarations = configDeclarations();
  for (const [file, generate] of [
    [generatedFiles.pulumiYaml, generatedPulumiYaml],
    [generatedFiles.configurationDoc, generatedConfigurationDoc],
  ] as const) {
    const current = readFileSync(file.path, "utf8");
    const next = generate(current, declarations);
    if (next === current) console.log(`${file.path}: up to date`);
    else {
      writeFileSync(file.path, next);
      console.log(`${file.path}: written`);
    }
  }
}

if (require.main === module) main();
