// Bindings and variables of the reference data service (data-service/wrangler.toml).
export interface DataEnv {
  DB: D1Database;
  /** bearer token the logger presents; a secret */
  DATA_SERVICE_API_KEY?: string;
  /** HMAC secret for search cursors; defaults to DATA_SERVICE_API_KEY */
  CURSOR_SECRET?: string;
}

export type DataAppEnv = { Bindings: DataEnv };
