// The one place that turns failures into the contract's JSON error body, for the logger and the
// reference data service alike: ApiError → its code and status; a missed deadline → 503; anything
// else → 500 internal, logged, never echoed.
import type { Env as HonoEnv, Hono } from "hono";
import { DeadlineExceeded } from "../core/concurrency.js";
import { ApiError, errorBody } from "../errors.js";

export function installErrorHandlers<E extends HonoEnv>(app: Hono<E>): void {
  app.notFound((c) =>
    c.json(errorBody("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404),
  );
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.headers) for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json(err.toBody(), err.status as 400);
    }
    if (err instanceof DeadlineExceeded) {
      // an object that did not answer in time (a fan-out's deadline): retryable, never a hang
      c.header("Retry-After", "5");
      return c.json(errorBody("upstream_unavailable", `${err.message}; try again`), 503);
    }
    console.error("unhandled", err instanceof Error ? (err.stack ?? err.message) : String(err));
    return c.json(errorBody("internal", "internal error"), 500);
  });
}
