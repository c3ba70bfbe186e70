// The contract's error body and a throwable carrying it. Routes throw ApiError from anywhere;
// the single `app.onError` in src/app.ts turns it into `{ error: { code, message, details } }`.
import type { z } from "zod";

export type ErrorCode =
  | "unauthorized"
  | "forbidden"
  | "invalid_json"
  | "invalid_request"
  | "not_found"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "upstream_unavailable"
  | "invalid_config"
  | "internal";

export interface ErrorDetail {
  path: string;
  message: string;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetail[] };
}

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return errorBody(this.code, this.message, this.details);
  }
}

export function errorBody(code: ErrorCode, message: string, details?: ErrorDetail[]): ErrorBody {
  return { error: details && details.length > 0 ? { code, message, details } : { code, message } };
}

/** zod issues → contract details, with paths joined by dots under an optional prefix ("logs.3"). */
export function zodDetails(error: z.ZodError, prefix?: string): ErrorDetail[] {
  return error.issues.map((issue) => {
    // An unknown parameter is reported at its own name, not at the enclosing object.
    const extra = issue.code === "unrecognized_keys" ? [issue.keys[0]] : [];
    return {
      path: [prefix, ...issue.path.map(String), ...extra].filter((p) => p !== undefined && p !== "").join("."),
      message: issue.message,
    };
  });
}

export function invalidRequest(error: z.ZodError, prefix?: string): ApiError {
  const details = zodDetails(error, prefix);
  const first = details[0];
  const message = first ? `${first.path || "request"}: ${first.message}` : "invalid request";
  return new ApiError("invalid_request", 400, message, details);
}
