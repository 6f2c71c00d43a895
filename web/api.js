// Talks to the scheduler's operator API. The token lives in sessionStorage only (this tab),
// is sent as a bearer header on mutations, and never goes into a URL.
const TOKEN_KEY = "scaleio-framework.api-token";

export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

/** @param {string} token */
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const token = getToken();
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

/** @param {Response} res */
async function failure(res) {
  let message = res.statusText || "request failed";
  try {
    const body = await res.json();
    if (body && typeof body.error === "string") message = body.error;
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(res.status, message);
}

/** @param {string} path */
export async function getJson(path) {
  const res = await fetch(path, { headers: headers({ accept: "application/json" }) });
  if (!res.ok) throw await failure(res);
  return res.json();
}

/** @param {string} path @param {unknown} body */
export async function postJson(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: headers({ "content-type": "application/json", accept: "application/json" }),
    body: JSON.stringify(body ?? {}),
  });
  if (!res.ok) throw await failure(res);
  return res.json();
}

/** @param {string} planId @param {"pause"|"resume"|"restart"|"force-complete"} verb @param {object} body */
export function planAction(planId, verb, body) {
  return postJson(`/v1/plans/${encodeURIComponent(planId)}/${verb}`, body);
}
