// DataServiceClient: typed calls to the user's data-access service (contract §4). Reaches it at
// DATA_SERVICE_URL when set, else through the DATA_SERVICE service binding. Requests and answers
// are validated with the shared zod schemas, so a misbehaving service is an error, not data.
import type { z } from "zod";
import type { Config } from "./config.js";
import type { Env } from "./env.js";
import { withDeadline } from "./core/deadline.js";
import { ApiError } from "./errors.js";
import type { SendResult } from "./core/deliver.js";
import type { StoredLogEntry } from "./schema/log-entry.js";
import { SearchResponse, StoreBatchResponse } from "./schema/data-service.js";
import { StoredLogEntry as StoredLogEntrySchema } from "./schema/log-entry.js";

export class DataServiceError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** 408, 429 and 5xx are retried; other 4xx mean the service will never take the request. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class DataServiceClient {
  readonly #fetcher: (input: string, init: RequestInit) => Promise<Response>;
  readonly #base: string;

  constructor(
    private readonly config: Pick<Config, "dataServiceUrl" | "dataServiceApiKey" | "dataServiceTimeoutMs">,
    binding?: Fetcher,
  ) {
    if (config.dataServiceUrl) {
      this.#base = config.dataServiceUrl.replace(/\/+$/, "");
      this.#fetcher = (input, init) => fetch(input, init);
    } else if (binding) {
      this.#base = "http://data-service";
      this.#fetcher = (input, init) => binding.fetch(input, init);
    } else {
      throw new DataServiceError("no data service configured", false);
    }
  }

  static fromEnv(config: Config, env: Env): DataServiceClient | undefined {
    if (!config.persistenceEnabled) return undefined;
    return new DataServiceClient(config, env.DATA_SERVICE);
  }

  /**
   * One exchange, headers AND body, under one deadline (DATA_SERVICE_TIMEOUT): a service that
   * sends headers and then stalls the body, or a binding that ignores the abort signal, fails
   * as a timeout instead of holding the request (and an alarm) forever. The answer comes back
   * buffered, so callers' res.json()/res.text() can't wait either.
   */
  async #call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.config.dataServiceApiKey) headers.authorization = `Bearer ${this.config.dataServiceApiKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const timeoutMs = this.config.dataServiceTimeoutMs;
    try {
      return await withDeadline(timeoutMs, "data service call", async (signal) => {
        const res = await this.#fetcher(`${this.#base}${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
        });
        const text = await res.text();
        return new Response(res.status === 204 ? null : text, { status: res.status, headers: res.headers });
      });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      throw new DataServiceError(
        timeout
          ? `timed out after ${timeoutMs} ms`
          : `unreachable: ${err instanceof Error ? err.message : String(err)}`,
        true,
      );
    }
  }

  async #json<S extends z.ZodTypeAny>(res: Response, schema: S, what: string): Promise<z.output<S>> {
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new DataServiceError(`${what}: answer is not JSON`, true, res.status);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new DataServiceError(
        `${what}: answer does not match the contract (${parsed.error.issues[0]?.message})`,
        true,
        res.status,
      );
    return parsed.data;
  }

  async #failure(res: Response, what: string): Promise<DataServiceError> {
    const text = (await res.text().catch(() => "")).slice(0, 300);
    return new DataServiceError(`${what}: HTTP ${res.status} ${text}`, isRetryableStatus(res.status), res.status);
  }

  /** POST /api/logs/batch; "ok" only when stored + duplicates equals what was sent. */
  async storeBatch(logs: StoredLogEntry[]): Promise<SendResult> {
    let res: Response;
    try {
      res = await this.#call("POST", "/api/logs/batch", { logs });
    } catch (err) {
      return { kind: "retry", error: (err as Error).message };
    }
    if (!res.ok) {
      const err = await this.#failure(res, "store batch");
      return { kind: err.retryable ? "retry" : "refused", error: err.message };
    }
    try {
      const body = await this.#json(res, StoreBatchResponse, "store batch");
      if (body.stored + body.duplicates !== logs.length) {
        return { kind: "retry", error: `store batch: acknowledged ${body.stored + body.duplicates} of ${logs.length}` };
      }
      return { kind: "ok" };
    } catch (err) {
      return { kind: "retry", error: (err as Error).message };
    }
  }

  async search(params: URLSearchParams): Promise<z.output<typeof SearchResponse>> {
    const res = await this.#call("GET", `/api/logs/search?${params}`);
    if (!res.ok) throw await this.#failure(res, "search");
    return this.#json(res, SearchResponse, "search");
  }

  async getLog(id: string): Promise<StoredLogEntry | null> {
    const res = await this.#call("GET", `/api/logs/${encodeURIComponent(id)}`);
    if (res.status === 404) return null;
    if (!res.ok) throw await this.#failure(res, "get log");
    return this.#json(res, StoredLogEntrySchema, "get log");
  }

  /**
   * Passes a read/analytics request through and returns the service's answer as is. A timeout
   * or network failure is the contract's 502 upstream_unavailable (never a 500 internal).
   */
  async forward(method: string, pathAndQuery: string, body?: unknown): Promise<Response> {
    try {
      return await this.#call(method, pathAndQuery, body);
    } catch (err) {
      throw new ApiError("upstream_unavailable", 502, `data service: ${(err as Error).message}`);
    }
  }

  async postJson<S extends z.ZodTypeAny>(path: string, body: unknown, schema: S): Promise<z.output<S>> {
    const res = await this.#call("POST", path, body);
    if (!res.ok) throw await this.#failure(res, path);
    return this.#json(res, schema, path);
  }
}
