// Learned (named) patterns: templates an operator labels with a name, severity and category
// (POST /api/logs/patterns/learn). `<*>` matches any run of characters. A mined pattern is
// matched once, when first seen (or when the learned set changes), against its first message
// and its template; its logs then inherit the category, and the pattern the name.
import type { Category } from "../schema/log-entry.js";
import type { PatternType, Severity } from "../schema/pattern.js";

export interface LearnedPattern {
  id: string;
  pattern: string;
  name?: string;
  type: PatternType;
  severity: Severity;
  category?: Category;
  /** the services it labels; absent = every service. A key limited to some services learns for those only */
  services?: string[];
}

/** KV key of the deployment's learned set: aggregators read it on start, the learn route writes it. */
export const LEARNED_KEY = "config/learned-patterns";

/** Learned patterns per deployment; more are refused (400) by the learn route. */
export const MAX_LEARNED_PATTERNS = 1000;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function compileTemplate(template: string): RegExp {
  const parts = template
    .trim()
    .split("<*>")
    .map((p) => escapeRegExp(p).replace(/\s+/g, "\\s+"));
  return new RegExp(`^\\s*${parts.join(".*?")}\\s*$`, "s");
}

export class LearnedMatcher {
  readonly #compiled: { learned: LearnedPattern; re: RegExp }[];

  constructor(readonly patterns: LearnedPattern[]) {
    this.#compiled = patterns
      .slice(0, MAX_LEARNED_PATTERNS)
      .map((learned) => ({ learned, re: compileTemplate(learned.pattern) }));
  }

  /** The first learned pattern (in learn order) for `service` matching the message or the mined template. */
  match(message: string, template?: string, service?: string): LearnedPattern | undefined {
    for (const c of this.#compiled) {
      if (c.learned.services && (service === undefined || !c.learned.services.includes(service))) continue;
      if (c.re.test(message) || (template !== undefined && (c.re.test(template) || c.learned.pattern === template)))
        return c.learned;
    }
    return undefined;
  }
}
