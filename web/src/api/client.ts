/**
 * The typed API client (openapi-fetch over the generated `paths`). Errors become one of two
 * classes, so pages can tell "the API said no" (a problem detail, shown as it is) from "the API is
 * not answering" (retried, and said so).
 */
import createClient from "openapi-fetch";
import type { paths } from "./schema";
import type { Problem } from "./types";

export const api = createClient<paths>({ baseUrl: "" });

/** The API answered with an error: its RFC 9457 problem detail. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  constructor(status: number, problem: Problem | null) {
    super(problem?.detail ?? `the API answered ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

/** No answer at all (network down, API process stopped, a proxy's 502/503/504). */
export class Unreachable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "Unreachable";
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === "object" && body !== null && "status" in body && "detail" in body;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of an openapi-fetch answer, or the error it stands for. */
export async function unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await call;
  } catch (err) {
    throw new Unreachable(err instanceof Error ? err.message : String(err));
  }
  const { data, error, response } = answer;
  if (response.ok && data !== undefined) return data;
  if (isProblem(error)) throw new ApiError(response.status, error);
  if (response.status >= 500) throw new Unreachable(`the server answered ${response.status}`);
  throw new ApiError(response.status, null);
}

/** A static file of the exported site (data/*.json). */
export async function fetchJson<T>(url: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Unreachable(err instanceof Error ? err.message : String(err));
  }
  if (!response.ok) {
    if (response.status >= 500) throw new Unreachable(`${url} answered ${response.status}`);
    throw new ApiError(response.status, null);
  }
  return (await response.json()) as T;
}

/** Retried: the API being down or restarting. Not retried: what the API refused (404, 400). */
export function shouldRetry(failures: number, error: unknown): boolean {
  return error instanceof Unreachable || (!(error instanceof ApiError) && failures < 2);
}

export function retryDelayMs(attempt: number): number {
  return Math.min(1000 * 2 ** attempt, 10_000);
}
