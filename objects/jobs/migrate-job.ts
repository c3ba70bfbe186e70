// Rows of the row-per-log layout (schema 1) become segments in bounded steps, one per alarm run,
// until none are left; reads answer identically throughout (objects/segment-store.ts).
import type { ScheduledTask } from "../scheduler.js";
import type { SegmentStore } from "../segment-store.js";

/** Legacy (row-per-log) segments converted per alarm run: 20 × 1000 rows. */
export const MIGRATE_SEGMENTS_PER_RUN = 20;

export class MigrateJob implements ScheduledTask {
  readonly name = "migrate";

  constructor(private readonly store: SegmentStore) {}

  dueAt(now: number): number | null {
    return this.store.hasLegacy ? now : null;
  }

  async run(): Promise<void> {
    this.store.migrateStep(MIGRATE_SEGMENTS_PER_RUN);
  }
}
