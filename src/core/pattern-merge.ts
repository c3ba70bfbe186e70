// Merges pattern lists from several aggregators (services, shards) into one: patterns with the
// same template are one pattern in queries (contract §2). Pure.
import type { Pattern, PatternType, Severity } from "../schema/pattern.js";

const TYPE_RANK: Record<PatternType, number> = { info: 0, warning: 1, error: 2 };
const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function mergePatterns(lists: Pattern[][]): Pattern[] {
  const byTemplate = new Map<string, Pattern>();
  for (const list of lists) {
    for (const p of list) {
      const m = byTemplate.get(p.pattern);
      if (!m) {
        byTemplate.set(p.pattern, { ...p, services: [...p.services], trend: p.trend?.map((t) => ({ ...t })) });
        continue;
      }
      // The id that has existed longest stays the merged pattern's id.
      if (p.first_seen < m.first_seen || (p.first_seen === m.first_seen && p.id < m.id)) m.id = p.id;
      m.frequency += p.frequency;
      m.first_seen = Math.min(m.first_seen, p.first_seen);
      m.last_seen = Math.max(m.last_seen, p.last_seen);
      for (const s of p.services) if (!m.services.includes(s)) m.services.push(s);
      if (TYPE_RANK[p.type] > TYPE_RANK[m.type]) m.type = p.type;
      if (SEVERITY_RANK[p.severity] > SEVERITY_RANK[m.severity]) m.severity = p.severity;
      m.name ??= p.name;
      m.category ??= p.category;
      if (m.trend && p.trend) p.trend.forEach((t, i) => m.trend![i] && (m.trend![i].count += t.count));
    }
  }
  for (const m of byTemplate.values()) m.services.sort();
  return [...byTemplate.values()].sort((a, b) => b.frequency - a.frequency || a.id.localeCompare(b.id));
}
