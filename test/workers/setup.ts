// Setup of the `workers` project: applies the reference data service's D1 migrations to the
// database it shares with the test runner (same D1 id in vitest.config.ts). Idempotent:
// applyD1Migrations records what it applied in d1_migrations.
import { applyD1Migrations, type D1Migration, env } from "cloudflare:test";

const testEnv = env as unknown as { DB: D1Database; TEST_MIGRATIONS: D1Migration[] };
await applyD1Migrations(testEnv.DB, testEnv.TEST_MIGRATIONS);
