// Every property of every public Args type says what it defaults to (or that it is required), so a
// platform team reads the contract in its editor. Read from the library's own declarations.
import assert from "node:assert/strict";
import { test } from "node:test";
import ts from "typescript";

test("every public Args property has a doc comment stating its default", () => {
  const program = ts.createProgram(["library.ts"], { strict: true, skipLibCheck: true, noEmit: true, types: ["node"] });
  const checker = program.getTypeChecker();
  const library = checker.getSymbolAtLocation(program.getSourceFile("library.ts")!)!;
  const args = checker.getExportsOfModule(library).filter((s) => /Args$/.test(s.name) || s.name === "ServiceSettings");
  assert.ok(args.length >= 12, `found the Args types: ${args.map((s) => s.name).join(", ")}`);
  const problems: string[] = [];
  for (const symbol of args) {
    const type = checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(symbol));
    const members = type.isUnion() ? type.types.flatMap((t) => t.getProperties()) : type.getProperties();
    for (const property of members) {
      const declaration = property.valueDeclaration ?? property.declarations?.[0];
      // `config?: never`: a marker that makes the two forms of CanaryPipelineArgs exclusive.
      if (declaration && ts.isPropertySignature(declaration) && declaration.type?.kind === ts.SyntaxKind.NeverKeyword)
        continue;
      // Provider settings come from @pulumi/kubernetes, documented there.
      if (declaration && declaration.getSourceFile().fileName.includes("node_modules")) continue;
      const doc = ts.displayPartsToString(property.getDocumentationComment(checker));
      if (!/\b(default:|required\b)/i.test(doc))
        problems.push(`${symbol.name}.${property.name}: ${JSON.stringify(doc)}`);
    }
  }
  assert.deepEqual([...new Set(problems)], []);
});
