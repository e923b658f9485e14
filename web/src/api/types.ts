/** Names for the generated API types (schema.d.ts, from services/api/openapi.json). */
import type { components } from "./schema";

type Schemas = components["schemas"];
export type ConfigRow = Schemas["ConfigRow"];
export type Configurations = Schemas["Configurations"];
export type Leaderboard = Schemas["Leaderboard"];
export type Percentiles = Schemas["Percentiles"];
export type QualityFlagCode = Schemas["QualityFlagCode"];
export type QualityFlag = Schemas["QualityFlag"];
export type Problem = Schemas["Problem"];
export type RunOut = Schemas["RunOut"];
export type RunPage = Schemas["RunPage"];
export type RunDetail = Schemas["RunDetail"];
export type RunSummary = Schemas["RunSummary"];
export type JobSpec = Schemas["JobSpec"];
export type HostFingerprint = Schemas["HostFingerprint"];
export type TimeSeries = Schemas["TimeSeries"];
export type SeriesPoint = Schemas["SeriesPoint"];
export type RequestPage = Schemas["RequestPage"];
export type RequestOut = Schemas["RequestOut"];
export type CampaignPage = Schemas["CampaignPage"];
export type CampaignOut = Schemas["CampaignOut"];
export type CampaignDetail = Schemas["CampaignDetail"];
export type JobOut = Schemas["JobOut"];
export type RunnerOut = Schemas["RunnerOut"];
export type Percentile = Schemas["Constraints"]["itl_percentile"];
export const PERCENTILES: readonly Percentile[] = ["p50", "p90", "p95", "p99"];
