// CI's check over vitest's JSON report (.ci/run): fails when a test was skipped or left as todo,
// or when a required test file did not run and pass. The browser test (test/e2e/dashboard.e2e.test.ts)
// is required, so a machine without a usable Chromium cannot turn it into a silent skip: vitest
// alone exits 0 when a test is skipped or a project is left out.
// Usage: npx tsx scripts/check-test-report.ts <report.json>
import { existsSync, readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Test files that must have run, with every test in them passed. */
export const REQUIRED_FILES = ["test/e2e/dashboard.e2e.test.ts"];

/** The part of vitest's JSON reporter output (Jest-compatible) this check reads. */
export interface VitestJsonReport {
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

/** One line per problem; empty when the run is complete. `root` turns absolute file names relative. */
export function reportProblems(report: VitestJsonReport, required: readonly string[], root: string): string[] {
  const problems: string[] = [];
  const byFile = new Map<string, string[]>();
  for (const file of report.testResults) {
    const name = relative(root, file.name);
    byFile.set(
      name,
      file.assertionResults.map((t) => t.status),
    );
    for (const t of file.assertionResults) {
      if (t.status !== "passed" && t.status !== "failed") problems.push(`${name}: "${t.fullName}" was ${t.status}`);
    }
  }
  for (const name of required) {
    const statuses = byFile.get(name);
    if (!statuses || statuses.length === 0) problems.push(`${name}: did not run`);
    else if (statuses.some((s) => s !== "passed")) problems.push(`${name}: not every test passed`);
  }
  return problems;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: tsx scripts/check-test-report.ts <vitest json report>");
    process.exit(2);
  }
  if (!existsSync(path)) {
    console.error(`test report ${path} is missing: did vitest run with --reporter=json?`);
    process.exit(1);
  }
  const root = fileURLToPath(new URL("..", import.meta.url));
  const problems = reportProblems(JSON.parse(readFileSync(path, "utf8")) as VitestJsonReport, REQUIRED_FILES, root);
  if (problems.length > 0) {
    console.error(`test report ${path}:\n  ${problems.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`test report ${path}: no skipped tests; ${REQUIRED_FILES.join(", ")} ran and passed`);
}
