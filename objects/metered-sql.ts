// SqlStorage with a meter: every statement's cursor.rowsWritten (the figure Cloudflare bills,
// $1.00 per million rows) is added up, so /metrics and the bench report rows per log measured,
// not estimated. Write statements run to completion in exec(), so the count is final there.
export /** Wraps SqlStorage so every statement's rowsWritten (the billed figure) is counted. */
function meteredSql(sql: SqlStorage, meter: { rowsWritten: number }): SqlStorage {
  return new Proxy(sql, {
    get(target, prop) {
      if (prop !== "exec") return Reflect.get(target, prop, target);
      return (query: string, ...bindings: unknown[]) => {
        const cursor = target.exec(query, ...bindings);
        meter.rowsWritten += cursor.rowsWritten;
        return cursor;
      };
    },
  });
}
