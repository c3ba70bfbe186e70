// Types for the dashboard's text imports. wrangler.toml's [[rules]] (type "Text") makes these
// files plain strings in the Worker bundle, under `wrangler dev`/deploy and in vitest-pool-workers.
declare module "*/dashboard/index.html" {
  const text: string;
  export default text;
}
declare module "*/dashboard/dashboard.js" {
  const text: string;
  export default text;
}
declare module "*/dashboard/dashboard.css" {
  const text: string;
  export default text;
}
declare module "*/dashboard/history-search.js" {
  const text: string;
  export default text;
}
declare module "*/dashboard/log-view.js" {
  const text: string;
  export default text;
}
declare module "*/dashboard/services-table.js" {
  const text: string;
  export default text;
}
declare module "*/dashboard/view-state.js" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.min.css" {
  const text: string;
  export default text;
}
