// scripts/check-test-report.ts: the CI check that the browser test ran and nothing was skipped.
import { describe, expect, it } from "vitest";
import { reportProblems, type VitestJsonReport } from "../../scripts/check-test-report.js";

const ROOT = "/repo";
const REQUIRED = ["test/e2e/dashboard.e2e.test.ts"];

function report(files: Record<string, string[]>): VitestJsonReport {
  return {
    testResults: Object.entries(files).map(([name, statuses]) => ({
      name: `${ROOT}/${name}`,
      assertionResults: statuses.map((status, i) => ({ fullName: `test ${i}`, status })),
    })),
  };
}

describe("reportProblems", () => {
  it("accepts a run where the required file passed and nothing was skipped", () => {
    const r = report({ "test/e2e/dashboard.e2e.test.ts": ["passed", "passed"], "test/unit/a.test.ts": ["passed"] });
    expect(reportProblems(r, REQUIRED, ROOT)).toEqual([]);
  });

  it("fails when the browser test file did not run at all", () => {
    const r = report({ "test/unit/a.test.ts": ["passed"] });
    expect(reportProblems(r, REQUIRED, ROOT)).toEqual(["test/e2e/dashboard.e2e.test.ts: did not run"]);
  });

  it("fails when the browser tests were skipped", () => {
    const r = report({ "test/e2e/dashboard.e2e.test.ts": ["skipped", "skipped"] });
    expect(reportProblems(r, REQUIRED, ROOT)).toEqual([
      'test/e2e/dashboard.e2e.test.ts: "test 0" was skipped',
      'test/e2e/dashboard.e2e.test.ts: "test 1" was skipped',
      "test/e2e/dashboard.e2e.test.ts: not every test passed",
    ]);
  });

  it("fails on a skipped or todo test in any other file", () => {
    const r = report({
      "test/e2e/dashboard.e2e.test.ts": ["passed"],
      "test/workers/b.test.ts": ["passed", "pending", "todo"],
    });
    expect(reportProblems(r, REQUIRED, ROOT)).toEqual([
      'test/workers/b.test.ts: "test 1" was pending',
      'test/workers/b.test.ts: "test 2" was todo',
    ]);
  });

  it("fails when a required file has no tests", () => {
    const r = report({ "test/e2e/dashboard.e2e.test.ts": [] });
    expect(reportProblems(r, REQUIRED, ROOT)).toEqual(["test/e2e/dashboard.e2e.test.ts: did not run"]);
  });
});
